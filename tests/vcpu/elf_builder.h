/* SPDX-License-Identifier: MIT */
/* Builds tiny Multiboot ELF32 images in memory for loader and VCPU tests:
 * one PT_LOAD segment at 0x100000 holding the Multiboot header and code. */
#ifndef TEST_ELF_BUILDER_H
#define TEST_ELF_BUILDER_H

#include <elf.h>
#include <stdint.h>
#include <string.h>

#define IMG_BASE     0x100000u
#define IMG_CODE_OFF 96u /* ehdr 52 + phdr 32 + Multiboot header 12 */

struct image {
	uint8_t b[8192];
	size_t len;
};

/* @code (@n bytes) placed at IMG_BASE + IMG_CODE_OFF, the entry point. */
static inline void image_build(struct image *im, const uint8_t *code, size_t n)
{
	Elf32_Ehdr eh = { 0 };
	Elf32_Phdr ph = { 0 };
	uint32_t mb[3] = { 0x1BADB002u, 0, (uint32_t)-0x1BADB002 };

	memset(im, 0, sizeof(*im));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_386;
	eh.e_version = EV_CURRENT;
	eh.e_entry = IMG_BASE + IMG_CODE_OFF;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	im->len = IMG_CODE_OFF + n;
	ph.p_type = PT_LOAD;
	ph.p_vaddr = ph.p_paddr = IMG_BASE;
	ph.p_filesz = (uint32_t)im->len;
	ph.p_memsz = (uint32_t)im->len + 0x1000; /* some .bss */
	ph.p_flags = PF_R | PF_W | PF_X;
	memcpy(im->b, &eh, sizeof(eh));
	memcpy(im->b + sizeof(eh), &ph, sizeof(ph));
	memcpy(im->b + sizeof(eh) + sizeof(ph), mb, sizeof(mb));
	memcpy(im->b + IMG_CODE_OFF, code, n);
}

static inline uint32_t image_addr(size_t code_off)
{
	return IMG_BASE + IMG_CODE_OFF + (uint32_t)code_off;
}

#endif /* TEST_ELF_BUILDER_H */
