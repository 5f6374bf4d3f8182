/* SPDX-License-Identifier: MIT */
/*
 * Reply slots: where the answer to a synchronous request lands.
 *
 * One slot per requester (an accessor), reused for every request. A request
 * sets @want to its correlation id; the replier claims the slot by swapping
 * @want from that id to AVM_SLOT_CLAIMED, so a late reply to a request that
 * already timed out finds a different id and is dropped.
 */
#ifndef AVM_REPLY_H
#define AVM_REPLY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define AVM_SLOT_CLAIMED UINT64_MAX

enum avm_slot_state {
	AVM_SLOT_IDLE = 0,
	AVM_SLOT_PENDING,
	AVM_SLOT_SLEEPING, /* the waiter is in futex_wait: wake it */
	AVM_SLOT_DONE,
};

struct avm_reply_slot {
	_Atomic uint64_t want;
	_Atomic uint32_t state;
	int err;
	uint64_t value;
	/* A claimed reply never came (avm_slot_wait): a late one may still
	 * land here, so the slot must never be armed again. */
	_Atomic bool broken;
	/* Posted writes handled so far, by any actor (acks can come from
	 * several actors in any order, so this counts rather than orders). */
	_Alignas(64) _Atomic uint64_t acked;
};

/* Arm @slot for a request with correlation id @corr (requester side). */
void avm_slot_arm(struct avm_reply_slot *slot, uint64_t corr);

/* Deliver a reply (replier side); false if the request was abandoned. */
bool avm_slot_complete(struct avm_reply_slot *slot, uint64_t corr,
		       uint64_t value, int err);

/* True once a reply is there (non-blocking check, requester side). */
bool avm_slot_done(struct avm_reply_slot *slot);

/*
 * Wait for the reply: poll for @spin_ns (negative: poll forever), then sleep
 * on a futex until @deadline_ns (CLOCK_MONOTONIC). Returns 0 with *@val set,
 * the replier's error, or -ETIMEDOUT. A replier that claimed the slot at the
 * deadline gets avm__slot_claim_wait_ns more to finish (a few stores); past
 * that it is taken for lost: -EIO, and the slot is marked broken.
 */
int avm_slot_wait(struct avm_reply_slot *slot, uint64_t corr, int64_t spin_ns,
		  uint64_t deadline_ns, uint64_t *val);

/* How long a claimed reply may take (10 s; tests shorten it). */
extern uint64_t avm__slot_claim_wait_ns;

/* Take the result of a completed slot and make it idle again. */
int avm_slot_take(struct avm_reply_slot *slot, uint64_t *val);

/* Give up on request @corr; false if a replier already claimed it. */
bool avm_slot_abandon(struct avm_reply_slot *slot, uint64_t corr);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t avm_mono_ns(void);

/*
 * Full barrier between a store and a later load (Dekker-style wake-up
 * protocols). GCC rejects atomic_thread_fence under TSan; the fence guards
 * only the order of atomics (no plain data relies on it), so TSan builds
 * emit the same instruction directly.
 */
static inline void avm_full_fence(void)
{
#if defined(AVM_TSAN) && (defined(__x86_64__) || defined(__i386__))
	__asm__ __volatile__("mfence" ::: "memory");
#else
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* Spin-wait hint for the CPU. */
static inline void avm_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

#endif /* AVM_REPLY_H */
