/* SPDX-License-Identifier: MIT */
/*
 * Guarded nng listeners (see include/actorvm/listen.h for what and why).
 *
 * Threading: one watchdog thread per process, started with the first
 * listener (again in a forked child, which does not inherit it). The
 * registry lock covers the list and every field of its entries, so a
 * listener is never re-made while its owner frees it. The thread runs at
 * normal priority whatever its creator's: it sleeps nearly always, and must
 * never compete with real-time threads.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/listen.h>
#include <actorvm/pair.h>

#define IPC_PREFIX "ipc://"
/* How long the probe of a live socket waits for its handshake bytes. */
#define PROBE_MS 2000
/* At most this many connections of a lost listener are cut at its
 * restart (one per client that reached it while it was lost). */
#define MAX_STRANDED 64
/* A listener with no traffic is probed every this many checks (1 s). */
#define PROBE_EVERY 10
/* The SP header of nng's transports: "\0SP\0", a protocol id, two zeros.
 * Protocol 0 is nobody's peer: the probe's pipe is rejected after the
 * handshake, an event every listener survives. */
static const uint8_t sp_header[8] = { 0, 'S', 'P', 0, 0, 0, 0, 0 };

struct avm_listener {
	nng_socket sock;
	char *url;
	bool ipc;
	bool live; /* nl is a started listener */
	nng_listener nl;
	uint64_t accepted; /* the statistics at the last check */
	uint64_t pipes;
	uint64_t errors;
	unsigned quiet; /* checks since the last probe */
	bool rebase;	/* probed: take the statistics afresh */
	struct avm_listener *next;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER;
static struct avm_listener *reg_head;
static pid_t reg_pid; /* the process whose watchdog runs */

/*
 * LeakSanitizer (ASan builds only; elsewhere nothing calls this): nng 1.5.2
 * never frees the listener its bug broke, the one the watchdog replaces,
 * nor what that listener holds: a few hundred bytes per broken listener,
 * allocated inside libnng, that no call of ours can release. Every program
 * using avm_listen() can meet it, so the suppression lives here.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libnng.so\n";
}

/*
 * Send the SP header and wait for the peer's, so its side of the handshake
 * completes before our close (a close before it is what breaks nng 1.5.2).
 * With @eof, wait on until the listener closes the probe: protocol 0 is
 * nobody's peer, so a listener that still completes pipes rejects it at
 * once. True if all that came within PROBE_MS.
 */
static bool probe_handshake(int fd, bool eof)
{
	uint8_t buf[64];
	size_t got = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (send(fd, sp_header, sizeof(sp_header), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(sp_header))
		return false;
	while (poll(&p, 1, PROBE_MS) == 1) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0) /* the listener's close: after its header? */
			return n == 0 && eof && got >= sizeof(sp_header);
		got += (size_t)n;
		/* nng sends its header and nothing more before the close: a
		 * peer that goes on is not nng, and cannot keep us here. */
		if (got > sizeof(sp_header))
			return false;
		if (!eof && got == sizeof(sp_header))
			return true;
	}
	return false;
}

/* Connect a non-blocking stream socket to @path: its fd, or -errno. */
static int connect_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* A socket at @path: 0 if it was stale (and is removed now), -EADDRINUSE
 * if something serves it. */
static int probe_socket(const char *path)
{
	int fd = connect_path(path);

	if (fd >= 0) {
		probe_handshake(fd, false);
		close(fd);
		return -EADDRINUSE;
	}
	if (fd == -ECONNREFUSED)
		return unlink(path) && errno != ENOENT ? -errno : 0;
	/* EAGAIN: a full backlog is a live listener too. */
	return fd == -EAGAIN ? -EADDRINUSE : fd;
}

static int check_ipc_path(const char *url, char *err, size_t len)
{
	const char *path = url + strlen(IPC_PREFIX);
	struct stat st;
	int ret;

	if (lstat(path, &st))
		return 0; /* nothing there, or nng will say what is wrong */
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, len,
			 "cannot listen on %s: %s exists and is not a socket "
			 "(refusing to replace it)",
			 url, path);
		return -EEXIST;
	}
	ret = probe_socket(path);
	if (ret == -EADDRINUSE)
		snprintf(err, len,
			 "cannot listen on %s: another process serves it "
			 "(Address in use)",
			 url);
	else if (ret)
		snprintf(err, len, "cannot listen on %s: %s", url,
			 strerror(-ret));
	return ret;
}

