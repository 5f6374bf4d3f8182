// SPDX-License-Identifier: MIT
/*
 * run_pair: two VMs on actorvm, each a PC machine with an e1000 at
 * 00:03.0, connected by an nng wire; exits 0 only if both guests reach
 * success.
 *
 *   run_pair [--timeout S] [--url URL] [--reset VM]... [--flap VM]...
 *            ELF PING_CMDLINE PONG_CMDLINE
 *       (--timeout 0: no deadline of its own; the test runner's timeout
 *       is then the only hang guard, and it scales with meson's -t)
 *       both VMs in this process (default URL inproc://run-pair-PID);
 *       ping listens, pong dials
 *   run_pair --procs [--timeout S] ELF PING_CMDLINE PONG_CMDLINE
 *       pong in a second process (this program again, with --one), over
 *       ipc:// in a temporary directory
 *   run_pair --one NAME --url URL [--listen] [--timeout S] ELF CMDLINE
 *       one VM; exits 0 if its guest succeeds
 *
 * Each guest's serial output is printed with its VM's name in front.
 *
 * --reset VM (ping or pong) resets that VM's e1000 to its power-on state
 * with avm_actor_reset(), as a restarted device process comes back;
 * --flap VM takes its link down and up again. Events happen in the order
 * given: event k once ping has printed its (k+1)th "echoes verified" line,
 * so while the guests exchange frames, and the next only once the guest
 * has reported this one (two resets before one check would look like one).
 * The guests must be told resets=K and flaps=K, so that their verdicts
 * wait for the events wherever they fell: nothing depends on timing.
 * Success also needs each guest to have reported exactly the resets and
 * link drops it got.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pair_vm.h"

#define STATUS_SUCCESS	33 /* (0x10 << 1) | 1, as QEMU's isa-debug-exit */
#define DEFAULT_TIMEOUT 60
#define MAX_EVENTS	8

extern char **environ;

/* A reset or a link flap of VM @vm (0 ping, 1 pong). */
struct event {
	bool flap;
	int vm;
};

struct args {
	bool procs, listen;
	const char *one, *url, *elf, *cmd[2];
	char timeout[16];
	unsigned timeout_s;
	struct event ev[MAX_EVENTS];
	unsigned n_ev;
};

static const char *const vm_names[2] = { "ping", "pong" };

/* Lines the consoles count (struct pair_console_config.count). */
enum line { L_PROGRESS, L_RESET, L_DOWN, L_UP };

static const char *const counted_lines[PAIR_COUNTS] = {
	[L_PROGRESS] = "echoes verified",
	[L_RESET] = "device reset: re-initialised",
	[L_DOWN] = "e1000: link down",
	[L_UP] = "e1000: link back up",
};

/* What the events did to each VM. */
struct done {
	unsigned resets[2], flaps[2];
};

static int add_event(struct args *a, bool flap, const char *vm)
{
	int i = !strcmp(vm, "ping") ? 0 : !strcmp(vm, "pong") ? 1 : -1;

	if (i < 0 || a->n_ev == MAX_EVENTS)
		return -1;
	a->ev[a->n_ev++] = (struct event){ .flap = flap, .vm = i };
	return 0;
}

static int parse_option(struct args *a, char **argv, int *i, int argc)
{
	const char *o = argv[*i];

	if (!strcmp(o, "--procs") || !strcmp(o, "--listen")) {
		*(o[2] == 'p' ? &a->procs : &a->listen) = true;
		return 0;
	}
	if (*i + 1 >= argc)
		return -1;
	(*i)++;
	if (!strcmp(o, "--url"))
		a->url = argv[*i];
	else if (!strcmp(o, "--one"))
		a->one = argv[*i];
	else if (!strcmp(o, "--timeout"))
		a->timeout_s = (unsigned)atoi(argv[*i]);
	else if (!strcmp(o, "--reset") || !strcmp(o, "--flap"))
		return add_event(a, o[2] == 'f', argv[*i]);
	else
		return -1;
	return 0;
}

