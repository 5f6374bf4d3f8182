/* SPDX-License-Identifier: MIT */
/**
 * DOC: actorvm device API
 *
 * A device model is a const &struct avm_device_ops table plus a state struct
 * of ops->state_size bytes that the framework allocates and owns. The model is
 * a state machine: ops->handle(state, msg, ctx) is called for each message in
 * the actor's mailbox, one at a time, always on the same thread for a given
 * instance (the executor decides which thread). The &avm_ctx passed to every
 * callback is the only way out: reply, send, raise an IRQ, DMA, arm a timer,
 * watch a file descriptor, publish a direct register, post a continuation.
 *
 * Threading contract: every callback of one instance runs on one thread at a
 * time and never concurrently with itself (nor with another callback of the
 * same instance), and each sees every write the previous one made to the
 * state. It is NOT always the same thread:
 *
 * - threaded executor: init, fini and run on the actor's server thread;
 *   handle and reset on the server thread, or, on the fast path (an idle
 *   actor not marked &avm_device_ops.own_thread), on the SENDER's thread:
 *   a VCPU, another actor's thread, a test (docs/framework.md, "The fast
 *   path"). Timer and fd events always come on the server thread.
 * - biglock executor: every callback runs under the one global lock, on the
 *   thread that caused it (a VCPU's, the iothread for timers and fds, the
 *   caller of avm_runtime_start()/avm_runtime_stop() for init/fini); a
 *   self-driven actor's init, run and fini run on its own thread.
 * - deterministic executor: on the thread calling avm_det_step() and co.
 *
 * So a callback must not use thread-local storage, its thread's identity or
 * its thread's scheduling attributes, and must not block: no sleep, no lock
 * that another thread may hold for long, no blocking I/O (descriptors are
 * non-blocking and watched with avm_fd_watch()), no waiting on another actor
 * (a synchronous request from a handler may fail with -EDEADLK instead).
 * Whoever runs the handler waits for it. Long work is cut into chunks with
 * avm_continue(). A type whose handlers hand data to something that may wait
 * or wake other threads (a file, an nng socket) sets own_thread.
 *
 * Lifetimes:
 *
 * - the state (ops->state_size bytes, zeroed) is owned by the framework,
 *   from avm_actor_create() to avm_runtime_free(); only the instance's
 *   callbacks touch it (a self-driven actor's kick through its own @arg).
 * - an &avm_ctx is a per-callback object on the caller's stack: valid during
 *   the one init, handle, reset or run call it was given to, and never
 *   after. Do not keep it in the state or hand it to another thread; pass it
 *   down the call chain instead (a pointer set on entry and cleared on
 *   return is fine, see actors/vcpu/vcpu.c).
 * - the message given to handle(), and its payload (avm_msg_payload()), are
 *   the framework's and valid until handle() returns: copy what you keep.
 * - a message passed to a send function is copied; its payload is consumed
 *   (see avm_send()).
 *
 * Errors: every function that can fail returns 0 or a negative errno value.
 * The avm_* functions taking a ctx may be called only from inside the
 * callback that ctx was given to, on its thread.
 */
#ifndef ACTORVM_ACTOR_H
#define ACTORVM_ACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** typedef avm_actor_id - index of an actor in its runtime. */
typedef uint32_t avm_actor_id;

/** AVM_ACTOR_NONE - "no actor": an unbound port, or a sender outside the VM. */
#define AVM_ACTOR_NONE UINT32_MAX

/** AVM_MAX_TIMERS - timers per actor instance (ids 0 .. AVM_MAX_TIMERS-1). */
#define AVM_MAX_TIMERS 8
/** AVM_MAX_WATCHES - file-descriptor watches per actor instance. */
#define AVM_MAX_WATCHES 4
/** AVM_MAX_DIRECT - direct (side-effect-free) register slots per actor. */
#define AVM_MAX_DIRECT 16
/** AVM_MSG_INLINE - payload bytes carried inside the envelope. */
#define AVM_MSG_INLINE 32
/** AVM_MSG_MAX_PAYLOAD - largest payload a message may carry (a jumbo frame).
 */
#define AVM_MSG_MAX_PAYLOAD 16384

/**
 * enum avm_space - which address space a region lives in.
 * @AVM_SPACE_MMIO: guest-physical memory-mapped I/O.
 * @AVM_SPACE_PIO:  x86 port I/O (16-bit port numbers).
 */
enum avm_space { AVM_SPACE_MMIO = 0, AVM_SPACE_PIO = 1, AVM_SPACE_COUNT };

