/* SPDX-License-Identifier: MIT */
/*
 * The actor test harness: one actor under test (the DUT) and a sink peer on
 * a deterministic runtime, with everything the DUT does deep-copied into a
 * capture list that tests match against. Only the public API is used, so the
 * harness tests the same paths device code runs on.
 */
/* cmocka.h needs these first; keep the order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/harness.h>

#include "internal.h"

#define PAGE 0x1000ull
/* Above the RAM a test typically adds, below 4 GiB like real device BARs. */
#define MMIO_BASE 0xd0000000ull
#define PIO_BASE  0x1000ull
#define PIO_ALIGN 0x10ull

struct avm_harness {
	struct avm_harness_opts opts;
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id dut;
	avm_actor_id peer;
	bool started;
	bool autorun;
	uint64_t ram_top; /* end of the highest RAM block */
	uint64_t *bases;  /* per region, valid once started */
	struct avm_harness_event **ev;
	unsigned n_ev, cap_ev;
	unsigned next_seq;
	int capture_err; /* an event could not be copied (-ENOMEM) */
	char *fail_buf;	 /* the last failure message, owned */
};

/* --- The peer: accepts everything, does nothing ----------------------------
 */

static void peer_handle(void *state, const struct avm_msg *msg, avm_ctx *ctx)
{
	/* A request is answered -EIO by the framework: nobody is there. */
}

static const struct avm_device_ops peer_ops = {
	.type = "harness-peer",
	.doc = "test harness sink: every port of the actor under test",
	.handle = peer_handle,
};

/* --- Captures ------------------------------------------------------------- */

static void *dup_bytes(const void *p, size_t len)
{
	void *d;

	if (!p || !len)
		return NULL;
	d = malloc(len);
	if (d)
		memcpy(d, p, len);
	return d;
}

static void copy_msg(struct avm_harness_event *e, const struct avm_det_event *o)
{
	const struct avm_msg *m = o->msg;
	const void *payload = avm_msg_payload(m, &e->len);
	struct avm_msg_user f;

	avm__msg_flatten(m, &f); /* the kind-blind view events have */
	e->port = o->port;
	e->port_name = o->port_name;
	e->dst = o->dst;
	e->msg_kind = m->kind;
	e->arg = f.arg;
	e->value = f.value;
	e->addr = f.addr;
	e->corr = m->corr;
	e->size = f.size;
	e->status = f.status;
	e->result = o->result;
	e->data = dup_bytes(payload, e->len);
}

static void copy_event(struct avm_harness_event *e,
		       const struct avm_det_event *o)
{
	e->kind = o->kind;
	e->time = o->time;
	e->dst = AVM_ACTOR_NONE;
	e->port = -1;
	if (o->kind == AVM_DET_SEND) {
		copy_msg(e, o);
		return;
	}
	e->write = o->write;
	e->gpa = o->gpa;
	e->len = o->kind == AVM_DET_DMA ? o->len : 0;
	e->data = dup_bytes(o->data, e->len);
	e->status = o->status;
	e->timer = o->timer;
	e->delay = o->delay;
	e->period = o->period;
}

