/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The multipath device against the scripted transport: pins the exact PR
 * command sequence (CDB bytes, parameter lists, paths) of every open mode,
 * close, and the safety rules (conflict on I/O, unit attentions, the path
 * checker's re-registration, malformed PR IN data).
 *
 * Expected CDBs are written out byte by byte here, independent of the codec.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <prpath/mpath.h>
#include "host/mpath_int.h"
#include "host/script.h"

/* The path checker's count of reinstated paths; fails the test unless the
 * checker itself returned 0. */
static unsigned check_count(struct prpath_dev *d)
{
	unsigned n = 99;

	assert_int_equal(prpath_dev_check_paths(d, &n), 0);
	return n;
}

#define K 0x0123456789abcdefULL   /* this host */
#define H 0xfedcba9876543210ULL   /* the other host */
#define NP 4

#define RES_CONFLICT 0x18

struct fx {
	struct pp_script *s;
	struct prpath_ctx *ctx;
	struct prpath_dev *d;
	struct prpath_event ev[16];
	unsigned nev;
};

static void on_event(void *arg, struct prpath_dev *dev, const struct prpath_event *ev)
{
	struct fx *f = arg;

	(void)dev;
	if (f->nev < 16)
		f->ev[f->nev++] = *ev;
}

static void on_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (getenv("MPATH_TRACE"))
		fprintf(stderr, "[%d] %s\n", level, msg);
}

static int setup_n(void **state, unsigned n)
{
	struct prpath_host host = { .initiator = "iqn.2024-01.test:a", .key = K };
	struct fx *f = calloc(1, sizeof(*f));
	unsigned i;

	assert_non_null(f);
	assert_int_equal(pp_script_new(n, &f->s), 0);
	assert_int_equal(prpath_ctx_new(&f->ctx), 0);
	prpath_ctx_set_log(f->ctx, on_log, NULL, 2);
	assert_int_equal(prpath_dev_new(f->ctx, &host, &f->d), 0);
	prpath_dev_set_event_cb(f->d, on_event, f);
	for (i = 0; i < n; i++)
		assert_int_equal(pp_dev_add_conn(f->d, pp_script_conn(f->s, i)),
				 (int)i);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_n(state, NP);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	prpath_dev_free(f->d);
	prpath_ctx_free(f->ctx);
	pp_script_free(f->s);
	free(f);
	return 0;
}

static void script_ok(struct fx *f)
{
	char buf[1024];

	if (pp_script_verify(f->s, buf, sizeof(buf)))
		fail_msg("script: %s", buf);
}

/* ---- expected commands ---------------------------------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* PR OUT: 5F, SA, scope 0 | type, 4 reserved... list length 24, APTPL=0 */
static struct pp_script_step *prout(struct fx *f, int path, uint8_t sa,
				    uint8_t type, uint64_t rk, uint64_t sark)
{
	uint8_t cdb[10] = { 0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0 };
	uint8_t prm[24] = { 0 };
	struct pp_script_step *st;

	put64(prm, rk);
	put64(prm + 8, sark);
	st = pp_script_expect(f->s, path, cdb, sizeof(cdb));
	pp_script_step_dout(st, prm, sizeof(prm));
	return st;
}

#define SA_REGISTER 0x00
#define SA_RESERVE 0x01
#define SA_RELEASE 0x02
#define SA_PREEMPT 0x04
#define SA_PREEMPT_ABORT 0x05
#define SA_REG_IGNORE 0x06

static struct pp_script_step *regi(struct fx *f, int path, uint64_t sark)
{
	return prout(f, path, SA_REG_IGNORE, 0, 0, sark);
}

/* READ RESERVATION, allocation length 64 */
static struct pp_script_step *read_resv(struct fx *f, int path, bool reserved,
					uint64_t key, uint8_t type)
{
	static const uint8_t cdb[10] = { 0x5e, 0x01, 0, 0, 0, 0, 0, 0x00, 0x40, 0 };
	uint8_t d[24] = { 0 };
	struct pp_script_step *st = pp_script_expect(f->s, path, cdb, sizeof(cdb));

	put32(d, 7);
	if (reserved) {
		put32(d + 4, 16);
		put64(d + 8, key);
		d[21] = type;
		pp_script_reply_din(st, d, 24);
	} else {
		pp_script_reply_din(st, d, 8);
	}
	return st;
}

/* READ KEYS, allocation length 65535 */
static struct pp_script_step *read_keys(struct fx *f, int path, uint32_t gen,
					const uint64_t *keys, size_t n)
{
	static const uint8_t cdb[10] = { 0x5e, 0x00, 0, 0, 0, 0, 0, 0xff, 0xff, 0 };
	uint8_t d[8 + 8 * 16];
	struct pp_script_step *st = pp_script_expect(f->s, path, cdb, sizeof(cdb));
	size_t i;

	put32(d, gen);
	put32(d + 4, (uint32_t)(8 * n));
	for (i = 0; i < n; i++)
		put64(d + 8 + 8 * i, keys[i]);
	pp_script_reply_din(st, d, 8 + 8 * n);
	return st;
}

/* READ FULL STATUS answered ILLEGAL REQUEST, INVALID COMMAND OPERATION
 * CODE, as a device without it (tgt) answers */
static void rfs_unsupported(struct fx *f, int path)
{
	static const uint8_t cdb[10] = { 0x5e, 0x03, 0, 0, 0, 0, 0, 0xff, 0xff, 0 };

	pp_script_reply_sense(pp_script_expect(f->s, path, cdb, sizeof(cdb)), 0x5, 0x20, 0x00);
}

