/* SPDX-License-Identifier: MIT */
/*
 * Small helpers the CPU backends (soft_cpu.c, host-kvm/kvm_cpu.c) share, so
 * that an exit is counted and a floating bus reads the same in both.
 */
#ifndef ACTORVM_VCPU_BACKEND_UTIL_H
#define ACTORVM_VCPU_BACKEND_UTIL_H

#include <stdatomic.h>
#include <stdint.h>

/* What a read of @size bytes sees where nothing decodes the address: the
 * bus floats high, all ones. */
static inline uint64_t vcpu_bus_ones(unsigned size)
{
	return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

/* One more exit to user space. Single writer (the VCPU's own thread), read
 * by others for statistics: a relaxed load and store, no locked add. */
static inline void vcpu_count_exit(_Atomic uint64_t *exits)
{
	atomic_store_explicit(
		exits, atomic_load_explicit(exits, memory_order_relaxed) + 1,
		memory_order_relaxed);
}

#endif
