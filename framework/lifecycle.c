/* SPDX-License-Identifier: MIT */
/* Starting, stopping and resetting actors, common to every executor. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"
#include "iso.h"

static void lock_memory(avm_runtime *rt)
{
	if (!rt->cfg.mlock)
		return;
	/* Page faults are latency: keep everything resident if we may. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		avm__log(rt, AVM_LOG_WARN, NULL,
			 "mlockall refused (%s); memory may page out",
			 strerror(errno));
}

int avm_runtime_start(avm_runtime *rt)
{
	int err;

	if (rt->started)
		return -EALREADY;
	lock_memory(rt);
	err = rt->exec->start(rt);
	if (err) {
		avm_runtime_stop(rt);
		return err;
	}
	rt->started = true;
	return 0;
}

void avm_runtime_stop(avm_runtime *rt)
{
	/* Reverse creation order: dependents stop before what they use. */
	for (unsigned i = rt->n_actors; i-- > 0;) {
		struct avm_actor *a = rt->actors[i];
		int expect = AVM_ACTOR_RUNNING;

		if (!atomic_compare_exchange_strong(&a->run_state, &expect,
						    AVM_ACTOR_STOPPING)) {
			if (expect == AVM_ACTOR_CREATED) {
				avm__actor_fini(a);
				atomic_store(&a->run_state, AVM_ACTOR_STOPPED);
			}
			continue;
		}
		/* Every post that saw RUNNING has finished after this. */
		avm_grace_period();
		rt->exec->stop_actor(a);
		atomic_store(&a->run_state, AVM_ACTOR_STOPPED);
	}
	rt->started = false;
}

void avm_vm_exit(avm_ctx *ctx, int code)
{
	avm_runtime *rt = ctx->self->rt;

	if (ctx->self->isoc) {
		avm__isoc_vm_exit(ctx->self, code);
		return;
	}
	if (avm__jmode(ctx->self))
		avm__journal_call(ctx->self, AVM_J_VM_EXIT, 0, 0,
				  (uint64_t)(int64_t)code, 0);
	/* A replayed exit is compared, not made. */
	if (avm__jmode(ctx->self) == AVM_JMODE_REPLAY)
		return;

	pthread_mutex_lock(&rt->exit_lock);
	if (!rt->exited) {
		rt->exited = true;
		rt->exit_code = code;
		pthread_cond_broadcast(&rt->exit_cond);
	}
	pthread_mutex_unlock(&rt->exit_lock);
}

int avm_runtime_wait_exit(avm_runtime *rt, int64_t timeout_ns, int *code)
{
	struct timespec until;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	if (timeout_ns >= 0) {
		until.tv_sec += timeout_ns / 1000000000;
		until.tv_nsec += timeout_ns % 1000000000;
		until.tv_sec += until.tv_nsec / 1000000000;
		until.tv_nsec %= 1000000000;
	}
	pthread_mutex_lock(&rt->exit_lock);
	while (!rt->exited && !err)
		err = timeout_ns < 0
			      ? pthread_cond_wait(&rt->exit_cond,
						  &rt->exit_lock)
			      : pthread_cond_timedwait(&rt->exit_cond,
						       &rt->exit_lock, &until);
	if (rt->exited && code)
		*code = rt->exit_code;
	err = rt->exited ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&rt->exit_lock);
	return err;
}

struct avm_runtime *avm_runtime_of(avm_ctx *ctx)
{
	return ctx->self->rt;
}

static int ram_block(avm_runtime *rt, unsigned i, uint64_t *gpa, uint64_t *size,
		     void **host)
{
	if (i >= rt->n_ram)
		return -ENOENT;
	*gpa = rt->ram[i].gpa;
	*size = rt->ram[i].size;
	*host = rt->ram[i].host;
	return 0;
}

/* Journaled: where RAM is, is input; a replay has no RAM to point at. */
static int ram_block_journaled(struct avm_actor *a, unsigned i, uint64_t *gpa,
			       uint64_t *size, void **host)
{
	struct avm_journal_entry e = { .type = AVM_J_RAM_BLOCK, .arg = i };
	const struct avm_journal_entry *r;

	if (avm__jmode(a) == AVM_JMODE_REPLAY) {
		r = avm__journal(a, &e);
		if (!r)
			return -EIO;
		*gpa = r->addr;
		*size = r->value;
		*host = NULL;
		return r->result;
	}
	e.result = ram_block(a->rt, i, gpa, size, host);
	e.addr = e.result ? 0 : *gpa;
	e.value = e.result ? 0 : *size;
	avm__journal(a, &e);
	return e.result;
}

int avm_ram_block(avm_ctx *ctx, unsigned i, uint64_t *gpa, uint64_t *size,
		  void **host)
{
	if (avm__jmode(ctx->self))
		return ram_block_journaled(ctx->self, i, gpa, size, host);
	return ram_block(ctx->self->rt, i, gpa, size, host);
}

int avm_actor_reset(avm_runtime *rt, avm_actor_id id)
{
	struct avm_actor *a = avm__actor(rt, id);
	struct avm_msg m = { .kind = AVM_MSG_RESET, .src = AVM_ACTOR_NONE };
	int err;

	if (!a)
		return -ENOENT;
	avm_reader_register();
	avm_read_lock();
	err = avm__post(a, &m, NULL);
	avm_read_unlock();
	avm_reader_unregister();
	return err;
}
