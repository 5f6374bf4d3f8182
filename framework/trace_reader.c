/* SPDX-License-Identifier: MIT */
/*
 * Reading trace files (format in actorvm/trace.h). The input may be
 * truncated (a VM that crashed while recording) or plain garbage, so every
 * length is checked against a cap and against what is left of the file
 * before anything is allocated, and every error names the file and the
 * offset of the record that failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <actorvm/actor.h>
#include <actorvm/trace.h>

#include "trace.pb-c.h"

/* The largest record we accept: an event is far smaller than this; a
 * header carries a manifest (at most 1 MiB), a journal entry at most
 * AVM_TRACE_JOURNAL_DATA bytes of data. */
#define RECORD_MAX   (2u * 1024u * 1024u)
#define VARINT_MAX   10
#define MAGIC_LEN    8
#define ERRMSG_LEN   320
#define N_KIND_NAMES 15

struct avm_trace_reader {
	FILE *f;
	char *path;
	uint64_t off;  /* offset of the next record */
	uint64_t size; /* file size, UINT64_MAX when unknown (a pipe) */
	uint8_t *buf;
	size_t cap;
	size_t last_len;     /* body length of the last record read */
	uint8_t *header_raw; /* the header record as encoded */
	size_t header_len;
	Actorvm__TraceRecord *rec; /* the last event: owns its payload */
	struct avm_trace_info info;
	struct avm_trace_actor *actors;
	char *clock;
	char *executor;
	uint32_t *journaled;
	uint8_t *manifest;
	char *manifest_path;
	char *vm;
	int err; /* sticky: once broken, always broken */
	char errmsg[ERRMSG_LEN];
};

static void copy_err(const avm_trace_reader *r, char *err, size_t err_len)
{
	if (err && err_len)
		snprintf(err, err_len, "%s", r->errmsg);
}

/* Record error @code at @off, with a message naming the file. */
__attribute__((format(printf, 6, 7))) static int fail(avm_trace_reader *r,
						      char *err, size_t err_len,
						      uint64_t off, int code,
						      const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(r->errmsg, sizeof(r->errmsg), "%s: offset %llu: %s", r->path,
		 (unsigned long long)off, what);
	r->err = code;
	copy_err(r, err, err_len);
	return code;
}

/* One byte; 0 at end of file, -EIO on a read error. */
static int get_byte(avm_trace_reader *r, uint8_t *b)
{
	int c = getc(r->f);

	if (c == EOF)
		return ferror(r->f) ? -EIO : 0;
	*b = (uint8_t)c;
	return 1;
}

/*
 * The length prefix of the record at r->off. Returns 1, 0 at a clean end
 * of file (no byte at all), or a negative errno with the message set.
 */
static int read_length(avm_trace_reader *r, uint64_t *len, unsigned *n,
		       char *err, size_t err_len)
{
	uint64_t v = 0;
	uint8_t b;
	int ret;

	for (*n = 0; *n < VARINT_MAX; (*n)++) {
		ret = get_byte(r, &b);
		if (ret < 0)
			return fail(r, err, err_len, r->off + *n, -EIO,
				    "read error: %s", strerror(EIO));
		if (ret == 0 && *n == 0)
			return 0;
		if (ret == 0)
			return fail(r, err, err_len, r->off, -EINVAL,
				    "truncated record length");
		v |= (uint64_t)(b & 0x7f) << (7 * *n);
		if (!(b & 0x80)) {
			(*n)++;
			*len = v;
			return 1;
		}
	}
	return fail(r, err, err_len, r->off, -EINVAL,
		    "corrupted record length (varint longer than %d bytes)",
		    VARINT_MAX);
}

