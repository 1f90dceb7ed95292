/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the SCSI codec (src/scsi), the error helpers and CRC32C.
 * Every builder is checked byte for byte; every decoder is fed each
 * truncation of its input through an exact-size heap copy, so an ASan
 * build catches any read past @len.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <prpath/prpath.h>
#include "util/crc32c.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* exact-size copy: reading past n is a heap overflow under ASan */
static uint8_t *dup_exact(const uint8_t *b, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	if (n)
		memcpy(p, b, n);
	return p;
}

/* ---- CRC32C ------------------------------------------------------------- */

static void test_crc32c_vectors(void **state)
{
	uint8_t buf[32];
	unsigned i;

	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(crc32c(0, "", 0), 0);
	/* RFC 3720 B.4 */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(crc32c(0, buf, 32), 0x8A9136AAu);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(crc32c(0, buf, 32), 0x62A8AB43u);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(crc32c(0, buf, 32), 0x46DD794Eu);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(crc32c(0, buf, 32), 0x113FDB5Cu);
}

static void test_crc32c_chaining(void **state)
{
	const char *s = "The quick brown fox jumps over the lazy dog";
	size_t n = strlen(s), k;
	uint32_t whole = crc32c(0, s, n);

	(void)state;
	for (k = 0; k <= n; k++)
		assert_int_equal(crc32c(crc32c(0, s, k), s + k, n - k), whole);
	assert_int_equal(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

/* ---- errors ------------------------------------------------------------- */

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(prpath_strerror(0), "success");
	assert_string_equal(prpath_strerror(-EINVAL), "Invalid argument");
	assert_string_equal(prpath_strerror(-ENOMEM), "Cannot allocate memory");
	assert_string_equal(prpath_strerror(-ETIMEDOUT), "Connection timed out");
	assert_string_equal(prpath_strerror(PRPATH_ERR_CONFLICT), "reservation conflict");
	assert_string_equal(prpath_strerror(PRPATH_ERR_FENCED),
			    "this host has been fenced (its key was removed)");
	assert_string_equal(prpath_strerror(PRPATH_ERR__MAX), "unknown prpath error");
	assert_string_equal(prpath_strerror(INT_MAX), "unknown prpath error");
	assert_string_equal(prpath_strerror(INT_MIN), "unknown error");
	assert_string_equal(prpath_strerror(-100000), "unknown error");
	for (int e = 1; e < PRPATH_ERR__MAX; e++)
		assert_string_not_equal(prpath_strerror(e), "unknown prpath error");
	assert_string_equal(prpath_version(), "0.1.0");
}

static void test_err_from_sense_cat(void **state)
{
	(void)state;
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_OK), 0);
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_RECOVERED), 0);
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_UNIT_ATTENTION),
			 PRPATH_ERR_UNIT_ATTENTION);
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_RESERVATION_CONFLICT),
			 PRPATH_ERR_CONFLICT);
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_NOT_READY),
			 PRPATH_ERR_NOT_READY);
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_ILLEGAL_REQUEST),
			 PRPATH_ERR_ILLEGAL_REQUEST);
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_ABORTED),
			 PRPATH_ERR_ABORTED);
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_BUSY), PRPATH_ERR_BUSY);
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_MEDIUM),
			 PRPATH_ERR_MEDIUM);
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_MISCOMPARE),
			 PRPATH_ERR_MISCOMPARE);
	assert_int_equal(prpath_err_from_sense_cat(PRPATH_SENSE_OTHER),
			 PRPATH_ERR_CHECK_OTHER);
}

/* ---- PR types and names ------------------------------------------------- */

static void test_pr_types(void **state)
{
	static const unsigned valid[] = { 1, 3, 5, 6, 7, 8 };
	static const char *const names[] = { "we", "ea", "wero", "earo", "wear", "eaar" };

	(void)state;
	for (unsigned t = 0; t < 32; t++) {
		bool v = false;

		for (size_t i = 0; i < ARRAY_SIZE(valid); i++)
			v |= valid[i] == t;
		assert_int_equal(prpath_pr_type_valid(t), v);
		if (!v)
			assert_null(prpath_pr_type_name(t));
	}
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		assert_string_equal(prpath_pr_type_name(valid[i]), names[i]);
		assert_int_equal(prpath_pr_type_parse(names[i]), (int)valid[i]);
	}
	assert_int_equal(prpath_pr_type_parse("WERO"), 5);
	assert_int_equal(prpath_pr_type_parse("EaAr"), 8);
	assert_int_equal(prpath_pr_type_parse("5"), 5);
	assert_int_equal(prpath_pr_type_parse("0x5"), 5);
	assert_int_equal(prpath_pr_type_parse("0x08"), 8);
	assert_int_equal(prpath_pr_type_parse("1"), 1);
	assert_int_equal(prpath_pr_type_parse("2"), -EINVAL);
	assert_int_equal(prpath_pr_type_parse("0"), -EINVAL);
	assert_int_equal(prpath_pr_type_parse(""), -EINVAL);
	assert_int_equal(prpath_pr_type_parse(NULL), -EINVAL);
	assert_int_equal(prpath_pr_type_parse("0x"), -EINVAL);
	assert_int_equal(prpath_pr_type_parse("5x"), -EINVAL);
	assert_int_equal(prpath_pr_type_parse("-5"), -EINVAL);
	assert_int_equal(prpath_pr_type_parse(" 5"), -EINVAL);
	assert_int_equal(prpath_pr_type_parse("18446744073709551621"), -EINVAL);
	assert_int_equal(prpath_pr_type_parse("werox"), -EINVAL);

	assert_true(prpath_pr_type_all_registrants(PRPATH_PR_TYPE_WEAR));
	assert_true(prpath_pr_type_all_registrants(PRPATH_PR_TYPE_EAAR));
	assert_false(prpath_pr_type_all_registrants(PRPATH_PR_TYPE_WERO));
	assert_false(prpath_pr_type_all_registrants(PRPATH_PR_TYPE_WE));
	assert_true(prpath_pr_type_registrants_only(PRPATH_PR_TYPE_WERO));
	assert_true(prpath_pr_type_registrants_only(PRPATH_PR_TYPE_EARO));
	assert_false(prpath_pr_type_registrants_only(PRPATH_PR_TYPE_EAAR));
	assert_false(prpath_pr_type_registrants_only(PRPATH_PR_TYPE_EA));
}

static void test_sa_names(void **state)
{
	(void)state;
	assert_string_equal(prpath_prout_sa_name(PRPATH_PR_OUT_REGISTER), "REGISTER");
	assert_string_equal(prpath_prout_sa_name(PRPATH_PR_OUT_PREEMPT_AND_ABORT),
			    "PREEMPT AND ABORT");
	assert_string_equal(prpath_prout_sa_name(PRPATH_PR_OUT_REGISTER_AND_IGNORE),
			    "REGISTER AND IGNORE EXISTING KEY");
	assert_string_equal(prpath_prout_sa_name(PRPATH_PR_OUT_REGISTER_AND_MOVE),
			    "REGISTER AND MOVE");
	assert_string_equal(prpath_prout_sa_name(PRPATH_PR_OUT_REPLACE_LOST_RESERVATION),
			    "REPLACE LOST RESERVATION");
	assert_string_equal(prpath_prout_sa_name(9), "UNKNOWN PR OUT SERVICE ACTION");
	assert_string_equal(prpath_prin_sa_name(PRPATH_PR_IN_READ_KEYS), "READ KEYS");
	assert_string_equal(prpath_prin_sa_name(PRPATH_PR_IN_READ_FULL_STATUS),
			    "READ FULL STATUS");
	assert_string_equal(prpath_prin_sa_name(4), "UNKNOWN PR IN SERVICE ACTION");
}

/* ---- CDB builders ------------------------------------------------------- */

static void test_cdb_pr(void **state)
{
	uint8_t cdb[16];
	static const uint8_t in[10] = { 0x5e, 0x03, 0, 0, 0, 0, 0, 0x12, 0x34, 0 };
	static const uint8_t out[10] = { 0x5f, 0x01, 0x05, 0, 0, 0x00, 0x00, 0x00, 0x18, 0 };
	static const uint8_t out2[10] = { 0x5f, 0x07, 0x08, 0, 0, 0x01, 0x02, 0x03, 0x04, 0 };

	(void)state;
	memset(cdb, 0xaa, sizeof(cdb));
	assert_int_equal(prpath_cdb_pr_in(cdb, sizeof(cdb), PRPATH_PR_IN_READ_FULL_STATUS, 0x1234), 10);
	assert_memory_equal(cdb, in, 10);
	memset(cdb, 0xaa, sizeof(cdb));
	assert_int_equal(prpath_cdb_pr_out(cdb, 10, PRPATH_PR_OUT_RESERVE, 0, PRPATH_PR_TYPE_WERO, 24), 10);
	assert_memory_equal(cdb, out, 10);
	assert_int_equal(prpath_cdb_pr_out(cdb, 10, PRPATH_PR_OUT_REGISTER_AND_MOVE, 0,
					   PRPATH_PR_TYPE_EAAR, 0x01020304), 10);
	assert_memory_equal(cdb, out2, 10);
	assert_int_equal(prpath_cdb_pr_in(cdb, 9, 0, 8), -ENOSPC);
	assert_int_equal(prpath_cdb_pr_out(cdb, 9, 0, 0, 0, 24), -ENOSPC);
	assert_int_equal(prpath_cdb_pr_in(cdb, 10, 0x20, 8), -EINVAL);
	assert_int_equal(prpath_cdb_pr_out(cdb, 10, 0x20, 0, 0, 24), -EINVAL);
	assert_int_equal(prpath_cdb_pr_out(cdb, 10, 0, 0x10, 0, 24), -EINVAL);
	assert_int_equal(prpath_cdb_pr_out(cdb, 10, 0, 0, 0x10, 24), -EINVAL);
	assert_int_equal(prpath_cdb_pr_in(NULL, 10, 0, 8), -EINVAL);
}

