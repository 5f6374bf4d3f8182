/* SPDX-License-Identifier: MIT */
/*
 * The threaded executor's fast path: an idle actor's handler runs on the
 * sender's thread; one handler at a time, order, loop effects on the
 * actor's own thread, bounded nesting, -EDEADLK instead of a nested wait,
 * priorities, stop, and the opt-out. Which thread ran a handler is never
 * judged by timing: the handler records its thread id.
 */
#include "fixture.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* --- A device that tells which thread ran it ---------------------------- */

enum {
	WHO_TID = 0,	  /* read: the thread that handles this read */
	WHO_TIMER = 8,	  /* write: arm timer 0 for @value ns */
	WHO_CONT = 16,	  /* write: run a chain of @value continuations */
	WHO_SLOW = 24,	  /* read: spin 2 ms, then answer */
	WHO_FWD = 32,	  /* write: send @value hops down port 0 */
	WHO_SEQ = 40,	  /* write: @value must be the last one + 1 */
	WHO_SEQ_BAD = 48, /* read: how many were not */
	WHO_REQ = 56,	  /* write: read WHO_TID of device @value, recorded */
	WHO_HOLD = 64,	  /* write: keep the right until obs.release */
	WHO_FWD_REQ = 72, /* write: the next device does WHO_REQ @value */
	WHO_LINGER = 80	  /* read: stay inside across a stop (who_linger) */
};

/* How long WHO_LINGER stays once the stop was called, at most. */
#define LINGER_NS 500000000ull

/* What the device saw, outside its state so that it outlives it. */
struct obs {
	_Atomic long init_tid, timer_tid, fwd_tid;
	_Atomic int inside;
	_Atomic unsigned overlaps;
	_Atomic uint64_t conts;
	_Atomic int fini_inside, finied;
	/* The scheduling the actor's own thread got (seen by init). */
	int init_policy, init_prio;
	/* WHO_REQ: the accessor it uses (the test thread's second one) and
	 * what came back, on which thread. */
	avm_accessor *acc;
	_Atomic int req_done, req_err;
	_Atomic long req_tid;
	_Atomic uint64_t req_val;
	/* WHO_HOLD */
	_Atomic int holding, release;
	/* WHO_LINGER: set by the handler, and by the stopping test */
	_Atomic long linger_tid;
	_Atomic int linger_in, returned_inside;
	_Atomic int stop_called, stop_returned;
};

struct who {
	struct obs *o;
	uint64_t seq, seq_bad;
};

static long tid(void)
{
	return (long)syscall(SYS_gettid);
}

