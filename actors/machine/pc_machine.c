/* SPDX-License-Identifier: MIT */
/* The PC platform as a set of actors: create, map, bind, load. */

#include "pc_machine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <actorvm/errbuf.h>

#include "debugexit.h"
#include "ioapic.h"
#include "kvm_vm.h"
#include "multiboot.h"
#include "pic.h"

#define COM1_PORT 0x3F8
#define COM1_PIN  4

static int create(avm_runtime *rt, const struct avm_device_ops *ops,
		  const char *name, const void *config,
		  const struct pc_placement *pl, avm_actor_id *out)
{
	struct avm_actor_spec s = { .ops = ops,
				    .name = name,
				    .config = config,
				    .rt_priority = pl->rt_priority,
				    .cpus = pl->cpus,
				    .spin_ns = pl->spin_ns,
				    .fast_path = pl->fast_path,
				    .isolation = pl->isolation };

	return avm_actor_create(rt, &s, out);
}

static int check(const struct pc_machine_config *c, char *err, size_t len)
{
	unsigned n = c->n_vcpus ? c->n_vcpus : 1;

	if (n > IRQCHIP_MAX_CPUS)
		return avm_errf(err, len, -EINVAL, "%u VCPUs: at most %d", n,
				IRQCHIP_MAX_CPUS);
	if (c->n_pci > PC_MACHINE_MAX_PCI)
		return avm_errf(err, len, -EINVAL, "%u PCI devices: at most %d",
				c->n_pci, PC_MACHINE_MAX_PCI);
	for (unsigned i = 0; i < n; i++) {
		if (!c->vcpu[i].image && !c->image)
			return avm_errf(err, len, -EINVAL,
					"vcpu%u has no image", i);
		if (c->irqchip == PC_IRQCHIP_KVM &&
		    c->vcpu[i].backend == VCPU_BACKEND_SOFT)
			return avm_errf(
				err, len, -EINVAL,
				"vcpu%u: the in-kernel irqchip needs the "
				"KVM backend",
				i);
	}
	for (unsigned i = 0; i < c->n_pci; i++) {
		const struct pc_pci_spec *p = &c->pci[i];

		if (!p->ops || !p->ops->pci || !p->name)
			return avm_errf(err, len, -EINVAL,
					"PCI device %u: not a PCI device type",
					i);
		if (p->slot < 1 || p->slot > 31)
			return avm_errf(err, len, -EINVAL,
					"%s: slot %u is not 1..31", p->name,
					p->slot);
		for (unsigned j = 0; j < i; j++)
			if (c->pci[j].slot == p->slot)
				return avm_errf(err, len, -EBUSY,
						"%s: slot %u is taken by %s",
						p->name, p->slot,
						c->pci[j].name);
	}
	return 0;
}

/* Exit port, PIC, IOAPIC and COM1, each mapped where a PC has it. */
static int build_platform(avm_runtime *rt, struct pc_machine *m,
			  const struct pc_machine_config *c)
{
	const struct pc_placement *pl = &c->place;

	if (c->com1)
		m->com1_cfg = *c->com1;
	else
		m->com1_cfg.chr =
			(struct chardev_config){ .kind = CHARDEV_STDIO,
						 .no_input = true };
	return create(rt, &debugexit_ops, "exit", NULL, pl, &m->exit)
		       ?: avm_map(rt, m->exit, 0, DEBUGEXIT_PORT)
		       ?: create(rt, &pic_ops, "pic", NULL, pl, &m->pic)
		       ?: avm_map(rt, m->pic, 0, PIC_MASTER_PORT)
		       ?: avm_map(rt, m->pic, 1, PIC_SLAVE_PORT)
		       ?: avm_map(rt, m->pic, 2, PIC_ELCR_PORT)
		       ?: create(rt, &ioapic_ops, "ioapic", &m->ioapic_cfg, pl,
				 &m->ioapic)
		       ?: avm_map(rt, m->ioapic, 0, IOAPIC_BASE)
		       ?: create(rt, &uart_ops, "com1", &m->com1_cfg, pl,
				 &m->com1)
		       ?: avm_map(rt, m->com1, 0, COM1_PORT)
		       ?: avm_bind(rt, m->com1, "irq", m->ioapic, COM1_PIN);
}

/* The PCI functions, then the host that assigns their BARs at its init. */
static int build_pci(avm_runtime *rt, struct pc_machine *m,
		     const struct pc_machine_config *c)
{
	int err = 0;

	m->n_pci = c->n_pci;
	for (unsigned i = 0; !err && i < c->n_pci; i++) {
		const struct pc_pci_spec *p = &c->pci[i];

		err = create(rt, p->ops, p->name, p->config, &p->place,
			     &m->pci[i]);
		m->pci_fn[i] = (struct pci_host_function){ .actor = m->pci[i],
							   .ops = p->ops,
							   .slot = p->slot };
		/* INTx is a level line into the IOAPIC pin firmware picks. */
		if (!err && p->ops->pci->interrupt_pin)
			err = avm_bind(
				rt, m->pci[i], "irq", m->ioapic,
				pci_intx_irq(p->slot,
					     p->ops->pci->interrupt_pin));
	}
	m->pci_cfg = (struct pci_host_config){ .functions = m->pci_fn,
					       .n_functions = c->n_pci };
	return err ?: create(rt, &pci_host_ops, "pci", &m->pci_cfg, &c->place,
			     &m->pci_host)
		   ?: avm_map(rt, m->pci_host, 0, PCI_HOST_CONFIG_PORT);
}

