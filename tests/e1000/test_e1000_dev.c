/* SPDX-License-Identifier: MIT */
/*
 * e1000 actor, isolated: reset values, the Linux probe and open sequence,
 * EEPROM (EECD bit-banging and EERD), PHY via MDIC, interrupts and ITR,
 * the register self-test, statistics, access sizes and the I/O BAR.
 */
#include "e1000_test.h"

#include "e1000_priv.h" /* white box: the framework reset test */

/* --- EEPROM bit-banging, as Linux e1000_read_eeprom() does it ------------ */

static void ee_clock(avm_harness *h, uint32_t *eecd)
{
	wr(h, E1000_EECD, *eecd | E1000_EECD_SK);
	wr(h, E1000_EECD, *eecd);
}

static void ee_shift_out(avm_harness *h, uint32_t data, int count)
{
	uint32_t eecd = rd(h, E1000_EECD) & ~(E1000_EECD_DO | E1000_EECD_DI);

	for (int i = count - 1; i >= 0; i--) {
		eecd &= ~E1000_EECD_DI;
		if (data & (1u << i))
			eecd |= E1000_EECD_DI;
		wr(h, E1000_EECD, eecd);
		ee_clock(h, &eecd);
	}
	wr(h, E1000_EECD, eecd & ~E1000_EECD_DI);
}

static uint16_t ee_shift_in(avm_harness *h)
{
	uint32_t eecd = rd(h, E1000_EECD) & ~(E1000_EECD_DO | E1000_EECD_DI);
	uint16_t data = 0;

	for (int i = 0; i < 16; i++) {
		data = (uint16_t)(data << 1);
		wr(h, E1000_EECD, eecd | E1000_EECD_SK);
		eecd = rd(h, E1000_EECD) & ~E1000_EECD_DI;
		if (eecd & E1000_EECD_DO)
			data |= 1;
		eecd &= ~(E1000_EECD_SK | E1000_EECD_DO);
		wr(h, E1000_EECD, eecd);
	}
	return data;
}

static uint16_t ee_read(avm_harness *h, uint32_t addr)
{
	uint32_t eecd = rd(h, E1000_EECD);
	uint16_t v;

	/* Acquire: REQ, then GNT must answer. */
	wr(h, E1000_EECD, eecd | E1000_EECD_REQ);
	eecd = rd(h, E1000_EECD);
	assert_true(eecd & E1000_EECD_GNT);
	eecd &= ~(E1000_EECD_SK | E1000_EECD_DI);
	wr(h, E1000_EECD, eecd);
	wr(h, E1000_EECD, eecd | E1000_EECD_CS);
	ee_shift_out(h, E1000_EEPROM_READ_OP, 3);
	ee_shift_out(h, addr, 6);
	v = ee_shift_in(h);
	/* Release: CS low, a clock pulse, REQ low. */
	eecd = rd(h, E1000_EECD) & ~(E1000_EECD_CS | E1000_EECD_DI);
	wr(h, E1000_EECD, eecd);
	ee_clock(h, &eecd);
	wr(h, E1000_EECD, eecd & ~E1000_EECD_REQ);
	return v;
}

