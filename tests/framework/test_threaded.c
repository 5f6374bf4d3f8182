/* SPDX-License-Identifier: MIT */
/* The threaded executor: ordering, deadlines, stop, direct registers,
 * outbox back-pressure, timers, fds, continuations, placement. */
#include "fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* --- A device whose reads can be made slow, and one that watches a fd -- */

struct slowdev {
	uint64_t fd_bytes;
	int fd;
};

static void slow_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct slowdev *s = state;
	char buf[64];

	if (m->kind == AVM_MSG_READ && m->access.offset == 8) {
		/* Deliberately breaks the "handlers never block" rule. */
		fix_sleep_ms(200);
		avm_reply(ctx, 1);
	} else if (m->kind == AVM_MSG_READ) {
		avm_reply(ctx, s->fd_bytes);
	} else if (m->kind == AVM_MSG_FD && (m->fd.events & AVM_FD_READ)) {
		ssize_t n = read(s->fd, buf, sizeof(buf));

		if (n > 0)
			s->fd_bytes += (uint64_t)n;
	}
}

static int slow_init(void *state, const void *config, avm_ctx *ctx)
{
	struct slowdev *s = state;

	s->fd = config ? *(const int *)config : -1;
	return s->fd >= 0 ? avm_fd_watch(ctx, 0, s->fd, AVM_FD_READ) : 0;
}

static const struct avm_region_desc slow_regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 16 },
};

static const struct avm_device_ops slow_ops = {
	.type = "slowdev",
	.state_size = sizeof(struct slowdev),
	.regions = slow_regions,
	.n_regions = 1,
	.init = slow_init,
	.handle = slow_handle,
};

static int fail_init(void *state, const void *config, avm_ctx *ctx)
{
	(void)state;
	(void)config;
	(void)ctx;
	return -EINVAL;
}

static const struct avm_device_ops failing_ops = {
	.type = "failing",
	.state_size = 8,
	.init = fail_init,
	.handle = slow_handle,
};

/* --- Tests --------------------------------------------------------------- */

static void read_sees_earlier_writes(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 1, NULL);
	fix_start(&f);
	for (uint64_t i = 1; i <= 20000; i++) {
		fix_wr(&f, 0, TESTDEV_SEQ, i);
		if (i % 1000 == 0) {
			fix_wr(&f, 0, TESTDEV_SCRATCH, i);
			assert_int_equal(fix_rd(&f, 0, TESTDEV_SCRATCH), i);
			assert_int_equal(fix_rd(&f, 0, TESTDEV_SEQ_TOTAL), i);
		}
	}
	assert_int_equal(fix_rd(&f, 0, TESTDEV_SEQ_BAD), 0);
	fix_down(&f);
}

struct producer {
	struct fixture *f;
	uint32_t id;
	uint32_t count;
	int err;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	avm_accessor *acc;

	p->err = avm_accessor_new(p->f->rt, "producer", &acc);
	for (uint32_t s = 1; s <= p->count && !p->err; s++)
		p->err = avm_write(acc, AVM_SPACE_MMIO,
				   FIX_MMIO(0) + TESTDEV_SEQ, 8,
				   ((uint64_t)p->id << 32) | s);
	avm_accessor_free(acc);
	return NULL;
}

/* Many VCPUs post to one small mailbox: none lost, each in its order. */
static void many_producers_keep_order(void **unused)
{
	enum { N = 6, COUNT = 20000 };
	struct fixture f;
	struct producer p[N];
	pthread_t th[N];

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 1, NULL);
	fix_start(&f);
	for (uint32_t i = 0; i < N; i++) {
		p[i] = (struct producer){ &f, i, COUNT, 0 };
		pthread_create(&th[i], NULL, produce, &p[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(p[i].err, 0);
	}
	assert_int_equal(fix_rd(&f, 0, TESTDEV_SEQ_TOTAL), N * COUNT);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_SEQ_BAD), 0);
	fix_down(&f);
}