static int grow(avm_harness *h)
{
	unsigned cap = h->cap_ev ? h->cap_ev * 2 : 64;
	struct avm_harness_event **ev;

	ev = realloc(h->ev, cap * sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	h->ev = ev;
	h->cap_ev = cap;
	return 0;
}

static void observer(void *arg, const struct avm_det_event *o)
{
	avm_harness *h = arg;
	struct avm_harness_event *e;

	/* Deliveries are the DUT's input, not something it did. */
	if (o->kind == AVM_DET_DELIVER || o->src != h->dut)
		return;
	if (h->n_ev == h->cap_ev && grow(h)) {
		h->capture_err = -ENOMEM;
		return;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		h->capture_err = -ENOMEM;
		return;
	}
	copy_event(e, o);
	/* A DMA read turned into a message has no bytes to copy. */
	if (e->len && !e->data && (o->kind == AVM_DET_SEND || o->data))
		h->capture_err = -ENOMEM;
	e->seq = h->next_seq++;
	h->ev[h->n_ev++] = e;
}

void avm_harness_clear(avm_harness *h)
{
	for (unsigned i = 0; i < h->n_ev; i++) {
		free(h->ev[i]->data);
		free(h->ev[i]);
	}
	h->n_ev = 0;
	h->capture_err = 0;
}

const struct avm_harness_event *const *avm_harness_events(avm_harness *h,
							  unsigned *n)
{
	*n = h->n_ev;
	return (const struct avm_harness_event *const *)h->ev;
}

/* --- Life cycle ----------------------------------------------------------- */

static int create_actors(avm_harness *h)
{
	struct avm_actor_spec peer = { .ops = &peer_ops,
				       .name = "harness-peer" };
	struct avm_actor_spec dut = {
		.ops = h->opts.ops,
		.name = h->opts.name,
		.config = h->opts.config,
		.isolation = { .process = h->opts.isolated,
			       .on_failure = AVM_ON_FAILURE_REMOVE },
	};
	int err;

	/* The peer first: ports bind to existing actors, stop goes reverse. */
	err = avm_actor_create(h->rt, &peer, &h->peer);
	if (!err)
		err = avm_actor_create(h->rt, &dut, &h->dut);
	for (unsigned i = 0;
	     !err && !h->opts.unbound && i < h->opts.ops->n_ports; i++)
		err = avm_bind(h->rt, h->dut, h->opts.ops->ports[i], h->peer,
			       0);
	return err;
}

static int setup(avm_harness *h)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_DETERMINISTIC,
					  .seed = h->opts.seed,
					  .log_level = h->opts.log_level };
	unsigned n = h->opts.ops->n_regions;
	int err;

	h->bases = calloc(n ? n : 1, sizeof(*h->bases));
	if (!h->bases)
		return -ENOMEM;
	err = avm_runtime_new(&cfg, &h->rt);
	if (err)
		return err;
	err = avm_det_set_observer(h->rt, observer, h);
	if (!err)
		err = create_actors(h);
	if (!err && h->opts.ram_size)
		err = avm_harness_try_ram_add(h, h->opts.ram_gpa,
					      h->opts.ram_size);
	if (!err)
		err = avm_accessor_new(h->rt, "harness", &h->acc);
	return err;
}

int avm_harness_new(const struct avm_harness_opts *opts, avm_harness **out)
{
	avm_harness *h;
	int err;

	if (!opts || !opts->ops || !opts->ops->handle || !out)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->opts = *opts;
	if (!h->opts.name)
		h->opts.name = opts->ops->type ? opts->ops->type : "dut";
	h->autorun = true;
	err = setup(h);
	if (!err && !opts->defer_start)
		err = avm_harness_try_start(h);
	if (err) {
		avm_harness_free(h);
		return err;
	}
	*out = h;
	return 0;
}

