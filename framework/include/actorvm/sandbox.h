/* SPDX-License-Identifier: MIT */
/**
 * DOC: sandbox - what a device process gives up before it runs a handler
 *
 * The first step towards device actors in their own processes
 * (docs/isolation.md): a process that calls avm_sandbox_enter() keeps only
 * the descriptors it was told to keep, can never gain privileges again
 * (no-new-privileges), holds no capabilities, sits in new namespaces where
 * the host allows it, and from then on may make only the system calls a
 * handler needs (a seccomp allow-list, built with libseccomp): reading and
 * writing the descriptors it kept, memory, futexes, clocks, waiting. It may
 * not open, create sockets, execute, fork or signal other processes.
 *
 * A call outside the list ends the process at once. With a report
 * descriptor it first writes which call it was (&struct avm_sandbox_trap),
 * so that whoever supervises it can name the cause; without one the kernel
 * kills it with SIGSYS.
 *
 * Only for a process of its own (a forked child): the steps cannot be
 * undone, and they apply to every thread the process will create. Call it
 * from a single-threaded process.
 */
#ifndef ACTORVM_SANDBOX_H
#define ACTORVM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** AVM_SANDBOX_EXIT_TRAPPED - exit status of a process that broke the list. */
#define AVM_SANDBOX_EXIT_TRAPPED 159

/** AVM_SANDBOX_TRAP_MAGIC - first word of a &struct avm_sandbox_trap. */
#define AVM_SANDBOX_TRAP_MAGIC 0x70617274u /* "trap" */

/**
 * struct avm_sandbox_trap - what a trapped process writes to its report
 * descriptor before it exits with %AVM_SANDBOX_EXIT_TRAPPED.
 * @magic: %AVM_SANDBOX_TRAP_MAGIC.
 * @nr: the system call's number (this architecture's).
 */
struct avm_sandbox_trap {
	uint32_t magic;
	int32_t nr;
};

/**
 * struct avm_sandbox_opts - what the process keeps.
 * @keep, @n_keep: descriptors to keep open; every other one is closed
 *   (standard input, output and error included, unless listed).
 * @report_fd: where a trapped call is reported (kept open too), or -1.
 * @namespaces: try to enter new user, network, IPC, UTS and mount
 *   namespaces (the host may refuse: &avm_sandbox_report says which).
 */
struct avm_sandbox_opts {
	const int *keep;
	unsigned n_keep;
	int report_fd;
	bool namespaces;
};

/**
 * struct avm_sandbox_report - what avm_sandbox_enter() did.
 * @fds_closed: descriptors it closed.
 * @no_new_privs: PR_SET_NO_NEW_PRIVS is set.
 * @caps_dropped: no capability is left (effective, permitted, inheritable,
 *   bounding, ambient).
 * @namespaces: the CLONE_NEW* bits of the namespaces entered.
 * @ns_why: why some were not ("" when all were, or none was asked for).
 * @seccomp: the allow-list is in force.
 */
struct avm_sandbox_report {
	unsigned fds_closed;
	bool no_new_privs;
	bool caps_dropped;
	unsigned long namespaces;
	char ns_why[128];
	bool seccomp;
};

/**
 * avm_sandbox_enter() - give up everything but @o allows, then install the
 * allow-list. Returns 0, or a negative errno from the step that failed
 * (the process is then partly confined: end it). Namespaces the host
 * refuses are not a failure: @r says so.
 */
int avm_sandbox_enter(const struct avm_sandbox_opts *o,
		      struct avm_sandbox_report *r);

/**
 * avm_sandbox_syscall_name() - the name of system call @nr on this
 * architecture ("openat"), into @buf; "syscall N" when unknown.
 */
const char *avm_sandbox_syscall_name(int nr, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* ACTORVM_SANDBOX_H */
