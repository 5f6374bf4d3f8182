/* SPDX-License-Identifier: MIT */
/* From a checked manifest to runtimes: the PC machine, then the extra
 * devices, then the networks, then the traces. */
#include "build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/errbuf.h>
#include <actorvm/trace.h>

#include "console.h"
#include "nng_threads.h"
#include "registry.h"

/* --- Values --------------------------------------------------------------- */

/* A cut path or URL would be another one: refused. */
static bool arg_too_long(const char *spec, size_t prefix, size_t room,
			 char *why, size_t len)
{
	if (strlen(spec + prefix) < room)
		return false;
	snprintf(why, len,
		 "serial '%.*s...': its path or URL is longer than %zu bytes",
		 (int)prefix + 16, spec, room - 1);
	return true;
}

int mf_parse_serial(const char *spec, struct mf_serial *out, char *why,
		    size_t len)
{
	static const struct {
		const char *prefix;
		enum chardev_kind kind;
		bool listen, needs_arg;
	} forms[] = {
		{ "stdio", CHARDEV_STDIO, false, false },
		{ "null", CHARDEV_NULL, false, false },
		{ "file:", CHARDEV_FILE, false, true },
		{ "pty:", CHARDEV_PTY, false, true },
		{ "pty", CHARDEV_PTY, false, false },
		{ "nng-listen:", CHARDEV_NNG, true, true },
		{ "nng:", CHARDEV_NNG, false, true },
	};

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t n = strlen(forms[i].prefix);

		if (strncmp(spec, forms[i].prefix, n) ||
		    (!forms[i].needs_arg && spec[n]))
			continue;
		if (forms[i].needs_arg && !spec[n])
			break;
		if (arg_too_long(spec, n, sizeof(out->arg), why, len))
			return -ENAMETOOLONG;
		snprintf(out->arg, sizeof(out->arg), "%s", spec + n);
		out->chr.kind = forms[i].kind;
		out->chr.listen = forms[i].listen;
		out->chr.path = forms[i].needs_arg ? out->arg : NULL;
		return 0;
	}
	snprintf(why, len,
		 "serial '%s' (expected stdio, null, file:PATH, pty, pty:LINK, "
		 "nng:URL or nng-listen:URL)",
		 spec);
	return -EINVAL;
}

int mf_trace_kind(const char *name, uint64_t *bit)
{
	char buf[32];

	for (unsigned k = 1; k <= AVM_MSG_REPLY; k++)
		if (!strcmp(name, avm_msg_kind_name(k, buf, sizeof(buf)))) {
			*bit = AVM_TRACE_KIND_BIT(k);
			return 0;
		}
	if (!strncmp(name, "user+", 5)) {
		*bit = AVM_TRACE_KIND_BIT(63); /* every device kind */
		return 0;
	}
	return -EINVAL;
}

bool mf_kvm_usable(char *why, size_t len)
{
	return vcpu_kvm_usable(why, len);
}

bool mf_biglock_runs_vcpus(void)
{
	/* exec_biglock.c runs self-driven actors on threads of their own. */
	return true;
}

/* --- One VM --------------------------------------------------------------- */

/* host-cpu N pins to CPU N; -1, or a CPU the runtime cannot name
 * (check warns about it), leaves the thread unpinned. */
static uint64_t cpu_mask(int cpu)
{
	return cpu >= 0 && cpu < AVM_CPU_COUNT ? AVM_CPU(cpu) : 0;
}

static struct pc_placement place(const int *prio, const int *cpu,
				 const struct pc_placement *dflt)
{
	struct pc_placement p = *dflt;

	if (prio)
		p.rt_priority = *prio;
	if (cpu)
		p.cpus = cpu_mask(*cpu);
	return p;
}

/* Where device @i's thread runs: its own keys, else the VM's. */
static struct pc_placement dev_place(const struct mf_vm_run *v, unsigned i)
{
	const struct mf_device *d = &v->vm->devices[i];
	struct pc_placement p = place(d->priority, d->host_cpu, &v->mcfg.place);

