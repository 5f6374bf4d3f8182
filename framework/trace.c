/* SPDX-License-Identifier: MIT */
/*
 * Trace recording. Each recording thread owns a single-producer byte ring of
 * compact records (no protobuf on the hot path); a writer thread drains the
 * rings every flush_ms, encodes TraceRecord protobufs and appends them,
 * length-delimited, to the file (and publishes them over nng for `follow`).
 *
 * Rings live as long as the runtime: a thread that read trace_on just before
 * a stop may still append, so records carry the trace generation and the
 * writer skips records of another generation.
 */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <actorvm/listen.h>
#include <actorvm/trace.h>

#include "internal.h"
#include "trace.pb-c.h"

#define DEFAULT_RING_BYTES (1u << 20)
#define DEFAULT_FLUSH_MS   10
#define GEN_PAD		   UINT32_MAX /* a filler record up to the ring's end */

enum trace_clock { CLOCK_TSC, CLOCK_MONO, CLOCK_VIRTUAL };

/* One event in a ring; payload bytes follow, then padding to 8 bytes. */
struct ring_rec {
	uint32_t len; /* whole record, multiple of 8 */
	uint32_t gen;
	uint8_t type, lane, size, in_place;
	uint16_t kind;
	uint32_t actor, src, arg, payload_len, snap_len;
	int32_t status;
	uint64_t t_raw, corr, cause, addr, value;
};

/* A journal entry: a ring_rec whose type has JREC set, then this, then
 * the data (snap_len bytes, all of them). */
#define JREC 0x80
struct ring_jx {
	uint64_t seq;
	uint32_t dst, size, flags;
	int32_t port, result;
	uint32_t pad;
};

struct trace_ring {
	struct trace_ring *next;
	uint32_t thread;
	uint8_t *buf;
	uint64_t size;
	/* Producer side: written by the owning thread only. */
	_Alignas(64) _Atomic uint64_t head;
	_Atomic uint64_t recorded;
	_Atomic uint64_t dropped;
	/* Consumer side: the writer thread. */
	_Alignas(64) _Atomic uint64_t tail;
	uint64_t dropped_seen;
};

struct avm_tracer {
	avm_runtime *rt;
	uint64_t epoch; /* tells this tracer from one reusing its address */
	pthread_mutex_t lock; /* rings list, start/stop */
	struct trace_ring *rings;
	uint32_t n_rings;
	size_t ring_bytes;
	_Atomic uint32_t gen;
	_Atomic uint64_t kinds;
	_Atomic uint64_t *actor_bits;
	unsigned n_words;
	enum trace_clock clock;
	uint64_t tsc0, mono0, real0;
	double ns_per_tick;
	/* Writer. */
	bool running;
	pthread_t writer;
	pthread_cond_t wake;
	bool quit; /* under lock */
	unsigned flush_ms;
	bool pin_writer;
	int writer_cpu;
	FILE *file;
	char *path;
	nng_socket pub;
	struct avm_listener *pub_listener;
	bool pub_open;
	uint64_t written;
	uint64_t events_lost;
	/* Write errors: the first one ends the file; what follows is lost. */
	uint64_t durable; /* events flushed before the last good fflush */
	_Atomic uint64_t write_lost;
	_Atomic int write_err; /* positive errno of the first failure */
	uint8_t *enc;	       /* encode buffer */
	size_t enc_cap;
	/* Header extras (avm_trace_options.journal, .manifest...). */
	uint32_t *journaled;
	unsigned n_journaled;
	uint8_t *manifest;
	size_t manifest_len;
	char *manifest_path;
	char *vm;
};

