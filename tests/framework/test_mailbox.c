/* SPDX-License-Identifier: MIT */
/* The lock-free ring and mailbox: FIFO per producer, no loss, lane order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "mailbox.h"

#define PRODUCERS    8
#define PER_PRODUCER 20000

static void ring_fifo_and_full(void **unused)
{
	struct avm_ring r;
	struct avm_msg m = { 0 };

	(void)unused;
	assert_int_equal(avm_ring_init(&r, 5), 0); /* rounded up to 8 */
	assert_true(avm_ring_empty(&r));
	for (int i = 0; i < 8; i++) {
		m.user.value = (uint64_t)i;
		assert_int_equal(avm_ring_push(&r, &m), 0);
	}
	assert_int_equal(avm_ring_push(&r, &m), -EAGAIN);
	for (int i = 0; i < 8; i++) {
		assert_true(avm_ring_pop(&r, &m));
		assert_int_equal(m.user.value, i);
	}
	assert_false(avm_ring_pop(&r, &m));
	avm_ring_fini(&r);
}

static void ring_rejects_huge_depth(void **unused)
{
	struct avm_ring r;

	(void)unused;
	assert_int_equal(avm_ring_init(&r, 1u << 30), -EINVAL);
}

static void mailbox_lane_priority(void **unused)
{
	struct avm_mailbox mb;
	struct avm_msg m = { 0 };
	const uint8_t order[] = { AVM_LANE_BACKGROUND, AVM_LANE_ACCESS,
				  AVM_LANE_CONTROL, AVM_LANE_ACCESS };

	(void)unused;
	assert_int_equal(avm_mailbox_init(&mb, 16), 0);
	for (unsigned i = 0; i < 4; i++) {
		m.fw.lane = order[i];
		m.user.value = i;
		assert_int_equal(avm_ring_push(&mb.lane[order[i]], &m), 0);
	}
	/* control first, then the two accesses in order, then background */
	const uint64_t want[] = { 2, 1, 3, 0 };
	for (unsigned i = 0; i < 4; i++) {
		assert_true(avm_mailbox_pop(&mb, &m));
		assert_int_equal(m.user.value, want[i]);
	}
	assert_true(avm_mailbox_empty(&mb));
	avm_mailbox_fini(&mb);
}

struct producer {
	struct avm_ring *r;
	uint32_t id;
	uint64_t full_retries;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct avm_msg m = { 0 };

	for (uint32_t seq = 1; seq <= PER_PRODUCER; seq++) {
		m.user.value = ((uint64_t)p->id << 32) | seq;
		/* Yield now and then when full: with more threads than
		 * cores, spinning only delays the consumer it waits for. */
		while (avm_ring_push(p->r, &m) == -EAGAIN) {
			if (++p->full_retries % 64 == 0)
				sched_yield();
		}
	}
	return NULL;
}

/* Many producers into a small ring: every message arrives, each producer's
 * in order, none twice. */
static void ring_stress_many_producers(void **unused)
{
	struct avm_ring r;
	struct producer p[PRODUCERS];
	pthread_t th[PRODUCERS];
	uint32_t last[PRODUCERS] = { 0 };
	uint64_t idle = 0, got = 0, total = (uint64_t)PRODUCERS * PER_PRODUCER;
	struct avm_msg m;

	(void)unused;
	assert_int_equal(avm_ring_init(&r, 64), 0);
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){ .r = &r, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]),
				 0);
	}
	while (got < total) {
		if (!avm_ring_pop(&r, &m)) {
			if (++idle % 64 == 0)
				sched_yield();
			continue;
		}
		uint32_t id = (uint32_t)(m.user.value >> 32);
		uint32_t seq = (uint32_t)m.user.value;

		assert_true(id < PRODUCERS);
		assert_int_equal(seq, last[id] + 1);
		last[id] = seq;
		got++;
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(th[i], NULL);
	assert_false(avm_ring_pop(&r, &m));
	for (int i = 0; i < PRODUCERS; i++)
		assert_int_equal(last[i], PER_PRODUCER);
	avm_ring_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_fifo_and_full),
		cmocka_unit_test(ring_rejects_huge_depth),
		cmocka_unit_test(mailbox_lane_priority),
		cmocka_unit_test(ring_stress_many_producers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
