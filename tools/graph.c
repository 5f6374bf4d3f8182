/* SPDX-License-Identifier: MIT */
/* `actorvm graph` (the actor graph a manifest builds, as text or DOT) and
 * `actorvm list` (the actor types, from the registry). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "cli.h"
#include "registry.h"

static void print_regions(avm_runtime *rt, avm_actor_id id, FILE *f)
{
	const struct avm_device_ops *ops = avm_actor_ops(rt, id);
	uint64_t base;

	for (unsigned r = 0; r < ops->n_regions; r++) {
		if (avm_region_base(rt, id, r, &base))
			continue;
		fprintf(f, " %s@0x%llx",
			ops->regions[r].space == AVM_SPACE_PIO ? "pio" : "mmio",
			(unsigned long long)base);
	}
	if (ops->pci)
		fprintf(f, " (PCI: BARs assigned at start)");
}

static void text_vm(const struct mf_vm_run *v, FILE *f)
{
	avm_runtime *rt = v->rt;

	fprintf(f, "vm %s: %s executor, %u VCPU%s\n", v->vm->name,
		v->vm->executor == MF_EXEC_BIGLOCK ? "biglock" : "threaded",
		v->vm->vcpus_count, v->vm->vcpus_count == 1 ? "" : "s");
	for (unsigned id = 0; id < avm_actor_count(rt); id++) {
		const struct avm_device_ops *ops = avm_actor_ops(rt, id);

		fprintf(f, "  %-12s %-10s", avm_actor_name(rt, id), ops->type);
		print_regions(rt, id, f);
		fprintf(f, "\n");
		for (unsigned p = 0; p < ops->n_ports; p++) {
			avm_actor_id dst;
			uint32_t arg;

			if (avm_actor_port(rt, id, p, &dst, &arg))
				continue;
			fprintf(f, "  %-12s   %s -> %s", "", ops->ports[p],
				avm_actor_name(rt, dst));
			if (arg)
				fprintf(f, " (%u)", arg);
			fprintf(f, "\n");
		}
	}
}

static void text_networks(const struct mf_run *r, FILE *f)
{
	const struct mf_doc *d = r->m->doc;

	for (unsigned n = 0; n < d->networks_count; n++) {
		const struct mf_network *net = &d->networks[n];

		fprintf(f, "network %s (%s%s%s):", net->name,
			net->type == MF_NET_TAP ? "tap" : "wire",
			net->url ? " " : "", net->url ? net->url : "");
		for (unsigned v = 0; v < d->vms_count; v++)
			for (unsigned i = 0; i < d->vms[v].devices_count; i++)
				if (d->vms[v].devices[i].network &&
				    !strcmp(d->vms[v].devices[i].network,
					    net->name))
					fprintf(f, " %s.%s", d->vms[v].name,
						d->vms[v].devices[i].name);
		fprintf(f, "\n");
	}
}

static void dot_vm(const struct mf_vm_run *v, unsigned idx, FILE *f)
{
	avm_runtime *rt = v->rt;

	fprintf(f, "  subgraph cluster_%u {\n    label=\"%s\";\n", idx,
		v->vm->name);
	for (unsigned id = 0; id < avm_actor_count(rt); id++)
		fprintf(f, "    \"%s.%s\" [label=\"%s\\n%s\"];\n", v->vm->name,
			avm_actor_name(rt, id), avm_actor_name(rt, id),
			avm_actor_ops(rt, id)->type);
	for (unsigned id = 0; id < avm_actor_count(rt); id++) {
		const struct avm_device_ops *ops = avm_actor_ops(rt, id);

		for (unsigned p = 0; p < ops->n_ports; p++) {
			avm_actor_id dst;
			uint32_t arg;

			if (avm_actor_port(rt, id, p, &dst, &arg))
				continue;
			fprintf(f, "    \"%s.%s\" -> \"%s.%s\" [label=\"%s",
				v->vm->name, avm_actor_name(rt, id),
				v->vm->name, avm_actor_name(rt, dst),
				ops->ports[p]);
			if (arg)
				fprintf(f, " %u", arg);
			fprintf(f, "\"];\n");
		}
	}
	fprintf(f, "  }\n");
}

/* Wires between VMs: their two backends, dashed, no direction. */
static void dot_wires(const struct mf_run *r, FILE *f)
{
	const struct mf_doc *d = r->m->doc;

	for (unsigned n = 0; n < d->networks_count; n++) {
		const char *ends[2] = { NULL, NULL };
		unsigned k = 0;

		for (unsigned v = 0; v < d->vms_count && k < 2; v++)
			for (unsigned i = 0; i < d->vms[v].devices_count; i++)
				if (k < 2 && d->vms[v].devices[i].network &&
				    !strcmp(d->vms[v].devices[i].network,
					    d->networks[n].name))
					ends[k++] = d->vms[v].name;
		if (k == 2)
			fprintf(f,
				"  \"%s.net.%s\" -> \"%s.net.%s\" "
				"[dir=none, style=dashed, label=\"%s\"];\n",
				ends[0], d->networks[n].name, ends[1],
				d->networks[n].name, d->networks[n].name);
	}
}

