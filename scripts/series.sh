#!/bin/bash
# The upstream patch series, from the project's files.
#
#   scripts/series.sh [write]   (make series) write build/series/patches/:
#       git format-patch with a cover letter. kernel/series says which patch
#       of kernel/patches/ adds which new files, kernel/cover-letter gives
#       the cover letter's subject and text; nothing is written by hand.
#   scripts/series.sh apply
#       git am the written series onto a pristine linux-source-6.12 tree,
#       build/series/tree (made and committed once, kept with its build
#       output), on a branch "series" from the tag "pristine".
#
# The pristine tree is made once: from the test kernel's tree when that is
# built (a copy of build/linux with its objects, the files the patches
# touch put back as linux-source-6.12 has them and the project's new files
# taken out, committing those files only), so that the series
# check starts from the test kernel's objects; otherwise extracted from the
# tarball. After the first git am onto a copy, the files whose content is
# the test kernel's get back the test kernel's mtimes: the last patch's
# tree is then the test kernel's, objects included, and builds in seconds.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/build/linux
pristine=$top/build/pristine
work=$top/build/series/work
out=$top/build/series/patches
tree=$top/build/series/tree
tarball=/usr/src/linux-source-6.12.tar.xz
git=(git -C "$work" -c user.name="ioasids developers"
     -c user.email="ioasids@localhost" -c core.autocrlf=false)
# The tree's files: stored with the fastest compression, and never
# repacked by a git gc --auto in the middle of a build.
tgit=(git -C "$tree" -c user.name="ioasids developers"
      -c user.email="ioasids@localhost" -c advice.detachedHead=false
      -c core.compression=1 -c gc.auto=0)

# copy_test_tree: build/series/tree as a copy of the built build/linux,
# its sources put back to linux-source-6.12's, the tarball's files added.
copy_test_tree() {
	local f
	echo "series: a pristine tree from the test kernel's, with its objects (once)"
	# Under build/.lock, which scripts/kernel.sh holds while it writes in
	# that tree: check-configs' merge_config scratch files, beside this
	# job in make check, vanished under a plain cp -a ("cannot stat").
	flock "$top/build/.lock" cp -a "$src" "$tree"
	rm -f "$tree"/.ioasids-*
	(cd "$pristine" && find . -type f | sed 's|^\./||') | while read -r f; do
		case "$f" in
		*.absent) rm -f "$tree/${f%.absent}" ;;
		*) cp "$pristine/$f" "$tree/$f" ;;
		esac
	done
	awk '!/^#/ && NF == 2 { print $2 }' "$top/kernel/files.map" |
		while read -r f; do rm -f "$tree/$f"; done
	# git tracks only the tarball's files that the patches change: all
	# that git am reads (a patch to any other file fails, "does not exist
	# in index"; a new file that is already there fails too). Adding all
	# 86,000 took 3.5 minutes of CPU, beside the guests.
	(cd "$pristine" && find . -type f ! -name '*.absent' | sed 's|^\./||') \
		> "$top/build/series/files"
	"${tgit[@]}" init -q
	GIT_LITERAL_PATHSPECS=1 "${tgit[@]}" add -f \
		--pathspec-from-file="$top/build/series/files"
}

# tracks_pristine: the pristine commit tracks every tarball file the
# patches change now (a patch may start to change another: then the tree
# is made again, or git am would fail on a file it does not track).
tracks_pristine() {
	"${tgit[@]}" rev-parse -q --verify pristine >/dev/null 2>&1 || return 1
	[ -z "$(comm -23 \
		<(cd "$pristine" 2>/dev/null && find . -type f ! -name '*.absent' | sed 's|^\./||' | sort) \
		<("${tgit[@]}" ls-tree -r --name-only pristine | sort))" ]
}

