#!/bin/bash
# Build the parts of systemd 252 and crun 1.8.1 that know the ioasids
# controller, from Debian 12's own source packages with the project's
# patches on top (userspace/systemd/patches, userspace/crun/patches):
#   1. fetch Debian's source of the installed version (without our
#      +ioasidsN; IOASIDS_SOURCE=newest: the archive's newest) with
#      apt-get source
#      (scripts/deps.sh userspace adds the deb-src entry and build-deps);
#   2. unpack it once under build/userspace/, Debian's own patches applied:
#      that is the pristine tree;
#   3. apply the project's patches to pristine copies of the files they
#      touch, in a scratch directory, and copy a result into the work tree
#      only when it changed (as scripts/kernel.sh does), so a rebuild after
#      editing one patch recompiles only what depends on the files it touches;
#   4. configure with meson the way debian/rules does (without LTO, man
#      pages, translations and tests), build with ccache only the targets the
#      guest tests need: PID 1 and libsystemd-core, libsystemd-shared,
#      systemctl and systemd-run; crun with its autotools.
# Output: build/userspace/bin/, links to the binaries and the two libraries.
#
#   scripts/userspace.sh [all]        systemd and crun
#   scripts/userspace.sh systemd|crun one of them
#   scripts/userspace.sh prepare      fetch, unpack, patch; no build
#   scripts/userspace.sh deb          Debian packages of both (slow: the
#                                     whole of systemd; make userspace-deb),
#                                     and Debian's own (debian-debs)
#   scripts/userspace.sh debian-debs  only Debian's packages of the
#                                     versions built, for going back
#   scripts/userspace.sh source-version NAME  the Debian version of NAME's
#                                     source that a build takes
#
# CCACHE_DIR defaults to build/ccache-userspace. Everything runs at idle
# priority (SCHED_IDLE, nice 19): make check's guests come first.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/userspace
export CCACHE_DIR=${CCACHE_DIR:-$top/build/ccache-userspace}
jobs=${JOBS:-$(nproc)}
idle=(chrt --idle 0 nice -n 19)

log() { echo "userspace: $*"; }

# Debian's version of a package that is installed, e.g. 252.38-1~deb12u1.
installed() { dpkg-query -W -f='${Version}' "$1"; }

# source_version NAME: the version of Debian's source of NAME to build:
# the installed one without the +ioasidsN of these packages (a host that
# runs them rebuilds Debian's), or with IOASIDS_SOURCE=newest the newest
# the archive has of the installed upstream series (252.* for systemd,
# 1.8.* for crun: the series the patches are for; a backports or newer
# suite's deb-src may list others): a point release or a security update,
# after apt-get update.
source_version() {
	local v inst series newest=''
	inst=$(installed "$1") && [ -n "$inst" ] ||
		{ echo "userspace: $1 is not installed" >&2; return 1; }
	inst=${inst%+ioasids*}
	case ${IOASIDS_SOURCE:-installed} in
	installed) echo "$inst" ;;
	newest)
		# The upstream version without its last component: 252, 1.8.
		series=${inst#*:}
		series=${series%%-*}
		series=${series%.*}
		for v in $(apt-cache showsrc "$1" | sed -n 's/^Version: //p'); do
			case ${v#*:} in "$series".*) ;; *) continue ;; esac
			if [ -z "$newest" ] || dpkg --compare-versions "$v" gt "$newest"; then
				newest=$v
			fi
		done
		[ -n "$newest" ] || { echo "userspace: no source of $1 $series.* (make deps: deps.sh userspace)" >&2; return 1; }
		echo "$newest" ;;
	*) echo "userspace: IOASIDS_SOURCE is installed or newest" >&2; return 1 ;;
	esac
}

# Copy $1 to $2 unless $2 already has the same content.
install_if_changed() {
	if ! cmp -s "$1" "$2"; then
		mkdir -p "$(dirname "$2")"
		cp "$1" "$2"
	fi
}

