/* SPDX-License-Identifier: MIT */
/*
 * actorvm trace: inspect trace files. This file dispatches to the
 * subcommands and implements `show`; the others live in trace_*.c.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <actorvm/actor.h>

#include "cli.h"
#include "trace_cli.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: actorvm trace SUBCOMMAND [OPTIONS] FILE\n");
	fprintf(out, "       actorvm trace follow [OPTIONS] URL\n\n");
	fprintf(out, "Inspect message traces (docs/tracing.md).\n\n");
	fprintf(out, "Subcommands:\n");
	fprintf(out, "  show     one line per event, sorted by time\n");
	fprintf(out, "  stats    mailbox wait, service time and round trip "
		     "per actor and kind\n");
	fprintf(out, "  export   Chrome trace JSON (for Perfetto) or pcap of "
		     "the network frames\n");
	fprintf(out, "  follow   print the events of a running VM, live\n");
	fprintf(out, "  journal  an actor's journal, one line per call\n");
	fprintf(out, "  cut      an excerpt of journals to replay (actorvm "
		     "replay)\n\n");
	fprintf(out, "`actorvm trace SUBCOMMAND --help` describes one.\n");
	fprintf(out, "Exit status: 0 ok, 1 error (e.g. a damaged file), "
		     "2 usage error.\n");
}

const char *tcli_fmt_us(uint64_t ns, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
	return buf;
}

/* What the message carries, by kind. */
static void print_detail(FILE *out, const struct avm_trace_event *e)
{
	if (e->type == AVM_TRACE_REPLY) {
		fprintf(out, "= 0x%" PRIx64 " status %d", e->value, e->status);
		return;
	}
	switch (e->kind) {
	case AVM_MSG_READ:
		fprintf(out, "region %u +0x%" PRIx64 " size %u", e->arg,
			e->addr, e->size);
		break;
	case AVM_MSG_WRITE:
		fprintf(out, "region %u +0x%" PRIx64 " size %u = 0x%" PRIx64,
			e->arg, e->addr, e->size, e->value);
		break;
	case AVM_MSG_IRQ:
		fprintf(out, "line %u level %" PRIu64, e->arg, e->value);
		break;
	case AVM_MSG_DMA_DONE:
	case AVM_MSG_REPLY:
		fprintf(out, "= 0x%" PRIx64 " status %d", e->value, e->status);
		break;
	case AVM_MSG_FRAME:
	case AVM_MSG_CHAR:
		/* Only POSTED carries the payload. */
		if (e->payload_len)
			fprintf(out, "%u bytes", e->payload_len);
		break;
	case AVM_MSG_TIMER:
	case AVM_MSG_FD:
		fprintf(out, "%s %u value 0x%" PRIx64,
			e->kind == AVM_MSG_TIMER ? "timer" : "watch", e->arg,
			e->value);
		break;
	case AVM_MSG_CONTINUE:
		fprintf(out, "token 0x%" PRIx64, e->value);
		break;
	case AVM_TRACE_KIND_PROC_START:
		fprintf(out, "process %u (restarts so far: %" PRIu64 ")",
			e->arg, e->value);
		break;
	case AVM_TRACE_KIND_PROC_EXIT:
		fprintf(out, "process %u: status %d, %" PRIu64 " lost", e->arg,
			e->status, e->value);
		break;
	default:
		if (e->kind >= AVM_MSG_USER)
			fprintf(out, "arg %u addr 0x%" PRIx64 " = 0x%" PRIx64,
				e->arg, e->addr, e->value);
		break;
	}
}

void tcli_print_event(FILE *out, const struct avm_trace_event *e,
		      const struct avm_trace_actor *actors, unsigned n_actors)
{
	char b1[TCLI_NAME_LEN], b2[TCLI_NAME_LEN], b3[TCLI_NAME_LEN];
	const char *to =
		tcli_actor_name(actors, n_actors, e->actor, b1, sizeof(b1));
	const char *from =
		tcli_actor_name(actors, n_actors, e->src, b2, sizeof(b2));

	/* A reply goes back from the actor to the sender. */
	if (e->type == AVM_TRACE_REPLY) {
		const char *tmp = to;

		to = from;
		from = tmp;
	}
	fprintf(out, "%8" PRIu64 ".%06" PRIu64 " ms  %-8s -> %-8s  %-8s %-8s  ",
		e->t_ns / 1000000, e->t_ns % 1000000, from, to,
		avm_trace_type_name(e->type),
		avm_msg_kind_name(e->kind, b3, sizeof(b3)));
	print_detail(out, e);
	fprintf(out, "  corr 0x%" PRIx64, e->corr);
	if (e->cause)
		fprintf(out, " cause 0x%" PRIx64, e->cause);
	fprintf(out, "\n");
}

