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

/*
 * The VCPU's view of the bus: its own local APIC page first, then the
 * runtime's address map through the VCPU thread's accessor. Same contract
 * as avm_read()/avm_write(); VCPU thread only.
 */
struct vcpu_bus;
int vcpu_bus_read(struct vcpu_bus *bus, enum avm_space space, uint64_t addr,
		  unsigned size, uint64_t *val);
int vcpu_bus_write(struct vcpu_bus *bus, enum avm_space space, uint64_t addr,
		   unsigned size, uint64_t val);

/*
 * A host backend. Every call runs on the VCPU thread, except kick(), which
 * any thread may call (it must be async-safe against run()).
 * irq_ready: whether an interrupt can be injected now (IF set and, for KVM,
 * the injection window open; asking for the window if not).
 * kernel_irqchip (may be NULL: false): the host models the interrupt
 * controllers (KVM's in-kernel irqchip): the VCPU then neither decodes its
 * local APIC page nor injects.
 */
struct vcpu_backend_ops {
	const char *name;
	int (*init)(void **cpu, avm_ctx *ctx, struct vcpu_bus *bus,
		    const struct vcpu_config *cfg, _Atomic uint64_t *exits);
	void (*fini)(void *cpu);
	enum vcpu_exit (*run)(void *cpu, uint64_t insns);
	int (*inject)(void *cpu, unsigned vector);
	bool (*irq_ready)(void *cpu);
	uint64_t (*reg)(void *cpu, enum vcpu_reg r);
	void (*kick)(void *cpu);
	bool (*kernel_irqchip)(void *cpu);
};

extern const struct vcpu_backend_ops vcpu_soft_backend;
extern const struct vcpu_backend_ops vcpu_kvm_backend;

/*
 * Whether the periodic timer of KVM's in-kernel local APIC keeps
 * interrupting (tried on a scratch VM); if not, why. On PVM-based KVM it
 * stops after one interrupt (host-kvm/kvm_probe.c).
 */
bool vcpu_kvm_periodic_timer_usable(char *why, size_t len);

#endif /* VCPU_PRIV_H */
