/* SPDX-License-Identifier: MIT */
#include "testdev.h"

#include <errno.h>
#include <string.h>

#define DEFAULT_ID    0x7e57de7ull
#define DIRECT_ID     0
#define DIRECT_SHADOW 1

struct testdev {
	struct testdev_config cfg;
	uint64_t scratch;
	uint64_t writes;
	uint64_t shadow;
	bool irq_level;
	uint64_t ticks;
	uint64_t dma_addr, dma_len, dma_sum;
	int64_t dma_status;
	uint64_t work_left, work_done;
	uint64_t seq_last[TESTDEV_MAX_PRODUCERS];
	uint64_t seq_bad, seq_total;
	uint64_t irq_in;
	uint64_t pings;
	uint8_t pio_scratch;
	volatile uint64_t sink;
};

static const struct avm_direct_reg testdev_direct[] = {
	{ .offset = TESTDEV_ID, .size = 8, .slot = DIRECT_ID },
	{ .offset = TESTDEV_SHADOW, .size = 8, .slot = DIRECT_SHADOW },
};

static const struct avm_region_desc testdev_regions[] = {
	{ .name = "regs",
	  .space = AVM_SPACE_MMIO,
	  .size = TESTDEV_MMIO_SIZE,
	  .direct = testdev_direct,
	  .n_direct = 2 },
	{ .name = "pio", .space = AVM_SPACE_PIO, .size = TESTDEV_PIO_SIZE },
};

static const char *const testdev_ports[] = { "irq", "out" };

/* The one place that decides the line; a message only on a change. */
static void update_irq(struct testdev *s, avm_ctx *ctx, bool level)
{
	if (level == s->irq_level)
		return;
	s->irq_level = level;
	avm_irq_set(ctx, TESTDEV_PORT_IRQ, level);
}

static void power_on(struct testdev *s, avm_ctx *ctx)
{
	struct testdev_config cfg = s->cfg;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	avm_direct_set(ctx, DIRECT_ID, cfg.id);
	avm_direct_set(ctx, DIRECT_SHADOW, 0);
}

static int testdev_init(void *state, const void *config, avm_ctx *ctx)
{
	struct testdev *s = state;

	if (config)
		s->cfg = *(const struct testdev_config *)config;
	if (!s->cfg.id)
		s->cfg.id = DEFAULT_ID;
	if (!s->cfg.chunk_spin)
		s->cfg.chunk_spin = 100;
	power_on(s, ctx);
	return 0;
}

static void testdev_reset(void *state, avm_ctx *ctx)
{
	struct testdev *s = state;
	bool was = s->irq_level;

	avm_timer_cancel(ctx, 0);
	power_on(s, ctx);
	s->irq_level = was;
	update_irq(s, ctx, false);
}

static void dma_fill(struct testdev *s, avm_ctx *ctx)
{
	uint8_t buf[TESTDEV_DMA_MAX];

	for (uint64_t i = 0; i < s->dma_len; i++)
		buf[i] = (uint8_t)(i + s->scratch);
	s->dma_status = avm_dma_write(ctx, s->dma_addr, buf, s->dma_len);
}

static void dma_sum(struct testdev *s, avm_ctx *ctx)
{
	uint8_t buf[TESTDEV_DMA_MAX];
	uint64_t token;

	s->dma_sum = 0;
	s->dma_status = avm_dma_read(ctx, s->dma_addr, buf, s->dma_len, &token);
	if (s->dma_status)
		return;
	for (uint64_t i = 0; i < s->dma_len; i++)
		s->dma_sum += buf[i];
}

static void dma_cmd(struct testdev *s, avm_ctx *ctx, uint64_t cmd)
{
	/* Bad guest values get a defined error, not a host access. */
	if (s->dma_len > TESTDEV_DMA_MAX) {
		s->dma_status = -EINVAL;
		return;
	}
	if (cmd == 1)
		dma_fill(s, ctx);
	else if (cmd == 2)
		dma_sum(s, ctx);
	else
		s->dma_status = -EINVAL;
}

static void seq_write(struct testdev *s, uint64_t v)
{
	uint64_t producer = v >> 32, seq = v & 0xffffffffu;

	s->seq_total++;
	if (producer >= TESTDEV_MAX_PRODUCERS ||
	    seq != s->seq_last[producer] + 1)
		s->seq_bad++;
	if (producer < TESTDEV_MAX_PRODUCERS)
		s->seq_last[producer] = seq;
}

static void work_chunk(struct testdev *s, avm_ctx *ctx)
{
	for (uint64_t i = 0; i < s->cfg.chunk_spin; i++)
		s->sink += i;
	s->work_done++;
	if (--s->work_left)
		avm_continue(ctx, s->work_left);
}

