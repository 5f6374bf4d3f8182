// SPDX-License-Identifier: MIT
/*
 * e1000_pingpong: two VMs exchange frames through their e1000s, driven by
 * interrupts (guests/lib/e1000.c).
 *
 * The kernel command line picks the role:
 *
 *   role=ping rounds=N [window=W] [size=S]   sends N frames, checks N echoes
 *   role=pong rounds=N                       echoes N frames, exits on BYE
 *   resets=K flaps=L (either role)           this VM's NIC is reset K times
 *                                            and its link goes down L times,
 *                                            from outside: exit only after
 *                                            the driver saw them all
 *   role=arp                                 asks QEMU's user network (slirp)
 *                                            for 10.0.2.2 and checks the reply
 *   (no role)                                brings the NIC up, sends one
 *                                            frame: what qemu-compare.sh runs
 *
 * Start-up needs care because a frame that reaches a NIC whose receiver is
 * not on yet is lost on actorvm (QEMU holds it back instead), and QEMU's
 * socket netdev drops frames sent before its connection is up. Each side
 * turns its receiver on and waits for link before it says anything; then
 * ping broadcasts HELLO and pong broadcasts READY, and pong answers every
 * HELLO with READY. On actorvm one of the two always gets through: if
 * ping's HELLO was lost, pong's receiver came up after it arrived, hence
 * after ping's did, so pong's READY reaches ping. For QEMU ping repeats
 * HELLO on LAPIC timer ticks until a READY comes (extra READYs are
 * ignored). After that, at most W frames are in flight each way and both
 * rings have room for more, so nothing is dropped on a healthy link.
 *
 * A NIC can be reset under its guest (a restarted device process), and
 * the frames in its rings and those that reach it before its driver's
 * watchdog re-initialises it are lost. So ping goes back to its oldest
 * unanswered frame and sends the window again when no echo came for
 * RETRY_TICKS (40-50 ms, far beyond a round trip: on a healthy link only
 * if the host starves a VM that long, and then it makes duplicates, no
 * error), pong echoes every PING, repeated or not, and ping takes only
 * the echo it waits for; the others are counted as stale. Pong cannot know
 * that its last echo arrived, so ping ends with BYE, repeated until pong's
 * DONE. Pong exits on BYE, after checking that it saw every PING in
 * order; a DONE that is lost leaves ping repeating BYE, and after
 * BYE_TRIES it stops (it has every echo already).
 *
 * Frames: broadcast or the peer's MAC, EtherType 0x88B5 (local
 * experimental), then kind, length and sequence number, then a pattern that
 * depends on both, so a reordered, truncated or corrupted echo fails.
 */
#include "guest.h"

#include "e1000.h"

#define NIC_VECTOR     0x60
#define ETHERTYPE      0x88B5
#define HDR_LEN	       22 /* Ethernet 14 + kind, pad, length, sequence */
#define MIN_LEN	       60
#define DEFAULT_ROUNDS 20
#define MAX_WINDOW     16 /* below both rings' free descriptors */
#define ARP_LEN	       42
#define TICK_VECTOR    0x61
#define TICK_COUNT     625000 /* x 16 at 1 GHz: 10 ms on QEMU and actorvm */
#define HELLO_TICKS    5      /* HELLO every 50 ms until READY */
#define RETRY_TICKS    5      /* no echo for 40-50 ms: send again */
#define BYE_TRIES      40     /* BYEs without DONE before ping stops */

enum kind { K_HELLO = 1, K_READY, K_PING, K_PONG, K_PROBE, K_BYE, K_DONE };

struct options {
	char role[8];
	unsigned int rounds, window, size, resets, flaps;
};

/* What ping counts: sent, got and top are sequence numbers. */
struct ping_state {
	uint32_t sent; /* next to send (goes back on a timeout) */
	uint32_t got;  /* echoes verified, in order */
	uint32_t top;  /* one past the highest ever sent */
	unsigned int timeouts, stale, extra;
	unsigned long long bytes;
};

static struct guest_e1000 nic;
static uint8_t frame[GUEST_E1000_MAX_LEN], reply[GUEST_E1000_BUF_SIZE];
static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void on_spurious(struct guest_int_frame *f)
{
}

/* The LAPIC timer is the driver's watchdog clock and ours. */
static void on_tick(struct guest_int_frame *f)
{
	guest_e1000_tick(&nic);
}

/* The value of "key=" in @cmdline (at a word start), or NULL. */
static const char *option(const char *cmdline, const char *key)
{
	size_t n = 0;

	while (key[n])
		n++;
	for (const char *p = cmdline; *p; p++) {
		if ((p == cmdline || p[-1] == ' ') &&
		    !__builtin_memcmp(p, key, n) && p[n] == '=')
			return p + n + 1;
	}
	return NULL;
}

