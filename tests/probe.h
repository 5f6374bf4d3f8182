/* SPDX-License-Identifier: MIT */
/* A probe actor for tests: it records every message it is sent, so a test
 * of the deterministic executor can read them from its state afterwards. */
#ifndef TEST_PROBE_H
#define TEST_PROBE_H

#include <actorvm/actor.h>

#define PROBE_MAX_SEEN 32

struct probe {
	unsigned n; /* messages seen; only the first PROBE_MAX_SEEN kept */
	struct avm_msg seen[PROBE_MAX_SEEN];
};

static inline void probe_handle(void *state, const struct avm_msg *m,
				avm_ctx *ctx)
{
	struct probe *p = state;

	(void)ctx;
	if (p->n < PROBE_MAX_SEEN)
		p->seen[p->n] = *m;
	p->n++;
}

static const struct avm_device_ops probe_ops = {
	.type = "probe",
	.state_size = sizeof(struct probe),
	.handle = probe_handle,
};

#endif /* TEST_PROBE_H */
