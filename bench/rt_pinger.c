/* SPDX-License-Identifier: MIT */
/*
 * rt_pinger: the world outside bench/rt-latency's VM.
 *
 *   rt_pinger --ping URL --sink URL --stall FIFO --out CSV [--interval-ms N]
 *             [--seconds S] [--stall-ms N] [--stall-every BYTES]
 *
 * - ping: dials the real-time NIC's wire (nng PAIR v1, one raw Ethernet
 *   frame per message) and sends a frame every N ms (default 10); the guest
 *   echoes it; the round trip of each is written to CSV (ns; -1: lost).
 * - sink: dials the load NIC's wire and discards what it floods.
 * - stall: the slow terminal behind COM1: reads the FIFO and sleeps
 *   --stall-ms (default 5) after every --stall-every bytes (64 KiB).
 * It ends after --seconds (default 60) or at SIGTERM/SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 100000
#define FRAME_LEN   64

struct opts {
	const char *ping, *sink, *stall, *out;
	int interval_ms, seconds, stall_ms;
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

static void run_pings(const struct opts *o, FILE *out)
{
	uint64_t period = (uint64_t)o->interval_ms * 1000000ull;
	uint64_t end = now_ns() + (uint64_t)o->seconds * 1000000000ull;
	uint64_t next = now_ns() + period;
	nng_socket s;
	unsigned lost = 0, n = 0;

	if (dial(&s, o->ping, 100))
		return;
	for (uint32_t seq = 1; !atomic_load(&quit) && now_ns() < end; seq++) {
		int64_t rtt = ping_once(s, seq);
		uint64_t t = now_ns();

		fprintf(out, "%lld\n", (long long)rtt);
		lost += rtt < 0;
		n++;
		if (t < next)
			sleep_ns(next - t);
		next += period;
	}
	fprintf(stderr, "rt_pinger: %u pings, %u lost\n", n, lost);
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
	return o->ping && o->out && o->interval_ms > 0 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	pthread_t sink, stall;
	bool has_sink = false, has_stall = false;
	struct opts o;
	FILE *out;

	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: rt_pinger --ping URL --out CSV [--sink "
				"URL] [--stall FIFO] [...]\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	out = fopen(o.out, "w");
	if (!out) {
		perror(o.out);
		return 1;
	}
	if (o.stall)
		has_stall = !pthread_create(&stall, NULL, stall_main, &o);
	if (o.sink)
		has_sink =
			!pthread_create(&sink, NULL, sink_main, (void *)o.sink);
	run_pings(&o, out);
	atomic_store(&quit, true);
	if (has_sink)
		pthread_join(sink, NULL);
	if (has_stall)
		pthread_join(stall, NULL);
	fclose(out);
	return 0;
}
