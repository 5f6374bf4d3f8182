/* SPDX-License-Identifier: MIT */
/* One scenario on the threaded, biglock and deterministic executors: the
 * same device code must reach the same results on each. */
#include "fixture.h"

#include <string.h>

enum {
	R_SCRATCH,
	R_SEQ,
	R_SUM,
	R_PING0,
	R_PING1,
	R_WORK,
	R_TICKS,
	R_IRQ_IN,
	R_RESET,
	R_WRITES,
	R_COUNT
};

static void dma(struct fixture *f, uint64_t addr, uint64_t len, uint64_t cmd)
{
	fix_wr(f, 0, TESTDEV_DMA_ADDR, addr);
	fix_wr(f, 0, TESTDEV_DMA_LEN, len);
	fix_wr(f, 0, TESTDEV_DMA_CMD, cmd);
}

static void step_registers(struct fixture *f, uint64_t *r)
{
	fix_wr(f, 0, TESTDEV_SCRATCH, 0xabc);
	r[R_SCRATCH] = fix_rd(f, 0, TESTDEV_SCRATCH);
	for (uint64_t i = 1; i <= 100; i++)
		fix_wr(f, 0, TESTDEV_SEQ, i);
	r[R_SEQ] = fix_rd(f, 0, TESTDEV_SEQ_TOTAL);
	dma(f, 0x1000, 256, 1);
	dma(f, 0x1000, 256, 2);
	r[R_SUM] = fix_rd(f, 0, TESTDEV_DMA_SUM);
}

static void step_messages(struct fixture *f, uint64_t *r)
{
	struct avm_msg ping = { .kind = TESTDEV_MSG_PING, .user.addr = 100 };

	assert_int_equal(avm_post(f->acc, f->dev[0], &ping), 0);
	for (uint64_t t0 = fix_now_ns(); fix_guard(t0);) {
		if (avm_runtime_exec(f->rt) == AVM_EXEC_DETERMINISTIC)
			avm_det_run(f->rt, 0);
		r[R_PING0] = fix_rd(f, 0, TESTDEV_PINGS);
		r[R_PING1] = fix_rd(f, 1, TESTDEV_PINGS);
		if (r[R_PING0] + r[R_PING1] == 100)
			break;
		fix_sleep_ms(1);
	}
	fix_wr(f, 0, TESTDEV_WORK, 1000);
	r[R_WORK] = fix_wait_reg(f, 0, TESTDEV_WORK_DONE, 1000);
	fix_wr(f, 0, TESTDEV_TIMER, 1000000);
	fix_pass(f, 2000000);
	r[R_TICKS] = fix_wait_reg(f, 0, TESTDEV_TICKS, 1);
	r[R_IRQ_IN] = fix_wait_reg(f, 1, TESTDEV_IRQ_IN, (5 << 1) | 1);
}

static void step_reset_and_self_dma(struct fixture *f, uint64_t *r)
{
	uint64_t w0;

	fix_wr(f, 1, TESTDEV_SCRATCH, 77);
	assert_int_equal(fix_rd(f, 1, TESTDEV_SCRATCH), 77);
	assert_int_equal(avm_actor_reset(f->rt, f->dev[1]), 0);
	r[R_RESET] = fix_wait_reg(f, 1, TESTDEV_SCRATCH, 0);
	w0 = fix_rd(f, 0, TESTDEV_WRITES);
	dma(f, FIX_MMIO(0) + 0x800, 64, 1);
	r[R_WRITES] = fix_wait_reg(f, 0, TESTDEV_WRITES, w0 + 3 + 8) - w0;
}

static void run_scenario(enum avm_exec_kind exec, uint64_t *r, uint8_t *ram)
{
	struct fixture f;

	fix_up(&f, exec, 2, NULL);
	assert_int_equal(avm_bind(f.rt, f.dev[0], "out", f.dev[1], 0), 0);
	assert_int_equal(avm_bind(f.rt, f.dev[1], "out", f.dev[0], 0), 0);
	assert_int_equal(avm_bind(f.rt, f.dev[0], "irq", f.dev[1], 5), 0);
	fix_start(&f);
	step_registers(&f, r);
	step_messages(&f, r);
	step_reset_and_self_dma(&f, r);
	memcpy(ram, f.ram + 0x1000, 256);
	fix_down(&f);
}

static void same_results_everywhere(void **unused)
{
	const enum avm_exec_kind execs[] = { AVM_EXEC_THREADED,
					     AVM_EXEC_BIGLOCK,
					     AVM_EXEC_DETERMINISTIC };
	uint64_t r[3][R_COUNT];
	uint8_t ram[3][256];

	(void)unused;
	for (int i = 0; i < 3; i++)
		run_scenario(execs[i], r[i], ram[i]);
	/* The reference values, so that all three cannot be equally wrong. */
	assert_int_equal(r[0][R_SCRATCH], 0xabc);
	assert_int_equal(r[0][R_SEQ], 100);
	assert_int_equal(r[0][R_PING0], 50);
	assert_int_equal(r[0][R_PING1], 50);
	assert_int_equal(r[0][R_WORK], 1000);
	assert_int_equal(r[0][R_TICKS], 1);
	assert_int_equal(r[0][R_IRQ_IN], (5 << 1) | 1);
	assert_int_equal(r[0][R_RESET], 0);
	assert_int_equal(r[0][R_WRITES], 11);
	assert_int_equal(ram[0][5], (uint8_t)(5 + 0xabc));
	for (int i = 1; i < 3; i++) {
		assert_memory_equal(r[0], r[i], sizeof(r[0]));
		assert_memory_equal(ram[0], ram[i], sizeof(ram[0]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_results_everywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
