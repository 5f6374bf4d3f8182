/* SPDX-License-Identifier: MIT */
/*
 * The supervisor of a device process (actorvm/isolation.h), in the VMM.
 *
 * The actor stays an ordinary actor of the runtime: same id, regions,
 * ports, mailbox and fast path. Only its handler is replaced: each message
 * is copied into the process's ring, a request waits for the reply cell,
 * and the effects the process recorded (sends, IRQs, timers, logs, VM
 * exit) are made here, as the actor, before the answer is given. The
 * actor's timers are the supervisor's (the process gets their messages);
 * its loop watches an eventfd the process kicks when it recorded effects
 * while nothing was waiting for it.
 *
 * A monitor thread per process waits on its pidfd: on death it reaps the
 * process, fails the read in flight at once (CELL_DEAD), and kicks the
 * eventfd; the actor then applies the policy in its own handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <actorvm/sandbox.h>
#include <actorvm/trace.h>

#include "iso.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define ISO_WATCH	0	       /* the actor's fd watch: our eventfd */
#define INIT_WAIT_NS	10000000000ull /* a process's init, at most */
#define STOP_WAIT_NS	1000000000ull  /* a clean exit after STOP */
#define SLEEP_SLICE_NS	1000000ull     /* a request's futex sleep, at most */
#define DRAIN_BATCH	(4 * ISO_DEPTH)
#define MAX_WINDOW_HIST 64

struct avm_iso {
	struct avm_actor *a;
	struct iso_shm *shm;
	int notify; /* eventfd: the process and the monitor kick it */
	int pid, pidfd, report;
	pthread_t monitor;
	bool monitoring;
	/* Set by the monitor (release) once it reaped the process. */
	_Atomic bool dead;
	siginfo_t si;
	const char *kill_why;  /* we killed it, and why */
	sem_t forked;	       /* the monitor forked (fork_err: how it went) */
	uint64_t in_head_seen; /* iso_ring_claim() */
	int fork_err;
	/* The deterministic executor's: each message is waited for, its
	 * effects made before the handler returns, time is virtual. */
	bool sync;
	bool woke; /* the last push woke the process */
	/* The process finished its init and the direct values are its own
	 * (false from a spawn until then, and once it stops). */
	_Atomic bool direct_live;
	/* Starts within the window (ring of times), for the restart limit. */
	uint64_t starts[MAX_WINDOW_HIST];
	unsigned n_starts;
	/* What ctl reads, from any thread. */
	pthread_mutex_t lock;
	struct avm_process_info info;
};

const char *avm_on_failure_name(enum avm_on_failure p)
{
	switch (p) {
	case AVM_ON_FAILURE_RESTART:
		return "restart";
	case AVM_ON_FAILURE_STOP_VM:
		return "stop-vm";
	case AVM_ON_FAILURE_REMOVE:
		return "remove";
	}
	return "?";
}

static void set_state(struct avm_iso *s, enum avm_process_state st, int pid)
{
	pthread_mutex_lock(&s->lock);
	s->info.state = st;
	if (pid)
		s->info.pid = pid;
	pthread_mutex_unlock(&s->lock);
}

static void notify(struct avm_iso *s)
{
	uint64_t one = 1;

	(void)!write(s->notify, &one, sizeof(one));
}

/* A read in flight gets its answer now: the process will not give it. */
static void cell_fail(struct iso_shm *shm)
{
	uint32_t st = atomic_load(&shm->cell);

	while ((st == CELL_WAIT || st == CELL_SLEEP) &&
	       !atomic_compare_exchange_weak(&shm->cell, &st, CELL_DEAD))
		;
	if (st == CELL_SLEEP)
		iso_futex_wake(&shm->cell);
}

/* On the monitor thread: the process's parent thread is the one that waits
 * for it, so PR_SET_PDEATHSIG fires only when the VMM itself dies. */
