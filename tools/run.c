/* SPDX-License-Identifier: MIT */
/* `actorvm run` and `actorvm check`: a manifest's VMs, run or checked. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build.h"
#include "cli.h"
#include "ctl_server.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

const char *avm_cli_guest_dir(const char *given)
{
	const char *env = getenv("ACTORVM_GUEST_DIR");

	return given ? given : env && *env ? env : AVM_GUEST_DIR;
}

/* Load and check @file; print what was found. NULL if it has errors. */
struct mf_manifest *avm_cli_load(const char *file, const char *guest_dir,
				 bool quiet_ok)
{
	struct mf_manifest *m;
	int err = mf_load(file, NULL, 0, &m);

	if (err) {
		fprintf(stderr, "%s: %s\n", file, strerror(-err));
		return NULL;
	}
	mf_check(m, guest_dir);
	mf_print_diags(m, stderr);
	if (mf_errors(m)) {
		fprintf(stderr, "%s: %u error%s\n", file, mf_errors(m),
			mf_errors(m) == 1 ? "" : "s");
		mf_free(m);
		return NULL;
	}
	if (!quiet_ok)
		printf("%s: ok (%u VM%s)\n", file, m->doc->vms_count,
		       m->doc->vms_count == 1 ? "" : "s");
	return m;
}

static void check_usage(FILE *f)
{
	fprintf(f,
		"usage: actorvm check [--guest-dir DIR] FILE...\n\n"
		"Checks manifests: every problem is reported as\n"
		"FILE:LINE:COLUMN: error|warning: FIELD: what was expected.\n"
		"Exits 0 if no file has errors (warnings allowed), 1 "
		"otherwise.\n\n"
		"  --guest-dir DIR  where images not found next to the "
		"manifest "
		"are\n"
		"                   looked for (default: $ACTORVM_GUEST_DIR or "
		"%s)\n",
		AVM_GUEST_DIR);
}

int avm_cli_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "guest-dir", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *gdir = NULL;
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "g:h", opts, NULL)) != -1) {
		if (c == 'h') {
			check_usage(stdout);
			return 0;
		}
		if (c != 'g') {
			check_usage(stderr);
			return 2;
		}
		gdir = optarg;
	}
	if (optind >= argc) {
		check_usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		struct mf_manifest *m =
			avm_cli_load(argv[i], avm_cli_guest_dir(gdir), false);

		bad += !m;
		mf_free(m);
	}
	return bad ? 1 : 0;
}

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: actorvm run [OPTIONS] [FILE]\n\n"
		"Builds the VMs a manifest describes and runs them until every "
		"guest\n"
		"exits through its exit port (isa-debug-exit, port 0xf4). With "
		"no FILE\n"
		"it runs the default demo, %s.\n"
		"Guest serial output (COM1) goes to stdout unless the manifest "
		"says\n"
		"otherwise; the log, including which CPU backend runs, to "
		"stderr.\n\n"
		"  --timeout SECONDS  stop the VMs after this long (exit "
		"status "
		"124)\n"
		"  --trace FILE       record a trace (one file per VM when "
		"there are\n"
		"                     several: FILE.VM.trace); overrides the "
		"manifest's\n"
		"  --journal NAME     journal actor NAME in the trace too: "
		"every "
		"message\n"
		"                     it handled and every call it made, in "
		"full, so that\n"
		"                     `actorvm replay TRACE --actor NAME` can "
		"re-run it\n"
		"                     alone (repeatable; tracing goes to "
		"actorvm.trace\n"
		"                     unless --trace or the manifest names a "
		"file)\n"
		"  --guest-dir DIR    where images not found next to the "
		"manifest are\n"
		"                     looked for (default: $ACTORVM_GUEST_DIR "
		"or\n"
		"                     %s)\n"
		"  --ctl URL          serve the control socket on this nng URL "
		"(e.g.\n"
		"                     ipc:///tmp/vm.ctl) for `actorvm ctl`. "
		"An ipc socket is\n"
		"                     made mode 0600; an existing path is "
		"replaced only if\n"
		"                     it is a socket nobody serves. Whoever "
		"can "
		"connect\n"
		"                     controls the VMs: see docs/ctl.md\n"
		"  --verbose          log debug lines too\n\n"
		"Exit status: a guest's verdict is odd, the tool's own "
		"outcomes "
		"even:\n"
		"  odd      the guests' verdict: the largest among the VMs, "
		"(V << 1) | 1\n"
		"           for a guest that wrote V to its exit port, as "
		"QEMU's\n"
		"           isa-debug-exit (33 = 0x10: success for the test "
		"guests;\n"
		"           1 = a guest that wrote 0)\n"
		"  2        bad command line\n"
		"  4        the manifest cannot be read or has errors\n"
		"  6        the VMs cannot be built or started\n"
		"  8        output was lost: a trace or serial file could not "
		"be\n"
		"           written (a full disk); it wins over the other "
		"outcomes,\n"
		"           and the guests' verdict is logged\n"
		"  10       a VM can never exit: its CPU stopped for good (a "
		"triple\n"
		"           fault, an instruction it cannot run); the others "
		"are stopped\n"
		"  12       a device process died under its stop-vm policy "
		"(or past\n"
		"           its restart limit); the others are stopped\n"
		"  124      --timeout\n"
		"  130      Ctrl-C, SIGTERM or `actorvm ctl URL stop`\n"
		"The VMs are always stopped and their traces flushed before "
		"the exit.\n",
		AVM_DEFAULT_MANIFEST, AVM_GUEST_DIR);
}

