/* SPDX-License-Identifier: MIT */
/*
 * The register file: one row per register (or run of alike registers)
 * with its reset value, its writable bits, and the handlers of a register
 * whose access does more than store or return its bits. Everything a
 * register does is in its row and the handlers the row names.
 */
#include "e1000_priv.h"

/* What the other bytes of a sub-word write are. */
enum e1000_merge {
	E1000_MERGE_STORED = 0, /* the stored value */
	E1000_MERGE_ZERO,	/* 0: writes are actions (set, clear, mask) */
	E1000_MERGE_READ,	/* what a read returns (the read is pure) */
};

struct e1000_reg_desc {
	uint32_t off;
	uint32_t n; /* consecutive 32-bit registers */
	uint32_t reset;
	uint32_t wmask;		   /* bits a plain write stores */
	e1000_reg_read_fn *read;   /* NULL: the stored value */
	e1000_reg_write_fn *write; /* NULL: store the bits under wmask */
	uint8_t merge;		   /* enum e1000_merge */
};

static void e1000_ctrl_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
			     uint32_t v);
static void e1000_ctrl_ext_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
				 uint32_t v);
static void e1000_tx_kick_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
				uint32_t v);
static void e1000_delay_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
			      uint32_t v);
static uint32_t e1000_status_read(struct e1000 *s, avm_ctx *ctx, uint32_t off);
static uint32_t e1000_zero_read(struct e1000 *s, avm_ctx *ctx, uint32_t off);
static uint32_t e1000_stat_read(struct e1000 *s, avm_ctx *ctx, uint32_t off);
static uint32_t e1000_stat_hi_read(struct e1000 *s, avm_ctx *ctx, uint32_t off);

/* Designated, so that a row names only what it has. */
#define E1000_REG(o, rst, m, ...)                                              \
	{                                                                      \
		.off = (o), .n = 1, .reset = (rst), .wmask = (m), __VA_ARGS__  \
	}
#define E1000_REGS(o, cnt, m, ...)                                             \
	{                                                                      \
		.off = (o), .n = (cnt), .wmask = (m), __VA_ARGS__              \
	}
#define E1000_STAT_ROW(o, cnt) E1000_REGS(o, cnt, 0, .read = e1000_stat_read)
/* 64-bit counters: reading the low half clears nothing, the high both. */
#define E1000_STAT64_ROWS(lo)                                                  \
	E1000_REG(lo, 0, 0),                                                   \
		E1000_REG((lo) + 4, 0, 0, .read = e1000_stat_hi_read)
/* RAH: address bytes 4-5, ASEL and AV; the rest is reserved. */
#define E1000_RA_ROWS(i)                                                       \
	E1000_REG(E1000_RAL(i), 0, 0xffffffff),                                \
		E1000_REG(E1000_RAH(i), 0, 0x8003ffff)

/*
 * Sorted by offset (the lookup is a binary search). Masks follow the 8254x
 * manual and what Linux's e1000_reg_test writes and reads back; reset
 * values the manual leaves to the EEPROM are QEMU's (see the reference,
 * marked unconfirmed there). Offsets without a row read 0 and ignore
 * writes.
 */
