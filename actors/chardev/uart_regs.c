/* SPDX-License-Identifier: MIT */
/*
 * The 16550A register file. Behaviour follows the TI/National 16550A data
 * sheet, and QEMU's hw/char/serial.c where guests rely on a detail the data
 * sheet leaves open (the THRE interrupt on enabling ETBEI, the MSR inputs).
 */
#include "uart_priv.h"

/* 9600 baud 8N1 until the guest programs a divisor (as QEMU). */
#define UART_RESET_CHAR_NS (10ull * 1000000000ull / 9600)

static const uint8_t uart_itl[4] = { 1, 4, 8, 14 };

void uart_regs_reset(struct uart *s)
{
	s->ier = 0;
	s->iir = UART_IIR_NO_INT;
	s->fcr = 0;
	s->lcr = 0;
	s->mcr = 0;
	s->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	s->msr_delta = 0;
	s->scr = 0;
	s->rbr_last = 0;
	s->divisor = 0;
	s->thr_ipending = false;
	s->timeout_ipending = false;
	s->rx_trigger = 1;
	s->char_ns = UART_RESET_CHAR_NS;
	s->rx.count = s->rx.head = 0;
	s->tx.count = s->tx.head = 0;
}

/*
 * The one place that decides IIR and the line. Priorities (data sheet
 * table 4): line status > received data or character timeout > THR empty
 * > modem status.
 *
 * The line is NOT gated by MCR.OUT2, although a PC's COM port wires OUT2 to
 * the interrupt enable: QEMU's 16550 does not gate it either, and the test
 * guests (which also run on QEMU) never set OUT2.
 */
void uart_update_irq(struct uart *s, avm_ctx *ctx)
{
	uint8_t id = UART_IIR_NO_INT;
	bool fifo = s->fcr & UART_FCR_FE;

	if ((s->ier & UART_IER_RLSI) && (s->lsr & UART_LSR_INT))
		id = UART_IIR_RLSI;
	else if ((s->ier & UART_IER_RDI) && s->timeout_ipending)
		id = UART_IIR_CTI;
	else if ((s->ier & UART_IER_RDI) && (s->lsr & UART_LSR_DR) &&
		 (!fifo || s->rx.count >= s->rx_trigger))
		id = UART_IIR_RDI;
	else if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		id = UART_IIR_THRI;
	else if ((s->ier & UART_IER_MSI) && s->msr_delta)
		id = UART_IIR_MSI;
	s->iir = (uint8_t)(id | (fifo ? UART_IIR_FE : 0));
	if ((id != UART_IIR_NO_INT) == s->irq_level)
		return;
	s->irq_level = id != UART_IIR_NO_INT;
	avm_irq_set(ctx, UART_PORT_IRQ, s->irq_level);
}

/*
 * Character time in ns: start bit, 5..8 data bits, parity, 1 or 2 stop bits
 * (1.5 with 5-bit words), counted in half bits. Divisor 0 stops a real
 * 16550's baud generator; here it keeps the previous rate (as QEMU), so
 * nothing divides by zero and data still flows.
 */
static void uart_update_rate(struct uart *s)
{
	unsigned data = 5 + (s->lcr & UART_LCR_WLS);
	unsigned stop2 = (s->lcr & UART_LCR_STB) ? (data == 5 ? 3 : 4) : 2;
	unsigned half_bits =
		2 * (1 + data) + stop2 + ((s->lcr & UART_LCR_PEN) ? 2 : 0);

	if (!s->divisor)
		return;
	s->char_ns = (uint64_t)half_bits * 500000000ull * s->divisor /
		     UART_BAUD_BASE;
}

/* The modem inputs MSR 7:4 shows: fixed DCD, DSR, CTS (as QEMU), or in
 * loopback OUT2, OUT1, DTR, RTS (data sheet: MCR 3:0 -> DCD, RI, DSR, CTS). */
