// SPDX-License-Identifier: MIT
/*
 * ioapic_serial: a device interrupt routed through the IOAPIC.
 *
 * COM1's IRQ 4 arrives on IOAPIC pin 4 (ISA IRQs map to the pin of the
 * same number on QEMU's pc and on actorvm; only IRQ 0 is moved, to pin 2).
 * The UART raises its transmitter-empty (THRE) interrupt as soon as it is
 * enabled with an empty THR, so no input is needed. The handler reads IIR,
 * which clears the interrupt, and writes one byte so the next THRE comes
 * when that byte has gone: EDGES interrupts in all.
 */
#include "guest.h"

#define UART_VECTOR   0x50
#define EDGES	      5
#define UART_IER      (GUEST_COM1 + 1)
#define UART_IIR      (GUEST_COM1 + 2)
#define UART_IER_THRE 0x02
#define UART_IIR_ID   0x0F
#define UART_IIR_THRE 0x02
#define UART_IIR_NONE 0x01

static volatile unsigned int thre_irqs;
static volatile unsigned int other_irqs;

static void on_uart(struct guest_int_frame *f)
{
	uint8_t id = guest_inb(UART_IIR) & UART_IIR_ID;

	if (id != UART_IIR_THRE) {
		other_irqs++; /* UART_IIR_NONE: raised, then gone again */
		return;
	}
	if (++thre_irqs < EDGES)
		guest_outb(GUEST_COM1, '*'); /* its departure: the next THRE */
	else
		guest_outb(UART_IER, 0);
}

static void on_spurious(struct guest_int_frame *f)
{
}

int guest_main(const struct multiboot_info *mbi)
{
	unsigned int pins;

	guest_idt_init();
	guest_pic_mask_all();
	guest_set_handler(UART_VECTOR, on_uart);
	guest_set_handler(GUEST_SPURIOUS_VECTOR, on_spurious);
	guest_lapic_enable(GUEST_SPURIOUS_VECTOR);
	pins = guest_ioapic_pins();
	guest_printf("ioapic: id %u, %u pins\n",
		     guest_ioapic_read(GUEST_IOAPIC_REG_ID) >> 24, pins);
	GUEST_ASSERT(pins > GUEST_COM1_IRQ);
	guest_ioapic_route(GUEST_COM1_IRQ, UART_VECTOR, guest_lapic_id(), 0);
	guest_printf("pin %u: entry 0x%llx\n", GUEST_COM1_IRQ,
		     guest_ioapic_entry(GUEST_COM1_IRQ));

	guest_cli();
	guest_outb(UART_IER, UART_IER_THRE);
	while (thre_irqs < EDGES) {
		guest_sti_hlt();
		guest_cli();
	}
	guest_ioapic_mask(GUEST_COM1_IRQ);
	guest_printf("\nTHRE interrupts: %u (other %u)\n", thre_irqs,
		     other_irqs);
	GUEST_ASSERT_EQ(thre_irqs, EDGES);
	GUEST_DONE();
}