static struct pp_script_step *write10(struct fx *f, int path, uint32_t lba,
				      uint16_t count)
{
	uint8_t cdb[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

	put32(cdb + 2, lba);
	cdb[7] = (uint8_t)(count >> 8);
	cdb[8] = (uint8_t)count;
	return pp_script_expect(f->s, path, cdb, sizeof(cdb));
}

static void read_capacity(struct fx *f, int path)
{
	static const uint8_t cdb[2] = { 0x9e, 0x10 };
	uint8_t d[32] = { 0 };
	struct pp_script_step *st = pp_script_expect(f->s, path, cdb, sizeof(cdb));

	put64(d, 1023);
	put32(d + 8, 512);
	pp_script_reply_din(st, d, sizeof(d));
}

static void all_regi(struct fx *f, unsigned n, uint64_t sark)
{
	unsigned i;

	pp_script_group_begin(f->s);
	for (i = 0; i < n; i++)
		regi(f, (int)i, sark);
	pp_script_group_end(f->s);
}

/* close of a holder mode: RELEASE then unregister on every path */
static void close_release(struct fx *f, unsigned n, uint8_t type)
{
	unsigned i;

	pp_script_group_begin(f->s);
	for (i = 0; i < n; i++) {
		prout(f, (int)i, SA_RELEASE, type, K, 0);
		regi(f, (int)i, 0);
	}
	pp_script_group_end(f->s);
}

/* An exclusive open looks for other hosts' keys before it sends anything
 * (READ KEYS: none registered) */
static void look_keys(struct fx *f)
{
	read_keys(f, 0, 1, NULL, 0);
}

/* ... and once it holds the LU, for keys that registered meanwhile: K on
 * @n paths only, seen on @path */
static void after_keys(struct fx *f, int path, size_t n)
{
	static const uint64_t kk[NP] = { K, K, K, K };

	read_keys(f, path, 2, kk, n);
}

/* the exclusive open sequence, WERO */
static void exclusive_open(struct fx *f)
{
	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	all_regi(f, NP, K);
	prout(f, 0, SA_RESERVE, 0x05, K, 0);
	after_keys(f, 0, NP);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	script_ok(f);
}

static uint8_t wbuf[512 * 4];

/* ---- open modes ------------------------------------------------------------- */

static void test_exclusive_open_io_close(void **state)
{
	struct fx *f = *state;
	struct prpath_path_status ps[NP];
	struct prpath_dev_status st;
	unsigned i;

	exclusive_open(f);
	/* I/O: round robin over the registered paths */
	read_capacity(f, 0);
	write10(f, 0, 10, 1);
	write10(f, 1, 11, 1);
	write10(f, 2, 12, 1);
	write10(f, 3, 13, 1);
	write10(f, 0, 14, 2);
	for (i = 0; i < 4; i++)
		assert_int_equal(prpath_dev_write(f->d, 10 + i, 1, wbuf, -1), 0);
	assert_int_equal(prpath_dev_write(f->d, 14, 2, wbuf, -1), 0);
	/* pinned to a path */
	write10(f, 2, 20, 1);
	assert_int_equal(prpath_dev_write(f->d, 20, 1, wbuf, 2), 0);
	script_ok(f);

	/* status: every path registered */
	read_keys(f, 0, 9, (const uint64_t[]){ K, K, K, K }, 4);
	read_resv(f, 0, true, K, 0x05);
	rfs_unsupported(f, 0); /* like tgt: no READ FULL STATUS */
	assert_int_equal(prpath_dev_status(f->d, &st, ps, NP), 0);
	assert_true(st.open);
	assert_true(st.device_valid);
	assert_int_equal(st.nkey_registrations, 4);
	assert_true(st.we_hold);
	assert_int_equal(st.holder_type, 0x05);
	for (i = 0; i < NP; i++) {
		assert_true(ps[i].registered);
		assert_int_equal(ps[i].state, PRPATH_PATH_UP);
	}

	close_release(f, NP, 0x05);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
	assert_int_equal(f->nev, 0);
}

static void test_exclusive_refused(void **state)
{
	struct fx *f = *state;

	read_resv(f, 0, true, H, 0x05);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_RESERVED);
	script_ok(f);
	/* nothing after READ RESERVATION */
	assert_int_equal(pp_script_ncommands(f->s), 1);
	/* and an all-registrants reservation (key 0) of which this host is
	 * no part refuses too (READ KEYS tells) */
	read_resv(f, 0, true, 0, 0x07);
	read_keys(f, 0, 4, (const uint64_t[]){ H, H }, 2);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_RESERVED);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 3);
	/* an all-registrants reservation this host shares: held otherwise
	 * (an exclusive open never converts it), nothing sent after looking */
	read_resv(f, 0, true, 0, 0x07);
	read_keys(f, 0, 4, (const uint64_t[]){ H, K }, 2);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_HELD_OTHERWISE);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 5);
}

static void test_exclusive_earo_retain(void **state)
{
	struct fx *f = *state;

	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	all_regi(f, NP, K);
	prout(f, 0, SA_RESERVE, 0x06, K, 0);
	after_keys(f, 0, NP);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_EA | PRPATH_OPEN_RETAIN), 0);
	script_ok(f);
	assert_int_equal(prpath_dev_close(f->d), 0);
	assert_int_equal(pp_script_ncommands(f->s), 1 + 1 + NP + 1 + 1);

	/* re-open over our own retained reservation, as asked: already held.
	 * No RESERVE, no PREEMPT; a device without READ FULL STATUS cannot
	 * say which nexuses carry K, so each path is registered under the
	 * "K present" rule (READ KEYS, REGISTER AND IGNORE, READ KEYS) */
	read_resv(f, 0, true, K, 0x06);
	after_keys(f, 0, NP); /* no other host's key */
	rfs_unsupported(f, 0);
	for (unsigned i = 0; i < NP; i++) {
		read_keys(f, (int)i, 10 + i, (const uint64_t[]){ K, K, K, K }, 4);
		regi(f, (int)i, K);
		read_keys(f, (int)i, 11 + i, (const uint64_t[]){ K, K, K, K }, 4);
	}
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_EA), 0);
	script_ok(f);
	{
		struct prpath_dev_status st;

		read_keys(f, 0, 14, (const uint64_t[]){ K, K, K, K }, 4);
		read_resv(f, 0, true, K, 0x06);
		rfs_unsupported(f, 0);
		assert_int_equal(prpath_dev_status(f->d, &st, NULL, 0), 0);
		assert_true(st.already_held);
		script_ok(f);
	}
	close_release(f, NP, 0x06);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
}

static void test_exclusive_retained_raced_preempt(void **state)
{
	struct fx *f = *state;

	/* READ RESERVATION shows our retained reservation; H preempts K
	 * before the join registers a path: READ KEYS finds K gone, so this
	 * host is fenced and registers nothing */
	read_resv(f, 0, true, K, 0x05);
	after_keys(f, 0, 1);
	rfs_unsupported(f, 0);
	read_keys(f, 0, 12, (const uint64_t[]){ H }, 1);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_FENCED);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 4);

	/* H preempts between our READ KEYS and our REGISTER: the READ KEYS
	 * after shows only our fresh registration, which is removed again */
	read_resv(f, 0, true, K, 0x05);
	after_keys(f, 0, 1);
	rfs_unsupported(f, 0);
	read_keys(f, 0, 12, (const uint64_t[]){ K }, 1);
	regi(f, 0, K);
	read_keys(f, 0, 15, (const uint64_t[]){ H, K }, 2);
	regi(f, 0, 0);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_FENCED);
	script_ok(f);
}

static void test_exclusive_retained_type_change(void **state)
{
	struct fx *f = *state;

	/* our retained WERO, EARO asked for: refused, nothing sent after
	 * READ RESERVATION. (A PREEMPT of our own key would convert it but
	 * strips K from our other paths: an open never removes what this
	 * host held before it began.) */
	read_resv(f, 0, true, K, 0x05);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_EA), PRPATH_ERR_HELD_OTHERWISE);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 1);
	/* the same from shared (WEAR) and single (WE) */
	read_resv(f, 0, true, K, 0x05);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SHARED, 0),
			 PRPATH_ERR_HELD_OTHERWISE);
	read_resv(f, 0, true, K, 0x05);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SINGLE, 0),
			 PRPATH_ERR_HELD_OTHERWISE);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 3);
	assert_int_equal(f->nev, 0);
}

static void test_mode_type_disagree(void **state)
{
	struct fx *f = *state;
	static const struct { enum prpath_open_mode mode; unsigned type; } bad[] = {
		{ PRPATH_MODE_EXCLUSIVE, PRPATH_PR_TYPE_WEAR },
		{ PRPATH_MODE_EXCLUSIVE, PRPATH_PR_TYPE_EAAR },
		{ PRPATH_MODE_FORCE, PRPATH_PR_TYPE_WEAR },
		{ PRPATH_MODE_SINGLE, PRPATH_PR_TYPE_EAAR },
		{ PRPATH_MODE_SHARED, PRPATH_PR_TYPE_WERO },
		{ PRPATH_MODE_SHARED, PRPATH_PR_TYPE_EARO },
		{ PRPATH_MODE_SHARED, PRPATH_PR_TYPE_WE },
	};
	size_t i;

	/* "exclusive" that lets every registrant write, or "shared" that the
	 * next shared host cannot join (issue 20, item 4): refused, nothing
	 * sent on any path */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(prpath_dev_open(f->d, bad[i].mode,
						 PRPATH_OPEN_TYPE(bad[i].type)),
				 -EINVAL);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 0);
	/* PRPATH_OPEN_EA picks the mode's own type: always agrees */
	read_resv(f, 0, true, K, 0x05);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SHARED, PRPATH_OPEN_EA),
			 PRPATH_ERR_HELD_OTHERWISE);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 1);
}

