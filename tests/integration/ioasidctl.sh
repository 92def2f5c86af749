#!/bin/bash
# ioasidctl: what it prints, what it refuses and how it exits.
. "$(dirname "$0")/lib.bash"
CTL=$(cd "$(dirname "$0")/../.." && pwd)/build/tools/ioasidctl
echo +ioasids > $CG/cgroup.subtree_control
mkdir -p $CG/ctl_t

# out COMMAND...: only COMMAND's standard output; err: only its stderr.
out() { "$@" 2>/dev/null; true; }
err() { "$@" 2>&1 >/dev/null; true; }

check "--help documents every command" \
	says 'alloc \[--count N\].*' $CTL --help
check "--help names the errors" says 'EDQUOT' $CTL --help
check "--help documents the exit statuses" \
	eq "0 1 2 3" bash -c "$CTL --help | sed -n '/^Exit status:/,/^\$/p' | grep -oE '^  [0-9]' | xargs"
check "--version: the Makefile's VERSION" \
	eq "ioasidctl $(sed -n 's/^VERSION := //p' "$(dirname "$CTL")/../../tools/Makefile")" $CTL --version
for c in alloc info tree ps top set-max metrics; do
	check "$c --help: its usage on stdout, exit 0" \
		ok_says "^Usage: ioasidctl $c" $CTL $c --help
	check "help $c is $c --help" eq "$($CTL $c --help)" $CTL help $c
done
check "help of no command: exit 2" status 2 $CTL help frobnicate
check "no command: usage on stderr, exit 2" status 2 $CTL
check "unknown command: exit 2" status 2 $CTL frobnicate
check "alloc --count 0: exit 2" status 2 $CTL alloc --count 0
check "alloc --range without a colon: exit 2" status 2 $CTL alloc --range 5
check "alloc --range MIN > MAX: exit 2" status 2 $CTL alloc --range 9:5

check "alloc prints one ID" eq 1 bash -c "$CTL alloc | wc -l"
check "alloc --count 3 --range 100:102 prints 100 101 102" \
	eq "100 101 102" bash -c "$CTL alloc --count 3 --range 100:102 | xargs"
check "IDs are freed when it exits" eq 0 cat $CG/ioasids.current

echo 2 > $CG/ctl_t/ioasids.max
check "a cgroup limit: the line on stderr names the cgroup and its limit" \
	eq 'ioasidctl: refused by ioasids.max of cgroup /ctl_t: limit 2, 0 in use, 3 asked' \
	err in_cg ctl_t $CTL alloc --count 3
check "a cgroup limit: nothing on stdout" eq '' out in_cg ctl_t $CTL alloc --count 3
check "a cgroup limit: exit 1" status 1 in_cg ctl_t $CTL alloc --count 3
check "the three refusals counted in ctl_t's events.local" \
	eq "3 0" bash -c "$CTL tree -o LOCAL_MAX,LOCAL_CAPACITY /ctl_t | tail -n 1 | xargs"
check "the quota of the file: named as such" \
	says "^ioasidctl: refused by this file's quota \(1, 0 held\)$" \
	$CTL alloc --quota 1 --count 2
check "a range with no room: named as the namespace" \
	says '^ioasidctl: refused by the namespace: no 3 free IDs in \[5, 6\]$' \
	$CTL alloc --count 3 --range 5:6
check "refusals leave nothing charged" eq 0 cat $CG/ioasids.current

# --hold: kept until standard input closes.
mkfifo /tmp/ctl_fifo
# Opened read-write, the FIFO does not block; the child must not inherit
# that writer, or its standard input never closes.
exec 5<> /tmp/ctl_fifo
spawn_in_cg ctl_t $CTL alloc --count 2 --hold < /tmp/ctl_fifo > /tmp/ctl_out 5>&-
pid=$!
wait_for 2 $CG/ctl_t/ioasids.current
check "--hold keeps the IDs" eq 2 cat $CG/ctl_t/ioasids.current
check "tree -o: ioasids.stat's keys while they are held" \
	eq "/ctl_t 2 1 2 0 0" bash -c "$CTL tree -o PATH,CURRENT,SETS,FD,KERNEL,SVA /ctl_t | tail -n 1 | xargs"
