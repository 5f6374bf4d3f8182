/* SPDX-License-Identifier: MIT */
/* The local APIC model on its own: a fake VCPU side records IPIs, EOIs and
 * timer arming, and a fake clock stands in for time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <string.h>

#include "lapic.h"

struct fake {
	uint64_t now;
	uint64_t armed_delay; /* 0: not armed */
	unsigned arms, cancels;
	uint8_t ipi_id[32], ipi_vec[32];
	unsigned n_ipi;
	uint8_t eoi_vec[8];
	unsigned n_eoi;
};

static void f_ipi(void *arg, uint8_t id, uint8_t vector)
{
	struct fake *f = arg;

	f->ipi_id[f->n_ipi] = id;
	f->ipi_vec[f->n_ipi++] = vector;
}

static void f_eoi(void *arg, uint8_t vector)
{
	struct fake *f = arg;

	f->eoi_vec[f->n_eoi++] = vector;
}

static void f_arm(void *arg, uint64_t delay)
{
	struct fake *f = arg;

	f->armed_delay = delay;
	f->arms++;
}

static void f_cancel(void *arg)
{
	struct fake *f = arg;

	f->armed_delay = 0;
	f->cancels++;
}

static uint64_t f_now(void *arg)
{
	return ((struct fake *)arg)->now;
}

static const struct lapic_ops fake_ops = {
	.ipi = f_ipi,
	.eoi = f_eoi,
	.timer_arm = f_arm,
	.timer_cancel = f_cancel,
	.now = f_now,
};

struct t {
	struct fake f;
	struct lapic l;
};

static int setup(void **state)
{
	static struct t t;

	memset(&t, 0, sizeof(t));
	lapic_init(&t.l, 2, &fake_ops, &t.f);
	*state = &t;
	return 0;
}

static void enable(struct lapic *l)
{
	lapic_write(l, LAPIC_SVR, LAPIC_SVR_ENABLE | 0xFF);
}

/* Advance the fake clock to the armed expiry and fire it. */
static void fire(struct t *t)
{
	assert_true(t->f.armed_delay > 0);
	t->f.now += t->f.armed_delay;
	t->f.armed_delay = 0;
	lapic_timer_expired(&t->l);
}

static void reset_values(void **state)
{
	struct t *t = *state;

	assert_int_equal(lapic_read(&t->l, LAPIC_ID), 2u << 24);
	assert_int_equal(lapic_read(&t->l, LAPIC_VERSION) & 0xFF, 0x14);
	assert_int_equal((lapic_read(&t->l, LAPIC_VERSION) >> 16) & 0xFF, 5);
	assert_int_equal(lapic_read(&t->l, LAPIC_SVR), 0xFF);
	assert_int_equal(lapic_read(&t->l, LAPIC_DFR), 0xFFFFFFFFu);
	assert_int_equal(lapic_read(&t->l, LAPIC_LVT_TIMER), LAPIC_LVT_MASKED);
	assert_int_equal(lapic_read(&t->l, LAPIC_LVT_ERROR), LAPIC_LVT_MASKED);
	assert_int_equal(lapic_read(&t->l, LAPIC_TIMER_CUR), 0);
	assert_int_equal(lapic_read(&t->l, 0x3F0), 0); /* reserved */
}

static void disabled_apic_holds_interrupts(void **state)
{
	struct t *t = *state;

	assert_true(lapic_accept(&t->l, 0x40, false));
	assert_int_equal(lapic_pending(&t->l), -1); /* software-disabled */
	assert_int_equal(lapic_read(&t->l, LAPIC_IRR + 0x20), 1u); /* 0x40 */
	enable(&t->l);
	assert_int_equal(lapic_pending(&t->l), 0x40);
}

static void disabled_apic_keeps_lvt_masked(void **state)
{
	struct t *t = *state;

	lapic_write(&t->l, LAPIC_LVT_TIMER, 0x30);
	assert_int_equal(lapic_read(&t->l, LAPIC_LVT_TIMER),
			 0x30 | LAPIC_LVT_MASKED);
	enable(&t->l);
	lapic_write(&t->l, LAPIC_LVT_TIMER, 0x30);
	assert_int_equal(lapic_read(&t->l, LAPIC_LVT_TIMER), 0x30);
	lapic_write(&t->l, LAPIC_SVR, 0xFF); /* disable again: all masked */
	assert_true(lapic_read(&t->l, LAPIC_LVT_TIMER) & LAPIC_LVT_MASKED);
}

