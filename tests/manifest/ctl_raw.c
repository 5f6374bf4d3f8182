/* SPDX-License-Identifier: MIT */
/*
 * ctl_raw: a test client that sends arbitrary bytes to an `actorvm run
 * --ctl URL` server, one nng message per argument (hex, "" for an empty
 * message; "HEX*N" repeats HEX N times), and prints one line per answer:
 * "CODE ERROR-TEXT" of the decoded CtlResponse, or "undecodable".
 * Exit status: 0 when every message was answered, 3 at the first one that
 * was not (within 5 s). Used by check_ctl.py for malformed requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "control.pb-c.h"

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* @arg as bytes into *@out (malloc'ed); its length, or -1. */
static long parse_arg(const char *arg, unsigned char **out)
{
	const char *star = strchr(arg, '*');
	size_t hex = star ? (size_t)(star - arg) : strlen(arg);
	long reps = star ? strtol(star + 1, NULL, 10) : 1;
	size_t n = hex / 2;
	unsigned char *b;

	if (hex % 2 || reps < 1 || reps > 1000000)
		return -1;
	b = malloc(n * (size_t)reps + 1);
	if (!b)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(arg[2 * i]), lo = hexval(arg[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return -1;
		}
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	for (long r = 1; r < reps; r++)
		memcpy(b + n * (size_t)r, b, n);
	*out = b;
	return (long)(n * (size_t)reps);
}

static void print_answer(nng_msg *m)
{
	Actorvm__CtlResponse *r = actorvm__ctl_response__unpack(
		NULL, nng_msg_len(m), nng_msg_body(m));

	if (!r) {
		printf("undecodable\n");
		return;
	}
	printf("%d %s\n", (int)r->code, r->error);
	actorvm__ctl_response__free_unpacked(r, NULL);
}

int main(int argc, char **argv)
{
	nng_socket s;
	int rv;

	if (argc < 2) {
		fprintf(stderr, "usage: ctl_raw URL HEX...\n");
		return 2;
	}
	if (nng_req0_open(&s))
		return 1;
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	if (nng_dial(s, argv[1], NULL, NNG_FLAG_NONBLOCK))
		return 2;
	for (int i = 2; i < argc; i++) {
		unsigned char *b;
		long len = parse_arg(argv[i], &b);
		nng_msg *m;

		if (len < 0) {
			fprintf(stderr, "ctl_raw: bad argument '%s'\n",
				argv[i]);
			return 2;
		}
		rv = nng_send(s, b, (size_t)len, 0);
		free(b);
		if (!rv)
			rv = nng_recvmsg(s, &m, 0);
		if (rv) {
			printf("no answer: %s\n", nng_strerror(rv));
			return 3;
		}
		print_answer(m);
		nng_msg_free(m);
	}
	fflush(stdout);
	/* No nng_close(): it can deadlock in nng 1.5.2 (see tools/ctl.c). */
	return 0;
}
