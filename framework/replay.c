/* SPDX-License-Identifier: MIT */
/*
 * The replay engine (actorvm/replay.h): one actor alone in a deterministic
 * runtime, fed its journal's inputs, each of its calls matched against the
 * journal by avm__replay_match() (called from the call sites through
 * avm__journal()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/replay.h>

#include "internal.h"
#include "journal_priv.h"

#define DEFAULT_CONTEXT 5

struct avm_replay_run {
	const avm_journal *j;
	uint64_t pos;	/* next journal entry */
	uint64_t msgno; /* message being handled (0: init) */
	unsigned context;
	bool diverged;
	struct avm_replay_result *res;
};

static bool is_input(const struct avm_journal_entry *e)
{
	return e->type == AVM_J_INIT || e->type == AVM_J_DELIVER ||
	       e->type == AVM_J_RESET;
}

/* --- Reporting ------------------------------------------------------------ */

static void append(struct avm_replay_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append(struct avm_replay_result *res, const char *fmt, ...)
{
	size_t at = strlen(res->report);
	va_list ap;

	if (at + 1 >= sizeof(res->report))
		return;
	va_start(ap, fmt);
	vsnprintf(res->report + at, sizeof(res->report) - at, fmt, ap);
	va_end(ap);
}

static void append_entry(struct avm_replay_result *res, const char *label,
			 const struct avm_journal_entry *e, const char *none)
{
	char line[256];

	append(res, "  %s %s\n", label,
	       e ? avm_journal_entry_format(e, line, sizeof(line)) : none);
}

/* Where two data blocks first differ, when both exist. */
static void append_data_diff(struct avm_replay_result *res,
			     const struct avm_journal_entry *a,
			     const struct avm_journal_entry *b)
{
	uint32_t n = a->data_len < b->data_len ? a->data_len : b->data_len;

	for (uint32_t i = 0; i < n; i++)
		if (a->data[i] != b->data[i]) {
			append(res,
			       "  data differ first at byte %u: expected "
			       "0x%02x, actual 0x%02x\n",
			       i, a->data[i], b->data[i]);
			return;
		}
	if (a->data_len != b->data_len)
		append(res, "  data lengths differ: expected %u, actual %u\n",
		       a->data_len, b->data_len);
}

/* The last inputs up to the current one, oldest first. */
static void append_context(struct avm_replay_run *run)
{
	const avm_journal *j = run->j;
	uint64_t idx[64], n = 0, want = run->context;
	char line[256];

	for (uint64_t i = run->pos; i-- > 0 && n < want && n < 64;)
		if (is_input(&j->e[i]))
			idx[n++] = i;
	append(run->res, "  inputs before it (the last is the message in "
			 "which it diverged):\n");
	while (n--) {
		uint64_t m = run->msgno - n;

		append(run->res,
		       "    message %" PRIu64 " (entry %" PRIu64 "): %s\n", m,
		       j->e[idx[n]].seq,
		       avm_journal_entry_format(&j->e[idx[n]], line,
						sizeof(line)));
	}
}

static void diverge(struct avm_replay_run *run,
		    const struct avm_journal_entry *want,
		    const struct avm_journal_entry *got, const char *what)
{
	struct avm_replay_result *res = run->res;

	run->diverged = true;
	res->diverged = true;
	res->at_message = run->msgno;
	res->at_seq = want ? want->seq : run->pos;
	res->report[0] = 0;
	append(res,
	       "divergence in message %" PRIu64 " (journal entry %" PRIu64
	       "): %s\n",
	       run->msgno, res->at_seq, what);
	append_entry(res, "expected:", want, "(nothing: the handler returned)");
	append_entry(res, "actual:  ", got, "(nothing: the handler returned)");
	if (want && got && want->type == got->type)
		append_data_diff(res, want, got);
	append_context(run);
}

/* --- Matching (called by the actor's calls) ------------------------------- */

static bool same_data(const struct avm_journal_entry *a,
		      const struct avm_journal_entry *b)
{
	return a->data_len == b->data_len &&
	       (!a->data_len || !memcmp(a->data, b->data, a->data_len));
}

static bool same_send(const struct avm_journal_entry *r,
		      const struct avm_journal_entry *e)
{
	/* Through a port, the first word is the binding's: an input. */
	return r->kind == e->kind && r->port == e->port && r->dst == e->dst &&
	       r->flags == e->flags &&
	       ((r->flags & AVM_J_BOUND) || r->arg == e->arg) &&
	       r->size == e->size && r->status == e->status &&
	       r->addr == e->addr && r->value == e->value && same_data(r, e);
}

/* The call's own arguments and outputs; inputs are not compared. */
static bool same(const struct avm_journal_entry *r,
		 const struct avm_journal_entry *e)
{
	switch (r->type) {
	case AVM_J_NOW:
		return true;
	case AVM_J_DMA_READ:
		return r->addr == e->addr && r->size == e->size;
	case AVM_J_ROUTE_LEVEL:
	case AVM_J_RAM_BLOCK:
	case AVM_J_TIMER_CANCEL:
	case AVM_J_FD_UNWATCH:
	case AVM_J_ROUTE_CLEAR:
		return r->arg == e->arg;
	case AVM_J_SEND:
		return same_send(r, e);
	case AVM_J_REPLY:
		return r->value == e->value && r->result == e->result;
	case AVM_J_DMA_WRITE:
		return r->addr == e->addr && same_data(r, e);
	case AVM_J_TIMER_ARM:
		return r->arg == e->arg && r->addr == e->addr &&
		       r->value == e->value;
	case AVM_J_FD_WATCH:
	case AVM_J_DIRECT:
	case AVM_J_VM_EXIT:
		return r->arg == e->arg && r->value == e->value;
	case AVM_J_ROUTE_SET:
		return r->arg == e->arg && r->port == e->port &&
		       r->value == e->value;
	case AVM_J_IO:
		return r->arg == e->arg && r->value == e->value &&
		       r->size == e->size && same_data(r, e);
	default:
		return false;
	}
}

/* A recorded input the engine hands back must be usable as it is. */
static bool usable(const struct avm_journal_entry *r)
{
	return r->type != AVM_J_DMA_READ || r->result || r->data_len == r->size;
}

const struct avm_journal_entry *
avm__replay_match(struct avm_replay_run *run, const struct avm_journal_entry *e)
{
	const struct avm_journal_entry *r;

	if (run->diverged)
		return NULL;
	r = run->pos < run->j->n ? &run->j->e[run->pos] : NULL;
	if (!r || is_input(r)) {
		diverge(run, NULL, e,
			"a call the recording does not have (there, the "
			"handler had returned)");
		return NULL;
	}
	if (r->type != e->type || !same(r, e)) {
		diverge(run, r, e, "a call differs from the recording");
		return NULL;
	}
	if (!usable(r)) {
		diverge(run, r, e,
			"the journal is inconsistent: a DMA read's data is "
			"not as long as the read");
		return NULL;
	}
	run->pos++;
	return r;
}

const struct avm_journal_entry *avm__replay_io_end(struct avm_replay_run *run)
{
	const avm_journal *j = run->j;
	/* The IO entry just matched: its size and direction. */
	uint32_t size = j->e[run->pos - 1].size;
	bool in = j->e[run->pos - 1].value == AVM_IO_IN;
	unsigned depth = 1;

	for (; run->pos < j->n; run->pos++) {
		const struct avm_journal_entry *e = &j->e[run->pos];

		if (is_input(e))
			break;
		depth += e->type == AVM_J_IO;
		if (e->type == AVM_J_IO_END && !--depth) {
			run->pos++;
			/* What came in must be what the result says, and fit
			 * what was asked (the IO entry's size, matched). */
			if (in && e->result > 0 &&
			    (e->data_len != (uint32_t)e->result ||
			     e->data_len > size))
				break;
			return e;
		}
	}
	diverge(run, run->pos < j->n ? &j->e[run->pos] : NULL, NULL,
		"the journal is inconsistent: an I/O call without its end");
	return NULL;
}

/* After init or a handler: the recording must be at its next input too. */
static void check_returned(struct avm_replay_run *run)
{
	const avm_journal *j = run->j;

	if (!run->diverged && run->pos < j->n && !is_input(&j->e[run->pos]))
		diverge(run, &j->e[run->pos], NULL,
			"a call of the recording is missing (the handler "
			"returned before making it)");
}

/* --- Running -------------------------------------------------------------- */

static void placeholder_handle(void *state, const struct avm_msg *msg,
			       avm_ctx *ctx)
{
	/* Nothing reaches it: a replayed actor's sends are not delivered. */
}

static const struct avm_device_ops placeholder_ops = {
	.type = "replay-placeholder",
	.doc = "stands for a recorded actor, so the replayed one keeps its id",
	.handle = placeholder_handle,
};

/* Actors 0 .. id-1 as placeholders, then the actor itself as id. */
static int build(const avm_journal *j, const struct avm_replay_opts *o,
		 avm_runtime **out)
{
	struct avm_runtime_config rc = {
		.exec = AVM_EXEC_DETERMINISTIC,
		.max_actors = j->id + 1 > 64 ? j->id + 1 : 64,
		.log_level = o->log_level ? o->log_level : AVM_LOG_ERROR,
	};
	avm_runtime *rt;
	avm_actor_id id;
	char name[32];
	int err = avm_runtime_new(&rc, &rt);

	for (uint32_t i = 0; !err && i < j->id; i++) {
		struct avm_actor_spec s = { .ops = &placeholder_ops,
					    .name = j->names[i] };

		snprintf(name, sizeof(name), "replay-placeholder-%u", i);
		if (!s.name)
			s.name = name;
		err = avm_actor_create(rt, &s, &id);
	}
	if (!err)
		err = avm_actor_create(rt,
				       &(struct avm_actor_spec){
					       .ops = o->ops,
					       .name = j->name,
					       .config = o->config,
				       },
				       &id);
	if (!err && id != j->id)
		err = -EINVAL;
	if (err && rt)
		avm_runtime_free(rt);
	*out = err ? NULL : rt;
	return err;
}

static int make_msg(const struct avm_journal_entry *r, struct avm_msg *m)
{
	struct avm_msg_user f = { .arg = r->arg,
				  .size = (uint8_t)r->size,
				  .status = r->status,
				  .addr = r->addr,
				  .value = r->value };

	*m = (struct avm_msg){ .src = r->src,
			       .corr = r->corr,
			       .cause = r->cause };
	avm__msg_unflatten(m, r->type == AVM_J_RESET ? AVM_MSG_RESET : r->kind,
			   &f);
	m->fw.lane = (uint8_t)avm__lane_of(m->kind);
	/* Answered through avm__complete(), which the replay intercepts. */
	if (r->flags & AVM_J_REQUEST)
		m->fw.flags = AVM_MF_ASK;
	return r->data_len ? avm_msg_set_payload(m, r->data, r->data_len) : 0;
}

static void deliver_all(struct avm_replay_run *run, struct avm_actor *a,
			uint64_t until)
{
	const avm_journal *j = run->j;
	struct avm_msg m;

	while (!run->diverged && run->pos < j->n) {
		const struct avm_journal_entry *r = &j->e[run->pos];

		if (until && run->msgno + 1 >= until)
			return;
		run->msgno++;
		run->pos++;
		if (make_msg(r, &m)) {
			diverge(run, r, NULL,
				"the journal holds a message this build cannot "
				"carry (payload too large)");
			return;
		}
		avm__deliver(a, &m);
		check_returned(run);
	}
}

static void summary(struct avm_replay_run *run, const struct avm_replay_opts *o)
{
	struct avm_replay_result *res = run->res;

	snprintf(res->report, sizeof(res->report),
		 "replayed %" PRIu64 " messages (%" PRIu64
		 " journal entries), outputs identical",
		 res->messages, res->entries);
	if (o->until && run->pos < run->j->n)
		append(res, "; stopped before message %" PRIu64, o->until);
	if (run->j->cut_why)
		append(res, "; the journal was cut: %s", run->j->cut_why);
	append(res, "\n");
}

int avm_replay_run(const avm_journal *j, const struct avm_replay_opts *o,
		   struct avm_replay_result *res)
{
	struct avm_replay_run run = { .j = j, .pos = 1, .res = res };
	struct avm_actor *a;
	avm_runtime *rt;
	int err;

	memset(res, 0, sizeof(*res));
	if (!o || !o->ops || !o->ops->handle)
		return -EINVAL;
	if (o->ops->run)
		return -ENOTSUP;
	run.context = o->context ? o->context : DEFAULT_CONTEXT;
	err = build(j, o, &rt);
	if (err)
		return err;
	a = rt->actors[j->id];
	a->replay = &run;
	atomic_store_explicit(&a->jmode, AVM_JMODE_REPLAY,
			      memory_order_relaxed);
	err = avm_runtime_start(rt);
	if (err && !run.diverged) {
		char what[96];

		snprintf(what, sizeof(what), "init failed (%s)",
			 strerror(-err));
		diverge(&run, NULL, NULL, what);
	}
	check_returned(&run);
	if (!err)
		deliver_all(&run, a, o->until);
	res->messages = run.msgno;
	res->entries = run.pos;
	if (!run.diverged)
		summary(&run, o);
	avm_runtime_free(rt);
	return 0;
}
