/* SPDX-License-Identifier: MIT */
/*
 * e1000 actor, isolated: receive. Buffers and descriptor status, frames
 * spanning descriptors, filtering, overrun, RXDMT0, RDTR/RADV, VLAN
 * stripping, oversized frames, MAC loopback.
 */
#include "e1000_test.h"

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static const uint8_t other_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void frame_into_buffer_with_status(void **state)
{
	avm_harness *h = *state;
	uint8_t f[100], buf[104];
	struct rx_desc d;

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 8, 6, 0);
	send_frame(h, f, sizeof(f));

	d = rx_desc_get(h, 0);
	assert_int_equal(d.len, 104); /* FCS kept (SECRC clear) */
	assert_int_equal(d.status, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP |
					   E1000_RXD_STAT_IXSM);
	assert_int_equal(d.errors, 0);
	avm_harness_peek(h, RX_BUF, buf, sizeof(buf));
	assert_memory_equal(buf, f, sizeof(f));
	assert_int_equal(buf[100] | buf[101] << 8 | buf[102] << 16 |
				 (uint32_t)buf[103] << 24,
			 ref_crc32(f, sizeof(f)));
	assert_int_equal(rd(h, E1000_RDH), 1);
	assert_int_equal(rx_desc_get(h, 1).status, 0);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_RXT0);
	assert_int_equal(rd(h, E1000_GPRC), 1);
}

static void dd_is_written_after_the_rest(void **state)
{
	avm_harness *h = *state;
	const struct avm_harness_event *ev;
	uint8_t f[64];

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 8, 6, E1000_RCTL_SECRC);
	avm_harness_clear(h);
	send_frame(h, f, sizeof(f));
	AVM_EXPECT_NEXT(h, .kind = AVM_DET_DMA,
			.fields = AVM_HM_WRITE | AVM_HM_GPA, .write = false,
			.gpa = RX_RING);
	AVM_EXPECT_NEXT(h, .kind = AVM_DET_DMA,
			.fields = AVM_HM_WRITE | AVM_HM_GPA | AVM_HM_LEN,
			.write = true, .gpa = RX_BUF, .len = 64);
	ev = AVM_EXPECT_NEXT(h, .kind = AVM_DET_DMA,
			     .fields = AVM_HM_WRITE | AVM_HM_GPA | AVM_HM_LEN,
			     .write = true, .gpa = RX_RING + 8, .len = 8);
	assert_int_equal(((uint8_t *)ev->data)[4] & E1000_RXD_STAT_DD, 0);
	assert_int_equal(get_le16(ev->data), 64); /* SECRC: no FCS */
	ev = AVM_EXPECT_NEXT(h, .kind = AVM_DET_DMA,
			     .fields = AVM_HM_WRITE | AVM_HM_GPA | AVM_HM_LEN,
			     .write = true, .gpa = RX_RING + 12, .len = 1);
	assert_true(((uint8_t *)ev->data)[0] & E1000_RXD_STAT_DD);
}

static void frame_spans_descriptors(void **state)
{
	avm_harness *h = *state;
	uint8_t f[600], buf[256];

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 8, 7, 3u << E1000_RCTL_BSIZE_SH | E1000_RCTL_SECRC);
	send_frame(h, f, sizeof(f)); /* 256 + 256 + 88 */
	for (uint32_t i = 0; i < 3; i++) {
		struct rx_desc d = rx_desc_get(h, i);
		uint32_t len = i < 2 ? 256 : 88;

		assert_int_equal(d.len, len);
		assert_int_equal(d.status & E1000_RXD_STAT_EOP,
				 i == 2 ? E1000_RXD_STAT_EOP : 0);
		assert_true(d.status & E1000_RXD_STAT_DD);
		avm_harness_peek(h, RX_BUF + RX_STRIDE * i, buf, len);
		assert_memory_equal(buf, f + 256 * i, len);
	}
	assert_int_equal(rd(h, E1000_RDH), 3);
}

static void buffer_sizes_bsize_bsex(void **state)
{
	avm_harness *h = *state;
	uint8_t f[9000];
	struct {
		uint32_t rctl, size;
	} c[] = {
		{ 0, 2048 },
		{ 1u << E1000_RCTL_BSIZE_SH, 1024 },
		{ 2u << E1000_RCTL_BSIZE_SH, 512 },
		{ 3u << E1000_RCTL_BSIZE_SH | E1000_RCTL_BSEX, 4096 },
		{ 2u << E1000_RCTL_BSIZE_SH | E1000_RCTL_BSEX, 8192 },
		{ 1u << E1000_RCTL_BSIZE_SH | E1000_RCTL_BSEX, 16384 },
	};

	make_frame(f, sizeof(f), our_mac);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		rx_setup(h, 32, 31,
			 c[i].rctl | E1000_RCTL_LPE | E1000_RCTL_SECRC);
		send_frame(h, f, sizeof(f));
		assert_int_equal(rx_desc_get(h, 0).len,
				 c[i].size < sizeof(f) ? c[i].size : sizeof(f));
	}
}

