/* SPDX-License-Identifier: MIT */
/*
 * The handler context (the only way out of a device) and message delivery,
 * shared by every executor.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/trace.h>

#include "internal.h"
#include "iso.h"

enum avm_lane avm__lane_of(uint16_t kind)
{
	switch (kind) {
	case AVM_MSG_STOP:
	case AVM_MSG_RESET:
		return AVM_LANE_CONTROL;
	case AVM_MSG_READ:
	case AVM_MSG_WRITE:
		return AVM_LANE_ACCESS;
	default:
		return kind >= AVM_MSG_CONTROL_USER && kind < AVM_MSG_USER
			       ? AVM_LANE_CONTROL
			       : AVM_LANE_BACKGROUND;
	}
}

bool avm__is_request(const struct avm_msg *m)
{
	return (m->fw.slot && !(m->fw.flags & AVM_MF_ACK)) ||
	       (m->fw.flags & AVM_MF_ANSWER_TO_SRC);
}

static void count(_Atomic uint64_t *c)
{
	/* Single writer (the actor's thread): no locked RMW needed. */
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

uint64_t avm__corr(struct avm_actor *a)
{
	/* Actor-made ids: actor id + 1 in the top 16 bits, a sequence below. */
	return ((uint64_t)(a->id + 1) << 48) | ++a->next_corr;
}

int avm__post(struct avm_actor *dst, struct avm_msg *m, struct avm_actor *from)
{
	/* Acquire: a stopper sets STOPPING, then waits a grace period. */
	if (atomic_load_explicit(&dst->run_state, memory_order_acquire) !=
	    AVM_ACTOR_RUNNING) {
		atomic_fetch_add_explicit(&dst->bounced, 1,
					  memory_order_relaxed);
		return -ESHUTDOWN;
	}
	m->fw.lane = (uint8_t)avm__lane_of(m->kind);
	AVM_TRACE_MSG(dst->rt, AVM_TRACE_POSTED, dst->id, m);
	return dst->rt->exec->post(dst, m, from);
}

static void observe_send(struct avm_actor *a, int port, avm_actor_id dst,
			 const struct avm_msg *m, int result)
{
	if (a->rt->exec->on_send)
		a->rt->exec->on_send(a, port, dst, m, result);
}

/* @flags: AVM_MF_ASK or 0. Whatever framework state the envelope carried
 * (a device may resend a message it was given) is replaced. */
static int send_common(struct avm_actor *a, int port, avm_actor_id dst,
		       struct avm_msg *m, unsigned flags)
{
	struct avm_actor *d;
	int err;

	/* The stop kind and the process events are the framework's own:
	 * never a device's to send (a trace must not show a forged death). */
	if (m->kind == AVM_MSG_STOP || m->kind == AVM_MSG_PROC_START ||
	    m->kind == AVM_MSG_PROC_EXIT) {
		avm_msg_release(m);
		return -EINVAL;
	}
	m->fw.slot = NULL;
	m->fw.flags = (uint8_t)flags;
	m->src = a->id;
	if (!m->corr)
		m->corr = avm__corr(a);
	m->cause = a->cur_corr;
	avm_read_lock();
	d = avm__actor(a->rt, dst);
	err = d ? avm__post(d, m, a) : -ENOENT;
	avm_read_unlock();
	/* After the post, so the observer learns its result; the payload is
	 * still ours to show until released below. */
	observe_send(a, port, dst, m, err);
	if (err) {
		avm_msg_release(m);
		atomic_fetch_add_explicit(&a->dropped, 1, memory_order_relaxed);
	}
	return err;
}

void avm__complete(struct avm_actor *a, struct avm_msg *m, uint64_t val,
		   int err)
{
	if (avm__jmode(a)) {
		avm__journal_call(a, AVM_J_REPLY, 0, 0, val, err);
		/* Replayed: the request came from the journal, nobody waits. */
		if (avm__jmode(a) == AVM_JMODE_REPLAY)
			return;
	}
	if (atomic_load_explicit(&a->rt->trace_on, memory_order_relaxed))
		avm__trace_reply(a->rt, a->id, m, val, err);
	if (m->fw.flags & AVM_MF_DMA_READ) {
		/* The request's corr: a trace links the two. */
		struct avm_msg done = {
			.kind = AVM_MSG_DMA_DONE,
			.corr = m->corr,
			.dma = { .status = err,
				 .token = m->corr,
				 .data = val,
				 .size = m->access.size },
		};

		send_common(a, -1, m->src, &done, 0);
	} else if (m->fw.flags & AVM_MF_ASK) {
		struct avm_msg ans = {
			.kind = AVM_MSG_REPLY,
			.corr = m->corr,
			.reply = { .status = err,
				   .token = m->corr,
				   .value = val },
		};

		send_common(a, -1, m->src, &ans, 0);
	} else if (m->fw.slot) {
		avm_slot_complete(m->fw.slot, m->corr, val, err);
	}
}

