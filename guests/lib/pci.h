/* SPDX-License-Identifier: MIT */
/* PCI configuration mechanism #1 (ports 0xCF8/0xCFC). */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define GUEST_PCI_CONFIG_ADDR 0xCF8
#define GUEST_PCI_CONFIG_DATA 0xCFC

#define GUEST_PCI_VENDOR_ID	 0x00
#define GUEST_PCI_DEVICE_ID	 0x02
#define GUEST_PCI_COMMAND	 0x04
#define GUEST_PCI_STATUS	 0x06
#define GUEST_PCI_REVISION	 0x08
#define GUEST_PCI_CLASS_PROG	 0x09
#define GUEST_PCI_CLASS_SUB	 0x0A
#define GUEST_PCI_CLASS_BASE	 0x0B
#define GUEST_PCI_HEADER_TYPE	 0x0E
#define GUEST_PCI_BAR0		 0x10
#define GUEST_PCI_INTERRUPT_LINE 0x3C
#define GUEST_PCI_INTERRUPT_PIN	 0x3D

#define GUEST_PCI_COMMAND_IO	 (1u << 0)
#define GUEST_PCI_COMMAND_MEMORY (1u << 1)
#define GUEST_PCI_COMMAND_MASTER (1u << 2)

#define GUEST_PCI_VENDOR_NONE 0xFFFF

/* Bus, device, function. */
struct guest_pci_dev {
	uint8_t bus;
	uint8_t dev;
	uint8_t fn;
};

struct guest_pci_bar {
	uint64_t addr;
	uint64_t size; /* 0: BAR not implemented */
	bool is_io;
	bool is_64; /* took this BAR and the next */
	bool prefetch;
};

uint32_t guest_pci_read32(struct guest_pci_dev d, uint8_t off);
uint16_t guest_pci_read16(struct guest_pci_dev d, uint8_t off);
uint8_t guest_pci_read8(struct guest_pci_dev d, uint8_t off);
void guest_pci_write32(struct guest_pci_dev d, uint8_t off, uint32_t val);
void guest_pci_write16(struct guest_pci_dev d, uint8_t off, uint16_t val);
void guest_pci_write8(struct guest_pci_dev d, uint8_t off, uint8_t val);

bool guest_pci_present(struct guest_pci_dev d);

/*
 * Finds the first function with @vendor:@device on bus 0, in slot order.
 * Returns false if there is none.
 */
bool guest_pci_find(uint16_t vendor, uint16_t device,
		    struct guest_pci_dev *out);

/*
 * Reads BAR @n (0..5), sizing it the standard way: decode off, all ones
 * written, the size mask read back, the original value and command restored.
 * Returns the number of BAR slots it used (2 for a 64-bit BAR), 1 otherwise.
 */
int guest_pci_bar(struct guest_pci_dev d, unsigned int n,
		  struct guest_pci_bar *out);

/* Calls @fn for every function present on bus 0. */
void guest_pci_foreach(void (*fn)(struct guest_pci_dev d, void *arg),
		       void *arg);

#endif /* GUEST_PCI_H */
