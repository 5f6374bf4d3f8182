/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* An external payload's pointer shares the inline bytes: a message holds
 * one or the other, and the envelope stays within its 128-byte slot. */
static bool is_external(const struct avm_msg *msg)
{
	return msg->fw.len > AVM_MSG_INLINE;
}

int avm_msg_set_payload(struct avm_msg *msg, const void *data, size_t len)
{
	void *ext;

	if (len > AVM_MSG_MAX_PAYLOAD)
		return -EINVAL;
	avm_msg_release(msg);
	if (len <= AVM_MSG_INLINE) {
		if (len)
			memcpy(msg->fw.payload.data, data, len);
		msg->fw.len = (uint32_t)len;
		return 0;
	}
	ext = malloc(len);
	if (!ext)
		return -ENOMEM;
	memcpy(ext, data, len);
	msg->fw.payload.ext = ext;
	msg->fw.len = (uint32_t)len;
	return 0;
}

const void *avm_msg_payload(const struct avm_msg *msg, size_t *len)
{
	if (len)
		*len = msg->fw.len;
	return is_external(msg) ? msg->fw.payload.ext : msg->fw.payload.data;
}

void avm_msg_release(struct avm_msg *msg)
{
	if (is_external(msg))
		free(msg->fw.payload.ext);
	msg->fw.len = 0;
}

void avm__msg_flatten(const struct avm_msg *m, struct avm_msg_user *f)
{
	*f = (struct avm_msg_user){ .arg = m->user.arg };
	switch (m->kind) {
	case AVM_MSG_READ:
	case AVM_MSG_WRITE:
		f->size = m->access.size;
		f->addr = m->access.offset;
		f->value = m->access.value;
		break;
	case AVM_MSG_IRQ:
		f->value = m->irq.level;
		break;
	case AVM_MSG_FD:
		f->value = m->fd.events;
		break;
	case AVM_MSG_CONTINUE:
		f->arg = 0;
		f->value = m->cont.token;
		break;
	case AVM_MSG_DMA_DONE:
		f->arg = 0;
		f->size = m->dma.size;
		f->status = m->dma.status;
		f->value = m->dma.data;
		break;
	case AVM_MSG_REPLY:
		f->arg = 0;
		f->status = m->reply.status;
		f->value = m->reply.value;
		break;
	case AVM_MSG_FRAME:
	case AVM_MSG_CHAR:
		f->value = m->frame.tag;
		break;
	case AVM_MSG_TIMER:
	case AVM_MSG_RESET:
	case AVM_MSG_STOP:
	case AVM_MSG_NONE:
		break;
	default: /* device kinds: the body is the flat view */
		*f = m->user;
		break;
	}
}

void avm__msg_unflatten(struct avm_msg *m, uint16_t kind,
			const struct avm_msg_user *f)
{
	m->kind = kind;
	switch (kind) {
	case AVM_MSG_READ:
	case AVM_MSG_WRITE:
		m->access = (struct avm_msg_access){ .region = f->arg,
						     .size = f->size,
						     .offset = f->addr,
						     .value = f->value };
		break;
	case AVM_MSG_IRQ:
		m->irq = (struct avm_msg_irq){ .line = f->arg,
					       .level = f->value != 0 };
		break;
	case AVM_MSG_FD:
		m->fd = (struct avm_msg_fd){ .watch = f->arg,
					     .events = (uint32_t)f->value };
		break;
	case AVM_MSG_CONTINUE:
		m->cont = (struct avm_msg_continue){ .token = f->value };
		break;
	case AVM_MSG_DMA_DONE:
		m->dma = (struct avm_msg_dma){ .status = f->status,
					       .token = m->corr,
					       .data = f->value,
					       .size = f->size };
		break;
	case AVM_MSG_REPLY:
		m->reply = (struct avm_msg_reply){ .status = f->status,
						   .token = m->corr,
						   .value = f->value };
		break;
	case AVM_MSG_FRAME:
	case AVM_MSG_CHAR:
		m->frame = (struct avm_msg_stream){ .input = f->arg,
						    .tag = f->value };
		break;
	case AVM_MSG_TIMER:
		m->timer = (struct avm_msg_timer){ .id = f->arg };
		break;
	case AVM_MSG_RESET:
	case AVM_MSG_NONE:
		break;
	default: /* device kinds: the body is the flat view */
		m->user = *f;
		break;
	}
}
