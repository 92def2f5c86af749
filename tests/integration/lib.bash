# Helpers for integration tests run inside the guest: TAP output, one line
# per check, and an exit status that says whether all of them passed.
CG=/sys/fs/cgroup
CHARGE=/sys/kernel/debug/ioasids_cgroup/charge
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

# fails COMMAND...: succeeds when COMMAND fails.
fails() {
	! "$@"
}

# eq WANT COMMAND...: succeeds when COMMAND prints exactly WANT.
eq() {
	local want=$1 got
	shift
	got=$("$@") || return 1
	[ "$got" = "$want" ] || { echo "want '$want', got '$got'"; return 1; }
}

# Until an IOASID allocator is in the kernel, the test hook sets capacity.
ensure_capacity() {
	if [ "$(cat $CG/ioasids.capacity)" = 0 ]; then
		echo $((1 << 20)) > /sys/kernel/debug/ioasids_cgroup/capacity
	fi
}

done_testing() {
	echo "1..$_n"
	[ $_failed -eq 0 ]
}
