/* SPDX-License-Identifier: MIT */
/**
 * DOC: nng PAIR endpoints of actors
 *
 * The actors that talk to a peer process over one nng PAIR socket (the
 * network wire, the nng serial backend) set it up the same way here: open
 * PAIR v1 (or v0), set buffers and limits, watch pipes, then listen through
 * avm_listen() or dial without blocking (nng keeps redialling until the
 * listener is there). nng errors become negative errnos with
 * avm_nng_errno().
 *
 * Threading: everything here runs on the owning actor's thread, except the
 * pipe callbacks, which run on nng threads and touch only an atomic (the
 * connected pipe) and an eventfd. The actor watches that eventfd
 * (avm_pair_link_fd()) and reads the peer state with avm_pair_link_event().
 * avm_pair_close() waits for nng's pipes, so no callback runs after it.
 */
#ifndef ACTORVM_PAIR_H
#define ACTORVM_PAIR_H

#include <stdbool.h>
#include <stddef.h>

#include <nng/nng.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * avm_nng_errno() - an nng error number @rv (non-zero) as a negative errno:
 * a system error carries its errno; NNG_EPERM is -EACCES, NNG_ENOTSUP
 * -ENOTSUP (e.g. a transport nng lacks); one without an equivalent is -EIO.
 */
int avm_nng_errno(int rv);

/* How an endpoint is set up; zero fields take the defaults below. */
struct avm_pair_config {
	const char *url;
	bool listen;	 /* listen (through avm_listen()) rather than dial */
	bool pair0;	 /* PAIR v0 instead of v1 */
	bool send_fd;	 /* also get NNG_OPT_SENDFD into send_fd */
	int sendbuf;	 /* messages; 0: AVM_PAIR_DEFAULT_BUF */
	int recvbuf;	 /* messages; 0: AVM_PAIR_DEFAULT_BUF */
	size_t recv_max; /* larger messages close the pipe; 0: no limit */
};

#define AVM_PAIR_DEFAULT_BUF 16

struct avm_pair_link;

/* An endpoint; the owner keeps it, zeroed before avm_pair_open(). */
struct avm_pair {
	nng_socket sock;
	bool open;		       /* sock is open */
	int recv_fd;		       /* NNG_OPT_RECVFD; -1 until open */
	int send_fd;		       /* NNG_OPT_SENDFD if asked; else -1 */
	struct avm_listener *listener; /* listen only */
	struct avm_pair_link *link;    /* shared with the pipe callbacks */
};

/**
 * avm_pair_open() - set up @p as @cfg says. Returns 0, or a negative errno
 * with a message naming the URL in @err (avm_listen()'s own on a listen
 * failure); @p is closed again then. Dialling never waits for the peer.
 */
int avm_pair_open(struct avm_pair *p, const struct avm_pair_config *cfg,
		  char *err, size_t len);

/* Close @p (its listener, socket and link); a closed one is a no-op. */
void avm_pair_close(struct avm_pair *p);

/* The eventfd that becomes readable when a peer connects or goes. */
int avm_pair_link_fd(const struct avm_pair *p);

/* Whether a peer is connected now. */
bool avm_pair_peer(const struct avm_pair *p);

/* After the link fd fired: drain it, and whether a peer is connected. */
bool avm_pair_link_event(struct avm_pair *p);

/* Make the link fd readable, e.g. to handle the initial state as an event. */
void avm_pair_link_kick(struct avm_pair *p);

#ifdef __cplusplus
}
#endif

#endif
