/* SPDX-License-Identifier: MIT */
/* Recording: a trace made by the deterministic executor, read back event by
 * event; causes, replies, payloads, filters, pause, drops. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <actorvm/trace.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "trace.pb-c.h"

#define MAX_EV 4096

struct trace_dump {
	struct avm_trace_event ev[MAX_EV];
	uint8_t payload[MAX_EV][64];
	unsigned n;
	struct avm_trace_info info;
};

static void tmp_path(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/avm-trace-test-%d-XXXXXX", (int)getpid());
	close(mkstemp(buf));
}

/* Read a whole trace; payloads copied (the reader's pointers are
 * transient). */
static void load(const char *path, struct trace_dump *d)
{
	char err[256];
	avm_trace_reader *r;
	int rc;

	assert_int_equal(avm_trace_open(path, &r, err, sizeof(err)), 0);
	d->n = 0;
	while ((rc = avm_trace_next(r, &d->ev[d->n], err, sizeof(err))) == 1) {
		struct avm_trace_event *e = &d->ev[d->n];
		size_t n = e->payload_len < 64 ? e->payload_len : 64;

		if (e->payload && n)
			memcpy(d->payload[d->n], e->payload, n);
		e->payload = NULL;
		assert_true(++d->n < MAX_EV);
	}
	assert_int_equal(rc, 0);
	d->info = *avm_trace_info(r);
	d->info.actors = NULL; /* owned by the reader */
	d->info.clock = d->info.executor = NULL;
	avm_trace_close(r);
}

/* The first event of @type for message @corr at @actor, or NULL. */
static const struct avm_trace_event *find(const struct trace_dump *d,
					  unsigned type, uint64_t corr)
{
	for (unsigned i = 0; i < d->n; i++)
		if (d->ev[i].type == type && d->ev[i].corr == corr)
			return &d->ev[i];
	return NULL;
}

static const struct avm_trace_event *find_kind(const struct trace_dump *d,
					       unsigned type, unsigned kind)
{
	for (unsigned i = 0; i < d->n; i++)
		if (d->ev[i].type == type && d->ev[i].kind == kind)
			return &d->ev[i];
	return NULL;
}

static void start(struct fixture *f, const char *path,
		  const struct avm_trace_options *extra)
{
	struct avm_trace_options o =
		extra ? *extra : (struct avm_trace_options){ 0 };

	o.path = path;
	assert_int_equal(avm_trace_start(f->rt, &o), 0);
}

/* A read: posted, dequeued, handled, answered, in that order, linked by
 * its correlation id; an IRQ names the write that caused it. */
static void events_of_a_read_and_an_irq(void **unused)
{
	static struct trace_dump d;
	const struct avm_trace_event *p, *q, *hs, *he, *rep, *irq, *w;
	struct fixture f;
	char path[64];

	(void)unused;
	tmp_path(path, sizeof(path));
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 2, NULL);
	assert_int_equal(avm_bind(f.rt, f.dev[0], "irq", f.dev[1], 3), 0);
	fix_start(&f);
	start(&f, path, NULL);
	assert_int_equal(avm_det_advance(f.rt, 5000), 0);
	fix_wr(&f, 0, TESTDEV_SCRATCH, 0x42);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_SCRATCH), 0x42);
	fix_wr(&f, 0, TESTDEV_IRQ, 1);
	avm_det_run(f.rt, 0);
	assert_int_equal(avm_trace_stop(f.rt), 0);
	load(path, &d);

	assert_true(d.info.complete);
	assert_int_equal(d.info.start_realtime_ns, 0); /* virtual time */
	assert_int_equal(d.info.lost, 0);
	assert_int_equal(d.info.footer_events, d.n);
	/* the read */
	p = find_kind(&d, AVM_TRACE_POSTED, AVM_MSG_READ);
	assert_non_null(p);
	assert_int_equal(p->actor, f.dev[0]);
	assert_int_equal(p->src, AVM_ACTOR_NONE);
	assert_int_equal(p->addr, TESTDEV_SCRATCH);
	assert_int_equal(p->size, 8);
	assert_int_equal(p->t_ns, 5000); /* virtual time */
	q = find(&d, AVM_TRACE_DEQUEUED, p->corr);
	hs = find(&d, AVM_TRACE_HANDLE_START, p->corr);
	he = find(&d, AVM_TRACE_HANDLE_END, p->corr);
	rep = find(&d, AVM_TRACE_REPLY, p->corr);
	assert_non_null(q);
	assert_non_null(hs);
	assert_non_null(he);
	assert_non_null(rep);
	assert_true(q < hs && hs < rep && rep < he); /* one thread: in order */
	assert_int_equal(rep->value, 0x42);
	assert_int_equal(rep->status, 0);
	/* the IRQ, caused by the write of TESTDEV_IRQ */
	irq = find_kind(&d, AVM_TRACE_POSTED, AVM_MSG_IRQ);
	assert_non_null(irq);
	assert_int_equal(irq->actor, f.dev[1]);
	assert_int_equal(irq->src, f.dev[0]);
	assert_int_equal(irq->arg, 3);
	assert_int_equal(irq->value, 1);
	w = find(&d, AVM_TRACE_POSTED, irq->cause);
	assert_non_null(w);
	assert_int_equal(w->kind, AVM_MSG_WRITE);
	assert_int_equal(w->addr, TESTDEV_IRQ);
	fix_down(&f);
	unlink(path);
}

