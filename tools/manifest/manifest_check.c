/* SPDX-License-Identifier: MIT */
/*
 * Semantic checks: everything the schema cannot say. Each check reports at
 * the node it is about and goes on, so one run lists every problem.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "manifest_priv.h"
#include "multiboot.h"
#include "registry.h"

#define MB_SEARCH 8192
#define RAM_MIN	  (2ull << 20)
#define RAM_MAX	  0xE0000000ull /* the PCI memory window starts there */

/* The platform's ranges, then at most this many per device. */
#define PLATFORM_RANGES 16
#define DEVICE_RANGES	4

/* Address ranges (inclusive: a range may end at 2^64 - 1) and pins
 * already taken in one VM. */
struct range {
	int space; /* 0 MMIO, 1 PIO */
	uint64_t lo, last;
	char what[96];
};

struct vmscan {
	struct mf_manifest *m;
	const struct mf_vm *vm;
	unsigned idx;
	struct range r[PLATFORM_RANGES + MF_MAX_DEVICES * DEVICE_RANGES];
	unsigned n_r, n_pci;
	uint64_t ram;
	char pin_owner[24][96];
};

static void path_of(char *buf, size_t len, unsigned vm, const char *fmt,
		    unsigned i, const char *leaf)
{
	char mid[64];

	snprintf(mid, sizeof(mid), fmt, i);
	snprintf(buf, len, "vms[%u]%s%s%s", vm, mid, leaf ? "." : "",
		 leaf ? leaf : "");
}

/* --- Ranges and pins ---------------------------------------------------- */

/* @size > 0 and lo + size - 1 not wrapping: the caller checked. */
static void claim(struct vmscan *s, const char *path, int space, uint64_t lo,
		  uint64_t size, const char *what)
{
	uint64_t last = lo + (size - 1);

	for (unsigned i = 0; i < s->n_r; i++) {
		const struct range *r = &s->r[i];

		if (r->space == space && lo <= r->last && r->lo <= last) {
			mf_report(s->m, MF_ERROR, path,
				  "%s [0x%llx, 0x%llx] overlaps %s", what,
				  (unsigned long long)lo,
				  (unsigned long long)last, r->what);
			return;
		}
	}
	if (s->n_r == sizeof(s->r) / sizeof(s->r[0])) {
		/* Cannot happen within the schema's bounds; never skip a
		 * range silently though: run would find the overlap. */
		mf_report(s->m, MF_ERROR, path, "too many address ranges");
		return;
	}
	s->r[s->n_r++] =
		(struct range){ .space = space, .lo = lo, .last = last };
	snprintf(s->r[s->n_r - 1].what, sizeof(s->r[0].what), "%s", what);
}

static void claim_pin(struct vmscan *s, const char *path, unsigned pin,
		      const char *who)
{
	if (pin >= 24) {
		mf_report(s->m, MF_ERROR, path,
			  "IOAPIC pin %u does not exist (expected 0..23)", pin);
		return;
	}
	if (s->pin_owner[pin][0]) {
		mf_report(s->m, MF_ERROR, path,
			  "IOAPIC pin %u is taken twice: by %s and by %s", pin,
			  s->pin_owner[pin], who);
		return;
	}
	snprintf(s->pin_owner[pin], sizeof(s->pin_owner[pin]), "%s", who);
}

/* What every VM has: see actors/machine/pc_machine.h. */
static void claim_platform(struct vmscan *s, uint64_t ram)
{
	char p[32];

	snprintf(p, sizeof(p), "vms[%u]", s->idx);
	claim(s, p, 0, 0, ram, "RAM");
	claim(s, p, 0, 0xE0000000u, 0xFEC00000u - 0xE0000000u,
	      "the PCI memory window");
	claim(s, p, 0, 0xFEC00000u, 0x1000, "the IOAPIC");
	claim(s, p, 0, 0xFEE00000u, 0x1000, "the local APICs");
	claim(s, p, 1, 0x20, 2, "the master PIC");
	claim(s, p, 1, 0xA0, 2, "the slave PIC");
	claim(s, p, 1, 0x4D0, 2, "the ELCR");
	claim(s, p, 1, 0xF4, 4, "the exit port");
	claim(s, p, 1, 0x3F8, 8, "COM1");
	claim(s, p, 1, 0xCF8, 8, "the PCI configuration ports");
	claim(s, p, 1, 0xC000, 0x4000, "the PCI I/O window");
	snprintf(s->pin_owner[4], sizeof(s->pin_owner[4]), "COM1");
}

