/* SPDX-License-Identifier: MIT */
/*
 * Lock-free bounded multi-producer/single-consumer ring of message envelopes.
 *
 * Each slot carries a sequence number (Vyukov's bounded queue): a producer
 * claims a position with one CAS on @tail and publishes the slot by storing
 * pos + 1 into its sequence; the single consumer reads positions in order.
 * Positions are claimed in order, so messages from one producer stay FIFO.
 * A mailbox is one ring per lane.
 */
#ifndef AVM_MAILBOX_H
#define AVM_MAILBOX_H

#include <stdatomic.h>
#include <stdbool.h>

#include <actorvm/actor.h>

/*
 * Mailbox lanes (struct avm_msg_fw.lane, set from the kind by avm__post()),
 * served in this order: control (stop, reset, device control kinds), access
 * (guest reads and writes), background (everything else).
 */
enum avm_lane {
	AVM_LANE_CONTROL = 0,
	AVM_LANE_ACCESS,
	AVM_LANE_BACKGROUND,
	AVM_LANE_COUNT
};

/*
 * 128-byte aligned: an envelope plus its sequence word is 112 bytes, and a
 * slot sharing a line with its neighbour makes the producer of message i+1
 * and the consumer of message i fight over that line (measured: ~20 ns off
 * the p50 of a spinning read, ~60 ns off its p99).
 */
struct avm_ring_slot {
	_Alignas(128) _Atomic uint64_t seq;
	struct avm_msg msg;
};

/* The envelope's size is part of the design, not an accident: a field added
 * to struct avm_msg must come with a look at the slot (one 128-byte slot
 * per message) and at the copies each hop makes. 104 bytes: a 24-byte
 * header, a 32-byte typed body, the framework's 16 bytes, the inline
 * payload (which an external payload's pointer shares). */
_Static_assert(sizeof(struct avm_msg) == 64 + sizeof(void *) + AVM_MSG_INLINE,
	       "struct avm_msg changed size: check the mailbox slot");
_Static_assert(sizeof(struct avm_msg) == 104,
	       "struct avm_msg is 104 bytes on the 64-bit hosts we build for");
_Static_assert(sizeof(struct avm_ring_slot) == 128,
	       "a mailbox slot must stay one 128-byte unit");

struct avm_ring {
	uint64_t mask;
	struct avm_ring_slot *slots;
	/* Producers and the consumer on separate lines: no false sharing. */
	_Alignas(64) _Atomic uint64_t tail;
	_Alignas(64) uint64_t head;
};

struct avm_mailbox {
	struct avm_ring lane[AVM_LANE_COUNT];
};

int avm_ring_init(struct avm_ring *r, unsigned depth);
void avm_ring_fini(struct avm_ring *r);
/* Producer side, any thread. -EAGAIN when full. */
int avm_ring_push(struct avm_ring *r, const struct avm_msg *m);
/* Consumer side, one thread. false when empty. */
bool avm_ring_pop(struct avm_ring *r, struct avm_msg *m);
bool avm_ring_empty(struct avm_ring *r);
/* Consumer side: nothing published nor claimed (a producer may have taken
 * a position and not yet filled it: that ring is not idle). */
bool avm_ring_idle(struct avm_ring *r);

int avm_mailbox_init(struct avm_mailbox *mb, unsigned depth);
void avm_mailbox_fini(struct avm_mailbox *mb);
/* Pop the most urgent message: control, then access, then background. */
bool avm_mailbox_pop(struct avm_mailbox *mb, struct avm_msg *m);
bool avm_mailbox_empty(struct avm_mailbox *mb);
bool avm_mailbox_idle(struct avm_mailbox *mb);

#endif /* AVM_MAILBOX_H */
