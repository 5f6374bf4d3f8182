/* SPDX-License-Identifier: MIT */
/*
 * The threaded executor: one server thread per actor, each running a libev
 * loop for timers and backend fds, and serving a lock-free mailbox. An idle
 * server polls its mailbox for spin_ns, then sleeps: on a futex word until
 * its next timer is due if it watches no fd (most devices, halted VCPUs),
 * else in the loop (epoll) until an ev_async wakes it. A producer pays for
 * the wake only when the server sleeps, and then the cheapest one there is.
 *
 * The fast path: every handler runs holding the actor's execution right (one
 * atomic word taken by CAS). A sender that finds the right free and the
 * mailbox empty runs the handler itself, on its own thread, instead of
 * queuing and waking the server; otherwise it queues as before. Effects that
 * belong to the server's libev loop (timers, fd watches) are recorded under
 * the right and applied by the server before it next handles anything. No
 * thread ever waits for a right while it holds one, and in-place handling
 * nests at most FAST_DEPTH deep per thread. See docs/framework.md.
 */
#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/trace.h>

#include "alarm.h"
#include "futex.h"
#include "internal.h"
#include "mailbox.h"
#include "placement.h"

#define DEFAULT_DEPTH	1024
#define DEFAULT_SPIN_NS 20000
#define BATCH		64
#define FD_POLL_NS	200000 /* how often a busy server polls its fds */
#define OUTBOX_RETRY_NS 100000 /* how soon a sleeping server retries */
#define FAST_DEPTH	2      /* in-place handlers nested on one thread */

enum { DEFER_NONE = 0, DEFER_ARM, DEFER_CANCEL, DEFER_WATCH, DEFER_UNWATCH };

/* How the server sleeps (thr_actor.sleeping), so a producer wakes it the
 * right way: a FUTEX_WAKE on that word, or the loop's ev_async. */
enum { AWAKE = 0, ASLEEP_FUTEX, ASLEEP_LOOP };

/* A loop effect asked for by a handler that ran on a foreign thread. */
struct deferred {
	uint8_t op;
	unsigned events;
	int fd;
	uint64_t due; /* CLOCK_MONOTONIC ns */
	uint64_t period;
};

struct outbox_node {
	struct outbox_node *next;
	avm_actor_id dst;
	struct avm_msg msg;
};

struct thr_timer {
	ev_timer w;
	struct thr_actor *t;
	unsigned id;
	uint64_t due; /* CLOCK_MONOTONIC ns, 0 when disarmed */
	uint64_t period;
};

struct thr_watch {
	ev_io w;
	struct thr_actor *t;
	unsigned id;
};

struct thr_actor {
	struct avm_actor *a;
	struct avm_mailbox mb;
	pthread_t thread;
	bool joinable;
	struct ev_loop *loop;
	ev_async wake;
	ev_timer retry;
	struct thr_timer timers[AVM_MAX_TIMERS];
	struct thr_watch watches[AVM_MAX_WATCHES];
	unsigned n_watches;
	uint64_t next_due;
	sem_t ready;
	int init_err;
	bool stopping;
	bool fast; /* the fast path is on for this actor */
	struct outbox_node *ob_head, *ob_tail; /* under the right */
	_Atomic uint64_t ob_len;
	/* Loop effects of in-place handlers, under the right. */
	struct deferred dtimers[AVM_MAX_TIMERS];
	struct deferred dwatches[AVM_MAX_WATCHES];
	int64_t spin_ns;
	/* Self-driven actors: the kick, installed once (read by producers),
	 * and the state of avm_poll()/avm_wait(). */
	_Atomic(avm_kick_fn) kick;
	void *_Atomic kick_arg;
	uint64_t last_poll;
	ev_timer wait_timer;
	bool wait_expired;
	struct avm_alarm alarm; /* kicks run() when a timer is due */
	/* AWAKE or ASLEEP_*: written by the server, read (and taken back to
	 * AWAKE by the one waker that calls FUTEX_WAKE) by producers; the
	 * futex word of a futex sleep. Its own cache line. */
	_Alignas(AVM_CACHELINE) _Atomic uint32_t sleeping;
	/* The execution right (1: held) and "the server has work an in-place
	 * handler left" (deferred effects, parked sends): one line, written
	 * by whoever runs a handler. */
	_Alignas(AVM_CACHELINE) _Atomic int right;
	_Atomic int handoff;
	_Atomic int prio; /* the SCHED_FIFO priority the server got, or 0 */
};

/* The actor whose server thread this is (NULL on other threads), and how
 * many in-place handlers this thread is running, nested. */
static __thread struct thr_actor *tls_self;
static __thread unsigned tls_depth;

static struct thr_actor *thr(struct avm_actor *a)
{
	return a->exec;
}

static int thr_init(avm_runtime *rt)
{
	(void)rt;
	return 0;
}