void avm__deliver(struct avm_actor *a, struct avm_msg *m)
{
	struct avm_ctx ctx = { .self = a, .cur = m };

	if (!m->corr)
		m->corr = avm__corr(a); /* timers, fds: traceable too */
	a->cur_corr = m->corr;
	AVM_TRACE_MSG(a->rt, AVM_TRACE_HANDLE_START, a->id, m);
	/* Replayed messages come from the journal: nothing to record. */
	if (avm__jmode(a) == AVM_JMODE_RECORD)
		avm__journal_msg(a,
				 m->kind == AVM_MSG_RESET ? AVM_J_RESET
							  : AVM_J_DELIVER,
				 m, avm__is_request(m) ? AVM_J_REQUEST : 0);
	if (a->iso) {
		avm__iso_deliver(a, m, &ctx);
	} else if (m->kind == AVM_MSG_RESET) {
		if (a->ops->reset)
			a->ops->reset(a->state, &ctx);
	} else {
		a->ops->handle(a->state, m, &ctx);
	}
	if (a->rt->exec->after_handle)
		a->rt->exec->after_handle(a);
	AVM_TRACE_MSG(a->rt, AVM_TRACE_HANDLE_END, a->id, m);
	a->cur_corr = 0;
	if (avm__is_request(m) && !ctx.replied)
		avm__complete(a, m, 0, -EIO);
	/* Release: a direct read ordered after this write sees its effect. */
	if (m->fw.flags & AVM_MF_ACK)
		atomic_fetch_add_explicit(&m->fw.slot->acked, 1,
					  memory_order_release);
	avm_msg_release(m);
	count(&a->handled);
}

int avm__actor_init(struct avm_actor *a)
{
	struct avm_ctx ctx = { .self = a };
	int err = 0;

	if (a->iso) {
		err = avm__iso_init(a, &ctx);
		a->inited = !err;
		return err;
	}
	if (avm__jmode(a) == AVM_JMODE_RECORD)
		avm__journal_call(a, AVM_J_INIT, 0, 0, 0, 0);
	if (a->ops->init)
		err = a->ops->init(a->state, a->config, &ctx);
	a->inited = !err;
	return err;
}

void avm__actor_fini(struct avm_actor *a)
{
	if (a->iso) {
		if (a->inited)
			avm__iso_fini(a);
		a->inited = false;
		return;
	}
	if (a->inited && a->ops->fini)
		a->ops->fini(a->state);
	a->inited = false;
}

int avm_reply(avm_ctx *ctx, uint64_t value)
{
	if (!ctx->cur || ctx->replied || !avm__is_request(ctx->cur))
		return -EINVAL;
	ctx->replied = true;
	avm__complete(ctx->self, ctx->cur, value, 0);
	return 0;
}

int avm_reply_error(avm_ctx *ctx, int err)
{
	if (!ctx->cur || ctx->replied || !avm__is_request(ctx->cur) || err >= 0)
		return -EINVAL;
	ctx->replied = true;
	avm__complete(ctx->self, ctx->cur, 0, err);
	return 0;
}

/* Replay of a call whose only input is its result. */
static int j_replay(struct avm_actor *a, unsigned type, uint32_t arg,
		    uint64_t addr, uint64_t value)
{
	struct avm_journal_entry e = {
		.type = (uint8_t)type, .arg = arg, .addr = addr, .value = value
	};
	const struct avm_journal_entry *r = avm__journal(a, &e);

	return r ? r->result : -EIO;
}

/* A send through an unbound port is dropped and counted. */
static int drop_unbound(struct avm_actor *a, unsigned port, struct avm_msg *msg)
{
	msg->src = a->id;
	observe_send(a, (int)port, AVM_ACTOR_NONE, msg, -ENOTCONN);
	avm_msg_release(msg);
	atomic_fetch_add_explicit(&a->dropped, 1, memory_order_relaxed);
	return -ENOTCONN;
}

