/* SPDX-License-Identifier: MIT */
/* Runtime set-up and teardown: actors, bindings, RAM, lifecycle, logging. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "iso.h"
#include "ops_check.h"

#define AVM_DEFAULT_MAX_ACTORS	64
#define AVM_DEFAULT_DEADLINE_NS 1000000000ull
#define AVM_DEFAULT_SPIN_NS	20000

static const char *const level_names[] = { "?", "error", "warning", "info",
					   "debug" };

static void log_stderr(void *arg, int level, const char *actor,
		       const char *line)
{
	(void)arg;
	fprintf(stderr, "actorvm: %s%s%s: %s\n", actor ? actor : "",
		actor ? ": " : "",
		level_names[level >= 1 && level <= 4 ? level : 0], line);
}

static void vlog(avm_runtime *rt, int level, const char *actor, const char *fmt,
		 va_list ap)
{
	char line[512];

	if (level > rt->cfg.log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	rt->cfg.log(rt->cfg.log_arg, level, actor, line);
}

void avm__log(avm_runtime *rt, int level, const char *actor, const char *fmt,
	      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(rt, level, actor, fmt, ap);
	va_end(ap);
}

void avm_runtime_log(avm_runtime *rt, int level, const char *actor,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(rt, level, actor, fmt, ap);
	va_end(ap);
}

void avm_runtime_data_lost(avm_runtime *rt)
{
	atomic_fetch_add(&rt->losses, 1);
}

unsigned avm_runtime_losses(avm_runtime *rt)
{
	return atomic_load(&rt->losses);
}

static const struct avm_exec_ops *exec_of(enum avm_exec_kind kind)
{
	switch (kind) {
	case AVM_EXEC_THREADED:
		return &avm_exec_threaded;
	case AVM_EXEC_BIGLOCK:
		return &avm_exec_biglock;
	case AVM_EXEC_DETERMINISTIC:
		return &avm_exec_deterministic;
	}
	return NULL;
}

static void apply_defaults(struct avm_runtime_config *c)
{
	if (!c->read_deadline_ns)
		c->read_deadline_ns = AVM_DEFAULT_DEADLINE_NS;
	if (!c->reply_spin_ns)
		c->reply_spin_ns = AVM_DEFAULT_SPIN_NS;
	if (!c->max_actors)
		c->max_actors = AVM_DEFAULT_MAX_ACTORS;
	if (!c->log)
		c->log = log_stderr;
	if (!c->log_level)
		c->log_level = AVM_LOG_INFO;
}

int avm_runtime_new(const struct avm_runtime_config *cfg, avm_runtime **out)
{
	avm_runtime *rt = calloc(1, sizeof(*rt));
	int err = -ENOMEM;

	if (!rt)
		return -ENOMEM;
	if (cfg)
		rt->cfg = *cfg;
	apply_defaults(&rt->cfg);
	rt->exec = exec_of(rt->cfg.exec);
	if (!rt->exec) {
		err = -EINVAL;
		goto undo_rt;
	}
	rt->actors = calloc(rt->cfg.max_actors, sizeof(*rt->actors));
	if (!rt->actors)
		goto undo_rt;
	err = avm_addrmaps_init(&rt->maps);
	if (err)
		goto undo_actors;
	pthread_mutex_init(&rt->exit_lock, NULL);
	pthread_cond_init(&rt->exit_cond, NULL);
	err = avm__tracer_new(rt);
	if (err)
		goto undo_maps;
	err = rt->exec->init(rt);
	if (err)
		goto undo_tracer;
	*out = rt;
	return 0;

undo_tracer:
	avm__tracer_free(rt);
undo_maps:
	avm_addrmaps_fini(&rt->maps);
undo_actors:
	free(rt->actors);
undo_rt:
	free(rt);
	return err;
}

static void actor_free_parts(struct avm_actor *a)
{
	avm__iso_free(a);
	free(a->bases);
	free(a->levels);
	free(a->routes);
	free(a->ports);
	free(a->state);
	free(a->name);
	free(a);
}

static void actor_free(struct avm_actor *a)
{
	a->rt->exec->actor_fini(a);
	actor_free_parts(a);
}

void avm_runtime_free(avm_runtime *rt)
{
	if (!rt)
		return;
	avm_runtime_stop(rt);
	avm__tracer_free(rt); /* stops a running trace, flushes its file */
	for (unsigned i = rt->n_actors; i-- > 0;)
		actor_free(rt->actors[i]);
	rt->exec->fini(rt);
	avm_addrmaps_fini(&rt->maps);
	for (unsigned i = 0; i < rt->n_ram; i++)
		munmap(rt->ram[i].host, rt->ram[i].size);
	free(rt->ram);
	free(rt->actors);
	pthread_cond_destroy(&rt->exit_cond);
	pthread_mutex_destroy(&rt->exit_lock);
	free(rt);
}