/* The calling thread's ring for one tracer (thread-local cache). */
static __thread struct {
	struct avm_tracer *t;
	uint64_t epoch;
	struct trace_ring *r;
} tls_ring;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int avm__tracer_new(avm_runtime *rt)
{
	struct avm_tracer *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->rt = rt;
	/* Distinct per tracer in practice: time and address both vary. */
	t->epoch = __rdtsc() ^ (uint64_t)(uintptr_t)t;
	t->n_words = (rt->cfg.max_actors + 63) / 64;
	t->actor_bits = calloc(t->n_words, sizeof(*t->actor_bits));
	if (!t->actor_bits) {
		free(t);
		return -ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	rt->tracer = t;
	return 0;
}

static void free_extras(struct avm_tracer *t)
{
	free(t->journaled);
	free(t->manifest);
	free(t->manifest_path);
	free(t->vm);
	t->journaled = NULL;
	t->manifest = NULL;
	t->manifest_path = t->vm = NULL;
	t->n_journaled = 0;
	t->manifest_len = 0;
}

void avm__tracer_free(avm_runtime *rt)
{
	struct avm_tracer *t = rt->tracer;

	if (!t)
		return;
	avm_trace_stop(rt);
	while (t->rings) {
		struct trace_ring *r = t->rings;

		t->rings = r->next;
		free(r->buf);
		free(r);
	}
	free(t->path);
	free_extras(t);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t->actor_bits);
	free(t->enc);
	free(t);
	rt->tracer = NULL;
}

/* --- Recording (any thread) ---------------------------------------------- */

static struct trace_ring *ring_new(struct avm_tracer *t)
{
	struct trace_ring *r = aligned_alloc(64, sizeof(*r));

	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->size = t->ring_bytes;
	r->buf = aligned_alloc(64, r->size);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	/* Fault the pages in now, once, not one per 40 events later. */
	memset(r->buf, 0, r->size);
	pthread_mutex_lock(&t->lock);
	r->thread = t->n_rings++;
	r->next = t->rings;
	t->rings = r;
	pthread_mutex_unlock(&t->lock);
	return r;
}

static struct trace_ring *my_ring(struct avm_tracer *t)
{
	if (tls_ring.t == t && tls_ring.epoch == t->epoch)
		return tls_ring.r;
	/* First event of this thread: one allocation, then the cache. */
	tls_ring.r = ring_new(t);
	tls_ring.t = tls_ring.r ? t : NULL;
	tls_ring.epoch = t->epoch;
	return tls_ring.r;
}

static bool wanted(struct avm_tracer *t, avm_actor_id actor, unsigned kind)
{
	uint64_t kinds = atomic_load_explicit(&t->kinds, memory_order_relaxed);

	/* A device process's start and death pass any kind filter: rare,
	 * and what a trace of a restart is read for. */
	if (!(kinds & AVM_TRACE_KIND_BIT(kind)) &&
	    kind != AVM_TRACE_KIND_PROC_START &&
	    kind != AVM_TRACE_KIND_PROC_EXIT)
		return false;
	if (actor / 64 >= t->n_words)
		return true; /* outside any actor (AVM_ACTOR_NONE) */
	return atomic_load_explicit(&t->actor_bits[actor / 64],
				    memory_order_relaxed) &
	       (1ull << (actor % 64));
}

static uint64_t raw_now(struct avm_tracer *t)
{
	switch (t->clock) {
	case CLOCK_TSC:
		return __rdtsc();
	case CLOCK_MONO:
		return mono_ns();
	default:
		return t->rt->exec->now(t->rt);
	}
}

static void bump(_Atomic uint64_t *c)
{
	/* Single writer (the ring's thread): no locked RMW needed. */
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* Room for @len bytes, contiguous; NULL (and a drop) if the ring is full. */
static struct ring_rec *reserve(struct trace_ring *r, uint32_t len)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	/* Acquire: the writer is done reading what it released. */
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t off = head & (r->size - 1), to_end = r->size - off;
	uint64_t total = to_end < len ? to_end + len : len;
	struct ring_rec *pad;

	if (head + total - tail > r->size) {
		bump(&r->dropped);
		return NULL;
	}
	if (to_end < len) {
		pad = (struct ring_rec *)(r->buf + off);
		pad->len = (uint32_t)to_end;
		pad->gen = GEN_PAD;
		head += to_end;
		atomic_store_explicit(&r->head, head, memory_order_relaxed);
		off = 0;
	}
	return (struct ring_rec *)(r->buf + off);
}

