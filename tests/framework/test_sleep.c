/* SPDX-License-Identifier: MIT */
/*
 * The sleeping side of a hop (threaded executor): an actor with no fd watch
 * sleeps on a futex word, one with watches in its libev loop (epoll); a
 * watch added or removed by a handler that ran in place on a foreign thread
 * switches the server from one to the other; timers still fire from a
 * futex sleep; and no producer's wake is ever lost.
 *
 * Where the server thread sleeps is read from /proc (the system call it is
 * blocked in): "eventually blocked in futex", with the usual hang guard, so
 * no verdict depends on how fast anything runs.
 */
#include "fixture.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* --- A device that watches a fd when told to ------------------------------ */

enum {
	W_WATCH = 0,   /* write: watch fd @value for reading */
	W_UNWATCH = 8, /* write: stop watching */
	W_TIMER = 16,  /* write: arm timer 0 for @value ns */
	W_BYTES = 0,   /* read: bytes read from the fd */
	W_TIMERS = 8,  /* read: timer events */
	W_TID = 16,    /* read: the server thread's id (init runs there) */
	W_ERR = 24,    /* read: the first error of a watch or an arm */
	W_NOP = 24,    /* write: nothing */
};

struct watcher {
	int fd, err;
	uint64_t bytes, timers;
	long server_tid;
};

static long tid(void)
{
	return (long)syscall(SYS_gettid);
}

/* Errors are kept for the test to read: a handler may run on any thread,
 * and cmocka's asserts belong to the test's. */
static void w_write(struct watcher *w, const struct avm_msg *m, avm_ctx *ctx)
{
	int err = 0;

	if (m->access.offset == W_WATCH) {
		w->fd = (int)m->access.value;
		err = avm_fd_watch(ctx, 0, w->fd, AVM_FD_READ);
	} else if (m->access.offset == W_UNWATCH) {
		avm_fd_unwatch(ctx, 0);
	} else if (m->access.offset == W_TIMER) {
		err = avm_timer_arm(ctx, 0, m->access.value, 0);
	}
	if (!w->err)
		w->err = err;
}

static void w_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct watcher *w = state;
	char buf[16];

	if (m->kind == AVM_MSG_WRITE) {
		w_write(w, m, ctx);
	} else if (m->kind == AVM_MSG_READ) {
		avm_reply(ctx, m->access.offset == W_BYTES    ? w->bytes
			       : m->access.offset == W_TIMERS ? w->timers
			       : m->access.offset == W_ERR
				       ? (uint64_t)w->err
				       : (uint64_t)w->server_tid);
	} else if (m->kind == AVM_MSG_FD && (m->fd.events & AVM_FD_READ)) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n > 0)
			w->bytes += (uint64_t)n;
	} else if (m->kind == AVM_MSG_TIMER) {
		w->timers++;
	}
}

static int w_init(void *state, const void *config, avm_ctx *ctx)
{
	struct watcher *w = state;

	(void)config;
	(void)ctx;
	w->fd = -1;
	w->server_tid = tid();
	return 0;
}

static const struct avm_region_desc w_regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 32 },
};

static const struct avm_device_ops watcher_ops = {
	.type = "watcher",
	.state_size = sizeof(struct watcher),
	.regions = w_regions,
	.n_regions = 1,
	.init = w_init,
	.handle = w_handle,
};

#define W_BASE 0xf0000000ull

struct rig {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id;
};

/* One watcher; @fast_path as in struct avm_actor_spec. It sleeps as soon
 * as its mailbox is empty (spin_ns 1): the sleeps are what we test. */