static int parse(int argc, char **argv, struct args *a)
{
	int i = 1, want;

	*a = (struct args){ .timeout_s = DEFAULT_TIMEOUT };
	for (; i < argc && !strncmp(argv[i], "--", 2); i++)
		if (parse_option(a, argv, &i, argc))
			return -1;
	want = a->one ? 2 : 3;
	if (argc - i != want || (a->one && !a->url) ||
	    (a->procs && (a->one || a->url)) ||
	    (a->n_ev && (a->procs || a->one)))
		return -1;
	a->elf = argv[i];
	a->cmd[0] = argv[i + 1];
	a->cmd[1] = a->one ? NULL : argv[i + 2];
	snprintf(a->timeout, sizeof(a->timeout), "%u", a->timeout_s);
	return 0;
}

/* 0: none (pair_vm_wait() then waits until the guest exits). */
static uint64_t deadline(const struct args *a)
{
	if (!a->timeout_s)
		return 0;
	return pair_now_ns() + (uint64_t)a->timeout_s * 1000000000ull;
}

static bool report(const char *name, int status)
{
	fflush(stdout);
	fprintf(stderr, "run_pair: %s: %s (status %d)\n", name,
		status == STATUS_SUCCESS ? "success"
		: status == 124		 ? "no exit in time"
					 : "failure",
		status);
	return status == STATUS_SUCCESS;
}

/* One VM until its guest exits; true on success. */
static bool run_one(const struct args *a)
{
	static struct pair_vm v;
	uint64_t end = deadline(a);
	int status = 124;

	if (!pair_vm_start(&v, a->one, a->elf, a->cmd[0], a->url, a->listen,
			   a->listen ? 0x0a : 0x0b))
		status = pair_vm_wait(&v, end);
	pair_vm_free(&v);
	return report(a->one, status);
}

/* Until @v's console has counted @n lines of kind @l, its guest has
 * exited or @end (0: none) has passed. */
static void await_line(struct pair_vm *v, enum line l, unsigned n, uint64_t end)
{
	const struct timespec poll = { .tv_nsec = 1000000 };

	while (atomic_load(&v->console.counted[l]) < n && !pair_vm_exited(v) &&
	       (!end || pair_now_ns() < end))
		nanosleep(&poll, NULL);
}

/* A link message to @v's e1000, as its network backend sends. */
static int post_link(struct pair_vm *v, bool up)
{
	struct avm_msg m = { .kind = E1000_MSG_LINK, .user.value = up };
	avm_accessor *acc;
	int ret = avm_accessor_new(v->rt, "run_pair", &acc);

	if (!ret) {
		ret = avm_post(acc, v->m.pci[0], &m);
		avm_accessor_free(acc);
	}
	return ret;
}

/* Down until the guest saw it (else it might see no change), then up. */
static int flap(struct pair_vm *v, unsigned n, uint64_t end)
{
	int ret = post_link(v, false);

	if (ret)
		return ret;
	await_line(v, L_DOWN, n, end);
	ret = post_link(v, true);
	if (!ret)
		await_line(v, L_UP, n, end);
	return ret;
}

static int run_event(struct pair_vm *vm[2], struct done *d,
		     const struct event *e, unsigned k, uint64_t end)
{
	struct pair_vm *v = vm[e->vm];
	int ret;

	await_line(vm[0], L_PROGRESS, k + 1, end);
	printf("run_pair: %s %s's e1000\n",
	       e->flap ? "taking down and up the link of" : "resetting",
	       vm_names[e->vm]);
	fflush(stdout);
	if (e->flap)
		return flap(v, ++d->flaps[e->vm], end);
	ret = avm_actor_reset(v->rt, v->m.pci[0]);
	if (!ret)
		await_line(v, L_RESET, ++d->resets[e->vm], end);
	return ret;
}

/* Each guest reported exactly the resets and link drops it got. */
static bool check_done(struct pair_vm *vm[2], const struct done *d)
{
	bool ok = true;

	for (int i = 0; i < 2; i++) {
		unsigned r = atomic_load(&vm[i]->console.counted[L_RESET]);
		unsigned f = atomic_load(&vm[i]->console.counted[L_DOWN]);

		if (r == d->resets[i] && f == d->flaps[i])
			continue;
		fprintf(stderr,
			"run_pair: %s: reported %u reset(s) and %u link "
			"drop(s), got %u and %u\n",
			vm_names[i], r, f, d->resets[i], d->flaps[i]);
		ok = false;
	}
	return ok;
}

