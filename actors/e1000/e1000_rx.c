/* SPDX-License-Identifier: MIT */
/*
 * Receive: one frame per message (so at most 64 descriptors of work):
 * size checks, address filtering, VLAN stripping, FCS, then DMA into the
 * ring's buffers, the descriptor written before its DD bit.
 */
#include <string.h>

#include "e1000_priv.h"

#define E1000_MAX_STD	1518  /* without FCS: 1522 with it */
#define E1000_MAX_LPE	16380 /* 16 KiB minus FCS */
#define E1000_MIN_FRAME 60

static const uint8_t e1000_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* IEEE 802.3 CRC-32 (reflected 0xEDB88320), four bits at a time. */
uint32_t e1000_crc32(const uint8_t *p, size_t n)
{
	static const uint32_t t[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
		0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
		0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		c = (c >> 4) ^ t[c & 15];
		c = (c >> 4) ^ t[c & 15];
	}
	return ~c;
}

static uint32_t e1000_rx_bufsize(const struct e1000 *s)
{
	static const uint32_t sz[2][4] = { { 2048, 1024, 512, 256 },
					   { 2048, 16384, 8192, 4096 } };
	uint32_t rctl = e1000_get(s, E1000_RCTL);

	/* BSEX with BSIZE 00 is reserved: taken as 2048. */
	return sz[!!(rctl & E1000_RCTL_BSEX)]
		 [(rctl >> E1000_RCTL_BSIZE_SH) & 3];
}

static bool e1000_rx_vlan_ok(const struct e1000 *s, const uint8_t *f)
{
	uint32_t rctl = e1000_get(s, E1000_RCTL);
	uint16_t tci = e1000_be16(f + 14), vid = tci & 0xfff;

	if ((rctl & E1000_RCTL_CFIEN) &&
	    !!(tci & 0x1000) != !!(rctl & E1000_RCTL_CFI))
		return false;
	if (!(rctl & E1000_RCTL_VFE))
		return true;
	return (e1000_get(s, E1000_VFTA + 4 * (vid >> 5)) >> (vid & 31)) & 1;
}

static bool e1000_rx_is_vlan(const struct e1000 *s, const uint8_t *f)
{
	return e1000_be16(f + 12) == (e1000_get(s, E1000_VET) & 0xffff);
}

static bool e1000_rx_exact(const struct e1000 *s, const uint8_t *f)
{
	for (int i = 0; i < E1000_RA_COUNT; i++) {
		uint32_t lo = e1000_get(s, E1000_RAL(i));
		uint32_t hi = e1000_get(s, E1000_RAH(i));
		uint8_t a[6] = { (uint8_t)lo,	      (uint8_t)(lo >> 8),
				 (uint8_t)(lo >> 16), (uint8_t)(lo >> 24),
				 (uint8_t)hi,	      (uint8_t)(hi >> 8) };

		/* ASEL 00: match the destination address. */
		if ((hi & E1000_RAH_AV) && !(hi & 0x30000) && !memcmp(a, f, 6))
			return true;
	}
	return false;
}

static bool e1000_rx_mta(const struct e1000 *s, const uint8_t *f)
{
	static const unsigned shift[4] = { 4, 3, 2, 0 };
	uint32_t mo = (e1000_get(s, E1000_RCTL) >> E1000_RCTL_MO_SHIFT) & 3;
	uint32_t h = ((uint32_t)f[4] >> shift[mo] |
		      (uint32_t)f[5] << (8 - shift[mo])) &
		     0xfff;

	return (e1000_get(s, E1000_MTA + 4 * (h >> 5)) >> (h & 31)) & 1;
}

static bool e1000_rx_accept(const struct e1000 *s, const uint8_t *f)
{
	uint32_t rctl = e1000_get(s, E1000_RCTL);
	bool mc = f[0] & 1;

	if (e1000_rx_is_vlan(s, f) && !e1000_rx_vlan_ok(s, f))
		return false;
	if (!memcmp(f, e1000_bcast, 6) && (rctl & E1000_RCTL_BAM))
		return true;
	if ((mc && (rctl & E1000_RCTL_MPE)) || (!mc && (rctl & E1000_RCTL_UPE)))
		return true;
	return e1000_rx_exact(s, f) || (mc && e1000_rx_mta(s, f));
}

