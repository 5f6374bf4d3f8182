/* SPDX-License-Identifier: MIT */
/* `actorvm trace` internals: event filters and message lives. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/actor.h>

#include "trace_cli.h"

void tcli_filter_help(FILE *out)
{
	fprintf(out, "Filters (an event must pass all of them):\n");
	fprintf(out, "  --actor NAME   events at or from actor NAME "
		     "(repeatable); \"vcpu\" stands\n");
	fprintf(out, "                 for VCPUs and senders outside the "
		     "VM\n");
	fprintf(out, "  --kind KIND    message kind (repeatable): none read "
		     "write irq dma-done frame\n");
	fprintf(out, "                 char timer fd continue reset stop "
		     "reply proc-start proc-exit\n"
		     "                 user+N, or a number\n");
	fprintf(out, "  --addr LO-HI   reads, writes and device messages with "
		     "LO <= addr <= HI\n");
	fprintf(out, "                 (and the replies to them); or one "
		     "address ADDR\n");
	fprintf(out, "  --since T      events at or after T (ns, us, ms or s; "
		     "plain numbers are ns)\n");
	fprintf(out, "  --until T      events at or before T\n");
	fprintf(out, "  --corr ID      message ID and those it caused "
		     "(corr or cause = ID)\n");
}

void tcli_filter_init(struct tcli_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->until = UINT64_MAX;
}

void tcli_filter_free(struct tcli_filter *f)
{
	free(f->actor_names);
	free(f->actors);
	free(f->kinds);
	free(f->req_corrs);
	memset(f, 0, sizeof(*f));
}

static int push(void *arr, size_t *n, size_t elem, const void *v)
{
	void **a = arr;
	char *p = realloc(*a, (*n + 1) * elem);

	if (!p)
		return -ENOMEM;
	memcpy(p + *n * elem, v, elem);
	*a = p;
	(*n)++;
	return 0;
}

static int parse_range(struct tcli_filter *f, const char *arg)
{
	char lo[64];
	const char *dash = strchr(arg, '-');
	size_t n = dash ? (size_t)(dash - arg) : strlen(arg);

	if (n >= sizeof(lo))
		return -EINVAL;
	memcpy(lo, arg, n);
	lo[n] = 0;
	if (tcli_parse_u64(lo, &f->addr_lo))
		return -EINVAL;
	f->addr_hi = f->addr_lo;
	if (dash && tcli_parse_u64(dash + 1, &f->addr_hi))
		return -EINVAL;
	f->has_addr = true;
	return f->addr_lo <= f->addr_hi ? 0 : -EINVAL;
}

int tcli_filter_opt(struct tcli_filter *f, int opt, const char *arg)
{
	unsigned kind;

	switch (opt) {
	case TCLI_OPT_ACTOR:
		return push(&f->actor_names, &f->n_actor_names, sizeof(arg),
			    &arg)
			       ?: 1;
	case TCLI_OPT_KIND:
		if (tcli_parse_kind(arg, &kind))
			return -EINVAL;
		return push(&f->kinds, &f->n_kinds, sizeof(kind), &kind) ?: 1;
	case TCLI_OPT_ADDR:
		return parse_range(f, arg) ?: 1;
	case TCLI_OPT_SINCE:
		return tcli_parse_time(arg, &f->since) ?: 1;
	case TCLI_OPT_UNTIL:
		return tcli_parse_time(arg, &f->until) ?: 1;
	case TCLI_OPT_CORR:
		f->has_corr = true;
		return tcli_parse_u64(arg, &f->corr) ?: 1;
	default:
		return 0;
	}
}

static int lookup_actor(const struct tcli_trace *t, const char *name,
			uint32_t *id)
{
	uint64_t v;

	if (!strcmp(name, "vcpu")) {
		*id = AVM_ACTOR_NONE;
		return 0;
	}
	for (unsigned i = 0; i < t->info->n_actors; i++)
		if (!strcmp(t->info->actors[i].name, name)) {
			*id = t->info->actors[i].id;
			return 0;
		}
	if (name[0] == '#' && !tcli_parse_u64(name + 1, &v) &&
	    v < AVM_ACTOR_NONE) {
		*id = (uint32_t)v;
		return 0;
	}
	return -ENOENT;
}

static bool addr_kind(unsigned kind)
{
	return kind == AVM_MSG_READ || kind == AVM_MSG_WRITE ||
	       kind >= AVM_MSG_USER;
}

static bool in_addr_range(const struct tcli_filter *f,
			  const struct avm_trace_event *e)
{
	return addr_kind(e->kind) && e->addr >= f->addr_lo &&
	       e->addr <= f->addr_hi;
}

static bool match_kind(const struct tcli_filter *f,
		       const struct avm_trace_event *e)
{
	if (!f->n_kinds)
		return true;
	for (size_t i = 0; i < f->n_kinds; i++)
		if (e->kind == f->kinds[i])
			return true;
	return false;
}

/* Kind and address of a message (not of a reply). */
static bool match_msg(const struct tcli_filter *f,
		      const struct avm_trace_event *e)
{
	return match_kind(f, e) && (!f->has_addr || in_addr_range(f, e));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A reply carries no address, and its kind may be "reply": it is kept
 * when the request it answers is. Remember those requests.
 */
static int collect_req_corrs(struct tcli_filter *f, const struct tcli_trace *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->ev[i].type != AVM_TRACE_REPLY &&
		    match_msg(f, &t->ev[i]) &&
		    push(&f->req_corrs, &f->n_req_corrs, sizeof(uint64_t),
			 &t->ev[i].corr))
			return -ENOMEM;
	if (f->n_req_corrs)
		qsort(f->req_corrs, f->n_req_corrs, sizeof(uint64_t), cmp_u64);
	return 0;
}

