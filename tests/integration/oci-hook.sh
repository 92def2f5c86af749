#!/bin/bash
# ioasids-oci-hook (build/tools, or IOASIDS_HOOK) in the guest, on real
# cgroups and processes.
#
# First run directly, fed made-up OCI states on stdin for a process
# (sleep) put in a made-up container cgroup: an annotation may only lower
# a limit. ioasids.pod-max above the pod's current ioasids.max, or "max"
# where a limit exists, or above the admin's ceiling in
# /etc/ioasids/oci-hook.conf, is refused and the limit stays; a lower one
# is applied. The same for ioasids.max and the container's cgroup. Only a
# parent named exactly as a pod's cgroup is (pod<UID> under kubepods,
# kubepods[-besteffort|-burstable]-pod<UID>.slice,
# machine-libpod_pod_<64 hex>.slice) takes ioasids.pod-max: podman.slice
# and other shared parents are refused. A container whose cgroup is the
# hook's own, or does not name the container's id, is refused. Two hooks
# of one pod serialize on the pod cgroup's lock: neither raises what the
# other lowered. Every refusal is checked by its exit status, its message
# and the limit left as it was.
#
# Then run by Debian's runc 1.1.5 and crun 1.8.1
# as a createRuntime hook in config.json, with the annotation
# ioasids.max=3 and no unified key: the container's cgroup gets the limit
# from the hook, the container allocates 3 PASIDs and is refused 4; with
# ioasids.max=lots, or a cgroup that does not name the container, the hook
# fails and the container does not start. The
# parent cgroup has no +ioasids beforehand: the hook enables it (crun
# alone would not). podman reading the installed hooks.d JSON is
# tests/userspace/podman-hook.sh (too slow under TCG for make check).
. "$(dirname "$0")/lib.bash"

# does_not_start RT BUNDLE ID: RT refuses to run container ID of BUNDLE,
# and its process never printed "started" (output in BUNDLE/out).
does_not_start() {
	if "$1" run -b "$2" "$3" < /dev/null > "$2/out" 2>&1; then
		echo "$1 ran $3: $(cat "$2/out")"
		return 1
	fi
	cat "$2/out"
	! grep -q started "$2/out"
}
top=$(cd "$(dirname "$0")/../.." && pwd)
HOOK=${IOASIDS_HOOK:-$top/build/tools/ioasids-oci-hook}
echo +ioasids > $CG/cgroup.subtree_control
. "$(dirname "$0")/oci-bundle.bash"

# hooked PATH VALUE ARGS...: the bundle for a container in cgroup PATH
# running ARGS, without the unified key, with the hook at createRuntime
# and the annotation ioasids.max=VALUE.
hooked() {
	local path=$1 value=$2
	shift 2
	bundle "$path" 0 "$@" || return 1
	/usr/bin/python3 - "$bundle/config.json" "$HOOK" \
		"$value" <<'PY'
import json, sys
conf, hook, value = sys.argv[1:]
c = json.load(open(conf))
del c['linux']['resources']['unified']
c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'cgroup']
c.setdefault('annotations', {})['ioasids.max'] = value
c['hooks'] = {'createRuntime': [{'path': hook}]}
json.dump(c, open(conf, 'w'), indent=1)
PY
}

# --- The hook run directly, on made-up states -------------------------

CONF=/etc/ioasids/oci-hook.conf
ht=$(mktemp -d /tmp/oci-hook.XXXXXX)
pids=() tops=()

uuid() { cat /proc/sys/kernel/random/uuid; }
hex64() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# ctr_in CGROUP: CGROUP made (its parents too) and a process started in
# it, the container's: $ctr_pid.
ctr_in() {
	mkdir -p "$CG$1" || return 1
	spawn_in_cg "$1" sleep 1000000 < /dev/null
	ctr_pid=$!
	pids+=("$ctr_pid")
	wait_until "0::$1" cat /proc/$ctr_pid/cgroup
}

# enable PATH...: +ioasids in cgroup.subtree_control of each, as an admin
# does before writing a limit below it.
enable() {
	local d
	for d in "$@"; do
		echo +ioasids > "$CG$d/cgroup.subtree_control" || return 1
	done
}

# state ID PID ANNOTATIONS-JSON: a runtime's state.
state() {
	printf '{"ociVersion":"1.0.2","id":"%s","status":"created","pid":%s,"bundle":"%s","annotations":%s}' \
		"$1" "$2" "$ht/no-bundle" "$3"
}

