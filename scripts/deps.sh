#!/bin/bash
# Install from Debian's archive everything the build and the tests need
# (and, with "bench", "deb" or "coverage", what that target needs too).
# ioasidctl's tables are libsmartcols'; its metrics are scraped by
# prometheus-node-exporter (with curl) in the guest. podman (4.3, with its
# conmon; no recommends: no registry, network or rootless helpers) runs
# containers from a plain --rootfs with the OCI hook in the guest.
# The arm64 cross compiler and clang build the kernel objects for the
# configurations a robot builds (tests/harness/config-builds).
# Idempotent and quiet when everything is already there.
set -euo pipefail

pkgs=(
	linux-source-6.12
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod xz-utils
	ccache sparse python3 perl python3-docutils
	gcc-aarch64-linux-gnu clang lld llvm
	dpkg-dev rsync
	qemu-system-x86 busybox-static
	cgroup-tools crun runc systemd dbus podman
	libsmartcols-dev pkg-config
	prometheus-node-exporter curl
)
# make bench draws its plot with gnuplot; make deb's debian/rules uses
# debhelper; make coverage reports with lcov (lcov, genhtml).
case "${1:-}" in
bench) pkgs+=(gnuplot-nox) ;;
deb) pkgs+=(debhelper) ;;
coverage) pkgs+=(lcov) ;;
esac

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
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if [ "${1:-}" = userspace ]; then
	userspace_sources
	userspace_build_deps
fi
