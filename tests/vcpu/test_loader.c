/* SPDX-License-Identifier: MIT */
/* The Multiboot loader: a good image lands at its link address with a
 * correct information structure; bad images are refused with a reason and
 * without writing outside RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>

#include "elf_builder.h"
#include "multiboot.h"

static avm_runtime *rt_with_ram(uint64_t size, uint8_t **ram)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_DETERMINISTIC };
	avm_runtime *rt;

	assert_int_equal(avm_runtime_new(&cfg, &rt), 0);
	assert_int_equal(avm_ram_add(rt, 0, size, (void **)ram), 0);
	return rt;
}

static void loads_and_describes_memory(void **unused)
{
	const uint8_t code[] = { 0xf4, 0xeb, 0xfd };
	struct image im;
	struct mb_boot b;
	uint8_t *ram;
	avm_runtime *rt = rt_with_ram(8 << 20, &ram);
	char err[128];
	uint32_t mi[13];

	(void)unused;
	image_build(&im, code, sizeof(code));
	assert_int_equal(mb_load(rt, im.b, im.len, "console=ttyS0", &b, err,
				 sizeof(err)),
			 0);
	assert_int_equal(b.entry, image_addr(0));
	assert_int_equal(b.magic, MB_BOOT_MAGIC);
	assert_int_equal(b.info_gpa, MB_INFO_GPA);
	assert_memory_equal(ram + IMG_BASE, im.b, im.len);
	assert_int_equal(ram[IMG_BASE + im.len + 10], 0); /* .bss zeroed */
	memcpy(mi, ram + MB_INFO_GPA, sizeof(mi));
	assert_int_equal(mi[0] & 0x45, 0x45); /* mem, cmdline, mmap */
	assert_int_equal(mi[1], 640);	      /* mem_lower, KiB */
	assert_int_equal(mi[2], (8 << 20) / 1024 - 1024); /* mem_upper */
	assert_string_equal((char *)ram + mi[4], "console=ttyS0");
	assert_int_equal(mi[11], 48); /* mmap_length */
	avm_runtime_free(rt);
}

static int load(avm_runtime *rt, struct image *im, char *err)
{
	struct mb_boot b;

	return mb_load(rt, im->b, im->len, NULL, &b, err, 128);
}

static void refuses_bad_images(void **unused)
{
	const uint8_t code[] = { 0xf4 };
	struct image im;
	uint8_t *ram;
	avm_runtime *rt = rt_with_ram(4 << 20, &ram);
	char err[128];
	Elf32_Ehdr *eh = (Elf32_Ehdr *)im.b;
	Elf32_Phdr *ph = (Elf32_Phdr *)(im.b + sizeof(*eh));

	(void)unused;
	image_build(&im, code, 1);
	im.b[0] = 0;
	assert_int_equal(load(rt, &im, err), -ENOEXEC);
	assert_non_null(strstr(err, "not an ELF"));
	image_build(&im, code, 1);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	assert_int_equal(load(rt, &im, err), -ENOEXEC);
	image_build(&im, code, 1);
	memset(im.b + 84, 0, 12); /* no Multiboot header */
	assert_int_equal(load(rt, &im, err), -ENOEXEC);
	assert_non_null(strstr(err, "Multiboot header"));
	image_build(&im, code, 1);
	im.b[92] ^= 1; /* checksum */
	assert_int_equal(load(rt, &im, err), -ENOEXEC);
	image_build(&im, code, 1);
	eh->e_phnum = 500; /* table beyond the file */
	assert_int_equal(load(rt, &im, err), -ENOEXEC);
	image_build(&im, code, 1);
	ph->p_filesz = 0xffffff00; /* segment beyond the file */
	assert_int_equal(load(rt, &im, err), -ENOEXEC);
	image_build(&im, code, 1);
	ph->p_paddr = 0x3ff000; /* runs past the end of RAM */
	ph->p_memsz = 0x2000;
	assert_int_equal(load(rt, &im, err), -EFAULT);
	image_build(&im, code, 1);
	ph->p_paddr = 0x8000; /* over the information structure */
	assert_int_equal(load(rt, &im, err), -EFAULT);
	image_build(&im, code, 1);
	eh->e_entry = 0x50000000;
	assert_int_equal(load(rt, &im, err), -ENOEXEC);
	assert_non_null(strstr(err, "entry"));
	/* Every prefix of a valid image is refused or loads; never more. */
	image_build(&im, code, 1);
	for (size_t n = 0; n < im.len; n++) {
		struct mb_boot b;

		assert_true(mb_load(rt, im.b, n, NULL, &b, err, sizeof(err)) <
			    0);
	}
	avm_runtime_free(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_and_describes_memory),
		cmocka_unit_test(refuses_bad_images),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
