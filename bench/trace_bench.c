/* SPDX-License-Identifier: MIT */
/*
 * The cost of tracing, measured in one run on this machine:
 *  1. one event site while tracing is off (a relaxed load and a branch),
 *     against an empty loop;
 *  2. one recorded event (ring reserve, fill, commit; the writer thread
 *     drains concurrently);
 *  3. end to end, per message: a synchronous read to a spinning actor (five
 *     events: posted, dequeued, handler start, reply, handler end) and a
 *     posted write (four events), each with tracing off and on, alternating
 *     blocks so that host drift hits both alike.
 *  4. the same with the journal of the actor on (trace.journal: every
 *     message and call in full, for `actorvm replay`), against tracing off;
 *  5. replay speed: a journal of reads and posted writes recorded without
 *     a pause, replayed alone on the deterministic executor, per message,
 *     against the same messages handled live.
 * Prints p50/p99/p99.9/max and the added cost per message. Reports; never
 * fails on timing.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/replay.h>
#include <actorvm/trace.h>

#include "internal.h"
#include "testdev.h"

#define BASE  0xf0000000ull
#define BATCH 64

struct series {
	uint64_t *v;
	size_t n;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(struct series *s, double p)
{
	size_t i = (size_t)(p * (double)(s->n - 1));

	return (double)s->v[i];
}

static void print_row(const char *name, struct series *s, double div)
{
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	printf("%-40s %8zu %9.1f %9.1f %9.1f %10.1f\n", name, s->n,
	       pct(s, 0.5) / div, pct(s, 0.99) / div, pct(s, 0.999) / div,
	       (double)s->v[s->n - 1] / div);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "trace_bench: warning: cannot pin to CPU %d\n",
			cpu);
}

/* 1 and 2: batches of BATCH event sites, per-site ns in tenths. */
static void site_cost(avm_runtime *rt, size_t n, struct series *off,
		      struct series *empty, struct series *on)
{
	struct avm_msg m = { .kind = AVM_MSG_WRITE, .access.size = 8 };
	volatile uint64_t sink = 0;
	/* Stay well inside the 64 MiB ring (~100 bytes a record): recorded
	 * events, not the drop path, are what this measures. */
	size_t n_on = n < 4000 ? n : 4000;

	avm_trace_pause(rt, true);
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		for (int k = 0; k < BATCH; k++) {
			AVM_TRACE_MSG(rt, AVM_TRACE_POSTED, 0, &m);
			__asm__ __volatile__("" ::: "memory");
		}
		uint64_t t1 = now_ns();

		for (int k = 0; k < BATCH; k++) {
			sink += (uint64_t)k;
			__asm__ __volatile__("" ::: "memory");
		}
		uint64_t t2 = now_ns();

		off->v[i] = (t1 - t0) * 10 / BATCH;
		empty->v[i] = (t2 - t1) * 10 / BATCH;
	}
	avm_trace_pause(rt, false);
	for (size_t i = 0; i < n_on; i++) {
		uint64_t t0 = now_ns();

		for (int k = 0; k < BATCH; k++)
			AVM_TRACE_MSG(rt, AVM_TRACE_POSTED, 0, &m);
		on->v[i] = (now_ns() - t0) * 10 / BATCH;
	}
	off->n = empty->n = n;
	on->n = n_on;
}

/* 3: one block of reads or posted writes; per-message ns. */
static int block(avm_accessor *acc, bool reads, size_t n, uint64_t *out)
{
	uint64_t v;
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		uint64_t t0 = now_ns();

		if (reads) {
			err = avm_read(acc, AVM_SPACE_MMIO,
				       BASE + TESTDEV_SCRATCH, 8, &v);
		} else {
			for (int k = 0; k < BATCH && !err; k++)
				err = avm_write(acc, AVM_SPACE_MMIO,
						BASE + TESTDEV_SCRATCH, 8,
						(uint64_t)k);
		}
		out[i] = (now_ns() - t0) * (reads ? 1 : 10) /
			 (reads ? 1 : BATCH);
		/* Posts: let the actor drain, untimed, so rings never fill. */
		if (!reads && !err)
			err = avm_read(acc, AVM_SPACE_MMIO,
				       BASE + TESTDEV_WRITES, 8, &v);
	}
	return err;
}

/* Alternate off/on blocks of @n/10 samples each. */
static int end_to_end(avm_runtime *rt, avm_accessor *acc, bool reads, size_t n,
		      struct series *off, struct series *on)
{
	size_t chunk = n / 10;
	int err = 0;

	off->n = on->n = 0;
	for (int b = 0; b < 10 && !err; b++) {
		avm_trace_pause(rt, true);
		err = block(acc, reads, chunk, off->v + off->n);
		off->n += chunk;
		avm_trace_pause(rt, false);
		if (!err)
			err = block(acc, reads, chunk, on->v + on->n);
		on->n += chunk;
	}
	return err;
}

