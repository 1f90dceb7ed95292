// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SPC-4 persistent reservation conformance suite for prpath's device server.
 *
 * Written from the standard (SPC-4 5.13 / 6.15 / 6.16, SBC-3 4.17, SAM-5
 * unit attentions) and the working summary /work/shared/SPC4-PR.md, not
 * from the implementation. CDBs, parameter lists and PR IN data are built
 * and decoded here by hand from the byte layouts; the prpath codec is not
 * used so that a codec bug cannot hide a device-server bug.
 *
 * Every case asserts the exact status; CHECK CONDITION also the exact
 * fixed-format sense key / ASC / ASCQ.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include <prpath/lu.h>

/* ---- constants from SAM-5 / SPC-4 ------------------------------------- */

#define ST_GOOD 0x00
#define ST_CHECK 0x02
#define ST_CONFLICT 0x18

#define SK_NO_SENSE 0x0
#define SK_ILLEGAL 0x5
#define SK_UA 0x6

/* PR OUT service actions */
#define SA_REGISTER 0x00
#define SA_RESERVE 0x01
#define SA_RELEASE 0x02
#define SA_CLEAR 0x03
#define SA_PREEMPT 0x04
#define SA_PREEMPT_ABORT 0x05
#define SA_REGISTER_IGNORE 0x06
#define SA_REGISTER_MOVE 0x07
#define SA_REPLACE_LOST 0x08

/* PR IN service actions */
#define SA_READ_KEYS 0x00
#define SA_READ_RESERVATION 0x01
#define SA_REPORT_CAPABILITIES 0x02
#define SA_READ_FULL_STATUS 0x03

/* types */
#define WE 0x1
#define EA 0x3
#define WERO 0x5
#define EARO 0x6
#define WEAR 0x7
#define EAAR 0x8

/* basic parameter list byte 20 */
#define F_SPEC_I_PT 0x08
#define F_ALL_TG_PT 0x04
#define F_APTPL 0x01

/* unit attention codes, ASC << 8 | ASCQ */
#define UA_POWER_ON 0x2900
#define UA_LU_RESET 0x2903
#define UA_RES_PREEMPTED 0x2A03
#define UA_RES_RELEASED 0x2A04
#define UA_REG_PREEMPTED 0x2A05
#define UA_CMDS_CLEARED 0x2F00

#define IQN_A "iqn.2026-11.test:host-a"
#define NAME_A IQN_A ",i,0x000000000001"
#define NAME_A_ISID2 IQN_A ",i,0x000000000002"
#define NAME_B "iqn.2026-11.test:host-b,i,0x000000000001"
#define NAME_C "iqn.2026-11.test:host-c,i,0x000000000001"
#define NAME_D "iqn.2026-11.test:host-d,i,0x000000000001"
#define NAME_OBS "iqn.2026-11.test:observer,i,0x000000000001"

#define KEY_A 0xAAAA0000000000A1ull
#define KEY_B 0xBBBB0000000000B2ull
#define KEY_D 0xDDDD0000000000D4ull

/* ---- fixture ----------------------------------------------------------- */

struct fx {
	struct prpath_lu *lu;
	/* a / a2: one initiator port on target ports 1 and 2; b, b2 likewise;
	 * c never registers unless a case says so; obs only reads (PR IN),
	 * never registers, so it never receives a unit attention. */
	struct prpath_nexus *a, *a2, *b, *b2, *c, *d, *obs;
	bool power_on_ua;
	bool aptpl;
	bool rlr;
	char dir[64];
	char state[128];
};

static struct fx *F;
static const uint16_t tgt_ports[] = { 1, 2 };

static struct prpath_nexus *nx_open(const char *name, uint16_t rtp)
{
	struct prpath_nexus *nx = NULL;

	assert_int_equal(prpath_lu_nexus_open(F->lu, name, rtp, &nx), 0);
	assert_non_null(nx);
	return nx;
}

static void lu_start(void)
{
	struct prpath_lu_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.path = NULL;
	cfg.size = 1024 * 1024;
	cfg.target_ports = tgt_ports;
	cfg.ntarget_ports = 2;
	cfg.power_on_ua = F->power_on_ua;
	cfg.rlr = F->rlr;
	cfg.state_path = F->aptpl ? F->state : NULL;
	F->lu = NULL;
	assert_int_equal(prpath_lu_new(&cfg, &F->lu), 0);
	assert_non_null(F->lu);
	F->a = nx_open(NAME_A, 1);
	F->a2 = nx_open(NAME_A, 2);
	F->b = nx_open(NAME_B, 1);
	F->b2 = nx_open(NAME_B, 2);
	F->c = nx_open(NAME_C, 1);
	F->d = nx_open(NAME_D, 1);
	F->obs = nx_open(NAME_OBS, 2);
}

static void nx_close(struct prpath_nexus **nx)
{
	if (*nx)
		prpath_lu_nexus_close(*nx);
	*nx = NULL;
}

static void lu_stop(void)
{
	nx_close(&F->a);
	nx_close(&F->a2);
	nx_close(&F->b);
	nx_close(&F->b2);
	nx_close(&F->c);
	nx_close(&F->d);
	nx_close(&F->obs);
	prpath_lu_free(F->lu);
	F->lu = NULL;
}

/* A fresh LU with the same options, for table loops inside one test. */
static void lu_restart(void)
{
	lu_stop();
	lu_start();
}

static int fx_setup_opts(void **state, bool power_on, bool aptpl, bool rlr)
{
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	F->power_on_ua = power_on;
	F->aptpl = aptpl;
	F->rlr = rlr;
	if (aptpl) {
		snprintf(F->dir, sizeof(F->dir), "/tmp/prpath-conf-XXXXXX");
		assert_non_null(mkdtemp(F->dir));
		snprintf(F->state, sizeof(F->state), "%s/lu0.state", F->dir);
	}
	lu_start();
	*state = F;
	return 0;
}

static int setup(void **state)
{
	return fx_setup_opts(state, false, false, false);
}

static int setup_aptpl(void **state)
{
	return fx_setup_opts(state, false, true, false);
}

static int setup_power_on(void **state)
{
	return fx_setup_opts(state, true, false, false);
}

static int setup_rlr(void **state)
{
	return fx_setup_opts(state, false, false, true);
}

static int teardown(void **state)
{
	(void)state;
	lu_stop();
	if (F->dir[0]) {
		DIR *dir = opendir(F->dir);
		struct dirent *de;
		char p[384];

		while (dir && (de = readdir(dir)) != NULL) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", F->dir, de->d_name);
			unlink(p);
		}
		if (dir)
			closedir(dir);
		rmdir(F->dir);
	}
	free(F);
	F = NULL;
	return 0;
}

/* ---- byte helpers ------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ---- command execution ------------------------------------------------- */

static struct prpath_cmd g_cmd;  /* the last executed command */
static uint8_t g_in[8192];

static uint8_t exec_cmd(struct prpath_nexus *nx, const uint8_t *cdb,
			size_t cdb_len, const void *out, size_t out_len,
			size_t in_cap)
{
	assert_true(in_cap <= sizeof(g_in));
	memset(&g_cmd, 0, sizeof(g_cmd));
	memset(g_in, 0, sizeof(g_in));
	g_cmd.cdb = cdb;
	g_cmd.cdb_len = cdb_len;
	g_cmd.data_out = out;
	g_cmd.data_out_len = out_len;
	g_cmd.data_in = g_in;
	g_cmd.data_in_cap = in_cap;
	assert_int_equal(prpath_lu_execute(nx, &g_cmd), 0);
	return g_cmd.status;
}

static unsigned sense_key(const struct prpath_cmd *c)
{
	return c->sense_len > 2 ? (c->sense[2] & 0x0f) : 0xff;
}

static unsigned sense_asc(const struct prpath_cmd *c)
{
	return c->sense_len > 13 ? c->sense[12] : 0xff;
}

static unsigned sense_ascq(const struct prpath_cmd *c)
{
	return c->sense_len > 13 ? c->sense[13] : 0xff;
}

static void expect_at(const char *file, int line, uint8_t st, uint8_t want,
		      unsigned key, unsigned asc, unsigned ascq)
{
	if (st != want || (want == ST_CHECK &&
			   (sense_key(&g_cmd) != key ||
			    sense_asc(&g_cmd) != asc ||
			    sense_ascq(&g_cmd) != ascq)))
		print_error("%s:%d: status %02x sense %x/%02x/%02x, want "
			    "status %02x sense %x/%02x/%02x\n", file, line,
			    st, sense_key(&g_cmd), sense_asc(&g_cmd),
			    sense_ascq(&g_cmd), want, key, asc, ascq);
	_assert_int_equal(st, want, file, line);
	if (want != ST_CHECK)
		return;
	_assert_true(g_cmd.sense_len >= 14, "sense_len >= 14", file, line);
	/* fixed format, current error */
	_assert_int_equal(g_cmd.sense[0] & 0x7f, 0x70, file, line);
	_assert_int_equal(sense_key(&g_cmd), key, file, line);
	_assert_int_equal(sense_asc(&g_cmd), asc, file, line);
	_assert_int_equal(sense_ascq(&g_cmd), ascq, file, line);
}

#define GOOD(st) expect_at(__FILE__, __LINE__, (st), ST_GOOD, 0, 0, 0)
#define CONFLICT(st) expect_at(__FILE__, __LINE__, (st), ST_CONFLICT, 0, 0, 0)
#define CHECK(st, k, a, q) expect_at(__FILE__, __LINE__, (st), ST_CHECK, k, a, q)

/* ---- PR OUT ------------------------------------------------------------ */

static uint8_t prout_list(struct prpath_nexus *nx, uint8_t sa,
			  uint8_t scope_type, const uint8_t *param,
			  uint32_t len)
{
	uint8_t cdb[10] = { 0x5F, sa, scope_type, 0, 0, 0, 0, 0, 0, 0 };

	put32(cdb + 5, len);
	return exec_cmd(nx, cdb, sizeof(cdb), param, len, 0);
}

static void basic_list(uint8_t *p, uint64_t rk, uint64_t sark, uint8_t flags)
{
	memset(p, 0, 24);
	put64(p, rk);
	put64(p + 8, sark);
	p[20] = flags;
}