# hook_refuses NAME STATE PATTERN CGROUP WANT: the hook, fed STATE, exits 1
# saying PATTERN (an extended regular expression) on stderr, and CGROUP's
# ioasids.max still reads WANT.
hook_refuses() {
	local name=$1 in=$2 pattern=$3 cg=$4 want=$5
	check "$name: exit 1, says why" bash -c '
		printf "%s" "$1" | "$2" 2> "$3/err"; rc=$?
		[ $rc -eq 1 ] || { echo "exit $rc, want 1"; cat "$3/err"; exit 1; }
		grep -qE "^ioasids-oci-hook: .*$4" "$3/err" ||
			{ echo "stderr, not matching /$4/:"; cat "$3/err"; exit 1; }' \
		_ "$in" "$HOOK" "$ht" "$pattern"
	check "$name: $cg keeps $want" eq "$want" cat "$CG$cg/ioasids.max"
}

# hook_applies NAME STATE CGROUP WANT: the hook exits 0 and CGROUP's
# ioasids.max reads WANT.
hook_applies() {
	local name=$1 in=$2 cg=$3 want=$4
	check "$name: exit 0" bash -c 'printf "%s" "$1" | "$2"' _ "$in" "$HOOK"
	check "$name: $cg is $want" eq "$want" cat "$CG$cg/ioasids.max"
}

rm -f "$CONF"
enable /kubepods /kubepods/burstable 2>/dev/null ||
	{ mkdir -p $CG/kubepods/burstable && enable /kubepods /kubepods/burstable; }
tops+=(/kubepods)

# A Kubernetes pod (cgroupfs driver) whose admin set 5.
P=/kubepods/burstable/pod$(uuid) id=$(hex64)
ctr_in $P/$id
echo 5 > $CG$P/ioasids.max
hook_refuses "pod-max 8 above the pod's 5" "$(state $id $ctr_pid '{"ioasids.pod-max":"8"}')" \
	'ioasids.pod-max="8" is above ioasids.max of .*pod.*: 5' $P 5
hook_refuses "pod-max \"max\" where the pod has 5" \
	"$(state $id $ctr_pid '{"ioasids.pod-max":"max"}')" \
	'ioasids.pod-max="max" is above ioasids.max of .*: 5' $P 5
hook_applies "pod-max 3, lower than 5" "$(state $id $ctr_pid '{"ioasids.pod-max":"3"}')" $P 3
hook_applies "pod-max 3 again (another container of the pod)" \
	"$(state $id $ctr_pid '{"ioasids.pod-max":"3"}')" $P 3
hook_refuses "pod-max 4 after 3" "$(state $id $ctr_pid '{"ioasids.pod-max":"4"}')" \
	'is above ioasids.max of .*: 3' $P 3

# The container's own limit (a runtime's unified key put 2 there).
enable $P
echo 2 > $CG$P/$id/ioasids.max
hook_refuses "ioasids.max 4 above the container's 2" \
	"$(state $id $ctr_pid '{"ioasids.max":"4"}')" \
	'ioasids.max="4" is above ioasids.max of .*: 2' $P/$id 2
hook_refuses "ioasids.max \"max\" above the container's 2" \
	"$(state $id $ctr_pid '{"ioasids.max":"max"}')" 'ioasids.max="max" is above' $P/$id 2
hook_applies "ioasids.max 1, lower than 2" "$(state $id $ctr_pid '{"ioasids.max":"1"}')" $P/$id 1
hook_refuses "both, the container's above its limit: the pod's not lowered either" \
	"$(state $id $ctr_pid '{"ioasids.pod-max":"2","ioasids.max":"3"}')" \
	'ioasids.max="3" is above' $P 3

# The admin's ceilings in /etc/ioasids/oci-hook.conf, on a fresh pod
# (no limit yet).
mkdir -p /etc/ioasids
printf '# test\nIOASIDS_POD_MAX_CEILING=16\n\nIOASIDS_MAX_CEILING = 4\n' > "$CONF"
P2=/kubepods/burstable/pod$(uuid) id2=$(hex64)
ctr_in $P2/$id2
hook_refuses "pod-max 32 above the ceiling 16" "$(state $id2 $ctr_pid '{"ioasids.pod-max":"32"}')" \
	"ioasids.pod-max=\"32\" is above the ceiling 16 .*$CONF" $P2 max
hook_refuses "pod-max \"max\" above the ceiling 16" \
	"$(state $id2 $ctr_pid '{"ioasids.pod-max":"max"}')" \
	'ioasids.pod-max="max" is above the ceiling 16' $P2 max
hook_refuses "ioasids.max 8 above the ceiling 4" "$(state $id2 $ctr_pid '{"ioasids.max":"8"}')" \
	'ioasids.max="8" is above the ceiling 4' $P2 max
check "ioasids.max 8 above the ceiling 4: the container keeps max" \
	bash -c "[ ! -e $CG$P2/$id2/ioasids.max ] || [ \"\$(cat $CG$P2/$id2/ioasids.max)\" = max ]"
