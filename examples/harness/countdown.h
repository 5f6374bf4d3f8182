/* SPDX-License-Identifier: MIT */
/**
 * DOC: countdown - a small countdown timer, the test harness's worked example
 *
 * One MMIO region of 32-bit registers. Loaded with LOAD ticks and enabled,
 * the timer expires after LOAD * tick_ns; in periodic mode it reloads and
 * goes on. Each expiry sets STATUS.EXPIRED (read-to-clear), raises the "irq"
 * line if CTRL.IRQ_EN is set, and with CTRL.WB_EN writes the 32-bit expiry
 * count to guest memory at WB_ADDR (little-endian).
 */
#ifndef COUNTDOWN_H
#define COUNTDOWN_H

#include <actorvm/actor.h>

enum countdown_reg {
	COUNTDOWN_CTRL = 0x00,	   /* RW: COUNTDOWN_CTRL_* bits */
	COUNTDOWN_LOAD = 0x04,	   /* RW: period in ticks; writing restarts */
	COUNTDOWN_COUNT = 0x08,	   /* RO: ticks left (0 when stopped) */
	COUNTDOWN_STATUS = 0x0c,   /* RO, read-to-clear: COUNTDOWN_ST_* */
	COUNTDOWN_WB_ADDR = 0x10,  /* RW: guest address of the write-back */
	COUNTDOWN_EXPIRIES = 0x14, /* RO: expiries since reset */
	COUNTDOWN_ID = 0x18,	   /* RO, direct: COUNTDOWN_ID_VALUE */
};

#define COUNTDOWN_CTRL_ENABLE	0x1u
#define COUNTDOWN_CTRL_PERIODIC 0x2u
#define COUNTDOWN_CTRL_IRQ_EN	0x4u
#define COUNTDOWN_CTRL_WB_EN	0x8u

#define COUNTDOWN_ST_EXPIRED 0x1u
#define COUNTDOWN_ST_WB_ERR  0x2u /* the last write-back hit no memory */

#define COUNTDOWN_ID_VALUE  0xc0d70001u
#define COUNTDOWN_MMIO_SIZE 0x20
#define COUNTDOWN_PORT_IRQ  0
#define COUNTDOWN_TIMER	    0

/**
 * struct countdown_config - optional configuration.
 * @tick_ns: length of one tick (default 1000 ns).
 */
struct countdown_config {
	uint64_t tick_ns;
};

/**
 * struct countdown - instance state, public for white-box tests only.
 * @tick_ns: from the configuration.
 * @ctrl: CTRL register.
 * @load: LOAD register.
 * @status: STATUS register.
 * @wb_addr: WB_ADDR register.
 * @expiries: EXPIRIES register.
 * @due: virtual time of the next expiry while enabled.
 * @irq_level: the level last sent on "irq".
 */
struct countdown {
	uint64_t tick_ns;
	uint32_t ctrl;
	uint32_t load;
	uint32_t status;
	uint32_t wb_addr;
	uint32_t expiries;
	uint64_t due;
	bool irq_level;
};

extern const struct avm_device_ops countdown_ops;

#endif /* COUNTDOWN_H */
