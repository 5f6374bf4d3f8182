// SPDX-License-Identifier: MIT
/*
 * softcpu_bench: what a guest store costs on the software CPU (unicorn),
 * against the same loop without the store, measured in the same run.
 *
 *   softcpu_bench [--iterations N] [--slices S]
 *
 * Three 32-bit guest loops of N iterations (default 10000), each run S
 * times (default 200) by uc_emu_start() on RAM mapped as actorvm's soft CPU
 * maps it (uc_mem_map_ptr, read/write/execute, no memory hooks), with the
 * soft CPU's kind of block hook installed:
 *   alu    add; dec; jnz (plus five nops, the store's length)
 *   store  add; mov [data], eax; dec; jnz   (data on a page without code)
 *   smc    the same store to the loop's own code page (not onto the code)
 * It prints ns per iteration of each, percentiles over the slices, and each
 * store's extra cost per iteration. docs/performance.md ("The software
 * CPU's unicorn") says why it matters: unicorn 2.0.1 sends every guest
 * store through its code-invalidation slow path; 2.1.1 only stores to pages
 * that hold translated code, which must stay slow for self-modifying code.
 *
 * Benchmarks report, they never fail on timing: the exit status is 1 only
 * when unicorn fails, 2 on a usage error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>

#define RAM_SIZE  (1u << 20)
#define CODE_ADDR 0x1000u
#define DATA_ADDR 0x2000u /* its own page: not a code page */
#define SMC_ADDR  0x1800u /* the loop's page, past its code */

enum loop { LOOP_ALU, LOOP_STORE, LOOP_SMC };

static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *u)
{
	(void)uc;
	(void)addr;
	(void)size;
	++*(uint64_t *)u;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* mov ecx, N; l: add eax, ecx; <store or 5 nops>; dec ecx; jnz l; hlt */
static void emit(uint8_t *ram, uint32_t n, enum loop loop)
{
	uint8_t code[] = { 0xb9, 0,    0,    0,	   0,	 0x01, 0xc8, 0x90,
			   0x90, 0x90, 0x90, 0x90, 0x49, 0x75, 0xf6, 0xf4 };

	memcpy(code + 1, &n, 4);
	if (loop != LOOP_ALU) {
		code[7] = 0xa3; /* mov [moffs32], eax */
		memcpy(code + 8,
		       &(uint32_t){ loop == LOOP_SMC ? SMC_ADDR : DATA_ADDR },
		       4);
	}
	memcpy(ram + CODE_ADDR, code, sizeof(code));
}

static const char *version(void)
{
	static char buf[32];
	unsigned v = uc_version(NULL, NULL);

	snprintf(buf, sizeof(buf), "%u.%u.%u", v >> 24, (v >> 16) & 0xff,
		 (v >> 8) & 0xff);
	return buf;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ns per iteration of each slice, sorted, into @out. */
static int run(uint8_t *ram, enum loop loop, uint32_t n, int slices,
	       double *out)
{
	uc_engine *uc;
	uc_hook h;
	uint64_t blocks = 0;
	int err = -1;

	emit(ram, n, loop);
	if (uc_open(UC_ARCH_X86, UC_MODE_32, &uc))
		return -1;
	if (uc_mem_map_ptr(uc, 0, RAM_SIZE, UC_PROT_ALL, ram) ||
	    uc_hook_add(uc, &h, UC_HOOK_BLOCK, on_block, &blocks, 1, 0))
		goto close_uc;
	for (int i = 0; i < slices; i++) {
		double t0 = now_ns();

		if (uc_emu_start(uc, CODE_ADDR, 0xffffffffull, 0, 0))
			goto close_uc;
		out[i] = (now_ns() - t0) / n;
	}
	qsort(out, (size_t)slices, sizeof(*out), cmp);
	err = blocks ? 0 : -1; /* the hook ran: the soft CPU's set-up */
close_uc:
	uc_close(uc);
	return err;
}

static void print_row(const char *name, const double *v, int n)
{
	printf("%-6s %9.1f %9.1f %9.1f %9.1f\n", name, v[n / 2],
	       v[n * 99 / 100], v[n * 999 / 1000], v[n - 1]);
}

static void print_cost(const char *what, const double *st, const double *alu,
		       int n)
{
	printf("# a store to %s costs %.1f ns more than 5 nops (p50), %.0fx "
	       "the store-free iteration\n",
	       what, st[n / 2] - alu[n / 2], st[n / 2] / alu[n / 2]);
}

int main(int argc, char **argv)
{
	uint32_t n = 10000;
	int slices = 200;
	uint8_t *ram = aligned_alloc(4096, RAM_SIZE);
	double *alu, *st, *smc;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: softcpu_bench [--iterations N] [--slices S]\n"
		       "A guest loop without a store, with one to a "
		       "data page, and with one to\nits own code page, on "
		       "the software CPU (unicorn), ns per iteration\n"
		       "(default 10000 iterations x 200).\n");
		free(ram);
		return 0;
	}
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--iterations"))
			n = (uint32_t)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--slices"))
			slices = atoi(argv[i + 1]);
		else
			goto usage;
	}
	if (argc % 2 == 0 || !n || slices < 1 || !ram)
		goto usage;
	alu = calloc((size_t)slices, sizeof(*alu));
	st = calloc((size_t)slices, sizeof(*st));
	smc = calloc((size_t)slices, sizeof(*smc));
	memset(ram, 0, RAM_SIZE);
	if (!alu || !st || !smc || run(ram, LOOP_ALU, n, slices, alu) ||
	    run(ram, LOOP_STORE, n, slices, st) ||
	    run(ram, LOOP_SMC, n, slices, smc)) {
		fprintf(stderr, "softcpu_bench: unicorn failed\n");
		free(alu);
		free(st);
		free(smc);
		free(ram);
		return 1;
	}
	printf("# softcpu_bench: unicorn %s, %u iterations x %d slices, ns per "
	       "iteration\n",
	       version(), n, slices);
	printf("%-6s %9s %9s %9s %9s\n", "loop", "p50", "p99", "p99.9", "max");
	print_row("alu", alu, slices);
	print_row("store", st, slices);
	print_row("smc", smc, slices);
	print_cost("a data page", st, alu, slices);
	print_cost("a code page", smc, alu, slices);
	free(alu);
	free(st);
	free(smc);
	free(ram);
	return 0;
usage:
	fprintf(stderr, "usage: softcpu_bench [--iterations N] [--slices S]\n");
	free(ram);
	return 2;
}
