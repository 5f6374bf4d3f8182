/* SPDX-License-Identifier: MIT */
#include "countdown.h"

#include <string.h>

#define DEFAULT_TICK_NS 1000
#define DIRECT_ID	0
#define CTRL_MASK                                                              \
	(COUNTDOWN_CTRL_ENABLE | COUNTDOWN_CTRL_PERIODIC |                     \
	 COUNTDOWN_CTRL_IRQ_EN | COUNTDOWN_CTRL_WB_EN)

static const struct avm_direct_reg countdown_direct[] = {
	{ .offset = COUNTDOWN_ID, .size = 4, .slot = DIRECT_ID },
};

static const struct avm_region_desc countdown_regions[] = {
	{ .name = "regs",
	  .space = AVM_SPACE_MMIO,
	  .size = COUNTDOWN_MMIO_SIZE,
	  .direct = countdown_direct,
	  .n_direct = 1 },
};

static const char *const countdown_ports[] = { "irq" };

/* The one place that decides the line; a message only on a change. */
static void update_irq(struct countdown *s, avm_ctx *ctx)
{
	bool level = (s->status & COUNTDOWN_ST_EXPIRED) &&
		     (s->ctrl & COUNTDOWN_CTRL_IRQ_EN);

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	avm_irq_set(ctx, COUNTDOWN_PORT_IRQ, level);
}

static void start(struct countdown *s, avm_ctx *ctx)
{
	uint64_t delay = (uint64_t)s->load * s->tick_ns;
	bool periodic = s->ctrl & COUNTDOWN_CTRL_PERIODIC;

	s->due = avm_now(ctx) + delay;
	avm_timer_arm(ctx, COUNTDOWN_TIMER, delay, periodic ? delay : 0);
}

static void stop(struct countdown *s, avm_ctx *ctx)
{
	s->ctrl &= ~COUNTDOWN_CTRL_ENABLE;
	avm_timer_cancel(ctx, COUNTDOWN_TIMER);
}

static void write_ctrl(struct countdown *s, avm_ctx *ctx, uint32_t v)
{
	uint32_t old = s->ctrl;

	s->ctrl = v & CTRL_MASK;
	if (!(s->ctrl & COUNTDOWN_CTRL_ENABLE)) {
		if (old & COUNTDOWN_CTRL_ENABLE)
			stop(s, ctx);
	} else if (!s->load) {
		/* A zero period would fire forever at one instant. */
		s->ctrl &= ~COUNTDOWN_CTRL_ENABLE;
	} else if (!(old & COUNTDOWN_CTRL_ENABLE) ||
		   ((old ^ s->ctrl) & COUNTDOWN_CTRL_PERIODIC)) {
		start(s, ctx);
	}
	update_irq(s, ctx); /* IRQ_EN may have changed */
}

static void write_load(struct countdown *s, avm_ctx *ctx, uint32_t v)
{
	s->load = v;
	if (!(s->ctrl & COUNTDOWN_CTRL_ENABLE))
		return;
	if (v)
		start(s, ctx);
	else
		stop(s, ctx);
}

static void write_back(struct countdown *s, avm_ctx *ctx)
{
	uint8_t le[4];

	/* The guest reads a little-endian word, whatever the host is. */
	for (unsigned i = 0; i < 4; i++)
		le[i] = (uint8_t)(s->expiries >> (8 * i));
	if (avm_dma_write(ctx, s->wb_addr, le, sizeof(le)))
		s->status |= COUNTDOWN_ST_WB_ERR;
}

static void expire(struct countdown *s, avm_ctx *ctx)
{
	/* An expiry queued before the guest stopped us arrives late. */
	if (!(s->ctrl & COUNTDOWN_CTRL_ENABLE))
		return;
	s->expiries++;
	s->status |= COUNTDOWN_ST_EXPIRED;
	if (s->ctrl & COUNTDOWN_CTRL_PERIODIC)
		s->due += (uint64_t)s->load * s->tick_ns;
	else
		s->ctrl &= ~COUNTDOWN_CTRL_ENABLE;
	if (s->ctrl & COUNTDOWN_CTRL_WB_EN)
		write_back(s, ctx);
	update_irq(s, ctx);
}