static void address_filtering(void **state)
{
	avm_harness *h = *state;
	uint8_t f[64], mc[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	uint32_t hash;

	rx_setup(h, 32, 31, 0);
	make_frame(f, sizeof(f), other_mac);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 0); /* not ours */
	make_frame(f, sizeof(f), bcast);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 0); /* broadcast needs BAM */
	make_frame(f, sizeof(f), mc);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 0); /* MTA empty */

	wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_BAM);
	make_frame(f, sizeof(f), bcast);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 1);
	/* MTA, MO=0: hash = bits 47:36 of the address. */
	hash = (mc[4] >> 4 | mc[5] << 4) & 0xfff;
	wr(h, E1000_MTA + 4 * (hash >> 5), 1u << (hash & 31));
	make_frame(f, sizeof(f), mc);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 2);
	/* A second exact address in RAR[3]. */
	wr(h, E1000_RAL(3), 0x00005452);
	wr(h, E1000_RAH(3), 0x0100 | E1000_RAH_AV);
	make_frame(f, sizeof(f), other_mac);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 3);
	/* Unicast promiscuous takes anything unicast. */
	f[5] = 0x77;
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 3);
	wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_UPE);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 4);
	/* Multicast promiscuous. */
	mc[5] = 0x01;
	make_frame(f, sizeof(f), mc);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 4);
	wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_MPE);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 5);
	assert_int_equal(rd(h, E1000_MPRC), 2);
	assert_int_equal(rd(h, E1000_BPRC), 1);
}

static void no_descriptors_is_an_overrun(void **state)
{
	avm_harness *h = *state;
	uint8_t f[64];

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 8, 0, 0); /* RDH == RDT: no buffers */
	wr(h, E1000_IMS, E1000_ICR_RXO);
	avm_harness_clear(h);
	send_frame(h, f, sizeof(f));
	AVM_EXPECT_IRQ(h, "irq", 1);
	AVM_EXPECT_NO(h, .kind = AVM_DET_DMA);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_RXO);
	assert_int_equal(rd(h, E1000_RNBC), 1);
	assert_int_equal(rd(h, E1000_MPC), 1);
	assert_int_equal(rd(h, E1000_GPRC), 0);
	/* A frame needing 2 descriptors when 1 is free: nothing written. */
	wr(h, E1000_RDT, 1);
	wr(h, E1000_RCTL, rd(h, E1000_RCTL) | 3u << E1000_RCTL_BSIZE_SH);
	make_frame(f, sizeof(f), our_mac);
	{
		uint8_t big[300];

		make_frame(big, sizeof(big), our_mac);
		send_frame(h, big, sizeof(big));
	}
	assert_int_equal(rd(h, E1000_RDH), 0);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_RXO);
}

static void rxdmt0_at_threshold(void **state)
{
	avm_harness *h = *state;
	uint8_t f[64];

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 16, 15, 0); /* RDMTS 1/2: <= 8 free descriptors */
	for (int i = 0; i < 6; i++)
		send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_RXT0); /* 9 free */
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_RXT0 | E1000_ICR_RXDMT0);
	/* 1/8 of 16 = 2 free. */
	wr(h, E1000_RCTL, rd(h, E1000_RCTL) | 2u << E1000_RCTL_RDMTS_SH);
	for (int i = 0; i < 5; i++)
		send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_RXT0);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_RXT0 | E1000_ICR_RXDMT0);
}

static void rdtr_restarts_radv_bounds(void **state)
{
	avm_harness *h = *state;
	uint8_t f[64];

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 16, 15, 0);
	wr(h, E1000_RDTR, 10); /* 10240 ns */
	wr(h, E1000_RADV, 25); /* 25600 ns */
	wr(h, E1000_IMS, E1000_ICR_RXT0);
	avm_harness_clear(h);
	send_frame(h, f, sizeof(f));
	AVM_EXPECT_TIMER_ARM(h, E1000_TIMER_RDTR, 10240, 0);
	AVM_EXPECT_TIMER_ARM(h, E1000_TIMER_RADV, 25600, 0);
	for (int i = 0; i < 3; i++) {
		avm_harness_advance(h, 8000);
		send_frame(h, f, sizeof(f)); /* packet timer restarts */
		AVM_EXPECT_NO_SEND(h, "irq");
	}
	avm_harness_advance(h, 25600 - 24000 - 1);
	AVM_EXPECT_NO_SEND(h, "irq");
	avm_harness_advance(h, 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_RXT0);
	AVM_EXPECT_IRQ(h, "irq", 0);
	/* Alone, RDTR fires after its own delay; FPD flushes at once. */
	send_frame(h, f, sizeof(f));
	avm_harness_advance(h, 10239);
	AVM_EXPECT_NO_SEND(h, "irq");
	avm_harness_advance(h, 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	rd(h, E1000_ICR);
	send_frame(h, f, sizeof(f));
	wr(h, E1000_RDTR, 10 | E1000_DELAY_FPD);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_RXT0);
}

