/* SPDX-License-Identifier: MIT */
/*
 * The actor test harness, tested on testdev and on a tiny echo device
 * (payloads and fds, which testdev does not use). Failure paths are checked
 * through a recording failure handler, so a harness that failed to fail
 * would make these tests fail.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <actorvm/harness.h>

#include "testdev.h"

#define RAM_GPA	 0x10000ull
#define RAM_SIZE 0x4000ull

/* --- A recording failure handler ------------------------------------------ */

struct failure {
	unsigned calls;
	char file[256];
	int line;
	char msg[4096];
};

static void record_failure(void *arg, const char *file, int line,
			   const char *msg)
{
	struct failure *f = arg;

	f->calls++;
	snprintf(f->file, sizeof(f->file), "%s", file);
	f->line = line;
	snprintf(f->msg, sizeof(f->msg), "%s", msg);
}

static avm_harness *testdev_harness(struct failure *rec)
{
	struct avm_harness_opts o = { .ops = &testdev_ops,
				      .seed = 1,
				      .ram_gpa = RAM_GPA,
				      .ram_size = RAM_SIZE };
	avm_harness *h = NULL;

	if (rec) {
		o.fail = record_failure;
		o.fail_arg = rec;
	}
	assert_int_equal(avm_harness_new(&o, &h), 0);
	assert_non_null(h);
	return h;
}

/* --- echo: sends each frame back, reads its fd when told it is ready ------ */

struct echo {
	int fd;
	unsigned frames;
};

static const char *const echo_ports[] = { "out" };

static int echo_init(void *state, const void *config, avm_ctx *ctx)
{
	struct echo *s = state;

	s->fd = config ? *(const int *)config : -1;
	return s->fd >= 0 ? avm_fd_watch(ctx, 0, s->fd, AVM_FD_READ) : 0;
}

static void echo_frame(struct echo *s, const struct avm_msg *m, avm_ctx *ctx)
{
	struct avm_msg out = { .kind = AVM_MSG_FRAME };
	size_t len;
	const void *p = avm_msg_payload(m, &len);

	s->frames++;
	out.frame.tag = s->frames;
	if (!avm_msg_set_payload(&out, p, len))
		avm_send(ctx, 0, &out);
}

static void echo_fd(struct echo *s, avm_ctx *ctx)
{
	struct avm_msg out = { .kind = AVM_MSG_CHAR };
	char c;

	if (read(s->fd, &c, 1) != 1)
		return;
	out.chars.tag = (uint8_t)c;
	avm_send(ctx, 0, &out);
}

static void echo_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	if (m->kind == AVM_MSG_FRAME)
		echo_frame(state, m, ctx);
	else if (m->kind == AVM_MSG_FD)
		echo_fd(state, ctx);
}

static const struct avm_device_ops echo_ops = {
	.type = "echo",
	.state_size = sizeof(struct echo),
	.ports = echo_ports,
	.n_ports = 1,
	.init = echo_init,
	.handle = echo_handle,
};

static int refuse_init(void *state, const void *config, avm_ctx *ctx)
{
	return -EIO;
}

static const struct avm_device_ops refusing_ops = {
	.type = "refusing",
	.init = refuse_init,
	.handle = echo_handle,
};

/* --- Tests ---------------------------------------------------------------- */

static void new_checks_opts(void **unused)
{
	struct avm_device_ops no_handle = { .type = "x" };
	struct avm_harness_opts o = { 0 };
	avm_harness *h = NULL;

	assert_int_equal(avm_harness_new(&o, &h), -EINVAL);
	o.ops = &no_handle;
	assert_int_equal(avm_harness_new(&o, &h), -EINVAL);
	o.ops = &refusing_ops;
	assert_int_equal(avm_harness_new(&o, &h), -EIO);
	assert_null(h);
	avm_harness_free(NULL);
}