static int check_length(avm_trace_reader *r, uint64_t len, unsigned n,
			char *err, size_t err_len)
{
	uint64_t left;

	if (len > RECORD_MAX)
		return fail(r, err, err_len, r->off, -EINVAL,
			    "record length %llu exceeds the limit of %u bytes",
			    (unsigned long long)len, RECORD_MAX);
	if (r->size == UINT64_MAX)
		return 0;
	left = r->size > r->off + n ? r->size - r->off - n : 0;
	if (len > left)
		return fail(r, err, err_len, r->off, -EINVAL,
			    "record of %llu bytes runs past the end of the "
			    "file (%llu bytes left)",
			    (unsigned long long)len, (unsigned long long)left);
	return 0;
}

/* Read the body of a record of @len bytes into r->buf. */
static int read_body(avm_trace_reader *r, uint64_t len, char *err,
		     size_t err_len)
{
	size_t got;

	if (len > r->cap) {
		uint8_t *p = realloc(r->buf, len);

		if (!p)
			return fail(r, err, err_len, r->off, -ENOMEM,
				    "out of memory for %llu bytes",
				    (unsigned long long)len);
		r->buf = p;
		r->cap = len;
	}
	got = len ? fread(r->buf, 1, len, r->f) : 0;
	if (got < len && ferror(r->f))
		return fail(r, err, err_len, r->off, -EIO, "read error: %s",
			    strerror(EIO));
	if (got < len)
		return fail(r, err, err_len, r->off, -EINVAL,
			    "record of %llu bytes runs past the end of the "
			    "file (%zu bytes left)",
			    (unsigned long long)len, got);
	return 0;
}

/*
 * The next record: 1 with *@out set (free it with
 * actorvm__trace_record__free_unpacked), 0 at the end of the file.
 * *@at gets the record's offset.
 */
static int read_record(avm_trace_reader *r, Actorvm__TraceRecord **out,
		       uint64_t *at, char *err, size_t err_len)
{
	uint64_t len = 0;
	unsigned n = 0;
	int ret;

	*at = r->off;
	ret = read_length(r, &len, &n, err, err_len);
	if (ret <= 0)
		return ret;
	ret = check_length(r, len, n, err, err_len);
	if (!ret)
		ret = read_body(r, len, err, err_len);
	if (ret)
		return ret;
	*out = actorvm__trace_record__unpack(NULL, len, r->buf);
	if (!*out)
		return fail(r, err, err_len, r->off, -EINVAL,
			    "corrupted record of %llu bytes (protobuf "
			    "decoding failed)",
			    (unsigned long long)len);
	r->off += n + len;
	r->last_len = (size_t)len;
	return 1;
}

static char *dup_str(const char *s)
{
	return strdup(s ? s : "");
}

static int take_actors(avm_trace_reader *r, const Actorvm__TraceHeader *h)
{
	r->actors = calloc(h->n_actors ? h->n_actors : 1, sizeof(*r->actors));
	if (!r->actors)
		return -ENOMEM;
	for (size_t i = 0; i < h->n_actors; i++) {
		struct avm_trace_actor *a = &r->actors[i];

		a->id = h->actors[i]->id;
		a->name = dup_str(h->actors[i]->name);
		a->type = dup_str(h->actors[i]->type);
		/* Count as we go, so that close frees what was copied. */
		r->info.n_actors = (unsigned)i + 1;
		if (!a->name || !a->type)
			return -ENOMEM;
	}
	r->info.actors = r->actors;
	return 0;
}

/* The journal and manifest extras (empty in traces without them). */
static int take_extras(avm_trace_reader *r, const Actorvm__TraceHeader *h)
{
	r->journaled = calloc(h->n_journaled + 1, sizeof(*r->journaled));
	r->manifest = malloc(h->manifest.len + 1);
	r->manifest_path = dup_str(h->manifest_path);
	r->vm = dup_str(h->vm);
	if (!r->journaled || !r->manifest || !r->manifest_path || !r->vm)
		return -ENOMEM;
	if (h->n_journaled)
		memcpy(r->journaled, h->journaled,
		       h->n_journaled * sizeof(*r->journaled));
	if (h->manifest.len)
		memcpy(r->manifest, h->manifest.data, h->manifest.len);
	r->manifest[h->manifest.len] = 0;
	r->info.journaled = r->journaled;
	r->info.n_journaled = (unsigned)h->n_journaled;
	r->info.manifest = h->manifest.len ? r->manifest : NULL;
	r->info.manifest_len = h->manifest.len;
	r->info.manifest_path = r->manifest_path;
	r->info.vm = r->vm;
	return 0;
}

