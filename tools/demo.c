/* SPDX-License-Identifier: MIT */
/*
 * actorvm demo: the talk's problem in miniature, without a guest. VCPU0
 * reads a register of a quiet device ("nic") over and over; VCPU1 keeps a
 * second device ("disk") busy with long jobs. With actors, VCPU0's reads do
 * not wait for the disk; under one global lock, they wait for whole jobs.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/runtime.h>
#include <actorvm/trace.h>

#include "cli.h"
#include "testdev.h"

#define NIC_BASE  0xfebc0000ull
#define DISK_BASE 0xfebd0000ull

struct demo_opts {
	const char *trace;
	int rt_priority;
	double seconds;
	unsigned interval_us;
	unsigned job_chunks;
	unsigned chunk_spin;
	bool threaded, biglock;
};

struct busy {
	avm_runtime *rt;
	atomic_int stop;
	unsigned chunks;
	uint64_t jobs;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The last CPU is the real-time device's; everything else shares CPU 0. */
static uint64_t rt_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n > AVM_CPU_COUNT)
		n = AVM_CPU_COUNT;
	return n > 1 ? AVM_CPU(n - 1) : 0;
}

static void pin_to_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	/* Best effort: an unpinned run still works, only noisier. */
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void nap_us(unsigned us)
{
	struct timespec ts = { 0, (long)us * 1000 };

	nanosleep(&ts, NULL);
}

/* VCPU1: start a disk job, poll until it is done, repeat. */
static void *keep_disk_busy(void *arg)
{
	struct busy *b = arg;
	avm_accessor *acc;
	uint64_t done = 0, target = 0;

	pin_to_cpu0();
	if (avm_accessor_new(b->rt, "vcpu1", &acc))
		return NULL;
	while (!atomic_load(&b->stop)) {
		target += b->chunks;
		avm_write(acc, AVM_SPACE_MMIO, DISK_BASE + TESTDEV_WORK, 8,
			  b->chunks);
		while (done < target && !atomic_load(&b->stop)) {
			if (avm_read(acc, AVM_SPACE_MMIO,
				     DISK_BASE + TESTDEV_WORK_DONE, 8, &done))
				break;
			nap_us(200);
		}
		b->jobs++;
	}
	avm_accessor_free(acc);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, uint64_t *lat, unsigned n, uint64_t jobs)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("  %-9s reads %7u  p50 %8.1f us  p99 %8.1f us  max %9.1f us"
	       "  (disk jobs meanwhile: %llu)\n",
	       name, n, lat[n / 2] / 1e3, lat[(size_t)n * 99 / 100] / 1e3,
	       lat[n - 1] / 1e3, (unsigned long long)jobs);
}

static int build(avm_runtime *rt, const struct testdev_config *disk_cfg,
		 int rt_priority)
{
	/* The real-time device polls its mailbox on a core of its own: on
	 * this kind of host a futex wake-up costs tens of microseconds, and a
	 * VCPU landing on the poller's core would stall it. */
	struct avm_actor_spec nic = { .ops = &testdev_ops,
				      .name = "nic",
				      .cpus = rt_cpus(),
				      .spin_ns = -1,
				      .rt_priority = rt_priority };
	struct avm_actor_spec disk = { .ops = &testdev_ops,
				       .name = "disk",
				       .config = disk_cfg,
				       .cpus = AVM_CPU(0) };
	avm_actor_id n, d;
	int err;

	err = avm_actor_create(rt, &nic, &n);
	if (!err)
		err = avm_actor_create(rt, &disk, &d);
	if (!err)
		err = avm_map(rt, n, 0, NIC_BASE);
	if (!err)
		err = avm_map(rt, d, 0, DISK_BASE);
	return err ? err : avm_runtime_start(rt);
}

/* VCPU0: one read per interval (sleeping in between) for the whole
 * duration; *n gets the number of reads. */
static int measure(avm_runtime *rt, const struct demo_opts *o, uint64_t *lat,
		   unsigned cap, unsigned *n)
{
	uint64_t end = now_ns() + (uint64_t)(o->seconds * 1e9), v, t0;
	struct sched_param sp = { .sched_priority = o->rt_priority };
	avm_accessor *acc;
	int err = avm_accessor_new(rt, "vcpu0", &acc);

	pin_to_cpu0();
	if (o->rt_priority &&
	    pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp))
		fprintf(stderr, "actorvm demo: warning: SCHED_FIFO refused for "
				"vcpu0; running with normal priority\n");
	for (*n = 0; !err && *n < cap && (t0 = now_ns()) < end; (*n)++) {
		err = avm_read(acc, AVM_SPACE_MMIO, NIC_BASE + TESTDEV_SCRATCH,
			       8, &v);
		lat[*n] = now_ns() - t0;
		nap_us(o->interval_us);
	}
	avm_accessor_free(acc);
	return err;
}

/* --trace FILE: the threaded run goes to FILE, the biglock run to
 * FILE.biglock, so one demo gives both traces to compare. */
static int start_trace(avm_runtime *rt, const char *file,
		       enum avm_exec_kind exec)
{
	char path[4096];
	/* The writer shares CPU 0 with the VCPUs, off the real-time core. */
	struct avm_trace_options o = { .path = path, .pin_writer = true };
	int err;

