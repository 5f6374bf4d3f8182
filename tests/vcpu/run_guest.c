/* SPDX-License-Identifier: MIT */
/*
 * run_guest [--vcpus N] [--expect STATUS] [--input-after PROMPT --input TEXT]
 *   [--backend soft|kvm] [--irqchip user|kvm] ELF [CMDLINE]: boot a Multiboot
 * guest on actorvm's PC machine (software CPU by default, 64 MiB, COM1 on
 * stdio, the
 * IOAPIC and local APICs, an e1000 at 00:03.0 as on QEMU's pc) and exit
 * with the guest's status, the QEMU-compatible (value << 1) | 1 of its
 * isa-debug-exit write, as qemu-system-x86_64 does; 124 if it never exits.
 * With --expect, exit 0 if the status is STATUS and 1 otherwise. With
 * --input, TEXT is typed into COM1 once the guest has printed PROMPT (a
 * small "console" actor watches the UART's transmitted bytes). The actorvm
 * half of tests/guests/qemu-compare.sh. --backend kvm runs the VCPUs on KVM
 * (one shared VM), --irqchip kvm uses KVM's in-kernel irqchip; where this
 * host cannot, run_guest says why in one line and exits 77 (meson: skip).
 * --needs periodic-timer declares that the guest needs the local APIC's
 * periodic timer: with the in-kernel irqchip of a KVM whose periodic timer
 * stops (PVM, found by a probe), that is a skip too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e1000.h"
#include "kvm_vm.h"
#include "pc_machine.h"

#define TIMEOUT_NS     60000000000ll
#define STATUS_TIMEOUT 124
#define STATUS_SKIP    77

struct args {
	unsigned vcpus;
	enum vcpu_backend_kind backend;
	enum pc_irqchip irqchip;
	bool needs_periodic;
	int expect; /* -1: none */
	const char *elf, *cmdline;
	const char *prompt, *input;
};

/* --- The console: types the input once the prompt went by ---------------- */

struct console_config {
	const char *prompt, *input;
	avm_actor_id uart;
};

struct console {
	const struct console_config *cfg;
	size_t matched; /* prompt bytes matched so far */
	bool typed;
};

static int console_init(void *state, const void *config, avm_ctx *ctx)
{
	((struct console *)state)->cfg = config;
	return 0;
}

static void console_type(struct console *c, avm_ctx *ctx)
{
	struct avm_msg m = { .kind = AVM_MSG_CHAR };

	c->typed = true;
	if (!avm_msg_set_payload(&m, c->cfg->input, strlen(c->cfg->input)))
		avm_send_to(ctx, c->cfg->uart, &m);
}

static void console_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct console *c = state;
	const char *p = c->cfg->prompt;
	size_t len;
	const char *b = avm_msg_payload(m, &len);

	if (m->kind != AVM_MSG_CHAR || c->typed)
		return;
	/* A naive matcher is enough: prompts here repeat no prefix. */
	for (size_t i = 0; i < len && !c->typed; i++) {
		c->matched = b[i] == p[c->matched] ? c->matched + 1
			     : b[i] == p[0]	   ? 1
						   : 0;
		if (!p[c->matched])
			console_type(c, ctx);
	}
}

static const struct avm_device_ops console_ops = {
	.type = "console",
	.state_size = sizeof(struct console),
	.init = console_init,
	.handle = console_handle,
};

/* --backend, --irqchip and --needs; -1 for a bad value. */
static int parse_choice(struct args *a, const char *opt, const char *val)
{
	bool kvm = !strcmp(val, "kvm");

	if (!strcmp(opt, "--backend") && (kvm || !strcmp(val, "soft")))
		a->backend = kvm ? VCPU_BACKEND_KVM : VCPU_BACKEND_SOFT;
	else if (!strcmp(opt, "--irqchip") && (kvm || !strcmp(val, "user")))
		a->irqchip = kvm ? PC_IRQCHIP_KVM : PC_IRQCHIP_USER;
	else if (!strcmp(opt, "--needs") && !strcmp(val, "periodic-timer"))
		a->needs_periodic = true;
	else
		return -1;
	return 0;
}

