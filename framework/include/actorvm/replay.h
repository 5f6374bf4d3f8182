/* SPDX-License-Identifier: MIT */
/**
 * DOC: replaying one actor from a trace
 *
 * A trace recorded with a journal for an actor (&avm_trace_options.journal,
 * `actorvm run --journal NAME`) holds everything that actor was given and
 * everything it did, call by call. Replay builds that actor alone in a
 * deterministic runtime, with the same ops and config, and hands it the
 * recorded inputs in their recorded order: its init, each message with its
 * payload, what every avm_now(), avm_dma_read(), avm_route_level() and
 * avm_ram_block() returned, and the result of every call it made. Each call
 * it makes is compared with the recorded one; nothing leaves the replay (no
 * send is delivered, no DMA touches memory, no timer is armed). The first
 * call that differs (another call, other arguments, other data, a call
 * missing or extra) is a divergence, reported with the message it happened
 * in and the inputs before it.
 *
 * What replay cannot see: state an actor reaches outside &avm_ctx (a
 * descriptor it reads, the runtime it gets from avm_runtime_of()), and the
 * host address avm_ram_block() gives (NULL in a replay). The actors of the
 * tree that read descriptors (chardev, tap, wire) or drive a CPU (vcpu)
 * are therefore not replayable; docs/tracing.md lists which are.
 *
 * Ids: the replayed actor keeps its recorded id (the actors before it are
 * named placeholders that ignore what they get), so ids it kept from a
 * message compare equal.
 *
 * A journal and a replay are used by one thread; a journal may be replayed
 * any number of times, each run from the actor's power-on state.
 */
#ifndef ACTORVM_REPLAY_H
#define ACTORVM_REPLAY_H

#include <actorvm/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/** typedef avm_journal - one actor's journal, loaded from a trace. */
typedef struct avm_journal avm_journal;

/**
 * struct avm_journal_info - what a loaded journal holds.
 * @actor, @type: the actor's name and recorded type.
 * @id: its recorded id.
 * @entries: journal entries kept; @messages: inputs among them (init
 *   excluded: messages and resets).
 * @cut: the journal ends before the run did; @cut_why says why (a gap
 *   where a full ring lost entries, a trace that was not stopped cleanly).
 *   What is kept ends before the message that was cut.
 */
struct avm_journal_info {
	const char *actor;
	const char *type;
	uint32_t id;
	uint64_t entries;
	uint64_t messages;
	bool cut;
	const char *cut_why;
};

/**
 * avm_journal_load() - load @actor's journal from the trace at @path.
 * Returns 0, or -errno with a message in @err: -ENOENT no such actor, -ENODATA
 * the actor was not journaled, -EINVAL a corrupted, truncated or foreign
 * file or a journal that does not start at the actor's init, -ENOMEM.
 */
int avm_journal_load(const char *path, const char *actor, avm_journal **out,
		     char *err, size_t err_len);

/** avm_journal_free() - release a journal. NULL is a no-op. */
void avm_journal_free(avm_journal *j);

/** avm_journal_get_info() - what @j holds (valid while @j lives). */
const struct avm_journal_info *avm_journal_get_info(const avm_journal *j);

/** avm_journal_entry() - entry @i of @j (0 .. entries-1), or NULL. */
const struct avm_journal_entry *avm_journal_entry(const avm_journal *j,
						  uint64_t i);

/**
 * avm_journal_entry_format() - one line describing @e ("deliver write
 * region=0 addr=0x3818 size=4 value=0x5 ..."), into @buf.
 */
const char *avm_journal_entry_format(const struct avm_journal_entry *e,
				     char *buf, size_t len);

/**
 * struct avm_replay_opts - how to replay. Zero means default.
 * @ops: the device type to run (required): the recorded one, or a build of
 *   it under test.
 * @config: passed to @ops->init; must be what the recorded run used.
 * @until: stop before message @until (numbered from 1); 0: replay all.
 * @context: inputs listed before a divergence (0: 5).
 * @log_level: the replay runtime's log level (0: errors only).
 */
struct avm_replay_opts {
	const struct avm_device_ops *ops;
	const void *config;
	uint64_t until;
	unsigned context;
	int log_level;
};

/** AVM_REPLAY_REPORT - bytes of &avm_replay_result.report. */
#define AVM_REPLAY_REPORT 4096

/**
 * struct avm_replay_result - what a replay found.
 * @messages: messages delivered (resets included).
 * @entries: journal entries consumed.
 * @diverged: a call differed from the recording.
 * @at_message: the message (from 1; 0: init) in whose handling it did.
 * @at_seq: the journal entry where it did.
 * @report: "replayed N messages, outputs identical", or the divergence:
 *   the message, expected and actual call, and the inputs before it.
 */
struct avm_replay_result {
	uint64_t messages;
	uint64_t entries;
	bool diverged;
	uint64_t at_message;
	uint64_t at_seq;
	char report[AVM_REPLAY_REPORT];
};

/**
 * avm_replay_run() - replay @j with @o into @res. Returns 0 when the replay
 * ran (identical or not: see @res->diverged), -EINVAL without @o->ops or
 * handle, -ENOTSUP for a self-driven type (ops->run), -ENOMEM.
 */
int avm_replay_run(const avm_journal *j, const struct avm_replay_opts *o,
		   struct avm_replay_result *res);

#ifdef __cplusplus
}
#endif
#endif /* ACTORVM_REPLAY_H */
