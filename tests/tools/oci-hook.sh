#!/bin/bash
# ioasids-oci-hook on fabricated files: a cgroup tree and a proc tree in a
# temporary directory (IOASIDS_HOOK_CGROUP_ROOT, IOASIDS_HOOK_PROC_ROOT),
# fed states on stdin: what it writes for each annotation, and that every
# bad input makes it exit 1 with a reason on stderr and write nothing.
# Built here with AddressSanitizer and UBSan, and fed mutated states
# (truncated, bytes flipped, inserted and deleted, deep nesting): its
# verdict must match a strict reference parser's (Python's json, with the
# hook's rules added) on every one. Run on the host by tests/harness/targets;
# the hook with real runtimes and a kernel is tested in the guest
# (tests/integration/oci-hook.sh).
. "$(dirname "$0")/../integration/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d /tmp/oci-hook.XXXXXX)
trap 'rm -rf "$t"' EXIT
HOOK=$t/hook
gcc -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -o "$HOOK" "$top/tools/ioasids-oci-hook.c" ||
	{ echo "not ok 1 build"; echo "1..1"; exit 1; }
export ASAN_OPTIONS=abort_on_error=0:exitcode=99 UBSAN_OPTIONS=exitcode=99
export IOASIDS_HOOK_CGROUP_ROOT=$t/cg IOASIDS_HOOK_PROC_ROOT=$t/proc
export IOASIDS_HOOK_CONF=$t/oci-hook.conf
POD=kubepods/pod01234567-89ab-cdef-0123-456789abcdef

# A fresh tree: the root with the controller, /$POD/ctr holding PID 42,
# /top holding PID 43, the root for PID 44, garbage for 45-48; the hook
# itself in /hook (proc/self); no ceilings file.
fresh() {
	rm -rf "$t/cg" "$t/proc" "$IOASIDS_HOOK_CONF"
	mkdir -p "$t/cg/${POD}/ctr" "$t/cg/top/ctr" "$t/cg/hook" "$t/proc/self" "$t/cg/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod01234567_89ab_cdef_0123_456789abcdef.slice/crio-1.scope" "$t/cg/machine.slice/machine-libpod_pod_9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f.slice/libpod-2.scope" "$t/cg/machine.slice/libpod-3.scope" "$t"/proc/{42,43,44,45,46,47,48}
	echo "cpu memory pids ioasids" > "$t/cg/cgroup.controllers"
	echo "cpu" > "$t/cg/cgroup.subtree_control"
	for d in $(cd "$t/cg" && find "$PWD" -mindepth 1 -type d); do
		echo max > "$d/ioasids.max"
		: > "$d/cgroup.subtree_control"
	done
	printf '1:name=systemd:/x\n0::/%s/ctr\n' "$POD" > "$t/proc/42/cgroup"
	echo "0::/hook" > "$t/proc/self/cgroup"
	echo "0::/top" > "$t/proc/43/cgroup"
	echo "0::/" > "$t/proc/44/cgroup"
	echo "0::/${POD}/../top" > "$t/proc/45/cgroup"
	echo "1:cpu:/pod" > "$t/proc/46/cgroup"
	echo "0::pod" > "$t/proc/47/cgroup"
	echo "0::/${POD}//ctr" > "$t/proc/48/cgroup"
	mkdir -p "$t"/proc/{50,51,52,53}
	echo "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod01234567_89ab_cdef_0123_456789abcdef.slice/crio-1.scope" > "$t/proc/50/cgroup"
	echo "0::/machine.slice/machine-libpod_pod_9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f.slice/libpod-2.scope" > "$t/proc/51/cgroup"
	echo "0::/machine.slice/libpod-3.scope" > "$t/proc/52/cgroup"
	echo "0::/top/ctr" > "$t/proc/53/cgroup"
}

