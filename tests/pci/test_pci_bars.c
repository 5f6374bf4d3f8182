/* SPDX-License-Identifier: MIT */
/* PCI host: BAR sizing, relocation, command-register gating, bad BAR
 * programming, overlaps, bus mastering and reset. */
#include <string.h>

#include "e1000_priv.h"
#include "pci_fixture.h"

#define NIC  PF_NIC_SLOT
#define FAKE PF_FAKE_SLOT

static void bar_sizing(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	cfg_wr(&f, NIC, 0, 0x10, 4, 0xffffffff);
	assert_int_equal(cfg_rd(&f, NIC, 0, 0x10, 4), 0xfffe0000);
	cfg_wr(&f, NIC, 0, 0x14, 4, 0xffffffff);
	assert_int_equal(cfg_rd(&f, NIC, 0, 0x14, 4), 0xffffffc1);
	cfg_wr(&f, FAKE, 0, 0x10, 4, 0xffffffff);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x10, 4), 0xfffffff1);
	cfg_wr(&f, FAKE, 0, 0x18, 4, 0xffffffff);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x18, 4), 0xffff0008);
	/* Unimplemented BARs and the ROM BAR size to 0: "none". */
	cfg_wr(&f, FAKE, 0, 0x14, 4, 0xffffffff);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x14, 4), 0);
	cfg_wr(&f, NIC, 0, PCI_CFG_ROM, 4, 0xffffffff);
	assert_int_equal(cfg_rd(&f, NIC, 0, PCI_CFG_ROM, 4), 0);
	/* Restoring the address brings the region back. */
	cfg_wr(&f, NIC, 0, 0x10, 4, PF_NIC_MEM);
	assert_int_equal(cfg_rd(&f, NIC, 0, 0x10, 4), PF_NIC_MEM);
	pf_write(&f, AVM_SPACE_MMIO, PF_NIC_MEM + E1000_RDBAH, 4, 0x77);
	assert_int_equal(mmio_rd(&f, PF_NIC_MEM + E1000_RDBAH, 4), 0x77);
	pf_down(&f);
}

/* Sizing while decode is on: the I/O BAR's all-ones address is beyond the
 * port space and the memory BAR lands at the top of 4 GiB; neither breaks
 * anything, and the old addresses no longer decode. */
static void sizing_with_decode_on(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	cfg_wr(&f, FAKE, 0, 0x10, 4, 0xffffffff);
	assert_int_equal(pio_err(&f, PF_FAKE_IO), -ENXIO);
	cfg_wr(&f, FAKE, 0, 0x18, 4, 0xffffffff);
	assert_int_equal(mmio_err(&f, PF_FAKE_MEM), -ENXIO);
	assert_int_equal(mmio_rd(&f, 0xffff0000ull + FAKEPCI_ID, 4),
			 FAKEPCI_ID_VALUE);
	pf_down(&f);
}

static void relocation(void **unused)
{
	struct pcifix f;
	const uint32_t mem = 0xe8000000, io = 0xd000;

	(void)unused;
	pf_up(&f);
	cfg_wr(&f, FAKE, 0, 0x18, 4, mem);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x18, 4), mem | 0x8);
	assert_int_equal(mmio_rd(&f, mem + FAKEPCI_ID, 4), FAKEPCI_ID_VALUE);
	assert_int_equal(mmio_err(&f, PF_FAKE_MEM + FAKEPCI_ID), -ENXIO);
	/* The whole 64 KiB moved: the last word too. */
	assert_int_equal(mmio_err(&f, mem + 0xfffc), 0);
	assert_int_equal(mmio_err(&f, mem + 0x10000), -ENXIO);
	cfg_wr(&f, FAKE, 0, 0x10, 4, io);
	pf_write(&f, AVM_SPACE_PIO, io, 1, 0xa5);
	assert_int_equal(pf_in(&f, io, 1), 0xa5);
	assert_int_equal(pio_err(&f, PF_FAKE_IO), -ENXIO);
	/* A word write to the high half of a BAR moves it too. */
	cfg_wr(&f, NIC, 0, 0x12, 2, 0xe004);
	assert_int_equal(cfg_rd(&f, NIC, 0, 0x10, 4), 0xe0040000);
	assert_int_equal(mmio_err(&f, 0xe0040000 + E1000_STATUS), 0);
	assert_int_equal(mmio_err(&f, PF_NIC_MEM + E1000_STATUS), -ENXIO);
	pf_down(&f);
}

/* Swapping two BARs with decode on goes through an overlap: the first
 * write leaves the moved BAR undecoded, the second brings both back. */