static void priority_and_eoi(void **state)
{
	struct t *t = *state;

	enable(&t->l);
	lapic_accept(&t->l, 0x31, false);
	lapic_accept(&t->l, 0x52, false);
	assert_int_equal(lapic_pending(&t->l), 0x52);
	lapic_ack(&t->l, 0x52);
	assert_int_equal(lapic_read(&t->l, LAPIC_ISR + 0x20), 1u << 0x12);
	assert_int_equal(lapic_read(&t->l, LAPIC_PPR), 0x50);
	/* 0x31 is of a lower class than the one in service: it waits. */
	assert_int_equal(lapic_pending(&t->l), -1);
	lapic_write(&t->l, LAPIC_EOI, 0);
	assert_int_equal(lapic_pending(&t->l), 0x31);
	assert_int_equal(t->f.n_eoi, 0); /* edge: nothing to tell */
	/* TPR blocks classes at or below it. */
	lapic_write(&t->l, LAPIC_TPR, 0x30);
	assert_int_equal(lapic_pending(&t->l), -1);
	lapic_write(&t->l, LAPIC_TPR, 0x2F);
	assert_int_equal(lapic_pending(&t->l), 0x31);
	/* An EOI with nothing in service changes nothing. */
	lapic_write(&t->l, LAPIC_EOI, 0);
	assert_int_equal(lapic_pending(&t->l), 0x31);
}

static void level_eoi_is_reported(void **state)
{
	struct t *t = *state;

	enable(&t->l);
	lapic_accept(&t->l, 0x61, true);
	assert_int_equal(lapic_read(&t->l, LAPIC_TMR + 0x30), 1u << 1);
	lapic_ack(&t->l, 0x61);
	lapic_write(&t->l, LAPIC_EOI, 0);
	assert_int_equal(t->f.n_eoi, 1);
	assert_int_equal(t->f.eoi_vec[0], 0x61);
	assert_int_equal(lapic_read(&t->l, LAPIC_TMR + 0x30), 0);
}

static void illegal_vectors(void **state)
{
	struct t *t = *state;

	enable(&t->l);
	assert_false(lapic_accept(&t->l, 7, false));
	assert_int_equal(lapic_pending(&t->l), -1);
	/* ESR latches on a write, then reads what was seen. */
	assert_int_equal(lapic_read(&t->l, LAPIC_ESR), 0);
	lapic_write(&t->l, LAPIC_ESR, 0);
	assert_int_equal(lapic_read(&t->l, LAPIC_ESR), LAPIC_ESR_RECV_ILLEGAL);
	lapic_write(&t->l, LAPIC_ICR_LO, 3); /* fixed IPI, vector 3 */
	assert_int_equal(t->f.n_ipi, 0);
	lapic_write(&t->l, LAPIC_ESR, 0);
	assert_int_equal(lapic_read(&t->l, LAPIC_ESR), LAPIC_ESR_SEND_ILLEGAL);
}

static void ipis(void **state)
{
	struct t *t = *state;

	enable(&t->l);
	lapic_write(&t->l, LAPIC_ICR_HI, 5u << 24);
	lapic_write(&t->l, LAPIC_ICR_LO, 0x45); /* physical, fixed */
	assert_int_equal(t->f.n_ipi, 1);
	assert_int_equal(t->f.ipi_id[0], 5);
	assert_int_equal(t->f.ipi_vec[0], 0x45);
	assert_int_equal(lapic_read(&t->l, LAPIC_ICR_LO) & (1u << 12), 0);
	lapic_write(&t->l, LAPIC_ICR_LO, 0x46 | 1u << 18); /* self */
	assert_int_equal(t->f.n_ipi, 1);
	assert_int_equal(lapic_pending(&t->l), 0x46);
	lapic_write(&t->l, LAPIC_ICR_LO, 0x47 | 3u << 18); /* all but self */
	assert_int_equal(t->f.n_ipi, 1 + 15);
	for (unsigned i = 1; i < t->f.n_ipi; i++)
		assert_int_not_equal(t->f.ipi_id[i], 2);
	t->f.n_ipi = 0;
	lapic_write(&t->l, LAPIC_ICR_HI, 0x09u << 24);
	lapic_write(&t->l, LAPIC_ICR_LO, 0x48 | 1u << 11); /* logical 0,3 */
	assert_int_equal(t->f.n_ipi, 2);
	assert_int_equal(t->f.ipi_id[0], 0);
	assert_int_equal(t->f.ipi_id[1], 3);
	t->f.n_ipi = 0;
	lapic_write(&t->l, LAPIC_ICR_LO, 0x49 | 5u << 8); /* INIT: ignored */
	assert_int_equal(t->f.n_ipi, 0);
}

