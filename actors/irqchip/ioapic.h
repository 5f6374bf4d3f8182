/* SPDX-License-Identifier: MIT */
/**
 * DOC: ioapic - the I/O APIC (82093AA programming model)
 *
 * Region 0 is the 4 KiB register window (map it at %IOAPIC_BASE): IOREGSEL
 * at 0x00, IOWIN at 0x10. Registers: ID, version (0x11, 24 entries),
 * arbitration, and 24 redirection entries (vector, fixed or lowest-priority
 * delivery, physical or logical destination, polarity, trigger, mask, and
 * the read-only delivery status and Remote IRR bits).
 *
 * Inputs: devices bind their "irq" port to the IOAPIC with the pin as the
 * binding's argument. Outputs: port "cpuN" is bound to the VCPU with local
 * APIC ID N. While an entry is unmasked and valid, its pin's sources are
 * routed straight to the target VCPU (avm_route_set(), the IRQ fast path);
 * the IOAPIC itself sees their messages only while the entry is masked, or
 * in flight during a route change. Level-triggered pins are re-delivered
 * after the EOI (%IRQCHIP_MSG_EOI from the VCPU) while still asserted.
 *
 * Remote IRR shows deliveries the IOAPIC made itself (after an unmask or an
 * EOI); an assertion that took the fast path does not set it.
 *
 * Forwarding mode (&ioapic_config.forward set; KVM's in-kernel irqchip):
 * the IOAPIC models no registers and publishes no routes. Every level
 * change on an input pin is passed to the hook (kvm_vm_irq_line(), i.e.
 * KVM_IRQ_LINE), whose IOAPIC does the rest; its MMIO never reaches us.
 */
#ifndef IOAPIC_H
#define IOAPIC_H

#include <actorvm/actor.h>

#include "irqchip.h"

#define IOAPIC_BASE 0xFEC00000u
#define IOAPIC_PINS 24

/* Register indices (through IOREGSEL). */
#define IOAPIC_REG_ID	  0x00
#define IOAPIC_REG_VER	  0x01
#define IOAPIC_REG_ARB	  0x02
#define IOAPIC_REG_REDTBL 0x10

/* Redirection entry bits. */
#define IOAPIC_RTE_DEST_LOGICAL (1u << 11)
#define IOAPIC_RTE_DELIVS	(1u << 12)
#define IOAPIC_RTE_POLARITY	(1u << 13)
#define IOAPIC_RTE_REMOTE_IRR	(1u << 14)
#define IOAPIC_RTE_LEVEL	(1u << 15)
#define IOAPIC_RTE_MASKED	(1u << 16)

/**
 * struct ioapic_config - NULL for defaults.
 * @id: the IOAPIC's ID (bits 27:24 of the ID register), 0 by default.
 * @forward: forwarding mode: called on the IOAPIC's thread with each input
 *   pin's new level (0 or a negative errno, logged once per pin).
 * @forward_arg: its first argument.
 */
struct ioapic_config {
	uint8_t id;
	int (*forward)(void *arg, unsigned pin, bool level);
	void *forward_arg;
};

/**
 * struct ioapic_stats - counters, read with an %IOAPIC_MSG_STATS request
 * (@user.addr selects the field by index in this struct).
 */
enum ioapic_stat {
	IOAPIC_STAT_DELIVERED = 0, /* interrupts the IOAPIC sent itself */
	IOAPIC_STAT_ROUTES,	   /* route publications */
	IOAPIC_STAT_DROPPED,	   /* assertions with no valid route */
	IOAPIC_STAT_FORWARDED,	   /* level changes passed to the hook */
	IOAPIC_STAT_COUNT
};

#define IOAPIC_MSG_STATS (AVM_MSG_USER + 0x48)

extern const struct avm_device_ops ioapic_ops;

#endif /* IOAPIC_H */
