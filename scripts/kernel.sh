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
#
# The config check: every line of the kernel's own fragments (the test
# config for the test kernel, kernel/configs/bench/ for the bench kernel)
# must survive olddefconfig. Lines of the test config that a bench
# fragment's choices switch off (what depends on an option it turns off)
# are not errors there: the test kernel's own check covers them.
#
#   scripts/kernel.sh [all]          prepare and build
#   scripts/kernel.sh prepare        extract, patch, place, configure
#   scripts/kernel.sh check-configs  merge and check the test, bench and
#                                    coverage configs in scratch files, in
#                                    seconds, in the prepared test tree
#                                    (make check)
#   scripts/kernel.sh check-config CONFIG FRAGMENT...
#                                    the config check of CONFIG, made
#                                    elsewhere, against FRAGMENTs (make deb)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
gcov_profile=()	# "MAKEFILE OBJ..." to build with gcov (coverage)
case "${IOASIDS_KERNEL:-test}" in
test)
	state=$build
	frags=("$top"/kernel/configs/*.config)
	own=0	# the first fragment whose every line must stick
	patches=("$top"/kernel/patches/*.patch)
	maps=("$top"/kernel/files.map) ;;
bench)
	# Plus the in-kernel benchmark, which never goes upstream.
	state=$build/bench
	frags=("$top"/kernel/configs/*.config "$top"/kernel/configs/bench/*.config)
	own=$(find "$top"/kernel/configs -maxdepth 1 -name '*.config' | wc -l)
	patches=("$top"/kernel/patches/*.patch "$top"/tests/bench/kernel/*.patch)
	maps=("$top"/kernel/files.map "$top"/tests/bench/kernel/files.map) ;;
coverage)
	# The test kernel with gcov on the project's own objects (make
	# coverage): a tree of its own, build/coverage/linux.
	state=$build/coverage
	frags=("$top"/kernel/configs/*.config "$top"/kernel/configs/coverage/*.config)
	own=$(find "$top"/kernel/configs -maxdepth 1 -name '*.config' | wc -l)
	patches=("$top"/kernel/patches/*.patch)
	maps=("$top"/kernel/files.map)
	gcov_profile=("drivers/iommu/Makefile ioasid.o ioasid_dev.o ioasid_mock.o"
		      "kernel/cgroup/Makefile ioasids.o") ;;
*)	echo "kernel: IOASIDS_KERNEL is test, bench or coverage" >&2; exit 2 ;;
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

	# The coverage kernel: gcov instruments the project's objects only
	# (the rest of the kernel at full speed), by kbuild's GCOV_PROFILE_.
	local entry mk obj
	for entry in "${gcov_profile[@]}"; do
		read -r mk obj <<< "$entry"
		[ -f "$stage/$mk" ] || { echo "kernel: $mk is not patched" >&2; exit 1; }
		for obj in ${entry#* }; do
			echo "GCOV_PROFILE_$obj := y" >> "$stage/$mk"
		done
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

# merge_config CONFIG FRAGMENT...: tinyconfig + kvm_guest.config + the
# fragments, then olddefconfig, written to CONFIG (any path) in $src. With
# TINY=FILE, FILE is the tinyconfig already made (each make of a config
# target probes the compiler for seconds).
merge_config() {
	local config=$1
	shift
	if [ -n "${TINY:-}" ]; then
		cp "$TINY" "$config"
	else
		make -s -C "$src" KCONFIG_CONFIG="$config" tinyconfig >/dev/null
	fi
	(cd "$src" && KCONFIG_CONFIG=$config scripts/kconfig/merge_config.sh -m -Q \
		"$config" kernel/configs/kvm_guest.config "$@" >/dev/null)
	make -s -C "$src" KCONFIG_CONFIG="$config" olddefconfig >/dev/null
}

# check_config CONFIG OWN SKIP FRAGMENT...: every option a fragment asks for
# survived in CONFIG, unless a later fragment asks otherwise; fragments
# before index OWN may lose options (to what a later one turned off).
# SKIP: symbols not to check (" A B "). Prints what did not stick; fails if
# any of the fragments from OWN on lost one.
check_config() {
	local config=$1 own=$2 skip=$3 bad=0 line i name seen=" "
	shift 3
	local fr=("$@")
	for ((i = ${#fr[@]} - 1; i >= 0; i--)); do
		while read -r line; do
			name=$(echo "$line" | grep -oE 'CONFIG_[A-Za-z0-9_]+' | head -n 1 || true)
			[ -n "$name" ] || continue
			case "$seen" in *" $name "*) continue ;; esac
			case "$skip" in *" ${name#CONFIG_} "*) continue ;; esac
			case "$line" in
			CONFIG_*=*)
				seen+="$name "
				grep -qxF "$line" "$config" && continue ;;
			'# CONFIG_'*' is not set')
				seen+="$name "
				grep -q "^$name=" "$config" || continue ;;
			*) continue ;;
			esac
			[ "$i" -lt "$own" ] && continue
			echo "kernel: config: '$line' did not stick ($(basename "${fr[$i]}"))" >&2
			bad=1
		done < "${fr[$i]}"
	done
	return $bad
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
	merge_config .config "${frags[@]}"
	check_config "$src/.config" "$own" " " "${frags[@]}" || exit 1
	echo "$want" > "$stamp"
}

# Every config a target builds (the test kernel, which make deb packages
# too; the bench kernel; the coverage kernel, which must keep all of the
# test kernel's) merges and passes the check: scratch files in the
# test tree, no build. The bench's own Kconfig symbols come from its patch,
# which the test tree lacks: the bench build checks those.
check_configs() {
	local dir=$build/check/configs bench_syms test_frags want bad=0
	[ -f "$src/.ioasids-extracted" ] && [ -f "$src/.config" ] ||
		{ echo "kernel: no prepared test tree: make kernel" >&2; return 1; }
	mkdir -p "$dir"
	test_frags=("$top"/kernel/configs/*.config)
	bench_syms=" $(sed -n 's/^+config \([A-Za-z0-9_]*\).*/\1/p' "$top"/tests/bench/kernel/*.patch | tr '\n' ' ')"
	make -s -C "$src" KCONFIG_CONFIG="$dir/tiny.config" tinyconfig >/dev/null

	# The test kernel's own .config passed this check when it was made
	# from these fragments (the stamp says so): reuse it.
	want=$(cat "$src/arch/x86/configs/tiny.config" "$src/kernel/configs/kvm_guest.config" \
		"${test_frags[@]}" "$src/init/Kconfig" | sha1sum | cut -d' ' -f1)
	if [ "$(cat "$state/config.stamp" 2>/dev/null)" = "$want" ]; then
		cp "$src/.config" "$dir/test.config"
	else
		TINY=$dir/tiny.config merge_config "$dir/test.config" "${test_frags[@]}"
	fi
	if check_config "$dir/test.config" 0 " " "${test_frags[@]}"; then
		echo "ok   config/test"
	else
		echo "FAIL config/test  # options did not stick (see above)"; bad=1
	fi

	TINY=$dir/tiny.config merge_config "$dir/bench.config" "${test_frags[@]}" \
		"$top"/kernel/configs/bench/*.config
	if check_config "$dir/bench.config" "${#test_frags[@]}" "$bench_syms" \
		"${test_frags[@]}" "$top"/kernel/configs/bench/*.config; then
		echo "ok   config/bench"
	else
		echo "FAIL config/bench  # options did not stick (see above)"; bad=1
	fi

	TINY=$dir/tiny.config merge_config "$dir/coverage.config" "${test_frags[@]}" \
		"$top"/kernel/configs/coverage/*.config
	if check_config "$dir/coverage.config" "${#test_frags[@]}" " " \
		"${test_frags[@]}" "$top"/kernel/configs/coverage/*.config &&
	   check_config "$dir/coverage.config" 0 " " "${test_frags[@]}"; then
		echo "ok   config/coverage"
	else
		echo "FAIL config/coverage  # options did not stick (see above)"; bad=1
	fi
	return $bad
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
check-configs) check_configs ;;
check-config)
	[ $# -ge 3 ] || { echo "usage: $0 check-config CONFIG FRAGMENT..." >&2; exit 2; }
	config=$2
	shift 2
	check_config "$config" 0 " " "$@" ;;
*) echo "usage: $0 [prepare|all|check-configs|check-config CONFIG FRAGMENT...]" >&2
   exit 2 ;;
esac