/* One handler at a time: count any overlap. */
static void enter(struct obs *o)
{
	if (atomic_exchange(&o->inside, 1))
		atomic_fetch_add(&o->overlaps, 1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A long handler, so that a stop lands inside it (the verdict does not
 * depend on whether it does). */
static void spin_ms(unsigned ms)
{
	uint64_t until = now_ns() + ms * 1000000ull;

	while (now_ns() < until)
		;
}

/*
 * A synchronous request from inside a handler: read the thread id of device
 * @dev through the accessor the test gave, and record the answer. Run in
 * place, this may not wait for an actor it cannot run in place itself.
 */
static void who_request(struct obs *o, uint64_t dev)
{
	uint64_t v = 0;
	int err = avm_read(o->acc, AVM_SPACE_MMIO, FIX_MMIO(dev) + WHO_TID, 8,
			   &v);

	atomic_store(&o->req_tid, tid());
	atomic_store(&o->req_val, v);
	atomic_store(&o->req_err, err);
	atomic_store(&o->req_done, 1);
}

/* Keep the actor busy (its right held) until the test lets go; bounded,
 * past the read deadline, so that a bug fails the test instead of hanging
 * it. A handler that sleeps: only a test does that. */
static void who_hold(struct obs *o)
{
	uint64_t t0 = now_ns();

	atomic_store(&o->holding, 1);
	while (!atomic_load(&o->release) && now_ns() - t0 < 2 * FIX_GUARD_NS)
		fix_sleep_ms(1);
}

/*
 * Stay inside the handler until the test has called avm_runtime_stop, then
 * until fini has run, the stop has returned, or LINGER_NS: neither may
 * happen while a handler runs. The bound only ends the wait when all is
 * well; a broken stop is seen as soon as it returns or runs fini.
 */
static void who_linger(struct obs *o)
{
	uint64_t t0 = now_ns();

	atomic_store(&o->linger_tid, tid());
	atomic_store(&o->linger_in, 1);
	while (!atomic_load(&o->stop_called) && now_ns() - t0 < FIX_GUARD_NS)
		fix_sleep_ms(1);
	t0 = now_ns();
	while (!atomic_load(&o->finied) && !atomic_load(&o->stop_returned) &&
	       now_ns() - t0 < LINGER_NS)
		fix_sleep_ms(1);
	atomic_store(&o->returned_inside, atomic_load(&o->stop_returned));
}

static void who_read(struct who *w, const struct avm_msg *m, avm_ctx *ctx)
{
	if (m->access.offset == WHO_SLOW)
		spin_ms(2);
	if (m->access.offset == WHO_LINGER)
		who_linger(w->o);
	avm_reply(ctx, m->access.offset == WHO_SEQ_BAD ? w->seq_bad
						       : (uint64_t)tid());
}

static void who_write(struct who *w, const struct avm_msg *m, avm_ctx *ctx)
{
	struct avm_msg fwd = { .kind = AVM_MSG_USER,
			       .user.value = m->access.value };

	switch (m->access.offset) {
	case WHO_TIMER:
		avm_timer_arm(ctx, 0, m->access.value, 0);
		break;
	case WHO_CONT:
		avm_continue(ctx, m->access.value);
		break;
	case WHO_FWD_REQ:
		fwd.user.addr = WHO_REQ;
		/* fall through */
	case WHO_FWD:
		avm_send(ctx, 0, &fwd);
		break;
	case WHO_SEQ:
		w->seq_bad += m->access.value != ++w->seq;
		break;
	case WHO_REQ:
		who_request(w->o, m->access.value);
		break;
	case WHO_HOLD:
		who_hold(w->o);
		break;
	}
}

static void who_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct who *w = state;
	struct avm_msg fwd = { .kind = AVM_MSG_USER };

	enter(w->o);
	if (m->kind == AVM_MSG_READ) {
		who_read(w, m, ctx);
	} else if (m->kind == AVM_MSG_WRITE) {
		who_write(w, m, ctx);
	} else if (m->kind == AVM_MSG_TIMER) {
		atomic_store(&w->o->timer_tid, tid());
	} else if (m->kind == AVM_MSG_CONTINUE) {
		atomic_fetch_add(&w->o->conts, 1);
		if (m->cont.token > 1)
			avm_continue(ctx, m->cont.token - 1);
	} else if (m->kind == AVM_MSG_USER && m->user.addr == WHO_REQ) {
		who_request(w->o, m->user.value);
	} else if (m->kind == AVM_MSG_USER) {
		atomic_store(&w->o->fwd_tid, tid());
		fwd.user.value = m->user.value - 1;
		if (m->user.value > 0)
			avm_send(ctx, 0, &fwd);
	}
	atomic_store(&w->o->inside, 0);
}

static int who_init(void *state, const void *config, avm_ctx *ctx)
{
	struct who *w = state;
	struct sched_param sp;

	(void)ctx;
	w->o = (struct obs *)config;
	atomic_store(&w->o->init_tid, tid());
	/* init runs on the actor's own thread, after its placement. */
	if (!pthread_getschedparam(pthread_self(), &w->o->init_policy, &sp))
		w->o->init_prio = sp.sched_priority;
	return 0;
}

static void who_fini(void *state)
{
	struct who *w = state;

	atomic_store(&w->o->fini_inside, atomic_load(&w->o->inside));
	atomic_store(&w->o->finied, 1);
}

static const struct avm_region_desc who_regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 128 },
};

static const char *const who_ports[] = { "next" };

static const struct avm_device_ops who_ops = {
	.type = "who",
	.state_size = sizeof(struct who),
	.regions = who_regions,
	.n_regions = 1,
	.ports = who_ports,
	.n_ports = 1,
	.init = who_init,
	.handle = who_handle,
	.fini = who_fini,
};

