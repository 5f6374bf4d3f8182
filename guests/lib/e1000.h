/* SPDX-License-Identifier: MIT */
/*
 * A small interrupt-driven driver for the Intel 82540EM (e1000, 8086:100E)
 * as QEMU's pc and actorvm put it on PCI bus 0.
 *
 * One NIC per guest: the rings and buffers are static arrays in the
 * library and the interrupt handler finds the NIC through a static
 * pointer. Interrupts are enabled only inside the waits (sti; hlt), so the
 * handler never races the code that reads what it recorded.
 *
 * A watchdog, as Linux's e1000_watchdog, survives the device being reset
 * under the driver (a restarted device process comes back in its power-on
 * state) and the link dropping: a guest with a periodic timer calls
 * guest_e1000_tick() from its handler, and on the next tick (or LSC) the
 * waits check the device and re-initialise it if it lost its programming.
 * Frames in the rings then are lost: the guest's protocol must resend.
 */
#ifndef GUEST_E1000_H
#define GUEST_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci.h"

#define GUEST_E1000_VENDOR 0x8086
#define GUEST_E1000_DEVICE 0x100E

/* Ring sizes: multiples of 8 descriptors (RDLEN/TDLEN are 128-byte units). */
#define GUEST_E1000_RX_N     32
#define GUEST_E1000_TX_N     16
#define GUEST_E1000_BUF_SIZE 2048 /* RCTL.BSIZE 00 */
#define GUEST_E1000_MAX_LEN  1514 /* without FCS, no jumbo frames */

/* ICR causes (interrupt cause read / mask set). */
#define GUEST_E1000_ICR_TXDW   (1u << 0)
#define GUEST_E1000_ICR_LSC    (1u << 2)
#define GUEST_E1000_ICR_RXDMT0 (1u << 4)
#define GUEST_E1000_ICR_RXO    (1u << 6)
#define GUEST_E1000_ICR_RXT0   (1u << 7)

struct guest_e1000 {
	struct guest_pci_dev pci;
	uintptr_t mmio;	 /* BAR0 */
	uint8_t mac[6];	 /* from the EEPROM (EERD) */
	uint8_t irq_pin; /* IOAPIC pin = the PCI interrupt-line register */
	uint8_t vector;
	unsigned int rx_next;  /* next RX descriptor to look at */
	unsigned int tx_tail;  /* next TX descriptor to fill */
	unsigned int tx_clean; /* oldest TX descriptor not yet reclaimed */
	/* Written by the interrupt handler only. */
	volatile uint32_t causes; /* ICR bits seen, cleared by the waits */
	volatile unsigned int irqs, rx_irqs, tx_irqs, lsc_irqs, rxo_irqs;
	/* Statistics of the driver. */
	unsigned int rx_frames, tx_frames;
	/* The watchdog. */
	volatile unsigned int ticks; /* guest_e1000_tick() calls */
	unsigned int checked;	     /* ticks at the last check */
	unsigned int lsc_checked;    /* lsc_irqs at the last check */
	bool link;		     /* STATUS.LU at the last check */
	unsigned int reinits;	     /* times it re-initialised the NIC */
	unsigned int link_drops;     /* times it saw the link go down */
};

/*
 * Finds the NIC, enables memory decode and bus mastering, resets it,
 * reads its MAC, sets up both rings, routes its interrupt line through the
 * IOAPIC to @vector (level-triggered, to this CPU's LAPIC) and unmasks
 * RXT0, TXDW, LSC and RXO. The LAPIC must be enabled and the IDT loaded.
 * Fails the guest if there is no e1000. Does not wait for the link.
 */
void guest_e1000_init(struct guest_e1000 *nic, uint8_t vector);

bool guest_e1000_link_up(struct guest_e1000 *nic);
/* Waits (sti; hlt, woken by LSC) until STATUS.LU is set. */
void guest_e1000_wait_link(struct guest_e1000 *nic);

/* From the guest's periodic timer interrupt: the watchdog's clock. */
void guest_e1000_tick(struct guest_e1000 *nic);
/*
 * Sleeps until the next interrupt (called and returning with interrupts
 * off), then, if a tick or an LSC came since the last check, checks the
 * device: a device that lost its programming (RCTL.EN, TCTL.EN or the RX
 * ring base read back wrong), or whose link went down with frames still
 * queued, is reset and programmed again (rings emptied, indices back to
 * 0, same buffers), with a line on the console. Every wait of the driver
 * does the same.
 */
void guest_e1000_wait(struct guest_e1000 *nic);

/*
 * Queues one frame of @len bytes (14..GUEST_E1000_MAX_LEN, without FCS)
 * and returns at once; waits for a free descriptor if the ring is full.
 */
void guest_e1000_send(struct guest_e1000 *nic, const void *frame, size_t len);
/* Waits until the NIC has written back every queued TX descriptor. */
void guest_e1000_flush(struct guest_e1000 *nic);

/*
 * Takes the next received frame, if any: copies at most @cap bytes to
 * @buf and returns the frame's length (without FCS), or 0 if none is
 * waiting. The buffer goes back to the NIC.
 */
size_t guest_e1000_recv(struct guest_e1000 *nic, void *buf, size_t cap);
/* The same, waiting (sti; hlt, woken by RXT0) until a frame is there. */
size_t guest_e1000_recv_wait(struct guest_e1000 *nic, void *buf, size_t cap);

/* Prints the interrupt and frame counters on one line. */
void guest_e1000_print_stats(const struct guest_e1000 *nic);

#endif /* GUEST_E1000_H */
