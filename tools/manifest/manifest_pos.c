/* SPDX-License-Identifier: MIT */
/*
 * Where every node of a manifest is: one pass of libyaml's event parser
 * records "vms[0].devices[1].slot"-style paths with their line and column,
 * so that semantic checks, which see only the loaded structs, can still
 * name the line of what they complain about. libyaml is what libcyaml
 * parses with; this is not a second YAML parser, only its event stream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "manifest_priv.h"

#define MAX_DEPTH 32

struct frame {
	bool is_map, want_key;
	char *path;
	char *key; /* the map's current key */
	unsigned index;
};

struct walker {
	struct mf_manifest *m;
	struct frame st[MAX_DEPTH];
	int depth;
	unsigned too_deep; /* open collections past MAX_DEPTH: not indexed */
	unsigned docs;
};

static int add_node(struct mf_manifest *m, char *path, const yaml_mark_t *mk)
{
	if (m->n_nodes == m->cap_nodes) {
		size_t cap = m->cap_nodes ? m->cap_nodes * 2 : 64;
		struct mf_node *n = realloc(m->nodes, cap * sizeof(*n));

		if (!n) {
			free(path);
			return -ENOMEM;
		}
		m->nodes = n;
		m->cap_nodes = cap;
	}
	/* libyaml counts from 0; editors and messages from 1. */
	m->nodes[m->n_nodes++] = (struct mf_node){
		.path = path,
		.line = (unsigned)mk->line + 1,
		.column = (unsigned)mk->column + 1,
	};
	return 0;
}

/* The path of the value that comes next in the innermost collection. */
static char *child_path(struct walker *w)
{
	struct frame *f = &w->st[w->depth - 1];
	/* A key that is itself a collection (YAML's "? [a, b]") has no name:
	 * the schema rejects it; the index only has to survive it. */
	const char *key = f->key ? f->key : "?";
	char *p = NULL;
	int n;

	if (f->is_map && !f->path[0])
		return strdup(key);
	if (f->is_map)
		n = asprintf(&p, "%s.%s", f->path, key);
	else
		n = asprintf(&p, "%s[%u]", f->path, f->index++);
	return n < 0 ? NULL : p;
}

static int on_value(struct walker *w, const yaml_mark_t *mk, bool collection,
		    bool is_map)
{
	struct frame *f = w->depth ? &w->st[w->depth - 1] : NULL;
	char *path = f ? child_path(w) : strdup("");
	int err;

	if (!path)
		return -ENOMEM;
	if (f && f->is_map) {
		f->want_key = true; /* the key's node was recorded already */
		free(f->key);
		f->key = NULL;
	} else if ((err = add_node(w->m, strdup(path), mk))) {
		free(path);
		return err;
	}
	if (!collection) {
		free(path);
		return 0;
	}
	if (w->depth == MAX_DEPTH) {
		/* Not indexed, but still scanned for what is refused. */
		w->too_deep++;
		free(path);
		return 0;
	}
	w->st[w->depth++] = (struct frame){ .is_map = is_map,
					    .want_key = is_map,
					    .path = path };
	return 0;
}

static int on_key(struct walker *w, const yaml_event_t *ev)
{
	struct frame *f = &w->st[w->depth - 1];
	char *path;

	f->key = strndup((const char *)ev->data.scalar.value,
			 ev->data.scalar.length);
	if (!f->key)
		return -ENOMEM;
	f->want_key = false;
	path = child_path(w);
	return path ? add_node(w->m, path, &ev->start_mark) : -ENOMEM;
}

static void pop(struct walker *w)
{
	struct frame *f = &w->st[--w->depth];

	free(f->path);
	free(f->key);
}

/*
 * What the loader refuses before libcyaml sees it: an alias makes libcyaml
 * copy its anchor's events, so a small file of nested aliases expands
 * exponentially (the "billion laughs"); a second document would be
 * ignored. Each stops the scan (-ECANCELED) with an error at its place.
 */
static int refused(struct walker *w, const yaml_event_t *ev)
{
	unsigned line = (unsigned)ev->start_mark.line + 1,
		 col = (unsigned)ev->start_mark.column + 1;

	if (ev->type == YAML_ALIAS_EVENT) {
		mf_report_at(w->m, line, col,
			     "alias '*%.64s': YAML aliases are refused (a "
			     "manifest spells every value out)",
			     (const char *)ev->data.alias.anchor);
		return -ECANCELED;
	}
	if (ev->type == YAML_DOCUMENT_START_EVENT && ++w->docs > 1) {
		mf_report_at(w->m, line, col,
			     "a second YAML document: a manifest is one "
			     "document (remove this '---' and what follows, "
			     "or merge it into the first)");
		return -ECANCELED;
	}
	return 0;
}

static int on_end(struct walker *w)
{
	if (w->too_deep)
		w->too_deep--;
	else if (w->depth)
		pop(w);
	return 0;
}

static int step(struct walker *w, const yaml_event_t *ev)
{
	struct frame *f = w->depth ? &w->st[w->depth - 1] : NULL;
	int err = refused(w, ev);

	if (err)
		return err;
	if (w->too_deep && (ev->type == YAML_MAPPING_START_EVENT ||
			    ev->type == YAML_SEQUENCE_START_EVENT))
		w->too_deep++;
	if (w->too_deep)
		return ev->type == YAML_MAPPING_END_EVENT ||
				       ev->type == YAML_SEQUENCE_END_EVENT
			       ? on_end(w)
			       : 0;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (f && f->is_map && f->want_key)
			return on_key(w, ev);
		return on_value(w, &ev->start_mark, false, false);
	case YAML_MAPPING_START_EVENT:
		return on_value(w, &ev->start_mark, true, true);
	case YAML_SEQUENCE_START_EVENT:
		return on_value(w, &ev->start_mark, true, false);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		return on_end(w);
	default:
		return 0;
	}
}

/*
 * Every event of the stream, to its end: a refused construct may come
 * after the first document. A syntax error ends the scan early; the schema
 * load reports it (libcyaml stops at the same place).
 */
int mf_index_positions(struct mf_manifest *m, const char *text, size_t len)
{
	struct walker w = { .m = m };
	yaml_parser_t p;
	yaml_event_t ev;
	int err = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!err && !done && yaml_parser_parse(&p, &ev)) {
		done = ev.type == YAML_STREAM_END_EVENT;
		err = step(&w, &ev);
		yaml_event_delete(&ev);
	}
	while (w.depth)
		pop(&w);
	yaml_parser_delete(&p);
	return err == -ECANCELED ? 0 : err;
}
