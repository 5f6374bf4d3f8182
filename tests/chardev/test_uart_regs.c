/* SPDX-License-Identifier: MIT */
/*
 * The 16550A's registers against the data sheet (and QEMU where guests rely
 * on it), isolated in the harness: null backend, transmitted bytes mirrored
 * on port "tx" so that each test sees exactly what left the UART.
 */
#include "uart_test.h"

static const struct uart_config mirror_cfg = { .mirror_tx = true };

static int setup(void **state)
{
	struct avm_harness_opts o = { .ops = &uart_ops,
				      .config = &mirror_cfg,
				      .log_level = AVM_LOG_ERROR };

	return avm_harness_new(&o, (avm_harness **)state);
}

static int teardown(void **state)
{
	avm_harness_free(*state);
	return 0;
}

static void fifo_on(avm_harness *h, uint8_t itl)
{
	wr(h, UART_FCR, (uint8_t)(UART_FCR_FE | itl));
}

static void power_on_values(void **state)
{
	avm_harness *h = *state;

	assert_int_equal(rd(h, UART_IER), 0);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(rd(h, UART_LCR), 0);
	assert_int_equal(rd(h, UART_MCR), 0);
	assert_int_equal(rd(h, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(rd(h, UART_MSR),
			 UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	wr(h, UART_SCR, 0x5a);
	assert_int_equal(rd(h, UART_SCR), 0x5a);
	AVM_EXPECT_NONE(h);
}

static void divisor_latch_and_ier_share_offsets(void **state)
{
	avm_harness *h = *state;
	struct uart *s = avm_harness_state(h);

	wr(h, UART_IER, UART_IER_RDI);
	wr(h, UART_LCR, UART_LCR_DLAB | 0x03);
	wr(h, UART_DLL, 0x0c);
	wr(h, UART_DLM, 0x01);
	assert_int_equal(rd(h, UART_DLL), 0x0c);
	assert_int_equal(rd(h, UART_DLM), 0x01);
	assert_int_equal(s->divisor, 0x010c);
	/* 8N1 = 10 bits at 115200 / 268 baud. */
	assert_int_equal(s->char_ns, 10ull * 1000000000ull * 268 / 115200);
	wr(h, UART_LCR, 0x03);
	assert_int_equal(rd(h, UART_IER), UART_IER_RDI);
	assert_int_equal(rd(h, UART_LCR), 0x03);
	/* A THR write with DLAB clear is data again, not the divisor. */
	wr(h, UART_THR, 'x');
	assert_int_equal(s->divisor, 0x010c);
	AVM_EXPECT_SEND(h, "tx", AVM_MSG_CHAR);
}

static void ier_upper_bits_read_zero(void **state)
{
	avm_harness *h = *state;

	wr(h, UART_IER, 0xf0);
	assert_int_equal(rd(h, UART_IER), 0);
	AVM_EXPECT_NONE(h);
}

/* The guest's sequence (guests/ioapic_serial.c), step by step. */
static void thre_irq_on_enable_cleared_by_iir_and_thr(void **state)
{
	avm_harness *h = *state;
	const struct avm_harness_event *ev;

	wr(h, UART_IER, UART_IER_THRI);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_THRI);
	AVM_EXPECT_IRQ(h, "irq", 0); /* reading IIR cleared it */
	assert_int_equal(rd(h, UART_IIR), UART_IIR_NO_INT);
	AVM_EXPECT_NONE(h);

	/* One byte; once it has gone, THRE interrupts again. */
	wr(h, UART_THR, '*');
	ev = AVM_EXPECT_SEND(h, "tx", AVM_MSG_CHAR);
	assert_int_equal(ev->len, 1);
	assert_memory_equal(ev->data, "*", 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_THRI);
	AVM_EXPECT_IRQ(h, "irq", 0);
	AVM_EXPECT_NONE(h);
}

/* A THR write while THRE is pending pulses the line (the byte left at once):
 * the edge an edge-triggered IOAPIC pin needs. */
static void thr_write_pulses_pending_thre(void **state)
{
	avm_harness *h = *state;

	wr(h, UART_IER, UART_IER_THRI);
	AVM_EXPECT_IRQ(h, "irq", 1);
	wr(h, UART_THR, 'a');
	AVM_EXPECT_IRQ(h, "irq", 0);
	AVM_EXPECT_SEND(h, "tx", AVM_MSG_CHAR);
	AVM_EXPECT_IRQ(h, "irq", 1);
	AVM_EXPECT_NONE(h);
}

static void thre_resampled_on_each_enable(void **state)
{
	avm_harness *h = *state;

	wr(h, UART_IER, UART_IER_THRI);
	AVM_EXPECT_IRQ(h, "irq", 1);
	(void)rd(h, UART_IIR);
	AVM_EXPECT_IRQ(h, "irq", 0);
	/* Re-writing the same value is no 0->1 edge: nothing. */
	wr(h, UART_IER, UART_IER_THRI);
	AVM_EXPECT_NONE(h);
	wr(h, UART_IER, 0);
	wr(h, UART_IER, UART_IER_THRI);
	AVM_EXPECT_IRQ(h, "irq", 1);
}

static void iir_fifo_bits(void **state)
{
	avm_harness *h = *state;

	fifo_on(h, 0);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_FE | UART_IIR_NO_INT);
	wr(h, UART_FCR, 0);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_NO_INT);
}

