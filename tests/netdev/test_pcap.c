/* SPDX-License-Identifier: MIT */
/*
 * The pcap pass-through: under the harness, frames in both directions are
 * forwarded unchanged and written with virtual timestamps; the file is read
 * back and parsed here. Snap length, carrier forwarding, write errors
 * (forwarding goes on) and bad paths. Threaded: a pcap between an e1000 and
 * a wire records a real exchange between two VMs.
 */
#include "netdev_test.h"

#include <actorvm/harness.h>
#include <unistd.h>

struct rec {
	uint32_t sec, nsec, incl, orig;
	uint8_t data[2048];
};

struct dump {
	char dir[64];
	char path[96];
};

static void dump_new(struct dump *d)
{
	strcpy(d->dir, "/tmp/netdev-pcap-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->path, sizeof(d->path), "%s/dump.pcap", d->dir);
}

static void dump_del(struct dump *d)
{
	unlink(d->path);
	rmdir(d->dir);
}

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4); /* host order: the magic says so */
	return v;
}

/* Check the file header; returns the file opened past it. */
static FILE *pcap_open(const char *path, uint32_t snaplen)
{
	uint8_t h[24];
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fread(h, 1, sizeof(h), f), sizeof(h));
	assert_int_equal(u32(h), PCAP_MAGIC_NS);
	assert_int_equal(h[4] | h[5] << 8, 2); /* version 2.4, host order */
	assert_int_equal(h[6] | h[7] << 8, 4);
	assert_int_equal(u32(h + 8), 0);
	assert_int_equal(u32(h + 16), snaplen);
	assert_int_equal(u32(h + 20), 1); /* LINKTYPE_ETHERNET */
	return f;
}

/* The next record, or false at the end of the file. */
static bool pcap_next(FILE *f, struct rec *r)
{
	uint8_t h[16];
	size_t n = fread(h, 1, sizeof(h), f);

	if (n == 0)
		return false;
	assert_int_equal(n, sizeof(h));
	r->sec = u32(h);
	r->nsec = u32(h + 4);
	r->incl = u32(h + 8);
	r->orig = u32(h + 12);
	assert_true(r->nsec < 1000000000u);
	assert_true(r->incl <= sizeof(r->data));
	assert_int_equal(fread(r->data, 1, r->incl, f), r->incl);
	return true;
}

static avm_harness *pcap_harness(const struct pcap_config *cfg)
{
	struct avm_harness_opts o = {
		.ops = &pcap_ops, .config = cfg, .seed = 3, .log_level = -1
	};
	avm_harness *h = NULL;

	assert_int_equal(avm_harness_new(&o, &h), 0);
	return h;
}

static uint64_t hstat(avm_harness *h, unsigned which)
{
	struct avm_msg m = { .kind = NETDEV_MSG_STAT, .user.arg = which };

	return avm_harness_request(h, &m);
}

static void expect_fwd(avm_harness *h, const char *port, const void *f,
		       size_t len)
{
	AVM_EXPECT(h, .kind = AVM_DET_SEND,
		   .fields = AVM_HM_PORT | AVM_HM_MSG_KIND | AVM_HM_DATA,
		   .port = port, .msg_kind = AVM_MSG_FRAME, .data = f,
		   .len = len);
}

/* @a at 1500 ns, @b at 2 s + 1500 ns, nothing else. */
static void check_stamped(const char *path, const uint8_t *a, size_t na,
			  const uint8_t *b, size_t nb)
{
	FILE *f = pcap_open(path, 65535);
	struct rec r;

	assert_true(pcap_next(f, &r));
	assert_int_equal(r.sec, 0);
	assert_int_equal(r.nsec, 1500);
	assert_int_equal(r.incl, na);
	assert_int_equal(r.orig, na);
	assert_memory_equal(r.data, a, na);
	assert_true(pcap_next(f, &r));
	assert_int_equal(r.sec, 2);
	assert_int_equal(r.nsec, 1500);
	assert_int_equal(r.incl, nb);
	assert_memory_equal(r.data, b, nb);
	assert_false(pcap_next(f, &r));
	fclose(f);
}

