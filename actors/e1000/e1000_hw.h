/* SPDX-License-Identifier: MIT */
/*
 * Intel 82540EM hardware constants: register offsets, bit fields and
 * descriptor layouts, as the Intel 8254x Software Developer's Manual names
 * them. Shared by the device model and by its tests (and guests).
 */
#ifndef E1000_HW_H
#define E1000_HW_H

/* PCI identity. */
#define E1000_VENDOR_ID 0x8086
#define E1000_DEVICE_ID 0x100e

/* Region sizes: BAR0 (MMIO) and the I/O BAR (IOADDR/IODATA window). */
#define E1000_MMIO_SIZE 0x20000
#define E1000_IO_SIZE	0x40
#define E1000_IOADDR	0x00
#define E1000_IODATA	0x04

/* Register offsets in BAR0. */
enum e1000_reg {
	E1000_CTRL = 0x0000,
	E1000_STATUS = 0x0008,
	E1000_EECD = 0x0010,
	E1000_EERD = 0x0014,
	E1000_CTRL_EXT = 0x0018,
	E1000_MDIC = 0x0020,
	E1000_FCAL = 0x0028,
	E1000_FCAH = 0x002c,
	E1000_FCT = 0x0030,
	E1000_VET = 0x0038,
	E1000_ICR = 0x00c0,
	E1000_ITR = 0x00c4,
	E1000_ICS = 0x00c8,
	E1000_IMS = 0x00d0,
	E1000_IMC = 0x00d8,
	E1000_RCTL = 0x0100,
	E1000_FCTTV = 0x0170,
	E1000_TXCW = 0x0178,
	E1000_RXCW = 0x0180,
	E1000_TCTL = 0x0400,
	E1000_TIPG = 0x0410,
	E1000_AIT = 0x0458,
	E1000_LEDCTL = 0x0e00,
	E1000_PBA = 0x1000,
	E1000_FCRTL = 0x2160,
	E1000_FCRTH = 0x2168,
	E1000_RDBAL = 0x2800,
	E1000_RDBAH = 0x2804,
	E1000_RDLEN = 0x2808,
	E1000_RDH = 0x2810,
	E1000_RDT = 0x2818,
	E1000_RDTR = 0x2820,
	E1000_RXDCTL = 0x2828,
	E1000_RADV = 0x282c,
	E1000_RSRPD = 0x2c00,
	E1000_TDBAL = 0x3800,
	E1000_TDBAH = 0x3804,
	E1000_TDLEN = 0x3808,
	E1000_TDH = 0x3810,
	E1000_TDT = 0x3818,
	E1000_TIDV = 0x3820,
	E1000_TXDCTL = 0x3828,
	E1000_TADV = 0x382c,
	E1000_TSPMT = 0x3830,
	E1000_STATS = 0x4000, /* first statistics register */
	E1000_STATS_END = 0x4100,
	E1000_RXCSUM = 0x5000,
	E1000_MTA = 0x5200, /* 128 registers */
	E1000_RA = 0x5400,  /* 16 x (RAL, RAH) */
	E1000_VFTA = 0x5600,
	E1000_WUC = 0x5800,
	E1000_WUFC = 0x5808,
	E1000_WUS = 0x5810,
	E1000_MANC = 0x5820,
};

/* Statistics registers (all read-to-clear). */
enum e1000_stat {
	E1000_CRCERRS = 0x4000,
	E1000_MPC = 0x4010,
	E1000_GPRC = 0x4074,
	E1000_BPRC = 0x4078,
	E1000_MPRC = 0x407c,
	E1000_GPTC = 0x4080,
	E1000_GORCL = 0x4088,
	E1000_GORCH = 0x408c,
	E1000_GOTCL = 0x4090,
	E1000_GOTCH = 0x4094,
	E1000_RNBC = 0x40a0,
	E1000_RUC = 0x40a4,
	E1000_ROC = 0x40ac,
	E1000_TORL = 0x40c0,
	E1000_TORH = 0x40c4,
	E1000_TOTL = 0x40c8,
	E1000_TOTH = 0x40cc,
	E1000_TPR = 0x40d0,
	E1000_TPT = 0x40d4,
	E1000_PTC64 = 0x40d8,
	E1000_MPTC = 0x40f0,
	E1000_BPTC = 0x40f4,
	E1000_TSCTC = 0x40f8,
	E1000_TSCTFC = 0x40fc,
	E1000_PRC64 = 0x405c,
};

