/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iSCSI transport (src/host/iscsi.c) against a real target.
 * Run by tests/test_iscsi_transport.sh, which starts a private tgtd:
 *
 *   test_iscsi_transport PORTAL TARGET-IQN LUN BLOCKS [V6-PORTAL]
 *
 * (PORTAL = 127.0.0.1:PORT; BLOCKS = the LUN's size in 512-byte blocks;
 * V6-PORTAL = [::1]:PORT when the target listens there too).
 * Prints one line per check and "N passed, N failed"; exits 0 only when
 * every check passed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host/iscsi.h"
#include "host/url.h"

#define INITIATOR "iqn.2024-01.org.prpath.test:host-a"

static unsigned npass, nfail;

__attribute__((format(printf, 2, 3)))
static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		npass++;
	else
		nfail++;
	return ok;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static void io_init(struct pp_io *io, const uint8_t *cdb, size_t len)
{
	memset(io, 0, sizeof(*io));
	memcpy(io->cdb, cdb, len);
	io->cdb_len = len;
}

/* TEST UNIT READY until GOOD; unit attentions (power on, nexus loss) are
 * expected on a first command. Returns the last status or errno. */
static int tur(struct pp_conn *c)
{
	static const uint8_t cdb[6] = { 0 };
	struct pp_io io;
	int rc = -EIO, i;

	for (i = 0; i < 5; i++) {
		io_init(&io, cdb, sizeof(cdb));
		rc = pp_execute(c, &io);
		if (rc < 0)
			return rc;
		if (io.status == 0)
			return 0;
		if (io.status != 2 || io.sense_len < 14 || (io.sense[2] & 0x0f) != 6)
			return io.status;
		rc = io.status;
	}
	return rc;
}

static bool find_ci(const uint8_t *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= len; i++)
		if (!strncasecmp((const char *)buf + i, s, n))
			return true;
	return false;
}

/* @n READ(16)s of one block at @lba on @c, from a thread of its own: each
 * must come back GOOD with 512 bytes. */
struct burst {
	struct pp_conn *c;
	uint64_t lba;
	unsigned n, ok;
	int err;
};

