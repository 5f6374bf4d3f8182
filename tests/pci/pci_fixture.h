/* SPDX-License-Identifier: MIT */
/*
 * A VM slice for the PCI host's tests, on the deterministic executor: RAM,
 * an e1000 at slot 3, a fakepci at slot 5, the host at 0xCF8, and an
 * accessor acting as the VCPU (outl 0xCF8 / inl 0xCFC).
 */
#ifndef TEST_PCI_FIXTURE_H
#define TEST_PCI_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>

#include <actorvm/deterministic.h>
#include <actorvm/runtime.h>

#include "e1000.h"
#include "fakepci.h"
#include "pci_host.h"

#define PF_RAM_SIZE  (16u << 20)
#define PF_NIC_SLOT  3
#define PF_FAKE_SLOT 5

/* Where firmware puts the BARs (largest first, upwards from the bases). */
#define PF_NIC_MEM  0xe0000000u
#define PF_FAKE_MEM 0xe0020000u
#define PF_NIC_IO   0xc000u
#define PF_FAKE_IO  0xc040u

struct pcifix {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id nic, fake, host;
	uint8_t *ram;
	struct pci_host_function fns[PCI_HOST_MAX_FUNCTIONS + 1];
	struct pci_host_config cfg;
};

/* Create the runtime and the two devices; the host's config is f->cfg,
 * which the caller may change before pf_start(). */
static inline void pf_create(struct pcifix *f)
{
	struct avm_runtime_config rc = { .exec = AVM_EXEC_DETERMINISTIC,
					 .log_level = AVM_LOG_ERROR };
	struct avm_actor_spec nic = { .ops = &e1000_ops, .name = "nic" };
	struct avm_actor_spec fake = { .ops = &fakepci_ops, .name = "fake" };

	*f = (struct pcifix){ 0 };
	assert_int_equal(avm_runtime_new(&rc, &f->rt), 0);
	assert_int_equal(avm_ram_add(f->rt, 0, PF_RAM_SIZE, (void **)&f->ram),
			 0);
	assert_int_equal(avm_actor_create(f->rt, &nic, &f->nic), 0);
	assert_int_equal(avm_actor_create(f->rt, &fake, &f->fake), 0);
	f->fns[0] = (struct pci_host_function){ .actor = f->nic,
						.ops = &e1000_ops,
						.slot = PF_NIC_SLOT };
	f->fns[1] = (struct pci_host_function){ .actor = f->fake,
						.ops = &fakepci_ops,
						.slot = PF_FAKE_SLOT };
	f->cfg = (struct pci_host_config){ .functions = f->fns,
					   .n_functions = 2 };
}

/* Add the host, map it at 0xCF8 and start; returns the start's result. */
static inline int pf_try_start(struct pcifix *f)
{
	struct avm_actor_spec host = { .ops = &pci_host_ops,
				       .name = "pci",
				       .config = &f->cfg };
	int err;

	assert_int_equal(avm_actor_create(f->rt, &host, &f->host), 0);
	assert_int_equal(avm_map(f->rt, f->host, 0, PCI_HOST_CONFIG_PORT), 0);
	err = avm_runtime_start(f->rt);
	if (!err)
		assert_int_equal(avm_accessor_new(f->rt, "vcpu", &f->acc), 0);
	return err;
}

static inline void pf_up(struct pcifix *f)
{
	pf_create(f);
	assert_int_equal(pf_try_start(f), 0);
}

static inline void pf_down(struct pcifix *f)
{
	if (f->acc)
		avm_accessor_free(f->acc);
	avm_runtime_free(f->rt);
}

/* A guest access; writes are posted, so let every actor catch up. */
static inline int pf_read(struct pcifix *f, enum avm_space sp, uint64_t addr,
			  unsigned size, uint64_t *v)
{
	*v = 0;
	return avm_read(f->acc, sp, addr, size, v);
}

static inline void pf_write(struct pcifix *f, enum avm_space sp, uint64_t addr,
			    unsigned size, uint64_t v)
{
	assert_int_equal(avm_write(f->acc, sp, addr, size, v), 0);
	assert_true(avm_det_run(f->rt, 0) >= 0);
}

static inline uint64_t pf_in(struct pcifix *f, uint64_t port, unsigned size)
{
	uint64_t v;

	assert_int_equal(pf_read(f, AVM_SPACE_PIO, port, size, &v), 0);
	return v;
}

static inline uint32_t cfg_rd(struct pcifix *f, unsigned slot, unsigned fn,
			      unsigned reg, unsigned size)
{
	pf_write(f, AVM_SPACE_PIO, 0xcf8, 4, PCI_CONFIG_ADDR(slot, fn, reg));
	return (uint32_t)pf_in(f, 0xcfc + (reg & 3), size);
}

static inline void cfg_wr(struct pcifix *f, unsigned slot, unsigned fn,
			  unsigned reg, unsigned size, uint32_t v)
{
	pf_write(f, AVM_SPACE_PIO, 0xcf8, 4, PCI_CONFIG_ADDR(slot, fn, reg));
	pf_write(f, AVM_SPACE_PIO, 0xcfc + (reg & 3), size, v);
}

static inline uint64_t mmio_rd(struct pcifix *f, uint64_t addr, unsigned size)
{
	uint64_t v;

	assert_int_equal(pf_read(f, AVM_SPACE_MMIO, addr, size, &v), 0);
	return v;
}

static inline int mmio_err(struct pcifix *f, uint64_t addr)
{
	uint64_t v;

	return pf_read(f, AVM_SPACE_MMIO, addr, 4, &v);
}

static inline int pio_err(struct pcifix *f, uint64_t port)
{
	uint64_t v;

	return pf_read(f, AVM_SPACE_PIO, port, 1, &v);
}

#endif /* TEST_PCI_FIXTURE_H */
