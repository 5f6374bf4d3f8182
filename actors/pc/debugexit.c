/* SPDX-License-Identifier: MIT */
#include "debugexit.h"

static const struct avm_region_desc debugexit_regions[] = {
	{ .name = "port", .space = AVM_SPACE_PIO, .size = 4 },
};

static void debugexit_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	(void)state;
	if (m->kind == AVM_MSG_WRITE)
		avm_vm_exit(ctx, (int)(((uint32_t)m->access.value << 1) | 1));
	else if (m->kind == AVM_MSG_READ)
		avm_reply(ctx, 0);
}

const struct avm_device_ops debugexit_ops = {
	.type = "debugexit",
	.doc = "isa-debug-exit: a write of V exits the VM with (V << 1) | 1",
	.state_size = 0,
	.regions = debugexit_regions,
	.n_regions = 1,
	.handle = debugexit_handle,
};
