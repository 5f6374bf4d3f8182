#!/usr/bin/env python3
"""`actorvm run`'s exit statuses (`actorvm run --help`, README): a guest's
verdict is odd ((V << 1) | 1), the tool's own outcomes even, so none can pass
for another. Runs the verdict guest (guests/verdict.c) the ways a run ends:
  - a broken manifest (4) against a guest that writes 0 (1);
  - output lost: a trace or a serial file on /dev/full (8), each said at once
    with the file and the error, and counted at the end;
  - a CPU that stops for good, ud2 or a triple fault (10), said so.
Every run ends by itself; --timeout and the subprocess bound only guard
against a hang (a hang is a failure, whatever the machine's load).
Usage: check_status.py ACTORVM GUEST_DIR
"""
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time

HANG_GUARD = 300  # seconds; never reached by a working run
failures = 0


def check(cond, what):
    global failures
    print('%s %s' % ('ok  ' if cond else 'FAIL', what))
    if not cond:
        failures += 1
    return cond


def manifest(tmp, name, cmdline, serial='"null"'):
    path = os.path.join(tmp, name + '.yaml')
    with open(path, 'w') as f:
        f.write('vms:\n  - name: %s\n    memory: 16M\n'
                '    image: verdict.elf\n    cmdline: "%s"\n'
                '    serial: %s\n    vcpus:\n      - {}\n'
                % (name, cmdline, serial))
    return path


def run(actorvm, guest_dir, path, *extra):
    res = subprocess.run([actorvm, 'run', '--guest-dir', guest_dir,
                          '--timeout', str(HANG_GUARD)] + list(extra) +
                         [path], capture_output=True, text=True,
                         timeout=HANG_GUARD + 60)
    return res.returncode, res.stderr


def statuses_do_not_collide(actorvm, guest_dir, tmp):
    broken = os.path.join(tmp, 'broken.yaml')
    with open(broken, 'w') as f:
        f.write('vms: [\n')
    st_broken, _ = run(actorvm, guest_dir, broken)
    st_zero, _ = run(actorvm, guest_dir, manifest(tmp, 'zero', 'exit=0'))
    st_ok, _ = run(actorvm, guest_dir, manifest(tmp, 'ok', ''))
    check(st_broken == 4, 'a broken manifest: status 4 (got %d)' % st_broken)
    check(st_zero == 1, 'a guest that writes 0: status 1 (got %d)' % st_zero)
    check(st_ok == 33, 'a guest that writes 0x10: status 33 (got %d)' %
          st_ok)
    st_usage = subprocess.run([actorvm, 'run', '--bogus'],
                              capture_output=True).returncode
    check(st_usage == 2, 'a bad option: status 2 (got %d)' % st_usage)


def trace_loss_is_reported(actorvm, guest_dir, tmp):
    st, err = run(actorvm, guest_dir, manifest(tmp, 'tr', 'say=20'),
                  '--trace', '/dev/full')
    check(st == 8, 'a trace to /dev/full: status 8 (got %d)' % st)
    check('trace: writing /dev/full: No space left on device' in err,
          'the write error is said, with the file and errno')
    check('events lost to write errors' in err,
          'the events lost are counted at the end')
    check('verdict was 33' in err, "the guests' verdict is still told")


def serial_loss_is_reported(actorvm, guest_dir, tmp):
    st, err = run(actorvm, guest_dir,
                  manifest(tmp, 'ser', 'say=100', 'file:/dev/full'))
    check(st == 8, 'serial output to /dev/full: status 8 (got %d)' % st)
    check('chardev file /dev/full: write: No space left on device' in err,
          'the write error is said, with the file and errno')
    check('bytes of guest output lost' in err,
          'the bytes lost are counted at the end')


