/* SPDX-License-Identifier: MIT */
/* Envelope <-> actorvm.Envelope protobuf, at process boundaries only. */
#include <errno.h>
#include <string.h>

#include <actorvm/wire.h>

#include "internal.h"

#include "message.pb-c.h"

/* Everything one envelope may point to while being packed. */
struct wire_bodies {
	Actorvm__ReadRequest read;
	Actorvm__WriteRequest write;
	Actorvm__Reply reply;
	Actorvm__IrqLevel irq;
	Actorvm__DmaCompletion dma;
	Actorvm__Frame frame;
	Actorvm__CharData chars;
	Actorvm__TimerExpiry timer;
	Actorvm__FdReady fd;
	Actorvm__Continuation cont;
	Actorvm__Control control;
	Actorvm__DeviceMessage device;
};

static ProtobufCBinaryData payload_of(const struct avm_msg *m)
{
	size_t n;
	const void *p = avm_msg_payload(m, &n);

	return (ProtobufCBinaryData){ .len = n, .data = (uint8_t *)p };
}

static void set_access(Actorvm__Envelope *e, struct wire_bodies *b,
		       const struct avm_msg *m)
{
	if (m->kind == AVM_MSG_READ) {
		actorvm__read_request__init(&b->read);
		b->read.region = m->access.region;
		b->read.offset = m->access.offset;
		b->read.size = m->access.size;
		e->body_case = ACTORVM__ENVELOPE__BODY_READ;
		e->read = &b->read;
		return;
	}
	actorvm__write_request__init(&b->write);
	b->write.region = m->access.region;
	b->write.offset = m->access.offset;
	b->write.size = m->access.size;
	b->write.value = m->access.value;
	e->body_case = ACTORVM__ENVELOPE__BODY_WRITE;
	e->write = &b->write;
}

static void set_data(Actorvm__Envelope *e, struct wire_bodies *b,
		     const struct avm_msg *m)
{
	if (m->kind == AVM_MSG_FRAME) {
		actorvm__frame__init(&b->frame);
		b->frame.data = payload_of(m);
		e->body_case = ACTORVM__ENVELOPE__BODY_FRAME;
		e->frame = &b->frame;
	} else {
		actorvm__char_data__init(&b->chars);
		b->chars.data = payload_of(m);
		e->body_case = ACTORVM__ENVELOPE__BODY_CHARS;
		e->chars = &b->chars;
	}
}

static void set_device(Actorvm__Envelope *e, struct wire_bodies *b,
		       const struct avm_msg *m)
{
	actorvm__device_message__init(&b->device);
	b->device.kind = m->kind;
	b->device.arg = m->user.arg;
	b->device.size = m->user.size;
	b->device.status = m->user.status;
	b->device.addr = m->user.addr;
	b->device.value = m->user.value;
	b->device.data = payload_of(m);
	e->body_case = ACTORVM__ENVELOPE__BODY_DEVICE;
	e->device = &b->device;
}

static void set_small(Actorvm__Envelope *e, struct wire_bodies *b,
		      const struct avm_msg *m)
{
	switch (m->kind) {
	case AVM_MSG_REPLY:
		actorvm__reply__init(&b->reply);
		b->reply.value = m->reply.value;
		b->reply.status = m->reply.status;
		e->body_case = ACTORVM__ENVELOPE__BODY_REPLY;
		e->reply = &b->reply;
		break;
	case AVM_MSG_IRQ:
		actorvm__irq_level__init(&b->irq);
		b->irq.line = m->irq.line;
		b->irq.level = m->irq.level;
		e->body_case = ACTORVM__ENVELOPE__BODY_IRQ;
		e->irq = &b->irq;
		break;
	case AVM_MSG_DMA_DONE:
		actorvm__dma_completion__init(&b->dma);
		b->dma.value = m->dma.data;
		b->dma.size = m->dma.size;
		b->dma.status = m->dma.status;
		e->body_case = ACTORVM__ENVELOPE__BODY_DMA_DONE;
		e->dma_done = &b->dma;
		break;
	default:
		break;
	}
}