static void test_exclusive_other_keys(void **state)
{
	struct fx *f = *state;
	struct pp_script_step *pre;
	uint64_t keys[4];
	size_t nregs = 0;
	bool pre_d = true;

	/* another host's key is registered (it released through fewer paths
	 * than it registered, or only registered): under WERO it could write.
	 * Refused, nothing sent after looking (issue 20, items 1 and 2) */
	read_resv(f, 0, false, 0, 0);
	read_keys(f, 0, 3, (const uint64_t[]){ H, H, 0x77 }, 3);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_OTHER_KEYS);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 2);
	assert_int_equal(prpath_dev_other_keys(f->d, keys, 4, &nregs, &pre_d), 2);
	assert_true(keys[0] == H && keys[1] == 0x77);
	assert_int_equal(nregs, 3);
	assert_false(pre_d);
	/* single mode too */
	read_resv(f, 0, false, 0, 0);
	read_keys(f, 0, 3, (const uint64_t[]){ H }, 1);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SINGLE, 0),
			 PRPATH_ERR_OTHER_KEYS);
	/* and when this host already holds the LU: nothing changed */
	read_resv(f, 0, true, K, 0x05);
	read_keys(f, 0, 3, (const uint64_t[]){ K, H }, 2);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_OTHER_KEYS);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 6);

	/* a key that registers while the open runs is preempted once this
	 * host holds the LU; one that went away by itself meanwhile answers
	 * the PREEMPT with a conflict, and the open looks again */
	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	all_regi(f, NP, K);
	prout(f, 0, SA_RESERVE, 0x05, K, 0);
	read_keys(f, 0, 7, (const uint64_t[]){ K, H, K, K, 0x77, K }, 6);
	prout(f, 0, SA_PREEMPT_ABORT, 0x05, K, H);
	pre = prout(f, 0, SA_PREEMPT_ABORT, 0x05, K, 0x77);
	pp_script_reply_status(pre, RES_CONFLICT);
	after_keys(f, 0, NP);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	script_ok(f);
	assert_int_equal(prpath_dev_other_keys(f->d, keys, 4, &nregs, &pre_d), 2);
	assert_true(keys[0] == H && keys[1] == 0x77 && nregs == 2 && pre_d);
	close_release(f, NP, 0x05);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
}

static void test_force_other_registrants(void **state)
{
	struct fx *f = *state;
	uint64_t keys[2];
	size_t nregs = 0;
	bool pre_d = false;
	unsigned i;

	/* the holder H and a host that only registered (0x77): the takeover
	 * preempts H, then 0x77, so that only K is left to write */
	pp_script_group_begin(f->s);
	read_resv(f, 1, true, H, 0x05);
	for (i = 0; i < NP; i++)
		regi(f, (int)i, K);
	prout(f, PP_SCRIPT_ANY_PATH, SA_PREEMPT_ABORT, 0x05, K, H);
	pp_script_group_end(f->s);
	/* who holds it and which keys: asked at once, on two paths */
	pp_script_group_begin(f->s);
	read_resv(f, 0, true, K, 0x05);
	read_keys(f, NP - 1, 9, (const uint64_t[]){ 0x77, K, K, K, K, 0x77 }, 6);
	pp_script_group_end(f->s);
	prout(f, NP - 1, SA_PREEMPT_ABORT, 0x05, K, 0x77);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_FORCE, 0), 0);
	script_ok(f);
	assert_int_equal(prpath_dev_other_keys(f->d, keys, 2, &nregs, &pre_d), 1);
	assert_true(keys[0] == 0x77);
	assert_int_equal(nregs, 2);
	assert_true(pre_d);
	close_release(f, NP, 0x05);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
}

static void test_exclusive_undo_fails_partial(void **state)
{
	struct fx *f = *state;
	struct prpath_path_status ps[NP];
	struct prpath_dev_status st;
	struct pp_script_step *s;

	/* RESERVE loses the race; undoing K fails on path 2 (which still
	 * answers): K is left registered there, so this is PARTIAL, not
	 * "reserved by another host, nothing of ours left" */
	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	all_regi(f, NP, K);
	pp_script_reply_status(prout(f, 0, SA_RESERVE, 0x05, K, 0), RES_CONFLICT);
	read_resv(f, 0, true, H, 0x05);
	pp_script_group_begin(f->s);
	regi(f, 0, 0);
	regi(f, 1, 0);
	s = regi(f, 2, 0);
	pp_script_reply_sense(s, 0x5, 0x24, 0x00);
	regi(f, 3, 0);
	pp_script_group_end(f->s);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_PARTIAL);
	script_ok(f);
	read_keys(f, 0, 9, (const uint64_t[]){ H, K }, 2);
	read_resv(f, 0, true, H, 0x05);
	rfs_unsupported(f, 0); /* like tgt: no READ FULL STATUS */
	assert_int_equal(prpath_dev_status(f->d, &st, ps, NP), 0);
	assert_false(st.open);
	assert_int_equal(st.nkey_registrations, 1);
	assert_int_equal(ps[2].last_error, PRPATH_ERR_ILLEGAL_REQUEST);
	assert_true(ps[2].registered);
	assert_false(ps[0].registered);
	script_ok(f);
}

static void test_failed_open_undo_finished_by_checker(void **state)
{
	struct fx *f = *state;
	struct prpath_path_status ps[NP];
	struct pp_script_step *st;

	/* the REGISTER on path 3 gets no answer and RESERVE loses the race:
	 * the undo cannot reach path 3, where K may be registered. When the
	 * path comes back the checker finishes the undo (REGISTER with K,
	 * SARK 0) although the device is not open */
	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	pp_script_group_begin(f->s);
	regi(f, 0, K);
	regi(f, 1, K);
	regi(f, 2, K);
	pp_script_reply_err(regi(f, 3, K), -ETIMEDOUT);
	pp_script_group_end(f->s);
	st = prout(f, 0, SA_RESERVE, 0x05, K, 0);
	pp_script_reply_status(st, RES_CONFLICT);
	read_resv(f, 0, true, H, 0x05);
	all_regi(f, 3, 0);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_RESERVED);
	script_ok(f);
	pp_script_expect(f->s, 3, (const uint8_t[]){ 0, 0, 0, 0, 0, 0 }, 6);
	prout(f, 3, SA_REGISTER, 0, K, 0);
	assert_int_equal(prpath_dev_check_paths(f->d, NULL), 0);
	script_ok(f);
	assert_int_equal(prpath_dev_paths(f->d, ps, NP), NP);
	assert_false(ps[3].registered);
	assert_int_equal(ps[3].state, PRPATH_PATH_UP);
	/* done once: the next round sends nothing to path 3 */
	assert_int_equal(prpath_dev_check_paths(f->d, NULL), 0);
	script_ok(f);
}

static void test_exclusive_explicit_type(void **state)
{
	struct fx *f = *state;

	/* EA belongs to one I_T nexus: over four paths the other three would
	 * conflict, so it is refused before anything is sent */
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_TYPE(0x03)), -EINVAL);
	assert_int_equal(pp_script_ncommands(f->s), 0);
	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	all_regi(f, NP, K);
	prout(f, 0, SA_RESERVE, 0x06, K, 0);
	after_keys(f, 0, NP);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_TYPE(0x06)), 0);
	script_ok(f);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0), -EBUSY);
	close_release(f, NP, 0x06);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_TYPE(0x02)), -EINVAL);
}

static void test_exclusive_lost_race(void **state)
{
	struct fx *f = *state;
	struct pp_script_step *st;

	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	all_regi(f, NP, K);
	st = prout(f, 0, SA_RESERVE, 0x05, K, 0);
	pp_script_reply_status(st, RES_CONFLICT);
	read_resv(f, 0, true, H, 0x05);
	all_regi(f, NP, 0); /* undo on every path */
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_RESERVED);
	script_ok(f);
}

