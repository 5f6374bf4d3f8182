/* SPDX-License-Identifier: MIT */
/* One KVM VM per runtime: memory slots and the optional in-kernel irqchip
 * once, VCPUs added by each VCPU actor (see kvm_cpu.c). */
#include "kvm_vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <actorvm/runtime.h>

#define TSS_GPA 0xfffbd000u /* 3 pages below 4 GiB, as QEMU places it */

struct kvm_vm {
	int kvm, fd;
	size_t run_size;
	bool irqchip;
	_Atomic unsigned refs;
};

static int map_ram(struct kvm_vm *vm, avm_ctx *ctx)
{
	uint64_t gpa, size;
	void *host;

	for (unsigned i = 0; !avm_ram_block(ctx, i, &gpa, &size, &host); i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = gpa,
			.memory_size = size,
			.userspace_addr = (uint64_t)(uintptr_t)host,
		};

		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r))
			return -errno;
	}
	return 0;
}

/* KVM_CREATE_IRQCHIP must come before the first KVM_CREATE_VCPU: the VCPUs'
 * local APICs are created in the kernel along with the VCPUs. */
static int create_irqchip(struct kvm_vm *vm)
{
	if (ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0)
		return -EOPNOTSUPP;
	return ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) ? -errno : 0;
}

static int set_up(struct kvm_vm *vm, avm_ctx *ctx, bool irqchip)
{
	long sz;
	int err;

	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -errno;
	/* Intel VMX needs a TSS area for its real-mode emulation; other
	 * hosts (AMD, PVM) ignore or refuse it, which is harmless here. */
	(void)ioctl(vm->fd, KVM_SET_TSS_ADDR, TSS_GPA);
	sz = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0)
		return sz < 0 ? -errno : -EINVAL;
	vm->run_size = (size_t)sz;
	vm->irqchip = irqchip;
	err = irqchip ? create_irqchip(vm) : 0;
	return err ?: map_ram(vm, ctx);
}

int kvm_vm_open(avm_ctx *ctx, bool irqchip, struct kvm_vm **out)
{
	struct kvm_vm *vm = calloc(1, sizeof(*vm));
	int err;

	if (!vm)
		return -ENOMEM;
	vm->fd = -1;
	atomic_init(&vm->refs, 1);
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0) {
		err = -errno;
		goto free_vm;
	}
	err = set_up(vm, ctx, irqchip);
	if (err)
		goto close_fds;
	*out = vm;
	return 0;

close_fds:
	if (vm->fd >= 0)
		close(vm->fd);
	close(vm->kvm);
free_vm:
	free(vm);
	return err;
}

struct kvm_vm *kvm_vm_get(struct kvm_vm *vm)
{
	/* Relaxed: a new reference is taken from an existing one, which
	 * already orders everything before it. */
	atomic_fetch_add_explicit(&vm->refs, 1, memory_order_relaxed);
	return vm;
}

void kvm_vm_put(struct kvm_vm *vm)
{
	if (!vm)
		return;
	/* Acq_rel: every holder's last use happens before the close. */
	if (atomic_fetch_sub_explicit(&vm->refs, 1, memory_order_acq_rel) != 1)
		return;
	close(vm->fd);
	close(vm->kvm);
	free(vm);
}

int kvm_vm_fd(const struct kvm_vm *vm)
{
	return vm->fd;
}

size_t kvm_vm_run_size(const struct kvm_vm *vm)
{
	return vm->run_size;
}

bool kvm_vm_irqchip(const struct kvm_vm *vm)
{
	return vm->irqchip;
}

bool kvm_vm_irqchip_usable(char *why, size_t len)
{
	struct kvm_vm vm = { .fd = -1 };
	int err = 0;

	vm.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm.kvm < 0) {
		snprintf(why, len, "/dev/kvm: %s", strerror(errno));
		return false;
	}
	vm.fd = ioctl(vm.kvm, KVM_CREATE_VM, 0);
	err = vm.fd < 0 ? -errno : create_irqchip(&vm);
	if (err)
		snprintf(why, len, "KVM_CREATE_IRQCHIP: %s", strerror(-err));
	if (vm.fd >= 0)
		close(vm.fd);
	close(vm.kvm);
	return !err;
}

int kvm_vm_irq_line(void *slot, unsigned gsi, bool level)
{
	struct kvm_vm *vm = *(struct kvm_vm **)slot;
	struct kvm_irq_level l = { .irq = gsi, .level = level };

	if (!vm || !vm->irqchip)
		return -ENODEV;
	/* KVM_IRQ_LINE sets a level: a level-triggered pin stays asserted
	 * until its source lowers it, and the kernel IOAPIC re-delivers it
	 * after the EOI by itself. */
	return ioctl(vm->fd, KVM_IRQ_LINE, &l) ? -errno : 0;
}

/* --- The "kvm" actor: owns the runtime's VM ------------------------------ */

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
	err = kvm_vm_open(ctx, cfg->irqchip, &a->vm);
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