static void rx_char_sets_dr_and_irq(void **state)
{
	avm_harness *h = *state;

	wr(h, UART_IER, UART_IER_RDI);
	send_chars(h, "A", 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_RDI);
	assert_int_equal(rd(h, UART_RBR), 'A');
	AVM_EXPECT_IRQ(h, "irq", 0);
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(uart_stat(h, UART_STAT_RX_BYTES), 1);
}

static void trigger_level(avm_harness *h, uint8_t itl, unsigned level)
{
	char buf[UART_FIFO_SIZE];

	memset(buf, 'q', sizeof(buf));
	fifo_on(h, itl);
	wr(h, UART_IER, UART_IER_RDI);
	if (level > 1) {
		send_chars(h, buf, level - 1);
		AVM_EXPECT_NO_SEND(h, "irq");
		assert_int_equal(rd(h, UART_IIR), UART_IIR_FE | 1);
	}
	send_chars(h, buf, 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_FE | UART_IIR_RDI);
	/* One read takes it below the level again. */
	(void)rd(h, UART_RBR);
	AVM_EXPECT_IRQ(h, "irq", 0);
}

static void trigger_levels_1_4_8_14(void **state)
{
	static const unsigned levels[4] = { 1, 4, 8, 14 };

	for (unsigned i = 0; i < 4; i++) {
		avm_harness *h = uart_harness(&mirror_cfg);

		trigger_level(h, (uint8_t)(i << 6), levels[i]);
		avm_harness_free(h);
	}
	(void)state;
}

static void character_timeout_below_trigger(void **state)
{
	avm_harness *h = *state;
	struct uart *s = avm_harness_state(h);
	uint64_t cti;

	fifo_on(h, 0xc0); /* trigger 14 */
	wr(h, UART_IER, UART_IER_RDI);
	send_chars(h, "abc", 3);
	cti = 4 * s->char_ns;
	AVM_EXPECT_TIMER_ARM(h, UART_TIMER_CTI, cti, 0);
	avm_harness_advance(h, cti - 1);
	AVM_EXPECT_NO_SEND(h, "irq");
	avm_harness_advance(h, 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_FE | UART_IIR_CTI);
	/* A read clears the timeout and restarts it. */
	assert_int_equal(rd(h, UART_RBR), 'a');
	AVM_EXPECT_IRQ(h, "irq", 0);
	AVM_EXPECT_TIMER_ARM(h, UART_TIMER_CTI, cti, 0);
	avm_harness_advance(h, cti);
	AVM_EXPECT_IRQ(h, "irq", 1);
	assert_int_equal(rd(h, UART_RBR), 'b');
	assert_int_equal(rd(h, UART_RBR), 'c');
	assert_int_equal(rd(h, UART_IIR), UART_IIR_FE | UART_IIR_NO_INT);
	/* An empty FIFO has no timeout. */
	avm_harness_advance(h, 10 * cti);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_FE | UART_IIR_NO_INT);
}

