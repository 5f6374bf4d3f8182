// SPDX-License-Identifier: MIT
/*
 * verdict: a guest that ends the way its command line says, for the tests
 * of `actorvm run`'s exit statuses and of runs that can never finish:
 *   exit=N   write N to the exit port (any value, 0 included)
 *   say=N    first print N lines of 61 bytes to the serial port
 *   ud2      execute an invalid instruction (the CPU stops for good)
 *   triple   load an empty IDT and raise an exception: a triple fault
 * With none of exit/ud2/triple it exits with GUEST_EXIT_SUCCESS.
 */
#include "guest.h"

/* What follows "key=" (or "key" alone) at a word start of @cmdline, or NULL. */
static const char *option(const char *cmdline, const char *key)
{
	size_t n = 0;

	while (key[n])
		n++;
	for (const char *p = cmdline; *p; p++)
		if ((p == cmdline || p[-1] == ' ') &&
		    !__builtin_memcmp(p, key, n) &&
		    (p[n] == '=' || !p[n] || p[n] == ' '))
			return p + n + (p[n] == '=');
	return NULL;
}

static unsigned int number(const char *s)
{
	unsigned int v = 0;

	while (s && *s >= '0' && *s <= '9')
		v = v * 10 + (unsigned int)(*s++ - '0');
	return v;
}

static void triple_fault(void)
{
	static const struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) none = { 0, 0 };

	__asm__ volatile("lidt %0; int3" : : "m"(none));
}

int guest_main(const struct multiboot_info *mbi)
{
	const char *cmd = "";
	unsigned int lines;

	if (mbi->flags & MULTIBOOT_INFO_CMDLINE)
		cmd = (const char *)(uintptr_t)mbi->cmdline;
	lines = number(option(cmd, "say"));
	for (unsigned int i = 0; i < lines; i++)
		guest_printf("verdict: line %08u of output a full disk may "
			     "lose......\n",
			     i);
	if (option(cmd, "ud2"))
		__asm__ volatile("ud2");
	if (option(cmd, "triple"))
		triple_fault();
	if (option(cmd, "exit"))
		return (int)number(option(cmd, "exit"));
	return GUEST_EXIT_SUCCESS;
}
