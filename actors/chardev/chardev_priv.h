/* SPDX-License-Identifier: MIT */
/*
 * Character backends, internal interface (used by the UART).
 *
 * Descriptor watches follow a one-shot discipline: a backend watches a
 * descriptor only after an operation on it would have blocked, and an FD
 * event turns the watch off again before the device retries. So a device
 * that cannot take input now (its FIFO is full) simply does not read, and
 * no level-triggered watch floods its mailbox meanwhile.
 */
#ifndef ACTORVM_CHARDEV_PRIV_H
#define ACTORVM_CHARDEV_PRIV_H

#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>

#include <actorvm/actor.h>
#include <actorvm/pair.h>

#include "chardev.h"

/* Watch and timer ids the backends use (the device keeps timer 0). */
#define CHARDEV_WATCH_IN   0
#define CHARDEV_WATCH_OUT  1
#define CHARDEV_WATCH_LINK 2
#define CHARDEV_TIMER_POLL 1

/* How often a pty without a reader is checked for one (virtual ns). */
#define CHARDEV_PTY_POLL_NS 100000000ull

/* The writer thread's pipe and chunk: the bytes it may hold in flight. */
#define CHARDEV_WRITER_PIPE  4096
#define CHARDEV_WRITER_CHUNK 4096

#define CHARDEV_PATH_MAX 256

/* What chardev_event() asks the device to retry. */
#define CHARDEV_WAKE_IN	 0x1u
#define CHARDEV_WAKE_OUT 0x2u

struct chardev;
struct chardev_writer;

/*
 * A backend's callbacks. Threads: each is called by the device actor that
 * owns @cd (the UART), from one of its callbacks, so never two at a time,
 * and on whichever thread runs that callback (framework/include/actorvm/
 * actor.h). write and read are called from the UART's handlers, and the
 * UART is not an own_thread type, so they may run on a SENDER's thread (a
 * VCPU writing THR): on the threaded executor's fast path, and always
 * under biglock. open and close run where init and fini do. None may block
 * that thread: descriptors are non-blocking with one-shot watches, nng
 * calls take NNG_FLAG_NONBLOCK, and what may wait (stdout, a regular file)
 * goes through the writer thread. Two other kinds of threads exist beside
 * the actor's, and touch only what is said here: the writer thread
 * (chardev_writer.c: its own block, the runtime's log and loss count) and
 * nng's threads (chardev_nng.c: the pipe callback stores an atomic and
 * signals an eventfd the actor watches).
 *
 * Pointers: @cd is in the device's state (the framework's, for the actor's
 * life); the backend owns what it opens into it until close. @p and @m are
 * the caller's, used during the call only; @ctx is valid during the call
 * only and is never kept (a helper thread logs with avm_runtime_log()).
 *
 * @open: from the device's init. Opens what cd->cfg names; 0, or -errno
 *   with nothing left open. May take a bounded time (posix_openpt, nng
 *   socket set-up; a FIFO is opened non-blocking and fails without a
 *   reader).
 * @close: from the device's fini (no ctx: nothing may be sent). May wait,
 *   bounded: the writer thread's drain, nng_close() waiting for nng's
 *   callbacks to be gone.
 * @write: take up to @n > 0 bytes now (see chardev_write()).
 * @read: give up to @n > 0 bytes now (see chardev_read()).
 * @event: an AVM_MSG_FD for one of the backend's watches, or its
 *   CHARDEV_TIMER_POLL expiry; never on a sender's thread (the actor's own
 *   thread; under biglock, the iothread). NULL: the generic
 *   one-shot FD handling (chardev_fd_event()).
 */
/* avm_io() channels of a chardev (journals name them). */
enum { CHARDEV_IO_OPEN, CHARDEV_IO_READ, CHARDEV_IO_WRITE, CHARDEV_IO_EVENT };

