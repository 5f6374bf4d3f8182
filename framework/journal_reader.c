/* SPDX-License-Identifier: MIT */
/*
 * Loading one actor's journal from a trace file (actorvm/replay.h): its
 * entries, merged from every recording thread by their numbers, checked
 * for a start at init and cut at the first gap.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/errbuf.h>
#include <actorvm/replay.h>

#include "journal_priv.h"

static void free_entries(avm_journal *j)
{
	for (uint64_t i = 0; i < j->n; i++)
		free((void *)j->e[i].data);
	free(j->e);
	j->e = NULL;
	j->n = j->cap = 0;
}

void avm_journal_free(avm_journal *j)
{
	if (!j)
		return;
	free_entries(j);
	for (unsigned i = 0; i < j->n_names; i++)
		free(j->names[i]);
	free(j->names);
	free(j->name);
	free(j->type);
	free(j->cut_why);
	free(j);
}

static int add_entry(avm_journal *j, const struct avm_journal_entry *e)
{
	struct avm_journal_entry *c;
	void *data = NULL;

	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 256;

		c = realloc(j->e, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		j->e = c;
		j->cap = cap;
	}
	if (e->data_len && !(data = malloc(e->data_len)))
		return -ENOMEM;
	if (data)
		memcpy(data, e->data, e->data_len);
	c = &j->e[j->n++];
	*c = *e;
	c->data = data;
	return 0;
}

static int by_seq(const void *a, const void *b)
{
	const struct avm_journal_entry *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The recorded names by id, for the replay's placeholders. */
static int take_names(avm_journal *j, const struct avm_trace_info *ti)
{
	j->n_names = j->id + 1;
	j->names = calloc(j->n_names, sizeof(*j->names));
	if (!j->names)
		return -ENOMEM;
	for (unsigned i = 0; i < ti->n_actors; i++) {
		const struct avm_trace_actor *a = &ti->actors[i];

		if (a->id < j->n_names && !j->names[a->id] &&
		    !(j->names[a->id] = strdup(a->name)))
			return -ENOMEM;
	}
	return 0;
}

static bool journaled(const struct avm_trace_info *ti, uint32_t id)
{
	for (unsigned i = 0; i < ti->n_journaled; i++)
		if (ti->journaled[i] == id)
			return true;
	return false;
}

/* Which actor @name is, and that the trace journaled it. */
static int find_actor(avm_journal *j, avm_trace_reader *r, const char *path,
		      const char *name, char *err, size_t len)
{
	const struct avm_trace_info *ti = avm_trace_info(r);

	for (unsigned i = 0; i < ti->n_actors; i++) {
		if (strcmp(ti->actors[i].name, name))
			continue;
		j->id = ti->actors[i].id;
		j->name = strdup(name);
		j->type = strdup(ti->actors[i].type);
		if (!j->name || !j->type || take_names(j, ti))
			return avm_errf(err, len, -ENOMEM, "out of memory");
		if (!journaled(ti, j->id))
			return avm_errf(err, len, -ENODATA,
					"%s: actor '%s' was not journaled "
					"(record with --journal %s)",
					path, name, name);
		return 0;
	}
	return avm_errf(err, len, -ENOENT, "%s: no actor named '%s'", path,
			name);
}

static int read_entries(avm_journal *j, avm_trace_reader *r, char *err,
			size_t len)
{
	struct avm_journal_entry e;
	int ret;

	while ((ret = avm_trace_next_journal(r, &e, err, len)) == 1)
		if (e.actor == j->id && add_entry(j, &e))
			return avm_errf(err, len, -ENOMEM, "out of memory");
	return ret;
}

static bool is_input(const struct avm_journal_entry *e)
{
	return e->type == AVM_J_INIT || e->type == AVM_J_DELIVER ||
	       e->type == AVM_J_RESET;
}

/* Keep entries before @at, less the message they end in (its outputs may
 * be partial); -EINVAL if that leaves not even a whole init. */
static int cut(avm_journal *j, const char *path, uint64_t at, char *why,
	       char *err, size_t len)
{
	uint64_t last = at;

	while (last > 0 && !is_input(&j->e[last - 1]))
		last--;
	if (last <= 1)
		return avm_errf(err, len, -EINVAL,
				"%s: the journal of '%s' is cut inside its "
				"init: %s",
				path, j->name, why);
	j->cut_why = strdup(why);
	if (!j->cut_why)
		return avm_errf(err, len, -ENOMEM, "out of memory");
	while (j->n > last - 1)
		free((void *)j->e[--j->n].data);
	return 0;
}

/* Sorted by number: a start at init, no duplicate, cut at the first gap. */
static int check_order(avm_journal *j, const char *path, bool complete,
		       char *err, size_t len)
{
	char why[160];

	if (j->n)
		qsort(j->e, j->n, sizeof(*j->e), by_seq);
	if (!j->n || j->e[0].seq != 0 || j->e[0].type != AVM_J_INIT)
		return avm_errf(err, len, -EINVAL,
				"%s: the journal of '%s' does not start at its "
				"init (was the trace started after the VM?)",
				path, j->name);
	for (uint64_t i = 1; i < j->n; i++) {
		if (j->e[i].seq == i)
			continue;
		if (j->e[i].seq == j->e[i - 1].seq)
			return avm_errf(err, len, -EINVAL,
					"%s: journal entry %" PRIu64
					" of '%s' appears twice",
					path, j->e[i].seq, j->name);
		snprintf(why, sizeof(why),
			 "journal entry %" PRIu64 " is missing (a full trace "
			 "ring lost it: give the trace larger rings)",
			 i);
		return cut(j, path, i, why, err, len);
	}
	if (!complete) {
		snprintf(why, sizeof(why),
			 "the trace has no footer (the run did not stop "
			 "cleanly): its last message may be partial");
		return cut(j, path, j->n, why, err, len);
	}
	return 0;
}

