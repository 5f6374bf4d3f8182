/* SPDX-License-Identifier: MIT */
/*
 * The nng wire between two processes over ipc://: this test runs itself
 * again (fork + exec of /proc/self/exe) as the peer VM. The parent's guest
 * sends a frame; the peer's guest receives it and sends it back with the
 * addresses swapped, plus a full-size frame of its own; the parent checks
 * both, then says goodbye. Before the peer dials, a raw client connects to
 * the listener and closes at once (nng 1.5.2's lost listener). Every wait
 * has a deadline, and a peer that does not finish in time is killed.
 */
#include "netdev_test.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define PEER_FLAG "--peer"
#define BYE_LEN	  60
#define BYE_MARK  0xbb
#define RETRY_NS  200000000ull

static void swap_addrs(uint8_t *f)
{
	uint8_t t[6];

	memcpy(t, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, t, 6);
}

static bool is_bye(const uint8_t *f, int n)
{
	return n == BYE_LEN && f[11] == 0x0a &&
	       f[20] == (uint8_t)(20 * 7 + BYE_MARK);
}

/* Wait for the parent's goodbye, skipping its retransmissions. */
static bool wait_bye(struct vm *v)
{
	uint64_t end = test_now_ns() + VM_DEADLINE_NS;
	uint8_t f[2048];
	int n;

	while (test_now_ns() < end) {
		n = nic_rx(v, f, sizeof(f), VM_DEADLINE_NS);
		if (n > 0 && is_bye(f, n))
			return true;
	}
	return false;
}

/*
 * The peer: dial, echo the first frame with its addresses swapped, send a
 * 1514-byte one, and stay until the parent says goodbye (closing earlier
 * could discard frames still queued in nng).
 */
static int run_peer(const char *url)
{
	struct wire_config cfg = { .url = url };
	struct vm v = { 0 };
	uint8_t f[2048];
	int n;

	vm_create(&v, 0x0b, &wire_ops, &cfg);
	vm_start(&v);
	nic_open(&v);
	if (!nic_wait_link(&v, true))
		return 2;
	n = nic_rx(&v, f, sizeof(f), VM_DEADLINE_NS);
	if (n <= 0)
		return 3;
	swap_addrs(f);
	if (!nic_tx(&v, f, (size_t)n))
		return 4;
	make_frame(f, 1514, 0x0b, 77);
	if (!nic_tx(&v, f, 1514))
		return 5;
	if (!wait_bye(&v))
		return 6;
	vm_free(&v);
	return 0;
}

static pid_t spawn_peer(const char *url)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/proc/self/exe", "test_netdev_wire_proc", PEER_FLAG, url,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The peer's exit status, or -1 (after killing it) past the deadline. */
static int reap_peer(pid_t pid)
{
	uint64_t end = test_now_ns() + VM_DEADLINE_NS;
	int st;

	while (test_now_ns() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		test_sleep_us(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/*
 * The peer's NIC may not be ready when our link comes up (a frame it gets
 * before RCTL.EN is lost, as on real hardware): send again until the echo.
 */
static int send_until_echo(struct vm *v, const uint8_t *f, size_t len,
			   uint8_t *got, size_t cap)
{
	uint64_t end = test_now_ns() + VM_DEADLINE_NS;
	int n;

	do {
		assert_true(nic_tx(v, f, len));
		n = nic_rx(v, got, cap, RETRY_NS);
	} while (n == -ETIMEDOUT && test_now_ns() < end);
	return n;
}

/* What nng 1.5.2 cannot take: a client that connects to the listener and
 * closes at once (it would stop accepting for good, see
 * framework/listen.c). The wire must still take the real peer after it. */
static void connect_and_close(const char *url)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s",
		 url + strlen("ipc://"));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

static void frames_between_processes(void **state)
{
	char dir[] = "/tmp/netdev-proc-XXXXXX", url[96];
	struct wire_config cfg = { .url = url, .listen = true };
	struct vm v = { 0 };
	uint8_t f[200], want[200], got[2048];
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/wire.sock", dir);
	vm_create(&v, 0x0a, &wire_ops, &cfg);
	vm_start(&v);
	connect_and_close(url);
	pid = spawn_peer(url);
	nic_open(&v);
	assert_true(nic_wait_link(&v, true));
	make_frame(f, sizeof(f), 0x0a, 5);
	memcpy(want, f, sizeof(f));
	swap_addrs(want);
	assert_int_equal(send_until_echo(&v, f, sizeof(f), got, sizeof(got)),
			 sizeof(f));
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(nic_rx(&v, got, sizeof(got), VM_DEADLINE_NS), 1514);
	make_frame(f, sizeof(f), 0x0b, 77);
	assert_memory_equal(got, f, sizeof(f));
	make_frame(f, BYE_LEN, 0x0a, BYE_MARK);
	assert_true(is_bye(f, BYE_LEN));
	assert_true(nic_tx(&v, f, BYE_LEN));
	assert_int_equal(reap_peer(pid), 0);
	assert_int_equal(be_stat(&v, v.be, NETDEV_STAT_IN_FRAMES), 2);
	assert_true(be_stat(&v, v.be, NETDEV_STAT_OUT_FRAMES) >= 2);
	vm_free(&v);
	unlink(url + strlen("ipc://"));
	rmdir(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_between_processes),
	};

	if (argc == 3 && !strcmp(argv[1], PEER_FLAG))
		return run_peer(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
