/* SPDX-License-Identifier: MIT */
/*
 * Private structures shared by the runtime core and the executors.
 * Nothing here is part of the public API.
 */
#ifndef AVM_INTERNAL_H
#define AVM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <actorvm/runtime.h>
#include <actorvm/trace.h>

#include "addrmap.h"
#include "mailbox.h"
#include "reply.h"

#define AVM_CACHELINE 64

/*
 * Kinds only the framework makes and consumes: not in the public enum, so a
 * device cannot name them, and never given to ops->handle. The number is
 * recorded in traces (enum avm_msg_kind leaves it free).
 */
#define AVM_MSG_STOP 11
/* A device process started (user.arg: its pid, user.value: restarts so
 * far) or died (user.arg: its pid, user.value: messages lost, user.status:
 * its exit status or signal): traced as messages to the actor, never
 * delivered (isolation.c). */
#define AVM_MSG_PROC_START AVM_TRACE_KIND_PROC_START
#define AVM_MSG_PROC_EXIT  AVM_TRACE_KIND_PROC_EXIT

/* Message flags (struct avm_msg_fw.flags). A request is answered into its
 * ->fw.slot (an accessor waits there), or, from an actor, as a message back
 * to ->src: DMA_DONE for a deferred DMA read, REPLY for avm_ask(). */
#define AVM_MF_ACK	0x1 /* posted write: ack its sequence into ->fw.slot */
#define AVM_MF_DMA_READ 0x2 /* request: answer as DMA_DONE to ->src */
#define AVM_MF_IN_PLACE 0x4 /* handled on the sender's thread (fast path) */
#define AVM_MF_ASK	0x8 /* request: answer as REPLY to ->src */

/* The answer to a message that is a request goes back to its sender. */
#define AVM_MF_ANSWER_TO_SRC (AVM_MF_DMA_READ | AVM_MF_ASK)

/*
 * A message's body as the kind-blind fields traces, the harness's captures
 * and the wire record (proto/trace.proto: arg, size, status, addr, value).
 * The mapping per kind is the one these formats have always used, so a
 * trace recorded before the typed bodies reads the same (message.c).
 */
void avm__msg_flatten(const struct avm_msg *m, struct avm_msg_user *f);

enum avm_run_state {
	AVM_ACTOR_CREATED = 0,
	AVM_ACTOR_RUNNING,
	AVM_ACTOR_STOPPING,
	AVM_ACTOR_STOPPED,
};

struct avm_actor {
	avm_runtime *rt;
	avm_actor_id id;
	const struct avm_device_ops *ops;
	char *name;
	void *state;
	const void *config;
	struct avm_actor_spec spec;
	_Atomic int run_state;
	bool inited;
	uint64_t next_corr;	 /* actor thread only */
	uint64_t cur_corr;	 /* corr of the message being handled */
	_Atomic uint64_t *ports; /* packed binding: dst << 32 | arg */
	/* Per port: the route a router published (UNBOUND: use the binding),
	 * and the last level sent with avm_irq_set() (route.c). */
	_Atomic uint64_t *routes;
	_Atomic uint8_t *levels;
	/* Per region: where it is mapped (UINT64_MAX: not), for inspection. */
	_Atomic uint64_t *bases;
	void *exec; /* executor-private per-actor data */
	_Atomic uint64_t handled;
	_Atomic uint64_t dropped;
	_Atomic uint64_t bounced;
	_Atomic uint64_t outbox_max;
	/* Bus mastering off (avm_dma_enable): written by any thread (a PCI
	 * host), read by the actor's own thread at each DMA call. Zeroed at
	 * creation: DMA is on by default. */
	_Atomic bool dma_off;
	/* Journal (journal.c): AVM_JMODE_*, set before the actor first runs
	 * (recording: by a trace start, off again by a later one; replay: by
	 * the replay engine). jseq: next entry's number, callbacks only. */
	_Atomic uint8_t jmode;
	uint64_t jseq;
	struct avm_replay_run *replay;
	/* Device process (isolation.c): the supervisor's side in the VMM,
	 * or, in the process itself, the process's side (iso_child.c). */
	struct avm_iso *iso;
	struct avm_iso_child *isoc;
	/* Own cache line: VCPUs read these while the actor writes them. */
	_Alignas(AVM_CACHELINE) _Atomic uint64_t direct[AVM_MAX_DIRECT];
};

