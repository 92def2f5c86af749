#!/bin/bash
# ioasidctl metrics as Debian's prometheus-node-exporter serves it: the
# exporter's textfile collector reads the directory ioasids-metrics.service
# writes, on a loopback port; the values scraped after an allocation, a
# refusal and a free are checked one by one.
. "$(dirname "$0")/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$top/build/tools/ioasidctl
unit=$top/systemd-units/ioasids-metrics.service
port=19100
url=http://127.0.0.1:$port/metrics

# The unit's file, in the directory the exporter reads by default.
prom=$(sed -n 's/^ExecStart=.* --textfile //p' "$unit")
dir=$(dirname "$prom")
check "the unit writes into the exporter's default textfile directory" \
	eq "$dir" bash -c "prometheus-node-exporter --help 2>&1 |
		sed -n 's/.*--collector.textfile.directory=\"\([^\"]*\)\".*/\1/p'"
check "the unit runs ioasidctl metrics --only limited,used,refused --textfile" \
	grep -qx "ExecStart=/usr/bin/ioasidctl metrics --only limited,used,refused --textfile $prom" "$unit"

echo +ioasids > $CG/cgroup.subtree_control
mkdir $CG/metrics_t
echo 5 > $CG/metrics_t/ioasids.max
mkdir -p "$dir"
# The guest may boot with the loopback interface down.
ip link set lo up

prometheus-node-exporter --web.listen-address=127.0.0.1:$port \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$dir" > /tmp/metrics-exporter.log 2>&1 &
exporter=$!

# scrape METRIC: its value as the exporter serves it, as a plain number
# (the exporter writes 1048575 as 1.048575e+06) or +Inf.
scrape() {
	curl -sf "$url" | awk -v m="$1" '$1 == m {
		if ($2 == "+Inf") print $2; else printf "%d\n", $2 }'
}
# publish: what ioasids-metrics.service does, with this build's ioasidctl.
publish() {
	$CTL metrics --only limited,used,refused --textfile "$prom"
}

check "the exporter answers" wait_until ok bash -c "curl -sf $url > /dev/null && echo ok"
publish
check "scraped: ioasids_capacity" eq 1048575 scrape ioasids_capacity
check "scraped: no error reading the file" eq 0 scrape node_textfile_scrape_error
check "scraped: a new cgroup holds none" eq 0 scrape 'ioasids_current{cgroup="/metrics_t"}'
check "scraped: its limit" eq 5 scrape 'ioasids_max{cgroup="/metrics_t"}'

mkfifo /tmp/metrics_fifo
exec 5<> /tmp/metrics_fifo
spawn_in_cg metrics_t $CTL alloc --count 3 --hold < /tmp/metrics_fifo > /dev/null 5>&-
pid=$!
wait_for 3 $CG/metrics_t/ioasids.current
check "a refusal over the limit" refused /metrics_t in_cg metrics_t $CTL alloc --count 3
publish
check "scraped after alloc: current" eq 3 scrape 'ioasids_current{cgroup="/metrics_t"}'
check "scraped after alloc: the root's current" eq 3 scrape 'ioasids_current{cgroup="/"}'
check "scraped after alloc: peak" eq 3 scrape 'ioasids_peak{cgroup="/metrics_t"}'
check "scraped after alloc: the fd kind" eq 3 scrape 'ioasids_ids{cgroup="/metrics_t",kind="fd"}'
check "scraped after alloc: one set" eq 1 scrape 'ioasids_sets{cgroup="/metrics_t"}'
check "scraped after the refusal: events max" \
	eq 1 scrape 'ioasids_refusals_total{cgroup="/metrics_t",reason="max"}'
check "scraped after the refusal: events capacity" \
	eq 0 scrape 'ioasids_refusals_total{cgroup="/metrics_t",reason="capacity"}'

exec 5>&-
wait $pid
echo max > $CG/metrics_t/ioasids.max
mkdir $CG/metrics_t2
publish
# Neither limited nor used now, but refused once: the unit's --only keeps
# it. A cgroup that is none of them has no series.
check "scraped after free: kept for its refusal" \
	eq 0 scrape 'ioasids_current{cgroup="/metrics_t"}'
check "scraped: no series for a cgroup without a limit, IDs or a refusal" \
	eq "" scrape 'ioasids_current{cgroup="/metrics_t2"}'
check "scraped after free: the root's still" eq 0 scrape 'ioasids_current{cgroup="/"}'
# Everything, as ioasidctl metrics prints it without --only.
$CTL metrics --textfile "$prom"
check "without --only: every cgroup" eq 0 scrape 'ioasids_current{cgroup="/metrics_t2"}'
check "scraped after free: current" eq 0 scrape 'ioasids_current{cgroup="/metrics_t"}'
check "scraped after free: the peak stays" eq 3 scrape 'ioasids_peak{cgroup="/metrics_t"}'
check "scraped after free: max is +Inf" eq +Inf scrape 'ioasids_max{cgroup="/metrics_t"}'
check "scraped after free: still no error" eq 0 scrape node_textfile_scrape_error

kill $exporter
wait $exporter 2>/dev/null
rm -f /tmp/metrics_fifo /tmp/metrics-exporter.log "$prom"
rmdir $CG/metrics_t $CG/metrics_t2
done_testing
