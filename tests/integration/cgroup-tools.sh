#!/bin/bash
# libcgroup (cgroup-tools) reads and writes ioasids files unchanged.
. "$(dirname "$0")/lib.bash"
ensure_capacity
echo +ioasids > $CG/cgroup.subtree_control

# charge_until_refused: in the current cgroup, open a set and take PASIDs
# one at a time; print how many fit.
charge_until_refused() {
	local n=0
	exec 3<> $CHARGE
	while { echo "fd 1" >&3; } 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt 100 ] && break
	done
	echo $n
}
export -f charge_until_refused
export CHARGE

check "cgcreate -g ioasids:/cgt" cgcreate -g ioasids:/cgt
check "cgget -r ioasids.max shows the default" \
	eq max cgget -n -v -r ioasids.max cgt
check "cgset -r ioasids.max=5" cgset -r ioasids.max=5 cgt
check "the file holds 5" eq 5 cat $CG/cgt/ioasids.max
check "cgget -r ioasids.max reads 5" eq 5 cgget -n -v -r ioasids.max cgt
check "cgset refuses a bad value" fails cgset -r ioasids.max=-1 cgt
check "and keeps 5" eq 5 cat $CG/cgt/ioasids.max
check "cgget -g ioasids lists the files" \
	bash -c 'cgget -g ioasids cgt | grep -q "^ioasids.events.local: max 0"'
check "cgexec: 5 PASIDs fit, the 6th is refused" \
	eq 5 cgexec -g ioasids:cgt bash -c charge_until_refused
check "ioasids.events counted the refusal" \
	eq "max 1" cgget -n -v -r ioasids.events cgt
check "everything came back" eq 0 cat $CG/cgt/ioasids.current
check "cgdelete" cgdelete -g ioasids:/cgt
done_testing
