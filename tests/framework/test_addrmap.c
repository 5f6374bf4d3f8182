/* SPDX-License-Identifier: MIT */
/* Address dispatch: ranges, overlaps, and re-mapping while VCPUs look up. */
#include "fixture.h"

#include <pthread.h>
#include <stdatomic.h>

#include "addrmap.h"

static const struct avm_region_desc rd = { .name = "r",
					   .space = AVM_SPACE_MMIO,
					   .size = 0x100 };

static struct avm_map_entry entry(uint64_t base, uint64_t size, void *owner,
				  unsigned region)
{
	return (struct avm_map_entry){ .base = base,
				       .last = base + size - 1,
				       .actor = owner,
				       .rd = &rd,
				       .region = region };
}

static void lookup_edges_and_overlaps(void **unused)
{
	struct avm_addrmaps m;
	int a, b;
	struct avm_map_entry e;

	(void)unused;
	avm_reader_register();
	assert_int_equal(avm_addrmaps_init(&m), 0);
	avm_read_lock();
	assert_null(avm_addrmap_lookup(&m, AVM_SPACE_MMIO, 0));
	avm_read_unlock();
	e = entry(0x2000, 0x100, &a, 0);
	assert_int_equal(avm_addrmap_insert(&m, AVM_SPACE_MMIO, &e), 0);
	e = entry(0x1000, 0x1000, &b, 0); /* ends right below 0x2000 */
	assert_int_equal(avm_addrmap_insert(&m, AVM_SPACE_MMIO, &e), 0);
	e = entry(0x20ff, 0x10, &b, 1); /* overlaps the last byte */
	assert_int_equal(avm_addrmap_insert(&m, AVM_SPACE_MMIO, &e), -EBUSY);
	e = entry(0x9000, 0x10, &a, 0); /* same region mapped twice */
	assert_int_equal(avm_addrmap_insert(&m, AVM_SPACE_MMIO, &e), -EEXIST);
	e = entry(UINT64_MAX - 0xff, 0x100, &a, 1); /* up to the very top */
	assert_int_equal(avm_addrmap_insert(&m, AVM_SPACE_MMIO, &e), 0);

	avm_read_lock();
	assert_ptr_equal(avm_addrmap_lookup(&m, AVM_SPACE_MMIO, 0x1fff)->actor,
			 &b);
	assert_ptr_equal(avm_addrmap_lookup(&m, AVM_SPACE_MMIO, 0x2000)->actor,
			 &a);
	assert_ptr_equal(avm_addrmap_lookup(&m, AVM_SPACE_MMIO, 0x20ff)->actor,
			 &a);
	assert_null(avm_addrmap_lookup(&m, AVM_SPACE_MMIO, 0x2100));
	assert_null(avm_addrmap_lookup(&m, AVM_SPACE_MMIO, 0xfff));
	assert_null(avm_addrmap_lookup(&m, AVM_SPACE_PIO, 0x2000));
	assert_int_equal(
		avm_addrmap_lookup(&m, AVM_SPACE_MMIO, UINT64_MAX)->region, 1);
	avm_read_unlock();

	assert_int_equal(avm_addrmap_remove(&m, AVM_SPACE_MMIO, (void *)&a, 0),
			 0);
	assert_int_equal(avm_addrmap_remove(&m, AVM_SPACE_MMIO, (void *)&a, 0),
			 -ENOENT);
	avm_read_lock();
	assert_null(avm_addrmap_lookup(&m, AVM_SPACE_MMIO, 0x2000));
	assert_non_null(avm_addrmap_lookup(&m, AVM_SPACE_MMIO, 0x1000));
	avm_read_unlock();
	avm_addrmaps_fini(&m);
	avm_reader_unregister();
}

