#!/usr/bin/env bash
# Runs test guests on QEMU, the reference platform, and on actorvm, and
# checks that each reaches its expected verdict and prints what it must on
# both: QEMU checks the guests, the guests then check actorvm.
#
#   tests/guests/qemu-compare.sh [--actorvm RUN_GUEST] GUEST.elf...
#
# RUN_GUEST is build/tests/vcpu/run_guest (it boots a guest on actorvm's PC
# machine and exits with the guest's status, as QEMU does); without it only
# QEMU runs. The guest's name is its file name without .elf; the tables
# below say what each guest must do, which input it is given on its serial
# port (after it printed its prompt), and where it applies. The verdict
# convention is in guests/lib/guest.h: the guest writes 0x10 (success) or
# 0x11 (failure) to isa-debug-exit, which both turn into exit status 33 or
# 35.
#
# Exits 0 if every guest passed, 1 otherwise, and 77 (meson's "skipped")
# if qemu-system-x86_64 is not installed.
# Environment: QEMU (the binary), GUEST_TIMEOUT (seconds per guest, 120),
# GUEST_VERBOSE=1 (print every guest's serial output).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
guest_src=$here/../../guests
qemu=${QEMU:-qemu-system-x86_64}
# A hang guard per run, not a speed bound (sanitizer builds, busy machine).
limit=${GUEST_TIMEOUT:-120}
status_success=33
status_failure=35
actorvm=

if [ "${1:-}" = --actorvm ]; then
	actorvm=$2
	shift 2
fi
if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "qemu-system-x86 not installed: QEMU comparison skipped"
	exit 77
fi
if (($# == 0)); then
	echo "usage: $0 [--actorvm RUN_GUEST] GUEST.elf..." >&2
	exit 2
fi

# The source line of assert_fail's deliberate failure, found by its marker
# so editing the guest cannot silently break the expectation.
assert_line() {
	grep -n 'EXPECTED-FAILURE' "$guest_src/assert_fail.c" | cut -d: -f1
}

# expect NAME: prints the expected verdict, then one required substring a
# line. Unknown guests must succeed and need print nothing in particular.
expect() {
	case $1 in
	hello)
		echo success
		echo "hello from an actorvm test guest"
		echo 'command line: "'
		echo "qemu-compare-cmdline"
		echo "memory map ("
		echo "GUEST_DONE: success"
		;;
	assert_fail)
		echo fail
		echo "GUEST_ASSERT_EQ failed: two + 1 == 4" \
			"at assert_fail.c:$(assert_line)"
		echo "left:  3 (0x3)"
		echo "right: 4 (0x4)"
		;;
	printf_check)
		echo success
		echo "printf_check: all formats as expected"
		;;
	pci_scan)
		echo success
		echo "00:00.0 8086:1237 class 060000"
		echo "GUEST_DONE: success"
		;;
	serial_pci)
		echo success
		echo "serial_pci 01/32 STUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJK"
		echo "serial_pci 32/32 XYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOP"
		echo "serial_pci: 2048 bytes sent, THRE polled before each"
		echo "00:00.0 8086:1237 class 060000"
		echo "00:03.0 8086:100e class 020000"
		echo "serial_pci: 8 passes over bus 0"
		echo "GUEST_DONE: success"
		;;
	lapic_timer)
		echo success
		echo "one-shot: 1 interrupt, count 0"
		echo "periodic: 10 interrupts"
		echo "GUEST_DONE: success"
		;;
	ioapic_serial)
		echo success
		echo "THRE interrupts: 5"
		echo "GUEST_DONE: success"
		;;
	serial_echo)
		echo success
		echo "[p][i][n][g][.]"
		echo 'echo: got "ping."'
		echo 'loopback: got "loopback!"'
		echo "GUEST_DONE: success"
		;;
	ipi)
		echo success
		echo "ipi: 20 pings, 20 pongs"
		echo "GUEST_DONE: success"
		;;
	e1000_pingpong)
		# Alone (no role): NIC up, one frame out; the pair runs are
		# tests/guests/qemu-pair.sh.
		echo success
		echo "e1000: 00:03.0"
		echo "e1000: link up"
		echo "probe: one frame sent, TXDW seen"
		echo "GUEST_DONE: success"
		;;
	*)
		echo success
		;;
	esac
}

# input NAME: the prompt to wait for, then the text to type (no output:
# the guest takes no input).
input() {
	case $1 in
	serial_echo) printf '%s\n%s\n' "waiting for input" "ping." ;;
	esac
}

