/* SPDX-License-Identifier: MIT */
/*
 * A device process: one thread that serves one actor from the ring the
 * supervisor fills, and turns each of the actor's calls that reach beyond
 * its own state into a record for the supervisor (iso.h). It is a fork of
 * the VMM: its copy of the runtime is private to it, so what it changes
 * there (no tracing, its own executor, its own log) stays here.
 *
 * Only this process's own thread runs after the fork. It takes no lock the
 * VMM's other threads may have held at the fork (glibc's fork resets the
 * allocator's), and ends with _exit(): the VMM's atexit handlers and leak
 * checks are not its to run.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/sandbox.h>

#include "iso.h"

#define OUT_FULL_NAP_NS	 20000 /* the supervisor drains a full ring */
#define ISO_EXIT_SANDBOX 160   /* the sandbox could not be entered */

static void kick(struct avm_iso_child *c, bool always)
{
	uint64_t one = 1;
	bool wanted;

	/* Full fence: the record's publication before the read of out_kick,
	 * against the supervisor's store of out_kick before its look at the
	 * ring (drain_and_arm in isolation.c): one of the two sees the other.
	 */
	avm_full_fence();
	wanted =
		atomic_load_explicit(&c->shm->out_kick, memory_order_relaxed) &&
		atomic_exchange(&c->shm->out_kick, 0);
	if (wanted || always)
		(void)!write(c->notify, &one, sizeof(one));
}

static struct iso_rec *out_claim(struct avm_iso_child *c)
{
	struct timespec nap = { 0, OUT_FULL_NAP_NS };
	struct iso_rec *r;

	/* Full: the supervisor drains from its loop, or, waiting for our
	 * answer, each time it wakes on the cell; make sure it wakes. */
	while (!(r = iso_ring_claim(&c->shm->out, &c->out_head_seen))) {
		if (c->in_request)
			iso_futex_wake(&c->shm->cell);
		else
			kick(c, true);
		nanosleep(&nap, NULL);
	}
	memset(r, 0, offsetof(struct iso_rec, payload));
	return r;
}

static void out_publish(struct avm_iso_child *c)
{
	iso_ring_publish(&c->shm->out);
	/* A request's effects: the supervisor makes them after our answer,
	 * which it waits for; no kick. */
	if (!c->in_request)
		kick(c, false);
}

int avm__isoc_send(struct avm_actor *a, unsigned how, unsigned port,
		   avm_actor_id dst, const struct avm_msg *m, unsigned flags)
{
	struct iso_rec *r = out_claim(a->isoc);
	size_t len = 0;
	const void *p = avm_msg_payload(m, &len);

	r->op = ISO_OUT_SEND;
	r->ival = (int32_t)how;
	r->arg = port;
	r->u64 = dst;
	r->flags = flags;
	r->msg = *m;
	memset(&r->msg.fw, 0, sizeof(r->msg.fw));
	if (p && len <= AVM_MSG_MAX_PAYLOAD) {
		memcpy(r->payload, p, len);
		r->len = (uint32_t)len;
	}
	out_publish(a->isoc);
	return 0;
}

int avm__isoc_irq(struct avm_actor *a, unsigned port, bool level)
{
	struct iso_rec *r;

	if (port >= a->ops->n_ports)
		return -EINVAL;
	r = out_claim(a->isoc);
	r->op = ISO_OUT_IRQ;
	r->arg = port;
	r->ival = level;
	out_publish(a->isoc);
	return 0;
}

void avm__isoc_vm_exit(struct avm_actor *a, int code)
{
	struct iso_rec *r = out_claim(a->isoc);

	r->op = ISO_OUT_VM_EXIT;
	r->ival = code;
	out_publish(a->isoc);
}

static void out_text(struct avm_iso_child *c, uint32_t op, int level,
		     const char *text)
{
	struct iso_rec *r = out_claim(c);
	size_t n = strlen(text); /* always terminated: ours or vsnprintf's */

	if (n > 511)
		n = 511;
	r->op = op;
	r->ival = level;
	memcpy(r->payload, text, n);
	r->len = (uint32_t)n;
	out_publish(c);
}

