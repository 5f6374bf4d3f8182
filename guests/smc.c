// SPDX-License-Identifier: MIT
/*
 * smc: code written at run time runs as written. The software CPU caches
 * translated code, and since unicorn 2.1 a store skips its code check on a
 * page it considers dirty; this guest checks the three ways a guest meets
 * that: code freshly stored and jumped to, code rewritten after it ran, and
 * a loop that rewrites its own next instruction.
 *
 * The code page holds only code: on unicorn 2.1.1 a data store to a page
 * that holds translated code marks it dirty, and later rewrites of that
 * code are then missed (docs/vcpu.md, "Self-modifying code").
 */
#include "guest.h"

/* A page of its own (.bss is page-aligned by link.ld, the array too). */
static uint8_t code_page[4096] __attribute__((aligned(4096)));

typedef uint32_t (*code_fn)(void);

static code_fn at(unsigned off)
{
	/* The stores above must reach memory before the call fetches. */
	__asm__ volatile("" ::: "memory");
	return (code_fn)(uintptr_t)(code_page + off);
}

/* mov eax, imm32; ret */
static void emit_return(unsigned off, uint32_t imm)
{
	code_page[off] = 0xb8;
	code_page[off + 1] = (uint8_t)imm;
	code_page[off + 2] = (uint8_t)(imm >> 8);
	code_page[off + 3] = (uint8_t)(imm >> 16);
	code_page[off + 4] = (uint8_t)(imm >> 24);
	code_page[off + 5] = 0xc3;
}

/*
 *	mov ecx, n; xor edx, edx
 * l:	mov eax, 1		(its immediate: the previous pass's ecx)
 *	add edx, eax; mov [l + 1], cl; dec ecx; jnz l
 *	mov eax, edx; ret
 */
static void emit_self_rewriting(unsigned off, uint8_t n)
{
	uint32_t imm = (uint32_t)(uintptr_t)(code_page + off + 8);
	uint8_t code[] = { 0xb9, n, 0,	  0,	0,    0x31, 0xd2, 0xb8, 1,
			   0,	 0, 0,	  0x01, 0xc2, 0x88, 0x0d, 0,	0,
			   0,	 0, 0x49, 0x75, 0xf0, 0x89, 0xd0, 0xc3 };

	__builtin_memcpy(code + 16, &imm, 4);
	__builtin_memcpy(code_page + off, code, sizeof(code));
}

int guest_main(const struct multiboot_info *mbi)
{
	uint32_t sum = 1;

	emit_return(0, 0x1234);
	GUEST_ASSERT_EQ(at(0)(), 0x1234);
	guest_puts("smc: fresh code ran");
	for (uint32_t i = 0; i < 200; i++) {
		emit_return(0, 0xc0de0000u + i);
		GUEST_ASSERT_EQ(at(0)(), 0xc0de0000u + i);
	}
	guest_puts("smc: rewritten code ran 200 times");
	/* The first pass adds 1, pass k (ecx = k) adds k + 1. */
	for (uint32_t k = 1; k < 200; k++)
		sum += k + 1;
	emit_self_rewriting(0x100, 200);
	GUEST_ASSERT_EQ(at(0x100)(), sum);
	guest_puts("smc: self-rewriting loop ran");
	GUEST_DONE();
}
