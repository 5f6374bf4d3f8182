/* SPDX-License-Identifier: MIT */
/**
 * DOC: e1000 actor (Intel 82540EM)
 *
 * An Intel 82540EM gigabit NIC as a real driver sees it: region 0 is the
 * 128 KiB register BAR, region 1 the I/O BAR (IOADDR/IODATA indirection).
 * Port "irq" carries INTA# (level), port "net" carries transmitted frames as
 * %AVM_MSG_FRAME messages (payload = the frame, without FCS). Received
 * frames arrive the same way; an %E1000_MSG_LINK message tells the device
 * that the cable's carrier changed. Its PCI identity (e1000_ops.pci, for
 * the PCI host in actors/pci) is 8086:100e, subsystem 8086:001e, class
 * 0x020000, revision 3, INTA#, BAR0 = region 0, BAR1 = region 1. See
 * docs/e1000.md and docs/pci.md.
 */
#ifndef ACTORVM_E1000_H
#define ACTORVM_E1000_H

#include <stdbool.h>
#include <stdint.h>

#include <actorvm/actor.h>

#include "e1000_hw.h"

/** Regions, in the ops table's order. */
enum e1000_region { E1000_REGION_MMIO = 0, E1000_REGION_IO = 1 };

/** Ports, in the ops table's order. */
enum e1000_port { E1000_PORT_IRQ = 0, E1000_PORT_NET = 1 };

/**
 * enum e1000_msg_kind - device-specific messages.
 * @E1000_MSG_LINK: the backend's carrier is now @user.value (0 down, 1 up).
 */
enum e1000_msg_kind { E1000_MSG_LINK = AVM_MSG_USER };

/** Timer ids the device uses (visible in tests). */
enum e1000_timer {
	E1000_TIMER_ITR = 0,
	E1000_TIMER_RDTR,
	E1000_TIMER_RADV,
	E1000_TIMER_TIDV,
	E1000_TIMER_TADV,
	E1000_TIMER_AUTONEG,
};

/** Descriptors handled per TX chunk before the device continues later. */
#define E1000_TX_BUDGET 16

/**
 * struct e1000_config - instance configuration (NULL: all defaults).
 * @mac: station address; all zero gives 52:54:00:12:34:56.
 * @eeprom: 64 words replacing the generated EEPROM image as is (no
 *   checksum fix-up, so a bad image can be tested); NULL: generated.
 * @link_down: the cable starts unplugged.
 * @autoneg_ns: how long autonegotiation takes (0: 500 ms).
 */
struct e1000_config {
	uint8_t mac[6];
	const uint16_t *eeprom;
	bool link_down;
	uint64_t autoneg_ns;
};

/** e1000_ops - the device type "e1000". */
extern const struct avm_device_ops e1000_ops;

#endif /* ACTORVM_E1000_H */
