#!/usr/bin/env python3
"""The test cases a `make check` run must report, generated from the sources.

    cases.py [TOP]            print "guest|host<TAB>NAME<TAB>REGEX" per case
    cases.py --ratchet [--history GIT_TOP] [TOP]
                              print the cases the git history (of GIT_TOP,
                              default TOP) had that the sources of TOP no
                              longer have and retired-cases does not name;
                              exit 1 if there are any

Every result of a case is named KIND/BLOCK/CASE (report.py's names):

- kselftest/BINARY/FIXTURE[.VARIANT].NAME for each TEST, TEST_F,
  TEST_F_TIMEOUT, TEST_SIGNAL (and macros that wrap them, such as
  ioasid_fail_nth.c's NTH_TEST) of tests/selftests/ioasid/*.c (TEST's
  fixture is "global"), BINARY as tests/selftests/Makefile builds it;
- kselftest/test_ioasids/NAME for each entry T(NAME) of the tests[] table
  of tests/selftests/cgroup/test_ioasids.c;
- kunit/SUITE/CASE for each KUNIT_CASE* of a suite's test_cases array in
  cgroup/*kunit*.c and kernel/*kunit*.c;
- integration/SCRIPT/CHECK for each `check "NAME" ...` of
  tests/integration/*.sh (guest), and integration/systemd-SCRIPT/... and
  integration/userspace-SCRIPT/... for tests/integration/systemd/*.sh and
  tests/userspace/*.sh but podman-pods.sh, deb.sh, rootless.sh and libvirt.sh (the systemd boot of
  boot-tests: host); boot/JOB/NAME for each `t NAME` of a boot job
  (host). A name built from variables ("$rt: 3 PASIDs fit") is
  a pattern: each variable part matches anything.

A kselftest, KUnit or table case that any commit of the git history had and
the sources no longer have fails the run (--ratchet, and report.py), unless
tests/harness/retired-cases names it with a reason: deleting a test is a
reviewed decision, never a silent one. The retired list is the only list
kept by hand.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Integration scripts that make check does not run (tests/userspace/run
# runs them): see boot-jobs/systemd.
NOT_RUN = {'podman-pods', 'deb', 'rootless', 'libvirt'}

C_SOURCES = ('tests/selftests/ioasid', 'tests/selftests/cgroup', 'cgroup', 'kernel',
             'tests/selftests/Makefile')

HARNESS_TEST = re.compile(
    r'^\s*(TEST|TEST_SIGNAL|TEST_F|TEST_F_TIMEOUT|TEST_F_SIGNAL)\(\s*(\w+)\s*(?:,\s*(\w+))?',
    re.M)
VARIANT = re.compile(r'^\s*FIXTURE_VARIANT_ADD\(\s*(\w+)\s*,\s*(\w+)\s*\)', re.M)
WRAPPER = re.compile(
    r'^#define\s+(\w+)\(\s*(\w+)[^)]*\)((?:[^\n]*\\\n)*[^\n]*)', re.M)
KUNIT_ARRAY = re.compile(
    r'struct\s+kunit_case\s+(\w+)\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;', re.S)
KUNIT_CASE = re.compile(r'^\s*KUNIT_CASE\w*\(\s*(\w+)', re.M)
KUNIT_SUITE = re.compile(
    r'struct\s+kunit_suite\s+\w+\s*=\s*\{(.*?)\n\s*\}\s*;', re.S)
TABLE = re.compile(r'\}\s*tests\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;', re.S)
TABLE_ENTRY = re.compile(r'^\s*T\(\s*(\w+)\s*\)', re.M)
MAKE_RULE = re.compile(r'^\$\(OUT\)/(\w+):\s*(\S+\.c)\b', re.M)
CHECK = re.compile(r'''^\s*check\s+("(?:[^"\\]|\\.)*"|'[^']*'|[^\s'"]+)''', re.M)
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)


def uncomment(text):
    return COMMENT.sub(lambda m: '\n' * m.group(0).count('\n'), text)


def harness_cases(text):
    """kselftest_harness names (FIXTURE[.VARIANT].NAME) defined by TEXT."""
    text = uncomment(text)
    variants = {}
    for fixture, variant in VARIANT.findall(text):
        variants.setdefault(fixture, []).append(variant)
    found = []
    # Not the tests inside a macro's body (NTH_TEST's TEST_F_TIMEOUT(nth,
    # name, ...)): those are its invocations', found below.
    bodies = re.sub(r'^#define(?:[^\n]*\\\n)*[^\n]*', '', text, flags=re.M)
    for macro, fixture, name in HARNESS_TEST.findall(bodies):
        if macro in ('TEST', 'TEST_SIGNAL'):
            fixture, name = 'global', fixture
        if not name:
            continue
        found.append((fixture, name))
    # Macros whose body defines a test named by their first parameter.
    for wrap, param, body in WRAPPER.findall(text):
        m = re.search(r'\bTEST_F\w*\(\s*(\w+)\s*,\s*' + re.escape(param) + r'\b', body)
        if not m:
            continue
        for name in re.findall(r'^' + re.escape(wrap) + r'\(\s*(\w+)', text, re.M):
            found.append((m.group(1), name))
    names = []
    for fixture, name in found:
        if fixture == 'global' and name in ('name', 'test_name'):
            continue	# the harness's own macro definitions
        for v in variants.get(fixture, ['']):
            names.append(f'{fixture}.{v}.{name}' if v else f'{fixture}.{name}')
    return names


def kunit_cases(text):
    """[(suite, case)] of TEXT's kunit suites."""
    text = uncomment(text)
    arrays = {a: KUNIT_CASE.findall(body) for a, body in KUNIT_ARRAY.findall(text)}
    out = []
    for body in KUNIT_SUITE.findall(text):
        name = re.search(r'\.name\s*=\s*"([^"]+)"', body)
        cases = re.search(r'\.test_cases\s*=\s*(\w+)', body)
        if name and cases:
            out += [(name.group(1), c) for c in arrays.get(cases.group(1), [])]
    return out