static void test_exclusive_partial_rolls_back(void **state)
{
	struct fx *f = *state;
	struct prpath_path_status ps[NP];
	struct prpath_dev_status st;
	struct pp_script_step *s;

	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	pp_script_group_begin(f->s);
	regi(f, 0, K);
	regi(f, 1, K);
	regi(f, 2, K);
	s = regi(f, 3, K);
	pp_script_reply_sense(s, 0x5, 0x55, 0x04);
	pp_script_group_end(f->s);
	s = regi(f, 3, K); /* completed once more */
	pp_script_reply_sense(s, 0x5, 0x55, 0x04);
	pp_script_group_begin(f->s);
	regi(f, 0, 0);
	regi(f, 1, 0);
	regi(f, 2, 0);
	pp_script_group_end(f->s);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_PARTIAL);
	script_ok(f);
	read_keys(f, 0, 9, NULL, 0);
	read_resv(f, 0, false, 0, 0);
	rfs_unsupported(f, 0); /* like tgt: no READ FULL STATUS */
	assert_int_equal(prpath_dev_status(f->d, &st, ps, NP), 0);
	assert_false(st.open);
	assert_int_equal(ps[3].last_error, PRPATH_ERR_ILLEGAL_REQUEST);
	assert_false(ps[0].registered);
	assert_false(ps[3].registered);
}

static void check_preempt_order(struct pp_script_step *rr,
				struct pp_script_step **reg,
				struct pp_script_step *pre)
{
	int path = pp_script_step_path(pre);

	assert_true(path >= 0 && path < NP);
	/* PREEMPT right behind the registration on its own path, after
	 * READ RESERVATION */
	assert_true(pp_script_step_seq(pre) > pp_script_step_seq(reg[path]));
	assert_true(pp_script_step_seq(pre) > pp_script_step_seq(rr));
}

static void test_force_takeover(void **state)
{
	struct fx *f = *state;
	struct pp_script_step *rr, *reg[NP], *pre;
	unsigned i;

	pp_script_group_begin(f->s);
	rr = read_resv(f, 1, true, H, 0x05);
	for (i = 0; i < NP; i++)
		reg[i] = regi(f, (int)i, K);
	pre = prout(f, PP_SCRIPT_ANY_PATH, SA_PREEMPT_ABORT, 0x05, K, H);
	pp_script_group_end(f->s);
	/* every registration done: still ours? Then no other key left */
	/* who holds it and which keys: asked at once, on two paths */
	pp_script_group_begin(f->s);
	read_resv(f, 0, true, K, 0x05);
	after_keys(f, NP - 1, NP);
	pp_script_group_end(f->s);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_FORCE, 0), 0);
	script_ok(f);
	check_preempt_order(rr, reg, pre);
	/* READ RESERVATION before the registration on path 1 */
	assert_true(pp_script_step_seq(rr) < pp_script_step_seq(reg[1]));
	assert_int_equal(pp_script_ncommands(f->s), NP + 4);

	close_release(f, NP, 0x05);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
}

static void test_force_preempt_fallback(void **state)
{
	struct fx *f = *state;
	struct pp_script_step *rr, *reg[NP], *pre, *pre2;
	unsigned i;

	pp_script_group_begin(f->s);
	rr = read_resv(f, 1, true, H, 0x06);
	for (i = 0; i < NP; i++)
		reg[i] = regi(f, (int)i, K);
	pre = prout(f, PP_SCRIPT_ANY_PATH, SA_PREEMPT_ABORT, 0x06, K, H);
	pp_script_reply_sense(pre, 0x5, 0x24, 0x00);
	pre2 = prout(f, PP_SCRIPT_ANY_PATH, SA_PREEMPT, 0x06, K, H);
	pp_script_group_end(f->s);
	/* who holds it and which keys: asked at once, on two paths */
	pp_script_group_begin(f->s);
	read_resv(f, 0, true, K, 0x06);
	after_keys(f, NP - 1, NP);
	pp_script_group_end(f->s);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_FORCE, PRPATH_OPEN_EA), 0);
	script_ok(f);
	check_preempt_order(rr, reg, pre);
	assert_int_equal(pp_script_step_path(pre2), pp_script_step_path(pre));
	assert_true(pp_script_step_seq(pre2) > pp_script_step_seq(pre));
	close_release(f, NP, 0x06);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
}

static void test_force_unreserved(void **state)
{
	struct fx *f = *state;
	struct pp_script_step *rr, *reg[NP], *res;
	unsigned i;

	pp_script_group_begin(f->s);
	rr = read_resv(f, 1, false, 0, 0);
	for (i = 0; i < NP; i++)
		reg[i] = regi(f, (int)i, K);
	res = prout(f, PP_SCRIPT_ANY_PATH, SA_RESERVE, 0x05, K, 0);
	pp_script_group_end(f->s);
	/* who holds it and which keys: asked at once, on two paths */
	pp_script_group_begin(f->s);
	read_resv(f, 0, true, K, 0x05);
	after_keys(f, NP - 1, NP);
	pp_script_group_end(f->s);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_FORCE, 0), 0);
	script_ok(f);
	check_preempt_order(rr, reg, res);
}

static void test_force_holder_changed(void **state)
{
	struct fx *f = *state;
	struct pp_script_step *pre;
	unsigned i;

	/* the holder changed between READ RESERVATION and PREEMPT: another
	 * takeover took the LU from H first. Preempting it in turn would let
	 * both takeovers report success: this one lost, and its
	 * registrations are undone */
	pp_script_group_begin(f->s);
	read_resv(f, 1, true, H, 0x05);
	for (i = 0; i < NP; i++)
		regi(f, (int)i, K);
	pre = prout(f, PP_SCRIPT_ANY_PATH, SA_PREEMPT_ABORT, 0x05, K, H);
	pp_script_reply_status(pre, RES_CONFLICT);
	read_resv(f, PP_SCRIPT_ANY_PATH, true, 0x77, 0x05);
	pp_script_group_end(f->s);
	all_regi(f, NP, 0);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_FORCE, 0), PRPATH_ERR_RESERVED);
	script_ok(f);

	/* H released meanwhile (nobody holds it now): RESERVE */
	pp_script_group_begin(f->s);
	read_resv(f, 1, true, H, 0x05);
	for (i = 0; i < NP; i++)
		regi(f, (int)i, K);
	pre = prout(f, PP_SCRIPT_ANY_PATH, SA_PREEMPT_ABORT, 0x05, K, H);
	pp_script_reply_status(pre, RES_CONFLICT);
	read_resv(f, PP_SCRIPT_ANY_PATH, false, 0, 0);
	prout(f, PP_SCRIPT_ANY_PATH, SA_RESERVE, 0x05, K, 0);
	pp_script_group_end(f->s);
	/* who holds it and which keys: asked at once, on two paths */
	pp_script_group_begin(f->s);
	read_resv(f, 0, true, K, 0x05);
	after_keys(f, NP - 1, NP);
	pp_script_group_end(f->s);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_FORCE, 0), 0);
	script_ok(f);
}

static void test_force_preempted_during_open(void **state)
{
	struct fx *f = *state;
	unsigned i;

	/* another host took the LU back while our registrations were still
	 * going out: our late registrations must not stay behind */
	pp_script_group_begin(f->s);
	read_resv(f, 1, true, H, 0x05);
	for (i = 0; i < NP; i++)
		regi(f, (int)i, K);
	prout(f, PP_SCRIPT_ANY_PATH, SA_PREEMPT_ABORT, 0x05, K, H);
	pp_script_group_end(f->s);
	/* who holds it and which keys: asked at once, on two paths */
	pp_script_group_begin(f->s);
	read_resv(f, 0, true, 0x99, 0x05);
	after_keys(f, NP - 1, NP);
	pp_script_group_end(f->s);
	all_regi(f, NP, 0);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_FORCE, 0),
			 PRPATH_ERR_RESERVED);
	script_ok(f);
}

