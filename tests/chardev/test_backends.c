/* SPDX-License-Identifier: MIT */
/*
 * The backends for real, one UART in the harness each: files written and
 * read back, a pty opened from its slave side, an nng peer socket, null.
 * The harness does not look at descriptors, so where the UART waits for
 * one the test makes it ready (data written, buffer drained) and says so
 * with avm_harness_fd_ready(); every wait for the kernel or nng has a
 * deadline.
 */
#include "uart_test.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

struct tmp {
	char dir[64];
	char path[128];
	char in[128];
};

static void tmp_make(struct tmp *t)
{
	strcpy(t->dir, "/tmp/uart-test-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/out", t->dir);
	snprintf(t->in, sizeof(t->in), "%s/in", t->dir);
}

static void tmp_drop(struct tmp *t)
{
	unlink(t->path);
	unlink(t->in);
	rmdir(t->dir);
}

static void put_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static size_t get_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = 0;
	fclose(f);
	return n;
}

static void put_str(avm_harness *h, const char *s)
{
	while (*s)
		wr(h, UART_THR, (uint8_t)*s++);
}

static void file_output(bool append, const char *want)
{
	struct tmp t;
	struct uart_config cfg = { .chr = { .kind = CHARDEV_FILE,
					    .path = t.path,
					    .append = append } };
	avm_harness *h;
	char got[64];

	tmp_make(&t);
	put_file(t.path, "old\n");
	h = uart_harness(&cfg);
	put_str(h, "hello");
	assert_int_equal(uart_stat(h, UART_STAT_OUT_BYTES), 5);
	/* Stopping drains the writer thread: then the file is complete. */
	avm_harness_free(h);
	get_file(t.path, got, sizeof(got));
	assert_string_equal(got, want);
	tmp_drop(&t);
}

static void file_output_truncates(void **state)
{
	(void)state;
	file_output(false, "hello");
}

static void file_output_appends(void **state)
{
	(void)state;
	file_output(true, "old\nhello");
}

static void file_input_read_once_in_order(void **state)
{
	struct tmp t;
	struct uart_config cfg = { .chr = { .kind = CHARDEV_FILE,
					    .in_path = t.in } };
	avm_harness *h;

	(void)state;
	tmp_make(&t);
	put_file(t.in, "xyz0123456789abcdefghij");
	h = uart_harness(&cfg);
	/* 16450 mode: one byte at a time, each read fetching the next. */
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	assert_int_equal(rd(h, UART_RBR), 'x');
	assert_int_equal(rd(h, UART_RBR), 'y');
	/* Enabling the FIFOs clears them ('z', already received, goes: the
	 * guest asked for it); then as many as fit, never more. */
	wr(h, UART_FCR, UART_FCR_FE);
	assert_int_equal(((struct uart *)avm_harness_state(h))->rx.count,
			 UART_FIFO_SIZE);
	for (const char *p = "0123456789abcdef"; *p; p++)
		assert_int_equal(rd(h, UART_RBR), *p);
	for (const char *p = "ghij"; *p; p++)
		assert_int_equal(rd(h, UART_RBR), *p);
	assert_int_equal(rd(h, UART_LSR) & (UART_LSR_DR | UART_LSR_OE), 0);
	assert_int_equal(uart_stat(h, UART_STAT_RX_OVERRUN), 0);
	assert_int_equal(uart_stat(h, UART_STAT_RX_BYTES), 23);
	avm_harness_free(h);
	tmp_drop(&t);
}

static int try_uart(const struct uart_config *cfg)
{
	struct avm_harness_opts o = { .ops = &uart_ops,
				      .config = cfg,
				      .log_level = -1 };
	avm_harness *h = NULL;
	int err = avm_harness_new(&o, &h);

	avm_harness_free(h);
	return err;
}

static void bad_configs_fail_init(void **state)
{
	struct tmp t;
	struct uart_config cfg = { .chr = { .kind = CHARDEV_FILE } };
	char longpath[400];

	(void)state;
	tmp_make(&t);
	assert_int_equal(try_uart(&cfg), -EINVAL); /* no path at all */
	cfg.chr.in_path = t.in;
	assert_int_equal(try_uart(&cfg), -ENOENT);
	/* A FIFO without a reader fails instead of hanging init. */
	assert_int_equal(mkfifo(t.path, 0600), 0);
	cfg.chr.in_path = NULL;
	cfg.chr.path = t.path;
	assert_int_equal(try_uart(&cfg), -ENXIO);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	cfg.chr.path = longpath;
	assert_int_equal(try_uart(&cfg), -ENAMETOOLONG);
	cfg = (struct uart_config){ .chr = { .kind = CHARDEV_KIND_COUNT } };
	assert_int_equal(try_uart(&cfg), -EINVAL);
	cfg = (struct uart_config){ .out_buf = UART_OUTBUF_MAX + 1 };
	assert_int_equal(try_uart(&cfg), -EINVAL);
	cfg = (struct uart_config){ .chr = { .kind = CHARDEV_NNG } };
	assert_int_equal(try_uart(&cfg), -EINVAL);
	cfg.chr.path = "nonsense://x";
	assert_true(try_uart(&cfg) < 0);
	tmp_drop(&t);
}

