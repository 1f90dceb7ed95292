// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Writes the seed corpus of fuzz/fuzz_state: APTPL state files serialised
 * from real in-memory PR states by ds_state_serialize(), and corrupt
 * variants of them (flipped bytes, truncation, wrong magic, lying counts,
 * duplicates and bad holders with a correct CRC).
 *
 * Build and run from the source tree, after building the library:
 *   cc -std=c11 -D_GNU_SOURCE -Iinclude -Isrc tools/gen_state_corpus.c \
 *      build-persist/libprpath_internal.a -lpthread -o /tmp/gen_state_corpus
 *   /tmp/gen_state_corpus fuzz/corpus/fuzz_state
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds/ds_int.h"
#include "util/crc32c.h"

static const char *outdir;

static void put(const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

static void fix_crc(uint8_t *buf, size_t len)
{
	uint32_t crc = crc32c(0, buf, 16);

	prpath_put_be32(buf + 16, crc32c(crc, buf + 20, len - 20));
}

/* A state: n registrations, names "iqn.2024-01.org.prpath:h<i>,i,0x...",
 * type, holder index (-1 = none), generation, aptpl. */
struct spec {
	const char *file;
	unsigned n;
	uint8_t type;
	int holder;
	uint32_t generation;
	bool aptpl;
	bool long_names;
};

static struct prpath_lu *lu;

static void reset(void)
{
	lu->res_type = PR_TYPE_NONE;
	lu->holder = NULL;
	while (lu->reg_head) {
		struct itn *t = lu->reg_head;

		ds_reg_del(lu, t);
		ds_itn_put(lu, t);
	}
}

static void make(const struct spec *s, uint8_t **buf, size_t *len)
{
	struct itn *holder = NULL;

	reset();
	for (unsigned i = 0; i < s->n; i++) {
		char name[PRPATH_PORT_NAME_MAX];
		struct itn *t;

		if (s->long_names) {
			memset(name, 'a' + (int)(i % 26), sizeof(name));
			memcpy(name, "iqn.2024-01.org.prpath:", 23);
			snprintf(name + sizeof(name) - 20, 20, ",i,0x%012x", i);
		} else {
			snprintf(name, sizeof(name),
				 "iqn.2024-01.org.prpath:h%u,i,0x%012x", i / 3, i);
		}
		t = ds_itn_get(lu, name, (uint16_t)(1 + i % 3));
		if (!t)
			exit(1);
		ds_reg_add(lu, t, 0x1000 + i / 2, i % 4 == 3);
		if ((int)i == s->holder)
			holder = t;
	}
	lu->generation = s->generation;
	lu->aptpl = s->aptpl;
	lu->res_type = s->type;
	lu->res_scope = 0;
	lu->holder = holder;
	if (ds_state_serialize(lu, buf, len) != 0) {
		fprintf(stderr, "%s: serialise failed\n", s->file);
		exit(1);
	}
	/* must load back */
	if (ds_state_restore(lu, *buf, *len) != 0) {
		fprintf(stderr, "%s: restore failed\n", s->file);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const uint16_t ports[] = { 1, 2, 3 };
	struct prpath_lu_config cfg = {
		.size = 1 << 20,
		.target_ports = ports,
		.ntarget_ports = 3,
		.max_registrations = 64,
	};
	static const struct spec specs[] = {
		{ "valid-empty", 0, PR_TYPE_NONE, -1, 0, true, false },
		{ "valid-one", 1, PR_TYPE_NONE, -1, 1, true, false },
		{ "valid-we", 2, PR_TYPE_WE, 1, 7, true, false },
		{ "valid-ea", 3, PR_TYPE_EA, 0, 9, true, false },
		{ "valid-wero", 3, PR_TYPE_WERO, 0, 3, true, false },
		{ "valid-earo", 5, PR_TYPE_EARO, 4, 0xfffffffe, true, false },
		{ "valid-wear", 4, PR_TYPE_WEAR, -1, 12, true, false },
		{ "valid-eaar", 1, PR_TYPE_EAAR, -1, 2, true, false },
		{ "valid-aptpl0", 2, PR_TYPE_WE, 0, 4, false, false },
		{ "valid-long-names", 4, PR_TYPE_WERO, 2, 5, true, true },
		{ "valid-max", 64, PR_TYPE_EARO, 63, 100, true, false },
	};
	uint8_t *wero = NULL, *b;
	size_t wero_len = 0, len;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 1;
	}
	outdir = argv[1];
	if (prpath_lu_new(&cfg, &lu) != 0)
		return 1;
	pthread_mutex_lock(&lu->lock);
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		make(&specs[i], &b, &len);
		put(specs[i].file, b, len);
		if (strcmp(specs[i].file, "valid-wero") == 0) {
			wero = b;
			wero_len = len;
		} else {
			free(b);
		}
	}

	/* corrupt variants of valid-wero */
	b = malloc(wero_len + 16);
	if (!wero || !b)
		return 1;
#define VARIANT(name, l, edit, crc) do {                              \
		memcpy(b, wero, wero_len);                            \
		edit;                                                 \
		if (crc)                                              \
			fix_crc(b, (l));                              \
		put(name, b, (l));                                    \
	} while (0)
	VARIANT("bad-flip-body", wero_len, b[40] ^= 0x10, false);
	VARIANT("bad-flip-crc", wero_len, b[17] ^= 0x01, false);
	VARIANT("bad-trunc-hdr", 20, (void)0, false);
	VARIANT("bad-trunc-reg", wero_len - 5, (void)0, false);
	VARIANT("bad-trunc-fixlen", wero_len - 5,
		prpath_put_be32(b + 12, (uint32_t)wero_len - 5), true);
	VARIANT("bad-magic", wero_len, b[0] = 'X', true);
	VARIANT("bad-version", wero_len, b[9] = 2, true);
	VARIANT("bad-count-huge", wero_len,
		prpath_put_be32(b + 32, 0xffffffffu), true);
	VARIANT("bad-count-65", wero_len, prpath_put_be32(b + 32, 65), true);
	VARIANT("bad-count-short", wero_len, prpath_put_be32(b + 32, 2), true);
	VARIANT("bad-type", wero_len, b[25] = 2, true);
	VARIANT("bad-ar-holder", wero_len, b[25] = PR_TYPE_WEAR, true);
	VARIANT("bad-holder-range", wero_len, prpath_put_be32(b + 28, 3), true);
	VARIANT("bad-no-holder", wero_len,
		prpath_put_be32(b + 28, 0xffffffffu), true);
	VARIANT("bad-scope", wero_len, b[26] = 1, true);
	VARIANT("bad-aptpl", wero_len, b[24] = 2, true);
	VARIANT("bad-key0", wero_len, memset(b + 36, 0, 8), true);
	VARIANT("bad-rtp0", wero_len, memset(b + 44, 0, 2), true);
	VARIANT("bad-regflags", wero_len, b[46] = 0x80, true);
	VARIANT("bad-namelen", wero_len, b[49] += 1, true);
	VARIANT("bad-name-nul", wero_len, b[50] = 0, true);
	/* registration 1 (h0, port 2) renamed and moved onto registration 0 */
	{
		size_t l0 = prpath_get_be16(wero + 48);

		VARIANT("bad-duplicate", wero_len,
			(memcpy(b + 36 + 14 + l0 + 14, b + 50, l0),
			 prpath_put_be16(b + 36 + 14 + l0 + 8, 1)), true);
	}
	VARIANT("bad-trailing", wero_len + 4,
		(memset(b + wero_len, 0, 4),
		 prpath_put_be32(b + 12, (uint32_t)wero_len + 4)), true);
	pthread_mutex_unlock(&lu->lock);
	prpath_lu_free(lu);
	free(wero);
	free(b);
	return 0;
}