check "tree -J while they are held" eq "2 2 2" bash -c \
	"$CTL tree -J /ctl_t | python3 -c 'import json,sys; c = json.load(sys.stdin)[\"cgroups\"][0]; print(c[\"current\"], c[\"max\"], c[\"peak\"])'"
check "top -b -n 1: ctl_t's line" says '^/ctl_t +2 +2 +2 +3 +-$' $CTL top -b -n 1
check "top: the root first, with the system's count" \
	eq "/" bash -c "$CTL top -b -n 1 -o PATH | sed -n 3p | xargs"
check "--hold printed them" eq 2 bash -c "wc -l < /tmp/ctl_out"
exec 5>&-
wait $pid
rc=$?
check "--hold: closing stdin gives them back, exit 0" \
	eq "0 0" bash -c "echo $rc \$(cat $CG/ctl_t/ioasids.current)"

spawn_in_cg ctl_t $CTL alloc --hold < /dev/zero > /dev/null
pid=$!
wait_for 1 $CG/ctl_t/ioasids.current
sleep 1
check "--hold with an endless stdin still holds after a second" \
	eq "1 alive" bash -c "echo \$(cat $CG/ctl_t/ioasids.current) \$(kill -0 $pid && echo alive)"
kill -TERM $pid
wait $pid
rc=$?
check "--hold: SIGTERM gives them back, exit 0" \
	eq "0 0" bash -c "echo $rc \$(cat $CG/ctl_t/ioasids.current)"

check "info: capacity" says '^capacity: +1048575$' $CTL info
check "info -J" eq "1048575 0" bash -c \
	"$CTL info -J | python3 -c 'import json,sys; i = json.load(sys.stdin)[\"info\"][0]; print(i[\"capacity\"], i[\"in_use\"])'"
check "no /dev/ioasid: exit 3" status 3 unshare -m bash -c "mount -t tmpfs none /dev && exec $CTL info"
check "no /dev/ioasid: said on stderr" \
	says '^ioasidctl: no /dev/ioasid' unshare -m bash -c "mount -t tmpfs none /dev && exec $CTL alloc"
check "no access to /dev/ioasid: exit 3" \
	status 3 setpriv --reuid=65534 --regid=65534 --clear-groups $CTL alloc
check "info: the room left under this cgroup's limit" \
	says '^room here: +2$' in_cg ctl_t $CTL info
check "set-max writes ioasids.max" $CTL set-max /ctl_t 7
check "and it reads back" eq 7 cat $CG/ctl_t/ioasids.max
check "set-max takes max" $CTL set-max ctl_t max
check "set-max with a bad value: a clear line" \
	eq 'ioasidctl: -3: ioasids.max takes a count or "max"' err $CTL set-max ctl_t -3
check "set-max with a bad value: exit 2" status 2 $CTL set-max ctl_t -3
check "set-max on no cgroup: exit 2" status 2 $CTL set-max nosuch 3
check "set-max ../../tmp: leaves the tree, exit 2" status 2 $CTL set-max ../../tmp 3
check "set-max $CG/../../tmp: exit 2" status 2 $CTL set-max $CG/../../tmp 3
check "set-max ../../tmp: said on stderr" \
	says '^ioasidctl: \.\./\.\./tmp: leaves the cgroup tree' $CTL set-max ../../tmp 3
mkdir $CG/ctl_t/sub
check "set-max where the controller is off: exit 3" status 3 $CTL set-max ctl_t/sub 3
check "set-max where the controller is off: how to enable it" \
	says "^  echo \+ioasids > $CG/ctl_t/cgroup.subtree_control\$" $CTL set-max ctl_t/sub 3
echo +ioasids > $CG/ctl_t/cgroup.subtree_control
check "and with it enabled, it writes" eq 3 bash -c "$CTL set-max ctl_t/sub 3 && cat $CG/ctl_t/sub/ioasids.max"
echo -ioasids > $CG/ctl_t/cgroup.subtree_control
rmdir $CG/ctl_t/sub
check "tree lists the cgroup" says '^.-ctl_t +0 +max +2 +3 +-$' $CTL tree
check "tree of one cgroup" says '^/ctl_t +0 +max +2 +3 +-$' $CTL tree /ctl_t
check "tree of no cgroup: exit 2" status 2 $CTL tree /nosuch

rm -f /tmp/ctl_fifo /tmp/ctl_out
rmdir $CG/ctl_t
done_testing
