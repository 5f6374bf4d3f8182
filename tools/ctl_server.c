/* SPDX-License-Identifier: MIT */
/*
 * The control socket of `actorvm run --ctl URL` (see ctl_server.h and
 * docs/ctl.md).
 *
 * Threading contract: one server thread does everything after start: it
 * receives, decodes, acts and replies, one request at a time. It alone
 * creates, uses and frees the per-runtime accessors (an accessor belongs to
 * the thread that made it) and it alone writes the reply storage and the
 * trace_paused flags. The thread calling start/stop (main) shares only the
 * two atomics: @quit (main -> server) and @stop_req (server -> main). The
 * VMs are only read through thread-safe runtime calls: mf_wait() writes
 * mf_vm_run.exited/status on main's thread, so the server asks
 * avm_runtime_wait_exit() with a zero timeout instead.
 *
 * Bounded work: a request reads at most one register per VCPU (each bounded
 * by the runtime's read deadline, a late one asked again for at most
 * VCPU_RETRY_NS from the request's start) and at most CTL_MAX_ACTORS counters
 * per VM; requests above CTL_MAX_REQUEST bytes are refused undecoded.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include <actorvm/listen.h>
#include <actorvm/runtime.h>
#include <actorvm/trace.h>

#include "build.h"
#include "control.pb-c.h"
#include "ctl_server.h"
#include "vcpu.h"

/* How soon the thread notices ctl_server_stop(): its receive timeout. */
#define POLL_MS 100
/* A reply nobody reads must not hold the thread (REP sends rarely block). */
#define SEND_TIMEOUT_MS 1000
/* A VCPU whose state read missed the runtime's read deadline (1 s) is asked
 * again while its request is younger than this: under load (sanitizers, a
 * busy host) a VCPU thread may be that late once, and a status that says
 * "unknown" for it would be a wrong answer. Below the client's default 5 s
 * timeout, so the reply still reaches a client that waits the default. */
#define VCPU_RETRY_NS 3000000000ull
/* The most a message may hold before nng refuses it (memory bound). */
#define RECV_MAX (64 * 1024)

typedef Actorvm__CtlResponse ctl_resp;
typedef Actorvm__CtlRequest ctl_req;

/* Storage of one response; the server thread's alone, reused. */
struct ctl_reply {
	ctl_resp resp;
	Actorvm__CtlVm vm[MF_MAX_VMS];
	Actorvm__CtlVm *vm_p[MF_MAX_VMS];
	Actorvm__CtlTraceState trace[MF_MAX_VMS];
	Actorvm__CtlVcpu vcpu[MF_MAX_VMS][IRQCHIP_MAX_CPUS];
	Actorvm__CtlVcpu *vcpu_p[MF_MAX_VMS][IRQCHIP_MAX_CPUS];
	Actorvm__CtlActorStats act[MF_MAX_VMS][CTL_MAX_ACTORS];
	Actorvm__CtlActorStats *act_p[MF_MAX_VMS][CTL_MAX_ACTORS];
	Actorvm__CtlProcess proc[MF_MAX_VMS][CTL_MAX_ACTORS];
	struct avm_process_info pinfo[MF_MAX_VMS][CTL_MAX_ACTORS];
	char error[256];
};

struct ctl_server {
	nng_socket sock;
	struct avm_listener *listener;
	struct mf_run *run;
	pthread_t thread;
	sem_t ready;	      /* the thread made its accessors (or failed to) */
	int init_err;	      /* written before ready is posted */
	atomic_bool quit;     /* main -> server: leave the loop */
	atomic_bool stop_req; /* server -> main: a client asked for a stop */
	/* The server thread's alone (see the contract above). */
	avm_accessor *acc[MF_MAX_VMS];
	bool trace_paused[MF_MAX_VMS];
	struct ctl_reply reply;
};

__attribute__((format(printf, 3, 4))) static void
fail(struct ctl_reply *r, Actorvm__CtlErrorCode code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	r->resp.code = code;
	r->resp.error = r->error;
}

static void reply_reset(struct ctl_reply *r)
{
	r->resp = (ctl_resp)ACTORVM__CTL_RESPONSE__INIT;
	r->resp.vms = r->vm_p;
	r->error[0] = 0;
}

