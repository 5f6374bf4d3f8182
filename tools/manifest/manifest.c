/* SPDX-License-Identifier: MIT */
/* Loading a manifest: the schema load, its errors with their lines, and
 * the diagnostics list every later check adds to. */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest_priv.h"

#define MAX_FILE (1u << 20)

/* --- Diagnostics ---------------------------------------------------------- */

const struct mf_node *mf_node_at(const struct mf_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->n_nodes; i++)
		if (!strcmp(m->nodes[i].path, path))
			return &m->nodes[i];
	return NULL;
}

/* The node at @path, or at its nearest ancestor that has one. */
static const struct mf_node *nearest(const struct mf_manifest *m,
				     const char *path)
{
	char buf[256];
	const struct mf_node *n;

	snprintf(buf, sizeof(buf), "%s", path);
	while (!(n = mf_node_at(m, buf)) && buf[0]) {
		char *cut = strrchr(buf, '.'), *br = strrchr(buf, '[');

		if (br > cut)
			cut = br;
		if (!cut)
			cut = buf;
		*cut = 0;
	}
	return n;
}

static void add_diag(struct mf_manifest *m, enum mf_severity sev,
		     const char *path, char *msg)
{
	const struct mf_node *n = nearest(m, path);
	struct mf_diag *d;

	if (m->n_diags == m->cap_diags) {
		size_t cap = m->cap_diags ? m->cap_diags * 2 : 16;

		d = realloc(m->diags, cap * sizeof(*d));
		if (!d) {
			free(msg);
			return; /* out of memory: the diagnostic is lost */
		}
		m->diags = d;
		m->cap_diags = cap;
	}
	m->diags[m->n_diags++] = (struct mf_diag){
		.severity = sev,
		.line = n ? n->line : 0,
		.column = n ? n->column : 0,
		.path = strdup(path),
		.message = msg,
	};
}

void mf_report(struct mf_manifest *m, enum mf_severity sev, const char *path,
	       const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg)
		add_diag(m, sev, path, msg);
}

unsigned mf_errors(const struct mf_manifest *m)
{
	unsigned n = 0;

	for (size_t i = 0; i < m->n_diags; i++)
		n += m->diags[i].severity == MF_ERROR;
	return n;
}

void mf_print_diags(const struct mf_manifest *m, FILE *f)
{
	for (size_t i = 0; i < m->n_diags; i++) {
		const struct mf_diag *d = &m->diags[i];

		fprintf(f, "%s:%u:%u: %s: %s%s%s\n", m->file, d->line,
			d->column,
			d->severity == MF_ERROR ? "error" : "warning",
			d->path[0] ? d->path : "", d->path[0] ? ": " : "",
			d->message);
	}
}

/* --- libcyaml's errors ---------------------------------------------------- */

/*
 * libcyaml logs an error as "Load: MESSAGE" followed by a backtrace, inner
 * first: "in mapping field 'devices' (...)", "in sequence entry '2'
 * (...)". The collector turns that into a path ("devices[1]", entries
 * counted from 1 there) and the message.
 */
struct cy_log {
	const struct mf_manifest *m;
	char msg[256];
	char parts[8][64];
	unsigned n_parts;
	bool have_msg;
};

static void cy_line(struct cy_log *l, const char *line)
{
	char name[63] = "";

	if (!l->have_msg && !strncmp(line, "Load: ", 6) &&
	    strncmp(line, "Load: Backtrace", 15)) {
		size_t n = strcspn(line + 6, "\n");

		if (n >= sizeof(l->msg))
			n = sizeof(l->msg) - 1;
		memcpy(l->msg, line + 6, n);
		l->msg[n] = 0;
		l->have_msg = true;
	} else if (l->n_parts < 8 &&
		   (sscanf(line, " in mapping field '%62[^']'", name) == 1)) {
		l->parts[l->n_parts][0] = '.';
		memcpy(l->parts[l->n_parts++] + 1, name, sizeof(name) - 1);
	} else if (l->n_parts < 8 &&
		   sscanf(line, " in sequence entry '%62[^']'", name) == 1 &&
		   atoi(name) > 0) {
		/* Entry 0 is the sequence itself, before its first entry. */
		snprintf(l->parts[l->n_parts++], 64, "[%d]", atoi(name) - 1);
	}
}

static void cy_log_fn(cyaml_log_t level, void *ctx, const char *fmt,
		      va_list args)
{
	char line[512];

	(void)level;
	vsnprintf(line, sizeof(line), fmt, args);
	cy_line(ctx, line);
}

/* The path the backtrace names, outermost first, without a leading dot. */
static void cy_path(const struct cy_log *l, char *out, size_t len)
{
	size_t o = 0;

	out[0] = 0;
	for (unsigned i = l->n_parts; i-- > 0 && o < len;)
		o += (size_t)snprintf(out + o, len - o, "%s", l->parts[i]);
	if (out[0] == '.')
		memmove(out, out + 1, strlen(out));
}