static uint16_t eerd_read(avm_harness *h, uint32_t addr)
{
	uint32_t v;

	wr(h, E1000_EERD, E1000_EERD_START | addr << E1000_EERD_ADDR_SHIFT);
	v = rd(h, E1000_EERD);
	assert_true(v & E1000_EERD_DONE);
	assert_int_equal((v >> E1000_EERD_ADDR_SHIFT) & 0xff, addr);
	return (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
}

/* --- Tests ---------------------------------------------------------------- */

static void reset_values(void **state)
{
	avm_harness *h = *state;

	assert_int_equal(rd(h, E1000_CTRL), 0x00140240);
	assert_int_equal(rd(h, E1000_STATUS) & 0xff,
			 E1000_STATUS_FD | E1000_STATUS_LU |
				 E1000_STATUS_SPD1000);
	assert_int_equal(rd(h, E1000_EECD) & E1000_EECD_PRES, E1000_EECD_PRES);
	assert_int_equal(rd(h, E1000_VET), 0x8100);
	assert_int_equal(rd(h, E1000_PBA), 0x00100030);
	assert_int_equal(rd(h, E1000_MANC), 0x00222300);
	assert_int_equal(rd(h, E1000_RAL(0)), 0xaa005452);
	assert_int_equal(rd(h, E1000_RAH(0)), E1000_RAH_AV | 0xccbb);
	assert_int_equal(rd(h, E1000_RAH(1)), 0);
	assert_int_equal(rd(h, E1000_ICR), 0);
	assert_int_equal(rd(h, E1000_IMS), 0);
	assert_int_equal(rd(h, E1000_RCTL), 0);
	assert_int_equal(rd(h, E1000_TCTL), 0);
	assert_int_equal(rd(h, 0x7000), 0); /* reserved space reads 0 */
	AVM_EXPECT_NONE(h);
}

static void status_is_direct_and_read_only(void **state)
{
	avm_harness *h = *state;
	struct avm_msg down = { .kind = E1000_MSG_LINK, .user.value = 0 };
	uint32_t before = rd(h, E1000_STATUS);

	wr(h, E1000_STATUS, 0);
	assert_int_equal(rd(h, E1000_STATUS), before);
	avm_harness_send(h, &down);
	/* The published copy followed the link, without a write. */
	assert_int_equal(rd(h, E1000_STATUS) & E1000_STATUS_LU, 0);
	assert_int_equal(io_rd(h, E1000_STATUS), rd(h, E1000_STATUS));
}

/* Linux e1000_reset_hw(): the global reset goes through the I/O BAR. */
static void reset_through_io_bar(void **state)
{
	avm_harness *h = *state;

	wr(h, E1000_VET, 0);
	wr(h, E1000_RDBAL, 0x12340);
	wr(h, E1000_IMS, E1000_ICR_LSC);
	wr(h, E1000_ICS, E1000_ICR_LSC);
	AVM_EXPECT_IRQ(h, "irq", 1);

	io_wr(h, E1000_CTRL, io_rd(h, E1000_CTRL) | E1000_CTRL_RST);
	AVM_EXPECT_IRQ(h, "irq", 0); /* ICR and IMS cleared */
	assert_int_equal(rd(h, E1000_VET), 0x8100);
	assert_int_equal(rd(h, E1000_RDBAL), 0);
	assert_int_equal(rd(h, E1000_IMS), 0);
	assert_int_equal(rd(h, E1000_CTRL) & E1000_CTRL_RST, 0);
	assert_int_equal(rd(h, E1000_RAH(0)), E1000_RAH_AV | 0xccbb);
	/* The PHY kept its link: the global reset does not touch it. */
	assert_true(rd(h, E1000_STATUS) & E1000_STATUS_LU);
}

static void reset_through_mmio_ctrl(void **state)
{
	avm_harness *h = *state;

	wr(h, E1000_TDLEN, 4096);
	wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_RST);
	assert_int_equal(rd(h, E1000_TDLEN), 0);
	assert_int_equal(rd(h, E1000_CTRL), 0x00140240);
}

static void eeprom_bitbang_checksum_and_mac(void **state)
{
	avm_harness *h = *state;
	uint16_t sum = 0, w[E1000_EEPROM_WORDS];

	for (uint32_t i = 0; i < E1000_EEPROM_WORDS; i++) {
		w[i] = ee_read(h, i);
		sum = (uint16_t)(sum + w[i]);
	}
	assert_int_equal(sum, E1000_EEPROM_CHECKSUM);
	assert_int_equal(w[0], 0x5452);
	assert_int_equal(w[1], 0xaa00);
	assert_int_equal(w[2], 0xccbb);
	assert_int_equal(w[0x0d], E1000_DEVICE_ID);
	assert_int_equal(w[0x0e], E1000_VENDOR_ID);
	/* The same words through EERD. */
	for (uint32_t i = 0; i < E1000_EEPROM_WORDS; i++)
		assert_int_equal(eerd_read(h, i), w[i]);
}

static void eerd_out_of_range_and_idle(void **state)
{
	avm_harness *h = *state;
	uint32_t v;

	wr(h, E1000_EERD, E1000_EERD_START | 0x40u << E1000_EERD_ADDR_SHIFT);
	v = rd(h, E1000_EERD);
	assert_true(v & E1000_EERD_DONE);
	assert_int_equal(v >> E1000_EERD_DATA_SHIFT, 0);
	/* Without START nothing is read. */
	wr(h, E1000_EERD, 2u << E1000_EERD_ADDR_SHIFT);
	assert_int_equal(rd(h, E1000_EERD), 2u << E1000_EERD_ADDR_SHIFT);
}

static void eecd_pins_need_the_grant(void **state)
{
	avm_harness *h = *state;
	uint32_t eecd;

	assert_int_equal(rd(h, E1000_EECD) & E1000_EECD_GNT, 0);
	/* Clocking a READ without REQ reaches no EEPROM: DO stays low. */
	wr(h, E1000_EECD, E1000_EECD_CS);
	for (int i = 0; i < 9; i++) {
		uint32_t di = ((0x6u << 6) >> (8 - i)) & 1 ? E1000_EECD_DI : 0;

		wr(h, E1000_EECD, E1000_EECD_CS | di);
		wr(h, E1000_EECD, E1000_EECD_CS | di | E1000_EECD_SK);
	}
	eecd = rd(h, E1000_EECD);
	assert_int_equal(eecd & (E1000_EECD_DO | E1000_EECD_GNT), 0);
}

