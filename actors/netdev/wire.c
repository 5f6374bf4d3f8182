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
 * Carrier: nng's pipe callbacks run on nng threads and must not touch the
 * actor's state. They record the connected pipe in a small shared block
 * (atomics) and signal an eventfd the actor watches; the actor then tells
 * the NIC. The block outlives the callbacks: nng_close() waits until every
 * pipe is gone, and their callbacks with them.
 */
#include "netdev_priv.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/pair1/pair.h>

#include <actorvm/listen.h>

#define WIRE_CONT_RECV	 1
#define WIRE_DEFAULT_BUF 64
#define WIRE_URL_MAX	 256
/* How long a stop lets nng write the last frames sent (see wire_linger). */
#define WIRE_LINGER_NS 1000000000ull

/* Shared with nng's pipe callbacks: only atomics and an eventfd. */
struct wire_link {
	atomic_uint pipe; /* id of the connected pipe, 0 if none */
	int efd;
};

struct wire {
	struct netdev_stats st;
	struct wire_config cfg;
	char url[WIRE_URL_MAX];
	nng_socket sock;
	struct avm_listener *listener; /* listen: true only */
	bool open;
	int recv_fd;
	bool recv_watched;
	struct wire_link *link;
	int carrier;   /* last state told to the NIC; -1: none yet */
	bool had_peer; /* a peer was connected: its loss is told */
	bool err_logged;
	uint64_t last_send_ns; /* CLOCK_MONOTONIC of the last frame sent */
};

static const char *const wire_ports[] = { "nic" };

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* nng error numbers to errno: system errors carry the errno itself. */
static int wire_errno(int rv)
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
	case NNG_EPERM:
		return -EPERM;
	case NNG_ECONNREFUSED:
		return -ECONNREFUSED;
	default:
		return -EIO;
	}
}

static void wire_signal(struct wire_link *l)
{
	uint64_t one = 1;

	/* Only fails if the counter would overflow: then it is readable. */
	(void)!write(l->efd, &one, sizeof(one));
}

/* Runs on an nng thread: atomics and the eventfd only. */
static void wire_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct wire_link *l = arg;
	unsigned id = (unsigned)nng_pipe_id(p);
	unsigned none = 0;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_compare_exchange_strong(&l->pipe, &none, id);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_compare_exchange_strong(&l->pipe, &id, 0);
	wire_signal(l);
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

/* Buffers and limits; a protocol without buffering options is fine. */
static int wire_socket_opts(struct wire *w)
{
	int rv;

	rv = nng_socket_set_int(w->sock, NNG_OPT_SENDBUF, w->cfg.sendbuf);
	if (rv && rv != NNG_ENOTSUP)
		return rv;
	rv = nng_socket_set_int(w->sock, NNG_OPT_RECVBUF, w->cfg.recvbuf);
	if (rv && rv != NNG_ENOTSUP)
		return rv;
	/* Beyond this nng closes the pipe; below it we drop and count. */
	rv = nng_socket_set_size(w->sock, NNG_OPT_RECVMAXSZ, WIRE_RECV_MAX);
	if (rv)
		return rv;
	rv = nng_socket_set_ms(w->sock, NNG_OPT_RECONNMINT, 10);
	if (!rv)
		rv = nng_socket_set_ms(w->sock, NNG_OPT_RECONNMAXT, 500);
	return rv;
}

static int wire_socket_open(struct wire *w)
{
	int rv = w->cfg.pair0 ? nng_pair0_open(&w->sock)
			      : nng_pair1_open(&w->sock);

	if (rv)
		return rv;
	w->open = true;
	rv = wire_socket_opts(w);
	if (!rv)
		rv = nng_pipe_notify(w->sock, NNG_PIPE_EV_ADD_POST,
				     wire_pipe_cb, w->link);
	if (!rv)
		rv = nng_pipe_notify(w->sock, NNG_PIPE_EV_REM_POST,
				     wire_pipe_cb, w->link);
	if (!rv)
		rv = nng_socket_get_int(w->sock, NNG_OPT_RECVFD, &w->recv_fd);
	return rv;
}