	/* Per device only; absent: the device type's default. */
	p.fast_path = !d->fast_path ? 0 : *d->fast_path ? 1 : -1;
	p.isolation = (struct avm_isolation){
		.process = d->isolation == MF_ISO_PROCESS,
		.on_failure = (enum avm_on_failure)d->on_failure,
		.max_restarts = d->max_restarts ? *d->max_restarts : 0,
		.window_ns = d->restart_window_ms
				     ? *d->restart_window_ms * 1000000ull
				     : 0,
	};
	return p;
}

static void log_line(void *arg, int level, const char *actor, const char *line)
{
	static const char *const names[] = { "?", "error", "warning", "info",
					     "debug" };

	fprintf(stderr, "actorvm: %s%s%s: %s: %s\n", (const char *)arg,
		actor ? "." : "", actor ? actor : "",
		names[level >= 1 && level <= 4 ? level : 0], line);
}

static int set_vcpus(struct mf_vm_run *v, const struct mf_manifest *m,
		     const char *guest_dir, char *err, size_t len)
{
	const struct mf_vm *vm = v->vm;
	const struct pc_placement dflt = { 0 };

	v->mcfg.n_vcpus = vm->vcpus_count;
	for (unsigned i = 0; i < vm->vcpus_count; i++) {
		const struct mf_vcpu *c = &vm->vcpus[i];
		const char *img = c->image ? c->image : vm->image;

		v->images[i] = mf_resolve(m, img, guest_dir);
		if (!v->images[i])
			return avm_errf(err, len, -ENOENT,
					"%s: image '%s' not found", vm->name,
					img ? img : "(none)");
		v->mcfg.vcpu[i] = (struct pc_vcpu_spec){
			.image = v->images[i],
			.cmdline = c->cmdline ? c->cmdline : vm->cmdline,
			.backend = vm->backend == MF_BACKEND_KVM
					   ? VCPU_BACKEND_KVM
				   : vm->backend == MF_BACKEND_SOFT
					   ? VCPU_BACKEND_SOFT
					   : VCPU_BACKEND_AUTO,
			.place = place(c->priority, c->host_cpu, &dflt),
		};
	}
	return 0;
}

static int nic_config(struct mf_vm_run *v, unsigned i)
{
	const struct mf_device *d = &v->vm->devices[i];
	struct e1000_config *c = &v->dev[i].nic;

	memset(c, 0, sizeof(*c));
	if (d->mac && mf_parse_mac(d->mac, c->mac))
		return -EINVAL;
	c->link_down = d->link_down && *d->link_down;
	return 0;
}

static int set_pci(struct mf_vm_run *v, char *err, size_t len)
{
	const struct mf_vm *vm = v->vm;

	for (unsigned i = 0; i < vm->devices_count; i++) {
		const struct mf_device *d = &vm->devices[i];
		const struct mf_type *t = mf_type_find(d->type);
		struct pc_pci_spec *p;

		if (!t || !t->ops->pci)
			continue;
		if (v->mcfg.n_pci == PC_MACHINE_MAX_PCI)
			return avm_errf(err, len, -E2BIG,
					"%s: more than %d PCI "
					"devices",
					vm->name, PC_MACHINE_MAX_PCI);
		if (nic_config(v, i))
			return avm_errf(err, len, -EINVAL, "%s: bad mac",
					d->name);
		p = &v->mcfg.pci[v->mcfg.n_pci++];
		*p = (struct pc_pci_spec){
			.name = d->name,
			.ops = t->ops,
			.config = &v->dev[i].nic,
			.slot = *d->slot,
			.place = dev_place(v, i),
		};
	}
	return 0;
}

/* A non-PCI device: created, mapped where the manifest says, wired to its
 * IOAPIC pin. */
