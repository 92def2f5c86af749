#!/bin/bash
# The patched systemd 252 as PID 1 (make userspace; tests/userspace/run
# boots it): IOASIDsMax= and IOASIDsAccounting= on slices, scopes and
# services, systemctl set-property and systemd-run -p, systemctl status,
# Delegate=ioasids. Every limit is checked by an allocation it refuses.
. "$(dirname "$0")/../integration/lib.bash"
# A slice tree of its own, vms.slice: make install's drop-ins (for
# machine.slice and user slices) enable the controller where they run, so
# only here is systemd alone the one that enables it.
P=$CG/vms.slice
SL=$P/vms-vm1.slice

# in_scope SLICE COMMAND...: COMMAND in a new scope in SLICE; its status.
in_scope() {
	local slice=$1
	shift
	systemd-run --quiet --scope --slice="$slice" "$@"
}

# status_line UNIT: the IOASIDs: line of systemctl status UNIT.
status_line() {
	systemctl status --no-pager "$1" | sed -n 's/^ *IOASIDs: //p'
}

check pid1-is-systemd eq systemd cat /proc/1/comm
check pid1-is-patched bash -c 'systemctl show -P Version | grep -q +ioasids'
check default-accounting eq yes systemctl show -P DefaultIOASIDsAccounting
check no-parent-yet test ! -e $P

# A VM's slice with IOASIDsMax=4 in its unit file: systemd enables the
# controller on the way down and writes the limit.
mkdir -p /etc/systemd/system
printf '[Slice]\nIOASIDsMax=4\n' > /etc/systemd/system/vms-vm1.slice
systemctl daemon-reload
check slice-start systemctl start vms-vm1.slice
check parent-enabled grep -qw ioasids $P/cgroup.subtree_control
check slice-limit eq 4 cat $SL/ioasids.max
check slice-show eq 4 systemctl show -P IOASIDsMax vms-vm1.slice
check scope-4-ok in_scope vms-vm1.slice ioasidctl alloc --count 4
check scope-5th-refused refused /vms.slice/vms-vm1.slice in_scope vms-vm1.slice ioasidctl alloc --count 5
check refusal-counted eq "max 1" grep "^max " $SL/ioasids.events

# The VM: a scope holding 3, as a VM manager's transient scope would.
systemd-run --quiet --scope --unit=vm1 --slice=vms-vm1.slice \
	bash -c 'exec ioasidctl alloc --count 3 --hold < <(exec sleep infinity)' \
	>/dev/null 2>&1 &
check vm1-holds-3 wait_for 3 $SL/ioasids.current
check vm1-scope-current eq 3 systemctl show -P IOASIDsCurrent vm1.scope
check status-slice eq "3 (limit: 4)" status_line vms-vm1.slice
check status-scope eq 3 status_line vm1.scope
check slice-2-more-refused refused /vms.slice/vms-vm1.slice in_scope vms-vm1.slice ioasidctl alloc --count 2
check slice-1-more-ok in_scope vms-vm1.slice ioasidctl alloc --count 1

# set-property raises it live (runtime), then lowers it (persistent).
check raise-runtime systemctl set-property --runtime vms-vm1.slice IOASIDsMax=6
check raised-limit eq 6 cat $SL/ioasids.max
check raised-3-more-ok in_scope vms-vm1.slice ioasidctl alloc --count 3
check raised-4-more-refused refused /vms.slice/vms-vm1.slice in_scope vms-vm1.slice ioasidctl alloc --count 4
check runtime-dropin test -f /run/systemd/system.control/vms-vm1.slice.d/50-IOASIDsMax.conf
check status-raised eq "3 (limit: 6)" status_line vms-vm1.slice
check lower-persistent systemctl set-property vms-vm1.slice IOASIDsMax=3
check lowered-limit eq 3 cat $SL/ioasids.max
check lowered-1-more-refused refused /vms.slice/vms-vm1.slice in_scope vms-vm1.slice ioasidctl alloc
check persistent-dropin grep -qx IOASIDsMax=3 /etc/systemd/system.control/vms-vm1.slice.d/50-IOASIDsMax.conf
check vm1-still-holds eq 3 cat $SL/ioasids.current

