/* SPDX-License-Identifier: MIT */
/*
 * Transmit: the descriptor ring walked in bounded chunks (continuations),
 * legacy, context and data descriptors, packet assembly, write-back.
 * Checksums, TSO and VLAN insertion are in e1000_offload.c.
 */
#include <string.h>

#include "e1000_priv.h"

enum { E1000_TXD_LEGACY = 0, E1000_TXD_CONTEXT, E1000_TXD_DATA };

void e1000_tx_reset(struct e1000 *s)
{
	/* The packet buffer needs no clearing: size says what is valid. */
	memset(&s->tx, 0, offsetof(struct e1000_tx, hdr));
}

static bool e1000_tx_ready(const struct e1000 *s)
{
	uint32_t n = e1000_ring_size(s, E1000_TDLEN);
	uint32_t head = e1000_get(s, E1000_TDH);
	uint32_t tail = e1000_get(s, E1000_TDT);

	/* A head or tail outside the ring would never meet the other one
	 * (CVE-2016-1981): such a ring is not processed at all. */
	if (!(e1000_get(s, E1000_TCTL) & E1000_TCTL_EN) || s->tx.stalled)
		return false;
	return n && head < n && tail < n && head != tail;
}

/* More of the ring is left: walk it in the next chunk, a continuation. */
static void e1000_tx_schedule(struct e1000 *s, avm_ctx *ctx)
{
	if (s->tx.scheduled || !e1000_tx_ready(s))
		return;
	s->tx.scheduled = true;
	avm_continue(ctx, (uint64_t)s->epoch << 8 | E1000_CONT_TX);
}

/*
 * A doorbell: TDT or TCTL written. An idle ring walks its first chunk in
 * this very handler, so the frame and DD follow the write without a second
 * message (on the fast path: on the writer's thread, with no wake-up, as a
 * real NIC fetches at once). One chunk is what any message may cost; the
 * rest follows in continuations. With a continuation queued, the ring is
 * busy and that chunk picks the new descriptors up in its turn.
 */
void e1000_tx_doorbell(struct e1000 *s, avm_ctx *ctx)
{
	s->tx.stalled = false;
	if (!s->tx.scheduled)
		e1000_tx_chunk(s, ctx);
}

static void e1000_tx_decode(struct e1000_tx_desc *c, const uint8_t *d)
{
	uint32_t lower = e1000_le32(d + 8);
	uint32_t dtyp = (lower >> 20) & 0xf;

	memset(c, 0, sizeof(*c));
	c->addr = e1000_le64(d);
	c->cmd = d[11];
	c->special = e1000_le16(d + 14);
	if ((c->cmd & E1000_TXD_CMD_DEXT) && dtyp == E1000_TXD_DTYP_CTX) {
		c->type = E1000_TXD_CONTEXT;
	} else if ((c->cmd & E1000_TXD_CMD_DEXT) &&
		   dtyp == E1000_TXD_DTYP_DATA) {
		c->type = E1000_TXD_DATA;
		c->len = lower & 0xfffff;
		c->popts = d[13];
	} else {
		/* DEXT with an unknown type is taken as legacy, as QEMU does.
		 */
		c->type = E1000_TXD_LEGACY;
		c->len = e1000_le16(d + 8);
		c->cso = d[10];
		c->popts = d[13]; /* CSS */
	}
}

/* Fetch the descriptor at TDH. A failed DMA stalls the ring until the
 * driver writes TDT again (a master abort on real hardware). */
static int e1000_tx_fetch(struct e1000 *s, avm_ctx *ctx)
{
	uint64_t base = e1000_ring_base(s, E1000_TDBAL);
	uint64_t gpa = base + (uint64_t)e1000_get(s, E1000_TDH) * 16;
	uint8_t d[E1000_DESC_SIZE];
	uint64_t token;

	if (avm_dma_read(ctx, gpa, d, sizeof(d), &token)) {
		s->dma_errors++;
		s->tx.stalled = true;
		return -1;
	}
	e1000_tx_decode(&s->tx.cur, d);
	/* A context descriptor is used as is: keep its raw bytes. */
	if (s->tx.cur.type == E1000_TXD_CONTEXT)
		memcpy(s->tx.ctx_raw, d, sizeof(d));
	s->tx.have_cur = true;
	return 0;
}

