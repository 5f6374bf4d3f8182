/* SPDX-License-Identifier: MIT */
/*
 * The nng wire, threaded: two VMs (each a runtime with an e1000 and a wire)
 * in one process, connected over inproc://, ipc:// and tcp://. A frame the
 * guest driver of one NIC transmits lands in the other NIC's RX ring, both
 * ways; carrier follows the connection; a burst from a raw nng peer is
 * delivered in bounded chunks.
 */
#include "netdev_test.h"

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <sys/stat.h>
#include <unistd.h>

struct pair {
	struct vm a, b;
	char dir[64];
	char url[128];
};

/* Two VMs: A listens on @url, B dials it; both links up and rings ready. */
static void pair_up(struct pair *p, const char *url)
{
	struct wire_config ca = { .url = url, .listen = true };
	struct wire_config cb = { .url = url };

	vm_create(&p->a, 0x0a, &wire_ops, &ca);
	vm_start(&p->a);
	vm_create(&p->b, 0x0b, &wire_ops, &cb);
	vm_start(&p->b);
	nic_open(&p->a);
	nic_open(&p->b);
	assert_true(nic_wait_link(&p->a, true));
	assert_true(nic_wait_link(&p->b, true));
}

static void pair_down(struct pair *p)
{
	vm_free(&p->b);
	vm_free(&p->a);
}

/* @from transmits a frame of @len bytes; @to must receive it unchanged. */
static void one_way(struct vm *from, struct vm *to, size_t len, uint8_t seed)
{
	uint8_t f[2048], got[2048];
	int n;

	make_frame(f, len, from->nic_cfg.mac[5], seed);
	assert_true(nic_tx(from, f, len));
	n = nic_rx(to, got, sizeof(got), VM_DEADLINE_NS);
	assert_int_equal(n, (int)len);
	assert_memory_equal(got, f, len);
}

static void exchange(struct pair *p)
{
	one_way(&p->a, &p->b, 60, 1);
	one_way(&p->b, &p->a, 100, 2);
	one_way(&p->a, &p->b, 1514, 3);
	one_way(&p->b, &p->a, 1514, 4);
	/* More than a ring's worth: descriptors are recycled both ways. */
	for (unsigned i = 0; i < 2 * VM_RING_N; i++)
		one_way(i & 1 ? &p->a : &p->b, i & 1 ? &p->b : &p->a, 64 + i,
			(uint8_t)i);
	assert_int_equal(be_stat(&p->a, p->a.be, NETDEV_STAT_OUT_FRAMES),
			 2 + VM_RING_N);
	assert_int_equal(be_stat(&p->b, p->b.be, NETDEV_STAT_IN_FRAMES),
			 2 + VM_RING_N);
	assert_int_equal(be_stat(&p->a, p->a.be, NETDEV_STAT_OUT_DROPPED), 0);
	assert_int_equal(be_stat(&p->b, p->b.be, NETDEV_STAT_IN_DROPPED), 0);
}

static void inproc_frames_both_ways(void **state)
{
	struct pair p = { 0 };

	(void)state;
	snprintf(p.url, sizeof(p.url), "inproc://netdev-wire-%d", getpid());
	pair_up(&p, p.url);
	exchange(&p);
	pair_down(&p);
}

static void ipc_frames_both_ways(void **state)
{
	struct pair p = { 0 };

	(void)state;
	strcpy(p.dir, "/tmp/netdev-wire-XXXXXX");
	assert_non_null(mkdtemp(p.dir));
	snprintf(p.url, sizeof(p.url), "ipc://%s/wire.sock", p.dir);
	pair_up(&p, p.url);
	exchange(&p);
	pair_down(&p);
	unlink(p.url + strlen("ipc://"));
	rmdir(p.dir);
}

static void tcp_frames_both_ways(void **state)
{
	struct pair p = { 0 };
	nng_socket probe;
	int rv;

	(void)state;
	/* Find a free port: listen on :0 and read it back, then release. */
	assert_int_equal(nng_pair1_open(&probe), 0);
	{
		nng_listener l;
		nng_sockaddr sa;

		assert_int_equal(nng_listen(probe, "tcp://127.0.0.1:0", &l, 0),
				 0);
		rv = nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa);
		assert_int_equal(rv, 0);
		snprintf(p.url, sizeof(p.url), "tcp://127.0.0.1:%u",
			 (unsigned)ntohs(sa.s_in.sa_port));
	}
	nng_close(probe);
	pair_up(&p, p.url);
	exchange(&p);
	pair_down(&p);
}

/* Carrier: down when the peer goes away, up again when it comes back. */
static void carrier_follows_peer(void **state)
{
	struct pair p = { 0 };
	struct wire_config cb;

	(void)state;
	snprintf(p.url, sizeof(p.url), "inproc://netdev-carrier-%d", getpid());
	pair_up(&p, p.url);
	vm_free(&p.b);
	assert_true(nic_wait_link(&p.a, false));
	cb = (struct wire_config){ .url = p.url };
	vm_create(&p.b, 0x0b, &wire_ops, &cb);
	vm_start(&p.b);
	nic_open(&p.b);
	assert_true(nic_wait_link(&p.a, true));
	assert_true(nic_wait_link(&p.b, true));
	one_way(&p.b, &p.a, 80, 9);
	/* (down at start, unless B was quicker,) up, down, up: changes only. */
	assert_in_range(be_stat(&p.a, p.a.be, NETDEV_STAT_LINK_CHANGES), 3, 4);
	pair_down(&p);
}

/* A raw nng peer floods the wire: every message reaches the NIC. */
static void burst_from_raw_peer(void **state)
{
	struct wire_config cfg = { .url = NULL, .listen = true, .burst = 4 };
	struct vm v = { 0 };
	char url[96];
	uint8_t f[200];
	nng_socket s;
	uint64_t end;
	const unsigned n = 300;

	(void)state;
	snprintf(url, sizeof(url), "inproc://netdev-burst-%d", getpid());
	cfg.url = url;
	vm_create(&v, 0x0a, &wire_ops, &cfg);
	vm_start(&v);
	assert_int_equal(nng_pair1_open(&s), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000), 0);
	assert_int_equal(nng_dial(s, url, NULL, 0), 0);
	for (unsigned i = 0; i < n; i++) {
		make_frame(f, sizeof(f), 0x55, (uint8_t)i);
		assert_int_equal(nng_send(s, f, sizeof(f), 0), 0);
	}
	end = test_now_ns() + VM_DEADLINE_NS;
	while (be_stat(&v, v.be, NETDEV_STAT_IN_FRAMES) < n &&
	       test_now_ns() < end)
		test_sleep_us(1000);
	assert_int_equal(be_stat(&v, v.be, NETDEV_STAT_IN_FRAMES), n);
	assert_int_equal(be_stat(&v, v.be, NETDEV_STAT_IN_BYTES),
			 n * sizeof(f));
	nng_close(s);
	vm_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inproc_frames_both_ways),
		cmocka_unit_test(ipc_frames_both_ways),
		cmocka_unit_test(tcp_frames_both_ways),
		cmocka_unit_test(carrier_follows_peer),
		cmocka_unit_test(burst_from_raw_peer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
