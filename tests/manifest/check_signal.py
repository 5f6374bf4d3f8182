#!/usr/bin/env python3
"""Ctrl-C and SIGTERM stop `actorvm run` cleanly: exit status 130, and the
trace is complete (it ends with its footer, so `actorvm trace stats` reads
it without complaint), and so is a --timeout run (status 124).
Usage: check_signal.py ACTORVM GUEST_DIR MANIFEST

The signal is sent once every guest has printed its line (the manifest's
serial ports are redirected to files for that), so that each trace must
hold COM1's traffic however slowly the machine runs.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time


def wait_for(path, text, deadline):
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if text in f.read():
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    return False


VMS = ('left', 'right')
GUEST_LINE = 'halting until stopped'  # what guests/idle.c prints


def with_serial_files(manifest, tmp):
    """A copy of @manifest whose VMs' COM1 goes to tmp/NAME.serial."""
    with open(manifest) as f:
        text = f.read()
    for vm in VMS:
        head = '  - name: %s\n' % vm
        at = text.index(head)
        end = text.index('serial: "null"', at)
        text = text[:end] + 'serial: "file:%s"' % os.path.join(
            tmp, vm + '.serial') + text[end + len('serial: "null"'):]
    path = os.path.join(tmp, 'signal.yaml')
    with open(path, 'w') as f:
        f.write(text)
    return path


def run_and_signal(actorvm, guest_dir, manifest, sig, tmp):
    trace = os.path.join(tmp, 'sig.trace')
    log = os.path.join(tmp, 'sig.log')
    for vm in VMS:
        if os.path.exists(os.path.join(tmp, vm + '.serial')):
            os.unlink(os.path.join(tmp, vm + '.serial'))
    with open(log, 'w') as err:
        p = subprocess.Popen([actorvm, 'run', '--trace', trace,
                              '--guest-dir', guest_dir, manifest],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err)
        # Every guest has run far enough to print (60 s: a hang guard).
        deadline = time.monotonic() + 60
        for vm in VMS:
            if not wait_for(os.path.join(tmp, vm + '.serial'), GUEST_LINE,
                            deadline):
                p.kill()
                return ['%s: the guest never printed' % vm]
        p.send_signal(sig)
        try:
            status = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            return ['%s did not stop the run' % sig.name]
    problems = []
    if status != 130:
        with open(log) as f:
            tail = f.read()[-6000:]
        problems.append('%s: exit status %d, expected 130; its log:\n%s' %
                        (sig.name, status, tail))
    for vm in VMS:
        path = os.path.join(tmp, 'sig.%s.trace' % vm)
        res = subprocess.run([actorvm, 'trace', 'stats', '--no-histogram',
                              path], capture_output=True, text=True)
        if res.returncode != 0 or 'com1' not in res.stdout:
            problems.append('%s: trace %s unreadable: %s' %
                            (sig.name, path, res.stderr.strip()))
    return problems


def main():
    actorvm, guest_dir, manifest = sys.argv[1:4]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        manifest = with_serial_files(manifest, tmp)
        for sig in (signal.SIGINT, signal.SIGTERM):
            problems += run_and_signal(actorvm, guest_dir, manifest, sig, tmp)
        res = subprocess.run([actorvm, 'run', '--timeout', '0.5',
                              '--guest-dir', guest_dir, manifest],
                             stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=120)
        if res.returncode != 124:
            problems.append('--timeout: exit status %d, expected 124' %
                            res.returncode)
    for p in problems:
        print('FAIL ' + p)
    print('signals: %s' % ('ok' if not problems else 'failed'))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
