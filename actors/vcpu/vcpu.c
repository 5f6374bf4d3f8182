/* SPDX-License-Identifier: MIT */
/* The VCPU actor: a self-driven loop of guest slices, interrupt delivery,
 * HLT and pause, around a host backend. */
#include "vcpu.h"

#include <errno.h>
#include <string.h>

#include "backend.h"
#include "irqchip.h"
#include "lapic.h"

#define DEFAULT_SLICE 100000

enum { ST_RUNNING, ST_HALTED, ST_PAUSED, ST_FAILED };

/* Port 0 tells the IOAPIC about EOIs; ports 1.. reach the other VCPUs by
 * local APIC ID, for IPIs. */
enum { PORT_IRQCHIP = 0, PORT_CPU0 = 1 };
static const char *const vcpu_ports[1 + IRQCHIP_MAX_CPUS] = {
	"irqchip", "cpu0",  "cpu1",  "cpu2",  "cpu3",  "cpu4",
	"cpu5",	   "cpu6",  "cpu7",  "cpu8",  "cpu9",  "cpu10",
	"cpu11",   "cpu12", "cpu13", "cpu14", "cpu15",
};

#define LAPIC_TIMER_ID 0

struct vcpu {
	struct vcpu_config cfg;
	const struct vcpu_backend_ops *be;
	void *cpu;
	avm_accessor *acc;
	/* The context of the callback running now (run(), or a handler it
	 * polls): a ctx lives for one callback only, so this is set on entry
	 * and cleared on return, and the local APIC's callbacks use it only
	 * from inside one. NULL outside every callback. */
	avm_ctx *ctx;
	struct lapic lapic;  /* this VCPU's own: only its thread touches it */
	uint64_t pending[4]; /* external (8259-style) interrupts, by vector */
	bool halted, paused, failed;
	bool kernel_irqchip; /* the host's irqchip: no APIC page, no injection
			      */
	uint64_t irqs;
	_Atomic uint64_t exits;
};

static const struct avm_region_desc vcpu_regions[] = {
	{ .name = "state", .space = AVM_SPACE_MMIO, .size = 0x30 },
};

static int pick_backend(struct vcpu *v, avm_ctx *ctx)
{
	char why[128] = "";
	bool kvm = vcpu_kvm_usable(why, sizeof(why));

	if (v->cfg.backend == VCPU_BACKEND_KVM && !kvm) {
		avm_log(ctx, AVM_LOG_ERROR, "KVM requested but unusable: %s",
			why);
		return -ENODEV;
	}
	v->be = kvm && v->cfg.backend != VCPU_BACKEND_SOFT ? &vcpu_kvm_backend
							   : &vcpu_soft_backend;
	if (v->cfg.backend == VCPU_BACKEND_AUTO && !kvm)
		avm_log(ctx, AVM_LOG_INFO, "running on the %s (%s)",
			v->be->name, why);
	else
		avm_log(ctx, AVM_LOG_INFO, "running on %s", v->be->name);
	return 0;
}

/* --- The local APIC's way out ------------------------------------------- */

static void lapic_ipi(void *arg, uint8_t apic_id, uint8_t vector)
{
	struct vcpu *v = arg;
	struct avm_msg m = { .kind = IRQCHIP_MSG_IPI, .user.value = vector };

	/* An ID with no VCPU behind it: the message goes nowhere. */
	if (apic_id < IRQCHIP_MAX_CPUS)
		avm_send_via(v->ctx, PORT_CPU0 + apic_id, &m);
}

static void lapic_eoi(void *arg, uint8_t vector)
{
	struct vcpu *v = arg;
	struct avm_msg m = { .kind = IRQCHIP_MSG_EOI, .user.value = vector };

	avm_send_via(v->ctx, PORT_IRQCHIP, &m);
}

static void lapic_timer_arm(void *arg, uint64_t delay_ns)
{
	struct vcpu *v = arg;

	avm_timer_arm(v->ctx, LAPIC_TIMER_ID, delay_ns, 0);
}

static void lapic_timer_cancel(void *arg)
{
	struct vcpu *v = arg;

	avm_timer_cancel(v->ctx, LAPIC_TIMER_ID);
}

static uint64_t lapic_now(void *arg)
{
	struct vcpu *v = arg;

	return avm_now(v->ctx);
}

static const struct lapic_ops vcpu_lapic_ops = {
	.ipi = lapic_ipi,
	.eoi = lapic_eoi,
	.timer_arm = lapic_timer_arm,
	.timer_cancel = lapic_timer_cancel,
	.now = lapic_now,
};

