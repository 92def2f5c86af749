#!/bin/bash
# The patched crun 1.8.1 (make userspace) under the patched systemd as PID 1
# (tests/userspace/run): a container whose config.json sets
# linux.resources.unified {"ioasids.max": "3"} holds 3 PASIDs and is refused
# the fourth, with systemd's cgroup manager (a scope in machine.slice,
# which Debian's crun cannot limit at all) and with cgroupfs under a parent
# where nothing enabled the controller (Debian's crun does not start there).
. "$(dirname "$0")/../integration/lib.bash"
. "$(dirname "$0")/../integration/oci-bundle.bash"
# ioasidctl as make install put it in the guest's /usr, which the bundle
# mounts.
CTL_DIR=/usr/bin

check crun-is-patched bash -c 'readlink -f /usr/bin/crun | grep -q build/userspace'
base=$(cat $CG/ioasids.current)

# systemd's cgroup manager: crun asks systemd for a scope in
# machine.slice (crun-NAME.scope, one per container) and writes the
# unified key into it.
bundle machine.slice:crun:sd1 3 cat /sys/fs/cgroup/ioasids.max
check systemd-limit-written eq 3 crun --systemd-cgroup run -b "$bundle" sd1 </dev/null
bundle machine.slice:crun:sd2 3 /ioasids/ioasidctl alloc --count 3
check systemd-3-fit eq 3 bash -c "crun --systemd-cgroup run -b $bundle sd2 </dev/null | wc -l"
bundle machine.slice:crun:sd3 3 /ioasids/ioasidctl alloc --count 4
check systemd-4th-refused bash -c "! crun --systemd-cgroup run -b $bundle sd3 </dev/null > $bundle/out 2>&1;
	grep 'refused by ioasids.max of cgroup /' $bundle/out"
# The container is in systemd's scope for it: without a cgroup namespace,
# /proc/self/cgroup shows the whole path.
bundle machine.slice:crun:sd4 3 cat /proc/self/cgroup
/usr/bin/python3 - "$bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'cgroup']
json.dump(c, open(sys.argv[1], 'w'), indent=1)
PY
check systemd-in-scope bash -c "crun --systemd-cgroup run -b $bundle sd4 </dev/null |
	grep '^0::/machine.slice/crun-sd4.scope'"

# cgroupfs, under a parent where nothing enabled +ioasids: crun enables it.
mkdir -p $CG/oci-crun
check parent-without-ioasids fails grep -qw ioasids $CG/oci-crun/cgroup.subtree_control
bundle /oci-crun/ct 3 /ioasids/ioasidctl alloc --count 4
check cgroupfs-4th-refused bash -c "! crun run -b $bundle fs1 </dev/null > $bundle/out 2>&1;
	grep 'refused by ioasids.max of cgroup /' $bundle/out"
check cgroupfs-enabled-by-crun grep -qw ioasids $CG/oci-crun/cgroup.subtree_control
bundle /oci-crun/ct 3 /ioasids/ioasidctl alloc --count 3
check cgroupfs-3-fit eq 3 bash -c "crun run -b $bundle fs2 </dev/null | wc -l"
check nothing-left-charged eq "$base" cat $CG/ioasids.current
rmdir $CG/oci-crun/ct $CG/oci-crun 2>/dev/null
done_testing
