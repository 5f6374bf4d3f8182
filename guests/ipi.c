// SPDX-License-Identifier: MIT
/*
 * ipi: inter-processor interrupts between two VCPUs (AMP boot: actorvm
 * starts both at the Multiboot entry; see guest_ap_main() in guest.h).
 *
 * The second CPU (APIC ID 1) loads the shared IDT, enables its local APIC
 * and says it is ready; the first then sends ROUNDS ping IPIs, and each
 * ping's handler on the second CPU answers with a pong IPI. Both counts
 * must reach ROUNDS, one round at a time. QEMU's pc starts a second CPU
 * only through INIT/SIPI, which this guest does not do: it runs on actorvm
 * only (tests/guests/qemu-compare.sh says so).
 */
#include "guest.h"

#define PING_VECTOR 0x70
#define PONG_VECTOR 0x71
#define ROUNDS	    20

static volatile unsigned int idt_ready, ap_ready, pings, pongs;

static void on_ping(struct guest_int_frame *f)
{
	pings++;
	guest_lapic_send_ipi(0, PONG_VECTOR);
}

static void on_pong(struct guest_int_frame *f)
{
	pongs++;
}

static void on_spurious(struct guest_int_frame *f)
{
}

__attribute__((noreturn)) void guest_ap_main(const struct multiboot_info *mbi)
{
	while (!idt_ready)
		guest_barrier();
	guest_idt_load();
	guest_lapic_enable(GUEST_SPURIOUS_VECTOR);
	ap_ready = guest_lapic_id();
	for (;;)
		guest_sti_hlt();
}

/* Sleeps until the pong count reaches @n; returns with interrupts off. A
 * lost IPI shows as a guest that never exits (the harness's timeout). */
static void wait_pongs(unsigned int n)
{
	guest_cli();
	while (pongs < n) {
		guest_sti_hlt();
		guest_cli();
	}
}

int guest_main(const struct multiboot_info *mbi)
{
	guest_idt_init();
	guest_pic_mask_all();
	guest_set_handler(PING_VECTOR, on_ping);
	guest_set_handler(PONG_VECTOR, on_pong);
	guest_set_handler(GUEST_SPURIOUS_VECTOR, on_spurious);
	guest_lapic_enable(GUEST_SPURIOUS_VECTOR);
	idt_ready = 1;
	while (!ap_ready) /* the other CPU runs on its own: no time limit */
		guest_barrier();
	GUEST_ASSERT_EQ(ap_ready, 1); /* the second CPU is APIC ID 1 */
	guest_puts("ipi: second CPU ready");
	for (unsigned int r = 1; r <= ROUNDS; r++) {
		guest_lapic_send_ipi(1, PING_VECTOR);
		wait_pongs(r);
		GUEST_ASSERT_EQ(pongs, r); /* one pong per ping, no more */
	}
	GUEST_ASSERT_EQ(pings, ROUNDS);
	guest_printf("ipi: %u pings, %u pongs\n", pings, pongs);
	GUEST_DONE();
}