static void eeprom_override_is_used_as_is(void **unused)
{
	struct e1000_config cfg = test_cfg;
	uint16_t img[E1000_EEPROM_WORDS] = { 0x1100, 0x3322, 0x5544 };
	avm_harness *h;
	uint16_t sum = 0;

	cfg.eeprom = img;
	h = e1000_harness(&cfg);
	for (uint32_t i = 0; i < E1000_EEPROM_WORDS; i++)
		sum = (uint16_t)(sum + ee_read(h, i));
	assert_int_not_equal(sum, E1000_EEPROM_CHECKSUM); /* a bad image */
	assert_int_equal(rd(h, E1000_RAL(0)), 0x33221100);
	avm_harness_free(h);
}

static void phy_id_and_registers(void **state)
{
	avm_harness *h = *state;
	uint32_t id;

	id = (uint32_t)phy_rd(h, E1000_PHY_ID1) << 16 |
	     (phy_rd(h, E1000_PHY_ID2) & 0xfff0);
	assert_int_equal(id, E1000_PHY_ID);
	assert_int_equal(phy_rd(h, E1000_PHY_CTRL), 0x1140);
	assert_int_equal(phy_rd(h, E1000_PHY_STATUS), 0x796d);
	assert_int_equal(phy_rd(h, E1000_PHY_1000T_STATUS), 0x3c00);
	phy_wr(h, E1000_PHY_ANAR, 0x01e1);
	assert_int_equal(phy_rd(h, E1000_PHY_ANAR), 0x01e1);
	phy_wr(h, E1000_PHY_ID1, 0); /* read-only */
	assert_int_equal(phy_rd(h, E1000_PHY_ID1), 0x0141);
}

static void mdic_bad_address_and_register(void **state)
{
	avm_harness *h = *state;
	uint32_t v;

	/* No PHY at address 2: the read fails with E. */
	v = mdic_cycle(h, E1000_MDIC_OP_READ | 2u << E1000_MDIC_REG_SHIFT |
				  2u << E1000_MDIC_PHY_SHIFT);
	assert_true(v & E1000_MDIC_ERROR);
	/* An unimplemented register of our PHY reads 0 without error. */
	v = mdic_cycle(h, E1000_MDIC(E1000_MDIC_OP_READ, 29));
	assert_false(v & E1000_MDIC_ERROR);
	assert_int_equal(v & 0xffff, 0);
	/* Reserved opcode: error. */
	v = mdic_cycle(h, E1000_MDIC(0, 2));
	assert_true(v & E1000_MDIC_ERROR);
	/* The I bit raises MDAC when the cycle completes. */
	mdic_cycle(h, E1000_MDIC(E1000_MDIC_OP_READ, 2) | E1000_MDIC_INT_EN);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_MDAC);
}

static void autoneg_restart_drops_and_restores_link(void **state)
{
	avm_harness *h = *state;

	assert_int_equal(rd(h, E1000_ICR), 0);
	phy_wr(h, E1000_PHY_CTRL,
	       E1000_PHY_CTRL_ANEN | E1000_PHY_CTRL_ANRESTART | 0x0140);
	AVM_EXPECT_TIMER_ARM(h, E1000_TIMER_AUTONEG, 500 * MS, 0);
	assert_int_equal(rd(h, E1000_STATUS) & E1000_STATUS_LU, 0);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_LSC);
	/* AN-restart self-clears. */
	assert_int_equal(phy_rd(h, E1000_PHY_CTRL) & E1000_PHY_CTRL_ANRESTART,
			 0);
	/* Latched low: link and AN-complete both read 0. */
	assert_int_equal(phy_rd(h, E1000_PHY_STATUS) & 0x24, 0);

	avm_harness_advance(h, 500 * MS - 1);
	assert_int_equal(rd(h, E1000_STATUS) & E1000_STATUS_LU, 0);
	avm_harness_advance(h, 1);
	assert_true(rd(h, E1000_STATUS) & E1000_STATUS_LU);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_LSC);
	assert_int_equal(phy_rd(h, E1000_PHY_STATUS), 0x796d);
	assert_true(phy_rd(h, E1000_PHY_ANLPAR) & E1000_PHY_ANLPAR_ACK);
}

static void link_messages_and_latched_low_bmsr(void **state)
{
	avm_harness *h = *state;
	struct avm_msg link = { .kind = E1000_MSG_LINK, .user.value = 0 };

	wr(h, E1000_IMS, E1000_ICR_LSC);
	avm_harness_send(h, &link);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_LSC);
	AVM_EXPECT_IRQ(h, "irq", 0);
	link.user.value = 1;
	avm_harness_send(h, &link);
	avm_harness_advance(h, 500 * MS);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_true(rd(h, E1000_STATUS) & E1000_STATUS_LU);
	/* BMSR remembers the drop for one read (Linux reads it twice). */
	assert_int_equal(phy_rd(h, E1000_PHY_STATUS) & 4, 0);
	assert_int_equal(phy_rd(h, E1000_PHY_STATUS) & 4, 4);
}