void tcli_print_header(FILE *out, const char *path,
		       const struct avm_trace_info *info)
{
	fprintf(out,
		"trace %s: format %u, clock %s, executor %s, "
		"start %" PRIu64 " ns\n",
		path, info->version, info->clock, info->executor,
		info->start_ns);
	for (unsigned i = 0; i < info->n_actors; i++)
		fprintf(out, "  actor %u: %s (%s)\n", info->actors[i].id,
			info->actors[i].name, info->actors[i].type);
}

static void show_help(FILE *out)
{
	fprintf(out, "usage: actorvm trace show [OPTIONS] FILE\n\n");
	fprintf(out, "One line per event, sorted by time (ms since the "
		     "start of the trace):\n");
	fprintf(out, "  TIME ms  SENDER -> RECEIVER  EVENT KIND  DETAILS  "
		     "corr ID [cause ID]\n");
	fprintf(out, "EVENT is posted, dequeued, start (of the handler), "
		     "end or reply.\n\n");
	fprintf(out, "Options:\n");
	fprintf(out, "  --header       print the header (clock, actors) "
		     "first\n");
	fprintf(out, "  -h, --help     this help\n");
	tcli_filter_help(out);
}

/* The trailer: lost events, and whether the trace was stopped cleanly. */
static void show_trailer(const struct tcli_trace *t)
{
	const struct avm_trace_info *info = t->info;
	uint64_t lost = info->lost > info->footer_dropped
				? info->lost
				: info->footer_dropped;

	if (lost)
		printf("lost %" PRIu64 " events (full recording rings)\n",
		       lost);
	if (!info->complete)
		fprintf(stderr,
			"actorvm trace: warning: %s is incomplete "
			"(no footer: the recording was not stopped "
			"cleanly)\n",
			t->path);
}

static int show_run(const char *path, struct tcli_filter *f, bool header)
{
	struct tcli_trace t;
	char err[TCLI_ERR_LEN];
	int rc;

	if (tcli_load(&t, path)) {
		fprintf(stderr, "actorvm trace: %s\n", t.errmsg);
		tcli_free(&t);
		return TCLI_ERR;
	}
	if (tcli_filter_resolve(f, &t, err, sizeof(err))) {
		fprintf(stderr, "actorvm trace: %s\n", err);
		tcli_free(&t);
		return TCLI_ERR;
	}
	if (header)
		tcli_print_header(stdout, path, t.info);
	for (size_t i = 0; i < t.n; i++)
		if (tcli_filter_match(f, &t.ev[i]))
			tcli_print_event(stdout, &t.ev[i], t.info->actors,
					 t.info->n_actors);
	show_trailer(&t);
	rc = tcli_finish(&t, TCLI_OK);
	tcli_free(&t);
	return rc;
}

int tcli_usage_error(const char *sub, const char *msg, const char *arg)
{
	if (msg && arg)
		fprintf(stderr, "actorvm trace %s: %s '%s'\n", sub, msg, arg);
	else if (msg)
		fprintf(stderr, "actorvm trace %s: %s\n", sub, msg);
	fprintf(stderr, "Try 'actorvm trace %s --help'.\n", sub);
	return TCLI_USAGE;
}

static int show(int argc, char **argv)
{
	static const struct option opts[] = {
		TCLI_FILTER_LONGOPTS,
		{ "header", 0, NULL, 'H' },
		{ "help", 0, NULL, 'h' },
		{ 0 },
	};
	static const struct tcli_simple_cmd cmd = { "show", opts, 'H', true,
						    show_help };
	struct tcli_filter f;
	bool header = false;
	const char *file = NULL;
	int rc;

	tcli_filter_init(&f);
	rc = tcli_parse_simple(&cmd, argc, argv, &f, &header, &file);
	if (rc < 0)
		rc = show_run(file, &f, header);
	tcli_filter_free(&f);
	return rc;
}

int avm_cli_trace(int argc, char **argv)
{
	static const struct avm_cli_command subs[] = {
		{ "show", "", show },	       { "stats", "", tcli_stats },
		{ "export", "", tcli_export }, { "follow", "", tcli_follow },
		{ "cut", "", tcli_cut },       { "journal", "", tcli_journal },
	};

	if (argc < 2) {
		usage(stderr);
		return TCLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return TCLI_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "actorvm trace: unknown subcommand '%s'\n\n", argv[1]);
	usage(stderr);
	return TCLI_USAGE;
}
