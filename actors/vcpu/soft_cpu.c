/* SPDX-License-Identifier: MIT */
/*
 * The software CPU backend: unicorn in 32-bit x86 mode. Guest RAM is mapped
 * straight from the runtime's RAM blocks (shared with device DMA); the rest
 * of the 4 GiB space is one MMIO window whose accesses, like port I/O, go
 * through the VCPU's accessor to whichever actor owns the address.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "backend.h"

#define PAGE 4096ull

struct soft_cpu {
	uc_engine *uc;
	struct vcpu_bus *bus;
	uint64_t mmio_base;
	_Atomic int kicked;
	_Atomic uint64_t *exits;
	uint64_t blocks, block_budget; /* this slice's translation blocks */
	bool want_window; /* an interrupt waits for IF: 1-block slices */
	uc_hook in_hook, out_hook, block_hook;
};

/* Instructions per translation block, roughly: slices are counted in
 * blocks (one hook per block) rather than instructions (one per insn). */
#define INSNS_PER_BLOCK 8
/* Blocks per slice while an interrupt waits for IF (see soft_run). */
#define WINDOW_BLOCKS 256

/* Nothing decodes the address: the bus floats, reads see all ones. */
static uint64_t mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *u)
{
	struct soft_cpu *c = u;
	uint64_t v;

	(void)uc;
	vcpu_count_exit(c->exits);
	if (vcpu_bus_read(c->bus, AVM_SPACE_MMIO, c->mmio_base + off, size, &v))
		v = vcpu_bus_ones(size);
	return v;
}

static void mmio_write(uc_engine *uc, uint64_t off, unsigned size,
		       uint64_t value, void *u)
{
	struct soft_cpu *c = u;

	(void)uc;
	vcpu_count_exit(c->exits);
	vcpu_bus_write(c->bus, AVM_SPACE_MMIO, c->mmio_base + off, size, value);
}

static uint32_t pio_in(uc_engine *uc, uint32_t port, int size, void *u)
{
	struct soft_cpu *c = u;
	uint64_t v;

	(void)uc;
	vcpu_count_exit(c->exits);
	if (vcpu_bus_read(c->bus, AVM_SPACE_PIO, port & 0xffff, (unsigned)size,
			  &v))
		v = vcpu_bus_ones((unsigned)size);
	return (uint32_t)v;
}

static void pio_out(uc_engine *uc, uint32_t port, int size, uint32_t value,
		    void *u)
{
	struct soft_cpu *c = u;

	(void)uc;
	vcpu_count_exit(c->exits);
	vcpu_bus_write(c->bus, AVM_SPACE_PIO, port & 0xffff, (unsigned)size,
		       value);
}

/*
 * RAM is read/write/execute (any of it may hold code a guest loads) and no
 * UC_HOOK_MEM_* hook is ever installed: unicorn 2.1 lets stores to a page
 * without translated code skip its slow path only then (docs/vcpu.md).
 */
static int map_memory(struct soft_cpu *c, avm_ctx *ctx)
{
	uint64_t gpa, size, top = 0;
	void *host;

	for (unsigned i = 0; !avm_ram_block(ctx, i, &gpa, &size, &host); i++) {
		if (gpa + size > (1ull << 32))
			return -ERANGE; /* a 32-bit CPU cannot reach it */
		if (uc_mem_map_ptr(c->uc, gpa, size, UC_PROT_ALL, host))
			return -ENOMEM;
		if (gpa + size > top)
			top = gpa + size;
	}
	c->mmio_base = (top + PAGE - 1) & ~(PAGE - 1);
	if (c->mmio_base >= (1ull << 32))
		return 0;
	return uc_mmio_map(c->uc, c->mmio_base, (1ull << 32) - c->mmio_base,
			   mmio_read, c, mmio_write, c)
		       ? -ENOMEM
		       : 0;
}

/*
 * Slices and kicks end at the start of a block, from this thread. Unicorn's
 * uc_emu_stop() called from another thread can leave EIP at the start of
 * a block that has partly run, so its instructions (MMIO writes included)
 * would run twice (unicorn-engine/unicorn#1355); its instruction count has
 * the same cost as a per-instruction hook. At a block's start, before any of
 * it ran, EIP is exact.
 */