static void thr_fini(avm_runtime *rt)
{
	(void)rt;
}

static void alarm_fire(void *arg);

static int thr_actor_init(struct avm_actor *a)
{
	struct thr_actor *t = aligned_alloc(AVM_CACHELINE, sizeof(*t));
	unsigned depth =
		a->spec.mailbox_depth ? a->spec.mailbox_depth : DEFAULT_DEPTH;
	int err;

	if (!t)
		return -ENOMEM;
	memset(t, 0, sizeof(*t));
	t->a = a;
	t->spin_ns = a->spec.spin_ns ? a->spec.spin_ns : DEFAULT_SPIN_NS;
	/* A device process's supervisor: its work comes by the process's
	 * eventfd, which a spin does not see; the process spins itself. */
	if (a->spec.isolation.process)
		t->spin_ns = 0;
	/* A self-driven actor's run() touches its state outside handlers:
	 * nobody else may run them. */
	t->fast = !a->ops->run && (a->spec.fast_path > 0 ||
				   (!a->spec.fast_path && !a->ops->own_thread));
	/* Held by the server until its init is done. */
	atomic_init(&t->right, 1);
	err = avm_mailbox_init(&t->mb, depth);
	if (err)
		goto undo_alloc;
	if (sem_init(&t->ready, 0, 0)) {
		err = -errno;
		goto undo_mailbox;
	}
	if (a->ops->run) {
		err = avm_alarm_init(&t->alarm, a->name, alarm_fire, t);
		if (err)
			goto undo_sem;
	}
	a->exec = t;
	return 0;

undo_sem:
	sem_destroy(&t->ready);
undo_mailbox:
	avm_mailbox_fini(&t->mb);
undo_alloc:
	free(t);
	return err;
}

static void thr_actor_fini(struct avm_actor *a)
{
	struct thr_actor *t = thr(a);

	if (!t)
		return;
	if (a->ops->run)
		avm_alarm_fini(&t->alarm);
	sem_destroy(&t->ready);
	avm_mailbox_fini(&t->mb);
	free(t);
	a->exec = NULL;
}

/* A self-driven actor may be busy in guest code: ask it to look. Callers
 * are inside an RCU read section (see run_self). */
static void kick(struct thr_actor *t)
{
	/* Acquire pairs with set_kick's release: the arg is published. */
	avm_kick_fn fn = atomic_load_explicit(&t->kick, memory_order_acquire);

	if (fn)
		fn(atomic_load_explicit(&t->kick_arg, memory_order_relaxed));
}

/*
 * The server sleeps on its futex word. Of all producers that saw it asleep,
 * the one whose CAS takes the word back to AWAKE makes the system call; the
 * others need not, and a futex_wait() that comes after the CAS finds the
 * word changed and returns at once, so the wake is not lost. Relaxed: the
 * fence in wake() already ordered our message before the load that saw
 * ASLEEP_FUTEX, and the word carries no data.
 */
static void wake_futex(struct thr_actor *t)
{
	uint32_t expect = ASLEEP_FUTEX;

	if (atomic_compare_exchange_strong_explicit(&t->sleeping, &expect,
						    AWAKE, memory_order_relaxed,
						    memory_order_relaxed))
		avm_futex_wake(&t->sleeping);
}

/*
 * After our message is in the mailbox (or our handoff set). The fence pairs
 * with the one in sleep_begin(), Dekker-style: the server stores ASLEEP_*,
 * fences, then looks at the mailbox; we stored the message, fence, then
 * look at the state. At least one of us sees the other's store, so either
 * we see it asleep and wake it, or it sees our message and does not sleep.
 * If the state we read is stale (the server woke and went to sleep again
 * meanwhile), its new sleep's look comes after our fence and sees the
 * message; a CAS that fails for that reason leaves nothing to do.
 */
static void wake(struct thr_actor *t)
{
	uint32_t s;

	avm_full_fence();
	s = atomic_load_explicit(&t->sleeping, memory_order_relaxed);
	if (s == ASLEEP_FUTEX)
		wake_futex(t);
	else if (s == ASLEEP_LOOP)
		ev_async_send(t->loop, &t->wake);
	kick(t);
}

static bool right_try(struct thr_actor *t)
{
	int expect = 0;

	/* Acquire pairs with right_release(): the last handler's writes to
	 * the actor's state are visible to the next, on any thread. */
	return atomic_compare_exchange_strong_explicit(&t->right, &expect, 1,
						       memory_order_acquire,
						       memory_order_relaxed);
}

static void right_release(struct thr_actor *t)
{
	atomic_store_explicit(&t->right, 0, memory_order_release);
}

static void apply_deferred(struct thr_actor *t);

/*
 * The server takes its own right. An in-place holder runs one handler and
 * never waits for anything while it holds it, so this ends; yield now and
 * then so a preempted holder on a busy host gets the CPU back.
 */
