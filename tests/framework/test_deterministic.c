/* SPDX-License-Identifier: MIT */
/* The deterministic executor: reproducible seeded order, per-sender FIFO,
 * lanes, virtual time, livelock guard. */
#include "fixture.h"

#include <string.h>

#include "internal.h"

#define LOG_MAX 4096

struct delivery_log {
	unsigned n;
	uint64_t key[LOG_MAX]; /* dst, kind, value folded into one word */
	uint64_t last_irq_time;
};

/* The body's value as traces record it, whatever the kind. */
static uint64_t flat_value(const struct avm_msg *m)
{
	struct avm_msg_user f;

	avm__msg_flatten(m, &f);
	return f.value;
}

static void record(void *arg, const struct avm_det_event *ev)
{
	struct delivery_log *l = arg;

	if (ev->kind == AVM_DET_SEND && ev->msg->kind == AVM_MSG_IRQ)
		l->last_irq_time = ev->time;
	if (ev->kind != AVM_DET_DELIVER || l->n == LOG_MAX)
		return;
	l->key[l->n++] = ((uint64_t)ev->dst << 56) ^
			 ((uint64_t)ev->msg->kind << 40) ^ flat_value(ev->msg);
}

static void post_ping(struct fixture *f, unsigned dev, uint64_t limit)
{
	struct avm_msg m = { .kind = TESTDEV_MSG_PING, .user.addr = limit };

	assert_int_equal(avm_post(f->acc, f->dev[dev], &m), 0);
}

/* Three devices, two ping chains and VCPU writes, all racing. */
static void scenario(uint64_t seed, struct delivery_log *log)
{
	struct avm_runtime_config cfg = { .seed = seed };
	struct fixture f;

	fix_up(&f, AVM_EXEC_DETERMINISTIC, 3, &cfg);
	assert_int_equal(avm_bind(f.rt, f.dev[0], "out", f.dev[1], 0), 0);
	assert_int_equal(avm_bind(f.rt, f.dev[1], "out", f.dev[0], 0), 0);
	assert_int_equal(avm_bind(f.rt, f.dev[2], "out", f.dev[1], 0), 0);
	fix_start(&f);
	memset(log, 0, sizeof(*log));
	avm_det_set_observer(f.rt, record, log);
	post_ping(&f, 0, 40);
	post_ping(&f, 2, 40);
	for (uint64_t i = 1; i <= 20; i++)
		assert_int_equal(avm_write(f.acc, AVM_SPACE_MMIO,
					   FIX_MMIO(1) + TESTDEV_SEQ, 8, i),
				 0);
	assert_true(avm_det_run(f.rt, 0) > 0);
	assert_int_equal(fix_rd(&f, 1, TESTDEV_SEQ_BAD), 0);
	assert_int_equal(avm_det_pending(f.rt), 0);
	fix_down(&f);
}

static void same_seed_same_sequence(void **unused)
{
	static struct delivery_log a, b;
	unsigned differing = 0;

	(void)unused;
	scenario(7, &a);
	scenario(7, &b);
	assert_true(a.n > 60);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.key, b.key, a.n * sizeof(a.key[0]));
	/* Other seeds shuffle independent senders differently. */
	for (uint64_t seed = 1; seed <= 8; seed++) {
		scenario(seed, &b);
		assert_int_equal(a.n, b.n); /* same work, other order */
		differing += memcmp(a.key, b.key, a.n * sizeof(a.key[0])) != 0;
	}
	assert_true(differing > 0);
}

/* Two VCPUs' writes interleave by seed but each stays in its order. */
static void senders_fifo_under_shuffle(void **unused)
{
	struct fixture f;
	avm_accessor *other;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	assert_int_equal(avm_accessor_new(f.rt, "other", &other), 0);
	for (uint64_t s = 1; s <= 500; s++) {
		assert_int_equal(avm_write(f.acc, AVM_SPACE_MMIO,
					   FIX_MMIO(0) + TESTDEV_SEQ, 8, s),
				 0);
		assert_int_equal(avm_write(other, AVM_SPACE_MMIO,
					   FIX_MMIO(0) + TESTDEV_SEQ, 8,
					   (1ull << 32) | s),
				 0);
	}
	assert_int_equal(avm_det_pending(f.rt), 1000);
	/* A read follows only its own sender's writes: run the rest first. */
	assert_int_equal(avm_det_run(f.rt, 0), 1000);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_SEQ_TOTAL), 1000);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_SEQ_BAD), 0);
	avm_accessor_free(other);
	fix_down(&f);
}