static const char *const journal_dev[] = { "dev", NULL };

/* @journal: journal the actor, which needs the trace before the start. */
static int set_up(avm_runtime **rt, avm_accessor **acc, const char *path,
		  bool journal)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED,
					  .reply_spin_ns = -1 };
	struct avm_actor_spec s = { .ops = &testdev_ops,
				    .name = "dev",
				    .cpus = AVM_CPU(1),
				    .spin_ns = -1 };
	struct avm_trace_options o = { .path = path,
				       .ring_bytes = 64u << 20,
				       .journal =
					       journal ? journal_dev : NULL };
	avm_actor_id id;
	int err = avm_runtime_new(&cfg, rt);

	if (err)
		return err;
	if ((err = avm_actor_create(*rt, &s, &id)) ||
	    (err = avm_map(*rt, id, 0, BASE)) ||
	    (journal && (err = avm_trace_start(*rt, &o))) ||
	    (err = avm_runtime_start(*rt)) ||
	    (err = avm_accessor_new(*rt, "vcpu0", acc)) ||
	    (!journal && (err = avm_trace_start(*rt, &o))))
		return err;
	return 0;
}

static void tear_down(avm_runtime *rt, avm_accessor *acc)
{
	avm_accessor_free(acc);
	avm_runtime_free(rt);
}

/* 4: reads and posts with the journal on, against tracing off. */
static int journal_cost(size_t n, size_t posts, const char *path,
			struct series *s)
{
	avm_runtime *rt = NULL;
	avm_accessor *acc = NULL;
	int err = set_up(&rt, &acc, path, true);

	if (!err)
		err = end_to_end(rt, acc, true, n, &s[0], &s[1]);
	if (!err)
		err = end_to_end(rt, acc, false, posts, &s[2], &s[3]);
	if (!err)
		err = avm_trace_stop(rt);
	tear_down(rt, acc);
	return err;
}

/* 5: record @n reads and @n posts unpaused, then replay them. */
static int replay_speed(size_t n, const char *path, double *live_ns,
			double *replay_ns, uint64_t *msgs)
{
	struct avm_replay_opts o = { .ops = &testdev_ops };
	struct avm_replay_result res;
	avm_runtime *rt = NULL;
	avm_accessor *acc = NULL;
	avm_journal *j = NULL;
	uint64_t v, t0;
	char err_msg[256];
	int err = set_up(&rt, &acc, path, true);

	/* Warm up first (rings faulted in, caches): in the journal too. */
	for (size_t i = 0; i < 1000 && !err; i++)
		err = avm_read(acc, AVM_SPACE_MMIO, BASE + TESTDEV_SCRATCH, 8,
			       &v);
	t0 = now_ns();
	for (size_t i = 0; i < n && !err; i++)
		err = avm_write(acc, AVM_SPACE_MMIO, BASE + TESTDEV_SCRATCH, 8,
				i)
			      ?: avm_read(acc, AVM_SPACE_MMIO,
					  BASE + TESTDEV_SCRATCH, 8, &v);
	*live_ns = (double)(now_ns() - t0) / (2.0 * (double)n);
	if (!err)
		err = avm_trace_stop(rt);
	tear_down(rt, acc);
	if (!err)
		err = avm_journal_load(path, "dev", &j, err_msg,
				       sizeof(err_msg));
	t0 = now_ns();
	if (!err)
		err = avm_replay_run(j, &o, &res);
	*replay_ns = (double)(now_ns() - t0);
	if (!err && res.diverged) {
		fprintf(stderr, "trace_bench: replay diverged:\n%s",
			res.report);
		err = -EPROTO;
	}
	*msgs = err ? 0 : res.messages;
	if (*msgs)
		*replay_ns /= (double)*msgs;
	avm_journal_free(j);
	return err;
}

static void report_delta(const char *what, struct series *off,
			 struct series *on, double div, unsigned events)
{
	double d = (pct(on, 0.5) - pct(off, 0.5)) / div;

	if (!events) {
		printf("  %-34s %7.1f ns per message\n", what, d);
		return;
	}
	printf("  %-34s %7.1f ns per message (%u events: %.1f ns each)\n", what,
	       d, events, d / events);
}

/* @s: every series of run(); the journal's are s[7..10]. Its paused
 * blocks still number and copy (a pause leaves the journal's gap), so the
 * floor is the plain runtime's tracing-off blocks. */
