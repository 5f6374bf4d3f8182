/* SPDX-License-Identifier: MIT */
/* The manifest loader on its own: values, node positions, schema errors,
 * and a complete manifest loaded into the structs the builder reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "build.h"
#include "manifest.h"
#include "registry.h"

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
	char why[160];

	(void)unused;
	assert_int_equal(mf_parse_mac("52:54:00:12:34:5f", mac), 0);
	assert_int_equal(mac[0], 0x52);
	assert_int_equal(mac[5], 0x5f);
	assert_int_equal(mf_parse_mac("52:54:00:12:34", mac), -EINVAL);
	assert_int_equal(mf_parse_mac("52:54:00:12:34:56:78", mac), -EINVAL);
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
		     "network: link, link-down: true }\n"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(macs_and_serials),
		cmocka_unit_test(positions),
		cmocka_unit_test(full_manifest),
		cmocka_unit_test(schema_errors),
		cmocka_unit_test(registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
