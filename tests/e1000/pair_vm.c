// SPDX-License-Identifier: MIT
#include "pair_vm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LINE_MAX_LEN   240
#define STATUS_TIMEOUT 124

/* --- The console: COM1's transmitted bytes, a line at a time ------------- */

struct console {
	struct pair_console_config *cfg;
	size_t len;
	char line[LINE_MAX_LEN + 1];
};

uint64_t pair_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int console_init(void *state, const void *config, avm_ctx *ctx)
{
	/* The config is the VM's own block: the mark is written back. */
	((struct console *)state)->cfg = (struct pair_console_config *)config;
	return 0;
}

static void console_line(struct console *c)
{
	const char *mark = c->cfg->mark;

	c->line[c->len] = '\0';
	if (mark && !strncmp(c->line, mark, strlen(mark)))
		atomic_store(&c->cfg->mark_ns, pair_now_ns());
	if (!c->cfg->quiet)
		printf("[%s] %s\n", c->cfg->prefix, c->line);
	/* After the line: what a waiter prints then comes after it. */
	for (int i = 0; i < PAIR_COUNTS; i++) {
		if (c->cfg->count[i] && strstr(c->line, c->cfg->count[i]))
			atomic_fetch_add(&c->cfg->counted[i], 1);
	}
	c->len = 0;
}

static void console_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct console *c = state;
	size_t len;
	const char *b = avm_msg_payload(m, &len);

	if (m->kind != AVM_MSG_CHAR)
		return;
	for (size_t i = 0; i < len; i++) {
		if (b[i] == '\r')
			continue;
		if (b[i] == '\n' || c->len == LINE_MAX_LEN)
			console_line(c);
		if (b[i] != '\n')
			c->line[c->len++] = b[i];
	}
}

static const struct avm_device_ops console_ops = {
	.type = "pair-console",
	.state_size = sizeof(struct console),
	.init = console_init,
	.handle = console_handle,
};

/* --- Building one VM ------------------------------------------------------ */

static int build_machine(struct pair_vm *v, const char *elf,
			 const char *cmdline, char *err, size_t err_len)
{
	struct pc_machine_config c = {
		.image = elf,
		.cmdline = cmdline,
		.com1 = &v->com1,
		.n_pci = 1,
		.pci = { { .name = "e1000",
			   .ops = &e1000_ops,
			   .config = &v->nic,
			   .slot = PAIR_VM_SLOT,
			   .place.isolation.process = v->nic_isolated } },
		.vcpu = { { .backend = VCPU_BACKEND_SOFT } },
	};

	return pc_machine_build(v->rt, &v->m, &c, err, err_len);
}

/* The console comes first: stop runs in reverse creation order, so it
 * outlives the UART and still prints the guest's last line. */
static int add_console(struct pair_vm *v)
{
	struct avm_actor_spec c = { .ops = &console_ops,
				    .name = "console",
				    .config = &v->console };

	return avm_actor_create(v->rt, &c, &v->console_id);
}

/* The wire beside the machine; e1000 <-> wire both ways. */
static int add_wire(struct pair_vm *v)
{
	struct avm_actor_spec w = { .ops = &wire_ops,
				    .name = "wire",
				    .config = &v->wire };
	avm_actor_id nic = v->m.pci[0];

	return avm_actor_create(v->rt, &w, &v->wire_id)
		       ?: avm_bind(v->rt, nic, "net", v->wire_id, 0)
		       ?: avm_bind(v->rt, v->wire_id, "nic", nic, 0)
		       ?: avm_bind(v->rt, v->m.com1, "tx", v->console_id, 0);
}

static void configure(struct pair_vm *v, const char *name, const char *url,
		      bool listen, uint8_t mac_last)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0 };

	memcpy(v->nic.mac, mac, sizeof(mac));
	v->nic.mac[5] = mac_last;
	/* No carrier until the wire has a peer; then autonegotiation in 1 ms
	 * rather than 500, which only delays the test. */
	v->nic.link_down = true;
	v->nic.autoneg_ns = 1000000;
	v->wire = (struct wire_config){ .url = url, .listen = listen };
	v->com1 = (struct uart_config){ .mirror_tx = true };
	v->console.prefix = name;
}

int pair_vm_start(struct pair_vm *v, const char *name, const char *elf,
		  const char *cmdline, const char *url, bool listen,
		  uint8_t mac_last)
{
	/* A VCPU read past the deadline reads all-ones: the guest would
	 * fail for being slow. The deadline is a hang guard (60 s), far
	 * beyond what TSan on a loaded machine needs. */
	struct avm_runtime_config rc = { .exec = AVM_EXEC_THREADED,
					 .log_level = AVM_LOG_WARN,
					 .read_deadline_ns = 60000000000ull };
	char err[256] = "";
	int ret;

	configure(v, name, url, listen, mac_last);
	ret = avm_runtime_new(&rc, &v->rt);
	if (ret)
		return ret;
	ret = add_console(v);
	if (!ret)
		ret = build_machine(v, elf, cmdline, err, sizeof(err));
	if (!ret)
		ret = add_wire(v);
	if (!ret)
		ret = avm_runtime_start(v->rt);
	if (ret)
		fprintf(stderr, "pair_vm: %s: %s (%s)\n", name,
			err[0] ? err : "cannot build the VM", strerror(-ret));
	return ret;
}

int pair_vm_wait(struct pair_vm *v, uint64_t deadline_ns)
{
	uint64_t now = pair_now_ns();
	int64_t left = -1; /* no deadline: until the guest exits */
	int code = STATUS_TIMEOUT;

	if (deadline_ns)
		left = now < deadline_ns ? (int64_t)(deadline_ns - now) : 0;
	if (avm_runtime_wait_exit(v->rt, left, &code))
		return STATUS_TIMEOUT;
	return code;
}

bool pair_vm_exited(struct pair_vm *v)
{
	return !avm_runtime_wait_exit(v->rt, 0, NULL);
}

void pair_vm_free(struct pair_vm *v)
{
	if (v->rt)
		avm_runtime_free(v->rt);
	v->rt = NULL;
}