/* Oversized frames are dropped unless LPE (up to 16 KiB) or SBP
 * (CVE-2012-6075); even then buffers are only ever filled to BSIZE. */
static bool e1000_rx_size_ok(const struct e1000 *s, size_t len)
{
	uint32_t rctl = e1000_get(s, E1000_RCTL);

	if (rctl & E1000_RCTL_SBP)
		return true;
	return len <= ((rctl & E1000_RCTL_LPE) ? E1000_MAX_LPE : E1000_MAX_STD);
}

/* Copy into rx_buf, runts padded to 60 bytes (the wire minimum), so
 * that filters never read past a short frame. */
static uint32_t e1000_rx_copy(struct e1000 *s, const uint8_t *f, uint32_t len)
{
	memcpy(s->rx_buf, f, len);
	if (len >= E1000_MIN_FRAME)
		return len;
	memset(s->rx_buf + len, 0, E1000_MIN_FRAME - len);
	return E1000_MIN_FRAME;
}

/* Strip the VLAN tag (CTRL.VME) and append the FCS unless SECRC.
 * Returns the new length; *tci gets the stripped tag or -1. */
static uint32_t e1000_rx_finish(struct e1000 *s, uint32_t len, int *tci)
{
	uint8_t *b = s->rx_buf;

	*tci = -1;
	if ((e1000_get(s, E1000_CTRL) & E1000_CTRL_VME) &&
	    e1000_rx_is_vlan(s, b)) {
		*tci = e1000_be16(b + 14);
		memmove(b + 12, b + 16, len - 16);
		len -= 4;
	}
	if (!(e1000_get(s, E1000_RCTL) & E1000_RCTL_SECRC)) {
		uint32_t crc = e1000_crc32(b, len);

		for (int i = 0; i < 4; i++)
			b[len + i] = (uint8_t)(crc >> (8 * i));
		len += 4;
	}
	return len;
}

/* Descriptors the device owns: [RDH, RDT), 0 for a broken ring. */
static uint32_t e1000_rx_avail(const struct e1000 *s)
{
	uint32_t n = e1000_ring_size(s, E1000_RDLEN);
	uint32_t head = e1000_get(s, E1000_RDH);
	uint32_t tail = e1000_get(s, E1000_RDT);

	if (!n || head >= n || tail >= n)
		return 0;
	return (tail + n - head) % n;
}

static void e1000_rx_overrun(struct e1000 *s, avm_ctx *ctx)
{
	e1000_stat_inc(s, E1000_RNBC);
	e1000_stat_inc(s, E1000_MPC);
	s->rx_dropped++;
	e1000_irq_raise(s, ctx, E1000_ICR_RXO);
}

/* Write one descriptor: data, then length/status without DD, then DD in a
 * separate one-byte store so a polling driver never sees DD too early. */
static int e1000_rx_desc(struct e1000 *s, avm_ctx *ctx, uint64_t gpa,
			 const uint8_t *data, uint32_t len, uint8_t sta,
			 int tci)
{
	uint8_t d[E1000_DESC_SIZE], wb[8] = { 0 };
	uint64_t token, buf;

	if (avm_dma_read(ctx, gpa, d, sizeof(d), &token))
		return -1;
	buf = e1000_le64(d);
	/* A buffer address of 0: consumed, nothing written (as QEMU). */
	if (buf && avm_dma_write(ctx, buf, data, len))
		s->dma_errors++;
	if (tci >= 0 && (sta & E1000_RXD_STAT_EOP)) {
		sta |= E1000_RXD_STAT_VP;
		e1000_put_le16(wb + 6, (uint16_t)tci);
	}
	e1000_put_le16(wb, (uint16_t)len);
	wb[4] = sta; /* no RX checksum offload: IXSM says "not checked" */
	if (avm_dma_write(ctx, gpa + 8, wb, sizeof(wb)))
		return -1;
	sta |= E1000_RXD_STAT_DD;
	return avm_dma_write(ctx, gpa + 12, &sta, 1) ? -1 : 0;
}

