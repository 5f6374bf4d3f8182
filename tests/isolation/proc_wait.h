/* SPDX-License-Identifier: MIT */
/*
 * What the isolation tests share: a device process's state, and a wait for
 * the state the supervisor reaches from its own loop (a death is noticed
 * there, not by the caller). The wait is for a state, with a guard against
 * a hang: no verdict rests on how long it took.
 */
#ifndef AVM_TESTS_ISOLATION_PROC_WAIT_H
#define AVM_TESTS_ISOLATION_PROC_WAIT_H

#include <stdint.h>
#include <time.h>

#include <actorvm/isolation.h>
#include <actorvm/runtime.h>

static inline uint64_t pw_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static inline void pw_nap(void)
{
	struct timespec t = { 0, 1000000 };

	nanosleep(&t, NULL);
}

/* Actor @id's process now; fails the test if it has none. */
static inline struct avm_process_info pw_info(avm_runtime *rt, avm_actor_id id)
{
	struct avm_process_info i;

	assert_int_equal(avm_actor_process(rt, id, &i), 0);
	return i;
}

/* Waits (at most @guard_ns) until @id's process is in state @st after at
 * least @restarts restarts, and asserts it got there. */
static inline struct avm_process_info
pw_wait_state(avm_runtime *rt, avm_actor_id id, enum avm_process_state st,
	      unsigned restarts, uint64_t guard_ns)
{
	uint64_t guard = pw_now_ns() + guard_ns;
	struct avm_process_info i = pw_info(rt, id);

	while ((i.state != st || i.restarts < restarts) &&
	       pw_now_ns() < guard) {
		pw_nap();
		i = pw_info(rt, id);
	}
	assert_int_equal(i.state, st);
	assert_true(i.restarts >= restarts);
	return i;
}

#endif