/* The same device, of a type that asks for its own thread by default. */
static const struct avm_device_ops who_own_ops = {
	.type = "who-own",
	.state_size = sizeof(struct who),
	.regions = who_regions,
	.n_regions = 1,
	.ports = who_ports,
	.n_ports = 1,
	.init = who_init,
	.handle = who_handle,
	.fini = who_fini,
	.own_thread = true,
};

/* --- Set-up --------------------------------------------------------------- */

#define RIG_MAX 4

struct rig {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id[RIG_MAX];
	struct obs o[RIG_MAX];
};

/* Per device: its type (NULL: who_ops), its spec's fast_path, rt_priority
 * and spin_ns. */
struct rig_opts {
	const struct avm_device_ops *ops[RIG_MAX];
	int fast_path[RIG_MAX];
	int rt_priority[RIG_MAX];
	int64_t spin_ns[RIG_MAX];
};

/* @n who devices chained by their "next" port, mapped at FIX_MMIO(i); the
 * read deadline is the hang guard, so that slowness never fails a test. */
static void rig_up_with(struct rig *r, unsigned n, const struct rig_opts *o)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED,
					  .read_deadline_ns = FIX_GUARD_NS };
	char name[16];

	memset(r, 0, sizeof(*r));
	assert_true(n <= RIG_MAX);
	assert_int_equal(avm_runtime_new(&cfg, &r->rt), 0);
	for (unsigned i = 0; i < n; i++) {
		struct avm_actor_spec s = { .ops = o->ops[i] ?: &who_ops,
					    .name = name,
					    .config = &r->o[i],
					    .fast_path = o->fast_path[i],
					    .rt_priority = o->rt_priority[i],
					    .spin_ns = o->spin_ns[i] };

		snprintf(name, sizeof(name), "who%u", i);
		assert_int_equal(avm_actor_create(r->rt, &s, &r->id[i]), 0);
		assert_int_equal(avm_map(r->rt, r->id[i], 0, FIX_MMIO(i)), 0);
	}
	for (unsigned i = 0; i + 1 < n; i++)
		assert_int_equal(
			avm_bind(r->rt, r->id[i], "next", r->id[i + 1], 0), 0);
	assert_int_equal(avm_runtime_start(r->rt), 0);
	assert_int_equal(avm_accessor_new(r->rt, "test", &r->acc), 0);
}

static void rig_up(struct rig *r, unsigned n, int fast_path)
{
	struct rig_opts o = { 0 };

	for (unsigned i = 0; i < RIG_MAX; i++)
		o.fast_path[i] = fast_path;
	rig_up_with(r, n, &o);
}

static void rig_down(struct rig *r)
{
	avm_accessor_free(r->acc);
	avm_runtime_free(r->rt);
}

static uint64_t rd(struct rig *r, unsigned dev, unsigned reg)
{
	uint64_t v = 0;

	assert_int_equal(
		avm_read(r->acc, AVM_SPACE_MMIO, FIX_MMIO(dev) + reg, 8, &v),
		0);
	return v;
}

static void wr(struct rig *r, unsigned dev, unsigned reg, uint64_t v)
{
	assert_int_equal(
		avm_write(r->acc, AVM_SPACE_MMIO, FIX_MMIO(dev) + reg, 8, v),
		0);
}

/* Wait (bounded by the hang guard) until @v is non-zero; its value. */
static long wait_set(_Atomic long *v)
{
	uint64_t t0 = fix_now_ns();

	while (!atomic_load(v) && fix_guard(t0))
		fix_sleep_ms(1);
	return atomic_load(v);
}

static int wait_flag(_Atomic int *v)
{
	uint64_t t0 = fix_now_ns();

	while (!atomic_load(v) && fix_guard(t0))
		fix_sleep_ms(1);
	return atomic_load(v);
}

/* --- Tests ---------------------------------------------------------------- */

/* An idle actor's read runs on the reader's thread; with the fast path off,
 * on the actor's. Which thread is not timing: the handler reports it. */
