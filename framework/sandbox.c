/* SPDX-License-Identifier: MIT */
/*
 * avm_sandbox_enter() (actorvm/sandbox.h): descriptors, no-new-privileges,
 * namespaces, capabilities, then the seccomp allow-list, in that order:
 * namespaces need the capabilities that the next step drops, and the
 * allow-list forbids what the steps before it use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <actorvm/sandbox.h>

/* --- Descriptors ---------------------------------------------------------- */

static bool kept(const struct avm_sandbox_opts *o, int fd)
{
	if (fd == o->report_fd)
		return true;
	for (unsigned i = 0; i < o->n_keep; i++)
		if (o->keep[i] == fd)
			return true;
	return false;
}

/* Close what is not kept; the count goes to @r. -errno if /proc is not
 * there to list them (no blind close_range(): a kept fd could be high). */
static int close_others(const struct avm_sandbox_opts *o,
			struct avm_sandbox_report *r)
{
	DIR *d = opendir("/proc/self/fd");
	int fds[1024], n = 0, self;
	struct dirent *e;

	if (!d)
		return -errno;
	self = dirfd(d);
	while ((e = readdir(d)) && n < (int)(sizeof(fds) / sizeof(fds[0]))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != self && !kept(o, fd))
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		r->fds_closed += !close(fds[i]);
	return 0;
}

/* --- Namespaces and capabilities ------------------------------------------ */

#define NS_ALL (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS)

/* Without privilege, a user namespace first gives what the others need. */
static void enter_namespaces(struct avm_sandbox_report *r)
{
	if (!unshare(NS_ALL)) {
		r->namespaces = NS_ALL;
		return;
	}
	if (unshare(CLONE_NEWUSER)) {
		snprintf(r->ns_why, sizeof(r->ns_why),
			 "the host refuses new namespaces (%s); the process "
			 "keeps the host's",
			 strerror(errno));
		return;
	}
	r->namespaces = CLONE_NEWUSER;
	if (!unshare(NS_ALL))
		r->namespaces |= NS_ALL;
	else
		snprintf(r->ns_why, sizeof(r->ns_why),
			 "only a user namespace (%s for the others)",
			 strerror(errno));
}

static int drop_caps(struct avm_sandbox_report *r)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3
	};
	struct __user_cap_data_struct data[2] = { { 0 } };

	/* The bounding set first: dropping it needs CAP_SETPCAP, which the
	 * capset below takes away. EINVAL past the last capability. */
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL)
			break;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	r->caps_dropped = !data[0].effective && !data[0].permitted &&
			  !data[0].inheritable && !data[1].effective &&
			  !data[1].permitted && !data[1].inheritable;
	return r->caps_dropped ? 0 : -EPERM;
}

/* --- The allow-list ------------------------------------------------------- */

/* What a handler needs: its kept descriptors, memory, futexes, clocks,
 * waiting, its own signal stack (sanitizer runtimes set one), and leaving.
 * Not open, socket, exec, clone, kill or ptrace. */
static const char *const allowed[] = {
	"read",		"write",	   "readv",	     "writev",
	"pread64",	"pwrite64",	   "lseek",	     "close",
	"fstat",	"fcntl",	   "futex",	     "exit",
	"exit_group",	"rt_sigreturn",	   "rt_sigprocmask", "clock_gettime",
	"clock_getres", "clock_nanosleep", "nanosleep",	     "gettimeofday",
	"getpid",	"gettid",	   "sched_yield",    "brk",
	"munmap",	"mremap",	   "madvise",	     "membarrier",
	"epoll_wait",	"epoll_pwait",	   "epoll_ctl",	     "poll",
	"ppoll",	"restart_syscall", "getrandom",	     "sigaltstack",
};

static int allow_all(scmp_filter_ctx f)
{
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(allowed) / sizeof(allowed[0]);
	     i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr != __NR_SCMP_ERROR)
			err = seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
	}
	/* Memory, but never executable: no code the process did not have. */
	if (!err)
		err = seccomp_rule_add(
			f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!err)
		err = seccomp_rule_add(
			f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
			SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* fstat() of an open descriptor (glibc's stdio), no path lookup. */
	if (!err)
		err = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat),
				       1,
				       SCMP_A3(SCMP_CMP_MASKED_EQ,
					       AT_EMPTY_PATH, AT_EMPTY_PATH));
	return err;
}

/* The report descriptor of the SIGSYS handler: a signal handler has no
 * argument to carry it, and a sandboxed process has one policy for life. */
static int trap_fd = -1;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	struct avm_sandbox_trap t = { .magic = AVM_SANDBOX_TRAP_MAGIC,
				      .nr = si->si_syscall };

	(void)sig;
	(void)uc;
	/* Both calls are on the list; nothing else is safe here. */
	(void)!write(trap_fd, &t, sizeof(t));
	syscall(SYS_exit_group, AVM_SANDBOX_EXIT_TRAPPED);
}

static int install_filter(const struct avm_sandbox_opts *o,
			  struct avm_sandbox_report *r)
{
	bool trap = o->report_fd >= 0;
	scmp_filter_ctx f =
		seccomp_init(trap ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	int err;

	if (!f)
		return -ENOMEM;
	if (trap) {
		struct sigaction sa = { .sa_sigaction = on_sigsys,
					.sa_flags = SA_SIGINFO };

		trap_fd = o->report_fd;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSYS, &sa, NULL);
	}
	err = allow_all(f);
	if (!err)
		err = seccomp_load(f);
	seccomp_release(f);
	r->seccomp = !err;
	return err;
}

int avm_sandbox_enter(const struct avm_sandbox_opts *o,
		      struct avm_sandbox_report *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	err = close_others(o, r);
	if (err)
		return err;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	r->no_new_privs = true;
	if (o->namespaces)
		enter_namespaces(r);
	err = drop_caps(r);
	return err ? err : install_filter(o, r);
}

const char *avm_sandbox_syscall_name(int nr, char *buf, size_t len)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "syscall %d", nr);
	free(name);
	return buf;
}
