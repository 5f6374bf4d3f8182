/* SPDX-License-Identifier: MIT */
/* Envelope <-> protobuf, both ways, for every kind; malformed input. */
#include "fixture.h"

#include <string.h>

#include <actorvm/wire.h>

#include "internal.h"
#include "message.pb-c.h"

static void roundtrip(const struct avm_msg *in, bool wants)
{
	uint8_t buf[AVM_MSG_MAX_PAYLOAD + 256];
	struct avm_msg out;
	avm_actor_id dst = 0;
	bool w = !wants;
	size_t len, pl_in, pl_out;
	const void *a, *b;
	struct avm_msg_user fi, fo; /* the bodies, kind-blind */

	assert_int_equal(avm_wire_encode(in, 7, wants, buf, sizeof(buf), &len),
			 0);
	assert_int_equal(avm_wire_decode(buf, len, &out, &dst, &w), 0);
	assert_int_equal(dst, 7);
	assert_int_equal(w, wants);
	assert_int_equal(out.kind, in->kind);
	assert_int_equal(out.src, in->src);
	assert_int_equal(out.corr, in->corr);
	assert_int_equal(out.cause, in->cause);
	avm__msg_flatten(in, &fi);
	avm__msg_flatten(&out, &fo);
	assert_int_equal(fo.arg, fi.arg);
	assert_int_equal(fo.addr, fi.addr);
	assert_int_equal(fo.value, fi.value);
	assert_int_equal(fo.size, fi.size);
	assert_int_equal(fo.status, fi.status);
	/* An answer's token is the envelope's corr on the wire. */
	if (in->kind == AVM_MSG_REPLY)
		assert_int_equal(out.reply.token, in->reply.token);
	if (in->kind == AVM_MSG_DMA_DONE)
		assert_int_equal(out.dma.token, in->dma.token);
	a = avm_msg_payload(in, &pl_in);
	b = avm_msg_payload(&out, &pl_out);
	assert_int_equal(pl_out, pl_in);
	assert_memory_equal(a, b, pl_in);
	avm_msg_release(&out);
}

static struct avm_msg base(uint16_t kind)
{
	return (struct avm_msg){ .kind = kind,
				 .src = 3,
				 .corr = 0x8000000000001234ull,
				 .cause = 0x0002000000000077ull };
}

static void every_kind_both_ways(void **unused)
{
	struct avm_msg m;
	uint8_t big[3000];

	(void)unused;
	m = base(AVM_MSG_READ);
	m.access = (struct avm_msg_access){ .region = 1,
					    .offset = 0x1f8,
					    .size = 4 };
	roundtrip(&m, true);
	m = base(AVM_MSG_WRITE);
	m.access = (struct avm_msg_access){
		.region = 0, .offset = 0x10, .size = 8, .value = UINT64_MAX
	};
	roundtrip(&m, false);
	m = base(AVM_MSG_REPLY);
	m.reply = (struct avm_msg_reply){ .value = 0xdeadbeef,
					  .status = -ETIMEDOUT,
					  .token = m.corr };
	roundtrip(&m, false);
	m = base(AVM_MSG_IRQ);
	m.irq = (struct avm_msg_irq){ .line = 11, .level = 1 };
	roundtrip(&m, false);
	m = base(AVM_MSG_DMA_DONE);
	m.dma = (struct avm_msg_dma){
		.data = 0x55, .size = 2, .status = -EFAULT, .token = m.corr
	};
	roundtrip(&m, false);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	m = base(AVM_MSG_FRAME);
	assert_int_equal(avm_msg_set_payload(&m, big, sizeof(big)), 0);
	roundtrip(&m, false);
	avm_msg_release(&m);
	m = base(AVM_MSG_CHAR);
	assert_int_equal(avm_msg_set_payload(&m, "hi\n", 3), 0);
	roundtrip(&m, false);
	m = base(AVM_MSG_TIMER);
	m.timer.id = 5;
	roundtrip(&m, false);
	m = base(AVM_MSG_FD);
	m.fd = (struct avm_msg_fd){ .watch = 2,
				    .events = AVM_FD_READ | AVM_FD_WRITE };
	roundtrip(&m, false);
	m = base(AVM_MSG_CONTINUE);
	m.cont.token = 99;
	roundtrip(&m, false);
	m = base(AVM_MSG_RESET);
	roundtrip(&m, false);
	m = base(AVM_MSG_STOP);
	roundtrip(&m, false);
	m = base(AVM_MSG_USER + 5);
	m.user = (struct avm_msg_user){
		.arg = 1, .size = 3, .status = -1, .addr = 9, .value = 10
	};
	assert_int_equal(avm_msg_set_payload(&m, "abc", 3), 0);
	roundtrip(&m, true);
}

