/* SPDX-License-Identifier: MIT */
/* Shared helpers of the UART tests (harness, deterministic executor). */
#ifndef UART_TEST_H
#define UART_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <actorvm/harness.h>

#include "uart.h"
#include "uart_priv.h"

static inline void wr(avm_harness *h, unsigned off, uint8_t v)
{
	avm_harness_write(h, 0, off, 1, v);
}

static inline uint8_t rd(avm_harness *h, unsigned off)
{
	return (uint8_t)avm_harness_read(h, 0, off, 1);
}

static inline uint64_t uart_stat(avm_harness *h, enum uart_stat which)
{
	struct avm_msg m = { .kind = UART_MSG_STAT, .user.arg = which };

	return avm_harness_request(h, &m);
}

static inline void send_chars(avm_harness *h, const char *s, size_t n)
{
	avm_harness_send_data(h, AVM_MSG_CHAR, 0, s, n);
}

/* A harness around a UART with @cfg (NULL: null backend). */
static inline avm_harness *uart_harness(const struct uart_config *cfg)
{
	struct avm_harness_opts o = { .ops = &uart_ops,
				      .config = cfg,
				      .log_level = AVM_LOG_ERROR };
	avm_harness *h = NULL;

	assert_int_equal(avm_harness_new(&o, &h), 0);
	return h;
}

static inline uint64_t test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void test_sleep_us(unsigned us)
{
	struct timespec ts = { .tv_sec = us / 1000000,
			       .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* 10 s: a wait that fails instead of hanging. */
#define TEST_DEADLINE_NS 60000000000ull /* a hang guard, not a speed bound */

#endif /* UART_TEST_H */
