/* SPDX-License-Identifier: MIT */
/*
 * actorvm ctl: the client of `actorvm run --ctl URL` (docs/ctl.md). One
 * CtlRequest over an nng REQ socket, one CtlResponse back, printed as text
 * or JSON. Exit status: 0 success, 1 error response, 2 usage, 3 no answer.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "cli.h"
#include "control.pb-c.h"

enum { EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NO_ANSWER };

struct ctl_args {
	const char *url, *command;
	int timeout_ms;
	bool json;
	Actorvm__CtlRequest rq;
	Actorvm__CtlFilter filter;
	Actorvm__CtlTrace trace;
	/* The empty messages a command's oneof points at. */
	Actorvm__CtlStatus status;
	Actorvm__CtlPause pause;
	Actorvm__CtlResume resume;
	Actorvm__CtlStop stop;
	Actorvm__CtlStats stats;
};

static void ctl_usage(FILE *f)
{
	fprintf(f,
		"usage: actorvm ctl [OPTIONS] URL COMMAND [ARG]\n\n"
		"Talks to `actorvm run --ctl URL` (docs/ctl.md). Commands:\n"
		"  status [VM]      each VM: running or exited, its VCPUs' "
		"states\n"
		"  pause [VM]       pause every VCPU (of VM, or of all VMs)\n"
		"  resume [VM]      resume them\n"
		"  stop             stop the run (it exits with status 130)\n"
		"  stats [ACTOR]    per-actor counters (of ACTOR only), and a "
		"device's process\n"
		"                   (pid, restarts, last exit) where it has "
		"one\n"
		"  trace on|off [VM]  resume or pause trace recording\n\n"
		"  --vm NAME        restrict status, stats or trace to one VM\n"
		"  --timeout SECS   give up after this long (default 5)\n"
		"  --json           print the response as JSON\n\n"
		"Exit status: 0 on success, 1 on an error response, 2 on "
		"usage errors,\n"
		"3 if nothing answered within the timeout.\n");
}

/* Point the oneof's member for @c at its (empty or trace) body. */
static void set_body(struct ctl_args *a, Actorvm__CtlRequest__CommandCase c)
{
	a->rq.command_case = c;
	if (c == ACTORVM__CTL_REQUEST__COMMAND_STATUS)
		a->rq.status = &a->status;
	else if (c == ACTORVM__CTL_REQUEST__COMMAND_PAUSE)
		a->rq.pause = &a->pause;
	else if (c == ACTORVM__CTL_REQUEST__COMMAND_RESUME)
		a->rq.resume = &a->resume;
	else if (c == ACTORVM__CTL_REQUEST__COMMAND_STOP)
		a->rq.stop = &a->stop;
	else if (c == ACTORVM__CTL_REQUEST__COMMAND_STATS)
		a->rq.stats = &a->stats;
	else
		a->rq.trace = &a->trace;
}

/* Set the request's command from its name; false for an unknown one. */
static bool set_command(struct ctl_args *a, const char *cmd)
{
	static const struct {
		const char *name;
		Actorvm__CtlRequest__CommandCase c;
	} cmds[] = {
		{ "status", ACTORVM__CTL_REQUEST__COMMAND_STATUS },
		{ "pause", ACTORVM__CTL_REQUEST__COMMAND_PAUSE },
		{ "resume", ACTORVM__CTL_REQUEST__COMMAND_RESUME },
		{ "stop", ACTORVM__CTL_REQUEST__COMMAND_STOP },
		{ "stats", ACTORVM__CTL_REQUEST__COMMAND_STATS },
		{ "trace", ACTORVM__CTL_REQUEST__COMMAND_TRACE },
	};

	a->status = (Actorvm__CtlStatus)ACTORVM__CTL_STATUS__INIT;
	a->pause = (Actorvm__CtlPause)ACTORVM__CTL_PAUSE__INIT;
	a->resume = (Actorvm__CtlResume)ACTORVM__CTL_RESUME__INIT;
	a->stop = (Actorvm__CtlStop)ACTORVM__CTL_STOP__INIT;
	a->stats = (Actorvm__CtlStats)ACTORVM__CTL_STATS__INIT;
	a->trace = (Actorvm__CtlTrace)ACTORVM__CTL_TRACE__INIT;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i].name)) {
			set_body(a, cmds[i].c);
			return true;
		}
	return false;
}

