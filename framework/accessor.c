/* SPDX-License-Identifier: MIT */
/*
 * Accessors: the VCPU side of a guest access. This is the hot path: one map
 * lookup under an RCU read lock, then a direct-register load, a posted write
 * or a synchronous request.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "iso.h"

int avm_accessor_new(avm_runtime *rt, const char *name, avm_accessor **out)
{
	avm_accessor *acc = aligned_alloc(AVM_CACHELINE, sizeof(*acc));

	if (!acc)
		return -ENOMEM;
	memset(acc, 0, sizeof(*acc));
	acc->rt = rt;
	acc->name = strdup(name ? name : "accessor");
	if (!acc->name) {
		free(acc);
		return -ENOMEM;
	}
	acc->id = atomic_fetch_add(&rt->next_accessor, 1);
	avm_reader_register();
	*out = acc;
	return 0;
}

/*
 * Queued writes point at our slot (for their acks): wait until every one
 * was handled. Stopping actors drain or bounce what they hold, so this ends;
 * if it does not by the deadline, leak the accessor rather than free memory
 * an actor will still write.
 */
static bool writes_settled(avm_accessor *acc)
{
	uint64_t deadline = avm_mono_ns() + acc->rt->cfg.read_deadline_ns;

	while (atomic_load_explicit(&acc->slot.acked, memory_order_acquire) !=
	       acc->posted) {
		if (acc->rt->exec->settle)
			acc->rt->exec->settle(acc->rt);
		else
			sched_yield();
		if (avm_mono_ns() > deadline)
			return false;
	}
	return true;
}

void avm_accessor_free(avm_accessor *acc)
{
	if (!acc)
		return;
	if (atomic_load(&acc->slot.broken)) {
		/* Its late reply may still be written: never free the slot. */
		avm_reader_unregister();
		return;
	}
	if (!writes_settled(acc)) {
		avm__log(acc->rt, AVM_LOG_ERROR, NULL,
			 "accessor %s freed with %llu writes unhandled; leaked",
			 acc->name,
			 (unsigned long long)(acc->posted -
					      atomic_load(&acc->slot.acked)));
		avm_reader_unregister();
		return;
	}
	avm_reader_unregister();
	free(acc->name);
	free(acc);
}

static uint64_t next_corr(avm_accessor *acc)
{
	/* Top bit marks accessor ids apart from actor-made ids. */
	return (1ull << 63) | ((uint64_t)acc->id << 40) | ++acc->next_corr;
}

static bool valid_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Under the read lock: find the owner and check the access fits inside. */
static int resolve(avm_accessor *acc, enum avm_space space, uint64_t addr,
		   unsigned size, const struct avm_map_entry **out)
{
	const struct avm_map_entry *e;

	if (space >= AVM_SPACE_COUNT || !valid_size(size))
		return -EINVAL;
	e = avm_addrmap_lookup(&acc->rt->maps, space, addr);
	if (!e || size - 1 > e->last - addr)
		return -ENXIO;
	*out = e;
	return 0;
}

static bool direct_read(avm_accessor *acc, const struct avm_map_entry *e,
			uint64_t off, unsigned size, uint64_t *val)
{
	const struct avm_region_desc *rd = e->rd;

	/* A stopped device answers nothing, published values included. */
	if (atomic_load_explicit(&e->actor->run_state, memory_order_relaxed) !=
	    AVM_ACTOR_RUNNING)
		return false;
	/* Acquire: our posted writes must all be handled before we bypass. */
	if (atomic_load_explicit(&acc->slot.acked, memory_order_acquire) !=
	    acc->posted)
		return false;
	for (unsigned i = 0; i < rd->n_direct; i++) {
		if (rd->direct[i].offset != off || rd->direct[i].size != size)
			continue;
		/* A device process publishes in its shared memory. */
		if (e->actor->iso)
			return avm__iso_direct(e->actor, rd->direct[i].slot,
					       val);
		*val = atomic_load_explicit(
			&e->actor->direct[rd->direct[i].slot],
			memory_order_acquire);
		return true;
	}
	return false;
}

