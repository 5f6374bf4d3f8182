/* SPDX-License-Identifier: MIT */
/* A loaded journal (journal_reader.c), as the replay engine sees it. */
#ifndef AVM_JOURNAL_PRIV_H
#define AVM_JOURNAL_PRIV_H

#include <actorvm/replay.h>

struct avm_journal {
	struct avm_journal_entry *e; /* by seq; each ->data malloc'd */
	uint64_t n, cap;
	uint32_t id;
	char *name, *type;
	char **names; /* recorded names by id, 0 .. id (NULL: unknown) */
	unsigned n_names;
	char *cut_why;
	struct avm_journal_info info;
};

#endif /* AVM_JOURNAL_PRIV_H */
