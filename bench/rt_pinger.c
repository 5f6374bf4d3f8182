/* SPDX-License-Identifier: MIT */
/*
 * rt_pinger: the world outside bench/rt-latency's VM.
 *
 *   rt_pinger [--ping URL --out CSV [--ping-floor URL]] [--echo URL]
 *             [--floor CSV]
 *             [--sink URL] [--stall FIFO] [--priority P] [--seconds S]
 *             [--interval-ms N] [--stall-ms N] [--stall-every BYTES]
 *
 * - ping: dials the real-time NIC's wire (nng PAIR v1, one raw Ethernet
 *   frame per message) and sends a frame every N ms (default 10); the guest
 *   echoes it; the round trip of each is written to CSV (ns; -1: lost).
 *   With --ping-floor URL, each period then pings that URL too (an --echo
 *   process): lines are "vm_ns,floor_ns", the floor in the same moment.
 * - echo: listens on URL and sends every frame straight back: a bare host
 *   process in the VM's place, the floor of the ping round trip.
 * - floor: cyclictest -S in miniature: one thread pinned to each CPU wakes
 *   every 1 ms on an absolute CLOCK_MONOTONIC deadline and writes
 *   "cpu,latency_ns,tsc" per wake-up (the TSC at the wake-up, the clock the
 *   guest's samples carry too): the host's own timer wake-up latency, in
 *   the same run and under the same load.
 * - sink: dials the load NIC's wire and discards what it floods.
 * - stall: the slow terminal behind COM1: reads the FIFO and sleeps
 *   --stall-ms (default 5) after every --stall-every bytes (64 KiB).
 * - priority: SCHED_FIFO P for every thread of the process, nng's included
 *   (set before any is created, so all inherit it); 0 (default): normal.
 * It ends after --seconds (default 60) or at SIGTERM/SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 100000
#define FRAME_LEN   64

struct opts {
	const char *ping, *ping_floor, *sink, *stall, *out, *echo, *floor;
	int interval_ms, seconds, stall_ms, priority;
	long stall_every;
};

/* Set by the signal handler, read by every loop: the one way to stop. */
static atomic_bool quit;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&quit, true);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	nanosleep(&ts, NULL);
}

static int dial(nng_socket *s, const char *url, int recv_ms)
{
	int rv = nng_pair1_open(s);

	if (!rv)
		rv = nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, recv_ms);
	/* Without a peer (the VM has gone) a send would wait for ever. */
	if (!rv)
		rv = nng_socket_set_ms(*s, NNG_OPT_SENDTIMEO, 100);
	if (!rv)
		rv = nng_dial(*s, url, NULL, NNG_FLAG_NONBLOCK);
	if (rv)
		fprintf(stderr, "rt_pinger: %s: %s\n", url, nng_strerror(rv));
	return rv ? -1 : 0;
}

static void *sink_main(void *arg)
{
	nng_socket s;
	size_t n = 0;

	if (dial(&s, arg, 100))
		return NULL;
	while (!atomic_load(&quit)) {
		void *buf;
		size_t len;

		if (!nng_recv(s, &buf, &len, NNG_FLAG_ALLOC)) {
			nng_free(buf, len);
			n++;
		}
	}
	fprintf(stderr, "rt_pinger: sink took %zu frames\n", n);
	nng_close(s);
	return NULL;
}

/* The VM's part, done by a bare process: swap the addresses, send back. */
static void *echo_main(void *arg)
{
	nng_socket s;
	int rv = nng_pair1_open(&s);

	if (!rv)
		rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 100);
	if (!rv)
		rv = nng_listen(s, arg, NULL, 0);
	if (rv) {
		fprintf(stderr, "rt_pinger: %s: %s\n", (char *)arg,
			nng_strerror(rv));
		return NULL;
	}
	while (!atomic_load(&quit)) {
		uint8_t mac[6], *buf;
		size_t len;

		if (nng_recv(s, &buf, &len, NNG_FLAG_ALLOC))
			continue;
		if (len >= 12) {
			memcpy(mac, buf, 6);
			memcpy(buf, buf + 6, 6);
			memcpy(buf + 6, mac, 6);
		}
		if (nng_send(s, buf, len, NNG_FLAG_ALLOC | NNG_FLAG_NONBLOCK))
			nng_free(buf, len);
	}
	/* Not closed: nng 1.5.2's close can wait for ever when the peer goes
	 * in the same moment (nng#1543, fixed after 1.5.2); the process exits
	 * next, and that closes it. */
	return NULL;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

