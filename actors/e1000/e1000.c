/* SPDX-License-Identifier: MIT */
/*
 * The e1000 actor: ops table, power-on, and message dispatch: guest
 * accesses to BAR0 and the I/O BAR, frames, link changes, timers and the
 * TX continuation.
 */
#include <string.h>

#include "e1000_priv.h"

static const uint8_t e1000_default_mac[6] = {
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56
};

/* STATUS has no read side effect: VCPUs read the published copy. */
static const struct avm_direct_reg e1000_direct[] = {
	{ .offset = E1000_STATUS, .size = 4, .slot = E1000_DIRECT_STATUS },
};

static const struct avm_region_desc e1000_regions[] = {
	{ .name = "bar0",
	  .space = AVM_SPACE_MMIO,
	  .size = E1000_MMIO_SIZE,
	  .direct = e1000_direct,
	  .n_direct = 1 },
	{ .name = "io", .space = AVM_SPACE_PIO, .size = E1000_IO_SIZE },
};

static const char *const e1000_ports[] = { "irq", "net" };

/* Keep the direct STATUS in step with the state (after every message). */
static void e1000_publish(struct e1000 *s, avm_ctx *ctx, bool force)
{
	uint32_t st = e1000_status(s);

	if (st == s->status_pub && !force)
		return;
	s->status_pub = st;
	avm_direct_set(ctx, E1000_DIRECT_STATUS, st);
}

/*
 * The one reset sequence (82540EM SDM, CTRL.RST: the device comes back
 * nearly as after power-up, except PCI configuration and the internal PHY,
 * which CTRL.PHY_RST resets). Every kind puts the MAC's registers, the
 * EEPROM interface, TX and the interrupt timers to their power-on state
 * and reloads the station address from the EEPROM. Power-on (creation, and
 * the framework's reset, a PCI RST#) resets the PHY too. No reset touches
 * the cable: the carrier is the backend's.
 */
void e1000_device_reset(struct e1000 *s, avm_ctx *ctx,
			enum e1000_reset_kind kind)
{
	bool was_up = e1000_link_up(s);

	e1000_irq_cancel_all(s, ctx);
	e1000_regs_reset(s);
	e1000_eeprom_reset(s);
	e1000_load_mac(s);
	e1000_tx_reset(s);
	if (kind == E1000_RESET_POWER_ON) {
		/* Epoch 0 is creation: no autonegotiation is armed yet. */
		if (s->epoch)
			avm_timer_cancel(ctx, E1000_TIMER_AUTONEG);
		e1000_phy_reset(s, NULL);
	} else {
		e1000_link_changed(s, ctx, was_up);
	}
	s->epoch++; /* continuations from before the reset are stale */
	e1000_irq_update(s, ctx); /* lowers a raised INTA# */
	e1000_publish(s, ctx, true);
}

static int e1000_init(void *state, const void *config, avm_ctx *ctx)
{
	struct e1000 *s = state;
	static const uint8_t zero[6];

	if (config)
		s->cfg = *(const struct e1000_config *)config;
	if (!memcmp(s->cfg.mac, zero, 6))
		memcpy(s->cfg.mac, e1000_default_mac, 6);
	e1000_eeprom_init(s);
	s->cfg.eeprom = NULL; /* copied: the caller's array may go away */
	s->carrier = !s->cfg.link_down;
	e1000_device_reset(s, ctx, E1000_RESET_POWER_ON);
	return 0;
}

static void e1000_reset(void *state, avm_ctx *ctx)
{
	e1000_device_reset(state, ctx, E1000_RESET_POWER_ON);
}

/* 32-bit registers; an 8-byte access is two of them, low first, as a
 * 32-bit bus splits it. Sub-word reads see the register's bytes. */
static uint64_t e1000_mmio_read(struct e1000 *s, avm_ctx *ctx, uint32_t off,
				unsigned size)
{
	uint32_t v;

	if (size == 8)
		return e1000_regs_read(s, ctx, off) |
		       (uint64_t)e1000_regs_read(s, ctx, off + 4) << 32;
	v = e1000_regs_read(s, ctx, off & ~3u) >> (8 * (off & 3));
	return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

/* A sub-word write updates its bytes; what the others are is the
 * register's business (e1000_regs_write_part). */
static void e1000_mmio_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
			     unsigned size, uint64_t v)
{
	uint32_t shift = 8 * (off & 3);

	if (size == 8) {
		e1000_regs_write(s, ctx, off, (uint32_t)v);
		e1000_regs_write(s, ctx, off + 4, (uint32_t)(v >> 32));
		return;
	}
	if (size == 4) {
		e1000_regs_write(s, ctx, off, (uint32_t)v);
		return;
	}
	e1000_regs_write_part(s, ctx, off & ~3u,
			      ((1u << (8 * size)) - 1) << shift,
			      (uint32_t)v << shift);
}