static void both_directions_recorded_and_forwarded(void **state)
{
	struct dump d;
	struct pcap_config cfg = { 0 };
	avm_harness *h;
	uint8_t a[60], b[1514];

	(void)state;
	dump_new(&d);
	cfg.path = d.path;
	h = pcap_harness(&cfg);
	make_frame(a, sizeof(a), 1, 1);
	make_frame(b, sizeof(b), 2, 2);
	avm_harness_advance(h, 1500);
	avm_harness_send_data(h, AVM_MSG_FRAME, PCAP_FROM_NIC, a, sizeof(a));
	expect_fwd(h, "net", a, sizeof(a));
	AVM_EXPECT_NO_SEND(h, "nic");
	avm_harness_advance(h, 2000000000ull);
	avm_harness_send_data(h, AVM_MSG_FRAME, PCAP_FROM_NET, b, sizeof(b));
	expect_fwd(h, "nic", b, sizeof(b));
	AVM_EXPECT_NO_SEND(h, "net");
	assert_int_equal(hstat(h, NETDEV_STAT_OUT_FRAMES), 1);
	assert_int_equal(hstat(h, NETDEV_STAT_IN_FRAMES), 1);
	assert_int_equal(hstat(h, NETDEV_STAT_ERRORS), 0);
	avm_harness_free(h); /* closes the file */

	check_stamped(d.path, a, sizeof(a), b, sizeof(b));
	dump_del(&d);
}

/* A reader of the live file sees frames once the flush timer fired. */
static void flushed_by_timer(void **state)
{
	struct dump d;
	struct pcap_config cfg = { .flush_ns = 1000000 };
	avm_harness *h;
	uint8_t a[64];
	struct rec r;
	FILE *f;

	(void)state;
	dump_new(&d);
	cfg.path = d.path;
	h = pcap_harness(&cfg);
	make_frame(a, sizeof(a), 1, 9);
	avm_harness_send_data(h, AVM_MSG_FRAME, PCAP_FROM_NIC, a, sizeof(a));
	AVM_EXPECT_TIMER_ARM(h, PCAP_TIMER_FLUSH, 1000000, 0);
	avm_harness_advance(h, 1000000);
	f = pcap_open(d.path, 65535);
	assert_true(pcap_next(f, &r));
	assert_memory_equal(r.data, a, sizeof(a));
	fclose(f);
	avm_harness_free(h);
	dump_del(&d);
}

static void snaplen_cuts_records_not_frames(void **state)
{
	struct dump d;
	struct pcap_config cfg = { .snaplen = 50 };
	avm_harness *h;
	uint8_t a[100];
	struct rec r;
	FILE *f;

	(void)state;
	dump_new(&d);
	cfg.path = d.path;
	h = pcap_harness(&cfg);
	make_frame(a, sizeof(a), 1, 3);
	avm_harness_send_data(h, AVM_MSG_FRAME, PCAP_FROM_NET, a, sizeof(a));
	expect_fwd(h, "nic", a, sizeof(a));
	avm_harness_free(h);
	f = pcap_open(d.path, 50);
	assert_true(pcap_next(f, &r));
	assert_int_equal(r.incl, 50);
	assert_int_equal(r.orig, 100);
	assert_memory_equal(r.data, a, 50);
	assert_false(pcap_next(f, &r));
	fclose(f);
	dump_del(&d);
}

static void carrier_goes_on_to_the_nic(void **state)
{
	struct dump d;
	struct pcap_config cfg = { 0 };
	struct avm_msg m = { .kind = NETDEV_MSG_LINK,
			     .user = { .value = 1, .arg = PCAP_FROM_NET } };
	avm_harness *h;

	(void)state;
	dump_new(&d);
	cfg.path = d.path;
	h = pcap_harness(&cfg);
	avm_harness_send(h, &m);
	AVM_EXPECT(h, .kind = AVM_DET_SEND,
		   .fields = AVM_HM_PORT | AVM_HM_MSG_KIND | AVM_HM_VALUE,
		   .port = "nic", .msg_kind = NETDEV_MSG_LINK, .value = 1);
	AVM_EXPECT_NONE(h);
	avm_harness_free(h);
	dump_del(&d);
}

/* /dev/full: every write fails; frames still go through, errors counted. */
static void write_errors_do_not_stop_forwarding(void **state)
{
	struct pcap_config cfg = { .path = "/dev/full", .flush_ns = 1000 };
	avm_harness *h;
	uint8_t a[1500];

	(void)state;
	h = pcap_harness(&cfg);
	make_frame(a, sizeof(a), 1, 3);
	for (int i = 0; i < 10; i++) {
		avm_harness_send_data(h, AVM_MSG_FRAME, PCAP_FROM_NIC, a,
				      sizeof(a));
		expect_fwd(h, "net", a, sizeof(a));
		avm_harness_advance(h, 1000);
	}
	assert_int_equal(hstat(h, NETDEV_STAT_OUT_FRAMES), 10);
	assert_true(hstat(h, NETDEV_STAT_ERRORS) >= 1);
	avm_harness_free(h);
}

