#!/bin/bash
# runc 1.1.5 with its systemd cgroup driver (--systemd-cgroup) under
# Debian's systemd 252 as PID 1, which does not know the controller: runc
# asks systemd for a scope (runc-NAME.scope in the slice of cgroupsPath
# "SLICE:runc:NAME"), then enables every controller of the root's
# cgroup.controllers on the path down to it itself, ioasids included, and
# writes the unified key ioasids.max into the scope's cgroup. So a
# container with unified {"ioasids.max": "3"} holds 3 PASIDs and is
# refused the fourth, in machine.slice (where the installed drop-in
# enabled the controller) and in a slice where nothing had.
. "$(dirname "$0")/../lib.bash"
. "$(dirname "$0")/../oci-bundle.bash"
# ioasidctl as make install put it in the guest's /usr/bin.
CTL_DIR=/usr/bin
base=$(cat $CG/ioasids.current)

# run NAME: runc with the systemd driver, the bundle's container to its
# end; its status.
run() {
	runc --systemd-cgroup run -b "$bundle" "$1" < /dev/null
}

# One container per slice (each runc run costs seconds under TCG): it
# prints its cgroup and that cgroup's ioasids.max, allocates 3 PASIDs
# (freed when ioasidctl exits), then asks for 4.
job='cg=$(sed -n "s/^0:://p" /proc/self/cgroup); echo "cg=$cg";
     echo "max=$(cat /sys/fs/cgroup$cg/ioasids.max)";
     /ioasids/ioasidctl alloc --count 3 >/dev/null && echo "3 fit";
     /ioasids/ioasidctl alloc --count 4 || echo "4 refused"'
for slice in machine.slice runctest.slice; do
	if [ $slice = runctest.slice ]; then
		check "$slice: does not exist yet" fails test -d $CG/$slice
	fi
	bundle $slice:runc:r1 3 sh -c "$job"
	nocgns
	run r1 > "$bundle/out" 2>&1
	sed 's/^/# /' "$bundle/out"
	check "$slice: the container runs in runc-r1.scope" \
		grep -qx "cg=/$slice/runc-r1.scope" "$bundle/out"
	check "$slice: the scope's ioasids.max is 3" grep -qx 'max=3' "$bundle/out"
	check "$slice: 3 PASIDs fit" grep -qx '3 fit' "$bundle/out"
	check "$slice: 4 are refused by the scope's ioasids.max" bash -c \
		"grep -qx '4 refused' $bundle/out &&
		 grep -q 'refused by ioasids.max of cgroup /$slice/runc-r1.scope' $bundle/out"
	check "$slice: +ioasids on in the slice" grep -qw ioasids $CG/$slice/cgroup.subtree_control
done
# systemd 252 does not take the controller away again: a daemon-reload
# realizes the slice's cgroup anew, and +ioasids stays.
check "daemon-reload" systemctl daemon-reload
check "runctest.slice: +ioasids still on after daemon-reload" \
	grep -qw ioasids $CG/runctest.slice/cgroup.subtree_control
systemctl stop runctest.slice 2>/dev/null
check "nothing left charged" wait_for "$base" $CG/ioasids.current
done_testing
