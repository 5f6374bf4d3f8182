/* SPDX-License-Identifier: MIT */
/* Per-actor DMA enable (a PCI function's bus-master bit): while off, DMA
 * touches nothing and fails with -EPERM; on by default. */
#include "fixture.h"

#include <string.h>

struct seen {
	unsigned dma_events;
	int last_status;
};

static void watch(void *arg, const struct avm_det_event *ev)
{
	struct seen *s = arg;

	if (ev->kind != AVM_DET_DMA)
		return;
	s->dma_events++;
	s->last_status = ev->status;
}

static void dma(struct fixture *f, uint64_t addr, uint64_t len, uint64_t cmd)
{
	fix_wr(f, 0, TESTDEV_DMA_ADDR, addr);
	fix_wr(f, 0, TESTDEV_DMA_LEN, len);
	fix_wr(f, 0, TESTDEV_DMA_CMD, cmd);
}

static int64_t dma_status(struct fixture *f)
{
	return (int64_t)fix_rd(f, 0, TESTDEV_DMA_STATUS);
}

static void on_by_default(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	dma(&f, 0x2000, 16, 1);
	assert_int_equal(dma_status(&f), 0);
	assert_int_equal(f.ram[0x2000 + 1], 1);
	fix_down(&f);
}

static void off_refuses_writes_and_reads(void **unused)
{
	struct fixture f;
	struct seen s = { 0 };

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	avm_det_set_observer(f.rt, watch, &s);
	memset(f.ram + 0x3000, 0xaa, 64);
	assert_int_equal(avm_dma_enable(f.rt, f.dev[0], false), 0);
	fix_wr(&f, 0, TESTDEV_SCRATCH, 5);
	dma(&f, 0x3000, 64, 1);
	assert_int_equal(dma_status(&f), -EPERM);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(f.ram[0x3000 + i], 0xaa);
	assert_int_equal(s.dma_events, 1);
	assert_int_equal(s.last_status, -EPERM);
	/* A read neither copies RAM nor becomes a message to a device. */
	dma(&f, 0x3000, 64, 2);
	assert_int_equal(dma_status(&f), -EPERM);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_DMA_SUM), 0);
	dma(&f, FIX_MMIO(0) + TESTDEV_ID, 8, 2);
	assert_int_equal(dma_status(&f), -EPERM);
	assert_int_equal(avm_det_pending(f.rt), 0);
	/* Onto its own MMIO: no WRITE message is posted either. */
	dma(&f, FIX_MMIO(0) + 0x800, 8, 1);
	assert_int_equal(dma_status(&f), -EPERM);
	assert_int_equal(avm_det_pending(f.rt), 0);
	/* Back on: DMA works again. */
	assert_int_equal(avm_dma_enable(f.rt, f.dev[0], true), 0);
	dma(&f, 0x3000, 64, 1);
	assert_int_equal(dma_status(&f), 0);
	assert_int_equal(f.ram[0x3000 + 2], 7);
	fix_down(&f);
}

static void only_that_actor_is_refused(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 2, NULL);
	fix_start(&f);
	assert_int_equal(avm_dma_enable(f.rt, f.dev[1], false), 0);
	dma(&f, 0x4000, 8, 1);
	assert_int_equal(dma_status(&f), 0);
	fix_down(&f);
}

static void bad_actor_id(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	assert_int_equal(avm_dma_enable(f.rt, 7, false), -ENOENT);
	assert_int_equal(avm_dma_enable(f.rt, AVM_ACTOR_NONE, true), -ENOENT);
	fix_start(&f);
	fix_down(&f);
}

/*
 * Threaded: another thread flips the flag while the actor does DMA. Every
 * DMA either worked or was refused as a whole; after the last flip, the
 * next DMA (ordered after it by the mailbox) sees the final setting.
 */
static void toggled_from_another_thread(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 1, NULL);
	fix_start(&f);
	for (unsigned i = 0; i < 200; i++) {
		int64_t st;

		assert_int_equal(avm_dma_enable(f.rt, f.dev[0], i & 1), 0);
		dma(&f, 0x5000, 256, 1);
		assert_int_equal(avm_dma_enable(f.rt, f.dev[0], !(i & 1)), 0);
		st = dma_status(&f);
		assert_true(st == 0 || st == -EPERM);
	}
	assert_int_equal(avm_dma_enable(f.rt, f.dev[0], false), 0);
	memset(f.ram + 0x6000, 0x55, 16);
	dma(&f, 0x6000, 16, 1);
	assert_int_equal(dma_status(&f), -EPERM);
	assert_int_equal(f.ram[0x6000], 0x55);
	assert_int_equal(avm_dma_enable(f.rt, f.dev[0], true), 0);
	dma(&f, 0x6000, 16, 1);
	assert_int_equal(dma_status(&f), 0);
	assert_int_not_equal(f.ram[0x6001], 0x55);
	fix_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(on_by_default),
		cmocka_unit_test(off_refuses_writes_and_reads),
		cmocka_unit_test(only_that_actor_is_refused),
		cmocka_unit_test(bad_actor_id),
		cmocka_unit_test(toggled_from_another_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
