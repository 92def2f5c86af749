#!/bin/bash
# The ioasids-tools package (make package: build/package/) the way
# piuparts proves a package, in the guest, whose root is the host's under
# a tmpfs overlay (nothing reaches the host): install it, see its files in
# place and use them (ioasidctl, and a refusal by a limit the package
# installed: /etc/ioasids/user-.slice.conf through ioasids-limit), upgrade
# to the same package rebuilt as version +1, remove it (an admin's changed
# /etc/ioasids file stays), purge it (nothing of it is left). Without
# systemd as PID 1 here, ioasids-limit is given the cgroup
# (IOASIDS_CGROUP=), as its header says.
. "$(dirname "$0")/lib.bash"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
top=$(cd "$(dirname "$0")/../.." && pwd)
pkg=ioasids-tools
arch=$(dpkg --print-architecture)
deb=$(ls "$top"/build/package/${pkg}_*_"$arch".deb 2>/dev/null | head -n 1)
updeb=$(ls "$top"/build/package/upgrade/${pkg}_*_"$arch".deb 2>/dev/null | head -n 1)

# Without the packages, one failure that says so, and nothing else runs.
check "make package built the package and its upgrade (build/package)" \
	bash -c "[ -n '$deb' ] && [ -n '$updeb' ] ||
		{ echo 'no ${pkg}_*_$arch.deb in $top/build/package or its upgrade/: run make package first'; false; }"
if [ -z "$deb" ] || [ -z "$updeb" ]; then
	done_testing
	exit 1
fi
version=$(dpkg-deb -f "$deb" Version)
upversion=$(dpkg-deb -f "$updeb" Version)
echo "# $deb ($version), upgrade to $upversion"

# logged COMMAND...: COMMAND's output as TAP comments, its exit status.
logged() {
	local rc start=$SECONDS
	"$@" > /tmp/pkg_t.log 2>&1 < /dev/null
	rc=$?
	sed 's/^/# /' /tmp/pkg_t.log
	echo "# ($* took $((SECONDS - start)) s)"
	return $rc
}
# owned_left: the files of the package's list (dpkg -L, kept at install)
# that still exist, and its own directories.
owned_left() {
	local f
	while read -r f; do
		# Directories are shared (and /lib is a link to usr/lib).
		[ -d "$f" ] && continue
		{ [ -e "$f" ] || [ -L "$f" ]; } && echo "$f"
	done < /tmp/pkg_t.files
	for f in /etc/ioasids /usr/lib/ioasids /usr/include/ioasids \
		/usr/share/doc/ioasids /usr/share/doc/$pkg; do
		[ -e "$f" ] && echo "$f"
	done
	true
}
export -f owned_left
export pkg

check "it is not installed before" fails dpkg -s $pkg
# man-db's trigger would index every manual page over 9p: not in the guest.
rm -f /var/lib/man-db/auto-update

# udev, as on a real host (this guest runs none): the postinst's trigger
# gives the existing /dev/ioasid the rule's group and mode at once.
chgrp root /dev/ioasid && chmod 0600 /dev/ioasid
/lib/systemd/systemd-udevd --daemon 2>/dev/null
check "udevd runs for the install" wait_until yes bash -c 'test -S /run/udev/control && echo yes'
check "/dev/ioasid is root's, 0600, before" eq "root 600" stat -c '%G %a' /dev/ioasid

# --- install
logged dpkg -i "$deb"
check "dpkg -i installs it" test $? = 0
check "dpkg says installed, at the package's version" \
	eq "install ok installed $version" dpkg-query -W -f='${Status} ${Version}' $pkg
dpkg -L $pkg > /tmp/pkg_t.files
sed 's/^/# /' /tmp/pkg_t.files
check "every file dpkg -L lists is in place" eq "" bash -c \
	'while read -r f; do [ -e "$f" ] || echo "missing: $f"; done < /tmp/pkg_t.files'
check "the postinst gave /dev/ioasid the rule's kvm group, 0660" \
	eq "kvm 660" stat -c '%G %a' /dev/ioasid
udevadm control --exit 2>/dev/null
check "dpkg --verify finds every file as shipped" eq "" dpkg --verify $pkg
for f in /usr/bin/ioasidctl /usr/lib/ioasids/ioasids-oci-hook /usr/lib/ioasids/ioasids-limit; do
	check "$f is executable" test -x "$f"
