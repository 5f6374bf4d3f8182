/* SPDX-License-Identifier: MIT */
/**
 * DOC: guarded nng listeners
 *
 * Every nng socket of actorvm that listens (the control socket, network
 * wires and nng serial backends with ``listen: true``) goes through
 * avm_listen() instead of nng_listen(), which adds three things:
 *
 * - An ipc:// path is checked first. Something that is not a socket is never
 *   touched (nng would unlink it as a "stale" socket): -EEXIST. A socket
 *   another process still serves is left alone: -EADDRINUSE, after a probe
 *   that completes nng's handshake so that it does not break that listener
 *   (see below). A socket nobody serves (connect() refused) is stale and is
 *   removed.
 * - ipc sockets are created mode 0600, whatever the umask: whoever can
 *   connect can drive what listens there.
 * - A watchdog re-makes an ipc listener when nng loses it. nng 1.5.2 (Debian
 * 12) ends a listener for good when a client connects and closes before the
 *   8-byte SP handshake is done (the send fails with EPIPE, reported as
 *   NNG_ECLOSED, which the listener takes for its own close: nanomsg/nng#1518,
 *   fixed upstream in 1.6.0); its poll thread then spins once a later client
 *   gives up. The watchdog thread probes each ipc listener
 *   %AVM_LISTEN_CHECK_MS after any traffic its statistics show, and once a
 *   second without: a connection with protocol 0 that a live listener
 *   rejects and closes at once (a lost one answers the handshake and never
 *   closes). No close within 2 s, or nobody serving the path (its file was
 *   removed), makes it close the listener and listen again on the same URL.
 *   The statistics only bring the probe forward: they cannot tell a loss
 *   from a normal close. The probe is rejected before it is added to the
 *   socket: pipe callbacks see its ADD_PRE and REM_POST but never an
 *   ADD_POST, and a connected peer is undisturbed.
 *   Clients connected at that moment lose their connection and re-dial (nng
 *   dialers do so by themselves); those the lost listener left hanging are
 *   shut down for that. nng 1.5.2 never closes the descriptor of a client
 *   that closed before the handshake, lost listener or not: a leak of one
 *   socket per such client that no call of ours can release. tcp
 *   listeners are not watched: nng's tcp transport survives such a client
 *   (its one handshake write to a peer that closed still succeeds).
 *
 * Threads: avm_listen() and avm_listener_free() may be called from any
 * thread (the listeners are kept in one process-wide registry under a
 * mutex). The watchdog is one detached thread per process, started by the
 * first avm_listen() and never stopped, at normal priority on the
 * process's CPUs; it touches only the registered listeners and their
 * sockets. avm_listen() blocks (an ipc probe waits up to 2 s for a live
 * peer's handshake): call it from set-up code (an actor's init, a tool),
 * never from a handler.
 */
#ifndef ACTORVM_LISTEN_H
#define ACTORVM_LISTEN_H

#include <stddef.h>

#include <nng/nng.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How often the watchdog looks at the listeners' statistics. */
#define AVM_LISTEN_CHECK_MS 100

/* The mode of the ipc sockets avm_listen() creates. */
#define AVM_LISTEN_IPC_MODE 0600

struct avm_listener;

/**
 * avm_listen() - nng_listen() on @url with the checks and the watchdog above.
 * @out: gets the listener; free it with avm_listener_free() before closing
 * @sock, which is the caller's and must stay open until then (the watchdog
 * may listen on it again meanwhile). @url is copied. @err gets a message
 * naming @url on failure. Returns 0, -EEXIST (an
 * ipc path that is not a socket), -EADDRINUSE (a live socket, or nng says
 * so), -EINVAL (a bad URL), -ENOTSUP (a transport nng lacks), -ENOMEM,
 * or another negative errno from nng (avm_nng_errno()).
 */
int avm_listen(nng_socket sock, const char *url, struct avm_listener **out,
	       char *err, size_t len);

/**
 * avm_listener_free() - stop watching @l and free it; call it before
 * nng_close() of the socket, which closes the listener itself (and, for
 * ipc, removes the socket file). NULL is a no-op. It may wait for the
 * watchdog's current pass over the listeners (bounded).
 */
void avm_listener_free(struct avm_listener *l);

#ifdef __cplusplus
}
#endif

#endif
