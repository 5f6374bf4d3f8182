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
 * Socket set-up and attachment: actorvm/pair.h, shared with the network
 * wire. A peer attaching or going makes the link eventfd readable.
 */
#include "chardev_priv.h"

#include <errno.h>
#include <string.h>

#define NNG_RECV_MAX  65536 /* larger messages make nng close the pipe */
#define NNG_MAX_EMPTY 8	    /* empty messages skipped per read */

static void cnng_close(struct chardev *cd)
{
	if (cd->rx_msg)
		nng_msg_free(cd->rx_msg);
	cd->rx_msg = NULL;
	avm_pair_close(&cd->pair);
}

static int cnng_open(struct chardev *cd, avm_ctx *ctx)
{
	const struct avm_pair_config pc = {
		.url = cd->cfg.path,
		.listen = cd->cfg.listen,
		.send_fd = true, /* a send that would block waits on it */
		.recv_max = NNG_RECV_MAX,
	};
	char why[256];
	int err;

	if (!cd->cfg.path) {
		avm_log(ctx, AVM_LOG_ERROR, "chardev nng: no url");
		return -EINVAL;
	}
	err = avm_pair_open(&cd->pair, &pc, why, sizeof(why));
	if (err) {
		avm_log(ctx, AVM_LOG_ERROR, "chardev nng: %s", why);
		return err;
	}
	err = avm_fd_watch(ctx, CHARDEV_WATCH_LINK, avm_pair_link_fd(&cd->pair),
			   AVM_FD_READ);
	if (err)
		cnng_close(cd);
	return err;
}

static ssize_t cnng_write(struct chardev *cd, const uint8_t *p, size_t n,
			  avm_ctx *ctx)
{
	int rv;

	if (!avm_pair_peer(&cd->pair))
		return cd->cfg.hold ? 0 : -EPIPE; /* a LINK event wakes us */
	rv = nng_send(cd->pair.sock, (void *)p, n, NNG_FLAG_NONBLOCK);
	if (!rv)
		return (ssize_t)n;
	if (rv == NNG_EAGAIN) {
		rv = avm_fd_watch(ctx, CHARDEV_WATCH_OUT, cd->pair.send_fd,
				  AVM_FD_READ);
		return rv ? rv : 0;
	}
	return avm_nng_errno(rv);
}

/* The next non-empty message into cd->rx_msg; false if none now. */
static bool cnng_next(struct chardev *cd, avm_ctx *ctx)
{
	for (int i = 0; i < NNG_MAX_EMPTY; i++) {
		int rv = nng_recvmsg(cd->pair.sock, &cd->rx_msg,
				     NNG_FLAG_NONBLOCK);

		if (rv) {
			cd->rx_msg = NULL;
			if (rv != NNG_EAGAIN)
				chardev_error(cd, ctx, "receive",
					      avm_nng_errno(rv));
			avm_fd_watch(ctx, CHARDEV_WATCH_IN, cd->pair.recv_fd,
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
	avm_fd_watch(ctx, CHARDEV_WATCH_IN, cd->pair.recv_fd, AVM_FD_READ);
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
	bool up;

	if (m->kind != AVM_MSG_FD || m->fd.watch != CHARDEV_WATCH_LINK)
		return chardev_fd_event(cd, m, ctx);
	up = avm_pair_link_event(&cd->pair);
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
