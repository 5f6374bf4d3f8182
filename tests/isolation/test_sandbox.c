/* SPDX-License-Identifier: MIT */
/*
 * avm_sandbox_enter() in forked children (a sandbox cannot be left, so
 * never in the test process itself):
 * - a sandboxed child still does what a handler does (memory, its kept
 *   descriptors, clocks), and has lost the descriptors it did not keep,
 *   its capabilities and the right to gain privileges;
 * - open(), socket(), execve() and fork() each end it at once, and its
 *   report names the call;
 * - without a report descriptor the kernel kills it with SIGSYS;
 * - namespaces: entered where the host allows, else the reason is given
 *   (the test says which it saw).
 * Children leave with _exit(): nothing of the test process's own exit
 * (cmocka, a sanitizer's leak check) runs under their filter.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <actorvm/sandbox.h>

/* What a sandboxed child tells the test, through a kept pipe. */
struct verdict {
	int enter_err;
	struct avm_sandbox_report rep;
	int stray_closed; /* an fd it did not keep is gone */
	int worked;	  /* memory, clock and pipe still work */
};

typedef void (*child_fn)(int out);

struct run {
	int status;
	struct verdict v;
	bool got_verdict;
	struct avm_sandbox_trap trap;
	bool trapped;
};

/* Fork; the child enters the sandbox (keeping @out and the report pipe's
 * write end), writes its verdict, then runs @fn. */
static void run_child(child_fn fn, bool report, bool ns, struct run *r)
{
	int data[2], rep[2], stray = open("/dev/null", O_RDONLY);
	pid_t pid;

	assert_true(stray >= 0);
	assert_int_equal(pipe(data), 0);
	assert_int_equal(pipe(rep), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct avm_sandbox_opts o = { .keep = &data[1],
					      .n_keep = 1,
					      .report_fd = report ? rep[1] : -1,
					      .namespaces = ns };
		struct verdict v = { 0 };
		struct timespec ts;
		char *big;

		v.enter_err = avm_sandbox_enter(&o, &v.rep);
		v.stray_closed = fcntl(stray, F_GETFD) < 0 && errno == EBADF;
		big = malloc(8 << 20);
		v.worked = big && !clock_gettime(CLOCK_MONOTONIC, &ts);
		if (big)
			memset(big, 1, 8 << 20);
		free(big);
		(void)!write(data[1], &v, sizeof(v));
		if (!v.enter_err && fn)
			fn(data[1]);
		_exit(0);
	}
	close(stray);
	close(data[1]);
	close(rep[1]);
	memset(r, 0, sizeof(*r));
	r->got_verdict = read(data[0], &r->v, sizeof(r->v)) == sizeof(r->v);
	r->trapped = read(rep[0], &r->trap, sizeof(r->trap)) == sizeof(r->trap);
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
	close(data[0]);
	close(rep[0]);
}

/* A host may refuse a step that is not ours to grant: say so and skip. */
static void check_entered(const struct run *r)
{
	const struct verdict *v = &r->v;

	assert_true(r->got_verdict);
	if (v->enter_err && v->rep.caps_dropped && !v->rep.seccomp) {
		print_message("the host refuses a seccomp filter (%s): "
			      "skipped\n",
			      strerror(-v->enter_err));
		skip();
	}
	if (v->enter_err == -ENOENT && !v->rep.no_new_privs) {
		print_message("no /proc to list descriptors: skipped\n");
		skip();
	}
	assert_int_equal(v->enter_err, 0);
}

/* A clean exit; a trap is named (the list lacks what a handler needed). */
static void expect_no_trap(const struct run *r)
{
	char name[64];

	if (r->trapped)
		fail_msg("trapped on %s",
			 avm_sandbox_syscall_name(r->trap.nr, name,
						  sizeof(name)));
	assert_true(WIFEXITED(r->status));
	assert_int_equal(WEXITSTATUS(r->status), 0);
}

static void handler_work_goes_on(void **state)
{
	struct run r;

	run_child(NULL, true, false, &r);
	check_entered(&r);
	expect_no_trap(&r);
	assert_true(r.v.worked);
	assert_true(r.v.stray_closed);
	assert_true(r.v.rep.fds_closed >= 4); /* stdin..stderr, the stray */
	assert_true(r.v.rep.no_new_privs);
	assert_true(r.v.rep.caps_dropped);
	assert_true(r.v.rep.seccomp);
}

static void do_open(int out)
{
	(void)open("/etc/hostname", O_RDONLY);
}

static void do_socket(int out)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void do_exec(int out)
{
	execl("/bin/true", "true", (char *)NULL);
}

static void do_fork(int out)
{
	/* glibc's fork() is clone(); the raw syscall is the same call. */
	if (fork() == 0)
		_exit(0);
}

static void expect_trap(child_fn fn, const char *const *names)
{
	char name[64];
	struct run r;

	run_child(fn, true, false, &r);
	check_entered(&r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), AVM_SANDBOX_EXIT_TRAPPED);
	assert_true(r.trapped);
	assert_int_equal(r.trap.magic, AVM_SANDBOX_TRAP_MAGIC);
	avm_sandbox_syscall_name(r.trap.nr, name, sizeof(name));
	for (; *names; names++)
		if (!strcmp(name, *names))
			return;
	fail_msg("trapped on %s", name);
}

static void forbidden_calls_are_named(void **state)
{
	expect_trap(do_open, (const char *const[]){ "open", "openat", NULL });
	expect_trap(do_socket, (const char *const[]){ "socket", NULL });
	expect_trap(do_exec, (const char *const[]){ "execve", NULL });
	expect_trap(do_fork,
		    (const char *const[]){ "clone", "clone3", "fork", NULL });
}

static void without_report_sigsys(void **state)
{
	struct run r;

	run_child(do_open, false, false, &r);
	check_entered(&r);
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(WTERMSIG(r.status), SIGSYS);
	assert_false(r.trapped);
}

static void namespaces_or_a_reason(void **state)
{
	struct run r;

	run_child(NULL, true, true, &r);
	check_entered(&r);
	expect_no_trap(&r);
	if (r.v.rep.namespaces & CLONE_NEWNET) {
		assert_true(r.v.rep.namespaces & CLONE_NEWIPC);
		print_message("entered new namespaces (%#lx)%s%s\n",
			      r.v.rep.namespaces, *r.v.rep.ns_why ? ": " : "",
			      r.v.rep.ns_why);
	} else {
		/* Refused: never silently. */
		assert_true(strlen(r.v.rep.ns_why) > 0);
		print_message("host refused namespaces: %s\n", r.v.rep.ns_why);
	}
	assert_true(r.v.rep.caps_dropped);
	assert_true(r.v.rep.seccomp);
}

static void syscall_names(void **state)
{
	char buf[32];

	assert_string_equal(avm_sandbox_syscall_name(0, buf, sizeof(buf)),
			    "read");
	assert_string_equal(avm_sandbox_syscall_name(-5, buf, sizeof(buf)),
			    "syscall -5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handler_work_goes_on),
		cmocka_unit_test(forbidden_calls_are_named),
		cmocka_unit_test(without_report_sigsys),
		cmocka_unit_test(namespaces_or_a_reason),
		cmocka_unit_test(syscall_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
