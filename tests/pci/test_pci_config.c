/* SPDX-License-Identifier: MIT */
/* PCI host: configuration mechanism #1, enumeration, header registers,
 * the firmware-style initial state, INTx routing, bad configurations. */
#include "pci_fixture.h"

static void host_bridge_is_an_i440fx(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	assert_int_equal(cfg_rd(&f, 0, 0, 0x00, 4), 0x12378086);
	assert_int_equal(cfg_rd(&f, 0, 0, 0x08, 4), 0x06000002);
	assert_int_equal(cfg_rd(&f, 0, 0, PCI_CFG_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_rd(&f, 0, 0, PCI_CFG_BAR0, 4), 0);
	assert_int_equal(cfg_rd(&f, 0, 0, PCI_CFG_INTERRUPT_PIN, 1), 0);
	/* The bridge decodes nothing of its own: writes are harmless. */
	cfg_wr(&f, 0, 0, PCI_CFG_BAR0, 4, 0xffffffff);
	assert_int_equal(cfg_rd(&f, 0, 0, PCI_CFG_BAR0, 4), 0);
	cfg_wr(&f, 0, 0, PCI_CFG_VENDOR_ID, 4, 0);
	assert_int_equal(cfg_rd(&f, 0, 0, 0x00, 4), 0x12378086);
	pf_down(&f);
}

static void e1000_header_as_on_qemu(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0x00, 4), 0x100e8086);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0x08, 4), 0x02000003);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0x2c, 4), 0x001e8086);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, PCI_CFG_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, PCI_CFG_INTERRUPT_PIN, 1),
			 1);
	/* Unimplemented registers read 0 (cache line, ROM, capabilities). */
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0x0c, 4), 0);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, PCI_CFG_ROM, 4), 0);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0x34, 4), 0);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0xfc, 4), 0);
	pf_down(&f);
}

static void absent_functions_read_all_ones(void **unused)
{
	static const unsigned slots[] = { 1, 2, 4, 6, 31 };
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	for (unsigned i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		assert_int_equal(cfg_rd(&f, slots[i], 0, 0, 4), 0xffffffff);
		assert_int_equal(cfg_rd(&f, slots[i], 0, 2, 2), 0xffff);
		assert_int_equal(cfg_rd(&f, slots[i], 0, 0x3d, 1), 0xff);
		/* Writes to nothing are ignored (and do not crash). */
		cfg_wr(&f, slots[i], 0, PCI_CFG_BAR0, 4, 0xe0000000);
	}
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 1, 0, 4), 0xffffffff);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 7, 0, 4), 0xffffffff);
	/* Bus 1 does not exist. */
	pf_write(&f, AVM_SPACE_PIO, 0xcf8, 4,
		 PCI_CONFIG_ADDR(PF_NIC_SLOT, 0, 0) | 1u << 16);
	assert_int_equal(pf_in(&f, 0xcfc, 4), 0xffffffff);
	/* The e1000 at slot 3 was not disturbed by the writes. */
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, PCI_CFG_BAR0, 4),
			 PF_NIC_MEM);
	pf_down(&f);
}

static void config_address_latch(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	pf_write(&f, AVM_SPACE_PIO, 0xcf8, 4, 0xffffffff);
	/* Reserved bits 30:24 and 1:0 read 0. */
	assert_int_equal(pf_in(&f, 0xcf8, 4), 0x80fffffc);
	pf_write(&f, AVM_SPACE_PIO, 0xcf8, 4, PCI_CONFIG_ADDR(0, 0, 0));
	/* Byte and word accesses to 0xCF8..0xCFB do not touch the latch. */
	pf_write(&f, AVM_SPACE_PIO, 0xcf8, 1, 0x55);
	pf_write(&f, AVM_SPACE_PIO, 0xcf9, 1, 0x06); /* PIIX reset: no */
	pf_write(&f, AVM_SPACE_PIO, 0xcfa, 2, 0x1234);
	assert_int_equal(pf_in(&f, 0xcf8, 4), PCI_CONFIG_ADDR(0, 0, 0));
	assert_int_equal(pf_in(&f, 0xcf9, 1), 0xff);
	assert_int_equal(pf_in(&f, 0xcf8, 2), 0xffff);
	assert_int_equal(pf_in(&f, 0xcfc, 4), 0x12378086);
	/* Enable bit clear: configuration space is not accessed. */
	pf_write(&f, AVM_SPACE_PIO, 0xcf8, 4, 0);
	assert_int_equal(pf_in(&f, 0xcfc, 4), 0xffffffff);
	pf_down(&f);
}