/* --- VCPUs and images ------------------------------------------------- */

/* The first bytes of @file, if it is a regular file: a FIFO would block
 * the check for ever, a device might never end. -1 with *@why if not. */
static ssize_t read_head(const char *file, uint8_t *b, size_t len,
			 const char **why)
{
	int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	ssize_t n = -1;

	*why = "cannot be opened";
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		*why = "is not a regular file";
	else
		n = read(fd, b, len);
	close(fd);
	return n;
}

/* A Multiboot v1 ELF32 kernel: ELF magic, 32-bit class, x86, and a valid
 * Multiboot header in its first 8 KiB. load_refused() checks the rest. */
static const char *not_multiboot(const char *file)
{
	uint8_t b[MB_SEARCH];
	const char *why;
	ssize_t n = read_head(file, b, sizeof(b), &why);

	if (n < 0)
		return why;
	if (n < 52 || memcmp(b,
			     "\x7f"
			     "ELF",
			     4))
		return "is not an ELF file";
	if (b[4] != 1 || b[18] != 3)
		return "is not a 32-bit x86 ELF (ELFCLASS32, EM_386)";
	for (size_t i = 0; i + 12 <= (size_t)n; i += 4) {
		uint32_t w[3];

		memcpy(w, b + i, sizeof(w));
		if (w[0] == 0x1BADB002u && w[0] + w[1] + w[2] == 0)
			return NULL;
	}
	return "has no Multiboot header in its first 8 KiB";
}

/*
 * Whether run's loader refuses @file in this VM's RAM, and why: the image
 * is loaded into a scratch runtime by the machine's own loader, so check
 * refuses what run would (a segment outside RAM or below the information
 * pages, an entry outside the segments...). RAM is mapped lazily: only
 * the image's pages are touched.
 */
static bool load_refused(const struct vmscan *s, const char *file,
			 const char *cmdline, char *why, size_t len)
{
	avm_runtime *rt;
	struct mb_boot b;
	int err;

	if (avm_runtime_new(NULL, &rt))
		return false; /* out of memory: run will say so */
	err = avm_ram_add(rt, 0, s->ram, NULL);
	if (!err)
		err = mb_load_file_slot(rt, file, cmdline, 0, &b, why, len);
	else
		err = 0; /* the host's RAM, not the manifest: run says */
	avm_runtime_free(rt);
	return err != 0;
}

/* @load: the machine loads the image here (not shared with the VCPU
 * before), with @cmdline. */
static void check_image(struct vmscan *s, const char *path, const char *img,
			const char *guest_dir, bool load, const char *cmdline)
{
	char *file = mf_resolve(s->m, img, guest_dir);
	const char *why;
	char err[160];

	if (!file) {
		mf_report(s->m, MF_ERROR, path,
			  "image '%s' not found (looked next to the "
			  "manifest%s%s)",
			  img, guest_dir ? " and in " : "",
			  guest_dir ? guest_dir : "");
		return;
	}
	why = not_multiboot(file);
	if (why)
		mf_report(
			s->m, MF_ERROR, path,
			"image '%s' %s (expected a Multiboot v1 ELF32 kernel)",
			file, why);
	else if (load && load_refused(s, file, cmdline, err, sizeof(err)))
		mf_report(s->m, MF_ERROR, path,
			  "image '%s' cannot be loaded in this VM's %llu MiB "
			  "of RAM: %s",
			  file, (unsigned long long)(s->ram >> 20), err);
	free(file);
}

/* Try SCHED_FIFO at @prio on a scratch thread: what the runtime will do,
 * so root in a container without CAP_SYS_NICE is found out too. */
static void *try_fifo(void *arg)
{
	struct sched_param sp = { .sched_priority = *(int *)arg };

	*(int *)arg = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	return NULL;
}

static int fifo_refused(int prio)
{
	pthread_t t;
	int res = prio;

	if (pthread_create(&t, NULL, try_fifo, &res))
		return EAGAIN;
	pthread_join(t, NULL);
	return res;
}