	snprintf(path, sizeof(path), "%s%s", file,
		 exec == AVM_EXEC_BIGLOCK ? ".biglock" : "");
	err = avm_trace_start(rt, &o);
	if (err)
		fprintf(stderr, "actorvm demo: cannot trace to %s: %s\n", path,
			strerror(-err));
	else
		printf("  (tracing to %s)\n", path);
	return err;
}

static int run_one(enum avm_exec_kind exec, const char *name,
		   const struct demo_opts *o, uint64_t *lat, unsigned cap)
{
	struct avm_runtime_config cfg = { .exec = exec };
	struct testdev_config disk_cfg = { .chunk_spin = o->chunk_spin };
	struct busy b = { .chunks = o->job_chunks };
	pthread_t th;
	unsigned n = 0;
	int err = avm_runtime_new(&cfg, &b.rt);

	if (err)
		return err;
	err = build(b.rt, &disk_cfg, o->rt_priority);
	if (!err && o->trace)
		err = start_trace(b.rt, o->trace, exec);
	if (err)
		goto out_free;
	pthread_create(&th, NULL, keep_disk_busy, &b);
	err = measure(b.rt, o, lat, cap, &n);
	atomic_store(&b.stop, 1);
	pthread_join(th, NULL);
	if (!err && n)
		report(name, lat, n, b.jobs);
out_free:
	avm_runtime_free(b.rt);
	return err;
}

static const char demo_help[] =
	"usage: actorvm demo [--executor threaded|biglock|both]\n"
	"                    [--seconds S] [--interval-us N]\n"
	"                    [--job-chunks N] [--chunk-spin N] [--rt PRIO]\n"
	"                    [--trace FILE]\n"
	"\n"
	"For S seconds per executor, VCPU0 times one synchronous read of a\n"
	"quiet device every N microseconds while VCPU1 keeps another device\n"
	"busy with jobs of --job-chunks bounded chunks (each --chunk-spin "
	"busy\n"
	"iterations), and prints read latency percentiles for each executor.\n"
	"No guest runs. The quiet device's server thread polls its mailbox on\n"
	"the last CPU; the VCPUs and the busy device share CPU 0.\n"
	"\n"
	"With --rt, VCPU0 and the quiet device's server thread run SCHED_FIFO\n"
	"at PRIO (a warning, not a failure, where that is not permitted).\n"
	"Linux RT throttling (kernel.sched_rt_runtime_us) then stalls the\n"
	"polling thread for tens of ms each second unless it is set to -1.\n"
	"\n"
	"With --trace, every message is recorded: the threaded run into\n"
	"FILE, the biglock run into FILE.biglock (see `actorvm trace`).\n"
	"\n"
	"Defaults: --executor both --seconds 2 --interval-us 50\n"
	"          --job-chunks 2000 --chunk-spin 2000\n";

static void demo_usage(FILE *out)
{
	fputs(demo_help, out);
}

static int parse(int argc, char **argv, struct demo_opts *o)
{
	static const struct option lo[] = {
		{ "executor", required_argument, NULL, 'e' },
		{ "seconds", required_argument, NULL, 't' },
		{ "interval-us", required_argument, NULL, 'i' },
		{ "job-chunks", required_argument, NULL, 'j' },
		{ "chunk-spin", required_argument, NULL, 's' },
		{ "rt", required_argument, NULL, 'p' },
		{ "trace", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct demo_opts){ .seconds = 2.0,
				 .interval_us = 50,
				 .job_chunks = 2000,
				 .chunk_spin = 2000,
				 .threaded = true,
				 .biglock = true };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->threaded = !strcmp(optarg, "threaded") ||
				      !strcmp(optarg, "both");
			o->biglock = !strcmp(optarg, "biglock") ||
				     !strcmp(optarg, "both");
			if (!o->threaded && !o->biglock)
				return -EINVAL;
			break;
		case 't':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'i':
			o->interval_us = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'j':
			o->job_chunks = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 's':
			o->chunk_spin = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'p':
			o->rt_priority = atoi(optarg);
			break;
		case 'T':
			o->trace = optarg;
			break;
		case 'h':
			demo_usage(stdout);
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !(o->seconds > 0 && o->seconds <= 3600) ||
	    o->rt_priority < 0 || o->rt_priority > 99 || !o->job_chunks)
		return -EINVAL;
	return 0;
}

int avm_cli_demo(int argc, char **argv)
{
	struct demo_opts o;
	uint64_t *lat;
	unsigned cap;
	int err = parse(argc, argv, &o);

	if (err) {
		if (err < 0)
			demo_usage(stderr);
		return err < 0 ? 2 : 0;
	}
	/* One sample per interval at most (each read takes some time). */
	cap = (unsigned)(o.seconds * 1e6 / (o.interval_us ? o.interval_us : 1));
	cap = cap < 10000000 ? cap + 1 : 10000000;
	lat = calloc(cap, sizeof(*lat));
	if (!lat)
		return 1;
	printf("actorvm demo: VCPU0 reads device 'nic' while VCPU1 keeps "
	       "device 'disk' busy\n");
	if (o.threaded)
		err = run_one(AVM_EXEC_THREADED, "threaded", &o, lat, cap);
	if (!err && o.biglock)
		err = run_one(AVM_EXEC_BIGLOCK, "biglock", &o, lat, cap);
	free(lat);
	if (err)
		fprintf(stderr, "actorvm demo: %s\n", strerror(-err));
	else
		printf("With actors the read waits for at most one chunk of "
		       "the "
		       "disk's work;\nunder one global lock it can wait for a "
		       "whole job.\n");
	return err ? 1 : 0;
}
