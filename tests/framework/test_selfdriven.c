/* SPDX-License-Identifier: MIT */
/* Self-driven actors (ops->run): a fake VCPU that runs long "guest slices",
 * is kicked out of them by messages, halts until a message comes, and stops
 * promptly. A broken kick shows as a read that times out, not as a timing
 * threshold. */
#include "fixture.h"

#include <pthread.h>
#include <stdatomic.h>

#include "reply.h" /* avm_mono_ns */

/* Only a kick ends a slice: a read served while the actor is in one
 * proves the kick. The slice's own end is a hang guard, not a threshold. */
#define SLICE_NS 3600000000000ll
/* Hang guard of every wait here (and of each read), far beyond what a
 * sanitizer build on a loaded machine needs: a bug fails, slowness not. */
#define GUARD_NS 60000000000ull

struct fake_cfg {
	bool return_at_once;
	int64_t wait_ns;   /* halt timeout, -1 for none */
	uint64_t timer_ns; /* >0: run() arms a periodic timer (no handler) */
	atomic_int *finished;
	atomic_int *in_slice; /* for the test: busy, not polling */
};

struct fake_vcpu {
	struct fake_cfg cfg;
	atomic_int kicked; /* the kick's only link to the state */
	bool halted;
	uint64_t slices, kicks, irqs, timeouts, timers, foreign;
	pthread_t runner; /* the thread run() is on */
	bool running;
};

enum {
	R_KICKS = 0,
	R_IRQS = 8,
	R_HALT = 16,
	R_TIMEOUTS = 24,
	R_TIMERS = 32,
	R_FOREIGN = 40,
};

static void fake_kick(void *arg)
{
	atomic_store((atomic_int *)arg, 1);
}

static int fake_init(void *state, const void *config, avm_ctx *ctx)
{
	struct fake_vcpu *s = state;

	s->cfg = *(const struct fake_cfg *)config;
	return avm_set_kick(ctx, fake_kick, &s->kicked);
}

static void fake_fini(void *state)
{
	struct fake_vcpu *s = state;

	atomic_store(s->cfg.finished, 1);
}

static uint64_t reg(struct fake_vcpu *s, uint64_t off)
{
	switch (off) {
	case R_KICKS:
		return s->kicks;
	case R_IRQS:
		return s->irqs;
	case R_HALT:
		return s->halted;
	case R_TIMERS:
		return s->timers;
	case R_FOREIGN:
		return s->foreign;
	default:
		return s->timeouts;
	}
}

static void fake_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct fake_vcpu *s = state;

	/* The state belongs to run()'s thread: a handler elsewhere is a bug
	 * (under biglock: a sender running it on its own thread). */
	if (s->running && !pthread_equal(s->runner, pthread_self()))
		s->foreign++;
	if (m->kind == AVM_MSG_TIMER)
		s->timers++;
	else if (m->kind == AVM_MSG_READ)
		avm_reply(ctx, reg(s, m->access.offset));
	else if (m->kind == AVM_MSG_WRITE && m->access.offset == R_HALT)
		s->halted = m->access.value;
	else if (m->kind == AVM_MSG_IRQ)
		s->irqs++, s->halted = false; /* an interrupt ends HLT */
}

/* A guest slice: busy until kicked or SLICE_NS passed. */
static void slice(struct fake_vcpu *s)
{
	uint64_t t0 = avm_mono_ns();

	atomic_store(s->cfg.in_slice, 1);
	while (!atomic_exchange(&s->kicked, 0)) {
		if (avm_mono_ns() - t0 > (uint64_t)SLICE_NS) {
			s->slices++;
			atomic_store(s->cfg.in_slice, 0);
			return;
		}
	}
	s->kicks++;
	atomic_store(s->cfg.in_slice, 0);
}

