#!/bin/bash
# systemd 252 as PID 1 (tests/harness/boot-jobs/systemd), with what
# `make install` installs: PASID limits for slices, VMs and users, set by
# ioasids@.service, checked by allocating until the limit refuses.
. "$(dirname "$0")/../lib.bash"
MS=$CG/machine.slice

# vm NAME COUNT: a VM stand-in in its own slice under machine.slice, which
# requires ioasids@ for that slice (fail closed, as documented), holding
# COUNT PASIDs until it is stopped.
vm() {
	systemd-run --quiet --unit="$1" --slice="machine-$1.slice" \
		-p Requires="ioasids@machine-$1.slice.service" \
		-p After="ioasids@machine-$1.slice.service" \
		bash -c "exec ioasidctl alloc --count $2 --hold < <(exec sleep infinity)"
}

# in_unit SLICE COMMAND...: COMMAND as a service in SLICE; its exit status.
in_unit() {
	local slice=$1
	shift
	systemd-run --quiet --wait --pipe --slice="$slice" "$@"
}

# is_state STATE UNIT: wait up to 30 s for UNIT to be STATE.
is_state() {
	wait_until "$1" systemctl is-active "$2"
}

base=$(cat $CG/ioasids.current)

# At boot, tmpfiles.d enabled the controller at the root. user.slice (which
# logind starts at the first login) gets its limit from its drop-in.
check pid1-is-systemd eq systemd cat /proc/1/comm
check installed-unit systemctl cat ioasids@.service
check tmpfiles-enabled-at-root grep -qw ioasids $CG/cgroup.subtree_control
check user-slice-start systemctl start user.slice
check user-slice-unit-active is_state active ioasids@user.slice.service
check user-slice-limit eq 4096 cat $CG/user.slice/ioasids.max

# A user's slice gets the per-user default of user-.slice.conf, and the
# user cannot go beyond it.
check user-uid-slice systemctl start user-65534.slice
check user-uid-unit-active is_state active ioasids@user-65534.slice.service
check user-uid-limit eq 512 cat $CG/user.slice/user-65534.slice/ioasids.max
check user-uid-512-ok in_unit user-65534.slice ioasidctl alloc --count 512
check user-uid-513-refused refused '/user\.slice/user-65534\.slice' \
	in_unit user-65534.slice ioasidctl alloc --count 513
check user-uid-refusal-counted \
	eq "max 1" grep "^max " $CG/user.slice/user-65534.slice/ioasids.events
# Debian's systemd knows no IOASIDsMax=, so ioasidctl set-max on a unit's
# own cgroup writes it (with the patched systemd, tests/userspace/systemd.sh).
check debian-systemd-no-ioasidsmax eq "" systemctl show -P IOASIDsMax user-65534.slice
check ctl-set-max-unit ioasidctl set-max user.slice/user-65534.slice 500
check ctl-set-max-unit-written eq 500 cat $CG/user.slice/user-65534.slice/ioasids.max
check ctl-set-max-unit-back ioasidctl set-max user.slice/user-65534.slice 512

# VM 1: its limit from /etc/ioasids/machine-vm1.slice.conf.
mkdir -p /etc/ioasids
echo "IOASIDS_MAX=4" > /etc/ioasids/machine-vm1.slice.conf
check vm1-start vm vm1 4
check machine-slice-unit-active is_state active ioasids@machine.slice.service
check machine-slice-no-limit eq max cat $MS/ioasids.max
check machine-slice-enabled-inside grep -qw ioasids $MS/cgroup.subtree_control
check vm1-limit eq 4 cat $MS/machine-vm1.slice/ioasids.max
check vm1-holds-4 wait_for 4 $MS/machine-vm1.slice/ioasids.current
check vm1-5th-refused refused '/machine\.slice/machine-vm1\.slice' \
	in_unit machine-vm1.slice ioasidctl alloc
check vm1-refusal-counted eq "max 1" grep "^max " $MS/machine-vm1.slice/ioasids.events

# VM 2: its limit from a drop-in, which wins over /etc/ioasids.
mkdir -p /etc/systemd/system/ioasids@machine-vm2.slice.service.d
printf '[Service]\nEnvironment=IOASIDS_MAX=16\n' \
	> /etc/systemd/system/ioasids@machine-vm2.slice.service.d/limit.conf
echo "IOASIDS_MAX=1" > /etc/ioasids/machine-vm2.slice.conf
systemctl daemon-reload
check vm2-start vm vm2 16
check vm2-limit eq 16 cat $MS/machine-vm2.slice/ioasids.max
check vm2-holds-16 wait_for 16 $MS/machine-vm2.slice/ioasids.current
check vm2-17th-refused refused '/machine\.slice/machine-vm2\.slice' \
	in_unit machine-vm2.slice ioasidctl alloc
check machine-slice-sum eq 20 cat $MS/ioasids.current

