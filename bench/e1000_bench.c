/* SPDX-License-Identifier: MIT */
/*
 * e1000_bench - frames between two VMs through two e1000 actors and an nng
 * wire, against raw nng measured in the same run.
 *
 *  (a) the floor: two nng PAIR1 sockets over inproc://, one thread sending
 *      and one receiving (frames/s, bytes/s), and a one-frame echo round
 *      trip between two threads;
 *  (b) two VMs (runtime + RAM + e1000 + wire each, inproc://) driven by
 *      host threads acting as drivers: registers through avm_read() and
 *      avm_write() on an accessor, descriptors and buffers in guest RAM
 *      through avm_ram_ptr(), the NIC's interrupt line bound to a small
 *      "irq sink" actor that wakes the driver (futex). One direction, at
 *      most WINDOW frames in flight (the sender reads the receiver's count,
 *      so no frame is ever dropped for want of RX descriptors; with a full
 *      window it spins briefly, then sleeps until the receiver counts one).
 *      Then the same with both NICs in device processes, in alternating
 *      runs, and what each way cost the host per frame: context switches
 *      and CPU time of every thread and device process (/proc; with
 *      --threads, each thread's share);
 *  (c) one-frame round trip with the same drivers: TX -> peer's RX
 *      interrupt -> peer's TX -> RX interrupt, p50/p99/p99.9/max; then
 *      again with the wire forced onto the fast path, as in (e);
 *  (d) with --guest ELF: the e1000_pingpong guest as ping and pong on two
 *      PC machines (software CPU), timed by the host from ping's "N rounds"
 *      line to its exit: windowed throughput and the mean round trip;
 *  (e) doorbell to completion with the NIC idle: the driver of (b) puts one
 *      descriptor with RS in the ring, writes TDT through its accessor (the
 *      write path a VCPU takes) after the NIC has slept DB_GAP_NS, and polls
 *      the descriptor's status byte for DD, p50/p99/p99.9/max. The wire
 *      runs on its own thread by default (wire_ops.own_thread); then again
 *      with it forced onto the fast path (fast_path = 1: its nng_send runs
 *      in place, on the writer's thread), and both again with the driver
 *      at SCHED_FIFO 80 (a real-time VCPU's thread; "not measured" where
 *      the host refuses it). Its floor: what one wake-up of a thread
 *      asleep in epoll costs the thread that makes it.
 *
 * With --trace PREFIX, runs (c) and (e) are recorded, one trace file per
 * VM: PREFIX-c-a.trace (the side that measures), PREFIX-c-b.trace, ...
 * (`actorvm trace stats` names each hop's wait and service time).
 *
 * Timing never fails the run: the exit status only says whether every
 * measurement completed (no lost frame, no API error).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include <actorvm/isolation.h>
#include <actorvm/runtime.h>
#include <actorvm/trace.h>

#include "e1000.h"
#include "netdev.h"
#include "pair_vm.h"

#define RAM_GPA	     0x100000ull
#define RING_N	     256
#define BUF_SLOT     2048ull
#define TX_RING	     0x0000ull /* offsets in RAM */
#define RX_RING	     0x1000ull
#define TX_BUF	     0x2000ull
#define RX_BUF	     (TX_BUF + RING_N * BUF_SLOT)
#define RAM_SIZE     (RX_BUF + RING_N * BUF_SLOT)
#define NIC_MMIO     0xfebc0000ull
#define WINDOW	     48	   /* frames in flight: below the wire's nng buffers */
#define SPIN_NS	     20000 /* poll before sleeping in the futex */
#define STALL_NS     3000000000ull /* no progress for 3 s: a lost frame */
#define FULL_FRAMES  200000
#define QUICK_FRAMES 5000
#define FULL_RTT     20000
#define QUICK_RTT    500
#define FULL_ROUNDS  2000
#define QUICK_ROUNDS 200
#define DB_GAP_NS    300000 /* between doorbells: the NIC's server sleeps */

struct stats {
	double p50, p99, p999, max;
};

struct opts {
	bool quick;
	const char *guest;
	const char *trace; /* file name prefix, or NULL */
	bool threads;	   /* (b): each thread's share per frame */
	unsigned frames, rtt, rounds;
};

/* --- helpers -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void summarize(double *ns, size_t n, struct stats *s)
{
	qsort(ns, n, sizeof(*ns), cmp_double);
	s->p50 = ns[n / 2];
	s->p99 = ns[(size_t)((double)(n - 1) * 0.99)];
	s->p999 = ns[(size_t)((double)(n - 1) * 0.999)];
	s->max = ns[n - 1];
}

static void print_stats(const char *what, const struct stats *s, double floor)
{
	printf("  %-34s p50 %8.1f  p99 %8.1f  p99.9 %8.1f  max %9.1f us", what,
	       s->p50 / 1e3, s->p99 / 1e3, s->p999 / 1e3, s->max / 1e3);
	if (floor > 0)
		printf("  (p50 %.2fx)", s->p50 / floor);
	printf("\n");
}

static void print_tput(const char *what, unsigned size, uint64_t frames,
		       uint64_t ns, double floor_fps)
{
	double fps = (double)frames * 1e9 / (double)ns;

	printf("  %-22s %4u B  %10.0f frames/s  %8.2f MB/s", what, size, fps,
	       fps * size / 1e6);
	if (floor_fps > 0)
		printf("  (%.3fx raw nng)", fps / floor_fps);
	printf("\n");
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	struct timespec ts = { .tv_nsec = 100000000 }; /* recheck deadlines */

	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void fill(uint8_t *f, unsigned size, uint32_t seq)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, (const uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0xa }, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (unsigned i = 14; i < size; i++)
		f[i] = (uint8_t)(seq + i);
}

