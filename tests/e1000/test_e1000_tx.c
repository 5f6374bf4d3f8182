/* SPDX-License-Identifier: MIT */
/*
 * e1000 actor, isolated: transmit. Legacy frames, write-back, checksum
 * offload, TSO segments (checked independently here), VLAN insertion,
 * bounded chunks, TIDV/TADV moderation, statistics.
 */
#include "e1000_test.h"

#define HDR_LEN 54 /* Ethernet + IPv4 + TCP, no options */

static const uint8_t peer_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t src_ip[4] = { 10, 0, 0, 1 };
static const uint8_t dst_ip[4] = { 10, 0, 0, 2 };

/* An Ethernet + IPv4 + TCP/UDP packet with @pay payload bytes; the L4
 * checksum field holds the pseudo-header sum as a driver leaves it
 * (@with_len: including the L4 length, as for plain checksum offload). */
static size_t make_ip_packet(uint8_t *p, uint8_t proto, size_t pay,
			     bool with_len)
{
	size_t l4hdr = proto == 6 ? 20 : 8, l4len = l4hdr + pay;
	uint8_t *ip = p + 14, *l4 = ip + 20;
	uint32_t ph;

	make_frame(p, 14 + 20 + l4len, peer_mac);
	memset(ip, 0, 20 + l4hdr);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4len) >> 8);
	ip[3] = (uint8_t)(20 + l4len);
	ip[4] = 0x10; /* id 0x1000 */
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src_ip, 4);
	memcpy(ip + 16, dst_ip, 4);
	l4[0] = 0x03; /* port 1000 -> 2000 */
	l4[1] = 0xe8;
	l4[2] = 0x07;
	l4[3] = 0xd0;
	if (proto == 6) {
		l4[4] = 0x01; /* seq 0x01020304 */
		l4[5] = 0x02;
		l4[6] = 0x03;
		l4[7] = 0x04;
		l4[12] = 0x50;
		l4[13] = 0x19; /* FIN PSH ACK */
		l4[14] = 0xff;
	} else {
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
	}
	ph = csum_add(0, ip + 12, 8) + proto + (with_len ? l4len : 0);
	ph = csum_add(ph, NULL, 0);
	l4[proto == 6 ? 16 : 6] = (uint8_t)(ph >> 8);
	l4[proto == 6 ? 17 : 7] = (uint8_t)ph;
	return 14 + 20 + l4len;
}

/* Both checksums of a frame verified from scratch. */
static void check_ip_l4(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	size_t tot = get_be16(ip + 2), l4len = tot - 20;
	uint32_t sum;

	assert_int_equal(tot, len - 14);
	assert_int_equal(csum_add(0, ip, 20), 0xffff);
	sum = csum_add(0, ip + 12, 8) + ip[9] + (uint32_t)l4len;
	sum = csum_add(sum, ip + 20, l4len);
	assert_int_equal(sum, 0xffff);
}

static void one_legacy_frame_in_two_buffers(void **state)
{
	avm_harness *h = *state;
	const struct avm_harness_event *ev;
	uint8_t f[100];

	make_frame(f, sizeof(f), peer_mac);
	avm_harness_poke(h, TX_BUF, f, 40);
	avm_harness_poke(h, TX_BUF + 0x1000, f + 40, 60);
	tx_setup(h, 8);
	tx_legacy(h, 0, TX_BUF, 40, E1000_TXD_CMD_IFCS, 0);
	tx_legacy(h, 1, TX_BUF + 0x1000, 60,
		  E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS, 0);
	avm_harness_clear(h);
	wr(h, E1000_TDT, 2);

	ev = expect_frame(h);
	assert_int_equal(ev->len, sizeof(f));
	assert_memory_equal(ev->data, f, sizeof(f)); /* wire == buffers */
	AVM_EXPECT_NO_SEND(h, "net");
	/* DD in the status byte of the RS descriptor only. */
	AVM_EXPECT_DMA_WRITE(h, TX_RING + 16 + 12, 1);
	assert_int_equal(tx_status(h, 1), E1000_TXD_STAT_DD);
	assert_int_equal(tx_status(h, 0), 0);
	assert_int_equal(rd(h, E1000_TDH), 2);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_TXDW | E1000_ICR_TXQE);
}

static void short_frame_padded_with_psp(void **state)
{
	avm_harness *h = *state;
	const struct avm_harness_event *ev;
	uint8_t f[42], want[60] = { 0 };

	make_frame(f, sizeof(f), peer_mac);
	memcpy(want, f, sizeof(f));
	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP, 0);
	wr(h, E1000_TDT, 1);
	ev = expect_frame(h);
	assert_int_equal(ev->len, 60);
	assert_memory_equal(ev->data, want, 60);
}

