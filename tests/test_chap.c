/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CHAP: MD5 (RFC 1321 test suite), the CHAP response (RFC 1994), binary
 * value encodings (RFC 7143 6.1), the target's CHAP state machine driven
 * through iscsi_negotiate() as the login code drives it, and the CHAP part
 * of iscsi:// URLs.
 *
 * Expected digests were computed independently with python3's hashlib.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/url.h"
#include "target/chap.h"
#include "target/pdu.h"
#include "util/md5.h"

static void hex_of(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- MD5 ------------------------------------------------------------------ */

static const struct {
	const char *msg;
	const char *md5;
} md5_vectors[] = { /* RFC 1321 appendix A.5 */
	{ "", "d41d8cd98f00b204e9800998ecf8427e" },
	{ "a", "0cc175b9c0f1b6a831c399e269772661" },
	{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
	{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
	{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	  "d174ab98d277d9f5a5611c2c9f419d9f" },
	{ "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
	  "57edf4a22be3c955ac49da2e2107b67a" },
};

static void test_md5_rfc1321(void **state)
{
	uint8_t d[PP_MD5_LEN];
	char hex[2 * PP_MD5_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(md5_vectors) / sizeof(md5_vectors[0]); i++) {
		pp_md5(md5_vectors[i].msg, strlen(md5_vectors[i].msg), d);
		hex_of(d, sizeof(d), hex);
		assert_string_equal(hex, md5_vectors[i].md5);
	}
}

/* Split updates at every offset give the same digest (block and padding
 * boundaries: 55, 56, 63, 64 bytes). */
static void test_md5_incremental(void **state)
{
	const char *msg = md5_vectors[6].msg; /* 80 bytes */
	size_t len = strlen(msg);
	uint8_t d[PP_MD5_LEN];
	char hex[2 * PP_MD5_LEN + 1];
	uint8_t a1000[1000];
	struct pp_md5 m;

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		pp_md5_init(&m);
		pp_md5_update(&m, msg, cut);
		pp_md5_update(&m, msg + cut, len - cut);
		pp_md5_final(&m, d);
		hex_of(d, sizeof(d), hex);
		assert_string_equal(hex, md5_vectors[6].md5);
	}
	memset(a1000, 'a', sizeof(a1000));
	pp_md5_init(&m);
	for (size_t i = 0; i < sizeof(a1000); i += 7)
		pp_md5_update(&m, a1000 + i, sizeof(a1000) - i < 7 ? sizeof(a1000) - i : 7);
	pp_md5_final(&m, d);
	hex_of(d, sizeof(d), hex);
	assert_string_equal(hex, "cabe45dcc9ae5b66ba86600cca6b8ba8");
}

/* ---- CHAP computation and encodings --------------------------------------- */

static void test_chap_response_vector(void **state)
{
	uint8_t chal[16], chal32[32], r[16];
	char hex[40];

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		chal[i] = (uint8_t)i;
	iscsi_chap_response(0x2a, (const uint8_t *)"initiatorsecret1", 16, chal,
			    sizeof(chal), r);
	hex_of(r, sizeof(r), hex);
	assert_string_equal(hex, "a5cd4c4cc5e63021e6da5072644eb7bf");
	for (unsigned i = 0; i < 32; i++)
		chal32[i] = (uint8_t)(0xa0 + i);
	iscsi_chap_response(7, (const uint8_t *)"targetsecret22", 14, chal32,
			    sizeof(chal32), r);
	hex_of(r, sizeof(r), hex);
	assert_string_equal(hex, "2279146469c6a04c8b5814bafae06709");
	assert_int_equal(iscsi_chap_hex(r, sizeof(r), hex, sizeof(hex)), 0);
	assert_string_equal(hex, "0x2279146469c6a04c8b5814bafae06709");
	assert_int_equal(iscsi_chap_hex(r, sizeof(r), hex, 34), -ENOSPC);
}

static void test_chap_decode(void **state)
{
	uint8_t b[64];
	const char *v;

	(void)state;
	v = "0xa5CD4c";
	assert_int_equal(iscsi_chap_decode(v, strlen(v), b, sizeof(b)), 3);
	assert_int_equal(b[0], 0xa5);
	assert_int_equal(b[1], 0xcd);
	assert_int_equal(b[2], 0x4c);
	v = "0Xabc"; /* odd digit count: leading nibble */
	assert_int_equal(iscsi_chap_decode(v, strlen(v), b, sizeof(b)), 2);
	assert_int_equal(b[0], 0x0a);
	assert_int_equal(b[1], 0xbc);
	v = "0bpc1MTMXmMCHm2lByZE63vw==";
	assert_int_equal(iscsi_chap_decode(v, strlen(v), b, sizeof(b)), 16);
	assert_int_equal(b[0], 0xa5);
	assert_int_equal(b[15], 0xbf);
	v = "0BYWJj"; /* "abc", no padding */
	assert_int_equal(iscsi_chap_decode(v, strlen(v), b, sizeof(b)), 3);
	assert_memory_equal(b, "abc", 3);
	v = "0bYWI="; /* "ab" */
	assert_int_equal(iscsi_chap_decode(v, strlen(v), b, sizeof(b)), 2);
	assert_memory_equal(b, "ab", 2);

	static const char *const bad[] = {
		"", "0", "0x", "0b", "a5cd", "0xg0", "0x12 ", "0bYWJ", "0bYW=j",
		"0b!!!!", "0bYWJ=" /* non-zero leftover bits */, "0z12",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(iscsi_chap_decode(bad[i], strlen(bad[i]), b,
						   sizeof(b)), -EINVAL);
	/* too long for the buffer */
	v = "0x00112233";
	assert_int_equal(iscsi_chap_decode(v, strlen(v), b, 3), -EINVAL);
}

/* ---- the state machine ---------------------------------------------------- */

#define SECRET "initiatorsecret1"
#define MSECRET "targetsecret22"

static const struct iscsi_chap_cfg cfg_oneway = {
	.user = "alice",
	.secret = (const uint8_t *)SECRET,
	.secret_len = sizeof(SECRET) - 1,
};

static const struct iscsi_chap_cfg cfg_mutual = {
	.user = "alice",
	.secret = (const uint8_t *)SECRET,
	.secret_len = sizeof(SECRET) - 1,
	.mutual_user = "tgt",
	.mutual_secret = (const uint8_t *)MSECRET,
	.mutual_secret_len = sizeof(MSECRET) - 1,
};

/* identifier 0x11 (17), challenge 20 21 .. 2f */
#define GOOD_R_HEX "0x0bb1afefeffdb5d6b75ed3d2b75981b7"
#define GOOD_R_B64 "0bC7Gv7+/9tda3XtPSt1mBtw=="
#define OUR_C_HEX "0x202122232425262728292a2b2c2d2e2f"
#define PEER_C_HEX "0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
#define PEER_C_B64 "0boKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8="
#define PEER_R_HEX "0x2279146469c6a04c8b5814bafae06709"

struct sm {
	struct iscsi_params p;
	struct iscsi_chap chap;
	char out[2048];
	size_t olen;
};

static void sm_start(struct sm *s, const struct iscsi_chap_cfg *cfg)
{
	uint8_t rnd[ISCSI_CHAP_RANDOM_LEN];

	rnd[0] = 0x11;
	for (unsigned i = 0; i < ISCSI_CHAP_CHALLENGE_LEN; i++)
		rnd[1 + i] = (uint8_t)(0x20 + i);
	memset(s, 0, sizeof(*s));
	iscsi_params_init(&s->p, 262144);
	iscsi_chap_init(&s->chap, cfg, rnd);
	s->p.chap = &s->chap;
}

/* One security-stage login request of NULL-terminated "key=value"
 * strings; returns iscsi_negotiate()'s result, the answer in s->out. */
static int sm_step(struct sm *s, ...)
{
	char in[2048];
	size_t ilen = 0;
	const char *kv;
	va_list ap;

	va_start(ap, s);
	while ((kv = va_arg(ap, const char *)) != NULL) {
		size_t n = strlen(kv) + 1;

		assert_true(ilen + n <= sizeof(in));
		memcpy(in + ilen, kv, n);
		ilen += n;
	}
	va_end(ap);
	s->olen = 0;
	memset(s->out, 0, sizeof(s->out));
	return iscsi_negotiate(&s->p, ISCSI_NEGO_SECURITY, (const uint8_t *)in,
			       ilen, s->out, sizeof(s->out), &s->olen, NULL);
}

static void assert_out(const struct sm *s, const char *expect, size_t len)
{
	assert_int_equal(s->olen, len);
	assert_memory_equal(s->out, expect, len);
}

#define OUT(s, lit) assert_out((s), (lit), sizeof(lit) - 1)

/* Brings @s to WAIT_R: AuthMethod, then CHAP_A in a second request. */
static void sm_to_challenge(struct sm *s)
{
	assert_int_equal(sm_step(s, "InitiatorName=iqn.2026-11.test:i",
				 "SessionType=Normal",
				 "TargetName=iqn.2026-11.io.prpath:target",
				 "AuthMethod=CHAP,None", NULL), 0);
	OUT(s, "AuthMethod=CHAP\0");
	assert_int_equal(s->chap.state, ISCSI_CHAP_WAIT_A);
	assert_false(iscsi_chap_done(&s->chap));
	assert_string_equal(s->p.initiator_name, "iqn.2026-11.test:i");
	assert_false(s->p.auth_none_agreed);

	assert_int_equal(sm_step(s, "CHAP_A=7,5", NULL), 0);
	OUT(s, "CHAP_A=5\0CHAP_I=17\0CHAP_C=" OUR_C_HEX "\0");
	assert_int_equal(s->chap.state, ISCSI_CHAP_WAIT_R);
}

static void test_sm_good(void **state)
{
	struct sm s;

	(void)state;
	sm_start(&s, &cfg_oneway);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX, NULL), 0);
	assert_int_equal(s.olen, 0);
	assert_true(iscsi_chap_done(&s.chap));

	/* the same with a base64 response */
	sm_start(&s, &cfg_oneway);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_R=" GOOD_R_B64, "CHAP_N=alice", NULL), 0);
	assert_true(iscsi_chap_done(&s.chap));
	/* CHAP keys after success fail */
	assert_int_equal(sm_step(&s, "CHAP_A=5", NULL), ISCSI_LOGIN_AUTH_FAILED);
}

/* AuthMethod and CHAP_A in one request get the challenge at once. */
static void test_sm_method_and_alg_together(void **state)
{
	struct sm s;

	(void)state;
	sm_start(&s, &cfg_oneway);
	assert_int_equal(sm_step(&s, "AuthMethod=None,CHAP", "CHAP_A=5", NULL), 0);
	OUT(&s, "AuthMethod=CHAP\0CHAP_A=5\0CHAP_I=17\0CHAP_C=" OUR_C_HEX "\0");
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX, NULL), 0);
	assert_true(iscsi_chap_done(&s.chap));
}