/* PR OUT with the basic 24-byte list; @scope_type is CDB byte 2 */
static uint8_t prout(struct prpath_nexus *nx, uint8_t sa, uint8_t scope_type,
		     uint64_t rk, uint64_t sark, uint8_t flags)
{
	uint8_t p[24];

	basic_list(p, rk, sark, flags);
	return prout_list(nx, sa, scope_type, p, sizeof(p));
}

static uint8_t reg(struct prpath_nexus *nx, uint64_t rk, uint64_t sark)
{
	return prout(nx, SA_REGISTER, 0, rk, sark, 0);
}

static uint8_t reg_ign(struct prpath_nexus *nx, uint64_t rk, uint64_t sark)
{
	return prout(nx, SA_REGISTER_IGNORE, 0, rk, sark, 0);
}

static uint8_t reserve(struct prpath_nexus *nx, uint64_t rk, uint8_t type)
{
	return prout(nx, SA_RESERVE, type, rk, 0, 0);
}

static uint8_t release(struct prpath_nexus *nx, uint64_t rk, uint8_t type)
{
	return prout(nx, SA_RELEASE, type, rk, 0, 0);
}

static uint8_t clear(struct prpath_nexus *nx, uint64_t rk)
{
	return prout(nx, SA_CLEAR, 0, rk, 0, 0);
}

static uint8_t preempt(struct prpath_nexus *nx, uint64_t rk, uint64_t sark,
		       uint8_t type)
{
	return prout(nx, SA_PREEMPT, type, rk, sark, 0);
}

static uint8_t preempt_abort(struct prpath_nexus *nx, uint64_t rk,
			     uint64_t sark, uint8_t type)
{
	return prout(nx, SA_PREEMPT_ABORT, type, rk, sark, 0);
}

/* iSCSI TransportID, format 01b (initiator port name), SPC-4 7.6.4.6 */
static size_t tid_iscsi(uint8_t *buf, const char *port_name)
{
	size_t n = strlen(port_name) + 1;
	size_t padded = (n + 3) & ~(size_t)3;

	if (padded < 20)
		padded = 20;
	memset(buf, 0, 4 + padded);
	buf[0] = 0x40 | 0x05;
	put16(buf + 2, (uint16_t)padded);
	memcpy(buf + 4, port_name, n - 1);
	return 4 + padded;
}

/* REGISTER with SPEC_I_PT=1 and @n TransportIDs */
static uint8_t reg_spec(struct prpath_nexus *nx, uint64_t rk, uint64_t sark,
			const char *const *names, size_t n)
{
	uint8_t p[2048];
	size_t off = 28;

	basic_list(p, rk, sark, F_SPEC_I_PT);
	for (size_t i = 0; i < n; i++)
		off += tid_iscsi(p + off, names[i]);
	put32(p + 24, (uint32_t)(off - 28));
	return prout_list(nx, SA_REGISTER, 0, p, (uint32_t)off);
}

/* REGISTER AND MOVE parameter list, SPC-4 6.16.4 */
static uint8_t reg_move(struct prpath_nexus *nx, uint8_t type, uint64_t rk,
			uint64_t sark, bool unreg, const char *dest,
			uint16_t dest_rtp)
{
	uint8_t p[512];
	size_t t;

	memset(p, 0, 24);
	put64(p, rk);
	put64(p + 8, sark);
	p[17] = unreg ? 0x02 : 0x00;
	put16(p + 18, dest_rtp);
	t = tid_iscsi(p + 24, dest);
	put32(p + 20, (uint32_t)t);
	return prout_list(nx, SA_REGISTER_MOVE, type, p, (uint32_t)(24 + t));
}

/* ---- PR IN ------------------------------------------------------------- */

static uint8_t prin(struct prpath_nexus *nx, uint8_t sa, uint16_t alloc)
{
	uint8_t cdb[10] = { 0x5E, sa, 0, 0, 0, 0, 0, 0, 0, 0 };

	put16(cdb + 7, alloc);
	return exec_cmd(nx, cdb, sizeof(cdb), NULL, 0, alloc);
}

struct keys {
	uint32_t gen;
	uint32_t addlen;
	size_t n;
	uint64_t key[64];
};

static void read_keys(struct prpath_nexus *nx, struct keys *k)
{
	GOOD(prin(nx, SA_READ_KEYS, 4096));
	assert_true(g_cmd.data_in_len >= 8);
	memset(k, 0, sizeof(*k));
	k->gen = get32(g_in);
	k->addlen = get32(g_in + 4);
	assert_int_equal(k->addlen % 8, 0);
	assert_int_equal(g_cmd.data_in_len, 8 + k->addlen);
	k->n = k->addlen / 8;
	assert_true(k->n <= 64);
	for (size_t i = 0; i < k->n; i++)
		k->key[i] = get64(g_in + 8 + 8 * i);
}

static size_t count_key(const struct keys *k, uint64_t key)
{
	size_t n = 0;

	for (size_t i = 0; i < k->n; i++)
		n += k->key[i] == key;
	return n;
}

/* PRgeneration and registration count, read by the observer nexus */
static uint32_t gen(void)
{
	struct keys k;

	read_keys(F->obs, &k);
	return k.gen;
}

static size_t nregs(void)
{
	struct keys k;

	read_keys(F->obs, &k);
	return k.n;
}

struct resv {
	uint32_t gen;
	bool reserved;
	uint64_t key;
	uint8_t scope_type;
};

static struct resv read_resv(void)
{
	struct resv r;

	GOOD(prin(F->obs, SA_READ_RESERVATION, 64));
	memset(&r, 0, sizeof(r));
	assert_true(g_cmd.data_in_len >= 8);
	r.gen = get32(g_in);
	assert_true(get32(g_in + 4) == 0 || get32(g_in + 4) == 16);
	r.reserved = get32(g_in + 4) == 16;
	if (r.reserved) {
		assert_int_equal(g_cmd.data_in_len, 24);
		r.key = get64(g_in + 8);
		r.scope_type = g_in[21];
	} else {
		assert_int_equal(g_cmd.data_in_len, 8);
	}
	return r;
}

#define EXPECT_RESV(k, st) do {                                          \
		struct resv r_ = read_resv();                            \
		assert_true(r_.reserved);                                \
		assert_int_equal(r_.key, (k));                           \
		assert_int_equal(r_.scope_type, (st));                   \
	} while (0)
#define EXPECT_NO_RESV() assert_false(read_resv().reserved)

struct fsd {
	uint64_t key;
	bool all_tg_pt;
	bool holder;
	uint8_t scope_type;
	uint16_t rtp;
	uint8_t tid_fmt;     /* byte 0 of the TransportID */
	char name[256];
};

struct full_status {
	uint32_t gen;
	size_t n;
	struct fsd d[32];
};

static void read_full_status(struct full_status *fs)
{
	uint32_t addlen;
	size_t off = 8;

	GOOD(prin(F->obs, SA_READ_FULL_STATUS, 8192));
	memset(fs, 0, sizeof(*fs));
	assert_true(g_cmd.data_in_len >= 8);
	fs->gen = get32(g_in);
	addlen = get32(g_in + 4);
	assert_int_equal(g_cmd.data_in_len, 8 + addlen);
	while (off < 8 + addlen) {
		struct fsd *d = &fs->d[fs->n++];
		const uint8_t *p = g_in + off;
		uint32_t dlen, tlen;

		assert_true(fs->n <= 32);
		assert_true(off + 24 <= 8 + addlen);
		d->key = get64(p);
		d->all_tg_pt = p[12] & 0x02;
		d->holder = p[12] & 0x01;
		d->scope_type = p[13];
		d->rtp = get16(p + 18);
		dlen = get32(p + 20);
		assert_true(off + 24 + dlen <= 8 + addlen);
		assert_true(dlen >= 24);
		d->tid_fmt = p[24];
		tlen = get16(p + 26);
		assert_true(4 + tlen <= dlen);
		assert_true(tlen < sizeof(d->name));
		memcpy(d->name, p + 28, tlen);
		d->name[tlen] = '\0';
		off += 24 + dlen;
	}
	assert_int_equal(off, 8 + addlen);
}

static const struct fsd *fs_find(const struct full_status *fs,
				 const char *name, uint16_t rtp)
{
	for (size_t i = 0; i < fs->n; i++)
		if (!strcasecmp(fs->d[i].name, name) && fs->d[i].rtp == rtp)
			return &fs->d[i];
	return NULL;
}

/* ---- unit attentions ---------------------------------------------------- */

/* Drains the UAs pending on @nx by issuing READ KEYS until it is GOOD
 * (PR IN is not one of the commands that skip unit attentions). */
static size_t collect_ua(const char *file, int line, struct prpath_nexus *nx,
			 uint16_t *ua, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < 16; i++) {
		uint8_t st = prin(nx, SA_READ_KEYS, 8);

		if (st == ST_GOOD)
			return n;
		if (st != ST_CHECK || sense_key(&g_cmd) != SK_UA)
			print_error("%s:%d: draining UAs: status %02x sense "
				    "%x/%02x/%02x\n", file, line, st,
				    sense_key(&g_cmd), sense_asc(&g_cmd),
				    sense_ascq(&g_cmd));
		_assert_int_equal(st, ST_CHECK, file, line);
		_assert_int_equal(sense_key(&g_cmd), SK_UA, file, line);
		_assert_true(n < max, "too many UAs", file, line);
		ua[n++] = (uint16_t)(sense_asc(&g_cmd) << 8 | sense_ascq(&g_cmd));
	}
	_fail(file, line);
	return n;
}

static int cmp_u16(const void *x, const void *y)
{
	return (int)*(const uint16_t *)x - (int)*(const uint16_t *)y;
}

static void expect_uas_at(const char *file, int line, struct prpath_nexus *nx,
			  size_t nwant, const uint16_t *want)
{
	uint16_t got[16], w[16];
	size_t n = collect_ua(file, line, nx, got, 16);

	if (nwant)
		memcpy(w, want, nwant * sizeof(*w));
	qsort(got, n, sizeof(*got), cmp_u16);
	qsort(w, nwant, sizeof(*w), cmp_u16);
	if (n != nwant || memcmp(got, w, n * sizeof(*w))) {
		print_error("%s:%d: UAs on %s/%u:", file, line,
			    prpath_nexus_port_name(nx),
			    prpath_nexus_rel_tgt_port(nx));
		for (size_t i = 0; i < n; i++)
			print_error(" %04x", got[i]);
		print_error(", want");
		for (size_t i = 0; i < nwant; i++)
			print_error(" %04x", w[i]);
		print_error("\n");
		_fail(file, line);
	}
}

