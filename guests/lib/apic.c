// SPDX-License-Identifier: MIT
/* Local APIC and IOAPIC register access. */
#include "guest.h"

uint32_t guest_lapic_read(uint32_t reg)
{
	return guest_mmio_read32(GUEST_LAPIC_BASE + reg);
}

void guest_lapic_write(uint32_t reg, uint32_t val)
{
	guest_mmio_write32(GUEST_LAPIC_BASE + reg, val);
}

uint8_t guest_lapic_id(void)
{
	return (uint8_t)(guest_lapic_read(GUEST_LAPIC_ID) >> 24);
}

uint32_t guest_lapic_version(void)
{
	return guest_lapic_read(GUEST_LAPIC_VERSION);
}

void guest_lapic_enable(uint8_t spurious_vector)
{
	guest_lapic_write(GUEST_LAPIC_TPR, 0); /* accept every priority */
	guest_lapic_write(GUEST_LAPIC_SVR,
			  GUEST_LAPIC_SVR_ENABLE | spurious_vector);
}

void guest_lapic_eoi(void)
{
	guest_lapic_write(GUEST_LAPIC_EOI, 0);
}

void guest_lapic_send_ipi(uint8_t dest, uint8_t vector)
{
	/* High half first: writing the low half sends. */
	guest_lapic_write(GUEST_LAPIC_ICR_HIGH, (uint32_t)dest << 24);
	guest_lapic_write(GUEST_LAPIC_ICR_LOW, vector);
}

__attribute__((weak, noreturn)) void
guest_ap_main(const struct multiboot_info *mbi)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_lapic_timer_start(uint8_t vector, uint32_t div_code, uint32_t count,
			     bool periodic)
{
	uint32_t lvt = vector;

	if (periodic)
		lvt |= GUEST_LAPIC_TIMER_PERIODIC;
	/* Mode and divider first: writing the initial count starts it. */
	guest_lapic_write(GUEST_LAPIC_LVT_TIMER, lvt);
	guest_lapic_write(GUEST_LAPIC_TIMER_DIV, div_code);
	guest_lapic_write(GUEST_LAPIC_TIMER_INIT, count);
}

void guest_lapic_timer_stop(void)
{
	guest_lapic_write(GUEST_LAPIC_LVT_TIMER, GUEST_LAPIC_LVT_MASKED);
	guest_lapic_write(GUEST_LAPIC_TIMER_INIT, 0);
}

uint32_t guest_lapic_timer_current(void)
{
	return guest_lapic_read(GUEST_LAPIC_TIMER_CUR);
}

/*
 * IOREGSEL and IOWIN form one access: an interrupt handler touching the
 * IOAPIC between them would redirect the window. Guests here only program
 * the IOAPIC with interrupts off or from one context, so no lock is taken.
 */
uint32_t guest_ioapic_read(uint8_t reg)
{
	guest_mmio_write32(GUEST_IOAPIC_BASE + GUEST_IOAPIC_REGSEL, reg);
	return guest_mmio_read32(GUEST_IOAPIC_BASE + GUEST_IOAPIC_WIN);
}

void guest_ioapic_write(uint8_t reg, uint32_t val)
{
	guest_mmio_write32(GUEST_IOAPIC_BASE + GUEST_IOAPIC_REGSEL, reg);
	guest_mmio_write32(GUEST_IOAPIC_BASE + GUEST_IOAPIC_WIN, val);
}

unsigned int guest_ioapic_pins(void)
{
	return ((guest_ioapic_read(GUEST_IOAPIC_REG_VER) >> 16) & 0xFF) + 1;
}

static uint8_t redtbl_low(unsigned int pin)
{
	return (uint8_t)(GUEST_IOAPIC_REG_REDTBL + 2 * pin);
}

void guest_ioapic_route(unsigned int pin, uint8_t vector, uint8_t dest,
			uint32_t flags)
{
	/* Masked while half-written, so no interrupt sees a mixed entry. */
	guest_ioapic_write(redtbl_low(pin), GUEST_IOAPIC_LOW_MASKED);
	guest_ioapic_write(redtbl_low(pin) + 1, (uint32_t)dest << 24);
	guest_ioapic_write(redtbl_low(pin), vector | flags);
}

void guest_ioapic_mask(unsigned int pin)
{
	uint32_t low = guest_ioapic_read(redtbl_low(pin));

	guest_ioapic_write(redtbl_low(pin), low | GUEST_IOAPIC_LOW_MASKED);
}

uint64_t guest_ioapic_entry(unsigned int pin)
{
	uint64_t high = guest_ioapic_read(redtbl_low(pin) + 1);

	return high << 32 | guest_ioapic_read(redtbl_low(pin));
}