static void commit(struct trace_ring *r, struct ring_rec *rec)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	/* Release: the writer that sees the new head sees the record. */
	atomic_store_explicit(&r->head, head + rec->len, memory_order_release);
	bump(&r->recorded);
}

static uint32_t snap_len(unsigned type, const struct avm_msg *m)
{
	if (type != AVM_TRACE_POSTED ||
	    (m->kind != AVM_MSG_FRAME && m->kind != AVM_MSG_CHAR))
		return 0;
	return m->fw.len < AVM_TRACE_SNAPLEN ? m->fw.len : AVM_TRACE_SNAPLEN;
}

/* @f: @m's body in the kind-blind fields a record keeps (message.c). */
static void record(avm_runtime *rt, unsigned type, avm_actor_id actor,
		   const struct avm_msg *m, const struct avm_msg_user *f)
{
	struct avm_tracer *t = rt->tracer;
	uint32_t snap = snap_len(type, m), len;
	struct trace_ring *r;
	struct ring_rec *rec;

	if (!wanted(t, actor, m->kind) || !(r = my_ring(t)))
		return;
	len = (uint32_t)((sizeof(*rec) + snap + 7) & ~7ul);
	rec = reserve(r, len);
	if (!rec)
		return;
	*rec = (struct ring_rec){
		.len = len,
		.gen = atomic_load(&t->gen),
		.type = (uint8_t)type,
		.lane = m->fw.lane,
		.size = f->size,
		.in_place = (m->fw.flags & AVM_MF_IN_PLACE) != 0,
		.kind = m->kind,
		.actor = actor,
		.src = m->src,
		.arg = f->arg,
		.payload_len = snap ? m->fw.len : 0,
		.snap_len = snap,
		.status = f->status,
		.t_raw = raw_now(t),
		.corr = m->corr,
		.cause = m->cause,
		.addr = f->addr,
		.value = f->value,
	};
	if (snap)
		memcpy(rec + 1, avm_msg_payload(m, NULL), snap);
	commit(r, rec);
}

void avm__trace_msg(avm_runtime *rt, unsigned type, avm_actor_id actor,
		    const struct avm_msg *m)
{
	struct avm_msg_user f;

	avm__msg_flatten(m, &f);
	record(rt, type, actor, m, &f);
}

void avm__trace_reply(avm_runtime *rt, avm_actor_id actor,
		      const struct avm_msg *req, uint64_t value, int err)
{
	struct avm_msg_user f;

	/* The request's fields, with the answer in value and status. */
	avm__msg_flatten(req, &f);
	f.value = value;
	f.status = err;
	record(rt, AVM_TRACE_REPLY, actor, req, &f);
}

void avm__trace_journal(avm_runtime *rt, const struct avm_journal_entry *e)
{
	struct avm_tracer *t = rt->tracer;
	uint64_t total = sizeof(struct ring_rec) + sizeof(struct ring_jx) +
			 (uint64_t)e->data_len + 7;
	struct trace_ring *r;
	struct ring_rec *rec;
	struct ring_jx *jx;

	if (!(r = my_ring(t)))
		return;
	/* Too large for the ring or a reader: lost, as if the ring were full.
	 */
	if (total > r->size / 2 || e->data_len > AVM_TRACE_JOURNAL_DATA) {
		bump(&r->dropped);
		return;
	}
	rec = reserve(r, (uint32_t)(total & ~7ull));
	if (!rec)
		return;
	*rec = (struct ring_rec){
		.len = (uint32_t)(total & ~7ull),
		.gen = atomic_load(&t->gen),
		.type = (uint8_t)(JREC | e->type),
		.kind = e->kind,
		.actor = e->actor,
		.src = e->src,
		.arg = e->arg,
		.payload_len = e->data_len,
		.snap_len = e->data_len,
		.status = e->status,
		.t_raw = raw_now(t),
		.corr = e->corr,
		.cause = e->cause,
		.addr = e->addr,
		.value = e->value,
	};
	jx = (struct ring_jx *)(rec + 1);
	*jx = (struct ring_jx){ .seq = e->seq,
				.dst = e->dst,
				.size = e->size,
				.flags = e->flags,
				.port = e->port,
				.result = e->result };
	if (e->data_len)
		memcpy(jx + 1, e->data, e->data_len);
	commit(r, rec);
}

