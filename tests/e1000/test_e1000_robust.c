/* SPDX-License-Identifier: MIT */
/*
 * e1000 actor, isolated: the reference's CVE table. Every trigger must end
 * in defined behaviour, with no hang (the harness's step limit would turn
 * one into -ELOOP) and no access outside guest RAM.
 */
#include "e1000_test.h"

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

static unsigned count_frames(avm_harness *h)
{
	return avm_harness_count(
		h, &(const struct avm_harness_match){ .kind = AVM_DET_SEND,
						      .fields = AVM_HM_PORT,
						      .port = "net" });
}

static uint64_t bar0(avm_harness *h)
{
	uint64_t base = 0;

	assert_int_equal(avm_harness_region_base(h, E1000_REGION_MMIO, &base),
			 0);
	return base;
}

/* CVE-2015-6815: a TSO context with MSS 0 must not loop. */
static void tso_zero_mss_makes_progress(void **state)
{
	avm_harness *h = *state;
	struct ctx_desc c = { .tucmd = E1000_TXD_TUCMD_TCP |
				       E1000_TXD_TUCMD_IP | E1000_TXD_CMD_TSE,
			      .hdr_len = 54,
			      .mss = 0,
			      .paylen = 4000 };
	uint8_t buf[4096] = { 0 };

	avm_harness_poke(h, TX_BUF, buf, sizeof(buf));
	tx_setup(h, 8);
	tx_context(h, 0, &c);
	tx_data(h, 1, TX_BUF, 4000,
		E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
	/* And with HDRLEN 0 as well: HDRLEN+MSS = 0. */
	c.hdr_len = 0;
	tx_context(h, 2, &c);
	tx_data(h, 3, TX_BUF, 4000,
		E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
	wr(h, E1000_TDT, 4);
	assert_int_equal(rd(h, E1000_TDH), 4);
	assert_int_equal(tx_status(h, 1), E1000_TXD_STAT_DD);
	assert_int_equal(tx_status(h, 3), E1000_TXD_STAT_DD);
	assert_true(count_frames(h) <= 3); /* header-only segments at most */
}

/* CVE-2021-20257: a TSO data descriptor chained after a legacy one, and
 * a context changed in the middle of a TSO packet. */
static void evil_descriptor_chains_end(void **state)
{
	avm_harness *h = *state;
	struct ctx_desc c = { .tucmd = E1000_TXD_TUCMD_TCP |
				       E1000_TXD_TUCMD_IP | E1000_TXD_CMD_TSE,
			      .hdr_len = 54,
			      .mss = 100,
			      .paylen = 1000 };
	uint8_t buf[2048] = { 0 };

	avm_harness_poke(h, TX_BUF, buf, sizeof(buf));
	tx_setup(h, 16);
	tx_context(h, 0, &c);
	tx_legacy(h, 1, TX_BUF, 1000, 0, 0); /* no EOP */
	tx_data(h, 2, TX_BUF, 1000, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, 0);
	tx_data(h, 3, TX_BUF, 500, E1000_TXD_CMD_TSE, 0);
	c.hdr_len = 10;
	c.mss = 1;
	tx_context(h, 4, &c); /* mid-packet: the packet keeps its context */
	tx_data(h, 5, TX_BUF, 500,
		E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
	wr(h, E1000_TDT, 6);
	assert_int_equal(rd(h, E1000_TDH), 6);
	assert_int_equal(tx_status(h, 5), E1000_TXD_STAT_DD);
	/* 1 legacy+data packet (2000 bytes, not TSO), then 946 bytes of
	 * TSO payload in 100-byte segments. */
	assert_int_equal(count_frames(h), 1 + 10);
}

/* A TSO descriptor of 200 one-byte segments is cut into chunks. */
static void huge_tso_descriptor_is_chunked(void **state)
{
	avm_harness *h = *state;
	struct ctx_desc c = { .tucmd = E1000_TXD_TUCMD_TCP |
				       E1000_TXD_TUCMD_IP | E1000_TXD_CMD_TSE,
			      .hdr_len = 54,
			      .mss = 1,
			      .paylen = 200 };
	unsigned conts;

	tx_setup(h, 8);
	tx_context(h, 0, &c);
	tx_data(h, 1, TX_BUF, 54 + 200,
		E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
	avm_harness_clear(h);
	wr(h, E1000_TDT, 2);
	assert_int_equal(count_frames(h), 200);
	conts = avm_harness_count(h, &(const struct avm_harness_match){
					     .kind = AVM_DET_SEND,
					     .fields = AVM_HM_MSG_KIND,
					     .msg_kind = AVM_MSG_CONTINUE });
	/* No handler sent more than the budget: 200 / 16 chunks. */
	assert_true(conts >= 200 / E1000_TX_BUDGET);
	assert_int_equal(tx_status(h, 1), E1000_TXD_STAT_DD);
}

/* CVE-2016-1981: heads and tails beyond the ring, zero-length rings. */
static void heads_beyond_ring_and_empty_rings(void **state)
{
	avm_harness *h = *state;
	uint8_t f[64];

	tx_setup(h, 8);
	wr(h, E1000_TDH, 100);
	avm_harness_clear(h);
	wr(h, E1000_TDT, 3);
	AVM_EXPECT_NONE(h); /* nothing fetched, nothing sent */
	wr(h, E1000_TDH, 0);
	wr(h, E1000_TDT, 9); /* tail beyond the ring */
	AVM_EXPECT_NONE(h);
	wr(h, E1000_TDLEN, 0);
	wr(h, E1000_TDT, 1);
	AVM_EXPECT_NONE(h);
	assert_int_equal(rd(h, E1000_TDH), 0);

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 8, 4, 0);
	wr(h, E1000_RDH, 50);
	avm_harness_clear(h);
	send_frame(h, f, sizeof(f));
	AVM_EXPECT_NO(h, .kind = AVM_DET_DMA);
	assert_int_equal(rd(h, E1000_ICR) & E1000_ICR_RXO, E1000_ICR_RXO);
	wr(h, E1000_RDH, 0);
	wr(h, E1000_RDLEN, 0);
	send_frame(h, f, sizeof(f));
	AVM_EXPECT_NO(h, .kind = AVM_DET_DMA);
	assert_int_equal(rd(h, E1000_RNBC), 2);
	assert_int_equal(rd(h, E1000_MPC), 2);
}

/* CVE-2012-6075: jumbo frames without LPE never reach the buffers, and
 * with SBP they are split, never written past BSIZE. */
static void oversized_frame_never_overflows(void **state)
{
	avm_harness *h = *state;
	static uint8_t f[AVM_MSG_MAX_PAYLOAD];
	uint8_t guard[16];

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 32, 31, 3u << E1000_RCTL_BSIZE_SH | E1000_RCTL_SECRC);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_RDH), 0);
	assert_int_equal(rd(h, E1000_ROC), 1);
	wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_LPE);
	send_frame(h, f, sizeof(f)); /* > 16380 even for LPE */
	assert_int_equal(rd(h, E1000_RDH), 0);
	wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_SBP);
	send_frame(h, f, 2000); /* 8 descriptors of 256 bytes */
	assert_int_equal(rd(h, E1000_RDH), 8);
	/* Bytes after each 256-byte buffer are untouched. */
	avm_harness_peek(h, RX_BUF + 256, guard, sizeof(guard));
	for (unsigned i = 0; i < sizeof(guard); i++)
		assert_int_equal(guard[i], 0);
}

