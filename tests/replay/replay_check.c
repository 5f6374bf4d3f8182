/* SPDX-License-Identifier: MIT */
/*
 * Replay through the library (actorvm/replay.h).
 *
 * Usage: replay_check TRACE NIC
 *   TRACE: the ping VM's trace of the two-VM demo with NIC journaled
 *   (test_replay.py records it). NIC runs as e1000 with the demo's ping MAC.
 *
 * - the same journal replays identically 100 times;
 * - a planted fault (the 8th frame lands in guest memory with one bit
 *   wrong) is reported at the message that delivered that frame;
 * - a journal recorded in-process on the deterministic executor (testdev
 *   driven through the harness: registers, timers, DMA, continuations,
 *   requests, IRQs, a reset) replays identically; a copy that answers its
 *   first read wrong, or another config, is reported where it differs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <actorvm/harness.h>
#include <actorvm/replay.h>

#include "e1000.h"
#include "netdev.h"
#include "testdev.h"

static const char *trace_path, *nic_name;

/* The demo's ping NIC (examples/two-vms.yaml). */
static const struct e1000_config ping_nic = {
	.mac = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 },
};

static avm_journal *load(const char *path, const char *actor)
{
	char err[512];
	avm_journal *j = NULL;
	int ret = avm_journal_load(path, actor, &j, err, sizeof(err));

	if (ret)
		fail_msg("%s", err);
	return j;
}

static void identical_100_times(void **state)
{
	avm_journal *j = load(trace_path, nic_name);
	struct avm_replay_opts o = { .ops = &e1000_ops, .config = &ping_nic };
	struct avm_replay_result first, res;

	assert_int_equal(avm_replay_run(j, &o, &first), 0);
	if (first.diverged)
		fail_msg("%s", first.report);
	assert_true(first.messages > 0);
	assert_int_equal(first.messages, avm_journal_get_info(j)->messages);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(avm_replay_run(j, &o, &res), 0);
		assert_false(res.diverged);
		assert_int_equal(res.messages, first.messages);
		assert_int_equal(res.entries, first.entries);
		assert_string_equal(res.report, first.report);
	}
	avm_journal_free(j);
}

/* --- A planted fault in a copy of the e1000 --------------------------------
 */

static unsigned frames_seen; /* reset before each replay of the copy */

static void faulty_e1000_handle(void *s, const struct avm_msg *m, avm_ctx *ctx)
{
	struct avm_msg bad;
	size_t len;
	const uint8_t *p;
	uint8_t frame[AVM_MSG_MAX_PAYLOAD];

	if (m->kind != AVM_MSG_FRAME || ++frames_seen != 8) {
		e1000_ops.handle(s, m, ctx);
		return;
	}
	/* The 8th frame, with one bit of its last byte flipped. */
	p = avm_msg_payload(m, &len);
	memcpy(frame, p, len);
	frame[len - 1] ^= 0x10;
	bad = (struct avm_msg){ .kind = m->kind,
				.src = m->src,
				.corr = m->corr,
				.cause = m->cause,
				.frame = m->frame };
	assert_int_equal(avm_msg_set_payload(&bad, frame, len), 0);
	e1000_ops.handle(s, &bad, ctx);
	avm_msg_release(&bad);
}

/* The message number of the @nth FRAME delivered in @j. */
static uint64_t nth_frame(const avm_journal *j, unsigned nth)
{
	const struct avm_journal_entry *e;
	uint64_t msg = 0;

	for (uint64_t i = 0; (e = avm_journal_entry(j, i)); i++) {
		if (e->type != AVM_J_DELIVER && e->type != AVM_J_RESET)
			continue;
		msg++;
		if (e->kind == AVM_MSG_FRAME && !--nth)
			return msg;
	}
	fail_msg("the journal holds fewer frames");
	return 0;
}

static void planted_fault_found(void **state)
{
	avm_journal *j = load(trace_path, nic_name);
	struct avm_device_ops faulty = e1000_ops;
	struct avm_replay_opts o = { .ops = &faulty, .config = &ping_nic };
	struct avm_replay_result res;
	uint64_t want = nth_frame(j, 8);

	faulty.handle = faulty_e1000_handle;
	frames_seen = 0;
	assert_int_equal(avm_replay_run(j, &o, &res), 0);
	print_message("%s", res.report);
	assert_true(res.diverged);
	assert_int_equal(res.at_message, want);
	assert_int_equal(res.messages, want);
	assert_non_null(strstr(res.report, "a call differs"));
	assert_non_null(strstr(res.report, "dma-write"));
	assert_non_null(strstr(res.report, "data differ first at byte"));
	/* Replaying it again finds the same, the good build still nothing. */
	frames_seen = 0;
	struct avm_replay_result again;

	assert_int_equal(avm_replay_run(j, &o, &again), 0);
	assert_string_equal(again.report, res.report);
	o.ops = &e1000_ops;
	assert_int_equal(avm_replay_run(j, &o, &res), 0);
	assert_false(res.diverged);
	avm_journal_free(j);
}

