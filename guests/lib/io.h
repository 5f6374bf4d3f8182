/* SPDX-License-Identifier: MIT */
/*
 * Port I/O and MMIO accessors for freestanding guests.
 *
 * Every access is a single instruction on a volatile location, so the
 * compiler can neither merge, split nor reorder device accesses; the VCPU
 * sees them exactly in program order.
 */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include <stdint.h>

static inline void guest_outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port) : "memory");
}

static inline void guest_outw(uint16_t port, uint16_t val)
{
	__asm__ volatile("outw %0, %1" : : "a"(val), "Nd"(port) : "memory");
}

static inline void guest_outl(uint16_t port, uint32_t val)
{
	__asm__ volatile("outl %0, %1" : : "a"(val), "Nd"(port) : "memory");
}

static inline uint8_t guest_inb(uint16_t port)
{
	uint8_t val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port) : "memory");
	return val;
}

static inline uint16_t guest_inw(uint16_t port)
{
	uint16_t val;

	__asm__ volatile("inw %1, %0" : "=a"(val) : "Nd"(port) : "memory");
	return val;
}

static inline uint32_t guest_inl(uint16_t port)
{
	uint32_t val;

	__asm__ volatile("inl %1, %0" : "=a"(val) : "Nd"(port) : "memory");
	return val;
}

static inline uint8_t guest_mmio_read8(uintptr_t addr)
{
	return *(volatile uint8_t *)addr;
}

static inline uint16_t guest_mmio_read16(uintptr_t addr)
{
	return *(volatile uint16_t *)addr;
}

static inline uint32_t guest_mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void guest_mmio_write8(uintptr_t addr, uint8_t val)
{
	*(volatile uint8_t *)addr = val;
}

static inline void guest_mmio_write16(uintptr_t addr, uint16_t val)
{
	*(volatile uint16_t *)addr = val;
}

static inline void guest_mmio_write32(uintptr_t addr, uint32_t val)
{
	*(volatile uint32_t *)addr = val;
}

/* Compiler barrier: memory shared with interrupt handlers is re-read. */
static inline void guest_barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

static inline void guest_sti(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void guest_cli(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline void guest_hlt(void)
{
	__asm__ volatile("hlt" : : : "memory");
}

/*
 * Enable interrupts and halt in one go: STI's one-instruction shadow means
 * an interrupt pending at this point wakes the HLT instead of being taken
 * just before it (which would leave the HLT waiting for the next one).
 */
static inline void guest_sti_hlt(void)
{
	__asm__ volatile("sti; hlt" : : : "memory");
}

#endif /* GUEST_IO_H */