/* Create and start @l->nl; an nng error code. */
static int start_nl(struct avm_listener *l)
{
	int rv = nng_listener_create(&l->nl, l->sock, l->url);

	if (rv)
		return rv;
	if (l->ipc)
		rv = nng_listener_set_int(l->nl, NNG_OPT_IPC_PERMISSIONS,
					  AVM_LISTEN_IPC_MODE);
	if (!rv)
		rv = nng_listener_start(l->nl, 0);
	if (rv) {
		/* Never started: nng removes no file here. */
		nng_listener_close(l->nl);
		return rv;
	}
	l->live = true;
	l->accepted = l->pipes = l->errors = 0;
	l->quiet = 0;
	l->rebase = false;
	return 0;
}

static uint64_t stat_of(nng_stat *s, const char *name)
{
	nng_stat *c = nng_stat_find(s, name);

	return c ? nng_stat_value(c) : 0;
}

/* The connections a lost listener accepted, to be cut at its restart. */
struct stranded {
	int fd[MAX_STRANDED];
	ino_t ino[MAX_STRANDED];
	size_t n;
};

/* Whether @fd is a connected (not listening) socket whose local address
 * is @path: a connection some listener on @path accepted. */
static bool accepted_on(int fd, const char *path)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int listening = 1;
	socklen_t ol = sizeof(listening);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) ||
	    sa.sun_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    strncmp(sa.sun_path, path, sizeof(sa.sun_path)))
		return false;
	return !getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) &&
	       !listening;
}

/* Note every connection accepted on @path that this process holds. */
static void stranded_find(const char *path, struct stranded *st)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	struct stat sb;

	st->n = 0;
	while (d && (e = readdir(d)) && st->n < MAX_STRANDED) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' ||
		    fd == dirfd(d) || fstat(fd, &sb) || !S_ISSOCK(sb.st_mode) ||
		    !accepted_on(fd, path))
			continue;
		st->fd[st->n] = fd;
		st->ino[st->n++] = sb.st_ino;
	}
	if (d)
		closedir(d);
}

/*
 * Cut the connections of @st that are still open. nng 1.5.2 leaves the
 * pipes a lost listener accepted unread and open after its close, and the
 * clients on them wait for good; a shutdown (never a close: the
 * descriptors are nng's) ends them so that they re-dial. The inode proves
 * the descriptor is still the same socket, not a number reused since.
 */
static void stranded_cut(const struct stranded *st)
{
	struct stat sb;

	for (size_t i = 0; i < st->n; i++)
		if (!fstat(st->fd[i], &sb) && sb.st_ino == st->ino[i])
			shutdown(st->fd[i], SHUT_RDWR);
}

/* Close @l's listener and listen again (under reg_lock). */
static void restart(struct avm_listener *l)
{
	struct stranded st;
	int rv;

	stranded_find(l->url + strlen(IPC_PREFIX), &st);
	nng_listener_close(l->nl); /* for ipc, removes our socket file */
	stranded_cut(&st);
	l->live = false;
	rv = start_nl(l);
	if (rv)
		fprintf(stderr,
			"actorvm: %s: cannot listen again after nng lost the "
			"listener: %s\n",
			l->url, nng_strerror(rv));
}

/* Whether anything happened on @l's listener since the last check. */
static bool moved(struct avm_listener *l, nng_stat *root)
{
	static const char *const errs[] = { "disconnect", "canceled", "other",
					    "timeout",	  "proto",    "auth",
					    "oom",	  "reject" };
	nng_stat *s = nng_stat_find_listener(root, l->nl);
	uint64_t acc, pipes, e = 0;
	bool any;

	if (!s)
		return false;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		e += stat_of(s, errs[i]);
	acc = stat_of(s, "accept");
	pipes = stat_of(s, "pipes");
	any = acc != l->accepted || pipes != l->pipes || e != l->errors;
	l->accepted = acc;
	l->pipes = pipes;
	l->errors = e;
	return any;
}

/*
 * Whether @l's listener still completes pipes: connect, handshake with
 * protocol 0, and see the listener reject the pipe (it closes the probe).
 * A lost listener still answers the handshake but never rejects or adds a
 * pipe again. A file nobody serves, or none, is lost too: listening again
 * restores it. Any other error proves nothing and re-makes nothing.
 */
static bool alive(const struct avm_listener *l)
{
	int fd = connect_path(l->url + strlen(IPC_PREFIX));
	bool ok;

	if (fd == -ENOENT || fd == -ECONNREFUSED)
		return false;
	if (fd < 0)
		return true;
	ok = probe_handshake(fd, true);
	close(fd);
	return ok;
}

