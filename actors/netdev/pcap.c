/* SPDX-License-Identifier: MIT */
/*
 * The "pcap" pass-through: sits between a NIC (port "nic") and another
 * backend (port "net"), writes every frame in both directions to a pcap
 * file and forwards it unchanged. Carrier messages from the backend go on
 * to the NIC. The binding argument says where a frame comes from
 * (enum pcap_side).
 *
 * File format: the classic pcap with nanosecond timestamps (magic
 * 0xa1b23c4d, version 2.4, LINKTYPE_ETHERNET) in host byte order, which the
 * magic announces to readers. Writes go through stdio's buffer (writing to
 * a regular file is bounded work), flushed by a timer shortly after, so a
 * live reader sees frames without a system call per frame. A write error is
 * logged once and counted; forwarding goes on regardless.
 */
#include "netdev_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_SNAPLEN_DEFAULT   65535
#define PCAP_FLUSH_DEFAULT     100000000ull /* 100 ms */
#define NS_PER_S	       1000000000ull

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t sec, nsec, incl_len, orig_len;
};

struct pcap {
	struct netdev_stats st;
	struct pcap_config cfg;
	char path[PATH_MAX];
	FILE *f;
	bool open; /* the file was opened (f is not used for this: a replay
		    * has no file, and must take the same paths) */
	uint64_t offset_ns; /* added to avm_now() for wall-clock stamps */
	bool dirty;
	bool failed; /* a write failed: logged once */
};

static const char *const pcap_ports[] = { "nic", "net" };

static void pcap_fail(struct pcap *p, avm_ctx *ctx, int err)
{
	p->st.v[NETDEV_STAT_ERRORS]++;
	if (p->failed)
		return;
	p->failed = true;
	avm_log(ctx, AVM_LOG_ERROR,
		"pcap %s: write failed: %s (still forwarding)", p->cfg.path,
		strerror(err));
}

/*
 * The file and the wall clock go through avm_io() (a journal keeps them, a
 * replay gets them back without a file): each returns bytes or -errno.
 */
enum { PCAP_IO_OPEN, PCAP_IO_WRITE, PCAP_IO_FLUSH, PCAP_IO_CLOCK };

static ssize_t io_open(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct pcap *p = arg;

	p->f = fopen(p->cfg.path, "wbe");
	return p->f ? 0 : -errno;
}

static ssize_t io_write(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct pcap *p = arg;

	errno = 0;
	if (fwrite(buf, 1, len, p->f) != len)
		return errno ? -errno : -EIO;
	return (ssize_t)len;
}

static ssize_t io_flush(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct pcap *p = arg;

	return fflush(p->f) ? -errno : 0;
}

static ssize_t io_clock(void *arg, void *buf, size_t len, avm_ctx *ctx)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
	memcpy(buf, &ns, sizeof(ns));
	return sizeof(ns);
}

/* 0, or -errno; a short write is -EIO. */
static int pcap_put(struct pcap *p, avm_ctx *ctx, const void *data, size_t len)
{
	ssize_t n = avm_io(ctx, PCAP_IO_WRITE, AVM_IO_OUT, io_write, p,
			   (void *)data, len);

	return n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
}

static int pcap_write_header(struct pcap *p, avm_ctx *ctx)
{
	struct pcap_file_hdr h = {
		.magic = PCAP_MAGIC_NS,
		.major = 2,
		.minor = 4,
		.snaplen = p->cfg.snaplen,
		.linktype = PCAP_LINKTYPE_ETHERNET,
	};

	return pcap_put(p, ctx, &h, sizeof(h))
		       ?: (int)avm_io(ctx, PCAP_IO_FLUSH, AVM_IO_CTL, io_flush,
				      p, NULL, 0);
}

static uint64_t wall_minus_now(avm_ctx *ctx)
{
	uint64_t wall = 0;

	if (avm_io(ctx, PCAP_IO_CLOCK, AVM_IO_IN, io_clock, NULL, &wall,
		   sizeof(wall)) != sizeof(wall))
		wall = 0;
	return wall - avm_now(ctx);
}