/* --- The bus as this VCPU sees it ---------------------------------------- */

static bool in_lapic(enum avm_space space, uint64_t addr, unsigned size)
{
	return space == AVM_SPACE_MMIO && addr >= LAPIC_BASE &&
	       addr + size <= LAPIC_BASE + LAPIC_SIZE;
}

int vcpu_bus_read(struct vcpu_bus *bus, enum avm_space space, uint64_t addr,
		  unsigned size, uint64_t *val)
{
	struct vcpu *v = (struct vcpu *)bus;
	uint32_t off = (uint32_t)(addr - LAPIC_BASE), reg;

	if (v->kernel_irqchip || !in_lapic(space, addr, size))
		return avm_read(v->acc, space, addr, size, val);
	/* Registers are 32 bits on 16-byte boundaries; a narrower read sees
	 * its bytes of the register. */
	reg = lapic_read(&v->lapic, off & ~3u);
	*val = (reg >> ((off & 3) * 8)) &
	       (size >= 4 ? ~0u : (1u << size * 8) - 1);
	return 0;
}

int vcpu_bus_write(struct vcpu_bus *bus, enum avm_space space, uint64_t addr,
		   unsigned size, uint64_t val)
{
	struct vcpu *v = (struct vcpu *)bus;

	if (v->kernel_irqchip || !in_lapic(space, addr, size))
		return avm_write(v->acc, space, addr, size, val);
	/* Only aligned 32-bit writes reach a register (the SDM leaves other
	 * sizes undefined; dropping them is the safe choice). */
	if (size == 4 && !(addr & 3))
		lapic_write(&v->lapic, (uint32_t)(addr - LAPIC_BASE),
			    (uint32_t)val);
	return 0;
}

static int vcpu_init(void *state, const void *config, avm_ctx *ctx)
{
	struct vcpu *v = state;
	int err;

	if (!config)
		return -EINVAL;
	v->cfg = *(const struct vcpu_config *)config;
	if (!v->cfg.slice_insns)
		v->cfg.slice_insns = DEFAULT_SLICE;
	/* lapic_init() calls none of its ops: v->ctx stays NULL. */
	lapic_init(&v->lapic, v->cfg.apic_id, &vcpu_lapic_ops, v);
	/* Our thread's accessor: guest accesses are this thread's sends. */
	err = avm_accessor_new(avm_runtime_of(ctx), "vcpu", &v->acc);
	if (err)
		return err;
	err = pick_backend(v, ctx);
	if (!err)
		err = v->be->init(&v->cpu, ctx, (struct vcpu_bus *)v, &v->cfg,
				  &v->exits);
	if (!err)
		v->kernel_irqchip =
			v->be->kernel_irqchip && v->be->kernel_irqchip(v->cpu);
	if (!err)
		err = avm_set_kick(ctx, v->be->kick, v->cpu);
	if (err) {
		if (v->be)
			v->be->fini(v->cpu);
		avm_accessor_free(v->acc);
	}
	return err;
}

static void vcpu_fini(void *state)
{
	struct vcpu *v = state;

	v->be->fini(v->cpu);
	avm_accessor_free(v->acc);
}

static uint64_t state_of(const struct vcpu *v)
{
	return v->failed   ? ST_FAILED
	       : v->paused ? ST_PAUSED
	       : v->halted ? ST_HALTED
			   : ST_RUNNING;
}

static void answer(struct vcpu *v, const struct avm_msg *m, avm_ctx *ctx)
{
	switch (m->access.offset) {
	case VCPU_REG_STATE:
		avm_reply(ctx, state_of(v));
		return;
	case VCPU_REG_EXITS:
		avm_reply(ctx, atomic_load(&v->exits));
		return;
	case VCPU_REG_IRQS:
		avm_reply(ctx, v->irqs);
		return;
	default:
		break;
	}
	/* CPU registers are only stable while the CPU does not run. */
	if (!v->paused && !v->failed)
		avm_reply_error(ctx, -EBUSY);
	else
		avm_reply(ctx,
			  v->be->reg(v->cpu, (enum vcpu_reg)m->access.offset));
}

static void pend_vector(struct vcpu *v, uint64_t vector)
{
	vector &= 255;
	v->pending[vector / 64] |= 1ull << (vector % 64);
}

/* An interrupt message: through the local APIC when it carries a route
 * word, else an external interrupt (a vector bound straight here). */