/* Append VM @i to the reply, with its exit state; returns its entry. */
static Actorvm__CtlVm *add_vm(struct ctl_server *s, unsigned i)
{
	struct ctl_reply *r = &s->reply;
	Actorvm__CtlVm *vm = &r->vm[r->resp.n_vms];
	int code = 0;

	*vm = (Actorvm__CtlVm)ACTORVM__CTL_VM__INIT;
	vm->name = s->run->vm[i].vm->name;
	vm->vcpus = r->vcpu_p[r->resp.n_vms];
	vm->actors = r->act_p[r->resp.n_vms];
	if (!avm_runtime_wait_exit(s->run->vm[i].rt, 0, &code)) {
		vm->exited = true;
		vm->exit_status = code;
	}
	r->vm_p[r->resp.n_vms++] = vm;
	return vm;
}

static void add_trace(struct ctl_server *s, unsigned i, Actorvm__CtlVm *vm)
{
	Actorvm__CtlTraceState *t = &s->reply.trace[vm - s->reply.vm];
	struct mf_vm_run *v = &s->run->vm[i];
	struct avm_trace_stats st;

	*t = (Actorvm__CtlTraceState)ACTORVM__CTL_TRACE_STATE__INIT;
	vm->trace = t;
	if (!v->traced)
		return;
	avm_trace_get_stats(v->rt, &st);
	t->tracing = true;
	t->path = v->trace_path;
	t->paused = s->trace_paused[i];
	t->recorded = st.recorded;
	t->dropped = st.dropped;
	t->written = st.written;
	t->lost = st.lost;
	t->write_error = st.write_error ? strerror(st.write_error) : "";
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* VCPU @id's state: asked again after a timeout, until @until. */
static int read_state(avm_accessor *acc, avm_actor_id id, uint64_t until,
		      uint64_t *val)
{
	int err;

	do {
		struct avm_msg m = { .kind = AVM_MSG_READ,
				     .access = { .offset = VCPU_REG_STATE,
						 .size = 8 } };

		err = avm_request(acc, id, &m, val);
	} while (err == -ETIMEDOUT && mono_ns() < until);
	return err;
}

/* Read every VCPU's state register; the number that did not answer. */
static unsigned add_vcpus(struct ctl_server *s, unsigned i, Actorvm__CtlVm *vm,
			  uint64_t until)
{
	struct mf_vm_run *v = &s->run->vm[i];
	Actorvm__CtlVcpu *c = s->reply.vcpu[vm - s->reply.vm];
	unsigned bad = 0;

	for (unsigned j = 0; j < v->mach.n_vcpus; j++, c++) {
		uint64_t val = 0;
		int err = read_state(s->acc[i], v->mach.vcpu[j], until, &val);

		*c = (Actorvm__CtlVcpu)ACTORVM__CTL_VCPU__INIT;
		c->index = j;
		c->actor = (char *)avm_actor_name(v->rt, v->mach.vcpu[j]);
		c->state = err || val > ACTORVM__CTL_VCPU_STATE__CTL_VCPU_FAILED
				   ? ACTORVM__CTL_VCPU_STATE__CTL_VCPU_UNKNOWN
				   : (Actorvm__CtlVcpuState)val;
		c->error = err;
		bad += !!err;
		vm->vcpus[vm->n_vcpus++] = c;
	}
	return bad;
}

/* Post @kind to the control lane of every VCPU of VM @i. */
static unsigned post_vcpus(struct ctl_server *s, unsigned i, uint16_t kind)
{
	struct mf_vm_run *v = &s->run->vm[i];
	unsigned bad = 0;

	for (unsigned j = 0; j < v->mach.n_vcpus; j++) {
		struct avm_msg m = { .kind = kind };

		bad += !!avm_post(s->acc[i], v->mach.vcpu[j], &m);
	}
	return bad;
}

/* Which VMs @vm (empty: all) names; false with the reply failed if none. */
static bool select_vms(struct ctl_server *s, const char *vm,
		       bool sel[MF_MAX_VMS])
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->run->n_vms; i++) {
		sel[i] = !*vm || !strcmp(vm, s->run->vm[i].vm->name);
		n += sel[i];
	}
	if (!n)
		fail(&s->reply, ACTORVM__CTL_ERROR_CODE__CTL_ERR_NOT_FOUND,
		     "no VM named '%s'", vm);
	return n;
}

