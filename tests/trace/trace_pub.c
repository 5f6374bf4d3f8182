/* SPDX-License-Identifier: MIT */
/*
 * trace_pub URL SECONDS: a stand-in for a VM's trace publisher. Every
 * 10 ms it publishes a header, a read event (corr counting from 1) and,
 * every fifth time, a malformed message, for SECONDS seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include <actorvm/actor.h>

#include "trace_writer.h"

static int publish(nng_socket s, const void *buf, size_t len)
{
	return nng_send(s, (void *)buf, len, 0);
}

static int round_of(nng_socket s, uint64_t i)
{
	static const struct avm_trace_actor actors[] = { { 0, "nic",
							   "e1000" } };
	struct tw_header h = { .version = AVM_TRACE_VERSION,
			       .clock = "monotonic",
			       .executor = "threaded",
			       .actors = actors,
			       .n_actors = 1 };
	struct avm_trace_event ev = { .type = AVM_TRACE_POSTED,
				      .kind = AVM_MSG_READ,
				      .src = AVM_ACTOR_NONE,
				      .t_ns = i * 1000,
				      .corr = i,
				      .addr = 0x10,
				      .size = 4 };
	uint8_t buf[512];
	size_t n;
	int ret;

	n = tw_encode_header(&h, buf, sizeof(buf));
	ret = publish(s, buf, n);
	n = tw_encode_event(&ev, buf, sizeof(buf));
	if (!ret)
		ret = publish(s, buf, n);
	if (!ret && i % 5 == 0)
		ret = publish(s, "\x12\x64garbage", 9);
	return ret;
}

int main(int argc, char **argv)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	nng_socket s;
	long rounds;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: trace_pub URL SECONDS\n");
		return 2;
	}
	rounds = atol(argv[2]) * 100;
	ret = nng_pub0_open(&s);
	if (!ret)
		ret = nng_listen(s, argv[1], NULL, 0);
	for (long i = 1; !ret && i <= rounds; i++) {
		ret = round_of(s, (uint64_t)i);
		nanosleep(&nap, NULL);
	}
	if (ret)
		fprintf(stderr, "trace_pub: %s\n", nng_strerror(ret));
	nng_close(s);
	return ret ? 1 : 0;
}
