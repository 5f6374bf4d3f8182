/* SPDX-License-Identifier: MIT */
/* The console actor: UART output as whole, prefixed lines. */
#include "console.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES 256

struct console {
	const struct console_config *cfg;
	char line[LINE_MAX_BYTES];
	size_t len;
};

static int console_init(void *state, const void *config, avm_ctx *ctx)
{
	struct console *c = state;

	if (!config)
		return -EINVAL;
	c->cfg = config;
	return 0;
}

/* One write(2) per line: concurrent consoles interleave whole lines. */
/* Through avm_io(): a journal keeps the lines, and a replay compares them. */
static ssize_t write_out(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	const struct console *c = arg;
	ssize_t n = write(c->cfg->fd, buf, len);

	return n < 0 ? -errno : n;
}

/* The pending line as it goes out, into @out; its length. */
static size_t format_line(const struct console *c, char *out, size_t len)
{
	int n = snprintf(out, len, "%s | %.*s\n", c->cfg->prefix, (int)c->len,
			 c->line);

	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

static void flush_line(struct console *c, avm_ctx *ctx)
{
	char out[LINE_MAX_BYTES + 80];

	if (!c->len)
		return;
	/* A terminal gone away loses the output, not the VM. */
	avm_io(ctx, 0, AVM_IO_OUT, write_out, c, out,
	       format_line(c, out, sizeof(out)));
	c->len = 0;
}

static void put(struct console *c, char ch, avm_ctx *ctx)
{
	if (ch == '\r')
		return; /* guests end lines with CR LF on QEMU's habit */
	if (ch == '\n') {
		flush_line(c, ctx);
		return;
	}
	c->line[c->len++] = ch;
	if (c->len == sizeof(c->line))
		flush_line(c, ctx); /* an overlong line goes out in pieces */
}

static void console_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct console *c = state;
	size_t len;
	const char *b;

	if (m->kind != AVM_MSG_CHAR)
		return;
	b = avm_msg_payload(m, &len);
	for (size_t i = 0; i < len; i++)
		put(c, b[i], ctx);
}

static void console_fini(void *state)
{
	struct console *c = state;
	char out[LINE_MAX_BYTES + 80];

	/* The last line, even without its newline (no journal here: a fini
	 * has no ctx; a replay's console writes to no descriptor). */
	if (c->len)
		write_out(c, out, format_line(c, out, sizeof(out)), NULL);
}

const struct avm_device_ops console_ops = {
	.type = "console",
	.doc = "serial output as whole lines prefixed with the VM's name",
	.state_size = sizeof(struct console),
	.init = console_init,
	.handle = console_handle,
	.fini = console_fini,
};