def table_cases(text):
    m = TABLE.search(uncomment(text))
    return TABLE_ENTRY.findall(m.group(1)) if m else []


def check_pattern(arg):
    """A regular expression for the TAP name `check ARG` prints."""
    if arg[0] == "'":
        parts = [(arg[1:-1], False)]
    else:
        s = arg[1:-1] if arg[0] == '"' else arg
        parts = []
        lit = ''
        i = 0
        while i < len(s):
            c = s[i]
            if c == '\\' and i + 1 < len(s):
                lit += s[i + 1]
                i += 2
            elif c == '$':
                parts.append((lit, False))
                lit = ''
                # $name, ${...}, $(...), $((...)): up to its end.
                if s[i + 1:i + 2] in ('{', '('):
                    depth, j = 0, i + 1
                    while j < len(s):
                        if s[j] in '({':
                            depth += 1
                        elif s[j] in ')}':
                            depth -= 1
                            if depth == 0:
                                break
                        j += 1
                    i = j + 1
                else:
                    j = i + 1
                    while j < len(s) and (s[j].isalnum() or s[j] == '_'):
                        j += 1
                    i = max(j, i + 2)
                parts.append(('', True))
            else:
                lit += c
                i += 1
        parts.append((lit, False))
    text = ''.join('\0' if var else lit for lit, var in parts)
    # report.py reads a TAP name up to a '#', without its surrounding space.
    text = text.split('#', 1)[0].strip()
    exact = '\0' not in text
    regex = '.*'.join(re.escape(p) for p in text.split('\0'))
    return text.replace('\0', '*'), regex, exact


def integration_cases(path):
    with open(path, errors='replace') as f:
        text = f.read()
    return [check_pattern(a) for a in CHECK.findall(text)]


def makefile_binaries(text):
    """{source path under tests/selftests: binary} from the Makefile."""
    return {src: binary for binary, src in MAKE_RULE.findall(text)}


def c_cases(read, listing):
    """{name} of the kselftest, KUnit and table cases of one tree.

    READ(path) gives a file's text (None if absent); LISTING is its paths.
    """
    binaries = makefile_binaries(read('tests/selftests/Makefile') or '')
    names = set()
    for path in listing:
        if path.startswith('tests/selftests/ioasid/') and path.endswith('.c'):
            rel = path[len('tests/selftests/'):]
            binary = binaries.get(rel, os.path.basename(path)[:-2])
            names |= {f'kselftest/{binary}/{c}' for c in harness_cases(read(path) or '')}
        elif path == 'tests/selftests/cgroup/test_ioasids.c':
            names |= {f'kselftest/test_ioasids/{c}' for c in table_cases(read(path) or '')}
        elif re.match(r'(cgroup|kernel)/[^/]*kunit[^/]*\.c$', path):
            names |= {f'kunit/{s}/{c}' for s, c in kunit_cases(read(path) or '')}
    return names


def worktree_listing(top):
    out = []
    for d in C_SOURCES:
        p = os.path.join(top, d)
        if os.path.isfile(p):
            out.append(d)
        elif os.path.isdir(p):
            out += [f'{d}/{f}' for f in sorted(os.listdir(p))]
    return out


