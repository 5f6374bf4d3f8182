// SPDX-License-Identifier: MIT
/* PCI configuration mechanism #1. */
#include "guest.h"

#define PCI_ENABLE	  0x80000000u
#define PCI_MULTIFUNCTION 0x80
#define PCI_SLOTS	  32
#define PCI_FUNCTIONS	  8
#define PCI_BARS	  6
#define PCI_BAR_IO	  0x1u
#define PCI_BAR_TYPE_64	  0x4u
#define PCI_BAR_PREFETCH  0x8u

/* Selects the dword holding @off; the data port then reads/writes it. */
static void config_select(struct guest_pci_dev d, uint8_t off)
{
	guest_outl(GUEST_PCI_CONFIG_ADDR,
		   PCI_ENABLE | (uint32_t)d.bus << 16 | (uint32_t)d.dev << 11 |
			   (uint32_t)d.fn << 8 | (off & 0xFCu));
}

/*
 * Narrow accesses go to the matching byte lanes of the data port
 * (0xCFC + off % 4), as real chipsets and QEMU decode them.
 */
uint32_t guest_pci_read32(struct guest_pci_dev d, uint8_t off)
{
	config_select(d, off);
	return guest_inl(GUEST_PCI_CONFIG_DATA);
}

uint16_t guest_pci_read16(struct guest_pci_dev d, uint8_t off)
{
	config_select(d, off);
	return guest_inw(GUEST_PCI_CONFIG_DATA + (off & 2));
}

uint8_t guest_pci_read8(struct guest_pci_dev d, uint8_t off)
{
	config_select(d, off);
	return guest_inb(GUEST_PCI_CONFIG_DATA + (off & 3));
}

void guest_pci_write32(struct guest_pci_dev d, uint8_t off, uint32_t val)
{
	config_select(d, off);
	guest_outl(GUEST_PCI_CONFIG_DATA, val);
}

void guest_pci_write16(struct guest_pci_dev d, uint8_t off, uint16_t val)
{
	config_select(d, off);
	guest_outw(GUEST_PCI_CONFIG_DATA + (off & 2), val);
}

void guest_pci_write8(struct guest_pci_dev d, uint8_t off, uint8_t val)
{
	config_select(d, off);
	guest_outb(GUEST_PCI_CONFIG_DATA + (off & 3), val);
}

bool guest_pci_present(struct guest_pci_dev d)
{
	return guest_pci_read16(d, GUEST_PCI_VENDOR_ID) !=
	       GUEST_PCI_VENDOR_NONE;
}

static unsigned int functions(struct guest_pci_dev d)
{
	bool multi =
		guest_pci_read8(d, GUEST_PCI_HEADER_TYPE) & PCI_MULTIFUNCTION;

	return multi ? PCI_FUNCTIONS : 1;
}

void guest_pci_foreach(void (*fn)(struct guest_pci_dev d, void *arg), void *arg)
{
	for (uint8_t slot = 0; slot < PCI_SLOTS; slot++) {
		struct guest_pci_dev d = { 0, slot, 0 };

		if (!guest_pci_present(d))
			continue;
		for (unsigned int n = functions(d); d.fn < n; d.fn++) {
			if (guest_pci_present(d))
				fn(d, arg);
		}
	}
}

struct find_ctx {
	uint32_t id; /* device << 16 | vendor, as dword 0 reads */
	bool found;
	struct guest_pci_dev dev;
};

static void find_one(struct guest_pci_dev d, void *arg)
{
	struct find_ctx *ctx = arg;

	if (!ctx->found &&
	    guest_pci_read32(d, GUEST_PCI_VENDOR_ID) == ctx->id) {
		ctx->found = true;
		ctx->dev = d;
	}
}

bool guest_pci_find(uint16_t vendor, uint16_t device, struct guest_pci_dev *out)
{
	struct find_ctx ctx = { (uint32_t)device << 16 | vendor, false, { 0 } };

	guest_pci_foreach(find_one, &ctx);
	if (ctx.found)
		*out = ctx.dev;
	return ctx.found;
}

/* Writes all ones to a BAR register and returns what sticks. */
static uint32_t size_probe(struct guest_pci_dev d, uint8_t off)
{
	uint32_t orig = guest_pci_read32(d, off), mask;

	guest_pci_write32(d, off, 0xFFFFFFFFu);
	mask = guest_pci_read32(d, off);
	guest_pci_write32(d, off, orig);
	return mask;
}

int guest_pci_bar(struct guest_pci_dev d, unsigned int n,
		  struct guest_pci_bar *out)
{
	uint8_t off = (uint8_t)(GUEST_PCI_BAR0 + 4 * n);
	uint32_t lo = guest_pci_read32(d, off);
	uint16_t cmd = guest_pci_read16(d, GUEST_PCI_COMMAND);
	uint64_t mask;

	*out = (struct guest_pci_bar){ 0 };
	out->is_io = lo & PCI_BAR_IO;
	out->is_64 = !out->is_io && (lo & 0x6u) == PCI_BAR_TYPE_64 &&
		     n + 1 < PCI_BARS;
	out->prefetch = !out->is_io && (lo & PCI_BAR_PREFETCH);
	/* Decode off while the BAR briefly points at all ones. */
	guest_pci_write16(
		d, GUEST_PCI_COMMAND,
		cmd & ~(GUEST_PCI_COMMAND_IO | GUEST_PCI_COMMAND_MEMORY));
	mask = size_probe(d, off);
	out->addr = lo;
	if (out->is_64) {
		mask |= (uint64_t)size_probe(d, off + 4) << 32;
		out->addr |= (uint64_t)guest_pci_read32(d, off + 4) << 32;
	} else if (mask) {
		mask |= 0xFFFFFFFF00000000ull;
	}
	guest_pci_write16(d, GUEST_PCI_COMMAND, cmd);
	mask &= out->is_io ? ~0x3ull : ~0xFull;
	out->addr &= out->is_io ? ~0x3ull : ~0xFull;
	if (out->is_io)
		mask |= 0xFFFFFFFFFFFF0000ull; /* I/O BARs decode 16 bits */
	out->size = mask ? ~mask + 1 : 0;
	return out->is_64 ? 2 : 1;
}
