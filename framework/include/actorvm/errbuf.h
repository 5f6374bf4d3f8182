/* SPDX-License-Identifier: MIT */
/**
 * DOC: error messages into a caller's buffer
 *
 * Set-up functions across actorvm (avm_listen(), machine and loader
 * set-up, the manifest builder) report failure twice: a negative errno as
 * the return value, and one line of English in a buffer the caller passes
 * as ``char *err, size_t len``. avm_errf() is the one way to fill it.
 */
#ifndef ACTORVM_ERRBUF_H
#define ACTORVM_ERRBUF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * avm_errf() - format a message into @err and return @code.
 * @err: the caller's buffer, or NULL when it wants no message.
 * @len: its size in bytes; 0 means no message too. A longer message is cut.
 * @code: what to return, usually a negative errno.
 * @fmt: printf format of the message (no trailing newline).
 *
 * Any thread; touches only @err. Return: @code, so that a failure path
 * reads ``return avm_errf(err, len, -EINVAL, "bad %s", what);``.
 */
int avm_errf(char *err, size_t len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif

#endif /* ACTORVM_ERRBUF_H */
