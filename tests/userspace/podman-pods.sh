#!/bin/bash
# ioasids-oci-hook's ioasids.pod-max with podman 4.3 (cgroupfs manager,
# the hook and its hooks.d JSON as make install installed them in the
# guest), under the userspace boot (tests/userspace/run; not in make check:
# six podman runs, each seconds under TCG). The hook lowers the
# limit of the parent of the container's cgroup only if it is named as a
# pod's is, and never raises it.
. "$(dirname "$0")/../integration/lib.bash"
tools=/usr/bin
t=$(mktemp -d /tmp/podman.XXXXXX)
trap 'rm -rf "$t" 2>/dev/null' EXIT
podman_rootfs "$t" ioasids
check "the hook is installed" test -x /usr/lib/ioasids/ioasids-oci-hook
check "its hooks.d JSON is installed" test -s /usr/share/containers/oci/hooks.d/ioasids.json

# podman ARGS...: podman with everything on tmpfs, cgroupfs, the default
# hooks directories.
podman() {
	command podman --root "$t/storage" --runroot "$t/run" --tmpdir "$t/tmp" \
		--storage-driver vfs --runtime crun --cgroup-manager cgroupfs \
		--events-backend none "$@"
}
base=$(cat $CG/ioasids.current)

# ioasids.pod-max: the limit of the parent of the container's cgroup, if
# that is named as a pod's is. A podman pod without an infra container
# (no pause image here) has no cgroup of its own under cgroupfs: its
# containers' parent is /libpod_parent, all containers', and the hook
# refuses, so the container does not start.
check "pod create" podman pod create --infra=false --name p1
check "pod-max in a pod without a cgroup: the container does not start" bash -c \
	"$(declare -f podman); t=$t tools=$tools
	 ! podman run --rm --pod p1 --network none --rootfs \
	   --annotation ioasids.pod-max=3 --annotation run.oci.hooks.stderr=$t/hook.err \
	   -v /usr:/usr:ro $t/rootfs sh -c 'echo started' > $t/out 2>&1;
	 cat $t/out; ! grep -q started $t/out"
check "pod-max in a pod without a cgroup: the hook says why" \
	grep -q 'parent cgroup /libpod_parent is not a pod' "$t/hook.err"
check "pod-max in a pod without a cgroup: /libpod_parent unlimited" \
	eq max cat $CG/libpod_parent/ioasids.max
podman pod rm -f -t 0 p1 > /dev/null 2>&1

# Kubernetes' cgroupfs layout, /kubepods/burstable/pod<UID>/<container>,
# made with --cgroup-parent: one container holds 2 of the pod's 3, another
# is refused 2 more by the pod's limit, and gets 1; one asking for 8, more
# than the pod's 3, does not start.
P=/kubepods/burstable/pod$(cat /proc/sys/kernel/random/uuid)
# kctr ARGS...: a container in that pod with ioasids.pod-max=3.
kctr() {
	podman run --network none --rootfs --device /dev/ioasid --cgroup-parent $P \
		-v "$tools:/ioasids:ro" -v /usr:/usr:ro --annotation ioasids.pod-max=3 "$@"
}
check "pod-max=3: first container holds 2" kctr -d --name c1 "$t/rootfs" \
	sh -c 'sleep 1000000 | /ioasids/ioasidctl alloc --count 2 --hold'
check "pod-max=3: the pod's cgroup has it" eq 3 cat $CG$P/ioasids.max
check "pod-max=3: the pod holds 2" wait_for 2 $CG$P/ioasids.current
check "pod-max=3: 2 more refused in the pod" bash -c \
	"$(declare -f podman kctr); t=$t tools=$tools P=$P
	 ! kctr --rm $t/rootfs /ioasids/ioasidctl alloc --count 2 > $t/out 2>&1;
	 cat $t/out; grep -q 'refused by .*ioasids.max' $t/out"
check "pod-max=3: refused by the pod's limit" eq "max 1" grep '^max ' $CG$P/ioasids.events.local
check "pod-max=3: 1 more fits" bash -c \
	"$(declare -f podman kctr); t=$t tools=$tools P=$P
	 kctr --rm $t/rootfs /ioasids/ioasidctl alloc --count 1"
check "pod-max=8 in the pod of 3: the container does not start" bash -c \
	"$(declare -f podman); t=$t tools=$tools P=$P
	 ! podman run --rm --network none --rootfs --cgroup-parent $P -v /usr:/usr:ro \
	   --annotation ioasids.pod-max=8 --annotation run.oci.hooks.stderr=$t/hook8.err \
	   $t/rootfs sh -c 'echo started' > $t/out 2>&1;
	 cat $t/out; ! grep -q started $t/out"
check "pod-max=8 in the pod of 3: the hook says why" \
	grep -q 'ioasids.pod-max="8" is above ioasids.max of .*: 3' "$t/hook8.err"
check "pod-max=8 in the pod of 3: the pod keeps 3" eq 3 cat $CG$P/ioasids.max
podman rm -f -t 0 c1 > /dev/null 2>&1
check "nothing left charged" wait_for "$base" $CG/ioasids.current
done_testing