#define E1000_MTA_COUNT 128
#define E1000_RA_COUNT	16
#define E1000_RAL(n)	(E1000_RA + 8 * (n))
#define E1000_RAH(n)	(E1000_RA + 8 * (n) + 4)

/* CTRL */
#define E1000_CTRL_FD	   0x00000001u
#define E1000_CTRL_SLU	   0x00000040u
#define E1000_CTRL_SPD1000 0x00000200u
#define E1000_CTRL_RST	   0x04000000u
#define E1000_CTRL_VME	   0x40000000u
#define E1000_CTRL_PHY_RST 0x80000000u

/* STATUS */
#define E1000_STATUS_FD	     0x00000001u
#define E1000_STATUS_LU	     0x00000002u
#define E1000_STATUS_TBIMODE 0x00000020u
#define E1000_STATUS_SPD1000 0x00000080u

/* CTRL_EXT */
#define E1000_CTRL_EXT_EE_RST 0x00002000u

/* EECD: Microwire pins and the software/hardware arbitration. */
#define E1000_EECD_SK	0x00000001u
#define E1000_EECD_CS	0x00000002u
#define E1000_EECD_DI	0x00000004u
#define E1000_EECD_DO	0x00000008u
#define E1000_EECD_FWE	0x00000030u
#define E1000_EECD_REQ	0x00000040u
#define E1000_EECD_GNT	0x00000080u
#define E1000_EECD_PRES 0x00000100u
#define E1000_EECD_SIZE 0x00000200u

/* EERD, 82540 layout (bit 4 DONE, address in bits 15:8). */
#define E1000_EERD_START      0x00000001u
#define E1000_EERD_DONE	      0x00000010u
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16

#define E1000_EEPROM_WORDS    64
#define E1000_EEPROM_CHECKSUM 0xbaba
#define E1000_EEPROM_READ_OP  0x6 /* Microwire READ: start bit + 10 */

/* MDIC */
#define E1000_MDIC_DATA_MASK 0x0000ffffu
#define E1000_MDIC_REG_SHIFT 16
#define E1000_MDIC_PHY_SHIFT 21
#define E1000_MDIC_OP_WRITE  0x04000000u
#define E1000_MDIC_OP_READ   0x08000000u
#define E1000_MDIC_READY     0x10000000u
#define E1000_MDIC_INT_EN    0x20000000u
#define E1000_MDIC_ERROR     0x40000000u
#define E1000_PHY_ADDR	     1
#define E1000_MDIC(op, reg)                                                    \
	((op) | ((uint32_t)(reg) << E1000_MDIC_REG_SHIFT) |                    \
	 ((uint32_t)E1000_PHY_ADDR << E1000_MDIC_PHY_SHIFT))

/* PHY registers (M88E1011 behind MDIO address 1). */
enum e1000_phy_reg {
	E1000_PHY_CTRL = 0x00,
	E1000_PHY_STATUS = 0x01,
	E1000_PHY_ID1 = 0x02,
	E1000_PHY_ID2 = 0x03,
	E1000_PHY_ANAR = 0x04,
	E1000_PHY_ANLPAR = 0x05,
	E1000_PHY_ANER = 0x06,
	E1000_PHY_NPTX = 0x07,
	E1000_PHY_LPNP = 0x08,
	E1000_PHY_1000T_CTRL = 0x09,
	E1000_PHY_1000T_STATUS = 0x0a,
	E1000_PHY_EXT_STATUS = 0x0f,
	E1000_PHY_M88_PSCR = 0x10,
	E1000_PHY_M88_PSSR = 0x11,
	E1000_PHY_M88_EPSCR = 0x14,
	E1000_PHY_M88_RXERR = 0x15,
	E1000_PHY_REGS = 0x20,
};

