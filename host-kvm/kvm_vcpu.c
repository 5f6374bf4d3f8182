/* SPDX-License-Identifier: MIT */
/* A KVM VCPU: its file descriptor, its mapped struct kvm_run, and the
 * ioctls the VCPU actor's KVM backend makes on it, one call each. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_priv.h"

struct kvm_vcpu {
	struct kvm_vm *vm;
	int fd;
	struct kvm_run *run;
	size_t run_size;
};

int kvm_vcpu_open(struct kvm_vm *vm, unsigned id, struct kvm_vcpu **out)
{
	struct kvm_vcpu *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (c->fd < 0) {
		err = -errno;
		goto free_cpu;
	}
	c->run_size = vm->run_size;
	c->run = mmap(NULL, c->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->fd, 0);
	if (c->run == MAP_FAILED) {
		err = -errno;
		goto close_fd;
	}
	c->vm = kvm_vm_get(vm);
	*out = c;
	return 0;

close_fd:
	close(c->fd);
free_cpu:
	free(c);
	return err;
}

void kvm_vcpu_close(struct kvm_vcpu *c)
{
	if (!c)
		return;
	munmap(c->run, c->run_size);
	close(c->fd);
	kvm_vm_put(c->vm);
	free(c);
}

struct kvm_run *kvm_vcpu_run_area(struct kvm_vcpu *c)
{
	return c->run;
}

int kvm_vcpu_run(struct kvm_vcpu *c)
{
	return ioctl(c->fd, KVM_RUN, 0) < 0 ? -errno : 0;
}

int kvm_vcpu_get_regs(struct kvm_vcpu *c, struct kvm_regs *r)
{
	return ioctl(c->fd, KVM_GET_REGS, r) ? -errno : 0;
}

int kvm_vcpu_set_regs(struct kvm_vcpu *c, const struct kvm_regs *r)
{
	return ioctl(c->fd, KVM_SET_REGS, r) ? -errno : 0;
}

int kvm_vcpu_get_sregs(struct kvm_vcpu *c, struct kvm_sregs *sr)
{
	return ioctl(c->fd, KVM_GET_SREGS, sr) ? -errno : 0;
}

int kvm_vcpu_set_sregs(struct kvm_vcpu *c, const struct kvm_sregs *sr)
{
	return ioctl(c->fd, KVM_SET_SREGS, sr) ? -errno : 0;
}

int kvm_vcpu_set_runnable(struct kvm_vcpu *c)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	return ioctl(c->fd, KVM_SET_MP_STATE, &mp) ? -errno : 0;
}

int kvm_vcpu_interrupt(struct kvm_vcpu *c, unsigned vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	return ioctl(c->fd, KVM_INTERRUPT, &irq) ? -errno : 0;
}

int kvm_vcpu_set_signal_mask(struct kvm_vcpu *c, const sigset_t *set)
{
	struct kvm_signal_mask *km = malloc(sizeof(*km) + 8);
	int err;

	if (!km)
		return -ENOMEM;
	/* The kernel's sigset is 8 bytes, glibc's sigset_t 128: its first 8
	 * bytes are the kernel's layout. */
	km->len = 8;
	memcpy(km->sigset, set, 8);
	err = ioctl(c->fd, KVM_SET_SIGNAL_MASK, km) ? -errno : 0;
	free(km);
	return err;
}