static void check_deadline(int64_t reply_spin_ns)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED,
					  .read_deadline_ns = 50000000,
					  .reply_spin_ns = reply_spin_ns };
	/* A handler that blocks holds up whoever runs it: only the mailbox
	 * path bounds the caller's wait by its deadline. */
	struct avm_actor_spec s = { .ops = &slow_ops,
				    .name = "slow",
				    .fast_path = -1 };
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id;
	uint64_t v = 42;

	assert_int_equal(avm_runtime_new(&cfg, &rt), 0);
	assert_int_equal(avm_actor_create(rt, &s, &id), 0);
	assert_int_equal(avm_map(rt, id, 0, 0x1000), 0);
	assert_int_equal(avm_runtime_start(rt), 0);
	assert_int_equal(avm_accessor_new(rt, "t", &acc), 0);
	assert_int_equal(avm_read(acc, AVM_SPACE_MMIO, 0x1008, 8, &v),
			 -ETIMEDOUT);
	assert_int_equal(v, 42); /* untouched on error */
	/* The late reply to the abandoned read must not answer this one.
	 * On a loaded machine this read may queue behind the slow one past
	 * its own 50 ms: then it times out too, and is retried. Whatever
	 * answers is this read's reply (0), never the late 1. */
	for (uint64_t t0 = fix_now_ns(); fix_guard(t0);) {
		int err = avm_read(acc, AVM_SPACE_MMIO, 0x1000, 8, &v);

		if (err != -ETIMEDOUT) {
			assert_int_equal(err, 0);
			break;
		}
	}
	assert_int_equal(v, 0);
	avm_accessor_free(acc);
	avm_runtime_free(rt);
}

static void deadline_then_slot_reuse(void **unused)
{
	(void)unused;
	check_deadline(0); /* default: poll, then sleep on the futex */
}

/* A caller that never sleeps still gives up at its deadline. */
static void deadline_while_spinning(void **unused)
{
	(void)unused;
	check_deadline(-1);
}

static void stopped_receiver_errors(void **unused)
{
	struct fixture f;
	uint64_t v;
	struct avm_actor_stats st;

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 1, NULL);
	fix_start(&f);
	for (int i = 0; i < 5000; i++)
		fix_wr(&f, 0, TESTDEV_SCRATCH, (uint64_t)i);
	/* Stop with writes still queued: they are handled, not lost. */
	avm_runtime_stop(f.rt);
	assert_int_equal(avm_actor_stats(f.rt, f.dev[0], &st), 0);
	assert_int_equal(st.handled, 5000);
	assert_int_equal(avm_read(f.acc, AVM_SPACE_MMIO, FIX_MMIO(0), 8, &v),
			 -ESHUTDOWN);
	assert_int_equal(avm_write(f.acc, AVM_SPACE_MMIO, FIX_MMIO(0), 8, 1),
			 -ESHUTDOWN);
	assert_int_equal(avm_actor_stats(f.rt, f.dev[0], &st), 0);
	assert_true(st.bounced >= 1);
	fix_down(&f);
}

struct racer {
	struct fixture *f;
	atomic_uint_fast64_t ok;
	uint64_t shut, other;
};

static void *read_until_stopped(void *arg)
{
	struct racer *r = arg;
	avm_accessor *acc;
	uint64_t v;

	avm_accessor_new(r->f->rt, "racer", &acc);
	/* Until the stop reaches us: it must, so this ends. */
	for (;;) {
		int err = avm_read(acc, AVM_SPACE_MMIO,
				   FIX_MMIO(0) + TESTDEV_SCRATCH, 8, &v);

		if (!err)
			atomic_fetch_add(&r->ok, 1);
		else if (err == -ESHUTDOWN)
			r->shut++;
		else
			r->other++;
		if (err == -ESHUTDOWN)
			break;
	}
	avm_accessor_free(acc);
	return NULL;
}

/* Reads racing a stop end with a value or -ESHUTDOWN, never a hang. */
static void stop_races_reads(void **unused)
{
	struct fixture f;
	struct racer r = { .f = &f };
	pthread_t th;

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 1, NULL);
	fix_start(&f);
	pthread_create(&th, NULL, read_until_stopped, &r);
	while (atomic_load(&r.ok) < 100)
		sched_yield();
	avm_runtime_stop(f.rt);
	pthread_join(th, NULL);
	assert_int_equal(r.other, 0);
	assert_int_equal(r.shut, 1);
	assert_true(atomic_load(&r.ok) >= 100);
	fix_down(&f);
}

