/* SPDX-License-Identifier: MIT */
/*
 * The stdio and file backends.
 *
 * Output goes through the writer thread (chardev_writer.c), never straight
 * from the actor's thread. Input: a file is opened non-blocking (our own
 * description) and read with the one-shot watches. Stdin is shared with the
 * process and its terminal, so its flags are left alone: the backend reads
 * only as many bytes as FIONREAD reports, which never blocks (unless another
 * reader of the same stdin takes them first, which is not supported).
 */
#include "chardev_priv.h"

#include <actorvm/runtime.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void fdio_close(struct chardev *cd)
{
	if (cd->writer)
		chardev_writer_stop(cd->writer, cd->out_fd);
	else if (cd->out_fd > STDERR_FILENO)
		close(cd->out_fd); /* biglock's synchronous file */
	cd->writer = NULL;
	cd->out_fd = -1;
	/* Stdin is not ours to close. */
	if (cd->in_fd > STDERR_FILENO)
		close(cd->in_fd);
	cd->in_fd = -1;
}

static ssize_t fdio_write(struct chardev *cd, const uint8_t *p, size_t n,
			  avm_ctx *ctx)
{
	if (cd->out_fd < 0)
		return (ssize_t)n; /* FILE without an output file */
	return chardev_fd_write(cd, cd->out_fd, p, n, ctx);
}

/* Stdin: FIONREAD bytes, or "readable with nothing to read" = end. */
static ssize_t stdin_read(struct chardev *cd, uint8_t *p, size_t n,
			  avm_ctx *ctx)
{
	struct pollfd pfd = { .fd = cd->in_fd, .events = POLLIN };
	int avail = 0;
	ssize_t r;

	if (ioctl(cd->in_fd, FIONREAD, &avail) < 0) {
		avm_log(ctx, AVM_LOG_WARN,
			"chardev stdio: stdin cannot say what is readable "
			"(%s): no input",
			strerror(errno));
		return -ENODATA;
	}
	if (avail <= 0) {
		if (poll(&pfd, 1, 0) == 1)
			return -ENODATA; /* end of file or hang-up */
		r = avm_fd_watch(ctx, CHARDEV_WATCH_IN, cd->in_fd, AVM_FD_READ);
		return r ? r : 0;
	}
	if ((size_t)avail < n)
		n = (size_t)avail;
	do
		r = read(cd->in_fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ENODATA;
	return r < 0 ? -errno : r;
}

static ssize_t fdio_read(struct chardev *cd, uint8_t *p, size_t n, avm_ctx *ctx)
{
	ssize_t r;

	if (cd->in_fd < 0)
		return -ENODATA;
	if (cd->in_peek)
		r = stdin_read(cd, p, n, ctx);
	else
		r = chardev_fd_read(cd, cd->in_fd, p, n, ctx);
	if (r < 0 && r != -ENODATA)
		chardev_error(cd, ctx, "read", (int)r);
	if (r < 0 && !cd->in_peek) {
		close(cd->in_fd);
		cd->in_fd = -1;
	}
	return r < 0 ? -ENODATA : r;
}

static int stdio_open(struct chardev *cd, avm_ctx *ctx)
{
	int err = chardev_writer_start(&cd->writer, STDOUT_FILENO, false,
				       &cd->out_fd, ctx, "chardev stdio");

	if (err) {
		avm_log(ctx, AVM_LOG_ERROR, "chardev stdio: writer: %s",
			strerror(-err));
		return err;
	}
	if (!cd->cfg.no_input) {
		cd->in_fd = STDIN_FILENO;
		cd->in_peek = true;
	}
	return 0;
}

const struct chardev_backend chardev_stdio = {
	.name = "stdio",
	.open = stdio_open,
	.close = fdio_close,
	.write = fdio_write,
	.read = fdio_read,
};

/*
 * O_NONBLOCK at open only so that a FIFO without a reader fails (ENXIO)
 * instead of hanging init; the writer thread then writes blocking.
 */
static int file_open_out(struct chardev *cd, avm_ctx *ctx)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK |
		    (cd->cfg.append ? O_APPEND : O_TRUNC);
	int fd = open(cd->cfg.path, flags, 0644);
	char who[CHARDEV_PATH_MAX + 16];
	int err;

	if (fd < 0) {
		err = -errno;
		avm_log(ctx, AVM_LOG_ERROR, "chardev file: %s: %s",
			cd->cfg.path, strerror(errno));
		return err;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	/* The QEMU-style baseline writes synchronously, under the big lock
	 * (QEMU's file chardev blocks the same way): no writer thread, so a
	 * stalled output stalls every device, as the comparison needs. */
	if (avm_runtime_exec(avm_runtime_of(ctx)) == AVM_EXEC_BIGLOCK) {
		cd->out_fd = fd;
		return 0;
	}
	snprintf(who, sizeof(who), "chardev file %s", cd->cfg.path);
	err = chardev_writer_start(&cd->writer, fd, true, &cd->out_fd, ctx,
				   who);
	if (err)
		close(fd);
	return err;
}

static int file_open(struct chardev *cd, avm_ctx *ctx)
{
	int err;

	if (!cd->cfg.path && !cd->cfg.in_path) {
		avm_log(ctx, AVM_LOG_ERROR, "chardev file: no path");
		return -EINVAL;
	}
	if (cd->cfg.path) {
		err = file_open_out(cd, ctx);
		if (err)
			return err;
	}
	if (cd->cfg.in_path && !cd->cfg.no_input) {
		cd->in_fd = open(cd->cfg.in_path,
				 O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (cd->in_fd < 0) {
			err = -errno;
			avm_log(ctx, AVM_LOG_ERROR, "chardev file: %s: %s",
				cd->cfg.in_path, strerror(errno));
			fdio_close(cd);
			return err;
		}
	}
	return 0;
}

const struct chardev_backend chardev_file = {
	.name = "file",
	.open = file_open,
	.close = fdio_close,
	.write = fdio_write,
	.read = fdio_read,
};
