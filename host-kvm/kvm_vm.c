/* SPDX-License-Identifier: MIT */
/* A KVM VM: its memory slots and optional in-kernel irqchip, shared by
 * reference by its VCPUs (kvm_vcpu.c). */
#include "kvm_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TSS_GPA 0xfffbd000u /* 3 pages below 4 GiB, as QEMU places it */

/* KVM_CREATE_IRQCHIP must come before the first KVM_CREATE_VCPU: the VCPUs'
 * local APICs are created in the kernel along with the VCPUs. */
static int create_irqchip(struct kvm_vm *vm)
{
	if (ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0)
		return -EOPNOTSUPP;
	return ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) ? -errno : 0;
}

static int set_up(struct kvm_vm *vm, bool irqchip)
{
	long sz;

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
	return irqchip ? create_irqchip(vm) : 0;
}

int kvm_vm_open(bool irqchip, struct kvm_vm **out)
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
	err = set_up(vm, irqchip);
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

int kvm_vm_map(struct kvm_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
	       void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

bool kvm_vm_irqchip(const struct kvm_vm *vm)
{
	return vm->irqchip;
}

bool kvm_host_usable(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), ver;

	if (fd < 0) {
		snprintf(why, len, "/dev/kvm: %s", strerror(errno));
		return false;
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (ver != KVM_API_VERSION) {
		snprintf(why, len, "/dev/kvm: API version %d, not %d", ver,
			 KVM_API_VERSION);
		return false;
	}
	return true;
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
