/* SPDX-License-Identifier: MIT */
/*
 * The deterministic executor: one thread, a virtual clock, and a seeded
 * choice among independent senders. Pending messages wait in one array in
 * posting order; a step draws a receiver, takes its most urgent lane, draws a
 * sender among those with messages in that lane and delivers that sender's
 * oldest message. Arrays are scanned linearly: tests queue few messages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/deterministic.h>
#include <actorvm/trace.h>

#include "internal.h"

#define DEFAULT_MAX_STEPS 1000000u

struct det_entry {
	struct avm_actor *dst;
	uint64_t sender;
	struct avm_msg msg;
};

struct det_timer {
	bool armed;
	uint64_t due;
	uint64_t period;
	uint64_t seq; /* arming order, to break ties between equal deadlines */
};

struct det_actor {
	struct det_timer timers[AVM_MAX_TIMERS];
	bool watched[AVM_MAX_WATCHES];
};

struct det_rt {
	uint64_t now;
	uint64_t handler_cost;
	uint64_t rng;
	uint64_t arm_seq;
	struct det_entry *q;
	uint64_t *scratch; /* one word per queued message, for pick() */
	unsigned n, cap;
	avm_det_observer_fn observe;
	void *observe_arg;
};

static struct det_rt *det(avm_runtime *rt)
{
	return rt->cfg.exec == AVM_EXEC_DETERMINISTIC ? rt->exec_priv : NULL;
}