static void own_acquire(struct thr_actor *t)
{
	for (unsigned i = 1; !right_try(t); i++) {
		if (i % 64 == 0)
			sched_yield();
		else
			avm_cpu_relax();
	}
	if (atomic_load_explicit(&t->handoff, memory_order_relaxed)) {
		atomic_store_explicit(&t->handoff, 0, memory_order_relaxed);
		/* Before any handler here: effects stay in handler order. */
		apply_deferred(t);
	}
}

/* The alarm thread's call when a timer of a self-driven actor is due: wake
 * it like a producer would (its loop if it sleeps, its kick if it runs
 * guest code), inside a read section as producers do (see run_self). Its
 * avm_poll() then finds the timer due and libev fires it. */
static void alarm_fire(void *arg)
{
	avm_read_lock();
	wake(arg);
	avm_read_unlock();
}

static int outbox_add(struct thr_actor *from, avm_actor_id dst,
		      const struct avm_msg *m)
{
	struct outbox_node *n = malloc(sizeof(*n));
	uint64_t len;

	if (!n)
		return -ENOMEM;
	n->next = NULL;
	n->dst = dst;
	n->msg = *m;
	if (from->ob_tail)
		from->ob_tail->next = n;
	else
		from->ob_head = n;
	from->ob_tail = n;
	len = atomic_load_explicit(&from->ob_len, memory_order_relaxed) + 1;
	atomic_store_explicit(&from->ob_len, len, memory_order_relaxed);
	if (len > atomic_load(&from->a->outbox_max))
		atomic_store(&from->a->outbox_max, len);
	return 0;
}

