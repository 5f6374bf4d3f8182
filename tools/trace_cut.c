/* SPDX-License-Identifier: MIT */
/*
 * `actorvm trace cut`: an excerpt of a trace for replay, small enough to
 * check in as a regression test: the header (with the manifest), the
 * journals of the chosen actors up to a message, events only if asked, and
 * a footer. Records are copied as they are encoded; only the header (its
 * list of journaled actors) and the footer are written anew.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <actorvm/replay.h>

#include "trace.pb-c.h"
#include "trace_cli.h"

#define MAX_CUT_ACTORS 64

struct cut_args {
	const char *in, *out;
	const char *actors[MAX_CUT_ACTORS];
	unsigned n_actors;
	uint64_t until;
	bool events;
};

/* Per kept actor: its id and the first journal entry not kept. */
struct cut_keep {
	uint32_t id[MAX_CUT_ACTORS];
	uint64_t limit[MAX_CUT_ACTORS];
	unsigned n;
};

static void cut_help(FILE *out)
{
	fprintf(out,
		"usage: actorvm trace cut [OPTIONS] -o OUT FILE\n\n"
		"Writes an excerpt of FILE to OUT for `actorvm replay`: the "
		"header (with\n"
		"the manifest it carries) and the journals of the chosen "
		"actors, each\n"
		"ending before message N, so that a bug found in a long run "
		"becomes a\n"
		"small trace to check in and replay as a test "
		"(docs/tracing.md).\n\n"
		"  -o, --output OUT  the file to write (not FILE itself)\n"
		"  --actor NAME      keep NAME's journal (repeatable; "
		"default: every\n"
		"                    journaled actor)\n"
		"  --until N         end each journal before its message N "
		"(from 1)\n"
		"  --events          keep the trace's events too (default: "
		"journals only)\n");
}

