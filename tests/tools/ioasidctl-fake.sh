#!/bin/bash
# ioasidctl on fabricated files: a cgroup tree (IOASIDCTL_CGROUP_ROOT) and a
# proc tree (IOASIDCTL_PROC_ROOT) made up in a temporary directory, so that
# what it parses and refuses is checked with exact values. It needs no
# kernel of ours: tests/harness/targets runs it on the host (running it in
# the guest too cost 100-170 s of make check under TCG, for nothing more).
# It writes nothing else.
. "$(dirname "$0")/../integration/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
CTL=${IOASIDCTL:-$top/build/tools/ioasidctl}
fake=$(mktemp -d /tmp/ioasidctl-fake.XXXXXX)
trap 'rm -rf "$fake"' EXIT
export IOASIDCTL_CGROUP_ROOT=$fake/cg IOASIDCTL_PROC_ROOT=$fake/proc

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

# The tables: exact values, libsmartcols' columns and tree art.
check "tree: the default columns" eq "CGROUP CURRENT MAX PEAK REFUSED UNIT" \
	bash -c "$CTL tree | head -n 1 | xargs"
check "tree: the root, no ioasids.max" says '^/ +5 +- +9 +0 +-$' $CTL tree
check "tree: a child, with tree art" says '^.-a +2 +max +2 +0 +-$' $CTL tree
check "tree: a grandchild" says '^ +.-b +2 +3 +2 +0 +-$' $CTL tree
check "tree: cgroups without the controller are left out" \
	fails says 'off' $CTL tree
