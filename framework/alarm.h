/* SPDX-License-Identifier: MIT */
/*
 * An alarm thread for a self-driven actor (a VCPU). Its timers live in its
 * libev loop, which runs only when run() calls avm_poll() or avm_wait(): a
 * guest spinning in a slice, or a KVM VCPU inside KVM_RUN, would see its
 * timer late by up to a whole slice, or never. The alarm sleeps until the
 * earliest timer is due and then calls @fire (the actor's kick), so run()
 * looks at its loop in time. Private to the threaded executor.
 */
#ifndef AVM_ALARM_H
#define AVM_ALARM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct avm_alarm {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC, as avm_mono_ns() */
	uint64_t due;	     /* ns; 0: nothing to wake for */
	bool stop, running;
	void (*fire)(void *arg);
	void *arg;
	char name[16]; /* its thread's name: "~" and its actor's */
};

/* Set up (no thread yet) for the actor called @name. Returns 0 or -errno. */
int avm_alarm_init(struct avm_alarm *al, const char *name, void (*fire)(void *),
		   void *arg);

/* Wake at @due_ns (0: never); starts the thread on first use. Called by
 * the actor's own thread only. Returns 0 or -errno (then the actor's
 * timers fire at its polls only, as without an alarm). */
int avm_alarm_set(struct avm_alarm *al, uint64_t due_ns);

/* Stop and join the thread (if any); @fire is not called after this. */
void avm_alarm_stop(struct avm_alarm *al);

/* Release what init set up; after avm_alarm_stop(). */
void avm_alarm_fini(struct avm_alarm *al);

#endif /* AVM_ALARM_H */
