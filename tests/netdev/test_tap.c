/* SPDX-License-Identifier: MIT */
/*
 * The tap backend, where /dev/net/tun can be used (the whole test exits 77,
 * "skipped", elsewhere, saying why). Under the harness: open and close; a
 * frame the host sends on the interface (an AF_PACKET socket) reaches the
 * "nic" port; a frame from the NIC comes out on the host side. Frames use
 * the local experimental EtherType 0x88b5, so the kernel's own traffic on
 * the new interface (IPv6 neighbour discovery...) is told apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/harness.h>

#include "netdev.h"

#define ETHERTYPE_TEST 0x88b5
#define DEADLINE_NS    60000000000ull /* a hang guard, not a speed bound */

struct fx {
	char ifname[IFNAMSIZ];
	struct tap_config cfg;
	avm_harness *h;
	int pkt; /* AF_PACKET socket on the interface, or -1 */
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

/* Why a tap cannot be made here, or NULL if it can. */
static const char *tap_unusable(void)
{
	static char why[160];
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot open /dev/net/tun: %s",
			 strerror(errno));
		return why;
	}
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(why, sizeof(why), "TUNSETIFF refused: %s",
			 strerror(errno));
		close(fd);
		return why;
	}
	close(fd);
	return NULL;
}

static int if_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(s);
	return err;
}

/* The interface's index, 0 if there is none (<net/if.h> clashes with
 * <linux/if.h>, so ask the kernel directly). */
static int if_index(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int idx = 0;

	if (s < 0)
		return 0;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFINDEX, &ifr) == 0)
		idx = ifr.ifr_ifindex;
	close(s);
	return idx;
}

static int packet_socket(const char *name)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETHERTYPE_TEST) };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       htons(ETHERTYPE_TEST));

	if (s < 0)
		return -1;
	sll.sll_ifindex = if_index(name);
	if (!sll.sll_ifindex ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static int setup(void **state)
{
	static struct fx f;
	struct avm_harness_opts o = { .ops = &tap_ops,
				      .config = &f.cfg,
				      .log_level = AVM_LOG_ERROR };
	int err;

	memset(&f, 0, sizeof(f));
	snprintf(f.ifname, sizeof(f.ifname), "avmt%d", getpid() % 100000);
	f.cfg.ifname = f.ifname;
	f.pkt = -1;
	err = avm_harness_new(&o, &f.h);
	if (err)
		return err;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->pkt >= 0)
		close(f->pkt);
	avm_harness_free(f->h);
	return 0;
}

static void make_test_frame(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i + seed);
	memset(p, 0xff, 6);
	memcpy(p + 6, (const uint8_t[]){ 0x02, 0, 0, 0, 0, seed }, 6);
	p[12] = ETHERTYPE_TEST >> 8;
	p[13] = ETHERTYPE_TEST & 0xff;
}

static void opens_and_watches(void **state)
{
	struct fx *f = *state;

	AVM_EXPECT_FD_WATCH(f->h, TAP_WATCH);
	assert_true(if_index(f->ifname) > 0);
}

/* Interface up and a host-side packet socket, or skip saying why. */
static void host_side(struct fx *f)
{
	int err = if_up(f->ifname);

	if (err) {
		print_message("cannot bring %s up (%s): skipped\n", f->ifname,
			      strerror(-err));
		skip();
	}
	f->pkt = packet_socket(f->ifname);
	if (f->pkt < 0) {
		print_message("no AF_PACKET socket (%s): skipped\n",
			      strerror(errno));
		skip();
	}
}

static void host_frame_reaches_the_nic(void **state)
{
	struct fx *f = *state;
	uint8_t fr[100];
	uint64_t end = now_ns() + DEADLINE_NS;
	struct avm_harness_match m = { .kind = AVM_DET_SEND,
				       .fields = AVM_HM_PORT | AVM_HM_DATA,
				       .port = "nic",
				       .data = fr,
				       .len = sizeof(fr) };

	host_side(f);
	make_test_frame(fr, sizeof(fr), 1);
	assert_int_equal(send(f->pkt, fr, sizeof(fr), 0), sizeof(fr));
	while (!avm_harness_find(f->h, &m)) {
		assert_true(now_ns() < end);
		avm_harness_fd_ready(f->h, TAP_WATCH, AVM_FD_READ);
		nap();
	}
}

static void nic_frame_reaches_the_host(void **state)
{
	struct fx *f = *state;
	uint8_t fr[120], got[2048];
	uint64_t end = now_ns() + DEADLINE_NS;
	ssize_t n;

	host_side(f);
	make_test_frame(fr, sizeof(fr), 2);
	avm_harness_send_data(f->h, AVM_MSG_FRAME, 0, fr, sizeof(fr));
	for (;;) {
		n = recv(f->pkt, got, sizeof(got), 0);
		if (n == (ssize_t)sizeof(fr) && !memcmp(got, fr, sizeof(fr)))
			break;
		assert_true(now_ns() < end);
		nap();
	}
	{
		struct avm_msg m = { .kind = NETDEV_MSG_STAT,
				     .user.arg = NETDEV_STAT_OUT_FRAMES };

		assert_int_equal(avm_harness_request(f->h, &m), 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(opens_and_watches, setup,
						teardown),
		cmocka_unit_test_setup_teardown(host_frame_reaches_the_nic,
						setup, teardown),
		cmocka_unit_test_setup_teardown(nic_frame_reaches_the_host,
						setup, teardown),
	};
	const char *why = tap_unusable();

	if (why) {
		printf("SKIP: tap backend not testable here: %s\n", why);
		return 77; /* meson: skipped */
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