/* DMA aimed at our own registers becomes WRITE messages to ourselves,
 * handled after the current one: no recursion by construction. */
static void rx_dma_onto_own_registers_is_a_message(void **state)
{
	avm_harness *h = *state;
	uint8_t d[16] = { 0 }, f[64];

	make_frame(f, sizeof(f), our_mac);
	/* The buffer is RDTR and what follows it: bytes 0-3 make RDTR. */
	f[0] = 0x34;
	f[1] = 0x12;
	f[2] = 0;
	f[3] = 0;
	rx_setup(h, 8, 4, E1000_RCTL_UPE | E1000_RCTL_SECRC);
	put_le64(d, bar0(h) + E1000_RDTR);
	avm_harness_poke(h, RX_RING, d, sizeof(d));
	avm_harness_clear(h);
	send_frame(h, f, sizeof(f));
	AVM_EXPECT(h, .kind = AVM_DET_DMA,
		   .fields = AVM_HM_WRITE | AVM_HM_GPA | AVM_HM_STATUS,
		   .write = true, .gpa = bar0(h) + E1000_RDTR, .status = 0);
	assert_int_equal(rd(h, E1000_RDTR), 0x1234);
	assert_int_equal(rd(h, E1000_RDH), 1);
	assert_true(rx_desc_get(h, 0).status & E1000_RXD_STAT_DD);
}