static void test_shared(void **state)
{
	struct fx *f = *state;

	read_resv(f, 0, false, 0, 0);
	all_regi(f, NP, K);
	read_resv(f, 0, false, 0, 0);
	prout(f, 0, SA_RESERVE, 0x07, K, 0);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SHARED, 0), 0);
	script_ok(f);
	all_regi(f, NP, 0); /* close: unregister only */
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);

	/* an all-registrants reservation of other hosts exists: joined, no
	 * RESERVE */
	read_resv(f, 0, true, 0, 0x08);
	read_keys(f, 0, 3, (const uint64_t[]){ H }, 1);
	all_regi(f, NP, K);
	read_resv(f, 0, true, 0, 0x08);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SHARED, PRPATH_OPEN_EA), 0);
	script_ok(f);
	all_regi(f, NP, 0);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);

	/* another host holds a registrants-only reservation: refused before
	 * anything is registered */
	read_resv(f, 0, true, H, 0x05);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SHARED, 0),
			 PRPATH_ERR_RESERVED);
	script_ok(f);
	/* ... or takes it between our look and our registrations: undone */
	read_resv(f, 0, false, 0, 0);
	all_regi(f, NP, K);
	read_resv(f, 0, true, H, 0x05);
	all_regi(f, NP, 0);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SHARED, 0),
			 PRPATH_ERR_RESERVED);
	script_ok(f);
}

static void test_single(void **state)
{
	struct fx *f = *state;

	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	regi(f, 0, K);
	prout(f, 0, SA_RESERVE, 0x01, K, 0);
	after_keys(f, 0, 1);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SINGLE, 0), 0);
	script_ok(f);
	read_capacity(f, 0);
	write10(f, 0, 1, 1);
	write10(f, 0, 2, 1);
	assert_int_equal(prpath_dev_write(f->d, 1, 1, wbuf, -1), 0);
	assert_int_equal(prpath_dev_write(f->d, 2, 1, wbuf, -1), 0);
	assert_int_equal(prpath_dev_write(f->d, 3, 1, wbuf, 2), PRPATH_ERR_NO_PATH);
	script_ok(f);
	prout(f, 0, SA_RELEASE, 0x01, K, 0);
	regi(f, 0, 0);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);

	/* RESERVE conflict: the one registration is undone */
	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	regi(f, 0, K);
	pp_script_reply_status(prout(f, 0, SA_RESERVE, 0x03, K, 0), RES_CONFLICT);
	regi(f, 0, 0);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SINGLE, PRPATH_OPEN_EA),
			 PRPATH_ERR_RESERVED);
	script_ok(f);
}

static void test_single_register_timeout_tracked(void **state)
{
	struct fx *f = *state;

	/* the REGISTER on path 0 times out: it may have registered K there.
	 * Single mode goes on with path 1, and close does not forget the
	 * dead path: our own PREEMPT removes K from it, then RELEASE and
	 * unregister on the live path */
	read_resv(f, 0, false, 0, 0);
	look_keys(f);
	pp_script_reply_err(regi(f, 0, K), -ETIMEDOUT);
	regi(f, 1, K);
	prout(f, 1, SA_RESERVE, 0x01, K, 0);
	after_keys(f, 1, 1);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SINGLE, 0), 0);
	script_ok(f);
	read_resv(f, 1, true, K, 0x01);
	prout(f, 1, SA_PREEMPT, 0x01, K, K);
	prout(f, 1, SA_RELEASE, 0x01, K, 0);
	regi(f, 1, 0);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
}

static void test_noreserve(void **state)
{
	struct fx *f = *state;

	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_NORESERVE, 0), 0);
	assert_int_equal(pp_script_ncommands(f->s), 0);
	read_capacity(f, 0);
	write10(f, 0, 5, 1);
	write10(f, 1, 6, 1);
	assert_int_equal(prpath_dev_write(f->d, 5, 1, wbuf, -1), 0);
	assert_int_equal(prpath_dev_write(f->d, 6, 1, wbuf, -1), 0);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 3);
}

/* ---- safety rules on I/O ------------------------------------------------------ */

static void test_conflict_key_present_reregisters(void **state)
{
	struct fx *f = *state;

	exclusive_open(f);
	read_capacity(f, 0);
	pp_script_reply_status(write10(f, 0, 7, 1), RES_CONFLICT);
	read_keys(f, 0, 20, (const uint64_t[]){ K, K, K }, 3);
	read_resv(f, 0, true, K, 0x05); /* and we still hold the LU */
	regi(f, 0, K);
	read_keys(f, 0, 21, (const uint64_t[]){ K, K, K, K }, 4);
	write10(f, 0, 7, 1);
	assert_int_equal(prpath_dev_write(f->d, 7, 1, wbuf, -1), 0);
	script_ok(f);
	assert_int_equal(f->nev, 0);

	/* a second conflict after the retry is reported, not retried again */
	pp_script_reply_status(write10(f, 1, 8, 1), RES_CONFLICT);
	read_keys(f, 1, 21, (const uint64_t[]){ K, K, K, K }, 4);
	read_resv(f, 1, true, K, 0x05);
	regi(f, 1, K);
	read_keys(f, 1, 22, (const uint64_t[]){ K, K, K, K }, 4);
	pp_script_reply_status(write10(f, 1, 8, 1), RES_CONFLICT);
	assert_int_equal(prpath_dev_write(f->d, 8, 1, wbuf, -1), PRPATH_ERR_CONFLICT);
	script_ok(f);
}

static void test_conflict_key_gone_fences(void **state)
{
	struct fx *f = *state;

	exclusive_open(f);
	read_capacity(f, 0);
	pp_script_reply_status(write10(f, 0, 7, 1), RES_CONFLICT);
	read_keys(f, 0, 30, (const uint64_t[]){ H, H }, 2);
	assert_int_equal(prpath_dev_write(f->d, 7, 1, wbuf, -1), PRPATH_ERR_FENCED);
	script_ok(f);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].type, PRPATH_EVENT_FENCED);
	assert_int_equal(f->ev[0].path, 0);
	/* every later I/O fails at once, on no path */
	assert_int_equal(prpath_dev_write(f->d, 8, 1, wbuf, -1), PRPATH_ERR_FENCED);
	assert_int_equal(prpath_dev_read(f->d, 8, 1, wbuf, 3), PRPATH_ERR_FENCED);
	assert_int_equal(pp_script_ncommands(f->s), 1 + 1 + NP + 1 + 1 + 1 + 1 + 1);
	assert_int_equal(f->nev, 1);
}

static void test_ua_handling(void **state)
{
	struct fx *f = *state;

	exclusive_open(f);
	read_capacity(f, 0);
	/* power on / reset: retried on the same path */
	pp_script_reply_sense(write10(f, 0, 1, 1), 0x6, 0x29, 0x00);
	pp_script_reply_sense(write10(f, 0, 1, 1), 0x6, 0x29, 0x07);
	write10(f, 0, 1, 1);
	assert_int_equal(prpath_dev_write(f->d, 1, 1, wbuf, -1), 0);
	script_ok(f);
	assert_int_equal(f->nev, 0);
	/* 2A/04 in exclusive mode: the reservation is lost */
	pp_script_reply_sense(write10(f, 1, 2, 1), 0x6, 0x2a, 0x04);
	assert_int_equal(prpath_dev_write(f->d, 2, 1, wbuf, -1), PRPATH_ERR_RESERVED);
	script_ok(f);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].type, PRPATH_EVENT_RESERVATION_LOST);
	assert_int_equal(prpath_dev_write(f->d, 2, 1, wbuf, -1), PRPATH_ERR_RESERVED);
	script_ok(f);
}