static void rig_up(struct rig *r, int fast_path)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED,
					  .read_deadline_ns = FIX_GUARD_NS };
	struct avm_actor_spec s = { .ops = &watcher_ops,
				    .name = "watcher",
				    .spin_ns = 1,
				    .fast_path = fast_path };

	assert_int_equal(avm_runtime_new(&cfg, &r->rt), 0);
	assert_int_equal(avm_actor_create(r->rt, &s, &r->id), 0);
	assert_int_equal(avm_map(r->rt, r->id, 0, W_BASE), 0);
	assert_int_equal(avm_runtime_start(r->rt), 0);
	assert_int_equal(avm_accessor_new(r->rt, "test", &r->acc), 0);
}

static void rig_down(struct rig *r)
{
	avm_accessor_free(r->acc);
	avm_runtime_free(r->rt);
}

static uint64_t rd(struct rig *r, unsigned reg)
{
	uint64_t v = 0;

	assert_int_equal(avm_read(r->acc, AVM_SPACE_MMIO, W_BASE + reg, 8, &v),
			 0);
	return v;
}

static void wr(struct rig *r, unsigned reg, uint64_t v)
{
	assert_int_equal(avm_write(r->acc, AVM_SPACE_MMIO, W_BASE + reg, 8, v),
			 0);
}

/* Poll @reg until it reads @want, under the hang guard. */
static void wait_reg(struct rig *r, unsigned reg, uint64_t want)
{
	uint64_t t0 = fix_now_ns();

	while (rd(r, reg) != want && fix_guard(t0))
		fix_sleep_ms(1);
	assert_int_equal(rd(r, reg), want);
}

/* --- Where a thread sleeps ------------------------------------------------ */

enum sleep_kind { SLEEP_OTHER, SLEEP_FUTEX, SLEEP_EPOLL, SLEEP_UNKNOWN };

/* The system call thread @t of this process is in (/proc's "syscall"). */
static enum sleep_kind sleep_of(long t)
{
	char path[64], buf[64] = "";
	FILE *f;
	long nr;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/syscall", t);
	f = fopen(path, "r");
	if (!f)
		return SLEEP_UNKNOWN;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (sscanf(buf, "%ld", &nr) != 1)
		return SLEEP_OTHER; /* "running" */
	if (nr == SYS_futex)
		return SLEEP_FUTEX;
#ifdef SYS_epoll_wait
	if (nr == SYS_epoll_wait)
		return SLEEP_EPOLL;
#endif
	if (nr == SYS_epoll_pwait)
		return SLEEP_EPOLL;
	return SLEEP_OTHER;
}

/* Whether /proc tells where threads sleep here; if not, skip that part. */
static bool sleep_visible(long t)
{
	if (sleep_of(t) != SLEEP_UNKNOWN)
		return true;
	printf("note: /proc/self/task/<tid>/syscall unreadable here: where "
	       "the server sleeps is not checked\n");
	return false;
}

/* Wait (hang guard) until thread @t is blocked in @want. */
static void wait_sleep(long t, enum sleep_kind want)
{
	uint64_t t0 = fix_now_ns();

	while (sleep_of(t) != want && fix_guard(t0))
		fix_sleep_ms(1);
	assert_int_equal(sleep_of(t), want);
}

/* --- Tests --------------------------------------------------------------- */

/*
 * A watch added by a handler running in place (on this thread) while the
 * server sleeps on its futex: the server must wake, apply it and from then
 * on sleep in epoll, where the fd's bytes wake it; the unwatch takes it back
 * to the futex. If the server kept its futex sleep with a watch, the bytes
 * would never be read and the hang guard would fail the test.
 */
static void watch_added_while_sleeping(void **unused)
{
	struct rig r;
	int p[2];
	long server;
	bool visible;

	(void)unused;
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	rig_up(&r, 0);
	server = (long)rd(&r, W_TID);
	visible = sleep_visible(server);
	if (visible)
		wait_sleep(server, SLEEP_FUTEX); /* no watch: a futex sleep */
	wr(&r, W_WATCH, (uint64_t)p[0]);
	if (visible)
		wait_sleep(server, SLEEP_EPOLL);
	for (uint64_t i = 1; i <= 3; i++) {
		assert_int_equal(write(p[1], "x", 1), 1);
		wait_reg(&r, W_BYTES, i);
	}
	wr(&r, W_UNWATCH, 0);
	if (visible)
		wait_sleep(server, SLEEP_FUTEX);
	assert_int_equal(rd(&r, W_ERR), 0);
	rig_down(&r);
	close(p[0]);
	close(p[1]);
}

