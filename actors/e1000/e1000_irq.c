/* SPDX-License-Identifier: MIT */
/*
 * Interrupt causes (ICR/ICS/IMS/IMC), the INTA# level, and moderation:
 * ITR throttles assertions; RDTR/RADV delay RXT0, TIDV/TADV delay TXDW.
 */
#include "e1000_priv.h"

static uint32_t e1000_delay_ns(const struct e1000 *s, uint32_t off)
{
	return (e1000_get(s, off) & 0xffff) * E1000_DELAY_UNIT;
}

/*
 * The one place that decides INTA#: asserted while ICR & IMS != 0, sent only
 * when it changes. ITR holds off a new assertion until ITR x 256 ns after
 * the previous one; the causes stay latched meanwhile.
 */
void e1000_irq_update(struct e1000 *s, avm_ctx *ctx)
{
	bool want = (e1000_get(s, E1000_ICR) & e1000_get(s, E1000_IMS)) != 0;
	uint64_t itr = e1000_get(s, E1000_ITR) & 0xffff;
	uint64_t now = avm_now(ctx);

	if (want && !s->irq_level) {
		if (itr && now < s->itr_next) {
			if (!s->itr_wait) {
				s->itr_wait = true;
				avm_timer_arm(ctx, E1000_TIMER_ITR,
					      s->itr_next - now, 0);
			}
			return;
		}
		s->itr_next = now + itr * E1000_ITR_UNIT;
	}
	if (want == s->irq_level)
		return;
	s->irq_level = want;
	avm_irq_set(ctx, E1000_PORT_IRQ, want);
}

void e1000_irq_raise(struct e1000 *s, avm_ctx *ctx, uint32_t causes)
{
	*e1000_reg(s, E1000_ICR) |= causes;
	e1000_irq_update(s, ctx);
}

/* Reading ICR returns the causes and clears them all (the ISR's ack). */
uint32_t e1000_icr_read(struct e1000 *s, avm_ctx *ctx, uint32_t off)
{
	uint32_t v = e1000_get(s, E1000_ICR);

	*e1000_reg(s, E1000_ICR) = 0;
	e1000_irq_update(s, ctx);
	return v;
}

/* Writing ICR clears the causes written as 1. */
void e1000_icr_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v)
{
	*e1000_reg(s, E1000_ICR) &= ~v;
	e1000_irq_update(s, ctx);
}

/* ICS sets causes, as if the events had happened. */
void e1000_ics_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v)
{
	e1000_irq_raise(s, ctx, v & E1000_ICR_MASK);
}

/* IMS enables causes; one already latched asserts INTA# at once. */
void e1000_ims_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v)
{
	*e1000_reg(s, E1000_IMS) |= v & E1000_ICR_MASK;
	e1000_irq_update(s, ctx);
}

/* IMC disables causes (they stay latched in ICR). */
void e1000_imc_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v)
{
	*e1000_reg(s, E1000_IMS) &= ~v;
	e1000_irq_update(s, ctx);
}

/* A new throttle interval applies from the next assertion on. */
void e1000_itr_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v)
{
	e1000_reg_store(s, off, v);
	e1000_irq_update(s, ctx);
}

static void e1000_cancel(avm_ctx *ctx, bool *armed, unsigned id)
{
	if (*armed)
		avm_timer_cancel(ctx, id);
	*armed = false;
}

static void e1000_rx_fire(struct e1000 *s, avm_ctx *ctx)
{
	e1000_cancel(ctx, &s->rdtr_armed, E1000_TIMER_RDTR);
	e1000_cancel(ctx, &s->radv_armed, E1000_TIMER_RADV);
	e1000_irq_raise(s, ctx, E1000_ICR_RXT0);
}

static void e1000_tx_fire(struct e1000 *s, avm_ctx *ctx)
{
	e1000_cancel(ctx, &s->tidv_armed, E1000_TIMER_TIDV);
	e1000_cancel(ctx, &s->tadv_armed, E1000_TIMER_TADV);
	e1000_irq_raise(s, ctx, E1000_ICR_TXDW);
}