static void test_ua_preempted_fences(void **state)
{
	struct fx *f = *state;
	uint8_t asc[2][2] = { { 0x2a, 0x05 }, { 0x2a, 0x03 } };
	unsigned i;

	for (i = 0; i < 2; i++) {
		size_t n;

		f->nev = 0;
		exclusive_open(f);
		if (i == 0)
			read_capacity(f, 0);
		pp_script_reply_sense(write10(f, i == 0 ? 0 : 1, 1, 1), 0x6,
				      asc[i][0], asc[i][1]);
		assert_int_equal(prpath_dev_write(f->d, 1, 1, wbuf, -1),
				 PRPATH_ERR_FENCED);
		script_ok(f);
		assert_int_equal(f->nev, 1);
		assert_int_equal(f->ev[0].type, PRPATH_EVENT_FENCED);
		n = pp_script_ncommands(f->s);
		assert_int_equal(prpath_dev_write(f->d, 1, 1, wbuf, -1),
				 PRPATH_ERR_FENCED);
		assert_int_equal(pp_script_ncommands(f->s), n);
		close_release(f, NP, 0x05);
		assert_int_equal(prpath_dev_close(f->d), 0);
		script_ok(f);
	}
}

static void test_ua_retry_bounded(void **state)
{
	struct fx *f = *state;
	unsigned i;

	/* a power-on/reset UA that never clears: retried on the same path
	 * 8 times in all, then reported, never retried elsewhere */
	exclusive_open(f);
	read_capacity(f, 0);
	for (i = 0; i < 8; i++)
		pp_script_reply_sense(write10(f, 0, 1, 1), 0x6, 0x29, 0x00);
	assert_int_equal(prpath_dev_write(f->d, 1, 1, wbuf, -1),
			 PRPATH_ERR_UNIT_ATTENTION);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 1 + 1 + NP + 1 + 1 + 1 + 8);
	assert_int_equal(f->nev, 0);
}

static void test_ua_released_shared_reported(void **state)
{
	struct fx *f = *state;

	read_resv(f, 0, true, 0, 0x07);
	read_keys(f, 0, 3, (const uint64_t[]){ H }, 1);
	all_regi(f, NP, K);
	read_resv(f, 0, true, 0, 0x07);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_SHARED, 0), 0);
	script_ok(f);
	/* 2A/04 in shared mode: reported, and the I/O goes on */
	read_capacity(f, 0);
	pp_script_reply_sense(write10(f, 0, 1, 1), 0x6, 0x2a, 0x04);
	write10(f, 0, 1, 1);
	assert_int_equal(prpath_dev_write(f->d, 1, 1, wbuf, -1), 0);
	script_ok(f);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].type, PRPATH_EVENT_RESERVATION_LOST);
	assert_int_equal(f->ev[0].path, 0);
}

static void test_fenced_checker_sends_no_pr(void **state)
{
	struct fx *f = *state;

	/* fenced by 2A/05; then a path fails and comes back: the checker
	 * tests it (TEST UNIT READY) but neither reads keys nor registers */
	exclusive_open(f);
	read_capacity(f, 0);
	pp_script_reply_sense(write10(f, 0, 1, 1), 0x6, 0x2a, 0x05);
	assert_int_equal(prpath_dev_write(f->d, 1, 1, wbuf, -1), PRPATH_ERR_FENCED);
	script_ok(f);
	assert_int_equal(prpath_dev_fail_path(f->d, 2), 0);
	pp_script_expect(f->s, 2, (const uint8_t[]){ 0, 0, 0, 0, 0, 0 }, 6);
	assert_int_equal(prpath_dev_check_paths(f->d, NULL), PRPATH_ERR_FENCED);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 1 + 1 + NP + 1 + 1 + 1 + 1 + 1);
	/* no I/O on any path */
	assert_int_equal(prpath_dev_read(f->d, 1, 1, wbuf, 2), PRPATH_ERR_FENCED);
	assert_int_equal(pp_script_ncommands(f->s), 1 + 1 + NP + 1 + 1 + 1 + 1 + 1);
}

static void test_status_ua_preempted_not_swallowed(void **state)
{
	struct fx *f = *state;
	static const uint8_t rk_cdb[10] = { 0x5e, 0x00, 0, 0, 0, 0, 0, 0xff, 0xff, 0 };
	struct prpath_dev_status st;

	/* status's READ KEYS meets 2A/05: retried, and the device knows it
	 * is fenced (the unit attention is gone from the LU after this) */
	exclusive_open(f);
	pp_script_reply_sense(pp_script_expect(f->s, 0, rk_cdb, 10), 0x6, 0x2a, 0x05);
	read_keys(f, 0, 30, (const uint64_t[]){ H }, 1);
	read_resv(f, 0, true, H, 0x05);
	rfs_unsupported(f, 0); /* like tgt: no READ FULL STATUS */
	assert_int_equal(prpath_dev_status(f->d, &st, NULL, 0), 0);
	script_ok(f);
	assert_true(st.device_valid);
	assert_true(st.fenced);
	assert_int_equal(st.nkey_registrations, 0);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].type, PRPATH_EVENT_FENCED);
	assert_int_equal(prpath_dev_write(f->d, 1, 1, wbuf, -1), PRPATH_ERR_FENCED);
	assert_int_equal(pp_script_ncommands(f->s), 1 + 1 + NP + 1 + 1 + 4);
}

static void test_close_own_ua_no_event(void **state)
{
	struct fx *f = *state;
	unsigned i;

	/* our own RELEASE queues 2A/04 on our other paths: their unregister
	 * meets it during close; that is no reservation loss to report */
	exclusive_open(f);
	pp_script_group_begin(f->s);
	for (i = 0; i < NP; i++) {
		prout(f, (int)i, SA_RELEASE, 0x05, K, 0);
		if (i)
			pp_script_reply_sense(regi(f, (int)i, 0), 0x6, 0x2a, 0x04);
		regi(f, (int)i, 0);
	}
	pp_script_group_end(f->s);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
	assert_int_equal(f->nev, 0);
}

static void test_malformed_read_keys(void **state)
{
	struct fx *f = *state;
	static const uint8_t cdb[10] = { 0x5e, 0x00, 0, 0, 0, 0, 0, 0xff, 0xff, 0 };
	uint8_t bad[12] = { 0, 0, 0, 1, 0, 0, 0, 7, 1, 2, 3, 4 };
	uint8_t shortd[5] = { 0 };
	struct prpath_dev_status st;

	exclusive_open(f);
	read_capacity(f, 0);
	pp_script_reply_status(write10(f, 0, 7, 1), RES_CONFLICT);
	pp_script_reply_din(pp_script_expect(f->s, 0, cdb, 10), bad, sizeof(bad));
	assert_int_equal(prpath_dev_write(f->d, 7, 1, wbuf, -1),
			 PRPATH_ERR_BAD_RESPONSE);
	script_ok(f);
	assert_int_equal(f->nev, 0); /* not fenced on garbage */

	pp_script_reply_din(pp_script_expect(f->s, 0, cdb, 10), shortd, sizeof(shortd));
	assert_int_equal(prpath_dev_status(f->d, &st, NULL, 0), 0);
	assert_false(st.device_valid);
	assert_int_equal(st.device_error, PRPATH_ERR_BAD_RESPONSE);
	script_ok(f);
}

static void test_malformed_read_reservation(void **state)
{
	struct fx *f = *state;
	static const uint8_t cdb[10] = { 0x5e, 0x01, 0, 0, 0, 0, 0, 0x00, 0x40, 0 };
	uint8_t bad[16] = { 0, 0, 0, 1, 0, 0, 0, 8 };

	pp_script_reply_din(pp_script_expect(f->s, 0, cdb, 10), bad, sizeof(bad));
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_BAD_RESPONSE);
	script_ok(f);
	assert_int_equal(pp_script_ncommands(f->s), 1);
}

