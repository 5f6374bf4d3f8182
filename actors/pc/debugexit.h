/* SPDX-License-Identifier: MIT */
/**
 * DOC: debugexit - QEMU's isa-debug-exit port
 *
 * A 4-byte port region (map it at 0xf4). A write of V asks the VM to exit
 * with status (V << 1) | 1, as QEMU's -device isa-debug-exit does, so a
 * guest gets the same verdict on both. Reads return 0.
 */
#ifndef PC_DEBUGEXIT_H
#define PC_DEBUGEXIT_H

#include <actorvm/actor.h>

#define DEBUGEXIT_PORT 0xf4

extern const struct avm_device_ops debugexit_ops;

#endif /* PC_DEBUGEXIT_H */
