#!/bin/bash
# Install from Debian's archive everything the build and the tests need
# (and, with "bench", "deb" or "coverage", what that target needs too).
# ioasidctl's tables are libsmartcols'; its metrics are scraped by
# prometheus-node-exporter (with curl) in the guest. podman (4.3, with its
# conmon; no recommends: no registry, network or rootless helpers) runs
# containers from a plain --rootfs with the OCI hook in the guest.
# The arm64 cross compiler and clang build the kernel objects for the
# configurations a robot builds (tests/harness/config-builds).
# debhelper, lintian and devscripts (hardening-check) build and check the
# ioasids-tools package (make package).
# libvirt-daemon-system (libvirtd, virsh, the QEMU driver) with
# systemd-container (systemd-machined, which makes each VM's scope) runs a
# domain in the guest (tests/integration/systemd/libvirt.sh).
# udev runs in the systemd boots: the package's rule gives /dev/ioasid its
# group and mode, and integration/package and systemd/reloads check it
# (a Debian host has it; a container image may not).
# systemd-container and udev come from the same systemd source as the
# installed systemd: at the installed version, so that installing them
# does not upgrade systemd (make userspace patches the installed
# version's source).
# Idempotent and quiet when everything is already there.
#
# It leaves no service running on the host: Debian's postinsts start what
# they install (prometheus-node-exporter listens on :9100 on every
# interface), so every apt-get here runs under a policy-rc.d that refuses
# every start (invoke-rc.d and deb-systemd-invoke ask it), and a network
# service this run installed is disabled too, so that no boot starts it.
# Only the guest runs such things, and starts them itself (on loopback).
set -euo pipefail

pkgs=(
	linux-source-6.12
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod xz-utils
	ccache sparse python3 perl python3-docutils
	gcc-aarch64-linux-gnu clang lld llvm
	dpkg-dev rsync
	qemu-system-x86 busybox-static
	cgroup-tools crun runc systemd dbus podman uidmap
	libsmartcols-dev pkg-config
	prometheus-node-exporter curl
	debhelper lintian devscripts
	libvirt-daemon-system systemd-container udev
)
# What a postinst here would start that listens on the network, or that
# the host should not run at every boot: disabled when this run installed
# it (package:unit): libvirtd, its sockets, virtlogd's and virtlockd's,
# and libvirt-guests. (Debian's libvirt-daemon-config-network does not
# mark its "default" network for autostart: no bridge or dnsmasq starts
# with libvirtd.)
network_units=(
	prometheus-node-exporter:prometheus-node-exporter.service
	libvirt-daemon-system:libvirtd.service
	libvirt-daemon-system:libvirtd.socket
	libvirt-daemon-system:libvirtd-ro.socket
	libvirt-daemon-system:libvirtd-admin.socket
	libvirt-daemon-system:virtlogd.socket
	libvirt-daemon-system:virtlockd.socket
	libvirt-daemon-system:virtlogd-admin.socket
	libvirt-daemon-system:virtlockd-admin.socket
	libvirt-daemon-system:libvirt-guests.service
)
# make bench draws its plot with gnuplot; make coverage reports with lcov
# (lcov, genhtml). (make deb's debian/rules uses debhelper: in the list.)
case "${1:-}" in
bench) pkgs+=(gnuplot-nox) ;;
coverage) pkgs+=(lcov) ;;
esac

# no_starts: until this script exits, /usr/sbin/policy-rc.d says 101 ("not
# allowed") to every start, as in a container image build; the host's own
# policy-rc.d, if any, is put back after. A lock keeps two runs from
# putting back each other's.
policy=/usr/sbin/policy-rc.d
policy_mark='# ioasids scripts/deps.sh: no service starts while it installs'
no_starts() {
	[ -n "${no_starts_on:-}" ] && return 0
	exec 9>/run/lock/ioasids-deps.lock
	flock 9
	# A file of ours left by a run that was killed is no admin's.
	if { [ -e "$policy" ] || [ -L "$policy" ]; } && ! grep -qxF "$policy_mark" "$policy" 2>/dev/null; then
		mv -f "$policy" "$policy.ioasids-saved"
	fi
	trap starts_back EXIT
	printf '#!/bin/sh\n%s\nexit 101\n' "$policy_mark" > "$policy.ioasids-new"
	chmod 0755 "$policy.ioasids-new"
	mv -f "$policy.ioasids-new" "$policy"
	no_starts_on=1
}
starts_back() {
	if [ -e "$policy.ioasids-saved" ] || [ -L "$policy.ioasids-saved" ]; then
		mv -f "$policy.ioasids-saved" "$policy"
	elif grep -qxF "$policy_mark" "$policy" 2>/dev/null; then
		rm -f "$policy"
	fi
}