/* --- A journal recorded on the deterministic executor --------------------- */

#define RAM_GPA	 0x100000
#define RAM_SIZE 0x10000

static void td_write(avm_harness *h, unsigned reg, uint64_t v)
{
	avm_harness_write(h, 0, reg, 8, v);
}

/* Everything testdev can be asked to do, through the harness. */
static void drive_testdev(avm_harness *h)
{
	struct avm_msg ping = { .kind = TESTDEV_MSG_PING,
				.user = { .value = 41, .addr = 3 } };
	uint64_t v;

	td_write(h, TESTDEV_SCRATCH, 0x1234);
	assert_int_equal(avm_harness_read(h, 0, TESTDEV_SCRATCH, 8), 0x1234);
	td_write(h, TESTDEV_SHADOW_SET, 7);
	td_write(h, TESTDEV_IRQ, 1);
	td_write(h, TESTDEV_TIMER, 5000);
	assert_int_equal(avm_harness_try_advance(h, 10000), 0);
	td_write(h, TESTDEV_DMA_ADDR, RAM_GPA + 0x100);
	td_write(h, TESTDEV_DMA_LEN, 300);
	td_write(h, TESTDEV_DMA_CMD, 1);
	td_write(h, TESTDEV_DMA_CMD, 2);
	avm_harness_read(h, 0, TESTDEV_DMA_SUM, 8);
	td_write(h, TESTDEV_WORK, 4);
	assert_int_equal(avm_harness_try_request(h, &ping, &v), 0);
	assert_int_equal(v, 42);
	ping.user.value = 1;
	assert_int_equal(avm_harness_try_send(h, &ping), 0);
	assert_int_equal(avm_harness_try_irq(h, 2, true), 0);
	assert_int_equal(avm_harness_try_reset(h), 0);
	td_write(h, TESTDEV_IRQ, 0);
	avm_harness_write(h, 1, 0, 1, 0x5a);
	assert_int_equal(avm_harness_read(h, 1, 0, 1), 0x5a);
}

/*
 * A harness for @ho (defer_start set here) whose DUT is journaled into
 * @path (a mkstemp template, filled in), started: 0, or the start's error
 * (the harness then freed, @path removed).
 */
static int journaled_harness(struct avm_harness_opts *ho, char *path,
			     avm_harness **h)
{
	const char *journal[] = { ho->name ? ho->name : ho->ops->type, NULL };
	int fd = mkstemp(path), err;

	assert_true(fd >= 0);
	close(fd);
	ho->defer_start = true;
	assert_int_equal(avm_harness_new(ho, h), 0);
	assert_int_equal(avm_trace_start(avm_harness_runtime(*h),
					 &(struct avm_trace_options){
						 .path = path,
						 .journal = journal,
					 }),
			 0);
	err = avm_harness_try_start(*h);
	if (err) {
		avm_harness_free(*h);
		unlink(path);
	}
	return err;
}

/* Stop the trace (the journal complete), then the harness. */
static void journaled_done(avm_harness *h)
{
	assert_int_equal(avm_trace_stop(avm_harness_runtime(h)), 0);
	avm_harness_free(h);
}

static char *record_testdev(const struct testdev_config *cfg)
{
	struct avm_harness_opts ho = { .ops = &testdev_ops,
				       .config = cfg,
				       .ram_gpa = RAM_GPA,
				       .ram_size = RAM_SIZE };
	char *path = strdup("/tmp/avm-replay-testdev-XXXXXX");
	avm_harness *h;

	assert_int_equal(journaled_harness(&ho, path, &h), 0);
	drive_testdev(h);
	journaled_done(h);
	return path;
}

static unsigned td_reads;

/* A copy of testdev that answers its first read wrong. */
static void faulty_testdev_handle(void *s, const struct avm_msg *m,
				  avm_ctx *ctx)
{
	if (m->kind == AVM_MSG_READ && ++td_reads == 1) {
		avm_reply(ctx, 0xbad);
		return;
	}
	testdev_ops.handle(s, m, ctx);
}

/* The message number of the first READ in @j. */
static uint64_t first_read(const avm_journal *j)
{
	const struct avm_journal_entry *e;

	for (uint64_t i = 0, msg = 0; (e = avm_journal_entry(j, i)); i++) {
		msg += e->type == AVM_J_DELIVER || e->type == AVM_J_RESET;
		if (e->type == AVM_J_DELIVER && e->kind == AVM_MSG_READ)
			return msg;
	}
	fail_msg("no read in the journal");
	return 0;
}

