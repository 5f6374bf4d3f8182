/* SPDX-License-Identifier: MIT */
/* Loading a manifest: the schema load, its errors with their lines, and
 * the diagnostics list every later check adds to. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
		     const char *path, const struct mf_node *at, char *msg)
{
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
		.line = at ? at->line : 0,
		.column = at ? at->column : 0,
		.path = strdup(path),
		.message = msg,
	};
}

static void report_v(struct mf_manifest *m, enum mf_severity sev,
		     const char *path, const struct mf_node *at,
		     const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	add_diag(m, sev, path, at, msg);
}

void mf_report(struct mf_manifest *m, enum mf_severity sev, const char *path,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_v(m, sev, path, nearest(m, path), fmt, ap);
	va_end(ap);
}

void mf_report_at(struct mf_manifest *m, unsigned line, unsigned column,
		  const char *fmt, ...)
{
	const struct mf_node at = { .line = line, .column = column };
	va_list ap;

	va_start(ap, fmt);
	report_v(m, MF_ERROR, "", &at, fmt, ap);
	va_end(ap);
}

unsigned mf_errors(const struct mf_manifest *m)
{
	unsigned n = 0;

	for (size_t i = 0; i < m->n_diags; i++)
		n += m->diags[i].severity == MF_ERROR;
	return n;
}

/* @s with control characters escaped: names and values come from the
 * manifest, and raw they could drive the terminal. */
static void put_clean(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

void mf_print_diags(const struct mf_manifest *m, FILE *f)
{
	for (size_t i = 0; i < m->n_diags; i++) {
		const struct mf_diag *d = &m->diags[i];

		put_clean(f, m->file);
		/* Line 0: about the file as a whole (too large, a FIFO). */
		if (d->line)
			fprintf(f, ":%u:%u", d->line, d->column);
		fprintf(f, ": %s: ",
			d->severity == MF_ERROR ? "error" : "warning");
		put_clean(f, d->path);
		fputs(d->path[0] ? ": " : "", f);
		put_clean(f, d->message);
		fputc('\n', f);
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

/* What a path that is not a regular file is, for the message. */
static const char *file_kind(mode_t mode)
{
	return S_ISDIR(mode)	? "a directory"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISSOCK(mode) ? "a socket"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
				: "not a regular file";
}

static int refuse_kind(struct mf_manifest *m, mode_t mode)
{
	mf_report(m, MF_ERROR, "",
		  "%s: only a regular file is read as a manifest",
		  file_kind(mode));
	return 0;
}

/*
 * Up to MAX_FILE + 1 bytes of @fd into *@buf of @cap bytes, grown to
 * MAX_FILE + 1 if the file has more than its size said (it grew, or it is
 * one of /proc's, which say 0): one byte over the limit tells a file that
 * is too large.
 */
static ssize_t read_bounded(int fd, char **buf, size_t cap)
{
	size_t n = 0;

	while (n <= MAX_FILE) {
		ssize_t r;

		if (n == cap) {
			char *more = realloc(*buf, MAX_FILE + 1);

			if (!more)
				return -ENOMEM;
			*buf = more;
			cap = MAX_FILE + 1;
		}
		r = read(fd, *buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : (ssize_t)n;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

static int too_large(struct mf_manifest *m)
{
	mf_report(m, MF_ERROR, "",
		  "larger than %u bytes (1 MiB), the limit of a manifest",
		  MAX_FILE);
	return 0;
}

/* A regular file of at most MAX_FILE bytes into *@text (malloc'ed). */
static int read_fd(struct mf_manifest *m, int fd, char **text, size_t *len)
{
	struct stat st;
	size_t cap;
	ssize_t n;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return refuse_kind(m, st.st_mode);
	if (st.st_size > MAX_FILE)
		return too_large(m);
	/* Its size and a byte: the end is seen without growing. */
	cap = (size_t)st.st_size + 1;
	*text = malloc(cap);
	if (!*text)
		return -ENOMEM;
	n = read_bounded(fd, text, cap);
	if (n >= 0 && (size_t)n <= MAX_FILE) {
		*len = (size_t)n;
		return 0;
	}
	free(*text);
	*text = NULL;
	return n < 0 ? (int)n : too_large(m);
}

/*
 * Only regular files are read: a FIFO or a terminal could block for ever
 * and /dev/zero never ends. O_NONBLOCK keeps the open itself from waiting
 * for a FIFO's writer; fstat() then judges what was opened. Returns 0 with
 * *@text set (the caller's to free), 0 with *@text NULL and an error
 * diagnostic (refused), or -errno; on failure nothing is left to free.
 */
static int read_file(struct mf_manifest *m, char **text, size_t *len)
{
	int fd = open(m->file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int err;

	*text = NULL;
	/* A socket cannot be opened at all (ENXIO): say what it is. */
	if (fd < 0 && errno == ENXIO && !stat(m->file, &st) &&
	    !S_ISREG(st.st_mode))
		return refuse_kind(m, st.st_mode);
	if (fd < 0)
		return -errno;
	err = read_fd(m, fd, text, len);
	close(fd);
	return err;
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
		err = read_file(m, &buf, &len);
		text = buf;
	}
	if (!err && text && !(m->text = malloc(len + 1)))
		err = -ENOMEM;
	if (!err && text) {
		memcpy(m->text, text, len);
		m->text[len] = 0;
		m->text_len = len;
		err = mf_index_positions(m, text, len);
	}
	if (err)
		goto undo_manifest;
	/* A refused file, a refused construct: no schema load (aliases would
	 * be expanded there). */
	if (text && !mf_errors(m))
		schema_load(m, text, len);
	free(buf);
	*out = m;
	return 0;

undo_manifest:
	free(buf);
	mf_free(m);
	return err;
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
	free(m->text);
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

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* By hand: sscanf's %x takes signs, "0x" and single digits. */
int mf_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t b[6];

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++, s += 3) {
		int hi = hex_digit(s[0]), lo = hex_digit(s[1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[2] != ':'))
			return -EINVAL;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, b, sizeof(b));
	return 0;
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (!first && (c == '-' || c == '_'));
}

bool mf_name_ok(const char *s)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if (n == MF_NAME_MAX || !name_char(s[n], !n))
			return false;
	return n > 0;
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
