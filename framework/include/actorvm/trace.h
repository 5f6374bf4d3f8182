/* SPDX-License-Identifier: MIT */
/**
 * DOC: tracing
 *
 * Every message can be traced: when it was posted, dequeued, handled and
 * answered, with actor ids, kind, address, value and correlation ids. The
 * recording threads (VCPUs, actors) append compact records to per-thread
 * lock-free rings; a writer thread drains them into a trace file of
 * length-delimited protobuf records (proto/trace.proto). A full ring never
 * blocks a recording thread: the event is dropped and counted, and the file
 * says how many were lost.
 *
 * File format: the 8 bytes "AVMTRACE", then TraceRecord messages each
 * preceded by its length as a base-128 varint: first a TraceHeader, then
 * events and loss records in the order the writer drained them (sorted by
 * time within one recording thread, not across threads), and a TraceFooter
 * when the trace was stopped cleanly.
 *
 * Tracing costs one relaxed load per event site while off.
 *
 * Journal: for the actors named in &avm_trace_options.journal, the trace
 * also holds every call between the actor and the framework, in full and
 * in the order it made them: each message it handled with its payload,
 * what each avm_now(), avm_dma_read() and avm_ram_block() returned (its
 * inputs), and each send, reply, DMA write, timer, watch, direct register
 * and route it made with the result it got (its outputs). That is what
 * `actorvm replay` (actorvm/replay.h) needs to re-run the actor alone. A
 * journal starts at the actor's init, so the trace must be started before
 * the runtime. Its entries share the per-thread rings with the events and
 * are numbered per actor: a full ring shows as a gap that replay reports.
 *
 * Threads and ownership: events are recorded, lock-free, by whichever
 * thread sends or handles a message (a VCPU, an actor's thread, a sender
 * running a handler in place); the writer thread (and, with @follow_url,
 * the nng publisher) belongs to the tracer. avm_trace_start(), _stop(),
 * _pause(), _filter() and _get_stats() may be called from any thread (one
 * mutex serialises them) but open, drain and write files and sockets
 * (avm_trace_stop() waits for the writer): call them from the runtime's
 * owner or a control thread, never from a handler. The options and the
 * strings they point to are read during the call only (the path is copied,
 * actor names are turned into ids). A reader (avm_trace_open()) is used by
 * one thread at a time, and nothing it returns outlives avm_trace_close().
 */
#ifndef ACTORVM_TRACE_H
#define ACTORVM_TRACE_H

#include <stdio.h>

#include <actorvm/runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/** AVM_TRACE_VERSION - format version written in the header. */
#define AVM_TRACE_VERSION 1
/** AVM_TRACE_MAGIC - the first 8 bytes of a trace file. */
#define AVM_TRACE_MAGIC "AVMTRACE"
/*
 * Kinds a trace holds beside the messages of enum avm_msg_kind: a device
 * process started (arg: its pid, value: restarts so far) or died (arg:
 * its pid, value: messages lost, status: its exit status or signal), as
 * a whole message to the actor (docs/isolation.md).
 */
#define AVM_TRACE_KIND_PROC_START 13
#define AVM_TRACE_KIND_PROC_EXIT  14

/** AVM_TRACE_SNAPLEN - payload bytes kept per frame or character event. */
#define AVM_TRACE_SNAPLEN 2048

/** enum avm_trace_type - what happened to a message (proto EventType). */
enum avm_trace_type {
	AVM_TRACE_POSTED = 1,	    /* queued for @actor, on the sender */
	AVM_TRACE_DEQUEUED = 2,	    /* taken from @actor's mailbox */
	AVM_TRACE_HANDLE_START = 3, /* @actor's handler starts */
	AVM_TRACE_HANDLE_END = 4,   /* and returns */
	AVM_TRACE_REPLY = 5,	    /* @actor answered request @corr */
};

