/* SPDX-License-Identifier: MIT */
/* The trace reader: every field back, and every kind of broken file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <actorvm/actor.h>
#include <actorvm/trace.h>

#include "trace_writer.h"

struct tmp {
	char dir[64];
	char path[128];
	FILE *f;
};

static const char *const names[] = { "nic", "disk", "uart" };

/* A fresh file in a private directory, opened for writing. */
static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/avm-trace-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/t.avmtrace", t->dir);
	t->f = fopen(t->path, "wb");
	assert_non_null(t->f);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;

	if (t->f)
		fclose(t->f);
	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void done_writing(struct tmp *t)
{
	assert_int_equal(fclose(t->f), 0);
	t->f = NULL;
}

/* Write the standard start (magic + header); return the next offset. */
static long start(struct tmp *t)
{
	assert_int_equal(tw_start(t->f, names, 3), 0);
	return ftell(t->f);
}

static struct avm_trace_event sample_event(void)
{
	static const uint8_t bytes[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };
	struct avm_trace_event ev = {
		.type = AVM_TRACE_POSTED,
		.lane = 2,
		.size = 4,
		.kind = AVM_MSG_USER + 7,
		.actor = 1,
		.src = AVM_ACTOR_NONE,
		.thread = 3,
		.arg = 9,
		.status = -EIO,
		.t_ns = 123456789012345ull,
		.corr = 0xfedcba9876543210ull,
		.cause = 77,
		.addr = 0xfebc0008ull,
		.value = UINT64_MAX,
		.payload_len = sizeof(bytes),
		.payload = bytes,
	};
	return ev;
}

/* Every field, a frame-sized payload, loss records and a footer. */
static void roundtrip(void **state)
{
	struct tmp *t = *state;
	struct avm_trace_event in = sample_event(), out;
	uint8_t frame[1514];
	const struct avm_trace_info *info;
	avm_trace_reader *r;
	char err[256];

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	in.payload = frame;
	in.payload_len = sizeof(frame);
	start(t);
	assert_int_equal(tw_event(t->f, &in), 0);
	assert_int_equal(tw_loss(t->f, 1, 5), 0);
	assert_int_equal(tw_loss(t->f, 2, 7), 0);
	assert_int_equal(tw_footer(t->f, 1, 12), 0);
	done_writing(t);

	assert_int_equal(avm_trace_open(t->path, &r, err, sizeof(err)), 0);
	info = avm_trace_info(r);
	assert_int_equal(info->version, AVM_TRACE_VERSION);
	assert_string_equal(info->clock, "virtual");
	assert_string_equal(info->executor, "deterministic");
	assert_int_equal(info->n_actors, 3);
	assert_string_equal(info->actors[2].name, "uart");
	assert_string_equal(info->actors[2].type, "testdev");
	assert_string_equal(avm_trace_actor_name(r, 1), "disk");
	assert_null(avm_trace_actor_name(r, 3));
	assert_false(info->complete);

	assert_int_equal(avm_trace_next(r, &out, err, sizeof(err)), 1);
	assert_int_equal(out.type, in.type);
	assert_int_equal(out.lane, in.lane);
	assert_int_equal(out.size, in.size);
	assert_int_equal(out.kind, in.kind);
	assert_int_equal(out.actor, in.actor);
	assert_int_equal(out.src, in.src);
	assert_int_equal(out.thread, in.thread);
	assert_int_equal(out.arg, in.arg);
	assert_int_equal(out.status, in.status);
	assert_true(out.t_ns == in.t_ns);
	assert_true(out.corr == in.corr);
	assert_true(out.cause == in.cause);
	assert_true(out.addr == in.addr);
	assert_true(out.value == in.value);
	assert_int_equal(out.payload_len, 1514);
	assert_non_null(out.payload);
	assert_memory_equal(out.payload, frame, 1514);

	assert_int_equal(avm_trace_next(r, &out, err, sizeof(err)), 0);
	assert_true(info->complete);
	assert_int_equal(info->lost, 12);
	assert_int_equal(info->footer_events, 1);
	assert_int_equal(info->footer_dropped, 12);
	/* The end stays the end. */
	assert_int_equal(avm_trace_next(r, &out, err, sizeof(err)), 0);
	avm_trace_close(r);
}

