/* SPDX-License-Identifier: MIT */
/*
 * `actorvm replay TRACE --actor NAME`: re-run one journaled actor alone
 * from a trace and compare what it does with what it did (actorvm/replay.h).
 * The actor's type and config come from the manifest the trace carries (or
 * --manifest), built as `run` builds it but never started.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actorvm/replay.h>

#include "build.h"
#include "cli.h"
#include "manifest.h"

/* Exit statuses of `actorvm replay`. */
enum {
	REPLAY_IDENTICAL = 0,
	REPLAY_DIVERGED = 1,
	REPLAY_USAGE = 2,
	REPLAY_BAD_TRACE = 4,
	REPLAY_NO_ACTOR = 6,
};

struct replay_args {
	const char *trace, *actor, *manifest, *vm, *guest_dir;
	uint64_t until;
	unsigned context;
	bool verbose;
};

static void replay_usage(FILE *f)
{
	fprintf(f,
		"usage: actorvm replay TRACE --actor NAME [OPTIONS]\n\n"
		"Re-runs actor NAME alone from TRACE, which must hold its "
		"journal\n"
		"(`actorvm run --journal NAME`, or trace.journal in the "
		"manifest):\n"
		"the actor is built from the manifest the trace carries, fed "
		"every\n"
		"recorded input in order (messages, DMA data, time), and each "
		"call it\n"
		"makes (sends, replies, DMA writes, timers, IRQ routes) is "
		"compared\n"
		"with the recording. Prints \"replayed N messages, outputs "
		"identical\"\n"
		"or the first divergence: the message, the expected and the "
		"actual\n"
		"call, and the inputs before it. Deterministic: the same "
		"trace gives\n"
		"the same answer every time; run it under gdb or an ASan "
		"build to\n"
		"chase a bug in the actor.\n\n"
		"  --actor NAME       the actor to replay (required)\n"
		"  --until N          stop before message N (numbered from 1)\n"
		"  --context N        inputs shown before a divergence "
		"(default 5)\n"
		"  --manifest FILE    build the actor from FILE instead of the "
		"manifest\n"
		"                     the trace carries\n"
		"  --vm NAME          the VM the actor belongs to (default: "
		"the trace's)\n"
		"  --guest-dir DIR    where images not found next to the "
		"manifest are\n"
		"                     looked for (default: $ACTORVM_GUEST_DIR "
		"or\n"
		"                     %s)\n"
		"  --verbose          log what the replayed actor logs\n\n"
		"Exit status: 0 outputs identical, 1 a divergence, 2 bad "
		"command line,\n"
		"4 the trace cannot be read or holds no journal of NAME, 6 "
		"the actor\n"
		"cannot be built from the manifest.\n",
		AVM_GUEST_DIR);
}

static int parse_count(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || !*s || *s == '-' || !*out ? -EINVAL : 0;
}

