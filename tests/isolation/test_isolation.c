/* SPDX-License-Identifier: MIT */
/*
 * Device processes (actorvm/isolation.h): a device that crashes, calls
 * open(), hangs or is killed runs in a process of its own; the VMM, its
 * other actors and the read in flight carry on, each policy does what it
 * says, and nothing leaks across 100 restarts. No verdict rests on timing:
 * waits are for a state to be reached, with a guard far above need.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <actorvm/isolation.h>
#include <actorvm/runtime.h>

#include "proc_wait.h"

#define DEV_MMIO   0x10000000ull
#define PROBE_MMIO 0x10001000ull
#define RAM_GPA	   0x100000ull
#define MARK_GPA   (RAM_GPA + 0x1000)
#define GUARD_NS   20000000000ull /* a hang guard, never a verdict */

enum {
	R_COUNT = 0x00,	 /* read: reads so far, this one included */
	R_PID = 0x08,	 /* read: the pid that handles it */
	R_HANG = 0x10,	 /* read: mark RAM, then never answer */
	R_TICKS = 0x18,	 /* read: timer ticks */
	W_FAULT = 0x20,	 /* write: 1 NULL store, 2 open() */
	W_IRQ = 0x28,	 /* write: IRQ line level */
	W_FRAME = 0x30,	 /* write: send a frame of @value bytes on "out" */
	W_TIMER = 0x38,	 /* write: timer 0, period @value ns */
	W_DMA = 0x40,	 /* write: "hello" at guest address @value */
	W_PEEK = 0x48,	 /* write: load 8 bytes at host address @value */
	R_PEEKED = 0x50, /* read: what W_PEEK loaded */
};

struct faulty {
	uint64_t count, ticks, peeked;
};

static void faulty_write(struct faulty *f, uint64_t off, uint64_t v,
			 avm_ctx *ctx)
{
	struct avm_msg m = { .kind = AVM_MSG_FRAME };
	uint8_t buf[2048];

	switch (off) {
	case W_FAULT:
		if (v == 1)
			*(volatile int *)(uintptr_t)(v - 1) = 1;
		if (v == 2)
			(void)!open("/etc/hostname", O_RDONLY);
		break;
	case W_IRQ:
		avm_irq_set(ctx, 0, v != 0);
		break;
	case W_FRAME:
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(i * 7);
		avm_msg_set_payload(&m, buf, v < sizeof(buf) ? v : sizeof(buf));
		avm_send(ctx, 1, &m);
		break;
	case W_TIMER:
		avm_timer_arm(ctx, 0, v, v);
		break;
	case W_DMA:
		avm_dma_write(ctx, v, "hello", 6);
		break;
	case W_PEEK: /* a device taken over reads where it likes */
		f->peeked = *(volatile uint64_t *)(uintptr_t)v;
		break;
	}
}

static void faulty_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct faulty *f = state;

	if (m->kind == AVM_MSG_TIMER) {
		f->ticks++;
	} else if (m->kind == AVM_MSG_WRITE) {
		faulty_write(f, m->access.offset, m->access.value, ctx);
	} else if (m->kind == AVM_MSG_READ) {
		switch (m->access.offset) {
		case R_COUNT:
			avm_reply(ctx, ++f->count);
			break;
		case R_PID:
			avm_reply(ctx, (uint64_t)getpid());
			break;
		case R_HANG:
			avm_dma_write(ctx, MARK_GPA, "INSIDE", 7);
			for (;;)
				(void)*(volatile uint64_t *)&f->ticks;
		case R_TICKS:
			avm_reply(ctx, f->ticks);
			break;
		case R_PEEKED:
			avm_reply(ctx, f->peeked);
			break;
		}
	}
}

static const struct avm_region_desc faulty_regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 0x100 },
};
static const char *const faulty_ports[] = { "irq", "out" };

static const struct avm_device_ops faulty_ops = {
	.type = "faulty",
	.state_size = sizeof(struct faulty),
	.regions = faulty_regions,
	.n_regions = 1,
	.ports = faulty_ports,
	.n_ports = 2,
	.handle = faulty_handle,
};

/* In the VMM: records the IRQ level and frames it gets, answers reads. */
struct probe_obs {
	_Atomic int level, irqs;
	_Atomic unsigned frames, frame_len;
	_Atomic int frame_ok;
};

