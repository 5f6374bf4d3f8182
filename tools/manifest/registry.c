/* SPDX-License-Identifier: MIT */
/* The actor types a manifest can name, and the options each takes. */
#include "registry.h"

#include <stdio.h>
#include <string.h>

#include "debugexit.h"
#include "e1000.h"
#include "ioapic.h"
#include "netdev.h"
#include "pci_host.h"
#include "pic.h"
#include "testdev.h"
#include "uart.h"
#include "vcpu.h"

#define PLACEMENT                                                              \
	{ "priority", "SCHED_FIFO priority 1..99 of its thread (0: normal)" }, \
		{ "host-cpu", "host CPU its thread is pinned to" },            \
	{                                                                      \
		"fast-path", "false: never handled on the sender's thread"     \
	}

#define ISOLATION                                                              \
	{ "isolation", "process: in a sandboxed process of its own "           \
		       "(default in-process; docs/isolation.md)" },            \
		{ "on-failure", "when its process dies: restart (default), "   \
				"stop-vm, remove" },                           \
		{ "max-restarts", "restarts allowed per window before "        \
				  "stop-vm (default 5, at most 64)" },         \
	{                                                                      \
		"restart-window-ms", "that window (default 10000)"             \
	}

static const struct mf_option common_opts[] = { { "type", "the type" },
						{ "name", "its name" },
						PLACEMENT,
						{ NULL, NULL } };

static const struct mf_option e1000_opts[] = {
	{ "type", "e1000" },
	{ "name", "its name" },
	{ "slot", "PCI slot 1..31 (INTA# lands on IOAPIC pin 10 or 11)" },
	{ "network", "the network it is cabled to (see networks)" },
	{ "mac", "station address, e.g. 52:54:00:12:34:56" },
	{ "link-down", "start with the cable unplugged" },
	PLACEMENT,
	ISOLATION,
	{ NULL, NULL },
};

static const struct mf_option uart_opts[] = {
	{ "type", "uart16550" },
	{ "name", "its name" },
	{ "port", "I/O base, e.g. 0x2F8 for COM2" },
	{ "irq", "IOAPIC pin, e.g. 3 for COM2" },
	{ "serial", "backend: stdio, null, file:PATH, pty[:LINK], "
		    "nng:URL (dial), nng-listen:URL" },
	PLACEMENT,
	{ NULL, NULL },
};

static const struct mf_option testdev_opts[] = {
	{ "type", "testdev" },
	{ "name", "its name" },
	{ "mmio", "MMIO base of its 4 KiB register page" },
	{ "port", "I/O base of its 8 ports" },
	{ "irq", "IOAPIC pin of its interrupt line" },
	{ "id", "value of its ID register" },
	PLACEMENT,
	ISOLATION,
	{ NULL, NULL },
};

const struct mf_type mf_types[] = {
	{ MF_KIND_DEVICE, &e1000_ops, e1000_opts },
	{ MF_KIND_DEVICE, &uart_ops, uart_opts },
	{ MF_KIND_DEVICE, &testdev_ops, testdev_opts },
	{ MF_KIND_PLATFORM, &vcpu_ops, common_opts },
	{ MF_KIND_PLATFORM, &ioapic_ops, common_opts },
	{ MF_KIND_PLATFORM, &pic_ops, common_opts },
	{ MF_KIND_PLATFORM, &pci_host_ops, common_opts },
	{ MF_KIND_PLATFORM, &debugexit_ops, common_opts },
	{ MF_KIND_NETWORK, &wire_ops, NULL },
	{ MF_KIND_NETWORK, &tap_ops, NULL },
	{ MF_KIND_NETWORK, &pcap_ops, NULL },
	{ 0, NULL, NULL },
};

const struct mf_type *mf_type_find(const char *name)
{
	for (const struct mf_type *t = mf_types; t->ops; t++)
		if (name && !strcmp(t->ops->type, name))
			return t;
	return NULL;
}

bool mf_type_has_option(const struct mf_type *t, const char *key)
{
	for (const struct mf_option *o = t->options; o && o->key; o++)
		if (!strcmp(o->key, key))
			return true;
	return false;
}

void mf_type_option_list(const struct mf_type *t, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (const struct mf_option *p = t->options; p && p->key && o < len;
	     p++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
				      p->key);
}
