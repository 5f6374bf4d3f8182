// SPDX-License-Identifier: MIT
/*
 * serial_pci: a serial- and PCI-heavy guest, the boot-to-verdict workload
 * that bench/boot-vs-qemu times on actorvm and on QEMU (issue 14).
 *
 * Serial: 2048 bytes (32 lines of 64, CR LF included) over COM1, polling
 * LSR until THRE before every byte, as a polled console driver does. A
 * byte that never finds THRE, or an LSR reporting a line error, fails.
 *
 * PCI: bus 0 enumerated SCAN_PASSES times through 0xCF8/0xCFC, reading
 * the ID dword of every function of every slot (256 a pass, absent ones
 * included), and for each present function its class, header type,
 * command, interrupt pin/line and sized BARs. Checked: the host bridge
 * 00:00.0 (8086:1237, class 060000) and the e1000 at 00:03.0 (8086:100e,
 * a 128 KiB memory BAR and a 64-byte I/O BAR), which QEMU's pc and
 * actorvm's PC machine both have; a function above 0 only in a slot whose
 * function 0 says it is multi-function; every BAR a power of two, aligned
 * to its size, assigned, and overlapping no other; every pass the same.
 */
#include "guest.h"

#define UART_THR	   0
#define UART_LSR	   5
#define UART_LSR_ERRORS	   0x1E /* overrun, parity, framing, break */
#define UART_LSR_THRE	   0x20
#define SERIAL_BYTES	   2048
#define SERIAL_LINE	   64
#define SERIAL_POLL_LIMIT  1000000 /* a hang guard: THRE never came */
#define SCAN_PASSES	   8
#define MAX_FUNCTIONS	   32
#define MAX_BARS	   64
#define PCI_SLOTS	   32
#define PCI_FUNCTIONS	   8
#define PCI_MULTIFUNCTION  0x80
#define PCI_HEADER_NORMAL  0
#define PCI_CLASS_HOST	   0x060000u
#define PCI_ID_HOST_BRIDGE 0x12378086u /* device << 16 | vendor */
#define PCI_ID_E1000	   0x100E8086u
#define E1000_SLOT	   3
#define E1000_MMIO_SIZE	   0x20000u
#define E1000_IO_SIZE	   0x40u

struct pci_fn {
	struct guest_pci_dev d;
	uint32_t id;	/* dword 0: device << 16 | vendor */
	uint32_t class; /* base << 16 | sub << 8 | prog-if */
	uint8_t header;
	uint8_t pin, line;
};

struct pci_bar_seen {
	struct pci_fn *fn;
	struct guest_pci_bar bar;
	unsigned int n;
};

struct scan {
	struct pci_fn fns[MAX_FUNCTIONS];
	unsigned int count;
	unsigned int reads; /* ID dwords read, absent functions included */
};

/* --- Serial --------------------------------------------------------------- */

/* Polls LSR until THRE, then writes @c. Returns the number of LSR reads. */
static unsigned int serial_put(uint8_t c)
{
	unsigned int polls = 0;
	uint8_t lsr;

	do {
		lsr = guest_inb(GUEST_COM1 + UART_LSR);
		GUEST_ASSERT_EQ(lsr & UART_LSR_ERRORS, 0);
		GUEST_ASSERT(++polls < SERIAL_POLL_LIMIT);
	} while (!(lsr & UART_LSR_THRE));
	guest_outb(GUEST_COM1 + UART_THR, c);
	return polls;
}

/* Line @n (1-based): a label, then a pattern that shifts with @n. */
static void serial_line(unsigned int n, unsigned int *polls)
{
	char line[SERIAL_LINE + 1];
	int len = guest_snprintf(line, sizeof(line), "serial_pci %02u/%02u ", n,
				 SERIAL_BYTES / SERIAL_LINE);

	GUEST_ASSERT(len > 0 && len < SERIAL_LINE - 2);
	for (int i = len; i < SERIAL_LINE - 2; i++)
		line[i] = (char)('A' + (n + (unsigned int)i) % 26);
	line[SERIAL_LINE - 2] = '\r';
	line[SERIAL_LINE - 1] = '\n';
	for (int i = 0; i < SERIAL_LINE; i++)
		*polls += serial_put((uint8_t)line[i]);
}