bool avm__isoc_dma_off(struct avm_actor *a)
{
	/* Acquire: pairs with the supervisor's release in dma_enable. */
	return atomic_load_explicit(&a->isoc->shm->dma_off,
				    memory_order_acquire);
}

/* The executor of this process: what ctx.c and dma.c reach through it. */
static int child_post(struct avm_actor *dst, struct avm_msg *m,
		      struct avm_actor *from)
{
	/* Only the actor itself sends from here (a DMA to MMIO). */
	return avm__isoc_send(from, 2 /* SEND_TO */, 0, dst->id, m,
			      m->fw.flags & (AVM_MF_ASK | AVM_MF_DMA_READ));
}

static int child_timer_arm(struct avm_actor *a, unsigned id, uint64_t delay,
			   uint64_t period)
{
	struct iso_rec *r = out_claim(a->isoc);

	r->op = ISO_OUT_TIMER_ARM;
	r->arg = id;
	r->u64 = delay;
	r->u64b = period;
	out_publish(a->isoc);
	return 0;
}

static void child_timer_cancel(struct avm_actor *a, unsigned id)
{
	struct iso_rec *r = out_claim(a->isoc);

	r->op = ISO_OUT_TIMER_CANCEL;
	r->arg = id;
	out_publish(a->isoc);
}

static int child_fd_watch(struct avm_actor *a, unsigned id, int fd, unsigned ev)
{
	(void)a, (void)id, (void)fd, (void)ev;
	return -EPERM; /* a device process opens nothing to watch */
}

static void child_fd_unwatch(struct avm_actor *a, unsigned id)
{
	(void)a, (void)id;
}

/* From this process's executor (a member of its struct): the process. */
static struct avm_iso_child *child_of(avm_runtime *rt)
{
	return (struct avm_iso_child *)((char *)rt->exec -
					offsetof(struct avm_iso_child, exec));
}

/* Real time is the same clock in both processes; virtual time is the
 * runtime's at the message being handled (the supervisor writes it). */
static uint64_t child_now(avm_runtime *rt)
{
	struct iso_shm *s = child_of(rt)->shm;

	if (atomic_load_explicit(&s->virtual_time, memory_order_relaxed))
		return atomic_load_explicit(&s->vnow, memory_order_relaxed);
	return avm_mono_ns();
}

/* An observer in the VMM (the harness) sees the DMA done here. */
static void child_on_dma(struct avm_actor *a, bool write, uint64_t gpa,
			 const void *buf, size_t len, int status)
{
	struct iso_rec *r = out_claim(a->isoc);
	size_t n = len < AVM_MSG_MAX_PAYLOAD ? len : AVM_MSG_MAX_PAYLOAD;

	r->op = ISO_OUT_DMA;
	r->arg = write;
	r->u64 = gpa;
	r->u64b = len;
	r->ival = status;
	if (buf && n)
		memcpy(r->payload, buf, n);
	r->len = buf ? (uint32_t)n : 0;
	out_publish(a->isoc);
}

static void child_log(void *arg, int level, const char *actor, const char *line)
{
	(void)actor; /* the supervisor names the actor */
	out_text(arg, ISO_OUT_LOG, level, line);
}

/* Take this process's copy of the runtime over: no trace, no journal. */
static void own_runtime(struct avm_iso_child *c, struct avm_actor *a)
{
	avm_runtime *rt = a->rt;

	atomic_store(&rt->trace_on, false);
	atomic_store(&a->jmode, AVM_JMODE_OFF);
	c->exec = *rt->exec;
	c->exec.post = child_post;
	c->exec.timer_arm = child_timer_arm;
	c->exec.timer_cancel = child_timer_cancel;
	c->exec.fd_watch = child_fd_watch;
	c->exec.fd_unwatch = child_fd_unwatch;
	c->exec.after_handle = NULL;
	c->exec.now = child_now;
	c->exec.on_dma = rt->exec->on_dma ? child_on_dma : NULL;
	c->exec.on_send = NULL;
	c->exec.settle = NULL;
	rt->exec = &c->exec;
	rt->cfg.log = child_log;
	rt->cfg.log_arg = c;
	a->isoc = c;
	a->iso = NULL;	/* the supervisor's, in the VMM */
	a->exec = NULL; /* the VMM's server thread is not here */
}

