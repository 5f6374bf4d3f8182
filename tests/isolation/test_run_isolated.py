#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`isolation: process` from a manifest, end to end.

Usage: test_run_isolated.py ACTORVM GUEST_DIR ISOLATED_YAML

The two-VM ping-pong with both e1000s in device processes passes; `ctl
stats` shows each NIC's process; a NIC killed with -9 under `stop-vm`
stops the run cleanly with status 12 and a message naming the device,
and its trace is complete and shows the death. No verdict rests on
timing: the kill waits for the ping-pong to be under way (ctl stats), and
a ping-pong too long to end first.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ACTORVM, GUEST_DIR, ISOLATED = sys.argv[1:4]
TMP = tempfile.mkdtemp(prefix='avm-iso-')


def read(path):
    with open(path) as f:
        return f.read()


def actorvm(*args, timeout=120):
    p = subprocess.run([ACTORVM, *args], capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def nic_process(url, vm):
    """The ping VM's NIC as `ctl stats --json` shows it, or None."""
    rc, out, _ = actorvm('ctl', '--json', '--vm', vm, url, 'stats', 'nic',
                         timeout=30)
    if rc:
        return None
    for v in json.loads(out)['vms']:
        for a in v['actors']:
            if a['name'] == 'nic':
                return a
    return None


def start_long_run(policy, name, rounds='rounds=100000000'):
    """A run whose ping-pong lasts long, with a ctl socket."""
    text = read(ISOLATED).replace('rounds=20', rounds)
    text = text.replace('on-failure: restart', 'on-failure: ' + policy)
    manifest = os.path.join(TMP, name + '.yaml')
    with open(manifest, 'w') as f:
        f.write(text)
    url = 'ipc://' + os.path.join(TMP, name + '.ctl')
    trace = os.path.join(TMP, name + '.trace')
    p = subprocess.Popen([ACTORVM, 'run', '--guest-dir', GUEST_DIR,
                          '--ctl', url, '--trace', trace, manifest],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p, url, trace


def wait_handled(url, vm, at_least, guard=120):
    """Wait until the NIC has handled messages (the guests run)."""
    end = time.monotonic() + guard
    while time.monotonic() < end:
        a = nic_process(url, vm)
        if a and a['handled'] >= at_least and a['process']['pid'] > 0:
            return a
        time.sleep(0.05)
    raise AssertionError('the NIC never got under way')


class Isolated(unittest.TestCase):
    def test_ping_pong_passes(self):
        rc, out, err = actorvm('run', '--guest-dir', GUEST_DIR, ISOLATED,
                               timeout=300)
        self.assertEqual(rc, 33, err[-2000:])
        self.assertEqual(out.count('GUEST_DONE: success'), 2, out)

    def test_stop_vm_on_kill(self):
        p, url, trace = start_long_run('stop-vm', 'stopvm')
        try:
            a = wait_handled(url, 'ping', 200)
            proc = a['process']
            self.assertEqual(proc['state'], 'running')
            self.assertEqual(proc['policy'], 'stop-vm')
            self.assertIn('seccomp', proc['sandbox'])
            self.assertNotEqual(proc['pid'], p.pid)
            os.kill(proc['pid'], signal.SIGKILL)
            out, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err = err.decode()
        self.assertEqual(p.returncode, 12, err[-2000:])
        self.assertIn('ping.nic: error: device process %d died: killed '
                      'by signal 9' % proc['pid'], err)
        self.assertIn('a device process died and its policy stops the VM',
                      err)
        # The trace was flushed and reads back, the death in it.
        ping = trace.replace('.trace', '.ping.trace')
        rc, out, err = actorvm('trace', 'show', '--actor', 'nic', '--kind',
                               'proc-exit', ping)
        self.assertEqual(rc, 0, err)
        self.assertIn('proc-exit', out)
        rc, out, err = actorvm('trace', 'show', '--kind', 'proc-start',
                               ping)
        self.assertIn('proc-start', out)
        rc, out, err = actorvm('trace', 'stats', ping)
        self.assertEqual(rc, 0, err)

    def test_restart_on_kill_mid_ping_pong(self):
        p, url, trace = start_long_run('restart', 'restart',
                                       rounds='rounds=20000')
        try:
            a = wait_handled(url, 'pong', 200)
            old = a['process']['pid']
            os.kill(old, signal.SIGKILL)
            out, err = p.communicate(timeout=600)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        out, err = out.decode(), err.decode()
        # Both guests finish with success: pong's driver brought the new
        # NIC (power-on state) back up, ping retransmitted what was lost.
        self.assertEqual(p.returncode, 33, err[-3000:])
        self.assertEqual(out.count('GUEST_DONE: success'), 2, out[-3000:])
        self.assertIn('pong.nic: error: device process %d died: killed by '
                      'signal 9' % old, err)
        self.assertIn('pong.nic: warning: device process restarted as pid',
                      err)
        self.assertIn('pong | e1000: device reset: re-initialised', out)
        pong = trace.replace('.trace', '.pong.trace')
        rc, shown, e = actorvm('trace', 'show', '--kind', 'proc-start',
                               '--kind', 'proc-exit', pong)
        self.assertEqual(rc, 0, e)
        # Each is a whole message (posted, dequeued, start, end): two
        # processes started, one died.
        self.assertEqual(shown.count('proc-start'), 8, shown)
        self.assertEqual(shown.count('proc-exit'), 4, shown)
        # The trace names the processes: the dead one and its successor.
        self.assertIn('proc-exit  process %d: status 9' % old, shown)
        self.assertIn('proc-start  process %d (restarts so far: 0)' % old,
                      shown)
        self.assertIn('(restarts so far: 1)', shown)

    def check(self, old, new):
        bad = os.path.join(TMP, 'bad.yaml')
        with open(bad, 'w') as f:
            f.write(read(ISOLATED).replace(old, new, 1))
        rc, out, err = actorvm('check', bad)
        self.assertEqual(rc, 1, out + err)
        return out + err

    def test_check_refuses_bad_keys(self):
        self.assertIn('isolation: Invalid ENUM value: jail',
                      self.check('isolation: process', 'isolation: jail'))
        self.assertIn('max-restarts: 0 (expected 1..64)', self.check(
            'on-failure: restart',
            'on-failure: restart\n        max-restarts: 0'))
        self.assertIn("'isolation' is not an option of type 'uart16550'",
                      self.check('    devices:\n',
                                 '    devices:\n      - type: uart16550\n'
                                 '        name: com2\n        port: 0x2f8\n'
                                 '        irq: 3\n'
                                 '        isolation: process\n'))


if __name__ == '__main__':
    try:
        unittest.main(argv=sys.argv[:1], verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