/* status, pause and resume: the VMs with their VCPUs' states. */
static void do_vcpus(struct ctl_server *s, const char *filter, uint16_t kind)
{
	bool sel[MF_MAX_VMS];
	unsigned bad = 0;
	uint64_t until = mono_ns() + VCPU_RETRY_NS;

	if (!select_vms(s, filter, sel))
		return;
	for (unsigned i = 0; i < s->run->n_vms; i++) {
		Actorvm__CtlVm *vm;

		if (!sel[i])
			continue;
		/* Posted first, then read through the same accessor: the
		 * read sees the VCPU past the control message. */
		if (kind)
			bad += post_vcpus(s, i, kind);
		vm = add_vm(s, i);
		add_trace(s, i, vm);
		bad += add_vcpus(s, i, vm, until);
	}
	if (bad)
		fail(&s->reply, ACTORVM__CTL_ERROR_CODE__CTL_ERR_FAILED,
		     "%u VCPU access%s failed", bad, bad == 1 ? "" : "es");
}

static const char *proc_state(enum avm_process_state st)
{
	return st == AVM_PROC_RUNNING	? "running"
	       : st == AVM_PROC_DEAD	? "dead"
	       : st == AVM_PROC_REMOVED ? "removed"
					: "not started";
}

/* A device in a process of its own: its process, restarts, last exit. */
static void add_process(struct ctl_server *s, long v, size_t j, avm_runtime *rt,
			avm_actor_id id)
{
	struct avm_process_info *pi = &s->reply.pinfo[v][j];
	Actorvm__CtlProcess *p = &s->reply.proc[v][j];

	if (avm_actor_process(rt, id, pi))
		return;
	*p = (Actorvm__CtlProcess)ACTORVM__CTL_PROCESS__INIT;
	p->state = (char *)proc_state(pi->state);
	p->pid = pi->pid;
	p->restarts = pi->restarts;
	p->lost = pi->lost;
	p->policy = (char *)avm_on_failure_name(pi->policy);
	p->last_exit = pi->last_exit;
	p->sandbox = pi->sandbox;
	s->reply.act[v][j].process = p;
}

static void add_actor(struct ctl_server *s, unsigned i, Actorvm__CtlVm *vm,
		      avm_actor_id id)
{
	avm_runtime *rt = s->run->vm[i].rt;
	Actorvm__CtlActorStats *a =
		&s->reply.act[vm - s->reply.vm][vm->n_actors];
	const struct avm_device_ops *ops = avm_actor_ops(rt, id);
	struct avm_actor_stats st;

	if (avm_actor_stats(rt, id, &st))
		return;
	*a = (Actorvm__CtlActorStats)ACTORVM__CTL_ACTOR_STATS__INIT;
	a->name = (char *)avm_actor_name(rt, id);
	a->type = ops && ops->type ? (char *)ops->type : (char *)"";
	a->handled = st.handled;
	a->outbox_max = st.outbox_max;
	a->dropped = st.dropped;
	a->bounced = st.bounced;
	add_process(s, vm - s->reply.vm, vm->n_actors, rt, id);
	vm->actors[vm->n_actors++] = a;
}

static void do_stats(struct ctl_server *s, const Actorvm__CtlFilter *f)
{
	bool sel[MF_MAX_VMS];
	unsigned found = 0;

	if (!select_vms(s, f->vm, sel))
		return;
	for (unsigned i = 0; i < s->run->n_vms; i++) {
		avm_runtime *rt = s->run->vm[i].rt;
		unsigned n = avm_actor_count(rt);
		Actorvm__CtlVm *vm;

		if (!sel[i])
			continue;
		vm = add_vm(s, i);
		for (avm_actor_id id = 0;
		     id < n && vm->n_actors < CTL_MAX_ACTORS; id++)
			if (!*f->actor ||
			    !strcmp(f->actor, avm_actor_name(rt, id)))
				add_actor(s, i, vm, id);
		found += vm->n_actors;
		if (*f->actor && !vm->n_actors)
			s->reply.resp.n_vms--; /* not this VM's actor */
	}
	if (*f->actor && !found)
		fail(&s->reply, ACTORVM__CTL_ERROR_CODE__CTL_ERR_NOT_FOUND,
		     "no actor named '%s'", f->actor);
}