# extract_raw NAME DEST: the downloaded source of NAME in DEST, Debian's
# patches not applied.
extract_raw() {
	local name=$1 dest=$2 dl=$out/$1/dl orig deb
	orig=$(ls "$dl"/*.orig.tar.* | grep -v '\.asc$' | head -1)
	deb=$(ls "$dl"/*.debian.tar.* | head -1)
	mkdir -p "$dest"
	tar -xf "$orig" -C "$dest" --strip-components=1
	tar -xf "$deb" -C "$dest"
}

# unpack NAME: build/userspace/NAME/pristine, Debian's source of NAME
# (source_version) with Debian's patches. Once per version.
unpack() {
	local name=$1 ver dir stamp
	ver=$(source_version "$name") || exit 1
	dir=$out/$name
	stamp=$dir/pristine/.ioasids-unpacked
	[ "$(cat "$stamp" 2>/dev/null)" = "$ver" ] && return
	log "fetching and unpacking $name $ver (once)"
	# Another version's objects and configuration go too: meson and
	# ninja would not see that the sources changed under them. (The
	# links in bin/ are made again by each build.)
	rm -rf "$dir/pristine" "$dir/src" "$dir/dl" "$dir/patched.list" "$dir/obj"
	mkdir -p "$dir/dl"
	# A mirror that serves the tarballs but not the .dsc still gives us
	# what dpkg-source would: unpack by hand then.
	(cd "$dir/dl" && apt-get source -qq --download-only "$name=$ver" >/dev/null 2>&1) || true
	local dsc
	dsc=$(ls "$dir"/dl/*.dsc 2>/dev/null | head -1)
	[ -n "$dsc" ] || ls "$dir"/dl/*.debian.tar.* >/dev/null ||
		{ echo "userspace: apt-get source $name=$ver failed (make deps: deps.sh userspace)" >&2; exit 1; }
	extract_raw "$name" "$dir/pristine"
	local p
	for p in $(grep -v '^#' "$dir/pristine/debian/patches/series" 2>/dev/null); do
		patch -d "$dir/pristine" -p1 -s --no-backup-if-mismatch \
			<"$dir/pristine/debian/patches/$p"
	done
	cp -a "$dir/pristine" "$dir/src"
	echo "$ver" >"$stamp"
}

# patch NAME: the project's patches for NAME onto build/userspace/NAME/src,
# touching only files whose content changes.
apply_patches() {
	local name=$1 dir=$out/$1 scratch f p
	local patches=("$top"/userspace/"$name"/patches/*.patch)
	scratch=$(mktemp -d)
	: >"$scratch/files"
	if [ -e "${patches[0]}" ]; then
		sed -n 's|^+++ [^/]*/\([^\t ]*\).*|\1|p' "${patches[@]}" | sort -u >"$scratch/files"
	fi
	# Files an earlier run patched but no patch touches now: back to pristine.
	touch "$dir/patched.list"
	for f in $(comm -23 <(sort -u "$dir/patched.list") "$scratch/files"); do
		if [ -e "$dir/pristine/$f" ]; then
			install_if_changed "$dir/pristine/$f" "$dir/src/$f"
		else
			rm -f "$dir/src/$f"
		fi
	done
	mkdir "$scratch/tree"
	while read -r f; do
		[ -e "$dir/pristine/$f" ] || continue
		mkdir -p "$scratch/tree/$(dirname "$f")"
		cp "$dir/pristine/$f" "$scratch/tree/$f"
	done <"$scratch/files"
	for p in "${patches[@]}"; do
		[ -e "$p" ] || continue
		patch -d "$scratch/tree" -p1 -s --no-backup-if-mismatch <"$p" ||
			{ echo "userspace: $p does not apply" >&2; exit 1; }
	done
	while read -r f; do
		install_if_changed "$scratch/tree/$f" "$dir/src/$f"
	done <"$scratch/files"
	cp "$scratch/files" "$dir/patched.list"
	rm -rf "$scratch"
}

# The targets the guest tests need; what debian/rules passes to meson,
# less LTO (slow to link, defeats ccache), man pages, translations, tests.
systemd_targets=(systemd src/core/libsystemd-core-252.so
		 src/shared/libsystemd-shared-252.so systemctl systemd-run)

build_systemd() {
	local dir=$out/systemd obj=$out/systemd/obj
	unpack systemd
	apply_patches systemd
	if [ ! -f "$obj/build.ninja" ]; then
		log "configuring systemd"
		local multiarch
		multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
		(cd "$dir/src" && eval "$(DEB_BUILD_MAINT_OPTIONS= dpkg-buildflags --export=sh)" &&
		 "${idle[@]}" meson setup "$obj" \
			--wrap-mode=nodownload --buildtype=plain --prefix=/usr \
			--sysconfdir=/etc --localstatedir=/var --libdir="lib/$multiarch" \
			$(sed -n '/^CONFFLAGS = /,/^$/p;/^ifeq (, $(filter stage1/,/^else/p' debian/rules |
			  grep -o -- '-D[a-z0-9_-]*=[^ \\]*' | grep -v 'version-tag\|ntp-servers\|dns-servers\|support-url\|install-tests\|-Dman=\|b_lto' |
			  sed "s/\$(DEB_HOST_MULTIARCH)/$multiarch/") \
			-Dversion-tag="$(installed systemd)+ioasids" \
			-Db_lto=false -Dman=false -Dtranslations=false -Dtests=false \
			-Dinstall-tests=false -Dsupport-url=https://www.debian.org/support \
			-Dntp-servers="0.debian.pool.ntp.org 1.debian.pool.ntp.org" \
			-Ddns-servers= >"$out/systemd-meson.log")
	fi
	log "building systemd: ${systemd_targets[*]}"
	# pipefail: ninja's status, whatever grep's.
	"${idle[@]}" ninja -C "$obj" -j "$jobs" "${systemd_targets[@]}" | { grep -v '^\[' || true; } ||
		{ echo "userspace: building systemd failed" >&2; exit 1; }
	# Symbolic links: the build tree's binaries find the build tree's
	# libraries through their $ORIGIN-relative RUNPATH, which resolves
	# through a link, so PID 1 run from here uses the patched
	# libsystemd-shared while every other binary keeps Debian's.
	mkdir -p "$out/bin"
	local t
	for t in "${systemd_targets[@]}"; do
		ln -sfn "$obj/$t" "$out/bin/$(basename "$t")"
	done
}

build_crun() {
	local dir=$out/crun
	unpack crun
	apply_patches crun
	if [ ! -f "$dir/src/Makefile" ]; then
		# What debian/rules does: dh_auto_configure with hardening=+all,
		# then the OCI specs from Debian's golang packages in place of the
		# bundled ones (libocispec generates its parsers from them), and
		# two generated files before the build.
		log "configuring crun"
		(cd "$dir/src" && eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)" &&
		 CC="ccache gcc" "${idle[@]}" ./configure --prefix=/usr --sysconfdir=/etc \
			--localstatedir=/var --libdir="/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)" \
			>"$out/crun-configure.log" 2>&1 &&
		 for spec in image-spec runtime-spec; do
			if [ ! -d "libocispec/$spec.saved" ]; then
				mv "libocispec/$spec" "libocispec/$spec.saved"
				cp -r "/usr/share/gocode/src/github.com/opencontainers/$spec/" libocispec/
			fi
		 done &&
		 "${idle[@]}" make -s generate-signals.c generate-mount_flags.c >>"$out/crun-configure.log" 2>&1) ||
			{ tail -20 "$out/crun-configure.log" >&2; exit 1; }
	fi
	log "building crun"
	# git-version.h on its own first, and once more serially if the
	# parallel build fails: one cold build here stopped after libocispec
	# with no error in its log (make -j2 of both targets at once), and the
	# same command then built crun.
	{ "${idle[@]}" make -s -C "$dir/src" git-version.h &&
	  { "${idle[@]}" make -s -C "$dir/src" -j "$jobs" crun ||
	    { echo "userspace: parallel crun build failed; once more with -j1"
	      "${idle[@]}" make -s -C "$dir/src" crun; }; }
	} >"$out/crun-make.log" 2>&1 ||
		{ tail -30 "$out/crun-make.log" >&2; exit 1; }
	mkdir -p "$out/bin"
	ln -sfn "$dir/src/crun" "$out/bin/crun"
}