static void phy_power_down_and_reset(void **state)
{
	avm_harness *h = *state;

	phy_wr(h, E1000_PHY_CTRL, 0x1140 | E1000_PHY_CTRL_PDOWN);
	assert_int_equal(rd(h, E1000_STATUS) & E1000_STATUS_LU, 0);
	/* CTRL.PHY_RST: held, then released: registers back to defaults. */
	wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_PHY_RST);
	wr(h, E1000_CTRL, rd(h, E1000_CTRL) & ~E1000_CTRL_PHY_RST);
	assert_int_equal(phy_rd(h, E1000_PHY_CTRL), 0x1140);
	avm_harness_advance(h, 500 * MS);
	assert_true(rd(h, E1000_STATUS) & E1000_STATUS_LU);
}

/* The sequence of Linux e1000_probe() and e1000_open() (82540, copper). */
static void linux_probe_and_open(void **state)
{
	avm_harness *h = *state;
	uint16_t sum = 0;

	/* sw_init, reset_hw */
	wr(h, E1000_IMC, 0xffffffff);
	assert_int_equal(rd(h, E1000_STATUS) & E1000_STATUS_TBIMODE, 0);
	wr(h, E1000_RCTL, 0);
	wr(h, E1000_TCTL, E1000_TCTL_PSP);
	io_wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_RST);
	wr(h, E1000_MANC, rd(h, E1000_MANC) & ~0x2000u);
	wr(h, E1000_IMC, 0xffffffff);
	rd(h, E1000_ICR);
	/* EEPROM checksum and MAC */
	for (uint32_t i = 0; i < E1000_EEPROM_WORDS; i++)
		sum = (uint16_t)(sum + ee_read(h, i));
	assert_int_equal(sum, E1000_EEPROM_CHECKSUM);
	assert_int_equal(ee_read(h, 2), 0xccbb);
	/* init_hw: filters, then setup_copper_link */
	wr(h, E1000_VET, 0);
	for (uint32_t i = 0; i < E1000_MTA_COUNT; i++)
		wr(h, E1000_MTA + 4 * i, 0);
	wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_SLU);
	assert_int_equal((uint32_t)phy_rd(h, E1000_PHY_ID1) << 16 |
				 (phy_rd(h, E1000_PHY_ID2) & 0xfff0),
			 E1000_PHY_ID);
	phy_wr(h, E1000_PHY_M88_PSCR, phy_rd(h, E1000_PHY_M88_PSCR) | 0x0800);
	phy_wr(h, E1000_PHY_CTRL, phy_rd(h, E1000_PHY_CTRL) | 0x8000);
	phy_wr(h, E1000_PHY_ANAR, 0x0de1);
	phy_wr(h, E1000_PHY_1000T_CTRL, 0x0200);
	phy_wr(h, E1000_PHY_CTRL, phy_rd(h, E1000_PHY_CTRL) | 0x1200);
	wr(h, E1000_VET, 0x8100);
	/* open: rings, moderation, receiver on */
	tx_setup(h, 8);
	wr(h, E1000_TCTL, E1000_TCTL_PSP | 0xf0); /* EN comes with link */
	wr(h, E1000_TIPG, 0x00602008);
	wr(h, E1000_TIDV, 8);
	wr(h, E1000_TADV, 32);
	wr(h, E1000_RDTR, 0);
	wr(h, E1000_RADV, 8);
	wr(h, E1000_ITR, 195);
	rx_setup(h, 8, 6, E1000_RCTL_BAM);
	wr(h, E1000_RXCSUM, 0x200);
	/* Probe's link drop latched LSC: acked, as reset_hw's ICR read. */
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_LSC);
	wr(h, E1000_IMS, 0x9d);
	avm_harness_clear(h);
	wr(h, E1000_ICS, E1000_ICR_LSC);
	AVM_EXPECT_IRQ(h, "irq", 1);
	/* The ISR: ICR says LSC; the watchdog then waits for the link. */
	assert_true(rd(h, E1000_ICR) & E1000_ICR_LSC);
	AVM_EXPECT_IRQ(h, "irq", 0);
	avm_harness_advance(h, 500 * MS);
	assert_true(phy_rd(h, E1000_PHY_STATUS) & E1000_PHY_STATUS_ANCOMP);
	assert_true(phy_rd(h, E1000_PHY_STATUS) & E1000_PHY_STATUS_LINK);
	assert_true(rd(h, E1000_STATUS) & E1000_STATUS_LU);
	AVM_EXPECT_IRQ(h, "irq", 1); /* LSC from the finished autoneg */
	wr(h, E1000_TCTL, rd(h, E1000_TCTL) | E1000_TCTL_EN);
	assert_int_equal(rd(h, E1000_TCTL), E1000_TCTL_PSP | 0xf0 | 2);
}

/* --- Interrupts -------------------------------------------------------- */

