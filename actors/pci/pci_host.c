/* SPDX-License-Identifier: MIT */
/*
 * The PCI host: configuration mechanism #1 at 0xCF8/0xCFC (PCI Local Bus
 * 3.0 §3.2.2.3.2), bus 0 with an i440FX host bridge at 00:00.0 and the
 * configured functions, firmware-style set-up at init and reset.
 */
#include <errno.h>

#include <actorvm/runtime.h>

#include "pci_priv.h"

/* Reserved CONFIG_ADDRESS bits 30:24 and 1:0 read 0. */
#define PCI_CONFIG_ADDR_MASK 0x80fffffcu

static const struct avm_region_desc pci_host_regions[] = {
	{ .name = "config", .space = AVM_SPACE_PIO, .size = 8 },
};

/* QEMU's pc: i440FX revision 2, QEMU's default subsystem 1af4:1100. */
static const struct avm_pci_info pci_i440fx = {
	.vendor_id = 0x8086,
	.device_id = 0x1237,
	.subsystem_vendor_id = 0x1af4,
	.subsystem_id = 0x1100,
	.class_code = 0x060000, /* bridge, host */
	.revision = 0x02,
};

unsigned pci_intx_irq(unsigned slot, unsigned pin)
{
	static const unsigned pirq_irq[4] = { 10, 10, 11, 11 };

	if (pin < 1 || pin > 4)
		return 0;
	return pirq_irq[(slot - 1 + pin - 1) & 3];
}

static struct pci_func *find_func(struct pci_host *s, unsigned slot,
				  unsigned fn)
{
	for (unsigned i = 0; i < s->n_func; i++)
		if (s->func[i].slot == slot && s->func[i].fn == fn)
			return &s->func[i];
	return NULL;
}

/* The function CONFIG_ADDRESS selects, or NULL (reads all ones). */
static struct pci_func *selected(struct pci_host *s)
{
	uint32_t ca = s->config_address;

	if (!(ca & PCI_CONFIG_ENABLE) || ((ca >> 16) & 0xff))
		return NULL; /* disabled, or a bus that does not exist */
	return find_func(s, (ca >> 11) & 0x1f, (ca >> 8) & 7);
}

static uint64_t ones(unsigned size)
{
	return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

static bool lane_ok(uint64_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off + size <= 4 &&
	       !(off & (size - 1));
}

static uint64_t data_read(struct pci_host *s, uint64_t off, unsigned size)
{
	struct pci_func *f = selected(s);
	uint32_t v;

	if (!f || !lane_ok(off, size))
		return ones(size);
	v = pci_cfg_read(f, s->config_address & 0xfc);
	return (v >> (8 * off)) & ones(size);
}

static void data_write(struct pci_host *s, uint64_t off, unsigned size,
		       uint64_t val, avm_ctx *ctx)
{
	struct pci_func *f = selected(s);
	uint16_t master;

	if (!f || !lane_ok(off, size))
		return; /* absent function, odd access: ignored */
	master = f->command & PCI_COMMAND_MASTER;
	if (!pci_cfg_write(f, s->config_address & 0xfc,
			   (uint32_t)(val << (8 * off)),
			   (unsigned)(((1u << size) - 1) << off)))
		return;
	if (f->actor == AVM_ACTOR_NONE)
		return; /* the bridge decodes nothing of its own */
	pci_bars_update(s, ctx);
	if (master != (f->command & PCI_COMMAND_MASTER))
		avm_dma_enable(avm_runtime_of(ctx), f->actor,
			       f->command & PCI_COMMAND_MASTER);
}

/* Port 0xCF8 decodes CONFIG_ADDRESS for dword accesses only; other sizes
 * would go to the ISA bus on a PIIX (e.g. 0xCF9, reset control, which is
 * not emulated here): they read all ones and writes are ignored. */
static void access(struct pci_host *s, const struct avm_msg *m, avm_ctx *ctx)
{
	bool addr_reg = m->access.offset == 0 && m->access.size == 4;

	if (m->kind == AVM_MSG_READ) {
		if (addr_reg)
			avm_reply(ctx, s->config_address);
		else if (m->access.offset >= 4)
			avm_reply(ctx, data_read(s, m->access.offset - 4,
						 m->access.size));
		else
			avm_reply(ctx, ones(m->access.size));
		return;
	}
	if (addr_reg)
		s->config_address =
			(uint32_t)m->access.value & PCI_CONFIG_ADDR_MASK;
	else if (m->access.offset >= 4)
		data_write(s, m->access.offset - 4, m->access.size,
			   m->access.value, ctx);
}

static void pci_host_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	if ((m->kind == AVM_MSG_READ || m->kind == AVM_MSG_WRITE) &&
	    m->access.region == 0)
		access(state, m, ctx);
	else if (m->kind == AVM_MSG_READ)
		avm_reply_error(ctx, -EINVAL);
}

/* Firmware's state: BARs assigned, IO|MEM decode, no bus mastering (the
 * OS driver turns it on), interrupt line routed. */
