/* SPDX-License-Identifier: MIT */
/*
 * The one interface between the VCPU actor (vcpu.c) and its CPU backends:
 * the software CPU (soft_cpu.c) and KVM (kvm_backend.c, on host-kvm/).
 * A backend implements &struct vcpu_backend_ops and reaches the guest's
 * devices through the VCPU's bus; it sees nothing else of the actor.
 * Private to actors/vcpu.
 */
#ifndef VCPU_BACKEND_H
#define VCPU_BACKEND_H

#include <stdatomic.h>
#include <stdint.h>

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
 * init: @ctx only for the duration of the call (RAM blocks, logging); @bus
 * and @exits outlive the backend.
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

/* What a read of @size bytes sees where nothing decodes the address: the
 * bus floats high, all ones. Shared so both backends read the same. */
static inline uint64_t vcpu_bus_ones(unsigned size)
{
	return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

/* One more exit to user space. Single writer (the VCPU's own thread), read
 * by others for statistics: a relaxed load and store, no locked add. */
static inline void vcpu_count_exit(_Atomic uint64_t *exits)
{
	atomic_store_explicit(
		exits, atomic_load_explicit(exits, memory_order_relaxed) + 1,
		memory_order_relaxed);
}

#endif /* VCPU_BACKEND_H */
