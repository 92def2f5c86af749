#!/bin/bash
# ioasidctl on fabricated files: a cgroup tree (IOASIDCTL_CGROUP_ROOT) and a
# proc tree (IOASIDCTL_PROC_ROOT) made up in a temporary directory, so that
# what it parses and refuses is checked with exact values, on the host (by
# tests/harness/targets) as in the guest. It writes nothing else.
. "$(dirname "$0")/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
CTL=${IOASIDCTL:-$top/build/tools/ioasidctl}
fake=$(mktemp -d /tmp/ioasidctl-fake.XXXXXX)
trap 'rm -rf "$fake"' EXIT
export IOASIDCTL_CGROUP_ROOT=$fake/cg IOASIDCTL_PROC_ROOT=$fake/proc

# status WANT COMMAND...: COMMAND exits with WANT.
status() {
	local want=$1 rc
	shift
	"$@" >/dev/null 2>&1
	rc=$?
	[ $rc -eq "$want" ] || { echo "exit $rc, want $want"; return 1; }
}

# A cgroup: fakecg PATH CURRENT MAX PEAK (MAX "" for the root).
fakecg() {
	local d=$fake/cg$1
	mkdir -p "$d"
	echo "$2" > "$d/ioasids.current"
	[ -n "$3" ] && echo "$3" > "$d/ioasids.max"
	echo "$4" > "$d/ioasids.peak"
	printf 'max 0\ncapacity 0\n' > "$d/ioasids.events"
	[ -n "$3" ] && printf 'max 0\ncapacity 0\n' > "$d/ioasids.events.local"
	printf 'sets 0\nkernel 0\nsva 0\nfd %s\n' "$2" > "$d/ioasids.stat"
}
fakecg "" 5 "" 9
echo 'cpu memory pids ioasids' > $fake/cg/cgroup.controllers
echo 'ioasids' > $fake/cg/cgroup.subtree_control
echo 1048575 > $fake/cg/ioasids.capacity
fakecg /a 2 max 2
fakecg /a/b 2 4 2
mkdir -p $fake/cg/off/inner $fake/outside
# What a path that leaves the tree would reach.
echo max > $fake/outside/ioasids.max
ln -s $fake/outside $fake/cg/a/link

check "set-max ../outside: refused, exit 2" status 2 $CTL set-max ../outside 3
check "set-max a/../../outside: refused, exit 2" status 2 $CTL set-max a/../../outside 3
check "set-max ROOT/../outside: refused, exit 2" \
	status 2 $CTL set-max "$fake/cg/../outside" 3
check "set-max ../../x: refused, exit 2" status 2 $CTL set-max ../../x 3
check "set-max through a symlink out of the tree: refused, exit 2" \
	status 2 $CTL set-max a/link 3
check "set-max: nothing written outside the tree" \
	eq max cat $fake/outside/ioasids.max
check "set-max a/../a/b (inside the tree) writes" $CTL set-max a/../a/b 3
check "and it reads back" eq 3 cat $fake/cg/a/b/ioasids.max

rm -rf "$fake"
trap - EXIT
done_testing