static void count(avm_journal *j)
{
	uint64_t m = 0;

	for (uint64_t i = 0; i < j->n; i++)
		m += j->e[i].type == AVM_J_DELIVER ||
		     j->e[i].type == AVM_J_RESET;
	j->info = (struct avm_journal_info){
		.actor = j->name,
		.type = j->type,
		.id = j->id,
		.entries = j->n,
		.messages = m,
		.cut = j->cut_why != NULL,
		.cut_why = j->cut_why,
	};
}

int avm_journal_load(const char *path, const char *actor, avm_journal **out,
		     char *err, size_t err_len)
{
	avm_trace_reader *r = NULL;
	avm_journal *j;
	int ret;

	*out = NULL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return avm_errf(err, err_len, -ENOMEM, "out of memory");
	ret = avm_trace_open(path, &r, err, err_len);
	if (!ret)
		ret = find_actor(j, r, path, actor, err, err_len);
	if (!ret)
		ret = read_entries(j, r, err, err_len);
	if (!ret)
		ret = check_order(j, path, avm_trace_info(r)->complete, err,
				  err_len);
	avm_trace_close(r);
	if (ret) {
		avm_journal_free(j);
		return ret;
	}
	count(j);
	*out = j;
	return 0;
}

const struct avm_journal_info *avm_journal_get_info(const avm_journal *j)
{
	return &j->info;
}

const struct avm_journal_entry *avm_journal_entry(const avm_journal *j,
						  uint64_t i)
{
	return i < j->n ? &j->e[i] : NULL;
}

static void put(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append to the line in @buf (cut at @len). */
static void put(char *buf, size_t len, const char *fmt, ...)
{
	size_t at = strlen(buf);
	va_list ap;

	if (at + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
}

static void put_data(const struct avm_journal_entry *e, char *buf, size_t len)
{
	if (!e->data_len)
		return;
	put(buf, len, " data[%u]=", e->data_len);
	for (uint32_t i = 0; i < e->data_len && i < 16; i++)
		put(buf, len, "%02x", e->data[i]);
	if (e->data_len > 16)
		put(buf, len, "...");
}

/* A message's sender or receiver and its body. */
static void put_msg(const struct avm_journal_entry *e, char *buf, size_t len)
{
	char kb[24];

	put(buf, len, " %s", avm_msg_kind_name(e->kind, kb, sizeof(kb)));
	if (e->type == AVM_J_DELIVER && e->src == AVM_ACTOR_NONE)
		put(buf, len, " from outside");
	else if (e->type == AVM_J_DELIVER)
		put(buf, len, " from actor %u", e->src);
	if (e->port >= 0)
		put(buf, len, " port %d", e->port);
	if (e->type == AVM_J_SEND && e->dst != AVM_ACTOR_NONE)
		put(buf, len, " to actor %u", e->dst);
	put(buf, len, " arg=%u addr=0x%" PRIx64 " value=0x%" PRIx64 " size=%u",
	    e->arg, e->addr, e->value, e->size);
	if (e->status)
		put(buf, len, " status=%d", e->status);
	if (e->flags & AVM_J_REQUEST)
		put(buf, len, " (a request)");
}

const char *avm_journal_entry_format(const struct avm_journal_entry *e,
				     char *buf, size_t len)
{
	if (!len)
		return buf;
	snprintf(buf, len, "%s", avm_journal_type_name(e->type));
	switch (e->type) {
	case AVM_J_DELIVER:
	case AVM_J_SEND:
		put_msg(e, buf, len);
		break;
	case AVM_J_INIT:
	case AVM_J_RESET:
		break;
	case AVM_J_ROUTE_SET:
		put(buf, len, " input=%u via port %d word=0x%" PRIx64, e->arg,
		    e->port, e->value);
		break;
	case AVM_J_DMA_READ:
	case AVM_J_DMA_WRITE:
		put(buf, len, " gpa=0x%" PRIx64 " len=%u", e->addr, e->size);
		break;
	case AVM_J_NOW:
	case AVM_J_REPLY:
	case AVM_J_VM_EXIT:
		put(buf, len, " value=0x%" PRIx64, e->value);
		break;
	case AVM_J_TIMER_ARM:
		put(buf, len, " timer=%u delay=%" PRIu64 " period=%" PRIu64,
		    e->arg, e->addr, e->value);
		break;
	default:
		put(buf, len, " arg=%u addr=0x%" PRIx64 " value=0x%" PRIx64,
		    e->arg, e->addr, e->value);
		if (e->size)
			put(buf, len, " size=%u", e->size);
		break;
	}
	if (e->type > AVM_J_NOW)
		put(buf, len, " -> %d", e->result);
	put_data(e, buf, len);
	return buf;
}