static void vlan_stripped_and_filtered(void **state)
{
	avm_harness *h = *state;
	uint8_t f[80];
	struct rx_desc d;

	make_frame(f, sizeof(f), our_mac);
	f[12] = 0x81;
	f[13] = 0x00;
	f[14] = 0x20; /* PRI 1, VID 5 */
	f[15] = 0x05;
	rx_setup(h, 8, 7, E1000_RCTL_SECRC);
	wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_VME);
	send_frame(h, f, sizeof(f));
	d = rx_desc_get(h, 0);
	assert_int_equal(d.len, sizeof(f) - 4);
	assert_true(d.status & E1000_RXD_STAT_VP);
	assert_int_equal(d.special, 0x2005);
	/* VFE: VID 5 must be in the VLAN filter table. */
	wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_VFE);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 1);
	wr(h, E1000_VFTA, 1u << 5);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 2);
}

static void oversized_frames_need_lpe(void **state)
{
	avm_harness *h = *state;
	static uint8_t f[9018];

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 16, 15, E1000_RCTL_SECRC);
	send_frame(h, f, 1519);
	assert_int_equal(rd(h, E1000_RDH), 0);
	assert_int_equal(rd(h, E1000_ROC), 1);
	send_frame(h, f, 1518); /* the largest standard frame */
	assert_int_equal(rd(h, E1000_RDH), 1);
	/* With LPE a jumbo frame spans 2 KiB buffers, never beyond one. */
	wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_LPE);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 6);
	for (uint32_t i = 1; i < 5; i++)
		assert_int_equal(rx_desc_get(h, i).len, 2048);
	assert_int_equal(rx_desc_get(h, 5).len, sizeof(f) - 4 * 2048);
}

static void receiver_off_or_no_link_sees_nothing(void **state)
{
	avm_harness *h = *state;
	struct avm_msg down = { .kind = E1000_MSG_LINK, .user.value = 0 };
	uint8_t f[64];

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 8, 7, 0);
	wr(h, E1000_RCTL, 0);
	avm_harness_clear(h);
	send_frame(h, f, sizeof(f));
	AVM_EXPECT_NONE(h);
	wr(h, E1000_RCTL, E1000_RCTL_EN);
	avm_harness_send(h, &down);
	avm_harness_clear(h);
	send_frame(h, f, sizeof(f));
	AVM_EXPECT_NO(h, .kind = AVM_DET_DMA);
	assert_int_equal(rd(h, E1000_TPR), 0);
}

static void mac_loopback_delivers_to_ourselves(void **state)
{
	avm_harness *h = *state;
	uint8_t f[64], buf[64];

	make_frame(f, sizeof(f), our_mac);
	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	rx_setup(h, 8, 7, E1000_RCTL_LBM_MAC | E1000_RCTL_SECRC);
	tx_setup(h, 8);
	tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP, 0);
	avm_harness_clear(h);
	wr(h, E1000_TDT, 1);
	AVM_EXPECT_NO_SEND(h, "net");
	/* The looped frame is a message to ourselves, received later. */
	AVM_EXPECT(h, .kind = AVM_DET_SEND,
		   .fields = AVM_HM_DST | AVM_HM_MSG_KIND,
		   .dst = avm_harness_actor(h), .msg_kind = AVM_MSG_FRAME);
	assert_int_equal(rd(h, E1000_RDH), 1);
	avm_harness_peek(h, RX_BUF, buf, sizeof(buf));
	assert_memory_equal(buf, f, sizeof(f));
	/* Frames from the wire are not received in loopback. */
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(frame_into_buffer_with_status),
		TEST(dd_is_written_after_the_rest),
		TEST(frame_spans_descriptors),
		TEST(buffer_sizes_bsize_bsex),
		TEST(address_filtering),
		TEST(no_descriptors_is_an_overrun),
		TEST(rxdmt0_at_threshold),
		TEST(rdtr_restarts_radv_bounds),
		TEST(vlan_stripped_and_filtered),
		TEST(oversized_frames_need_lpe),
		TEST(receiver_off_or_no_link_sees_nothing),
		TEST(mac_loopback_delivers_to_ourselves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