static void null_takes_everything_gives_nothing(void **state)
{
	avm_harness *h = uart_harness(NULL);

	(void)state;
	put_str(h, "discard me");
	assert_int_equal(uart_stat(h, UART_STAT_OUT_BYTES), 10);
	assert_int_equal(uart_stat(h, UART_STAT_OUT_DISCARDED), 0);
	assert_int_equal(rd(h, UART_LSR),
			 UART_LSR_THRE | UART_LSR_TEMT); /* no input */
	assert_string_equal(chardev_kind_name(CHARDEV_NULL), "null");
	assert_null(chardev_kind_name(CHARDEV_KIND_COUNT));
	AVM_EXPECT_NONE(h);
	avm_harness_free(h);
}

/* --- pty ------------------------------------------------------------------ */

static bool wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, (int)(TEST_DEADLINE_NS / 1000000)) == 1 &&
	       (p.revents & POLLIN);
}

/* Read exactly @n bytes from the non-blocking @fd, with a deadline. */
static void read_exact(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r;

		assert_true(wait_readable(fd));
		r = read(fd, buf + got, n - got);
		assert_true(r > 0 || (r < 0 && errno == EAGAIN));
		if (r > 0)
			got += (size_t)r;
	}
}

static void pty_attach(avm_harness *h, int *sfd)
{
	struct uart *s = avm_harness_state(h);

	assert_memory_equal(s->cd.slave, "/dev/pts/", 9);
	*sfd = open(s->cd.slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(*sfd >= 0);
	/* The poll timer notices the reader. */
	avm_harness_advance(h, CHARDEV_PTY_POLL_NS);
	assert_true(s->cd.connected);
}

static void pty_discards_until_opened_then_talks(void **state)
{
	struct uart_config cfg = { .chr = { .kind = CHARDEV_PTY } };
	avm_harness *h = uart_harness(&cfg);
	struct uart *s = avm_harness_state(h);
	uint8_t got[2];
	int sfd;

	(void)state;
	AVM_EXPECT_TIMER_ARM(h, CHARDEV_TIMER_POLL, CHARDEV_PTY_POLL_NS,
			     CHARDEV_PTY_POLL_NS);
	assert_false(s->cd.connected);
	put_str(h, "lost");
	assert_int_equal(uart_stat(h, UART_STAT_OUT_DISCARDED), 4);
	assert_int_equal(rd(h, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);

	pty_attach(h, &sfd);
	put_str(h, "hi");
	read_exact(sfd, got, 2);
	assert_memory_equal(got, "hi", 2);

	/* Input: the UART waits on the master; make it ready. */
	assert_int_equal(write(sfd, "ok", 2), 2);
	assert_true(wait_readable(s->cd.in_fd));
	avm_harness_fd_ready(h, CHARDEV_WATCH_IN, AVM_FD_READ);
	assert_int_equal(rd(h, UART_RBR), 'o');
	assert_int_equal(rd(h, UART_RBR), 'k');
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_DR, 0);

	/* The reader goes: output is discarded again, polling resumes. */
	close(sfd);
	put_str(h, "x");
	assert_false(s->cd.connected);
	assert_true(s->cd.polling);
	assert_int_equal(uart_stat(h, UART_STAT_OUT_DISCARDED), 5);
	avm_harness_free(h);
}

static uint8_t pattern(unsigned i)
{
	return (uint8_t)(i % 251);
}

/* Write like a driver: wait for THRE, then up to 16 bytes. */
static unsigned fill_until_stalled(avm_harness *h, unsigned *next)
{
	for (unsigned polls = 0; polls < 1000000; polls++) {
		if (!(rd(h, UART_LSR) & UART_LSR_THRE))
			return polls;
		for (unsigned k = 0; k < UART_FIFO_SIZE; k++)
			wr(h, UART_THR, pattern((*next)++));
	}
	fail_msg("the pty never filled");
	return 0;
}

static void pty_stall_fills_fifo_and_loses_nothing(void **state)
{
	struct uart_config cfg = { .chr = { .kind = CHARDEV_PTY },
				   .out_buf = 64 };
	avm_harness *h = uart_harness(&cfg);
	uint8_t *got;
	unsigned sent = 0, total;
	int sfd;

	(void)state;
	wr(h, UART_FCR, UART_FCR_FE);
	pty_attach(h, &sfd);
	fill_until_stalled(h, &sent);
	/* Stalled: the buffer is full, the FIFO holds the rest. */
	assert_int_equal(rd(h, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), 0);
	assert_int_equal(uart_stat(h, UART_STAT_OUT_LEVEL), 64);
	assert_true(uart_stat(h, UART_STAT_OUT_STALLS) >= 1);
	AVM_EXPECT_FD_WATCH(h, CHARDEV_WATCH_OUT);
	/* A guest that does not wait: the FIFO fills, then overruns. */
	while (uart_stat(h, UART_STAT_TX_LEVEL) < UART_FIFO_SIZE)
		wr(h, UART_THR, pattern(sent++));
	wr(h, UART_THR, 0xee);
	assert_int_equal(uart_stat(h, UART_STAT_TX_OVERRUN), 1);
	assert_int_equal(uart_stat(h, UART_STAT_TX_LEVEL), UART_FIFO_SIZE);

	/* The reader catches up: every accepted byte, in order. */
	total = sent;
	got = calloc(total, 1);
	for (unsigned have = 0; have < total;) {
		ssize_t r;

		assert_true(wait_readable(sfd));
		r = read(sfd, got + have, total - have);
		if (r > 0)
			have += (unsigned)r;
		(void)avm_harness_try_fd_ready(h, CHARDEV_WATCH_OUT,
					       AVM_FD_WRITE);
	}
	for (unsigned i = 0; i < total; i++)
		if (got[i] != pattern(i))
			fail_msg("byte %u: 0x%x, not 0x%x", i, got[i],
				 pattern(i));
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_THRE, UART_LSR_THRE);
	assert_int_equal(uart_stat(h, UART_STAT_OUT_BYTES), total);
	assert_int_equal(uart_stat(h, UART_STAT_OUT_DISCARDED), 0);
	free(got);
	close(sfd);
	avm_harness_free(h);
}