/**
 * enum avm_msg_kind - what a message means, and which body member of
 * &struct avm_msg it fills.
 * @AVM_MSG_NONE: not a message (a zeroed envelope).
 * @AVM_MSG_READ: a guest read, body @access (@value unused). The handler
 *   must answer with avm_reply() (an unanswered read is answered -EIO).
 * @AVM_MSG_WRITE: a posted guest write, body @access. No reply.
 * @AVM_MSG_IRQ: an interrupt line changed, body @irq.
 * @AVM_MSG_DMA_DONE: completion of a deferred avm_dma_read(), body @dma.
 * @AVM_MSG_FRAME: a network frame in the payload, body @frame.
 * @AVM_MSG_CHAR: character data in the payload, body @chars.
 * @AVM_MSG_TIMER: a timer expired, body @timer.
 * @AVM_MSG_FD: a watched descriptor is ready, body @fd.
 * @AVM_MSG_CONTINUE: a continuation posted by the actor itself, body @cont.
 * @AVM_MSG_RESET: control: the framework calls ops->reset for it; it never
 *   reaches ops->handle.
 * @AVM_MSG_REPLY: the answer to a request this actor made with avm_ask(),
 *   body @reply. (Where messages cross a process boundary it is also the
 *   answer to a remote request: see actorvm/wire.h.)
 * @AVM_MSG_CONTROL_USER: first kind for device-specific *control* messages
 *   (up to 0xff; e.g. a VCPU's pause/resume): they travel on the control
 *   lane, ahead of guest accesses and background work. Body @user.
 * @AVM_MSG_USER: first kind free for device-specific messages, body @user.
 *
 * The numbers are recorded in traces and never change. 11 is the
 * framework's own (stopping an actor): no device ever sees it, and a send
 * of it (from a device, avm_post() or avm_request()) is refused -EINVAL.
 */
enum avm_msg_kind {
	AVM_MSG_NONE = 0,
	AVM_MSG_READ = 1,
	AVM_MSG_WRITE = 2,
	AVM_MSG_IRQ = 3,
	AVM_MSG_DMA_DONE = 4,
	AVM_MSG_FRAME = 5,
	AVM_MSG_CHAR = 6,
	AVM_MSG_TIMER = 7,
	AVM_MSG_FD = 8,
	AVM_MSG_CONTINUE = 9,
	AVM_MSG_RESET = 10,
	AVM_MSG_REPLY = 12,
	AVM_MSG_CONTROL_USER = 0x80,
	AVM_MSG_USER = 0x100,
};

/** AVM_FD_READ, AVM_FD_WRITE - readiness bits for avm_fd_watch(). */
#define AVM_FD_READ  0x1
#define AVM_FD_WRITE 0x2

/*
 * The message bodies, one per kind. Each begins with a 32-bit word: a
 * message sent through a port gets the binding's argument there
 * (avm_send()), so that is where a receiver reads which line, region or
 * input a message came in on.
 */

/**
 * struct avm_msg_access - body of READ and WRITE (a guest access).
 * @region: index in &avm_device_ops.regions.
 * @size: access size in bytes: 1, 2, 4 or 8.
 * @offset: offset inside the region.
 * @value: the value written (WRITE only; a READ is answered with avm_reply()).
 */
struct avm_msg_access {
	uint32_t region;
	uint8_t size;
	uint64_t offset;
	uint64_t value;
};

/**
 * struct avm_msg_irq - body of IRQ.
 * @line: the line at the destination (the binding's argument).
 * @level: its new level.
 */
struct avm_msg_irq {
	uint32_t line;
	bool level;
};

/**
 * struct avm_msg_timer - body of TIMER.
 * @id: the timer given to avm_timer_arm().
 */
struct avm_msg_timer {
	uint32_t id;
};

/**
 * struct avm_msg_fd - body of FD.
 * @watch: the watch id given to avm_fd_watch().
 * @events: the AVM_FD_* bits that are ready.
 */
struct avm_msg_fd {
	uint32_t watch;
	uint32_t events;
};

/**
 * struct avm_msg_continue - body of CONTINUE.
 * @token: the token given to avm_continue().
 */
struct avm_msg_continue {
	uint32_t reserved;
	uint64_t token;
};

/**
 * struct avm_msg_dma - body of DMA_DONE.
 * @status: 0, or the negative errno the owner of the address answered.
 * @token: what avm_dma_read() wrote to its *token.
 * @data: the bytes read (little-endian in the low @size bytes).
 * @size: the length of the read.
 */
