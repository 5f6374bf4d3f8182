/* SPDX-License-Identifier: MIT */
/*
 * One VM of a pair: actorvm's PC machine (software CPU, 64 MiB) with an
 * e1000 at 00:03.0 whose "net" port goes to an nng "wire", and COM1's
 * output turned into lines prefixed with the VM's name. Used by run_pair
 * (the pingpong guests on two VMs) and by bench/e1000_bench.c.
 */
#ifndef PAIR_VM_H
#define PAIR_VM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "e1000.h"
#include "netdev.h"
#include "pc_machine.h"

#define PAIR_VM_SLOT 3 /* where QEMU's pc puts its e1000: IOAPIC pin 11 */
#define PAIR_COUNTS  4 /* kinds of lines a console can count */

/*
 * struct pair_console_config - what the console does with COM1's lines.
 * @prefix: printed before each line ("ping"); @quiet: print nothing.
 * @mark: a line starting with it stores the monotonic time in @mark_ns.
 * @count: lines containing @count[i] add one to @counted[i].
 */
struct pair_console_config {
	const char *prefix;
	bool quiet;
	const char *mark;
	_Atomic uint64_t mark_ns;
	const char *count[PAIR_COUNTS];
	_Atomic unsigned counted[PAIR_COUNTS];
};

struct pair_vm {
	avm_runtime *rt;
	struct pc_machine m;
	struct e1000_config nic;
	struct wire_config wire;
	struct uart_config com1;
	struct pair_console_config console;
	avm_actor_id wire_id, console_id;
	bool nic_isolated; /* set before start: the NIC in a device process */
};

/*
 * pair_vm_start() - build and start VM @name booting @elf with @cmdline,
 * its wire on @url (listening if @listen), MAC 52:54:00:12:34:@mac_last.
 * Returns 0 or a negative errno (the reason printed on stderr).
 */
int pair_vm_start(struct pair_vm *v, const char *name, const char *elf,
		  const char *cmdline, const char *url, bool listen,
		  uint8_t mac_last);

/*
 * pair_vm_wait() - wait until the guest exits or the monotonic clock
 * passes @deadline_ns (0: no deadline). Returns its QEMU-style status (33
 * success, 35 failure) or 124 on timeout.
 */
int pair_vm_wait(struct pair_vm *v, uint64_t deadline_ns);

/* pair_vm_exited() - whether the guest has exited (it stays so). */
bool pair_vm_exited(struct pair_vm *v);

void pair_vm_free(struct pair_vm *v);

uint64_t pair_now_ns(void);

#endif /* PAIR_VM_H */
