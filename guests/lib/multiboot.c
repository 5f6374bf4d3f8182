// SPDX-License-Identifier: MIT
/* Printing the Multiboot information a guest was booted with. */
#include "guest.h"

static const char *mmap_type(uint32_t type)
{
	switch (type) {
	case MULTIBOOT_MEMORY_AVAILABLE:
		return "available";
	case MULTIBOOT_MEMORY_RESERVED:
		return "reserved";
	case MULTIBOOT_MEMORY_ACPI:
		return "ACPI reclaimable";
	case MULTIBOOT_MEMORY_NVS:
		return "ACPI NVS";
	case MULTIBOOT_MEMORY_BADRAM:
		return "bad";
	default:
		return "unknown";
	}
}

static void print_mmap(const struct multiboot_info *mbi)
{
	uintptr_t p = mbi->mmap_addr, end = p + mbi->mmap_length;

	guest_printf("memory map (%u bytes at 0x%x):\n", mbi->mmap_length,
		     mbi->mmap_addr);
	while (p < end) {
		const struct multiboot_mmap_entry *e = (const void *)p;

		guest_printf("  0x%016llx-0x%016llx %s\n", e->addr,
			     e->addr + e->len - 1, mmap_type(e->type));
		/* @size excludes itself; a zero size would loop forever. */
		if (e->size == 0)
			break;
		p += e->size + sizeof(e->size);
	}
}

void guest_multiboot_print(const struct multiboot_info *mbi)
{
	guest_printf("multiboot info at %p, flags 0x%x\n", (const void *)mbi,
		     mbi->flags);
	if (mbi->flags & MULTIBOOT_INFO_MEMORY)
		guest_printf("memory: %u KiB low, %u KiB high\n",
			     mbi->mem_lower, mbi->mem_upper);
	if (mbi->flags & MULTIBOOT_INFO_CMDLINE)
		guest_printf("command line: \"%s\"\n",
			     (const char *)(uintptr_t)mbi->cmdline);
	if (mbi->flags & MULTIBOOT_INFO_LOADER_NAME)
		guest_printf("boot loader: %s\n",
			     (const char *)(uintptr_t)mbi->boot_loader_name);
	if (mbi->flags & MULTIBOOT_INFO_MEM_MAP)
		print_mmap(mbi);
}
