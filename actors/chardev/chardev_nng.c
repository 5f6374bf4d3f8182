/* SPDX-License-Identifier: MIT */
/*
 * The nng backend: a PAIR (v1) socket that listens or dials, so that a
 * terminal, a test or another VM in another process can attach.
 *
 * Message format: raw bytes, one nng message per chunk, no header. A byte
 * stream has no fields a schema could name (protobuf's CharData would wrap
 * the same bytes in one length-delimited field and add nothing), and raw
 * bytes let any PAIR v1 peer attach, `nngcat --pair1 --dial URL` included,
 * as the network "wire" backend does for frames.
 *
 * Output: only while a peer is attached (else discarded, or held with
 * cfg.hold). A send that would block arms a watch on nng's pollable send
 * descriptor (readable when a send would succeed).
 * Input: one message at a time is taken and handed out as the device has
 * room; the next one is received only when it is used up (back-pressure:
 * nng's receive buffer, then the peer's send, fill up).
 *
 * Attachment: nng's pipe callbacks run on nng threads, so they only record
 * the attached pipe in an atomic and signal an eventfd the actor watches.
 * nng_close() waits for every pipe (and callback) to be gone.
 */
#include "chardev_priv.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/protocol/pair1/pair.h>

#include <actorvm/listen.h>

#define NNG_RECV_MAX  65536 /* larger messages make nng close the pipe */
#define NNG_BUF_MSGS  16
#define NNG_MAX_EMPTY 8 /* empty messages skipped per read */

struct chardev_link {
	atomic_uint pipe; /* id of the attached pipe, 0: none */
	int efd;
};

static int nng_to_errno(int rv)
{
	if (rv & NNG_ESYSERR)
		return -(rv & ~NNG_ESYSERR);
	switch (rv) {
	case NNG_ENOMEM:
		return -ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
		return -EINVAL;
	case NNG_EADDRINUSE:
		return -EADDRINUSE;
	case NNG_ENOTSUP:
		return -ENOTSUP;
	default:
		return -EIO;
	}
}

static void link_signal(struct chardev_link *l)
{
	uint64_t one = 1;

	/* Fails only if the counter would overflow: it is readable then. */
	(void)!write(l->efd, &one, sizeof(one));
}

/* On an nng thread: the atomic and the eventfd only. */
static void link_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct chardev_link *l = arg;
	unsigned id = (unsigned)nng_pipe_id(p);
	unsigned none = 0;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_compare_exchange_strong(&l->pipe, &none, id);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_compare_exchange_strong(&l->pipe, &id, 0);
	link_signal(l);
}

static void cnng_close(struct chardev *cd)
{
	if (cd->rx_msg)
		nng_msg_free(cd->rx_msg);
	cd->rx_msg = NULL;
	avm_listener_free(cd->listener);
	cd->listener = NULL;
	if (cd->sock_open)
		nng_close(cd->sock);
	cd->sock_open = false;
	if (cd->link) {
		if (cd->link->efd >= 0)
			close(cd->link->efd);
		free(cd->link);
		cd->link = NULL;
	}
}

static int cnng_socket(struct chardev *cd)
{
	int rv = nng_pair1_open(&cd->sock);

	if (rv)
		return rv;
	cd->sock_open = true;
	rv = nng_socket_set_int(cd->sock, NNG_OPT_SENDBUF, NNG_BUF_MSGS);
	if (!rv)
		rv = nng_socket_set_int(cd->sock, NNG_OPT_RECVBUF,
					NNG_BUF_MSGS);
	if (!rv)
		rv = nng_socket_set_size(cd->sock, NNG_OPT_RECVMAXSZ,
					 NNG_RECV_MAX);
	if (!rv)
		rv = nng_socket_set_ms(cd->sock, NNG_OPT_RECONNMINT, 10);
	if (!rv)
		rv = nng_socket_set_ms(cd->sock, NNG_OPT_RECONNMAXT, 500);
	if (!rv)
		rv = nng_pipe_notify(cd->sock, NNG_PIPE_EV_ADD_POST,
				     link_pipe_cb, cd->link);
	if (!rv)
		rv = nng_pipe_notify(cd->sock, NNG_PIPE_EV_REM_POST,
				     link_pipe_cb, cd->link);
	if (!rv)
		rv = nng_socket_get_int(cd->sock, NNG_OPT_RECVFD, &cd->recv_fd);
	if (!rv)
		rv = nng_socket_get_int(cd->sock, NNG_OPT_SENDFD, &cd->send_fd);
	return rv;
}

static int cnng_connect(struct chardev *cd, avm_ctx *ctx)
{
	char why[256];
	int err;

	if (cd->cfg.listen) {
		/* Path checks, 0600 and nng 1.5.2's lost listener: listen.h */
		err = avm_listen(cd->sock, cd->cfg.path, &cd->listener, why,
				 sizeof(why));
		if (err)
			avm_log(ctx, AVM_LOG_ERROR, "chardev nng: %s", why);
		return err;
	}
	/* Non-blocking: nng keeps redialling until the listener is there. */
	err = nng_dial(cd->sock, cd->cfg.path, NULL, NNG_FLAG_NONBLOCK);
	if (err)
		avm_log(ctx, AVM_LOG_ERROR, "chardev nng %s: cannot dial: %s",
			cd->cfg.path, nng_strerror(err));
	return err ? nng_to_errno(err) : 0;
}

