// SPDX-License-Identifier: MIT
/*
 * idle: a guest that never exits on its own. It says so, enables interrupts
 * and halts forever (a halted VCPU costs no host CPU), so that a test can
 * pause, resume, inspect and stop a running VM (`actorvm ctl`). Secondary
 * VCPUs halt in the library's guest_ap_main().
 */
#include "guest.h"

int guest_main(const struct multiboot_info *mbi)
{
	(void)mbi;
	guest_puts("idle: halting until stopped");
	for (;;)
		__asm__ volatile("sti; hlt");
}