static void serial_phase(void)
{
	unsigned int polls = 0;

	for (unsigned int n = 1; n <= SERIAL_BYTES / SERIAL_LINE; n++)
		serial_line(n, &polls);
	/* Every byte took at least one LSR read that found THRE. */
	GUEST_ASSERT(polls >= SERIAL_BYTES);
	guest_printf("serial_pci: %u bytes sent, THRE polled before each\n",
		     SERIAL_BYTES);
}

/* --- PCI ------------------------------------------------------------------ */

static void read_fn(struct guest_pci_dev d, uint32_t id, struct pci_fn *f)
{
	*f = (struct pci_fn){ .d = d, .id = id };
	f->class = guest_pci_read32(d, GUEST_PCI_REVISION) >> 8;
	f->header = guest_pci_read8(d, GUEST_PCI_HEADER_TYPE);
	f->pin = guest_pci_read8(d, GUEST_PCI_INTERRUPT_PIN);
	f->line = guest_pci_read8(d, GUEST_PCI_INTERRUPT_LINE);
	GUEST_ASSERT((uint16_t)id != 0 && (uint16_t)(id >> 16) != 0xFFFF);
	GUEST_ASSERT(f->pin <= 4);
}

/* Every function of @slot; a function above 0 needs a multi-function 0. */
static void scan_slot(struct scan *s, uint8_t slot)
{
	bool multi = false;

	for (uint8_t fn = 0; fn < PCI_FUNCTIONS; fn++) {
		struct guest_pci_dev d = { 0, slot, fn };
		uint32_t id = guest_pci_read32(d, GUEST_PCI_VENDOR_ID);

		s->reads++;
		if ((uint16_t)id == GUEST_PCI_VENDOR_NONE)
			continue;
		GUEST_ASSERT(s->count < MAX_FUNCTIONS);
		read_fn(d, id, &s->fns[s->count]);
		if (fn == 0)
			multi = s->fns[s->count].header & PCI_MULTIFUNCTION;
		else
			GUEST_ASSERT(multi);
		s->count++;
	}
}

static void scan_bus(struct scan *s)
{
	*s = (struct scan){ .count = 0 };
	for (uint8_t slot = 0; slot < PCI_SLOTS; slot++)
		scan_slot(s, slot);
	GUEST_ASSERT_EQ(s->reads, PCI_SLOTS * PCI_FUNCTIONS);
}

static bool bars_overlap(const struct pci_bar_seen *a,
			 const struct pci_bar_seen *b)
{
	return a->bar.is_io == b->bar.is_io &&
	       a->bar.addr < b->bar.addr + b->bar.size &&
	       b->bar.addr < a->bar.addr + a->bar.size;
}

/* A BAR firmware assigned: a power of two, aligned, disjoint from @seen. */
static void check_bar(const struct pci_bar_seen *b,
		      const struct pci_bar_seen *seen, unsigned int n_seen)
{
	uint64_t size = b->bar.size;

	GUEST_ASSERT((size & (size - 1)) == 0);
	GUEST_ASSERT_EQ(b->bar.addr & (size - 1), 0);
	GUEST_ASSERT(b->bar.addr != 0);
	for (unsigned int i = 0; i < n_seen; i++)
		GUEST_ASSERT(!bars_overlap(b, &seen[i]));
}

static void print_bar(const struct pci_bar_seen *b)
{
	guest_printf("    BAR%u %s 0x%llx size 0x%llx\n", b->n,
		     b->bar.is_io ? "io " : "mem", b->bar.addr, b->bar.size);
}

