/* SPDX-License-Identifier: MIT */
/*
 * The "tap" backend: a Linux tap interface (/dev/net/tun, IFF_TAP |
 * IFF_NO_PI), so each read or write is one Ethernet frame without FCS.
 * The descriptor is non-blocking and watched; frames are read in bounded
 * bursts like the wire's. A write the kernel refuses (queue full) drops the
 * frame, counted: the VM never waits for the host.
 *
 * Creating a tap needs CAP_NET_ADMIN, or a persistent tap made beforehand
 * with `ip tuntap add dev NAME mode tap user USER` (see docs/network.md).
 */
#include "netdev_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TAP_CONT_READ 1
/* Room for anything the kernel may hand us, to tell oversized frames. */
#define TAP_BUF_SIZE 65536

struct tap {
	struct netdev_stats st;
	unsigned burst;
	int fd;
	bool watched;
	bool err_logged;
	char ifname[IFNAMSIZ];
	uint8_t buf[TAP_BUF_SIZE];
};

static const char *const tap_ports[] = { "nic" };

static void tap_error(struct tap *t, avm_ctx *ctx, const char *what, int err)
{
	t->st.v[NETDEV_STAT_ERRORS]++;
	if (t->err_logged)
		return;
	t->err_logged = true;
	avm_log(ctx, AVM_LOG_WARN, "tap %s: %s: %s (further errors counted)",
		t->ifname, what, strerror(err));
}

static const char *tap_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return "no /dev/net/tun (tun module not loaded, or a container "
		       "without the device)";
	case EPERM:
	case EACCES:
		return "not permitted (needs CAP_NET_ADMIN, or a persistent "
		       "tap "
		       "owned by this user: ip tuntap add dev NAME mode tap "
		       "user USER)";
	case EBUSY:
		return "the interface is in use or is not a tap";
	default:
		return strerror(err);
	}
}

static int tap_open(struct tap *t, const char *name, avm_ctx *ctx)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int err;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		err = errno;
		avm_log(ctx, AVM_LOG_ERROR, "tap: cannot open /dev/net/tun: %s",
			tap_hint(err));
		return -err;
	}
	if (name)
		strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		err = errno;
		avm_log(ctx, AVM_LOG_ERROR, "tap: cannot attach to %s: %s",
			name && *name ? name : "a new tap", tap_hint(err));
		close(t->fd);
		t->fd = -1;
		return -err;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	t->ifname[IFNAMSIZ - 1] = 0;
	return 0;
}

/*
 * The kernel side goes through avm_io() (a journal keeps it, a replay gets
 * it back without a tap): opening, each read and each write.
 */
enum { TAP_IO_OPEN, TAP_IO_READ, TAP_IO_WRITE };

struct tap_open_arg {
	struct tap *t;
	const char *name;
};

static ssize_t io_open(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct tap_open_arg *o = arg;

	return tap_open(o->t, o->name, ctx);
}

static ssize_t io_read(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct tap *t = arg;
	ssize_t n = read(t->fd, buf, len);

	return n < 0 ? -errno : n;
}

static ssize_t io_write(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct tap *t = arg;
	ssize_t n = write(t->fd, buf, len);

	return n < 0 ? -errno : n;
}

static int tap_init(void *state, const void *config, avm_ctx *ctx)
{
	struct tap *t = state;
	const struct tap_config *cfg = config;
	int err;

	t->fd = -1;
	t->burst = cfg && cfg->burst ? cfg->burst : NETDEV_BURST;
	if (cfg && cfg->ifname && strlen(cfg->ifname) >= IFNAMSIZ) {
		avm_log(ctx, AVM_LOG_ERROR, "tap: name %s too long",
			cfg->ifname);
		return -ENAMETOOLONG;
	}
	err = (int)avm_io(ctx, TAP_IO_OPEN, AVM_IO_CTL, io_open,
			  &(struct tap_open_arg){ t, cfg ? cfg->ifname : NULL },
			  NULL, 0);
	if (err)
		return err;
	err = avm_fd_watch(ctx, TAP_WATCH, t->fd, AVM_FD_READ);
	if (err) {
		close(t->fd);
		t->fd = -1;
		return err;
	}
	t->watched = true;
	avm_log(ctx, AVM_LOG_INFO, "tap: attached to %s", t->ifname);
	return 0;
}

static void tap_fini(void *state)
{
	struct tap *t = state;

	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* One frame from the kernel to the NIC; false when nothing is left. */
static bool tap_read_one(struct tap *t, avm_ctx *ctx)
{
	ssize_t n = avm_io(ctx, TAP_IO_READ, AVM_IO_IN, io_read, t, t->buf,
			   sizeof(t->buf));

	if (n < 0) {
		int err = (int)-n;

		if (err != EAGAIN && err != EINTR)
			tap_error(t, ctx, "read", err);
		return err == EINTR;
	}
	/* Size checks and counting happen in netdev_frame_in(). */
	netdev_frame_in(ctx, NETDEV_PORT_NIC, &t->st, t->buf, (size_t)n);
	return true;
}

static void tap_read_burst(struct tap *t, avm_ctx *ctx)
{
	for (unsigned i = 0; i < t->burst; i++) {
		if (!tap_read_one(t, ctx)) {
			if (!t->watched &&
			    !avm_fd_watch(ctx, TAP_WATCH, t->fd, AVM_FD_READ))
				t->watched = true;
			return;
		}
	}
	/* More may be waiting: let guest accesses in, then go on. */
	if (t->watched) {
		avm_fd_unwatch(ctx, TAP_WATCH);
		t->watched = false;
	}
	avm_continue(ctx, TAP_CONT_READ);
}

static void tap_write(struct tap *t, const struct avm_msg *m, avm_ctx *ctx)
{
	size_t len;
	const void *p = avm_msg_payload(m, &len);
	ssize_t n = len ? avm_io(ctx, TAP_IO_WRITE, AVM_IO_OUT, io_write, t,
				 (void *)p, len)
			: -1;

	if (n != (ssize_t)len || !len) {
		t->st.v[NETDEV_STAT_OUT_DROPPED]++;
		if (len && n < 0 && n != -EAGAIN)
			tap_error(t, ctx, "write", (int)-n);
		return;
	}
	t->st.v[NETDEV_STAT_OUT_FRAMES]++;
	t->st.v[NETDEV_STAT_OUT_BYTES] += len;
}

static void tap_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct tap *t = state;

	switch (m->kind) {
	case AVM_MSG_FRAME:
		tap_write(t, m, ctx);
		break;
	case AVM_MSG_FD:
		if (m->fd.watch == TAP_WATCH && t->watched)
			tap_read_burst(t, ctx);
		break;
	case AVM_MSG_CONTINUE:
		if (m->cont.token == TAP_CONT_READ)
			tap_read_burst(t, ctx);
		break;
	default:
		netdev_stat_request(&t->st, m, ctx);
		break;
	}
}

const struct avm_device_ops tap_ops = {
	.type = "tap",
	.doc = "network backend: Linux tap interface (/dev/net/tun)",
	.state_size = sizeof(struct tap),
	.ports = tap_ports,
	.n_ports = 1,
	.init = tap_init,
	.handle = tap_handle,
	.fini = tap_fini,
};