static void icr_ims_ics_imc(void **state)
{
	avm_harness *h = *state;

	wr(h, E1000_ICS, E1000_ICR_RXT0 | E1000_ICR_TXDW);
	AVM_EXPECT_NO_SEND(h, "irq"); /* latched, masked */
	wr(h, E1000_IMS, E1000_ICR_TXDW);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(rd(h, E1000_IMS), E1000_ICR_TXDW);
	wr(h, E1000_IMS, E1000_ICR_RXT0); /* ORs */
	assert_int_equal(rd(h, E1000_IMS), E1000_ICR_TXDW | E1000_ICR_RXT0);
	/* W1C of one cause keeps the line (RXT0 is still pending). */
	wr(h, E1000_ICR, E1000_ICR_TXDW);
	AVM_EXPECT_NO_SEND(h, "irq");
	wr(h, E1000_IMC, E1000_ICR_RXT0);
	AVM_EXPECT_IRQ(h, "irq", 0);
	assert_int_equal(rd(h, E1000_ICS), 0); /* write-only */
	assert_int_equal(rd(h, E1000_IMC), 0);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_RXT0);
	assert_int_equal(rd(h, E1000_ICR), 0); /* read cleared it */
	AVM_EXPECT_NONE(h);
}

static void icr_read_lowers_line(void **state)
{
	avm_harness *h = *state;

	avm_harness_bind(h, "irq", 11);
	wr(h, E1000_IMS, 0x9d);
	wr(h, E1000_ICS, E1000_ICR_LSC);
	AVM_EXPECT(h, .kind = AVM_DET_SEND,
		   .fields = AVM_HM_PORT | AVM_HM_ARG | AVM_HM_VALUE,
		   .port = "irq", .arg = 11, .value = 1);
	wr(h, E1000_ICS, E1000_ICR_LSC); /* already high: no message */
	AVM_EXPECT_NONE(h);
	assert_int_equal(rd(h, E1000_ICR), E1000_ICR_LSC);
	AVM_EXPECT_IRQ(h, "irq", 0);
	AVM_EXPECT_NONE(h);
}