#define EXPECT_UAS(nx, ...) do {                                         \
		const uint16_t w_[] = { __VA_ARGS__ };                   \
		expect_uas_at(__FILE__, __LINE__, (nx),                  \
			      sizeof(w_) / sizeof(w_[0]), w_);           \
	} while (0)
#define EXPECT_NO_UA(nx) expect_uas_at(__FILE__, __LINE__, (nx), 0, NULL)

/* ---- other commands ----------------------------------------------------- */

static uint8_t cmd6(struct prpath_nexus *nx, uint8_t op, uint8_t alloc)
{
	uint8_t cdb[6] = { op, 0, 0, 0, alloc, 0 };

	return exec_cmd(nx, cdb, sizeof(cdb), NULL, 0, alloc);
}

static uint8_t inquiry(struct prpath_nexus *nx)
{
	return cmd6(nx, 0x12, 96);
}

static uint8_t request_sense(struct prpath_nexus *nx)
{
	return cmd6(nx, 0x03, 252);
}

static uint8_t tur(struct prpath_nexus *nx)
{
	return cmd6(nx, 0x00, 0);
}

static uint8_t report_luns(struct prpath_nexus *nx)
{
	uint8_t cdb[12] = { 0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };

	return exec_cmd(nx, cdb, sizeof(cdb), NULL, 0, 256);
}

static uint8_t reserve6(struct prpath_nexus *nx)
{
	return cmd6(nx, 0x16, 0);
}

static uint8_t release6(struct prpath_nexus *nx)
{
	return cmd6(nx, 0x17, 0);
}

/* =========================================================================
 * 1. Conflict matrix (SPC-4 5.13.1 tables, SBC-3 table 13)
 * ======================================================================= */

enum role { HOLDER, REGISTERED, UNREGISTERED };
enum cls { ALWAYS, READ, MODIFY };

static const char *const role_name[] = { "holder", "registered", "unregistered" };
static const char *const cls_name[] = { "always", "read", "modify" };

static const uint8_t zero_blocks[1024];
static const uint8_t unmap_list[24] = {
	0x00, 0x16, 0x00, 0x10, 0, 0, 0, 0,     /* header */
	0, 0, 0, 0, 0, 0, 0, 8,                 /* LBA 8 */
	0, 0, 0, 1, 0, 0, 0, 0,                 /* 1 block */
};
static const uint8_t mode_select_hdr[4];        /* header only, no pages */

struct mcmd {
	const char *name;
	enum cls cls;
	uint8_t cdb[16];
	size_t cdb_len;
	const uint8_t *out;
	size_t out_len;
	size_t in_len;
};

static const struct mcmd mcmds[] = {
	{ "INQUIRY", ALWAYS, { 0x12, 0, 0, 0, 96, 0 }, 6, NULL, 0, 96 },
	{ "REPORT LUNS", ALWAYS, { 0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 }, 12,
	  NULL, 0, 256 },
	{ "TEST UNIT READY", ALWAYS, { 0x00 }, 6, NULL, 0, 0 },
	{ "PR IN READ KEYS", ALWAYS, { 0x5E, 0, 0, 0, 0, 0, 0, 0, 64, 0 }, 10,
	  NULL, 0, 64 },
	{ "READ CAPACITY(10)", ALWAYS, { 0x25 }, 10, NULL, 0, 8 },
	{ "READ CAPACITY(16)", ALWAYS,
	  { 0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0 }, 16,
	  NULL, 0, 32 },
	{ "REPORT TARGET PORT GROUPS", ALWAYS,
	  { 0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 }, 12, NULL, 0, 256 },
	{ "LOG SENSE page 0", ALWAYS, { 0x4D, 0, 0x40, 0, 0, 0, 0, 0, 255, 0 },
	  10, NULL, 0, 255 },
	{ "READ(10)", READ, { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10, NULL, 0, 512 },
	{ "READ(16)", READ, { 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0 },
	  16, NULL, 0, 512 },
	{ "VERIFY(10) BYTCHK=0", READ, { 0x2F, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10,
	  NULL, 0, 0 },
	{ "PRE-FETCH(10)", READ, { 0x34, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10,
	  NULL, 0, 0 },
	{ "MODE SENSE(6)", READ, { 0x1A, 0, 0x3F, 0, 255, 0 }, 6, NULL, 0, 255 },
	{ "WRITE(10)", MODIFY, { 0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10,
	  zero_blocks, 512, 0 },
	{ "WRITE(16)", MODIFY,
	  { 0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0 }, 16,
	  zero_blocks, 512, 0 },
	{ "WRITE SAME(10)", MODIFY, { 0x41, 0, 0, 0, 0, 2, 0, 0, 1, 0 }, 10,
	  zero_blocks, 512, 0 },
	{ "UNMAP", MODIFY, { 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0 }, 10,
	  unmap_list, sizeof(unmap_list), 0 },
	{ "COMPARE AND WRITE", MODIFY,
	  { 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0 }, 16,
	  zero_blocks, 1024, 0 },
	{ "SYNCHRONIZE CACHE(10)", MODIFY, { 0x35 }, 10, NULL, 0, 0 },
	{ "FORMAT UNIT", MODIFY, { 0x04 }, 6, NULL, 0, 0 },
	{ "MODE SELECT(6)", MODIFY, { 0x15, 0x10, 0, 0, 4, 0 }, 6,
	  mode_select_hdr, sizeof(mode_select_hdr), 0 },
};

struct mrow {
	uint8_t type;
	enum role role;
	enum cls cls;
	bool conflict;
};

/* SPC-4 table "SPC commands that are allowed in the presence of various
 * reservations" and SBC-3 table 13. The holder is always allowed; with an
 * all-registrants type every registrant is a holder. */
static const struct mrow matrix[] = {
	{ WE, HOLDER, ALWAYS, false },
	{ WE, HOLDER, READ, false },
	{ WE, HOLDER, MODIFY, false },
	{ WE, REGISTERED, ALWAYS, false },
	{ WE, REGISTERED, READ, false },
	{ WE, REGISTERED, MODIFY, true },
	{ WE, UNREGISTERED, ALWAYS, false },
	{ WE, UNREGISTERED, READ, false },
	{ WE, UNREGISTERED, MODIFY, true },

	{ EA, HOLDER, ALWAYS, false },
	{ EA, HOLDER, READ, false },
	{ EA, HOLDER, MODIFY, false },
	{ EA, REGISTERED, ALWAYS, false },
	{ EA, REGISTERED, READ, true },
	{ EA, REGISTERED, MODIFY, true },
	{ EA, UNREGISTERED, ALWAYS, false },
	{ EA, UNREGISTERED, READ, true },
	{ EA, UNREGISTERED, MODIFY, true },

	{ WERO, HOLDER, ALWAYS, false },
	{ WERO, HOLDER, READ, false },
	{ WERO, HOLDER, MODIFY, false },
	{ WERO, REGISTERED, ALWAYS, false },
	{ WERO, REGISTERED, READ, false },
	{ WERO, REGISTERED, MODIFY, false },
	{ WERO, UNREGISTERED, ALWAYS, false },
	{ WERO, UNREGISTERED, READ, false },
	{ WERO, UNREGISTERED, MODIFY, true },

	{ EARO, HOLDER, ALWAYS, false },
	{ EARO, HOLDER, READ, false },
	{ EARO, HOLDER, MODIFY, false },
	{ EARO, REGISTERED, ALWAYS, false },
	{ EARO, REGISTERED, READ, false },
	{ EARO, REGISTERED, MODIFY, false },
	{ EARO, UNREGISTERED, ALWAYS, false },
	{ EARO, UNREGISTERED, READ, true },
	{ EARO, UNREGISTERED, MODIFY, true },

	{ WEAR, HOLDER, ALWAYS, false },
	{ WEAR, HOLDER, READ, false },
	{ WEAR, HOLDER, MODIFY, false },
	{ WEAR, REGISTERED, ALWAYS, false },
	{ WEAR, REGISTERED, READ, false },
	{ WEAR, REGISTERED, MODIFY, false },
	{ WEAR, UNREGISTERED, ALWAYS, false },
	{ WEAR, UNREGISTERED, READ, false },
	{ WEAR, UNREGISTERED, MODIFY, true },

	{ EAAR, HOLDER, ALWAYS, false },
	{ EAAR, HOLDER, READ, false },
	{ EAAR, HOLDER, MODIFY, false },
	{ EAAR, REGISTERED, ALWAYS, false },
	{ EAAR, REGISTERED, READ, false },
	{ EAAR, REGISTERED, MODIFY, false },
	{ EAAR, UNREGISTERED, ALWAYS, false },
	{ EAAR, UNREGISTERED, READ, true },
	{ EAAR, UNREGISTERED, MODIFY, true },
};

static void test_conflict_matrix(void **state)
{
	unsigned failures = 0, checked = 0;

	(void)state;
	assert_int_equal(sizeof(matrix) / sizeof(matrix[0]), 6 * 3 * 3);
	for (size_t r = 0; r < sizeof(matrix) / sizeof(matrix[0]); r++) {
		const struct mrow *row = &matrix[r];
		struct prpath_nexus *who;

		lu_restart();
		GOOD(reg(F->a, 0, KEY_A));
		GOOD(reg(F->b, 0, KEY_B));
		GOOD(reserve(F->a, KEY_A, row->type));
		who = row->role == HOLDER ? F->a :
		      row->role == REGISTERED ? F->b : F->c;
		for (size_t i = 0; i < sizeof(mcmds) / sizeof(mcmds[0]); i++) {
			const struct mcmd *m = &mcmds[i];
			uint8_t st;
			bool bad;

			if (m->cls != row->cls)
				continue;
			st = exec_cmd(who, m->cdb, m->cdb_len, m->out,
				      m->out_len, m->in_len);
			bad = row->conflict ? st != ST_CONFLICT
					    : st == ST_CONFLICT;
			checked++;
			if (bad) {
				failures++;
				print_error("matrix row %zu: type %x %s %s %s: "
					    "status %02x (sense %x/%02x/%02x), "
					    "want %s\n", r, row->type,
					    role_name[row->role],
					    cls_name[row->cls], m->name, st,
					    sense_key(&g_cmd), sense_asc(&g_cmd),
					    sense_ascq(&g_cmd),
					    row->conflict ? "RESERVATION CONFLICT"
							  : "not a conflict");
			}
		}
	}
	assert_true(checked >= 54 * 2);
	assert_int_equal(failures, 0);
}

/* =========================================================================
 * 2. PR OUT service actions
 * ======================================================================= */

static void test_register(void **state)
{
	struct keys k;
	uint32_t g;

	(void)state;
	/* unregistered, RK=0, SARK=0: GOOD, nothing registered, gen + 1 */
	g = gen();
	assert_int_equal(g, 0);          /* zero at power-on */
	GOOD(reg(F->a, 0, 0));
	assert_int_equal(gen(), g + 1);
	assert_int_equal(nregs(), 0);

	/* unregistered, RK != 0: conflict, no change */
	g = gen();
	CONFLICT(reg(F->a, KEY_A, KEY_A));
	assert_int_equal(gen(), g);
	assert_int_equal(nregs(), 0);

	/* register */
	GOOD(reg(F->a, 0, KEY_A));
	assert_int_equal(gen(), g + 1);
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.key[0], KEY_A);

	/* registered, RK = 0 (not its key): conflict */
	g = gen();
	CONFLICT(reg(F->a, 0, KEY_B));
	/* registered, wrong RK: conflict */
	CONFLICT(reg(F->a, KEY_B, KEY_D));
	assert_int_equal(gen(), g);
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.key[0], KEY_A);

	/* change key */
	GOOD(reg(F->a, KEY_A, KEY_D));
	assert_int_equal(gen(), g + 1);
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.key[0], KEY_D);
	CONFLICT(reserve(F->a, KEY_A, WE));   /* old key is gone */

	/* REGISTER from an unregistered nexus is allowed while another
	 * nexus holds an exclusive-access reservation */
	GOOD(reserve(F->a, KEY_D, EA));
	GOOD(reg(F->c, 0, KEY_B));

	/* unregister */
	g = gen();
	GOOD(reg(F->c, KEY_B, 0));
	assert_int_equal(gen(), g + 1);
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.key[0], KEY_D);
	CONFLICT(reserve(F->c, KEY_B, WE));
	EXPECT_NO_UA(F->a);
	EXPECT_NO_UA(F->c);
}

