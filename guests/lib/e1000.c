// SPDX-License-Identifier: MIT
/*
 * Interrupt-driven e1000 (82540EM) driver for test guests. The register
 * facts are those of docs/e1000.md and the 8254x manual; only what both
 * QEMU's e1000 and actorvm's implement is used: a MAC reset through BAR0,
 * the EEPROM through EERD (82540 layout), legacy descriptors.
 */
#include "guest.h"

#include "e1000.h"

#define REG_CTRL   0x0000
#define REG_STATUS 0x0008
#define REG_EERD   0x0014
#define REG_ICR	   0x00C0
#define REG_IMS	   0x00D0
#define REG_IMC	   0x00D8
#define REG_RCTL   0x0100
#define REG_TCTL   0x0400
#define REG_TIPG   0x0410
#define REG_RDBAL  0x2800
#define REG_RDBAH  0x2804
#define REG_RDLEN  0x2808
#define REG_RDH	   0x2810
#define REG_RDT	   0x2818
#define REG_TDBAL  0x3800
#define REG_TDBAH  0x3804
#define REG_TDLEN  0x3808
#define REG_TDH	   0x3810
#define REG_TDT	   0x3818
#define REG_MTA	   0x5200
#define REG_RAL0   0x5400
#define REG_RAH0   0x5404

#define CTRL_SLU     (1u << 6)
#define CTRL_RST     (1u << 26)
#define STATUS_LU    (1u << 1)
#define EERD_START   (1u << 0)
#define EERD_DONE    (1u << 4)
#define RCTL_EN	     (1u << 1)
#define RCTL_BAM     (1u << 15)
#define RCTL_SECRC   (1u << 26)
#define TCTL_EN	     (1u << 1)
#define TCTL_PSP     (1u << 3)
#define TCTL_CT_16   (0x0Fu << 4)
#define TCTL_COLD_FD (0x40u << 12)
#define TIPG_COPPER  0x00602008u /* IPGT 8, IPGR1 8, IPGR2 6 (Linux) */
#define RAH_AV	     (1u << 31)
#define MTA_ENTRIES  128
#define TXD_CMD_EOP  0x01
#define TXD_CMD_IFCS 0x02
#define TXD_CMD_RS   0x08
#define DESC_STAT_DD 0x01
#define RXD_STAT_EOP 0x02
#define POLL_LIMIT   100000 /* register polls before giving up */
#define IMS_CAUSES                                                             \
	(GUEST_E1000_ICR_RXT0 | GUEST_E1000_ICR_TXDW | GUEST_E1000_ICR_LSC |   \
	 GUEST_E1000_ICR_RXO)

