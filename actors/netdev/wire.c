/* SPDX-License-Identifier: MIT */
/*
 * The "wire" backend: an nng PAIR socket carrying one raw Ethernet frame
 * (no FCS, no header) per nng message, so any nng PAIR peer interoperates.
 *
 * Receiving: nng's pollable receive descriptor (NNG_OPT_RECVFD) is watched,
 * so the actor's own loop wakes when a message arrives; messages are then
 * taken without blocking, at most cfg.burst per handler. While a burst is in
 * progress the watch is off (the descriptor stays readable, and a
 * level-triggered watch would flood the mailbox with FD messages).
 *
 * Sending never blocks: a full or absent peer drops the frame, counted
 * (while connected, nng's send buffer absorbs bursts).
 *
 * Socket set-up and carrier: actorvm/pair.h, shared with the nng serial
 * backend. A peer connecting or going makes the link eventfd readable; the
 * actor then tells the NIC.
 */
#include "netdev_priv.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>

#include <actorvm/pair.h>

#define WIRE_CONT_RECV	 1
#define WIRE_DEFAULT_BUF 64
#define WIRE_URL_MAX	 256
/* How long a stop lets nng write the last frames sent (see wire_linger). */
#define WIRE_LINGER_NS 1000000000ull

struct wire {
	struct netdev_stats st;
	struct wire_config cfg;
	char url[WIRE_URL_MAX];
	struct avm_pair pair;
	bool recv_watched;
	int carrier;   /* last state told to the NIC; -1: none yet */
	bool had_peer; /* a peer was connected: its loss is told */
	bool err_logged;
	uint64_t last_send_ns;	    /* CLOCK_MONOTONIC of the last frame sent */
	uint8_t buf[WIRE_RECV_MAX]; /* a received frame */
};

/*
 * Everything from nng goes through avm_io() (a journal keeps it, a replay
 * gets it back without a socket): the set-up, each frame in and out, and
 * what the peer's state is. nng errors come back as their negated codes.
 */
enum {
	WIRE_IO_OPEN,
	WIRE_IO_KICK,
	WIRE_IO_RECV,
	WIRE_IO_SEND,
	WIRE_IO_PEER,
	WIRE_IO_LINK,
};

static const char *const wire_ports[] = { "nic" };

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wire_error(struct wire *w, avm_ctx *ctx, const char *what, int rv)
{
	w->st.v[NETDEV_STAT_ERRORS]++;
	if (w->err_logged)
		return;
	w->err_logged = true;
	avm_log(ctx, AVM_LOG_WARN, "wire %s: %s: %s (further errors counted)",
		w->url, what, nng_strerror(rv));
}

static int wire_check_config(struct wire *w, const void *config, avm_ctx *ctx)
{
	if (!config || !((const struct wire_config *)config)->url) {
		avm_log(ctx, AVM_LOG_ERROR, "wire: no url configured");
		return -EINVAL;
	}
	w->cfg = *(const struct wire_config *)config;
	if (strlen(w->cfg.url) >= sizeof(w->url)) {
		avm_log(ctx, AVM_LOG_ERROR, "wire: url too long");
		return -ENAMETOOLONG;
	}
	strcpy(w->url, w->cfg.url);
	w->cfg.url = w->url;
	if (!w->cfg.burst)
		w->cfg.burst = NETDEV_BURST;
	if (!w->cfg.sendbuf)
		w->cfg.sendbuf = WIRE_DEFAULT_BUF;
	if (!w->cfg.recvbuf)
		w->cfg.recvbuf = WIRE_DEFAULT_BUF;
	return 0;
}

/*
 * nng 1.5.2 has no NNG_OPT_LINGER: closing a socket discards the frames it
 * has queued but not yet written. A guest that sends its last frame and
 * exits (the e1000 has written DD: for the guest the frame is gone) would
 * lose it. So a stop waits until WIRE_LINGER_NS after the last frame sent
 * to a connected peer: a bounded wait, paid only by a wire that was busy.
 */
