// SPDX-License-Identifier: MIT
/*
 * gp_load: the general-purpose guest of bench/rt-latency, the second image
 * of an AMP VM (VCPU1, linked above the real-time guest).
 *
 * It waits for the real-time guest's start IPI (so the two never race on
 * the PCI configuration ports), then loops for ever: a burst of bytes to
 * COM1, polling LSR.THRE like a console driver (COM1's backend stalls, so
 * THRE stays 0 for milliseconds), and as many frames as the TX ring of the
 * *second* e1000 takes, at full rate, with a minimal TX-only driver of its
 * own (the library's drives the first NIC, which is the real-time guest's).
 * Command line "idle": after the start IPI it only halts (bench/rt-latency's
 * control mode: the same VM without the load).
 * Needs actorvm's AMP boot: not run on QEMU.
 */
#include "guest.h"

#include "e1000.h"

#define GO_VECTOR 0x50
#define COM1	  0x3F8
#define BURST	  256 /* bytes per console burst */
#define TX_N	  64  /* descriptors (a multiple of 8) */
#define FRAME_LEN 1514
#define REG_TCTL  0x0400
#define REG_TIPG  0x0410
#define REG_TDBAL 0x3800
#define REG_TDBAH 0x3804
#define REG_TDLEN 0x3808
#define REG_TDH	  0x3810
#define REG_TDT	  0x3818
#define TCTL_EN	  (1u << 1)
#define TCTL_PSP  (1u << 3)
#define CMD_EOP	  0x01
#define CMD_IFCS  0x02
#define CMD_RS	  0x08
#define STAT_DD	  0x01

struct txd {
	uint64_t addr;
	uint16_t len;
	uint8_t cso, cmd, status, css;
	uint16_t special;
};

static struct txd ring[TX_N] __attribute__((aligned(128)));
static uint8_t frame[FRAME_LEN];
static volatile uint32_t go;
static volatile uint32_t *mmio;
static unsigned int tail, clean;

static void on_go(struct guest_int_frame *f)
{
	go = 1;
}

struct second {
	unsigned int seen;
	struct guest_pci_dev dev;
};

static void find_second(struct guest_pci_dev d, void *arg)
{
	struct second *s = arg;

	if (guest_pci_read16(d, 0) == GUEST_E1000_VENDOR &&
	    guest_pci_read16(d, 2) == GUEST_E1000_DEVICE && s->seen++ == 1)
		s->dev = d;
}

static void tx_setup(void)
{
	struct second s = { 0 };

	guest_pci_foreach(find_second, &s);
	GUEST_ASSERT(s.seen >= 2);
	/* BAR0 as firmware (actorvm) assigned it; no sizing, no races. */
	mmio = (volatile uint32_t *)(uintptr_t)(guest_pci_read32(s.dev, 0x10) &
						~0xFu);
	guest_pci_write16(s.dev, 4, guest_pci_read16(s.dev, 4) | 0x6);
	mmio[REG_TDBAL / 4] = (uint32_t)(uintptr_t)ring;
	mmio[REG_TDBAH / 4] = 0;
	mmio[REG_TDLEN / 4] = sizeof(ring);
	mmio[REG_TDH / 4] = 0;
	mmio[REG_TDT / 4] = 0;
	mmio[REG_TIPG / 4] = 0x00602008u;
	mmio[REG_TCTL / 4] = TCTL_EN | TCTL_PSP;
	for (unsigned int i = 0; i < FRAME_LEN; i++)
		frame[i] = (uint8_t)i;
	__builtin_memset(frame, 0xff, 6); /* broadcast */
	frame[12] = 0x88, frame[13] = 0xB6;
}

/* Fill every free descriptor (one kept empty: head == tail is "empty"). */
static void tx_fill(void)
{
	while (clean != tail && (ring[clean].status & STAT_DD))
		clean = (clean + 1) % TX_N;
	while ((tail + 1) % TX_N != clean) {
		ring[tail] = (struct txd){ .addr = (uintptr_t)frame,
					   .len = FRAME_LEN,
					   .cmd = CMD_EOP | CMD_IFCS | CMD_RS };
		tail = (tail + 1) % TX_N;
	}
	mmio[REG_TDT / 4] = tail;
}

static void console_burst(void)
{
	for (int i = 0; i < BURST; i++) {
		while (!(guest_inb(COM1 + 5) & 0x20))
			;
		guest_outb(COM1,
			   i == BURST - 1 ? '\n' : (uint8_t)('a' + i % 26));
	}
}

static bool idle_requested(const struct multiboot_info *mbi)
{
	const char *cmd = mbi->flags & MULTIBOOT_INFO_CMDLINE
				  ? (const char *)(uintptr_t)mbi->cmdline
				  : "";

	for (const char *p = cmd; *p; p++)
		if ((p == cmd || p[-1] == ' ') &&
		    !__builtin_memcmp(p, "idle", 4) &&
		    (p[4] == 0 || p[4] == ' '))
			return true;
	return false;
}

__attribute__((noreturn)) void guest_ap_main(const struct multiboot_info *mbi)
{
	bool idle = idle_requested(mbi);

	guest_idt_init(); /* this image's own IDT */
	guest_set_handler(GO_VECTOR, on_go);
	guest_lapic_enable(GUEST_SPURIOUS_VECTOR);
	guest_cli();
	while (!go) {
		guest_sti_hlt();
		guest_cli();
	}
	while (idle)
		guest_hlt(); /* IF is off: for good */
	tx_setup();
	for (;;) {
		console_burst();
		tx_fill();
	}
}

int guest_main(const struct multiboot_info *mbi)
{
	/* Only reached as VCPU0's image, which is not how it is meant. */
	guest_puts("gp_load: runs as the second image of an AMP VM");
	return 1;
}
