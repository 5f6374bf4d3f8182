/* SPDX-License-Identifier: MIT */
/*
 * actorvm trace follow: subscribe to a running VM's trace publisher
 * (avm_trace_options.follow_url) and print its events as `show` does.
 * Each nng message is one encoded TraceRecord, without a length prefix.
 * A subscriber that connects late misses the header: actors are then
 * shown by id ("#3") until a header arrives.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "trace.pb-c.h"
#include "trace_cli.h"

#define POLL_MS 100

/* The one piece of global state: set by SIGINT, read by the loop. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct follow {
	uint64_t count; /* stop after this many events; 0: never */
	uint64_t deadline_ns;
	uint64_t seen;
	bool ended;
	bool have_header;
	struct avm_trace_actor *actors;
	unsigned n_actors;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void drop_actors(struct follow *fw)
{
	for (unsigned i = 0; i < fw->n_actors; i++) {
		free((char *)fw->actors[i].name);
		free((char *)fw->actors[i].type);
	}
	free(fw->actors);
	fw->actors = NULL;
	fw->n_actors = 0;
}

static int take_header(struct follow *fw, const Actorvm__TraceHeader *h)
{
	bool first = !fw->have_header;

	fw->have_header = true;
	drop_actors(fw);
	fw->actors = calloc(h->n_actors ? h->n_actors : 1, sizeof(*fw->actors));
	if (!fw->actors)
		return -ENOMEM;
	for (size_t i = 0; i < h->n_actors; i++) {
		fw->actors[i].id = h->actors[i]->id;
		fw->actors[i].name = strdup(h->actors[i]->name);
		fw->actors[i].type = strdup(h->actors[i]->type);
		fw->n_actors = (unsigned)i + 1;
		if (!fw->actors[i].name || !fw->actors[i].type)
			return -ENOMEM;
	}
	if (first)
		printf("trace header: format %u, clock %s, executor %s, "
		       "%u actors\n",
		       h->version, h->clock, h->executor, fw->n_actors);
	return 0;
}

/* The same checks as the file reader: the C struct is narrower. */
static int to_event(const Actorvm__TraceEvent *e, struct avm_trace_event *ev)
{
	size_t need = e->payload_len < AVM_TRACE_SNAPLEN ? e->payload_len
							 : AVM_TRACE_SNAPLEN;

	if (e->type < 1 || e->type > 5 || e->kind > UINT16_MAX ||
	    e->lane > UINT8_MAX || e->size > UINT8_MAX ||
	    e->payload.len > AVM_TRACE_SNAPLEN ||
	    (e->payload.len && e->payload.len < need))
		return -EINVAL;
	*ev = (struct avm_trace_event){
		.type = (uint8_t)e->type,
		.lane = (uint8_t)e->lane,
		.size = (uint8_t)e->size,
		.kind = (uint16_t)e->kind,
		.actor = e->actor,
		.src = e->src,
		.thread = e->thread,
		.arg = e->arg,
		.status = e->status,
		.t_ns = e->t_ns,
		.corr = e->corr,
		.cause = e->cause,
		.addr = e->addr,
		.value = e->value,
		.payload_len = e->payload_len,
		.payload = e->payload.len ? e->payload.data : NULL,
	};
	return 0;
}

static int on_record(struct follow *fw, const Actorvm__TraceRecord *rec)
{
	struct avm_trace_event ev;

	switch (rec->rec_case) {
	case ACTORVM__TRACE_RECORD__REC_HEADER:
		return take_header(fw, rec->header);
	case ACTORVM__TRACE_RECORD__REC_EVENT:
		if (to_event(rec->event, &ev))
			return -EINVAL;
		tcli_print_event(stdout, &ev, fw->actors, fw->n_actors);
		fw->seen++;
		return 0;
	case ACTORVM__TRACE_RECORD__REC_LOSS:
		printf("lost %" PRIu64 " events (thread %u)\n",
		       rec->loss->dropped, rec->loss->thread);
		return 0;
	case ACTORVM__TRACE_RECORD__REC_FOOTER:
		printf("end of trace: %" PRIu64 " events, %" PRIu64
		       " dropped\n",
		       rec->footer->events, rec->footer->dropped);
		fw->ended = true;
		return 0;
	default:
		return 0;
	}
}

