/* SPDX-License-Identifier: MIT */
#ifndef MF_MANIFEST_PRIV_H
#define MF_MANIFEST_PRIV_H

#include <cyaml/cyaml.h>

#include "manifest.h"

extern const cyaml_schema_value_t mf_doc_schema;

/* Index every node's position with libyaml (manifest_pos.c). */
int mf_index_positions(struct mf_manifest *m, const char *text, size_t len);

/* An error at @line:@column (from 1) where no node path applies: what the
 * index refuses (aliases, a second document). */
void mf_report_at(struct mf_manifest *m, unsigned line, unsigned column,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* MF_MANIFEST_PRIV_H */