struct floor {
	FILE *out;
	int cpu;
	pthread_t t;
};

/* cyclictest's loop on one CPU: absolute 1 ms deadlines, the lateness of
 * each wake-up (stdio locks the stream per call: lines stay whole). */
static void *floor_main(void *arg)
{
	struct floor *fl = arg;
	struct timespec next, now;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(fl->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&quit)) {
		next.tv_nsec += 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				    NULL))
			continue; /* a signal: the loop looks at quit */
		clock_gettime(CLOCK_MONOTONIC, &now);
		fprintf(fl->out, "%d,%lld,%llu\n", fl->cpu,
			(long long)(now.tv_sec - next.tv_sec) * 1000000000ll +
				(now.tv_nsec - next.tv_nsec),
			(unsigned long long)rdtsc());
	}
	return NULL;
}

/* One floor thread per online CPU, as cyclictest -S: a stall of one host
 * CPU shows on its own thread. Returns how many started. */
static int floors_start(struct floor *fl, int max, FILE *out)
{
	int n = (int)sysconf(_SC_NPROCESSORS_ONLN), started = 0;

	for (int cpu = 0; out && cpu < n && cpu < max; cpu++) {
		fl[started] = (struct floor){ .out = out, .cpu = cpu };
		if (!pthread_create(&fl[started].t, NULL, floor_main,
				    &fl[started]))
			started++;
	}
	return started;
}

/* O_RDWR: never "no writer" EOF, and the UART can open it at once. */
static void *stall_main(void *arg)
{
	const struct opts *o = arg;
	static char buf[4096];
	long since = 0;
	int fd = open(o->stall, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror(o->stall);
		return NULL;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (!atomic_load(&quit)) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r <= 0) {
			sleep_ns(200000); /* nothing yet: look again soon */
			continue;
		}
		since += r;
		if (since >= o->stall_every) {
			since = 0;
			sleep_ns((uint64_t)o->stall_ms * 1000000ull);
		}
	}
	close(fd);
	return NULL;
}

/* One round trip: -1 when the echo does not come within the interval. */
static int64_t ping_once(nng_socket s, uint32_t seq)
{
	uint8_t f[FRAME_LEN] = { 0 };
	uint64_t t0;
	void *buf;
	size_t len;

	memset(f, 0xff, 6);
	f[6] = 0x02; /* a locally administered source MAC */
	f[12] = 0x88, f[13] = 0xB5;
	memcpy(f + 14, &seq, 4);
	t0 = now_ns();
	if (nng_send(s, f, sizeof(f), 0))
		return -1;
	while (!nng_recv(s, &buf, &len, NNG_FLAG_ALLOC)) {
		uint32_t got = 0;

		if (len >= 18)
			memcpy(&got, (uint8_t *)buf + 14, 4);
		nng_free(buf, len);
		if (got == seq)
			return (int64_t)(now_ns() - t0);
	}
	return -1;
}

