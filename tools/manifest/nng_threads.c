// SPDX-License-Identifier: MIT
/*
 * nng's I/O threads at real-time priority (nng_threads.h says why).
 *
 * nng 1.5 has no call to size or place its threads; it creates them all
 * in its first socket open, with default attributes, which on glibc
 * inherit the creator's scheduling policy. So a thread created with an
 * explicit SCHED_FIFO policy opens and closes one socket.
 */
#include "nng_threads.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

static void *open_one(void *arg)
{
	int *rv = arg;
	nng_socket s;

	*rv = nng_pair1_open(&s);
	if (!*rv)
		nng_close(s);
	return NULL;
}

int mf_nng_threads_start(int rt_priority, char *why, size_t len)
{
	struct sched_param sp = { .sched_priority = rt_priority };
	pthread_attr_t attr;
	pthread_t t;
	int err, rv = 0;

	if (rt_priority <= 0)
		return 0;
	err = pthread_attr_init(&attr);
	if (err)
		goto out;
	err = pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED) ?:
	      pthread_attr_setschedpolicy(&attr, SCHED_FIFO) ?:
	      pthread_attr_setschedparam(&attr, &sp) ?:
	      pthread_create(&t, &attr, open_one, &rv);
	if (err)
		goto destroy_attr;
	pthread_join(t, NULL);
	if (rv)
		snprintf(why, len, "nng: %s", nng_strerror(rv));
	err = rv ? EIO : 0;
destroy_attr:
	pthread_attr_destroy(&attr);
out:
	if (err && err != EIO)
		snprintf(why, len,
			 "SCHED_FIFO priority %d for nng's threads: %s",
			 rt_priority, strerror(err));
	return -err;
}
