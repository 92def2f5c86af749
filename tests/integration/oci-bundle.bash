# An OCI bundle for the runc and crun tests: the host's /usr and the
# project's ioasidctl read-only, /dev/ioasid, and linux.resources.unified
# {"ioasids.max": MAX}. Sourced after lib.bash; sets $bundle.
CTL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/tools

bundle=$(mktemp -d /tmp/oci.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle"/rootfs/{proc,sys,dev,tmp,usr,ioasids}
for d in bin lib lib64 sbin; do
	ln -s "usr/$d" "$bundle/rootfs/$d"
done

# bundle CGROUP-PATH MAX ARGS...: config.json from `runc spec` for a
# container in CGROUP-PATH (a path, or systemd's slice:prefix:name) that
# runs ARGS.
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

# nocgns: the bundle without a cgroup namespace, so that /proc/self/cgroup
# shows the whole path.
nocgns() {
	/usr/bin/python3 - "$bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'cgroup']
json.dump(c, open(sys.argv[1], 'w'), indent=1)
PY
}
