/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/actor.h>

int avm_msg_set_payload(struct avm_msg *msg, const void *data, size_t len)
{
	void *ext;

	if (len > AVM_MSG_MAX_PAYLOAD)
		return -EINVAL;
	avm_msg_release(msg);
	if (len <= AVM_MSG_INLINE) {
		if (len)
			memcpy(msg->data, data, len);
		msg->len = (uint32_t)len;
		return 0;
	}
	ext = malloc(len);
	if (!ext)
		return -ENOMEM;
	memcpy(ext, data, len);
	msg->ext = ext;
	msg->len = (uint32_t)len;
	return 0;
}

const void *avm_msg_payload(const struct avm_msg *msg, size_t *len)
{
	if (len)
		*len = msg->len;
	return msg->ext ? msg->ext : msg->data;
}

void avm_msg_release(struct avm_msg *msg)
{
	free(msg->ext);
	msg->ext = NULL;
	msg->len = 0;
}