static uint32_t ticks_left(struct countdown *s, avm_ctx *ctx)
{
	uint64_t now = avm_now(ctx);

	if (!(s->ctrl & COUNTDOWN_CTRL_ENABLE) || s->due <= now)
		return 0;
	return (uint32_t)((s->due - now + s->tick_ns - 1) / s->tick_ns);
}

static uint32_t read_reg(struct countdown *s, avm_ctx *ctx, uint64_t off)
{
	uint32_t v;

	switch (off) {
	case COUNTDOWN_CTRL:
		return s->ctrl;
	case COUNTDOWN_LOAD:
		return s->load;
	case COUNTDOWN_COUNT:
		return ticks_left(s, ctx);
	case COUNTDOWN_STATUS:
		v = s->status;
		s->status = 0;
		update_irq(s, ctx);
		return v;
	case COUNTDOWN_WB_ADDR:
		return s->wb_addr;
	case COUNTDOWN_EXPIRIES:
		return s->expiries;
	case COUNTDOWN_ID:
		return COUNTDOWN_ID_VALUE;
	default:
		return 0;
	}
}

static void write_reg(struct countdown *s, avm_ctx *ctx, uint64_t off,
		      uint32_t v)
{
	switch (off) {
	case COUNTDOWN_CTRL:
		write_ctrl(s, ctx, v);
		break;
	case COUNTDOWN_LOAD:
		write_load(s, ctx, v);
		break;
	case COUNTDOWN_WB_ADDR:
		s->wb_addr = v;
		break;
	default:
		break; /* read-only or unknown: ignored */
	}
}

static void access(struct countdown *s, const struct avm_msg *m, avm_ctx *ctx)
{
	/* Only aligned 32-bit accesses: others read 0 and write nothing. */
	bool ok = m->access.size == 4 && !(m->access.offset & 3);

	if (m->kind == AVM_MSG_READ)
		avm_reply(ctx, ok ? read_reg(s, ctx, m->access.offset) : 0);
	else if (ok)
		write_reg(s, ctx, m->access.offset, (uint32_t)m->access.value);
}

static void countdown_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct countdown *s = state;

	if (m->kind == AVM_MSG_READ || m->kind == AVM_MSG_WRITE)
		access(s, m, ctx);
	else if (m->kind == AVM_MSG_TIMER && m->timer.id == COUNTDOWN_TIMER)
		expire(s, ctx);
}

static int countdown_init(void *state, const void *config, avm_ctx *ctx)
{
	const struct countdown_config *cfg = config;
	struct countdown *s = state;

	s->tick_ns = cfg && cfg->tick_ns ? cfg->tick_ns : DEFAULT_TICK_NS;
	avm_direct_set(ctx, DIRECT_ID, COUNTDOWN_ID_VALUE);
	return 0;
}

static void countdown_reset(void *state, avm_ctx *ctx)
{
	struct countdown *s = state;
	uint64_t tick_ns = s->tick_ns;
	bool level = s->irq_level;

	avm_timer_cancel(ctx, COUNTDOWN_TIMER);
	memset(s, 0, sizeof(*s));
	s->tick_ns = tick_ns;
	s->irq_level = level; /* so that update_irq() lowers a raised line */
	update_irq(s, ctx);
}

const struct avm_device_ops countdown_ops = {
	.type = "countdown",
	.doc = "countdown timer: one-shot/periodic, IRQ, DMA write-back",
	.state_size = sizeof(struct countdown),
	.regions = countdown_regions,
	.n_regions = 1,
	.ports = countdown_ports,
	.n_ports = 1,
	.init = countdown_init,
	.handle = countdown_handle,
	.reset = countdown_reset,
};
