/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry point for the UART: the input is a program of register
 * accesses (any offset, any size), input bytes, time steps and resets,
 * run in the harness against a null backend with the transmitter mirrored.
 * After every step the device must be consistent (FIFO bounds, DR and THRE
 * agree with the FIFOs, the line agrees with IIR); a violation aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/harness.h>

#include "uart.h"
#include "uart_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_STEPS 4096

static void fz_fail(void *arg, const char *file, int line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	abort();
}

static void fz_check(const struct uart *s, bool cond, const char *what)
{
	if (cond)
		return;
	fprintf(stderr,
		"invariant broken: %s (lsr 0x%x iir 0x%x fcr 0x%x "
		"rx %u tx %u)\n",
		what, s->lsr, s->iir, s->fcr, s->rx.count, s->tx.count);
	abort();
}

static void fz_invariants(avm_harness *h)
{
	const struct uart *s = avm_harness_state(h);
	unsigned cap = uart_fifo_cap(s);

	fz_check(s, s->rx.count <= cap, "rx within capacity");
	fz_check(s, s->tx.count <= cap, "tx within capacity");
	fz_check(s, s->out_len <= s->out_cap, "output buffer bounded");
	fz_check(s, !!(s->lsr & UART_LSR_DR) == (s->rx.count > 0),
		 "DR iff data");
	fz_check(s, !!(s->lsr & UART_LSR_THRE) == (s->tx.count == 0),
		 "THRE iff tx empty");
	fz_check(s, s->irq_level == !(s->iir & UART_IIR_NO_INT),
		 "line agrees with IIR");
	fz_check(s, !!(s->iir & UART_IIR_FE) == !!(s->fcr & UART_FCR_FE),
		 "IIR FIFO bits");
	fz_check(s, s->char_ns > 0, "character time");
}

/* One step: op byte, then its operands. Returns bytes used (0: end). */
static size_t fz_step(avm_harness *h, const uint8_t *p, size_t n)
{
	static const unsigned sizes[4] = { 1, 2, 4, 8 };
	uint64_t v = 0;

	if (n < 3)
		return 0;
	switch (p[0] % 6) {
	case 0: /* write: offset, value */
		(void)avm_harness_try_write(h, 0, p[1] % 8, 1, p[2]);
		return 3;
	case 1: /* read */
		(void)avm_harness_try_read(h, 0, p[1] % 8, 1, &v);
		return 2;
	case 2: /* wide access, either way */
		if (p[1] & 0x80)
			(void)avm_harness_try_read(h, 0, p[1] & 7,
						   sizes[(p[1] >> 3) & 3], &v);
		else
			(void)avm_harness_try_write(
				h, 0, p[1] & 7, sizes[(p[1] >> 3) & 3],
				p[2] * 0x0101010101010101ull);
		return 3;
	case 3: /* input bytes from another actor */
		if ((size_t)p[1] % 40 + 2 > n)
			return 0;
		(void)avm_harness_try_send_data(h, AVM_MSG_CHAR, 0, p + 2,
						p[1] % 40);
		return 2 + p[1] % 40;
	case 4: /* time */
		(void)avm_harness_try_advance(h, (uint64_t)p[1] * p[2] * 1000);
		return 3;
	default:
		if (p[1] == 0xa5)
			(void)avm_harness_try_reset(h);
		return 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct uart_config cfg = { .mirror_tx = true,
						.out_buf = 16 };
	struct avm_harness_opts opts = { .ops = &uart_ops,
					 .config = &cfg,
					 .log_level = -1,
					 .fail = fz_fail };
	avm_harness *h;
	size_t used;

	if (avm_harness_new(&opts, &h))
		abort();
	for (unsigned i = 0; i < FZ_MAX_STEPS && size; i++) {
		used = fz_step(h, data, size);
		if (!used)
			break;
		data += used;
		size -= used;
		fz_invariants(h);
		avm_harness_clear(h); /* captures stay bounded */
	}
	avm_harness_free(h);
	return 0;
}