static int wire_connect(struct wire *w, avm_ctx *ctx)
{
	char why[256];
	int err;

	if (w->cfg.listen) {
		/* Path checks, 0600 and nng 1.5.2's lost listener: listen.h */
		err = avm_listen(w->sock, w->url, &w->listener, why,
				 sizeof(why));
		if (err)
			avm_log(ctx, AVM_LOG_ERROR, "wire: %s", why);
		return err;
	}
	/* Non-blocking: nng keeps redialling until the listener is there. */
	err = nng_dial(w->sock, w->url, NULL, NNG_FLAG_NONBLOCK);
	if (err)
		avm_log(ctx, AVM_LOG_ERROR, "wire %s: cannot dial: %s", w->url,
			nng_strerror(err));
	return err ? wire_errno(err) : 0;
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

	if (!w->open || !w->last_send_ns || !w->link ||
	    !atomic_load(&w->link->pipe) ||
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
	avm_listener_free(w->listener);
	w->listener = NULL;
	/* Waits for nng's pipes, so no callback runs after this. */
	if (w->open)
		nng_close(w->sock);
	w->open = false;
	if (w->link) {
		if (w->link->efd >= 0)
			close(w->link->efd);
		free(w->link);
		w->link = NULL;
	}
}

static int wire_link_new(struct wire *w)
{
	w->link = calloc(1, sizeof(*w->link));
	if (!w->link)
		return -ENOMEM;
	atomic_init(&w->link->pipe, 0);
	w->link->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return w->link->efd < 0 ? -errno : 0;
}

static int wire_init(void *state, const void *config, avm_ctx *ctx)
{
	struct wire *w = state;
	int err, rv;

	w->carrier = -1;
	w->recv_fd = -1;
	err = wire_check_config(w, config, ctx);
	if (!err)
		err = wire_link_new(w);
	if (err)
		goto fail;
	rv = wire_socket_open(w);
	if (rv) {
		avm_log(ctx, AVM_LOG_ERROR, "wire %s: cannot open: %s", w->url,
			nng_strerror(rv));
		err = wire_errno(rv);
		goto fail;
	}
	err = wire_connect(w, ctx);
	if (err)
		goto fail;
	err = avm_fd_watch(ctx, WIRE_WATCH_RECV, w->recv_fd, AVM_FD_READ);
	if (!err)
		err = avm_fd_watch(ctx, WIRE_WATCH_LINK, w->link->efd,
				   AVM_FD_READ);
	if (err)
		goto fail;
	w->recv_watched = true;
	/* The first LINK event tells the NIC the initial state. */
	wire_signal(w->link);
	return 0;
fail:
	wire_fini(w);
	return err;
}

/* One message from nng to the NIC; false when nothing is left. */
static bool wire_recv_one(struct wire *w, avm_ctx *ctx)
{
	nng_msg *msg;
	int rv = nng_recvmsg(w->sock, &msg, NNG_FLAG_NONBLOCK);

	if (rv) {
		if (rv != NNG_EAGAIN)
			wire_error(w, ctx, "receive", rv);
		return false;
	}
	/* Size checks and counting happen in netdev_frame_in(). */
	netdev_frame_in(ctx, NETDEV_PORT_NIC, &w->st, nng_msg_body(msg),
			nng_msg_len(msg));
	nng_msg_free(msg);
	return true;
}

/* A bounded burst; then either continue later or wait for the fd again. */
static void wire_recv_burst(struct wire *w, avm_ctx *ctx)
{
	for (unsigned i = 0; i < w->cfg.burst; i++) {
		if (!wire_recv_one(w, ctx)) {
			if (!w->recv_watched &&
			    !avm_fd_watch(ctx, WIRE_WATCH_RECV, w->recv_fd,
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
	uint64_t n;
	int up;

	(void)!read(w->link->efd, &n, sizeof(n));
	up = atomic_load(&w->link->pipe) != 0;
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
	int rv;

	/* No peer is an unplugged cable: queueing would deliver stale frames
	 * to whoever connects next. */
	if (!len || !atomic_load(&w->link->pipe)) {
		w->st.v[NETDEV_STAT_OUT_DROPPED]++;
		return;
	}
	rv = nng_send(w->sock, (void *)p, len, NNG_FLAG_NONBLOCK);
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
		if (m->arg == WIRE_WATCH_LINK)
			wire_link_event(w, ctx);
		else if (m->arg == WIRE_WATCH_RECV && w->recv_watched)
			wire_recv_burst(w, ctx);
		break;
	case AVM_MSG_CONTINUE:
		if (m->value == WIRE_CONT_RECV)
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
