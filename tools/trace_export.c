/* SPDX-License-Identifier: MIT */
/*
 * actorvm trace export: Chrome trace-event JSON (opens in ui.perfetto.dev)
 * and pcap of the network frames carried in a trace.
 *
 * JSON: one track (tid) per recording thread, named after the actors it
 * handled; a complete slice ("X") per handled message; a slice on the
 * sender's track for messages from a VCPU (as long as it waited for the
 * reply); and a v1 flow (s, t, f) per message from its posting to its
 * handling to the reply. Flow events bind to the slice open on their track
 * at their time, so slices are written before flow events of equal time.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <actorvm/actor.h>

#include "trace_cli.h"

#define PID 1

/* struct item - one JSON trace event, before sorting by time. */
struct item {
	uint64_t ts;
	uint64_t dur;
	uint64_t flow;
	uint32_t tid;
	char ph;     /* X, s, t or f */
	bool sender; /* the VCPU-side slice of a message */
	const struct tcli_life *life;
};

struct items {
	struct item *v;
	size_t n, cap;
};

struct out {
	FILE *f;
	const struct tcli_trace *t;
	bool first;
};

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			/* Bytes, not UTF-8: keep the file valid JSON. */
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* Microseconds with the nanoseconds as three decimals. */
static void json_ts(FILE *f, const char *key, uint64_t ns)
{
	fprintf(f, ",\"%s\":%" PRIu64 ".%03" PRIu64, key, ns / 1000, ns % 1000);
}