static void idle_read_runs_in_place(void **unused)
{
	struct rig r;

	(void)unused;
	rig_up(&r, 1, 0);
	assert_int_equal((long)rd(&r, 0, WHO_TID), tid());
	rig_down(&r);
	rig_up(&r, 1, -1);
	assert_int_equal((long)rd(&r, 0, WHO_TID),
			 atomic_load(&r.o[0].init_tid));
	rig_down(&r);
}

/*
 * A type with own_thread runs on its own thread unless its spec says
 * fast_path = 1; fast_path = 1 on a plain type changes nothing (on is
 * its default).
 */
static void own_thread_is_the_types_default(void **unused)
{
	static const struct {
		bool own;
		int fast_path;
		bool in_place;
	} cases[] = {
		{ true, 0, false },
		{ true, 1, true },
		{ true, -1, false },
		{ false, 1, true },
	};

	(void)unused;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rig_opts o = { .ops = { cases[i].own ? &who_own_ops
							    : &who_ops },
				      .fast_path = { cases[i].fast_path } };
		struct rig r;

		rig_up_with(&r, 1, &o);
		assert_int_equal((long)rd(&r, 0, WHO_TID),
				 cases[i].in_place
					 ? tid()
					 : atomic_load(&r.o[0].init_tid));
		rig_down(&r);
	}
}

/*
 * A timer armed by a handler that ran in place fires on the actor's own
 * thread (libev is touched by that thread only). The actor sleeps as soon
 * as it is idle (spin_ns 1), so an arm that went straight into its loop
 * from this thread would never wake it: the timer would not fire (and TSan
 * sees the race). A spinning server would hide that by polling its timers.
 */
static void timer_from_in_place_fires_at_home(void **unused)
{
	struct rig_opts o = { .spin_ns = { 1 } };
	struct rig r;

	(void)unused;
	rig_up_with(&r, 1, &o);
	/* Reads run in place here, so the WHO_TIMER write below does too. */
	assert_int_equal((long)rd(&r, 0, WHO_TID), tid());
	wr(&r, 0, WHO_TIMER, 1000000); /* 1 ms */
	assert_int_equal(wait_set(&r.o[0].timer_tid),
			 atomic_load(&r.o[0].init_tid));
	/* Armed again from in place: a deferred arm is not applied twice. */
	atomic_store(&r.o[0].timer_tid, 0);
	wr(&r, 0, WHO_TIMER, 1000);
	assert_int_equal(wait_set(&r.o[0].timer_tid),
			 atomic_load(&r.o[0].init_tid));
	assert_int_equal(atomic_load(&r.o[0].overlaps), 0);
	rig_down(&r);
}

/* In-place nesting stops at two: the third actor of a chain runs on its
 * own thread. */
static void nesting_is_bounded(void **unused)
{
	struct rig r;

	(void)unused;
	rig_up(&r, 3, 0);
	/* who0 (depth 1) -> who1 (depth 2) -> who2: queued. */
	wr(&r, 0, WHO_FWD, 1);
	assert_int_equal(atomic_load(&r.o[1].fwd_tid), tid());
	assert_int_equal(wait_set(&r.o[2].fwd_tid),
			 atomic_load(&r.o[2].init_tid));
	rig_down(&r);
}

struct racer {
	struct rig *r;
	uint64_t count;
	int err;
};

/* One producer: numbered writes, each followed by a read. */
static void *write_then_read(void *arg)
{
	struct racer *p = arg;
	avm_accessor *acc;
	uint64_t v;

	p->err = avm_accessor_new(p->r->rt, "racer", &acc);
	for (uint64_t s = 1; s <= p->count && !p->err; s++) {
		p->err = avm_write(acc, AVM_SPACE_MMIO, FIX_MMIO(0) + WHO_SEQ,
				   8, s);
		if (!p->err)
			p->err = avm_read(acc, AVM_SPACE_MMIO,
					  FIX_MMIO(0) + WHO_TID, 8, &v);
	}
	avm_accessor_free(acc);
	return NULL;
}

/*
 * The actor's own thread keeps queuing continuations to itself while a
 * producer wants to run its writes and reads in place: never two handlers
 * at once, no continuation lost, the producer's order kept.
 */
