#!/bin/bash
# The patched systemd 252 as PID 1 (make userspace; tests/userspace/run
# boots it), patch 0003: one owner of ioasids.max. systemd writes it only
# for a unit that sets IOASIDsMax=, and takes back once what it wrote when
# the setting goes; every other writer's limit (ioasidctl set-max,
# ioasids@ from /etc/ioasids, make install's defaults, a runtime or the
# OCI hook writing into its scope) survives another unit starting in the
# same slice, daemon-reload and daemon-reexec. Every limit is checked by
# an allocation it refuses. (Apart from systemd.sh for time: make check
# gives each script 360 s, and a daemon-reexec alone takes 100-160 s in
# the guest under TCG.)
. "$(dirname "$0")/../integration/lib.bash"

check pid1-is-patched bash -c 'systemctl show -P Version | grep -q +ioasids'

# Each refusal below is asked in a new scope in the slice (or, for the
# runtime's scope, in the scope itself).
MS=$CG/machine.slice
# IOASIDsMax= from a drop-in, removed below.
mkdir -p /etc/systemd/system/machine-vmd.slice.d
printf '[Slice]\nIOASIDsMax=2\n' > /etc/systemd/system/machine-vmd.slice.d/50-limit.conf
systemctl daemon-reload
check vmd-start systemctl start machine-vmd.slice
check vmd-limit eq 2 cat $MS/machine-vmd.slice/ioasids.max
check ms-start systemctl start machine.slice
check ms-limit-unit wait_until active systemctl show -P ActiveState ioasids@machine.slice.service
# An administrator's limit on the real machine.slice.
check ms-set-max ioasidctl set-max machine.slice 7
# A VM's slice limited by ioasids@ (the ecosystem guide's route).
mkdir -p /etc/ioasids
printf 'IOASIDS_MAX=3\n' > /etc/ioasids/machine-vmt.slice.conf
check vmt-start systemctl start machine-vmt.slice ioasids@machine-vmt.slice.service
# The installed defaults: user.slice 4096, user-UID.slice 512.
check user-start systemctl start user-4711.slice
check user-limit-unit wait_until active systemctl show -P ActiveState ioasids@user.slice.service
check user-uid-limit-unit wait_until active systemctl show -P ActiveState ioasids@user-4711.slice.service
# What a runtime (runc's or crun's unified ioasids.max) or the OCI hook
# writes into a container's scope.
systemd-run --quiet --scope --unit=rt1 --slice=machine-vmt.slice sleep infinity >/dev/null 2>&1 &
check rt1-active wait_until active systemctl show -P ActiveState rt1.scope
check rt1-write bash -c "echo 2 > $MS/machine-vmt.slice/rt1.scope/ioasids.max"
# systemd's own: set-property.
check vmp-set-property systemctl set-property --runtime machine-vmp.slice IOASIDsMax=2
check vmp-start systemctl start machine-vmp.slice
# Nothing set, nothing held: no IOASIDs line in systemctl status.
check quiet-start systemctl start machine-vmq.slice
check status-quiet eq "" status_line machine-vmq.slice
check status-limit eq "0 (limit: 2)" status_line machine-vmp.slice

# limits_hold STEP: every limit above reads back and refuses one more.
limits_hold() {
	check $1-ms-limit eq 7 cat $MS/ioasids.max
	check $1-ms-refused refused '/machine\.slice' in_scope machine.slice ioasidctl alloc --count 8
	check $1-vmt-limit eq 3 cat $MS/machine-vmt.slice/ioasids.max
	check $1-vmt-refused refused /machine.slice/machine-vmt.slice \
		in_scope machine-vmt.slice ioasidctl alloc --count 4
	check $1-user-limit eq 4096 cat $CG/user.slice/ioasids.max
	check $1-user-uid-limit eq 512 cat $CG/user.slice/user-4711.slice/ioasids.max
	check $1-user-uid-refused refused /user.slice/user-4711.slice \
		in_scope user-4711.slice ioasidctl alloc --count 513
	check $1-rt1-limit eq 2 cat $MS/machine-vmt.slice/rt1.scope/ioasids.max
	check $1-rt1-refused refused /machine.slice/machine-vmt.slice/rt1.scope \
		in_cg machine.slice/machine-vmt.slice/rt1.scope ioasidctl alloc --count 3
	check $1-vmp-limit eq 2 cat $MS/machine-vmp.slice/ioasids.max
	check $1-vmp-refused refused /machine.slice/machine-vmp.slice \
		in_scope machine-vmp.slice ioasidctl alloc --count 3
}
limits_hold scope
# The drop-in goes: systemd takes back the limit it wrote, once.
rm -r /etc/systemd/system/machine-vmd.slice.d
check owner-reload systemctl daemon-reload
limits_hold reload
check vmd-reset eq max cat $MS/machine-vmd.slice/ioasids.max
check vmd-set-max ioasidctl set-max machine.slice/machine-vmd.slice 5
version=$(systemctl show -P Version)
check owner-reexec systemctl daemon-reexec
check owner-reexec-answers pid1_answers "$version"
limits_hold reexec
# ... and never again: not after the reexec, which carried that over.
check vmd-kept eq 5 cat $MS/machine-vmd.slice/ioasids.max
check vmd-refused refused /machine.slice/machine-vmd.slice in_scope machine-vmd.slice ioasidctl alloc --count 6

systemctl stop rt1.scope machine-vmt.slice machine-vmp.slice machine-vmd.slice \
	machine-vmq.slice user-4711.slice 2>/dev/null
rm -rf /run/systemd/system.control/machine-vmp.slice.d
rm -f /etc/ioasids/machine-vmt.slice.conf
ioasidctl set-max machine.slice max >/dev/null 2>&1
done_testing
