/* SPDX-License-Identifier: MIT */
/*
 * The KVM backend's kick signal (the contract is in vcpu.h, @kick_signal).
 * A signal's disposition belongs to the process, not to a runtime, so
 * there is no record of our own here: the disposition itself says whether
 * the handler is ours. Two claims racing both install the same handler,
 * which is harmless; nothing is ever uninstalled, since a kick may still be
 * in flight to a VCPU thread that is stopping.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <actorvm/errbuf.h>

#include "kvm_backend.h"

static void on_kick(int sig)
{
	/* Only there so the signal ends KVM_RUN with -EINTR rather than
	 * killing the process; the VCPU thread blocks it outside KVM_RUN and
	 * takes it off with sigtimedwait(), so this hardly ever runs. */
	(void)sig;
}

static bool kick_signal_valid(int sig)
{
	return sig == SIGUSR1 || sig == SIGUSR2 ||
	       (sig >= SIGRTMIN && sig <= SIGRTMAX);
}

int vcpu_kick_signal_claim(int sig, char *why, size_t len)
{
	struct sigaction old, sa = { .sa_handler = on_kick };

	if (!kick_signal_valid(sig))
		return avm_errf(why, len, -EINVAL,
				"kick signal %d: not SIGUSR1, SIGUSR2 or a "
				"real-time signal",
				sig);
	if (sigaction(sig, NULL, &old))
		return avm_errf(why, len, -errno, "kick signal %d: %s", sig,
				strerror(errno));
	if (old.sa_handler == on_kick)
		return 0;
	if (old.sa_handler != SIG_DFL)
		return avm_errf(
			why, len, -EBUSY,
			"kick signal %d (%s) already %s by the program: "
			"left alone; choose a free one "
			"(vcpu_config.kick_signal)",
			sig, strsignal(sig),
			old.sa_handler == SIG_IGN ? "ignored" : "handled");
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL))
		return avm_errf(why, len, -errno, "kick signal %d: %s", sig,
				strerror(errno));
	return 0;
}
