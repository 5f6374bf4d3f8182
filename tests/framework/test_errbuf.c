/* SPDX-License-Identifier: MIT */
/* avm_errf(): the message lands in the buffer, cut to its size, and the
 * code comes back whether or not there is a buffer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <actorvm/errbuf.h>

static void formats_and_returns_the_code(void **unused)
{
	char err[64];

	(void)unused;
	assert_int_equal(
		avm_errf(err, sizeof(err), -EINVAL, "bad %s %d", "x", 7),
		-EINVAL);
	assert_string_equal(err, "bad x 7");
}

static void cuts_to_the_buffer(void **unused)
{
	char err[8];

	(void)unused;
	memset(err, 'z', sizeof(err));
	assert_int_equal(avm_errf(err, 5, -ENOSPC, "%s", "abcdefgh"), -ENOSPC);
	assert_string_equal(err, "abcd");
	assert_int_equal(err[5], 'z'); /* nothing written past @len */
}

static void no_buffer_is_fine(void **unused)
{
	char err[4] = "old";

	(void)unused;
	assert_int_equal(avm_errf(NULL, 16, -EIO, "x"), -EIO);
	assert_int_equal(avm_errf(err, 0, -EIO, "new"), -EIO);
	assert_string_equal(err, "old");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(formats_and_returns_the_code),
		cmocka_unit_test(cuts_to_the_buffer),
		cmocka_unit_test(no_buffer_is_fine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
