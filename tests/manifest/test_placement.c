/* SPDX-License-Identifier: MIT */
/*
 * Where a manifest's real-time threads end up: a NIC's network actor runs
 * at the NIC's priority, and nng's shared I/O threads at the manifest's
 * highest. Checked on the threads themselves (/proc/self/task), so the
 * whole process is this test: nng must not have started before it.
 *
 * Needs SCHED_FIFO; where the host refuses it, the tests that need it
 * skip and say so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build.h"
#include "manifest.h"
#include "nng_threads.h"

static const char *guest_dir;

/* Two VMs on one wire: only VM a's NIC asks for a priority. */
static const char manifest[] = "vms:\n"
			       "  - name: a\n"
			       "    vcpus: [{ image: idle.elf }]\n"
			       "    devices:\n"
			       "      - { type: e1000, name: nic, slot: 3,\n"
			       "          network: lan, priority: 3 }\n"
			       "  - name: b\n"
			       "    vcpus: [{ image: idle.elf }]\n"
			       "    devices:\n"
			       "      - { type: e1000, name: nic, slot: 3,\n"
			       "          network: lan }\n"
			       "networks:\n"
			       "  - name: lan\n";

static void *nothing(void *arg)
{
	return arg;
}

/* Can this process start a SCHED_FIFO thread at all? */
static bool fifo_allowed(void)
{
	struct sched_param sp = { .sched_priority = 1 };
	pthread_attr_t a;
	pthread_t t;
	bool ok;

	pthread_attr_init(&a);
	pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&a, SCHED_FIFO);
	pthread_attr_setschedparam(&a, &sp);
	ok = !pthread_create(&t, &a, nothing, NULL);
	if (ok)
		pthread_join(t, NULL);
	pthread_attr_destroy(&a);
	return ok;
}

struct census {
	unsigned fifo, other; /* threads with the name, by policy */
	int prio;	      /* the FIFO ones' priority (the last seen) */
};

/* Threads of this process whose name starts with @prefix. */
static struct census count_threads(const char *prefix)
{
	struct census c = { 0 };
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[64], comm[32] = "";
		int tid = atoi(e->d_name);
		struct sched_param sp;
		FILE *f;

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strncmp(comm, prefix, strlen(prefix)))
			continue;
		if (sched_getscheduler(tid) == SCHED_FIFO &&
		    !sched_getparam(tid, &sp)) {
			c.fifo++;
			c.prio = sp.sched_priority;
		} else {
			c.other++;
		}
	}
	closedir(d);
	return c;
}

/*
 * A thread a wire's thread creates (nng starts some of its threads lazily)
 * carries the creator's name until it renames itself, and a busy host can
 * show it in between: take the census again until it settles (bounded by a
 * hang guard; a wrong placement never settles to the expected counts).
 */
static struct census settled(const char *prefix, struct census want)
{
	struct timespec t0, now, nap = { 0, 10 * 1000 * 1000 };
	struct census c;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		c = count_threads(prefix);
		if (!memcmp(&c, &want, sizeof(c)))
			return c;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 60)
			return c;
		nanosleep(&nap, NULL);
	}
}

static void network_and_nng_threads(void **unused)
{
	struct mf_manifest *m = NULL;
	struct mf_run *r = calloc(1, sizeof(*r));
	struct mf_build_opts o = { .guest_dir = guest_dir };
	struct census net, poll;
	char err[512];

	(void)unused;
	if (!fifo_allowed()) {
		print_message("SKIP: SCHED_FIFO is refused here; thread "
			      "priorities cannot be checked\n");
		free(r);
		skip();
	}
	assert_non_null(r);
	assert_int_equal(mf_load("t.yaml", manifest, strlen(manifest), &m), 0);
	assert_int_equal(mf_check(m, guest_dir), 0);
	assert_int_equal(mf_build(r, m, &o, err, sizeof(err)), 0);
	assert_int_equal(mf_start(r, err, sizeof(err)), 0);
	/* Each wire actor has a thread of its name: a's at its NIC's FIFO 3,
	 * b's at normal priority like its NIC. */
	net = settled("net.lan",
		      (struct census){ .fifo = 1, .other = 1, .prio = 3 });
	assert_int_equal(net.fifo, 1);
	assert_int_equal(net.prio, 3);
	assert_int_equal(net.other, 1);
	/* nng's poller serves both wires: at the highest priority asked. */
	poll = count_threads("nng:poll");
	assert_true(poll.fifo >= 1);
	assert_int_equal(poll.other, 0);
	assert_int_equal(poll.prio, 3);
	mf_fini(r);
	free(r);
	mf_free(m);
}

static void nng_threads_arguments(void **unused)
{
	char why[160] = "";

	(void)unused;
	/* 0: nothing to do; out of range: refused with a reason. */
	assert_int_equal(mf_nng_threads_start(0, why, sizeof(why)), 0);
	assert_int_equal(mf_nng_threads_start(100, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "SCHED_FIFO priority 100"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(network_and_nng_threads),
		cmocka_unit_test(nng_threads_arguments),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: test_placement GUEST_DIR\n");
		return 2;
	}
	guest_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
