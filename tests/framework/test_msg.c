/* SPDX-License-Identifier: MIT */
/*
 * The typed message bodies as a device sees them: every kind the framework
 * makes arrives with its fields where the body says (a wrong offset or a
 * field filled from the wrong place fails here); avm_ask() is answered as a
 * REPLY, never as a DMA_DONE; and the framework's own stop kind is neither
 * nameable through the public headers nor ever seen by a device.
 *
 * Only public headers: what a device author has.
 */
#include "fixture.h"

#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <actorvm/trace.h>

#ifdef AVM_MSG_STOP
#error "the stop kind is the framework's: not in the public headers"
#endif
/* Kinds are recorded in traces by number: these never move. */
_Static_assert(AVM_MSG_DMA_DONE == 4 && AVM_MSG_RESET == 10 &&
		       AVM_MSG_REPLY == 12,
	       "message kind numbers are part of the trace format");

#define REC_MMIO  0xf0000000ull
#define REC_MMIO2 0xf0010000ull
#define REC_PIO	  0x100u
#define REC_LINE  5u  /* rec1's "irq" arrives on this line at rec0 */
#define REC_ARG	  7u  /* rec0's "out" binding argument at rec1 */
#define STOP_KIND 11u /* the number internal.h gives the stop kind */

#define MSG_Q (AVM_MSG_USER + 9) /* a question one rec asks another */

/* Writes at these offsets make the device do something. */
enum rec_cmd {
	CMD_CONT = 0x10,  /* avm_continue(value) */
	CMD_TIMER = 0x18, /* avm_timer_arm(value, 1 us) */
	CMD_DMA = 0x20,	  /* avm_dma_read(4 bytes at value) */
	CMD_ASK = 0x28,	  /* avm_ask("out", MSG_Q with user.value = value) */
	CMD_IRQ = 0x30,	  /* avm_irq_set("irq", value & 1) */
	CMD_WATCH = 0x38, /* avm_fd_watch(2, fd = value, READ) */
	CMD_STOP = 0x40,  /* try to send itself a framework kind: value, or
			     the stop kind if 0 */
};

/* Reads at these offsets answer counters; below, an access's own fields. */
enum rec_stat {
	ST_REPLIES = 0x80,
	ST_REPLY_VALUE = 0x88,
	ST_REPLY_STATUS = 0x90,
	ST_DMA_DONES = 0x98,
	ST_STOP_RET = 0xa0,
};

struct rec;

/* What the test reads after the runtime is gone: shared through config. */
struct rec_seen {
	_Atomic uint64_t kinds; /* bit k: kind k reached handle() */
	_Atomic unsigned resets;
	struct rec *self; /* for the deterministic executor's single thread */
};

struct rec {
	struct rec_seen *seen;
	struct avm_msg last[16]; /* the last message of each framework kind */
	uint64_t dma_token, ask_token;
	int dma_ret, ask_ret, stop_ret;
	unsigned replies, dma_dones;
	struct avm_msg_user q; /* the last MSG_Q */
};

/* Answers an access with its own fields, so a test sees them all. */
static uint64_t echo(const struct avm_msg_access *a)
{
	return (uint64_t)a->region << 40 | (uint64_t)a->size << 32 | a->offset;
}

static uint64_t rec_stat(const struct rec *r, uint64_t off)
{
	switch (off) {
	case ST_REPLIES:
		return r->replies;
	case ST_REPLY_VALUE:
		return r->last[AVM_MSG_REPLY].reply.value;
	case ST_REPLY_STATUS:
		return (uint64_t)(int64_t)r->last[AVM_MSG_REPLY].reply.status;
	case ST_DMA_DONES:
		return r->dma_dones;
	case ST_STOP_RET:
		return (uint64_t)(int64_t)r->stop_ret;
	default:
		return echo(&r->last[AVM_MSG_READ].access);
	}
}

static void rec_cmd(struct rec *r, const struct avm_msg_access *a, avm_ctx *ctx)
{
	struct avm_msg q = { .kind = MSG_Q, .user.value = a->value };
	struct avm_msg stop = { .kind = a->value ? (uint16_t)a->value
						 : STOP_KIND };
	uint8_t buf[4];

	switch (a->offset) {
	case CMD_CONT:
		avm_continue(ctx, a->value);
		break;
	case CMD_TIMER:
		avm_timer_arm(ctx, (unsigned)a->value, 1000, 0);
		break;
	case CMD_DMA:
		r->dma_ret = avm_dma_read(ctx, a->value, buf, 4, &r->dma_token);
		break;
	case CMD_ASK:
		r->ask_ret = avm_ask(ctx, 0, &q, &r->ask_token);
		break;
	case CMD_IRQ:
		avm_irq_set(ctx, 1, a->value & 1);
		break;
	case CMD_WATCH:
		avm_fd_watch(ctx, 2, (int)a->value, AVM_FD_READ);
		break;
	case CMD_STOP:
		r->stop_ret = avm_send_to(ctx, avm_self(ctx), &stop);
		break;
	}
}

