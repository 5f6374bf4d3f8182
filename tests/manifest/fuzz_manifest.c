/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: any bytes as a manifest file, loaded and checked.
 * Neither may crash, leak or hang, whatever the input. The bytes go
 * through a file (a memfd, by its /proc path) so that mf_load()'s reader
 * is fuzzed too; an input starting "#big" is padded with zeros to around
 * the reader's 1 MiB limit (one byte under, at, or over: by its 5th byte).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "manifest.h"

#define LIMIT (1u << 20) /* MAX_FILE of manifest.c */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The memfd's path, the memfd made once per process. NULL if it fails. */
static const char *file_of(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;
	off_t len = (off_t)size;

	if (fd < 0) {
		fd = memfd_create("fuzz.yaml", MFD_CLOEXEC);
		if (fd < 0)
			return NULL;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (size >= 5 && !memcmp(data, "#big", 4) && LIMIT - 1 > size)
		len = LIMIT - 1 + data[4] % 3;
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size ||
	    ftruncate(fd, len))
		return NULL;
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = file_of(data, size);
	struct mf_manifest *m;

	/* Without a file (no memfd here), the text itself. */
	if (path ? mf_load(path, NULL, 0, &m)
		 : mf_load("fuzz.yaml", (const char *)data, size, &m))
		return 0;
	mf_check(m, NULL);
	mf_free(m);
	return 0;
}