static void byte_and_word_lanes(void **unused)
{
	struct pcifix f;
	unsigned s = PF_NIC_SLOT;
	uint64_t v;

	(void)unused;
	pf_up(&f);
	assert_int_equal(cfg_rd(&f, s, 0, 0x00, 1), 0x86);
	assert_int_equal(cfg_rd(&f, s, 0, 0x01, 1), 0x80);
	assert_int_equal(cfg_rd(&f, s, 0, 0x02, 1), 0x0e);
	assert_int_equal(cfg_rd(&f, s, 0, 0x03, 1), 0x10);
	assert_int_equal(cfg_rd(&f, s, 0, 0x02, 2), 0x100e);
	assert_int_equal(cfg_rd(&f, s, 0, 0x0b, 1), 0x02); /* base class */
	assert_int_equal(cfg_rd(&f, s, 0, 0x0a, 2), 0x0200);
	assert_int_equal(cfg_rd(&f, s, 0, 0x12, 2), PF_NIC_MEM >> 16);
	/* Register bits 1:0 of CONFIG_ADDRESS are ignored: the lane is the
	 * port (0xCFC + n), not the latched offset. */
	pf_write(&f, AVM_SPACE_PIO, 0xcf8, 4, PCI_CONFIG_ADDR(s, 0, 0) | 3);
	assert_int_equal(pf_in(&f, 0xcfc, 1), 0x86);
	assert_int_equal(pf_in(&f, 0xcfd, 1), 0x80);
	/* A misaligned word (0xCFD) or a dword off 0xCFC is not a config
	 * cycle: all ones. */
	assert_int_equal(pf_in(&f, 0xcfd, 2), 0xffff);
	/* One running past 0xCFF is refused by the address map itself. */
	assert_int_equal(pf_read(&f, AVM_SPACE_PIO, 0xcfe, 4, &v), -ENXIO);
	/* A byte write lands on its lane only. */
	cfg_wr(&f, s, 0, PCI_CFG_INTERRUPT_LINE, 1, 0x05);
	assert_int_equal(cfg_rd(&f, s, 0, 0x3c, 4), 0x0105);
	pf_down(&f);
}

static void command_and_status(void **unused)
{
	struct pcifix f;
	unsigned s = PF_NIC_SLOT;

	(void)unused;
	pf_up(&f);
	/* Firmware: IO | MEM, no bus mastering. */
	assert_int_equal(cfg_rd(&f, s, 0, PCI_CFG_COMMAND, 2), 0x0003);
	assert_int_equal(cfg_rd(&f, 0, 0, PCI_CFG_COMMAND, 2), 0x0003);
	/* Only IO, MEM and bus master are implemented. */
	cfg_wr(&f, s, 0, PCI_CFG_COMMAND, 2, 0xffff);
	assert_int_equal(cfg_rd(&f, s, 0, PCI_CFG_COMMAND, 2), 0x0007);
	/* Status: nothing to report, and write-1-to-clear cannot set bits. */
	cfg_wr(&f, s, 0, PCI_CFG_COMMAND, 4, 0xffff0003);
	assert_int_equal(cfg_rd(&f, s, 0, PCI_CFG_COMMAND, 4), 0x00000003);
	/* A byte write to the status half leaves the command alone. */
	cfg_wr(&f, s, 0, PCI_CFG_STATUS + 1, 1, 0xff);
	assert_int_equal(cfg_rd(&f, s, 0, PCI_CFG_COMMAND, 4), 0x00000003);
	pf_down(&f);
}