static unsigned int number(const char *s, unsigned int dflt)
{
	unsigned int v = 0;

	if (!s || *s < '0' || *s > '9')
		return dflt;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (unsigned int)(*s++ - '0');
	return v;
}

static void parse(const struct multiboot_info *mbi, struct options *o)
{
	const char *cmd = "", *role;
	size_t i = 0;

	if (mbi->flags & MULTIBOOT_INFO_CMDLINE)
		cmd = (const char *)(uintptr_t)mbi->cmdline;
	*o = (struct options){ .window = 1 };
	role = option(cmd, "role");
	while (role && role[i] && role[i] != ' ' && i < sizeof(o->role) - 1) {
		o->role[i] = role[i];
		i++;
	}
	o->rounds = number(option(cmd, "rounds"), DEFAULT_ROUNDS);
	o->window = number(option(cmd, "window"), 1);
	o->size = number(option(cmd, "size"), 0);
	o->resets = number(option(cmd, "resets"), 0);
	o->flaps = number(option(cmd, "flaps"), 0);
	GUEST_ASSERT(o->window >= 1 && o->window <= MAX_WINDOW);
	GUEST_ASSERT(!o->size ||
		     (o->size >= MIN_LEN && o->size <= GUEST_E1000_MAX_LEN));
}

static bool role_is(const struct options *o, const char *r)
{
	size_t i = 0;

	while (r[i] && o->role[i] == r[i])
		i++;
	return !r[i] && !o->role[i];
}

static uint8_t pattern(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 31u + i * 7u + (seq >> 8));
}