# A VM that asks for more than its limit does not start its allocation.
echo "IOASIDS_MAX=2" > /etc/ioasids/machine-vm3.slice.conf
check vm3-start vm vm3 3
check vm3-refused is_state failed vm3.service
check vm3-holds-nothing eq 0 cat $MS/machine-vm3.slice/ioasids.current

# Stopping a VM returns everything it held; its ioasids@ goes with its
# slice.
check vm1-stop systemctl stop vm1.service
check vm1-returned wait_for 0 $MS/machine-vm1.slice/ioasids.current
check vm1-slice-stop systemctl stop machine-vm1.slice
check vm1-limit-unit-stops is_state inactive ioasids@machine-vm1.slice.service
check vm2-stop systemctl stop vm2.service machine-vm2.slice
check vm3-stop systemctl stop machine-vm3.slice
check all-returned wait_for "$base" $CG/ioasids.current

# A slice with no limit configured: the unit fails and says why.
check no-limit-fails fails systemctl start ioasids@machine-vm4.slice.service
check no-limit-says-why \
	bash -c 'journalctl -q -u ioasids@machine-vm4.slice.service | grep -q "no limit for machine-vm4.slice"'

# Fail closed: a VM whose unit Requires= (and is After=) its slice's limit
# unit does not start when the limit cannot be set (no limit configured),
# and its slice never gets a process; with Wants=, it would run unlimited.
check requires-vm-not-started fails \
	systemd-run --quiet --unit=vm6 --slice=machine-vm6.slice \
	-p Requires=ioasids@machine-vm6.slice.service \
	-p After=ioasids@machine-vm6.slice.service sleep infinity
check requires-limit-unit-failed is_state failed ioasids@machine-vm6.slice.service
check requires-vm-inactive fails systemctl is-active vm6.service
check requires-vm-no-process \
	eq "" bash -c "cat $MS/machine-vm6.slice/cgroup.procs 2>/dev/null"
check wants-would-fail-open \
	systemd-run --quiet --unit=vm7 --slice=machine-vm7.slice \
	-p Wants=ioasids@machine-vm7.slice.service \
	-p After=ioasids@machine-vm7.slice.service sleep infinity
check wants-vm-runs-unlimited is_state active vm7.service
systemctl stop vm7.service machine-vm7.slice machine-vm6.slice 2>/dev/null
systemctl reset-failed 2>/dev/null

# The limit is in place before the VM's first process: its ExecStartPre=
# and main process, ordered After= the limit unit, already see it.
echo "IOASIDS_MAX=3" > /etc/ioasids/machine-vm8.slice.conf
check limit-before-first-process eq "3 3" \
	systemd-run --quiet --wait --pipe --unit=vm8 --slice=machine-vm8.slice \
	-p Requires=ioasids@machine-vm8.slice.service \
	-p After=ioasids@machine-vm8.slice.service \
	-p "ExecStartPre=/bin/sh -c 'cat $MS/machine-vm8.slice/ioasids.max > /run/vm8-pre'" \
	/bin/sh -c "echo \$(cat /run/vm8-pre) \$(cat $MS/machine-vm8.slice/ioasids.max)"
systemctl stop machine-vm8.slice 2>/dev/null

# A kernel without the controller: ioasids@.service is skipped by its
# ConditionPathExists= on the root's ioasids.capacity, which is no
# failure, so the units that require it start and nothing is degraded.
# This kernel has the controller: the unit's own condition holds, and a
# drop-in that points the condition at a missing file stands in for a
# kernel without it.
check limit-unit-has-condition bash -c \
	"systemctl cat ioasids@.service | grep -qx 'ConditionPathExists=/sys/fs/cgroup/ioasids.capacity'"
check condition-holds-here eq yes \
	systemctl show -P ConditionResult ioasids@machine.slice.service
mkdir -p /etc/systemd/system/ioasids@machine-vm9.slice.service.d
printf '[Unit]\nConditionPathExists=\nConditionPathExists=/sys/fs/cgroup/no-such-file\n' \
	> /etc/systemd/system/ioasids@machine-vm9.slice.service.d/no-controller.conf
systemctl daemon-reload
check no-controller-vm-starts \
	systemd-run --quiet --unit=vm9 --slice=machine-vm9.slice \
	-p Requires=ioasids@machine-vm9.slice.service \
	-p After=ioasids@machine-vm9.slice.service sleep infinity
check no-controller-vm-active is_state active vm9.service
check no-controller-unit-skipped eq no \
	systemctl show -P ConditionResult ioasids@machine-vm9.slice.service
check no-controller-not-failed fails systemctl is-failed ioasids@machine-vm9.slice.service
check no-controller-nothing-failed fails \
	bash -c "systemctl list-units --failed --plain --no-legend | grep ioasids"
systemctl stop vm9.service machine-vm9.slice 2>/dev/null

# systemd's own traps, as the documentation says: it does not know the
# controller, so Delegate=ioasids is refused.
check delegate-ioasids-refused \
	fails systemd-run --quiet --wait -p Delegate=ioasids true
systemctl stop machine-vm4.slice user-65534.slice 2>/dev/null
done_testing