static void tx_needs_tctl_en(void **state)
{
	avm_harness *h = *state;
	uint8_t f[60] = { 0 };

	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	wr(h, E1000_TCTL, E1000_TCTL_PSP);
	tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP, 0);
	avm_harness_clear(h);
	wr(h, E1000_TDT, 1);
	AVM_EXPECT_NONE(h);		  /* no DMA, no frame */
	wr(h, E1000_TCTL, E1000_TCTL_EN); /* enabling starts it */
	expect_frame(h);
	assert_int_equal(rd(h, E1000_TDH), 1);
}

static void checksum_offload_tcp_and_udp(void **state)
{
	avm_harness *h = *state;
	const struct avm_harness_event *ev;
	uint8_t tcp[154], udp[142];
	struct ctx_desc c = { .ipcss = 14,
			      .ipcso = 24,
			      .ipcse = 33,
			      .tucss = 34,
			      .tucso = 50,
			      .tucmd = E1000_TXD_TUCMD_TCP |
				       E1000_TXD_TUCMD_IP };
	uint8_t opts = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM;

	assert_int_equal(make_ip_packet(tcp, 6, 100, true), sizeof(tcp));
	assert_int_equal(make_ip_packet(udp, 17, 100, true), sizeof(udp));
	avm_harness_poke(h, TX_BUF, tcp, sizeof(tcp));
	avm_harness_poke(h, TX_BUF + 0x1000, udp, sizeof(udp));
	tx_setup(h, 8);
	tx_context(h, 0, &c);
	tx_data(h, 1, TX_BUF, sizeof(tcp), E1000_TXD_CMD_EOP, opts);
	c.tucso = 40;
	c.tucmd = E1000_TXD_TUCMD_IP; /* UDP */
	tx_context(h, 2, &c);
	tx_data(h, 3, TX_BUF + 0x1000, sizeof(udp), E1000_TXD_CMD_EOP, opts);
	wr(h, E1000_TDT, 4);

	ev = expect_frame(h);
	assert_int_equal(ev->len, sizeof(tcp));
	check_ip_l4(ev->data, ev->len);
	/* Only the two checksum fields differ from the buffer. */
	assert_memory_equal((uint8_t *)ev->data + 54, tcp + 54, 100);
	ev = expect_frame(h);
	check_ip_l4(ev->data, ev->len);
	assert_int_not_equal(get_be16((uint8_t *)ev->data + 40), 0);
}

static void tso_segments_are_valid_packets(void **state)
{
	avm_harness *h = *state;
	uint8_t pkt[HDR_LEN + 2500];
	struct ctx_desc c = { .ipcss = 14,
			      .ipcso = 24,
			      .ipcse = 33,
			      .tucss = 34,
			      .tucso = 50,
			      .paylen = 2500,
			      .tucmd = E1000_TXD_TUCMD_TCP |
				       E1000_TXD_TUCMD_IP | E1000_TXD_CMD_TSE,
			      .hdr_len = HDR_LEN,
			      .mss = 1000 };
	uint8_t opts = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM;
	uint8_t cmd = E1000_TXD_CMD_TSE;

	make_ip_packet(pkt, 6, 2500, false);
	pkt[16] = pkt[17] = 0; /* IP total length: the device sets it */
	avm_harness_poke(h, TX_BUF, pkt, sizeof(pkt));
	tx_setup(h, 8);
	tx_context(h, 0, &c);
	/* Header alone, then the payload across two buffers. */
	tx_data(h, 1, TX_BUF, HDR_LEN, cmd, opts);
	tx_data(h, 2, TX_BUF + HDR_LEN, 1200, cmd, opts);
	tx_data(h, 3, TX_BUF + HDR_LEN + 1200, 1300,
		cmd | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, opts);
	wr(h, E1000_TDT, 4);

	for (uint32_t i = 0; i < 3; i++) {
		const struct avm_harness_event *ev = expect_frame(h);
		const uint8_t *f = ev->data;
		uint32_t seg = i < 2 ? 1000 : 500;

		assert_int_equal(ev->len, HDR_LEN + seg);
		check_ip_l4(f, ev->len);
		assert_int_equal(get_be16(f + 18), 0x1000 + i); /* IP id */
		assert_int_equal(get_be32(f + 38), 0x01020304 + 1000 * i);
		assert_int_equal(f[47], i < 2 ? 0x10 : 0x19); /* PSH|FIN last */
		assert_memory_equal(f + HDR_LEN, pkt + HDR_LEN + 1000 * i, seg);
		assert_memory_equal(f, pkt, 16); /* MACs, type, IP vers */
	}
	AVM_EXPECT_NO_SEND(h, "net");
	assert_int_equal(tx_status(h, 3), E1000_TXD_STAT_DD);
	assert_int_equal(rd(h, E1000_TSCTC), 1);
	assert_int_equal(rd(h, E1000_GPTC), 3);
}