static void rec_question(struct rec *r, const struct avm_msg *m, avm_ctx *ctx)
{
	r->q = m->user;
	if (m->user.value == 1)
		avm_reply_error(ctx, -ENOSPC);
	else if (m->user.value != 0) /* 0: unanswered, the framework's -EIO */
		avm_reply(ctx, m->user.value * 2);
}

static void rec_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct rec *r = state;

	atomic_fetch_or(&r->seen->kinds, 1ull << (m->kind < 64 ? m->kind : 63));
	if (m->kind < 16)
		r->last[m->kind] = *m;
	switch (m->kind) {
	case AVM_MSG_READ:
		avm_reply(ctx, m->access.offset >= ST_REPLIES
				       ? rec_stat(r, m->access.offset)
				       : echo(&m->access));
		break;
	case AVM_MSG_WRITE:
		rec_cmd(r, &m->access, ctx);
		break;
	case AVM_MSG_REPLY:
		r->replies++;
		break;
	case AVM_MSG_DMA_DONE:
		r->dma_dones++;
		break;
	case MSG_Q:
		rec_question(r, m, ctx);
		break;
	}
}

static int rec_init(void *state, const void *config, avm_ctx *ctx)
{
	struct rec *r = state;

	(void)ctx;
	r->seen = (struct rec_seen *)config;
	r->seen->self = r;
	return 0;
}

static void rec_reset(void *state, avm_ctx *ctx)
{
	struct rec *r = state;

	(void)ctx;
	atomic_fetch_add(&r->seen->resets, 1);
}

static const struct avm_region_desc rec_regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 0x100 },
	{ .name = "pio", .space = AVM_SPACE_PIO, .size = 0x10 },
};

static const char *const rec_ports[] = { "out", "irq" };

static const struct avm_device_ops rec_ops = {
	.type = "rec",
	.state_size = sizeof(struct rec),
	.regions = rec_regions,
	.n_regions = 2,
	.ports = rec_ports,
	.n_ports = 2,
	.init = rec_init,
	.handle = rec_handle,
	.reset = rec_reset,
};

struct recfix {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id[2];
	struct rec_seen seen[2];
	bool det;
};

/* rec0 at REC_MMIO/REC_PIO, rec1 at REC_MMIO2; rec0's "out" goes to rec1
 * with REC_ARG, rec1's "irq" to rec0's line REC_LINE. */
static void rec_up(struct recfix *f, enum avm_exec_kind exec)
{
	struct avm_runtime_config cfg = { .exec = exec,
					  .read_deadline_ns = FIX_GUARD_NS };

	memset(f, 0, sizeof(*f));
	f->det = exec == AVM_EXEC_DETERMINISTIC;
	assert_int_equal(avm_runtime_new(&cfg, &f->rt), 0);
	for (unsigned i = 0; i < 2; i++) {
		struct avm_actor_spec s = { .ops = &rec_ops,
					    .name = i ? "rec1" : "rec0",
					    .config = &f->seen[i] };

		assert_int_equal(avm_actor_create(f->rt, &s, &f->id[i]), 0);
	}
	assert_int_equal(avm_map(f->rt, f->id[0], 0, REC_MMIO), 0);
	assert_int_equal(avm_map(f->rt, f->id[0], 1, REC_PIO), 0);
	assert_int_equal(avm_map(f->rt, f->id[1], 0, REC_MMIO2), 0);
	assert_int_equal(avm_bind(f->rt, f->id[0], "out", f->id[1], REC_ARG),
			 0);
	assert_int_equal(avm_bind(f->rt, f->id[1], "irq", f->id[0], REC_LINE),
			 0);
	assert_int_equal(avm_runtime_start(f->rt), 0);
	assert_int_equal(avm_accessor_new(f->rt, "test", &f->acc), 0);
}

static void rec_down(struct recfix *f)
{
	avm_accessor_free(f->acc);
	avm_runtime_free(f->rt);
}

static void settle(struct recfix *f)
{
	if (f->det)
		assert_true(avm_det_run(f->rt, 0) >= 0);
}

static uint64_t rd(struct recfix *f, uint64_t addr, unsigned size)
{
	uint64_t v = 0;

	settle(f);
	assert_int_equal(avm_read(f->acc, AVM_SPACE_MMIO, addr, size, &v), 0);
	settle(f);
	return v;
}

static void wr(struct recfix *f, uint64_t addr, uint64_t v)
{
	assert_int_equal(avm_write(f->acc, AVM_SPACE_MMIO, addr, 8, v), 0);
	settle(f);
}