static int push_blocking(struct thr_actor *t, const struct avm_msg *m)
{
	uint64_t deadline = avm_mono_ns() + t->a->rt->cfg.read_deadline_ns;

	/* A VCPU meets back-pressure like a stalled bus, up to a deadline. */
	while (avm_ring_push(&t->mb.lane[m->fw.lane], m)) {
		wake(t);
		if (avm_mono_ns() > deadline)
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

/* A caller runs a SCHED_FIFO actor's handler only from at least as high a
 * priority: a lower one would run it late, and it goes by the mailbox. */
static bool caller_may_run(struct thr_actor *t)
{
	int want = atomic_load_explicit(&t->prio, memory_order_relaxed);
	struct sched_param sp;
	int policy;

	if (want <= 0)
		return true;
	if (pthread_getschedparam(pthread_self(), &policy, &sp))
		return false;
	return (policy == SCHED_FIFO || policy == SCHED_RR) &&
	       sp.sched_priority >= want;
}

/* After an in-place handler: leave the server what it must do itself. */
static void leave_in_place(struct thr_actor *t)
{
	bool more;

	if (atomic_load_explicit(&t->ob_len, memory_order_relaxed))
		atomic_store_explicit(&t->handoff, 1, memory_order_relaxed);
	more = atomic_load_explicit(&t->handoff, memory_order_relaxed) ||
	       !avm_mailbox_empty(&t->mb);
	right_release(t);
	/* Whoever queued while we ran woke the server too: this is for the
	 * handoff, and costs nothing unless the server sleeps. */
	if (more)
		wake(t);
}

/*
 * The fast path: run @m's handler here if @t is idle (right free, nothing
 * queued). A parked send of @f must not be overtaken, nor may the nesting
 * grow past FAST_DEPTH.
 */
static bool run_in_place(struct thr_actor *t, struct avm_msg *m,
			 struct thr_actor *f)
{
	if (!t->fast || tls_depth >= FAST_DEPTH ||
	    (f && atomic_load_explicit(&f->ob_len, memory_order_relaxed)) ||
	    !caller_may_run(t) || !right_try(t))
		return false;
	/* The consumer side is ours to read under the right; anything
	 * queued goes first, so this one queues behind it. "Queued"
	 * includes a position claimed but not yet filled: an earlier
	 * message of ours may be published behind it. */
	if (!avm_mailbox_idle(&t->mb)) {
		right_release(t);
		return false;
	}
	tls_depth++;
	m->fw.flags |= AVM_MF_IN_PLACE;
	AVM_TRACE_MSG(t->a->rt, AVM_TRACE_DEQUEUED, t->a->id, m);
	avm__deliver(t->a, m);
	tls_depth--;
	leave_in_place(t);
	return true;
}

static bool is_sync(const struct avm_msg *m)
{
	return m->fw.slot && !(m->fw.flags & AVM_MF_ACK);
}

static int thr_post(struct avm_actor *dst, struct avm_msg *m,
		    struct avm_actor *from)
{
	struct thr_actor *t = thr(dst);
	int err;

	if (run_in_place(t, m, from ? thr(from) : NULL))
		return 0;
	m->fw.flags &= ~(uint32_t)AVM_MF_IN_PLACE;
	/* Waiting for a reply while holding a right could deadlock. */
	if (!from && tls_depth && is_sync(m))
		return -EDEADLK;
	if (from) {
		struct thr_actor *f = thr(from);

		/* Keep the sender's order: once parked, park everything. */
		if (atomic_load_explicit(&f->ob_len, memory_order_relaxed) ||
		    avm_ring_push(&t->mb.lane[m->fw.lane], m))
			return outbox_add(f, dst->id, m);
	} else {
		err = avm_ring_push(&t->mb.lane[m->fw.lane], m);
		/* Nothing waits while it holds an execution right. */
		if (err == -EAGAIN && !tls_depth)
			err = push_blocking(t, m);
		if (err)
			return err;
	}
	wake(t);
	return 0;
}

/* Push parked messages in order; stop at the first full mailbox. */
static void outbox_flush(struct thr_actor *f)
{
	while (f->ob_head) {
		struct outbox_node *n = f->ob_head;
		struct avm_actor *d = avm__actor(f->a->rt, n->dst);
		int err;

		avm_read_lock();
		if (atomic_load_explicit(&d->run_state, memory_order_acquire) !=
		    AVM_ACTOR_RUNNING) {
			err = -ESHUTDOWN;
		} else {
			err = avm_ring_push(&thr(d)->mb.lane[n->msg.fw.lane],
					    &n->msg);
			if (!err)
				wake(thr(d));
		}
		avm_read_unlock();
		if (err == -EAGAIN)
			return;
		if (err) {
			avm_msg_release(&n->msg);
			atomic_fetch_add(&f->a->dropped, 1);
		}
		f->ob_head = n->next;
		if (!f->ob_head)
			f->ob_tail = NULL;
		atomic_store_explicit(
			&f->ob_len,
			atomic_load_explicit(&f->ob_len, memory_order_relaxed) -
				1,
			memory_order_relaxed);
		free(n);
	}
}

static bool serve_one(struct thr_actor *t)
{
	struct avm_msg m;

	if (!avm_mailbox_pop(&t->mb, &m))
		return false;
	if (m.kind == AVM_MSG_STOP) {
		t->stopping = true;
	} else {
		AVM_TRACE_MSG(t->a->rt, AVM_TRACE_DEQUEUED, t->a->id, &m);
		avm__deliver(t->a, &m);
	}
	return true;
}

static void recompute_due(struct thr_actor *t)
{
	t->next_due = UINT64_MAX;
	for (unsigned i = 0; i < AVM_MAX_TIMERS; i++)
		if (t->timers[i].due && t->timers[i].due < t->next_due)
			t->next_due = t->timers[i].due;
	/* A self-driven actor looks at its loop only between its own work:
	 * the alarm makes it look when the next timer is due. */
	if (t->a->ops->run)
		avm_alarm_set(&t->alarm,
			      t->next_due == UINT64_MAX ? 0 : t->next_due);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct thr_timer *tt = (struct thr_timer *)w;
	struct avm_msg m = { .kind = AVM_MSG_TIMER, .timer.id = tt->id };

	(void)loop;
	(void)revents;
	m.src = tt->t->a->id;
	own_acquire(tt->t);
	tt->due = tt->period ? avm_mono_ns() + tt->period : 0;
	recompute_due(tt->t);
	if (!tt->t->stopping)
		avm__deliver(tt->t->a, &m);
	right_release(tt->t);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct thr_watch *tw = (struct thr_watch *)w;
	struct avm_msg m = { .kind = AVM_MSG_FD, .fd.watch = tw->id };

	(void)loop;
	m.src = tw->t->a->id;
	m.fd.events = ((revents & EV_READ) ? AVM_FD_READ : 0) |
		      ((revents & EV_WRITE) ? AVM_FD_WRITE : 0);
	own_acquire(tw->t);
	if (!tw->t->stopping)
		avm__deliver(tw->t->a, &m);
	right_release(tw->t);
}

static void nop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static int loop_timer_arm(struct thr_actor *t, unsigned id, uint64_t delay,
			  uint64_t period)
{
	struct thr_timer *tt = &t->timers[id];

	ev_timer_stop(t->loop, &tt->w);
	/* libev counts from its cached "now": refresh it for exact delays. */
	ev_now_update(t->loop);
	ev_timer_set(&tt->w, (double)delay / 1e9, (double)period / 1e9);
	ev_timer_start(t->loop, &tt->w);
	tt->due = avm_mono_ns() + delay;
	tt->period = period;
	recompute_due(t);
	return 0;
}

static void loop_timer_cancel(struct thr_actor *t, unsigned id)
{
	ev_timer_stop(t->loop, &t->timers[id].w);
	t->timers[id].due = 0;
	recompute_due(t);
}

static int loop_fd_watch(struct thr_actor *t, unsigned id, int fd,
			 unsigned events)
{
	struct thr_watch *tw = &t->watches[id];
	int ev = ((events & AVM_FD_READ) ? EV_READ : 0) |
		 ((events & AVM_FD_WRITE) ? EV_WRITE : 0);

	if (ev_is_active(&tw->w))
		ev_io_stop(t->loop, &tw->w);
	else
		t->n_watches++;
	ev_io_set(&tw->w, fd, ev);
	ev_io_start(t->loop, &tw->w);
	return 0;
}

static void loop_fd_unwatch(struct thr_actor *t, unsigned id)
{
	if (!ev_is_active(&t->watches[id].w))
		return;
	ev_io_stop(t->loop, &t->watches[id].w);
	t->n_watches--;
}

/* Called with the right held, by a foreign thread's in-place handler: the
 * server applies it (own_acquire) before it handles anything else. */
static void defer(struct thr_actor *t, struct deferred *d, struct deferred what)
{
	*d = what;
	atomic_store_explicit(&t->handoff, 1, memory_order_relaxed);
}

static int thr_timer_arm(struct avm_actor *a, unsigned id, uint64_t delay,
			 uint64_t period)
{
	struct thr_actor *t = thr(a);

	if (tls_self == t)
		return loop_timer_arm(t, id, delay, period);
	/* The delay counts from now, not from when the server applies it. */
	defer(t, &t->dtimers[id],
	      (struct deferred){ .op = DEFER_ARM,
				 .due = avm_mono_ns() + delay,
				 .period = period });
	return 0;
}

static void thr_timer_cancel(struct avm_actor *a, unsigned id)
{
	struct thr_actor *t = thr(a);

	if (tls_self == t)
		loop_timer_cancel(t, id);
	else
		defer(t, &t->dtimers[id],
		      (struct deferred){ .op = DEFER_CANCEL });
}

static int thr_fd_watch(struct avm_actor *a, unsigned id, int fd,
			unsigned events)
{
	struct thr_actor *t = thr(a);

	if (tls_self == t)
		return loop_fd_watch(t, id, fd, events);
	defer(t, &t->dwatches[id],
	      (struct deferred){
		      .op = DEFER_WATCH, .fd = fd, .events = events });
	return 0;
}

static void thr_fd_unwatch(struct avm_actor *a, unsigned id)
{
	struct thr_actor *t = thr(a);

	if (tls_self == t)
		loop_fd_unwatch(t, id);
	else
		defer(t, &t->dwatches[id],
		      (struct deferred){ .op = DEFER_UNWATCH });
}

/* The server, under its right: what in-place handlers asked of the loop.
 * Only the last request per timer or watch counts, as it would have. */
static void apply_deferred(struct thr_actor *t)
{
	for (unsigned i = 0; i < AVM_MAX_TIMERS; i++) {
		struct deferred *d = &t->dtimers[i];
		uint64_t now = avm_mono_ns();

		if (d->op == DEFER_ARM)
			loop_timer_arm(t, i, d->due > now ? d->due - now : 0,
				       d->period);
		else if (d->op == DEFER_CANCEL)
			loop_timer_cancel(t, i);
		d->op = DEFER_NONE;
	}
	for (unsigned i = 0; i < AVM_MAX_WATCHES; i++) {
		struct deferred *d = &t->dwatches[i];

		if (d->op == DEFER_WATCH)
			loop_fd_watch(t, i, d->fd, d->events);
		else if (d->op == DEFER_UNWATCH)
			loop_fd_unwatch(t, i);
		d->op = DEFER_NONE;
	}
}

static uint64_t thr_now(avm_runtime *rt)
{
	(void)rt;
	return avm_mono_ns();
}

static int thr_wait_reply(avm_accessor *acc, struct avm_reply_slot *slot,
			  uint64_t corr, uint64_t deadline, uint64_t *val)
{
	return avm_slot_wait(slot, corr, acc->rt->cfg.reply_spin_ns, deadline,
			     val);
}

static void wait_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct thr_actor *t =
		(void *)((char *)w - offsetof(struct thr_actor, wait_timer));

	(void)loop;
	(void)revents;
	t->wait_expired = true;
}

static int loop_init(struct thr_actor *t)
{
	t->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	if (!t->loop)
		return -ENOMEM;
	ev_async_init(&t->wake, nop_cb);
	ev_async_start(t->loop, &t->wake);
	ev_timer_init(&t->retry, retry_cb, OUTBOX_RETRY_NS / 1e9, 0.);
	ev_timer_init(&t->wait_timer, wait_timer_cb, 0., 0.);
	t->last_poll = avm_mono_ns();
	for (unsigned i = 0; i < AVM_MAX_TIMERS; i++) {
		ev_timer_init(&t->timers[i].w, timer_cb, 0., 0.);
		t->timers[i].t = t;
		t->timers[i].id = i;
	}
	for (unsigned i = 0; i < AVM_MAX_WATCHES; i++) {
		ev_io_init(&t->watches[i].w, io_cb, -1, EV_READ);
		t->watches[i].t = t;
		t->watches[i].id = i;
	}
	t->next_due = UINT64_MAX;
	return 0;
}

/*
 * Announce a sleep of kind @how, then look for work: true if there is none
 * and the server may sleep. Relaxed store, then the full fence that pairs
 * with wake()'s (see there): a producer that queued before our look is
 * seen by it; one that queued after sees @how.
 */
static bool sleep_begin(struct thr_actor *t, uint32_t how)
{
	atomic_store_explicit(&t->sleeping, how, memory_order_relaxed);
	avm_full_fence();
	return avm_mailbox_empty(&t->mb) &&
	       !atomic_load_explicit(&t->handoff, memory_order_relaxed);
}

/* Relaxed: after a wake the server looks at the mailbox itself (acquire
 * there); this only tells producers that a wake is no longer needed. */
static void sleep_end(struct thr_actor *t)
{
	atomic_store_explicit(&t->sleeping, AWAKE, memory_order_relaxed);
}

/* When a sleeping server must look again though nobody woke it: its next
 * timer, the outbox's retry, or @until (avm_wait's timeout). */
static uint64_t sleep_deadline(struct thr_actor *t, uint64_t until)
{
	uint64_t d = t->next_due < until ? t->next_due : until;

	if (atomic_load_explicit(&t->ob_len, memory_order_relaxed) &&
	    avm_mono_ns() + OUTBOX_RETRY_NS < d)
		d = avm_mono_ns() + OUTBOX_RETRY_NS;
	return d;
}

/*
 * No fd to watch: nothing but a producer or the clock can give the server
 * work, so it sleeps on its futex word, woken by one FUTEX_WAKE (no eventfd
 * write, no epoll). Its timers stay in the loop, which the server runs
 * (poll_loop) once the earliest is due. A producer's CAS of the word back to
 * AWAKE before the wait makes the wait return at once. A watch added by an
 * in-place handler while we sleep is a handoff: its wake gets us up to apply
 * it, and the next sleep is in the loop.
 */
static void sleep_futex(struct thr_actor *t, uint64_t until)
{
	if (sleep_begin(t, ASLEEP_FUTEX))
		avm_futex_wait(&t->sleeping, ASLEEP_FUTEX,
			       sleep_deadline(t, until));
	sleep_end(t);
}

/* Fd watches: the loop sleeps in epoll, for the fds and the ev_async. */
static void sleep_loop(struct thr_actor *t)
{
	if (sleep_begin(t, ASLEEP_LOOP)) {
		if (atomic_load_explicit(&t->ob_len, memory_order_relaxed))
			ev_timer_start(t->loop, &t->retry);
		ev_run(t->loop, EVRUN_ONCE);
		ev_timer_stop(t->loop, &t->retry);
	}
	sleep_end(t);
}

/* Sleep until woken, a timer is due or @until (UINT64_MAX: none). */
static void sleep_once(struct thr_actor *t, uint64_t until)
{
	if (t->n_watches)
		sleep_loop(t);
	else
		sleep_futex(t, until);
}

/* Serve timers and fds without blocking, when they may have work. */
static void poll_loop(struct thr_actor *t, uint64_t now, uint64_t *last_poll)
{
	if (now >= t->next_due ||
	    (t->n_watches && now - *last_poll > FD_POLL_NS)) {
		ev_run(t->loop, EVRUN_NOWAIT);
		*last_poll = now;
	}
}

/* Up to BATCH queued messages and the parked sends, under the right. The
 * checks before taking it read only what this thread owns or atomics. */
static unsigned serve_batch(struct thr_actor *t)
{
	unsigned n = 0;

	if (avm_mailbox_empty(&t->mb) &&
	    !atomic_load_explicit(&t->handoff, memory_order_relaxed) &&
	    !atomic_load_explicit(&t->ob_len, memory_order_relaxed))
		return 0;
	own_acquire(t);
	while (n < BATCH && serve_one(t))
		n++;
	if (atomic_load_explicit(&t->ob_len, memory_order_relaxed))
		outbox_flush(t);
	right_release(t);
	return n;
}

static void serve(struct thr_actor *t)
{
	uint64_t now = avm_mono_ns(), idle_since = now, last_poll = now;

	while (!t->stopping) {
		unsigned n = serve_batch(t);

		now = avm_mono_ns();
		poll_loop(t, now, &last_poll);
		if (n) {
			idle_since = now;
		} else if (t->spin_ns >= 0 &&
			   now - idle_since >= (uint64_t)t->spin_ns) {
			sleep_once(t, UINT64_MAX);
			idle_since = last_poll = avm_mono_ns();
		} else {
			avm_cpu_relax();
		}
	}
}

static int thr_poll(struct avm_actor *a)
{
	struct thr_actor *t = thr(a);

	serve_batch(t);
	poll_loop(t, avm_mono_ns(), &t->last_poll);
	return t->stopping ? -ESHUTDOWN : 0;
}

static int thr_wait(struct avm_actor *a, int64_t timeout_ns)
{
	struct thr_actor *t = thr(a);
	uint64_t until = UINT64_MAX;

	if (t->stopping)
		return -ESHUTDOWN;
	if (!avm_mailbox_empty(&t->mb))
		return 0;
	if (timeout_ns == 0)
		return -ETIMEDOUT;
	t->wait_expired = false;
	if (timeout_ns > 0) {
		until = avm_mono_ns() + (uint64_t)timeout_ns;
		/* The loop's sleep needs a timer (libev counts from its
		 * cached now); the futex sleep takes @until itself. */
		ev_now_update(t->loop);
		ev_timer_set(&t->wait_timer, (double)timeout_ns / 1e9, 0.);
		ev_timer_start(t->loop, &t->wait_timer);
	}
	sleep_once(t, until);
	ev_timer_stop(t->loop, &t->wait_timer);
	t->last_poll = avm_mono_ns();
	if (!avm_mailbox_empty(&t->mb))
		return 0;
	return t->wait_expired || t->last_poll >= until ? -ETIMEDOUT : 0;
}

static int thr_set_kick(struct avm_actor *a, avm_kick_fn fn, void *arg)
{
	struct thr_actor *t = thr(a);
	avm_kick_fn old = atomic_load(&t->kick);

	/* Once: a producer may be calling the old pair right now. */
	if (old && fn && (old != fn || atomic_load(&t->kick_arg) != arg))
		return -EBUSY;
	atomic_store_explicit(&t->kick_arg, arg, memory_order_relaxed);
	/* Release: a producer that sees fn sees its arg. */
	atomic_store_explicit(&t->kick, fn, memory_order_release);
	return 0;
}

/* Self-driven: the actor's own loop; if it returns before a stop, keep
 * serving its mailbox so that nobody waits on it forever. */
static void run_self(struct thr_actor *t)
{
	struct avm_ctx ctx = { .self = t->a };
	int err = t->a->ops->run(t->a->state, &ctx);

	avm_alarm_stop(&t->alarm); /* no kick from it after this */
	if (err && err != -ESHUTDOWN)
		avm__log(t->a->rt, AVM_LOG_ERROR, t->a->name, "run() ended: %s",
			 strerror(-err));
	atomic_store(&t->kick, NULL);
	/* Kicks run in read sections: after this none is still running. */
	avm_grace_period();
	if (!t->stopping)
		serve(t);
}

/* A stop gave up on the parked sends: drop them, counted and said. */
static void outbox_drop(struct thr_actor *t, uint64_t waited_ns)
{
	avm__log(t->a->rt, AVM_LOG_ERROR, t->a->name,
		 "stop: %llu messages could not be delivered in %llu ms (a "
		 "receiver takes nothing): dropped",
		 (unsigned long long)t->ob_len,
		 (unsigned long long)(waited_ns / 1000000));
	while (t->ob_head) {
		struct outbox_node *n = t->ob_head;

		t->ob_head = n->next;
		avm_msg_release(&n->msg);
		atomic_fetch_add(&t->a->dropped, 1);
		free(n);
	}
	t->ob_tail = NULL;
	t->ob_len = 0;
}

/*
 * After STOP: handle what was queued before, deliver parked sends. A
 * receiver that takes none of them for DRAIN_PATIENCE read deadlines is
 * stuck (a handler that never returns): the stop must still end.
 */
#define DRAIN_PATIENCE 10
static void drain(struct thr_actor *t)
{
	uint64_t bound = DRAIN_PATIENCE * t->a->rt->cfg.read_deadline_ns;
	uint64_t since = avm_mono_ns(), left;

	/* Kept: after a stop nobody posts, so nobody else wants it. */
	own_acquire(t);
	while (serve_one(t))
		;
	while (atomic_load_explicit(&t->ob_len, memory_order_relaxed)) {
		left = atomic_load_explicit(&t->ob_len, memory_order_relaxed);
		outbox_flush(t);
		if (atomic_load_explicit(&t->ob_len, memory_order_relaxed) <
		    left)
			since = avm_mono_ns(); /* progress: patience again */
		else if (avm_mono_ns() - since > bound)
			outbox_drop(t, avm_mono_ns() - since);
		if (atomic_load_explicit(&t->ob_len, memory_order_relaxed))
			sched_yield();
	}
}

/* init failed: no handler may run, but nobody may be left waiting. */
static void bounce_all(struct thr_actor *t)
{
	struct avm_msg m;

	atomic_store(&t->a->run_state, AVM_ACTOR_STOPPING);
	avm_grace_period();
	while (avm_mailbox_pop(&t->mb, &m)) {
		avm__complete(t->a, &m, 0, -ESHUTDOWN);
		if (m.fw.flags & AVM_MF_ACK)
			atomic_fetch_add(&m.fw.slot->acked, 1);
		avm_msg_release(&m);
	}
	atomic_store(&t->a->run_state, AVM_ACTOR_STOPPED);
}

static void destroy_loop(struct thr_actor *t)
{
	if (t->loop)
		ev_loop_destroy(t->loop);
	t->loop = NULL;
}

static void *actor_main(void *arg)
{
	struct thr_actor *t = arg;
	char name[16];

	/* The actor's name on its thread (15 bytes at most): what top, perf
	 * and gdb show for it. */
	snprintf(name, sizeof(name), "%s", t->a->name);
	pthread_setname_np(pthread_self(), name);
	tls_self = t;
	if (avm__place_self(t->a))
		atomic_store(&t->prio, t->a->spec.rt_priority);
	avm_reader_register();
	t->init_err = loop_init(t);
	if (!t->init_err) {
		atomic_store(&t->a->run_state, AVM_ACTOR_RUNNING);
		t->init_err = avm__actor_init(t->a);
		if (t->init_err)
			bounce_all(t); /* keeps the right: no handler runs */
		else
			right_release(t);
	}
	sem_post(&t->ready);
	if (!t->init_err) {
		if (t->a->ops->run)
			run_self(t);
		else
			serve(t);
		drain(t);
		avm__actor_fini(t->a);
	}
	/* The loop outlives the thread: a stopper may still ev_async_send()
	 * to it after we saw STOP. It is destroyed after the join. */
	avm_reader_unregister();
	return NULL;
}

static int start_one(struct thr_actor *t)
{
	int err = pthread_create(&t->thread, NULL, actor_main, t);

	if (err)
		return -err;
	t->joinable = true;
	while (sem_wait(&t->ready) && errno == EINTR)
		;
	if (t->init_err) {
		pthread_join(t->thread, NULL);
		t->joinable = false;
		destroy_loop(t);
		avm__log(t->a->rt, AVM_LOG_ERROR, t->a->name, "init failed: %s",
			 strerror(-t->init_err));
	}
	return t->init_err;
}

/*
 * Devices first, in creation order, then the self-driven actors (VCPUs):
 * a guest starts only once every device it may reach, directly or through
 * another device (a NIC's backend, a UART's console), takes messages. A
 * message to an actor not yet running would be refused.
 */
static int thr_start(avm_runtime *rt)
{
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < rt->n_actors; i++) {
			struct avm_actor *a = rt->actors[i];
			int err;

			if ((a->ops->run != NULL) != (pass == 1))
				continue;
			err = start_one(thr(a));
			if (err)
				return err;
		}
	}
	return 0;
}