check "tree: long names keep the columns aligned" bash -c "
	mkdir -p $fake/cg/a/a-cgroup-with-a-name-longer-than-forty-characters.scope
	d=$fake/cg/a/a-cgroup-with-a-name-longer-than-forty-characters.scope
	echo 1 > \$d/ioasids.current; echo 3 > \$d/ioasids.max
	$CTL tree | awk '{ print index(\$0, \"CURRENT\") + 6 }' | head -n 1 > $fake/hdr
	col=\$(cat $fake/hdr)
	$CTL tree | tail -n +2 | while IFS= read -r l; do
		# CURRENT is right-aligned: its last digit sits under the T.
		c=\${l:col-1:1}
		[[ \$c =~ [0-9] ]] || { echo \"not aligned: '\$l'\"; exit 1; }
	done
	rm -r \$d"
check "tree -o: stat and events.local keys as columns" \
	eq "/a/b 0 2 0 0 0" bash -c "$CTL tree -o PATH,SETS,FD,KERNEL,SVA,LOCAL_MAX /a | tail -n 1 | xargs"
check "tree -o +UNIT,path: added to the defaults" \
	eq "CGROUP CURRENT MAX PEAK REFUSED UNIT UNIT PATH" \
	bash -c "$CTL tree -o +UNIT,path | head -n 1 | xargs"
check "tree -o with an unknown column: exit 2" status 2 $CTL tree -o CURRENT,NOPE
check "tree -J: nested JSON, MAX a number, or null with UNLIMITED true for \"max\"" eq \
	'{"cgroups": [{"cgroup": "/a", "current": 2, "max": null, "unlimited": true, "peak": 2, "refused": 0, "unit": null, "children": [{"cgroup": "b", "current": 2, "max": 3, "unlimited": false, "peak": 2, "refused": 0, "unit": null}]}]}' \
	bash -c "$CTL tree -J /a | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))'"
check "tree -J of the root: MAX null, UNLIMITED false (its limit is the capacity)" eq "None False" \
	bash -c "$CTL tree -J | python3 -c 'import json,sys; c = json.load(sys.stdin)[\"cgroups\"][0]; print(c[\"max\"], c[\"unlimited\"])'"
check "tree -J -o: only the columns asked for" eq '{"cgroups": [{"cgroup": "/a", "max": null}]}' \
	bash -c "$CTL tree -J -o CGROUP,MAX /a | python3 -c 'import json,sys; c = json.load(sys.stdin); c[\"cgroups\"][0].pop(\"children\"); print(json.dumps(c))'"
check "tree -o UNLIMITED: yes, no, - in a table" eq "- yes no" \
	bash -c "$CTL tree -o UNLIMITED | tail -n +2 | xargs"
check "tree of a cgroup without the controller: exit 3" status 3 $CTL tree off
check "tree of no cgroup: exit 2" status 2 $CTL tree nosuch

# UNIT: the last component ending in .service, .scope or .slice.
fakecg /machine.slice 1 max 1
fakecg /machine.slice/vm1.scope 1 8 1
fakecg /machine.slice/vm1.scope/payload 1 max 1
fakecg /system.slice 0 max 6
fakecg /system.slice/x.service 0 max 0
check "UNIT of a slice" eq "/machine.slice machine.slice" \
	bash -c "$CTL tree -o PATH,UNIT /machine.slice | sed -n 2p | xargs"
check "UNIT of a cgroup inside a scope: the scope" \
	eq "/machine.slice/vm1.scope/payload vm1.scope" \
	bash -c "$CTL tree -o PATH,UNIT /machine.slice | sed -n 4p | xargs"
check "UNIT of a service" eq "/system.slice/x.service x.service" \
	bash -c "$CTL tree -o PATH,UNIT /system.slice/x.service | sed -n 2p | xargs"

# top: sorted by current, then peak; plain frames with -n.
fakecg /system.slice/y.service 0 max 6
check "top -n 2: two frames, no escapes" eq "2 0" bash -c \
	"$CTL top -n 2 -d 0.1 > $fake/top; echo \$(grep -c '^ioasids: 5 of 1048575 in use, 9 cgroups$' $fake/top) \$(grep -c \$'\\e' $fake/top)"
check "top: sorted by current, then peak, then path" eq \
	"/ /a /a/b /machine.slice /machine.slice/vm1.scope /machine.slice/vm1.scope/payload /system.slice /system.slice/y.service /system.slice/x.service" \
	bash -c "$CTL top -b -n 1 -o PATH | tail -n +3 | xargs"
# On a terminal (script(1) gives it one): redrawn with escapes, q quits.
check "top on a terminal: redrawn, q quits, exit 0" eq "exit 0, redrawn" bash -c "
	(sleep 2; printf q) | timeout 30 script -qec '$CTL top -d 0.2' $fake/tty > /dev/null
	echo \"exit \$?, \$(grep -q \$'\\e\\[H\\e\\[2Jioasids: 5 of 1048575' $fake/tty && echo redrawn)\""
check "top -d with a bad delay: exit 2" status 2 $CTL top -n 1 -d x
check "top -n 0: exit 2" status 2 $CTL top -n 0

# metrics: the Prometheus text format.
echo 'max 3' > $fake/cg/a/b/ioasids.events
echo 'max 3' >> $fake/cg/a/b/ioasids.events
printf 'max 3\ncapacity 1\n' > $fake/cg/a/b/ioasids.events
check "metrics: capacity" says '^ioasids_capacity 1048575$' $CTL metrics
check "metrics: a TYPE line for each family" eq \
	"ioasids_capacity gauge ioasids_current gauge ioasids_max gauge ioasids_peak gauge ioasids_refusals_total counter ioasids_sets gauge ioasids_ids gauge" \
	bash -c "$CTL metrics | sed -n 's/^# TYPE //p' | xargs"
check "metrics: current of the root" says '^ioasids_current\{cgroup="/"\} 5$' $CTL metrics
check "metrics: max of a limited cgroup" says '^ioasids_max\{cgroup="/a/b"\} 3$' $CTL metrics
check "metrics: max of \"max\" is +Inf" says '^ioasids_max\{cgroup="/a"\} \+Inf$' $CTL metrics
check "metrics: no max for the root" fails says '^ioasids_max\{cgroup="/"\}' $CTL metrics
check "metrics: peak" says '^ioasids_peak\{cgroup="/"\} 9$' $CTL metrics
check "metrics: refusals by reason" eq \
	'ioasids_refusals_total{cgroup="/a/b",reason="max"} 3 ioasids_refusals_total{cgroup="/a/b",reason="capacity"} 1' \
	bash -c "$CTL metrics | grep '^ioasids_refusals_total{cgroup=\"/a/b\"' | xargs -d '\n'"
check "metrics: ioasids.stat's fd" says '^ioasids_ids\{cgroup="/a/b",kind="fd"\} 2$' $CTL metrics
# --only: the root, and the cgroups with a limit or with IDs (one series
# set per systemd unit is more than a scrape wants).
# cgroups FILTER: the cgroups metrics --only FILTER has series for.
cgroups() {
	$CTL metrics ${1:+--only "$1"} | sed -n 's/^ioasids_current{cgroup="\([^"]*\)"}.*/\1/p' | xargs
}
# want FILTER: what a reader of the full output would keep for FILTER.
want() {
	$CTL metrics | awk -v f=",$1," '
		/^ioasids_current\{/ { split($0, a, "\""); c[a[2]] = $NF; o[++n] = a[2] }
		/^ioasids_max\{/ { split($0, a, "\""); m[a[2]] = $NF }
		/^ioasids_refusals_total\{/ { split($0, a, "\""); r[a[2]] += $NF }
		END { for (i = 1; i <= n; i++) { g = o[i]
			if (g == "/" || (f ~ /,limited,/ && g in m && m[g] != "+Inf") ||
			    (f ~ /,used,/ && c[g] > 0) || (f ~ /,refused,/ && r[g] > 0))
				printf "%s ", g }
		}' | xargs
}
check "metrics --only limited: the root and the limited cgroups" eq "$(want limited)" cgroups limited
check "metrics --only limited: /a/b (3) is in" says '^ioasids_current\{cgroup="/a/b"\}' \
	$CTL metrics --only limited
check "metrics --only limited: /a (max) is not" fails says '^ioasids_current\{cgroup="/a"\}' \
	$CTL metrics --only limited
check "metrics --only used: the cgroups holding IDs" eq "$(want used)" cgroups used
check "metrics --only limited,used: either" eq "$(want limited,used)" cgroups limited,used
check "metrics --only refused: the root and /a/b, refused 4 times" eq "$(want refused)" cgroups refused
check "metrics --only refused: more than the root" test "$(cgroups refused | wc -w)" -gt 1
check "metrics --only: fewer cgroups than all" test "$(cgroups limited,used | wc -w)" -lt "$(cgroups | wc -w)"
check "metrics --only: capacity still" says '^ioasids_capacity 1048575$' $CTL metrics --only used
check "metrics --only bad: exit 2" status 2 $CTL metrics --only bad
mkdir $fake/prom
check "metrics --textfile writes the file" bash -c \
	"$CTL metrics --textfile $fake/prom/ioasids.prom && cmp <($CTL metrics) $fake/prom/ioasids.prom"
check "metrics --textfile: mode 0644, no temporary file left" eq "644 ioasids.prom" \
	bash -c "echo \$(stat -c %a $fake/prom/ioasids.prom) \$(ls -A $fake/prom)"
check "metrics --textfile into no directory: exit 3" status 3 $CTL metrics --textfile $fake/nodir/x.prom
check "metrics -o is columns elsewhere, not a file here: exit 2" status 2 $CTL metrics -o $fake/prom/x.prom

# The environment: no cgroup v2, no controller, a cgroup without it.
check "no cgroup v2 at the root: exit 3" status 3 env IOASIDCTL_CGROUP_ROOT=$fake/outside $CTL tree
check "set-max where the controller is off: exit 3" status 3 $CTL set-max off/inner 3
check "set-max where the controller is off: how to enable it" \
	eq "ioasidctl: $fake/cg/off/inner: no ioasids.max: the ioasids controller is not enabled there; enable it with:
  echo +ioasids > $fake/cg/off/cgroup.subtree_control" \
	bash -c "$CTL set-max off/inner 3 2>&1; true"
check "set-max on the root: exit 2" status 2 $CTL set-max / 3
check "set-max with a bad value: exit 2, nothing written" eq "exit 2, 3" \
	bash -c "$CTL set-max a/b -3 2>/dev/null; echo \"exit \$?, \$(cat $fake/cg/a/b/ioasids.max)\""

# set-max on a systemd unit's own cgroup asks systemd (a stub systemctl
# that logs its user and arguments and prints $fake/show) whether the unit
# sets IOASIDsMax=; only then is the write refused, with the command to
# use. The stub runs as another user for a user manager's cgroup, so the
# tree is readable and the log writable by anyone.
U=/user.slice/user-65534.slice/user@65534.service
N=/user.slice/user-4294967.slice/user@4294967.service
F=/vm.slice/user.slice/user-0.slice/user@0.service
for c in /vm.slice /vm.slice/inner /_cpu.service $U $U/app.slice $U/app.slice/x.service \
	$N/x.service $F/x.service; do
	fakecg $c 0 5 0
done
mkdir -p "$fake/bin" "$fake/proc/1"
chmod a+rx "$fake"
printf '#!/bin/sh\necho "uid=$(id -u) $XDG_RUNTIME_DIR $*" >> %s/systemctl.log\n[ -e %s/show ] || exit 1\ncat %s/show\n' \
	"$fake" "$fake" "$fake" > "$fake/bin/systemctl"
chmod a+rx "$fake/bin/systemctl"
# props LIMIT CGROUP [LOADSTATE]: what systemctl show prints of a unit
# (LIMIT none: no IOASIDsMax line, as Debian's systemd).
props() {
	printf 'LoadState=%s\nControlGroup=%s\n' "${3:-loaded}" "$2"
	[ "$1" = none ] || printf 'IOASIDsMax=%s\n' "$1"
}
# setmax COMM SHOW CGROUP VALUE [WRAPPER...]: set-max (run by WRAPPER,
# such as setpriv) with PID 1 named COMM and SHOW what the stub prints
# (- makes it fail); prints the exit status, the file after it, and what
# systemctl was asked, as which user.
setmax() {
	local rc
	rm -f "$fake/show"
	install -m 666 /dev/null "$fake/systemctl.log"
	[ "$2" = - ] || printf '%s\n' "$2" > "$fake/show"
	echo "$1" > "$fake/proc/1/comm"
	PATH=$fake/bin:$PATH "${@:5}" $CTL set-max "$3" "$4" 2> "$fake/err"
	rc=$?
	echo "exit $rc, $(cat "$fake/cg/$3/ioasids.max"), $(cat "$fake/systemctl.log")"
}
ask='show -p LoadState -p ControlGroup -p IOASIDsMax --'
check "set-max on a unit with IOASIDsMax=: exit 2, nothing written" \
	eq "exit 2, 5, uid=0  $ask vm.slice" setmax systemd "$(props 4 /vm.slice)" vm.slice 3
check "set-max on a unit with IOASIDsMax=: the command to use" \
	eq "ioasidctl: /vm.slice: vm.slice sets IOASIDsMax=4, which systemd writes back at each reload
ioasidctl: nothing written; use: systemctl set-property 'vm.slice' IOASIDsMax=3" \
	cat "$fake/err"
check "set-max max on such a unit: exit 2" \
	eq "exit 2, 5, uid=0  $ask vm.slice" setmax systemd "$(props 4 /vm.slice)" vm.slice max
check "set-max max on such a unit: IOASIDsMax=infinity to use" \
	says "use: systemctl set-property 'vm.slice' IOASIDsMax=infinity$" cat "$fake/err"
check "set-max on a unit without IOASIDsMax= (infinity) writes" \
	eq "exit 0, 3, uid=0  $ask vm.slice" setmax systemd "$(props infinity /vm.slice)" vm.slice 3
check "set-max where systemd knows no IOASIDsMax (Debian's) writes" \
	eq "exit 0, 2, uid=0  $ask vm.slice" setmax systemd "$(props none /vm.slice)" vm.slice 2
check "set-max when systemd cannot be asked: exit 3, nothing written" \
	eq "exit 3, 2, uid=0  $ask vm.slice" setmax systemd - vm.slice 7
check "set-max when systemd cannot be asked: says so" \
	says "cannot ask systemd if it owns ioasids.max" cat "$fake/err"
check "set-max on a unit whose cgroup is elsewhere: not its own, writes" \
	eq "exit 0, 4, uid=0  $ask vm.slice" setmax systemd "$(props 9 /other/vm.slice)" vm.slice 4
check "set-max on a cgroup named like a unit that is not loaded writes" \
	eq "exit 0, 6, uid=0  $ask vm.slice" setmax systemd "$(props 9 /vm.slice not-found)" vm.slice 6
check "set-max on systemd's _-escaped cgroup asks about the unit" \
	eq "exit 2, 5, uid=0  $ask cpu.service" setmax systemd "$(props 4 /_cpu.service)" _cpu.service 3
check "set-max below user@UID.service asks that user's manager, as the user" \
	eq "exit 2, 5, uid=65534 /run/user/65534 --user $ask x.service" \
	setmax systemd "$(props 2 $U/app.slice/x.service)" ${U#/}/app.slice/x.service 3
check "set-max below user@UID.service: the command names the user's manager" \
	says "use: systemctl --user -M nobody@ set-property 'x.service' IOASIDsMax=3$" cat "$fake/err"
check "set-max by that user itself, on its own delegated cgroup: asked, as itself" \
	eq "exit 2, 5, uid=65534 /run/user/65534 --user $ask x.service" \
	setmax systemd "$(props 2 $U/app.slice/x.service)" ${U#/}/app.slice/x.service 3 \
	setpriv --reuid=65534 --regid=65534 --clear-groups
check "set-max below user@UID.service of no user: exit 3, not asked" \
	eq "exit 3, 5, " setmax systemd "$(props 2 $N/x.service)" ${N#/}/x.service 3
check "set-max: a user@0.service deeper than systemd puts it is PID 1's to answer" \
	eq "exit 0, 3, uid=0  $ask x.service" setmax systemd "$(props none $F/x.service)" ${F#/}/x.service 3
check "set-max on user@UID.service itself asks PID 1" \
	eq "exit 0, 7, uid=0  $ask user@65534.service" \
	setmax systemd "$(props none $U)" ${U#/} 7
check "set-max below a unit's own cgroup writes without asking" \
	eq "exit 0, 4, " setmax systemd "$(props 4 /vm.slice)" vm.slice/inner 4
check "set-max when PID 1 is not systemd writes without asking" \
	eq "exit 0, 6, " setmax init "$(props 4 /vm.slice)" vm.slice 6
rm -rf "${fake:?}/proc/1" "${fake:?}/cg/vm.slice" "${fake:?}/cg/_cpu.service" "${fake:?}/cg/user.slice"
unset U N F
chmod 700 "$fake"

# ps on a fabricated /proc: fdinfo as the kernel prints it.
fakefd() {	# fakefd PID FD LINK [FDINFO-LINE...]
	local d=$fake/proc/$1
	mkdir -p "$d/fd" "$d/fdinfo"
	ln -s "$3" "$d/fd/$2"
	local info=$d/fdinfo/$2
	printf 'pos:\t0\nflags:\t02000002\nmnt_id:\t25\nino:\t1047\n' > "$info"
	shift 3
	[ $# -eq 0 ] || printf '%s\n' "$@" >> "$info"
}
mkdir -p $fake/proc/self $fake/proc/sys
echo qemu-system-x86 > $fake/proc/self/comm
fakefd 4242 0 /dev/null
fakefd 4242 5 /dev/ioasid $'ioasid-set:\t17' $'ioasid-count:\t3' $'ioasid-quota:\tmax' \
	$'ioasid-cgroup:\t/machine.slice/vm1.scope' $'ioasid-device:\tioasid_mock0 2' \
	$'ioasid-device:\t0000:00:03.0 1'
fakefd 4242 9 /dev/ioasid $'ioasid-set:\t18' $'ioasid-count:\t0' $'ioasid-quota:\t4' \
	$'ioasid-cgroup:\t/machine.slice/vm1.scope/payload'
fakefd 4242 6 'socket:[5120]' $'ioasid-set:\t99'
fakefd 4242 8 'anon_inode:[eventfd]' $'ioasid-set:\t98'
echo qemu-system-x86 > $fake/proc/4242/comm
fakefd 77 3 /srv/vm/ioasid-node $'ioasid-set:\t2' $'ioasid-count:\t1' $'ioasid-quota:\t1' \
	$'ioasid-cgroup:\t-'
echo vmm > $fake/proc/77/comm
fakefd 900 3 /dev/ioasid
echo old > $fake/proc/900/comm
check "ps: the default columns" eq "PID COMM FD SET COUNT QUOTA CGROUP UNIT DEVICES" \
	bash -c "$CTL ps 2>/dev/null | head -n 1 | xargs"
check "ps: one line per /dev/ioasid file, sorted by PID and FD" eq \
	"77 vmm 3 2 1 1 - - -
4242 qemu-system-x86 5 17 3 max /machine.slice/vm1.scope vm1.scope ioasid_mock0=2,0000:00:03.0=1
4242 qemu-system-x86 9 18 0 4 /machine.slice/vm1.scope/payload vm1.scope -" \
	bash -c "$CTL ps 2>/dev/null | tail -n +2 | sed 's/^ *//; s/  */ /g'"
check "ps: a /dev/ioasid file without ioasid-set: gets a note on stderr" \
	eq "ioasidctl: 1 open /dev/ioasid file(s) without an ioasid-set: line in fdinfo (a kernel without it?) left out" \
	bash -c "$CTL ps 2>&1 >/dev/null"
check "ps -J" eq \
	'{"processes": [{"pid": 77, "comm": "vmm", "fd": 3, "set": 2, "count": 1, "quota": 1, "unlimited": false, "cgroup": null, "unit": null, "devices": null}, {"pid": 4242, "comm": "qemu-system-x86", "fd": 5, "set": 17, "count": 3, "quota": null, "unlimited": true, "cgroup": "/machine.slice/vm1.scope", "unit": "vm1.scope", "devices": "ioasid_mock0=2,0000:00:03.0=1"}, {"pid": 4242, "comm": "qemu-system-x86", "fd": 9, "set": 18, "count": 0, "quota": 4, "unlimited": false, "cgroup": "/machine.slice/vm1.scope/payload", "unit": "vm1.scope", "devices": null}]}' \
	bash -c "$CTL ps -J 2>/dev/null | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))'"
check "ps -o PID,COUNT" eq "PID COUNT 77 1 4242 3 4242 0" bash -c "$CTL ps -o pid,count 2>/dev/null | xargs"
check "ps with no proc: exit 3" status 3 env IOASIDCTL_PROC_ROOT=$fake/none $CTL ps

# No fixed buffer cuts what ps shows: 600 devices (an fdinfo of about
# 13 KiB) and a cgroup path of 5020 bytes, past PATH_MAX.
longcg=$(printf '/%0250d' $(seq 20))
mapfile -t devs < <(for i in $(seq 600); do printf 'ioasid-device:\tdev%03d 1\n' "$i"; done)
fakefd 5000 3 /dev/ioasid $'ioasid-set:\t40' $'ioasid-count:\t600' $'ioasid-quota:\tmax' \
	"ioasid-cgroup:	$longcg" "${devs[@]}"
check "ps: a long fdinfo, whole: 600 devices, a 5020-byte cgroup" eq "600 5020 dev600=1" \
	bash -c "$CTL ps -J 2>/dev/null | python3 -c '
import json, sys
p = [r for r in json.load(sys.stdin)[\"processes\"] if r[\"pid\"] == 5000][0]
d = p[\"devices\"].split(\",\")
print(len(d), len(p[\"cgroup\"]), d[-1])'"
rm -rf "${fake:?}/proc/5000"
# A value that does not fit is not shown cut: the file is left out, said.
fakefd 5001 3 /dev/ioasid $'ioasid-set:\t41' "ioasid-count:	$(printf '%040d' 9)"
check "ps: an fdinfo value too long: left out, not cut" eq "77 4242 4242" \
	bash -c "$CTL ps -o pid 2>/dev/null | tail -n +2 | xargs"
check "ps: an fdinfo value too long: said" \
	says "^ioasidctl: 1 /dev/ioasid file\(s\) with an fdinfo value too long" $CTL ps
rm -rf "${fake:?}/proc/5001"
# The fd is closed and its number reused while ps reads its fdinfo: a
# FIFO's writer moves the link before it writes. The record is left out.
mkdir -p "$fake/proc/5002/fd" "$fake/proc/5002/fdinfo"
ln -s /dev/ioasid "$fake/proc/5002/fd/4"
mkfifo "$fake/proc/5002/fdinfo/4"
( { ln -sfn /dev/null "$fake/proc/5002/fd/4"; printf 'ioasid-set:\t42\n'; } \
	> "$fake/proc/5002/fdinfo/4" ) &
writer=$!
check "ps: a file whose fd changed while its fdinfo was read is left out" \
	eq "77 4242 4242" bash -c "$CTL ps -o pid 2>/dev/null | tail -n +2 | xargs"
kill $writer 2>/dev/null
wait $writer 2>/dev/null
rm -rf "${fake:?}/proc/5002"
# The control: the same FIFO, the link left alone, is listed.
mkdir -p "$fake/proc/5003/fd" "$fake/proc/5003/fdinfo"
ln -s /dev/ioasid "$fake/proc/5003/fd/4"
mkfifo "$fake/proc/5003/fdinfo/4"
( printf 'ioasid-set:\t43\n' > "$fake/proc/5003/fdinfo/4" ) &
writer=$!
check "ps: the same through a FIFO, the fd unchanged, is listed" \
	eq "77 4242 4242 5003" bash -c "$CTL ps -o pid 2>/dev/null | tail -n +2 | xargs"
kill $writer 2>/dev/null
wait $writer 2>/dev/null
rm -rf "${fake:?}/proc/5003"

# The bash completion, as bash calls it.
complete_() {	# complete_ WORD...: what completing the last WORD offers
	bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ioasidctl; echo "${COMPREPLY[*]}"' \
		"$top/tools/ioasidctl.bash-completion" "$@"
}
check "completion: commands" eq "set-max" complete_ ioasidctl se
check "completion: -o column names after a comma" \
	eq "CURRENT,SETS CURRENT,SVA" complete_ ioasidctl tree -o CURRENT,S
check "completion: ps columns" eq "COMM COUNT CGROUP" complete_ ioasidctl ps -o C
check "completion: set-max's CGROUP below the cgroup root" \
	eq "machine.slice/" complete_ ioasidctl set-max mach
check "completion: set-max's value" eq "max" complete_ ioasidctl set-max a m
check "completion: metrics' options" eq "--only --textfile --help" complete_ ioasidctl metrics --
check "completion: --only's words after a comma" eq "limited,used" \
	complete_ ioasidctl metrics --only limited,u
check "completion: no columns after metrics -o" eq "" complete_ ioasidctl metrics -o C

rm -rf "$fake"
trap - EXIT
done_testing