/* --- (a) raw nng ---------------------------------------------------------- */

struct raw {
	nng_socket tx, rx;
	unsigned size, count;
	bool echo;
	int err;
};

static int raw_open(struct raw *r, const char *url)
{
	int rv = nng_pair1_open(&r->rx) ?: nng_pair1_open(&r->tx);

	rv = rv ?: nng_listen(r->rx, url, NULL, 0);
	rv = rv ?: nng_dial(r->tx, url, NULL, 0);
	rv = rv ?: nng_socket_set_ms(r->rx, NNG_OPT_RECVTIMEO, 5000);
	rv = rv ?: nng_socket_set_ms(r->tx, NNG_OPT_RECVTIMEO, 5000);
	return rv ? -EIO : 0;
}

/* The far side: counts frames, or echoes each one back. */
static void *raw_peer(void *arg)
{
	struct raw *r = arg;
	uint8_t buf[2048];

	for (unsigned i = 0; i < r->count && !r->err; i++) {
		size_t len = sizeof(buf);

		if (nng_recv(r->rx, buf, &len, 0) ||
		    (r->echo && nng_send(r->rx, buf, len, 0)))
			r->err = -EIO;
	}
	return NULL;
}

static int raw_tput(unsigned size, unsigned count, uint64_t *ns)
{
	struct raw r = { .size = size, .count = count };
	uint8_t f[2048];
	pthread_t t;
	uint64_t t0;
	char url[64];

	snprintf(url, sizeof(url), "inproc://e1000-bench-raw-%u", size);
	if (raw_open(&r, url))
		return -EIO;
	fill(f, size, 0);
	pthread_create(&t, NULL, raw_peer, &r);
	t0 = pair_now_ns();
	for (unsigned i = 0; i < count && !r.err; i++)
		if (nng_send(r.tx, f, size, 0))
			r.err = -EIO;
	pthread_join(t, NULL);
	*ns = pair_now_ns() - t0;
	nng_close(r.tx);
	nng_close(r.rx);
	return r.err;
}

static int raw_rtt(unsigned size, unsigned n, double *ns)
{
	struct raw r = { .size = size, .count = n, .echo = true };
	uint8_t f[2048], got[2048];
	pthread_t t;

	if (raw_open(&r, "inproc://e1000-bench-rtt"))
		return -EIO;
	fill(f, size, 0);
	pthread_create(&t, NULL, raw_peer, &r);
	for (unsigned i = 0; i < n && !r.err; i++) {
		uint64_t t0 = pair_now_ns();
		size_t len = sizeof(got);

		if (nng_send(r.tx, f, size, 0) || nng_recv(r.tx, got, &len, 0))
			r.err = -EIO;
		ns[i] = (double)(pair_now_ns() - t0);
	}
	pthread_join(t, NULL);
	nng_close(r.tx);
	nng_close(r.rx);
	return r.err;
}

/* --- (b, c) e1000 actors driven by host threads ----------------------------
 */

/* The NIC's INTA#: counts rising edges and wakes the driver. */
struct sink_config {
	_Atomic uint32_t edges;
};

static int sink_init(void *state, const void *config, avm_ctx *ctx)
{
	*(struct sink_config **)state = (struct sink_config *)config;
	return 0;
}

static void sink_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct sink_config *c = *(struct sink_config **)state;

	if (m->kind == AVM_MSG_IRQ && m->irq.level) {
		atomic_fetch_add(&c->edges, 1);
		futex_wake(&c->edges);
	}
}

static const struct avm_device_ops sink_ops = {
	.type = "irq-sink",
	.state_size = sizeof(struct sink_config *),
	.init = sink_init,
	.handle = sink_handle,
};

struct hvm {
	int wire_fast; /* the wire's fast_path: 0 its default (own thread), 1 in
			  place */
	bool iso;      /* the NIC in a device process (docs/isolation.md) */
	avm_runtime *rt;
	avm_actor_id nic, wire, sink;
	uint8_t *ram;
	struct e1000_config nic_cfg;
	struct wire_config wire_cfg;
	struct sink_config sink_cfg;
	avm_accessor *acc; /* of the thread driving this VM */
	uint32_t seen, tx_tail, tx_clean, rx_next;
	_Atomic uint64_t rx_frames;
	_Atomic uint32_t rx_seq; /* futex: a frame was counted */
	_Atomic bool tx_waiting; /* the sender sleeps on rx_seq */
	_Atomic bool stop;
	int err;
};

static int hvm_build(struct hvm *v, const char *url, bool listen, uint8_t mac)
{
	struct avm_runtime_config rc = { .exec = AVM_EXEC_THREADED,
					 .log_level = AVM_LOG_ERROR };
	struct avm_actor_spec n = { .ops = &e1000_ops,
				    .name = "nic",
				    .config = &v->nic_cfg,
				    .isolation.process = v->iso };
	struct avm_actor_spec w = { .ops = &wire_ops,
				    .name = "wire",
				    .config = &v->wire_cfg,
				    .fast_path = v->wire_fast };
	struct avm_actor_spec s = { .ops = &sink_ops,
				    .name = "sink",
				    .config = &v->sink_cfg };

	memcpy(v->nic_cfg.mac,
	       (const uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0 }, 6);
	v->nic_cfg.mac[5] = mac;
	v->nic_cfg.link_down = true;
	v->nic_cfg.autoneg_ns = 1000000;
	v->wire_cfg = (struct wire_config){ .url = url, .listen = listen };
	return avm_runtime_new(&rc, &v->rt)
		       ?: avm_ram_add(v->rt, RAM_GPA, RAM_SIZE, (void **)&v->ram)
		       ?: avm_actor_create(v->rt, &n, &v->nic)
		       ?: avm_actor_create(v->rt, &w, &v->wire)
		       ?: avm_actor_create(v->rt, &s, &v->sink)
		       ?: avm_bind(v->rt, v->nic, "net", v->wire, 0)
		       ?: avm_bind(v->rt, v->wire, "nic", v->nic, 0)
		       ?: avm_bind(v->rt, v->nic, "irq", v->sink, 0)
		       ?: avm_map(v->rt, v->nic, E1000_REGION_MMIO, NIC_MMIO)
		       ?: avm_runtime_start(v->rt);
}

