#!/bin/bash
# Turn this repository into a bzImage:
#   1. extract /usr/src/linux-source-6.12.tar.xz under build/ (once);
#   2. apply kernel/patches/*.patch to the pristine versions of the files
#      they touch, and copy a result over only when it changed;
#   3. place the project's new files at the paths kernel/files.map gives;
#   4. merge kernel/configs/*.config on top of tinyconfig + kvm_guest.config;
#   5. build bzImage incrementally with ccache.
# Files that did not change keep their mtimes, so a rebuild after touching one
# project file recompiles only what depends on it.
#
# IOASIDS_KERNEL=bench builds the benchmark kernel instead, in a tree of its
# own (build/bench/linux): the test config with kernel/configs/bench/*.config
# on top, which turns the debugging off.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
case "${IOASIDS_KERNEL:-test}" in
test)
	state=$build
	frags=("$top"/kernel/configs/*.config)
	patches=("$top"/kernel/patches/*.patch)
	maps=("$top"/kernel/files.map) ;;
bench)
	# Plus the in-kernel benchmark, which never goes upstream.
	state=$build/bench
	frags=("$top"/kernel/configs/*.config "$top"/kernel/configs/bench/*.config)
	patches=("$top"/kernel/patches/*.patch "$top"/tests/bench/kernel/*.patch)
	maps=("$top"/kernel/files.map "$top"/tests/bench/kernel/files.map) ;;
*)	echo "kernel: IOASIDS_KERNEL is test or bench" >&2; exit 2 ;;
esac
src=$state/linux
pristine=$state/pristine	# pristine copies of files the patches touch
tarball=/usr/src/linux-source-6.12.tar.xz
jobs=${JOBS:-$(nproc)}

log() { echo "kernel: $*"; }

extract() {
	[ -f "$src/.ioasids-extracted" ] && return
	[ -f "$tarball" ] || { echo "kernel: $tarball missing (make deps)" >&2; exit 1; }
	log "extracting $(basename "$tarball") (once)"
	rm -rf "$src" "$state/linux-source-6.12" "$pristine" "$state/placed.list"
	mkdir -p "$state"
	tar -xf "$tarball" -C "$state"
	mv "$state/linux-source-6.12" "$src"
	touch "$src/.ioasids-extracted"
}

# Copy $1 to $2 unless $2 already has the same content.
install_if_changed() {
	if ! cmp -s "$1" "$2"; then
		mkdir -p "$(dirname "$2")"
		cp "$1" "$2"
		log "updated ${2#"$src"/}"
	fi
}

patch_targets() {
	local p
	for p in "${patches[@]}"; do
		[ -e "$p" ] || continue
		sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p"
	done | sort -u
}

apply_patches() {
	local stage f
	stage=$(mktemp -d)
	trap 'rm -rf "$stage"' RETURN
	mkdir -p "$pristine"

	# Every file touched now or by an earlier patch set starts pristine.
	{ patch_targets; (cd "$pristine" && find . -type f ! -name '*.absent' | sed 's|^\./||'); } |
	sort -u | while read -r f; do
		if [ ! -e "$pristine/$f" ] && [ ! -e "$pristine/$f.absent" ]; then
			if [ -e "$src/$f" ]; then
				mkdir -p "$(dirname "$pristine/$f")"
				cp "$src/$f" "$pristine/$f"
			else
				mkdir -p "$(dirname "$pristine/$f")"
				touch "$pristine/$f.absent"
			fi
		fi
		if [ -e "$pristine/$f" ]; then
			mkdir -p "$(dirname "$stage/$f")"
			cp "$pristine/$f" "$stage/$f"
		fi
	done

	for p in "${patches[@]}"; do
		[ -e "$p" ] || continue
		if ! patch -s -p1 -d "$stage" --no-backup-if-mismatch -r - < "$p"; then
			echo "kernel: patch $(basename "$p") does not apply" >&2
			exit 1
		fi
	done

	(cd "$pristine" && find . -type f | sed 's|^\./||') | while read -r f; do
		f=${f%.absent}
		if [ -e "$stage/$f" ]; then
			install_if_changed "$stage/$f" "$src/$f"
		elif [ -e "$src/$f" ]; then
			rm -f "$src/$f"
			log "removed $f"
		fi
	done
}

place_files() {
	local from to placed=() old
	while read -r from to; do
		case "$from" in ''|'#'*) continue ;; esac
		[ -f "$top/$from" ] || { echo "kernel: files.map: $from missing" >&2; exit 1; }
		install_if_changed "$top/$from" "$src/$to"
		placed+=("$to")
	done < <(cat "${maps[@]}")
	# Files placed by an earlier map that are gone now.
	if [ -f "$state/placed.list" ]; then
		while read -r old; do
			printf '%s\n' "${placed[@]}" | grep -qxF "$old" && continue
			[ -e "$pristine/$old" ] || rm -f "$src/$old"
		done < "$state/placed.list"
	fi
	printf '%s\n' "${placed[@]}" > "$state/placed.list"
}

configure() {
	local want stamp
	want=$(cat "$src/arch/x86/configs/tiny.config" "$src/kernel/configs/kvm_guest.config" \
		"${frags[@]}" "$src/init/Kconfig" | sha1sum | cut -d' ' -f1)
	stamp=$state/config.stamp
	if [ -f "$src/.config" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		return
	fi
	log "configuring"
	make -s -C "$src" tinyconfig >/dev/null
	(cd "$src" && KCONFIG_CONFIG=.config scripts/kconfig/merge_config.sh -m -Q \
		.config kernel/configs/kvm_guest.config "${frags[@]}" >/dev/null)
	make -s -C "$src" olddefconfig >/dev/null
	# Every option a fragment asks for must have survived olddefconfig,
	# unless a later fragment asks otherwise.
	local bad=0 line i name seen=" "
	for ((i = ${#frags[@]} - 1; i >= 0; i--)); do
		while read -r line; do
			name=$(echo "$line" | grep -oE 'CONFIG_[A-Za-z0-9_]+' | head -n 1 || true)
			[ -n "$name" ] || continue
			case "$seen" in *" $name "*) continue ;; esac
			case "$line" in
			CONFIG_*=*)
				seen+="$name "
				grep -qxF "$line" "$src/.config" && continue ;;
			'# CONFIG_'*' is not set')
				seen+="$name "
				grep -q "^$name=" "$src/.config" || continue ;;
			*) continue ;;
			esac
			echo "kernel: config: '$line' did not stick" >&2
			bad=1
		done < "${frags[$i]}"
	done
	[ $bad -eq 0 ] || exit 1
	echo "$want" > "$stamp"
}

build() {
	local cc=gcc
	command -v ccache >/dev/null && cc="ccache gcc"
	export CCACHE_DIR=${CCACHE_DIR:-$build/ccache}
	export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
	export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
	export KBUILD_BUILD_TIMESTAMP='ioasids' KBUILD_BUILD_USER=ioasids KBUILD_BUILD_HOST=ioasids
	log "building bzImage (-j$jobs)"
	make -s -C "$src" -j"$jobs" CC="$cc" bzImage
	make -s -C "$src" headers_install INSTALL_HDR_PATH="$build/headers" >/dev/null
	log "ready: ${src#"$top"/}/arch/x86/boot/bzImage"
}

# One build at a time in build/: two makes in one tree corrupt it.
mkdir -p "$build"
exec 9>"$build/.lock"
flock 9

case "${1:-all}" in
prepare) extract; apply_patches; place_files; configure ;;
all) extract; apply_patches; place_files; configure; build ;;
*) echo "usage: $0 [prepare|all]" >&2; exit 2 ;;
esac
