// SPDX-License-Identifier: MIT
/*
 * run_pair: two VMs on actorvm, each a PC machine with an e1000 at
 * 00:03.0, connected by an nng wire; exits 0 only if both guests reach
 * success.
 *
 *   run_pair [--timeout S] [--url URL] ELF PING_CMDLINE PONG_CMDLINE
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
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pair_vm.h"

#define STATUS_SUCCESS	33 /* (0x10 << 1) | 1, as QEMU's isa-debug-exit */
#define DEFAULT_TIMEOUT 60

extern char **environ;

struct args {
	bool procs, listen;
	const char *one, *url, *elf, *cmd[2];
	char timeout[16];
	unsigned timeout_s;
};

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
	    (a->procs && (a->one || a->url)))
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

/*
 * Both in this process: each waits for its own guest, and neither VM is
 * freed before both have finished, so the last echo is not lost in a
 * closing wire.
 */
static bool run_both(const struct args *a, const char *url)
{
	static struct pair_vm ping, pong;
	uint64_t end = deadline(a);
	int s_ping = 124, s_pong = 124;
	bool ok;

	if (!pair_vm_start(&ping, "ping", a->elf, a->cmd[0], url, true, 0x0a) &&
	    !pair_vm_start(&pong, "pong", a->elf, a->cmd[1], url, false,
			   0x0b)) {
		s_ping = pair_vm_wait(&ping, end);
		s_pong = pair_vm_wait(&pong, end);
	}
	pair_vm_free(&pong);
	pair_vm_free(&ping);
	ok = report("ping", s_ping);
	return report("pong", s_pong) && ok;
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
			"ELF PING_CMDLINE PONG_CMDLINE\n"
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
