#!/bin/bash
# make install and make uninstall into a DESTDIR, as an admin's host would
# see them: /etc/ioasids/*.conf are the admin's once installed (Debian's
# conffiles): a second make install keeps an edited or added file and
# installs only the ones that are absent; make uninstall removes what make
# install put everywhere else, and of /etc/ioasids only the files still as
# shipped. Run on the host by tests/harness/targets; writes only under a
# temporary directory.
. "$(dirname "$0")/../integration/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
d=$(mktemp -d /tmp/ioasids-install.XXXXXX)
trap 'rm -rf "$d"' EXIT
etc=$d/etc/ioasids

inst() { make -s -C "$top" install DESTDIR="$d" >"$d.log" 2>&1 || { cat "$d.log"; return 1; }; }
uninst() { make -s -C "$top" uninstall DESTDIR="$d" >"$d.log" 2>&1 || { cat "$d.log"; return 1; }; }

check "first install" inst
shipped=$(cd "$top/systemd-units/ioasids" && ls -- *.conf)
for f in $shipped; do
	check "installs /etc/ioasids/$f" cmp "$top/systemd-units/ioasids/$f" "$etc/$f"
done

# The admin edits one default, removes another and adds a file of their own.
echo "IOASIDS_MAX=64" > "$etc/machine.slice.conf"
rm "$etc/user.slice.conf"
echo "IOASIDS_MAX=4" > "$etc/machine-vm1.slice.conf"
check "second install" inst
check "an edited /etc file is kept" eq "IOASIDS_MAX=64" cat "$etc/machine.slice.conf"
check "the admin's own file is kept" eq "IOASIDS_MAX=4" cat "$etc/machine-vm1.slice.conf"
check "an absent default is installed" \
	cmp "$top/systemd-units/ioasids/user.slice.conf" "$etc/user.slice.conf"

check "uninstall" uninst
# Everything but /etc/ioasids is gone, directories included.
check "uninstall leaves nothing outside /etc" \
	eq "" bash -c "cd '$d' && find . -path ./etc -prune -o -mindepth 1 -print"
check "uninstall removes the unchanged defaults" \
	eq "machine-vm1.slice.conf machine.slice.conf" \
	bash -c "cd '$etc' && echo *"
check "uninstall keeps the edited file" eq "IOASIDS_MAX=64" cat "$etc/machine.slice.conf"
check "a second uninstall succeeds" uninst

# Without admin files, uninstall removes /etc/ioasids too.
rm -rf "${d:?}"/*
check "install again" inst
check "uninstall with nothing changed" uninst
check "leaves an empty DESTDIR" eq "" bash -c "cd '$d' && find . -mindepth 1"
done_testing