# state PID ANNOTATIONS-JSON [ID]: a runtime's state, for the container
# ID (by default the one that PID's cgroup names).
state() {
	local id=$3
	if [ -z "$id" ]; then
		case $1 in
		43) id=top ;;
		50) id=1 ;;
		51) id=2 ;;
		52) id=3 ;;
		*) id=ctr ;;
		esac
	fi
	printf '{"ociVersion":"1.0.2","id":"%s","status":"created","pid":%s,"bundle":"%s","annotations":%s}' \
		"$id" "$1" "$t/bundle" "$2"
}

# hook STDIN: run it; its stderr in $t/err; its status.
hook() {
	printf '%s' "$1" | "$HOOK" 2> "$t/err"
}

# refused_in NAME SETUP STDIN PATTERN: on a fresh tree that the command
# SETUP changed, exit 1, PATTERN on stderr, nothing written.
refused_in() {
	local name=$1 setup=$2 in=$3 pattern=$4 before
	fresh
	eval "$setup"
	before=$(cd "$t/cg" && grep -r . | sort)
	check "refused: $name" bash -c '
		printf "%s" "$1" | "$2" 2> "$3/err"; rc=$?
		[ $rc -eq 1 ] || { echo "exit $rc"; cat "$3/err"; exit 1; }
		grep -qE "^ioasids-oci-hook: .*$4" "$3/err" || { echo "stderr:"; cat "$3/err"; exit 1; }' \
		_ "$in" "$HOOK" "$t" "$pattern"
	check "refused: $name: nothing written" test "$before" = "$(cd "$t/cg" && grep -r . | sort)"
}

# refused NAME STDIN PATTERN: refused_in on a fresh tree as it is.
refused() {
	refused_in "$1" : "$2" "$3"
}

# pod-max only where the parent is named as a pod's cgroup is.
fresh
check "pod-max: a Kubernetes pod slice (systemd driver)" \
	hook "$(state 50 '{"ioasids.pod-max":"8"}')"
check "pod-max: written to the pod slice" eq 8 \
	cat "$t/cg/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod01234567_89ab_cdef_0123_456789abcdef.slice/ioasids.max"
check "pod-max: not to the QoS class slice" eq max \
	cat "$t/cg/kubepods.slice/kubepods-burstable.slice/ioasids.max"
check "pod-max: a podman pod slice" hook "$(state 51 '{"ioasids.pod-max":"8"}')"
check "pod-max: written to the podman pod slice" eq 8 \
	cat "$t/cg/machine.slice/machine-libpod_pod_9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f.slice/ioasids.max"
refused "pod-max outside a pod (machine.slice)" "$(state 52 '{"ioasids.pod-max":"8"}')" \
	"parent cgroup /machine.slice is not a pod's"
refused "pod-max outside a pod (/top)" "$(state 53 '{"ioasids.pod-max":"8"}')" \
	"parent cgroup /top is not a pod's"

# What it writes.
fresh
check "ioasids.max=3: exit 0" hook "$(state 42 '{"ioasids.max":"3"}')"
check "ioasids.max=3: the container's limit" eq 3 cat "$t/cg/${POD}/ctr/ioasids.max"
check "ioasids.max=3: the pod's unchanged" eq max cat "$t/cg/${POD}/ioasids.max"
check "ioasids.max=3: +ioasids at the root, once" \
	eq "+ioasids" cat "$t/cg/cgroup.subtree_control"
check "ioasids.max=3: +ioasids in the parent" eq "+ioasids" cat "$t/cg/${POD}/cgroup.subtree_control"
check "ioasids.max=3: not in the container's own" eq "" cat "$t/cg/${POD}/ctr/cgroup.subtree_control"
check "ioasids.max=3: quiet" eq "" cat "$t/err"

fresh
echo "cpu ioasids" > "$t/cg/cgroup.subtree_control"
check "already enabled: exit 0" hook "$(state 42 '{"ioasids.max":"max"}')"
check "already enabled: not written again" eq "cpu ioasids" cat "$t/cg/cgroup.subtree_control"
check "\"max\" is written" eq max cat "$t/cg/${POD}/ctr/ioasids.max"