static void own_queue_races_in_place(void **unused)
{
	enum { CONTS = 20000, OPS = 20000 };
	struct rig r;
	struct racer p;
	pthread_t th;

	(void)unused;
	rig_up(&r, 1, 0);
	p = (struct racer){ .r = &r, .count = OPS };
	pthread_create(&th, NULL, write_then_read, &p);
	wr(&r, 0, WHO_CONT, CONTS);
	pthread_join(th, NULL);
	assert_int_equal(p.err, 0);
	for (uint64_t t0 = fix_now_ns();
	     atomic_load(&r.o[0].conts) < CONTS && fix_guard(t0);)
		fix_sleep_ms(1);
	assert_int_equal(atomic_load(&r.o[0].conts), CONTS);
	assert_int_equal(rd(&r, 0, WHO_SEQ_BAD), 0);
	assert_int_equal(atomic_load(&r.o[0].overlaps), 0);
	rig_down(&r);
}

/* Many producers at once on one actor: one handler at a time. */
static void many_producers_one_at_a_time(void **unused)
{
	enum { N = 4 };
	struct rig r;
	pthread_t th[N];
	struct racer p[N];

	(void)unused;
	rig_up(&r, 1, 0);
	for (int i = 0; i < N; i++) {
		/* Only the first one numbers its writes in order. */
		p[i] = (struct racer){ .r = &r, .count = i ? 5000 : 0 };
		pthread_create(&th[i], NULL, write_then_read, &p[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(p[i].err, 0);
	}
	assert_int_equal(atomic_load(&r.o[0].overlaps), 0);
	rig_down(&r);
}

struct stop_reader {
	struct rig *r;
	long tid;
	uint64_t ok;
	int last;
};

/* Read WHO_LINGER until the reads are refused. */
static void *read_until_stop(void *arg)
{
	struct stop_reader *s = arg;
	avm_accessor *acc;
	uint64_t v;

	s->tid = tid();
	s->last = avm_accessor_new(s->r->rt, "reader", &acc);
	if (s->last)
		return NULL;
	do {
		s->last = avm_read(acc, AVM_SPACE_MMIO,
				   FIX_MMIO(0) + WHO_LINGER, 8, &v);
		s->ok += !s->last;
	} while (!s->last);
	avm_accessor_free(acc);
	return NULL;
}

/*
 * A stop called while a handler runs in place waits for it: the stop does
 * not return and fini does not run until the handler is done (the handler
 * is inside when the stop is called, and checks, so this is not left to
 * scheduling); the read answers, and the next one is a clean -ESHUTDOWN.
 */
static void stop_during_in_place(void **unused)
{
	struct rig r;
	struct stop_reader s = { .r = &r };
	pthread_t th;

	(void)unused;
	rig_up(&r, 1, 0);
	assert_int_equal(pthread_create(&th, NULL, read_until_stop, &s), 0);
	assert_true(wait_flag(&r.o[0].linger_in));
	atomic_store(&r.o[0].stop_called, 1);
	avm_runtime_stop(r.rt);
	atomic_store(&r.o[0].stop_returned, 1);
	pthread_join(th, NULL);
	assert_int_equal(s.last, -ESHUTDOWN);
	assert_int_equal(s.ok, 1);
	assert_int_equal(atomic_load(&r.o[0].linger_tid), s.tid);
	assert_int_equal(atomic_load(&r.o[0].returned_inside), 0);
	assert_int_equal(atomic_load(&r.o[0].finied), 1);
	assert_int_equal(atomic_load(&r.o[0].fini_inside), 0);
	assert_int_equal(atomic_load(&r.o[0].overlaps), 0);
	rig_down(&r);
}

/* --- -EDEADLK: a handler running in place never waits ------------------- */

struct holder {
	struct rig *r;
	unsigned dev;
	int err;
};

/* Another thread's WHO_HOLD to @dev: that actor stays busy until released
 * (whether the write runs in place here or on the actor's thread). */
static void *hold_dev(void *arg)
{
	struct holder *h = arg;
	avm_accessor *acc;

	h->err = avm_accessor_new(h->r->rt, "holder", &acc);
	if (h->err)
		return NULL;
	h->err = avm_write(acc, AVM_SPACE_MMIO, FIX_MMIO(h->dev) + WHO_HOLD, 8,
			   0);
	avm_accessor_free(acc);
	return NULL;
}

static uint64_t handled_by(struct rig *r, unsigned dev)
{
	struct avm_actor_stats st;

	assert_int_equal(avm_actor_stats(r->rt, r->id[dev], &st), 0);
	return st.handled;
}

/* who0's WHO_REQ to @target, run in place on this thread: its result. */
static int request_from_in_place(struct rig *r, uint64_t target)
{
	atomic_store(&r->o[0].req_done, 0);
	wr(r, 0, WHO_REQ, target);
	assert_true(wait_flag(&r->o[0].req_done));
	assert_int_equal(atomic_load(&r->o[0].req_tid), tid());
	return atomic_load(&r->o[0].req_err);
}

/*
 * A handler running in place here (who0) asks who1 with avm_read while
 * another thread's handler keeps who1 busy: -EDEADLK at once. Queuing and
 * waiting would hold who0's right until who1 answers, and who1 waits for
 * this test to let go: a deadlock that only the read deadline would end
 * (-ETIMEDOUT). The same request to an idle actor (who2) runs in place,
 * one level deeper, and answers.
 */
static void deadlk_when_busy(void **unused)
{
	struct rig r;
	struct holder h = { .r = &r, .dev = 1 };
	avm_accessor *nested;
	pthread_t th;

	(void)unused;
	rig_up(&r, 3, 0);
	assert_int_equal(avm_accessor_new(r.rt, "nested", &nested), 0);
	r.o[0].acc = nested;
	assert_int_equal(request_from_in_place(&r, 2), 0);
	assert_int_equal((long)atomic_load(&r.o[0].req_val), tid());

	assert_int_equal(pthread_create(&th, NULL, hold_dev, &h), 0);
	assert_true(wait_flag(&r.o[1].holding));
	assert_int_equal(request_from_in_place(&r, 1), -EDEADLK);
	atomic_store(&r.o[1].release, 1);
	pthread_join(th, NULL);
	assert_int_equal(h.err, 0);
	/* The refused request left nothing behind: who1 saw the hold only. */
	assert_int_equal(handled_by(&r, 1), 1);
	assert_int_equal(atomic_load(&r.o[1].overlaps), 0);
	avm_accessor_free(nested);
	rig_down(&r);
}

/*
 * At the nesting bound: who0 runs in place here (depth 1) and sends to
 * who1, which runs in place too (depth 2) and asks the idle who2, a third
 * level that may not nest: -EDEADLK, and who2 never sees the request
 * (queued and waited for, it would hold two rights while waiting).
 */
static void deadlk_when_nested_too_deep(void **unused)
{
	struct rig r;
	avm_accessor *nested;

	(void)unused;
	rig_up(&r, 3, 0);
	assert_int_equal(avm_accessor_new(r.rt, "nested", &nested), 0);
	r.o[1].acc = nested;
	wr(&r, 0, WHO_FWD_REQ, 2);
	assert_true(wait_flag(&r.o[1].req_done));
	assert_int_equal(atomic_load(&r.o[1].req_tid), tid());
	assert_int_equal(atomic_load(&r.o[1].req_err), -EDEADLK);
	assert_int_equal(handled_by(&r, 2), 0);
	avm_accessor_free(nested);
	rig_down(&r);
}

/* An actor with the fast path off cannot run in place either: the same
 * request from in place gets -EDEADLK, and its thread never sees it. */
static void deadlk_when_fast_path_off(void **unused)
{
	struct rig_opts o = { .fast_path = { 0, -1 } };
	struct rig r;
	avm_accessor *nested;

	(void)unused;
	rig_up_with(&r, 2, &o);
	assert_int_equal(avm_accessor_new(r.rt, "nested", &nested), 0);
	r.o[0].acc = nested;
	assert_int_equal(request_from_in_place(&r, 1), -EDEADLK);
	assert_int_equal(handled_by(&r, 1), 0);
	avm_accessor_free(nested);
	rig_down(&r);
}

/* --- Priorities ----------------------------------------------------------- */

#define ACTOR_PRIO 10

static void *nothing(void *arg)
{
	return arg;
}

/* Can this process start a SCHED_FIFO thread at all? */
static bool fifo_allowed(void)
{
	struct sched_param sp = { .sched_priority = 1 };
	pthread_attr_t a;
	pthread_t t;
	bool ok;

	pthread_attr_init(&a);
	pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&a, SCHED_FIFO);
	pthread_attr_setschedparam(&a, &sp);
	ok = !pthread_create(&t, &a, nothing, NULL);
	if (ok)
		pthread_join(t, NULL);
	pthread_attr_destroy(&a);
	return ok;
}

struct prio_reader {
	struct rig *r;
	int policy, prio;
	long tid;
	long ran_on[2]; /* who ran the read of who0, of who1 */
	int err;
};

/* Take the scheduling asked for, then read WHO_TID of both devices. */
static void *read_at_prio(void *arg)
{
	struct prio_reader *p = arg;
	struct sched_param sp = { .sched_priority = p->prio };
	avm_accessor *acc;
	uint64_t v;

	p->err = -pthread_setschedparam(pthread_self(), p->policy, &sp);
	if (!p->err)
		p->err = avm_accessor_new(p->r->rt, "prio", &acc);
	if (p->err)
		return NULL;
	p->tid = tid();
	for (unsigned d = 0; d < 2 && !p->err; d++) {
		v = 0;
		p->err = avm_read(acc, AVM_SPACE_MMIO, FIX_MMIO(d) + WHO_TID, 8,
				  &v);
		p->ran_on[d] = (long)v;
	}
	avm_accessor_free(acc);
	return NULL;
}

/*
 * who0 runs SCHED_FIFO at ACTOR_PRIO, who1 normally. A sender below
 * ACTOR_PRIO (normal, or FIFO one lower) does not run who0's handler: it
 * runs on who0's own thread, at who0's priority. One at or above it (FIFO
 * or RR) runs it in place. Every sender runs who1's in place. Which thread
 * ran it, the handler says; timing plays no part.
 */
static void priority_decides_in_place(void **unused)
{
	static const struct {
		int policy, prio;
		bool in_place;
	} cases[] = {
		{ SCHED_OTHER, 0, false },
		{ SCHED_FIFO, ACTOR_PRIO - 1, false },
		{ SCHED_FIFO, ACTOR_PRIO, true },
		{ SCHED_RR, ACTOR_PRIO, true },
		{ SCHED_FIFO, ACTOR_PRIO + 1, true },
	};
	struct rig_opts o = { .rt_priority = { ACTOR_PRIO } };
	struct rig r;

	(void)unused;
	if (!fifo_allowed()) {
		print_message("skipped: this process may not use SCHED_FIFO "
			      "(needs CAP_SYS_NICE or an rtprio limit)\n");
		skip();
	}
	rig_up_with(&r, 2, &o);
	if (r.o[0].init_policy != SCHED_FIFO ||
	    r.o[0].init_prio != ACTOR_PRIO) {
		rig_down(&r);
		print_message(
			"skipped: the actor's SCHED_FIFO %d was refused\n",
			ACTOR_PRIO);
		skip();
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prio_reader p = { .r = &r,
					 .policy = cases[i].policy,
					 .prio = cases[i].prio };
		pthread_t th;

		assert_int_equal(pthread_create(&th, NULL, read_at_prio, &p),
				 0);
		pthread_join(th, NULL);
		assert_int_equal(p.err, 0);
		assert_int_equal(p.ran_on[0],
				 cases[i].in_place ? p.tid : r.o[0].init_tid);
		assert_int_equal(p.ran_on[1], p.tid);
	}
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(idle_read_runs_in_place),
		cmocka_unit_test(own_thread_is_the_types_default),
		cmocka_unit_test(timer_from_in_place_fires_at_home),
		cmocka_unit_test(nesting_is_bounded),
		cmocka_unit_test(own_queue_races_in_place),
		cmocka_unit_test(many_producers_one_at_a_time),
		cmocka_unit_test(stop_during_in_place),
		cmocka_unit_test(deadlk_when_busy),
		cmocka_unit_test(deadlk_when_nested_too_deep),
		cmocka_unit_test(deadlk_when_fast_path_off),
		cmocka_unit_test(priority_decides_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
