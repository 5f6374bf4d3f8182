/* SPDX-License-Identifier: MIT */
/*
 * Regression runner of the e1000 fuzz entry point for builds without
 * libFuzzer: runs seeds generated here plus every file of the corpus
 * directories given as arguments. With --write-seeds DIR it stores the
 * generated seeds there, as a starting corpus for libFuzzer.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e1000.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seed {
	uint8_t b[512];
	size_t n;
};

static void put(struct seed *s, uint32_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes && s->n < sizeof(s->b); i++)
		s->b[s->n++] = (uint8_t)(v >> (8 * i));
}

/* op 2: a 4-byte write at a raw offset (see fz_access()). */
static void seed_wr(struct seed *s, uint32_t off, uint32_t v)
{
	put(s, 2, 1);
	put(s, off | 0x200000u | 2u << 22, 3);
	put(s, v, 4);
}

/* op 4/5: descriptor @idx of the TX/RX ring, buffer @buf in RAM. */
static void seed_desc(struct seed *s, bool rx, unsigned idx, unsigned buf,
		      uint32_t lower, uint32_t upper)
{
	put(s, rx ? 5 : 4, 1);
	put(s, idx, 1);
	put(s, 1 | buf << 4, 1);
	put(s, 0, 4);
	put(s, 0, 4);
	put(s, lower, 4);
	put(s, upper, 4);
}

static void make_seeds(struct seed *s)
{
	/* 0: one legacy frame. */
	seed_desc(&s[0], false, 0, 2, 100 | 0x0b000000u, 0);
	seed_wr(&s[0], E1000_TDT, 1);
	/* 1: a received frame for us, then time. */
	put(&s[1], 6, 1);
	put(&s[1], 101, 2);
	put(&s[1], 7, 1);
	put(&s[1], 100, 2);
	/* 2: TSO: context (MSS 100, HDRLEN 54) and a data descriptor. */
	seed_desc(&s[2], false, 0, 0, 1000 | 0x27000000u,
		  54u << 8 | 100u << 16);
	seed_desc(&s[2], false, 1, 3, 1054 | 0x2f100000u, 0x300);
	seed_wr(&s[2], E1000_TDT, 2);
	/* 3: MAC loopback with moderation timers. */
	seed_wr(&s[3], E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE | 0x40);
	seed_wr(&s[3], E1000_RDTR, 5);
	seed_wr(&s[3], E1000_RADV, 9);
	seed_wr(&s[3], E1000_ITR, 100);
	seed_desc(&s[3], false, 0, 4, 64 | 0x8b000000u, 0);
	seed_wr(&s[3], E1000_TIDV, 3);
	seed_wr(&s[3], E1000_TDT, 1);
	put(&s[3], 7, 1);
	put(&s[3], 50, 2);
	/* 4: a buffer aimed at our own BAR (harness maps it after RAM). */
	seed_wr(&s[4], E1000_TDH, 40);
	seed_wr(&s[4], E1000_TDT, 3);
	seed_wr(&s[4], E1000_RDLEN, 0);
	put(&s[4], 6, 1);
	put(&s[4], 61, 2);
}

static void run_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
}

static unsigned run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		run_file(path);
		n++;
	}
	closedir(d);
	return n;
}

static int write_seeds(const char *dir, struct seed *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/seed-%u", dir, i);
		f = fopen(path, "wb");
		if (!f || fwrite(s[i].b, 1, s[i].n, f) != s[i].n)
			return 1;
		fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct seed seeds[5];
	unsigned files = 0;

	make_seeds(seeds);
	if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
		return write_seeds(argv[2], seeds, 5);
	for (unsigned i = 0; i < 5; i++)
		LLVMFuzzerTestOneInput(seeds[i].b, seeds[i].n);
	for (int i = 1; i < argc; i++)
		files += run_dir(argv[i]);
	printf("e1000 fuzz regression: 5 seeds, %u corpus files\n", files);
	return 0;
}