/* Many events in order, no footer: complete stays false. */
static void many_events(void **state)
{
	struct tmp *t = *state;
	struct avm_trace_event ev = { 0 }, out;
	avm_trace_reader *r;
	char err[256];
	unsigned n = 0;

	start(t);
	for (unsigned i = 0; i < 1000; i++) {
		ev.type = (uint8_t)(1 + i % 5);
		ev.t_ns = i * 10;
		ev.corr = i;
		ev.kind = AVM_MSG_READ;
		assert_int_equal(tw_event(t->f, &ev), 0);
	}
	done_writing(t);
	assert_int_equal(avm_trace_open(t->path, &r, err, sizeof(err)), 0);
	while (avm_trace_next(r, &out, err, sizeof(err)) == 1) {
		assert_true(out.corr == n);
		assert_int_equal(out.type, 1 + n % 5);
		n++;
	}
	assert_int_equal(n, 1000);
	assert_false(avm_trace_info(r)->complete);
	avm_trace_close(r);
}

/* avm_trace_open() fails with @ret and a message containing @what. */
static void expect_open_fail(struct tmp *t, int ret, const char *what)
{
	avm_trace_reader *r = (void *)1;
	char err[256] = "";

	if (t->f)
		done_writing(t);
	assert_int_equal(avm_trace_open(t->path, &r, err, sizeof(err)), ret);
	assert_null(r);
	if (!strstr(err, what) || !strstr(err, t->path))
		fail_msg("message '%s' lacks '%s' or the path", err, what);
}

/* Opening works, the events before the damage read, then @ret/@what. */
static void expect_next_fail(struct tmp *t, unsigned good, const char *what)
{
	struct avm_trace_event ev;
	avm_trace_reader *r;
	char err[256] = "";

	done_writing(t);
	assert_int_equal(avm_trace_open(t->path, &r, err, sizeof(err)), 0);
	for (unsigned i = 0; i < good; i++)
		assert_int_equal(avm_trace_next(r, &ev, err, sizeof(err)), 1);
	assert_int_equal(avm_trace_next(r, &ev, err, sizeof(err)), -EINVAL);
	if (!strstr(err, what) || !strstr(err, t->path))
		fail_msg("message '%s' lacks '%s' or the path", err, what);
	/* Sticky: asking again gives the same error, never a hang. */
	err[0] = 0;
	assert_int_equal(avm_trace_next(r, &ev, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, what));
	avm_trace_close(r);
}

static void missing_file(void **state)
{
	struct tmp *t = *state;

	done_writing(t);
	unlink(t->path);
	expect_open_fail(t, -ENOENT, "No such file");
}

static void empty_file(void **state)
{
	expect_open_fail(*state, -EINVAL, "offset 0: not a trace file");
}

static void bad_magic(void **state)
{
	struct tmp *t = *state;

	assert_int_equal(tw_raw(t->f, "AVMTRACX", 8), 0);
	assert_int_equal(tw_varint(t->f, 0), 0);
	expect_open_fail(t, -EINVAL, "offset 0: not a trace file");
}

static void magic_only(void **state)
{
	struct tmp *t = *state;

	assert_int_equal(tw_magic(t->f), 0);
	expect_open_fail(t, -EINVAL, "offset 8: no header");
}

static void event_first(void **state)
{
	struct tmp *t = *state;
	struct avm_trace_event ev = sample_event();

	assert_int_equal(tw_magic(t->f), 0);
	assert_int_equal(tw_event(t->f, &ev), 0);
	expect_open_fail(t, -EINVAL, "offset 8: the first record is not");
}

static void wrong_version(void **state)
{
	struct tmp *t = *state;
	struct tw_header h = { .version = 2, .clock = "tsc" };

	assert_int_equal(tw_magic(t->f), 0);
	assert_int_equal(tw_header(t->f, &h), 0);
	expect_open_fail(t, -EPROTONOSUPPORT, "offset 8: format version 2");
}

static void header_truncated(void **state)
{
	struct tmp *t = *state;

	assert_int_equal(tw_magic(t->f), 0);
	assert_int_equal(tw_varint(t->f, 40), 0);
	assert_int_equal(tw_raw(t->f, "\x0a\x02", 2), 0);
	expect_open_fail(t, -EINVAL,
			 "offset 8: record of 40 bytes runs past the end");
}

static void length_truncated(void **state)
{
	struct tmp *t = *state;
	char what[64];
	long at = start(t);

	assert_int_equal(tw_raw(t->f, "\x80\x80", 2), 0);
	snprintf(what, sizeof(what), "offset %ld: truncated record length", at);
	expect_next_fail(t, 0, what);
}

static void length_corrupt(void **state)
{
	struct tmp *t = *state;
	char what[64];
	long at = start(t);

	assert_int_equal(tw_raw(t->f,
				"\xff\xff\xff\xff\xff\xff\xff\xff"
				"\xff\xff\xff\x01",
				12),
			 0);
	snprintf(what, sizeof(what), "offset %ld: corrupted record length", at);
	expect_next_fail(t, 0, what);
}