static int send_port(avm_ctx *ctx, unsigned port, struct avm_msg *msg,
		     unsigned flags)
{
	struct avm_actor *a = ctx->self;
	uint64_t b;

	if (port >= a->ops->n_ports) {
		avm_msg_release(msg);
		return -EINVAL;
	}
	/* Seq_cst (a plain load on x86) pairs with avm_route_set(); acquire
	 * would do for the binding: what it names is complete. */
	b = atomic_load(&a->routes[port]);
	if (b == AVM_PORT_UNBOUND)
		b = atomic_load_explicit(&a->ports[port], memory_order_acquire);
	if (b == AVM_PORT_UNBOUND)
		return drop_unbound(a, port, msg);
	/* Every body begins with the word a binding's argument goes to. */
	msg->user.arg = (uint32_t)b;
	return send_common(a, (int)port, (avm_actor_id)(b >> 32), msg, flags);
}

static int send_via(avm_ctx *ctx, unsigned port, struct avm_msg *msg)
{
	struct avm_actor *a = ctx->self;
	uint64_t b;

	if (port >= a->ops->n_ports) {
		avm_msg_release(msg);
		return -EINVAL;
	}
	b = atomic_load_explicit(&a->ports[port], memory_order_acquire);
	if (b == AVM_PORT_UNBOUND)
		return drop_unbound(a, port, msg);
	return send_common(a, (int)port, (avm_actor_id)(b >> 32), msg, 0);
}

/* How a device sent: through a port's route or binding, through the
 * binding alone (avm_send_via), or to an actor id. */
enum send_how { SEND_PORT, SEND_VIA, SEND_TO };

static int send_plain(avm_ctx *ctx, enum send_how how, unsigned port,
		      avm_actor_id dst, struct avm_msg *m, unsigned flags)
{
	switch (how) {
	case SEND_PORT:
		return send_port(ctx, port, m, flags);
	case SEND_VIA:
		return send_via(ctx, port, m);
	default:
		return send_common(ctx->self, -1, dst, m, 0);
	}
}

static void send_entry(struct avm_journal_entry *e, const struct avm_msg *m,
		       enum send_how how, unsigned port, avm_actor_id dst,
		       struct avm_msg_user *f)
{
	size_t len;

	*e = (struct avm_journal_entry){ .type = AVM_J_SEND };
	avm__journal_fill_msg(e, m, f);
	e->port = how == SEND_TO ? -1 : (int32_t)port;
	e->dst = how == SEND_TO ? dst : AVM_ACTOR_NONE;
	/* Through a port, the first word is the binding's, not the device's. */
	e->flags = how == SEND_PORT ? AVM_J_BOUND : 0;
	e->data = avm_msg_payload(m, &len);
	e->data_len = (uint32_t)len;
}

/* Replay: the send is compared, not made; it returns what it returned. */
static int send_replayed(avm_ctx *ctx, enum send_how how, unsigned port,
			 avm_actor_id dst, struct avm_msg *m)
{
	const struct avm_journal_entry *r;
	struct avm_journal_entry e;
	struct avm_msg_user f;

	send_entry(&e, m, how, port, dst, &f);
	r = avm__journal(ctx->self, &e);
	if (r && how == SEND_PORT)
		m->user.arg = r->arg;
	if (r)
		m->corr = r->corr; /* avm_ask()'s token */
	avm_msg_release(m);
	return r ? r->result : -EIO;
}

/* Record: the payload is copied first, since the send hands it over. */
static int send_recorded(avm_ctx *ctx, enum send_how how, unsigned port,
			 avm_actor_id dst, struct avm_msg *m, unsigned flags)
{
	struct avm_journal_entry e;
	struct avm_msg_user f;
	void *copy = NULL;
	int ret;

	send_entry(&e, m, how, port, dst, &f);
	if (e.data_len && !(copy = malloc(e.data_len))) {
		ctx->self->jseq++; /* lost: a gap the replay reports */
		return send_plain(ctx, how, port, dst, m, flags);
	}
	if (copy)
		memcpy(copy, e.data, e.data_len);
	e.data = copy;
	ret = send_plain(ctx, how, port, dst, m, flags);
	if (how == SEND_PORT)
		e.arg = m->user.arg;
	e.src = m->src;
	e.corr = m->corr;
	e.cause = m->cause;
	e.result = ret;
	avm__journal(ctx->self, &e);
	free(copy);
	return ret;
}

static int send_how(avm_ctx *ctx, enum send_how how, unsigned port,
		    avm_actor_id dst, struct avm_msg *m, unsigned flags)
{
	/* In a device process: the supervisor sends it, as the actor. */
	if (ctx->self->isoc) {
		int err = avm__isoc_send(ctx->self, how, port, dst, m, flags);

		avm_msg_release(m);
		return err;
	}
	switch (avm__jmode(ctx->self)) {
	case AVM_JMODE_OFF:
		return send_plain(ctx, how, port, dst, m, flags);
	case AVM_JMODE_REPLAY:
		return send_replayed(ctx, how, port, dst, m);
	default:
		return send_recorded(ctx, how, port, dst, m, flags);
	}
}

