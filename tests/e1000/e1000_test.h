/* SPDX-License-Identifier: MIT */
/* Shared helpers of the e1000 harness tests: fixture, registers, rings. */
#ifndef E1000_TEST_H
#define E1000_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/harness.h>
#include <actorvm/runtime.h>
#include <unistd.h>

#include "e1000.h"

#define RAM_GPA	  0x100000ull
#define RAM_SIZE  0x200000ull
#define TX_RING	  0x100000ull /* 256 descriptors */
#define RX_RING	  0x101000ull
#define TX_BUF	  0x110000ull /* 128 KiB of TX buffers */
#define RX_BUF	  0x140000ull /* RX buffer i at RX_BUF + i * RX_STRIDE */
#define RX_STRIDE 0x4000ull
#define MS	  1000000ull
#define US	  1000ull

static const struct e1000_config test_cfg = {
	.mac = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc },
};

static inline avm_harness *e1000_harness(const struct e1000_config *cfg)
{
	struct avm_harness_opts opts = {
		.ops = &e1000_ops,
		.config = cfg ? cfg : &test_cfg,
		.seed = getenv("E1000_TEST_SEED")
				? strtoull(getenv("E1000_TEST_SEED"), NULL, 0)
				: 1,
		.ram_gpa = RAM_GPA,
		.ram_size = RAM_SIZE,
		/* The same tests with the NIC in a device process (suite
		 * isolation runs them so): docs/isolation.md. */
		.isolated = getenv("E1000_TEST_ISOLATED") != NULL,
	};
	avm_harness *h = NULL;

	assert_int_equal(avm_harness_new(&opts, &h), 0);
	if (opts.isolated) { /* and it really is elsewhere */
		struct avm_process_info pi;

		assert_int_equal(avm_actor_process(avm_harness_runtime(h),
						   avm_harness_actor(h), &pi),
				 0);
		assert_int_equal(pi.state, AVM_PROC_RUNNING);
		assert_int_not_equal(pi.pid, getpid());
	}
	return h;
}

static inline int setup(void **state)
{
	*state = e1000_harness(NULL);
	return 0;
}

