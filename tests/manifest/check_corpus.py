#!/usr/bin/env python3
"""Runs `actorvm check` on every broken manifest and pins its messages.

Each file under broken/ says what it must produce, in comments:
    # expect: LINE: TEXT
The check must fail (exit 1), print a diagnostic on LINE containing TEXT
for every expectation, and print exactly as many errors as there are
expectations containing "error:" (so a new, unexpected error fails too).
Usage: check_corpus.py ACTORVM GUEST_DIR BROKEN_DIR
"""
import os
import re
import subprocess
import sys


def expectations(path):
    with open(path) as f:
        for line in f:
            m = re.match(r'\s*# expect: (\d+): (.*)$', line)
            if m:
                yield int(m.group(1)), m.group(2).strip()


def check(actorvm, guest_dir, path):
    res = subprocess.run([actorvm, 'check', '--guest-dir', guest_dir, path],
                         capture_output=True, text=True, timeout=60)
    out = res.stderr.splitlines()
    problems = []
    if res.returncode != 1:
        problems.append('exit status %d, expected 1' % res.returncode)
    want = list(expectations(path))
    if not want:
        problems.append('no "# expect:" line in the file')
    for line, text in want:
        prefix = '%s:%d:' % (path, line)
        if not any(o.startswith(prefix) and text in o for o in out):
            problems.append('no diagnostic on line %d with "%s"' %
                            (line, text))
    errors = [o for o in out if ': error: ' in o]
    want_errors = [t for _, t in want if 'error:' in t]
    if len(errors) != len(want_errors):
        problems.append('%d errors, expected %d' %
                        (len(errors), len(want_errors)))
    return problems, res.stderr


def main():
    actorvm, guest_dir, broken = sys.argv[1:4]
    files = sorted(os.path.join(broken, f) for f in os.listdir(broken)
                   if f.endswith('.yaml'))
    failed = 0
    for path in files:
        problems, output = check(actorvm, guest_dir, path)
        if problems:
            failed += 1
            print('FAIL %s:' % path)
            for p in problems:
                print('  ' + p)
            print('---- its output\n' + output + '----')
        else:
            print('ok   %s' % path)
    print('%d of %d broken manifests give their expected messages' %
          (len(files) - failed, len(files)))
    return 1 if failed or not files else 0


if __name__ == '__main__':
    sys.exit(main())
