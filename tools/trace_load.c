/* SPDX-License-Identifier: MIT */
/*
 * `actorvm trace` internals: loading a trace into memory, the event
 * filters, and grouping events into message lives.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/actor.h>

#include "trace_cli.h"

/* Stable merge sort by time: equal times keep their file order. */
static void merge_sort(struct avm_trace_event *a, struct avm_trace_event *tmp,
		       size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	merge_sort(a, tmp, h);
	merge_sort(a + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = a[j].t_ns < a[i].t_ns ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

/* Append a copy of @e (and of its payload) to t->ev. */
static int append(struct tcli_trace *t, const struct avm_trace_event *e,
		  size_t *cap)
{
	struct avm_trace_event *c;

	if (t->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		void *p = realloc(t->ev, ncap * sizeof(*t->ev));

		if (!p)
			return -ENOMEM;
		t->ev = p;
		*cap = ncap;
	}
	c = &t->ev[t->n];
	*c = *e;
	if (e->payload) {
		size_t len = e->payload_len < AVM_TRACE_SNAPLEN
				     ? e->payload_len
				     : AVM_TRACE_SNAPLEN;
		uint8_t *p = malloc(len ? len : 1);

		if (!p)
			return -ENOMEM;
		memcpy(p, e->payload, len);
		c->payload = p;
	}
	t->n++;
	return 0;
}

static int sort_events(struct tcli_trace *t)
{
	struct avm_trace_event *tmp = malloc((t->n ? t->n : 1) * sizeof(*tmp));

	if (!tmp)
		return -ENOMEM;
	merge_sort(t->ev, tmp, t->n);
	free(tmp);
	return 0;
}

int tcli_load(struct tcli_trace *t, const char *path)
{
	struct avm_trace_event e;
	size_t cap = 0;
	int ret;

	memset(t, 0, sizeof(*t));
	t->path = path;
	ret = avm_trace_open(path, &t->r, t->errmsg, sizeof(t->errmsg));
	if (ret)
		return ret;
	t->info = avm_trace_info(t->r);
	/* A damaged file keeps the events before the damage. */
	while ((ret = avm_trace_next(t->r, &e, t->errmsg, sizeof(t->errmsg))) ==
	       1) {
		ret = append(t, &e, &cap);
		if (ret) {
			snprintf(t->errmsg, sizeof(t->errmsg),
				 "%s: out of memory", path);
			break;
		}
	}
	t->err = ret;
	ret = sort_events(t);
	if (ret) {
		snprintf(t->errmsg, sizeof(t->errmsg), "%s: out of memory",
			 path);
		return ret;
	}
	return 0;
}

void tcli_free(struct tcli_trace *t)
{
	for (size_t i = 0; i < t->n; i++)
		free((void *)t->ev[i].payload);
	free(t->ev);
	avm_trace_close(t->r);
	memset(t, 0, sizeof(*t));
}

int tcli_finish(const struct tcli_trace *t, int rc)
{
	if (!t->err)
		return rc;
	fprintf(stderr, "actorvm trace: %s\n", t->errmsg);
	fprintf(stderr, "actorvm trace: used the %zu events before it\n", t->n);
	return TCLI_ERR;
}

/* Names come from the file: keep control bytes off the terminal. */
static const char *clean(const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		buf[i] = name[i] < 0x20 || name[i] >= 0x7f ? '?' : name[i];
	buf[i] = 0;
	return buf;
}

const char *tcli_actor_name(const struct avm_trace_actor *actors,
			    unsigned n_actors, uint32_t id, char *buf,
			    size_t len)
{
	if (id == AVM_ACTOR_NONE)
		return "vcpu";
	if (id < n_actors && actors[id].id == id)
		return clean(actors[id].name, buf, len);
	for (unsigned i = 0; i < n_actors; i++)
		if (actors[i].id == id)
			return clean(actors[i].name, buf, len);
	snprintf(buf, len, "#%u", id);
	return buf;
}

const char *tcli_name(const struct tcli_trace *t, uint32_t id, char *buf,
		      size_t len)
{
	return tcli_actor_name(t->info->actors, t->info->n_actors, id, buf,
			       len);
}

int tcli_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

/* Nanoseconds per unit; -1 if @u is not one. */
static int64_t unit_ns(const char *u)
{
	if (!*u || !strcmp(u, "ns"))
		return 1;
	if (!strcmp(u, "us"))
		return 1000;
	if (!strcmp(u, "ms"))
		return 1000000;
	if (!strcmp(u, "s"))
		return 1000000000;
	return -1;
}

/* "1.5ms", "200us", "3s", "42" (ns): exact, without floating point. */
int tcli_parse_time(const char *s, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0, scale = 1;
	const char *p = s;
	int64_t unit;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > UINT64_MAX / 10 - 1)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale < 1000000000) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
	unit = unit_ns(p);
	if (unit < 0)
		return -EINVAL;
	if (whole > UINT64_MAX / (uint64_t)unit)
		return -ERANGE;
	*ns = whole * (uint64_t)unit + frac * (uint64_t)unit / scale;
	return 0;
}