static int take_header(avm_trace_reader *r, const Actorvm__TraceHeader *h,
		       uint64_t at, char *err, size_t err_len)
{
	if (h->version != AVM_TRACE_VERSION)
		return fail(r, err, err_len, at, -EPROTONOSUPPORT,
			    "format version %u not supported (this reader "
			    "reads version %d)",
			    h->version, AVM_TRACE_VERSION);
	r->info.version = h->version;
	r->clock = dup_str(h->clock);
	r->executor = dup_str(h->executor);
	if (!r->clock || !r->executor || take_actors(r, h) || take_extras(r, h))
		return fail(r, err, err_len, at, -ENOMEM, "out of memory");
	r->info.clock = r->clock;
	r->info.executor = r->executor;
	r->info.start_ns = h->start_ns;
	r->info.start_realtime_ns = h->start_realtime_ns;
	return 0;
}

/* The header record as encoded, for avm_trace_header_raw(). */
static int keep_header(avm_trace_reader *r, uint64_t at, char *err,
		       size_t err_len)
{
	r->header_raw = malloc(r->last_len ? r->last_len : 1);
	if (!r->header_raw)
		return fail(r, err, err_len, at, -ENOMEM, "out of memory");
	memcpy(r->header_raw, r->buf, r->last_len);
	r->header_len = r->last_len;
	return 0;
}

/* The magic, then a header as the first record. */
static int read_start(avm_trace_reader *r, char *err, size_t err_len)
{
	Actorvm__TraceRecord *rec = NULL;
	char magic[MAGIC_LEN];
	uint64_t at;
	int ret;

	if (fread(magic, 1, MAGIC_LEN, r->f) != MAGIC_LEN ||
	    memcmp(magic, AVM_TRACE_MAGIC, MAGIC_LEN))
		return fail(r, err, err_len, 0, -EINVAL,
			    "not a trace file (no \"%s\" magic)",
			    AVM_TRACE_MAGIC);
	r->off = MAGIC_LEN;
	ret = read_record(r, &rec, &at, err, err_len);
	if (ret == 0)
		return fail(r, err, err_len, at, -EINVAL,
			    "no header: the file ends after the magic");
	if (ret < 0)
		return ret;
	if (rec->rec_case == ACTORVM__TRACE_RECORD__REC_HEADER)
		ret = take_header(r, rec->header, at, err, err_len)
			      ?: keep_header(r, at, err, err_len);
	else
		ret = fail(r, err, err_len, at, -EINVAL,
			   "the first record is not a header");
	actorvm__trace_record__free_unpacked(rec, NULL);
	return ret;
}

static uint64_t file_size(FILE *f)
{
	struct stat st;

	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode))
		return UINT64_MAX;
	return (uint64_t)st.st_size;
}