/*
 * One check of @l (under reg_lock). Only a failed probe re-makes the
 * listener: the counters cannot tell a loss from a normal close (seen: a
 * loss that moved nothing else), and acting on them alone re-made healthy
 * listeners in storms under load, each cutting clients mid-handshake,
 * which nng 1.5.2's dialers can take for their own close and stop
 * redialling. So traffic only brings the next probe forward.
 */
static void check_one(struct avm_listener *l, nng_stat *root)
{
	bool any = moved(l, root);

	/* Our own probe's traffic is no reason for another. */
	if (l->rebase || (!any && ++l->quiet < PROBE_EVERY)) {
		l->rebase = false;
		return;
	}
	l->quiet = 0;
	if (!alive(l))
		restart(l);
	else
		l->rebase = true;
}

static void check_all(void)
{
	nng_stat *root;

	if (nng_stats_get(&root))
		return;
	/* Only ipc: nng's tcp transport survives the same client (its one
	 * handshake write to a closed peer succeeds), and re-making a tcp
	 * listener on port 0 would move it. */
	for (struct avm_listener *l = reg_head; l; l = l->next)
		if (l->live && l->ipc)
			check_one(l, root);
	nng_stats_free(root);
}

static void *watchdog(void *arg)
{
	(void)arg;
	/* Not the name of the thread that happened to start it. */
	pthread_setname_np(pthread_self(), "avm:listen");
	pthread_mutex_lock(&reg_lock);
	for (;;) {
		struct timespec t;

		while (!reg_head)
			pthread_cond_wait(&reg_cond, &reg_lock);
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += AVM_LISTEN_CHECK_MS * 1000000L;
		t.tv_sec += t.tv_nsec / 1000000000L;
		t.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&reg_cond, &reg_lock, &t);
		check_all();
	}
	return NULL;
}

/* Start the watchdog if this process has none (under reg_lock). */
static int watchdog_start(void)
{
	struct sched_param sp = { .sched_priority = 0 };
	cpu_set_t cpus;
	pthread_attr_t attr;
	pthread_t th;
	int ret;

	if (reg_pid == getpid())
		return 0;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
	pthread_attr_setschedparam(&attr, &sp);
	/* The main thread's CPUs, not those of a pinned real-time creator. */
	if (!sched_getaffinity(getpid(), sizeof(cpus), &cpus))
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	ret = -pthread_create(&th, &attr, watchdog, NULL);
	pthread_attr_destroy(&attr);
	if (!ret)
		reg_pid = getpid();
	return ret;
}

static int register_listener(struct avm_listener *l, char *err, size_t len)
{
	int ret, rv;

	pthread_mutex_lock(&reg_lock);
	ret = watchdog_start();
	if (ret) {
		snprintf(err, len, "cannot listen on %s: no watchdog: %s",
			 l->url, strerror(-ret));
		goto unlock;
	}
	rv = start_nl(l);
	if (rv) {
		snprintf(err, len, "cannot listen on %s: %s", l->url,
			 nng_strerror(rv));
		ret = avm_nng_errno(rv);
		goto unlock;
	}
	l->next = reg_head;
	reg_head = l;
	pthread_cond_signal(&reg_cond);
unlock:
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

int avm_listen(nng_socket sock, const char *url, struct avm_listener **out,
	       char *err, size_t len)
{
	struct avm_listener *l = calloc(1, sizeof(*l));
	int ret = -ENOMEM;

	if (!l || !(l->url = strdup(url))) {
		snprintf(err, len, "cannot listen on %s: out of memory", url);
		goto free_listener;
	}
	l->sock = sock;
	l->ipc = !strncmp(url, IPC_PREFIX, strlen(IPC_PREFIX));
	ret = l->ipc ? check_ipc_path(url, err, len) : 0;
	if (!ret)
		ret = register_listener(l, err, len);
	if (!ret) {
		*out = l;
		return 0;
	}
free_listener:
	if (l)
		free(l->url);
	free(l);
	return ret;
}

void avm_listener_free(struct avm_listener *l)
{
	struct avm_listener **p;

	if (!l)
		return;
	pthread_mutex_lock(&reg_lock);
	for (p = &reg_head; *p && *p != l; p = &(*p)->next)
		;
	if (*p)
		*p = l->next;
	pthread_mutex_unlock(&reg_lock);
	free(l->url);
	free(l);
}
