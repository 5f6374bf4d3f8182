/* SPDX-License-Identifier: MIT */
/*
 * The KVM backend of the VCPU actor, on host-kvm/ (kvm_vm.h, the /dev/kvm
 * layer): one KVM VCPU (ID = the local APIC ID) in the runtime's shared VM
 * (the "kvm" actor's), or in a private VM when there is none, entered in
 * 32-bit protected mode with flat segments as Multiboot specifies. I/O and
 * MMIO exits go through the VCPU's accessor. With the user-space irqchip,
 * interrupts are injected with KVM_INTERRUPT when the guest's interrupt
 * window is open; with the in-kernel one, KVM delivers them itself. A kick
 * sets immediate_exit and signals the VCPU thread with its kick signal
 * (vcpu.h, @kick_signal), unblocked only inside KVM_RUN.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "kvm_backend.h"

struct kvm_cpu {
	struct kvm_vcpu *vcpu;
	struct kvm_run *run;
	int sig;      /* the kick signal */
	bool irqchip; /* the VM's in-kernel irqchip delivers interrupts */
	struct vcpu_bus *bus;
	avm_runtime *rt; /* guest RAM, for the IRET fallback */
	_Atomic uint64_t *exits;
	pthread_t thread;
};

bool vcpu_kvm_usable(char *why, size_t len)
{
	return kvm_host_usable(why, len);
}

/* The kick signal, claimed (vcpu.h, @kick_signal), and blocked on this
 * thread except inside KVM_RUN. */
static int set_up_signal(struct kvm_cpu *c, avm_ctx *ctx)
{
	char why[160];
	sigset_t set;
	int err = vcpu_kick_signal_claim(c->sig, why, sizeof(why));

	if (err) {
		avm_log(ctx, AVM_LOG_ERROR, "%s", why);
		return err;
	}
	sigemptyset(&set);
	sigaddset(&set, c->sig);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_sigmask(SIG_BLOCK, NULL, &set);
	sigdelset(&set, c->sig);
	return kvm_vcpu_set_signal_mask(c->vcpu, &set);
}

static void flat(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){ .base = 0,
				   .limit = 0xffffffff,
				   .selector = sel,
				   .type = type,
				   .present = 1,
				   .dpl = 0,
				   .db = 1,
				   .s = 1,
				   .g = 1 };
}

/* Multiboot: protected mode, paging off, flat 4 GiB segments. */
static int enter_protected_mode(struct kvm_cpu *c,
				const struct vcpu_config *cfg)
{
	struct kvm_sregs sr;
	struct kvm_regs r = { .rip = cfg->entry,
			      .rax = cfg->eax,
			      .rbx = cfg->ebx,
			      .rflags = 0x2 };
	int err = kvm_vcpu_get_sregs(c->vcpu, &sr);

	if (err)
		return err;
	flat(&sr.cs, 0x08, 0xb); /* execute/read, accessed */
	flat(&sr.ds, 0x10, 0x3); /* read/write, accessed */
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.cr0 |= 1; /* PE */
	return kvm_vcpu_set_sregs(c->vcpu, &sr)
		       ?: kvm_vcpu_set_regs(c->vcpu, &r);
}

/*
 * With the in-kernel irqchip, KVM starts every VCPU but the boot CPU (ID 0)
 * waiting for INIT/SIPI. Multiboot VCPUs all start at their entry (AMP
 * style, as on the software CPU), so each is made runnable at once.
 */
static int make_runnable(struct kvm_cpu *c, const struct vcpu_config *cfg)
{
	if (!c->irqchip || cfg->apic_id == 0)
		return 0;
	return kvm_vcpu_set_runnable(c->vcpu);
}

/* A KVM VCPU in the runtime's shared VM if the machine made one, else in a
 * private one (which the VCPU alone then holds). */
static int create_vcpu(struct kvm_cpu *c, avm_ctx *ctx,
		       const struct vcpu_config *cfg)
{
	struct kvm_vm *vm;
	int err;

	if (cfg->kvm_vm && *cfg->kvm_vm)
		vm = kvm_vm_get(*cfg->kvm_vm);
	else if ((err = vcpu_kvm_vm_open(ctx, false, &vm)))
		return err;
	c->irqchip = kvm_vm_irqchip(vm);
	/* The VCPU ID is the initial APIC ID the in-kernel LAPIC reports. */
	err = kvm_vcpu_open(vm, cfg->apic_id, &c->vcpu);
	kvm_vm_put(vm); /* the VCPU holds its own reference */
	if (err)
		return err;
	c->run = kvm_vcpu_run_area(c->vcpu);
	return make_runnable(c, cfg);
}