int tcli_parse_kind(const char *s, unsigned *kind)
{
	char buf[TCLI_NAME_LEN];
	uint64_t v;

	for (unsigned k = 0; k < AVM_MSG_USER; k++)
		if (!strcmp(s, avm_msg_kind_name(k, buf, sizeof(buf)))) {
			*kind = k;
			return 0;
		}
	if (!strncmp(s, "user+", 5) && !tcli_parse_u64(s + 5, &v) &&
	    v <= UINT16_MAX - AVM_MSG_USER) {
		*kind = AVM_MSG_USER + (unsigned)v;
		return 0;
	}
	if (!tcli_parse_u64(s, &v) && v <= UINT16_MAX) {
		*kind = (unsigned)v;
		return 0;
	}
	return -EINVAL;
}

/* Order: actor, corr, time, event type, then time-sorted array order. */
static int cmp_life_order(const void *a, const void *b)
{
	const struct avm_trace_event *x =
		*(const struct avm_trace_event *const *)a;
	const struct avm_trace_event *y =
		*(const struct avm_trace_event *const *)b;

	if (x->actor != y->actor)
		return x->actor < y->actor ? -1 : 1;
	if (x->corr != y->corr)
		return x->corr < y->corr ? -1 : 1;
	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Does @e start a new life after @l (another message, or corr reused)? */
static bool new_life(const struct tcli_life *l, const struct avm_trace_event *e)
{
	return e->actor != l->actor || e->corr != l->corr || l->ev[e->type];
}

static void add_to_life(struct tcli_life *l, const struct avm_trace_event *e)
{
	bool has_msg = false;

	for (int i = AVM_TRACE_POSTED; i < AVM_TRACE_REPLY; i++)
		has_msg |= l->ev[i] != NULL;
	l->ev[e->type] = e;
	/* A reply's kind may be "reply": the message's kind wins. */
	if (e->type != AVM_TRACE_REPLY || !has_msg)
		l->kind = e->kind;
}

static size_t group(const struct avm_trace_event **refs, size_t n,
		    struct tcli_life *lives)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct avm_trace_event *e = refs[i];

		if (!k || new_life(&lives[k - 1], e)) {
			memset(&lives[k], 0, sizeof(lives[k]));
			lives[k].actor = e->actor;
			lives[k].corr = e->corr;
			k++;
		}
		add_to_life(&lives[k - 1], e);
	}
	return k;
}

int tcli_lives(const struct tcli_trace *t, const struct tcli_filter *f,
	       struct tcli_life **out, size_t *n)
{
	const struct avm_trace_event **refs;
	size_t m = 0;

	refs = malloc((t->n ? t->n : 1) * sizeof(*refs));
	*out = malloc((t->n ? t->n : 1) * sizeof(**out));
	if (!refs || !*out) {
		free(refs);
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->ev[i].type >= AVM_TRACE_POSTED &&
		    t->ev[i].type <= AVM_TRACE_REPLY &&
		    (!f || tcli_filter_match(f, &t->ev[i])))
			refs[m++] = &t->ev[i];
	qsort(refs, m, sizeof(*refs), cmp_life_order);
	*n = group(refs, m, *out);
	free(refs);
	return 0;
}
