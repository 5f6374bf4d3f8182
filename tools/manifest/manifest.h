/* SPDX-License-Identifier: MIT */
/**
 * DOC: manifest - a VM set described in YAML
 *
 * mf_load() reads a manifest with libcyaml against the schema in
 * manifest_schema.c (the single place that says what a manifest may hold)
 * and indexes where every node is (line, column) with libyaml, so that
 * mf_check() can name the line of every problem it finds. Optional scalars
 * are pointers: NULL means "not given", so defaults stay visible.
 * See docs/manifest.md for the format.
 */
#ifndef MF_MANIFEST_H
#define MF_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Names of VMs, devices and networks: 1 to MF_NAME_MAX characters from
 * A-Z a-z 0-9 '-' '_', the first a letter or digit. They are printed in
 * logs and become parts of actor names, trace file names and nng URLs.
 */
#define MF_NAME_MAX 32
/* A kernel command line: the Multiboot loader's page holds this many
 * bytes before its NUL (MB_CMDLINE_MAX, actors/vcpu/multiboot.c). */
#define MF_CMDLINE_MAX 2047
/* A trace file name, so that STEM.VM.EXT still fits the builder's path. */
#define MF_TRACE_FILE_MAX 400

enum mf_backend { MF_BACKEND_AUTO, MF_BACKEND_KVM, MF_BACKEND_SOFT };
enum mf_executor { MF_EXEC_THREADED, MF_EXEC_BIGLOCK };
enum mf_irqchip { MF_IRQCHIP_AUTO, MF_IRQCHIP_USER, MF_IRQCHIP_KVM };
enum mf_net_type { MF_NET_WIRE, MF_NET_TAP };

/** struct mf_vcpu - one VCPU: its image, command line and placement. */
struct mf_vcpu {
	char *image;
	char *cmdline;
	int *priority;
	int *host_cpu;
};

/** enum mf_isolation - where a device runs (`isolation:`). */
enum mf_isolation { MF_ISO_IN_PROCESS = 0, MF_ISO_PROCESS };
/** enum mf_on_failure - `on-failure:`, as &enum avm_on_failure. */
enum mf_on_failure { MF_FAIL_RESTART = 0, MF_FAIL_STOP_VM, MF_FAIL_REMOVE };

/**
 * struct mf_device - one device actor. Which options a type takes is in
 * the registry (registry.h); the schema accepts the union of them.
 */
struct mf_device {
	char *type;
	char *name;
	unsigned *slot;	 /* PCI devices */
	char *network;	 /* NICs: the network it is cabled to */
	char *mac;	 /* NICs */
	bool *link_down; /* NICs */
	uint64_t *port;	 /* port-I/O base (ISA devices) */
	uint64_t *mmio;	 /* MMIO base */
	unsigned *irq;	 /* IOAPIC pin (non-PCI devices) */
	char *serial;	 /* UARTs: the backend */
	uint64_t *id;	 /* testdev */
	int *priority;
	int *host_cpu;
	bool *fast_path; /* false: its messages always queue (framework.md) */
	/* Device processes (docs/isolation.md): e1000 and testdev only. */
	enum mf_isolation isolation;
	enum mf_on_failure on_failure;
	unsigned *max_restarts;
	unsigned *restart_window_ms;
};

/** struct mf_vm - one VM. */
struct mf_vm {
	char *name;
	char *memory;
	enum mf_backend backend;
	enum mf_executor executor;
	enum mf_irqchip irqchip;
	char *image;   /* for VCPUs without their own */
	char *cmdline; /* idem */
	struct mf_vcpu *vcpus;
	unsigned vcpus_count;
	char *serial; /* COM1's backend */
	int *priority;
	int *host_cpu;
	struct mf_device *devices;
	unsigned devices_count;
};

/** struct mf_network - what NICs are cabled to. */
struct mf_network {
	char *name;
	enum mf_net_type type;
	char *url;    /* wire: nng URL (default: in-process) */
	bool *listen; /* wire with one end here: listen or dial */
	char *ifname; /* tap */
	char *pcap;   /* capture every frame to this file */
};

/** struct mf_trace - tracing. */
struct mf_trace {
	bool *enabled;
	char *file;
	char **actors;
	unsigned actors_count;
	char **kinds;
	unsigned kinds_count;
	char **journal;
	unsigned journal_count;
};

/** struct mf_doc - the whole document, as the schema loads it. */
struct mf_doc {
	struct mf_vm *vms;
	unsigned vms_count;
	struct mf_network *networks;
	unsigned networks_count;
	struct mf_trace *trace;
};

/** struct mf_node - where one node of the document is. */
struct mf_node {
	char *path; /* "vms[0].devices[1].slot" */
	unsigned line, column;
};

enum mf_severity { MF_ERROR, MF_WARNING };

/** struct mf_diag - one problem found. */
struct mf_diag {
	enum mf_severity severity;
	unsigned line, column;
	char *path;
	char *message;
};

/** struct mf_manifest - a loaded manifest and what was found in it. */
struct mf_manifest {
	char *file;
	char *text; /* the document as read (a trace keeps it for replay) */
	size_t text_len;
	char *dir; /* the manifest's directory: relative paths start here */
	struct mf_doc *doc;
	struct mf_node *nodes;
	size_t n_nodes, cap_nodes;
	struct mf_diag *diags;
	size_t n_diags, cap_diags;
};

/**
 * mf_load() - load @path (or, for @text != NULL, @len bytes of YAML named
 * @path in messages). Returns 0 with *@out set, even when the document
 * failed the schema: then (*@out)->doc is NULL and a diagnostic says why.
 * -ENOMEM or -errno of the file otherwise.
 */
int mf_load(const char *path, const char *text, size_t len,
	    struct mf_manifest **out);

/** mf_free() - release a manifest (NULL is a no-op). */
void mf_free(struct mf_manifest *m);

/**
 * mf_check() - every semantic problem of a loaded document, added to
 * @m's diagnostics. @guest_dir: where images not found next to the
 * manifest are looked for (may be NULL). Returns the number of errors.
 */
unsigned mf_check(struct mf_manifest *m, const char *guest_dir);

/** mf_errors() - the number of error diagnostics. */
unsigned mf_errors(const struct mf_manifest *m);

/** mf_print_diags() - "FILE:LINE:COL: error: PATH: MESSAGE" lines. */
void mf_print_diags(const struct mf_manifest *m, FILE *f);

/**
 * mf_report() - add a diagnostic at the node @path (or its closest
 * ancestor that has a position).
 */
void mf_report(struct mf_manifest *m, enum mf_severity sev, const char *path,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** mf_node_at() - the node at @path, or NULL. */
const struct mf_node *mf_node_at(const struct mf_manifest *m, const char *path);

/**
 * mf_parse_size() - "64M", "64 MiB", "1G", "65536" -> bytes. Returns 0,
 * or -EINVAL.
 */
int mf_parse_size(const char *s, uint64_t *out);

/**
 * mf_parse_mac() - "52:54:00:12:34:56" -> bytes: exactly six groups of two
 * hex digits separated by ':'. Returns 0 or -EINVAL.
 */
int mf_parse_mac(const char *s, uint8_t mac[6]);

/**
 * mf_name_ok() - whether @s is a valid name (see %MF_NAME_MAX).
 */
bool mf_name_ok(const char *s);

/**
 * mf_resolve() - the path of @file: as is if absolute, else next to the
 * manifest, else in @guest_dir. Returns a malloc'ed path of an existing
 * file, or NULL.
 */
char *mf_resolve(const struct mf_manifest *m, const char *file,
		 const char *guest_dir);

#endif /* MF_MANIFEST_H */