hook_applies "pod-max 16, at the ceiling" "$(state $id2 $ctr_pid '{"ioasids.pod-max":"16"}')" $P2 16
hook_applies "ioasids.max 4, at the ceiling" "$(state $id2 $ctr_pid '{"ioasids.max":"4"}')" $P2/$id2 4
echo 'IOASIDS_POD_MAX_CEILING=lots' > "$CONF"
hook_refuses "a ceiling that is not a number" "$(state $id2 $ctr_pid '{"ioasids.pod-max":"2"}')" \
	"$CONF: line 1: .*want a number or \"max\"" $P2 16
echo 'IOASIDS_POD_MAX_CEILNG=8' > "$CONF"
hook_refuses "an unknown key in the ceilings file" "$(state $id2 $ctr_pid '{"ioasids.pod-max":"2"}')" \
	"$CONF: line 1: unknown key" $P2 16
rm -f "$CONF"

# Only a pod's cgroup, named exactly, takes ioasids.pod-max; never a
# parent that other containers share.
for parent in /podman.slice /machine-podman.slice /pods /kubepods/burstable \
	/kubepods/burstable/pod1234 /machine.slice /machine.slice/machine-libpod_pod_9f.slice; do
	idn=$(hex64)
	case $parent in
	*.slice) c=$parent/libpod-$idn.scope ;;
	*) c=$parent/$idn ;;
	esac
	pp=${parent%/*}
	[ -z "$pp" ] || enable "$pp"
	ctr_in $c
	hook_refuses "pod-max with the parent $parent" "$(state $idn $ctr_pid '{"ioasids.pod-max":"3"}')" \
		"parent cgroup $parent is not a pod's" $parent max
done
tops=(/kubepods /podman.slice /machine-podman.slice /pods /machine.slice)

# The pod cgroups' exact names are taken.
u=$(uuid)
for pc in /kubepods/pod$u/$(hex64) \
	/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u//-/_}.slice/crio-ID.scope \
	/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${u//-/_}.slice/cri-containerd-ID.scope \
	/kubepods.slice/kubepods-pod${u//-/_}.slice/crio-ID.scope \
	/machine.slice/machine-libpod_pod_$(hex64).slice/libpod-ID.scope; do
	idn=$(hex64)
	pc=${pc//ID/$idn}
	case $pc in /kubepods/pod*) idn=${pc##*/} ;; esac
	ctr_in $pc
	hook_applies "pod-max in ${pc%/*}" "$(state $idn $ctr_pid '{"ioasids.pod-max":"7"}')" ${pc%/*} 7
done
tops+=(/kubepods.slice)

# The container's cgroup must be the container's: not the hook's own (a
# state naming the wrong process), and named after the container's id.
id3=$(hex64)
mkdir -p $CG$P/$id3
check "the hook in the container's cgroup itself: exit 1, says why" bash -c '
	echo $$ > "$1/cgroup.procs" || exit 1
	printf "{\"id\":\"%s\",\"pid\":%d,\"annotations\":{\"ioasids.max\":\"2\"}}" "$2" $$ |
		"$3" 2> "$4/err"; rc=$?
	echo $$ > /sys/fs/cgroup/cgroup.procs
	[ $rc -eq 1 ] || { echo "exit $rc"; cat "$4/err"; exit 1; }
	grep -qE "^ioasids-oci-hook: .*is the hook.s own" "$4/err" || { cat "$4/err"; exit 1; }' \
	_ "$CG$P/$id3" "$id3" "$HOOK" "$ht"
check "the hook in the container's cgroup itself: its limit unchanged" \
	eq max cat $CG$P/$id3/ioasids.max
other=$(hex64)
hook_refuses "a cgroup that names another container" \
	"$(state $other $ctr_pid '{"ioasids.pod-max":"6"}')" \
	"cgroup .* does not name the container \"$other\"" ${pc%/*} 7
id4=x$(hex64)
ctr_in $P/pre$id4
hook_refuses "a cgroup that only ends in the id" "$(state $id4 $ctr_pid '{"ioasids.max":"1"}')" \
	"does not name the container" $P/pre$id4 max
hook_refuses "a state without an id" \
	"$(printf '{"pid":%d,"annotations":{"ioasids.max":"1"}}' $ctr_pid)" \
	'the state has no "id"' $P/pre$id4 max

# Two hooks of one pod at once: the pod's lock. The first takes it and
# lowers the limit to 2 while the second (pod-max 3) waits; then the
# second reads 2 and is refused.
P3=/kubepods/burstable/pod$(uuid) id5=$(hex64)
ctr_in $P3/$id5
( flock 9 && touch "$ht/held" &&
  while [ ! -e "$ht/release" ]; do sleep 0.1; done &&
  echo 2 > $CG$P3/ioasids.max ) 9< $CG$P3 &
holder=$!
wait_until yes bash -c "[ -e $ht/held ] && echo yes"
state $id5 $ctr_pid '{"ioasids.pod-max":"3"}' | "$HOOK" 2> "$ht/err2" &
waiter=$!
sleep 2
check "a second hook waits for the pod's lock" eq max cat $CG$P3/ioasids.max
touch "$ht/release"
wait $holder
wait $waiter
rc=$?
check "the second hook, after the first lowered to 2: exit 1, says why" bash -c \
	"[ $rc -eq 1 ] || { echo exit $rc; exit 1; }; cat $ht/err2;
	 grep -qE '^ioasids-oci-hook: .*pod-max=\"3\" is above ioasids.max of .*: 2' $ht/err2"
check "the second hook did not raise the pod's 2" eq 2 cat $CG$P3/ioasids.max

# Two hooks raced 8 times (each round costs seconds under TCG): the pod
# ends at the lower, never the higher.
bad=''
for i in $(seq 8); do
	echo max > $CG$P3/ioasids.max
	state $id5 $ctr_pid '{"ioasids.pod-max":"5"}' | "$HOOK" 2> "$ht/a" & a=$!
	state $id5 $ctr_pid '{"ioasids.pod-max":"3"}' | "$HOOK" 2> "$ht/b" & b=$!
	wait $a; ra=$?
	wait $b; rb=$?
	got=$(cat $CG$P3/ioasids.max)
	[ "$got" = 3 ] && [ $rb -eq 0 ] &&
		{ [ $ra -eq 0 ] || grep -q 'pod-max="5" is above ioasids.max of .*: 3' "$ht/a"; } ||
		bad+="round $i: limit $got, exits $ra $rb; $(cat "$ht/a" "$ht/b") "
done
check "two hooks raced 8 times: the pod ends at 3, never 5" test -z "$bad"
[ -n "$bad" ] && echo "# $bad"

kill "${pids[@]}" 2>/dev/null
for p in "${pids[@]}"; do
	wait "$p" 2>/dev/null
done
for d in "${tops[@]}"; do
	[ -d "$CG$d" ] && find "$CG$d" -depth -type d -exec rmdir {} + 2>/dev/null
done
rm -rf "$ht"

# --- The hook run by runc and crun -----------------------------------

job='cg=$(sed -n "s/^0:://p" /proc/self/cgroup);
     echo "max=$(cat /sys/fs/cgroup$cg/ioasids.max)";
     /ioasids/ioasidctl alloc --count 3 >/dev/null && echo "3 fit";
     /ioasids/ioasidctl alloc --count 4 || echo "4 refused"'
for rt in runc crun; do
	parent=hook-$rt
	base=$(cat $CG/ioasids.current)
	mkdir -p $CG/$parent
	check "$rt: no +ioasids in the parent yet" \
		fails grep -qw ioasids $CG/$parent/cgroup.subtree_control
	hooked /$parent/h1 3 sh -c "$job"
	$rt run -b "$bundle" h1 < /dev/null > "$bundle/out" 2>&1
	sed 's/^/# /' "$bundle/out"
	check "$rt: the hook set the container's ioasids.max to 3" grep -qx 'max=3' "$bundle/out"
	check "$rt: 3 PASIDs fit" grep -qx '3 fit' "$bundle/out"
	check "$rt: 4 are refused by the container's limit" bash -c \
		"grep -qx '4 refused' $bundle/out &&
		 grep -q 'refused by ioasids.max of cgroup /$parent/h1' $bundle/out"
	check "$rt: +ioasids on in the parent (crun: by the hook; runc does it too)" \
		grep -qw ioasids $CG/$parent/cgroup.subtree_control
	hooked /$parent/h2 lots sh -c 'echo started'
	check "$rt: ioasids.max=lots: the container does not start" \
		does_not_start $rt $bundle h2
	$rt delete -f h2 > /dev/null 2>&1
	if [ $rt = runc ]; then
		# runc shows the hook's stderr in its error; crun drops it.
		check "$rt: the hook's reason in runc's error" \
			grep -q 'ioasids.max=\\\?"lots\\\?": want a number' "$bundle/out"
	fi
	# A cgroup that does not name the container (container h3 in
	# /$parent/ct): refused, the container does not start.
	hooked /$parent/ct 3 sh -c 'echo started'
	check "$rt: a cgroup not named after the container: it does not start" \
		does_not_start $rt $bundle h3
	$rt delete -f h3 > /dev/null 2>&1
	if [ $rt = runc ]; then
		check "$rt: the hook's reason in runc's error" \
			grep -q 'does not name the container \\\?"h3' "$bundle/out"
	fi
	check "$rt: nothing left charged" eq "$base" cat $CG/ioasids.current
	rmdir $CG/$parent/h1 $CG/$parent/h2 $CG/$parent/ct 2>/dev/null
	rmdir $CG/$parent 2>/dev/null
done
done_testing
