/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the network backend tests: a "VM" made of a threaded
 * runtime with guest RAM, an e1000 and a backend actor, and a driver that
 * programs the e1000's rings through guest accesses, as a guest would.
 *
 * Every wait polls with a deadline and fails instead of hanging. RX and TX
 * completion are observed through RDH/TDH reads (requests to the NIC), so
 * guest RAM is only looked at after the NIC has finished with it.
 */
#ifndef NETDEV_TEST_H
#define NETDEV_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <actorvm/runtime.h>

#include "e1000.h"
#include "netdev.h"

/* Each NIC uses a 64 KiB area of guest RAM: rings, then buffers. */
#define VM_RAM_GPA     0x100000ull
#define VM_RAM_SIZE    0x100000ull
#define VM_AREA_SIZE   0x10000ull
#define VM_TX_RING     0x0000ull /* offsets inside the area */
#define VM_RX_RING     0x1000ull
#define VM_TX_BUF      0x2000ull /* TX slot i at VM_TX_BUF + i * 0x800 */
#define VM_RX_BUF      0x8000ull /* RX buffer i at VM_RX_BUF + i * 0x800 */
#define VM_BUF_SLOT    0x800ull
#define VM_RING_N      8
#define VM_NIC_MMIO    0xfebc0000ull  /* NIC k at VM_NIC_MMIO + k * 128 KiB */
#define VM_DEADLINE_NS 60000000000ull /* fail, never hang: no speed bound */

/*
 * One NIC and its driver state; a plain VM also has its runtime, accessor
 * and backend. NICs sharing a runtime (the hub test) share @rt, @acc and
 * @ram and differ in @mmio and @area.
 */
struct vm {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id nic, be;
	uint8_t *ram;  /* host address of VM_RAM_GPA */
	uint64_t mmio; /* where the NIC's BAR0 is mapped */
	uint64_t area; /* guest-physical base of its rings and buffers */
	struct e1000_config nic_cfg;
	uint32_t tx_tail, rx_next;
};

static inline uint64_t test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void test_sleep_us(unsigned us)
{
	struct timespec ts = { .tv_nsec = (long)us * 1000 };

	nanosleep(&ts, NULL);
}

/* Quiet runtimes: errors only (tests provoke warnings on purpose). */
static inline struct avm_runtime_config vm_rt_config(void)
{
	/* A read past its deadline fails: make it a hang guard only. */
	return (struct avm_runtime_config){ .exec = AVM_EXEC_THREADED,
					    .log_level = AVM_LOG_ERROR,
					    .read_deadline_ns =
						    VM_DEADLINE_NS };
}

/*
 * Create (not start) a VM: RAM, an e1000 starting without carrier (the
 * backend brings it up), and a backend of @ops with @cfg wired to it.
 */
static inline void vm_create(struct vm *v, uint8_t mac_last,
			     const struct avm_device_ops *ops, const void *cfg)
{
	struct avm_runtime_config rc = vm_rt_config();
	struct avm_actor_spec nic = { .ops = &e1000_ops,
				      .name = "nic",
				      .config = &v->nic_cfg };
	struct avm_actor_spec be = { .ops = ops,
				     .name = "backend",
				     .config = cfg };
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0 };

	memcpy(v->nic_cfg.mac, mac, 6);
	v->nic_cfg.mac[5] = mac_last;
	v->nic_cfg.link_down = true;
	v->nic_cfg.autoneg_ns = 1000000;
	assert_int_equal(avm_runtime_new(&rc, &v->rt), 0);
	assert_int_equal(
		avm_ram_add(v->rt, VM_RAM_GPA, VM_RAM_SIZE, (void **)&v->ram),
		0);
	assert_int_equal(avm_actor_create(v->rt, &nic, &v->nic), 0);
	assert_int_equal(avm_actor_create(v->rt, &be, &v->be), 0);
	assert_int_equal(avm_bind(v->rt, v->nic, "net", v->be, 0), 0);
	assert_int_equal(avm_bind(v->rt, v->be, "nic", v->nic, 0), 0);
	v->mmio = VM_NIC_MMIO;
	v->area = VM_RAM_GPA;
	assert_int_equal(avm_map(v->rt, v->nic, E1000_REGION_MMIO, v->mmio), 0);
}

static inline void vm_start(struct vm *v)
{
	assert_int_equal(avm_runtime_start(v->rt), 0);
	assert_int_equal(avm_accessor_new(v->rt, "vcpu", &v->acc), 0);
}

static inline void vm_free(struct vm *v)
{
	if (v->acc)
		avm_accessor_free(v->acc);
	if (v->rt)
		avm_runtime_free(v->rt);
	memset(v, 0, sizeof(*v));
}

static inline void nic_wr(struct vm *v, uint32_t reg, uint32_t val)
{
	assert_int_equal(
		avm_write(v->acc, AVM_SPACE_MMIO, v->mmio + reg, 4, val), 0);
}

static inline uint32_t nic_rd(struct vm *v, uint32_t reg)
{
	uint64_t val = 0;

	assert_int_equal(
		avm_read(v->acc, AVM_SPACE_MMIO, v->mmio + reg, 4, &val), 0);
	return (uint32_t)val;
}

