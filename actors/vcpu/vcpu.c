/* SPDX-License-Identifier: MIT */
/* The VCPU actor: a self-driven loop of guest slices, interrupt delivery,
 * HLT and pause, around a host backend. */
#include "vcpu.h"

#include <errno.h>
#include <string.h>

#include "vcpu_priv.h"

#define DEFAULT_SLICE 100000

enum { ST_RUNNING, ST_HALTED, ST_PAUSED, ST_FAILED };

struct vcpu {
	struct vcpu_config cfg;
	const struct vcpu_backend_ops *be;
	void *cpu;
	avm_accessor *acc;
	uint64_t pending[4]; /* one bit per vector */
	bool halted, paused, failed;
	uint64_t irqs;
	_Atomic uint64_t exits;
};

static const struct avm_region_desc vcpu_regions[] = {
	{ .name = "state", .space = AVM_SPACE_MMIO, .size = 0x30 },
};

static int pick_backend(struct vcpu *v, avm_ctx *ctx)
{
	char why[128] = "";
	bool kvm = vcpu_kvm_usable(why, sizeof(why));

	if (v->cfg.backend == VCPU_BACKEND_KVM && !kvm) {
		avm_log(ctx, AVM_LOG_ERROR, "KVM requested but unusable: %s",
			why);
		return -ENODEV;
	}
	v->be = kvm && v->cfg.backend != VCPU_BACKEND_SOFT ? &vcpu_kvm_backend
							   : &vcpu_soft_backend;
	if (v->cfg.backend == VCPU_BACKEND_AUTO && !kvm)
		avm_log(ctx, AVM_LOG_INFO, "running on the %s (%s)",
			v->be->name, why);
	else
		avm_log(ctx, AVM_LOG_INFO, "running on %s", v->be->name);
	return 0;
}

static int vcpu_init(void *state, const void *config, avm_ctx *ctx)
{
	struct vcpu *v = state;
	int err;

	if (!config)
		return -EINVAL;
	v->cfg = *(const struct vcpu_config *)config;
	if (!v->cfg.slice_insns)
		v->cfg.slice_insns = DEFAULT_SLICE;
	/* Our thread's accessor: guest accesses are this thread's sends. */
	err = avm_accessor_new(avm_runtime_of(ctx), "vcpu", &v->acc);
	if (err)
		return err;
	err = pick_backend(v, ctx);
	if (!err)
		err = v->be->init(&v->cpu, ctx, v->acc, &v->cfg, &v->exits);
	if (!err)
		err = avm_set_kick(ctx, v->be->kick, v->cpu);
	if (err) {
		if (v->be)
			v->be->fini(v->cpu);
		avm_accessor_free(v->acc);
	}
	return err;
}

static void vcpu_fini(void *state)
{
	struct vcpu *v = state;

	v->be->fini(v->cpu);
	avm_accessor_free(v->acc);
}

static uint64_t state_of(const struct vcpu *v)
{
	return v->failed   ? ST_FAILED
	       : v->paused ? ST_PAUSED
	       : v->halted ? ST_HALTED
			   : ST_RUNNING;
}

static void answer(struct vcpu *v, const struct avm_msg *m, avm_ctx *ctx)
{
	switch (m->addr) {
	case VCPU_REG_STATE:
		avm_reply(ctx, state_of(v));
		return;
	case VCPU_REG_EXITS:
		avm_reply(ctx, atomic_load(&v->exits));
		return;
	case VCPU_REG_IRQS:
		avm_reply(ctx, v->irqs);
		return;
	default:
		break;
	}
	/* CPU registers are only stable while the CPU does not run. */
	if (!v->paused && !v->failed)
		avm_reply_error(ctx, -EBUSY);
	else
		avm_reply(ctx, v->be->reg(v->cpu, (enum vcpu_reg)m->addr));
}

static void raise(struct vcpu *v, uint64_t vector)
{
	vector &= 255;
	v->pending[vector / 64] |= 1ull << (vector % 64);
}

static void vcpu_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct vcpu *v = state;

	switch (m->kind) {
	case VCPU_MSG_INTERRUPT:
		raise(v, m->value);
		break;
	case AVM_MSG_IRQ:
		/* The fast path: a device's line routed straight here, the
		 * binding's argument being the vector. An assertion is an
		 * edge; level semantics (re-delivery until EOI) belong to
		 * the interrupt controller. */
		if (m->value)
			raise(v, m->arg);
		break;
	case VCPU_MSG_PAUSE:
		v->paused = true;
		break;
	case VCPU_MSG_RESUME:
		v->paused = false;
		break;
	case AVM_MSG_READ:
		answer(v, m, ctx);
		break;
	default:
		break;
	}
}

/* The highest pending vector, as the local APIC would prioritise. */
static int next_vector(const struct vcpu *v)
{
	for (int w = 3; w >= 0; w--)
		if (v->pending[w])
			return w * 64 + 63 - __builtin_clzll(v->pending[w]);
	return -1;
}

static void deliver(struct vcpu *v, avm_ctx *ctx)
{
	int vec = next_vector(v);

	if (vec < 0 || !v->be->irq_ready(v->cpu))
		return;
	v->pending[vec / 64] &= ~(1ull << (vec % 64));
	if (v->be->inject(v->cpu, (unsigned)vec)) {
		/* No usable gate: a real CPU would triple-fault. */
		avm_log(ctx, AVM_LOG_ERROR, "vector %d has no usable IDT gate",
			vec);
		v->failed = true;
		return;
	}
	v->irqs++;
	v->halted = false;
}

static void step(struct vcpu *v, avm_ctx *ctx)
{
	switch (v->be->run(v->cpu, v->cfg.slice_insns)) {
	case VCPU_EXIT_HLT:
		v->halted = true;
		break;
	case VCPU_EXIT_ERROR:
		avm_log(ctx, AVM_LOG_ERROR, "guest stopped at EIP 0x%llx",
			(unsigned long long)v->be->reg(v->cpu, VCPU_REG_EIP));
		v->failed = true;
		break;
	default:
		break;
	}
}

static int vcpu_run(void *state, avm_ctx *ctx)
{
	struct vcpu *v = state;
	int err;

	while (!(err = avm_poll(ctx))) {
		if (!v->paused && !v->failed)
			deliver(v, ctx);
		if (v->paused || v->failed || v->halted) {
			err = avm_wait(ctx, -1);
			if (err == -ESHUTDOWN)
				break;
			continue;
		}
		step(v, ctx);
	}
	return err;
}

const struct avm_device_ops vcpu_ops = {
	.type = "vcpu",
	.doc = "x86 VCPU on the software CPU (unicorn)",
	.state_size = sizeof(struct vcpu),
	.regions = vcpu_regions,
	.n_regions = 1,
	.init = vcpu_init,
	.handle = vcpu_handle,
	.fini = vcpu_fini,
	.run = vcpu_run,
};