static void registers_by_region_and_offset(void **unused)
{
	struct testdev_config cfg = { .id = 0x1234 };
	struct avm_harness_opts o = { .ops = &testdev_ops, .config = &cfg };
	avm_harness *h;
	uint64_t mmio, pio;

	assert_int_equal(avm_harness_new(&o, &h), 0);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_ID, 8), 0x1234);
	avm_harness_write(h, 0, TESTDEV_SCRATCH, 8, 0xabcdef);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_SCRATCH, 8), 0xabcdef);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_SCRATCH, 2), 0xcdef);
	avm_harness_write(h, 1, 0, 1, 0x5a); /* the PIO region */
	assert_int_equal(avm_harness_read(h, 1, 0, 1), 0x5a);
	assert_int_equal(avm_harness_region_base(h, 0, &mmio), 0);
	assert_int_equal(avm_harness_region_base(h, 1, &pio), 0);
	assert_true(pio < 0x10000);
	assert_true(mmio >= RAM_GPA + RAM_SIZE);
	assert_int_equal(avm_harness_region_base(h, 2, &mmio), -ENOENT);
	assert_non_null(avm_harness_state(h));
	assert_ptr_equal(
		avm_harness_state(h),
		avm_actor_state(avm_harness_runtime(h), avm_harness_actor(h)));
	assert_int_not_equal(avm_harness_actor(h), avm_harness_peer(h));
	assert_int_equal(avm_harness_pending(h), 0);
	avm_harness_free(h);
}

static void access_errors(void **unused)
{
	struct failure rec = { 0 };
	avm_harness *h = testdev_harness(&rec);
	uint64_t v = 0;
	int line;

	assert_int_equal(avm_harness_try_read(h, 2, 0, 8, &v), -ENOENT);
	assert_int_equal(avm_harness_try_read(h, 0, 0, 3, &v), -EINVAL);
	assert_int_equal(avm_harness_try_read(h, 0, TESTDEV_MMIO_SIZE, 1, &v),
			 -ENXIO);
	assert_int_equal(
		avm_harness_try_write(h, 0, TESTDEV_MMIO_SIZE - 4, 8, 1),
		-ENXIO);
	assert_int_equal(avm_harness_try_write(h, 1, 7, 2, 1), -ENXIO);
	assert_int_equal(rec.calls, 0);
	line = __LINE__ + 1;
	assert_int_equal(avm_harness_read(h, 5, 0, 8), 0);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.line, line);
	assert_string_equal(rec.file, __FILE__);
	assert_non_null(strstr(rec.msg, "region 5"));
	line = __LINE__ + 1;
	assert_int_equal(avm_harness_write(h, 9, 0, 8, 0), -ENOENT);
	assert_int_equal(rec.calls, 2);
	assert_int_equal(rec.line, line);
	assert_non_null(strstr(rec.msg, "avm_harness_write failed: -2"));
	avm_harness_free(h);
}

static void irq_captured_and_consumed(void **unused)
{
	avm_harness *h = testdev_harness(NULL);
	const struct avm_harness_match irq1 = {
		.kind = AVM_DET_SEND,
		.fields = AVM_HM_PORT | AVM_HM_MSG_KIND | AVM_HM_VALUE,
		.port = "irq",
		.msg_kind = AVM_MSG_IRQ,
		.value = 1,
	};
	const struct avm_harness_event *e;

	assert_int_equal(avm_harness_count(h, NULL), 0);
	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 1);
	assert_int_equal(avm_harness_count(h, NULL), 1);
	e = avm_harness_find(h, &irq1);
	assert_non_null(e);
	assert_string_equal(e->port_name, "irq");
	assert_int_equal(e->port, TESTDEV_PORT_IRQ);
	assert_int_equal(e->dst, avm_harness_peer(h));
	assert_int_equal(e->arg, 0);
	assert_false(e->consumed);
	assert_ptr_equal(avm_harness_take(h, &irq1), e);
	assert_true(e->consumed);
	assert_null(avm_harness_find(h, &irq1));
	assert_int_equal(avm_harness_count(h, NULL), 0);
	assert_int_equal(AVM_EXPECT_NONE(h), 0);
	/* The level did not change: testdev sends nothing. */
	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 1);
	assert_int_equal(avm_harness_count(h, NULL), 0);
	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 0);
	e = AVM_EXPECT_IRQ(h, "irq", 0);
	assert_non_null(e);
	assert_int_equal(e->value, 0);
	AVM_EXPECT_NONE(h);
	avm_harness_free(h);
}

