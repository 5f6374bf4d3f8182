/* SPDX-License-Identifier: MIT */
/* Private to the e1000 actor: its state and the functions its files share. */
#ifndef E1000_PRIV_H
#define E1000_PRIV_H

#include <stddef.h>

#include "e1000.h"

/* Registers are stored flat up to the end of the wake-up block. */
#define E1000_REG_SPACE 0x5900
#define E1000_REG_WORDS (E1000_REG_SPACE / 4)

#define E1000_TX_BUF_SIZE   65536 /* the TX packet FIFO a packet is built in */
#define E1000_TX_HDR_MAX    256	  /* HDRLEN is 8 bits */
#define E1000_RX_MAX	    (AVM_MSG_MAX_PAYLOAD + 64) /* frame, padding, FCS */
#define E1000_DIRECT_STATUS 0
#define E1000_CONT_TX	    1

/* One TX offload context (context descriptor contents). */
struct e1000_tx_ctx {
	uint8_t ipcss, ipcso, tucss, tucso;
	uint16_t ipcse, tucse;
	uint32_t paylen;
	uint8_t tucmd, hdr_len;
	uint16_t mss;
};

/* A TX descriptor being worked on, decoded. */
struct e1000_tx_desc {
	uint64_t addr;
	uint32_t len;  /* buffer length (0 for a context descriptor) */
	uint8_t cmd;   /* legacy CMD or extended DCMD, same bit positions */
	uint8_t type;  /* 0 legacy, 1 context, 2 data */
	uint8_t popts; /* data: POPTS; legacy: CSS */
	uint8_t cso;   /* legacy only */
	uint16_t special;
	uint32_t done; /* buffer bytes consumed so far */
};

struct e1000_tx {
	struct e1000_tx_ctx ctx[2]; /* [0] checksum, [1] TSO */
	struct e1000_tx_ctx props;  /* context of the packet in progress */
	struct e1000_tx_desc cur;
	bool have_cur;
	bool in_pkt;
	bool tse; /* the packet is a TSO packet */
	bool bad; /* a DMA of the packet failed: drop it at EOP */
	bool vlan;
	uint8_t sum_needed; /* POPTS of the packet */
	uint16_t vlan_tci;
	uint32_t size;
	uint32_t frames; /* TSO segments sent */
	bool scheduled;	 /* a continuation is queued */
	bool stalled;	 /* descriptor fetch failed: wait for TDT */
	bool progress;	 /* descriptors done since the last TXQE */
	bool out_held;	 /* @out waits for its descriptor's write-back */
	struct avm_msg out;
	uint8_t ctx_raw[E1000_DESC_SIZE]; /* context descriptor being loaded */
	uint8_t hdr[E1000_TX_HDR_MAX];
	uint8_t data[E1000_TX_BUF_SIZE + 4];
};

struct e1000_eeprom {
	uint16_t words[E1000_EEPROM_WORDS];
	uint32_t pins; /* SK, CS, DI, FWE, REQ as last written */
	uint32_t val_in;
	uint32_t bits_in;
	uint32_t bit_out;
	bool reading;
};

struct e1000_phy {
	uint16_t regs[E1000_PHY_REGS];
	bool an_done;
	bool ls_latched_low; /* BMSR link bit reads 0 once after a drop */
};

/* The device: plain fields, touched only by the actor's thread. */
struct e1000 {
	struct e1000_config cfg;
	uint32_t regs[E1000_REG_WORDS];
	uint32_t ioaddr;
	struct e1000_eeprom ee;
	struct e1000_phy phy;
	bool carrier;	   /* the backend's cable */
	bool irq_level;	   /* INTA# as last sent */
	uint64_t itr_next; /* earliest time INTA# may rise again */
	bool itr_wait;	   /* ITR timer armed to raise it later */
	bool rdtr_armed, radv_armed, tidv_armed, tadv_armed;
	uint32_t status_pub; /* STATUS as last published */
	uint32_t epoch;	     /* bumped by resets: stale continuations */
	/* Device-internal counters, for tests and logs. */
	uint64_t dma_errors;
	uint64_t tx_dropped;
	uint64_t rx_dropped;
	uint8_t rx_buf[E1000_RX_MAX];
	struct e1000_tx tx;
};

/* Resets (e1000.c). */
enum e1000_reset_kind {
	E1000_RESET_SOFTWARE, /* CTRL.RST: the PHY stays */
	E1000_RESET_POWER_ON, /* creation, or the framework's reset */
};

void e1000_device_reset(struct e1000 *s, avm_ctx *ctx,
			enum e1000_reset_kind kind);

/* Register file (e1000_regs.c). */
static inline uint32_t *e1000_reg(struct e1000 *s, uint32_t off)
{
	return &s->regs[off / 4];
}