#define AVM_PORT_UNBOUND UINT64_MAX

struct avm_ctx {
	struct avm_actor *self;
	struct avm_msg *cur; /* message being handled, NULL in init/reset */
	bool replied;
};

/*
 * An executor. The core calls post() inside an RCU read-side section after
 * checking that @dst is running; @from is the sending actor or NULL for an
 * accessor. wait_reply() waits for the slot of a request posted by @acc.
 */
struct avm_exec_ops {
	const char *name;
	int (*init)(avm_runtime *rt);
	void (*fini)(avm_runtime *rt);
	int (*actor_init)(struct avm_actor *a);
	void (*actor_fini)(struct avm_actor *a);
	int (*start)(avm_runtime *rt);
	void (*stop_actor)(struct avm_actor *a);
	int (*post)(struct avm_actor *dst, struct avm_msg *m,
		    struct avm_actor *from);
	int (*wait_reply)(avm_accessor *acc, struct avm_reply_slot *slot,
			  uint64_t corr, uint64_t deadline, uint64_t *val);
	int (*timer_arm)(struct avm_actor *a, unsigned id, uint64_t delay,
			 uint64_t period);
	void (*timer_cancel)(struct avm_actor *a, unsigned id);
	int (*fd_watch)(struct avm_actor *a, unsigned id, int fd, unsigned ev);
	void (*fd_unwatch)(struct avm_actor *a, unsigned id);
	uint64_t (*now)(avm_runtime *rt);
	/* Optional: make progress on queued work (single-threaded executors).
	 */
	void (*settle)(avm_runtime *rt);
	/* Self-driven actors (ops->run); NULL where unsupported. */
	int (*poll)(struct avm_actor *a);
	int (*wait)(struct avm_actor *a, int64_t timeout_ns);
	int (*set_kick)(struct avm_actor *a, avm_kick_fn fn, void *arg);
	/* Optional: called after each handler, before its trace event. */
	void (*after_handle)(struct avm_actor *a);
	/* Optional observer hooks (the deterministic executor captures). */
	void (*on_dma)(struct avm_actor *a, bool write, uint64_t gpa,
		       const void *buf, size_t len, int status);
	void (*on_send)(struct avm_actor *a, int port, avm_actor_id dst,
			const struct avm_msg *m, int result);
};

struct avm_ram_block {
	uint64_t gpa;
	uint64_t size;
	void *host;
};

struct avm_runtime {
	struct avm_runtime_config cfg;
	const struct avm_exec_ops *exec;
	void *exec_priv;
	struct avm_actor **actors;
	unsigned n_actors;
	bool started;
	struct avm_ram_block *ram;
	unsigned n_ram;
	struct avm_addrmaps maps;
	_Atomic uint32_t next_accessor;
	/* VM exit requested by the guest (avm_vm_exit). */
	pthread_mutex_t exit_lock;
	pthread_cond_t exit_cond;
	bool exited;
	int exit_code;
	/* Output lost (avm_runtime_data_lost), from any thread. */
	_Atomic unsigned losses;
	/* Tracing: one relaxed load of trace_on per event site while off. */
	_Atomic bool trace_on;
	struct avm_tracer *tracer;
};

struct avm_accessor {
	avm_runtime *rt;
	char *name;
	uint32_t id;
	uint64_t next_corr;
	uint64_t posted; /* posted writes (compared with slot.acked) */
	struct avm_reply_slot slot;
};

extern const struct avm_exec_ops avm_exec_threaded;
extern const struct avm_exec_ops avm_exec_biglock;
extern const struct avm_exec_ops avm_exec_deterministic;

/* runtime.c */
void avm__log(avm_runtime *rt, int level, const char *actor, const char *fmt,
	      ...) __attribute__((format(printf, 4, 5)));