int avm_trace_open(const char *path, avm_trace_reader **out, char *err,
		   size_t err_len)
{
	avm_trace_reader *r;
	int ret;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		if (err && err_len)
			snprintf(err, err_len, "%s: out of memory", path);
		return -ENOMEM;
	}
	r->f = fopen(path, "rb");
	if (!r->f) {
		ret = -errno;
		if (err && err_len)
			snprintf(err, err_len, "%s: %s", path, strerror(-ret));
		avm_trace_close(r);
		return ret;
	}
	r->size = file_size(r->f);
	ret = read_start(r, err, err_len);
	if (ret) {
		avm_trace_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* Fields the C struct holds in fewer bits than the schema allows. */
static int check_event(avm_trace_reader *r, const Actorvm__TraceEvent *e,
		       uint64_t at, char *err, size_t err_len)
{
	int type = (int)e->type;

	if (type < AVM_TRACE_POSTED || type > AVM_TRACE_REPLY)
		return fail(r, err, err_len, at, -EINVAL,
			    "unknown event type %d", type);
	if (e->kind > UINT16_MAX || e->lane > UINT8_MAX || e->size > UINT8_MAX)
		return fail(r, err, err_len, at, -EINVAL,
			    "event field out of range (kind %u lane %u "
			    "size %u)",
			    e->kind, e->lane, e->size);
	if (e->payload.len > AVM_TRACE_SNAPLEN)
		return fail(r, err, err_len, at, -EINVAL,
			    "payload of %zu bytes exceeds the snap length %d",
			    e->payload.len, AVM_TRACE_SNAPLEN);
	/* Readers may use min(payload_len, snaplen) bytes: they must exist. */
	if (e->payload.len && e->payload.len < e->payload_len &&
	    e->payload.len < AVM_TRACE_SNAPLEN)
		return fail(r, err, err_len, at, -EINVAL,
			    "payload of %zu bytes, short of its length %u",
			    e->payload.len, e->payload_len);
	return 0;
}

static void fill_event(struct avm_trace_event *ev, const Actorvm__TraceEvent *e)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = (uint8_t)e->type;
	ev->lane = (uint8_t)e->lane;
	ev->size = (uint8_t)e->size;
	ev->kind = (uint16_t)e->kind;
	ev->actor = e->actor;
	ev->src = e->src;
	ev->thread = e->thread;
	ev->arg = e->arg;
	ev->status = e->status;
	ev->t_ns = e->t_ns;
	ev->corr = e->corr;
	ev->cause = e->cause;
	ev->addr = e->addr;
	ev->value = e->value;
	ev->in_place = e->in_place;
	ev->payload = e->payload.len ? e->payload.data : NULL;
	/* A recorder that left the full length out still kept the bytes. */
	ev->payload_len = e->payload_len > e->payload.len
				  ? e->payload_len
				  : (uint32_t)e->payload.len;
}

/* Account a loss or footer record; 1 if @rec was an event to return. */
static int account(avm_trace_reader *r, Actorvm__TraceRecord *rec, uint64_t at,
		   char *err, size_t err_len)
{
	switch (rec->rec_case) {
	case ACTORVM__TRACE_RECORD__REC_EVENT:
		return 1;
	case ACTORVM__TRACE_RECORD__REC_LOSS:
		r->info.lost += rec->loss->dropped;
		return 0;
	case ACTORVM__TRACE_RECORD__REC_FOOTER:
		r->info.complete = true;
		r->info.footer_events = rec->footer->events;
		r->info.footer_dropped = rec->footer->dropped;
		return 0;
	case ACTORVM__TRACE_RECORD__REC_HEADER:
		return fail(r, err, err_len, at, -EINVAL,
			    "a second header in the middle of the file");
	default:
		/* A record kind from a newer writer: skip it. */
		return 0;
	}
}

static int check_journal(avm_trace_reader *r, const Actorvm__JournalEntry *j,
			 uint64_t at, char *err, size_t err_len)
{
	if ((int)j->type < AVM_J_INIT || (int)j->type > AVM_J_TYPE_MAX)
		return fail(r, err, err_len, at, -EINVAL,
			    "unknown journal entry type %d", (int)j->type);
	if (j->kind > UINT16_MAX)
		return fail(r, err, err_len, at, -EINVAL,
			    "journal entry kind %u out of range", j->kind);
	if (j->data.len > AVM_TRACE_JOURNAL_DATA)
		return fail(r, err, err_len, at, -EINVAL,
			    "journal entry of %zu bytes exceeds %d",
			    j->data.len, AVM_TRACE_JOURNAL_DATA);
	return 0;
}