static void pty_symlink_names_the_slave(void **state)
{
	struct tmp t;
	struct uart_config cfg = { .chr = { .kind = CHARDEV_PTY,
					    .path = t.path } };
	avm_harness *h;
	char target[128];
	ssize_t n;

	(void)state;
	tmp_make(&t);
	h = uart_harness(&cfg);
	n = readlink(t.path, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = 0;
	assert_string_equal(target,
			    ((struct uart *)avm_harness_state(h))->cd.slave);
	avm_harness_free(h);
	assert_int_equal(access(t.path, F_OK), -1); /* removed at the end */
	/* A stale link is replaced, a file is not overwritten. */
	assert_int_equal(symlink("/nonexistent", t.path), 0);
	h = uart_harness(&cfg);
	avm_harness_free(h);
	put_file(t.path, "keep");
	assert_int_equal(try_uart(&cfg), -EEXIST);
	get_file(t.path, target, sizeof(target));
	assert_string_equal(target, "keep");
	tmp_drop(&t);
}

/* --- nng ------------------------------------------------------------------ */

static void test_url(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "ipc:///tmp/uart-test-%d-%s.ipc", (int)getpid(), tag);
}

static nng_socket peer_dial(const char *url)
{
	nng_socket p;

	assert_int_equal(nng_pair1_open(&p), 0);
	assert_int_equal(nng_socket_set_ms(p, NNG_OPT_RECVTIMEO, 10000), 0);
	assert_int_equal(nng_dial(p, url, NULL, 0), 0);
	return p;
}

/* Until the UART has seen the peer (its link eventfd, made ready). */
static void nng_wait_attached(avm_harness *h)
{
	struct uart *s = avm_harness_state(h);
	uint64_t end = test_now_ns() + TEST_DEADLINE_NS;

	while (!s->cd.connected) {
		assert_true(test_now_ns() < end);
		avm_harness_fd_ready(h, CHARDEV_WATCH_LINK, AVM_FD_READ);
		test_sleep_us(1000);
	}
}

static void peer_recv_exact(nng_socket p, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		char *m;
		size_t len;

		assert_int_equal(nng_recv(p, &m, &len, NNG_FLAG_ALLOC), 0);
		assert_true(got + len <= n);
		memcpy(buf + got, m, len);
		got += len;
		nng_free(m, len);
	}
}