/*
 * Delay an interrupt: the packet timer (RDTR, TIDV) restarts with every
 * event; the absolute timer (RADV, TADV), armed by the first event only,
 * bounds the delay. False if the packet timer is off: no delay.
 */
static bool e1000_delay_arm(avm_ctx *ctx, uint32_t pkt_ns, unsigned pkt_id,
			    bool *pkt_armed, uint32_t abs_ns, unsigned abs_id,
			    bool *abs_armed)
{
	if (!pkt_ns)
		return false;
	*pkt_armed = true;
	avm_timer_arm(ctx, pkt_id, pkt_ns, 0);
	if (abs_ns && !*abs_armed) {
		*abs_armed = true;
		avm_timer_arm(ctx, abs_id, abs_ns, 0);
	}
	return true;
}

/* A frame was received: RXT0, after RDTR/RADV. */
void e1000_rx_irq(struct e1000 *s, avm_ctx *ctx)
{
	if (!e1000_delay_arm(ctx, e1000_delay_ns(s, E1000_RDTR),
			     E1000_TIMER_RDTR, &s->rdtr_armed,
			     e1000_delay_ns(s, E1000_RADV), E1000_TIMER_RADV,
			     &s->radv_armed))
		e1000_rx_fire(s, ctx);
}

/* A descriptor with RS was written back: TXDW, after TIDV/TADV if the
 * descriptor asked for delay (IDE). */
void e1000_tx_irq(struct e1000 *s, avm_ctx *ctx, bool delayed)
{
	if (!delayed || !e1000_delay_arm(ctx, e1000_delay_ns(s, E1000_TIDV),
					 E1000_TIMER_TIDV, &s->tidv_armed,
					 e1000_delay_ns(s, E1000_TADV),
					 E1000_TIMER_TADV, &s->tadv_armed))
		e1000_tx_fire(s, ctx);
}

/* RDTR.FPD / TIDV.FPD: deliver a pending delayed interrupt now. */
void e1000_delay_flush(struct e1000 *s, avm_ctx *ctx, uint32_t off)
{
	if (off == E1000_RDTR && (s->rdtr_armed || s->radv_armed))
		e1000_rx_fire(s, ctx);
	else if (off == E1000_TIDV && (s->tidv_armed || s->tadv_armed))
		e1000_tx_fire(s, ctx);
}

/* A timer expiry; a flag cleared meanwhile marks it stale (a cancel does
 * not recall an expiry already queued). */
void e1000_irq_timer(struct e1000 *s, avm_ctx *ctx, unsigned id)
{
	switch (id) {
	case E1000_TIMER_ITR:
		if (!s->itr_wait)
			return;
		s->itr_wait = false;
		e1000_irq_update(s, ctx);
		break;
	case E1000_TIMER_RDTR:
	case E1000_TIMER_RADV:
		if (s->rdtr_armed || s->radv_armed)
			e1000_rx_fire(s, ctx);
		break;
	case E1000_TIMER_TIDV:
	case E1000_TIMER_TADV:
		if (s->tidv_armed || s->tadv_armed)
			e1000_tx_fire(s, ctx);
		break;
	default:
		break;
	}
}

void e1000_irq_cancel_all(struct e1000 *s, avm_ctx *ctx)
{
	e1000_cancel(ctx, &s->itr_wait, E1000_TIMER_ITR);
	e1000_cancel(ctx, &s->rdtr_armed, E1000_TIMER_RDTR);
	e1000_cancel(ctx, &s->radv_armed, E1000_TIMER_RADV);
	e1000_cancel(ctx, &s->tidv_armed, E1000_TIMER_TIDV);
	e1000_cancel(ctx, &s->tadv_armed, E1000_TIMER_TADV);
	s->itr_next = 0;
}