static void fill_journal(struct avm_journal_entry *je,
			 const Actorvm__JournalEntry *j)
{
	*je = (struct avm_journal_entry){
		.type = (uint8_t)j->type,
		.kind = (uint16_t)j->kind,
		.actor = j->actor,
		.thread = j->thread,
		.src = j->src,
		.dst = j->dst,
		.port = j->port,
		.arg = j->arg,
		.size = j->size,
		.status = j->status,
		.result = j->result,
		.flags = j->flags,
		.seq = j->seq,
		.t_ns = j->t_ns,
		.corr = j->corr,
		.cause = j->cause,
		.addr = j->addr,
		.value = j->value,
		.data_len = (uint32_t)j->data.len,
		.data = j->data.len ? j->data.data : NULL,
	};
}

/* What account() leaves to check: an event's or a journal entry's fields. */
static int check_record(avm_trace_reader *r, const Actorvm__TraceRecord *rec,
			uint64_t at, char *err, size_t err_len)
{
	switch (rec->rec_case) {
	case ACTORVM__TRACE_RECORD__REC_EVENT:
		return check_event(r, rec->event, at, err, err_len);
	case ACTORVM__TRACE_RECORD__REC_JOURNAL:
		return check_journal(r, rec->journal, at, err, err_len);
	default:
		return 0;
	}
}

/*
 * The next record of kind @want (REC__NOT_SET: any) into r->rec, checked
 * and accounted: 1, 0 at the end of the file, or a negative errno.
 */
static int next_record(avm_trace_reader *r, int want, char *err, size_t err_len)
{
	Actorvm__TraceRecord *rec;
	uint64_t at;
	int ret;

	if (r->rec) {
		actorvm__trace_record__free_unpacked(r->rec, NULL);
		r->rec = NULL;
	}
	for (;;) {
		if (r->err) {
			copy_err(r, err, err_len);
			return r->err;
		}
		ret = read_record(r, &rec, &at, err, err_len);
		if (ret <= 0)
			return ret;
		ret = account(r, rec, at, err, err_len);
		if (ret >= 0)
			ret = check_record(r, rec, at, err, err_len);
		if (ret >= 0 && (want == ACTORVM__TRACE_RECORD__REC__NOT_SET ||
				 (int)rec->rec_case == want)) {
			r->rec = rec;
			return 1;
		}
		actorvm__trace_record__free_unpacked(rec, NULL);
		if (ret < 0)
			return ret;
	}
}

int avm_trace_next(avm_trace_reader *r, struct avm_trace_event *ev, char *err,
		   size_t err_len)
{
	int ret =
		next_record(r, ACTORVM__TRACE_RECORD__REC_EVENT, err, err_len);

	if (ret == 1)
		fill_event(ev, r->rec->event);
	return ret;
}

int avm_trace_next_journal(avm_trace_reader *r, struct avm_journal_entry *je,
			   char *err, size_t err_len)
{
	int ret = next_record(r, ACTORVM__TRACE_RECORD__REC_JOURNAL, err,
			      err_len);

	if (ret == 1)
		fill_journal(je, r->rec->journal);
	return ret;
}

int avm_trace_next_raw(avm_trace_reader *r, const void **rec, size_t *len,
		       char *err, size_t err_len)
{
	int ret = next_record(r, ACTORVM__TRACE_RECORD__REC__NOT_SET, err,
			      err_len);

	if (ret == 1) {
		*rec = r->buf; /* the body read_record() left there */
		*len = r->last_len;
	}
	return ret;
}

void avm_trace_header_raw(avm_trace_reader *r, const void **rec, size_t *len)
{
	*rec = r->header_raw;
	*len = r->header_len;
}

