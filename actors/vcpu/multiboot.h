/* SPDX-License-Identifier: MIT */
/**
 * DOC: Multiboot v1 loader
 *
 * Loads a Multiboot (version 1) ELF32 kernel into guest RAM at its link
 * addresses and builds the Multiboot information structure (memory size,
 * memory map, command line) the way a boot loader would. The image is
 * untrusted input: every field is checked, nothing is written outside RAM.
 */
#ifndef VCPU_MULTIBOOT_H
#define VCPU_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include <actorvm/runtime.h>

/** MB_BOOT_MAGIC - EAX at entry, telling the kernel a loader booted it. */
#define MB_BOOT_MAGIC 0x2BADB002u
/** MB_HEADER_MAGIC - the magic of the header inside the image. */
#define MB_HEADER_MAGIC 0x1BADB002u
/** MB_INFO_GPA - where the information structure goes (below 640 KiB). */
#define MB_INFO_GPA 0x9000u
/**
 * MB_INFO_SLOTS - information pages from %MB_INFO_GPA, one per image of an
 * AMP set-up (each VCPU booting its own kernel gets its own command line).
 * Segments must load above them.
 */
#define MB_INFO_SLOTS 4

/**
 * struct mb_boot - what a VCPU needs to enter the kernel.
 * @entry: EIP (the ELF entry).
 * @info_gpa: EBX (the Multiboot information structure).
 * @magic: EAX (%MB_BOOT_MAGIC).
 * @load_lo, @load_hi: the guest-physical range the image occupies.
 */
struct mb_boot {
	uint32_t entry;
	uint32_t info_gpa;
	uint32_t magic;
	uint64_t load_lo, load_hi;
};

/**
 * mb_load() - load the kernel in @image (@len bytes) into @rt's RAM.
 * @cmdline: the kernel command line (may be NULL).
 * @err, @err_len: a readable reason on failure.
 *
 * RAM must be one block at guest-physical 0 (covering the info area and the
 * image). Returns 0, -ENOEXEC (not a Multiboot ELF32 kernel, or a field out
 * of range), -EFAULT (a segment outside RAM), -EINVAL.
 */
int mb_load(avm_runtime *rt, const void *image, size_t len, const char *cmdline,
	    struct mb_boot *out, char *err, size_t err_len);

/** mb_load_file() - mb_load() from a file (at most 64 MiB). */
int mb_load_file(avm_runtime *rt, const char *path, const char *cmdline,
		 struct mb_boot *out, char *err, size_t err_len);

/**
 * mb_load_slot(), mb_load_file_slot() - the same, with the information
 * structure in page @slot (0 .. %MB_INFO_SLOTS-1) from %MB_INFO_GPA: the
 * second kernel of an AMP set-up loads into slot 1, and so on.
 */
int mb_load_slot(avm_runtime *rt, const void *image, size_t len,
		 const char *cmdline, unsigned slot, struct mb_boot *out,
		 char *err, size_t err_len);
int mb_load_file_slot(avm_runtime *rt, const char *path, const char *cmdline,
		      unsigned slot, struct mb_boot *out, char *err,
		      size_t err_len);

#endif /* VCPU_MULTIBOOT_H */