static uint8_t uart_modem_in(const struct uart *s)
{
	uint8_t m = s->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	return (uint8_t)(((m & UART_MCR_OUT2) ? UART_MSR_DCD : 0) |
			 ((m & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
			 ((m & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
			 ((m & UART_MCR_RTS) ? UART_MSR_CTS : 0));
}

/* Delta bits for a change of the inputs; TERI on RI's trailing edge only. */
static uint8_t uart_modem_delta(uint8_t old, uint8_t now)
{
	uint8_t ch = old ^ now;

	return (uint8_t)(((ch & UART_MSR_CTS) ? UART_MSR_DCTS : 0) |
			 ((ch & UART_MSR_DSR) ? UART_MSR_DDSR : 0) |
			 ((old & ~now & UART_MSR_RI) ? UART_MSR_TERI : 0) |
			 ((ch & UART_MSR_DCD) ? UART_MSR_DDCD : 0));
}

static uint8_t uart_rbr_read(struct uart *s, avm_ctx *ctx)
{
	if (s->rx.count)
		s->rbr_last = uart_fifo_pop(&s->rx);
	if (!s->rx.count)
		s->lsr &= (uint8_t) ~(UART_LSR_DR | UART_LSR_BI);
	else if (s->fcr & UART_FCR_FE)
		/* A read restarts the character timeout (data sheet). */
		avm_timer_arm(ctx, UART_TIMER_CTI, 4 * s->char_ns, 0);
	s->timeout_ipending = false;
	uart_update_irq(s, ctx);
	uart_rx_pump(s, ctx);
	return s->rbr_last;
}

static uint8_t uart_iir_read(struct uart *s, avm_ctx *ctx)
{
	uint8_t v = s->iir;

	/* Reading IIR while THRE is the source clears it (data sheet). */
	if ((v & (UART_IIR_ID | UART_IIR_NO_INT)) == UART_IIR_THRI) {
		s->thr_ipending = false;
		uart_update_irq(s, ctx);
	}
	return v;
}

static uint8_t uart_lsr_read(struct uart *s, avm_ctx *ctx)
{
	uint8_t v = s->lsr;

	if (s->lsr & UART_LSR_INT) {
		s->lsr &= (uint8_t)~UART_LSR_INT;
		uart_update_irq(s, ctx);
	}
	return v;
}

static uint8_t uart_msr_read(struct uart *s, avm_ctx *ctx)
{
	uint8_t v = (uint8_t)(uart_modem_in(s) | s->msr_delta);

	if (s->msr_delta) {
		s->msr_delta = 0;
		uart_update_irq(s, ctx);
	}
	return v;
}

uint8_t uart_reg_read(struct uart *s, unsigned off, avm_ctx *ctx)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_RBR:
		return dlab ? (uint8_t)s->divisor : uart_rbr_read(s, ctx);
	case UART_IER:
		return dlab ? (uint8_t)(s->divisor >> 8) : s->ier;
	case UART_IIR:
		return uart_iir_read(s, ctx);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return uart_lsr_read(s, ctx);
	case UART_MSR:
		return uart_msr_read(s, ctx);
	case UART_SCR:
		return s->scr;
	default:
		return 0xff; /* beyond the 8 registers: an open bus */
	}
}

static void uart_thr_write(struct uart *s, uint8_t v, avm_ctx *ctx)
{
	/* The guest did not wait for THRE: the hardware drops the byte. */
	if (s->tx.count >= uart_fifo_cap(s)) {
		s->stat[UART_STAT_TX_OVERRUN]++;
		return;
	}
	uart_fifo_push(&s->tx, v);
	s->stat[UART_STAT_TX_BYTES]++;
	s->thr_ipending = false;
	s->lsr &= (uint8_t) ~(UART_LSR_THRE | UART_LSR_TEMT);
	uart_update_irq(s, ctx);
	/* If the byte leaves at once, THRE comes back: a pulse on the line,
	 * which is the edge an edge-triggered IOAPIC pin needs. */
	uart_tx_kick(s, ctx);
}

/*
 * ETBEI going 0->1 with THR empty raises THRE at once, even if an IIR read
 * had cleared it: not in the data sheet, but QEMU, Bochs and real parts do
 * it, Windows and the test guests rely on it.
 */
static void uart_ier_write(struct uart *s, uint8_t v, avm_ctx *ctx)
{
	uint8_t changed = (uint8_t)((s->ier ^ v) & 0x0f);

	s->ier = v & 0x0f;
	if (changed & UART_IER_THRI)
		s->thr_ipending =
			(s->ier & UART_IER_THRI) && (s->lsr & UART_LSR_THRE);
	uart_update_irq(s, ctx);
}

static void uart_fcr_write(struct uart *s, uint8_t v, avm_ctx *ctx)
{
	/* Switching the FIFOs on or off clears both (data sheet). */
	if ((v ^ s->fcr) & UART_FCR_FE)
		v |= UART_FCR_RFR | UART_FCR_XFR;
	if (v & UART_FCR_RFR) {
		s->rx.count = s->rx.head = 0;
		s->lsr &= (uint8_t) ~(UART_LSR_DR | UART_LSR_BI);
		s->timeout_ipending = false;
		avm_timer_cancel(ctx, UART_TIMER_CTI);
	}
	if (v & UART_FCR_XFR) {
		s->tx.count = s->tx.head = 0;
		s->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
		s->thr_ipending = true;
	}
	s->fcr = v & (UART_FCR_FE | UART_FCR_DMS | UART_FCR_ITL_MSK);
	s->rx_trigger = uart_itl[s->fcr >> 6];
	uart_update_irq(s, ctx);
	uart_rx_pump(s, ctx);
}

static void uart_mcr_write(struct uart *s, uint8_t v, avm_ctx *ctx)
{
	uint8_t old_in = uart_modem_in(s);
	bool was_loop = s->mcr & UART_MCR_LOOP;

	s->mcr = v & 0x1f;
	s->msr_delta |= uart_modem_delta(old_in, uart_modem_in(s));
	uart_update_irq(s, ctx);
	if (was_loop && !(s->mcr & UART_MCR_LOOP)) {
		/* Back on the line: input the backend held back may come. */
		uart_rx_pump(s, ctx);
		uart_tx_kick(s, ctx);
	}
}

void uart_reg_write(struct uart *s, unsigned off, uint8_t v, avm_ctx *ctx)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_THR:
		if (!dlab) {
			uart_thr_write(s, v, ctx);
			break;
		}
		s->divisor = (uint16_t)((s->divisor & 0xff00) | v);
		uart_update_rate(s);
		break;
	case UART_IER:
		if (!dlab) {
			uart_ier_write(s, v, ctx);
			break;
		}
		s->divisor = (uint16_t)((s->divisor & 0x00ff) | v << 8);
		uart_update_rate(s);
		break;
	case UART_FCR:
		uart_fcr_write(s, v, ctx);
		break;
	case UART_LCR:
		s->lcr = v;
		uart_update_rate(s);
		break;
	case UART_MCR:
		uart_mcr_write(s, v, ctx);
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:
		break; /* LSR, MSR (factory test writes) and beyond: ignored */
	}
}

/* Data sat below the trigger level for 4 character times, unread. */
void uart_cti_expired(struct uart *s, avm_ctx *ctx)
{
	if (!(s->fcr & UART_FCR_FE) || !s->rx.count)
		return;
	s->timeout_ipending = true;
	uart_update_irq(s, ctx);
}