#define E1000_PHY_CTRL_RESET	 0x8000u
#define E1000_PHY_CTRL_LOOPBACK	 0x4000u
#define E1000_PHY_CTRL_ANEN	 0x1000u
#define E1000_PHY_CTRL_PDOWN	 0x0800u
#define E1000_PHY_CTRL_ANRESTART 0x0200u
#define E1000_PHY_STATUS_LINK	 0x0004u
#define E1000_PHY_STATUS_ANCOMP	 0x0020u
#define E1000_PHY_ANLPAR_ACK	 0x4000u
#define E1000_PHY_PSSR_LINK	 0x0400u
#define E1000_PHY_PSSR_RESOLVED	 0x0800u
#define E1000_PHY_ID		 0x01410c20u /* M88E1011_I_PHY_ID */

/* Interrupt causes (ICR, ICS, IMS, IMC). */
#define E1000_ICR_TXDW	 0x00000001u
#define E1000_ICR_TXQE	 0x00000002u
#define E1000_ICR_LSC	 0x00000004u
#define E1000_ICR_RXSEQ	 0x00000008u
#define E1000_ICR_RXDMT0 0x00000010u
#define E1000_ICR_RXO	 0x00000040u
#define E1000_ICR_RXT0	 0x00000080u
#define E1000_ICR_MDAC	 0x00000200u
#define E1000_ICR_MASK	 0x0001ffffu /* causes that exist on the 82540 */

/* RCTL */
#define E1000_RCTL_EN	    0x00000002u
#define E1000_RCTL_SBP	    0x00000004u
#define E1000_RCTL_UPE	    0x00000008u
#define E1000_RCTL_MPE	    0x00000010u
#define E1000_RCTL_LPE	    0x00000020u
#define E1000_RCTL_LBM_MAC  0x00000040u
#define E1000_RCTL_LBM_MASK 0x000000c0u
#define E1000_RCTL_RDMTS_SH 8
#define E1000_RCTL_MO_SHIFT 12
#define E1000_RCTL_BAM	    0x00008000u
#define E1000_RCTL_BSIZE_SH 16
#define E1000_RCTL_VFE	    0x00040000u
#define E1000_RCTL_CFIEN    0x00080000u
#define E1000_RCTL_CFI	    0x00100000u
#define E1000_RCTL_BSEX	    0x02000000u
#define E1000_RCTL_SECRC    0x04000000u

/* TCTL */
#define E1000_TCTL_EN  0x00000002u
#define E1000_TCTL_PSP 0x00000008u

/* RAH */
#define E1000_RAH_AV 0x80000000u

/* Delay timers: FPD flushes a pending delayed interrupt. */
#define E1000_DELAY_FPD	 0x80000000u
#define E1000_DELAY_UNIT 1024 /* ns per RDTR/RADV/TIDV/TADV unit */
#define E1000_ITR_UNIT	 256  /* ns per ITR unit */

/* Descriptors: 16 bytes, little-endian. */
#define E1000_DESC_SIZE 16

/* RX descriptor status and error bits. */
#define E1000_RXD_STAT_DD   0x01u
#define E1000_RXD_STAT_EOP  0x02u
#define E1000_RXD_STAT_IXSM 0x04u
#define E1000_RXD_STAT_VP   0x08u

/* TX legacy command byte (byte 11) and status (byte 12). */
#define E1000_TXD_CMD_EOP  0x01u
#define E1000_TXD_CMD_IFCS 0x02u
#define E1000_TXD_CMD_IC   0x04u
#define E1000_TXD_CMD_RS   0x08u
#define E1000_TXD_CMD_RPS  0x10u
#define E1000_TXD_CMD_DEXT 0x20u
#define E1000_TXD_CMD_VLE  0x40u
#define E1000_TXD_CMD_IDE  0x80u
#define E1000_TXD_CMD_TSE  0x04u /* in a context/data descriptor's DCMD */
#define E1000_TXD_STAT_DD  0x01u

/* Extended descriptors: DTYP in bits 23:20 of the length dword. */
#define E1000_TXD_DTYP_CTX   0x0u
#define E1000_TXD_DTYP_DATA  0x1u
#define E1000_TXD_TUCMD_TCP  0x01u /* context TUCMD (byte 11) */
#define E1000_TXD_TUCMD_IP   0x02u
#define E1000_TXD_POPTS_IXSM 0x01u /* data POPTS (byte 13) */
#define E1000_TXD_POPTS_TXSM 0x02u

#endif /* E1000_HW_H */