/* Descriptors or buffers outside RAM: counted, ring stopped, no crash. */
static void dma_faults_stop_the_ring(void **state)
{
	avm_harness *h = *state;
	uint8_t f[64] = { 0 };

	tx_setup(h, 8);
	wr(h, E1000_TDBAL, 0x80000000u); /* nothing there */
	avm_harness_clear(h);
	wr(h, E1000_TDT, 2);
	AVM_EXPECT(h, .kind = AVM_DET_DMA, .fields = AVM_HM_STATUS,
		   .status = -EFAULT);
	AVM_EXPECT_NO_SEND(h, "net");
	assert_int_equal(rd(h, E1000_TDH), 0);
	/* A ring inside our own BAR: a 16-byte read there is refused. */
	wr(h, E1000_TDBAL, (uint32_t)bar0(h));
	wr(h, E1000_TDT, 2);
	assert_int_equal(rd(h, E1000_TDH), 0);
	/* A buffer that faults: the packet is dropped, the ring goes on. */
	wr(h, E1000_TDBAL, (uint32_t)TX_RING);
	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_legacy(h, 0, 0x90000000ull, 64, E1000_TXD_CMD_EOP, 0);
	tx_legacy(h, 1, TX_BUF, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
	avm_harness_clear(h);
	wr(h, E1000_TDT, 2);
	assert_int_equal(count_frames(h), 1);
	assert_int_equal(rd(h, E1000_TDH), 2);
	/* RX descriptor ring outside RAM: frame dropped. */
	rx_setup(h, 8, 4, E1000_RCTL_UPE);
	wr(h, E1000_RDBAL, 0x80000000u);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_GPRC), 0);
}

/* CVE-2021-20257/3416: PHY loopback whose RX DMA rewrites our own TDT.
 * Each step is a message; the chain ends when the rings are used up. */
static void loopback_into_own_tdt_terminates(void **state)
{
	avm_harness *h = *state;
	uint8_t f[64], d[16] = { 0 };

	make_frame(f, sizeof(f), our_mac);
	f[0] = 0x08; /* TDT := 8 when it lands on TDT (ring of 8 -> bad) */
	f[1] = 0;
	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 16);
	for (uint32_t i = 0; i < 16; i++)
		tx_legacy(h, i, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP, 0);
	rx_setup(h, 8, 7, E1000_RCTL_UPE | E1000_RCTL_SECRC);
	for (uint32_t i = 0; i < 8; i++) {
		put_le64(d, bar0(h) + E1000_TDT);
		avm_harness_poke(h, RX_RING + 16 * i, d, sizeof(d));
	}
	phy_wr(h, E1000_PHY_CTRL, 0x1140 | E1000_PHY_CTRL_LOOPBACK);
	wr(h, E1000_TDT, 1);
	/* It ran to idle (autorun) within the step limit: no hang. */
	assert_int_equal(avm_harness_pending(h), 0);
	AVM_EXPECT_NO_SEND(h, "net");
	assert_true(rd(h, E1000_RDH) >= 1);
	assert_int_equal(rd(h, E1000_TDT), 8); /* rewritten by the DMA */
}

/* CVE-2016-1981 family, the tails: RDT and TDT at or past the ring's end
 * (and a ring shrunk under valid ones) make the ring unusable. RX drops
 * the frame as an overrun (RXO, RNBC, MPC), TX does nothing; neither loops
 * nor touches memory. */