static bool e1000_rx_store(struct e1000 *s, avm_ctx *ctx, uint32_t len, int tci)
{
	uint32_t bsize = e1000_rx_bufsize(s), n, head, off = 0;
	uint64_t base = e1000_ring_base(s, E1000_RDBAL);

	/* Check for room before writing anything: no partial frames. */
	if ((len + bsize - 1) / bsize > e1000_rx_avail(s)) {
		e1000_rx_overrun(s, ctx);
		return false;
	}
	n = e1000_ring_size(s, E1000_RDLEN);
	head = e1000_get(s, E1000_RDH);
	while (off < len) {
		uint32_t chunk = len - off > bsize ? bsize : len - off;
		uint8_t sta = E1000_RXD_STAT_IXSM;

		if (off + chunk == len)
			sta |= E1000_RXD_STAT_EOP;
		if (e1000_rx_desc(s, ctx, base + (uint64_t)head * 16,
				  s->rx_buf + off, chunk, sta, tci)) {
			s->dma_errors++; /* descriptor unreachable: drop */
			s->rx_dropped++;
			break;
		}
		off += chunk;
		head = head + 1 >= n ? 0 : head + 1;
	}
	*e1000_reg(s, E1000_RDH) = head;
	return off == len;
}

static void e1000_rx_count(struct e1000 *s, const uint8_t *f, uint32_t len)
{
	e1000_stat_inc(s, E1000_GPRC);
	e1000_stat_add64(s, E1000_GORCL, len);
	e1000_stat_size_bin(s, E1000_PRC64, len);
	if (!memcmp(f, e1000_bcast, 6))
		e1000_stat_inc(s, E1000_BPRC);
	else if (f[0] & 1)
		e1000_stat_inc(s, E1000_MPRC);
}

static void e1000_rx_done(struct e1000 *s, avm_ctx *ctx)
{
	uint32_t rdmts = (e1000_get(s, E1000_RCTL) >> E1000_RCTL_RDMTS_SH) & 3;
	uint32_t free = e1000_rx_avail(s);

	/* Free descriptors at or below 1/2, 1/4 or 1/8 of the ring. */
	if (free * E1000_DESC_SIZE <= e1000_get(s, E1000_RDLEN) >> (rdmts + 1))
		e1000_irq_raise(s, ctx, E1000_ICR_RXDMT0);
	e1000_rx_irq(s, ctx);
}

void e1000_rx_frame(struct e1000 *s, avm_ctx *ctx, const struct avm_msg *m)
{
	size_t n;
	const uint8_t *f = avm_msg_payload(m, &n);
	bool looped = m->src == avm_self(ctx);
	uint32_t len;
	int tci;

	if (!(e1000_get(s, E1000_RCTL) & E1000_RCTL_EN))
		return; /* receiver off: the frame is not seen */
	/* In loopback the wire is disconnected; only looped frames come in. */
	if (!looped && (!e1000_link_up(s) || e1000_loopback(s)))
		return;
	if (!f || n < 14 || n > AVM_MSG_MAX_PAYLOAD)
		return;
	e1000_stat_inc(s, E1000_TPR);
	e1000_stat_add64(s, E1000_TORL, n + 4);
	if (!e1000_rx_size_ok(s, n)) {
		e1000_stat_inc(s, E1000_ROC);
		return;
	}
	len = e1000_rx_copy(s, f, (uint32_t)n);
	if (!e1000_rx_accept(s, s->rx_buf))
		return;
	len = e1000_rx_finish(s, len, &tci);
	if (!e1000_rx_store(s, ctx, len, tci))
		return;
	e1000_rx_count(s, s->rx_buf, len);
	e1000_rx_done(s, ctx);
}
