/* SPDX-License-Identifier: MIT */
/*
 * The nng wire under the harness (deterministic executor, real nng): bad
 * input from the peer (empty and oversized messages), an unbound "nic"
 * port, an absent peer, bounded receive bursts, carrier messages and bad
 * configurations. The test plays the peer with a raw nng PAIR socket and
 * tells the wire its descriptors are ready (avm_harness_fd_ready), since the
 * harness does not poll real descriptors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/harness.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "netdev.h"

#define DEADLINE_NS 60000000000ull /* a hang guard, not a speed bound */

struct fx {
	avm_harness *h;
	nng_socket peer;
	bool peer_open;
	char url[96];
	struct wire_config cfg;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void nap(void)
{
	struct timespec ts = { .tv_nsec = 1000000 };

	nanosleep(&ts, NULL);
}

static uint64_t stat(avm_harness *h, unsigned which)
{
	struct avm_msg m = { .kind = NETDEV_MSG_STAT, .user.arg = which };

	return avm_harness_request(h, &m);
}

/* A wire listening on a fresh inproc URL; @unbound leaves "nic" unbound. */
static void fx_up(struct fx *f, bool unbound, unsigned burst)
{
	static unsigned seq;
	struct avm_harness_opts o = { .ops = &wire_ops,
				      .config = &f->cfg,
				      .seed = 1,
				      .unbound = unbound,
				      .log_level = AVM_LOG_ERROR };

	snprintf(f->url, sizeof(f->url), "inproc://netdev-edge-%d-%u", getpid(),
		 seq++);
	f->cfg = (struct wire_config){ .url = f->url,
				       .listen = true,
				       .burst = burst };
	assert_int_equal(avm_harness_new(&o, &f->h), 0);
	AVM_EXPECT_FD_WATCH(f->h, WIRE_WATCH_RECV);
	AVM_EXPECT_FD_WATCH(f->h, WIRE_WATCH_LINK);
}

static void peer_dial(struct fx *f)
{
	assert_int_equal(nng_pair1_open(&f->peer), 0);
	assert_int_equal(nng_socket_set_ms(f->peer, NNG_OPT_SENDTIMEO, 5000),
			 0);
	assert_int_equal(nng_dial(f->peer, f->url, NULL, 0), 0);
	f->peer_open = true;
}

static void fx_down(struct fx *f)
{
	if (f->peer_open)
		nng_close(f->peer);
	avm_harness_free(f->h);
}

static void peer_send(struct fx *f, const void *p, size_t len)
{
	assert_int_equal(nng_send(f->peer, (void *)p, len, 0), 0);
}

/* Pump the receive side until @n messages were taken (in or dropped). */
static void pump_until(struct fx *f, uint64_t n)
{
	uint64_t end = now_ns() + DEADLINE_NS;

	for (;;) {
		uint64_t got = stat(f->h, NETDEV_STAT_IN_FRAMES) +
			       stat(f->h, NETDEV_STAT_IN_DROPPED);

		if (got >= n) {
			assert_int_equal(got, n);
			return;
		}
		assert_true(now_ns() < end);
		avm_harness_fd_ready(f->h, WIRE_WATCH_RECV, AVM_FD_READ);
		nap();
	}
}

static void expect_frame(avm_harness *h, const void *p, size_t len)
{
	AVM_EXPECT(h, .kind = AVM_DET_SEND,
		   .fields = AVM_HM_PORT | AVM_HM_MSG_KIND | AVM_HM_DATA,
		   .port = "nic", .msg_kind = AVM_MSG_FRAME, .data = p,
		   .len = len);
}

static void empty_and_oversized_are_dropped(void **state)
{
	static uint8_t big[AVM_MSG_MAX_PAYLOAD + 1];
	uint8_t small[60];
	struct fx f = { 0 };

	(void)state;
	memset(big, 0xa5, sizeof(big));
	memset(small, 0x3c, sizeof(small));
	fx_up(&f, false, 0);
	peer_dial(&f);
	peer_send(&f, small, 0);
	peer_send(&f, big, sizeof(big));
	peer_send(&f, small, sizeof(small));
	peer_send(&f, big, AVM_MSG_MAX_PAYLOAD); /* the largest allowed */
	pump_until(&f, 4);
	expect_frame(f.h, small, sizeof(small));
	expect_frame(f.h, big, AVM_MSG_MAX_PAYLOAD);
	AVM_EXPECT_NO(f.h, .kind = AVM_DET_SEND, .fields = AVM_HM_MSG_KIND,
		      .msg_kind = AVM_MSG_FRAME);
	assert_int_equal(stat(f.h, NETDEV_STAT_IN_DROPPED), 2);
	assert_int_equal(stat(f.h, NETDEV_STAT_IN_FRAMES), 2);
	assert_int_equal(stat(f.h, NETDEV_STAT_IN_BYTES),
			 sizeof(small) + AVM_MSG_MAX_PAYLOAD);
	fx_down(&f);
}

static void unbound_nic_port_drops(void **state)
{
	uint8_t fr[64] = { 1, 2, 3 };
	struct fx f = { 0 };

	(void)state;
	fx_up(&f, true, 0);
	peer_dial(&f);
	peer_send(&f, fr, sizeof(fr));
	pump_until(&f, 1);
	assert_int_equal(stat(f.h, NETDEV_STAT_IN_DROPPED), 1);
	assert_int_equal(stat(f.h, NETDEV_STAT_IN_FRAMES), 0);
	fx_down(&f);
}

/* No peer: sending drops and counts at once, the actor never blocks. */
static void absent_peer_drops_without_blocking(void **state)
{
	uint8_t fr[100] = { 0 };
	struct fx f = { 0 };
	uint64_t t0;

	(void)state;
	fx_up(&f, false, 0);
	t0 = now_ns();
	for (int i = 0; i < 10; i++)
		avm_harness_send_data(f.h, AVM_MSG_FRAME, 0, fr, sizeof(fr));
	avm_harness_send_data(f.h, AVM_MSG_FRAME, 0, fr, 0);
	/* The drop count proves it: the bound is only a hang guard. */
	assert_true(now_ns() - t0 < DEADLINE_NS);
	assert_int_equal(stat(f.h, NETDEV_STAT_OUT_DROPPED), 11);
	assert_int_equal(stat(f.h, NETDEV_STAT_OUT_FRAMES), 0);
	fx_down(&f);
}

/* The same for a dialer whose listener never appears. */
static void dialer_without_listener_drops(void **state)
{
	uint8_t fr[100] = { 0 };
	char url[96];
	struct wire_config cfg = { .url = url };
	struct avm_harness_opts o = { .ops = &wire_ops,
				      .config = &cfg,
				      .log_level = AVM_LOG_ERROR };
	avm_harness *h;

	(void)state;
	snprintf(url, sizeof(url), "inproc://netdev-nobody-%d", getpid());
	assert_int_equal(avm_harness_new(&o, &h), 0);
	avm_harness_send_data(h, AVM_MSG_FRAME, 0, fr, sizeof(fr));
	assert_int_equal(stat(h, NETDEV_STAT_OUT_DROPPED), 1);
	avm_harness_free(h);
}

static void frames_reach_the_peer(void **state)
{
	uint8_t fr[300], got[400];
	struct fx f = { 0 };
	uint64_t end = now_ns() + DEADLINE_NS;
	size_t len = sizeof(got);
	int rv;

	(void)state;
	for (size_t i = 0; i < sizeof(fr); i++)
		fr[i] = (uint8_t)(i * 3);
	fx_up(&f, false, 0);
	peer_dial(&f);
	assert_int_equal(nng_socket_set_ms(f.peer, NNG_OPT_RECVTIMEO, 5000), 0);
	/* The listener may not have seen the pipe yet: retry until sent. */
	do {
		avm_harness_send_data(f.h, AVM_MSG_FRAME, 0, fr, sizeof(fr));
		nap();
	} while (!stat(f.h, NETDEV_STAT_OUT_FRAMES) && now_ns() < end);
	assert_int_equal(stat(f.h, NETDEV_STAT_OUT_FRAMES), 1);
	rv = nng_recv(f.peer, got, &len, 0);
	assert_int_equal(rv, 0);
	assert_int_equal(len, sizeof(fr));
	assert_memory_equal(got, fr, sizeof(fr));
	fx_down(&f);
}

static unsigned count_frames(avm_harness *h)
{
	struct avm_harness_match m = { .kind = AVM_DET_SEND,
				       .fields = AVM_HM_MSG_KIND,
				       .msg_kind = AVM_MSG_FRAME };

	return avm_harness_count(h, &m);
}

static unsigned count_continues(avm_harness *h)
{
	struct avm_harness_match m = { .kind = AVM_DET_SEND,
				       .fields = AVM_HM_MSG_KIND,
				       .msg_kind = AVM_MSG_CONTINUE };

	return avm_harness_count(h, &m);
}

/* No handler takes more than `burst` messages; the rest continues later. */
static void receive_is_bounded(void **state)
{
	uint8_t fr[64] = { 0 };
	struct fx f = { 0 };
	uint64_t end = now_ns() + DEADLINE_NS;
	unsigned before, total = 0;

	(void)state;
	fx_up(&f, false, 4);
	peer_dial(&f);
	for (int i = 0; i < 10; i++)
		peer_send(&f, fr, sizeof(fr));
	for (int i = 0; i < 100; i++)
		nap(); /* let nng move them to the wire's queue */
	avm_harness_set_autorun(f.h, false);
	while (total < 10 && now_ns() < end) {
		if (!avm_harness_pending(f.h) &&
		    avm_harness_try_fd_ready(f.h, WIRE_WATCH_RECV,
					     AVM_FD_READ) < 0)
			nap();
		before = count_frames(f.h);
		avm_harness_step(f.h);
		assert_true(count_frames(f.h) - before <= 4);
		total = count_frames(f.h);
	}
	assert_int_equal(total, 10);
	assert_true(count_continues(f.h) >= 2);
	avm_harness_set_autorun(f.h, true);
	fx_down(&f);
}

static unsigned next_link(avm_harness *h, uint64_t end)
{
	const struct avm_harness_event *ev;
	struct avm_harness_match m = { .kind = AVM_DET_SEND,
				       .fields = AVM_HM_PORT | AVM_HM_MSG_KIND,
				       .port = "nic",
				       .msg_kind = NETDEV_MSG_LINK };

	while (!(ev = avm_harness_take(h, &m))) {
		assert_true(now_ns() < end);
		avm_harness_fd_ready(h, WIRE_WATCH_LINK, AVM_FD_READ);
		nap();
	}
	return (unsigned)ev->value;
}

/* A peer that never reads: the wire drops once nng's buffers are full. */
static void full_peer_drops_without_blocking(void **state)
{
	uint8_t fr[1000] = { 0 };
	struct fx f = { 0 };
	uint64_t end = now_ns() + DEADLINE_NS, t0;
	const unsigned n = 2000;

	(void)state;
	fx_up(&f, false, 0);
	peer_dial(&f);
	while (next_link(f.h, end) != 1)
		;
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++)
		avm_harness_send_data(f.h, AVM_MSG_FRAME, 0, fr, sizeof(fr));
	/* The drops prove it: the bound is only a hang guard. */
	assert_true(now_ns() - t0 < DEADLINE_NS);
	assert_true(stat(f.h, NETDEV_STAT_OUT_DROPPED) > 0);
	assert_true(stat(f.h, NETDEV_STAT_OUT_FRAMES) > 0);
	assert_int_equal(stat(f.h, NETDEV_STAT_OUT_DROPPED) +
				 stat(f.h, NETDEV_STAT_OUT_FRAMES),
			 n);
	fx_down(&f);
}

