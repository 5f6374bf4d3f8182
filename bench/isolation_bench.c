/* SPDX-License-Identifier: MIT */
/*
 * What a device process costs (docs/isolation.md): a synchronous read, a
 * posted write and a direct (side-effect-free) register read of a testdev
 * in a process of its own, against the same in
 * the VMM's process (on the fast path and through its mailbox), the three
 * measured in alternating blocks so that they see the same host; the floors
 * of the same run: a spinning and a futex handoff between two threads.
 * Then the restart: from kill -9 to the device answering again. Prints
 * percentiles and ratios; never fails on timing.
 *   isolation_bench [-q|--quick] [-h|--help]   (-q: a short smoke run)
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

enum access { READ, POST, DIRECT };

/* One timed access: a read, or a batch of posted writes (per write). */
static int sample(struct rig *r, enum access how, double *ns)
{
	uint64_t t0 = now_ns(), v;
	int err = 0;

	if (how != POST) {
		err = avm_read(
			r->acc, AVM_SPACE_MMIO,
			BASE + (how == DIRECT ? TESTDEV_ID : TESTDEV_SCRATCH),
			8, &v);
		*ns = (double)(now_ns() - t0);
		return err;
	}
	for (unsigned j = 0; j < BATCH && !err; j++)
		err = avm_write(r->acc, AVM_SPACE_MMIO, BASE + TESTDEV_SCRATCH,
				8, j);
	*ns = (double)(now_ns() - t0) / BATCH;
	/* Drain before the next batch: the caller side alone is timed. */
	return err
		       ?: avm_read(r->acc, AVM_SPACE_MMIO,
				   BASE + TESTDEV_SCRATCH, 8, &v);
}

/*
 * The three ways (fast path, mailbox, device process) in alternating
 * blocks: this host's handoff costs drift by tens of percent from one
 * minute to the next, and a ratio means something only if all three saw
 * the same host. Each block's first WARM samples are not kept (a server
 * idle during the others' blocks may have gone to sleep).
 */
#define BLOCK 500
#define WARM  50

static int compare(const char *title, int64_t spin, enum access how,
		   double *ns[3], size_t n, double p50[3])
{
	static const char *const what[3] = {
		"in-process, fast path", "in-process, mailbox (fast path off)",
		"device process"
	};
	struct rig r[3] = { 0 };
	size_t got = 0;
	int err = rig_open(&r[0], spin, 0, false) ?:
			  rig_open(&r[1], spin, -1, false) ?:
			  rig_open(&r[2], spin, 0, true);

	printf("%s:\n", title);
	for (size_t k = 0; !err && got < n; k++, got += BLOCK - WARM)
		for (int w = 0; w < 3 && !err; w++)
			for (size_t i = 0; i < BLOCK && !err; i++) {
				double t;

				err = sample(&r[w], how, &t);
				if (i >= WARM && got + i - WARM < n)
					ns[w][got + i - WARM] = t;
			}
	for (int w = 2; w >= 0; w--)
		rig_close(&r[w]);
	if (err) {
		fprintf(stderr, "isolation_bench: %s: %s\n", title,
			strerror(-err));
		return err;
	}
	for (int w = 0; w < 3; w++)
		p50[w] = report(what[w], ns[w], n);
	return 0;
}

#define RESTART_GUARD_NS 10000000000ull /* a hang guard, not a target */

/* One restart: from kill -9 until the device answers again, in @ns. */
static int restart_once(struct rig *r, double *ns)
{
	struct avm_process_info pi;
	uint64_t v, t0;
	int err = avm_write(r->acc, AVM_SPACE_MMIO, BASE + TESTDEV_SCRATCH, 8,
			    5) ?:
			  avm_read(r->acc, AVM_SPACE_MMIO,
				   BASE + TESTDEV_SCRATCH, 8, &v) ?:
			  avm_actor_process(r->rt, r->id, &pi);

	if (err)
		return err;
	t0 = now_ns();
	if (kill(pi.pid, SIGKILL))
		return -errno;
	/* All-ones until the new process answers (power-on: 0). */
	do {
		err = avm_read(r->acc, AVM_SPACE_MMIO, BASE + TESTDEV_SCRATCH,
			       8, &v);
		if (!err && v == UINT64_MAX && now_ns() - t0 > RESTART_GUARD_NS)
			err = -ETIMEDOUT;
	} while (!err && v == UINT64_MAX);
	*ns = (double)(now_ns() - t0);
	return err;
}