static void interrupt_pin_and_line(void **unused)
{
	struct pcifix f;
	unsigned s = PF_NIC_SLOT;

	(void)unused;
	pf_up(&f);
	/* Firmware routing: slot 3 INTA -> PIRQC -> 11; slot 5 INTB -> 10. */
	assert_int_equal(cfg_rd(&f, s, 0, 0x3c, 4), 0x010b);
	assert_int_equal(cfg_rd(&f, PF_FAKE_SLOT, 0, 0x3c, 4), 0x020a);
	/* The line is R/W, the pin and Min_Gnt/Max_Lat are read-only. */
	cfg_wr(&f, s, 0, 0x3c, 4, 0xffffffff);
	assert_int_equal(cfg_rd(&f, s, 0, 0x3c, 4), 0x01ff);
	cfg_wr(&f, s, 0, PCI_CFG_INTERRUPT_PIN, 1, 4);
	assert_int_equal(cfg_rd(&f, s, 0, PCI_CFG_INTERRUPT_PIN, 1), 1);
	pf_down(&f);
}

static void intx_routing_table(void **unused)
{
	/* SeaBIOS pci_slot_get_irq(): pci_irqs[(pin - 1 + slot - 1) & 3]. */
	static const unsigned want[4][4] = {
		/* INTA INTB INTC INTD */
		{ 10, 10, 11, 11 }, /* slot 1 */
		{ 10, 11, 11, 10 }, /* slot 2 */
		{ 11, 11, 10, 10 }, /* slot 3 */
		{ 11, 10, 10, 11 }, /* slot 4 */
	};

	(void)unused;
	for (unsigned slot = 1; slot <= 4; slot++)
		for (unsigned pin = 1; pin <= 4; pin++)
			assert_int_equal(pci_intx_irq(slot, pin),
					 want[slot - 1][pin - 1]);
	assert_int_equal(pci_intx_irq(5, 1), pci_intx_irq(1, 1));
	assert_int_equal(pci_intx_irq(31, 2), pci_intx_irq(3, 2));
	assert_int_equal(pci_intx_irq(3, 0), 0);
	assert_int_equal(pci_intx_irq(3, 5), 0);
	assert_int_equal(pci_intx_irq(3, 0xffffffff), 0);
}

static void initial_assignment(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_up(&f);
	/* Largest first, naturally aligned: 128 KiB, then 64 KiB. */
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0x10, 4), PF_NIC_MEM);
	assert_int_equal(cfg_rd(&f, PF_FAKE_SLOT, 0, 0x18, 4),
			 PF_FAKE_MEM | 0x8);
	/* I/O: 64 ports, then 16, from 0xC000; bit 0 says I/O. */
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0x14, 4), PF_NIC_IO | 1);
	assert_int_equal(cfg_rd(&f, PF_FAKE_SLOT, 0, 0x10, 4), PF_FAKE_IO | 1);
	/* Unused BARs read 0. */
	assert_int_equal(cfg_rd(&f, PF_FAKE_SLOT, 0, 0x14, 4), 0);
	for (unsigned r = 0x18; r <= 0x24; r += 4)
		assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, r, 4), 0);
	/* And the regions decode there. */
	assert_int_equal(mmio_rd(&f, PF_FAKE_MEM + FAKEPCI_ID, 4),
			 FAKEPCI_ID_VALUE);
	pf_write(&f, AVM_SPACE_MMIO, PF_NIC_MEM + E1000_RDBAH, 4, 0x1234);
	assert_int_equal(mmio_rd(&f, PF_NIC_MEM + E1000_RDBAH, 4), 0x1234);
	pf_write(&f, AVM_SPACE_PIO, PF_FAKE_IO, 1, 0x5a);
	assert_int_equal(pf_in(&f, PF_FAKE_IO, 1), 0x5a);
	/* e1000 I/O BAR: IOADDR/IODATA reach the registers. */
	pf_write(&f, AVM_SPACE_PIO, PF_NIC_IO, 4, E1000_RDBAH);
	assert_int_equal(pf_in(&f, PF_NIC_IO + 4, 4), 0x1234);
	pf_down(&f);
}

static void window_too_small_leaves_bar_unassigned(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_create(&f);
	f.cfg.mem_base = 0xd0000000;
	f.cfg.mem_limit = 0xd0010000; /* room for the 64 KiB BAR only */
	f.cfg.io_base = 0x1000;
	assert_int_equal(pf_try_start(&f), 0);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0x10, 4), 0);
	assert_int_equal(cfg_rd(&f, PF_FAKE_SLOT, 0, 0x18, 4),
			 0xd0000000 | 0x8);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0x14, 4), 0x1001);
	assert_int_equal(mmio_rd(&f, 0xd0000000 + FAKEPCI_ID, 4),
			 FAKEPCI_ID_VALUE);
	assert_int_equal(mmio_err(&f, 0), -ENXIO);
	pf_down(&f);
}

