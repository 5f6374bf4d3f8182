/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry point for the e1000 actor: the input is a program of
 * guest register accesses, descriptor and buffer contents, incoming frames
 * and time steps, run on the actor test harness. A crash, a sanitizer
 * report, or a run that does not go idle within the step limit (a hang)
 * is a finding.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/harness.h>

#include "e1000.h"

#define FZ_RAM	     0x100000ull
#define FZ_RAM_SIZE  0x40000ull
#define FZ_TX_RING   0x100000ull
#define FZ_RX_RING   0x100400ull
#define FZ_BUF	     0x101000ull /* 16 buffers of 4 KiB */
#define FZ_MAX_STEPS 200000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Registers worth hitting often; raw offsets are reachable too. */
static const uint32_t fz_regs[] = {
	E1000_CTRL,  E1000_STATUS, E1000_EECD,	 E1000_EERD,   E1000_CTRL_EXT,
	E1000_MDIC,  E1000_ICR,	   E1000_ITR,	 E1000_ICS,    E1000_IMS,
	E1000_IMC,   E1000_RCTL,   E1000_TCTL,	 E1000_RDBAL,  E1000_RDLEN,
	E1000_RDH,   E1000_RDT,	   E1000_RDTR,	 E1000_RADV,   E1000_TDBAL,
	E1000_TDLEN, E1000_TDH,	   E1000_TDT,	 E1000_TIDV,   E1000_TADV,
	E1000_VET,   E1000_MTA,	   E1000_RAL(0), E1000_RAH(0), E1000_VFTA,
	E1000_GORCH, E1000_TPR,
};

struct fz {
	avm_harness *h;
	const uint8_t *p;
	size_t left;
};

static void fz_fail(void *arg, const char *file, int line, const char *msg)
{
}

static uint32_t fz_take(struct fz *z, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n && z->left; i++, z->left--)
		v |= (uint32_t)*z->p++ << (8 * i);
	return v;
}

/* A harness call that must not report a hang. */
static void fz_check(int err)
{
	if (err == -ELOOP) {
		fprintf(stderr, "e1000 fuzz: device never went idle\n");
		abort();
	}
}

static void fz_desc(struct fz *z, uint64_t ring)
{
	uint8_t d[16];
	uint32_t idx = fz_take(z, 1) & 15, sel = fz_take(z, 1);

	for (int i = 0; i < 16; i++)
		d[i] = (uint8_t)fz_take(z, 1);
	/* Mostly keep the buffer inside RAM so that the data paths run. */
	if (sel & 1) {
		uint64_t a = FZ_BUF + (uint64_t)(sel >> 4) * 0x1000 + d[0];

		for (int i = 0; i < 8; i++)
			d[i] = (uint8_t)(a >> (8 * i));
	}
	avm_harness_try_poke(z->h, ring + 16ull * idx, d, sizeof(d));
}

static void fz_frame(struct fz *z)
{
	static uint8_t f[AVM_MSG_MAX_PAYLOAD];
	uint32_t len = fz_take(z, 2), n;

	len = len % 2048 == 2047 ? AVM_MSG_MAX_PAYLOAD : len % 2048;
	n = len < z->left ? len : (uint32_t)z->left;
	memcpy(f, z->p, n);
	memset(f + n, 0x5a, len - n);
	if (len >= 6 && (len & 1)) /* to us, so that it passes the filter */
		memcpy(f, "\x52\x54\x00\x12\x34\x56", 6);
	z->p += n;
	z->left -= n;
	fz_check(avm_harness_try_send_data(z->h, AVM_MSG_FRAME, 0, f, len));
}

