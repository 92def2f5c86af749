#!/bin/bash
# The patched crun 1.8.1 (make userspace) under the patched systemd as PID 1
# (make check's systemd boot after tests/userspace/reexec, or
# tests/userspace/run): a container whose config.json sets
# linux.resources.unified {"ioasids.max": "3"} holds 3 PASIDs and is refused
# the fourth, with systemd's cgroup manager (a scope in machine.slice,
# which Debian's crun cannot limit at all) and with cgroupfs under a parent
# where nothing enabled the controller (Debian's crun does not start there).
# One container run each: what the container sees is printed by one job.
. "$(dirname "$0")/../integration/lib.bash"
. "$(dirname "$0")/../integration/oci-bundle.bash"
# ioasidctl as make install put it in the guest's /usr, which the bundle
# mounts.
CTL_DIR=/usr/bin

# The container's job: its cgroup (no cgroup namespace, so the whole
# path), that cgroup's limit, 3 PASIDs allocated and freed, then 4 asked.
job='cg=$(sed -n "s/^0:://p" /proc/self/cgroup)
echo "cgroup=$cg"
echo "max=$(cat /sys/fs/cgroup$cg/ioasids.max)"
/ioasids/ioasidctl alloc --count 3 > /dev/null && echo "3 fit"
/ioasids/ioasidctl alloc --count 4 || echo "4 refused"'

# job_bundle CGROUP-PATH: the bundle for the job, without a cgroup
# namespace.
job_bundle() {
	bundle "$1" 3 sh -c "$job" && nocgns
}

check crun-is-patched bash -c 'readlink -f /usr/bin/crun | grep -q build/userspace'
base=$(cat $CG/ioasids.current)

# systemd's cgroup manager: crun asks systemd for a scope in
# machine.slice (crun-NAME.scope, one per container) and writes the
# unified key into it.
job_bundle machine.slice:crun:sd
crun --systemd-cgroup run -b "$bundle" sd </dev/null > "$bundle/out" 2>&1
sed 's/^/# /' "$bundle/out"
sd='/machine\.slice/crun-sd\.scope(/container)?'
check systemd-in-scope grep -qE "^cgroup=$sd\$" "$bundle/out"
check systemd-limit-written grep -qx max=3 "$bundle/out"
check systemd-3-fit grep -qx '3 fit' "$bundle/out"
check systemd-4th-refused grep -qx '4 refused' "$bundle/out"
check systemd-refused-by-the-scope grep -qE "refused by ioasids.max of cgroup $sd:" "$bundle/out"

# cgroupfs, under a parent where nothing enabled +ioasids: crun enables it.
mkdir -p $CG/oci-crun
check parent-without-ioasids fails grep -qw ioasids $CG/oci-crun/cgroup.subtree_control
job_bundle /oci-crun/ct
crun run -b "$bundle" fs </dev/null > "$bundle/out" 2>&1
sed 's/^/# /' "$bundle/out"
check cgroupfs-enabled-by-crun grep -qw ioasids $CG/oci-crun/cgroup.subtree_control
check cgroupfs-limit-written grep -qx max=3 "$bundle/out"
check cgroupfs-3-fit grep -qx '3 fit' "$bundle/out"
check cgroupfs-4th-refused grep -qx '4 refused' "$bundle/out"
check cgroupfs-refused-by-the-container grep -q "refused by ioasids.max of cgroup /oci-crun/ct:" "$bundle/out"
check nothing-left-charged eq "$base" cat $CG/ioasids.current
rmdir $CG/oci-crun/ct $CG/oci-crun 2>/dev/null
done_testing
