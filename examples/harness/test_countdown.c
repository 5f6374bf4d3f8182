/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the countdown timer with the actor test harness: one actor,
 * virtual time, no threads, no guest.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>

#include <actorvm/harness.h>

#include "countdown.h"

#define RAM_GPA	 0x100000ull
#define RAM_SIZE 0x1000ull
#define TICK_NS	 1000

static const struct countdown_config config = { .tick_ns = TICK_NS };

static int setup(void **state)
{
	struct avm_harness_opts opts = {
		.ops = &countdown_ops,
		.config = &config,
		.seed = 1,
		.ram_gpa = RAM_GPA,
		.ram_size = RAM_SIZE,
	};

	return avm_harness_new(&opts, (avm_harness **)state);
}

static int teardown(void **state)
{
	avm_harness_free(*state);
	return 0;
}

/* Registers are 32 bits wide in region 0. */
static void wr(avm_harness *h, uint64_t reg, uint32_t v)
{
	avm_harness_write(h, 0, reg, 4, v);
}

static uint32_t rd(avm_harness *h, uint64_t reg)
{
	return (uint32_t)avm_harness_read(h, 0, reg, 4);
}

static void reset_values(void **state)
{
	avm_harness *h = *state;

	assert_int_equal(rd(h, COUNTDOWN_ID), COUNTDOWN_ID_VALUE);
	assert_int_equal(rd(h, COUNTDOWN_CTRL), 0);
	assert_int_equal(rd(h, COUNTDOWN_COUNT), 0);
	assert_int_equal(rd(h, COUNTDOWN_STATUS), 0);
	AVM_EXPECT_NONE(h); /* init armed nothing, sent nothing */
}

