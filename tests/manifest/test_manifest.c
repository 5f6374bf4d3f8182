/* SPDX-License-Identifier: MIT */
/* The manifest loader on its own: values, node positions, schema errors,
 * and a complete manifest loaded into the structs the builder reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "build.h"
#include "manifest.h"
#include "registry.h"

static const char *guest_dir;

static struct mf_manifest *load(const char *yaml)
{
	struct mf_manifest *m = NULL;

	assert_int_equal(mf_load("t.yaml", yaml, strlen(yaml), &m), 0);
	return m;
}

static void sizes(void **unused)
{
	uint64_t v;

	(void)unused;
	assert_int_equal(mf_parse_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(mf_parse_size("64 MiB", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(mf_parse_size("1G", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(mf_parse_size("0x10000", &v), 0);
	assert_int_equal(v, 0x10000);
	assert_int_equal(mf_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(mf_parse_size("64X", &v), -EINVAL);
	assert_int_equal(mf_parse_size("-1M", &v), -EINVAL);
	assert_int_equal(mf_parse_size("M", &v), -EINVAL);
	assert_int_equal(mf_parse_size("99999999999999999G", &v), -EINVAL);
	assert_int_equal(mf_parse_size("64Mx", &v), -EINVAL);
}

static void macs_and_serials(void **unused)
{
	uint8_t mac[6];
	struct mf_serial s;
	char why[160], path[400];

	(void)unused;
	assert_int_equal(mf_parse_mac("52:54:00:12:34:5f", mac), 0);
	assert_int_equal(mac[0], 0x52);
	assert_int_equal(mac[5], 0x5f);
	assert_int_equal(mf_parse_mac("52:54:00:12:34", mac), -EINVAL);
	assert_int_equal(mf_parse_mac("52:54:00:12:34:56:78", mac), -EINVAL);
	/* Exactly six groups of two hex digits: no signs, no 0x, no
	 * single digits, no other separator. */
	assert_int_equal(mf_parse_mac("-1:-1:0x:+f:ff:ff", mac), -EINVAL);
	assert_int_equal(mf_parse_mac("5:54:00:12:34:56", mac), -EINVAL);
	assert_int_equal(mf_parse_mac("52:54:00:12:34:5", mac), -EINVAL);
	assert_int_equal(mf_parse_mac("52-54-00-12-34-56", mac), -EINVAL);
	assert_int_equal(mf_parse_mac("52:54:00:12:34:5g", mac), -EINVAL);
	assert_int_equal(mf_parse_mac("52:54:00:12:34:56 ", mac), -EINVAL);
	assert_int_equal(mf_parse_mac("AA:bb:00:12:34:56", mac), 0);
	assert_int_equal(mac[0], 0xaa);
	assert_int_equal(mf_parse_serial("file:/tmp/x", &s, why, sizeof(why)),
			 0);
	assert_int_equal(s.chr.kind, CHARDEV_FILE);
	assert_string_equal(s.chr.path, "/tmp/x");
	assert_int_equal(mf_parse_serial("nng-listen:ipc:///tmp/c", &s, why,
					 sizeof(why)),
			 0);
	assert_int_equal(s.chr.kind, CHARDEV_NNG);
	assert_true(s.chr.listen);
	assert_int_equal(mf_parse_serial("pty", &s, why, sizeof(why)), 0);
	assert_null(s.chr.path);
	assert_int_equal(mf_parse_serial("file:", &s, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(mf_parse_serial("stdiox", &s, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "stdiox"));
	/* A path longer than the backend's buffer: refused, not cut. */
	memset(path, 'p', sizeof(path) - 1);
	memcpy(path, "file:", 5);
	path[sizeof(path) - 1] = 0;
	assert_int_equal(mf_parse_serial(path, &s, why, sizeof(why)),
			 -ENAMETOOLONG);
	assert_non_null(strstr(why, "longer than 255 bytes"));
	path[5 + 255] = 0;
	assert_int_equal(mf_parse_serial(path, &s, why, sizeof(why)), 0);
	assert_int_equal(strlen(s.chr.path), 255);
}

static void positions(void **unused)
{
	struct mf_manifest *m = load("vms:\n"
				     "  - name: a\n"
				     "    vcpus:\n"
				     "      - image: x.elf\n"
				     "      - image: y.elf\n"
				     "        cmdline: c\n");
	const struct mf_node *n;

	(void)unused;
	n = mf_node_at(m, "vms[0].vcpus[1].cmdline");
	assert_non_null(n);
	assert_int_equal(n->line, 6);
	assert_int_equal(n->column, 9);
	n = mf_node_at(m, "vms[0].vcpus[1]");
	assert_non_null(n);
	assert_int_equal(n->line, 5);
	assert_null(mf_node_at(m, "vms[0].vcpus[2]"));
	assert_non_null(m->doc);
	assert_int_equal(m->doc->vms[0].vcpus_count, 2);
	assert_string_equal(m->doc->vms[0].vcpus[1].cmdline, "c");
	mf_free(m);
}

static void full_manifest(void **unused)
{
	struct mf_manifest *m =
		load("vms:\n"
		     "  - name: left\n"
		     "    memory: 32M\n"
		     "    cpu: soft\n"
		     "    executor: threaded\n"
		     "    vcpus: [ { image: a.elf, priority: 10, "
		     "host-cpu: 1 } ]\n"
		     "    devices:\n"
		     "      - { type: e1000, name: nic, slot: 4, "
		     "network: link, link-down: true, "
		     "fast-path: false }\n"
		     "networks:\n"
		     "  - { name: link, url: 'tcp://h:1', listen: "
		     "true, pcap: l.pcap }\n"
		     "trace: { file: t.trace, kinds: [irq] }\n");
	const struct mf_vm *vm;

	(void)unused;
	assert_non_null(m->doc);
	assert_int_equal(m->n_diags, 0);
	vm = &m->doc->vms[0];
	assert_int_equal(vm->backend, MF_BACKEND_SOFT);
	assert_int_equal(*vm->vcpus[0].priority, 10);
	assert_int_equal(*vm->vcpus[0].host_cpu, 1);
	assert_int_equal(*vm->devices[0].slot, 4);
	assert_true(*vm->devices[0].link_down);
	assert_false(*vm->devices[0].fast_path);
	assert_null(vm->devices[0].mac); /* absent stays absent */
	assert_true(*m->doc->networks[0].listen);
	assert_string_equal(m->doc->trace->kinds[0], "irq");
	mf_free(m);
}

/* A schema error leaves no document and one diagnostic at its line. */
static void schema_errors(void **unused)
{
	struct mf_manifest *m = load("vms:\n  - name: a\n    vcpus: [{}]\n"
				     "    bogus: 1\n");

	(void)unused;
	assert_null(m->doc);
	assert_int_equal(mf_errors(m), 1);
	assert_int_equal(m->diags[0].line, 4);
	assert_string_equal(m->diags[0].path, "vms[0].bogus");
	mf_free(m);
	m = load("vms:\n  - name: a\n    vcpus: []\n");
	assert_null(m->doc);
	assert_string_equal(m->diags[0].path, "vms[0].vcpus");
	assert_non_null(strstr(m->diags[0].message, "Insufficient entries"));
	mf_free(m);
	m = load("");
	assert_null(m->doc);
	assert_int_equal(mf_errors(m), 1);
	mf_free(m);
	m = load("vms: [ { name: a, vcpus: [ {} ] } ]\n\t\x01garbage: [\n");
	assert_null(m->doc);
	assert_true(mf_errors(m) >= 1);
	mf_free(m);
}

/* The only error of @m: at @line (0: the file itself), saying @text. */
static void one_error(struct mf_manifest *m, unsigned line, const char *text)
{
	assert_null(m->doc);
	assert_int_equal(mf_errors(m), 1);
	assert_int_equal(m->diags[0].line, line);
	if (!strstr(m->diags[0].message, text))
		fail_msg("'%s' not in '%s'", text, m->diags[0].message);
}

static struct mf_manifest *load_file(const char *path)
{
	struct mf_manifest *m = NULL;

	assert_int_equal(mf_load(path, NULL, 0, &m), 0);
	return m;
}

/* A file of @size bytes: a valid manifest, then a comment filling it. */
static void write_sized(const char *path, size_t size)
{
	static const char head[] = "vms: [ { name: a, vcpus: [ {} ] } ]\n#";
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(head, f);
	for (size_t i = sizeof(head) - 1; i < size; i++)
		fputc('x', f);
	assert_int_equal(fclose(f), 0);
}

/*
 * Over 1 MiB is refused with the limit in the message (the reader once
 * freed its buffer there and mf_load() freed it again); exactly 1 MiB is
 * read. Anything but a regular file is refused at once: a FIFO without a
 * writer once blocked the check for ever, /dev/zero never ends.
 */
static void file_reader(void **unused)
{
	char dir[] = "/tmp/mf-test-XXXXXX", path[64];
	struct mf_manifest *m;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	write_sized(path, (1u << 20) + 1);
	m = load_file(path);
	one_error(m, 0, "1 MiB");
	mf_free(m);
	write_sized(path, 1u << 20);
	m = load_file(path);
	assert_non_null(m->doc);
	assert_int_equal(mf_errors(m), 0);
	mf_free(m);
	unlink(path);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	m = load_file(path);
	one_error(m, 0, "a FIFO: only a regular file");
	mf_free(m);
	unlink(path);
	m = load_file(dir);
	one_error(m, 0, "a directory");
	mf_free(m);
	m = load_file("/dev/zero");
	one_error(m, 0, "a character device");
	mf_free(m);
	/* A regular file whose size says 0 is still read to its end. */
	m = load_file("/proc/self/status");
	one_error(m, 1, "Unexpected key: Name");
	mf_free(m);
	assert_int_equal(rmdir(dir), 0);
}

/* Aliases are refused where they are, before libcyaml would expand them
 * (a small file of nested aliases once took gigabytes), however deep. */
static void aliases(void **unused)
{
	char deep[512] = "";
	struct mf_manifest *m;

	(void)unused;
	m = load("a: &x [1, 2]\nvms: *x\n");
	one_error(m, 2, "alias '*x'");
	assert_int_equal(m->diags[0].column, 6);
	mf_free(m);
	m = load("a: &a [x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n");
	one_error(m, 2, "YAML aliases are refused");
	mf_free(m);
	/* Past the position index's depth (32) too. */
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	strcat(deep, "&y 1, *y");
	for (int i = 0; i < 40; i++)
		strcat(deep, "]");
	m = load(deep);
	one_error(m, 1, "alias '*y'");
	mf_free(m);
}

/* A second document is refused, not ignored. */
static void documents(void **unused)
{
	struct mf_manifest *m;

	(void)unused;
	m = load("vms: [ { name: a, vcpus: [ {} ] } ]\n---\nvms: []\n");
	one_error(m, 2, "a second YAML document");
	mf_free(m);
	m = load("---\nvms: [ { name: a, vcpus: [ {} ] } ]\n...\n");
	assert_non_null(m->doc);
	assert_int_equal(mf_errors(m), 0);
	mf_free(m);
}

static void names(void **unused)
{
	(void)unused;
	assert_true(mf_name_ok("a"));
	assert_true(mf_name_ok("Left-1_b"));
	assert_true(mf_name_ok("0123456789abcdefghijklmnopqrstuv")); /* 32 */
	assert_false(mf_name_ok("0123456789abcdefghijklmnopqrstuvw"));
	assert_false(mf_name_ok(""));
	assert_false(mf_name_ok("../x"));
	assert_false(mf_name_ok("a/b"));
	assert_false(mf_name_ok("a.b"));
	assert_false(mf_name_ok("-a"));
	assert_false(mf_name_ok("_a"));
	assert_false(mf_name_ok("a\x1b[31m"));
	assert_false(mf_name_ok("a b"));
	assert_false(mf_name_ok("\xc3\xa9"));
}

/* Diagnostics escape control characters: a value could hold any. */
static void printed_clean(void **unused)
{
	struct mf_manifest *m = load("vms: [ { name: \"a\\e]0;x\\a\", "
				     "vcpus: [ {} ] } ]\n");
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)unused;
	mf_check(m, NULL);
	mf_print_diags(m, f);
	fclose(f);
	assert_null(strchr(buf, '\x1b'));
	assert_null(strchr(buf, '\a'));
	assert_non_null(strstr(buf, "VM name 'a\\x1b]0;x\\x07'"));
	mf_free(m);
}

