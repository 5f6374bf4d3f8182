/* SPDX-License-Identifier: MIT */
/*
 * The register file: reset values, writable bits, read-to-clear statistics,
 * and the dispatch of registers whose access has a side effect.
 */
#include "e1000_priv.h"

enum e1000_reg_kind {
	E1000_RK_RW = 0,  /* plain storage under the write mask */
	E1000_RK_STAT,	  /* read-to-clear counter */
	E1000_RK_STAT_LO, /* low half of a 64-bit counter: not cleared */
	E1000_RK_STAT_HI, /* high half: reading it clears both halves */
};

struct e1000_reg_desc {
	uint32_t off;
	uint32_t n; /* consecutive 32-bit registers */
	uint32_t reset;
	uint32_t wmask;
	uint8_t kind;
};

/*
 * Sorted by offset. Masks follow the 8254x manual and what Linux's
 * e1000_reg_test writes and reads back; reset values the manual leaves to
 * the EEPROM are QEMU's (see the reference, marked unconfirmed there).
 */
static const struct e1000_reg_desc e1000_reg_table[] = {
	{ E1000_CTRL, 1, 0x00140240, 0xdbfc1be9, 0 }, /* RST self-clears */
	{ E1000_CTRL_EXT, 1, 0, 0x00e29fff, 0 },      /* EE_RST self-clears */
	{ E1000_FCAL, 1, 0, 0xffffffff, 0 },
	{ E1000_FCAH, 1, 0, 0x0000ffff, 0 },
	{ E1000_FCT, 1, 0, 0x0000ffff, 0 },
	{ E1000_VET, 1, 0x8100, 0x0000ffff, 0 },
	{ E1000_ITR, 1, 0, 0x0000ffff, 0 },
	{ E1000_RCTL, 1, 0, 0x06dfb3fe, 0 },
	{ E1000_FCTTV, 1, 0, 0x0000ffff, 0 },
	{ E1000_TXCW, 1, 0, 0xc000ffff, 0 },
	{ E1000_TCTL, 1, 0, 0x013ffffa, 0 }, /* SWXOFF self-clears */
	{ E1000_TIPG, 1, 0, 0x3fffffff, 0 },
	{ E1000_AIT, 1, 0, 0x0000ffff, 0 },
	{ E1000_LEDCTL, 1, 0x00000602, 0xcfcfcfcf, 0 },
	{ E1000_PBA, 1, 0x00100030, 0x0000ffff, 0 },
	{ E1000_FCRTL, 1, 0, 0x8000fff8, 0 },
	{ E1000_FCRTH, 1, 0, 0x0000fff8, 0 },
	{ E1000_RDBAL, 1, 0, 0xfffffff0, 0 }, /* 16-byte aligned */
	{ E1000_RDBAH, 1, 0, 0xffffffff, 0 },
	{ E1000_RDLEN, 1, 0, 0x000fff80, 0 }, /* multiple of 128 bytes */
	{ E1000_RDH, 1, 0, 0x0000ffff, 0 },
	{ E1000_RDT, 1, 0, 0x0000ffff, 0 },
	{ E1000_RDTR, 1, 0, 0x0000ffff, 0 }, /* FPD is write-only */
	{ E1000_RXDCTL, 1, 0x00010000, 0x013f3f3f, 0 },
	{ E1000_RADV, 1, 0, 0x0000ffff, 0 },
	{ E1000_RSRPD, 1, 0, 0x00000fff, 0 },
	{ E1000_TDBAL, 1, 0, 0xfffffff0, 0 },
	{ E1000_TDBAH, 1, 0, 0xffffffff, 0 },
	{ E1000_TDLEN, 1, 0, 0x000fff80, 0 },
	{ E1000_TDH, 1, 0, 0x0000ffff, 0 },
	{ E1000_TDT, 1, 0, 0x0000ffff, 0 },
	{ E1000_TIDV, 1, 0, 0x0000ffff, 0 },
	{ E1000_TXDCTL, 1, 0, 0xff3f3f3f, 0 },
	{ E1000_TADV, 1, 0, 0x0000ffff, 0 },
	{ E1000_TSPMT, 1, 0x01000400, 0xffffffff, 0 },
	{ E1000_STATS, 34, 0, 0, E1000_RK_STAT },
	{ E1000_GORCL, 1, 0, 0, E1000_RK_STAT_LO },
	{ E1000_GORCH, 1, 0, 0, E1000_RK_STAT_HI },
	{ E1000_GOTCL, 1, 0, 0, E1000_RK_STAT_LO },
	{ E1000_GOTCH, 1, 0, 0, E1000_RK_STAT_HI },
	{ 0x4098, 10, 0, 0, E1000_RK_STAT },
	{ E1000_TORL, 1, 0, 0, E1000_RK_STAT_LO },
	{ E1000_TORH, 1, 0, 0, E1000_RK_STAT_HI },
	{ E1000_TOTL, 1, 0, 0, E1000_RK_STAT_LO },
	{ E1000_TOTH, 1, 0, 0, E1000_RK_STAT_HI },
	{ E1000_TPR, 12, 0, 0, E1000_RK_STAT },
	{ E1000_RXCSUM, 1, 0, 0x000007ff, 0 },
	{ E1000_MTA, E1000_MTA_COUNT, 0, 0xffffffff, 0 },
	{ E1000_RA, 2 * E1000_RA_COUNT, 0, 0xffffffff, 0 }, /* RAH below */
	{ E1000_VFTA, 128, 0, 0xffffffff, 0 },
	{ E1000_WUC, 1, 0, 0x0000001f, 0 },
	{ E1000_WUFC, 1, 0, 0x000f00ff, 0 },
	{ E1000_WUS, 1, 0, 0, 0 },
	{ E1000_MANC, 1, 0x00222300, 0x01ffffff, 0 },
};

