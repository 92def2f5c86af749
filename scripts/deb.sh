#!/bin/bash
# make deb: a Debian package of the patched kernel, as an admin installs it
# (apt install ./linux-image-*.deb), built with the kernel's own bindeb-pkg
# from the series applied to a pristine linux-source-6.12 tree.
#
#   CONFIG=FILE   the kernel config to package (default: the project's test
#                 config, build/linux/.config). For Debian's own config, see
#                 "A Debian kernel package" in README.md.
#
# The packages land in build/deb/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tree=$top/build/series/tree
out=$top/build/deb
config=${CONFIG:-$top/build/linux/.config}

# One user of build/series/tree at a time (series-test, make deb).
mkdir -p "$top/build/series"
exec 8>"$top/build/series/.lock"
flock 8

bash "$top/scripts/deps.sh" deb
bash "$top/scripts/kernel.sh" prepare >/dev/null
[ -f "$config" ] || bash "$top/scripts/kernel.sh"
bash "$top/scripts/series.sh" write
bash "$top/scripts/series.sh" apply

version=$(make -s -C "$tree" kernelversion)
cp "$config" "$tree/.config"
make -s -C "$tree" olddefconfig >/dev/null
# Name it apart from Debian's own 6.12 kernels.
"$tree/scripts/config" --file "$tree/.config" --set-str LOCALVERSION "-ioasids"
make -s -C "$tree" olddefconfig >/dev/null

# The config check make kernel runs, on what olddefconfig made of it in
# this tree: the project's test config keeps every option its fragments
# ask for; any config keeps the controller, /dev/ioasid and the name.
mkdir -p "$out"
printf '%s\n' CONFIG_CGROUP_IOASIDS=y CONFIG_IOASID_USER=y \
	'CONFIG_LOCALVERSION="-ioasids"' > "$out/required.config"
frags=("$out/required.config")
[ -n "${CONFIG:-}" ] || frags=("$top"/kernel/configs/*.config "${frags[@]}")
bash "$top/scripts/kernel.sh" check-config "$tree/.config" "${frags[@]}" || {
	echo "deb: the config did not survive olddefconfig in $tree" >&2
	exit 1
}

export CCACHE_DIR=$top/build/ccache CCACHE_MAXSIZE=5G
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
export KBUILD_BUILD_TIMESTAMP='ioasids' KBUILD_BUILD_USER=ioasids KBUILD_BUILD_HOST=ioasids
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"

start=$SECONDS
rm -f "$top"/build/series/linux-*.deb "$top"/build/series/linux-upstream_*
LOCALVERSION= make -s -C "$tree" -j"$(nproc)" CC="$cc" \
	KDEB_PKGVERSION="$version-ioasids1" bindeb-pkg
mkdir -p "$out"
rm -f "$out"/*.deb
mv "$top"/build/series/linux-*.deb "$out"/
rm -f "$top"/build/series/linux-upstream_*
echo "deb: built in $((SECONDS - start))s:"
ls -1 "$out"

# The package's kernel is the patched one, and it boots.
rm -rf "$out/root"
dpkg-deb -x "$out"/linux-image-*.deb "$out/root"
vmlinuz=$(ls "$out"/root/boot/vmlinuz-*)
cat > "$out/boot-job" <<'JOB'
#!/bin/bash
echo "uname -r: $(uname -r)"
echo "ioasids.capacity: $(cat /sys/fs/cgroup/ioasids.capacity)"
[ -c /dev/ioasid ] && echo "/dev/ioasid: present"
JOB
if "$top/tests/harness/run-guest" --quiet --timeout 600 --kernel "$vmlinuz" \
	--out "$out/boot" --append kunit.enable=0 "$out/boot-job" &&
   grep -q "^uname -r: $version-ioasids\$" "$out/boot/job.log" &&
   grep -q "^/dev/ioasid: present" "$out/boot/job.log"; then
	echo "deb: $(basename "$vmlinuz") from the package boots:"
	sed -n '1,3p' "$out/boot/job.log"
else
	echo "deb: the packaged kernel did not boot as expected: $out/boot/" >&2
	exit 1
fi