static void swapping_two_bars(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	cfg_wr(&f, NIC, 0, 0x10, 4, PF_FAKE_MEM);
	assert_int_equal(mmio_err(&f, PF_NIC_MEM + E1000_STATUS), -ENXIO);
	assert_int_equal(mmio_rd(&f, PF_FAKE_MEM + FAKEPCI_ID, 4),
			 FAKEPCI_ID_VALUE);
	cfg_wr(&f, FAKE, 0, 0x18, 4, PF_NIC_MEM);
	assert_int_equal(mmio_rd(&f, PF_NIC_MEM + FAKEPCI_ID, 4),
			 FAKEPCI_ID_VALUE);
	pf_write(&f, AVM_SPACE_MMIO, PF_FAKE_MEM + E1000_RDBAH, 4, 0x42);
	assert_int_equal(mmio_rd(&f, PF_FAKE_MEM + E1000_RDBAH, 4), 0x42);
	pf_down(&f);
}

static void command_gates_decode(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	cfg_wr(&f, FAKE, 0, PCI_CFG_COMMAND, 2, PCI_COMMAND_IO);
	assert_int_equal(mmio_err(&f, PF_FAKE_MEM), -ENXIO);
	assert_int_equal(pio_err(&f, PF_FAKE_IO), 0);
	/* The BAR keeps its value while decode is off. */
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x18, 4), PF_FAKE_MEM | 0x8);
	cfg_wr(&f, FAKE, 0, PCI_CFG_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(pio_err(&f, PF_FAKE_IO), -ENXIO);
	assert_int_equal(mmio_rd(&f, PF_FAKE_MEM + FAKEPCI_ID, 4),
			 FAKEPCI_ID_VALUE);
	/* Relocating while decode is off maps nothing until it is on. */
	cfg_wr(&f, FAKE, 0, PCI_CFG_COMMAND, 2, 0);
	cfg_wr(&f, FAKE, 0, 0x18, 4, 0xe9000000);
	assert_int_equal(mmio_err(&f, 0xe9000000), -ENXIO);
	cfg_wr(&f, FAKE, 0, PCI_CFG_COMMAND, 2, 3);
	assert_int_equal(mmio_rd(&f, 0xe9000000 + FAKEPCI_ID, 4),
			 FAKEPCI_ID_VALUE);
	assert_int_equal(pio_err(&f, PF_FAKE_IO), 0);
	/* The other function never noticed. */
	assert_int_equal(mmio_err(&f, PF_NIC_MEM + E1000_STATUS), 0);
	pf_down(&f);
}

static void odd_bar_values(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	/* Low address bits are masked to the BAR's size, type bits stay. */
	cfg_wr(&f, NIC, 0, 0x10, 4, 0xe0112345);
	assert_int_equal(cfg_rd(&f, NIC, 0, 0x10, 4), 0xe0100000);
	assert_int_equal(mmio_err(&f, 0xe0100000 + E1000_STATUS), 0);
	cfg_wr(&f, NIC, 0, 0x10, 4, 0xe000000f);
	assert_int_equal(cfg_rd(&f, NIC, 0, 0x10, 4), 0xe0000000);
	cfg_wr(&f, FAKE, 0, 0x18, 4, 0xe0030007);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x18, 4), 0xe0030008);
	/* I/O BARs keep bit 0 set; bit 1 is reserved. */
	cfg_wr(&f, FAKE, 0, 0x10, 4, 0xd00e);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x10, 4), 0xd001);
	assert_int_equal(pio_err(&f, 0xd000), 0);
	/* Above the 64 Ki port space: kept as written, not decoded. */
	cfg_wr(&f, FAKE, 0, 0x10, 4, 0x01234567);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x10, 4), 0x01234561);
	assert_int_equal(pio_err(&f, 0x4560), -ENXIO);
	assert_int_equal(pio_err(&f, 0xd000), -ENXIO);
	/* Right at the top of the port space: 0xfff0..0xffff is fine. */
	cfg_wr(&f, FAKE, 0, 0x10, 4, 0xfff0);
	assert_int_equal(pio_err(&f, 0xfff0), 0);
	/* Address 0 means unassigned: not decoded. */
	cfg_wr(&f, FAKE, 0, 0x18, 4, 0);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x18, 4), 0x8);
	assert_int_equal(mmio_err(&f, 0xe0030000), -ENXIO);
	/* A byte write to BAR0's type byte changes nothing. */
	cfg_wr(&f, NIC, 0, 0x10, 1, 0xff);
	assert_int_equal(cfg_rd(&f, NIC, 0, 0x10, 4), 0xe0000000);
	pf_down(&f);
}

