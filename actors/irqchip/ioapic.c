/* SPDX-License-Identifier: MIT */
/* The I/O APIC actor: redirection entries, route publication (the IRQ fast
 * path), and delivery of what the fast path leaves to it. */
#include "ioapic.h"

#include <errno.h>
#include <string.h>

#define VERSION_VALUE ((IOAPIC_PINS - 1) << 16 | 0x11) /* 82093AA */
/* Writable low-dword bits: vector, delivery mode, destination mode,
 * polarity, trigger, mask; delivery status and Remote IRR are read-only. */
#define RTE_LOW_WRITABLE 0x0001AFFFu
#define RTE_DEST_SHIFT	 56
#define DM_FIXED	 0
#define DM_LOWEST	 1

#define REGSEL 0x00
#define IOWIN  0x10

struct ioapic {
	uint32_t id;
	uint32_t regsel;
	uint64_t rte[IOAPIC_PINS];
	uint32_t remote_irr; /* bit per pin: a level delivery awaits EOI */
	uint32_t warned;     /* bit per pin: its bad entry was logged */
	uint64_t stats[IOAPIC_STAT_COUNT];
	/* Forwarding mode (NULL: the model above is in use). */
	int (*forward)(void *arg, unsigned pin, bool level);
	void *forward_arg;
};

static const struct avm_region_desc ioapic_regions[] = {
	{ .name = "ioapic", .space = AVM_SPACE_MMIO, .size = 0x1000 },
};

static bool rte_level(uint64_t e)
{
	return e & IOAPIC_RTE_LEVEL;
}

/* The cpu port an entry targets, or -1 when it has no usable target. */
static int rte_cpu(uint64_t e)
{
	uint8_t dest = (uint8_t)(e >> RTE_DEST_SHIFT);

	if (e & IOAPIC_RTE_DEST_LOGICAL) {
		/* Flat logical mode: lowest priority among the set picks one;
		 * with equal priorities that is the lowest-numbered. */
		return dest ? __builtin_ctz(dest) : -1;
	}
	/* Physical broadcast cannot be one message: it goes to CPU 0. */
	if (dest == 0xFF)
		return 0;
	return dest < IRQCHIP_MAX_CPUS ? dest : -1;
}

/* Why an unmasked entry cannot be routed, or NULL if it can. */
static const char *rte_problem(uint64_t e)
{
	unsigned mode = (e >> 8) & 7;

	if ((uint8_t)e < 16)
		return "vector below 16 is illegal";
	if (mode != DM_FIXED && mode != DM_LOWEST)
		return "delivery mode not modelled (only fixed and lowest)";
	if (rte_cpu(e) < 0)
		return "destination names no CPU";
	return NULL;
}

static void warn_once(struct ioapic *s, avm_ctx *ctx, unsigned pin,
		      const char *why)
{
	if (s->warned & (1u << pin))
		return;
	s->warned |= 1u << pin;
	avm_log(ctx, AVM_LOG_WARN, "pin %u: entry 0x%016llx not delivered: %s",
		pin, (unsigned long long)s->rte[pin], why);
}

/* One interrupt from pin @pin, sent by the IOAPIC itself. */
static void deliver(struct ioapic *s, avm_ctx *ctx, unsigned pin)
{
	uint64_t e = s->rte[pin];
	struct avm_msg m = { .kind = AVM_MSG_IRQ, .irq.level = 1 };
	const char *why = rte_problem(e);

	if (why) {
		warn_once(s, ctx, pin, why);
		s->stats[IOAPIC_STAT_DROPPED]++;
		return;
	}
	m.irq.line = irq_route_make((uint8_t)e, rte_level(e), (uint8_t)pin);
	if (avm_send_via(ctx, (unsigned)rte_cpu(e), &m)) {
		warn_once(s, ctx, pin, "no VCPU on that destination's port");
		s->stats[IOAPIC_STAT_DROPPED]++;
		return;
	}
	s->stats[IOAPIC_STAT_DELIVERED]++;
	if (rte_level(e))
		s->remote_irr |= 1u << pin;
}

