#!/usr/bin/env python3
"""Turn a guest run into one line per test and a verdict.

    report.py CONSOLE_LOG JOB_LOG [--status N] [--extra RESULTS]
              [--inventory FILE [--filter T] [--full]] [--allowed-skips FILE]
              [--cases TOP]

JOB_LOG is what the guest job wrote on its serial port: blocks between
"@@BEGIN <kind> <name>" and "@@END <name> <status>". Inside a block, TAP or
KTAP result lines ("ok 1 name", "not ok 2 name # SKIP why", nested by
indentation) are the test results; a block without any is one result,
judged by its exit status (0 passed, 4 skipped as in kselftest, else
failed). CONSOLE_LOG is the kernel console: any WARN, BUG, oops, lockdep,
KASAN, UBSAN, SLUB or kmemleak report in it (kmemleak, lockdep or
debugobjects turning itself off, printk dropping messages and an OOM kill
included) is a failure of its own, as is a guest that did not finish
(--status other than 0), and so is a run in which no test ran at all.
--extra adds result lines ("ok NAME", "FAIL NAME # why") that were produced
elsewhere, such as the harness's own tests.

Nothing can vanish or pass by not running:
- a block whose TAP results have no plan ("1..N"), or whose plan does not
  match the number of results at its level, fails (a plan is checked at
  every level that has one);
- a skip is a failure unless its name matches a line of the allowed-skips
  file (default: allowed-skips next to this script), which gives a reason;
- with --inventory, every "guest NAME" line of FILE (only those containing
  --filter's T, or one of its comma-separated parts, as the guest job
  selects) and, with --full, every
  "host NAME" line must have produced at least one result named NAME or
  NAME/...; a missing one fails;
- with --cases TOP, so must every test case that the sources of TOP have
  (cases.py: each TEST/TEST_F, KUNIT_CASE, test_ioasids.c tests[] entry,
  integration check, boot job check; guest ones as --filter selects, host
  ones with --full), and a kselftest, KUnit or tests[] case that the git
  history had and the sources lost fails unless retired-cases names it.

Prints "ok", "FAIL" or "skip" and the test name for each test, then the
line "N passed, N failed, N skipped". Exits 1 when anything failed.
"""
import fnmatch
import os
import re
import sys

KSFT_SKIP = 4

# What the kernel prints when something went wrong, whatever test was running.
CONSOLE_REPORTS = [
    # Any "WARNING:" the kernel prints: WARN()s and every lockdep report
    # ("HARDIRQ-safe -> HARDIRQ-unsafe lock order detected", SOFTIRQ's,
    # circular, recursive, inconsistent, bad unlock, suspicious RCU, ...).
    (re.compile(r'\bWARNING: '), 'WARN'),
    (re.compile(r'------------\[ cut here \]------------'), 'WARN'),
    (re.compile(r'\bBUG: '), 'BUG'),
    # SLUB's debug checks: "BUG kmalloc-64 (Not tainted): Poison overwritten".
    (re.compile(r'\bBUG [\w.:-]+ \((Not t|T)ainted\)'), 'SLUB'),
    (re.compile(r'list_(add|del) corruption'), 'DEBUG_LIST'),
    (re.compile(r'kernel BUG at'), 'BUG'),
    (re.compile(r'\bOops: '), 'oops'),
    (re.compile(r'general protection fault'), 'oops'),
    (re.compile(r'Kernel panic'), 'panic'),
    (re.compile(r'INFO: (task .* blocked|rcu_.* stall|possible|lockdep)'), 'lockdep/hang'),
    (re.compile(r'soft lockup|hard LOCKUP|hung_task: blocked'), 'lockup'),
    (re.compile(r'UBSAN: '), 'UBSAN'),
    (re.compile(r'kmemleak: \d+ new suspected memory leaks'), 'kmemleak'),
    (re.compile(r'unreferenced object 0x'), 'kmemleak'),
    # kmemleak off means leaks go unseen from there on.
    (re.compile(r'kmemleak: (Kernel memory leak detector disabled|'
                r'Memory pool empty|Cannot allocate|'
                r'Kmemleak disabled without freeing)'), 'kmemleak off'),
    # The other detectors turning themselves off: lockdep (out of lock
    # classes or chains, or after a first report), debugobjects (out of
    # memory for its objects), lock debugging after a taint.
    (re.compile(r'turning off the locking correctness validator'), 'lockdep off'),
    (re.compile(r'Disabling lock debugging due to kernel taint'), 'lockdep off'),
    (re.compile(r'ODEBUG(:| disabled)|debug_objects: .*disabled'), 'debugobjects'),
    # Reports that never reached the console.
    (re.compile(r'printk messages dropped'), 'printk dropped'),
    # An OOM kill: some test's process died, whatever it printed.
    (re.compile(r'invoked oom-killer|Out of memory: Kill|'
                r'Memory cgroup out of memory|oom-kill:'), 'OOM'),
]

