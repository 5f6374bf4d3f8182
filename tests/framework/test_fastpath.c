/* SPDX-License-Identifier: MIT */
/*
 * The threaded executor's fast path: an idle actor's handler runs on the
 * sender's thread; one handler at a time, order, loop effects on the
 * actor's own thread, bounded nesting, stop, and the opt-out.
 */
#include "fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* --- A device that tells which thread ran it ---------------------------- */

enum {
	WHO_TID = 0,	 /* read: the thread that handles this read */
	WHO_TIMER = 8,	 /* write: arm timer 0 for @value ns */
	WHO_CONT = 16,	 /* write: run a chain of @value continuations */
	WHO_SLOW = 24,	 /* read: spin 2 ms, then answer */
	WHO_FWD = 32,	 /* write: send @value hops down port 0 */
	WHO_SEQ = 40,	 /* write: @value must be the last one + 1 */
	WHO_SEQ_BAD = 48 /* read: how many were not */
};

/* What the device saw, outside its state so that it outlives it. */
struct obs {
	_Atomic long init_tid, timer_tid, fwd_tid;
	_Atomic int inside;
	_Atomic unsigned overlaps;
	_Atomic uint64_t conts;
	_Atomic int fini_inside, finied;
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

static void who_read(struct who *w, const struct avm_msg *m, avm_ctx *ctx)
{
	if (m->addr == WHO_SLOW)
		spin_ms(2);
	avm_reply(ctx, m->addr == WHO_SEQ_BAD ? w->seq_bad : (uint64_t)tid());
}

static void who_write(struct who *w, const struct avm_msg *m, avm_ctx *ctx)
{
	struct avm_msg fwd = { .kind = AVM_MSG_USER, .value = m->value };

	if (m->addr == WHO_TIMER)
		avm_timer_arm(ctx, 0, m->value, 0);
	else if (m->addr == WHO_CONT)
		avm_continue(ctx, m->value);
	else if (m->addr == WHO_FWD)
		avm_send(ctx, 0, &fwd);
	else if (m->addr == WHO_SEQ)
		w->seq_bad += m->value != ++w->seq;
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
		if (m->value > 1)
			avm_continue(ctx, m->value - 1);
	} else if (m->kind == AVM_MSG_USER) {
		atomic_store(&w->o->fwd_tid, tid());
		fwd.value = m->value - 1;
		if (m->value > 0)
			avm_send(ctx, 0, &fwd);
	}
	atomic_store(&w->o->inside, 0);
}

static int who_init(void *state, const void *config, avm_ctx *ctx)
{
	struct who *w = state;

	(void)ctx;
	w->o = (struct obs *)config;
	atomic_store(&w->o->init_tid, tid());
	return 0;
}

static void who_fini(void *state)
{
	struct who *w = state;

	atomic_store(&w->o->fini_inside, atomic_load(&w->o->inside));
	atomic_store(&w->o->finied, 1);
}

static const struct avm_region_desc who_regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 64 },
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

/* --- Set-up --------------------------------------------------------------- */

struct rig {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id[3];
	struct obs o[3];
};

/* @n who devices chained by their "next" port, mapped at FIX_MMIO(i). */
static void rig_up(struct rig *r, unsigned n, int fast_path)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED };
	char name[16];

	memset(r, 0, sizeof(*r));
	assert_int_equal(avm_runtime_new(&cfg, &r->rt), 0);
	for (unsigned i = 0; i < n; i++) {
		struct avm_actor_spec s = { .ops = &who_ops,
					    .name = name,
					    .config = &r->o[i],
					    .cpu = -1,
					    .fast_path = fast_path };

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

/* Wait (bounded: 10 s) until @v is non-zero; its value. */
static long wait_set(_Atomic long *v)
{
	for (int i = 0; i < 10000 && !atomic_load(v); i++)
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

/* A timer armed by a handler that ran in place fires on the actor's own
 * thread (libev is touched by that thread only). */
static void timer_from_in_place_fires_at_home(void **unused)
{
	struct rig r;

	(void)unused;
	rig_up(&r, 1, 0);
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
	for (int i = 0; i < 10000 && atomic_load(&r.o[0].conts) < CONTS; i++)
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

struct slow_reader {
	struct rig *r;
	_Atomic int started;
	uint64_t ok;
	int last;
};

static void *read_slow_until_stop(void *arg)
{
	struct slow_reader *s = arg;
	avm_accessor *acc;
	uint64_t v;

	if (avm_accessor_new(s->r->rt, "slow", &acc))
		return NULL;
	do {
		s->last = avm_read(acc, AVM_SPACE_MMIO, FIX_MMIO(0) + WHO_SLOW,
				   8, &v);
		s->ok += !s->last;
		atomic_store(&s->started, 1);
	} while (!s->last);
	avm_accessor_free(acc);
	return NULL;
}

/* A stop while a handler runs in place waits for it: fini never runs
 * beside a handler, and the reader sees a clean -ESHUTDOWN. */
static void stop_during_in_place(void **unused)
{
	struct rig r;
	struct slow_reader s = { .r = &r };
	pthread_t th;

	(void)unused;
	rig_up(&r, 1, 0);
	pthread_create(&th, NULL, read_slow_until_stop, &s);
	for (int i = 0; i < 10000 && !atomic_load(&s.started); i++)
		fix_sleep_ms(1);
	assert_true(atomic_load(&s.started));
	avm_runtime_stop(r.rt);
	pthread_join(th, NULL);
	assert_int_equal(s.last, -ESHUTDOWN);
	assert_true(s.ok > 0);
	assert_int_equal(atomic_load(&r.o[0].finied), 1);
	assert_int_equal(atomic_load(&r.o[0].fini_inside), 0);
	assert_int_equal(atomic_load(&r.o[0].overlaps), 0);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(idle_read_runs_in_place),
		cmocka_unit_test(timer_from_in_place_fires_at_home),
		cmocka_unit_test(nesting_is_bounded),
		cmocka_unit_test(own_queue_races_in_place),
		cmocka_unit_test(many_producers_one_at_a_time),
		cmocka_unit_test(stop_during_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