static void failed_expect_reports_caller_and_captures(void **unused)
{
	struct failure rec = { 0 };
	avm_harness *h = testdev_harness(&rec);
	const struct avm_harness_event *e;
	int line;

	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 1);
	line = __LINE__ + 1;
	e = AVM_EXPECT_IRQ(h, "irq", 0);
	assert_null(e);
	assert_int_equal(rec.calls, 1);
	assert_string_equal(rec.file, __FILE__);
	assert_int_equal(rec.line, line);
	assert_non_null(strstr(rec.msg, "AVM_EXPECT: no unconsumed event"));
	assert_non_null(strstr(rec.msg, "port=irq msg=IRQ value=0x0"));
	assert_non_null(strstr(rec.msg, "#0 t=0ns SEND port irq -> "
					"harness-peer IRQ arg=0 value=0x1"));
	/* A failed expectation consumes nothing. */
	assert_int_equal(avm_harness_count(h, NULL), 1);
	line = __LINE__ + 1;
	assert_int_equal(AVM_EXPECT_NONE(h), -EEXIST);
	assert_int_equal(rec.calls, 2);
	assert_int_equal(rec.line, line);
	assert_non_null(
		strstr(rec.msg, "AVM_EXPECT_NONE: unexpected event #0"));
	assert_int_equal(AVM_EXPECT_NO(h, .kind = AVM_DET_TIMER_ARM), 0);
	assert_int_equal(AVM_EXPECT_NO_SEND(h, "irq"), -EEXIST);
	assert_int_equal(rec.calls, 3);
	assert_non_null(AVM_EXPECT_IRQ(h, "irq", 1));
	assert_int_equal(AVM_EXPECT_NONE(h), 0);
	assert_int_equal(rec.calls, 3);
	avm_harness_free(h);
}

/* A pattern prints each field in the base its captured events use, so the
 * two can be compared by eye: decimal arg/id/delay/period, hex value. */
static void failed_expect_prints_pattern_like_captures(void **unused)
{
	struct failure rec = { 0 };
	avm_harness *h = testdev_harness(&rec);

	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 1);
	assert_null(AVM_EXPECT(h, .kind = AVM_DET_SEND,
			       .fields = AVM_HM_ARG | AVM_HM_VALUE, .arg = 12,
			       .value = 0x20));
	assert_non_null(strstr(rec.msg, "arg=12 value=0x20 }"));
	assert_non_null(strstr(rec.msg, "IRQ arg=0 value=0x1"));
	assert_null(AVM_EXPECT_TIMER_ARM(h, 3, 1000, 0));
	assert_non_null(strstr(rec.msg, "id=3 delay=1000 period=0 }"));
	assert_int_equal(rec.calls, 2);
	avm_harness_free(h);
}

static void expect_next_is_strict(void **unused)
{
	struct failure rec = { 0 };
	avm_harness *h = testdev_harness(&rec);
	const struct avm_harness_match timer = { .kind = AVM_DET_TIMER_ARM };
	const struct avm_harness_match send = { .kind = AVM_DET_SEND };

	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 1);
	avm_harness_write(h, 0, TESTDEV_TIMER, 8, 500);
	assert_null(avm_harness_take_next(h, &timer));
	assert_null(AVM_EXPECT_NEXT(h, .kind = AVM_DET_TIMER_ARM));
	assert_int_equal(rec.calls, 1);
	assert_non_null(strstr(rec.msg, "AVM_EXPECT_NEXT"));
	/* Out of order is fine for the non-strict form. */
	assert_non_null(avm_harness_find(h, &timer));
	assert_non_null(avm_harness_take_next(h, &send));
	assert_non_null(AVM_EXPECT_NEXT(h, .kind = AVM_DET_TIMER_ARM,
					.fields = AVM_HM_DELAY, .delay = 500));
	assert_int_equal(rec.calls, 1);
	avm_harness_free(h);
}