static void wr(struct hvm *v, uint32_t reg, uint32_t val)
{
	if (avm_write(v->acc, AVM_SPACE_MMIO, NIC_MMIO + reg, 4, val))
		v->err = -EIO;
}

static uint32_t rd(struct hvm *v, uint32_t reg)
{
	uint64_t val = 0;

	if (avm_read(v->acc, AVM_SPACE_MMIO, NIC_MMIO + reg, 4, &val))
		v->err = -EIO;
	return (uint32_t)val;
}

static uint8_t *desc(struct hvm *v, uint64_t ring, uint32_t i)
{
	return avm_ram_ptr(v->rt, RAM_GPA + ring + 16 * i, 16);
}

static void put_le(uint8_t *p, uint64_t val, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(val >> (8 * i));
}

/* Rings, promiscuous RX without CRC, TX on, interrupts RXT0 and TXDW. */
static void hvm_open(struct hvm *v)
{
	for (uint32_t i = 0; i < RING_N; i++) {
		memset(desc(v, RX_RING, i), 0, 16);
		put_le(desc(v, RX_RING, i), RAM_GPA + RX_BUF + BUF_SLOT * i, 8);
		memset(desc(v, TX_RING, i), 0, 16);
	}
	wr(v, E1000_CTRL, E1000_CTRL_SLU | E1000_CTRL_FD);
	wr(v, E1000_RDBAL, (uint32_t)(RAM_GPA + RX_RING));
	wr(v, E1000_RDLEN, RING_N * 16);
	wr(v, E1000_RDT, RING_N - 1);
	wr(v, E1000_RCTL,
	   E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_BAM | E1000_RCTL_SECRC);
	wr(v, E1000_TDBAL, (uint32_t)(RAM_GPA + TX_RING));
	wr(v, E1000_TDLEN, RING_N * 16);
	wr(v, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
	wr(v, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW);
}

/* Spins briefly, then sleeps until the sink reports a new edge. */
static bool hvm_wait_irq(struct hvm *v, uint64_t deadline)
{
	uint64_t spin_end = pair_now_ns() + SPIN_NS;
	uint32_t e;

	while ((e = atomic_load(&v->sink_cfg.edges)) == v->seen) {
		if (atomic_load(&v->stop) || pair_now_ns() > deadline)
			return false;
		if (pair_now_ns() > spin_end)
			futex_wait(&v->sink_cfg.edges, e);
	}
	v->seen = e;
	(void)rd(v, E1000_ICR); /* clears the causes: the line drops */
	return true;
}

/* Puts @f in the next TX descriptor (EOP, RS), without the doorbell. */
static bool hvm_tx_put(struct hvm *v, const uint8_t *f, unsigned len)
{
	uint32_t i = v->tx_tail, next = (i + 1) % RING_N;
	uint8_t *d;

	while (v->tx_clean != i && (desc(v, TX_RING, v->tx_clean)[12] & 1))
		v->tx_clean = (v->tx_clean + 1) % RING_N;
	if (next == v->tx_clean)
		return false; /* ring full: the caller retries */
	memcpy(avm_ram_ptr(v->rt, RAM_GPA + TX_BUF + BUF_SLOT * i, len), f,
	       len);
	d = desc(v, TX_RING, i);
	memset(d, 0, 16);
	put_le(d, RAM_GPA + TX_BUF + BUF_SLOT * i, 8);
	put_le(d + 8, len, 2);
	d[11] = E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | E1000_TXD_CMD_IFCS;
	v->tx_tail = next;
	/* The descriptor before the doorbell, as a driver's wmb(). */
	atomic_thread_fence(memory_order_release);
	return true;
}

static bool hvm_tx(struct hvm *v, const uint8_t *f, unsigned len)
{
	if (!hvm_tx_put(v, f, len))
		return false;
	wr(v, E1000_TDT, v->tx_tail);
	return true;
}

/* Takes the next received frame into @buf; its length or 0. */
static unsigned hvm_rx(struct hvm *v, uint8_t *buf)
{
	uint32_t i = v->rx_next;
	uint8_t *d = desc(v, RX_RING, i);
	unsigned len;

	if (!(atomic_load_explicit((_Atomic uint8_t *)&d[12],
				   memory_order_acquire) &
	      E1000_RXD_STAT_DD))
		return 0;
	len = (unsigned)(d[8] | d[9] << 8);
	if (buf)
		memcpy(buf,
		       avm_ram_ptr(v->rt, RAM_GPA + RX_BUF + BUF_SLOT * i, len),
		       len);
	memset(d + 8, 0, 8);
	v->rx_next = (i + 1) % RING_N;
	wr(v, E1000_RDT, i);
	return len;
}

struct mode {
	struct hvm *v;
	bool echo;
};

/* Peer driver: counts every frame, or sends each one straight back. */
static void *hvm_peer(void *arg)
{
	struct mode *m = arg;
	struct hvm *v = m->v;
	uint8_t buf[2048];
	unsigned len;

	if (avm_accessor_new(v->rt, "driver-b", &v->acc)) {
		v->err = -EIO;
		return NULL;
	}
	while (hvm_wait_irq(v, UINT64_MAX)) {
		while ((len = hvm_rx(v, m->echo ? buf : NULL))) {
			while (m->echo && !hvm_tx(v, buf, len))
				sched_yield();
			atomic_fetch_add(&v->rx_frames, 1);
			/* Seq_cst both: the count before the look at
			 * tx_waiting, against the sender's store of it
			 * before its look at the count (window_wait). */
			atomic_fetch_add(&v->rx_seq, 1);
			if (atomic_load(&v->tx_waiting))
				futex_wake(&v->rx_seq);
		}
	}
	avm_accessor_free(v->acc);
	v->acc = NULL;
	return NULL;
}

struct duo {
	struct hvm a, b;
	pthread_t peer;
	bool peer_started;
	struct mode mode;
	bool traced;
};

/* Both VMs recorded: PREFIX-RUN-a.trace and PREFIX-RUN-b.trace. */
static int duo_trace(struct duo *d, const char *prefix, const char *run)
{
	char pa[512], pb[512];
	int ret;

	if (!prefix)
		return 0;
	snprintf(pa, sizeof(pa), "%s-%s-a.trace", prefix, run);
	snprintf(pb, sizeof(pb), "%s-%s-b.trace", prefix, run);
	ret = avm_trace_start(d->a.rt,
			      &(struct avm_trace_options){ .path = pa });
	if (ret)
		return ret;
	ret = avm_trace_start(d->b.rt,
			      &(struct avm_trace_options){ .path = pb });
	if (ret) {
		avm_trace_stop(d->a.rt);
		return ret;
	}
	d->traced = true;
	printf("  (tracing to %s and %s)\n", pa, pb);
	return 0;
}

static void duo_free(struct duo *d)
{
	if (d->traced) {
		avm_trace_stop(d->a.rt);
		avm_trace_stop(d->b.rt);
	}
	if (d->peer_started) {
		atomic_store(&d->b.stop, true);
		futex_wake(&d->b.sink_cfg.edges);
		pthread_join(d->peer, NULL);
	}
	if (d->b.acc)
		avm_accessor_free(d->b.acc);
	if (d->b.rt)
		avm_runtime_free(d->b.rt);
	if (d->a.acc)
		avm_accessor_free(d->a.acc);
	if (d->a.rt)
		avm_runtime_free(d->a.rt);
}

/* Both VMs up, B's driver thread running, both links up. */
static int duo_up(struct duo *d, bool echo)
{
	static const char url[] = "inproc://e1000-bench-wire";
	uint64_t end = pair_now_ns() + STALL_NS;
	int ret = hvm_build(&d->a, url, true, 0x0a)
			  ?: hvm_build(&d->b, url, false, 0x0b)
			  ?: avm_accessor_new(d->a.rt, "driver-a", &d->a.acc);

	/* B is set up from here; its own thread then makes its accessor. */
	ret = ret ?: avm_accessor_new(d->b.rt, "setup-b", &d->b.acc);
	if (ret)
		return ret;
	hvm_open(&d->a);
	hvm_open(&d->b);
	while (!(rd(&d->b, E1000_STATUS) & E1000_STATUS_LU) ||
	       !(rd(&d->a, E1000_STATUS) & E1000_STATUS_LU))
		if (pair_now_ns() > end)
			return -ETIMEDOUT;
	avm_accessor_free(d->b.acc);
	d->b.acc = NULL;
	d->mode = (struct mode){ .v = &d->b, .echo = echo };
	d->peer_started = !pthread_create(&d->peer, NULL, hvm_peer, &d->mode);
	return d->a.err ?: d->b.err;
}

/*
 * What the host spent on a run, per thread of the VMM and per device
 * process: context switches (voluntary and not, /proc/.../status) and CPU
 * time, in nanoseconds from schedstat where the kernel keeps it, else in
 * clock ticks from stat (10 ms each: too coarse for a quick run).
 */
#define MAX_TASKS 64

struct task_cost {
	char name[40]; /* "vmm wire", "dev:nic" */
	int tid;
	uint64_t switches, cpu_ns;
};

struct cost {
	uint64_t switches, cpu_ns;
	unsigned n;
	struct task_cost t[MAX_TASKS];
};

static uint64_t status_switches(const char *path)
{
	char line[128];
	uint64_t v, sum = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %" SCNu64, &v) ==
			    1 ||
		    sscanf(line, "nonvoluntary_ctxt_switches: %" SCNu64, &v) ==
			    1)
			sum += v;
	fclose(f);
	return sum;
}