enum avm_exec_kind avm_runtime_exec(const avm_runtime *rt)
{
	return rt->cfg.exec;
}

struct avm_actor *avm__actor(avm_runtime *rt, avm_actor_id id)
{
	return id < rt->n_actors ? rt->actors[id] : NULL;
}

/* A device process needs the threaded executor's loop (its eventfd, its
 * timers) and an actor that is a device, not a CPU. */
static int check_isolation(avm_runtime *rt, const struct avm_actor_spec *spec)
{
	const struct avm_isolation *iso = &spec->isolation;
	const char *why = NULL;

	if (!iso->process)
		return 0;
	if (rt->exec != &avm_exec_threaded &&
	    rt->exec != &avm_exec_deterministic)
		why = "needs the threaded or the deterministic executor";
	else if (spec->ops->run)
		why = "cannot be a self-driven actor (a CPU)";
	else if (iso->on_failure > AVM_ON_FAILURE_REMOVE)
		why = "has an unknown on-failure policy";
	else if (iso->max_restarts > 64)
		why = "allows more than 64 restarts per window";
	if (!why)
		return 0;
	avm__log(rt, AVM_LOG_ERROR, spec->name, "a device process %s", why);
	return -EINVAL;
}

static int check_spec(avm_runtime *rt, const struct avm_actor_spec *spec)
{
	avm_actor_id dup;
	int err;

	if (!spec || !spec->ops || !spec->name || !spec->name[0]) {
		avm__log(rt, AVM_LOG_ERROR, NULL, "actor spec without %s",
			 !spec	      ? "anything"
			 : !spec->ops ? "ops"
				      : "a name");
		return -EINVAL;
	}
	if (spec->rt_priority < 0 || spec->rt_priority > 99) {
		avm__log(rt, AVM_LOG_ERROR, spec->name,
			 "rt_priority %d (expected 0..99)", spec->rt_priority);
		return -EINVAL;
	}
	err = avm__ops_check(rt, spec->name, spec->ops);
	if (err)
		return err;
	if (spec->ops->run && !rt->exec->poll)
		return -ENOTSUP; /* self-driven actors need a thread of their
				    own */
	err = check_isolation(rt, spec);
	if (err)
		return err;
	if (rt->started)
		return -EBUSY;
	if (rt->n_actors == rt->cfg.max_actors)
		return -ENOSPC;
	if (!avm_actor_find(rt, spec->name, &dup))
		return -EEXIST;
	return 0;
}

static struct avm_actor *actor_alloc(avm_runtime *rt,
				     const struct avm_actor_spec *spec)
{
	struct avm_actor *a = aligned_alloc(AVM_CACHELINE, sizeof(*a));
	unsigned np = spec->ops->n_ports, nr = spec->ops->n_regions;

	if (!a)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->rt = rt;
	a->ops = spec->ops;
	a->spec = *spec;
	a->config = spec->config;
	a->name = strdup(spec->name);
	a->state = calloc(1, spec->ops->state_size ? spec->ops->state_size : 1);
	a->ports = calloc(np ? np : 1, sizeof(*a->ports));
	a->routes = calloc(np ? np : 1, sizeof(*a->routes));
	a->levels = calloc(np ? np : 1, sizeof(*a->levels));
	a->bases = calloc(nr ? nr : 1, sizeof(*a->bases));
	if (!a->name || !a->state || !a->ports || !a->routes || !a->levels ||
	    !a->bases) {
		actor_free_parts(a);
		return NULL;
	}
	a->spec.name = a->name;
	for (unsigned i = 0; i < np; i++) {
		atomic_init(&a->ports[i], AVM_PORT_UNBOUND);
		atomic_init(&a->routes[i], AVM_PORT_UNBOUND);
	}
	for (unsigned i = 0; i < nr; i++)
		atomic_init(&a->bases[i], UINT64_MAX);
	if (spec->isolation.process && avm__iso_new(a)) {
		actor_free_parts(a);
		return NULL;
	}
	return a;
}

