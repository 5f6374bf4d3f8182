/* SPDX-License-Identifier: MIT */
#include "fakepci.h"

#include <string.h>

struct fakepci {
	uint8_t io_scratch;
	uint64_t scratch;
	uint64_t dma_addr;
	int64_t dma_status;
};

static const struct avm_region_desc fakepci_regions[] = {
	{ .name = "io", .space = AVM_SPACE_PIO, .size = FAKEPCI_IO_SIZE },
	{ .name = "mem", .space = AVM_SPACE_MMIO, .size = FAKEPCI_MEM_SIZE },
};

static const char *const fakepci_ports[] = { "irq" };

static const struct avm_pci_info fakepci_pci = {
	.vendor_id = FAKEPCI_VENDOR_ID,
	.device_id = FAKEPCI_DEVICE_ID,
	.subsystem_vendor_id = 0x1af4,
	.subsystem_id = 0x1100,
	.class_code = 0xff0000,
	.revision = 0x01,
	.interrupt_pin = 2,
	.bars = {
		[0] = { .region = FAKEPCI_REGION_IO, .flags = AVM_PCI_BAR_IO },
		[2] = { .region = FAKEPCI_REGION_MEM,
			.flags = AVM_PCI_BAR_MEM | AVM_PCI_BAR_PREFETCH },
	},
};

static uint64_t mem_read(const struct fakepci *s, uint64_t off)
{
	switch (off) {
	case FAKEPCI_ID:
		return FAKEPCI_ID_VALUE;
	case FAKEPCI_SCRATCH:
		return s->scratch;
	case FAKEPCI_DMA_ADDR:
		return s->dma_addr;
	case FAKEPCI_DMA_STATUS:
		return (uint64_t)s->dma_status;
	default:
		return 0;
	}
}

static void mem_write(struct fakepci *s, uint64_t off, uint64_t v, avm_ctx *ctx)
{
	uint32_t word = FAKEPCI_DMA_WORD;

	if (off == FAKEPCI_SCRATCH)
		s->scratch = v;
	else if (off == FAKEPCI_DMA_ADDR)
		s->dma_addr = v;
	else if (off == FAKEPCI_DMA_GO)
		s->dma_status = avm_dma_write(ctx, s->dma_addr, &word, 4);
}

static void fakepci_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct fakepci *s = state;
	bool io = m->access.region == FAKEPCI_REGION_IO;

	if (m->kind == AVM_MSG_READ)
		avm_reply(ctx, io ? (m->access.offset ? 0 : s->io_scratch)
				  : mem_read(s, m->access.offset));
	else if (m->kind == AVM_MSG_WRITE && io && m->access.offset == 0)
		s->io_scratch = (uint8_t)m->access.value;
	else if (m->kind == AVM_MSG_WRITE && !io)
		mem_write(s, m->access.offset, m->access.value, ctx);
}

static void fakepci_reset(void *state, avm_ctx *ctx)
{
	(void)ctx;
	memset(state, 0, sizeof(struct fakepci));
}

const struct avm_device_ops fakepci_ops = {
	.type = "fakepci",
	.doc = "PCI host test function: I/O BAR, 64 KiB memory BAR, DMA",
	.state_size = sizeof(struct fakepci),
	.regions = fakepci_regions,
	.n_regions = 2,
	.ports = fakepci_ports,
	.n_ports = 1,
	.handle = fakepci_handle,
	.reset = fakepci_reset,
	.pci = &fakepci_pci,
};
