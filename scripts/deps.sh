#!/bin/bash
# Install from Debian's archive everything the build and the tests need
# (and, with "bench", "deb" or "coverage", what that target needs too).
# ioasidctl's tables are libsmartcols'; its metrics are scraped by
# prometheus-node-exporter (with curl) in the guest.
# Idempotent and quiet when everything is already there.
set -euo pipefail

pkgs=(
	linux-source-6.12
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod xz-utils
	ccache sparse python3 perl python3-docutils
	dpkg-dev rsync
	qemu-system-x86 busybox-static
	cgroup-tools crun runc systemd dbus
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

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