int avm_actor_create(avm_runtime *rt, const struct avm_actor_spec *spec,
		     avm_actor_id *out)
{
	struct avm_actor *a;
	int err = check_spec(rt, spec);

	if (err)
		return err;
	a = actor_alloc(rt, spec);
	if (!a)
		return -ENOMEM;
	a->id = rt->n_actors;
	err = rt->exec->actor_init(a);
	if (err) {
		actor_free_parts(a);
		return err;
	}
	rt->actors[rt->n_actors++] = a;
	if (out)
		*out = a->id;
	return 0;
}

int avm_actor_find(avm_runtime *rt, const char *name, avm_actor_id *out)
{
	for (unsigned i = 0; i < rt->n_actors; i++) {
		if (!strcmp(rt->actors[i]->name, name)) {
			*out = i;
			return 0;
		}
	}
	return -ENOENT;
}

const char *avm_actor_name(avm_runtime *rt, avm_actor_id id)
{
	struct avm_actor *a = avm__actor(rt, id);

	return a ? a->name : NULL;
}

const void *avm_actor_config(avm_runtime *rt, avm_actor_id id)
{
	struct avm_actor *a = avm__actor(rt, id);

	return a ? a->config : NULL;
}

void *avm_actor_state(avm_runtime *rt, avm_actor_id id)
{
	struct avm_actor *a = avm__actor(rt, id);

	if (!a || rt->cfg.exec != AVM_EXEC_DETERMINISTIC)
		return NULL;
	return a->state;
}

int avm_actor_stats(avm_runtime *rt, avm_actor_id id,
		    struct avm_actor_stats *out)
{
	struct avm_actor *a = avm__actor(rt, id);

	if (!a)
		return -ENOENT;
	out->handled = atomic_load(&a->handled);
	out->dropped = atomic_load(&a->dropped);
	out->bounced = atomic_load(&a->bounced);
	out->outbox_max = atomic_load(&a->outbox_max);
	return 0;
}

int avm_bind(avm_runtime *rt, avm_actor_id src, const char *port,
	     avm_actor_id dst, uint32_t arg)
{
	struct avm_actor *a = avm__actor(rt, src);

	if (!a || !port || !avm__actor(rt, dst))
		return -ENOENT;
	for (unsigned i = 0; i < a->ops->n_ports; i++) {
		if (strcmp(a->ops->ports[i], port))
			continue;
		/* Release: a sender that sees the route sees a live actor.
		 * A new binding also drops any route published for the old. */
		atomic_store_explicit(&a->ports[i], avm__pack_binding(dst, arg),
				      memory_order_release);
		atomic_store_explicit(&a->routes[i], AVM_PORT_UNBOUND,
				      memory_order_release);
		return 0;
	}
	return -ENOENT;
}

unsigned avm_actor_count(avm_runtime *rt)
{
	return rt->n_actors;
}

const struct avm_device_ops *avm_actor_ops(avm_runtime *rt, avm_actor_id id)
{
	struct avm_actor *a = avm__actor(rt, id);

	return a ? a->ops : NULL;
}

int avm_actor_port(avm_runtime *rt, avm_actor_id id, unsigned port,
		   avm_actor_id *dst, uint32_t *arg)
{
	struct avm_actor *a = avm__actor(rt, id);
	uint64_t b;

	if (!a || port >= a->ops->n_ports)
		return -ENOENT;
	b = atomic_load_explicit(&a->ports[port], memory_order_acquire);
	if (b == AVM_PORT_UNBOUND)
		return -ENOTCONN;
	*dst = (avm_actor_id)(b >> 32);
	*arg = (uint32_t)b;
	return 0;
}

int avm_region_base(avm_runtime *rt, avm_actor_id id, unsigned region,
		    uint64_t *base)
{
	struct avm_actor *a = avm__actor(rt, id);

	if (!a || region >= a->ops->n_regions)
		return -ENOENT;
	*base = atomic_load_explicit(&a->bases[region], memory_order_relaxed);
	return *base == UINT64_MAX ? -ENXIO : 0;
}