static void test_cdb_misc(void **state)
{
	uint8_t cdb[16];
	static const uint8_t tur[6] = { 0 };
	static const uint8_t inq[6] = { 0x12, 0, 0, 0, 0x60, 0 };
	static const uint8_t vpd[6] = { 0x12, 1, 0x83, 0x01, 0x00, 0 };
	static const uint8_t rc16[16] = { 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
					  0, 0, 0, 0x20, 0, 0 };

	(void)state;
	memset(cdb, 0xaa, sizeof(cdb));
	assert_int_equal(prpath_cdb_test_unit_ready(cdb, 6), 6);
	assert_memory_equal(cdb, tur, 6);
	assert_int_equal(prpath_cdb_test_unit_ready(cdb, 5), -ENOSPC);
	memset(cdb, 0xaa, sizeof(cdb));
	assert_int_equal(prpath_cdb_inquiry(cdb, 6, false, 0, 96), 6);
	assert_memory_equal(cdb, inq, 6);
	assert_int_equal(prpath_cdb_inquiry(cdb, 6, true, 0x83, 256), 6);
	assert_memory_equal(cdb, vpd, 6);
	assert_int_equal(prpath_cdb_inquiry(cdb, 6, false, 0x83, 256), -EINVAL);
	assert_int_equal(prpath_cdb_inquiry(cdb, 5, true, 0x83, 256), -ENOSPC);
	memset(cdb, 0xaa, sizeof(cdb));
	assert_int_equal(prpath_cdb_read_capacity16(cdb, 16, 32), 16);
	assert_memory_equal(cdb, rc16, 16);
	assert_int_equal(prpath_cdb_read_capacity16(cdb, 15, 32), -ENOSPC);
}

static void test_cdb_rw(void **state)
{
	uint8_t cdb[16];
	static const uint8_t r10[10] = { 0x28, 0, 0x12, 0x34, 0x56, 0x78, 0, 0x00, 0x08, 0 };
	static const uint8_t w10[10] = { 0x2a, 0, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0 };
	static const uint8_t r16[16] = { 0x88, 0, 0, 0, 0, 0x01, 0, 0, 0, 0,
					 0, 0, 0, 0x01, 0, 0 };
	static const uint8_t w16[16] = { 0x8a, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
					 0x07, 0x08, 0, 0x01, 0x00, 0x00, 0, 0 };
	static const uint8_t r16f[16] = { 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0x07,
					  0, 0, 0, 0x02, 0, 0 };

	(void)state;
	memset(cdb, 0xaa, sizeof(cdb));
	assert_int_equal(prpath_cdb_read(cdb, 16, 0x12345678, 8, false), 10);
	assert_memory_equal(cdb, r10, 10);
	assert_int_equal(prpath_cdb_write(cdb, 10, 0xffffffffu, 0xffff, false), 10);
	assert_memory_equal(cdb, w10, 10);
	/* LBA beyond 32 bits */
	memset(cdb, 0xaa, sizeof(cdb));
	assert_int_equal(prpath_cdb_read(cdb, 16, 0x100000000ull, 1, false), 16);
	assert_memory_equal(cdb, r16, 16);
	/* count beyond 16 bits */
	assert_int_equal(prpath_cdb_write(cdb, 16, 0x0102030405060708ull, 0x10000, false), 16);
	assert_memory_equal(cdb, w16, 16);
	assert_int_equal(prpath_cdb_read(cdb, 16, 7, 2, true), 16);
	assert_memory_equal(cdb, r16f, 16);
	assert_int_equal(prpath_cdb_read(cdb, 9, 0, 1, false), -ENOSPC);
	assert_int_equal(prpath_cdb_read(cdb, 15, 0, 1, true), -ENOSPC);
	assert_int_equal(prpath_cdb_write(cdb, 15, 0, 0x10000, false), -ENOSPC);
	assert_int_equal(prpath_cdb_write(cdb, 10, 0, 1, false), 10);
	assert_int_equal(cdb[0], 0x2a);
}

/* ---- TransportIDs ------------------------------------------------------- */

#define IQN_H1 "iqn.2024-01.com.example:h1"

static const uint8_t tid_fmt1[48] = {
	0x45, 0x00, 0x00, 44,
	'i', 'q', 'n', '.', '2', '0', '2', '4', '-', '0', '1', '.', 'c', 'o', 'm', '.',
	'e', 'x', 'a', 'm', 'p', 'l', 'e', ':', 'h', '1',
	',', 'i', ',', '0', 'x',
	'4', '0', '0', '0', '0', '1', '3', '7', '0', '0', '0', 'a',
	0,
};

static void test_tid_encode(void **state)
{
	struct prpath_tid t;
	uint8_t buf[PRPATH_TRANSPORTID_MAX];
	static const uint8_t fmt0[24] = { 0x05, 0x00, 0x00, 20, 'i', 'q', 'n', '.', 'a', 0 };
	static const uint8_t fmt0b[28] = { 0x05, 0, 0, 24, 'i', 'q', 'n', '.', 'x', 'x', 'x',
					   'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
					   'x', 'x', 'x', 'x', 'x', 0, 0 };

	(void)state;
	memset(&t, 0, sizeof(t));
	strcpy(t.name, "iqn.a");
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), 24);
	assert_memory_equal(buf, fmt0, 24);
	/* 22 characters + NUL = 23, padded to 24 */
	strcpy(t.name, "iqn.xxxxxxxxxxxxxxxxxx");
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), 28);
	assert_memory_equal(buf, fmt0b, 28);
	assert_int_equal(prpath_tid_encode(&t, buf, 27), -ENOSPC);

	memset(&t, 0, sizeof(t));
	strcpy(t.name, IQN_H1);
	strcpy(t.isid, "40000137000A"); /* upper case is accepted, sent lower */
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), 48);
	assert_memory_equal(buf, tid_fmt1, 48);
	assert_int_equal(prpath_tid_encode(&t, buf, 47), -ENOSPC);

	/* invalid */
	strcpy(t.isid, "40000137000");
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), -EINVAL);
	strcpy(t.isid, "40000137000g");
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), -EINVAL);
	t.isid[0] = '\0';
	t.format = 1;
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), -EINVAL);
	t.format = 0;
	strcpy(t.name, "iqn.a b");
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), -EINVAL);
	strcpy(t.name, "iqn.a,b");
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), -EINVAL);
	t.name[0] = '\0';
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), -EINVAL);
	/* longest name: 223 characters, format 1 still fits */
	memset(t.name, 'n', PRPATH_ISCSI_NAME_MAX);
	t.name[PRPATH_ISCSI_NAME_MAX] = '\0';
	strcpy(t.isid, "000000000001");
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), 4 + 244);
	t.isid[0] = '\0';
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), 4 + 224);
	/* not NUL-terminated within name[] */
	memset(t.name, 'n', sizeof(t.name));
	assert_int_equal(prpath_tid_encode(&t, buf, sizeof(buf)), -EINVAL);
}

static void test_tid_decode(void **state)
{
	struct prpath_tid t;
	size_t n;

	(void)state;
	assert_int_equal(prpath_tid_decode(tid_fmt1, sizeof(tid_fmt1), &t), 48);
	assert_int_equal(t.format, 1);
	assert_string_equal(t.name, IQN_H1);
	assert_string_equal(t.isid, "40000137000a");
	/* extra bytes after the TransportID are not part of it */
	{
		uint8_t big[60];

		memcpy(big, tid_fmt1, 48);
		memset(big + 48, 0x55, 12);
		assert_int_equal(prpath_tid_decode(big, sizeof(big), &t), 48);
	}
	for (n = 0; n < sizeof(tid_fmt1); n++) {
		uint8_t *p = dup_exact(tid_fmt1, n);

		assert_int_equal(prpath_tid_decode(p, n, &t), -ENODATA);
		free(p);
	}
}

static int tid_decode_mod(size_t off, uint8_t val)
{
	uint8_t b[48];
	struct prpath_tid t;

	memcpy(b, tid_fmt1, sizeof(b));
	b[off] = val;
	return prpath_tid_decode(b, sizeof(b), &t);
}

