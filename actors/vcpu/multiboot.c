/* SPDX-License-Identifier: MIT */

#include "multiboot.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/errbuf.h>

#define MB_SEARCH     8192 /* the header must be in the first 8 KiB */
#define MB_MAX_FILE   (64u << 20)
#define MB_LOW_MEM_KB 640
/* Inside one slot's page: the info structure, the map, the command line. */
#define MB_MMAP_OFF    0x400
#define MB_CMDLINE_OFF 0x800
#define MB_SLOT_SIZE   0x1000
#define MB_CMDLINE_MAX 0x7ff

/* Multiboot information flags. */
#define MBI_MEM	    (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MMAP    (1u << 6)

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

/* The Multiboot header: magic, flags, checksum summing to 0. */
static int find_header(const uint8_t *img, size_t len, char *err, size_t elen)
{
	size_t end = len < MB_SEARCH ? len : MB_SEARCH;

	for (size_t off = 0; off + 12 <= end; off += 4) {
		uint32_t h[3];

		memcpy(h, img + off, sizeof(h));
		if (h[0] != MB_HEADER_MAGIC)
			continue;
		if ((uint32_t)(h[0] + h[1] + h[2]) != 0)
			return avm_errf(err, elen, -ENOEXEC,
					"Multiboot header at %zu: bad checksum",
					off);
		/* Bit 16 (a.out kludge) is for non-ELF images: unsupported. */
		if (h[1] & (1u << 16))
			return avm_errf(err, elen, -ENOEXEC,
					"Multiboot a.out kludge not supported");
		return 0;
	}
	return avm_errf(err, elen, -ENOEXEC,
			"no Multiboot header in the first 8 KiB");
}

static int check_ehdr(const Elf32_Ehdr *eh, size_t len, char *err, size_t elen)
{
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return avm_errf(err, elen, -ENOEXEC, "not an ELF file");
	if (eh->e_ident[EI_CLASS] != ELFCLASS32 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_386)
		return avm_errf(err, elen, -ENOEXEC,
				"not a 32-bit little-endian x86 ELF");
	if (eh->e_type != ET_EXEC)
		return avm_errf(err, elen, -ENOEXEC, "not an executable ELF");
	if (eh->e_phentsize != sizeof(Elf32_Phdr) || !eh->e_phnum ||
	    eh->e_phoff > len ||
	    (size_t)eh->e_phnum * sizeof(Elf32_Phdr) > len - eh->e_phoff)
		return avm_errf(err, elen, -ENOEXEC,
				"bad program header table");
	return 0;
}

static int load_segment(avm_runtime *rt, const uint8_t *img, size_t len,
			const Elf32_Phdr *ph, struct mb_boot *b, char *err,
			size_t elen)
{
	uint8_t *dst;

	if (ph->p_filesz > ph->p_memsz || ph->p_offset > len ||
	    ph->p_filesz > len - ph->p_offset)
		return avm_errf(err, elen, -ENOEXEC,
				"segment at 0x%x: sizes outside the file",
				ph->p_paddr);
	if (!ph->p_memsz)
		return 0;
	dst = avm_ram_ptr(rt, ph->p_paddr, ph->p_memsz);
	if (!dst || ph->p_paddr < MB_INFO_GPA + MB_INFO_SLOTS * MB_SLOT_SIZE)
		return avm_errf(err, elen, -EFAULT,
				"segment [0x%x, +0x%x) is not in free RAM",
				ph->p_paddr, ph->p_memsz);
	memcpy(dst, img + ph->p_offset, ph->p_filesz);
	memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	if (ph->p_paddr < b->load_lo)
		b->load_lo = ph->p_paddr;
	if ((uint64_t)ph->p_paddr + ph->p_memsz > b->load_hi)
		b->load_hi = (uint64_t)ph->p_paddr + ph->p_memsz;
	return 0;
}

