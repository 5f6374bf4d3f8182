/* SPDX-License-Identifier: MIT */
/*
 * A stalled backend never blocks a VCPU, and loses nothing.
 *
 * Threaded executor. The UART's file backend writes into a FIFO whose
 * reader thread stops reading: the FIFO fills, the writer thread blocks,
 * its pipe fills, the UART's output buffer fills, the TX FIFO stops
 * draining. The test thread acts as the VCPU through an accessor, as a
 * driver would: it polls LSR and writes 16 bytes whenever THRE is set. The
 * reader only resumes (after a further ~50 ms stall) once the VCPU has
 * completed many LSR reads that showed THRE = TEMT = 0, so those reads all
 * completed while the backend was stalled; no assertion depends on timing.
 * At the end every byte must have arrived, in order.
 */
#include "uart_test.h"

#include <actorvm/runtime.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#define COM1	      0x3f8
#define TOTAL	      (256u * 1024u) /* well above every buffer on the way */
#define STALLED_READS 1000u
#define STALL_US      50000u

struct stall {
	char dir[64], fifo[128];
	int rfd;
	atomic_bool release;
	uint8_t *got;
	size_t n_got;
	bool reader_timed_out;
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

static void *reader_main(void *arg)
{
	struct stall *st = arg;
	uint64_t end = test_now_ns() + TEST_DEADLINE_NS;
	struct pollfd p = { .fd = st->rfd, .events = POLLIN };

	while (!atomic_load(&st->release)) {
		if (test_now_ns() > end) {
			st->reader_timed_out = true;
			break;
		}
		test_sleep_us(1000);
	}
	test_sleep_us(STALL_US); /* the backend stays stalled a while longer */
	for (;;) {
		ssize_t r;

		if (poll(&p, 1, (int)(TEST_DEADLINE_NS / 1000000)) != 1) {
			st->reader_timed_out = true;
			break;
		}
		r = read(st->rfd, st->got + st->n_got, TOTAL + 1 - st->n_got);
		if (r == 0)
			break; /* the UART's writer closed: all delivered */
		if (r > 0)
			st->n_got += (size_t)r;
		if (st->n_got > TOTAL)
			break;
	}
	return NULL;
}

static uint8_t vcpu_rd(avm_accessor *acc, unsigned reg)
{
	uint64_t v = 0;

	assert_int_equal(avm_read(acc, AVM_SPACE_PIO, COM1 + reg, 1, &v), 0);
	return (uint8_t)v;
}

static void vcpu_wr(avm_accessor *acc, unsigned reg, uint8_t v)
{
	assert_int_equal(avm_write(acc, AVM_SPACE_PIO, COM1 + reg, 1, v), 0);
}

static uint64_t vcpu_stat(avm_accessor *acc, avm_actor_id id,
			  enum uart_stat which)
{
	struct avm_msg m = { .kind = UART_MSG_STAT, .user.arg = which };
	uint64_t v = 0;

	assert_int_equal(avm_request(acc, id, &m, &v), 0);
	return v;
}

/* The driver's loop; returns LSR reads that found THRE and TEMT clear
 * before the reader was released. */
static unsigned vcpu_send_all(struct stall *st, avm_accessor *acc)
{
	uint64_t end = test_now_ns() + TEST_DEADLINE_NS;
	unsigned stalled = 0;
	size_t sent = 0;

	while (sent < TOTAL) {
		uint8_t lsr = vcpu_rd(acc, UART_LSR);

		assert_true(test_now_ns() < end);
		if (lsr & UART_LSR_THRE) {
			for (unsigned k = 0; k < UART_FIFO_SIZE && sent < TOTAL;
			     k++)
				vcpu_wr(acc, UART_THR, pattern(sent++));
			continue;
		}
		assert_int_equal(lsr & UART_LSR_TEMT, 0);
		if (!atomic_load(&st->release) && ++stalled >= STALLED_READS)
			atomic_store(&st->release, true);
	}
	atomic_store(&st->release, true);
	return stalled;
}

static void vcpu_wait_empty(avm_accessor *acc)
{
	uint64_t end = test_now_ns() + TEST_DEADLINE_NS;

	while (!(vcpu_rd(acc, UART_LSR) & UART_LSR_TEMT))
		assert_true(test_now_ns() < end);
}

static void setup_fifo(struct stall *st)
{
	strcpy(st->dir, "/tmp/uart-stall-XXXXXX");
	assert_non_null(mkdtemp(st->dir));
	snprintf(st->fifo, sizeof(st->fifo), "%s/fifo", st->dir);
	assert_int_equal(mkfifo(st->fifo, 0600), 0);
	/* The reader first: the backend refuses a FIFO nobody reads. */
	st->rfd = open(st->fifo, O_RDONLY | O_NONBLOCK);
	assert_true(st->rfd >= 0);
	(void)fcntl(st->rfd, F_SETPIPE_SZ, 4096);
	st->got = malloc(TOTAL + 1);
	assert_non_null(st->got);
}

static void stalled_backend_never_blocks_the_vcpu(void **state)
{
	struct stall st = { .rfd = -1 };
	struct uart_config cfg = {
		.chr = { .kind = CHARDEV_FILE, .path = st.fifo }, .out_buf = 256
	};
	struct avm_runtime_config rc = { .exec = AVM_EXEC_THREADED,
					 .log_level = AVM_LOG_ERROR,
					 .read_deadline_ns = TEST_DEADLINE_NS };
	struct avm_actor_spec spec = { .ops = &uart_ops,
				       .name = "com1",
				       .config = &cfg };
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id id;
	pthread_t reader;
	unsigned stalled;

	(void)state;
	setup_fifo(&st);
	assert_int_equal(avm_runtime_new(&rc, &rt), 0);
	assert_int_equal(avm_actor_create(rt, &spec, &id), 0);
	assert_int_equal(avm_map(rt, id, 0, COM1), 0);
	assert_int_equal(avm_runtime_start(rt), 0);
	assert_int_equal(avm_accessor_new(rt, "vcpu", &acc), 0);
	assert_int_equal(pthread_create(&reader, NULL, reader_main, &st), 0);

	vcpu_wr(acc, UART_FCR, UART_FCR_FE | UART_FCR_RFR | UART_FCR_XFR);
	stalled = vcpu_send_all(&st, acc);
	/* Those reads completed while nothing drained the output. */
	assert_true(stalled >= STALLED_READS);
	vcpu_wait_empty(acc);
	assert_int_equal(vcpu_stat(acc, id, UART_STAT_TX_BYTES), TOTAL);
	assert_int_equal(vcpu_stat(acc, id, UART_STAT_TX_OVERRUN), 0);
	assert_int_equal(vcpu_stat(acc, id, UART_STAT_OUT_DISCARDED), 0);
	assert_true(vcpu_stat(acc, id, UART_STAT_OUT_STALLS) >= 1);

	avm_accessor_free(acc);
	avm_runtime_free(rt); /* the writer thread drains, then closes */
	pthread_join(reader, NULL);
	assert_false(st.reader_timed_out);
	assert_int_equal(st.n_got, TOTAL);
	for (size_t i = 0; i < TOTAL; i++)
		if (st.got[i] != pattern(i))
			fail_msg("byte %zu: 0x%x, not 0x%x", i, st.got[i],
				 pattern(i));
	close(st.rfd);
	unlink(st.fifo);
	rmdir(st.dir);
	free(st.got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stalled_backend_never_blocks_the_vcpu),
	};

	return cmocka_run_group_tests_name("chardev_stall", tests, NULL, NULL);
}