static void test_tid_malformed(void **state)
{
	struct prpath_tid t;
	uint8_t b[48];

	(void)state;
	assert_int_equal(tid_decode_mod(0, 0x46), -EPROTONOSUPPORT); /* SAS */
	assert_int_equal(tid_decode_mod(0, 0x00), -EPROTONOSUPPORT); /* FC */
	assert_int_equal(tid_decode_mod(0, 0x85), -EBADMSG);        /* format 2 */
	assert_int_equal(tid_decode_mod(0, 0x05), -EBADMSG); /* fmt 0 with ",i,0x" */
	assert_int_equal(tid_decode_mod(3, 42), -EBADMSG);  /* not multiple of 4 */
	assert_int_equal(tid_decode_mod(3, 16), -EBADMSG);  /* below 20 */
	assert_int_equal(tid_decode_mod(3, 48), -ENODATA);  /* lies: beyond len */
	assert_int_equal(tid_decode_mod(2, 0x01), -EBADMSG); /* beyond 260 */
	assert_int_equal(tid_decode_mod(47, 'x'), -EBADMSG); /* no NUL */
	assert_int_equal(tid_decode_mod(31, 'I'), -EBADMSG); /* separator */
	assert_int_equal(tid_decode_mod(34, 'X'), -EBADMSG);
	assert_int_equal(tid_decode_mod(35, 'z'), -EBADMSG); /* isid not hex */
	assert_int_equal(tid_decode_mod(46, 0), -EBADMSG);   /* 11-digit isid */
	assert_int_equal(tid_decode_mod(8, ' '), -EBADMSG);  /* space in name */
	assert_int_equal(tid_decode_mod(4, ','), -EBADMSG);  /* empty name */
	assert_int_equal(tid_decode_mod(4, 0), -EBADMSG);    /* NUL then junk */
	assert_int_equal(tid_decode_mod(5, 0x01), -EBADMSG); /* control char */

	/* padding that is not NUL */
	memset(b, 0, sizeof(b));
	b[0] = 0x05;
	b[3] = 20;
	memcpy(b + 4, "iqn.a", 5);
	assert_int_equal(prpath_tid_decode(b, 24, &t), 24);
	assert_int_equal(t.format, 0);
	assert_string_equal(t.name, "iqn.a");
	assert_string_equal(t.isid, "");
	/* a well-formed name in an ADDITIONAL LENGTH below 20 */
	b[3] = 16;
	assert_int_equal(prpath_tid_decode(b, 24, &t), -EBADMSG);
	assert_int_equal(prpath_tid_decode(b, 20, &t), -EBADMSG);
	b[3] = 20;
	b[20] = 'q';
	assert_int_equal(prpath_tid_decode(b, 24, &t), -EBADMSG);
	assert_string_equal(t.name, "");
	/* name of only NULs */
	memset(b + 4, 0, 20);
	assert_int_equal(prpath_tid_decode(b, 24, &t), -EBADMSG);
	/* format 1 without any separator */
	memcpy(b + 4, "iqn.abcdef", 10);
	b[0] = 0x45;
	assert_int_equal(prpath_tid_decode(b, 24, &t), -EBADMSG);
	/* name too long: 224 characters in format 0 */
	{
		uint8_t big[4 + 228];

		memset(big, 0, sizeof(big));
		big[0] = 0x05;
		prpath_put_be16(big + 2, 228);
		memset(big + 4, 'n', 224);
		assert_int_equal(prpath_tid_decode(big, sizeof(big), &t), -EBADMSG);
		big[4 + 223] = 0;
		assert_int_equal(prpath_tid_decode(big, sizeof(big), &t), 232);
		assert_int_equal(strlen(t.name), 223);
	}
}

static void test_tid_round_trip(void **state)
{
	static const char *const names[] = {
		"iqn.a", IQN_H1, "eui.0123456789abcdef", "naa.52004567ba64678d",
		"iqn.1994-05.com.redhat:abcdef0123456789",
	};
	static const char *const isids[] = { "", "400001370000", "23d000000001" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(isids); j++) {
			struct prpath_tid a, b;
			uint8_t buf[PRPATH_TRANSPORTID_MAX];
			char pn[PRPATH_PORT_NAME_MAX];
			int n;

			memset(&a, 0, sizeof(a));
			strcpy(a.name, names[i]);
			strcpy(a.isid, isids[j]);
			a.format = isids[j][0] ? 1 : 0;
			n = prpath_tid_encode(&a, buf, sizeof(buf));
			assert_true(n >= 24 && n % 4 == 0);
			assert_int_equal(prpath_get_be16(buf + 2), n - 4);
			assert_int_equal(prpath_tid_decode(buf, (size_t)n, &b), n);
			assert_memory_equal(&a, &b, sizeof(a));
			n = prpath_tid_port_name(&a, pn, sizeof(pn));
			assert_int_equal(n, (int)strlen(pn));
			assert_int_equal(prpath_tid_from_port_name(pn, &b), 0);
			assert_memory_equal(&a, &b, sizeof(a));
		}
	}
}

static void test_tid_port_name(void **state)
{
	struct prpath_tid t;
	char out[PRPATH_PORT_NAME_MAX];

	(void)state;
	memset(&t, 0, sizeof(t));
	strcpy(t.name, IQN_H1);
	strcpy(t.isid, "400001370000");
	t.format = 1;
	assert_int_equal(prpath_tid_port_name(&t, out, sizeof(out)), 43);
	assert_string_equal(out, IQN_H1 ",i,0x400001370000");
	assert_int_equal(prpath_tid_port_name(&t, out, 43), -ENOSPC);
	assert_int_equal(prpath_tid_port_name(&t, out, 44), 43);
	t.isid[0] = '\0';
	t.format = 0;
	assert_int_equal(prpath_tid_port_name(&t, out, sizeof(out)), 26);
	assert_string_equal(out, IQN_H1);
	t.name[0] = '\0';
	assert_int_equal(prpath_tid_port_name(&t, out, sizeof(out)), -EINVAL);

	assert_int_equal(prpath_tid_from_port_name(IQN_H1 ",i,0x40000137000A", &t), 0);
	assert_int_equal(t.format, 1);
	assert_string_equal(t.name, IQN_H1);
	assert_string_equal(t.isid, "40000137000a");
	assert_int_equal(prpath_tid_from_port_name(IQN_H1 ",I,0X400001370000", &t), 0);
	assert_string_equal(t.isid, "400001370000");
	assert_int_equal(prpath_tid_from_port_name("iqn.x", &t), 0);
	assert_int_equal(t.format, 0);
	assert_string_equal(t.name, "iqn.x");
	assert_string_equal(t.isid, "");
	assert_int_equal(prpath_tid_from_port_name(IQN_H1 ",i,0x4000013700", &t), -EINVAL);
	assert_string_equal(t.name, "");
	assert_int_equal(prpath_tid_from_port_name(IQN_H1 ",i,0x4000013700000", &t), -EINVAL);
	assert_int_equal(prpath_tid_from_port_name(IQN_H1 ",i,400001370000", &t), -EINVAL);
	assert_int_equal(prpath_tid_from_port_name(IQN_H1 ",t,0x400001370000", &t), -EINVAL);
	assert_int_equal(prpath_tid_from_port_name(IQN_H1 ",i,0x40000137000g", &t), -EINVAL);
	assert_int_equal(prpath_tid_from_port_name(",i,0x400001370000", &t), -EINVAL);
	assert_int_equal(prpath_tid_from_port_name(IQN_H1 ",", &t), -EINVAL);
	assert_int_equal(prpath_tid_from_port_name("", &t), -EINVAL);
	assert_int_equal(prpath_tid_from_port_name(NULL, &t), -EINVAL);
}

/* ---- PR OUT parameter lists --------------------------------------------- */

static void test_prout_params_basic(void **state)
{
	struct prpath_prout_params p, d;
	uint8_t buf[64];
	static const uint8_t exp[24] = {
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0, 0, 0, 0, 0, 0, 0xab, 0xcd,
		0, 0, 0, 0, 0x05, 0, 0, 0,
	};

	(void)state;
	memset(&p, 0, sizeof(p));
	p.rk = 0x1122334455667788ull;
	p.sark = 0xabcd;
	p.all_tg_pt = true;
	p.aptpl = true;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(prpath_prout_params_encode(&p, buf, sizeof(buf)), 24);
	assert_memory_equal(buf, exp, 24);
	assert_int_equal(prpath_prout_params_encode(&p, buf, 23), -ENOSPC);

	assert_int_equal(prpath_prout_params_decode(buf, 24, &d), 0);
	assert_int_equal(d.rk, p.rk);
	assert_int_equal(d.sark, p.sark);
	assert_false(d.spec_i_pt);
	assert_true(d.all_tg_pt);
	assert_true(d.aptpl);
	assert_null(d.tids);
	assert_int_equal(d.tids_len, 0);
	/* without SPEC_I_PT the list is exactly 24 bytes */
	assert_int_equal(prpath_prout_params_decode(buf, 25, &d), -EBADMSG);
	assert_int_equal(prpath_prout_params_decode(buf, 28, &d), -EBADMSG);
	for (size_t n = 0; n < 24; n++) {
		uint8_t *c = dup_exact(exp, n);

		assert_int_equal(prpath_prout_params_decode(c, n, &d), -ENODATA);
		free(c);
	}
	/* TransportIDs without SPEC_I_PT cannot be encoded */
	p.tids = tid_fmt1;
	p.tids_len = sizeof(tid_fmt1);
	assert_int_equal(prpath_prout_params_encode(&p, buf, sizeof(buf)), -EINVAL);
	/* flags: SPEC_I_PT only */
	memcpy(buf, exp, 24);
	buf[20] = 0x08;
	prpath_put_be32(buf + 24, 0);
	assert_int_equal(prpath_prout_params_decode(buf, 28, &d), 0);
	assert_true(d.spec_i_pt);
	assert_false(d.all_tg_pt);
	assert_false(d.aptpl);
	assert_int_equal(d.tids_len, 0);
}

