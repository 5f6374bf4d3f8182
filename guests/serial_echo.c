// SPDX-License-Identifier: MIT
/*
 * serial_echo: the UART's receive interrupt, with real input, then in
 * loopback.
 *
 * With the FIFO's trigger level at 1 byte, each received byte raises a
 * received-data interrupt through IOAPIC pin 4, whose handler drains RBR.
 * First the handler echoes what the host sends ("[c]" per byte) until a
 * '.': the harness feeds "ping." on the serial input (QEMU's stdin,
 * actorvm's COM1 input). Then in loopback (MCR bit 4), bytes written to
 * THR come back in RBR. Input first, because QEMU's UART keeps taking
 * host input even in loopback.
 */
#include "guest.h"

/* lib/string.c: the standard name GCC may also emit calls to. */
int memcmp(const void *a, const void *b, size_t n);

#define UART_VECTOR 0x51
#define UART_RBR    (GUEST_COM1 + 0)
#define UART_IER    (GUEST_COM1 + 1)
#define UART_IIR    (GUEST_COM1 + 2)
#define UART_FCR    (GUEST_COM1 + 2)
#define UART_MCR    (GUEST_COM1 + 4)
#define UART_LSR    (GUEST_COM1 + 5)
#define IER_RDA	    0x01
#define IIR_ID	    0x0F
#define IIR_RDA	    0x04
#define IIR_TIMEOUT 0x0C
#define LSR_DR	    0x01
#define MCR_LOOP    0x10
#define MCR_DTR_RTS 0x03
#define LOOP_TEXT   "loopback!"

static char got[64];
static volatile unsigned int n_got, rx_irqs, done;
static volatile bool echo;

static void on_uart(struct guest_int_frame *f)
{
	uint8_t id = guest_inb(UART_IIR) & IIR_ID;

	if (id != IIR_RDA && id != IIR_TIMEOUT)
		return;
	rx_irqs++;
	while (guest_inb(UART_LSR) & LSR_DR) {
		char c = (char)guest_inb(UART_RBR);

		if (n_got < sizeof(got) - 1)
			got[n_got++] = c;
		if (echo)
			guest_printf("[%c]", c);
		if (c == '.')
			done = 1;
	}
}

static void on_spurious(struct guest_int_frame *f)
{
}

static void wait_received(unsigned int n)
{
	guest_cli();
	while (n_got < n && !done) {
		guest_sti_hlt();
		guest_cli();
	}
}

static void loopback(void)
{
	const char *p = LOOP_TEXT;

	guest_outb(UART_MCR, MCR_LOOP | MCR_DTR_RTS);
	for (; *p; p++) {
		guest_outb(GUEST_COM1, (uint8_t)*p);
		wait_received((unsigned int)(p - LOOP_TEXT) + 1);
	}
	guest_outb(UART_MCR, MCR_DTR_RTS);
	got[n_got] = 0;
	guest_printf("loopback: got \"%s\" in %u interrupts\n", got, rx_irqs);
	GUEST_ASSERT_EQ(memcmp(got, LOOP_TEXT, sizeof(LOOP_TEXT) - 1), 0);
	GUEST_ASSERT(rx_irqs >= 1);
}

int guest_main(const struct multiboot_info *mbi)
{
	guest_idt_init();
	guest_pic_mask_all();
	guest_set_handler(UART_VECTOR, on_uart);
	guest_set_handler(GUEST_SPURIOUS_VECTOR, on_spurious);
	guest_lapic_enable(GUEST_SPURIOUS_VECTOR);
	guest_ioapic_route(GUEST_COM1_IRQ, UART_VECTOR, guest_lapic_id(), 0);
	guest_outb(UART_FCR, 0x07); /* FIFOs on and cleared, trigger 1 */
	guest_outb(UART_IER, IER_RDA);
	echo = true;
	guest_puts("echo: waiting for input ending in '.'");
	wait_received(sizeof(got) - 1);
	got[n_got] = 0;
	guest_printf("\necho: got \"%s\" in %u interrupts\n", got, rx_irqs);
	GUEST_ASSERT(done);
	GUEST_ASSERT_EQ(memcmp(got, "ping.", 5), 0);
	echo = false;
	done = 0;
	n_got = 0;
	rx_irqs = 0;
	loopback();
	GUEST_DONE();
}