static void *burst_run(void *arg)
{
	struct burst *b = arg;
	uint8_t cdb[16], buf[512];
	unsigned i;

	for (i = 0; i < b->n; i++) {
		struct pp_io io;
		int rc;

		memset(cdb, 0, sizeof(cdb));
		cdb[0] = 0x88;
		put_be64(cdb + 2, b->lba);
		put_be32(cdb + 10, 1);
		io_init(&io, cdb, 16);
		io.din = buf;
		io.din_cap = sizeof(buf);
		rc = pp_execute(b->c, &io);
		if (rc == 0 && io.status == 0 && io.din_len == sizeof(buf))
			b->ok++;
		else if (!b->err)
			b->err = rc ? rc : io.status;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char url[512], badurl[512], refused[512], isid0[13], isid1[13];
	char want0[300], name0[300], name1[300];
	struct pp_conn *c = NULL, *c2 = NULL, *c3 = NULL;
	uint8_t cdb[16], buf[4096], wbuf[1024], rbuf[1024];
	unsigned long blocks;
	struct pp_io io;
	const char *pn;
	int rc;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s PORTAL TARGET-IQN LUN BLOCKS [V6-PORTAL]\n",
			argv[0]);
		return 2;
	}
	blocks = strtoul(argv[4], NULL, 10);
	snprintf(url, sizeof(url), "iscsi://%s/%s/%s", argv[1], argv[2], argv[3]);
	snprintf(badurl, sizeof(badurl), "iscsi://%s/%s/%s", argv[1], argv[2], "7");
	/* the ISID is what the path is: initiator, portal, target, role */
	pp_iscsi_isid_for(INITIATOR, argv[1], argv[2], PP_ISCSI_ROLE_IO, isid0);
	pp_iscsi_isid_for(INITIATOR, argv[1], argv[2], PP_ISCSI_ROLE_OBSERVER, isid1);
	snprintf(want0, sizeof(want0), "%s,i,0x%s", INITIATOR, isid0);

	/* open path 0 */
	rc = pp_iscsi_open(url, INITIATOR, PP_ISCSI_ROLE_IO, 5000, &c);
	if (!check(rc == 0 && c, "open %s path 0: %d %s", url, rc,
		   pp_transport_last_error())) {
		printf("%u passed, %u failed\n", npass, nfail + 1);
		return 1;
	}
	pn = pp_iscsi_port_name(c);
	check(pn && !strcmp(pn, want0), "port name %s", pn ? pn : "(null)");
	snprintf(name0, sizeof(name0), "%s", pn ? pn : "");
	check(!strcmp(c->ops->name, "iscsi"), "ops name %s", c->ops->name);
	check(strstr(c->ops->describe(c), argv[2]) != NULL, "describe %s",
	      c->ops->describe(c));

	/* TEST UNIT READY */
	rc = tur(c);
	check(rc == 0, "TEST UNIT READY: %d", rc);

	/* INQUIRY */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x12;
	cdb[4] = 96;
	io_init(&io, cdb, 6);
	io.din = buf;
	io.din_cap = 96;
	rc = pp_execute(c, &io);
	check(rc == 0 && io.status == 0 && io.din_len >= 36 && (buf[0] & 0x1f) == 0,
	      "INQUIRY: rc %d status 0x%02x len %zu type 0x%02x vendor '%.8s'",
	      rc, io.status, io.din_len, buf[0] & 0x1f, (const char *)buf + 8);

	/* READ CAPACITY(16) */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x9e;
	cdb[1] = 0x10;
	put_be32(cdb + 10, 32);
	io_init(&io, cdb, 16);
	io.din = buf;
	io.din_cap = 32;
	rc = pp_execute(c, &io);
	{
		uint64_t last = (uint64_t)be32(buf) << 32 | be32(buf + 4);
		uint32_t bs = be32(buf + 8);

		check(rc == 0 && io.status == 0 && io.din_len == 32 &&
		      last + 1 == blocks && bs == 512,
		      "READ CAPACITY(16): rc %d status 0x%02x len %zu blocks %llu size %u",
		      rc, io.status, io.din_len, (unsigned long long)(last + 1), bs);
	}

	/* WRITE(16) 2 blocks at LBA 10, READ(16) them back */
	for (size_t i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 7 + 3);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x8a;
	put_be64(cdb + 2, 10);
	put_be32(cdb + 10, 2);
	io_init(&io, cdb, 16);
	io.dout = wbuf;
	io.dout_len = sizeof(wbuf);
	rc = pp_execute(c, &io);
	check(rc == 0 && io.status == 0, "WRITE(16): rc %d status 0x%02x", rc, io.status);
	cdb[0] = 0x88;
	io_init(&io, cdb, 16);
	io.din = rbuf;
	io.din_cap = sizeof(rbuf);
	memset(rbuf, 0, sizeof(rbuf));
	rc = pp_execute(c, &io);
	check(rc == 0 && io.status == 0 && io.din_len == sizeof(rbuf) &&
	      !memcmp(rbuf, wbuf, sizeof(wbuf)),
	      "READ(16) round trip: rc %d status 0x%02x len %zu", rc, io.status,
	      io.din_len);

	/* READ past the end: CHECK CONDITION, ILLEGAL REQUEST, 21/00 */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x88;
	put_be64(cdb + 2, blocks);
	put_be32(cdb + 10, 1);
	io_init(&io, cdb, 16);
	io.din = rbuf;
	io.din_cap = 512;
	rc = pp_execute(c, &io);
	check(rc == 0 && io.status == 2 && io.sense_len >= 14 &&
	      (io.sense[0] & 0x7f) == 0x70 && (io.sense[2] & 0x0f) == 5 &&
	      io.sense[12] == 0x21 && io.sense[13] == 0x00,
	      "READ past the end: rc %d status 0x%02x sense %zu bytes key %x asc %02x/%02x",
	      rc, io.status, io.sense_len, io.sense[2] & 0x0f, io.sense[12],
	      io.sense[13]);

	/* The target sees our initiator port: register a key and look at
	 * READ FULL STATUS (where the target supports it). */
	{
		uint8_t par[24];

		memset(par, 0, sizeof(par));
		put_be64(par + 8, 0xabc123);
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = 0x5f;
		cdb[1] = 0x06; /* REGISTER AND IGNORE EXISTING KEY */
		put_be32(cdb + 5, sizeof(par));
		io_init(&io, cdb, 10);
		io.dout = par;
		io.dout_len = sizeof(par);
		rc = pp_execute(c, &io);
		check(rc == 0 && io.status == 0, "PR OUT REGISTER AND IGNORE: rc %d status 0x%02x",
		      rc, io.status);

		memset(cdb, 0, sizeof(cdb));
		cdb[0] = 0x5e;
		cdb[1] = 0x03; /* READ FULL STATUS */
		cdb[7] = sizeof(buf) >> 8;
		cdb[8] = sizeof(buf) & 0xff;
		io_init(&io, cdb, 10);
		io.din = buf;
		io.din_cap = sizeof(buf);
		rc = pp_execute(c, &io);
		if (rc == 0 && io.status == 0)
			check(find_ci(buf, io.din_len, want0),
			      "READ FULL STATUS shows our port %s", want0);
		else
			printf("note: READ FULL STATUS not supported here (rc %d status 0x%02x)\n",
			       rc, io.status);

		/* unregister: REGISTER AND IGNORE with SARK 0 */
		memset(par, 0, sizeof(par));
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = 0x5f;
		cdb[1] = 0x06;
		put_be32(cdb + 5, sizeof(par));
		io_init(&io, cdb, 10);
		io.dout = par;
		io.dout_len = sizeof(par);
		rc = pp_execute(c, &io);
		check(rc == 0 && io.status == 0, "PR OUT unregister: rc %d status 0x%02x",
		      rc, io.status);
	}

	/* reconnect: a new login with the same identity */
	rc = c->ops->reconnect(c);
	check(rc == 0, "reconnect: %d %s", rc, pp_transport_last_error());
	pn = pp_iscsi_port_name(c);
	check(pn && !strcmp(pn, name0), "same port name after reconnect");
	rc = tur(c);
	check(rc == 0, "TEST UNIT READY after reconnect: %d", rc);

	/* close, then re-open path 0: same initiator port */
	c->ops->close(c);
	c = NULL;
	rc = pp_iscsi_open(url, INITIATOR, PP_ISCSI_ROLE_IO, 5000, &c);
	check(rc == 0 && c, "re-open path 0: %d %s", rc, pp_transport_last_error());
	pn = c ? pp_iscsi_port_name(c) : NULL;
	check(pn && !strcmp(pn, name0), "re-opened path 0 presents the same port %s",
	      pn ? pn : "(null)");

	/* an observer of the same path at the same time: another ISID (it
	 * does not reinstate the I/O session), both sessions work, and it
	 * names the I/O port as the one that carries registrations */
	rc = pp_conn_open_url(url, INITIATOR, PP_ISCSI_ROLE_OBSERVER, 5000, &c2);
	check(rc == 0 && c2, "open the observer via URL: %d %s", rc, pp_transport_last_error());
	pn = c2 ? pp_iscsi_port_name(c2) : NULL;
	snprintf(name1, sizeof(name1), "%s", pn ? pn : "");
	check(pn && strcmp(name1, name0) && strstr(name1, isid1) &&
	      !strncmp(name1, INITIATOR ",i,0x", strlen(INITIATOR) + 5),
	      "observer port %s differs from the I/O port %s", name1, name0);
	pn = c2 && c2->ops->port_name ? c2->ops->port_name(c2) : NULL;
	check(pn && !strcmp(pn, name0), "observer names the I/O port %s",
	      pn ? pn : "(null)");
	if (c)
		check(tur(c) == 0, "the I/O session still works with the observer logged in");
	if (c2)
		check(tur(c2) == 0, "the observer works");

	/* A second LUN through the same portal shares the I/O path's session
	 * (one I_T nexus): a login of its own would have the same ISID and
	 * reinstate (end) the first path's session. */
	if (getenv("PP_TEST_LUN2") && c) {
		char url2[512];
		struct pp_conn *l2 = NULL;

		snprintf(url2, sizeof(url2), "iscsi://%s/%s/%s", argv[1], argv[2],
			 getenv("PP_TEST_LUN2"));
		rc = pp_iscsi_open(url2, INITIATOR, PP_ISCSI_ROLE_IO, 5000, &l2);
		check(rc == 0 && l2, "open %s through the same portal: %d %s", url2,
		      rc, pp_transport_last_error());
		if (l2) {
			pn = pp_iscsi_port_name(l2);
			check(pn && !strcmp(pn, name0), "LUN %s has the same port %s",
			      getenv("PP_TEST_LUN2"), pn ? pn : "(null)");
			check(tur(c) == 0, "the first LUN's path still works (no second login)");
			check(tur(l2) == 0, "the second LUN's path works");
			/* the first path logs in again: the second sees a
			 * path that failed and came back, once */
			rc = c->ops->reconnect(c);
			check(rc == 0, "reconnect through the first LUN: %d", rc);
			rc = tur(l2);
			check(rc == -ECONNRESET,
			      "the second LUN's path sees the new login as a reset: %d", rc);
			check(tur(l2) == -ECONNRESET, "and keeps failing until it reconnects");
			rc = l2->ops->reconnect(l2);
			check(rc == 0, "the second LUN's path adopts the login: %d", rc);
			check(tur(l2) == 0, "the second LUN's path works again");
			check(tur(c) == 0,
			      "the first LUN's path was not disturbed (adopted, no new login)");
			/* both LUNs' commands in flight on the one session at
			 * once: none is lost, none gets the other's answer */
			{
				struct burst b1 = { .c = c, .lba = 10, .n = 200 };
				struct burst b2 = { .c = l2, .lba = 0, .n = 200 };
				pthread_t t1, t2;

				pthread_create(&t1, NULL, burst_run, &b1);
				pthread_create(&t2, NULL, burst_run, &b2);
				pthread_join(t1, NULL);
				pthread_join(t2, NULL);
				check(b1.ok == b1.n && b2.ok == b2.n,
				      "200 + 200 commands of two LUNs at once on one session: %u and %u good (first error %d / %d)",
				      b1.ok, b2.ok, b1.err, b2.err);
			}
			l2->ops->close(l2);
			check(tur(c) == 0,
			      "closing the second LUN's path leaves the shared session up");
		}
	} else {
		printf("note: no second LUN, shared sessions not checked\n");
	}

	/* IPv6 literal portal */
	if (argc == 6) {
		char v6url[512];

		snprintf(v6url, sizeof(v6url), "iscsi://%s/%s/%s", argv[5], argv[2], argv[3]);
		rc = pp_conn_open_url(v6url, INITIATOR, PP_ISCSI_ROLE_IO, 5000, &c3);
		check(rc == 0 && c3, "open %s: %d %s", v6url, rc, pp_transport_last_error());
		if (c3) {
			check(tur(c3) == 0, "TEST UNIT READY over IPv6");
			c3->ops->close(c3);
			c3 = NULL;
		}
	} else {
		printf("note: no IPv6 portal, IPv6 open not checked\n");
	}

	/* a LUN the target does not have */
	rc = pp_iscsi_open(badurl, INITIATOR, PP_ISCSI_ROLE_IO, 5000, &c3);
	check(rc == -ENODEV && !c3, "open of a missing LUN: %d (%s)", rc,
	      pp_transport_last_error());

	/* no listener: refused, quickly */
	snprintf(refused, sizeof(refused), "iscsi://127.0.0.1:1/%s/%s", argv[2], argv[3]);
	rc = pp_iscsi_open(refused, INITIATOR, PP_ISCSI_ROLE_IO, 3000, &c3);
	check(rc == -ECONNREFUSED && !c3, "open with nothing listening: %d (%s)", rc,
	      pp_transport_last_error());

	/* a target name the portal does not have: login refused */
	snprintf(refused, sizeof(refused), "iscsi://%s/iqn.2024-01.org.prpath:nope/%s",
		 argv[1], argv[3]);
	rc = pp_iscsi_open(refused, INITIATOR, PP_ISCSI_ROLE_IO, 5000, &c3);
	check(rc == -EACCES && !c3, "open of an unknown target: %d (%s)", rc,
	      pp_transport_last_error());

	if (c)
		c->ops->close(c);
	if (c2)
		c2->ops->close(c2);
	printf("%u passed, %u failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
