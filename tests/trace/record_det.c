/* SPDX-License-Identifier: MIT */
/*
 * record_det OUT: record a real trace with the deterministic executor (the
 * recorder, not the tests' writer), for test_cli.py. The guest posts 20
 * writes to testdev "dev0", virtual time advancing i us after write i, so
 * write i is posted at (i - 1) * i / 2 us; then one read. The executor
 * delivers at once: every wait and service time is 0 in virtual time.
 *
 * record_det OUT COST_NS: every handler takes COST_NS of virtual time
 * (avm_det_set_handler_cost); three writes and then a read are queued at
 * t = 0, so write k waits (k - 1) * COST_NS, the read waits 3 * COST_NS and
 * gets its reply after that wait, and every service time is COST_NS.
 */
#include <stdio.h>
#include <stdlib.h>

#include <actorvm/deterministic.h>
#include <actorvm/runtime.h>
#include <actorvm/trace.h>

#include "testdev.h"

#define MMIO 0xf0000000ull

static int setup(avm_runtime **rt, avm_accessor **acc)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_DETERMINISTIC };
	struct avm_actor_spec s = { .ops = &testdev_ops, .name = "dev0" };
	avm_actor_id id;

	return avm_runtime_new(&cfg, rt) ?: avm_actor_create(*rt, &s, &id) ?:
	       avm_map(*rt, id, 0, MMIO) ?: avm_runtime_start(*rt) ?:
	       avm_accessor_new(*rt, "vcpu0", acc);
}

static int workload(avm_runtime *rt, avm_accessor *acc)
{
	uint64_t v;
	int ret = 0;

	for (unsigned i = 1; i <= 20 && !ret; i++) {
		ret = avm_write(acc, AVM_SPACE_MMIO, MMIO + TESTDEV_SCRATCH, 8,
				i)
			      ?: avm_det_advance(rt, 1000ull * i);
		if (!ret)
			avm_det_run(rt, 0);
	}
	return ret
		       ?: avm_read(acc, AVM_SPACE_MMIO, MMIO + TESTDEV_SCRATCH,
				   8, &v);
}

static int queued(avm_runtime *rt, avm_accessor *acc, uint64_t cost)
{
	uint64_t v;
	int ret = avm_det_set_handler_cost(rt, cost);

	for (unsigned i = 1; i <= 3 && !ret; i++)
		ret = avm_write(acc, AVM_SPACE_MMIO, MMIO + TESTDEV_SCRATCH, 8,
				i);
	/* The read runs the executor: the writes first, in order. */
	return ret
		       ?: avm_read(acc, AVM_SPACE_MMIO, MMIO + TESTDEV_SCRATCH,
				   8, &v);
}

int main(int argc, char **argv)
{
	struct avm_trace_options o = { 0 };
	avm_runtime *rt = NULL;
	avm_accessor *acc = NULL;
	int ret;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: record_det OUT [COST_NS]\n");
		return 2;
	}
	o.path = argv[1];
	ret = setup(&rt, &acc) ?: avm_trace_start(rt, &o);
	if (!ret)
		ret = argc == 3 ? queued(rt, acc, strtoull(argv[2], NULL, 0))
				: workload(rt, acc);
	if (!ret)
		ret = avm_trace_stop(rt);
	if (ret)
		fprintf(stderr, "record_det: failed: %d\n", ret);
	avm_accessor_free(acc);
	avm_runtime_free(rt);
	return ret ? 1 : 0;
}