static int add_isa(struct mf_vm_run *v, unsigned i, const struct mf_type *t,
		   bool replay)
{
	const struct mf_device *d = &v->vm->devices[i];
	const struct pc_placement where = dev_place(v, i);
	struct avm_actor_spec s = {
		.ops = t->ops,
		.name = d->name,
		.config = &v->dev[i],
		.rt_priority = where.rt_priority,
		.cpus = where.cpus,
		.fast_path = where.fast_path,
		.isolation = where.isolation,
	};
	int err;

	memset(&v->dev[i], 0, sizeof(v->dev[i]));
	if (t->ops == &uart_ops) {
		char why[160];

		if (d->serial && mf_parse_serial(d->serial, &v->dev_ser[i], why,
						 sizeof(why)))
			return -EINVAL;
		v->dev[i].uart.chr = v->dev_ser[i].chr;
		if (replay)
			v->dev[i].uart.chr.kind = CHARDEV_NULL;
	} else if (t->ops == &testdev_ops && d->id) {
		v->dev[i].testdev.id = *d->id;
	}
	err = avm_actor_create(v->rt, &s, &v->dev_id[i]);
	for (unsigned r = 0; !err && r < t->ops->n_regions; r++) {
		const uint64_t *at = t->ops->regions[r].space == AVM_SPACE_PIO
					     ? d->port
					     : d->mmio;

		if (at)
			err = avm_map(v->rt, v->dev_id[i], r, *at);
	}
	if (!err && d->irq)
		err = avm_bind(v->rt, v->dev_id[i], "irq", v->mach.ioapic,
			       *d->irq);
	return err;
}

static int add_devices(struct mf_vm_run *v, bool replay, char *err, size_t len)
{
	for (unsigned i = 0; i < v->vm->devices_count; i++) {
		const struct mf_device *d = &v->vm->devices[i];
		const struct mf_type *t = mf_type_find(d->type);
		int ret;

		if (t->ops->pci)
			ret = avm_actor_find(v->rt, d->name, &v->dev_id[i]);
		else
			ret = add_isa(v, i, t, replay);
		if (ret)
			return avm_errf(err, len, ret, "%s: device '%s': %s",
					v->vm->name, d->name, strerror(-ret));
	}
	return 0;
}

const char *mf_journal_problem(const struct mf_doc *d, const char *name)
{
	bool found = false;

	if (!strncmp(name, "vcpu", 4) || !strcmp(name, "kvm"))
		return "a CPU cannot be journaled (its inputs are the guest's)";
	/* Their outside I/O goes through avm_io(). */
	if (!strcmp(name, "console"))
		return d->vms_count > 1 ? NULL : "no actor has this name";
	for (unsigned n = 0; n < d->networks_count; n++) {
		const struct mf_network *net = &d->networks[n];
		size_t len = strlen(net->name);

		if (strncmp(name, "net.", 4) ||
		    strncmp(name + 4, net->name, len))
			continue;
		if (!name[4 + len] ||
		    (net->pcap && !strcmp(name + 4 + len, ".pcap")))
			return NULL;
	}
	for (unsigned v = 0; v < d->vms_count; v++)
		for (unsigned i = 0; i < d->vms[v].devices_count; i++)
			found |= !strcmp(d->vms[v].devices[i].name, name);
	if (found || !strcmp(name, "ioapic") || !strcmp(name, "pic") ||
	    !strcmp(name, "com1") || !strcmp(name, "pci") ||
	    !strcmp(name, "exit"))
		return NULL;
	return "no actor has this name";
}

/* --- Networks ------------------------------------------------------------- */

/* STEM.VM.EXT from @file for VM @vm: one file per VM where several
 * write what would be one (traces, the captures of both ends of a wire). */
static void per_vm_path(const char *file, const char *vm, char *out, size_t len)
{
	const char *dot = strrchr(file, '.');
	int stem = dot && !strchr(dot, '/') ? (int)(dot - file)
					    : (int)strlen(file);

	snprintf(out, len, "%.*s.%s%s", stem, file, vm,
		 dot && stem != (int)strlen(file) ? dot : "");
}

/* Where VM @vm's capture of network @n goes: the manifest's file, or, when
 * both ends of the wire are VMs of this run, one file per VM. */
static void pcap_path(struct mf_run *r, const struct mf_network *n, unsigned vm,
		      char *out, size_t len)
{
	const struct mf_doc *d = r->m->doc;
	unsigned ends = 0;

	for (unsigned a = 0; a < d->vms_count; a++)
		for (unsigned b = 0; b < d->vms[a].devices_count; b++) {
			const char *net = d->vms[a].devices[b].network;

			ends += net && !strcmp(net, n->name);
		}
	if (ends > 1)
		per_vm_path(n->pcap, d->vms[vm].name, out, len);
	else
		snprintf(out, len, "%s", n->pcap);
}

/* How VM @vm's NIC @i is cabled: the wire's URL, and whether it listens
 * (the first of two ends in the manifest listens, the second dials). */