static int fork_child(struct avm_iso *s)
{
	int rep[2];
	pid_t pid, ppid;
	char name[16];

	if (pipe2(rep, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	ppid = getpid();
	pid = fork();
	if (pid < 0) {
		close(rep[0]);
		close(rep[1]);
		return -errno;
	}
	if (!pid) {
		/* Dies with the thread that forked it (the monitor, which
		 * outlives it) and so with the VMM; unless that already
		 * happened before this line. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ppid)
			_exit(1);
		/* What ps and top show: "dev:" and the actor's name. */
		snprintf(name, sizeof(name), "dev:%s", s->a->name);
		prctl(PR_SET_NAME, name);
		avm__iso_child_main(s->a, s->shm, s->notify, rep[1],
				    !s->a->spec.isolation.no_namespaces);
	}
	close(rep[1]);
	s->report = rep[0];
	s->pid = pid;
	s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (s->pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(s->report);
		return -errno;
	}
	return 0;
}

static void *monitor_main(void *arg)
{
	struct avm_iso *s = arg;
	struct pollfd p;
	char name[16];

	snprintf(name, sizeof(name), "mon:%s", s->a->name);
	pthread_setname_np(pthread_self(), name);
	s->fork_err = fork_child(s);
	sem_post(&s->forked);
	if (s->fork_err)
		return NULL;
	p = (struct pollfd){ .fd = s->pidfd, .events = POLLIN };
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	memset(&s->si, 0, sizeof(s->si));
	while (waitid(P_PIDFD, (id_t)s->pidfd, &s->si, WEXITED) < 0 &&
	       errno == EINTR)
		;
	/* Release: si before dead, read by the actor after its acquire. */
	atomic_store_explicit(&s->dead, true, memory_order_release);
	cell_fail(s->shm);
	notify(s);
	return NULL;
}

/* ---- the shared memory ---- */

static struct iso_shm *shm_map(void)
{
	int fd = memfd_create("avm-device", MFD_CLOEXEC);
	void *p = MAP_FAILED;

	if (fd < 0)
		return NULL;
	if (!ftruncate(fd, sizeof(struct iso_shm)))
		p = mmap(NULL, sizeof(struct iso_shm), PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
	/* The mapping keeps the memory; a fork inherits it at this address. */
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* A fresh process starts from empty rings and an idle cell. */
static void shm_reset(struct avm_iso *s)
{
	struct iso_shm *m = s->shm;

	atomic_store(&m->in.head, 0);
	s->in_head_seen = 0;
	atomic_store(&m->in.tail, 0);
	iso_ring_clear_ops(&m->in); /* a dead process's records are lost */
	atomic_store(&m->out.head, 0);
	atomic_store(&m->out.tail, 0);
	atomic_store(&m->in_sleep, 0);
	atomic_store(&m->out_kick, 0);
	atomic_store(&m->cell, CELL_IDLE);
	atomic_store(&m->handled, 0);
	for (unsigned i = 0; i < AVM_MAX_DIRECT; i++)
		atomic_store(&m->direct[i], 0); /* power-on, until init */
	atomic_store(&m->dma_off, atomic_load(&s->a->dma_off));
	atomic_store(&m->virtual_time, s->sync);
}

/* ---- effects recorded by the process ---- */

static void kill_proc(struct avm_iso *s, const char *why)
{
	if (!s->kill_why)
		s->kill_why = why;
	if (s->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
}

static void log_line(struct avm_iso *s, int level, const uint8_t *p,
		     uint32_t len)
{
	char line[512];
	uint32_t n = len < sizeof(line) - 1 ? len : sizeof(line) - 1;

	/* The process's words: printable bytes only reach the log. */
	for (uint32_t i = 0; i < n; i++)
		line[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	line[n] = 0;
	if (level < AVM_LOG_ERROR || level > AVM_LOG_DEBUG)
		level = AVM_LOG_INFO;
	avm__log(s->a->rt, level, s->a->name, "%s", line);
}

static void sandbox_text(struct avm_iso *s, const uint8_t *p, uint32_t len)
{
	char *d = s->info.sandbox;
	uint32_t n = len < sizeof(s->info.sandbox) - 1
			     ? len
			     : sizeof(s->info.sandbox) - 1;

	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < n; i++)
		d[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	d[n] = 0;
	pthread_mutex_unlock(&s->lock);
}

static void apply_send(avm_ctx *ctx, const struct iso_rec *h,
		       const uint8_t *payload)
{
	struct avm_msg m = h->msg;

	memset(&m.fw, 0, sizeof(m.fw));
	if (h->len && avm_msg_set_payload(&m, payload, h->len))
		return;
	avm__send_as(ctx, (unsigned)h->ival, h->arg, (avm_actor_id)h->u64, &m,
		     h->flags & (AVM_MF_ASK | AVM_MF_DMA_READ));
}

/* One record; false if it cannot be one (the process is broken). */
static bool apply(struct avm_iso *s, avm_ctx *ctx, const struct iso_rec *h,
		  const uint8_t *payload, int *init_err)
{
	switch (h->op) {
	case ISO_OUT_SEND:
		if (h->ival < 0 || h->ival > 2)
			return false;
		apply_send(ctx, h, payload);
		return true;
	case ISO_OUT_IRQ:
		avm_irq_set(ctx, h->arg, h->ival != 0);
		return true;
	case ISO_OUT_TIMER_ARM:
		avm_timer_arm(ctx, h->arg, h->u64, h->u64b);
		return true;
	case ISO_OUT_TIMER_CANCEL:
		avm_timer_cancel(ctx, h->arg);
		return true;
	case ISO_OUT_VM_EXIT:
		avm_vm_exit(ctx, h->ival);
		return true;
	case ISO_OUT_LOG:
		log_line(s, h->ival, payload, h->len);
		return true;
	case ISO_OUT_SANDBOX:
		sandbox_text(s, payload, h->len);
		return true;
	case ISO_OUT_DMA:
		if (s->a->rt->exec->on_dma)
			s->a->rt->exec->on_dma(s->a, h->arg != 0, h->u64,
					       h->len ? payload : NULL, h->len,
					       h->ival);
		return true;
	case ISO_OUT_INIT_DONE:
		if (init_err)
			*init_err =
				h->ival > 0 || h->ival < -4095 ? -EIO : h->ival;
		return true;
	}
	return false;
}

/* Make what the process recorded, in order, up to a batch. Returns the
 * records left (the caller comes back), or -1 if the process broke. */
static int drain(struct avm_iso *s, avm_ctx *ctx, int *init_err)
{
	struct iso_shm *m = s->shm;
	struct iso_rec h;

	for (unsigned n = 0; n < DRAIN_BATCH; n++) {
		bool bad = false;
		struct iso_rec *r = iso_ring_peek(&m->out, &bad);

		if (!r)
			return bad ? -1 : 0;
		/* Copied out: the process may change the record meanwhile. */
		memcpy(&h, r, offsetof(struct iso_rec, payload));
		if (h.len > AVM_MSG_MAX_PAYLOAD ||
		    !apply(s, ctx, &h, r->payload, init_err))
			return -1;
		iso_ring_release(&m->out);
	}
	return 1;
}

/* Drain, then ask the process for a kick on its next record. */
static void drain_and_arm(struct avm_iso *s, avm_ctx *ctx)
{
	for (unsigned round = 0; round < 4; round++) {
		int left = drain(s, ctx, NULL);

		if (left < 0) {
			kill_proc(s, "it wrote a record that cannot be one");
			return;
		}
		if (left)
			continue;
		if (s->sync)
			return; /* nothing runs between messages: no kick */
		atomic_store(&s->shm->out_kick, 1);
		/* Full fence: out_kick before the look at the ring, against
		 * the process's publication before its look at out_kick. */
		avm_full_fence();
		if (atomic_load(&s->shm->out.tail) ==
			    atomic_load(&s->shm->out.head) ||
		    !atomic_exchange(&s->shm->out_kick, 0))
			return;
	}
	notify(s); /* more than a few batches: come back from the loop */
}

/* ---- starting a process ---- */

static int wait_init(struct avm_iso *s, avm_ctx *ctx)
{
	uint64_t deadline = avm_mono_ns() + INIT_WAIT_NS;
	struct pollfd p = { .fd = s->notify, .events = POLLIN };
	int init_err = 1;
	uint64_t v;

	atomic_store(&s->shm->out_kick, 1);
	while (init_err == 1) {
		if (drain(s, ctx, &init_err) < 0) {
			kill_proc(s, "it wrote a record that cannot be one");
			return -EIO;
		}
		if (init_err != 1)
			break;
		if (atomic_load_explicit(&s->dead, memory_order_acquire))
			return -ECHILD;
		if (avm_mono_ns() > deadline) {
			kill_proc(s, "its init did not finish within 10 s");
			return -ETIMEDOUT;
		}
		atomic_store(&s->shm->out_kick, 1);
		if (poll(&p, 1, 10) > 0)
			(void)!read(s->notify, &v, sizeof(v));
	}
	drain_and_arm(s, ctx);
	return init_err;
}

static void trace_proc(struct avm_iso *s, uint16_t kind, int pid,
		       uint64_t value, int status)
{
	struct avm_actor *a = s->a;
	struct avm_msg m = { .kind = kind,
			     .src = AVM_ACTOR_NONE,
			     .corr = avm__corr(a),
			     .cause = a->cur_corr,
			     .user = { .arg = (uint32_t)pid,
				       .status = status,
				       .value = value } };

	/* A whole message, so every trace tool shows it like any other. */
	AVM_TRACE_MSG(a->rt, AVM_TRACE_POSTED, a->id, &m);
	AVM_TRACE_MSG(a->rt, AVM_TRACE_DEQUEUED, a->id, &m);
	AVM_TRACE_MSG(a->rt, AVM_TRACE_HANDLE_START, a->id, &m);
	AVM_TRACE_MSG(a->rt, AVM_TRACE_HANDLE_END, a->id, &m);
}

static void reap_monitor(struct avm_iso *s)
{
	if (s->monitoring)
		pthread_join(s->monitor, NULL);
	s->monitoring = false;
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
}

/* A new process, through its init; 0 or the error (it is gone then). */
static int spawn(struct avm_iso *s, avm_ctx *ctx)
{
	int err;

	atomic_store(&s->direct_live, false);
	shm_reset(s);
	atomic_store(&s->dead, false);
	s->kill_why = NULL;
	err = pthread_create(&s->monitor, NULL, monitor_main, s);
	if (err)
		return -err;
	while (sem_wait(&s->forked) && errno == EINTR)
		;
	if (s->fork_err) {
		pthread_join(s->monitor, NULL);
		return s->fork_err;
	}
	s->monitoring = true;
	set_state(s, AVM_PROC_RUNNING, s->pid);
	trace_proc(s, AVM_MSG_PROC_START, s->pid, s->info.restarts, 0);
	err = wait_init(s, ctx);
	/* Release: the process's init (its direct values) before. */
	if (!err)
		atomic_store_explicit(&s->direct_live, true,
				      memory_order_release);
	return err;
}

/* ---- a process's death ---- */

static void describe_exit(struct avm_iso *s, char *buf, size_t len)
{
	struct avm_sandbox_trap t;
	char name[32];

	if (s->si.si_code == CLD_EXITED &&
	    s->si.si_status == AVM_SANDBOX_EXIT_TRAPPED &&
	    read(s->report, &t, sizeof(t)) == sizeof(t) &&
	    t.magic == AVM_SANDBOX_TRAP_MAGIC)
		snprintf(buf, len, "the sandbox stopped it: it called %s",
			 avm_sandbox_syscall_name(t.nr, name, sizeof(name)));
	else if (s->si.si_code == CLD_EXITED && s->si.si_status == 160)
		snprintf(buf, len, "it could not enter its sandbox");
	else if (s->si.si_code == CLD_EXITED)
		snprintf(buf, len, "it exited with status %d", s->si.si_status);
	else if (s->kill_why)
		snprintf(buf, len, "the supervisor killed it: %s", s->kill_why);
	else
		snprintf(buf, len, "killed by signal %d (%s)", s->si.si_status,
			 strsignal(s->si.si_status));
}

/* The device's lines go low and its timers stop: a dead device drives
 * nothing (an IRQ left high would storm the guest). */
static void quiesce(struct avm_iso *s, avm_ctx *ctx)
{
	struct avm_actor *a = s->a;

	for (unsigned p = 0; p < a->ops->n_ports; p++)
		if (atomic_load(&a->levels[p]))
			avm_irq_set(ctx, p, false);
	for (unsigned id = 0; id < AVM_MAX_TIMERS; id++)
		avm_timer_cancel(ctx, id);
}

static bool restart_allowed(struct avm_iso *s, unsigned *n_in_window)
{
	const struct avm_isolation *iso = &s->a->spec.isolation;
	unsigned max = iso->max_restarts ? iso->max_restarts
					 : AVM_ISO_DEFAULT_MAX_RESTARTS;
	uint64_t win =
		iso->window_ns ? iso->window_ns : AVM_ISO_DEFAULT_WINDOW_NS;
	uint64_t now = avm_mono_ns();
	unsigned n = 0;

	for (unsigned i = 0; i < s->n_starts && i < MAX_WINDOW_HIST; i++)
		n += now - s->starts[i] <= win;
	*n_in_window = n;
	if (n >= max)
		return false;
	s->starts[s->n_starts++ % MAX_WINDOW_HIST] = now;
	return true;
}

static void stop_vm(struct avm_iso *s, avm_ctx *ctx, const char *why)
{
	set_state(s, AVM_PROC_DEAD, 0);
	avm__log(s->a->rt, AVM_LOG_ERROR, s->a->name,
		 "device process stopped for good (%s): stopping the VM", why);
	avm_vm_exit(ctx, AVM_VM_EXIT_DEVICE_FAILED);
}

static void restart(struct avm_iso *s, avm_ctx *ctx)
{
	unsigned n;
	int err;

	if (!restart_allowed(s, &n)) {
		char why[96];

		snprintf(
			why, sizeof(why), "%u restarts within %llu ms", n,
			(unsigned long long)((s->a->spec.isolation.window_ns
						      ?: AVM_ISO_DEFAULT_WINDOW_NS) /
					     1000000));
		stop_vm(s, ctx, why);
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->info.restarts++;
	pthread_mutex_unlock(&s->lock);
	err = spawn(s, ctx);
	if (err == -ECHILD || (err && s->monitoring))
		return; /* it died again: its death comes through the loop */
	if (err)
		stop_vm(s, ctx, strerror(-err));
	else
		avm__log(s->a->rt, AVM_LOG_WARN, s->a->name,
			 "device process restarted as pid %d (restart %u)",
			 s->pid, s->info.restarts);
}

static uint64_t lost_count(struct iso_shm *m)
{
	uint64_t pushed = atomic_load(&m->in.tail);
	uint64_t done = atomic_load(&m->handled);

	/* Both words are the process's to scribble on: bounded. */
	return pushed > done && pushed - done <= ISO_DEPTH ? pushed - done : 0;
}

static void on_death(struct avm_iso *s, avm_ctx *ctx)
{
	enum avm_on_failure pol = s->a->spec.isolation.on_failure;
	uint64_t lost = lost_count(s->shm);
	char why[128];

	(void)drain(s, ctx, NULL); /* its last words: logs, effects */
	describe_exit(s, why, sizeof(why));
	reap_monitor(s);
	close(s->report);
	s->report = -1;
	quiesce(s, ctx);
	pthread_mutex_lock(&s->lock);
	snprintf(s->info.last_exit, sizeof(s->info.last_exit), "%s", why);
	s->info.lost += lost;
	/* Dead until a policy says otherwise: ctl never shows the old pid
	 * as running. */
	s->info.state = AVM_PROC_DEAD;
	pthread_mutex_unlock(&s->lock);
	trace_proc(s, AVM_MSG_PROC_EXIT, s->pid, lost, s->si.si_status);
	avm__log(s->a->rt, AVM_LOG_ERROR, s->a->name,
		 "device process %d died: %s; %llu queued message%s lost; "
		 "policy %s",
		 s->pid, why, (unsigned long long)lost, lost == 1 ? "" : "s",
		 avm_on_failure_name(pol));
	if (pol == AVM_ON_FAILURE_RESTART)
		restart(s, ctx);
	else if (pol == AVM_ON_FAILURE_REMOVE)
		set_state(s, AVM_PROC_REMOVED, 0);
	else
		stop_vm(s, ctx, why);
}

/* ---- messages for the actor ---- */

static uint64_t all_ones(unsigned size)
{
	return size && size < 8 ? (1ull << (8 * size)) - 1 : UINT64_MAX;
}

/* No process to answer: a read gets all-ones (a master abort). */
static void answer_absent(struct avm_iso *s, struct avm_msg *m, avm_ctx *ctx)
{
	if (!avm__is_request(m)) {
		pthread_mutex_lock(&s->lock);
		s->info.lost++;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (m->kind == AVM_MSG_READ)
		avm_reply(ctx, all_ones(m->access.size));
	else
		avm_reply_error(ctx, -ENODEV);
}

/* Returns whether the process slept (and was woken). */
static bool wake_child(struct iso_shm *m)
{
	/* Full fence: the record's publication before the look at in_sleep,
	 * against the process's store of in_sleep before its look at the
	 * ring (idle_wait in iso_child.c). */
	avm_full_fence();
	if (atomic_load_explicit(&m->in_sleep, memory_order_relaxed) &&
	    atomic_exchange(&m->in_sleep, 0)) {
		iso_futex_wake(&m->in_sleep);
		return true;
	}
	return false;
}

static struct iso_rec *claim_in(struct avm_iso *s)
{
	uint64_t deadline = 0;
	struct iso_rec *r;

	/* Full: the process is behind; a stalled bus, up to a deadline
	 * (read from the clock only then: the common case has no need). */
	while (!(r = iso_ring_claim(&s->shm->in, &s->in_head_seen))) {
		wake_child(s->shm);
		if (atomic_load(&s->dead))
			return NULL;
		if (!deadline) {
			deadline =
				avm_mono_ns() + s->a->rt->cfg.read_deadline_ns;
		} else if (avm_mono_ns() > deadline) {
			kill_proc(s, "its mailbox stayed full");
			return NULL;
		}
		sched_yield();
	}
	return r;
}

static int push(struct avm_iso *s, const struct avm_msg *m, bool req)
{
	struct iso_rec *r = claim_in(s);
	size_t len = 0;
	const void *p = avm_msg_payload(m, &len);

	if (!r)
		return -EPIPE;
	r->flags = req ? ISO_F_REQUEST : 0;
	/* Not fw (the process zeroes its own): one cache line to move. */
	memcpy(&r->msg, m, ISO_MSG_BYTES);
	r->len = (uint32_t)len;
	if (len)
		memcpy(r->payload, p, len);
	if (req)
		atomic_store_explicit(&s->shm->cell, CELL_WAIT,
				      memory_order_relaxed);
	if (s->sync)
		atomic_store_explicit(&s->shm->vnow,
				      s->a->rt->exec->now(s->a->rt),
				      memory_order_relaxed);
	iso_ring_publish_op(&s->shm->in, r, ISO_IN_MSG);
	s->woke = wake_child(s->shm);
	return 0;
}

static int cell_result(struct iso_shm *m, uint64_t *v)
{
	int err = atomic_load_explicit(&m->cell_err, memory_order_relaxed);

	*v = atomic_load_explicit(&m->cell_value, memory_order_relaxed);
	atomic_store_explicit(&m->cell, CELL_IDLE, memory_order_relaxed);
	return err <= 0 && err >= -4095 ? err : -EIO;
}

static bool out_empty(struct iso_shm *m)
{
	return atomic_load_explicit(&m->out.tail, memory_order_relaxed) ==
	       atomic_load_explicit(&m->out.head, memory_order_relaxed);
}

static bool out_full(struct iso_shm *m)
{
	return atomic_load_explicit(&m->out.tail, memory_order_relaxed) -
		       atomic_load_explicit(&m->out.head,
					    memory_order_relaxed) >=
	       ISO_DEPTH;
}

/* One pause of a polling wait for the answer. */
static void poll_pause(struct avm_iso *s, avm_ctx *ctx)
{
	/* A full ring of effects would stop the process: make them. */
	if (out_full(s->shm) && drain(s, ctx, NULL) < 0)
		kill_proc(s, "it wrote a record that cannot be one");
	avm_cpu_relax();
}

/* A spin shorter than this is kept to the clock at each poll. */
#define MIN_SPIN_UNCLOCKED 2000

static int wait_cell(struct avm_iso *s, avm_ctx *ctx, uint64_t *v)
{
	struct iso_shm *m = s->shm;
	const struct avm_runtime_config *cfg = &s->a->rt->cfg;
	uint64_t t0 = 0, deadline = 0;

	for (unsigned polls = 1;; polls++) {
		/* Acquire: the value and error before DONE (answer()). */
		uint32_t st =
			atomic_load_explicit(&m->cell, memory_order_acquire);
		uint64_t now;

		if (st == CELL_DONE)
			return cell_result(m, v);
		if (st == CELL_DEAD || atomic_load(&s->dead))
			return -EPIPE;
		/* Most polls without the clock (ISO_POLLS_PER_CLOCK). */
		if (!s->woke && polls % ISO_POLLS_PER_CLOCK &&
		    (cfg->reply_spin_ns < 0 ||
		     cfg->reply_spin_ns >= MIN_SPIN_UNCLOCKED)) {
			poll_pause(s, ctx);
			continue;
		}
		now = avm_mono_ns();
		if (!t0) {
			t0 = now;
			deadline = t0 + cfg->read_deadline_ns;
		}
		if (now > deadline) {
			kill_proc(s, "it did not answer a request in time");
			return -EPIPE;
		}
		/* A process we had to wake needs a CPU before it answers:
		 * polling would keep ours from it on a busy host, and its
		 * wake-up costs more than the poll would save. */
		if (!s->woke && (cfg->reply_spin_ns < 0 ||
				 now - t0 < (uint64_t)cfg->reply_spin_ns)) {
			poll_pause(s, ctx);
			continue;
		}
		if (st == CELL_WAIT &&
		    !atomic_compare_exchange_strong(&m->cell, &st, CELL_SLEEP))
			continue;
		iso_futex_wait(&m->cell, CELL_SLEEP,
			       deadline < now + SLEEP_SLICE_NS
				       ? deadline
				       : now + SLEEP_SLICE_NS);
		/* A process blocked on a full ring of effects goes on. */
		if (drain(s, ctx, NULL) < 0)
			kill_proc(s, "it wrote a record that cannot be one");
	}
}

/* Deterministic: wait until the process handled all we gave it, making
 * its effects meanwhile (a full ring of them would stop it). */
static int wait_handled(struct avm_iso *s, avm_ctx *ctx)
{
	uint64_t target = atomic_load(&s->shm->in.tail);
	uint64_t deadline = avm_mono_ns() + s->a->rt->cfg.read_deadline_ns;

	/* Acquire: its effects were recorded before it counted the message
	 * (a count it lies about only ends the wait early). */
	while (atomic_load_explicit(&s->shm->handled, memory_order_acquire) <
	       target) {
		if (atomic_load(&s->dead))
			return -EPIPE;
		if (avm_mono_ns() > deadline) {
			kill_proc(s, "it did not handle a message in time");
			return -EPIPE;
		}
		if (drain(s, ctx, NULL) < 0)
			kill_proc(s, "it wrote a record that cannot be one");
		sched_yield();
	}
	return 0;
}

static void forward(struct avm_iso *s, struct avm_msg *m, avm_ctx *ctx)
{
	bool req = avm__is_request(m);
	uint64_t v = 0;
	int err;

	if (s->sync &&
	    atomic_load_explicit(&s->shm->out_kick, memory_order_relaxed))
		atomic_store(&s->shm->out_kick, 0); /* we look ourselves */
	err = push(s, m, req);
	if (!err && req)
		err = wait_cell(s, ctx, &v);
	if (!err && s->sync)
		err = wait_handled(s, ctx);
	/* Effects recorded (a request's are never kicked for: we make them
	 * now), or the kick to arm again. Otherwise the process tells the
	 * loop of any effect it records, and the caller goes on at once. */
	if (s->sync || err || !out_empty(s->shm) ||
	    !atomic_load_explicit(&s->shm->out_kick, memory_order_relaxed))
		drain_and_arm(s, ctx);
	if (err == -EPIPE) {
		answer_absent(s, m, ctx);
		return;
	}
	if (!req)
		return;
	if (err)
		avm_reply_error(ctx, err);
	else
		avm_reply(ctx, v);
}

static void on_kick(struct avm_iso *s, avm_ctx *ctx)
{
	uint64_t v;

	(void)!read(s->notify, &v, sizeof(v));
	if (s->info.state != AVM_PROC_RUNNING)
		return;
	if (atomic_load_explicit(&s->dead, memory_order_acquire))
		on_death(s, ctx);
	else
		drain_and_arm(s, ctx);
}

void avm__iso_deliver(struct avm_actor *a, struct avm_msg *m, avm_ctx *ctx)
{
	struct avm_iso *s = a->iso;

	if (m->kind == AVM_MSG_FD && m->fd.watch == ISO_WATCH) {
		on_kick(s, ctx);
		return;
	}
	/* Acquire: pairs with the monitor's release of si. */
	if (s->info.state == AVM_PROC_RUNNING &&
	    atomic_load_explicit(&s->dead, memory_order_acquire))
		on_death(s, ctx);
	if (s->info.state != AVM_PROC_RUNNING)
		answer_absent(s, m, ctx);
	else
		forward(s, m, ctx);
}

/* ---- life cycle ---- */

int avm__iso_new(struct avm_actor *a)
{
	struct avm_iso *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->a = a;
	s->pidfd = s->report = -1;
	s->shm = shm_map();
	s->notify = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!s->shm || s->notify < 0) {
		if (s->shm)
			munmap(s->shm, sizeof(*s->shm));
		if (s->notify >= 0)
			close(s->notify);
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	sem_init(&s->forked, 0, 0);
	s->info.policy = a->spec.isolation.on_failure;
	s->sync = a->rt->exec == &avm_exec_deterministic;
	a->iso = s;
	return 0;
}

void avm__iso_free(struct avm_actor *a)
{
	struct avm_iso *s = a->iso;

	if (!s)
		return;
	munmap(s->shm, sizeof(*s->shm));
	close(s->notify);
	pthread_mutex_destroy(&s->lock);
	sem_destroy(&s->forked);
	free(s);
	a->iso = NULL;
}

int avm__iso_init(struct avm_actor *a, avm_ctx *ctx)
{
	struct avm_iso *s = a->iso;
	/* Deterministic: nothing comes between messages; no watch. */
	int err =
		s->sync ? 0
			: avm_fd_watch(ctx, ISO_WATCH, s->notify, AVM_FD_READ);

	if (!err)
		err = spawn(s, ctx);
	if (!err)
		return 0;
	avm__log(a->rt, AVM_LOG_ERROR, a->name,
		 "device process did not start: %s", strerror(-err));
	avm__iso_fini(a);
	return err;
}

/* Stop the process: STOP, a clean exit within a second, or SIGKILL. */
void avm__iso_fini(struct avm_actor *a)
{
	struct avm_iso *s = a->iso;
	uint64_t deadline = avm_mono_ns() + STOP_WAIT_NS;
	struct iso_rec *r;

	atomic_store(&s->direct_live, false);
	if (!s->monitoring)
		goto closed;
	r = iso_ring_claim(&s->shm->in, &s->in_head_seen);
	if (r) {
		iso_ring_publish_op(&s->shm->in, r, ISO_IN_STOP);
		wake_child(s->shm);
	}
	while (!atomic_load(&s->dead) && avm_mono_ns() < deadline)
		usleep(1000);
	if (!atomic_load(&s->dead))
		kill_proc(s, "it did not stop");
	reap_monitor(s);
closed:
	if (s->report >= 0)
		close(s->report);
	s->report = -1;
	if (s->info.state == AVM_PROC_RUNNING)
		set_state(s, AVM_PROC_DEAD, 0);
}

void avm__iso_dma_enable(struct avm_actor *a, bool on)
{
	/* Release: the process reads it with acquire at each DMA. */
	atomic_store_explicit(&a->iso->shm->dma_off, !on, memory_order_release);
}

bool avm__iso_direct(struct avm_actor *a, unsigned slot, uint64_t *val)
{
	struct avm_iso *s = a->iso;
	struct iso_shm *m = s->shm;

	/* Acquire: pairs with spawn's release once the init is done, and
	 * with the monitor's once it reaped the process. */
	if (!atomic_load_explicit(&s->direct_live, memory_order_acquire) ||
	    atomic_load_explicit(&s->dead, memory_order_acquire))
		return false;
	/* Messages it has not handled yet (ours among them: the caller saw
	 * them acked, i.e. pushed) may change the value: ask it, behind
	 * them. Acquire: its stores of the values came before its count. */
	if (atomic_load_explicit(&m->handled, memory_order_acquire) !=
	    atomic_load_explicit(&m->in.tail, memory_order_relaxed))
		return false;
	*val = atomic_load_explicit(&m->direct[slot], memory_order_acquire);
	return true;
}

int avm_actor_process(struct avm_runtime *rt, avm_actor_id id,
		      struct avm_process_info *out)
{
	struct avm_actor *a = rt ? avm__actor(rt, id) : NULL;

	if (!a)
		return -ENOENT;
	if (!a->iso)
		return -ESRCH;
	pthread_mutex_lock(&a->iso->lock);
	*out = a->iso->info;
	pthread_mutex_unlock(&a->iso->lock);
	return 0;
}