/*
 * Both in this process: each waits for its own guest, and neither VM is
 * freed before both have finished, so the last echo is not lost in a
 * closing wire. The consoles' counts are read after the VMs are freed:
 * a console outlives its guest's last line.
 */
static bool run_both(const struct args *a, const char *url)
{
	static struct pair_vm ping, pong;
	struct pair_vm *vm[2] = { &ping, &pong };
	struct done d = { 0 };
	uint64_t end = deadline(a);
	int s_ping = 124, s_pong = 124, err = 0;
	bool ok;

	for (int i = 0; i < PAIR_COUNTS; i++)
		ping.console.count[i] = pong.console.count[i] =
			counted_lines[i];
	if (!pair_vm_start(&ping, "ping", a->elf, a->cmd[0], url, true, 0x0a) &&
	    !pair_vm_start(&pong, "pong", a->elf, a->cmd[1], url, false,
			   0x0b)) {
		for (unsigned k = 0; k < a->n_ev && !err; k++)
			err = run_event(vm, &d, &a->ev[k], k, end);
		s_ping = pair_vm_wait(&ping, end);
		s_pong = pair_vm_wait(&pong, end);
	}
	pair_vm_free(&pong);
	pair_vm_free(&ping);
	if (err)
		fprintf(stderr, "run_pair: an event failed: %s\n",
			strerror(-err));
	ok = report("ping", s_ping);
	ok = report("pong", s_pong) && ok;
	return check_done(vm, &d) && ok && !err;
}

static pid_t spawn_pong(const struct args *a, const char *url)
{
	char *argv[] = { "run_pair",
			 "--one",
			 "pong",
			 "--url",
			 (char *)url,
			 "--timeout",
			 (char *)a->timeout,
			 (char *)a->elf,
			 (char *)a->cmd[1],
			 NULL };
	pid_t pid;
	int ret =
		posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ);

	if (ret) {
		fprintf(stderr, "run_pair: cannot start the pong process: %s\n",
			strerror(ret));
		return -1;
	}
	return pid;
}

/* Ping here (listening), pong in a child process dialling ipc://. */
static bool run_procs(struct args *a)
{
	char dir[] = "/tmp/run-pair-XXXXXX", url[96], sock[64];
	int wstatus = 0;
	bool ok = false;
	pid_t pid;

	if (!mkdtemp(dir)) {
		perror("run_pair: mkdtemp");
		return false;
	}
	snprintf(sock, sizeof(sock), "%s/wire.sock", dir);
	snprintf(url, sizeof(url), "ipc://%s", sock);
	pid = spawn_pong(a, url);
	if (pid > 0) {
		a->one = "ping";
		a->url = url;
		a->listen = true;
		ok = run_one(a);
		/* Without a deadline a pong whose ping failed would wait on. */
		if (!ok)
			kill(pid, SIGTERM);
		if (waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus) ||
		    WEXITSTATUS(wstatus))
			ok = false;
	}
	unlink(sock);
	rmdir(dir);
	return ok;
}

int main(int argc, char **argv)
{
	struct args a;
	char url[64];

	if (parse(argc, argv, &a)) {
		fprintf(stderr,
			"usage: run_pair [--procs] [--timeout S] [--url URL] "
			"[--reset VM]... [--flap VM]... ELF PING_CMDLINE "
			"PONG_CMDLINE\n"
			"       run_pair --one NAME --url URL [--listen] "
			"[--timeout S] ELF CMDLINE\n");
		return 2;
	}
	if (a.one)
		return run_one(&a) ? 0 : 1;
	if (a.procs)
		return run_procs(&a) ? 0 : 1;
	snprintf(url, sizeof(url), "inproc://run-pair-%d", (int)getpid());
	return run_both(&a, a.url ? a.url : url) ? 0 : 1;
}