RESULT = re.compile(r'^(\s*)(not ok|ok)\s+\d+\s*(?:-\s+)?([^#]*?)\s*(?:#\s*(.*))?$')
PLAN = re.compile(r'^(\s*)1\.\.(\d+)\s*(?:#.*)?$')


def check_plans(lines):
    """Why the (K)TAP plans of a block do not hold, or None.

    Results and plans are grouped by indentation: a run of lines at one
    indent, ended by a line indented less, is one level (a suite's cases,
    say). Each level's plan, before or after its results, must count them;
    the outermost level must have one.
    """
    levels = []		# [indent, plan, count]
    problems = []
    top = None

    def close(level):
        indent, plan, count = level
        if plan is None:
            if indent == top:
                problems.append(f'{count} results and no TAP plan')
        elif plan != count:
            problems.append(f'plan 1..{plan}, {count} results')

    for line in lines:
        line = line.rstrip('\n')
        m = PLAN.match(line)
        r = None if m else RESULT.match(line)
        if not m and not r:
            continue
        indent = len((m or r).group(1).expandtabs(8))
        if top is None or indent < top:
            top = indent
        while levels and levels[-1][0] > indent:
            close(levels.pop())
        if not levels or levels[-1][0] < indent:
            levels.append([indent, None, 0])
        if m:
            levels[-1][1] = int(m.group(2))
        else:
            levels[-1][2] += 1
    while levels:
        close(levels.pop())
    return '; '.join(problems) or None
SUBTEST = re.compile(r'^(\s*)#\s*Subtest:\s*(\S+)')


def parse_tap(lines):
    """Leaf results of a (K)TAP stream: [(name, 'ok'|'FAIL'|'skip', why)]."""
    results = []
    # Results nested deeper than another result's level are that one's
    # children; report leaves only, named parent/child.
    entries = []
    for line in lines:
        m = RESULT.match(line.rstrip('\n'))
        if not m:
            continue
        indent, verdict, name, directive = m.groups()
        skip = bool(directive) and directive.upper().startswith('SKIP')
        state = 'skip' if skip else ('ok' if verdict == 'ok' else 'FAIL')
        entries.append((len(indent.expandtabs(8)), name.strip(), state,
                        directive or ''))
    # A result line closes the results indented deeper than it that come
    # right before it: those are its subtests.
    stack = []  # (indent, name, state, why)
    for ent in entries:
        indent = ent[0]
        children = []
        while stack and stack[-1][0] > indent:
            children.insert(0, stack.pop())
        if children:
            for c in children:
                cname = c[1] if '/' in c[1] else f'{ent[1]}/{c[1]}'
                stack.append((indent, cname, c[2], c[3]))
            # The parent's own verdict matters only if it failed while all
            # its children passed (e.g. a crash after the last subtest).
            if ent[2] == 'FAIL' and all(c[2] != 'FAIL' for c in children):
                stack.append((indent, ent[1], 'FAIL', 'suite failed'))
        else:
            stack.append(ent)
    for _, name, state, why in stack:
        results.append((name, state, why))
    return results


def parse_job(path):
    results = []
    blocks = {}
    current = None
    finished = False
    with open(path, errors='replace') as f:
        for line in f:
            line = line.rstrip('\r\n')
            if line.startswith('@@BEGIN '):
                parts = line.split(None, 2)
                current = (parts[1], parts[2] if len(parts) > 2 else parts[1])
                blocks[current] = []
            elif line.startswith('@@END ') and current:
                status = int(line.split()[-1])
                kind, name = current
                tap = parse_tap(blocks[current])
                prefix = f'{kind}/{name}'
                planned = check_plans(blocks[current])
                if planned:
                    results.append((prefix, 'FAIL', planned))
                last = next((l.strip() for l in reversed(blocks[current])
                             if l.strip()), '')[:120]
                if tap:
                    for tname, state, why in tap:
                        # KTAP nests a suite's cases under the suite's name.
                        if tname.startswith(name + '/'):
                            tname = tname[len(name) + 1:]
                        results.append((f'{prefix}/{tname}', state, why))
                    if status not in (0, KSFT_SKIP) and \
                            all(s != 'FAIL' for _, s, _ in tap):
                        results.append((prefix, 'FAIL', f'exit status {status}'))
                elif planned:
                    pass
                elif status == 0:
                    results.append((prefix, 'ok', ''))
                elif status == KSFT_SKIP:
                    results.append((prefix, 'skip', last))
                else:
                    results.append((prefix, 'FAIL', f'exit status {status}'))
                current = None
            elif line.startswith('@@EXIT '):
                finished = True
            elif current:
                blocks[current].append(line)
    if current:
        results.append((f'{current[0]}/{current[1]}', 'FAIL',
                        'did not finish'))
    return results, finished


def console_reports(path):
    found = []
    with open(path, errors='replace') as f:
        for line in f:
            for pat, what in CONSOLE_REPORTS:
                if pat.search(line):
                    found.append((what, line.strip()))
                    break
    return found