struct avm_actor *avm__actor(avm_runtime *rt, avm_actor_id id);

/* ctx.c: run one message through a device, answer unanswered requests. */
void avm__deliver(struct avm_actor *a, struct avm_msg *m);
int avm__actor_init(struct avm_actor *a);
void avm__actor_fini(struct avm_actor *a);
int avm__post(struct avm_actor *dst, struct avm_msg *m, struct avm_actor *from);
void avm__complete(struct avm_actor *a, struct avm_msg *m, uint64_t val,
		   int err);
enum avm_lane avm__lane_of(uint16_t kind);
bool avm__is_request(const struct avm_msg *m);
uint64_t avm__corr(struct avm_actor *a);

/* trace.c: record one event (call only when rt->trace_on is set). */
void avm__trace_msg(avm_runtime *rt, unsigned type, avm_actor_id actor,
		    const struct avm_msg *m);
void avm__trace_reply(avm_runtime *rt, avm_actor_id actor,
		      const struct avm_msg *req, uint64_t value, int err);
int avm__tracer_new(avm_runtime *rt);
void avm__tracer_free(avm_runtime *rt);

/* journal.c: the journal of an actor's calls (see trace.h). */
enum { AVM_JMODE_OFF = 0, AVM_JMODE_RECORD = 1, AVM_JMODE_REPLAY = 2 };

static inline unsigned avm__jmode(struct avm_actor *a)
{
	/* Relaxed: set before the actor's threads exist, or cleared by a
	 * later trace start, where a late entry is dropped by generation. */
	return atomic_load_explicit(&a->jmode, memory_order_relaxed);
}

/*
 * avm__journal() - one call of @a's: recorded (RECORD, when a trace runs)
 * or matched against the recording (REPLAY). Returns the recorded entry
 * in REPLAY (its inputs are what the call returns), NULL in RECORD or
 * after a divergence (the call then fails with -EIO or returns 0).
 */
const struct avm_journal_entry *avm__journal(struct avm_actor *a,
					     struct avm_journal_entry *e);
/* Journal @m as an entry of @type (DELIVER, RESET) with @flags. */
void avm__journal_msg(struct avm_actor *a, unsigned type,
		      const struct avm_msg *m, uint32_t flags);
/* @m's kind, ids and body into @e (@f: scratch for the flat body). */
void avm__journal_fill_msg(struct avm_journal_entry *e, const struct avm_msg *m,
			   struct avm_msg_user *f);
/* Journal (or match) a call with no data; in REPLAY use avm__journal(). */
void avm__journal_call(struct avm_actor *a, unsigned type, uint32_t arg,
		       uint64_t addr, uint64_t value, int result);
/* message.c: the inverse of avm__msg_flatten() for a message of @kind
 * (DMA_DONE's and REPLY's token are their corr). */
void avm__msg_unflatten(struct avm_msg *m, uint16_t kind,
			const struct avm_msg_user *f);

/* trace.c: append a journal entry to the calling thread's ring. */
void avm__trace_journal(avm_runtime *rt, const struct avm_journal_entry *e);
/* replay.c: after an IO entry matched, skip what the I/O did inside and
 * return its IO_END (NULL: a divergence, reported). */
const struct avm_journal_entry *avm__replay_io_end(struct avm_replay_run *run);
/* replay.c: the next recorded call of the replayed actor, if it matches. */
const struct avm_journal_entry *
avm__replay_match(struct avm_replay_run *run,
		  const struct avm_journal_entry *e);

#define AVM_TRACE_MSG(rt, type, actor, m)                                      \
	do {                                                                   \
		if (atomic_load_explicit(&(rt)->trace_on,                      \
					 memory_order_relaxed))                \
			avm__trace_msg((rt), (type), (actor), (m));            \
	} while (0)

static inline uint64_t avm__pack_binding(avm_actor_id dst, uint32_t arg)
{
	return ((uint64_t)dst << 32) | arg;
}

#endif /* AVM_INTERNAL_H */