void avm_harness_free(avm_harness *h)
{
	if (!h)
		return;
	avm_accessor_free(h->acc);
	avm_runtime_free(h->rt);
	avm_harness_clear(h);
	free(h->ev);
	free(h->bases);
	free(h->fail_buf);
	free(h);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* MMIO above all RAM; a one-page hole between regions catches overruns. */
static uint64_t first_mmio_base(avm_harness *h)
{
	if (h->ram_top <= MMIO_BASE)
		return MMIO_BASE;
	return align_up(h->ram_top, PAGE) + PAGE;
}

static int map_regions(avm_harness *h)
{
	const struct avm_device_ops *ops = h->opts.ops;
	uint64_t mmio = first_mmio_base(h), pio = PIO_BASE;
	int err = 0;

	for (unsigned i = 0; !err && i < ops->n_regions; i++) {
		const struct avm_region_desc *rd = &ops->regions[i];

		if (rd->space == AVM_SPACE_PIO) {
			h->bases[i] = pio;
			pio = align_up(pio + rd->size, PIO_ALIGN) + PIO_ALIGN;
		} else {
			h->bases[i] = mmio;
			mmio = align_up(mmio + rd->size, PAGE) + PAGE;
		}
		err = avm_map(h->rt, h->dut, i, h->bases[i]);
	}
	return err;
}

static int settle(avm_harness *h)
{
	int n;

	if (!h->autorun)
		return 0;
	n = avm_det_run(h->rt, h->opts.max_steps);
	return n < 0 ? n : 0;
}

int avm_harness_try_start(avm_harness *h)
{
	int err;

	if (h->started)
		return -EALREADY;
	err = map_regions(h);
	if (!err)
		err = avm_runtime_start(h->rt);
	if (err)
		return err;
	h->started = true;
	return settle(h);
}

/* --- Set-up --------------------------------------------------------------- */

int avm_harness_try_bind(avm_harness *h, const char *port, uint32_t arg)
{
	return avm_bind(h->rt, h->dut, port, h->peer, arg);
}

int avm_harness_try_ram_add(avm_harness *h, uint64_t gpa, uint64_t size)
{
	int err;

	if (h->started)
		return -EBUSY;
	err = avm_ram_add(h->rt, gpa, size, NULL);
	if (!err && gpa + size > h->ram_top)
		h->ram_top = gpa + size;
	return err;
}

void *avm_harness_ram(avm_harness *h, uint64_t gpa, uint64_t len)
{
	return avm_ram_ptr(h->rt, gpa, len);
}

int avm_harness_try_poke(avm_harness *h, uint64_t gpa, const void *buf,
			 size_t len)
{
	void *host = avm_ram_ptr(h->rt, gpa, len);

	if (!host)
		return -EFAULT;
	memcpy(host, buf, len);
	return 0;
}

int avm_harness_try_peek(avm_harness *h, uint64_t gpa, void *buf, size_t len)
{
	const void *host = avm_ram_ptr(h->rt, gpa, len);

	if (!host)
		return -EFAULT;
	memcpy(buf, host, len);
	return 0;
}

int avm_harness_region_base(avm_harness *h, unsigned region, uint64_t *base)
{
	if (region >= h->opts.ops->n_regions)
		return -ENOENT;
	if (!h->started)
		return -EAGAIN;
	*base = h->bases[region];
	return 0;
}

/* --- Driving the DUT ------------------------------------------------------ */

void avm_harness_set_autorun(avm_harness *h, bool on)
{
	h->autorun = on;
}

int avm_harness_run(avm_harness *h)
{
	return avm_det_run(h->rt, h->opts.max_steps);
}

int avm_harness_step(avm_harness *h)
{
	return avm_det_step(h->rt);
}

unsigned avm_harness_pending(avm_harness *h)
{
	return avm_det_pending(h->rt);
}

static bool valid_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* The bus address of (region, offset), if the access fits the region. */
static int resolve(avm_harness *h, unsigned region, uint64_t off, unsigned size,
		   enum avm_space *space, uint64_t *addr)
{
	const struct avm_region_desc *rd;

	if (region >= h->opts.ops->n_regions)
		return -ENOENT;
	if (!valid_size(size))
		return -EINVAL;
	rd = &h->opts.ops->regions[region];
	if (off >= rd->size || size > rd->size - off)
		return -ENXIO;
	if (!h->started)
		return -EAGAIN;
	*space = rd->space;
	*addr = h->bases[region] + off;
	return 0;
}

int avm_harness_try_write(avm_harness *h, unsigned region, uint64_t off,
			  unsigned size, uint64_t val)
{
	enum avm_space space;
	uint64_t addr;
	int err = resolve(h, region, off, size, &space, &addr);

	if (!err)
		err = avm_write(h->acc, space, addr, size, val);
	return err ? err : settle(h);
}

int avm_harness_try_read(avm_harness *h, unsigned region, uint64_t off,
			 unsigned size, uint64_t *val)
{
	enum avm_space space;
	uint64_t addr;
	int err = resolve(h, region, off, size, &space, &addr);

	if (!err)
		err = avm_read(h->acc, space, addr, size, val);
	/* The read may have left work behind (an IRQ it lowered...). */
	return err ? err : settle(h);
}

int avm_harness_try_send(avm_harness *h, struct avm_msg *msg)
{
	int err;

	if (!h->started) {
		avm_msg_release(msg);
		return -EAGAIN;
	}
	err = avm_post(h->acc, h->dut, msg);
	return err ? err : settle(h);
}

int avm_harness_try_send_data(avm_harness *h, uint16_t kind, uint32_t arg,
			      const void *data, size_t len)
{
	/* The first word of every body: where a binding's argument goes. */
	struct avm_msg m = { .kind = kind, .user.arg = arg };
	int err = avm_msg_set_payload(&m, data, len);

	return err ? err : avm_harness_try_send(h, &m);
}

int avm_harness_try_irq(avm_harness *h, uint32_t line, bool level)
{
	struct avm_msg m = { .kind = AVM_MSG_IRQ,
			     .irq = { .line = line, .level = level } };

	return avm_harness_try_send(h, &m);
}

int avm_harness_try_request(avm_harness *h, struct avm_msg *msg, uint64_t *val)
{
	int err;

	if (!h->started) {
		avm_msg_release(msg);
		return -EAGAIN;
	}
	err = avm_request(h->acc, h->dut, msg, val);
	return err ? err : settle(h);
}

int avm_harness_try_fd_ready(avm_harness *h, unsigned watch, unsigned events)
{
	int err = avm_det_fd_ready(h->rt, h->dut, watch, events);

	return err ? err : settle(h);
}

int avm_harness_try_reset(avm_harness *h)
{
	int err;

	if (!h->started)
		return -EAGAIN;
	err = avm_actor_reset(h->rt, h->dut);
	return err ? err : settle(h);
}

/* --- Virtual time and white box ------------------------------------------- */

int avm_harness_try_advance(avm_harness *h, uint64_t ns)
{
	if (!h->started)
		return -EAGAIN;
	return avm_det_advance(h->rt, ns);
}

uint64_t avm_harness_now(avm_harness *h)
{
	return avm_det_now(h->rt);
}

int avm_harness_timer_due(avm_harness *h, unsigned id, uint64_t *due)
{
	return avm_det_timer_due(h->rt, h->dut, id, due);
}

void *avm_harness_state(avm_harness *h)
{
	return avm_actor_state(h->rt, h->dut);
}

avm_runtime *avm_harness_runtime(avm_harness *h)
{
	return h->rt;
}

avm_actor_id avm_harness_actor(avm_harness *h)
{
	return h->dut;
}

avm_actor_id avm_harness_peer(avm_harness *h)
{
	return h->peer;
}

/* --- Matching ------------------------------------------------------------- */

struct field {
	unsigned flag;
	size_t ev_off, m_off, size;
};

/* Fields that have the same name and type in the event and the match. */
#define FIELD(flag, name)                                                      \
	{                                                                      \
		flag, offsetof(struct avm_harness_event, name),                \
			offsetof(struct avm_harness_match, name),              \
			sizeof(((struct avm_harness_match *)NULL)->name)       \
	}

static const struct field plain_fields[] = {
	FIELD(AVM_HM_DST, dst),	      FIELD(AVM_HM_MSG_KIND, msg_kind),
	FIELD(AVM_HM_ARG, arg),	      FIELD(AVM_HM_VALUE, value),
	FIELD(AVM_HM_ADDR, addr),     FIELD(AVM_HM_WRITE, write),
	FIELD(AVM_HM_GPA, gpa),	      FIELD(AVM_HM_LEN, len),
	FIELD(AVM_HM_STATUS, status), FIELD(AVM_HM_TIMER, timer),
	FIELD(AVM_HM_DELAY, delay),   FIELD(AVM_HM_PERIOD, period),
};

static bool match_data(const struct avm_harness_event *e,
		       const struct avm_harness_match *m)
{
	if (e->len != m->len)
		return false;
	return !m->len ||
	       (e->data && m->data && !memcmp(e->data, m->data, m->len));
}

static bool matches(const struct avm_harness_event *e,
		    const struct avm_harness_match *m)
{
	if (!m)
		return true;
	if (m->kind && e->kind != m->kind)
		return false;
	if ((m->fields & AVM_HM_PORT) &&
	    (!e->port_name || !m->port || strcmp(e->port_name, m->port)))
		return false;
	if ((m->fields & AVM_HM_DATA) && !match_data(e, m))
		return false;
	for (size_t i = 0; i < sizeof(plain_fields) / sizeof(*plain_fields);
	     i++) {
		const struct field *f = &plain_fields[i];

		if ((m->fields & f->flag) &&
		    memcmp((const char *)e + f->ev_off,
			   (const char *)m + f->m_off, f->size))
			return false;
	}
	return true;
}

static struct avm_harness_event *
first(avm_harness *h, const struct avm_harness_match *m, bool next)
{
	for (unsigned i = 0; i < h->n_ev; i++) {
		if (h->ev[i]->consumed)
			continue;
		if (matches(h->ev[i], m))
			return h->ev[i];
		if (next)
			break;
	}
	return NULL;
}

unsigned avm_harness_count(avm_harness *h, const struct avm_harness_match *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h->n_ev; i++)
		n += !h->ev[i]->consumed && matches(h->ev[i], m);
	return n;
}

