#!/bin/bash
# The cgroup selftest as upstream's CI runs it: a kernel built from the
# selftests' config may lack CONFIG_CGROUP_IOASIDS_TEST's debugfs files
# (here: debugfs hidden under a tmpfs, in a mount namespace of its own),
# and a service manager may use the controller below the root (here: a
# cgroup with +ioasids in its subtree_control). Only the tests that need
# the hook, and the v1 test, skip, each saying why; the rest pass.
. "$(dirname "$0")/lib.bash"
T=$(cd "$(dirname "$0")/../.." && pwd)/build/tests/selftests/test_ioasids
echo +ioasids > $CG/cgroup.subtree_control
mkdir -p $CG/busy
echo +ioasids > $CG/busy/cgroup.subtree_control
out=$(unshare -m --propagation private bash -c \
	'mount -t tmpfs none /sys/kernel/debug && exec "$0"' "$T" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
rmdir $CG/busy

check "exits 0" test $rc -eq 0
for t in files defaults max_writes limit_below_current events events_poll \
	nested migration peak; do
	check "test_ioasids_$t passes" grep -qE "^ok [0-9]+ test_ioasids_$t\$" <<< "$out"
done
for t in rmdir_live rmdir_limit disable_limit stat capacity; do
	check "test_ioasids_$t skips, needing the hook" bash -c \
		'grep -qE "^ok [0-9]+ # SKIP test_ioasids_$1\$" <<< "$0" &&
		 grep -q "test_ioasids_$1: needs CONFIG_CGROUP_IOASIDS_TEST" <<< "$0"' "$out" "$t"
done
check "test_ioasids_v1 skips, the controller in use on v2" bash -c \
	'grep -qE "^ok [0-9]+ # SKIP test_ioasids_v1\$" <<< "$0" &&
	 grep -q -- "-ioasids at the root: Device or resource busy" <<< "$0"' "$out"
check "nothing fails" bash -c '! grep -q "^not ok" <<< "$0"' "$out"
check "the controller is back at the root" \
	grep -qw ioasids $CG/cgroup.subtree_control
done_testing