# deb NAME: Debian's packages of NAME with the project's patches added to
# debian/patches, version +ioasidsN, built by dpkg-buildpackage without
# tests and udebs, in a copy of the pristine tree; the .debs land in
# build/userspace/deb. With their man pages: the nodoc profile would drop
# every one of them (systemd's debian/rules builds none with it), and the
# patches add IOASIDsMax= to systemd.resource-control(5).
build_deb() {
	local name=$1 dir=$out/$1 tree ver p n=0
	unpack "$name"
	tree=$dir/deb/$name
	rm -rf "$dir/deb"
	mkdir -p "$dir/deb" "$out/deb"
	# Unpatched: dpkg-buildpackage applies Debian's series and ours after it.
	extract_raw "$name" "$tree"
	ver=$(dpkg-parsechangelog -l "$tree/debian/changelog" -S Version)
	for p in "$top"/userspace/"$name"/patches/*.patch; do
		[ -e "$p" ] || continue
		n=$((n + 1))
		cp "$p" "$tree/debian/patches/ioasids-$(basename "$p")"
		echo "ioasids-$(basename "$p")" >>"$tree/debian/patches/series"
	done
	{
		echo "$name ($ver+ioasids1) UNRELEASED; urgency=medium"
		echo
		echo "  * The ioasids cgroup controller (PCIe PASIDs): $n patches from"
		echo "    the ioasids project, userspace/$name/patches."
		echo
		echo " -- ioasids <ioasids@localhost>  $(date -R)"
		echo
		cat "$tree/debian/changelog"
	} >"$tree/debian/changelog.new"
	mv "$tree/debian/changelog.new" "$tree/debian/changelog"
	log "building Debian packages of $name $ver+ioasids1 (slow)"
	(cd "$tree" &&
	 PATH=/usr/lib/ccache:$PATH DEB_BUILD_OPTIONS="nocheck parallel=$jobs" \
	 DEB_BUILD_PROFILES="nocheck noinsttest noudeb" \
	 "${idle[@]}" dpkg-buildpackage -b -uc -us >"$out/$name-deb.log" 2>&1) ||
		{ tail -30 "$out/$name-deb.log" >&2; exit 1; }
	mv "$dir"/deb/*.deb "$out/deb/"
	log "packages in ${out#"$top"/}/deb"
}

# debian_debs: the two sets an administrator installs, for the packages
# of build/userspace/deb that are installed here (apt would otherwise
# remove an installed package that needs Debian's exact version, say
# systemd-timesyncd, or leave it out of step):
#   build/userspace/deb/install/  links to their +ioasids packages;
#   build/userspace/deb/debian/   Debian's packages of the versions
#                                 built, for going back, offline.
debian_debs() {
	local f p v want=()
	rm -rf "$out/deb/install" "$out/deb/debian"
	mkdir -p "$out/deb/install" "$out/deb/debian"
	for f in "$out"/deb/*+ioasids*.deb; do
		p=$(dpkg-deb -f "$f" Package)
		case $p in *-dbgsym) continue ;; esac
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || continue
		ln -s "../$(basename "$f")" "$out/deb/install/"
		v=$(dpkg-deb -f "$f" Version)
		want+=("$p=${v%+ioasids*}")
	done
	[ ${#want[@]} -gt 0 ] || { echo "userspace: none of the packages is installed here" >&2; exit 1; }
	(cd "$out/deb/debian" && apt-get download -q "${want[@]}" >/dev/null 2>&1) ||
		{ echo "userspace: apt-get download ${want[*]} failed" >&2; exit 1; }
	log "to install: ${out#"$top"/}/deb/install (${#want[@]} packages);" \
	    "Debian's, to go back to: ${out#"$top"/}/deb/debian"
}

case "${1:-all}" in
all)	build_systemd; build_crun ;;
systemd) build_systemd ;;
crun)	build_crun ;;
prepare) unpack systemd; apply_patches systemd; unpack crun; apply_patches crun ;;
deb)	# Only this build's packages: another version's would match the
	# install line's globs.
	rm -f "$out"/deb/*.deb
	build_deb crun; build_deb systemd; debian_debs ;;
debian-debs) debian_debs ;;
source-version) source_version "${2:?usage: $0 source-version NAME}" ;;
*)	echo "usage: $0 [all|systemd|crun|prepare|deb|debian-debs|source-version NAME]" >&2; exit 2 ;;
esac