static void fifo_overrun_keeps_first_16(void **state)
{
	avm_harness *h = *state;
	char in[UART_FIFO_SIZE + 1];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (char)('a' + i);
	fifo_on(h, 0);
	send_chars(h, in, sizeof(in));
	assert_int_equal(rd(h, UART_LSR) & (UART_LSR_OE | UART_LSR_DR),
			 UART_LSR_OE | UART_LSR_DR);
	/* OE is cleared by the LSR read. */
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_OE, 0);
	for (unsigned i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(rd(h, UART_RBR), in[i]);
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(uart_stat(h, UART_STAT_RX_OVERRUN), 1);
	assert_int_equal(uart_stat(h, UART_STAT_RX_BYTES), UART_FIFO_SIZE);
}

static void non_fifo_overrun_overwrites_rbr(void **state)
{
	avm_harness *h = *state;

	send_chars(h, "xy", 2);
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_OE, UART_LSR_OE);
	assert_int_equal(rd(h, UART_RBR), 'y');
	assert_int_equal(rd(h, UART_LSR) & (UART_LSR_DR | UART_LSR_OE), 0);
	/* An empty RBR reads the last character again. */
	assert_int_equal(rd(h, UART_RBR), 'y');
}

/* Every source at once, then peeled off in priority order. */
static void iir_priority_order(void **state)
{
	avm_harness *h = *state;

	wr(h, UART_IER, 0x0f);
	(void)rd(h, UART_IIR); /* THRE from the enable: cleared */
	wr(h, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS); /* CTS changes */
	wr(h, UART_MCR, 0);
	send_chars(h, "12", 2); /* data and an overrun (16450 mode) */
	wr(h, UART_IER, 0x0d);
	wr(h, UART_IER, 0x0f); /* THRE pending again */

	assert_int_equal(rd(h, UART_IIR), UART_IIR_RLSI);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_RLSI); /* IIR: no clear */
	(void)rd(h, UART_LSR);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_RDI);
	(void)rd(h, UART_RBR);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_THRI);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_MSI);
	/* Loopback with RTS and back: DCD and DSR changed, CTS did not. */
	assert_int_equal(rd(h, UART_MSR) & UART_MSR_DELTA,
			 UART_MSR_DDCD | UART_MSR_DDSR);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_NO_INT);
	AVM_EXPECT_IRQ(h, "irq", 1);
	AVM_EXPECT_IRQ(h, "irq", 0);
}