static void bind_argument_and_unbound_ports(void **unused)
{
	struct avm_harness_opts o = { .ops = &testdev_ops, .unbound = true };
	struct avm_actor_stats st;
	avm_harness *h = testdev_harness(NULL);
	const struct avm_harness_event *e;

	avm_harness_bind(h, "irq", 7);
	assert_int_equal(avm_harness_try_bind(h, "nope", 1), -ENOENT);
	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 1);
	e = AVM_EXPECT(h, .kind = AVM_DET_SEND, .fields = AVM_HM_ARG, .arg = 7);
	assert_non_null(e);
	avm_harness_free(h);

	assert_int_equal(avm_harness_new(&o, &h), 0);
	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 1);
	e = AVM_EXPECT_IRQ(h, "irq", 1);
	assert_non_null(e);
	assert_int_equal(e->dst, AVM_ACTOR_NONE);
	assert_int_equal(avm_actor_stats(avm_harness_runtime(h),
					 avm_harness_actor(h), &st),
			 0);
	assert_int_equal(st.dropped, 1);
	avm_harness_free(h);
}

static void timers_in_virtual_time(void **unused)
{
	avm_harness *h = testdev_harness(NULL);
	uint64_t due;

	assert_int_equal(avm_harness_now(h), 0);
	avm_harness_write(h, 0, TESTDEV_TIMER, 8, 1000);
	assert_non_null(AVM_EXPECT_TIMER_ARM(h, 0, 1000, 0));
	assert_int_equal(avm_harness_timer_due(h, 0, &due), 0);
	assert_int_equal(due, 1000);
	avm_harness_advance(h, 999);
	assert_int_equal(avm_harness_now(h), 999);
	assert_int_equal(avm_harness_count(h, NULL), 0);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_TICKS, 8), 0);
	avm_harness_advance(h, 1);
	assert_non_null(AVM_EXPECT_IRQ(h, "irq", 1));
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_TICKS, 8), 1);
	assert_int_equal(avm_harness_timer_due(h, 0, &due), -ENOENT);
	avm_harness_write(h, 0, TESTDEV_TIMER, 8, 50);
	avm_harness_write(h, 0, TESTDEV_TIMER, 8, 0);
	assert_non_null(AVM_EXPECT_TIMER(h, 0));
	assert_non_null(AVM_EXPECT_TIMER_CANCEL(h, 0));
	avm_harness_advance(h, 100);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_TICKS, 8), 1);
	AVM_EXPECT_NONE(h);
	avm_harness_free(h);
}