# The limit survives daemon-reload and a restart of the VM's unit.
check daemon-reload systemctl daemon-reload
# An administrator's +ioasids (make install's tmpfiles.d, at the root)
# stays after systemd realized every cgroup anew: with the default
# IOASIDsAccounting=yes, systemd wants it everywhere too.
check root-keeps-ioasids grep -qw ioasids $CG/cgroup.subtree_control
check reload-limit eq 3 cat $SL/ioasids.max
check reload-refused refused /vms.slice/vms-vm1.slice in_scope vms-vm1.slice ioasidctl alloc
check vm1-stop systemctl stop vm1.scope
check vm1-returned wait_for 0 $SL/ioasids.current
check vm1-restart-3-ok in_scope vms-vm1.slice ioasidctl alloc --count 3
check vm1-restart-4-refused refused /vms.slice/vms-vm1.slice in_scope vms-vm1.slice ioasidctl alloc --count 4
check infinity systemctl set-property --runtime vms-vm1.slice IOASIDsMax=infinity
check infinity-limit eq max cat $SL/ioasids.max
check infinity-show eq infinity systemctl show -P IOASIDsMax vms-vm1.slice

# A percentage of ioasids.capacity.
cap=$(cat $CG/ioasids.capacity)
check percent systemctl set-property --runtime vms-vm1.slice IOASIDsMax=1%
check percent-limit eq $((cap / 100)) cat $SL/ioasids.max
check zero systemctl set-property --runtime vms-vm1.slice IOASIDsMax=0
check zero-refused refused /vms.slice/vms-vm1.slice in_scope vms-vm1.slice ioasidctl alloc

# systemd-run -p on a transient service, and on a transient scope.
# (--pipe: the service's own error, not only systemd-run's status.)
check run-p-2-ok systemd-run --quiet --wait --pipe -p IOASIDsMax=2 ioasidctl alloc --count 2
check run-p-3-refused refused '/system\.slice/run-[^/]+\.service' \
	systemd-run --quiet --wait --pipe -p IOASIDsMax=2 ioasidctl alloc --count 3
check run-scope-p-1-ok systemd-run --quiet --scope -p IOASIDsMax=1 ioasidctl alloc --count 1
check run-scope-p-refused refused '/system\.slice/run-[^/]+\.scope' \
	systemd-run --quiet --scope -p IOASIDsMax=1 ioasidctl alloc --count 2

# IOASIDsAccounting=no and nothing below that wants it: no ioasids.current.
check accounting-off eq "[not set]" systemd-run --quiet --wait --pipe \
	-p IOASIDsAccounting=no \
	bash -c 'systemctl show -p IOASIDsCurrent --value "$(cut -d/ -f3 /proc/self/cgroup)"'

# Delegate=ioasids: the controller is handed to the service's subtree,
# where it can set its own limits.
check delegate-ioasids eq "refused ok" systemd-run --quiet --wait --pipe \
	-p Delegate=ioasids bash -c '
		cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)
		mkdir $cg/self $cg/vm && echo $$ > $cg/self/cgroup.procs &&
		echo +ioasids > $cg/cgroup.subtree_control &&
		echo 1 > $cg/vm/ioasids.max &&
		bash -c "echo \$\$ > $cg/vm/cgroup.procs; ioasidctl alloc --count 2" >/dev/null ||
		printf refused
		bash -c "echo \$\$ > $cg/vm/cgroup.procs; ioasidctl alloc --count 1" >/dev/null &&
		printf " ok"'
check delegate-show eq ioasids systemd-run --quiet --wait --pipe -p Delegate=ioasids \
	bash -c 'systemctl show -P DelegateControllers "$(cut -d/ -f3 /proc/self/cgroup)"'

systemctl stop vms-vm1.slice 2>/dev/null
done_testing
