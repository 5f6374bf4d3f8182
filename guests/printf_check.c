// SPDX-License-Identifier: MIT
/*
 * printf_check: the library's formatter against known answers, so a
 * wrong-looking guest report can be trusted to be the guest's own fault.
 */
#include "guest.h"

static unsigned int failures;
/* Hidden from the compiler, which rejects a literal NULL for %s. */
static const char *volatile null_string;

static bool same(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* snprintf into a small buffer, so truncation is exercised too. */
#define CHECK(want, ...)                                                       \
	do {                                                                   \
		char buf_[48];                                                 \
		int n_ = guest_snprintf(buf_, sizeof(buf_), __VA_ARGS__);      \
		check(want, buf_, n_, __LINE__);                               \
	} while (0)

static void check(const char *want, const char *got, int n, int line)
{
	int len = 0;

	while (want[len])
		len++;
	if (same(want, got) && n == len)
		return;
	guest_printf("printf_check.c:%d: got \"%s\" (%d), want \"%s\" (%d)\n",
		     line, got, n, want, len);
	failures++;
}

static void check_truncation(void)
{
	char buf[4];
	int n = guest_snprintf(buf, sizeof(buf), "%s", "abcdef");

	GUEST_ASSERT_EQ(n, 6);
	GUEST_ASSERT(same(buf, "abc"));
}

int guest_main(const struct multiboot_info *mbi)
{
	CHECK("plain", "plain");
	CHECK("100%", "100%%");
	CHECK("42 -42 0", "%d %i %d", 42, -42, 0);
	CHECK("-2147483648", "%d", (int)0x80000000u);
	CHECK("4294967295", "%u", 0xFFFFFFFFu);
	CHECK("18446744073709551615", "%llu", ~0ULL);
	CHECK("-9223372036854775808", "%lld", (long long)(1ULL << 63));
	CHECK("deadbeef DEADBEEF", "%x %X", 0xDEADBEEFu, 0xDEADBEEFu);
	CHECK("123456789abcdef0", "%llx", 0x123456789ABCDEF0ULL);
	CHECK("ffffffff", "%lx", 0xFFFFFFFFul);
	CHECK("00ff|   ff|ff   |", "%04x|%5x|%-5x|", 0xFF, 0xFF, 0xFF);
	CHECK("-0042|  -42", "%05d|%5d", -42, -42);
	CHECK("0x00100000", "%p", (void *)0x100000);
	CHECK("x|  ab|ab  |", "%c|%4s|%-4s|", 'x', "ab", "ab");
	CHECK("   7", "%*d", 4, 7);
	CHECK("(null)", "%s", null_string);
	CHECK("42 4096", "%zu %lu", (size_t)42, 4096ul);
	check_truncation();
	GUEST_ASSERT_EQ(failures, 0);
	guest_puts("printf_check: all formats as expected");
	GUEST_DONE();
}