static int fake_run(void *state, avm_ctx *ctx)
{
	struct fake_vcpu *s = state;
	int err;

	s->runner = pthread_self();
	s->running = true;
	if (s->cfg.return_at_once)
		return 0;
	/* Outside any handler: under biglock this takes the lock itself. */
	if (s->cfg.timer_ns)
		avm_timer_arm(ctx, 0, s->cfg.timer_ns, s->cfg.timer_ns);
	while (!(err = avm_poll(ctx))) {
		if (!s->halted) {
			slice(s);
			continue;
		}
		err = avm_wait(ctx, s->cfg.wait_ns);
		if (err == -ETIMEDOUT)
			s->timeouts++;
		else if (err)
			break;
	}
	return err;
}

static const struct avm_region_desc fake_regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 48 },
};

static const struct avm_device_ops fake_ops = {
	.type = "fake-vcpu",
	.state_size = sizeof(struct fake_vcpu),
	.regions = fake_regions,
	.n_regions = 1,
	.init = fake_init,
	.handle = fake_handle,
	.fini = fake_fini,
	.run = fake_run,
};

struct vm {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id;
	atomic_int finished;
	atomic_int in_slice;
};

/* Every test runs on both executors that run self-driven actors. */
static enum avm_exec_kind exec_of(void **state)
{
	return *(enum avm_exec_kind *)*state;
}

static void vm_up(struct vm *vm, struct fake_cfg cfg, enum avm_exec_kind exec)
{
	struct avm_actor_spec s = { .ops = &fake_ops,
				    .name = "vcpu0",
				    .config = &cfg };
	struct avm_runtime_config rc = { .exec = exec,
					 .read_deadline_ns = GUARD_NS };

	atomic_init(&vm->finished, 0);
	atomic_init(&vm->in_slice, 0);
	cfg.finished = &vm->finished;
	cfg.in_slice = &vm->in_slice;
	assert_int_equal(avm_runtime_new(&rc, &vm->rt), 0);
	assert_int_equal(avm_actor_create(vm->rt, &s, &vm->id), 0);
	assert_int_equal(avm_map(vm->rt, vm->id, 0, 0x1000), 0);
	assert_int_equal(avm_runtime_start(vm->rt), 0);
	assert_int_equal(avm_accessor_new(vm->rt, "t", &vm->acc), 0);
}

static uint64_t rd(struct vm *vm, uint64_t off)
{
	uint64_t v = 0;

	/* The deadline is a hang guard (GUARD_NS), below SLICE_NS. */
	assert_int_equal(avm_read(vm->acc, AVM_SPACE_MMIO, 0x1000 + off, 8, &v),
			 0);
	return v;
}

static void vm_down(struct vm *vm)
{
	avm_accessor_free(vm->acc);
	avm_runtime_free(vm->rt); /* must not wait for a 10 s slice */
	assert_int_equal(atomic_load(&vm->finished), 1);
}

/* Wait until reading @reg gives at least @min (GUARD_NS at most). */
static uint64_t wait_reg(struct vm *vm, uint64_t reg, uint64_t min)
{
	uint64_t t0 = avm_mono_ns(), v;

	while ((v = rd(vm, reg)) < min && avm_mono_ns() - t0 < GUARD_NS)
		fix_sleep_ms(1);
	return v;
}

/* Wait until the actor is in a guest slice, where it does not poll. */
static void wait_busy(struct vm *vm)
{
	uint64_t t0 = avm_mono_ns();

	while (!atomic_load(&vm->in_slice) && avm_mono_ns() - t0 < GUARD_NS)
		sched_yield();
	assert_true(atomic_load(&vm->in_slice));
}

static void busy_actor_is_kicked_for_reads(void **state)
{
	struct vm vm;

	vm_up(&vm, (struct fake_cfg){ .wait_ns = -1 }, exec_of(state));
	/* Each read is posted while the actor is in a slice that only a
	 * kick ends: that it is answered at all proves the kick. The read's
	 * own kick is the only one pending, so there is one kick per read
	 * whatever the scheduling. */
	for (int i = 0; i < 20; i++) {
		wait_busy(&vm);
		rd(&vm, R_IRQS);
	}
	assert_true(rd(&vm, R_KICKS) >= 20);
	vm_down(&vm);
}

