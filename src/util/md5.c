/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MD5 message digest, written from the description in RFC 1321.
 */
#include <string.h>

#include "util/compiler.h"
#include "util/md5.h"

/* per-round shift amounts, RFC 1321 section 3.4 */
static const uint8_t md5_shift[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
	4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

/* T[i] = floor(2^32 * abs(sin(i + 1))) */
static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static inline uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

PP_WRAPS static void md5_block(uint32_t s[4], const uint8_t p[64])
{
	uint32_t x[16], a = s[0], b = s[1], c = s[2], d = s[3];
	unsigned i;

	for (i = 0; i < 16; i++)
		x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		       (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	for (i = 0; i < 64; i++) {
		uint32_t f, tmp;
		unsigned g;

		switch (i >> 4) {
		case 0:
			f = (b & c) | (~b & d);
			g = i;
			break;
		case 1:
			f = (b & d) | (c & ~d);
			g = (5 * i + 1) & 15;
			break;
		case 2:
			f = b ^ c ^ d;
			g = (3 * i + 5) & 15;
			break;
		default:
			f = c ^ (b | ~d);
			g = (7 * i) & 15;
			break;
		}
		tmp = d;
		d = c;
		c = b;
		b = b + rol32(a + f + md5_t[i] + x[g], md5_shift[i]);
		a = tmp;
	}
	s[0] += a;
	s[1] += b;
	s[2] += c;
	s[3] += d;
}

void pp_md5_init(struct pp_md5 *m)
{
	memset(m, 0, sizeof(*m));
	m->s[0] = 0x67452301;
	m->s[1] = 0xefcdab89;
	m->s[2] = 0x98badcfe;
	m->s[3] = 0x10325476;
}

void pp_md5_update(struct pp_md5 *m, const void *data, size_t len)
{
	const uint8_t *p = data;

	m->bytes += len;
	if (m->used) {
		size_t n = 64 - m->used < len ? 64 - m->used : len;

		memcpy(m->buf + m->used, p, n);
		m->used += n;
		p += n;
		len -= n;
		if (m->used < 64)
			return;
		md5_block(m->s, m->buf);
		m->used = 0;
	}
	while (len >= 64) {
		md5_block(m->s, p);
		p += 64;
		len -= 64;
	}
	if (len) {
		memcpy(m->buf, p, len);
		m->used = len;
	}
}

void pp_md5_final(struct pp_md5 *m, uint8_t out[PP_MD5_LEN])
{
	uint64_t bits = m->bytes * 8;
	unsigned i;

	m->buf[m->used++] = 0x80;
	if (m->used > 56) {
		memset(m->buf + m->used, 0, 64 - m->used);
		md5_block(m->s, m->buf);
		m->used = 0;
	}
	memset(m->buf + m->used, 0, 56 - m->used);
	for (i = 0; i < 8; i++)
		m->buf[56 + i] = (uint8_t)(bits >> (8 * i));
	md5_block(m->s, m->buf);
	for (i = 0; i < 16; i++)
		out[i] = (uint8_t)(m->s[i / 4] >> (8 * (i % 4)));
	/* the state holds secret-derived bytes (CHAP) */
	explicit_bzero(m, sizeof(*m));
}

void pp_md5(const void *data, size_t len, uint8_t out[PP_MD5_LEN])
{
	struct pp_md5 m;

	pp_md5_init(&m);
	pp_md5_update(&m, data, len);
	pp_md5_final(&m, out);
}
