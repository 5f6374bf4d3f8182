/* SPDX-License-Identifier: MIT */
/*
 * What a device process costs (docs/isolation.md): a synchronous read and a
 * posted write of a testdev in a process of its own, against the same in
 * the VMM's process (through its mailbox and on the fast path), and the
 * floors measured in the same run: a futex handoff and a spinning handoff
 * between two threads. Then the restart: from kill -9 to the device
 * answering again. Prints percentiles and ratios; never fails on timing.
 *   isolation_bench [-q]   (-q: a short smoke run)
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/isolation.h>
#include <actorvm/runtime.h>

#include "testdev.h"

#define BASE  0x10000000ull
#define BATCH 32

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1));

	return v[i];
}

/* Prints one row; returns its p50. */
static double report(const char *what, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp);
	printf("  %-44s p50 %9.0f  p99 %9.0f  p99.9 %9.0f  max %9.0f ns\n",
	       what, pct(v, n, 0.5), pct(v, n, 0.99), pct(v, n, 0.999),
	       v[n - 1]);
	return pct(v, n, 0.5);
}

/* --- floors: two threads hand a word back and forth ----------------------- */

struct pp {
	_Atomic uint32_t word;
	bool futex;
	size_t n;
};

static void hand(struct pp *p, uint32_t to)
{
	atomic_store(&p->word, to);
	if (p->futex)
		syscall(SYS_futex, &p->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
			0);
}

static void await(struct pp *p, uint32_t want)
{
	uint32_t v;

	while ((v = atomic_load(&p->word)) != want)
		if (p->futex)
			syscall(SYS_futex, &p->word, FUTEX_WAIT_PRIVATE, v,
				NULL, NULL, 0);
}

static void *echo(void *arg)
{
	struct pp *p = arg;

	for (size_t i = 0; i < p->n; i++) {
		await(p, 1);
		hand(p, 2);
	}
	return NULL;
}

static void floor_run(bool futex, double *ns, size_t n)
{
	struct pp p = { .futex = futex, .n = n };
	pthread_t t;

	pthread_create(&t, NULL, echo, &p);
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		hand(&p, 1);
		await(&p, 2);
		ns[i] = (double)(now_ns() - t0);
		atomic_store(&p.word, 0);
	}
	pthread_join(t, NULL);
}

/* --- the device -------------------------------------------------------------
 */

struct rig {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id;
};

static int rig_open(struct rig *r, int64_t spin, int fast_path, bool iso)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED,
					  .reply_spin_ns = spin,
					  .log_level = AVM_LOG_ERROR };
	struct avm_actor_spec s = {
		.ops = &testdev_ops,
		.name = "testdev",
		.spin_ns = spin,
		.fast_path = fast_path,
		.isolation = { .process = iso,
			       .max_restarts = 64,
			       .window_ns = 1 },
	};
	int err = avm_runtime_new(&cfg, &r->rt);

	if (!err)
		err = avm_actor_create(r->rt, &s, &r->id);
	if (!err)
		err = avm_map(r->rt, r->id, 0, BASE);
	if (!err)
		err = avm_runtime_start(r->rt);
	if (!err)
		err = avm_accessor_new(r->rt, "bench", &r->acc);
	return err;
}

static void rig_close(struct rig *r)
{
	avm_accessor_free(r->acc);
	avm_runtime_free(r->rt);
}

static int reads(struct rig *r, double *ns, size_t n)
{
	uint64_t v;

	for (size_t i = 0; i < n + n / 10; i++) {
		uint64_t t0 = now_ns();
		int err = avm_read(r->acc, AVM_SPACE_MMIO,
				   BASE + TESTDEV_SCRATCH, 8, &v);

		if (err)
			return err;
		if (i >= n / 10) /* the first tenth warms up */
			ns[i - n / 10] = (double)(now_ns() - t0);
	}
	return 0;
}

/* Caller-side cost of a posted write (a batch, then a read to drain). */
static int posts(struct rig *r, double *ns, size_t n)
{
	uint64_t v;

	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		for (unsigned j = 0; j < BATCH; j++)
			if (avm_write(r->acc, AVM_SPACE_MMIO,
				      BASE + TESTDEV_SCRATCH, 8, j))
				return -EIO;
		ns[i] = (double)(now_ns() - t0) / BATCH;
		if (avm_read(r->acc, AVM_SPACE_MMIO, BASE + TESTDEV_SCRATCH, 8,
			     &v))
			return -EIO;
	}
	return 0;
}