fresh
check "ioasids.pod-max=8: exit 0" hook "$(state 42 '{"ioasids.pod-max":"8"}')"
check "ioasids.pod-max=8: the pod's limit" eq 8 cat "$t/cg/${POD}/ioasids.max"
check "ioasids.pod-max=8: the container's unchanged" eq max cat "$t/cg/${POD}/ctr/ioasids.max"
check "ioasids.pod-max=8: enabled down to the pod's parent only" \
	eq "+ioasids|+ioasids|" bash -c "echo \"\$(cat $t/cg/cgroup.subtree_control)|\$(cat $t/cg/kubepods/cgroup.subtree_control)|\$(cat $t/cg/${POD}/cgroup.subtree_control)\""

fresh
check "both: exit 0" hook "$(state 42 '{"x":"y","ioasids.max":"2","ioasids.pod-max":"16"}')"
check "both: the container's" eq 2 cat "$t/cg/${POD}/ctr/ioasids.max"
check "both: the pod's" eq 16 cat "$t/cg/${POD}/ioasids.max"

fresh
check "one level below the root: exit 0" hook "$(state 43 '{"ioasids.max":"5"}')"
check "one level below the root: written" eq 5 cat "$t/cg/top/ioasids.max"

fresh
before=$(cd "$t/cg" && grep -r . | sort)
check "no annotation of ours: exit 0" hook "$(state 42 '{"other":"3"}')"
check "no annotation of ours: nothing written" \
	test "$before" = "$(cd "$t/cg" && grep -r . | sort)"
check "escaped key and value: exit 0" \
	hook "$(state 42 '{"ioasids\u002emax":"\u0034"}')"
check "escaped key and value: decoded" eq 4 cat "$t/cg/${POD}/ctr/ioasids.max"

# The state without annotations: those of the bundle's config.json.
fresh
mkdir -p "$t/bundle"
echo '{"ociVersion":"1.0.2","process":{"args":["sh"]},"annotations":{"ioasids.max":"7"}}' \
	> "$t/bundle/config.json"
check "annotations from config.json" \
	hook "{\"pid\":42,\"bundle\":\"$t/bundle\",\"id\":\"ctr\"}"
check "annotations from config.json: written" eq 7 cat "$t/cg/${POD}/ctr/ioasids.max"

fresh
check "--dry-run: prints" eq "$t/cg/cgroup.subtree_control: +ioasids
$t/cg/kubepods/cgroup.subtree_control: +ioasids
$t/cg/${POD}/cgroup.subtree_control: +ioasids
$t/cg/${POD}/ctr/ioasids.max: 3" bash -c "printf '%s' '$(state 42 '{"ioasids.max":"3"}')' | $HOOK --dry-run"
check "--dry-run: writes nothing" eq max cat "$t/cg/${POD}/ctr/ioasids.max"

# An annotation may only lower a limit: not above the cgroup's current
# ioasids.max, nor above the ceilings in IOASIDS_HOOK_CONF.
fresh
echo 5 > "$t/cg/$POD/ioasids.max"
check "pod-max 3 under the pod's 5: exit 0" hook "$(state 42 '{"ioasids.pod-max":"3"}')"
check "pod-max 3 under the pod's 5: written" eq 3 cat "$t/cg/$POD/ioasids.max"
check "pod-max 3 again: exit 0" hook "$(state 42 '{"ioasids.pod-max":"3"}')"
refused_in "pod-max above the pod's limit" 'echo 5 > $t/cg/$POD/ioasids.max' \
	"$(state 42 '{"ioasids.pod-max":"6"}')" 'pod-max="6" is above ioasids.max of /kubepods/pod[-0-9a-f]+: 5'
refused_in "pod-max max where the pod has a limit" 'echo 5 > $t/cg/$POD/ioasids.max' \
	"$(state 42 '{"ioasids.pod-max":"max"}')" 'pod-max="max" is above'