/* A task's CPU time: schedstat's first field, else stat's utime+stime. */
static uint64_t task_cpu_ns(const char *dir)
{
	char path[300], buf[1024], *p = NULL;
	unsigned long long run;
	uint64_t ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/schedstat", dir);
	if ((f = fopen(path, "r"))) {
		int ok = fscanf(f, "%llu", &run) == 1;

		fclose(f);
		if (ok)
			return run;
	}
	snprintf(path, sizeof(path), "%s/stat", dir);
	if (!(f = fopen(path, "r")))
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* After "(comm)": state, then 10 fields, then utime and stime. */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %" SCNu64
			 " %" SCNu64,
			 &ut, &st) != 2)
		return 0;
	return (ut + st) * (uint64_t)(1e9 / (double)sysconf(_SC_CLK_TCK));
}

static void add_task(struct cost *c, const char *who, int pid, int tid)
{
	struct task_cost *t = &c->t[c->n];
	char dir[96], path[128], comm[32] = "?";
	FILE *f;

	if (c->n == MAX_TASKS)
		return;
	snprintf(dir, sizeof(dir), "/proc/%d/task/%d", pid, tid);
	snprintf(path, sizeof(path), "%s/comm", dir);
	if ((f = fopen(path, "r"))) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	snprintf(t->name, sizeof(t->name), "%s %s", who, comm);
	t->tid = tid;
	snprintf(path, sizeof(path), "%s/status", dir);
	t->switches = status_switches(path);
	t->cpu_ns = task_cpu_ns(dir);
	c->switches += t->switches;
	c->cpu_ns += t->cpu_ns;
	c->n++;
}