static void carrier_messages(void **state)
{
	struct fx f = { 0 };
	uint64_t end = now_ns() + DEADLINE_NS;

	(void)state;
	fx_up(&f, false, 0);
	assert_int_equal(next_link(f.h, end), 0); /* initial state */
	peer_dial(&f);
	assert_int_equal(next_link(f.h, end), 1);
	nng_close(f.peer);
	f.peer_open = false;
	assert_int_equal(next_link(f.h, end), 0);
	assert_int_equal(stat(f.h, NETDEV_STAT_LINK_CHANGES), 3);
	fx_down(&f);
}

static int try_wire(const struct wire_config *cfg)
{
	struct avm_harness_opts o = { .ops = &wire_ops,
				      .config = cfg,
				      .log_level = -1 };
	avm_harness *h = NULL;
	int err = avm_harness_new(&o, &h);

	avm_harness_free(h);
	return err;
}

/* A regular file at a listening wire's ipc path is refused (nng alone
 * would unlink it as a stale socket) and survives. */
static void regular_file_is_not_replaced(void)
{
	char path[64], url[80], buf[8] = "";
	struct wire_config c = { .url = url, .listen = true };
	int fd;

	snprintf(path, sizeof(path), "/tmp/netdev-edge-%d.file", getpid());
	snprintf(url, sizeof(url), "ipc://%s", path);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(try_wire(&c), -EEXIST);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	unlink(path);
	assert_string_equal(buf, "keep");
}

static void bad_configs_fail_init(void **state)
{
	struct fx f = { 0 };
	struct wire_config c = { .url = NULL };

	(void)state;
	assert_int_equal(try_wire(NULL), -EINVAL);
	assert_int_equal(try_wire(&c), -EINVAL);
	c.url = "nosuchscheme://x";
	assert_int_not_equal(try_wire(&c), 0);
	c.url = "ipc:///nonexistent-dir/x/y.sock";
	c.listen = true;
	assert_int_not_equal(try_wire(&c), 0);
	fx_up(&f, false, 0);
	c.url = f.url; /* already taken by the fixture's wire */
	assert_int_equal(try_wire(&c), -EADDRINUSE);
	fx_down(&f);
	regular_file_is_not_replaced();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_and_oversized_are_dropped),
		cmocka_unit_test(unbound_nic_port_drops),
		cmocka_unit_test(absent_peer_drops_without_blocking),
		cmocka_unit_test(dialer_without_listener_drops),
		cmocka_unit_test(frames_reach_the_peer),
		cmocka_unit_test(receive_is_bounded),
		cmocka_unit_test(carrier_messages),
		cmocka_unit_test(full_peer_drops_without_blocking),
		cmocka_unit_test(bad_configs_fail_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