static void overlapping_bar_is_not_decoded(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	/* Onto the e1000's 128 KiB: refused, the e1000 keeps its range. */
	cfg_wr(&f, FAKE, 0, 0x18, 4, PF_NIC_MEM + 0x10000);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x18, 4),
			 (PF_NIC_MEM + 0x10000) | 0x8);
	assert_int_equal(mmio_err(&f, PF_FAKE_MEM), -ENXIO);
	pf_write(&f, AVM_SPACE_MMIO, PF_NIC_MEM + E1000_RDBAH, 4, 0x99);
	assert_int_equal(mmio_rd(&f, PF_NIC_MEM + E1000_RDBAH, 4), 0x99);
	/* Once the e1000 moves away, the fake's BAR decodes. */
	cfg_wr(&f, NIC, 0, 0x10, 4, 0xe0400000);
	assert_int_equal(mmio_rd(&f, PF_NIC_MEM + 0x10000 + FAKEPCI_ID, 4),
			 FAKEPCI_ID_VALUE);
	/* Onto guest RAM: refused as well. */
	cfg_wr(&f, FAKE, 0, 0x18, 4, 0x00100000);
	assert_int_equal(mmio_err(&f, PF_NIC_MEM + 0x10000), -ENXIO);
	assert_int_equal(f.ram[0x100000], 0);
	/* I/O onto the e1000's ports. */
	cfg_wr(&f, FAKE, 0, 0x10, 4, PF_NIC_IO + 0x10);
	assert_int_equal(pio_err(&f, PF_FAKE_IO), -ENXIO);
	pf_write(&f, AVM_SPACE_PIO, PF_NIC_IO, 4, E1000_RDBAH);
	assert_int_equal(pf_in(&f, PF_NIC_IO + 4, 4), 0x99);
	/* Onto the configuration ports themselves: they keep working. */
	cfg_wr(&f, FAKE, 0, 0x10, 4, 0xcf0);
	assert_int_equal(pio_err(&f, 0xcf0), -ENXIO);
	assert_int_equal(cfg_rd(&f, 0, 0, 0, 4), 0x12378086);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x10, 4), 0xcf1);
	pf_down(&f);
}

/* e1000 TX: a legacy descriptor at 0x10000 for a frame at 0x20000. */
static void nic_tx_setup(struct pcifix *f)
{
	uint8_t *d = f->ram + 0x10000;
	const uint64_t mem = PF_NIC_MEM;

	memset(d, 0, 16);
	d[0] = 0x00, d[1] = 0x00, d[2] = 0x02; /* buffer 0x20000 */
	d[8] = 60;
	d[11] = E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS;
	memset(f->ram + 0x20000, 0xff, 60);
	pf_write(f, AVM_SPACE_MMIO, mem + E1000_TDBAL, 4, 0x10000);
	pf_write(f, AVM_SPACE_MMIO, mem + E1000_TDBAH, 4, 0);
	pf_write(f, AVM_SPACE_MMIO, mem + E1000_TDLEN, 4, 128);
	pf_write(f, AVM_SPACE_MMIO, mem + E1000_TCTL, 4, E1000_TCTL_EN);
}

static void bus_master_gates_e1000_dma(void **unused)
{
	struct pcifix f;
	struct e1000 *nic;

	(void)unused;
	pf_up(&f);
	nic = avm_actor_state(f.rt, f.nic);
	nic_tx_setup(&f);
	/* Firmware leaves bus mastering off: the ring is not read. */
	pf_write(&f, AVM_SPACE_MMIO, PF_NIC_MEM + E1000_TDT, 4, 1);
	assert_int_equal(mmio_rd(&f, PF_NIC_MEM + E1000_TDH, 4), 0);
	assert_int_equal(f.ram[0x10000 + 12] & E1000_TXD_STAT_DD, 0);
	assert_int_equal(mmio_rd(&f, PF_NIC_MEM + E1000_TPT, 4), 0);
	assert_true(nic->dma_errors > 0);
	/* The driver turns bus mastering on and kicks the tail again. */
	cfg_wr(&f, NIC, 0, PCI_CFG_COMMAND, 2, 0x7);
	pf_write(&f, AVM_SPACE_MMIO, PF_NIC_MEM + E1000_TDT, 4, 1);
	assert_int_equal(mmio_rd(&f, PF_NIC_MEM + E1000_TDH, 4), 1);
	assert_int_equal(f.ram[0x10000 + 12] & E1000_TXD_STAT_DD,
			 E1000_TXD_STAT_DD);
	assert_int_equal(mmio_rd(&f, PF_NIC_MEM + E1000_TPT, 4), 1);
	pf_down(&f);
}