/* Frame lengths 60..1514, spread so that every run sees several sizes. */
static size_t length_of(const struct options *o, uint32_t seq)
{
	if (o->size)
		return o->size;
	return MIN_LEN + (seq * 397u) % (GUEST_E1000_MAX_LEN - MIN_LEN + 1);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Builds a frame of @kind in `frame`; returns its length. */
static size_t build(const uint8_t *dst, enum kind kind, uint32_t seq,
		    size_t len)
{
	__builtin_memcpy(frame, dst, 6);
	__builtin_memcpy(frame + 6, nic.mac, 6);
	put16(frame + 12, ETHERTYPE);
	frame[14] = (uint8_t)kind;
	frame[15] = 0;
	put16(frame + 16, (uint16_t)len);
	put16(frame + 18, (uint16_t)(seq >> 16));
	put16(frame + 20, (uint16_t)seq);
	for (size_t i = HDR_LEN; i < len; i++)
		frame[i] = pattern(seq, i);
	return len;
}

static void send(const uint8_t *dst, enum kind kind, uint32_t seq, size_t len)
{
	guest_e1000_send(&nic, frame, build(dst, kind, seq, len));
}

/* The kind of the frame of @len bytes in `reply`; 0 if it is not ours. */
static enum kind kind_of(size_t len)
{
	if (len < HDR_LEN || get16(reply + 12) != ETHERTYPE)
		return 0;
	return (enum kind)reply[14];
}

/* Waits for the next frame; returns its kind. */
static enum kind receive(size_t *len)
{
	*len = guest_e1000_recv_wait(&nic, reply, sizeof(reply));
	return kind_of(*len);
}

/* An echo must be exactly the frame ping sent as @seq, with kind PONG. */
static void check_echo(uint32_t seq, size_t len, const struct options *o)
{
	size_t want = length_of(o, seq);

	GUEST_ASSERT_EQ(len, want);
	GUEST_ASSERT_EQ(get16(reply + 16), want);
	GUEST_ASSERT(!__builtin_memcmp(reply, nic.mac, 6));
	for (size_t i = HDR_LEN; i < len; i++) {
		if (reply[i] != pattern(seq, i))
			GUEST_FAIL("ping: echo %u differs at byte %u", seq,
				   (unsigned int)i);
	}
}

static void bring_up(void)
{
	guest_idt_init();
	guest_pic_mask_all();
	guest_set_handler(GUEST_SPURIOUS_VECTOR, on_spurious);
	guest_lapic_enable(GUEST_SPURIOUS_VECTOR);
	guest_e1000_init(&nic, NIC_VECTOR);
	guest_e1000_wait_link(&nic);
	guest_puts("e1000: link up");
}

/* The pair's roles only: the others run as they did without a timer. */
static void start_ticks(void)
{
	guest_set_handler(TICK_VECTOR, on_tick);
	guest_lapic_timer_start(TICK_VECTOR, GUEST_LAPIC_DIV_16, TICK_COUNT,
				true);
}

/*
 * The next frame, its kind (0: not ours) and *@len; or, once @period
 * ticks have passed since *@since with no frame, *@len = 0 and *@since
 * restarted. Interrupts are off, but in the driver's wait.
 */
static enum kind next_frame(size_t *len, unsigned int *since,
			    unsigned int period)
{
	guest_cli();
	for (;;) {
		*len = guest_e1000_recv(&nic, reply, sizeof(reply));
		if (*len)
			return kind_of(*len);
		if (nic.ticks - *since >= period) {
			*since = nic.ticks;
			return 0;
		}
		guest_e1000_wait(&nic);
	}
}

/*
 * HELLO until a READY comes. It is repeated on LAPIC timer ticks because
 * QEMU's socket netdev drops what is sent before its TCP connection is up,
 * on both sides; the period only matters for how soon ping starts.
 */
static void ping_handshake(uint8_t *peer)
{
	unsigned int foreign = 0, hellos = 1, since = nic.ticks;
	size_t len;
	enum kind k;

	send(broadcast, K_HELLO, 0, MIN_LEN);
	while ((k = next_frame(&len, &since, HELLO_TICKS)) != K_READY) {
		if (len) {
			foreign++;
		} else {
			send(broadcast, K_HELLO, 0, MIN_LEN);
			hellos++;
		}
	}
	__builtin_memcpy(peer, reply + 6, 6);
	GUEST_ASSERT(__builtin_memcmp(peer, nic.mac, 6));
	guest_printf("ping: peer %02x:%02x:%02x:%02x:%02x:%02x is ready "
		     "(%u hello(s), %u other frames before)\n",
		     peer[0], peer[1], peer[2], peer[3], peer[4], peer[5],
		     hellos, foreign);
}

/*
 * An echo: checked whole, whatever its number; counted if it is the one
 * ping waits for. True if it was.
 */
static bool take_echo(struct ping_state *p, size_t len, const struct options *o)
{
	uint32_t seq = get32(reply + 18);
	unsigned int step = o->rounds / 5 ? o->rounds / 5 : 1;

	GUEST_ASSERT(seq < p->top);
	check_echo(seq, len, o);
	if (seq != p->got) {
		p->stale++; /* an echo of a frame sent again */
		return false;
	}
	p->bytes += len;
	if (++p->got % step == 0)
		guest_printf("ping: %u echoes verified\n", p->got);
	return true;
}

/* Every frame of the window out; a timeout sends them again. */
static void ping_fill(struct ping_state *p, const uint8_t *peer,
		      const struct options *o)
{
	while (p->sent < o->rounds && p->sent - p->got < o->window) {
		send(peer, K_PING, p->sent, length_of(o, p->sent));
		if (++p->sent > p->top)
			p->top = p->sent;
	}
}

/* BYE until DONE, or BYE_TRIES times (pong exits on the first BYE). */
static void ping_bye(struct ping_state *p, const uint8_t *peer)
{
	unsigned int tries = 1, since = nic.ticks;
	size_t len;

	send(peer, K_BYE, p->got, MIN_LEN);
	while (next_frame(&len, &since, RETRY_TICKS) != K_DONE) {
		if (len) {
			p->extra++; /* an echo or a READY, late */
		} else if (tries++ == BYE_TRIES) {
			guest_printf("ping: no DONE after %u BYEs\n",
				     tries - 1);
			return;
		} else {
			send(peer, K_BYE, p->got, MIN_LEN);
		}
	}
}

static void run_ping(const struct options *o)
{
	struct ping_state p = { 0 };
	uint8_t peer[6];
	unsigned int since;
	size_t len;
	enum kind k;

	ping_handshake(peer);
	guest_printf("ping: %u rounds, window %u\n", o->rounds, o->window);
	since = nic.ticks;
	while (p.got < o->rounds) {
		ping_fill(&p, peer, o);
		k = next_frame(&len, &since, RETRY_TICKS);
		if (!len) {
			p.timeouts++;
			p.sent = p.got; /* go back: the window again */
		} else if (k != K_PONG) {
			p.extra++; /* a second READY: pong heard HELLO too */
		} else if (take_echo(&p, len, o)) {
			since = nic.ticks;
		}
	}
	ping_bye(&p, peer);
	guest_e1000_print_stats(&nic);
	guest_printf("ping: %u of %u echoes verified, %llu bytes, %u extra, "
		     "%u timeouts, %u stale\n",
		     p.got, o->rounds, p.bytes, p.extra, p.timeouts, p.stale);
}

/* The same bytes back, only addresses and kind changed. */
static void echo(size_t len)
{
	__builtin_memcpy(frame, reply + 6, 6);
	__builtin_memcpy(frame + 6, nic.mac, 6);
	__builtin_memcpy(frame + 12, reply + 12, len - 12);
	frame[14] = K_PONG;
	guest_e1000_send(&nic, frame, len);
}

/*
 * Echoes until BYE. @next counts the PINGs seen in order: ping sends BYE
 * only after the echo of every frame, and an echo it takes was made after
 * the one before it (frames are not reordered), so next == rounds then.
 */
static void run_pong(const struct options *o)
{
	unsigned int hellos = 0, foreign = 0, again = 0;
	uint32_t next = 0;
	size_t len;
	enum kind k;

	send(broadcast, K_READY, 0, MIN_LEN);
	guest_printf("pong: ready, echoing %u frames\n", o->rounds);
	while ((k = receive(&len)) != K_BYE) {
		if (k == K_HELLO) {
			hellos++;
			send(reply + 6, K_READY, 0, MIN_LEN);
		} else if (k == K_PING) {
			echo(len);
			if (get32(reply + 18) == next)
				next++;
			else
				again++;
		} else {
			foreign++;
		}
	}
	GUEST_ASSERT_EQ(next, o->rounds);
	send(reply + 6, K_DONE, 0, MIN_LEN);
	/* DONE must have left the NIC before the VM stops. */
	guest_e1000_flush(&nic);
	guest_e1000_print_stats(&nic);
	guest_printf("pong: echoed %u frames (%u hellos, %u other, %u again)\n",
		     next, hellos, foreign, again);
}

/*
 * With resets=K flaps=L a test resets this VM's NIC K times and takes its
 * link down L times, wherever the run then is: the verdict waits until the
 * driver has seen them all and the link is up.
 */
static void await_events(const struct options *o)
{
	if (!o->resets && !o->flaps)
		return;
	guest_cli();
	while (nic.reinits < o->resets || nic.link_drops < o->flaps ||
	       !nic.link)
		guest_e1000_wait(&nic);
	guest_printf("e1000: recovered %u time(s), link lost %u time(s)\n",
		     nic.reinits, nic.link_drops);
}

static void run_probe(void)
{
	send(broadcast, K_PROBE, 0, MIN_LEN);
	guest_e1000_flush(&nic);
	/* DD can be seen before the interrupt that reports it arrives. */
	guest_cli();
	while (!nic.tx_irqs) {
		guest_sti_hlt();
		guest_cli();
	}
	guest_e1000_print_stats(&nic);
	guest_puts("probe: one frame sent, TXDW seen");
}

/* ARP "who has 10.0.2.2, tell 10.0.2.15": QEMU's user network answers. */
static void run_arp(void)
{
	static const uint8_t ask[] = { 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1 };
	size_t len;

	__builtin_memset(frame, 0, MIN_LEN);
	__builtin_memcpy(frame, broadcast, 6);
	__builtin_memcpy(frame + 6, nic.mac, 6);
	__builtin_memcpy(frame + 12, ask, sizeof(ask));
	__builtin_memcpy(frame + 22, nic.mac, 6);
	__builtin_memcpy(frame + 28, (const uint8_t[]){ 10, 0, 2, 15 }, 4);
	__builtin_memcpy(frame + 38, (const uint8_t[]){ 10, 0, 2, 2 }, 4);
	guest_e1000_send(&nic, frame, MIN_LEN);
	do
		len = guest_e1000_recv_wait(&nic, reply, sizeof(reply));
	while (len < ARP_LEN || get16(reply + 12) != 0x0806 ||
	       get16(reply + 20) != 2);
	GUEST_ASSERT(!__builtin_memcmp(reply + 28,
				       (const uint8_t[]){ 10, 0, 2, 2 }, 4));
	GUEST_ASSERT(!__builtin_memcmp(reply + 32, nic.mac, 6));
	guest_printf("arp: 10.0.2.2 is at %02x:%02x:%02x:%02x:%02x:%02x\n",
		     reply[22], reply[23], reply[24], reply[25], reply[26],
		     reply[27]);
}

int guest_main(const struct multiboot_info *mbi)
{
	struct options o;

	parse(mbi, &o);
	bring_up();
	if (role_is(&o, "ping") || role_is(&o, "pong"))
		start_ticks();
	if (role_is(&o, "ping"))
		run_ping(&o);
	else if (role_is(&o, "pong"))
		run_pong(&o);
	else if (role_is(&o, "arp"))
		run_arp();
	else if (!o.role[0])
		run_probe();
	else
		GUEST_FAIL("unknown role \"%s\"", o.role);
	await_events(&o);
	GUEST_DONE();
}
