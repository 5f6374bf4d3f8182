/* SPDX-License-Identifier: MIT */
/*
 * The internal M88E1011 PHY behind MDIC, autonegotiation in virtual time,
 * and the link state that STATUS.LU and ICR.LSC report.
 */
#include "e1000_priv.h"

#define E1000_AUTONEG_NS_DEFAULT 500000000ull
#define E1000_PHY_STATUS_BASE	 0x7949u /* capabilities, no link/AN bits */
#define E1000_PHY_RO		 0x01u
#define E1000_PHY_EXISTS	 0x02u

struct e1000_phy_desc {
	uint8_t reg;
	uint8_t flags;
	uint16_t reset;
};

/* Power-on values of the registers the PHY implements. */
static const struct e1000_phy_desc e1000_phy_table[] = {
	{ E1000_PHY_CTRL, 0, 0x1140 }, /* 1000 Mb/s, FD, AN enabled */
	{ E1000_PHY_STATUS, E1000_PHY_RO, E1000_PHY_STATUS_BASE },
	{ E1000_PHY_ID1, E1000_PHY_RO, E1000_PHY_ID >> 16 },
	{ E1000_PHY_ID2, E1000_PHY_RO, E1000_PHY_ID & 0xffff },
	{ E1000_PHY_ANAR, 0, 0x0de1 },
	{ E1000_PHY_ANLPAR, E1000_PHY_RO, 0x01e0 },
	{ E1000_PHY_ANER, E1000_PHY_RO, 0 },
	{ E1000_PHY_NPTX, 0, 0x2001 },
	{ E1000_PHY_LPNP, E1000_PHY_RO, 0 },
	{ E1000_PHY_1000T_CTRL, 0, 0x0e00 },
	{ E1000_PHY_1000T_STATUS, E1000_PHY_RO, 0x3c00 },
	{ E1000_PHY_EXT_STATUS, E1000_PHY_RO, 0x3000 },
	{ E1000_PHY_M88_PSCR, 0, 0x0360 },
	{ E1000_PHY_M88_PSSR, E1000_PHY_RO, 0xac00 },
	{ E1000_PHY_M88_EPSCR, 0, 0x0d60 },
	{ E1000_PHY_M88_RXERR, E1000_PHY_RO, 0 },
};

#define E1000_PHY_NDESC (sizeof(e1000_phy_table) / sizeof(e1000_phy_table[0]))

static const struct e1000_phy_desc *e1000_phy_find(uint32_t reg)
{
	for (size_t i = 0; i < E1000_PHY_NDESC; i++)
		if (e1000_phy_table[i].reg == reg)
			return &e1000_phy_table[i];
	return NULL;
}

static bool e1000_phy_link(const struct e1000 *s)
{
	uint16_t bmcr = s->phy.regs[E1000_PHY_CTRL];

	if (!s->carrier || (bmcr & E1000_PHY_CTRL_PDOWN))
		return false;
	if (e1000_get(s, E1000_CTRL) & E1000_CTRL_PHY_RST)
		return false; /* held in reset */
	return s->phy.an_done || !(bmcr & E1000_PHY_CTRL_ANEN);
}

/* The MAC sees link only with CTRL.SLU set (internal-PHY mode). */
bool e1000_link_up(const struct e1000 *s)
{
	return e1000_phy_link(s) && (e1000_get(s, E1000_CTRL) & E1000_CTRL_SLU);
}

bool e1000_loopback(const struct e1000 *s)
{
	return (s->phy.regs[E1000_PHY_CTRL] & E1000_PHY_CTRL_LOOPBACK) ||
	       (e1000_get(s, E1000_RCTL) & E1000_RCTL_LBM_MASK) ==
		       E1000_RCTL_LBM_MAC;
}

uint32_t e1000_status(const struct e1000 *s)
{
	/* Copper, full duplex, 1000 Mb/s (ASDV too); LU follows the link. */
	uint32_t v = E1000_STATUS_FD | E1000_STATUS_SPD1000 | 0x300;

	if (e1000_link_up(s))
		v |= E1000_STATUS_LU;
	return v;
}

/* Call after anything that may move the link: LSC on every change. */
void e1000_link_changed(struct e1000 *s, avm_ctx *ctx, bool was_up)
{
	bool up = e1000_link_up(s);

	if (up == was_up)
		return;
	if (!up)
		s->phy.ls_latched_low = true;
	e1000_irq_raise(s, ctx, E1000_ICR_LSC);
}

static void e1000_autoneg_start(struct e1000 *s, avm_ctx *ctx)
{
	uint64_t ns = s->cfg.autoneg_ns ? s->cfg.autoneg_ns
					: E1000_AUTONEG_NS_DEFAULT;

	s->phy.an_done = false;
	if (s->carrier)
		avm_timer_arm(ctx, E1000_TIMER_AUTONEG, ns, 0);
}

