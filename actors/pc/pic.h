/* SPDX-License-Identifier: MIT */
/**
 * DOC: pic - the legacy 8259A pair, accepted so guests can mask it
 *
 * Region 0 is the master (map it at port 0x20, 2 bytes), region 1 the slave
 * (0xA0), region 2 the edge/level control registers (0x4D0, 2 bytes). Each
 * chip takes the ICW1-ICW4 initialisation sequence, OCW1 (the mask, read
 * back from the data port), OCW2 (EOIs, accepted) and OCW3 (IRR/ISR read
 * select). Guests on actorvm take their interrupts through the IOAPIC and
 * local APIC, so no line is wired to the PIC and it never raises an
 * interrupt: a masked PIC delivers nothing, as the platform requires, and an
 * unmasked one delivers nothing either (documented in docs/irqchip.md).
 */
#ifndef PC_PIC_H
#define PC_PIC_H

#include <actorvm/actor.h>

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT	0xA0
#define PIC_ELCR_PORT	0x4D0

extern const struct avm_device_ops pic_ops;

#endif /* PC_PIC_H */