static inline uint32_t e1000_get(const struct e1000 *s, uint32_t off)
{
	return s->regs[off / 4];
}

/* A register's read and write handlers (its row in e1000_regs.c names
 * them); @off is the register's offset. */
typedef uint32_t e1000_reg_read_fn(struct e1000 *s, avm_ctx *ctx, uint32_t off);
typedef void e1000_reg_write_fn(struct e1000 *s, avm_ctx *ctx, uint32_t off,
				uint32_t v);

void e1000_regs_reset(struct e1000 *s);
uint32_t e1000_regs_read(struct e1000 *s, avm_ctx *ctx, uint32_t off);
void e1000_regs_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v);
void e1000_regs_write_part(struct e1000 *s, avm_ctx *ctx, uint32_t off,
			   uint32_t mask, uint32_t v);
void e1000_reg_store(struct e1000 *s, uint32_t off, uint32_t v);
void e1000_stat_inc(struct e1000 *s, uint32_t off);
void e1000_stat_add64(struct e1000 *s, uint32_t off_lo, uint64_t v);
void e1000_stat_size_bin(struct e1000 *s, uint32_t base, uint32_t len);

/* EEPROM (e1000_eeprom.c). */
void e1000_eeprom_init(struct e1000 *s);
void e1000_eeprom_reset(struct e1000 *s);
e1000_reg_read_fn e1000_eecd_read;
e1000_reg_write_fn e1000_eecd_write;
e1000_reg_write_fn e1000_eerd_write;
void e1000_load_mac(struct e1000 *s);

/* PHY and link (e1000_phy.c). */
void e1000_phy_reset(struct e1000 *s, avm_ctx *ctx);
e1000_reg_write_fn e1000_mdic_write;
void e1000_phy_autoneg_done(struct e1000 *s, avm_ctx *ctx);
void e1000_set_carrier(struct e1000 *s, avm_ctx *ctx, bool up);
bool e1000_link_up(const struct e1000 *s);
bool e1000_loopback(const struct e1000 *s);
void e1000_link_changed(struct e1000 *s, avm_ctx *ctx, bool was_up);
uint32_t e1000_status(const struct e1000 *s);

/* Interrupts and moderation (e1000_irq.c). */
void e1000_irq_update(struct e1000 *s, avm_ctx *ctx);
void e1000_irq_raise(struct e1000 *s, avm_ctx *ctx, uint32_t causes);
e1000_reg_read_fn e1000_icr_read;
e1000_reg_write_fn e1000_icr_write;
e1000_reg_write_fn e1000_ics_write;
e1000_reg_write_fn e1000_ims_write;
e1000_reg_write_fn e1000_imc_write;
e1000_reg_write_fn e1000_itr_write;
void e1000_irq_timer(struct e1000 *s, avm_ctx *ctx, unsigned id);
void e1000_rx_irq(struct e1000 *s, avm_ctx *ctx);
void e1000_tx_irq(struct e1000 *s, avm_ctx *ctx, bool delayed);
void e1000_delay_flush(struct e1000 *s, avm_ctx *ctx, uint32_t off);
void e1000_irq_cancel_all(struct e1000 *s, avm_ctx *ctx);

/* TX (e1000_tx.c) and its offloads (e1000_offload.c). */
void e1000_tx_doorbell(struct e1000 *s, avm_ctx *ctx);
void e1000_tx_chunk(struct e1000 *s, avm_ctx *ctx);
void e1000_tx_reset(struct e1000 *s);
void e1000_tx_segment(struct e1000 *s, avm_ctx *ctx);
void e1000_tx_flush(struct e1000 *s, avm_ctx *ctx);
void e1000_put_csum(uint8_t *data, uint32_t n, uint32_t sloc, uint32_t css,
		    uint32_t cse);

/* RX (e1000_rx.c). */
void e1000_rx_frame(struct e1000 *s, avm_ctx *ctx, const struct avm_msg *m);
uint32_t e1000_crc32(const uint8_t *p, size_t n);

/* Shared helpers. */
static inline uint16_t e1000_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t e1000_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t e1000_le64(const uint8_t *p)
{
	return (uint64_t)e1000_le32(p) | (uint64_t)e1000_le32(p + 4) << 32;
}

static inline void e1000_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline uint16_t e1000_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void e1000_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ring geometry: descriptors in the ring, 0 if it is unusable. */
static inline uint32_t e1000_ring_size(const struct e1000 *s, uint32_t len_reg)
{
	return e1000_get(s, len_reg) / E1000_DESC_SIZE;
}

static inline uint64_t e1000_ring_base(const struct e1000 *s, uint32_t bal)
{
	return (uint64_t)e1000_get(s, bal + 4) << 32 | e1000_get(s, bal);
}

#endif /* E1000_PRIV_H */
