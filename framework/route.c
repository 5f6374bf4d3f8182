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

int avm_route_set(avm_ctx *ctx, uint32_t input, unsigned via, uint32_t arg,
		  bool *asserted)
{
	struct avm_actor *self = ctx->self;
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

int avm_route_clear(avm_ctx *ctx, uint32_t input)
{
	uint64_t home = AVM_PORT_UNBOUND;

	return for_sources(ctx->self, input, store_route, &home);
}

bool avm_route_level(avm_ctx *ctx, uint32_t input)
{
	bool level = false;

	for_sources(ctx->self, input, or_level, &level);
	return level;
}
