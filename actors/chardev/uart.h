/* SPDX-License-Identifier: MIT */
/**
 * DOC: uart16550 - a 16550A UART
 *
 * Region 0 ("uart", PIO, 8 bytes; a PC maps COM1 at 0x3F8): RBR/THR, IER,
 * IIR/FCR, LCR, MCR, LSR, MSR, SCR, and DLL/DLM while LCR.DLAB is set, with
 * 16-byte FIFOs. Accesses wider than a byte act on consecutive registers,
 * lowest first.
 *
 * Ports: 0 "irq", the interrupt line (level; a PC binds it to IOAPIC pin 4);
 * 1 "tx", where transmitted bytes also go as %AVM_MSG_CHAR messages when
 * &uart_config.mirror_tx is set (tests, or a logger actor).
 *
 * Input: the backend's bytes, read only while the receiver FIFO has room (so
 * none is lost), and %AVM_MSG_CHAR messages from other actors, which
 * overrun (LSR.OE) when the FIFO is full, as a line would.
 *
 * Output never blocks the actor: transmitted bytes go to a bounded output
 * buffer drained by the backend; while it is full the transmitter FIFO
 * stops draining and LSR.THRE/TEMT read 0, so a guest that polls LSR (or
 * waits for the THRE interrupt) waits and loses nothing.
 *
 * Statistics: a %UART_MSG_STAT request (avm_request()) answers counter
 * @user.arg
 * (&enum uart_stat). See docs/chardev.md.
 */
#ifndef ACTORVM_UART_H
#define ACTORVM_UART_H

#include <stdbool.h>
#include <stdint.h>

#include <actorvm/actor.h>

#include "chardev.h"

/* Register offsets (DLAB = LCR bit 7 selects DLL/DLM at 0 and 1). */
#define UART_RBR 0 /* read, DLAB=0 */
#define UART_THR 0 /* write, DLAB=0 */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1 /* DLAB=0 */
#define UART_DLM 1 /* DLAB=1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI  0x01 /* received data available (and timeout) */
#define UART_IER_THRI 0x02 /* transmitter holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI  0x08 /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_ID	0x0e
#define UART_IIR_MSI	0x00
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_RLSI	0x06
#define UART_IIR_CTI	0x0c
#define UART_IIR_FE	0xc0 /* both set while the FIFOs are enabled */

#define UART_FCR_FE	 0x01 /* FIFO enable */
#define UART_FCR_RFR	 0x02 /* receiver FIFO reset */
#define UART_FCR_XFR	 0x04 /* transmitter FIFO reset */
#define UART_FCR_DMS	 0x08 /* DMA mode select (stored, no effect) */
#define UART_FCR_ITL_MSK 0xc0 /* trigger level 1, 4, 8, 14 */

#define UART_LCR_WLS  0x03 /* word length 5 + n */
#define UART_LCR_STB  0x04 /* 2 stop bits (1.5 with 5-bit words) */
#define UART_LCR_PEN  0x08 /* parity enable */
#define UART_LCR_SBC  0x40 /* set break (not emulated) */
#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR   0x01
#define UART_LSR_OE   0x02
#define UART_LSR_PE   0x04
#define UART_LSR_FE   0x08
#define UART_LSR_BI   0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_RXFE 0x80 /* error in receiver FIFO (never set here) */
#define UART_LSR_INT  0x1e /* the bits that raise a line-status interrupt */

#define UART_MSR_DCTS  0x01
#define UART_MSR_DDSR  0x02
#define UART_MSR_TERI  0x04
#define UART_MSR_DDCD  0x08
#define UART_MSR_CTS   0x10
#define UART_MSR_DSR   0x20
#define UART_MSR_RI    0x40
#define UART_MSR_DCD   0x80
#define UART_MSR_DELTA 0x0f

/** UART_FIFO_SIZE - bytes in each of the receiver and transmitter FIFOs. */
#define UART_FIFO_SIZE 16

/** UART_OUTBUF_MAX - largest output buffer (&uart_config.out_buf). */
#define UART_OUTBUF_MAX 4096

/** UART_BAUD_BASE - the baud rate of divisor 1 (1.8432 MHz / 16). */
#define UART_BAUD_BASE 115200u

/** Ports of the UART. */
enum uart_port { UART_PORT_IRQ = 0, UART_PORT_TX = 1 };

/** UART_TIMER_CTI - timer id of the character timeout. */
#define UART_TIMER_CTI 0

/**
 * enum uart_msg_kind - device-specific messages.
 * @UART_MSG_STAT: request: answer counter @user.arg (&enum uart_stat); -EINVAL
 *   for an unknown counter.
 */
enum uart_msg_kind {
	UART_MSG_STAT = AVM_MSG_USER + 0x5500,
};

/**
 * enum uart_stat - counters (and two gauges) of a UART.
 * @UART_STAT_TX_BYTES: bytes the guest wrote to THR and the FIFO accepted.
 * @UART_STAT_TX_OVERRUN: THR writes into a full transmitter FIFO (dropped,
 *   as on the hardware: the guest did not wait for THRE).
 * @UART_STAT_OUT_BYTES: bytes the backend took.
 * @UART_STAT_OUT_DISCARDED: bytes discarded because nobody was attached
 *   (pty slave closed, no nng peer, without &chardev_config.hold) or the
 *   backend failed.
 * @UART_STAT_OUT_STALLS: times the backend could take no more for now (the
 *   back-pressure that stops the transmitter FIFO).
 * @UART_STAT_RX_BYTES: bytes put into the receiver FIFO (any source).
 * @UART_STAT_RX_OVERRUN: bytes lost to a full receiver (LSR.OE), from
 *   %AVM_MSG_CHAR or loopback; never from the backend.
 * @UART_STAT_RX_DISCARDED: %AVM_MSG_CHAR bytes ignored in loopback mode.
 * @UART_STAT_BACKEND_ERRORS: backend I/O errors (other than "would block").
 * @UART_STAT_TX_LEVEL: gauge: bytes in the transmitter FIFO now.
 * @UART_STAT_OUT_LEVEL: gauge: bytes in the output buffer now.
 * @UART_STAT_COUNT: number of counters.
 */
enum uart_stat {
	UART_STAT_TX_BYTES = 0,
	UART_STAT_TX_OVERRUN,
	UART_STAT_OUT_BYTES,
	UART_STAT_OUT_DISCARDED,
	UART_STAT_OUT_STALLS,
	UART_STAT_RX_BYTES,
	UART_STAT_RX_OVERRUN,
	UART_STAT_RX_DISCARDED,
	UART_STAT_BACKEND_ERRORS,
	UART_STAT_TX_LEVEL,
	UART_STAT_OUT_LEVEL,
	UART_STAT_COUNT
};

/**
 * struct uart_config - a UART. A NULL config is the null backend with the
 * defaults below.
 * @chr: the backend (&struct chardev_config; zero: null).
 * @out_buf: output buffer size, 1..%UART_OUTBUF_MAX (0: the maximum).
 * @mirror_tx: also send every transmitted byte through port "tx".
 */
struct uart_config {
	struct chardev_config chr;
	unsigned out_buf;
	bool mirror_tx;
};

/** uart_ops - the device type "uart16550". */
extern const struct avm_device_ops uart_ops;

#endif /* ACTORVM_UART_H */
