/* SPDX-License-Identifier: MIT */
/*
 * A journal recorded on the threaded executor, where the journaled actor's
 * handler runs on its own thread and, on the fast path, on its senders'
 * threads: two accessor threads write and read testdev at once, with its
 * timer armed and its continuations running, while a third sends it PINGs.
 * The journal must come out whole (numbered without gaps, whatever thread
 * recorded each entry) and replay identically. In the concurrency suite, so
 * ThreadSanitizer checks the recording too. No verdict rests on timing:
 * however the threads interleave, the journal is what happened.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <actorvm/replay.h>
#include <actorvm/runtime.h>

#include "testdev.h"

#define BASE   0xf0000000ull
#define ROUNDS 2000

struct driver {
	avm_runtime *rt;
	avm_accessor *acc;
	unsigned id;
	int err;
};

static void *drive(void *arg)
{
	struct driver *d = arg;
	uint64_t v;

	for (unsigned i = 0; i < ROUNDS && !d->err; i++) {
		d->err = avm_write(d->acc, AVM_SPACE_MMIO, BASE + TESTDEV_SEQ,
				   8, (uint64_t)d->id << 32 | (i + 1));
		if (!d->err && i % 100 == 0)
			d->err = avm_write(d->acc, AVM_SPACE_MMIO,
					   BASE + TESTDEV_TIMER, 8, 1000);
		if (!d->err && i % 250 == 0)
			d->err = avm_write(d->acc, AVM_SPACE_MMIO,
					   BASE + TESTDEV_WORK, 8, 3);
		if (!d->err)
			d->err = avm_read(d->acc, AVM_SPACE_MMIO,
					  BASE + TESTDEV_SEQ_TOTAL, 8, &v);
	}
	return NULL;
}

static void *ping(void *arg)
{
	struct driver *d = arg;
	avm_actor_id id;

	d->err = avm_actor_find(d->rt, "dev", &id);
	for (unsigned i = 0; i < ROUNDS / 4 && !d->err; i++) {
		struct avm_msg m = { .kind = TESTDEV_MSG_PING,
				     .user = { .value = i, .addr = 0 } };

		d->err = avm_post(d->acc, id, &m);
		if (d->err == -EAGAIN) /* a full mailbox: try again */
			d->err = 0;
	}
	return NULL;
}

static int record(const char *path)
{
	static const char *const journal[] = { "dev", NULL };
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED };
	struct avm_actor_spec s = { .ops = &testdev_ops, .name = "dev" };
	struct avm_trace_options o = { .path = path, .journal = journal };
	struct driver d[3] = { { .id = 1 }, { .id = 2 }, { .id = 3 } };
	pthread_t th[3];
	avm_runtime *rt;
	avm_actor_id id;

	assert_int_equal(avm_runtime_new(&cfg, &rt), 0);
	assert_int_equal(avm_actor_create(rt, &s, &id), 0);
	assert_int_equal(avm_map(rt, id, 0, BASE), 0);
	assert_int_equal(avm_trace_start(rt, &o), 0);
	assert_int_equal(avm_runtime_start(rt), 0);
	for (int i = 0; i < 3; i++) {
		d[i].rt = rt;
		assert_int_equal(avm_accessor_new(rt, "vcpu", &d[i].acc), 0);
		assert_int_equal(pthread_create(&th[i], NULL,
						i < 2 ? drive : ping, &d[i]),
				 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(d[i].err, 0);
	}
	/* The runtime stops before the trace: every journal is whole. */
	avm_runtime_stop(rt);
	assert_int_equal(avm_trace_stop(rt), 0);
	for (int i = 0; i < 3; i++)
		avm_accessor_free(d[i].acc);
	avm_runtime_free(rt);
	return 0;
}

static void threaded_journal_replays(void **state)
{
	char path[] = "/tmp/avm-journal-threaded-XXXXXX";
	struct avm_replay_opts o = { .ops = &testdev_ops };
	struct avm_replay_result res;
	avm_journal *j;
	char err[512];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	record(path);
	if (avm_journal_load(path, "dev", &j, err, sizeof(err)))
		fail_msg("%s", err);
	assert_false(avm_journal_get_info(j)->cut);
	/* 2 x ROUNDS writes and reads at least, and some of the pings. */
	assert_true(avm_journal_get_info(j)->messages >= 4 * ROUNDS);
	assert_int_equal(avm_replay_run(j, &o, &res), 0);
	if (res.diverged)
		fail_msg("%s", res.report);
	assert_int_equal(res.messages, avm_journal_get_info(j)->messages);
	avm_journal_free(j);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threaded_journal_replays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