static void mmio_write(struct testdev *s, avm_ctx *ctx, uint64_t off,
		       uint64_t v)
{
	s->writes++;
	switch (off) {
	case TESTDEV_SCRATCH:
		s->scratch = v;
		break;
	case TESTDEV_SHADOW_SET:
		s->shadow = v;
		avm_direct_set(ctx, DIRECT_SHADOW, v);
		break;
	case TESTDEV_IRQ:
		update_irq(s, ctx, v & 1);
		break;
	case TESTDEV_TIMER:
		if (v)
			avm_timer_arm(ctx, 0, v, 0);
		else
			avm_timer_cancel(ctx, 0);
		break;
	case TESTDEV_DMA_ADDR:
		s->dma_addr = v;
		break;
	case TESTDEV_DMA_LEN:
		s->dma_len = v;
		break;
	case TESTDEV_DMA_CMD:
		dma_cmd(s, ctx, v);
		break;
	case TESTDEV_WORK:
		/* A new job starts only if none runs: one chain at a time. */
		if (!s->work_left && v) {
			s->work_left = v;
			avm_continue(ctx, v);
		}
		break;
	case TESTDEV_SEQ:
		seq_write(s, v);
		break;
	default:
		break; /* writes to read-only or unknown offsets: ignored */
	}
}

static uint64_t mmio_read(struct testdev *s, uint64_t off)
{
	switch (off) {
	case TESTDEV_ID:
		return s->cfg.id;
	case TESTDEV_SCRATCH:
		return s->scratch;
	case TESTDEV_WRITES:
		return s->writes;
	case TESTDEV_SHADOW:
		return s->shadow;
	case TESTDEV_IRQ:
		return s->irq_level;
	case TESTDEV_TICKS:
		return s->ticks;
	case TESTDEV_DMA_ADDR:
		return s->dma_addr;
	case TESTDEV_DMA_LEN:
		return s->dma_len;
	case TESTDEV_DMA_STATUS:
		return (uint64_t)s->dma_status;
	case TESTDEV_DMA_SUM:
		return s->dma_sum;
	case TESTDEV_WORK_DONE:
		return s->work_done;
	case TESTDEV_SEQ_BAD:
		return s->seq_bad;
	case TESTDEV_SEQ_TOTAL:
		return s->seq_total;
	case TESTDEV_IRQ_IN:
		return s->irq_in;
	case TESTDEV_PINGS:
		return s->pings;
	default:
		return 0;
	}
}

/* Sub-word accesses see the little-endian bytes of the 64-bit register. */
static uint64_t narrow(uint64_t reg, uint64_t off, unsigned size)
{
	unsigned shift = (unsigned)(off & 7) * 8;
	uint64_t v = reg >> shift;

	return size == 8 ? v : v & ((1ull << (size * 8)) - 1);
}

static void access(struct testdev *s, const struct avm_msg *m, avm_ctx *ctx)
{
	if (m->access.region == 1) { /* PIO */
		if (m->kind == AVM_MSG_WRITE && m->access.offset == 0)
			s->pio_scratch = (uint8_t)m->access.value;
		else if (m->kind == AVM_MSG_READ)
			avm_reply(ctx, m->access.offset == 0 ? s->pio_scratch
							     : 0xff);
		return;
	}
	if (m->kind == AVM_MSG_WRITE)
		mmio_write(s, ctx, m->access.offset & ~7ull, m->access.value);
	else
		avm_reply(ctx, narrow(mmio_read(s, m->access.offset & ~7ull),
				      m->access.offset, m->access.size));
}

static void ping(struct testdev *s, const struct avm_msg *m, avm_ctx *ctx)
{
	struct avm_msg out = { .kind = TESTDEV_MSG_PING };

	s->pings++;
	if (avm_reply(ctx, m->user.value + 1) == 0)
		return;
	if (m->user.value + 1 >= m->user.addr)
		return;
	out.user.value = m->user.value + 1;
	out.user.addr = m->user.addr;
	avm_send(ctx, TESTDEV_PORT_OUT, &out);
}

static void testdev_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct testdev *s = state;

	switch (m->kind) {
	case AVM_MSG_READ:
	case AVM_MSG_WRITE:
		access(s, m, ctx);
		break;
	case AVM_MSG_TIMER:
		s->ticks++;
		update_irq(s, ctx, true);
		break;
	case AVM_MSG_CONTINUE:
		work_chunk(s, ctx);
		break;
	case AVM_MSG_IRQ:
		s->irq_in = ((uint64_t)m->irq.line << 1) | m->irq.level;
		break;
	case TESTDEV_MSG_PING:
		ping(s, m, ctx);
		break;
	default:
		break;
	}
}

const struct avm_device_ops testdev_ops = {
	.type = "testdev",
	.doc = "framework test device: scratch, IRQ, timer, DMA, continuations",
	.state_size = sizeof(struct testdev),
	.regions = testdev_regions,
	.n_regions = 2,
	.ports = testdev_ports,
	.n_ports = 2,
	.init = testdev_init,
	.handle = testdev_handle,
	.reset = testdev_reset,
};