static int parse_replay(int argc, char **argv, struct replay_args *a)
{
	static const struct option opts[] = {
		{ "actor", required_argument, NULL, 'a' },
		{ "until", required_argument, NULL, 'u' },
		{ "context", required_argument, NULL, 'C' },
		{ "manifest", required_argument, NULL, 'm' },
		{ "vm", required_argument, NULL, 'V' },
		{ "guest-dir", required_argument, NULL, 'g' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t n;
	int c;

	*a = (struct replay_args){ 0 };
	while ((c = getopt_long(argc, argv, "a:u:C:m:V:g:vh", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'a':
			a->actor = optarg;
			break;
		case 'u':
			if (parse_count(optarg, &a->until))
				return -EINVAL;
			break;
		case 'C':
			if (parse_count(optarg, &n) || n > 64)
				return -EINVAL;
			a->context = (unsigned)n;
			break;
		case 'm':
			a->manifest = optarg;
			break;
		case 'V':
			a->vm = optarg;
			break;
		case 'g':
			a->guest_dir = optarg;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind != 1 || !a->actor)
		return -EINVAL;
	a->trace = argv[optind];
	a->guest_dir = avm_cli_guest_dir(a->guest_dir);
	return 0;
}

/* The manifest (the trace's, or --manifest) and the VM's name. */
static struct mf_manifest *load_manifest(const struct replay_args *a,
					 const char **vm, char **vm_copy)
{
	struct mf_manifest *m = NULL;
	avm_trace_reader *r;
	char err[512];
	int ret;

	ret = avm_trace_open(a->trace, &r, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "actorvm replay: %s\n", err);
		return NULL;
	}
	const struct avm_trace_info *ti = avm_trace_info(r);

	*vm_copy = strdup(a->vm ? a->vm : ti->vm);
	*vm = *vm_copy;
	if (a->manifest)
		ret = mf_load(a->manifest, NULL, 0, &m);
	else if (ti->manifest)
		ret = mf_load(*ti->manifest_path ? ti->manifest_path
						 : "(trace's manifest)",
			      (const char *)ti->manifest, ti->manifest_len, &m);
	else
		ret = -ENODATA;
	if (ret == -ENODATA)
		fprintf(stderr,
			"actorvm replay: %s carries no manifest: give one "
			"with --manifest\n",
			a->trace);
	else if (ret)
		fprintf(stderr, "actorvm replay: manifest: %s\n",
			strerror(-ret));
	avm_trace_close(r);
	return ret ? NULL : m;
}

static bool manifest_ok(struct mf_manifest *m, const char *guest_dir)
{
	mf_check(m, guest_dir);
	mf_print_diags(m, stderr);
	if (!mf_errors(m))
		return true;
	fprintf(stderr, "%s: %u error%s\n", m->file, mf_errors(m),
		mf_errors(m) == 1 ? "" : "s");
	return false;
}

/* The VM of @r called @vm (or the only one), or NULL with a message. */
static struct mf_vm_run *find_vm(struct mf_run *r, const char *vm)
{
	for (unsigned i = 0; i < r->n_vms; i++)
		if ((vm && *vm && !strcmp(r->vm[i].vm->name, vm)) ||
		    ((!vm || !*vm) && r->n_vms == 1))
			return &r->vm[i];
	if (vm && *vm)
		fprintf(stderr, "actorvm replay: the manifest has no VM '%s'\n",
			vm);
	else
		fprintf(stderr, "actorvm replay: the trace names no VM and the "
				"manifest has several: give --vm\n");
	return NULL;
}

static int replay_in(struct mf_vm_run *v, const avm_journal *j,
		     const struct replay_args *a)
{
	const struct avm_journal_info *ji = avm_journal_get_info(j);
	struct avm_replay_opts o = { .until = a->until,
				     .context = a->context,
				     .log_level =
					     a->verbose ? AVM_LOG_DEBUG : 0 };
	struct avm_replay_result res;
	avm_actor_id id;
	int ret;

	if (avm_actor_find(v->rt, a->actor, &id) ||
	    !(o.ops = avm_actor_ops(v->rt, id))) {
		fprintf(stderr, "actorvm replay: VM %s has no actor '%s'\n",
			v->vm->name, a->actor);
		return REPLAY_NO_ACTOR;
	}
	o.config = avm_actor_config(v->rt, id);
	if (strcmp(o.ops->type, ji->type)) {
		fprintf(stderr,
			"actorvm replay: '%s' is a %s in the manifest, but the "
			"trace recorded a %s\n",
			a->actor, o.ops->type, ji->type);
		return REPLAY_NO_ACTOR;
	}
	ret = avm_replay_run(j, &o, &res);
	if (ret) {
		fprintf(stderr, "actorvm replay: %s: %s\n", a->actor,
			strerror(-ret));
		return REPLAY_NO_ACTOR;
	}
	fputs(res.report, stdout);
	return res.diverged ? REPLAY_DIVERGED : REPLAY_IDENTICAL;
}

static int build_and_replay(const struct replay_args *a, const avm_journal *j)
{
	struct mf_build_opts bo = { .guest_dir = a->guest_dir,
				    .replay = true,
				    .log_level = a->verbose ? AVM_LOG_DEBUG
							    : AVM_LOG_ERROR };
	struct mf_run *r = calloc(1, sizeof(*r));
	struct mf_manifest *m;
	struct mf_vm_run *v;
	const char *vm = NULL;
	char *vm_copy = NULL, err[512];
	int status = REPLAY_NO_ACTOR;
	bool built = false;

	m = r ? load_manifest(a, &vm, &vm_copy) : NULL;
	if (m && manifest_ok(m, a->guest_dir)) {
		built = !mf_build(r, m, &bo, err, sizeof(err));
		if (!built)
			fprintf(stderr, "actorvm replay: %s\n", err);
		else if ((v = find_vm(r, vm)))
			status = replay_in(v, j, a);
	}
	if (built)
		mf_fini(r);
	mf_free(m);
	free(vm_copy);
	free(r);
	return status;
}

int avm_cli_replay(int argc, char **argv)
{
	struct replay_args a;
	avm_journal *j;
	char err[512];
	int ret = parse_replay(argc, argv, &a);

	if (ret) {
		replay_usage(ret > 0 ? stdout : stderr);
		return ret > 0 ? REPLAY_IDENTICAL : REPLAY_USAGE;
	}
	ret = avm_journal_load(a.trace, a.actor, &j, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "actorvm replay: %s\n", err);
		return REPLAY_BAD_TRACE;
	}
	if (avm_journal_get_info(j)->cut)
		fprintf(stderr, "actorvm replay: warning: %s\n",
			avm_journal_get_info(j)->cut_why);
	ret = build_and_replay(&a, j);
	avm_journal_free(j);
	return ret;
}