static void graph_usage(FILE *f)
{
	fprintf(f, "usage: actorvm graph [--dot] [--guest-dir DIR] FILE\n\n"
		   "Builds (without starting) the actors a manifest describes "
		   "and prints\n"
		   "them with their address ranges and port bindings, as text "
		   "or, with\n"
		   "--dot, as a Graphviz digraph (one cluster per VM; render "
		   "with\n"
		   "`dot -Tsvg`).\n");
}

int avm_cli_graph(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dot", no_argument, NULL, 'd' },
		{ "guest-dir", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct mf_build_opts bo = { .log_level = -1 };
	struct mf_manifest *m;
	struct mf_run *r;
	const char *gdir = NULL;
	bool dot = false;
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "dg:h", opts, NULL)) != -1) {
		if (c == 'h') {
			graph_usage(stdout);
			return 0;
		}
		if (c == 'd')
			dot = true;
		else if (c == 'g')
			gdir = optarg;
		else
			return graph_usage(stderr), 2;
	}
	if (argc - optind != 1)
		return graph_usage(stderr), 2;
	bo.guest_dir = avm_cli_guest_dir(gdir);
	m = avm_cli_load(argv[optind], bo.guest_dir, true);
	r = m ? calloc(1, sizeof(*r)) : NULL;
	if (!r || mf_build(r, m, &bo, err, sizeof(err))) {
		if (r)
			fprintf(stderr, "actorvm graph: %s\n", err);
		free(r);
		mf_free(m);
		return 1;
	}
	if (dot) {
		printf("digraph actorvm {\n  node [shape=box];\n");
		for (unsigned i = 0; i < r->n_vms; i++)
			dot_vm(&r->vm[i], i, stdout);
		dot_wires(r, stdout);
		printf("}\n");
	} else {
		for (unsigned i = 0; i < r->n_vms; i++)
			text_vm(&r->vm[i], stdout);
		text_networks(r, stdout);
	}
	mf_fini(r);
	free(r);
	mf_free(m);
	return 0;
}

/* --- list ----------------------------------------------------------------- */

int avm_cli_list(int argc, char **argv)
{
	static const char *const kinds[] = { "device", "platform", "network" };

	if (argc > 1 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
		fprintf(stderr, "usage: actorvm list\n");
		return 2;
	}
	if (argc > 1) {
		printf("usage: actorvm list\n\nThe actor types, with their "
		       "manifest options (devices) or role.\n");
		return 0;
	}
	for (const struct mf_type *t = mf_types; t->ops; t++) {
		printf("%-10s %-8s %s\n", t->ops->type, kinds[t->kind],
		       t->ops->doc ? t->ops->doc : "");
		for (const struct mf_option *o = t->options;
		     t->kind == MF_KIND_DEVICE && o && o->key; o++)
			if (strcmp(o->key, "type") && strcmp(o->key, "name"))
				printf("    %-10s %s\n", o->key, o->doc);
	}
	printf("\nPlatform types are part of every VM; network types are made "
	       "from the\nmanifest's networks. See docs/manifest.md.\n");
	return 0;
}