#define MAX_JOURNAL 64

struct run_args {
	const char *file, *guest_dir;
	const char *journal[MAX_JOURNAL + 1];
	unsigned n_journal;
	const char *ctl_url;
	struct mf_build_opts bo;
	int64_t timeout_ns;
};

static int parse_run(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "trace", required_argument, NULL, 'T' },
		{ "journal", required_argument, NULL, 'j' },
		{ "guest-dir", required_argument, NULL, 'g' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int c;

	*a = (struct run_args){ .file = AVM_DEFAULT_MANIFEST,
				.timeout_ns = -1 };
	while ((c = getopt_long(argc, argv, "t:T:j:g:vc:h", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 't':
			a->timeout_ns = (int64_t)(strtod(optarg, &end) * 1e9);
			if (*end || a->timeout_ns <= 0)
				return -EINVAL;
			break;
		case 'T':
			a->bo.trace_file = optarg;
			break;
		case 'j':
			if (a->n_journal == MAX_JOURNAL)
				return -EINVAL;
			a->journal[a->n_journal++] = optarg;
			a->bo.journal = a->journal;
			break;
		case 'g':
			a->guest_dir = optarg;
			break;
		case 'v':
			a->bo.log_level = AVM_LOG_DEBUG;
			break;
		case 'c':
			a->ctl_url = optarg;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind > 1)
		return -EINVAL;
	if (optind < argc)
		a->file = argv[optind];
	a->guest_dir = avm_cli_guest_dir(a->guest_dir);
	a->bo.guest_dir = a->guest_dir;
	return 0;
}

static void announce(const struct mf_run *r, const char *file)
{
	fprintf(stderr, "actorvm: %s: %u VM%s:", file, r->n_vms,
		r->n_vms == 1 ? "" : "s");
	for (unsigned i = 0; i < r->n_vms; i++)
		fprintf(stderr, "%s %s (%u VCPU%s%s)", i ? "," : "",
			r->vm[i].vm->name, r->vm[i].vm->vcpus_count,
			r->vm[i].vm->vcpus_count == 1 ? "" : "s",
			r->vm[i].vm->executor == MF_EXEC_BIGLOCK ? ", biglock"
								 : "");
	fprintf(stderr, "\n");
	for (unsigned i = 0; i < r->n_vms; i++)
		if (r->vm[i].traced)
			fprintf(stderr, "actorvm: %s: tracing to %s\n",
				r->vm[i].vm->name, r->vm[i].trace_path);
}

#define CTL_SLICE_NS 100000000 /* how often a ctl stop is looked at */

static int64_t elapsed_ns(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)(t.tv_sec - t0->tv_sec) * 1000000000 +
	       (t.tv_nsec - t0->tv_nsec);
}

/*
 * mf_wait() watches one flag, the signal handler's; a ctl stop is raised on
 * the server thread, so it is an atomic of the server's instead (a plain
 * sig_atomic_t written by another thread would be a data race). With a
 * server, wait in slices and look at it between them. -ECANCELED: ctl stop.
 */
static int wait_vms(struct mf_run *r, int64_t timeout_ns,
		    const struct ctl_server *ctl)
{
	struct timespec t0;
	int ret;

	if (!ctl)
		return mf_wait(r, timeout_ns, &stop_requested);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int64_t slice = CTL_SLICE_NS,
			left = timeout_ns - elapsed_ns(&t0);

		if (timeout_ns >= 0 && left < slice)
			slice = left > 0 ? left : 0;
		ret = mf_wait(r, slice, &stop_requested);
		if (ret != -ETIMEDOUT)
			return ret;
		if (ctl_server_stop_requested(ctl))
			return -ECANCELED;
		if (timeout_ns >= 0 && elapsed_ns(&t0) >= timeout_ns)
			return -ETIMEDOUT;
	}
}

