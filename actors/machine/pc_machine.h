/* SPDX-License-Identifier: MIT */
/**
 * DOC: pc_machine - a PC-compatible VM built from actors
 *
 * pc_machine_build() creates, in one runtime, the platform guests see (see
 * docs/machine.md): guest RAM from 0, the isa-debug-exit port (0xf4), the
 * 8259 pair (0x20/0xA0, masked and silent), the IOAPIC (0xFEC00000), COM1
 * (a 16550A at 0x3F8 on IOAPIC pin 4), the PCI host (0xCF8) with the
 * devices given, each on IOAPIC pin pci_intx_irq(slot, pin), and the VCPUs,
 * each with its local APIC (ID = its index) and its Multiboot image.
 *
 * The caller keeps the &struct pc_machine alive until the runtime is freed:
 * the device configurations live in it.
 */
#ifndef PC_MACHINE_H
#define PC_MACHINE_H

#include <actorvm/runtime.h>

#include "ioapic.h"
#include "irqchip.h"
#include "pci_host.h"
#include "uart.h"
#include "vcpu.h"

#define PC_MACHINE_MAX_PCI     8
#define PC_MACHINE_RAM_DEFAULT (64ull << 20)

/**
 * struct pc_placement - where an actor's server thread runs.
 * @rt_priority: SCHED_FIFO priority 1..99, 0 for normal scheduling.
 * @cpus: host CPUs it may run on, as &struct avm_actor_spec.cpus (0: any).
 * @spin_ns: idle polling before sleeping (0: default; negative: never).
 * @fast_path: as &struct avm_actor_spec.fast_path (0: the device type's
 *   default; positive: on; negative: off).
 * @isolation: as &struct avm_actor_spec.isolation (zeroed: in-process).
 */
struct pc_placement {
	int rt_priority;
	uint64_t cpus;
	int64_t spin_ns;
	int fast_path;
	struct avm_isolation isolation;
};

/**
 * enum pc_irqchip - who models the interrupt controllers.
 * @PC_IRQCHIP_AUTO: as %PC_IRQCHIP_USER.
 * @PC_IRQCHIP_USER: actorvm's IOAPIC actor and the local APIC model in
 *   each VCPU (the IRQ fast path), on any backend.
 * @PC_IRQCHIP_KVM: KVM's in-kernel PIC, IOAPIC and local APICs; the IOAPIC
 *   actor forwards its input pins' levels to KVM (KVM_IRQ_LINE). Every
 *   VCPU must use the KVM backend (AUTO counts where /dev/kvm is usable).
 */
enum pc_irqchip {
	PC_IRQCHIP_AUTO = 0,
	PC_IRQCHIP_USER,
	PC_IRQCHIP_KVM,
};

/**
 * struct pc_vcpu_spec - one VCPU.
 * @image: its Multiboot kernel; NULL: the machine's @image.
 * @cmdline: its kernel command line; NULL: the machine's @cmdline.
 * @backend: KVM, software CPU, or the automatic choice.
 * @slice_insns: instructions per slice (software CPU; 0: default).
 * @place: placement of its thread.
 */
struct pc_vcpu_spec {
	const char *image;
	const char *cmdline;
	enum vcpu_backend_kind backend;
	uint64_t slice_insns;
	struct pc_placement place;
};

/**
 * struct pc_pci_spec - one PCI function.
 * @name: actor name; @ops: its type (must have ops->pci); @config: its
 *   configuration (must outlive the runtime); @slot: 1..31; @place: its
 *   thread.
 */
struct pc_pci_spec {
	const char *name;
	const struct avm_device_ops *ops;
	const void *config;
	unsigned slot;
	struct pc_placement place;
};

/**
 * struct pc_machine_config - what to build. Zero fields take defaults.
 * @ram_size: bytes of RAM at 0 (default %PC_MACHINE_RAM_DEFAULT).
 * @n_vcpus: 1..%IRQCHIP_MAX_CPUS (0: 1).
 * @vcpu: per-VCPU settings.
 * @image, @cmdline: the kernel every VCPU without its own boots.
 * @com1: COM1's configuration (NULL: output to stdout, no input).
 * @pci: @n_pci PCI functions.
 * @place: placement of the platform devices' threads.
 * @irqchip: an &enum pc_irqchip.
 * @kick_signal: the signal that kicks KVM VCPUs (0: SIGUSR1); see
 *   &struct vcpu_config, whose contract it follows.
 */
struct pc_machine_config {
	uint64_t ram_size;
	unsigned n_vcpus;
	struct pc_vcpu_spec vcpu[IRQCHIP_MAX_CPUS];
	const char *image;
	const char *cmdline;
	const struct uart_config *com1;
	unsigned n_pci;
	struct pc_pci_spec pci[PC_MACHINE_MAX_PCI];
	struct pc_placement place;
	enum pc_irqchip irqchip;
	int kick_signal;
};

/**
 * struct pc_machine - what was built: actor ids, and the configurations
 * the actors read at start. @kvm is the "kvm" actor, made when a VCPU runs
 * on KVM (the VM all of them share, published in @kvm_vm); @has_kvm says
 * whether there is one.
 */
struct pc_machine {
	avm_actor_id exit, pic, ioapic, com1, pci_host, kvm;
	bool has_kvm;
	struct kvm_vm *kvm_vm;
	struct kvm_vm_config kvm_cfg;
	struct ioapic_config ioapic_cfg;
	avm_actor_id pci[PC_MACHINE_MAX_PCI];
	avm_actor_id vcpu[IRQCHIP_MAX_CPUS];
	unsigned n_vcpus, n_pci;
	struct vcpu_config vcpu_cfg[IRQCHIP_MAX_CPUS];
	struct uart_config com1_cfg;
	struct pci_host_function pci_fn[PC_MACHINE_MAX_PCI];
	struct pci_host_config pci_cfg;
};

/**
 * pc_machine_build() - create and wire every actor of the machine in @rt
 * (which must not be started yet) and load the images.
 * @err, @err_len: a readable reason on failure (may be NULL).
 *
 * Returns 0, or a negative errno with @err saying what failed.
 */
int pc_machine_build(avm_runtime *rt, struct pc_machine *m,
		     const struct pc_machine_config *cfg, char *err,
		     size_t err_len);

#endif /* PC_MACHINE_H */
