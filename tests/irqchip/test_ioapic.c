/* SPDX-License-Identifier: MIT */
/*
 * The IOAPIC in the deterministic executor, with real sources (test
 * devices whose "irq" ports are bound to its pins) and two probe actors
 * standing in for VCPUs 0 and 1. A probe records every message it gets, so
 * a test sees whether an interrupt came straight from the device (the fast
 * path) or from the IOAPIC, with which route word.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <actorvm/deterministic.h>
#include <actorvm/runtime.h>

#include "ioapic.h"
#include "probe.h"
#include "testdev.h"

#define SRC_BASE 0x10000000u
#define PIN_A	 11
#define PIN_B	 5

struct fx {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id ioapic, cpu[2], src[3];
};

static avm_actor_id make(struct fx *f, const struct avm_device_ops *ops,
			 const char *name)
{
	struct avm_actor_spec s = { .ops = ops, .name = name };
	avm_actor_id id;

	assert_int_equal(avm_actor_create(f->rt, &s, &id), 0);
	return id;
}

static int setup(void **state)
{
	static struct fx f;
	struct avm_runtime_config rc = { .exec = AVM_EXEC_DETERMINISTIC };
	static const char *const names[] = { "src0", "src1", "src2" };

	assert_int_equal(avm_runtime_new(&rc, &f.rt), 0);
	f.cpu[0] = make(&f, &probe_ops, "cpu0");
	f.cpu[1] = make(&f, &probe_ops, "cpu1");
	for (unsigned i = 0; i < 3; i++) {
		f.src[i] = make(&f, &testdev_ops, names[i]);
		assert_int_equal(avm_map(f.rt, f.src[i], 0,
					 SRC_BASE + i * TESTDEV_MMIO_SIZE),
				 0);
	}
	f.ioapic = make(&f, &ioapic_ops, "ioapic");
	assert_int_equal(avm_map(f.rt, f.ioapic, 0, IOAPIC_BASE), 0);
	assert_int_equal(avm_bind(f.rt, f.ioapic, "cpu0", f.cpu[0], 0), 0);
	assert_int_equal(avm_bind(f.rt, f.ioapic, "cpu1", f.cpu[1], 0), 0);
	/* src0 and src1 share pin A (wired-OR), src2 is alone on pin B. */
	assert_int_equal(avm_bind(f.rt, f.src[0], "irq", f.ioapic, PIN_A), 0);
	assert_int_equal(avm_bind(f.rt, f.src[1], "irq", f.ioapic, PIN_A), 0);
	assert_int_equal(avm_bind(f.rt, f.src[2], "irq", f.ioapic, PIN_B), 0);
	assert_int_equal(avm_runtime_start(f.rt), 0);
	assert_int_equal(avm_accessor_new(f.rt, "vcpu", &f.acc), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	avm_accessor_free(f->acc);
	avm_runtime_free(f->rt);
	return 0;
}

static uint32_t reg_read(struct fx *f, uint8_t reg)
{
	uint64_t v = 0;

	assert_int_equal(avm_write(f->acc, AVM_SPACE_MMIO, IOAPIC_BASE, 4, reg),
			 0);
	assert_int_equal(
		avm_read(f->acc, AVM_SPACE_MMIO, IOAPIC_BASE + 0x10, 4, &v), 0);
	return (uint32_t)v;
}

static void reg_write(struct fx *f, uint8_t reg, uint32_t val)
{
	assert_int_equal(avm_write(f->acc, AVM_SPACE_MMIO, IOAPIC_BASE, 4, reg),
			 0);
	assert_int_equal(
		avm_write(f->acc, AVM_SPACE_MMIO, IOAPIC_BASE + 0x10, 4, val),
		0);
	avm_det_run(f->rt, 0);
}

static void route(struct fx *f, unsigned pin, uint32_t low, uint8_t dest)
{
	reg_write(f, (uint8_t)(IOAPIC_REG_REDTBL + 2 * pin + 1),
		  (uint32_t)dest << 24);
	reg_write(f, (uint8_t)(IOAPIC_REG_REDTBL + 2 * pin), low);
}