/* Whether @yaml, checked, has an error whose message holds @text. */
static bool check_says(const char *yaml, const char *text)
{
	struct mf_manifest *m = load(yaml);
	bool found = false;

	mf_check(m, guest_dir);
	for (size_t i = 0; i < m->n_diags; i++)
		found |= m->diags[i].severity == MF_ERROR &&
			 strstr(m->diags[i].message, text);
	mf_free(m);
	return found;
}

static char *repeat(const char *head, const char *unit, unsigned n,
		    const char *tail)
{
	size_t len = strlen(head) + strlen(unit) * n + strlen(tail) + 1;
	char *s = malloc(len);

	assert_non_null(s);
	strcpy(s, head);
	for (unsigned i = 0; i < n; i++)
		strcat(s, unit);
	strcat(s, tail);
	return s;
}

/* A VM of hello.elf with @n devices, each @fmt of (i, @first + i * @step). */
static char *devices(unsigned n, const char *fmt, unsigned first, unsigned step)
{
	char *y = malloc(128 + n * 128);
	size_t o;

	assert_non_null(y);
	o = (size_t)sprintf(y, "vms: [ { name: a, vcpus: [ { image: "
			       "hello.elf } ],\n  devices: [\n");
	for (unsigned i = 0; i < n; i++) {
		o += (size_t)snprintf(y + o, 120, fmt, i, first + i * step);
		o += (size_t)sprintf(y + o, ",\n");
	}
	sprintf(y + o, "] } ]\n");
	return y;
}

