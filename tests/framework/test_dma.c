/* SPDX-License-Identifier: MIT */
/* Device DMA: RAM bounds, DMA onto MMIO (others' and its own) as messages. */
#include "fixture.h"

#include <string.h>

struct seen {
	unsigned self_writes; /* WRITE deliveries dev0 -> dev0 */
	unsigned dma_done;    /* DMA_DONE deliveries to dev0 */
	uint64_t done_value;
	int done_status;
	unsigned dma_events;
	int last_dma_status;
};

static void watch(void *arg, const struct avm_det_event *ev)
{
	struct seen *s = arg;

	if (ev->kind == AVM_DET_DMA) {
		s->dma_events++;
		s->last_dma_status = ev->status;
	}
	if (ev->kind != AVM_DET_DELIVER || ev->dst != 0)
		return;
	if (ev->msg->kind == AVM_MSG_WRITE && ev->msg->src == 0)
		s->self_writes++;
	if (ev->msg->kind == AVM_MSG_DMA_DONE) {
		s->dma_done++;
		s->done_value = ev->msg->dma.data;
		s->done_status = ev->msg->dma.status;
	}
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

static void ram_fill_and_sum(void **unused)
{
	struct fixture f;
	uint64_t want = 0;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	fix_wr(&f, 0, TESTDEV_SCRATCH, 3);
	dma(&f, 0x1000, 300, 1);
	assert_int_equal(dma_status(&f), 0);
	for (unsigned i = 0; i < 300; i++) {
		assert_int_equal(f.ram[0x1000 + i], (uint8_t)(i + 3));
		want += (uint8_t)(i + 3);
	}
	assert_int_equal(f.ram[0x1000 + 300], 0);
	dma(&f, 0x1000, 300, 2);
	assert_int_equal(dma_status(&f), 0);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_DMA_SUM), want);
	fix_down(&f);
}

static void out_of_range_is_an_error(void **unused)
{
	struct fixture f;
	struct seen s = { 0 };

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	avm_det_set_observer(f.rt, watch, &s);
	/* Straddles the end of RAM: nothing is written. */
	memset(f.ram + FIX_RAM_SIZE - 8, 0xee, 8);
	dma(&f, FIX_RAM_SIZE - 8, 16, 1);
	assert_int_equal(dma_status(&f), -EFAULT);
	for (int i = 0; i < 8; i++)
		assert_int_equal(f.ram[FIX_RAM_SIZE - 8 + i], 0xee);
	assert_int_equal(s.last_dma_status, -EFAULT);
	/* Unmapped, wrapping around the address space, or too long. */
	dma(&f, 0x40000000, 4, 1);
	assert_int_equal(dma_status(&f), -EFAULT);
	dma(&f, UINT64_MAX - 3, 16, 1);
	assert_int_equal(dma_status(&f), -EFAULT);
	dma(&f, 0x40000000, 8, 2);
	assert_int_equal(dma_status(&f), -EFAULT);
	dma(&f, 0, TESTDEV_DMA_MAX + 1, 1);
	assert_int_equal(dma_status(&f), -EINVAL);
	/* Straddling RAM and a device: refused as a whole. */
	dma(&f, FIX_MMIO(0) - 4, 8, 1);
	assert_int_equal(dma_status(&f), -EFAULT);
	fix_down(&f);
}

/* DMA that lands on the device's own registers is a message to itself,
 * handled after the current one: no recursion, nothing lost. */
static void dma_onto_own_registers(void **unused)
{
	struct fixture f;
	struct seen s = { 0 };
	uint64_t before;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	avm_det_set_observer(f.rt, watch, &s);
	before = fix_rd(&f, 0, TESTDEV_WRITES);
	dma(&f, FIX_MMIO(0) + 0x800, 64, 1); /* ignored offsets */
	assert_int_equal(dma_status(&f), 0);
	avm_det_run(f.rt, 0);
	assert_int_equal(s.self_writes, 8);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_WRITES), before + 3 + 8);
	fix_down(&f);
}

/* Odd-sized pieces are split as a bus would: aligned 8/4/2/1 chunks. */
static void dma_split_into_aligned_writes(void **unused)
{
	struct fixture f;
	struct seen s = { 0 };

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	avm_det_set_observer(f.rt, watch, &s);
	dma(&f, FIX_MMIO(0) + 0x801, 14, 1); /* 1 + 2 + 4 + 4 + 2 + 1 */
	assert_int_equal(dma_status(&f), 0);
	avm_det_run(f.rt, 0);
	assert_int_equal(s.self_writes, 6);
	fix_down(&f);
}

static void dma_read_from_device_completes_later(void **unused)
{
	struct fixture f;
	struct seen s = { 0 };

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 2, NULL);
	fix_start(&f);
	avm_det_set_observer(f.rt, watch, &s);
	dma(&f, FIX_MMIO(1) + TESTDEV_ID, 8, 2);
	assert_int_equal(dma_status(&f), AVM_DMA_PENDING);
	avm_det_run(f.rt, 0);
	assert_int_equal(s.dma_done, 1);
	assert_int_equal(s.done_status, 0);
	assert_int_equal(s.done_value, 0x7e57de7);
	/* An odd size cannot be a single bus read of a register. */
	dma(&f, FIX_MMIO(1) + TESTDEV_ID, 3, 2);
	assert_int_equal(dma_status(&f), -EFAULT);
	fix_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ram_fill_and_sum),
		cmocka_unit_test(out_of_range_is_an_error),
		cmocka_unit_test(dma_onto_own_registers),
		cmocka_unit_test(dma_split_into_aligned_writes),
		cmocka_unit_test(dma_read_from_device_completes_later),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
