/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iSCSI target PDU module: BHS parsing, AHS, LUN fields, text keys, login
 * key negotiation, CRC32C digests.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "target/pdu.h"

/* Finds "key=" in a NUL-separated text and returns its value or NULL. */
static const char *find_key(const char *text, size_t len, const char *key)
{
	size_t off = 0, kl = strlen(key);

	while (off < len) {
		const char *p = text + off;
		size_t l = strnlen(p, len - off);

		if (l > kl && memcmp(p, key, kl) == 0 && p[kl] == '=')
			return p + kl + 1;
		off += l + 1;
	}
	return NULL;
}

static void test_bhs_login(void **state)
{
	uint8_t h[48] = { 0 };
	struct iscsi_bhs b;

	(void)state;
	h[0] = 0x40 | ISCSI_OP_LOGIN_REQ;
	h[1] = 0x87; /* T, CSG 1, NSG 3 */
	h[4] = 0;
	h[5] = 0x01; h[6] = 0x02; h[7] = 0x03;
	h[16] = 0xde; h[17] = 0xad; h[18] = 0xbe; h[19] = 0xef;
	h[24] = 0; h[25] = 0; h[26] = 0; h[27] = 7;
	assert_int_equal(iscsi_bhs_parse(h, sizeof(h), &b), 0);
	assert_int_equal(b.opcode, ISCSI_OP_LOGIN_REQ);
	assert_true(b.immediate);
	assert_true(b.final);
	assert_int_equal(b.flags, 0x87);
	assert_int_equal(b.dlen, 0x010203);
	assert_int_equal(b.itt, 0xdeadbeef);
	assert_int_equal(b.f24, 7);
}

static void test_bhs_bad(void **state)
{
	uint8_t h[48] = { 0 };
	struct iscsi_bhs b;

	(void)state;
	assert_int_equal(iscsi_bhs_parse(h, 47, &b), -ENODATA);
	h[0] = ISCSI_OP_SCSI_RSP; /* a target opcode */
	assert_int_equal(iscsi_bhs_parse(h, 48, &b), -EBADMSG);
	h[0] = 0x3f;
	assert_int_equal(iscsi_bhs_parse(h, 48, &b), -EBADMSG);
	h[0] = 0x80 | ISCSI_OP_NOP_OUT; /* reserved bit */
	assert_int_equal(iscsi_bhs_parse(h, 48, &b), -EBADMSG);
	h[0] = ISCSI_OP_SNACK;
	assert_int_equal(iscsi_bhs_parse(h, 48, &b), 0);
}

static void test_ahs(void **state)
{
	uint8_t ahs[24] = { 0 }, ext[32];

	(void)state;
	/* extended CDB of 32 bytes: 16 extra + reserved byte = AHSLength 17 */
	ahs[0] = 0; ahs[1] = 17; ahs[2] = 1; ahs[3] = 0;
	memset(ahs + 4, 0xab, 16);
	assert_int_equal(iscsi_ahs_ext_cdb(ahs, 20, ext, sizeof(ext)), 16);
	assert_int_equal(ext[0], 0xab);
	assert_int_equal(ext[15], 0xab);
	/* AHSLength claims more than present */
	ahs[1] = 200;
	assert_int_equal(iscsi_ahs_ext_cdb(ahs, 20, ext, sizeof(ext)), -EBADMSG);
	/* zero length */
	ahs[1] = 0;
	assert_int_equal(iscsi_ahs_ext_cdb(ahs, 20, ext, sizeof(ext)), -EBADMSG);
	/* truncated header */
	assert_int_equal(iscsi_ahs_ext_cdb(ahs, 3, ext, sizeof(ext)), -EBADMSG);
	/* other AHS type is skipped */
	ahs[1] = 1; ahs[2] = 2;
	assert_int_equal(iscsi_ahs_ext_cdb(ahs, 4, ext, sizeof(ext)), 0);
}

