/* SPDX-License-Identifier: MIT */
/*
 * The journal of an actor's calls (actorvm/trace.h, "Journal"): one entry
 * per call between the actor and the framework, recorded into the trace
 * while a trace runs, or matched against a recording by the replay engine
 * (replay.c). The call sites (ctx.c, dma.c, route.c, lifecycle.c) build the
 * entry; this file numbers it and sends it one way or the other.
 */
#include "internal.h"

const struct avm_journal_entry *avm__journal(struct avm_actor *a,
					     struct avm_journal_entry *e)
{
	e->actor = a->id;
	if (avm__jmode(a) == AVM_JMODE_REPLAY)
		return avm__replay_match(a->replay, e);
	/* Numbered even while paused: the missing entries show as a gap. */
	e->seq = a->jseq++;
	if (atomic_load_explicit(&a->rt->trace_on, memory_order_relaxed))
		avm__trace_journal(a->rt, e);
	return NULL;
}

void avm__journal_msg(struct avm_actor *a, unsigned type,
		      const struct avm_msg *m, uint32_t flags)
{
	struct avm_journal_entry e = { .type = (uint8_t)type };
	struct avm_msg_user f;
	size_t len;

	avm__journal_fill_msg(&e, m, &f);
	e.flags = flags;
	e.data = avm_msg_payload(m, &len);
	e.data_len = (uint32_t)len;
	avm__journal(a, &e);
}

void avm__journal_fill_msg(struct avm_journal_entry *e, const struct avm_msg *m,
			   struct avm_msg_user *f)
{
	avm__msg_flatten(m, f);
	e->kind = m->kind;
	e->src = m->src;
	e->dst = AVM_ACTOR_NONE;
	e->port = -1;
	e->corr = m->corr;
	e->cause = m->cause;
	e->arg = f->arg;
	e->size = f->size;
	e->status = f->status;
	e->addr = f->addr;
	e->value = f->value;
}

void avm__journal_call(struct avm_actor *a, unsigned type, uint32_t arg,
		       uint64_t addr, uint64_t value, int result)
{
	struct avm_journal_entry e = { .type = (uint8_t)type,
				       .arg = arg,
				       .addr = addr,
				       .value = value,
				       .result = result,
				       .port = -1,
				       .dst = AVM_ACTOR_NONE,
				       .src = AVM_ACTOR_NONE };

	avm__journal(a, &e);
}
