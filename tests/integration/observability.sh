#!/bin/bash
# Who holds PASIDs and why a request was refused: the ioasid tracepoints
# (alloc, free, refused, bind, unbind, with the set's number, the cgroup's
# ID and the errno), and the kernel log line on the first refusal by each
# cgroup's limit and of each cgroup's charge by the capacity.
. "$(dirname "$0")/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$top/build/tools/ioasidctl
HW=$top/build/tests/selftests/ioasid_hw
T=/sys/kernel/tracing
CHARGE=/sys/kernel/debug/ioasids_cgroup/charge

[ -d $T/events ] || mount -t tracefs tracefs $T
echo +ioasids > $CG/cgroup.subtree_control
mkdir -p $CG/obs_t $CG/obs_cap
echo 2 > $CG/obs_t/ioasids.max
cgid=$(stat -c %i $CG/obs_t)

trace_on() {
	echo 0 > $T/tracing_on
	echo > $T/trace
	echo 1 > $T/events/ioasid/enable
	echo 1 > $T/tracing_on
}
trace_off() {
	echo 0 > $T/tracing_on
	echo 0 > $T/events/ioasid/enable
}
# events NAME PATTERN: how many NAME events of the trace match PATTERN.
events() {
	grep -E " $1: .*$2" $T/trace | grep -c .
}

check "the ioasid trace events exist" \
	test -d $T/events/ioasid/ioasid_alloc -a -d $T/events/ioasid/ioasid_free \
	-a -d $T/events/ioasid/ioasid_refused -a -d $T/events/ioasid/ioasid_bind \
	-a -d $T/events/ioasid/ioasid_unbind

trace_on
in_cg obs_t "$CTL" alloc --count 2 --range 300:301 > /dev/null
in_cg obs_t "$CTL" alloc --count 3 > /dev/null 2>&1
trace_off
check "alloc: one event, the cgroup's ID, both IDs" \
	eq 1 events ioasid_alloc "cgroup=$cgid n=2 ids=\{0x12c,0x12d\}"
check "free (on exit): one event, the same IDs" \
	eq 1 events ioasid_free "cgroup=$cgid n=2 ids=\{0x12c,0x12d\}"
check "refused: EDQUOT (-122), n=3, the cgroup's ID" \
	eq 1 events ioasid_refused "cgroup=$cgid n=3 range=\[0,4294967295\] error=-122"