static void multi_function_slot(void **unused)
{
	struct pcifix f;
	struct avm_actor_spec fake2 = { .ops = &fakepci_ops, .name = "fake2" };
	avm_actor_id id;

	(void)unused;
	pf_create(&f);
	assert_int_equal(avm_actor_create(f.rt, &fake2, &id), 0);
	f.fns[2] = (struct pci_host_function){ .actor = id,
					       .ops = &fakepci_ops,
					       .slot = PF_FAKE_SLOT,
					       .function = 1 };
	f.cfg.n_functions = 3;
	assert_int_equal(pf_try_start(&f), 0);
	assert_int_equal(cfg_rd(&f, PF_FAKE_SLOT, 0, PCI_CFG_HEADER_TYPE, 1),
			 0x80);
	assert_int_equal(cfg_rd(&f, PF_FAKE_SLOT, 1, 0, 4), 0xfa4e1234);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, PCI_CFG_HEADER_TYPE, 1), 0);
	/* Two 64 KiB BARs after the 128 KiB one, in function order. */
	assert_int_equal(cfg_rd(&f, PF_FAKE_SLOT, 1, 0x18, 4),
			 (PF_FAKE_MEM + 0x10000) | 0x8);
	pf_down(&f);
}

/* Regions a PCI BAR cannot describe. */
static const struct avm_region_desc odd_regions[] = {
	{ .name = "odd", .space = AVM_SPACE_MMIO, .size = 3000 },
	{ .name = "io", .space = AVM_SPACE_PIO, .size = 8 },
	{ .name = "bigio", .space = AVM_SPACE_PIO, .size = 512 },
};

static void odd_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	(void)state;
	if (m->kind == AVM_MSG_READ)
		avm_reply(ctx, 0);
}

#define ODD_OPS(name, reg, fl)                                                 \
	static const struct avm_pci_info name##_pci = {                        \
		.vendor_id = 0x1234,                                           \
		.bars = { { .region = (reg), .flags = (fl) } }                 \
	};                                                                     \
	static const struct avm_device_ops name##_ops = { .type = #name,       \
							  .regions =           \
								  odd_regions, \
							  .n_regions = 3,      \
							  .handle =            \
								  odd_handle,  \
							  .pci = &name##_pci }

ODD_OPS(npot, 0, AVM_PCI_BAR_MEM);
ODD_OPS(wrongspace, 1, AVM_PCI_BAR_MEM);
ODD_OPS(bothkinds, 1, AVM_PCI_BAR_MEM | AVM_PCI_BAR_IO);
ODD_OPS(noregion, 7, AVM_PCI_BAR_IO);
ODD_OPS(toobigio, 2, AVM_PCI_BAR_IO);
/* The host used to accept these two: its rules are now the framework's. */
ODD_OPS(prefetchio, 1, AVM_PCI_BAR_IO | AVM_PCI_BAR_PREFETCH);
ODD_OPS(unknownflag, 1, AVM_PCI_BAR_IO | 0x40);

static const struct avm_pci_info badvendor_pci = { .vendor_id = 0xffff };
static const struct avm_pci_info badpin_pci = { .vendor_id = 1,
						.interrupt_pin = 5 };
static const struct avm_pci_info badclass_pci = { .vendor_id = 1,
						  .class_code = 0x1000000 };
static const struct avm_device_ops nopci_ops = { .type = "nopci",
						 .handle = odd_handle };
static const struct avm_device_ops badvendor_ops = { .type = "badvendor",
						     .handle = odd_handle,
						     .pci = &badvendor_pci };
static const struct avm_device_ops badpin_ops = { .type = "badpin",
						  .handle = odd_handle,
						  .pci = &badpin_pci };
static const struct avm_device_ops badclass_ops = { .type = "badclass",
						    .handle = odd_handle,
						    .pci = &badclass_pci };