static int pcap_init(void *state, const void *config, avm_ctx *ctx)
{
	struct pcap *p = state;
	int err;

	if (!config || !((const struct pcap_config *)config)->path) {
		avm_log(ctx, AVM_LOG_ERROR, "pcap: no path configured");
		return -EINVAL;
	}
	p->cfg = *(const struct pcap_config *)config;
	if (strlen(p->cfg.path) >= sizeof(p->path)) {
		avm_log(ctx, AVM_LOG_ERROR, "pcap: path too long");
		return -ENAMETOOLONG;
	}
	strcpy(p->path, p->cfg.path);
	p->cfg.path = p->path;
	if (!p->cfg.snaplen)
		p->cfg.snaplen = PCAP_SNAPLEN_DEFAULT;
	if (!p->cfg.flush_ns)
		p->cfg.flush_ns = PCAP_FLUSH_DEFAULT;
	if (p->cfg.wallclock)
		p->offset_ns = wall_minus_now(ctx);
	err = (int)avm_io(ctx, PCAP_IO_OPEN, AVM_IO_CTL, io_open, p, NULL, 0);
	if (err) {
		avm_log(ctx, AVM_LOG_ERROR, "pcap: cannot open %s: %s",
			p->cfg.path, strerror(-err));
		return err;
	}
	p->open = true;
	/* Like any later write error: logged once, forwarding goes on. */
	err = pcap_write_header(p, ctx);
	if (err)
		pcap_fail(p, ctx, -err);
	return 0;
}

static void pcap_fini(void *state)
{
	struct pcap *p = state;

	if (p->f)
		fclose(p->f);
	p->f = NULL;
}

static void pcap_record(struct pcap *p, avm_ctx *ctx, const void *data,
			size_t len)
{
	uint64_t t = avm_now(ctx) + p->offset_ns;
	struct pcap_rec_hdr r = {
		.sec = (uint32_t)(t / NS_PER_S),
		.nsec = (uint32_t)(t % NS_PER_S),
		.incl_len =
			len < p->cfg.snaplen ? (uint32_t)len : p->cfg.snaplen,
		.orig_len = (uint32_t)len,
	};

	int err;

	if (!p->open)
		return;
	err = pcap_put(p, ctx, &r, sizeof(r))
		      ?: pcap_put(p, ctx, data, r.incl_len);
	if (err) {
		pcap_fail(p, ctx, -err);
		return;
	}
	if (!p->dirty) {
		p->dirty = true;
		avm_timer_arm(ctx, PCAP_TIMER_FLUSH, p->cfg.flush_ns, 0);
	}
}

static void pcap_frame(struct pcap *p, const struct avm_msg *m, avm_ctx *ctx)
{
	bool from_nic = m->frame.input == PCAP_FROM_NIC;
	unsigned port = from_nic ? NETDEV_PORT_NET : NETDEV_PORT_NIC;
	unsigned base =
		from_nic ? NETDEV_STAT_OUT_FRAMES : NETDEV_STAT_IN_FRAMES;
	size_t len;
	const void *data = avm_msg_payload(m, &len);

	pcap_record(p, ctx, data, len);
	/* FRAMES, BYTES and DROPPED follow each other in both directions. */
	if (netdev_frame_send(ctx, port, data, len)) {
		p->st.v[base + 2]++;
		return;
	}
	p->st.v[base]++;
	p->st.v[base + 1] += len;
}

static void pcap_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct pcap *p = state;
	struct avm_msg fwd;
	int err;

	switch (m->kind) {
	case AVM_MSG_FRAME:
		pcap_frame(p, m, ctx);
		break;
	case NETDEV_MSG_LINK:
		fwd = (struct avm_msg){ .kind = m->kind,
					.user.value = m->user.value };
		p->st.v[NETDEV_STAT_LINK_CHANGES]++;
		avm_send(ctx, NETDEV_PORT_NIC, &fwd);
		break;
	case AVM_MSG_TIMER:
		p->dirty = false;
		err = p->open ? (int)avm_io(ctx, PCAP_IO_FLUSH, AVM_IO_CTL,
					    io_flush, p, NULL, 0)
			      : 0;
		if (err)
			pcap_fail(p, ctx, -err);
		break;
	default:
		netdev_stat_request(&p->st, m, ctx);
		break;
	}
}

const struct avm_device_ops pcap_ops = {
	.type = "pcap",
	.doc = "network pass-through writing every frame to a pcap file",
	.state_size = sizeof(struct pcap),
	.ports = pcap_ports,
	.n_ports = 2,
	.init = pcap_init,
	.handle = pcap_handle,
	.fini = pcap_fini,
	/* Its handler writes a file, which may wait for the disk. */
	.own_thread = true,
};
