#!/bin/bash
# libvirt, as the README and ioasids-ecosystem.rst tell a libvirt host to
# set it up: Debian's libvirtd (9.0) with systemd-machined, the qemu.conf
# piece make install installs (/usr/share/ioasids/libvirt/qemu.conf), and
# a partition slice limited by ioasids@ from /etc/ioasids (the route that
# works under Debian's systemd 252 and the patched one alike). A domain
# (type qemu, no disk, started paused: a QEMU process in its scope, which
# is all this needs; its CPU would only slow the guest) with the
# partition /machine/vm1 lands in machine-vm1.slice. With Debian's
# qemu.conf, its QEMU can neither see /dev/ioasid in its private /dev nor
# open the host's from its cgroup (libvirt's device program: EPERM); with
# the piece appended and libvirtd restarted, a process in QEMU's cgroup
# and mount namespace allocates up to the slice's limit and the next is
# refused by the slice. Then nothing is left: the domain undefined,
# libvirtd, its helpers and machined stopped, every PASID given back.
#
# Not in make check: 3 to 6 minutes under TCG (195 s on a quiet host,
# over 360 s beside a kernel build: libvirtd probes QEMU, each domain
# start takes 20 to 45 s), more than make check's budget has;
# tests/userspace/run T=libvirt runs it.
. "$(dirname "$0")/../integration/lib.bash"
MS=$CG/machine.slice
VM=$MS/machine-vm1.slice
acl=/usr/share/ioasids/libvirt/qemu.conf
qconf=/etc/libvirt/qemu.conf
xml=/run/ioasids-libvirt-vm1.xml
fifo=/run/ioasids-libvirt-hold
saved=/run/ioasids-qemu.conf.orig
units=(libvirtd.service libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket
	virtlogd.service virtlogd.socket virtlogd-admin.socket
	virtlockd.service virtlockd.socket virtlockd-admin.socket
	systemd-machined.service)
base=$(cat "$CG"/ioasids.current)
start=$SECONDS

# On any exit, what the checks at the end do, quietly (after a failed
# check, the next test and the boot's end see no leftover of this one);
# nothing when they ran and passed (each command costs seconds here).
finished=''
cleanup() {
	# shellcheck disable=SC2154 # lib.bash's count of failed checks
	[ -n "$finished" ] && [ "$_failed" = 0 ] && return
	if systemctl -q is-active libvirtd.service; then
		virsh -q destroy vm1
		virsh -q undefine vm1
	fi
	systemctl stop "${units[@]}" machine-vm1.slice
	[ -e "$saved" ] && cp "$saved" "$qconf"
	rm -f /etc/ioasids/machine-vm1.slice.conf "$xml" "$saved" "$fifo"
} >/dev/null 2>&1
trap cleanup EXIT

# qemu_pid: the domain's QEMU (libvirt's pid file).
qemu_pid() {
	cat /run/libvirt/qemu/vm1.pid
}

# qemu_cg: the cgroup of the domain's QEMU, below the root.
qemu_cg() {
	sed -n 's|^0::/||p' "/proc/$(qemu_pid)/cgroup"
}

# in_qemu COMMAND...: COMMAND in QEMU's cgroup and mount namespace (where
# /dev is the domain's private one).
in_qemu() {
	# shellcheck disable=SC2016 # $$ and $@ are the inner bash's
	nsenter -t "$(qemu_pid)" -m -- \
		bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/$(qemu_cg)" "$@"
}

# in_qemu_cg COMMAND...: COMMAND in QEMU's cgroup, with the host's /dev.
in_qemu_cg() {
	in_cg "$(qemu_cg)" "$@"
}

# is_scope ID: QEMU's cgroup is in the scope machined made for domain
# number ID in machine-vm1.slice (libvirt's own cgroups below it).
is_scope() {
	local cg
	cg=$(qemu_cg) || return 1
	case $cg in
	"machine.slice/machine-vm1.slice/machine-qemu\\x2d$1\\x2dvm1.scope" | \
	"machine.slice/machine-vm1.slice/machine-qemu\\x2d$1\\x2dvm1.scope/"*) ;;
	*) echo "QEMU's cgroup: $cg"; return 1 ;;
	esac
}

# vm_id: the number libvirt gave the running domain.
vm_id() {
	virsh domid vm1 | sed -n '/^[0-9]/p'
}

# The domain: no disk, no network, no display; 32 MiB.
cat > "$xml" <<'XML'
<domain type='qemu'>
  <name>vm1</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <resource>
    <partition>/machine/vm1</partition>
  </resource>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML

