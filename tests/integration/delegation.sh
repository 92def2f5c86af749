#!/bin/bash
# A delegated subtree (a cgroup namespace on the nsdelegate mount) cannot
# raise its own ioasids.max: it may limit its children, but whatever they
# are given, the delegation's limit holds.
. "$(dirname "$0")/lib.bash"
CTL=$(cd "$(dirname "$0")/../.." && pwd)/build/tools/ioasidctl
echo +ioasids > $CG/cgroup.subtree_control
mkdir -p $CG/deleg
echo 4 > $CG/deleg/ioasids.max
rm -f /run/deleg-ready

# The delegatee: a cgroup namespace rooted at deleg, with cgroup2 mounted
# again so that deleg is its /sys/fs/cgroup. As a delegated systemd unit
# does, it moves to a leaf and enables the controller for its children.
bash -c 'echo $$ > "$0/cgroup.procs" && exec unshare -C -m --propagation private bash -c "
	umount /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup &&
	cd /sys/fs/cgroup &&
	mkdir init && echo \$\$ > init/cgroup.procs &&
	echo +ioasids > cgroup.subtree_control &&
	touch /run/deleg-ready && exec sleep 600"' $CG/deleg &
holder=$!
for i in $(seq 100); do [ -e /run/deleg-ready ] && break; sleep 0.1; done

# inside SCRIPT: run SCRIPT in the delegatee's namespaces, from its leaf.
inside() {
	in_cg deleg/init nsenter -t $holder -C -m bash -c "cd /sys/fs/cgroup && $1"
}
# refused SCRIPT: SCRIPT's write is refused with EPERM, and nothing else.
refused() {
	inside "$1" 2>&1 | grep -q "Operation not permitted"
}

refused_5() {
	inside "echo \$\$ > vm/cgroup.procs && $CTL alloc --count 5" 2>&1 |
		grep -q "refused by ioasids.max of cgroup .*: limit 4"
}

check "the delegatee is set up" test -e /run/deleg-ready
check "it sees its limit at its root" eq 4 inside 'cat ioasids.max'
check "it cannot raise it" refused 'echo max > ioasids.max'
check "nor lower it" refused 'echo 3 > ioasids.max'
check "nor reset its peak" refused 'echo 0 > ioasids.peak'
check "the limit is unchanged" eq 4 cat $CG/deleg/ioasids.max
check "it may make a child and give it more" \
	inside 'mkdir vm && echo 100 > vm/ioasids.max'
check "the child's limit is written" eq 100 cat $CG/deleg/vm/ioasids.max
check "the child gets up to the delegation's limit" \
	eq 4 inside "echo \$\$ > vm/cgroup.procs && $CTL alloc --count 4 | wc -l"
check "and no more: 5 are refused by the delegation's limit" refused_5
check "the refusal counted at the delegation's root" \
	eq "max 1" grep "^max " $CG/deleg/ioasids.events.local
check "everything came back" eq 0 cat $CG/deleg/ioasids.current
kill $holder
wait $holder 2>/dev/null
rmdir $CG/deleg/vm $CG/deleg/init $CG/deleg
done_testing
