/* SPDX-License-Identifier: MIT */
/*
 * What avm_actor_create() refuses in a device type (each bad ops table gets
 * -EINVAL and an error naming the actor and the field), avm_direct_set()
 * with a bad slot, and a zeroed spec leaving the server thread unpinned.
 */
#include <pthread.h>
#include <string.h>

#include "fixture.h"

/* --- A tiny device: READ at 0 answers avm_direct_set(bad slot), READ at 8
 * the CPUs 0..63 its thread may run on. --------------------------------- */

#define PROBE_DIRECT 0
#define PROBE_CPUS   8

static uint64_t thread_cpus(void)
{
	cpu_set_t set;
	uint64_t bits = 0;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (unsigned i = 0; i < AVM_CPU_COUNT; i++)
		if (CPU_ISSET(i, &set))
			bits |= AVM_CPU(i);
	return bits;
}

static void probe_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	(void)state;
	if (m->kind != AVM_MSG_READ)
		return;
	if (m->access.offset == PROBE_DIRECT)
		avm_reply(ctx, (uint64_t)(int64_t)avm_direct_set(
				       ctx, AVM_MAX_DIRECT, 1));
	else
		avm_reply(ctx, thread_cpus());
}

static const struct avm_direct_reg probe_direct[] = {
	{ .offset = 0, .size = 8, .slot = 0 },
};
static const struct avm_region_desc probe_regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 16 },
	{ .name = "io", .space = AVM_SPACE_PIO, .size = 8 },
	{ .name = "pages", .space = AVM_SPACE_MMIO, .size = 4096 },
};
static const char *const probe_ports[] = { "irq", "net" };
static const struct avm_pci_info probe_pci = {
	.vendor_id = 0x8086,
	.interrupt_pin = 1,
	.bars = { { .region = 2, .flags = AVM_PCI_BAR_MEM },
		  { .region = 1, .flags = AVM_PCI_BAR_IO } },
};

static const struct avm_device_ops probe_ops = {
	.type = "probe",
	.state_size = 8,
	.regions = probe_regions,
	.n_regions = 3,
	.ports = probe_ports,
	.n_ports = 2,
	.handle = probe_handle,
	.pci = &probe_pci,
};

/* A self-driven twin: under the big lock only such an actor has a thread
 * of its own; it serves its mailbox until told to stop. */
static int probe_run(void *state, avm_ctx *ctx)
{
	int err;

	(void)state;
	while (!(err = avm_poll(ctx)))
		if ((err = avm_wait(ctx, -1)) && err != -ETIMEDOUT)
			break;
	return err == -ESHUTDOWN ? 0 : err;
}

static const struct avm_device_ops probe_self_ops = {
	.type = "probe-self",
	.regions = probe_regions,
	.n_regions = 1,
	.handle = probe_handle,
	.run = probe_run,
};

/* --- Refused ops tables ---------------------------------------------- */

struct errlog {
	pthread_mutex_t lock;
	char actor[32];
	char line[256];
};

static void keep_error(void *arg, int level, const char *actor,
		       const char *line)
{
	struct errlog *e = arg;

	if (level != AVM_LOG_ERROR)
		return;
	pthread_mutex_lock(&e->lock);
	snprintf(e->actor, sizeof(e->actor), "%s", actor ? actor : "");
	snprintf(e->line, sizeof(e->line), "%s", line);
	pthread_mutex_unlock(&e->lock);
}

/* Creating "bad" with @ops fails with -EINVAL and logs @field. */
static void assert_refused(const struct avm_device_ops *ops, const char *field)
{
	struct errlog e = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct avm_runtime_config cfg = { .log = keep_error, .log_arg = &e };
	struct avm_actor_spec s = { .ops = ops, .name = "bad" };
	avm_runtime *rt;
	avm_actor_id id;

	assert_int_equal(avm_runtime_new(&cfg, &rt), 0);
	assert_int_equal(avm_actor_create(rt, &s, &id), -EINVAL);
	assert_int_equal(avm_actor_count(rt), 0);
	assert_string_equal(e.actor, "bad");
	if (!strstr(e.line, field))
		fail_msg("log line '%s' does not name %s", e.line, field);
	avm_runtime_free(rt);
}

static void good_ops_accepted(void **unused)
{
	struct avm_actor_spec s = { .ops = &probe_ops, .name = "good" };
	avm_runtime *rt;
	avm_actor_id id;

	(void)unused;
	assert_int_equal(avm_runtime_new(NULL, &rt), 0);
	assert_int_equal(avm_actor_create(rt, &s, &id), 0);
	avm_runtime_free(rt);
}

static void bad_direct_slot_refused(void **unused)
{
	static const struct avm_direct_reg d[] = {
		{ .offset = 0, .size = 8, .slot = AVM_MAX_DIRECT },
	};
	struct avm_region_desc r[3];
	struct avm_device_ops o = probe_ops;

	(void)unused;
	memcpy(r, probe_regions, sizeof(r));
	r[0].direct = d;
	r[0].n_direct = 1;
	o.regions = r;
	assert_refused(&o, "regions[0].direct[0].slot");
	r[0].direct = probe_direct;
	r[0].n_direct = 1;
	o.pci = NULL;
	r[0].size = 4; /* the 8-byte register no longer fits */
	assert_refused(&o, "regions[0].direct[0].offset");
	r[0].n_direct = 2;
	r[0].direct = NULL;
	assert_refused(&o, "regions[0].n_direct");
}

