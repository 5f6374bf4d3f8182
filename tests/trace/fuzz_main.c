/* SPDX-License-Identifier: MIT */
/*
 * A plain main() for the fuzz target: runs it on every file named on the
 * command line, or in the directories named, so that the seed corpus is
 * checked in every build, with or without clang.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		perror(path);
		if (f)
			fclose(f);
		return 1;
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: read error\n", path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	printf("ok %s (%ld bytes)\n", path, n);
	return 0;
}

static int run_dir(const char *dir)
{
	struct dirent *de;
	char path[4096];
	DIR *d = opendir(dir);
	int bad = 0, n = 0;

	if (!d) {
		perror(dir);
		return 1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		bad |= run_file(path);
		n++;
	}
	closedir(d);
	if (!n)
		fprintf(stderr, "%s: no inputs\n", dir);
	return bad || !n;
}

int main(int argc, char **argv)
{
	struct stat st;
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st)) {
			perror(argv[i]);
			bad = 1;
		} else {
			bad |= S_ISDIR(st.st_mode) ? run_dir(argv[i])
						   : run_file(argv[i]);
		}
	}
	return bad;
}
