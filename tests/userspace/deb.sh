#!/bin/bash
# The Debian packages of make userspace-deb, installed in the guest the way
# Documentation/admin-guide/ioasids-userspace.rst tells an administrator
# to (apt install ./build/userspace/deb/install/*.deb: the +ioasids1
# packages of what is installed), and then Debian's own packages of the
# same versions put back the way it says (apt install --allow-downgrades
# ./build/userspace/deb/debian/*.deb), offline. Neither may remove a
# package. Under each, PID 1 re-executed: the package's PID 1 has
# IOASIDsMax and a unit with IOASIDsMax=2 is refused 3; Debian's PID 1 has
# no such property. tests/userspace/run only, last (not make check: make
# userspace-deb builds all of systemd).
. "$(dirname "$0")/../integration/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
export DEBIAN_FRONTEND=noninteractive
ver=$(dpkg-query -W -f='${Version}' systemd)
ver=${ver%+ioasids*}
# The root slice's D-Bus object: PID 1's own answer about IOASIDsMax.
root_slice=(org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/_2d_2eslice
	    org.freedesktop.systemd1.Slice IOASIDsMax)

# logged COMMAND...: COMMAND with a limit of 1800 s, its output in the log
# as it comes, each line with the seconds since the test began; its status.
logged() {
	timeout -k 10 1800 "$@" 2>&1 | while IFS= read -r line; do
		echo "# [$SECONDS s] $line"
	done
	return "${PIPESTATUS[0]}"
}

# installed: the names of the installed packages, sorted.
installed() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort
}

# same_versions DIR: dpkg has the version of each .deb in DIR installed.
same_versions() {
	local f p want='' got=''
	for f in "$1"/*.deb; do
		p=$(dpkg-deb -f "$f" Package)
		want+="$p $(dpkg-deb -f "$f" Version)"$'\n'
		got+="$p $(dpkg-query -W -f='${Version}' "$p")"$'\n'
	done
	[ "$want" = "$got" ] || { diff <(echo "$want") <(echo "$got"); return 1; }
}

# man_pages_at_least N: the installed systemd package ships N man pages or
# more (Debian's 252 ships about 250; a nodoc build none).
man_pages_at_least() {
	local n
	n=$(dpkg -L systemd | grep -c '^/usr/share/man/.*\.gz$')
	echo "# systemd's man pages: $n"
	[ "$n" -ge "$1" ]
}

# newest_source NAME: IOASIDS_SOURCE=newest names a source version of NAME
# that the archive has, no older than the installed one's, and none of the
# archive's of the same upstream series (252.*) is newer.
newest_source() {
	local v w series
	v=$(IOASIDS_SOURCE=newest bash scripts/userspace.sh source-version "$1") || return 1
	echo "# newest source of $1: $v"
	apt-cache showsrc "$1" | grep -qxF "Version: $v" &&
		dpkg --compare-versions "$v" ge "$ver" || return 1
	series=${v%%-*}
	series=${series%.*}
	for w in $(apt-cache showsrc "$1" | sed -n 's/^Version: //p'); do
		case $w in "$series".*) ;; *) continue ;; esac
		dpkg --compare-versions "$w" gt "$v" && { echo "# newer: $w"; return 1; }
	done
	return 0
}

# As in a container image, in this guest's overlay: man-db's trigger off
# (it would index every manual page of the host's root, over 9p, under
# TCG), and dpkg without fsync (about 15 s a package on the overlay).
rm -f /var/lib/man-db/auto-update
echo force-unsafe-io > /etc/dpkg/dpkg.cfg.d/ioasids-test-unsafe-io
cd "$top" || exit 1
before=$(installed)

check "the packages were built" \
	test -e "build/userspace/deb/install/systemd_$ver+ioasids1_amd64.deb"
# As the document says, from the top of the tree.
logged apt install -y -q ./build/userspace/deb/install/*.deb
check "apt install the patched packages" test $? = 0
check "no package removed or added" eq "$before" installed
check "dpkg has their +ioasids1 versions" same_versions build/userspace/deb/install
check "the package keeps systemd's man pages" man_pages_at_least 200
check "IOASIDsMax= in the package's systemd.resource-control(5)" \
	zgrep -q IOASIDsMax /usr/share/man/man5/systemd.resource-control.5.gz
check "apt-mark hold" bash -c 'apt-mark hold $(ls build/userspace/deb/install | cut -d_ -f1)'
# On this held host, make userspace-deb rebuilds Debian's source: the
# installed version without +ioasids1, or with IOASIDS_SOURCE=newest the
# archive's newest (a point release or a security update).
check "a rebuild here takes Debian's $ver" \
	eq "$ver" bash scripts/userspace.sh source-version systemd
check "IOASIDS_SOURCE=newest takes the archive's newest" newest_source systemd
check "daemon-reexec into the package's systemd" systemctl daemon-reexec
check "PID 1 is the package's" pid1_answers "$ver+ioasids1"
check "PID 1 runs the package's binary" eq /usr/lib/systemd/systemd readlink -f /proc/1/exe
check "PID 1 has IOASIDsMax" eq 't 18446744073709551615' busctl get-property "${root_slice[@]}"
check "IOASIDsMax=2 lets 2 be allocated" \
	systemd-run --quiet --wait --pipe -p IOASIDsMax=2 ioasidctl alloc --count 2
check "IOASIDsMax=2 refuses 3" refused '/system\.slice/run-[^/]+\.service' \
	systemd-run --quiet --wait --pipe -p IOASIDsMax=2 ioasidctl alloc --count 3

# Going back, as the document says.
check "apt-mark unhold" bash -c 'apt-mark unhold $(ls build/userspace/deb/install | cut -d_ -f1)'
logged apt install -y -q --allow-downgrades ./build/userspace/deb/debian/*.deb
check "apt install Debian's packages back" test $? = 0
check "the same packages as before" eq "$before" installed
check "dpkg has Debian's versions" same_versions build/userspace/deb/debian
check "Debian's systemd.resource-control(5) back" \
	says '^0$' zgrep -c IOASIDsMax /usr/share/man/man5/systemd.resource-control.5.gz
check "daemon-reexec into Debian's systemd" systemctl daemon-reexec
check "PID 1 is Debian's" pid1_answers "$ver"
check "Debian's PID 1 has no IOASIDsMax" \
	says 'Unknown (interface [^ ]+ or )?property IOASIDsMax' busctl get-property "${root_slice[@]}"
done_testing
