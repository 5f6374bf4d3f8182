/* SPDX-License-Identifier: MIT */
/*
 * The KVM backend's kick signal contract (vcpu.h, @kick_signal): nothing is
 * installed at load or for the software CPU; a claim installs our handler
 * only over the default disposition and refuses, leaving it alone, a
 * signal the program handles or ignores; only SIGUSR1, SIGUSR2 and the
 * real-time signals are accepted. On KVM (skipped without /dev/kvm), a
 * VCPU refuses to start on a signal the program already handles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above included first. */
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "kvm_backend.h"
#include "vcpu.h"

static void embedder_handler(int sig)
{
	(void)sig;
}

static void (*handler_of(int sig))(int)
{
	struct sigaction sa;

	assert_int_equal(sigaction(sig, NULL, &sa), 0);
	return sa.sa_handler;
}

/* A runtime with one VCPU on @backend, halted at its first instruction,
 * started and stopped. Returns what avm_runtime_start() returned. */
static int run_halted_vcpu(enum vcpu_backend_kind backend, int kick_signal)
{
	struct vcpu_config vc = { .backend = backend,
				  .entry = 0x1000,
				  .kick_signal = kick_signal };
	struct avm_actor_spec cpu = { .ops = &vcpu_ops,
				      .name = "vcpu0",
				      .config = &vc };
	avm_runtime *rt;
	avm_actor_id id;
	uint8_t *code;
	int err;

	assert_int_equal(avm_runtime_new(NULL, &rt), 0);
	assert_int_equal(avm_ram_add(rt, 0, 1 << 20, NULL), 0);
	code = avm_ram_ptr(rt, 0x1000, 2);
	assert_non_null(code);
	code[0] = 0xfa; /* cli */
	code[1] = 0xf4; /* hlt: sleeps until a message, which never comes */
	assert_int_equal(avm_actor_create(rt, &cpu, &id), 0);
	err = avm_runtime_start(rt);
	avm_runtime_free(rt);
	return err;
}

/* Run first: no claim has been made in this process yet. */
static void soft_cpu_installs_no_handler(void **unused)
{
	(void)unused;
	assert_ptr_equal(handler_of(SIGUSR1), SIG_DFL);
	assert_int_equal(run_halted_vcpu(VCPU_BACKEND_SOFT, 0), 0);
	assert_int_equal(run_halted_vcpu(VCPU_BACKEND_SOFT, SIGUSR2), 0);
	assert_ptr_equal(handler_of(SIGUSR1), SIG_DFL);
	assert_ptr_equal(handler_of(SIGUSR2), SIG_DFL);
}

static void claim_installs_over_default_only(void **unused)
{
	int sig = SIGRTMIN + 3;
	char why[160] = "";

	(void)unused;
	assert_ptr_equal(handler_of(sig), SIG_DFL);
	assert_int_equal(vcpu_kick_signal_claim(sig, why, sizeof(why)), 0);
	assert_ptr_not_equal(handler_of(sig), SIG_DFL);
	/* Ours already: a second VCPU's claim is a no-op. */
	assert_int_equal(vcpu_kick_signal_claim(sig, why, sizeof(why)), 0);
}

static void claim_leaves_embedder_handler(void **unused)
{
	struct sigaction sa = { .sa_handler = embedder_handler };
	char why[160] = "";

	(void)unused;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR2, &sa, NULL), 0);
	assert_int_equal(vcpu_kick_signal_claim(SIGUSR2, why, sizeof(why)),
			 -EBUSY);
	assert_ptr_equal(handler_of(SIGUSR2), embedder_handler);
	assert_non_null(strstr(why, "handled"));
	assert_non_null(strstr(why, "kick_signal"));

	sa.sa_handler = SIG_IGN;
	assert_int_equal(sigaction(SIGRTMIN + 4, &sa, NULL), 0);
	assert_int_equal(vcpu_kick_signal_claim(SIGRTMIN + 4, why, sizeof(why)),
			 -EBUSY);
	assert_ptr_equal(handler_of(SIGRTMIN + 4), SIG_IGN);
	assert_non_null(strstr(why, "ignored"));
}

static void claim_refuses_other_signals(void **unused)
{
	const int bad[] = { 0, SIGKILL, SIGSEGV, SIGCHLD, SIGINT, 1000, -1 };
	void (*segv)(int) = handler_of(SIGSEGV); /* cmocka's */

	(void)unused;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vcpu_kick_signal_claim(bad[i], NULL, 0),
				 -EINVAL);
	assert_ptr_equal(handler_of(SIGSEGV), segv);
	assert_ptr_equal(handler_of(SIGCHLD), SIG_DFL);
}

/* The contract end to end: needs /dev/kvm. */
static void kvm_vcpu_leaves_embedder_handler(void **unused)
{
	struct sigaction sa = { .sa_handler = embedder_handler };
	char why[128];

	(void)unused;
	if (!vcpu_kvm_usable(why, sizeof(why))) {
		print_message("skipped: KVM unusable here (%s)\n", why);
		skip();
	}
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	assert_int_not_equal(run_halted_vcpu(VCPU_BACKEND_KVM, 0), 0);
	assert_ptr_equal(handler_of(SIGUSR1), embedder_handler);
	/* Another signal, chosen by the program: runs. */
	assert_int_equal(run_halted_vcpu(VCPU_BACKEND_KVM, SIGRTMIN + 5), 0);
	assert_ptr_not_equal(handler_of(SIGRTMIN + 5), SIG_DFL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(soft_cpu_installs_no_handler),
		cmocka_unit_test(claim_installs_over_default_only),
		cmocka_unit_test(claim_leaves_embedder_handler),
		cmocka_unit_test(claim_refuses_other_signals),
		cmocka_unit_test(kvm_vcpu_leaves_embedder_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
