/* SPDX-License-Identifier: MIT */
/*
 * The biglock executor: the QEMU-style baseline. Every handler runs under one
 * global mutex, inline on the thread that caused it: a VCPU for guest
 * accesses, the iothread for timers and fds. Messages that handlers send are
 * queued and delivered before the mutex is released, like bottom halves.
 * The iothread's libev loop uses the same mutex as its loop lock, so any
 * thread holding it may arm timers (see libev's "THREAD LOCKING EXAMPLE").
 *
 * Self-driven actors (VCPUs) get a thread of their own, as in QEMU: run()
 * executes guest code there *without* the lock, and the accesses it makes run
 * the target's handler inline under the lock. Messages *to* a VCPU never run
 * its handler on the sender's thread (its state belongs to its thread): they
 * wait in its mailbox, which the VCPU drains under the lock in avm_poll().
 */
#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "placement.h"

struct big_pending {
	struct big_pending *next;
	struct avm_actor *dst;
	struct avm_msg msg;
};

struct big_rt {
	pthread_mutex_t lock;
	struct ev_loop *loop;
	ev_async wake;
	pthread_t io;
	bool io_running;
	bool quit; /* under lock */
	struct big_pending *head, *tail;
};

struct big_timer {
	ev_timer w;
	struct avm_actor *a;
	unsigned id;
};

struct big_watch {
	ev_io w;
	struct avm_actor *a;
	unsigned id;
};

/* How many mailbox messages one avm_poll() handles: a bounded stretch
 * under the lock, so other threads get it between batches. */
#define SELF_BATCH 64

/*
 * A self-driven actor's thread and mailbox. Everything is under the big
 * lock except where noted.
 */
struct big_self {
	pthread_t thread;
	bool joinable;
	sem_t ready;
	int init_err;
	/* Waits on the big lock: a VCPU in HLT sleeps until mail or stop. */
	pthread_cond_t cond;
	struct big_pending *head[AVM_LANE_COUNT], *tail[AVM_LANE_COUNT];
	/* Also read without the lock by avm_poll() to skip taking it when
	 * there is nothing to do; a stale 0 is harmless, the kick that
	 * follows every message ends the next guest slice. */
	_Atomic unsigned queued;
	_Atomic bool stopping;
	/* Only the actor's own thread reads or writes it: does that thread
	 * hold the lock now (inside init, its handlers, or enter())? */
	bool holds_lock;
	avm_kick_fn kick;
	void *kick_arg;
};

struct big_actor {
	struct big_timer timers[AVM_MAX_TIMERS];
	struct big_watch watches[AVM_MAX_WATCHES];
	struct big_self *self; /* NULL unless ops->run */
};

static struct big_rt *big(avm_runtime *rt)
{
	return rt->exec_priv;
}

static void loop_release(struct ev_loop *loop)
{
	pthread_mutex_unlock(&((struct big_rt *)ev_userdata(loop))->lock);
}

static void loop_acquire(struct ev_loop *loop)
{
	pthread_mutex_lock(&((struct big_rt *)ev_userdata(loop))->lock);
}

static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	if (((struct big_rt *)ev_userdata(loop))->quit)
		ev_break(loop, EVBREAK_ALL);
}