static void e1000_tx_load_ctx(struct e1000 *s)
{
	const uint8_t *d = s->tx.ctx_raw;
	uint32_t tucmd = d[11];
	struct e1000_tx_ctx *c = &s->tx.ctx[(tucmd & E1000_TXD_CMD_TSE) != 0];

	/* Two contexts, as the 82540 keeps: TSO and plain checksum. */
	c->ipcss = d[0];
	c->ipcso = d[1];
	c->ipcse = e1000_le16(d + 2);
	c->tucss = d[4];
	c->tucso = d[5];
	c->tucse = e1000_le16(d + 6);
	c->paylen = e1000_le32(d + 8) & 0xfffff;
	c->tucmd = d[11];
	c->hdr_len = d[13];
	c->mss = e1000_le16(d + 14);
}

static void e1000_tx_start_pkt(struct e1000 *s)
{
	struct e1000_tx *t = &s->tx;
	bool data = t->cur.type == E1000_TXD_DATA;

	t->in_pkt = true;
	t->size = 0;
	t->frames = 0;
	t->bad = false;
	t->vlan = false;
	/* Offload options come from the packet's first data descriptor. */
	t->tse = data && (t->cur.cmd & E1000_TXD_CMD_TSE);
	t->sum_needed = data ? t->cur.popts : 0;
	t->props = t->ctx[t->tse];
}

/* Whether [gpa, gpa+len) is guest RAM (inside one block). */
static bool e1000_in_ram(avm_ctx *ctx, uint64_t gpa, uint64_t len)
{
	uint64_t base, size;
	void *host;

	for (unsigned i = 0; !avm_ram_block(ctx, i, &base, &size, &host); i++)
		if (gpa >= base && len <= size && gpa - base <= size - len)
			return true;
	return false;
}

/*
 * A buffer that is not RAM (a device's MMIO, our own BAR included) is a
 * master abort: nothing is read. avm_dma_read() would turn it into a READ
 * message whose answer comes too late for this packet, while its side
 * effect (ICR and statistics clear on read) would still happen behind the
 * driver's back. Writes (RX buffers, write-backs) stay messages.
 */
static void e1000_tx_dma_in(struct e1000 *s, avm_ctx *ctx, uint32_t bytes)
{
	struct e1000_tx *t = &s->tx;
	uint64_t gpa = t->cur.addr + t->cur.done, token;

	if (!e1000_in_ram(ctx, gpa, bytes) ||
	    avm_dma_read(ctx, gpa, t->data + t->size, bytes, &token)) {
		s->dma_errors++;
		t->bad = true; /* the packet is dropped at EOP */
	}
	t->size += bytes;
	t->cur.done += bytes;
}

/* TSO: cut the buffer into HDRLEN+MSS segments. Every step must make
 * progress (CVE-2015-6815); a packet already past HDRLEN+MSS skips to EOP
 * (CVE-2021-20257). Returns false when the budget ran out mid-buffer. */
static bool e1000_tx_tso_copy(struct e1000 *s, avm_ctx *ctx, unsigned *budget)
{
	struct e1000_tx *t = &s->tx;
	uint32_t hdr = t->props.hdr_len;
	uint32_t msh = hdr + t->props.mss;

	while (t->cur.done < t->cur.len) {
		uint32_t bytes = t->cur.len - t->cur.done;

		if (!*budget)
			return false;
		if (t->size >= msh)
			break;
		if (bytes > msh - t->size)
			bytes = msh - t->size;
		if (bytes > E1000_TX_BUF_SIZE - t->size)
			bytes = E1000_TX_BUF_SIZE - t->size;
		if (!bytes)
			break;
		e1000_tx_dma_in(s, ctx, bytes);
		if (t->size >= hdr && t->size - bytes < hdr)
			memcpy(t->hdr, t->data, hdr); /* header complete */
		if (t->size == msh) {
			e1000_tx_segment(s, ctx);
			(*budget)--;
			memcpy(t->data, t->hdr, hdr);
			t->size = hdr;
		}
	}
	t->cur.done = t->cur.len;
	return true;
}

static void e1000_tx_copy(struct e1000 *s, avm_ctx *ctx)
{
	struct e1000_tx *t = &s->tx;
	uint32_t bytes = t->cur.len - t->cur.done;

	/* The packet buffer is 64 KiB: more is cut off, never overflowed. */
	if (bytes > E1000_TX_BUF_SIZE - t->size)
		bytes = E1000_TX_BUF_SIZE - t->size;
	if (bytes)
		e1000_tx_dma_in(s, ctx, bytes);
	t->cur.done = t->cur.len;
}