static void report_journal(struct series *s, size_t n, const char *path)
{
	struct series *j = &s[7];
	double live, rep;
	uint64_t msgs;

	print_row("read round trip, journal paused", &j[0], 1);
	print_row("read round trip, journal on", &j[1], 1);
	print_row("post, per write, journal paused", &j[2], 10);
	print_row("post, per write, journal on", &j[3], 10);
	printf("\nadded by tracing with the journal (p50 on - p50 of tracing "
	       "off above; the\nevents and every call of the actor in "
	       "full):\n");
	report_delta("synchronous read", &s[3], &j[1], 1, 0);
	report_delta("posted write (caller side)", &s[5], &j[3], 10, 0);
	if (replay_speed(n, path, &live, &rep, &msgs)) {
		printf("replay: failed\n");
		return;
	}
	printf("\nreplay of %llu messages alone (deterministic executor, "
	       "load excluded):\n  %.1f ns per message; the same messages "
	       "live (a write and a read round\n  trip, journal on): %.1f ns "
	       "per message: replay runs %.0fx faster\n",
	       (unsigned long long)msgs, rep, live, live / rep);
}

static int run(size_t n)
{
	struct series s[11];
	char path[] = "/tmp/avm-trace-bench-XXXXXX";
	struct avm_trace_stats st;
	/* Four events per post at ~10 M posts/s outrun the writer: keep the
	 * traced posts within what the 64 MiB rings hold (~600k events). */
	size_t posts = n < 2000 ? n : 2000;
	avm_runtime *rt = NULL;
	avm_accessor *acc = NULL;
	int err;

	close(mkstemp(path));
	for (int i = 0; i < 11; i++)
		s[i].v = calloc(n, sizeof(uint64_t));
	pin(0);
	err = set_up(&rt, &acc, path, false);
	if (err)
		goto out;
	site_cost(rt, n, &s[0], &s[1], &s[2]);
	err = end_to_end(rt, acc, true, n, &s[3], &s[4]);
	if (!err)
		err = end_to_end(rt, acc, false, posts, &s[5], &s[6]);
	if (err)
		goto out;
	avm_trace_stop(rt);
	avm_trace_get_stats(rt, &st);
	printf("%-40s %8s %9s %9s %9s %10s\n", "case (ns)", "samples", "p50",
	       "p99", "p99.9", "max");
	print_row("empty loop, per iteration (floor)", &s[1], 10);
	print_row("event site, tracing off", &s[0], 10);
	print_row("event recorded, tracing on", &s[2], 10);
	print_row("read round trip, tracing off", &s[3], 1);
	print_row("read round trip, tracing on", &s[4], 1);
	print_row("post, per write, tracing off", &s[5], 10);
	print_row("post, per write, tracing on", &s[6], 10);
	printf("\nadded by tracing (p50 on - p50 off):\n");
	report_delta("event site while off vs empty loop", &s[1], &s[0], 10, 1);
	report_delta("synchronous read", &s[3], &s[4], 1, 5);
	report_delta("posted write (caller side)", &s[5], &s[6], 10, 1);
	printf("recorded %llu, written %llu, dropped %llu\n",
	       (unsigned long long)st.recorded, (unsigned long long)st.written,
	       (unsigned long long)st.dropped);
	printf("target: <= 50 ns per traced message: read %s\n\n",
	       (pct(&s[4], 0.5) - pct(&s[3], 0.5)) <= 50 ? "met" : "missed");
	tear_down(rt, acc);
	rt = NULL;
	acc = NULL;
	err = journal_cost(n, posts, path, &s[7]);
	if (!err)
		report_journal(s, n < 20000 ? n : 20000, path);
out:
	if (err)
		fprintf(stderr, "trace_bench: %s\n", strerror(-err));
	avm_accessor_free(acc);
	avm_runtime_free(rt);
	unlink(path);
	for (int i = 0; i < 11; i++)
		free(s[i].v);
	return err ? 1 : 0;
}

static const char usage[] =
	"usage: trace_bench [-n|--samples N] [-q|--quick] [-h|--help]\n"
	"Measures what tracing costs: an event site while off, a recorded\n"
	"event, and per message end to end (tracing off vs on).\n"
	"  -n, --samples N  samples per row, 100..10000000 (default 100000)\n"
	"  -q, --quick      2000 samples (a smoke run)\n"
	"  -h, --help       this text\n";

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "samples", required_argument,
					      NULL, 'n' },
					    { "quick", no_argument, NULL, 'q' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	size_t n = 100000;
	int c;

	while ((c = getopt_long(argc, argv, "n:qh", lo, NULL)) != -1) {
		if (c == 'n')
			n = strtoull(optarg, NULL, 0);
		else if (c == 'q')
			n = 2000;
		else {
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind < argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (n < 100 || n > 10000000) {
		fprintf(stderr, "trace_bench: -n must be 100..10000000\n");
		return 2;
	}
	return run(n);
}