/* Guest accesses are served before queued background work. */
static void access_lane_first(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	fix_wr(&f, 0, TESTDEV_WORK, 50);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_WORK_DONE), 0);
	assert_int_equal(avm_det_run(f.rt, 0), 50);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_WORK_DONE), 50);
	fix_down(&f);
}

static void virtual_time_fires_timers_exactly(void **unused)
{
	static struct delivery_log log;
	struct fixture f;
	uint64_t due;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 2, NULL);
	assert_int_equal(avm_bind(f.rt, f.dev[0], "irq", f.dev[1], 9), 0);
	fix_start(&f);
	avm_det_set_observer(f.rt, record, &log);
	assert_int_equal(avm_det_advance(f.rt, 500), 0);
	fix_wr(&f, 0, TESTDEV_TIMER, 1000);
	assert_int_equal(avm_det_timer_due(f.rt, f.dev[0], 0, &due), -ENOENT);
	assert_int_equal(avm_det_run(f.rt, 0), 1); /* posted: runs when run */
	assert_int_equal(avm_det_timer_due(f.rt, f.dev[0], 0, &due), 0);
	assert_int_equal(due, 1500);
	assert_int_equal(avm_det_advance(f.rt, 999), 0);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_TICKS), 0);
	assert_int_equal(avm_det_now(f.rt), 1499);
	assert_int_equal(avm_det_advance(f.rt, 1), 0);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_TICKS), 1);
	assert_int_equal(log.last_irq_time, 1500);
	assert_int_equal(fix_rd(&f, 1, TESTDEV_IRQ_IN), (9 << 1) | 1);
	assert_int_equal(avm_det_timer_due(f.rt, f.dev[0], 0, &due), -ENOENT);
	fix_down(&f);
}

static void endless_ping_pong_is_caught(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 2, NULL);
	assert_int_equal(avm_bind(f.rt, f.dev[0], "out", f.dev[1], 0), 0);
	assert_int_equal(avm_bind(f.rt, f.dev[1], "out", f.dev[0], 0), 0);
	fix_start(&f);
	post_ping(&f, 0, UINT64_MAX);
	assert_int_equal(avm_det_run(f.rt, 1000), -ELOOP);
	assert_int_equal(avm_det_pending(f.rt), 1);
	fix_down(&f); /* frees what is still queued */
}

struct send_seen {
	unsigned sends;
	int result;
	const char *port;
};

static void note_send(void *arg, const struct avm_det_event *ev)
{
	struct send_seen *s = arg;

	if (ev->kind != AVM_DET_SEND)
		return;
	s->sends++;
	s->result = ev->result;
	s->port = ev->port_name;
}

/* The observer learns what each send returned. */
static void observer_sees_send_results(void **unused)
{
	struct fixture f;
	struct send_seen s = { 0 };

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 2, NULL);
	fix_start(&f);
	avm_det_set_observer(f.rt, note_send, &s);
	post_ping(&f, 0, 5); /* "out" is not bound */
	avm_det_run(f.rt, 0);
	assert_int_equal(s.sends, 1);
	assert_int_equal(s.result, -ENOTCONN);
	assert_string_equal(s.port, "out");
	assert_int_equal(avm_bind(f.rt, f.dev[0], "out", f.dev[1], 0), 0);
	post_ping(&f, 0, 2);
	avm_det_run(f.rt, 0);
	assert_int_equal(s.sends, 2);
	assert_int_equal(s.result, 0);
	fix_down(&f);
}

static void misuse_is_rejected(void **unused)
{
	struct fixture f;
	avm_runtime *threaded;
	uint64_t due;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	assert_int_equal(avm_det_fd_ready(f.rt, f.dev[0], 0, AVM_FD_READ),
			 -ENOENT);
	assert_int_equal(avm_det_fd_ready(f.rt, 99, 0, AVM_FD_READ), -ENOENT);
	fix_down(&f);
	assert_int_equal(avm_runtime_new(NULL, &threaded), 0);
	assert_int_equal(avm_det_step(threaded), -EINVAL);
	assert_int_equal(avm_det_run(threaded, 0), -EINVAL);
	assert_int_equal(avm_det_advance(threaded, 1), -EINVAL);
	assert_int_equal(avm_det_timer_due(threaded, 0, 0, &due), -EINVAL);
	assert_null(avm_actor_state(threaded, 0));
	avm_runtime_free(threaded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_seed_same_sequence),
		cmocka_unit_test(senders_fifo_under_shuffle),
		cmocka_unit_test(access_lane_first),
		cmocka_unit_test(virtual_time_fires_timers_exactly),
		cmocka_unit_test(endless_ping_pong_is_caught),
		cmocka_unit_test(observer_sees_send_results),
		cmocka_unit_test(misuse_is_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