static void *io_main(void *arg)
{
	struct big_rt *b = arg;

	pthread_mutex_lock(&b->lock);
	while (!b->quit)
		ev_run(b->loop, 0);
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static int big_init(avm_runtime *rt)
{
	struct big_rt *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	b->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	if (!b->loop) {
		pthread_mutex_destroy(&b->lock);
		free(b);
		return -ENOMEM;
	}
	ev_set_userdata(b->loop, b);
	ev_set_loop_release_cb(b->loop, loop_release, loop_acquire);
	ev_async_init(&b->wake, wake_cb);
	ev_async_start(b->loop, &b->wake);
	rt->exec_priv = b;
	return 0;
}

static void big_fini(avm_runtime *rt)
{
	struct big_rt *b = big(rt);

	if (b->io_running) {
		pthread_mutex_lock(&b->lock);
		b->quit = true;
		pthread_mutex_unlock(&b->lock);
		ev_async_send(b->loop, &b->wake);
		pthread_join(b->io, NULL);
	}
	ev_loop_destroy(b->loop);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void io_cb(struct ev_loop *loop, ev_io *w, int revents);

static struct big_self *self_of(struct avm_actor *a)
{
	return ((struct big_actor *)a->exec)->self;
}

static int self_alloc(struct big_actor *ba)
{
	struct big_self *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int err;

	if (!s)
		return -ENOMEM;
	if (sem_init(&s->ready, 0, 0)) {
		err = -errno;
		goto undo_alloc;
	}
	/* Monotonic: an HLT timeout must not move with the wall clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	err = -pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (err)
		goto undo_sem;
	ba->self = s;
	return 0;

undo_sem:
	sem_destroy(&s->ready);
undo_alloc:
	free(s);
	return err;
}

static int big_actor_init(struct avm_actor *a)
{
	struct big_actor *ba = calloc(1, sizeof(*ba));
	int err;

	if (!ba)
		return -ENOMEM;
	if (a->ops->run) {
		err = self_alloc(ba);
		if (err) {
			free(ba);
			return err;
		}
	}
	for (unsigned i = 0; i < AVM_MAX_TIMERS; i++) {
		ev_timer_init(&ba->timers[i].w, timer_cb, 0., 0.);
		ba->timers[i].a = a;
		ba->timers[i].id = i;
	}
	for (unsigned i = 0; i < AVM_MAX_WATCHES; i++) {
		ev_io_init(&ba->watches[i].w, io_cb, -1, EV_READ);
		ba->watches[i].a = a;
		ba->watches[i].id = i;
	}
	a->exec = ba;
	return 0;
}

static void big_actor_fini(struct avm_actor *a)
{
	struct big_actor *ba = a->exec;

	if (!ba)
		return;
	if (ba->self) {
		pthread_cond_destroy(&ba->self->cond);
		sem_destroy(&ba->self->ready);
		free(ba->self);
	}
	free(ba);
	a->exec = NULL;
}

/* --- A self-driven actor's mailbox (all under the lock) ------------------ */

static int mail(struct avm_actor *dst, const struct avm_msg *m)
{
	struct big_self *s = self_of(dst);
	struct big_pending *p = malloc(sizeof(*p));
	unsigned lane =
		m->fw.lane < AVM_LANE_COUNT ? m->fw.lane : AVM_LANE_BACKGROUND;

	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->dst = dst;
	p->msg = *m;
	if (s->tail[lane])
		s->tail[lane]->next = p;
	else
		s->head[lane] = p;
	s->tail[lane] = p;
	atomic_fetch_add_explicit(&s->queued, 1, memory_order_relaxed);
	/* Wake it from HLT, and end the guest slice it may be in. */
	pthread_cond_signal(&s->cond);
	if (s->kick)
		s->kick(s->kick_arg);
	return 0;
}

/* The oldest message of the first non-empty lane (control, access,
 * background: the order the threaded mailbox serves them in). */
static struct big_pending *mail_pop(struct big_self *s)
{
	for (unsigned l = 0; l < AVM_LANE_COUNT; l++) {
		struct big_pending *p = s->head[l];

		if (!p)
			continue;
		s->head[l] = p->next;
		if (!s->head[l])
			s->tail[l] = NULL;
		atomic_fetch_sub_explicit(&s->queued, 1, memory_order_relaxed);
		return p;
	}
	return NULL;
}

/* With the lock held: deliver everything handlers have queued. A message to
 * a self-driven actor goes to its mailbox instead: its thread runs it. */
static void drain_pending(struct big_rt *b)
{
	while (b->head) {
		struct big_pending *p = b->head;

		b->head = p->next;
		if (!b->head)
			b->tail = NULL;
		if (self_of(p->dst)) {
			if (mail(p->dst, &p->msg))
				avm_msg_release(&p->msg);
		} else {
			avm__deliver(p->dst, &p->msg);
		}
		free(p);
	}
}

/* The actor's own thread, lock held: handle up to @max mailbox messages. */
static unsigned serve_mail(struct big_rt *b, struct avm_actor *a, unsigned max)
{
	struct big_self *s = self_of(a);
	struct big_pending *p;
	unsigned n = 0;

	while (n < max && (p = mail_pop(s))) {
		avm__deliver(a, &p->msg);
		free(p);
		drain_pending(b);
		n++;
	}
	return n;
}

/* Init failed: nothing will handle the mailbox, nobody may wait on it. */
static void bounce_mail(struct big_self *s)
{
	struct big_pending *p;

	while ((p = mail_pop(s))) {
		avm__complete(p->dst, &p->msg, 0, -ESHUTDOWN);
		if (p->msg.fw.flags & AVM_MF_ACK)
			atomic_fetch_add(&p->msg.fw.slot->acked, 1);
		avm_msg_release(&p->msg);
		free(p);
	}
}

/*
 * Outside its handlers a self-driven actor's thread runs without the lock
 * (run() executes guest code). Calls it makes from there (a send, a timer
 * armed by its local APIC) take the lock here; everybody else calling into
 * the executor already holds it (handlers, init). Returns whether it took.
 */
static bool enter(struct avm_actor *a)
{
	struct big_self *s = self_of(a);

	if (!s || s->holds_lock)
		return false;
	pthread_mutex_lock(&big(a->rt)->lock);
	s->holds_lock = true;
	return true;
}

static void leave(struct avm_actor *a, bool took)
{
	struct big_rt *b = big(a->rt);

	if (!took)
		return;
	/* Bottom halves of what ran inline, before anybody else may run. */
	drain_pending(b);
	self_of(a)->holds_lock = false;
	pthread_mutex_unlock(&b->lock);
}

/* --- Delivery --------------------------------------------------------------
 */

/* Lock held: run @m now, or mail it to a self-driven @dst. */
static int dispatch_locked(struct big_rt *b, struct avm_actor *dst,
			   struct avm_msg *m)
{
	if (self_of(dst))
		return mail(dst, m);
	avm__deliver(dst, m);
	drain_pending(b);
	return 0;
}

static int queue_pending(struct big_rt *b, struct avm_actor *dst,
			 const struct avm_msg *m)
{
	struct big_pending *p = malloc(sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->dst = dst;
	p->msg = *m;
	if (b->tail)
		b->tail->next = p;
	else
		b->head = p;
	b->tail = p;
	return 0;
}

static int big_post(struct avm_actor *dst, struct avm_msg *m,
		    struct avm_actor *from)
{
	struct big_rt *b = big(dst->rt);
	bool took;
	int err;

	if (!from) {
		/* An accessor (a VCPU's bus, a test): no lock held yet. */
		pthread_mutex_lock(&b->lock);
		err = dispatch_locked(b, dst, m);
		pthread_mutex_unlock(&b->lock);
		return err;
	}
	took = enter(from);
	if (self_of(dst))
		err = mail(dst, m);
	else if (took)
		err = dispatch_locked(b, dst, m); /* from a VCPU's run() */
	else
		err = queue_pending(b, dst, m); /* a handler: never recurse */
	leave(from, took);
	return err;
}

static int big_wait_reply(avm_accessor *acc, struct avm_reply_slot *slot,
			  uint64_t corr, uint64_t deadline, uint64_t *val)
{
	(void)acc;
	/* A device's handler ran inline: the answer is already there. A
	 * VCPU answers from its own thread, later: then this sleeps. */
	return avm_slot_wait(slot, corr, 0, deadline, val);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct big_timer *bt = (struct big_timer *)w;
	struct avm_msg m = { .kind = AVM_MSG_TIMER, .timer.id = bt->id };

	(void)revents;
	m.src = bt->a->id;
	m.fw.lane = AVM_LANE_BACKGROUND;
	if (atomic_load(&bt->a->run_state) == AVM_ACTOR_RUNNING)
		dispatch_locked(ev_userdata(loop), bt->a, &m);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct big_watch *bw = (struct big_watch *)w;
	struct avm_msg m = { .kind = AVM_MSG_FD, .fd.watch = bw->id };

	m.src = bw->a->id;
	m.fw.lane = AVM_LANE_BACKGROUND;
	m.fd.events = ((revents & EV_READ) ? AVM_FD_READ : 0) |
		      ((revents & EV_WRITE) ? AVM_FD_WRITE : 0);
	if (atomic_load(&bw->a->run_state) == AVM_ACTOR_RUNNING)
		dispatch_locked(ev_userdata(loop), bw->a, &m);
}

/* --- Timers and fds: under the lock (enter() takes it for a VCPU's run) --- */

static int big_timer_arm(struct avm_actor *a, unsigned id, uint64_t delay,
			 uint64_t period)
{
	struct big_rt *b = big(a->rt);
	struct big_actor *ba = a->exec;
	bool took = enter(a);

	ev_timer_stop(b->loop, &ba->timers[id].w);
	ev_now_update(b->loop);
	ev_timer_set(&ba->timers[id].w, (double)delay / 1e9,
		     (double)period / 1e9);
	ev_timer_start(b->loop, &ba->timers[id].w);
	/* The iothread may sleep with a later timeout: make it recompute. */
	ev_async_send(b->loop, &b->wake);
	leave(a, took);
	return 0;
}

static void big_timer_cancel(struct avm_actor *a, unsigned id)
{
	struct big_actor *ba = a->exec;
	bool took = enter(a);

	ev_timer_stop(big(a->rt)->loop, &ba->timers[id].w);
	leave(a, took);
}

static int big_fd_watch(struct avm_actor *a, unsigned id, int fd,
			unsigned events)
{
	struct big_rt *b = big(a->rt);
	struct big_actor *ba = a->exec;
	ev_io *w = &ba->watches[id].w;
	bool took = enter(a);

	ev_io_stop(b->loop, w);
	ev_io_set(w, fd,
		  ((events & AVM_FD_READ) ? EV_READ : 0) |
			  ((events & AVM_FD_WRITE) ? EV_WRITE : 0));
	ev_io_start(b->loop, w);
	ev_async_send(b->loop, &b->wake);
	leave(a, took);
	return 0;
}

static void big_fd_unwatch(struct avm_actor *a, unsigned id)
{
	struct big_actor *ba = a->exec;
	bool took = enter(a);

	ev_io_stop(big(a->rt)->loop, &ba->watches[id].w);
	leave(a, took);
}

static uint64_t big_now(avm_runtime *rt)
{
	(void)rt;
	return avm_mono_ns();
}

/* --- avm_poll(), avm_wait(), avm_set_kick() ------------------------------- */

static int big_poll(struct avm_actor *a)
{
	struct big_self *s = self_of(a);
	struct big_rt *b = big(a->rt);

	/* Relaxed peek: see struct big_self. An empty mailbox costs no lock,
	 * so a VCPU exit does not serialise with every device. */
	if (atomic_load_explicit(&s->queued, memory_order_relaxed)) {
		pthread_mutex_lock(&b->lock);
		s->holds_lock = true;
		serve_mail(b, a, SELF_BATCH);
		s->holds_lock = false;
		pthread_mutex_unlock(&b->lock);
	}
	return atomic_load(&s->stopping) ? -ESHUTDOWN : 0;
}

static void deadline_after(struct timespec *ts, int64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ns / 1000000000;
	ts->tv_nsec += ns % 1000000000;
	ts->tv_sec += ts->tv_nsec / 1000000000;
	ts->tv_nsec %= 1000000000;
}

static int big_wait(struct avm_actor *a, int64_t timeout_ns)
{
	struct big_self *s = self_of(a);
	struct big_rt *b = big(a->rt);
	struct timespec until;
	bool expired = timeout_ns == 0;
	int err;

	if (timeout_ns > 0)
		deadline_after(&until, timeout_ns);
	pthread_mutex_lock(&b->lock);
	while (!atomic_load(&s->stopping) && !atomic_load(&s->queued) &&
	       !expired) {
		if (timeout_ns < 0)
			pthread_cond_wait(&s->cond, &b->lock);
		else
			expired = pthread_cond_timedwait(&s->cond, &b->lock,
							 &until) == ETIMEDOUT;
	}
	err = atomic_load(&s->stopping) ? -ESHUTDOWN
	      : atomic_load(&s->queued) ? 0
					: -ETIMEDOUT;
	pthread_mutex_unlock(&b->lock);
	return err;
}

static int big_set_kick(struct avm_actor *a, avm_kick_fn fn, void *arg)
{
	struct big_self *s = self_of(a);
	bool took = enter(a);
	int err = 0;

	/* Under the lock, like every caller of the kick: once cleared, no
	 * kick is running any more. Once, as in the threaded executor. */
	if (s->kick && fn && (s->kick != fn || s->kick_arg != arg))
		err = -EBUSY;
	else
		s->kick = fn, s->kick_arg = arg;
	leave(a, took);
	return err;
}

/* --- Starting and stopping --------------------------------------------------
 */

static int start_one(struct big_rt *b, struct avm_actor *a)
{
	int err;

	pthread_mutex_lock(&b->lock);
	atomic_store(&a->run_state, AVM_ACTOR_RUNNING);
	err = avm__actor_init(a);
	if (err)
		atomic_store(&a->run_state, AVM_ACTOR_STOPPED);
	drain_pending(b);
	pthread_mutex_unlock(&b->lock);
	if (err)
		avm__log(a->rt, AVM_LOG_ERROR, a->name, "init failed: %s",
			 strerror(-err));
	return err;
}

/* On the actor's own thread, like the threaded executor: its state (a KVM
 * VCPU fd, a unicorn engine) belongs to this thread from the start. */
static int self_init(struct big_rt *b, struct avm_actor *a)
{
	struct big_self *s = self_of(a);
	int err;

	pthread_mutex_lock(&b->lock);
	s->holds_lock = true;
	atomic_store(&a->run_state, AVM_ACTOR_RUNNING);
	err = avm__actor_init(a);
	if (err) {
		atomic_store(&a->run_state, AVM_ACTOR_STOPPED);
		bounce_mail(s);
	}
	drain_pending(b);
	s->holds_lock = false;
	pthread_mutex_unlock(&b->lock);
	return err;
}

/* run() ended: clear the kick, then keep serving the mailbox until the stop
 * so that nobody waits on this actor forever. */
static void self_serve_rest(struct big_rt *b, struct avm_actor *a)
{
	struct big_self *s = self_of(a);

	pthread_mutex_lock(&b->lock);
	s->holds_lock = true;
	s->kick = NULL;
	while (!atomic_load(&s->stopping))
		if (!serve_mail(b, a, SELF_BATCH))
			pthread_cond_wait(&s->cond, &b->lock);
	s->holds_lock = false;
	pthread_mutex_unlock(&b->lock);
}

/* After the stop: handle what was mailed before it, then fini. */
static void self_finish(struct big_rt *b, struct avm_actor *a)
{
	struct big_self *s = self_of(a);
	struct big_actor *ba = a->exec;

	pthread_mutex_lock(&b->lock);
	s->holds_lock = true;
	while (serve_mail(b, a, SELF_BATCH))
		;
	for (unsigned i = 0; i < AVM_MAX_TIMERS; i++)
		ev_timer_stop(b->loop, &ba->timers[i].w);
	for (unsigned i = 0; i < AVM_MAX_WATCHES; i++)
		ev_io_stop(b->loop, &ba->watches[i].w);
	avm__actor_fini(a);
	drain_pending(b);
	s->holds_lock = false;
	pthread_mutex_unlock(&b->lock);
}

static void *self_main(void *arg)
{
	struct avm_actor *a = arg;
	struct big_self *s = self_of(a);
	struct big_rt *b = big(a->rt);
	struct avm_ctx ctx = { .self = a };
	int err;

	/* A VCPU thread is placed like a threaded actor's. */
	(void)avm__place_self(a);
	avm_reader_register();
	s->init_err = self_init(b, a);
	sem_post(&s->ready);
	if (!s->init_err) {
		err = a->ops->run(a->state, &ctx);
		if (err && err != -ESHUTDOWN)
			avm__log(a->rt, AVM_LOG_ERROR, a->name,
				 "run() ended: %s", strerror(-err));
		self_serve_rest(b, a);
		self_finish(b, a);
	}
	avm_reader_unregister();
	return NULL;
}

static int start_self(struct avm_actor *a)
{
	struct big_self *s = self_of(a);
	int err = -pthread_create(&s->thread, NULL, self_main, a);

	if (err)
		return err;
	s->joinable = true;
	while (sem_wait(&s->ready) && errno == EINTR)
		;
	if (s->init_err) {
		pthread_join(s->thread, NULL);
		s->joinable = false;
		avm__log(a->rt, AVM_LOG_ERROR, a->name, "init failed: %s",
			 strerror(-s->init_err));
	}
	return s->init_err;
}

/* Devices first, then the self-driven actors: a guest starts only once
 * every device it may reach takes messages (as the threaded executor). */
static int big_start(avm_runtime *rt)
{
	struct big_rt *b = big(rt);
	int err;

	if (!b->io_running) {
		err = pthread_create(&b->io, NULL, io_main, b);
		if (err)
			return -err;
		b->io_running = true;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < rt->n_actors; i++) {
			struct avm_actor *a = rt->actors[i];

			if ((a->ops->run != NULL) != (pass == 1))
				continue;
			err = pass ? start_self(a) : start_one(b, a);
			if (err)
				return err;
		}
	}
	return 0;
}

static void stop_self(struct big_rt *b, struct avm_actor *a)
{
	struct big_self *s = self_of(a);

	if (!s->joinable)
		return;
	pthread_mutex_lock(&b->lock);
	atomic_store(&s->stopping, true);
	pthread_cond_signal(&s->cond);
	if (s->kick)
		s->kick(s->kick_arg);
	pthread_mutex_unlock(&b->lock);
	pthread_join(s->thread, NULL);
	s->joinable = false;
}

static void big_stop_actor(struct avm_actor *a)
{
	struct big_rt *b = big(a->rt);
	struct big_actor *ba = a->exec;

	if (ba->self) {
		stop_self(b, a);
		return;
	}
	pthread_mutex_lock(&b->lock);
	drain_pending(b);
	for (unsigned i = 0; i < AVM_MAX_TIMERS; i++)
		ev_timer_stop(b->loop, &ba->timers[i].w);
	for (unsigned i = 0; i < AVM_MAX_WATCHES; i++)
		ev_io_stop(b->loop, &ba->watches[i].w);
	avm__actor_fini(a);
	pthread_mutex_unlock(&b->lock);
}

const struct avm_exec_ops avm_exec_biglock = {
	.name = "biglock",
	.init = big_init,
	.fini = big_fini,
	.actor_init = big_actor_init,
	.actor_fini = big_actor_fini,
	.start = big_start,
	.stop_actor = big_stop_actor,
	.post = big_post,
	.wait_reply = big_wait_reply,
	.timer_arm = big_timer_arm,
	.timer_cancel = big_timer_cancel,
	.fd_watch = big_fd_watch,
	.fd_unwatch = big_fd_unwatch,
	.now = big_now,
	.poll = big_poll,
	.wait = big_wait,
	.set_kick = big_set_kick,
};