check "alloc and free name the same set" bash -c "
	a=\$(grep -oE 'ioasid_alloc: set=[0-9]+' $T/trace | cut -d= -f2)
	f=\$(grep -oE 'ioasid_free: set=[0-9]+' $T/trace | cut -d= -f2)
	[ -n \"\$a\" ] && [ \"\$a\" = \"\$f\" ]"

# A batch of 4096 IDs is one alloc event: n says how many, the first 64 IDs
# are shown (an event must fit in a page of the ring buffer).
trace_on
"$CTL" alloc --count 4096 > /dev/null
trace_off
check "a batch of 4096: one alloc event, n=4096, 64 IDs and ..." bash -c "
	ev=\$(grep -E ' ioasid_alloc: .* n=4096 ids=\{[0-9a-fx,]+\}\.\.\.$' $T/trace) &&
	[ \$(grep -c . <<< \"\$ev\") = 1 ] &&
	[ \$(sed 's/.*ids={\(.*\)}.*/\1/' <<< \"\$ev\" | tr ',' '\n' | grep -c .) = 64 ]"
# ioasidctl exits without IOASID_FREE: closing the file frees them, in
# batches of 64.
check "the free events of closing the file add up to 4096" eq 4096 bash -c "
	grep -oE ' ioasid_free: .* n=[0-9]+' $T/trace | sed 's/.*n=//' |
	awk '{ s += \$1 } END { print s }'"

# The log line: once per cgroup, naming the limit's cgroup and the process.
line='ioasids: 3 IOASID\(s\) for ioasidctl\[[0-9]+\] refused by ioasids.max=2 of /obs_t, charged to /obs_t'
check "the first refusal by obs_t's limit is logged" \
	eq 1 bash -c "dmesg | grep -cE '$line'"
in_cg obs_t "$CTL" alloc --count 3 > /dev/null 2>&1
check "the second is counted, not logged again" \
	eq 1 bash -c "dmesg | grep -cE 'refused by ioasids.max=[0-9]+ of /obs_t'"
check "both refusals are in events.local" \
	eq "max 2" bash -c "grep '^max' $CG/obs_t/ioasids.events.local"

# A charge the capacity refuses: logged once for the charged cgroup.
cap=$(cat $CG/ioasids.capacity)
# key FILE KEY: KEY's count in the flat-keyed FILE.
key() { sed -n "s/^$2 //p" "$1"; }
root_max=$(key $CG/ioasids.events max)
root_capacity=$(key $CG/ioasids.events capacity)
in_cg obs_cap bash -c "exec 3<> $CHARGE; echo 'fd $((cap + 1))' >&3" 2>/dev/null
check "a refusal by the capacity is logged, naming the cgroup" \
	eq 1 bash -c "dmesg | grep -cE 'ioasids: $((cap + 1)) IOASID\(s\) for bash\[[0-9]+\] refused by the capacity, $cap, charged to /obs_cap'"
in_cg obs_cap bash -c "exec 3<> $CHARGE; echo 'fd $((cap + 1))' >&3" 2>/dev/null
check "and only once" \
	eq 1 bash -c "dmesg | grep -c 'refused by the capacity, $cap, charged to /obs_cap'"
# The root's ioasids.events counts both refusals by the capacity, and
# nothing else: its values, not only its keys.
check "the root's events: capacity counted both, max none" \
	eq "max $root_max capacity $((root_capacity + 2))" \
	bash -c "echo max \$(sed -n 's/^max //p' $CG/ioasids.events) capacity \$(sed -n 's/^capacity //p' $CG/ioasids.events)"
check "obs_cap's events and events.local: capacity 2, max 0" \
	eq "max 0 capacity 2 max 0 capacity 2" \
	bash -c "cat $CG/obs_cap/ioasids.events $CG/obs_cap/ioasids.events.local | xargs"

# Binds and unbinds, through the mock devices (the hw kselftest's case).
trace_on
"$HW" -t bind_unbind > /dev/null 2>&1
hw=$?
trace_off
check "the hw kselftest's bind_unbind passed" test $hw -eq 0
check "bind: device and ID, error 0, on both devices" bash -c "
	[ \$(grep -cE 'ioasid_bind: .*device=ioasid_mock[01] id=[0-9]+ error=0' $T/trace) = 2 ]"
check "unbind: both entries cleared" bash -c "
	[ \$(grep -cE 'ioasid_unbind: .*device=ioasid_mock[01] id=[0-9]+ error=0' $T/trace) = 2 ]"

trace_on
"$HW" -t bind_errors > /dev/null 2>&1
trace_off
check "refused binds show their errno: ENOENT, EOVERFLOW, EEXIST" bash -c "
	[ \$(grep -cE 'ioasid_bind: .*device=ioasid_mock0 id=[0-9]+ error=-2$' $T/trace) = 3 ] &&
	grep -qE 'ioasid_bind: .*device=ioasid_mock1 id=[0-9]+ error=-75$' $T/trace &&
	grep -qE 'ioasid_bind: .*device=ioasid_mock1 id=[0-9]+ error=-17$' $T/trace"
check "refused unbinds show ENOENT" \
	eq 3 bash -c "grep -cE 'ioasid_unbind: .* error=-2$' $T/trace"

echo > $T/trace
echo 1 > $T/tracing_on
rmdir $CG/obs_t $CG/obs_cap
check "nothing left charged" eq 0 cat $CG/ioasids.current
done_testing