/* Unregistering the holder of a registrants-only reservation releases it
 * and gives 2A/04 to every other registrant; WE/EA release silently. */
static void test_register_unregister_holder(void **state)
{
	static const uint8_t types[] = { WE, EA, WERO, EARO };

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		bool ro = types[i] == WERO || types[i] == EARO;
		uint32_t g;

		lu_restart();
		GOOD(reg(F->a, 0, KEY_A));
		GOOD(reg(F->b, 0, KEY_B));
		GOOD(reg(F->d, 0, KEY_D));
		GOOD(reserve(F->a, KEY_A, types[i]));
		g = gen();
		GOOD(reg(F->a, KEY_A, 0));
		assert_int_equal(gen(), g + 1);
		EXPECT_NO_RESV();
		assert_int_equal(nregs(), 2);
		if (ro) {
			EXPECT_UAS(F->b, UA_RES_RELEASED);
			EXPECT_UAS(F->d, UA_RES_RELEASED);
		} else {
			EXPECT_NO_UA(F->b);
			EXPECT_NO_UA(F->d);
		}
		EXPECT_NO_UA(F->a);
		EXPECT_NO_UA(F->c);
	}
}

/* All-registrants: the reservation lasts until the last registrant goes. */
static void test_register_last_ar_registrant(void **state)
{
	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reserve(F->a, KEY_A, WEAR));
	GOOD(reg(F->a, KEY_A, 0));
	EXPECT_RESV(0, WEAR);
	EXPECT_NO_UA(F->b);
	GOOD(reg(F->b, KEY_B, 0));
	EXPECT_NO_RESV();
	assert_int_equal(nregs(), 0);
}

static void test_register_and_ignore(void **state)
{
	struct keys k;
	uint32_t g;

	(void)state;
	/* unregistered, SARK=0: GOOD no-op, gen + 1 */
	g = gen();
	GOOD(reg_ign(F->a, 0x1234, 0));
	assert_int_equal(gen(), g + 1);
	assert_int_equal(nregs(), 0);
	/* unregistered, any RK: registers SARK */
	GOOD(reg_ign(F->a, 0x1234, KEY_A));
	assert_int_equal(gen(), g + 2);
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.key[0], KEY_A);
	/* registered, wrong RK ignored: key changes */
	GOOD(reg_ign(F->a, KEY_B, KEY_D));
	assert_int_equal(gen(), g + 3);
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.key[0], KEY_D);
	/* SPEC_I_PT=1: 05/26/00, no change */
	CHECK(prout(F->a, SA_REGISTER_IGNORE, 0, 0, KEY_A, F_SPEC_I_PT),
	      SK_ILLEGAL, 0x26, 0x00);
	assert_int_equal(gen(), g + 3);
	/* SARK=0 unregisters */
	GOOD(reg_ign(F->a, 0, 0));
	assert_int_equal(gen(), g + 4);
	assert_int_equal(nregs(), 0);
}

static void test_reserve(void **state)
{
	static const uint8_t bad_types[] = { 0x0, 0x2, 0x4, 0x9, 0xF };
	uint32_t g;

	(void)state;
	/* unregistered */
	CONFLICT(reserve(F->a, 0, WE));
	CONFLICT(reserve(F->a, KEY_A, WE));
	EXPECT_NO_RESV();

	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	g = gen();
	/* wrong RK */
	CONFLICT(reserve(F->a, KEY_B, WE));
	EXPECT_NO_RESV();
	/* invalid type, scope != 0 */
	for (size_t i = 0; i < sizeof(bad_types); i++)
		CHECK(reserve(F->a, KEY_A, bad_types[i]), SK_ILLEGAL, 0x24, 0x00);
	CHECK(prout(F->a, SA_RESERVE, 0x10 | WE, KEY_A, 0, 0),
	      SK_ILLEGAL, 0x24, 0x00);
	EXPECT_NO_RESV();

	GOOD(reserve(F->a, KEY_A, WE));
	EXPECT_RESV(KEY_A, WE);
	/* same type again from the holder: GOOD, no change */
	GOOD(reserve(F->a, KEY_A, WE));
	EXPECT_RESV(KEY_A, WE);
	/* different type from the holder: conflict */
	CONFLICT(reserve(F->a, KEY_A, EA));
	EXPECT_RESV(KEY_A, WE);
	/* another registered nexus, either type: conflict */
	CONFLICT(reserve(F->b, KEY_B, WE));
	CONFLICT(reserve(F->b, KEY_B, EA));
	EXPECT_RESV(KEY_A, WE);
	/* RESERVE never changes PRgeneration */
	assert_int_equal(gen(), g);
	EXPECT_NO_UA(F->a);
	EXPECT_NO_UA(F->b);
}

/* With an all-registrants reservation every registrant is a holder. */
static void test_reserve_ar_every_registrant_holds(void **state)
{
	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reserve(F->a, KEY_A, EAAR));
	GOOD(reserve(F->b, KEY_B, EAAR));
	CONFLICT(reserve(F->b, KEY_B, WEAR));
	EXPECT_RESV(0, EAAR);
	/* a registrant that arrives later is a holder too */
	GOOD(reg(F->d, 0, KEY_D));
	GOOD(reserve(F->d, KEY_D, EAAR));
}

static void test_release(void **state)
{
	uint32_t g;

	(void)state;
	/* unregistered: conflict (no reservation, then with one) */
	CONFLICT(release(F->c, 0, WE));
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	/* no reservation: GOOD, nothing changes */
	g = gen();
	GOOD(release(F->a, KEY_A, WE));
	EXPECT_NO_RESV();
	GOOD(reserve(F->a, KEY_A, WERO));
	CONFLICT(release(F->c, 0, WERO));
	CONFLICT(release(F->c, KEY_A, WERO));
	/* wrong RK */
	CONFLICT(release(F->a, KEY_B, WERO));
	/* registered non-holder: GOOD, nothing changes */
	GOOD(release(F->b, KEY_B, WERO));
	EXPECT_RESV(KEY_A, WERO);
	/* holder, wrong type */
	CHECK(release(F->a, KEY_A, EARO), SK_ILLEGAL, 0x26, 0x04);
	EXPECT_RESV(KEY_A, WERO);
	/* holder, right type */
	GOOD(release(F->a, KEY_A, WERO));
	EXPECT_NO_RESV();
	assert_int_equal(nregs(), 2);     /* registrations kept */
	assert_int_equal(gen(), g);       /* RELEASE never bumps it */
	EXPECT_UAS(F->b, UA_RES_RELEASED);
	EXPECT_NO_UA(F->a);
	EXPECT_NO_UA(F->c);
}

/* 2A/04 to every other registrant for RO/AR types, none for WE/EA. */
static void test_release_ua_by_type(void **state)
{
	static const uint8_t types[] = { WE, EA, WERO, EARO, WEAR, EAAR };

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		bool ua = types[i] != WE && types[i] != EA;
		bool ar = types[i] == WEAR || types[i] == EAAR;

		lu_restart();
		GOOD(reg(F->a, 0, KEY_A));
		GOOD(reg(F->a2, 0, KEY_A));
		GOOD(reg(F->b, 0, KEY_B));
		GOOD(reserve(F->a, KEY_A, types[i]));
		/* AR: any registrant may release (it is a holder) */
		GOOD(release(ar ? F->b : F->a, ar ? KEY_B : KEY_A, types[i]));
		EXPECT_NO_RESV();
		assert_int_equal(nregs(), 3);
		if (ua) {
			EXPECT_UAS(ar ? F->a : F->b, UA_RES_RELEASED);
			EXPECT_UAS(F->a2, UA_RES_RELEASED);
		} else {
			EXPECT_NO_UA(F->b);
			EXPECT_NO_UA(F->a2);
		}
		EXPECT_NO_UA(ar ? F->b : F->a);
		EXPECT_NO_UA(F->c);
	}
}