/* The command's arguments: argv[0] is the command. */
static int parse_command(struct ctl_args *a, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!set_command(a, cmd))
		return -EINVAL;
	if (!strcmp(cmd, "trace")) {
		if (argc < 2 ||
		    (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
			return -EINVAL;
		a->trace.on = !strcmp(argv[1], "on");
		argc--, argv++;
	}
	if (argc > 2 || (argc == 2 && !strcmp(cmd, "stop")))
		return -EINVAL;
	if (argc == 2 && !strcmp(cmd, "stats"))
		a->filter.actor = argv[1];
	else if (argc == 2)
		a->filter.vm = argv[1];
	return 0;
}

/* "2.5" seconds -> milliseconds (at least 1). */
static int parse_timeout(const char *arg, int *ms)
{
	char *end;
	double secs = strtod(arg, &end);

	if (*end || !(secs > 0 && secs < 86400))
		return -EINVAL;
	*ms = secs < 0.001 ? 1 : (int)(secs * 1000);
	return 0;
}

static int parse_ctl(int argc, char **argv, struct ctl_args *a)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "vm", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*a = (struct ctl_args){ .timeout_ms = 5000 };
	a->rq = (Actorvm__CtlRequest)ACTORVM__CTL_REQUEST__INIT;
	a->filter = (Actorvm__CtlFilter)ACTORVM__CTL_FILTER__INIT;
	a->rq.filter = &a->filter;
	while ((c = getopt_long(argc, argv, "t:m:jh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_timeout(optarg, &a->timeout_ms))
				return -EINVAL;
			break;
		case 'm':
			a->filter.vm = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind < 2)
		return -EINVAL;
	a->url = argv[optind];
	a->command = argv[optind + 1];
	return parse_command(a, argc - optind - 1, argv + optind + 1);
}

static const char *vcpu_state(Actorvm__CtlVcpuState s)
{
	static const char *const names[] = { "running", "halted", "paused",
					     "failed", "unknown" };

	return (unsigned)s < 5 ? names[s] : "unknown";
}

static const char *code_name(Actorvm__CtlErrorCode c)
{
	static const char *const names[] = { "ok",	  "malformed",
					     "not-found", "no-trace",
					     "failed",	  "too-large" };

	return (unsigned)c < 6 ? names[c] : "unknown";
}

static void print_trace(const Actorvm__CtlTraceState *t)
{
	if (!t || !t->tracing)
		return;
	printf("  trace: %s (%s), %" PRIu64 " recorded, %" PRIu64
	       " dropped, %" PRIu64 " written",
	       t->path, t->paused ? "paused" : "recording", t->recorded,
	       t->dropped, t->written);
	if (t->write_error && *t->write_error)
		printf(", %" PRIu64 " LOST (%s)", t->lost, t->write_error);
	printf("\n");
}

static void print_process(const Actorvm__CtlProcess *p)
{
	if (!p)
		return;
	printf("    process %d: %s, %u restart%s, %" PRIu64
	       " lost, on failure %s\n",
	       p->pid, p->state, p->restarts, p->restarts == 1 ? "" : "s",
	       p->lost, p->policy);
	if (*p->last_exit)
		printf("    last exit: %s\n", p->last_exit);
	if (*p->sandbox)
		printf("    sandbox: %s\n", p->sandbox);
}

static void print_vm(const Actorvm__CtlVm *vm)
{
	if (vm->exited)
		printf("vm %s: exited, status %d\n", vm->name, vm->exit_status);
	else
		printf("vm %s: running\n", vm->name);
	print_trace(vm->trace);
	for (size_t j = 0; j < vm->n_vcpus; j++) {
		const Actorvm__CtlVcpu *c = vm->vcpus[j];

		printf("  vcpu %u (%s): %s", c->index, c->actor,
		       vcpu_state(c->state));
		if (c->error)
			printf(" (%s)", strerror(-c->error));
		printf("\n");
	}
	if (vm->n_actors)
		printf("  %-16s %-12s %12s %10s %8s %8s\n", "actor", "type",
		       "handled", "outbox_max", "dropped", "bounced");
	for (size_t j = 0; j < vm->n_actors; j++) {
		const Actorvm__CtlActorStats *s = vm->actors[j];

		printf("  %-16s %-12s %12" PRIu64 " %10" PRIu64 " %8" PRIu64
		       " %8" PRIu64 "\n",
		       s->name, s->type, s->handled, s->outbox_max, s->dropped,
		       s->bounced);
		print_process(s->process);
	}
}

static void print_text(const Actorvm__CtlResponse *r)
{
	for (size_t i = 0; i < r->n_vms; i++)
		print_vm(r->vms[i]);
	if (r->stopping)
		printf("stopping\n");
	if (r->code)
		fprintf(stderr, "actorvm ctl: %s: %s\n", code_name(r->code),
			r->error);
}

static void json_str(const char *key, const char *s, const char *sep)
{
	printf("\"%s\":\"", key);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	printf("\"%s", sep);
}

static void json_process(const Actorvm__CtlProcess *p)
{
	if (!p)
		return;
	printf(",\"process\":{");
	json_str("state", p->state, ",");
	printf("\"pid\":%d,\"restarts\":%u,\"lost\":%" PRIu64 ",", p->pid,
	       p->restarts, p->lost);
	json_str("policy", p->policy, ",");
	json_str("last_exit", p->last_exit, ",");
	json_str("sandbox", p->sandbox, "}");
}

static void json_vm(const Actorvm__CtlVm *vm)
{
	const Actorvm__CtlTraceState *t = vm->trace;

	printf("{");
	json_str("name", vm->name, ",");
	printf("\"exited\":%s,\"exit_status\":%d,\"vcpus\":[",
	       vm->exited ? "true" : "false", vm->exit_status);
	for (size_t j = 0; j < vm->n_vcpus; j++) {
		printf("%s{\"index\":%u,", j ? "," : "", vm->vcpus[j]->index);
		json_str("actor", vm->vcpus[j]->actor, ",");
		printf("\"state\":\"%s\",\"error\":%d}",
		       vcpu_state(vm->vcpus[j]->state), vm->vcpus[j]->error);
	}
	printf("],\"actors\":[");
	for (size_t j = 0; j < vm->n_actors; j++) {
		const Actorvm__CtlActorStats *s = vm->actors[j];

		printf("%s{", j ? "," : "");
		json_str("name", s->name, ",");
		json_str("type", s->type, ",");
		printf("\"handled\":%" PRIu64 ",\"outbox_max\":%" PRIu64
		       ",\"dropped\":%" PRIu64 ",\"bounced\":%" PRIu64,
		       s->handled, s->outbox_max, s->dropped, s->bounced);
		json_process(s->process);
		printf("}");
	}
	printf("]");
	if (t && t->tracing) {
		printf(",\"trace\":{");
		json_str("path", t->path, ",");
		printf("\"paused\":%s,\"recorded\":%" PRIu64
		       ",\"dropped\":%" PRIu64 ",\"written\":%" PRIu64
		       ",\"lost\":%" PRIu64 ",",
		       t->paused ? "true" : "false", t->recorded, t->dropped,
		       t->written, t->lost);
		json_str("write_error", t->write_error ? t->write_error : "",
			 "}");
	}
	printf("}");
}

static void print_json(const Actorvm__CtlResponse *r)
{
	printf("{\"code\":\"%s\",", code_name(r->code));
	json_str("error", r->error, ",");
	printf("\"stopping\":%s,\"vms\":[", r->stopping ? "true" : "false");
	for (size_t i = 0; i < r->n_vms; i++) {
		printf("%s", i ? "," : "");
		json_vm(r->vms[i]);
	}
	printf("]}\n");
}

/* A request unanswered on its connection is sent again after this long. */
#define CTL_RESEND_MS 1000
/* A connection that brought no answer in this long is given up for a new
 * socket: nng 1.5.2's dialer can stop redialling for good when a listener
 * closes under it mid-handshake (the failure reads as its own close). */
#define CTL_ATTEMPT_MS 3000

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * One attempt on a new socket, waiting at most @ms. The dial is
 * non-blocking: with nobody listening, nng keeps redialling in the
 * background and the send/receive timeouts bound the wait. The socket is
 * never closed: with nng 1.5.2 (Debian 12) nng_close() can deadlock while
 * a pipe is active (nanomsg/nng#1543, #1813), and we exit right away.
 */
static int attempt(const struct ctl_args *a, const uint8_t *buf, size_t len,
		   int ms, nng_msg **reply)
{
	nng_socket s;
	int rv = nng_req0_open(&s);

	if (rv)
		return rv;
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, ms);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, ms);
	/* Every command is idempotent, so a request whose connection went
	 * away unanswered (a listener being re-made: framework/listen.c) is
	 * sent again after a second, not after nng's default minute. */
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, CTL_RESEND_MS);
	rv = nng_dial(s, a->url, NULL, NNG_FLAG_NONBLOCK);
	if (!rv)
		rv = nng_send(s, (void *)buf, len, 0);
	if (!rv)
		rv = nng_recvmsg(s, reply, 0);
	return rv;
}

