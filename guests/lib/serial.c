// SPDX-License-Identifier: MIT
/* COM1 console: a minimal 16550 set-up and polled output. */
#include "guest.h"

#define UART_THR	 0 /* transmit holding (DLAB=0) */
#define UART_DLL	 0 /* divisor latch low (DLAB=1) */
#define UART_IER	 1
#define UART_DLM	 1
#define UART_FCR	 2
#define UART_LCR	 3
#define UART_MCR	 4
#define UART_LSR	 5
#define UART_LCR_DLAB	 0x80
#define UART_LCR_8N1	 0x03
#define UART_FCR_ENABLE	 0x07 /* FIFOs on and cleared */
#define UART_MCR_OUT2	 0x08 /* gates the IRQ line on a PC */
#define UART_MCR_DTR_RTS 0x03
#define UART_LSR_THRE	 0x20

/*
 * How long to wait for room in the transmitter. A stalled or absent UART
 * must not hang a guest whose verdict comes from the exit port, so after
 * this many polls the byte is written anyway (and may be lost).
 */
#define UART_POLL_LIMIT 100000

void guest_serial_init(void)
{
	guest_outb(GUEST_COM1 + UART_IER, 0);
	guest_outb(GUEST_COM1 + UART_LCR, UART_LCR_DLAB);
	guest_outb(GUEST_COM1 + UART_DLL, 1); /* 115200 baud */
	guest_outb(GUEST_COM1 + UART_DLM, 0);
	guest_outb(GUEST_COM1 + UART_LCR, UART_LCR_8N1);
	guest_outb(GUEST_COM1 + UART_FCR, UART_FCR_ENABLE);
	guest_outb(GUEST_COM1 + UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR_RTS);
}

static void serial_write(uint8_t c)
{
	for (int i = 0; i < UART_POLL_LIMIT; i++) {
		if (guest_inb(GUEST_COM1 + UART_LSR) & UART_LSR_THRE)
			break;
	}
	guest_outb(GUEST_COM1 + UART_THR, c);
}

void guest_putc(char c)
{
	if (c == '\n')
		serial_write('\r');
	serial_write((uint8_t)c);
}

void guest_puts(const char *s)
{
	while (*s)
		guest_putc(*s++);
	guest_putc('\n');
}
