/* SPDX-License-Identifier: MIT */
/**
 * DOC: kvm_vm - one KVM VM per runtime, shared by its VCPU actors
 *
 * A &struct kvm_vm is a /dev/kvm VM with the runtime's RAM blocks as its
 * memory slots and, optionally, KVM's in-kernel irqchip (PIC, IOAPIC and a
 * local APIC per VCPU, created before any VCPU as KVM requires). It is
 * reference counted: whoever opens it holds one reference, every VCPU that
 * runs in it takes one, and the last kvm_vm_put() closes it.
 *
 * In a machine, the "kvm" actor (%kvm_vm_ops) owns the runtime's VM: its
 * init opens it and publishes it in the slot its &struct kvm_vm_config
 * names, its fini drops its reference. Create it before the VCPUs and the
 * IOAPIC that use it: actors start in creation order (each init finishes
 * before the next begins, so they see the slot filled) and stop in reverse,
 * so the VM outlives them. A VCPU without a shared VM opens a private one.
 */
#ifndef HOST_KVM_VM_H
#define HOST_KVM_VM_H

#include <stdbool.h>
#include <stddef.h>

#include <actorvm/actor.h>

struct kvm_vm;

/**
 * struct kvm_vm_config - the "kvm" actor's configuration.
 * @irqchip: create KVM's in-kernel irqchip.
 * @slot: where init publishes the VM (and fini clears it); must outlive
 *   the runtime. VCPUs and the IOAPIC read it in their own init.
 */
struct kvm_vm_config {
	bool irqchip;
	struct kvm_vm **slot;
};

extern const struct avm_device_ops kvm_vm_ops;

/**
 * kvm_vm_open() - create a VM with @ctx's runtime's RAM as memory slots
 * (and the in-kernel irqchip if @irqchip). Returns 0 or a negative errno;
 * -EOPNOTSUPP if KVM lacks the in-kernel irqchip.
 */
int kvm_vm_open(avm_ctx *ctx, bool irqchip, struct kvm_vm **out);
struct kvm_vm *kvm_vm_get(struct kvm_vm *vm);
void kvm_vm_put(struct kvm_vm *vm);

/** kvm_vm_fd(), kvm_vm_run_size(), kvm_vm_irqchip() - its properties. */
int kvm_vm_fd(const struct kvm_vm *vm);
size_t kvm_vm_run_size(const struct kvm_vm *vm);
bool kvm_vm_irqchip(const struct kvm_vm *vm);

/**
 * kvm_vm_irqchip_usable() - whether this host's KVM can create a VM with
 * the in-kernel irqchip (tried on a scratch VM); if not, why (in @why).
 */
bool kvm_vm_irqchip_usable(char *why, size_t len);

/**
 * kvm_vm_irq_line() - set the level of in-kernel irqchip input @gsi
 * (IOAPIC pin @gsi, and PIC line @gsi below 16) with KVM_IRQ_LINE. @slot
 * is a &struct kvm_vm ** (see &struct kvm_vm_config); the signature fits
 * &struct ioapic_config's forward hook. Any thread may call it.
 */
int kvm_vm_irq_line(void *slot, unsigned gsi, bool level);

#endif /* HOST_KVM_VM_H */