static void probe_frame(struct probe_obs *o, const struct avm_msg *m)
{
	size_t len;
	const uint8_t *p = avm_msg_payload(m, &len);
	int ok = 1;

	for (size_t i = 0; i < len; i++)
		ok &= p[i] == (uint8_t)(i * 7);
	atomic_store(&o->frame_len, (unsigned)len);
	atomic_store(&o->frame_ok, ok);
	atomic_fetch_add(&o->frames, 1);
}

static int probe_init(void *state, const void *config, avm_ctx *ctx)
{
	(void)ctx;
	*(const void **)state = config;
	return 0;
}

static void probe_handle(void *state, const struct avm_msg *m, avm_ctx *ctx)
{
	struct probe_obs *o = *(struct probe_obs **)state;

	if (m->kind == AVM_MSG_IRQ) {
		atomic_store(&o->level, m->irq.level);
		atomic_fetch_add(&o->irqs, 1);
	} else if (m->kind == AVM_MSG_FRAME) {
		probe_frame(o, m);
	} else if (m->kind == AVM_MSG_READ) {
		avm_reply(ctx, 42);
	}
}

static const struct avm_region_desc probe_regions[] = {
	{ .name = "regs", .space = AVM_SPACE_MMIO, .size = 0x100 },
};

static const struct avm_device_ops probe_ops = {
	.type = "probe",
	.state_size = sizeof(void *),
	.regions = probe_regions,
	.n_regions = 1,
	.init = probe_init,
	.handle = probe_handle,
};

struct rig {
	avm_runtime *rt;
	avm_accessor *acc;
	avm_actor_id dev, probe;
	uint8_t *ram;
	struct probe_obs obs;
};

static void rig_up(struct rig *r, enum avm_on_failure pol, unsigned max,
		   uint64_t window_ns, uint64_t deadline_ns)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED,
					  .read_deadline_ns = deadline_ns };
	struct avm_actor_spec d = {
		.ops = &faulty_ops,
		.name = "faulty",
		.isolation = { .process = true,
			       .on_failure = pol,
			       .max_restarts = max,
			       .window_ns = window_ns },
	};
	struct avm_actor_spec p = { .ops = &probe_ops,
				    .name = "probe",
				    .config = &r->obs };
	void *ram;

	memset(r, 0, sizeof(*r));
	assert_int_equal(avm_runtime_new(&cfg, &r->rt), 0);
	assert_int_equal(avm_ram_add(r->rt, RAM_GPA, 0x10000, &ram), 0);
	r->ram = ram;
	assert_int_equal(avm_actor_create(r->rt, &p, &r->probe), 0);
	assert_int_equal(avm_actor_create(r->rt, &d, &r->dev), 0);
	assert_int_equal(avm_map(r->rt, r->dev, 0, DEV_MMIO), 0);
	assert_int_equal(avm_map(r->rt, r->probe, 0, PROBE_MMIO), 0);
	assert_int_equal(avm_bind(r->rt, r->dev, "irq", r->probe, 0), 0);
	assert_int_equal(avm_bind(r->rt, r->dev, "out", r->probe, 0), 0);
	assert_int_equal(avm_runtime_start(r->rt), 0);
	assert_int_equal(avm_accessor_new(r->rt, "test", &r->acc), 0);
}

static void rig_down(struct rig *r)
{
	avm_accessor_free(r->acc);
	avm_runtime_free(r->rt);
}

static uint64_t rd(struct rig *r, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(
		avm_read(r->acc, AVM_SPACE_MMIO, DEV_MMIO + off, 8, &v), 0);
	return v;
}

static void wr(struct rig *r, uint64_t off, uint64_t v)
{
	assert_int_equal(
		avm_write(r->acc, AVM_SPACE_MMIO, DEV_MMIO + off, 8, v), 0);
}

static struct avm_process_info info(struct rig *r)
{
	return pw_info(r->rt, r->dev);
}

static struct avm_process_info
wait_state(struct rig *r, enum avm_process_state st, unsigned restarts)
{
	return pw_wait_state(r->rt, r->dev, st, restarts, GUARD_NS);
}