/*
 * A timer armed in place while the server sleeps on its futex: the sleep
 * must end when the timer is due (nobody else will wake it). Repeated, so
 * the later arms meet a server already asleep with no deadline.
 */
static void timer_ends_futex_sleep(void **unused)
{
	struct rig r;

	(void)unused;
	rig_up(&r, 0);
	for (uint64_t i = 1; i <= 5; i++) {
		wr(&r, W_TIMER, 1000000); /* 1 ms */
		wait_reg(&r, W_TIMERS, i);
		fix_sleep_ms(2); /* asleep again, with no timer due */
	}
	assert_int_equal(rd(&r, W_ERR), 0);
	rig_down(&r);
}

/* --- No lost wake-up ------------------------------------------------------ */

#define PRODUCERS    4
#define PER_PRODUCER 2000
#define PINGS	     10000

struct producer {
	avm_runtime *rt;
	unsigned n;
	pthread_t th;
	int err;
};

static uint64_t handled(avm_runtime *rt, avm_actor_id id)
{
	struct avm_actor_stats st = { 0 };

	assert_int_equal(avm_actor_stats(rt, id, &st), 0);
	return st.handled;
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	avm_accessor *acc;

	p->err = avm_accessor_new(p->rt, "producer", &acc);
	for (unsigned i = 0; i < p->n && !p->err; i++) {
		p->err = avm_write(acc, AVM_SPACE_MMIO, W_BASE + W_NOP, 8, i);
		/* Now and then, let the server fall asleep between two. */
		if (i % 8 == 0)
			sched_yield();
	}
	if (!p->err)
		avm_accessor_free(acc);
	return NULL;
}

/* Wait, sending nothing (a message would wake the server and hide a lost
 * wake), until @id has handled @want messages in all. */
static void wait_handled(avm_runtime *rt, avm_actor_id id, uint64_t want)
{
	uint64_t t0 = fix_now_ns();

	while (handled(rt, id) < want && fix_guard(t0))
		sched_yield();
	assert_int_equal(handled(rt, id), want);
}

/*
 * The fast path off, so every message goes through the mailbox and its wake;
 * the server sleeps as soon as it is idle. First one producer posts and
 * waits for each message to be handled before the next, so every post races
 * the server going to sleep and nothing else could rescue a lost wake; then
 * PRODUCERS threads post at once. Every message must be handled without any
 * further message to help. A lost wake hangs the wait: the guard fails it.
 */
static void no_lost_wakeup(void **unused)
{
	struct producer p[PRODUCERS];
	struct rig r;
	uint64_t base;

	(void)unused;
	rig_up(&r, -1);
	base = handled(r.rt, r.id);
	for (uint64_t i = 1; i <= PINGS; i++) {
		wr(&r, W_NOP, i); /* a write the device ignores */
		wait_handled(r.rt, r.id, base + i);
	}
	base += PINGS;
	for (unsigned i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){ .rt = r.rt, .n = PER_PRODUCER };
		assert_int_equal(pthread_create(&p[i].th, NULL, produce, &p[i]),
				 0);
	}
	for (unsigned i = 0; i < PRODUCERS; i++) {
		pthread_join(p[i].th, NULL);
		assert_int_equal(p[i].err, 0);
	}
	wait_handled(r.rt, r.id, base + PRODUCERS * PER_PRODUCER);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(watch_added_while_sleeping),
		cmocka_unit_test(timer_ends_futex_sleep),
		cmocka_unit_test(no_lost_wakeup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