struct avm_msg_dma {
	uint32_t reserved;
	int32_t status;
	uint64_t token;
	uint64_t data;
	uint8_t size;
};

/**
 * struct avm_msg_reply - body of REPLY.
 * @status: 0, or the negative errno of avm_reply_error() (-EIO if the
 *   request went unanswered).
 * @token: what avm_ask() wrote to its *token.
 * @value: the value given to avm_reply().
 */
struct avm_msg_reply {
	uint32_t reserved;
	int32_t status;
	uint64_t token;
	uint64_t value;
};

/**
 * struct avm_msg_stream - body of FRAME and CHAR (the bytes are the payload).
 * @input: the binding's argument: which input the data came in on.
 * @tag: free for the sender (a sequence number, a flag); 0 if unused. Not
 *   carried across a wire.
 */
struct avm_msg_stream {
	uint32_t input;
	uint64_t tag;
};

/**
 * struct avm_msg_user - body of device-specific kinds (%AVM_MSG_USER and
 * %AVM_MSG_CONTROL_USER onwards): what each field means is the device's.
 * @arg: through a port, the binding's argument; else free.
 * @size: free (a wire carries 0..255).
 * @status: free.
 * @addr: free.
 * @value: free.
 */
struct avm_msg_user {
	uint32_t arg;
	uint8_t size;
	int32_t status;
	uint64_t addr;
	uint64_t value;
};

struct avm_reply_slot;

/**
 * struct avm_msg_fw - the framework's part of an envelope (its lane, flags,
 * the reply slot of a synchronous request, the payload storage).
 *
 * RESERVED: it is here only so that the envelope has a size and can live on
 * the stack. A device must not read or write it; use avm_msg_set_payload()
 * and avm_msg_payload(). Its layout may change at any time.
 */
struct avm_msg_fw {
	uint8_t lane;
	uint8_t flags;
	uint16_t spare;
	uint32_t len;
	struct avm_reply_slot *slot;
	union {
		uint8_t data[AVM_MSG_INLINE];
		void *ext;
	} payload;
};

/**
 * struct avm_msg - the fixed-size in-process envelope.
 * @kind: an &enum avm_msg_kind value; says which body member is valid.
 * @src: sending actor, or %AVM_ACTOR_NONE for a VCPU/accessor or the harness.
 * @corr: correlation id linking a request to its reply (set by the
 *   framework when 0).
 * @cause: correlation id of the message whose handling sent this one (0 for
 *   a VCPU access): links an IRQ or a DMA to the access that caused it.
 * @access: READ, WRITE.
 * @irq: IRQ.
 * @timer: TIMER.
 * @fd: FD.
 * @cont: CONTINUE.
 * @dma: DMA_DONE.
 * @reply: REPLY.
 * @frame: FRAME.
 * @chars: CHAR.
 * @user: device-specific kinds.
 * @fw: reserved for the framework (&struct avm_msg_fw): do not touch.
 *
 * A handler switches on @kind and reads that kind's member, e.g.
 * m->access.offset or m->irq.level; a sender fills @kind and one member:
 * (struct avm_msg){ .kind = AVM_MSG_IRQ, .irq.level = 1 }. The members
 * share storage; reading another kind's member reads garbage. Payloads are
 * set with avm_msg_set_payload() and read with avm_msg_payload(); the
 * framework frees an external payload after the message was handled.
 */
struct avm_msg {
	uint16_t kind;
	avm_actor_id src;
	uint64_t corr;
	uint64_t cause;
	union {
		struct avm_msg_access access;
		struct avm_msg_irq irq;
		struct avm_msg_timer timer;
		struct avm_msg_fd fd;
		struct avm_msg_continue cont;
		struct avm_msg_dma dma;
		struct avm_msg_reply reply;
		struct avm_msg_stream frame;
		struct avm_msg_stream chars;
		struct avm_msg_user user;
	};
	struct avm_msg_fw fw;
};

/**
 * struct avm_direct_reg - a side-effect-free register read without a message.
 * @offset: offset inside the region.
 * @size: access size it answers (an access of another size goes to the actor).
 * @slot: index in the actor's direct table (0 .. %AVM_MAX_DIRECT-1).
 */
struct avm_direct_reg {
	uint64_t offset;
	uint8_t size;
	uint8_t slot;
};

