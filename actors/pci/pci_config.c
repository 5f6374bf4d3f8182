/* SPDX-License-Identifier: MIT */
/*
 * A type-0 configuration header (PCI Local Bus 3.0 §6.1), one dword at a
 * time. Registers the host does not implement (cache line, latency timer,
 * BIST, CardBus CIS, expansion ROM, capabilities, Min_Gnt/Max_Lat and
 * everything past 0x3f) read 0 and ignore writes, which the specification
 * allows for optional features: a guest sizing the ROM BAR reads 0, "none".
 */
#include "pci_priv.h"

static uint32_t bytes_mask(unsigned be)
{
	uint32_t m = 0;

	for (unsigned i = 0; i < 4; i++)
		if (be & (1u << i))
			m |= 0xffu << (8 * i);
	return m;
}

/* Which BAR the dword at @reg is (BAR0..5 at 0x10..0x24), or -1. */
static int bar_index(unsigned reg)
{
	return reg >= 0x10 && reg <= 0x24 && !(reg & 3) ? (int)(reg - 0x10) / 4
							: -1;
}

uint32_t pci_cfg_read(const struct pci_func *f, unsigned reg)
{
	const struct avm_pci_info *p = f->info;
	int bar = bar_index(reg);

	if (bar >= 0)
		return f->bar[bar].value;
	switch (reg) {
	case 0x00:
		return (uint32_t)p->device_id << 16 | p->vendor_id;
	case 0x04:
		return (uint32_t)f->status << 16 | f->command;
	case 0x08:
		return (p->class_code & 0xffffffu) << 8 | p->revision;
	case 0x0c:
		return (uint32_t)f->header_type << 16;
	case 0x2c:
		return (uint32_t)p->subsystem_id << 16 | p->subsystem_vendor_id;
	case 0x3c:
		return (uint32_t)p->interrupt_pin << 8 | f->line;
	default:
		return 0;
	}
}

/* Sizing and relocation: writes keep the BAR aligned to its size and its
 * type bits read-only, so all ones reads back the size mask. */
static bool bar_write(struct pci_bar *b, uint32_t val, uint32_t m)
{
	uint32_t merged = (b->value & ~m) | (val & m);
	uint32_t next = (merged & b->mask) | b->type;

	if (!b->mask || next == b->value)
		return false;
	b->value = next;
	return true;
}

static bool command_write(struct pci_func *f, uint32_t val, uint32_t m)
{
	uint16_t next = (uint16_t)((f->command & ~m) | (val & m));

	next &= PCI_COMMAND_WMASK;
	/* Status is the high half: only the enabled bytes clear bits. */
	f->status &= (uint16_t) ~((val & m) >> 16 & PCI_STATUS_W1C);
	if (next == f->command)
		return false;
	f->command = next;
	return true;
}

bool pci_cfg_write(struct pci_func *f, unsigned reg, uint32_t val, unsigned be)
{
	uint32_t m = bytes_mask(be);
	int bar = bar_index(reg);

	if (bar >= 0)
		return bar_write(&f->bar[bar], val, m);
	switch (reg) {
	case 0x04:
		return command_write(f, val, m);
	case 0x3c:
		/* Only the line is writable: the pin is wired. */
		if (be & 1)
			f->line = (uint8_t)val;
		return false;
	default:
		return false;
	}
}