apply() {
	local copied=0 f
	if ! tracks_pristine; then
		rm -rf "$tree" "$top/build/series/linux-source-6.12"
		mkdir -p "$top/build/series"
		if [ -f "$src/.ioasids-extracted" ] && [ -f "$src/vmlinux" ]; then
			copy_test_tree
			copied=1
		else
			echo "series: extracting a pristine tree (once)"
			tar -xf "$tarball" -C "$top/build/series"
			mv "$top/build/series/linux-source-6.12" "$tree"
			"${tgit[@]}" init -q
			# Debian's .gitignore ignores everything at the top level.
			"${tgit[@]}" add -A -f
		fi
		"${tgit[@]}" commit -qm "linux-source-6.12, as Debian ships it"
		"${tgit[@]}" tag pristine
	fi
	"${tgit[@]}" am --abort >/dev/null 2>&1 || true
	"${tgit[@]}" checkout -q -f -B series pristine
	# Every patch but the cover letter (0000), in order.
	if ! "${tgit[@]}" am -q $(find "$out" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort); then
		"${tgit[@]}" am --abort >/dev/null 2>&1 || true
		echo "series: does not apply to linux-source-6.12" >&2
		exit 1
	fi
	if [ $copied -eq 1 ]; then
		"${tgit[@]}" diff --name-only pristine series | while read -r f; do
			if [ -f "$src/$f" ] && cmp -s "$src/$f" "$tree/$f"; then
				touch -r "$src/$f" "$tree/$f"
			fi
		done
		# The index learns the new mtimes: a checkout -f would
		# otherwise write those files again, with new ones.
		"${tgit[@]}" update-index -q --refresh
	fi
	echo "series: applied on branch series of ${tree#"$top"/}"
}

case "${1:-write}" in
write) ;;
apply) apply; exit 0 ;;
*) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

bash "$top/scripts/kernel.sh" prepare >/dev/null

# Kernel path of a project file, from kernel/files.map.
mapped() {
	awk -v f="$1" '!/^#/ && $1 == f { print $2 }' "$top/kernel/files.map"
}

# Every file the kernel build places must be in the series.
missing=$(awk '!/^#/ && NF == 2 { print $1 }' "$top/kernel/files.map" |
	while read -r f; do
		grep -qE "^[[:space:]]+$f([[:space:]]|\$)" "$top/kernel/series" || echo "$f"
	done)
if [ -n "$missing" ]; then
	echo "series: not in kernel/series:" $missing >&2
	exit 1
fi

rm -rf "$work" "$out"
mkdir -p "$work" "$out"
(cd "$pristine" && find . -type f ! -name '*.absent' | sed 's|^\./||') |
while read -r f; do
	mkdir -p "$work/$(dirname "$f")"
	cp "$pristine/$f" "$work/$f"
done
"${git[@]}" init -q
"${git[@]}" add -A
"${git[@]}" commit -qm "pristine linux-source-6.12 files"
"${git[@]}" tag base

# finish: add the new files of the patch just applied to its commit.
finish() {
	[ $# -eq 0 ] && return 0
	"${git[@]}" add -f -- "$@"
	"${git[@]}" commit -q --amend --no-edit
}
added=()
while IFS= read -r line; do
	case "$line" in
	'#'* | '') continue ;;
	[0-9]*)
		finish "${added[@]}"
		added=()
		patch=$(ls "$top/kernel/patches/$line"-*.patch)
		"${git[@]}" am -q "$patch"
		;;
	*)
		read -r from to <<<"$line"
		[ -n "${to:-}" ] || to=$(mapped "$from")
		[ -n "$to" ] || { echo "series: no kernel path for $from" >&2; exit 1; }
		mkdir -p "$work/$(dirname "$to")"
		cp "$top/$from" "$work/$to"
		added+=("$to")
		;;
	esac
done < "$top/kernel/series"
finish "${added[@]}"

n=$("${git[@]}" rev-list --count base..HEAD)
total=$(ls "$top"/kernel/patches/*.patch | wc -l)
if [ "$n" -ne "$total" ]; then
	echo "series: $n patches in kernel/series, $total in kernel/patches" >&2
	exit 1
fi

version=$(make -s -C "$src" kernelversion)
"${git[@]}" format-patch -q --cover-letter --no-signature -o "$out" base..HEAD
cover=$(ls "$out"/0000-cover-letter.patch)
python3 - "$cover" "$top/kernel/cover-letter" "$version" <<'EOF'
import sys
cover, text, version = sys.argv[1:]
subject, _, blurb = open(text).read().partition('\n')
blurb = blurb.replace('(VERSION)', '(' + version + ')').rstrip('\n')
s = open(cover).read()
s = s.replace('*** SUBJECT HERE ***', subject)
s = s.replace('*** BLURB HERE ***', blurb)
open(cover, 'w').write(s)
EOF
echo "series: $n patches and a cover letter in ${out#"$top"/}"
