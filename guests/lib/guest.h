/* SPDX-License-Identifier: MIT */
/*
 * The freestanding guest library: one header for a test guest to include.
 *
 * A guest defines guest_main(); the start-up code (start.S) enters it in
 * flat 32-bit protected mode with a stack, its own GDT and the serial port
 * initialised. The guest reports its verdict through the isa-debug-exit
 * port, so the same binary gives the same verdict on actorvm and on QEMU.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apic.h"
#include "idt.h"
#include "io.h"
#include "multiboot.h"
#include "pci.h"

/*
 * Verdict convention, shared by every runner (tests/guests/qemu-compare.sh
 * and actorvm's tests). The code written to the exit port decides the
 * verdict; QEMU's isa-debug-exit turns a write of V into the process exit
 * status (V << 1) | 1, which is why both codes are small and odd statuses
 * result: 33 for success, 35 for failure.
 */
#define GUEST_EXIT_PORT	     0xf4
#define GUEST_EXIT_SUCCESS   0x10
#define GUEST_EXIT_FAILURE   0x11
#define GUEST_QEMU_STATUS(v) (((v) << 1) | 1)

#define GUEST_MULTIBOOT_MAGIC 0x2BADB002u

/* COM1, the console of every guest. */
#define GUEST_COM1     0x3F8
#define GUEST_COM1_IRQ 4

/*
 * Where several VCPUs enter the image (actorvm's AMP boot: each VCPU
 * starts at the Multiboot entry), the one with local APIC ID 0 runs
 * guest_main() and the others guest_ap_main(), on stacks of their own
 * (APIC IDs 0..3). The library's default guest_ap_main() halts for good.
 */
__attribute__((noreturn)) void guest_ap_main(const struct multiboot_info *mbi);

/* Defined by each guest; its return value is passed to guest_exit(). */
int guest_main(const struct multiboot_info *mbi);

/* Writes @code to the exit port, then halts for good. */
__attribute__((noreturn)) void guest_exit(uint32_t code);

/* Serial console (COM1, polled, 115200 8N1). */
void guest_serial_init(void);
void guest_putc(char c);
void guest_puts(const char *s);
__attribute__((format(printf, 1, 2))) int guest_printf(const char *fmt, ...);
int guest_vprintf(const char *fmt, va_list ap);
int guest_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Multiboot information: memory map, command line. */
void guest_multiboot_print(const struct multiboot_info *mbi);

__attribute__((noreturn)) void guest_assert_fail(const char *expr,
						 const char *file, int line);
__attribute__((noreturn)) void
guest_assert_eq_fail(const char *a, const char *b, unsigned long long va,
		     unsigned long long vb, const char *file, int line);

#define GUEST_ASSERT(expr)                                                     \
	do {                                                                   \
		if (!(expr))                                                   \
			guest_assert_fail(#expr, __FILE__, __LINE__);          \
	} while (0)

/* Compares as unsigned long long, so any integer or pointer pair works. */
#define GUEST_ASSERT_EQ(a, b)                                                  \
	do {                                                                   \
		unsigned long long guest_va_ = (unsigned long long)(a);        \
		unsigned long long guest_vb_ = (unsigned long long)(b);        \
		if (guest_va_ != guest_vb_)                                    \
			guest_assert_eq_fail(#a, #b, guest_va_, guest_vb_,     \
					     __FILE__, __LINE__);              \
	} while (0)

#define GUEST_DONE()                                                           \
	do {                                                                   \
		guest_puts("GUEST_DONE: success");                             \
		guest_exit(GUEST_EXIT_SUCCESS);                                \
	} while (0)

#define GUEST_FAIL(...)                                                        \
	do {                                                                   \
		guest_printf("GUEST_FAIL: " __VA_ARGS__);                      \
		guest_puts("");                                                \
		guest_exit(GUEST_EXIT_FAILURE);                                \
	} while (0)

#define GUEST_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* GUEST_H */