void e1000_phy_autoneg_done(struct e1000 *s, avm_ctx *ctx)
{
	bool was_up = e1000_link_up(s);

	if (!s->carrier)
		return;
	s->phy.an_done = true;
	e1000_link_changed(s, ctx, was_up);
}

/* PHY reset (CTRL.PHY_RST released): registers to power-on values, and
 * autonegotiation starts over. */
void e1000_phy_reset(struct e1000 *s, avm_ctx *ctx)
{
	for (size_t i = 0; i < E1000_PHY_NDESC; i++)
		s->phy.regs[e1000_phy_table[i].reg] = e1000_phy_table[i].reset;
	s->phy.ls_latched_low = false;
	if (ctx)
		e1000_autoneg_start(s, ctx);
	else
		s->phy.an_done = true; /* power-on: the link is already up */
}

void e1000_set_carrier(struct e1000 *s, avm_ctx *ctx, bool up)
{
	bool was_up = e1000_link_up(s);

	if (up == s->carrier)
		return;
	s->carrier = up;
	if (up && (s->phy.regs[E1000_PHY_CTRL] & E1000_PHY_CTRL_ANEN))
		e1000_autoneg_start(s, ctx);
	if (!up) {
		s->phy.an_done = false;
		avm_timer_cancel(ctx, E1000_TIMER_AUTONEG);
	}
	e1000_link_changed(s, ctx, was_up);
}

static uint16_t e1000_phy_read(struct e1000 *s, uint32_t reg)
{
	bool link = e1000_phy_link(s);
	uint16_t v = s->phy.regs[reg];

	switch (reg) {
	case E1000_PHY_STATUS:
		/* The link bit latches low: one read sees a past drop. */
		if (link && !s->phy.ls_latched_low)
			v |= E1000_PHY_STATUS_LINK;
		if (s->phy.an_done)
			v |= E1000_PHY_STATUS_ANCOMP;
		s->phy.ls_latched_low = false;
		return v;
	case E1000_PHY_ANLPAR:
		return s->phy.an_done ? v | E1000_PHY_ANLPAR_ACK : 0;
	case E1000_PHY_M88_PSSR:
		if (!link)
			v &= (uint16_t) ~(E1000_PHY_PSSR_LINK |
					  E1000_PHY_PSSR_RESOLVED);
		return v;
	default:
		return v;
	}
}

static void e1000_phy_write(struct e1000 *s, avm_ctx *ctx, uint32_t reg,
			    uint16_t v)
{
	const struct e1000_phy_desc *d = e1000_phy_find(reg);
	bool was_up = e1000_link_up(s);
	uint16_t self_clear = E1000_PHY_CTRL_RESET | E1000_PHY_CTRL_ANRESTART;

	if (!d || (d->flags & E1000_PHY_RO))
		return; /* read-only or unimplemented: the PHY ignores it */
	if (reg != E1000_PHY_CTRL) {
		s->phy.regs[reg] = v;
		return;
	}
	s->phy.regs[reg] = v & (uint16_t)~self_clear;
	/* Soft reset and AN restart both renegotiate (bits self-clear). */
	if ((v & self_clear) && (v & E1000_PHY_CTRL_ANEN))
		e1000_autoneg_start(s, ctx);
	e1000_link_changed(s, ctx, was_up);
}

void e1000_mdic_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v)
{
	uint32_t reg = (v >> E1000_MDIC_REG_SHIFT) & 0x1f;
	uint32_t phy = (v >> E1000_MDIC_PHY_SHIFT) & 0x1f;
	uint32_t op = v & (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE);
	uint32_t r = v & ~(E1000_MDIC_READY | E1000_MDIC_ERROR);

	/* Reads from an absent PHY (or with a bad opcode) fail with E;
	 * writes have no handshake on MDIO, and an unimplemented register
	 * of our PHY reads as 0. Either way the cycle completes at once. */
	if (op == E1000_MDIC_OP_READ) {
		r &= ~E1000_MDIC_DATA_MASK;
		if (phy != E1000_PHY_ADDR)
			r |= E1000_MDIC_ERROR;
		else
			r |= e1000_phy_read(s, reg);
	} else if (op == E1000_MDIC_OP_WRITE) {
		if (phy == E1000_PHY_ADDR)
			e1000_phy_write(s, ctx, reg, (uint16_t)v);
	} else {
		r |= E1000_MDIC_ERROR;
	}
	*e1000_reg(s, E1000_MDIC) = r | E1000_MDIC_READY;
	if (v & E1000_MDIC_INT_EN)
		e1000_irq_raise(s, ctx, E1000_ICR_MDAC);
}
