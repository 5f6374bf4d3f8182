/* SPDX-License-Identifier: MIT */
/*
 * The hub: under the harness (deterministic), a frame arriving from port k
 * goes out of every other port in use and never back to k; bad port
 * numbers, empty frames and bad configurations. Threaded, three e1000s on
 * one hub: a frame one guest transmits reaches the other two RX rings.
 */
#include "netdev_test.h"

#include <actorvm/harness.h>

static const struct hub_config four = { .count = 4 };

static int setup(void **state)
{
	struct avm_harness_opts o = { .ops = &hub_ops,
				      .config = &four,
				      .seed = 7,
				      .log_level = AVM_LOG_ERROR };

	return avm_harness_new(&o, (avm_harness **)state);
}

static int teardown(void **state)
{
	avm_harness_free(*state);
	return 0;
}

static uint64_t hstat(avm_harness *h, unsigned which)
{
	struct avm_msg m = { .kind = NETDEV_MSG_STAT, .user.arg = which };

	return avm_harness_request(h, &m);
}

static void expect_copy(avm_harness *h, const char *port, const void *f,
			size_t len)
{
	AVM_EXPECT(h, .kind = AVM_DET_SEND,
		   .fields = AVM_HM_PORT | AVM_HM_MSG_KIND | AVM_HM_DATA,
		   .port = port, .msg_kind = AVM_MSG_FRAME, .data = f,
		   .len = len);
}

static void frame_goes_to_all_others(void **state)
{
	avm_harness *h = *state;
	static const char *const names[4] = { "p0", "p1", "p2", "p3" };
	uint8_t f[100];

	for (uint32_t k = 0; k < 4; k++) {
		make_frame(f, sizeof(f), (uint8_t)k, (uint8_t)(k * 16));
		avm_harness_send_data(h, AVM_MSG_FRAME, k, f, sizeof(f));
		for (uint32_t j = 0; j < 4; j++)
			if (j != k)
				expect_copy(h, names[j], f, sizeof(f));
		AVM_EXPECT_NONE(h); /* nothing back to k, nothing past p3 */
	}
	assert_int_equal(hstat(h, NETDEV_STAT_OUT_FRAMES), 4);
	assert_int_equal(hstat(h, NETDEV_STAT_IN_FRAMES), 12);
	assert_int_equal(hstat(h, NETDEV_STAT_IN_BYTES), 1200);
}

static void jumbo_frame_is_copied_whole(void **state)
{
	avm_harness *h = *state;
	static uint8_t f[AVM_MSG_MAX_PAYLOAD];

	make_frame(f, sizeof(f), 2, 5);
	avm_harness_send_data(h, AVM_MSG_FRAME, 2, f, sizeof(f));
	expect_copy(h, "p0", f, sizeof(f));
	expect_copy(h, "p1", f, sizeof(f));
	expect_copy(h, "p3", f, sizeof(f));
	AVM_EXPECT_NONE(h);
}

static void bad_port_and_empty_frame_are_dropped(void **state)
{
	avm_harness *h = *state;
	uint8_t f[64] = { 0 };

	avm_harness_send_data(h, AVM_MSG_FRAME, 4, f, sizeof(f));
	avm_harness_send_data(h, AVM_MSG_FRAME, 100, f, sizeof(f));
	avm_harness_send_data(h, AVM_MSG_FRAME, 1, f, 0);
	AVM_EXPECT_NONE(h);
	assert_int_equal(hstat(h, NETDEV_STAT_OUT_DROPPED), 3);
	assert_int_equal(hstat(h, NETDEV_STAT_OUT_FRAMES), 0);
}

static void other_messages_are_ignored(void **state)
{
	avm_harness *h = *state;
	struct avm_msg m = { .kind = NETDEV_MSG_STAT,
			     .user.arg = NETDEV_STAT_COUNT };
	uint64_t v;

	avm_harness_irq(h, 0, 1);
	AVM_EXPECT_NONE(h);
	assert_int_equal(avm_harness_try_request(h, &m, &v), -EINVAL);
}

static void unbound_ports_are_not_losses(void **state)
{
	struct avm_harness_opts o = { .ops = &hub_ops,
				      .config = &four,
				      .unbound = true,
				      .log_level = AVM_LOG_ERROR };
	avm_harness *h;
	uint8_t f[64] = { 0 };

	(void)state;
	assert_int_equal(avm_harness_new(&o, &h), 0);
	avm_harness_send_data(h, AVM_MSG_FRAME, 0, f, sizeof(f));
	assert_int_equal(hstat(h, NETDEV_STAT_OUT_FRAMES), 1);
	assert_int_equal(hstat(h, NETDEV_STAT_IN_FRAMES), 0);
	assert_int_equal(hstat(h, NETDEV_STAT_IN_DROPPED), 0);
	avm_harness_free(h);
}

