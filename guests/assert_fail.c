// SPDX-License-Identifier: MIT
/*
 * assert_fail: checks the failure path. A GUEST_ASSERT_EQ that cannot hold
 * must report the expression, file:line and both values over serial and
 * give the failure verdict. The runner finds the line by the marker below.
 */
#include "guest.h"

/* Not a constant to the compiler, so the assertion is really evaluated. */
static volatile int two = 2;

int guest_main(const struct multiboot_info *mbi)
{
	guest_puts("assert_fail: the next assertion must fail");
	GUEST_ASSERT(mbi != NULL);
	GUEST_ASSERT_EQ(two + 1, 4); /* EXPECTED-FAILURE */
	guest_puts("assert_fail: still running after a failed assertion");
	GUEST_DONE();
}
