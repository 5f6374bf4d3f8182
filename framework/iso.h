/* SPDX-License-Identifier: MIT */
/*
 * Device processes (actorvm/isolation.h): the memory the VMM shares with
 * one, and the calls between the supervisor (isolation.c, in the VMM) and
 * the process (iso_child.c). Private to the framework.
 *
 * Everything in struct iso_shm is writable by the device process, which a
 * guest may have taken over: the VMM copies a record out before it looks
 * at it, checks every index and length, and never follows a pointer from
 * here. Each ring has one producer and one consumer: into the process the
 * supervisor (under the actor's execution right) produces, out of it the
 * process's single thread does.
 */
#ifndef AVM_ISO_H
#define AVM_ISO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define ISO_DEPTH 64 /* records per ring: a power of two */

/* Records into the process. */
enum {
	ISO_IN_MSG = 1,	 /* handle iso_rec.msg (REQUEST: answer the cell) */
	ISO_IN_STOP = 2, /* call fini and exit 0 */
};

/* Records out of the process, each one call of the device's. */
enum {
	ISO_OUT_SEND = 1,     /* arg: enum send_how, port; u64: dst; flags */
	ISO_OUT_IRQ,	      /* arg: port, ival: level */
	ISO_OUT_TIMER_ARM,    /* arg: id, u64: delay, u64b: period */
	ISO_OUT_TIMER_CANCEL, /* arg: id */
	ISO_OUT_VM_EXIT,      /* ival: code */
	ISO_OUT_LOG,	      /* ival: level, payload: the line */
	ISO_OUT_SANDBOX,      /* payload: what the sandbox did */
	ISO_OUT_DMA,	      /* a DMA, for an observer: arg write, u64 gpa,
				 ival status, u64b full length, payload */
	ISO_OUT_INIT_DONE,    /* ival: init's result */
};

#define ISO_F_REQUEST 0x1 /* ISO_IN_MSG: answer into the cell */

/* Polls of shared memory per clock read, on both sides: a clock read costs
 * as much as several polls here, and a poll is what sees the answer. */
#define ISO_POLLS_PER_CLOCK 16

/*
 * One record: what a message into the process needs (op, flags, length,
 * the envelope up to its fw part: no pointer crosses) in its first cache
 * line, so a message without payload moves one line into it; then the
 * fields only records out of it use, and the payload bytes in full.
 */
struct iso_rec {
	_Alignas(64) uint16_t op;
	uint16_t flags;
	uint32_t len; /* payload bytes */
	struct avm_msg msg;
	int32_t ival;
	uint32_t arg;
	uint64_t u64;
	uint64_t u64b;
	uint8_t payload[AVM_MSG_MAX_PAYLOAD];
};

/* The part of a message a record carries: all before the framework's. */
#define ISO_MSG_BYTES offsetof(struct avm_msg, fw)

_Static_assert(offsetof(struct iso_rec, msg) + ISO_MSG_BYTES <= 64,
	       "a message into the process is the record's first cache line");
_Static_assert(offsetof(struct avm_msg, fw) +
			       sizeof(((struct avm_msg *)0)->fw) ==
		       sizeof(struct avm_msg),
	       "fw is the envelope's last part: nothing after it to carry");

struct iso_ring {
	_Alignas(64) _Atomic uint64_t tail; /* producer's */
	_Alignas(64) _Atomic uint64_t head; /* consumer's */
	_Alignas(64) struct iso_rec rec[ISO_DEPTH];
};

/* The reply cell's states (one synchronous request at a time). */
enum {
	CELL_IDLE = 0,
	CELL_WAIT,  /* asked, the supervisor polls */
	CELL_SLEEP, /* asked, the supervisor sleeps on the word: wake it */
	CELL_DONE,
	CELL_DEAD, /* the process died: no answer will come */
};

struct iso_shm {
	/* Into the process; the process sleeps on in_sleep (1: asleep). */
	struct iso_ring in;
	_Alignas(64) _Atomic uint32_t in_sleep;
	/* Out of it; the supervisor wants an eventfd kick when out_kick is 1
	 * (it then reads the ring from its loop). */
	_Alignas(64) _Atomic uint32_t out_kick;
	struct iso_ring out;
	/* The reply cell. */
	_Alignas(64) _Atomic uint32_t cell;
	_Atomic uint64_t cell_corr;
	_Atomic uint64_t cell_value;
	_Atomic int32_t cell_err;
	/* Bus mastering off (avm_dma_enable), mirrored for the process. */
	_Alignas(64) _Atomic uint32_t dma_off;
	/* The process finished the message it took last (for counting what
	 * was lost when it dies). */
	_Atomic uint64_t handled;
	/* Virtual time (deterministic executor): the runtime's now at the
	 * message being handled; 0 with the threaded executor's real clock. */
	_Atomic uint64_t vnow;
	_Atomic uint32_t virtual_time;
	/* The process's direct (side-effect-free) registers, published here
	 * so VCPUs read them without a crossing (avm__iso_direct). */
	_Alignas(64) _Atomic uint64_t direct[AVM_MAX_DIRECT];
};

