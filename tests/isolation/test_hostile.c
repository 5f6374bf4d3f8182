/* SPDX-License-Identifier: MIT */
/*
 * A device process that a guest took over: its handler, white-box, writes
 * what it likes into the memory it shares with the VMM (random records,
 * lengths, ops and indices in its ring of effects, a forged reply cell)
 * for many seeds. The VMM must survive each: no crash, no hang, every read
 * answered, the other actors unaffected; the supervisor either makes the
 * effects (a device may send, raise its lines, log) or kills the process
 * for a record that cannot be one, and restarts it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <actorvm/isolation.h>
#include <actorvm/runtime.h>

#include "internal.h"
#include "iso.h"

#define DEV_MMIO   0x10000000ull
#define PROBE_MMIO 0x10001000ull
#define SEEDS	   300

enum { R_ALIVE = 0x0, W_SCRIBBLE = 0x8 };

static uint64_t next(uint64_t *x)
{
	/* xorshift64*: reproducible garbage from a seed */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

static void scribble_rec(struct iso_rec *r, uint64_t *x)
{
	uint64_t pick = next(x);

	r->op = (uint32_t)(pick % 12); /* mostly real ops, some not */
	r->flags = (uint32_t)next(x);
	r->arg = pick & 0x100 ? (uint32_t)next(x) : (uint32_t)(pick >> 40) % 4;
	r->ival = (int32_t)next(x);
	r->len = pick & 0x200 ? (uint32_t)next(x) : (uint32_t)(next(x) % 2048);
	r->u64 = pick & 0x400 ? next(x) : next(x) % 4;
	r->u64b = next(x) % 1000000000ull;
	for (size_t i = 0; i < sizeof(r->msg); i += 8) {
		uint64_t v = next(x);

		memcpy((char *)&r->msg + i, &v,
		       sizeof(r->msg) - i < 8 ? sizeof(r->msg) - i : 8);
	}
	if (r->op == ISO_OUT_VM_EXIT)
		r->op = ISO_OUT_LOG; /* a VM exit would end this test's VM */
	for (unsigned i = 0; i < 64; i++)
		r->payload[i] = (uint8_t)next(x);
}

/* In the device process: garbage into the ring of effects and the cell. */
static void scribble(avm_ctx *ctx, uint64_t seed)
{
	struct iso_shm *m = ctx->self->isoc->shm;
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	unsigned n = (unsigned)(next(&x) % (2 * ISO_DEPTH));

	for (unsigned i = 0; i < n; i++) {
		uint64_t t = atomic_load(&m->out.tail);

		scribble_rec(&m->out.rec[t & (ISO_DEPTH - 1)], &x);
		/* Now and then an index that is a lie. */
		atomic_store(&m->out.tail,
			     next(&x) % 16 ? t + 1 : t + next(&x) % 4096);
		if (t - atomic_load(&m->out.head) >= ISO_DEPTH - 1)
			break; /* a ring's worth per go */
	}
	if (next(&x) % 4 == 0)
		atomic_store(&m->cell, (uint32_t)(next(&x) % 6));
	if (next(&x) % 8 == 0)
		atomic_store(&m->out.head, next(&x));
}

static void hostile_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	(void)state;
	if (m->kind == AVM_MSG_WRITE && m->access.offset == W_SCRIBBLE)
		scribble(ctx, m->access.value);
	else if (m->kind == AVM_MSG_READ)
		avm_reply(ctx, 7);
}

static const struct avm_region_desc regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 0x100 },
};
static const char *const ports[] = { "irq", "out" };

static const struct avm_device_ops hostile_ops = {
	.type = "hostile",
	.state_size = 8,
	.regions = regions,
	.n_regions = 1,
	.ports = ports,
	.n_ports = 2,
	.handle = hostile_handle,
};

static void probe_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	(void)state;
	if (m->kind == AVM_MSG_READ)
		avm_reply(ctx, 42);
}

static const struct avm_device_ops probe_ops = {
	.type = "probe",
	.state_size = 8,
	.regions = regions,
	.n_regions = 1,
	.handle = probe_handle,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void run_seeds(enum avm_exec_kind exec)
{
	struct avm_runtime_config cfg = { .exec = exec,
					  .read_deadline_ns = 2000000000ull,
					  .log_level = AVM_LOG_ERROR };
	struct avm_actor_spec d = {
		.ops = &hostile_ops,
		.name = "hostile",
		.isolation = { .process = true,
			       .max_restarts = 64,
			       .window_ns = 1 },
	};
	struct avm_actor_spec p = { .ops = &probe_ops, .name = "probe" };
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id dev, probe;
	unsigned answered = 0;
	uint64_t v;

	assert_int_equal(avm_runtime_new(&cfg, &rt), 0);
	assert_int_equal(avm_actor_create(rt, &p, &probe), 0);
	assert_int_equal(avm_actor_create(rt, &d, &dev), 0);
	assert_int_equal(avm_map(rt, dev, 0, DEV_MMIO), 0);
	assert_int_equal(avm_map(rt, probe, 0, PROBE_MMIO), 0);
	assert_int_equal(avm_bind(rt, dev, "irq", probe, 0), 0);
	assert_int_equal(avm_bind(rt, dev, "out", probe, 0), 0);
	assert_int_equal(avm_runtime_start(rt), 0);
	assert_int_equal(avm_accessor_new(rt, "test", &acc), 0);
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		avm_write(acc, AVM_SPACE_MMIO, DEV_MMIO + W_SCRIBBLE, 8, seed);
		/* Every read is answered (the device's 7, or all-ones). */
		assert_int_equal(avm_read(acc, AVM_SPACE_MMIO,
					  DEV_MMIO + R_ALIVE, 8, &v),
				 0);
		assert_true(v == 7 || v == UINT64_MAX);
		answered += v == 7;
		assert_int_equal(
			avm_read(acc, AVM_SPACE_MMIO, PROBE_MMIO, 8, &v), 0);
		assert_int_equal(v, 42);
	}
	print_message("%u of %u reads answered by a live process\n", answered,
		      SEEDS);
	/* It comes back: a restart gives a process that answers. */
	for (uint64_t g = now_ns() + 20000000000ull;;) {
		avm_read(acc, AVM_SPACE_MMIO, DEV_MMIO + R_ALIVE, 8, &v);
		if (v == 7)
			break;
		assert_true(now_ns() < g);
	}
	avm_accessor_free(acc);
	avm_runtime_free(rt);
}

static void hostile_threaded(void **st)
{
	(void)st;
	run_seeds(AVM_EXEC_THREADED);
}

static void hostile_deterministic(void **st)
{
	(void)st;
	run_seeds(AVM_EXEC_DETERMINISTIC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile_threaded),
		cmocka_unit_test(hostile_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