static const struct e1000_reg_desc e1000_reg_table[] = {
	/* RST and PHY_RST act (see the handler); RST self-clears. */
	E1000_REG(E1000_CTRL, 0x00140240, 0xdbfc1be9,
		  .write = e1000_ctrl_write),
	/* Computed from the link; writes are ignored. */
	E1000_REG(E1000_STATUS, 0, 0, .read = e1000_status_read),
	E1000_REG(E1000_EECD, 0, 0, .read = e1000_eecd_read,
		  .write = e1000_eecd_write, .merge = E1000_MERGE_READ),
	E1000_REG(E1000_EERD, 0, 0, .write = e1000_eerd_write),
	/* EE_RST reloads the MAC from the EEPROM and self-clears. */
	E1000_REG(E1000_CTRL_EXT, 0, 0x00e29fff, .write = e1000_ctrl_ext_write),
	E1000_REG(E1000_MDIC, 0, 0, .write = e1000_mdic_write),
	E1000_REG(E1000_FCAL, 0, 0xffffffff),
	E1000_REG(E1000_FCAH, 0, 0x0000ffff),
	E1000_REG(E1000_FCT, 0, 0x0000ffff),
	E1000_REG(E1000_VET, 0x8100, 0x0000ffff),
	E1000_REG(E1000_ICR, 0, 0, .read = e1000_icr_read,
		  .write = e1000_icr_write, .merge = E1000_MERGE_ZERO),
	E1000_REG(E1000_ITR, 0, 0x0000ffff, .write = e1000_itr_write),
	E1000_REG(E1000_ICS, 0, 0, .read = e1000_zero_read,
		  .write = e1000_ics_write, .merge = E1000_MERGE_ZERO),
	E1000_REG(E1000_IMS, 0, 0, .write = e1000_ims_write,
		  .merge = E1000_MERGE_ZERO),
	E1000_REG(E1000_IMC, 0, 0, .read = e1000_zero_read,
		  .write = e1000_imc_write, .merge = E1000_MERGE_ZERO),
	E1000_REG(E1000_RCTL, 0, 0x06dfb3fe),
	E1000_REG(E1000_FCTTV, 0, 0x0000ffff),
	E1000_REG(E1000_TXCW, 0, 0xc000ffff),
	/* SWXOFF self-clears; a write may start TX. */
	E1000_REG(E1000_TCTL, 0, 0x013ffffa, .write = e1000_tx_kick_write),
	E1000_REG(E1000_TIPG, 0, 0x3fffffff),
	E1000_REG(E1000_AIT, 0, 0x0000ffff),
	E1000_REG(E1000_LEDCTL, 0x00000602, 0xcfcfcfcf),
	E1000_REG(E1000_PBA, 0x00100030, 0x0000ffff),
	E1000_REG(E1000_FCRTL, 0, 0x8000fff8),
	E1000_REG(E1000_FCRTH, 0, 0x0000fff8),
	E1000_REG(E1000_RDBAL, 0, 0xfffffff0), /* 16-byte aligned */
	E1000_REG(E1000_RDBAH, 0, 0xffffffff),
	E1000_REG(E1000_RDLEN, 0, 0x000fff80), /* multiple of 128 bytes */
	E1000_REG(E1000_RDH, 0, 0x0000ffff),
	E1000_REG(E1000_RDT, 0, 0x0000ffff),
	E1000_REG(E1000_RDTR, 0, 0x0000ffff, .write = e1000_delay_write),
	E1000_REG(E1000_RXDCTL, 0x00010000, 0x013f3f3f),
	E1000_REG(E1000_RADV, 0, 0x0000ffff),
	E1000_REG(E1000_RSRPD, 0, 0x00000fff),
	E1000_REG(E1000_TDBAL, 0, 0xfffffff0),
	E1000_REG(E1000_TDBAH, 0, 0xffffffff),
	E1000_REG(E1000_TDLEN, 0, 0x000fff80),
	E1000_REG(E1000_TDH, 0, 0x0000ffff),
	E1000_REG(E1000_TDT, 0, 0x0000ffff, .write = e1000_tx_kick_write),
	E1000_REG(E1000_TIDV, 0, 0x0000ffff, .write = e1000_delay_write),
	E1000_REG(E1000_TXDCTL, 0, 0xff3f3f3f),
	E1000_REG(E1000_TADV, 0, 0x0000ffff),
	E1000_REG(E1000_TSPMT, 0x01000400, 0xffffffff),
	/* Statistics: read-to-clear, writes ignored. */
	E1000_STAT_ROW(E1000_STATS, 34),
	E1000_STAT64_ROWS(E1000_GORCL),
	E1000_STAT64_ROWS(E1000_GOTCL),
	E1000_STAT_ROW(0x4098, 10),
	E1000_STAT64_ROWS(E1000_TORL),
	E1000_STAT64_ROWS(E1000_TOTL),
	E1000_STAT_ROW(E1000_TPR, 12),
	E1000_REG(E1000_RXCSUM, 0, 0x000007ff),
	E1000_REGS(E1000_MTA, E1000_MTA_COUNT, 0xffffffff),
	E1000_RA_ROWS(0),
	E1000_RA_ROWS(1),
	E1000_RA_ROWS(2),
	E1000_RA_ROWS(3),
	E1000_RA_ROWS(4),
	E1000_RA_ROWS(5),
	E1000_RA_ROWS(6),
	E1000_RA_ROWS(7),
	E1000_RA_ROWS(8),
	E1000_RA_ROWS(9),
	E1000_RA_ROWS(10),
	E1000_RA_ROWS(11),
	E1000_RA_ROWS(12),
	E1000_RA_ROWS(13),
	E1000_RA_ROWS(14),
	E1000_RA_ROWS(15),
	E1000_REGS(E1000_VFTA, 128, 0xffffffff),
	E1000_REG(E1000_WUC, 0, 0x0000001f),
	E1000_REG(E1000_WUFC, 0, 0x000f00ff),
	E1000_REG(E1000_WUS, 0, 0), /* no wake-up ever happens */
	E1000_REG(E1000_MANC, 0x00222300, 0x01ffffff),
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

static void e1000_masked_store(struct e1000 *s, const struct e1000_reg_desc *d,
			       uint32_t off, uint32_t v)
{
	*e1000_reg(s, off) = (e1000_get(s, off) & ~d->wmask) | (v & d->wmask);
}

/* A plain write, for handlers: the bits under the row's mask take @v's. */
void e1000_reg_store(struct e1000 *s, uint32_t off, uint32_t v)
{
	const struct e1000_reg_desc *d = e1000_reg_find(off);

	if (d)
		e1000_masked_store(s, d, off, v);
}

uint32_t e1000_regs_read(struct e1000 *s, avm_ctx *ctx, uint32_t off)
{
	const struct e1000_reg_desc *d = e1000_reg_find(off);

	if (!d)
		return 0; /* reserved or not modelled */
	return d->read ? d->read(s, ctx, off) : e1000_get(s, off);
}

void e1000_regs_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v)
{
	const struct e1000_reg_desc *d = e1000_reg_find(off);

	if (!d)
		return; /* reserved or not modelled: ignored */
	if (d->write)
		d->write(s, ctx, off, v);
	else
		e1000_masked_store(s, d, off, v);
}