static void handles_in_another_process(void **st)
{
	struct rig r;
	struct avm_process_info i;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_REMOVE, 0, 0, GUARD_NS);
	i = info(&r);
	assert_int_equal(i.state, AVM_PROC_RUNNING);
	assert_int_equal(rd(&r, R_PID), (uint64_t)i.pid);
	assert_int_not_equal(i.pid, getpid());
	assert_non_null(strstr(i.sandbox, "seccomp"));
	/* Posted writes and reads keep their order through the rings. */
	for (uint64_t n = 1; n <= 100; n++)
		assert_int_equal(rd(&r, R_COUNT), n);
	/* DMA lands in the VMM's RAM: the same pages. */
	wr(&r, W_DMA, RAM_GPA + 64);
	assert_int_equal(rd(&r, R_COUNT), 101);
	assert_string_equal((char *)r.ram + 64, "hello");
	/* A frame larger than a message's inline payload, whole. */
	wr(&r, W_FRAME, 1514);
	assert_int_equal(rd(&r, R_COUNT), 102); /* effects come before */
	assert_int_equal(atomic_load(&r.obs.frames), 1);
	assert_int_equal(atomic_load(&r.obs.frame_len), 1514);
	assert_true(atomic_load(&r.obs.frame_ok));
	/* An IRQ, and timers the supervisor keeps for it. */
	wr(&r, W_IRQ, 1);
	rd(&r, R_COUNT);
	assert_int_equal(atomic_load(&r.obs.level), 1);
	wr(&r, W_TIMER, 1000000);
	for (uint64_t g = pw_now_ns() + GUARD_NS; rd(&r, R_TICKS) < 3;)
		assert_true(pw_now_ns() < g);
	rig_down(&r);
}

static void crash_case(enum avm_on_failure pol, uint64_t how, const char *cause)
{
	struct rig r;
	struct avm_process_info i;
	uint64_t v = 0;

	rig_up(&r, pol, 0, 0, GUARD_NS);
	wr(&r, W_IRQ, 1);
	wr(&r, W_FAULT, how);
	/* The read behind the fault meets a dead device: all-ones. */
	assert_int_equal(
		avm_read(r.acc, AVM_SPACE_MMIO, DEV_MMIO + R_COUNT, 4, &v), 0);
	assert_int_equal(v, 0xffffffffull);
	i = wait_state(&r, AVM_PROC_REMOVED, 0);
	print_message("last exit: %s\n", i.last_exit);
	if (cause)
		assert_non_null(strstr(i.last_exit, cause));
	assert_true(i.last_exit[0]);
	/* Its IRQ line went low; the VMM's other actors go on. */
	assert_int_equal(atomic_load(&r.obs.level), 0);
	assert_int_equal(avm_read(r.acc, AVM_SPACE_MMIO, PROBE_MMIO, 8, &v), 0);
	assert_int_equal(v, 42);
	/* Removed: all-ones from then on, writes dropped and counted. */
	assert_int_equal(rd(&r, R_PID), UINT64_MAX);
	wr(&r, W_IRQ, 1);
	rd(&r, R_COUNT);
	assert_true(info(&r).lost >= 1);
	rig_down(&r);
}

static void null_store_is_contained(void **st)
{
	(void)st;
	/* A device process has default signal handlers: the VMM's (here
	 * cmocka's) do not turn the fault into an exit. ASan keeps its own
	 * (it ignores signal()), and its report then trips the sandbox
	 * (readlink): contained all the same, with another cause. */
#if defined(__SANITIZE_ADDRESS__)
	crash_case(AVM_ON_FAILURE_REMOVE, 1, NULL);
#else
	crash_case(AVM_ON_FAILURE_REMOVE, 1, "signal 11");
#endif
}

static void open_is_stopped_and_named(void **st)
{
	(void)st;
	crash_case(AVM_ON_FAILURE_REMOVE, 2, "it called open");
}

/*
 * A fork keeps the VMM's shared mappings: another VM's guest RAM among
 * them. The device process unmaps them before its first message: a load
 * from its own VM's RAM works, one from the other VM's faults.
 */