static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *u)
{
	struct soft_cpu *c = u;

	(void)addr;
	(void)size;
	if (++c->blocks >= c->block_budget ||
	    atomic_load_explicit(&c->kicked, memory_order_relaxed))
		uc_emu_stop(uc);
}

static int add_hooks(struct soft_cpu *c)
{
	if (uc_hook_add(c->uc, &c->block_hook, UC_HOOK_BLOCK, on_block, c, 1,
			0) ||
	    uc_hook_add(c->uc, &c->in_hook, UC_HOOK_INSN, pio_in, c, 1, 0,
			UC_X86_INS_IN) ||
	    uc_hook_add(c->uc, &c->out_hook, UC_HOOK_INSN, pio_out, c, 1, 0,
			UC_X86_INS_OUT))
		return -ENOMEM;
	return 0;
}

static int set_entry(struct soft_cpu *c, const struct vcpu_config *cfg)
{
	uint32_t eip = cfg->entry, eax = cfg->eax, ebx = cfg->ebx;
	uint32_t eflags = 0x2; /* bit 1 is always set; IF clear */

	if (uc_reg_write(c->uc, UC_X86_REG_EIP, &eip) ||
	    uc_reg_write(c->uc, UC_X86_REG_EAX, &eax) ||
	    uc_reg_write(c->uc, UC_X86_REG_EBX, &ebx) ||
	    uc_reg_write(c->uc, UC_X86_REG_EFLAGS, &eflags))
		return -EINVAL;
	return 0;
}

static void soft_fini(void *cpu);

/* Which unicorn runs the guest matters: before 2.1 every guest store took
 * the code-invalidation slow path (docs/performance.md). */
static void log_version(avm_ctx *ctx)
{
	unsigned v = uc_version(NULL, NULL);
	unsigned major = v >> 24, minor = (v >> 16) & 0xff;
	bool slow = major < 2 || (major == 2 && minor < 1);

	avm_log(ctx, slow ? AVM_LOG_WARN : AVM_LOG_INFO,
		"software CPU: unicorn %u.%u.%u%s", major, minor,
		(v >> 8) & 0xff,
		slow ? " (before 2.1 every guest store takes its slow path,"
		       " ~75-140 ns: scripts/setup fetches 2.1.1)"
		     : "");
}

static int soft_init(void **out, avm_ctx *ctx, struct vcpu_bus *bus,
		     const struct vcpu_config *cfg, _Atomic uint64_t *exits)
{
	struct soft_cpu *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->bus = bus;
	c->exits = exits;
	log_version(ctx);
	if (uc_open(UC_ARCH_X86, UC_MODE_32, &c->uc)) {
		free(c);
		return -ENODEV;
	}
	err = map_memory(c, ctx);
	if (!err)
		err = add_hooks(c);
	if (!err)
		err = set_entry(c, cfg);
	if (err) {
		soft_fini(c);
		return err;
	}
	*out = c;
	return 0;
}

static void soft_fini(void *cpu)
{
	struct soft_cpu *c = cpu;

	if (!c)
		return;
	uc_close(c->uc);
	free(c);
}

static void soft_kick(void *cpu)
{
	struct soft_cpu *c = cpu;

	/* The next block's hook sees it (see on_block), and so does the
	 * next slice if it lands between two. */
	atomic_store(&c->kicked, 1);
}

static uint32_t reg32(struct soft_cpu *c, int id)
{
	uint32_t v = 0;

	uc_reg_read(c->uc, id, &v);
	return v;
}

static enum vcpu_exit soft_run(void *cpu, uint64_t insns)
{
	struct soft_cpu *c = cpu;
	uint32_t eip = reg32(c, UC_X86_REG_EIP);
	uint8_t op = 0;