static void test_prout_params_spec_i_pt(void **state)
{
	struct prpath_prout_params p, d;
	uint8_t tids[48 + 24];
	uint8_t buf[128];
	struct prpath_tid t;
	int n;

	(void)state;
	memcpy(tids, tid_fmt1, 48);
	memset(&t, 0, sizeof(t));
	strcpy(t.name, "iqn.b");
	assert_int_equal(prpath_tid_encode(&t, tids + 48, 24), 24);

	memset(&p, 0, sizeof(p));
	p.rk = 0;
	p.sark = 0x1234;
	p.spec_i_pt = true;
	p.tids = tids;
	p.tids_len = sizeof(tids);
	n = prpath_prout_params_encode(&p, buf, sizeof(buf));
	assert_int_equal(n, 28 + 72);
	assert_int_equal(buf[20], 0x08);
	assert_int_equal(prpath_get_be32(buf + 24), 72);
	assert_memory_equal(buf + 28, tids, 72);
	assert_int_equal(prpath_prout_params_encode(&p, buf, 99), -ENOSPC);

	assert_int_equal(prpath_prout_params_decode(buf, 100, &d), 0);
	assert_true(d.spec_i_pt);
	assert_int_equal(d.sark, 0x1234);
	assert_ptr_equal(d.tids, buf + 28);
	assert_int_equal(d.tids_len, 72);
	/* walk the list as the device server does */
	assert_int_equal(prpath_tid_decode(d.tids, d.tids_len, &t), 48);
	assert_string_equal(t.isid, "40000137000a");
	assert_int_equal(prpath_tid_decode(d.tids + 48, d.tids_len - 48, &t), 24);
	assert_string_equal(t.name, "iqn.b");

	/* list shorter than the parameter list, or longer: lies */
	prpath_put_be32(buf + 24, 68);
	assert_int_equal(prpath_prout_params_decode(buf, 100, &d), -EBADMSG);
	prpath_put_be32(buf + 24, 76);
	assert_int_equal(prpath_prout_params_decode(buf, 100, &d), -EBADMSG);
	prpath_put_be32(buf + 24, 0xffffffffu);
	assert_int_equal(prpath_prout_params_decode(buf, 100, &d), -EBADMSG);
	prpath_put_be32(buf + 24, 72);
	/* SPEC_I_PT without the TransportID list length field */
	for (size_t k = 24; k < 28; k++) {
		uint8_t *c = dup_exact(buf, k);

		assert_int_equal(prpath_prout_params_decode(c, k, &d), -EBADMSG);
		free(c);
	}
	/* every cut of the list makes the length lie */
	for (size_t k = 28; k < 100; k++) {
		uint8_t *c = dup_exact(buf, k);

		assert_int_equal(prpath_prout_params_decode(c, k, &d), -EBADMSG);
		free(c);
	}
}

static void test_prout_move_params(void **state)
{
	struct prpath_prout_move_params p, d;
	uint8_t buf[128];
	static const uint8_t hdr[24] = {
		0, 0, 0, 0, 0, 0, 0, 0x0a,
		0, 0, 0, 0, 0, 0, 0, 0x0b,
		0, 0x03, 0x00, 0x02, 0, 0, 0, 48,
	};

	(void)state;
	memset(&p, 0, sizeof(p));
	p.rk = 0xa;
	p.sark = 0xb;
	p.unreg = true;
	p.aptpl = true;
	p.rel_tgt_port = 2;
	p.tid = tid_fmt1;
	p.tid_len = sizeof(tid_fmt1);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(prpath_prout_move_params_encode(&p, buf, sizeof(buf)), 72);
	assert_memory_equal(buf, hdr, 24);
	assert_memory_equal(buf + 24, tid_fmt1, 48);
	assert_int_equal(prpath_prout_move_params_encode(&p, buf, 71), -ENOSPC);

	assert_int_equal(prpath_prout_move_params_decode(buf, 72, &d), 0);
	assert_int_equal(d.rk, 0xa);
	assert_int_equal(d.sark, 0xb);
	assert_true(d.unreg);
	assert_true(d.aptpl);
	assert_int_equal(d.rel_tgt_port, 2);
	assert_ptr_equal(d.tid, buf + 24);
	assert_int_equal(d.tid_len, 48);

	for (size_t n = 0; n < 24; n++) {
		uint8_t *c = dup_exact(buf, n);

		assert_int_equal(prpath_prout_move_params_decode(c, n, &d), -ENODATA);
		free(c);
	}
	for (size_t n = 24; n < 72; n++) {
		uint8_t *c = dup_exact(buf, n);

		assert_int_equal(prpath_prout_move_params_decode(c, n, &d), -EBADMSG);
		free(c);
	}
	assert_int_equal(prpath_prout_move_params_decode(buf, 76, &d), -EBADMSG);
	buf[23] = 20; /* below 24 */
	assert_int_equal(prpath_prout_move_params_decode(buf, 44, &d), -EBADMSG);
	buf[23] = 46; /* not a multiple of 4 */
	assert_int_equal(prpath_prout_move_params_decode(buf, 70, &d), -EBADMSG);
	buf[23] = 48;
	buf[17] = 0x00;
	assert_int_equal(prpath_prout_move_params_decode(buf, 72, &d), 0);
	assert_false(d.unreg);
	assert_false(d.aptpl);

	p.tid_len = 20;
	assert_int_equal(prpath_prout_move_params_encode(&p, buf, sizeof(buf)), -EINVAL);
	p.tid_len = 46;
	assert_int_equal(prpath_prout_move_params_encode(&p, buf, sizeof(buf)), -EINVAL);
	p.tid = NULL;
	p.tid_len = 48;
	assert_int_equal(prpath_prout_move_params_encode(&p, buf, sizeof(buf)), -EINVAL);
}

/* ---- PR IN decoders ----------------------------------------------------- */

static const uint8_t rk_data[8 + 24] = {
	0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 24,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
};

static void test_read_keys(void **state)
{
	uint64_t keys[8];
	struct prpath_read_keys rk;

	(void)state;
	memset(&rk, 0, sizeof(rk));
	rk.keys = keys;
	rk.keys_cap = ARRAY_SIZE(keys);
	assert_int_equal(prpath_decode_read_keys(rk_data, sizeof(rk_data), &rk), 0);
	assert_int_equal(rk.generation, 0x102);
	assert_int_equal(rk.additional_length, 24);
	assert_int_equal(rk.nkeys, 3);
	assert_int_equal(rk.nkeys_total, 3);
	assert_false(rk.truncated);
	assert_int_equal(keys[0], 0x1111111111111111ull);
	assert_int_equal(keys[1], 0x22);
	assert_int_equal(keys[2], 0x1111111111111111ull);
	assert_ptr_equal(rk.keys, keys);
	assert_int_equal(rk.keys_cap, ARRAY_SIZE(keys));

	/* every cut: -ENODATA below the header, then complete keys only */
	for (size_t n = 0; n <= sizeof(rk_data); n++) {
		uint8_t *c = dup_exact(rk_data, n);
		int ret = prpath_decode_read_keys(c, n, &rk);

		if (n < 8) {
			assert_int_equal(ret, -ENODATA);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(rk.nkeys, (n - 8) / 8);
			assert_int_equal(rk.nkeys_total, 3);
			assert_int_equal(rk.truncated, n < sizeof(rk_data));
		}
		free(c);
	}
	/* caller's array too small */
	rk.keys_cap = 2;
	assert_int_equal(prpath_decode_read_keys(rk_data, sizeof(rk_data), &rk), 0);
	assert_int_equal(rk.nkeys, 2);
	assert_int_equal(rk.nkeys_total, 3);
	assert_true(rk.truncated);
	/* no array at all: counts only */
	rk.keys = NULL;
	rk.keys_cap = 0;
	assert_int_equal(prpath_decode_read_keys(rk_data, sizeof(rk_data), &rk), 0);
	assert_int_equal(rk.nkeys, 0);
	assert_int_equal(rk.nkeys_total, 3);
	assert_true(rk.truncated);
	rk.keys = keys;
	rk.keys_cap = ARRAY_SIZE(keys);
	/* length lies: too big */
	{
		uint8_t b[sizeof(rk_data)];

		memcpy(b, rk_data, sizeof(b));
		b[7] = 0x40;
		assert_int_equal(prpath_decode_read_keys(b, sizeof(b), &rk), 0);
		assert_int_equal(rk.nkeys, 3);
		assert_int_equal(rk.nkeys_total, 8);
		assert_true(rk.truncated);
		b[4] = 0xff;
		b[7] = 0xf8;
		assert_int_equal(prpath_decode_read_keys(b, sizeof(b), &rk), 0);
		assert_int_equal(rk.nkeys, 3);
		assert_int_equal(rk.nkeys_total, 0xff0000f8u / 8);
		assert_true(rk.truncated);
		/* not a multiple of 8 */
		b[4] = 0;
		b[7] = 20;
		assert_int_equal(prpath_decode_read_keys(b, sizeof(b), &rk), -EBADMSG);
		b[7] = 0;
		assert_int_equal(prpath_decode_read_keys(b, sizeof(b), &rk), 0);
		assert_int_equal(rk.nkeys, 0);
		assert_false(rk.truncated);
	}
}