/* A priority the host cannot grant is a warning: the run goes on at
 * normal priority, as the runtime does when SCHED_FIFO is refused. */
static void check_place(struct mf_manifest *m, const char *base,
			const int *prio, const int *cpu)
{
	char p[160];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int why;

	snprintf(p, sizeof(p), "%s.priority", base);
	if (prio && (*prio < 0 || *prio > 99))
		mf_report(m, MF_ERROR, p, "priority %d (expected 0..99)",
			  *prio);
	else if (prio && *prio > 0 && (why = fifo_refused(*prio)))
		mf_report(m, MF_WARNING, p,
			  "priority %d: this host does not grant SCHED_FIFO "
			  "(%s); the thread runs unprioritised",
			  *prio, strerror(why));
	snprintf(p, sizeof(p), "%s.host-cpu", base);
	if (cpu && (*cpu < -1 || (ncpu > 0 && *cpu >= ncpu)))
		mf_report(m, MF_WARNING, p,
			  "host CPU %d does not exist here (CPUs 0..%ld); "
			  "the thread is not pinned",
			  *cpu, ncpu - 1);
	else if (cpu && *cpu >= AVM_CPU_COUNT)
		mf_report(m, MF_WARNING, p,
			  "host CPU %d: actorvm pins to CPUs 0..%d only; "
			  "the thread is not pinned",
			  *cpu, AVM_CPU_COUNT - 1);
}

/* Names are printed and become parts of actor, file and URL names. */
static void check_name(struct mf_manifest *m, const char *path,
		       const char *what, const char *name)
{
	if (!mf_name_ok(name))
		mf_report(m, MF_ERROR, path,
			  "%s name '%.40s%s' (expected 1 to %d characters "
			  "from A-Z a-z 0-9 - _, the first a letter or digit)",
			  what, name, strlen(name) > 40 ? "..." : "",
			  MF_NAME_MAX);
}

/* The loader would cut a longer one: refused rather than cut. */
static void check_cmdline(struct mf_manifest *m, const char *path,
			  const char *cmdline)
{
	if (cmdline && strlen(cmdline) > MF_CMDLINE_MAX)
		mf_report(m, MF_ERROR, path,
			  "cmdline of %zu bytes (at most %d: the Multiboot "
			  "information page holds no more)",
			  strlen(cmdline), MF_CMDLINE_MAX);
}

/* The machine loads each image where the VCPUs' image changes, each with
 * an information page of its own: there are MB_INFO_SLOTS of them. */
static void check_image_count(struct vmscan *s)
{
	const struct mf_vm *vm = s->vm;
	const char *prev = NULL;
	unsigned loads = 0;
	char p[128];

	for (unsigned i = 0; i < vm->vcpus_count; i++) {
		const char *img =
			vm->vcpus[i].image ? vm->vcpus[i].image : vm->image;

		if (!img || (prev && !strcmp(prev, img)))
			continue;
		prev = img;
		if (++loads == MB_INFO_SLOTS + 1) {
			path_of(p, sizeof(p), s->idx, ".vcpus[%u]", i, NULL);
			mf_report(s->m, MF_ERROR, p,
				  "a %uth image load: at most %d (VCPUs with "
				  "the same image next to each other share "
				  "one)",
				  loads, MB_INFO_SLOTS);
		}
	}
}

/*
 * VCPUs next to each other with one image share its copy and its
 * information page, the first one's command line: another one's own
 * would be ignored, so it is refused. @load_cl: the command line the
 * image was loaded with.
 */
static void check_shared_cmdline(struct vmscan *s, const char *path,
				 const char *cl, const char *load_cl)
{
	if ((cl || load_cl) && (!cl || !load_cl || strcmp(cl, load_cl)))
		mf_report(s->m, MF_ERROR, path,
			  "this VCPU shares the image of the VCPU before it, "
			  "and so its command line ('%.40s'): its own would be "
			  "ignored (give both the same cmdline, or different "
			  "images)",
			  load_cl ? load_cl : "");
}