static void dma_capture_is_a_deep_copy(void **unused)
{
	avm_harness *h = testdev_harness(NULL);
	uint8_t want[16], got[16], zero[16] = { 0 };
	const struct avm_harness_event *e;

	for (unsigned i = 0; i < 16; i++)
		want[i] = (uint8_t)(i + 5);
	avm_harness_write(h, 0, TESTDEV_SCRATCH, 8, 5);
	avm_harness_write(h, 0, TESTDEV_DMA_ADDR, 8, RAM_GPA + 0x100);
	avm_harness_write(h, 0, TESTDEV_DMA_LEN, 8, 16);
	avm_harness_write(h, 0, TESTDEV_DMA_CMD, 8, 1);
	e = AVM_EXPECT(h, .kind = AVM_DET_DMA,
		       .fields = AVM_HM_WRITE | AVM_HM_GPA | AVM_HM_DATA,
		       .write = true, .gpa = RAM_GPA + 0x100, .data = want,
		       .len = 16);
	assert_non_null(e);
	avm_harness_peek(h, RAM_GPA + 0x100, got, 16);
	assert_memory_equal(got, want, 16);
	avm_harness_poke(h, RAM_GPA + 0x100, zero, 16);
	assert_memory_equal(e->data, want, 16); /* not a view of RAM */
	avm_harness_poke(h, RAM_GPA + 0x100, want, 16);
	avm_harness_write(h, 0, TESTDEV_DMA_CMD, 8, 2);
	e = AVM_EXPECT_DMA_READ(h, RAM_GPA + 0x100, 16);
	assert_non_null(e);
	assert_memory_equal(e->data, want, 16);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_DMA_SUM, 8),
			 16 * 5 + 120);
	avm_harness_write(h, 0, TESTDEV_DMA_ADDR, 8, 0x800000);
	avm_harness_write(h, 0, TESTDEV_DMA_CMD, 8, 1);
	assert_non_null(AVM_EXPECT(h, .kind = AVM_DET_DMA,
				   .fields = AVM_HM_STATUS, .status = -EFAULT));
	assert_int_equal((int64_t)avm_harness_read(h, 0, TESTDEV_DMA_STATUS, 8),
			 -EFAULT);
	AVM_EXPECT_NONE(h);
	avm_harness_free(h);
}

static void payloads_and_fd_readiness(void **unused)
{
	int fds[2];
	struct avm_harness_opts o = { .ops = &echo_ops, .config = &fds[0] };
	uint8_t frame[100], other[100];
	avm_harness *h;
	const struct avm_harness_event *e;

	assert_int_equal(pipe(fds), 0);
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(3 * i);
	memcpy(other, frame, sizeof(other));
	other[99] ^= 1;
	assert_int_equal(avm_harness_new(&o, &h), 0);
	assert_non_null(AVM_EXPECT_FD_WATCH(h, 0)); /* done in init */
	avm_harness_send_data(h, AVM_MSG_FRAME, 0, frame, sizeof(frame));
	assert_null(avm_harness_find(
		h, &(struct avm_harness_match){ .fields = AVM_HM_DATA,
						.data = other,
						.len = sizeof(other) }));
	e = AVM_EXPECT(h, .kind = AVM_DET_SEND, .fields = AVM_HM_DATA,
		       .data = frame, .len = sizeof(frame));
	assert_non_null(e);
	assert_int_equal(e->msg_kind, AVM_MSG_FRAME);
	assert_int_equal(e->value, 1);
	assert_int_equal(write(fds[1], "x", 1), 1);
	avm_harness_fd_ready(h, 0, AVM_FD_READ);
	e = AVM_EXPECT_SEND(h, "out", AVM_MSG_CHAR);
	assert_non_null(e);
	assert_int_equal(e->value, 'x');
	assert_int_equal(avm_harness_try_fd_ready(h, 1, AVM_FD_READ), -ENOENT);
	assert_int_equal(avm_harness_try_send_data(h, AVM_MSG_FRAME, 0, frame,
						   AVM_MSG_MAX_PAYLOAD + 1),
			 -EINVAL);
	AVM_EXPECT_NONE(h);
	avm_harness_free(h);
	close(fds[0]);
	close(fds[1]);
}

static void requests_and_device_messages(void **unused)
{
	avm_harness *h = testdev_harness(NULL);
	struct avm_msg ping = { .kind = TESTDEV_MSG_PING, .user.value = 41 };
	const struct avm_harness_event *e;

	assert_int_equal(avm_harness_request(h, &ping), 42);
	ping = (struct avm_msg){ .kind = TESTDEV_MSG_PING,
				 .user = { .value = 1, .addr = 10 } };
	avm_harness_send(h, &ping);
	/* The port name matters: the PING went out through "out" only. */
	assert_int_equal(
		avm_harness_count(
			h, &(struct avm_harness_match){ .fields = AVM_HM_PORT,
							.port = "irq" }),
		0);
	e = AVM_EXPECT_SEND(h, "out", TESTDEV_MSG_PING);
	assert_non_null(e);
	assert_int_equal(e->value, 2);
	assert_int_equal(e->addr, 10);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_PINGS, 8), 2);
	avm_harness_irq(h, 3, true);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_IRQ_IN, 8), 3 << 1 | 1);
	AVM_EXPECT_NONE(h);
	avm_harness_free(h);
}