static void firmware_state(struct pci_host *s, avm_ctx *ctx)
{
	s->config_address = 0;
	for (unsigned i = 0; i < s->n_func; i++) {
		struct pci_func *f = &s->func[i];

		f->command = f->fw_command;
		f->status = 0;
		f->line = f->fw_line;
		for (unsigned j = 0; j < AVM_PCI_MAX_BARS; j++)
			f->bar[j].value = f->bar[j].fw_value;
	}
	pci_bars_update(s, ctx);
	pci_master_update(s, ctx);
}

static int check_function(const struct pci_host *s,
			  const struct pci_host_function *hf, avm_ctx *ctx)
{
	const struct avm_pci_info *p = hf->ops ? hf->ops->pci : NULL;

	if (!p || hf->slot < 1 || hf->slot > 31 || hf->function > 7 ||
	    p->vendor_id == 0xffff || p->interrupt_pin > 4 ||
	    p->class_code > 0xffffff ||
	    !avm_actor_name(avm_runtime_of(ctx), hf->actor))
		goto bad;
	if (find_func((struct pci_host *)s, hf->slot, hf->function))
		goto bad;
	return 0;
bad:
	avm_log(ctx, AVM_LOG_ERROR,
		"bad function at slot %u function %u (ops, ids, duplicate?)",
		hf->slot, hf->function);
	return -EINVAL;
}

static int add_function(struct pci_host *s, const struct pci_host_function *hf,
			avm_ctx *ctx)
{
	struct pci_func *f = &s->func[s->n_func];
	int err = check_function(s, hf, ctx);

	if (err)
		return err;
	f->actor = hf->actor;
	f->info = hf->ops->pci;
	f->slot = (uint8_t)hf->slot;
	f->fn = (uint8_t)hf->function;
	f->fw_command = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
	f->fw_line = (uint8_t)pci_intx_irq(f->slot, f->info->interrupt_pin);
	err = pci_bars_init(hf->ops, f, ctx);
	if (!err)
		s->n_func++;
	return err;
}

/* Guests probe function 0 of a slot and look further only if its header
 * type says multi-function. */
static int link_slots(struct pci_host *s, avm_ctx *ctx)
{
	for (unsigned i = 1; i < s->n_func; i++) {
		struct pci_func *f = &s->func[i];

		if (!find_func(s, f->slot, 0)) {
			avm_log(ctx, AVM_LOG_ERROR, "slot %u has no function 0",
				f->slot);
			return -EINVAL;
		}
		for (unsigned j = 1; j < s->n_func; j++)
			if (j != i && s->func[j].slot == f->slot)
				f->header_type |= PCI_HEADER_MULTI;
	}
	return 0;
}

static int set_windows(struct pci_host *s, const struct pci_host_config *c)
{
	s->mem_base = c->mem_base ? c->mem_base : PCI_HOST_MEM_BASE;
	s->mem_limit = c->mem_limit ? c->mem_limit : PCI_HOST_MEM_LIMIT;
	s->io_base = c->io_base ? c->io_base : PCI_HOST_IO_BASE;
	s->io_limit = c->io_limit ? c->io_limit : PCI_HOST_IO_LIMIT;
	if (s->mem_base >= s->mem_limit || s->mem_limit > 0x100000000ull ||
	    s->io_base >= s->io_limit || s->io_limit > 0x10000)
		return -EINVAL;
	return 0;
}

static int pci_host_init(void *state, const void *config, avm_ctx *ctx)
{
	static const struct pci_host_config none = { 0 };
	const struct pci_host_config *c = config ? config : &none;
	struct pci_host *s = state;
	int err;

	if (c->n_functions > PCI_HOST_MAX_FUNCTIONS ||
	    (c->n_functions && !c->functions) || set_windows(s, c)) {
		avm_log(ctx, AVM_LOG_ERROR, "bad configuration");
		return -EINVAL;
	}
	s->func[0] = (struct pci_func){ .actor = AVM_ACTOR_NONE,
					.info = &pci_i440fx,
					.fw_command = PCI_COMMAND_IO |
						      PCI_COMMAND_MEMORY };
	s->n_func = 1;
	for (unsigned i = 0; i < c->n_functions; i++) {
		err = add_function(s, &c->functions[i], ctx);
		if (err)
			return err;
	}
	err = link_slots(s, ctx);
	if (err)
		return err;
	pci_bars_assign(s, ctx);
	firmware_state(s, ctx);
	return 0;
}

static void pci_host_reset(void *state, avm_ctx *ctx)
{
	firmware_state(state, ctx);
}

const struct avm_device_ops pci_host_ops = {
	.type = "pci-host",
	.doc = "PCI bus 0: i440FX host bridge, config mechanism #1 at 0xCF8",
	.state_size = sizeof(struct pci_host),
	.regions = pci_host_regions,
	.n_regions = 1,
	.init = pci_host_init,
	.handle = pci_host_handle,
	.reset = pci_host_reset,
};
