/* SPDX-License-Identifier: MIT */
/*
 * Routed ports: a router (interrupt controller) re-points the ports bound to
 * one of its inputs straight at a destination, and reads their levels.
 *
 * Ordering: a source stores its level then loads its route (ctx.c); the
 * router stores the route then loads the levels. All four are seq_cst, so
 * at least one side sees the other's store (the store-buffer litmus test):
 * an assertion racing with a route change is never lost, at worst it is
 * both sent along the new route and seen by the router.
 */
#include <errno.h>

#include "internal.h"

/* Calls @fn on every port in the runtime bound to (@self, @input). */
static int for_sources(struct avm_actor *self, uint32_t input,
		       void (*fn)(struct avm_actor *, unsigned, void *),
		       void *arg)
{
	uint64_t home = avm__pack_binding(self->id, input);
	avm_runtime *rt = self->rt;
	int n = 0;

	/* The actor table is fixed once the runtime runs. */
	for (unsigned i = 0; i < rt->n_actors; i++) {
		struct avm_actor *a = rt->actors[i];

		for (unsigned p = 0; p < a->ops->n_ports; p++) {
			if (atomic_load_explicit(&a->ports[p],
						 memory_order_acquire) != home)
				continue;
			fn(a, p, arg);
			n++;
		}
	}
	return n;
}

static void store_route(struct avm_actor *a, unsigned p, void *arg)
{
	atomic_store(&a->routes[p], *(uint64_t *)arg);
}

static void or_level(struct avm_actor *a, unsigned p, void *arg)
{
	*(bool *)arg |= atomic_load(&a->levels[p]) != 0;
}

static int route_set(struct avm_actor *self, uint32_t input, unsigned via,
		     uint32_t arg, bool *asserted)
{
	uint64_t b, route;
	int n;

	if (via >= self->ops->n_ports)
		return -EINVAL;
	b = atomic_load_explicit(&self->ports[via], memory_order_acquire);
	if (b == AVM_PORT_UNBOUND)
		return -ENOTCONN;
	route = avm__pack_binding((avm_actor_id)(b >> 32), arg);
	n = for_sources(self, input, store_route, &route);
	if (asserted) {
		*asserted = false;
		for_sources(self, input, or_level, asserted);
	}
	return n;
}

/* Journaled (actorvm/trace.h): the route is output, @asserted input. */
static int route_set_journaled(struct avm_actor *a, uint32_t input,
			       unsigned via, uint32_t arg, bool *asserted)
{
	struct avm_journal_entry e = { .type = AVM_J_ROUTE_SET,
				       .arg = input,
				       .port = (int32_t)via,
				       .value = arg };
	const struct avm_journal_entry *r;
	bool level = false;

	if (a->isoc)
		return false;
	if (avm__jmode(a) == AVM_JMODE_REPLAY) {
		r = avm__journal(a, &e);
		if (asserted)
			*asserted = r && r->status;
		return r ? r->result : -EIO;
	}
	e.result = route_set(a, input, via, arg, &level);
	e.status = level;
	if (asserted)
		*asserted = level;
	avm__journal(a, &e);
	return e.result;
}

int avm_route_set(avm_ctx *ctx, uint32_t input, unsigned via, uint32_t arg,
		  bool *asserted)
{
	/* Routes are the VMM's: a device process cannot move them. */
	if (ctx->self->isoc)
		return -EPERM;
	if (avm__jmode(ctx->self))
		return route_set_journaled(ctx->self, input, via, arg,
					   asserted);
	return route_set(ctx->self, input, via, arg, asserted);
}

int avm_route_clear(avm_ctx *ctx, uint32_t input)
{
	struct avm_actor *a = ctx->self;
	struct avm_journal_entry e = { .type = AVM_J_ROUTE_CLEAR,
				       .arg = input };
	const struct avm_journal_entry *r;
	uint64_t home = AVM_PORT_UNBOUND;

	if (a->isoc)
		return -EPERM;
	if (avm__jmode(a) == AVM_JMODE_REPLAY) {
		r = avm__journal(a, &e);
		return r ? r->result : -EIO;
	}
	e.result = for_sources(a, input, store_route, &home);
	if (avm__jmode(a))
		avm__journal(a, &e);
	return e.result;
}

bool avm_route_level(avm_ctx *ctx, uint32_t input)
{
	struct avm_actor *a = ctx->self;
	struct avm_journal_entry e = { .type = AVM_J_ROUTE_LEVEL,
				       .arg = input };
	const struct avm_journal_entry *r;
	bool level = false;

	if (avm__jmode(a) == AVM_JMODE_REPLAY) {
		r = avm__journal(a, &e);
		return r && r->value;
	}
	for_sources(a, input, or_level, &level);
	e.value = level;
	if (avm__jmode(a))
		avm__journal(a, &e);
	return level;
}
