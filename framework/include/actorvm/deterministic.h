/* SPDX-License-Identifier: MIT */
/**
 * DOC: deterministic executor
 *
 * With %AVM_EXEC_DETERMINISTIC every handler runs on the calling thread,
 * only when asked: avm_det_step() delivers one message, avm_det_run() runs
 * until no message is pending, avm_det_advance() moves the virtual clock and
 * fires the timers that fall due, in order. When several senders have
 * messages pending, which goes first is drawn from the runtime's seed; each
 * sender's own messages stay in order, and lanes keep their priority. The
 * same seed gives the same delivery sequence.
 *
 * An observer sees everything the actors do: each delivery, each message
 * sent (bound or not), each DMA, each timer armed or cancelled. The actor
 * test harness (actorvm/harness.h) is built on it.
 *
 * Threads: nothing runs by itself. Every handler, init, timer expiry and
 * observer call runs on the thread calling avm_runtime_start(),
 * avm_det_step(), avm_det_run() or avm_det_advance(), inside that call; the
 * runtime has no lock of its own, so one thread at a time drives it (the
 * harness: the thread that created it). Self-driven actors (ops->run) are
 * refused at creation (-ENOTSUP). The observer runs in the middle of a
 * delivery: it must not drive the runtime (step, run, advance) itself.
 *
 * All functions return -EINVAL on a runtime of another executor.
 */
#ifndef ACTORVM_DETERMINISTIC_H
#define ACTORVM_DETERMINISTIC_H

#include <actorvm/runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/** enum avm_det_event_kind - what an observer is told about. */
enum avm_det_event_kind {
	AVM_DET_DELIVER = 1, /* @dst is about to handle @msg */
	AVM_DET_SEND,	     /* @src sent @msg to @dst through @port */
	AVM_DET_DMA,	     /* @src did DMA at @gpa (@len bytes, @data) */
	AVM_DET_TIMER_ARM,   /* @src armed timer @timer: @delay, @period */
	AVM_DET_TIMER_CANCEL,
	AVM_DET_FD_WATCH, /* @src watches descriptor @timer (id) */
};

/**
 * struct avm_det_event - one observed event. Pointers are valid only during
 * the callback; copy what you keep.
 * @kind: an &enum avm_det_event_kind.
 * @time: virtual time (ns).
 * @src: actor that acted (SEND, DMA, TIMER_*), or the sender (DELIVER).
 * @dst: receiving actor (DELIVER, SEND), %AVM_ACTOR_NONE if unbound.
 * @port: port index of a SEND, or -1 for a send not through a port.
 * @port_name: its name, or NULL.
 * @msg: the message (DELIVER, SEND).
 * @write: DMA direction.
 * @gpa: DMA address; @len its length; @data the bytes (NULL for a read
 *   turned into a message); @status its result.
 * @timer: timer or watch id; @delay, @period for TIMER_ARM.
 * @result: SEND: what the send returned (0, -ENOTCONN for an unbound port,
 *   -ESHUTDOWN for a stopped receiver...).
 */
struct avm_det_event {
	enum avm_det_event_kind kind;
	uint64_t time;
	avm_actor_id src;
	avm_actor_id dst;
	int port;
	const char *port_name;
	const struct avm_msg *msg;
	bool write;
	uint64_t gpa;
	size_t len;
	const void *data;
	int status;
	unsigned timer;
	uint64_t delay;
	uint64_t period;
	int result;
};

typedef void (*avm_det_observer_fn)(void *arg, const struct avm_det_event *ev);

/** avm_det_set_observer() - install (or, with NULL, remove) the observer. */
int avm_det_set_observer(avm_runtime *rt, avm_det_observer_fn fn, void *arg);

/** avm_det_step() - deliver one message: 1 if one was, 0 if none pending. */
int avm_det_step(avm_runtime *rt);

/**
 * avm_det_run() - deliver until nothing is pending, at most @max_steps
 * messages (0: a default of one million). Returns the number delivered, or
 * -ELOOP if the limit was hit (actors that keep each other busy forever).
 */
int avm_det_run(avm_runtime *rt, unsigned max_steps);

/**
 * avm_det_advance() - run until idle, then move the virtual clock forward by
 * @ns, firing due timers in deadline order and running until idle after
 * each. Returns 0, or -ELOOP as avm_det_run().
 */
int avm_det_advance(avm_runtime *rt, uint64_t ns);

/**
 * avm_det_set_handler_cost() - make every handler take @ns of virtual time
 * (default 0: handlers are instantaneous). The clock advances by @ns after
 * each handler, so queued messages wait for the ones before them and traces
 * show service times and mailbox waits in exact virtual nanoseconds. A
 * timer whose deadline passes while a handler runs fires late, as it would
 * on a busy machine.
 */
int avm_det_set_handler_cost(avm_runtime *rt, uint64_t ns);

/** avm_det_now() - the virtual clock in ns. */
uint64_t avm_det_now(avm_runtime *rt);

/** avm_det_pending() - messages waiting for delivery. */
unsigned avm_det_pending(avm_runtime *rt);

/**
 * avm_det_fd_ready() - pretend watched descriptor @watch of actor @id is
 * ready for @events: queues an %AVM_MSG_FD message. -ENOENT if not watched.
 */
int avm_det_fd_ready(avm_runtime *rt, avm_actor_id id, unsigned watch,
		     unsigned events);

/**
 * avm_det_timer_due() - when timer @timer of actor @id fires next (virtual
 * ns), or -ENOENT in *@due's stead if it is not armed.
 */
int avm_det_timer_due(avm_runtime *rt, avm_actor_id id, unsigned timer,
		      uint64_t *due);

#ifdef __cplusplus
}
#endif
#endif /* ACTORVM_DETERMINISTIC_H */