const struct avm_harness_event *
avm_harness_find(avm_harness *h, const struct avm_harness_match *m)
{
	return first(h, m, false);
}

static const struct avm_harness_event *consume(struct avm_harness_event *e)
{
	if (e)
		e->consumed = true;
	return e;
}

const struct avm_harness_event *
avm_harness_take(avm_harness *h, const struct avm_harness_match *m)
{
	return consume(first(h, m, false));
}

const struct avm_harness_event *
avm_harness_take_next(avm_harness *h, const struct avm_harness_match *m)
{
	return consume(first(h, m, true));
}

/* --- Printing ------------------------------------------------------------- */

static const char *const det_kind_names[] = {
	[AVM_DET_DELIVER] = "DELIVER",
	[AVM_DET_SEND] = "SEND",
	[AVM_DET_DMA] = "DMA",
	[AVM_DET_TIMER_ARM] = "TIMER_ARM",
	[AVM_DET_TIMER_CANCEL] = "TIMER_CANCEL",
	[AVM_DET_FD_WATCH] = "FD_WATCH",
};

static const char *const msg_kind_names[] = {
	[AVM_MSG_NONE] = "NONE",
	[AVM_MSG_READ] = "READ",
	[AVM_MSG_WRITE] = "WRITE",
	[AVM_MSG_IRQ] = "IRQ",
	[AVM_MSG_DMA_DONE] = "DMA_DONE",
	[AVM_MSG_FRAME] = "FRAME",
	[AVM_MSG_CHAR] = "CHAR",
	[AVM_MSG_TIMER] = "TIMER",
	[AVM_MSG_FD] = "FD",
	[AVM_MSG_CONTINUE] = "CONTINUE",
	[AVM_MSG_RESET] = "RESET",
	[AVM_MSG_STOP] = "STOP",
	[AVM_MSG_REPLY] = "REPLY",
};

