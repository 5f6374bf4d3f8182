/* SPDX-License-Identifier: MIT */
/* Inside host-kvm only: what kvm_vcpu.c needs of a VM. */
#ifndef HOST_KVM_PRIV_H
#define HOST_KVM_PRIV_H

#include <stdatomic.h>

#include "kvm_vm.h"

struct kvm_vm {
	int kvm, fd;
	size_t run_size; /* of each VCPU's struct kvm_run mapping */
	bool irqchip;
	_Atomic unsigned refs;
};

#endif /* HOST_KVM_PRIV_H */
