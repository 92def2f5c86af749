#!/bin/bash
# The Debian packages of make userspace-deb, installed in the guest the way
# Documentation/admin-guide/ioasids-userspace.rst tells an administrator
# to, and then Debian's own packages of the same version put back the way
# it says, with `apt install` from the packages' directories, offline
# (Debian's packages were fetched by scripts/userspace.sh deb into
# build/userspace/deb/debian, and are given to apt through its cache).
# Under each, PID 1 re-executed: the patched one takes IOASIDsMax= and
# refuses by it; Debian's does not know it. tests/userspace/run only (not
# make check: make userspace-deb builds all of systemd).
. "$(dirname "$0")/../integration/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
export DEBIAN_FRONTEND=noninteractive
ver=$(dpkg-query -W -f='${Version}' systemd)
ver=${ver%+ioasids*}
pkgs=(systemd libsystemd-shared libsystemd0 libudev1 udev systemd-sysv libpam-systemd)

check "the packages were built" bash -c \
	"ls $top/build/userspace/deb/systemd_$ver+ioasids1_*.deb $top/build/userspace/deb/crun_*+ioasids1_*.deb"
# As the document says, from the top of the tree.
check "apt install the patched packages" bash -c \
	"cd $top && apt install -y -q ./build/userspace/deb/{systemd,libsystemd-shared,libsystemd0,libudev1,udev,systemd-sysv,libpam-systemd,crun}_*.deb"
check "dpkg has systemd $ver+ioasids1" eq "$ver+ioasids1" dpkg-query -W -f='${Version}' systemd
check "dpkg has crun +ioasids1" says '\+ioasids1$' dpkg-query -W -f='${Version}' crun
check "apt-mark hold" apt-mark hold "${pkgs[@]}" crun
check "daemon-reexec into the package's systemd" systemctl daemon-reexec
check "PID 1 is the package's" pid1_answers "$ver+ioasids1"
check "PID 1 runs /lib/systemd/systemd" eq /usr/lib/systemd/systemd readlink -f /proc/1/exe
check "IOASIDsMax=2 lets 2 be allocated" \
	systemd-run --quiet --wait -p IOASIDsMax=2 ioasidctl alloc --count 2
check "IOASIDsMax=2 refuses 3" \
	fails systemd-run --quiet --wait -p IOASIDsMax=2 ioasidctl alloc --count 3

# Going back: Debian's packages of the same version, from apt's cache.
cp "$top"/build/userspace/deb/debian/*.deb /var/cache/apt/archives/
check "apt-mark unhold" apt-mark unhold "${pkgs[@]}" crun
crun_ver=$(cd "$top/build/userspace/deb/debian" && ls crun_*.deb | cut -d_ -f2)
want=()
for p in "${pkgs[@]}"; do
	want+=("$p=$ver")
done
want+=("crun=$crun_ver")
check "apt install Debian's packages back" \
	apt install -y -q --no-download --allow-downgrades "${want[@]}"
check "dpkg has systemd $ver" eq "$ver" dpkg-query -W -f='${Version}' systemd
check "daemon-reexec into Debian's systemd" systemctl daemon-reexec
check "PID 1 is Debian's" pid1_answers "$ver"
check "Debian's systemd does not know IOASIDsMax=" \
	says 'Unknown assignment|Unknown property|Cannot set property' \
	systemd-run --quiet --wait -p IOASIDsMax=2 true
done_testing