static void print_kind(FILE *f, enum avm_det_event_kind kind)
{
	if ((unsigned)kind < sizeof(det_kind_names) / sizeof(*det_kind_names) &&
	    det_kind_names[kind])
		fprintf(f, "%s", det_kind_names[kind]);
	else
		fprintf(f, "kind %u", (unsigned)kind);
}

static void print_msg_kind(FILE *f, uint16_t kind)
{
	if (kind < sizeof(msg_kind_names) / sizeof(*msg_kind_names))
		fprintf(f, "%s", msg_kind_names[kind]);
	else if (kind >= AVM_MSG_USER)
		fprintf(f, "USER+%u", kind - AVM_MSG_USER);
	else
		fprintf(f, "%u", kind);
}

static void print_send(FILE *f, avm_harness *h,
		       const struct avm_harness_event *e)
{
	const char *dst = avm_actor_name(h->rt, e->dst);

	fprintf(f, " port %s -> %s ", e->port_name ? e->port_name : "(none)",
		dst ? dst : "(unbound)");
	print_msg_kind(f, e->msg_kind);
	fprintf(f, " arg=%u value=0x%llx addr=0x%llx len=%zu", e->arg,
		(unsigned long long)e->value, (unsigned long long)e->addr,
		e->len);
}

static void print_event(FILE *f, avm_harness *h,
			const struct avm_harness_event *e)
{
	fprintf(f, "  #%u t=%lluns ", e->seq, (unsigned long long)e->time);
	print_kind(f, e->kind);
	if (e->kind == AVM_DET_SEND)
		print_send(f, h, e);
	else if (e->kind == AVM_DET_DMA)
		fprintf(f, " %s gpa=0x%llx len=%zu status=%d",
			e->write ? "write" : "read", (unsigned long long)e->gpa,
			e->len, e->status);
	else if (e->kind == AVM_DET_TIMER_ARM)
		fprintf(f, " id=%u delay=%llu period=%llu", e->timer,
			(unsigned long long)e->delay,
			(unsigned long long)e->period);
	else
		fprintf(f, " id=%u", e->timer);
	fprintf(f, "%s\n", e->consumed ? " (consumed)" : "");
}

