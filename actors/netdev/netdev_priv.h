/* SPDX-License-Identifier: MIT */
/* Helpers shared by the network backends (internal). */
#ifndef ACTORVM_NETDEV_PRIV_H
#define ACTORVM_NETDEV_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "netdev.h"

/* The counters every backend keeps, indexed by enum netdev_stat. */
struct netdev_stats {
	uint64_t v[NETDEV_STAT_COUNT];
};

/* Answer a NETDEV_MSG_STAT request; true if @m was one. */
bool netdev_stat_request(const struct netdev_stats *st, const struct avm_msg *m,
			 avm_ctx *ctx);

/*
 * Send @len bytes as a frame through @port, counting it as "in" (towards
 * the NIC). Empty or oversized frames and unbound ports are dropped and
 * counted. Returns 0 or -errno.
 */
int netdev_frame_in(avm_ctx *ctx, unsigned port, struct netdev_stats *st,
		    const void *data, size_t len);

/* Send a copy of @len bytes as a frame through @port (no counting). */
int netdev_frame_send(avm_ctx *ctx, unsigned port, const void *data,
		      size_t len);

/* Tell the NIC behind @port that carrier is now @up. */
int netdev_link(avm_ctx *ctx, unsigned port, struct netdev_stats *st, bool up);

#endif /* ACTORVM_NETDEV_PRIV_H */
