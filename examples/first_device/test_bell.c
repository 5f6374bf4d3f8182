/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the doorbell with the actor test harness: one actor, the
 * deterministic executor, no threads, no guest (docs/harness.md).
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <actorvm/harness.h>

#include "bell.h"

static int setup(void **state)
{
	struct avm_harness_opts opts = { .ops = &bell_ops, .seed = 1 };

	return avm_harness_new(&opts, (avm_harness **)state);
}

static int teardown(void **state)
{
	avm_harness_free(*state);
	return 0;
}

static void ring_raises_irq_once(void **state)
{
	avm_harness *h = *state;

	avm_harness_write(h, 0, BELL_DOORBELL, 4, 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	/* Rung again: the line is already up, so no second message. */
	avm_harness_write(h, 0, BELL_DOORBELL, 4, 1);
	AVM_EXPECT_NONE(h);
	assert_int_equal(avm_harness_read(h, 0, BELL_RINGS, 4), 2);
	assert_int_equal(avm_harness_read(h, 0, BELL_STATUS, 4), BELL_ST_RUNG);
}

static void status_write_one_clears(void **state)
{
	avm_harness *h = *state;

	avm_harness_write(h, 0, BELL_DOORBELL, 4, 1);
	avm_harness_clear(h); /* forget the IRQ: this test is about clearing */
	avm_harness_write(h, 0, BELL_STATUS, 4, 0); /* 0 clears nothing */
	AVM_EXPECT_NONE(h);
	avm_harness_write(h, 0, BELL_STATUS, 4, BELL_ST_RUNG);
	AVM_EXPECT_IRQ(h, "irq", 0);
	assert_int_equal(avm_harness_read(h, 0, BELL_STATUS, 4), 0);
}

static void id_default_and_configured(void **state)
{
	static const struct bell_config cfg = { .id = 0x1234 };
	struct avm_harness_opts opts = { .ops = &bell_ops, .config = &cfg };
	avm_harness *h = *state, *h2;

	assert_int_equal(avm_harness_read(h, 0, BELL_ID, 4), BELL_ID_DEFAULT);
	assert_int_equal(avm_harness_new(&opts, &h2), 0);
	assert_int_equal(avm_harness_read(h2, 0, BELL_ID, 4), 0x1234);
	avm_harness_free(h2);
}

static void reset_lowers_irq_keeps_id(void **state)
{
	avm_harness *h = *state;

	avm_harness_write(h, 0, BELL_DOORBELL, 4, 1);
	AVM_EXPECT_IRQ(h, "irq", 1);
	avm_harness_reset(h);
	AVM_EXPECT_IRQ(h, "irq", 0);
	assert_int_equal(avm_harness_read(h, 0, BELL_RINGS, 4), 0);
	assert_int_equal(avm_harness_read(h, 0, BELL_ID, 4), BELL_ID_DEFAULT);
}

static void other_sizes_ignored(void **state)
{
	avm_harness *h = *state;

	avm_harness_write(h, 0, BELL_DOORBELL, 1, 1);
	AVM_EXPECT_NONE(h);
	assert_int_equal(avm_harness_read(h, 0, BELL_RINGS, 2), 0);
	assert_int_equal(avm_harness_read(h, 0, BELL_RINGS, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ring_raises_irq_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(status_write_one_clears, setup,
						teardown),
		cmocka_unit_test_setup_teardown(id_default_and_configured,
						setup, teardown),
		cmocka_unit_test_setup_teardown(reset_lowers_irq_keeps_id,
						setup, teardown),
		cmocka_unit_test_setup_teardown(other_sizes_ignored, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
