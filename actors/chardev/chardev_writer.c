/* SPDX-License-Identifier: MIT */
/*
 * The writer thread, for outputs that cannot be written without blocking
 * from the actor's thread: stdout (setting O_NONBLOCK on it would change the
 * file description the whole process, its parent shell and the terminal
 * share) and regular files (always "ready", yet a write may wait for a slow
 * disk). The actor writes into a small pipe whose write end is its own and
 * non-blocking; the thread does the blocking writes. When the output stalls,
 * the pipe fills and the actor sees "would block": back-pressure, bounded by
 * CHARDEV_WRITER_PIPE + CHARDEV_WRITER_CHUNK bytes in flight.
 *
 * The block is shared by the thread and the owner with a reference count:
 * a stop that gives up waiting (an output stalled for good) detaches the
 * thread, which frees the block itself when its write finally returns.
 */
#include "chardev_priv.h"

#include <actorvm/runtime.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long a stop waits for the thread to drain before detaching it. */
#define WRITER_STOP_S 2

struct chardev_writer {
	pthread_t tid;
	int rfd;
	int fd;
	bool own;
	atomic_uint refs;
	atomic_uint_least64_t errors;
	/* Bytes that never reached the output, and why the first did not. */
	atomic_uint_least64_t lost;
	atomic_int first_err;
	/* Where losses are told; NULL once a stop gave up on the thread
	 * (the runtime may be gone by the time its write returns). */
	_Atomic(avm_runtime *) rt;
	char who[CHARDEV_PATH_MAX + 64];
	char actor[64]; /* a copy: the thread may outlive the actor */
};

/* acq_rel: whoever drops the last reference sees everything the other
 * side did to the block before it frees it. */
static void writer_put(struct chardev_writer *w)
{
	if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) == 1)
		free(w);
}

/*
 * Guest output that cannot be written (a full disk) is lost: say so at
 * once, naming the output and the error, and have the run end with an
 * error; later failures are only counted (the stop tells the total).
 */
static void writer_lost(struct chardev_writer *w, size_t n, int err)
{
	int none = 0;
	avm_runtime *rt;

	atomic_fetch_add_explicit(&w->lost, n, memory_order_relaxed);
	if (!atomic_compare_exchange_strong(&w->first_err, &none, err))
		return;
	rt = atomic_load(&w->rt);
	if (!rt)
		return;
	avm_runtime_data_lost(rt);
	avm_runtime_log(rt, AVM_LOG_ERROR, w->actor,
			"%s: write: %s: guest output is being lost "
			"(further losses counted)",
			w->who, strerror(err));
}

/* All of @n bytes, or count an error and drop the rest of the chunk. */
static void writer_all(struct chardev_writer *w, const uint8_t *p, size_t n)
{
	struct pollfd pfd = { .fd = w->fd, .events = POLLOUT };

	while (n) {
		ssize_t r = write(w->fd, p, n);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Somebody else made the description non-blocking. */
			(void)poll(&pfd, 1, -1);
		} else {
			/* A statistic: no ordering needed. */
			atomic_fetch_add_explicit(&w->errors, 1,
						  memory_order_relaxed);
			writer_lost(w, n, r < 0 ? errno : EIO);
			return;
		}
	}
}

static void *writer_main(void *arg)
{
	struct chardev_writer *w = arg;
	uint8_t buf[CHARDEV_WRITER_CHUNK];

	for (;;) {
		ssize_t n = read(w->rfd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the owner closed its end: all drained */
		writer_all(w, buf, (size_t)n);
	}
	close(w->rfd);
	if (w->own)
		close(w->fd);
	writer_put(w);
	return NULL;
}

/*
 * Signals stay blocked in the thread: a write to a closed pipe then fails
 * with EPIPE instead of killing the process with SIGPIPE, without touching
 * the process-wide disposition.
 */
static int writer_spawn(struct chardev_writer *w)
{
	sigset_t all, old;
	int rv;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rv = pthread_create(&w->tid, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -rv;
}

int chardev_writer_start(struct chardev_writer **out, int fd, bool own,
			 int *wfd, avm_ctx *ctx, const char *who)
{
	struct chardev_writer *w = calloc(1, sizeof(*w));
	int p[2], err;

	if (!w)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC)) {
		err = -errno;
		goto free_w;
	}
	/* Only our own end is non-blocking; a smaller pipe bounds the bytes
	 * in flight (the kernel may refuse: then 64 KiB it is). */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	(void)fcntl(p[1], F_SETPIPE_SZ, CHARDEV_WRITER_PIPE);
	w->rfd = p[0];
	w->fd = fd;
	w->own = own;
	atomic_init(&w->refs, 2);
	atomic_init(&w->errors, 0);
	atomic_init(&w->lost, 0);
	atomic_init(&w->first_err, 0);
	atomic_init(&w->rt, avm_runtime_of(ctx));
	snprintf(w->who, sizeof(w->who), "%s", who);
	snprintf(w->actor, sizeof(w->actor), "%s",
		 avm_actor_name(avm_runtime_of(ctx), avm_self(ctx)));
	err = writer_spawn(w);
	if (err)
		goto close_pipe;
	*out = w;
	*wfd = p[1];
	return 0;
close_pipe:
	close(p[0]);
	close(p[1]);
free_w:
	free(w);
	return err;
}

/* The end of the output: what it lost in all, if anything. */
static void writer_total(struct chardev_writer *w)
{
	uint64_t lost = atomic_load(&w->lost);
	avm_runtime *rt = atomic_load(&w->rt);

	if (lost && rt)
		avm_runtime_log(rt, AVM_LOG_ERROR, w->actor,
				"%s: %llu bytes of guest output lost (%s)",
				w->who, (unsigned long long)lost,
				strerror(atomic_load(&w->first_err)));
}

void chardev_writer_stop(struct chardev_writer *w, int wfd)
{
	struct timespec ts;

	close(wfd);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WRITER_STOP_S;
	if (pthread_timedjoin_np(w->tid, NULL, &ts)) {
		atomic_store(&w->rt, NULL);
		pthread_detach(w->tid);
	}
	writer_total(w);
	writer_put(w);
}

uint64_t chardev_writer_errors(const struct chardev_writer *w)
{
	return atomic_load_explicit(&w->errors, memory_order_relaxed);
}

uint64_t chardev_writer_lost(const struct chardev_writer *w)
{
	return atomic_load_explicit(&w->lost, memory_order_relaxed);
}
