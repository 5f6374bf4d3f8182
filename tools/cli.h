/* SPDX-License-Identifier: MIT */
/* Subcommands of the actorvm command. Each returns main()'s exit code. */
#ifndef ACTORVM_CLI_H
#define ACTORVM_CLI_H

struct avm_cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

#include <stdbool.h>

struct mf_manifest;

int avm_cli_demo(int argc, char **argv);
int avm_cli_run(int argc, char **argv);
int avm_cli_check(int argc, char **argv);
int avm_cli_graph(int argc, char **argv);
int avm_cli_list(int argc, char **argv);

/* The guest directory: @given, else $ACTORVM_GUEST_DIR, else the build's. */
const char *avm_cli_guest_dir(const char *given);

/* Loads and checks a manifest, printing diagnostics; NULL on errors. */
struct mf_manifest *avm_cli_load(const char *file, const char *guest_dir,
				 bool quiet_ok);
int avm_cli_trace(int argc, char **argv);
int avm_cli_ctl(int argc, char **argv);

#endif /* ACTORVM_CLI_H */
