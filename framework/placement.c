/* SPDX-License-Identifier: MIT */
/*
 * Thread placement shared by the threaded and the big-lock executors:
 * both used to carry a copy, and the copies had drifted apart (only one
 * said what a refused priority needs).
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "internal.h"
#include "placement.h"

static void pin(struct avm_actor *a, uint64_t cpus)
{
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	for (unsigned i = 0; i < AVM_CPU_COUNT; i++)
		if (cpus & AVM_CPU(i))
			CPU_SET(i, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err)
		avm__log(a->rt, AVM_LOG_WARN, a->name,
			 "cannot pin to CPU set 0x%llx (%s); running unpinned",
			 (unsigned long long)cpus, strerror(err));
}

static bool prioritise(struct avm_actor *a, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);

	if (err)
		avm__log(a->rt, AVM_LOG_WARN, a->name,
			 "SCHED_FIFO priority %d refused (%s); running with "
			 "normal priority (needs CAP_SYS_NICE or an rtprio "
			 "limit)",
			 prio, strerror(err));
	return !err;
}

bool avm__place_self(struct avm_actor *a)
{
	/* Zero in either field is the default: leave the thread as it is. */
	if (a->spec.cpus)
		pin(a, a->spec.cpus);
	return a->spec.rt_priority > 0 && prioritise(a, a->spec.rt_priority);
}
