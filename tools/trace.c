/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cli.h"

int avm_cli_trace(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "actorvm trace: being written\n");
	return 1;
}