/* The I/O BAR: IOADDR selects a register, IODATA accesses it (dwords). */
static void e1000_io_access(struct e1000 *s, const struct avm_msg *m,
			    avm_ctx *ctx)
{
	bool ok = m->access.size == 4 && (m->access.offset == E1000_IOADDR ||
					  m->access.offset == E1000_IODATA);
	uint32_t reg = s->ioaddr & 0x1fffc;

	if (m->kind == AVM_MSG_READ) {
		uint32_t v = 0;

		if (ok && m->access.offset == E1000_IOADDR)
			v = s->ioaddr;
		else if (ok)
			v = e1000_regs_read(s, ctx, reg);
		avm_reply(ctx, v);
	} else if (ok && m->access.offset == E1000_IOADDR) {
		s->ioaddr = (uint32_t)m->access.value & 0x1ffff;
	} else if (ok) {
		e1000_regs_write(s, ctx, reg, (uint32_t)m->access.value);
	}
}

static void e1000_access(struct e1000 *s, const struct avm_msg *m, avm_ctx *ctx)
{
	uint32_t off = (uint32_t)(m->access.offset & (E1000_MMIO_SIZE - 1));
	unsigned size = m->access.size;
	/* Misaligned or odd-sized accesses: reads give 0, writes vanish. */
	bool ok = (size == 1 || size == 2 || size == 4 || size == 8) &&
		  !(off & (size - 1)) && off + size <= E1000_MMIO_SIZE;

	if (m->access.region == E1000_REGION_IO) {
		e1000_io_access(s, m, ctx);
	} else if (m->kind == AVM_MSG_READ) {
		avm_reply(ctx, ok ? e1000_mmio_read(s, ctx, off, size) : 0);
	} else if (ok) {
		e1000_mmio_write(s, ctx, off, size, m->access.value);
	}
}

static void e1000_timer(struct e1000 *s, avm_ctx *ctx, unsigned id)
{
	if (id == E1000_TIMER_AUTONEG)
		e1000_phy_autoneg_done(s, ctx);
	else
		e1000_irq_timer(s, ctx, id);
}

static void e1000_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct e1000 *s = state;

	switch (m->kind) {
	case AVM_MSG_READ:
	case AVM_MSG_WRITE:
		e1000_access(s, m, ctx);
		break;
	case AVM_MSG_FRAME:
		e1000_rx_frame(s, ctx, m);
		break;
	case AVM_MSG_TIMER:
		e1000_timer(s, ctx, m->timer.id);
		break;
	case AVM_MSG_CONTINUE:
		/* A continuation from before a reset is stale. */
		if (m->cont.token == ((uint64_t)s->epoch << 8 | E1000_CONT_TX))
			e1000_tx_chunk(s, ctx);
		break;
	case E1000_MSG_LINK:
		e1000_set_carrier(s, ctx, m->user.value != 0);
		break;
	default:
		break; /* DMA_DONE: deferred reads are never waited for */
	}
	e1000_publish(s, ctx, false);
}

/* 82540EM as QEMU's -device e1000 shows it, so a guest's probe matches. */
static const struct avm_pci_info e1000_pci = {
	.vendor_id = 0x8086,
	.device_id = 0x100e,
	.subsystem_vendor_id = 0x8086,
	.subsystem_id = 0x001e,
	.class_code = 0x020000, /* network, Ethernet */
	.revision = 0x03,
	.interrupt_pin = 1, /* INTA# */
	.bars = {
		{ .region = E1000_REGION_MMIO, .flags = AVM_PCI_BAR_MEM },
		{ .region = E1000_REGION_IO, .flags = AVM_PCI_BAR_IO },
	},
};

const struct avm_device_ops e1000_ops = {
	.type = "e1000",
	.doc = "Intel 82540EM gigabit Ethernet (8086:100e)",
	.state_size = sizeof(struct e1000),
	.regions = e1000_regions,
	.n_regions = 2,
	.ports = e1000_ports,
	.n_ports = 2,
	.init = e1000_init,
	.handle = e1000_handle,
	.reset = e1000_reset,
	.pci = &e1000_pci,
};