static int load_images(avm_runtime *rt, struct pc_machine *m,
		       const struct pc_machine_config *c, char *err, size_t len)
{
	const char *loaded = NULL;
	struct mb_boot b = { 0 };
	unsigned slot = 0;
	int ret;

	for (unsigned i = 0; i < m->n_vcpus; i++) {
		const struct pc_vcpu_spec *v = &c->vcpu[i];
		const char *img = v->image ? v->image : c->image;

		/* VCPUs sharing an image share one copy of it (SMP-style). */
		/* Each further image (AMP) gets an information page of its
		 * own, so each kernel sees its own command line. */
		if (!loaded || strcmp(loaded, img)) {
			if (slot >= MB_INFO_SLOTS)
				return avm_errf(err, len, -ENOSPC,
						"more than %d distinct images",
						MB_INFO_SLOTS);
			ret = mb_load_file_slot(
				rt, img, v->cmdline ? v->cmdline : c->cmdline,
				slot++, &b, err, len);
			if (ret)
				return ret;
			loaded = img;
		}
		m->vcpu_cfg[i] = (struct vcpu_config){
			.backend = v->backend,
			.entry = b.entry,
			.eax = b.magic,
			.ebx = b.info_gpa,
			.slice_insns = v->slice_insns,
			.apic_id = (uint8_t)i,
			.kick_signal = c->kick_signal,
		};
	}
	return 0;
}

static int build_vcpus(avm_runtime *rt, struct pc_machine *m,
		       const struct pc_machine_config *c)
{
	static const char *const names[IRQCHIP_MAX_CPUS] = {
		"vcpu0",  "vcpu1",  "vcpu2",  "vcpu3",	"vcpu4",  "vcpu5",
		"vcpu6",  "vcpu7",  "vcpu8",  "vcpu9",	"vcpu10", "vcpu11",
		"vcpu12", "vcpu13", "vcpu14", "vcpu15",
	};
	int err = 0;

	for (unsigned i = 0; !err && i < m->n_vcpus; i++)
		err = create(rt, &vcpu_ops, names[i], &m->vcpu_cfg[i],
			     &c->vcpu[i].place, &m->vcpu[i]);
	/* Each VCPU reaches the IOAPIC (EOIs) and every VCPU (IPIs); the
	 * IOAPIC reaches each by its APIC ID. */
	for (unsigned i = 0; !err && i < m->n_vcpus; i++) {
		err = avm_bind(rt, m->vcpu[i], "irqchip", m->ioapic, 0)
			      ?: avm_bind(rt, m->ioapic, irqchip_cpu_ports[i],
					  m->vcpu[i], 0);
		for (unsigned j = 0; !err && j < m->n_vcpus; j++)
			err = avm_bind(rt, m->vcpu[i], irqchip_cpu_ports[j],
				       m->vcpu[j], 0);
	}
	return err;
}

/* Whether any VCPU will run on KVM (AUTO does where /dev/kvm is usable). */
static int wants_kvm(const struct pc_machine_config *c, unsigned n, char *err,
		     size_t len)
{
	char why[128] = "";
	bool usable = vcpu_kvm_usable(why, sizeof(why)), any = false;

	for (unsigned i = 0; i < n; i++)
		any |= c->vcpu[i].backend == VCPU_BACKEND_KVM ||
		       (c->vcpu[i].backend == VCPU_BACKEND_AUTO && usable);
	if (c->irqchip == PC_IRQCHIP_KVM && !usable)
		return avm_errf(err, len, -ENODEV,
				"the in-kernel irqchip needs KVM: %s", why);
	return any;
}

/*
 * The "kvm" actor first: it owns the VM every KVM VCPU joins, so it must
 * init before them and stop after them (creation order). With the
 * in-kernel irqchip, the IOAPIC actor forwards pin levels to it.
 */
static int build_kvm(avm_runtime *rt, struct pc_machine *m,
		     const struct pc_machine_config *c)
{
	bool irqchip = c->irqchip == PC_IRQCHIP_KVM;

	m->has_kvm = true;
	m->kvm_cfg = (struct kvm_vm_config){ .irqchip = irqchip,
					     .slot = &m->kvm_vm };
	if (irqchip)
		m->ioapic_cfg =
			(struct ioapic_config){ .forward = kvm_vm_irq_line,
						.forward_arg = &m->kvm_vm };
	for (unsigned i = 0; i < m->n_vcpus; i++)
		m->vcpu_cfg[i].kvm_vm = &m->kvm_vm;
	return create(rt, &kvm_vm_ops, "kvm", &m->kvm_cfg, &c->place, &m->kvm);
}

int pc_machine_build(avm_runtime *rt, struct pc_machine *m,
		     const struct pc_machine_config *c, char *err,
		     size_t err_len)
{
	uint64_t ram = c->ram_size ? c->ram_size : PC_MACHINE_RAM_DEFAULT;
	int ret = check(c, err, err_len);

	if (ret)
		return ret;
	memset(m, 0, sizeof(*m));
	m->n_vcpus = c->n_vcpus ? c->n_vcpus : 1;
	ret = avm_ram_add(rt, 0, ram, NULL);
	if (ret)
		return avm_errf(err, err_len, ret, "RAM of %llu bytes: %s",
				(unsigned long long)ram, strerror(-ret));
	ret = load_images(rt, m, c, err, err_len);
	if (ret)
		return ret;
	ret = wants_kvm(c, m->n_vcpus, err, err_len);
	if (ret < 0)
		return ret;
	if (ret && (ret = build_kvm(rt, m, c)))
		return avm_errf(err, err_len, ret, "the KVM VM actor: %s",
				strerror(-ret));
	ret = build_platform(rt, m, c) ?: build_pci(rt, m, c)
					 ?: build_vcpus(rt, m, c);
	if (ret)
		return avm_errf(err, err_len, ret, "building the machine: %s",
				strerror(-ret));
	return 0;
}