static void one_shot_expiry_raises_irq(void **state)
{
	avm_harness *h = *state;

	wr(h, COUNTDOWN_LOAD, 10);
	wr(h, COUNTDOWN_CTRL, COUNTDOWN_CTRL_ENABLE | COUNTDOWN_CTRL_IRQ_EN);
	AVM_EXPECT_TIMER_ARM(h, COUNTDOWN_TIMER, 10 * TICK_NS, 0);

	avm_harness_advance(h, 4 * TICK_NS);
	assert_int_equal(rd(h, COUNTDOWN_COUNT), 6);
	avm_harness_advance(h, 6 * TICK_NS - 1);
	AVM_EXPECT_NONE(h); /* one nanosecond early: nothing yet */

	avm_harness_advance(h, 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	AVM_EXPECT_NONE(h);
	assert_int_equal(rd(h, COUNTDOWN_EXPIRIES), 1);
	/* One-shot: the timer stopped itself. */
	assert_int_equal(rd(h, COUNTDOWN_CTRL), COUNTDOWN_CTRL_IRQ_EN);
}

static void status_is_read_to_clear(void **state)
{
	avm_harness *h = *state;

	wr(h, COUNTDOWN_LOAD, 1);
	wr(h, COUNTDOWN_CTRL, COUNTDOWN_CTRL_ENABLE | COUNTDOWN_CTRL_IRQ_EN);
	avm_harness_advance(h, TICK_NS);
	avm_harness_clear(h);

	assert_int_equal(rd(h, COUNTDOWN_STATUS), COUNTDOWN_ST_EXPIRED);
	AVM_EXPECT_IRQ(h, "irq", 0); /* the read lowered the line */
	assert_int_equal(rd(h, COUNTDOWN_STATUS), 0);
	AVM_EXPECT_NONE(h);
}

static void periodic_irq_sent_only_on_change(void **state)
{
	avm_harness *h = *state;
	uint64_t due;

	wr(h, COUNTDOWN_LOAD, 5);
	wr(h, COUNTDOWN_CTRL,
	   COUNTDOWN_CTRL_ENABLE | COUNTDOWN_CTRL_PERIODIC |
		   COUNTDOWN_CTRL_IRQ_EN);
	AVM_EXPECT_TIMER_ARM(h, COUNTDOWN_TIMER, 5 * TICK_NS, 5 * TICK_NS);

	avm_harness_advance(h, 15 * TICK_NS);
	assert_int_equal(rd(h, COUNTDOWN_EXPIRIES), 3);
	/* Three expiries, but the line only went up once. */
	AVM_EXPECT_IRQ(h, "irq", 1);
	AVM_EXPECT_NONE(h);
	assert_int_equal(avm_harness_timer_due(h, COUNTDOWN_TIMER, &due), 0);
	assert_int_equal(due, 20 * TICK_NS);
	assert_int_equal(rd(h, COUNTDOWN_COUNT), 5);
}

static void masked_irq_is_raised_when_unmasked(void **state)
{
	avm_harness *h = *state;

	wr(h, COUNTDOWN_LOAD, 2);
	wr(h, COUNTDOWN_CTRL, COUNTDOWN_CTRL_ENABLE);
	avm_harness_advance(h, 2 * TICK_NS);
	AVM_EXPECT_NO_SEND(h, "irq");

	/* STATUS.EXPIRED is still set: unmasking raises the line at once. */
	wr(h, COUNTDOWN_CTRL, COUNTDOWN_CTRL_IRQ_EN);
	AVM_EXPECT_IRQ(h, "irq", 1);
}

static void write_back_dmas_the_expiry_count(void **state)
{
	avm_harness *h = *state;
	const uint64_t wb = RAM_GPA + 0x40;
	const struct avm_harness_event *ev;
	uint32_t word;

	wr(h, COUNTDOWN_WB_ADDR, (uint32_t)wb);
	wr(h, COUNTDOWN_LOAD, 3);
	wr(h, COUNTDOWN_CTRL,
	   COUNTDOWN_CTRL_ENABLE | COUNTDOWN_CTRL_PERIODIC |
		   COUNTDOWN_CTRL_WB_EN);
	avm_harness_advance(h, 6 * TICK_NS);

	ev = AVM_EXPECT_DMA_WRITE(h, wb, 4);
	assert_memory_equal(ev->data, "\x01\x00\x00\x00", 4);
	assert_int_equal(ev->time, 3 * TICK_NS);
	ev = AVM_EXPECT_DMA_WRITE(h, wb, 4);
	assert_memory_equal(ev->data, "\x02\x00\x00\x00", 4);
	avm_harness_peek(h, wb, &word, sizeof(word));
	assert_int_equal(word, 2);
}

static void write_back_fault_is_reported(void **state)
{
	avm_harness *h = *state;

	wr(h, COUNTDOWN_WB_ADDR, 0x80000000u); /* no RAM, no device */
	wr(h, COUNTDOWN_LOAD, 1);
	wr(h, COUNTDOWN_CTRL, COUNTDOWN_CTRL_ENABLE | COUNTDOWN_CTRL_WB_EN);
	avm_harness_advance(h, TICK_NS);

	AVM_EXPECT(h, .kind = AVM_DET_DMA, .fields = AVM_HM_STATUS,
		   .status = -EFAULT);
	assert_int_equal(rd(h, COUNTDOWN_STATUS),
			 COUNTDOWN_ST_EXPIRED | COUNTDOWN_ST_WB_ERR);
}

static void disable_cancels_the_timer(void **state)
{
	avm_harness *h = *state;

	wr(h, COUNTDOWN_LOAD, 10);
	wr(h, COUNTDOWN_CTRL, COUNTDOWN_CTRL_ENABLE | COUNTDOWN_CTRL_IRQ_EN);
	AVM_EXPECT_TIMER(h, COUNTDOWN_TIMER);
	wr(h, COUNTDOWN_CTRL, COUNTDOWN_CTRL_IRQ_EN);
	AVM_EXPECT_TIMER_CANCEL(h, COUNTDOWN_TIMER);

	avm_harness_advance(h, 100 * TICK_NS);
	AVM_EXPECT_NONE(h);
	assert_int_equal(rd(h, COUNTDOWN_EXPIRIES), 0);
}

static void zero_load_does_not_start(void **state)
{
	avm_harness *h = *state;

	wr(h, COUNTDOWN_CTRL, COUNTDOWN_CTRL_ENABLE);
	AVM_EXPECT_NO(h, .kind = AVM_DET_TIMER_ARM);
	assert_int_equal(rd(h, COUNTDOWN_CTRL), 0);
}

static void late_expiry_after_stop_is_ignored(void **state)
{
	avm_harness *h = *state;
	/* What a timer that fired just before the guest's stop delivers. */
	struct avm_msg late = { .kind = AVM_MSG_TIMER,
				.timer.id = COUNTDOWN_TIMER };

	avm_harness_send(h, &late);
	assert_int_equal(rd(h, COUNTDOWN_EXPIRIES), 0);
	assert_int_equal(rd(h, COUNTDOWN_STATUS), 0);
	AVM_EXPECT_NONE(h);
}

static void irq_goes_out_on_the_bound_line(void **state)
{
	avm_harness *h = *state;

	avm_harness_bind(h, "irq", 11);
	wr(h, COUNTDOWN_LOAD, 1);
	wr(h, COUNTDOWN_CTRL, COUNTDOWN_CTRL_ENABLE | COUNTDOWN_CTRL_IRQ_EN);
	avm_harness_advance(h, TICK_NS);
	AVM_EXPECT(h, .kind = AVM_DET_SEND,
		   .fields = AVM_HM_PORT | AVM_HM_ARG | AVM_HM_VALUE,
		   .port = "irq", .arg = 11, .value = 1);
}

static void reset_lowers_the_line(void **state)
{
	avm_harness *h = *state;
	struct countdown *s = avm_harness_state(h);

	wr(h, COUNTDOWN_LOAD, 4);
	wr(h, COUNTDOWN_CTRL,
	   COUNTDOWN_CTRL_ENABLE | COUNTDOWN_CTRL_PERIODIC |
		   COUNTDOWN_CTRL_IRQ_EN);
	assert_int_equal(s->due, 4 * TICK_NS); /* white box */
	avm_harness_advance(h, 4 * TICK_NS);
	assert_true(s->irq_level);
	avm_harness_clear(h);

	avm_harness_reset(h);
	AVM_EXPECT_TIMER_CANCEL(h, COUNTDOWN_TIMER);
	AVM_EXPECT_IRQ(h, "irq", 0);
	AVM_EXPECT_NONE(h);
	assert_false(s->irq_level);
	assert_int_equal(s->tick_ns, TICK_NS); /* configuration survives */
	assert_int_equal(rd(h, COUNTDOWN_CTRL), 0);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(reset_values),
		TEST(one_shot_expiry_raises_irq),
		TEST(status_is_read_to_clear),
		TEST(periodic_irq_sent_only_on_change),
		TEST(masked_irq_is_raised_when_unmasked),
		TEST(write_back_dmas_the_expiry_count),
		TEST(write_back_fault_is_reported),
		TEST(disable_cancels_the_timer),
		TEST(zero_load_does_not_start),
		TEST(late_expiry_after_stop_is_ignored),
		TEST(irq_goes_out_on_the_bound_line),
		TEST(reset_lowers_the_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
