// SPDX-License-Identifier: MIT
/*
 * hello: the smallest useful guest. Prints a greeting and the Multiboot
 * information, checks the loader described memory that holds the guest
 * itself, and exits with success.
 */
#include "guest.h"

extern const char __guest_start[], __guest_end[];

/* True if an available memory map entry covers [start, end). */
static bool mmap_covers(const struct multiboot_info *mbi, uint64_t start,
			uint64_t end)
{
	uintptr_t p = mbi->mmap_addr, stop = p + mbi->mmap_length;

	while (p < stop) {
		const struct multiboot_mmap_entry *e = (const void *)p;

		if (e->type == MULTIBOOT_MEMORY_AVAILABLE && e->addr <= start &&
		    e->addr + e->len >= end)
			return true;
		if (e->size == 0)
			break;
		p += e->size + sizeof(e->size);
	}
	return false;
}

int guest_main(const struct multiboot_info *mbi)
{
	uint64_t start = (uintptr_t)__guest_start;
	uint64_t end = (uintptr_t)__guest_end;

	guest_puts("hello from an actorvm test guest");
	guest_printf("loaded at 0x%llx-0x%llx\n", start, end);
	guest_multiboot_print(mbi);
	GUEST_ASSERT(mbi->flags & MULTIBOOT_INFO_MEMORY);
	GUEST_ASSERT(mbi->mem_upper > 0);
	GUEST_ASSERT(mbi->flags & MULTIBOOT_INFO_MEM_MAP);
	GUEST_ASSERT(mmap_covers(mbi, start, end));
	GUEST_DONE();
}