struct chardev_backend {
	const char *name;
	int (*open)(struct chardev *cd, avm_ctx *ctx);
	void (*close)(struct chardev *cd);
	ssize_t (*write)(struct chardev *cd, const uint8_t *p, size_t n,
			 avm_ctx *ctx);
	ssize_t (*read)(struct chardev *cd, uint8_t *p, size_t n, avm_ctx *ctx);
	unsigned (*event)(struct chardev *cd, const struct avm_msg *m,
			  avm_ctx *ctx);
};

struct chardev {
	const struct chardev_backend *be;
	struct chardev_config cfg; /* strings point into the arrays below */
	char path[CHARDEV_PATH_MAX];
	char in_path[CHARDEV_PATH_MAX];
	char slave[CHARDEV_PATH_MAX]; /* pty: the slave's path */
	int in_fd;
	int out_fd;
	bool in_peek;	/* stdin: read only what FIONREAD promises */
	bool connected; /* pty/nng: somebody is attached */
	bool polling;	/* pty: the connection poll timer is armed */
	bool symlinked;
	bool err_logged;
	uint64_t errors;
	struct chardev_writer *writer;
	/* nng */
	struct avm_pair pair;
	nng_msg *rx_msg;
	size_t rx_off;
};

/*
 * Open the backend @cfg describes (strings are copied). Returns 0 or -errno
 * (nothing left open then).
 */
int chardev_open(struct chardev *cd, const struct chardev_config *cfg,
		 avm_ctx *ctx);
void chardev_close(struct chardev *cd);

/*
 * Offer @n > 0 bytes. Returns the bytes taken (> 0); 0 if none can be
 * taken now (a CHARDEV_WAKE_OUT follows when they can); -EPIPE if nobody is
 * attached (discard them); another -errno on failure.
 */
ssize_t chardev_write(struct chardev *cd, const uint8_t *p, size_t n,
		      avm_ctx *ctx);

/*
 * Read up to @n > 0 bytes. Returns the count (> 0); 0 if nothing is there
 * now (a CHARDEV_WAKE_IN follows); -ENODATA when no input will ever come.
 */
ssize_t chardev_read(struct chardev *cd, uint8_t *p, size_t n, avm_ctx *ctx);

/* An FD message or a CHARDEV_TIMER_POLL expiry: CHARDEV_WAKE_* bits. */
unsigned chardev_event(struct chardev *cd, const struct avm_msg *m,
		       avm_ctx *ctx);

/* Backend errors so far (the writer thread's included). */
uint64_t chardev_errors(const struct chardev *cd);

/* Count an error, logging the first one. */
void chardev_error(struct chardev *cd, avm_ctx *ctx, const char *what, int err);

/* Non-blocking I/O on @fd with the one-shot watches. */
ssize_t chardev_fd_write(struct chardev *cd, int fd, const uint8_t *p, size_t n,
			 avm_ctx *ctx);
ssize_t chardev_fd_read(struct chardev *cd, int fd, uint8_t *p, size_t n,
			avm_ctx *ctx);
unsigned chardev_fd_event(struct chardev *cd, const struct avm_msg *m,
			  avm_ctx *ctx);

/*
 * The writer thread: blocking writes to @fd (closed at the end if @own)
 * fed through a pipe whose non-blocking write end goes to *@wfd. Bytes it
 * cannot write are lost: logged at once (as "@who: write: error") through
 * @ctx's runtime, which is told of the loss (avm_runtime_data_lost()).
 */
int chardev_writer_start(struct chardev_writer **out, int fd, bool own,
			 int *wfd, avm_ctx *ctx, const char *who);
/* Close @wfd, let the thread drain (bounded wait), release. */
void chardev_writer_stop(struct chardev_writer *w, int wfd);
uint64_t chardev_writer_errors(const struct chardev_writer *w);
/* Bytes the thread could not write (dropped). */
uint64_t chardev_writer_lost(const struct chardev_writer *w);

extern const struct chardev_backend chardev_null;
extern const struct chardev_backend chardev_stdio;
extern const struct chardev_backend chardev_file;
extern const struct chardev_backend chardev_pty;
extern const struct chardev_backend chardev_nng;

#endif /* ACTORVM_CHARDEV_PRIV_H */
