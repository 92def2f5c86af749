#!/bin/bash
# ioasids-oci-hook (build/tools) run by Debian's runc 1.1.5 and crun 1.8.1
# as a createRuntime hook in config.json, with the annotation
# ioasids.max=3 and no unified key: the container's cgroup gets the limit
# from the hook, the container allocates 3 PASIDs and is refused 4; with
# ioasids.max=lots the hook fails and the container does not start. The
# parent cgroup has no +ioasids beforehand: the hook enables it (crun
# alone would not). podman reading the installed hooks.d JSON is
# tests/userspace/podman-hook.sh (too slow under TCG for make check).
. "$(dirname "$0")/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
echo +ioasids > $CG/cgroup.subtree_control
. "$(dirname "$0")/oci-bundle.bash"

# hooked PATH VALUE ARGS...: the bundle for a container in cgroup PATH
# running ARGS, without the unified key, with the hook at createRuntime
# and the annotation ioasids.max=VALUE.
hooked() {
	local path=$1 value=$2
	shift 2
	bundle "$path" 0 "$@" || return 1
	/usr/bin/python3 - "$bundle/config.json" "$top/build/tools/ioasids-oci-hook" \
		"$value" <<'PY'
import json, sys
conf, hook, value = sys.argv[1:]
c = json.load(open(conf))
del c['linux']['resources']['unified']
c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'cgroup']
c.setdefault('annotations', {})['ioasids.max'] = value
c['hooks'] = {'createRuntime': [{'path': hook}]}
json.dump(c, open(conf, 'w'), indent=1)
PY
}

job='cg=$(sed -n "s/^0:://p" /proc/self/cgroup);
     echo "max=$(cat /sys/fs/cgroup$cg/ioasids.max)";
     /ioasids/ioasidctl alloc --count 3 >/dev/null && echo "3 fit";
     /ioasids/ioasidctl alloc --count 4 || echo "4 refused"'
for rt in runc crun; do
	parent=hook-$rt
	base=$(cat $CG/ioasids.current)
	mkdir -p $CG/$parent
	check "$rt: no +ioasids in the parent yet" \
		fails grep -qw ioasids $CG/$parent/cgroup.subtree_control
	hooked /$parent/ct 3 sh -c "$job"
	$rt run -b "$bundle" h1 < /dev/null > "$bundle/out" 2>&1
	sed 's/^/# /' "$bundle/out"
	check "$rt: the hook set the container's ioasids.max to 3" grep -qx 'max=3' "$bundle/out"
	check "$rt: 3 PASIDs fit" grep -qx '3 fit' "$bundle/out"
	check "$rt: 4 are refused by the container's limit" bash -c \
		"grep -qx '4 refused' $bundle/out &&
		 grep -q 'refused by ioasids.max of cgroup /$parent/ct' $bundle/out"
	check "$rt: +ioasids on in the parent (crun: by the hook; runc does it too)" \
		grep -qw ioasids $CG/$parent/cgroup.subtree_control
	hooked /$parent/ct lots sh -c 'echo started'
	check "$rt: ioasids.max=lots: the container does not start" bash -c \
		"! $rt run -b $bundle h2 < /dev/null > $bundle/out 2>&1;
		 cat $bundle/out; ! grep -q started $bundle/out"
	$rt delete -f h2 > /dev/null 2>&1
	if [ $rt = runc ]; then
		# runc shows the hook's stderr in its error; crun drops it.
		check "$rt: the hook's reason in runc's error" \
			grep -q 'ioasids.max=\\\?"lots\\\?": want a number' "$bundle/out"
	fi
	check "$rt: nothing left charged" eq "$base" cat $CG/ioasids.current
	rmdir $CG/$parent/ct $CG/$parent 2>/dev/null
done
done_testing