static void test_clear(void **state)
{
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->a2, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reg(F->d, 0, KEY_D));
	GOOD(reserve(F->b, KEY_B, WERO));
	g = gen();
	CONFLICT(clear(F->c, 0));
	CONFLICT(clear(F->c, KEY_A));
	CONFLICT(clear(F->a, KEY_B));
	assert_int_equal(gen(), g);
	EXPECT_RESV(KEY_B, WERO);
	assert_int_equal(nregs(), 4);

	GOOD(clear(F->a, KEY_A));
	assert_int_equal(gen(), g + 1);
	EXPECT_NO_RESV();
	assert_int_equal(nregs(), 0);
	EXPECT_UAS(F->a2, UA_RES_PREEMPTED);
	EXPECT_UAS(F->b, UA_RES_PREEMPTED);
	EXPECT_UAS(F->d, UA_RES_PREEMPTED);
	EXPECT_NO_UA(F->a);
	EXPECT_NO_UA(F->c);
	/* registrations gone: the old keys no longer work */
	CONFLICT(reserve(F->a, KEY_A, WE));
	CONFLICT(reg(F->b, KEY_B, KEY_B));
}

/* PREEMPT, all-registrants reservation, SARK = 0: every other registration
 * goes, the caller gets a new reservation of TYPE. */
static void test_preempt_ar_sark_zero(void **state)
{
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reg(F->d, 0, KEY_D));
	GOOD(reserve(F->b, KEY_B, EAAR));
	g = gen();
	GOOD(preempt(F->a, KEY_A, 0, WERO));
	assert_int_equal(gen(), g + 1);
	EXPECT_RESV(KEY_A, WERO);
	assert_int_equal(nregs(), 1);
	EXPECT_UAS(F->b, UA_REG_PREEMPTED);
	EXPECT_UAS(F->d, UA_REG_PREEMPTED);
	EXPECT_NO_UA(F->a);
	EXPECT_NO_UA(F->c);
}

/* PREEMPT, all-registrants reservation, SARK != 0: only the registrations
 * with that key go; the reservation (type) is untouched. */
static void test_preempt_ar_sark_nonzero(void **state)
{
	struct keys k;
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reg(F->b2, 0, KEY_B));
	GOOD(reg(F->d, 0, KEY_D));
	GOOD(reserve(F->a, KEY_A, WEAR));
	g = gen();
	GOOD(preempt(F->a, KEY_A, KEY_B, WE));
	assert_int_equal(gen(), g + 1);
	EXPECT_RESV(0, WEAR);
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 2);
	assert_int_equal(count_key(&k, KEY_B), 0);
	EXPECT_UAS(F->b, UA_REG_PREEMPTED);
	EXPECT_UAS(F->b2, UA_REG_PREEMPTED);
	EXPECT_NO_UA(F->d);
	EXPECT_NO_UA(F->a);
}

/* PREEMPT of the holder's key: reservation moves to the caller; 2A/04 to
 * survivors only when the type changed. */
static void test_preempt_holder_key(void **state)
{
	static const struct { uint8_t from, to; } cases[] = {
		{ WERO, EARO }, { WERO, WERO }, { WE, EA }, { EA, EA },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t g;

		lu_restart();
		GOOD(reg(F->a, 0, KEY_A));
		GOOD(reg(F->b, 0, KEY_B));
		GOOD(reg(F->d, 0, KEY_D));
		GOOD(reserve(F->b, KEY_B, cases[i].from));
		g = gen();
		GOOD(preempt(F->a, KEY_A, KEY_B, cases[i].to));
		assert_int_equal(gen(), g + 1);
		EXPECT_RESV(KEY_A, cases[i].to);
		assert_int_equal(nregs(), 2);
		EXPECT_UAS(F->b, UA_REG_PREEMPTED);
		if (cases[i].from != cases[i].to)
			EXPECT_UAS(F->d, UA_RES_RELEASED);
		else
			EXPECT_NO_UA(F->d);
		EXPECT_NO_UA(F->a);
		EXPECT_NO_UA(F->c);
	}
}

/* PREEMPT of a key that does not hold the reservation (or with no
 * reservation): only the registrations go. */
static void test_preempt_other_key(void **state)
{
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reg(F->d, 0, KEY_D));
	GOOD(reserve(F->b, KEY_B, WERO));
	g = gen();
	GOOD(preempt(F->a, KEY_A, KEY_D, EARO));
	assert_int_equal(gen(), g + 1);
	EXPECT_RESV(KEY_B, WERO);
	assert_int_equal(nregs(), 2);
	EXPECT_UAS(F->d, UA_REG_PREEMPTED);
	EXPECT_NO_UA(F->b);
	EXPECT_NO_UA(F->a);

	/* no reservation at all */
	GOOD(release(F->b, KEY_B, WERO));
	EXPECT_UAS(F->a, UA_RES_RELEASED);
	g = gen();
	GOOD(preempt(F->a, KEY_A, KEY_B, WE));
	assert_int_equal(gen(), g + 1);
	EXPECT_NO_RESV();
	assert_int_equal(nregs(), 1);
	EXPECT_UAS(F->b, UA_REG_PREEMPTED);
}

static void test_preempt_errors(void **state)
{
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	g = gen();
	/* SARK=0 without an AR reservation: none, then non-AR */
	CHECK(preempt(F->a, KEY_A, 0, WE), SK_ILLEGAL, 0x26, 0x00);
	GOOD(reserve(F->b, KEY_B, WE));
	CHECK(preempt(F->a, KEY_A, 0, WE), SK_ILLEGAL, 0x26, 0x00);
	CHECK(preempt_abort(F->a, KEY_A, 0, WE), SK_ILLEGAL, 0x26, 0x00);
	/* SARK matching nobody */
	CONFLICT(preempt(F->a, KEY_A, KEY_D, WE));
	CONFLICT(preempt_abort(F->a, KEY_A, KEY_D, WE));
	/* wrong RK, unregistered caller */
	CONFLICT(preempt(F->a, KEY_D, KEY_B, WE));
	CONFLICT(preempt(F->c, 0, KEY_B, WE));
	CONFLICT(preempt(F->c, KEY_A, KEY_B, WE));
	CONFLICT(preempt_abort(F->c, 0, KEY_B, WE));
	assert_int_equal(gen(), g);
	EXPECT_RESV(KEY_B, WE);
	assert_int_equal(nregs(), 2);
	EXPECT_NO_UA(F->a);
	EXPECT_NO_UA(F->b);
}

/* A holder may preempt its own key: it keeps its registration and gets the
 * new type; other nexuses registered with that key lose theirs. */
static void test_preempt_self(void **state)
{
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->a2, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reserve(F->a, KEY_A, WERO));
	g = gen();
	GOOD(preempt(F->a, KEY_A, KEY_A, EARO));
	assert_int_equal(gen(), g + 1);
	EXPECT_RESV(KEY_A, EARO);
	assert_int_equal(nregs(), 2);
	GOOD(reserve(F->a, KEY_A, EARO));  /* still the holder */
	EXPECT_UAS(F->a2, UA_REG_PREEMPTED);
	EXPECT_UAS(F->b, UA_RES_RELEASED);
	EXPECT_NO_UA(F->a);
}

static void prep_cmd(struct prpath_cmd *c, uint8_t *cdb, uint8_t *buf)
{
	memset(c, 0, sizeof(*c));
	memset(cdb, 0, 10);
	cdb[0] = 0x5E;                /* PR IN READ KEYS, alloc 64 */
	cdb[8] = 64;
	c->cdb = cdb;
	c->cdb_len = 10;
	c->data_in = buf;
	c->data_in_cap = 64;
}

static void test_preempt_and_abort(void **state)
{
	struct prpath_cmd victim, mine;
	uint8_t vcdb[10], mcdb[10], vbuf[64], mbuf[64];
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reg(F->d, 0, KEY_B));          /* same key, other host, no task */
	GOOD(reg(F->c, 0, KEY_D));          /* survivor */
	GOOD(reserve(F->b, KEY_B, WERO));

	prep_cmd(&victim, vcdb, vbuf);
	prep_cmd(&mine, mcdb, mbuf);
	prpath_cmd_queue(F->b, &victim);
	prpath_cmd_queue(F->a, &mine);

	g = gen();
	GOOD(preempt_abort(F->a, KEY_A, KEY_B, EARO));
	assert_int_equal(gen(), g + 1);
	EXPECT_RESV(KEY_A, EARO);
	assert_int_equal(nregs(), 2);

	/* the victim's task was aborted; the caller's own was not */
	assert_int_equal(prpath_lu_execute(F->b, &victim), PRPATH_LU_ABORTED);
	assert_int_equal(prpath_lu_execute(F->a, &mine), 0);
	assert_int_equal(mine.status, ST_GOOD);

	EXPECT_UAS(F->b, UA_REG_PREEMPTED, UA_CMDS_CLEARED);
	EXPECT_UAS(F->d, UA_REG_PREEMPTED);
	EXPECT_UAS(F->c, UA_RES_RELEASED);  /* type changed WERO -> EARO */
	EXPECT_NO_UA(F->a);
}

static void test_register_and_move(void **state)
{
	struct full_status fs;
	const struct fsd *d;
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reserve(F->a, KEY_A, WERO));
	g = gen();
	GOOD(reg_move(F->a, WERO, KEY_A, KEY_B, false, NAME_B, 1));
	assert_int_equal(gen(), g + 1);
	EXPECT_RESV(KEY_B, WERO);
	read_full_status(&fs);
	assert_int_equal(fs.n, 2);
	d = fs_find(&fs, NAME_B, 1);
	assert_non_null(d);
	assert_int_equal(d->key, KEY_B);
	assert_true(d->holder);
	assert_int_equal(d->scope_type, WERO);
	d = fs_find(&fs, NAME_A, 1);
	assert_non_null(d);
	assert_int_equal(d->key, KEY_A);
	assert_false(d->holder);
	/* b holds it now: it can release it, a cannot any more */
	GOOD(reserve(F->b, KEY_B, WERO));
	CONFLICT(reserve(F->a, KEY_A, WERO));
	GOOD(release(F->b, KEY_B, WERO));
}