def ctl_status_counts_the_loss(actorvm, guest_dir, tmp):
    """A running VM tracing to /dev/full: `ctl status` says the trace loses
    (polled until the writer's first flush fails: an event, bounded tries
    as a hang guard), and a ctl stop still ends with status 8."""
    path = os.path.join(tmp, 'idle.yaml')
    with open(path, 'w') as f:
        f.write('vms:\n  - name: idle\n    memory: 16M\n'
                '    image: idle.elf\n    serial: "null"\n'
                '    vcpus:\n      - {}\n')
    url = 'ipc://' + os.path.join(tmp, 'idle.ctl')
    proc = subprocess.Popen([actorvm, 'run', '--guest-dir', guest_dir,
                             '--timeout', str(HANG_GUARD), '--ctl', url,
                             '--trace', '/dev/full', path],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    trace = {}
    for _ in range(HANG_GUARD * 10):
        res = subprocess.run([actorvm, 'ctl', '--json', url, 'status'],
                             capture_output=True, text=True, timeout=60)
        if res.returncode == 0:
            trace = json.loads(res.stdout)['vms'][0].get('trace', {})
            if trace.get('write_error') or proc.poll() is not None:
                break
        time.sleep(0.1)
    check(trace.get('write_error') == 'No space left on device',
          'ctl status: the trace write error (%s)' % trace)
    check(trace.get('written') == 0,
          'ctl status: nothing reached the file as written')
    subprocess.run([actorvm, 'ctl', url, 'stop'], capture_output=True,
                   timeout=60)
    _, err = proc.communicate(timeout=HANG_GUARD)
    check(proc.returncode == 8,
          'stopped, with the trace lost: status 8 (got %d)' %
          proc.returncode)
    check('events lost to write errors' in err, 'the loss counted at the end')


def wire_manifest(tmp, name, url, listen):
    path = os.path.join(tmp, name + '.yaml')
    with open(path, 'w') as f:
        f.write('vms:\n  - name: %s\n    memory: 16M\n'
                '    image: idle.elf\n    serial: "null"\n'
                '    vcpus:\n      - {}\n    devices:\n'
                '      - {type: e1000, name: nic, slot: 3, network: link}\n'
                'networks:\n  - {name: link, url: "%s", listen: %s}\n'
                % (name, url, 'true' if listen else 'false'))
    return path


def start_logged(args):
    """A process whose stderr lines arrive in a queue as they come."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()

    def pump():
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def wait_line(lines, text):
    """Until a line containing @text (the run's own event), or its end."""
    while True:
        try:
            line = lines.get(timeout=HANG_GUARD)
        except queue.Empty:
            return None
        if line is None or text in line:
            return line


def lost_wire_peer_is_told(actorvm, guest_dir, tmp):
    """docs/network.md: a peer killed -9 is a cable pull, said at once."""
    url = 'ipc://' + os.path.join(tmp, 'cable.sock')
    base = [actorvm, 'run', '--guest-dir', guest_dir, '--timeout',
            str(HANG_GUARD)]
    here, lines = start_logged(base + [wire_manifest(tmp, 'here', url,
                                                     True)])
    peer = None
    try:
        # The listener listens before it announces its VMs' start.
        check(wait_line(lines, 'VM: here') is not None, 'the listener runs')
        peer = subprocess.Popen(base + [wire_manifest(tmp, 'peer', url,
                                                      False)],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        check(wait_line(lines, 'peer connected') is not None,
              'the listener sees its peer')
        peer.send_signal(signal.SIGKILL)
        peer.wait()
        line = wait_line(lines, 'went away')
        check(line is not None and 'link down' in line and url in line,
              'a peer killed -9: said at once (%r)' % line)
        check(here.poll() is None, 'and the run goes on (a cable pull)')
    finally:
        for p in (here, peer):
            if p and p.poll() is None:
                p.kill()
                p.wait()


def stopped_cpu_ends_the_run(actorvm, guest_dir, tmp):
    for how in ('ud2', 'triple'):
        st, err = run(actorvm, guest_dir, manifest(tmp, how, how))
        check(st == 10, '%s: status 10 (got %d)' % (how, st))
        check('guest stopped at EIP' in err and 'can never exit' in err,
              '%s: the run says why it ends' % how)


def main():
    actorvm, guest_dir = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        statuses_do_not_collide(actorvm, guest_dir, tmp)
        trace_loss_is_reported(actorvm, guest_dir, tmp)
        serial_loss_is_reported(actorvm, guest_dir, tmp)
        ctl_status_counts_the_loss(actorvm, guest_dir, tmp)
        lost_wire_peer_is_told(actorvm, guest_dir, tmp)
        stopped_cpu_ends_the_run(actorvm, guest_dir, tmp)
    print('%d failure%s' % (failures, '' if failures == 1 else 's'))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