/* --- Writing (the writer thread, and start/stop) -------------------------- */

/*
 * A full disk (or /dev/full) must not pass unnoticed: say so at once, once,
 * and count as lost both what follows and what sat in stdio's buffer since
 * the last flush that worked (those records never reached the file).
 */
static void write_failed(struct avm_tracer *t, int err)
{
	if (atomic_load_explicit(&t->write_err, memory_order_relaxed))
		return;
	atomic_store_explicit(&t->write_err, err ? err : EIO,
			      memory_order_relaxed);
	atomic_fetch_add_explicit(&t->write_lost, t->written - t->durable,
				  memory_order_relaxed);
	t->written = t->durable;
	avm__log(t->rt, AVM_LOG_ERROR, NULL,
		 "trace: writing %s: %s: the rest of this trace is lost "
		 "(the file holds at most %llu events)",
		 t->path ? t->path : "?", strerror(err ? err : EIO),
		 (unsigned long long)t->durable);
	avm_runtime_data_lost(t->rt);
}

static int put_record(struct avm_tracer *t, const Actorvm__TraceRecord *rec)
{
	size_t n = actorvm__trace_record__get_packed_size(rec);
	uint8_t hdr[10];
	size_t h = 0;
	uint64_t v = n;

	if (atomic_load_explicit(&t->write_err, memory_order_relaxed))
		return -EIO;
	if (n > t->enc_cap) {
		uint8_t *b = realloc(t->enc, n);

		if (!b)
			return -ENOMEM;
		t->enc = b;
		t->enc_cap = n;
	}
	actorvm__trace_record__pack(rec, t->enc);
	do { /* base-128 varint length prefix */
		hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	if (fwrite(hdr, 1, h, t->file) != h ||
	    fwrite(t->enc, 1, n, t->file) != n) {
		write_failed(t, errno);
		return -EIO;
	}
	/* Followers get the record without the prefix; never blocks. */
	if (t->pub_open)
		nng_send(t->pub, t->enc, n, NNG_FLAG_NONBLOCK);
	return 0;
}

/* An event or journal entry: written and counted, or lost once the file
 * failed. */
static int put_counted(struct avm_tracer *t, const Actorvm__TraceRecord *rec)
{
	if (atomic_load_explicit(&t->write_err, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&t->write_lost, 1,
					  memory_order_relaxed);
		return -EIO;
	}
	t->written++;
	return put_record(t, rec);
}

static uint64_t to_ns(struct avm_tracer *t, uint64_t raw)
{
	switch (t->clock) {
	case CLOCK_TSC:
		return raw > t->tsc0 ? (uint64_t)((double)(raw - t->tsc0) *
						  t->ns_per_tick)
				     : 0;
	case CLOCK_MONO:
		return raw > t->mono0 ? raw - t->mono0 : 0;
	default:
		return raw;
	}
}

static int put_event(struct avm_tracer *t, struct trace_ring *r,
		     const struct ring_rec *x)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceEvent ev = ACTORVM__TRACE_EVENT__INIT;

	ev.type = (Actorvm__EventType)x->type;
	ev.t_ns = to_ns(t, x->t_raw);
	ev.actor = x->actor;
	ev.src = x->src;
	ev.thread = r->thread;
	ev.kind = x->kind;
	ev.lane = x->lane;
	ev.corr = x->corr;
	ev.cause = x->cause;
	ev.arg = x->arg;
	ev.addr = x->addr;
	ev.value = x->value;
	ev.size = x->size;
	ev.status = x->status;
	ev.payload.len = x->snap_len;
	ev.payload.data = (uint8_t *)(x + 1);
	ev.payload_len = x->payload_len;
	/* Not on POSTED: the sender's own event says nothing of the path. */
	ev.in_place = x->in_place && x->type != AVM_TRACE_POSTED;
	rec.rec_case = ACTORVM__TRACE_RECORD__REC_EVENT;
	rec.event = &ev;
	return put_counted(t, &rec);
}

