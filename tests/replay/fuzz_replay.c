/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for journals: arbitrary bytes as a trace file, loaded
 * for every journaled actor of its header, and each journal that loads
 * replayed against the type it names (e1000 or testdev). So the loader
 * meets truncated, corrupted and foreign files, and the replay engine and
 * the actors meet journals no run could record: registers, frames and DMA
 * data of any value, calls in any order. Replay must report, never crash
 * or hang (each call consumes an entry, so a replay ends).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <actorvm/replay.h>

#include "e1000.h"
#include "testdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_input(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = 0;

	if (fd < 0)
		return -1;
	if (size)
		n = write(fd, data, size);
	close(fd);
	return (size_t)n != size ? -1 : 0;
}

static const struct avm_device_ops *type_ops(const char *type)
{
	if (!strcmp(type, "e1000"))
		return &e1000_ops;
	if (!strcmp(type, "testdev"))
		return &testdev_ops;
	return NULL;
}

static void replay_one(const char *path, const char *name)
{
	static struct avm_replay_result res; /* 4 KiB: off the stack */
	struct avm_replay_opts o = { .log_level = -1 };
	avm_journal *j;
	char err[256];
	volatile size_t sink = 0;

	if (avm_journal_load(path, name, &j, err, sizeof(err)))
		return;
	o.ops = type_ops(avm_journal_get_info(j)->type);
	if (o.ops && !avm_replay_run(j, &o, &res))
		sink += strlen(res.report);
	(void)sink;
	avm_journal_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = getenv("TMPDIR");
	const struct avm_trace_info *ti;
	avm_trace_reader *r;
	char path[256], err[256], names[8][64];
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/avm-fuzz-replay-%d.avmtrace",
		 dir ? dir : "/tmp", (int)getpid());
	if (write_input(path, data, size))
		return 0;
	if (!avm_trace_open(path, &r, err, sizeof(err))) {
		ti = avm_trace_info(r);
		for (unsigned i = 0; i < ti->n_actors && n < 8; i++)
			snprintf(names[n++], sizeof(names[0]), "%s",
				 ti->actors[i].name);
		avm_trace_close(r);
	}
	for (unsigned i = 0; i < n; i++)
		replay_one(path, names[i]);
	unlink(path);
	return 0;
}
