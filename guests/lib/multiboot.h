/* SPDX-License-Identifier: MIT */
/* Multiboot v1 information structure, as the boot loader hands it over. */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002
/* Header flags: modules page aligned, memory information wanted. */
#define MULTIBOOT_PAGE_ALIGN  (1u << 0)
#define MULTIBOOT_MEMORY_INFO (1u << 1)

/* multiboot_info.flags: which fields are valid. */
#define MULTIBOOT_INFO_MEMORY	   (1u << 0)
#define MULTIBOOT_INFO_BOOTDEV	   (1u << 1)
#define MULTIBOOT_INFO_CMDLINE	   (1u << 2)
#define MULTIBOOT_INFO_MODS	   (1u << 3)
#define MULTIBOOT_INFO_MEM_MAP	   (1u << 6)
#define MULTIBOOT_INFO_LOADER_NAME (1u << 9)

#define MULTIBOOT_MEMORY_AVAILABLE 1
#define MULTIBOOT_MEMORY_RESERVED  2
#define MULTIBOOT_MEMORY_ACPI	   3
#define MULTIBOOT_MEMORY_NVS	   4
#define MULTIBOOT_MEMORY_BADRAM	   5

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB below 1 MiB */
	uint32_t mem_upper; /* KiB above 1 MiB, up to the first hole */
	uint32_t boot_device;
	uint32_t cmdline; /* physical address of a NUL-terminated string */
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info;
	uint32_t vbe_mode_info;
	uint16_t vbe_mode;
	uint16_t vbe_interface_seg;
	uint16_t vbe_interface_off;
	uint16_t vbe_interface_len;
} __attribute__((packed));

/*
 * One memory map entry. @size counts the bytes after itself, so the next
 * entry is at (char *)entry + size + 4, whatever this layout's size is.
 */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

struct multiboot_module {
	uint32_t mod_start;
	uint32_t mod_end;
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));

#endif /* GUEST_MULTIBOOT_H */
