/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Path URL parsing and checking (src/host/url.c), the stable iSCSI ISID
 * (src/host/iscsi_id.c), and opening bad URLs without any network.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/iscsi.h"
#include "host/url.h"

static void test_iscsi_url_good(void **state)
{
	struct pp_iscsi_url u;
	char why[256];

	(void)state;
	assert_int_equal(pp_iscsi_url_parse("iscsi://127.0.0.1/iqn.2024-01.org.example:lu1/0",
					    &u, why, sizeof(why)), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_false(u.ipv6);
	assert_int_equal(u.port, 3260);
	assert_string_equal(u.target, "iqn.2024-01.org.example:lu1");
	assert_int_equal(u.lun, 0);
	assert_string_equal(u.portal, "127.0.0.1:3260");
	assert_string_equal(why, "");

	assert_int_equal(pp_iscsi_url_parse("iscsi://storage-a.example.com:3261/iqn.x:y/17",
					    &u, NULL, 0), 0);
	assert_string_equal(u.host, "storage-a.example.com");
	assert_int_equal(u.port, 3261);
	assert_string_equal(u.target, "iqn.x:y");
	assert_int_equal(u.lun, 17);
	assert_string_equal(u.portal, "storage-a.example.com:3261");

	assert_int_equal(pp_iscsi_url_parse("iscsi://[::1]:3262/iqn.t/16383",
					    &u, why, sizeof(why)), 0);
	assert_string_equal(u.host, "::1");
	assert_true(u.ipv6);
	assert_int_equal(u.port, 3262);
	assert_int_equal(u.lun, 16383);
	assert_string_equal(u.portal, "[::1]:3262");

	assert_int_equal(pp_iscsi_url_parse("iscsi://[fe80::1:2]/eui.0123456789abcdef/1",
					    &u, why, sizeof(why)), 0);
	assert_string_equal(u.host, "fe80::1:2");
	assert_int_equal(u.port, 3260);
	assert_string_equal(u.portal, "[fe80::1:2]:3260");
	assert_string_equal(u.target, "eui.0123456789abcdef");

	/* scheme is case-insensitive */
	assert_int_equal(pp_iscsi_url_parse("ISCSI://h/naa.6001405abcdef/2",
					    &u, why, sizeof(why)), 0);
	assert_string_equal(u.host, "h");
	assert_int_equal(u.lun, 2);
}

struct bad_url {
	const char *url;
	const char *why;
};

static const struct bad_url bad_urls[] = {
	{ "http://h/iqn.t/0", "'http://h/iqn.t/0' is not an iscsi:// URL" },
	{ "iscsi://", "missing host" },
	{ "iscsi:///iqn.t/0", "missing host" },
	{ "iscsi://:3260/iqn.t/0", "missing host" },
	{ "iscsi://@h/iqn.t/0", "empty CHAP user name in the URL" },
	{ "iscsi://user%@h/iqn.t/0", "empty CHAP secret in the URL" },
	{ "iscsi://h h/iqn.t/0", "bad character ' ' in host name" },
	{ "iscsi://[::1/iqn.t/0", "IPv6 address without closing ']'" },
	{ "iscsi://[]/iqn.t/0", "empty IPv6 address" },
	{ "iscsi://[1.2.3.4]/iqn.t/0", "bad IPv6 address '1.2.3.4'" },
	{ "iscsi://[::g]/iqn.t/0", "bad character 'g' in IPv6 address" },
	{ "iscsi://[::1]x/iqn.t/0", "unexpected 'x' after IPv6 address" },
	{ "iscsi://h:/iqn.t/0", "bad port '' (1-65535)" },
	{ "iscsi://h:0/iqn.t/0", "bad port '0' (1-65535)" },
	{ "iscsi://h:65536/iqn.t/0", "bad port '65536' (1-65535)" },
	{ "iscsi://h:12ab/iqn.t/0", "bad port '12ab' (1-65535)" },
	{ "iscsi://h:-1/iqn.t/0", "bad port '-1' (1-65535)" },
	{ "iscsi://h", "missing target name (iscsi://HOST[:PORT]/TARGET-IQN/LUN)" },
	{ "iscsi://h/", "missing target name (iscsi://HOST[:PORT]/TARGET-IQN/LUN)" },
	{ "iscsi://h//0", "missing target name (iscsi://HOST[:PORT]/TARGET-IQN/LUN)" },
	{ "iscsi://h/target/0", "target name 'target' does not start with iqn., eui. or naa." },
	{ "iscsi://h/iqn.a,b/0", "bad character in target name" },
	{ "iscsi://h/iqn.t", "missing LUN after the target name" },
	{ "iscsi://h/iqn.t/", "missing LUN after the target name" },
	{ "iscsi://h/iqn.t/x", "bad LUN 'x' (0-16383)" },
	{ "iscsi://h/iqn.t/16384", "bad LUN '16384' (0-16383)" },
	{ "iscsi://h/iqn.t/-1", "bad LUN '-1' (0-16383)" },
	{ "iscsi://h/iqn.t/0/", "bad LUN '0/' (0-16383)" },
	{ "iscsi://h/iqn.t/1 ", "bad LUN '1 ' (0-16383)" },
	{ "iscsi://h/iqn.t/99999999999999999999", "bad LUN '99999999999999999999' (0-16383)" },
};

static void test_iscsi_url_bad(void **state)
{
	struct pp_iscsi_url u;
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		why[0] = 'X';
		why[1] = '\0';
		if (pp_iscsi_url_parse(bad_urls[i].url, &u, why, sizeof(why)) != -EINVAL)
			fail_msg("accepted bad URL '%s'", bad_urls[i].url);
		if (strcmp(why, bad_urls[i].why))
			fail_msg("URL '%s': reason '%s', expected '%s'",
				 bad_urls[i].url, why, bad_urls[i].why);
	}
	/* a too-long target name */
	{
		char url[400];
		char name[230];

		memset(name, 'a', sizeof(name) - 1);
		memcpy(name, "iqn.", 4);
		name[224] = '\0'; /* 224 characters: one too many */
		snprintf(url, sizeof(url), "iscsi://h/%s/0", name);
		assert_int_equal(pp_iscsi_url_parse(url, &u, why, sizeof(why)), -EINVAL);
		assert_string_equal(why, "target name longer than 223 characters");
		name[223] = '\0';
		snprintf(url, sizeof(url), "iscsi://h/%s/0", name);
		assert_int_equal(pp_iscsi_url_parse(url, &u, why, sizeof(why)), 0);
		assert_int_equal(strlen(u.target), 223);
	}
	/* NULL arguments and a short why buffer */
	assert_int_equal(pp_iscsi_url_parse(NULL, &u, why, sizeof(why)), -EINVAL);
	assert_int_equal(pp_iscsi_url_parse("iscsi://h/x/0", &u, why, 8), -EINVAL);
	assert_string_equal(why, "target ");
	assert_int_equal(pp_iscsi_url_parse("iscsi://h/x/0", &u, NULL, 0), -EINVAL);
}

