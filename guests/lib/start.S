/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 header and entry point.
 *
 * The loader (QEMU's -kernel or actorvm's) loads this ELF at its link
 * address and enters guest_entry in 32-bit protected mode with EAX =
 * 0x2BADB002, EBX = the multiboot information, interrupts off and paging
 * off. Nothing else is promised: the segment registers hold whatever the
 * loader's GDT said and there is no stack, so we bring our own of both.
 */

#define MB_MAGIC	0x1BADB002
/* Modules page aligned; memory information (mem_*, mmap_*) wanted. */
#define MB_FLAGS	0x00000003
#define MB_BOOT_MAGIC	0x2BADB002
#define CODE_SEL	0x08
#define DATA_SEL	0x10
#define STACK_SIZE	16384
/* CPUs with a stack of their own, by local APIC ID (a power of two). */
#define MAX_CPUS	4
#define LAPIC_ID_REG	0xFEE00020

	/* The linker script puts this first: it must be in the first 8 KiB. */
	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .rodata
	.balign 8
gdt:
	.quad 0				/* null */
	.quad 0x00CF9A000000FFFF	/* 0x08: code, base 0, 4 GiB, 32-bit */
	.quad 0x00CF92000000FFFF	/* 0x10: data, base 0, 4 GiB, 32-bit */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.balign 16
stack_bottom:
	.skip STACK_SIZE * MAX_CPUS
stack_top:

	.text
	.globl guest_entry
	.type guest_entry, @function
guest_entry:
	/* EAX and EBX are live: touch neither before they are saved. Where
	 * several VCPUs enter here (actorvm's AMP boot), each takes the
	 * stack its local APIC ID picks; the loader's DS is flat. */
	movl LAPIC_ID_REG, %ebp
	shrl $24, %ebp
	andl $(MAX_CPUS - 1), %ebp
	movl %ebp, %ecx
	shll $14, %ecx		/* * STACK_SIZE */
	movl $stack_top, %esp
	subl %ecx, %esp
	movl %eax, %esi
	movl %ebx, %edi
	lgdt gdt_desc
	ljmp $CODE_SEL, $1f
1:
	movw $DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	/* C wants DF clear; IF stays off until a guest enables it. */
	pushl $0
	popfl
	/* Only the bootstrap CPU (APIC ID 0) sets up the machine. */
	testl %ebp, %ebp
	jnz ap_start
	/* The serial port first, so even a bad magic gets reported. */
	call guest_serial_init
	cmpl $MB_BOOT_MAGIC, %esi
	jne bad_magic
	subl $12, %esp		/* keep %esp 16-byte aligned at the call */
	pushl %edi
	call guest_main
	movl %eax, (%esp)
	call guest_exit		/* does not return */
bad_magic:
	subl $12, %esp
	pushl %esi
	call guest_bad_magic	/* does not return */
ap_start:
	subl $12, %esp
	pushl %edi
	call guest_ap_main	/* does not return */
	.size guest_entry, . - guest_entry

	.section .note.GNU-stack, "", @progbits
