/* SPDX-License-Identifier: MIT */
/* The 16550A's state and the functions its files share (internal). */
#ifndef ACTORVM_UART_PRIV_H
#define ACTORVM_UART_PRIV_H

#include "chardev_priv.h"
#include "uart.h"

struct uart_fifo {
	uint8_t buf[UART_FIFO_SIZE];
	uint8_t head;
	uint8_t count;
};

struct uart {
	/* Registers, as plain fields. */
	uint8_t ier, iir, fcr, lcr, mcr, lsr, scr;
	uint8_t msr_delta; /* MSR bits 3:0; bits 7:4 come from uart_modem_in()
			    */
	uint8_t rbr_last;  /* what RBR reads when the receiver is empty */
	uint16_t divisor;
	bool thr_ipending;
	bool timeout_ipending;
	bool irq_level;
	uint8_t rx_trigger;
	uint64_t char_ns; /* one character's time at the programmed rate */
	struct uart_fifo rx, tx;

	/* Between the transmitter and the backend: a ring of out_cap bytes. */
	uint8_t out[UART_OUTBUF_MAX];
	unsigned out_cap, out_head, out_len;
	bool out_wait; /* the backend will say when it takes more */
	bool in_wait;  /* the backend will say when it has input */
	bool in_eof;
	bool mirror_tx;

	struct chardev cd;
	uint64_t stat[UART_STAT_COUNT];
};

/* FIFO mode holds 16 bytes each way; 16450 mode one (RBR, THR). */
static inline unsigned uart_fifo_cap(const struct uart *s)
{
	return (s->fcr & UART_FCR_FE) ? UART_FIFO_SIZE : 1;
}

static inline void uart_fifo_push(struct uart_fifo *f, uint8_t b)
{
	f->buf[(f->head + f->count) % UART_FIFO_SIZE] = b;
	f->count++;
}

static inline uint8_t uart_fifo_pop(struct uart_fifo *f)
{
	uint8_t b = f->buf[f->head];

	f->head = (uint8_t)((f->head + 1) % UART_FIFO_SIZE);
	f->count--;
	return b;
}

/* uart_regs.c */
void uart_regs_reset(struct uart *s);
void uart_update_irq(struct uart *s, avm_ctx *ctx);
uint8_t uart_reg_read(struct uart *s, unsigned off, avm_ctx *ctx);
void uart_reg_write(struct uart *s, unsigned off, uint8_t v, avm_ctx *ctx);
void uart_cti_expired(struct uart *s, avm_ctx *ctx);

/* uart.c: data paths */
void uart_tx_kick(struct uart *s, avm_ctx *ctx);
void uart_rx_pump(struct uart *s, avm_ctx *ctx);
void uart_rx_put(struct uart *s, const uint8_t *p, size_t n, avm_ctx *ctx);
void uart_rx_arrived(struct uart *s, avm_ctx *ctx);

#endif /* ACTORVM_UART_PRIV_H */
