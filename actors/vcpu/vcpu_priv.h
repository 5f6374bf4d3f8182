/* SPDX-License-Identifier: MIT */
#ifndef VCPU_PRIV_H
#define VCPU_PRIV_H

#include <stdatomic.h>

#include <actorvm/runtime.h>

#include "vcpu.h"

enum vcpu_exit {
	VCPU_EXIT_SLICE,
	VCPU_EXIT_HLT,
	VCPU_EXIT_KICK,
	VCPU_EXIT_ERROR
};

struct soft_cpu;

/* The software CPU backend (unicorn). All calls on the VCPU thread, except
 * soft_kick(), which any thread may call. */
int soft_init(struct soft_cpu **out, avm_ctx *ctx, avm_accessor *acc,
	      const struct vcpu_config *cfg, _Atomic uint64_t *exits);
void soft_fini(struct soft_cpu *c);
enum vcpu_exit soft_run(struct soft_cpu *c, uint64_t insns);
int soft_inject(struct soft_cpu *c, unsigned vector);
bool soft_if(struct soft_cpu *c);
uint64_t soft_reg(struct soft_cpu *c, enum vcpu_reg r);
void soft_kick(void *arg);

#endif /* VCPU_PRIV_H */