static void kvm_fini(void *cpu)
{
	struct kvm_cpu *c = cpu;

	/* NULL: vcpu.c undoing an init that failed (and cleaned up). */
	if (!c)
		return;
	kvm_vcpu_close(c->vcpu);
	free(c);
}

static int kvm_init(void **out, avm_ctx *ctx, struct vcpu_bus *bus,
		    const struct vcpu_config *cfg, _Atomic uint64_t *exits)
{
	struct kvm_cpu *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->bus = bus;
	c->rt = avm_runtime_of(ctx);
	c->exits = exits;
	c->sig = cfg->kick_signal ? cfg->kick_signal : VCPU_KICK_SIGNAL_DEFAULT;
	c->thread = pthread_self(); /* init runs on the VCPU's own thread */
	err = create_vcpu(c, ctx, cfg) ?: enter_protected_mode(c, cfg)
					?: set_up_signal(c, ctx);
	if (err) {
		kvm_fini(c); /* closes what create_vcpu opened, if anything */
		return err;
	}
	*out = c;
	return 0;
}

static void do_io(struct kvm_cpu *c)
{
	struct kvm_run *r = c->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	unsigned size = r->io.size;
	uint64_t v;

	/* String I/O (rep ins/outs) comes as io.count items. */
	for (uint32_t i = 0; i < r->io.count; i++, data += size) {
		vcpu_count_exit(c->exits);
		if (r->io.direction == KVM_EXIT_IO_OUT) {
			v = 0;
			memcpy(&v, data, size);
			vcpu_bus_write(c->bus, AVM_SPACE_PIO, r->io.port, size,
				       v);
		} else {
			if (vcpu_bus_read(c->bus, AVM_SPACE_PIO, r->io.port,
					  size, &v))
				v = vcpu_bus_ones(size);
			memcpy(data, &v, size);
		}
	}
}

static void do_mmio(struct kvm_cpu *c)
{
	struct kvm_run *r = c->run;
	unsigned len = r->mmio.len;
	uint64_t v = 0;

	vcpu_count_exit(c->exits);
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return; /* not a single bus access: dropped */
	if (r->mmio.is_write) {
		memcpy(&v, r->mmio.data, len);
		vcpu_bus_write(c->bus, AVM_SPACE_MMIO, r->mmio.phys_addr, len,
			       v);
	} else {
		if (vcpu_bus_read(c->bus, AVM_SPACE_MMIO, r->mmio.phys_addr,
				  len, &v))
			v = vcpu_bus_ones(len);
		memcpy(r->mmio.data, &v, len);
	}
}

/*
 * After KVM_RUN returned -EINTR. The kernel restores the thread's signal
 * mask before returning, so the kick signal that interrupted it is still
 * pending, blocked: left there, every later KVM_RUN would fail at once with
 * -EINTR and the guest would never run again. Take it off with a zero
 * timeout wait. A kick landing between the two stores re-arms
 * immediate_exit or the signal, so it is never lost; it costs at most one
 * extra empty KVM_RUN.
 */
static void eat_kicks(struct kvm_cpu *c)
{
	const struct timespec zero = { 0, 0 };
	sigset_t set;

	/* Release pairs with nothing: the kernel reads it at KVM_RUN entry;
	 * the atomic only keeps the kicker's store and ours from tearing. */
	__atomic_store_n(&c->run->immediate_exit, 0, __ATOMIC_RELAXED);
	sigemptyset(&set);
	sigaddset(&set, c->sig);
	while (sigtimedwait(&set, NULL, &zero) == c->sig)
		;
}

/* EFLAGS bits a ring-0 IRETD may load: not VM (V86 return), not the
 * reserved ones; bit 1 is always set. */
#define IRET_FLAGS 0x003d7fd5u

/* The IRET frame at the stack top if the guest stopped on a plain IRETD
 * in flat 32-bit ring 0 without paging (where a GPA is the address). */
static uint32_t *iret_frame(struct kvm_cpu *c, const struct kvm_regs *r,
			    const struct kvm_sregs *sr)
{
	const uint8_t *op;

	if ((sr->cr0 & 0x80000001u) != 1 || !sr->cs.db || sr->cs.base ||
	    sr->ss.base || (sr->cs.selector & 3) || !sr->ss.db)
		return NULL;
	op = avm_ram_ptr(c->rt, (uint32_t)r->rip, 1);
	if (!op || *op != 0xcf)
		return NULL;
	return avm_ram_ptr(c->rt, (uint32_t)r->rsp, 12);
}