static void deterministic_recording(void **state)
{
	const struct testdev_config cfg = { .id = 0xabc };
	char *path = record_testdev(&cfg);
	avm_journal *j = load(path, "testdev");
	struct avm_device_ops faulty = testdev_ops;
	struct avm_replay_opts o = { .ops = &testdev_ops, .config = &cfg };
	struct avm_replay_result res;

	assert_false(avm_journal_get_info(j)->cut);
	assert_int_equal(avm_replay_run(j, &o, &res), 0);
	if (res.diverged)
		fail_msg("%s", res.report);
	assert_true(res.messages >= 15);
	faulty.handle = faulty_testdev_handle;
	o.ops = &faulty;
	td_reads = 0;
	assert_int_equal(avm_replay_run(j, &o, &res), 0);
	print_message("%s", res.report);
	assert_true(res.diverged);
	assert_int_equal(res.at_message, first_read(j));
	assert_non_null(strstr(res.report, "expected: reply"));
	/* Another config (the ID register is direct, set at init). */
	o.ops = &testdev_ops;
	o.config = &(struct testdev_config){ .id = 0xdef };
	assert_int_equal(avm_replay_run(j, &o, &res), 0);
	assert_true(res.diverged);
	assert_int_equal(res.at_message, 0);
	avm_journal_free(j);
	unlink(path);
	free(path);
}

/* The hub: frames in on each port, out of the others, recorded in-process
 * and replayed; its journal holds one send per port and frame. */
static void hub_replays(void **state)
{
	const struct hub_config cfg = { .count = 4 };
	struct avm_harness_opts ho = { .ops = &hub_ops, .config = &cfg };
	struct avm_replay_opts o = { .ops = &hub_ops, .config = &cfg };
	struct avm_replay_result res;
	char path[] = "/tmp/avm-replay-hub-XXXXXX";
	uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	avm_harness *h;
	avm_journal *j;

	assert_int_equal(journaled_harness(&ho, path, &h), 0);
	for (unsigned i = 0; i < 12; i++) {
		frame[20] = (uint8_t)i;
		assert_int_equal(avm_harness_try_send_data(h, AVM_MSG_FRAME,
							   i % 5, frame,
							   sizeof(frame)),
				 0);
	}
	journaled_done(h);
	j = load(path, "hub");
	assert_int_equal(avm_replay_run(j, &o, &res), 0);
	if (res.diverged)
		fail_msg("%s", res.report);
	assert_int_equal(res.messages, 12);
	/* Inputs 0..3 go out of 3 ports each; input 4 is dropped. */
	assert_int_equal(res.entries, 1 + 12 + 10 * 3);
	avm_journal_free(j);
	unlink(path);
}

/* A tap (where /dev/net/tun can be used): its kernel side is journaled
 * through avm_io(), so a replay needs no tap at all. */
static void tap_replays(void **state)
{
	const struct tap_config cfg = { .ifname = NULL };
	struct avm_harness_opts ho = { .ops = &tap_ops,
				       .config = &cfg,
				       .log_level = -1 };
	struct avm_replay_opts o = { .ops = &tap_ops, .config = &cfg };
	struct avm_replay_result res;
	struct avm_msg stat = { .kind = NETDEV_MSG_STAT,
				.user.arg = NETDEV_STAT_OUT_DROPPED };
	char path[] = "/tmp/avm-replay-tap-XXXXXX";
	uint8_t frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	avm_harness *h;
	avm_journal *j;
	uint64_t v;
	int err = journaled_harness(&ho, path, &h);

	if (err) {
		print_message("no tap here (%s): skipped\n", strerror(-err));
		skip();
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(avm_harness_try_send_data(h, AVM_MSG_FRAME, 0,
							   frame,
							   sizeof(frame)),
				 0);
	assert_int_equal(avm_harness_try_fd_ready(h, TAP_WATCH, AVM_FD_READ),
			 0);
	assert_int_equal(avm_harness_try_request(h, &stat, &v), 0);
	journaled_done(h);
	j = load(path, "tap");
	assert_int_equal(avm_replay_run(j, &o, &res), 0);
	if (res.diverged)
		fail_msg("%s", res.report);
	assert_int_equal(res.messages, 5);
	avm_journal_free(j);
	unlink(path);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identical_100_times),
		cmocka_unit_test(planted_fault_found),
		cmocka_unit_test(deterministic_recording),
		cmocka_unit_test(hub_replays),
		cmocka_unit_test(tap_replays),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: replay_check TRACE NIC\n");
		return 2;
	}
	trace_path = argv[1];
	nic_name = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