static int put_journal(struct avm_tracer *t, struct trace_ring *r,
		       const struct ring_rec *x)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__JournalEntry je = ACTORVM__JOURNAL_ENTRY__INIT;
	const struct ring_jx *jx = (const void *)(x + 1);

	je.actor = x->actor;
	je.seq = jx->seq;
	je.type = (Actorvm__JournalType)(x->type & ~JREC);
	je.t_ns = to_ns(t, x->t_raw);
	je.thread = r->thread;
	je.kind = x->kind;
	je.src = x->src;
	je.dst = jx->dst;
	je.port = jx->port;
	je.corr = x->corr;
	je.cause = x->cause;
	je.arg = x->arg;
	je.addr = x->addr;
	je.value = x->value;
	je.size = jx->size;
	je.status = x->status;
	je.result = jx->result;
	je.flags = jx->flags;
	je.data.len = x->snap_len;
	je.data.data = (uint8_t *)(jx + 1);
	rec.rec_case = ACTORVM__TRACE_RECORD__REC_JOURNAL;
	rec.journal = &je;
	return put_counted(t, &rec);
}

static void put_loss(struct avm_tracer *t, struct trace_ring *r)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceLoss loss = ACTORVM__TRACE_LOSS__INIT;
	uint64_t d = atomic_load_explicit(&r->dropped, memory_order_relaxed);

	if (d == r->dropped_seen)
		return;
	loss.thread = r->thread;
	loss.dropped = d - r->dropped_seen;
	t->events_lost += loss.dropped;
	r->dropped_seen = d;
	rec.rec_case = ACTORVM__TRACE_RECORD__REC_LOSS;
	rec.loss = &loss;
	put_record(t, &rec);
}

static void drain_ring(struct avm_tracer *t, struct trace_ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	/* Acquire pairs with commit(): the records up to head are complete. */
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint32_t gen = atomic_load(&t->gen);

	while (tail != head) {
		const struct ring_rec *x =
			(const void *)(r->buf + (tail & (r->size - 1)));

		if (x->gen == gen && (x->type & JREC))
			put_journal(t, r, x);
		else if (x->gen == gen)
			put_event(t, r, x);
		tail += x->len;
	}
	/* Release: the producer may reuse the space once it sees this. */
	atomic_store_explicit(&r->tail, tail, memory_order_release);
	put_loss(t, r);
}

static void flush(struct avm_tracer *t)
{
	if (atomic_load_explicit(&t->write_err, memory_order_relaxed))
		return;
	if (fflush(t->file))
		write_failed(t, errno);
	else
		t->durable = t->written;
}

static void drain_all(struct avm_tracer *t)
{
	struct trace_ring *r;

	pthread_mutex_lock(&t->lock);
	r = t->rings;
	pthread_mutex_unlock(&t->lock);
	/* Rings are only ever prepended: the list from r on is stable. */
	for (; r; r = r->next)
		drain_ring(t, r);
	flush(t);
}

static void pin_self(struct avm_tracer *t, int cpu)
{
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err)
		avm__log(t->rt, AVM_LOG_WARN, NULL,
			 "trace: cannot pin the writer to CPU %d (%s)", cpu,
			 strerror(err));
}

static void *writer_main(void *arg)
{
	struct avm_tracer *t = arg;
	struct timespec until;

	if (t->pin_writer)
		pin_self(t, t->writer_cpu);
	pthread_mutex_lock(&t->lock);
	while (!t->quit) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)t->flush_ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&t->wake, &t->lock, &until);
		pthread_mutex_unlock(&t->lock);
		drain_all(t);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static enum trace_clock pick_clock(avm_runtime *rt)
{
	char line[4096];
	bool constant = false, nonstop = false;
	FILE *f;

	if (rt->cfg.exec == AVM_EXEC_DETERMINISTIC)
		return CLOCK_VIRTUAL;
	/* rdtsc (~10 ns) beats clock_gettime (~25 ns), if it is steady. */
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f) && !(constant && nonstop)) {
		if (strncmp(line, "flags", 5))
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
	}
	if (f)
		fclose(f);
	return constant && nonstop ? CLOCK_TSC : CLOCK_MONO;
}