static int cnng_link_new(struct chardev *cd)
{
	cd->link = calloc(1, sizeof(*cd->link));
	if (!cd->link)
		return -ENOMEM;
	atomic_init(&cd->link->pipe, 0);
	cd->link->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return cd->link->efd < 0 ? -errno : 0;
}

static int cnng_open(struct chardev *cd, avm_ctx *ctx)
{
	int err, rv;

	if (!cd->cfg.path) {
		avm_log(ctx, AVM_LOG_ERROR, "chardev nng: no url");
		return -EINVAL;
	}
	err = cnng_link_new(cd);
	if (err)
		goto close_all;
	rv = cnng_socket(cd);
	if (rv) {
		avm_log(ctx, AVM_LOG_ERROR, "chardev nng %s: cannot open: %s",
			cd->cfg.path, nng_strerror(rv));
		err = nng_to_errno(rv);
		goto close_all;
	}
	err = cnng_connect(cd, ctx);
	if (err)
		goto close_all;
	err = avm_fd_watch(ctx, CHARDEV_WATCH_LINK, cd->link->efd, AVM_FD_READ);
	if (err)
		goto close_all;
	return 0;
close_all:
	cnng_close(cd);
	return err;
}

static ssize_t cnng_write(struct chardev *cd, const uint8_t *p, size_t n,
			  avm_ctx *ctx)
{
	int rv;

	if (!atomic_load(&cd->link->pipe))
		return cd->cfg.hold ? 0 : -EPIPE; /* a LINK event wakes us */
	rv = nng_send(cd->sock, (void *)p, n, NNG_FLAG_NONBLOCK);
	if (!rv)
		return (ssize_t)n;
	if (rv == NNG_EAGAIN) {
		rv = avm_fd_watch(ctx, CHARDEV_WATCH_OUT, cd->send_fd,
				  AVM_FD_READ);
		return rv ? rv : 0;
	}
	return nng_to_errno(rv);
}

/* The next non-empty message into cd->rx_msg; false if none now. */
static bool cnng_next(struct chardev *cd, avm_ctx *ctx)
{
	for (int i = 0; i < NNG_MAX_EMPTY; i++) {
		int rv = nng_recvmsg(cd->sock, &cd->rx_msg, NNG_FLAG_NONBLOCK);

		if (rv) {
			cd->rx_msg = NULL;
			if (rv != NNG_EAGAIN)
				chardev_error(cd, ctx, "receive",
					      nng_to_errno(rv));
			avm_fd_watch(ctx, CHARDEV_WATCH_IN, cd->recv_fd,
				     AVM_FD_READ);
			return false;
		}
		cd->rx_off = 0;
		if (nng_msg_len(cd->rx_msg))
			return true;
		nng_msg_free(cd->rx_msg);
		cd->rx_msg = NULL;
	}
	/* Only empty messages so far: look again later, not now. */
	avm_fd_watch(ctx, CHARDEV_WATCH_IN, cd->recv_fd, AVM_FD_READ);
	return false;
}

static ssize_t cnng_read(struct chardev *cd, uint8_t *p, size_t n, avm_ctx *ctx)
{
	size_t left;

	if (!cd->rx_msg && !cnng_next(cd, ctx))
		return 0;
	left = nng_msg_len(cd->rx_msg) - cd->rx_off;
	if (n > left)
		n = left;
	memcpy(p, (const uint8_t *)nng_msg_body(cd->rx_msg) + cd->rx_off, n);
	cd->rx_off += n;
	if (cd->rx_off == nng_msg_len(cd->rx_msg)) {
		nng_msg_free(cd->rx_msg);
		cd->rx_msg = NULL;
	}
	return (ssize_t)n;
}

static unsigned cnng_event(struct chardev *cd, const struct avm_msg *m,
			   avm_ctx *ctx)
{
	uint64_t n;
	bool up;

	if (m->kind != AVM_MSG_FD || m->arg != CHARDEV_WATCH_LINK)
		return chardev_fd_event(cd, m, ctx);
	(void)!read(cd->link->efd, &n, sizeof(n));
	up = atomic_load(&cd->link->pipe) != 0;
	if (up == cd->connected)
		return 0;
	cd->connected = up;
	avm_log(ctx, AVM_LOG_DEBUG, "chardev nng %s: peer %s", cd->cfg.path,
		up ? "attached" : "gone");
	/* Either way the output is retried: sent now, or (peer gone, a send
	 * watch that may never fire) discarded or held by cnng_write(). */
	return up ? CHARDEV_WAKE_OUT | CHARDEV_WAKE_IN : CHARDEV_WAKE_OUT;
}

const struct chardev_backend chardev_nng = {
	.name = "nng",
	.open = cnng_open,
	.close = cnng_close,
	.write = cnng_write,
	.read = cnng_read,
	.event = cnng_event,
};