static int add_item(struct items *it, const struct item *x)
{
	if (it->n == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 256;
		struct item *p = realloc(it->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		it->v = p;
		it->cap = cap;
	}
	it->v[it->n++] = *x;
	return 0;
}

static uint64_t delta(const struct avm_trace_event *a,
		      const struct avm_trace_event *b)
{
	return b->t_ns > a->t_ns ? b->t_ns - a->t_ns : 0;
}

/* Slices of life @l: its handling, and its sender's wait if a VCPU's. */
static int life_slices(struct items *it, const struct tcli_life *l)
{
	const struct avm_trace_event *p = l->ev[AVM_TRACE_POSTED];
	const struct avm_trace_event *s = l->ev[AVM_TRACE_HANDLE_START];
	const struct avm_trace_event *e = l->ev[AVM_TRACE_HANDLE_END];
	const struct avm_trace_event *r = l->ev[AVM_TRACE_REPLY];
	struct item x = { .ph = 'X', .life = l };
	int ret = 0;

	if (s && e) {
		x.ts = s->t_ns;
		x.dur = delta(s, e);
		x.tid = s->thread;
		ret = add_item(it, &x);
	}
	if (!ret && p && p->src == AVM_ACTOR_NONE) {
		x.ts = p->t_ns;
		x.dur = r ? delta(p, r) : 0;
		x.tid = p->thread;
		x.sender = true;
		ret = add_item(it, &x);
	}
	return ret;
}

/* The flow of life @l: posted -> handled [-> deferred reply] [-> VCPU]. */
static int life_flow(struct items *it, const struct tcli_life *l, uint64_t id)
{
	const struct avm_trace_event *p = l->ev[AVM_TRACE_POSTED];
	const struct avm_trace_event *s = l->ev[AVM_TRACE_HANDLE_START];
	const struct avm_trace_event *e = l->ev[AVM_TRACE_HANDLE_END];
	const struct avm_trace_event *r = l->ev[AVM_TRACE_REPLY];
	struct item pts[4];
	size_t n = 0;
	int ret = 0;

	if (!p || !s)
		return 0;
	pts[n++] = (struct item){ .ts = p->t_ns, .tid = p->thread };
	pts[n++] = (struct item){ .ts = s->t_ns, .tid = s->thread };
	/* A reply from inside the handler would point at the same slice. */
	if (r && (!e || r->t_ns > e->t_ns || r->thread != s->thread))
		pts[n++] = (struct item){ .ts = r->t_ns, .tid = r->thread };
	if (r && p->src == AVM_ACTOR_NONE)
		pts[n++] = (struct item){ .ts = r->t_ns, .tid = p->thread };
	for (size_t i = 0; i < n && !ret; i++) {
		pts[i].ph = i == 0 ? 's' : i == n - 1 ? 'f' : 't';
		pts[i].flow = id;
		pts[i].life = l;
		ret = add_item(it, &pts[i]);
	}
	return ret;
}

/* Time; slices before flows; longer slices (parents) first. */
static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int rx = x->ph != 'X', ry = y->ph != 'X';

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (rx != ry)
		return rx - ry;
	if (x->dur != y->dur)
		return x->dur > y->dur ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void begin_event(struct out *o, const char *ph, uint32_t tid)
{
	fprintf(o->f, "%s\n{\"ph\":\"%s\",\"pid\":%d,\"tid\":%" PRIu32,
		o->first ? "" : ",", ph, PID, tid);
	o->first = false;
}

static void slice_args(struct out *o, const struct tcli_life *l,
		       const struct avm_trace_event *m)
{
	const struct avm_trace_event *p = l->ev[AVM_TRACE_POSTED];
	const struct avm_trace_event *d = l->ev[AVM_TRACE_DEQUEUED];
	const struct avm_trace_event *r = l->ev[AVM_TRACE_REPLY];
	char buf[TCLI_NAME_LEN];

	fprintf(o->f, ",\"args\":{\"actor\":");
	json_str(o->f, tcli_name(o->t, l->actor, buf, sizeof(buf)));
	fprintf(o->f, ",\"from\":");
	json_str(o->f, tcli_name(o->t, m->src, buf, sizeof(buf)));
	fprintf(o->f,
		",\"corr\":\"0x%" PRIx64 "\",\"cause\":\"0x%" PRIx64
		"\",\"arg\":%" PRIu32 ",\"addr\":\"0x%" PRIx64
		"\",\"value\":\"0x%" PRIx64 "\",\"size\":%u",
		l->corr, m->cause, m->arg, m->addr, m->value, m->size);
	if (p && d)
		fprintf(o->f, ",\"wait_ns\":%" PRIu64, delta(p, d));
	if (r)
		fprintf(o->f, ",\"reply\":\"0x%" PRIx64 "\",\"status\":%d",
			r->value, r->status);
	fprintf(o->f, "}}");
}

static void write_slice(struct out *o, const struct item *x)
{
	const struct tcli_life *l = x->life;
	const struct avm_trace_event *m = l->ev[AVM_TRACE_HANDLE_START];
	char name[2 * TCLI_NAME_LEN + 2], b1[TCLI_NAME_LEN], b2[TCLI_NAME_LEN];

	if (x->sender)
		m = l->ev[AVM_TRACE_POSTED];
	if (x->sender)
		snprintf(name, sizeof(name), "%s %s",
			 avm_msg_kind_name(l->kind, b1, sizeof(b1)),
			 tcli_name(o->t, l->actor, b2, sizeof(b2)));
	else
		snprintf(name, sizeof(name), "%s",
			 avm_msg_kind_name(l->kind, b1, sizeof(b1)));
	begin_event(o, "X", x->tid);
	fprintf(o->f, ",\"cat\":\"%s\",\"name\":", x->sender ? "send" : "msg");
	json_str(o->f, name);
	json_ts(o->f, "ts", x->ts);
	json_ts(o->f, "dur", x->dur);
	slice_args(o, l, m);
}

static void write_item(struct out *o, const struct item *x)
{
	char ph[2] = { x->ph, 0 };

	if (x->ph == 'X') {
		write_slice(o, x);
		return;
	}
	begin_event(o, ph, x->tid);
	fprintf(o->f, ",\"cat\":\"flow\",\"name\":\"message\",\"id\":%" PRIu64,
		x->flow);
	json_ts(o->f, "ts", x->ts);
	fprintf(o->f, "%s}", x->ph == 'f' ? ",\"bp\":\"e\"" : "");
}

struct pair {
	uint32_t thread, actor;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return (x->actor > y->actor) - (x->actor < y->actor);
}

/* The track of thread @p[0].thread: the actors it ran, or "vcpu". */
static size_t write_thread_name(struct out *o, const struct pair *p, size_t n)
{
	char buf[TCLI_NAME_LEN], name[256] = "";
	size_t i, len = 0;

	for (i = 0; i < n && p[i].thread == p[0].thread; i++) {
		if (i && p[i].actor == p[i - 1].actor)
			continue;
		len += (size_t)snprintf(
			name + len, len < sizeof(name) ? sizeof(name) - len : 0,
			"%s%s", len ? ", " : "",
			tcli_name(o->t, p[i].actor, buf, sizeof(buf)));
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
	}
	begin_event(o, "M", p[0].thread);
	fprintf(o->f, ",\"name\":\"thread_name\",\"args\":{\"name\":");
	json_str(o->f, name);
	fprintf(o->f, "}}");
	return i;
}

static int write_tracks(struct out *o)
{
	const struct tcli_trace *t = o->t;
	struct pair *p = malloc((t->n ? t->n : 1) * sizeof(*p));
	char name[TCLI_NAME_LEN + 32];
	size_t n = 0;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct avm_trace_event *e = &t->ev[i];

		if (e->type == AVM_TRACE_HANDLE_START)
			p[n++] = (struct pair){ e->thread, e->actor };
		else if (e->type == AVM_TRACE_POSTED &&
			 e->src == AVM_ACTOR_NONE)
			p[n++] = (struct pair){ e->thread, AVM_ACTOR_NONE };
	}
	qsort(p, n, sizeof(*p), cmp_pair);
	begin_event(o, "M", 0);
	fprintf(o->f, ",\"name\":\"process_name\",\"args\":{\"name\":");
	snprintf(name, sizeof(name), "actorvm (%s executor)",
		 t->info->executor);
	json_str(o->f, name);
	fprintf(o->f, "}}");
	for (size_t i = 0; i < n;)
		i += write_thread_name(o, p + i, n - i);
	free(p);
	return 0;
}