static void add_process(struct cost *c, const char *who, int pid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if (!(dir = opendir(path)))
		return;
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			add_task(c, who, pid, atoi(e->d_name));
	closedir(dir);
}

/* Of every thread of this process and of both NICs' device processes. */
static void duo_cost(struct duo *d, struct cost *c)
{
	struct avm_process_info pi;

	*c = (struct cost){ 0 };
	add_process(c, "vmm", getpid());
	for (int i = 0; i < 2; i++) {
		struct hvm *v = i ? &d->b : &d->a;

		if (v->iso && !avm_actor_process(v->rt, v->nic, &pi))
			add_process(c, i ? "dev(b)" : "dev(a)", pi.pid);
	}
}

/* --threads: what each thread spent per frame between @c0 and @c1. */
static void print_threads(const struct cost *c0, const struct cost *c1,
			  unsigned frames, bool iso)
{
	printf("    %s run, %u frames; per frame, each thread that ran:\n",
	       iso ? "device-process" : "in-process", frames);
	for (unsigned j = 0; j < c1->n; j++) {
		const struct task_cost *t = &c1->t[j];
		uint64_t sw = t->switches, cpu = t->cpu_ns;

		for (unsigned i = 0; i < c0->n; i++)
			if (c0->t[i].tid == t->tid) {
				sw -= c0->t[i].switches;
				cpu -= c0->t[i].cpu_ns;
			}
		/* Threads that hardly ran (nng's timers, a listener). */
		if (sw * 200 >= frames || cpu * 100 >= 1000ull * frames)
			printf("      %-24s tid %-7d %5.2f switches %7.2f us "
			       "CPU\n",
			       t->name, t->tid, (double)sw / frames,
			       (double)cpu / 1e3 / frames);
	}
}

/*
 * The sender has WINDOW frames in flight: it spins SPIN_NS for the peer's
 * count to move, then sleeps until the peer counts a frame, as a driver
 * stops its queue and waits for a completion (a sched_yield loop here
 * would bill the host's idle time to the frames).
 */
static void window_wait(struct hvm *peer, uint64_t count_seen)
{
	uint64_t spin_end = pair_now_ns() + SPIN_NS;
	uint32_t seq;

	while (pair_now_ns() < spin_end)
		if (atomic_load(&peer->rx_frames) != count_seen)
			return;
	seq = atomic_load(&peer->rx_seq);
	/* Seq_cst both: tx_waiting before the look at the count, against
	 * the peer's count before its look at tx_waiting (hvm_peer). */
	atomic_store(&peer->tx_waiting, true);
	if (atomic_load(&peer->rx_frames) == count_seen)
		futex_wait(&peer->rx_seq, seq);
	atomic_store(&peer->tx_waiting, false);
}

static int e1000_tput(unsigned size, unsigned count, bool iso, bool threads,
		      uint64_t *ns, struct cost *cost)
{
	struct duo d = { .a.iso = iso, .b.iso = iso };
	uint8_t f[2048];
	uint64_t t0, last = 0, stall = 0;
	static struct cost c0, c1; /* large: not on the stack */
	int ret = duo_up(&d, false);

	fill(f, size, 0);
	duo_cost(&d, &c0);
	t0 = pair_now_ns();
	for (unsigned sent = 0; !ret && sent < count;) {
		uint64_t got = atomic_load(&d.b.rx_frames);

		if (sent - got < WINDOW && hvm_tx(&d.a, f, size)) {
			sent++;
			continue;
		}
		if (sent - got >= WINDOW)
			window_wait(&d.b, got);
		else
			sched_yield(); /* TX ring full: the NIC catches up */
		stall = got != last ? pair_now_ns()
			: stall	    ? stall
				    : pair_now_ns();
		last = got;
		if (pair_now_ns() - stall > STALL_NS)
			ret = -ETIMEDOUT;
	}
	while (!ret && atomic_load(&d.b.rx_frames) < count)
		if (pair_now_ns() - t0 > 100 * STALL_NS)
			ret = -ETIMEDOUT;
		else
			window_wait(&d.b, atomic_load(&d.b.rx_frames));
	*ns = pair_now_ns() - t0;
	duo_cost(&d, &c1);
	cost->switches += c1.switches - c0.switches;
	cost->cpu_ns += c1.cpu_ns - c0.cpu_ns;
	if (threads)
		print_threads(&c0, &c1, count, iso);
	duo_free(&d);
	return ret ?: d.a.err;
}