static void halted_actor_wakes_on_irq(void **state)
{
	struct avm_msg irq = { .kind = AVM_MSG_IRQ, .irq.level = 1 };
	struct vm vm;

	vm_up(&vm, (struct fake_cfg){ .wait_ns = -1 }, exec_of(state));
	assert_int_equal(
		avm_write(vm.acc, AVM_SPACE_MMIO, 0x1000 + R_HALT, 8, 1), 0);
	assert_int_equal(rd(&vm, R_HALT), 1);
	assert_int_equal(avm_post(vm.acc, vm.id, &irq), 0);
	/* The IRQ travels on the background lane: a read (access lane) may
	 * overtake it, so poll until it was handled. */
	assert_int_equal(wait_reg(&vm, R_IRQS, 1), 1);
	assert_int_equal(rd(&vm, R_HALT), 0);
	/* The test thread's IRQ and reads ran on the actor's thread. */
	assert_int_equal(rd(&vm, R_FOREIGN), 0);
	vm_down(&vm);
}

static void halt_wait_times_out(void **state)
{
	struct vm vm;

	vm_up(&vm, (struct fake_cfg){ .wait_ns = 1000000 }, exec_of(state));
	assert_int_equal(
		avm_write(vm.acc, AVM_SPACE_MMIO, 0x1000 + R_HALT, 8, 1), 0);
	assert_true(wait_reg(&vm, R_TIMEOUTS, 3) >= 3);
	vm_down(&vm);
}

/* A timer armed from run(), outside every handler (a local APIC's), fires,
 * and its expiry is handled on the actor's thread, not the iothread's. */
static void timer_from_run_is_handled_at_home(void **state)
{
	struct vm vm;

	vm_up(&vm, (struct fake_cfg){ .wait_ns = -1, .timer_ns = 1000000 },
	      exec_of(state));
	assert_int_equal(
		avm_write(vm.acc, AVM_SPACE_MMIO, 0x1000 + R_HALT, 8, 1), 0);
	assert_true(wait_reg(&vm, R_TIMERS, 5) >= 5);
	assert_int_equal(rd(&vm, R_FOREIGN), 0);
	vm_down(&vm);
}

/* run() returned at once: the mailbox is still served until the stop. */
static void early_return_keeps_serving(void **state)
{
	struct vm vm;

	vm_up(&vm, (struct fake_cfg){ .return_at_once = true }, exec_of(state));
	assert_int_equal(rd(&vm, R_KICKS), 0);
	vm_down(&vm);
}

static void deterministic_refuses(void **unused)
{
	struct fake_cfg cfg = { 0 };
	struct avm_actor_spec s = { .ops = &fake_ops,
				    .name = "v",
				    .config = &cfg };

	struct avm_runtime_config c = { .exec = AVM_EXEC_DETERMINISTIC };
	avm_runtime *rt;
	avm_actor_id id;

	(void)unused;
	assert_int_equal(avm_runtime_new(&c, &rt), 0);
	assert_int_equal(avm_actor_create(rt, &s, &id), -ENOTSUP);
	avm_runtime_free(rt);
}

static enum avm_exec_kind threaded = AVM_EXEC_THREADED;
static enum avm_exec_kind biglock = AVM_EXEC_BIGLOCK;

#define BOTH(fn)                                                               \
	cmocka_unit_test_prestate(fn, &threaded),                              \
		cmocka_unit_test_prestate(fn, &biglock)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(busy_actor_is_kicked_for_reads),
		BOTH(halted_actor_wakes_on_irq),
		BOTH(halt_wait_times_out),
		BOTH(timer_from_run_is_handled_at_home),
		BOTH(early_return_keeps_serving),
		cmocka_unit_test(deterministic_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
