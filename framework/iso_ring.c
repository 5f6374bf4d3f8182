/* SPDX-License-Identifier: MIT */
/* The rings and futexes a device process shares with its supervisor. */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "iso.h"

void iso_futex_wait(_Atomic uint32_t *word, uint32_t expect,
		    uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000ull),
		.tv_nsec = (long)(deadline_ns % 1000000000ull),
	};

	/* Shared (no PRIVATE flag): the waker is another process. */
	syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expect,
		deadline_ns == UINT64_MAX ? NULL : &ts, NULL,
		FUTEX_BITSET_MATCH_ANY);
}

void iso_futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

struct iso_rec *iso_ring_claim(struct iso_ring *r, uint64_t *head_seen)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	/* Unsigned: a head that is ahead of the tail (a broken consumer)
	 * reads as full, never as room. */
	if (t - *head_seen >= ISO_DEPTH) {
		/* Acquire: the consumer is done with the slot it released.
		 * Read only now: that line is the consumer's. */
		*head_seen =
			atomic_load_explicit(&r->head, memory_order_acquire);
		if (t - *head_seen >= ISO_DEPTH)
			return NULL;
	}
	return &r->rec[t & (ISO_DEPTH - 1)];
}

void iso_ring_publish(struct iso_ring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	/* Release: the record's bytes before its position. */
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

struct iso_rec *iso_ring_peek(struct iso_ring *r, bool *bad)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	/* Acquire: pairs with the producer's release in publish. */
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (t == h)
		return NULL;
	if (t - h > ISO_DEPTH) {
		*bad = true;
		return NULL;
	}
	return &r->rec[h & (ISO_DEPTH - 1)];
}

void iso_ring_release(struct iso_ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	/* Release: our reads of the record before the slot is reused. */
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

/* op is a plain field (records out of the process set it plainly), so
 * the ring into it uses the compiler's atomic builtins on it. */
void iso_ring_publish_op(struct iso_ring *r, struct iso_rec *rec, uint16_t op)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	/* Release: the record's bytes before its op, which the consumer
	 * polls (iso_ring_peek_op). */
	__atomic_store_n(&rec->op, op, __ATOMIC_RELEASE);
	/* Release: the record before the count, for the VMM's readers. */
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

struct iso_rec *iso_ring_peek_op(struct iso_ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	struct iso_rec *rec = &r->rec[h & (ISO_DEPTH - 1)];

	/* Acquire: pairs with the release of op in iso_ring_publish_op. */
	return __atomic_load_n(&rec->op, __ATOMIC_ACQUIRE) ? rec : NULL;
}

void iso_ring_release_op(struct iso_ring *r, struct iso_rec *rec)
{
	/* Relaxed: the release of head orders it before the producer,
	 * which reuses the slot only once head has passed it. */
	__atomic_store_n(&rec->op, 0, __ATOMIC_RELAXED);
	iso_ring_release(r);
}

void iso_ring_clear_ops(struct iso_ring *r)
{
	for (unsigned i = 0; i < ISO_DEPTH; i++)
		__atomic_store_n(&r->rec[i].op, 0, __ATOMIC_RELAXED);
}