struct rx_desc {
	uint64_t addr;
	uint16_t len;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

struct tx_desc {
	uint64_t addr;
	uint16_t len;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};

/* Guest RAM is identity-mapped (no paging): a pointer is a bus address. */
static volatile struct rx_desc rx_ring[GUEST_E1000_RX_N]
	__attribute__((aligned(128)));
static volatile struct tx_desc tx_ring[GUEST_E1000_TX_N]
	__attribute__((aligned(128)));
static uint8_t rx_buf[GUEST_E1000_RX_N][GUEST_E1000_BUF_SIZE]
	__attribute__((aligned(16)));
static uint8_t tx_buf[GUEST_E1000_TX_N][GUEST_E1000_BUF_SIZE]
	__attribute__((aligned(16)));

/* The interrupt handler has no argument: one NIC per guest. */
static struct guest_e1000 *the_nic;

static uint32_t rd(const struct guest_e1000 *nic, uint32_t reg)
{
	return guest_mmio_read32(nic->mmio + reg);
}

static void wr(const struct guest_e1000 *nic, uint32_t reg, uint32_t val)
{
	guest_mmio_write32(nic->mmio + reg, val);
}

/*
 * Sleeps until the next interrupt. Called with interrupts off and returns
 * with them off, so the caller's check and the sleep cannot miss one.
 */
static void sleep_irq(void)
{
	guest_sti_hlt();
	guest_cli();
}

/*
 * Reading ICR clears every cause and lowers the level-triggered line
 * before the dispatcher's EOI, so the IOAPIC does not deliver it again.
 */
static void on_irq(struct guest_int_frame *f)
{
	struct guest_e1000 *nic = the_nic;
	uint32_t icr = rd(nic, REG_ICR);

	nic->irqs++;
	nic->causes |= icr;
	nic->rx_irqs += !!(icr & GUEST_E1000_ICR_RXT0);
	nic->tx_irqs += !!(icr & GUEST_E1000_ICR_TXDW);
	nic->lsc_irqs += !!(icr & GUEST_E1000_ICR_LSC);
	nic->rxo_irqs += !!(icr & GUEST_E1000_ICR_RXO);
}

static bool find_and_enable(struct guest_e1000 *nic)
{
	struct guest_pci_bar bar;
	uint16_t cmd;

	if (!guest_pci_find(GUEST_E1000_VENDOR, GUEST_E1000_DEVICE, &nic->pci))
		return false;
	guest_pci_bar(nic->pci, 0, &bar);
	if (bar.is_io || bar.size < 0x20000 || !bar.addr)
		GUEST_FAIL("e1000: BAR0 is not a 128 KiB memory BAR");
	nic->mmio = (uintptr_t)bar.addr;
	cmd = guest_pci_read16(nic->pci, GUEST_PCI_COMMAND);
	guest_pci_write16(nic->pci, GUEST_PCI_COMMAND,
			  cmd | GUEST_PCI_COMMAND_MEMORY |
				  GUEST_PCI_COMMAND_MASTER);
	nic->irq_pin = guest_pci_read8(nic->pci, GUEST_PCI_INTERRUPT_LINE);
	return true;
}

/* QEMU drops CTRL.RST; actorvm resets and clears the bit at once. */
static void reset(struct guest_e1000 *nic)
{
	unsigned int i;

	wr(nic, REG_IMC, 0xFFFFFFFFu);
	wr(nic, REG_CTRL, rd(nic, REG_CTRL) | CTRL_RST);
	for (i = 0; i < POLL_LIMIT && (rd(nic, REG_CTRL) & CTRL_RST); i++)
		;
	GUEST_ASSERT(i < POLL_LIMIT);
	wr(nic, REG_IMC, 0xFFFFFFFFu);
	(void)rd(nic, REG_ICR);
}

static uint16_t eeprom_read(struct guest_e1000 *nic, uint8_t word)
{
	uint32_t v = 0;
	unsigned int i;

	wr(nic, REG_EERD, EERD_START | (uint32_t)word << 8);
	for (i = 0; i < POLL_LIMIT && !(v & EERD_DONE); i++)
		v = rd(nic, REG_EERD);
	GUEST_ASSERT(v & EERD_DONE);
	return (uint16_t)(v >> 16);
}

/* The MAC from EEPROM words 0..2. */
static void read_mac(struct guest_e1000 *nic)
{
	for (uint8_t w = 0; w < 3; w++) {
		uint16_t v = eeprom_read(nic, w);

		nic->mac[2 * w] = (uint8_t)v;
		nic->mac[2 * w + 1] = (uint8_t)(v >> 8);
	}
}

/* Our MAC in receive address 0, valid; no multicast. */
static void set_filters(struct guest_e1000 *nic)
{
	wr(nic, REG_RAL0,
	   nic->mac[0] | nic->mac[1] << 8 | nic->mac[2] << 16 |
		   (uint32_t)nic->mac[3] << 24);
	wr(nic, REG_RAH0, nic->mac[4] | nic->mac[5] << 8 | RAH_AV);
	for (unsigned int i = 0; i < MTA_ENTRIES; i++)
		wr(nic, REG_MTA + 4 * i, 0);
}

/*
 * RX: every descriptor gets a buffer; RDT = N - 1 hands N - 1 of them to
 * the NIC (it owns [RDH, RDT)); the one at RDT is the gap that keeps a
 * full ring from looking empty. Broadcast accepted, CRC stripped.
 */
static void setup_rx(struct guest_e1000 *nic)
{
	for (unsigned int i = 0; i < GUEST_E1000_RX_N; i++) {
		rx_ring[i] = (struct rx_desc){ .addr = (uintptr_t)rx_buf[i] };
	}
	wr(nic, REG_RDBAL, (uintptr_t)rx_ring);
	wr(nic, REG_RDBAH, 0);
	wr(nic, REG_RDLEN, sizeof(rx_ring));
	wr(nic, REG_RDH, 0);
	wr(nic, REG_RDT, GUEST_E1000_RX_N - 1);
	nic->rx_next = 0;
	wr(nic, REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
}

static void setup_tx(struct guest_e1000 *nic)
{
	for (unsigned int i = 0; i < GUEST_E1000_TX_N; i++)
		tx_ring[i] = (struct tx_desc){ 0 };
	wr(nic, REG_TDBAL, (uintptr_t)tx_ring);
	wr(nic, REG_TDBAH, 0);
	wr(nic, REG_TDLEN, sizeof(tx_ring));
	wr(nic, REG_TDH, 0);
	wr(nic, REG_TDT, 0);
	nic->tx_tail = nic->tx_clean = 0;
	wr(nic, REG_TIPG, TIPG_COPPER);
	wr(nic, REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT_16 | TCTL_COLD_FD);
}

/*
 * From reset to running, at start-up and whenever the watchdog finds the
 * device reset. The order matters to programmed(): RDBAL comes first.
 */
static void program(struct guest_e1000 *nic)
{
	reset(nic);
	set_filters(nic);
	setup_rx(nic);
	setup_tx(nic);
	wr(nic, REG_IMS, IMS_CAUSES);
	wr(nic, REG_CTRL, rd(nic, REG_CTRL) | CTRL_SLU);
}

void guest_e1000_init(struct guest_e1000 *nic, uint8_t vector)
{
	*nic = (struct guest_e1000){ .vector = vector };
	if (!find_and_enable(nic))
		GUEST_FAIL("e1000: no %04x:%04x on PCI bus 0",
			   GUEST_E1000_VENDOR, GUEST_E1000_DEVICE);
	read_mac(nic);
	the_nic = nic;
	guest_set_handler(vector, on_irq);
	guest_ioapic_route(nic->irq_pin, vector, guest_lapic_id(),
			   GUEST_IOAPIC_LOW_LEVEL);
	program(nic);
	guest_printf("e1000: %02x:%02x.%x mmio 0x%x irq %u vector 0x%x mac "
		     "%02x:%02x:%02x:%02x:%02x:%02x\n",
		     nic->pci.bus, nic->pci.dev, nic->pci.fn,
		     (unsigned int)nic->mmio, nic->irq_pin, vector, nic->mac[0],
		     nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4],
		     nic->mac[5]);
}

bool guest_e1000_link_up(struct guest_e1000 *nic)
{
	return rd(nic, REG_STATUS) & STATUS_LU;
}

void guest_e1000_wait_link(struct guest_e1000 *nic)
{
	guest_cli();
	while (!guest_e1000_link_up(nic))
		sleep_irq();
	nic->link = true;
}

/* Moves tx_clean past written-back descriptors; true if it moved. */
static bool tx_reclaim(struct guest_e1000 *nic)
{
	unsigned int start = nic->tx_clean;

	while (nic->tx_clean != nic->tx_tail &&
	       (tx_ring[nic->tx_clean].status & DESC_STAT_DD))
		nic->tx_clean = (nic->tx_clean + 1) % GUEST_E1000_TX_N;
	return nic->tx_clean != start;
}

/* Whether frames are queued that the NIC has not sent yet. */
static bool tx_pending(struct guest_e1000 *nic)
{
	tx_reclaim(nic);
	return nic->tx_clean != nic->tx_tail;
}

/*
 * Whether the device still holds what program() wrote. RCTL.EN and
 * TCTL.EN are 0 after any reset (8254x SDM: receive and transmit off).
 * RDBAL, the first register program() writes that a reset changes (to 0
 * on actorvm and QEMU), also catches a reset landing while program() runs:
 * the enables written after it would read back set, on rings now unset.
 */
static bool programmed(struct guest_e1000 *nic)
{
	return rd(nic, REG_RDBAL) == (uintptr_t)rx_ring &&
	       (rd(nic, REG_RCTL) & RCTL_EN) && (rd(nic, REG_TCTL) & TCTL_EN);
}

static void reinit(struct guest_e1000 *nic, const char *why)
{
	program(nic);
	nic->reinits++;
	guest_printf("e1000: %s: re-initialised (%u)\n", why, nic->reinits);
}

/*
 * As Linux's e1000_watchdog: report link changes, and (its reset task)
 * re-initialise a device that lost its programming, or that lost link with
 * frames queued, which a real 82540 then never sends.
 */
static void watchdog(struct guest_e1000 *nic)
{
	bool up;

	nic->checked = nic->ticks;
	nic->lsc_checked = nic->lsc_irqs;
	if (!programmed(nic))
		reinit(nic, "device reset");
	up = guest_e1000_link_up(nic);
	if (up == nic->link)
		return;
	nic->link = up;
	if (up) {
		guest_puts("e1000: link back up");
		return;
	}
	nic->link_drops++;
	guest_puts("e1000: link down");
	if (tx_pending(nic))
		reinit(nic, "link lost with frames queued");
}

void guest_e1000_tick(struct guest_e1000 *nic)
{
	nic->ticks++;
}

void guest_e1000_wait(struct guest_e1000 *nic)
{
	sleep_irq();
	if (nic->ticks != nic->checked || nic->lsc_irqs != nic->lsc_checked)
		watchdog(nic);
}

/* A re-initialisation in the wait empties the ring: indices are read
 * after it. */
void guest_e1000_send(struct guest_e1000 *nic, const void *frame, size_t len)
{
	unsigned int i, next;

	GUEST_ASSERT(len >= 14 && len <= GUEST_E1000_MAX_LEN);
	guest_cli();
	while ((nic->tx_tail + 1) % GUEST_E1000_TX_N == nic->tx_clean &&
	       !tx_reclaim(nic))
		guest_e1000_wait(nic);
	i = nic->tx_tail;
	next = (i + 1) % GUEST_E1000_TX_N;
	__builtin_memcpy(tx_buf[i], frame, len);
	tx_ring[i] = (struct tx_desc){ .addr = (uintptr_t)tx_buf[i],
				       .len = (uint16_t)len,
				       .cmd = TXD_CMD_EOP | TXD_CMD_IFCS |
					      TXD_CMD_RS };
	nic->tx_tail = next;
	guest_barrier(); /* the descriptor is in RAM before TDT moves */
	wr(nic, REG_TDT, next);
	nic->tx_frames++;
}

void guest_e1000_flush(struct guest_e1000 *nic)
{
	guest_cli();
	while (tx_pending(nic))
		guest_e1000_wait(nic);
}

size_t guest_e1000_recv(struct guest_e1000 *nic, void *buf, size_t cap)
{
	unsigned int i = nic->rx_next;
	volatile struct rx_desc *d = &rx_ring[i];
	size_t len;

	if (!(d->status & DESC_STAT_DD))
		return 0;
	guest_barrier(); /* DD is written last: the rest is valid now */
	/* 2 KiB buffers hold any frame without LPE: one descriptor each. */
	GUEST_ASSERT(d->status & RXD_STAT_EOP);
	GUEST_ASSERT_EQ(d->errors, 0);
	len = d->len;
	__builtin_memcpy(buf, rx_buf[i], len < cap ? len : cap);
	d->status = 0;
	nic->rx_next = (i + 1) % GUEST_E1000_RX_N;
	/* i becomes the gap; the previous gap goes back to the NIC. */
	wr(nic, REG_RDT, i);
	nic->rx_frames++;
	return len;
}

size_t guest_e1000_recv_wait(struct guest_e1000 *nic, void *buf, size_t cap)
{
	size_t len;

	guest_cli();
	while (!(len = guest_e1000_recv(nic, buf, cap)))
		guest_e1000_wait(nic);
	return len;
}

void guest_e1000_print_stats(const struct guest_e1000 *nic)
{
	guest_printf("e1000: tx %u rx %u frames; irqs %u (rx %u tx %u lsc %u "
		     "rxo %u)\n",
		     nic->tx_frames, nic->rx_frames, nic->irqs, nic->rx_irqs,
		     nic->tx_irqs, nic->lsc_irqs, nic->rxo_irqs);
}