static void header_names_actors(void **unused)
{
	struct fixture f;
	char path[64], err[256];
	avm_trace_reader *r;
	const struct avm_trace_info *info;

	(void)unused;
	tmp_path(path, sizeof(path));
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 2, NULL);
	fix_start(&f);
	start(&f, path, NULL);
	assert_int_equal(avm_trace_stop(f.rt), 0);
	assert_int_equal(avm_trace_open(path, &r, err, sizeof(err)), 0);
	info = avm_trace_info(r);
	assert_int_equal(info->version, AVM_TRACE_VERSION);
	assert_string_equal(info->clock, "virtual");
	assert_string_equal(info->executor, "deterministic");
	assert_int_equal(info->n_actors, 2);
	assert_string_equal(info->actors[1].name, "dev1");
	assert_string_equal(info->actors[1].type, "testdev");
	assert_string_equal(avm_trace_actor_name(r, 0), "dev0");
	avm_trace_close(r);
	fix_down(&f);
	unlink(path);
}

static void frames_carry_their_bytes(void **unused)
{
	static struct trace_dump d;
	struct fixture f;
	struct avm_msg m = { .kind = AVM_MSG_FRAME };
	const struct avm_trace_event *e;
	uint8_t frame[100];
	char path[64];

	(void)unused;
	tmp_path(path, sizeof(path));
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(0xa0 + i);
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	start(&f, path, NULL);
	assert_int_equal(avm_msg_set_payload(&m, frame, sizeof(frame)), 0);
	assert_int_equal(avm_post(f.acc, f.dev[0], &m), 0);
	avm_det_run(f.rt, 0);
	assert_int_equal(avm_trace_stop(f.rt), 0);
	load(path, &d);
	e = find_kind(&d, AVM_TRACE_POSTED, AVM_MSG_FRAME);
	assert_non_null(e);
	assert_int_equal(e->payload_len, sizeof(frame));
	assert_memory_equal(d.payload[e - d.ev], frame, 64);
	fix_down(&f);
	unlink(path);
}

static unsigned count_other_actor(const struct trace_dump *d, uint32_t actor)
{
	unsigned n = 0;

	for (unsigned i = 0; i < d->n; i++)
		n += d->ev[i].actor != actor;
	return n;
}

static const struct avm_trace_event *
find_write_value(const struct trace_dump *d, uint64_t value)
{
	for (unsigned i = 0; i < d->n; i++)
		if (d->ev[i].kind == AVM_MSG_WRITE && d->ev[i].value == value)
			return &d->ev[i];
	return NULL;
}

/* Record-time filters by actor and kind; pause records nothing. */
static void filters_and_pause(void **unused)
{
	static struct trace_dump d;
	const char *only_dev1[] = { "dev1", NULL };
	const char *nobody[] = { "nope", NULL };
	struct avm_trace_options o = { .actors = only_dev1 };
	struct fixture f;
	char path[64];

	(void)unused;
	tmp_path(path, sizeof(path));
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 2, NULL);
	fix_start(&f);
	o.path = path;
	o.actors = nobody;
	assert_int_equal(avm_trace_start(f.rt, &o), -ENOENT);
	start(&f, path, &(struct avm_trace_options){ .actors = only_dev1 });
	fix_wr(&f, 0, TESTDEV_SCRATCH, 1);
	fix_wr(&f, 1, TESTDEV_SCRATCH, 2);
	avm_det_run(f.rt, 0);
	avm_trace_pause(f.rt, true);
	fix_wr(&f, 1, TESTDEV_SEQ, 1);
	avm_det_run(f.rt, 0);
	avm_trace_pause(f.rt, false);
	assert_int_equal(
		avm_trace_filter(f.rt, AVM_TRACE_KIND_BIT(AVM_MSG_READ), NULL),
		0);
	fix_wr(&f, 1, TESTDEV_SCRATCH, 3);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_SCRATCH), 1);
	assert_int_equal(avm_trace_stop(f.rt), 0);
	load(path, &d);
	/* dev1's first write is there; dev0's read, once kinds allow it */
	assert_true(count_other_actor(&d, f.dev[1]) > 0);
	assert_non_null(find_write_value(&d, 2));
	assert_null(find_write_value(&d, 1));
	for (unsigned i = 0; i < d.n; i++) {
		const struct avm_trace_event *e = &d.ev[i];

		/* first phase: only dev1; paused: no SEQ; last: reads only */
		assert_true(e->actor == f.dev[1] || e->kind == AVM_MSG_READ);
		assert_false(e->kind == AVM_MSG_WRITE &&
			     e->addr == TESTDEV_SEQ);
		assert_false(e->kind == AVM_MSG_WRITE && e->value == 3);
	}
	fix_down(&f);
	unlink(path);
}

