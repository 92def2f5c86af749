#!/bin/bash
# ioasids-oci-hook with podman 4.3 as make install installed it (the hook
# and /usr/share/containers/oci/hooks.d/ioasids.json, which podman reads
# by default), crun, cgroupfs. make check runs it in its systemd boot
# with Debian's crun, before PID 1 is re-executed into the patched systemd
# (tests/harness/boot-jobs/systemd), where the hook alone enables the
# controller in podman's /libpod_parent; tests/userspace/run with the
# patched crun. A container run with --annotation ioasids.max=3 may
# allocate 3 PASIDs and is refused 4; a hook that fails (a bad value)
# keeps the container from starting. No registry: --rootfs, a directory
# with the host's /usr mounted read-only; podman's storage and state on
# tmpfs.
. "$(dirname "$0")/../integration/lib.bash"
tools=/usr/bin
echo +ioasids > $CG/cgroup.subtree_control

t=$(mktemp -d /tmp/podman.XXXXXX)
trap 'rm -rf "$t" 2>/dev/null' EXIT
podman_rootfs "$t" ioasids

# podman ARGS...: podman with everything on tmpfs, crun, cgroupfs, the
# default hooks directories.
podman() {
	command podman --root "$t/storage" --runroot "$t/run" --tmpdir "$t/tmp" \
		--storage-driver vfs --runtime crun --cgroup-manager cgroupfs \
		--events-backend none "$@"
}

# ctr ARGS...: podman run of the rootfs, /dev/ioasid and ioasidctl in it.
ctr() {
	podman run --rm --network none --rootfs --device /dev/ioasid \
		-v "$tools:/ioasids:ro" -v /usr:/usr:ro "$@"
}

base=$(cat $CG/ioasids.current)
check "podman is 4.3" says '^podman version 4\.3' podman --version

# The limit, read inside the container (no cgroup namespace: the path is
# the host's), then 3 PASIDs allocated and freed, then 4 refused.
cat > "$t/rootfs/job" <<'JOB'
cg=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)
echo "max=$(cat $cg/ioasids.max)"
/ioasids/ioasidctl alloc --count 3 > /dev/null && echo "3 fit"
/ioasids/ioasidctl alloc --count 4 || echo "4 refused"
JOB
ctr --annotation ioasids.max=3 --cgroupns host "$t/rootfs" sh /job > "$t/out" 2>&1
sed 's/^/# /' "$t/out"
check "ioasids.max=3: the container's cgroup has it" grep -qx 'max=3' "$t/out"
check "ioasids.max=3: 3 PASIDs fit" grep -qx '3 fit' "$t/out"
check "ioasids.max=3: 4 are refused" grep -qx '4 refused' "$t/out"
check "ioasids.max=3: by the container's ioasids.max" \
	grep -q 'refused by ioasids.max of cgroup /libpod_parent/libpod-' "$t/out"

# Fails closed: a value the hook refuses keeps the container from starting.
# crun names the hook that failed but drops its stderr, unless the
# annotation run.oci.hooks.stderr names a file for it.
check "ioasids.max=lots: the container does not start" bash -c \
	"$(declare -f podman ctr); t=$t tools=$tools
	 ! ctr --annotation ioasids.max=lots --annotation run.oci.hooks.stderr=$t/hook.err \
	   $t/rootfs sh -c 'echo started' > $t/out 2>&1;
	 cat $t/out; ! grep -q started $t/out && grep -q 'ioasids-oci-hook.*exit code: 1' $t/out"
check "ioasids.max=lots: the hook says why" \
	grep -q 'ioasids-oci-hook: annotation ioasids.max="lots": want a number' "$t/hook.err"
check "nothing left charged" wait_for "$base" $CG/ioasids.current
done_testing
