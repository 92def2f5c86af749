#!/usr/bin/env python3
"""Turn a guest run into one line per test and a verdict.

    report.py CONSOLE_LOG JOB_LOG [--status N] [--extra RESULTS]

JOB_LOG is what the guest job wrote on its serial port: blocks between
"@@BEGIN <kind> <name>" and "@@END <name> <status>". Inside a block, TAP or
KTAP result lines ("ok 1 name", "not ok 2 name # SKIP why", nested by
indentation) are the test results; a block without any is one result,
judged by its exit status (0 passed, 4 skipped as in kselftest, else
failed). CONSOLE_LOG is the kernel console: any WARN, BUG, oops, lockdep,
KASAN or kmemleak report in it is a failure of its own, as is a guest that
did not finish (--status other than 0), and so is a run in which no test
ran at all. --extra adds result lines ("ok NAME", "FAIL NAME # why") that
were produced elsewhere, such as the harness's own tests.

Prints "ok", "FAIL" or "skip" and the test name for each test, then the
line "N passed, N failed, N skipped". Exits 1 when anything failed.
"""
import re
import sys

KSFT_SKIP = 4

# What the kernel prints when something went wrong, whatever test was running.
CONSOLE_REPORTS = [
    (re.compile(r'WARNING: (CPU: \d+ PID|at |possible|suspicious|inconsistent|bad unlock|held lock|lock held|Nested lock|chain_key)'), 'WARN'),
    (re.compile(r'------------\[ cut here \]------------'), 'WARN'),
    (re.compile(r'\bBUG: '), 'BUG'),
    (re.compile(r'kernel BUG at'), 'BUG'),
    (re.compile(r'\bOops: '), 'oops'),
    (re.compile(r'general protection fault'), 'oops'),
    (re.compile(r'Kernel panic'), 'panic'),
    (re.compile(r'INFO: (task .* blocked|rcu_.* stall|possible|lockdep)'), 'lockdep/hang'),
    (re.compile(r'UBSAN: '), 'UBSAN'),
    (re.compile(r'kmemleak: \d+ new suspected memory leaks'), 'kmemleak'),
    (re.compile(r'unreferenced object 0x'), 'kmemleak'),
]

RESULT = re.compile(r'^(\s*)(not ok|ok)\s+\d+\s*(?:-\s+)?([^#]*?)\s*(?:#\s*(.*))?$')
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
                if tap:
                    for tname, state, why in tap:
                        # KTAP nests a suite's cases under the suite's name.
                        if tname.startswith(name + '/'):
                            tname = tname[len(name) + 1:]
                        results.append((f'{prefix}/{tname}', state, why))
                    if status not in (0, KSFT_SKIP) and \
                            all(s != 'FAIL' for _, s, _ in tap):
                        results.append((prefix, 'FAIL', f'exit status {status}'))
                elif status == 0:
                    results.append((prefix, 'ok', ''))
                elif status == KSFT_SKIP:
                    results.append((prefix, 'skip', ''))
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


def main(argv):
    args, status, extra = [], None, None
    it = iter(argv)
    for a in it:
        if a == '--status':
            status = int(next(it))
        elif a == '--extra':
            extra = next(it)
        else:
            args.append(a)
    console, job = args[0], args[1]

    results, finished = parse_job(job)
    if not results:
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
        with open(extra) as f:
            for line in f:
                m = re.match(r'^(ok|FAIL|skip)\s+(\S+)(?:\s+#\s*(.*))?$',
                             line.strip())
                if m:
                    results.append((m.group(2), m.group(1), m.group(3) or ''))

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