static void line(struct fx *f, unsigned src, int level)
{
	assert_int_equal(
		avm_write(f->acc, AVM_SPACE_MMIO,
			  SRC_BASE + src * TESTDEV_MMIO_SIZE + TESTDEV_IRQ, 8,
			  (uint64_t)level),
		0);
	avm_det_run(f->rt, 0);
}

static struct probe *probe(struct fx *f, unsigned cpu)
{
	return avm_actor_state(f->rt, f->cpu[cpu]);
}

static uint64_t stat(struct fx *f, enum ioapic_stat which)
{
	struct avm_msg m = { .kind = IOAPIC_MSG_STATS, .user.addr = which };
	uint64_t v = 0;

	assert_int_equal(avm_request(f->acc, f->ioapic, &m, &v), 0);
	return v;
}

static void eoi(struct fx *f, uint8_t vector)
{
	struct avm_msg m = { .kind = IRQCHIP_MSG_EOI, .user.value = vector };

	assert_int_equal(avm_post(f->acc, f->ioapic, &m), 0);
	avm_det_run(f->rt, 0);
}

static void registers(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_read(f, IOAPIC_REG_VER), 0x00170011);
	assert_int_equal(reg_read(f, IOAPIC_REG_ID), 0);
	reg_write(f, IOAPIC_REG_ID, 0xFFFFFFFF);
	assert_int_equal(reg_read(f, IOAPIC_REG_ID), 0x0F000000);
	assert_int_equal(reg_read(f, IOAPIC_REG_ARB), 0x0F000000);
	reg_write(f, IOAPIC_REG_VER, 0); /* read-only */
	assert_int_equal(reg_read(f, IOAPIC_REG_VER), 0x00170011);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		assert_int_equal(reg_read(f, (uint8_t)(0x10 + 2 * pin)),
				 IOAPIC_RTE_MASKED);
	/* Delivery status and Remote IRR are read-only; the high dword
	 * keeps only the destination byte. */
	reg_write(f, 0x10 + 2 * 3, 0xFFFFFFFF);
	assert_int_equal(reg_read(f, 0x10 + 2 * 3), 0x0001AFFF);
	reg_write(f, 0x10 + 2 * 3 + 1, 0xFFFFFFFF);
	assert_int_equal(reg_read(f, 0x10 + 2 * 3 + 1), 0xFF000000);
	assert_int_equal(reg_read(f, 0x03), 0);		 /* reserved */
	assert_int_equal(reg_read(f, 0x10 + 2 * 24), 0); /* past the table */
}

static void masked_pin_delivers_nothing(void **state)
{
	struct fx *f = *state;

	line(f, 2, 1);
	assert_int_equal(probe(f, 0)->n, 0);
	assert_int_equal(probe(f, 1)->n, 0);
}

/* Unmasked: the device's message reaches the VCPU directly (its src is the
 * device, not the IOAPIC) and carries the route word. */
static void unmasked_edge_takes_the_fast_path(void **state)
{
	struct fx *f = *state;
	struct probe *p = probe(f, 0);

	route(f, PIN_B, 0x33, 0);
	assert_int_equal(stat(f, IOAPIC_STAT_ROUTES), 1);
	line(f, 2, 1);
	assert_int_equal(p->n, 1);
	assert_int_equal(p->seen[0].kind, AVM_MSG_IRQ);
	assert_int_equal(p->seen[0].src, f->src[2]);
	assert_int_equal(p->seen[0].irq.line,
			 irq_route_make(0x33, false, PIN_B));
	assert_int_equal(p->seen[0].irq.level, 1);
	assert_int_equal(stat(f, IOAPIC_STAT_DELIVERED), 0);
	/* Masked again: the line's messages go back to the IOAPIC. */
	route(f, PIN_B, 0x33 | IOAPIC_RTE_MASKED, 0);
	line(f, 2, 0);
	line(f, 2, 1);
	assert_int_equal(p->n, 1);
}

static void retarget_moves_the_route(void **state)
{
	struct fx *f = *state;

	route(f, PIN_B, 0x34, 0);
	route(f, PIN_B, 0x34, 1);
	line(f, 2, 1);
	assert_int_equal(probe(f, 0)->n, 0);
	assert_int_equal(probe(f, 1)->n, 1);
	assert_int_equal(probe(f, 1)->seen[0].src, f->src[2]);
	/* Logical destination 0x02 is the second CPU too. */
	line(f, 2, 0);
	route(f, PIN_B, 0x35 | IOAPIC_RTE_DEST_LOGICAL, 0x02);
	line(f, 2, 1);
	assert_int_equal(probe(f, 1)->n, 3); /* the 0 and the 1 */
	assert_int_equal(irq_route_vector(probe(f, 1)->seen[2].irq.line), 0x35);
}