static void tails_beyond_ring_are_unusable(void **state)
{
	avm_harness *h = *state;
	static const uint32_t tails[] = { 8, 9, 0xffff };
	uint8_t f[64];

	make_frame(f, sizeof(f), our_mac);
	rx_setup(h, 8, 4, 0);
	for (unsigned i = 0; i < 3; i++) {
		wr(h, E1000_RDT, tails[i]);
		avm_harness_clear(h);
		send_frame(h, f, sizeof(f));
		AVM_EXPECT_NO(h, .kind = AVM_DET_DMA);
		assert_int_equal(rd(h, E1000_RDH), 0);
		assert_int_equal(rd(h, E1000_ICR) & E1000_ICR_RXO,
				 E1000_ICR_RXO);
	}
	/* Head 2, tail 6, then the ring shrinks to 4: tail is outside. */
	wr(h, E1000_RDH, 2);
	wr(h, E1000_RDT, 6);
	wr(h, E1000_RDLEN, 4 * 16);
	avm_harness_clear(h);
	send_frame(h, f, sizeof(f));
	AVM_EXPECT_NO(h, .kind = AVM_DET_DMA);
	assert_int_equal(rd(h, E1000_RNBC), 4);
	assert_int_equal(rd(h, E1000_RDH), 2);

	tx_setup(h, 8);
	tx_legacy(h, 0, TX_BUF, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
	avm_harness_clear(h);
	wr(h, E1000_TDT, 0xffff);
	AVM_EXPECT_NONE(h);
	wr(h, E1000_TDLEN, 4 * 16); /* shrunk under the tail */
	wr(h, E1000_TDT, 6);
	assert_int_equal(rd(h, E1000_TDH), 0);
	assert_int_equal(tx_status(h, 0), 0);
}

/* A TX buffer in our own BAR, on the read-to-clear ICR: a master abort.
 * The packet is dropped, the ring goes on, and ICR keeps the causes the
 * driver has not read yet (no READ message is sent to ourselves). */
static void tx_buffer_on_own_icr_is_refused(void **state)
{
	avm_harness *h = *state;
	uint8_t f[64] = { 0 };

	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	wr(h, E1000_ICS, E1000_ICR_LSC);
	tx_legacy(h, 0, bar0(h) + E1000_ICR, 4, E1000_TXD_CMD_EOP, 0);
	tx_legacy(h, 1, bar0(h) + E1000_ICR, 8, E1000_TXD_CMD_EOP, 0);
	tx_legacy(h, 2, TX_BUF, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
	avm_harness_clear(h);
	wr(h, E1000_TDT, 3);
	assert_int_equal(count_frames(h), 1);
	assert_int_equal(rd(h, E1000_TDH), 3);
	assert_int_equal(tx_status(h, 2), E1000_TXD_STAT_DD);
	assert_int_equal(rd(h, E1000_ICR) & E1000_ICR_LSC, E1000_ICR_LSC);
}

/* --- Another device's MMIO in the DMA path ------------------------------ */

#define PROBE_BASE 0xe0000000ull

/* A stand-in device: 4 KiB of MMIO with a read-to-clear register at 0;
 * a write at offset 0 is forwarded by DMA to @fwd (4 bytes). */
struct probe {
	uint64_t fwd;
	uint32_t rc;
	unsigned reads, writes;
};

static int probe_init(void *state, const void *config, avm_ctx *ctx)
{
	struct probe *p = state;

	(void)ctx;
	p->fwd = *(const uint64_t *)config;
	p->rc = 0x5a5a5a5a;
	return 0;
}

static void probe_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct probe *p = state;
	uint32_t v = (uint32_t)m->access.value;

	if (m->kind == AVM_MSG_READ) {
		p->reads++;
		avm_reply(ctx, p->rc);
		p->rc = 0;
	} else if (m->kind == AVM_MSG_WRITE) {
		p->writes++;
		if (m->access.offset == 0)
			avm_dma_write(ctx, p->fwd, &v, sizeof(v));
	}
}

static const struct avm_region_desc probe_regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 0x1000 },
};

static const struct avm_device_ops probe_ops = {
	.type = "probe",
	.state_size = sizeof(struct probe),
	.regions = probe_regions,
	.n_regions = 1,
	.init = probe_init,
	.handle = probe_handle,
};

static const uint64_t probe_fwd; /* set by the test once mapped */

