#!/bin/bash
# The ecosystem guide's per-pod default for Kubernetes pods under
# kubepods.slice: its "echo IOASIDS_MAX=... > /etc/ioasids/kubepods*"
# lines, taken from the guide and run into a temporary directory, then
# ioasids-limit (what ioasids@.service runs) for each slice on a
# fabricated cgroup tree. Every pod gets the default; the QoS class slices
# and kubepods.slice get none, so pods are not capped together.
. "$(dirname "$0")/../integration/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d /tmp/kubepods.XXXXXX)
trap 'rm -rf "$t"' EXIT
export IOASIDS_CONF_DIR=$t/etc IOASIDS_CGROUP_ROOT=$t/cg
mkdir -p "$t/etc" "$t/cg"
echo "cpu ioasids" > "$t/cg/cgroup.controllers"

grep -E '^ +echo IOASIDS_MAX=[^ ]+ +> /etc/ioasids/kubepods' \
	"$top/Documentation/admin-guide/ioasids-ecosystem.rst" |
	sed -e 's|/etc/ioasids/|$IOASIDS_CONF_DIR/|' -e 's/#.*//' > "$t/example"
check "the guide has the example" test -s "$t/example"
check "the example runs" bash "$t/example"

# limit SLICE CGROUP: ioasids-limit for SLICE at CGROUP; its ioasids.max.
limit() {
	mkdir -p "$t/cg$2"
	echo max > "$t/cg$2/ioasids.max"
	IOASIDS_CGROUP=$2 sh "$top/systemd-units/ioasids-limit" "$1" > /dev/null &&
		cat "$t/cg$2/ioasids.max"
}
K=/kubepods.slice
check "kubepods.slice: no limit" eq max limit kubepods.slice $K
check "kubepods-burstable.slice (all Burstable pods): no limit" \
	eq max limit kubepods-burstable.slice $K/kubepods-burstable.slice
check "kubepods-besteffort.slice (all BestEffort pods): no limit" \
	eq max limit kubepods-besteffort.slice $K/kubepods-besteffort.slice
check "a Burstable pod: the per-pod default" eq 64 \
	limit kubepods-burstable-pod1f2e_3d4c.slice \
	$K/kubepods-burstable.slice/kubepods-burstable-pod1f2e_3d4c.slice
check "a BestEffort pod: the per-pod default" eq 64 \
	limit kubepods-besteffort-pod5a6b.slice \
	$K/kubepods-besteffort.slice/kubepods-besteffort-pod5a6b.slice
check "a Guaranteed pod: the per-pod default" eq 64 \
	limit kubepods-pod7c8d.slice $K/kubepods-pod7c8d.slice
done_testing
