#!/bin/bash
# OCI runtimes: a container whose config.json sets
# linux.resources.unified {"ioasids.max": "N"} may hold N PASIDs, no more.
#
# runc 1.1.5 enables every available controller on the container's cgroup
# path and writes any unified key. crun 1.8.1 writes any unified key but
# enables only the controllers it knows, so the container's parent cgroup
# must have +ioasids already: without it the container does not start, and
# the admin-side fix (ioasids-limit for the parent, which ioasids@.service
# runs for a slice under systemd) makes it work.
. "$(dirname "$0")/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
LIMIT=$top/systemd-units/ioasids-limit
echo +ioasids > $CG/cgroup.subtree_control

. "$(dirname "$0")/oci-bundle.bash"

# run RUNTIME NAME: run the bundle's container to its end; its status.
run() {
	"$1" run -b "$bundle" "$2" < /dev/null
}

for rt in runc crun; do
	parent=oci-$rt
	base=$(cat $CG/ioasids.current)
	if [ $rt = crun ]; then
		# Without +ioasids in the parent, crun cannot write the key.
		mkdir -p $CG/$parent
		bundle /$parent/ct 3 /ioasids/ioasidctl info
		check "$rt: without +ioasids in the parent, no container" \
			bash -c "if $rt run -b $bundle ct-nofix </dev/null \
				 2> $bundle/err; then exit 1; fi
				 cat $bundle/err >&2; grep -q ioasids $bundle/err"
		$rt delete -f ct-nofix 2>/dev/null
		# The fix: the controller enabled down to the parent, and
		# inside it, as ioasids@.service does for a slice.
		check "$rt: ioasids-limit enables it in the parent" \
			env IOASIDS_CGROUP=/$parent IOASIDS_MAX=max \
			sh "$LIMIT" $parent.slice
	fi
	check "$rt: config.json with unified ioasids.max" \
		bundle /$parent/ct 3 cat /sys/fs/cgroup/ioasids.max
	check "$rt: the container's ioasids.max is 3" eq 3 run $rt ct1
	bundle /$parent/ct 3 /ioasids/ioasidctl alloc --count 3
	check "$rt: 3 PASIDs fit" \
		eq 3 bash -c "$rt run -b $bundle ct2 </dev/null | wc -l"
	bundle /$parent/ct 3 /ioasids/ioasidctl alloc --count 4
	check "$rt: 4 do not, refused by the container's ioasids.max" \
		fails_with 1 "^ioasidctl: refused by ioasids\.max of cgroup (/|/$parent/ct): limit 3, 0 in use, 4 asked\$" \
		$rt run -b $bundle ct3 </dev/null
	check "$rt: nothing left charged" eq "$base" cat $CG/ioasids.current
	rmdir $CG/$parent/ct 2>/dev/null
	rmdir $CG/$parent 2>/dev/null
done
done_testing