static void check_vcpus(struct vmscan *s, const char *guest_dir)
{
	const struct mf_vm *vm = s->vm;
	const char *prev = NULL, *load_cl = NULL;
	char p[128], cl[160];

	check_image_count(s);
	for (unsigned i = 0; i < vm->vcpus_count; i++) {
		const struct mf_vcpu *c = &vm->vcpus[i];
		const char *img = c->image ? c->image : vm->image,
			   *own = c->cmdline ? c->cmdline : vm->cmdline;
		bool load = !prev || (img && strcmp(prev, img));

		path_of(p, sizeof(p), s->idx, ".vcpus[%u]", i, NULL);
		snprintf(cl, sizeof(cl), "%s.cmdline", p);
		check_cmdline(s->m, cl, c->cmdline);
		if (!img)
			mf_report(s->m, MF_ERROR, p,
				  "no image (give vcpus[].image or the VM's "
				  "image)");
		else
			check_image(s, p, img, guest_dir, load, own);
		if (img && !load)
			check_shared_cmdline(s, cl, own, load_cl);
		load_cl = img && load ? own : load_cl;
		prev = img ? img : prev;
		check_place(s->m, p, c->priority, c->host_cpu);
	}
}

/* --- Devices ------------------------------------------------------------ */

static const char *const platform_names[] = { "exit", "pic", "ioapic",
					      "com1", "pci", "console",
					      "kvm",  NULL };

static bool reserved_name(const char *n)
{
	for (unsigned i = 0; platform_names[i]; i++)
		if (!strcmp(n, platform_names[i]))
			return true;
	return !strncmp(n, "vcpu", 4) || !strncmp(n, "net.", 4);
}

/* Every key given for device @i must be an option of its type. */
static void check_options(struct vmscan *s, unsigned i, const struct mf_type *t)
{
	char base[96], opts[512];
	size_t bl;

	path_of(base, sizeof(base), s->idx, ".devices[%u]", i, NULL);
	bl = strlen(base);
	mf_type_option_list(t, opts, sizeof(opts));
	for (size_t n = 0; n < s->m->n_nodes; n++) {
		const char *p = s->m->nodes[n].path, *key = p + bl + 1;

		if (strncmp(p, base, bl) || p[bl] != '.' || strchr(key, '.') ||
		    strchr(key, '['))
			continue;
		if (!mf_type_has_option(t, key))
			mf_report(s->m, MF_ERROR, p,
				  "'%s' is not an option of type '%s' "
				  "(its options: %s)",
				  key, t->ops->type, opts);
	}
}