refused_in "ioasids.max above the container's limit" 'echo 2 > $t/cg/$POD/ctr/ioasids.max' \
	"$(state 42 '{"ioasids.max":"0003"}')" 'ioasids.max="0003" is above ioasids.max of .*/ctr: 2'
refused_in "both, the container's above: the pod's not written either" \
	'echo 2 > $t/cg/$POD/ctr/ioasids.max' \
	"$(state 42 '{"ioasids.pod-max":"1","ioasids.max":"3"}')" 'ioasids.max="3" is above'
refused_in "pod-max above the ceiling" 'echo IOASIDS_POD_MAX_CEILING=8 > $IOASIDS_HOOK_CONF' \
	"$(state 42 '{"ioasids.pod-max":"9"}')" "pod-max=\"9\" is above the ceiling 8 of IOASIDS_POD_MAX_CEILING in $t/oci-hook.conf"
refused_in "ioasids.max max above the ceiling" \
	'printf "# c\n\n  IOASIDS_MAX_CEILING = 4  \n" > $IOASIDS_HOOK_CONF' \
	"$(state 42 '{"ioasids.max":"max"}')" 'ioasids.max="max" is above the ceiling 4 of IOASIDS_MAX_CEILING'
refused_in "ceilings file: bad value" 'echo IOASIDS_MAX_CEILING=-1 > $IOASIDS_HOOK_CONF' \
	"$(state 42 '{"ioasids.max":"1"}')" 'oci-hook.conf: line 1: IOASIDS_MAX_CEILING="-1": want a number'
refused_in "ceilings file: unknown key" 'printf "\nIOASIDS_MAX=4\n" > $IOASIDS_HOOK_CONF' \
	"$(state 42 '{"ioasids.max":"1"}')" 'oci-hook.conf: line 2: unknown key "IOASIDS_MAX"'
refused_in "ceilings file: a key twice" \
	'printf "IOASIDS_MAX_CEILING=4\nIOASIDS_MAX_CEILING=9\n" > $IOASIDS_HOOK_CONF' \
	"$(state 42 '{"ioasids.max":"1"}')" 'line 2: IOASIDS_MAX_CEILING given twice'
refused_in "ceilings file: not KEY=VALUE" 'echo IOASIDS_MAX_CEILING > $IOASIDS_HOOK_CONF' \
	"$(state 42 '{"ioasids.max":"1"}')" 'line 1: want KEY=VALUE'
refused_in "ceilings file: writable by others" \
	'echo IOASIDS_MAX_CEILING=4 > $IOASIDS_HOOK_CONF; chmod 0666 $IOASIDS_HOOK_CONF' \
	"$(state 42 '{"ioasids.max":"1"}')" 'not a regular file owned by root'
fresh
echo IOASIDS_POD_MAX_CEILING=8 > "$IOASIDS_HOOK_CONF"
check "pod-max at the ceiling: exit 0" hook "$(state 42 '{"ioasids.pod-max":"8"}')"
check "pod-max at the ceiling: written" eq 8 cat "$t/cg/$POD/ioasids.max"

# The container's cgroup: not the hook's own, named after the container.
refused_in "the container's cgroup is the hook's own" \
	'echo "0::/$POD/ctr" > $t/proc/self/cgroup' \
	"$(state 42 '{"ioasids.max":"1"}')" "cgroup /$POD/ctr is the hook's own"
refused_in "the container's cgroup is above the hook's" \
	'echo "0::/top/ctr/x" > $t/proc/self/cgroup' \
	"$(state 43 '{"ioasids.max":"1"}')" "cgroup /top is the hook's own, or above it"
refused_in "a cgroup that does not name the container" '' \
	"$(state 42 '{"ioasids.max":"1"}' other)" 'cgroup /kubepods/pod[-0-9a-f]+/ctr does not name the container "other"'
refused_in "a cgroup that only ends in the id" '' \
	"$(state 42 '{"ioasids.max":"1"}' tr)" 'does not name the container "tr"'
