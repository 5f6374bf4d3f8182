/* SPDX-License-Identifier: MIT */
/* Validation of a device type at avm_actor_create() (ops_check.c). */
#ifndef AVM_OPS_CHECK_H
#define AVM_OPS_CHECK_H

#include <actorvm/runtime.h>

/*
 * avm__ops_check() - 0 if @ops is a usable device type, else -EINVAL with
 * an error logged for actor @actor naming the first bad field.
 */
int avm__ops_check(avm_runtime *rt, const char *actor,
		   const struct avm_device_ops *ops);

#endif /* AVM_OPS_CHECK_H */