/*
 * Publish pin @pin's route after its entry changed. A masked or unusable
 * entry routes the pin's sources back here; a valid one straight to the
 * VCPU. A level line already asserted gets its delivery now, since its
 * source will not send again until the level changes.
 */
static void update_route(struct ioapic *s, avm_ctx *ctx, unsigned pin)
{
	uint64_t e = s->rte[pin];
	uint32_t word = irq_route_make((uint8_t)e, rte_level(e), (uint8_t)pin);
	const char *why = rte_problem(e);
	bool asserted = false;

	if ((e & IOAPIC_RTE_MASKED) || why) {
		if (!(e & IOAPIC_RTE_MASKED))
			warn_once(s, ctx, pin, why);
		avm_route_clear(ctx, pin);
		return;
	}
	if (avm_route_set(ctx, pin, (unsigned)rte_cpu(e), word, &asserted) <
	    0) {
		warn_once(s, ctx, pin, "no VCPU on that destination's port");
		avm_route_clear(ctx, pin);
		return;
	}
	s->stats[IOAPIC_STAT_ROUTES]++;
	if (rte_level(e) && asserted && !(s->remote_irr & (1u << pin)))
		deliver(s, ctx, pin);
}

/* A source's message reached us: its entry is masked, or the message was
 * in flight while its route changed. */
static void on_irq(struct ioapic *s, avm_ctx *ctx, unsigned pin, bool level)
{
	uint64_t e;

	if (pin >= IOAPIC_PINS)
		return; /* no such input: the wire goes nowhere */
	e = s->rte[pin];
	if ((e & IOAPIC_RTE_MASKED) || !level)
		return; /* a masked pin's edge is lost, its level remembered */
	if (rte_level(e) && (s->remote_irr & (1u << pin)))
		return; /* delivered already; the EOI re-checks the level */
	deliver(s, ctx, pin);
}

/* Broadcast EOI: every level entry with that vector ends, and fires again
 * if its line is still asserted. */
static void on_eoi(struct ioapic *s, avm_ctx *ctx, uint8_t vector)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = s->rte[pin];

		if (!rte_level(e) || (uint8_t)e != vector)
			continue;
		s->remote_irr &= ~(1u << pin);
		if (!(e & IOAPIC_RTE_MASKED) && avm_route_level(ctx, pin))
			deliver(s, ctx, pin);
	}
}

static uint32_t reg_read(const struct ioapic *s, uint32_t reg)
{
	unsigned pin = (reg - IOAPIC_REG_REDTBL) / 2;
	uint64_t e;

	switch (reg) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return s->id << 24;
	case IOAPIC_REG_VER:
		return VERSION_VALUE;
	default:
		break;
	}
	if (reg < IOAPIC_REG_REDTBL || pin >= IOAPIC_PINS)
		return 0; /* reserved */
	e = s->rte[pin];
	if (s->remote_irr & (1u << pin))
		e |= IOAPIC_RTE_REMOTE_IRR;
	return reg & 1 ? (uint32_t)(e >> 32) : (uint32_t)e;
}

static void reg_write(struct ioapic *s, avm_ctx *ctx, uint32_t reg,
		      uint32_t val)
{
	unsigned pin = (reg - IOAPIC_REG_REDTBL) / 2;
	uint64_t e;

	if (reg == IOAPIC_REG_ID) {
		s->id = (val >> 24) & 0xF;
		return;
	}
	if (reg < IOAPIC_REG_REDTBL || pin >= IOAPIC_PINS)
		return; /* read-only or reserved */
	e = s->rte[pin];
	if (reg & 1)
		e = (e & 0xFFFFFFFFull) | (uint64_t)(val & 0xFF000000u) << 32;
	else
		e = (e & ~0xFFFFFFFFull) | (val & RTE_LOW_WRITABLE);
	if (e == s->rte[pin])
		return;
	s->rte[pin] = e;
	s->warned &= ~(1u << pin);
	if (!rte_level(e))
		s->remote_irr &= ~(1u << pin);
	update_route(s, ctx, pin);
}