struct shadow_writer {
	struct fixture *f;
	atomic_int stop;
	uint64_t writes;
};

static void *write_shadows(void *arg)
{
	struct shadow_writer *w = arg;
	avm_accessor *acc;

	avm_accessor_new(w->f->rt, "writer", &acc);
	for (uint64_t x = 1; !atomic_load(&w->stop); x++)
		w->writes += avm_write(acc, AVM_SPACE_MMIO,
				       FIX_MMIO(0) + TESTDEV_SHADOW_SET, 8,
				       (x << 32) | x) == 0;
	avm_accessor_free(acc);
	return NULL;
}

/* A direct register is read without a message and never torn. */
static void direct_register_consistent(void **unused)
{
	struct fixture f;
	struct shadow_writer w = { .f = &f };
	struct avm_actor_stats before, after;
	pthread_t th;
	uint64_t v, changes = 0, last = 0;

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 1, NULL);
	fix_start(&f);
	avm_actor_stats(f.rt, f.dev[0], &before);
	pthread_create(&th, NULL, write_shadows, &w);
	/* Until we have seen the value change many times. A busy host may
	 * starve the writer or the actor for a while: yield now and then, and
	 * bound the wait by the hang guard, not by a count of reads. */
	for (uint64_t i = 0, t0 = fix_now_ns(); changes < 1000 && fix_guard(t0);
	     i++) {
		if (!(i % 4096))
			sched_yield();
		assert_int_equal(avm_read(f.acc, AVM_SPACE_MMIO,
					  FIX_MMIO(0) + TESTDEV_ID, 8, &v),
				 0);
		assert_int_equal(v, 0x7e57de7);
		assert_int_equal(avm_read(f.acc, AVM_SPACE_MMIO,
					  FIX_MMIO(0) + TESTDEV_SHADOW, 8, &v),
				 0);
		assert_int_equal(v >> 32, v & 0xffffffffu);
		changes += v != last;
		last = v;
	}
	atomic_store(&w.stop, 1);
	pthread_join(th, NULL);
	assert_true(changes >= 1000);
	/* The actor handles exactly the writer's writes: no read reached it. */
	for (uint64_t t0 = fix_now_ns(); fix_guard(t0);) {
		avm_actor_stats(f.rt, f.dev[0], &after);
		if (after.handled - before.handled >= w.writes)
			break;
		fix_sleep_ms(1);
	}
	assert_int_equal(after.handled - before.handled, w.writes);
	fix_down(&f);
}

/* A direct read right after our own write waits for that write. */
static void direct_read_after_own_write(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 1, NULL);
	fix_start(&f);
	for (uint64_t i = 1; i <= 20000; i++) {
		fix_wr(&f, 0, TESTDEV_SHADOW_SET, i);
		assert_int_equal(fix_rd(&f, 0, TESTDEV_SHADOW), i);
	}
	fix_down(&f);
}

/* DMA into another actor with a tiny mailbox: the sender parks messages in
 * its outbox instead of blocking, and delivers all of them in order. */
static void outbox_absorbs_full_mailbox(void **unused)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED };
	struct avm_actor_spec s[2] = {
		{ .ops = &testdev_ops, .name = "src" },
		{ .ops = &testdev_ops,
		  .name = "dst",
		  .mailbox_depth = 4,
		  .spin_ns = 1,
		  /* Idle, it would take each write in place: no queue. */
		  .fast_path = -1 },
	};
	struct fixture f = { .n_dev = 2 };
	struct avm_actor_stats st;

	(void)unused;
	assert_int_equal(avm_runtime_new(&cfg, &f.rt), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(avm_actor_create(f.rt, &s[i], &f.dev[i]), 0);
		assert_int_equal(avm_map(f.rt, f.dev[i], 0, FIX_MMIO(i)), 0);
	}
	fix_start(&f);
	/* 0xe00 bytes at offset 0x100: 448 writes to offsets it ignores. */
	fix_wr(&f, 0, TESTDEV_DMA_ADDR, FIX_MMIO(1) + 0x100);
	fix_wr(&f, 0, TESTDEV_DMA_LEN, 0xe00);
	fix_wr(&f, 0, TESTDEV_DMA_CMD, 1);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_DMA_STATUS), 0);
	assert_int_equal(fix_wait_reg(&f, 1, TESTDEV_WRITES, 448), 448);
	assert_int_equal(avm_actor_stats(f.rt, f.dev[0], &st), 0);
	assert_true(st.outbox_max > 0);
	assert_int_equal(st.dropped, 0);
	fix_down(&f);
}

