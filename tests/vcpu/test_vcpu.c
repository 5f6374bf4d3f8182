/* SPDX-License-Identifier: MIT */
/* The VCPU on the software CPU, with tiny hand-assembled Multiboot guests:
 * MMIO to a device, the exit port, an interrupt that ends HLT, and a kick
 * that gets a spinning guest out of a very long slice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "debugexit.h"
#include "elf_builder.h"
#include "ioapic.h"
#include "kvm_vm.h"
#include "multiboot.h"
#include "testdev.h"
#include "vcpu.h"

/* Built twice: for the software CPU and (TEST_KVM) for KVM. */
#ifdef TEST_KVM
#define TEST_BACKEND VCPU_BACKEND_KVM
#else
#define TEST_BACKEND VCPU_BACKEND_SOFT
#endif

#define DEV_BASE 0xf0000000u
/* Hang guard of waits and of reads (the default 1 s read deadline would
 * fail a test for being slow on a loaded machine). */
#define GUARD_NS 60000000000ll

static const struct avm_runtime_config guard_rt = { .read_deadline_ns =
							    GUARD_NS };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct vm {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id dev, vcpu;
};

static void vm_up(struct vm *vm, const struct image *im, uint64_t slice,
		  bool dev_irq)
{
	struct avm_actor_spec dev = { .ops = &testdev_ops, .name = "dev" };
	struct avm_actor_spec ex = { .ops = &debugexit_ops, .name = "exit" };
	struct vcpu_config vc = { .backend = TEST_BACKEND,
				  .slice_insns = slice };
	struct avm_actor_spec cpu = { .ops = &vcpu_ops,
				      .name = "vcpu0",
				      .config = &vc };
	struct mb_boot b;
	avm_actor_id id;
	char err[128];

	assert_int_equal(avm_runtime_new(&guard_rt, &vm->rt), 0);
	assert_int_equal(avm_ram_add(vm->rt, 0, 8 << 20, NULL), 0);
	assert_int_equal(avm_actor_create(vm->rt, &dev, &vm->dev), 0);
	assert_int_equal(avm_map(vm->rt, vm->dev, 0, DEV_BASE), 0);
	assert_int_equal(avm_actor_create(vm->rt, &ex, &id), 0);
	assert_int_equal(avm_map(vm->rt, id, 0, DEBUGEXIT_PORT), 0);
	assert_int_equal(
		mb_load(vm->rt, im->b, im->len, NULL, &b, err, sizeof(err)), 0);
	vc.entry = b.entry;
	vc.eax = b.magic;
	vc.ebx = b.info_gpa;
	assert_int_equal(avm_actor_create(vm->rt, &cpu, &vm->vcpu), 0);
	/* The route an interrupt controller would publish: vector 0x30. */
	if (dev_irq)
		assert_int_equal(
			avm_bind(vm->rt, vm->dev, "irq", vm->vcpu, 0x30), 0);
	assert_int_equal(avm_runtime_start(vm->rt), 0);
	assert_int_equal(avm_accessor_new(vm->rt, "test", &vm->acc), 0);
}

static void vm_down(struct vm *vm)
{
	avm_accessor_free(vm->acc);
	avm_runtime_free(vm->rt);
}

static int wait_exit(struct vm *vm)
{
	int code = -1;

	/* Generous: a missing kick or interrupt shows as a timeout here. */
	assert_int_equal(avm_runtime_wait_exit(vm->rt, GUARD_NS, &code), 0);
	return code;
}

static uint64_t vcpu_reg(struct vm *vm, unsigned reg)
{
	struct avm_msg m = { .kind = AVM_MSG_READ,
			     .access = { .offset = reg, .size = 8 } };
	uint64_t v = 0;

	assert_int_equal(avm_request(vm->acc, vm->vcpu, &m, &v), 0);
	return v;
}