def current(top):
    """[(where, name, regex)]: every case the sources have now."""
    def read(path):
        try:
            with open(os.path.join(top, path), errors='replace') as f:
                return f.read()
        except OSError:
            return None
    out = [('guest', n, re.escape(n)) for n in sorted(c_cases(read, worktree_listing(top)))]
    groups = [('guest', 'tests/integration', '{}')]
    groups += [('host', 'tests/integration/systemd', 'systemd-{}'),
               ('host', 'tests/userspace', 'userspace-{}')]
    # The boots of boot-tests: each `t NAME ...` of its job (or of the
    # script it execs), as boot/JOB/NAME.
    jobs = os.path.join(top, 'tests/harness/boot-jobs')
    for job in sorted(os.listdir(jobs)) if os.path.isdir(jobs) else []:
        with open(os.path.join(jobs, job), errors='replace') as f:
            text = f.read()
        m = re.search(r'^exec bash "\$\(dirname "\$0"\)/\.\./([\w-]+)"', text, re.M)
        if m:
            with open(os.path.join(top, 'tests/harness', m.group(1)), errors='replace') as f:
                text = f.read()
        for name in re.findall(r'^t ([\w-]+) ', text, re.M):
            n = f'boot/{job}/{name}'
            out.append(('host', n, re.escape(n)))
    for where, d, fmt in groups:
        dd = os.path.join(top, d)
        if not os.path.isdir(dd):
            continue
        for f in sorted(os.listdir(dd)):
            if not f.endswith('.sh') or f[:-3] in NOT_RUN and where == 'host':
                continue
            block = 'integration/' + fmt.format(f[:-3])
            seen = set()
            for text, regex, exact in integration_cases(os.path.join(dd, f)):
                if regex in seen:
                    continue
                seen.add(regex)
                out.append((where, f'{block}/{text}', re.escape(block + '/') + regex))
    return out


def history(top):
    """{name}: every kselftest, KUnit and table case any commit had."""
    git = ['git', '-C', top]
    try:
        revs = subprocess.run(git + ['rev-list', 'HEAD', '--', *C_SOURCES],
                              capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return set()
    names = set()
    if not revs:
        return names
    cat = subprocess.Popen(git + ['cat-file', '--batch'], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)

    def blob(spec):
        cat.stdin.write(spec.encode() + b'\n')
        cat.stdin.flush()
        header = cat.stdout.readline().split()
        if len(header) < 3 or header[1] == b'missing':
            return None
        data = cat.stdout.read(int(header[2]))
        cat.stdout.read(1)
        return data.decode(errors='replace')
    cache = {}
    for rev in revs:
        listing = subprocess.run(
            git + ['ls-tree', '-r', rev, '--', *C_SOURCES],
            capture_output=True, text=True).stdout.splitlines()
        paths = {}
        for line in listing:
            meta, _, path = line.partition('\t')
            paths[path] = meta.split()[2]
        key = tuple(sorted(paths.items()))
        if key in cache:
            continue
        cache[key] = True
        names |= c_cases(lambda p: blob(paths[p]) if p in paths else None, list(paths))
    cat.stdin.close()
    cat.wait()
    return names


def reason_lines(path, who):
    """[(name, reason)] of PATH's "NAME  # reason" lines, for the retired
    cases and report.py's allowed skips; a line without a reason ends WHO."""
    out = []
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith('#'):
                continue
            name, _, reason = line.partition('#')
            if not reason.strip():
                sys.exit(f'{who}: {path}: "{line.strip()}" gives no reason')
            out.append((name.strip(), reason.strip()))
    return out


def retired(path):
    """{name: reason} of the retired-cases file."""
    if not os.path.exists(path):
        return {}
    return dict(reason_lines(path, 'cases'))


def deleted(top, retired_file=None, git_top=None):
    """Cases the history (of GIT_TOP, default TOP) had, the sources of TOP
    do not, and nobody retired."""
    retired_file = retired_file or os.path.join(HERE, 'retired-cases')
    now = {n for _, n, _ in current(top)}
    gone = retired(retired_file)
    return sorted(n for n in history(git_top or top) - now if n not in gone)


def main(argv):
    ratchet = '--ratchet' in argv
    git_top = None
    args = []
    it = iter(argv)
    for a in it:
        if a == '--history':
            git_top = next(it)
        elif a != '--ratchet':
            args.append(a)
    top = args[0] if args else os.path.dirname(os.path.dirname(HERE))
    if ratchet:
        gone = deleted(top, git_top=git_top)
        for n in gone:
            print(n)
        return 1 if gone else 0
    for where, name, regex in current(top):
        print(f'{where}\t{name}\t{regex}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
