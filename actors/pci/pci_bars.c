/* SPDX-License-Identifier: MIT */
/*
 * BARs: taking in what a device type declares (checked by the framework's
 * avm_pci_bar_problem()), the firmware-style initial assignment, and
 * keeping the address map in step with what the guest programs (BAR values
 * and the command register's decode bits).
 */
#include <errno.h>

#include <actorvm/runtime.h>

#include "pci_priv.h"

/* BAR @i of @ops into @b; the rules are the framework's, stated once. */
static int bar_init(struct pci_bar *b, const struct avm_device_ops *ops,
		    unsigned i, avm_ctx *ctx)
{
	const struct avm_pci_bar *d = &ops->pci->bars[i];
	const char *why = avm_pci_bar_problem(ops, i);
	bool io = d->flags & AVM_PCI_BAR_IO;

	if (why) {
		avm_log(ctx, AVM_LOG_ERROR, "%s: BAR%u (region %u): %s",
			ops->type, i, d->region, why);
		return -EINVAL;
	}
	if (!d->flags)
		return 0;
	b->size = (uint32_t)ops->regions[d->region].size;
	b->mask = ~(b->size - 1);
	b->io = io;
	b->type = io ? PCI_BAR_IO_SPACE
		     : (d->flags & AVM_PCI_BAR_PREFETCH ? PCI_BAR_PREFETCH : 0);
	b->region = d->region;
	b->value = b->type;
	return 0;
}

int pci_bars_init(const struct avm_device_ops *ops, struct pci_func *f,
		  avm_ctx *ctx)
{
	for (unsigned i = 0; i < AVM_PCI_MAX_BARS; i++) {
		int err = bar_init(&f->bar[i], ops, i, ctx);

		if (err)
			return err;
	}
	return 0;
}

/* The next unassigned BAR, largest first (ties in slot, BAR order). */
static struct pci_bar *largest_unassigned(struct pci_host *s,
					  const bool done[][AVM_PCI_MAX_BARS],
					  unsigned *fi, unsigned *bi)
{
	struct pci_bar *best = NULL;

	for (unsigned i = 0; i < s->n_func; i++)
		for (unsigned j = 0; j < AVM_PCI_MAX_BARS; j++) {
			struct pci_bar *b = &s->func[i].bar[j];

			if (!b->mask || done[i][j] ||
			    (best && b->size <= best->size))
				continue;
			best = b;
			*fi = i;
			*bi = j;
		}
	return best;
}

static void assign_one(struct pci_host *s, struct pci_bar *b, avm_ctx *ctx,
		       uint64_t *mem, uint64_t *io)
{
	uint64_t *cur = b->io ? io : mem;
	uint64_t limit = b->io ? s->io_limit : s->mem_limit;
	uint64_t align = b->size, addr;

	if (!b->io && align < PCI_MEM_MIN_ALIGN)
		align = PCI_MEM_MIN_ALIGN;
	addr = (*cur + align - 1) & ~(align - 1);
	if (addr + b->size > limit) {
		avm_log(ctx, AVM_LOG_WARN,
			"no room for a %s BAR of 0x%x bytes: left unassigned",
			b->io ? "I/O" : "memory", b->size);
		b->fw_value = b->type;
		return;
	}
	b->fw_value = (uint32_t)addr | b->type;
	*cur = addr + b->size;
}

/* As SeaBIOS does: largest BAR first, each naturally aligned, upwards
 * from the window's base. Bounded: each pass assigns one BAR. */
void pci_bars_assign(struct pci_host *s, avm_ctx *ctx)
{
	bool done[PCI_HOST_MAX_FUNCTIONS + 1][AVM_PCI_MAX_BARS] = { { false } };
	uint64_t mem = s->mem_base, io = s->io_base;
	struct pci_bar *b;
	unsigned fi = 0, bi = 0;

	while ((b = largest_unassigned(s, done, &fi, &bi))) {
		done[fi][bi] = true;
		assign_one(s, b, ctx, &mem, &io);
	}
}

static bool bar_wanted(const struct pci_func *f, const struct pci_bar *b)
{
	uint16_t decode = b->io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;

	return b->mask && (f->command & decode) && (b->value & b->mask);
}

static void bar_unmap(struct pci_func *f, struct pci_bar *b, avm_ctx *ctx)
{
	int err;

	if (!b->mapped ||
	    (bar_wanted(f, b) && (b->value & b->mask) == b->mapped_at))
		return;
	err = avm_unmap(avm_runtime_of(ctx), f->actor, b->region);
	if (err && err != -ENOENT) {
		/* Still mapped (out of memory): tried again next update. */
		avm_log(ctx, AVM_LOG_WARN, "%02x.%x: unmap failed: %d", f->slot,
			f->fn, err);
		return;
	}
	b->mapped = false;
}

static void bar_map(struct pci_func *f, struct pci_bar *b, avm_ctx *ctx)
{
	uint32_t addr = b->value & b->mask;
	int err;

	if (b->mapped || !bar_wanted(f, b))
		return;
	err = avm_map(avm_runtime_of(ctx), f->actor, b->region, addr);
	if (!err) {
		b->mapped = true;
		b->mapped_at = addr;
		b->map_err = 0;
		return;
	}
	/* Overlap (-EBUSY), beyond the port space (-ERANGE)...: the region
	 * stays unmapped, as QEMU leaves a BAR it cannot place. */
	if (err != b->map_err || addr != b->err_at)
		avm_log(ctx, AVM_LOG_WARN,
			"%02x.%x: %s BAR at 0x%x not decoded: %d", f->slot,
			f->fn, b->io ? "I/O" : "memory", addr, err);
	b->map_err = err;
	b->err_at = addr;
}

/*
 * Bring the address map in line with every function's BARs and decode
 * bits. All unmaps come first, so two BARs that swap places both end up
 * mapped; a BAR that failed to map (it overlapped another) is tried again,
 * so it appears once the other one moves away.
 */
void pci_bars_update(struct pci_host *s, avm_ctx *ctx)
{
	for (unsigned i = 1; i < s->n_func; i++)
		for (unsigned j = 0; j < AVM_PCI_MAX_BARS; j++)
			bar_unmap(&s->func[i], &s->func[i].bar[j], ctx);
	for (unsigned i = 1; i < s->n_func; i++)
		for (unsigned j = 0; j < AVM_PCI_MAX_BARS; j++)
			bar_map(&s->func[i], &s->func[i].bar[j], ctx);
}

/* Bus mastering off: the function's DMA is refused (a master abort). */
void pci_master_update(struct pci_host *s, avm_ctx *ctx)
{
	for (unsigned i = 1; i < s->n_func; i++) {
		const struct pci_func *f = &s->func[i];

		avm_dma_enable(avm_runtime_of(ctx), f->actor,
			       f->command & PCI_COMMAND_MASTER);
	}
}
