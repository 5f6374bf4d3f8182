/* SPDX-License-Identifier: MIT */
/**
 * DOC: bell - a doorbell, the device of "Write your first device"
 *
 * One MMIO region of four 32-bit registers (docs/framework.md walks
 * through it). Writing DOORBELL sets STATUS.RUNG, counts the ring and
 * raises the "irq" line; writing 1 to STATUS.RUNG clears it and lowers the
 * line. ID is a direct register: VCPUs read it without a message.
 */
#ifndef BELL_H
#define BELL_H

#include <actorvm/actor.h>

enum bell_reg {
	BELL_ID = 0x0,	     /* RO, direct: the configured id */
	BELL_DOORBELL = 0x4, /* WO: any value rings; reads 0 */
	BELL_STATUS = 0x8,   /* RW1C: BELL_ST_* */
	BELL_RINGS = 0xc,    /* RO: rings since reset */
};

#define BELL_ST_RUNG	0x1u
#define BELL_MMIO_SIZE	0x10
#define BELL_PORT_IRQ	0
#define BELL_ID_DEFAULT 0xbe110001u

/**
 * struct bell_config - what a creator may set; zero means the default.
 * @id: the value of the ID register (0: %BELL_ID_DEFAULT).
 */
struct bell_config {
	uint32_t id;
};

/**
 * struct bell - instance state (ops->state_size bytes, zeroed by the
 * framework); public for white-box tests only.
 * @id: the ID register.
 * @status: the STATUS register.
 * @rings: the RINGS register.
 * @irq_level: the level last sent on "irq".
 */
struct bell {
	uint32_t id;
	uint32_t status;
	uint32_t rings;
	bool irq_level;
};

extern const struct avm_device_ops bell_ops;

#endif /* BELL_H */