static void nng_peer_both_ways(void **state)
{
	char url[128], got[8];
	struct uart_config cfg = {
		.chr = { .kind = CHARDEV_NNG, .path = url, .listen = true }
	};
	avm_harness *h;
	uint64_t end = test_now_ns() + TEST_DEADLINE_NS;
	nng_socket p;

	(void)state;
	test_url(url, sizeof(url), "both");
	h = uart_harness(&cfg);
	put_str(h, "z"); /* nobody there yet */
	assert_int_equal(uart_stat(h, UART_STAT_OUT_DISCARDED), 1);
	p = peer_dial(url);
	nng_wait_attached(h);
	put_str(h, "abc");
	peer_recv_exact(p, got, 3);
	assert_memory_equal(got, "abc", 3);

	assert_int_equal(nng_send(p, "xyz", 3, 0), 0);
	while (!(rd(h, UART_LSR) & UART_LSR_DR)) {
		assert_true(test_now_ns() < end);
		test_sleep_us(1000);
		(void)avm_harness_try_fd_ready(h, CHARDEV_WATCH_IN,
					       AVM_FD_READ);
	}
	/* One message, handed out a byte at a time (16450 mode). */
	assert_int_equal(rd(h, UART_RBR), 'x');
	assert_int_equal(rd(h, UART_RBR), 'y');
	assert_int_equal(rd(h, UART_RBR), 'z');
	assert_int_equal(rd(h, UART_LSR) & (UART_LSR_DR | UART_LSR_OE), 0);
	avm_harness_free(h);
	nng_close(p);
}

static void nng_hold_keeps_output_until_attached(void **state)
{
	char url[128], got[8];
	struct uart_config cfg = { .chr = { .kind = CHARDEV_NNG,
					    .path = url,
					    .listen = true,
					    .hold = true } };
	avm_harness *h;
	nng_socket p;

	(void)state;
	test_url(url, sizeof(url), "hold");
	h = uart_harness(&cfg);
	put_str(h, "early");
	assert_int_equal(uart_stat(h, UART_STAT_OUT_LEVEL), 5);
	assert_int_equal(uart_stat(h, UART_STAT_OUT_DISCARDED), 0);
	p = peer_dial(url);
	nng_wait_attached(h);
	peer_recv_exact(p, got, 5);
	assert_memory_equal(got, "early", 5);
	assert_int_equal(uart_stat(h, UART_STAT_OUT_LEVEL), 0);
	avm_harness_free(h);
	nng_close(p);
}

/* A peer that leaves mid-way: output is discarded again, never stuck. */
static void nng_peer_gone_discards(void **state)
{
	char url[128], got[2];
	struct uart_config cfg = {
		.chr = { .kind = CHARDEV_NNG, .path = url, .listen = true }
	};
	avm_harness *h;
	struct uart *s;
	uint64_t end = test_now_ns() + TEST_DEADLINE_NS;
	nng_socket p;

	(void)state;
	test_url(url, sizeof(url), "gone");
	h = uart_harness(&cfg);
	s = avm_harness_state(h);
	p = peer_dial(url);
	nng_wait_attached(h);
	put_str(h, "a");
	peer_recv_exact(p, got, 1);
	nng_close(p);
	while (s->cd.connected) {
		assert_true(test_now_ns() < end);
		test_sleep_us(1000);
		(void)avm_harness_try_fd_ready(h, CHARDEV_WATCH_LINK,
					       AVM_FD_READ);
	}
	put_str(h, "bc");
	assert_int_equal(uart_stat(h, UART_STAT_OUT_DISCARDED), 2);
	assert_int_equal(rd(h, UART_LSR) & UART_LSR_THRE, UART_LSR_THRE);
	avm_harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_output_truncates),
		cmocka_unit_test(file_output_appends),
		cmocka_unit_test(file_input_read_once_in_order),
		cmocka_unit_test(bad_configs_fail_init),
		cmocka_unit_test(null_takes_everything_gives_nothing),
		cmocka_unit_test(pty_discards_until_opened_then_talks),
		cmocka_unit_test(pty_stall_fills_fifo_and_loses_nothing),
		cmocka_unit_test(pty_symlink_names_the_slave),
		cmocka_unit_test(nng_peer_both_ways),
		cmocka_unit_test(nng_hold_keeps_output_until_attached),
		cmocka_unit_test(nng_peer_gone_discards),
	};

	return cmocka_run_group_tests_name("chardev_backends", tests, NULL,
					   NULL);
}
