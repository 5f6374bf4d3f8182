/* SPDX-License-Identifier: MIT */
/* The alarm thread of a self-driven actor (see alarm.h). */
#include "alarm.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>

#include "internal.h"

int avm_alarm_init(struct avm_alarm *al, const char *name, void (*fire)(void *),
		   void *arg)
{
	pthread_condattr_t ca;
	int err;

	*al = (struct avm_alarm){ .fire = fire, .arg = arg };
	snprintf(al->name, sizeof(al->name), "~%s", name);
	err = pthread_condattr_init(&ca);
	if (err)
		return -err;
	err = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)
		      ?: pthread_cond_init(&al->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (err)
		return -err;
	err = pthread_mutex_init(&al->lock, NULL);
	if (err) {
		pthread_cond_destroy(&al->cond);
		return -err;
	}
	return 0;
}

/*
 * The actor's thread may be SCHED_FIFO and pinned, busy in guest code: an
 * alarm of the same priority on the same CPU would never run. It may run on
 * any CPU and, under SCHED_FIFO, one priority above its actor.
 */
static void alarm_placement(void)
{
	struct sched_param sp;
	cpu_set_t all;
	int policy;

	CPU_ZERO(&all);
	for (int c = 0; c < CPU_SETSIZE; c++)
		CPU_SET(c, &all);
	pthread_setaffinity_np(pthread_self(), sizeof(all), &all);
	if (!pthread_getschedparam(pthread_self(), &policy, &sp) &&
	    policy == SCHED_FIFO && sp.sched_priority < 99) {
		sp.sched_priority++;
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	/* The default 50 us of timer slack would be added to every wake. */
	prctl(PR_SET_TIMERSLACK, 1UL);
}

static struct timespec to_timespec(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ull),
				  .tv_nsec = (long)(ns % 1000000000ull) };
}

static void *alarm_main(void *arg)
{
	struct avm_alarm *al = arg;

	pthread_setname_np(pthread_self(), al->name);
	alarm_placement();
	/* @fire may enter RCU read sections (the actor's kick does). */
	avm_reader_register();
	pthread_mutex_lock(&al->lock);
	while (!al->stop) {
		struct timespec ts;

		if (!al->due) {
			pthread_cond_wait(&al->cond, &al->lock);
			continue;
		}
		if (avm_mono_ns() < al->due) {
			ts = to_timespec(al->due);
			pthread_cond_timedwait(&al->cond, &al->lock, &ts);
			continue;
		}
		al->due = 0;
		/* Unlocked: the kick may take a while, the actor may re-arm. */
		pthread_mutex_unlock(&al->lock);
		al->fire(al->arg);
		pthread_mutex_lock(&al->lock);
	}
	pthread_mutex_unlock(&al->lock);
	avm_reader_unregister();
	return NULL;
}

int avm_alarm_set(struct avm_alarm *al, uint64_t due_ns)
{
	int err;

	if (!al->running) {
		if (!due_ns)
			return 0;
		/* Created by the actor's thread: it inherits its scheduling,
		 * then alarm_placement() adjusts that. */
		err = pthread_create(&al->thread, NULL, alarm_main, al);
		if (err)
			return -err;
		al->running = true;
	}
	pthread_mutex_lock(&al->lock);
	al->due = due_ns;
	pthread_cond_signal(&al->cond);
	pthread_mutex_unlock(&al->lock);
	return 0;
}

void avm_alarm_stop(struct avm_alarm *al)
{
	if (!al->running)
		return;
	pthread_mutex_lock(&al->lock);
	al->stop = true;
	pthread_cond_signal(&al->cond);
	pthread_mutex_unlock(&al->lock);
	pthread_join(al->thread, NULL);
	al->running = false;
}

void avm_alarm_fini(struct avm_alarm *al)
{
	pthread_mutex_destroy(&al->lock);
	pthread_cond_destroy(&al->cond);
}
