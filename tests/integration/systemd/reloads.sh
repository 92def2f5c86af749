#!/bin/bash
# The reloads the README's quick start gives after `make install` (the
# package's postinst does the udev one too), with systemd 252 as PID 1:
# each runs, and each does what it is there for.
. "$(dirname "$0")/../lib.bash"

# A unit file changed after boot, as make install changes them, counts
# only after daemon-reload: this boot's own target, touched. (systemd 252
# does not see a drop-in directory that appears after boot as a change:
# in the first run, NeedDaemonReload stayed "no".)
# Whatever fails below, the tests after this one find the boot as it was.
restore() {
	grep -qw ioasids $CG/cgroup.subtree_control ||
		echo +ioasids > $CG/cgroup.subtree_control
	chgrp kvm /dev/ioasid && chmod 0660 /dev/ioasid
}
trap restore EXIT
touch /etc/systemd/system/ioasids-job.target
check reload-needed eq yes systemctl show -P NeedDaemonReload ioasids-job.target
check daemon-reload systemctl daemon-reload
check reload-done eq no systemctl show -P NeedDaemonReload ioasids-job.target

# The tmpfiles rule turns +ioasids on at the root. It is taken off first,
# which only works while no cgroup below enables the controller (this
# runs before the tests of this boot that do): say so if one does. It
# takes every ioasids.max below the root with it; none is set yet.
below=$(grep -lw ioasids $CG/*/cgroup.subtree_control 2>/dev/null | xargs)
check nothing-below-enables-it eq "" echo "$below"
check root-off bash -c "echo -ioasids > $CG/cgroup.subtree_control"
check root-is-off fails grep -qw ioasids $CG/cgroup.subtree_control
check tmpfiles-create systemd-tmpfiles --create ioasids.conf
check tmpfiles-enabled grep -qw ioasids $CG/cgroup.subtree_control

# udev gives /dev/ioasid to the kvm group again, taken away first.
check udev-off bash -c "chgrp root /dev/ioasid && chmod 0600 /dev/ioasid"
check udev-is-off eq "root 600" stat -c '%G %a' /dev/ioasid
# (udev has had the rule since boot: the reload runs, no more is shown.)
check udev-reload udevadm control --reload
check udev-trigger udevadm trigger --settle /dev/ioasid
check udev-group-mode eq "kvm 660" stat -c '%G %a' /dev/ioasid

# The installed user@.service.d drop-in's Delegate=ioasids: Debian's
# systemd does not know the controller, ignores the name, and delegates
# what it did before (the patched one adds ioasids: userspace/rootless).
check user-at-has-the-drop-in bash -c \
	"systemctl show -P DropInPaths user@4714.service | grep -q user@.service.d/50-ioasids.conf"
check user-at-delegates-as-before eq "cpu memory pids" \
	systemctl show -P DelegateControllers user@4714.service
done_testing