/* Whether [lo, hi) overlaps [p, p + len). */
static bool overlaps(uintptr_t lo, uintptr_t hi, const void *p, size_t len)
{
	return lo < (uintptr_t)p + len && (uintptr_t)p < hi;
}

static bool keep_shared(struct avm_actor *a, struct iso_shm *shm, uintptr_t lo,
			uintptr_t hi)
{
	if (overlaps(lo, hi, shm, sizeof(*shm)))
		return true;
	for (unsigned i = 0; i < a->rt->n_ram; i++)
		if (overlaps(lo, hi, a->rt->ram[i].host, a->rt->ram[i].size))
			return true;
	return false;
}

/*
 * A fork keeps every shared mapping of the VMM live: the guest RAM of its
 * other VMs, the rings of other device processes, a KVM VCPU's run page.
 * Unmap all but this device's rings and its own VM's RAM, before the
 * sandbox shuts /proc. Ranges are collected first: unmapping while
 * reading the file would shift it under the reader. Returns how many were
 * cut, or a negative errno (the process then stops: fail closed).
 */
static int cut_shared(struct avm_actor *a, struct iso_shm *shm)
{
	FILE *f = fopen("/proc/self/maps", "re");
	uintptr_t(*cut)[2] = NULL, lo, hi;
	size_t n = 0, cap = 0;
	char line[512], perms[8];
	int ret = 0;

	if (!f)
		return -errno;
	while (ret == 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s", &lo, &hi,
			   perms) != 3 ||
		    perms[3] != 's' || keep_shared(a, shm, lo, hi))
			continue;
		if (n == cap) {
			void *p = realloc(cut, (cap = cap ? 2 * cap : 16) *
						       sizeof(*cut));

			if (!p) {
				ret = -ENOMEM;
				break;
			}
			cut = p;
		}
		cut[n][0] = lo;
		cut[n++][1] = hi;
	}
	fclose(f);
	for (size_t i = 0; ret == 0 && i < n; i++)
		if (munmap((void *)cut[i][0], cut[i][1] - cut[i][0]))
			ret = -errno;
	free(cut);
	return ret ? ret : (int)n;
}

static void say_sandbox(struct avm_iso_child *c,
			const struct avm_sandbox_report *r, int cut)
{
	char text[320];

	snprintf(text, sizeof(text),
		 "%s%s%s, %u fds closed, %d shared mappings unmapped, "
		 "namespaces %s",
		 r->seccomp ? "seccomp" : "NO seccomp",
		 r->no_new_privs ? ", no-new-privs" : "",
		 r->caps_dropped ? ", caps dropped" : "", r->fds_closed, cut,
		 r->namespaces ? "new" : r->ns_why);
	out_text(c, ISO_OUT_SANDBOX, 0, text);
}

/* The VMM's signal handlers (a test framework's, a sanitizer's) are not
 * this process's: a fault here must end it, as the fault it is. */
static void default_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void idle_wait(struct avm_iso_child *c)
{
	struct iso_shm *s = c->shm;
	uint64_t t0 = avm_mono_ns();

	/* The clock once per ISO_POLLS_PER_CLOCK looks at the ring. */
	for (unsigned polls = 1; c->spin_ns; polls++) {
		if (iso_ring_peek_op(&s->in))
			return;
		avm_cpu_relax();
		if (!(polls % ISO_POLLS_PER_CLOCK) &&
		    avm_mono_ns() - t0 >= (uint64_t)c->spin_ns)
			break;
	}
	atomic_store(&s->in_sleep, 1);
	/* Full fence: in_sleep before the look at the ring, against the
	 * supervisor's publication before its look at in_sleep. */
	avm_full_fence();
	if (!iso_ring_peek_op(&s->in))
		iso_futex_wait(&s->in_sleep, 1, UINT64_MAX);
	atomic_store(&s->in_sleep, 0);
}