def allowed_skips(path):
    """[(glob, reason)] from PATH: "NAME-GLOB  # reason" lines."""
    import cases
    return cases.reason_lines(path, 'report')


def judge_skips(results, allowed):
    out = []
    for name, state, why in results:
        if state == 'skip' and \
                not any(fnmatch.fnmatchcase(name, g) for g, _ in allowed):
            state, why = 'FAIL', f'skipped, not an allowed skip: {why}'.rstrip(': ')
        out.append((name, state, why))
    return out


def missing(results, inventory, filt, full):
    """Inventory entries that produced no result."""
    names = [n for n, _, _ in results]
    gone = []
    with open(inventory) as f:
        for line in f:
            words = line.split('#', 1)[0].split()
            if not words:
                continue
            where, entry = words
            if where == 'host' and not full:
                continue
            if where == 'guest' and filt and \
                    not any(f in entry for f in filt.split(',')):
                continue
            if not any(n == entry or n.startswith(entry + '/') for n in names):
                gone.append(entry)
    return gone


def missing_cases(results, top, filt, full):
    """[(name, why)]: the cases the sources have (cases.py) that produced
    no result, and those deleted from the sources without being retired."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import cases
    names = [n for n, _, _ in results]
    exact = set(names)
    prefixes = set()
    for n in names:
        parts = n.split('/')
        for i in range(1, len(parts)):
            prefixes.add('/'.join(parts[:i]))
    out = []
    for where, name, regex in cases.current(top):
        if where == 'host' and not full:
            continue
        if where == 'guest' and filt and \
                not any(f in name for f in filt.split(',')):
            continue
        if re.escape(name) == regex:
            if name in exact or name in prefixes:
                continue
        else:
            rx = re.compile(regex + '(?:/.*)?')
            if any(rx.fullmatch(n) for n in names):
                continue
        out.append((name, 'missing: a case of the sources (cases.py) '
                    'without a result'))
    for name in cases.deleted(top):
        out.append((name, 'deleted from the sources: name it in '
                    'tests/harness/retired-cases, with why'))
    return out


def main(argv):
    args, status, extra = [], None, None
    cases_top = None
    inventory, filt, full = None, '', False
    skips = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         'allowed-skips')
    it = iter(argv)
    for a in it:
        if a == '--status':
            status = int(next(it))
        elif a == '--extra':
            extra = next(it)
        elif a == '--inventory':
            inventory = next(it)
        elif a == '--filter':
            filt = next(it)
        elif a == '--full':
            full = True
        elif a == '--cases':
            cases_top = next(it)
        elif a == '--allowed-skips':
            skips = next(it)
        else:
            args.append(a)
    console, job = args[0], args[1]

    results, finished = parse_job(job)
    # The harness's own checks at the end of the run do not count as tests.
    if not any(not n.startswith('guest/') for n, _, _ in results):
        results.append(('guest/tests', 'FAIL', 'no test ran'))
    reports = console_reports(console)
    if reports:
        what, line = reports[0]
        results.append(('guest/kernel-reports', 'FAIL',
                        f'{len(reports)} {what} line(s) on the console, '
                        f'first: {line[:160]}'))
    else:
        results.append(('guest/kernel-reports', 'ok', ''))
    if not finished or status not in (None, 0):
        why = {124: 'timed out', 125: 'died'}.get(status, f'job status {status}')
        if not finished:
            why = 'did not finish: ' + why
        results.append(('guest/run', 'FAIL', why))
    if extra:
        # "ok NAME", "FAIL NAME  # why": NAME may have spaces (the systemd
        # boot's tests name checks in words). A line that looks like a
        # result but cannot be read is a failure, never dropped.
        with open(extra) as f:
            for line in f:
                line = line.strip()
                m = re.match(r'^(ok|FAIL|skip)\s+(.*?)(?:\s+#\s*(.*))?$',
                             line)
                if m and m.group(2):
                    results.append((m.group(2), m.group(1), m.group(3) or ''))
                elif re.match(r'^(ok|FAIL|skip)\b', line):
                    results.append(('harness/results', 'FAIL',
                                    f'cannot read the result line {line!r}'))
    results = judge_skips(results, allowed_skips(skips))
    if inventory:
        for entry in missing(results, inventory, filt, full):
            results.append((entry, 'FAIL', f'missing: in {os.path.basename(inventory)}, '
                            'but the run has no result for it'))

    if cases_top:
        for name, why in missing_cases(results, cases_top, filt, full):
            results.append((name, 'FAIL', why))

    counts = {'ok': 0, 'FAIL': 0, 'skip': 0}
    for name, state, why in results:
        counts[state] += 1
        tail = f'  # {why}' if why and state != 'ok' else ''
        print(f'{state:<4} {name}{tail}')
    print(f"{counts['ok']} passed, {counts['FAIL']} failed, "
          f"{counts['skip']} skipped")
    return 1 if counts['FAIL'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
