/* SPDX-License-Identifier: MIT */
/*
 * nng PAIR endpoints of actors and nng's errors as errnos (see
 * include/actorvm/pair.h for what and why).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/nng.h>

#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/pair1/pair.h>

#include <actorvm/listen.h>
#include <actorvm/pair.h>

/* Shared with nng's pipe callbacks: only atomics and an eventfd. */
struct avm_pair_link {
	atomic_uint pipe; /* id of the connected pipe, 0 if none */
	int efd;
};

static int nng_errno_common(int rv)
{
	switch (rv) {
	case NNG_ENOMEM:
		return -ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
		return -EINVAL;
	case NNG_EADDRINUSE:
		return -EADDRINUSE;
	case NNG_ENOTSUP:
		return -ENOTSUP;
	case NNG_EPERM:
		return -EACCES; /* nng's text too: "Permission denied" */
	case NNG_ENOENT:
		return -ENOENT;
	case NNG_ECONNREFUSED:
		return -ECONNREFUSED;
	default:
		return 0;
	}
}

int avm_nng_errno(int rv)
{
	int err;

	if (rv & NNG_ESYSERR)
		return -(rv & ~NNG_ESYSERR);
	err = nng_errno_common(rv);
	return err ? err : -EIO;
}

static void link_kick(struct avm_pair_link *l)
{
	uint64_t one = 1;

	/* Fails only if the counter would overflow: it is readable then. */
	(void)!write(l->efd, &one, sizeof(one));
}

/* Runs on an nng thread: the atomic and the eventfd only. */
static void link_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct avm_pair_link *l = arg;
	unsigned id = (unsigned)nng_pipe_id(p);
	unsigned none = 0;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_compare_exchange_strong(&l->pipe, &none, id);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_compare_exchange_strong(&l->pipe, &id, 0);
	link_kick(l);
}

static int link_new(struct avm_pair *p)
{
	p->link = calloc(1, sizeof(*p->link));
	if (!p->link)
		return -ENOMEM;
	atomic_init(&p->link->pipe, 0);
	p->link->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return p->link->efd < 0 ? -errno : 0;
}

/* A buffer option a protocol lacks is fine: it then has no buffer. */
static int set_buf(nng_socket s, const char *opt, int msgs)
{
	int rv = nng_socket_set_int(s, opt, msgs ? msgs : AVM_PAIR_DEFAULT_BUF);

	return rv == NNG_ENOTSUP ? 0 : rv;
}

static int socket_opts(struct avm_pair *p, const struct avm_pair_config *cfg)
{
	int rv = set_buf(p->sock, NNG_OPT_SENDBUF, cfg->sendbuf);

	if (!rv)
		rv = set_buf(p->sock, NNG_OPT_RECVBUF, cfg->recvbuf);
	if (!rv && cfg->recv_max)
		rv = nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ,
					 cfg->recv_max);
	/* Redial fast: a peer restarting is back within milliseconds. */
	if (!rv)
		rv = nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 10);
	if (!rv)
		rv = nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 500);
	return rv;
}

/* An nng error number, 0 on success. */
static int socket_open(struct avm_pair *p, const struct avm_pair_config *cfg)
{
	int rv = cfg->pair0 ? nng_pair0_open(&p->sock)
			    : nng_pair1_open(&p->sock);

	if (rv)
		return rv;
	p->open = true;
	rv = socket_opts(p, cfg);
	if (!rv)
		rv = nng_pipe_notify(p->sock, NNG_PIPE_EV_ADD_POST,
				     link_pipe_cb, p->link);
	if (!rv)
		rv = nng_pipe_notify(p->sock, NNG_PIPE_EV_REM_POST,
				     link_pipe_cb, p->link);
	if (!rv)
		rv = nng_socket_get_int(p->sock, NNG_OPT_RECVFD, &p->recv_fd);
	if (!rv && cfg->send_fd)
		rv = nng_socket_get_int(p->sock, NNG_OPT_SENDFD, &p->send_fd);
	return rv;
}

static int connect_peer(struct avm_pair *p, const struct avm_pair_config *cfg,
			char *err, size_t len)
{
	int rv;

	if (cfg->listen) /* path checks, 0600, nng 1.5.2's lost listener */
		return avm_listen(p->sock, cfg->url, &p->listener, err, len);
	rv = nng_dial(p->sock, cfg->url, NULL, NNG_FLAG_NONBLOCK);
	if (rv)
		snprintf(err, len, "cannot dial %s: %s", cfg->url,
			 nng_strerror(rv));
	return rv ? avm_nng_errno(rv) : 0;
}

int avm_pair_open(struct avm_pair *p, const struct avm_pair_config *cfg,
		  char *err, size_t len)
{
	int ret, rv;

	p->recv_fd = p->send_fd = -1;
	ret = link_new(p);
	if (ret) {
		snprintf(err, len, "cannot open %s: %s", cfg->url,
			 strerror(-ret));
		goto close_pair;
	}
	rv = socket_open(p, cfg);
	if (rv) {
		snprintf(err, len, "cannot open %s: %s", cfg->url,
			 nng_strerror(rv));
		ret = avm_nng_errno(rv);
		goto close_pair;
	}
	ret = connect_peer(p, cfg, err, len);
	if (ret)
		goto close_pair;
	return 0;
close_pair:
	avm_pair_close(p);
	return ret;
}

void avm_pair_close(struct avm_pair *p)
{
	avm_listener_free(p->listener);
	p->listener = NULL;
	/* Waits for nng's pipes, so no callback runs after this. */
	if (p->open)
		nng_close(p->sock);
	p->open = false;
	p->recv_fd = p->send_fd = -1;
	if (p->link) {
		if (p->link->efd >= 0)
			close(p->link->efd);
		free(p->link);
		p->link = NULL;
	}
}

int avm_pair_link_fd(const struct avm_pair *p)
{
	return p->link ? p->link->efd : -1;
}

bool avm_pair_peer(const struct avm_pair *p)
{
	return p->link && atomic_load(&p->link->pipe) != 0;
}

bool avm_pair_link_event(struct avm_pair *p)
{
	uint64_t n;

	(void)!read(p->link->efd, &n, sizeof(n));
	return avm_pair_peer(p);
}

void avm_pair_link_kick(struct avm_pair *p)
{
	link_kick(p->link);
}
