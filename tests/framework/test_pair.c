/* SPDX-License-Identifier: MIT */
/*
 * avm_pair_*() and avm_nng_errno() (framework/pair.c), the nng PAIR set-up
 * the network wire and the nng serial backend share:
 * - nng errors map to one set of errnos (NNG_EPERM included, which the
 *   serial backend's own copy used to turn into -EIO);
 * - a transport nng lacks fails with -ENOTSUP and a message naming the URL,
 *   and leaves nothing open;
 * - a listener and a dialer (v1, and v0) find each other: the link fd
 *   fires and the peer shows, a message goes through, and the peer's close
 *   is seen on the other side;
 * - the send fd exists only when asked for.
 * Every wait is bounded by a generous timeout; nothing asserts on speed.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <nng/nng.h>

#include <actorvm/pair.h>

#define WAIT_MS	   30000 /* a bound for correctness, not speed */
#define MAX_EVENTS 64	 /* link events tolerated before the state shows */

static void test_errno(void **state)
{
	(void)state;
	assert_int_equal(avm_nng_errno(NNG_EPERM), -EACCES);
	assert_int_equal(avm_nng_errno(NNG_ENOTSUP), -ENOTSUP);
	assert_int_equal(avm_nng_errno(NNG_ENOMEM), -ENOMEM);
	assert_int_equal(avm_nng_errno(NNG_EADDRINVAL), -EINVAL);
	assert_int_equal(avm_nng_errno(NNG_EADDRINUSE), -EADDRINUSE);
	assert_int_equal(avm_nng_errno(NNG_ECONNREFUSED), -ECONNREFUSED);
	assert_int_equal(avm_nng_errno(NNG_ENOENT), -ENOENT);
	assert_int_equal(avm_nng_errno(NNG_ESYSERR | EPIPE), -EPIPE);
	assert_int_equal(avm_nng_errno(NNG_ETIMEDOUT), -EIO);
}

static void test_bad_transport(void **state)
{
	const struct avm_pair_config cfg = { .url = "bogus://nowhere" };
	struct avm_pair p = { 0 };
	char err[256] = "";

	(void)state;
	assert_int_equal(avm_pair_open(&p, &cfg, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "bogus://nowhere"));
	assert_false(p.open);
	assert_null(p.link);
	assert_int_equal(avm_pair_link_fd(&p), -1);
	assert_false(avm_pair_peer(&p));
	avm_pair_close(&p); /* a closed pair: a no-op */
}

/* Wait until the peer state of @p is @up, through its link fd only. */
static void wait_peer(struct avm_pair *p, bool up)
{
	struct pollfd pfd = { .fd = avm_pair_link_fd(p), .events = POLLIN };

	for (int i = 0; i < MAX_EVENTS; i++) {
		assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
		if (avm_pair_link_event(p) == up)
			return;
	}
	fail_msg("peer never became %s", up ? "connected" : "gone");
}

static void connect_pair(struct avm_pair *l, struct avm_pair *d, bool pair0,
			 const char *url)
{
	const struct avm_pair_config lc = { .url = url,
					    .listen = true,
					    .pair0 = pair0 };
	const struct avm_pair_config dc = { .url = url,
					    .pair0 = pair0,
					    .send_fd = true };
	char err[256];

	assert_int_equal(avm_pair_open(l, &lc, err, sizeof(err)), 0);
	assert_int_equal(avm_pair_open(d, &dc, err, sizeof(err)), 0);
	assert_true(l->recv_fd >= 0);
	assert_int_equal(l->send_fd, -1);
	assert_true(d->send_fd >= 0);
	wait_peer(l, true);
	wait_peer(d, true);
}

static void exchange(bool pair0, const char *url)
{
	struct avm_pair l = { 0 }, d = { 0 };
	char buf[8] = "";
	size_t n = sizeof(buf);

	connect_pair(&l, &d, pair0, url);
	assert_int_equal(nng_socket_set_ms(l.sock, NNG_OPT_RECVTIMEO, WAIT_MS),
			 0);
	assert_int_equal(nng_send(d.sock, "hello", 5, 0), 0);
	assert_int_equal(nng_recv(l.sock, buf, &n, 0), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "hello", 5);
	avm_pair_close(&d);
	wait_peer(&l, false);
	avm_pair_close(&l);
}

static void test_v1(void **state)
{
	(void)state;
	exchange(false, "inproc://avm-test-pair-v1");
}

static void test_v0(void **state)
{
	(void)state;
	exchange(true, "inproc://avm-test-pair-v0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_bad_transport),
		cmocka_unit_test(test_v1),
		cmocka_unit_test(test_v0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