/* What the builder or the loader would refuse or cut, check refuses. */
static void check_catches(void **unused)
{
	char *y = repeat("vms: [ { name: a, vcpus: [ { image: hello.elf, "
			 "cmdline: '",
			 "x", 2048, "' } ] } ]\n");

	(void)unused;
	assert_true(check_says(y, "at most 2047"));
	y[strlen(y) - 16] = 0; /* 2047 bytes */
	strcat(y, "' } ] } ]\n");
	assert_false(check_says(y, "cmdline"));
	free(y);
	assert_true(check_says("vms: [ { name: \"a\\x01\", vcpus: "
			       "[ { image: hello.elf } ] } ]\n",
			       "VM name"));
	assert_true(check_says(
		"vms: [ { name: a, vcpus: [ { image: hello.elf } ],\n"
		"  devices: [ { type: testdev, name: t,"
		" mmio: 0xFFFFFFFFFFFFF800 } ] } ]\n",
		"wrap past 2^64"));
	y = devices(9, "{ type: e1000, name: e%u, slot: %u }", 1, 1);
	assert_true(check_says(y, "more than 8 PCI devices"));
	free(y);
	/* 64 devices of two ranges each: every range is kept (the table
	 * once ended at 96, so t62's went unrecorded and t63 overlapped it
	 * unseen). */
	y = devices(64,
		    "{ type: testdev, name: t%1$u, mmio: 0x%2$x000, "
		    "port: 0x4%1$02x0 }",
		    0xD0000, 1);
	strcpy(strstr(y, "0xd003f000"), "0xd003e000, port: 0x5000 }] } ]\n");
	assert_true(check_says(y, "'t63' (regs) [0xd003e000, 0xd003efff] "
				  "overlaps 't62' (regs)"));
	free(y);
	/* VCPUs sharing an image share its command line: another one of
	 * their own was once ignored without a word. */
	assert_true(check_says("vms: [ { name: a, vcpus: [ { image: hello.elf,"
			       " cmdline: x }, { image: hello.elf, cmdline: y "
			       "} ] } ]\n",
			       "its own would be ignored"));
	assert_false(check_says("vms: [ { name: a, cmdline: x, vcpus: [ { "
				"image: hello.elf }, { image: hello.elf } ] "
				"} ]\n",
				"ignored"));
	assert_true(check_says("vms: [ { name: a, vcpus: [ { image: a.elf },"
			       " { image: b.elf }, { image: a.elf }, "
			       "{ image: b.elf }, { image: a.elf } ] } ]\n",
			       "at most 4"));
}

