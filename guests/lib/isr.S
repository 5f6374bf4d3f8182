/* SPDX-License-Identifier: MIT */
/*
 * One 16-byte interrupt stub per vector, from guest_isr_stubs: the stub
 * for vector v is at guest_isr_stubs + 16 * v.
 *
 * Each stub makes the stack look the same (an error code, then the vector)
 * so one common path can save the registers and hand a struct
 * guest_int_frame to C. The CPU pushes an error code itself only for
 * exceptions 8, 10..14, 17, 21, 29 and 30; for all others the stub pushes 0.
 */

	.text
	.balign 16
	.globl guest_isr_stubs
guest_isr_stubs:
	vector = 0
	.rept 256
	.balign 16
	errcode = (vector == 8) || (vector >= 10 && vector <= 14)
	errcode = errcode || vector == 17 || vector == 21
	errcode = errcode || vector == 29 || vector == 30
	.if !errcode
	pushl $0
	.endif
	pushl $vector
	jmp isr_common
	vector = vector + 1
	.endr
	/* At most 2 + 5 + 5 bytes each, so .balign 16 keeps the stride. */

isr_common:
	pushal
	cld
	movl %esp, %ebx		/* callee-saved: the frame, across the call */
	andl $-16, %esp		/* whatever the interrupted code had */
	subl $12, %esp
	pushl %ebx
	call guest_isr_dispatch
	movl %ebx, %esp
	popal
	addl $8, %esp		/* vector and error code */
	iret

	.section .note.GNU-stack, "", @progbits
