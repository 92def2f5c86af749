#!/bin/bash
# podman 4.3 (Debian's) with the patched crun 1.8.1 under the patched
# systemd as PID 1 (tests/userspace/run): with systemd's cgroup manager,
# the default for rootful podman on a systemd host, --cgroup-conf
# ioasids.max=3 puts the container in machine.slice/libpod-ID.scope with
# that limit, and the fourth allocation in it is refused. Debian's crun
# does not start such a container (see ioasids-ecosystem.rst). No
# registry: --rootfs, with the host's /usr mounted read-only; podman's
# storage and state on tmpfs.
. "$(dirname "$0")/../integration/lib.bash"

check crun-is-patched bash -c 'readlink -f /usr/bin/crun | grep -q build/userspace'
t=$(mktemp -d /tmp/podman.XXXXXX)
trap 'rm -rf "$t"' EXIT
podman_rootfs "$t"

# ctr ARGS...: podman run of the rootfs with /dev/ioasid, storage on
# tmpfs, crun, systemd as cgroup manager; ioasidctl from make install.
ctr() {
	podman --root "$t/storage" --runroot "$t/run" --tmpdir "$t/tmp" \
		--storage-driver vfs --runtime /usr/bin/crun \
		--cgroup-manager systemd --events-backend none \
		run --rm --network none --device /dev/ioasid \
		-v /usr:/usr:ro --cgroup-conf ioasids.max=3 "$@"
}
base=$(cat $CG/ioasids.current)

check "the container is in a libpod scope in machine.slice" bash -c \
	"$(declare -f ctr); t=$t; ctr --cgroupns host --rootfs $t/rootfs cat /proc/self/cgroup |
	 grep -E '^0::/machine.slice/libpod-[0-9a-f]+\\.scope(/container)?\$'"
check "its cgroup's ioasids.max is 3" eq 3 bash -c \
	"$(declare -f ctr); t=$t; ctr --cgroupns host --rootfs $t/rootfs \
	 sh -c 'cat /sys/fs/cgroup\$(sed -n \"s/^0:://p\" /proc/self/cgroup)/ioasids.max'"
check "3 PASIDs fit" eq 3 bash -c \
	"$(declare -f ctr); t=$t; ctr --rootfs $t/rootfs ioasidctl alloc --count 3 | wc -l"
check "the fourth is refused" bash -c \
	"$(declare -f ctr); t=$t; ! ctr --rootfs $t/rootfs ioasidctl alloc --count 4 > $t/out 2>&1;
	 cat $t/out; grep -q 'refused by ioasids.max of cgroup /' $t/out"
check "nothing left charged" wait_for "$base" $CG/ioasids.current
done_testing
