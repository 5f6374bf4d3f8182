/* SPDX-License-Identifier: MIT */
#ifndef MF_MANIFEST_PRIV_H
#define MF_MANIFEST_PRIV_H

#include <cyaml/cyaml.h>

#include "manifest.h"

extern const cyaml_schema_value_t mf_doc_schema;

/* Index every node's position with libyaml (manifest_pos.c). */
int mf_index_positions(struct mf_manifest *m, const char *text, size_t len);

#endif /* MF_MANIFEST_PRIV_H */
