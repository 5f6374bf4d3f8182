/* SPDX-License-Identifier: MIT */
/**
 * DOC: testdev - a small device for exercising the framework
 *
 * MMIO region 0 (4 KiB) holds 64-bit registers at the offsets below; PIO
 * region 1 (8 ports) holds an 8-bit scratch register at port offset 0.
 * Ports: "irq" (its interrupt line) and "out" (pongs and echoes).
 */
#ifndef TESTDEV_H
#define TESTDEV_H

#include <actorvm/actor.h>

enum testdev_reg {
	TESTDEV_ID = 0x00,	   /* RO, direct: config id */
	TESTDEV_SCRATCH = 0x08,	   /* RW */
	TESTDEV_WRITES = 0x10,	   /* RO: guest writes handled so far */
	TESTDEV_SHADOW = 0x18,	   /* RO, direct: mirrors SHADOW_SET */
	TESTDEV_SHADOW_SET = 0x20, /* WO */
	TESTDEV_IRQ = 0x28,	   /* RW: line level (0/1) */
	TESTDEV_TIMER = 0x30,	   /* WO: arm one-shot timer, ns; 0 cancels */
	TESTDEV_TICKS = 0x38,	   /* RO: timer expiries (each raises IRQ) */
	TESTDEV_DMA_ADDR = 0x40,
	TESTDEV_DMA_LEN = 0x48,
	TESTDEV_DMA_CMD = 0x50,	   /* WO: 1 fill pattern, 2 checksum */
	TESTDEV_DMA_STATUS = 0x58, /* RO: last DMA result (0 or -errno) */
	TESTDEV_DMA_SUM = 0x60,	   /* RO: byte sum from DMA_CMD 2 */
	TESTDEV_WORK = 0x68,	   /* WO: run N chunks as continuations */
	TESTDEV_WORK_DONE = 0x70,  /* RO: chunks done */
	TESTDEV_SEQ = 0x78,	   /* WO: producer << 32 | sequence (1, 2..) */
	TESTDEV_SEQ_BAD = 0x80,	   /* RO: sequences seen out of order */
	TESTDEV_SEQ_TOTAL = 0x88,  /* RO: sequence writes seen */
	TESTDEV_IRQ_IN = 0x90, /* RO: last IRQ received: line << 1 | level */
	TESTDEV_PINGS = 0x98,  /* RO: PING messages handled */
};

#define TESTDEV_MMIO_SIZE     0x1000
#define TESTDEV_PIO_SIZE      8
#define TESTDEV_MAX_PRODUCERS 64
#define TESTDEV_DMA_MAX	      65536

enum testdev_port { TESTDEV_PORT_IRQ = 0, TESTDEV_PORT_OUT = 1 };

/* PING: as a request, answered with user.value + 1; posted, user.value + 1
 * goes out through "out" as a PING while it is below the limit in
 * user.addr. */
#define TESTDEV_MSG_PING (AVM_MSG_USER + 1)

/**
 * struct testdev_config - optional configuration.
 * @id: value of the ID register (default 0x7e57de7).
 * @chunk_spin: busy iterations per WORK chunk (default 100).
 */
struct testdev_config {
	uint64_t id;
	uint64_t chunk_spin;
};

extern const struct avm_device_ops testdev_ops;

#endif /* TESTDEV_H */
