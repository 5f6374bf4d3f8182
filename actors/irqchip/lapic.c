/* SPDX-License-Identifier: MIT */
/* The local APIC model: registers, priorities, IPIs and the timer. Only its
 * VCPU's thread touches it (see lapic.h). */
#include "lapic.h"

#include <string.h>

/* QEMU's value: version 0x14, six LVT entries (max LVT index 5). */
#define LAPIC_VERSION_VALUE 0x00050014u

#define DM_FIXED  0
#define DM_LOWEST 1

enum lvt_index {
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PERF,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR
};

/* Writable bits of each LVT entry (vector, delivery mode, polarity,
 * trigger, mask, timer mode), per the SDM's LVT figure. */
static const uint32_t lvt_mask[LAPIC_N_LVT] = {
	0x000700FF, 0x000107FF, 0x000107FF, 0x0001A7FF, 0x0001A7FF, 0x000100FF,
};

static bool test_vec(const uint32_t *bits, unsigned v)
{
	return bits[v / 32] & (1u << (v % 32));
}

static void set_vec(uint32_t *bits, unsigned v, bool on)
{
	if (on)
		bits[v / 32] |= 1u << (v % 32);
	else
		bits[v / 32] &= ~(1u << (v % 32));
}

static int highest(const uint32_t *bits)
{
	for (int w = 7; w >= 0; w--)
		if (bits[w])
			return w * 32 + 31 - __builtin_clz(bits[w]);
	return -1;
}

static uint32_t ppr(const struct lapic *l)
{
	int isrv = highest(l->isr);
	uint32_t cls = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;

	return (l->tpr & 0xF0) >= cls ? l->tpr & 0xFF : cls;
}

static void mask_all_lvt(struct lapic *l)
{
	for (unsigned i = 0; i < LAPIC_N_LVT; i++)
		l->lvt[i] |= LAPIC_LVT_MASKED;
}

void lapic_init(struct lapic *l, uint8_t id, const struct lapic_ops *ops,
		void *arg)
{
	memset(l, 0, sizeof(*l));
	l->ops = ops;
	l->arg = arg;
	l->id = id;
	l->dfr = 0xFFFFFFFFu; /* flat model */
	l->svr = 0xFF;	      /* software-disabled, spurious vector 0xFF */
	mask_all_lvt(l);
}

/* --- Timer ---------------------------------------------------------------- */

static uint64_t timer_divisor(const struct lapic *l)
{
	/* Bits 3 and 1:0 form a 3-bit code; 0b111 is divide-by-1. */
	unsigned code = ((l->timer_div >> 1) & 4) | (l->timer_div & 3);

	return code == 7 ? 1 : 2ull << code;
}

static uint64_t timer_period_ns(const struct lapic *l)
{
	return (uint64_t)l->timer_init * timer_divisor(l);
}

static bool timer_periodic(const struct lapic *l)
{
	return l->lvt[LVT_TIMER] & LAPIC_LVT_PERIODIC;
}

static void timer_stop(struct lapic *l)
{
	if (l->timer_armed)
		l->ops->timer_cancel(l->arg);
	l->timer_armed = false;
}

static void timer_start(struct lapic *l, uint64_t now)
{
	timer_stop(l);
	l->timer_start = now;
	if (!l->timer_init)
		return;
	l->timer_armed = true;
	l->ops->timer_arm(l->arg, timer_period_ns(l));
}

static uint32_t timer_current(const struct lapic *l)
{
	uint64_t elapsed, ticks;

	if (!l->timer_init || !l->timer_armed)
		return 0;
	elapsed = l->ops->now(l->arg) - l->timer_start;
	ticks = elapsed / timer_divisor(l);
	if (timer_periodic(l))
		return l->timer_init - (uint32_t)(ticks % l->timer_init);
	return ticks >= l->timer_init ? 0 : l->timer_init - (uint32_t)ticks;
}

void lapic_timer_expired(struct lapic *l)
{
	uint64_t now = l->ops->now(l->arg), period = timer_period_ns(l);
	uint32_t lvt = l->lvt[LVT_TIMER];

	if (!l->timer_armed || !period)
		return;
	l->timer_fired++;
	if (!(lvt & LAPIC_LVT_MASKED))
		lapic_accept(l, (uint8_t)lvt, false);
	if (!timer_periodic(l)) {
		l->timer_armed = false;
		return;
	}
	/* Next period from the last deadline, not from now: no drift. A late
	 * expiry skips the periods it missed (one interrupt, as IRR holds
	 * one bit per vector). */
	l->timer_start += period;
	if (now >= l->timer_start + period)
		l->timer_start = now - (now - l->timer_start) % period;
	l->ops->timer_arm(l->arg, l->timer_start + period - now);
}

/* --- Interrupts ----------------------------------------------------------- */

bool lapic_accept(struct lapic *l, uint8_t vector, bool level)
{
	if (vector < 16) {
		l->esr_pending |= LAPIC_ESR_RECV_ILLEGAL;
		return false;
	}
	set_vec(l->irr, vector, true);
	set_vec(l->tmr, vector, level);
	return true;
}

int lapic_pending(const struct lapic *l)
{
	int v = highest(l->irr);

	if (v < 0 || !(l->svr & LAPIC_SVR_ENABLE))
		return -1;
	return ((uint32_t)v & 0xF0) > (ppr(l) & 0xF0) ? v : -1;
}

void lapic_ack(struct lapic *l, uint8_t vector)
{
	set_vec(l->irr, vector, false);
	set_vec(l->isr, vector, true);
}