static const char *why_stopped(int ret)
{
	return ret == -EINTR	   ? "interrupted"
	       : ret == -ECANCELED ? "stopped by `actorvm ctl stop`"
				   : "timed out";
}

/* The statuses of cli.h, from how the wait ended and what was lost. */
static int final_status(int ret, const struct mf_run *r, unsigned losses)
{
	int guests = mf_status(r);

	if (losses) {
		if (!ret)
			fprintf(stderr,
				"actorvm run: the guests' verdict was %d, but "
				"output was lost (see above): exit status %d\n",
				guests, AVM_EXIT_DATA_LOST);
		return AVM_EXIT_DATA_LOST;
	}
	if (ret == -ENOTRECOVERABLE)
		return AVM_EXIT_STUCK;
	if (ret == -EOWNERDEAD)
		return AVM_EXIT_DEVICE;
	if (ret == -ETIMEDOUT)
		return AVM_EXIT_TIMEOUT;
	return ret ? AVM_EXIT_INTERRUPTED : guests;
}

static void say_stopped(int ret, const struct mf_run *r)
{
	if (ret == -ENOTRECOVERABLE)
		fprintf(stderr,
			"actorvm run: %s: its CPU stopped for good (see "
			"above); "
			"it can never exit: stopping the VMs\n",
			mf_failed_vm(r));
	else if (ret == -EOWNERDEAD)
		fprintf(stderr,
			"actorvm run: %s: a device process died and its policy "
			"stops the VM (see above): stopping the VMs\n",
			mf_failed_vm(r));
	else if (ret)
		fprintf(stderr, "actorvm run: %s: stopping the VMs\n",
			why_stopped(ret));
}

static int run_manifest(const struct run_args *a, struct mf_manifest *m)
{
	struct mf_run *r = calloc(1, sizeof(*r));
	struct ctl_server *ctl = NULL;
	sigset_t stop_signals, old_mask;
	char err[512];
	int ret, status;

	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);

	if (!r)
		return AVM_EXIT_BUILD;
	/* Every thread the VMs start inherits this mask: Ctrl-C and SIGTERM
	 * reach the main thread only, whose handler sets the flag it reads
	 * (a handler on a VCPU thread would race with that read). */
	pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
	ret = mf_build(r, m, &a->bo, err, sizeof(err));
	if (!ret) {
		announce(r, a->file);
		ret = mf_start(r, err, sizeof(err));
	}
	if (!ret && a->ctl_url)
		ret = ctl_server_start(&ctl, a->ctl_url, r, err, sizeof(err));
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (ret) {
		fprintf(stderr, "actorvm run: %s\n", err);
		mf_fini(r);
		free(r);
		return AVM_EXIT_BUILD;
	}
	ret = wait_vms(r, a->timeout_ns, ctl);
	say_stopped(ret, r);
	ctl_server_stop(ctl); /* its accessors go before the runtimes */
	if (fflush(stdout))
		fprintf(stderr, "actorvm run: stdout: %s\n", strerror(errno));
	status = final_status(ret, r, mf_fini(r));
	free(r);
	return status;
}

int avm_cli_run(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct run_args a;
	struct mf_manifest *m;
	int ret = parse_run(argc, argv, &a);

	if (ret) {
		run_usage(ret > 0 ? stdout : stderr);
		return ret > 0 ? AVM_EXIT_OK : AVM_EXIT_USAGE;
	}
	m = avm_cli_load(a.file, a.guest_dir, true);
	if (!m)
		return AVM_EXIT_MANIFEST;
	for (unsigned i = 0; i < a.n_journal; i++) {
		const char *why = mf_journal_problem(m->doc, a.journal[i]);

		if (why) {
			fprintf(stderr,
				"actorvm run: --journal %s: it cannot be "
				"journaled: %s\n",
				a.journal[i], why);
			mf_free(m);
			return AVM_EXIT_USAGE;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = run_manifest(&a, m);
	mf_free(m);
	return ret;
}