/**
 * struct avm_trace_event - one event, as recorded and as read back.
 * @type: an &enum avm_trace_type.
 * @t_ns: nanoseconds since the trace started (virtual ns in the
 *   deterministic executor).
 * @actor: where it happened: the receiver (POSTED, DEQUEUED, HANDLE_*) or
 *   the replier (REPLY).
 * @src: the message's sender (%AVM_ACTOR_NONE for a VCPU or outside).
 * @thread: recording thread, numbered from 0 in order of first event.
 * @kind: &enum avm_msg_kind or a device kind.
 * @lane: mailbox lane.
 * @corr: the message's correlation id (for REPLY: the request's).
 * @cause: correlation id of the message whose handling sent this one
 *   (links an IRQ or a DMA to the access that caused it), or 0.
 * @arg, @addr, @value, @size, @status: the message's body, kind-blind:
 *   @arg its first word (irq.line, access.region, timer.id, fd.watch,
 *   frame.input, user.arg), @addr access.offset or user.addr, @value the
 *   written value, IRQ level, FD events, continuation or stream tag, DMA
 *   data, reply value or user.value; @size and @status as the body has
 *   them. (For a REPLY event: the request's, with @value the answer and
 *   @status its error.) The same mapping as before the bodies were typed:
 *   the recorded format did not change.
 * @payload_len: full payload length; @payload: its first bytes (at most
 *   %AVM_TRACE_SNAPLEN), for FRAME and CHAR messages at POSTED.
 * @in_place: DEQUEUED, HANDLE_START and HANDLE_END of a message the sender
 *   handled on its own thread (the threaded executor's fast path), which
 *   never waited in a mailbox; 0 otherwise.
 */
struct avm_trace_event {
	uint8_t type;
	uint8_t lane;
	uint8_t size;
	uint8_t in_place;
	uint16_t kind;
	uint32_t actor;
	uint32_t src;
	uint32_t thread;
	uint32_t arg;
	int32_t status;
	uint64_t t_ns;
	uint64_t corr;
	uint64_t cause;
	uint64_t addr;
	uint64_t value;
	uint32_t payload_len;
	const uint8_t *payload;
};

/** AVM_TRACE_ALL_KINDS - a kind mask that keeps every kind. */
#define AVM_TRACE_ALL_KINDS UINT64_MAX

/**
 * AVM_TRACE_KIND_BIT() - the bit of message kind @k in a kind mask. Device
 * kinds (>= %AVM_MSG_USER) share bit 63.
 */
#define AVM_TRACE_KIND_BIT(k) ((k) < 63 ? (1ull << (k)) : (1ull << 63))

/**
 * struct avm_trace_options - what to record and where.
 * @path: trace file to create (truncated if it exists).
 * @kinds: kind mask (%AVM_TRACE_KIND_BIT); 0 means all kinds.
 * @actors: names of the actors to record (NULL-terminated); NULL for all.
 *   An event is recorded when its @actor is selected.
 * @ring_bytes: per-thread ring size, rounded up to a power of two of at
 *   least 4 KiB (0: 1 MiB). A thread's first traced event allocates and
 *   pre-faults its ring (a one-time cost, ~0.1 ms per MiB); the thread keeps
 *   it for the runtime's lifetime, so the size applies to threads that had
 *   not traced yet.
 * @flush_ms: how often the writer drains the rings (default 10 ms).
 * @pin_writer: run the writer thread on CPU @writer_cpu (a warning if that
 *   is refused). On a machine with no spare core, keep the writer off the
 *   cores of spinning real-time actors and VCPUs.
 * @follow_url: if set, the writer also publishes every record on an nng
 *   PUB socket listening there (e.g. "ipc:///tmp/vm.trace"), for
 *   `actorvm trace follow`. Slow subscribers lose records, never the VM.
 * @journal: names of the actors to journal (NULL-terminated), or NULL.
 *   Only before avm_runtime_start() (-EBUSY after), and not for a
 *   self-driven actor (a VCPU: -EINVAL). Journaled actors are recorded
 *   whatever @actors and @kinds say. When set and @ring_bytes is 0, rings
 *   are %AVM_TRACE_JOURNAL_RING bytes.
 * @manifest, @manifest_len: the text the runtime was built from (a
 *   manifest), kept in the header for `actorvm replay`; may be NULL.
 * @manifest_path: where it was read from; @vm: which of its VMs this
 *   runtime is. Both may be NULL.
 */
struct avm_trace_options {
	const char *path;
	uint64_t kinds;
	const char *const *actors;
	size_t ring_bytes;
	unsigned flush_ms;
	bool pin_writer;
	int writer_cpu;
	const char *follow_url;
	const char *const *journal;
	const void *manifest;
	size_t manifest_len;
	const char *manifest_path;
	const char *vm;
};

/** AVM_TRACE_JOURNAL_DATA - data bytes a journal entry holds at most (a
 * larger DMA is lost from the journal, which replay reports as a gap). */
#define AVM_TRACE_JOURNAL_DATA (1u << 20)

/** AVM_TRACE_JOURNAL_RING - default ring size when a journal is recorded. */
#define AVM_TRACE_JOURNAL_RING (16u << 20)