static const char *wire_url(struct mf_run *r, const struct mf_network *n,
			    unsigned vm, unsigned i, bool *listen)
{
	const struct mf_doc *d = r->m->doc;
	unsigned before = 0, total = 0;

	for (unsigned a = 0; a < d->vms_count; a++)
		for (unsigned b = 0; b < d->vms[a].devices_count; b++) {
			const char *net = d->vms[a].devices[b].network;

			if (!net || strcmp(net, n->name))
				continue;
			before += a < vm || (a == vm && b < i);
			total++;
		}
	*listen = total == 1 ? n->listen && *n->listen : before == 0;
	if (n->url)
		return n->url;
	if (r->n_urls == sizeof(r->urls) / sizeof(r->urls[0]))
		return NULL;
	/* Both ends in this process: an inproc name of our own. */
	snprintf(r->urls[r->n_urls], sizeof(r->urls[0]),
		 "inproc://actorvm-%d-%s", (int)getpid(), n->name);
	return r->urls[r->n_urls++];
}

static const struct mf_network *network(const struct mf_doc *d,
					const char *name)
{
	for (unsigned i = 0; i < d->networks_count; i++)
		if (!strcmp(d->networks[i].name, name))
			return &d->networks[i];
	return NULL;
}

static int make_at(avm_runtime *rt, const struct avm_device_ops *ops,
		   const char *name, const void *cfg,
		   const struct pc_placement *at, avm_actor_id *id)
{
	struct avm_actor_spec s = {
		.ops = ops,
		.name = name,
		.config = cfg,
		.rt_priority = at ? at->rt_priority : 0,
		.cpus = at ? at->cpus : 0,
	};

	return avm_actor_create(rt, &s, id);
}

static int make(avm_runtime *rt, const struct avm_device_ops *ops,
		const char *name, const void *cfg, avm_actor_id *id)
{
	return make_at(rt, ops, name, cfg, NULL, id);
}

/*
 * NIC <-> [pcap <->] backend, each actor named after the network. They run
 * where the NIC runs: every frame of a real-time NIC passes through them,
 * and at normal priority they would wait behind the VM's other work.
 */
static int cable(struct mf_run *r, unsigned vm, unsigned i)
{
	struct mf_vm_run *v = &r->vm[vm];
	const struct mf_network *n =
		network(r->m->doc, v->vm->devices[i].network);
	struct pc_placement at = dev_place(v, i);
	avm_actor_id nic = v->dev_id[i], be, pc;
	char name[96], pname[104];
	bool listen = false;
	int err;

	/* The NIC's `fast-path: false` covers its cable too; `true` does not
	 * override a backend type's own default (ops->own_thread). */
	if (at.fast_path > 0)
		at.fast_path = 0;
	snprintf(name, sizeof(name), "net.%s", n->name);
	if (n->type == MF_NET_TAP) {
		v->tap[i] = (struct tap_config){ .ifname = n->ifname };
		err = make_at(v->rt, &tap_ops, name, &v->tap[i], &at, &be);
	} else {
		v->wire[i] = (struct wire_config){
			.url = wire_url(r, n, vm, i, &listen), .listen = listen
		};
		err = v->wire[i].url ? make_at(v->rt, &wire_ops, name,
					       &v->wire[i], &at, &be)
				     : -E2BIG;
	}
	if (err || !n->pcap)
		return err ?: avm_bind(v->rt, nic, "net", be, 0)
			   ?: avm_bind(v->rt, be, "nic", nic, 0);
	snprintf(pname, sizeof(pname), "%s.pcap", name);
	pcap_path(r, n, vm, v->pcap_path[i], sizeof(v->pcap_path[i]));
	v->pcap[i] = (struct pcap_config){ .path = v->pcap_path[i] };
	/* The side a frame came from is the binding's argument (netdev.h):
	 * with both at 0, frames from the wire went back out to the wire. */
	return make_at(v->rt, &pcap_ops, pname, &v->pcap[i], &at, &pc)
		       ?: avm_bind(v->rt, nic, "net", pc, PCAP_FROM_NIC)
		       ?: avm_bind(v->rt, pc, "nic", nic, 0)
		       ?: avm_bind(v->rt, pc, "net", be, 0)
		       ?: avm_bind(v->rt, be, "nic", pc, PCAP_FROM_NET);
}

