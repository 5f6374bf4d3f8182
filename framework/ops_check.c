/* SPDX-License-Identifier: MIT */
/*
 * Checks of a device type (its ops table) when an actor of it is created:
 * what would later index out of bounds or confuse a PCI host is refused
 * up front, with a log line naming the actor and the field.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "ops_check.h"

/* Above this a state size is a computation gone wrong, not a device. */
#define OPS_MAX_STATE (1ull << 30)

struct ops_where {
	avm_runtime *rt;
	const char *actor;
};

static int refuse(const struct ops_where *w, const char *field,
		  unsigned long long value, const char *why)
{
	avm__log(w->rt, AVM_LOG_ERROR, w->actor,
		 "bad device type: ops->%s = %llu: %s", field, value, why);
	return -EINVAL;
}

static bool access_size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static int check_direct(const struct ops_where *w,
			const struct avm_region_desc *rd, unsigned r)
{
	char f[64];

	for (unsigned i = 0; i < rd->n_direct; i++) {
		const struct avm_direct_reg *d = &rd->direct[i];

		snprintf(f, sizeof(f), "regions[%u].direct[%u].slot", r, i);
		if (d->slot >= AVM_MAX_DIRECT)
			return refuse(w, f, d->slot, "past AVM_MAX_DIRECT");
		snprintf(f, sizeof(f), "regions[%u].direct[%u].size", r, i);
		if (!access_size_ok(d->size))
			return refuse(w, f, d->size, "not 1, 2, 4 or 8");
		snprintf(f, sizeof(f), "regions[%u].direct[%u].offset", r, i);
		if (d->offset > rd->size || d->size > rd->size - d->offset)
			return refuse(w, f, d->offset, "outside the region");
	}
	return 0;
}

static int check_regions(const struct ops_where *w,
			 const struct avm_device_ops *ops)
{
	char f[64];

	if (ops->n_regions && !ops->regions)
		return refuse(w, "n_regions", ops->n_regions,
			      "regions is NULL");
	for (unsigned r = 0; r < ops->n_regions; r++) {
		const struct avm_region_desc *rd = &ops->regions[r];
		int err;

		snprintf(f, sizeof(f), "regions[%u].space", r);
		if ((unsigned)rd->space >= AVM_SPACE_COUNT)
			return refuse(w, f, rd->space, "not MMIO or PIO");
		snprintf(f, sizeof(f), "regions[%u].size", r);
		if (!rd->size)
			return refuse(w, f, 0, "an empty region");
		snprintf(f, sizeof(f), "regions[%u].n_direct", r);
		if (rd->n_direct && !rd->direct)
			return refuse(w, f, rd->n_direct, "direct is NULL");
		err = check_direct(w, rd, r);
		if (err)
			return err;
	}
	return 0;
}

static int check_ports(const struct ops_where *w,
		       const struct avm_device_ops *ops)
{
	char f[32];

	if (ops->n_ports && !ops->ports)
		return refuse(w, "n_ports", ops->n_ports, "ports is NULL");
	for (unsigned i = 0; i < ops->n_ports; i++) {
		snprintf(f, sizeof(f), "ports[%u]", i);
		if (!ops->ports[i] || !ops->ports[i][0])
			return refuse(w, f, i, "no name");
		/* avm_bind() finds a port by name: a twin is unreachable. */
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(ops->ports[i], ops->ports[j]))
				return refuse(w, f, i, "name used twice");
	}
	return 0;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

const char *avm_pci_bar_problem(const struct avm_device_ops *ops, unsigned bar)
{
	const unsigned known =
		AVM_PCI_BAR_MEM | AVM_PCI_BAR_IO | AVM_PCI_BAR_PREFETCH;
	const struct avm_pci_bar *b;
	const struct avm_region_desc *rd;
	bool io;

	if (bar >= AVM_PCI_MAX_BARS)
		return "no such BAR";
	b = &ops->pci->bars[bar];
	io = b->flags & AVM_PCI_BAR_IO;
	if (!b->flags)
		return NULL;
	if (b->flags & ~known)
		return "unknown flags";
	if (io == !!(b->flags & AVM_PCI_BAR_MEM))
		return "neither or both of MEM and IO";
	if (io && (b->flags & AVM_PCI_BAR_PREFETCH))
		return "PREFETCH on an I/O BAR";
	if (b->region >= ops->n_regions)
		return "region past n_regions";
	rd = &ops->regions[b->region];
	if (rd->space != (io ? AVM_SPACE_PIO : AVM_SPACE_MMIO))
		return "region in the wrong space";
	/* PCI 3.0 6.2.5.1: I/O BARs 4..256 bytes; memory at least 16. */
	if (!pow2(rd->size) || (io ? rd->size < 4 || rd->size > 256
				   : rd->size < 16 || rd->size > 0x80000000u))
		return "region size not a power of two in range";
	return NULL;
}

static int check_pci(const struct ops_where *w,
		     const struct avm_device_ops *ops)
{
	const struct avm_pci_info *p = ops->pci;
	char f[32];

	if (!p)
		return 0;
	if (p->vendor_id == 0xffff)
		return refuse(w, "pci->vendor_id", p->vendor_id,
			      "0xffff means no function");
	if (p->class_code > 0xffffff)
		return refuse(w, "pci->class_code", p->class_code,
			      "more than 24 bits");
	if (p->interrupt_pin > 4)
		return refuse(w, "pci->interrupt_pin", p->interrupt_pin,
			      "not 0..4");
	for (unsigned i = 0; i < AVM_PCI_MAX_BARS; i++) {
		const char *why = avm_pci_bar_problem(ops, i);

		snprintf(f, sizeof(f), "pci->bars[%u]", i);
		if (why)
			return refuse(w, f, p->bars[i].region, why);
	}
	return 0;
}

int avm__ops_check(avm_runtime *rt, const char *actor,
		   const struct avm_device_ops *ops)
{
	const struct ops_where w = { rt, actor };
	int err;

	if (!ops->handle)
		return refuse(&w, "handle", 0, "required");
	if (ops->state_size > OPS_MAX_STATE)
		return refuse(&w, "state_size", ops->state_size,
			      "more than 1 GiB");
	err = check_regions(&w, ops);
	if (!err)
		err = check_ports(&w, ops);
	if (!err)
		err = check_pci(&w, ops);
	return err;
}
