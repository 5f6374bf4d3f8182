#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of journals and `actorvm replay`.

Usage: test_replay.py ACTORVM GUEST_DIR TWO_VMS_YAML REPLAY_CHECK

Records the two-VM demo with every replayable actor of both VMs journaled
(threaded and biglock executors), replays each actor alone and expects
identical outputs; then hands replay truncated, corrupted, foreign and
gapped traces, and bad command lines.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ACTORVM, GUEST_DIR, TWO_VMS, REPLAY_CHECK = sys.argv[1:5]
TMP = tempfile.mkdtemp(prefix='avm-replay-')
ACTORS = ['nic', 'ioapic', 'com1', 'pic', 'pci', 'exit', 'console',
          'net.link', 'net.link.pcap']
RECORDED = {}


def read(path, mode='r'):
    with open(path, mode) as f:
        return f.read()


def actorvm(*args, timeout=120):
    p = subprocess.run([ACTORVM, *args], capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def record(executor):
    """The demo, every replayable actor journaled: {vm: trace path}."""
    if executor in RECORDED:
        return RECORDED[executor]
    text = read(TWO_VMS)
    # Every frame also through a pcap pass-through (net.link.pcap).
    pcap = os.path.join(TMP, executor + '.pcap')
    text = text.replace('  - name: link\n',
                        '  - name: link\n    pcap: %s\n' % pcap)
    assert pcap in text
    if executor == 'biglock':
        text = text.replace('    memory: 32M\n',
                            '    memory: 32M\n    executor: biglock\n')
        assert text.count('executor: biglock') == 2
    manifest = os.path.join(TMP, executor + '.yaml')
    with open(manifest, 'w') as f:
        f.write(text)
    trace = os.path.join(TMP, executor + '.trace')
    args = ['run', '--guest-dir', GUEST_DIR, '--trace', trace]
    for a in ACTORS:
        args += ['--journal', a]
    rc, out, err = actorvm(*args, manifest, timeout=300)
    if rc != 33:
        raise AssertionError('demo run: status %d\n%s' % (rc, err))
    RECORDED[executor] = {vm: os.path.join(TMP, executor + '.' + vm +
                                           '.trace')
                          for vm in ('ping', 'pong')}
    return RECORDED[executor]


def replay(trace, actor, *extra):
    return actorvm('replay', '--guest-dir', GUEST_DIR, trace, '--actor',
                   actor, *extra)


IDENTICAL = re.compile(r'^replayed (\d+) messages \((\d+) journal entries\), '
                       r'outputs identical$', re.M)


class Identical(unittest.TestCase):
    def check_all(self, executor):
        traces = record(executor)
        for vm, trace in traces.items():
            for a in ACTORS:
                rc, out, err = replay(trace, a)
                self.assertEqual(rc, 0, '%s %s %s: %s%s' %
                                 (executor, vm, a, out, err))
                m = IDENTICAL.search(out)
                self.assertTrue(m, out)
                # Every one of them handled something after its init.
                self.assertGreater(int(m.group(1)), 0, (vm, a, out))

    def test_threaded(self):
        self.check_all('threaded')

    def test_pcap_one_file_per_vm(self):
        # Both ends of the wire in one run: each VM writes its own capture,
        # with every frame of the ping-pong (20 rounds each way at least).
        record('threaded')
        for vm in ('ping', 'pong'):
            data = read(os.path.join(TMP, 'threaded.%s.pcap' % vm), 'rb')
            self.assertEqual(data[:4], bytes.fromhex('4d3cb2a1'))
            at, frames = 24, 0
            while at + 16 <= len(data):
                incl = int.from_bytes(data[at + 8:at + 12], 'little')
                at += 16 + incl
                frames += 1
            self.assertEqual(at, len(data), vm)
            self.assertGreaterEqual(frames, 40, vm)

    def test_replay_touches_nothing_outside(self):
        # The pcap files (opened for writing by a run) are not reopened
        # and the wire's URL is not dialled by a replay.
        traces = record('threaded')
        pcaps = [os.path.join(TMP, 'threaded.pcap.' + vm)
                 for vm in ('ping', 'pong')]
        before = {}
        for f in os.listdir(TMP):
            if f.endswith('.pcap') or '.pcap.' in f:
                st = os.stat(os.path.join(TMP, f))
                before[f] = (st.st_size, st.st_mtime_ns)
        self.assertTrue(before)
        for a in ('net.link.pcap', 'net.link', 'console'):
            rc, out, err = replay(traces['ping'], a)
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(out.count('\n'), 1, out)  # nothing printed
        for f, was in before.items():
            st = os.stat(os.path.join(TMP, f))
            self.assertEqual((st.st_size, st.st_mtime_ns), was, f)

    def test_uart_with_input(self):
        """COM1 on stdio, fed input: its journal has what it read."""
        manifest = os.path.join(TMP, 'echo.yaml')
        with open(manifest, 'w') as f:
            f.write('vms:\n  - name: echo\n    memory: 32M\n'
                    '    serial: stdio\n    vcpus:\n'
                    '      - image: serial_echo.elf\n')
        trace = os.path.join(TMP, 'echo.trace')
        p = subprocess.Popen([ACTORVM, 'run', '--guest-dir', GUEST_DIR,
                              '--trace', trace, '--journal', 'com1',
                              manifest], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen = b''
        while b'waiting for input' not in seen:
            chunk = p.stdout.read1(4096)
            if not chunk:
                break
            seen += chunk
        p.stdin.write(b'ping.')
        p.stdin.flush()
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 33, err)
        self.assertIn(b'got "ping."', seen + out)
        rc, text, err = replay(trace, 'com1')
        self.assertEqual(rc, 0, text + err)
        self.assertTrue(IDENTICAL.search(text), text)
        # The bytes it read are in the journal: cut them out and the
        # replay must notice.
        data = read(trace, 'rb')
        self.assertIn(b'ping.', data)
        bad = data.replace(b'ping.', b'pong.', 1)
        path = os.path.join(TMP, 'echo-bad.trace')
        with open(path, 'wb') as f:
            f.write(bad)
        rc, text, err = replay(path, 'com1')
        self.assertEqual(rc, 1, text + err)
        self.assertIn('divergence in message', text)

    def test_biglock(self):
        self.check_all('biglock')

    def test_nic_handled_the_ping_pong(self):
        # 20 rounds of frames at least, and the guest's register accesses.
        rc, out, _ = replay(record('threaded')['ping'], 'nic')
        self.assertEqual(rc, 0, out)
        self.assertGreater(int(IDENTICAL.search(out).group(1)), 60)

    def test_until(self):
        rc, out, err = replay(record('threaded')['ping'], 'nic',
                              '--until', '10')
        self.assertEqual(rc, 0, err)
        self.assertIn('replayed 9 messages', out)
        self.assertIn('stopped before message 10', out)

    def test_library_checks(self):
        """replay_check: 100 identical replays, and a planted fault."""
        p = subprocess.run([REPLAY_CHECK, record('threaded')['ping'], 'nic'],
                           capture_output=True, timeout=300)
        self.assertEqual(p.returncode, 0,
                         p.stdout.decode() + p.stderr.decode())


def records(path):
    """(offset, length-prefix size, body) of each record after the magic."""
    data = read(path, 'rb')
    assert data[:8] == b'AVMTRACE'
    at, out = 8, []
    while at < len(data):
        n = shift = 0
        start = at
        while True:
            b = data[at]
            at += 1
            n |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append((start, data[start:at], data[at:at + n]))
        at += n
    return data, out


def varint(buf, at):
    n = shift = 0
    while True:
        b = buf[at]
        at += 1
        n |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return n, at


def journal_key(body):
    """(actor, seq) of a TraceRecord holding a journal entry, else None."""
    if not body or body[0] != 0x2a:  # field 5, length-delimited
        return None
    n, at = varint(body, 1)
    end, actor, seq = at + n, 0, 0  # proto3 leaves zeros out
    while at < end:
        tag, at = varint(body, at)
        if tag & 7 != 0:  # actor and seq come first, both varints
            break
        value, at = varint(body, at)
        if tag >> 3 == 1:
            actor = value
        elif tag >> 3 == 2:
            seq = value
    return actor, seq


class BadInput(unittest.TestCase):
    def copy_with(self, name, data):
        path = os.path.join(TMP, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def expect(self, path, status, pattern, actor='nic'):
        rc, out, err = replay(path, actor)
        self.assertEqual(rc, status, out + err)
        self.assertRegex(err, pattern)

    def test_truncated(self):
        # Inside a record, never at a boundary (that would be a trace
        # without its footer, which replays what is whole).
        data, recs = records(record('threaded')['ping'])
        off, prefix, body = [r for r in recs[len(recs) // 2:]
                             if len(r[2]) >= 4][0]
        cut = off + len(prefix) + len(body) // 2
        path = self.copy_with('truncated.trace', data[:cut])
        self.expect(path, 4, r'truncated\.trace: offset %d: ' % off)

    def test_corrupted(self):
        data, recs = records(record('threaded')['ping'])
        # Twelve 0xff bytes are a varint too long to decode, wherever.
        off, prefix, body = [r for r in recs[len(recs) // 2:]
                             if len(r[2]) >= 12][0]
        bad = bytearray(data)
        for i in range(len(prefix), len(prefix) + 12):
            bad[off + i] = 0xff
        self.expect(self.copy_with('corrupted.trace', bytes(bad)), 4,
                    r'corrupted\.trace: offset %d: ' % off)

    def test_foreign(self):
        path = self.copy_with('foreign.trace', b'\x7fELF' + bytes(500))
        self.expect(path, 4, r'not a trace file')
        self.expect('/nonexistent/x.trace', 4, r'No such file')

    def test_not_journaled(self):
        trace = os.path.join(TMP, 'plain.trace')
        rc, _, err = actorvm('run', '--guest-dir', GUEST_DIR, '--trace',
                             trace, TWO_VMS, timeout=300)
        self.assertEqual(rc, 33, err)
        self.expect(os.path.join(TMP, 'plain.ping.trace'), 4,
                    r"actor 'nic' was not journaled \(record with "
                    r"--journal nic\)")
        self.expect(record('threaded')['ping'], 4,
                    r"no actor named 'nope'", actor='nope')

    def test_gap_cuts_the_journal(self):
        """A lost entry (a full ring) ends the replay before its message."""
        src = record('threaded')['ping']
        rc, out, err = actorvm('trace', 'show', '--header', src)
        ids = {name: int(i) for i, name in
               re.findall(r'actor (\d+): (\S+) \(', out)}
        data, recs = records(src)
        gone = [r for r in recs if journal_key(r[2]) == (ids['nic'], 300)]
        self.assertEqual(len(gone), 1)
        off, prefix, body = gone[0]
        path = self.copy_with('gap.trace',
                              data[:off] + data[off + len(prefix) +
                                                len(body):])
        rc, out, err = replay(path, 'nic')
        self.assertEqual(rc, 0, out + err)
        self.assertIn('warning: journal entry 300 is missing', err)
        self.assertIn('the journal was cut', out)
        # What is kept ends before the message entry 300 belonged to.
        kept = int(re.search(r'\((\d+) journal entries\)', out).group(1))
        self.assertLess(kept, 300)


class Cut(unittest.TestCase):
    def test_excerpt_replays(self):
        src = record('threaded')['ping']
        out = os.path.join(TMP, 'excerpt.trace')
        rc, _, err = actorvm('trace', 'cut', '-o', out, '--actor', 'nic',
                             '--until', '40', src)
        self.assertEqual(rc, 0, err)
        self.assertLess(os.path.getsize(out), os.path.getsize(src) / 10)
        rc, text, err = replay(out, 'nic')
        self.assertEqual(rc, 0, err)
        self.assertIn('replayed 39 messages', text)
        # Only the nic's journal was kept.
        rc, _, err = replay(out, 'ioapic')
        self.assertEqual(rc, 4)
        self.assertIn("'ioapic' was not journaled", err)

    def test_every_journal_by_default(self):
        src = record('threaded')['pong']
        out = os.path.join(TMP, 'all.trace')
        rc, _, err = actorvm('trace', 'cut', '-o', out, src)
        self.assertEqual(rc, 0, err)
        for a in ACTORS:
            rc, text, err = replay(out, a)
            self.assertEqual(rc, 0, (a, text, err))

    def test_errors(self):
        src = record('threaded')['ping']
        out = os.path.join(TMP, 'x.trace')
        rc, _, err = actorvm('trace', 'cut', '-o', src, src)
        self.assertEqual(rc, 2)
        self.assertIn('is the input', err)
        for args in (['cut', src], ['cut', '-o', out],
                     ['cut', '-o', out, '--until', '0', src]):
            rc, _, err = actorvm('trace', *args)
            self.assertEqual(rc, 2, args)
        plain = os.path.join(TMP, 'plain-cut.trace')
        rc, _, err = actorvm('run', '--guest-dir', GUEST_DIR, '--trace',
                             plain, '--timeout', '60', TWO_VMS,
                             timeout=300)
        rc, _, err = actorvm('trace', 'cut', '-o', out,
                             os.path.join(TMP, 'plain-cut.ping.trace'))
        self.assertEqual(rc, 1)
        self.assertIn('holds no journal', err)
        self.assertFalse(os.path.exists(out))


class Journal(unittest.TestCase):
    def test_listing(self):
        src = record('threaded')['ping']
        rc, out, err = actorvm('trace', 'journal', '--actor', 'nic', src)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        rc, text, _ = replay(src, 'nic')
        m = IDENTICAL.search(text)
        # One line per entry, numbered MESSAGE.ENTRY from 0.0 (init).
        self.assertEqual(len(lines), int(m.group(2)))
        self.assertRegex(lines[0], r'^ +0\.0 +\d+\.\d{6} ms  init$')
        self.assertRegex(lines[-1], r'^ +%s\.%d ' % (m.group(1),
                                                     len(lines) - 1))
        self.assertTrue(any(' deliver frame from actor ' in l
                            for l in lines))
        self.assertTrue(any(' dma-write gpa=0x' in l for l in lines))

    def test_errors(self):
        rc, out, _ = actorvm('trace', 'journal', '--help')
        self.assertEqual(rc, 0)
        self.assertIn('usage: actorvm trace journal --actor NAME FILE', out)
        for args in (['journal'], ['journal', '--actor', 'nic'],
                     ['journal', 'x.trace']):
            rc, _, err = actorvm('trace', *args)
            self.assertEqual(rc, 2, args)
        rc, _, err = actorvm('trace', 'journal', '--actor', 'nope',
                             record('threaded')['ping'])
        self.assertEqual(rc, 1)
        self.assertIn("no actor named 'nope'", err)


class Usage(unittest.TestCase):
    def test_help(self):
        rc, out, _ = actorvm('replay', '--help')
        self.assertEqual(rc, 0)
        self.assertIn('usage: actorvm replay TRACE --actor NAME', out)
        rc, out, _ = actorvm('--help')
        self.assertIn('replay', out)
        rc, out, _ = actorvm('run', '--help')
        self.assertIn('--journal NAME', out)

    def test_bad_command_lines(self):
        t = record('threaded')['ping']
        for args in ([], [t], ['--actor', 'nic'], [t, t, '--actor', 'nic'],
                     [t, '--actor', 'nic', '--until', '0'],
                     [t, '--actor', 'nic', '--until', 'x'],
                     [t, '--actor', 'nic', '--context', '-1'],
                     [t, '--actor', 'nic', '--bogus']):
            rc, _, err = actorvm('replay', *args)
            self.assertEqual(rc, 2, args)
            self.assertIn('usage:', err)

    def test_run_refuses_what_cannot_be_journaled(self):
        for name, why in (('vcpu0', 'a CPU cannot be journaled'),
                          ('kvm', 'a CPU cannot be journaled'),
                          ('nope', 'no actor has this name')):
            rc, _, err = actorvm('run', '--journal', name, '--guest-dir',
                                 GUEST_DIR, TWO_VMS)
            self.assertEqual(rc, 2, name)
            self.assertRegex(err, "--journal %s: it cannot be journaled: "
                             ".*%s" % (re.escape(name), why))

    def test_check_refuses_bad_journal_names(self):
        text = read(TWO_VMS) + 'trace:\n  journal: [nic, vcpu0]\n'
        path = os.path.join(TMP, 'bad-journal.yaml')
        with open(path, 'w') as f:
            f.write(text)
        rc, out, err = actorvm('check', '--guest-dir', GUEST_DIR, path)
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(err, r"trace\.journal\[1\]: 'vcpu0' cannot be "
                         r"journaled: a CPU")
        self.assertNotIn('journal[0]', err)


if __name__ == '__main__':
    try:
        unittest.main(argv=sys.argv[:1], verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
