#!/bin/bash
# Seventeen cgroup subsystems (kernel patches 0001 and 0010): the test
# kernel enables every controller of 6.12 but rdma and debug, and the
# three empty test controllers listed after pids, so that misc is
# subsystem ID 15, the u16 masks' top bit, and ioasids ID 16, a bit they
# did not have. Every other test runs
# on that bit; here the count, the place and the masks' round trip.
. "$(dirname "$0")/lib.bash"

# /proc/cgroups lists the subsystems in ID order, one line each.
subsys() { awk 'NR > 1 { print $1 }' /proc/cgroups; }
check "17 subsystems" eq 17 bash -c 'awk "NR > 1" /proc/cgroups | wc -l'
check "ioasids is subsystem 16, the last" eq ioasids bash -c 'awk "NR == 18 { print \$1 }" /proc/cgroups'
check "the three test controllers after pids" eq "pids slot_test0 slot_test1 slot_test2 misc" \
	bash -c 'awk "NR >= 13 && NR <= 17 { print \$1 }" /proc/cgroups | xargs'
echo "# $(subsys | xargs)"

# Bits 12 to 16 through subtree_control and back: enabled together with
# a low one (memory, 4), shown, inherited by a child's cgroup.controllers,
# the controller's files present, and disabled again.
root_before=$(cat $CG/cgroup.subtree_control)
check "enable bits 4 and 12-16 at the root" bash -c \
	"echo '+memory +slot_test0 +slot_test1 +slot_test2 +misc +ioasids' > $CG/cgroup.subtree_control"
mkdir -p $CG/ss17/child
check "enable bits 4 and 12-16" bash -c \
	"echo '+memory +slot_test0 +slot_test1 +slot_test2 +misc +ioasids' > $CG/ss17/cgroup.subtree_control"
check "ss17 lists them" eq "memory slot_test0 slot_test1 slot_test2 misc ioasids" \
	bash -c "tr ' ' '\n' < $CG/ss17/cgroup.subtree_control | grep -E 'memory|slot_test|misc|ioasids' | xargs"
check "the child's controllers" eq "memory slot_test0 slot_test1 slot_test2 misc ioasids" \
	bash -c "tr ' ' '\n' < $CG/ss17/child/cgroup.controllers | grep -E 'memory|slot_test|misc|ioasids' | xargs"
check "the child has ioasids.max" test -e $CG/ss17/child/ioasids.max
check "a limit at subsystem 16 holds" bash -c \
	"echo 1 > $CG/ss17/child/ioasids.max && cat $CG/ss17/child/ioasids.max | grep -qx 1"
check "disable slot_test1 alone" bash -c "echo -slot_test1 > $CG/ss17/cgroup.subtree_control"
check "the others stay" eq "memory slot_test0 slot_test2 misc ioasids" \
	bash -c "tr ' ' '\n' < $CG/ss17/cgroup.subtree_control | grep -E 'memory|slot_test|misc|ioasids' | xargs"
check "disable ioasids" bash -c "echo -ioasids > $CG/ss17/cgroup.subtree_control"
check "its files go" test ! -e $CG/ss17/child/ioasids.max
rmdir $CG/ss17/child $CG/ss17
# The root as it was: the test controllers off again, unless on before.
for c in slot_test0 slot_test1 slot_test2; do
	grep -qw $c <<< "$root_before" || echo "-$c" > $CG/cgroup.subtree_control
done
check "the root's test controllers as before" eq \
	"$(tr ' ' '\n' <<< "$root_before" | grep slot_test | xargs)" \
	bash -c "tr ' ' '\n' < $CG/cgroup.subtree_control | grep slot_test | xargs"
done_testing
