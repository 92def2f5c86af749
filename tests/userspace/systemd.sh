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

# logged UNIT TEXT: within 15 s, PID 1 logged a line containing TEXT about
# UNIT (journalctl -u matches PID 1's UNIT= field). Bounded by time, not
# by tries: one journalctl can take seconds under TCG.
logged() {
	local end=$((SECONDS + 15))
	while :; do
		journalctl -q -b -u "$1" -o cat 2>/dev/null | grep -qF -- "$2" && return 0
		[ $SECONDS -lt $end ] || break
		sleep 0.5
	done
	echo "not logged for $1: $2; its last lines:"
	journalctl -q -b -u "$1" -o cat 2>&1 | tail -n 5
	return 1
}

# fake_capacity CONTENT: PID 1 (whose mount namespace this job shares)
# reads CONTENT as the root's ioasids.capacity, from a file bind-mounted
# over it. The kernel's own capacity is unchanged.
fake_capacity() {
	printf '%s\n' "$1" > /run/ioasids-fake-capacity &&
	mount --bind /run/ioasids-fake-capacity $CG/ioasids.capacity
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
# ioasidctl set-max on it would last only until systemd's next reload:
# refused, nothing written, and the message names set-property.
check ctl-set-max-refused status 2 ioasidctl set-max vms.slice/vms-vm1.slice 5
check ctl-set-max-says-how says "use: systemctl set-property 'vms-vm1.slice' IOASIDsMax=5" \
	ioasidctl set-max vms.slice/vms-vm1.slice 5
check ctl-set-max-unchanged eq 3 cat $SL/ioasids.max
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
# No longer systemd's: ioasidctl set-max writes it.
check ctl-set-max-after-infinity ioasidctl set-max vms.slice/vms-vm1.slice 2
check ctl-set-max-written eq 2 cat $SL/ioasids.max
check ctl-set-max-back ioasidctl set-max vms.slice/vms-vm1.slice max

# A percentage of ioasids.capacity.
cap=$(cat $CG/ioasids.capacity)
check percent systemctl set-property --runtime vms-vm1.slice IOASIDsMax=1%
check percent-limit eq $((cap / 100)) cat $SL/ioasids.max
check percent-logged logged vms-vm1.slice "IOASIDsMax=1.00% of the IOASID capacity $cap resolved to $((cap / 100))."
# 100% over D-Bus (IOASIDsMaxScale=UINT32_MAX) as in a unit file.
check percent-100 systemctl set-property --runtime vms-vm1.slice IOASIDsMax=100%
check percent-100-limit eq $cap cat $SL/ioasids.max
check percent-100-show eq $cap systemctl show -P IOASIDsMax vms-vm1.slice
# Percentages fail closed. A capacity that cannot be read (in a cgroup
# namespace there is no ioasids.capacity, as the first check shows, and as
# podman-systemd.sh shows with systemd inside one; here
# the file PID 1 reads holds no number) makes the limit 0, not "max", and
# says so.
mkdir -p /run/ioasids-cgns
check cgns-no-capacity unshare -C -m bash -c \
	'mount -t cgroup2 none /run/ioasids-cgns && test -e /run/ioasids-cgns/ioasids.max && test ! -e /run/ioasids-cgns/ioasids.capacity'
check percent-unknown-fake fake_capacity unknown
check percent-unknown systemctl set-property --runtime vms-vm1.slice IOASIDsMax=50%
check percent-unknown-limit wait_for 0 $SL/ioasids.max
check percent-unknown-show eq 0 systemctl show -P IOASIDsMax vms-vm1.slice
check percent-unknown-refused refused /vms.slice/vms-vm1.slice in_scope vms-vm1.slice ioasidctl alloc
umount $CG/ioasids.capacity
check percent-unknown-logged logged vms-vm1.slice "IOASIDsMax=50.00% cannot be resolved"
# Resolved again, with the capacity now read, when the slice is realized
# again (here by a scope starting in it).
check percent-known-again in_scope vms-vm1.slice ioasidctl alloc
check percent-known-again-limit eq $((cap / 2)) cat $SL/ioasids.max
# A capacity of 0: 0, said.
check percent-100-again systemctl set-property --runtime vms-vm1.slice IOASIDsMax=100%
check percent-100-again-limit wait_for $cap $SL/ioasids.max
check percent-zero-fake fake_capacity 0
check percent-zero-cap systemctl set-property --runtime vms-vm1.slice IOASIDsMax=25%
check percent-zero-cap-limit wait_for 0 $SL/ioasids.max
umount $CG/ioasids.capacity
check percent-zero-cap-logged logged vms-vm1.slice "IOASIDsMax=25.00% resolved to 0: the system's IOASID capacity (ioasids.capacity) is 0."
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
