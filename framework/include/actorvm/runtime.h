/* SPDX-License-Identifier: MIT */
/**
 * DOC: actorvm runtime API
 *
 * A runtime holds a VM's actors, its guest RAM and its address maps, and runs
 * them with one executor:
 *
 * - %AVM_EXEC_THREADED: one server thread per actor, each with a libev loop
 *   and a lock-free mailbox (production).
 * - %AVM_EXEC_BIGLOCK: handlers run inline on the calling thread under one
 *   global mutex; timers and fds on one iothread under the same mutex (the
 *   QEMU-style baseline).
 * - %AVM_EXEC_DETERMINISTIC: one thread, a virtual clock, seeded delivery
 *   order among independent senders (tests and replay).
 *
 * Set-up (actors, bindings, RAM) happens before avm_runtime_start(); address
 * maps may change at any time. Guest accesses come from &avm_accessor
 * handles, one per VCPU thread.
 *
 * Errors: 0 or a negative errno value everywhere.
 */
#ifndef ACTORVM_RUNTIME_H
#define ACTORVM_RUNTIME_H

#include <actorvm/actor.h>
#include <actorvm/isolation.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct avm_runtime avm_runtime;
typedef struct avm_accessor avm_accessor;

/** enum avm_exec_kind - which executor runs the actors. */
enum avm_exec_kind {
	AVM_EXEC_THREADED = 0,
	AVM_EXEC_BIGLOCK,
	AVM_EXEC_DETERMINISTIC,
};

/**
 * typedef avm_log_fn - where log lines go.
 * Called from any thread; must be thread-safe. @actor is NULL for the runtime.
 */
typedef void (*avm_log_fn)(void *arg, int level, const char *actor,
			   const char *line);

/**
 * struct avm_runtime_config - runtime-wide settings. Zero means default.
 * @exec: the executor.
 * @seed: delivery-order seed of the deterministic executor.
 * @mlock: mlockall() at start (a warning, not a failure, if refused).
 * @read_deadline_ns: how long a synchronous request may wait (default 1 s).
 * @reply_spin_ns: how long a caller polls for a reply before sleeping
 *   (default 20 us; negative: never sleep).
 * @max_actors: capacity of the actor table (default 64).
 * @log: log sink (default: stderr); @log_arg is passed to it.
 * @log_level: lines above this level are dropped (0: AVM_LOG_INFO; a
 *   negative value drops everything).
 */
struct avm_runtime_config {
	enum avm_exec_kind exec;
	uint64_t seed;
	bool mlock;
	uint64_t read_deadline_ns;
	int64_t reply_spin_ns;
	unsigned max_actors;
	avm_log_fn log;
	void *log_arg;
	int log_level;
};

/**
 * AVM_CPU() - the bit of host CPU @n (0..63) in &avm_actor_spec.cpus.
 */
#define AVM_CPU(n) (UINT64_C(1) << (n))

/**
 * AVM_CPU_COUNT - how many host CPUs &avm_actor_spec.cpus can name.
 */
#define AVM_CPU_COUNT 64

/**
 * struct avm_actor_spec - one actor to create. Zero means default.
 * @ops: its device type.
 * @name: unique instance name.
 * @config: device configuration, read by ops->init only (may be NULL).
 * @rt_priority: 1..99 runs the server thread SCHED_FIFO at that priority;
 *   0 keeps normal scheduling. Refused privileges give a warning.
 * @cpus: host CPUs the server thread may run on, one bit per CPU
 *   (AVM_CPU(2) | AVM_CPU(3)); 0 (the default) leaves it wherever the
 *   process may run. A mask rather than a CPU number so that zero means
 *   "not pinned", like every other field, and a set of CPUs can be named;
 *   CPUs 64 and above cannot be named (pin the process instead). A set
 *   refused by the host (no such CPU) gives a warning; the thread then
 *   runs unpinned.
 * @spin_ns: how long the server thread polls an empty mailbox before it
 *   sleeps (0: default 20 us; negative: never sleep).
 * @mailbox_depth: slots per lane (rounded up to a power of two; default 1024).
 * @fast_path: threaded executor: may a sender run this actor's handler on
 *   its own thread when the actor is idle (docs/framework.md, "The fast
 *   path")? 0: the device type's default (yes, unless ops->own_thread),
 *   positive: yes, negative: never (every message goes through the mailbox
 *   and the actor's thread). Self-driven actors (ops->run) never take it.
 * @isolation: run it in a device process of its own (actorvm/isolation.h;
 *   zeroed: in the VMM's process).
 */
struct avm_actor_spec {
	const struct avm_device_ops *ops;
	const char *name;
	const void *config;
	int rt_priority;
	uint64_t cpus;
	int64_t spin_ns;
	unsigned mailbox_depth;
	int fast_path;
	struct avm_isolation isolation;
};