static void itr_holds_off_the_next_assertion(void **state)
{
	avm_harness *h = *state;

	wr(h, E1000_ITR, 1000); /* 256 us */
	wr(h, E1000_IMS, E1000_ICR_LSC);
	wr(h, E1000_ICS, E1000_ICR_LSC);
	AVM_EXPECT_IRQ(h, "irq", 1); /* the first one is immediate */
	rd(h, E1000_ICR);
	AVM_EXPECT_IRQ(h, "irq", 0);
	avm_harness_advance(h, 100 * US);
	wr(h, E1000_ICS, E1000_ICR_LSC);
	AVM_EXPECT_TIMER_ARM(h, E1000_TIMER_ITR, 156 * US, 0);
	AVM_EXPECT_NO_SEND(h, "irq");
	avm_harness_advance(h, 156 * US - 1);
	AVM_EXPECT_NO_SEND(h, "irq");
	avm_harness_advance(h, 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(avm_harness_now(h), 256 * US);
}

static void itr_zero_does_not_moderate(void **state)
{
	avm_harness *h = *state;

	wr(h, E1000_IMS, E1000_ICR_LSC);
	for (int i = 0; i < 3; i++) {
		wr(h, E1000_ICS, E1000_ICR_LSC);
		AVM_EXPECT_IRQ(h, "irq", 1);
		rd(h, E1000_ICR);
		AVM_EXPECT_IRQ(h, "irq", 0);
	}
	AVM_EXPECT_NO(h, .kind = AVM_DET_TIMER_ARM);
}

/* --- Register self-test (Linux e1000_reg_test) -----------------------------
 */

static void pattern(avm_harness *h, uint32_t reg, uint32_t mask, uint32_t w)
{
	static const uint32_t test[] = { 0x5a5a5a5a, 0xa5a5a5a5, 0, ~0u };

	for (unsigned i = 0; i < 4; i++) {
		wr(h, reg, w & test[i]);
		if (rd(h, reg) != (w & test[i] & mask))
			fail_msg("reg 0x%x pattern 0x%08x: read 0x%08x", reg,
				 w & test[i], rd(h, reg));
	}
}

static void set_check(avm_harness *h, uint32_t reg, uint32_t mask, uint32_t w)
{
	wr(h, reg, w & mask);
	if ((rd(h, reg) & mask) != (w & mask))
		fail_msg("reg 0x%x set 0x%08x: read 0x%08x", reg, w & mask,
			 rd(h, reg));
}

static void linux_register_self_test(void **state)
{
	avm_harness *h = *state;
	uint32_t toggle = 0xfffff833, before = rd(h, E1000_STATUS);

	wr(h, E1000_STATUS, toggle);
	assert_int_equal(rd(h, E1000_STATUS) & toggle, before & toggle);
	pattern(h, E1000_FCAL, 0xffffffff, 0xffffffff);
	pattern(h, E1000_FCAH, 0x0000ffff, 0xffffffff);
	pattern(h, E1000_FCT, 0x0000ffff, 0xffffffff);
	pattern(h, E1000_VET, 0x0000ffff, 0xffffffff);
	pattern(h, E1000_RDTR, 0x0000ffff, 0xffffffff);
	pattern(h, E1000_RDBAH, 0xffffffff, 0xffffffff);
	pattern(h, E1000_RDLEN, 0x000fff80, 0x000fffff);
	pattern(h, E1000_RDH, 0x0000ffff, 0x0000ffff);
	pattern(h, E1000_RDT, 0x0000ffff, 0x0000ffff);
	pattern(h, E1000_FCRTH, 0x0000fff8, 0x0000fff8);
	pattern(h, E1000_FCTTV, 0x0000ffff, 0x0000ffff);
	pattern(h, E1000_TIPG, 0x3fffffff, 0x3fffffff);
	pattern(h, E1000_TDBAH, 0xffffffff, 0xffffffff);
	pattern(h, E1000_TDLEN, 0x000fff80, 0x000fffff);
	set_check(h, E1000_RCTL, 0xffffffff, 0);
	set_check(h, E1000_RCTL, 0x06dfb3fe, 0x003ffffb);
	set_check(h, E1000_TCTL, 0xffffffff, 0);
	set_check(h, E1000_RCTL, 0x06dfb3fe, 0xffffffff);
	pattern(h, E1000_RDBAL, 0xfffffff0, 0xffffffff);
	pattern(h, E1000_TXCW, 0xc000ffff, 0x0000ffff);
	pattern(h, E1000_TDBAL, 0xfffffff0, 0xffffffff);
	pattern(h, E1000_TIDV, 0x0000ffff, 0x0000ffff);
	for (uint32_t i = 0; i < 15; i++)
		pattern(h, E1000_RAH(i), 0x8003ffff, 0xffffffff);
	for (uint32_t i = 0; i < E1000_MTA_COUNT; i++)
		pattern(h, E1000_MTA + 4 * i, 0xffffffff, 0xffffffff);
}

/* --- Statistics, access sizes, I/O BAR ------------------------------------ */

static void statistics_read_to_clear(void **state)
{
	avm_harness *h = *state;
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[100];

	/* Counters are not writable... */
	wr(h, E1000_GPRC, 5);
	assert_int_equal(rd(h, E1000_GPRC), 0);
	/* ...and are driven by traffic: a received broadcast. */
	rx_setup(h, 8, 4, E1000_RCTL_BAM);
	make_frame(f, sizeof(f), bc);
	send_frame(h, f, sizeof(f));
	assert_int_equal(rd(h, E1000_GPRC), 1);
	assert_int_equal(rd(h, E1000_GPRC), 0);
	assert_int_equal(rd(h, E1000_BPRC), 1);
	assert_int_equal(rd(h, E1000_PRC64 + 4), 1); /* 65-127 bin */
	/* 64-bit pairs: the low half does not clear, the high half clears
	 * both, so a low-then-high read is consistent. */
	assert_int_equal(rd(h, E1000_GORCL), 104);
	assert_int_equal(rd(h, E1000_GORCL), 104);
	assert_int_equal(rd(h, E1000_GORCH), 0);
	assert_int_equal(rd(h, E1000_GORCL), 0);
	assert_int_equal(rd(h, E1000_TPR), 1);
	assert_int_equal(rd(h, E1000_TPR), 0);
}

static void access_sizes(void **state)
{
	avm_harness *h = *state;

	/* 8 bytes: two registers, low first. */
	assert_int_equal(avm_harness_read(h, 0, E1000_RAL(0), 8),
			 0x8000ccbbaa005452ull);
	avm_harness_write(h, 0, E1000_TDBAL, 8, 0x0000000112345678ull);
	assert_int_equal(rd(h, E1000_TDBAL), 0x12345670);
	assert_int_equal(rd(h, E1000_TDBAH), 1);
	/* Bytes and words see the register's little-endian lanes. */
	assert_int_equal(avm_harness_read(h, 0, E1000_RAH(0) + 3, 1), 0x80);
	assert_int_equal(avm_harness_read(h, 0, E1000_RAH(0) + 2, 2), 0x8000);
	avm_harness_write(h, 0, E1000_RDT + 1, 1, 0x12);
	avm_harness_write(h, 0, E1000_RDT, 1, 0x34);
	assert_int_equal(rd(h, E1000_RDT), 0x1234);
	avm_harness_write(h, 0, E1000_VET + 2, 2, 0xffff); /* masked */
	assert_int_equal(rd(h, E1000_VET), 0x8100);
	/* A byte of IMS only sets its own bits. */
	avm_harness_write(h, 0, E1000_IMS, 4, E1000_ICR_LSC);
	avm_harness_write(h, 0, E1000_IMS + 1, 1, 0x02); /* MDAC */
	assert_int_equal(rd(h, E1000_IMS), E1000_ICR_LSC | E1000_ICR_MDAC);
	/* Misaligned: reads 0, writes nothing. */
	assert_int_equal(avm_harness_read(h, 0, E1000_RAL(0) + 1, 2), 0);
	avm_harness_write(h, 0, E1000_RDT + 2, 4, 0xffffffff);
	assert_int_equal(rd(h, E1000_RDT), 0x1234);
	/* The last register of the BAR answers. */
	assert_int_equal(avm_harness_read(h, 0, E1000_MMIO_SIZE - 8, 8), 0);
}

static void io_bar_indirection(void **state)
{
	avm_harness *h = *state;

	io_wr(h, E1000_RDBAL, 0xabcdef12);
	assert_int_equal(rd(h, E1000_RDBAL), 0xabcdef10);
	assert_int_equal(avm_harness_read(h, E1000_REGION_IO, E1000_IOADDR, 4),
			 E1000_RDBAL);
	wr(h, E1000_TDBAH, 0x55);
	assert_int_equal(io_rd(h, E1000_TDBAH), 0x55);
	/* Sub-dword and reserved offsets are ignored. */
	avm_harness_write(h, E1000_REGION_IO, E1000_IODATA, 1, 0);
	assert_int_equal(rd(h, E1000_TDBAH), 0x55);
	assert_int_equal(avm_harness_read(h, E1000_REGION_IO, 0x8, 4), 0);
	/* Side effects happen through IODATA too: ICR is read-to-clear. */
	wr(h, E1000_ICS, E1000_ICR_RXO);
	assert_int_equal(io_rd(h, E1000_ICR), E1000_ICR_RXO);
	assert_int_equal(rd(h, E1000_ICR), 0);
}

static void framework_reset_powers_on(void **state)
{
	avm_harness *h = *state;

	wr(h, E1000_IMS, E1000_ICR_LSC);
	wr(h, E1000_ICS, E1000_ICR_LSC);
	AVM_EXPECT_IRQ(h, "irq", 1);
	phy_wr(h, E1000_PHY_ANAR, 0x0001);
	avm_harness_reset(h);
	AVM_EXPECT_IRQ(h, "irq", 0);
	assert_int_equal(phy_rd(h, E1000_PHY_ANAR), 0x0de1);
	assert_true(rd(h, E1000_STATUS) & E1000_STATUS_LU);
}

/* The cable is the backend's, not the device's: neither reset plugs it
 * back in (a VM reset used to report link on an unplugged cable). */
static void resets_keep_the_cable_state(void **state)
{
	avm_harness *h = *state;
	struct avm_msg link = { .kind = E1000_MSG_LINK, .user.value = 0 };

	avm_harness_send(h, &link);
	wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_RST);
	assert_int_equal(rd(h, E1000_STATUS) & E1000_STATUS_LU, 0);
	avm_harness_reset(h);
	assert_int_equal(rd(h, E1000_STATUS) & E1000_STATUS_LU, 0);
	assert_int_equal(rd(h, E1000_ICR), 0);
	/* Plugged in again: autonegotiation brings the link up. */
	link.user.value = 1;
	avm_harness_send(h, &link);
	avm_harness_advance(h, 500 * MS);
	assert_true(rd(h, E1000_STATUS) & E1000_STATUS_LU);
}

