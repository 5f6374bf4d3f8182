/* SPDX-License-Identifier: MIT */
/*
 * avm_listen() (framework/listen.c), on the nng PAIR sockets that network
 * wires and nng serial backends listen with:
 * - a client that connects to the ipc path and closes at once (nng 1.5.2
 *   then stops accepting for good) does not stop the listener: a real
 *   dialer still gets through, and nng's threads do not spin;
 * - a second listener on a served path fails with -EADDRINUSE and leaves
 *   the first one working;
 * - a regular file at the path survives (-EEXIST), a stale socket is
 *   replaced;
 * - the socket is mode 0600 under umask 000.
 * Every wait is bounded by a generous receive timeout; nothing asserts on
 * how fast anything is.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include <actorvm/listen.h>

#define WAIT_MS 30000 /* a bound for correctness, not speed */
#define TRY_MS	200   /* one try of exchange() */

struct fixture {
	char dir[64];
	char path[128];
	char url[160];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/avm-listen-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/l.sock", f->dir);
	snprintf(f->url, sizeof(f->url), "ipc://%s", f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static nng_socket pair_socket(void)
{
	nng_socket s;

	assert_int_equal(nng_pair1_open(&s), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, WAIT_MS), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, WAIT_MS), 0);
	return s;
}

static struct avm_listener *listen_ok(nng_socket s, const char *url)
{
	struct avm_listener *l = NULL;
	char err[256] = "";

	assert_int_equal(avm_listen(s, url, &l, err, sizeof(err)), 0);
	assert_non_null(l);
	return l;
}

/* Exactly the repro: connect to the path, close at once. */
static void connect_and_close(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

/*
 * A fresh dialer gets a message through to @server. PAIR does not resend a
 * message whose connection is lost (as when the watchdog re-makes the
 * listener under a dialer that connected meanwhile), so the dialer sends
 * again until one arrives, within WAIT_MS.
 */
static void exchange(nng_socket server, const char *url)
{
	nng_socket c = pair_socket();
	char *buf = NULL;
	size_t n = 0;
	int rv = NNG_ETIMEDOUT;

	assert_int_equal(nng_socket_set_ms(c, NNG_OPT_SENDTIMEO, TRY_MS), 0);
	assert_int_equal(nng_socket_set_ms(server, NNG_OPT_RECVTIMEO, TRY_MS),
			 0);
	assert_int_equal(nng_dial(c, url, NULL, NNG_FLAG_NONBLOCK), 0);
	for (int i = 0; i < WAIT_MS / TRY_MS && rv == NNG_ETIMEDOUT; i++) {
		(void)nng_send(c, "ping", 5, 0); /* ETIMEDOUT: no pipe yet */
		rv = nng_recv(server, &buf, &n, NNG_FLAG_ALLOC);
	}
	assert_int_equal(rv, 0);
	assert_int_equal(n, 5);
	assert_string_equal(buf, "ping");
	nng_free(buf, n);
	nng_close(c);
}

static atomic_bool spin_stop;

static void *spinner(void *arg)
{
	struct timespec *cpu = arg;

	while (!atomic_load_explicit(&spin_stop, memory_order_relaxed))
		;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, cpu);
	return NULL;
}

static double secs(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

/*
 * Whether the process burns CPU beside a thread that spins on purpose for
 * the same second: both compete for the same cores, so the ratio holds on a
 * busy machine. An idle process takes a small fraction of the spinner; nng's
 * spinning poll thread takes about as much.
 */
static void assert_not_spinning(void)
{
	struct timespec p0, p1, spun = { 0 };
	pthread_t th;

	atomic_store(&spin_stop, false);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p0);
	assert_int_equal(pthread_create(&th, NULL, spinner, &spun), 0);
	sleep(1);
	atomic_store(&spin_stop, true);
	pthread_join(th, NULL);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p1);
	double rest = secs(&p1) - secs(&p0) - secs(&spun);

	print_message("spinner %.3f s, the rest %.3f s\n", secs(&spun), rest);
	assert_true(secs(&spun) > 0);
	assert_true(rest < secs(&spun) / 2);
}

static void abrupt_client_does_not_stop_listener(void **state)
{
	struct fixture *f = *state;
	nng_socket s = pair_socket();
	struct avm_listener *l = listen_ok(s, f->url);

	connect_and_close(f->path);
	exchange(s, f->url);
	assert_not_spinning();
	avm_listener_free(l);
	nng_close(s);
}

static void second_listener_fails_first_survives(void **state)
{
	struct fixture *f = *state;
	nng_socket s = pair_socket(), s2 = pair_socket();
	struct avm_listener *l = listen_ok(s, f->url), *l2 = NULL;
	char err[256] = "";

	assert_int_equal(avm_listen(s2, f->url, &l2, err, sizeof(err)),
			 -EADDRINUSE);
	assert_null(l2);
	assert_non_null(strstr(err, "another process serves it"));
	nng_close(s2);
	exchange(s, f->url);
	avm_listener_free(l);
	nng_close(s);
}

static void regular_file_survives(void **state)
{
	struct fixture *f = *state;
	nng_socket s = pair_socket();
	struct avm_listener *l = NULL;
	char err[256] = "", buf[8] = "";
	int fd = open(f->path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(avm_listen(s, f->url, &l, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "is not a socket"));
	nng_close(s);
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	assert_string_equal(buf, "keep");
}

static void stale_socket_is_replaced(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	nng_socket s = pair_socket();
	struct avm_listener *l;

	/* Bound, never listening: what a killed process leaves behind. */
	strcpy(sa.sun_path, f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	l = listen_ok(s, f->url);
	exchange(s, f->url);
	avm_listener_free(l);
	nng_close(s);
}

static void socket_is_0600_under_umask_000(void **state)
{
	struct fixture *f = *state;
	nng_socket s = pair_socket();
	mode_t old = umask(0);
	struct avm_listener *l = listen_ok(s, f->url);
	struct stat st;

	umask(old);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	avm_listener_free(l);
	nng_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			abrupt_client_does_not_stop_listener, setup, teardown),
		cmocka_unit_test_setup_teardown(
			second_listener_fails_first_survives, setup, teardown),
		cmocka_unit_test_setup_teardown(regular_file_survives, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stale_socket_is_replaced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(socket_is_0600_under_umask_000,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