static void vlan_tag_inserted(void **state)
{
	avm_harness *h = *state;
	const struct avm_harness_event *ev;
	uint8_t f[80];
	const uint8_t *o;

	make_frame(f, sizeof(f), peer_mac);
	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	tx_legacy(h, 0, TX_BUF, sizeof(f),
		  E1000_TXD_CMD_EOP | E1000_TXD_CMD_VLE, 0x2123);
	/* Without CTRL.VME the tag is not inserted. */
	wr(h, E1000_TDT, 1);
	ev = expect_frame(h);
	assert_int_equal(ev->len, sizeof(f));

	wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_VME);
	tx_legacy(h, 1, TX_BUF, sizeof(f),
		  E1000_TXD_CMD_EOP | E1000_TXD_CMD_VLE, 0x2123);
	wr(h, E1000_TDT, 2);
	ev = expect_frame(h);
	o = ev->data;
	assert_int_equal(ev->len, sizeof(f) + 4);
	assert_memory_equal(o, f, 12);
	assert_memory_equal(o + 12, "\x81\x00\x21\x23", 4);
	assert_memory_equal(o + 16, f + 12, sizeof(f) - 12);
}

static void legacy_ic_checksum(void **state)
{
	avm_harness *h = *state;
	const struct avm_harness_event *ev;
	uint8_t f[100];

	make_frame(f, sizeof(f), peer_mac);
	f[20] = f[21] = 0;
	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	/* CSO 20, CSS 22: sum of bytes 22.. stored at 20. */
	tx_desc_raw(h, 0, TX_BUF,
		    sizeof(f) | 20u << 16 |
			    (uint32_t)(E1000_TXD_CMD_EOP | E1000_TXD_CMD_IC)
				    << 24,
		    22u << 8);
	wr(h, E1000_TDT, 1);
	ev = expect_frame(h);
	assert_int_equal(csum_add(get_be16((uint8_t *)ev->data + 20),
				  (uint8_t *)ev->data + 22, sizeof(f) - 22),
			 0xffff);
}

static unsigned count_continuations(avm_harness *h)
{
	return avm_harness_count(h, &(const struct avm_harness_match){
					    .kind = AVM_DET_SEND,
					    .fields = AVM_HM_MSG_KIND,
					    .msg_kind = AVM_MSG_CONTINUE });
}

/* A guest read is served between chunks of a long ring. */
static void reads_are_served_between_chunks(void **state)
{
	avm_harness *h = *state;
	uint32_t seen[8], n_seen = 0, last = ~0u;
	uint8_t f[60] = { 0 };

	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 64);
	for (uint32_t i = 0; i < 40; i++)
		tx_legacy(h, i, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP, 0);
	avm_harness_clear(h);
	avm_harness_set_autorun(h, false);
	wr(h, E1000_TDT, 40);
	do {
		uint32_t head = rd(h, E1000_TDH);

		if (head != last && n_seen < 8)
			seen[n_seen++] = head;
		last = head;
	} while (avm_harness_step(h) == 1);
	avm_harness_set_autorun(h, true);
	/* The doorbell walked the first chunk, every continuation one more:
	 * each moved TDH by the budget, and reads saw each step. */
	assert_int_equal(n_seen, 3);
	assert_int_equal(seen[0], E1000_TX_BUDGET);
	assert_int_equal(seen[1], 2 * E1000_TX_BUDGET);
	assert_int_equal(seen[2], 40);
	assert_int_equal(count_continuations(h), 2);
}

/* An idle ring: the TDT write itself sends the frame and writes DD back,
 * with no second message (on the fast path, no thread wake-up). DD comes
 * before the frame goes to the backend, and the interrupt after it. */
static void doorbell_alone_writes_dd(void **state)
{
	avm_harness *h = *state;
	const struct avm_harness_event *dd, *frame, *irq;
	uint8_t f[60] = { 0 };

	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	wr(h, E1000_IMS, E1000_ICR_TXDW);
	tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS,
		  0);
	avm_harness_clear(h);
	avm_harness_set_autorun(h, false);
	wr(h, E1000_TDT, 1);
	assert_int_equal(avm_harness_pending(h), 1);
	assert_int_equal(avm_harness_step(h), 1); /* the write, only */
	/* Before anything else is delivered: DD is there, nothing more for
	 * the NIC to do (what is pending goes to its peers). */
	assert_int_equal(tx_status(h, 0), E1000_TXD_STAT_DD);
	assert_int_equal(count_continuations(h), 0);
	avm_harness_set_autorun(h, true);
	avm_harness_run(h);
	dd = AVM_EXPECT_DMA_WRITE(h, TX_RING + 12, 1);
	frame = expect_frame(h);
	irq = AVM_EXPECT_IRQ(h, "irq", 1);
	assert_true(dd->seq < frame->seq);
	assert_true(frame->seq < irq->seq);
	assert_int_equal(count_continuations(h), 0);
	assert_int_equal(rd(h, E1000_TDH), 1);
}