/**
 * struct avm_region_desc - an address range a device decodes.
 * @name: for traces and error messages.
 * @space: MMIO or PIO.
 * @size: length in bytes; where it is mapped is the runtime's business.
 * @direct: registers published with avm_direct_set() (may be NULL).
 * @n_direct: entries in @direct.
 */
struct avm_region_desc {
	const char *name;
	enum avm_space space;
	uint64_t size;
	const struct avm_direct_reg *direct;
	unsigned n_direct;
};

/** AVM_PCI_MAX_BARS - base address registers of a type-0 PCI function. */
#define AVM_PCI_MAX_BARS 6

/**
 * enum avm_pci_bar_flags - what a PCI base address register decodes.
 * @AVM_PCI_BAR_MEM: a 32-bit memory BAR (the region must be MMIO).
 * @AVM_PCI_BAR_IO: an I/O BAR (the region must be PIO).
 * @AVM_PCI_BAR_PREFETCH: memory BAR only: reads have no side effects.
 *
 * A BAR whose flags are 0 is not implemented: it reads 0 and ignores writes.
 */
enum avm_pci_bar_flags {
	AVM_PCI_BAR_MEM = 1u << 0,
	AVM_PCI_BAR_IO = 1u << 1,
	AVM_PCI_BAR_PREFETCH = 1u << 2,
};

/**
 * struct avm_pci_bar - one base address register of a PCI function.
 * @region: index in &avm_device_ops.regions of the region the BAR places;
 *   the BAR's size is that region's size, which must be a power of two
 *   (at least 16 bytes for memory, 4 to 256 bytes for I/O).
 * @flags: an OR of &enum avm_pci_bar_flags; 0 for an unused BAR.
 */
struct avm_pci_bar {
	uint8_t region;
	uint8_t flags;
};

struct avm_device_ops;

/**
 * avm_pci_bar_problem() - what is wrong with BAR @bar of @ops, if anything.
 * @ops: a device type with a PCI identity (@ops->pci not NULL).
 * @bar: 0 .. %AVM_PCI_MAX_BARS - 1.
 *
 * The one statement of the rules above: avm_actor_create() refuses a type
 * that breaks them, and the PCI host applies the same to every function it
 * is given (it may meet a type no runtime created, as in a harness).
 *
 * Any thread; pure. Return: NULL if the BAR is valid or unused, else a
 * static English phrase saying why not (for an error message).
 */
const char *avm_pci_bar_problem(const struct avm_device_ops *ops, unsigned bar);

/**
 * struct avm_pci_info - the PCI identity of a device type.
 * @vendor_id: vendor ID (0xffff is invalid: it means "no function").
 * @device_id: device ID.
 * @subsystem_vendor_id: subsystem vendor ID.
 * @subsystem_id: subsystem ID.
 * @class_code: 24 bits: base class << 16 | sub-class << 8 | prog-if.
 * @revision: revision ID.
 * @interrupt_pin: 0 none, 1..4 for INTA#..INTD#; the device raises it
 *   through its port named "irq" (level-triggered).
 * @bars: BAR0..BAR5.
 *
 * A PCI host (actors/pci) builds the function's configuration header from
 * this, places the regions where the guest programs the BARs and gates
 * the device's DMA with the bus-master bit.
 */
struct avm_pci_info {
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_id;
	uint32_t class_code;
	uint8_t revision;
	uint8_t interrupt_pin;
	struct avm_pci_bar bars[AVM_PCI_MAX_BARS];
};

typedef struct avm_ctx avm_ctx;