static void do_trace(struct ctl_server *s, const char *filter, bool on)
{
	bool sel[MF_MAX_VMS];
	unsigned traced = 0;

	if (!select_vms(s, filter, sel))
		return;
	for (unsigned i = 0; i < s->run->n_vms; i++) {
		if (!sel[i])
			continue;
		if (s->run->vm[i].traced) {
			avm_trace_pause(s->run->vm[i].rt, !on);
			s->trace_paused[i] = !on;
			traced++;
		}
		add_trace(s, i, add_vm(s, i));
	}
	if (traced)
		return;
	s->reply.resp.n_vms = 0;
	fail(&s->reply, ACTORVM__CTL_ERROR_CODE__CTL_ERR_NO_TRACE,
	     "no trace runs%s%s (start the run with --trace FILE)",
	     *filter ? " in VM " : "", filter);
}

/* A name filter: bounded, printable, no surprises in the output. */
static bool name_ok(const char *name)
{
	size_t n = strnlen(name, CTL_MAX_NAME + 1);

	if (n > CTL_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

/* The body of the request's command, NULL if none. */
static const ProtobufCMessage *command_body(const ctl_req *rq)
{
	switch (rq->command_case) {
	case ACTORVM__CTL_REQUEST__COMMAND_STATUS:
		return &rq->status->base;
	case ACTORVM__CTL_REQUEST__COMMAND_PAUSE:
		return &rq->pause->base;
	case ACTORVM__CTL_REQUEST__COMMAND_RESUME:
		return &rq->resume->base;
	case ACTORVM__CTL_REQUEST__COMMAND_STOP:
		return &rq->stop->base;
	case ACTORVM__CTL_REQUEST__COMMAND_STATS:
		return &rq->stats->base;
	case ACTORVM__CTL_REQUEST__COMMAND_TRACE:
		return &rq->trace->base;
	default:
		return NULL;
	}
}

/* Unknown fields anywhere: in the request, its filter or its command's
 * body (protobuf-c keeps them rather than failing the decode). */
static bool has_unknown_fields(const ctl_req *rq)
{
	const ProtobufCMessage *body = command_body(rq);

	return rq->base.n_unknown_fields ||
	       (rq->filter && rq->filter->base.n_unknown_fields) ||
	       (body && body->n_unknown_fields);
}

/* Strict checks beyond what decoding already refused. */
static bool request_ok(struct ctl_server *s, const ctl_req *rq)
{
	const char *vm = rq->filter ? rq->filter->vm : "";
	const char *actor = rq->filter ? rq->filter->actor : "";
	const Actorvm__CtlErrorCode K =
		ACTORVM__CTL_ERROR_CODE__CTL_ERR_MALFORMED;

	if (has_unknown_fields(rq))
		fail(&s->reply, K, "unknown fields in the request");
	else if (rq->command_case == ACTORVM__CTL_REQUEST__COMMAND__NOT_SET)
		fail(&s->reply, K, "the request names no command");
	else if (!name_ok(vm) || !name_ok(actor))
		fail(&s->reply, K,
		     "a filter name is too long or not printable");
	else if (*actor &&
		 rq->command_case != ACTORVM__CTL_REQUEST__COMMAND_STATS)
		fail(&s->reply, K, "an actor filter applies to stats only");
	else if (*vm && rq->command_case == ACTORVM__CTL_REQUEST__COMMAND_STOP)
		fail(&s->reply, K, "stop ends the whole run: no VM filter");
	else
		return true;
	return false;
}

static void dispatch(struct ctl_server *s, const ctl_req *rq)
{
	static const Actorvm__CtlFilter none = ACTORVM__CTL_FILTER__INIT;
	const Actorvm__CtlFilter *f = rq->filter ? rq->filter : &none;

	if (!request_ok(s, rq))
		return;
	switch (rq->command_case) {
	case ACTORVM__CTL_REQUEST__COMMAND_STATUS:
		do_vcpus(s, f->vm, 0);
		break;
	case ACTORVM__CTL_REQUEST__COMMAND_PAUSE:
		do_vcpus(s, f->vm, VCPU_MSG_PAUSE);
		break;
	case ACTORVM__CTL_REQUEST__COMMAND_RESUME:
		do_vcpus(s, f->vm, VCPU_MSG_RESUME);
		break;
	case ACTORVM__CTL_REQUEST__COMMAND_STATS:
		do_stats(s, f);
		break;
	case ACTORVM__CTL_REQUEST__COMMAND_TRACE:
		do_trace(s, f->vm, rq->trace->on);
		break;
	case ACTORVM__CTL_REQUEST__COMMAND_STOP:
		/* The flag goes up once the reply is out (serve_one). */
		s->reply.resp.stopping = true;
		break;
	default:
		fail(&s->reply, ACTORVM__CTL_ERROR_CODE__CTL_ERR_MALFORMED,
		     "unknown command %d", (int)rq->command_case);
	}
}

/* Decode @msg (which may hold anything) and fill the reply. */
static void handle(struct ctl_server *s, nng_msg *msg)
{
	size_t len = nng_msg_len(msg);
	ctl_req *rq;

	reply_reset(&s->reply);
	if (len > CTL_MAX_REQUEST) {
		fail(&s->reply, ACTORVM__CTL_ERROR_CODE__CTL_ERR_TOO_LARGE,
		     "request of %zu bytes (at most %d)", len, CTL_MAX_REQUEST);
		return;
	}
	rq = actorvm__ctl_request__unpack(NULL, len, nng_msg_body(msg));
	if (!rq) {
		fail(&s->reply, ACTORVM__CTL_ERROR_CODE__CTL_ERR_MALFORMED,
		     "the request is not a CtlRequest (%zu bytes)", len);
		return;
	}
	dispatch(s, rq);
	actorvm__ctl_request__free_unpacked(rq, NULL);
}

/* Encode the reply into @msg (the request's, reused: REP keeps its
 * routing header there). */
static int send_reply(struct ctl_server *s, nng_msg *msg)
{
	size_t len = actorvm__ctl_response__get_packed_size(&s->reply.resp);
	int rv;

	nng_msg_clear(msg);
	rv = nng_msg_realloc(msg, len);
	if (rv)
		return -ENOMEM;
	actorvm__ctl_response__pack(&s->reply.resp, nng_msg_body(msg));
	rv = nng_sendmsg(s->sock, msg, 0);
	if (rv) {
		nng_msg_free(msg); /* not taken on failure */
		return -EIO;
	}
	return 0;
}

/* One request, or one receive timeout. -EPIPE once the socket is gone. */
static int serve_one(struct ctl_server *s)
{
	nng_msg *msg;
	int rv = nng_recvmsg(s->sock, &msg, 0);

	if (rv == NNG_ETIMEDOUT)
		return 0;
	if (rv)
		return rv == NNG_ECLOSED ? -EPIPE : 0;
	handle(s, msg);
	if (send_reply(s, msg) == -ENOMEM)
		nng_msg_free(msg);
	/* Raised after the send, so the stop's reply is queued before main
	 * can react; main then joins this thread, which sits up to POLL_MS
	 * in its next receive, before the socket is closed: time enough for
	 * the pipe to flush the reply. */
	if (s->reply.resp.stopping)
		atomic_store(&s->stop_req, true);
	return 0;
}

static void free_accessors(struct ctl_server *s)
{
	for (unsigned i = 0; i < MF_MAX_VMS; i++) {
		avm_accessor_free(s->acc[i]);
		s->acc[i] = NULL;
	}
}

static int make_accessors(struct ctl_server *s)
{
	for (unsigned i = 0; i < s->run->n_vms; i++) {
		int err = avm_accessor_new(s->run->vm[i].rt, "ctl", &s->acc[i]);

		if (err) {
			free_accessors(s);
			return err;
		}
	}
	return 0;
}

static void *server_main(void *arg)
{
	struct ctl_server *s = arg;

	/* Accessors are made and freed on this thread: they register it
	 * for the runtimes' lock-free map lookups. */
	s->init_err = make_accessors(s);
	sem_post(&s->ready);
	if (s->init_err)
		return NULL;
	while (!atomic_load(&s->quit))
		if (serve_one(s))
			break;
	free_accessors(s);
	return NULL;
}

static void *close_sock(void *arg)
{
	nng_socket sock = { .id = (uint32_t)(uintptr_t)arg };

	nng_close(sock);
	return NULL;
}

/*
 * nng 1.5.2 (Debian 12) can deadlock in nng_close() while a pipe is active
 * (nanomsg/nng#1543, #1813), and a client may well still be connected:
 * close on a detached thread so that stopping the run never hangs on it
 * (as framework/trace.c does for its publisher). At worst it leaks.
 */
static void close_async(nng_socket sock)
{
	pthread_attr_t attr;
	pthread_t th;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, close_sock, (void *)(uintptr_t)sock.id))
		nng_close(sock);
	pthread_attr_destroy(&attr);
}