/*
 * PVM-based KVM cannot emulate a 32-bit IRET (KVM_EXIT_INTERNAL_ERROR,
 * KVM_INTERNAL_ERROR_EMULATION, with RIP on the IRET). The common case,
 * a same-privilege return to the same code segment, only pops EIP, CS and
 * EFLAGS, so it is done here. Anything else stays a failure. Never taken
 * on a KVM that emulates IRET itself.
 */
static int emulate_iret(struct kvm_cpu *c)
{
	struct kvm_sregs sr;
	struct kvm_regs r;
	uint32_t *f;

	if (c->run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION ||
	    kvm_vcpu_get_regs(c->vcpu, &r) || kvm_vcpu_get_sregs(c->vcpu, &sr))
		return -EINVAL;
	f = iret_frame(c, &r, &sr);
	if (!f || (uint16_t)f[1] != sr.cs.selector || (f[2] & (1u << 17)))
		return -EOPNOTSUPP; /* another segment, or to V86 mode */
	r.rip = f[0];
	r.rflags = (f[2] & IRET_FLAGS) | 2;
	r.rsp = (uint32_t)(r.rsp + 12);
	return kvm_vcpu_set_regs(c->vcpu, &r);
}

static enum vcpu_exit handle_exit(struct kvm_cpu *c)
{
	switch (c->run->exit_reason) {
	case KVM_EXIT_HLT:
		return VCPU_EXIT_HLT;
	case KVM_EXIT_IO:
		do_io(c);
		return VCPU_EXIT_SLICE;
	case KVM_EXIT_MMIO:
		do_mmio(c);
		return VCPU_EXIT_SLICE;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
	case KVM_EXIT_INTR:
		return VCPU_EXIT_SLICE;
	case KVM_EXIT_INTERNAL_ERROR:
		return emulate_iret(c) ? VCPU_EXIT_ERROR : VCPU_EXIT_SLICE;
	default: /* KVM_EXIT_SHUTDOWN (triple fault), internal errors */
		return VCPU_EXIT_ERROR;
	}
}

static enum vcpu_exit kvm_run_once(void *cpu, uint64_t insns)
{
	struct kvm_cpu *c = cpu;
	int err;

	(void)insns; /* KVM runs until an exit; kicks bound the wait */
	err = kvm_vcpu_run(c->vcpu);
	if (err) {
		if (err != -EINTR && err != -EAGAIN)
			return VCPU_EXIT_ERROR;
		eat_kicks(c);
		return VCPU_EXIT_KICK;
	}
	return handle_exit(c);
}

static bool kvm_irq_ready(void *cpu)
{
	struct kvm_cpu *c = cpu;
	struct kvm_run *r = c->run;

	/* The in-kernel local APIC delivers; nothing is injected here. */
	if (c->irqchip)
		return false;
	/* Both are as of the last exit, where the guest stopped. */
	if (r->ready_for_interrupt_injection && r->if_flag)
		return true;
	/* Ask KVM to exit (KVM_EXIT_IRQ_WINDOW_OPEN) as soon as the guest
	 * can take one: after its STI, or past a MOV SS/STI shadow. */
	r->request_interrupt_window = 1;
	return false;
}

static int kvm_inject(void *cpu, unsigned vector)
{
	struct kvm_cpu *c = cpu;

	/* KVM_INTERRUPT is for the user-space irqchip only (-ENXIO else). */
	if (c->irqchip)
		return -ENODEV;
	c->run->request_interrupt_window = 0;
	return kvm_vcpu_interrupt(c->vcpu, vector);
}

static bool kvm_kernel_irqchip(void *cpu)
{
	return ((struct kvm_cpu *)cpu)->irqchip;
}

static uint64_t kvm_reg(void *cpu, enum vcpu_reg reg)
{
	struct kvm_cpu *c = cpu;
	struct kvm_regs r;

	if (kvm_vcpu_get_regs(c->vcpu, &r))
		return 0;
	switch (reg) {
	case VCPU_REG_EIP:
		return r.rip;
	case VCPU_REG_EFLAGS:
		return r.rflags;
	case VCPU_REG_EAX:
		return r.rax;
	default:
		return 0;
	}
}

static void kvm_kick(void *cpu)
{
	struct kvm_cpu *c = cpu;

	/* immediate_exit covers a kick that lands just before KVM_RUN; the
	 * signal one that lands inside it. */
	__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_RELAXED);
	pthread_kill(c->thread, c->sig);
}

const struct vcpu_backend_ops vcpu_kvm_backend = {
	.name = "KVM",
	.init = kvm_init,
	.fini = kvm_fini,
	.run = kvm_run_once,
	.inject = kvm_inject,
	.irq_ready = kvm_irq_ready,
	.reg = kvm_reg,
	.kick = kvm_kick,
	.kernel_irqchip = kvm_kernel_irqchip,
};
