// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Feeds arbitrary bytes to ds_state_restore() on one memory-backed LU (kept
 * across inputs, so restore also replaces whatever the previous input left).
 * Each input is tried as is and with its magic, length and CRC-32C fixed
 * up. A buffer that is accepted must serialise back to exactly the same bytes
 * (the format is canonical); a rejected one must leave the state unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ds/ds_int.h"
#include "util/crc32c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct prpath_lu *fuzz_lu(void)
{
	static struct prpath_lu *lu;
	static const uint16_t ports[] = { 1, 2, 3 };
	struct prpath_lu_config cfg = {
		.size = 1 << 20,
		.target_ports = ports,
		.ntarget_ports = 3,
		.max_registrations = 64,
	};

	if (!lu && prpath_lu_new(&cfg, &lu) != 0)
		abort();
	return lu;
}

static void one(struct prpath_lu *lu, const uint8_t *data, size_t size)
{
	uint8_t *before = NULL, *after = NULL;
	size_t blen = 0, alen = 0;
	int rc;

	pthread_mutex_lock(&lu->lock);
	if (ds_state_serialize(lu, &before, &blen) != 0)
		abort();
	rc = ds_state_restore(lu, data, size);
	if (ds_state_serialize(lu, &after, &alen) != 0)
		abort();
	if (rc == 0) {
		if (alen != size || memcmp(after, data, size) != 0)
			abort();
		if (lu->nreg > lu->max_reg)
			abort();
	} else if (alen != blen || memcmp(after, before, blen) != 0) {
		abort();
	}
	pthread_mutex_unlock(&lu->lock);
	free(before);
	free(after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prpath_lu *lu = fuzz_lu();
	uint8_t *fixed;

	one(lu, data, size);
	/* Again with a valid magic, length and CRC, so that the fuzzer gets
	 * past the checksum to the semantic checks. */
	if (size < 20)
		return 0;
	fixed = malloc(size);
	if (!fixed)
		return 0;
	memcpy(fixed, data, size);
	memcpy(fixed, "PRPATHPR", 8);
	prpath_put_be32(fixed + 12, (uint32_t)size);
	prpath_put_be32(fixed + 16,
			crc32c(crc32c(0, fixed, 16), fixed + 20, size - 20));
	one(lu, fixed, size);
	free(fixed);
	return 0;
}