#define E1000_NREG_DESC (sizeof(e1000_reg_table) / sizeof(e1000_reg_table[0]))

/* Binary search: the descriptor of register @off, or NULL. */
static const struct e1000_reg_desc *e1000_reg_find(uint32_t off)
{
	size_t lo = 0, hi = E1000_NREG_DESC;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct e1000_reg_desc *d = &e1000_reg_table[mid];

		if (off < d->off)
			hi = mid;
		else if (off >= d->off + 4 * d->n)
			lo = mid + 1;
		else
			return d;
	}
	return NULL;
}

static uint32_t e1000_wmask(const struct e1000_reg_desc *d, uint32_t off)
{
	/* RAH: address bytes 4-5, ASEL and AV; the rest is reserved. */
	if (d->off == E1000_RA && (off & 4))
		return 0x8003ffff;
	return d->wmask;
}

void e1000_regs_reset(struct e1000 *s)
{
	for (uint32_t i = 0; i < E1000_REG_WORDS; i++)
		s->regs[i] = 0;
	for (size_t i = 0; i < E1000_NREG_DESC; i++) {
		const struct e1000_reg_desc *d = &e1000_reg_table[i];

		for (uint32_t j = 0; j < d->n; j++)
			s->regs[d->off / 4 + j] = d->reset;
	}
	s->ioaddr = 0;
}

/* Counters saturate instead of wrapping, as the statistics block does. */
void e1000_stat_inc(struct e1000 *s, uint32_t off)
{
	uint32_t *r = e1000_reg(s, off);

	if (*r != UINT32_MAX)
		(*r)++;
}

void e1000_stat_add64(struct e1000 *s, uint32_t off_lo, uint64_t v)
{
	uint64_t cur =
		(uint64_t)e1000_get(s, off_lo + 4) << 32 | e1000_get(s, off_lo);
	uint64_t sum = cur + v < cur ? UINT64_MAX : cur + v;

	*e1000_reg(s, off_lo) = (uint32_t)sum;
	*e1000_reg(s, off_lo + 4) = (uint32_t)(sum >> 32);
}

/* PRC/PTC size bins: 64, 65-127, ..., 1024 and up (FCS included). */
void e1000_stat_size_bin(struct e1000 *s, uint32_t base, uint32_t len)
{
	static const uint32_t lim[5] = { 64, 127, 255, 511, 1023 };
	uint32_t bin = 0;

	while (bin < 5 && len > lim[bin])
		bin++;
	e1000_stat_inc(s, base + 4 * bin);
}

static uint32_t e1000_stat_read(struct e1000 *s, const struct e1000_reg_desc *d,
				uint32_t off)
{
	uint32_t v = e1000_get(s, off);

	if (d->kind == E1000_RK_STAT) {
		*e1000_reg(s, off) = 0;
	} else if (d->kind == E1000_RK_STAT_HI) {
		*e1000_reg(s, off) = 0;
		*e1000_reg(s, off - 4) = 0;
	}
	return v;
}