/* Send @a's request and wait for the answer, all within the timeout. */
static int exchange(const struct ctl_args *a, nng_msg **reply)
{
	size_t len = actorvm__ctl_request__get_packed_size(&a->rq);
	uint8_t *buf = malloc(len ? len : 1);
	int64_t end = now_ms() + a->timeout_ms, left;
	int rv = NNG_ETIMEDOUT;

	if (!buf)
		return NNG_ENOMEM;
	actorvm__ctl_request__pack(&a->rq, buf);
	while ((left = end - now_ms()) > 0) {
		rv = attempt(
			a, buf, len,
			(int)(left < CTL_ATTEMPT_MS ? left : CTL_ATTEMPT_MS),
			reply);
		if (rv != NNG_ETIMEDOUT)
			break;
	}
	free(buf);
	return rv;
}

static int show(const struct ctl_args *a, nng_msg *msg)
{
	Actorvm__CtlResponse *r = actorvm__ctl_response__unpack(
		NULL, nng_msg_len(msg), nng_msg_body(msg));
	int ret;

	if (!r) {
		fprintf(stderr,
			"actorvm ctl: %s: the answer is not a "
			"CtlResponse\n",
			a->url);
		return EXIT_ERROR;
	}
	if (a->json)
		print_json(r);
	else
		print_text(r);
	ret = r->code ? EXIT_ERROR : EXIT_OK;
	actorvm__ctl_response__free_unpacked(r, NULL);
	return ret;
}

int avm_cli_ctl(int argc, char **argv)
{
	struct ctl_args a;
	nng_msg *msg;
	int ret = parse_ctl(argc, argv, &a), rv;

	if (ret) {
		ctl_usage(ret > 0 ? stdout : stderr);
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	}
	rv = exchange(&a, &msg);
	if (rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP || rv == NNG_EINVAL) {
		fprintf(stderr, "actorvm ctl: %s: %s\n", a.url,
			nng_strerror(rv));
		return EXIT_USAGE;
	}
	if (rv) {
		fprintf(stderr, "actorvm ctl: %s: no answer: %s\n", a.url,
			nng_strerror(rv));
		return EXIT_NO_ANSWER;
	}
	ret = show(&a, msg);
	nng_msg_free(msg);
	return ret;
}
