/* SPDX-License-Identifier: MIT */
/*
 * irq_bench: what the IRQ fast path saves. A device raises its line; how
 * long until the VCPU side's handler sees it?
 *
 *  - fast path: the device's port routed by a real IOAPIC (unmasked entry)
 *    straight to the sink: device -> sink, one message;
 *  - relayed: the device's line through a relay actor that forwards it, as
 *    an interrupt controller on the path would: device -> relay -> sink;
 *  - halted: the IOAPIC route to a self-driven sink asleep in avm_wait(), as
 *    a halted VCPU is. A self-driven actor is never run in place, so this
 *    is one sleeping hop: the sleeping side of the executor against the
 *    floor;
 *  - floor: a one-way futex handoff between two plain threads, measured in
 *    the same run: what one sleeping hop costs on this host.
 *
 * The line is raised by a posted write to the device (test thread -> device
 * is one more hop in both paths). Samples are spaced so every actor is
 * asleep when the next one starts, as an idle real-time system is; on a
 * 2-core host three spinning actors would only measure the scheduler.
 * Prints p50, p99, p99.9 and max, and the ratio of each path's median to
 * the floor's. Timing is reported, never asserted.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/runtime.h>

#include "ioapic.h"
#include "testdev.h"

#define DEV_BASE 0xf0000000ull
#define PIN	 9
#define GAP_NS	 300000 /* between samples: everything is asleep again */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --- Sink and relay --------------------------------------------------- */

struct arrivals {
	_Atomic uint64_t count, last_ns;
};

struct sink {
	struct arrivals *a;
};

static int sink_init(void *state, const void *config, avm_ctx *ctx)
{
	((struct sink *)state)->a = (struct arrivals *)config;
	return 0;
}

static void sink_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct sink *s = state;

	if (m->kind != AVM_MSG_IRQ || !m->irq.level)
		return;
	/* Time first, then the count the test thread waits on (release). */
	atomic_store_explicit(&s->a->last_ns, now_ns(), memory_order_relaxed);
	atomic_fetch_add_explicit(&s->a->count, 1, memory_order_release);
}

static const struct avm_device_ops sink_ops = {
	.type = "sink",
	.state_size = sizeof(struct sink),
	.init = sink_init,
	.handle = sink_handle,
};

/* A halted VCPU's loop (actors/vcpu/vcpu.c, vcpu_run): handle what came,
 * sleep until more does. */
static int halted_run(void *state, avm_ctx *ctx)
{
	int err;

	(void)state;
	while (!(err = avm_poll(ctx))) {
		err = avm_wait(ctx, -1);
		if (err == -ESHUTDOWN)
			break;
	}
	return err;
}

static const struct avm_device_ops halted_ops = {
	.type = "halted",
	.state_size = sizeof(struct sink),
	.init = sink_init,
	.handle = sink_handle,
	.run = halted_run,
};

static const char *const relay_ports[] = { "out" };

static void relay_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	if (m->kind == AVM_MSG_IRQ)
		avm_irq_set(ctx, 0, m->irq.level);
}

static const struct avm_device_ops relay_ops = {
	.type = "relay",
	.ports = relay_ports,
	.n_ports = 1,
	.handle = relay_handle,
};

/* --- The two VMs-in-miniature ----------------------------------------- */

struct rig {
	avm_runtime *rt;
	avm_accessor *acc;
	struct arrivals a;
};

static avm_actor_id make(struct rig *r, const struct avm_device_ops *ops,
			 const char *name, const void *cfg)
{
	struct avm_actor_spec s = { .ops = ops, .name = name, .config = cfg };
	avm_actor_id id = AVM_ACTOR_NONE;

	if (avm_actor_create(r->rt, &s, &id))
		fprintf(stderr, "irq_bench: cannot create %s\n", name);
	return id;
}