static int add_networks(struct mf_run *r, unsigned vm, char *err, size_t len)
{
	const struct mf_vm *mv = r->vm[vm].vm;

	for (unsigned i = 0; i < mv->devices_count; i++) {
		int ret;

		if (!mv->devices[i].network)
			continue;
		ret = cable(r, vm, i);
		if (ret)
			return avm_errf(err, len, ret, "%s: network '%s': %s",
					mv->name, mv->devices[i].network,
					strerror(-ret));
	}
	return 0;
}

/* --- Building, running, stopping ---------------------------------------- */

/*
 * The console is created before the machine, so that it stops after the
 * UART (stop runs in reverse creation order) and the guest's last line,
 * written just before its exit, still reaches the terminal.
 */
static int make_console(struct mf_vm_run *v, bool replay, char *err, size_t len)
{
	int ret;

	if (!v->console)
		return 0;
	/* A replayed console writes nowhere: what it wrote is compared. */
	v->console_cfg = (struct console_config){ .prefix = v->vm->name,
						  .fd = replay ? -1 : 1 };
	ret = make(v->rt, &console_ops, "console", &v->console_cfg,
		   &v->console_id);
	return ret ? avm_errf(err, len, ret, "%s: console: %s", v->vm->name,
			      strerror(-ret))
		   : 0;
}

static int bind_console(struct mf_vm_run *v, char *err, size_t len)
{
	int ret;

	if (!v->console)
		return 0;
	ret = avm_bind(v->rt, v->mach.com1, "tx", v->console_id, 0);
	return ret ? avm_errf(err, len, ret, "%s: console: %s", v->vm->name,
			      strerror(-ret))
		   : 0;
}

static int build_vm(struct mf_run *r, unsigned idx,
		    const struct mf_build_opts *o, char *err, size_t len)
{
	struct mf_vm_run *v = &r->vm[idx];
	struct avm_runtime_config rc = {
		.exec = v->vm->executor == MF_EXEC_BIGLOCK ? AVM_EXEC_BIGLOCK
							   : AVM_EXEC_THREADED,
		.log = log_line,
		.log_arg = v->vm->name,
		.log_level = o->log_level,
		/* The default (64) is less than a manifest may ask for. */
		.max_actors = MF_MAX_ACTORS,
	};
	char why[160];
	int ret;

	ret = avm_runtime_new(&rc, &v->rt);
	if (ret)
		return avm_errf(err, len, ret, "%s: runtime: %s", v->vm->name,
				strerror(-ret));
	v->mcfg.irqchip = v->vm->irqchip == MF_IRQCHIP_KVM    ? PC_IRQCHIP_KVM
			  : v->vm->irqchip == MF_IRQCHIP_USER ? PC_IRQCHIP_USER
							      : PC_IRQCHIP_AUTO;
	v->mcfg.place = place(v->vm->priority, v->vm->host_cpu,
			      &(struct pc_placement){ 0 });
	if (v->vm->memory)
		mf_parse_size(v->vm->memory, &v->mcfg.ram_size);
	if (v->vm->serial &&
	    mf_parse_serial(v->vm->serial, &v->com1_ser, why, sizeof(why)))
		return avm_errf(err, len, -EINVAL, "%s: %s", v->vm->name, why);
	/* COM1 defaults to stdout, no input; with several VMs, through a
	 * console that prefixes each line with the VM's name. */
	v->console = !v->vm->serial && r->n_vms > 1;
	v->com1.chr = v->vm->serial
			      ? v->com1_ser.chr
			      : (struct chardev_config){
					.kind = v->console ? CHARDEV_NULL
							   : CHARDEV_STDIO,
					.no_input = true
				};
	v->com1.mirror_tx = v->console;
	if (o->replay) /* the rest (no_input...) is as run has it */
		v->com1.chr.kind = CHARDEV_NULL;
	v->mcfg.com1 = &v->com1;
	ret = set_vcpus(v, r->m, o->guest_dir, err, len)
		      ?: set_pci(v, err, len)
				  ?: make_console(v, o->replay, err, len);
	if (ret)
		return ret;
	ret = pc_machine_build(v->rt, &v->mach, &v->mcfg, why, sizeof(why));
	if (ret)
		return avm_errf(err, len, ret, "%s: %s", v->vm->name, why);
	return add_devices(v, o->replay, err, len)
		       ?: add_networks(r, idx, err, len)
					?: bind_console(v, err, len);
}

