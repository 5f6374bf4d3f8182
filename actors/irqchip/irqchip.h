/* SPDX-License-Identifier: MIT */
/**
 * DOC: irqchip - what travels between devices, the IOAPIC and the VCPUs
 *
 * Interrupt routes are published by the IOAPIC as routed ports (see
 * avm_route_set() in actorvm/actor.h): a device's "irq" port is bound to the
 * IOAPIC with the pin as argument; while the pin's redirection entry is
 * unmasked, the IOAPIC points the device's port straight at the target
 * VCPU, so an interrupt is one message. The argument the VCPU then sees in
 * the %AVM_MSG_IRQ is an &irq_route word built with irq_route_make().
 *
 * A plain vector (bit %IRQ_ROUTE_APIC clear) bound straight to a VCPU is an
 * external interrupt, delivered like an 8259's: no local APIC state, no EOI.
 */
#ifndef IRQCHIP_H
#define IRQCHIP_H

#include <stdbool.h>
#include <stdint.h>

#include <actorvm/actor.h>

/** IRQ_ROUTE_APIC - the route goes through the target's local APIC. */
#define IRQ_ROUTE_APIC (1u << 31)
/** IRQ_ROUTE_LEVEL - level-triggered: one delivery until the EOI. */
#define IRQ_ROUTE_LEVEL (1u << 30)

/** irq_route_make() - the route word of a fixed interrupt from @pin. */
static inline uint32_t irq_route_make(uint8_t vector, bool level, uint8_t pin)
{
	return IRQ_ROUTE_APIC | (level ? IRQ_ROUTE_LEVEL : 0) |
	       (uint32_t)pin << 8 | vector;
}

/** irq_route_vector(), irq_route_pin() - fields of a route word. */
static inline uint8_t irq_route_vector(uint32_t r)
{
	return (uint8_t)r;
}

static inline uint8_t irq_route_pin(uint32_t r)
{
	return (uint8_t)(r >> 8);
}

/**
 * enum irqchip_msg_kind - messages between interrupt controllers.
 * @IRQCHIP_MSG_EOI: VCPU -> IOAPIC: the guest ended a level-triggered
 *   interrupt, the vector in @user.value (the IOAPIC clears Remote IRR of
 *   the pins routed to it and re-delivers if still asserted).
 * @IRQCHIP_MSG_IPI: VCPU -> VCPU: an inter-processor interrupt, @user.value
 *   the route word (vector, edge).
 */
enum irqchip_msg_kind {
	IRQCHIP_MSG_EOI = AVM_MSG_USER + 0x40,
	IRQCHIP_MSG_IPI,
};

/** IRQCHIP_MAX_CPUS - local APIC IDs an IOAPIC or an ICR can address. */
#define IRQCHIP_MAX_CPUS 16

/**
 * irqchip_cpu_ports - the port names "cpu0".."cpu15": port N is bound to
 * the VCPU whose local APIC ID is N.
 */
extern const char *const irqchip_cpu_ports[IRQCHIP_MAX_CPUS];

#endif /* IRQCHIP_H */
