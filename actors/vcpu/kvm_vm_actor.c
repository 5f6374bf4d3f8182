/* SPDX-License-Identifier: MIT */
/* The "kvm" actor, which owns a runtime's KVM VM (why an actor: vcpu.h,
 * kvm_vm_ops), and the VM with the runtime's RAM as memory slots. */
#include <errno.h>
#include <string.h>

#include "kvm_backend.h"
#include "vcpu.h"

int vcpu_kvm_vm_open(avm_ctx *ctx, bool irqchip, struct kvm_vm **out)
{
	struct kvm_vm *vm;
	uint64_t gpa, size;
	void *host;
	int err = kvm_vm_open(irqchip, &vm);

	for (unsigned i = 0; !err && !avm_ram_block(ctx, i, &gpa, &size, &host);
	     i++)
		err = kvm_vm_map(vm, i, gpa, size, host);
	if (err) {
		kvm_vm_put(vm);
		return err;
	}
	*out = vm;
	return 0;
}

struct kvm_vm_actor {
	struct kvm_vm *vm;
	struct kvm_vm **slot;
};

static int kvm_actor_init(void *state, const void *config, avm_ctx *ctx)
{
	const struct kvm_vm_config *cfg = config;
	struct kvm_vm_actor *a = state;
	int err;

	if (!cfg || !cfg->slot)
		return -EINVAL;
	err = vcpu_kvm_vm_open(ctx, cfg->irqchip, &a->vm);
	if (err) {
		avm_log(ctx, AVM_LOG_ERROR, "KVM VM%s: %s",
			cfg->irqchip ? " with in-kernel irqchip" : "",
			strerror(-err));
		return err;
	}
	a->slot = cfg->slot;
	/* Plain store: the actors that read it start after this init has
	 * reported ready (the runtime's start sequence orders the two). */
	*a->slot = a->vm;
	avm_log(ctx, AVM_LOG_INFO, "KVM VM ready (%s irqchip)",
		cfg->irqchip ? "in-kernel" : "user-space");
	return 0;
}

static void kvm_actor_fini(void *state)
{
	struct kvm_vm_actor *a = state;

	/* The users stopped before us (reverse creation order). */
	*a->slot = NULL;
	kvm_vm_put(a->vm);
}

static void kvm_actor_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	(void)state, (void)m, (void)ctx; /* it takes no messages */
}

const struct avm_device_ops kvm_vm_ops = {
	.type = "kvm",
	.doc = "the runtime's KVM VM (memory slots, in-kernel irqchip)",
	.state_size = sizeof(struct kvm_vm_actor),
	.init = kvm_actor_init,
	.fini = kvm_actor_fini,
	.handle = kvm_actor_handle,
};