# /dev/ioasid for the kvm group, which Debian's libvirt-qemu user (QEMU's)
# is in: what the installed udev rule gives it. This guest has no udev
# (make deps does not install it): the same by hand.
check dev-to-kvm bash -c 'chgrp kvm /dev/ioasid && chmod 0660 /dev/ioasid'
check dev-for-kvm eq "kvm 660" stat -c '%G %a' /dev/ioasid
check qemu-user-in-kvm bash -c 'id -nG libvirt-qemu | grep -qw kvm'

# The limit first, then libvirtd and the domain (README).
mkdir -p /etc/ioasids
echo "IOASIDS_MAX=3" > /etc/ioasids/machine-vm1.slice.conf
check acl-installed grep -qF '"/dev/ioasid"' "$acl"
check debian-qemu-conf-has-no-acl fails grep -q '^[[:space:]]*cgroup_device_acl' "$qconf"
check vm1-limit-unit systemctl start ioasids@machine-vm1.slice.service
check vm1-limit eq 3 cat "$VM"/ioasids.max
t=$SECONDS
check libvirtd-start systemctl start libvirtd.service
check define virsh -q define "$xml"
echo "# libvirtd started and the domain defined in $((SECONDS - t)) s"

# Debian's qemu.conf, no /dev/ioasid in the ACL: the failing case.
t=$SECONDS
check start-without-acl virsh -q start --paused vm1
echo "# domain started in $((SECONDS - t)) s"
id1=$(vm_id)
check scope-without-acl is_scope "$id1"
echo "# QEMU's cgroup: $(qemu_cg)"
check private-dev-has-no-ioasid fails_with 3 'no /dev/ioasid' in_qemu ioasidctl alloc
check device-program-refuses fails_with 3 'cannot open /dev/ioasid: Operation not permitted' \
	in_qemu_cg ioasidctl alloc
check destroy-without-acl virsh -q destroy vm1

# With the piece the package ships appended, as the README says.
cp "$qconf" "$saved"
cat "$acl" >> "$qconf"
check libvirtd-restart systemctl restart libvirtd.service
check start-with-acl virsh -q start --paused vm1
id2=$(vm_id)
check scope-with-acl is_scope "$id2"
# libvirt's copy of the node keeps its group and mode; QEMU runs as
# libvirt-qemu, in the kvm group.
check private-dev-has-ioasid eq "$(stat -c '%G %a %t:%T' /dev/ioasid)" \
	in_qemu stat -c '%G %a %t:%T' /dev/ioasid
check qemu-runs-as-libvirt-qemu eq "$(id -u libvirt-qemu)" \
	stat -c %u "/proc/$(qemu_pid)"
check qemu-user-opens in_qemu setpriv --reuid=libvirt-qemu --regid=libvirt-qemu \
	--init-groups ioasidctl alloc
check vm1-3-ok in_qemu ioasidctl alloc --count 3
check vm1-4-refused refused '/machine\.slice/machine-vm1\.slice' \
	in_qemu ioasidctl alloc --count 4
# Held (until its standard input, a fifo, closes): the slice counts the
# domain's 3, and the next one is refused.
mkfifo "$fifo"
in_qemu ioasidctl alloc --count 3 --hold < "$fifo" >/dev/null 2>&1 &
holder=$!
exec 7> "$fifo"
check vm1-holds-3 wait_for 3 "$VM"/ioasids.current
check vm1-next-refused refused '/machine\.slice/machine-vm1\.slice' in_qemu ioasidctl alloc
check vm1-refusals-counted eq "max 2" grep "^max " "$VM"/ioasids.events
exec 7>&-
wait "$holder"
check holder-exits eq 0 echo $?
check vm1-returned wait_for 0 "$VM"/ioasids.current

# Nothing left: the domain, libvirtd and its helpers, the slice.
check destroy virsh -q destroy vm1
check undefine virsh -q undefine vm1
check no-domain eq "" virsh -q list --all --name
check no-machine eq "" machinectl list --no-legend
check libvirtd-stop systemctl stop "${units[@]}"
check no-qemu fails pgrep -x qemu-system-x86
check slice-stop systemctl stop machine-vm1.slice
check limit-unit-stops wait_until inactive systemctl is-active ioasids@machine-vm1.slice.service
check all-returned wait_for "$base" "$CG"/ioasids.current
cp "$saved" "$qconf"
rm -f /etc/ioasids/machine-vm1.slice.conf "$xml" "$saved" "$fifo"
finished=1
echo "# libvirt test: $((SECONDS - start)) s"
done_testing