static void bad_counts_refused(void **unused)
{
	struct avm_device_ops o = probe_ops;
	static const char *const twins[] = { "irq", "irq" };
	static const char *const unnamed[] = { "irq", NULL };

	(void)unused;
	o.handle = NULL;
	assert_refused(&o, "handle");
	o = probe_ops;
	o.regions = NULL;
	assert_refused(&o, "n_regions");
	o = probe_ops;
	o.state_size = SIZE_MAX;
	assert_refused(&o, "state_size");
	o = probe_ops;
	o.ports = NULL;
	assert_refused(&o, "n_ports");
	o.ports = twins;
	assert_refused(&o, "ports[1]");
	o.ports = unnamed;
	assert_refused(&o, "ports[1]");
}

static void bad_regions_refused(void **unused)
{
	struct avm_region_desc r[3];
	struct avm_device_ops o = probe_ops;

	(void)unused;
	memcpy(r, probe_regions, sizeof(r));
	o.regions = r;
	r[1].size = 0;
	assert_refused(&o, "regions[1].size");
	r[1].size = 8;
	r[1].space = AVM_SPACE_COUNT;
	assert_refused(&o, "regions[1].space");
}

static void bad_pci_refused(void **unused)
{
	struct avm_pci_info p = probe_pci;
	struct avm_device_ops o = probe_ops;

	(void)unused;
	o.pci = &p;
	p.vendor_id = 0xffff;
	assert_refused(&o, "pci->vendor_id");
	p = probe_pci;
	p.interrupt_pin = 5;
	assert_refused(&o, "pci->interrupt_pin");
	p = probe_pci;
	p.class_code = 0x1000000;
	assert_refused(&o, "pci->class_code");
	p = probe_pci;
	p.bars[0].region = 3;
	assert_refused(&o, "pci->bars[0]");
	p = probe_pci;
	p.bars[1].region = 0; /* an I/O BAR on an MMIO region */
	assert_refused(&o, "pci->bars[1]");
	p = probe_pci;
	p.bars[0].flags = AVM_PCI_BAR_MEM | AVM_PCI_BAR_IO;
	assert_refused(&o, "pci->bars[0]");
	p = probe_pci;
	p.bars[0].region = 0; /* 16 bytes: fine; 1 region of 4096: fine */
	p.bars[2] = (struct avm_pci_bar){ .region = 2, .flags = 0x80 };
	assert_refused(&o, "pci->bars[2]");
}

/* --- Running: avm_direct_set() and the default placement -------------- */

struct probe_vm {
	avm_runtime *rt;
	avm_accessor *acc;
};

static void probe_up(struct probe_vm *v, enum avm_exec_kind exec)
{
	struct avm_runtime_config cfg = { .exec = exec,
					  .read_deadline_ns = FIX_GUARD_NS };
	/* Nothing but ops and name; the fast path off so that handlers run
	 * on the actor's own thread. */
	struct avm_actor_spec s = { .ops = exec == AVM_EXEC_BIGLOCK
						   ? &probe_self_ops
						   : &probe_ops,
				    .name = "probe",
				    .fast_path = -1 };
	avm_actor_id id;

	assert_int_equal(avm_runtime_new(&cfg, &v->rt), 0);
	assert_int_equal(avm_actor_create(v->rt, &s, &id), 0);
	assert_int_equal(avm_map(v->rt, id, 0, FIX_MMIO(0)), 0);
	assert_int_equal(avm_runtime_start(v->rt), 0);
	assert_int_equal(avm_accessor_new(v->rt, "test", &v->acc), 0);
}

static uint64_t probe_rd(struct probe_vm *v, uint64_t off)
{
	uint64_t val = 0;

	assert_int_equal(
		avm_read(v->acc, AVM_SPACE_MMIO, FIX_MMIO(0) + off, 8, &val),
		0);
	return val;
}

static void probe_down(struct probe_vm *v)
{
	avm_accessor_free(v->acc);
	avm_runtime_free(v->rt);
}

static void direct_set_bad_slot_fails(void **unused)
{
	struct probe_vm v;

	(void)unused;
	probe_up(&v, AVM_EXEC_THREADED);
	assert_int_equal((int64_t)probe_rd(&v, PROBE_DIRECT), -EINVAL);
	probe_down(&v);
}

/* Threads inherit the affinity of their creator: a server thread of a
 * zeroed spec may run wherever this (main) thread may, not on CPU 0 only. */
static void zeroed_spec_not_pinned(void **state)
{
	uint64_t mine = thread_cpus();
	struct probe_vm v;

	if (mine == AVM_CPU(0)) {
		print_message("this process may run on CPU 0 only: pinning "
			      "to CPU 0 cannot be told apart here\n");
		skip();
	}
	probe_up(&v, *(enum avm_exec_kind *)*state);
	assert_int_equal(probe_rd(&v, PROBE_CPUS), mine);
	probe_down(&v);
}

static enum avm_exec_kind threaded = AVM_EXEC_THREADED;
static enum avm_exec_kind biglock = AVM_EXEC_BIGLOCK;

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_ops_accepted),
		cmocka_unit_test(bad_direct_slot_refused),
		cmocka_unit_test(bad_counts_refused),
		cmocka_unit_test(bad_regions_refused),
		cmocka_unit_test(bad_pci_refused),
		cmocka_unit_test(direct_set_bad_slot_fails),
		cmocka_unit_test_prestate(zeroed_spec_not_pinned, &threaded),
		cmocka_unit_test_prestate(zeroed_spec_not_pinned, &biglock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