static void other_vms_ram_is_out_of_reach(void **st)
{
	struct avm_runtime_config cfg = { .exec = AVM_EXEC_THREADED };
	avm_runtime *other;
	struct avm_process_info i;
	uint64_t *theirs, *ours;
	struct rig r;

	(void)st;
	assert_int_equal(avm_runtime_new(&cfg, &other), 0);
	assert_int_equal(avm_ram_add(other, RAM_GPA, 0x10000, (void **)&theirs),
			 0);
	theirs[0] = 0x5ec2e75ec2e7ull;
	rig_up(&r, AVM_ON_FAILURE_REMOVE, 0, 0, GUARD_NS);
	assert_non_null(strstr(info(&r).sandbox, "shared mappings"));
	ours = (uint64_t *)(void *)(r.ram + 0x100);
	*ours = 0x0123456789abcdefull;
	wr(&r, W_PEEK, (uint64_t)(uintptr_t)ours);
	assert_int_equal(rd(&r, R_PEEKED), 0x0123456789abcdefull);
	wr(&r, W_PEEK, (uint64_t)(uintptr_t)theirs);
	assert_int_equal(rd(&r, R_PEEKED), UINT64_MAX); /* it died */
	i = wait_state(&r, AVM_PROC_REMOVED, 0);
	print_message("last exit: %s\n", i.last_exit);
#if !defined(__SANITIZE_ADDRESS__) /* see null_store_is_contained */
	assert_non_null(strstr(i.last_exit, "signal 11"));
#endif
	assert_int_equal(theirs[0], 0x5ec2e75ec2e7ull);
	rig_down(&r);
	avm_runtime_free(other);
}

static void restart_gives_power_on_state(void **st)
{
	struct rig r;
	struct avm_process_info i;
	int first;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_RESTART, 0, 0, GUARD_NS);
	for (int n = 0; n < 5; n++)
		rd(&r, R_COUNT);
	first = info(&r).pid;
	wr(&r, W_FAULT, 2);
	rd(&r, R_COUNT); /* all-ones, or the new process's first */
	i = wait_state(&r, AVM_PROC_RUNNING, 1);
	assert_int_equal(i.restarts, 1);
	assert_int_not_equal(i.pid, first);
	assert_int_equal(rd(&r, R_PID), (uint64_t)i.pid);
	/* Power-on state: the count starts again. */
	assert_true(rd(&r, R_COUNT) <= 2);
	rig_down(&r);
}

static void stop_vm_policy_stops_the_vm(void **st)
{
	struct rig r;
	int code = 0;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_STOP_VM, 0, 0, GUARD_NS);
	wr(&r, W_FAULT, 1);
	rd(&r, R_COUNT);
	assert_int_equal(avm_runtime_wait_exit(r.rt, (int64_t)GUARD_NS, &code),
			 0);
	assert_int_equal(code, AVM_VM_EXIT_DEVICE_FAILED);
	assert_int_equal(info(&r).state, AVM_PROC_DEAD);
	rig_down(&r);
}

static void restart_limit_escalates(void **st)
{
	struct rig r;
	int code = 0;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_RESTART, 2, 3600000000000ull, GUARD_NS);
	for (unsigned n = 1; n <= 2; n++) {
		wr(&r, W_FAULT, 2);
		rd(&r, R_COUNT);
		wait_state(&r, AVM_PROC_RUNNING, n);
	}
	wr(&r, W_FAULT, 2);
	rd(&r, R_COUNT);
	assert_int_equal(avm_runtime_wait_exit(r.rt, (int64_t)GUARD_NS, &code),
			 0);
	assert_int_equal(code, AVM_VM_EXIT_DEVICE_FAILED);
	assert_int_equal(info(&r).restarts, 2);
	rig_down(&r);
}

struct reader {
	struct rig *r;
	uint64_t v;
	int err;
};

static void *hang_reader(void *arg)
{
	struct reader *x = arg;
	avm_accessor *acc;

	x->err = avm_accessor_new(x->r->rt, "hang", &acc);
	if (!x->err)
		x->err = avm_read(acc, AVM_SPACE_MMIO, DEV_MMIO + R_HANG, 8,
				  &x->v);
	avm_accessor_free(acc);
	return NULL;
}

