/* SPDX-License-Identifier: MIT */
/* Shared set-up for the framework tests: a runtime with testdevs mapped. */
#ifndef TEST_FIXTURE_H
#define TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include <actorvm/deterministic.h>
#include <actorvm/runtime.h>

#include "testdev.h"

#define FIX_RAM_SIZE (1u << 20)
#define FIX_MMIO(i)  (0xf0000000ull + (uint64_t)(i)*0x10000)
#define FIX_PIO(i)   (0x100u + (unsigned)(i)*0x10)
#define FIX_MAX_DEVS 4
/* Hang guard of every wait in these tests, and their read deadline unless
 * a test sets one: far beyond what a sanitizer build on a loaded machine
 * needs, so that a bug fails a test and slowness does not. */
#define FIX_GUARD_NS 60000000000ull

struct fixture {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id dev[FIX_MAX_DEVS];
	unsigned n_dev;
	uint8_t *ram;
};

/* A runtime of @exec with @n testdevs "dev0".. mapped at FIX_MMIO(i) and
 * FIX_PIO(i), 1 MiB of RAM at 0, started, and an accessor. */
static inline void fix_up(struct fixture *f, enum avm_exec_kind exec,
			  unsigned n, const struct avm_runtime_config *base)
{
	struct avm_runtime_config cfg =
		base ? *base : (struct avm_runtime_config){ 0 };
	char name[16];

	cfg.exec = exec;
	if (!cfg.read_deadline_ns)
		cfg.read_deadline_ns = FIX_GUARD_NS;
	f->n_dev = n;
	assert_int_equal(avm_runtime_new(&cfg, &f->rt), 0);
	assert_int_equal(avm_ram_add(f->rt, 0, FIX_RAM_SIZE, (void **)&f->ram),
			 0);
	for (unsigned i = 0; i < n; i++) {
		struct avm_actor_spec s = { .ops = &testdev_ops, .name = name };

		snprintf(name, sizeof(name), "dev%u", i);
		assert_int_equal(avm_actor_create(f->rt, &s, &f->dev[i]), 0);
		assert_int_equal(avm_map(f->rt, f->dev[i], 0, FIX_MMIO(i)), 0);
		assert_int_equal(avm_map(f->rt, f->dev[i], 1, FIX_PIO(i)), 0);
	}
}

static inline void fix_start(struct fixture *f)
{
	assert_int_equal(avm_runtime_start(f->rt), 0);
	assert_int_equal(avm_accessor_new(f->rt, "test", &f->acc), 0);
}

static inline void fix_down(struct fixture *f)
{
	avm_accessor_free(f->acc);
	avm_runtime_free(f->rt);
}

static inline uint64_t fix_rd(struct fixture *f, unsigned dev, unsigned reg)
{
	uint64_t v = 0;

	assert_int_equal(
		avm_read(f->acc, AVM_SPACE_MMIO, FIX_MMIO(dev) + reg, 8, &v),
		0);
	return v;
}

static inline void fix_wr(struct fixture *f, unsigned dev, unsigned reg,
			  uint64_t v)
{
	assert_int_equal(
		avm_write(f->acc, AVM_SPACE_MMIO, FIX_MMIO(dev) + reg, 8, v),
		0);
}

static inline void fix_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static inline uint64_t fix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Whether a wait that began at @t0 may go on (FIX_GUARD_NS). */
static inline bool fix_guard(uint64_t t0)
{
	return fix_now_ns() - t0 < FIX_GUARD_NS;
}

/* Let time pass: virtual time in the deterministic executor, real time
 * (in short naps) elsewhere. */
static inline void fix_pass(struct fixture *f, uint64_t ns)
{
	if (avm_runtime_exec(f->rt) == AVM_EXEC_DETERMINISTIC)
		assert_int_equal(avm_det_advance(f->rt, ns), 0);
	else
		fix_sleep_ms((unsigned)(ns / 1000000) + 1);
}

/* Poll register @reg of @dev until it equals @want (FIX_GUARD_NS at most,
 * so a bug fails the test instead of hanging it); returns the last value. */
static inline uint64_t fix_wait_reg(struct fixture *f, unsigned dev,
				    unsigned reg, uint64_t want)
{
	uint64_t v = 0, t0 = fix_now_ns();

	while (fix_guard(t0)) {
		if (avm_runtime_exec(f->rt) == AVM_EXEC_DETERMINISTIC)
			avm_det_run(f->rt, 0);
		v = fix_rd(f, dev, reg);
		if (v == want)
			break;
		fix_sleep_ms(1);
	}
	return v;
}

#endif /* TEST_FIXTURE_H */