static void timer_raises_irq_at_peer(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 2, NULL);
	assert_int_equal(avm_bind(f.rt, f.dev[0], "irq", f.dev[1], 3), 0);
	fix_start(&f);
	fix_wr(&f, 0, TESTDEV_TIMER, 2000000); /* 2 ms */
	assert_int_equal(fix_wait_reg(&f, 0, TESTDEV_TICKS, 1), 1);
	assert_int_equal(fix_wait_reg(&f, 1, TESTDEV_IRQ_IN, (3 << 1) | 1),
			 (3 << 1) | 1);
	fix_wr(&f, 0, TESTDEV_IRQ, 0);
	assert_int_equal(fix_wait_reg(&f, 1, TESTDEV_IRQ_IN, 3 << 1), 3 << 1);
	fix_down(&f);
}

static void fd_watch_delivers(void **unused)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED };
	int fds[2];
	struct avm_actor_spec s = { .ops = &slow_ops,
				    .name = "fd",
				    .config = &fds[0] };
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id;
	uint64_t v = 0;

	(void)unused;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(avm_runtime_new(&cfg, &rt), 0);
	assert_int_equal(avm_actor_create(rt, &s, &id), 0);
	assert_int_equal(avm_map(rt, id, 0, 0x1000), 0);
	assert_int_equal(avm_runtime_start(rt), 0);
	assert_int_equal(avm_accessor_new(rt, "t", &acc), 0);
	assert_int_equal(write(fds[1], "hello", 5), 5);
	for (uint64_t t0 = fix_now_ns(); v != 5 && fix_guard(t0);) {
		assert_int_equal(avm_read(acc, AVM_SPACE_MMIO, 0x1000, 8, &v),
				 0);
		fix_sleep_ms(1);
	}
	assert_int_equal(v, 5);
	avm_accessor_free(acc);
	avm_runtime_free(rt);
	close(fds[0]);
	close(fds[1]);
}

/* A long job in continuations: a read is served between chunks. */
static void continuation_lets_reads_in(void **unused)
{
	struct testdev_config cfg = { .chunk_spin = 2000 };
	struct avm_runtime_config rc = { .exec = AVM_EXEC_THREADED };
	struct avm_actor_spec s = { .ops = &testdev_ops,
				    .name = "dev0",
				    .config = &cfg };
	struct fixture f = { .n_dev = 1 };
	const uint64_t total = 200000;
	uint64_t mid;

	(void)unused;
	assert_int_equal(avm_runtime_new(&rc, &f.rt), 0);
	assert_int_equal(avm_actor_create(f.rt, &s, &f.dev[0]), 0);
	assert_int_equal(avm_map(f.rt, f.dev[0], 0, FIX_MMIO(0)), 0);
	fix_start(&f);
	fix_wr(&f, 0, TESTDEV_WORK, total);
	mid = fix_rd(&f, 0, TESTDEV_WORK_DONE);
	assert_true(mid < total);
	assert_int_equal(fix_wait_reg(&f, 0, TESTDEV_WORK_DONE, total), total);
	fix_down(&f);
}

static void reset_restores_power_on(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 1, NULL);
	fix_start(&f);
	fix_wr(&f, 0, TESTDEV_SCRATCH, 99);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_SCRATCH), 99);
	assert_int_equal(avm_actor_reset(f.rt, f.dev[0]), 0);
	assert_int_equal(fix_wait_reg(&f, 0, TESTDEV_SCRATCH, 0), 0);
	fix_down(&f);
}

static void init_failure_unwinds(void **unused)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED,
					  .log_level = -1 };
	struct avm_actor_spec ok = { .ops = &testdev_ops, .name = "ok" };
	struct avm_actor_spec bad = { .ops = &failing_ops, .name = "bad" };
	avm_runtime *rt;
	avm_actor_id a;

	(void)unused;
	assert_int_equal(avm_runtime_new(&cfg, &rt), 0);
	assert_int_equal(avm_actor_create(rt, &ok, &a), 0);
	assert_int_equal(avm_actor_create(rt, &bad, &a), 0);
	assert_int_equal(avm_runtime_start(rt), -EINVAL);
	avm_runtime_free(rt);
}

