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
static void flush_line(struct console *c)
{
	char out[LINE_MAX_BYTES + 80];
	int n;

	if (!c->len)
		return;
	n = snprintf(out, sizeof(out), "%s | %.*s\n", c->cfg->prefix,
		     (int)c->len, c->line);
	if (n > (int)sizeof(out))
		n = sizeof(out);
	/* A terminal gone away loses the output, not the VM. */
	if (write(c->cfg->fd, out, (size_t)n) < 0)
		(void)errno;
	c->len = 0;
}

static void put(struct console *c, char ch)
{
	if (ch == '\r')
		return; /* guests end lines with CR LF on QEMU's habit */
	if (ch == '\n') {
		flush_line(c);
		return;
	}
	c->line[c->len++] = ch;
	if (c->len == sizeof(c->line))
		flush_line(c); /* an overlong line goes out in pieces */
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
		put(c, b[i]);
}

static void console_fini(void *state)
{
	flush_line(state); /* the last line, even without its newline */
}

const struct avm_device_ops console_ops = {
	.type = "console",
	.doc = "serial output as whole lines prefixed with the VM's name",
	.state_size = sizeof(struct console),
	.init = console_init,
	.handle = console_handle,
	.fini = console_fini,
};