/* From kill -9 to the device answering again, @n times. */
static int restarts(double *ns, size_t n)
{
	struct rig r = { 0 };
	int err = rig_open(&r, 0, 0, true);

	for (size_t i = 0; i < n && !err; i++)
		err = restart_once(&r, &ns[i]);
	rig_close(&r);
	if (err)
		fprintf(stderr, "isolation_bench: restart: %s\n",
			strerror(-err));
	return err;
}

static void ratios(const double p50[3], double fl, const char *fl_name,
		   bool read)
{
	printf("  ratios: process/mailbox %.2fx (target 1.3x), process/fast "
	       "path %.2fx",
	       p50[2] / p50[1], p50[2] / p50[0]);
	if (read)
		printf(", process/%s floor %.2fx", fl_name, p50[2] / fl);
	printf("\n");
}

/* The four tables, each with its ratios. */
static int run_tables(double *ns[3], size_t n, double fl_spin, double fl_futex)
{
	double p50[3];
	/* Spinning: 1 ms, so a server stays awake through its block. */
	int err = compare("synchronous read, servers spinning", 1000000, READ,
			  ns, n, p50);

	if (!err)
		ratios(p50, fl_spin, "spin", true);
	err = err
		      ?: compare("synchronous read, servers sleeping (spin 1 "
				 "ns)",
				 1, READ, ns, n, p50);
	if (!err)
		ratios(p50, fl_futex, "futex", true);
	err = err
		      ?: compare("posted write, caller side, servers spinning",
				 1000000, POST, ns, n / BATCH, p50);
	if (!err)
		ratios(p50, 0, NULL, false);
	/* Servers asleep: a direct read must not need them. */
	err = err
		      ?: compare("direct register read (ID), servers sleeping "
				 "(spin 1 ns)",
				 1, DIRECT, ns, n, p50);
	if (!err)
		ratios(p50, 0, NULL, false);
	return err;
}

static const char usage[] =
	"usage: isolation_bench [-q|--quick]\n"
	"What a device process costs against the same device in the VMM's\n"
	"process: synchronous reads (servers spinning, then sleeping), posted\n"
	"writes and direct register reads, in alternating blocks, with the\n"
	"floors of the same run; then restarts, kill -9 to the device\n"
	"answering again (docs/isolation.md, \"What it costs\").\n"
	"  -q, --quick   fewer samples (a smoke run)\n"
	"  -h, --help    this text\n"
	"Exit status: 0 when every measurement completed, 1 otherwise, 2 on a\n"
	"usage error. Timing never fails the run.\n";

int main(int argc, char **argv)
{
	bool quick = false;
	size_t n, nr;
	double *buf;
	double *ns[3];
	double fl_spin, fl_futex;
	int err;

	for (int i = 1; i < argc; i++) {
		bool help =
			!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help");

		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quick")) {
			quick = true;
			continue;
		}
		fputs(usage, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	n = quick ? 2000 : 45000;
	nr = quick ? 5 : 50;
	buf = calloc(3 * n, sizeof(double));
	if (!buf)
		return 1;
	ns[0] = buf;
	ns[1] = buf + n;
	ns[2] = buf + 2 * n;
	printf("isolation_bench: %zu samples per row, the three of a table "
	       "in alternating blocks of %d%s\n",
	       n, BLOCK, quick ? " (quick)" : "");
	printf("floors (two threads, one handoff each way):\n");
	floor_run(false, ns[0], n);
	fl_spin = report("spinning handoff", ns[0], n);
	floor_run(true, ns[0], n);
	fl_futex = report("futex handoff", ns[0], n);
	err = run_tables(ns, n, fl_spin, fl_futex);
	if (!err)
		printf("restart (kill -9 to the device answering again):\n");
	if (!err && !(err = restarts(ns[0], nr)))
		printf("  target: p50 <= 50 ms; p50 here %.2f ms\n",
		       report("restart", ns[0], nr) / 1e6);
	free(buf);
	return err ? 1 : 0;
}