static double row(const char *what, int64_t spin, int fast, bool iso, bool post,
		  double *ns, size_t n)
{
	struct rig r = { 0 };
	int err = rig_open(&r, spin, fast, iso);

	if (!err)
		err = post ? posts(&r, ns, n) : reads(&r, ns, n);
	rig_close(&r);
	if (err) {
		fprintf(stderr, "isolation_bench: %s: %s\n", what,
			strerror(-err));
		exit(1);
	}
	return report(what, ns, n);
}

/* From kill -9 to the device answering again, @n times. */
static void restarts(double *ns, size_t n)
{
	struct rig r = { 0 };
	struct avm_process_info pi;
	uint64_t v;

	if (rig_open(&r, 0, 0, true)) {
		fprintf(stderr, "isolation_bench: restart rig failed\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t t0;

		avm_write(r.acc, AVM_SPACE_MMIO, BASE + TESTDEV_SCRATCH, 8, 5);
		avm_read(r.acc, AVM_SPACE_MMIO, BASE + TESTDEV_SCRATCH, 8, &v);
		avm_actor_process(r.rt, r.id, &pi);
		t0 = now_ns();
		kill(pi.pid, SIGKILL);
		/* All-ones until the new process answers (power-on: 0). */
		do
			avm_read(r.acc, AVM_SPACE_MMIO, BASE + TESTDEV_SCRATCH,
				 8, &v);
		while (v == UINT64_MAX);
		ns[i] = (double)(now_ns() - t0);
	}
	rig_close(&r);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "-q");
	size_t n = quick ? 2000 : 50000, nr = quick ? 5 : 50;
	double *ns = calloc(n + n / 10, sizeof(double));
	double fl_spin, fl_futex, in, in_mb, iso;

	printf("isolation_bench: %zu samples per row%s\n", n,
	       quick ? " (quick)" : "");
	printf("floors (two threads, one handoff each way):\n");
	floor_run(false, ns, n);
	fl_spin = report("spinning handoff", ns, n);
	floor_run(true, ns, n);
	fl_futex = report("futex handoff", ns, n);

	printf("synchronous read, servers spinning:\n");
	in = row("in-process, fast path", -1, 0, false, false, ns, n);
	in_mb = row("in-process, mailbox (fast path off)", -1, -1, false, false,
		    ns, n);
	iso = row("device process", -1, 0, true, false, ns, n);
	printf("  ratios: process/mailbox %.2fx (target 1.3x), "
	       "process/fast path %.2fx, process/spin floor %.2fx\n",
	       iso / in_mb, iso / in, iso / fl_spin);

	printf("synchronous read, servers sleeping (spin 1 ns):\n");
	in = row("in-process, fast path", 1, 0, false, false, ns, n);
	in_mb = row("in-process, mailbox (fast path off)", 1, -1, false, false,
		    ns, n);
	iso = row("device process", 1, 0, true, false, ns, n);
	printf("  ratios: process/mailbox %.2fx (target 1.3x), "
	       "process/fast path %.2fx, process/futex floor %.2fx\n",
	       iso / in_mb, iso / in, iso / fl_futex);

	printf("posted write, caller side, servers spinning:\n");
	in = row("in-process, fast path", -1, 0, false, true, ns, n / BATCH);
	in_mb = row("in-process, mailbox (fast path off)", -1, -1, false, true,
		    ns, n / BATCH);
	iso = row("device process", -1, 0, true, true, ns, n / BATCH);
	printf("  ratios: process/mailbox %.2fx (target 1.3x), "
	       "process/fast path %.2fx\n",
	       iso / in_mb, iso / in);

	printf("restart (kill -9 to the device answering again):\n");
	restarts(ns, nr);
	printf("  target: p50 <= 50 ms; p50 here %.2f ms\n",
	       report("restart", ns, nr) / 1e6);
	free(ns);
	return 0;
}