static int parse(int argc, char **argv, struct args *a)
{
	int i = 1;

	*a = (struct args){ .vcpus = 1,
			    .expect = -1,
			    .backend = VCPU_BACKEND_SOFT,
			    .irqchip = PC_IRQCHIP_USER };
	for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (i + 1 >= argc)
			return -1;
		if (!strcmp(argv[i], "--vcpus"))
			a->vcpus = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--expect"))
			a->expect = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--input-after"))
			a->prompt = argv[i + 1];
		else if (!strcmp(argv[i], "--input"))
			a->input = argv[i + 1];
		else if (parse_choice(a, argv[i], argv[i + 1]))
			return -1;
	}
	if (i >= argc || argc - i > 2 || !a->vcpus || !a->prompt != !a->input ||
	    (a->irqchip == PC_IRQCHIP_KVM && a->backend != VCPU_BACKEND_KVM))
		return -1;
	a->elf = argv[i];
	a->cmdline = i + 1 < argc ? argv[i + 1] : NULL;
	return 0;
}

static int add_console(avm_runtime *rt, struct pc_machine *m,
		       const struct args *a)
{
	static struct console_config cc;
	struct avm_actor_spec s = { .ops = &console_ops,
				    .name = "console",
				    .config = &cc };
	avm_actor_id id;

	cc = (struct console_config){ .prompt = a->prompt,
				      .input = a->input,
				      .uart = m->com1 };
	return avm_actor_create(rt, &s, &id)
		       ?: avm_bind(rt, m->com1, "tx", id, 0);
}

static int boot(avm_runtime *rt, struct pc_machine *m, const struct args *a)
{
	static struct uart_config com1;
	struct pc_machine_config c = {
		.n_vcpus = a->vcpus,
		.image = a->elf,
		.cmdline = a->cmdline,
		.n_pci = 1,
		.pci = { { .name = "e1000", .ops = &e1000_ops, .slot = 3 } },
		.irqchip = a->irqchip,
	};
	char err[256] = "";
	int ret;

	/* COM1 is the guest's console on stdout; input comes, if at all,
	 * from the console actor, so the UART mirrors what it sends. */
	com1 = (struct uart_config){ .chr = { .kind = CHARDEV_STDIO,
					      .no_input = true },
				     .mirror_tx = a->input != NULL };
	c.com1 = &com1;
	for (unsigned i = 0; i < a->vcpus; i++)
		c.vcpu[i] = (struct pc_vcpu_spec){ .backend = a->backend };
	ret = pc_machine_build(rt, m, &c, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "run_guest: %s: %s\n", a->elf, err);
		return ret;
	}
	if (a->input && (ret = add_console(rt, m, a)))
		return ret;
	return avm_runtime_start(rt);
}

/* Whether this host can run what was asked; if not, say why. */
static bool host_can(const struct args *a)
{
	char why[160] = "";

	if (a->backend == VCPU_BACKEND_KVM &&
	    !vcpu_kvm_usable(why, sizeof(why)))
		fprintf(stderr, "SKIP: run_guest: KVM backend unusable (%s)\n",
			why);
	else if (a->irqchip == PC_IRQCHIP_KVM &&
		 !kvm_vm_irqchip_usable(why, sizeof(why)))
		fprintf(stderr, "SKIP: run_guest: no in-kernel irqchip (%s)\n",
			why);
	else if (a->irqchip == PC_IRQCHIP_KVM && a->needs_periodic &&
		 !kvm_periodic_timer_usable(why, sizeof(why)))
		fprintf(stderr,
			"SKIP: run_guest: guest needs the periodic LAPIC "
			"timer, "
			"but %s\n",
			why);
	else
		return true;
	return false;
}

int main(int argc, char **argv)
{
	static struct pc_machine m;
	struct args a;
	avm_runtime *rt;
	int code = STATUS_TIMEOUT, ret;

	if (parse(argc, argv, &a)) {
		fprintf(stderr,
			"usage: run_guest [--vcpus N] [--expect STATUS] "
			"[--input-after PROMPT --input TEXT] "
			"[--backend soft|kvm] [--irqchip user|kvm (needs "
			"--backend kvm)] [--needs periodic-timer] ELF "
			"[CMDLINE]\n");
		return 2;
	}
	if (!host_can(&a))
		return STATUS_SKIP;
	/* The read deadline is a hang guard: a VCPU read past it reads
	 * all-ones and would fail the guest for being slow. */
	if (avm_runtime_new(&(struct avm_runtime_config){ .read_deadline_ns =
								  TIMEOUT_NS },
			    &rt))
		return 1;
	ret = boot(rt, &m, &a);
	if (!ret && avm_runtime_wait_exit(rt, TIMEOUT_NS, &code))
		fprintf(stderr, "run_guest: %s: no exit in %lld s\n", a.elf,
			TIMEOUT_NS / 1000000000ll);
	avm_runtime_free(rt);
	if (ret)
		return 1;
	fflush(stdout);
	fprintf(stderr, "run_guest: %s: exit status %d\n", a.elf, code);
	if (a.expect >= 0)
		return code == a.expect ? 0 : 1;
	return code;
}
