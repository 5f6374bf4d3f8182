/* SPDX-License-Identifier: MIT */
/* Subcommands of the actorvm command. Each returns main()'s exit code. */
#ifndef ACTORVM_CLI_H
#define ACTORVM_CLI_H

struct avm_cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

int avm_cli_demo(int argc, char **argv);
int avm_cli_trace(int argc, char **argv);

#endif /* ACTORVM_CLI_H */