static void e1000_tx_eop(struct e1000 *s, avm_ctx *ctx)
{
	struct e1000_tx *t = &s->tx;

	/* Legacy checksum (IC): CSO/CSS of the last descriptor. */
	if (t->cur.type == E1000_TXD_LEGACY && (t->cur.cmd & E1000_TXD_CMD_IC))
		e1000_put_csum(t->data, t->size, t->cur.cso, t->cur.popts, 0);
	/* TSO: the rest of the payload; nothing if it ended on a segment
	 * boundary or never completed its header. */
	if (!t->tse || t->size > t->props.hdr_len ||
	    (!t->frames && t->size == t->props.hdr_len))
		e1000_tx_segment(s, ctx);
	if (t->tse)
		e1000_stat_inc(s, t->frames ? E1000_TSCTC : E1000_TSCTFC);
	t->in_pkt = false;
	t->size = 0;
}

/* Work on the current descriptor; false if the budget ran out. */
static bool e1000_tx_desc(struct e1000 *s, avm_ctx *ctx, unsigned *budget)
{
	struct e1000_tx *t = &s->tx;
	uint8_t cmd = t->cur.cmd;

	if (t->cur.type == E1000_TXD_CONTEXT) {
		e1000_tx_load_ctx(s);
		return true;
	}
	if (!t->in_pkt)
		e1000_tx_start_pkt(s);
	/* VLAN tag from the EOP descriptor (or any TSO one), if VME. */
	if ((cmd & E1000_TXD_CMD_VLE) &&
	    (e1000_get(s, E1000_CTRL) & E1000_CTRL_VME) &&
	    (t->tse || (cmd & E1000_TXD_CMD_EOP))) {
		t->vlan = true;
		t->vlan_tci = t->cur.special;
	}
	if (t->tse) {
		if (!e1000_tx_tso_copy(s, ctx, budget))
			return false;
	} else {
		e1000_tx_copy(s, ctx);
	}
	if (cmd & E1000_TXD_CMD_EOP)
		e1000_tx_eop(s, ctx);
	return true;
}

/*
 * The frame built last goes to the backend. It waits for its descriptor's
 * write-back: a NIC reports DD once it has the data, not once the frame is
 * on the wire, and a backend's send (nng's) can cost tens of us that a
 * driver polling DD need not wait for. Nothing stays held between messages.
 */
void e1000_tx_flush(struct e1000 *s, avm_ctx *ctx)
{
	if (!s->tx.out_held)
		return;
	s->tx.out_held = false;
	avm_send(ctx, E1000_PORT_NET, &s->tx.out);
}

/* Report status (DD) if asked, send the frame, then hand the descriptor
 * back; the interrupt comes last, after the frame. */
static void e1000_tx_complete(struct e1000 *s, avm_ctx *ctx)
{
	uint32_t n = e1000_ring_size(s, E1000_TDLEN);
	uint32_t head = e1000_get(s, E1000_TDH);
	uint64_t gpa = e1000_ring_base(s, E1000_TDBAL) + (uint64_t)head * 16;
	uint8_t cmd = s->tx.cur.cmd;
	uint8_t dd = E1000_TXD_STAT_DD;

	s->tx.have_cur = false;
	s->tx.progress = true;
	if ((cmd & (E1000_TXD_CMD_RS | E1000_TXD_CMD_RPS)) &&
	    avm_dma_write(ctx, gpa + 12, &dd, 1))
		s->dma_errors++;
	e1000_tx_flush(s, ctx);
	if (cmd & (E1000_TXD_CMD_RS | E1000_TXD_CMD_RPS))
		e1000_tx_irq(s, ctx, cmd & E1000_TXD_CMD_IDE);
	*e1000_reg(s, E1000_TDH) = head + 1 >= n ? 0 : head + 1;
}

/* One bounded chunk of the ring: at most E1000_TX_BUDGET descriptors or
 * TSO segments, then a continuation if work is left. */
void e1000_tx_chunk(struct e1000 *s, avm_ctx *ctx)
{
	unsigned budget = E1000_TX_BUDGET;

	s->tx.scheduled = false;
	while (budget && e1000_tx_ready(s)) {
		if (!s->tx.have_cur && e1000_tx_fetch(s, ctx))
			break;
		budget--;
		if (!e1000_tx_desc(s, ctx, &budget))
			break;
		e1000_tx_complete(s, ctx);
	}
	e1000_tx_flush(s, ctx); /* TSO segments of a chunk cut short */
	if (e1000_tx_ready(s)) {
		e1000_tx_schedule(s, ctx);
	} else if (s->tx.progress &&
		   e1000_get(s, E1000_TDH) == e1000_get(s, E1000_TDT)) {
		s->tx.progress = false;
		e1000_irq_raise(s, ctx, E1000_ICR_TXQE);
	}
}