static void test_sm_bad_response(void **state)
{
	struct sm s;

	(void)state;
	sm_start(&s, &cfg_oneway);
	sm_to_challenge(&s);
	/* last byte changed */
	assert_int_equal(sm_step(&s, "CHAP_N=alice",
				 "CHAP_R=0x0bb1afefeffdb5d6b75ed3d2b75981b6", NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	assert_int_equal(s.chap.state, ISCSI_CHAP_FAILED);
	assert_string_equal(s.chap.reason, "wrong CHAP_R");
	assert_false(iscsi_chap_done(&s.chap));
	/* failed stays failed, even with the right answer */
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX, NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	assert_false(iscsi_chap_done(&s.chap));

	/* a response of the wrong length */
	sm_start(&s, &cfg_oneway);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice",
				 "CHAP_R=0x0bb1afefeffdb5d6b75ed3d2b75981", NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	assert_string_equal(s.chap.reason, "malformed CHAP_R");

	/* no CHAP_R at all */
	sm_start(&s, &cfg_oneway);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", NULL), ISCSI_LOGIN_AUTH_FAILED);
	assert_false(iscsi_chap_done(&s.chap));
}

static void test_sm_bad_name(void **state)
{
	struct sm s;

	(void)state;
	sm_start(&s, &cfg_oneway);
	sm_to_challenge(&s);
	/* right secret and response, wrong name */
	assert_int_equal(sm_step(&s, "CHAP_N=bob", "CHAP_R=" GOOD_R_HEX, NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	assert_string_equal(s.chap.reason, "unknown CHAP_N");
	sm_start(&s, &cfg_oneway);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alicex", "CHAP_R=" GOOD_R_HEX, NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	sm_start(&s, &cfg_oneway);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alic", "CHAP_R=" GOOD_R_HEX, NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	assert_false(iscsi_chap_done(&s.chap));
}

static void test_sm_none_when_required(void **state)
{
	struct sm s;

	(void)state;
	sm_start(&s, &cfg_oneway);
	assert_int_equal(sm_step(&s, "InitiatorName=iqn.2026-11.test:i",
				 "AuthMethod=None", NULL), ISCSI_LOGIN_AUTH_FAILED);
	assert_false(s.p.auth_none_agreed);
	assert_false(iscsi_chap_done(&s.chap));
	/* no AuthMethod at all */
	sm_start(&s, &cfg_oneway);
	assert_int_equal(sm_step(&s, "InitiatorName=iqn.2026-11.test:i", NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	/* SRP only */
	sm_start(&s, &cfg_oneway);
	assert_int_equal(sm_step(&s, "AuthMethod=SRP,KRB5", NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	/* jumping to the response without a challenge */
	sm_start(&s, &cfg_oneway);
	assert_int_equal(sm_step(&s, "AuthMethod=CHAP", "CHAP_N=alice",
				 "CHAP_R=" GOOD_R_HEX, NULL), ISCSI_LOGIN_AUTH_FAILED);
	/* no MD5 */
	sm_start(&s, &cfg_oneway);
	assert_int_equal(sm_step(&s, "AuthMethod=CHAP", NULL), 0);
	assert_int_equal(sm_step(&s, "CHAP_A=6,7", NULL), ISCSI_LOGIN_AUTH_FAILED);
	/* a repeated key */
	sm_start(&s, &cfg_oneway);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX,
				 "CHAP_R=" GOOD_R_HEX, NULL), ISCSI_LOGIN_AUTH_FAILED);

	/* without CHAP configured, None is still chosen */
	memset(&s, 0, sizeof(s));
	iscsi_params_init(&s.p, 262144);
	assert_int_equal(sm_step(&s, "AuthMethod=CHAP,None", NULL), 0);
	OUT(&s, "AuthMethod=None\0");
	assert_true(s.p.auth_none_agreed);
}

static void test_sm_mutual(void **state)
{
	struct sm s;

	(void)state;
	sm_start(&s, &cfg_mutual);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX,
				 "CHAP_I=7", "CHAP_C=" PEER_C_HEX, NULL), 0);
	OUT(&s, "CHAP_N=tgt\0CHAP_R=" PEER_R_HEX "\0");
	assert_true(iscsi_chap_done(&s.chap));

	/* base64 challenge, hex identifier */
	sm_start(&s, &cfg_mutual);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX,
				 "CHAP_I=0x07", "CHAP_C=" PEER_C_B64, NULL), 0);
	OUT(&s, "CHAP_N=tgt\0CHAP_R=" PEER_R_HEX "\0");

	/* mutual configured, the initiator does not ask */
	sm_start(&s, &cfg_mutual);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX, NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	assert_int_equal(s.olen, 0);

	/* the initiator asks, mutual not configured */
	sm_start(&s, &cfg_oneway);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX,
				 "CHAP_I=7", "CHAP_C=" PEER_C_HEX, NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	assert_int_equal(s.olen, 0);

	/* a wrong initiator response never gets our answer */
	sm_start(&s, &cfg_mutual);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice",
				 "CHAP_R=0x00000000000000000000000000000000",
				 "CHAP_I=7", "CHAP_C=" PEER_C_HEX, NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	assert_int_equal(s.olen, 0);

	/* CHAP_I without CHAP_C, bad CHAP_I, short CHAP_C */
	sm_start(&s, &cfg_mutual);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX,
				 "CHAP_I=7", NULL), ISCSI_LOGIN_AUTH_FAILED);
	sm_start(&s, &cfg_mutual);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX,
				 "CHAP_I=256", "CHAP_C=" PEER_C_HEX, NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	sm_start(&s, &cfg_mutual);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX,
				 "CHAP_I=7", "CHAP_C=0x0102030405", NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
}