static int ioapic_route(struct rig *r)
{
	uint32_t low = 0x40; /* vector 0x40, fixed, edge, unmasked */

	/* High half (destination 0) first, then the low half unmasks. */
	return avm_write(r->acc, AVM_SPACE_MMIO, IOAPIC_BASE, 4,
			 IOAPIC_REG_REDTBL + 2 * PIN + 1) ?:
	       avm_write(r->acc, AVM_SPACE_MMIO, IOAPIC_BASE + 0x10, 4, 0) ?:
	       avm_write(r->acc, AVM_SPACE_MMIO, IOAPIC_BASE, 4,
			 IOAPIC_REG_REDTBL + 2 * PIN) ?:
	       avm_write(r->acc, AVM_SPACE_MMIO, IOAPIC_BASE + 0x10, 4, low);
}

enum path { PATH_FAST, PATH_RELAYED, PATH_HALTED };

static int rig_up(struct rig *r, enum path path)
{
	bool relayed = path == PATH_RELAYED;
	avm_actor_id sink, dev, mid;
	int err;

	memset(r, 0, sizeof(*r));
	if (avm_runtime_new(NULL, &r->rt))
		return -ENOMEM;
	sink = make(r, path == PATH_HALTED ? &halted_ops : &sink_ops, "sink",
		    &r->a);
	dev = make(r, &testdev_ops, "dev", NULL);
	mid = relayed ? make(r, &relay_ops, "relay", NULL)
		      : make(r, &ioapic_ops, "ioapic", NULL);
	err = avm_map(r->rt, dev, 0, DEV_BASE) ?:
	      avm_bind(r->rt, dev, "irq", mid, PIN) ?:
	      avm_bind(r->rt, mid, relayed ? "out" : "cpu0", sink, 0) ?:
	      (relayed ? 0 : avm_map(r->rt, mid, 0, IOAPIC_BASE)) ?:
	      avm_runtime_start(r->rt) ?:
	      avm_accessor_new(r->rt, "bench", &r->acc);
	if (!err && !relayed)
		err = ioapic_route(r);
	return err;
}

static void rig_down(struct rig *r)
{
	if (r->acc)
		avm_accessor_free(r->acc);
	avm_runtime_free(r->rt);
}

static void pause_ns(uint64_t ns)
{
	struct timespec ts = { 0, (long)ns };

	nanosleep(&ts, NULL);
}

/* One sample: raise the line, wait for the sink, lower it again. */
static int irq_sample(struct rig *r, double *out)
{
	uint64_t before = atomic_load(&r->a.count), t0 = now_ns();
	uint64_t deadline = t0 + 1000000000ull;

	if (avm_write(r->acc, AVM_SPACE_MMIO, DEV_BASE + TESTDEV_IRQ, 8, 1))
		return -EIO;
	/* Wait asleep: the sink stamps the arrival itself, and a spinning
	 * waiter would take a core from the actors it measures. */
	while (atomic_load_explicit(&r->a.count, memory_order_acquire) ==
	       before) {
		if (now_ns() > deadline)
			return -ETIMEDOUT; /* a lost interrupt */
		pause_ns(20000);
	}
	*out = (double)(atomic_load(&r->a.last_ns) - t0);
	return avm_write(r->acc, AVM_SPACE_MMIO, DEV_BASE + TESTDEV_IRQ, 8, 0);
}

/* --- The floor: one sleeping hop between two plain threads ------------ */

struct handoff {
	_Atomic uint32_t word;
	_Atomic uint64_t sent_ns, got_ns;
	_Atomic int stop;
};

static void *floor_main(void *arg)
{
	struct handoff *h = arg;
	uint32_t seen = 0;

	while (!atomic_load(&h->stop)) {
		uint32_t w = atomic_load(&h->word);

		if (w == seen) {
			syscall(SYS_futex, &h->word, FUTEX_WAIT_PRIVATE, seen,
				NULL, NULL, 0);
			continue;
		}
		seen = w;
		atomic_store(&h->got_ns, now_ns());
	}
	return NULL;
}

