/* SPDX-License-Identifier: MIT */
#include "irqchip.h"

const char *const irqchip_cpu_ports[IRQCHIP_MAX_CPUS] = {
	"cpu0", "cpu1", "cpu2",	 "cpu3",  "cpu4",  "cpu5",  "cpu6",  "cpu7",
	"cpu8", "cpu9", "cpu10", "cpu11", "cpu12", "cpu13", "cpu14", "cpu15",
};