static void test_read_reservation(void **state)
{
	struct prpath_read_reservation rr;
	static const uint8_t none[8] = { 0, 0, 0, 7, 0, 0, 0, 0 };
	static const uint8_t res[24] = {
		0, 0, 0, 9, 0, 0, 0, 16,
		0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1,
		0, 0, 0, 0, 0, 0x05, 0, 0,
	};
	uint8_t b[24];

	(void)state;
	assert_int_equal(prpath_decode_read_reservation(none, 8, &rr), 0);
	assert_int_equal(rr.generation, 7);
	assert_false(rr.reserved);
	assert_false(rr.truncated);
	assert_int_equal(prpath_decode_read_reservation(res, 24, &rr), 0);
	assert_int_equal(rr.generation, 9);
	assert_true(rr.reserved);
	assert_int_equal(rr.key, 0xdeadbeef00000001ull);
	assert_int_equal(rr.scope, 0);
	assert_int_equal(rr.type, PRPATH_PR_TYPE_WERO);
	assert_false(rr.truncated);
	for (size_t n = 0; n < 24; n++) {
		uint8_t *c = dup_exact(res, n);
		int ret = prpath_decode_read_reservation(c, n, &rr);

		if (n < 8) {
			assert_int_equal(ret, -ENODATA);
		} else {
			assert_int_equal(ret, 0);
			assert_true(rr.reserved);
			assert_true(rr.truncated);
			assert_int_equal(rr.key, n >= 16 ? 0xdeadbeef00000001ull : 0);
			assert_int_equal(rr.type, n >= 22 ? PRPATH_PR_TYPE_WERO : 0);
		}
		free(c);
	}
	memcpy(b, res, sizeof(b));
	b[7] = 8; /* neither 0 nor 16 */
	assert_int_equal(prpath_decode_read_reservation(b, 24, &rr), -EBADMSG);
	/* an all-registrants reservation reports key 0 */
	memcpy(b, res, sizeof(b));
	memset(b + 8, 0, 8);
	b[21] = 0x08;
	assert_int_equal(prpath_decode_read_reservation(b, 24, &rr), 0);
	assert_int_equal(rr.key, 0);
	assert_int_equal(rr.type, PRPATH_PR_TYPE_EAAR);
	b[21] = 0x17; /* scope 1, type 7 */
	assert_int_equal(prpath_decode_read_reservation(b, 24, &rr), 0);
	assert_int_equal(rr.scope, 1);
	assert_int_equal(rr.type, 7);
	/* lies: claims 32 with 24 present */
	b[7] = 32;
	assert_int_equal(prpath_decode_read_reservation(b, 24, &rr), 0);
	assert_true(rr.truncated);
}

static void test_report_capabilities(void **state)
{
	struct prpath_capabilities c;
	static const uint8_t caps[8] = { 0x00, 0x08, 0x9d, 0xd1, 0xea, 0x01, 0, 0 };
	uint8_t b[8];

	(void)state;
	assert_int_equal(prpath_decode_report_capabilities(caps, 8, &c), 0);
	assert_true(c.rlr_c);
	assert_true(c.crh);
	assert_true(c.sip_c);
	assert_true(c.atp_c);
	assert_true(c.ptpl_c);
	assert_true(c.tmv);
	assert_int_equal(c.allow_commands, 5);
	assert_true(c.ptpl_a);
	assert_int_equal(c.type_mask, (1u << 1) | (1u << 3) | (1u << 5) | (1u << 6) |
				      (1u << 7) | (1u << 8));
	memset(b, 0, sizeof(b));
	b[1] = 8;
	b[4] = 0x22; /* WR_EX_RO, WR_EX */
	assert_int_equal(prpath_decode_report_capabilities(b, 8, &c), 0);
	assert_false(c.rlr_c || c.crh || c.sip_c || c.atp_c || c.ptpl_c || c.tmv ||
		     c.ptpl_a);
	assert_int_equal(c.allow_commands, 0);
	assert_int_equal(c.type_mask, (1u << 1) | (1u << 5));
	b[4] = 0x15; /* reserved bits are not types */
	assert_int_equal(prpath_decode_report_capabilities(b, 8, &c), 0);
	assert_int_equal(c.type_mask, 0);
	for (size_t n = 0; n < 8; n++) {
		uint8_t *p = dup_exact(caps, n);

		assert_int_equal(prpath_decode_report_capabilities(p, n, &c), -ENODATA);
		free(p);
	}
	b[1] = 4;
	assert_int_equal(prpath_decode_report_capabilities(b, 8, &c), -EBADMSG);
}

/* Two descriptors: iSCSI format 1 (48-byte TransportID), and FC (24). */
static size_t build_full_status(uint8_t *b)
{
	size_t off = 8;

	memset(b, 0, 8 + 72 + 48);
	prpath_put_be32(b, 0x55);
	/* descriptor 1: holder, WERO, port 1 */
	prpath_put_be64(b + off, 0xaaaa);
	b[off + 12] = 0x01;
	b[off + 13] = 0x05;
	prpath_put_be16(b + off + 18, 1);
	prpath_put_be32(b + off + 20, 48);
	memcpy(b + off + 24, tid_fmt1, 48);
	off += 72;
	/* descriptor 2: ALL_TG_PT, not holder, FC TransportID */
	prpath_put_be64(b + off, 0xbbbb);
	b[off + 12] = 0x02;
	b[off + 13] = 0x05;
	prpath_put_be16(b + off + 18, 2);
	prpath_put_be32(b + off + 20, 24);
	b[off + 24] = 0x00;
	off += 48;
	prpath_put_be32(b + 4, (uint32_t)(off - 8));
	return off;
}

static void test_read_full_status(void **state)
{
	uint8_t b[8 + 72 + 48];
	struct prpath_full_status_desc desc[4];
	struct prpath_full_status fs;
	size_t total = build_full_status(b);

	(void)state;
	assert_int_equal(total, sizeof(b));
	memset(&fs, 0, sizeof(fs));
	fs.desc = desc;
	fs.desc_cap = ARRAY_SIZE(desc);
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), 0);
	assert_int_equal(fs.generation, 0x55);
	assert_int_equal(fs.additional_length, 120);
	assert_int_equal(fs.ndesc, 2);
	assert_false(fs.truncated);
	assert_int_equal(desc[0].key, 0xaaaa);
	assert_true(desc[0].r_holder);
	assert_false(desc[0].all_tg_pt);
	assert_int_equal(desc[0].scope, 0);
	assert_int_equal(desc[0].type, PRPATH_PR_TYPE_WERO);
	assert_int_equal(desc[0].rel_tgt_port, 1);
	assert_true(desc[0].tid_valid);
	assert_int_equal(desc[0].tid.format, 1);
	assert_string_equal(desc[0].tid.name, IQN_H1);
	assert_string_equal(desc[0].tid.isid, "40000137000a");
	assert_int_equal(desc[1].key, 0xbbbb);
	assert_false(desc[1].r_holder);
	assert_true(desc[1].all_tg_pt);
	assert_int_equal(desc[1].rel_tgt_port, 2);
	assert_false(desc[1].tid_valid);

	/* every cut at the allocation length */
	for (size_t n = 0; n <= total; n++) {
		uint8_t *c = dup_exact(b, n);
		int ret = prpath_decode_read_full_status(c, n, &fs);

		if (n < 8) {
			assert_int_equal(ret, -ENODATA);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(fs.ndesc, n >= total ? 2 : n >= 80 ? 1 : 0);
			assert_int_equal(fs.truncated, n < total);
			assert_int_equal(fs.additional_length, 120);
		}
		free(c);
	}
	/* caller's array too small */
	fs.desc_cap = 1;
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), 0);
	assert_int_equal(fs.ndesc, 1);
	assert_true(fs.truncated);
	fs.desc_cap = ARRAY_SIZE(desc);

	/* ADDITIONAL LENGTH claims more than present: truncated */
	prpath_put_be32(b + 4, 1000);
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), 0);
	assert_int_equal(fs.ndesc, 2);
	assert_true(fs.truncated);
	prpath_put_be32(b + 4, 120);

	/* a descriptor's length runs past the list's own end: malformed */
	prpath_put_be32(b + 8 + 20, 100);
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), -EBADMSG);
	prpath_put_be32(b + 8 + 20, 0xfffffff0u);
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), -EBADMSG);
	/* ... even when the data is also cut */
	assert_int_equal(prpath_decode_read_full_status(b, 60, &fs), -EBADMSG);
	/* within the list but beyond len: cut at the allocation length */
	prpath_put_be32(b + 8 + 20, 90);
	assert_int_equal(prpath_decode_read_full_status(b, 60, &fs), 0);
	assert_int_equal(fs.ndesc, 0);
	assert_true(fs.truncated);
	/* ... and with all the data, the next header crosses the list end */
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), -EBADMSG);
	prpath_put_be32(b + 8 + 20, 0xfffffff0u);
	prpath_put_be32(b + 4, 1000);
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), -EBADMSG);
	prpath_put_be32(b + 4, 120);
	prpath_put_be32(b + 8 + 20, 48);
	/* the list ends inside a descriptor header: malformed */
	prpath_put_be32(b + 4, 72 + 10);
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), -EBADMSG);
	/* the list ends inside a descriptor's TransportID */
	prpath_put_be32(b + 4, 72 + 24 + 10);
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), -EBADMSG);
	/* the first descriptor only */
	prpath_put_be32(b + 4, 72);
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), 0);
	assert_int_equal(fs.ndesc, 1);
	assert_false(fs.truncated);
	/* empty list */
	prpath_put_be32(b + 4, 0);
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), 0);
	assert_int_equal(fs.ndesc, 0);
	assert_false(fs.truncated);
	/* a bad iSCSI TransportID does not fail the page */
	prpath_put_be32(b + 4, 120);
	b[8 + 24 + 3] = 45;
	assert_int_equal(prpath_decode_read_full_status(b, total, &fs), 0);
	assert_int_equal(fs.ndesc, 2);
	assert_false(desc[0].tid_valid);
	assert_int_equal(desc[0].key, 0xaaaa);
}

/* ---- sense -------------------------------------------------------------- */

static const uint8_t sense_fixed_ua[18] = {
	0xf0, 0, 0x06, 0x00, 0x00, 0x12, 0x34, 10,
	0, 0, 0, 0, 0x2a, 0x05, 0, 0, 0, 0,
};

static const uint8_t sense_desc_ill[20] = {
	0x72, 0x05, 0x24, 0x00, 0, 0, 0, 12,
	0x00, 0x0a, 0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
};

