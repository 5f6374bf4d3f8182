/* SPDX-License-Identifier: MIT */
/* Helpers shared by the network backends: counters, frames, carrier. */
#include "netdev_priv.h"

#include <errno.h>

bool netdev_stat_request(const struct netdev_stats *st, const struct avm_msg *m,
			 avm_ctx *ctx)
{
	if (m->kind != NETDEV_MSG_STAT)
		return false;
	if (m->user.arg >= NETDEV_STAT_COUNT)
		avm_reply_error(ctx, -EINVAL);
	else
		avm_reply(ctx, st->v[m->user.arg]);
	return true;
}

int netdev_frame_send(avm_ctx *ctx, unsigned port, const void *data, size_t len)
{
	struct avm_msg m = { .kind = AVM_MSG_FRAME };
	int err;

	if (len == 0 || len > AVM_MSG_MAX_PAYLOAD)
		return -EMSGSIZE;
	err = avm_msg_set_payload(&m, data, len);
	if (err)
		return err;
	return avm_send(ctx, port, &m);
}

int netdev_frame_in(avm_ctx *ctx, unsigned port, struct netdev_stats *st,
		    const void *data, size_t len)
{
	int err = netdev_frame_send(ctx, port, data, len);

	if (err) {
		st->v[NETDEV_STAT_IN_DROPPED]++;
		return err;
	}
	st->v[NETDEV_STAT_IN_FRAMES]++;
	st->v[NETDEV_STAT_IN_BYTES] += len;
	return 0;
}

int netdev_link(avm_ctx *ctx, unsigned port, struct netdev_stats *st, bool up)
{
	struct avm_msg m = { .kind = NETDEV_MSG_LINK, .user.value = up };

	st->v[NETDEV_STAT_LINK_CHANGES]++;
	return avm_send(ctx, port, &m);
}
