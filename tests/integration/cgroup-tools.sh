#!/bin/bash
# libcgroup (cgroup-tools) reads and writes ioasids files unchanged.
. "$(dirname "$0")/lib.bash"
echo +ioasids > $CG/cgroup.subtree_control

CTL=$(cd "$(dirname "$0")/../.." && pwd)/build/tools/ioasidctl

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
check "cgexec: 5 PASIDs fit" \
	eq 5 bash -c "cgexec -g ioasids:cgt $CTL alloc --count 5 | wc -l"
check "cgexec: 6 do not" fails cgexec -g ioasids:cgt $CTL alloc --count 6
check "ioasids.events counted the refusal" \
	eq "max 1" cgget -n -v -r ioasids.events cgt
check "everything came back" eq 0 cat $CG/cgt/ioasids.current
check "cgdelete" cgdelete -g ioasids:/cgt
done_testing