static void guest_touches_device_and_exits(void **unused)
{
	const uint8_t code[] = {
		0xbc, 0x00, 0x00, 0x08, 0x00, /* mov esp, 0x80000 */
		0xa1, 0x00, 0x00, 0x00, 0xf0, /* mov eax, [dev+ID] */
		0xa3, 0x08, 0x00, 0x00, 0xf0, /* mov [dev+SCRATCH], eax */
		0xb8, 0x10, 0x00, 0x00, 0x00, /* mov eax, 0x10 */
		0xe7, 0xf4,		      /* out 0xf4, eax */
		0xf4, 0xeb, 0xfd,	      /* hlt; jmp hlt */
	};
	struct image im;
	struct vm vm;
	uint64_t v = 0;

	(void)unused;
	image_build(&im, code, sizeof(code));
	vm_up(&vm, &im, 0, false);
	assert_int_equal(wait_exit(&vm), (0x10 << 1) | 1);
	assert_int_equal(avm_read(vm.acc, AVM_SPACE_MMIO,
				  DEV_BASE + TESTDEV_SCRATCH, 8, &v),
			 0);
	assert_int_equal(v, 0x7e57de7); /* the ID the guest read */
	assert_true(vcpu_reg(&vm, VCPU_REG_EXITS) >= 3);
	vm_down(&vm);
}

enum guest_wait { WAIT_HLT, WAIT_SPIN, WAIT_DEVICE };

/* Layout of the interrupt guest (offsets from the entry point). */
#define G_LOOP	  29 /* the wait: 13 bytes at most */
#define G_HANDLER 44 /* vector 0x30: exit with 0x12 */
#define G_GDTR	  56
#define G_IDTR	  64
#define G_GDT	  72 /* null, flat code (0x08), flat data (0x10) */
#define G_IDT	  96

/* Multiboot leaves GDTR undefined; a real CPU (KVM) reads CS's descriptor
 * from the GDT when it delivers an interrupt, so the guest loads its own. */
static void guest_gdt(uint8_t *c)
{
	const uint64_t gdt[3] = { 0, 0x00cf9b000000ffffull,
				  0x00cf93000000ffffull };
	uint32_t base = image_addr(G_GDT);

	c[G_GDTR] = sizeof(gdt) - 1;
	memcpy(c + G_GDTR + 2, &base, 4);
	memcpy(c + G_GDT, gdt, sizeof(gdt));
}

/* Guest: lgdt, lidt, patch its gate's selector with CS, sti, then wait
 * forever: hlt loop, spin loop, or (WAIT_DEVICE) make the test device raise
 * its IRQ line and hlt. The handler for vector 0x30 exits with 0x12. */
static void irq_guest(struct image *im, enum guest_wait wait)
{
	uint8_t c[G_IDT + 0x31 * 8] = { 0 };
	uint32_t idtr = image_addr(G_IDTR), idt = image_addr(G_IDT);
	uint32_t gdtr = image_addr(G_GDTR);
	uint32_t sel = idt + 0x30 * 8 + 2, handler = image_addr(G_HANDLER);
	uint32_t irq_reg = DEV_BASE + TESTDEV_IRQ, one = 1;
	size_t g = G_IDT + 0x30 * 8, l = G_LOOP;
	const uint8_t head[] = { 0xbc, 0x00, 0x00, 0x08, 0x00, /* mov esp */
				 0x0f, 0x01, 0x15 };	       /* lgdt [m] */
	const uint8_t hnd[] = { 0xb8, 0x12, 0x00, 0x00, 0x00,  /* mov eax */
				0xe7, 0xf4, 0xf4, 0xeb, 0xfd };

	memcpy(c, head, sizeof(head));
	memcpy(c + 8, &gdtr, 4);
	c[12] = 0x0f, c[13] = 0x01, c[14] = 0x1d; /* lidt [m] */
	memcpy(c + 15, &idtr, 4);
	c[19] = 0x66, c[20] = 0x8c, c[21] = 0xc8; /* mov ax, cs */
	c[22] = 0x66, c[23] = 0xa3;		  /* mov [gate+2], ax */
	memcpy(c + 24, &sel, 4);
	c[28] = 0xfb;		   /* sti */
	if (wait == WAIT_DEVICE) { /* mov dword [dev+IRQ], 1 */
		c[l++] = 0xc7, c[l++] = 0x05;
		memcpy(c + l, &irq_reg, 4), l += 4;
		memcpy(c + l, &one, 4), l += 4;
	}
	if (wait == WAIT_SPIN)
		c[l] = 0x90, c[l + 1] = 0xeb, c[l + 2] = 0xfe; /* nop; jmp $ */
	else
		c[l] = 0xf4, c[l + 1] = 0xeb, c[l + 2] = 0xfd; /* hlt; jmp */
	memcpy(c + G_HANDLER, hnd, sizeof(hnd));
	c[G_IDTR] = (0x31 * 8 - 1) & 0xff, c[G_IDTR + 1] = (0x31 * 8 - 1) >> 8;
	memcpy(c + G_IDTR + 2, &idt, 4);
	guest_gdt(c);
	c[g] = handler & 0xff, c[g + 1] = (handler >> 8) & 0xff;
	c[g + 5] = 0x8e; /* present, ring 0, 32-bit interrupt gate */
	c[g + 6] = (handler >> 16) & 0xff, c[g + 7] = handler >> 24;
	image_build(im, c, sizeof(c));
}