static void length_absurd(void **state)
{
	struct tmp *t = *state;
	char what[64];
	long at = start(t);

	assert_int_equal(tw_varint(t->f, 1ull << 40), 0);
	assert_int_equal(tw_raw(t->f, "xyz", 3), 0);
	snprintf(what, sizeof(what), "offset %ld: record length 1099511627776",
		 at);
	expect_next_fail(t, 0, what);
}

/* The crash case: the last record stops half-way. */
static void event_truncated(void **state)
{
	struct tmp *t = *state;
	struct avm_trace_event ev = sample_event();
	uint8_t buf[4096];
	size_t n = tw_encode_event(&ev, buf, sizeof(buf));
	char what[96];
	long at;

	start(t);
	assert_int_equal(tw_event(t->f, &ev), 0);
	at = ftell(t->f);
	assert_int_equal(tw_varint(t->f, n), 0);
	assert_int_equal(tw_raw(t->f, buf, n / 2), 0);
	snprintf(what, sizeof(what),
		 "offset %ld: record of %zu bytes runs past", at, n);
	expect_next_fail(t, 1, what);
}

static void garbage_record(void **state)
{
	struct tmp *t = *state;
	char what[64];
	long at = start(t);

	/* Field 2 (event), length-delimited, claiming 100 bytes inside 3. */
	assert_int_equal(tw_varint(t->f, 3), 0);
	assert_int_equal(tw_raw(t->f, "\x12\x64\x00", 3), 0);
	snprintf(what, sizeof(what), "offset %ld: corrupted record", at);
	expect_next_fail(t, 0, what);
}

static void second_header(void **state)
{
	struct tmp *t = *state;
	struct tw_header h = { .version = 1 };
	char what[64];
	long at = start(t);

	assert_int_equal(tw_header(t->f, &h), 0);
	snprintf(what, sizeof(what), "offset %ld: a second header", at);
	expect_next_fail(t, 0, what);
}

static void bad_event_type(void **state)
{
	struct tmp *t = *state;
	struct avm_trace_event ev = sample_event();
	char what[64];
	long at = start(t);

	ev.type = 9;
	assert_int_equal(tw_event(t->f, &ev), 0);
	snprintf(what, sizeof(what), "offset %ld: unknown event type 9", at);
	expect_next_fail(t, 0, what);
}

/* Unknown record kinds (a newer writer) and empty records are skipped. */
static void unknown_record_skipped(void **state)
{
	struct tmp *t = *state;
	struct avm_trace_event ev = sample_event(), out;
	avm_trace_reader *r;
	char err[256];

	start(t);
	assert_int_equal(tw_varint(t->f, 0), 0);
	assert_int_equal(tw_raw(t->f, "\x02\x78\x01", 3), 0);
	assert_int_equal(tw_event(t->f, &ev), 0);
	done_writing(t);
	assert_int_equal(avm_trace_open(t->path, &r, err, sizeof(err)), 0);
	assert_int_equal(avm_trace_next(r, &out, err, sizeof(err)), 1);
	assert_true(out.corr == ev.corr);
	assert_int_equal(avm_trace_next(r, &out, err, sizeof(err)), 0);
	avm_trace_close(r);
}

static void name_tables(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(avm_trace_type_name(AVM_TRACE_POSTED), "posted");
	assert_string_equal(avm_trace_type_name(AVM_TRACE_REPLY), "reply");
	assert_string_equal(avm_trace_type_name(0), "?");
	assert_string_equal(avm_trace_type_name(99), "?");
	assert_string_equal(avm_msg_kind_name(AVM_MSG_DMA_DONE, buf, 16),
			    "dma-done");
	assert_string_equal(avm_msg_kind_name(12, buf, 16), "reply");
	assert_string_equal(avm_msg_kind_name(AVM_MSG_USER + 3, buf, 16),
			    "user+3");
	assert_string_equal(avm_msg_kind_name(40, buf, 16), "kind40");
	assert_string_equal(avm_msg_kind_name(40, NULL, 0), "?");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(roundtrip),
		T(many_events),
		T(missing_file),
		T(empty_file),
		T(bad_magic),
		T(magic_only),
		T(event_first),
		T(wrong_version),
		T(header_truncated),
		T(length_truncated),
		T(length_corrupt),
		T(length_absurd),
		T(event_truncated),
		T(garbage_record),
		T(second_header),
		T(bad_event_type),
		T(unknown_record_skipped),
		cmocka_unit_test(name_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