static int build_items(struct items *it, const struct tcli_life *lives,
		       size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = life_slices(it, &lives[i])
			      ?: life_flow(it, &lives[i], i + 1);
	/* A trace without events has no array: qsort(NULL) is undefined. */
	if (!ret && it->n)
		qsort(it->v, it->n, sizeof(*it->v), cmp_item);
	return ret;
}

static int export_chrome(FILE *f, const struct tcli_trace *t,
			 const struct tcli_filter *flt)
{
	struct out o = { .f = f, .t = t, .first = true };
	struct items it = { 0 };
	struct tcli_life *lives = NULL;
	size_t n;
	int ret;

	ret = tcli_lives(t, flt, &lives, &n);
	if (!ret)
		ret = build_items(&it, lives, n);
	if (!ret) {
		fprintf(f, "{\"displayTimeUnit\":\"ns\",\"otherData\":{"
			   "\"clock\":");
		json_str(f, t->info->clock);
		fprintf(f, ",\"executor\":");
		json_str(f, t->info->executor);
		fprintf(f, "},\"traceEvents\":[");
		ret = write_tracks(&o);
	}
	for (size_t i = 0; !ret && i < it.n; i++)
		write_item(&o, &it.v[i]);
	if (!ret)
		fprintf(f, "\n]}\n");
	free(it.v);
	free(lives);
	return ret;
}

static void put32(FILE *f, uint32_t v)
{
	fwrite(&v, sizeof(v), 1, f);
}

/*
 * Classic pcap with nanosecond timestamps (magic 0xa1b23c4d), in host
 * byte order as readers expect; times are since the start of the trace.
 */
static int export_pcap(FILE *f, const struct tcli_trace *t,
		       const struct tcli_filter *flt)
{
	static const uint16_t ver[2] = { 2, 4 };

	put32(f, 0xa1b23c4d);
	fwrite(ver, sizeof(ver), 1, f);
	put32(f, 0); /* thiszone */
	put32(f, 0); /* sigfigs */
	put32(f, AVM_TRACE_SNAPLEN);
	put32(f, 1); /* LINKTYPE_ETHERNET */
	for (size_t i = 0; i < t->n; i++) {
		const struct avm_trace_event *e = &t->ev[i];
		uint64_t ts;
		uint32_t cap;

		if (e->type != AVM_TRACE_POSTED || e->kind != AVM_MSG_FRAME ||
		    !e->payload || !tcli_filter_match(flt, e))
			continue;
		cap = e->payload_len < AVM_TRACE_SNAPLEN ? e->payload_len
							 : AVM_TRACE_SNAPLEN;
		/* Wall-clock stamps where the trace has them (tcpdump shows
		 * dates), else time since the trace started. */
		ts = t->info->start_realtime_ns + e->t_ns;
		put32(f, (uint32_t)(ts / 1000000000));
		put32(f, (uint32_t)(ts % 1000000000));
		put32(f, cap);
		put32(f, e->payload_len);
		fwrite(e->payload, 1, cap, f);
	}
	return 0;
}