static void bad_counts_fail_init(void **state)
{
	static const unsigned bad[] = { 1, HUB_MAX_PORTS + 1, 1000 };

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		struct hub_config c = { .count = bad[i] };
		struct avm_harness_opts o = { .ops = &hub_ops,
					      .config = &c,
					      .log_level = -1 };
		avm_harness *h = NULL;

		assert_int_equal(avm_harness_new(&o, &h), -EINVAL);
		avm_harness_free(h);
	}
}

/* --- Threaded: three e1000s on a hub ------------------------------------- */

#define HUB_NICS 3

static void hub_vms(struct vm *v, avm_actor_id *hub)
{
	struct avm_runtime_config rc = vm_rt_config();
	static const struct hub_config cfg = { .count = HUB_NICS };
	struct avm_actor_spec hs = { .ops = &hub_ops,
				     .name = "hub",
				     .config = &cfg };
	char name[8], port[4];

	assert_int_equal(avm_runtime_new(&rc, &v[0].rt), 0);
	assert_int_equal(avm_ram_add(v[0].rt, VM_RAM_GPA, VM_RAM_SIZE,
				     (void **)&v[0].ram),
			 0);
	assert_int_equal(avm_actor_create(v[0].rt, &hs, hub), 0);
	for (unsigned k = 0; k < HUB_NICS; k++) {
		struct avm_actor_spec s = { .ops = &e1000_ops,
					    .name = name,
					    .config = &v[k].nic_cfg };

		v[k].rt = v[0].rt;
		v[k].ram = v[0].ram;
		v[k].mmio = VM_NIC_MMIO + k * E1000_MMIO_SIZE;
		v[k].area = VM_RAM_GPA + k * VM_AREA_SIZE;
		v[k].nic_cfg.mac[5] = (uint8_t)k;
		v[k].nic_cfg.autoneg_ns = 1000000;
		snprintf(name, sizeof(name), "nic%u", k);
		snprintf(port, sizeof(port), "p%u", k);
		assert_int_equal(avm_actor_create(v[k].rt, &s, &v[k].nic), 0);
		assert_int_equal(avm_map(v[k].rt, v[k].nic, E1000_REGION_MMIO,
					 v[k].mmio),
				 0);
		assert_int_equal(avm_bind(v[k].rt, v[k].nic, "net", *hub, k),
				 0);
		assert_int_equal(avm_bind(v[k].rt, *hub, port, v[k].nic, 0), 0);
		v[k].be = *hub;
	}
}

static void three_nics_on_a_hub(void **state)
{
	struct vm v[HUB_NICS] = { 0 };
	avm_actor_id hub;
	uint8_t f[200], got[2048];

	(void)state;
	hub_vms(v, &hub);
	assert_int_equal(avm_runtime_start(v[0].rt), 0);
	assert_int_equal(avm_accessor_new(v[0].rt, "vcpu", &v[0].acc), 0);
	for (unsigned k = 0; k < HUB_NICS; k++) {
		v[k].acc = v[0].acc;
		nic_open(&v[k]);
	}
	for (unsigned k = 0; k < HUB_NICS; k++)
		assert_true(nic_wait_link(&v[k], true));
	for (unsigned k = 0; k < HUB_NICS; k++) {
		make_frame(f, sizeof(f), (uint8_t)k, (uint8_t)(k + 1));
		assert_true(nic_tx(&v[k], f, sizeof(f)));
		for (unsigned j = 0; j < HUB_NICS; j++) {
			if (j == k)
				continue;
			assert_int_equal(
				nic_rx(&v[j], got, sizeof(got), VM_DEADLINE_NS),
				sizeof(f));
			assert_memory_equal(got, f, sizeof(f));
		}
		/* The sender hears nothing of its own frame. */
		assert_int_equal(nic_rx(&v[k], got, sizeof(got), 20000000),
				 -ETIMEDOUT);
	}
	assert_int_equal(be_stat(&v[0], hub, NETDEV_STAT_OUT_FRAMES), HUB_NICS);
	assert_int_equal(be_stat(&v[0], hub, NETDEV_STAT_IN_FRAMES),
			 HUB_NICS * (HUB_NICS - 1));
	avm_accessor_free(v[0].acc);
	avm_runtime_free(v[0].rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(frame_goes_to_all_others, setup,
						teardown),
		cmocka_unit_test_setup_teardown(jumbo_frame_is_copied_whole,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			bad_port_and_empty_frame_are_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(other_messages_are_ignored,
						setup, teardown),
		cmocka_unit_test(unbound_ports_are_not_losses),
		cmocka_unit_test(bad_counts_fail_init),
		cmocka_unit_test(three_nics_on_a_hub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
