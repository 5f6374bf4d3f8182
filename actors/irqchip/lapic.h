/* SPDX-License-Identifier: MIT */
/**
 * DOC: lapic - the local APIC model
 *
 * A local APIC belongs to one VCPU and is only ever touched by that VCPU's
 * thread, so it is not an actor of its own: the VCPU embeds a &struct lapic,
 * decodes the APIC page (%LAPIC_BASE) before the address map, and gives the
 * model its way out through &struct lapic_ops (send an IPI, tell the IOAPIC
 * about an EOI, arm the timer). Everything here is plain, single-threaded
 * state, so tests drive it directly with a fake clock.
 *
 * Implemented: ID, version, TPR/PPR, EOI, LDR/DFR, SVR (software enable),
 * ISR/TMR/IRR, ESR, ICR (fixed and lowest-priority IPIs, physical and
 * logical flat destinations, shorthands), LVT timer (one-shot, periodic)
 * with divide configuration and initial/current count, the other LVT
 * entries as storage. The timer counts at 1 GHz / divisor, as QEMU's does.
 */
#ifndef LAPIC_H
#define LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_BASE 0xFEE00000u
#define LAPIC_SIZE 0x1000u

/* Register offsets. */
#define LAPIC_ID	 0x020
#define LAPIC_VERSION	 0x030
#define LAPIC_TPR	 0x080
#define LAPIC_APR	 0x090
#define LAPIC_PPR	 0x0A0
#define LAPIC_EOI	 0x0B0
#define LAPIC_LDR	 0x0D0
#define LAPIC_DFR	 0x0E0
#define LAPIC_SVR	 0x0F0
#define LAPIC_ISR	 0x100
#define LAPIC_TMR	 0x180
#define LAPIC_IRR	 0x200
#define LAPIC_ESR	 0x280
#define LAPIC_ICR_LO	 0x300
#define LAPIC_ICR_HI	 0x310
#define LAPIC_LVT_TIMER	 0x320
#define LAPIC_LVT_ERROR	 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR	 0x390
#define LAPIC_TIMER_DIV	 0x3E0

#define LAPIC_SVR_ENABLE       0x100u
#define LAPIC_LVT_MASKED       0x10000u
#define LAPIC_LVT_PERIODIC     0x20000u
#define LAPIC_ESR_SEND_ILLEGAL 0x20u
#define LAPIC_ESR_RECV_ILLEGAL 0x40u
#define LAPIC_ESR_ILLEGAL_REG  0x80u

/** LAPIC_N_LVT - LVT entries: timer, thermal, perf, LINT0, LINT1, error. */
#define LAPIC_N_LVT 6

/**
 * struct lapic_ops - what the model needs from its VCPU.
 * @ipi: send fixed interrupt @vector to the local APIC with ID @apic_id.
 * @eoi: the guest ended level-triggered @vector (for the IOAPIC).
 * @timer_arm: call lapic_timer_expired() after @delay_ns.
 * @timer_cancel: forget an armed expiry.
 * @now: the clock, in ns.
 */
struct lapic_ops {
	void (*ipi)(void *arg, uint8_t apic_id, uint8_t vector);
	void (*eoi)(void *arg, uint8_t vector);
	void (*timer_arm)(void *arg, uint64_t delay_ns);
	void (*timer_cancel)(void *arg);
	uint64_t (*now)(void *arg);
};

/** struct lapic - one local APIC; fields are the model's own. */
struct lapic {
	const struct lapic_ops *ops;
	void *arg;
	uint8_t id;
	uint32_t tpr, ldr, dfr, svr, esr, esr_pending;
	uint32_t isr[8], tmr[8], irr[8];
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LAPIC_N_LVT];
	uint32_t timer_div, timer_init;
	uint64_t timer_start; /* ns when the current period began */
	bool timer_armed;
	uint64_t timer_fired; /* expiries counted, for statistics */
};

/** lapic_init() - power-on state for APIC ID @id. */
void lapic_init(struct lapic *l, uint8_t id, const struct lapic_ops *ops,
		void *arg);

/** lapic_read() - a 32-bit guest read at @off (other sizes: see vcpu). */
uint32_t lapic_read(struct lapic *l, uint32_t off);

/** lapic_write() - a 32-bit guest write of @val at @off. */
void lapic_write(struct lapic *l, uint32_t off, uint32_t val);

/**
 * lapic_accept() - an interrupt arrives: set @vector in IRR (and TMR when
 * @level). Vectors 0-15 are illegal: ESR records it, nothing is accepted.
 * Returns true if the vector was accepted.
 */
bool lapic_accept(struct lapic *l, uint8_t vector, bool level);

/**
 * lapic_pending() - the vector the CPU should take now (highest in IRR
 * whose priority class beats PPR), or -1. Nothing while software-disabled.
 */
int lapic_pending(const struct lapic *l);

/** lapic_ack() - the CPU takes @vector (from lapic_pending()): IRR->ISR. */
void lapic_ack(struct lapic *l, uint8_t vector);

/** lapic_timer_expired() - the armed expiry came (see &lapic_ops). */
void lapic_timer_expired(struct lapic *l);

#endif /* LAPIC_H */