static void set_event(Actorvm__Envelope *e, struct wire_bodies *b,
		      const struct avm_msg *m)
{
	switch (m->kind) {
	case AVM_MSG_TIMER:
		actorvm__timer_expiry__init(&b->timer);
		b->timer.timer = m->timer.id;
		e->body_case = ACTORVM__ENVELOPE__BODY_TIMER;
		e->timer = &b->timer;
		break;
	case AVM_MSG_FD:
		actorvm__fd_ready__init(&b->fd);
		b->fd.watch = m->fd.watch;
		b->fd.events = m->fd.events;
		e->body_case = ACTORVM__ENVELOPE__BODY_FD;
		e->fd = &b->fd;
		break;
	case AVM_MSG_CONTINUE:
		actorvm__continuation__init(&b->cont);
		b->cont.token = m->cont.token;
		e->body_case = ACTORVM__ENVELOPE__BODY_CONT;
		e->cont = &b->cont;
		break;
	default: /* RESET, STOP */
		actorvm__control__init(&b->control);
		b->control.op = m->kind == AVM_MSG_RESET
					? ACTORVM__CONTROL__OP__OP_RESET
					: ACTORVM__CONTROL__OP__OP_STOP;
		e->body_case = ACTORVM__ENVELOPE__BODY_CONTROL;
		e->control = &b->control;
		break;
	}
}

static int set_body(Actorvm__Envelope *e, struct wire_bodies *b,
		    const struct avm_msg *m)
{
	switch (m->kind) {
	case AVM_MSG_READ:
	case AVM_MSG_WRITE:
		set_access(e, b, m);
		return 0;
	case AVM_MSG_FRAME:
	case AVM_MSG_CHAR:
		set_data(e, b, m);
		return 0;
	case AVM_MSG_REPLY:
	case AVM_MSG_IRQ:
	case AVM_MSG_DMA_DONE:
		set_small(e, b, m);
		return 0;
	case AVM_MSG_TIMER:
	case AVM_MSG_FD:
	case AVM_MSG_CONTINUE:
	case AVM_MSG_RESET:
	case AVM_MSG_STOP:
		set_event(e, b, m);
		return 0;
	default:
		if (m->kind < AVM_MSG_CONTROL_USER)
			return -EINVAL;
		set_device(e, b, m);
		return 0;
	}
}

int avm_wire_encode(const struct avm_msg *m, avm_actor_id dst, bool wants_reply,
		    void *buf, size_t cap, size_t *len)
{
	Actorvm__Envelope e = ACTORVM__ENVELOPE__INIT;
	struct wire_bodies b;
	int err = set_body(&e, &b, m);

	if (err)
		return err;
	e.src = m->src;
	e.dst = dst;
	e.corr = m->corr;
	e.cause = m->cause;
	e.wants_reply = wants_reply;
	*len = actorvm__envelope__get_packed_size(&e);
	if (*len > cap)
		return -ENOSPC;
	actorvm__envelope__pack(&e, buf);
	return 0;
}

