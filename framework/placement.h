/* SPDX-License-Identifier: MIT */
/*
 * Where an actor's own thread runs (its spec's cpus and rt_priority): one
 * function for every executor that gives an actor a thread of its own.
 */
#ifndef AVM_PLACEMENT_H
#define AVM_PLACEMENT_H

#include <stdbool.h>

struct avm_actor;

/*
 * avm__place_self() - apply @a's placement to the calling thread, which
 * must be @a's own. What the host refuses is logged as a warning and the
 * thread runs as it was. Returns true if SCHED_FIFO was granted.
 */
bool avm__place_self(struct avm_actor *a);

#endif /* AVM_PLACEMENT_H */