/**
 * struct avm_device_ops - a device type.
 * @type: type name ("e1000", "uart16550", ...).
 * @doc: one line for `actorvm list`.
 * @state_size: bytes of instance state; the framework zeroes and owns it.
 * @regions: the regions the device decodes; mapped by index.
 * @n_regions: entries in @regions.
 * @ports: names of the device's outgoing ports ("irq", "net", "dma"...).
 * @n_ports: entries in @ports.
 * @init: set up @state from @config; may arm timers, watch fds, publish
 *   direct registers and send to actors created before this one. Called
 *   once, by avm_runtime_start(), on the thread described in the DOC above.
 *   @config is the creator's (&avm_actor_spec.config, may be NULL for
 *   defaults) and valid during init only: copy what you keep. Returns 0 or
 *   -errno (then fini is not called: undo what init did).
 * @handle: handle one message. Required. @msg and its payload are valid
 *   until it returns. A READ must be answered (avm_reply()) before it
 *   returns, or it is answered -EIO. May run on a sender's thread.
 * @reset: return to power-on state, on a RESET (avm_actor_reset()); same
 *   thread rules as @handle. May be NULL: RESET is then ignored.
 * @fini: release what init acquired (may be NULL), once, after the last
 *   callback, when the runtime stops; never beside a handler running in
 *   place. No ctx: nothing may be sent; no timer or fd event comes any more
 *   (close the watched descriptors here).
 * @run: optional; makes a *self-driven* actor (a VCPU). Its own thread calls
 *   run() after init instead of serving the mailbox itself; run() loops over
 *   its own work (guest code), calls avm_poll() often to handle its messages
 *   (handle() runs inside avm_poll(), on this thread) and avm_wait() to
 *   sleep (HLT), and returns when avm_poll() or avm_wait() report
 *   -ESHUTDOWN. Its ctx is valid until run() returns. It may block in guest
 *   code as long as its kick (avm_set_kick()) gets it out. Called by the
 *   threaded and the biglock executors (biglock: without the global lock,
 *   which it takes for the calls it makes); the deterministic one refuses
 *   such actors with -ENOTSUP at creation. A self-driven actor is never run
 *   on a sender's thread.
 * @pci: the device's PCI identity, or NULL for a device that is not a PCI
 *   function.
 * @own_thread: its handlers hand data to something that may wait or wake
 *   other threads (a file, an nng socket): by default its messages always
 *   go through its mailbox and its own thread, never run in place on a
 *   sender's thread (docs/framework.md, "The fast path").
 *   &struct avm_actor_spec.fast_path overrides this default either way.
 */
struct avm_device_ops {
	const char *type;
	const char *doc;
	size_t state_size;
	const struct avm_region_desc *regions;
	unsigned n_regions;
	const char *const *ports;
	unsigned n_ports;
	int (*init)(void *state, const void *config, avm_ctx *ctx);
	void (*handle)(void *state, const struct avm_msg *msg, avm_ctx *ctx);
	void (*reset)(void *state, avm_ctx *ctx);
	void (*fini)(void *state);
	int (*run)(void *state, avm_ctx *ctx);
	const struct avm_pci_info *pci;
	bool own_thread;
};

/* --- Messages ------------------------------------------------------------ */

/**
 * avm_msg_set_payload() - copy @len bytes of @data into @msg.
 *
 * Up to %AVM_MSG_INLINE bytes live in the envelope; more are copied to the
 * heap and owned by the message. Returns 0, -EINVAL if @len exceeds
 * %AVM_MSG_MAX_PAYLOAD, -ENOMEM.
 */
int avm_msg_set_payload(struct avm_msg *msg, const void *data, size_t len);

/**
 * avm_msg_payload() - the payload bytes of @msg; *@len gets its length.
 * The bytes belong to @msg: in a handler, valid until handle() returns.
 */
const void *avm_msg_payload(const struct avm_msg *msg, size_t *len);

/**
 * avm_msg_release() - free an external payload (for messages never sent; a
 * send already consumed it).
 */
void avm_msg_release(struct avm_msg *msg);

/* --- The context: the only way out of a handler --------------------------- */

/**
 * avm_reply() - answer the request being handled (a READ, or a message
 * sent with avm_ask() or avm_request()) with @value.
 * Returns -EINVAL if the current message is not a request or was answered.
 */
int avm_reply(avm_ctx *ctx, uint64_t value);

/** avm_reply_error() - answer the current request with error @err (< 0). */
int avm_reply_error(avm_ctx *ctx, int err);

/**
 * avm_send() - send @msg through outgoing port @port.
 *
 * The first word of @msg's body (@msg->irq.line, @msg->access.region,
 * @msg->frame.input, @msg->user.arg...) is replaced by the binding's
 * argument (the line or pin number at the destination). A message to an unbound
 * port is dropped and counted (returns -ENOTCONN). The send never blocks: if
 * the destination mailbox is full the message waits in the sender's outbox, in
 * order.
 *
 * Ownership: the envelope is copied, so @msg (usually on the caller's
 * stack) may be reused at once. Its payload (an external one set with
 * avm_msg_set_payload()) is CONSUMED whether the send succeeds or not: the
 * framework frees it; do not release or reuse it. The same holds for every
 * send function below and for avm_irq_set().
 *
 * Threaded executor: when the destination is idle, its handler may run on
 * this thread before avm_send() returns (the fast path, at most 2 deep per
 * thread); biglock runs it before the global lock is released. Either way
 * this actor's own handler is never re-entered: a message back to it (or
 * to itself) is queued and handled after the current callback returns.
 */