/* The state of rec @i: read it only after settling, and only in the
 * deterministic executor (one thread: the test's). */
static struct rec *state_of(struct recfix *f, unsigned i)
{
	assert_true(f->det);
	return f->seen[i].self;
}

static void access_bodies(void **unused)
{
	struct recfix f;
	uint64_t v = 0;
	const struct avm_msg_access *a;

	(void)unused;
	rec_up(&f, AVM_EXEC_DETERMINISTIC);
	assert_int_equal(rd(&f, REC_MMIO + 0x48, 4),
			 (uint64_t)4 << 32 | 0x48); /* region 0 */
	assert_int_equal(avm_read(f.acc, AVM_SPACE_PIO, REC_PIO + 3, 1, &v), 0);
	assert_int_equal(v, (uint64_t)1 << 40 | (uint64_t)1 << 32 | 3);
	assert_int_equal(
		avm_write(f.acc, AVM_SPACE_PIO, REC_PIO + 2, 2, 0xbeef), 0);
	settle(&f);
	a = &state_of(&f, 0)->last[AVM_MSG_WRITE].access;
	assert_int_equal(a->region, 1);
	assert_int_equal(a->offset, 2);
	assert_int_equal(a->size, 2);
	assert_int_equal(a->value, 0xbeef);
	rec_down(&f);
}

static void event_bodies(void **unused)
{
	struct recfix f;
	struct rec *r;
	int fds[2];

	(void)unused;
	rec_up(&f, AVM_EXEC_DETERMINISTIC);
	r = state_of(&f, 0);
	wr(&f, REC_MMIO + CMD_CONT, 0xc0ffee12345ull);
	assert_int_equal(r->last[AVM_MSG_CONTINUE].cont.token,
			 0xc0ffee12345ull);
	wr(&f, REC_MMIO + CMD_TIMER, 3);
	assert_int_equal(avm_det_advance(f.rt, 2000), 0);
	assert_int_equal(r->last[AVM_MSG_TIMER].timer.id, 3);
	assert_int_equal(pipe(fds), 0);
	wr(&f, REC_MMIO + CMD_WATCH, (uint64_t)fds[0]);
	assert_int_equal(avm_det_fd_ready(f.rt, f.id[0], 2, AVM_FD_READ), 0);
	settle(&f);
	assert_int_equal(r->last[AVM_MSG_FD].fd.watch, 2);
	assert_int_equal(r->last[AVM_MSG_FD].fd.events, AVM_FD_READ);
	/* rec1's "irq" port is bound to rec0 with the line as argument. */
	wr(&f, REC_MMIO2 + CMD_IRQ, 1);
	assert_int_equal(r->last[AVM_MSG_IRQ].irq.line, REC_LINE);
	assert_true(r->last[AVM_MSG_IRQ].irq.level);
	wr(&f, REC_MMIO2 + CMD_IRQ, 0);
	assert_false(r->last[AVM_MSG_IRQ].irq.level);
	rec_down(&f);
	close(fds[0]);
	close(fds[1]);
}

/* A DMA read of another device's register completes as DMA_DONE: its token,
 * the data the owner answered, its status. */
static void dma_done_body(void **unused)
{
	struct recfix f;
	struct rec *r;

	(void)unused;
	rec_up(&f, AVM_EXEC_DETERMINISTIC);
	r = state_of(&f, 0);
	wr(&f, REC_MMIO + CMD_DMA, REC_MMIO2 + 0x44);
	assert_int_equal(r->dma_ret, AVM_DMA_PENDING);
	assert_int_equal(r->dma_dones, 1);
	assert_int_equal(r->replies, 0);
	assert_int_equal(r->last[AVM_MSG_DMA_DONE].dma.token, r->dma_token);
	assert_int_equal(r->last[AVM_MSG_DMA_DONE].dma.data,
			 (uint64_t)4 << 32 | 0x44);
	assert_int_equal(r->last[AVM_MSG_DMA_DONE].dma.status, 0);
	assert_int_equal(r->last[AVM_MSG_DMA_DONE].dma.size, 4);
	rec_down(&f);
}

/* avm_ask(): the question arrives with the binding's argument, the answer
 * comes back as a REPLY with the token, the value or the error; never as a
 * DMA_DONE. */