static void calibrate(struct avm_tracer *t)
{
	uint64_t m1, c1;

	struct timespec rt;

	t->clock = pick_clock(t->rt);
	clock_gettime(CLOCK_REALTIME, &rt);
	t->real0 = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	t->mono0 = mono_ns();
	t->tsc0 = __rdtsc();
	if (t->clock != CLOCK_TSC)
		return;
	/* 2 ms of spinning gives the tick length to about 1e-5. */
	do {
		m1 = mono_ns();
	} while (m1 - t->mono0 < 2000000);
	c1 = __rdtsc();
	t->ns_per_tick = (double)(m1 - t->mono0) / (double)(c1 - t->tsc0);
}

static const char *clock_name(enum trace_clock c)
{
	return c == CLOCK_TSC	 ? "tsc"
	       : c == CLOCK_MONO ? "monotonic"
				 : "virtual";
}

static int put_header(struct avm_tracer *t)
{
	avm_runtime *rt = t->rt;
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceHeader h = ACTORVM__TRACE_HEADER__INIT;
	Actorvm__ActorInfo *info = calloc(rt->n_actors + 1, sizeof(*info));
	Actorvm__ActorInfo **ptrs = calloc(rt->n_actors + 1, sizeof(*ptrs));
	int err = -ENOMEM;

	if (!info || !ptrs)
		goto out_free;
	for (unsigned i = 0; i < rt->n_actors; i++) {
		actorvm__actor_info__init(&info[i]);
		info[i].id = i;
		info[i].name = rt->actors[i]->name;
		info[i].type = (char *)rt->actors[i]->ops->type;
		ptrs[i] = &info[i];
	}
	h.version = AVM_TRACE_VERSION;
	h.clock = (char *)clock_name(t->clock);
	h.start_ns = t->clock == CLOCK_VIRTUAL ? 0 : t->mono0;
	h.start_realtime_ns = t->clock == CLOCK_VIRTUAL ? 0 : t->real0;
	h.executor = (char *)rt->exec->name;
	h.n_actors = rt->n_actors;
	h.actors = ptrs;
	h.n_journaled = t->n_journaled;
	h.journaled = t->journaled;
	h.manifest.len = t->manifest_len;
	h.manifest.data = t->manifest;
	h.manifest_path = t->manifest_path ? t->manifest_path : "";
	h.vm = t->vm ? t->vm : "";
	rec.rec_case = ACTORVM__TRACE_RECORD__REC_HEADER;
	rec.header = &h;
	err = fwrite(AVM_TRACE_MAGIC, 1, 8, t->file) == 8 ? put_record(t, &rec)
							  : -EIO;
out_free:
	free(ptrs);
	free(info);
	return err;
}

static int put_footer(struct avm_tracer *t)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceFooter f = ACTORVM__TRACE_FOOTER__INIT;

	f.events = t->written;
	f.dropped = t->events_lost;
	rec.rec_case = ACTORVM__TRACE_RECORD__REC_FOOTER;
	rec.footer = &f;
	return put_record(t, &rec);
}

/* Under t->lock. Names to bits; NULL selects every actor. */
static int set_actors(struct avm_tracer *t, const char *const *names)
{
	avm_actor_id id;
	uint64_t bits[t->n_words];

	memset(bits, names ? 0 : 0xff, sizeof(bits));
	for (; names && *names; names++) {
		if (avm_actor_find(t->rt, *names, &id))
			return -ENOENT;
		bits[id / 64] |= 1ull << (id % 64);
	}
	for (unsigned i = 0; i < t->n_words; i++)
		atomic_store_explicit(&t->actor_bits[i], bits[i],
				      memory_order_relaxed);
	return 0;
}

int avm_trace_filter(avm_runtime *rt, uint64_t kinds, const char *const *actors)
{
	struct avm_tracer *t = rt->tracer;
	int err;

	pthread_mutex_lock(&t->lock);
	err = set_actors(t, actors);
	if (!err)
		atomic_store(&t->kinds, kinds ? kinds : AVM_TRACE_ALL_KINDS);
	pthread_mutex_unlock(&t->lock);
	return err;
}

