/* SPDX-License-Identifier: MIT */
/*
 * The 64-word Microwire EEPROM: bit-banged through EECD (with the REQ/GNT
 * arbitration of the 82540) or read a word at a time through EERD.
 */
#include <string.h>

#include "e1000_priv.h"

/* Image of an 82540EM board EEPROM; words 0-2 (MAC) and 0x3f (checksum)
 * are filled in at init. Word 0x0f (flow control) and 0x24 (APM) are what
 * Linux reads for its defaults. */
static const uint16_t e1000_eeprom_template[E1000_EEPROM_WORDS] = {
	0x0000, 0x0000,		 0x0000, 0x0000, 0xffff, 0x0000,
	0x0000, 0x0000,		 0x3000, 0x1000, 0x6403, E1000_DEVICE_ID,
	0x8086, E1000_DEVICE_ID, 0x8086, 0x3040, 0x0008, 0x2000,
	0x7e14, 0x0048,		 0x1000, 0x00d8, 0x0000, 0x2700,
	0x6cc9, 0x3150,		 0x0722, 0x040b, 0x0984, 0x0000,
	0xc000, 0x0706,		 0x1008, 0x0000, 0x0f04, 0x7fff,
	0x4d01, 0xffff,		 0xffff, 0xffff, 0xffff, 0xffff,
	0xffff, 0xffff,		 0xffff, 0xffff, 0x0100, 0x4000,
	0x121c, 0xffff,		 0xffff, 0xffff, 0xffff, 0xffff,
	0xffff, 0xffff,		 0xffff, 0xffff, 0xffff, 0xffff,
	0xffff, 0x0000,
};

void e1000_eeprom_init(struct e1000 *s)
{
	uint16_t *w = s->ee.words;
	uint16_t sum = 0;

	if (s->cfg.eeprom) {
		memcpy(w, s->cfg.eeprom, sizeof(s->ee.words));
		return;
	}
	memcpy(w, e1000_eeprom_template, sizeof(s->ee.words));
	for (int i = 0; i < 3; i++)
		w[i] = (uint16_t)(s->cfg.mac[2 * i] | s->cfg.mac[2 * i + 1]
							      << 8);
	for (int i = 0; i < E1000_EEPROM_WORDS - 1; i++)
		sum = (uint16_t)(sum + w[i]);
	/* Drivers check that words 0..0x3f add up to 0xBABA. */
	w[E1000_EEPROM_WORDS - 1] = (uint16_t)(E1000_EEPROM_CHECKSUM - sum);
}

/* The serial interface waits for a command (no bits in, none out). */
static void e1000_ee_idle(struct e1000 *s)
{
	s->ee.val_in = 0;
	s->ee.bits_in = 0;
	s->ee.bit_out = 0;
	s->ee.reading = false;
}

void e1000_eeprom_reset(struct e1000 *s)
{
	s->ee.pins = 0;
	e1000_ee_idle(s);
}

/* The MAC comes from EEPROM words 0-2 into RAL0/RAH0 (valid) at reset. */
void e1000_load_mac(struct e1000 *s)
{
	const uint16_t *w = s->ee.words;

	*e1000_reg(s, E1000_RAL(0)) = (uint32_t)w[0] | (uint32_t)w[1] << 16;
	*e1000_reg(s, E1000_RAH(0)) = w[2] | E1000_RAH_AV;
}

static bool e1000_ee_data_out(const struct e1000 *s)
{
	uint32_t word = (s->ee.bit_out >> 4) % E1000_EEPROM_WORDS;
	uint32_t bit = 15 - (s->ee.bit_out & 15);

	/* DO idles high outside a read, as the part's pull-up makes it. */
	if (!s->ee.reading)
		return true;
	return (s->ee.words[word] >> bit) & 1;
}

uint32_t e1000_eecd_read(struct e1000 *s, avm_ctx *ctx, uint32_t off)
{
	uint32_t v = s->ee.pins | E1000_EECD_PRES;

	/* Software owns the pins only once GNT answers REQ; the grant is
	 * immediate because nothing else (no auto-read) competes here. */
	if (s->ee.pins & E1000_EECD_REQ) {
		v |= E1000_EECD_GNT;
		if (e1000_ee_data_out(s))
			v |= E1000_EECD_DO;
	}
	return v;
}

/* One rising SK edge: shift DI in; after 3 opcode + 6 address bits,
 * a READ opcode starts streaming the addressed word out, MSB first. */
static void e1000_ee_clock_in(struct e1000 *s, uint32_t v)
{
	s->ee.val_in = (s->ee.val_in << 1) | !!(v & E1000_EECD_DI);
	if (++s->ee.bits_in != 9 || s->ee.reading)
		return;
	/* The falling edge after the last address bit lands on bit 15. */
	s->ee.bit_out = ((s->ee.val_in & 0x3f) << 4) - 1;
	s->ee.reading = ((s->ee.val_in >> 6) & 7) == E1000_EEPROM_READ_OP;
}

void e1000_eecd_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v)
{
	uint32_t old = s->ee.pins;
	uint32_t pins = E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI |
			E1000_EECD_FWE | E1000_EECD_REQ;

	s->ee.pins = v & pins;
	/* Without the grant the pins do not reach the EEPROM. */
	if (!(v & E1000_EECD_REQ) || !(v & E1000_EECD_CS))
		return;
	/* Chip select rising: a new command starts. */
	if (!(old & E1000_EECD_CS) || !(old & E1000_EECD_REQ))
		e1000_ee_idle(s);
	if (!((old ^ v) & E1000_EECD_SK))
		return;
	if (v & E1000_EECD_SK)
		e1000_ee_clock_in(s, v);
	else
		s->ee.bit_out++; /* falling edge: next data bit */
}

void e1000_eerd_write(struct e1000 *s, avm_ctx *ctx, uint32_t off, uint32_t v)
{
	uint32_t addr = (v >> E1000_EERD_ADDR_SHIFT) & 0xff;
	uint32_t r = v & (0xffu << E1000_EERD_ADDR_SHIFT);

	if (!(v & E1000_EERD_START)) {
		*e1000_reg(s, E1000_EERD) = v;
		return;
	}
	/* The read completes at once; past the last word there is no data. */
	r |= E1000_EERD_DONE;
	if (addr < E1000_EEPROM_WORDS)
		r |= (uint32_t)s->ee.words[addr] << E1000_EERD_DATA_SHIFT;
	*e1000_reg(s, E1000_EERD) = r;
}