int tcli_filter_resolve(struct tcli_filter *f, const struct tcli_trace *t,
			char *err, size_t len)
{
	uint32_t id;

	for (size_t i = 0; i < f->n_actor_names; i++) {
		if (lookup_actor(t, f->actor_names[i], &id)) {
			snprintf(err, len, "%s: no actor '%s' in the trace",
				 t->path, f->actor_names[i]);
			return -ENOENT;
		}
		if (push(&f->actors, &f->n_actors, sizeof(id), &id))
			return -ENOMEM;
	}
	if ((f->has_addr || f->n_kinds) && collect_req_corrs(f, t)) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static bool match_actor(const struct tcli_filter *f,
			const struct avm_trace_event *e)
{
	if (!f->n_actor_names)
		return true;
	for (size_t i = 0; i < f->n_actors; i++)
		if (e->actor == f->actors[i] || e->src == f->actors[i])
			return true;
	return false;
}

static bool match_reply(const struct tcli_filter *f,
			const struct avm_trace_event *e)
{
	if (!f->has_addr && match_kind(f, e))
		return true;
	return f->n_req_corrs && bsearch(&e->corr, f->req_corrs, f->n_req_corrs,
					 sizeof(uint64_t), cmp_u64);
}

bool tcli_filter_match(const struct tcli_filter *f,
		       const struct avm_trace_event *e)
{
	if (e->t_ns < f->since || e->t_ns > f->until)
		return false;
	if (f->has_corr && e->corr != f->corr && e->cause != f->corr)
		return false;
	if (!match_actor(f, e))
		return false;
	return e->type == AVM_TRACE_REPLY ? match_reply(f, e) : match_msg(f, e);
}

int tcli_parse_simple(const struct tcli_simple_cmd *c, int argc, char **argv,
		      struct tcli_filter *f, bool *flag, const char **file)
{
	int opt, ret, rc = -1;

	optind = 0;
	while (rc < 0 &&
	       (opt = getopt_long(argc, argv, "h", c->opts, NULL)) != -1) {
		ret = tcli_filter_opt(f, opt, optarg);
		if (ret < 0) {
			rc = tcli_usage_error(c->name, "bad value", optarg);
		} else if (opt == c->flag_opt) {
			*flag = c->flag_value;
		} else if (opt == 'h') {
			c->help(stdout);
			rc = TCLI_OK;
		} else if (!ret) {
			rc = tcli_usage_error(c->name, NULL, NULL);
		}
	}
	if (rc < 0 && optind != argc - 1)
		rc = tcli_usage_error(c->name, "expected one FILE", NULL);
	if (rc < 0)
		*file = argv[optind];
	return rc;
}
