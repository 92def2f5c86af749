#!/usr/bin/env python3
"""make bench: turn bench-job's "RESULT rep name ns" lines into ratios.

Every figure is a ratio of two measurements taken side by side in the same
repetition of the same guest run (absolute times under TCG mean little);
the table gives its median over the repetitions and the range. Writes
results.json and results.csv, and, with gnuplot, bench.svg, next to the log.

usage: report.py JOB_LOG OUT_DIR
       report.py --markdown RESULTS_JSON   the README's table of a run
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

# name, what it compares, numerator, denominator, target (<=) or None,
# and how many denominators (alloc+free is two system calls); a numerator
# or denominator that is a pair (A, B) is the ratio of A to B in the
# same repetition.
RATIOS = [
    ('charge_depth1', '/dev/ioasid alloc+free, charged at depth 1 vs not',
     'alloc1_on_d1', 'alloc1_off', None),
    ('charge_depth4', '/dev/ioasid alloc+free, charged at depth 4 vs not',
     'alloc1_on_d4', 'alloc1_off', 1.30),
    ('charge_depth16', '/dev/ioasid alloc+free, charged at depth 16 vs not',
     'alloc1_on_d16', 'alloc1_off', None),
    ('vs_null_ioctl', 'alloc+free (2 ioctls, depth 4) vs 2 null ioctls',
     'alloc1_on_d4', 'null', 3.0, 2),
    ('vs_misc_depth1', 'ioasids charge+uncharge vs misc, depth 1',
     'charge_d1', 'misc_d1', 1.1),
    ('vs_misc_depth4', 'ioasids charge+uncharge vs misc, depth 4',
     'charge_d4', 'misc_d4', 1.1),
    ('vs_misc_depth16', 'ioasids charge+uncharge vs misc, depth 16',
     'charge_d16', 'misc_d16', 1.1),
    ('cmpxchg_vs_add', 'one word +1 then -1: read+cmpxchg each vs '
     'atomic add each (in kernel)', 'atomic_cmpxchg', 'atomic_add', None),
    ('vs_ida', 'IOASID core alloc+free vs plain IDA (in kernel)',
     'ioasid', 'ida', 1.5),
    ('vs_ida_misc', 'IOASID core alloc+free vs IDA plus a misc charge '
     '(in kernel, depth 4)', 'ioasid', 'ida_misc', 1.2),
    ('scale_64k', 'alloc+free with 64K IDs live vs 1K',
     'scale_65536', 'scale_1024', None),
    ('scale_all', 'alloc+free with all 2^20 IDs live vs 1K',
     'scale_max', 'scale_1024', 1.2),
    ('batch64', 'per ID: 64 in one call vs one at a time',
     'batch', 'single', 0.2),
    ('two_cgroups', 'per op: two vCPUs in two cgroups vs one alone',
     'conc_two', 'conc_one', None),
    ('sets_open_close', 'open+close of a /dev/ioasid fd, 100,000 other '
     'fds (sets) open vs 10', 'open_close_100000', 'open_close_10', 1.2),
    ('sets_mm_lookup', 'ioasid_set_find_mm()+put, 100,000 other mm sets '
     'vs 10 (in kernel)', 'mm_lookup_100000', 'mm_lookup_10', 1.2),
    ('one_set_two_threads', 'per op: two threads on one fd on two vCPUs '
     'vs one alone', 'one_set_two', 'one_set_one', None),
    ('two_sets_one_cgroup', 'per op: two processes (two sets) in one '
     'cgroup on two vCPUs vs one alone', 'conc_two_sets', 'conc_one', None),
    # Contention in the kernel, beside what IDA does under the same two
    # vCPUs: (ours two at once / ours alone) / (IDA's two / IDA's alone).
    ('ida_two_vcpus', 'per op: IDA alloc+free on two vCPUs at once vs '
     'alone (in kernel)', 'k_ida_two', 'k_ida_one', None),
    ('two_cgroups_vs_ida', 'contention: core alloc+free in two cgroups at '
     'once vs alone, over IDA\'s same ratio (in kernel)',
     ('k_ioasid_two_cgroups', 'k_ioasid_one'), ('k_ida_two', 'k_ida_one'),
     1.2),
    ('two_sets_one_cgroup_vs_ida', 'contention: two sets of one cgroup at '
     'once vs alone, over IDA\'s (in kernel)',
     ('k_ioasid_two_sets', 'k_ioasid_one'), ('k_ida_two', 'k_ida_one'),
     None),
    ('one_set_two_threads_vs_ida', 'contention: one set from two vCPUs at '
     'once vs alone, over IDA\'s (in kernel)',
     ('k_ioasid_shared_two', 'k_ioasid_shared_one'),
     ('k_ida_two', 'k_ida_one'), 1.2),
]

# The table's figures, in the README's numbering: memory (not a ratio) is
# figure 7, after this one.
MEMORY_AFTER = 'batch64'
MEMORY_TARGET = 16


def parse(path):
    runs = {}
    for line in open(path, errors='replace'):
        parts = line.split()
        if len(parts) != 4 or parts[0] != 'RESULT':
            continue
        rep, name, value = parts[1], parts[2], parts[3]
        if name.startswith('scale_') and name not in ('scale_1024',
                                                      'scale_65536'):
            name = 'scale_max'
        try:
            runs.setdefault(rep, {})[name] = float(value)
        except ValueError:
            pass
    return runs


def value(run, what):
    """A measurement of one repetition, or a ratio of two; None if absent."""
    if isinstance(what, tuple):
        a, b = run.get(what[0]), run.get(what[1])
        return a / b if a and b else None
    return run.get(what)


def markdown(path):
    """The README's table: every figure of the run in RESULTS_JSON."""
    d = json.load(open(path))
    out = [f'Run of {d["commit"]}, {d["repetitions"]} repetitions '
           '(`tests/bench/report.py --markdown`; make check compares):',
           '',
           '| figure | what | median | range | target | |',
           '| --- | --- | ---: | ---: | ---: | --- |']
    for r in d['ratios']:
        if not r['n']:
            out.append(f'| {r["key"]} | {r["what"]} | - | | | not measured |')
            continue
        tgt = f'≤ {r["target"]:g}' if r['target'] is not None else ''
        met = {True: 'met', False: 'missed', None: ''}[r['met']]
        out.append(f'| {r["key"]} | {r["what"]} | {r["median"]:.2f} | '
                   f'{r["min"]:.2f}-{r["max"]:.2f} | {tgt} | {met} |')
    return '\n'.join(out) + '\n'


