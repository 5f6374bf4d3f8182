/* SPDX-License-Identifier: MIT */
/**
 * DOC: build - from a checked manifest to running VMs
 *
 * One runtime per VM (each VM has its own RAM and address map), each built
 * by the PC machine builder plus the manifest's extra devices and network
 * backends. NICs of two VMs on one wire talk over nng inproc inside this
 * process; a wire with a url reaches another process or host.
 */
#ifndef MF_BUILD_H
#define MF_BUILD_H

#include <signal.h>

#include "console.h"
#include "e1000.h"
#include "manifest.h"
#include "netdev.h"
#include "pc_machine.h"
#include "testdev.h"

#define MF_MAX_VMS     16
#define MF_MAX_DEVICES 64
/* A VM's actors at most: the platform's (exit, pic, ioapic, com1, pci,
 * kvm, the console: 16 leaves room), its VCPUs, and each device with the
 * two actors of the network it may be cabled to. */
#define MF_MAX_ACTORS (16 + IRQCHIP_MAX_CPUS + 3 * MF_MAX_DEVICES)

/** struct mf_serial - a parsed serial backend spec ("file:out.txt"...). */
struct mf_serial {
	struct chardev_config chr;
	char arg[256]; /* the path or URL @chr points into */
};

/**
 * mf_parse_serial() - "stdio", "null", "file:PATH", "pty", "pty:LINK",
 * "nng:URL" (dial), "nng-listen:URL". Returns 0 or -EINVAL with @why.
 */
int mf_parse_serial(const char *spec, struct mf_serial *out, char *why,
		    size_t len);

/** mf_trace_kind() - a message kind name ("irq") -> its trace mask bit. */
int mf_trace_kind(const char *name, uint64_t *bit);

/** mf_kvm_usable() - whether /dev/kvm can run VMs here; if not, why. */
bool mf_kvm_usable(char *why, size_t len);

/** mf_biglock_runs_vcpus() - whether the biglock executor takes VCPUs. */
bool mf_biglock_runs_vcpus(void);

/** struct mf_dev_cfg - storage for one device's configuration. */
union mf_dev_cfg {
	struct e1000_config nic;
	struct uart_config uart;
	struct testdev_config testdev;
};

/** struct mf_vm_run - one VM being run. */
struct mf_vm_run {
	const struct mf_vm *vm;
	avm_runtime *rt;
	struct pc_machine mach;
	struct pc_machine_config mcfg;
	char *images[IRQCHIP_MAX_CPUS];
	struct mf_serial com1_ser;
	struct uart_config com1;
	union mf_dev_cfg dev[MF_MAX_DEVICES];
	struct mf_serial dev_ser[MF_MAX_DEVICES];
	avm_actor_id dev_id[MF_MAX_DEVICES];
	struct wire_config wire[MF_MAX_DEVICES];
	struct tap_config tap[MF_MAX_DEVICES];
	struct pcap_config pcap[MF_MAX_DEVICES];
	char pcap_path[MF_MAX_DEVICES][512];
	struct console_config console_cfg;
	avm_actor_id console_id;
	char trace_path[512];
	bool console, traced, exited;
	int status;
};

/** struct mf_build_opts - what the command line adds to the manifest. */
struct mf_build_opts {
	const char *guest_dir;
	const char *trace_file; /* overrides trace.file, enables tracing */
	/* Actors to journal besides trace.journal (NULL-terminated); a
	 * journal enables tracing (to actorvm.trace unless a file is set). */
	const char *const *journal;
	/* Built for `actorvm replay`, never started: serial backends are
	 * null, so that a replayed UART opens no file, pty or socket. */
	bool replay;
	int log_level;
};

/** struct mf_run - the VMs of one manifest. */
struct mf_run {
	const struct mf_manifest *m;
	unsigned n_vms;
	struct mf_vm_run vm[MF_MAX_VMS];
	char urls[MF_MAX_VMS * 8][160];
	unsigned n_urls;
	const char *const *journal; /* mf_build_opts.journal */
};

/**
 * mf_build() - create every VM of @m (which must have passed mf_check())
 * in @r, not started. On failure, what was built is freed and @err says
 * what failed. Returns 0 or -errno.
 */
int mf_build(struct mf_run *r, const struct mf_manifest *m,
	     const struct mf_build_opts *o, char *err, size_t len);

/** mf_start() - start every VM (and its trace). Returns 0 or -errno. */
int mf_start(struct mf_run *r, char *err, size_t len);

/**
 * mf_wait() - wait until every VM's guest exited, @timeout_ns passed
 * (negative: none), or *@stop became non-zero (a signal). Returns 0 when
 * all exited, -ETIMEDOUT, -EINTR, or -ENOTRECOVERABLE as soon as one VM's
 * CPU stopped for good (%AVM_VM_EXIT_FAILED; mf_failed_vm() names it).
 */
int mf_wait(struct mf_run *r, int64_t timeout_ns, volatile sig_atomic_t *stop);

/**
 * mf_journal_problem() - why actor @name of manifest @m cannot be
 * journaled (not an actor, a CPU, a backend whose inputs come from a
 * descriptor), or NULL if it can.
 */
const char *mf_journal_problem(const struct mf_doc *d, const char *name);

/** mf_status() - the largest exit status among the VMs (QEMU's numbers). */
int mf_status(const struct mf_run *r);

/** mf_failed_vm() - the name of a VM whose CPU stopped for good, or NULL. */
const char *mf_failed_vm(const struct mf_run *r);

/**
 * mf_fini() - stop every VM, end its trace, free everything. Returns how
 * many outputs lost data (a trace or serial file that could not be
 * written; each logged what it lost), 0 if none did.
 */
unsigned mf_fini(struct mf_run *r);

#endif /* MF_BUILD_H */