static bool valid_size(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static int get_access(const Actorvm__Envelope *e, struct avm_msg *m)
{
	if (e->body_case == ACTORVM__ENVELOPE__BODY_READ) {
		if (!valid_size(e->read->size))
			return -EINVAL;
		m->kind = AVM_MSG_READ;
		m->access.region = e->read->region;
		m->access.offset = e->read->offset;
		m->access.size = (uint8_t)e->read->size;
		return 0;
	}
	if (!valid_size(e->write->size))
		return -EINVAL;
	m->kind = AVM_MSG_WRITE;
	m->access.region = e->write->region;
	m->access.offset = e->write->offset;
	m->access.size = (uint8_t)e->write->size;
	m->access.value = e->write->value;
	return 0;
}

static int get_device(const Actorvm__DeviceMessage *d, struct avm_msg *m)
{
	if (d->kind < AVM_MSG_CONTROL_USER || d->kind > 0xffff ||
	    d->size > 0xff)
		return -EINVAL;
	m->kind = (uint16_t)d->kind;
	m->user.arg = d->arg;
	m->user.size = (uint8_t)d->size;
	m->user.status = d->status;
	m->user.addr = d->addr;
	m->user.value = d->value;
	return avm_msg_set_payload(m, d->data.data, d->data.len);
}

static int get_small(const Actorvm__Envelope *e, struct avm_msg *m)
{
	switch (e->body_case) {
	case ACTORVM__ENVELOPE__BODY_REPLY:
		m->kind = AVM_MSG_REPLY;
		m->reply.value = e->reply->value;
		m->reply.status = e->reply->status;
		m->reply.token = e->corr;
		return 0;
	case ACTORVM__ENVELOPE__BODY_IRQ:
		m->kind = AVM_MSG_IRQ;
		m->irq.line = e->irq->line;
		m->irq.level = e->irq->level;
		return 0;
	case ACTORVM__ENVELOPE__BODY_DMA_DONE:
		if (e->dma_done->size > 8)
			return -EINVAL;
		m->kind = AVM_MSG_DMA_DONE;
		m->dma.data = e->dma_done->value;
		m->dma.size = (uint8_t)e->dma_done->size;
		m->dma.status = e->dma_done->status;
		m->dma.token = e->corr;
		return 0;
	default:
		return -EINVAL;
	}
}

static int get_event(const Actorvm__Envelope *e, struct avm_msg *m)
{
	switch (e->body_case) {
	case ACTORVM__ENVELOPE__BODY_TIMER:
		m->kind = AVM_MSG_TIMER;
		m->timer.id = e->timer->timer;
		return 0;
	case ACTORVM__ENVELOPE__BODY_FD:
		m->kind = AVM_MSG_FD;
		m->fd.watch = e->fd->watch;
		m->fd.events = e->fd->events;
		return 0;
	case ACTORVM__ENVELOPE__BODY_CONT:
		m->kind = AVM_MSG_CONTINUE;
		m->cont.token = e->cont->token;
		return 0;
	case ACTORVM__ENVELOPE__BODY_CONTROL:
		if (e->control->op == ACTORVM__CONTROL__OP__OP_RESET)
			m->kind = AVM_MSG_RESET;
		else if (e->control->op == ACTORVM__CONTROL__OP__OP_STOP)
			m->kind = AVM_MSG_STOP;
		else
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

static int get_body(const Actorvm__Envelope *e, struct avm_msg *m)
{
	switch (e->body_case) {
	case ACTORVM__ENVELOPE__BODY_READ:
	case ACTORVM__ENVELOPE__BODY_WRITE:
		return get_access(e, m);
	case ACTORVM__ENVELOPE__BODY_FRAME:
		m->kind = AVM_MSG_FRAME;
		return avm_msg_set_payload(m, e->frame->data.data,
					   e->frame->data.len);
	case ACTORVM__ENVELOPE__BODY_CHARS:
		m->kind = AVM_MSG_CHAR;
		return avm_msg_set_payload(m, e->chars->data.data,
					   e->chars->data.len);
	case ACTORVM__ENVELOPE__BODY_DEVICE:
		return get_device(e->device, m);
	case ACTORVM__ENVELOPE__BODY_TIMER:
	case ACTORVM__ENVELOPE__BODY_FD:
	case ACTORVM__ENVELOPE__BODY_CONT:
	case ACTORVM__ENVELOPE__BODY_CONTROL:
		return get_event(e, m);
	default:
		return get_small(e, m);
	}
}

int avm_wire_decode(const void *buf, size_t len, struct avm_msg *m,
		    avm_actor_id *dst, bool *wants_reply)
{
	Actorvm__Envelope *e;
	int err;

	memset(m, 0, sizeof(*m));
	e = actorvm__envelope__unpack(NULL, len, buf);
	if (!e)
		return -EINVAL;
	err = get_body(e, m);
	if (!err) {
		m->src = e->src;
		m->corr = e->corr;
		m->cause = e->cause;
		*dst = e->dst;
		*wants_reply = e->wants_reply;
	} else {
		avm_msg_release(m);
	}
	actorvm__envelope__free_unpacked(e, NULL);
	return err;
}