done
for f in /lib/systemd/system/ioasids@.service /lib/systemd/system/ioasids-metrics.service \
	/lib/systemd/system/ioasids-metrics.timer \
	/lib/systemd/system/user.slice.d/50-ioasids.conf \
	/lib/systemd/system/user-.slice.d/50-ioasids.conf \
	/lib/systemd/system/user@.service.d/50-ioasids.conf \
	/lib/systemd/system/machine.slice.d/50-ioasids.conf \
	/usr/lib/tmpfiles.d/ioasids.conf /lib/udev/rules.d/60-ioasid.rules \
	/usr/share/man/man8/ioasidctl.8.gz /usr/share/bash-completion/completions/ioasidctl \
	/usr/share/doc/ioasids/ioasids-ecosystem.rst /usr/include/ioasids/linux/ioasid.h; do
	# dpkg -L's list: a dpkg-query -S reads every package's list, tens
	# of seconds each under TCG.
	check "$f is the package's" grep -qxF "$f" /tmp/pkg_t.files
done
check "the conffiles are /etc/ioasids' four files" \
	eq "/etc/ioasids/machine.slice.conf /etc/ioasids/oci-hook.conf /etc/ioasids/user-.slice.conf /etc/ioasids/user.slice.conf" \
	bash -c "dpkg-query -W -f='\${Conffiles}\n' $pkg | awk 'NF { print \$1 }' | sort | xargs"
check "/usr/include/linux/ioasid.h is not the package's (linux-libc-dev's namespace)" \
	fails grep -qxF /usr/include/linux/ioasid.h /tmp/pkg_t.files
check "nothing enabled: ioasids-metrics.timer has no link" \
	eq "" bash -c 'ls /etc/systemd/system/*/ioasids* 2>/dev/null; true'

# --- use it
check "ioasidctl --version: the package's version" eq "ioasidctl $version" /usr/bin/ioasidctl --version
check "ioasidctl alloc prints one ID" eq 1 bash -o pipefail -c "/usr/bin/ioasidctl alloc | wc -l"
check "ioasidctl info" ok_says '.' /usr/bin/ioasidctl info
check "the OCI hook runs" eq "ioasids-oci-hook $version" /usr/lib/ioasids/ioasids-oci-hook --version
check "the hooks.d file names the installed hook" python3 -c 'import json, sys
h = json.load(open("/usr/share/containers/oci/hooks.d/ioasids.json"))
assert h["hook"]["path"] == "/usr/lib/ioasids/ioasids-oci-hook", h
assert h["stages"] == ["createRuntime"], h'
check "the man page is ioasidctl(8)" \
	says '^\.TH "?IOASIDCTL"? "?8' bash -c 'zcat /usr/share/man/man8/ioasidctl.8.gz'
check "the bash completion completes ioasidctl" says 'complete .* ioasidctl$' \
	bash -c '. /usr/share/bash-completion/completions/ioasidctl && complete -p ioasidctl'
check "the header compiles from /usr/include/ioasids" bash -c \
	'printf "#include <linux/ioasid.h>\nint main(void) { return IOASID_MAX_COUNT != 4096; }\n" |
	 gcc -I/usr/include/ioasids -x c - -o /tmp/pkg_t.hdr && /tmp/pkg_t.hdr'
check "its tmpfiles.d rule applies (what the postinst ran)" \
	systemd-tmpfiles --create ioasids.conf
check "the root has the controller on" grep -qw ioasids $CG/cgroup.subtree_control

# A user's slice gets the limit of the installed /etc/ioasids/user-.slice.conf
# (512) from ioasids-limit; what runs in it (a scope below: the slice has
# the controller on inside) gets 512 IDs and not one more.
echo +ioasids > $CG/cgroup.subtree_control
mkdir -p $CG/pkg_t
limit() { IOASIDS_CGROUP=/pkg_t/user-4242.slice /usr/lib/ioasids/ioasids-limit user-4242.slice; }
mkdir -p $CG/pkg_t/user-4242.slice
check "ioasids-limit user-4242.slice reads user-.slice.conf" \
	says 'ioasids.max 512, from /etc/ioasids/user-\.slice\.conf' limit