int avm__send_as(avm_ctx *ctx, unsigned how, unsigned port, avm_actor_id dst,
		 struct avm_msg *m, unsigned flags)
{
	if (how > SEND_TO) {
		avm_msg_release(m);
		return -EINVAL;
	}
	return send_how(ctx, (enum send_how)how, port, dst, m, flags);
}

int avm_send(avm_ctx *ctx, unsigned port, struct avm_msg *msg)
{
	return send_how(ctx, SEND_PORT, port, AVM_ACTOR_NONE, msg, 0);
}

int avm_ask(avm_ctx *ctx, unsigned port, struct avm_msg *msg, uint64_t *token)
{
	int err;

	/* Fresh: a caller's corr could collide with a request in flight. */
	msg->corr = avm__corr(ctx->self);
	err = send_how(ctx, SEND_PORT, port, AVM_ACTOR_NONE, msg, AVM_MF_ASK);
	/* After the send: a replayed one takes the recorded id. */
	if (token)
		*token = err ? 0 : msg->corr;
	return err;
}

int avm_send_via(avm_ctx *ctx, unsigned port, struct avm_msg *msg)
{
	return send_how(ctx, SEND_VIA, port, AVM_ACTOR_NONE, msg, 0);
}

int avm_send_to(avm_ctx *ctx, avm_actor_id dst, struct avm_msg *msg)
{
	return send_how(ctx, SEND_TO, 0, dst, msg, 0);
}

int avm_irq_set(avm_ctx *ctx, unsigned port, bool level)
{
	struct avm_msg m = { .kind = AVM_MSG_IRQ, .irq.level = level };

	if (ctx->self->isoc)
		return avm__isoc_irq(ctx->self, port, level);
	if (port >= ctx->self->ops->n_ports)
		return -EINVAL;
	/* Seq_cst, paired with avm_route_set(): a router that moves the
	 * route either sees this level or we see its new route (route.c). */
	atomic_store(&ctx->self->levels[port], level);
	return avm_send(ctx, port, &m);
}

int avm_continue(avm_ctx *ctx, uint64_t token)
{
	struct avm_msg m = { .kind = AVM_MSG_CONTINUE, .cont.token = token };

	return send_how(ctx, SEND_TO, 0, ctx->self->id, &m, 0);
}

int avm_timer_arm(avm_ctx *ctx, unsigned id, uint64_t delay_ns,
		  uint64_t period_ns)
{
	struct avm_actor *a = ctx->self;
	int ret;

	if (avm__jmode(a) == AVM_JMODE_REPLAY)
		return j_replay(a, AVM_J_TIMER_ARM, id, delay_ns, period_ns);
	ret = id >= AVM_MAX_TIMERS
		      ? -EINVAL
		      : a->rt->exec->timer_arm(a, id, delay_ns, period_ns);
	if (avm__jmode(a))
		avm__journal_call(a, AVM_J_TIMER_ARM, id, delay_ns, period_ns,
				  ret);
	return ret;
}

void avm_timer_cancel(avm_ctx *ctx, unsigned id)
{
	struct avm_actor *a = ctx->self;

	if (avm__jmode(a))
		avm__journal_call(a, AVM_J_TIMER_CANCEL, id, 0, 0, 0);
	if (id < AVM_MAX_TIMERS && avm__jmode(a) != AVM_JMODE_REPLAY)
		a->rt->exec->timer_cancel(a, id);
}

int avm_fd_watch(avm_ctx *ctx, unsigned id, int fd, unsigned events)
{
	struct avm_actor *a = ctx->self;
	int ret;

	/* The descriptor's number is the host's: the journal keeps none. */
	if (avm__jmode(a) == AVM_JMODE_REPLAY)
		return j_replay(a, AVM_J_FD_WATCH, id, 0, events);
	ret = id >= AVM_MAX_WATCHES || fd < 0 ||
			      !(events & (AVM_FD_READ | AVM_FD_WRITE))
		      ? -EINVAL
		      : a->rt->exec->fd_watch(a, id, fd, events);
	if (avm__jmode(a))
		avm__journal_call(a, AVM_J_FD_WATCH, id, 0, events, ret);
	return ret;
}

void avm_fd_unwatch(avm_ctx *ctx, unsigned id)
{
	struct avm_actor *a = ctx->self;

	if (avm__jmode(a))
		avm__journal_call(a, AVM_J_FD_UNWATCH, id, 0, 0, 0);
	if (id < AVM_MAX_WATCHES && avm__jmode(a) != AVM_JMODE_REPLAY)
		a->rt->exec->fd_unwatch(a, id);
}

