/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace.pb-c.h"
#include "trace_writer.h"

int tw_raw(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -EIO;
}

int tw_varint(FILE *f, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;

	do {
		b[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	return tw_raw(f, b, n);
}

/* Length prefix, then the packed record. */
static int put_record(FILE *f, const Actorvm__TraceRecord *rec)
{
	size_t len = actorvm__trace_record__get_packed_size(rec);
	uint8_t *buf = malloc(len ? len : 1);
	int ret;

	if (!buf)
		return -ENOMEM;
	actorvm__trace_record__pack(rec, buf);
	ret = tw_varint(f, len);
	if (!ret)
		ret = tw_raw(f, buf, len);
	free(buf);
	return ret;
}

int tw_magic(FILE *f)
{
	return tw_raw(f, AVM_TRACE_MAGIC, 8);
}

/* Fill @rec with @h; @infos and @ptrs hold the actor table. */
static void header_record(const struct tw_header *h, Actorvm__TraceRecord *rec,
			  Actorvm__TraceHeader *th, Actorvm__ActorInfo *infos,
			  Actorvm__ActorInfo **ptrs)
{
	for (unsigned i = 0; i < h->n_actors; i++) {
		actorvm__actor_info__init(&infos[i]);
		infos[i].id = h->actors[i].id;
		infos[i].name = (char *)h->actors[i].name;
		infos[i].type = (char *)h->actors[i].type;
		ptrs[i] = &infos[i];
	}
	th->version = h->version;
	th->clock = (char *)(h->clock ? h->clock : "");
	th->executor = (char *)(h->executor ? h->executor : "");
	th->start_ns = h->start_ns;
	th->n_actors = h->n_actors;
	th->actors = ptrs;
	rec->rec_case = ACTORVM__TRACE_RECORD__REC_HEADER;
	rec->header = th;
}

#define TW_MAX_ACTORS 64

int tw_header(FILE *f, const struct tw_header *h)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceHeader th = ACTORVM__TRACE_HEADER__INIT;
	Actorvm__ActorInfo infos[TW_MAX_ACTORS];
	Actorvm__ActorInfo *ptrs[TW_MAX_ACTORS];

	if (h->n_actors > TW_MAX_ACTORS)
		return -EINVAL;
	header_record(h, &rec, &th, infos, ptrs);
	return put_record(f, &rec);
}

size_t tw_encode_header(const struct tw_header *h, uint8_t *buf, size_t cap)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceHeader th = ACTORVM__TRACE_HEADER__INIT;
	Actorvm__ActorInfo infos[TW_MAX_ACTORS];
	Actorvm__ActorInfo *ptrs[TW_MAX_ACTORS];

	if (h->n_actors > TW_MAX_ACTORS)
		return 0;
	header_record(h, &rec, &th, infos, ptrs);
	if (actorvm__trace_record__get_packed_size(&rec) > cap)
		return 0;
	return actorvm__trace_record__pack(&rec, buf);
}

static void event_msg(const struct avm_trace_event *ev, Actorvm__TraceEvent *e)
{
	e->type = (Actorvm__EventType)ev->type;
	e->t_ns = ev->t_ns;
	e->actor = ev->actor;
	e->src = ev->src;
	e->thread = ev->thread;
	e->kind = ev->kind;
	e->lane = ev->lane;
	e->corr = ev->corr;
	e->cause = ev->cause;
	e->arg = ev->arg;
	e->addr = ev->addr;
	e->value = ev->value;
	e->size = ev->size;
	e->status = ev->status;
	e->payload_len = ev->payload_len;
	e->in_place = ev->in_place;
	if (ev->payload) {
		e->payload.data = (uint8_t *)ev->payload;
		e->payload.len = ev->payload_len < AVM_TRACE_SNAPLEN
					 ? ev->payload_len
					 : AVM_TRACE_SNAPLEN;
	}
}

int tw_event(FILE *f, const struct avm_trace_event *ev)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceEvent e = ACTORVM__TRACE_EVENT__INIT;

	event_msg(ev, &e);
	rec.rec_case = ACTORVM__TRACE_RECORD__REC_EVENT;
	rec.event = &e;
	return put_record(f, &rec);
}

size_t tw_encode_event(const struct avm_trace_event *ev, uint8_t *buf,
		       size_t cap)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceEvent e = ACTORVM__TRACE_EVENT__INIT;

	event_msg(ev, &e);
	rec.rec_case = ACTORVM__TRACE_RECORD__REC_EVENT;
	rec.event = &e;
	if (actorvm__trace_record__get_packed_size(&rec) > cap)
		return 0;
	return actorvm__trace_record__pack(&rec, buf);
}

int tw_loss(FILE *f, uint32_t thread, uint64_t dropped)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceLoss l = ACTORVM__TRACE_LOSS__INIT;

	l.thread = thread;
	l.dropped = dropped;
	rec.rec_case = ACTORVM__TRACE_RECORD__REC_LOSS;
	rec.loss = &l;
	return put_record(f, &rec);
}

int tw_footer(FILE *f, uint64_t events, uint64_t dropped)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceFooter ft = ACTORVM__TRACE_FOOTER__INIT;

	ft.events = events;
	ft.dropped = dropped;
	rec.rec_case = ACTORVM__TRACE_RECORD__REC_FOOTER;
	rec.footer = &ft;
	return put_record(f, &rec);
}

int tw_start(FILE *f, const char *const *names, unsigned n)
{
	struct avm_trace_actor actors[TW_MAX_ACTORS];
	struct tw_header h = { .version = AVM_TRACE_VERSION,
			       .clock = "virtual",
			       .executor = "deterministic",
			       .actors = actors,
			       .n_actors = n };

	if (n > TW_MAX_ACTORS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		actors[i].id = i;
		actors[i].name = names[i];
		actors[i].type = "testdev";
	}
	return tw_magic(f) ?: tw_header(f, &h);
}