/**
 * struct avm_actor_stats - counters of one actor, readable while it runs.
 * @handled: messages handled.
 * @outbox_max: most messages ever parked in the outbox (full destinations).
 * @dropped: messages sent through unbound ports.
 * @bounced: requests answered -ESHUTDOWN because the actor was stopping.
 */
struct avm_actor_stats {
	uint64_t handled;
	uint64_t outbox_max;
	uint64_t dropped;
	uint64_t bounced;
};

/**
 * avm_runtime_new() - create an empty runtime.
 * @cfg: settings (NULL for all defaults).
 * @out: the new runtime.
 */
int avm_runtime_new(const struct avm_runtime_config *cfg, avm_runtime **out);

/**
 * avm_runtime_free() - stop (if running) and destroy a runtime and all its
 * actors. Accessors must have been freed first.
 */
void avm_runtime_free(avm_runtime *rt);

/** avm_runtime_exec() - which executor @rt uses. */
enum avm_exec_kind avm_runtime_exec(const avm_runtime *rt);

/**
 * avm_actor_create() - add an actor. Only before avm_runtime_start().
 *
 * Create actors in dependency order (an actor's port can only be bound to an
 * actor that exists): avm_runtime_stop() stops them in reverse.
 *
 * The device type is checked first: a missing handle(), a state_size over
 * 1 GiB, a count without its array (regions, ports, direct registers), an
 * empty region or one in no known space, a direct register whose slot is
 * %AVM_MAX_DIRECT or more, whose size is not 1, 2, 4 or 8 or which lies
 * outside its region, a port without a name or with a name used twice, and
 * a PCI identity a PCI host could not present (vendor 0xffff, class over
 * 24 bits, interrupt pin over 4, a BAR on a missing region, in the wrong
 * space or of a size PCI does not allow) are refused with -EINVAL and an
 * error log line naming the actor and the field.
 */
int avm_actor_create(avm_runtime *rt, const struct avm_actor_spec *spec,
		     avm_actor_id *out);

/** avm_actor_find() - look an actor up by name; -ENOENT if absent. */
int avm_actor_find(avm_runtime *rt, const char *name, avm_actor_id *out);

/** avm_actor_name() - an actor's name (NULL for a bad id). */
const char *avm_actor_name(avm_runtime *rt, avm_actor_id id);

/**
 * avm_actor_config() - the config actor @id was created with (NULL for a
 * bad id or none), e.g. to build the same actor again, as replay does.
 */
const void *avm_actor_config(avm_runtime *rt, avm_actor_id id);

/**
 * avm_actor_state() - the device state of actor @id, for inspection by tests
 * of the deterministic executor only (NULL elsewhere: only the actor's own
 * thread may touch it).
 */
void *avm_actor_state(avm_runtime *rt, avm_actor_id id);

/** avm_actor_count() - how many actors @rt holds (ids 0 .. count-1). */
unsigned avm_actor_count(avm_runtime *rt);

/** avm_actor_ops() - the device type of actor @id (NULL for a bad id). */
const struct avm_device_ops *avm_actor_ops(avm_runtime *rt, avm_actor_id id);

/**
 * avm_actor_port() - where port @port of actor @id is bound (its binding,
 * not a route a router published). -ENOENT for a bad id or port,
 * -ENOTCONN if unbound. For inspection (`actorvm graph`).
 */
int avm_actor_port(avm_runtime *rt, avm_actor_id id, unsigned port,
		   avm_actor_id *dst, uint32_t *arg);

/**
 * avm_region_base() - where region @region of actor @id is mapped now
 * (-ENXIO: not mapped; -ENOENT: bad id or region). A snapshot: a PCI BAR
 * write may move it at any time.
 */
int avm_region_base(avm_runtime *rt, avm_actor_id id, unsigned region,
		    uint64_t *base);

/** avm_actor_stats() - snapshot of an actor's counters. */
int avm_actor_stats(avm_runtime *rt, avm_actor_id id,
		    struct avm_actor_stats *out);

/**
 * avm_bind() - connect port @port (by name) of actor @src to actor @dst;
 * messages sent through it carry @arg (e.g. the IRQ line at @dst).
 * May be called while running (e.g. to publish a new IRQ route).
 */
int avm_bind(avm_runtime *rt, avm_actor_id src, const char *port,
	     avm_actor_id dst, uint32_t arg);

/**
 * avm_map() - make region @region of actor @id decode [@base, @base+size).
 *
 * Lock-free for readers: a new map is published and the old one is freed
 * after every reader has left it. -EEXIST if the region is already mapped,
 * -EBUSY if the range overlaps another mapping or RAM, -ERANGE on overflow.
 */
int avm_map(avm_runtime *rt, avm_actor_id id, unsigned region, uint64_t base);