static void test_register_and_move_unreg(void **state)
{
	struct keys k;
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reserve(F->a, KEY_A, EA));
	g = gen();
	/* to host d through the other target port */
	GOOD(reg_move(F->a, EA, KEY_A, KEY_D, true, NAME_D, 2));
	assert_int_equal(gen(), g + 1);
	EXPECT_RESV(KEY_D, EA);
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.key[0], KEY_D);
	CONFLICT(reserve(F->a, KEY_A, EA));   /* a is no longer registered */
	CONFLICT(reserve(F->d, KEY_D, EA));   /* (d, port 1) is not the holder */
	{
		struct prpath_nexus *d2 = nx_open(NAME_D, 2);

		GOOD(reserve(d2, KEY_D, EA));  /* (d, port 2) is */
		prpath_lu_nexus_close(d2);
	}
}

static void test_register_and_move_errors(void **state)
{
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	g = gen();
	/* no reservation: 05/24/00 per SPC4-PR.md (see report) */
	CHECK(reg_move(F->a, WE, KEY_A, KEY_D, false, NAME_D, 1),
	      SK_ILLEGAL, 0x24, 0x00);
	GOOD(reserve(F->a, KEY_A, WE));
	/* SARK = 0 */
	CHECK(reg_move(F->a, WE, KEY_A, 0, false, NAME_D, 1),
	      SK_ILLEGAL, 0x26, 0x00);
	/* destination = the caller's own I_T nexus */
	CHECK(reg_move(F->a, WE, KEY_A, KEY_D, false, NAME_A, 1),
	      SK_ILLEGAL, 0x26, 0x00);
	/* SPC-4 6.16.4: a TransportID naming the caller's initiator port is
	 * invalid even with another relative target port */
	CHECK(reg_move(F->a, WE, KEY_A, KEY_D, false, NAME_A, 2),
	      SK_ILLEGAL, 0x26, 0x00);
	/* registered non-holder, wrong RK, unregistered caller */
	CONFLICT(reg_move(F->b, WE, KEY_B, KEY_D, false, NAME_D, 1));
	CONFLICT(reg_move(F->a, WE, KEY_B, KEY_D, false, NAME_D, 1));
	CONFLICT(reg_move(F->c, WE, 0, KEY_D, false, NAME_D, 1));
	assert_int_equal(gen(), g);
	EXPECT_RESV(KEY_A, WE);
	assert_int_equal(nregs(), 2);

	/* all-registrants reservation: conflict */
	GOOD(release(F->a, KEY_A, WE));
	GOOD(reserve(F->a, KEY_A, WEAR));
	g = gen();
	CONFLICT(reg_move(F->a, WEAR, KEY_A, KEY_D, false, NAME_D, 1));
	assert_int_equal(gen(), g);
	EXPECT_RESV(0, WEAR);
	assert_int_equal(nregs(), 2);
}

static void test_replace_lost_reservation_unsupported(void **state)
{
	(void)state;
	GOOD(prin(F->obs, SA_REPORT_CAPABILITIES, 8));
	assert_int_equal(g_in[2] & 0x80, 0);     /* RLR_C = 0 */
	GOOD(reg(F->a, 0, KEY_A));
	CHECK(prout(F->a, SA_REPLACE_LOST, WE, 0, KEY_A, 0),
	      SK_ILLEGAL, 0x24, 0x00);
	EXPECT_NO_RESV();
}

/* cfg.rlr = true. SPC-5: RLR_C tells whether REPLACE LOST RESERVATION is
 * supported; what is advertised must match what is accepted. (lu.h says
 * cfg.rlr advertises it; the device server may still decline, since it
 * never loses a reservation; then it must say RLR_C = 0 and refuse.) */
static void test_replace_lost_reservation_consistent(void **state)
{
	bool rlr_c;

	(void)state;
	GOOD(prin(F->obs, SA_REPORT_CAPABILITIES, 8));
	rlr_c = g_in[2] & 0x80;
	GOOD(reg(F->a, 0, KEY_A));
	if (!rlr_c) {
		CHECK(prout(F->a, SA_REPLACE_LOST, WE, 0, KEY_A, 0),
		      SK_ILLEGAL, 0x24, 0x00);
		EXPECT_NO_RESV();
	} else {
		uint8_t st = prout(F->a, SA_REPLACE_LOST, WE, 0, KEY_A, 0);

		assert_false(st == ST_CHECK && sense_key(&g_cmd) == SK_ILLEGAL &&
			     sense_asc(&g_cmd) == 0x24);
	}
}

static void test_param_list_length(void **state)
{
	uint8_t p[40];
	uint32_t g;

	(void)state;
	g = gen();
	basic_list(p, 0, KEY_A, 0);
	CHECK(prout_list(F->a, SA_REGISTER, 0, p, 16), SK_ILLEGAL, 0x1A, 0x00);
	memset(p + 24, 0, 16);
	CHECK(prout_list(F->a, SA_REGISTER, 0, p, 32), SK_ILLEGAL, 0x1A, 0x00);
	CHECK(prout_list(F->a, SA_REGISTER_IGNORE, 0, p, 28),
	      SK_ILLEGAL, 0x1A, 0x00);
	assert_int_equal(gen(), g);
	assert_int_equal(nregs(), 0);
	GOOD(reg(F->a, 0, KEY_A));
	basic_list(p, KEY_A, 0, 0);
	CHECK(prout_list(F->a, SA_RESERVE, WE, p, 20), SK_ILLEGAL, 0x1A, 0x00);
	CHECK(prout_list(F->a, SA_CLEAR, 0, p, 32), SK_ILLEGAL, 0x1A, 0x00);
	EXPECT_NO_RESV();
	assert_int_equal(nregs(), 1);
}

static void test_spec_i_pt_on_other_sa(void **state)
{
	static const uint8_t sas[] = { SA_RESERVE, SA_RELEASE, SA_CLEAR,
				       SA_PREEMPT, SA_PREEMPT_ABORT,
				       SA_REGISTER_IGNORE };
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	g = gen();
	for (size_t i = 0; i < sizeof(sas); i++)
		CHECK(prout(F->a, sas[i], WE, KEY_A, KEY_B, F_SPEC_I_PT),
		      SK_ILLEGAL, 0x26, 0x00);
	assert_int_equal(gen(), g);
	assert_int_equal(nregs(), 2);
	EXPECT_NO_RESV();
}

static void test_spec_i_pt_register(void **state)
{
	static const char *const names[] = { NAME_B, NAME_D };
	struct full_status fs;
	const struct fsd *d;
	uint32_t g;

	(void)state;
	GOOD(prin(F->obs, SA_REPORT_CAPABILITIES, 8));
	assert_int_equal(g_in[2] & 0x08, 0x08);   /* SIP_C */
	g = gen();
	GOOD(reg_spec(F->a, 0, KEY_A, names, 2));
	assert_int_equal(gen(), g + 1);
	read_full_status(&fs);
	assert_int_equal(fs.n, 3);
	/* listed nexuses are registered through the receiving target port */
	d = fs_find(&fs, NAME_A, 1);
	assert_non_null(d);
	assert_int_equal(d->key, KEY_A);
	d = fs_find(&fs, NAME_B, 1);
	assert_non_null(d);
	assert_int_equal(d->key, KEY_A);
	d = fs_find(&fs, NAME_D, 1);
	assert_non_null(d);
	assert_int_equal(d->key, KEY_A);
	/* through the receiving port only: b2 is still unregistered */
	CONFLICT(reserve(F->b2, KEY_A, WE));
	GOOD(reserve(F->d, KEY_A, WE));
}

static void test_spec_i_pt_all_or_nothing(void **state)
{
	static const char *const names[] = { NAME_D, NAME_B };
	struct keys k;
	uint32_t g;

	(void)state;
	GOOD(reg(F->b, 0, KEY_B));
	g = gen();
	CHECK(reg_spec(F->a, 0, KEY_A, names, 2), SK_ILLEGAL, 0x26, 0x00);
	assert_int_equal(gen(), g);
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.key[0], KEY_B);
	CONFLICT(reserve(F->a, KEY_A, WE));
	CONFLICT(reserve(F->d, KEY_A, WE));
}

/* SPEC_I_PT=1 from an already registered nexus: SPC-4 5.13.7 table
 * "Register behaviors" makes it an ILLEGAL REQUEST (the drafts disagree on
 * INVALID FIELD IN CDB vs IN PARAMETER LIST, so either ASC is accepted);
 * nothing may be registered. */
static void test_spec_i_pt_from_registered(void **state)
{
	static const char *const names[] = { NAME_D };
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	g = gen();
	assert_int_equal(reg_spec(F->a, KEY_A, KEY_B, names, 1), ST_CHECK);
	assert_int_equal(sense_key(&g_cmd), SK_ILLEGAL);
	assert_true(sense_asc(&g_cmd) == 0x24 || sense_asc(&g_cmd) == 0x26);
	assert_int_equal(sense_ascq(&g_cmd), 0);
	assert_int_equal(gen(), g);
	assert_int_equal(nregs(), 1);
	CONFLICT(reserve(F->d, KEY_B, WE));
	GOOD(reserve(F->a, KEY_A, WE));
}

static void test_all_tg_pt(void **state)
{
	struct full_status fs;
	const struct fsd *d1, *d2;
	struct keys k;

	(void)state;
	GOOD(prin(F->obs, SA_REPORT_CAPABILITIES, 8));
	assert_int_equal(g_in[2] & 0x04, 0x04);   /* ATP_C */
	GOOD(prout(F->a, SA_REGISTER, 0, 0, KEY_A, F_ALL_TG_PT));
	read_keys(F->obs, &k);
	assert_int_equal(count_key(&k, KEY_A), 2);
	read_full_status(&fs);
	d1 = fs_find(&fs, NAME_A, 1);
	d2 = fs_find(&fs, NAME_A, 2);
	assert_non_null(d1);
	assert_non_null(d2);
	assert_int_equal(d1->key, KEY_A);
	assert_int_equal(d2->key, KEY_A);
	/* the nexus through port 2 is registered */
	GOOD(reserve(F->a2, KEY_A, WE));
	EXPECT_RESV(KEY_A, WE);
}