/* Replay: the recorded I/O, its inside skipped; NULL after a divergence. */
static ssize_t io_replayed(struct avm_actor *a, struct avm_journal_entry *e,
			   void *buf, size_t len)
{
	const struct avm_journal_entry *end;

	if (!avm__journal(a, e) || !(end = avm__replay_io_end(a->replay)))
		return -EIO;
	if (e->value == AVM_IO_IN && end->result > 0 &&
	    end->data_len == (uint32_t)end->result && end->data_len <= len)
		memcpy(buf, end->data, end->data_len);
	else if (e->value == AVM_IO_IN && end->result > 0)
		return -EIO; /* avm__replay_io_end() checked it: not reached */
	return end->result;
}

ssize_t avm_io(avm_ctx *ctx, unsigned chan, enum avm_io_dir dir, avm_io_fn fn,
	       void *arg, void *buf, size_t len)
{
	struct avm_actor *a = ctx->self;
	struct avm_journal_entry e = { .type = AVM_J_IO,
				       .arg = chan,
				       .value = dir,
				       .size = (uint32_t)len,
				       .data = dir == AVM_IO_OUT ? buf : NULL,
				       .data_len = dir == AVM_IO_OUT
							   ? (uint32_t)len
							   : 0 };
	ssize_t r;

	if (len > INT32_MAX)
		return -EINVAL;
	if (a->isoc)
		return -EPERM; /* a device process reaches nothing outside */
	if (!avm__jmode(a))
		return fn(arg, buf, len, ctx);
	if (avm__jmode(a) == AVM_JMODE_REPLAY)
		return io_replayed(a, &e, buf, len);
	avm__journal(a, &e);
	r = fn(arg, buf, len, ctx);
	e = (struct avm_journal_entry){
		.type = AVM_J_IO_END,
		.arg = chan,
		/* A count is at most @len; a CTL result is the function's. */
		.result = (int32_t)(dir != AVM_IO_CTL && r > (ssize_t)len
					    ? (ssize_t)len
					    : r),
		.data = dir == AVM_IO_IN && r > 0 ? buf : NULL,
		.data_len = dir == AVM_IO_IN && r > 0 ? (uint32_t)r : 0,
	};
	avm__journal(a, &e);
	return r;
}

int avm_direct_set(avm_ctx *ctx, unsigned slot, uint64_t value)
{
	if (avm__jmode(ctx->self))
		avm__journal_call(ctx->self, AVM_J_DIRECT, slot, 0, value,
				  slot >= AVM_MAX_DIRECT ? -EINVAL : 0);
	if (slot >= AVM_MAX_DIRECT)
		return -EINVAL;
	/* Release: one aligned 64-bit store, so readers never see a mix. */
	atomic_store_explicit(&ctx->self->direct[slot], value,
			      memory_order_release);
	if (ctx->self->isoc)
		avm__isoc_direct_set(ctx->self, slot, value);
	return 0;
}

int avm_poll(avm_ctx *ctx)
{
	const struct avm_exec_ops *x = ctx->self->rt->exec;

	return ctx->self->ops->run && x->poll ? x->poll(ctx->self) : -ENOTSUP;
}

int avm_wait(avm_ctx *ctx, int64_t timeout_ns)
{
	const struct avm_exec_ops *x = ctx->self->rt->exec;

	return ctx->self->ops->run && x->wait ? x->wait(ctx->self, timeout_ns)
					      : -ENOTSUP;
}

int avm_set_kick(avm_ctx *ctx, avm_kick_fn fn, void *arg)
{
	const struct avm_exec_ops *x = ctx->self->rt->exec;

	return ctx->self->ops->run && x->set_kick
		       ? x->set_kick(ctx->self, fn, arg)
		       : -ENOTSUP;
}

uint64_t avm_now(avm_ctx *ctx)
{
	struct avm_actor *a = ctx->self;
	struct avm_journal_entry e = { .type = AVM_J_NOW };
	const struct avm_journal_entry *r;

	if (!avm__jmode(a))
		return a->rt->exec->now(a->rt);
	if (avm__jmode(a) == AVM_JMODE_REPLAY) {
		r = avm__journal(a, &e);
		return r ? r->value : 0;
	}
	e.value = a->rt->exec->now(a->rt);
	avm__journal(a, &e);
	return e.value;
}

avm_actor_id avm_self(avm_ctx *ctx)
{
	return ctx->self->id;
}

void avm_log(avm_ctx *ctx, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	avm__log(ctx->self->rt, level, ctx->self->name, "%s", line);
}