static void on_read(struct ioapic *s, const struct avm_msg *m, avm_ctx *ctx)
{
	uint64_t v = 0;

	if (m->access.offset == REGSEL)
		v = s->regsel;
	else if (m->access.offset == IOWIN)
		v = reg_read(s, s->regsel);
	avm_reply(ctx, v);
}

static void on_write(struct ioapic *s, const struct avm_msg *m, avm_ctx *ctx)
{
	if (m->access.offset == REGSEL)
		s->regsel = (uint32_t)m->access.value & 0xFF;
	else if (m->access.offset == IOWIN)
		reg_write(s, ctx, s->regsel, (uint32_t)m->access.value);
}

/* Forwarding mode: the pin's level goes to the host's irqchip. */
static void forward_irq(struct ioapic *s, avm_ctx *ctx, unsigned pin,
			bool level)
{
	int err;

	if (pin >= IOAPIC_PINS)
		return; /* no such input: the wire goes nowhere */
	err = s->forward(s->forward_arg, pin, level);
	if (!err) {
		s->stats[IOAPIC_STAT_FORWARDED]++;
		return;
	}
	s->stats[IOAPIC_STAT_DROPPED]++;
	if (!(s->warned & (1u << pin)))
		avm_log(ctx, AVM_LOG_WARN, "pin %u: level %d not forwarded: %s",
			pin, level, strerror(-err));
	s->warned |= 1u << pin;
}

static void ioapic_reset(void *state, avm_ctx *ctx)
{
	struct ioapic *s = state;
	struct ioapic saved = *s;

	memset(s, 0, sizeof(*s));
	s->id = saved.id;
	s->forward = saved.forward;
	s->forward_arg = saved.forward_arg;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		s->rte[pin] = IOAPIC_RTE_MASKED;
		/* Forwarding mode publishes no routes: sources reach us. */
		if (!s->forward)
			avm_route_clear(ctx, pin);
	}
}

static int ioapic_init(void *state, const void *config, avm_ctx *ctx)
{
	const struct ioapic_config *cfg = config;
	struct ioapic *s = state;

	s->id = cfg ? cfg->id & 0xF : 0;
	s->forward = cfg ? cfg->forward : NULL;
	s->forward_arg = cfg ? cfg->forward_arg : NULL;
	ioapic_reset(s, ctx);
	return 0;
}

static void ioapic_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct ioapic *s = state;

	switch (m->kind) {
	case AVM_MSG_READ:
		on_read(s, m, ctx);
		break;
	case AVM_MSG_WRITE:
		/* Forwarding mode: the entries stay masked, no route moves. */
		if (!s->forward)
			on_write(s, m, ctx);
		break;
	case AVM_MSG_IRQ:
		if (s->forward)
			forward_irq(s, ctx, m->irq.line, m->irq.level);
		else
			on_irq(s, ctx, m->irq.line, m->irq.level);
		break;
	case IRQCHIP_MSG_EOI:
		if (!s->forward)
			on_eoi(s, ctx, (uint8_t)m->user.value);
		break;
	case IOAPIC_MSG_STATS:
		if (m->user.addr < IOAPIC_STAT_COUNT)
			avm_reply(ctx, s->stats[m->user.addr]);
		else
			avm_reply_error(ctx, -EINVAL);
		break;
	default:
		break;
	}
}

const struct avm_device_ops ioapic_ops = {
	.type = "ioapic",
	.doc = "I/O APIC (82093AA): 24 redirection entries, IRQ fast path",
	.state_size = sizeof(struct ioapic),
	.regions = ioapic_regions,
	.n_regions = 1,
	.ports = irqchip_cpu_ports,
	.n_ports = IRQCHIP_MAX_CPUS,
	.init = ioapic_init,
	.handle = ioapic_handle,
	.reset = ioapic_reset,
};