/* The initiator sends our own challenge back to have us compute the
 * answer to it: refused. */
static void test_sm_reflection(void **state)
{
	struct sm s;

	(void)state;
	sm_start(&s, &cfg_mutual);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX,
				 "CHAP_I=17", "CHAP_C=" OUR_C_HEX, NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	assert_string_equal(s.chap.reason, "initiator reflected our challenge");
	assert_int_equal(s.olen, 0);
	assert_false(iscsi_chap_done(&s.chap));
	/* also in base64 and with another identifier */
	sm_start(&s, &cfg_mutual);
	sm_to_challenge(&s);
	assert_int_equal(sm_step(&s, "CHAP_N=alice", "CHAP_R=" GOOD_R_HEX,
				 "CHAP_I=3", "CHAP_C=0bICEiIyQlJicoKSorLC0uLw==", NULL),
			 ISCSI_LOGIN_AUTH_FAILED);
	assert_int_equal(s.olen, 0);
}

/* ---- URLs ----------------------------------------------------------------- */

static void test_url_credentials(void **state)
{
	struct pp_iscsi_url u;
	char why[256];
	char url[256];

	(void)state;
	assert_int_equal(pp_iscsi_url_parse("iscsi://alice%s3cr%t@x@h:3261/iqn.t/1",
					    &u, why, sizeof(why)), 0);
	assert_string_equal(u.chap_user, "alice");
	assert_string_equal(u.chap_secret, "s3cr%t@x");
	assert_string_equal(u.host, "h");
	assert_int_equal(u.port, 3261);
	assert_string_equal(u.target, "iqn.t");
	assert_int_equal(u.lun, 1);
	assert_int_equal(pp_iscsi_url_parse("iscsi://bob@[::1]/iqn.t/0", &u, why,
					    sizeof(why)), 0);
	assert_string_equal(u.chap_user, "bob");
	assert_string_equal(u.chap_secret, "");
	assert_string_equal(u.host, "::1");
	assert_int_equal(pp_iscsi_url_parse("iscsi://h/iqn.t/0", &u, why,
					    sizeof(why)), 0);
	assert_string_equal(u.chap_user, "");
	assert_int_equal(pp_iscsi_url_parse("iscsi://@h/iqn.t/0", &u, why,
					    sizeof(why)), -EINVAL);
	assert_string_equal(why, "empty CHAP user name in the URL");
	assert_int_equal(pp_iscsi_url_parse("iscsi://a%@h/iqn.t/0", &u, why,
					    sizeof(why)), -EINVAL);
	assert_string_equal(why, "empty CHAP secret in the URL");
	assert_null(strstr(why, "%"));

	snprintf(url, sizeof(url), "iscsi://alice%%initiatorsecret1@h:3260/iqn.t/0");
	assert_true(pp_url_redact(url));
	assert_string_equal(url, "iscsi://alice%***@h:3260/iqn.t/0");
	assert_int_equal(pp_iscsi_url_parse(url, &u, why, sizeof(why)), 0);
	snprintf(url, sizeof(url), "iscsi://a%%xy@h/iqn.t/0");
	assert_true(pp_url_redact(url));
	assert_string_equal(url, "iscsi://a@h/iqn.t/0");
	/* a secret with '/' or '@' (malformed: the parse fails) is still
	 * hidden in the error messages that quote the URL */
	snprintf(url, sizeof(url), "iscsi://alice%%top/secret@12345@h/iqn.t/0");
	assert_int_equal(pp_iscsi_url_parse(url, &u, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "a CHAP secret in the URL must not contain '/' (give it in PRPATH_CHAP_SECRET)");
	assert_true(pp_url_redact(url));
	assert_string_equal(url, "iscsi://alice%***@h/iqn.t/0");
	snprintf(url, sizeof(url), "iscsi://a@h/iqn.t/0");
	assert_false(pp_url_redact(url));
	snprintf(url, sizeof(url), "iscsi://h/iqn.t/0");
	assert_false(pp_url_redact(url));
	assert_string_equal(url, "iscsi://h/iqn.t/0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5_rfc1321),
		cmocka_unit_test(test_md5_incremental),
		cmocka_unit_test(test_chap_response_vector),
		cmocka_unit_test(test_chap_decode),
		cmocka_unit_test(test_sm_good),
		cmocka_unit_test(test_sm_method_and_alg_together),
		cmocka_unit_test(test_sm_bad_response),
		cmocka_unit_test(test_sm_bad_name),
		cmocka_unit_test(test_sm_none_when_required),
		cmocka_unit_test(test_sm_mutual),
		cmocka_unit_test(test_sm_reflection),
		cmocka_unit_test(test_url_credentials),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
