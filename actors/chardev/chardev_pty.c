/* SPDX-License-Identifier: MIT */
/*
 * The pty backend: a new pseudo-terminal master, non-blocking, in raw mode.
 *
 * Nobody may have the slave open, now or later. The master of a slave that
 * was opened and closed again reports POLLHUP (and reads fail with EIO),
 * but one whose slave was never opened does not: it just buffers. So open()
 * opens the slave once itself (to set raw mode) and closes it, and from then
 * on POLLHUP means "nobody attached". A hung-up master is readable for ever,
 * so it is not watched then: a timer polls it every CHARDEV_PTY_POLL_NS
 * until somebody opens the slave. Output meanwhile is discarded (as on a
 * serial line without a cable), or held with cfg.hold.
 */
#include "chardev_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static bool pty_hangup(const struct chardev *cd)
{
	struct pollfd pfd = { .fd = cd->in_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP);
}

static void pty_gone(struct chardev *cd, avm_ctx *ctx)
{
	if (cd->connected)
		avm_log(ctx, AVM_LOG_DEBUG, "pty %s: closed", cd->slave);
	cd->connected = false;
	avm_fd_unwatch(ctx, CHARDEV_WATCH_IN);
	avm_fd_unwatch(ctx, CHARDEV_WATCH_OUT);
	if (!cd->polling &&
	    !avm_timer_arm(ctx, CHARDEV_TIMER_POLL, CHARDEV_PTY_POLL_NS,
			   CHARDEV_PTY_POLL_NS))
		cd->polling = true;
}

/* Is somebody attached? Tracks the change either way. */
static bool pty_check(struct chardev *cd, avm_ctx *ctx)
{
	if (pty_hangup(cd)) {
		pty_gone(cd, ctx);
		return false;
	}
	if (!cd->connected)
		avm_log(ctx, AVM_LOG_DEBUG, "pty %s: opened", cd->slave);
	cd->connected = true;
	if (cd->polling)
		avm_timer_cancel(ctx, CHARDEV_TIMER_POLL);
	cd->polling = false;
	return true;
}

/* Raw mode, set through the slave (opened once, then closed: see above). */
static int pty_raw(struct chardev *cd)
{
	struct termios t;
	int s = open(cd->slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	int err = 0;

	if (s < 0)
		return -errno;
	if (tcgetattr(s, &t) == 0) {
		cfmakeraw(&t);
		if (tcsetattr(s, TCSANOW, &t))
			err = -errno;
	}
	close(s);
	return err;
}

static int pty_master(struct chardev *cd)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	int err;

	if (m < 0)
		return -errno;
	if (grantpt(m) || unlockpt(m) ||
	    ptsname_r(m, cd->slave, sizeof(cd->slave))) {
		err = errno ? -errno : -EIO;
		close(m);
		return err;
	}
	cd->in_fd = cd->out_fd = m;
	return 0;
}

static void pty_close(struct chardev *cd)
{
	if (cd->symlinked)
		unlink(cd->cfg.path);
	cd->symlinked = false;
	if (cd->in_fd >= 0)
		close(cd->in_fd);
	cd->in_fd = cd->out_fd = -1;
}

/*
 * cfg.path: a stable name for the slave. An old symlink there (a previous
 * run's) is replaced; anything else is left alone and is an error.
 */
static int pty_link(struct chardev *cd)
{
	struct stat st;

	if (!cd->cfg.path)
		return 0;
	if (lstat(cd->cfg.path, &st) == 0) {
		if (!S_ISLNK(st.st_mode))
			return -EEXIST;
		unlink(cd->cfg.path);
	}
	if (symlink(cd->slave, cd->cfg.path))
		return -errno;
	cd->symlinked = true;
	return 0;
}

static int pty_open(struct chardev *cd, avm_ctx *ctx)
{
	int err = pty_master(cd);

	if (!err)
		err = pty_raw(cd);
	if (!err)
		err = pty_link(cd);
	if (err) {
		avm_log(ctx, AVM_LOG_ERROR, "chardev pty: %s", strerror(-err));
		pty_close(cd);
		return err;
	}
	avm_log(ctx, AVM_LOG_INFO, "chardev pty: slave %s%s%s", cd->slave,
		cd->cfg.path ? " linked at " : "",
		cd->cfg.path ? cd->cfg.path : "");
	pty_check(cd, ctx);
	return 0;
}

static ssize_t pty_write(struct chardev *cd, const uint8_t *p, size_t n,
			 avm_ctx *ctx)
{
	ssize_t r;

	if (!pty_check(cd, ctx))
		return cd->cfg.hold ? 0 : -EPIPE;
	r = chardev_fd_write(cd, cd->out_fd, p, n, ctx);
	if (r == -EIO) {
		pty_gone(cd, ctx);
		return cd->cfg.hold ? 0 : -EPIPE;
	}
	return r;
}

static ssize_t pty_read(struct chardev *cd, uint8_t *p, size_t n, avm_ctx *ctx)
{
	ssize_t r;

	if (!pty_check(cd, ctx))
		return 0; /* the poll timer wakes us */
	r = chardev_fd_read(cd, cd->in_fd, p, n, ctx);
	if (r == -EIO || r == -ENODATA) {
		pty_gone(cd, ctx);
		return 0;
	}
	if (r < 0) {
		chardev_error(cd, ctx, "read", (int)r);
		return 0;
	}
	return r;
}

static unsigned pty_event(struct chardev *cd, const struct avm_msg *m,
			  avm_ctx *ctx)
{
	if (m->kind == AVM_MSG_TIMER && m->timer.id == CHARDEV_TIMER_POLL) {
		if (!cd->polling || !pty_check(cd, ctx))
			return 0;
		return CHARDEV_WAKE_IN | CHARDEV_WAKE_OUT;
	}
	return chardev_fd_event(cd, m, ctx);
}

const struct chardev_backend chardev_pty = {
	.name = "pty",
	.open = pty_open,
	.close = pty_close,
	.write = pty_write,
	.read = pty_read,
	.event = pty_event,
};