static void fz_access(struct fz *z, unsigned op)
{
	static const unsigned sizes[4] = { 1, 2, 4, 8 };
	uint32_t off, v;
	uint64_t val;

	switch (op) {
	case 0: /* write a known register */
		off = fz_regs[fz_take(z, 1) % (sizeof(fz_regs) / 4)];
		fz_check(avm_harness_try_write(z->h, 0, off, 4, fz_take(z, 4)));
		break;
	case 1: /* read a known register */
		off = fz_regs[fz_take(z, 1) % (sizeof(fz_regs) / 4)];
		fz_check(avm_harness_try_read(z->h, 0, off, 4, &val));
		break;
	case 2: /* any offset, any size */
		v = fz_take(z, 3);
		off = (v & 0x1ffff) & ~(sizes[v >> 22] - 1);
		val = fz_take(z, 4);
		if (v & 0x200000)
			fz_check(avm_harness_try_write(z->h, 0, off,
						       sizes[v >> 22], val));
		else
			fz_check(avm_harness_try_read(z->h, 0, off,
						      sizes[v >> 22], &val));
		break;
	default: /* the I/O BAR */
		v = fz_take(z, 1);
		val = fz_take(z, 4);
		if (v & 1)
			fz_check(avm_harness_try_write(z->h, 1, v & 4, 4, val));
		else
			fz_check(avm_harness_try_read(z->h, 1, v & 4, 4, &val));
		break;
	}
}

static void fz_op(struct fz *z)
{
	unsigned op = fz_take(z, 1) % 10;
	struct avm_msg link = { .kind = E1000_MSG_LINK };
	uint8_t buf[16];

	if (op < 4) {
		fz_access(z, op);
	} else if (op == 4) {
		fz_desc(z, FZ_TX_RING);
	} else if (op == 5) {
		fz_desc(z, FZ_RX_RING);
	} else if (op == 6) {
		fz_frame(z);
	} else if (op == 7) {
		fz_check(
			avm_harness_try_advance(z->h, fz_take(z, 2) * 1000ull));
	} else if (op == 8) {
		uint32_t off = fz_take(z, 2) % 0x10000;

		for (int i = 0; i < 16; i++)
			buf[i] = (uint8_t)fz_take(z, 1);
		avm_harness_try_poke(z->h, FZ_BUF + off, buf, sizeof(buf));
	} else {
		link.user.value = fz_take(z, 1) & 1;
		fz_check(avm_harness_try_send(z->h, &link));
	}
}

/* A working NIC to start from: rings in RAM, TX and RX on, IRQs unmasked. */
static void fz_setup(avm_harness *h)
{
	static const uint32_t init[][2] = {
		{ E1000_TDBAL, (uint32_t)FZ_TX_RING },
		{ E1000_TDLEN, 16 * 16 },
		{ E1000_RDBAL, (uint32_t)FZ_RX_RING },
		{ E1000_RDLEN, 16 * 16 },
		{ E1000_RDT, 15 },
		{ E1000_IMS, 0xffff },
		{ E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP },
		{ E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM },
	};
	uint8_t d[16] = { 0 };

	for (uint32_t i = 0; i < 16; i++) {
		uint64_t a = FZ_BUF + 0x1000ull * i;

		for (int b = 0; b < 8; b++)
			d[b] = (uint8_t)(a >> (8 * b));
		avm_harness_try_poke(h, FZ_RX_RING + 16ull * i, d, sizeof(d));
	}
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		fz_check(
			avm_harness_try_write(h, 0, init[i][0], 4, init[i][1]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct avm_harness_opts opts = {
		.ops = &e1000_ops,
		.seed = size,
		.ram_gpa = FZ_RAM,
		.ram_size = FZ_RAM_SIZE,
		.max_steps = FZ_MAX_STEPS,
		.unbound = true, /* sends are captured, not queued: faster */
		.log_level = -1,
		.fail = fz_fail,
	};
	struct fz z = { .p = data, .left = size };

	if (avm_harness_new(&opts, &z.h))
		abort();
	fz_setup(z.h);
	while (z.left)
		fz_op(&z);
	fz_check(avm_harness_try_advance(z.h, 1000000000ull));
	if (getenv("E1000_FUZZ_DUMP")) /* to see what an input did */
		avm_harness_dump(z.h, stderr);
	avm_harness_free(z.h);
	return 0;
}