static void inject(struct vm *vm, unsigned vector)
{
	struct avm_msg m = { .kind = VCPU_MSG_INTERRUPT, .user.value = vector };

	assert_int_equal(avm_post(vm->acc, vm->vcpu, &m), 0);
}

static void interrupt_ends_hlt(void **unused)
{
	struct image im;
	struct vm vm;

	(void)unused;
	irq_guest(&im, WAIT_HLT);
	vm_up(&vm, &im, 0, false);
	/* Pending until the guest has done sti; then delivered. */
	inject(&vm, 0x30);
	assert_int_equal(wait_exit(&vm), (0x12 << 1) | 1);
	assert_int_equal(vcpu_reg(&vm, VCPU_REG_IRQS), 1);
	vm_down(&vm);
}

/* A slice of 4e9 instructions takes minutes: only the kick ends it. */
static void kick_interrupts_a_spinning_guest(void **unused)
{
	struct image im;
	struct vm vm;

	(void)unused;
	irq_guest(&im, WAIT_SPIN);
	vm_up(&vm, &im, 4000000000ull, false);
	inject(&vm, 0x30);
	assert_int_equal(wait_exit(&vm), (0x12 << 1) | 1);
	vm_down(&vm); /* the stop kicks too: no waiting for the slice */
}

/* A device's interrupt, routed straight to the VCPU (the fast path): the
 * guest writes the test device's IRQ register; the device's IRQ message
 * carries the vector its binding gives it; the guest's handler runs. */
static void device_interrupt_runs_the_handler(void **unused)
{
	struct image im;
	struct vm vm;

	(void)unused;
	irq_guest(&im, WAIT_DEVICE);
	vm_up(&vm, &im, 0, true);
	assert_int_equal(wait_exit(&vm), (0x12 << 1) | 1);
	assert_int_equal(vcpu_reg(&vm, VCPU_REG_IRQS), 1);
	vm_down(&vm);
}

static uint64_t pause_vcpu(struct vm *vm)
{
	struct avm_msg pause = { .kind = VCPU_MSG_PAUSE };

	assert_int_equal(avm_post(vm->acc, vm->vcpu, &pause), 0);
	for (int i = 0; i < 100000 && vcpu_reg(vm, VCPU_REG_STATE) != 2; i++)
		;
	assert_int_equal(vcpu_reg(vm, VCPU_REG_STATE), 2);
	return vcpu_reg(vm, VCPU_REG_EIP);
}

static void resume_vcpu(struct vm *vm)
{
	struct avm_msg resume = { .kind = VCPU_MSG_RESUME };

	assert_int_equal(avm_post(vm->acc, vm->vcpu, &resume), 0);
}