const char *avm_journal_type_name(unsigned type)
{
	static const char *const names[] = {
		[AVM_J_INIT] = "init",
		[AVM_J_DELIVER] = "deliver",
		[AVM_J_RESET] = "reset",
		[AVM_J_NOW] = "now",
		[AVM_J_DMA_READ] = "dma-read",
		[AVM_J_ROUTE_LEVEL] = "route-level",
		[AVM_J_RAM_BLOCK] = "ram-block",
		[AVM_J_SEND] = "send",
		[AVM_J_REPLY] = "reply",
		[AVM_J_DMA_WRITE] = "dma-write",
		[AVM_J_TIMER_ARM] = "timer-arm",
		[AVM_J_TIMER_CANCEL] = "timer-cancel",
		[AVM_J_FD_WATCH] = "fd-watch",
		[AVM_J_FD_UNWATCH] = "fd-unwatch",
		[AVM_J_DIRECT] = "direct",
		[AVM_J_ROUTE_SET] = "route-set",
		[AVM_J_ROUTE_CLEAR] = "route-clear",
		[AVM_J_VM_EXIT] = "vm-exit",
		[AVM_J_IO] = "io",
		[AVM_J_IO_END] = "io-end",
	};

	if (type >= sizeof(names) / sizeof(names[0]) || !names[type])
		return "?";
	return names[type];
}

const struct avm_trace_info *avm_trace_info(avm_trace_reader *r)
{
	return &r->info;
}

const char *avm_trace_actor_name(avm_trace_reader *r, uint32_t id)
{
	/* Recorders list actors by id from 0: try the direct slot first. */
	if (id < r->info.n_actors && r->actors[id].id == id)
		return r->actors[id].name;
	for (unsigned i = 0; i < r->info.n_actors; i++)
		if (r->actors[i].id == id)
			return r->actors[i].name;
	return NULL;
}

void avm_trace_close(avm_trace_reader *r)
{
	if (!r)
		return;
	if (r->rec)
		actorvm__trace_record__free_unpacked(r->rec, NULL);
	for (unsigned i = 0; i < r->info.n_actors; i++) {
		free((char *)r->actors[i].name);
		free((char *)r->actors[i].type);
	}
	free(r->actors);
	free(r->clock);
	free(r->executor);
	free(r->header_raw);
	free(r->journaled);
	free(r->manifest);
	free(r->manifest_path);
	free(r->vm);
	free(r->buf);
	if (r->f)
		fclose(r->f);
	free(r->path);
	free(r);
}

const char *avm_trace_type_name(unsigned type)
{
	static const char *const names[] = {
		[AVM_TRACE_POSTED] = "posted",
		[AVM_TRACE_DEQUEUED] = "dequeued",
		[AVM_TRACE_HANDLE_START] = "start",
		[AVM_TRACE_HANDLE_END] = "end",
		[AVM_TRACE_REPLY] = "reply",
	};

	if (type >= sizeof(names) / sizeof(names[0]) || !names[type])
		return "?";
	return names[type];
}

const char *avm_msg_kind_name(unsigned kind, char *buf, size_t len)
{
	/* Index = enum avm_msg_kind; 11 is the framework's stop (internal.h),
	 * 12 the answer to avm_ask() (and to a remote request), 13 and 14 a
	 * device process's start and death (isolation.c). */
	static const char *const names[N_KIND_NAMES] = {
		"none",	 "read", "write", "irq",	"dma-done",
		"frame", "char", "timer", "fd",		"continue",
		"reset", "stop", "reply", "proc-start", "proc-exit",
	};

	if (kind < N_KIND_NAMES)
		return names[kind];
	if (!buf || !len)
		return "?";
	if (kind >= AVM_MSG_USER)
		snprintf(buf, len, "user+%u", kind - AVM_MSG_USER);
	else if (kind >= AVM_MSG_CONTROL_USER)
		snprintf(buf, len, "control+%u", kind - AVM_MSG_CONTROL_USER);
	else
		snprintf(buf, len, "kind%u", kind);
	return buf;
}
