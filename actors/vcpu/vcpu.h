/* SPDX-License-Identifier: MIT */
/**
 * DOC: vcpu - a virtual CPU as a self-driven actor
 *
 * The VCPU's server thread owns its CPU state and runs guest code on a host
 * backend (the software CPU, or KVM through host-kvm/). MMIO and port I/O
 * exits go through the address map like any VCPU access (direct register,
 * synchronous read, posted write); interrupts arrive as messages and are
 * delivered through the guest's IDT when it has interrupts enabled; HLT
 * sleeps until a message comes. A message posted to the VCPU kicks it out
 * of guest code.
 *
 * Messages it takes: %VCPU_MSG_INTERRUPT (@user.value: vector); %AVM_MSG_IRQ
 * from a device whose IRQ port is bound straight to the VCPU with the
 * vector as the binding's argument (the IRQ fast path; level 1 raises the
 * vector once); %VCPU_MSG_PAUSE, %VCPU_MSG_RESUME; and READ requests on
 * region 0 (8-byte registers, see &enum vcpu_reg; the CPU registers only
 * while paused or failed, else -EBUSY).
 */
#ifndef VCPU_H
#define VCPU_H

#include <signal.h>
#include <stddef.h>

#include <actorvm/actor.h>

struct kvm_vm; /* host-kvm/kvm_vm.h */

/**
 * VCPU_KICK_SIGNAL_DEFAULT - the signal that kicks a KVM VCPU's thread out
 * of KVM_RUN when &struct vcpu_config's @kick_signal is 0.
 */
#define VCPU_KICK_SIGNAL_DEFAULT SIGUSR1

#define VCPU_MSG_INTERRUPT (AVM_MSG_USER + 0x10)
/* Control kinds: served ahead of guest accesses and background work. */
#define VCPU_MSG_PAUSE	(AVM_MSG_CONTROL_USER + 0x10)
#define VCPU_MSG_RESUME (AVM_MSG_CONTROL_USER + 0x11)

/** enum vcpu_reg - offsets of the state registers readable while paused. */
enum vcpu_reg {
	VCPU_REG_EIP = 0x00,
	VCPU_REG_EFLAGS = 0x08,
	VCPU_REG_EAX = 0x10,
	VCPU_REG_STATE = 0x18, /* 0 running, 1 halted, 2 paused, 3 failed */
	VCPU_REG_EXITS = 0x20, /* MMIO and PIO accesses made */
	VCPU_REG_IRQS = 0x28,  /* interrupts delivered */
};

/**
 * enum vcpu_backend_kind - which host runs the guest code.
 * @VCPU_BACKEND_AUTO: KVM when /dev/kvm is usable, else the software CPU
 *   (the choice is logged).
 * @VCPU_BACKEND_SOFT: the software CPU (unicorn).
 * @VCPU_BACKEND_KVM: Linux KVM; init fails with -ENODEV if unusable.
 */
enum vcpu_backend_kind {
	VCPU_BACKEND_AUTO = 0,
	VCPU_BACKEND_SOFT,
	VCPU_BACKEND_KVM,
};

/**
 * struct vcpu_config - how to start.
 * @backend: an &enum vcpu_backend_kind.
 * @entry: EIP at start; @eax, @ebx: EAX and EBX (Multiboot: magic, info).
 * @slice_insns: instructions per guest slice between mailbox polls
 *   (0: 100000). A kick ends a slice early.
 * @apic_id: the ID of this VCPU's local APIC (and of its "cpuN" port at
 *   the IOAPIC and at the other VCPUs); on KVM also the KVM VCPU ID.
 * @kvm_vm: KVM only: the slot where the runtime's "kvm" actor published
 *   the VM shared by all VCPUs (&struct kvm_vm_config); NULL or empty: a
 *   private VM with the user-space irqchip. With the VM's in-kernel
 *   irqchip, the VCPU neither models its local APIC nor injects.
 * @kick_signal: KVM only: the signal sent to the VCPU's thread to end
 *   KVM_RUN when a message arrives; 0: %VCPU_KICK_SIGNAL_DEFAULT (SIGUSR1).
 *   SIGUSR1, SIGUSR2 or SIGRTMIN..SIGRTMAX, else init fails with -EINVAL.
 *   Signal dispositions are process-wide, so the first KVM VCPU created
 *   with a signal installs a handler for it (an empty one: it only makes
 *   the signal interrupt KVM_RUN instead of killing the process) and leaves
 *   it for the life of the process; never at library load, never for the
 *   software CPU. If the signal already has another handler or is ignored
 *   (the embedder's doing), init refuses with -EBUSY and says why in the
 *   log rather than replace it: pick a free signal here. The signal is
 *   blocked on the VCPU's thread except inside KVM_RUN; one aimed at the
 *   whole process may land there and is then taken as a kick, so use one
 *   the program sends to no one else.
 */
struct vcpu_config {
	enum vcpu_backend_kind backend;
	uint32_t entry;
	uint32_t eax;
	uint32_t ebx;
	uint64_t slice_insns;
	uint8_t apic_id;
	struct kvm_vm **kvm_vm;
	int kick_signal;
};

extern const struct avm_device_ops vcpu_ops;

/**
 * struct kvm_vm_config - the "kvm" actor's configuration.
 * @irqchip: create KVM's in-kernel irqchip.
 * @slot: where init publishes the VM (and fini clears it); must outlive
 *   the runtime. VCPUs and the IOAPIC (kvm_vm_irq_line()) read it.
 */
struct kvm_vm_config {
	bool irqchip;
	struct kvm_vm **slot;
};

/**
 * kvm_vm_ops - the "kvm" actor: owns a runtime's KVM VM, shared by its
 * KVM VCPUs. Its init opens the VM with the runtime's RAM blocks as memory
 * slots (and the in-kernel irqchip if asked) and publishes it in the slot;
 * its fini drops its reference. It takes no messages. It is an actor only
 * for its place in the runtime's lifetime: actors init in creation order
 * (each init done before the next starts) and stop in reverse, so created
 * before the VCPUs and the IOAPIC that use the VM, it opens it before
 * them and closes it after them, with no other hook in the runtime.
 */
extern const struct avm_device_ops kvm_vm_ops;

/**
 * vcpu_kvm_usable() - whether /dev/kvm can run a VM here; if not, why (in
 * @why). What %VCPU_BACKEND_AUTO decides by. Any thread; no side effects
 * (it opens and closes /dev/kvm, installs no signal handler).
 */
bool vcpu_kvm_usable(char *why, size_t len);

#endif /* VCPU_H */
