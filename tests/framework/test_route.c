/* SPDX-License-Identifier: MIT */
/*
 * Routed ports (framework/route.c): a router re-points the ports bound to
 * one of its inputs at a destination, clears the route again, and reads
 * their wired-OR level. Deterministic executor: test devices are the
 * sources, a router and two probes are written here.
 */
#include "fixture.h"
#include "probe.h"

#define MSG_SET	  (AVM_MSG_USER + 1) /* value: input, addr: via, arg: arg */
#define MSG_CLEAR (AVM_MSG_USER + 2) /* value: input */
#define MSG_LEVEL (AVM_MSG_USER + 3) /* value: input */

struct router {
	int ret;
	bool asserted, level;
};

static void router_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct router *r = state;

	if (m->kind == MSG_SET)
		r->ret = avm_route_set(ctx, (uint32_t)m->user.value,
				       (unsigned)m->user.addr, m->user.arg,
				       &r->asserted);
	else if (m->kind == MSG_CLEAR)
		r->ret = avm_route_clear(ctx, (uint32_t)m->user.value);
	else if (m->kind == MSG_LEVEL)
		r->level = avm_route_level(ctx, (uint32_t)m->user.value);
}

static const char *const router_ports[] = { "out0", "out1" };

static const struct avm_device_ops router_ops = {
	.type = "router",
	.state_size = sizeof(struct router),
	.ports = router_ports,
	.n_ports = 2,
	.handle = router_handle,
};

struct rfix {
	struct fixture f;
	avm_actor_id router, sink[2];
};

static avm_actor_id make(avm_runtime *rt, const struct avm_device_ops *ops,
			 const char *name)
{
	struct avm_actor_spec s = { .ops = ops, .name = name };
	avm_actor_id id;

	assert_int_equal(avm_actor_create(rt, &s, &id), 0);
	return id;
}

static int setup(void **state)
{
	static struct rfix r;
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_DETERMINISTIC };
	struct fixture *f = &r.f;
	char name[16];

	assert_int_equal(avm_runtime_new(&cfg, &f->rt), 0);
	r.sink[0] = make(f->rt, &probe_ops, "sink0");
	r.sink[1] = make(f->rt, &probe_ops, "sink1");
	for (unsigned i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "dev%u", i);
		f->dev[i] = make(f->rt, &testdev_ops, name);
		assert_int_equal(avm_map(f->rt, f->dev[i], 0, FIX_MMIO(i)), 0);
	}
	r.router = make(f->rt, &router_ops, "router");
	assert_int_equal(avm_bind(f->rt, r.router, "out0", r.sink[0], 0), 0);
	/* dev0 and dev1 on input 7, dev2 on input 9; out1 stays unbound. */
	assert_int_equal(avm_bind(f->rt, f->dev[0], "irq", r.router, 7), 0);
	assert_int_equal(avm_bind(f->rt, f->dev[1], "irq", r.router, 7), 0);
	assert_int_equal(avm_bind(f->rt, f->dev[2], "irq", r.router, 9), 0);
	assert_int_equal(avm_runtime_start(f->rt), 0);
	assert_int_equal(avm_accessor_new(f->rt, "test", &f->acc), 0);
	*state = &r;
	return 0;
}

static int teardown(void **state)
{
	struct rfix *r = *state;

	avm_accessor_free(r->f.acc);
	avm_runtime_free(r->f.rt);
	return 0;
}

static void line(struct rfix *r, unsigned dev, int level)
{
	assert_int_equal(avm_write(r->f.acc, AVM_SPACE_MMIO,
				   FIX_MMIO(dev) + TESTDEV_IRQ, 8,
				   (uint64_t)level),
			 0);
	avm_det_run(r->f.rt, 0);
}

static struct router *order(struct rfix *r, uint16_t kind, uint32_t input,
			    unsigned via, uint32_t arg)
{
	struct avm_msg m = {
		.kind = kind,
		.user = { .value = input, .addr = via, .arg = arg }
	};

	assert_int_equal(avm_post(r->f.acc, r->router, &m), 0);
	avm_det_run(r->f.rt, 0);
	return avm_actor_state(r->f.rt, r->router);
}

static struct probe *sink(struct rfix *r, unsigned i)
{
	return avm_actor_state(r->f.rt, r->sink[i]);
}

/* A route sends every source of the input straight to the destination,
 * with the route's argument, and leaves other inputs alone. */
static void route_redirects_the_input(void **state)
{
	struct rfix *r = *state;
	struct router *rt = order(r, MSG_SET, 7, 0, 0x1234);

	assert_int_equal(rt->ret, 2); /* dev0 and dev1 */
	assert_false(rt->asserted);
	line(r, 1, 1);
	assert_int_equal(sink(r, 0)->n, 1);
	assert_int_equal(sink(r, 0)->seen[0].kind, AVM_MSG_IRQ);
	assert_int_equal(sink(r, 0)->seen[0].irq.line, 0x1234);
	assert_int_equal(sink(r, 0)->seen[0].src, r->f.dev[1]);
	line(r, 2, 1); /* input 9 has no route: to the router */
	assert_int_equal(sink(r, 0)->n, 1);
}

/* Levels are remembered per port, so the router reads the wired-OR of an
 * input's sources, and a route set while asserted says so. */
static void levels_are_a_wired_or(void **state)
{
	struct rfix *r = *state;

	line(r, 0, 1);
	assert_true(order(r, MSG_LEVEL, 7, 0, 0)->level);
	line(r, 1, 1);
	line(r, 0, 0);
	assert_true(order(r, MSG_LEVEL, 7, 0, 0)->level); /* dev1 holds it */
	line(r, 1, 0);
	assert_false(order(r, MSG_LEVEL, 7, 0, 0)->level);
	assert_false(order(r, MSG_LEVEL, 9, 0, 0)->level);
	line(r, 2, 1);
	assert_true(order(r, MSG_SET, 9, 0, 5)->asserted);
}

static void clear_and_rebind_undo_the_route(void **state)
{
	struct rfix *r = *state;

	order(r, MSG_SET, 7, 0, 1);
	assert_int_equal(order(r, MSG_CLEAR, 7, 0, 0)->ret, 2);
	line(r, 0, 1);
	assert_int_equal(sink(r, 0)->n, 0);
	/* A new binding drops a route published for the old one. */
	order(r, MSG_SET, 9, 0, 1);
	assert_int_equal(avm_bind(r->f.rt, r->f.dev[2], "irq", r->sink[1], 3),
			 0);
	line(r, 2, 1);
	assert_int_equal(sink(r, 0)->n, 0);
	assert_int_equal(sink(r, 1)->n, 1);
	assert_int_equal(sink(r, 1)->seen[0].irq.line, 3);
}

static void bad_routes_are_refused(void **state)
{
	struct rfix *r = *state;

	assert_int_equal(order(r, MSG_SET, 7, 1, 0)->ret, -ENOTCONN);
	assert_int_equal(order(r, MSG_SET, 7, 5, 0)->ret, -EINVAL);
	assert_int_equal(order(r, MSG_SET, 42, 0, 0)->ret, 0); /* no source */
	line(r, 0, 1);
	assert_int_equal(sink(r, 0)->n, 0); /* still routed home */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(route_redirects_the_input,
						setup, teardown),
		cmocka_unit_test_setup_teardown(levels_are_a_wired_or, setup,
						teardown),
		cmocka_unit_test_setup_teardown(clear_and_rebind_undo_the_route,
						setup, teardown),
		cmocka_unit_test_setup_teardown(bad_routes_are_refused, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
