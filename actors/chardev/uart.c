/* SPDX-License-Identifier: MIT */
/*
 * The uart16550 actor: messages, the transmit and receive paths between the
 * FIFOs and the backend.
 *
 * Transmit: THR -> TX FIFO -> output buffer (out_cap bytes) -> backend.
 * Bytes leave the FIFO as soon as the buffer has room; the baud rate does
 * not pace them (it only sets the character timeout). When the backend
 * takes nothing ("would block"), the buffer fills, then the FIFO: THRE and
 * TEMT stay 0 until the backend's wake-up, so a guest that waits for THRE
 * loses nothing and no VCPU ever waits for the backend.
 *
 * Receive: the backend is read only for as many bytes as the RX FIFO has
 * room for, so its input is never overrun; AVM_MSG_CHAR input and loopback
 * are lines without flow control and overrun like one.
 */
#include "uart_priv.h"

#include <actorvm/runtime.h>

#include <errno.h>
#include <string.h>

static const struct avm_region_desc uart_regions[] = {
	{ .name = "uart", .space = AVM_SPACE_PIO, .size = 8 },
};

static const char *const uart_ports[] = { "irq", "tx" };

static void uart_out_discard(struct uart *s)
{
	s->stat[UART_STAT_OUT_DISCARDED] += s->out_len;
	s->out_len = s->out_head = 0;
}

/* Hand the buffer to the backend until it is empty or the backend waits. */
static void uart_out_flush(struct uart *s, avm_ctx *ctx)
{
	while (s->out_len && !s->out_wait) {
		unsigned chunk = s->out_cap - s->out_head;
		ssize_t r;

		if (chunk > s->out_len)
			chunk = s->out_len;
		r = chardev_write(&s->cd, s->out + s->out_head, chunk, ctx);
		if (r > 0) {
			s->out_head = (s->out_head + (unsigned)r) % s->out_cap;
			s->out_len -= (unsigned)r;
			s->stat[UART_STAT_OUT_BYTES] += (uint64_t)r;
		} else if (r == 0) {
			s->out_wait = true;
			s->stat[UART_STAT_OUT_STALLS]++;
		} else {
			/* Nobody attached, or a broken backend: a guest must
			 * never wait for ever, so the bytes go. */
			if (r != -EPIPE && !s->cd.errors)
				avm_runtime_data_lost(avm_runtime_of(ctx));
			if (r != -EPIPE)
				chardev_error(&s->cd, ctx, "write", (int)r);
			uart_out_discard(s);
		}
	}
}

static void uart_mirror(struct uart *s, const uint8_t *p, size_t n,
			avm_ctx *ctx)
{
	struct avm_msg m = { .kind = AVM_MSG_CHAR };

	if (!n || !s->mirror_tx || avm_msg_set_payload(&m, p, n))
		return;
	avm_send(ctx, UART_PORT_TX, &m);
}

/* TX FIFO -> output buffer (or, in loopback, -> RX FIFO). */
static void uart_tx_drain(struct uart *s, avm_ctx *ctx)
{
	uint8_t moved[UART_FIFO_SIZE];
	size_t n = 0;
	bool loop = s->mcr & UART_MCR_LOOP;

	while (s->tx.count && (loop || s->out_len < s->out_cap)) {
		uint8_t b = uart_fifo_pop(&s->tx);

		moved[n++] = b;
		if (!loop)
			s->out[(s->out_head + s->out_len++) % s->out_cap] = b;
	}
	if (!s->tx.count && !(s->lsr & UART_LSR_THRE)) {
		s->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
		s->thr_ipending = true;
		uart_update_irq(s, ctx);
	}
	if (loop)
		uart_rx_put(s, moved, n, ctx);
	else
		uart_mirror(s, moved, n, ctx);
}

void uart_tx_kick(struct uart *s, avm_ctx *ctx)
{
	uart_out_flush(s, ctx);
	if (!s->tx.count)
		return;
	uart_tx_drain(s, ctx);
	uart_out_flush(s, ctx);
}

/* New bytes are in the RX FIFO: DR, the character timeout, the line. */
void uart_rx_arrived(struct uart *s, avm_ctx *ctx)
{
	s->lsr |= UART_LSR_DR;
	if (s->fcr & UART_FCR_FE)
		avm_timer_arm(ctx, UART_TIMER_CTI, 4 * s->char_ns, 0);
	uart_update_irq(s, ctx);
}

/*
 * From a line without flow control: a full FIFO overruns. In FIFO mode the
 * new byte is lost, in 16450 mode it overwrites RBR (data sheet).
 */
void uart_rx_put(struct uart *s, const uint8_t *p, size_t n, avm_ctx *ctx)
{
	unsigned cap = uart_fifo_cap(s);

	if (!n)
		return;
	for (size_t i = 0; i < n; i++) {
		if (s->rx.count < cap) {
			uart_fifo_push(&s->rx, p[i]);
			s->stat[UART_STAT_RX_BYTES]++;
			continue;
		}
		s->lsr |= UART_LSR_OE;
		s->stat[UART_STAT_RX_OVERRUN]++;
		if (cap == 1)
			s->rx.buf[s->rx.head] = p[i];
	}
	uart_rx_arrived(s, ctx);
}