static void export_help(FILE *out)
{
	fprintf(out, "usage: actorvm trace export --format FORMAT [-o OUT] "
		     "[OPTIONS] FILE\n\n");
	fprintf(out, "Formats:\n");
	fprintf(out, "  chrome   Chrome trace-event JSON: open it at "
		     "https://ui.perfetto.dev\n");
	fprintf(out, "           (or chrome://tracing). A track per "
		     "recording thread, named after\n");
	fprintf(out, "           its actors (\"vcpu\" for VCPU threads); a "
		     "slice per handled message;\n");
	fprintf(out, "           on VCPU tracks a slice per access, as long "
		     "as the VCPU waited;\n");
	fprintf(out, "           flow arrows from posting to handling to "
		     "the reply.\n");
	fprintf(out, "  pcap     the network frames (kind frame, when "
		     "posted) as a pcap file\n");
	fprintf(out, "           (Ethernet, nanosecond wall-clock stamps, "
		     "or time since the\n");
	fprintf(out, "           trace start for virtual-time traces), "
		     "for\n");
	fprintf(out, "           tcpdump -r or Wireshark.\n\n");
	fprintf(out, "Options:\n");
	fprintf(out, "  -f, --format FORMAT  chrome or pcap\n");
	fprintf(out, "  -o, --output OUT     write to OUT (default: standard "
		     "output)\n");
	fprintf(out, "  -h, --help           this help\n");
	tcli_filter_help(out);
}

static int export_to(FILE *f, const char *path, const char *format,
		     struct tcli_filter *flt)
{
	struct tcli_trace t;
	char err[TCLI_ERR_LEN];
	int rc = TCLI_ERR;

	if (tcli_load(&t, path)) {
		fprintf(stderr, "actorvm trace: %s\n", t.errmsg);
		goto out;
	}
	if (tcli_filter_resolve(flt, &t, err, sizeof(err))) {
		fprintf(stderr, "actorvm trace: %s\n", err);
		goto out;
	}
	if (!strcmp(format, "pcap") ? export_pcap(f, &t, flt)
				    : export_chrome(f, &t, flt)) {
		fprintf(stderr, "actorvm trace: out of memory\n");
		goto out;
	}
	rc = tcli_finish(&t, TCLI_OK);
out:
	tcli_free(&t);
	return rc;
}

/* Open @out (or use stdout), export, and check that it was all written. */
static int export_run(const char *path, const char *format, const char *out,
		      struct tcli_filter *flt)
{
	FILE *f = out ? fopen(out, "wb") : stdout;
	int rc;

	if (!f) {
		fprintf(stderr, "actorvm trace: %s: %s\n", out,
			strerror(errno));
		return TCLI_ERR;
	}
	if (!out && !strcmp(format, "pcap") && isatty(fileno(stdout))) {
		fprintf(stderr, "actorvm trace: not writing pcap to a "
				"terminal; use -o OUT\n");
		return TCLI_ERR;
	}
	rc = export_to(f, path, format, flt);
	if (ferror(f) || (out ? fclose(f) : fflush(f))) {
		fprintf(stderr, "actorvm trace: %s: write error\n",
			out ? out : "standard output");
		rc = TCLI_ERR;
	}
	return rc;
}

int tcli_export(int argc, char **argv)
{
	static const struct option opts[] = {
		TCLI_FILTER_LONGOPTS,
		{ "format", 1, NULL, 'f' },
		{ "output", 1, NULL, 'o' },
		{ "help", 0, NULL, 'h' },
		{ 0 },
	};
	const char *format = NULL, *out = NULL;
	struct tcli_filter f;
	int c, ret, rc = -1;

	tcli_filter_init(&f);
	optind = 0;
	while (rc < 0 &&
	       (c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		ret = tcli_filter_opt(&f, c, optarg);
		if (ret < 0)
			rc = tcli_usage_error("export", "bad value", optarg);
		else if (c == 'f')
			format = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c == 'h') {
			export_help(stdout);
			rc = TCLI_OK;
		} else if (!ret)
			rc = tcli_usage_error("export", NULL, NULL);
	}
	if (rc < 0 && !format)
		rc = tcli_usage_error("export", "--format is required", NULL);
	if (rc < 0 && strcmp(format, "chrome") && strcmp(format, "pcap"))
		rc = tcli_usage_error("export", "unknown format", format);
	if (rc < 0 && optind != argc - 1)
		rc = tcli_usage_error("export", "expected one FILE", NULL);
	if (rc < 0)
		rc = export_run(argv[optind], format, out, &f);
	tcli_filter_free(&f);
	return rc;
}