/*
 * "Unexpected key: foo" is about a key of the innermost mapping; "Missing
 * required mapping field" names, in its backtrace, the field the mapping
 * ended after: the problem is the mapping itself.
 */
static void cy_key_path(const struct cy_log *l, char *path, size_t len)
{
	const char *key = strstr(l->msg, "Unexpected key: ");
	size_t o = strlen(path);
	char *dot = strrchr(path, '.'), *br = strrchr(path, '[');

	if (key) {
		/* The backtrace may still name the mapping's previous field:
		 * then the key is its sibling. */
		snprintf(path + o, len - o, "%s%s", o ? "." : "", key + 16);
		if (!mf_node_at(l->m, path) && dot && dot > br) {
			*dot = 0;
			o = strlen(path);
			snprintf(path + o, len - o, ".%s", key + 16);
		}
	} else if (strstr(l->msg, "Missing required mapping field") && dot &&
		   dot > br)
		*dot = 0;
	else if (strstr(l->msg, "Missing required mapping field") && !br)
		path[0] = 0;
}

static void schema_load(struct mf_manifest *m, const char *text, size_t len)
{
	struct cy_log log = { .m = m };
	cyaml_config_t cfg = { .log_fn = cy_log_fn,
			       .log_ctx = &log,
			       .mem_fn = cyaml_mem,
			       .log_level = CYAML_LOG_ERROR };
	char path[256];
	cyaml_err_t e;

	e = cyaml_load_data((const uint8_t *)text, len, &cfg, &mf_doc_schema,
			    (cyaml_data_t **)&m->doc, NULL);
	if (e == CYAML_OK && m->doc)
		return;
	if (e == CYAML_OK) {
		mf_report(m, MF_ERROR, "",
			  "the manifest is empty (expected a "
			  "mapping with a list of vms)");
		return;
	}
	m->doc = NULL;
	cy_path(&log, path, sizeof(path));
	cy_key_path(&log, path, sizeof(path));
	mf_report(m, MF_ERROR, path, "%s",
		  log.have_msg ? log.msg : cyaml_strerror(e));
}

/* --- Loading ------------------------------------------------------------ */

static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	*text = malloc(MAX_FILE + 1);
	n = *text ? fread(*text, 1, MAX_FILE + 1, f) : 0;
	fclose(f);
	if (!*text)
		return -ENOMEM;
	if (n > MAX_FILE) {
		free(*text);
		return -EFBIG;
	}
	*len = n;
	return 0;
}

static int init_manifest(struct mf_manifest *m, const char *path)
{
	char *copy = strdup(path);

	m->file = strdup(path);
	m->dir = copy ? strdup(dirname(copy)) : NULL;
	free(copy);
	return m->file && m->dir ? 0 : -ENOMEM;
}

int mf_load(const char *path, const char *text, size_t len,
	    struct mf_manifest **out)
{
	struct mf_manifest *m = calloc(1, sizeof(*m));
	char *buf = NULL;
	int err;

	if (!m)
		return -ENOMEM;
	err = init_manifest(m, path);
	if (!err && !text) {
		err = read_file(path, &buf, &len);
		text = buf;
	}
	if (!err)
		err = mf_index_positions(m, text, len);
	if (err) {
		free(buf);
		mf_free(m);
		return err;
	}
	schema_load(m, text, len);
	free(buf);
	*out = m;
	return 0;
}

void mf_free(struct mf_manifest *m)
{
	cyaml_config_t cfg = { .mem_fn = cyaml_mem,
			       .log_level = CYAML_LOG_ERROR,
			       .log_fn = cyaml_log };

	if (!m)
		return;
	if (m->doc)
		cyaml_free(&cfg, &mf_doc_schema, m->doc, 0);
	for (size_t i = 0; i < m->n_nodes; i++)
		free(m->nodes[i].path);
	for (size_t i = 0; i < m->n_diags; i++) {
		free(m->diags[i].path);
		free(m->diags[i].message);
	}
	free(m->nodes);
	free(m->diags);
	free(m->file);
	free(m->dir);
	free(m);
}

/* --- Values ------------------------------------------------------------- */

int mf_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	while (*end == ' ')
		end++;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 0:
		break;
	default:
		return -EINVAL;
	}
	if (*end && strcmp(end + 1, "") && strcmp(end + 1, "iB") &&
	    strcmp(end + 1, "B"))
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int mf_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
			 &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

char *mf_resolve(const struct mf_manifest *m, const char *file,
		 const char *guest_dir)
{
	const char *dirs[2] = { m->dir, guest_dir };
	char *p;

	if (!file || !*file)
		return NULL;
	if (file[0] == '/')
		return access(file, R_OK) ? NULL : strdup(file);
	for (int i = 0; i < 2; i++) {
		if (!dirs[i] || asprintf(&p, "%s/%s", dirs[i], file) < 0)
			continue;
		if (!access(p, R_OK))
			return p;
		free(p);
	}
	return NULL;
}