/* Futexes on shared memory: no FUTEX_PRIVATE_FLAG, so the key is the page,
 * not the address space, and a wake reaches the other process. */
void iso_futex_wait(_Atomic uint32_t *word, uint32_t expect,
		    uint64_t deadline_ns);
void iso_futex_wake(_Atomic uint32_t *word);

/* Ring helpers: the slot to fill (NULL when full; *@head_seen: the
 * producer's own copy of the consumer's index, read again only when the
 * ring looks full) and its publication; the slot to read (NULL when
 * empty) and its release. */
struct iso_rec *iso_ring_claim(struct iso_ring *r, uint64_t *head_seen);
void iso_ring_publish(struct iso_ring *r);
/* Consumer: NULL when empty. *@bad is set when the producer's index is
 * impossible (more than ISO_DEPTH ahead, or behind): a broken process. */
struct iso_rec *iso_ring_peek(struct iso_ring *r, bool *bad);
void iso_ring_release(struct iso_ring *r);
/* The ring into the process (the VMM produces, the process consumes): a
 * record is ready when its op is set, last; the consumer polls that, so
 * only the record's first line moves to it, not the tail's line too. The
 * tail still counts what was published, for the VMM. */
void iso_ring_publish_op(struct iso_ring *r, struct iso_rec *rec, uint16_t op);
struct iso_rec *iso_ring_peek_op(struct iso_ring *r);
void iso_ring_release_op(struct iso_ring *r, struct iso_rec *rec);
/* Every slot empty again (op 0), for a new consumer. */
void iso_ring_clear_ops(struct iso_ring *r);

/* iso_child.c: the device process's side (a->isoc there). */
struct avm_iso_child {
	struct iso_shm *shm;
	uint64_t out_head_seen; /* iso_ring_claim() */
	bool in_request;	/* handling a request: effects need no kick */
	int notify;
	int64_t spin_ns;
	struct avm_exec_ops exec; /* this process's executor */
};
/* Run @a in this (forked, single-threaded) process: sandbox, init, serve.
 * Never returns. @notify: the supervisor's eventfd; @report: for a trap. */
__attribute__((noreturn)) void avm__iso_child_main(struct avm_actor *a,
						   struct iso_shm *shm,
						   int notify, int report,
						   bool namespaces);

/* Calls of an actor in a device process, from ctx.c, dma.c, route.c. */
int avm__isoc_send(struct avm_actor *a, unsigned how, unsigned port,
		   avm_actor_id dst, const struct avm_msg *m, unsigned flags);
int avm__isoc_irq(struct avm_actor *a, unsigned port, bool level);
int avm__isoc_timer_arm(struct avm_actor *a, unsigned id, uint64_t delay,
			uint64_t period);
void avm__isoc_timer_cancel(struct avm_actor *a, unsigned id);
void avm__isoc_vm_exit(struct avm_actor *a, int code);
bool avm__isoc_dma_off(struct avm_actor *a);
void avm__isoc_direct_set(struct avm_actor *a, unsigned slot, uint64_t v);

/* isolation.c: the supervisor's side, from ctx.c, lifecycle.c, dma.c. */
int avm__iso_new(struct avm_actor *a);
int avm__iso_init(struct avm_actor *a, avm_ctx *ctx);
void avm__iso_fini(struct avm_actor *a);
void avm__iso_deliver(struct avm_actor *a, struct avm_msg *m, avm_ctx *ctx);
void avm__iso_dma_enable(struct avm_actor *a, bool on);
/* From accessor.c, any thread: @slot's published value, when the process
 * lives and has handled all it was given; false: ask the process. */
bool avm__iso_direct(struct avm_actor *a, unsigned slot, uint64_t *val);
void avm__iso_free(struct avm_actor *a);
/* ctx.c: a send as the actor, with the framework's flags (ASK, DMA_READ). */
int avm__send_as(avm_ctx *ctx, unsigned how, unsigned port, avm_actor_id dst,
		 struct avm_msg *m, unsigned flags);

#endif /* AVM_ISO_H */
