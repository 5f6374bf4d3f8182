/* SPDX-License-Identifier: MIT */
/* pci-host internals: configuration space state and its helpers. */
#ifndef ACTORVM_PCI_PRIV_H
#define ACTORVM_PCI_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "pci_host.h"

/* Low BAR bits, read-only (PCI 3.0 §6.2.5.1). */
#define PCI_BAR_IO_SPACE 0x1u
#define PCI_BAR_PREFETCH 0x8u
#define PCI_HEADER_MULTI 0x80u
#define PCI_STATUS_W1C	 0xf900u /* parity, aborts, SERR: write 1 to clear */
#define PCI_COMMAND_WMASK                                                      \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
/* SeaBIOS never gives a memory BAR less than a page (PCI_DEVICE_MEM_MIN). */
#define PCI_MEM_MIN_ALIGN 0x1000u

/* One BAR. @value is what the guest reads: address bits | type bits. */
struct pci_bar {
	uint32_t value;
	uint32_t mask; /* writable address bits, ~(size - 1); 0: no BAR */
	uint32_t type; /* read-only low bits */
	uint32_t size;
	uint8_t region; /* the device's region index */
	bool io;
	bool mapped;
	uint32_t mapped_at;
	int map_err; /* last map failure at @err_at, so it is logged once */
	uint32_t err_at;
	uint32_t fw_value; /* what firmware assigned: reset goes back to it */
};

struct pci_func {
	avm_actor_id actor; /* AVM_ACTOR_NONE for the host bridge */
	const struct avm_pci_info *info;
	uint8_t slot;
	uint8_t fn;
	uint8_t header_type;
	uint16_t command;
	uint16_t status;
	uint8_t line;
	uint16_t fw_command;
	uint8_t fw_line;
	struct pci_bar bar[AVM_PCI_MAX_BARS];
};

struct pci_host {
	uint32_t config_address; /* the latched CONFIG_ADDRESS */
	unsigned n_func;	 /* func[0] is the host bridge */
	struct pci_func func[PCI_HOST_MAX_FUNCTIONS + 1];
	uint64_t mem_base, mem_limit, io_base, io_limit;
};

/* pci_config.c: one function's header, by dword. */
uint32_t pci_cfg_read(const struct pci_func *f, unsigned reg);
/* @be: byte enables (bit i: byte i of the dword). True if the function's
 * decode (BARs or command) may have changed. */
bool pci_cfg_write(struct pci_func *f, unsigned reg, uint32_t val, unsigned be);

/* pci_bars.c */
int pci_bars_init(const struct avm_device_ops *ops, struct pci_func *f,
		  avm_ctx *ctx);
void pci_bars_assign(struct pci_host *s, avm_ctx *ctx);
void pci_bars_update(struct pci_host *s, avm_ctx *ctx);
void pci_master_update(struct pci_host *s, avm_ctx *ctx);

#endif /* ACTORVM_PCI_PRIV_H */
