# Helpers for integration tests run inside the guest: TAP output, one line
# per check, and an exit status that says whether all of them passed.
CG=/sys/fs/cgroup
_n=0 _failed=0

# check NAME COMMAND...: one TAP result for COMMAND's exit status.
check() {
	local name=$1 out
	shift
	_n=$((_n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $_n $name"
	else
		echo "not ok $_n $name"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
		_failed=$((_failed + 1))
	fi
}

# fails COMMAND...: succeeds when COMMAND ran and said no: an exit status
# from 1 to 125. Not when it could not run at all (126, 127: "command not
# found", not executable) nor when it died of a signal (128 and up: a
# crash is no refusal), nor on timeout's 124.
fails() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	case $rc in
	0) echo "succeeded: $out"; return 1 ;;
	124) echo "timed out (exit 124): $out"; return 1 ;;
	126|127) echo "could not run (exit $rc): $out"; return 1 ;;
	esac
	if [ $rc -ge 128 ]; then
		echo "died of signal $((rc - 128)) (exit $rc): $out"
		return 1
	fi
	printf '%s\n' "$out"
}

# fails_with STATUS PATTERN COMMAND...: the refusal the test names:
# COMMAND exits with STATUS and its output (either stream) matches the
# extended regular expression PATTERN.
fails_with() {
	local want=$1 pattern=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	[ $rc -eq "$want" ] || { echo "exit $rc, want $want: $out"; return 1; }
	grep -qE -- "$pattern" <<< "$out" ||
		{ echo "exit $rc, but not '$pattern': $out"; return 1; }
}

# ok_says PATTERN COMMAND...: COMMAND exits 0 and its standard output
# matches PATTERN.
ok_says() {
	local pattern=$1 out rc
	shift
	out=$("$@" 2>/dev/null)
	rc=$?
	[ $rc -eq 0 ] || { echo "exit $rc, want 0: $out"; return 1; }
	grep -qE -- "$pattern" <<< "$out" || { echo "got: $out"; return 1; }
}

# eq WANT COMMAND...: succeeds when COMMAND prints exactly WANT.
eq() {
	local want=$1 got
	shift
	got=$("$@") || return 1
	[ "$got" = "$want" ] || { echo "want '$want', got '$got'"; return 1; }
}

# in_cg CGROUP COMMAND...: run COMMAND as a member of CGROUP (a path under
# the cgroup v2 root).
in_cg() {
	local cg=$CG/$1
	shift
	bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

# spawn_in_cg CGROUP COMMAND...: the same in the background; $! is COMMAND.
# Its standard input is the caller's (bash would give it /dev/null).
spawn_in_cg() {
	local cg=$CG/$1
	shift
	bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@" <&0 &
}

# wait_until WANT COMMAND...: wait up to 30 s for COMMAND to print WANT.
wait_until() {
	local want=$1 i
	shift
	for i in $(seq 300); do
		[ "$("$@")" = "$want" ] && return 0
		sleep 0.1
	done
	echo "$*: '$("$@")', not '$want'"
	return 1
}

# wait_for WANT FILE: wait up to 30 s for FILE to read WANT.
wait_for() {
	wait_until "$1" cat "$2"
}

# refused CGROUP COMMAND...: COMMAND fails, saying (as ioasidctl does) that
# ioasids.max of CGROUP refused it; CGROUP is an extended regular
# expression for the cgroup's path. Any other failure is not a refusal.
refused() {
	local cg=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "not refused: $out"
		return 1
	fi
	grep -qE "refused by ioasids\.max of cgroup $cg:" <<< "$out" ||
		{ echo "failed, but not refused by $cg: $out"; return 1; }
}

# in_scope SLICE COMMAND...: COMMAND in a new scope in SLICE; its status.
in_scope() {
	local slice=$1
	shift
	systemd-run --quiet --scope --slice="$slice" "$@"
}

# status_line UNIT: the IOASIDs: line of systemctl status UNIT (the patched
# systemd).
status_line() {
	systemctl status --no-pager "$1" | sed -n 's/^ *IOASIDs: //p'
}

# pid1_answers VERSION: wait up to 120 s for PID 1 (systemd) to answer
# with Version VERSION, as after a daemon-reexec it does once it has loaded
# every unit file again (over 9p, under TCG: tens of seconds).
pid1_answers() {
	local i
	for i in $(seq 240); do
		[ "$(systemctl show -P Version 2>/dev/null)" = "$1" ] && return 0
		sleep 0.5
	done
	echo "PID 1's version: '$(systemctl show -P Version 2>&1)', not '$1'"
	return 1
}

# status WANT COMMAND...: COMMAND exits with WANT.
status() {
	local want=$1 rc
	shift
	"$@" >/dev/null 2>&1
	rc=$?
	[ $rc -eq "$want" ] || { echo "exit $rc, want $want"; return 1; }
}

# says PATTERN COMMAND...: COMMAND's output (either stream) matches PATTERN.
says() {
	local pattern=$1 out
	shift
	out=$("$@" 2>&1)
	grep -qE "$pattern" <<< "$out" || { echo "got: $out"; return 1; }
}

done_testing() {
	echo "1..$_n"
	[ $_failed -eq 0 ]
}

# podman_rootfs DIR [SUBDIR...]: a root for podman --rootfs in DIR/rootfs,
# with SUBDIRs made too: the host's /usr is mounted on it read-only, its
# bin, lib, lib64 and sbin point into /usr, and /etc/passwd is empty.
podman_rootfs() {
	local dir=$1 d
	shift
	mkdir -p "$dir"/rootfs/{proc,sys,dev,tmp,usr,etc} || return
	for d in "$@"; do
		mkdir -p "$dir/rootfs/$d" || return
	done
	for d in bin lib lib64 sbin; do
		ln -s "usr/$d" "$dir/rootfs/$d" || return
	done
	: > "$dir/rootfs/etc/passwd"
}