static uint64_t rng_next(struct det_rt *d)
{
	/* splitmix64: small, seedable, good enough to shuffle deliveries. */
	uint64_t z = (d->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void observe(struct det_rt *d, struct avm_det_event *ev)
{
	if (!d->observe)
		return;
	ev->time = d->now;
	d->observe(d->observe_arg, ev);
}

static int det_init(avm_runtime *rt)
{
	struct det_rt *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->rng = rt->cfg.seed;
	rt->exec_priv = d;
	return 0;
}

static void det_fini(avm_runtime *rt)
{
	struct det_rt *d = rt->exec_priv;

	for (unsigned i = 0; i < d->n; i++)
		avm_msg_release(&d->q[i].msg);
	free(d->q);
	free(d->scratch);
	free(d);
}

static int det_actor_init(struct avm_actor *a)
{
	a->exec = calloc(1, sizeof(struct det_actor));
	return a->exec ? 0 : -ENOMEM;
}

static void det_actor_fini(struct avm_actor *a)
{
	free(a->exec);
	a->exec = NULL;
}

static uint64_t sender_key(const struct avm_msg *m, struct avm_actor *from)
{
	if (from)
		return from->id;
	/* Accessors are told apart by their reply slot. */
	return m->fw.slot ? (uint64_t)(uintptr_t)m->fw.slot : AVM_ACTOR_NONE;
}

static int enqueue(struct det_rt *d, struct avm_actor *dst,
		   const struct avm_msg *m, uint64_t sender)
{
	if (d->n == d->cap) {
		unsigned cap = d->cap ? d->cap * 2 : 64;
		struct det_entry *q = realloc(d->q, cap * sizeof(*q));
		uint64_t *sc;

		if (!q)
			return -ENOMEM;
		d->q = q;
		sc = realloc(d->scratch, cap * sizeof(*sc));
		if (!sc)
			return -ENOMEM;
		d->scratch = sc;
		d->cap = cap;
	}
	d->q[d->n++] = (struct det_entry){ dst, sender, *m };
	return 0;
}

static int det_post(struct avm_actor *dst, struct avm_msg *m,
		    struct avm_actor *from)
{
	return enqueue(det(dst->rt), dst, m, sender_key(m, from));
}

/* Append @key to @set (of *@n) unless present: first appearance order. */
static void add_distinct(uint64_t *set, unsigned *n, uint64_t key)
{
	for (unsigned j = 0; j < *n; j++)
		if (set[j] == key)
			return;
	set[(*n)++] = key;
}

/* Draw a receiver among those with pending messages. */
static struct avm_actor *pick_receiver(struct det_rt *d)
{
	unsigned n = 0;

	for (unsigned i = 0; i < d->n; i++)
		add_distinct(d->scratch, &n, (uint64_t)(uintptr_t)d->q[i].dst);
	if (!n)
		return NULL;
	return (struct avm_actor *)(uintptr_t)d->scratch[rng_next(d) % n];
}

/* Index of the entry to deliver next among those for @only (or any):
 * the most urgent lane, then a drawn sender's oldest message. */
static int pick(struct det_rt *d, struct avm_actor *only)
{
	struct avm_actor *dst = only ? only : pick_receiver(d);
	unsigned n = 0, lane = AVM_LANE_COUNT, i;
	uint64_t who;

	if (!dst)
		return -1;
	for (i = 0; i < d->n; i++)
		if (d->q[i].dst == dst && d->q[i].msg.fw.lane < lane)
			lane = d->q[i].msg.fw.lane;
	for (i = 0; i < d->n; i++)
		if (d->q[i].dst == dst && d->q[i].msg.fw.lane == lane)
			add_distinct(d->scratch, &n, d->q[i].sender);
	if (!n)
		return -1;
	who = d->scratch[rng_next(d) % n];
	for (i = 0; i < d->n; i++)
		if (d->q[i].dst == dst && d->q[i].msg.fw.lane == lane &&
		    d->q[i].sender == who)
			return (int)i;
	return -1;
}

static int step_for(avm_runtime *rt, struct avm_actor *only)
{
	struct det_rt *d = det(rt);
	int i = pick(d, only);
	struct det_entry e;

	if (i < 0)
		return 0;
	e = d->q[i];
	memmove(&d->q[i], &d->q[i + 1], (d->n - (unsigned)i - 1) * sizeof(e));
	d->n--;
	observe(d, &(struct avm_det_event){ .kind = AVM_DET_DELIVER,
					    .src = e.msg.src,
					    .dst = e.dst->id,
					    .port = -1,
					    .msg = &e.msg });
	AVM_TRACE_MSG(rt, AVM_TRACE_DEQUEUED, e.dst->id, &e.msg);
	avm__deliver(e.dst, &e.msg);
	return 1;
}

int avm_det_step(avm_runtime *rt)
{
	if (!det(rt))
		return -EINVAL;
	return step_for(rt, NULL);
}

int avm_det_run(avm_runtime *rt, unsigned max_steps)
{
	int steps = 0;

	if (!det(rt))
		return -EINVAL;
	if (!max_steps)
		max_steps = DEFAULT_MAX_STEPS;
	while (step_for(rt, NULL)) {
		if ((unsigned)++steps >= max_steps && det(rt)->n)
			return -ELOOP;
	}
	return steps;
}

/* The armed timer that falls due first, no later than @limit. */
static bool next_timer(avm_runtime *rt, uint64_t limit, struct avm_actor **who,
		       unsigned *id)
{
	struct det_timer *best = NULL;

	for (unsigned i = 0; i < rt->n_actors; i++) {
		struct det_actor *da = rt->actors[i]->exec;

		for (unsigned t = 0; t < AVM_MAX_TIMERS; t++) {
			struct det_timer *tm = &da->timers[t];

			if (!tm->armed || tm->due > limit)
				continue;
			if (best &&
			    (tm->due > best->due ||
			     (tm->due == best->due && tm->seq > best->seq)))
				continue;
			best = tm;
			*who = rt->actors[i];
			*id = t;
		}
	}
	return best != NULL;
}

static void fire(struct det_rt *d, struct avm_actor *a, unsigned id)
{
	struct det_timer *tm = &((struct det_actor *)a->exec)->timers[id];
	struct avm_msg m = { .kind = AVM_MSG_TIMER, .timer.id = id };

	/* Late if a handler ran past the deadline; time never goes back. */
	if (tm->due > d->now)
		d->now = tm->due;
	if (tm->period)
		tm->due += tm->period;
	else
		tm->armed = false;
	m.src = a->id;
	m.fw.lane = AVM_LANE_BACKGROUND;
	if (atomic_load(&a->run_state) == AVM_ACTOR_RUNNING &&
	    enqueue(d, a, &m, a->id))
		avm__log(a->rt, AVM_LOG_ERROR, a->name,
			 "out of memory: timer %u expiry lost", id);
}

int avm_det_advance(avm_runtime *rt, uint64_t ns)
{
	struct det_rt *d = det(rt);
	struct avm_actor *a;
	uint64_t target;
	unsigned id;
	int err;

	if (!d)
		return -EINVAL;
	target = d->now + ns < d->now ? UINT64_MAX : d->now + ns;
	for (;;) {
		err = avm_det_run(rt, 0);
		if (err < 0)
			return err;
		if (!next_timer(rt, target, &a, &id))
			break;
		fire(d, a, id);
	}
	if (d->now < target)
		d->now = target;
	return 0;
}

uint64_t avm_det_now(avm_runtime *rt)
{
	struct det_rt *d = det(rt);

	return d ? d->now : 0;
}

unsigned avm_det_pending(avm_runtime *rt)
{
	struct det_rt *d = det(rt);

	return d ? d->n : 0;
}

int avm_det_set_observer(avm_runtime *rt, avm_det_observer_fn fn, void *arg)
{
	struct det_rt *d = det(rt);

	if (!d)
		return -EINVAL;
	d->observe = fn;
	d->observe_arg = arg;
	return 0;
}

int avm_det_fd_ready(avm_runtime *rt, avm_actor_id id, unsigned watch,
		     unsigned events)
{
	struct det_rt *d = det(rt);
	struct avm_actor *a = avm__actor(rt, id);
	struct avm_msg m = { .kind = AVM_MSG_FD, .fd.watch = watch };

	if (!d)
		return -EINVAL;
	if (!a || watch >= AVM_MAX_WATCHES ||
	    !((struct det_actor *)a->exec)->watched[watch])
		return -ENOENT;
	if (atomic_load(&a->run_state) != AVM_ACTOR_RUNNING)
		return -ESHUTDOWN;
	m.src = a->id;
	m.fd.events = events;
	m.fw.lane = AVM_LANE_BACKGROUND;
	return enqueue(d, a, &m, a->id);
}

int avm_det_timer_due(avm_runtime *rt, avm_actor_id id, unsigned timer,
		      uint64_t *due)
{
	struct avm_actor *a = avm__actor(rt, id);
	struct det_timer *tm;

	if (!det(rt))
		return -EINVAL;
	if (!a || timer >= AVM_MAX_TIMERS)
		return -ENOENT;
	tm = &((struct det_actor *)a->exec)->timers[timer];
	if (!tm->armed)
		return -ENOENT;
	*due = tm->due;
	return 0;
}

static int det_wait_reply(avm_accessor *acc, struct avm_reply_slot *slot,
			  uint64_t corr, uint64_t deadline, uint64_t *val)
{
	unsigned steps = 0;

	(void)deadline; /* virtual time does not pass while we wait */
	while (!avm_slot_done(slot)) {
		if (!step_for(acc->rt, NULL) || ++steps > DEFAULT_MAX_STEPS)
			break;
	}
	if (avm_slot_done(slot))
		return avm_slot_take(slot, val);
	avm_slot_abandon(slot, corr);
	return -EIO;
}

static int det_timer_arm(struct avm_actor *a, unsigned id, uint64_t delay,
			 uint64_t period)
{
	struct det_rt *d = det(a->rt);
	struct det_timer *tm = &((struct det_actor *)a->exec)->timers[id];

	tm->armed = true;
	tm->due = d->now + delay;
	tm->period = period;
	tm->seq = ++d->arm_seq;
	observe(d, &(struct avm_det_event){ .kind = AVM_DET_TIMER_ARM,
					    .src = a->id,
					    .dst = AVM_ACTOR_NONE,
					    .port = -1,
					    .timer = id,
					    .delay = delay,
					    .period = period });
	return 0;
}

static void det_timer_cancel(struct avm_actor *a, unsigned id)
{
	struct det_rt *d = det(a->rt);

	((struct det_actor *)a->exec)->timers[id].armed = false;
	observe(d, &(struct avm_det_event){ .kind = AVM_DET_TIMER_CANCEL,
					    .src = a->id,
					    .dst = AVM_ACTOR_NONE,
					    .port = -1,
					    .timer = id });
}

static int det_fd_watch(struct avm_actor *a, unsigned id, int fd,
			unsigned events)
{
	(void)fd;
	(void)events;
	((struct det_actor *)a->exec)->watched[id] = true;
	observe(det(a->rt), &(struct avm_det_event){ .kind = AVM_DET_FD_WATCH,
						     .src = a->id,
						     .dst = AVM_ACTOR_NONE,
						     .port = -1,
						     .timer = id });
	return 0;
}

static void det_fd_unwatch(struct avm_actor *a, unsigned id)
{
	((struct det_actor *)a->exec)->watched[id] = false;
}

static void det_after_handle(struct avm_actor *a)
{
	struct det_rt *d = det(a->rt);

	d->now += d->handler_cost;
}

int avm_det_set_handler_cost(avm_runtime *rt, uint64_t ns)
{
	struct det_rt *d = det(rt);

	if (!d)
		return -EINVAL;
	d->handler_cost = ns;
	return 0;
}

static void det_settle(avm_runtime *rt)
{
	step_for(rt, NULL);
}

static uint64_t det_now(avm_runtime *rt)
{
	return det(rt)->now;
}

static int det_start(avm_runtime *rt)
{
	for (unsigned i = 0; i < rt->n_actors; i++) {
		struct avm_actor *a = rt->actors[i];
		int err;

		atomic_store(&a->run_state, AVM_ACTOR_RUNNING);
		err = avm__actor_init(a);
		if (err) {
			atomic_store(&a->run_state, AVM_ACTOR_STOPPED);
			avm__log(rt, AVM_LOG_ERROR, a->name, "init failed: %s",
				 strerror(-err));
			return err;
		}
	}
	return 0;
}

static void det_stop_actor(struct avm_actor *a)
{
	struct det_actor *da = a->exec;

	/* Handle what was queued for it before it stopped taking more. */
	while (step_for(a->rt, a))
		;
	for (unsigned i = 0; i < AVM_MAX_TIMERS; i++)
		da->timers[i].armed = false;
	avm__actor_fini(a);
}

static void det_on_send(struct avm_actor *a, int port, avm_actor_id dst,
			const struct avm_msg *m, int result)
{
	observe(det(a->rt),
		&(struct avm_det_event){
			.kind = AVM_DET_SEND,
			.src = a->id,
			.dst = dst,
			.port = port,
			.port_name = port >= 0 ? a->ops->ports[port] : NULL,
			.msg = m,
			.result = result });
}

static void det_on_dma(struct avm_actor *a, bool write, uint64_t gpa,
		       const void *buf, size_t len, int status)
{
	observe(det(a->rt), &(struct avm_det_event){ .kind = AVM_DET_DMA,
						     .src = a->id,
						     .dst = AVM_ACTOR_NONE,
						     .port = -1,
						     .write = write,
						     .gpa = gpa,
						     .len = len,
						     .data = buf,
						     .status = status });
}

const struct avm_exec_ops avm_exec_deterministic = {
	.name = "deterministic",
	.init = det_init,
	.fini = det_fini,
	.actor_init = det_actor_init,
	.actor_fini = det_actor_fini,
	.start = det_start,
	.stop_actor = det_stop_actor,
	.post = det_post,
	.wait_reply = det_wait_reply,
	.timer_arm = det_timer_arm,
	.timer_cancel = det_timer_cancel,
	.fd_watch = det_fd_watch,
	.fd_unwatch = det_fd_unwatch,
	.now = det_now,
	.settle = det_settle,
	.after_handle = det_after_handle,
	.on_dma = det_on_dma,
	.on_send = det_on_send,
};