refused_in "no id" '' "{\"pid\":42,\"annotations\":{\"ioasids.max\":\"1\"}}" 'the state has no "id"'
refused_in "an id with a slash" '' "$(state 42 '{"ioasids.max":"1"}' a/ctr)" 'is not a container id'
fresh
mkdir -p "$t/cg/machine.slice/machine-libpod_pod_${POD: -36:8}${POD: -27:4}${POD: -22:4}${POD: -17:4}${POD: -12}${POD: -36:8}${POD: -27:4}${POD: -22:4}${POD: -17:4}${POD: -12}.slice/libpod-x-c2.scope/container"
echo max > "$t/cg/machine.slice/machine-libpod_pod_$(printf '%s' "${POD#kubepods/pod}" | tr -d -)$(printf '%s' "${POD#kubepods/pod}" | tr -d -).slice/ioasids.max"
mkdir -p "$t/proc/60"
echo "0::/machine.slice/machine-libpod_pod_$(printf '%s' "${POD#kubepods/pod}" | tr -d -)$(printf '%s' "${POD#kubepods/pod}" | tr -d -).slice/libpod-x-c2.scope/container" > "$t/proc/60/cgroup"
check "crun's \"container\" sub-cgroup of the container's scope: exit 0" \
	hook "$(state 60 '{"ioasids.pod-max":"4"}' c2)"
check "crun's \"container\" sub-cgroup: the pod is the scope's parent" eq 4 \
	cat "$t/cg/machine.slice/machine-libpod_pod_$(printf '%s' "${POD#kubepods/pod}" | tr -d -)$(printf '%s' "${POD#kubepods/pod}" | tr -d -).slice/ioasids.max"

# Only pod cgroups named exactly take ioasids.pod-max.
for parent in podman.slice machine-podman.slice pods kubepods/burstable kubepods/pod1234 \
	kubepods/burstable/pod0123456789ABCDEF0123456789abcdef x/pod01234567-89ab-cdef-0123-456789abcdef \
	kubepods.slice/kubepods-burstable-pod01234567_89ab_cdef_0123_456789abcdef.slice \
	kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod01234567-89ab-cdef-0123-456789abcdef.slice \
	machine.slice/machine-libpod_pod_9f.slice; do
	refused_in "pod-max with the parent /$parent" \
		"mkdir -p $t/cg/$parent/ctr $t/proc/61; echo max > $t/cg/$parent/ioasids.max; echo 0::/$parent/ctr > $t/proc/61/cgroup" \
		"$(state 61 '{"ioasids.pod-max":"3"}')" "parent cgroup /$parent is not a pod's"
done

# Bad values, states and trees: exit 1, a reason, nothing written.
A='{"ioasids.max":"3"}'
refused "value abc" "$(state 42 '{"ioasids.max":"abc"}')" 'want a number or "max"'
refused "value -1" "$(state 42 '{"ioasids.max":"-1"}')" 'want a number'
refused "value empty" "$(state 42 '{"ioasids.max":""}')" 'want a number'
refused "value with a space" "$(state 42 '{"ioasids.max":" 3"}')" 'want a number'
refused "value 3\\n" "$(state 42 '{"ioasids.max":"3\n"}')" 'max="3\?": want a number'
refused "value +3" "$(state 42 '{"ioasids.max":"+3"}')" 'want a number'
refused "value MAX" "$(state 42 '{"ioasids.max":"MAX"}')" 'want a number'
refused "value of 21 digits" "$(state 42 '{"ioasids.max":"123456789012345678901"}')" 'want a number'
refused "value a number, not a string" "$(state 42 '{"ioasids.max":3}')" 'must be a string'
refused "value with NUL" "$(state 42 '{"ioasids.max":"3\u0000"}')" 'NUL'
refused "pod value bad, container good" \
	"$(state 42 '{"ioasids.max":"3","ioasids.pod-max":"x"}')" 'pod-max="x"'
refused "annotation twice" "$(state 42 '{"ioasids.max":"3","ioasids.max":"4"}')" 'given twice'
refused "annotation twice, escaped" "$(state 42 '{"ioasids.max":"3","ioasids.ma\u0078":"4"}')" 'given twice'
refused "another annotation not a string" "$(state 42 '{"a":1,"ioasids.max":"3"}')" 'must be strings'
refused "annotations an array" "$(state 42 '["ioasids.max"]')" 'must be an object'
refused "annotations twice" \
	"{\"pid\":42,\"annotations\":{},\"annotations\":$A}" 'given twice'
refused "pid twice" "{\"pid\":42,\"pid\":43,\"annotations\":$A}" 'given twice'
refused "no pid" "{\"annotations\":$A}" 'no "pid"'
refused "pid 0" "$(state 0 "$A")" 'process ID'
refused "pid -1" "$(state -1 "$A")" 'process ID'
refused "pid 4.2" "$(state 4.2 "$A")" 'process ID'
refused "pid 42e0" "$(state 42e0 "$A")" 'process ID'
refused "pid 2^31" "$(state 2147483648 "$A")" 'process ID'
refused "pid of 30 digits" "$(state 123456789012345678901234567890 "$A")" 'process ID'
refused "pid a string" "$(state '"42"' "$A")" 'must be a number'
refused "pid null" "$(state null "$A")" 'must be a number'
refused "pid gone" "$(state 4242 "$A")" 'cannot read .*/proc/4242/cgroup'
refused "container in the root" "$(state 44 "$A")" 'not below the root'
refused "cgroup path with .." "$(state 45 "$A")" 'odd cgroup path'
refused "cgroup path with //" "$(state 48 "$A")" 'odd cgroup path'
refused "cgroup path relative" "$(state 47 "$A")" 'not below the root'
refused "cgroup v1 only" "$(state 46 "$A")" 'no cgroup v2'
refused "pod-max right below the root" "$(state 43 '{"ioasids.pod-max":"3"}')" 'no pod cgroup'
refused "bundle not a string" "{\"pid\":42,\"bundle\":1}" '"bundle" must be a string'
refused "no annotations, no bundle" '{"pid":42}' 'neither annotations nor a bundle'
refused "no annotations, no config.json" "{\"pid\":42,\"bundle\":\"$t/none\"}" 'cannot read'
refused "empty input" '' 'not a JSON object'
refused "top-level array" "[$A]" 'not a JSON object'
refused "truncated" "$(state 42 "$A" | head -c 40)" 'byte'
refused "trailing garbage" "$(state 42 "$A")x" 'trailing data'
refused "two objects" "$(state 42 "$A")$(state 42 "$A")" 'trailing data'
refused "trailing comma" "{\"pid\":42,\"annotations\":$A,}" 'expected a member name'
refused "single quotes" "{'pid':42}" 'expected a member name'
refused "NaN" "{\"x\":NaN,\"pid\":42,\"annotations\":$A}" 'invalid number'
refused "leading zero" "{\"x\":01,\"pid\":42,\"annotations\":$A}" "expected ','"
refused "bare minus" "{\"x\":-,\"pid\":42,\"annotations\":$A}" 'invalid number'
refused "bad literal" "{\"x\":tru,\"pid\":42,\"annotations\":$A}" 'invalid value'
refused "bad escape" "{\"x\":\"\\q\",\"pid\":42,\"annotations\":$A}" 'bad escape'
refused "short \\u" "{\"x\":\"\\u12\",\"pid\":42,\"annotations\":$A}" 'bad \\u|short'
refused "lone high surrogate" "{\"x\":\"\\ud800\",\"pid\":42,\"annotations\":$A}" 'surrogate'
refused "lone low surrogate" "{\"x\":\"\\udc00\",\"pid\":42,\"annotations\":$A}" 'surrogate'
refused "raw control character" "$(printf '{"x":"a\tb","pid":42,"annotations":%s}' "$A")" 'control character'
refused "invalid UTF-8" "$(printf '{"x":"\xc3\x28","pid":42,"annotations":%s}' "$A")" 'UTF-8'
refused "overlong UTF-8" "$(printf '{"x":"\xc0\xaf","pid":42,"annotations":%s}' "$A")" 'UTF-8'
refused "UTF-8 surrogate" "$(printf '{"x":"\xed\xa0\x80","pid":42,"annotations":%s}' "$A")" 'UTF-8'
refused "UTF-8 BOM" "$(printf '\xef\xbb\xbf')$(state 42 "$A")" 'not a JSON object'
refused "nested 65 deep" \
	"{\"x\":$(printf '[%.0s' $(seq 64))$(printf ']%.0s' $(seq 64)),\"pid\":42,\"annotations\":$A}" \
	'nested deeper than 64'
refused "nested 100000 deep" "{\"x\":$(printf '[%.0s' $(seq 100000))" 'nested deeper'
fresh
echo "cpu memory" > "$t/cg/cgroup.controllers"
check "refused: kernel without the controller: says so" \
	bash -c "printf '%s' '$(state 42 "$A")' | $HOOK 2>&1 | grep -q 'no ioasids controller'"
check "refused: kernel without the controller: exit 1" \
	status 1 bash -c "printf '%s' '$(state 42 "$A")' | $HOOK"
check "refused: kernel without the controller: nothing written" \
	eq max cat "$t/cg/${POD}/ctr/ioasids.max"
fresh
rm "$t/cg/${POD}/ctr/ioasids.max"
check "refused: no ioasids.max to write" status 1 bash -c "printf '%s' '$(state 42 "$A")' | $HOOK"
check "refused: input over 4 MiB" says "longer than 4194304 bytes" bash -c \
	"{ printf '{\"x\":\"'; head -c 5000000 /dev/zero | tr '\\0' a; printf '\"}'; } | $HOOK"
check "accepted: input just under 4 MiB" status 0 bash -c \
	"{ printf '{\"annotations\":{},\"x\":\"'; head -c 4000000 /dev/zero | tr '\\0' a; printf '\"}'; } | $HOOK"
check "usage: bad option, exit 1" status 1 "$HOOK" --bogus
check "--version" says '^ioasids-oci-hook ' "$HOOK" --version

# Differential fuzzing against Python's json with the hook's rules.
fresh
check "fuzz: verdicts match a reference parser on 1500 mutated states" \
	python3 - "$HOOK" "$t" <<'PY'
import json, os, random, subprocess, sys
hook, t = sys.argv[1], sys.argv[2]
env = dict(os.environ)
random.seed(19)
seeds = [
    b'{"ociVersion":"1.0.2","id":"ctr","status":"created","pid":42,'
    b'"bundle":"/b","annotations":{"ioasids.max":"3","a":"\\u00e9\\n"}}',
    b'{"pid":42,"id":"ctr","annotations":{"ioasids.pod-max":"8","ioasids.max":"max"},'
    b'"x":[1,-2.5e3,true,false,null,{"k":[]}],"y":"\\ud83d\\ude00 \xc3\xa9"}',
    b'{"annotations":{"ioasids.max":"12"},"pid":43,"id":"top"}',
]

def ok_limit(v):
    return v == "max" or (0 < len(v) <= 20 and all(c in "0123456789" for c in v))

def reference(data):
    """0 if the hook must accept data (pid 42/43 exist), else 1."""
    try:
        text = data.decode("utf-8")
        if text[:1] == "\ufeff":
            return 1
        dup = []
        def pairs(kv):
            keys = [k for k, _ in kv]
            return dict(kv), keys
        def hook_obj(kv):
            return {"__pairs__": kv}
        doc = json.loads(text, object_pairs_hook=hook_obj,
                         parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return 1
    def depth(o):
        if isinstance(o, dict):
            return 1 + max([depth(v) for _, v in o["__pairs__"]] or [0])
        if isinstance(o, list):
            return 1 + max([depth(v) for v in o] or [0])
        return 0
    if depth(doc) > 64:
        return 1
    # Lone surrogates: Python takes them, the hook does not.
    if any(0xd800 <= ord(c) <= 0xdfff for c in json.dumps(doc, ensure_ascii=False)
           if isinstance(c, str)):
        return 1
    if not isinstance(doc, dict):
        return 1
    top = doc["__pairs__"]
    keys = [k for k, _ in top]
    for k in ("pid", "id", "bundle", "annotations"):
        if keys.count(k) > 1:
            return 1
    d = dict(top)
    pid = d.get("pid")
    if "pid" in d:
        if isinstance(pid, bool) or not isinstance(pid, (int, float)):
            return 1
        if not isinstance(pid, int) or not (1 <= pid <= 2**31 - 1):
            return 1
    if "bundle" in d and not isinstance(d["bundle"], str):
        return 1
    if "bundle" in d and "\0" in d["bundle"]:
        return 1
    if "id" in d and (not isinstance(d["id"], str) or "\0" in d["id"]):
        return 1
    if "annotations" not in d:
        return 1            # /b/config.json does not exist
    an = d["annotations"]
    if not isinstance(an, dict):
        return 1
    akeys = [k for k, _ in an["__pairs__"]]
    if any(not isinstance(v, str) for _, v in an["__pairs__"]):
        return 1
    for k in ("ioasids.max", "ioasids.pod-max"):
        if akeys.count(k) > 1:
            return 1
    a = dict(an["__pairs__"])
    mx, pm = a.get("ioasids.max"), a.get("ioasids.pod-max")
    if mx is None and pm is None:
        return 0
    for v in (mx, pm):
        if v is not None and ("\0" in v or not ok_limit(v)):
            return 1
    if pid not in (42, 43):
        return 1
    # The container's cgroup (.../ctr, /top) must name its id.
    if d.get("id") != {42: "ctr", 43: "top"}[pid]:
        return 1
    if pm is not None and pid == 43:
        return 1
    return 0

def mutate(b):
    b = bytearray(b)
    for _ in range(random.randint(1, 4)):
        op = random.randrange(5)
        i = random.randrange(len(b) + 1)
        if op == 0 and b:
            b = b[:random.randrange(len(b))]
        elif op == 1 and i < len(b):
            b[i] = random.randrange(256)
        elif op == 2:
            b[i:i] = bytes([random.choice(b'{}[],:"\\u0123456789-+.eE \x00\xc3\xff')])
        elif op == 3 and i < len(b):
            del b[i]
        else:
            j = random.randrange(len(b) + 1)
            b[i:i] = b[min(i, j):max(i, j)][:64]
    return bytes(b)

bad = 0
for n in range(1500):
    data = mutate(random.choice(seeds)) if n else seeds[0]
    for d in ("kubepods/pod01234567-89ab-cdef-0123-456789abcdef/ctr", "kubepods/pod01234567-89ab-cdef-0123-456789abcdef", "top"):
        open(os.path.join(t, "cg", d, "ioasids.max"), "w").write("max\n")
    r = subprocess.run([hook, "--dry-run"], input=data, capture_output=True, env=env)
    if r.returncode not in (0, 1):
        print("crash or sanitizer report (exit %d) on %r:\n%s" % (r.returncode, data, r.stderr.decode(errors="replace")))
        sys.exit(1)
    if r.returncode == 1 and not r.stderr.startswith(b"ioasids-oci-hook: "):
        print("exit 1 without a reason on %r" % data)
        bad += 1
    want = reference(data)
    if r.returncode != want:
        print("on %r: hook exit %d, reference %d: %s" % (data, r.returncode, want, r.stderr.decode(errors="replace").strip()))
        bad += 1
    if bad > 10:
        break
sys.exit(1 if bad else 0)
PY
done_testing
