// SPDX-License-Identifier: MIT
/*
 * softcpu_bench: what a guest store costs on the software CPU (unicorn),
 * against the same loop without the store, measured in the same run.
 *
 *   softcpu_bench [--iterations N] [--slices S]
 *
 * Two 32-bit guest loops of N iterations (default 10000), each run S times
 * (default 200) by uc_emu_start() on RAM mapped as actorvm's soft CPU maps
 * it (uc_mem_map_ptr, read/write/execute), with the soft CPU's kind of
 * block hook installed:
 *   alu    add; dec; jnz (plus five nops, the store's length)
 *   store  add; mov [data], eax; dec; jnz   (data on another page)
 * It prints ns per iteration of each, percentiles over the slices, and the
 * store's extra cost per iteration. docs/performance.md ("Real-time
 * latency") says why it matters: unicorn 2.0.1 sends every guest store
 * through its code-invalidation slow path.
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
static void emit(uint8_t *ram, uint32_t n, int store)
{
	uint8_t code[] = { 0xb9, 0,    0,    0,	   0,	 0x01, 0xc8, 0x90,
			   0x90, 0x90, 0x90, 0x90, 0x49, 0x75, 0xf6, 0xf4 };

	memcpy(code + 1, &n, 4);
	if (store) {
		code[7] = 0xa3; /* mov [moffs32], eax */
		memcpy(code + 8, &(uint32_t){ DATA_ADDR }, 4);
	}
	memcpy(ram + CODE_ADDR, code, sizeof(code));
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ns per iteration of each slice, sorted, into @out. */
static int run(uint8_t *ram, int store, uint32_t n, int slices, double *out)
{
	uc_engine *uc;
	uc_hook h;
	uint64_t blocks = 0;
	int err = -1;

	emit(ram, n, store);
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

int main(int argc, char **argv)
{
	uint32_t n = 10000;
	int slices = 200;
	uint8_t *ram = aligned_alloc(4096, RAM_SIZE);
	double *alu, *st;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: softcpu_bench [--iterations N] [--slices S]\n"
		       "A guest loop with and without one store per "
		       "iteration on the software\nCPU (unicorn), ns per "
		       "iteration (default 10000 iterations x 200).\n");
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
	memset(ram, 0, RAM_SIZE);
	if (!alu || !st || run(ram, 0, n, slices, alu) ||
	    run(ram, 1, n, slices, st)) {
		fprintf(stderr, "softcpu_bench: unicorn failed\n");
		free(alu);
		free(st);
		free(ram);
		return 1;
	}
	printf("# softcpu_bench: %u iterations x %d slices, ns per iteration\n",
	       n, slices);
	printf("%-6s %9s %9s %9s %9s\n", "loop", "p50", "p99", "p99.9", "max");
	print_row("alu", alu, slices);
	print_row("store", st, slices);
	printf("# one guest store costs %.1f ns more than 5 nops (p50), %.0fx "
	       "the store-free iteration\n",
	       st[slices / 2] - alu[slices / 2],
	       st[slices / 2] / alu[slices / 2]);
	free(alu);
	free(st);
	free(ram);
	return 0;
usage:
	fprintf(stderr, "usage: softcpu_bench [--iterations N] [--slices S]\n");
	free(ram);
	return 2;
}
