/* SPDX-License-Identifier: MIT */
/* Backend dispatch, the one-shot descriptor helpers and the null backend. */
#include "chardev_priv.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const struct chardev_backend *const chardev_backends[] = {
	[CHARDEV_NULL] = &chardev_null, [CHARDEV_STDIO] = &chardev_stdio,
	[CHARDEV_FILE] = &chardev_file, [CHARDEV_PTY] = &chardev_pty,
	[CHARDEV_NNG] = &chardev_nng,
};

const char *chardev_kind_name(enum chardev_kind kind)
{
	if ((unsigned)kind >= CHARDEV_KIND_COUNT)
		return NULL;
	return chardev_backends[kind]->name;
}

static int chardev_copy(char *dst, const char *src, const char **field)
{
	if (!src) {
		*field = NULL;
		return 0;
	}
	if (strlen(src) >= CHARDEV_PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(dst, src);
	*field = dst;
	return 0;
}

/*
 * Everything a backend does with the outside goes through avm_io(), so a
 * UART stays replayable from a journal whatever its backend: a replay does
 * not call these, and gets what they returned.
 */
static ssize_t io_open(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct chardev *cd = arg;

	return cd->be->open(cd, ctx);
}

static ssize_t io_write(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct chardev *cd = arg;

	return cd->be->write(cd, buf, len, ctx);
}

static ssize_t io_read(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct chardev *cd = arg;

	return cd->be->read(cd, buf, len, ctx);
}

struct io_event {
	struct chardev *cd;
	const struct avm_msg *m;
};

/* The wake bits, as a count avm_io() can carry. */
static ssize_t io_event(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct io_event *ev = arg;

	if (ev->cd->be->event)
		return ev->cd->be->event(ev->cd, ev->m, ctx);
	return chardev_fd_event(ev->cd, ev->m, ctx);
}

int chardev_open(struct chardev *cd, const struct chardev_config *cfg,
		 avm_ctx *ctx)
{
	static const struct chardev_config none;
	int err;

	memset(cd, 0, sizeof(*cd));
	cd->in_fd = cd->out_fd = -1;
	cd->cfg = cfg ? *cfg : none;
	if ((unsigned)cd->cfg.kind >= CHARDEV_KIND_COUNT) {
		avm_log(ctx, AVM_LOG_ERROR, "chardev: unknown kind %d",
			(int)cd->cfg.kind);
		return -EINVAL;
	}
	err = chardev_copy(cd->path, cd->cfg.path, &cd->cfg.path);
	if (!err)
		err = chardev_copy(cd->in_path, cd->cfg.in_path,
				   &cd->cfg.in_path);
	if (err) {
		avm_log(ctx, AVM_LOG_ERROR, "chardev: path too long");
		return err;
	}
	cd->be = chardev_backends[cd->cfg.kind];
	err = (int)avm_io(ctx, CHARDEV_IO_OPEN, AVM_IO_CTL, io_open, cd, NULL,
			  0);
	if (err)
		cd->be = NULL;
	return err;
}

void chardev_close(struct chardev *cd)
{
	if (cd->be)
		cd->be->close(cd);
	cd->be = NULL;
}

ssize_t chardev_write(struct chardev *cd, const uint8_t *p, size_t n,
		      avm_ctx *ctx)
{
	return avm_io(ctx, CHARDEV_IO_WRITE, AVM_IO_OUT, io_write, cd,
		      (void *)p, n);
}

ssize_t chardev_read(struct chardev *cd, uint8_t *p, size_t n, avm_ctx *ctx)
{
	if (cd->cfg.no_input)
		return -ENODATA;
	return avm_io(ctx, CHARDEV_IO_READ, AVM_IO_IN, io_read, cd, p, n);
}

unsigned chardev_event(struct chardev *cd, const struct avm_msg *m,
		       avm_ctx *ctx)
{
	struct io_event ev = { cd, m };
	ssize_t r = avm_io(ctx, CHARDEV_IO_EVENT, AVM_IO_CTL, io_event, &ev,
			   NULL, 0);

	return r > 0 ? (unsigned)r : 0;
}

uint64_t chardev_errors(const struct chardev *cd)
{
	return cd->errors +
	       (cd->writer ? chardev_writer_errors(cd->writer) : 0);
}

void chardev_error(struct chardev *cd, avm_ctx *ctx, const char *what, int err)
{
	cd->errors++;
	if (cd->err_logged)
		return;
	cd->err_logged = true;
	avm_log(ctx, AVM_LOG_WARN,
		"chardev %s%s%s: %s: %s (further errors counted)",
		cd->be ? cd->be->name : "?", cd->cfg.path ? " " : "",
		cd->cfg.path ? cd->cfg.path : "", what, strerror(-err));
}

ssize_t chardev_fd_write(struct chardev *cd, int fd, const uint8_t *p, size_t n,
			 avm_ctx *ctx)
{
	ssize_t r;

	do
		r = write(fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		return r;
	if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
		r = avm_fd_watch(ctx, CHARDEV_WATCH_OUT, fd, AVM_FD_WRITE);
		return r ? r : 0;
	}
	return -errno;
}

ssize_t chardev_fd_read(struct chardev *cd, int fd, uint8_t *p, size_t n,
			avm_ctx *ctx)
{
	ssize_t r;

	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		return r;
	if (r == 0)
		return -ENODATA;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		r = avm_fd_watch(ctx, CHARDEV_WATCH_IN, fd, AVM_FD_READ);
		return r ? r : 0;
	}
	return -errno;
}

unsigned chardev_fd_event(struct chardev *cd, const struct avm_msg *m,
			  avm_ctx *ctx)
{
	(void)cd;
	if (m->kind != AVM_MSG_FD)
		return 0;
	if (m->fd.watch == CHARDEV_WATCH_IN) {
		avm_fd_unwatch(ctx, CHARDEV_WATCH_IN);
		return CHARDEV_WAKE_IN;
	}
	if (m->fd.watch == CHARDEV_WATCH_OUT) {
		avm_fd_unwatch(ctx, CHARDEV_WATCH_OUT);
		return CHARDEV_WAKE_OUT;
	}
	return 0;
}

/* --- null ----------------------------------------------------------------- */

static int null_open(struct chardev *cd, avm_ctx *ctx)
{
	(void)cd;
	(void)ctx;
	return 0;
}

static void null_close(struct chardev *cd)
{
	(void)cd;
}

static ssize_t null_write(struct chardev *cd, const uint8_t *p, size_t n,
			  avm_ctx *ctx)
{
	(void)cd;
	(void)p;
	(void)ctx;
	return (ssize_t)n;
}

static ssize_t null_read(struct chardev *cd, uint8_t *p, size_t n, avm_ctx *ctx)
{
	(void)cd;
	(void)p;
	(void)n;
	(void)ctx;
	return -ENODATA;
}

const struct chardev_backend chardev_null = {
	.name = "null",
	.open = null_open,
	.close = null_close,
	.write = null_write,
	.read = null_read,
};