/* Registers whose read has a side effect or is computed. */
static bool e1000_special_read(struct e1000 *s, avm_ctx *ctx, uint32_t off,
			       uint32_t *v)
{
	switch (off) {
	case E1000_STATUS:
		*v = e1000_status(s);
		return true;
	case E1000_EECD:
		*v = e1000_eecd_read(s);
		return true;
	case E1000_ICR:
		*v = e1000_icr_read(s, ctx);
		return true;
	case E1000_ICS:
	case E1000_IMC:
		*v = 0; /* write-only */
		return true;
	case E1000_IMS:
		*v = e1000_get(s, E1000_IMS);
		return true;
	default:
		return false;
	}
}

uint32_t e1000_regs_read(struct e1000 *s, avm_ctx *ctx, uint32_t off)
{
	const struct e1000_reg_desc *d;
	uint32_t v;

	if (e1000_special_read(s, ctx, off, &v))
		return v;
	if (off == E1000_EERD || off == E1000_MDIC)
		return e1000_get(s, off);
	d = e1000_reg_find(off);
	if (!d)
		return 0; /* reserved or not modelled: reads as 0 */
	if (d->kind != E1000_RK_RW)
		return e1000_stat_read(s, d, off);
	return e1000_get(s, off);
}

/* Sub-word writes of these merge with zeros, not with the stored value:
 * their writes are actions (set, clear, mask), not storage. */
bool e1000_regs_merge_zero(uint32_t off)
{
	return off == E1000_ICR || off == E1000_ICS || off == E1000_IMS ||
	       off == E1000_IMC;
}

static void e1000_ctrl_write(struct e1000 *s, avm_ctx *ctx, uint32_t v);

static bool e1000_special_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
				uint32_t v)
{
	switch (off) {
	case E1000_CTRL:
		e1000_ctrl_write(s, ctx, v);
		return true;
	case E1000_EECD:
		e1000_eecd_write(s, v);
		return true;
	case E1000_EERD:
		e1000_eerd_write(s, v);
		return true;
	case E1000_MDIC:
		e1000_mdic_write(s, ctx, v);
		return true;
	case E1000_ICR:
	case E1000_ICS:
	case E1000_IMS:
	case E1000_IMC:
	case E1000_ITR:
		e1000_irq_write(s, ctx, off, v);
		return true;
	case E1000_STATUS:
		return true; /* read-only: writes are ignored */
	default:
		return false;
	}
}

/* Side effects after a plain register took its new value. */
static void e1000_after_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
			      uint32_t v)
{
	switch (off) {
	case E1000_TDT:
	case E1000_TCTL:
		e1000_tx_doorbell(s, ctx);
		break;
	case E1000_RDTR:
	case E1000_TIDV:
		if (v & E1000_DELAY_FPD)
			e1000_delay_flush(s, ctx, off);
		break;
	case E1000_CTRL_EXT:
		if (v & E1000_CTRL_EXT_EE_RST)
			e1000_load_mac(s); /* EEPROM reload */
		break;
	default:
		break;
	}
}

void e1000_regs_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v)
{
	const struct e1000_reg_desc *d;
	uint32_t m;

	if (e1000_special_write(s, ctx, off, v))
		return;
	d = e1000_reg_find(off);
	if (!d || d->kind != E1000_RK_RW)
		return; /* reserved, or a counter: writes are ignored */
	m = e1000_wmask(d, off);
	*e1000_reg(s, off) = (e1000_get(s, off) & ~m) | (v & m);
	e1000_after_write(s, ctx, off, v);
}

static void e1000_ctrl_write(struct e1000 *s, avm_ctx *ctx, uint32_t v)
{
	uint32_t old = e1000_get(s, E1000_CTRL);
	bool was_up = e1000_link_up(s);
	uint32_t m = 0xdbfc1be9;

	if (v & E1000_CTRL_RST) {
		e1000_device_reset(s, ctx, E1000_RESET_SOFTWARE);
		return;
	}
	*e1000_reg(s, E1000_CTRL) = (old & ~m) | (v & m);
	/* PHY_RST is a level: the PHY restarts when it is released. */
	if ((old & E1000_CTRL_PHY_RST) && !(v & E1000_CTRL_PHY_RST))
		e1000_phy_reset(s, ctx);
	e1000_link_changed(s, ctx, was_up);
}
