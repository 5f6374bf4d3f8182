/* SPDX-License-Identifier: MIT */
/*
 * The biglock executor: the QEMU-style baseline. Every handler runs under one
 * global mutex, inline on the thread that caused it: a VCPU for guest
 * accesses, the iothread for timers and fds. Messages that handlers send are
 * queued and delivered before the mutex is released, like bottom halves.
 * The iothread's libev loop uses the same mutex as its loop lock, so any
 * thread holding it may arm timers (see libev's "THREAD LOCKING EXAMPLE").
 */
#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

struct big_actor {
	struct big_timer timers[AVM_MAX_TIMERS];
	struct big_watch watches[AVM_MAX_WATCHES];
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

static int big_actor_init(struct avm_actor *a)
{
	struct big_actor *ba = calloc(1, sizeof(*ba));

	if (!ba)
		return -ENOMEM;
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
	free(a->exec);
	a->exec = NULL;
}

/* With the lock held: deliver everything handlers have queued. */
static void drain_pending(struct big_rt *b)
{
	while (b->head) {
		struct big_pending *p = b->head;

		b->head = p->next;
		if (!b->head)
			b->tail = NULL;
		avm__deliver(p->dst, &p->msg);
		free(p);
	}
}

static void run_locked(struct big_rt *b, struct avm_actor *dst,
		       struct avm_msg *m)
{
	avm__deliver(dst, m);
	drain_pending(b);
}

static int big_post(struct avm_actor *dst, struct avm_msg *m,
		    struct avm_actor *from)
{
	struct big_rt *b = big(dst->rt);
	struct big_pending *p;

	if (!from) {
		pthread_mutex_lock(&b->lock);
		run_locked(b, dst, m);
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	/* A handler is running and holds the lock: queue, never recurse. */
	p = malloc(sizeof(*p));
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

static int big_wait_reply(avm_accessor *acc, struct avm_reply_slot *slot,
			  uint64_t corr, uint64_t deadline, uint64_t *val)
{
	(void)acc;
	/* The handler ran inline: the answer is already there. */
	return avm_slot_wait(slot, corr, 0, deadline, val);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct big_timer *bt = (struct big_timer *)w;
	struct avm_msg m = { .kind = AVM_MSG_TIMER, .arg = bt->id };

	(void)revents;
	m.src = bt->a->id;
	if (atomic_load(&bt->a->run_state) == AVM_ACTOR_RUNNING)
		run_locked(ev_userdata(loop), bt->a, &m);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct big_watch *bw = (struct big_watch *)w;
	struct avm_msg m = { .kind = AVM_MSG_FD, .arg = bw->id };

	m.src = bw->a->id;
	m.value = ((revents & EV_READ) ? AVM_FD_READ : 0) |
		  ((revents & EV_WRITE) ? AVM_FD_WRITE : 0);
	if (atomic_load(&bw->a->run_state) == AVM_ACTOR_RUNNING)
		run_locked(ev_userdata(loop), bw->a, &m);
}

/* Callers hold the lock (they run inside a handler or init). */
static int big_timer_arm(struct avm_actor *a, unsigned id, uint64_t delay,
			 uint64_t period)
{
	struct big_rt *b = big(a->rt);
	struct big_actor *ba = a->exec;

	ev_timer_stop(b->loop, &ba->timers[id].w);
	ev_now_update(b->loop);
	ev_timer_set(&ba->timers[id].w, (double)delay / 1e9,
		     (double)period / 1e9);
	ev_timer_start(b->loop, &ba->timers[id].w);
	/* The iothread may sleep with a later timeout: make it recompute. */
	ev_async_send(b->loop, &b->wake);
	return 0;
}

static void big_timer_cancel(struct avm_actor *a, unsigned id)
{
	struct big_actor *ba = a->exec;

	ev_timer_stop(big(a->rt)->loop, &ba->timers[id].w);
}

static int big_fd_watch(struct avm_actor *a, unsigned id, int fd,
			unsigned events)
{
	struct big_rt *b = big(a->rt);
	struct big_actor *ba = a->exec;
	ev_io *w = &ba->watches[id].w;

	ev_io_stop(b->loop, w);
	ev_io_set(w, fd,
		  ((events & AVM_FD_READ) ? EV_READ : 0) |
			  ((events & AVM_FD_WRITE) ? EV_WRITE : 0));
	ev_io_start(b->loop, w);
	ev_async_send(b->loop, &b->wake);
	return 0;
}

static void big_fd_unwatch(struct avm_actor *a, unsigned id)
{
	struct big_actor *ba = a->exec;

	ev_io_stop(big(a->rt)->loop, &ba->watches[id].w);
}

static uint64_t big_now(avm_runtime *rt)
{
	(void)rt;
	return avm_mono_ns();
}

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
	for (unsigned i = 0; i < rt->n_actors; i++) {
		err = start_one(b, rt->actors[i]);
		if (err)
			return err;
	}
	return 0;
}

static void big_stop_actor(struct avm_actor *a)
{
	struct big_rt *b = big(a->rt);
	struct big_actor *ba = a->exec;

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
};