int avm_send(avm_ctx *ctx, unsigned port, struct avm_msg *msg);

/**
 * avm_send_via() - send @msg to the actor port @port is bound to, keeping
 * its body as it is (the binding's argument is ignored; routes are not
 * followed).
 */
int avm_send_via(avm_ctx *ctx, unsigned port, struct avm_msg *msg);

/** avm_send_to() - send @msg to actor @dst directly (body kept as is). */
int avm_send_to(avm_ctx *ctx, avm_actor_id dst, struct avm_msg *msg);

/**
 * avm_ask() - send request @msg through @port, as avm_send() does, and have
 * its answer come back to this actor as a message.
 * @token: gets the request's token (its correlation id); may be NULL.
 *
 * The destination's handler answers with avm_reply() or avm_reply_error()
 * (unanswered: -EIO). The answer arrives later, on this actor's background
 * lane, as an %AVM_MSG_REPLY whose @reply.token is *@token: never inside
 * this call, even when the destination runs in place (a handler is never
 * re-entered). This is how one actor asks another without blocking; a
 * handler must not wait for the answer. Returns what avm_send() returns; on
 * an error no answer comes.
 */
int avm_ask(avm_ctx *ctx, unsigned port, struct avm_msg *msg, uint64_t *token);

/**
 * avm_irq_set() - send an IRQ message with @level through @port.
 *
 * Devices keep their own line level and call this only when it changes.
 */
int avm_irq_set(avm_ctx *ctx, unsigned port, bool level);

/**
 * DOC: routed ports (the IRQ fast path)
 *
 * A source's port is bound to a *router* (an interrupt controller) with the
 * router's input as argument: avm_bind(rt, nic, "irq", ioapic, 11). The
 * router may then publish a *route* for everything bound to one of its
 * inputs: the sources' messages go straight to the route's destination with
 * the route's argument, one hop instead of two, until the router clears the
 * route again. The framework also remembers the last level each port sent
 * with avm_irq_set(), so a router can read its inputs' wired-OR level
 * without seeing their messages.
 */

/**
 * avm_route_set() - route every port bound to this actor with argument
 * @input to wherever this actor's own port @via is bound, with argument @arg.
 * @asserted: if not NULL, gets the wired-OR level of those ports, read after
 *   the route is published: a level change racing with the route change is
 *   either sent along the new route or seen here (both, at worst).
 *
 * Returns the number of source ports re-routed (0 or more), -EINVAL for a
 * bad @via, -ENOTCONN if @via is unbound. May be called from handlers only.
 */
int avm_route_set(avm_ctx *ctx, uint32_t input, unsigned via, uint32_t arg,
		  bool *asserted);

/**
 * avm_route_clear() - send the ports bound to this actor with argument
 * @input to this actor again. Returns the number of ports, or -errno.
 */
int avm_route_clear(avm_ctx *ctx, uint32_t input);

/**
 * avm_route_level() - the wired-OR of the levels last sent with
 * avm_irq_set() by every port bound to this actor with argument @input.
 */
bool avm_route_level(avm_ctx *ctx, uint32_t input);

/**
 * avm_dma_read() - read guest memory at @gpa into @buf.
 *
 * Returns 0 when the range is guest RAM. When it is a device's MMIO (another
 * actor's or this one's own), @len must be 1, 2, 4 or 8: a READ request goes
 * to the owner, the function returns %AVM_DMA_PENDING and writes a token to
 * *@token; the answer arrives later as an %AVM_MSG_DMA_DONE whose
 * @dma.token is that token. Anything else is -EFAULT and no host memory outside
 * RAM is touched. While the actor's DMA is disabled (avm_dma_enable(), a PCI
 * function with bus mastering off) it is -EPERM and nothing is read. @buf is
 * the caller's and used only during the call: a pending read's data comes in
 * the DMA_DONE message, never in @buf. More than 4 GiB in one call is
 * -EINVAL (avm_dma_write() too): a journal entry could not hold its length.
 */
int avm_dma_read(avm_ctx *ctx, uint64_t gpa, void *buf, size_t len,
		 uint64_t *token);

/** AVM_DMA_PENDING - avm_dma_read() was turned into a message. */
#define AVM_DMA_PENDING 1