static void test_conflict_key_present_other_holder(void **state)
{
	struct fx *f = *state;

	/* K is still registered, but another host holds a registrants-only
	 * reservation (taken by a tool that leaves other keys registered):
	 * registering the path again would let this host write over it
	 * (issue 20: the K-present rule applies only while we hold) */
	exclusive_open(f);
	read_capacity(f, 0);
	pp_script_reply_status(write10(f, 0, 7, 1), RES_CONFLICT);
	read_keys(f, 0, 20, (const uint64_t[]){ K, K, K, H }, 4);
	read_resv(f, 0, true, H, 0x05);
	assert_int_equal(prpath_dev_write(f->d, 7, 1, wbuf, -1), PRPATH_ERR_RESERVED);
	script_ok(f);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].type, PRPATH_EVENT_RESERVATION_LOST);
	/* the checker does not register a returning path either */
	assert_int_equal(prpath_dev_fail_path(f->d, 2), 0);
	pp_script_expect(f->s, 2, (const uint8_t[]){ 0, 0, 0, 0, 0, 0 }, 6);
	read_keys(f, 2, 20, (const uint64_t[]){ K, K, H }, 3);
	read_resv(f, 2, false, 0, 0);
	assert_int_equal(prpath_dev_check_paths(f->d, NULL), 0);
	script_ok(f);
	/* path 3 down, then up again unregistered; the loss was said once */
	assert_int_equal(f->nev, 3);
	assert_int_equal(f->ev[1].type, PRPATH_EVENT_PATH_DOWN);
	assert_int_equal(f->ev[2].type, PRPATH_EVENT_PATH_UP);
	assert_int_equal(f->ev[2].err, PRPATH_ERR_RESERVED);
	{
		struct prpath_path_status ps[NP];
		struct prpath_dev_status st;

		read_keys(f, 0, 20, (const uint64_t[]){ K, K, H }, 3);
		read_resv(f, 0, true, H, 0x05);
		rfs_unsupported(f, 0);
		assert_int_equal(prpath_dev_status(f->d, &st, ps, NP), 0);
		assert_false(ps[2].registered);
		assert_true(st.reservation_lost);
		assert_false(st.we_hold);
		script_ok(f);
	}
}

static void test_failover(void **state)
{
	struct fx *f = *state;
	struct prpath_path_status ps[NP];
	struct prpath_dev_status st;

	exclusive_open(f);
	read_capacity(f, 0);
	pp_script_reply_err(write10(f, 0, 3, 1), -EIO);
	/* the write got no answer and may still arrive: path 0's nexus loses
	 * its registration first (PREEMPT of our own key on path 1), paths 2
	 * and 3 are registered again ("K present"), then the retry */
	prout(f, 1, SA_PREEMPT, 0x05, K, K);
	read_keys(f, 2, 20, (const uint64_t[]){ K }, 1);
	regi(f, 2, K);
	read_keys(f, 2, 21, (const uint64_t[]){ K, K }, 2);
	read_keys(f, 3, 21, (const uint64_t[]){ K, K }, 2);
	regi(f, 3, K);
	read_keys(f, 3, 22, (const uint64_t[]){ K, K, K }, 3);
	write10(f, 1, 3, 1);
	assert_int_equal(prpath_dev_write(f->d, 3, 1, wbuf, -1), 0);
	script_ok(f);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].type, PRPATH_EVENT_PATH_DOWN);
	assert_int_equal(f->ev[0].path, 0);
	/* path 0 is skipped now */
	write10(f, 2, 4, 1);
	write10(f, 3, 5, 1);
	write10(f, 1, 6, 1);
	assert_int_equal(prpath_dev_write(f->d, 4, 1, wbuf, -1), 0);
	assert_int_equal(prpath_dev_write(f->d, 5, 1, wbuf, -1), 0);
	assert_int_equal(prpath_dev_write(f->d, 6, 1, wbuf, -1), 0);
	/* pinned to the failed path: no failover */
	assert_int_equal(prpath_dev_write(f->d, 6, 1, wbuf, 0), PRPATH_ERR_NO_PATH);
	script_ok(f);

	/* checker: TEST UNIT READY, READ KEYS (K there), REGISTER, READ KEYS */
	pp_script_expect(f->s, 0, (const uint8_t[]){ 0, 0, 0, 0, 0, 0 }, 6);
	read_keys(f, 0, 40, (const uint64_t[]){ K, K, K, K }, 4);
	read_resv(f, 0, true, K, 0x05);
	regi(f, 0, K);
	read_keys(f, 0, 41, (const uint64_t[]){ K, K, K, K }, 4);
	assert_int_equal(check_count(f->d), 1);
	script_ok(f);
	assert_int_equal(f->nev, 2);
	assert_int_equal(f->ev[1].type, PRPATH_EVENT_PATH_UP);
	read_keys(f, 0, 41, (const uint64_t[]){ K, K, K, K }, 4);
	read_resv(f, 0, true, K, 0x05);
	rfs_unsupported(f, 0); /* like tgt: no READ FULL STATUS */
	assert_int_equal(prpath_dev_status(f->d, &st, ps, NP), 0);
	assert_int_equal(ps[0].state, PRPATH_PATH_UP);
	assert_true(ps[0].registered);
	script_ok(f);
}

static void test_all_paths_fail(void **state)
{
	struct fx *f = *state;
	unsigned i;

	exclusive_open(f);
	read_capacity(f, 0);
	/* the write times out on path 0; the PREEMPT that would fence that
	 * attempt gets no answer on any other path: not retried */
	pp_script_reply_err(write10(f, 0, 3, 1), -ETIMEDOUT);
	for (i = 1; i < NP; i++)
		pp_script_reply_err(prout(f, (int)i, SA_PREEMPT, 0x05, K, K), -ETIMEDOUT);
	assert_int_equal(prpath_dev_write(f->d, 3, 1, wbuf, -1), PRPATH_ERR_NO_PATH);
	script_ok(f);
}

static void test_checker_key_gone_no_register(void **state)
{
	struct fx *f = *state;

	exclusive_open(f);
	assert_int_equal(prpath_dev_fail_path(f->d, 2), 0);
	pp_script_expect(f->s, 2, (const uint8_t[]){ 0, 0, 0, 0, 0, 0 }, 6);
	read_keys(f, 2, 50, (const uint64_t[]){ H, H }, 2);
	assert_int_equal(prpath_dev_check_paths(f->d, NULL), PRPATH_ERR_FENCED);
	script_ok(f); /* and no REGISTER was sent */
	assert_int_equal(f->ev[f->nev - 2].type, PRPATH_EVENT_FENCED);
	assert_int_equal(prpath_dev_write(f->d, 1, 1, wbuf, -1), PRPATH_ERR_FENCED);
}

static void test_checker_ua_preempted_no_register(void **state)
{
	struct fx *f = *state;

	exclusive_open(f);
	assert_int_equal(prpath_dev_fail_path(f->d, 1), 0);
	pp_script_reply_sense(pp_script_expect(f->s, 1, (const uint8_t[]){ 0, 0, 0, 0, 0, 0 }, 6),
			      0x6, 0x2a, 0x05);
	assert_int_equal(prpath_dev_check_paths(f->d, NULL), PRPATH_ERR_FENCED);
	script_ok(f);
}

static void test_checker_raced_preemption(void **state)
{
	struct fx *f = *state;

	exclusive_open(f);
	assert_int_equal(prpath_dev_fail_path(f->d, 3), 0);
	pp_script_expect(f->s, 3, (const uint8_t[]){ 0, 0, 0, 0, 0, 0 }, 6);
	read_keys(f, 3, 60, (const uint64_t[]){ K, K, K, H }, 4);
	read_resv(f, 3, true, K, 0x05);
	regi(f, 3, K);
	/* H preempted K in between: only our fresh registration is left */
	read_keys(f, 3, 63, (const uint64_t[]){ H, K }, 2);
	regi(f, 3, 0); /* undone */
	assert_int_equal(prpath_dev_check_paths(f->d, NULL), PRPATH_ERR_FENCED);
	script_ok(f);
}