/* A full ring drops, counts, and the file says how many were lost. */
static void full_ring_drops_and_counts(void **unused)
{
	static struct trace_dump d;
	struct avm_trace_options o = { .ring_bytes = 4096, .flush_ms = 60000 };
	struct avm_trace_stats st;
	struct fixture f;
	char path[64];

	(void)unused;
	tmp_path(path, sizeof(path));
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	start(&f, path, &o);
	for (uint64_t i = 1; i <= 500; i++)
		fix_wr(&f, 0, TESTDEV_SEQ, i);
	avm_det_run(f.rt, 0);
	assert_int_equal(fix_rd(&f, 0, TESTDEV_SEQ_TOTAL), 500); /* VM fine */
	assert_int_equal(avm_trace_stop(f.rt), 0);
	avm_trace_get_stats(f.rt, &st);
	assert_true(st.dropped > 0);
	load(path, &d);
	assert_int_equal(d.info.lost, st.dropped);
	assert_int_equal(d.info.footer_dropped, st.dropped);
	assert_int_equal(d.n, st.written);
	assert_int_equal(st.recorded, st.written); /* all kept were written */
	fix_down(&f);
	unlink(path);
}

/* Threaded: several recording threads, the writer draining as they go. */
static void threaded_trace_is_complete(void **unused)
{
	static struct trace_dump d;
	struct fixture f;
	struct avm_trace_stats st;
	char path[64];
	unsigned reads = 0, replies = 0;

	(void)unused;
	tmp_path(path, sizeof(path));
	fix_up(&f, AVM_EXEC_THREADED, 2, NULL);
	fix_start(&f);
	start(&f, path, &(struct avm_trace_options){ .flush_ms = 1 });
	for (int i = 0; i < 200; i++) {
		fix_wr(&f, i & 1, TESTDEV_SCRATCH, (uint64_t)i);
		fix_rd(&f, i & 1, TESTDEV_SCRATCH);
	}
	assert_int_equal(avm_trace_stop(f.rt), 0);
	avm_trace_get_stats(f.rt, &st);
	load(path, &d);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(d.n, st.written);
	/* Real time: a wall-clock start (after 2020) for pcap dates. */
	assert_true(d.info.start_realtime_ns > 1577836800ull * 1000000000ull);
	for (unsigned i = 0; i < d.n; i++) {
		reads += d.ev[i].type == AVM_TRACE_POSTED &&
			 d.ev[i].kind == AVM_MSG_READ;
		replies += d.ev[i].type == AVM_TRACE_REPLY;
	}
	assert_int_equal(reads, 200);
	assert_int_equal(replies, 200);
	assert_int_equal(
		avm_trace_start(f.rt,
				&(struct avm_trace_options){ .path = path }),
		0);
	assert_int_equal(
		avm_trace_start(f.rt,
				&(struct avm_trace_options){ .path = path }),
		-EALREADY);
	fix_down(&f); /* stops the trace and flushes it */
	load(path, &d);
	assert_true(d.info.complete);
	unlink(path);
}

/* A subscriber to follow_url receives the records as they are written. */
static void follow_receives_records(void **unused)
{
	struct fixture f;
	char path[64], url[96];
	nng_socket sub;
	unsigned events = 0;

	(void)unused;
	tmp_path(path, sizeof(path));
	snprintf(url, sizeof(url), "ipc://%s.sock", path);
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	start(&f, path,
	      &(struct avm_trace_options){ .follow_url = url, .flush_ms = 1 });
	assert_int_equal(nng_sub0_open(&sub), 0);
	assert_int_equal(nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "", 0), 0);
	assert_int_equal(nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 50), 0);
	assert_int_equal(nng_dial(sub, url, NULL, 0), 0);
	/* PUB drops what it sends before we are connected: keep sending. */
	for (uint64_t i = 0, t0 = fix_now_ns(); !events && fix_guard(t0); i++) {
		void *buf;
		size_t len;
		Actorvm__TraceRecord *rec;

		fix_wr(&f, 0, TESTDEV_SCRATCH, (uint64_t)i);
		avm_det_run(f.rt, 0);
		if (nng_recv(sub, &buf, &len, NNG_FLAG_ALLOC))
			continue;
		rec = actorvm__trace_record__unpack(NULL, len, buf);
		assert_non_null(rec);
		events += rec->rec_case == ACTORVM__TRACE_RECORD__REC_EVENT &&
			  rec->event->actor == f.dev[0];
		actorvm__trace_record__free_unpacked(rec, NULL);
		nng_free(buf, len);
	}
	assert_true(events > 0);
	/* Not nng_close(sub): nng 1.5.2 can deadlock there with a live pipe
	 * (nanomsg/nng#1813); the process exit releases it. */
	assert_int_equal(avm_trace_stop(f.rt), 0);
	fix_down(&f);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(events_of_a_read_and_an_irq),
		cmocka_unit_test(header_names_actors),
		cmocka_unit_test(frames_carry_their_bytes),
		cmocka_unit_test(filters_and_pause),
		cmocka_unit_test(full_ring_drops_and_counts),
		cmocka_unit_test(threaded_trace_is_complete),
		cmocka_unit_test(follow_receives_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