static void guest_access_overtakes_background(void **unused)
{
	avm_harness *h = testdev_harness(NULL);

	avm_harness_set_autorun(h, false);
	avm_harness_irq(h, 3, true);
	assert_int_equal(avm_harness_pending(h), 1);
	/* The read is on the access lane: served before the queued IRQ. */
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_IRQ_IN, 8), 0);
	assert_int_equal(avm_harness_pending(h), 1);
	assert_int_equal(avm_harness_step(h), 1);
	assert_int_equal(avm_harness_run(h), 0);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_IRQ_IN, 8), 3 << 1 | 1);
	avm_harness_free(h);
}

static void continuations_are_captured_self_sends(void **unused)
{
	avm_harness *h = testdev_harness(NULL);
	const struct avm_harness_match cont = { .kind = AVM_DET_SEND,
						.fields = AVM_HM_MSG_KIND,
						.msg_kind = AVM_MSG_CONTINUE };
	const struct avm_harness_event *e;

	avm_harness_write(h, 0, TESTDEV_WORK, 8, 3);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_WORK_DONE, 8), 3);
	assert_int_equal(avm_harness_count(h, &cont), 3);
	e = avm_harness_find(h, &cont);
	assert_int_equal(e->port, -1);
	assert_null(e->port_name);
	assert_int_equal(e->dst, avm_harness_actor(h));
	avm_harness_free(h);
}

static void reset_and_clear(void **unused)
{
	avm_harness *h = testdev_harness(NULL);
	const struct avm_harness_event *const *ev;
	unsigned n;

	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 1);
	avm_harness_write(h, 0, TESTDEV_SCRATCH, 8, 9);
	assert_non_null(AVM_EXPECT_IRQ(h, "irq", 1));
	avm_harness_reset(h);
	assert_non_null(AVM_EXPECT_TIMER_CANCEL(h, 0));
	assert_non_null(AVM_EXPECT_IRQ(h, "irq", 0));
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_SCRATCH, 8), 0);
	ev = avm_harness_events(h, &n);
	assert_int_equal(n, 3);
	assert_true(ev[0]->consumed && ev[1]->consumed && ev[2]->consumed);
	assert_int_equal(ev[2]->seq, 2);
	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 1);
	assert_int_equal(avm_harness_count(h, NULL), 1);
	avm_harness_clear(h);
	assert_int_equal(avm_harness_count(h, NULL), 0);
	avm_harness_events(h, &n);
	assert_int_equal(n, 0);
	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 0);
	ev = avm_harness_events(h, &n);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0]->seq, 4); /* numbering goes on */
	avm_harness_free(h);
}

