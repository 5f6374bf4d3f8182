/* SPDX-License-Identifier: MIT */
/*
 * fakepci - a small PCI function for the PCI host's tests: BAR0 an I/O
 * region of 16 ports, BAR1 unused, BAR2 a 64 KiB prefetchable memory
 * region, interrupt pin INTB#, and a DMA engine to test bus mastering.
 */
#ifndef TEST_FAKEPCI_H
#define TEST_FAKEPCI_H

#include <actorvm/actor.h>

enum fakepci_reg {
	FAKEPCI_ID = 0x00,	   /* RO: FAKEPCI_ID_VALUE */
	FAKEPCI_SCRATCH = 0x08,	   /* RW */
	FAKEPCI_DMA_ADDR = 0x10,   /* RW */
	FAKEPCI_DMA_GO = 0x18,	   /* WO: DMA FAKEPCI_DMA_WORD to DMA_ADDR */
	FAKEPCI_DMA_STATUS = 0x20, /* RO: its result (0 or -errno) */
};

#define FAKEPCI_ID_VALUE  0xfa4e0001u
#define FAKEPCI_DMA_WORD  0xd0d0cafeu
#define FAKEPCI_IO_SIZE	  16
#define FAKEPCI_MEM_SIZE  0x10000
#define FAKEPCI_VENDOR_ID 0x1234
#define FAKEPCI_DEVICE_ID 0xfa4e

enum fakepci_region { FAKEPCI_REGION_IO = 0, FAKEPCI_REGION_MEM = 1 };

extern const struct avm_device_ops fakepci_ops;

#endif /* TEST_FAKEPCI_H */
