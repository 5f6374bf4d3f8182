/* SPDX-License-Identifier: MIT */
/*
 * Internals of `actorvm trace`: a trace loaded into memory and sorted by
 * time, the event filters shared by the subcommands, and the "lives" of
 * messages (an actor's posted/dequeued/handled/replied events for one
 * correlation id) that stats and export are built on.
 */
#ifndef ACTORVM_TRACE_CLI_H
#define ACTORVM_TRACE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <actorvm/trace.h>

/* Exit codes of every subcommand. */
#define TCLI_OK	   0
#define TCLI_ERR   1
#define TCLI_USAGE 2

#define TCLI_ERR_LEN  384
#define TCLI_NAME_LEN 64

/*
 * struct tcli_trace - a whole trace file in memory.
 * @ev, @n: its events, sorted by time (stable: file order among equals),
 *   each payload copied.
 * @err: 0, or the error that stopped reading after @n events (@errmsg).
 */
struct tcli_trace {
	const char *path;
	avm_trace_reader *r;
	const struct avm_trace_info *info;
	struct avm_trace_event *ev;
	size_t n;
	int err;
	char errmsg[TCLI_ERR_LEN];
};

/*
 * struct tcli_filter - which events a subcommand looks at.
 * Actor names are kept as given until tcli_filter_resolve().
 */
struct tcli_filter {
	const char **actor_names;
	size_t n_actor_names;
	uint32_t *actors;
	size_t n_actors;
	unsigned *kinds;
	size_t n_kinds;
	bool has_addr;
	uint64_t addr_lo, addr_hi;
	uint64_t since, until;
	bool has_corr;
	uint64_t corr;
	uint64_t *req_corrs; /* requests that pass kind and address */
	size_t n_req_corrs;
};

/* Long options of the filter, for each subcommand's getopt table. */
enum {
	TCLI_OPT_ACTOR = 0x100,
	TCLI_OPT_KIND,
	TCLI_OPT_ADDR,
	TCLI_OPT_SINCE,
	TCLI_OPT_UNTIL,
	TCLI_OPT_CORR,
	TCLI_OPT_FIRST_FREE,
};

#define TCLI_FILTER_LONGOPTS                                                   \
	{ "actor", 1, NULL, TCLI_OPT_ACTOR },                                  \
		{ "kind", 1, NULL, TCLI_OPT_KIND },                            \
		{ "addr", 1, NULL, TCLI_OPT_ADDR },                            \
		{ "since", 1, NULL, TCLI_OPT_SINCE },                          \
		{ "until", 1, NULL, TCLI_OPT_UNTIL },                          \
	{                                                                      \
		"corr", 1, NULL, TCLI_OPT_CORR                                 \
	}

/* The help lines of those options. */
void tcli_filter_help(FILE *out);

void tcli_filter_init(struct tcli_filter *f);
void tcli_filter_free(struct tcli_filter *f);
/* Take option @opt; 1 if it was a filter option, 0 if not, <0 if bad. */
int tcli_filter_opt(struct tcli_filter *f, int opt, const char *arg);
/* Look the actor names up in @t; message in @err on failure. */
int tcli_filter_resolve(struct tcli_filter *f, const struct tcli_trace *t,
			char *err, size_t len);
bool tcli_filter_match(const struct tcli_filter *f,
		       const struct avm_trace_event *e);

/**
 * struct tcli_simple_cmd - a subcommand taking the filter options, one
 * on/off switch and one FILE (show, stats).
 * @opts: the filter options, the switch and --help.
 * @flag_opt: the switch's option value; @flag_value what it sets.
 */
struct tcli_simple_cmd {
	const char *name;
	const struct option *opts;
	int flag_opt;
	bool flag_value;
	void (*help)(FILE *out);
};

/* Parse @argv for @c: -1 to go on with *@file, else the exit code. */
int tcli_parse_simple(const struct tcli_simple_cmd *c, int argc, char **argv,
		      struct tcli_filter *f, bool *flag, const char **file);

int tcli_parse_time(const char *s, uint64_t *ns);
int tcli_parse_kind(const char *s, unsigned *kind);
int tcli_parse_u64(const char *s, uint64_t *v);

/* Load @path; on failure message in t->errmsg and -errno. */
int tcli_load(struct tcli_trace *t, const char *path);
void tcli_free(struct tcli_trace *t);
/* Print t->errmsg if reading stopped early; TCLI_ERR then, else @rc. */
int tcli_finish(const struct tcli_trace *t, int rc);

/* "vcpu" for AVM_ACTOR_NONE, the header's name, or "#id". */
const char *tcli_actor_name(const struct avm_trace_actor *actors,
			    unsigned n_actors, uint32_t id, char *buf,
			    size_t len);
const char *tcli_name(const struct tcli_trace *t, uint32_t id, char *buf,
		      size_t len);

/* One `show` line for @e (actor names from @actors). */
void tcli_print_event(FILE *out, const struct avm_trace_event *e,
		      const struct avm_trace_actor *actors, unsigned n_actors);
void tcli_print_header(FILE *out, const char *path,
		       const struct avm_trace_info *info);
/* "1.234567 ms" style durations into @buf. */
const char *tcli_fmt_us(uint64_t ns, char *buf, size_t len);

/*
 * struct tcli_life - one message at one actor: its events by type
 * (ev[AVM_TRACE_POSTED] ...), NULL where none was recorded.
 */
struct tcli_life {
	uint32_t actor;
	uint16_t kind;
	uint64_t corr;
	const struct avm_trace_event *ev[AVM_TRACE_REPLY + 1];
};

/* The lives of the events of @t that @f keeps; free *@out. */
int tcli_lives(const struct tcli_trace *t, const struct tcli_filter *f,
	       struct tcli_life **out, size_t *n);

/* Print "actorvm trace SUB: MSG 'ARG'" and a hint; TCLI_USAGE. */
int tcli_usage_error(const char *sub, const char *msg, const char *arg);

int tcli_stats(int argc, char **argv);
int tcli_export(int argc, char **argv);
int tcli_cut(int argc, char **argv);
int tcli_journal(int argc, char **argv);
int tcli_follow(int argc, char **argv);

#endif /* ACTORVM_TRACE_CLI_H */
