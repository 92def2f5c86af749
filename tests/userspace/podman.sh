#!/bin/bash
# podman 4.3 (Debian's) with the patched crun 1.8.1 under the patched
# systemd as PID 1 (make check's systemd boot after tests/userspace/reexec,
# or tests/userspace/run): with systemd's cgroup manager, the default for
# rootful podman on a systemd host, --cgroup-conf ioasids.max=3 puts the
# container in machine.slice/libpod-ID.scope with that limit, and the
# fourth allocation in it is refused. Debian's crun does not start such a
# container (see ioasids-ecosystem.rst). No registry: --rootfs, with the
# host's /usr mounted read-only; podman's storage and state on tmpfs. One
# container run: what it sees is printed by one job.
. "$(dirname "$0")/../integration/lib.bash"

check crun-is-patched bash -c 'readlink -f /usr/bin/crun | grep -q build/userspace'
t=$(mktemp -d /tmp/podman.XXXXXX)
trap 'rm -rf "$t"' EXIT
podman_rootfs "$t"
base=$(cat $CG/ioasids.current)

# The job: its cgroup (the host's cgroup namespace, so the whole path), that
# cgroup's limit, 3 PASIDs allocated and freed, then 4 asked; ioasidctl
# from make install in the host's /usr.
cat > "$t/rootfs/job" <<'JOB'
cg=$(sed -n "s/^0:://p" /proc/self/cgroup)
echo "cgroup=$cg"
echo "max=$(cat /sys/fs/cgroup$cg/ioasids.max)"
ioasidctl alloc --count 3 > /dev/null && echo "3 fit"
ioasidctl alloc --count 4 || echo "4 refused"
JOB
podman --root "$t/storage" --runroot "$t/run" --tmpdir "$t/tmp" \
	--storage-driver vfs --runtime /usr/bin/crun \
	--cgroup-manager systemd --events-backend none \
	run --rm --network none --device /dev/ioasid --cgroupns host \
	-v /usr:/usr:ro --cgroup-conf ioasids.max=3 --rootfs "$t/rootfs" sh /job \
	> "$t/out" 2>&1
sed 's/^/# /' "$t/out"
scope='/machine\.slice/libpod-[0-9a-f]+\.scope(/container)?'
check "the container is in a libpod scope in machine.slice" grep -qE "^cgroup=$scope\$" "$t/out"
check "its cgroup's ioasids.max is 3" grep -qx max=3 "$t/out"
check "3 PASIDs fit" grep -qx '3 fit' "$t/out"
check "the fourth is refused" grep -qx '4 refused' "$t/out"
check "by the scope's ioasids.max" grep -qE "refused by ioasids.max of cgroup $scope:" "$t/out"
check "nothing left charged" wait_for "$base" $CG/ioasids.current
done_testing