/**
 * struct avm_trace_stats - counters of the current (or last) trace.
 * @recorded: events put in rings.
 * @dropped: events lost to full rings.
 * @written: events written to the file (flushed to it, once a write
 *	     failed: what the file holds at most).
 * @lost: events lost to write errors (a full disk): not in the file.
 * @write_error: the errno of the first write error, 0 if none.
 */
struct avm_trace_stats {
	uint64_t recorded;
	uint64_t dropped;
	uint64_t written;
	uint64_t lost;
	int write_error;
};

/**
 * avm_trace_start() - start recording @rt's messages into @opts->path.
 * Call after all actors are created (the header lists them). -EALREADY if a
 * trace runs, -ENOENT for an unknown actor name, -errno from the file.
 */
int avm_trace_start(avm_runtime *rt, const struct avm_trace_options *opts);

/**
 * avm_trace_stop() - stop recording, drain every ring, write the footer and
 * close the file. Safe to call when no trace runs. Returns 0, or the
 * negative errno of the first write error (logged when it happened, and
 * counted in &struct avm_trace_stats.lost).
 */
int avm_trace_stop(avm_runtime *rt);

/** avm_trace_pause() - stop/restart recording without closing the file. */
void avm_trace_pause(avm_runtime *rt, bool paused);

/**
 * avm_trace_filter() - change the record-time filter while tracing:
 * @kinds as in &struct avm_trace_options, @actors NULL for all.
 */
int avm_trace_filter(avm_runtime *rt, uint64_t kinds,
		     const char *const *actors);

/** avm_trace_stats() - counters of the current or last trace. */
void avm_trace_get_stats(avm_runtime *rt, struct avm_trace_stats *out);

/* --- Reading trace files -------------------------------------------------- */

typedef struct avm_trace_reader avm_trace_reader;

/**
 * struct avm_trace_actor - an entry of the header's actor table.
 */
struct avm_trace_actor {
	uint32_t id;
	const char *name;
	const char *type;
};

/**
 * struct avm_trace_info - what the header and footer say.
 * @version: format version.
 * @clock: "tsc", "monotonic" or "virtual".
 * @executor: which executor recorded it.
 * @start_ns: CLOCK_MONOTONIC at start (0 for virtual time).
 * @start_realtime_ns: wall-clock time (CLOCK_REALTIME) at start, 0 if
 *   unknown (virtual time, or a trace written without it).
 * @actors, @n_actors: the actor table.
 * @complete: a footer was found (the trace was stopped cleanly).
 * @footer_events, @footer_dropped: the footer's counts.
 * @lost: events lost, summed from loss records (journal entries
 *   included).
 * @journaled, @n_journaled: ids of the journaled actors.
 * @manifest, @manifest_len: the manifest text the header carries, or NULL.
 * @manifest_path, @vm: where it came from and the VM's name ("" if unset).
 */
struct avm_trace_info {
	uint32_t version;
	const char *clock;
	const char *executor;
	uint64_t start_ns;
	uint64_t start_realtime_ns;
	const struct avm_trace_actor *actors;
	unsigned n_actors;
	bool complete;
	uint64_t footer_events;
	uint64_t footer_dropped;
	uint64_t lost;
	const uint32_t *journaled;
	unsigned n_journaled;
	const uint8_t *manifest;
	size_t manifest_len;
	const char *manifest_path;
	const char *vm;
};

/**
 * enum avm_journal_type - one call of a journaled actor (proto JournalType).
 * Inputs: INIT, DELIVER, RESET (what the actor is given) and NOW, DMA_READ,
 * ROUTE_LEVEL, RAM_BLOCK (what a call returned to it). Outputs: the rest,
 * with the result each call returned (an input too). IO and IO_END frame
 * an avm_io() call: the entries between them are what its function did.
 */
enum avm_journal_type {
	AVM_J_INIT = 1,
	AVM_J_DELIVER = 2,
	AVM_J_RESET = 3,
	AVM_J_NOW = 4,
	AVM_J_DMA_READ = 5,
	AVM_J_ROUTE_LEVEL = 6,
	AVM_J_RAM_BLOCK = 7,
	AVM_J_SEND = 8,
	AVM_J_REPLY = 9,
	AVM_J_DMA_WRITE = 10,
	AVM_J_TIMER_ARM = 11,
	AVM_J_TIMER_CANCEL = 12,
	AVM_J_FD_WATCH = 13,
	AVM_J_FD_UNWATCH = 14,
	AVM_J_DIRECT = 15,
	AVM_J_ROUTE_SET = 16,
	AVM_J_ROUTE_CLEAR = 17,
	AVM_J_VM_EXIT = 18,
	AVM_J_IO = 19,
	AVM_J_IO_END = 20,
	AVM_J_TYPE_MAX = 20,
};

