/* SPDX-License-Identifier: MIT */
/**
 * DOC: actor test harness
 *
 * Unit-test ONE actor in isolation, with cmocka, on the deterministic
 * executor: virtual time, no threads, no guest. A harness owns a runtime
 * holding the actor under test (the "DUT") and a sink actor (the "peer")
 * that every port of the DUT is bound to, so that sends succeed and nothing
 * else reacts to them. Each region of the DUT is mapped at a base chosen by
 * the harness, so tests address registers by (region index, offset).
 *
 * Everything the DUT does is captured through the executor's observer:
 * messages it sends (even through unbound ports), DMA, timers armed and
 * cancelled, descriptors watched. Tests then *expect* captured events; an
 * expectation consumes the event it matched, so that AVM_EXPECT_NONE() at the
 * end of a step says "and nothing else happened".
 *
 * Conventions:
 *
 * - avm_harness_try_X() functions return 0 or a negative errno and never
 *   fail the test.
 * - avm_harness_X() (lower-case macros of the same name without try_) and
 *   the AVM_EXPECT_...() macros fail the test through cmocka (or the
 *   harness's failure handler, see &struct avm_harness_opts) with the
 *   caller's file:line and a listing of the captured events. They evaluate
 *   their harness argument more than once: pass a plain variable.
 * - By default every call that gives the DUT work (access, message, fd,
 *   reset) runs the executor until nothing is pending before it returns
 *   (see avm_harness_set_autorun()).
 * - A harness is used by the thread that created it.
 */
#ifndef ACTORVM_HARNESS_H
#define ACTORVM_HARNESS_H

#include <stdio.h>

#include <actorvm/deterministic.h>

