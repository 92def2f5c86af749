#!/bin/bash
# Edit the patches to existing kernel files with git, quilt-style:
#
#   scripts/patches.sh checkout [FILE...]
#       build/patchwork becomes a git repository holding the pristine
#       versions of every file the patches touch (plus FILEs, kernel paths,
#       to start patching), with each kernel/patches/*.patch applied as one
#       commit on top. Edit there: amend, rebase -i, or commit anew.
#   scripts/patches.sh export
#       writes the commits back to kernel/patches/ with git format-patch.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/patchwork
src=$top/build/linux
pristine=$top/build/pristine
git=(git -C "$work" -c user.name="ioasids developers" -c user.email="ioasids@localhost")

case "${1:-}" in
checkout)
	shift
	bash "$top/scripts/kernel.sh" prepare >/dev/null
	rm -rf "$work"
	mkdir -p "$work"
	(cd "$pristine" && find . -type f ! -name '*.absent' | sed 's|^\./||') |
	while read -r f; do
		mkdir -p "$work/$(dirname "$f")"
		cp "$pristine/$f" "$work/$f"
	done
	for f in "$@"; do
		[ -e "$work/$f" ] && continue
		mkdir -p "$work/$(dirname "$f")"
		cp "$src/$f" "$work/$f"
	done
	"${git[@]}" init -q
	"${git[@]}" add -A
	"${git[@]}" commit -qm "pristine linux-source-6.12 files"
	"${git[@]}" tag base
	for p in "$top"/kernel/patches/*.patch; do
		[ -e "$p" ] && "${git[@]}" am -q "$p"
	done
	echo "patchwork: $("${git[@]}" rev-list --count base..HEAD) patches in ${work#"$top"/}"
	;;
export)
	rm -f "$top"/kernel/patches/*.patch
	"${git[@]}" format-patch -q --zero-commit --no-signature -o "$top/kernel/patches" base..HEAD
	ls "$top"/kernel/patches
	;;
*)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
