/* SPDX-License-Identifier: MIT */
#include "reply.h"

#include <errno.h>
#include <sched.h>
#include <time.h>

#include "futex.h"

uint64_t avm__slot_claim_wait_ns = 10000000000ull;

uint64_t avm_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void avm_slot_arm(struct avm_reply_slot *slot, uint64_t corr)
{
	atomic_store_explicit(&slot->state, AVM_SLOT_PENDING,
			      memory_order_relaxed);
	/* Release: the replier that claims @want must see PENDING. */
	atomic_store_explicit(&slot->want, corr, memory_order_release);
}

bool avm_slot_complete(struct avm_reply_slot *slot, uint64_t corr,
		       uint64_t value, int err)
{
	uint64_t expect = corr;
	uint32_t old;

	/* Claim first so an abandoning waiter and we cannot both win. */
	if (!atomic_compare_exchange_strong_explicit(
		    &slot->want, &expect, AVM_SLOT_CLAIMED,
		    memory_order_acquire, memory_order_relaxed))
		return false;
	slot->value = value;
	slot->err = err;
	/* Release publishes value/err; the exchange tells us if it sleeps. */
	old = atomic_exchange_explicit(&slot->state, AVM_SLOT_DONE,
				       memory_order_acq_rel);
	if (old == AVM_SLOT_SLEEPING)
		avm_futex_wake(&slot->state);
	return true;
}

bool avm_slot_done(struct avm_reply_slot *slot)
{
	return atomic_load_explicit(&slot->state, memory_order_acquire) ==
	       AVM_SLOT_DONE;
}

int avm_slot_take(struct avm_reply_slot *slot, uint64_t *val)
{
	int err = slot->err;

	if (val && !err)
		*val = slot->value;
	atomic_store_explicit(&slot->want, 0, memory_order_relaxed);
	atomic_store_explicit(&slot->state, AVM_SLOT_IDLE,
			      memory_order_relaxed);
	return err;
}

bool avm_slot_abandon(struct avm_reply_slot *slot, uint64_t corr)
{
	uint64_t expect = corr;

	if (atomic_compare_exchange_strong_explicit(&slot->want, &expect, 0,
						    memory_order_acq_rel,
						    memory_order_acquire)) {
		atomic_store_explicit(&slot->state, AVM_SLOT_IDLE,
				      memory_order_relaxed);
		return true;
	}
	return false;
}

/* Poll until done, @spin_ns passed (negative: no limit) or @deadline. */
static bool spin_for(struct avm_reply_slot *slot, int64_t spin_ns,
		     uint64_t deadline)
{
	uint64_t until;
	unsigned i = 0;

	if (spin_ns == 0)
		return avm_slot_done(slot);
	until = spin_ns > 0 ? avm_mono_ns() + (uint64_t)spin_ns : deadline;
	if (until > deadline)
		until = deadline;
	for (;;) {
		if (avm_slot_done(slot))
			return true;
		avm_cpu_relax();
		/* Read the clock only every 64 polls: it costs ~20 ns. */
		if ((++i & 63) == 0 && avm_mono_ns() > until)
			return false;
	}
}

/*
 * A replier claimed the slot just now: its answer is a few stores away. If
 * it never comes (a replier thread gone), waiting for ever would hang the
 * caller; bound it, and keep the slot from reuse, as its write may come yet.
 */
static int wait_claimed(struct avm_reply_slot *slot, uint64_t *val)
{
	uint64_t until = avm_mono_ns() + avm__slot_claim_wait_ns;

	while (!avm_slot_done(slot)) {
		if (avm_mono_ns() > until) {
			atomic_store(&slot->broken, true);
			return -EIO;
		}
		sched_yield();
	}
	return avm_slot_take(slot, val);
}

int avm_slot_wait(struct avm_reply_slot *slot, uint64_t corr, int64_t spin_ns,
		  uint64_t deadline_ns, uint64_t *val)
{
	uint32_t expect;

	if (spin_for(slot, spin_ns, deadline_ns))
		return avm_slot_take(slot, val);
	for (;;) {
		expect = AVM_SLOT_PENDING;
		/* Announce the sleep; if the reply beat us, the CAS fails. */
		atomic_compare_exchange_strong_explicit(
			&slot->state, &expect, AVM_SLOT_SLEEPING,
			memory_order_acq_rel, memory_order_acquire);
		if (avm_slot_done(slot))
			return avm_slot_take(slot, val);
		if (avm_mono_ns() >= deadline_ns)
			break;
		avm_futex_wait(&slot->state, AVM_SLOT_SLEEPING, deadline_ns);
	}
	if (avm_slot_abandon(slot, corr))
		return -ETIMEDOUT;
	return wait_claimed(slot, val);
}