/* --- The framework's reset: the state of power-on, exactly -------------- */

/*
 * A copy of the device's state as a power-on reset must leave it. What
 * every reset keeps is the same in both copies compared (the configuration,
 * the EEPROM's words, which are non-volatile, and the cable, which is the
 * backend's); what is no state of the device is cleared (the reset epoch,
 * the drop counters kept for tests and logs, and the receive and packet
 * buffers, whose stale bytes nothing reads).
 */
static struct e1000 *power_on_view(avm_harness *h)
{
	struct e1000 *v = malloc(sizeof(*v));

	assert_non_null(v);
	memcpy(v, avm_harness_state(h), sizeof(*v));
	v->epoch = 0;
	v->dma_errors = v->tx_dropped = v->rx_dropped = 0;
	memset(v->rx_buf, 0, sizeof(v->rx_buf));
	memset(v->tx.hdr, 0, sizeof(v->tx.hdr));
	memset(v->tx.data, 0, sizeof(v->tx.data));
	return v;
}

static void assert_regs_equal(const struct e1000 *a, const struct e1000 *b)
{
	for (uint32_t i = 0; i < E1000_REG_WORDS; i++) {
		if (a->regs[i] != b->regs[i])
			fail_msg("register 0x%04x: 0x%08x after the reset, "
				 "0x%08x at power-on",
				 4 * i, a->regs[i], b->regs[i]);
	}
	assert_int_equal(a->ioaddr, b->ioaddr);
	assert_int_equal(a->status_pub, b->status_pub);
}

/* Field by field where padding could differ; the TX block is zeroed
 * whole at creation and by e1000_tx_reset(). */
