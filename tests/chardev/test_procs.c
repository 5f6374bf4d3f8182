/* SPDX-License-Identifier: MIT */
/*
 * Backends that face another process. This test runs itself again (fork +
 * exec of /proc/self/exe) as:
 *
 * - a VM whose UART uses stdio, with pipes for stdin and stdout: its guest
 *   (the child's main thread, through an accessor) prints a line and
 *   echoes what it reads; the parent checks the child's stdout;
 * - a raw nng PAIR v1 peer that dials the parent's UART, answers "ping"
 *   with "pong" and leaves on "bye".
 *
 * Every wait has a deadline; a child that does not finish in time is killed.
 */
#include "uart_test.h"

#include <actorvm/runtime.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#define COM1 0x3f8

struct vm {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id;
};

static int vm_up(struct vm *v, const struct uart_config *cfg)
{
	struct avm_runtime_config rc = { .exec = AVM_EXEC_THREADED,
					 .log_level = AVM_LOG_ERROR,
					 .read_deadline_ns = TEST_DEADLINE_NS };
	struct avm_actor_spec spec = { .ops = &uart_ops,
				       .name = "com1",
				       .config = cfg };
	int err = avm_runtime_new(&rc, &v->rt);

	if (!err)
		err = avm_actor_create(v->rt, &spec, &v->id);
	if (!err)
		err = avm_map(v->rt, v->id, 0, COM1);
	if (!err)
		err = avm_runtime_start(v->rt);
	if (!err)
		err = avm_accessor_new(v->rt, "vcpu", &v->acc);
	return err;
}

static void vm_down(struct vm *v)
{
	if (v->acc)
		avm_accessor_free(v->acc);
	if (v->rt)
		avm_runtime_free(v->rt);
}

static int vm_rd(struct vm *v, unsigned reg, uint8_t *out)
{
	uint64_t val = 0;
	int err = avm_read(v->acc, AVM_SPACE_PIO, COM1 + reg, 1, &val);

	*out = (uint8_t)val;
	return err;
}

/* A polled driver: wait for THRE, write one byte. */
static int vm_putc(struct vm *v, uint8_t c)
{
	uint64_t end = test_now_ns() + TEST_DEADLINE_NS;
	uint8_t lsr = 0;
	int err;

	while (!(err = vm_rd(v, UART_LSR, &lsr)) && !(lsr & UART_LSR_THRE))
		if (test_now_ns() > end)
			return -ETIMEDOUT;
	return err ? err : avm_write(v->acc, AVM_SPACE_PIO, COM1, 1, c);
}

static int vm_puts(struct vm *v, const char *s)
{
	int err = 0;

	while (*s && !err)
		err = vm_putc(v, (uint8_t)*s++);
	return err;
}

static int vm_getc(struct vm *v, uint8_t *c)
{
	uint64_t end = test_now_ns() + TEST_DEADLINE_NS;
	uint8_t lsr = 0;
	int err;

	while (!(err = vm_rd(v, UART_LSR, &lsr)) && !(lsr & UART_LSR_DR)) {
		if (test_now_ns() > end)
			return -ETIMEDOUT;
		test_sleep_us(200);
	}
	return err ? err : vm_rd(v, UART_RBR, c);
}

/* Wait until everything written has left the transmitter. */
static int vm_flush(struct vm *v)
{
	uint64_t end = test_now_ns() + TEST_DEADLINE_NS;
	uint8_t lsr = 0;
	int err;

	while (!(err = vm_rd(v, UART_LSR, &lsr)) && !(lsr & UART_LSR_TEMT))
		if (test_now_ns() > end)
			return -ETIMEDOUT;
	return err;
}

/* --- children --------------------------------------------------------------
 */

static int stdio_child(void)
{
	struct uart_config cfg = { .chr = { .kind = CHARDEV_STDIO } };
	struct vm v = { 0 };
	uint8_t c = 0;
	int err = vm_up(&v, &cfg);

	if (!err)
		err = vm_puts(&v, "hello\n");
	while (!err && c != '\n') {
		err = vm_getc(&v, &c);
		if (!err)
			err = vm_putc(&v, c);
	}
	if (!err)
		err = vm_flush(&v);
	vm_down(&v); /* the writer thread drains into stdout */
	if (err)
		fprintf(stderr, "stdio child: %s\n", strerror(-err));
	return err ? 1 : 0;
}