static int parse_cut(int argc, char **argv, struct cut_args *a)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "actor", required_argument, NULL, 'a' },
		{ "until", required_argument, NULL, 'u' },
		{ "events", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int c;

	*a = (struct cut_args){ 0 };
	while ((c = getopt_long(argc, argv, "o:a:u:eh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			a->out = optarg;
			break;
		case 'a':
			if (a->n_actors == MAX_CUT_ACTORS)
				return -EINVAL;
			a->actors[a->n_actors++] = optarg;
			break;
		case 'u':
			errno = 0;
			a->until = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg || *optarg == '-' ||
			    !a->until)
				return -EINVAL;
			break;
		case 'e':
			a->events = true;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind != 1 || !a->out)
		return -EINVAL;
	a->in = argv[optind];
	return 0;
}

/* Where actor @name's journal ends in the excerpt. */
static int keep_actor(const struct cut_args *a, const char *name,
		      struct cut_keep *k)
{
	char err[TCLI_ERR_LEN];
	avm_journal *j;
	uint64_t msg = 0, i;
	const struct avm_journal_entry *e;

	if (avm_journal_load(a->in, name, &j, err, sizeof(err))) {
		fprintf(stderr, "actorvm trace cut: %s\n", err);
		return -EINVAL;
	}
	for (i = 0; (e = avm_journal_entry(j, i)); i++)
		if ((e->type == AVM_J_DELIVER || e->type == AVM_J_RESET) &&
		    a->until && ++msg == a->until)
			break;
	k->id[k->n] = avm_journal_get_info(j)->id;
	k->limit[k->n++] = i; /* entries are numbered from 0 without gaps */
	avm_journal_free(j);
	return 0;
}

static int plan(const struct cut_args *a, const struct avm_trace_info *ti,
		struct cut_keep *k)
{
	for (unsigned i = 0; i < a->n_actors; i++)
		if (keep_actor(a, a->actors[i], k))
			return -EINVAL;
	for (unsigned i = 0; !a->n_actors && i < ti->n_journaled; i++) {
		const char *name = NULL;

		for (unsigned n = 0; n < ti->n_actors; n++)
			if (ti->actors[n].id == ti->journaled[i])
				name = ti->actors[n].name;
		if (!name || keep_actor(a, name, k))
			return -EINVAL;
	}
	if (!k->n) {
		fprintf(stderr, "actorvm trace cut: %s holds no journal\n",
			a->in);
		return -EINVAL;
	}
	return 0;
}

static int put(FILE *f, const Actorvm__TraceRecord *rec)
{
	size_t n = actorvm__trace_record__get_packed_size(rec);
	uint8_t *buf = malloc(n ? n : 1), hdr[10];
	size_t h = 0;
	uint64_t v = n;
	int ok;

	if (!buf)
		return -ENOMEM;
	actorvm__trace_record__pack(rec, buf);
	do { /* base-128 varint length prefix */
		hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	ok = fwrite(hdr, 1, h, f) == h && fwrite(buf, 1, n, f) == n;
	free(buf);
	return ok ? 0 : -EIO;
}

/* The input's header, listing only the kept journals. */
static int put_header(FILE *f, avm_trace_reader *r, const struct cut_keep *k)
{
	Actorvm__TraceRecord *h;
	const void *raw;
	size_t len;
	int ret = -EINVAL;

	avm_trace_header_raw(r, &raw, &len);
	h = actorvm__trace_record__unpack(NULL, len, raw);
	if (h && h->rec_case == ACTORVM__TRACE_RECORD__REC_HEADER) {
		uint32_t *was = h->header->journaled;
		size_t n_was = h->header->n_journaled;

		h->header->n_journaled = k->n;
		h->header->journaled = (uint32_t *)k->id;
		ret = fwrite(AVM_TRACE_MAGIC, 1, 8, f) == 8 ? put(f, h) : -EIO;
		h->header->n_journaled = n_was;
		h->header->journaled = was;
	}
	if (h)
		actorvm__trace_record__free_unpacked(h, NULL);
	return ret;
}

static bool kept(const struct cut_args *a, const struct cut_keep *k,
		 const Actorvm__TraceRecord *x)
{
	if (x->rec_case == ACTORVM__TRACE_RECORD__REC_EVENT)
		return a->events;
	if (x->rec_case != ACTORVM__TRACE_RECORD__REC_JOURNAL)
		return false; /* loss records and the footer are rewritten */
	for (unsigned i = 0; i < k->n; i++)
		if (k->id[i] == x->journal->actor)
			return x->journal->seq < k->limit[i];
	return false;
}

/* Copy what is kept, as encoded; count it for the footer. */
static int copy(const struct cut_args *a, const struct cut_keep *k,
		avm_trace_reader *r, FILE *f, uint64_t *n)
{
	char err[TCLI_ERR_LEN];
	const void *raw;
	size_t len;
	int ret;

	while ((ret = avm_trace_next_raw(r, &raw, &len, err, sizeof(err))) ==
	       1) {
		Actorvm__TraceRecord *x =
			actorvm__trace_record__unpack(NULL, len, raw);
		uint8_t hdr[10];
		size_t h = 0;
		uint64_t v = len;

		if (x && kept(a, k, x)) {
			do {
				hdr[h++] = (uint8_t)((v & 0x7f) |
						     (v > 0x7f ? 0x80 : 0));
				v >>= 7;
			} while (v);
			if (fwrite(hdr, 1, h, f) != h ||
			    fwrite(raw, 1, len, f) != len)
				ret = -EIO;
			(*n)++;
		}
		if (x)
			actorvm__trace_record__free_unpacked(x, NULL);
		if (ret < 0)
			break;
	}
	if (ret < 0 && ret != -EIO)
		fprintf(stderr, "actorvm trace cut: %s\n", err);
	return ret < 0 ? ret : 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat x, y;

	return !stat(a, &x) && !stat(b, &y) && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

static int cut_write(const struct cut_args *a, const struct cut_keep *k,
		     avm_trace_reader *r)
{
	Actorvm__TraceRecord rec = ACTORVM__TRACE_RECORD__INIT;
	Actorvm__TraceFooter foot = ACTORVM__TRACE_FOOTER__INIT;
	FILE *f = fopen(a->out, "wb");
	uint64_t n = 0;
	int ret;

	if (!f) {
		fprintf(stderr, "actorvm trace cut: %s: %s\n", a->out,
			strerror(errno));
		return TCLI_ERR;
	}
	ret = put_header(f, r, k);
	if (!ret)
		ret = copy(a, k, r, f, &n);
	foot.events = n;
	rec.rec_case = ACTORVM__TRACE_RECORD__REC_FOOTER;
	rec.footer = &foot;
	if (!ret)
		ret = put(f, &rec);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (ret == -EIO)
		fprintf(stderr, "actorvm trace cut: writing %s: %s\n", a->out,
			strerror(EIO));
	if (ret)
		remove(a->out);
	return ret ? TCLI_ERR : TCLI_OK;
}

int tcli_cut(int argc, char **argv)
{
	struct cut_args a;
	struct cut_keep k = { .n = 0 };
	char err[TCLI_ERR_LEN];
	avm_trace_reader *r;
	int ret = parse_cut(argc, argv, &a);

	if (ret) {
		cut_help(ret > 0 ? stdout : stderr);
		return ret > 0 ? TCLI_OK : TCLI_USAGE;
	}
	if (same_file(a.in, a.out)) {
		fprintf(stderr, "actorvm trace cut: %s is the input\n", a.out);
		return TCLI_USAGE;
	}
	if (avm_trace_open(a.in, &r, err, sizeof(err))) {
		fprintf(stderr, "actorvm trace cut: %s\n", err);
		return TCLI_ERR;
	}
	ret = plan(&a, avm_trace_info(r), &k) ? TCLI_ERR : cut_write(&a, &k, r);
	avm_trace_close(r);
	return ret;
}
