/* SPDX-License-Identifier: MIT */
/**
 * DOC: registry - the actor types a manifest can name
 *
 * An explicit table (registry.c), not linker sections: what `actorvm list`
 * prints, what `actorvm check` accepts, and what `actorvm run` creates.
 */
#ifndef MF_REGISTRY_H
#define MF_REGISTRY_H

#include <actorvm/actor.h>

/**
 * enum mf_type_kind - how a type enters a VM.
 * @MF_KIND_DEVICE: listed under a VM's devices (PCI if ops->pci is set).
 * @MF_KIND_PLATFORM: part of every VM (the PC machine makes it).
 * @MF_KIND_NETWORK: a network backend, made from the manifest's networks.
 */
enum mf_type_kind { MF_KIND_DEVICE, MF_KIND_PLATFORM, MF_KIND_NETWORK };

/** struct mf_option - one option a type takes, with a line of docs. */
struct mf_option {
	const char *key;
	const char *doc;
};

/** struct mf_type - one actor type; its name is ops->type. */
struct mf_type {
	enum mf_type_kind kind;
	const struct avm_device_ops *ops;
	const struct mf_option *options; /* NULL-terminated */
};

/** mf_types - every type, ended by an entry whose ops is NULL. */
extern const struct mf_type mf_types[];

/** mf_type_find() - the type called @name, or NULL. */
const struct mf_type *mf_type_find(const char *name);

/** mf_type_has_option() - whether @t takes option @key. */
bool mf_type_has_option(const struct mf_type *t, const char *key);

/** mf_type_option_list() - "a, b, c" into @buf. */
void mf_type_option_list(const struct mf_type *t, char *buf, size_t len);

#endif /* MF_REGISTRY_H */