struct log_capture {
	pthread_mutex_t lock;
	int warnings;
	char last[256];
};

static void capture_log(void *arg, int level, const char *actor,
			const char *line)
{
	struct log_capture *c = arg;

	(void)actor;
	pthread_mutex_lock(&c->lock);
	if (level == AVM_LOG_WARN) {
		c->warnings++;
		snprintf(c->last, sizeof(c->last), "%s", line);
	}
	pthread_mutex_unlock(&c->lock);
}

/* RT priority and affinity: granted, or a warning; never a failure. */
static void placement_warns_not_fails(void **unused)
{
	struct log_capture c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED,
					  .log = capture_log,
					  .log_arg = &c };
	struct avm_actor_spec s = { .ops = &testdev_ops,
				    .name = "rt",
				    .rt_priority = 10,
				    .cpus = AVM_CPU(0) };
	struct fixture f = { .n_dev = 1 };

	(void)unused;
	assert_int_equal(avm_runtime_new(&cfg, &f.rt), 0);
	assert_int_equal(avm_actor_create(f.rt, &s, &f.dev[0]), 0);
	assert_int_equal(avm_map(f.rt, f.dev[0], 0, FIX_MMIO(0)), 0);
	fix_start(&f);
	fix_wr(&f, 0, TESTDEV_SCRATCH, 5);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_SCRATCH), 5);
	if (c.warnings)
		assert_non_null(strstr(c.last, "SCHED_FIFO"));
	fix_down(&f);
}

static void bad_set_up_rejected(void **unused)
{
	struct fixture f;
	struct avm_actor_spec dup = { .ops = &testdev_ops, .name = "dev0" };
	struct avm_actor_spec prio = { .ops = &testdev_ops,
				       .name = "x",
				       .rt_priority = 100 };
	avm_actor_id id;

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 2, NULL);
	assert_int_equal(avm_actor_create(f.rt, &dup, &id), -EEXIST);
	assert_int_equal(avm_actor_create(f.rt, &prio, &id), -EINVAL);
	assert_int_equal(avm_bind(f.rt, f.dev[0], "nope", f.dev[1], 0),
			 -ENOENT);
	assert_int_equal(avm_bind(f.rt, f.dev[0], "irq", 77, 0), -ENOENT);
	assert_int_equal(avm_map(f.rt, f.dev[1], 0, FIX_MMIO(0) + 8), -EBUSY);
	assert_int_equal(avm_map(f.rt, f.dev[0], 0, 0x5000000), -EEXIST);
	assert_int_equal(avm_map(f.rt, f.dev[0], 7, 0x5000000), -ENOENT);
	assert_int_equal(avm_map(f.rt, f.dev[0], 0, 0x800), -EBUSY); /* RAM */
	fix_start(&f);
	assert_int_equal(avm_actor_create(f.rt, &prio, &id), -EINVAL);
	prio.rt_priority = 0;
	assert_int_equal(avm_actor_create(f.rt, &prio, &id), -EBUSY);
	fix_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_sees_earlier_writes),
		cmocka_unit_test(many_producers_keep_order),
		cmocka_unit_test(deadline_then_slot_reuse),
		cmocka_unit_test(deadline_while_spinning),
		cmocka_unit_test(stopped_receiver_errors),
		cmocka_unit_test(stop_races_reads),
		cmocka_unit_test(direct_register_consistent),
		cmocka_unit_test(direct_read_after_own_write),
		cmocka_unit_test(outbox_absorbs_full_mailbox),
		cmocka_unit_test(timer_raises_irq_at_peer),
		cmocka_unit_test(fd_watch_delivers),
		cmocka_unit_test(continuation_lets_reads_in),
		cmocka_unit_test(reset_restores_power_on),
		cmocka_unit_test(init_failure_unwinds),
		cmocka_unit_test(placement_warns_not_fails),
		cmocka_unit_test(bad_set_up_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
