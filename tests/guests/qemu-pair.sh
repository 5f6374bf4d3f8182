#!/usr/bin/env bash
# Runs the e1000_pingpong guest as a pair of VMs, on two QEMUs connected by
# a socket netdev and on actorvm (two e1000 actors and an nng wire), and
# checks that both guests reach success and print what they must on both
# platforms. Also checks the guest's RX path against QEMU's user network
# (an ARP request to slirp's 10.0.2.2).
#
#   tests/guests/qemu-pair.sh [--actorvm RUN_PAIR] E1000_PINGPONG.elf
#
# RUN_PAIR is build/tests/e1000/run_pair (without it only QEMU runs).
# Exits 0 if every run passed, 1 otherwise, 77 (meson's "skipped") if
# qemu-system-x86_64 is not installed.
# Environment: QEMU (the binary), GUEST_TIMEOUT (seconds per run, 120),
# GUEST_VERBOSE=1 (print every guest's serial output).
set -uo pipefail

qemu=${QEMU:-qemu-system-x86_64}
# A hang guard per run, not a speed bound (sanitizer builds, busy machine).
limit=${GUEST_TIMEOUT:-120}
actorvm=
mac_ping=52:54:00:12:34:0a
mac_pong=52:54:00:12:34:0b

if [ "${1:-}" = --actorvm ]; then
	actorvm=$2
	shift 2
fi
if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "qemu-system-x86 not installed: QEMU pair comparison skipped"
	exit 77
fi
if (($# != 1)) || [ ! -f "$1" ]; then
	echo "usage: $0 [--actorvm RUN_PAIR] E1000_PINGPONG.elf" >&2
	exit 2
fi
elf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The runs: name, ping's command line, pong's command line, rounds.
runs=(
	"pingpong|role=ping rounds=50|role=pong rounds=50|50"
	"window|role=ping rounds=200 window=8|role=pong rounds=200|200"
	"full-size|role=ping rounds=40 window=4 size=1514|role=pong rounds=40|40"
)

# expect ROLE ROUNDS: one required substring a line.
expect() {
	case $1 in
	ping)
		echo "e1000: link up"
		echo "ping: peer $mac_pong is ready"
		echo "ping: $2 of $2 echoes verified"
		echo "GUEST_DONE: success"
		;;
	pong)
		echo "e1000: link up"
		echo "pong: echoed $2 frames"
		echo "GUEST_DONE: success"
		;;
	arp)
		echo "arp: 10.0.2.2 is at 52:55:0a:00:02:02"
		echo "GUEST_DONE: success"
		;;
	esac
}

qemu_vm() { # log, cmdline, netdev/device arguments...
	local log=$1 cmdline=$2
	shift 2
	timeout "$limit" "$qemu" -machine pc -accel tcg -m 64 -nic none \
		-kernel "$elf" -append "$cmdline" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-serial stdio -display none -monitor none -no-reboot \
		"$@" </dev/null >"$log" 2>&1
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000))
}

# check LABEL STATUS LOG ROLE ROUNDS: verdict and output; prints the result.
check() {
	local label=$1 status=$2 log=$3 problems=() line
	[ "$status" = 33 ] || problems+=("status $status, expected 33 (success)")
	while IFS= read -r line; do
		tr -d '\r' <"$log" | grep -qF -- "$line" ||
			problems+=("output lacks \"$line\"")
	done < <(expect "$4" "$5")
	if ((${#problems[@]})); then
		echo "FAIL $label:"
		printf '  %s\n' "${problems[@]}"
		echo "---- $label serial output"
		tr -d '\r' <"$log"
		echo "----"
		return 1
	fi
	echo "PASS $label (status $status)"
	[ "${GUEST_VERBOSE:-0}" = 1 ] && tr -d '\r' <"$log"
	return 0
}

# Waits (at most 10 s) until something listens on 127.0.0.1:PORT.
wait_listen() { # port
	local i
	command -v ss >/dev/null 2>&1 || { sleep 1; return; }
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] && return
		sleep 0.1
	done
}

# Pong listens; ping connects once pong's socket is up, retried if it was
# refused all the same (QEMU's connect= then fails at once). Frames sent
# before the connection is up are lost; the guests cope (see the guest).
qemu_pair() { # name, ping cmdline, pong cmdline, rounds
	local port pong_pid s_ping s_pong i ok=0
	port=$(free_port)
	qemu_vm "$work/pong.log" "$3" \
		-netdev socket,id=n0,listen=127.0.0.1:$port \
		-device e1000,netdev=n0,mac=$mac_pong &
	pong_pid=$!
	wait_listen "$port"
	for ((i = 0; i < 50; i++)); do
		qemu_vm "$work/ping.log" "$2" \
			-netdev socket,id=n0,connect=127.0.0.1:$port \
			-device e1000,netdev=n0,mac=$mac_ping
		s_ping=$?
		grep -q "Connection refused" "$work/ping.log" || break
		sleep 0.2
	done
	wait "$pong_pid"
	s_pong=$?
	check "$1 ping on QEMU" "$s_ping" "$work/ping.log" ping "$4" || ok=1
	check "$1 pong on QEMU" "$s_pong" "$work/pong.log" pong "$4" || ok=1
	return $ok
}

actorvm_pair() { # name, ping cmdline, pong cmdline, rounds
	local status ok=0
	timeout "$limit" "$actorvm" --timeout "$limit" "$elf" "$2" "$3" \
		</dev/null >"$work/pair.log" 2>&1
	status=$?
	grep '^\[ping\] ' "$work/pair.log" >"$work/ping.log"
	grep '^\[pong\] ' "$work/pair.log" >"$work/pong.log"
	# run_pair exits 0 only when both guests succeeded.
	[ "$status" = 0 ] && status=33
	check "$1 ping on actorvm" "$status" "$work/ping.log" ping "$4" || ok=1
	check "$1 pong on actorvm" "$status" "$work/pong.log" pong "$4" || ok=1
	((ok)) && cat "$work/pair.log"
	return $ok
}

echo "QEMU: $("$qemu" --version | head -1)"
[ -n "$actorvm" ] && echo "actorvm: $actorvm"
failed=0
qemu_vm "$work/arp.log" role=arp -nic user,model=e1000
check "arp on QEMU's user network" $? "$work/arp.log" arp 0 ||
	failed=$((failed + 1))
for run in "${runs[@]}"; do
	IFS='|' read -r name ping pong rounds <<<"$run"
	qemu_pair "$name" "$ping" "$pong" "$rounds" || failed=$((failed + 1))
	if [ -n "$actorvm" ]; then
		actorvm_pair "$name" "$ping" "$pong" "$rounds" ||
			failed=$((failed + 1))
	fi
done
echo "qemu-pair: $failed failed run(s)"
((failed == 0))