static void bad_paths_fail_init(void **state)
{
	struct pcap_config cfg = { .path = "/nonexistent-dir/x.pcap" };
	struct avm_harness_opts o = { .ops = &pcap_ops,
				      .config = &cfg,
				      .log_level = -1 };
	avm_harness *h = NULL;

	(void)state;
	assert_int_equal(avm_harness_new(&o, &h), -ENOENT);
	avm_harness_free(h);
	h = NULL;
	o.config = NULL;
	assert_int_equal(avm_harness_new(&o, &h), -EINVAL);
	avm_harness_free(h);
}

/* --- Threaded: NIC A - pcap - wire ~ wire - NIC B ------------------------ */

static void vm_with_pcap(struct vm *v, const struct wire_config *wc,
			 const struct pcap_config *pc, avm_actor_id *pcap)
{
	struct avm_actor_spec ps = { .ops = &pcap_ops,
				     .name = "pcap",
				     .config = pc };

	vm_create(v, 0x0a, &wire_ops, wc);
	/* Re-wire: NIC <-> pcap <-> wire. */
	assert_int_equal(avm_actor_create(v->rt, &ps, pcap), 0);
	assert_int_equal(avm_bind(v->rt, v->nic, "net", *pcap, PCAP_FROM_NIC),
			 0);
	assert_int_equal(avm_bind(v->rt, *pcap, "nic", v->nic, 0), 0);
	assert_int_equal(avm_bind(v->rt, *pcap, "net", v->be, 0), 0);
	assert_int_equal(avm_bind(v->rt, v->be, "nic", *pcap, PCAP_FROM_NET),
			 0);
	vm_start(v);
}

/* The dump holds exactly @a then @b, with wall-clock stamps. */
static void check_two_records(const char *path, const uint8_t *a, size_t na,
			      const uint8_t *b, size_t nb)
{
	FILE *f = pcap_open(path, 65535);
	struct rec r;

	assert_true(pcap_next(f, &r));
	assert_int_equal(r.orig, na);
	assert_memory_equal(r.data, a, na);
	assert_true(r.sec > 1500000000u); /* wall clock: after 2017 */
	assert_true(pcap_next(f, &r));
	assert_int_equal(r.orig, nb);
	assert_memory_equal(r.data, b, nb);
	assert_false(pcap_next(f, &r));
	fclose(f);
}

static void records_a_real_exchange(void **state)
{
	struct dump d;
	struct vm a = { 0 }, b = { 0 };
	char url[96];
	struct wire_config wa = { .url = url, .listen = true };
	struct wire_config wb = { .url = url };
	struct pcap_config pc = { .wallclock = true };
	avm_actor_id pcap;
	uint8_t fa[90], fb[120], got[2048];

	(void)state;
	dump_new(&d);
	pc.path = d.path;
	snprintf(url, sizeof(url), "inproc://netdev-pcap-%d", getpid());
	vm_with_pcap(&a, &wa, &pc, &pcap);
	vm_create(&b, 0x0b, &wire_ops, &wb);
	vm_start(&b);
	nic_open(&a);
	nic_open(&b);
	assert_true(nic_wait_link(&a, true)); /* carrier through pcap */
	assert_true(nic_wait_link(&b, true));
	make_frame(fa, sizeof(fa), 0x0a, 1);
	make_frame(fb, sizeof(fb), 0x0b, 2);
	assert_true(nic_tx(&a, fa, sizeof(fa)));
	assert_int_equal(nic_rx(&b, got, sizeof(got), VM_DEADLINE_NS),
			 sizeof(fa));
	assert_true(nic_tx(&b, fb, sizeof(fb)));
	assert_int_equal(nic_rx(&a, got, sizeof(got), VM_DEADLINE_NS),
			 sizeof(fb));
	assert_memory_equal(got, fb, sizeof(fb));
	vm_free(&b);
	vm_free(&a);

	check_two_records(d.path, fa, sizeof(fa), fb, sizeof(fb));
	dump_del(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(both_directions_recorded_and_forwarded),
		cmocka_unit_test(flushed_by_timer),
		cmocka_unit_test(snaplen_cuts_records_not_frames),
		cmocka_unit_test(carrier_goes_on_to_the_nic),
		cmocka_unit_test(write_errors_do_not_stop_forwarding),
		cmocka_unit_test(bad_paths_fail_init),
		cmocka_unit_test(records_a_real_exchange),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
