/* SPDX-License-Identifier: MIT */
/**
 * DOC: host-kvm - the /dev/kvm layer
 *
 * Everything that talks to /dev/kvm, and nothing else: a &struct kvm_vm
 * (the VM file descriptor, its memory slots, KVM's optional in-kernel
 * irqchip) and a &struct kvm_vcpu (a VCPU file descriptor and its mapped
 * &struct kvm_run), as thin wrappers over the ioctls, plus run-time probes
 * of what this host's KVM can do. It knows nothing of actors or runtimes:
 * it needs only libc and <linux/kvm.h>, and nothing in actors/ or
 * framework/ is included here. The VCPU actor's KVM backend
 * (actors/vcpu/kvm_backend.c) and the "kvm" actor that owns a runtime's VM
 * (actors/vcpu/kvm_vm_actor.c) are built on it.
 *
 * Lifetimes: a VM is reference counted. kvm_vm_open() returns one
 * reference, every &struct kvm_vcpu holds one, and the last kvm_vm_put()
 * closes it. Unless said otherwise, a function may be called from any
 * thread, but a &struct kvm_vcpu is used by one thread at a time (KVM
 * requires the ioctls of a VCPU to come from the thread that runs it).
 * Errors are negative errnos.
 */
#ifndef HOST_KVM_VM_H
#define HOST_KVM_VM_H

#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm_vm;
struct kvm_vcpu;

/**
 * kvm_host_usable() - whether /dev/kvm can be opened and speaks the API
 * version this code was written for; if not, why (in @why, @len bytes).
 */
bool kvm_host_usable(char *why, size_t len);

/**
 * kvm_vm_irqchip_usable() - whether this host's KVM can create a VM with
 * the in-kernel irqchip (tried on a scratch VM); if not, why (in @why).
 */
bool kvm_vm_irqchip_usable(char *why, size_t len);

/**
 * kvm_periodic_timer_usable() - whether the periodic timer of KVM's
 * in-kernel local APIC keeps interrupting (tried on a scratch VM running a
 * tiny guest); if not, why. On PVM-based KVM it stops after one interrupt.
 * Runs KVM_RUN on the calling thread for a few milliseconds.
 */
bool kvm_periodic_timer_usable(char *why, size_t len);

/**
 * kvm_vm_open() - create a VM with no memory yet, and with KVM's in-kernel
 * irqchip if @irqchip. Returns 0 with one reference in @out, or a negative
 * errno; -EOPNOTSUPP if KVM lacks the in-kernel irqchip.
 */
int kvm_vm_open(bool irqchip, struct kvm_vm **out);

/**
 * kvm_vm_map() - make @size bytes at @host guest RAM at @gpa, as memory
 * slot @slot. @host must stay mapped while the VM lives. Call before the
 * first VCPU runs.
 */
int kvm_vm_map(struct kvm_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
	       void *host);

/** kvm_vm_get(), kvm_vm_put() - take and drop a reference (put: NULL ok). */
struct kvm_vm *kvm_vm_get(struct kvm_vm *vm);
void kvm_vm_put(struct kvm_vm *vm);

/** kvm_vm_irqchip() - whether @vm has the in-kernel irqchip. */
bool kvm_vm_irqchip(const struct kvm_vm *vm);

/**
 * kvm_vm_irq_line() - set the level of in-kernel irqchip input @gsi
 * (IOAPIC pin @gsi, and PIC line @gsi below 16) with KVM_IRQ_LINE. @slot
 * is a &struct kvm_vm ** (the slot the "kvm" actor fills, see
 * &struct kvm_vm_config in actors/vcpu/vcpu.h), read at each call; the
 * signature fits &struct ioapic_config's forward hook. -ENODEV while the
 * slot is empty or the VM has no in-kernel irqchip.
 */
int kvm_vm_irq_line(void *slot, unsigned gsi, bool level);

/**
 * kvm_vcpu_open() - create VCPU @id (its initial APIC ID) in @vm and map
 * its &struct kvm_run. The VCPU holds a reference to @vm until
 * kvm_vcpu_close(). With the in-kernel irqchip, the VM must have been
 * opened before (KVM creates the local APICs with the VCPUs).
 */
int kvm_vcpu_open(struct kvm_vm *vm, unsigned id, struct kvm_vcpu **out);

/** kvm_vcpu_close() - unmap, close, drop the VM reference (NULL ok). */
void kvm_vcpu_close(struct kvm_vcpu *cpu);

/**
 * kvm_vcpu_run_area() - the VCPU's shared &struct kvm_run: exit reason and
 * data after kvm_vcpu_run(), immediate_exit and the interrupt window
 * request before it. Valid until kvm_vcpu_close().
 */
struct kvm_run *kvm_vcpu_run_area(struct kvm_vcpu *cpu);

/**
 * kvm_vcpu_run() - KVM_RUN once. 0 with an exit to decode in the run
 * area, or a negative errno: -EINTR when a signal unblocked by
 * kvm_vcpu_set_signal_mask() (or immediate_exit) ended it.
 */
int kvm_vcpu_run(struct kvm_vcpu *cpu);

/** kvm_vcpu_get_regs() and friends - KVM_{GET,SET}_{REGS,SREGS}. */
int kvm_vcpu_get_regs(struct kvm_vcpu *cpu, struct kvm_regs *r);
int kvm_vcpu_set_regs(struct kvm_vcpu *cpu, const struct kvm_regs *r);
int kvm_vcpu_get_sregs(struct kvm_vcpu *cpu, struct kvm_sregs *sr);
int kvm_vcpu_set_sregs(struct kvm_vcpu *cpu, const struct kvm_sregs *sr);

/** kvm_vcpu_set_runnable() - KVM_SET_MP_STATE to RUNNABLE (in-kernel
 * irqchip: KVM starts every VCPU but ID 0 waiting for INIT/SIPI). */
int kvm_vcpu_set_runnable(struct kvm_vcpu *cpu);

/** kvm_vcpu_interrupt() - KVM_INTERRUPT (user-space irqchip only). */
int kvm_vcpu_interrupt(struct kvm_vcpu *cpu, unsigned vector);

/**
 * kvm_vcpu_set_signal_mask() - KVM_SET_SIGNAL_MASK: the signal mask of
 * the calling thread while it is inside KVM_RUN (a signal unblocked there
 * ends KVM_RUN with -EINTR).
 */
int kvm_vcpu_set_signal_mask(struct kvm_vcpu *cpu, const sigset_t *set);

#endif /* HOST_KVM_VM_H */