static void runtime_rejects_bad_ranges(void **unused)
{
	struct fixture f;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	assert_int_equal(avm_unmap(f.rt, f.dev[0], 1), 0);
	assert_int_equal(avm_map(f.rt, f.dev[0], 1, 0xfffc), -ERANGE);
	assert_int_equal(avm_map(f.rt, f.dev[0], 1, 0xfff8), 0);
	assert_int_equal(avm_unmap(f.rt, f.dev[0], 0), 0);
	assert_int_equal(avm_map(f.rt, f.dev[0], 0, UINT64_MAX - 0x800),
			 -ERANGE);
	assert_int_equal(avm_ram_add(f.rt, 0x80000, 0x1000, NULL), -EBUSY);
	assert_int_equal(avm_ram_add(f.rt, 0x100001, 0x1000, NULL), -EINVAL);
	fix_start(&f);
	assert_int_equal(avm_ram_add(f.rt, 0x200000, 0x1000, NULL), -EBUSY);
	fix_down(&f);
}

static void accesses_outside_regions(void **unused)
{
	struct fixture f;
	uint64_t v;

	(void)unused;
	fix_up(&f, AVM_EXEC_DETERMINISTIC, 1, NULL);
	fix_start(&f);
	assert_int_equal(avm_read(f.acc, AVM_SPACE_MMIO, 0x12345678, 4, &v),
			 -ENXIO);
	/* Straddles the end of the region. */
	assert_int_equal(avm_read(f.acc, AVM_SPACE_MMIO,
				  FIX_MMIO(0) + TESTDEV_MMIO_SIZE - 4, 8, &v),
			 -ENXIO);
	assert_int_equal(avm_read(f.acc, AVM_SPACE_MMIO, FIX_MMIO(0), 3, &v),
			 -EINVAL);
	assert_int_equal(avm_write(f.acc, 7, FIX_MMIO(0), 4, 0), -EINVAL);
	/* Sub-word reads see the register's little-endian bytes. */
	fix_wr(&f, 0, TESTDEV_SCRATCH, 0x1122334455667788ull);
	assert_int_equal(avm_read(f.acc, AVM_SPACE_MMIO,
				  FIX_MMIO(0) + TESTDEV_SCRATCH + 4, 2, &v),
			 0);
	assert_int_equal(v, 0x3344);
	fix_down(&f);
}

struct reader {
	avm_runtime *rt;
	atomic_int *stop;
	uint64_t hits, misses, bad;
};

static void *look_up(void *arg)
{
	struct reader *r = arg;
	avm_accessor *acc;
	uint64_t v;

	avm_accessor_new(r->rt, "reader", &acc);
	/* A minimum of rounds, so a late-starting reader still checks; and a
	 * hit, which comes at once after the stop (the mapping then stays). */
	for (long n = 0; n < 1000 || !atomic_load(r->stop) || !r->hits; n++) {
		for (int i = 0; i < 2; i++) {
			int err = avm_read(acc, AVM_SPACE_MMIO,
					   FIX_MMIO(i) + TESTDEV_ID, 8, &v);

			if (!err && v == 0x7e57de7)
				r->hits++;
			else if (err == -ENXIO)
				r->misses++;
			else
				r->bad++;
		}
	}
	avm_accessor_free(acc);
	return NULL;
}

/* Move a device between two bases while readers look it up: each lookup
 * finds it or nothing, never garbage; old maps are freed behind them. */
static void remap_during_lookups(void **unused)
{
	enum { READERS = 2, MOVES = 20000 };
	struct fixture f;
	atomic_int stop = 0;
	struct reader r[READERS];
	pthread_t th[READERS];

	(void)unused;
	fix_up(&f, AVM_EXEC_THREADED, 1, NULL);
	fix_start(&f);
	for (int i = 0; i < READERS; i++) {
		r[i] = (struct reader){ .rt = f.rt, .stop = &stop };
		pthread_create(&th[i], NULL, look_up, &r[i]);
	}
	for (int i = 0; i < MOVES; i++) {
		assert_int_equal(avm_unmap(f.rt, f.dev[0], 0), 0);
		assert_int_equal(avm_map(f.rt, f.dev[0], 0, FIX_MMIO(i & 1)),
				 0);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < READERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].bad, 0);
		assert_true(r[i].hits > 0);
		assert_true(r[i].misses > 0);
	}
	fix_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lookup_edges_and_overlaps),
		cmocka_unit_test(runtime_rejects_bad_ranges),
		cmocka_unit_test(accesses_outside_regions),
		cmocka_unit_test(remap_during_lookups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
