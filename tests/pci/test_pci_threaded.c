/* SPDX-License-Identifier: MIT */
/*
 * PCI host on the threaded executor: the host relocates a BAR from its own
 * thread while another VCPU thread keeps reading both addresses. Every read
 * sees the old or the new map (the device's ID or -ENXIO), never anything
 * else; after the guest's config read-back, the final map is in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include <actorvm/runtime.h>

#include "fakepci.h"
#include "pci_host.h"

#define ADDR_A 0xe8000000u
#define ADDR_B 0xe9000000u
#define ROUNDS 200

struct vm {
	avm_runtime *rt;
	avm_actor_id fake, host;
	atomic_bool stop;
	atomic_uint bad; /* reads that were neither the ID nor -ENXIO */
	atomic_uint hits;
};

static void *reader(void *arg)
{
	struct vm *vm = arg;
	avm_accessor *acc;

	if (avm_accessor_new(vm->rt, "reader", &acc)) {
		atomic_fetch_add(&vm->bad, 1);
		return NULL;
	}
	while (!atomic_load(&vm->stop)) {
		for (int i = 0; i < 2; i++) {
			uint64_t v = 0;
			int err = avm_read(acc, AVM_SPACE_MMIO,
					   (i ? ADDR_B : ADDR_A) + FAKEPCI_ID,
					   4, &v);

			if (!err && v == FAKEPCI_ID_VALUE)
				atomic_fetch_add(&vm->hits, 1);
			else if (err != -ENXIO)
				atomic_fetch_add(&vm->bad, 1);
		}
	}
	avm_accessor_free(acc);
	return NULL;
}

static void cfg_write(avm_accessor *acc, unsigned reg, uint32_t v)
{
	uint64_t back;

	assert_int_equal(avm_write(acc, AVM_SPACE_PIO, 0xcf8, 4,
				   PCI_CONFIG_ADDR(4, 0, reg)),
			 0);
	assert_int_equal(avm_write(acc, AVM_SPACE_PIO, 0xcfc, 4, v), 0);
	/* The read-back orders the guest's next accesses after the write,
	 * as a driver flushes a posted write. */
	assert_int_equal(avm_read(acc, AVM_SPACE_PIO, 0xcfc, 4, &back), 0);
	assert_int_equal(back, v | 0x8);
}

static void relocation_while_reading(void **unused)
{
	struct vm vm = { 0 };
	/* The read deadline is a hang guard here, not a speed bound. */
	struct avm_runtime_config rc = { .exec = AVM_EXEC_THREADED,
					 .read_deadline_ns = 60000000000ull };
	struct avm_actor_spec fake = { .ops = &fakepci_ops, .name = "fake" };
	struct pci_host_function fn = { .ops = &fakepci_ops, .slot = 4 };
	struct pci_host_config cfg = { .functions = &fn, .n_functions = 1 };
	struct avm_actor_spec host = { .ops = &pci_host_ops,
				       .name = "pci",
				       .config = &cfg };
	avm_accessor *acc;
	pthread_t thr;
	uint64_t v;

	(void)unused;
	assert_int_equal(avm_runtime_new(&rc, &vm.rt), 0);
	assert_int_equal(avm_actor_create(vm.rt, &fake, &vm.fake), 0);
	fn.actor = vm.fake;
	assert_int_equal(avm_actor_create(vm.rt, &host, &vm.host), 0);
	assert_int_equal(avm_map(vm.rt, vm.host, 0, PCI_HOST_CONFIG_PORT), 0);
	assert_int_equal(avm_runtime_start(vm.rt), 0);
	assert_int_equal(avm_accessor_new(vm.rt, "vcpu0", &acc), 0);
	assert_int_equal(pthread_create(&thr, NULL, reader, &vm), 0);
	for (unsigned i = 0; i < ROUNDS; i++)
		cfg_write(acc, 0x18, i & 1 ? ADDR_B : ADDR_A);
	atomic_store(&vm.stop, true);
	pthread_join(thr, NULL);
	assert_int_equal(atomic_load(&vm.bad), 0);
	/* ROUNDS is even: the last write put the BAR at B. */
	assert_int_equal(
		avm_read(acc, AVM_SPACE_MMIO, ADDR_B + FAKEPCI_ID, 4, &v), 0);
	assert_int_equal(v, FAKEPCI_ID_VALUE);
	assert_int_equal(
		avm_read(acc, AVM_SPACE_MMIO, ADDR_A + FAKEPCI_ID, 4, &v),
		-ENXIO);
	avm_accessor_free(acc);
	avm_runtime_free(vm.rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(relocation_while_reading),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