/* Each period: the VM's NIC, then (with --ping-floor) the bare echo. */
static void run_pings(const struct opts *o, FILE *out)
{
	uint64_t period = (uint64_t)o->interval_ms * 1000000ull;
	uint64_t end = now_ns() + (uint64_t)o->seconds * 1000000000ull;
	uint64_t next = now_ns() + period;
	nng_socket s, f;
	unsigned lost = 0, n = 0;

	if (dial(&s, o->ping, 100))
		return;
	if (o->ping_floor && dial(&f, o->ping_floor, 100))
		goto close_ping;
	for (uint32_t seq = 1; !atomic_load(&quit) && now_ns() < end; seq++) {
		int64_t rtt = ping_once(s, seq);
		int64_t base = o->ping_floor ? ping_once(f, seq) : -1;
		uint64_t t = now_ns();

		fprintf(out, "%lld,%lld\n", (long long)rtt, (long long)base);
		lost += rtt < 0;
		n++;
		if (t < next)
			sleep_ns(next - t);
		next += period;
	}
	fprintf(stderr, "rt_pinger: %u pings, %u lost\n", n, lost);
	if (o->ping_floor)
		nng_close(f);
close_ping:
	nng_close(s);
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .interval_ms = 10,
			    .seconds = 60,
			    .stall_ms = 5,
			    .stall_every = 65536 };
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--ping"))
			o->ping = v;
		else if (!strcmp(k, "--sink"))
			o->sink = v;
		else if (!strcmp(k, "--stall"))
			o->stall = v;
		else if (!strcmp(k, "--out"))
			o->out = v;
		else if (!strcmp(k, "--ping-floor"))
			o->ping_floor = v;
		else if (!strcmp(k, "--echo"))
			o->echo = v;
		else if (!strcmp(k, "--floor"))
			o->floor = v;
		else if (!strcmp(k, "--priority"))
			o->priority = atoi(v);
		else if (!strcmp(k, "--interval-ms"))
			o->interval_ms = atoi(v);
		else if (!strcmp(k, "--seconds"))
			o->seconds = atoi(v);
		else if (!strcmp(k, "--stall-ms"))
			o->stall_ms = atoi(v);
		else if (!strcmp(k, "--stall-every"))
			o->stall_every = atol(v);
		else
			return -EINVAL;
	}
	if (!!o->ping != !!o->out || (o->ping_floor && !o->ping) ||
	    o->interval_ms <= 0 || o->seconds <= 0 || o->priority < 0 ||
	    o->priority > 99)
		return -EINVAL;
	return o->ping || o->echo || o->floor || o->sink || o->stall ? 0
								     : -EINVAL;
}

/* Before any thread exists, so that every one (nng's too) inherits it. */
static int set_priority(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	if (!prio)
		return 0;
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		perror("rt_pinger: SCHED_FIFO");
		return -1;
	}
	mlockall(MCL_CURRENT | MCL_FUTURE); /* no page faults on the way */
	return 0;
}

/* Without --ping, the other parts run until --seconds or a signal. */
static void wait_end(const struct opts *o)
{
	uint64_t end = now_ns() + (uint64_t)o->seconds * 1000000000ull;

	while (!atomic_load(&quit) && now_ns() < end)
		sleep_ns(10000000);
}

struct part {
	void *(*fn)(void *);
	void *arg;
	pthread_t t;
	bool running;
};

int main(int argc, char **argv)
{
	struct opts o;
	FILE *out = NULL, *floor = NULL;
	int rc = 1;

	if (parse(argc, argv, &o)) {
		fprintf(stderr,
			"usage: rt_pinger [--ping URL --out CSV [--ping-floor "
			"URL]] [--echo URL] [--floor CSV] [--sink URL] "
			"[--stall FIFO] [--priority P] [--seconds S] [...]\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (set_priority(o.priority))
		return 1;
	if ((o.out && !(out = fopen(o.out, "w"))) ||
	    (o.floor && !(floor = fopen(o.floor, "w")))) {
		perror(o.out && !out ? o.out : o.floor);
		goto close_files;
	}
	struct part parts[] = {
		{ .fn = stall_main, .arg = o.stall ? &o : NULL },
		{ .fn = sink_main, .arg = (void *)o.sink },
		{ .fn = echo_main, .arg = (void *)o.echo },
	};
	struct floor floors[64];
	int n_floors = floors_start(floors, 64, floor);

	for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		parts[i].running = parts[i].arg &&
				   !pthread_create(&parts[i].t, NULL,
						   parts[i].fn, parts[i].arg);
	if (out)
		run_pings(&o, out);
	else
		wait_end(&o);
	atomic_store(&quit, true);
	for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i].running)
			pthread_join(parts[i].t, NULL);
	for (int i = 0; i < n_floors; i++)
		pthread_join(floors[i].t, NULL);
	rc = 0;
close_files:
	if (floor)
		fclose(floor);
	if (out)
		fclose(out);
	return rc;
}
