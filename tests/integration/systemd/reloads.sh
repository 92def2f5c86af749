#!/bin/bash
# The reloads the README's quick start gives after `make install` (the
# package's maintainer scripts do the same), with systemd 252 as PID 1:
# each runs, and each does what it is there for.
. "$(dirname "$0")/../lib.bash"

check daemon-reload systemctl daemon-reload
check units-known eq loaded systemctl show -P LoadState ioasids@machine.slice.service

# The tmpfiles rule turns +ioasids on at the root, taken off first (this
# runs before the other tests of this boot enable it further down, which
# would make the root's EBUSY).
check root-off bash -c "echo -ioasids > $CG/cgroup.subtree_control"
check root-is-off fails grep -qw ioasids $CG/cgroup.subtree_control
check tmpfiles-create systemd-tmpfiles --create ioasids.conf
check tmpfiles-enabled grep -qw ioasids $CG/cgroup.subtree_control

# udev gives /dev/ioasid to the kvm group again (taken away first).
chgrp root /dev/ioasid && chmod 0600 /dev/ioasid
check udev-trigger udevadm trigger --settle /dev/ioasid
check udev-group-mode eq "kvm 660" stat -c '%G %a' /dev/ioasid
done_testing
