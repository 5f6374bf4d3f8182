/* SPDX-License-Identifier: MIT */
/* Guest RAM blocks and the mapping of device regions into address spaces. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static bool overlaps(uint64_t a, uint64_t alast, uint64_t b, uint64_t blast)
{
	return a <= blast && b <= alast;
}

static bool ram_overlaps(avm_runtime *rt, uint64_t base, uint64_t last)
{
	for (unsigned i = 0; i < rt->n_ram; i++) {
		struct avm_ram_block *b = &rt->ram[i];

		if (overlaps(base, last, b->gpa, b->gpa + b->size - 1))
			return true;
	}
	return false;
}

/*
 * Guest RAM is a memfd mapped shared: a device process (a fork) shares it
 * at the same address, so its DMA is the same bounds-checked copy into the
 * same pages as in the VMM. The mapping keeps the memory after the close.
 */
static void *ram_map(uint64_t size)
{
	int fd = memfd_create("avm-ram", MFD_CLOEXEC);
	void *mem = MAP_FAILED;

	if (fd < 0)
		return NULL;
	if (!ftruncate(fd, (off_t)size))
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_NORESERVE, fd, 0);
	close(fd);
	return mem == MAP_FAILED ? NULL : mem;
}

int avm_ram_add(avm_runtime *rt, uint64_t gpa, uint64_t size, void **host)
{
	struct avm_ram_block *blocks;
	void *mem;

	if (!size || (gpa & 0xfff) || (size & 0xfff) || gpa + (size - 1) < gpa)
		return -EINVAL;
	if (rt->started)
		return -EBUSY;
	if (ram_overlaps(rt, gpa, gpa + size - 1))
		return -EBUSY;
	blocks = realloc(rt->ram, (rt->n_ram + 1) * sizeof(*blocks));
	if (!blocks)
		return -ENOMEM;
	rt->ram = blocks;
	mem = ram_map(size);
	if (!mem)
		return -ENOMEM;
	rt->ram[rt->n_ram++] = (struct avm_ram_block){ gpa, size, mem };
	if (host)
		*host = mem;
	return 0;
}

void *avm_ram_ptr(avm_runtime *rt, uint64_t gpa, uint64_t len)
{
	/* RAM blocks never change once the runtime runs: no lock needed. */
	for (unsigned i = 0; i < rt->n_ram; i++) {
		struct avm_ram_block *b = &rt->ram[i];

		if (gpa >= b->gpa && len <= b->size &&
		    gpa - b->gpa <= b->size - len)
			return (uint8_t *)b->host + (gpa - b->gpa);
	}
	return NULL;
}

int avm_map(avm_runtime *rt, avm_actor_id id, unsigned region, uint64_t base)
{
	struct avm_actor *a = avm__actor(rt, id);
	const struct avm_region_desc *rd;
	struct avm_map_entry e;
	int err;

	if (!a || region >= a->ops->n_regions)
		return -ENOENT;
	rd = &a->ops->regions[region];
	if (!rd->size || rd->space >= AVM_SPACE_COUNT)
		return -EINVAL;
	if (base + (rd->size - 1) < base ||
	    (rd->space == AVM_SPACE_PIO && base + rd->size > 0x10000))
		return -ERANGE;
	e = (struct avm_map_entry){ .base = base,
				    .last = base + rd->size - 1,
				    .actor = a,
				    .rd = rd,
				    .region = region };
	if (rd->space == AVM_SPACE_MMIO && ram_overlaps(rt, e.base, e.last))
		return -EBUSY;
	err = avm_addrmap_insert(&rt->maps, rd->space, &e);
	/* For avm_region_base() only: dispatch uses the map itself. */
	if (!err)
		atomic_store_explicit(&a->bases[region], base,
				      memory_order_relaxed);
	return err;
}

int avm_unmap(avm_runtime *rt, avm_actor_id id, unsigned region)
{
	struct avm_actor *a = avm__actor(rt, id);

	int err;

	if (!a || region >= a->ops->n_regions)
		return -ENOENT;
	err = avm_addrmap_remove(&rt->maps, a->ops->regions[region].space, a,
				 region);
	if (!err)
		atomic_store_explicit(&a->bases[region], UINT64_MAX,
				      memory_order_relaxed);
	return err;
}
