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

/*
 * `actorvm run`'s exit statuses. A guest's verdict is QEMU's isa-debug-exit
 * number, (V << 1) | 1 for a guest that wrote V: always odd. So the tool's
 * own outcomes are even, and no guest can fake one (nor hide behind one).
 */
enum avm_exit {
	AVM_EXIT_OK = 0,
	AVM_EXIT_USAGE = 2,	    /* bad command line */
	AVM_EXIT_MANIFEST = 4,	    /* manifest unreadable or with errors */
	AVM_EXIT_BUILD = 6,	    /* the VMs could not be built or started */
	AVM_EXIT_DATA_LOST = 8,	    /* trace or serial output lost */
	AVM_EXIT_STUCK = 10,	    /* a VM can never exit (its CPUs stopped) */
	AVM_EXIT_DEVICE = 12,	    /* a device process died: stop-vm policy */
	AVM_EXIT_TIMEOUT = 124,	    /* --timeout */
	AVM_EXIT_INTERRUPTED = 130, /* Ctrl-C, SIGTERM, `actorvm ctl stop` */
};

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
int avm_cli_replay(int argc, char **argv);

#endif /* ACTORVM_CLI_H */