static void thr_stop_actor(struct avm_actor *a)
{
	struct thr_actor *t = thr(a);
	struct avm_msg m = { .kind = AVM_MSG_STOP,
			     .fw.lane = AVM_LANE_CONTROL };

	if (!t->joinable)
		return;
	while (avm_ring_push(&t->mb.lane[AVM_LANE_CONTROL], &m))
		sched_yield();
	/* Unconditional, both ways: the server may be asleep with no fence
	 * to see. After STOP nothing needs the state: take it to AWAKE. */
	if (atomic_exchange(&t->sleeping, AWAKE) == ASLEEP_FUTEX)
		avm_futex_wake(&t->sleeping);
	ev_async_send(t->loop, &t->wake);
	/* Inside a read section, like every producer's kick: the actor waits
	 * a grace period before fini, so what the kick uses stays alive. */
	avm_reader_register();
	avm_read_lock();
	kick(t);
	avm_read_unlock();
	avm_reader_unregister();
	pthread_join(t->thread, NULL);
	t->joinable = false;
	destroy_loop(t);
}

const struct avm_exec_ops avm_exec_threaded = {
	.name = "threaded",
	.init = thr_init,
	.fini = thr_fini,
	.actor_init = thr_actor_init,
	.actor_fini = thr_actor_fini,
	.start = thr_start,
	.stop_actor = thr_stop_actor,
	.post = thr_post,
	.wait_reply = thr_wait_reply,
	.timer_arm = thr_timer_arm,
	.timer_cancel = thr_timer_cancel,
	.fd_watch = thr_fd_watch,
	.fd_unwatch = thr_fd_unwatch,
	.now = thr_now,
	.poll = thr_poll,
	.wait = thr_wait,
	.set_kick = thr_set_kick,
};
