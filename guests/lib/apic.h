/* SPDX-License-Identifier: MIT */
/* Local APIC (0xFEE00000) and IOAPIC (0xFEC00000) helpers. */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define GUEST_LAPIC_BASE       0xFEE00000u
#define GUEST_LAPIC_ID	       0x020
#define GUEST_LAPIC_VERSION    0x030
#define GUEST_LAPIC_TPR	       0x080
#define GUEST_LAPIC_EOI	       0x0B0
#define GUEST_LAPIC_SVR	       0x0F0
#define GUEST_LAPIC_ISR	       0x100
#define GUEST_LAPIC_IRR	       0x200
#define GUEST_LAPIC_ESR	       0x280
#define GUEST_LAPIC_ICR_LOW    0x300
#define GUEST_LAPIC_ICR_HIGH   0x310
#define GUEST_LAPIC_LVT_TIMER  0x320
#define GUEST_LAPIC_LVT_LINT0  0x350
#define GUEST_LAPIC_LVT_LINT1  0x360
#define GUEST_LAPIC_LVT_ERROR  0x370
#define GUEST_LAPIC_TIMER_INIT 0x380
#define GUEST_LAPIC_TIMER_CUR  0x390
#define GUEST_LAPIC_TIMER_DIV  0x3E0

#define GUEST_LAPIC_SVR_ENABLE	   (1u << 8)
#define GUEST_LAPIC_LVT_MASKED	   (1u << 16)
#define GUEST_LAPIC_TIMER_PERIODIC (1u << 17)

/* Divide configuration register encodings. */
#define GUEST_LAPIC_DIV_1   0xB
#define GUEST_LAPIC_DIV_2   0x0
#define GUEST_LAPIC_DIV_4   0x1
#define GUEST_LAPIC_DIV_8   0x2
#define GUEST_LAPIC_DIV_16  0x3
#define GUEST_LAPIC_DIV_32  0x8
#define GUEST_LAPIC_DIV_64  0x9
#define GUEST_LAPIC_DIV_128 0xA

#define GUEST_IOAPIC_BASE	0xFEC00000u
#define GUEST_IOAPIC_REGSEL	0x00
#define GUEST_IOAPIC_WIN	0x10
#define GUEST_IOAPIC_REG_ID	0x00
#define GUEST_IOAPIC_REG_VER	0x01
#define GUEST_IOAPIC_REG_REDTBL 0x10

/* Redirection entry, low word. */
#define GUEST_IOAPIC_LOW_ACTIVE_LOW (1u << 13)
#define GUEST_IOAPIC_LOW_LEVEL	    (1u << 15)
#define GUEST_IOAPIC_LOW_MASKED	    (1u << 16)

uint32_t guest_lapic_read(uint32_t reg);
void guest_lapic_write(uint32_t reg, uint32_t val);
uint8_t guest_lapic_id(void);
uint32_t guest_lapic_version(void);
/* Software-enables the LAPIC with @spurious_vector in the SVR. */
void guest_lapic_enable(uint8_t spurious_vector);
void guest_lapic_eoi(void);

/* Sends fixed IPI @vector to the local APIC with ID @dest (physical). */
void guest_lapic_send_ipi(uint8_t dest, uint8_t vector);
/* Starts the timer: @count ticks of the bus clock divided by @div_code. */
void guest_lapic_timer_start(uint8_t vector, uint32_t div_code, uint32_t count,
			     bool periodic);
/* Masks the timer and clears its count. */
void guest_lapic_timer_stop(void);
uint32_t guest_lapic_timer_current(void);

uint32_t guest_ioapic_read(uint8_t reg);
void guest_ioapic_write(uint8_t reg, uint32_t val);
/* Number of redirection entries, from the version register. */
unsigned int guest_ioapic_pins(void);
/*
 * Routes @pin to @vector on the LAPIC with ID @dest (fixed delivery,
 * physical destination). @flags: GUEST_IOAPIC_LOW_* bits, e.g. level
 * trigger, active low, or masked.
 */
void guest_ioapic_route(unsigned int pin, uint8_t vector, uint8_t dest,
			uint32_t flags);
void guest_ioapic_mask(unsigned int pin);
uint64_t guest_ioapic_entry(unsigned int pin);

#endif /* GUEST_APIC_H */