static void test_sense_fixed(void **state)
{
	struct prpath_sense s;
	uint8_t b[18];

	(void)state;
	assert_int_equal(prpath_sense_decode(sense_fixed_ua, 18, &s), 0);
	assert_true(s.valid);
	assert_false(s.descriptor);
	assert_false(s.deferred);
	assert_int_equal(s.key, PRPATH_SCSI_SK_UNIT_ATTENTION);
	assert_int_equal(s.asc, 0x2a);
	assert_int_equal(s.ascq, 0x05);
	assert_true(s.info_valid);
	assert_int_equal(s.info, 0x1234);

	for (size_t n = 0; n <= 18; n++) {
		uint8_t *c = dup_exact(sense_fixed_ua, n);
		int ret = prpath_sense_decode(c, n, &s);

		if (n < 3) {
			assert_int_equal(ret, -ENODATA);
			assert_false(s.valid);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(s.key, PRPATH_SCSI_SK_UNIT_ATTENTION);
			assert_int_equal(s.asc, n >= 13 ? 0x2a : 0);
			assert_int_equal(s.ascq, n >= 14 ? 0x05 : 0);
			assert_int_equal(s.info_valid, n >= 7);
		}
		free(c);
	}
	/* deferred, no VALID bit */
	memcpy(b, sense_fixed_ua, 18);
	b[0] = 0x71;
	b[2] = 0x03;
	b[12] = 0x0c;
	b[13] = 0x00;
	assert_int_equal(prpath_sense_decode(b, 18, &s), 0);
	assert_true(s.deferred);
	assert_false(s.info_valid);
	assert_int_equal(s.key, PRPATH_SCSI_SK_MEDIUM_ERROR);
	assert_int_equal(s.asc, 0x0c);
	/* ADDITIONAL SENSE LENGTH too small to hold ASC: no ASC */
	b[7] = 4;
	assert_int_equal(prpath_sense_decode(b, 18, &s), 0);
	assert_int_equal(s.asc, 0);
	assert_int_equal(s.ascq, 0);
	b[7] = 5;
	assert_int_equal(prpath_sense_decode(b, 18, &s), 0);
	assert_int_equal(s.asc, 0x0c);
	/* ADDITIONAL SENSE LENGTH lies (too big): reads stay inside len */
	b[7] = 0xff;
	{
		uint8_t *c = dup_exact(b, 18);

		assert_int_equal(prpath_sense_decode(c, 18, &s), 0);
		assert_int_equal(s.asc, 0x0c);
		free(c);
	}
	/* unknown response codes */
	b[0] = 0x70;
	assert_int_equal(prpath_sense_decode(b, 18, &s), 0);
	b[0] = 0x00;
	assert_int_equal(prpath_sense_decode(b, 18, &s), -EBADMSG);
	b[0] = 0x7f;
	assert_int_equal(prpath_sense_decode(b, 18, &s), -EBADMSG);
	b[0] = 0x74;
	assert_int_equal(prpath_sense_decode(b, 18, &s), -EBADMSG);
	assert_int_equal(prpath_sense_decode(NULL, 0, &s), -ENODATA);
	assert_int_equal(prpath_sense_decode(b, 0, &s), -ENODATA);
}

static void test_sense_descriptor(void **state)
{
	struct prpath_sense s;
	uint8_t b[40];

	(void)state;
	assert_int_equal(prpath_sense_decode(sense_desc_ill, 20, &s), 0);
	assert_true(s.valid);
	assert_true(s.descriptor);
	assert_false(s.deferred);
	assert_int_equal(s.key, PRPATH_SCSI_SK_ILLEGAL_REQUEST);
	assert_int_equal(s.asc, 0x24);
	assert_int_equal(s.ascq, 0x00);
	assert_true(s.info_valid);
	assert_int_equal(s.info, 0x0102030405060708ull);
	for (size_t n = 0; n <= 20; n++) {
		uint8_t *c = dup_exact(sense_desc_ill, n);
		int ret = prpath_sense_decode(c, n, &s);

		if (n < 4) {
			assert_int_equal(ret, -ENODATA);
		} else {
			assert_int_equal(ret, 0);
			assert_true(s.descriptor);
			assert_int_equal(s.asc, 0x24);
			/* a partial INFORMATION descriptor is ignored */
			assert_int_equal(s.info_valid, n == 20);
		}
		free(c);
	}
	/* deferred descriptor sense, a vendor descriptor before INFORMATION,
	 * and a length that lies */
	memset(b, 0, sizeof(b));
	b[0] = 0x73;
	b[1] = 0x0b;
	b[2] = 0x47;
	b[3] = 0x00;
	b[7] = 0xf0;
	b[8] = 0x80;
	b[9] = 2;
	b[12] = 0x00;
	b[13] = 0x0a;
	b[14] = 0x80;
	prpath_put_be64(b + 16, 42);
	{
		uint8_t *c = dup_exact(b, 24);

		assert_int_equal(prpath_sense_decode(c, 24, &s), 0);
		assert_true(s.deferred);
		assert_true(s.descriptor);
		assert_int_equal(s.key, PRPATH_SCSI_SK_ABORTED_COMMAND);
		assert_int_equal(s.asc, 0x47);
		assert_true(s.info_valid);
		assert_int_equal(s.info, 42);
		free(c);
	}
	/* INFORMATION descriptor with VALID=0 */
	b[14] = 0;
	assert_int_equal(prpath_sense_decode(b, 24, &s), 0);
	assert_false(s.info_valid);
	/* an INFORMATION descriptor too short to hold the field */
	b[14] = 0x80;
	b[13] = 0x02;
	assert_int_equal(prpath_sense_decode(b, 24, &s), 0);
	assert_false(s.info_valid);
	b[13] = 0x0a;
	assert_int_equal(prpath_sense_decode(b, 24, &s), 0);
	assert_true(s.info_valid);
	b[14] = 0;
	/* a descriptor whose length runs past the end */
	b[9] = 0xff;
	assert_int_equal(prpath_sense_decode(b, 24, &s), 0);
	assert_false(s.info_valid);
	assert_int_equal(s.asc, 0x47);
}

static void test_sense_classify(void **state)
{
	struct prpath_sense s;
	uint8_t b[18];

	(void)state;
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_GOOD, NULL, 0, &s),
			 PRPATH_SENSE_OK);
	assert_false(s.valid);
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_CONDITION_MET, NULL, 0, NULL),
			 PRPATH_SENSE_OK);
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_RESERVATION_CONFLICT, NULL, 0, &s),
			 PRPATH_SENSE_RESERVATION_CONFLICT);
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_BUSY, NULL, 0, &s),
			 PRPATH_SENSE_BUSY);
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_TASK_SET_FULL, NULL, 0, &s),
			 PRPATH_SENSE_BUSY);
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_TASK_ABORTED, NULL, 0, &s),
			 PRPATH_SENSE_ABORTED);
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_ACA_ACTIVE, NULL, 0, &s),
			 PRPATH_SENSE_OTHER);
	assert_int_equal(prpath_sense_classify(0x22, NULL, 0, &s), PRPATH_SENSE_OTHER);

	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_CHECK_CONDITION,
					       sense_fixed_ua, 18, &s),
			 PRPATH_SENSE_UNIT_ATTENTION);
	assert_true(s.valid);
	assert_int_equal(s.asc << 8 | s.ascq, PRPATH_SCSI_ASCQ_REGISTRATIONS_PREEMPTED);
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_CHECK_CONDITION,
					       sense_desc_ill, 20, &s),
			 PRPATH_SENSE_ILLEGAL_REQUEST);
	assert_true(s.descriptor);
	/* undecodable sense on CHECK CONDITION */
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_CHECK_CONDITION, NULL, 0, &s),
			 PRPATH_SENSE_OTHER);
	assert_false(s.valid);
	memset(b, 0, sizeof(b));
	b[0] = 0x12;
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_CHECK_CONDITION, b, 18, &s),
			 PRPATH_SENSE_OTHER);

	static const struct {
		uint8_t key;
		enum prpath_sense_cat cat;
	} keys[] = {
		{ PRPATH_SCSI_SK_NO_SENSE, PRPATH_SENSE_OTHER },
		{ PRPATH_SCSI_SK_RECOVERED_ERROR, PRPATH_SENSE_RECOVERED },
		{ PRPATH_SCSI_SK_NOT_READY, PRPATH_SENSE_NOT_READY },
		{ PRPATH_SCSI_SK_MEDIUM_ERROR, PRPATH_SENSE_MEDIUM },
		{ PRPATH_SCSI_SK_HARDWARE_ERROR, PRPATH_SENSE_MEDIUM },
		{ PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SENSE_ILLEGAL_REQUEST },
		{ PRPATH_SCSI_SK_UNIT_ATTENTION, PRPATH_SENSE_UNIT_ATTENTION },
		{ PRPATH_SCSI_SK_DATA_PROTECT, PRPATH_SENSE_OTHER },
		{ PRPATH_SCSI_SK_ABORTED_COMMAND, PRPATH_SENSE_ABORTED },
		{ PRPATH_SCSI_SK_MISCOMPARE, PRPATH_SENSE_MISCOMPARE },
	};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		assert_int_equal(prpath_sense_build_fixed(b, sizeof(b), keys[i].key, 0x04, 0x03), 18);
		assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_CHECK_CONDITION, b, 18, &s),
				 keys[i].cat);
		assert_int_equal(s.key, keys[i].key);
		assert_int_equal(s.asc, 0x04);
		assert_int_equal(s.ascq, 0x03);
	}
	/* a deferred error keeps its category and says so */
	b[0] = 0x71;
	assert_int_equal(prpath_sense_classify(PRPATH_SCSI_STATUS_CHECK_CONDITION, b, 18, &s),
			 PRPATH_SENSE_MISCOMPARE);
	assert_true(s.deferred);
}

