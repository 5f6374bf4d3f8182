// SPDX-License-Identifier: MIT
/* IDT, handler dispatch and the 8259 PIC. */
#include "guest.h"

#define GATE_INT32	 0x8E /* present, ring 0, 32-bit interrupt gate */
#define ISR_STUB_SIZE	 16
#define FIRST_IRQ_VECTOR 0x20

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t zero;
	uint8_t type;
	uint16_t offset_high;
} __attribute__((packed));

struct idt_desc {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

/* isr.S: 256 stubs of ISR_STUB_SIZE bytes. */
extern const char guest_isr_stubs[];

/* The inherent state of an interrupt-taking guest: one per VCPU image. */
static struct idt_gate idt[GUEST_IDT_VECTORS] __attribute__((aligned(8)));
static guest_int_handler handlers[GUEST_IDT_VECTORS];

static const char *const exception_names[32] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound",
	"#UD invalid opcode",
	"#NM no FPU",
	"#DF double fault",
	"coprocessor overrun",
	"#TS invalid TSS",
	"#NP segment not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"reserved",
	"#MF FPU error",
	"#AC alignment check",
	"#MC machine check",
	"#XM SIMD error",
	"#VE virtualisation",
	"#CP control protection",
};

void guest_idt_init(void)
{
	struct idt_desc desc = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };

	for (unsigned int v = 0; v < GUEST_IDT_VECTORS; v++) {
		uint32_t off = (uint32_t)(uintptr_t)guest_isr_stubs +
			       v * ISR_STUB_SIZE;

		idt[v] = (struct idt_gate){
			.offset_low = (uint16_t)off,
			.selector = GUEST_CODE_SELECTOR,
			.type = GATE_INT32,
			.offset_high = (uint16_t)(off >> 16),
		};
		handlers[v] = NULL;
	}
	__asm__ volatile("lidt %0" : : "m"(desc) : "memory");
}

void guest_idt_load(void)
{
	struct idt_desc desc = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(desc) : "memory");
}

void guest_set_handler(unsigned int vector, guest_int_handler fn)
{
	GUEST_ASSERT(vector < GUEST_IDT_VECTORS);
	handlers[vector] = fn;
}

static __attribute__((noreturn)) void unhandled(const struct guest_int_frame *f)
{
	const char *name = "interrupt";

	if (f->vector < 32 && exception_names[f->vector])
		name = exception_names[f->vector];
	guest_printf("guest: unhandled %s (vector %u), error code 0x%x, "
		     "at EIP 0x%08x CS 0x%x EFLAGS 0x%08x\n",
		     name, f->vector, f->error_code, f->eip, f->cs, f->eflags);
	guest_exit(GUEST_EXIT_FAILURE);
}

void guest_isr_dispatch(struct guest_int_frame *frame)
{
	unsigned int v = frame->vector;

	if (!handlers[v])
		unhandled(frame);
	handlers[v](frame);
	if (v >= FIRST_IRQ_VECTOR && v != GUEST_SPURIOUS_VECTOR)
		guest_lapic_eoi();
}

#define PIC1_CMD      0x20
#define PIC1_DATA     0x21
#define PIC2_CMD      0xA0
#define PIC2_DATA     0xA1
#define PIC_ICW1_INIT 0x11 /* edge, cascade, ICW4 follows */
#define PIC_ICW4_8086 0x01

void guest_pic_mask_all(void)
{
	/*
	 * Remap first: the BIOS leaves the master at vector 8, where a
	 * stray IRQ 0 would pass for a double fault.
	 */
	guest_outb(PIC1_CMD, PIC_ICW1_INIT);
	guest_outb(PIC2_CMD, PIC_ICW1_INIT);
	guest_outb(PIC1_DATA, GUEST_PIC_VECTOR_BASE);
	guest_outb(PIC2_DATA, GUEST_PIC_VECTOR_BASE + 8);
	guest_outb(PIC1_DATA, 1u << 2); /* slave on IRQ 2 */
	guest_outb(PIC2_DATA, 2);	/* slave identity */
	guest_outb(PIC1_DATA, PIC_ICW4_8086);
	guest_outb(PIC2_DATA, PIC_ICW4_8086);
	guest_outb(PIC1_DATA, 0xFF);
	guest_outb(PIC2_DATA, 0xFF);
}