static void disabled_sources_do_not_interrupt(void **state)
{
	avm_harness *h = *state;

	send_chars(h, "12", 2);
	wr(h, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	wr(h, UART_IER, 0);
	AVM_EXPECT_NO_SEND(h, "irq");
	assert_int_equal(rd(h, UART_IIR), UART_IIR_NO_INT);
}

/* OUT2 is not an interrupt gate here (QEMU does not gate either). */
static void irq_not_gated_by_out2(void **state)
{
	avm_harness *h = *state;

	assert_int_equal(rd(h, UART_MCR) & UART_MCR_OUT2, 0);
	wr(h, UART_IER, UART_IER_THRI);
	AVM_EXPECT_IRQ(h, "irq", 1);
	wr(h, UART_MCR, UART_MCR_OUT2);
	wr(h, UART_MCR, 0);
	AVM_EXPECT_NO_SEND(h, "irq");
}

static void loopback_tx_feeds_rx_not_backend(void **state)
{
	avm_harness *h = *state;

	fifo_on(h, 0);
	wr(h, UART_MCR, UART_MCR_LOOP);
	wr(h, UART_THR, 'L');
	wr(h, UART_THR, 'B');
	AVM_EXPECT_NO_SEND(h, "tx");
	assert_int_equal(rd(h, UART_LSR) &
				 (UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT),
			 UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(rd(h, UART_RBR), 'L');
	assert_int_equal(rd(h, UART_RBR), 'B');
	assert_int_equal(uart_stat(h, UART_STAT_OUT_BYTES), 0);
	/* Line input is disconnected in loopback. */
	send_chars(h, "zz", 2);
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(uart_stat(h, UART_STAT_RX_DISCARDED), 2);
	/* Back on the line, bytes go out again. */
	wr(h, UART_MCR, 0);
	wr(h, UART_THR, 'o');
	AVM_EXPECT_SEND(h, "tx", AVM_MSG_CHAR);
}

static void loopback_msr_reflects_mcr(void **state)
{
	avm_harness *h = *state;

	wr(h, UART_MCR, UART_MCR_LOOP);
	/* Entering loopback drops DCD, DSR, CTS: deltas for the three. */
	assert_int_equal(rd(h, UART_MSR),
			 UART_MSR_DDCD | UART_MSR_DDSR | UART_MSR_DCTS);
	wr(h, UART_MCR, UART_MCR_LOOP | 0x0f);
	assert_int_equal(rd(h, UART_MSR),
			 0xf0 | UART_MSR_DDCD | UART_MSR_DDSR | UART_MSR_DCTS);
	assert_int_equal(rd(h, UART_MSR), 0xf0); /* deltas cleared by read */
	wr(h, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	/* RI fell (TERI), DCD and CTS fell, DSR stays. */
	assert_int_equal(rd(h, UART_MSR), UART_MSR_DSR | UART_MSR_TERI |
						  UART_MSR_DDCD |
						  UART_MSR_DCTS);
	wr(h, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(rd(h, UART_MSR),
			 UART_MSR_CTS | UART_MSR_DDSR | UART_MSR_DCTS);
}

static void loopback_overrun(void **state)
{
	avm_harness *h = *state;

	wr(h, UART_MCR, UART_MCR_LOOP);
	wr(h, UART_THR, '1');
	wr(h, UART_THR, '2');
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_OE, UART_LSR_OE);
	assert_int_equal(rd(h, UART_RBR), '2');
}

static void fcr_resets_fifos(void **state)
{
	avm_harness *h = *state;

	fifo_on(h, 0);
	send_chars(h, "abcd", 4);
	wr(h, UART_FCR, UART_FCR_FE | UART_FCR_RFR);
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_DR, 0);
	send_chars(h, "e", 1);
	assert_int_equal(rd(h, UART_RBR), 'e');
	/* Turning the FIFOs off clears them too. */
	send_chars(h, "fg", 2);
	wr(h, UART_FCR, 0);
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_DR, 0);
}

static void wide_access_spans_registers(void **state)
{
	avm_harness *h = *state;

	wr(h, UART_SCR, 0x77);
	wr(h, UART_LCR, 0x1b);
	/* 4 bytes at 4: MCR, LSR, MSR, SCR. */
	assert_int_equal(avm_harness_read(h, 0, 4, 4), 0x77b06000u | 0x00);
	assert_int_equal(avm_harness_read(h, 0, 2, 2), 0x1b01);
	avm_harness_write(h, 0, 6, 2, 0x4400); /* MSR ignored, SCR = 0x44 */
	assert_int_equal(rd(h, UART_SCR), 0x44);
}

static void bad_programming_is_defined(void **state)
{
	avm_harness *h = *state;
	struct uart *s = avm_harness_state(h);
	uint64_t before = s->char_ns;

	/* Divisor 0: no division, the old rate stays, data still flows. */
	wr(h, UART_LCR, UART_LCR_DLAB);
	wr(h, UART_DLL, 0);
	wr(h, UART_DLM, 0);
	wr(h, UART_LCR, 0x3f); /* odd parity, 2 stop bits, break, 8 bits */
	assert_int_equal(s->char_ns, before);
	/* Reserved FCR bits are not kept. */
	wr(h, UART_FCR, 0xff & ~(UART_FCR_RFR | UART_FCR_XFR));
	assert_int_equal(s->fcr, 0xc9);
	wr(h, UART_THR, 'k');
	AVM_EXPECT_SEND(h, "tx", AVM_MSG_CHAR);
	/* LSR and MSR writes are ignored. */
	wr(h, UART_LSR, 0xff);
	wr(h, UART_MSR, 0xff);
	assert_int_equal(rd(h, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	/* The largest divisor: a long but finite character time. */
	wr(h, UART_LCR, UART_LCR_DLAB);
	wr(h, UART_DLL, 0xff);
	wr(h, UART_DLM, 0xff);
	assert_true(s->char_ns > before);
	assert_true(s->char_ns < 10ull * 1000000000ull);
	/* An empty message and a huge one are fine. */
	send_chars(h, "", 0);
	{
		static char big[AVM_MSG_MAX_PAYLOAD];

		wr(h, UART_LCR, 0);
		send_chars(h, big, sizeof(big));
		assert_int_equal(uart_stat(h, UART_STAT_RX_OVERRUN),
				 sizeof(big) - UART_FIFO_SIZE);
	}
}

static void unknown_stat_is_an_error(void **state)
{
	avm_harness *h = *state;
	struct avm_msg m = { .kind = UART_MSG_STAT,
			     .user.arg = UART_STAT_COUNT };
	uint64_t v;

	assert_int_equal(avm_harness_try_request(h, &m, &v), -EINVAL);
}

static void reset_restores_power_on_state(void **state)
{
	avm_harness *h = *state;

	fifo_on(h, 0x40);
	wr(h, UART_IER, 0x0f);
	wr(h, UART_LCR, 0x9b);
	wr(h, UART_MCR, 0x0f);
	send_chars(h, "r", 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	avm_harness_reset(h);
	AVM_EXPECT_IRQ(h, "irq", 0);
	assert_int_equal(rd(h, UART_LCR), 0);
	assert_int_equal(rd(h, UART_IER), 0);
	assert_int_equal(rd(h, UART_MCR), 0);
	assert_int_equal(rd(h, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(rd(h, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	/* Bytes already transmitted stay counted. */
	assert_int_equal(uart_stat(h, UART_STAT_RX_BYTES), 1);
}

static void irq_goes_out_on_bound_line(void **state)
{
	avm_harness *h = *state;

	avm_harness_bind(h, "irq", 4);
	wr(h, UART_IER, UART_IER_THRI);
	AVM_EXPECT(h, .kind = AVM_DET_SEND,
		   .fields = AVM_HM_PORT | AVM_HM_ARG | AVM_HM_VALUE,
		   .port = "irq", .arg = 4, .value = 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(power_on_values),
		T(divisor_latch_and_ier_share_offsets),
		T(ier_upper_bits_read_zero),
		T(thre_irq_on_enable_cleared_by_iir_and_thr),
		T(thr_write_pulses_pending_thre),
		T(thre_resampled_on_each_enable),
		T(iir_fifo_bits),
		T(rx_char_sets_dr_and_irq),
		cmocka_unit_test(trigger_levels_1_4_8_14),
		T(character_timeout_below_trigger),
		T(fifo_overrun_keeps_first_16),
		T(non_fifo_overrun_overwrites_rbr),
		T(iir_priority_order),
		T(disabled_sources_do_not_interrupt),
		T(irq_not_gated_by_out2),
		T(loopback_tx_feeds_rx_not_backend),
		T(loopback_msr_reflects_mcr),
		T(loopback_overrun),
		T(fcr_resets_fifos),
		T(wide_access_spans_registers),
		T(bad_programming_is_defined),
		T(unknown_stat_is_an_error),
		T(reset_restores_power_on_state),
		T(irq_goes_out_on_bound_line),
	};

	return cmocka_run_group_tests_name("uart_regs", tests, NULL, NULL);
}
