#!/bin/bash
# Rootless, under the patched systemd 252 as PID 1: user@.service delegates
# ioasids (the user@.service.d drop-in make install installs), so that a
# user's own service manager, and rootless podman under it, limit the
# PASIDs of the user's units and containers inside the user's subtree,
# below user-UID.slice's own limit. The user is in the kvm group, which
# /dev/ioasid belongs to; podman keeps it in the container
# (--group-add keep-groups). Each limit is checked by a refusal.
. "$(dirname "$0")/../integration/lib.bash"

u=ioasidrl uid=4713
svc=$CG/user.slice/user-$uid.slice/user@$uid.service
# The guest's root is a tmpfs overlay: the user is gone at power-off.
check useradd useradd -u $uid -m -G kvm -s /bin/sh $u
# as_user COMMAND...: COMMAND as the user, in the user's environment.
as_user() {
	runuser -u $u -- env -C /home/$u HOME=/home/$u XDG_RUNTIME_DIR=/run/user/$uid \
		DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus "$@"
}
cleanup() {
	loginctl disable-linger $u 2>/dev/null
	systemctl stop user@$uid.service user-$uid.slice 2>/dev/null
}
trap cleanup EXIT
base=$(cat $CG/ioasids.current)

# The user's service manager, as at a login (linger starts it at once).
echo "# ${SECONDS}s: linger"
check linger loginctl enable-linger $u
# Up to 5 minutes: a user's manager takes about 2 under TCG.
manager_up() {
	local i
	for i in $(seq 300); do
		[ "$(systemctl show -P ActiveState user@$uid.service)" = active ] && return 0
		sleep 1
	done
	systemctl status --no-pager user@$uid.service | sed 's/^/# /'
	return 1
}
check user-manager manager_up
check delegate-property bash -c \
	"systemctl show -P DelegateControllers user@$uid.service | grep -qw ioasids"
check delegated grep -qw ioasids $svc/cgroup.controllers
check subtree-owned-by-user eq $u stat -c %U $svc/cgroup.subtree_control
check slice-limit wait_for 512 $CG/user.slice/user-$uid.slice/ioasids.max
check user-bus wait_until yes bash -c "test -S /run/user/$uid/bus && echo yes"

echo "# ${SECONDS}s: the user's unit"
# A unit of the user's own, with a limit the user sets.
check user-unit-2-ok as_user systemd-run --user --quiet --wait --pipe \
	-p IOASIDsMax=2 ioasidctl alloc --count 2
check user-unit-3-refused refused "/user\.slice/user-$uid\.slice/user@$uid\.service/app\.slice/run-[^:]+\.service" \
	as_user systemd-run --user --quiet --wait --pipe -p IOASIDsMax=2 ioasidctl alloc --count 3

# Rootless podman with the patched crun, systemd's cgroup manager (the
# user's): --cgroup-conf ioasids.max=2 in the container's scope under the
# user's manager. No registry: --rootfs, the host's /usr read-only.
t=/home/$u/podman
# ioasidctl set-max, run by root, on a unit of the user's manager that
# sets IOASIDsMax=: that manager owns the file (by delegation), so it is
# refused, nothing written, and the user's set-property named.
check user-unit-held as_user systemd-run --user --quiet --unit=ioasids-hold \
	-p IOASIDsMax=2 sleep infinity
hold=user.slice/user-$uid.slice/user@$uid.service/app.slice/ioasids-hold.service
check user-unit-limit wait_for 2 $CG/$hold/ioasids.max
check ctl-set-max-user-unit-refused status 2 ioasidctl set-max $hold 5
check ctl-set-max-user-unit-says-how \
	says "use: systemctl --user -M $u@ set-property 'ioasids-hold.service' IOASIDsMax=5" \
	ioasidctl set-max $hold 5
check ctl-set-max-user-unit-unchanged eq 2 cat $CG/$hold/ioasids.max
# The command it names works, run by root as printed.
check ctl-set-max-user-how-works systemctl --user -M $u@ set-property ioasids-hold.service IOASIDsMax=5
check ctl-set-max-user-how-took wait_for 5 $CG/$hold/ioasids.max
as_user systemctl --user stop ioasids-hold.service
# The control: a user unit without IOASIDsMax= is root's to write.
check user-unit-unlimited as_user systemd-run --user --quiet --unit=ioasids-free sleep infinity
free=user.slice/user-$uid.slice/user@$uid.service/app.slice/ioasids-free.service
check ctl-set-max-free-unit ioasidctl set-max $free 3
check ctl-set-max-free-unit-written eq 3 cat $CG/$free/ioasids.max
as_user systemctl --user stop ioasids-free.service

echo "# ${SECONDS}s: podman"
podman_rootfs $t && chown -R $u: $t
cat > $t/rootfs/job <<'JOB'
cg=$(sed -n "s/^0:://p" /proc/self/cgroup)
echo "cgroup=$cg"
echo "max=$(cat /sys/fs/cgroup$cg/ioasids.max)"
ioasidctl alloc --count 2 > /dev/null && echo "2 fit"
ioasidctl alloc --count 3 || echo "3 refused"
JOB
as_user podman --root $t/storage --runroot /run/user/$uid/podman --tmpdir $t/tmp \
	--storage-driver vfs --runtime /usr/bin/crun \
	--cgroup-manager systemd --events-backend none \
	run --rm --network none --device /dev/ioasid --group-add keep-groups \
	--cgroupns host -v /usr:/usr:ro --cgroup-conf ioasids.max=2 --rootfs $t/rootfs \
	sh /job > /tmp/rootless.out 2>&1
sed 's/^/# /' /tmp/rootless.out
echo "# ${SECONDS}s: podman done"
scope="/user\.slice/user-$uid\.slice/user@$uid\.service/user\.slice/libpod-[0-9a-f]+\.scope(/container)?"
check podman-scope-under-user grep -qE "^cgroup=$scope\$" /tmp/rootless.out
check podman-max-2 grep -qx max=2 /tmp/rootless.out
check podman-2-fit grep -qx '2 fit' /tmp/rootless.out
check podman-3rd-refused grep -qx '3 refused' /tmp/rootless.out
check podman-by-its-scope grep -qE "refused by ioasids.max of cgroup $scope:" /tmp/rootless.out
check nothing-left-charged wait_for "$base" $CG/ioasids.current
done_testing