static void answer(struct iso_shm *s, struct avm_reply_slot *slot)
{
	uint64_t v = 0;
	int err = avm_slot_done(slot) ? avm_slot_take(slot, &v) : -EIO;

	atomic_store_explicit(&s->cell_value, v, memory_order_relaxed);
	atomic_store_explicit(&s->cell_err, err, memory_order_relaxed);
	/* Release: the value before DONE; wake a supervisor that sleeps. */
	if (atomic_exchange(&s->cell, CELL_DONE) == CELL_SLEEP)
		iso_futex_wake(&s->cell);
}

/* Take one record (the ring is the trusted direction) and handle it. */
static bool serve_one(struct avm_iso_child *c, struct avm_actor *a)
{
	struct iso_rec *r = iso_ring_peek_op(&c->shm->in);
	struct avm_reply_slot slot = { 0 };
	struct avm_msg m;
	uint32_t op, flags;
	uint64_t n;

	if (!r)
		return false;
	op = r->op;
	flags = r->flags;
	memcpy(&m, &r->msg, ISO_MSG_BYTES); /* the part the VMM wrote */
	memset(&m.fw, 0, sizeof(m.fw));
	if (r->len)
		avm_msg_set_payload(&m, r->payload, r->len);
	iso_ring_release_op(&c->shm->in, r);
	if (op == ISO_IN_STOP) {
		avm__actor_fini(a);
		_exit(0);
	}
	c->in_request = flags & ISO_F_REQUEST;
	if (c->in_request) {
		m.fw.slot = &slot;
		avm_slot_arm(&slot, m.corr);
	}
	avm__deliver(a, &m);
	/* Counted before the answer: a VCPU that has its answer finds every
	 * message up to it handled, so its next direct read stays in place
	 * (avm__iso_direct). Release: effects and direct values before.
	 * A load and a store, not an RMW: the process is its only writer. */
	n = atomic_load_explicit(&c->shm->handled, memory_order_relaxed);
	atomic_store_explicit(&c->shm->handled, n + 1, memory_order_release);
	if (c->in_request)
		answer(c->shm, &slot);
	c->in_request = false;
	return true;
}

void avm__isoc_direct_set(struct avm_actor *a, unsigned slot, uint64_t v)
{
	/* Release: VCPUs in the VMM read it with acquire (avm__iso_direct);
	 * the count of handled messages comes after it as well. */
	atomic_store_explicit(&a->isoc->shm->direct[slot], v,
			      memory_order_release);
}

void avm__iso_child_main(struct avm_actor *a, struct iso_shm *shm, int notify,
			 int report, bool namespaces)
{
	struct avm_iso_child c = { .shm = shm, .notify = notify };
	int keep[2] = { notify, report };
	struct avm_sandbox_opts o = { .keep = keep,
				      .n_keep = 2,
				      .report_fd = report,
				      .namespaces = namespaces };
	struct avm_sandbox_report rep;
	struct iso_rec *r;
	int err, cut;

	c.spin_ns = a->spec.spin_ns ? a->spec.spin_ns : 20000; /* <0: forever */
	default_signals();
	own_runtime(&c, a);
	cut = cut_shared(a, shm);
	if (cut < 0 || avm_sandbox_enter(&o, &rep))
		_exit(ISO_EXIT_SANDBOX);
	say_sandbox(&c, &rep, cut);
	err = avm__actor_init(a);
	r = out_claim(&c);
	r->op = ISO_OUT_INIT_DONE;
	r->ival = err;
	out_publish(&c);
	if (err)
		_exit(0);
	for (;;)
		if (!serve_one(&c, a))
			idle_wait(&c);
}