/* A level line asserted while masked fires when unmasked, from the IOAPIC;
 * Remote IRR holds it until the EOI, which re-delivers while the wired-OR
 * of its two sources is still high. */
static void level_redelivery_after_eoi(void **state)
{
	struct fx *f = *state;
	struct probe *p = probe(f, 0);
	uint32_t low = 0x60 | IOAPIC_RTE_LEVEL;

	line(f, 0, 1);
	line(f, 1, 1);
	route(f, PIN_A, low, 0);
	assert_int_equal(stat(f, IOAPIC_STAT_DELIVERED), 1);
	assert_int_equal(p->n, 1);
	assert_int_equal(p->seen[0].src, f->ioapic);
	assert_int_equal(p->seen[0].irq.line,
			 irq_route_make(0x60, true, PIN_A));
	assert_true(reg_read(f, 0x10 + 2 * PIN_A) & IOAPIC_RTE_REMOTE_IRR);
	line(f, 0, 0); /* src1 still holds the line */
	eoi(f, 0x60);
	assert_int_equal(stat(f, IOAPIC_STAT_DELIVERED), 2);
	line(f, 1, 0);
	eoi(f, 0x60);
	assert_int_equal(stat(f, IOAPIC_STAT_DELIVERED), 2);
	assert_false(reg_read(f, 0x10 + 2 * PIN_A) & IOAPIC_RTE_REMOTE_IRR);
	/* An EOI for another vector leaves the pin alone. */
	line(f, 0, 1); /* fast path: straight to the probe */
	unsigned before = p->n;
	eoi(f, 0x61);
	assert_int_equal(stat(f, IOAPIC_STAT_DELIVERED), 2);
	assert_int_equal(p->n, before);
}

static void bad_programming_is_not_delivered(void **state)
{
	struct fx *f = *state;

	line(f, 0, 1);
	route(f, PIN_A, 0x05 | IOAPIC_RTE_LEVEL, 0); /* vector < 16 */
	route(f, PIN_B, 0x40, 7);		     /* no CPU 7 */
	line(f, 2, 1);
	assert_int_equal(stat(f, IOAPIC_STAT_ROUTES), 0);
	assert_int_equal(stat(f, IOAPIC_STAT_DROPPED), 1);
	route(f, PIN_B, 0x40 | 4u << 8, 0); /* NMI: not modelled */
	line(f, 2, 0);
	line(f, 2, 1);
	assert_int_equal(stat(f, IOAPIC_STAT_DROPPED), 2);
	assert_int_equal(probe(f, 0)->n, 0);
	/* An IRQ for a pin the chip does not have goes nowhere. */
	struct avm_msg m = { .kind = AVM_MSG_IRQ,
			     .irq = { .line = 200, .level = 1 } };
	assert_int_equal(avm_post(f->acc, f->ioapic, &m), 0);
	avm_det_run(f->rt, 0);
	assert_int_equal(probe(f, 0)->n, 0);
}

static void reset_masks_and_unroutes(void **state)
{
	struct fx *f = *state;

	route(f, PIN_B, 0x41, 0);
	assert_int_equal(avm_actor_reset(f->rt, f->ioapic), 0);
	avm_det_run(f->rt, 0);
	assert_int_equal(reg_read(f, 0x10 + 2 * PIN_B), IOAPIC_RTE_MASKED);
	line(f, 2, 1);
	assert_int_equal(probe(f, 0)->n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(registers, setup, teardown),
		cmocka_unit_test_setup_teardown(masked_pin_delivers_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			unmasked_edge_takes_the_fast_path, setup, teardown),
		cmocka_unit_test_setup_teardown(retarget_moves_the_route, setup,
						teardown),
		cmocka_unit_test_setup_teardown(level_redelivery_after_eoi,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			bad_programming_is_not_delivered, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_masks_and_unroutes, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
