/* SPDX-License-Identifier: MIT */
/*
 * actorvm trace stats: per actor and message kind, the mailbox wait
 * (dequeued - posted), the service time (handler end - start) and, for
 * requests, the round trip (reply - posted), with percentiles and a
 * log2 histogram in the spirit of `cyclictest -h`.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "trace_cli.h"

enum { M_WAIT, M_SERVICE, M_RTT, N_METRICS };

static const char *const metric_names[N_METRICS] = { "wait", "service",
						     "round-trip" };

#define N_BUCKETS 64

struct samples {
	uint64_t *v;
	size_t n, cap;
};

/* struct group - one (actor, kind, path) row. */
struct group {
	uint32_t actor;
	uint16_t kind;
	bool in_place;
	size_t count, incomplete;
	struct samples m[N_METRICS];
};

static int add_sample(struct samples *s, uint64_t v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *p = realloc(s->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

/* @to - @from, or nothing if either event is missing. */
static int add_delta(struct samples *s, const struct avm_trace_event *from,
		     const struct avm_trace_event *to)
{
	if (!from || !to)
		return 0;
	/* Clocks of different CPUs may disagree by a little: clamp. */
	return add_sample(s, to->t_ns > from->t_ns ? to->t_ns - from->t_ns : 0);
}

static int add_life(struct group *g, const struct tcli_life *l)
{
	const struct avm_trace_event *const *e = l->ev;

	g->count++;
	if (!e[AVM_TRACE_POSTED] || !e[AVM_TRACE_DEQUEUED] ||
	    !e[AVM_TRACE_HANDLE_START] || !e[AVM_TRACE_HANDLE_END])
		g->incomplete++;
	return add_delta(&g->m[M_WAIT], e[AVM_TRACE_POSTED],
			 e[AVM_TRACE_DEQUEUED]) ?:
		       add_delta(&g->m[M_SERVICE], e[AVM_TRACE_HANDLE_START],
				 e[AVM_TRACE_HANDLE_END]) ?:
		       add_delta(&g->m[M_RTT], e[AVM_TRACE_POSTED],
				 e[AVM_TRACE_REPLY]);
}

/* Handled on the sender's thread (the fast path), not from a mailbox. */
static bool life_in_place(const struct tcli_life *l)
{
	const struct avm_trace_event *d = l->ev[AVM_TRACE_DEQUEUED],
				     *s = l->ev[AVM_TRACE_HANDLE_START];

	return (d && d->in_place) || (s && s->in_place);
}

static int cmp_life(const void *a, const void *b)
{
	const struct tcli_life *x = a, *y = b;
	bool xi = life_in_place(x), yi = life_in_place(y);

	if (x->actor != y->actor)
		return x->actor < y->actor ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (xi > yi) - (xi < yi);
}

/* The kind column: "read", or "read/in-place" for the fast path's row. */
static const char *row_kind(const struct group *g, char *buf, size_t len)
{
	char k[TCLI_NAME_LEN];

	snprintf(buf, len, "%s%s", avm_msg_kind_name(g->kind, k, sizeof(k)),
		 g->in_place ? "/in-place" : "");
	return buf;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with @permille of them at or below. */
static uint64_t percentile(const struct samples *s, unsigned permille)
{
	size_t rank = (permille * s->n + 999) / 1000;

	return s->v[rank ? rank - 1 : 0];
}

static void print_metric(const struct samples *s)
{
	static const unsigned pm[] = { 500, 990, 999 };
	char buf[32];

	printf(" %8zu", s->n);
	if (!s->n) {
		printf("  %11s %11s %11s %11s\n", "-", "-", "-", "-");
		return;
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	for (size_t i = 0; i < 3; i++)
		printf("  %11s", tcli_fmt_us(percentile(s, pm[i]), buf, 32));
	printf("  %11s\n", tcli_fmt_us(s->v[s->n - 1], buf, 32));
}

static void print_group(const struct tcli_trace *t, const struct group *g)
{
	char b1[TCLI_NAME_LEN], b2[TCLI_NAME_LEN + 16];

	for (int m = 0; m < N_METRICS; m++) {
		if (m == 0)
			printf("%-10s %-10s %8zu %10zu  ",
			       tcli_name(t, g->actor, b1, sizeof(b1)),
			       row_kind(g, b2, sizeof(b2)), g->count,
			       g->incomplete);
		else
			printf("%-10s %-10s %8s %10s  ", "", "", "", "");
		printf("%-10s", metric_names[m]);
		print_metric(&g->m[m]);
	}
}

static unsigned bucket(uint64_t v)
{
	return v < 2 ? 0 : 63 - (unsigned)__builtin_clzll(v);
}

/* Rows from the lowest to the highest bucket used, one column a metric. */
static void print_histogram(const struct tcli_trace *t, const struct group *g)
{
	uint64_t h[N_METRICS][N_BUCKETS] = { { 0 } };
	unsigned lo = N_BUCKETS, hi = 0, b;
	char b1[TCLI_NAME_LEN], b2[TCLI_NAME_LEN + 16];

	for (int m = 0; m < N_METRICS; m++)
		for (size_t i = 0; i < g->m[m].n; i++) {
			b = bucket(g->m[m].v[i]);
			h[m][b]++;
			lo = b < lo ? b : lo;
			hi = b > hi ? b : hi;
		}
	if (lo == N_BUCKETS)
		return;
	printf("\n%s %s: histogram (log2 buckets of ns)\n",
	       tcli_name(t, g->actor, b1, sizeof(b1)),
	       row_kind(g, b2, sizeof(b2)));
	printf("%20s %10s %10s %10s\n", ">= ns", "wait", "service",
	       "round-trip");
	for (b = lo; b <= hi; b++)
		printf("%20" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
		       "\n",
		       b ? (uint64_t)1 << b : 0, h[M_WAIT][b], h[M_SERVICE][b],
		       h[M_RTT][b]);
}

static void free_group(struct group *g)
{
	for (int m = 0; m < N_METRICS; m++)
		free(g->m[m].v);
	memset(g, 0, sizeof(*g));
}

/* Walk the lives sorted by (actor, kind), one group at a time. */
static int report(const struct tcli_trace *t, struct tcli_life *lives, size_t n,
		  bool hist)
{
	struct group g = { 0 };
	size_t i = 0, j;
	int ret = 0;

	qsort(lives, n, sizeof(*lives), cmp_life);
	printf("%-10s %-10s %8s %10s  %-10s %8s  %11s %11s %11s %11s\n",
	       "actor", "kind", "count", "incomplete", "metric", "n", "p50 us",
	       "p99 us", "p99.9 us", "max us");
	for (; i < n && !ret; i = j) {
		g.actor = lives[i].actor;
		g.kind = lives[i].kind;
		g.in_place = life_in_place(&lives[i]);
		for (j = i; j < n && !cmp_life(&lives[i], &lives[j]) && !ret;
		     j++)
			ret = add_life(&g, &lives[j]);
		print_group(t, &g);
		if (hist)
			print_histogram(t, &g);
		if (hist && j < n)
			printf("\n");
		free_group(&g);
	}
	free_group(&g);
	return ret;
}

static void stats_help(FILE *out)
{
	fprintf(out, "usage: actorvm trace stats [OPTIONS] FILE\n\n");
	fprintf(out, "Latencies per receiving actor and message kind, "
		     "in microseconds:\n");
	fprintf(out, "  wait        mailbox wait: dequeued - posted\n");
	fprintf(out, "  service     handler end - handler start\n");
	fprintf(out, "  round-trip  reply - posted (requests only)\n");
	fprintf(out, "Events are matched by (actor, correlation id). count "
		     "is the number of\n");
	fprintf(out, "messages; incomplete counts those missing an event "
		     "(lost, filtered, or\n");
	fprintf(out, "still in flight when the trace stopped). Percentiles "
		     "are nearest-rank.\n");
	fprintf(out, "Each row group is followed by a histogram: counts per "
		     "power-of-two bucket\n");
	fprintf(out, "of nanoseconds, from its lower bound.\n");
	fprintf(out, "Messages the sender handled on its own thread (the "
		     "threaded executor's\n");
	fprintf(out, "fast path) have rows of their own, their kind suffixed "
		     "/in-place: their\n");
	fprintf(out, "wait is from the post to the handler taking them, "
		     "without a mailbox.\n\n");
	fprintf(out, "Options:\n");
	fprintf(out, "  --no-histogram only the table\n");
	fprintf(out, "  -h, --help     this help\n");
	tcli_filter_help(out);
}

static int stats_run(const char *path, struct tcli_filter *f, bool hist)
{
	struct tcli_life *lives = NULL;
	struct tcli_trace t;
	char err[TCLI_ERR_LEN];
	size_t n = 0;
	int rc = TCLI_ERR;

	if (tcli_load(&t, path)) {
		fprintf(stderr, "actorvm trace: %s\n", t.errmsg);
		goto out;
	}
	if (tcli_filter_resolve(f, &t, err, sizeof(err))) {
		fprintf(stderr, "actorvm trace: %s\n", err);
		goto out;
	}
	if (tcli_lives(&t, f, &lives, &n) || report(&t, lives, n, hist)) {
		fprintf(stderr, "actorvm trace: out of memory\n");
		goto out;
	}
	if (t.info->lost || t.info->footer_dropped)
		printf("\nlost %" PRIu64 " events: figures may be skewed\n",
		       t.info->lost > t.info->footer_dropped
			       ? t.info->lost
			       : t.info->footer_dropped);
	rc = tcli_finish(&t, TCLI_OK);
out:
	free(lives);
	tcli_free(&t);
	return rc;
}

int tcli_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		TCLI_FILTER_LONGOPTS,
		{ "no-histogram", 0, NULL, 'N' },
		{ "help", 0, NULL, 'h' },
		{ 0 },
	};
	static const struct tcli_simple_cmd cmd = { "stats", opts, 'N', false,
						    stats_help };
	struct tcli_filter f;
	bool hist = true;
	const char *file = NULL;
	int rc;

	tcli_filter_init(&f);
	rc = tcli_parse_simple(&cmd, argc, argv, &f, &hist, &file);
	if (rc < 0)
		rc = stats_run(file, &f, hist);
	tcli_filter_free(&f);
	return rc;
}