# qemu_skip NAME: why a guest cannot run on QEMU's pc (no output: it can).
qemu_skip() {
	case $1 in
	ipi) echo "starts its second VCPU at the Multiboot entry (actorvm's" \
		"AMP boot); QEMU starts CPUs only by INIT/SIPI" ;;
	rt_timer | gp_load) echo "the two images of bench/rt-latency's AMP" \
		"VM (actorvm's AMP boot, COM2, two e1000s); QEMU starts CPUs" \
		"only by INIT/SIPI" ;;
	esac
}

# vcpus NAME: how many VCPUs actorvm gives the guest.
vcpus() {
	case $1 in
	ipi) echo 2 ;;
	*) echo 1 ;;
	esac
}

verdict_of() { # exit status -> verdict
	case $1 in
	"$status_success") echo success ;;
	"$status_failure") echo fail ;;
	124) echo timeout ;;
	*) echo "no verdict (status $1)" ;;
	esac
}

run_qemu() { # elf, log, stdin
	timeout "$limit" "$qemu" -machine pc -accel tcg -m 64 \
		-kernel "$1" -append qemu-compare-cmdline \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-serial stdio -display none -monitor none -no-reboot \
		<"$3" >"$2" 2>&1
}

# Types TEXT into the fifo once LOG shows PROMPT (or gives up at the time
# limit), then closes it: the guest sees its input only when it is ready.
feed() { # fifo, log, prompt, text
	local i
	exec 3>"$1"
	for ((i = 0; i < limit * 10; i++)); do
		grep -qF -- "$3" "$2" 2>/dev/null && break
		sleep 0.1
	done
	printf '%s' "$4" >&3
	exec 3>&-
}

# Runs one guest on one platform: qemu, or actorvm. Prints the status.
run_on() { # platform, elf, log
	local name prompt text fifo status
	name=$(basename "$2" .elf)
	{ read -r prompt && read -r text; } < <(input "$name")
	if [ "$1" = actorvm ]; then
		if [ -n "${prompt:-}" ]; then
			timeout "$limit" "$actorvm" --vcpus "$(vcpus "$name")" \
				--input-after "$prompt" --input "$text" \
				"$2" qemu-compare-cmdline >"$3" 2>&1 </dev/null
		else
			timeout "$limit" "$actorvm" --vcpus "$(vcpus "$name")" \
				"$2" qemu-compare-cmdline >"$3" 2>&1 </dev/null
		fi
		echo $?
		return
	fi
	if [ -z "${prompt:-}" ]; then
		run_qemu "$2" "$3" /dev/null
		echo $?
		return
	fi
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	run_qemu "$2" "$3" "$fifo" &
	feed "$fifo" "$3" "$prompt" "$text"
	wait $!
	status=$?
	rm -f "$fifo"
	echo $status
}

check_on() { # platform, elf
	local platform=$1 elf=$2 name log status verdict want problems=() line
	name=$(basename "$elf" .elf)
	log=$(mktemp)
	status=$(run_on "$platform" "$elf" "$log")
	verdict=$(verdict_of "$status")
	{
		read -r want
		[ "$verdict" = "$want" ] ||
			problems+=("verdict $verdict, expected $want")
		while IFS= read -r line; do
			# Serial output ends lines with CR LF on QEMU.
			tr -d '\r' <"$log" | grep -qF -- "$line" ||
				problems+=("output lacks \"$line\"")
		done
	} < <(expect "$name")
	if ((${#problems[@]})); then
		echo "FAIL $name on $platform:"
		printf '  %s\n' "${problems[@]}"
		echo "---- $name serial output on $platform"
		tr -d '\r' <"$log"
		echo "----"
	else
		echo "PASS $name on $platform: $verdict (status $status)"
		[ "${GUEST_VERBOSE:-0}" = 1 ] && tr -d '\r' <"$log"
	fi
	rm -f "$log"
	((${#problems[@]} == 0))
}

check_guest() { # elf
	local elf=$1 name why ok=0
	name=$(basename "$elf" .elf)
	if [ ! -f "$elf" ]; then
		echo "FAIL $name: no such guest: $elf"
		return 1
	fi
	why=$(qemu_skip "$name")
	if [ -n "$why" ]; then
		echo "NOT ON QEMU $name: $why"
	else
		check_on qemu "$elf" || ok=1
	fi
	if [ -n "$actorvm" ]; then
		check_on actorvm "$elf" || ok=1
	fi
	return $ok
}

echo "QEMU: $("$qemu" --version | head -1)"
[ -n "$actorvm" ] && echo "actorvm: $actorvm"
failed=0
for elf in "$@"; do
	check_guest "$elf" || failed=$((failed + 1))
done
echo "qemu-compare: $(($# - failed)) of $# guests reached their verdict"
((failed == 0))