static void test_sense_build_and_names(void **state)
{
	uint8_t b[20];
	static const uint8_t exp[18] = {
		0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x26, 0x04, 0, 0, 0, 0,
	};
	static const uint16_t ours[] = {
		PRPATH_SCSI_ASCQ_NONE, PRPATH_SCSI_ASCQ_LUN_NOT_READY_MANUAL, PRPATH_SCSI_ASCQ_WRITE_ERROR,
		PRPATH_SCSI_ASCQ_MISCOMPARE_DURING_VERIFY, PRPATH_SCSI_ASCQ_PARAM_LIST_LENGTH_ERROR,
		PRPATH_SCSI_ASCQ_INVALID_OPCODE, PRPATH_SCSI_ASCQ_LBA_OUT_OF_RANGE,
		PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB, PRPATH_SCSI_ASCQ_LU_NOT_SUPPORTED,
		PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST, PRPATH_SCSI_ASCQ_INVALID_RELEASE_OF_PR,
		PRPATH_SCSI_ASCQ_POWER_ON_RESET, PRPATH_SCSI_ASCQ_BUS_DEVICE_RESET,
		PRPATH_SCSI_ASCQ_I_T_NEXUS_LOSS, PRPATH_SCSI_ASCQ_PARAMETERS_CHANGED,
		PRPATH_SCSI_ASCQ_RESERVATIONS_PREEMPTED, PRPATH_SCSI_ASCQ_RESERVATIONS_RELEASED,
		PRPATH_SCSI_ASCQ_REGISTRATIONS_PREEMPTED, PRPATH_SCSI_ASCQ_COMMANDS_CLEARED_BY_ANOTHER,
		PRPATH_SCSI_ASCQ_SAVING_PARAMS_UNSUPPORTED, PRPATH_SCSI_ASCQ_REPORTED_LUNS_CHANGED,
		PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE, PRPATH_SCSI_ASCQ_INSUFFICIENT_REG_RESOURCES,
	};

	(void)state;
	memset(b, 0xaa, sizeof(b));
	assert_int_equal(prpath_sense_build_fixed(b, sizeof(b), PRPATH_SCSI_SK_ILLEGAL_REQUEST,
						  0x26, 0x04), 18);
	assert_memory_equal(b, exp, 18);
	assert_int_equal(b[18], 0xaa);
	assert_int_equal(prpath_sense_build_fixed(b, 17, 5, 0x26, 0x04), -ENOSPC);
	assert_int_equal(prpath_sense_build_fixed(b, 18, 0x10, 0x26, 0x04), -EINVAL);

	for (size_t i = 0; i < ARRAY_SIZE(ours); i++) {
		const char *n = prpath_asc_name((uint8_t)(ours[i] >> 8), (uint8_t)ours[i]);

		assert_non_null(n);
		assert_string_not_equal(n, "UNKNOWN ADDITIONAL SENSE CODE");
	}
	assert_string_equal(prpath_asc_name(0x2a, 0x05), "REGISTRATIONS PREEMPTED");
	assert_string_equal(prpath_asc_name(0x2a, 0x03), "RESERVATIONS PREEMPTED");
	assert_string_equal(prpath_asc_name(0x2a, 0x04), "RESERVATIONS RELEASED");
	assert_string_equal(prpath_asc_name(0x26, 0x04),
			    "INVALID RELEASE OF PERSISTENT RESERVATION");
	assert_string_equal(prpath_asc_name(0x00, 0x00), "NO ADDITIONAL SENSE INFORMATION");
	assert_string_equal(prpath_asc_name(0x5d, 0x00),
			    "FAILURE PREDICTION THRESHOLD EXCEEDED");
	assert_string_equal(prpath_asc_name(0x7e, 0x7e), "UNKNOWN ADDITIONAL SENSE CODE");
	assert_string_equal(prpath_asc_name(0x80, 0x01),
			    "VENDOR SPECIFIC ADDITIONAL SENSE CODE");

	assert_string_equal(prpath_sense_key_name(PRPATH_SCSI_SK_UNIT_ATTENTION), "UNIT ATTENTION");
	assert_string_equal(prpath_sense_key_name(PRPATH_SCSI_SK_MISCOMPARE), "MISCOMPARE");
	assert_string_equal(prpath_sense_key_name(0x10), "INVALID SENSE KEY");
	for (unsigned k = 0; k < 256; k++)
		assert_non_null(prpath_sense_key_name((uint8_t)k));
	assert_string_equal(prpath_status_name(PRPATH_SCSI_STATUS_RESERVATION_CONFLICT),
			    "RESERVATION CONFLICT");
	assert_string_equal(prpath_status_name(PRPATH_SCSI_STATUS_GOOD), "GOOD");
	assert_string_equal(prpath_status_name(0x22), "UNKNOWN STATUS");
	assert_string_equal(prpath_sense_cat_name(PRPATH_SENSE_RESERVATION_CONFLICT),
			    "reservation conflict");
	assert_string_equal(prpath_sense_cat_name(PRPATH_SENSE_OK), "ok");
	assert_string_equal(prpath_sense_cat_name(PRPATH_SENSE_OTHER), "other");
	assert_string_equal(prpath_sense_cat_name((enum prpath_sense_cat)99),
			    "unknown category");
}

/* ---- INQUIRY, VPD 83h, READ CAPACITY(16) -------------------------------- */

static const uint8_t inq_std[36] = {
	0x00, 0x00, 0x06, 0x12, 31, 0x10, 0x00, 0x02,
	'P', 'R', 'P', 'A', 'T', 'H', ' ', ' ',
	'D', 'E', 'V', 'S', 'E', 'R', 'V', 'E', 'R', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	'0', '1', '0', ' ',
};

static void test_inquiry(void **state)
{
	struct prpath_inquiry q;
	uint8_t b[36];

	(void)state;
	assert_int_equal(prpath_decode_inquiry(inq_std, 36, &q), 0);
	assert_int_equal(q.peripheral_qualifier, 0);
	assert_int_equal(q.device_type, 0);
	assert_int_equal(q.version, 6);
	assert_true(q.hisup);
	assert_int_equal(q.response_format, 2);
	assert_int_equal(q.tpgs, 1);
	assert_string_equal(q.vendor, "PRPATH");
	assert_string_equal(q.product, "DEVSERVER");
	assert_string_equal(q.revision, "010");
	for (size_t n = 0; n <= 36; n++) {
		uint8_t *c = dup_exact(inq_std, n);
		int ret = prpath_decode_inquiry(c, n, &q);

		if (n < 5) {
			assert_int_equal(ret, -ENODATA);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(q.version, 6);
			if (n >= 14)
				assert_string_equal(q.vendor, "PRPATH");
			if (n < 9)
				assert_string_equal(q.vendor, "");
			if (n < 35)
				assert_string_not_equal(q.revision, "010");
		}
		free(c);
	}
	memcpy(b, inq_std, 36);
	b[0] = 0x7f; /* qualifier 3, type 1f: no LU */
	b[4] = 20;   /* additional length stops inside the product */
	b[9] = 0x01; /* control character */
	assert_int_equal(prpath_decode_inquiry(b, 36, &q), 0);
	assert_int_equal(q.peripheral_qualifier, 3);
	assert_int_equal(q.device_type, 0x1f);
	assert_string_equal(q.vendor, "P PATH");
	assert_string_equal(q.product, "DEVSERVER");
	assert_string_equal(q.revision, "");
	b[4] = 13;
	assert_int_equal(prpath_decode_inquiry(b, 36, &q), 0);
	assert_string_equal(q.product, "DE");
}

/* VPD 83h: T10 vendor id (LU), NAA (LU), relative target port, SCSI name
 * of the target port. */
static const uint8_t vpd83[] = {
	0x00, 0x83, 0x00, 56,
	/* T10, ASCII, LU */
	0x02, 0x01, 0x00, 12, 'P', 'R', 'P', 'A', 'T', 'H', ' ', ' ', 'x', 'y', ' ', ' ',
	/* NAA 6, binary, LU, PIV with protocol iSCSI */
	0x51, 0x83, 0x00, 16, 0x60, 0x01, 0x40, 0x50, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xab, 0xcd,
	/* relative target port 2, target port association */
	0x51, 0x94, 0x00, 4, 0x00, 0x00, 0x00, 0x02,
	/* SCSI name, UTF-8, target port */
	0x53, 0x98, 0x00, 8, 'i', 'q', 'n', '.', 't', 0, 0, 0,
};