/** avm_unmap() - stop decoding region @region of actor @id. */
int avm_unmap(avm_runtime *rt, avm_actor_id id, unsigned region);

/**
 * avm_dma_enable() - allow (@on) or refuse DMA by actor @id: the bus-master
 * bit of a PCI function. On by default. While off, that actor's
 * avm_dma_read() and avm_dma_write() return -EPERM and touch nothing, as a
 * master abort on a real bus. Callable from any thread at any time; the
 * actor sees the change at its next DMA call (a DMA already turned into
 * messages stays posted). -ENOENT for a bad id.
 */
int avm_dma_enable(avm_runtime *rt, avm_actor_id id, bool on);

/**
 * avm_ram_add() - add guest RAM at [@gpa, @gpa+@size); before start only.
 * The runtime allocates it (page-aligned, zeroed) and returns its host
 * address in *@host (may be NULL). -EBUSY on overlap.
 */
int avm_ram_add(avm_runtime *rt, uint64_t gpa, uint64_t size, void **host);

/**
 * avm_ram_ptr() - host address of guest RAM [@gpa, @gpa+@len), or NULL if
 * the range is not entirely inside one RAM block.
 */
void *avm_ram_ptr(avm_runtime *rt, uint64_t gpa, uint64_t len);

/**
 * avm_runtime_start() - start every actor (init, then the server threads),
 * and return once all have reported ready. The threaded executor starts
 * the devices in creation order, then the self-driven actors (VCPUs), so
 * guest code runs only once every device takes messages. On an init failure,
 * the actors already started are stopped again and the error is returned.
 */
int avm_runtime_start(avm_runtime *rt);

/**
 * avm_runtime_stop() - stop actors in reverse creation order. Each stops
 * taking new messages (senders get -ESHUTDOWN), handles what its mailbox
 * already holds, then calls fini. Nothing is lost and nobody waits forever.
 */
void avm_runtime_stop(avm_runtime *rt);

/**
 * avm_runtime_wait_exit() - wait until an actor calls avm_vm_exit() (the
 * guest asked to exit) or @timeout_ns passes (negative: forever). Returns 0
 * with *@code set, or -ETIMEDOUT.
 */
int avm_runtime_wait_exit(avm_runtime *rt, int64_t timeout_ns, int *code);

/**
 * avm_runtime_log() - log a line through @rt's log sink, from any thread
 * (for an actor's helper thread, which has no context; @actor names whose
 * line it is, or NULL).
 */
void avm_runtime_log(avm_runtime *rt, int level, const char *actor,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/**
 * avm_runtime_data_lost() - record that output the run was to keep (a
 * trace, a guest's serial output) was lost. Whoever lost it logs what and
 * how much; the runner reads avm_runtime_losses() to end with an error.
 */
void avm_runtime_data_lost(avm_runtime *rt);

/** avm_runtime_losses() - how many avm_runtime_data_lost() reports so far. */
unsigned avm_runtime_losses(avm_runtime *rt);

/** avm_actor_reset() - post a RESET on the control lane of actor @id. */
int avm_actor_reset(avm_runtime *rt, avm_actor_id id);

/* --- Accessors: VCPU threads and other callers outside the actors -------- */

/**
 * avm_accessor_new() - create an access handle for the calling thread.
 *
 * An accessor is the identity of one sender (a VCPU): its posted writes and
 * later reads reach each actor in order. Use it from one thread at a time;
 * the thread that creates it is registered for lock-free map lookups and must
 * also free it.
 */
int avm_accessor_new(avm_runtime *rt, const char *name, avm_accessor **out);

/** avm_accessor_free() - release an accessor (on the thread that made it). */
void avm_accessor_free(avm_accessor *acc);

/**
 * avm_read() - a guest read of @size bytes at @addr in @space.
 *
 * A direct register is read from its published value; anything else is a
 * synchronous request to the owning actor. -ENXIO if nothing decodes @addr,
 * -ETIMEDOUT past the deadline, -ESHUTDOWN if the owner is stopped.
 */
int avm_read(avm_accessor *acc, enum avm_space space, uint64_t addr,
	     unsigned size, uint64_t *val);

/** avm_write() - a posted guest write; returns once it is queued. */
int avm_write(avm_accessor *acc, enum avm_space space, uint64_t addr,
	      unsigned size, uint64_t val);

/**
 * avm_request() - send @msg to actor @dst and wait for the reply value.
 * @msg->kind must be %AVM_MSG_READ or a device kind the actor answers.
 */
int avm_request(avm_accessor *acc, avm_actor_id dst, struct avm_msg *msg,
		uint64_t *val);

/** avm_post() - send @msg to actor @dst without waiting. */
int avm_post(avm_accessor *acc, avm_actor_id dst, struct avm_msg *msg);

#ifdef __cplusplus
}
#endif
#endif /* ACTORVM_RUNTIME_H */