static uint32_t ram32(struct pcifix *f, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, f->ram + gpa, 4);
	return v;
}

static void fake_dma(struct pcifix *f, uint64_t gpa)
{
	pf_write(f, AVM_SPACE_MMIO, PF_FAKE_MEM + FAKEPCI_DMA_ADDR, 8, gpa);
	pf_write(f, AVM_SPACE_MMIO, PF_FAKE_MEM + FAKEPCI_DMA_GO, 8, 1);
}

static void bus_master_bit_toggles_dma(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	fake_dma(&f, 0x3000);
	assert_int_equal(
		(int64_t)mmio_rd(&f, PF_FAKE_MEM + FAKEPCI_DMA_STATUS, 8),
		-EPERM);
	assert_int_equal(ram32(&f, 0x3000), 0);
	cfg_wr(&f, FAKE, 0, PCI_CFG_COMMAND, 1, 0x7);
	fake_dma(&f, 0x3000);
	assert_int_equal(mmio_rd(&f, PF_FAKE_MEM + FAKEPCI_DMA_STATUS, 8), 0);
	assert_int_equal(ram32(&f, 0x3000), FAKEPCI_DMA_WORD);
	/* Off again (a byte write to the command's low byte). */
	cfg_wr(&f, FAKE, 0, PCI_CFG_COMMAND, 1, 0x3);
	fake_dma(&f, 0x3100);
	assert_int_equal(ram32(&f, 0x3100), 0);
	/* The e1000's bus mastering is its own. */
	cfg_wr(&f, NIC, 0, PCI_CFG_COMMAND, 2, 0x7);
	fake_dma(&f, 0x3200);
	assert_int_equal(ram32(&f, 0x3200), 0);
	pf_down(&f);
}

static void reset_returns_to_firmware_state(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	cfg_wr(&f, FAKE, 0, 0x18, 4, 0xe8000000);
	cfg_wr(&f, FAKE, 0, 0x10, 4, 0xd000);
	cfg_wr(&f, FAKE, 0, PCI_CFG_COMMAND, 2, 0x7);
	cfg_wr(&f, NIC, 0, PCI_CFG_COMMAND, 2, 0);
	cfg_wr(&f, FAKE, 0, PCI_CFG_INTERRUPT_LINE, 1, 3);
	assert_int_equal(avm_actor_reset(f.rt, f.host), 0);
	assert_true(avm_det_run(f.rt, 0) >= 0);
	/* CONFIG_ADDRESS is cleared. */
	assert_int_equal(pf_in(&f, 0xcf8, 4), 0);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x18, 4), PF_FAKE_MEM | 0x8);
	assert_int_equal(cfg_rd(&f, FAKE, 0, 0x10, 4), PF_FAKE_IO | 1);
	assert_int_equal(cfg_rd(&f, FAKE, 0, PCI_CFG_COMMAND, 2), 0x3);
	assert_int_equal(cfg_rd(&f, NIC, 0, PCI_CFG_COMMAND, 2), 0x3);
	assert_int_equal(cfg_rd(&f, FAKE, 0, PCI_CFG_INTERRUPT_LINE, 1), 10);
	assert_int_equal(mmio_rd(&f, PF_FAKE_MEM + FAKEPCI_ID, 4),
			 FAKEPCI_ID_VALUE);
	assert_int_equal(mmio_err(&f, 0xe8000000), -ENXIO);
	assert_int_equal(pio_err(&f, 0xd000), -ENXIO);
	assert_int_equal(pio_err(&f, PF_FAKE_IO), 0);
	assert_int_equal(mmio_err(&f, PF_NIC_MEM + E1000_STATUS), 0);
	/* Bus mastering is off again. */
	fake_dma(&f, 0x3000);
	assert_int_equal(ram32(&f, 0x3000), 0);
	pf_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bar_sizing),
		cmocka_unit_test(sizing_with_decode_on),
		cmocka_unit_test(relocation),
		cmocka_unit_test(swapping_two_bars),
		cmocka_unit_test(command_gates_decode),
		cmocka_unit_test(odd_bar_values),
		cmocka_unit_test(overlapping_bar_is_not_decoded),
		cmocka_unit_test(bus_master_gates_e1000_dma),
		cmocka_unit_test(bus_master_bit_toggles_dma),
		cmocka_unit_test(reset_returns_to_firmware_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