static void test_vpd83(void **state)
{
	struct prpath_designator d;
	size_t off = 0;
	char id[80];
	uint16_t rtp = 0;
	uint8_t b[sizeof(vpd83)];

	(void)state;
	assert_int_equal(prpath_get_be16(vpd83 + 2), sizeof(vpd83) - 4);
	assert_int_equal(prpath_vpd83_next(vpd83, sizeof(vpd83), &off, &d), 1);
	assert_int_equal(d.type, PRPATH_SCSI_DESIG_T10);
	assert_int_equal(d.code_set, 2);
	assert_int_equal(d.association, PRPATH_SCSI_ASSOC_LU);
	assert_int_equal(d.len, 12);
	assert_ptr_equal(d.id, vpd83 + 8);
	assert_int_equal(prpath_vpd83_next(vpd83, sizeof(vpd83), &off, &d), 1);
	assert_int_equal(d.type, PRPATH_SCSI_DESIG_NAA);
	assert_int_equal(d.protocol, 5);
	assert_true(d.piv);
	assert_int_equal(d.code_set, 1);
	assert_int_equal(prpath_vpd83_next(vpd83, sizeof(vpd83), &off, &d), 1);
	assert_int_equal(d.type, PRPATH_SCSI_DESIG_REL_TGT_PORT);
	assert_int_equal(d.association, PRPATH_SCSI_ASSOC_TARGET_PORT);
	assert_int_equal(prpath_vpd83_next(vpd83, sizeof(vpd83), &off, &d), 1);
	assert_int_equal(d.type, PRPATH_SCSI_DESIG_SCSI_NAME);
	assert_int_equal(prpath_vpd83_next(vpd83, sizeof(vpd83), &off, &d), 0);
	assert_int_equal(prpath_vpd83_next(vpd83, sizeof(vpd83), &off, &d), 0);

	/* NAA wins over the T10 id that comes first */
	assert_int_equal(prpath_vpd83_lu_id(vpd83, sizeof(vpd83), id, sizeof(id)), 32);
	assert_string_equal(id, "6001405000000000000000000000abcd");
	assert_int_equal(prpath_vpd83_lu_id(vpd83, sizeof(vpd83), id, 32), -ENOSPC);
	assert_int_equal(prpath_vpd83_lu_id(vpd83, sizeof(vpd83), id, 33), 32);
	assert_int_equal(prpath_vpd83_rel_tgt_port(vpd83, sizeof(vpd83), &rtp), 0);
	assert_int_equal(rtp, 2);

	/* every cut: the walk stops cleanly at len */
	for (size_t n = 0; n <= sizeof(vpd83); n++) {
		uint8_t *c = dup_exact(vpd83, n);
		int ret = prpath_vpd83_lu_id(c, n, id, sizeof(id));
		int r2 = prpath_vpd83_rel_tgt_port(c, n, &rtp);

		if (n < 4) {
			assert_int_equal(ret, -ENODATA);
			assert_int_equal(r2, -ENODATA);
		} else if (n < 20) {
			assert_int_equal(ret, -ENOENT);
		} else if (n < 40) {
			assert_int_equal(ret, 10);
			assert_string_equal(id, "PRPATH  xy");
		} else {
			assert_int_equal(ret, 32);
		}
		if (n >= 4)
			assert_int_equal(r2, n >= 48 ? 0 : -ENOENT);
		free(c);
	}

	/* a designator that crosses the page's own end: malformed */
	memcpy(b, vpd83, sizeof(b));
	b[3] = 14; /* the page ends inside the T10 designator */
	off = 0;
	assert_int_equal(prpath_vpd83_next(b, sizeof(b), &off, &d), -EBADMSG);
	assert_int_equal(prpath_vpd83_lu_id(b, sizeof(b), id, sizeof(id)), -EBADMSG);
	assert_int_equal(prpath_vpd83_rel_tgt_port(b, sizeof(b), &rtp), -EBADMSG);
	b[3] = 16 + 2; /* ends inside the next designator's header */
	assert_int_equal(prpath_vpd83_lu_id(b, sizeof(b), id, sizeof(id)), -EBADMSG);
	/* the page claims more than present: walked up to len */
	b[3] = 0xff;
	assert_int_equal(prpath_vpd83_lu_id(b, sizeof(b), id, sizeof(id)), 32);
	b[2] = 0xff;
	assert_int_equal(prpath_vpd83_rel_tgt_port(b, sizeof(b), &rtp), 0);
	/* wrong page */
	b[1] = 0x80;
	assert_int_equal(prpath_vpd83_lu_id(b, sizeof(b), id, sizeof(id)), -EBADMSG);
	/* no LU designator at all */
	memcpy(b, vpd83, sizeof(b));
	b[5] = 0x11; /* T10 -> target port */
	b[21] = 0x93;
	assert_int_equal(prpath_vpd83_lu_id(b, sizeof(b), id, sizeof(id)), -ENOENT);
	/* the SCSI name of the LU is text */
	b[49] = 0x88;
	assert_int_equal(prpath_vpd83_lu_id(b, sizeof(b), id, sizeof(id)), 5);
	assert_string_equal(id, "iqn.t");
	/* EUI-64 beats T10 and SCSI name */
	b[5] = 0x01;
	b[21] = 0x02;
	assert_int_equal(prpath_vpd83_lu_id(b, sizeof(b), id, sizeof(id)), 32);
	/* two NAA designators of the LU: the first one is the identity */
	{
		static const uint8_t two[] = {
			0x00, 0x83, 0x00, 24,
			0x01, 0x03, 0x00, 8, 0x50, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
			0x01, 0x03, 0x00, 8, 0x50, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
		};

		assert_int_equal(prpath_vpd83_lu_id(two, sizeof(two), id, sizeof(id)), 16);
		assert_string_equal(id, "5001020304050607");
	}
	/* no relative target port */
	b[41] = 0x04; /* -> LU association */
	assert_int_equal(prpath_vpd83_rel_tgt_port(b, sizeof(b), &rtp), -ENOENT);
}

static void test_vpd_b0(void **state)
{
	/* page B0, PAGE LENGTH 0x3c, granularity 8, max 65536, optimal 2048 */
	uint8_t pg[64] = { 0x00, 0xb0, 0x00, 0x3c, 0, 0, 0x00, 0x08,
			   0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00 };
	struct prpath_block_limits bl;

	(void)state;
	assert_int_equal(prpath_decode_vpd_b0(pg, sizeof(pg), &bl), 0);
	assert_int_equal(bl.opt_xfer_granularity, 8);
	assert_int_equal(bl.max_xfer_len, 65536);
	assert_int_equal(bl.opt_xfer_len, 2048);
	/* cut at every length: fields past the end read as "no limit" */
	for (size_t n = 0; n <= sizeof(pg); n++) {
		uint8_t *p = dup_exact(pg, n);
		int ret = prpath_decode_vpd_b0(p, n, &bl);

		if (n < 4) {
			assert_int_equal(ret, -ENODATA);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(bl.max_xfer_len, n >= 12 ? 65536u : 0u);
			assert_int_equal(bl.opt_xfer_len, n >= 16 ? 2048u : 0u);
		}
		free(p);
	}
	/* PAGE LENGTH shorter than the buffer: the rest is not the page's */
	pg[3] = 6;
	assert_int_equal(prpath_decode_vpd_b0(pg, sizeof(pg), &bl), 0);
	assert_int_equal(bl.max_xfer_len, 0);
	/* another page */
	pg[1] = 0x83;
	assert_int_equal(prpath_decode_vpd_b0(pg, sizeof(pg), &bl), -EBADMSG);
	assert_int_equal(prpath_decode_vpd_b0(NULL, 10, &bl), -ENODATA);
}

static void test_read_capacity16(void **state)
{
	struct prpath_capacity c;
	static const uint8_t rc[32] = {
		0, 0, 0, 0, 0x00, 0x3f, 0xff, 0xff, 0, 0, 0x10, 0x00,
		0x00, 0x00, 0xc0, 0x00,
	};
	uint8_t b[32];

	(void)state;
	assert_int_equal(prpath_decode_read_capacity16(rc, 32, &c), 0);
	assert_int_equal(c.last_lba, 0x3fffff);
	assert_int_equal(c.block_size, 4096);
	assert_true(c.lbpme);
	assert_true(c.lbprz);
	for (size_t n = 0; n <= 32; n++) {
		uint8_t *p = dup_exact(rc, n);
		int ret = prpath_decode_read_capacity16(p, n, &c);

		if (n < 12) {
			assert_int_equal(ret, -ENODATA);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(c.block_size, 4096);
			assert_int_equal(c.lbpme, n >= 15);
		}
		free(p);
	}
	memcpy(b, rc, 32);
	b[14] = 0x80;
	assert_int_equal(prpath_decode_read_capacity16(b, 32, &c), 0);
	assert_true(c.lbpme);
	assert_false(c.lbprz);
	memset(b + 8, 0, 4);
	assert_int_equal(prpath_decode_read_capacity16(b, 32, &c), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_crc32c_chaining),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_err_from_sense_cat),
		cmocka_unit_test(test_pr_types),
		cmocka_unit_test(test_sa_names),
		cmocka_unit_test(test_cdb_pr),
		cmocka_unit_test(test_cdb_misc),
		cmocka_unit_test(test_cdb_rw),
		cmocka_unit_test(test_tid_encode),
		cmocka_unit_test(test_tid_decode),
		cmocka_unit_test(test_tid_malformed),
		cmocka_unit_test(test_tid_round_trip),
		cmocka_unit_test(test_tid_port_name),
		cmocka_unit_test(test_prout_params_basic),
		cmocka_unit_test(test_prout_params_spec_i_pt),
		cmocka_unit_test(test_prout_move_params),
		cmocka_unit_test(test_read_keys),
		cmocka_unit_test(test_read_reservation),
		cmocka_unit_test(test_report_capabilities),
		cmocka_unit_test(test_read_full_status),
		cmocka_unit_test(test_sense_fixed),
		cmocka_unit_test(test_sense_descriptor),
		cmocka_unit_test(test_sense_classify),
		cmocka_unit_test(test_sense_build_and_names),
		cmocka_unit_test(test_inquiry),
		cmocka_unit_test(test_vpd83),
		cmocka_unit_test(test_read_capacity16),
		cmocka_unit_test(test_vpd_b0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
