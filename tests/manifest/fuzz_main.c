/* SPDX-License-Identifier: MIT */
/* Runs the manifest fuzz entry point over every file of the directories
 * given (the broken corpus and the examples), for builds without
 * libFuzzer: the target keeps compiling and its findings stay fixed. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 20];
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	/* Every prefix too: truncated documents are the common bad input. */
	for (size_t cut = 0; cut < n; cut += 7)
		LLVMFuzzerTestOneInput(buf, cut);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned files = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		char path[4096];

		if (!d) {
			fprintf(stderr, "%s: cannot open\n", argv[i]);
			return 1;
		}
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
				 e->d_name);
			files += !run_file(path);
		}
		closedir(d);
	}
	printf("fuzz_manifest_regress: %u files\n", files);
	return files ? 0 : 1;
}