static void test_lun(void **state)
{
	uint8_t l[8];

	(void)state;
	iscsi_lun_encode(0, l);
	assert_int_equal(iscsi_lun_decode(l), 0);
	iscsi_lun_encode(5, l);
	assert_int_equal(l[1], 5);
	assert_int_equal(iscsi_lun_decode(l), 5);
	iscsi_lun_encode(300, l);
	assert_int_equal(l[0], 0x41);
	assert_int_equal(l[1], 300 & 0xff);
	assert_int_equal(iscsi_lun_decode(l), 300);
	l[5] = 1; /* second level */
	assert_int_equal(iscsi_lun_decode(l), -EINVAL);
	memset(l, 0, 8);
	l[0] = 0x80; /* logical unit addressing */
	assert_int_equal(iscsi_lun_decode(l), -EINVAL);
}

static void test_text_parse(void **state)
{
	static const uint8_t t1[] = "A=1\0BB=two\0\0\0";
	static const uint8_t bad1[] = { 'A', 'B', 0 };
	static const uint8_t bad2[] = { 'A', '=', '1' };
	static const uint8_t bad3[] = { '=', '1', 0 };
	static const uint8_t bad4[] = { 'A', ' ', '=', '1', 0 };
	struct iscsi_kv kv;
	size_t off = 0;

	(void)state;
	assert_int_equal(iscsi_text_next(t1, sizeof(t1), &off, &kv), 1);
	assert_int_equal(kv.key_len, 1);
	assert_memory_equal(kv.key, "A", 1);
	assert_int_equal(kv.value_len, 1);
	assert_memory_equal(kv.value, "1", 1);
	assert_int_equal(iscsi_text_next(t1, sizeof(t1), &off, &kv), 1);
	assert_int_equal(kv.key_len, 2);
	assert_int_equal(kv.value_len, 3);
	assert_memory_equal(kv.value, "two", 3);
	assert_int_equal(iscsi_text_next(t1, sizeof(t1), &off, &kv), 0);
	off = 0;
	assert_int_equal(iscsi_text_next(bad1, sizeof(bad1), &off, &kv), -EBADMSG);
	off = 0;
	assert_int_equal(iscsi_text_next(bad2, sizeof(bad2), &off, &kv), -EBADMSG);
	off = 0;
	assert_int_equal(iscsi_text_next(bad3, sizeof(bad3), &off, &kv), -EBADMSG);
	off = 0;
	assert_int_equal(iscsi_text_next(bad4, sizeof(bad4), &off, &kv), -EBADMSG);
}

