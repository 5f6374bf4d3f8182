/* SPDX-License-Identifier: MIT */
/* The 8259A pair: initialisation, masks and read-back, no delivery. */
#include "pic.h"

#include <string.h>

#define ICW1_INIT   0x10
#define ICW1_ICW4   0x01
#define ICW1_SINGLE 0x02
#define OCW3_SEL    0x08
#define OCW3_RR	    0x02
#define OCW3_RIS    0x01

struct i8259 {
	uint8_t imr, irr, isr, base, elcr;
	uint8_t icw_step; /* 0: operational; 2..4: expecting ICW2..ICW4 */
	bool want_icw4, single, read_isr;
};

struct pic {
	struct i8259 chip[2];
};

static const struct avm_region_desc pic_regions[] = {
	{ .name = "pic-master", .space = AVM_SPACE_PIO, .size = 2 },
	{ .name = "pic-slave", .space = AVM_SPACE_PIO, .size = 2 },
	{ .name = "elcr", .space = AVM_SPACE_PIO, .size = 2 },
};

static void chip_reset(struct i8259 *c)
{
	memset(c, 0, sizeof(*c));
}

static void cmd_write(struct i8259 *c, uint8_t v)
{
	if (v & ICW1_INIT) {
		/* ICW1 restarts initialisation: mask cleared, IRR/ISR too. */
		c->imr = c->irr = c->isr = 0;
		c->want_icw4 = v & ICW1_ICW4;
		c->single = v & ICW1_SINGLE;
		c->read_isr = false;
		c->icw_step = 2;
	} else if (v & OCW3_SEL) {
		if (v & OCW3_RR)
			c->read_isr = v & OCW3_RIS;
	}
	/* Anything else is OCW2 (EOI, rotation): nothing is in service. */
}

static void data_write(struct i8259 *c, uint8_t v)
{
	switch (c->icw_step) {
	case 2:
		c->base = v & 0xF8;
		c->icw_step = c->single ? (c->want_icw4 ? 4 : 0) : 3;
		break;
	case 3: /* cascade wiring: nothing to model */
		c->icw_step = c->want_icw4 ? 4 : 0;
		break;
	case 4: /* mode bits: 8086 mode, auto-EOI... accepted */
		c->icw_step = 0;
		break;
	default:
		c->imr = v; /* OCW1 */
		break;
	}
}

static uint8_t chip_read(const struct i8259 *c, uint64_t off)
{
	if (off == 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void pic_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct pic *p = state;

	if (m->kind != AVM_MSG_READ && m->kind != AVM_MSG_WRITE)
		return;
	if (m->access.region == 2) { /* ELCR: one byte per chip */
		struct i8259 *c = &p->chip[m->access.offset & 1];

		if (m->kind == AVM_MSG_READ)
			avm_reply(ctx, c->elcr);
		else
			c->elcr = (uint8_t)m->access.value;
		return;
	}
	struct i8259 *c = &p->chip[m->access.region & 1];

	if (m->kind == AVM_MSG_READ)
		avm_reply(ctx, chip_read(c, m->access.offset));
	else if (m->access.offset == 0)
		cmd_write(c, (uint8_t)m->access.value);
	else
		data_write(c, (uint8_t)m->access.value);
}

static void pic_reset(void *state, avm_ctx *ctx)
{
	struct pic *p = state;

	chip_reset(&p->chip[0]);
	chip_reset(&p->chip[1]);
}

const struct avm_device_ops pic_ops = {
	.type = "i8259",
	.doc = "legacy 8259A PIC pair: initialisation and masking, no delivery",
	.state_size = sizeof(struct pic),
	.regions = pic_regions,
	.n_regions = 3,
	.handle = pic_handle,
	.reset = pic_reset,
};