static void pause_resume_and_state(void **unused)
{
	uint64_t loop = image_addr(G_LOOP), eip = 0;
	struct image im;
	struct vm vm;

	(void)unused;
	irq_guest(&im, WAIT_SPIN); /* spins with interrupts enabled */
	vm_up(&vm, &im, 0, false);
	/* Paused early, it may still be booting: retry until it spins. */
	for (uint64_t t0 = now_ns(); now_ns() - t0 < (uint64_t)GUARD_NS;) {
		eip = pause_vcpu(&vm);
		if (eip >= loop && eip <= loop + 3)
			break;
		resume_vcpu(&vm);
		/* Let it run: a pause right behind the resume would be
		 * handled in the same poll, before any guest instruction. */
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	assert_true(eip >= loop && eip <= loop + 3);
	assert_true(vcpu_reg(&vm, VCPU_REG_EFLAGS) & (1u << 9)); /* IF */
	/* Paused: an interrupt waits; after the resume it is taken. */
	inject(&vm, 0x30);
	assert_int_equal(vcpu_reg(&vm, VCPU_REG_IRQS), 0);
	assert_int_equal(vcpu_reg(&vm, VCPU_REG_EIP), eip); /* not running */
	resume_vcpu(&vm);
	assert_int_equal(wait_exit(&vm), (0x12 << 1) | 1);
	vm_down(&vm);
}

static void registers_refused_while_running(void **unused)
{
	struct avm_msg m = { .kind = AVM_MSG_READ,
			     .access = { .offset = VCPU_REG_EIP, .size = 8 } };
	struct image im;
	struct vm vm;
	uint64_t v;

	(void)unused;
	irq_guest(&im, WAIT_SPIN);
	vm_up(&vm, &im, 0, false);
	assert_int_equal(avm_request(vm.acc, vm.vcpu, &m, &v), -EBUSY);
	vm_down(&vm);
}

static void missing_gate_fails_the_vcpu(void **unused)
{
	struct image im;
	struct vm vm;

	(void)unused;
	irq_guest(&im, WAIT_HLT);
	vm_up(&vm, &im, 0, false);
	inject(&vm, 0x40); /* beyond the IDT limit */
	for (int i = 0; i < 10000 && vcpu_reg(&vm, VCPU_REG_STATE) != 3; i++)
		;
	assert_int_equal(vcpu_reg(&vm, VCPU_REG_STATE), 3); /* failed */
	assert_int_equal(vcpu_reg(&vm, VCPU_REG_EIP) >= IMG_BASE, 1);
	/* The VM shuts down, as a PC on a triple fault: nobody waits on. */
	assert_int_equal(wait_exit(&vm), AVM_VM_EXIT_FAILED);
	vm_down(&vm);
}

#ifdef TEST_KVM
/* --- KVM only: one VM, two VCPUs and the in-kernel irqchip --------------- */

/* Layout of the in-kernel irqchip guests (offsets from the entry point). */
#define K_CPU1	  160 /* the second VCPU's entry */
#define K_HANDLER 240 /* vector 0x30 on VCPU 0: exit with 0x12 */
#define K_GDTR	  256
#define K_IDTR	  264
#define K_GDT	  272
#define K_IDT	  296
#define K_FLAG	  (K_IDT + 0x31 * 8) /* VCPU 0's LAPIC is on: 1 */
#define K_PIN	  5		     /* the test device's IOAPIC pin */
#define LAPIC_SVR 0xFEE000F0u
#define LAPIC_ICR 0xFEE00300u

struct emit {
	uint8_t *c;
	size_t at;
};

static void put(struct emit *e, const void *b, size_t n)
{
	memcpy(e->c + e->at, b, n);
	e->at += n;
}

/* mov dword [addr], imm */
static void emit_store(struct emit *e, uint32_t addr, uint32_t imm)
{
	put(e, "\xc7\x05", 2);
	put(e, &addr, 4);
	put(e, &imm, 4);
}

/* VCPU 0: GDT, IDT (gate 0x30's selector patched with CS), its LAPIC on,
 * the PICs masked;
 * with @pin >= 0 the in-kernel IOAPIC's entry for @pin set to vector 0x30
 * and the test device's line raised; then sti, the flag for VCPU 1, hlt. */
static void emit_cpu0(struct emit *e, int pin)
{
	uint32_t gdtr = image_addr(K_GDTR), idtr = image_addr(K_IDTR);
	uint32_t sel = image_addr(K_IDT) + 0x30 * 8 + 2;

	put(e, "\xbc\x00\x00\x08\x00\x0f\x01\x15", 8); /* mov esp; lgdt */
	put(e, &gdtr, 4);
	put(e, "\x0f\x01\x1d", 3); /* lidt */
	put(e, &idtr, 4);
	put(e, "\x66\x8c\xc8\x66\xa3", 5); /* mov ax, cs; mov [sel], ax */
	put(e, &sel, 4);
	emit_store(e, LAPIC_SVR, 0x1FF); /* APIC on, spurious 0xFF */
	/* Mask KVM's 8259s, as a PC guest does: they see every GSI below 16
	 * too, and VCPU 0's LINT0 starts as ExtINT (virtual wire). */
	put(e, "\xb0\xff\xe6\x21\xe6\xa1", 6); /* mov al, 0xff; out */
	if (pin >= 0) {
		emit_store(e, IOAPIC_BASE, IOAPIC_REG_REDTBL + 2 * pin + 1);
		emit_store(e, IOAPIC_BASE + 0x10, 0); /* to APIC ID 0 */
		emit_store(e, IOAPIC_BASE, IOAPIC_REG_REDTBL + 2 * pin);
		emit_store(e, IOAPIC_BASE + 0x10, 0x30); /* fixed, edge */
		emit_store(e, DEV_BASE + TESTDEV_IRQ, 1);
	}
	put(e, "\xfb", 1); /* sti */
	emit_store(e, image_addr(K_FLAG), 1);
	put(e, "\xf4\xeb\xfd", 3); /* hlt; jmp hlt */
}

/* VCPU 1: wait for VCPU 0's flag, then a fixed IPI 0x30 to APIC ID 0. */
static void emit_cpu1(struct emit *e)
{
	uint32_t flag = image_addr(K_FLAG);

	put(e, "\x83\x3d", 2); /* cmp dword [flag], 1 */
	put(e, &flag, 4);
	put(e, "\x01\x75\xf7", 3);	    /* jne back to the cmp */
	emit_store(e, LAPIC_ICR + 0x10, 0); /* destination: APIC ID 0 */
	emit_store(e, LAPIC_ICR, 0x4030);   /* fixed, assert, 0x30 */
	put(e, "\xf4\xeb\xfd", 3);	    /* hlt; jmp hlt */
}

static void kernel_irqchip_guest(struct image *im, int pin)
{
	static uint8_t c[K_FLAG + 4];
	const uint64_t gdt[3] = { 0, 0x00cf9b000000ffffull,
				  0x00cf93000000ffffull };
	uint32_t handler = image_addr(K_HANDLER), gdt_base = image_addr(K_GDT);
	uint32_t idt_base = image_addr(K_IDT);
	uint8_t *g = c + K_IDT + 0x30 * 8;
	struct emit e = { c, 0 };

	memset(c, 0, sizeof(c));
	emit_cpu0(&e, pin);
	assert_true(e.at <= K_CPU1);
	e.at = K_CPU1;
	emit_cpu1(&e);
	assert_true(e.at <= K_HANDLER);
	memcpy(c + K_HANDLER, "\xb8\x12\x00\x00\x00\xe7\xf4\xf4\xeb\xfd", 10);
	c[K_GDTR] = sizeof(gdt) - 1;
	memcpy(c + K_GDTR + 2, &gdt_base, 4);
	memcpy(c + K_GDT, gdt, sizeof(gdt));
	c[K_IDTR] = (0x31 * 8 - 1) & 0xff, c[K_IDTR + 1] = (0x31 * 8 - 1) >> 8;
	memcpy(c + K_IDTR + 2, &idt_base, 4);
	g[0] = handler & 0xff, g[1] = (handler >> 8) & 0xff;
	g[5] = 0x8e; /* present, ring 0, 32-bit interrupt gate */
	g[6] = (handler >> 16) & 0xff, g[7] = handler >> 24;
	image_build(im, c, sizeof(c));
}

struct kvm_machine {
	struct vm vm;
	struct kvm_vm *kvm_vm; /* published by the "kvm" actor */
	struct kvm_vm_config kvm_cfg;
	struct ioapic_config ioapic_cfg;
	struct vcpu_config vc[2];
	avm_actor_id ioapic, cpu[2];
};

static void create_or_fail(avm_runtime *rt, const struct avm_device_ops *ops,
			   const char *name, const void *cfg, avm_actor_id *id)
{
	struct avm_actor_spec s = { .ops = ops, .name = name, .config = cfg };

	assert_int_equal(avm_actor_create(rt, &s, id), 0);
}

/* RAM, test device, exit port, then the "kvm" actor (in-kernel irqchip)
 * before its users: the IOAPIC in forwarding mode and @n VCPUs. */
static void kvm_machine_up(struct kvm_machine *k, const struct image *im,
			   unsigned n)
{
	struct vm *vm = &k->vm;
	static const char *const names[2] = { "vcpu0", "vcpu1" };
	struct mb_boot b;
	avm_actor_id id;
	char err[128];

	assert_int_equal(avm_runtime_new(&guard_rt, &vm->rt), 0);
	assert_int_equal(avm_ram_add(vm->rt, 0, 8 << 20, NULL), 0);
	create_or_fail(vm->rt, &testdev_ops, "dev", NULL, &vm->dev);
	assert_int_equal(avm_map(vm->rt, vm->dev, 0, DEV_BASE), 0);
	create_or_fail(vm->rt, &debugexit_ops, "exit", NULL, &id);
	assert_int_equal(avm_map(vm->rt, id, 0, DEBUGEXIT_PORT), 0);
	assert_int_equal(
		mb_load(vm->rt, im->b, im->len, NULL, &b, err, sizeof(err)), 0);
	k->kvm_cfg =
		(struct kvm_vm_config){ .irqchip = true, .slot = &k->kvm_vm };
	create_or_fail(vm->rt, &kvm_vm_ops, "kvm", &k->kvm_cfg, &id);
	k->ioapic_cfg = (struct ioapic_config){ .forward = kvm_vm_irq_line,
						.forward_arg = &k->kvm_vm };
	create_or_fail(vm->rt, &ioapic_ops, "ioapic", &k->ioapic_cfg,
		       &k->ioapic);
	assert_int_equal(avm_bind(vm->rt, vm->dev, "irq", k->ioapic, K_PIN), 0);
	for (unsigned i = 0; i < n; i++) {
		k->vc[i] = (struct vcpu_config){
			.backend = VCPU_BACKEND_KVM,
			.entry = i ? image_addr(K_CPU1) : b.entry,
			.eax = b.magic,
			.ebx = b.info_gpa,
			.apic_id = (uint8_t)i,
			.kvm_vm = &k->kvm_vm,
		};
		create_or_fail(vm->rt, &vcpu_ops, names[i], &k->vc[i],
			       &k->cpu[i]);
	}
	vm->vcpu = k->cpu[0];
	assert_int_equal(avm_runtime_start(vm->rt), 0);
	assert_int_equal(avm_accessor_new(vm->rt, "test", &vm->acc), 0);
}

static void need_kernel_irqchip(void)
{
	char why[160];

	if (!kvm_vm_irqchip_usable(why, sizeof(why))) {
		printf("SKIP: in-kernel irqchip tests: %s\n", why);
		skip();
	}
}

/* Two VCPUs in one VM: an IPI between KVM's local APICs only reaches a
 * VCPU of the same VM with that APIC ID, and VCPU 0's handler exits. */
static void ipi_between_vcpus_of_one_vm(void **unused)
{
	struct kvm_machine k;
	struct image im;

	(void)unused;
	need_kernel_irqchip();
	kernel_irqchip_guest(&im, -1);
	kvm_machine_up(&k, &im, 2);
	assert_int_equal(wait_exit(&k.vm), (0x12 << 1) | 1);
	/* Delivered by KVM, not injected by the VCPU actor. */
	assert_int_equal(vcpu_reg(&k.vm, VCPU_REG_IRQS), 0);
	vm_down(&k.vm);
}

static uint64_t ioapic_stat(struct kvm_machine *k, enum ioapic_stat st)
{
	struct avm_msg m = { .kind = IOAPIC_MSG_STATS, .user.addr = st };
	uint64_t v = 0;

	assert_int_equal(avm_request(k->vm.acc, k->ioapic, &m, &v), 0);
	return v;
}

/* The device's line, through the IOAPIC actor (forwarding mode,
 * KVM_IRQ_LINE) and the in-kernel IOAPIC the guest programmed. */
static void device_irq_through_the_kernel_ioapic(void **unused)
{
	struct kvm_machine k;
	struct image im;

	(void)unused;
	need_kernel_irqchip();
	kernel_irqchip_guest(&im, K_PIN);
	kvm_machine_up(&k, &im, 1);
	assert_int_equal(wait_exit(&k.vm), (0x12 << 1) | 1);
	assert_true(ioapic_stat(&k, IOAPIC_STAT_FORWARDED) >= 1);
	assert_int_equal(ioapic_stat(&k, IOAPIC_STAT_ROUTES), 0);
	vm_down(&k.vm);
}
#endif

int main(void)
{
	char why[160];

	if (TEST_BACKEND == VCPU_BACKEND_KVM &&
	    !vcpu_kvm_usable(why, sizeof(why))) {
		printf("SKIP: KVM backend tests need a usable /dev/kvm (%s)\n",
		       why);
		return 77; /* meson: skipped */
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guest_touches_device_and_exits),
		cmocka_unit_test(interrupt_ends_hlt),
		cmocka_unit_test(kick_interrupts_a_spinning_guest),
		cmocka_unit_test(device_interrupt_runs_the_handler),
		cmocka_unit_test(pause_resume_and_state),
		cmocka_unit_test(registers_refused_while_running),
		cmocka_unit_test(missing_gate_fails_the_vcpu),
#ifdef TEST_KVM
		cmocka_unit_test(ipi_between_vcpus_of_one_vm),
		cmocka_unit_test(device_irq_through_the_kernel_ioapic),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