/* RAM is one block at 0: its size tells mem_upper and the memory map. */
static uint64_t ram_size(avm_runtime *rt)
{
	uint64_t lo = 0, hi = 1ull << 32;

	if (!avm_ram_ptr(rt, 0, 1))
		return 0;
	while (hi - lo > 4096) { /* binary search of the block's end */
		uint64_t mid = (lo + hi) / 2 & ~4095ull;

		if (avm_ram_ptr(rt, 0, mid))
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int write_info(avm_runtime *rt, uint32_t at, const char *cmdline,
		      char *err, size_t elen)
{
	uint64_t size = ram_size(rt);
	struct mb_info *mi = avm_ram_ptr(rt, at, sizeof(*mi));
	struct mb_mmap map[2] = {
		{ 20, 0, MB_LOW_MEM_KB * 1024ull, 1 },
		{ 20, 0x100000, size > 0x100000 ? size - 0x100000 : 0, 1 },
	};
	char *cl = avm_ram_ptr(rt, at + MB_CMDLINE_OFF, MB_CMDLINE_MAX + 1);

	if (size < 0x200000 || !mi || !cl)
		return avm_errf(err, elen, -EFAULT,
				"need at least 2 MiB of RAM at address 0");
	memset(mi, 0, sizeof(*mi));
	mi->flags = MBI_MEM | MBI_MMAP | MBI_CMDLINE;
	mi->mem_lower = MB_LOW_MEM_KB;
	mi->mem_upper = (uint32_t)((size - 0x100000) / 1024);
	memcpy(avm_ram_ptr(rt, at + MB_MMAP_OFF, sizeof(map)), map,
	       sizeof(map));
	mi->mmap_addr = at + MB_MMAP_OFF;
	mi->mmap_length = sizeof(map);
	snprintf(cl, MB_CMDLINE_MAX + 1, "%s", cmdline ? cmdline : "");
	mi->cmdline = at + MB_CMDLINE_OFF;
	return 0;
}

int mb_load(avm_runtime *rt, const void *image, size_t len, const char *cmdline,
	    struct mb_boot *out, char *err, size_t err_len)
{
	return mb_load_slot(rt, image, len, cmdline, 0, out, err, err_len);
}

int mb_load_slot(avm_runtime *rt, const void *image, size_t len,
		 const char *cmdline, unsigned slot, struct mb_boot *out,
		 char *err, size_t err_len)
{
	const uint8_t *img = image;
	Elf32_Ehdr eh;
	struct mb_boot b = { .magic = MB_BOOT_MAGIC,
			     .info_gpa = MB_INFO_GPA + slot * MB_SLOT_SIZE,
			     .load_lo = UINT64_MAX };
	int ret;

	if (!rt || !img || !out || slot >= MB_INFO_SLOTS)
		return -EINVAL;
	memcpy(&eh, img, len < sizeof(eh) ? len : sizeof(eh));
	ret = check_ehdr(&eh, len, err, err_len)
		      ?: find_header(img, len, err, err_len);
	for (unsigned i = 0; !ret && i < eh.e_phnum; i++) {
		Elf32_Phdr ph;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD)
			ret = load_segment(rt, img, len, &ph, &b, err, err_len);
	}
	if (!ret && (b.load_lo == UINT64_MAX || eh.e_entry < b.load_lo ||
		     eh.e_entry >= b.load_hi))
		ret = avm_errf(err, err_len, -ENOEXEC,
			       "entry 0x%x is outside the loaded segments",
			       eh.e_entry);
	if (!ret)
		ret = write_info(rt, b.info_gpa, cmdline, err, err_len);
	if (!ret) {
		b.entry = eh.e_entry;
		*out = b;
	}
	return ret;
}

int mb_load_file(avm_runtime *rt, const char *path, const char *cmdline,
		 struct mb_boot *out, char *err, size_t err_len)
{
	return mb_load_file_slot(rt, path, cmdline, 0, out, err, err_len);
}

int mb_load_file_slot(avm_runtime *rt, const char *path, const char *cmdline,
		      unsigned slot, struct mb_boot *out, char *err,
		      size_t err_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;
	int ret;

	if (!f)
		return avm_errf(err, err_len, -errno, "%s: %s", path,
				strerror(errno));
	buf = malloc(MB_MAX_FILE);
	n = buf ? fread(buf, 1, MB_MAX_FILE, f) : 0;
	fclose(f);
	if (!buf)
		return -ENOMEM;
	ret = n == MB_MAX_FILE ? avm_errf(err, err_len, -EFBIG,
					  "%s: larger than 64 MiB", path)
			       : mb_load_slot(rt, buf, n, cmdline, slot, out,
					      err, err_len);
	free(buf);
	return ret;
}
