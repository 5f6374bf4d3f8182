/* SPDX-License-Identifier: MIT */
/*
 * The "hub" backend: an in-process Ethernet hub for tests and small set-ups.
 * Port k ("pk") leads to NIC k, and NIC k's "net" port is bound to the hub
 * with argument k, so a frame arriving with arg k came from port k: it goes
 * out of every other port, never back to k. No learning, no filtering.
 */
#include "netdev_priv.h"

#include <errno.h>

struct hub {
	struct netdev_stats st;
	unsigned count;
};

static const char *const hub_ports[HUB_MAX_PORTS] = { "p0", "p1", "p2", "p3",
						      "p4", "p5", "p6", "p7" };

static int hub_init(void *state, const void *config, avm_ctx *ctx)
{
	struct hub *h = state;
	const struct hub_config *cfg = config;

	h->count = cfg && cfg->count ? cfg->count : HUB_MAX_PORTS;
	if (h->count < 2 || h->count > HUB_MAX_PORTS) {
		avm_log(ctx, AVM_LOG_ERROR, "hub: count %u not in 2..%u",
			h->count, HUB_MAX_PORTS);
		return -EINVAL;
	}
	return 0;
}

static void hub_frame(struct hub *h, const struct avm_msg *m, avm_ctx *ctx)
{
	size_t len;
	const void *p = avm_msg_payload(m, &len);

	if (m->frame.input >= h->count || !len) {
		h->st.v[NETDEV_STAT_OUT_DROPPED]++;
		return;
	}
	h->st.v[NETDEV_STAT_OUT_FRAMES]++;
	h->st.v[NETDEV_STAT_OUT_BYTES] += len;
	for (unsigned k = 0; k < h->count; k++) {
		int err;

		if (k == m->frame.input)
			continue;
		err = netdev_frame_send(ctx, k, p, len);
		/* An unbound port is an empty socket on the hub: no loss. */
		if (!err) {
			h->st.v[NETDEV_STAT_IN_FRAMES]++;
			h->st.v[NETDEV_STAT_IN_BYTES] += len;
		} else if (err != -ENOTCONN) {
			h->st.v[NETDEV_STAT_IN_DROPPED]++;
		}
	}
}

static void hub_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct hub *h = state;

	if (m->kind == AVM_MSG_FRAME)
		hub_frame(h, m, ctx);
	else
		netdev_stat_request(&h->st, m, ctx);
}

const struct avm_device_ops hub_ops = {
	.type = "hub",
	.doc = "network backend: in-process hub, ports p0..p7",
	.state_size = sizeof(struct hub),
	.ports = hub_ports,
	.n_ports = HUB_MAX_PORTS,
	.init = hub_init,
	.handle = hub_handle,
};