/* Decode and print one message; a bad one is reported and skipped. */
static int on_message(struct follow *fw, nng_msg *msg)
{
	size_t len = nng_msg_len(msg);
	Actorvm__TraceRecord *rec;
	int ret = -EINVAL;

	rec = actorvm__trace_record__unpack(NULL, len, nng_msg_body(msg));
	if (rec) {
		ret = on_record(fw, rec);
		actorvm__trace_record__free_unpacked(rec, NULL);
	}
	if (ret == -EINVAL)
		fprintf(stderr,
			"actorvm trace follow: malformed record of "
			"%zu bytes, skipped\n",
			len);
	fflush(stdout);
	return ret == -ENOMEM ? ret : 0;
}

static bool done(const struct follow *fw)
{
	return interrupted || fw->ended ||
	       (fw->count && fw->seen >= fw->count) ||
	       (fw->deadline_ns && now_ns() >= fw->deadline_ns);
}

static int receive_loop(nng_socket s, struct follow *fw)
{
	nng_msg *msg;
	int ret;

	while (!done(fw)) {
		ret = nng_recvmsg(s, &msg, 0);
		if (ret == NNG_ETIMEDOUT || ret == NNG_EINTR)
			continue;
		if (ret) {
			fprintf(stderr, "actorvm trace follow: receive: %s\n",
				nng_strerror(ret));
			return TCLI_ERR;
		}
		ret = on_message(fw, msg);
		nng_msg_free(msg);
		if (ret) {
			fprintf(stderr,
				"actorvm trace follow: out of memory\n");
			return TCLI_ERR;
		}
	}
	return TCLI_OK;
}

static int follow_run(const char *url, struct follow *fw)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	sigset_t block, old;
	nng_socket s;
	int ret, rc = TCLI_ERR;

	/* nng's worker threads inherit the mask of the thread that starts
	 * them: keep SIGINT off them, so that only this thread takes it. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	ret = nng_sub0_open(&s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		fprintf(stderr, "actorvm trace follow: %s\n",
			nng_strerror(ret));
		return TCLI_ERR;
	}
	ret = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	if (!ret)
		ret = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, POLL_MS);
	/* Non-blocking dial: keep retrying until the VM publishes. */
	if (!ret)
		ret = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK);
	if (ret) {
		fprintf(stderr, "actorvm trace follow: %s: %s\n", url,
			nng_strerror(ret));
	} else {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		rc = receive_loop(s, fw);
	}
	/* No nng_close(): with nng 1.5.2 (Debian 12) it can deadlock while a
	 * pipe is active (nanomsg/nng#1543, #1813; fixed in later releases),
	 * and the command exits right after this anyway. */
	(void)s;
	drop_actors(fw);
	return rc;
}

static void follow_help(FILE *out)
{
	fprintf(out, "usage: actorvm trace follow [OPTIONS] URL\n\n");
	fprintf(out, "Print the events of a running VM as `show` does, as "
		     "they come, from the nng\n");
	fprintf(out, "publisher at URL (avm_trace_options.follow_url, e.g. "
		     "ipc:///tmp/vm.trace).\n");
	fprintf(out, "Events come in the order the VM's trace writer "
		     "drains them (by thread), not\n");
	fprintf(out, "sorted by time. Until a header arrives, actors show "
		     "as #ID. Malformed\n");
	fprintf(out, "messages are reported and skipped. Stops at Ctrl-C "
		     "(exit 0), at the end of\n");
	fprintf(out, "the trace, or as the options say.\n\n");
	fprintf(out, "Options:\n");
	fprintf(out, "  --count N      stop after N events\n");
	fprintf(out, "  --seconds S    stop after S seconds\n");
	fprintf(out, "  -h, --help     this help\n");
}

int tcli_follow(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", 1, NULL, 'c' },
		{ "seconds", 1, NULL, 's' },
		{ "help", 0, NULL, 'h' },
		{ 0 },
	};
	struct follow fw = { 0 };
	char buf[64];
	uint64_t v;
	int c, rc = -1;

	optind = 0;
	while (rc < 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'c' && !tcli_parse_u64(optarg, &fw.count))
			continue;
		if (c == 's' &&
		    snprintf(buf, sizeof(buf), "%ss", optarg) <
			    (int)sizeof(buf) &&
		    !tcli_parse_time(buf, &v)) {
			fw.deadline_ns = now_ns() + v;
			continue;
		}
		if (c == 'h') {
			follow_help(stdout);
			rc = TCLI_OK;
		} else {
			rc = tcli_usage_error("follow",
					      c == '?' ? NULL : "bad value",
					      optarg);
		}
	}
	if (rc < 0 && optind != argc - 1)
		rc = tcli_usage_error("follow", "expected one URL", NULL);
	if (rc < 0)
		rc = follow_run(argv[optind], &fw);
	return rc;
}