static void deferred_start_and_ram(void **unused)
{
	struct avm_harness_opts o = { .ops = &testdev_ops,
				      .defer_start = true };
	avm_harness *h;
	uint64_t base, v = 0x1122334455667788ull, r = 0;

	assert_int_equal(avm_harness_new(&o, &h), 0);
	assert_int_equal(avm_harness_region_base(h, 0, &base), -EAGAIN);
	assert_int_equal(avm_harness_try_write(h, 0, 8, 8, 1), -EAGAIN);
	assert_int_equal(avm_harness_try_ram_add(h, 0x123, 0x1000), -EINVAL);
	avm_harness_ram_add(h, 0, 0x1000);
	avm_harness_ram_add(h, 0xd0000000ull, 0x2000); /* where MMIO would go */
	avm_harness_start(h);
	assert_int_equal(avm_harness_try_start(h), -EALREADY);
	assert_int_equal(avm_harness_try_ram_add(h, 0x100000, 0x1000), -EBUSY);
	assert_int_equal(avm_harness_region_base(h, 0, &base), 0);
	assert_true(base >= 0xd0002000ull);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_ID, 8), 0x7e57de7);
	avm_harness_poke(h, 0xd0001ff8ull, &v, 8);
	avm_harness_peek(h, 0xd0001ff8ull, &r, 8);
	assert_int_equal(r, v);
	assert_ptr_equal(avm_harness_ram(h, 0xd0001ff8ull, 8),
			 (uint8_t *)avm_harness_ram(h, 0xd0000000ull, 1) +
				 0x1ff8);
	assert_int_equal(avm_harness_try_peek(h, 0xffc, &r, 8), -EFAULT);
	assert_int_equal(avm_harness_try_poke(h, 0x5000, &v, 8), -EFAULT);
	assert_null(avm_harness_ram(h, 0x5000, 8));
	avm_harness_free(h);
}

static void dump_lists_events(void **unused)
{
	avm_harness *h = testdev_harness(NULL);
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	avm_harness_write(h, 0, TESTDEV_TIMER, 8, 10);
	avm_harness_write(h, 0, TESTDEV_IRQ, 8, 1);
	assert_non_null(AVM_EXPECT_TIMER(h, 0));
	assert_int_equal(avm_harness_dump(h, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "captured events (2, 1 unconsumed)"));
	assert_non_null(strstr(buf, "#0 t=0ns TIMER_ARM id=0 delay=10 "
				    "period=0 (consumed)\n"));
	assert_non_null(strstr(buf, "#1 t=0ns SEND port irq"));
	free(buf);
	avm_harness_free(h);
}

static void same_seed_same_story(void **unused)
{
	avm_harness *a = testdev_harness(NULL), *b = testdev_harness(NULL);
	avm_harness *hs[2] = { a, b };
	const struct avm_harness_event *const *ea, *const *eb;
	unsigned na, nb;

	for (unsigned i = 0; i < 2; i++) {
		avm_harness_set_autorun(hs[i], false);
		avm_harness_write(hs[i], 0, TESTDEV_WORK, 8, 4);
		avm_harness_write(hs[i], 0, TESTDEV_TIMER, 8, 5);
		avm_harness_irq(hs[i], 1, true);
		avm_harness_advance(hs[i], 10);
	}
	ea = avm_harness_events(a, &na);
	eb = avm_harness_events(b, &nb);
	assert_int_equal(na, nb);
	assert_true(na >= 6);
	for (unsigned i = 0; i < na; i++) {
		assert_int_equal(ea[i]->kind, eb[i]->kind);
		assert_int_equal(ea[i]->time, eb[i]->time);
		assert_int_equal(ea[i]->msg_kind, eb[i]->msg_kind);
		assert_int_equal(ea[i]->value, eb[i]->value);
	}
	avm_harness_free(b);
	avm_harness_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_checks_opts),
		cmocka_unit_test(registers_by_region_and_offset),
		cmocka_unit_test(access_errors),
		cmocka_unit_test(irq_captured_and_consumed),
		cmocka_unit_test(failed_expect_reports_caller_and_captures),
		cmocka_unit_test(failed_expect_prints_pattern_like_captures),
		cmocka_unit_test(expect_next_is_strict),
		cmocka_unit_test(bind_argument_and_unbound_ports),
		cmocka_unit_test(timers_in_virtual_time),
		cmocka_unit_test(dma_capture_is_a_deep_copy),
		cmocka_unit_test(payloads_and_fd_readiness),
		cmocka_unit_test(requests_and_device_messages),
		cmocka_unit_test(guest_access_overtakes_background),
		cmocka_unit_test(continuations_are_captured_self_sends),
		cmocka_unit_test(reset_and_clear),
		cmocka_unit_test(deferred_start_and_ram),
		cmocka_unit_test(dump_lists_events),
		cmocka_unit_test(same_seed_same_story),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