static void ask_is_answered_as_reply(void **unused)
{
	struct recfix f;
	struct rec *r, *q;

	(void)unused;
	rec_up(&f, AVM_EXEC_DETERMINISTIC);
	r = state_of(&f, 0);
	q = state_of(&f, 1);
	wr(&f, REC_MMIO + CMD_ASK, 21);
	assert_int_equal(r->ask_ret, 0);
	assert_int_not_equal(r->ask_token, 0);
	assert_int_equal(q->q.arg, REC_ARG);
	assert_int_equal(q->q.value, 21);
	assert_int_equal(r->replies, 1);
	assert_int_equal(r->dma_dones, 0);
	assert_int_equal(r->last[AVM_MSG_REPLY].reply.token, r->ask_token);
	assert_int_equal(r->last[AVM_MSG_REPLY].reply.value, 42);
	assert_int_equal(r->last[AVM_MSG_REPLY].reply.status, 0);
	wr(&f, REC_MMIO + CMD_ASK, 1);
	assert_int_equal(r->replies, 2);
	assert_int_equal(r->last[AVM_MSG_REPLY].reply.status, -ENOSPC);
	assert_int_equal(r->last[AVM_MSG_REPLY].reply.token, r->ask_token);
	wr(&f, REC_MMIO + CMD_ASK, 0); /* unanswered */
	assert_int_equal(r->replies, 3);
	assert_int_equal(r->last[AVM_MSG_REPLY].reply.status, -EIO);
	assert_int_equal(r->dma_dones, 0);
	rec_down(&f);
}

/* The same across threads (and the fast path): the answer never re-enters
 * the asker, and comes back once. */
static void ask_threaded(void **unused)
{
	struct recfix f;
	uint64_t t0;

	(void)unused;
	rec_up(&f, AVM_EXEC_THREADED);
	for (uint64_t i = 1; i <= 50; i++) {
		wr(&f, REC_MMIO + CMD_ASK, 10 + i);
		t0 = fix_now_ns();
		while (rd(&f, REC_MMIO + ST_REPLIES, 8) < i && fix_guard(t0))
			sched_yield();
		assert_int_equal(rd(&f, REC_MMIO + ST_REPLIES, 8), i);
		assert_int_equal(rd(&f, REC_MMIO + ST_REPLY_VALUE, 8),
				 2 * (10 + i));
	}
	assert_int_equal(rd(&f, REC_MMIO + ST_DMA_DONES, 8), 0);
	rec_down(&f);
}

/* Stop and reset are the framework's: a device's handle() never sees the
 * stop kind nor RESET (reset() runs instead), and no one outside the
 * framework can post the stop kind to it. */
static void internal_kinds_never_reach_a_device(void **unused)
{
	static const enum avm_exec_kind execs[] = { AVM_EXEC_THREADED,
						    AVM_EXEC_BIGLOCK,
						    AVM_EXEC_DETERMINISTIC };

	(void)unused;
	for (unsigned e = 0; e < 3; e++) {
		struct recfix f;
		struct avm_msg stop = { .kind = STOP_KIND };
		uint64_t v;

		rec_up(&f, execs[e]);
		wr(&f, REC_MMIO + CMD_ASK, 5);
		wr(&f, REC_MMIO + CMD_STOP, 0);
		assert_int_equal(rd(&f, REC_MMIO + ST_STOP_RET, 8),
				 (uint64_t)(int64_t)-EINVAL);
		/* Nor a device process's start or death (trace.h). */
		for (uint64_t k = AVM_TRACE_KIND_PROC_START;
		     k <= AVM_TRACE_KIND_PROC_EXIT; k++) {
			struct avm_msg pk = { .kind = (uint16_t)k };

			wr(&f, REC_MMIO + CMD_STOP, k);
			assert_int_equal(rd(&f, REC_MMIO + ST_STOP_RET, 8),
					 (uint64_t)(int64_t)-EINVAL);
			assert_int_equal(avm_post(f.acc, f.id[0], &pk),
					 -EINVAL);
			pk = (struct avm_msg){ .kind = (uint16_t)k };
			assert_int_equal(avm_request(f.acc, f.id[0], &pk, &v),
					 -EINVAL);
		}
		assert_int_equal(avm_post(f.acc, f.id[0], &stop), -EINVAL);
		stop = (struct avm_msg){ .kind = STOP_KIND };
		assert_int_equal(avm_request(f.acc, f.id[0], &stop, &v),
				 -EINVAL);
		assert_int_equal(avm_actor_reset(f.rt, f.id[0]), 0);
		settle(&f);
		(void)rd(&f, REC_MMIO, 8); /* the reset is done after this */
		avm_runtime_stop(f.rt);
		for (unsigned i = 0; i < 2; i++) {
			uint64_t k = atomic_load(&f.seen[i].kinds);

			assert_false(k & (1ull << STOP_KIND));
			assert_false(k & (1ull << AVM_MSG_RESET));
		}
		assert_int_equal(atomic_load(&f.seen[0].resets), 1);
		rec_down(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(access_bodies),
		cmocka_unit_test(event_bodies),
		cmocka_unit_test(dma_done_body),
		cmocka_unit_test(ask_is_answered_as_reply),
		cmocka_unit_test(ask_threaded),
		cmocka_unit_test(internal_kinds_never_reach_a_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