/* A port: 0..65535 in decimal digits only. */
static bool port_ok(const char *p, size_t len)
{
	unsigned long v = 0;

	if (!len || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v <= 65535;
}

/* HOST:PORT, up to the path; HOST may be [IPv6] or empty. WebSocket
 * URLs may leave the port out (80, 443). */
static const char *ip_problem(const char *addr, bool port_optional)
{
	size_t len = strcspn(addr, "/");
	const char *colon = memrchr(addr, ':', len);

	if (!colon || memchr(colon, ']', len - (size_t)(colon - addr)))
		return port_optional ? NULL : "has no :PORT";
	return port_ok(colon + 1, len - (size_t)(colon + 1 - addr))
		       ? NULL
		       : "has no valid port (0 to 65535)";
}

/*
 * What nng would refuse in @url when run opens it: an unknown scheme, no
 * address, a TCP-style address without a valid port. Found by hand, as
 * opening a socket here would start nng's threads before the builder
 * sets their priority (nng_threads.h). NULL if none.
 */
static const char *url_problem(const char *url)
{
	static const char *const local[] = { "inproc://", "ipc://",
					     "abstract://", NULL };
	static const char *const ip[] = { "tcp://", "tcp4://", "tcp6://",
					  "ws://",  "wss://",  "tls+tcp://",
					  NULL };

	for (unsigned i = 0; local[i]; i++)
		if (!strncmp(url, local[i], strlen(local[i])))
			return url[strlen(local[i])] ? NULL : "has no address";
	for (unsigned i = 0; ip[i]; i++)
		if (!strncmp(url, ip[i], strlen(ip[i])))
			return ip_problem(url + strlen(ip[i]),
					  !strncmp(url, "ws", 2));
	return "has no scheme nng knows (inproc://, ipc://, abstract://, "
	       "tcp://, tcp4://, tcp6://, ws://, wss://, tls+tcp://)";
}

static void check_url(struct mf_manifest *m, const char *path, const char *url)
{
	const char *why = url ? url_problem(url) : NULL;

	if (why)
		mf_report(m, MF_ERROR, path, "url '%s' %s", url, why);
}

static void check_serial(struct mf_manifest *m, const char *path,
			 const char *spec)
{
	struct mf_serial ser;
	char why[160];

	if (spec && mf_parse_serial(spec, &ser, why, sizeof(why)))
		mf_report(m, MF_ERROR, path, "%s", why);
	else if (spec && ser.chr.kind == CHARDEV_NNG)
		check_url(m, path, ser.chr.path);
}

static void check_nic(struct vmscan *s, const struct mf_device *d,
		      const char *base)
{
	char p[160];
	uint8_t mac[6];
	bool known = false;

	snprintf(p, sizeof(p), "%s.mac", base);
	if (d->mac && mf_parse_mac(d->mac, mac))
		mf_report(s->m, MF_ERROR, p,
			  "'%s' is not a MAC address (expected "
			  "xx:xx:xx:xx:xx:xx)",
			  d->mac);
	if (!d->network)
		return;
	for (unsigned i = 0; s->m->doc && i < s->m->doc->networks_count; i++)
		known |= !strcmp(s->m->doc->networks[i].name, d->network);
	snprintf(p, sizeof(p), "%s.network", base);
	if (!known)
		mf_report(s->m, MF_ERROR, p,
			  "network '%s' is not defined under networks",
			  d->network);
}

static void check_pci(struct vmscan *s, const struct mf_device *d,
		      const struct mf_type *t, const char *base,
		      const char *slot_owner[32])
{
	char p[160], who[96];
	unsigned pin;

	if (++s->n_pci == PC_MACHINE_MAX_PCI + 1)
		mf_report(s->m, MF_ERROR, base,
			  "more than %d PCI devices in one VM (the "
			  "machine's limit)",
			  PC_MACHINE_MAX_PCI);

	snprintf(p, sizeof(p), "%s.slot", base);
	if (!d->slot) {
		mf_report(s->m, MF_ERROR, base,
			  "a PCI device needs a slot (expected 1..31)");
		return;
	}
	if (*d->slot < 1 || *d->slot > 31) {
		mf_report(s->m, MF_ERROR, p, "slot %u (expected 1..31)",
			  *d->slot);
		return;
	}
	if (slot_owner[*d->slot]) {
		mf_report(s->m, MF_ERROR, p, "slot %u is taken by '%s'",
			  *d->slot, slot_owner[*d->slot]);
		return;
	}
	slot_owner[*d->slot] = d->name;
	/* PCI lines may be shared among PCI functions (level, wired-OR),
	 * but not with an edge-triggered ISA device. */
	snprintf(who, sizeof(who), "PCI INTx of '%s'", d->name);
	pin = pci_intx_irq(*d->slot, t->ops->pci->interrupt_pin);
	if (pin && (!s->pin_owner[pin][0] ||
		    strncmp(s->pin_owner[pin], "PCI INTx", 8)))
		claim_pin(s, p, pin, who);
}

/* A non-PCI device: its regions where the manifest puts them, its pin. */
static void check_isa(struct vmscan *s, const struct mf_device *d,
		      const struct mf_type *t, const char *base)
{
	char p[160], what[96];
	bool placed = false;

	for (unsigned r = 0; r < t->ops->n_regions; r++) {
		const struct avm_region_desc *rd = &t->ops->regions[r];
		const uint64_t *at =
			rd->space == AVM_SPACE_PIO ? d->port : d->mmio;

		if (!at)
			continue;
		placed = true;
		snprintf(p, sizeof(p), "%s.%s", base,
			 rd->space == AVM_SPACE_PIO ? "port" : "mmio");
		snprintf(what, sizeof(what), "'%s' (%s)", d->name, rd->name);
		if (rd->space == AVM_SPACE_PIO && *at + rd->size > 0x10000)
			mf_report(s->m, MF_ERROR, p,
				  "port 0x%llx: the I/O space ends at 0xffff",
				  (unsigned long long)*at);
		else if (*at + (rd->size - 1) < *at)
			mf_report(s->m, MF_ERROR, p,
				  "mmio 0x%llx: its %llu bytes would wrap past "
				  "2^64",
				  (unsigned long long)*at,
				  (unsigned long long)rd->size);
		else
			claim(s, p, rd->space == AVM_SPACE_PIO, *at, rd->size,
			      what);
	}
	if (!placed)
		mf_report(s->m, MF_ERROR, base,
			  "'%s' decodes nothing: give it a port or mmio base",
			  d->name);
	snprintf(p, sizeof(p), "%s.irq", base);
	snprintf(what, sizeof(what), "'%s'", d->name);
	if (d->irq)
		claim_pin(s, p, *d->irq, what);
}

/* The device types the registry has, "e1000, uart16550, ...": a type added
 * there is named here without touching this file. */
static void device_types(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const struct mf_type *t = mf_types; t->ops && n < len; t++)
		if (t->kind == MF_KIND_DEVICE)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      n ? ", " : "", t->ops->type);
}