/* Whether the path fit: a cut one would be some other file. */
static bool trace_path(struct mf_run *r, unsigned idx, const char *file)
{
	struct mf_vm_run *v = &r->vm[idx];
	const char *dot = strrchr(file, '.');
	int stem = dot && !strchr(dot, '/') ? (int)(dot - file)
					    : (int)strlen(file);
	size_t n;

	/* One file per VM: "run.trace" -> "run.left.trace" when several. */
	if (r->n_vms == 1)
		n = (size_t)snprintf(v->trace_path, sizeof(v->trace_path), "%s",
				     file);
	else
		n = (size_t)snprintf(
			v->trace_path, sizeof(v->trace_path), "%.*s.%s%s", stem,
			file, v->vm->name,
			dot && stem != (int)strlen(file) ? dot : ".trace");
	return n < sizeof(v->trace_path);
}

static int plan_traces(struct mf_run *r, const struct mf_build_opts *o,
		       char *err, size_t len)
{
	const struct mf_trace *t = r->m->doc->trace;
	const char *file = o->trace_file;

	bool journal = (o->journal && *o->journal) || (t && t->journal_count);

	if (!file && ((t && (!t->enabled || *t->enabled)) || journal))
		file = t && t->file ? t->file : "actorvm.trace";
	r->journal = o->journal;
	for (unsigned i = 0; file && i < r->n_vms; i++) {
		if (!trace_path(r, i, file))
			return avm_errf(err, len, -ENAMETOOLONG,
					"trace file name too long (at most %d "
					"bytes)",
					MF_TRACE_FILE_MAX);
		r->vm[i].traced = true;
	}
	return 0;
}

static int max_prio(int best, const int *prio)
{
	return prio && *prio > best ? *prio : best;
}

/* The highest SCHED_FIFO priority any actor of the manifest asks for. */
static int top_priority(const struct mf_doc *d)
{
	int best = 0;

	for (unsigned i = 0; i < d->vms_count; i++) {
		const struct mf_vm *vm = &d->vms[i];

		best = max_prio(best, vm->priority);
		for (unsigned j = 0; j < vm->vcpus_count; j++)
			best = max_prio(best, vm->vcpus[j].priority);
		for (unsigned j = 0; j < vm->devices_count; j++)
			best = max_prio(best, vm->devices[j].priority);
	}
	return best;
}

/* nng's shared I/O threads as high as the highest real-time actor, before
 * any actor opens a socket (nng_threads.h says why). */
static void start_nng_threads(const struct mf_manifest *m, int log_level)
{
	char why[160];

	if (mf_nng_threads_start(top_priority(m->doc), why, sizeof(why)) &&
	    (log_level ? log_level : AVM_LOG_INFO) >= AVM_LOG_WARN)
		fprintf(stderr,
			"actorvm: warning: %s: they run at normal priority\n",
			why);
}

int mf_build(struct mf_run *r, const struct mf_manifest *m,
	     const struct mf_build_opts *o, char *err, size_t len)
{
	int ret = 0;

	start_nng_threads(m, o->log_level);
	memset(r, 0, sizeof(*r));
	r->m = m;
	r->n_vms = m->doc->vms_count;
	for (unsigned i = 0; i < r->n_vms; i++)
		r->vm[i].vm = &m->doc->vms[i];
	for (unsigned i = 0; !ret && i < r->n_vms; i++)
		ret = build_vm(r, i, o, err, len);
	if (!ret)
		ret = plan_traces(r, o, err, len);
	if (ret)
		mf_fini(r);
	return ret;
}

/* The journaled actors this VM has, from the manifest and the command. */
static void journal_names(struct mf_run *r, struct mf_vm_run *v,
			  const char **out, unsigned max)
{
	const struct mf_trace *t = r->m->doc->trace;
	unsigned n = 0;
	avm_actor_id id;

	for (unsigned i = 0; t && i < t->journal_count && n < max; i++)
		if (!avm_actor_find(v->rt, t->journal[i], &id))
			out[n++] = t->journal[i];
	for (const char *const *p = r->journal; p && *p && n < max; p++)
		if (!avm_actor_find(v->rt, *p, &id))
			out[n++] = *p;
	out[n] = NULL;
}

