/* SPDX-License-Identifier: MIT */
/* libFuzzer target: any bytes as a manifest, loaded and checked. Neither
 * may crash, leak or hang, whatever the input. */
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_manifest *m;

	if (mf_load("fuzz.yaml", (const char *)data, size, &m))
		return 0;
	mf_check(m, NULL);
	mf_free(m);
	return 0;
}
