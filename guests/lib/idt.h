/* SPDX-License-Identifier: MIT */
/*
 * IDT, interrupt handlers and the legacy 8259 PIC.
 *
 * Every vector has an assembly stub (isr.S) that saves the registers and
 * calls guest_isr_dispatch(), which runs the handler set for the vector.
 * Vectors 0..31 are CPU exceptions; an exception without a handler reports
 * the vector, error code and EIP and fails the guest. The 8259 PIC is
 * remapped to vectors 0x20..0x2F and masked by guest_pic_mask_all(), so
 * guests should put their own vectors at 0x30 and above.
 */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <stdint.h>

#define GUEST_IDT_VECTORS   256
#define GUEST_CODE_SELECTOR 0x08
#define GUEST_DATA_SELECTOR 0x10

#define GUEST_PIC_VECTOR_BASE 0x20
/* The LAPIC's spurious vector: it never needs an EOI. */
#define GUEST_SPURIOUS_VECTOR 0xFF

/* The stack as the stubs leave it, lowest address first. */
struct guest_int_frame {
	/* pushal */
	uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	uint32_t vector;
	uint32_t error_code; /* 0 for vectors without one */
	/* pushed by the CPU */
	uint32_t eip;
	uint32_t cs;
	uint32_t eflags;
};

typedef void (*guest_int_handler)(struct guest_int_frame *frame);

/* Fills and loads the IDT; every vector starts without a handler. */
void guest_idt_init(void);

/* Loads the IDT guest_idt_init() filled, on another CPU (IDTR is per CPU). */
void guest_idt_load(void);

/*
 * Runs @fn for @vector (NULL removes it). For vectors 0x20..0xFE the
 * dispatcher writes the LAPIC EOI after @fn returns: all device and timer
 * interrupts in these guests come through the LAPIC (the PIC is masked).
 */
void guest_set_handler(unsigned int vector, guest_int_handler fn);

/* Called by the stubs only. */
void guest_isr_dispatch(struct guest_int_frame *frame);

/* Initialises both 8259s (ICW1..4, vectors 0x20/0x28) and masks all lines. */
void guest_pic_mask_all(void);

#endif /* GUEST_IDT_H */