static int call(avm_accessor *acc, struct avm_actor *dst, struct avm_msg *m,
		uint64_t *val, bool locked)
{
	avm_runtime *rt = acc->rt;
	uint64_t deadline;
	int err;

	if (atomic_load(&acc->slot.broken)) {
		if (locked)
			avm_read_unlock();
		return -EIO; /* a lost reply may still land in its slot */
	}
	m->src = AVM_ACTOR_NONE;
	m->corr = next_corr(acc);
	m->fw.slot = &acc->slot;
	m->fw.flags = 0;
	avm_slot_arm(&acc->slot, m->corr);
	if (!locked)
		avm_read_lock();
	err = avm__post(dst, m, NULL);
	avm_read_unlock();
	if (err) {
		avm_slot_abandon(&acc->slot, m->corr);
		avm_msg_release(m);
		return err;
	}
	deadline = avm_mono_ns() + rt->cfg.read_deadline_ns;
	err = rt->exec->wait_reply(acc, &acc->slot, m->corr, deadline, val);
	if (err == -EIO && atomic_load(&acc->slot.broken))
		avm__log(rt, AVM_LOG_ERROR, NULL,
			 "accessor %s: a reply its replier claimed never came; "
			 "the accessor fails every request from now on",
			 acc->name);
	return err;
}

int avm_read(avm_accessor *acc, enum avm_space space, uint64_t addr,
	     unsigned size, uint64_t *val)
{
	const struct avm_map_entry *e;
	struct avm_msg m = { .kind = AVM_MSG_READ };
	int err;

	avm_read_lock();
	err = resolve(acc, space, addr, size, &e);
	if (err) {
		avm_read_unlock();
		return err;
	}
	if (direct_read(acc, e, addr - e->base, size, val)) {
		avm_read_unlock();
		return 0;
	}
	m.access.region = e->region;
	m.access.offset = addr - e->base;
	m.access.size = (uint8_t)size;
	/* call() drops the read lock once the request is queued. */
	return call(acc, e->actor, &m, val, true);
}

int avm_write(avm_accessor *acc, enum avm_space space, uint64_t addr,
	      unsigned size, uint64_t val)
{
	const struct avm_map_entry *e;
	struct avm_msg m = { .kind = AVM_MSG_WRITE };
	int err;

	avm_read_lock();
	err = resolve(acc, space, addr, size, &e);
	if (!err) {
		m.access.region = e->region;
		m.access.offset = addr - e->base;
		m.access.size = (uint8_t)size;
		m.access.value =
			size == 8 ? val : val & ((1ull << (size * 8)) - 1);
		m.src = AVM_ACTOR_NONE;
		m.corr = next_corr(acc);
		m.fw.slot = &acc->slot;
		m.fw.flags = AVM_MF_ACK;
		err = avm__post(e->actor, &m, NULL);
		if (!err)
			acc->posted++;
	}
	avm_read_unlock();
	return err;
}

/* Kinds only the framework makes: stop, a device process's start and
 * death (a trace must not show a forged one). */
static bool framework_kind(uint16_t kind)
{
	return kind == AVM_MSG_STOP || kind == AVM_MSG_PROC_START ||
	       kind == AVM_MSG_PROC_EXIT;
}

int avm_request(avm_accessor *acc, avm_actor_id dst, struct avm_msg *msg,
		uint64_t *val)
{
	struct avm_actor *a = avm__actor(acc->rt, dst);

	if (!a) {
		avm_msg_release(msg);
		return -ENOENT;
	}
	if (framework_kind(msg->kind) || msg->kind == AVM_MSG_RESET) {
		avm_msg_release(msg);
		return -EINVAL;
	}
	return call(acc, a, msg, val, false);
}

int avm_post(avm_accessor *acc, avm_actor_id dst, struct avm_msg *msg)
{
	struct avm_actor *a = avm__actor(acc->rt, dst);
	int err;

	if (!a || framework_kind(msg->kind)) {
		avm_msg_release(msg);
		return a ? -EINVAL : -ENOENT;
	}
	msg->src = AVM_ACTOR_NONE;
	msg->fw.slot = NULL;
	msg->fw.flags = 0;
	if (!msg->corr)
		msg->corr = next_corr(acc);
	avm_read_lock();
	err = avm__post(a, msg, NULL);
	avm_read_unlock();
	if (err)
		avm_msg_release(msg);
	return err;
}
