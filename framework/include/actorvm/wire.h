/* SPDX-License-Identifier: MIT */
/**
 * DOC: wire format
 *
 * Where a message leaves the process (nng sockets: remote actors, network
 * wires, the control socket), it travels as an actorvm.Envelope protobuf
 * (proto/message.proto). These functions convert between that and the
 * in-process &struct avm_msg; the hot path never calls them.
 *
 * What crosses: kind and its fields, src, corr, cause, the payload, and
 * whether a reply is wanted. What does not: the framework's part of the
 * envelope (&struct avm_msg_fw: reply slots, lanes) and a stream's tag. A
 * remote reply is an %AVM_MSG_REPLY message carrying the request's corr;
 * the corr of a REPLY or DMA_DONE envelope is its body's token (decoding
 * sets @reply.token or @dma.token from it). The stop kind the framework
 * uses internally travels as a control message too.
 *
 * Both functions are pure: any thread, no lock, no blocking; every pointer
 * is the caller's and used during the call only.
 */
#ifndef ACTORVM_WIRE_H
#define ACTORVM_WIRE_H

#include <actorvm/actor.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * avm_wire_encode() - encode @m, addressed to @dst, into @buf.
 * @wants_reply: mark the envelope as a request expecting a reply.
 * @len: gets the encoded size. Returns 0, -ENOSPC if @cap is too small
 * (*@len then holds the size needed), -EINVAL for a kind the wire cannot
 * carry (above %AVM_MSG_REPLY and below %AVM_MSG_CONTROL_USER).
 */
int avm_wire_encode(const struct avm_msg *m, avm_actor_id dst, bool wants_reply,
		    void *buf, size_t cap, size_t *len);

/**
 * avm_wire_decode() - decode an envelope into @m (its payload copied, owned
 * by @m: release with avm_msg_release()). *@dst and *@wants_reply receive
 * the addressing. -EINVAL for anything malformed: bad protobuf, no body, a
 * read or write size other than 1, 2, 4 or 8, a payload over
 * %AVM_MSG_MAX_PAYLOAD, a device kind outside 0x80..0xffff.
 */
int avm_wire_decode(const void *buf, size_t len, struct avm_msg *m,
		    avm_actor_id *dst, bool *wants_reply);

#ifdef __cplusplus
}
#endif
#endif /* ACTORVM_WIRE_H */