/* A sub-word write: the bytes under @mask are @v's, the others what the
 * register's row says they merge with. */
void e1000_regs_write_part(struct e1000 *s, avm_ctx *ctx, uint32_t off,
			   uint32_t mask, uint32_t v)
{
	const struct e1000_reg_desc *d = e1000_reg_find(off);
	uint32_t old = 0;

	if (!d)
		return;
	if (d->merge == E1000_MERGE_STORED)
		old = e1000_get(s, off);
	else if (d->merge == E1000_MERGE_READ)
		old = d->read(s, ctx, off);
	e1000_regs_write(s, ctx, off, (old & ~mask) | (v & mask));
}

/* --- Handlers of the registers that do more than store -------------------- */

static void e1000_ctrl_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
			     uint32_t v)
{
	uint32_t old = e1000_get(s, E1000_CTRL);
	bool was_up = e1000_link_up(s);

	if (v & E1000_CTRL_RST) {
		e1000_device_reset(s, ctx, E1000_RESET_SOFTWARE);
		return;
	}
	e1000_reg_store(s, off, v);
	/* PHY_RST is a level: the PHY restarts when it is released. */
	if ((old & E1000_CTRL_PHY_RST) && !(v & E1000_CTRL_PHY_RST))
		e1000_phy_reset(s, ctx);
	e1000_link_changed(s, ctx, was_up);
}

static void e1000_ctrl_ext_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
				 uint32_t v)
{
	e1000_reg_store(s, off, v);
	if (v & E1000_CTRL_EXT_EE_RST)
		e1000_load_mac(s); /* EEPROM reload */
}

/* TCTL and TDT: the ring may have work now. */
static void e1000_tx_kick_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
				uint32_t v)
{
	e1000_reg_store(s, off, v);
	e1000_tx_doorbell(s, ctx);
}

/* RDTR and TIDV: FPD (write-only) delivers a pending delayed interrupt. */
static void e1000_delay_write(struct e1000 *s, avm_ctx *ctx, uint32_t off,
			      uint32_t v)
{
	e1000_reg_store(s, off, v);
	if (v & E1000_DELAY_FPD)
		e1000_delay_flush(s, ctx, off);
}

static uint32_t e1000_status_read(struct e1000 *s, avm_ctx *ctx, uint32_t off)
{
	return e1000_status(s);
}

/* Write-only registers (ICS, IMC) read as 0. */
static uint32_t e1000_zero_read(struct e1000 *s, avm_ctx *ctx, uint32_t off)
{
	return 0;
}

static uint32_t e1000_stat_read(struct e1000 *s, avm_ctx *ctx, uint32_t off)
{
	uint32_t v = e1000_get(s, off);

	*e1000_reg(s, off) = 0;
	return v;
}

static uint32_t e1000_stat_hi_read(struct e1000 *s, avm_ctx *ctx, uint32_t off)
{
	uint32_t v = e1000_get(s, off);

	*e1000_reg(s, off) = 0;
	*e1000_reg(s, off - 4) = 0;
	return v;
}

/* --- Statistics, as the device counts ------------------------------------ */

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