/**
 * avm_dma_write() - write @len bytes from @buf to guest memory at @gpa.
 *
 * RAM is written at once. A range inside one device's MMIO region becomes
 * posted WRITE messages (8 bytes at most each) to its owner, including this
 * actor itself, which handles them later like any other message. Anything
 * else (unmapped, straddling) is -EFAULT with nothing written. If the owner
 * stops in the middle of such a burst, the pieces already posted stay posted
 * and the rest is refused (-ESHUTDOWN). While the actor's DMA is disabled
 * (avm_dma_enable()) it is -EPERM and nothing is written.
 */
int avm_dma_write(avm_ctx *ctx, uint64_t gpa, const void *buf, size_t len);

/**
 * avm_timer_arm() - fire timer @id after @delay_ns, then every @period_ns
 * (0: once). Re-arming an armed timer moves it. The expiry arrives as an
 * %AVM_MSG_TIMER message with @timer.id = @id.
 */
int avm_timer_arm(avm_ctx *ctx, unsigned id, uint64_t delay_ns,
		  uint64_t period_ns);

/**
 * avm_timer_cancel() - disarm timer @id; a no-op if it is not armed.
 *
 * It cannot recall an expiry already queued: an %AVM_MSG_TIMER for @id may
 * still arrive after the cancel (and after a re-arm, one from the earlier
 * arming may come first). A handler that cares keeps its own "armed" flag
 * in its state, sets it on arm, clears it on cancel, and ignores an expiry
 * that finds it clear (see e1000_irq_timer() in actors/e1000/e1000_irq.c).
 * Timers fire on the actor's own thread, never on a sender's; under the
 * fast path a cancel from a handler running in place is applied by that
 * thread before anything else, which is one more reason an expiry may
 * already be queued.
 */
void avm_timer_cancel(avm_ctx *ctx, unsigned id);

/**
 * avm_fd_watch() - deliver %AVM_MSG_FD messages with @fd.watch = @id while @fd
 * is ready for @events (AVM_FD_READ | AVM_FD_WRITE). The actor owns @fd: the
 * framework never reads, writes or closes it; close it only after
 * avm_fd_unwatch() (or in fini, when every watch is gone). The watch is
 * level-triggered: unwatch (or drain) what you cannot serve now, or the
 * events keep coming. As for timers, an event already queued may arrive
 * after avm_fd_unwatch(); a handler must tolerate a spurious one (the
 * descriptor would block).
 */
int avm_fd_watch(avm_ctx *ctx, unsigned id, int fd, unsigned events);

/** avm_fd_unwatch() - stop watching descriptor @id. */
void avm_fd_unwatch(avm_ctx *ctx, unsigned id);

/**
 * enum avm_io_dir - which way avm_io() moves bytes.
 * @AVM_IO_IN: into the buffer (a read): a journal keeps what came in.
 * @AVM_IO_OUT: out of the buffer (a write): a journal keeps what went out,
 *   and a replay compares it.
 * @AVM_IO_CTL: neither (open a backend, ask its state): only the result.
 */
enum avm_io_dir { AVM_IO_IN = 0, AVM_IO_OUT = 1, AVM_IO_CTL = 2 };

/**
 * typedef avm_io_fn - the outside I/O itself, called by avm_io(): a byte
 * count (at most @len) or a negative errno. It may call avm_* functions
 * (avm_fd_watch() on EAGAIN, say). It must not change the actor's state
 * except through its result: a replay does not call it.
 */
typedef ssize_t (*avm_io_fn)(void *arg, void *buf, size_t len, avm_ctx *ctx);

/**
 * avm_io() - I/O with the world outside the VM (a descriptor, a socket, a
 * file, a backend's set-up): returns @fn(@arg, @buf, @len, @ctx).
 * @chan: the actor's own number for the channel, kept in journals.
 *
 * It matters to journals only (actorvm/trace.h): for a journaled actor the
 * call, its result and, by @dir, its bytes are recorded, with the avm_*
 * calls @fn made inside it; a replay (actorvm/replay.h) does not call @fn
 * but hands back the recorded result and bytes, compares the bytes of an
 * %AVM_IO_OUT, and skips what @fn did inside. So an actor whose inputs come
 * from outside stays replayable when all of its outside I/O goes through
 * here. -EINVAL if @len exceeds INT32_MAX.
 */
ssize_t avm_io(avm_ctx *ctx, unsigned chan, enum avm_io_dir dir, avm_io_fn fn,
	       void *arg, void *buf, size_t len);

/**
 * avm_direct_set() - publish @value in direct slot @slot.
 *
 * VCPUs read it without a message; a reader sees either the old or the new
 * 64-bit value, never a mix. Returns 0, or -EINVAL (nothing published) for
 * a @slot past %AVM_MAX_DIRECT.
 */