static int open_outputs(struct avm_tracer *t, const struct avm_trace_options *o)
{
	char why[256] = "cannot open the publisher socket";
	int err;

	t->file = fopen(o->path, "wb");
	if (!t->file)
		return -errno;
	free(t->path); /* the last trace's: kept for messages until now */
	t->path = strdup(o->path);
	if (!o->follow_url)
		return 0;
	/* avm_listen(): the ipc checks, the 0600 mode and nng 1.5.2's lost
	 * listener, as for every other listening socket. */
	err = nng_pub0_open(&t->pub)
		      ? -ENOMEM
		      : avm_listen(t->pub, o->follow_url, &t->pub_listener, why,
				   sizeof(why));
	if (err) {
		if (err != -ENOMEM)
			nng_close(t->pub);
		fclose(t->file);
		t->file = NULL;
		avm__log(t->rt, AVM_LOG_ERROR, NULL, "trace: %s", why);
		return -EADDRNOTAVAIL;
	}
	t->pub_open = true;
	return 0;
}

static void *close_pub(void *arg)
{
	nng_socket s = { .id = (uint32_t)(uintptr_t)arg };

	nng_close(s);
	return NULL;
}

/*
 * nng 1.5.2 (Debian 12) can deadlock in nng_close() while a pipe is active
 * (nanomsg/nng#1543, #1813). A trace stop must not hang on it: close the
 * publisher on a detached thread; at worst that thread and socket leak.
 */
static void close_pub_async(struct avm_tracer *t)
{
	pthread_attr_t attr;
	pthread_t th;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, close_pub, (void *)(uintptr_t)t->pub.id))
		nng_close(t->pub); /* no thread: close here, as before */
	pthread_attr_destroy(&attr);
}

static void close_outputs(struct avm_tracer *t)
{
	/* The watchdog lets go of the listener before the socket closes. */
	avm_listener_free(t->pub_listener);
	t->pub_listener = NULL;
	if (t->pub_open)
		close_pub_async(t);
	t->pub_open = false;
	if (t->file)
		fclose(t->file);
	t->file = NULL;
}

/* Under t->lock: forget what the rings hold from an earlier trace. */
static void reset_rings(struct avm_tracer *t)
{
	for (struct trace_ring *r = t->rings; r; r = r->next) {
		atomic_store(&r->tail, atomic_load(&r->head));
		r->dropped_seen = atomic_load(&r->dropped);
	}
}

/* Under t->lock. Which actors to journal: a journal starts at init, so
 * only before start; a later trace turns every journal off. */