/* hello.elf with its first segment moved to @paddr, written to @path. */
static void moved_image(const char *path, uint32_t paddr)
{
	static uint8_t img[1 << 20];
	char src[512];
	FILE *f;
	size_t n;
	Elf32_Ehdr eh;
	Elf32_Phdr ph;

	snprintf(src, sizeof(src), "%s/hello.elf", guest_dir);
	f = fopen(src, "rb");
	assert_non_null(f);
	n = fread(img, 1, sizeof(img), f);
	fclose(f);
	memcpy(&eh, img, sizeof(eh));
	memcpy(&ph, img + eh.e_phoff, sizeof(ph));
	assert_int_equal(ph.p_type, PT_LOAD);
	ph.p_paddr = paddr;
	memcpy(img + eh.e_phoff, &ph, sizeof(ph));
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/*
 * Images: one that run's loader refuses (a segment outside the VM's RAM)
 * is refused by check too; an image that is a FIFO is refused at once
 * (the check once opened it and waited for a writer).
 */
static void image_checks(void **unused)
{
	char dir[] = "/tmp/mf-test-XXXXXX", path[64], yaml[256];

	(void)unused;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/far.elf", dir);
	moved_image(path, 0x8000000); /* 128 MiB: past 64M of RAM */
	snprintf(yaml, sizeof(yaml),
		 "vms: [ { name: a, vcpus: [ { image: %s } ] } ]\n", path);
	assert_true(check_says(yaml, "cannot be loaded in this VM's 64 MiB "
				     "of RAM: segment [0x8000000"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/fifo.elf", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(yaml, sizeof(yaml),
		 "vms: [ { name: a, vcpus: [ { image: %s } ] } ]\n", path);
	assert_true(check_says(yaml, "is not a regular file"));
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	assert_false(check_says("vms: [ { name: a, memory: 2M, vcpus: "
				"[ { image: hello.elf } ] } ]\n",
				"image"));
}

/* Checked and built: what check accepts, the builder accepts (64 UARTs
 * once passed check and failed at run: the runtime held 64 actors). */
static void builds(char *yaml)
{
	struct mf_manifest *m = load(yaml);
	static struct mf_run run;
	struct mf_build_opts o = { .guest_dir = guest_dir };
	char err[256] = "";

	free(yaml);
	assert_int_equal(mf_check(m, guest_dir), 0);
	if (mf_build(&run, m, &o, err, sizeof(err)))
		fail_msg("build: %s", err);
	mf_fini(&run);
	mf_free(m);
}

static void check_then_build(void **unused)
{
	(void)unused;
	builds(devices(64, "{ type: uart16550, name: u%u, port: 0x%x }", 0x1000,
		       8));
	builds(devices(64,
		       "{ type: testdev, name: t%1$u, mmio: 0x%2$x000, "
		       "port: 0x4%1$02x0 }",
		       0xD0000, 1));
	/* The last page of the address space: ends at 2^64 - 1. */
	builds(devices(1, "{ type: testdev, name: t%u, mmio: 0xffffffff%x }",
		       0xFFFFF000, 0));
}

static void registry(void **unused)
{
	const struct mf_type *t = mf_type_find("e1000");

	(void)unused;
	assert_non_null(t);
	assert_non_null(t->ops->pci);
	assert_true(mf_type_has_option(t, "mac"));
	assert_false(mf_type_has_option(t, "mmio"));
	assert_null(mf_type_find("e2000"));
	/* Every type is named by its ops, and appears once. */
	for (const struct mf_type *a = mf_types; a->ops; a++)
		for (const struct mf_type *b = a + 1; b->ops; b++)
			assert_string_not_equal(a->ops->type, b->ops->type);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(macs_and_serials),
		cmocka_unit_test(positions),
		cmocka_unit_test(full_manifest),
		cmocka_unit_test(schema_errors),
		cmocka_unit_test(registry),
		cmocka_unit_test(file_reader),
		cmocka_unit_test(aliases),
		cmocka_unit_test(documents),
		cmocka_unit_test(names),
		cmocka_unit_test(printed_clean),
		cmocka_unit_test(check_catches),
		cmocka_unit_test(check_then_build),
		cmocka_unit_test(image_checks),
	};

	guest_dir = argc > 1 ? argv[1] : NULL;
	if (!guest_dir) {
		fprintf(stderr, "usage: test_manifest GUEST_DIR\n");
		return 2;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