static double floor_sample(struct handoff *h)
{
	uint64_t t0 = now_ns(), got = atomic_load(&h->got_ns);

	atomic_fetch_add(&h->word, 1);
	syscall(SYS_futex, &h->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	while (atomic_load(&h->got_ns) == got)
		pause_ns(20000); /* as irq_sample() waits */
	return (double)(atomic_load(&h->got_ns) - t0);
}

/* --- Statistics ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)n);

	return v[i < n ? i : n - 1];
}

static double report(const char *what, double *v, size_t n, double floor)
{
	double p50;

	qsort(v, n, sizeof(*v), cmp_double);
	p50 = pct(v, n, 50);
	printf("  %-26s n %6zu  p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  "
	       "max %8.1f us",
	       what, n, p50 / 1e3, pct(v, n, 99) / 1e3, pct(v, n, 99.9) / 1e3,
	       v[n - 1] / 1e3);
	if (floor > 0)
		printf("  %.2fx floor", p50 / floor);
	printf("\n");
	return p50;
}

/* Floor, fast path, relayed and halted paths in alternating samples, so
 * that the host's moods of the moment reach all four alike. */
static int run(size_t n, double *fl, double *fast, double *relay,
	       double *halted)
{
	struct handoff h = { 0 };
	struct rig rf, rr, rh;
	pthread_t t;
	int err = rig_up(&rf, PATH_FAST) ?: rig_up(&rr, PATH_RELAYED)
						?: rig_up(&rh, PATH_HALTED);

	if (!err)
		err = pthread_create(&t, NULL, floor_main, &h) ? -EAGAIN : 0;
	for (size_t i = 0; !err && i < n; i++) {
		pause_ns(GAP_NS);
		fl[i] = floor_sample(&h);
		pause_ns(GAP_NS);
		err = irq_sample(&rf, &fast[i]);
		pause_ns(GAP_NS);
		err = err ?: irq_sample(&rr, &relay[i]);
		pause_ns(GAP_NS);
		err = err ?: irq_sample(&rh, &halted[i]);
	}
	atomic_store(&h.stop, 1);
	atomic_fetch_add(&h.word, 1);
	syscall(SYS_futex, &h.word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_join(t, NULL);
	rig_down(&rf);
	rig_down(&rr);
	rig_down(&rh);
	return err;
}

static const char usage[] =
	"usage: irq_bench [--quick]\n"
	"How long a raised IRQ line takes to reach the VCPU side: the fast\n"
	"path, a relayed line, a halted (sleeping) sink, against a futex\n"
	"handoff measured in the same run (docs/performance.md).\n"
	"  --quick      fewer samples (a smoke run)\n"
	"  -h, --help   this text\n"
	"Exit status: 0 when every measurement completed, 1 otherwise, 2 on a\n"
	"usage error. Timing never fails the run.\n";

/* The sample count, or 0 after printing the usage (*@status to exit). */
static size_t parse(int argc, char **argv, int *status)
{
	size_t n = 5000;

	for (int i = 1; i < argc; i++) {
		bool help =
			!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help");

		if (!strcmp(argv[i], "--quick")) {
			n = 200;
			continue;
		}
		fputs(usage, help ? stdout : stderr);
		*status = help ? 0 : 2;
		return 0;
	}
	return n;
}

int main(int argc, char **argv)
{
	int status = 0;
	size_t n = parse(argc, argv, &status);
	double *fl, *fast, *relay, *halted, f;
	int err;

	if (!n)
		return status;
	fl = calloc(n, sizeof(double));
	fast = calloc(n, sizeof(double));
	relay = calloc(n, sizeof(double));
	halted = calloc(n, sizeof(double));
	if (!fl || !fast || !relay || !halted)
		return 1;
	printf("irq_bench: device line -> handler of the receiving actor, "
	       "everything asleep in between (%zu samples each)\n",
	       n);
	err = run(n, fl, fast, relay, halted);
	if (err) {
		fprintf(stderr, "irq_bench: %s\n", strerror(-err));
		return 1;
	}
	f = report("floor: one futex hop", fl, n, 0);
	report("fast path (IOAPIC route)", fast, n, f);
	report("relayed (one more hop)", relay, n, f);
	report("halted self-driven sink", halted, n, f);
	free(halted);
	free(fl);
	free(fast);
	free(relay);
	return 0;
}
