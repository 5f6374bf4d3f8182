/* SPDX-License-Identifier: MIT */
/* Private to actors/vcpu: what the KVM backend (kvm_backend.c), the "kvm"
 * actor (kvm_vm_actor.c) and the kick signal (kvm_kick.c) share. */
#ifndef VCPU_KVM_BACKEND_H
#define VCPU_KVM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include <actorvm/runtime.h>

#include "kvm_vm.h"

/*
 * A KVM VM with @ctx's runtime's RAM blocks as its memory slots (and the
 * in-kernel irqchip if @irqchip): the "kvm" actor's, or a VCPU's private
 * one. Returns 0 with one reference in @out, or a negative errno.
 */
int vcpu_kvm_vm_open(avm_ctx *ctx, bool irqchip, struct kvm_vm **out);

/*
 * Make @sig (not 0) usable as a kick signal: valid (SIGUSR1, SIGUSR2,
 * SIGRTMIN..SIGRTMAX; else -EINVAL), and handled by our empty handler,
 * installed here if the signal has its default disposition. A signal the
 * embedder handles or ignores is left as it is: -EBUSY. @why (may be
 * NULL) says why on failure. Any thread; see vcpu.h, @kick_signal.
 */
int vcpu_kick_signal_claim(int sig, char *why, size_t len);

#endif /* VCPU_KVM_BACKEND_H */
