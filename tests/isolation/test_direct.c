/* SPDX-License-Identifier: MIT */
/*
 * Direct (side-effect-free) registers of a device in a process of its own:
 * VCPUs read the values the process publishes in shared memory, without a
 * crossing, yet never one older than a write they posted, never a value of
 * a process that died, and the power-on value after a restart. The device
 * process is stopped (SIGSTOP) to show a read was answered in place: no
 * verdict rests on timing, waits are for a state, with a guard.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/isolation.h>
#include <actorvm/runtime.h>

#include "proc_wait.h"
#include "testdev.h"

#define BASE	 0x10000000ull
#define ID	 0x1d1d1dull
#define GUARD_NS 20000000000ull /* a hang guard, never a verdict */

struct rig {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id;
};

static void rig_up(struct rig *r, enum avm_on_failure pol)
{
	static const struct testdev_config tc = { .id = ID };
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED,
					  .read_deadline_ns = GUARD_NS,
					  .log_level = AVM_LOG_ERROR };
	struct avm_actor_spec s = {
		.ops = &testdev_ops,
		.name = "testdev",
		.config = &tc,
		.isolation = { .process = true,
			       .on_failure = pol,
			       .max_restarts = 8,
			       .window_ns = 1 },
	};

	assert_int_equal(avm_runtime_new(&cfg, &r->rt), 0);
	assert_int_equal(avm_actor_create(r->rt, &s, &r->id), 0);
	assert_int_equal(avm_map(r->rt, r->id, 0, BASE), 0);
	assert_int_equal(avm_runtime_start(r->rt), 0);
	assert_int_equal(avm_accessor_new(r->rt, "test", &r->acc), 0);
}

static void rig_down(struct rig *r)
{
	avm_accessor_free(r->acc);
	avm_runtime_free(r->rt);
}

static uint64_t rd(struct rig *r, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(avm_read(r->acc, AVM_SPACE_MMIO, BASE + off, 8, &v),
			 0);
	return v;
}

static void wr(struct rig *r, uint64_t off, uint64_t v)
{
	assert_int_equal(avm_write(r->acc, AVM_SPACE_MMIO, BASE + off, 8, v),
			 0);
}

static struct avm_process_info info(struct rig *r)
{
	return pw_info(r->rt, r->id);
}

static struct avm_process_info
wait_state(struct rig *r, enum avm_process_state st, unsigned restarts)
{
	return pw_wait_state(r->rt, r->id, st, restarts, GUARD_NS);
}

/* Read while the process is stopped: only an in-place answer returns. */
static void read_in_place_while_stopped(void **st)
{
	struct rig r;
	int pid;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_REMOVE);
	wr(&r, TESTDEV_SHADOW_SET, 0x1234);
	/* A non-direct read behind the write: the process handled both. */
	assert_int_equal(rd(&r, TESTDEV_WRITES), 1);
	pid = info(&r).pid;
	assert_int_equal(kill(pid, SIGSTOP), 0);
	/* A read that went to the process would wait for it (here, until
	 * the guard's deadline kills it, and then fail). */
	assert_int_equal(rd(&r, TESTDEV_ID), ID);
	assert_int_equal(rd(&r, TESTDEV_SHADOW), 0x1234);
	assert_int_equal(kill(pid, SIGCONT), 0);
	rig_down(&r);
}

struct resume {
	int pid;
	pthread_t t;
};

static void *resume_later(void *p)
{
	struct resume *rs = p;

	usleep(20000);
	kill(rs->pid, SIGCONT);
	return NULL;
}

/* A write the process has not handled yet: the direct read waits for it
 * (it goes to the process, behind the write), whenever the process runs. */
static void read_after_posted_write_sees_it(void **st)
{
	struct rig r;
	struct resume rs;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_REMOVE);
	wr(&r, TESTDEV_SHADOW_SET, 1);
	assert_int_equal(rd(&r, TESTDEV_SHADOW), 1);
	rs.pid = info(&r).pid;
	assert_int_equal(kill(rs.pid, SIGSTOP), 0);
	wr(&r, TESTDEV_SHADOW_SET, 2);
	assert_int_equal(pthread_create(&rs.t, NULL, resume_later, &rs), 0);
	assert_int_equal(rd(&r, TESTDEV_SHADOW), 2);
	pthread_join(rs.t, NULL);
	/* And many in a row, each read right behind its write. */
	for (uint64_t v = 3; v < 2000; v++) {
		wr(&r, TESTDEV_SHADOW_SET, v);
		assert_int_equal(rd(&r, TESTDEV_SHADOW), v);
	}
	rig_down(&r);
}

/* A removed device's direct registers read all-ones, like the rest. */
static void dead_process_reads_all_ones(void **st)
{
	struct rig r;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_REMOVE);
	assert_int_equal(rd(&r, TESTDEV_ID), ID);
	assert_int_equal(kill(info(&r).pid, SIGKILL), 0);
	wait_state(&r, AVM_PROC_REMOVED, 0);
	assert_int_equal(rd(&r, TESTDEV_ID), UINT64_MAX);
	assert_int_equal(rd(&r, TESTDEV_SHADOW), UINT64_MAX);
	rig_down(&r);
}

/* A restarted device publishes its power-on values, not the old ones. */
static void restart_publishes_power_on_values(void **st)
{
	struct rig r;
	int pid;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_RESTART);
	wr(&r, TESTDEV_SHADOW_SET, 0x77);
	assert_int_equal(rd(&r, TESTDEV_SHADOW), 0x77);
	assert_int_equal(kill(info(&r).pid, SIGKILL), 0);
	wait_state(&r, AVM_PROC_RUNNING, 1);
	/* Until its init is done the read goes to it: power-on either way. */
	assert_int_equal(rd(&r, TESTDEV_SHADOW), 0);
	assert_int_equal(rd(&r, TESTDEV_ID), ID);
	/* And, the new process stopped, still in place. */
	pid = info(&r).pid;
	assert_int_equal(rd(&r, TESTDEV_WRITES), 0);
	assert_int_equal(kill(pid, SIGSTOP), 0);
	assert_int_equal(rd(&r, TESTDEV_ID), ID);
	assert_int_equal(kill(pid, SIGCONT), 0);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_in_place_while_stopped),
		cmocka_unit_test(read_after_posted_write_sees_it),
		cmocka_unit_test(dead_process_reads_all_ones),
		cmocka_unit_test(restart_publishes_power_on_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