static void encode_refuses(void **unused)
{
	struct avm_msg m = base(AVM_MSG_READ);
	uint8_t buf[4];
	size_t len = 0;

	(void)unused;
	m.access.size = 4;
	assert_int_equal(avm_wire_encode(&m, 1, true, buf, sizeof(buf), &len),
			 -ENOSPC);
	assert_true(len > sizeof(buf));
	m.kind = AVM_MSG_REPLY + 1; /* not a wire kind */
	assert_int_equal(avm_wire_encode(&m, 1, true, buf, sizeof(buf), &len),
			 -EINVAL);
}

/* Pack a hand-made envelope (possibly malformed) into @buf. */
static size_t pack(Actorvm__Envelope *e, uint8_t *buf)
{
	return actorvm__envelope__pack(e, buf);
}

static void decode_rejects_malformed(void **unused)
{
	uint8_t buf[AVM_MSG_MAX_PAYLOAD * 2];
	static uint8_t huge[AVM_MSG_MAX_PAYLOAD + 1];
	Actorvm__Envelope e = ACTORVM__ENVELOPE__INIT;
	Actorvm__ReadRequest rd = ACTORVM__READ_REQUEST__INIT;
	Actorvm__Frame fr = ACTORVM__FRAME__INIT;
	Actorvm__DeviceMessage dev = ACTORVM__DEVICE_MESSAGE__INIT;
	Actorvm__Control ctl = ACTORVM__CONTROL__INIT;
	struct avm_msg m;
	avm_actor_id dst;
	bool w;
	size_t n;

	(void)unused;
	memset(buf, 0xff, 64);
	assert_int_equal(avm_wire_decode(buf, 64, &m, &dst, &w), -EINVAL);
	n = pack(&e, buf); /* no body */
	assert_int_equal(avm_wire_decode(buf, n, &m, &dst, &w), -EINVAL);
	rd.size = 3;
	e.body_case = ACTORVM__ENVELOPE__BODY_READ;
	e.read = &rd;
	n = pack(&e, buf);
	assert_int_equal(avm_wire_decode(buf, n, &m, &dst, &w), -EINVAL);
	fr.data.data = huge;
	fr.data.len = sizeof(huge);
	e.body_case = ACTORVM__ENVELOPE__BODY_FRAME;
	e.frame = &fr;
	n = pack(&e, buf);
	assert_int_equal(avm_wire_decode(buf, n, &m, &dst, &w), -EINVAL);
	dev.kind = AVM_MSG_IRQ; /* a framework kind smuggled as a device one */
	e.body_case = ACTORVM__ENVELOPE__BODY_DEVICE;
	e.device = &dev;
	n = pack(&e, buf);
	assert_int_equal(avm_wire_decode(buf, n, &m, &dst, &w), -EINVAL);
	e.body_case = ACTORVM__ENVELOPE__BODY_CONTROL;
	e.control = &ctl; /* OP_NONE */
	n = pack(&e, buf);
	assert_int_equal(avm_wire_decode(buf, n, &m, &dst, &w), -EINVAL);
	/* Truncating a valid envelope anywhere never decodes wrongly. */
	rd.size = 8;
	e.body_case = ACTORVM__ENVELOPE__BODY_READ;
	e.read = &rd;
	e.corr = 0x123456789abcull;
	n = pack(&e, buf);
	for (size_t cut = 1; cut < n; cut++) {
		int err = avm_wire_decode(buf, cut, &m, &dst, &w);

		if (!err)
			avm_msg_release(&m);
		assert_true(err == 0 || err == -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_both_ways),
		cmocka_unit_test(encode_refuses),
		cmocka_unit_test(decode_rejects_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
