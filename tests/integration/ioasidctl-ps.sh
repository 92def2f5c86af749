#!/bin/bash
# ioasidctl ps against the kernel's own fdinfo of /dev/ioasid files: a
# process holding IDs in a cgroup named like a systemd scope, and a node of
# /dev/ioasid made elsewhere, held open by another process.
. "$(dirname "$0")/lib.bash"
CTL=$(cd "$(dirname "$0")/../.." && pwd)/build/tools/ioasidctl
echo +ioasids > $CG/cgroup.subtree_control
mkdir $CG/ps_t.scope

mkfifo /tmp/ps_fifo
exec 5<> /tmp/ps_fifo
spawn_in_cg ps_t.scope $CTL alloc --count 3 --quota 5 --hold < /tmp/ps_fifo > /dev/null 5>&-
pid=$!
wait_for 3 $CG/ps_t.scope/ioasids.current
fd=$(find /proc/$pid/fd -lname /dev/ioasid -printf '%f\n')
set=$(sed -n 's/^ioasid-set:\t//p' /proc/$pid/fdinfo/$fd)

check "the kernel's fdinfo has the keys" \
	eq "3 5 /ps_t.scope" bash -c "sed -n 's/^ioasid-\(count\|quota\|cgroup\):\t//p' /proc/$pid/fdinfo/$fd | xargs"
check "ps: the holder's line" \
	eq "$pid ioasidctl $fd $set 3 5 /ps_t.scope ps_t.scope -" \
	bash -c "$CTL ps | awk '\$1 == $pid' | xargs"
check "ps: nothing on stderr" eq "" bash -c "$CTL ps 2>&1 >/dev/null"
check "ps -J: the holder, its quota a number" eq "ioasidctl 3 5 False /ps_t.scope ps_t.scope None" bash -c \
	"$CTL ps -J | python3 -c 'import json,sys
for p in json.load(sys.stdin)[\"processes\"]:
	if p[\"pid\"] == $pid: print(p[\"comm\"], p[\"count\"], p[\"quota\"] + 0, p[\"unlimited\"], p[\"cgroup\"], p[\"unit\"], p[\"devices\"])'"

# A node of the same device under another name, held by sleep on fd 7.
mknod /tmp/ps_node c $(stat -c '%t %T' /dev/ioasid | { read -r a b; echo $((16#$a)) $((16#$b)); })
spawn_in_cg ps_t.scope bash -c 'exec 7<> /tmp/ps_node; exec sleep 600' < /dev/null
other=$!
wait_until 1 bash -c "ls /proc/$other/fd | grep -cx 7"
set2=$(sed -n 's/^ioasid-set:\t//p' /proc/$other/fdinfo/7)
check "ps: a node named otherwise is found" \
	eq "$other sleep 7 $set2 0 max /ps_t.scope ps_t.scope -" bash -c "$CTL ps | awk '\$1 == $other' | xargs"
check "ps: sets are numbered apart" fails test "$set2" = "$set"
kill $other
wait $other 2>/dev/null

# DEVICES: a holder that binds two of its IDs to the mock device with a
# table of 2^20 and one to the one with a table of 16.
cat > /tmp/ps_bind.py <<'PY'
import ctypes, fcntl, os, struct, sys
def io(nr):  # _IO(';', nr)
    return (ord(';') << 8) | nr
fd = os.open('/dev/ioasid', os.O_RDWR)
ids = ctypes.create_string_buffer(12)
fcntl.ioctl(fd, io(0x41), bytearray(struct.pack('=IIIIIIQ', 32, 0, 5, 7, 3, 0,
                                                ctypes.addressof(ids))))
a, b, c = struct.unpack('=III', ids.raw)
d0 = os.open('/dev/ioasid_mock0', os.O_RDWR)
d1 = os.open('/dev/ioasid_mock1', os.O_RDWR)
for dev, i in ((d0, a), (d0, b), (d1, c)):
    fcntl.ioctl(fd, io(0x45), bytearray(struct.pack('=IIiI', 16, 0, dev, i)))
print(fd, flush=True)
sys.stdin.read()
PY
mkfifo /tmp/ps_fifo2
exec 6<> /tmp/ps_fifo2
spawn_in_cg ps_t.scope python3 /tmp/ps_bind.py < /tmp/ps_fifo2 > /tmp/ps_bind.out 5>&- 6>&-
binder=$!
wait_for 6 $CG/ps_t.scope/ioasids.current
bfd=$(cat /tmp/ps_bind.out)
devices=$(sed -n 's/^ioasid-device:\t\(.*\) \([0-9]*\)$/\1=\2/p' /proc/$binder/fdinfo/$bfd | paste -sd,)
check "fdinfo: two devices, 2 and 1 of the set's IDs bound" \
	eq "2 1" bash -c "sed -n 's/^ioasid-device:\t.* //p' /proc/$binder/fdinfo/$bfd | xargs"
check "ps: DEVICES has each device and its count" \
	eq "3 $devices" bash -c "$CTL ps -o PID,COUNT,DEVICES | awk '\$1 == $binder { print \$2, \$3 }'"
exec 6>&-
wait $binder

exec 5>&-
wait $pid
check "ps: the holder gone, its line gone" eq "" bash -c "$CTL ps | awk '\$1 == $pid'"
rm -f /tmp/ps_fifo /tmp/ps_node /tmp/ps_fifo2 /tmp/ps_bind.py /tmp/ps_bind.out
rmdir $CG/ps_t.scope
done_testing
