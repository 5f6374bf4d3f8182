/* SPDX-License-Identifier: MIT */
/* Error messages into a caller's buffer (include/actorvm/errbuf.h). */
#include <stdarg.h>
#include <stdio.h>

#include <actorvm/errbuf.h>

int avm_errf(char *err, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return code;
}
