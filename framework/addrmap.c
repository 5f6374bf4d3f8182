/* SPDX-License-Identifier: MIT */
#ifndef AVM_TSAN
/* Inline the read-side fast path (a compiler barrier and a TLS store). */
#define _LGPL_SOURCE
#endif
#include "addrmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

#ifdef AVM_TSAN
#include <sanitizer/tsan_interface.h>
/*
 * TSan cannot see the ordering a grace period gives (it comes from the
 * membarrier syscall). Tell it: every read-side unlock happens before the
 * call_rcu callback that frees what the reader saw.
 */
static char grace_token;
#define GP_READER_DONE() __tsan_release(&grace_token)
#define GP_RECLAIM()	 __tsan_acquire(&grace_token)
#else
#define GP_READER_DONE() ((void)0)
#define GP_RECLAIM()	 ((void)0)
#endif

struct avm_addrmap {
	struct rcu_head rcu;
	unsigned n;
	struct avm_map_entry e[];
};

void avm_read_lock(void)
{
	urcu_memb_read_lock();
}

void avm_read_unlock(void)
{
	GP_READER_DONE();
	urcu_memb_read_unlock();
}

/* Registrations nest, so an accessor thread may also call control paths. */
static __thread unsigned reader_refs;

void avm_reader_register(void)
{
	if (reader_refs++ == 0)
		urcu_memb_register_thread();
}

void avm_reader_unregister(void)
{
	if (reader_refs && --reader_refs == 0)
		urcu_memb_unregister_thread();
}

void avm_grace_period(void)
{
	urcu_memb_synchronize_rcu();
	GP_RECLAIM();
}

int avm_addrmaps_init(struct avm_addrmaps *m)
{
	for (int s = 0; s < AVM_SPACE_COUNT; s++)
		atomic_init(&m->space[s], NULL);
	return -pthread_mutex_init(&m->update_lock, NULL);
}

void avm_addrmaps_fini(struct avm_addrmaps *m)
{
	/* Let pending call_rcu frees run before the memory goes away. */
	urcu_memb_barrier();
	for (int s = 0; s < AVM_SPACE_COUNT; s++)
		free(atomic_load(&m->space[s]));
	pthread_mutex_destroy(&m->update_lock);
}

const struct avm_map_entry *
avm_addrmap_lookup(struct avm_addrmaps *m, enum avm_space space, uint64_t addr)
{
	/* Acquire pairs with the updater's release: entries are complete. */
	struct avm_addrmap *map =
		atomic_load_explicit(&m->space[space], memory_order_acquire);
	unsigned lo = 0, hi;

	if (!map)
		return NULL;
	hi = map->n;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (addr < map->e[mid].base)
			hi = mid;
		else if (addr > map->e[mid].last)
			lo = mid + 1;
		else
			return &map->e[mid];
	}
	return NULL;
}

static void free_map_cb(struct rcu_head *head)
{
	GP_RECLAIM();
	free(caa_container_of(head, struct avm_addrmap, rcu));
}

static void publish(struct avm_addrmaps *m, enum avm_space space,
		    struct avm_addrmap *next)
{
	struct avm_addrmap *old = atomic_exchange_explicit(
		&m->space[space], next, memory_order_acq_rel);

	if (old)
		urcu_memb_call_rcu(&old->rcu, free_map_cb);
}

static struct avm_addrmap *map_alloc(unsigned n)
{
	struct avm_addrmap *map =
		calloc(1, sizeof(*map) + n * sizeof(map->e[0]));

	if (map)
		map->n = n;
	return map;
}

/* Copy @old into a new map with @e inserted in order, in *@out. -EEXIST if
 * the region is already mapped, -EBUSY on overlap, -ENOMEM. */
static int map_with(const struct avm_addrmap *old,
		    const struct avm_map_entry *e, struct avm_addrmap **out)
{
	unsigned n = old ? old->n : 0, i, j = 0;
	struct avm_addrmap *map = map_alloc(n + 1);

	if (!map)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct avm_map_entry *o = &old->e[i];

		if (o->actor == e->actor && o->region == e->region)
			goto undo_alloc_exist;
		if (o->base <= e->last && e->base <= o->last)
			goto undo_alloc_busy;
		if (j == i && o->base > e->last)
			map->e[j++] = *e;
		map->e[j++] = *o;
	}
	if (j == n)
		map->e[j++] = *e;
	*out = map;
	return 0;

undo_alloc_exist:
	free(map);
	return -EEXIST;
undo_alloc_busy:
	free(map);
	return -EBUSY;
}

int avm_addrmap_insert(struct avm_addrmaps *m, enum avm_space space,
		       const struct avm_map_entry *e)
{
	struct avm_addrmap *next;
	int err;

	if (space >= AVM_SPACE_COUNT || e->last < e->base)
		return -EINVAL;
	pthread_mutex_lock(&m->update_lock);
	err = map_with(
		atomic_load_explicit(&m->space[space], memory_order_relaxed), e,
		&next);
	if (!err)
		publish(m, space, next);
	pthread_mutex_unlock(&m->update_lock);
	return err;
}

int avm_addrmap_remove(struct avm_addrmaps *m, enum avm_space space,
		       const struct avm_actor *actor, unsigned region)
{
	struct avm_addrmap *old, *next;
	unsigned i, j = 0;
	int err = -ENOENT;

	if (space >= AVM_SPACE_COUNT)
		return -EINVAL;
	pthread_mutex_lock(&m->update_lock);
	old = atomic_load_explicit(&m->space[space], memory_order_relaxed);
	if (!old)
		goto out_unlock;
	next = map_alloc(old->n);
	if (!next) {
		err = -ENOMEM;
		goto out_unlock;
	}
	for (i = 0; i < old->n; i++) {
		if (old->e[i].actor == actor && old->e[i].region == region)
			err = 0;
		else
			next->e[j++] = old->e[i];
	}
	next->n = j;
	if (err)
		free(next);
	else
		publish(m, space, next);
out_unlock:
	pthread_mutex_unlock(&m->update_lock);
	return err;
}