/* A bad configuration: init fails with -EINVAL, nothing crashes. */
static void start_fails(const struct pci_host_function *extra, unsigned slot,
			unsigned fn, struct pci_host_config *windows)
{
	struct pcifix f;

	pf_create(&f);
	if (extra)
		f.fns[2] = *extra;
	else
		f.fns[2] = (struct pci_host_function){ .actor = f.fake,
						       .ops = &fakepci_ops };
	f.fns[2].slot = slot;
	f.fns[2].function = fn;
	f.cfg.n_functions = 3;
	if (windows) {
		f.cfg.mem_base = windows->mem_base;
		f.cfg.mem_limit = windows->mem_limit;
		f.cfg.io_base = windows->io_base;
		f.cfg.io_limit = windows->io_limit;
		f.cfg.n_functions = 2;
	}
	assert_int_equal(pf_try_start(&f), -EINVAL);
	pf_down(&f);
}

static void bad_configurations(void **unused)
{
	const struct avm_device_ops *bad[] = {
		&npot_ops,	  &wrongspace_ops, &bothkinds_ops,
		&noregion_ops,	  &toobigio_ops,   &prefetchio_ops,
		&unknownflag_ops, &nopci_ops,	   &badvendor_ops,
		&badpin_ops,	  &badclass_ops,   NULL
	};
	struct pci_host_config w[] = {
		{ .mem_base = 0xf0000000, .mem_limit = 0xe0000000 },
		{ .mem_limit = 0x100001000ull },
		{ .io_base = 0x2000, .io_limit = 0x1000 },
		{ .io_limit = 0x20000 },
	};

	(void)unused;
	start_fails(NULL, 0, 0, NULL);		 /* the bridge's slot */
	start_fails(NULL, 32, 0, NULL);		 /* no such slot */
	start_fails(NULL, 7, 8, NULL);		 /* no such function */
	start_fails(NULL, PF_NIC_SLOT, 0, NULL); /* duplicate */
	start_fails(NULL, 9, 1, NULL);		 /* no function 0 */
	for (unsigned i = 0; bad[i]; i++) {
		struct pci_host_function hf = { .actor = 0, .ops = bad[i] };

		start_fails(&hf, 9, 0, NULL);
	}
	for (unsigned i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		start_fails(NULL, 9, 0, &w[i]);
	/* An actor id that does not exist. */
	start_fails(
		&(struct pci_host_function){ .actor = 99, .ops = &fakepci_ops },
		9, 0, NULL);
}

static void too_many_functions(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_create(&f);
	f.cfg.n_functions = PCI_HOST_MAX_FUNCTIONS + 1;
	assert_int_equal(pf_try_start(&f), -EINVAL);
	pf_down(&f);
	pf_create(&f);
	f.cfg.functions = NULL;
	assert_int_equal(pf_try_start(&f), -EINVAL);
	pf_down(&f);
}

static void no_functions_only_the_bridge(void **unused)
{
	struct pcifix f;

	(void)unused;
	pf_create(&f);
	f.cfg = (struct pci_host_config){ 0 };
	assert_int_equal(pf_try_start(&f), 0);
	assert_int_equal(cfg_rd(&f, 0, 0, 0, 4), 0x12378086);
	assert_int_equal(cfg_rd(&f, PF_NIC_SLOT, 0, 0, 4), 0xffffffff);
	assert_int_equal(mmio_err(&f, PF_NIC_MEM), -ENXIO);
	pf_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_bridge_is_an_i440fx),
		cmocka_unit_test(e1000_header_as_on_qemu),
		cmocka_unit_test(absent_functions_read_all_ones),
		cmocka_unit_test(config_address_latch),
		cmocka_unit_test(byte_and_word_lanes),
		cmocka_unit_test(command_and_status),
		cmocka_unit_test(interrupt_pin_and_line),
		cmocka_unit_test(intx_routing_table),
		cmocka_unit_test(initial_assignment),
		cmocka_unit_test(window_too_small_leaves_bar_unassigned),
		cmocka_unit_test(multi_function_slot),
		cmocka_unit_test(bad_configurations),
		cmocka_unit_test(too_many_functions),
		cmocka_unit_test(no_functions_only_the_bridge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
