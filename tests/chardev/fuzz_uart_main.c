/* SPDX-License-Identifier: MIT */
/*
 * Seeded-random runner of the UART fuzz entry point for builds without
 * libFuzzer: a fixed sequence of pseudo-random programs (xorshift, fixed
 * seed, so a failure reproduces), plus a few hand-written ones biased to
 * the interesting registers.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RUNS	 400
#define PROG_LEN 2048

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mostly accesses to the registers that matter, some input and time. */
static void make_program(uint8_t *p, size_t n, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)xorshift(rng);
	for (size_t i = 0; i + 3 <= n; i += 3)
		if ((p[i] & 0x30) == 0)
			p[i + 1] = (uint8_t)(p[i + 1] % 8);
}

int main(void)
{
	static const uint8_t by_hand[][16] = {
		/* FIFO on, loopback, THR writes, IER all, reads of IIR */
		{ 0, 2, 0xc7, 0, 4, 0x1f, 0, 0, 'a', 0, 1, 0x0f, 1, 2, 1, 2 },
		/* divisor 0 with DLAB, odd LCR, then data */
		{ 0, 3, 0x80, 0, 0, 0, 0, 1, 0, 0, 3, 0x7f, 0, 0, 'x', 1 },
		/* 16450 mode input overrun and timeouts */
		{ 3, 5, 1, 2, 3, 4, 5, 4, 9, 9, 0, 2, 1, 4, 200, 200 },
	};
	static uint8_t prog[PROG_LEN];
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < sizeof(by_hand) / sizeof(by_hand[0]); i++)
		LLVMFuzzerTestOneInput(by_hand[i], sizeof(by_hand[i]));
	for (unsigned r = 0; r < RUNS; r++) {
		make_program(prog, sizeof(prog), &rng);
		LLVMFuzzerTestOneInput(prog, sizeof(prog));
	}
	printf("%u random programs and %zu hand-written ones: consistent\n",
	       RUNS, sizeof(by_hand) / sizeof(by_hand[0]));
	return 0;
}