static void do_eoi(struct lapic *l)
{
	int v = highest(l->isr);

	if (v < 0)
		return; /* an EOI with nothing in service does nothing */
	set_vec(l->isr, (unsigned)v, false);
	if (test_vec(l->tmr, (unsigned)v)) {
		set_vec(l->tmr, (unsigned)v, false);
		l->ops->eoi(l->arg, (uint8_t)v);
	}
}

/* --- IPIs ----------------------------------------------------------------- */

static void ipi_to(struct lapic *l, uint8_t id, uint8_t vector)
{
	if (id == l->id)
		lapic_accept(l, vector, false);
	else
		l->ops->ipi(l->arg, id, vector);
}

static void ipi_all(struct lapic *l, uint8_t vector, bool self)
{
	for (unsigned id = 0; id < 16; id++)
		if (self || id != l->id)
			ipi_to(l, (uint8_t)id, vector);
}

/* Logical flat mode: destination bit N is the APIC whose LDR has bit N,
 * which is APIC ID N when guests program LDR = 1 << ID (as Linux does). */
static void ipi_logical(struct lapic *l, uint8_t dest, uint8_t vector)
{
	for (unsigned id = 0; id < 8; id++)
		if (dest & (1u << id))
			ipi_to(l, (uint8_t)id, vector);
}

static void send_icr(struct lapic *l)
{
	uint8_t vector = (uint8_t)l->icr_lo, dest = (uint8_t)(l->icr_hi >> 24);
	unsigned mode = (l->icr_lo >> 8) & 7, shorthand = (l->icr_lo >> 18) & 3;

	if (mode != DM_FIXED && mode != DM_LOWEST)
		return; /* NMI, INIT, SIPI...: not modelled */
	if (vector < 16) {
		l->esr_pending |= LAPIC_ESR_SEND_ILLEGAL;
		return;
	}
	if (shorthand == 1)
		lapic_accept(l, vector, false);
	else if (shorthand >= 2)
		ipi_all(l, vector, shorthand == 2);
	else if (l->icr_lo & (1u << 11))
		ipi_logical(l, dest, vector);
	else if (dest == 0xFF)
		ipi_all(l, vector, true);
	else
		ipi_to(l, dest, vector);
}

/* --- Registers ------------------------------------------------------------ */

static uint32_t read_bank(const struct lapic *l, uint32_t off)
{
	unsigned i = (off & 0x70) >> 4;

	if (off >= LAPIC_IRR)
		return l->irr[i];
	return off >= LAPIC_TMR ? l->tmr[i] : l->isr[i];
}

uint32_t lapic_read(struct lapic *l, uint32_t off)
{
	if (off >= LAPIC_ISR && off < LAPIC_ESR)
		return read_bank(l, off);
	if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR && !(off & 0xF))
		return l->lvt[(off - LAPIC_LVT_TIMER) >> 4];
	switch (off) {
	case LAPIC_ID:
		return (uint32_t)l->id << 24;
	case LAPIC_VERSION:
		return LAPIC_VERSION_VALUE;
	case LAPIC_TPR:
		return l->tpr;
	case LAPIC_PPR:
		return ppr(l);
	case LAPIC_LDR:
		return l->ldr;
	case LAPIC_DFR:
		return l->dfr;
	case LAPIC_SVR:
		return l->svr;
	case LAPIC_ESR:
		return l->esr;
	case LAPIC_ICR_LO:
		return l->icr_lo & ~(1u << 12); /* never busy */
	case LAPIC_ICR_HI:
		return l->icr_hi;
	case LAPIC_TIMER_INIT:
		return l->timer_init;
	case LAPIC_TIMER_CUR:
		return timer_current(l);
	case LAPIC_TIMER_DIV:
		return l->timer_div;
	default:
		return 0; /* APR, EOI (write-only), reserved */
	}
}

static void write_svr(struct lapic *l, uint32_t val)
{
	l->svr = val & 0x11FF;
	/* Software-disabled: every LVT entry is masked (SDM 10.4.7.2). */
	if (!(l->svr & LAPIC_SVR_ENABLE))
		mask_all_lvt(l);
}

static void write_lvt(struct lapic *l, unsigned i, uint32_t val)
{
	/* While software-disabled the mask bits cannot be cleared. */
	if (!(l->svr & LAPIC_SVR_ENABLE))
		val |= LAPIC_LVT_MASKED;
	l->lvt[i] = val & lvt_mask[i];
}

void lapic_write(struct lapic *l, uint32_t off, uint32_t val)
{
	if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR && !(off & 0xF)) {
		write_lvt(l, (off - LAPIC_LVT_TIMER) >> 4, val);
		return;
	}
	switch (off) {
	case LAPIC_ID:
		l->id = (uint8_t)(val >> 24);
		break;
	case LAPIC_TPR:
		l->tpr = val & 0xFF;
		break;
	case LAPIC_EOI:
		do_eoi(l);
		break;
	case LAPIC_LDR:
		l->ldr = val & 0xFF000000u;
		break;
	case LAPIC_DFR:
		l->dfr = val | 0x0FFFFFFFu;
		break;
	case LAPIC_SVR:
		write_svr(l, val);
		break;
	case LAPIC_ESR: /* a write latches the errors seen since the last */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case LAPIC_ICR_HI:
		l->icr_hi = val & 0xFF000000u;
		break;
	case LAPIC_ICR_LO:
		l->icr_lo = val & 0x000CCFFFu;
		send_icr(l);
		break;
	case LAPIC_TIMER_DIV:
		l->timer_div = val & 0xB;
		break;
	case LAPIC_TIMER_INIT:
		l->timer_init = val;
		timer_start(l, l->ops->now(l->arg));
		break;
	default:
		break; /* read-only or reserved: ignored */
	}
}
