/* SPDX-License-Identifier: MIT */
/*
 * A minimal trace writer for the tests: it encodes records with the
 * protobuf-c generated code directly, independent of the recorder, and can
 * also write the broken files that the reader must reject.
 */
#ifndef TRACE_WRITER_H
#define TRACE_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <actorvm/trace.h>

/* struct tw_header - what a test puts into the header record. */
struct tw_header {
	uint32_t version;
	const char *clock;
	const char *executor;
	uint64_t start_ns;
	const struct avm_trace_actor *actors;
	unsigned n_actors;
};

/* Encode one record (without its length prefix) into @buf; its size. */
size_t tw_encode_event(const struct avm_trace_event *ev, uint8_t *buf,
		       size_t cap);
size_t tw_encode_header(const struct tw_header *h, uint8_t *buf, size_t cap);

/* Append to @f; each returns 0 or -EIO. */
int tw_magic(FILE *f);
int tw_header(FILE *f, const struct tw_header *h);
int tw_event(FILE *f, const struct avm_trace_event *ev);
int tw_loss(FILE *f, uint32_t thread, uint64_t dropped);
int tw_footer(FILE *f, uint64_t events, uint64_t dropped);
int tw_varint(FILE *f, uint64_t v);
int tw_raw(FILE *f, const void *p, size_t n);

/* The magic and a version-1 header with @n actors named in @names. */
int tw_start(FILE *f, const char *const *names, unsigned n);

#endif /* TRACE_WRITER_H */