/* A read in flight when the process is killed returns at once. */
static void kill_answers_the_read_in_flight(void **st)
{
	struct rig r;
	struct reader x = { .r = &r };
	pthread_t t;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_RESTART, 0, 0, GUARD_NS);
	assert_int_equal(pthread_create(&t, NULL, hang_reader, &x), 0);
	for (uint64_t g = pw_now_ns() + GUARD_NS;
	     memcmp(r.ram + 0x1000, "INSIDE", 7);) {
		assert_true(pw_now_ns() < g);
		pw_nap();
	}
	assert_int_equal(kill(info(&r).pid, SIGKILL), 0);
	pthread_join(t, NULL);
	assert_int_equal(x.err, 0);
	assert_int_equal(x.v, UINT64_MAX);
	assert_non_null(strstr(wait_state(&r, AVM_PROC_RUNNING, 1).last_exit,
			       "signal 9"));
	rig_down(&r);
}

/* A handler that never answers: the supervisor kills it at the deadline. */
static void hung_handler_is_killed(void **st)
{
	struct rig r;
	struct avm_process_info i;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_REMOVE, 0, 0, 300000000ull);
	assert_int_equal(rd(&r, R_HANG), UINT64_MAX);
	i = wait_state(&r, AVM_PROC_REMOVED, 0);
	assert_non_null(strstr(i.last_exit, "did not answer"));
	rig_down(&r);
}

static unsigned count_dir(const char *path)
{
	DIR *d = opendir(path);
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Processes whose parent is us: live and unreaped (zombies) alike. */
static unsigned children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[300], buf[512], *p;
		int ppid = 0;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
			sscanf(p + 2, "%*c %d", &ppid);
		fclose(f);
		n += ppid == getpid();
	}
	closedir(d);
	return n;
}

static void hundred_restarts_leak_nothing(void **st)
{
	struct rig r;
	unsigned fds, tasks;

	(void)st;
	rig_up(&r, AVM_ON_FAILURE_RESTART, 64, 1, GUARD_NS);
	rd(&r, R_COUNT);
	fds = count_dir("/proc/self/fd");
	tasks = count_dir("/proc/self/task");
	assert_int_equal(children(), 1);
	for (unsigned n = 1; n <= 100; n++) {
		wr(&r, W_FAULT, 2);
		rd(&r, R_COUNT);
		wait_state(&r, AVM_PROC_RUNNING, n);
		/* Answered by the new process, from power-on state. */
		assert_true(rd(&r, R_COUNT) <= 2);
	}
	assert_int_equal(info(&r).restarts, 100);
	assert_int_equal(count_dir("/proc/self/fd"), fds);
	assert_int_equal(count_dir("/proc/self/task"), tasks);
	assert_int_equal(children(), 1);
	rig_down(&r);
	assert_int_equal(children(), 0);
}

/* Gone, or dead and waiting for init to reap it. */
static bool dead_or_gone(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool dead = true;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		dead = p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return dead;
}

/* The VMM killed with -9: its device processes die with it, not orphaned
 * to spin or sleep forever. */
static void device_dies_with_the_vmm(void **st)
{
	int p[2], dev = 0;
	pid_t vmm;

	(void)st;
	assert_int_equal(pipe(p), 0);
	vmm = fork();
	assert_true(vmm >= 0);
	if (!vmm) {
		struct rig r;

		close(p[0]);
		rig_up(&r, AVM_ON_FAILURE_RESTART, 0, 0, GUARD_NS);
		dev = info(&r).pid;
		(void)!write(p[1], &dev, sizeof(dev));
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &dev, sizeof(dev)), sizeof(dev));
	close(p[0]);
	assert_false(dead_or_gone(dev));
	kill(vmm, SIGKILL);
	waitpid(vmm, NULL, 0);
	for (uint64_t g = pw_now_ns() + GUARD_NS; !dead_or_gone(dev);) {
		assert_true(pw_now_ns() < g);
		pw_nap();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handles_in_another_process),
		cmocka_unit_test(null_store_is_contained),
		cmocka_unit_test(open_is_stopped_and_named),
		cmocka_unit_test(other_vms_ram_is_out_of_reach),
		cmocka_unit_test(restart_gives_power_on_state),
		cmocka_unit_test(stop_vm_policy_stops_the_vm),
		cmocka_unit_test(restart_limit_escalates),
		cmocka_unit_test(kill_answers_the_read_in_flight),
		cmocka_unit_test(hung_handler_is_killed),
		cmocka_unit_test(hundred_restarts_leak_nothing),
		cmocka_unit_test(device_dies_with_the_vmm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
