// SPDX-License-Identifier: MIT
/*
 * lapic_timer: the local APIC timer, one-shot then periodic.
 *
 * The PIC is masked so only the LAPIC interrupts. A one-shot timer must
 * interrupt exactly once and leave the current count at 0; a periodic one
 * must keep interrupting: TICKS interrupts are counted with HLT between
 * them, then the timer is stopped.
 */
#include "guest.h"

#define TIMER_VECTOR 0x40
#define TICKS	     10
/* 62500 * 16 bus clocks: 1 ms on QEMU, whose LAPIC counts at 1 GHz. */
#define TIMER_DIV   GUEST_LAPIC_DIV_16
#define TIMER_COUNT 62500u
#define POLL_LIMIT  10000000

static volatile unsigned int ticks;
static volatile unsigned int spurious;

static void on_timer(struct guest_int_frame *f)
{
	ticks++;
}

static void on_spurious(struct guest_int_frame *f)
{
	spurious++;
}

/* Sleeps until the tick count reaches @n; returns with interrupts off. */
static void wait_ticks(unsigned int n)
{
	guest_cli();
	while (ticks < n) {
		guest_sti_hlt();
		guest_cli();
	}
}

/* The current count must fall while the timer runs. */
static void check_counting(void)
{
	uint32_t first, now = 0;
	int i;

	guest_lapic_timer_start(TIMER_VECTOR, TIMER_DIV, 0xFFFFFFFFu, false);
	/* Masked: only the count is wanted, never the interrupt. */
	guest_lapic_write(GUEST_LAPIC_LVT_TIMER,
			  TIMER_VECTOR | GUEST_LAPIC_LVT_MASKED);
	first = guest_lapic_timer_current();
	for (i = 0; i < POLL_LIMIT; i++) {
		now = guest_lapic_timer_current();
		if (now != first)
			break;
	}
	guest_printf("current count 0x%x then 0x%x after %d polls\n", first,
		     now, i);
	GUEST_ASSERT(now < first);
	guest_lapic_timer_stop();
}

static void check_one_shot(void)
{
	ticks = 0;
	guest_lapic_timer_start(TIMER_VECTOR, TIMER_DIV, TIMER_COUNT, false);
	wait_ticks(1);
	GUEST_ASSERT_EQ(ticks, 1);
	GUEST_ASSERT_EQ(guest_lapic_timer_current(), 0);
	guest_lapic_timer_stop();
	guest_puts("one-shot: 1 interrupt, count 0");
}

static void check_periodic(void)
{
	ticks = 0;
	guest_lapic_timer_start(TIMER_VECTOR, TIMER_DIV, TIMER_COUNT, true);
	wait_ticks(TICKS);
	guest_lapic_timer_stop();
	/* Interrupts stayed off since the last one: nothing can add to it. */
	GUEST_ASSERT_EQ(ticks, TICKS);
	GUEST_ASSERT_EQ(guest_lapic_timer_current(), 0);
	guest_printf("periodic: %u interrupts\n", ticks);
}

int guest_main(const struct multiboot_info *mbi)
{
	guest_idt_init();
	guest_pic_mask_all();
	guest_set_handler(TIMER_VECTOR, on_timer);
	guest_set_handler(GUEST_SPURIOUS_VECTOR, on_spurious);
	guest_lapic_enable(GUEST_SPURIOUS_VECTOR);
	guest_printf("lapic: id %u version 0x%x\n", guest_lapic_id(),
		     guest_lapic_version());
	check_counting();
	check_one_shot();
	check_periodic();
	guest_printf("spurious interrupts: %u\n", spurious);
	GUEST_DONE();
}
