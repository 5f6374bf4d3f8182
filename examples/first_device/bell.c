/* SPDX-License-Identifier: MIT */
#include "bell.h"

#define BELL_DIRECT_ID 0 /* ID's slot in the direct table */

static const struct avm_direct_reg bell_direct[] = {
	{ .offset = BELL_ID, .size = 4, .slot = BELL_DIRECT_ID },
};

static const struct avm_region_desc bell_regions[] = {
	{ .name = "regs",
	  .space = AVM_SPACE_MMIO,
	  .size = BELL_MMIO_SIZE,
	  .direct = bell_direct,
	  .n_direct = 1 },
};

static const char *const bell_ports[] = { "irq" };

/* The one place that decides the line; a message only when it changes. */
static void bell_update_irq(struct bell *s, avm_ctx *ctx)
{
	bool level = s->status & BELL_ST_RUNG;

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	avm_irq_set(ctx, BELL_PORT_IRQ, level);
}

static uint32_t bell_read(const struct bell *s, uint64_t off)
{
	switch (off) {
	case BELL_ID:
		return s->id;
	case BELL_STATUS:
		return s->status;
	case BELL_RINGS:
		return s->rings;
	default:
		return 0; /* DOORBELL and the gaps */
	}
}

static void bell_write(struct bell *s, uint64_t off, uint32_t v, avm_ctx *ctx)
{
	if (off == BELL_DOORBELL) {
		s->status |= BELL_ST_RUNG;
		s->rings++;
	} else if (off == BELL_STATUS) {
		s->status &= ~v; /* write 1 to clear */
	}
	bell_update_irq(s, ctx);
}

/* Registers are 32 bits: other sizes read 0 and writes are ignored. */
static void bell_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct bell *s = state;
	const struct avm_msg_access *a = &m->access; /* READ and WRITE */

	switch (m->kind) {
	case AVM_MSG_READ: /* must be answered before returning */
		avm_reply(ctx, a->size == 4 ? bell_read(s, a->offset) : 0);
		break;
	case AVM_MSG_WRITE:
		if (a->size == 4)
			bell_write(s, a->offset, (uint32_t)a->value, ctx);
		break;
	default:
		break; /* kinds it does not know: ignored */
	}
}

static int bell_init(void *state, const void *config, avm_ctx *ctx)
{
	const struct bell_config *cfg = config; /* valid during init only */
	struct bell *s = state;

	s->id = cfg && cfg->id ? cfg->id : BELL_ID_DEFAULT;
	avm_direct_set(ctx, BELL_DIRECT_ID, s->id);
	return 0;
}

/* Power-on values; the id is the configuration's and stays. */
static void bell_reset(void *state, avm_ctx *ctx)
{
	struct bell *s = state;

	s->status = 0;
	s->rings = 0;
	bell_update_irq(s, ctx);
}

const struct avm_device_ops bell_ops = {
	.type = "bell",
	.doc = "a doorbell: an MMIO write raises its IRQ (docs/framework.md)",
	.state_size = sizeof(struct bell),
	.regions = bell_regions,
	.n_regions = 1,
	.ports = bell_ports,
	.n_ports = 1,
	.init = bell_init,
	.handle = bell_handle,
	.reset = bell_reset,
};