static void test_text_add(void **state)
{
	char buf[12];
	size_t len = 0;

	(void)state;
	assert_int_equal(iscsi_text_add(buf, sizeof(buf), &len, "Key", "Val"), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(buf, "Key=Val\0", 8);
	assert_int_equal(iscsi_text_add(buf, sizeof(buf), &len, "K", "VV"), -ENOSPC);
	assert_int_equal(len, 8);
	assert_int_equal(iscsi_text_add(buf, sizeof(buf), &len, "K", "V"), 0);
	assert_int_equal(len, 12);
}

static void test_parse_u32(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(iscsi_parse_u32("262144", 6, &v), 0);
	assert_int_equal(v, 262144);
	assert_int_equal(iscsi_parse_u32("0x10", 4, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(iscsi_parse_u32("4294967295", 10, &v), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(iscsi_parse_u32("4294967296", 10, &v), -EINVAL);
	assert_int_equal(iscsi_parse_u32("12a", 3, &v), -EINVAL);
	assert_int_equal(iscsi_parse_u32("", 0, &v), -EINVAL);
	assert_int_equal(iscsi_parse_u32("-1", 2, &v), -EINVAL);
}

#define NEGO(p, stage, lit, out, olen) \
	iscsi_negotiate((p), (stage), (const uint8_t *)(lit), sizeof(lit), \
			(out), sizeof(out), &(olen), NULL)

static void test_nego_security(void **state)
{
	static const char in[] = "InitiatorName=iqn.x:a\0SessionType=Normal\0"
				 "TargetName=iqn.t:b\0AuthMethod=CHAP,None\0";
	static const char chap[] = "AuthMethod=CHAP\0";
	struct iscsi_params p;
	char out[256];
	size_t olen = 0;

	(void)state;
	iscsi_params_init(&p, 262144);
	assert_int_equal(NEGO(&p, ISCSI_NEGO_SECURITY, in, out, olen), 0);
	assert_string_equal(p.initiator_name, "iqn.x:a");
	assert_string_equal(p.target_name, "iqn.t:b");
	assert_int_equal(p.session_type, ISCSI_SESSION_NORMAL);
	assert_non_null(find_key(out, olen, "AuthMethod"));
	assert_string_equal(find_key(out, olen, "AuthMethod"), "None");
	assert_null(find_key(out, olen, "InitiatorName"));

	olen = 0;
	iscsi_params_init(&p, 262144);
	assert_int_equal(NEGO(&p, ISCSI_NEGO_SECURITY, chap, out, olen),
			 ISCSI_LOGIN_AUTH_FAILED);
}

static void test_nego_operational(void **state)
{
	static const char in[] =
		"HeaderDigest=CRC32C,None\0DataDigest=None\0"
		"MaxRecvDataSegmentLength=4096\0MaxBurstLength=16777215\0"
		"FirstBurstLength=4096\0InitialR2T=No\0ImmediateData=Yes\0"
		"MaxOutstandingR2T=100\0ErrorRecoveryLevel=2\0MaxConnections=4\0"
		"DefaultTime2Wait=0\0DefaultTime2Retain=3600\0"
		"DataPDUInOrder=No\0DataSequenceInOrder=Yes\0X-com.example=1\0"
		"Bogus=1\0";
	struct iscsi_params p;
	char out[1024];
	size_t olen = 0;

	(void)state;
	iscsi_params_init(&p, 262144);
	assert_int_equal(NEGO(&p, ISCSI_NEGO_OPERATIONAL, in, out, olen), 0);
	assert_true(p.header_digest);
	assert_false(p.data_digest);
	assert_string_equal(find_key(out, olen, "HeaderDigest"), "CRC32C");
	assert_string_equal(find_key(out, olen, "DataDigest"), "None");
	assert_int_equal(p.max_send_dsl, 4096);
	assert_null(find_key(out, olen, "MaxRecvDataSegmentLength"));
	assert_string_equal(find_key(out, olen, "MaxBurstLength"), "1048576");
	assert_int_equal(p.max_burst, 1048576);
	assert_string_equal(find_key(out, olen, "FirstBurstLength"), "4096");
	assert_int_equal(p.first_burst, 4096);
	assert_string_equal(find_key(out, olen, "InitialR2T"), "No");
	assert_false(p.initial_r2t);
	assert_string_equal(find_key(out, olen, "ImmediateData"), "Yes");
	assert_string_equal(find_key(out, olen, "MaxOutstandingR2T"), "8");
	assert_int_equal(p.max_outstanding_r2t, 8);
	assert_string_equal(find_key(out, olen, "ErrorRecoveryLevel"), "0");
	assert_string_equal(find_key(out, olen, "MaxConnections"), "1");
	assert_string_equal(find_key(out, olen, "DefaultTime2Wait"), "2");
	assert_string_equal(find_key(out, olen, "DefaultTime2Retain"), "20");
	assert_string_equal(find_key(out, olen, "DataPDUInOrder"), "Yes");
	assert_string_equal(find_key(out, olen, "DataSequenceInOrder"), "Yes");
	assert_string_equal(find_key(out, olen, "X-com.example"), "NotUnderstood");
	assert_string_equal(find_key(out, olen, "Bogus"), "NotUnderstood");
}

static void test_nego_bad_values(void **state)
{
	static const char in[] = "MaxBurstLength=abc\0HeaderDigest=MD5\0"
				 "ImmediateData=Maybe\0MaxRecvDataSegmentLength=1\0";
	static const char sec_ops[] = "HeaderDigest=CRC32C\0";
	static const char broken[] = "NoEquals\0";
	static const char st[] = "SendTargets=All\0";
	struct iscsi_params p;
	char out[512];
	size_t olen = 0;
	const char *send = NULL;

	(void)state;
	iscsi_params_init(&p, 262144);
	assert_int_equal(NEGO(&p, ISCSI_NEGO_OPERATIONAL, in, out, olen), 0);
	assert_string_equal(find_key(out, olen, "MaxBurstLength"), "Reject");
	assert_string_equal(find_key(out, olen, "HeaderDigest"), "Reject");
	assert_string_equal(find_key(out, olen, "ImmediateData"), "Reject");
	assert_string_equal(find_key(out, olen, "MaxRecvDataSegmentLength"), "Reject");
	assert_int_equal(p.max_burst, 262144);
	assert_int_equal(p.max_send_dsl, 8192);

	/* operational keys in the security stage are refused */
	olen = 0;
	assert_int_equal(NEGO(&p, ISCSI_NEGO_SECURITY, sec_ops, out, olen), 0);
	assert_string_equal(find_key(out, olen, "HeaderDigest"), "Reject");

	olen = 0;
	assert_int_equal(NEGO(&p, ISCSI_NEGO_OPERATIONAL, broken, out, olen),
			 ISCSI_LOGIN_INITIATOR_ERROR);

	/* SendTargets goes to the caller in full feature phase */
	olen = 0;
	assert_int_equal(iscsi_negotiate(&p, ISCSI_NEGO_FFP, (const uint8_t *)st,
					 sizeof(st), out, sizeof(out), &olen, &send), 0);
	assert_non_null(send);
	assert_string_equal(send, "All");
	assert_int_equal(olen, 0);

	/* output too small */
	{
		static const char many[] = "A1=1\0A2=1\0A3=1\0";
		char small[20];

		olen = 0;
		assert_int_equal(NEGO(&p, ISCSI_NEGO_OPERATIONAL, many, small, olen),
				 -ENOSPC);
	}
}

static void test_digest(void **state)
{
	static const uint8_t zeros[32];
	uint8_t ones[32], d[4];

	(void)state;
	/* RFC 3720 B.4 test vectors */
	assert_int_equal(iscsi_digest_value(zeros, 32), 0x8a9136aa);
	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(iscsi_digest_value(ones, 32), 0x62a8ab43);
	assert_int_equal(iscsi_digest_value("123456789", 9), 0xe3069283);
	iscsi_digest("123456789", 9, d);
	assert_int_equal(d[0], 0x83);
	assert_int_equal(d[1], 0x92);
	assert_int_equal(d[2], 0x06);
	assert_int_equal(d[3], 0xe3);
	assert_int_equal(iscsi_crc2("1234", 4, "56789", 5), 0xe3069283);
}

static void test_sn(void **state)
{
	(void)state;
	assert_true(iscsi_sn_lt(1, 2));
	assert_false(iscsi_sn_lt(2, 2));
	assert_true(iscsi_sn_lt(0xffffffff, 0));
	assert_false(iscsi_sn_lt(0, 0xffffffff));
	assert_int_equal(iscsi_pad4(0), 0);
	assert_int_equal(iscsi_pad4(1), 4);
	assert_int_equal(iscsi_pad4(8), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bhs_login),
		cmocka_unit_test(test_bhs_bad),
		cmocka_unit_test(test_ahs),
		cmocka_unit_test(test_lun),
		cmocka_unit_test(test_text_parse),
		cmocka_unit_test(test_text_add),
		cmocka_unit_test(test_parse_u32),
		cmocka_unit_test(test_nego_security),
		cmocka_unit_test(test_nego_operational),
		cmocka_unit_test(test_nego_bad_values),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_sn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