static int set_journal(struct avm_tracer *t, const char *const *names)
{
	avm_runtime *rt = t->rt;
	unsigned n = 0;
	avm_actor_id id;

	for (const char *const *p = names; p && *p; p++, n++) {
		if (avm_actor_find(rt, *p, &id))
			return -ENOENT;
		if (rt->actors[id]->ops->run)
			return -EINVAL; /* self-driven: not replayable */
		if (rt->actors[id]->iso) {
			/* Its calls happen in another process: not seen. */
			avm__log(rt, AVM_LOG_ERROR, *p,
				 "a device process cannot be journaled");
			return -EINVAL;
		}
	}
	if (n && rt->started)
		return -EBUSY;
	t->journaled = n ? calloc(n, sizeof(*t->journaled)) : NULL;
	if (n && !t->journaled)
		return -ENOMEM;
	for (unsigned i = 0; i < rt->n_actors; i++)
		atomic_store_explicit(&rt->actors[i]->jmode, AVM_JMODE_OFF,
				      memory_order_relaxed);
	for (unsigned i = 0; i < n; i++) {
		avm_actor_find(rt, names[i], &id);
		t->journaled[i] = id;
		rt->actors[id]->jseq = 0;
		atomic_store_explicit(&rt->actors[id]->jmode, AVM_JMODE_RECORD,
				      memory_order_relaxed);
	}
	t->n_journaled = n;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int set_extras(struct avm_tracer *t, const struct avm_trace_options *o)
{
	free_extras(t);
	if (o->manifest && o->manifest_len) {
		t->manifest = malloc(o->manifest_len);
		if (!t->manifest)
			return -ENOMEM;
		memcpy(t->manifest, o->manifest, o->manifest_len);
		t->manifest_len = o->manifest_len;
	}
	t->manifest_path = dup_or_null(o->manifest_path);
	t->vm = dup_or_null(o->vm);
	if ((o->manifest_path && !t->manifest_path) || (o->vm && !t->vm))
		return -ENOMEM;
	return set_journal(t, o->journal);
}

static int begin(struct avm_tracer *t, const struct avm_trace_options *o)
{
	int err = set_actors(t, o->actors) ?: set_extras(t, o);

	if (err)
		return err;
	atomic_store(&t->kinds, o->kinds ? o->kinds : AVM_TRACE_ALL_KINDS);
	/* A power of two (for masking), at least one page. */
	t->ring_bytes = o->ring_bytes	 ? 4096
			: t->n_journaled ? AVM_TRACE_JOURNAL_RING
					 : DEFAULT_RING_BYTES;
	while (t->ring_bytes < o->ring_bytes)
		t->ring_bytes <<= 1;
	t->flush_ms = o->flush_ms ? o->flush_ms : DEFAULT_FLUSH_MS;
	t->pin_writer = o->pin_writer;
	t->writer_cpu = o->writer_cpu;
	err = open_outputs(t, o);
	if (err)
		return err;
	calibrate(t);
	t->written = t->events_lost = t->durable = 0;
	atomic_store(&t->write_lost, 0);
	atomic_store(&t->write_err, 0);
	atomic_fetch_add(&t->gen, 1);
	reset_rings(t);
	err = put_header(t);
	if (err)
		close_outputs(t);
	return err;
}

int avm_trace_start(avm_runtime *rt, const struct avm_trace_options *o)
{
	struct avm_tracer *t = rt->tracer;
	int err;

	if (!o || !o->path)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	err = t->running ? -EALREADY : begin(t, o);
	if (!err) {
		t->quit = false;
		err = -pthread_create(&t->writer, NULL, writer_main, t);
		if (err)
			close_outputs(t);
	}
	if (!err) {
		t->running = true;
		atomic_store(&rt->trace_on, true);
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

int avm_trace_stop(avm_runtime *rt)
{
	struct avm_tracer *t = rt->tracer;
	int err;

	pthread_mutex_lock(&t->lock);
	if (!t->running) {
		pthread_mutex_unlock(&t->lock);
		return 0;
	}
	atomic_store(&rt->trace_on, false);
	t->quit = true;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->writer, NULL);
	drain_all(t); /* what was recorded until trace_on went off */
	put_footer(t);
	flush(t);
	err = -atomic_load(&t->write_err);
	if (err)
		avm__log(rt, AVM_LOG_ERROR, NULL,
			 "trace: %s: %llu events lost to write errors (%s); "
			 "%llu written",
			 t->path ? t->path : "?",
			 (unsigned long long)atomic_load(&t->write_lost),
			 strerror(-err), (unsigned long long)t->written);
	pthread_mutex_lock(&t->lock);
	close_outputs(t);
	t->running = false;
	pthread_mutex_unlock(&t->lock);
	return err;
}

void avm_trace_pause(avm_runtime *rt, bool paused)
{
	struct avm_tracer *t = rt->tracer;

	pthread_mutex_lock(&t->lock);
	if (t->running)
		atomic_store(&rt->trace_on, !paused);
	pthread_mutex_unlock(&t->lock);
}

void avm_trace_get_stats(avm_runtime *rt, struct avm_trace_stats *out)
{
	struct avm_tracer *t = rt->tracer;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&t->lock);
	for (struct trace_ring *r = t->rings; r; r = r->next) {
		out->recorded += atomic_load(&r->recorded);
		out->dropped += atomic_load(&r->dropped);
	}
	out->written = t->written;
	out->lost = atomic_load_explicit(&t->write_lost, memory_order_relaxed);
	out->write_error =
		atomic_load_explicit(&t->write_err, memory_order_relaxed);
	pthread_mutex_unlock(&t->lock);
}
