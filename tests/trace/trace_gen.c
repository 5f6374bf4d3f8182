/* SPDX-License-Identifier: MIT */
/*
 * trace_gen SCENARIO OUT: write a trace file with known contents for the
 * CLI tests (test_cli.py), or a broken one.
 *
 * "basic": actors nic (0), disk (1), net (2). VCPU thread 0 reads nic
 * 100 times; read i waits 1000 * (i + 1) ns in the mailbox, is served in
 * 500 ns and answered 400 ns into its handler. Every 10th read makes nic
 * post a write to disk (thread 2), caused by the read. Three frames are
 * posted from nic to net, of 60, 1514 and 3000 bytes. Threads are written
 * one after the other, so the file is not in time order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/actor.h>

#include "trace_writer.h"

#define MAX_EV 2048
#define NIC    0
#define DISK   1
#define NET    2

struct gen {
	struct avm_trace_event ev[MAX_EV];
	size_t n;
	uint64_t corr;
};

static const char *const names[] = { "nic", "disk", "net" };
static uint8_t frame_bytes[3000];

static void add(struct gen *g, const struct avm_trace_event *e)
{
	if (g->n < MAX_EV)
		g->ev[g->n++] = *e;
}

/* One message's posted/dequeued/start/end on @thread, from @from. */
static void life(struct gen *g, struct avm_trace_event m, uint64_t t_post,
		 uint32_t post_thread, uint64_t wait, uint64_t service)
{
	m.type = AVM_TRACE_POSTED;
	m.t_ns = t_post;
	uint32_t thread = m.thread;

	m.thread = post_thread;
	add(g, &m);
	m.payload = NULL;
	m.payload_len = 0;
	m.thread = thread;
	m.type = AVM_TRACE_DEQUEUED;
	m.t_ns = t_post + wait;
	add(g, &m);
	m.type = AVM_TRACE_HANDLE_START;
	add(g, &m);
	m.type = AVM_TRACE_HANDLE_END;
	m.t_ns += service;
	add(g, &m);
}

static void reads(struct gen *g)
{
	for (unsigned i = 0; i < 100; i++) {
		uint64_t t = 1000000 + i * 200000, wait = 1000 * (i + 1);
		struct avm_trace_event m = {
			.kind = AVM_MSG_READ,
			.lane = 1,
			.size = 4,
			.actor = NIC,
			.src = AVM_ACTOR_NONE,
			.thread = 1,
			.addr = 0x8 + 4 * (i % 4),
			.corr = ++g->corr,
		};
		struct avm_trace_event r = m;

		life(g, m, t, 0, wait, 500);
		r.type = AVM_TRACE_REPLY;
		r.kind = 12;
		r.t_ns = t + wait + 400;
		r.value = 0x1000 + i;
		add(g, &r);
		if (i % 10 == 0) {
			struct avm_trace_event w = {
				.kind = AVM_MSG_WRITE,
				.lane = 1,
				.size = 8,
				.actor = DISK,
				.src = NIC,
				.thread = 2,
				.addr = 0x100,
				.value = i,
				.arg = 1,
				.corr = ++g->corr,
				.cause = m.corr,
			};
			life(g, w, t + wait + 100, 1, 300, 2000);
		}
	}
}

static void frames(struct gen *g)
{
	static const uint32_t sizes[] = { 60, 1514, 3000 };

	for (unsigned i = 0; i < 3; i++) {
		struct avm_trace_event f = {
			.kind = AVM_MSG_FRAME,
			.lane = 2,
			.actor = NET,
			.src = NIC,
			.thread = 3,
			.corr = ++g->corr,
			.payload = frame_bytes + i,
			.payload_len = sizes[i],
		};

		life(g, f, 30000000 + i * 1000000, 1, 700, 900);
	}
}

/* Write thread by thread (each in time order), as a drained ring would. */
static int write_events(FILE *f, const struct gen *g)
{
	for (uint32_t th = 0; th < 4; th++)
		for (size_t i = 0; i < g->n; i++)
			if (g->ev[i].thread == th && tw_event(f, &g->ev[i]))
				return -EIO;
	return 0;
}

static int basic(FILE *f, bool footer, bool with_reads)
{
	static struct gen g;

	for (size_t i = 0; i < sizeof(frame_bytes); i++)
		frame_bytes[i] = (uint8_t)(i * 7 + 3);
	if (with_reads)
		reads(&g);
	frames(&g);
	if (tw_start(f, names, 3) || write_events(f, &g) || tw_loss(f, 1, 3))
		return -EIO;
	return footer ? tw_footer(f, g.n, 3) : 0;
}

/* "inplace": nic reads 10 times; the odd ones were handled in place (on
 * the reader's thread 0, 100 ns after the post), the even ones waited
 * 10 us in the mailbox. */
static int inplace(FILE *f)
{
	static struct gen g;

	for (unsigned i = 0; i < 10; i++) {
		struct avm_trace_event m = { .kind = AVM_MSG_READ,
					     .lane = 1,
					     .size = 4,
					     .actor = NIC,
					     .src = AVM_ACTOR_NONE,
					     .thread = i % 2 ? 0 : 1,
					     .corr = ++g.corr,
					     .in_place = i % 2 };

		life(&g, m, 1000000 + i * 100000, 0, i % 2 ? 100 : 10000, 500);
	}
	if (tw_start(f, names, 3) || write_events(f, &g))
		return -EIO;
	return tw_footer(f, g.n, 0);
}

/* An actor name that JSON must escape, handling one write. */
static int weird(FILE *f)
{
	static const char *const odd[] = { "q\"b\\n\n\t\xff<" };
	struct gen *g = calloc(1, sizeof(*g));
	struct avm_trace_event w = { .kind = AVM_MSG_USER + 2,
				     .actor = 0,
				     .src = AVM_ACTOR_NONE,
				     .thread = 1,
				     .corr = 1 };
	int ret;

	if (!g)
		return -ENOMEM;
	life(g, w, 100, 0, 10, 20);
	ret = tw_start(f, odd, 1) ?: write_events(f, g) ?: tw_footer(f, 4, 0);
	free(g);
	return ret;
}

int main(int argc, char **argv)
{
	FILE *f;
	int ret = -EINVAL;

	if (argc != 3) {
		fprintf(stderr, "usage: trace_gen basic|incomplete|"
				"truncated|badversion|weird|frames|inplace|"
				"empty OUT\n");
		return 2;
	}
	f = fopen(argv[2], "wb");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	if (!strcmp(argv[1], "basic"))
		ret = basic(f, true, true);
	else if (!strcmp(argv[1], "incomplete"))
		ret = basic(f, false, true);
	else if (!strcmp(argv[1], "frames"))
		ret = basic(f, true, false);
	else if (!strcmp(argv[1], "truncated"))
		ret = basic(f, false, true) ?: tw_varint(f, 200) ?:
					  tw_raw(f, "\x12\x10", 2);
	else if (!strcmp(argv[1], "empty")) /* a header, no event */
		ret = tw_start(f, (const char *const[]){ "dev0" }, 1)
			      ?: tw_footer(f, 0, 0);
	else if (!strcmp(argv[1], "weird"))
		ret = weird(f);
	else if (!strcmp(argv[1], "inplace"))
		ret = inplace(f);
	else if (!strcmp(argv[1], "badversion"))
		ret = tw_magic(f)
			      ?: tw_header(f,
					   &(struct tw_header){ .version = 7 });
	if (fclose(f) || ret) {
		fprintf(stderr, "trace_gen: failed (%d)\n", ret);
		return 1;
	}
	return 0;
}
