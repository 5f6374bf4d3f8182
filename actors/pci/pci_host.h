/* SPDX-License-Identifier: MIT */
/**
 * DOC: pci-host - PCI bus 0 behind an i440FX host bridge
 *
 * The PCI host actor owns PCI configuration space: configuration mechanism
 * #1 (region 0: 8 ports, map it at %PCI_HOST_CONFIG_PORT = 0xCF8), a host
 * bridge at 00:00.0 (Intel 440FX, 8086:1237, as on QEMU's pc) and the
 * functions named in &struct pci_host_config, each an actor whose type
 * declares &avm_device_ops.pci.
 *
 * At init the host assigns BARs, the command register and the interrupt
 * line as firmware (SeaBIOS) would, and maps the functions' regions there.
 * From then on the guest owns them: a BAR write or a command-register write
 * that changes what a function decodes unmaps and maps its regions
 * (avm_unmap()/avm_map(): VCPUs see the old or the new map, never a mix),
 * and the bus-master bit gates the function's DMA (avm_dma_enable()).
 *
 * The host does not carry interrupts: a function's "irq" port is bound by
 * the platform to the IOAPIC pin pci_intx_irq() gives, which is also what
 * the interrupt-line register says. See docs/pci.md.
 */
#ifndef ACTORVM_PCI_HOST_H
#define ACTORVM_PCI_HOST_H

#include <stdint.h>

#include <actorvm/actor.h>

/** PCI_HOST_CONFIG_PORT - where a platform maps region 0 (CONFIG_ADDRESS). */
#define PCI_HOST_CONFIG_PORT 0xcf8
/** PCI_HOST_MAX_FUNCTIONS - functions behind the bridge (bridge excluded). */
#define PCI_HOST_MAX_FUNCTIONS 32

/** Default firmware windows (see &struct pci_host_config). */
#define PCI_HOST_MEM_BASE  0xe0000000u
#define PCI_HOST_MEM_LIMIT 0xfec00000u
#define PCI_HOST_IO_BASE   0xc000u
#define PCI_HOST_IO_LIMIT  0x10000u

/** Offsets in a type-0 configuration header. */
enum pci_cfg_reg {
	PCI_CFG_VENDOR_ID = 0x00,
	PCI_CFG_DEVICE_ID = 0x02,
	PCI_CFG_COMMAND = 0x04,
	PCI_CFG_STATUS = 0x06,
	PCI_CFG_REVISION = 0x08,
	PCI_CFG_CLASS = 0x09, /* 3 bytes: prog-if, sub-class, base class */
	PCI_CFG_HEADER_TYPE = 0x0e,
	PCI_CFG_BAR0 = 0x10,
	PCI_CFG_SUBSYS_VENDOR_ID = 0x2c,
	PCI_CFG_SUBSYS_ID = 0x2e,
	PCI_CFG_ROM = 0x30,
	PCI_CFG_INTERRUPT_LINE = 0x3c,
	PCI_CFG_INTERRUPT_PIN = 0x3d,
};

/** Command register bits the host implements (the others read 0). */
#define PCI_COMMAND_IO	   0x1u
#define PCI_COMMAND_MEMORY 0x2u
#define PCI_COMMAND_MASTER 0x4u

/** CONFIG_ADDRESS: enable bit and an address for bus 0. */
#define PCI_CONFIG_ENABLE 0x80000000u
#define PCI_CONFIG_ADDR(slot, fn, reg)                                         \
	(PCI_CONFIG_ENABLE | ((uint32_t)(slot) << 11) |                        \
	 ((uint32_t)(fn) << 8) | ((uint32_t)(reg)&0xfcu))

/**
 * struct pci_host_function - one function behind the bridge.
 * @actor: the device actor (created before the host).
 * @ops: its device type; @ops->pci gives the header, @ops->regions the BAR
 *   sizes. Required, and @ops->pci must not be NULL.
 * @slot: device number on bus 0, 1..31 (0 is the host bridge).
 * @function: function number, 0..7; a slot with functions other than 0
 *   must have function 0 too (guests probe it first).
 */
struct pci_host_function {
	avm_actor_id actor;
	const struct avm_device_ops *ops;
	unsigned slot;
	unsigned function;
};

/**
 * struct pci_host_config - what sits behind the bridge. Zero means default.
 * @functions: the functions (may be NULL when @n_functions is 0).
 * @n_functions: entries in @functions, at most %PCI_HOST_MAX_FUNCTIONS.
 * @mem_base: start of the window firmware assigns memory BARs from
 *   (default %PCI_HOST_MEM_BASE).
 * @mem_limit: its exclusive end, at most 4 GiB (default
 *   %PCI_HOST_MEM_LIMIT, where the IOAPIC starts).
 * @io_base: start of the I/O BAR window (default %PCI_HOST_IO_BASE).
 * @io_limit: its exclusive end, at most 0x10000 (default).
 *
 * A BAR that does not fit its window stays unassigned (0, not decoded)
 * with a warning; init does not fail for it. Bad entries (slot, function,
 * duplicates, a BAR naming a region of the wrong space or a size that is
 * not a power of two, an empty window) make init fail with -EINVAL.
 */
struct pci_host_config {
	const struct pci_host_function *functions;
	unsigned n_functions;
	uint64_t mem_base;
	uint64_t mem_limit;
	uint64_t io_base;
	uint64_t io_limit;
};

/**
 * pci_intx_irq() - the IOAPIC pin (ISA IRQ) of INTx @pin of slot @slot.
 * @slot: device number on bus 0.
 * @pin: 1..4 for INTA#..INTD# (the interrupt-pin register).
 *
 * The PIIX swizzle of QEMU's pc and SeaBIOS's routing: PIRQ = (slot - 1 +
 * pin - 1) & 3, then PIRQA..D = IRQ 10, 10, 11, 11. The host writes this to
 * the interrupt-line register; the platform binds the device's "irq" port to
 * the same IOAPIC pin. INTx is level-triggered (program the pin so).
 *
 * Return: the IRQ, or 0 when @pin is 0 (no interrupt) or above 4.
 */
unsigned pci_intx_irq(unsigned slot, unsigned pin);

/** pci_host_ops - the device type "pci-host"; config: &struct pci_host_config
 */
extern const struct avm_device_ops pci_host_ops;

#endif /* ACTORVM_PCI_HOST_H */