/* Anyone who can reach a network listener can stop the VMs: say so loudly
 * unless it is local (ipc, inproc) or bound to a loopback address. */
static void warn_remote(const char *url)
{
	static const char *const local[] = {
		"ipc://",	 "inproc://",	     "abstract://",
		"tcp://127.",	 "tcp4://127.",	     "tcp://[::1]:",
		"tcp6://[::1]:", "tcp://localhost:",
	};

	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (!strncmp(url, local[i], strlen(local[i])))
			return;
	fprintf(stderr,
		"actorvm run: WARNING: the control socket %s is not bound to "
		"a loopback address: anyone who can reach it can pause or "
		"stop the VMs (there is no authentication; see docs/ctl.md)\n",
		url);
}

static int open_socket(struct ctl_server *s, const char *url, char *err,
		       size_t len)
{
	char why[256];
	int rv = nng_rep0_open(&s->sock);

	if (rv) {
		snprintf(err, len, "ctl: cannot open a socket: %s",
			 nng_strerror(rv));
		return -ENOMEM;
	}
	nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, POLL_MS);
	nng_socket_set_ms(s->sock, NNG_OPT_SENDTIMEO, SEND_TIMEOUT_MS);
	/* Above this the transport drops the connection unanswered; between
	 * CTL_MAX_REQUEST and it, the client gets CTL_ERR_TOO_LARGE. */
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, RECV_MAX);
	rv = avm_listen(s->sock, url, &s->listener, why, sizeof(why));
	if (rv) {
		/* No pipe can exist yet: a plain close cannot deadlock. */
		nng_close(s->sock);
		snprintf(err, len, "ctl: %s", why);
		return rv == -EEXIST || rv == -EADDRINUSE ? rv : -EADDRNOTAVAIL;
	}
	warn_remote(url);
	return 0;
}