# quiet_units PACKAGE...: of those just installed, the network services
# Debian enabled at boot are disabled (and stopped, where systemd runs).
quiet_units() {
	local p u now
	for u in "${network_units[@]}"; do
		for p in "$@"; do
			[ "$p" = "${u%%:*}" ] || continue
			now=()
			[ -d /run/systemd/system ] && now=(--now)
			if systemctl disable "${now[@]}" --quiet "${u#*:}"; then
				echo "deps: disabled ${u#*:} (only the guest runs it)"
			else
				echo "deps: could not disable ${u#*:}: systemctl disable --now ${u#*:}" >&2
			fi
		done
	done
}

# running_units: say so when one of them runs anyway (installed before, by
# the admin or by an older make deps): it is the admin's to stop.
running_units() {
	local u
	[ -d /run/systemd/system ] || return 0
	for u in "${network_units[@]}"; do
		systemctl --quiet is-active "${u#*:}" 2>/dev/null || continue
		echo "deps: ${u#*:} runs on this host; only the guest needs it:" \
			"systemctl disable --now ${u#*:}" >&2
	done
}

# make userspace builds systemd and crun from Debian's source packages:
# a deb-src entry (Debian 12's debian.sources is deb822 with "Types: deb"
# only; the installed systemd may come from bookworm-security), then
# Debian's build dependencies of the installed versions.
userspace_sources() {
	local f=/etc/apt/sources.list.d/ioasids-src.sources
	apt-cache showsrc crun >/dev/null 2>&1 && [ -n "$(apt-cache showsrc crun 2>/dev/null)" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: need root to add $f (deb-src for apt-get source)" >&2
		exit 1
	fi
	echo "deps: adding $f"
	cat >"$f" <<'SRC'
# Added by ioasids (scripts/deps.sh userspace): Debian's source packages,
# for apt-get source systemd crun.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt-get update -qq
}

userspace_build_deps() {
	local want=() p v
	for p in systemd crun; do
		v=$(dpkg-query -W -f='${Version}' "$p")
		# The source of the installed version, or of the archive's
		# newest when that one has left the archive (the build
		# dependencies then upgrade the installed package to it).
		# (grep -q reading a variable, not a pipe: under pipefail an
		# early exit of grep would fail the writer with SIGPIPE.)
		if grep -qxF "Version: $v" <<< "$(apt-cache showsrc "$p" 2>/dev/null)"; then
			want+=("$p=$v")
		else
			want+=("$p")
		fi
	done
	# Nothing to do when apt would install nothing.
	grep -q '^Inst ' <<< "$(apt-get -s build-dep "${want[@]}" 2>/dev/null)" || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: need root to install the build dependencies of ${want[*]}" >&2
		exit 1
	fi
	echo "deps: installing the build dependencies of ${want[*]}"
	no_starts
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=300 "${want[@]}" >/dev/null
}

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	if [ "${1:-}" = userspace ]; then
		userspace_sources
		userspace_build_deps
	fi
	running_units
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# systemd-container and udev at the installed systemd's version, where
# the archive still has it (else apt's newest, which upgrades systemd
# with them).
install=()
sdver=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null) || sdver=''
for p in "${missing[@]}"; do
	if { [ "$p" = systemd-container ] || [ "$p" = udev ]; } && [ -n "$sdver" ] &&
		grep -q "| $sdver |" <<< "$(apt-cache madison "$p")"; then
		p="$p=$sdver"
	fi
	install+=("$p")
done
no_starts
apt-get install -y -qq --no-install-recommends "${install[@]}" >/dev/null
quiet_units "${missing[@]}"

if [ "${1:-}" = userspace ]; then
	userspace_sources
	userspace_build_deps
fi
running_units