static void assert_power_on(const struct e1000 *a, const struct e1000 *b)
{
	assert_regs_equal(a, b);
	assert_int_equal(a->ee.pins, b->ee.pins);
	assert_int_equal(a->ee.val_in, b->ee.val_in);
	assert_int_equal(a->ee.bits_in, b->ee.bits_in);
	assert_int_equal(a->ee.bit_out, b->ee.bit_out);
	assert_int_equal(a->ee.reading, b->ee.reading);
	assert_memory_equal(a->phy.regs, b->phy.regs, sizeof(a->phy.regs));
	assert_int_equal(a->phy.an_done, b->phy.an_done);
	assert_int_equal(a->phy.ls_latched_low, b->phy.ls_latched_low);
	assert_int_equal(a->irq_level, b->irq_level);
	assert_int_equal(a->itr_next, b->itr_next);
	assert_int_equal(a->itr_wait, b->itr_wait);
	assert_int_equal(a->rdtr_armed, b->rdtr_armed);
	assert_int_equal(a->radv_armed, b->radv_armed);
	assert_int_equal(a->tidv_armed, b->tidv_armed);
	assert_int_equal(a->tadv_armed, b->tadv_armed);
	assert_memory_equal(&a->tx, &b->tx, offsetof(struct e1000_tx, hdr));
}

/* Every register written with all ones, except CTRL (RST would reset). */
static void scribble_registers(avm_harness *h)
{
	for (uint32_t off = 4; off < E1000_REG_SPACE; off += 4)
		wr(h, off, 0xffffffff);
	wr(h, E1000_CTRL, 0x0fffffff & ~E1000_CTRL_RST);
	io_wr(h, E1000_VET, 0x1234); /* IOADDR left pointing at VET */
}

/*
 * Work in progress of every kind: a packet half assembled (no EOP yet), a
 * ring with more than one chunk of descriptors, a delayed RX interrupt
 * armed, INTA# asserted and ITR's hold-off running, autonegotiation
 * restarted and an EEPROM grant held.
 */
static void start_everything(avm_harness *h)
{
	uint8_t f[64] = { 0 };

	make_frame(f, sizeof(f), test_cfg.mac);
	avm_harness_poke(h, TX_BUF, f, sizeof(f));
	tx_setup(h, 64);
	for (uint32_t i = 0; i < 40; i++)
		tx_legacy(h, i, TX_BUF, sizeof(f), E1000_TXD_CMD_RS, 0);
	rx_setup(h, 16, 15, 0);
	wr(h, E1000_IMS, E1000_ICR_MASK);
	/* ITR (all ones) held INTA# off: it rises now, the next hold-off
	 * running. */
	avm_harness_advance(h, 20 * MS);
	assert_true(((struct e1000 *)avm_harness_state(h))->irq_level);
	wr(h, E1000_RDTR, 1000);
	send_frame(h, f, sizeof(f));
	phy_wr(h, E1000_PHY_CTRL, 0x1140 | E1000_PHY_CTRL_ANRESTART);
	wr(h, E1000_EECD, E1000_EECD_REQ);
	avm_harness_clear(h);
	avm_harness_set_autorun(h, false);
	wr(h, E1000_TDT, 40);
	assert_int_equal(avm_harness_step(h), 1); /* one chunk, more queued */
}

/*
 * The framework's reset (a restarted device process, a PCI RST#) leaves
 * the device as creation did (82540EM SDM: after power-up every register
 * holds its initial value, the PHY is reset, and transmit and receive are
 * off). Continuations and timer expiries from before the reset change
 * nothing, however long the device then runs.
 */
static void framework_reset_is_power_on_state(void **state)
{
	avm_harness *h = *state;
	struct e1000 *fresh = power_on_view(h), *after;

	scribble_registers(h);
	start_everything(h);
	avm_harness_reset(h);
	avm_harness_set_autorun(h, true);
	avm_harness_run(h);
	AVM_EXPECT_IRQ(h, "irq", 0);
	avm_harness_clear(h);
	after = power_on_view(h);
	assert_power_on(after, fresh);
	free(after);
	avm_harness_advance(h, 1000 * MS);
	AVM_EXPECT_NO_SEND(h, "irq");
	AVM_EXPECT_NO_SEND(h, "net");
	after = power_on_view(h);
	assert_power_on(after, fresh);
	free(after);
	free(fresh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(reset_values),
		TEST(status_is_direct_and_read_only),
		TEST(reset_through_io_bar),
		TEST(reset_through_mmio_ctrl),
		TEST(eeprom_bitbang_checksum_and_mac),
		TEST(eerd_out_of_range_and_idle),
		TEST(eecd_pins_need_the_grant),
		cmocka_unit_test(eeprom_override_is_used_as_is),
		TEST(phy_id_and_registers),
		TEST(mdic_bad_address_and_register),
		TEST(autoneg_restart_drops_and_restores_link),
		TEST(link_messages_and_latched_low_bmsr),
		TEST(phy_power_down_and_reset),
		TEST(linux_probe_and_open),
		TEST(icr_ims_ics_imc),
		TEST(icr_read_lowers_line),
		TEST(itr_holds_off_the_next_assertion),
		TEST(itr_zero_does_not_moderate),
		TEST(linux_register_self_test),
		TEST(statistics_read_to_clear),
		TEST(access_sizes),
		TEST(io_bar_indirection),
		TEST(framework_reset_powers_on),
		TEST(resets_keep_the_cable_state),
		TEST(framework_reset_is_power_on_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