/* Backend -> RX FIFO, never more than fits (at most cap reads). */
void uart_rx_pump(struct uart *s, avm_ctx *ctx)
{
	uint8_t buf[UART_FIFO_SIZE];
	bool got = false;

	while (!s->in_wait && !s->in_eof && !(s->mcr & UART_MCR_LOOP)) {
		unsigned room = uart_fifo_cap(s) - s->rx.count;
		ssize_t r;

		if (!room)
			break;
		r = chardev_read(&s->cd, buf, room, ctx);
		if (r == 0) {
			s->in_wait = true;
		} else if (r < 0) {
			s->in_eof = true;
		} else {
			for (ssize_t i = 0; i < r; i++)
				uart_fifo_push(&s->rx, buf[i]);
			s->stat[UART_STAT_RX_BYTES] += (uint64_t)r;
			got = true;
		}
	}
	if (got)
		uart_rx_arrived(s, ctx);
}

/* Accesses wider than a byte: consecutive registers, lowest first. */
static void uart_access(struct uart *s, const struct avm_msg *m, avm_ctx *ctx)
{
	unsigned size = m->access.size > 8 ? 8 : m->access.size;
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned off = (unsigned)(m->access.offset + i);

		if (m->kind == AVM_MSG_WRITE)
			uart_reg_write(s, off,
				       (uint8_t)(m->access.value >> 8 * i),
				       ctx);
		else
			v |= (uint64_t)uart_reg_read(s, off, ctx) << 8 * i;
	}
	if (m->kind == AVM_MSG_READ)
		avm_reply(ctx, v);
}

static void uart_char_in(struct uart *s, const struct avm_msg *m, avm_ctx *ctx)
{
	size_t len;
	const uint8_t *p = avm_msg_payload(m, &len);

	/* Loopback disconnects the serial input (data sheet). */
	if (s->mcr & UART_MCR_LOOP) {
		s->stat[UART_STAT_RX_DISCARDED] += len;
		return;
	}
	uart_rx_put(s, p, len, ctx);
}

static void uart_stat_reply(struct uart *s, const struct avm_msg *m,
			    avm_ctx *ctx)
{
	s->stat[UART_STAT_BACKEND_ERRORS] = chardev_errors(&s->cd);
	s->stat[UART_STAT_TX_LEVEL] = s->tx.count;
	s->stat[UART_STAT_OUT_LEVEL] = s->out_len;
	if (m->user.arg >= UART_STAT_COUNT)
		avm_reply_error(ctx, -EINVAL);
	else
		avm_reply(ctx, s->stat[m->user.arg]);
}

static void uart_backend_event(struct uart *s, const struct avm_msg *m,
			       avm_ctx *ctx)
{
	unsigned wake = chardev_event(&s->cd, m, ctx);

	if (wake & CHARDEV_WAKE_OUT) {
		s->out_wait = false;
		uart_tx_kick(s, ctx);
	}
	if (wake & CHARDEV_WAKE_IN) {
		s->in_wait = false;
		uart_rx_pump(s, ctx);
	}
}

static void uart_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct uart *s = state;

	switch (m->kind) {
	case AVM_MSG_READ:
	case AVM_MSG_WRITE:
		uart_access(s, m, ctx);
		break;
	case AVM_MSG_CHAR:
		uart_char_in(s, m, ctx);
		break;
	case AVM_MSG_TIMER:
		if (m->timer.id == UART_TIMER_CTI)
			uart_cti_expired(s, ctx);
		else
			uart_backend_event(s, m, ctx);
		break;
	case AVM_MSG_FD:
		uart_backend_event(s, m, ctx);
		break;
	case UART_MSG_STAT:
		uart_stat_reply(s, m, ctx);
		break;
	default:
		break;
	}
}

static int uart_init(void *state, const void *config, avm_ctx *ctx)
{
	static const struct uart_config defaults;
	const struct uart_config *cfg = config ? config : &defaults;
	struct uart *s = state;
	int err;

	if (cfg->out_buf > UART_OUTBUF_MAX) {
		avm_log(ctx, AVM_LOG_ERROR, "uart: out_buf %u > %u",
			cfg->out_buf, UART_OUTBUF_MAX);
		return -EINVAL;
	}
	s->out_cap = cfg->out_buf ? cfg->out_buf : UART_OUTBUF_MAX;
	s->mirror_tx = cfg->mirror_tx;
	uart_regs_reset(s);
	err = chardev_open(&s->cd, &cfg->chr, ctx);
	if (err)
		return err;
	uart_rx_pump(s, ctx);
	return 0;
}

/* Power-on registers; the backend and bytes already sent to it stay. */
static void uart_reset(void *state, avm_ctx *ctx)
{
	struct uart *s = state;

	uart_regs_reset(s);
	avm_timer_cancel(ctx, UART_TIMER_CTI);
	uart_update_irq(s, ctx);
	uart_rx_pump(s, ctx);
}

static void uart_fini(void *state)
{
	chardev_close(&((struct uart *)state)->cd);
}

const struct avm_device_ops uart_ops = {
	.type = "uart16550",
	.doc = "16550A UART with FIFOs; backends null, stdio, file, pty, nng",
	.state_size = sizeof(struct uart),
	.regions = uart_regions,
	.n_regions = 1,
	.ports = uart_ports,
	.n_ports = 2,
	.init = uart_init,
	.handle = uart_handle,
	.reset = uart_reset,
	.fini = uart_fini,
};