/* Sizes, prints and checks the BARs of every ordinary function. */
static unsigned int check_bars(struct scan *s, struct pci_bar_seen *seen)
{
	unsigned int n_seen = 0, used;

	for (unsigned int i = 0; i < s->count; i++) {
		struct pci_fn *f = &s->fns[i];

		if ((f->header & 0x7F) != PCI_HEADER_NORMAL)
			continue;
		for (unsigned int n = 0; n < 6; n += used) {
			struct pci_bar_seen b = { .fn = f, .n = n };

			used = (unsigned int)guest_pci_bar(f->d, n, &b.bar);
			if (!b.bar.size)
				continue;
			check_bar(&b, seen, n_seen);
			GUEST_ASSERT(n_seen < MAX_BARS);
			seen[n_seen++] = b;
		}
	}
	return n_seen;
}

static void print_scan(const struct scan *s, const struct pci_bar_seen *seen,
		       unsigned int n_seen)
{
	for (unsigned int i = 0; i < s->count; i++) {
		const struct pci_fn *f = &s->fns[i];

		guest_printf("%02x:%02x.%x %04x:%04x class %06x irq pin %u "
			     "line %u\n",
			     f->d.bus, f->d.dev, f->d.fn, f->id & 0xFFFF,
			     f->id >> 16, f->class, f->pin, f->line);
		for (unsigned int b = 0; b < n_seen; b++) {
			if (seen[b].fn == f)
				print_bar(&seen[b]);
		}
	}
}

/* The BAR of function @f at index @n, or NULL. */
static const struct guest_pci_bar *bar_of(const struct pci_fn *f,
					  const struct pci_bar_seen *seen,
					  unsigned int n_seen, unsigned int n)
{
	for (unsigned int i = 0; i < n_seen; i++) {
		if (seen[i].fn == f && seen[i].n == n)
			return &seen[i].bar;
	}
	return NULL;
}

static void check_e1000(const struct scan *s, const struct pci_bar_seen *seen,
			unsigned int n_seen)
{
	const struct pci_fn *nic = NULL;
	const struct guest_pci_bar *mmio, *io;

	for (unsigned int i = 0; i < s->count; i++) {
		if (s->fns[i].d.dev == E1000_SLOT && s->fns[i].d.fn == 0)
			nic = &s->fns[i];
	}
	GUEST_ASSERT(nic != NULL);
	GUEST_ASSERT_EQ(nic->id, PCI_ID_E1000);
	mmio = bar_of(nic, seen, n_seen, 0);
	io = bar_of(nic, seen, n_seen, 1);
	GUEST_ASSERT(mmio && !mmio->is_io);
	GUEST_ASSERT_EQ(mmio->size, E1000_MMIO_SIZE);
	GUEST_ASSERT(io && io->is_io);
	GUEST_ASSERT_EQ(io->size, E1000_IO_SIZE);
}

static bool same_scan(const struct scan *a, const struct scan *b)
{
	if (a->count != b->count)
		return false;
	for (unsigned int i = 0; i < a->count; i++) {
		const struct pci_fn *x = &a->fns[i], *y = &b->fns[i];

		if (x->d.dev != y->d.dev || x->d.fn != y->d.fn ||
		    x->id != y->id || x->class != y->class ||
		    x->header != y->header || x->line != y->line)
			return false;
	}
	return true;
}

static void pci_phase(void)
{
	static struct scan first, again;
	static struct pci_bar_seen seen[MAX_BARS];
	unsigned int n_seen;

	scan_bus(&first);
	n_seen = check_bars(&first, seen);
	print_scan(&first, seen, n_seen);
	GUEST_ASSERT(first.count >= 2);
	GUEST_ASSERT_EQ(first.fns[0].d.dev, 0);
	GUEST_ASSERT_EQ(first.fns[0].id, PCI_ID_HOST_BRIDGE);
	GUEST_ASSERT_EQ(first.fns[0].class, PCI_CLASS_HOST);
	check_e1000(&first, seen, n_seen);
	for (unsigned int pass = 1; pass < SCAN_PASSES; pass++) {
		scan_bus(&again);
		GUEST_ASSERT(same_scan(&first, &again));
	}
	guest_printf("serial_pci: %u passes over bus 0, %u functions, %u BARs "
		     "checked\n",
		     SCAN_PASSES, first.count, n_seen);
}

int guest_main(const struct multiboot_info *mbi)
{
	serial_phase();
	pci_phase();
	GUEST_DONE();
}
