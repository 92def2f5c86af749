#!/bin/bash
# The patched systemd 252 as PID 1 of a container in a cgroup namespace of
# its own (podman --systemd=always --cgroupns private), the case the
# percentage of IOASIDsMax= must fail closed in: the container's PID 1 sees
# its scope as the root cgroup, which has no ioasids.capacity. A slice of
# the container with IOASIDsMax=25% gets 0, not "max", PID 1 says why, and
# a request from that slice's service is refused. (tests/userspace/
# systemd.sh tests the other outcomes with the host's PID 1.)
. "$(dirname "$0")/../integration/lib.bash"

t=$(mktemp -d /tmp/podman-systemd.XXXXXX)
name=ioasids-cgns-$$
pm() {
	podman --root "$t/storage" --runroot "$t/run" --tmpdir "$t/tmp" \
		--storage-driver vfs --runtime /usr/bin/crun \
		--cgroup-manager systemd --events-backend none "$@"
}
cleanup() {
	pm rm -f -t 0 "$name" > /dev/null 2>&1
	rm -rf "$t"
}
trap cleanup EXIT
podman_rootfs "$t" var run etc/systemd/system
base=$(cat $CG/ioasids.current)
# PID 1 of the container is the patched binary itself (the guest's
# /lib/systemd/systemd is a link into the build tree, mounted read-only).
pid1=$(readlink -f /lib/systemd/systemd)
check pid1-is-patched bash -c "grep -q build/userspace <<< '$pid1'"
build=$(cd "$(dirname "$pid1")/.." && pwd -P)

# A machine ID, so that this is not a first boot (systemd-firstboot would
# wait at the console for a key).
tr -d - < /proc/sys/kernel/random/uuid > "$t/rootfs/etc/machine-id"
u=$t/rootfs/etc/systemd/system
cat > "$u/vms-vm1.slice" <<'UNIT'
[Slice]
IOASIDsMax=25%
UNIT
cat > "$u/ioasids-holder.service" <<'UNIT'
[Service]
Slice=vms-vm1.slice
ExecStart=/bin/sleep infinity
UNIT
cat > "$u/ioasids-cgns.target" <<'UNIT'
[Unit]
Wants=ioasids-holder.service
UNIT

pm run -d --name "$name" --systemd=always --cgroupns private \
	--network none --device /dev/ioasid -t -v /usr:/usr:ro -v "$build:$build:ro" \
	--rootfs "$t/rootfs" "$pid1" --unit=ioasids-cgns.target \
	--log-target=console --log-level=info > "$t/id" 2> "$t/err"
check container-started test -s "$t/id"
sed 's/^/# /' "$t/err"

# The container's slice, as the host sees it, once its service runs.
holder() {
	find /sys/fs/cgroup/machine.slice -path '*/vms.slice/vms-vm1.slice/ioasids-holder.service' \
		-type d 2>/dev/null | head -1
}
svc=''
end=$((SECONDS + 120))
while [ -z "$svc" ] && [ $SECONDS -lt $end ]; do
	svc=$(holder)
	if [ -z "$svc" ] || ! grep -q . "$svc/cgroup.procs" 2>/dev/null; then
		svc=''
		sleep 1
	fi
done
check holder-running test -n "$svc"
pm logs "$name" > "$t/log" 2>&1
if [ -z "$svc" ]; then
	echo "# the container's PID 1 said:"
	sed 's/^/# /' "$t/log"
	_n=$((_n + 1)); _failed=$((_failed + 1))
	echo "not ok $_n the rest: no holder service"
else
	grep -F IOASID "$t/log" | sed 's/^/# /'
	sl=${svc%/ioasids-holder.service}
	# Inside, the container's scope is the root: its slice is
	# /vms.slice/..., and the root has no ioasids.capacity.
	check own-cgroup-namespace pm exec "$name" test -e /sys/fs/cgroup/vms.slice/vms-vm1.slice/ioasids.max
	check no-capacity-inside pm exec "$name" test ! -e /sys/fs/cgroup/ioasids.capacity
	check percent-fails-closed eq 0 cat "$sl/ioasids.max"
	check percent-said grep -qF "vms-vm1.slice: IOASIDsMax=25.00% cannot be resolved: the system's IOASID capacity (ioasids.capacity of the root cgroup) cannot be read" "$t/log"
	# A request from inside the container, in its cgroup namespace, from
	# the slice's service: refused by the slice's 0, which ioasidctl names
	# as the namespace shows it.
	check refused-in-container refused /vms.slice/vms-vm1.slice \
		pm exec "$name" bash -c 'echo $$ > /sys/fs/cgroup/vms.slice/vms-vm1.slice/ioasids-holder.service/cgroup.procs && exec ioasidctl alloc'
	# And from the host, into the same cgroup: the same limit.
	check refused-from-host refused "${sl#/sys/fs/cgroup}" \
		bash -c 'echo $$ > "$0/cgroup.procs" && exec ioasidctl alloc' "$svc"
fi
pm rm -f -t 0 "$name" > /dev/null 2>&1
check nothing-left-charged wait_for "$base" $CG/ioasids.current
done_testing