/* (c); @wire_fast as in e1000_doorbell(). */
static int e1000_rtt(unsigned size, unsigned n, double *ns, const char *trace,
		     int wire_fast, bool iso)
{
	struct duo d = { .a.wire_fast = wire_fast,
			 .b.wire_fast = wire_fast,
			 .a.iso = iso,
			 .b.iso = iso };
	uint8_t f[2048];
	int ret =
		duo_up(&d, true)
			?: duo_trace(&d, trace, wire_fast ? "c-inplace" : "c");

	fill(f, size, 0);
	for (unsigned i = 0; !ret && i < n; i++) {
		uint64_t t0 = pair_now_ns(), end = t0 + STALL_NS;

		if (!hvm_tx(&d.a, f, size))
			ret = -EIO;
		while (!ret && !hvm_rx(&d.a, NULL))
			if (!hvm_wait_irq(&d.a, end))
				ret = -ETIMEDOUT;
		ns[i] = (double)(pair_now_ns() - t0);
	}
	duo_free(&d);
	return ret ?: d.a.err;
}

/* Polls TX descriptor @slot's status byte for DD (written by the NIC). */
static int hvm_poll_dd(struct hvm *v, uint32_t slot, uint64_t end)
{
	_Atomic uint8_t *sta = (_Atomic uint8_t *)&desc(v, TX_RING, slot)[12];

	/* Acquire: the NIC's write-back before we look at anything else. */
	while (!(atomic_load_explicit(sta, memory_order_acquire) &
		 E1000_TXD_STAT_DD))
		if (pair_now_ns() > end)
			return -ETIMEDOUT;
	return 0;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_nsec = (long)ns };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* (e)'s floor: a thread asleep in epoll on an eventfd, as the wire's is. */
struct sleeper {
	int efd, ep;
	_Atomic bool stop;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *z = arg;
	struct epoll_event ev;
	uint64_t v;

	while (!atomic_load(&z->stop))
		if (epoll_wait(z->ep, &ev, 1, -1) == 1 &&
		    read(z->efd, &v, sizeof(v)) < 0)
			break;
	return NULL;
}

/*
 * What one wake-up of a sleeping thread costs the thread that makes it:
 * an eventfd write to a thread asleep in epoll (a wire's server, woken by
 * libev's ev_async), after the same gap as (e). The doorbell, with the wire
 * on its own thread, pays exactly one.
 */
static int wake_floor(unsigned n, double *ns)
{
	struct sleeper z = { .efd = eventfd(0, EFD_NONBLOCK) };
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t one = 1;
	pthread_t th;
	int ret = 0;

	z.ep = epoll_create1(0);
	if (z.efd < 0 || z.ep < 0 ||
	    epoll_ctl(z.ep, EPOLL_CTL_ADD, z.efd, &ev) ||
	    pthread_create(&th, NULL, sleeper_main, &z)) {
		ret = -errno;
		goto close_fds;
	}
	for (unsigned i = 0; i < n && !ret; i++) {
		uint64_t t0;

		sleep_ns(DB_GAP_NS);
		t0 = pair_now_ns();
		if (write(z.efd, &one, sizeof(one)) != sizeof(one))
			ret = -errno;
		ns[i] = (double)(pair_now_ns() - t0);
	}
	atomic_store(&z.stop, true);
	if (write(z.efd, &one, sizeof(one)) != sizeof(one) && !ret)
		ret = -errno;
	pthread_join(th, NULL);
close_fds:
	if (z.ep >= 0)
		close(z.ep);
	if (z.efd >= 0)
		close(z.efd);
	return ret;
}

/*
 * Makes this thread SCHED_FIFO @prio (0: back to SCHED_OTHER), as a
 * real-time VCPU's thread is. False if the host refuses.
 */
static bool set_fifo(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	return !pthread_setschedparam(pthread_self(),
				      prio ? SCHED_FIFO : SCHED_OTHER, &sp);
}

/* (e): the NIC idle and asleep, one doorbell, DD polled for. With
 * @wire_fast 1 the wire is run in place: the frame's nng_send runs on the
 * writer's thread, not on the wire's. With @fifo the driver thread
 * runs at SCHED_FIFO @fifo while it measures (its actors do not). */
static int e1000_doorbell(unsigned n, double *ns, const char *trace,
			  int wire_fast, int fifo)
{
	struct duo d = { .a.wire_fast = wire_fast, .b.wire_fast = wire_fast };
	uint8_t f[64];
	static const char *const name[2][2] = {
		{ "e", "e-fifo" }, { "e-inplace", "e-fifo-inplace" }
	};
	int ret = duo_up(&d, false)
			  ?: duo_trace(&d, trace,
				       name[wire_fast != 0][fifo != 0]);

	fill(f, sizeof(f), 0);
	if (!ret && fifo && !set_fifo(fifo))
		ret = -EPERM;
	for (unsigned i = 0; !ret && i < n; i++) {
		uint32_t slot = d.a.tx_tail;
		uint64_t t0;

		sleep_ns(DB_GAP_NS);
		if (!hvm_tx_put(&d.a, f, sizeof(f))) {
			ret = -EIO;
			break;
		}
		t0 = pair_now_ns();
		wr(&d.a, E1000_TDT, d.a.tx_tail);
		ret = hvm_poll_dd(&d.a, slot, t0 + STALL_NS);
		ns[i] = (double)(pair_now_ns() - t0);
		(void)rd(&d.a, E1000_ICR); /* the driver's ack of TXDW */
	}
	if (fifo)
		set_fifo(0);
	duo_free(&d);
	return ret ?: d.a.err;
}

/* --- (d) guests ----------------------------------------------------------- */

