/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the trace reader: arbitrary bytes as a trace file.
 * avm_trace_open() takes a path, so each input goes through a private
 * temporary file. Every record consumes at least one byte, so reading
 * ends; the sanitizers catch the rest.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <actorvm/trace.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_input(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = -1;

	if (fd < 0)
		return -1;
	if (size)
		n = write(fd, data, size);
	close(fd);
	return size && (size_t)n != size ? -1 : 0;
}

/* Touch everything the reader hands out. */
static void consume(avm_trace_reader *r)
{
	const struct avm_trace_info *info = avm_trace_info(r);
	struct avm_trace_event ev;
	char err[256], buf[32];
	volatile size_t sink = 0;

	for (unsigned i = 0; i < info->n_actors; i++)
		sink += (size_t)avm_trace_actor_name(r, info->actors[i].id)[0];
	while (avm_trace_next(r, &ev, err, sizeof(err)) == 1) {
		for (uint32_t i = 0;
		     ev.payload && i < ev.payload_len && i < AVM_TRACE_SNAPLEN;
		     i++)
			sink += ev.payload[i];
		sink += (size_t)avm_trace_type_name(ev.type)[0];
		sink += (size_t)avm_msg_kind_name(ev.kind, buf, 32)[0];
	}
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = getenv("TMPDIR");
	avm_trace_reader *r;
	char path[256], err[256];

	snprintf(path, sizeof(path), "%s/avm-fuzz-%d.avmtrace",
		 dir ? dir : "/tmp", (int)getpid());
	if (write_input(path, data, size))
		return 0;
	if (!avm_trace_open(path, &r, err, sizeof(err))) {
		consume(r);
		avm_trace_close(r);
	}
	unlink(path);
	return 0;
}
