/* SPDX-License-Identifier: MIT */
/*
 * The two futex calls the framework sleeps and wakes with (reply slots, a
 * sleeping server thread). Private to the framework. A futex only ever
 * sleeps while its word still holds the value the sleeper expects, checked
 * by the kernel under the same lock as a wake: a waker that changes the word
 * before it calls avm_futex_wake() can never be missed.
 */
#ifndef AVM_FUTEX_H
#define AVM_FUTEX_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep while *@word == @expect, until woken or @deadline_ns (absolute,
 * CLOCK_MONOTONIC; UINT64_MAX: none). Spurious returns happen: callers
 * look again. */
static inline void avm_futex_wait(_Atomic uint32_t *word, uint32_t expect,
				  uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000ull),
		.tv_nsec = (long)(deadline_ns % 1000000000ull),
	};

	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
	syscall(SYS_futex, word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expect,
		deadline_ns == UINT64_MAX ? NULL : &ts, NULL,
		FUTEX_BITSET_MATCH_ANY);
}

/* Wake one thread sleeping on @word. */
static inline void avm_futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL,
		0);
}

#endif /* AVM_FUTEX_H */