static int guest_run(const char *elf, unsigned rounds, unsigned window,
		     unsigned size, bool iso, uint64_t *ns)
{
	static struct pair_vm ping, pong;
	char pc[96], qc[64], mark[48];
	int s1 = 124, s2 = 124;
	uint64_t end = pair_now_ns() + 300 * 1000000000ull, t1 = 0, t0;

	snprintf(pc, sizeof(pc), "role=ping rounds=%u window=%u size=%u",
		 rounds, window, size);
	snprintf(qc, sizeof(qc), "role=pong rounds=%u", rounds);
	snprintf(mark, sizeof(mark), "ping: %u rounds", rounds);
	memset(&ping, 0, sizeof(ping));
	memset(&pong, 0, sizeof(pong));
	ping.console.quiet = pong.console.quiet = true;
	ping.nic_isolated = pong.nic_isolated = iso;
	ping.console.mark = mark;
	if (!pair_vm_start(&ping, "ping", elf, pc, "inproc://e1000-bench-g",
			   true, 0x0a) &&
	    !pair_vm_start(&pong, "pong", elf, qc, "inproc://e1000-bench-g",
			   false, 0x0b)) {
		s1 = pair_vm_wait(&ping, end);
		t1 = pair_now_ns();
		s2 = pair_vm_wait(&pong, end);
	}
	t0 = atomic_load(&ping.console.mark_ns);
	*ns = t1 > t0 && t0 ? t1 - t0 : 1;
	pair_vm_free(&pong);
	pair_vm_free(&ping);
	return s1 == 33 && s2 == 33 && t0 ? 0 : -EIO;
}

/* --- main ----------------------------------------------------------------- */

static int part_raw(const struct opts *o, double fps[2], struct stats *rtt)
{
	static const unsigned sizes[2] = { 64, 1514 };
	double *ns = calloc(o->rtt, sizeof(*ns));
	uint64_t t;
	int ret = 0;

	printf("(a) raw nng PAIR1 over inproc://, one direction (the floor)\n");
	for (int i = 0; i < 2 && !ret; i++) {
		ret = raw_tput(sizes[i], o->frames, &t);
		fps[i] = (double)o->frames * 1e9 / (double)t;
		print_tput("nng send -> recv", sizes[i], o->frames, t, 0);
	}
	ret = ret ?: raw_rtt(64, o->rtt, ns);
	if (!ret) {
		summarize(ns, o->rtt, rtt);
		print_stats("nng echo round trip, 64 B", rtt, 0);
	}
	free(ns);
	return ret;
}

/*
 * (b) for one size: the NICs in-process and in device processes, in
 * alternating runs of a quarter of the frames each (this host's speed
 * drifts from one minute to the next: the ratio holds only if both saw the
 * same host), then the ratio of the totals.
 */
static int tput_pair(const struct opts *o, unsigned size, double floor_fps)
{
	uint64_t t, sum[2] = { 0, 0 }, n = o->frames / 4;
	static struct cost c[2];
	int ret = 0;

	c[0] = c[1] = (struct cost){ 0 };
	for (int k = 0; k < 4 && !ret; k++) {
		ret = e1000_tput(size, (unsigned)n, k & 1, o->threads, &t,
				 &c[k & 1]);
		sum[k & 1] += t;
	}
	if (ret)
		return ret;
	print_tput("driver TX -> peer RX", size, 2 * n, sum[0], floor_fps);
	print_tput("the same, both NICs in device processes", size, 2 * n,
		   sum[1], floor_fps);
	printf("  %u B: device processes reach %.0f%% of the in-process "
	       "frames/s (target 80%%; alternating runs)\n",
	       size, 100.0 * (double)sum[0] / (double)sum[1]);
	printf("  %u B: per frame, all threads and device processes: "
	       "%.2f context switches and %.1f us of CPU in-process, %.2f "
	       "and %.1f us isolated\n",
	       size, (double)c[0].switches / (double)(2 * n),
	       (double)c[0].cpu_ns / 1e3 / (double)(2 * n),
	       (double)c[1].switches / (double)(2 * n),
	       (double)c[1].cpu_ns / 1e3 / (double)(2 * n));
	return 0;
}

static int part_e1000(const struct opts *o, const double fps[2],
		      const struct stats *floor)
{
	static const unsigned sizes[2] = { 64, 1514 };
	double *ns = calloc(o->rtt, sizeof(*ns));
	struct stats s;
	int ret = 0;

	printf("(b) two e1000 actors over a wire (inproc://), host threads as "
	       "drivers, window %d\n",
	       WINDOW);
	for (int i = 0; i < 2 && !ret; i++)
		ret = tput_pair(o, sizes[i], fps[i]);
	printf("(c) one frame: TX -> peer RX irq -> peer TX -> RX irq\n");
	for (int i = 0; i < 3 && !ret; i++) {
		ret = e1000_rtt(64, o->rtt, ns, i == 2 ? NULL : o->trace,
				i == 1, i == 2);
		if (ret)
			break;
		summarize(ns, o->rtt, &s);
		print_stats(i == 2   ? "  the same, NICs in device processes"
			    : i == 1 ? "  the same, wire in place"
				     : "e1000 pair round trip, 64 B",
			    &s, floor->p50);
	}
	free(ns);
	return ret;
}