/* The e1000 under test, plus a probe that forwards to its TDT. */
static int setup_probe(void **state)
{
	struct avm_harness_opts o = { .ops = &e1000_ops,
				      .config = &test_cfg,
				      .seed = 1,
				      .ram_gpa = RAM_GPA,
				      .ram_size = RAM_SIZE,
				      .defer_start = true };
	struct avm_actor_spec ps = { .ops = &probe_ops,
				     .name = "probe",
				     .config = &probe_fwd };
	avm_harness *h = NULL;
	avm_actor_id id;

	assert_int_equal(avm_harness_new(&o, &h), 0);
	assert_int_equal(avm_actor_create(avm_harness_runtime(h), &ps, &id), 0);
	assert_int_equal(avm_map(avm_harness_runtime(h), id, 0, PROBE_BASE), 0);
	assert_int_equal(avm_harness_try_start(h), 0);
	*state = h;
	return 0;
}

static struct probe *probe_of(avm_harness *h)
{
	avm_actor_id id;

	assert_int_equal(avm_actor_find(avm_harness_runtime(h), "probe", &id),
			 0);
	return avm_actor_state(avm_harness_runtime(h), id);
}

/*
 * A DMA loop through another device: in PHY loopback, every frame the NIC
 * sends comes back into an RX buffer that is the probe's MMIO, and the
 * probe's DMA writes the frame's first word into our TDT, which sends the
 * next frame. Every hop is a message; the loop ends when the RX ring is
 * used up. A TX buffer on the probe's read-to-clear register is refused
 * like one on our own BAR: the probe sees no read and keeps its value.
 */
static void dma_loop_through_other_device_ends(void **state)
{
	avm_harness *h = *state;
	struct probe *p = probe_of(h);
	uint8_t f[64], d[16] = { 0 };

	/* probe_fwd was not known at init: tell the probe now. */
	p->fwd = bar0(h) + E1000_TDT;
	make_frame(f, sizeof(f), our_mac);
	put_le32(f, 0); /* lands in TDT: up to the end of the ring */
	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 8);
	for (uint32_t i = 0; i < 8; i++)
		tx_legacy(h, i, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP, 0);
	tx_legacy(h, 2, PROBE_BASE, 4, E1000_TXD_CMD_EOP, 0);
	rx_setup(h, 8, 7, E1000_RCTL_UPE | E1000_RCTL_SECRC);
	for (uint32_t i = 0; i < 8; i++) {
		put_le64(d, PROBE_BASE);
		avm_harness_poke(h, RX_RING + 16 * i, d, sizeof(d));
	}
	phy_wr(h, E1000_PHY_CTRL, 0x1140 | E1000_PHY_CTRL_LOOPBACK);
	wr(h, E1000_TDT, 1);
	/* Ran to idle within the step limit (else -ELOOP failed the write). */
	assert_int_equal(avm_harness_pending(h), 0);
	assert_int_equal(rd(h, E1000_TDT), 0); /* rewritten through the probe */
	assert_int_equal(rd(h, E1000_TDH), 0); /* 8 descriptors: wrapped */
	/* 7 frames (descriptor 2 was dropped) filled the 7 RX buffers. */
	assert_int_equal(rd(h, E1000_RDH), 7);
	assert_int_equal(p->writes, 7 * sizeof(f) / 8);
	assert_int_equal(p->reads, 0);
	assert_int_equal(p->rc, 0x5a5a5a5a);
	AVM_EXPECT_NO_SEND(h, "net");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(tso_zero_mss_makes_progress),
		TEST(evil_descriptor_chains_end),
		TEST(huge_tso_descriptor_is_chunked),
		TEST(heads_beyond_ring_and_empty_rings),
		TEST(oversized_frame_never_overflows),
		TEST(rx_dma_onto_own_registers_is_a_message),
		TEST(dma_faults_stop_the_ring),
		TEST(loopback_into_own_tdt_terminates),
		TEST(tails_beyond_ring_are_unusable),
		TEST(tx_buffer_on_own_icr_is_refused),
		cmocka_unit_test_setup_teardown(
			dma_loop_through_other_device_ends, setup_probe,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