/* Whether @t (found by @name, NULL if not) is a device type; if not, says
 * so at @p. */
static bool device_type_ok(struct mf_manifest *m, const char *p,
			   const char *name, const struct mf_type *t)
{
	char types[256];

	if (t && t->kind == MF_KIND_DEVICE)
		return true;
	if (t) {
		mf_report(m, MF_ERROR, p,
			  "'%s' is part of every VM, not a device to add",
			  name);
		return false;
	}
	device_types(types, sizeof(types));
	mf_report(m, MF_ERROR, p,
		  "unknown device type '%s' (expected one of %s; see "
		  "`actorvm list`)",
		  name, types);
	return false;
}

/* A device process: the threaded executor, and limits that make sense. */
static void check_isolation(struct vmscan *s, const struct mf_device *d,
			    const char *base)
{
	char p[128];

	snprintf(p, sizeof(p), "%s.isolation", base);
	if (d->isolation == MF_ISO_PROCESS &&
	    s->vm->executor == MF_EXEC_BIGLOCK)
		mf_report(s->m, MF_ERROR, p,
			  "a device process needs the threaded executor "
			  "(this VM's is biglock)");
	snprintf(p, sizeof(p), "%s.max-restarts", base);
	if (d->max_restarts && (!*d->max_restarts || *d->max_restarts > 64))
		mf_report(s->m, MF_ERROR, p, "%u (expected 1..64)",
			  *d->max_restarts);
	snprintf(p, sizeof(p), "%s.restart-window-ms", base);
	if (d->restart_window_ms && !*d->restart_window_ms)
		mf_report(s->m, MF_ERROR, p, "0 (expected at least 1)");
	if (d->isolation != MF_ISO_PROCESS &&
	    (d->on_failure || d->max_restarts || d->restart_window_ms))
		mf_report(s->m, MF_WARNING, base,
			  "on-failure, max-restarts and restart-window-ms "
			  "apply to 'isolation: process' only");
}

static void check_device(struct vmscan *s, unsigned i,
			 const char *slot_owner[32])
{
	const struct mf_device *d = &s->vm->devices[i];
	const struct mf_type *t = mf_type_find(d->type);
	char base[96], p[128];

	path_of(base, sizeof(base), s->idx, ".devices[%u]", i, NULL);
	snprintf(p, sizeof(p), "%s.type", base);
	if (!device_type_ok(s->m, p, d->type, t))
		return;
	check_options(s, i, t);
	snprintf(p, sizeof(p), "%s.name", base);
	check_name(s->m, p, "device", d->name);
	for (unsigned j = 0; j < i; j++)
		if (!strcmp(s->vm->devices[j].name, d->name))
			mf_report(s->m, MF_ERROR, base,
				  "name '%s' is used twice in this VM",
				  d->name);
	if (reserved_name(d->name))
		mf_report(s->m, MF_ERROR, base,
			  "name '%s' is the platform's (exit, pic, ioapic, "
			  "com1, pci, console, kvm, vcpuN, net.*)",
			  d->name);
	check_place(s->m, base, d->priority, d->host_cpu);
	snprintf(p, sizeof(p), "%s.serial", base);
	check_serial(s->m, p, d->serial);
	if (t->ops->pci)
		check_pci(s, d, t, base, slot_owner);
	else
		check_isa(s, d, t, base);
	if (!strcmp(t->ops->type, "e1000"))
		check_nic(s, d, base);
	check_isolation(s, d, base);
}

