// SPDX-License-Identifier: MIT
/*
 * rt_timer: the real-time guest of bench/rt-latency (VCPU0 of an AMP VM).
 *
 * Timed task: the local APIC timer runs periodic at 1 kHz and the interrupt
 * handler records its wake-up latency, cyclictest-style (actual minus
 * expected time). The exact part comes from the timer itself: in the
 * handler, (initial - current count) ticks have passed since the deadline
 * that fired. That wraps at one period, so the TSC (calibrated against the
 * same timer at start) says how many whole periods more were missed: a
 * 5 ms stall shows as 5 ms, not as 0.
 *
 * External event: frames arriving on the first e1000 (the pinger's) are
 * echoed at once, from the loop the RX interrupt wakes, with source and
 * destination swapped.
 *
 * Each sample also carries the TSC when the handler ran (on actorvm's
 * software CPU the host's TSC, so the bench can line samples up with the
 * host's own timer floor) and what the guest was doing when the timer
 * fired: 'h' idle (in sti; hlt, or in another interrupt handler taken from
 * there, the NIC's), 'e' in the echo loop with interrupts off.
 *
 * Command line: samples=N (default 1000). After N timer samples it prints
 * them on COM2 (0x2F8; COM1 belongs to the load guest) as
 * "L <ns> <tsc> <h|e>" lines between "RT begin" and "RT end", with the
 * longest interrupts-off stretch of the echo loop, and exits. It first
 * wakes the load guest on VCPU1 (an IPI) once its PCI set-up is done, so
 * the two never race on the configuration ports. Needs actorvm's AMP boot: not
 * run on QEMU.
 */
#include "guest.h"

#include "e1000.h"

#define TIMER_VECTOR 0x40
#define NIC_VECTOR   0x60
#define GO_VECTOR    0x50 /* the load guest's start signal */
#define LOAD_APIC_ID 1
#define TICK_NS	     16u    /* divide by 16 at 1 GHz (QEMU's and actorvm's) */
#define PERIOD_TICKS 62500u /* 1 ms */
#define PERIOD_NS    (PERIOD_TICKS * TICK_NS)
#define CAL_TICKS    3125000u /* 50 ms of calibration */
#define MAX_SAMPLES  200000u
#define COM2	     0x2F8

struct sample {
	uint64_t tsc;
	uint32_t ns;
	char phase;
};

static struct sample samples[MAX_SAMPLES];
static volatile uint32_t n_samples;
static volatile char phase = 'e'; /* what the main loop is doing */
static uint64_t echo_max;	  /* longest interrupts-off stretch, TSC */
static unsigned int loops;	  /* of the main loop */
static uint32_t want = 1000;
static uint64_t ns_mult;       /* ns per TSC tick, 32.32 fixed point */
static uint64_t tsc_mult;      /* TSC ticks per ns, 32.32 fixed point */
static uint64_t period_tsc;    /* one timer period in TSC ticks */
static uint64_t next_deadline; /* TSC of the deadline the next IRQ is for */
static struct guest_e1000 nic;
static uint8_t buf[GUEST_E1000_BUF_SIZE];
static unsigned int echoes;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* n / d without libgcc (a freestanding 32-bit guest has no __udivdi3). */
static uint64_t udiv64(uint64_t n, uint64_t d)
{
	uint64_t q = 0, r = 0;

	for (int i = 63; i >= 0; i--) {
		r = r << 1 | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ull << i;
		}
	}
	return q;
}

static uint64_t tsc_to_ns(uint64_t dt)
{
	/* Capped so the product fits: ~4 s is far beyond any latency. */
	if (dt > 0xFFFFFFFFull)
		dt = 0xFFFFFFFFull;
	return (dt * ns_mult) >> 32;
}

/* The timer, masked and one-shot, as a clock: ns per TSC tick. */
static void calibrate(void)
{
	uint32_t c0, c;
	uint64_t t0, t;

	guest_lapic_timer_start(TIMER_VECTOR, GUEST_LAPIC_DIV_16, 0xFFFFFFFFu,
				false);
	guest_lapic_write(GUEST_LAPIC_LVT_TIMER,
			  TIMER_VECTOR | GUEST_LAPIC_LVT_MASKED);
	c0 = guest_lapic_timer_current();
	t0 = rdtsc();
	do {
		c = guest_lapic_timer_current();
		t = rdtsc();
	} while (c0 - c < CAL_TICKS);
	guest_lapic_timer_stop();
	ns_mult = udiv64((uint64_t)(c0 - c) * TICK_NS << 32, t - t0);
	/* The handler only multiplies: a 64-bit division is a 64-pass loop
	 * here, hundreds of blocks on the software CPU, with IF off. */
	tsc_mult = udiv64((t - t0) << 32, (uint64_t)(c0 - c) * TICK_NS);
	period_tsc = (PERIOD_NS * tsc_mult) >> 32;
	guest_printf("rt: TSC %u kHz\n",
		     (unsigned int)udiv64((t - t0) * 1000000ull,
					  (uint64_t)(c0 - c) * TICK_NS));
}