check "the slice's ioasids.max is the package's 512" eq 512 cat $CG/pkg_t/user-4242.slice/ioasids.max
mkdir -p $CG/pkg_t/user-4242.slice/s.scope
check "512 PASIDs fit" eq 512 bash -o pipefail -c \
	"echo \$\$ > $CG/pkg_t/user-4242.slice/s.scope/cgroup.procs && /usr/bin/ioasidctl alloc --count 512 | wc -l"
check "513 are refused by the slice's limit" \
	refused /pkg_t/user-4242.slice in_cg pkg_t/user-4242.slice/s.scope /usr/bin/ioasidctl alloc --count 513
check "the refusal is counted" eq "max 1" grep '^max ' $CG/pkg_t/user-4242.slice/ioasids.events

# The admin changes the default; the limit follows it.
echo "IOASIDS_MAX=8" > /etc/ioasids/user-.slice.conf
check "an admin's IOASIDS_MAX=8 in user-.slice.conf" says 'ioasids.max 8,' limit
check "9 are refused then" \
	refused /pkg_t/user-4242.slice in_cg pkg_t/user-4242.slice/s.scope /usr/bin/ioasidctl alloc --count 9
check "dpkg --verify names the changed conffile" \
	says '^\?\?5\?\?\?\?\?\? c /etc/ioasids/user-\.slice\.conf$' bash -c "dpkg --verify $pkg; true"
check "nothing left charged" eq 0 cat $CG/pkg_t/ioasids.current
rmdir $CG/pkg_t/user-4242.slice/s.scope $CG/pkg_t/user-4242.slice $CG/pkg_t

# --- upgrade: the same package rebuilt as version +1, no question asked
# (standard input is /dev/null: a conffile prompt fails).
logged dpkg -i "$updeb"
check "dpkg -i upgrades it" test $? = 0
check "at the new version" eq "install ok installed $upversion" \
	dpkg-query -W -f='${Status} ${Version}' $pkg
check "the admin's change survives the upgrade" \
	eq "IOASIDS_MAX=8" cat /etc/ioasids/user-.slice.conf
check "no .dpkg-new, .dpkg-old or .dpkg-dist beside it" \
	eq "" bash -c 'ls /etc/ioasids | grep -E "\.dpkg-" ; true'
check "ioasidctl still runs" eq "ioasidctl $version" /usr/bin/ioasidctl --version

# --- remove: the programs go, the conffiles stay, the admin's as changed.
logged dpkg -r $pkg
check "dpkg -r removes it" test $? = 0
check "dpkg says config-files" eq "deinstall ok config-files" dpkg-query -W -f='${Status}' $pkg
check "ioasidctl is gone" fails test -e /usr/bin/ioasidctl
check "the units are gone" eq "" bash -c 'ls /lib/systemd/system/ioasids* 2>/dev/null; true'
check "the admin's changed file stays" eq "IOASIDS_MAX=8" cat /etc/ioasids/user-.slice.conf
check "and the others as shipped" grep -q '^IOASIDS_MAX=4096' /etc/ioasids/user.slice.conf
check "nothing but /etc/ioasids and its four files is left" \
	eq "/etc/ioasids /etc/ioasids/machine.slice.conf /etc/ioasids/oci-hook.conf /etc/ioasids/user-.slice.conf /etc/ioasids/user.slice.conf" \
	bash -c 'owned_left | sort | xargs'

# --- purge: nothing of it.
logged dpkg -P $pkg
check "dpkg -P purges it" test $? = 0
check "dpkg -L lists nothing" eq "" bash -c "dpkg -L $pkg 2>/dev/null; true"
check "dpkg -s: not installed" fails dpkg -s $pkg
check "no file of the package is left, /etc/ioasids neither" eq "" bash -c 'owned_left | xargs'
check "debhelper's unit state is gone" \
	eq "" bash -c 'find /var/lib/systemd/deb-systemd-helper-* -name "*ioasids*" 2>/dev/null'
check "no failed systemd unit (where systemd is PID 1)" bash -c \
	'[ ! -d /run/systemd/system ] || [ -z "$(systemctl list-units --failed --plain --no-legend)" ]'
rm -f /tmp/pkg_t.files /tmp/pkg_t.log /tmp/pkg_t.hdr
done_testing
