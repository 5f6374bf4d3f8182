/* SPDX-License-Identifier: MIT */
/*
 * Waits with a bound about correctness: a stop must end even when a
 * receiver is stuck (a sender's parked messages for a receiver whose
 * handler never returns are dropped after a bound, counted and logged), and
 * a requester must not wait for ever for a reply whose replier claimed the
 * slot and never wrote it.
 *
 * No timing in the verdicts: what is waited for never happens (the stuck
 * receiver is released only by the drop's log line; the claimed reply never
 * comes), so only the bound can end each wait.
 */
#include "fixture.h"
#include "reply.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>

#define BURST 64

static sem_t gate; /* the stuck receiver waits here */
static sem_t sent; /* the sender has sent its burst */
static atomic_int drop_logged;

static void stuck_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	bool *blocked = state;

	(void)m;
	(void)ctx;
	/* Deliberately breaks the "handlers never block" rule, once. */
	if (!*blocked) {
		*blocked = true;
		while (sem_wait(&gate))
			;
	}
}

static const struct avm_device_ops stuck_ops = {
	.type = "stuck",
	.state_size = sizeof(bool),
	.handle = stuck_handle,
};

static const char *const sender_ports[] = { "out" };
static const struct avm_region_desc sender_regions[] = {
	{ .name = "go", .space = AVM_SPACE_MMIO, .size = 8 },
};

static void sender_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	(void)state;
	if (m->kind != AVM_MSG_WRITE)
		return;
	for (int i = 0; i < BURST; i++) {
		struct avm_msg out = { .kind = AVM_MSG_USER, .user.value = i };

		avm_send(ctx, 0, &out);
	}
	sem_post(&sent);
}

static const struct avm_device_ops sender_ops = {
	.type = "sender",
	.state_size = 8,
	.regions = sender_regions,
	.n_regions = 1,
	.ports = sender_ports,
	.n_ports = 1,
	.handle = sender_handle,
};

static void log_sink(void *arg, int level, const char *actor, const char *line)
{
	(void)arg;
	if (level == AVM_LOG_ERROR && actor && !strcmp(actor, "sender") &&
	    strstr(line, "could not be delivered")) {
		atomic_store(&drop_logged, 1);
		sem_post(&gate);
	}
}

static void stop_drops_what_a_stuck_receiver_never_takes(void **unused)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED,
					  .read_deadline_ns = 10000000,
					  .log = log_sink };
	/* Created first, stopped last: the sender drains while it is stuck.
	 * Both off the fast path: the burst must park in the sender's outbox
	 * (an idle receiver run in place would block the test's own thread). */
	struct avm_actor_spec rx = { .ops = &stuck_ops,
				     .name = "stuck",
				     .mailbox_depth = 4,
				     .fast_path = -1 };
	struct avm_actor_spec tx = { .ops = &sender_ops,
				     .name = "sender",
				     .fast_path = -1 };
	struct avm_actor_stats st;
	avm_actor_id rx_id, tx_id;
	avm_accessor *acc;
	avm_runtime *rt;

	(void)unused;
	sem_init(&gate, 0, 0);
	sem_init(&sent, 0, 0);
	assert_int_equal(avm_runtime_new(&cfg, &rt), 0);
	assert_int_equal(avm_actor_create(rt, &rx, &rx_id), 0);
	assert_int_equal(avm_actor_create(rt, &tx, &tx_id), 0);
	assert_int_equal(avm_map(rt, tx_id, 0, FIX_MMIO(0)), 0);
	assert_int_equal(avm_bind(rt, tx_id, "out", rx_id, 0), 0);
	assert_int_equal(avm_runtime_start(rt), 0);
	assert_int_equal(avm_accessor_new(rt, "test", &acc), 0);
	assert_int_equal(avm_write(acc, AVM_SPACE_MMIO, FIX_MMIO(0), 8, 1), 0);
	while (sem_wait(&sent))
		;
	avm_accessor_free(acc);
	avm_runtime_stop(rt); /* returns only through the bound */
	assert_int_equal(atomic_load(&drop_logged), 1);
	assert_int_equal(avm_actor_stats(rt, tx_id, &st), 0);
	assert_true(st.outbox_max > 0);
	assert_true(st.dropped > 0 && st.dropped <= BURST);
	avm_runtime_free(rt);
	sem_destroy(&gate);
	sem_destroy(&sent);
}

static void claimed_reply_that_never_comes(void **unused)
{
	struct avm_reply_slot slot = { 0 };
	uint64_t v = 0;

	(void)unused;
	avm__slot_claim_wait_ns =
		1000000; /* what the bound is does not matter */
	avm_slot_arm(&slot, 5);
	/* A replier claims request 5 (as avm_slot_complete() does first) and
	 * is never heard of again. */
	atomic_store(&slot.want, AVM_SLOT_CLAIMED);
	assert_int_equal(avm_slot_wait(&slot, 5, 0, avm_mono_ns(), &v), -EIO);
	assert_true(atomic_load(&slot.broken));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stop_drops_what_a_stuck_receiver_never_takes),
		cmocka_unit_test(claimed_reply_that_never_comes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