/* Start the server thread and wait until it has made its accessors. */
static int start_thread(struct ctl_server *s, char *err, size_t len)
{
	int ret;

	if (sem_init(&s->ready, 0, 0)) {
		snprintf(err, len, "ctl: %s", strerror(errno));
		return -errno;
	}
	ret = -pthread_create(&s->thread, NULL, server_main, s);
	if (ret) {
		snprintf(err, len, "ctl: cannot start a thread: %s",
			 strerror(-ret));
		goto destroy_ready;
	}
	while (sem_wait(&s->ready) && errno == EINTR)
		; /* a signal (Ctrl-C) must not make us read init_err early */
	ret = s->init_err;
	if (!ret)
		return 0;
	snprintf(err, len, "ctl: cannot make an accessor: %s", strerror(-ret));
	pthread_join(s->thread, NULL);
destroy_ready:
	sem_destroy(&s->ready);
	return ret;
}

int ctl_server_start(struct ctl_server **out, const char *url,
		     struct mf_run *run, char *err, size_t len)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s) {
		snprintf(err, len, "ctl: out of memory");
		return -ENOMEM;
	}
	s->run = run;
	atomic_init(&s->quit, false);
	atomic_init(&s->stop_req, false);
	ret = open_socket(s, url, err, len);
	if (ret)
		goto free_server;
	ret = start_thread(s, err, len);
	if (ret)
		goto close_socket;
	*out = s;
	return 0;

close_socket:
	avm_listener_free(s->listener);
	close_async(s->sock); /* a client may have connected already */
free_server:
	free(s);
	return ret;
}

bool ctl_server_stop_requested(const struct ctl_server *s)
{
	return s && atomic_load(&s->stop_req);
}

void ctl_server_stop(struct ctl_server *s)
{
	if (!s)
		return;
	atomic_store(&s->quit, true);
	pthread_join(s->thread, NULL);
	sem_destroy(&s->ready);
	avm_listener_free(s->listener);
	close_async(s->sock);
	free(s);
}