static void test_close_dead_holder(void **state)
{
	struct fx *f = *state;
	unsigned i;

	exclusive_open(f);
	assert_int_equal(prpath_dev_fail_path(f->d, 0), 0);
	/* the holder path is dead: move the reservation to a live path by
	 * preempting our own key, then release and unregister */
	read_resv(f, 1, true, K, 0x05);
	prout(f, 1, SA_PREEMPT, 0x05, K, K);
	pp_script_group_begin(f->s);
	prout(f, 1, SA_RELEASE, 0x05, K, 0);
	regi(f, 1, 0);
	pp_script_group_end(f->s);
	assert_int_equal(prpath_dev_close(f->d), 0);
	script_ok(f);
	(void)i;
}

static void test_probe_wrong_lu(void **state)
{
	struct fx *f = *state;
	static const uint8_t inq[6] = { 0x12, 0x01, 0x83, 0x04, 0x00, 0x00 };
	uint8_t page[4 + 20];
	unsigned i;

	for (i = 0; i < NP; i++) {
		memset(page, 0, sizeof(page));
		page[1] = 0x83;
		page[3] = 20;
		page[4] = 0x01;      /* binary */
		page[5] = 0x03;      /* LU, NAA */
		page[7] = 16;
		page[8] = 0x60;
		page[23] = i == 2 ? 0x99 : 0x11;
		pp_script_reply_din(pp_script_expect(f->s, (int)i, inq, 6),
				    page, sizeof(page));
		if (i == 0) {
			/* geometry and block limits from the first path */
			static const uint8_t inq_b0[6] = { 0x12, 0x01, 0xb0, 0x00, 0x40, 0x00 };
			uint8_t b0[64] = { 0, 0xb0, 0, 0x3c };

			read_capacity(f, 0);
			b0[11] = 3;  /* MAXIMUM TRANSFER LENGTH: 3 blocks */
			pp_script_reply_din(pp_script_expect(f->s, 0, inq_b0, 6), b0, sizeof(b0));
		}
	}
	assert_int_equal(prpath_dev_probe(f->d), -EXDEV);
	script_ok(f);
	assert_int_equal(prpath_dev_block_size(f->d), 512);
	assert_int_equal(prpath_dev_blocks(f->d), 1024);
	assert_true(strlen(prpath_dev_lu_id(f->d)) > 0);
	/* the wrong path carries nothing (noreserve: open and close send
	 * nothing; a device that is not open refuses I/O) */
	assert_int_equal(prpath_dev_write(f->d, 0, 1, wbuf, 2), -ESHUTDOWN);
	assert_int_equal(prpath_dev_open(f->d, PRPATH_MODE_NORESERVE, 0), 0);
	assert_int_equal(prpath_dev_write(f->d, 0, 1, wbuf, 2), PRPATH_ERR_NO_PATH);
	assert_int_equal(check_count(f->d), 0);
	/* I/O above MAXIMUM TRANSFER LENGTH goes out in pieces of at most
	 * 3 blocks, in order */
	write10(f, 0, 10, 3);
	write10(f, 0, 13, 1);
	assert_int_equal(prpath_dev_write(f->d, 10, 4, wbuf, 0), 0);
	script_ok(f);
	assert_int_equal(prpath_dev_close(f->d), 0);
}

/* ---- keys ------------------------------------------------------------------------ */

static void test_key_parse(void **state)
{
	uint64_t k;

	(void)state;
	assert_int_equal(prpath_key_parse("0x1", &k), 0);
	assert_true(k == 1);
	assert_int_equal(prpath_key_parse("0xFFFFFFFFFFFFFFFF", &k), 0);
	assert_true(k == UINT64_MAX);
	assert_int_equal(prpath_key_parse("18446744073709551615", &k), 0);
	assert_true(k == UINT64_MAX);
	assert_int_equal(prpath_key_parse("81985529216486895", &k), 0);
	assert_true(k == 0x0123456789abcdefULL);
	assert_int_equal(prpath_key_parse("18446744073709551616", &k), -ERANGE);
	assert_int_equal(prpath_key_parse("0x10000000000000000", &k), -ERANGE);
	assert_int_equal(prpath_key_parse("0", &k), -EINVAL);
	assert_int_equal(prpath_key_parse("0x0", &k), -EINVAL);
	assert_int_equal(prpath_key_parse("", &k), -EINVAL);
	assert_int_equal(prpath_key_parse("0x", &k), -EINVAL);
	assert_int_equal(prpath_key_parse("-1", &k), -EINVAL);
	assert_int_equal(prpath_key_parse(" 1", &k), -EINVAL);
	assert_int_equal(prpath_key_parse("12abc", &k), -EINVAL);
	assert_int_equal(prpath_key_parse("0x12g", &k), -EINVAL);
	/* FNV-1a 64 + splitmix64 finaliser, computed independently */
	assert_true(prpath_key_derive("") == 0xf52a15e9a9b5e89bULL);
	assert_true(prpath_key_derive("a") == 0x02c0bdbf481420f8ULL);
	assert_true(prpath_key_derive("foobar") == 0x404da9e3b74078c2ULL);
	assert_true(prpath_key_derive("iqn.2026-11.io.prpath:host-a") == 0x3c92e5fa8ae16537ULL);
	assert_true(prpath_key_derive("iqn.2026-11.io.prpath:host-b") == 0xc3910fd4ea866e9dULL);
	assert_true(prpath_key_derive("iqn.x") != 0);
}

static void test_derived_key(void **state)
{
	struct prpath_host host = { .initiator = "foobar", .key = 0 };
	struct prpath_dev *d;

	(void)state;
	assert_int_equal(prpath_dev_new(NULL, &host, &d), 0);
	assert_true(prpath_dev_key(d) == 0x404da9e3b74078c2ULL);
	prpath_dev_free(d);
	host.initiator = NULL;
	assert_int_equal(prpath_dev_new(NULL, &host, &d), -EINVAL);
}

static void collect_log(void *arg, int level, const char *msg)
{
	char *buf = arg;
	size_t n = strlen(buf);

	(void)level;
	snprintf(buf + n, 4096 - n, "%s\n", msg);
}

/* A CHAP secret in a path URL never reaches the log, even when the path
 * cannot be opened. */
static void test_add_url_redacts_secret(void **state)
{
	struct prpath_ctx *ctx;
	struct prpath_dev *d;
	struct prpath_host host = { .initiator = "iqn.2026-11.test:redact" };
	static char log[4096];

	(void)state;
	log[0] = '\0';
	assert_int_equal(prpath_ctx_new(&ctx), 0);
	prpath_ctx_set_log(ctx, collect_log, log, 2);
	assert_int_equal(prpath_dev_new(ctx, &host, &d), 0);
	/* port 1 on loopback: nothing listens there */
	assert_true(prpath_dev_add_url(d, "iscsi://alice%TopSecret123@127.0.0.1:1/iqn.2026-11.x:t/0") < 0);
	assert_non_null(strstr(log, "127.0.0.1:1"));
	assert_null(strstr(log, "TopSecret123"));
	prpath_dev_free(d);
	prpath_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exclusive_open_io_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_earo_retain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_retained_raced_preempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_retained_type_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_type_disagree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_other_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_other_registrants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_undo_fails_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_open_undo_finished_by_checker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_explicit_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_lost_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_partial_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_takeover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_preempt_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_unreserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_holder_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_preempted_during_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single_register_timeout_tracked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noreserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_key_present_reregisters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_key_gone_fences, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ua_handling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ua_preempted_fences, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ua_retry_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ua_released_shared_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fenced_checker_sends_no_pr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_ua_preempted_not_swallowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_own_ua_no_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_read_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_read_reservation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_key_present_other_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_paths_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checker_key_gone_no_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checker_ua_preempted_no_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checker_raced_preemption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_dead_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_wrong_lu, setup, teardown),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_derived_key),
		cmocka_unit_test(test_add_url_redacts_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
