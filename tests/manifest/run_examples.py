#!/usr/bin/env python3
"""Runs every manifest under examples/ with `actorvm run` and requires the
pass verdict (exit status 33: every guest wrote GUEST_EXIT_SUCCESS).
Usage: run_examples.py ACTORVM GUEST_DIR EXAMPLES_DIR
"""
import os
import subprocess
import sys

SUCCESS = 33


def main():
    actorvm, guest_dir, examples = sys.argv[1:4]
    files = sorted(f for f in os.listdir(examples) if f.endswith('.yaml'))
    failed = 0
    for name in files:
        path = os.path.join(examples, name)
        res = subprocess.run([actorvm, 'run', '--timeout', '120',
                              '--guest-dir', guest_dir, path],
                             stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=300, cwd=os.getcwd())
        if res.returncode != SUCCESS:
            failed += 1
            print('FAIL %s: exit status %d, expected %d' %
                  (name, res.returncode, SUCCESS))
            print('---- stdout\n%s---- stderr\n%s----' %
                  (res.stdout, res.stderr))
        else:
            print('ok   %s' % name)
    print('%d of %d examples passed' % (len(files) - failed, len(files)))
    return 1 if failed or not files else 0


if __name__ == '__main__':
    sys.exit(main())