static void one_shot_timer(void **state)
{
	struct t *t = *state;

	enable(&t->l);
	lapic_write(&t->l, LAPIC_LVT_TIMER, 0x40);
	lapic_write(&t->l, LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
	lapic_write(&t->l, LAPIC_TIMER_INIT, 1000);
	assert_int_equal(t->f.armed_delay, 16000); /* 1 GHz bus clock */
	t->f.now += 1600;
	assert_int_equal(lapic_read(&t->l, LAPIC_TIMER_CUR), 900);
	t->f.now -= 1600;
	fire(t);
	assert_int_equal(lapic_pending(&t->l), 0x40);
	assert_int_equal(lapic_read(&t->l, LAPIC_TIMER_CUR), 0);
	assert_int_equal(t->f.armed_delay, 0); /* not re-armed */
}

static void periodic_timer_does_not_drift(void **state)
{
	struct t *t = *state;

	enable(&t->l);
	lapic_write(&t->l, LAPIC_LVT_TIMER, 0x40 | LAPIC_LVT_PERIODIC);
	lapic_write(&t->l, LAPIC_TIMER_DIV, 0xB); /* divide by 1 */
	lapic_write(&t->l, LAPIC_TIMER_INIT, 500);
	assert_int_equal(t->f.armed_delay, 500);
	/* The expiry comes 30 ns late: the next one is still due at 1000. */
	t->f.now += 530;
	t->f.armed_delay = 0;
	lapic_timer_expired(&t->l);
	assert_int_equal(t->f.armed_delay, 470);
	assert_int_equal(lapic_pending(&t->l), 0x40);
	assert_int_equal(lapic_read(&t->l, LAPIC_TIMER_CUR), 470);
	/* Very late (3.2 periods): one interrupt, next at the next edge. */
	t->f.now = 1000 + 1600;
	lapic_timer_expired(&t->l);
	assert_int_equal(t->f.armed_delay, 400);
	assert_int_equal(t->l.timer_fired, 2);
}

static void masked_timer_counts_without_interrupts(void **state)
{
	struct t *t = *state;

	enable(&t->l);
	lapic_write(&t->l, LAPIC_LVT_TIMER, 0x40 | LAPIC_LVT_MASKED);
	lapic_write(&t->l, LAPIC_TIMER_DIV, 0xB);
	lapic_write(&t->l, LAPIC_TIMER_INIT, 100);
	t->f.now += 40;
	assert_int_equal(lapic_read(&t->l, LAPIC_TIMER_CUR), 60);
	fire(t);
	assert_int_equal(lapic_pending(&t->l), -1);
	/* Writing 0 stops it and cancels the expiry. */
	lapic_write(&t->l, LAPIC_TIMER_INIT, 0);
	assert_int_equal(lapic_read(&t->l, LAPIC_TIMER_CUR), 0);
	assert_int_equal(t->f.armed_delay, 0);
}

static void divide_codes(void **state)
{
	static const struct {
		uint32_t code, div;
	} map[] = { { 0x0, 2 },	 { 0x1, 4 },  { 0x2, 8 },   { 0x3, 16 },
		    { 0x8, 32 }, { 0x9, 64 }, { 0xA, 128 }, { 0xB, 1 } };
	struct t *t = *state;

	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		lapic_write(&t->l, LAPIC_TIMER_DIV, map[i].code | 0xF4);
		assert_int_equal(lapic_read(&t->l, LAPIC_TIMER_DIV),
				 map[i].code);
		lapic_write(&t->l, LAPIC_TIMER_INIT, 10);
		assert_int_equal(t->f.armed_delay, 10ull * map[i].div);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(reset_values, setup),
		cmocka_unit_test_setup(disabled_apic_holds_interrupts, setup),
		cmocka_unit_test_setup(disabled_apic_keeps_lvt_masked, setup),
		cmocka_unit_test_setup(priority_and_eoi, setup),
		cmocka_unit_test_setup(level_eoi_is_reported, setup),
		cmocka_unit_test_setup(illegal_vectors, setup),
		cmocka_unit_test_setup(ipis, setup),
		cmocka_unit_test_setup(one_shot_timer, setup),
		cmocka_unit_test_setup(periodic_timer_does_not_drift, setup),
		cmocka_unit_test_setup(masked_timer_counts_without_interrupts,
				       setup),
		cmocka_unit_test_setup(divide_codes, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
