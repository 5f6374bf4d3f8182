// SPDX-License-Identifier: MIT
/*
 * pci_scan: lists bus 0 through configuration mechanism #1 (IDs, class,
 * interrupt pin/line, BARs) and checks that 00:00.0 is a host bridge.
 * Nothing else is asserted: QEMU's pc and actorvm put different devices
 * behind the bridge.
 */
#include "guest.h"

#define PCI_CLASS_BRIDGE_HOST 0x0600

static void print_bars(struct guest_pci_dev d)
{
	struct guest_pci_bar bar;
	unsigned int used;

	for (unsigned int n = 0; n < 6; n += used) {
		used = (unsigned int)guest_pci_bar(d, n, &bar);
		if (!bar.size)
			continue;
		guest_printf("    BAR%u %s 0x%llx size 0x%llx%s%s\n", n,
			     bar.is_io ? "io " : "mem", bar.addr, bar.size,
			     bar.is_64 ? " 64-bit" : "",
			     bar.prefetch ? " prefetchable" : "");
	}
}

static void print_dev(struct guest_pci_dev d, void *arg)
{
	unsigned int *count = arg;
	uint32_t class = guest_pci_read32(d, GUEST_PCI_REVISION) >> 8;

	guest_printf("%02x:%02x.%x %04x:%04x class %06x irq pin %u line %u\n",
		     d.bus, d.dev, d.fn,
		     guest_pci_read16(d, GUEST_PCI_VENDOR_ID),
		     guest_pci_read16(d, GUEST_PCI_DEVICE_ID), class,
		     guest_pci_read8(d, GUEST_PCI_INTERRUPT_PIN),
		     guest_pci_read8(d, GUEST_PCI_INTERRUPT_LINE));
	/* Only ordinary devices (header type 0) have six BARs. */
	if ((guest_pci_read8(d, GUEST_PCI_HEADER_TYPE) & 0x7F) == 0)
		print_bars(d);
	(*count)++;
}

int guest_main(const struct multiboot_info *mbi)
{
	struct guest_pci_dev host = { 0, 0, 0 };
	unsigned int count = 0;

	guest_puts("pci_scan: bus 0");
	guest_pci_foreach(print_dev, &count);
	guest_printf("pci_scan: %u functions\n", count);
	GUEST_ASSERT(count >= 1);
	GUEST_ASSERT(guest_pci_present(host));
	GUEST_ASSERT_EQ(guest_pci_read16(host, GUEST_PCI_CLASS_SUB),
			PCI_CLASS_BRIDGE_HOST);
	GUEST_DONE();
}