def main(argv):
    if len(argv) == 3 and argv[1] == '--markdown':
        sys.stdout.write(markdown(argv[2]))
        return 0
    log, out = argv[1], argv[2]
    runs = parse(log)
    if not runs:
        print('bench: no results in', log)
        return 1
    rows = []
    for key, what, num, den, target, *times in RATIOS:
        k = times[0] if times else 1
        vals = [value(r, num) / (k * value(r, den)) for r in runs.values()
                if value(r, num) and value(r, den)]
        if not vals:
            rows.append(dict(key=key, what=what, n=0, target=target))
            continue
        med = statistics.median(vals)
        rows.append(dict(key=key, what=what, n=len(vals), median=med,
                         min=min(vals), max=max(vals), target=target,
                         met=None if target is None else med <= target))
    mem = runs.get('1', {}).get('memory_bytes_per_id')
    at = [r['key'] for r in rows].index(MEMORY_AFTER) + 1
    rows.insert(at, dict(key='memory',
                         what='slab bytes per live plain ID, all live',
                         n=1 if mem else 0, median=mem, min=mem, max=mem,
                         target=MEMORY_TARGET,
                         met=None if mem is None else mem <= MEMORY_TARGET))
    raw = {k: statistics.median([r[k] for r in runs.values() if k in r])
           for k in sorted({k for r in runs.values() for k in r})}

    w = max(len(r['key']) for r in rows)
    print(f'{"figure":<{w}} {"median":>8} {"range":>15} {"target":>7}  '
          f'{"":4} what')
    for r in rows:
        if not r['n']:
            print(f'{r["key"]:<{w}} {"-":>8} {"":>15} {"":>7}  {"":4} '
                  f'{r["what"]} (not measured)')
            continue
        rng = f'{r["min"]:.2f}-{r["max"]:.2f}'
        tgt = f'<={r["target"]:g}' if r['target'] is not None else ''
        met = {True: 'met', False: 'MISS', None: ''}[r['met']]
        print(f'{r["key"]:<{w}} {r["median"]:>8.2f} {rng:>15} {tgt:>7}  '
              f'{met:4} {r["what"]}')
    print(f'({len(runs)} repetitions; ratios of figures measured side by '
          'side in each; medians of the raw ns/op in results.json)')

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'results.json'), 'w') as f:
        json.dump({'ratios': rows, 'raw_ns_median': raw,
                   'repetitions': len(runs), 'commit': commit()}, f,
                  indent=1)
    with open(os.path.join(out, 'results.csv'), 'w') as f:
        f.write('figure,median,min,max,target,met\n')
        for r in rows:
            if r['n']:
                f.write(f'{r["key"]},{r["median"]:.3f},{r["min"]:.3f},'
                        f'{r["max"]:.3f},{r["target"] or ""},'
                        f'{"" if r["met"] is None else r["met"]}\n')
    plot(out, [r for r in rows if r['n'] and r['key'] != 'memory'])
    return 0


def commit():
    """The code measured: IOASIDS_BENCH_COMMIT, or the tree's commit."""
    if os.environ.get('IOASIDS_BENCH_COMMIT'):
        return os.environ['IOASIDS_BENCH_COMMIT']
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    try:
        return subprocess.run(['git', '-C', top, 'describe', '--always',
                               '--dirty'], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def plot(out, rows):
    if not shutil.which('gnuplot'):
        print('bench: no gnuplot, no plot')
        return
    data = os.path.join(out, 'plot.dat')
    with open(data, 'w') as f:
        for i, r in enumerate(rows):
            tgt = r['target'] if r['target'] is not None else 'NaN'
            f.write(f'{i} "{r["key"]}" {r["median"]:.3f} {r["min"]:.3f} '
                    f'{r["max"]:.3f} {tgt}\n')
    svg = os.path.join(out, 'bench.svg')
    script = f'''
set terminal svg size 900,420 font "sans,11"
set output "{svg}"
set termoption noenhanced
set title "ioasids: each figure as a ratio to its baseline (median, range)"
set style fill solid 0.5
set boxwidth 0.6
set xtics rotate by -35
set yrange [0:*]
set grid ytics
set bmargin 6
set key top right
plot "{data}" using 1:3:xtic(2) with boxes title "measured", \\
     "" using 1:3:4:5 with yerrorbars lc black pt 0 notitle, \\
     "" using 1:6 with points pt 7 ps 1 lc rgb "red" title "target (at most)"
'''
    subprocess.run(['gnuplot'], input=script, text=True, check=False)
    print('bench: plot in', svg)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
