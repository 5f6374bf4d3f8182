#!/usr/bin/env bash
# Runs test guests on QEMU, the reference platform, and checks that each
# reaches its expected verdict and prints what it must.
#
#   tests/guests/qemu-compare.sh GUEST.elf...
#
# The guest's name is its file name without .elf; the table below says what
# each guest must do. The verdict convention is in guests/lib/guest.h: the
# guest writes 0x10 (success) or 0x11 (failure) to isa-debug-exit, which
# QEMU turns into exit status 33 or 35.
#
# Exits 0 if every guest passed, 1 otherwise, and 77 (meson's "skipped")
# if qemu-system-x86_64 is not installed.
# Environment: QEMU (the binary), GUEST_TIMEOUT (seconds per guest, 30),
# GUEST_VERBOSE=1 (print every guest's serial output).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
guest_src=$here/../../guests
qemu=${QEMU:-qemu-system-x86_64}
limit=${GUEST_TIMEOUT:-30}
status_success=33
status_failure=35

if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "qemu-system-x86 not installed: QEMU comparison skipped"
	exit 77
fi
if (($# == 0)); then
	echo "usage: $0 GUEST.elf..." >&2
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
	*)
		echo success
		;;
	esac
}

verdict_of() { # QEMU exit status -> verdict
	case $1 in
	"$status_success") echo success ;;
	"$status_failure") echo fail ;;
	124) echo timeout ;;
	*) echo "no verdict (status $1)" ;;
	esac
}

run_guest() { # elf, log
	timeout "$limit" "$qemu" -machine pc -accel tcg -m 64 \
		-kernel "$1" -append qemu-compare-cmdline \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-serial stdio -display none -monitor none -no-reboot \
		</dev/null >"$2" 2>&1
}

check_guest() { # elf
	local elf=$1 name log status verdict want problems=() line
	name=$(basename "$elf" .elf)
	if [ ! -f "$elf" ]; then
		echo "FAIL $name: no such guest: $elf"
		return 1
	fi
	log=$(mktemp)
	run_guest "$elf" "$log"
	status=$?
	verdict=$(verdict_of "$status")
	{
		read -r want
		[ "$verdict" = "$want" ] ||
			problems+=("verdict $verdict, expected $want")
		while IFS= read -r line; do
			# Serial output ends lines with CR LF.
			tr -d '\r' <"$log" | grep -qF -- "$line" ||
				problems+=("output lacks \"$line\"")
		done
	} < <(expect "$name")
	if ((${#problems[@]})); then
		echo "FAIL $name:"
		printf '  %s\n' "${problems[@]}"
		echo "---- $name serial output"
		tr -d '\r' <"$log"
		echo "----"
	else
		echo "PASS $name: $verdict (QEMU status $status)"
		[ "${GUEST_VERBOSE:-0}" = 1 ] && tr -d '\r' <"$log"
	fi
	rm -f "$log"
	((${#problems[@]} == 0))
}

echo "QEMU: $("$qemu" --version | head -1)"
failed=0
for elf in "$@"; do
	check_guest "$elf" || failed=$((failed + 1))
done
echo "qemu-compare: $(($# - failed)) of $# guests reached their verdict"
((failed == 0))
