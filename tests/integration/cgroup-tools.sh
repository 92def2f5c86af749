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
check "cgexec: 6 do not" refused /cgt cgexec -g ioasids:cgt $CTL alloc --count 6
check "ioasids.events counted the refusal" \
	eq "max 1" bash -c "cgget -n -v -r ioasids.events cgt | grep '^max '"
check "everything came back" eq 0 cat $CG/cgt/ioasids.current
check "cgdelete" cgdelete -g ioasids:/cgt

# cgconfigparser: a cgconfig.conf with an ioasids section, as an admin
# would put in /etc/cgconfig.conf for the cgconfig service.
conf=$(mktemp)
cat > "$conf" <<'CONF'
group vms {
	ioasids {
		ioasids.max = 8;
	}
}
group vms/vm1 {
	ioasids {
		ioasids.max = 3;
	}
}
CONF
check "cgconfigparser loads an ioasids section" cgconfigparser -l "$conf"
check "it wrote the parent's limit" eq 8 cat $CG/vms/ioasids.max
check "and the child's" eq 3 cat $CG/vms/vm1/ioasids.max
check "cgexec into it: 3 PASIDs fit" \
	eq 3 bash -c "cgexec -g ioasids:vms/vm1 $CTL alloc --count 3 | wc -l"
check "4 do not" refused /vms/vm1 cgexec -g ioasids:vms/vm1 $CTL alloc --count 4
check "the child's limit refused it" \
	eq "max 1" grep "^max " $CG/vms/vm1/ioasids.events.local
check "cgconfigparser refuses a bad value" bash -c \
	"printf 'group bad { ioasids { ioasids.max = -5; } }\n' > $conf.bad &&
	 ! cgconfigparser -l $conf.bad"
check "and leaves no group behind" fails test -d $CG/bad
check "nor touches the others" eq 8 cat $CG/vms/ioasids.max
check "cgdelete -r" cgdelete -r -g ioasids:/vms
rm -f "$conf" "$conf.bad"
done_testing