static void tidv_restarts_and_tadv_bounds(void **state)
{
	avm_harness *h = *state;
	uint8_t f[60] = { 0 };
	uint8_t cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | E1000_TXD_CMD_IDE;

	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	wr(h, E1000_TIDV, 8);  /* 8192 ns */
	wr(h, E1000_TADV, 20); /* 20480 ns */
	wr(h, E1000_IMS, E1000_ICR_TXDW);
	for (uint32_t i = 0; i < 4; i++)
		tx_legacy(h, i, TX_BUF, sizeof(f), cmd, 0);
	avm_harness_clear(h);
	wr(h, E1000_TDT, 1);
	AVM_EXPECT_TIMER_ARM(h, E1000_TIMER_TIDV, 8192, 0);
	AVM_EXPECT_TIMER_ARM(h, E1000_TIMER_TADV, 20480, 0);
	for (uint32_t i = 2; i <= 4; i++) {
		avm_harness_advance(h, 5000);
		wr(h, E1000_TDT, i); /* restarts TIDV, not TADV */
		AVM_EXPECT_NO_SEND(h, "irq");
	}
	avm_harness_advance(h, 20480 - 15000 - 1);
	AVM_EXPECT_NO_SEND(h, "irq");
	avm_harness_advance(h, 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_true(rd(h, E1000_ICR) & E1000_ICR_TXDW);
}

static void tidv_fires_alone_and_fpd_flushes(void **state)
{
	avm_harness *h = *state;
	uint8_t f[60] = { 0 };
	uint8_t cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | E1000_TXD_CMD_IDE;

	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	wr(h, E1000_TIDV, 8);
	wr(h, E1000_IMS, E1000_ICR_TXDW);
	tx_legacy(h, 0, TX_BUF, sizeof(f), cmd, 0);
	tx_legacy(h, 1, TX_BUF, sizeof(f), cmd, 0);
	wr(h, E1000_TDT, 1);
	avm_harness_advance(h, 8191);
	AVM_EXPECT_NO_SEND(h, "irq");
	avm_harness_advance(h, 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	rd(h, E1000_ICR);
	AVM_EXPECT_IRQ(h, "irq", 0);
	/* FPD: the pending delayed interrupt is delivered at once. */
	wr(h, E1000_TDT, 2);
	AVM_EXPECT_NO_SEND(h, "irq");
	wr(h, E1000_TIDV, 8 | E1000_DELAY_FPD);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(rd(h, E1000_TIDV), 8); /* FPD reads 0 */
}

static void tx_statistics(void **state)
{
	avm_harness *h = *state;
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[200];

	make_frame(f, sizeof(f), bc);
	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP, 0);
	tx_legacy(h, 1, TX_BUF, 100, E1000_TXD_CMD_EOP, 0);
	wr(h, E1000_TDT, 2);
	assert_int_equal(rd(h, E1000_GPTC), 2);
	assert_int_equal(rd(h, E1000_GPTC), 0);
	assert_int_equal(rd(h, E1000_TPT), 2);
	assert_int_equal(rd(h, E1000_BPTC), 2);
	assert_int_equal(rd(h, E1000_GOTCL), 308); /* FCS counted */
	assert_int_equal(rd(h, E1000_GOTCH), 0);
	assert_int_equal(rd(h, E1000_GOTCL), 0);
	assert_int_equal(rd(h, E1000_PTC64 + 4), 1); /* 104: 65-127 */
	assert_int_equal(rd(h, E1000_PTC64 + 8), 1); /* 204: 128-255 */
}

static void no_carrier_drops_frames(void **state)
{
	avm_harness *h = *state;
	struct avm_msg down = { .kind = E1000_MSG_LINK, .user.value = 0 };
	uint8_t f[60] = { 0 };

	avm_harness_send(h, &down);
	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS,
		  0);
	wr(h, E1000_TDT, 1);
	AVM_EXPECT_NO_SEND(h, "net");
	assert_int_equal(tx_status(h, 0), E1000_TXD_STAT_DD); /* done */
	assert_int_equal(rd(h, E1000_GPTC), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(one_legacy_frame_in_two_buffers),
		TEST(short_frame_padded_with_psp),
		TEST(tx_needs_tctl_en),
		TEST(checksum_offload_tcp_and_udp),
		TEST(tso_segments_are_valid_packets),
		TEST(vlan_tag_inserted),
		TEST(legacy_ic_checksum),
		TEST(reads_are_served_between_chunks),
		TEST(doorbell_alone_writes_dd),
		TEST(tidv_restarts_and_tadv_bounds),
		TEST(tidv_fires_alone_and_fpd_flushes),
		TEST(tx_statistics),
		TEST(no_carrier_drops_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