static void test_aptpl_unsupported(void **state)
{
	(void)state;
	GOOD(prin(F->obs, SA_REPORT_CAPABILITIES, 8));
	assert_int_equal(g_in[2] & 0x01, 0);      /* PTPL_C = 0 */
	assert_int_equal(g_in[3] & 0x01, 0);      /* PTPL_A = 0 */
	CHECK(prout(F->a, SA_REGISTER, 0, 0, KEY_A, F_APTPL),
	      SK_ILLEGAL, 0x26, 0x00);
	CHECK(prout(F->a, SA_REGISTER_IGNORE, 0, 0, KEY_A, F_APTPL),
	      SK_ILLEGAL, 0x26, 0x00);
	assert_int_equal(nregs(), 0);
}

static void test_aptpl_supported(void **state)
{
	(void)state;
	GOOD(prin(F->obs, SA_REPORT_CAPABILITIES, 8));
	assert_int_equal(g_in[2] & 0x01, 0x01);   /* PTPL_C */
	assert_int_equal(g_in[3] & 0x01, 0);      /* PTPL_A */
	GOOD(prout(F->a, SA_REGISTER, 0, 0, KEY_A, F_APTPL));
	GOOD(reserve(F->a, KEY_A, WERO));
	GOOD(prin(F->obs, SA_REPORT_CAPABILITIES, 8));
	assert_int_equal(g_in[3] & 0x01, 0x01);   /* PTPL_A */

	/* survives a power cycle */
	lu_restart();
	EXPECT_RESV(KEY_A, WERO);
	assert_int_equal(nregs(), 1);

	/* the last register decides: APTPL=0 */
	GOOD(reg(F->a, KEY_A, KEY_A));
	GOOD(prin(F->obs, SA_REPORT_CAPABILITIES, 8));
	assert_int_equal(g_in[3] & 0x01, 0);
	lu_restart();
	EXPECT_NO_RESV();
	assert_int_equal(nregs(), 0);
}

static void test_prout_unknown_sa(void **state)
{
	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	CHECK(prout(F->a, 0x09, WE, KEY_A, 0, 0), SK_ILLEGAL, 0x24, 0x00);
	CHECK(prout(F->a, 0x1F, WE, KEY_A, 0, 0), SK_ILLEGAL, 0x24, 0x00);
	CHECK(prout(F->c, 0x0C, WE, 0, 0, 0), SK_ILLEGAL, 0x24, 0x00);
}

static void test_unregistered_nexus_prout(void **state)
{
	static const uint8_t sas[] = { SA_RESERVE, SA_RELEASE, SA_CLEAR,
				       SA_PREEMPT, SA_PREEMPT_ABORT };
	uint32_t g;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reserve(F->a, KEY_A, WERO));
	g = gen();
	for (size_t i = 0; i < sizeof(sas); i++) {
		CONFLICT(prout(F->c, sas[i], WERO, 0, KEY_B, 0));
		CONFLICT(prout(F->c, sas[i], WERO, KEY_A, KEY_B, 0));
	}
	CONFLICT(reg_move(F->c, WERO, KEY_A, KEY_D, false, NAME_D, 1));
	assert_int_equal(gen(), g);
	EXPECT_RESV(KEY_A, WERO);
	assert_int_equal(nregs(), 2);
	EXPECT_NO_UA(F->a);
	EXPECT_NO_UA(F->b);
}

/* =========================================================================
 * 3. PR IN
 * ======================================================================= */

static void test_read_keys(void **state)
{
	struct keys k;

	(void)state;
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 0);
	assert_int_equal(k.addlen, 0);
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_A));   /* one key, two nexuses */
	GOOD(reg(F->d, 0, KEY_D));
	read_keys(F->obs, &k);
	assert_int_equal(k.n, 3);
	assert_int_equal(count_key(&k, KEY_A), 2);
	assert_int_equal(count_key(&k, KEY_D), 1);

	/* allocation length below the data: cut, length field still full */
	GOOD(prin(F->obs, SA_READ_KEYS, 16));
	assert_int_equal(g_cmd.data_in_len, 16);
	assert_int_equal(get32(g_in + 4), 24);
	assert_int_equal(get32(g_in), k.gen);
	GOOD(prin(F->obs, SA_READ_KEYS, 8));
	assert_int_equal(g_cmd.data_in_len, 8);
	assert_int_equal(get32(g_in + 4), 24);
	GOOD(prin(F->obs, SA_READ_KEYS, 12));
	assert_int_equal(g_cmd.data_in_len, 12);
	assert_int_equal(get32(g_in + 4), 24);
}

static void test_read_reservation(void **state)
{
	struct resv r;

	(void)state;
	r = read_resv();
	assert_false(r.reserved);
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reserve(F->b, KEY_B, EARO));
	r = read_resv();
	assert_true(r.reserved);
	assert_int_equal(r.key, KEY_B);
	assert_int_equal(r.scope_type, 0x00 | EARO);
	assert_int_equal(r.gen, gen());
	GOOD(release(F->b, KEY_B, EARO));
	EXPECT_UAS(F->a, UA_RES_RELEASED);
	/* AR types report key 0 */
	GOOD(reserve(F->a, KEY_A, EAAR));
	EXPECT_RESV(0, EAAR);
	GOOD(release(F->a, KEY_A, EAAR));
	EXPECT_UAS(F->b, UA_RES_RELEASED);
	GOOD(reserve(F->b, KEY_B, WEAR));
	EXPECT_RESV(0, WEAR);
	/* allocation length 8: header only, length still 16 */
	GOOD(prin(F->obs, SA_READ_RESERVATION, 8));
	assert_int_equal(g_cmd.data_in_len, 8);
	assert_int_equal(get32(g_in + 4), 16);
}

static void test_report_capabilities(void **state)
{
	(void)state;
	GOOD(prin(F->obs, SA_REPORT_CAPABILITIES, 64));
	assert_int_equal(g_cmd.data_in_len, 8);
	assert_int_equal(get16(g_in), 8);             /* LENGTH */
	assert_int_equal(g_in[2] & 0x10, 0x10);       /* CRH */
	assert_int_equal(g_in[2] & 0x08, 0x08);       /* SIP_C */
	assert_int_equal(g_in[2] & 0x04, 0x04);       /* ATP_C */
	assert_int_equal(g_in[2] & 0x01, 0x00);       /* PTPL_C: no state */
	assert_int_equal(g_in[2] & 0x80, 0x00);       /* RLR_C: not configured */
	assert_int_equal(g_in[3] & 0x80, 0x80);       /* TMV */
	assert_int_equal(g_in[3] & 0x01, 0x00);       /* PTPL_A */
	/* type mask: WR_EX_AR EX_AC_RO WR_EX_RO EX_AC WR_EX | EX_AC_AR */
	assert_int_equal(g_in[4], 0xEA);
	assert_int_equal(g_in[5], 0x01);
}

static void test_read_full_status(void **state)
{
	struct full_status fs;
	const struct fsd *d;

	(void)state;
	read_full_status(&fs);
	assert_int_equal(fs.n, 0);
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->a2, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reserve(F->a, KEY_A, WERO));
	read_full_status(&fs);
	assert_int_equal(fs.gen, gen());
	assert_int_equal(fs.n, 3);
	for (size_t i = 0; i < fs.n; i++) {
		assert_int_equal(fs.d[i].tid_fmt, 0x45);   /* fmt 01, iSCSI */
		assert_false(fs.d[i].all_tg_pt);
	}
	d = fs_find(&fs, NAME_A, 1);
	assert_non_null(d);
	assert_int_equal(d->key, KEY_A);
	assert_true(d->holder);
	assert_int_equal(d->scope_type, WERO);
	d = fs_find(&fs, NAME_A, 2);    /* same port name, other nexus */
	assert_non_null(d);
	assert_int_equal(d->key, KEY_A);
	assert_false(d->holder);
	d = fs_find(&fs, NAME_B, 1);
	assert_non_null(d);
	assert_int_equal(d->key, KEY_B);
	assert_false(d->holder);

	/* AR: every registrant is a holder */
	GOOD(release(F->a, KEY_A, WERO));
	EXPECT_UAS(F->b, UA_RES_RELEASED);
	GOOD(reserve(F->b, KEY_B, EAAR));
	read_full_status(&fs);
	assert_int_equal(fs.n, 3);
	for (size_t i = 0; i < fs.n; i++) {
		assert_true(fs.d[i].holder);
		assert_int_equal(fs.d[i].scope_type, EAAR);
	}
}

static void test_prin_unknown_sa(void **state)
{
	(void)state;
	CHECK(prin(F->a, 0x04, 64), SK_ILLEGAL, 0x24, 0x00);
	CHECK(prin(F->a, 0x1F, 64), SK_ILLEGAL, 0x24, 0x00);
}

/* =========================================================================
 * 4. PRgeneration
 * ======================================================================= */