static inline int teardown(void **state)
{
	avm_harness_free(*state);
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static inline void wr(avm_harness *h, uint32_t reg, uint32_t v)
{
	avm_harness_write(h, E1000_REGION_MMIO, reg, 4, v);
}

static inline uint32_t rd(avm_harness *h, uint32_t reg)
{
	return (uint32_t)avm_harness_read(h, E1000_REGION_MMIO, reg, 4);
}

static inline void io_wr(avm_harness *h, uint32_t reg, uint32_t v)
{
	avm_harness_write(h, E1000_REGION_IO, E1000_IOADDR, 4, reg);
	avm_harness_write(h, E1000_REGION_IO, E1000_IODATA, 4, v);
}

static inline uint32_t io_rd(avm_harness *h, uint32_t reg)
{
	avm_harness_write(h, E1000_REGION_IO, E1000_IOADDR, 4, reg);
	return (uint32_t)avm_harness_read(h, E1000_REGION_IO, E1000_IODATA, 4);
}

/* MDIC read as Linux does it: issue, then poll READY and check ERROR. */
static inline uint32_t mdic_cycle(avm_harness *h, uint32_t cmd)
{
	uint32_t v;

	wr(h, E1000_MDIC, cmd);
	v = rd(h, E1000_MDIC);
	assert_true(v & E1000_MDIC_READY);
	return v;
}

static inline uint16_t phy_rd(avm_harness *h, uint32_t reg)
{
	uint32_t v = mdic_cycle(h, E1000_MDIC(E1000_MDIC_OP_READ, reg));

	assert_false(v & E1000_MDIC_ERROR);
	return (uint16_t)v;
}

static inline void phy_wr(avm_harness *h, uint32_t reg, uint16_t v)
{
	mdic_cycle(h, E1000_MDIC(E1000_MDIC_OP_WRITE, reg) | v);
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* --- TX ------------------------------------------------------------------ */

static inline void tx_setup(avm_harness *h, uint32_t n)
{
	wr(h, E1000_TDBAL, (uint32_t)TX_RING);
	wr(h, E1000_TDBAH, 0);
	wr(h, E1000_TDLEN, n * 16);
	wr(h, E1000_TDH, 0);
	wr(h, E1000_TDT, 0);
	wr(h, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
}

static inline void tx_desc_raw(avm_harness *h, uint32_t idx, uint64_t addr,
			       uint32_t lower, uint32_t upper)
{
	uint8_t d[16];

	put_le64(d, addr);
	put_le32(d + 8, lower);
	put_le32(d + 12, upper);
	avm_harness_poke(h, TX_RING + 16ull * idx, d, sizeof(d));
}

/* Legacy descriptor: length, CMD byte, special (VLAN). */
static inline void tx_legacy(avm_harness *h, uint32_t idx, uint64_t addr,
			     uint16_t len, uint8_t cmd, uint16_t special)
{
	tx_desc_raw(h, idx, addr, len | (uint32_t)cmd << 24,
		    (uint32_t)special << 16);
}

/* Context descriptor (extended, DTYP 0). */
struct ctx_desc {
	uint8_t ipcss, ipcso;
	uint16_t ipcse;
	uint8_t tucss, tucso;
	uint16_t tucse;
	uint32_t paylen;
	uint8_t tucmd; /* TCP, IP, TSE(0x04), RS(0x08)... */
	uint8_t hdr_len;
	uint16_t mss;
};

static inline void tx_context(avm_harness *h, uint32_t idx,
			      const struct ctx_desc *c)
{
	uint8_t d[16] = { 0 };

	d[0] = c->ipcss;
	d[1] = c->ipcso;
	put_le16(d + 2, c->ipcse);
	d[4] = c->tucss;
	d[5] = c->tucso;
	put_le16(d + 6, c->tucse);
	put_le32(d + 8, (c->paylen & 0xfffff) |
				(uint32_t)(c->tucmd | E1000_TXD_CMD_DEXT)
					<< 24);
	d[13] = c->hdr_len;
	put_le16(d + 14, c->mss);
	avm_harness_poke(h, TX_RING + 16ull * idx, d, sizeof(d));
}

/* Data descriptor (extended, DTYP 1): DCMD and POPTS. */
static inline void tx_data(avm_harness *h, uint32_t idx, uint64_t addr,
			   uint32_t len, uint8_t dcmd, uint8_t popts)
{
	tx_desc_raw(h, idx, addr,
		    (len & 0xfffff) | 0x00100000u |
			    (uint32_t)(dcmd | E1000_TXD_CMD_DEXT) << 24,
		    (uint32_t)popts << 8);
}

static inline uint8_t tx_status(avm_harness *h, uint32_t idx)
{
	uint8_t sta;

	avm_harness_peek(h, TX_RING + 16ull * idx + 12, &sta, 1);
	return sta;
}

static inline const struct avm_harness_event *expect_frame(avm_harness *h)
{
	return AVM_EXPECT_SEND(h, "net", AVM_MSG_FRAME);
}

/* --- RX ------------------------------------------------------------------ */

/* A ring of @n descriptors with buffers, the device owning [0, tail). */
static inline void rx_setup(avm_harness *h, uint32_t n, uint32_t tail,
			    uint32_t rctl)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t d[16] = { 0 };

		put_le64(d, RX_BUF + RX_STRIDE * i);
		avm_harness_poke(h, RX_RING + 16ull * i, d, sizeof(d));
	}
	wr(h, E1000_RDBAL, (uint32_t)RX_RING);
	wr(h, E1000_RDBAH, 0);
	wr(h, E1000_RDLEN, n * 16);
	wr(h, E1000_RDH, 0);
	wr(h, E1000_RDT, tail);
	wr(h, E1000_RCTL, rctl | E1000_RCTL_EN);
}

struct rx_desc {
	uint16_t len;
	uint8_t status, errors;
	uint16_t special;
};

static inline struct rx_desc rx_desc_get(avm_harness *h, uint32_t idx)
{
	uint8_t d[16];
	struct rx_desc r;

	avm_harness_peek(h, RX_RING + 16ull * idx, d, sizeof(d));
	r.len = get_le16(d + 8);
	r.status = d[12];
	r.errors = d[13];
	r.special = get_le16(d + 14);
	return r;
}

static inline void send_frame(avm_harness *h, const void *f, size_t len)
{
	avm_harness_send_data(h, AVM_MSG_FRAME, 0, f, len);
}

/* A test frame: destination @dst, our test source, type 0x0800, then
 * payload bytes i & 0xff. */
static inline void make_frame(uint8_t *f, size_t len, const uint8_t *dst)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)i;
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
}

/* IEEE CRC-32, bit by bit: independent of the device's table. */
static inline uint32_t ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* Ones'-complement sum over @n bytes, folded, starting from @sum. */
static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 2)
		sum += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

#endif /* E1000_TEST_H */