static int part_doorbell(const struct opts *o, const struct stats *floor)
{
	static const struct {
		const char *what;
		int wire_fast, fifo;
	} run[4] = {
		{ "TDT write -> TX DD, 64 B", 0, 0 },
		{ "  the same, wire in place", 1, 0 },
		{ "  driver SCHED_FIFO 80", 0, 80 },
		{ "  driver SCHED_FIFO 80, wire in place", 1, 80 },
	};
	double *ns = calloc(o->rtt, sizeof(*ns));
	struct stats s;
	int ret = 0;

	printf("(e) doorbell to DD, NIC idle (asleep %u us before each): TDT "
	       "write -> DD polled\n",
	       DB_GAP_NS / 1000);
	ret = wake_floor(o->rtt, ns);
	if (!ret) {
		summarize(ns, o->rtt, &s);
		print_stats("floor: wake a thread in epoll", &s, 0);
	}
	for (int i = 0; i < 4 && !ret; i++) {
		ret = e1000_doorbell(o->rtt, ns, o->trace, run[i].wire_fast,
				     run[i].fifo);
		if (ret == -EPERM) {
			printf("  %-34s not measured: SCHED_FIFO refused\n",
			       run[i].what);
			ret = 0;
			continue;
		}
		if (ret)
			break;
		summarize(ns, o->rtt, &s);
		print_stats(run[i].what, &s, floor->p50);
		printf("  %-34s p99 %.1f us (target <= 50 us); p50 %.3fx, "
		       "p99 %.3fx the nng echo p50\n",
		       "", s.p99 / 1e3, s.p50 / floor->p50, s.p99 / floor->p50);
	}
	free(ns);
	return ret;
}

/* Windowed throughput of the two guests, NICs in-process or isolated. */
static int guest_tput(const struct opts *o, const double fps[2], bool iso,
		      double out[2])
{
	static const unsigned sizes[2] = { 64, 1514 };
	uint64_t t;
	int ret = 0;

	for (int i = 0; i < 2 && !ret; i++) {
		ret = guest_run(o->guest, o->rounds, 8, sizes[i], iso, &t);
		if (ret)
			break;
		print_tput(iso ? "the same, NICs in device processes"
			       : "ping+echo, window 8",
			   sizes[i], o->rounds, t, fps[i]);
		out[i] = (double)o->rounds * 1e9 / (double)t;
	}
	return ret;
}

static int part_guest(const struct opts *o, const double fps[2])
{
	double in[2] = { 0 }, iso[2] = { 0 };
	uint64_t t;
	int ret;

	printf("(d) two guests (e1000_pingpong, software CPU), %u rounds, "
	       "timed from ping's start line to its exit\n",
	       o->rounds);
	ret = guest_tput(o, fps, false, in) ?: guest_tput(o, fps, true, iso);
	for (int i = 0; i < 2 && !ret; i++)
		printf("  %s B: device processes reach %.0f%% of the "
		       "in-process rounds/s (target 80%%)\n",
		       i ? "1514" : "64", 100.0 * iso[i] / in[i]);
	for (int k = 0; k < 2 && !ret; k++) {
		ret = guest_run(o->guest, o->rounds, 1, 64, k, &t);
		if (!ret)
			printf("  %-34s mean %8.1f us (%u rounds, window 1)\n",
			       k ? "  the same, NICs in device processes"
				 : "guest round trip, 64 B",
			       (double)t / o->rounds / 1e3, o->rounds);
	}
	return ret;
}

static const char usage[] =
	"usage: e1000_bench [--quick] [--threads] [--guest ELF] [--trace "
	"PREFIX]\n"
	"Frames between two VMs through two e1000 actors and an nng wire,\n"
	"against raw nng measured in the same run (parts (a) to (e), see\n"
	"docs/performance.md and docs/isolation.md).\n"
	"  --quick        fewer frames and round trips (a smoke run)\n"
	"  --threads      (b): print, for each run, what each VMM thread and\n"
	"                 device process spent per frame (switches, CPU)\n"
	"  --guest ELF    (d): also run the e1000_pingpong guest (software\n"
	"                 CPU) as ping and pong, NICs in-process and isolated\n"
	"  --trace PREFIX record (c) and (e): PREFIX-<run>-<vm>.trace\n"
	"  -h, --help     this text\n"
	"Exit status: 0 when every measurement completed, 1 when one failed\n"
	"(a lost frame, an API error), 2 on a usage error. Timing never\n"
	"fails the run.\n";

/* 0: run; 1: help was asked for; -1: a usage error. */
static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "threads", no_argument, NULL, 'T' },
		{ "guest", required_argument, NULL, 'g' },
		{ "trace", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	*o = (struct opts){ 0 };
	while ((c = getopt_long(argc, argv, "qg:t:h", lo, NULL)) != -1) {
		if (c == 'q')
			o->quick = true;
		else if (c == 'T')
			o->threads = true;
		else if (c == 'g')
			o->guest = optarg;
		else if (c == 't')
			o->trace = optarg;
		else if (c == 'h')
			return 1;
		else
			return -1;
	}
	o->frames = o->quick ? QUICK_FRAMES : FULL_FRAMES;
	o->rtt = o->quick ? QUICK_RTT : FULL_RTT;
	o->rounds = o->quick ? QUICK_ROUNDS : FULL_ROUNDS;
	return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o;
	double fps[2] = { 0 };
	struct stats floor;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows under meson too */
	ret = parse(argc, argv, &o);
	if (ret) {
		fputs(usage, ret > 0 ? stdout : stderr);
		return ret > 0 ? 0 : 2;
	}
	printf("actorvm e1000 benchmark: %u frames per throughput run, %u "
	       "round trips%s; %ld CPUs\n",
	       o.frames, o.rtt, o.quick ? " (quick)" : "",
	       sysconf(_SC_NPROCESSORS_ONLN));
	ret = part_raw(&o, fps, &floor) ?: part_e1000(&o, fps, &floor);
	ret = ret ?: part_doorbell(&o, &floor);
	if (!ret && o.guest)
		ret = part_guest(&o, fps);
	if (ret)
		fprintf(stderr, "e1000_bench: a measurement failed: %s\n",
			strerror(-ret));
	return ret ? 1 : 0;
}