static void on_irq(struct vcpu *v, const struct avm_msg *m)
{
	if (!m->irq.level)
		return; /* deassertion: level EOIs re-check at the IOAPIC */
	if (m->irq.line & IRQ_ROUTE_APIC)
		lapic_accept(&v->lapic, irq_route_vector(m->irq.line),
			     m->irq.line & IRQ_ROUTE_LEVEL);
	else
		pend_vector(v, m->irq.line);
}

static void vcpu_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct vcpu *v = state;
	avm_ctx *outer = v->ctx;

	/* What the local APIC sends while handling this goes from here. */
	v->ctx = ctx;
	switch (m->kind) {
	case VCPU_MSG_INTERRUPT:
		pend_vector(v, m->user.value);
		break;
	case AVM_MSG_IRQ:
		on_irq(v, m);
		break;
	case IRQCHIP_MSG_IPI:
		lapic_accept(&v->lapic, (uint8_t)m->user.value, false);
		break;
	case AVM_MSG_TIMER:
		if (m->timer.id == LAPIC_TIMER_ID)
			lapic_timer_expired(&v->lapic);
		break;
	case VCPU_MSG_PAUSE:
		v->paused = true;
		break;
	case VCPU_MSG_RESUME:
		v->paused = false;
		break;
	case AVM_MSG_READ:
		answer(v, m, ctx);
		break;
	default:
		break;
	}
	v->ctx = outer;
}

/*
 * This CPU cannot go on. A real PC shuts down on a triple fault (QEMU with
 * -no-reboot exits): the VM ends, or its runner would wait for ever for an
 * exit the guest can no longer make. The VCPU stays readable (state FAILED,
 * its registers) for whoever looks before the VM is stopped.
 */
static void fail(struct vcpu *v, avm_ctx *ctx)
{
	v->failed = true;
	avm_vm_exit(ctx, AVM_VM_EXIT_FAILED);
}

/* The highest pending vector, as the local APIC would prioritise. */
static int next_vector(const struct vcpu *v)
{
	for (int w = 3; w >= 0; w--)
		if (v->pending[w])
			return w * 64 + 63 - __builtin_clzll(v->pending[w]);
	return -1;
}

/* External interrupts first (they bypass the local APIC, as the 8259's
 * INTR does), then the local APIC's highest deliverable vector. */
static void deliver(struct vcpu *v, avm_ctx *ctx)
{
	int vec = next_vector(v);
	bool apic = vec < 0;

	if (apic)
		vec = lapic_pending(&v->lapic);
	if (vec < 0 || !v->be->irq_ready(v->cpu))
		return;
	if (apic)
		lapic_ack(&v->lapic, (uint8_t)vec);
	else
		v->pending[vec / 64] &= ~(1ull << (vec % 64));
	if (v->be->inject(v->cpu, (unsigned)vec)) {
		/* No usable gate: a real CPU would triple-fault. */
		avm_log(ctx, AVM_LOG_ERROR,
			"vector %d has no usable IDT gate: the VM shuts down",
			vec);
		fail(v, ctx);
		return;
	}
	v->irqs++;
	v->halted = false;
}

static void step(struct vcpu *v, avm_ctx *ctx)
{
	switch (v->be->run(v->cpu, v->cfg.slice_insns)) {
	case VCPU_EXIT_HLT:
		v->halted = true;
		break;
	case VCPU_EXIT_ERROR:
		avm_log(ctx, AVM_LOG_ERROR,
			"guest stopped at EIP 0x%llx: the VM shuts down",
			(unsigned long long)v->be->reg(v->cpu, VCPU_REG_EIP));
		fail(v, ctx);
		break;
	default:
		break;
	}
}

static int vcpu_run(void *state, avm_ctx *ctx)
{
	struct vcpu *v = state;
	int err;

	v->ctx = ctx;
	while (!(err = avm_poll(ctx))) {
		if (!v->paused && !v->failed && !v->kernel_irqchip)
			deliver(v, ctx);
		if (v->paused || v->failed || v->halted) {
			err = avm_wait(ctx, -1);
			if (err == -ESHUTDOWN)
				break;
			continue;
		}
		step(v, ctx);
	}
	v->ctx = NULL; /* the thread may go on serving handlers without run() */
	return err;
}

const struct avm_device_ops vcpu_ops = {
	.type = "vcpu",
	.doc = "x86 VCPU on KVM or the software CPU (unicorn), with its local "
	       "APIC",
	.state_size = sizeof(struct vcpu),
	.regions = vcpu_regions,
	.n_regions = 1,
	.ports = vcpu_ports,
	.n_ports = 1 + IRQCHIP_MAX_CPUS,
	.init = vcpu_init,
	.handle = vcpu_handle,
	.fini = vcpu_fini,
	.run = vcpu_run,
};
