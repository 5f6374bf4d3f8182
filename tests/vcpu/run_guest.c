/* SPDX-License-Identifier: MIT */
/*
 * run_guest ELF EXPECTED [CMDLINE]: boot a Multiboot guest on actorvm's
 * software CPU (64 MiB of RAM, the exit port, one VCPU) and check that it
 * exits with status EXPECTED, the QEMU-compatible (value << 1) | 1 of its
 * isa-debug-exit write. The actorvm half of the QEMU comparison.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debugexit.h"
#include "multiboot.h"
#include "vcpu.h"

static int boot(avm_runtime *rt, const char *elf, const char *cmdline)
{
	struct avm_actor_spec ex = { .ops = &debugexit_ops,
				     .name = "exit",
				     .cpu = -1 };
	struct vcpu_config vc = { 0 };
	struct avm_actor_spec cpu = {
		.ops = &vcpu_ops, .name = "vcpu0", .config = &vc, .cpu = -1
	};
	struct mb_boot b;
	avm_actor_id id;
	char err[256] = "";
	int ret;

	ret = avm_ram_add(rt, 0, 64 << 20, NULL) ?:
	      avm_actor_create(rt, &ex, &id) ?:
	      avm_map(rt, id, 0, DEBUGEXIT_PORT) ?:
	      mb_load_file(rt, elf, cmdline, &b, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "run_guest: %s: %s\n", elf,
			err[0] ? err : strerror(-ret));
		return ret;
	}
	vc.entry = b.entry;
	vc.eax = b.magic;
	vc.ebx = b.info_gpa;
	return avm_actor_create(rt, &cpu, &id) ?: avm_runtime_start(rt);
}

int main(int argc, char **argv)
{
	avm_runtime *rt;
	int expected, code = -1, ret;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: run_guest ELF EXPECTED [CMDLINE]\n");
		return 2;
	}
	expected = atoi(argv[2]);
	if (avm_runtime_new(NULL, &rt))
		return 1;
	ret = boot(rt, argv[1], argc == 4 ? argv[3] : NULL);
	if (!ret)
		ret = avm_runtime_wait_exit(rt, 30000000000ll, &code);
	avm_runtime_free(rt);
	if (ret) {
		fprintf(stderr, "run_guest: %s: no exit (%s)\n", argv[1],
			strerror(-ret));
		return 1;
	}
	printf("%s: exit status %d (expected %d)\n", argv[1], code, expected);
	return code == expected ? 0 : 1;
}
