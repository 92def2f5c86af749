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
CTL_DIR=$top/build/tools
LIMIT=$top/systemd-units/ioasids-limit
echo +ioasids > $CG/cgroup.subtree_control

bundle=$(mktemp -d /tmp/oci.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle"/rootfs/{proc,sys,dev,tmp,usr,ioasids}
for d in bin lib lib64 sbin; do
	ln -s "usr/$d" "$bundle/rootfs/$d"
done

# bundle CGROUP-PATH MAX ARGS...: config.json from `runc spec`, with the
# host's /usr and ioasidctl read-only, /dev/ioasid, and ioasids.max MAX.
bundle() {
	local path=$1 max=$2
	shift 2
	rm -f "$bundle/config.json"
	(cd "$bundle" && runc spec) || return 1
	/usr/bin/python3 - "$bundle/config.json" "$path" "$max" \
		"$(stat -c '%t %T' /dev/ioasid)" "$CTL_DIR" "$@" <<'PY'
import json, sys
conf, path, limit, devno, tools, args = sys.argv[1], sys.argv[2], \
    sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
major, minor = (int(x, 16) for x in devno.split())
c = json.load(open(conf))
c['process'].update(terminal=False, args=args)
c['root'] = {'path': 'rootfs', 'readonly': True}
c['mounts'] += [
    {'destination': '/usr', 'type': 'bind', 'source': '/usr',
     'options': ['rbind', 'ro']},
    {'destination': '/ioasids', 'type': 'bind', 'source': tools,
     'options': ['rbind', 'ro']},
]
lx = c['linux']
lx['cgroupsPath'] = path
lx['devices'] = [{'path': '/dev/ioasid', 'type': 'c', 'major': major,
                  'minor': minor, 'fileMode': 0o660, 'uid': 0, 'gid': 0}]
lx.setdefault('resources', {})
lx['resources']['devices'] = [
    {'allow': False, 'access': 'rwm'},
    {'allow': True, 'type': 'c', 'major': major, 'minor': minor,
     'access': 'rw'}]
lx['resources']['unified'] = {'ioasids.max': limit}
json.dump(c, open(conf, 'w'), indent=1)
PY
}

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
			bash -c "! $rt run -b $bundle ct-nofix </dev/null \
				 2> $bundle/err; cat $bundle/err >&2;
				 grep -q ioasids $bundle/err"
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
		bash -c "! $rt run -b $bundle ct3 </dev/null > $bundle/out;
			 grep 'refused by ioasids.max of cgroup /' $bundle/out"
	check "$rt: nothing left charged" eq "$base" cat $CG/ioasids.current
	rmdir $CG/$parent/ct 2>/dev/null
	rmdir $CG/$parent 2>/dev/null
done
done_testing