static void wire_linger(struct wire *w)
{
	uint64_t now = mono_ns(), left;
	struct timespec ts;

	if (!w->last_send_ns || !avm_pair_peer(&w->pair) ||
	    now - w->last_send_ns >= WIRE_LINGER_NS)
		return;
	left = WIRE_LINGER_NS - (now - w->last_send_ns);
	ts.tv_sec = (time_t)(left / 1000000000u);
	ts.tv_nsec = (long)(left % 1000000000u);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void wire_fini(void *state)
{
	struct wire *w = state;

	wire_linger(w);
	avm_pair_close(&w->pair);
}

static int wire_open(struct wire *w, avm_ctx *ctx)
{
	const struct avm_pair_config pc = {
		.url = w->url,
		.listen = w->cfg.listen,
		.pair0 = w->cfg.pair0,
		.sendbuf = w->cfg.sendbuf,
		.recvbuf = w->cfg.recvbuf,
		/* Beyond this nng closes the pipe; below it we drop and count.
		 */
		.recv_max = WIRE_RECV_MAX,
	};
	char why[256];
	int err = avm_pair_open(&w->pair, &pc, why, sizeof(why));

	if (err)
		avm_log(ctx, AVM_LOG_ERROR, "wire: %s", why);
	return err;
}

static ssize_t io_open(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	return wire_open(arg, ctx);
}

static ssize_t io_kick(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	avm_pair_link_kick(&((struct wire *)arg)->pair);
	return 0;
}

static ssize_t io_recv(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct wire *w = arg;
	nng_msg *msg;
	int rv = nng_recvmsg(w->pair.sock, &msg, NNG_FLAG_NONBLOCK);
	size_t n;

	if (rv)
		return -rv;
	/* nng refuses more than WIRE_RECV_MAX, the buffer's size. */
	n = nng_msg_len(msg) < len ? nng_msg_len(msg) : len;
	memcpy(buf, nng_msg_body(msg), n);
	nng_msg_free(msg);
	return (ssize_t)n;
}

static ssize_t io_send(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct wire *w = arg;
	int rv = nng_send(w->pair.sock, buf, len, NNG_FLAG_NONBLOCK);

	return rv ? -rv : (ssize_t)len;
}

static ssize_t io_peer(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	return avm_pair_peer(&((struct wire *)arg)->pair);
}

static ssize_t io_link(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	return avm_pair_link_event(&((struct wire *)arg)->pair);
}

static int wire_init(void *state, const void *config, avm_ctx *ctx)
{
	struct wire *w = state;
	int err;

	w->carrier = -1;
	err = wire_check_config(w, config, ctx);
	if (!err)
		err = (int)avm_io(ctx, WIRE_IO_OPEN, AVM_IO_CTL, io_open, w,
				  NULL, 0);
	if (!err)
		err = avm_fd_watch(ctx, WIRE_WATCH_RECV, w->pair.recv_fd,
				   AVM_FD_READ);
	if (!err)
		err = avm_fd_watch(ctx, WIRE_WATCH_LINK,
				   avm_pair_link_fd(&w->pair), AVM_FD_READ);
	if (err)
		goto close_wire;
	w->recv_watched = true;
	/* The first LINK event tells the NIC the initial state. */
	avm_io(ctx, WIRE_IO_KICK, AVM_IO_CTL, io_kick, w, NULL, 0);
	return 0;
close_wire:
	wire_fini(w);
	return err;
}

/* One message from nng to the NIC; false when nothing is left. */
static bool wire_recv_one(struct wire *w, avm_ctx *ctx)
{
	ssize_t n = avm_io(ctx, WIRE_IO_RECV, AVM_IO_IN, io_recv, w, w->buf,
			   sizeof(w->buf));

	if (n < 0) {
		if (n != -NNG_EAGAIN)
			wire_error(w, ctx, "receive", (int)-n);
		return false;
	}
	/* Size checks and counting happen in netdev_frame_in(). */
	netdev_frame_in(ctx, NETDEV_PORT_NIC, &w->st, w->buf, (size_t)n);
	return true;
}

/* A bounded burst; then either continue later or wait for the fd again. */
static void wire_recv_burst(struct wire *w, avm_ctx *ctx)
{
	for (unsigned i = 0; i < w->cfg.burst; i++) {
		if (!wire_recv_one(w, ctx)) {
			if (!w->recv_watched &&
			    !avm_fd_watch(ctx, WIRE_WATCH_RECV, w->pair.recv_fd,
					  AVM_FD_READ))
				w->recv_watched = true;
			return;
		}
	}
	if (w->recv_watched) {
		avm_fd_unwatch(ctx, WIRE_WATCH_RECV);
		w->recv_watched = false;
	}
	avm_continue(ctx, WIRE_CONT_RECV);
}

/*
 * A peer that goes away (its process killed, its host gone) is a cable
 * pull: the run goes on with the link down and a new peer brings it back
 * (docs/network.md). But nobody may be left guessing why frames stopped:
 * say it at once, whatever the NIC is told.
 */
static void wire_tell_peer(struct wire *w, avm_ctx *ctx, bool up)
{
	if (up && !w->had_peer)
		avm_log(ctx, AVM_LOG_INFO, "wire %s: peer connected", w->url);
	else if (!up && w->had_peer)
		avm_log(ctx, AVM_LOG_WARN,
			"wire %s: the peer went away: link down until a peer "
			"connects again",
			w->url);
	w->had_peer = up;
}

static void wire_link_event(struct wire *w, avm_ctx *ctx)
{
	int up = avm_io(ctx, WIRE_IO_LINK, AVM_IO_CTL, io_link, w, NULL, 0) > 0;

	wire_tell_peer(w, ctx, up);
	if (up == w->carrier || w->cfg.no_carrier)
		return;
	w->carrier = up;
	avm_log(ctx, AVM_LOG_DEBUG, "wire %s: carrier %s", w->url,
		up ? "up" : "down");
	netdev_link(ctx, NETDEV_PORT_NIC, &w->st, up);
}

static void wire_send(struct wire *w, const struct avm_msg *m, avm_ctx *ctx)
{
	size_t len;
	const void *p = avm_msg_payload(m, &len);
	ssize_t n;
	int rv;

	/* No peer is an unplugged cable: queueing would deliver stale frames
	 * to whoever connects next. */
	if (!len ||
	    avm_io(ctx, WIRE_IO_PEER, AVM_IO_CTL, io_peer, w, NULL, 0) <= 0) {
		w->st.v[NETDEV_STAT_OUT_DROPPED]++;
		return;
	}
	n = avm_io(ctx, WIRE_IO_SEND, AVM_IO_OUT, io_send, w, (void *)p, len);
	rv = n < 0 ? (int)-n : 0;
	if (rv) {
		w->st.v[NETDEV_STAT_OUT_DROPPED]++;
		if (rv != NNG_EAGAIN)
			wire_error(w, ctx, "send", rv);
		return;
	}
	w->st.v[NETDEV_STAT_OUT_FRAMES]++;
	w->st.v[NETDEV_STAT_OUT_BYTES] += len;
	w->last_send_ns = mono_ns();
}

static void wire_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct wire *w = state;

	switch (m->kind) {
	case AVM_MSG_FRAME:
		wire_send(w, m, ctx);
		break;
	case AVM_MSG_FD:
		if (m->fd.watch == WIRE_WATCH_LINK)
			wire_link_event(w, ctx);
		else if (m->fd.watch == WIRE_WATCH_RECV && w->recv_watched)
			wire_recv_burst(w, ctx);
		break;
	case AVM_MSG_CONTINUE:
		if (m->cont.token == WIRE_CONT_RECV)
			wire_recv_burst(w, ctx);
		break;
	default:
		netdev_stat_request(&w->st, m, ctx);
		break;
	}
}

const struct avm_device_ops wire_ops = {
	.type = "wire",
	.doc = "network backend: nng PAIR socket (inproc, ipc, tcp)",
	.state_size = sizeof(struct wire),
	.ports = wire_ports,
	.n_ports = 1,
	.init = wire_init,
	.handle = wire_handle,
	.fini = wire_fini,
	/* nng_send wakes nng's own threads: ~40 us a frame charged to
	 * whoever runs it in place (docs/performance.md, e1000 doorbell). */
	.own_thread = true,
};
