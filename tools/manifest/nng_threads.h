/* SPDX-License-Identifier: MIT */
/*
 * nng's I/O threads at the priority of the manifest's real-time actors.
 */
#ifndef MF_NNG_THREADS_H
#define MF_NNG_THREADS_H

#include <stddef.h>

/**
 * mf_nng_threads_start() - make nng create its process-wide threads (the
 * epoll poller, the task queue, timers) now, from a scratch thread at
 * SCHED_FIFO @rt_priority, so that they inherit that priority.
 * @rt_priority: 1..99; 0 does nothing (nng starts them lazily, at the
 *   priority of whichever thread first opens a socket).
 * @why: on failure, why (the run may go on at normal priority).
 *
 * nng shares those threads among every socket of the process: a frame for
 * a real-time NIC is read from its socket by the same poller that serves
 * a best-effort NIC's flood. Below the real-time actors they would be a
 * priority inversion: the RT NIC's frame waits in a thread the scheduler
 * runs after the VM's busy normal-priority threads.
 *
 * Call it before anything in the process opens an nng socket; once nng
 * has its threads, the call changes nothing. Not thread-safe.
 *
 * Return: 0, or -errno (-EPERM: SCHED_FIFO refused; nng not started).
 */
int mf_nng_threads_start(int rt_priority, char *why, size_t len);

#endif
