#!/bin/bash
# make package: the Debian package of the project's user space,
# ioasids-tools (debian/), in build/package/:
#
#   ioasids-tools_V_ARCH.deb, ioasids_V_ARCH.buildinfo, ioasids_V_ARCH.changes
#       dpkg-buildpackage -us -uc -b of a copy of the tree (its parent
#       directory gets the files, so the copy is made in build/package);
#   ioasids_V.dsc, ioasids_V.tar.xz
#       the source package (dpkg-source -b), for lintian's source checks;
#   upgrade/ioasids-tools_V+1_ARCH.deb
#       the same source rebuilt with one more changelog entry, version V+1,
#       written into a second copy only: what tests/integration/package.sh
#       upgrades to;
#   contents.txt, lintian.txt, hardening.txt, build.log
#
# It fails when lintian reports any error or warning (on the .changes, its
# .deb and the .dsc), when hardening-check finds a protection missing in
# an ELF file, when the package does not hold what `make install
# DESTDIR=` installs (at Debian 12's paths: units and the udev rule under
# /lib, the header under /usr/include/ioasids, the man page compressed)
# or holds a file it does not, and when tools/Makefile's VERSION is not
# the changelog's.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/package

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
tools_version=$(sed -n 's/^VERSION := //p' "$top/tools/Makefile")
[ "$version" = "$tools_version" ] || {
	echo "package: debian/changelog says $version, tools/Makefile's VERSION $tools_version" >&2
	exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
up=$version+1

rm -rf "$out"
mkdir -p "$out/upgrade"

# copy DIR: the tree as git has it (tracked and new files, the working
# tree's content; not build/ nor what .gitignore ignores).
copy() {
	mkdir -p "$1"
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$1"
}

# build DIR DPKG-BUILDPACKAGE-ARGS...: a binary build, its log appended.
build() {
	local dir=$1
	shift
	if ! (cd "$dir" && dpkg-buildpackage -us -uc -b "$@") >> "$out/build.log" 2>&1; then
		tail -n 40 "$out/build.log" >&2
		echo "package: dpkg-buildpackage failed in $dir (see $out/build.log)" >&2
		exit 1
	fi
}

echo "package: ioasids-tools $version (dpkg-buildpackage -b, log in build/package/build.log)"
src=$out/ioasids-$version
copy "$src"
# The source package first, from the clean copy.
(cd "$out" && dpkg-source -b "ioasids-$version") >> "$out/build.log" 2>&1 || {
	tail -n 20 "$out/build.log" >&2
	echo "package: dpkg-source -b failed" >&2
	exit 1
}
build "$src"
deb=$out/ioasids-tools_${version}_$arch.deb
changes=$out/ioasids_${version}_$arch.changes
[ -f "$deb" ] && [ -f "$changes" ] || { echo "package: no $deb or $changes" >&2; exit 1; }

# The upgrade: version V+1, one changelog entry more, nothing else.
usrc=$out/upgrade/ioasids-$up
copy "$usrc"
{
	printf 'ioasids (%s) bookworm; urgency=medium\n\n' "$up"
	printf '  * Rebuilt by make package, for the upgrade test (tests/integration/package.sh).\n\n'
	printf ' -- %s  %s\n\n' "$(dpkg-parsechangelog -l "$top/debian/changelog" -S Maintainer)" \
		"$(dpkg-parsechangelog -l "$top/debian/changelog" -S Date)"
	cat "$top/debian/changelog"
} > "$usrc/debian/changelog"
build "$usrc"
[ -f "$out/upgrade/ioasids-tools_${up}_$arch.deb" ] ||
	{ echo "package: no upgrade/ioasids-tools_${up}_$arch.deb" >&2; exit 1; }
rm -rf "$src" "$usrc"

dpkg-deb -c "$deb" > "$out/contents.txt"

fail=0

# What make install installs, at the package's paths.
mi=$out/make-install
root=$out/deb-root
mkdir -p "$mi"
copy "$out/make-install-src"
make -s -C "$out/make-install-src" install DESTDIR="$mi" > "$out/make-install.log" 2>&1 || {
	cat "$out/make-install.log" >&2
	echo "package: make install DESTDIR= failed" >&2
	exit 1
}
dpkg-deb -x "$deb" "$root"
is_elf() { readelf -h "$1" > /dev/null 2>&1; }
debpath() {
	case $1 in
	usr/lib/systemd/*|usr/lib/udev/*) echo "${1#usr/}" ;;
	usr/include/linux/*) echo "usr/include/ioasids/linux/${1#usr/include/linux/}" ;;
	usr/share/man/*) echo "$1.gz" ;;
	*) echo "$1" ;;
	esac
}
want=$(cd "$mi" && find . -type f | sed 's|^\./||' | sort)
while read -r f; do
	p=$(debpath "$f")
	if [ ! -f "$root/$p" ]; then
		echo "package: make install installs /$f, the package has no /$p" >&2
		fail=1
	elif is_elf "$mi/$f"; then
		: # built with other flags
	elif [[ $p == *.gz ]]; then
		zcmp -s "$root/$p" "$mi/$f" || { echo "package: /$p is not make install's /$f" >&2; fail=1; }
	elif ! cmp -s "$root/$p" "$mi/$f"; then
		echo "package: /$p is not make install's /$f" >&2
		fail=1
	fi
	if [ -x "$mi/$f" ] && [ -f "$root/$p" ] && [ ! -x "$root/$p" ]; then
		echo "package: /$p is not executable" >&2
		fail=1
	fi
done <<< "$want"
# And nothing else but Debian's own files of a package.
mapped=$(while read -r f; do debpath "$f"; done <<< "$want" | sort)
extra=$(cd "$root" && find . -type f | sed 's|^\./||' | sort | comm -13 <(echo "$mapped") - |
	grep -vxE 'usr/share/doc/ioasids-tools/(copyright|changelog\.gz)' || true)
[ -z "$extra" ] || { echo "package: files make install does not install: $extra" >&2; fail=1; }
rm -rf "$mi" "$out/make-install-src" "$out/make-install.log"

# Hardening of every ELF file in the package: PIE, stack protector,
# fortify, relro, bindnow. Not CET's IBT/SHSTK note: the code is built
# with -fcf-protection (endbr64), but Debian 12's glibc start files
# (crt1.o, crti.o) have no such note, so the linker leaves it out of
# every program. Stack clash protection: hardening-check knows only the
# probing loop of frames of several pages and says "unknown" for the
# single page probes (sub rsp,0x1000; or [rsp],0x0), which are checked
# here instead, on x86-64.
: > "$out/hardening.txt"
while read -r f; do
	hardening-check --nocfprotection "$f" >> "$out/hardening.txt" 2>&1 ||
		{ echo "package: hardening-check: $f lacks a protection" >&2; fail=1; }
	if [ "$arch" = amd64 ]; then
		n=$(objdump -d -M intel "$f" | grep -cE '\sor\s+QWORD PTR \[rsp\],0x0' || true)
		echo " Stack clash page probes (objdump): $n" >> "$out/hardening.txt"
		[ "$n" -gt 0 ] || { echo "package: $f: no stack clash probe" >&2; fail=1; }
	fi
done < <(find "$root" -type f | sort | while read -r f; do is_elf "$f" && echo "$f"; done)
sed "s|$root||" "$out/hardening.txt"
rm -rf "$root"

# lintian: nothing at all at error or warning level (overrides, each with
# its reason: debian/ioasids-tools.lintian-overrides, debian/source/).
echo "package: lintian"
# Not as root (it unpacks what it checks; and says so as root).
asuser=()
[ "$(id -u)" -eq 0 ] && asuser=(runuser -u nobody --)
if (cd /tmp && "${asuser[@]}" lintian --fail-on error,warning "$changes" \
	"$out/ioasids_$version.dsc") > "$out/lintian.txt" 2>&1; then
	:
else
	fail=1
fi
cat "$out/lintian.txt"
[ $fail -eq 0 ] || { echo "package: FAILED" >&2; exit 1; }
echo "package: build/package/$(basename "$deb"), upgrade/ioasids-tools_${up}_$arch.deb; lintian: $(wc -l < "$out/lintian.txt") lines"