/* --- VMs ------------------------------------------------------------------ */

static void check_backend(struct mf_manifest *m, const struct mf_vm *vm,
			  unsigned idx)
{
	char p[64], why[128] = "";

	snprintf(p, sizeof(p), "vms[%u].cpu", idx);
	if (vm->backend == MF_BACKEND_KVM && !mf_kvm_usable(why, sizeof(why)))
		mf_report(m, MF_WARNING, p,
			  "KVM is not usable here (%s): `run` will fail; "
			  "'auto' falls back to the software CPU",
			  why);
	snprintf(p, sizeof(p), "vms[%u].irqchip", idx);
	if (vm->irqchip == MF_IRQCHIP_KVM && vm->backend != MF_BACKEND_KVM)
		mf_report(m, MF_ERROR, p,
			  "KVM's in-kernel irqchip needs the KVM backend "
			  "(expected cpu: kvm)");
	snprintf(p, sizeof(p), "vms[%u].executor", idx);
	if (vm->executor == MF_EXEC_BIGLOCK && !mf_biglock_runs_vcpus())
		mf_report(m, MF_ERROR, p,
			  "the biglock executor cannot run VCPUs yet (expected "
			  "threaded)");
}

static void check_vm(struct mf_manifest *m, unsigned idx, const char *guest_dir)
{
	static struct vmscan s; /* large; the checker is not re-entrant */
	const struct mf_vm *vm = &m->doc->vms[idx];
	const char *slot_owner[32] = { 0 };
	uint64_t ram = PC_MACHINE_RAM_DEFAULT;
	char p[64];

	memset(&s, 0, sizeof(s));
	s = (struct vmscan){ .m = m, .vm = vm, .idx = idx };
	snprintf(p, sizeof(p), "vms[%u].memory", idx);
	if (vm->memory && (mf_parse_size(vm->memory, &ram) || ram < RAM_MIN ||
			   ram > RAM_MAX || ram % 4096)) {
		mf_report(m, MF_ERROR, p,
			  "memory '%s' (expected a 4 KiB multiple from 2M to "
			  "3584M, e.g. 64M)",
			  vm->memory);
		ram = PC_MACHINE_RAM_DEFAULT;
	}
	snprintf(p, sizeof(p), "vms[%u].name", idx);
	check_name(m, p, "VM", vm->name);
	for (unsigned j = 0; j < idx; j++)
		if (!strcmp(m->doc->vms[j].name, vm->name))
			mf_report(m, MF_ERROR, p, "VM name '%s' is used twice",
				  vm->name);
	claim_platform(&s, ram);
	s.ram = ram;
	check_vcpus(&s, guest_dir);
	snprintf(p, sizeof(p), "vms[%u]", idx);
	check_place(m, p, vm->priority, vm->host_cpu);
	snprintf(p, sizeof(p), "vms[%u].serial", idx);
	check_serial(m, p, vm->serial);
	snprintf(p, sizeof(p), "vms[%u].cmdline", idx);
	check_cmdline(m, p, vm->cmdline);
	check_backend(m, vm, idx);
	for (unsigned i = 0; i < vm->devices_count; i++)
		check_device(&s, i, slot_owner);
}

/* --- Networks and tracing ----------------------------------------------- */

static unsigned ends_of(const struct mf_doc *d, const char *net)
{
	unsigned n = 0;

	for (unsigned v = 0; v < d->vms_count; v++)
		for (unsigned i = 0; i < d->vms[v].devices_count; i++)
			n += d->vms[v].devices[i].network &&
			     !strcmp(d->vms[v].devices[i].network, net);
	return n;
}

/* Network @i's name (its characters, unique) and URL. */
static void check_net_keys(struct mf_manifest *m, unsigned i)
{
	const struct mf_network *n = &m->doc->networks[i];
	char p[64];

	snprintf(p, sizeof(p), "networks[%u].name", i);
	check_name(m, p, "network", n->name);
	snprintf(p, sizeof(p), "networks[%u].url", i);
	check_url(m, p, n->url);
	snprintf(p, sizeof(p), "networks[%u]", i);
	for (unsigned j = 0; j < i; j++)
		if (!strcmp(m->doc->networks[j].name, n->name))
			mf_report(m, MF_ERROR, p,
				  "network name '%s' is used twice", n->name);
}