/** AVM_J_REQUEST - &avm_journal_entry.flags of a DELIVER: a request. */
#define AVM_J_REQUEST 0x1
/** AVM_J_BOUND - flags of a SEND through a port: its @arg is the binding's. */
#define AVM_J_BOUND 0x2

/**
 * struct avm_journal_entry - one journaled call, as recorded and read back.
 * @type: an &enum avm_journal_type.
 * @seq: its number in the actor's journal, from 0 without gaps.
 * @actor: the journaled actor; @thread: the recording thread.
 * @t_ns: when (as &avm_trace_event.t_ns).
 * @kind, @src, @corr, @cause, @flags: DELIVER and SEND: the message's
 *   kind, sender, ids (%AVM_J_REQUEST: answered with a REPLY).
 * @dst: SEND: the receiver when named (avm_send_to(), avm_continue()),
 *   else %AVM_ACTOR_NONE (a port's binding).
 * @port: SEND: the port, -1 for none; ROUTE_SET: the port @via.
 * @arg, @size, @status, @addr, @value: DELIVER, SEND: the body, kind-blind
 *   as in &struct avm_trace_event; other types: see &enum
 *   avm_journal_type in proto/trace.proto.
 * @result: what the call returned.
 * @data, @data_len: the payload or the DMA bytes, in full.
 */
struct avm_journal_entry {
	uint8_t type;
	uint16_t kind;
	uint32_t actor;
	uint32_t thread;
	uint32_t src;
	uint32_t dst;
	int32_t port;
	uint32_t arg;
	uint32_t size;
	int32_t status;
	int32_t result;
	uint32_t flags;
	uint64_t seq;
	uint64_t t_ns;
	uint64_t corr;
	uint64_t cause;
	uint64_t addr;
	uint64_t value;
	uint32_t data_len;
	const uint8_t *data;
};

/**
 * avm_trace_open() - open a trace file and read its header.
 * On error returns -errno (-EINVAL: not a trace file or bad header,
 * -EPROTONOSUPPORT: another format version) and, if @err is not NULL,
 * writes a message naming the file and the byte offset into @err.
 */
int avm_trace_open(const char *path, avm_trace_reader **out, char *err,
		   size_t err_len);

/**
 * avm_trace_next() - the next event, in file order. Returns 1 with *@ev
 * filled (pointers valid until the next call), 0 at the end of the file,
 * or -EINVAL for a truncated or corrupted record (message in @err, with
 * the file name and offset). Loss and footer records are accounted in
 * avm_trace_info() and skipped.
 */
int avm_trace_next(avm_trace_reader *r, struct avm_trace_event *ev, char *err,
		   size_t err_len);

/**
 * avm_trace_next_journal() - the next journal entry, in file order (each
 * actor's entries in order of @seq within one recording thread; sort by
 * @seq to merge threads). Returns 1, 0 at the end, or -EINVAL as
 * avm_trace_next(). Use one of the two iterators per reader.
 */
int avm_trace_next_journal(avm_trace_reader *r, struct avm_journal_entry *je,
			   char *err, size_t err_len);

/**
 * avm_trace_next_raw() - the next record of any kind (header excepted) as
 * it is encoded in the file (a TraceRecord, without its length prefix),
 * after the same checks as avm_trace_next(); valid until the next call.
 * For tools that copy records (`actorvm trace cut`). Returns as
 * avm_trace_next().
 */
int avm_trace_next_raw(avm_trace_reader *r, const void **rec, size_t *len,
		       char *err, size_t err_len);

/** avm_trace_header_raw() - the header record as encoded, as above. */
void avm_trace_header_raw(avm_trace_reader *r, const void **rec, size_t *len);

/** avm_journal_type_name() - "deliver", "send", ... ("?" if unknown). */
const char *avm_journal_type_name(unsigned type);

/** avm_trace_info() - header (and, once read, footer) information. */
const struct avm_trace_info *avm_trace_info(avm_trace_reader *r);

/** avm_trace_actor_name() - name of actor @id, or NULL. */
const char *avm_trace_actor_name(avm_trace_reader *r, uint32_t id);

/** avm_trace_close() - close the reader. */
void avm_trace_close(avm_trace_reader *r);

/** avm_trace_type_name() - "posted", "dequeued", ... ("?" if unknown). */
const char *avm_trace_type_name(unsigned type);

/** avm_msg_kind_name() - "read", "write", "irq", ... or "user+N". */
const char *avm_msg_kind_name(unsigned kind, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* ACTORVM_TRACE_H */