static inline void le_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Host address of offset @off of the NIC's area. */
static inline uint8_t *vm_ptr(struct vm *v, uint64_t off)
{
	return v->ram + (v->area - VM_RAM_GPA) + off;
}

/* Rings of VM_RING_N descriptors, promiscuous RX without CRC, TX on, SLU. */
static inline void nic_open(struct vm *v)
{
	for (uint32_t i = 0; i < VM_RING_N; i++) {
		uint8_t *d = vm_ptr(v, VM_RX_RING + 16 * i);

		memset(d, 0, 16);
		le_put(d, v->area + VM_RX_BUF + VM_BUF_SLOT * i, 8);
	}
	nic_wr(v, E1000_CTRL, E1000_CTRL_SLU | E1000_CTRL_FD);
	nic_wr(v, E1000_RDBAL, (uint32_t)(v->area + VM_RX_RING));
	nic_wr(v, E1000_RDBAH, 0);
	nic_wr(v, E1000_RDLEN, VM_RING_N * 16);
	nic_wr(v, E1000_RDH, 0);
	nic_wr(v, E1000_RDT, VM_RING_N - 1);
	/* BSIZE 00: 2048-byte buffers. */
	nic_wr(v, E1000_RCTL,
	       E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_BAM |
		       E1000_RCTL_SECRC);
	nic_wr(v, E1000_TDBAL, (uint32_t)(v->area + VM_TX_RING));
	nic_wr(v, E1000_TDBAH, 0);
	nic_wr(v, E1000_TDLEN, VM_RING_N * 16);
	nic_wr(v, E1000_TDH, 0);
	nic_wr(v, E1000_TDT, 0);
	nic_wr(v, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
	v->tx_tail = 0;
	v->rx_next = 0;
}

/* Wait until STATUS.LU is @up; false on timeout. */
static inline bool nic_wait_link(struct vm *v, bool up)
{
	uint64_t end = test_now_ns() + VM_DEADLINE_NS;

	while (test_now_ns() < end) {
		if (!!(nic_rd(v, E1000_STATUS) & E1000_STATUS_LU) == up)
			return true;
		test_sleep_us(500);
	}
	return false;
}

/* Transmit one frame (legacy descriptor, EOP|RS) and wait for TDH. */
static inline bool nic_tx(struct vm *v, const void *frame, size_t len)
{
	uint32_t i = v->tx_tail;
	uint64_t buf = VM_TX_BUF + VM_BUF_SLOT * i;
	uint8_t *d = vm_ptr(v, VM_TX_RING + 16 * i);
	uint64_t end = test_now_ns() + VM_DEADLINE_NS;

	assert_true(len <= VM_BUF_SLOT);
	memcpy(vm_ptr(v, buf), frame, len);
	memset(d, 0, 16);
	le_put(d, v->area + buf, 8);
	le_put(d + 8, len, 2);
	d[11] = E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | E1000_TXD_CMD_IFCS;
	v->tx_tail = (i + 1) % VM_RING_N;
	nic_wr(v, E1000_TDT, v->tx_tail);
	while (test_now_ns() < end) {
		if (nic_rd(v, E1000_TDH) == v->tx_tail)
			return true;
		test_sleep_us(200);
	}
	return false;
}

/*
 * Wait for the next received frame and copy it to @buf (at most @cap
 * bytes); returns its length, or -ETIMEDOUT. The descriptor goes back to
 * the NIC afterwards.
 */
static inline int nic_rx(struct vm *v, void *buf, size_t cap,
			 uint64_t timeout_ns)
{
	uint32_t i = v->rx_next;
	uint8_t *d = vm_ptr(v, VM_RX_RING + 16 * i);
	uint64_t end = test_now_ns() + timeout_ns;
	size_t len;

	while (nic_rd(v, E1000_RDH) == i) {
		if (test_now_ns() >= end)
			return -ETIMEDOUT;
		test_sleep_us(200);
	}
	/* RDH moved past i: the NIC has written the descriptor back. */
	assert_true(d[12] & E1000_RXD_STAT_DD);
	assert_true(d[12] & E1000_RXD_STAT_EOP);
	len = (size_t)(d[8] | d[9] << 8);
	assert_true(len <= cap);
	memcpy(buf, vm_ptr(v, VM_RX_BUF + VM_BUF_SLOT * i), len);
	/* Give the buffer back (status cleared): the NIC owns [RDH, RDT). */
	memset(d + 8, 0, 8);
	v->rx_next = (i + 1) % VM_RING_N;
	nic_wr(v, E1000_RDT, i);
	return (int)len;
}

/* A counter of backend @id (enum netdev_stat) in a threaded runtime. */
static inline uint64_t be_stat(struct vm *v, avm_actor_id id, unsigned which)
{
	struct avm_msg m = { .kind = NETDEV_MSG_STAT, .user.arg = which };
	uint64_t val = 0;

	assert_int_equal(avm_request(v->acc, id, &m, &val), 0);
	return val;
}

/* A test frame: broadcast, source @src_last, IPv4 type, pattern @seed. */
static inline void make_frame(uint8_t *f, size_t len, uint8_t src_last,
			      uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seed);
	memset(f, 0xff, 6);
	memcpy(f + 6, (const uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34 }, 5);
	f[11] = src_last;
	f[12] = 0x08;
	f[13] = 0x00;
}

#endif /* NETDEV_TEST_H */
