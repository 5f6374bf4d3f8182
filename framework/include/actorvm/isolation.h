/* SPDX-License-Identifier: MIT */
/**
 * DOC: device actors in processes of their own
 *
 * An actor created with &struct avm_isolation.process set runs in a child
 * process of the VMM: a device process. It enters the sandbox of
 * actorvm/sandbox.h before its init, and talks to the VMM only through
 * shared memory: a ring of messages in, a ring of effects out, a reply
 * cell, and guest RAM (a memfd mapped by both). Nothing changes for the
 * guest or for the other actors: the actor keeps its id, its regions and
 * ports, and traces show its messages as before, plus "proc-start" and
 * "proc-exit" events.
 *
 * When the process dies (a crash, a call the sandbox forbids, a kill, a
 * read it never answers), its supervisor in the VMM answers the read in
 * flight with all-ones at once, counts the queued messages as lost, lowers
 * the IRQ lines the device held, and applies the policy (docs/isolation.md).
 */
#ifndef ACTORVM_ISOLATION_H
#define ACTORVM_ISOLATION_H

#include <stdbool.h>
#include <stdint.h>

#include <actorvm/actor.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum avm_on_failure - what the supervisor does when a device process dies.
 * @AVM_ON_FAILURE_RESTART: start a new process; the device comes back in
 *   its power-on state (a function-level reset and a link flap, as the
 *   guest sees it). Past the restart limit this becomes STOP_VM.
 * @AVM_ON_FAILURE_STOP_VM: stop the VM: avm_runtime_wait_exit() returns
 *   %AVM_VM_EXIT_DEVICE_FAILED.
 * @AVM_ON_FAILURE_REMOVE: the device is gone, as after a surprise removal:
 *   reads answer all-ones, writes and other messages are dropped.
 */
enum avm_on_failure {
	AVM_ON_FAILURE_RESTART = 0,
	AVM_ON_FAILURE_STOP_VM,
	AVM_ON_FAILURE_REMOVE,
};

/*
 * The exit code of a VM stopped by a device process's death under the
 * stop-vm policy (or past its restart limit). Even, like
 * %AVM_VM_EXIT_FAILED, so no guest verdict ((V << 1) | 1) is mistaken for it.
 */
#define AVM_VM_EXIT_DEVICE_FAILED (-4)

/** AVM_ISO_DEFAULT_MAX_RESTARTS - restarts allowed per window by default. */
#define AVM_ISO_DEFAULT_MAX_RESTARTS 5
/** AVM_ISO_DEFAULT_WINDOW_NS - the default window: 10 s. */
#define AVM_ISO_DEFAULT_WINDOW_NS 10000000000ull

/**
 * struct avm_isolation - where an actor runs (in &struct avm_actor_spec).
 * @process: in a device process of its own (false: in the VMM's process).
 * @on_failure: the policy when that process dies.
 * @max_restarts: RESTART: more than this many restarts within @window_ns
 *   escalate to STOP_VM (0: %AVM_ISO_DEFAULT_MAX_RESTARTS).
 * @window_ns: the window (0: %AVM_ISO_DEFAULT_WINDOW_NS).
 * @no_namespaces: do not try new namespaces (the rest of the sandbox
 *   stays).
 *
 * Only the threaded executor runs device processes, and only actors that
 * neither run on their own (ops->run), watch descriptors, do outside I/O
 * (avm_io) nor route IRQs of others (avm_route_set): a device, not a CPU,
 * a backend or an interrupt controller. Those calls fail with -EPERM in a
 * device process. Direct registers are read through the process (no
 * bypass), and journals are refused.
 */
struct avm_isolation {
	bool process;
	enum avm_on_failure on_failure;
	unsigned max_restarts;
	uint64_t window_ns;
	bool no_namespaces;
};

/**
 * enum avm_process_state - a device process as its supervisor sees it.
 */
enum avm_process_state {
	AVM_PROC_NONE = 0, /* not isolated, or not started */
	AVM_PROC_RUNNING,
	AVM_PROC_DEAD,	  /* died; no restart (stop-vm, or stopping) */
	AVM_PROC_REMOVED, /* died under the remove policy */
};

/**
 * struct avm_process_info - one device process, for `actorvm ctl`.
 * @state: an &enum avm_process_state.
 * @pid: the current (or last) process, 0 if none ever ran.
 * @restarts: processes started after the first.
 * @lost: messages queued for a process when it died, dropped.
 * @policy: the actor's &enum avm_on_failure.
 * @last_exit: why the last process ended ("" if none did), e.g. "killed by
 *   signal 9 (Killed)" or "the sandbox stopped it: it called openat".
 * @sandbox: what the sandbox did in the current process, e.g. "seccomp,
 *   no-new-privs, caps dropped, namespaces net+ipc+uts+mnt".
 */
struct avm_process_info {
	enum avm_process_state state;
	int pid;
	unsigned restarts;
	uint64_t lost;
	enum avm_on_failure policy;
	char last_exit[128];
	char sandbox[160];
};

/**
 * avm_actor_process() - the device process of actor @id, from any thread.
 *
 * Return: 0, -ENOENT for no such actor, -ESRCH for an actor that is not
 * isolated.
 */
int avm_actor_process(struct avm_runtime *rt, avm_actor_id id,
		      struct avm_process_info *out);

/** avm_on_failure_name() - "restart", "stop-vm", "remove". */
const char *avm_on_failure_name(enum avm_on_failure p);

#ifdef __cplusplus
}
#endif

#endif /* ACTORVM_ISOLATION_H */
