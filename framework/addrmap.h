/* SPDX-License-Identifier: MIT */
/*
 * Address dispatch: for each space, an immutable sorted array of mapped
 * ranges, published through an RCU-protected pointer (liburcu, memb flavour:
 * readers pay a compiler barrier, the updater pays the grace period). A new
 * map replaces the old one whole; the old one is freed by call_rcu once every
 * reader has left it.
 */
#ifndef AVM_ADDRMAP_H
#define AVM_ADDRMAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <actorvm/actor.h>

struct avm_actor;

struct avm_map_entry {
	uint64_t base;
	uint64_t last; /* inclusive, so a range may end at UINT64_MAX */
	struct avm_actor *actor;
	const struct avm_region_desc *rd;
	unsigned region;
};

struct avm_addrmap;

struct avm_addrmaps {
	_Atomic(struct avm_addrmap *) space[AVM_SPACE_COUNT];
	pthread_mutex_t update_lock; /* serialises updaters, never readers */
};

int avm_addrmaps_init(struct avm_addrmaps *m);
void avm_addrmaps_fini(struct avm_addrmaps *m);

/* Readers: bracket lookups and the use of what they return. */
void avm_read_lock(void);
void avm_read_unlock(void);
/* Each thread that reads registers once (accessors and actor threads). */
void avm_reader_register(void);
void avm_reader_unregister(void);

/* Within a read-side section: the entry covering @addr, or NULL. */
const struct avm_map_entry *
avm_addrmap_lookup(struct avm_addrmaps *m, enum avm_space space, uint64_t addr);

/* Updaters. -EBUSY on overlap, -EEXIST if already mapped, -ENOENT. */
int avm_addrmap_insert(struct avm_addrmaps *m, enum avm_space space,
		       const struct avm_map_entry *e);
int avm_addrmap_remove(struct avm_addrmaps *m, enum avm_space space,
		       const struct avm_actor *actor, unsigned region);

/* Wait until every reader that might have seen old state has left. */
void avm_grace_period(void);

#endif /* AVM_ADDRMAP_H */
