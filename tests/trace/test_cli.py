#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of `actorvm trace`, on files written by trace_gen.

Usage: test_cli.py ACTORVM TRACE_GEN TRACE_PUB RECORD_DET
The expected figures follow from trace_gen.c's "basic" scenario.
"""
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import unittest

ACTORVM, TRACE_GEN, TRACE_PUB, RECORD_DET = sys.argv[1:5]
TMP = tempfile.mkdtemp(prefix='avm-trace-cli-')

N_EVENTS = 100 * 5 + 10 * 4 + 3 * 4


def run(*args, timeout=30):
    p = subprocess.run([ACTORVM, 'trace', *args], capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def gen(scenario):
    path = os.path.join(TMP, scenario + '.avmtrace')
    if not os.path.exists(path):
        subprocess.run([TRACE_GEN, scenario, path], check=True)
    return path


def event_lines(out):
    return [l for l in out.splitlines() if re.match(r'^ *\d+\.\d{6} ms ', l)]


class Help(unittest.TestCase):
    def test_help(self):
        rc, out, _ = run('--help')
        self.assertEqual(rc, 0)
        for sub in ('show', 'stats', 'export', 'follow'):
            self.assertIn(sub, out)
            rc, out2, _ = run(sub, '--help')
            self.assertEqual(rc, 0, sub)
            self.assertIn('usage: actorvm trace ' + sub, out2)

    def test_usage_errors(self):
        f = gen('basic')
        for args in ([], ['nope'], ['show'], ['show', f, f],
                     ['show', '--bogus', f], ['show', '--kind', 'xyz', f],
                     ['show', '--since', '3 weeks', f],
                     ['show', '--addr', '9-1', f], ['export', f],
                     ['export', '--format', 'svg', f],
                     ['follow'], ['follow', '--count', 'x', 'ipc:///x']):
            rc, _, err = run(*args)
            self.assertEqual(rc, 2, args)
            self.assertTrue(err, args)


class Show(unittest.TestCase):
    def test_all_sorted(self):
        rc, out, err = run('show', '--header', gen('basic'))
        self.assertEqual(rc, 0, err)
        self.assertIn('clock virtual, executor deterministic', out)
        self.assertIn('actor 2: net (testdev)', out)
        lines = event_lines(out)
        self.assertEqual(len(lines), N_EVENTS)
        times = [float(l.split()[0]) for l in lines]
        self.assertEqual(times, sorted(times))
        self.assertRegex(lines[0], r'^ +1\.000000 ms  vcpu +-> nic +posted '
                         r'+read +region 0 \+0x8 size 4  corr 0x1$')
        self.assertIn('lost 3 events', out)
        self.assertNotIn('incomplete', err)

    def count(self, *filters):
        rc, out, err = run('show', *filters, gen('basic'))
        self.assertEqual(rc, 0, err)
        return len(event_lines(out))

    def test_filters(self):
        self.assertEqual(self.count('--actor', 'disk'), 40)
        self.assertEqual(self.count('--actor', 'net'), 12)
        self.assertEqual(self.count('--actor', 'net', '--actor', 'disk'), 52)
        self.assertEqual(self.count('--kind', 'write'), 40)
        # Replies (kind "reply") go with the reads they answer.
        self.assertEqual(self.count('--kind', 'read'), 500)
        self.assertEqual(self.count('--kind', 'reply'), 100)
        self.assertEqual(self.count('--kind', 'frame', '--kind', '2'), 52)
        self.assertEqual(self.count('--addr', '0x8-0x8'), 125)
        self.assertEqual(self.count('--addr', '0x100'), 40)
        self.assertEqual(self.count('--since', '1ms', '--until',
                                    '1.0015ms'), 8)
        self.assertEqual(self.count('--since', '30ms'), 12)
        self.assertEqual(self.count('--until', '1001us'), 3)
        self.assertEqual(self.count('--corr', '1'), 9)
        self.assertEqual(self.count('--corr', '0x2'), 4)

    def test_unknown_actor(self):
        rc, _, err = run('show', '--actor', 'gpu', gen('basic'))
        self.assertEqual(rc, 1)
        self.assertIn("no actor 'gpu'", err)

    def test_incomplete(self):
        rc, out, err = run('show', gen('incomplete'))
        self.assertEqual(rc, 0)
        self.assertEqual(len(event_lines(out)), N_EVENTS)
        self.assertIn('incomplete (no footer', err)

    def test_truncated(self):
        f = gen('truncated')
        rc, out, err = run('show', f)
        self.assertEqual(rc, 1)
        self.assertEqual(len(event_lines(out)), N_EVENTS)
        off = os.path.getsize(f) - 4  # 2-byte length, 2 of 200 bytes
        self.assertIn('%s: offset %d: record of 200 bytes runs past the end'
                      % (f, off), err)

    def test_bad_files(self):
        rc, _, err = run('show', gen('badversion'))
        self.assertEqual(rc, 1)
        self.assertIn('offset 8: format version 7 not supported', err)
        missing = os.path.join(TMP, 'missing')
        rc, _, err = run('show', missing)
        self.assertEqual(rc, 1)
        self.assertIn(missing, err)
        rc, _, err = run('stats', TRACE_GEN)
        self.assertEqual(rc, 1)
        self.assertIn('offset 0: not a trace file', err)


class Stats(unittest.TestCase):
    def rows(self, out):
        rows, cur = {}, None
        for l in out.splitlines():
            m = re.match(r'^(\S+) +(\S+) +(\d+) +(\d+) +(.*)$', l)
            if m and m.group(1) != 'actor':
                cur = (m.group(1), m.group(2))
                rows[cur] = {'count': int(m.group(3)),
                             'incomplete': int(m.group(4))}
                rest = m.group(5)
            elif cur and l.startswith(' ') and l.strip():
                rest = l.strip()
            else:
                continue
            f = rest.split()
            if f[0] in ('wait', 'service', 'round-trip'):
                rows[cur][f[0]] = [int(f[1])] + f[2:]
        return rows

    def test_figures(self):
        rc, out, err = run('stats', '--no-histogram', gen('basic'))
        self.assertEqual(rc, 0, err)
        r = self.rows(out)
        nic = r[('nic', 'read')]
        self.assertEqual(nic['count'], 100)
        self.assertEqual(nic['incomplete'], 0)
        # Waits are 1, 2, ... 100 us: nearest-rank percentiles.
        self.assertEqual(nic['wait'],
                         [100, '50.000', '99.000', '100.000', '100.000'])
        self.assertEqual(nic['service'], [100] + ['0.500'] * 4)
        self.assertEqual(nic['round-trip'],
                         [100, '50.400', '99.400', '100.400', '100.400'])
        disk = r[('disk', 'write')]
        self.assertEqual(disk['count'], 10)
        self.assertEqual(disk['wait'], [10] + ['0.300'] * 4)
        self.assertEqual(disk['service'], [10] + ['2.000'] * 4)
        self.assertEqual(disk['round-trip'], [0, '-', '-', '-', '-'])
        self.assertEqual(r[('net', 'frame')]['count'], 3)
        self.assertNotIn('histogram', out)
        self.assertIn('lost 3 events', out)

    def test_in_place_rows_apart(self):
        # Reads handled on the sender's thread (fast path) get their own row.
        rc, out, err = run('stats', '--no-histogram', gen('inplace'))
        self.assertEqual(rc, 0, err)
        r = self.rows(out)
        self.assertEqual(r[('nic', 'read')]['count'], 5)
        self.assertEqual(r[('nic', 'read')]['wait'], [5] + ['10.000'] * 4)
        self.assertEqual(r[('nic', 'read/in-place')]['count'], 5)
        self.assertEqual(r[('nic', 'read/in-place')]['wait'],
                         [5] + ['0.100'] * 4)

    def test_histogram(self):
        rc, out, _ = run('stats', '--actor', 'nic', '--kind', 'read',
                         gen('basic'))
        self.assertEqual(rc, 0)
        self.assertIn('nic read: histogram', out)
        self.assertNotIn('disk', out)
        hist = out.split('nic read: histogram')[1].splitlines()[2:]
        buckets = {}
        for l in hist:
            f = l.split()
            if len(f) != 4 or not f[0].isdigit():
                break
            buckets[int(f[0])] = [int(x) for x in f[1:]]
        self.assertEqual(sum(b[0] for b in buckets.values()), 100)
        self.assertEqual(buckets[256][1], 100)   # service 500 ns
        self.assertEqual(buckets[65536][0], 35)  # waits 65.536-100 us
        self.assertEqual(buckets[512][0], 1)     # the 1000 ns wait

    def test_incomplete_lives(self):
        # The first 1.0015 ms: one read, one write cut after its start.
        rc, out, _ = run('stats', '--until', '1.0014ms', gen('basic'))
        r = self.rows(out)
        self.assertEqual(r[('nic', 'read')]['incomplete'], 1)
        self.assertEqual(r[('disk', 'write')]['incomplete'], 1)


class Chrome(unittest.TestCase):
    def export(self, scenario, *args):
        out = os.path.join(TMP, scenario + '.json')
        rc, _, err = run('export', '--format', 'chrome', '-o', out,
                         *args, gen(scenario))
        self.assertEqual(rc, 0, err)
        with open(out) as f:
            return json.load(f)['traceEvents']

    def test_no_events(self):
        # No event to sort: once qsort(NULL, 0), undefined (UBSan aborts).
        ev = self.export('empty')
        self.assertEqual([e for e in ev if e['ph'] != 'M'], [])
        self.assertIn('process_name', [e['name'] for e in ev])

    def test_slices_and_flows(self):
        ev = self.export('basic')
        names = {e['tid']: e['args']['name'] for e in ev
                 if e['ph'] == 'M' and e['name'] == 'thread_name'}
        self.assertEqual(names, {0: 'vcpu', 1: 'nic', 2: 'disk', 3: 'net'})
        handled = [e for e in ev if e['ph'] == 'X' and e['cat'] == 'msg']
        self.assertEqual(len(handled), 113)
        first = [e for e in handled if e['args']['corr'] == '0x1'][0]
        self.assertEqual((first['name'], first['tid'], first['ts'],
                          first['dur']), ('read', 1, 1001.0, 0.5))
        self.assertEqual(first['args']['reply'], '0x1000')
        self.assertEqual(first['args']['wait_ns'], 1000)
        sends = [e for e in ev if e['ph'] == 'X' and e['cat'] == 'send']
        self.assertEqual(len(sends), 100)
        self.assertEqual((sends[0]['tid'], sends[0]['ts'], sends[0]['dur']),
                         (0, 1000.0, 1.4))
        flows = {}
        for e in ev:
            if e['ph'] in 'stf':
                flows.setdefault(e['id'], []).append(e)
        self.assertEqual(len(flows), 113)
        # Read 1: VCPU posts, nic handles, the reply comes back.
        f1 = [(e['ph'], e['tid'], e['ts']) for e in flows[1]]
        self.assertEqual(f1, [('s', 0, 1000.0), ('t', 1, 1001.0),
                              ('f', 0, 1001.4)])
        self.assertEqual(flows[1][-1]['bp'], 'e')
        for fl in flows.values():
            self.assertEqual(fl[0]['ph'], 's')
            self.assertEqual(fl[-1]['ph'], 'f')
            ts = [e['ts'] for e in fl]
            self.assertEqual(ts, sorted(ts))
        # Time order overall, so flow events find their slices.
        ts = [e['ts'] for e in ev if 'ts' in e]
        self.assertEqual(ts, sorted(ts))

    def test_escaping(self):
        ev = self.export('weird')
        names = [e['args']['name'] for e in ev if e['name'] == 'thread_name']
        self.assertIn('q"b\\n???<', names)

    def test_filter(self):
        ev = self.export('basic', '--actor', 'disk')
        self.assertEqual(len([e for e in ev if e['ph'] == 'X']), 10)


class Pcap(unittest.TestCase):
    def test_frames(self):
        out = os.path.join(TMP, 'frames.pcap')
        rc, _, err = run('export', '--format', 'pcap', '-o', out,
                         gen('basic'))
        self.assertEqual(rc, 0, err)
        with open(out, 'rb') as fp:
            data = fp.read()
        magic, vmaj, vmin, _, _, snap, link = struct.unpack('<IHHiIII',
                                                            data[:24])
        self.assertEqual((magic, vmaj, vmin, snap, link),
                         (0xa1b23c4d, 2, 4, 2048, 1))
        pos, frames = 24, []
        while pos < len(data):
            sec, nsec, cap, length = struct.unpack('<IIII',
                                                   data[pos:pos + 16])
            frames.append((sec, nsec, cap, length,
                           data[pos + 16:pos + 16 + cap]))
            pos += 16 + cap
        self.assertEqual(pos, len(data))
        pattern = bytes((k * 7 + 3) & 0xff for k in range(3000))
        expect = [(60, 60), (1514, 1514), (2048, 3000)]
        self.assertEqual(len(frames), 3)
        for i, (sec, nsec, cap, length, body) in enumerate(frames):
            self.assertEqual((sec, nsec), (0, 30000000 + i * 1000000))
            self.assertEqual((cap, length), expect[i])
            self.assertEqual(body, pattern[i:i + cap])


class Recorded(unittest.TestCase):
    """A trace from the real recorder and the deterministic executor."""

    @classmethod
    def setUpClass(cls):
        cls.path = os.path.join(TMP, 'det.avmtrace')
        subprocess.run([RECORD_DET, cls.path], check=True)

    def test_show(self):
        rc, out, err = run('show', '--kind', 'write', self.path)
        self.assertEqual(rc, 0, err)
        lines = event_lines(out)
        self.assertEqual(len(lines), 20 * 4)
        posted = [l for l in lines if ' posted ' in l]
        self.assertEqual([float(l.split()[0]) for l in posted],
                         [(i - 1) * i / 2 / 1000 for i in range(1, 21)])
        self.assertRegex(posted[2], r'vcpu +-> dev0 +posted +write +'
                         r'region 0 \+0x8 size 8 = 0x3  corr 0x')
        self.assertNotIn('incomplete', err)

    def test_stats(self):
        rc, out, err = run('stats', '--no-histogram', self.path)
        self.assertEqual(rc, 0, err)
        r = Stats.rows(None, out)
        self.assertEqual(r[('dev0', 'write')]['count'], 20)
        self.assertEqual(r[('dev0', 'write')]['incomplete'], 0)
        self.assertEqual(r[('dev0', 'write')]['wait'], [20] + ['0.000'] * 4)
        self.assertEqual(r[('dev0', 'read')]['round-trip'][0], 1)

    def test_chrome(self):
        out = os.path.join(TMP, 'det.json')
        rc, _, err = run('export', '-f', 'chrome', '-o', out, self.path)
        self.assertEqual(rc, 0, err)
        with open(out) as f:
            ev = json.load(f)['traceEvents']
        self.assertEqual(len([e for e in ev if e.get('cat') == 'msg']), 21)
        self.assertEqual(len([e for e in ev if e['ph'] == 's']), 21)


class RecordedCosts(unittest.TestCase):
    """The recorder with a virtual handler cost: known waits and services."""

    @classmethod
    def setUpClass(cls):
        cls.path = os.path.join(TMP, 'cost.avmtrace')
        subprocess.run([RECORD_DET, cls.path, '250'], check=True)

    def test_stats_match_virtual_delays(self):
        rc, out, err = run('stats', '--no-histogram', self.path)
        self.assertEqual(rc, 0, err)
        r = Stats.rows(None, out)
        w = r[('dev0', 'write')]
        self.assertEqual(w['count'], 3)
        # waits 0, 250, 500 ns: p50 250, max 500 (in us)
        self.assertEqual(w['wait'], [3, '0.250', '0.500', '0.500', '0.500'])
        self.assertEqual(w['service'],
                         [3, '0.250', '0.250', '0.250', '0.250'])
        rd = r[('dev0', 'read')]
        self.assertEqual(rd['wait'], [1, '0.750', '0.750', '0.750', '0.750'])
        self.assertEqual(rd['service'],
                         [1, '0.250', '0.250', '0.250', '0.250'])
        # the reply comes from inside the handler: after the wait only
        self.assertEqual(rd['round-trip'],
                         [1, '0.750', '0.750', '0.750', '0.750'])


class Follow(unittest.TestCase):
    def setUp(self):
        self.url = 'ipc://' + os.path.join(TMP, 'pub.sock')
        # Publishes far longer than a follow needs even on a loaded
        # machine: the tests stop it (tearDown) when they are done.
        self.pub = subprocess.Popen([TRACE_PUB, self.url, '300'])

    def tearDown(self):
        self.pub.kill()
        self.pub.wait()

    def test_count(self):
        rc, out, err = run('follow', '--count', '12', self.url, timeout=120)
        self.assertEqual(rc, 0, err)
        lines = event_lines(out)
        self.assertEqual(len(lines), 12)
        self.assertRegex(lines[0], r'vcpu +-> nic +posted +read +region 0 '
                         r'\+0x10 size 4  corr 0x')
        self.assertIn('trace header: format 1, clock monotonic', out)
        self.assertIn('malformed record of 9 bytes, skipped', err)

    def test_sigint(self):
        p = subprocess.Popen([ACTORVM, 'trace', 'follow', self.url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        # Interrupt once it is really following (an event line), however
        # long connecting takes on a loaded machine; readline() blocks.
        seen = []
        while not seen:
            line = p.stdout.readline()
            self.assertTrue(line, 'follow exited before any event')
            seen = event_lines(line)
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=90)
        self.assertEqual(p.returncode, 0)

    def test_seconds(self):
        # --seconds ends it by itself: run() fails on a hang (timeout).
        rc, out, _ = run('follow', '--seconds', '1.5', self.url, timeout=60)
        self.assertEqual(rc, 0)


if __name__ == '__main__':
    unittest.main(argv=[sys.argv[0], '-v'])