int avm_harness_dump(avm_harness *h, FILE *f)
{
	unsigned left = avm_harness_count(h, NULL);

	fprintf(f, "captured events (%u, %u unconsumed):\n", h->n_ev, left);
	if (!h->n_ev)
		fprintf(f, "  (none)\n");
	for (unsigned i = 0; i < h->n_ev; i++)
		print_event(f, h, h->ev[i]);
	if (h->capture_err)
		fprintf(f, "  (events were lost: out of memory)\n");
	return ferror(f) ? -EIO : 0;
}

/* Each field in the base print_event() shows it in, so that a pattern and
 * the captured event it missed read alike: values, addresses in hex;
 * counts, ids, lines and times in decimal. */
static void print_u64(FILE *f, unsigned fields, unsigned flag, const char *name,
		      uint64_t v, bool hex)
{
	if (fields & flag)
		fprintf(f, hex ? " %s=0x%llx" : " %s=%llu", name,
			(unsigned long long)v);
}

static void print_match(FILE *f, const struct avm_harness_match *m)
{
	unsigned x = m->fields;

	fprintf(f, "{ ");
	if (m->kind)
		print_kind(f, m->kind);
	else
		fprintf(f, "any");
	if (x & AVM_HM_PORT)
		fprintf(f, " port=%s", m->port ? m->port : "(null)");
	if (x & AVM_HM_MSG_KIND) {
		fprintf(f, " msg=");
		print_msg_kind(f, m->msg_kind);
	}
	if (x & AVM_HM_WRITE)
		fprintf(f, " %s", m->write ? "write" : "read");
	if (x & AVM_HM_STATUS)
		fprintf(f, " status=%d", m->status);
	if (x & (AVM_HM_LEN | AVM_HM_DATA))
		fprintf(f, " len=%zu%s", m->len,
			x & AVM_HM_DATA ? "+data" : "");
	print_u64(f, x, AVM_HM_DST, "dst", m->dst, false);
	print_u64(f, x, AVM_HM_ARG, "arg", m->arg, false);
	print_u64(f, x, AVM_HM_VALUE, "value", m->value, true);
	print_u64(f, x, AVM_HM_ADDR, "addr", m->addr, true);
	print_u64(f, x, AVM_HM_GPA, "gpa", m->gpa, true);
	print_u64(f, x, AVM_HM_TIMER, "id", m->timer, false);
	print_u64(f, x, AVM_HM_DELAY, "delay", m->delay, false);
	print_u64(f, x, AVM_HM_PERIOD, "period", m->period, false);
	fprintf(f, " }");
}

/* --- Failures ------------------------------------------------------------- */