static void test_generation(void **state)
{
	uint8_t p[24];
	uint32_t g;

	(void)state;
	g = gen();
	assert_int_equal(g, 0);
#define STEP(cmd, delta) do { cmd; g += (delta);                         \
		assert_int_equal(gen(), g); } while (0)
	STEP(GOOD(reg(F->a, 0, 0)), 1);                   /* no-op register */
	STEP(GOOD(reg(F->a, 0, KEY_A)), 1);
	STEP(GOOD(reg(F->a, KEY_A, KEY_A)), 1);           /* same key */
	STEP(GOOD(reg_ign(F->b, 0, KEY_B)), 1);
	STEP(GOOD(reg_ign(F->b, 0, KEY_B)), 1);
	STEP(GOOD(reg(F->d, 0, KEY_D)), 1);
	STEP(GOOD(reserve(F->a, KEY_A, WERO)), 0);
	STEP(GOOD(reserve(F->a, KEY_A, WERO)), 0);
	STEP(GOOD(release(F->b, KEY_B, WERO)), 0);        /* non-holder */
	STEP(GOOD(prin(F->a, SA_READ_KEYS, 64)), 0);
	STEP(GOOD(prin(F->a, SA_READ_FULL_STATUS, 1024)), 0);
	STEP(GOOD(prin(F->a, SA_REPORT_CAPABILITIES, 8)), 0);
	/* failures */
	STEP(CONFLICT(reg(F->c, KEY_A, KEY_B)), 0);
	STEP(CONFLICT(reg(F->a, KEY_B, KEY_B)), 0);
	STEP(CONFLICT(reserve(F->b, KEY_B, WERO)), 0);
	STEP(CONFLICT(preempt(F->a, KEY_A, 0x77, WERO)), 0);
	STEP(CHECK(preempt(F->a, KEY_A, 0, WERO), SK_ILLEGAL, 0x26, 0), 0);
	STEP(CHECK(release(F->a, KEY_A, WE), SK_ILLEGAL, 0x26, 0x04), 0);
	STEP(CHECK(reserve(F->a, KEY_A, 0x2), SK_ILLEGAL, 0x24, 0), 0);
	basic_list(p, 0, KEY_A, 0);
	STEP(CHECK(prout_list(F->c, SA_REGISTER, 0, p, 20),
		   SK_ILLEGAL, 0x1A, 0), 0);
	STEP(CHECK(prout(F->c, SA_REGISTER, 0, 0, KEY_A, F_APTPL),
		   SK_ILLEGAL, 0x26, 0), 0);
	STEP(CONFLICT(clear(F->c, 0)), 0);
	/* successful state changes */
	STEP(GOOD(preempt(F->a, KEY_A, KEY_D, WERO)), 1);
	EXPECT_UAS(F->d, UA_REG_PREEMPTED);
	STEP(GOOD(reg(F->d, 0, KEY_D)), 1);
	STEP(GOOD(preempt_abort(F->a, KEY_A, KEY_D, WERO)), 1);
	EXPECT_UAS(F->d, UA_REG_PREEMPTED);
	STEP(GOOD(reg_move(F->a, WERO, KEY_A, KEY_D, false, NAME_D, 1)), 1);
	STEP(GOOD(release(F->d, KEY_D, WERO)), 0);
	EXPECT_UAS(F->a, UA_RES_RELEASED);
	EXPECT_UAS(F->b, UA_RES_RELEASED);
	STEP(GOOD(clear(F->a, KEY_A)), 1);
	STEP(GOOD(reg(F->a, 0, 0)), 1);
#undef STEP
	EXPECT_UAS(F->b, UA_RES_PREEMPTED);
	EXPECT_UAS(F->d, UA_RES_PREEMPTED);
}

/* =========================================================================
 * 5. Unit attentions
 * ======================================================================= */

static void test_ua_reporting(void **state)
{
	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reserve(F->a, KEY_A, WERO));
	GOOD(release(F->a, KEY_A, WERO));
	/* INQUIRY and REPORT LUNS neither report nor clear it */
	GOOD(inquiry(F->b));
	GOOD(report_luns(F->b));
	/* any other command reports it, once */
	CHECK(tur(F->b), SK_UA, 0x2A, 0x04);
	GOOD(tur(F->b));

	/* REQUEST SENSE returns it as data and clears it */
	GOOD(reserve(F->a, KEY_A, EARO));
	GOOD(release(F->a, KEY_A, EARO));
	GOOD(request_sense(F->b));
	assert_true(g_cmd.data_in_len >= 14);
	assert_int_equal(g_in[0] & 0x7f, 0x70);
	assert_int_equal(g_in[2] & 0x0f, SK_UA);
	assert_int_equal(g_in[12], 0x2A);
	assert_int_equal(g_in[13], 0x04);
	EXPECT_NO_UA(F->b);
	/* nothing pending: NO SENSE */
	GOOD(request_sense(F->b));
	assert_true(g_cmd.data_in_len >= 14);
	assert_int_equal(g_in[2] & 0x0f, SK_NO_SENSE);
	assert_int_equal(g_in[12], 0);
	/* never to the releasing nexus nor to non-registrants */
	EXPECT_NO_UA(F->a);
	EXPECT_NO_UA(F->c);
	EXPECT_NO_UA(F->a2);
}

static void test_ua_power_on(void **state)
{
	(void)state;
	/* every nexus identity gets 29/00 exactly once */
	CHECK(prin(F->a, SA_READ_KEYS, 8), SK_UA, 0x29, 0x00);
	GOOD(prin(F->a, SA_READ_KEYS, 8));
	/* INQUIRY does not consume it */
	GOOD(inquiry(F->b));
	CHECK(tur(F->b), SK_UA, 0x29, 0x00);
	GOOD(tur(F->b));
	/* per I_T nexus: a2 (same port name, other target port) has its own */
	EXPECT_UAS(F->a2, UA_POWER_ON);
	/* a PR OUT is also held back by a pending UA and not executed */
	CHECK(reg(F->d, 0, KEY_D), SK_UA, 0x29, 0x00);
	assert_int_equal(prpath_lu_registrations(F->lu), 0);
	GOOD(reg(F->d, 0, KEY_D));
}

/* =========================================================================
 * 6. Registrations survive nexus loss
 * ======================================================================= */

static void test_nexus_loss(void **state)
{
	struct prpath_nexus *other;

	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reserve(F->a, KEY_A, WERO));
	nx_close(&F->a);
	F->a = nx_open(NAME_A, 1);
	EXPECT_RESV(KEY_A, WERO);
	assert_int_equal(nregs(), 1);
	GOOD(reserve(F->a, KEY_A, WERO));          /* still the holder */
	/* another ISID of the same iqn is another initiator port */
	other = nx_open(NAME_A_ISID2, 1);
	CONFLICT(reserve(other, KEY_A, WERO));
	CONFLICT(reg(other, KEY_A, KEY_A));
	prpath_lu_nexus_close(other);
	/* the same port name through the other target port too */
	CONFLICT(reg(F->a2, KEY_A, KEY_A));
	GOOD(release(F->a, KEY_A, WERO));
	EXPECT_NO_RESV();
}

/* =========================================================================
 * 7. SPC-2 RESERVE(6) / RELEASE(6) with CRH=1
 * ======================================================================= */

static void test_spc2_from_pr_holder(void **state)
{
	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	GOOD(reg(F->b, 0, KEY_B));
	GOOD(reserve(F->a, KEY_A, WERO));
	GOOD(reserve6(F->a));
	/* no SPC-2 reservation was made: others' PR commands still work */
	GOOD(prin(F->b, SA_READ_KEYS, 64));
	GOOD(reg(F->b, KEY_B, KEY_B));
	/* registered nexus with a registrants-only reservation: no effect */
	GOOD(reserve6(F->b));
	GOOD(reg(F->d, 0, KEY_D));
	GOOD(release6(F->a));
	EXPECT_RESV(KEY_A, WERO);
}

static void test_spc2_conflicts_with_registrations(void **state)
{
	(void)state;
	GOOD(reg(F->a, 0, KEY_A));
	CONFLICT(reserve6(F->c));
	CONFLICT(reserve6(F->a));
	GOOD(reg(F->a, KEY_A, 0));
	GOOD(reserve6(F->c));
	GOOD(release6(F->c));
}

static void test_spc2_blocks_pr(void **state)
{
	(void)state;
	GOOD(reserve6(F->c));
	CONFLICT(reg(F->b, 0, KEY_B));
	CONFLICT(reg_ign(F->b, 0, KEY_B));
	assert_int_equal(prpath_lu_registrations(F->lu), 0);
	GOOD(release6(F->c));
	GOOD(reg(F->b, 0, KEY_B));
}

static void test_spc2_dropped_on_close(void **state)
{
	(void)state;
	GOOD(reserve6(F->c));
	CONFLICT(reg(F->b, 0, KEY_B));
	nx_close(&F->c);
	GOOD(reg(F->b, 0, KEY_B));
}

static void test_spc2_dropped_on_reset(void **state)
{
	(void)state;
	GOOD(reserve6(F->c));
	CONFLICT(reg(F->b, 0, KEY_B));
	prpath_lu_reset(F->lu, false);
	EXPECT_UAS(F->b, UA_LU_RESET);
	GOOD(reg(F->b, 0, KEY_B));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* 1. conflicts */
		T(test_conflict_matrix),
		/* 2. PR OUT */
		T(test_register),
		T(test_register_unregister_holder),
		T(test_register_last_ar_registrant),
		T(test_register_and_ignore),
		T(test_reserve),
		T(test_reserve_ar_every_registrant_holds),
		T(test_release),
		T(test_release_ua_by_type),
		T(test_clear),
		T(test_preempt_ar_sark_zero),
		T(test_preempt_ar_sark_nonzero),
		T(test_preempt_holder_key),
		T(test_preempt_other_key),
		T(test_preempt_errors),
		T(test_preempt_self),
		T(test_preempt_and_abort),
		T(test_register_and_move),
		T(test_register_and_move_unreg),
		T(test_register_and_move_errors),
		T(test_replace_lost_reservation_unsupported),
		cmocka_unit_test_setup_teardown(
			test_replace_lost_reservation_consistent, setup_rlr,
			teardown),
		T(test_param_list_length),
		T(test_spec_i_pt_on_other_sa),
		T(test_spec_i_pt_register),
		T(test_spec_i_pt_all_or_nothing),
		T(test_spec_i_pt_from_registered),
		T(test_all_tg_pt),
		T(test_aptpl_unsupported),
		cmocka_unit_test_setup_teardown(test_aptpl_supported,
						setup_aptpl, teardown),
		T(test_prout_unknown_sa),
		T(test_unregistered_nexus_prout),
		/* 3. PR IN */
		T(test_read_keys),
		T(test_read_reservation),
		T(test_report_capabilities),
		T(test_read_full_status),
		T(test_prin_unknown_sa),
		/* 4. PRgeneration */
		T(test_generation),
		/* 5. unit attentions */
		T(test_ua_reporting),
		cmocka_unit_test_setup_teardown(test_ua_power_on,
						setup_power_on, teardown),
		/* 6. nexus loss */
		T(test_nexus_loss),
		/* 7. SPC-2 */
		T(test_spc2_from_pr_holder),
		T(test_spc2_conflicts_with_registrations),
		T(test_spc2_blocks_pr),
		T(test_spc2_dropped_on_close),
		T(test_spc2_dropped_on_reset),
	};

	return cmocka_run_group_tests_name("pr_conformance", tests, NULL, NULL);
}