static void check_network(struct mf_manifest *m, unsigned i)
{
	const struct mf_network *n = &m->doc->networks[i];
	unsigned ends = ends_of(m->doc, n->name);
	char p[64];

	check_net_keys(m, i);
	snprintf(p, sizeof(p), "networks[%u]", i);
	/* Room for STEM.VM.EXT (one capture per VM, build.c), never cut. */
	if (n->pcap && strlen(n->pcap) > MF_TRACE_FILE_MAX)
		mf_report(m, MF_ERROR, p,
			  "pcap: a file name of %zu bytes (at most %d)",
			  strlen(n->pcap), MF_TRACE_FILE_MAX);
	if (n->type == MF_NET_TAP) {
		if (ends != 1)
			mf_report(m, MF_ERROR, p,
				  "tap '%s' has %u NICs (expected exactly 1)",
				  n->name, ends);
		if (n->url || n->listen)
			mf_report(m, MF_ERROR, p,
				  "url and listen are options of wires, not of "
				  "taps");
		return;
	}
	if (n->ifname)
		mf_report(m, MF_ERROR, p, "ifname is an option of taps");
	if (ends == 0)
		mf_report(m, MF_WARNING, p, "wire '%s' has no NIC", n->name);
	else if (ends == 1 && !n->url)
		mf_report(m, MF_ERROR, p,
			  "wire '%s' has one end: cable a second NIC to it, or "
			  "give a url (and listen) to reach another process",
			  n->name);
	else if (ends > 2)
		mf_report(m, MF_ERROR, p,
			  "wire '%s' has %u NICs (a wire has two ends)",
			  n->name, ends);
	else if (ends == 2 && n->listen)
		mf_report(m, MF_ERROR, p,
			  "listen is for a wire with one end here (both ends "
			  "here: one listens, one dials)");
}

static bool actor_named(const struct mf_doc *d, const char *name)
{
	for (unsigned v = 0; v < d->vms_count; v++) {
		for (unsigned i = 0; i < d->vms[v].devices_count; i++)
			if (!strcmp(d->vms[v].devices[i].name, name))
				return true;
		if (!strncmp(name, "vcpu", 4) &&
		    (unsigned)atoi(name + 4) < d->vms[v].vcpus_count)
			return true;
	}
	return reserved_name(name);
}

static void check_trace(struct mf_manifest *m)
{
	const struct mf_trace *t = m->doc->trace;
	char p[64];

	if (t && t->file && strlen(t->file) > MF_TRACE_FILE_MAX)
		mf_report(m, MF_ERROR, "trace.file",
			  "a file name of %zu bytes (at most %d)",
			  strlen(t->file), MF_TRACE_FILE_MAX);
	for (unsigned i = 0; t && i < t->actors_count; i++) {
		snprintf(p, sizeof(p), "trace.actors[%u]", i);
		if (!actor_named(m->doc, t->actors[i]))
			mf_report(m, MF_ERROR, p, "no actor is called '%s'",
				  t->actors[i]);
	}
	for (unsigned i = 0; t && i < t->journal_count; i++) {
		const char *why = mf_journal_problem(m->doc, t->journal[i]);

		snprintf(p, sizeof(p), "trace.journal[%u]", i);
		if (why)
			mf_report(m, MF_ERROR, p,
				  "'%s' cannot be journaled: %s", t->journal[i],
				  why);
	}
	for (unsigned i = 0; t && i < t->kinds_count; i++) {
		uint64_t bit;

		snprintf(p, sizeof(p), "trace.kinds[%u]", i);
		if (mf_trace_kind(t->kinds[i], &bit))
			mf_report(m, MF_ERROR, p,
				  "unknown message kind '%s' (expected read, "
				  "write, irq, dma-done, frame, char, timer, "
				  "fd, continue, reset, stop or user+N)",
				  t->kinds[i]);
	}
}

unsigned mf_check(struct mf_manifest *m, const char *guest_dir)
{
	if (!m->doc)
		return mf_errors(m);
	for (unsigned i = 0; i < m->doc->vms_count; i++)
		check_vm(m, i, guest_dir);
	for (unsigned i = 0; i < m->doc->networks_count; i++)
		check_network(m, i);
	check_trace(m);
	return mf_errors(m);
}