#ifdef __cplusplus
extern "C" {
#endif

/** typedef avm_harness - an actor under test, its runtime and its captures. */
typedef struct avm_harness avm_harness;

/**
 * typedef avm_harness_fail_fn - report a failed expectation or call.
 * @arg: &avm_harness_opts.fail_arg.
 * @file: source file of the failing check (the caller's).
 * @line: its line.
 * @msg: what failed and the captured events; valid until the next failure
 *   or avm_harness_free().
 *
 * The default calls cmocka's print_error() and _fail(file, line), which does
 * not return. A handler that returns makes the failing check return its
 * "failed" value (NULL, an error code or 0) to its caller.
 */
typedef void (*avm_harness_fail_fn)(void *arg, const char *file, int line,
				    const char *msg);

/**
 * struct avm_harness_opts - what to test and how. Zero means default.
 * @ops: the device type under test. Required.
 * @config: passed to @ops->init (may be NULL).
 * @seed: delivery-order seed of the deterministic executor.
 * @name: instance name of the DUT (default: @ops->type).
 * @ram_gpa: guest-physical base of an optional RAM block (4 KiB aligned).
 * @ram_size: its size (4 KiB multiple); 0 for no RAM.
 * @defer_start: do not start in avm_harness_new(): the test may add RAM
 *   blocks first, then calls avm_harness_start().
 * @unbound: leave the DUT's ports unbound instead of binding them to the
 *   peer (sends are still captured, and fail with -ENOTCONN in the DUT).
 * @max_steps: deliveries allowed per run until idle (0: the executor's
 *   default of one million); beyond, calls return -ELOOP (actors that keep
 *   themselves busy forever). avm_harness_try_advance() always uses the
 *   default.
 * @log_level: runtime log level (0: %AVM_LOG_INFO), logs go to stderr.
 * @fail: failure handler (NULL: cmocka); @fail_arg is passed to it.
 * @isolated: run the DUT in a device process (actorvm/isolation.h, policy
 *   remove): each message is handled there, and its effects made here,
 *   before the harness goes on, so what is captured is the same (its DMA
 *   included, reported by the process); virtual time is the harness's.
 */
struct avm_harness_opts {
	const struct avm_device_ops *ops;
	const void *config;
	uint64_t seed;
	const char *name;
	uint64_t ram_gpa;
	uint64_t ram_size;
	bool defer_start;
	bool unbound;
	unsigned max_steps;
	int log_level;
	avm_harness_fail_fn fail;
	void *fail_arg;
	bool isolated;
};

/* --- Life cycle ----------------------------------------------------------- */

/**
 * avm_harness_new() - create a harness and (unless @opts->defer_start) start
 * the DUT: its init runs and what it does there is captured.
 * @opts: what to test; copied, but @opts->config must live as long as the
 *   harness.
 * @out: the new harness.
 *
 * Returns 0, -EINVAL for missing @opts->ops or @opts->ops->handle, -ENOMEM,
 * or the error of the runtime (e.g. the DUT's init). A cmocka setup function
 * can return it as is.
 */
int avm_harness_new(const struct avm_harness_opts *opts, avm_harness **out);

/**
 * avm_harness_try_start() - map the DUT's regions and start it (init
 * included), then run until idle. Only for a harness made with @defer_start;
 * -EALREADY otherwise. After a failure, only avm_harness_free() is useful.
 */
int avm_harness_try_start(avm_harness *h);

/**
 * avm_harness_free() - stop the DUT (it handles what is still queued; that is
 * captured but no longer checked), then release everything. NULL is a no-op.
 */
void avm_harness_free(avm_harness *h);

/* --- Set-up --------------------------------------------------------------- */

/**
 * avm_harness_try_bind() - (re)bind port @port of the DUT to the peer with
 * argument @arg, e.g. the IRQ line the DUT's interrupt arrives on. Captured
 * sends carry @arg in &avm_harness_event.arg. Works before and after start.
 * Returns -ENOENT for an unknown port.
 */
int avm_harness_try_bind(avm_harness *h, const char *port, uint32_t arg);

/**
 * avm_harness_try_ram_add() - add guest RAM [@gpa, @gpa+@size), zeroed.
 * Before start only (-EBUSY after); -EINVAL if not 4 KiB aligned.
 */
int avm_harness_try_ram_add(avm_harness *h, uint64_t gpa, uint64_t size);

/**
 * avm_harness_try_poke() - copy @len bytes from @buf into guest RAM at @gpa.
 * The DUT is not told. -EFAULT unless the range is inside one RAM block.
 */
int avm_harness_try_poke(avm_harness *h, uint64_t gpa, const void *buf,
			 size_t len);

/**
 * avm_harness_try_peek() - copy @len bytes of guest RAM at @gpa into @buf.
 * -EFAULT unless the range is inside one RAM block.
 */
int avm_harness_try_peek(avm_harness *h, uint64_t gpa, void *buf, size_t len);

/** avm_harness_ram() - host address of guest RAM [@gpa, @gpa+@len) or NULL. */
void *avm_harness_ram(avm_harness *h, uint64_t gpa, uint64_t len);

/**
 * avm_harness_region_base() - where region @region of the DUT is mapped
 * (an MMIO address or a port number), e.g. to point the DUT's DMA at its own
 * registers. -ENOENT for a bad index, -EAGAIN before start.
 */
int avm_harness_region_base(avm_harness *h, unsigned region, uint64_t *base);

/* --- Driving the DUT ------------------------------------------------------ */

/**
 * avm_harness_set_autorun() - whether calls that give the DUT work run the
 * executor until idle before returning (default true).
 *
 * With autorun off, writes, messages, fd events and resets are only queued,
 * and a read delivers only what it needs to get its answer (the executor
 * takes guest accesses before background messages). avm_harness_run() or
 * avm_harness_step() then delivers the rest. Timers still fire only in
 * avm_harness_try_advance(), which always runs.
 */
void avm_harness_set_autorun(avm_harness *h, bool on);

/** avm_harness_run() - deliver until idle: the count delivered, or -ELOOP. */
int avm_harness_run(avm_harness *h);

/** avm_harness_step() - deliver one message: 1 if one was, 0 if none. */
int avm_harness_step(avm_harness *h);

/** avm_harness_pending() - messages queued and not yet delivered. */
unsigned avm_harness_pending(avm_harness *h);

/**
 * avm_harness_try_write() - a guest write of @val (@size bytes: 1, 2, 4 or 8)
 * at offset @off of region @region, through the harness's accessor.
 *
 * Returns 0, -ENOENT for a bad region index, -ENXIO if the access does not
 * fit inside the region, -EINVAL for a bad size, -EAGAIN before start,
 * -ELOOP if running until idle hit the step limit.
 */
int avm_harness_try_write(avm_harness *h, unsigned region, uint64_t off,
			  unsigned size, uint64_t val);

/**
 * avm_harness_try_read() - a guest read; the answer goes to *@val.
 *
 * A direct register is read from its published value; anything else is a
 * request the DUT answers. Errors as avm_harness_try_write(), plus the error
 * the DUT answered (-EIO if it did not answer).
 */
int avm_harness_try_read(avm_harness *h, unsigned region, uint64_t off,
			 unsigned size, uint64_t *val);

/**
 * avm_harness_try_send() - post @msg to the DUT as if from outside the VM
 * (@msg->src becomes %AVM_ACTOR_NONE).
 *
 * Set @msg->kind and the body of that kind the DUT reads (e.g.
 * @msg->timer.id, @msg->user; a payload via avm_msg_set_payload()). The payload
 * belongs to the harness after the call, whatever the result. Use
 * avm_harness_try_read() for READ: a READ sent here is not a request and cannot
 * be answered.
 */
int avm_harness_try_send(avm_harness *h, struct avm_msg *msg);

/**
 * avm_harness_try_send_data() - send a message of @kind with @arg in the
 * first word of its body (frame.input, chars.input, user.arg) and a copy
 * of @len bytes of @data as payload (a frame, characters...). -EINVAL if
 * @len exceeds %AVM_MSG_MAX_PAYLOAD.
 */
int avm_harness_try_send_data(avm_harness *h, uint16_t kind, uint32_t arg,
			      const void *data, size_t len);

/**
 * avm_harness_try_irq() - tell the DUT its input line @line is now @level
 * (an %AVM_MSG_IRQ, as an interrupt source would send it).
 */
int avm_harness_try_irq(avm_harness *h, uint32_t line, bool level);

/**
 * avm_harness_try_request() - send @msg as a request (a device-specific kind
 * the DUT answers with avm_reply()) and put the answer in *@val. Payload as
 * avm_harness_try_send().
 */
int avm_harness_try_request(avm_harness *h, struct avm_msg *msg, uint64_t *val);

/**
 * avm_harness_try_fd_ready() - pretend descriptor watch @watch of the DUT is
 * ready for @events (AVM_FD_READ | AVM_FD_WRITE): the DUT gets an
 * %AVM_MSG_FD. Nothing looks at the real descriptor, so the test makes it
 * ready itself (e.g. writes into the other end of a pipe) if the DUT reads it.
 * -ENOENT if the DUT does not watch @watch.
 */
int avm_harness_try_fd_ready(avm_harness *h, unsigned watch, unsigned events);

/**
 * avm_harness_try_reset() - reset the DUT (ops->reset on the control lane,
 * ahead of anything else queued for it).
 */
int avm_harness_try_reset(avm_harness *h);

/* --- Virtual time --------------------------------------------------------- */

/**
 * avm_harness_try_advance() - run until idle, then move the virtual clock by
 * @ns, firing the DUT's timers that fall due in deadline order and running
 * until idle after each. Returns 0 or -ELOOP.
 */
int avm_harness_try_advance(avm_harness *h, uint64_t ns);

/** avm_harness_now() - the virtual clock in ns (0 at creation). */
uint64_t avm_harness_now(avm_harness *h);

/**
 * avm_harness_timer_due() - when the DUT's timer @id fires next (absolute
 * virtual ns); -ENOENT if it is not armed.
 */
int avm_harness_timer_due(avm_harness *h, unsigned id, uint64_t *due);

/* --- White box ------------------------------------------------------------ */

/** avm_harness_state() - the DUT's state (ops->state_size bytes). */
void *avm_harness_state(avm_harness *h);

/** avm_harness_runtime() - the runtime, for anything the harness lacks. */
avm_runtime *avm_harness_runtime(avm_harness *h);

/** avm_harness_actor() - the actor id of the DUT. */
avm_actor_id avm_harness_actor(avm_harness *h);

/** avm_harness_peer() - the actor id of the sink the ports are bound to. */
avm_actor_id avm_harness_peer(avm_harness *h);

/* --- Captures ------------------------------------------------------------- */

/**
 * struct avm_harness_event - one thing the DUT did (a deep copy).
 * @seq: capture number, from 0 (not reset by avm_harness_clear()).
 * @kind: %AVM_DET_SEND, %AVM_DET_DMA, %AVM_DET_TIMER_ARM,
 *   %AVM_DET_TIMER_CANCEL or %AVM_DET_FD_WATCH.
 * @time: virtual time (ns) when it happened.
 * @consumed: an expectation (or avm_harness_take()) has matched it.
 * @port: SEND: port index, or -1 for a send not through a port (a
 *   continuation, a send to an actor id).
 * @port_name: SEND: the port's name (from the ops table), or NULL.
 * @dst: SEND: the receiver, %AVM_ACTOR_NONE if the port was unbound.
 * @msg_kind: SEND: the message's &enum avm_msg_kind.
 * @arg: SEND: the first word of the message's body (the binding's
 *   argument for a port send): irq.line, access.region, timer.id...
 * @value: SEND: the body's value: written value, IRQ level, FD events,
 *   continuation or stream tag, DMA data, reply value, user.value.
 * @addr: SEND: access.offset or user.addr.
 * @corr: SEND: the message's correlation id.
 * @size: SEND: access.size, dma.size or user.size.
 * @write: DMA: true for a write to the guest.
 * @gpa: DMA: guest-physical address.
 * @len: SEND: payload length; DMA: transfer length.
 * @data: SEND: payload copy; DMA: copy of the bytes (NULL for a read that
 *   became a message, or when @len is 0).
 * @status: SEND: dma.status, reply.status or user.status; DMA: its result (0,
 * -EFAULT, %AVM_DMA_PENDING, -EPERM while its DMA is disabled).
 * @result: SEND: what the send returned: 0, or -ENOTCONN (unbound port),
 *   -ESHUTDOWN (receiver stopped), -ENOENT (no such actor).
 * @timer: TIMER_*: timer id; FD_WATCH: watch id.
 * @delay: TIMER_ARM: delay in ns.
 * @period: TIMER_ARM: period in ns (0: one-shot).
 */
struct avm_harness_event {
	unsigned seq;
	enum avm_det_event_kind kind;
	uint64_t time;
	bool consumed;
	int port;
	const char *port_name;
	avm_actor_id dst;
	uint16_t msg_kind;
	uint32_t arg;
	uint64_t value;
	uint64_t addr;
	uint64_t corr;
	uint8_t size;
	bool write;
	uint64_t gpa;
	size_t len;
	void *data;
	int status;
	int result;
	unsigned timer;
	uint64_t delay;
	uint64_t period;
};

/**
 * enum avm_harness_field - which fields of &struct avm_harness_match matter.
 * @AVM_HM_PORT: @port names the port of a SEND.
 * @AVM_HM_DST: @dst.
 * @AVM_HM_MSG_KIND: @msg_kind.
 * @AVM_HM_ARG: @arg.
 * @AVM_HM_VALUE: @value.
 * @AVM_HM_ADDR: @addr.
 * @AVM_HM_WRITE: @write (DMA direction).
 * @AVM_HM_GPA: @gpa.
 * @AVM_HM_LEN: @len (payload or DMA length).
 * @AVM_HM_DATA: the first @len bytes at @data equal the captured bytes, and
 *   the captured length is @len.
 * @AVM_HM_STATUS: @status.
 * @AVM_HM_TIMER: @timer (timer or watch id).
 * @AVM_HM_DELAY: @delay.
 * @AVM_HM_PERIOD: @period.
 */
enum avm_harness_field {
	AVM_HM_PORT = 1u << 0,
	AVM_HM_DST = 1u << 1,
	AVM_HM_MSG_KIND = 1u << 2,
	AVM_HM_ARG = 1u << 3,
	AVM_HM_VALUE = 1u << 4,
	AVM_HM_ADDR = 1u << 5,
	AVM_HM_WRITE = 1u << 6,
	AVM_HM_GPA = 1u << 7,
	AVM_HM_LEN = 1u << 8,
	AVM_HM_DATA = 1u << 9,
	AVM_HM_STATUS = 1u << 10,
	AVM_HM_TIMER = 1u << 11,
	AVM_HM_DELAY = 1u << 12,
	AVM_HM_PERIOD = 1u << 13,
};

/**
 * struct avm_harness_match - a pattern for captured events.
 * @kind: the event kind (0: any kind).
 * @fields: an OR of &enum avm_harness_field: the fields below that must be
 *   equal; the others are ignored.
 * @port: port name; @dst, @msg_kind, @arg, @value, @addr, @write, @gpa, @len,
 *   @data, @status, @timer, @delay, @period: as in &struct avm_harness_event.
 */
struct avm_harness_match {
	enum avm_det_event_kind kind;
	unsigned fields;
	const char *port;
	avm_actor_id dst;
	uint16_t msg_kind;
	uint32_t arg;
	uint64_t value;
	uint64_t addr;
	bool write;
	uint64_t gpa;
	size_t len;
	const void *data;
	int status;
	unsigned timer;
	uint64_t delay;
	uint64_t period;
};

/**
 * avm_harness_events() - every event captured since the last clear, oldest
 * first, consumed or not; *@n gets the count. Entries stay valid until
 * avm_harness_clear() or avm_harness_free().
 */
const struct avm_harness_event *const *avm_harness_events(avm_harness *h,
							  unsigned *n);

/** avm_harness_count() - unconsumed events matching @m (NULL: all). */
unsigned avm_harness_count(avm_harness *h, const struct avm_harness_match *m);

/**
 * avm_harness_find() - the oldest unconsumed event matching @m (NULL: any),
 * or NULL. Consumes nothing, never fails the test.
 */
const struct avm_harness_event *
avm_harness_find(avm_harness *h, const struct avm_harness_match *m);

/** avm_harness_take() - avm_harness_find() that consumes what it returns. */
const struct avm_harness_event *
avm_harness_take(avm_harness *h, const struct avm_harness_match *m);

/**
 * avm_harness_take_next() - consume and return the oldest unconsumed event
 * if it matches @m; NULL (and nothing consumed) otherwise.
 */
const struct avm_harness_event *
avm_harness_take_next(avm_harness *h, const struct avm_harness_match *m);

/** avm_harness_clear() - forget every captured event. */
void avm_harness_clear(avm_harness *h);

/**
 * avm_harness_dump() - print the captured events to @f, one a line,
 * consumed ones marked. Returns 0 or -EIO.
 */
int avm_harness_dump(avm_harness *h, FILE *f);

/* --- Checks that fail the test (use the macros below) --------------------- */

/**
 * avm_harness_expect_at() - avm_harness_take() (@next false) or
 * avm_harness_take_next() (@next true) that fails the test at @file:@line
 * when nothing matches. Also fails if an event could not be captured (out of
 * memory). Returns the consumed event, or NULL after a failure.
 */
const struct avm_harness_event *
avm_harness_expect_at(avm_harness *h, const struct avm_harness_match *m,
		      bool next, const char *file, int line);

/**
 * avm_harness_expect_none_at() - fail the test at @file:@line if an
 * unconsumed event matches @m (NULL: if any is left). Returns 0, or -EEXIST
 * after a failure.
 */
int avm_harness_expect_none_at(avm_harness *h,
			       const struct avm_harness_match *m,
			       const char *file, int line);

/**
 * avm_harness_check_at() - fail the test at @file:@line, naming @what, if
 * @err is negative (an errno). Returns @err.
 */
int avm_harness_check_at(avm_harness *h, int err, const char *what,
			 const char *file, int line);

/**
 * avm_harness_read_at() - avm_harness_try_read() that fails the test at
 * @file:@line on error; returns the value read (0 after a failure).
 */
uint64_t avm_harness_read_at(avm_harness *h, unsigned region, uint64_t off,
			     unsigned size, const char *file, int line);

/**
 * avm_harness_request_at() - avm_harness_try_request() that fails the test
 * at @file:@line on error; returns the answer (0 after a failure).
 */
uint64_t avm_harness_request_at(avm_harness *h, struct avm_msg *msg,
				const char *file, int line);

#define AVM_HARNESS__CHECK(h, call, what)                                      \
	avm_harness_check_at((h), (call), (what), __FILE__, __LINE__)

/** avm_harness_start() - avm_harness_try_start(), failing the test. */
#define avm_harness_start(h)                                                   \
	AVM_HARNESS__CHECK(h, avm_harness_try_start(h), "start")
/** avm_harness_bind() - avm_harness_try_bind(), failing the test. */
#define avm_harness_bind(h, port, arg)                                         \
	AVM_HARNESS__CHECK(h, avm_harness_try_bind(h, port, arg), "bind")
/** avm_harness_ram_add() - avm_harness_try_ram_add(), failing the test. */
#define avm_harness_ram_add(h, gpa, size)                                      \
	AVM_HARNESS__CHECK(h, avm_harness_try_ram_add(h, gpa, size), "ram_add")
/** avm_harness_poke() - avm_harness_try_poke(), failing the test. */
#define avm_harness_poke(h, gpa, buf, len)                                     \
	AVM_HARNESS__CHECK(h, avm_harness_try_poke(h, gpa, buf, len), "poke")
/** avm_harness_peek() - avm_harness_try_peek(), failing the test. */
#define avm_harness_peek(h, gpa, buf, len)                                     \
	AVM_HARNESS__CHECK(h, avm_harness_try_peek(h, gpa, buf, len), "peek")
/** avm_harness_write() - avm_harness_try_write(), failing the test. */
#define avm_harness_write(h, region, off, size, val)                           \
	AVM_HARNESS__CHECK(                                                    \
		h, avm_harness_try_write(h, region, off, size, val), "write")
/** avm_harness_read() - avm_harness_try_read(), failing; the value read. */
#define avm_harness_read(h, region, off, size)                                 \
	avm_harness_read_at((h), (region), (off), (size), __FILE__, __LINE__)
/** avm_harness_send() - avm_harness_try_send(), failing the test. */
#define avm_harness_send(h, msg)                                               \
	AVM_HARNESS__CHECK(h, avm_harness_try_send(h, msg), "send")
/** avm_harness_send_data() - avm_harness_try_send_data(), failing. */
#define avm_harness_send_data(h, kind, arg, data, len)                         \
	AVM_HARNESS__CHECK(h,                                                  \
			   avm_harness_try_send_data(h, kind, arg, data, len), \
			   "send_data")
/** avm_harness_irq() - avm_harness_try_irq(), failing the test. */
#define avm_harness_irq(h, line, level)                                        \
	AVM_HARNESS__CHECK(h, avm_harness_try_irq(h, line, level), "irq")
/** avm_harness_request() - avm_harness_try_request(), failing; the answer. */
#define avm_harness_request(h, msg)                                            \
	avm_harness_request_at((h), (msg), __FILE__, __LINE__)
/** avm_harness_fd_ready() - avm_harness_try_fd_ready(), failing the test. */
#define avm_harness_fd_ready(h, watch, events)                                 \
	AVM_HARNESS__CHECK(h, avm_harness_try_fd_ready(h, watch, events),      \
			   "fd_ready")
/** avm_harness_reset() - avm_harness_try_reset(), failing the test. */
#define avm_harness_reset(h)                                                   \
	AVM_HARNESS__CHECK(h, avm_harness_try_reset(h), "reset")
/** avm_harness_advance() - avm_harness_try_advance(), failing the test. */
#define avm_harness_advance(h, ns)                                             \
	AVM_HARNESS__CHECK(h, avm_harness_try_advance(h, ns), "advance")

/**
 * AVM_EXPECT() - expect (and consume) the oldest unconsumed event matching
 * the &struct avm_harness_match given by designated initializers, e.g.
 * AVM_EXPECT(h, .kind = AVM_DET_SEND, .fields = AVM_HM_VALUE, .value = 3).
 * Evaluates to the event.
 */
#define AVM_EXPECT(h, ...)                                                     \
	avm_harness_expect_at(                                                 \
		(h), &(const struct avm_harness_match){ __VA_ARGS__ }, false,  \
		__FILE__, __LINE__)

/** AVM_EXPECT_NEXT() - AVM_EXPECT() for the oldest unconsumed event only. */
#define AVM_EXPECT_NEXT(h, ...)                                                \
	avm_harness_expect_at(                                                 \
		(h), &(const struct avm_harness_match){ __VA_ARGS__ }, true,   \
		__FILE__, __LINE__)

/** AVM_EXPECT_NONE() - expect that every captured event was consumed. */
#define AVM_EXPECT_NONE(h)                                                     \
	avm_harness_expect_none_at((h), NULL, __FILE__, __LINE__)

/** AVM_EXPECT_NO() - expect no unconsumed event matching the pattern. */
#define AVM_EXPECT_NO(h, ...)                                                  \
	avm_harness_expect_none_at(                                            \
		(h), &(const struct avm_harness_match){ __VA_ARGS__ },         \
		__FILE__, __LINE__)

/** AVM_EXPECT_SEND() - a message of kind @k sent through port @p. */
#define AVM_EXPECT_SEND(h, p, k)                                               \
	AVM_EXPECT(h, .kind = AVM_DET_SEND,                                    \
		   .fields = AVM_HM_PORT | AVM_HM_MSG_KIND, .port = (p),       \
		   .msg_kind = (uint16_t)(k))

/** AVM_EXPECT_NO_SEND() - no unconsumed message sent through port @p. */
#define AVM_EXPECT_NO_SEND(h, p)                                               \
	AVM_EXPECT_NO(h, .kind = AVM_DET_SEND, .fields = AVM_HM_PORT,          \
		      .port = (p))

/** AVM_EXPECT_IRQ() - an IRQ message with level @lvl sent through port @p. */
#define AVM_EXPECT_IRQ(h, p, lvl)                                              \
	AVM_EXPECT(h, .kind = AVM_DET_SEND,                                    \
		   .fields = AVM_HM_PORT | AVM_HM_MSG_KIND | AVM_HM_VALUE,     \
		   .port = (p), .msg_kind = AVM_MSG_IRQ,                       \
		   .value = (uint64_t)(lvl))

/** AVM_EXPECT_DMA_WRITE() - a DMA write of @n bytes at guest address @a. */
#define AVM_EXPECT_DMA_WRITE(h, a, n)                                          \
	AVM_EXPECT(h, .kind = AVM_DET_DMA,                                     \
		   .fields = AVM_HM_WRITE | AVM_HM_GPA | AVM_HM_LEN,           \
		   .write = true, .gpa = (uint64_t)(a), .len = (size_t)(n))

/** AVM_EXPECT_DMA_READ() - a DMA read of @n bytes at guest address @a. */
#define AVM_EXPECT_DMA_READ(h, a, n)                                           \
	AVM_EXPECT(h, .kind = AVM_DET_DMA,                                     \
		   .fields = AVM_HM_WRITE | AVM_HM_GPA | AVM_HM_LEN,           \
		   .write = false, .gpa = (uint64_t)(a), .len = (size_t)(n))

/** AVM_EXPECT_TIMER() - timer @id armed (any delay and period). */
#define AVM_EXPECT_TIMER(h, id)                                                \
	AVM_EXPECT(h, .kind = AVM_DET_TIMER_ARM, .fields = AVM_HM_TIMER,       \
		   .timer = (id))

/** AVM_EXPECT_TIMER_ARM() - timer @id armed with delay @d and period @per. */
#define AVM_EXPECT_TIMER_ARM(h, id, d, per)                                    \
	AVM_EXPECT(h, .kind = AVM_DET_TIMER_ARM,                               \
		   .fields = AVM_HM_TIMER | AVM_HM_DELAY | AVM_HM_PERIOD,      \
		   .timer = (id), .delay = (uint64_t)(d),                      \
		   .period = (uint64_t)(per))

/** AVM_EXPECT_TIMER_CANCEL() - timer @id cancelled. */
#define AVM_EXPECT_TIMER_CANCEL(h, id)                                         \
	AVM_EXPECT(h, .kind = AVM_DET_TIMER_CANCEL, .fields = AVM_HM_TIMER,    \
		   .timer = (id))

/** AVM_EXPECT_FD_WATCH() - descriptor watch @id installed. */
#define AVM_EXPECT_FD_WATCH(h, id)                                             \
	AVM_EXPECT(h, .kind = AVM_DET_FD_WATCH, .fields = AVM_HM_TIMER,        \
		   .timer = (id))

#ifdef __cplusplus
}
#endif
#endif /* ACTORVM_HARNESS_H */