static int peer_recv_until(nng_socket s, const char *want)
{
	char got[64];
	size_t n = 0, wl = strlen(want);

	while (n < wl) {
		char *m;
		size_t len;

		if (nng_recv(s, &m, &len, NNG_FLAG_ALLOC))
			return -1;
		if (n + len > sizeof(got)) {
			nng_free(m, len);
			return -1;
		}
		memcpy(got + n, m, len);
		n += len;
		nng_free(m, len);
	}
	return n == wl && !memcmp(got, want, wl) ? 0 : -1;
}

static int nng_child(const char *url)
{
	nng_socket s;
	int rv = nng_pair1_open(&s);

	if (!rv)
		rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
	if (!rv)
		rv = nng_dial(s, url, NULL, 0);
	if (!rv)
		rv = peer_recv_until(s, "ping\n");
	if (!rv)
		rv = nng_send(s, "pong\n", 5, 0);
	if (!rv)
		rv = peer_recv_until(s, "bye");
	if (rv)
		fprintf(stderr, "nng child: failed (%d)\n", rv);
	nng_close(s);
	return rv ? 1 : 0;
}

/* --- parent side -------------------------------------------------------- */

static pid_t spawn(const char *mode, const char *arg, int in_fd, int out_fd)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid)
		return pid;
	if (in_fd >= 0)
		dup2(in_fd, STDIN_FILENO);
	if (out_fd >= 0)
		dup2(out_fd, STDOUT_FILENO);
	execl("/proc/self/exe", "test_chardev_procs", mode, arg, (char *)NULL);
	_exit(127);
}

/* The child's exit status; killed (and failed) past the deadline. */
static int reap(pid_t pid)
{
	uint64_t end = test_now_ns() + TEST_DEADLINE_NS;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (test_now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("child %d did not finish", (int)pid);
		}
		test_sleep_us(1000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static size_t read_to_eof(int fd, char *buf, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	ssize_t r = 1;

	while (r > 0 && n < cap &&
	       poll(&p, 1, (int)(TEST_DEADLINE_NS / 1000000)) == 1) {
		r = read(fd, buf + n, cap - n);
		if (r > 0)
			n += (size_t)r;
	}
	return n;
}

static void stdio_backend_in_a_child(void **state)
{
	int in[2], out[2];
	char got[64] = { 0 };
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid = spawn("--stdio-child", NULL, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	assert_int_equal(write(in[1], "Q\n", 2), 2);
	close(in[1]);
	read_to_eof(out[0], got, sizeof(got) - 1);
	close(out[0]);
	assert_int_equal(reap(pid), 0);
	assert_string_equal(got, "hello\nQ\n");
}

static void nng_peer_in_another_process(void **state)
{
	char url[128], line[8] = { 0 };
	struct uart_config cfg = { .chr = { .kind = CHARDEV_NNG,
					    .path = url,
					    .listen = true,
					    .hold = true } };
	struct vm v = { 0 };
	pid_t pid;

	(void)state;
	snprintf(url, sizeof(url), "ipc:///tmp/uart-procs-%d.ipc",
		 (int)getpid());
	assert_int_equal(vm_up(&v, &cfg), 0);
	pid = spawn("--nng-peer", url, -1, -1);
	/* Held until the peer attaches: nothing is lost meanwhile. */
	assert_int_equal(vm_puts(&v, "ping\n"), 0);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(vm_getc(&v, (uint8_t *)&line[i]), 0);
	assert_string_equal(line, "pong\n");
	assert_int_equal(vm_puts(&v, "bye"), 0);
	assert_int_equal(reap(pid), 0);
	vm_down(&v);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stdio_backend_in_a_child),
		cmocka_unit_test(nng_peer_in_another_process),
	};

	if (argc > 1 && !strcmp(argv[1], "--stdio-child"))
		return stdio_child();
	if (argc > 2 && !strcmp(argv[1], "--nng-peer"))
		return nng_child(argv[2]);
	return cmocka_run_group_tests_name("chardev_procs", tests, NULL, NULL);
}
