/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MD5 (RFC 1321), for iSCSI CHAP (RFC 1994, CHAP_A=5) only. MD5 is not a
 * secure hash; CHAP uses it because the protocol says so.
 */
#ifndef PRPATH_UTIL_MD5_H
#define PRPATH_UTIL_MD5_H

#include <stddef.h>
#include <stdint.h>

#define PP_MD5_LEN 16

struct pp_md5 {
	uint32_t s[4];
	uint64_t bytes;      /* total length so far */
	uint8_t buf[64];
	size_t used;         /* bytes in buf */
};

void pp_md5_init(struct pp_md5 *m);
void pp_md5_update(struct pp_md5 *m, const void *data, size_t len);
/* Writes the digest and wipes @m. */
void pp_md5_final(struct pp_md5 *m, uint8_t out[PP_MD5_LEN]);
/* One-shot digest of @len bytes. */
void pp_md5(const void *data, size_t len, uint8_t out[PP_MD5_LEN]);

#endif /* PRPATH_UTIL_MD5_H */
