/* SPDX-License-Identifier: MIT */
/* The actorvm command: dispatches to its subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct avm_cli_command commands[] = {
	{ "run", "run the VMs of a manifest (default: the two-VM demo)",
	  avm_cli_run },
	{ "check", "check manifests: every problem with its line",
	  avm_cli_check },
	{ "graph", "print the actor graph of a manifest (text or DOT)",
	  avm_cli_graph },
	{ "list", "list the actor types and their options", avm_cli_list },
	{ "demo", "show actor isolation against a global lock (no guest)",
	  avm_cli_demo },
	{ "trace", "inspect trace files: show, stats, export, follow",
	  avm_cli_trace },
	{ "ctl", "control a running `actorvm run --ctl URL`", avm_cli_ctl },
	{ "replay", "re-run one journaled actor from a trace and compare",
	  avm_cli_replay },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: actorvm COMMAND [OPTIONS]\n"
		     "       actorvm --help | --version\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n`actorvm COMMAND --help` describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("actorvm %s\n", ACTORVM_VERSION);
		return 0;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "actorvm: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