static void cmocka_fail(void *arg, const char *file, int line, const char *msg)
{
	print_error("%s\n", msg);
	_fail(file, line);
}

struct report {
	char *buf;
	size_t size;
	FILE *f;
};

static FILE *report_begin(struct report *r)
{
	r->buf = NULL;
	r->f = open_memstream(&r->buf, &r->size);
	return r->f;
}

/* Append the captures, keep the text in @h, hand it to the handler. */
static void report_end(avm_harness *h, struct report *r, const char *file,
		       int line)
{
	avm_harness_fail_fn fn = h->opts.fail ? h->opts.fail : cmocka_fail;
	const char *msg = "actorvm harness: out of memory reporting a failure";

	if (r->f) {
		fprintf(r->f, "\n");
		avm_harness_dump(h, r->f);
		if (!fclose(r->f) && r->buf) {
			free(h->fail_buf);
			h->fail_buf = r->buf;
			msg = r->buf;
		} else {
			free(r->buf);
		}
	}
	fn(h->opts.fail_arg, file, line, msg);
}

static bool report_lost(avm_harness *h, const char *file, int line)
{
	struct report r;

	if (!h->capture_err)
		return false;
	if (report_begin(&r))
		fprintf(r.f, "harness: events were lost (%s)",
			strerror(-h->capture_err));
	report_end(h, &r, file, line);
	return true;
}

const struct avm_harness_event *
avm_harness_expect_at(avm_harness *h, const struct avm_harness_match *m,
		      bool next, const char *file, int line)
{
	const struct avm_harness_event *e;
	struct report r;

	if (report_lost(h, file, line))
		return NULL;
	e = next ? avm_harness_take_next(h, m) : avm_harness_take(h, m);
	if (e)
		return e;
	if (report_begin(&r)) {
		fprintf(r.f, "%s: no %s event matches ",
			next ? "AVM_EXPECT_NEXT" : "AVM_EXPECT",
			next ? "next unconsumed" : "unconsumed");
		print_match(r.f, m);
	}
	report_end(h, &r, file, line);
	return NULL;
}

int avm_harness_expect_none_at(avm_harness *h,
			       const struct avm_harness_match *m,
			       const char *file, int line)
{
	const struct avm_harness_event *e;
	struct report r;

	if (report_lost(h, file, line))
		return -EEXIST;
	e = avm_harness_find(h, m);
	if (!e)
		return 0;
	if (report_begin(&r)) {
		fprintf(r.f, "%s: unexpected event #%u",
			m ? "AVM_EXPECT_NO" : "AVM_EXPECT_NONE", e->seq);
		if (m) {
			fprintf(r.f, " matches ");
			print_match(r.f, m);
		}
	}
	report_end(h, &r, file, line);
	return -EEXIST;
}

int avm_harness_check_at(avm_harness *h, int err, const char *what,
			 const char *file, int line)
{
	struct report r;

	if (err >= 0)
		return err;
	if (report_begin(&r))
		fprintf(r.f, "avm_harness_%s failed: %d (%s)", what, err,
			strerror(-err));
	report_end(h, &r, file, line);
	return err;
}

uint64_t avm_harness_read_at(avm_harness *h, unsigned region, uint64_t off,
			     unsigned size, const char *file, int line)
{
	uint64_t val = 0;
	int err = avm_harness_try_read(h, region, off, size, &val);
	struct report r;

	if (!err)
		return val;
	if (report_begin(&r))
		fprintf(r.f,
			"avm_harness_read(region %u, offset 0x%llx, size %u) "
			"failed: %d (%s)",
			region, (unsigned long long)off, size, err,
			strerror(-err));
	report_end(h, &r, file, line);
	return 0;
}

uint64_t avm_harness_request_at(avm_harness *h, struct avm_msg *msg,
				const char *file, int line)
{
	uint64_t val = 0;
	int err = avm_harness_try_request(h, msg, &val);

	avm_harness_check_at(h, err, "request", file, line);
	return err ? 0 : val;
}
