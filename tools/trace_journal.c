/* SPDX-License-Identifier: MIT */
/*
 * `actorvm trace journal`: an actor's journal, one line per call, in the
 * order the actor made them (what `actorvm replay` feeds and compares).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <actorvm/replay.h>

#include "trace_cli.h"

static void journal_help(FILE *out)
{
	fprintf(out,
		"usage: actorvm trace journal --actor NAME FILE\n\n"
		"Prints the journal of actor NAME (recorded with `actorvm run "
		"--journal\n"
		"NAME`): one line per call between the actor and the "
		"framework, in the\n"
		"order it made them, numbered by message (0: its init) and "
		"entry:\n"
		"  MESSAGE.ENTRY  TIME ms  TYPE DETAILS\n"
		"TYPE is init, deliver or reset (its inputs), now, dma-read, "
		"route-level,\n"
		"ram-block (what calls returned to it), io and io-end (its "
		"outside I/O),\n"
		"or what it did: send, reply, dma-write, timer-arm, "
		"timer-cancel, fd-watch,\n"
		"fd-unwatch, direct, route-set, route-clear, vm-exit; \"-> "
		"N\" is a call's\n"
		"result. docs/tracing.md, \"Journals and replay\".\n");
}

static void print_journal(const avm_journal *j)
{
	const struct avm_journal_entry *e;
	char line[320];
	uint64_t msg = 0;

	for (uint64_t i = 0; (e = avm_journal_entry(j, i)); i++) {
		msg += e->type == AVM_J_DELIVER || e->type == AVM_J_RESET;
		printf("%5" PRIu64 ".%-5" PRIu64 " %6" PRIu64 ".%06" PRIu64
		       " ms  %s\n",
		       msg, e->seq, e->t_ns / 1000000, e->t_ns % 1000000,
		       avm_journal_entry_format(e, line, sizeof(line)));
	}
}

int tcli_journal(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "actor", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *actor = NULL;
	char err[TCLI_ERR_LEN];
	avm_journal *j;
	int c;

	while ((c = getopt_long(argc, argv, "a:h", opts, NULL)) != -1) {
		if (c == 'h') {
			journal_help(stdout);
			return TCLI_OK;
		}
		if (c != 'a') {
			journal_help(stderr);
			return TCLI_USAGE;
		}
		actor = optarg;
	}
	if (!actor || argc - optind != 1) {
		journal_help(stderr);
		return TCLI_USAGE;
	}
	if (avm_journal_load(argv[optind], actor, &j, err, sizeof(err))) {
		fprintf(stderr, "actorvm trace: %s\n", err);
		return TCLI_ERR;
	}
	print_journal(j);
	if (avm_journal_get_info(j)->cut)
		fprintf(stderr, "actorvm trace: warning: %s\n",
			avm_journal_get_info(j)->cut_why);
	avm_journal_free(j);
	return TCLI_OK;
}
