#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The serial_pci guest run by `actorvm run` (examples/serial-pci.yaml), and
on QEMU where it is installed: each must reach success and put the guest's
2048 serial bytes on COM1 exactly, in order, with nothing lost, doubled or
reordered (the guest can check what it sent, not what arrived), followed by
its PCI listing and verdict.

Usage: check_serial_pci.py ACTORVM GUEST_DIR MANIFEST
The time limit is a hang guard (GUEST_TIMEOUT, 120 s), not a speed bound.
"""
import os
import shutil
import subprocess
import sys

SUCCESS = 33
LINES, LINE = 32, 64
REQUIRED = [
    b'serial_pci: 2048 bytes sent, THRE polled before each',
    b'00:00.0 8086:1237 class 060000',
    b'00:03.0 8086:100e class 020000',
    b'serial_pci: 8 passes over bus 0',
    b'GUEST_DONE: success',
]


def expected_bytes():
    """What guests/serial_pci.c's serial_line() sends, line by line."""
    out = b''
    for n in range(1, LINES + 1):
        line = 'serial_pci %02u/%02u ' % (n, LINES)
        line += ''.join(chr(ord('A') + (n + i) % 26)
                        for i in range(len(line), LINE - 2))
        out += line.encode() + b'\r\n'
    assert len(out) == LINES * LINE
    return out


def check(label, argv, limit):
    try:
        res = subprocess.run(argv, stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=limit)
    except subprocess.TimeoutExpired:
        print('FAIL %s: no verdict within %d s (hang guard)' % (label, limit))
        return False
    problems = []
    if res.returncode != SUCCESS:
        problems.append('exit status %d, expected %d' %
                        (res.returncode, SUCCESS))
    want = expected_bytes()
    got = res.stdout[:len(want)]
    if got != want:
        at = next((i for i in range(min(len(got), len(want)))
                   if got[i] != want[i]), min(len(got), len(want)))
        problems.append('serial bytes differ from byte %d on (line %d): '
                        'got %r' % (at, at // LINE + 1, got[at:at + 40]))
    rest = res.stdout[len(want):].replace(b'\r', b'')
    problems += ['output lacks "%s"' % r.decode()
                 for r in REQUIRED if r not in rest]
    if problems:
        print('FAIL %s:' % label)
        for p in problems:
            print('  ' + p)
        print('---- stdout\n%s---- stderr\n%s----' %
              (res.stdout.decode(errors='replace'),
               res.stderr.decode(errors='replace')))
        return False
    print('PASS %s: status %d, %d serial bytes exact' %
          (label, res.returncode, len(want)))
    return True


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    actorvm, guest_dir, manifest = sys.argv[1:4]
    limit = int(os.environ.get('GUEST_TIMEOUT', '120'))
    ok = check('actorvm run', [actorvm, 'run', '--timeout', str(limit),
                               '--guest-dir', guest_dir, manifest],
               limit + 30)
    qemu = os.environ.get('QEMU', 'qemu-system-x86_64')
    if shutil.which(qemu):
        ok &= check('QEMU', [
            qemu, '-machine', 'pc', '-accel', 'tcg', '-m', '64',
            '-kernel', os.path.join(guest_dir, 'serial_pci.elf'),
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
            '-serial', 'stdio', '-display', 'none', '-monitor', 'none',
            '-no-reboot'], limit)
    else:
        print('qemu-system-x86 not installed: QEMU half skipped')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