int avm_direct_set(avm_ctx *ctx, unsigned slot, uint64_t value);

/**
 * avm_continue() - post a continuation to this actor's background lane; it
 * arrives as an %AVM_MSG_CONTINUE with @cont.token = @token.
 *
 * Guest accesses queued meanwhile are served before it, so a long job cut
 * into continuations never makes a VCPU wait for more than one chunk.
 */
int avm_continue(avm_ctx *ctx, uint64_t token);

/**
 * avm_poll() - self-driven actors: handle the messages waiting in the
 * mailbox (at most a bounded batch), due timers and ready fds. Returns 0,
 * or -ESHUTDOWN once the actor must stop: run() then returns. From run()
 * only, with run()'s ctx; handle() runs inside it, on this thread, with a
 * ctx of its own.
 */
int avm_poll(avm_ctx *ctx);

/**
 * avm_wait() - self-driven actors: sleep until a message arrives or
 * @timeout_ns passes (negative: no timeout). Returns 0 when woken by a
 * message (call avm_poll()), -ETIMEDOUT, or -ESHUTDOWN. From run() only:
 * the one place an actor may block.
 */
int avm_wait(avm_ctx *ctx, int64_t timeout_ns);

/**
 * typedef avm_kick_fn - make a self-driven actor's run() look at its
 * mailbox soon (e.g. stop guest execution: uc_emu_stop, a signal to a KVM
 * VCPU thread). Called on the POSTING thread, after every message posted to
 * the actor: it must be thread-safe, cheap, must not block (it may run
 * under the biglock's lock or inside a sender's handler) and must not touch
 * the actor's state except through what @arg points to.
 */
typedef void (*avm_kick_fn)(void *arg);

/**
 * avm_set_kick() - install the kick of this self-driven actor (or NULL),
 * from init or run. @arg is the actor's and must stay valid until run()
 * returns: the framework clears the kick then and waits until no kick is
 * still running, so fini may free it.
 */
int avm_set_kick(avm_ctx *ctx, avm_kick_fn fn, void *arg);

/**
 * avm_ram_block() - guest RAM block @i: its guest-physical base, size and
 * host address. For CPU backends, which map guest RAM into the CPU; devices
 * use avm_dma_read()/avm_dma_write(). -ENOENT past the last block. The host
 * memory belongs to the runtime and stays valid until avm_runtime_free().
 * While the actor is replayed from a journal (actorvm/replay.h) the base
 * and size are the recorded ones and @host is NULL: there is no RAM.
 */
int avm_ram_block(avm_ctx *ctx, unsigned i, uint64_t *gpa, uint64_t *size,
		  void **host);

/**
 * avm_vm_exit() - the guest asked the VM to exit with @code (e.g. through
 * the isa-debug-exit port). The first call wins; avm_runtime_wait_exit()
 * returns it.
 */
void avm_vm_exit(avm_ctx *ctx, int code);

/*
 * The exit code of a VM whose CPU stopped for good (a triple fault, an
 * instruction it cannot run): the machine shuts down, as a real PC does on a
 * triple fault (and QEMU with -no-reboot). Even, so no guest verdict of the
 * isa-debug-exit port ((V << 1) | 1, always odd) can be mistaken for it.
 */
#define AVM_VM_EXIT_FAILED (-2)

struct avm_runtime;
/**
 * avm_runtime_of() - the runtime an actor runs in. For VCPU actors, which
 * create their accessor on their own thread; devices must not use it to
 * reach other actors (they send messages).
 */
struct avm_runtime *avm_runtime_of(avm_ctx *ctx);

/** avm_now() - the executor's clock in ns (virtual in the deterministic one).
 */
uint64_t avm_now(avm_ctx *ctx);

/** avm_self() - the id of the actor being run. */
avm_actor_id avm_self(avm_ctx *ctx);

/**
 * avm_log() - log a line attributed to the current actor, through the
 * runtime's log sink (which may take a lock and write: keep it off hot
 * paths). The line is formatted at once; nothing is kept.
 */
void avm_log(avm_ctx *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Log levels for avm_log() and the runtime's log callback. */
enum avm_log_level {
	AVM_LOG_ERROR = 1,
	AVM_LOG_WARN,
	AVM_LOG_INFO,
	AVM_LOG_DEBUG
};

#ifdef __cplusplus
}
#endif
#endif /* ACTORVM_ACTOR_H */