	if (atomic_exchange(&c->kicked, 0))
		return VCPU_EXIT_KICK;
	c->blocks = 0;
	c->block_budget = insns / INSNS_PER_BLOCK ? insns / INSNS_PER_BLOCK : 1;
	/* The software interrupt window: with an interrupt pending and IF
	 * clear, come back soon, so the STI that opens the window is seen
	 * within a few thousand instructions rather than at the end of a
	 * long slice. Not after every block: code that runs long with
	 * interrupts off (a driver's set-up) would crawl. */
	if (c->want_window && c->block_budget > WINDOW_BLOCKS)
		c->block_budget = WINDOW_BLOCKS;
	if (uc_emu_start(c->uc, eip, 0xffffffffull, 0, 0))
		return VCPU_EXIT_ERROR;
	if (atomic_exchange(&c->kicked, 0))
		return VCPU_EXIT_KICK;
	/* Unicorn returns from hlt with EIP past it. */
	eip = reg32(c, UC_X86_REG_EIP);
	if (!uc_mem_read(c->uc, eip - 1, &op, 1) && op == 0xf4)
		return VCPU_EXIT_HLT;
	return VCPU_EXIT_SLICE;
}

static bool soft_irq_ready(void *cpu)
{
	struct soft_cpu *c = cpu;

	c->want_window = !(reg32(c, UC_X86_REG_EFLAGS) & (1u << 9));
	return !c->want_window;
}

/* Deliver @vector through the IDT as the CPU would for an external
 * interrupt in ring 0: push EFLAGS, CS, EIP; clear IF; jump to the gate. */
static int soft_inject(void *cpu, unsigned vector)
{
	struct soft_cpu *c = cpu;
	uc_x86_mmr idtr = { 0 };
	uint8_t gate[8];
	uint32_t frame[3], esp, eip, cs, eflags;
	uint16_t sel;
	uint8_t op = 0;

	if (uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr) ||
	    vector * 8 + 7 > idtr.limit ||
	    uc_mem_read(c->uc, idtr.base + vector * 8, gate, sizeof(gate)))
		return -EFAULT;
	if (!(gate[5] & 0x80))
		return -EFAULT; /* gate not present: the CPU would fault */
	eflags = reg32(c, UC_X86_REG_EFLAGS);
	cs = reg32(c, UC_X86_REG_CS);
	frame[0] = reg32(c, UC_X86_REG_EIP);
	/* Stopped right before a HLT (a block ends after STI): a CPU honours
	 * STI's interrupt shadow, halts, and wakes for this interrupt, so it
	 * returns past the HLT. Returning onto it would sleep for good. */
	if (!uc_mem_read(c->uc, frame[0], &op, 1) && op == 0xf4)
		frame[0]++;
	frame[1] = cs;
	frame[2] = eflags;
	esp = reg32(c, UC_X86_REG_ESP) - sizeof(frame);
	if (uc_mem_write(c->uc, esp, frame, sizeof(frame)))
		return -EFAULT;
	eip = gate[0] | gate[1] << 8 | (uint32_t)gate[6] << 16 |
	      (uint32_t)gate[7] << 24;
	sel = (uint16_t)(gate[2] | gate[3] << 8);
	eflags &= ~(1u << 9);
	uc_reg_write(c->uc, UC_X86_REG_ESP, &esp);
	uc_reg_write(c->uc, UC_X86_REG_EFLAGS, &eflags);
	uc_reg_write(c->uc, UC_X86_REG_EIP, &eip);
	/* Reloading CS is only needed if the gate names another selector. */
	if (sel != (uint16_t)cs) {
		cs = sel;
		if (uc_reg_write(c->uc, UC_X86_REG_CS, &cs))
			return -EFAULT;
	}
	return 0;
}

static uint64_t soft_reg(void *cpu, enum vcpu_reg r)
{
	struct soft_cpu *c = cpu;

	switch (r) {
	case VCPU_REG_EIP:
		return reg32(c, UC_X86_REG_EIP);
	case VCPU_REG_EFLAGS:
		return reg32(c, UC_X86_REG_EFLAGS);
	case VCPU_REG_EAX:
		return reg32(c, UC_X86_REG_EAX);
	default:
		return 0;
	}
}

const struct vcpu_backend_ops vcpu_soft_backend = {
	.name = "software CPU (unicorn)",
	.init = soft_init,
	.fini = soft_fini,
	.run = soft_run,
	.inject = soft_inject,
	.irq_ready = soft_irq_ready,
	.reg = soft_reg,
	.kick = soft_kick,
};
