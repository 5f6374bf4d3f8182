/* SPDX-License-Identifier: MIT */
/*
 * TX offloads applied to each frame (or TSO segment) before it leaves:
 * TSO header fix-ups, IP/TCP/UDP checksum insertion, VLAN tag insertion,
 * short-frame padding, then out through "net" or back into our own receive
 * path in loopback. Every offset the guest gave is checked against the
 * frame: a bad context changes nothing outside it.
 */
#include <string.h>

#include "e1000_priv.h"

#define E1000_MIN_FRAME 60 /* without FCS */

/* Ones'-complement checksum of data[css..cse] stored at sloc (big-endian);
 * cse == 0 means "to the end of the frame". */
void e1000_put_csum(uint8_t *data, uint32_t n, uint32_t sloc, uint32_t css,
		    uint32_t cse)
{
	uint32_t sum = 0;

	if (cse && cse < n)
		n = cse + 1;
	if (css >= n || sloc + 2 > n)
		return;
	for (uint32_t i = css; i < n; i += 2)
		sum += (uint32_t)data[i] << 8 | (i + 1 < n ? data[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	/* A zero UDP checksum means "none": send 0xFFFF instead. */
	e1000_put_be16(data + sloc, sum ? (uint16_t)sum : 0xffff);
}

static void e1000_tso_ip(struct e1000 *s)
{
	struct e1000_tx *t = &s->tx;
	uint32_t css = t->props.ipcss;
	uint8_t *ip = t->data + css;

	if (css + 8 > t->size)
		return;
	if (t->props.tucmd & E1000_TXD_TUCMD_IP) {
		/* IPv4: total length and a new identification per segment. */
		e1000_put_be16(ip + 2, (uint16_t)(t->size - css));
		e1000_put_be16(ip + 4,
			       (uint16_t)(e1000_be16(ip + 4) + t->frames));
	} else if (t->size >= css + 40) {
		e1000_put_be16(ip + 4, (uint16_t)(t->size - css - 40));
	}
}

static void e1000_tso_l4(struct e1000 *s)
{
	struct e1000_tx *t = &s->tx;
	const struct e1000_tx_ctx *p = &t->props;
	uint32_t css = p->tucss, sofar = t->frames * p->mss, seq;
	uint8_t *l4 = t->data + css;

	if (css + 8 > t->size)
		return;
	if (!(p->tucmd & E1000_TXD_TUCMD_TCP)) {
		e1000_put_be16(l4 + 4, (uint16_t)(t->size - css)); /* UDP */
		return;
	}
	if (css + 14 > t->size)
		return;
	seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 |
	      (uint32_t)l4[6] << 8 | l4[7];
	seq += sofar;
	l4[4] = (uint8_t)(seq >> 24);
	l4[5] = (uint8_t)(seq >> 16);
	l4[6] = (uint8_t)(seq >> 8);
	l4[7] = (uint8_t)seq;
	/* PSH and FIN belong to the last segment only. */
	if (p->paylen > sofar && p->paylen - sofar > p->mss)
		l4[13] &= (uint8_t)~0x09;
}

/* The driver seeds the L4 checksum with the pseudo-header sum without
 * the length; each segment adds its own length. */
static void e1000_tso_pseudo_len(struct e1000 *s)
{
	struct e1000_tx *t = &s->tx;
	uint32_t sloc = t->props.tucso, css = t->props.tucss, sum;

	if (!(t->sum_needed & E1000_TXD_POPTS_TXSM) || sloc + 2 > t->size ||
	    css > t->size)
		return;
	sum = e1000_be16(t->data + sloc) + (t->size - css);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	e1000_put_be16(t->data + sloc, (uint16_t)sum);
}

static uint32_t e1000_insert_vlan(struct e1000 *s)
{
	struct e1000_tx *t = &s->tx;

	if (!t->vlan || t->size < 12)
		return t->size;
	memmove(t->data + 16, t->data + 12, t->size - 12);
	e1000_put_be16(t->data + 12, (uint16_t)e1000_get(s, E1000_VET));
	e1000_put_be16(t->data + 14, t->vlan_tci);
	return t->size + 4;
}

static void e1000_tx_count(struct e1000 *s, const uint8_t *f, uint32_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	e1000_stat_inc(s, E1000_GPTC);
	e1000_stat_inc(s, E1000_TPT);
	/* Octet counts include the 4-byte FCS the wire adds. */
	e1000_stat_add64(s, E1000_GOTCL, len + 4);
	e1000_stat_add64(s, E1000_TOTL, len + 4);
	e1000_stat_size_bin(s, E1000_PTC64, len + 4);
	if (!memcmp(f, bcast, 6))
		e1000_stat_inc(s, E1000_BPTC);
	else if (f[0] & 1)
		e1000_stat_inc(s, E1000_MPTC);
}

/* Hand a finished frame over: to the wire, or to ourselves in loopback
 * (as a message: a looped frame is received later, never recursively). */
static void e1000_tx_emit(struct e1000 *s, avm_ctx *ctx, uint32_t len)
{
	struct avm_msg m = { .kind = AVM_MSG_FRAME };
	uint8_t *f = s->tx.data;

	if ((e1000_get(s, E1000_TCTL) & E1000_TCTL_PSP) &&
	    len < E1000_MIN_FRAME) {
		memset(f + len, 0, E1000_MIN_FRAME - len);
		len = E1000_MIN_FRAME;
	}
	if (len < 14 || avm_msg_set_payload(&m, f, len)) {
		s->tx_dropped++; /* runt, or larger than a message can carry */
		return;
	}
	if (!e1000_loopback(s) && !e1000_link_up(s)) {
		avm_msg_release(&m); /* no carrier: the frame is lost */
		s->tx_dropped++;
		return;
	}
	e1000_tx_count(s, f, len);
	if (e1000_loopback(s)) {
		avm_send_to(ctx, avm_self(ctx), &m);
		return;
	}
	/* Out after the descriptor's DD (e1000_tx_flush), frames in order. */
	e1000_tx_flush(s, ctx);
	s->tx.out = m;
	s->tx.out_held = true;
}

/* One frame out of the packet buffer: a whole packet, or a TSO segment. */
void e1000_tx_segment(struct e1000 *s, avm_ctx *ctx)
{
	struct e1000_tx *t = &s->tx;
	const struct e1000_tx_ctx *p = &t->props;

	if (t->bad) {
		s->tx_dropped++;
		return;
	}
	if (t->tse) {
		e1000_tso_ip(s);
		e1000_tso_l4(s);
		e1000_tso_pseudo_len(s);
		t->frames++;
	}
	if (t->sum_needed & E1000_TXD_POPTS_TXSM)
		e1000_put_csum(t->data, t->size, p->tucso, p->tucss, p->tucse);
	if (t->sum_needed & E1000_TXD_POPTS_IXSM)
		e1000_put_csum(t->data, t->size, p->ipcso, p->ipcss, p->ipcse);
	e1000_tx_emit(s, ctx, e1000_insert_vlan(s));
}
