// SPDX-License-Identifier: MIT
/* Verdicts: the exit port, assertion failures, a bad boot. */
#include "guest.h"

void guest_exit(uint32_t code)
{
	guest_outl(GUEST_EXIT_PORT, code);
	/* No exit port (or it ignored us): stop here, never run on. */
	for (;;) {
		guest_cli();
		guest_hlt();
	}
}

/* __FILE__ is the path the build used; the file name is what is wanted. */
static const char *base_name(const char *path)
{
	const char *base = path;

	for (; *path; path++) {
		if (*path == '/')
			base = path + 1;
	}
	return base;
}

void guest_assert_fail(const char *expr, const char *file, int line)
{
	guest_printf("GUEST_ASSERT failed: %s at %s:%d\n", expr,
		     base_name(file), line);
	guest_exit(GUEST_EXIT_FAILURE);
}

void guest_assert_eq_fail(const char *a, const char *b, unsigned long long va,
			  unsigned long long vb, const char *file, int line)
{
	guest_printf("GUEST_ASSERT_EQ failed: %s == %s at %s:%d\n", a, b,
		     base_name(file), line);
	guest_printf("  left:  %llu (0x%llx)\n  right: %llu (0x%llx)\n", va, va,
		     vb, vb);
	guest_exit(GUEST_EXIT_FAILURE);
}

/* Called from start.S; not in guest.h because no guest should call it. */
__attribute__((noreturn)) void guest_bad_magic(uint32_t eax);

void guest_bad_magic(uint32_t eax)
{
	guest_printf("guest: not booted by Multiboot: EAX = 0x%08x, want "
		     "0x%08x\n",
		     eax, GUEST_MULTIBOOT_MAGIC);
	guest_exit(GUEST_EXIT_FAILURE);
}