static int start_trace(struct mf_run *r, struct mf_vm_run *v)
{
	const struct mf_trace *t = r->m->doc->trace;
	struct avm_trace_options to = { .path = v->trace_path,
					.manifest = r->m->text,
					.manifest_len = r->m->text_len,
					.manifest_path = r->m->file,
					.vm = v->vm->name };
	const char *actors[65] = { 0 }, *journal[65];
	uint64_t bit;

	journal_names(r, v, journal, 64);
	to.journal = journal;

	for (unsigned i = 0; t && i < t->kinds_count; i++)
		if (!mf_trace_kind(t->kinds[i], &bit))
			to.kinds |= bit;
	/* Only names this VM has: the others' actors live elsewhere. */
	for (unsigned i = 0, n = 0; t && i < t->actors_count && n < 64; i++) {
		avm_actor_id id;

		if (!avm_actor_find(v->rt, t->actors[i], &id))
			actors[n++] = t->actors[i];
	}
	if (t && t->actors_count)
		to.actors = actors;
	return avm_trace_start(v->rt, &to);
}

int mf_start(struct mf_run *r, char *err, size_t len)
{
	for (unsigned i = 0; i < r->n_vms; i++) {
		struct mf_vm_run *v = &r->vm[i];
		int ret = v->traced ? start_trace(r, v) : 0;

		if (ret)
			return avm_errf(err, len, ret, "%s: trace %s: %s",
					v->vm->name, v->trace_path,
					strerror(-ret));
		ret = avm_runtime_start(v->rt);
		if (ret)
			return avm_errf(err, len, ret, "%s: start: %s",
					v->vm->name, strerror(-ret));
	}
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int mf_wait(struct mf_run *r, int64_t timeout_ns, volatile sig_atomic_t *stop)
{
	uint64_t t0 = mono_ns();
	unsigned left = r->n_vms;

	while (left) {
		left = 0;
		for (unsigned i = 0; i < r->n_vms; i++) {
			struct mf_vm_run *v = &r->vm[i];

			/* Short waits: a signal or another VM may come first.
			 */
			if (!v->exited &&
			    !avm_runtime_wait_exit(v->rt, 10000000, &v->status))
				v->exited = true;
			/* Its CPU stopped: the others may wait on it. */
			if (v->exited && v->status == AVM_VM_EXIT_FAILED)
				return -ENOTRECOVERABLE;
			if (v->exited && v->status == AVM_VM_EXIT_DEVICE_FAILED)
				return -EOWNERDEAD;
			left += !v->exited;
		}
		if (left && stop && *stop)
			return -EINTR;
		if (left && timeout_ns >= 0 &&
		    mono_ns() - t0 >= (uint64_t)timeout_ns)
			return -ETIMEDOUT;
	}
	return 0;
}

int mf_status(const struct mf_run *r)
{
	int st = 0;

	for (unsigned i = 0; i < r->n_vms; i++)
		if (r->vm[i].exited && r->vm[i].status > st)
			st = r->vm[i].status;
	return st;
}

const char *mf_failed_vm(const struct mf_run *r)
{
	for (unsigned i = 0; i < r->n_vms; i++)
		if (r->vm[i].exited &&
		    (r->vm[i].status == AVM_VM_EXIT_FAILED ||
		     r->vm[i].status == AVM_VM_EXIT_DEVICE_FAILED))
			return r->vm[i].vm->name;
	return NULL;
}

unsigned mf_fini(struct mf_run *r)
{
	unsigned losses = 0;

	for (unsigned i = r->n_vms; i-- > 0;) {
		struct mf_vm_run *v = &r->vm[i];

		if (!v->rt)
			continue;
		/* Stop first: the trace then holds everything they did. */
		avm_runtime_stop(v->rt);
		if (v->traced)
			avm_trace_stop(v->rt);
		/* After both: stopping drains the serial outputs too. */
		losses += avm_runtime_losses(v->rt);
		avm_runtime_free(v->rt);
		v->rt = NULL;
		for (unsigned c = 0; c < IRQCHIP_MAX_CPUS; c++)
			free(v->images[c]);
	}
	return losses;
}