static void on_timer(struct guest_int_frame *f)
{
	uint64_t now = rdtsc();
	uint32_t exact = (PERIOD_TICKS - guest_lapic_timer_current()) * TICK_NS;
	uint64_t est = now > next_deadline ? tsc_to_ns(now - next_deadline) : 0;
	uint32_t missed = 0;

	/* Whole periods beyond the exact part, from the TSC estimate. */
	if (est > exact + PERIOD_NS / 2)
		missed = (uint32_t)(est - exact + PERIOD_NS / 2) / PERIOD_NS;
	if (n_samples < want)
		samples[n_samples++] =
			(struct sample){ .tsc = now,
					 .ns = exact + missed * PERIOD_NS,
					 .phase = phase };
	/* Re-anchor on the deadline just measured: calibration error
	 * accumulates over one period only. */
	next_deadline = now - ((exact * tsc_mult) >> 32) + period_tsc;
}

static void on_spurious(struct guest_int_frame *f)
{
}

static void com2_putc(char c)
{
	while (!(guest_inb(COM2 + 5) & 0x20))
		;
	guest_outb(COM2, (uint8_t)c);
}

static void com2_puts(const char *s)
{
	while (*s)
		com2_putc(*s++);
}

static void report(void)
{
	char line[64];

	com2_puts("RT begin\n");
	for (uint32_t i = 0; i < n_samples; i++) {
		guest_snprintf(
			line, sizeof(line), "L %u %llu %c\n", samples[i].ns,
			(unsigned long long)samples[i].tsc, samples[i].phase);
		com2_puts(line);
	}
	guest_snprintf(line, sizeof(line), "RT echoes %u\n", echoes);
	com2_puts(line);
	guest_snprintf(line, sizeof(line), "RT irq-off-max %llu ns\n",
		       (unsigned long long)tsc_to_ns(echo_max));
	com2_puts(line);
	com2_puts("RT end\n");
}

/* Swap the addresses and send it straight back. */
static void echo_all(void)
{
	size_t n;

	while ((n = guest_e1000_recv(&nic, buf, sizeof(buf)))) {
		uint8_t mac[6];

		__builtin_memcpy(mac, buf, 6);
		__builtin_memcpy(buf, buf + 6, 6);
		__builtin_memcpy(buf + 6, mac, 6);
		guest_e1000_send(&nic, buf, n);
		echoes++;
	}
}

static uint32_t option(const char *cmd, const char *key, uint32_t dflt)
{
	size_t n = 0;
	uint32_t v = 0;

	while (key[n])
		n++;
	for (const char *p = cmd; *p; p++) {
		if ((p != cmd && p[-1] != ' ') || __builtin_memcmp(p, key, n))
			continue;
		for (p += n; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (uint32_t)(*p - '0');
		return v;
	}
	return dflt;
}

int guest_main(const struct multiboot_info *mbi)
{
	const char *cmd = mbi->flags & MULTIBOOT_INFO_CMDLINE
				  ? (const char *)(uintptr_t)mbi->cmdline
				  : "";

	want = option(cmd, "samples=", 1000);
	if (want > MAX_SAMPLES)
		want = MAX_SAMPLES;
	guest_idt_init();
	guest_pic_mask_all();
	guest_set_handler(GUEST_SPURIOUS_VECTOR, on_spurious);
	guest_set_handler(TIMER_VECTOR, on_timer);
	guest_lapic_enable(GUEST_SPURIOUS_VECTOR);
	guest_e1000_init(&nic, NIC_VECTOR);
	guest_lapic_send_ipi(LOAD_APIC_ID, GO_VECTOR);
	calibrate();
	guest_printf("rt: %u samples at 1 kHz\n", want);
	next_deadline = rdtsc() + period_tsc;
	guest_lapic_timer_start(TIMER_VECTOR, GUEST_LAPIC_DIV_16, PERIOD_TICKS,
				true);
	guest_cli();
	while (n_samples < want) {
		uint64_t t0 = rdtsc();

		echo_all();
		/* Not while the first passes translate the loop's code. */
		if (++loops > 100 && rdtsc() - t0 > echo_max)
			echo_max = rdtsc() - t0;
		phase = 'h';
		guest_sti_hlt();
		guest_cli();
		phase = 'e';
	}
	guest_lapic_timer_stop();
	report();
	GUEST_DONE();
}
