/* SPDX-License-Identifier: MIT */
#include "mailbox.h"

#include <errno.h>
#include <stdlib.h>

#define AVM_RING_MAX_DEPTH (1u << 20)

int avm_ring_init(struct avm_ring *r, unsigned depth)
{
	uint64_t n = 2;

	if (depth > AVM_RING_MAX_DEPTH)
		return -EINVAL;
	while (n < depth)
		n <<= 1;
	r->slots = aligned_alloc(_Alignof(struct avm_ring_slot),
				 n * sizeof(*r->slots));
	if (!r->slots)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		atomic_init(&r->slots[i].seq, i);
	r->mask = n - 1;
	atomic_init(&r->tail, 0);
	r->head = 0;
	return 0;
}

void avm_ring_fini(struct avm_ring *r)
{
	free(r->slots);
	r->slots = NULL;
}

int avm_ring_push(struct avm_ring *r, const struct avm_msg *m)
{
	uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
	struct avm_ring_slot *s;

	for (;;) {
		s = &r->slots[pos & r->mask];
		/* Acquire: the consumer's release freed this slot for reuse. */
		uint64_t seq =
			atomic_load_explicit(&s->seq, memory_order_acquire);
		int64_t dif = (int64_t)(seq - pos);

		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &r->tail, &pos, pos + 1,
				    memory_order_relaxed, memory_order_relaxed))
				break;
		} else if (dif < 0) {
			return -EAGAIN;
		} else {
			pos = atomic_load_explicit(&r->tail,
						   memory_order_relaxed);
		}
	}
	s->msg = *m;
	/* Release: the consumer that sees pos + 1 sees the whole envelope. */
	atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
	return 0;
}

bool avm_ring_pop(struct avm_ring *r, struct avm_msg *m)
{
	struct avm_ring_slot *s = &r->slots[r->head & r->mask];

	/* Acquire pairs with the producer's release of the envelope. */
	if (atomic_load_explicit(&s->seq, memory_order_acquire) != r->head + 1)
		return false;
	*m = s->msg;
	/* Release: the slot's next producer may overwrite the envelope now. */
	atomic_store_explicit(&s->seq, r->head + r->mask + 1,
			      memory_order_release);
	r->head++;
	return true;
}

bool avm_ring_empty(struct avm_ring *r)
{
	struct avm_ring_slot *s = &r->slots[r->head & r->mask];

	return atomic_load_explicit(&s->seq, memory_order_acquire) !=
	       r->head + 1;
}

bool avm_ring_idle(struct avm_ring *r)
{
	/* Acquire: a producer whose claim we see is ordered before us. */
	return atomic_load_explicit(&r->tail, memory_order_acquire) == r->head;
}

int avm_mailbox_init(struct avm_mailbox *mb, unsigned depth)
{
	/* The control lane only ever holds a few stop/reset messages. */
	unsigned depths[AVM_LANE_COUNT] = { 16, depth, depth };
	int err;
	int i;

	for (i = 0; i < AVM_LANE_COUNT; i++) {
		err = avm_ring_init(&mb->lane[i], depths[i]);
		if (err)
			goto undo_rings;
	}
	return 0;

undo_rings:
	while (--i >= 0)
		avm_ring_fini(&mb->lane[i]);
	return err;
}

void avm_mailbox_fini(struct avm_mailbox *mb)
{
	for (int i = 0; i < AVM_LANE_COUNT; i++)
		avm_ring_fini(&mb->lane[i]);
}

bool avm_mailbox_pop(struct avm_mailbox *mb, struct avm_msg *m)
{
	for (int i = 0; i < AVM_LANE_COUNT; i++)
		if (avm_ring_pop(&mb->lane[i], m))
			return true;
	return false;
}

bool avm_mailbox_idle(struct avm_mailbox *mb)
{
	for (int i = 0; i < AVM_LANE_COUNT; i++)
		if (!avm_ring_idle(&mb->lane[i]))
			return false;
	return true;
}

bool avm_mailbox_empty(struct avm_mailbox *mb)
{
	for (int i = 0; i < AVM_LANE_COUNT; i++)
		if (!avm_ring_empty(&mb->lane[i]))
			return false;
	return true;
}
