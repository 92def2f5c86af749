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
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
src=$build/linux
pristine=$build/pristine	# pristine copies of files the patches touch
tarball=/usr/src/linux-source-6.12.tar.xz
jobs=${JOBS:-$(nproc)}

log() { echo "kernel: $*"; }

extract() {
	[ -f "$src/.ioasids-extracted" ] && return
	[ -f "$tarball" ] || { echo "kernel: $tarball missing (make deps)" >&2; exit 1; }
	log "extracting $(basename "$tarball") (once)"
	rm -rf "$src" "$build/linux-source-6.12" "$pristine" "$build/placed.list"
	mkdir -p "$build"
	tar -xf "$tarball" -C "$build"
	mv "$build/linux-source-6.12" "$src"
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
	for p in "$top"/kernel/patches/*.patch; do
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

	for p in "$top"/kernel/patches/*.patch; do
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
	done < "$top/kernel/files.map"
	# Files placed by an earlier map that are gone now.
	if [ -f "$build/placed.list" ]; then
		while read -r old; do
			printf '%s\n' "${placed[@]}" | grep -qxF "$old" && continue
			[ -e "$pristine/$old" ] || rm -f "$src/$old"
		done < "$build/placed.list"
	fi
	printf '%s\n' "${placed[@]}" > "$build/placed.list"
}

configure() {
	local frags=("$top"/kernel/configs/*.config) want stamp
	want=$(cat "$src/arch/x86/configs/tiny.config" "$src/kernel/configs/kvm_guest.config" \
		"${frags[@]}" "$src/init/Kconfig" | sha1sum | cut -d' ' -f1)
	stamp=$build/config.stamp
	if [ -f "$src/.config" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		return
	fi
	log "configuring"
	make -s -C "$src" tinyconfig >/dev/null
	(cd "$src" && KCONFIG_CONFIG=.config scripts/kconfig/merge_config.sh -m -Q \
		.config kernel/configs/kvm_guest.config "${frags[@]}" >/dev/null)
	make -s -C "$src" olddefconfig >/dev/null
	# Every option a fragment asks for must have survived olddefconfig.
	local bad=0 line
	for f in "${frags[@]}"; do
		while read -r line; do
			case "$line" in
			CONFIG_*=*)
				grep -qxF "$line" "$src/.config" && continue ;;
			'# CONFIG_'*' is not set')
				line=${line#\# }; line=${line% is not set}
				grep -q "^$line=" "$src/.config" || continue
				line="# $line is not set" ;;
			*) continue ;;
			esac
			echo "kernel: config: '$line' did not stick" >&2
			bad=1
		done < "$f"
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