static void test_url_check(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(pp_url_check("iscsi://127.0.0.1:3260/iqn.t/0", why, sizeof(why)),
			 PP_URL_ISCSI);
	assert_int_equal(pp_url_check("sg:/dev/sg3", why, sizeof(why)), PP_URL_SG);
	assert_int_equal(pp_url_check("/dev/sdb", why, sizeof(why)), PP_URL_SG);

	assert_int_equal(pp_url_check("iscsi://h/iqn.t/x", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "bad LUN 'x' (0-16383)");
	assert_int_equal(pp_url_check("sg:dev/sg0", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "'sg:dev/sg0': sg: needs an absolute device path (sg:/dev/sgN)");
	assert_int_equal(pp_url_check("sg:/", why, sizeof(why)), -EINVAL);
	assert_int_equal(pp_url_check("sg:", why, sizeof(why)), -EINVAL);
	assert_int_equal(pp_url_check("/dev/", why, sizeof(why)), -EINVAL);
	assert_int_equal(pp_url_check("sdb", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "'sdb': unknown path syntax (expected "
			    "iscsi://HOST[:PORT]/TARGET-IQN/LUN, sg:/dev/sgN or /dev/sdX)");
	assert_int_equal(pp_url_check("", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "empty path");
	assert_int_equal(pp_url_check(NULL, NULL, 0), -EINVAL);
}

static void test_open_url_errors(void **state)
{
	struct pp_conn *c = (struct pp_conn *)1;

	(void)state;
	/* bad syntax: nothing is opened, the reason is kept */
	assert_int_equal(pp_conn_open_url("iscsi://h:0/iqn.t/0", "iqn.h", 0, 100, &c),
			 -EINVAL);
	assert_null(c);
	assert_string_equal(pp_transport_last_error(), "bad port '0' (1-65535)");
	assert_int_equal(pp_conn_open_url("nope", "iqn.h", 0, 100, &c), -EINVAL);
	assert_null(c);

	/* a bad initiator name or path role is refused before connecting */
	assert_int_equal(pp_iscsi_open("iscsi://127.0.0.1:1/iqn.t/0", "iqn.a,b", 0, 100, &c),
			 -EINVAL);
	assert_string_equal(pp_transport_last_error(), "bad initiator name 'iqn.a,b'");
	assert_int_equal(pp_iscsi_open("iscsi://127.0.0.1:1/iqn.t/0", "", 0, 100, &c),
			 -EINVAL);
	assert_int_equal(pp_iscsi_open("iscsi://127.0.0.1:1/iqn.t/0", "iqn.h", 2, 100, &c),
			 -EINVAL);
	assert_string_equal(pp_transport_last_error(), "bad path role 2");

	/* missing device through the sg: syntax */
	assert_int_equal(pp_conn_open_url("sg:/dev/prpath-no-such-sg", NULL, 0, 100, &c),
			 -ENOENT);
	assert_null(c);
	assert_string_equal(pp_transport_last_error(),
			    "/dev/prpath-no-such-sg: no such device");
}

static void test_same_path(void **state)
{
	(void)state;
	/* the default port, case of host and target, CHAP credentials */
	assert_true(pp_url_same_path("iscsi://10.0.0.1/iqn.2024-01.x:t/0",
				     "iscsi://10.0.0.1:3260/iqn.2024-01.x:t/0"));
	assert_true(pp_url_same_path("iscsi://Host.Example/iqn.2024-01.x:T/3",
				     "iscsi://host.example:3260/IQN.2024-01.X:t/3"));
	assert_true(pp_url_same_path("iscsi://u%secretsecret@10.0.0.1/iqn.2024-01.x:t/0",
				     "iscsi://10.0.0.1/iqn.2024-01.x:t/0"));
	assert_true(pp_url_same_path("sg:/dev/sg1", "/dev/sg1"));
	/* anything else that differs is another path */
	assert_false(pp_url_same_path("iscsi://10.0.0.1/iqn.2024-01.x:t/0",
				      "iscsi://10.0.0.2/iqn.2024-01.x:t/0"));
	assert_false(pp_url_same_path("iscsi://10.0.0.1/iqn.2024-01.x:t/0",
				      "iscsi://10.0.0.1:3261/iqn.2024-01.x:t/0"));
	assert_false(pp_url_same_path("iscsi://10.0.0.1/iqn.2024-01.x:t/0",
				      "iscsi://10.0.0.1/iqn.2024-01.x:u/0"));
	assert_false(pp_url_same_path("iscsi://10.0.0.1/iqn.2024-01.x:t/0",
				      "iscsi://10.0.0.1/iqn.2024-01.x:t/1"));
	assert_false(pp_url_same_path("sg:/dev/sg1", "/dev/sg2"));
	assert_false(pp_url_same_path("sg:/dev/sg1", "iscsi://10.0.0.1/iqn.2024-01.x:t/0"));
	assert_false(pp_url_same_path("nope", "nope"));
}

static void test_isid(void **state)
{
	const char *h = "iqn.2024-01.org.example:host-a";
	const char *t = "iqn.2024-01.org.prpath:lu";
	char a[13], b[13], c[13], d[13];
	uint32_t rnd, q;

	(void)state;
	assert_int_equal(pp_iscsi_isid_for(h, "10.0.0.1:3260", t, PP_ISCSI_ROLE_IO, a), 0);
	assert_int_equal(pp_iscsi_isid_for(h, "10.0.0.1:3260", t, PP_ISCSI_ROLE_IO, b), 0);
	assert_string_equal(a, b); /* stable: the same path is the same port */
	assert_int_equal(strlen(a), 12);
	assert_memory_equal(a, "80", 2); /* type 10b: random */
	for (int i = 0; i < 12; i++)
		assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));

	/* another portal, another target, another role: another port */
	assert_int_equal(pp_iscsi_isid_for(h, "10.0.0.2:3260", t, PP_ISCSI_ROLE_IO, c), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(pp_iscsi_isid_for(h, "10.0.0.1:3261", t, PP_ISCSI_ROLE_IO, c), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(pp_iscsi_isid_for(h, "10.0.0.1:3260", "iqn.x:other", PP_ISCSI_ROLE_IO, c), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(pp_iscsi_isid_for(h, "10.0.0.1:3260", t, PP_ISCSI_ROLE_OBSERVER, c), 0);
	assert_string_not_equal(a, c);
	/* the strings are not simply concatenated */
	assert_int_equal(pp_iscsi_isid_for(h, "10.0.0.1:326", "0iqn.x", PP_ISCSI_ROLE_IO, c), 0);
	assert_int_equal(pp_iscsi_isid_for(h, "10.0.0.1:3260", "iqn.x", PP_ISCSI_ROLE_IO, d), 0);
	assert_string_not_equal(c, d);

	/* iSCSI names and host names are case-insensitive */
	assert_int_equal(pp_iscsi_isid_for("IQN.2024-01.ORG.EXAMPLE:HOST-A", "10.0.0.1:3260",
					   "IQN.2024-01.org.prpath:LU", PP_ISCSI_ROLE_IO, d), 0);
	assert_string_equal(a, d);
	/* another host: another port */
	assert_int_equal(pp_iscsi_isid_for("iqn.2024-01.org.example:host-b", "10.0.0.1:3260",
					   t, PP_ISCSI_ROLE_IO, d), 0);
	assert_string_not_equal(a, d);

	/* the parts are what the string says */
	assert_int_equal(pp_iscsi_isid_parts(h, "10.0.0.1:3260", t, PP_ISCSI_ROLE_IO, &rnd, &q), 0);
	assert_true(rnd <= 0xffffff);
	assert_true(q <= 0xffff);
	snprintf(d, sizeof(d), "80%06x%04x", (unsigned)rnd, (unsigned)q);
	assert_string_equal(d, a);

	assert_int_equal(pp_iscsi_isid_for("", "p:1", t, 0, d), -EINVAL);
	assert_int_equal(pp_iscsi_isid_for(NULL, "p:1", t, 0, d), -EINVAL);
	assert_int_equal(pp_iscsi_isid_for(h, "", t, 0, d), -EINVAL);
	assert_int_equal(pp_iscsi_isid_for(h, "p:1", NULL, 0, d), -EINVAL);
	assert_int_equal(pp_iscsi_isid_for(h, "p:1", t, 2, d), -EINVAL);
	assert_int_equal(pp_iscsi_name_check("iqn.has space"), -EINVAL);
	assert_int_equal(pp_iscsi_name_check("iqn.ok:1"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iscsi_url_good),
		cmocka_unit_test(test_iscsi_url_bad),
		cmocka_unit_test(test_url_check),
		cmocka_unit_test(test_open_url_errors),
		cmocka_unit_test(test_isid),
		cmocka_unit_test(test_same_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
