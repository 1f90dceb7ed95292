// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device server under concurrency and at its limits.
 *
 *  1. A seeded random mix of PR OUT / PR IN / block / always-allowed
 *     commands from 8 threads x 3 nexuses, plus a thread that opens and
 *     closes nexuses and aborts task sets. Every PR IN answer is checked
 *     for internal consistency, and answers carrying the same PRgeneration
 *     must describe the same registrations (a generation cache shared by
 *     all threads). At the end the internal state is checked directly.
 *  2. PREEMPT AND ABORT: once the PR OUT has returned GOOD, no write of
 *     the preempted host lands (50 random rounds, plus one deterministic
 *     case with an admitted write held in the block layer).
 *  3. Registration resources (max_registrations): 05/55/04, all or nothing.
 *  4. PRgeneration wraps from 0xFFFFFFFF to 0.
 *  5. Short CDBs and short data-out: CHECK CONDITION, no state change.
 *
 * The random seed is printed; PRPATH_STRESS_SEED=<n> replays a run.
 * Worker threads never call cmocka assertions (they longjmp): they record
 * the first failure, which the main thread reports and asserts on.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <prpath/lu.h>
#include <prpath/scsi.h>

#include "ds/ds_int.h"
#include "util/crc32c.h"

/* ---- constants (SAM-5 / SPC-4 / SBC-3), written out by hand -------------- */

#define ST_GOOD 0x00
#define ST_CHECK 0x02
#define ST_CONFLICT 0x18

#define SK_NO_SENSE 0x0
#define SK_ILLEGAL 0x5
#define SK_UA 0x6

#define OP_TUR 0x00
#define OP_REQUEST_SENSE 0x03
#define OP_READ10 0x28
#define OP_WRITE10 0x2A
#define OP_WRITE16 0x8A
#define OP_PR_IN 0x5E
#define OP_PR_OUT 0x5F

#define SA_REGISTER 0x00
#define SA_RESERVE 0x01
#define SA_RELEASE 0x02
#define SA_CLEAR 0x03
#define SA_PREEMPT 0x04
#define SA_PREEMPT_ABORT 0x05
#define SA_REGISTER_IGNORE 0x06

#define SA_READ_KEYS 0x00
#define SA_READ_RESERVATION 0x01
#define SA_READ_FULL_STATUS 0x03

#define WE 0x1
#define EA 0x3
#define WERO 0x5
#define EARO 0x6
#define WEAR 0x7
#define EAAR 0x8

#define F_ALL_TG_PT 0x04

#define BS 512u

static const uint16_t tgt_ports[] = { 1, 2 };

/* ---- byte helpers ------------------------------------------------------- */

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

static bool type_valid(unsigned t)
{
	return t == WE || t == EA || t == WERO || t == EARO || t == WEAR || t == EAAR;
}

static bool type_ar(unsigned t)
{
	return t == WEAR || t == EAAR;
}

/* ---- CDBs --------------------------------------------------------------- */

static void cdb_prout(uint8_t cdb[10], uint8_t sa, uint8_t type, uint32_t plen)
{
	memset(cdb, 0, 10);
	cdb[0] = OP_PR_OUT;
	cdb[1] = sa;
	cdb[2] = type; /* scope 0 (LU) */
	put32(cdb + 5, plen);
}

static void cdb_prin(uint8_t cdb[10], uint8_t sa, uint16_t alloc)
{
	memset(cdb, 0, 10);
	cdb[0] = OP_PR_IN;
	cdb[1] = sa;
	put16(cdb + 7, alloc);
}

static void cdb_rw10(uint8_t cdb[10], uint8_t op, uint32_t lba, uint16_t n)
{
	memset(cdb, 0, 10);
	cdb[0] = op;
	put32(cdb + 2, lba);
	put16(cdb + 7, n);
}

static void param_basic(uint8_t p[24], uint64_t rk, uint64_t sark, uint8_t flags)
{
	memset(p, 0, 24);
	put64(p, rk);
	put64(p + 8, sark);
	p[20] = flags;
}

static void cmd_init(struct prpath_cmd *c, const uint8_t *cdb, size_t cdb_len,
		     const void *out, size_t out_len, void *in, size_t in_cap)
{
	memset(c, 0, sizeof(*c));
	c->cdb = cdb;
	c->cdb_len = cdb_len;
	c->data_out = out;
	c->data_out_len = out_len;
	c->data_in = in;
	c->data_in_cap = in_cap;
}

static unsigned sk(const struct prpath_cmd *c)
{
	return c->sense_len > 2 ? (c->sense[2] & 0x0f) : 0xff;
}

static unsigned asc(const struct prpath_cmd *c)
{
	return c->sense_len > 13 ? c->sense[12] : 0xff;
}

static unsigned ascq(const struct prpath_cmd *c)
{
	return c->sense_len > 13 ? c->sense[13] : 0xff;
}

/* ---- failures recorded by worker threads --------------------------------- */

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint nfail;
static char first_fail[512];

static void tfail(int line, const char *what, const char *ctx, const struct prpath_cmd *c)
{
	if (atomic_fetch_add(&nfail, 1) != 0)
		return;
	pthread_mutex_lock(&fail_lock);
	snprintf(first_fail, sizeof(first_fail),
		 "line %d: %s [%s] status %02x sense %x/%02x/%02x data_in_len %zu",
		 line, what, ctx ? ctx : "", c ? c->status : 0xff,
		 c ? sk(c) : 0xff, c ? asc(c) : 0xff, c ? ascq(c) : 0xff,
		 c ? c->data_in_len : 0);
	pthread_mutex_unlock(&fail_lock);
}

#define TCHECK(cond, ctx, c)                                   \
	do {                                                   \
		if (!(cond))                                   \
			tfail(__LINE__, #cond, (ctx), (c));    \
	} while (0)

static void reset_failures(void)
{
	atomic_store(&nfail, 0);
	first_fail[0] = '\0';
}

static void assert_no_failures(void)
{
	unsigned n = atomic_load(&nfail);

	if (n)
		print_error("%u failure(s) in worker threads; first: %s\n", n, first_fail);
	assert_int_equal(n, 0);
}

/* ---- PRNG ------------------------------------------------------------------ */

static uint64_t rnd(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static unsigned rndn(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static uint64_t stress_seed(void)
{
	const char *e = getenv("PRPATH_STRESS_SEED");
	char *end = NULL;
	unsigned long long v;

	if (!e || !*e)
		return 0x5EEDC0FFEE5EEDull;
	errno = 0;
	v = strtoull(e, &end, 0);
	if (errno || !end || *end)
		return 0x5EEDC0FFEE5EEDull;
	return v;
}

/* ---- PR IN decoding and invariants ---------------------------------------- */

#define MAXK 64

struct keyset {
	uint32_t gen;
	size_t n;
	uint64_t k[MAXK];
};

static int key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool keyset_equal(const struct keyset *a, const struct keyset *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->k[i] != b->k[i])
			return false;
	return true;
}

static bool keyset_has(const struct keyset *a, uint64_t key)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->k[i] == key)
			return true;
	return false;
}

/* Keys the mix uses: small set, so that PREEMPT finds victims. */
static const uint64_t mix_keys[] = {
	0x1111000000000001ull, 0x2222000000000002ull,
	0x3333000000000003ull, 0x4444000000000004ull,
	0x5555000000000005ull,
};
#define NMIX_KEYS (sizeof(mix_keys) / sizeof(mix_keys[0]))

static bool mix_key(uint64_t k)
{
	for (size_t i = 0; i < NMIX_KEYS; i++)
		if (mix_keys[i] == k)
			return true;
	return false;
}

/* Registrations seen for a PRgeneration, shared by every thread: two PR IN
 * answers with the same generation must show the same set of keys. */
#define GCACHE 1024
struct gentry {
	bool valid;
	uint32_t gen;
	struct keyset ks;
};
static struct gentry *gcache;
static pthread_mutex_t gcache_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong gcache_hits;

/* @ks sorted. Returns false on a mismatch with an earlier answer. */
static bool gcache_check(const struct keyset *ks)
{
	struct gentry *e;
	bool ok = true;

	if (!gcache)
		return true;
	pthread_mutex_lock(&gcache_lock);
	e = &gcache[ks->gen % GCACHE];
	if (e->valid && e->gen == ks->gen) {
		ok = keyset_equal(&e->ks, ks);
		atomic_fetch_add(&gcache_hits, 1);
	} else {
		e->valid = true;
		e->gen = ks->gen;
		e->ks = *ks;
	}
	pthread_mutex_unlock(&gcache_lock);
	return ok;
}

/* The registered key set for @gen if some answer recorded it. */
static bool gcache_get(uint32_t gen, struct keyset *out)
{
	bool found = false;

	if (!gcache)
		return false;
	pthread_mutex_lock(&gcache_lock);
	if (gcache[gen % GCACHE].valid && gcache[gen % GCACHE].gen == gen) {
		*out = gcache[gen % GCACHE].ks;
		found = true;
	}
	pthread_mutex_unlock(&gcache_lock);
	return found;
}

/* READ KEYS data. false (and a recorded failure) when malformed. */
static bool parse_keys(const struct prpath_cmd *c, const uint8_t *d, struct keyset *ks,
		       const char *ctx)
{
	uint32_t addlen;

	memset(ks, 0, sizeof(*ks));
	if (c->data_in_len < 8) {
		tfail(__LINE__, "READ KEYS shorter than its header", ctx, c);
		return false;
	}
	ks->gen = get32(d);
	addlen = get32(d + 4);
	if (addlen % 8 != 0 || c->data_in_len != 8 + (size_t)addlen ||
	    addlen / 8 > MAXK) {
		tfail(__LINE__, "READ KEYS: ADDITIONAL LENGTH != 8 x keys", ctx, c);
		return false;
	}
	ks->n = addlen / 8;
	for (size_t i = 0; i < ks->n; i++) {
		ks->k[i] = get64(d + 8 + 8 * i);
		if (ks->k[i] == 0) {
			tfail(__LINE__, "READ KEYS: key 0 registered", ctx, c);
			return false;
		}
	}
	qsort(ks->k, ks->n, sizeof(ks->k[0]), key_cmp);
	return true;
}

struct full_status {
	struct keyset ks;
	size_t nholders;
	uint8_t holder_type;     /* 0 when no descriptor has R_HOLDER */
	uint64_t holder_key;     /* of the (first) holder descriptor */
};

/* READ FULL STATUS data, with its per-answer invariants. */
static bool parse_full_status(const struct prpath_cmd *c, const uint8_t *d,
			      struct full_status *fs, const char *ctx)
{
	uint32_t addlen;
	size_t off = 8, end;

	memset(fs, 0, sizeof(*fs));
	if (c->data_in_len < 8) {
		tfail(__LINE__, "READ FULL STATUS shorter than its header", ctx, c);
		return false;
	}
	fs->ks.gen = get32(d);
	addlen = get32(d + 4);
	end = 8 + (size_t)addlen;
	if (c->data_in_len != end) {
		tfail(__LINE__, "READ FULL STATUS: data length != 8 + ADDITIONAL LENGTH", ctx, c);
		return false;
	}
	while (off < end) {
		const uint8_t *p = d + off;
		uint32_t dl;
		uint8_t type;

		if (end - off < 24 || fs->ks.n >= MAXK) {
			tfail(__LINE__, "READ FULL STATUS: truncated descriptor", ctx, c);
			return false;
		}
		dl = get32(p + 20);
		if (dl < 24 || dl % 4 || dl > end - off - 24) {
			tfail(__LINE__, "READ FULL STATUS: bad ADDITIONAL DESCRIPTOR LENGTH", ctx, c);
			return false;
		}
		/* iSCSI TransportID, initiator port name format */
		if (p[24] != 0x45 || get16(p + 26) + 4u != dl) {
			tfail(__LINE__, "READ FULL STATUS: bad TransportID", ctx, c);
			return false;
		}
		if (get64(p) == 0 || (p[12] & ~0x03) || get16(p + 18) < 1 || get16(p + 18) > 2) {
			tfail(__LINE__, "READ FULL STATUS: bad descriptor fields", ctx, c);
			return false;
		}
		fs->ks.k[fs->ks.n++] = get64(p);
		type = p[13] & 0x0f;
		if (p[12] & 0x01) {
			if ((p[13] >> 4) != 0 || !type_valid(type)) {
				tfail(__LINE__, "READ FULL STATUS: holder with bad scope/type", ctx, c);
				return false;
			}
			if (fs->nholders && type != fs->holder_type) {
				tfail(__LINE__, "READ FULL STATUS: holders disagree on type", ctx, c);
				return false;
			}
			if (!fs->nholders) {
				fs->holder_type = type;
				fs->holder_key = get64(p);
			}
			fs->nholders++;
		}
		off += 24 + dl;
	}
	if (fs->nholders) {
		if (!type_ar(fs->holder_type) && fs->nholders != 1) {
			tfail(__LINE__, "READ FULL STATUS: more than one R_HOLDER for a non-AR type", ctx, c);
			return false;
		}
		if (type_ar(fs->holder_type) && fs->nholders != fs->ks.n) {
			tfail(__LINE__, "READ FULL STATUS: AR type but not every registrant holds", ctx, c);
			return false;
		}
	}
	qsort(fs->ks.k, fs->ks.n, sizeof(fs->ks.k[0]), key_cmp);
	return true;
}

struct resv {
	uint32_t gen;
	bool reserved;
	uint8_t type;
	uint64_t key;
};

static bool parse_resv(const struct prpath_cmd *c, const uint8_t *d, struct resv *r,
		       const char *ctx)
{
	uint32_t addlen;

	memset(r, 0, sizeof(*r));
	if (c->data_in_len < 8) {
		tfail(__LINE__, "READ RESERVATION shorter than its header", ctx, c);
		return false;
	}
	r->gen = get32(d);
	addlen = get32(d + 4);
	if ((addlen != 0 && addlen != 16) || c->data_in_len != 8 + (size_t)addlen) {
		tfail(__LINE__, "READ RESERVATION: bad ADDITIONAL LENGTH", ctx, c);
		return false;
	}
	if (!addlen)
		return true;
	r->reserved = true;
	r->key = get64(d + 8);
	r->type = d[21] & 0x0f;
	if ((d[21] >> 4) != 0 || !type_valid(r->type)) {
		tfail(__LINE__, "READ RESERVATION: bad scope/type", ctx, c);
		return false;
	}
	if (type_ar(r->type) ? r->key != 0 : r->key == 0) {
		tfail(__LINE__, "READ RESERVATION: key does not fit the type", ctx, c);
		return false;
	}
	return true;
}

/* ---- the random mix ----------------------------------------------------- */

#define NWORKERS 8
#define NX_PER_WORKER 3
#define TOTAL_CMDS 20000
#define MIX_BLOCKS 256u
#define OPENER_ISIDS 4

enum op {
	OP_REG_IGNORE, OP_RESERVE, OP_RELEASE, OP_PREEMPT, OP_PREEMPT_ABORT,
	OP_CLEAR, OP_READ, OP_WRITE, OP_KEYS_FULL, OP_RESV_KEYS, OP_TUR_,
	OP_SENSE, NOPS
};

static const char *const op_names[NOPS] = {
	"REGISTER AND IGNORE", "RESERVE", "RELEASE", "PREEMPT",
	"PREEMPT AND ABORT", "CLEAR", "READ(10)", "WRITE(10)",
	"READ KEYS+FULL STATUS", "READ RESERVATION+KEYS", "TEST UNIT READY",
	"REQUEST SENSE",
};

/* weights out of 1000 */
static const unsigned op_weight[NOPS] = {
	[OP_REG_IGNORE] = 130, [OP_RESERVE] = 80, [OP_RELEASE] = 70,
	[OP_PREEMPT] = 45, [OP_PREEMPT_ABORT] = 40, [OP_CLEAR] = 5,
	[OP_READ] = 120, [OP_WRITE] = 150, [OP_KEYS_FULL] = 120,
	[OP_RESV_KEYS] = 80, [OP_TUR_] = 30, [OP_SENSE] = 30,
};

struct stats {
	unsigned long good[NOPS], check[NOPS], conflict[NOPS], aborted[NOPS];
	unsigned long same_gen_pairs;
};

struct mix {
	struct prpath_lu *lu;
	atomic_int running;       /* workers still running */
	uint64_t seed;
};

struct worker {
	struct mix *m;
	unsigned idx;
	uint64_t rng;
	unsigned iters;
	struct prpath_nexus *nx[NX_PER_WORKER];
	uint64_t key[NX_PER_WORKER];   /* key last registered through nx[j] */
	struct stats st;
	char ctx[96];
	uint8_t in[8192];
	uint8_t in2[8192];
	uint8_t out[4 * BS];
};

static const uint8_t mix_types[] = { WE, EA, WERO, EARO, WEAR, EAAR };

static void worker_name(char *buf, size_t cap, unsigned w, unsigned j)
{
	snprintf(buf, cap, "iqn.2026-11.test:stress-w%u,i,0x%012x", w, j + 1);
}

static uint16_t worker_rtp(unsigned j)
{
	return (uint16_t)(1 + (j & 1));
}

/* Executes, optionally after queueing it first (task set bookkeeping).
 * Returns the prpath_lu_execute() result. */
static int wexec(struct worker *w, struct prpath_nexus *nx, struct prpath_cmd *c)
{
	int rc;

	if (rndn(&w->rng, 4) == 0) {
		prpath_cmd_queue(nx, c);
		sched_yield();
	}
	rc = prpath_lu_execute(nx, c);
	TCHECK(rc == 0 || rc == PRPATH_LU_ABORTED, w->ctx, c);
	if (rc == 0)
		TCHECK(c->status == ST_GOOD || c->status == ST_CHECK ||
		       c->status == ST_CONFLICT, w->ctx, c);
	if (rc == 0 && c->status == ST_CHECK) {
		TCHECK(c->sense_len >= 14 && (c->sense[0] & 0x7f) == 0x70, w->ctx, c);
		TCHECK(sk(c) == SK_UA || sk(c) == SK_ILLEGAL, w->ctx, c);
		if (sk(c) == SK_UA)
			TCHECK((asc(c) == 0x2A && (ascq(c) == 0x03 || ascq(c) == 0x04 ||
						  ascq(c) == 0x05)) ||
			       (asc(c) == 0x2F && ascq(c) == 0x00), w->ctx, c);
	}
	return rc;
}

static void tally(struct worker *w, enum op op, int rc, const struct prpath_cmd *c)
{
	if (rc == PRPATH_LU_ABORTED)
		w->st.aborted[op]++;
	else if (c->status == ST_GOOD)
		w->st.good[op]++;
	else if (c->status == ST_CHECK)
		w->st.check[op]++;
	else
		w->st.conflict[op]++;
}

static bool is_ua(const struct prpath_cmd *c)
{
	return c->status == ST_CHECK && sk(c) == SK_UA;
}

static void mix_prout(struct worker *w, unsigned j, enum op op)
{
	struct prpath_nexus *nx = w->nx[j];
	struct prpath_cmd c;
	uint8_t cdb[10], p[24];
	uint64_t rk = rndn(&w->rng, 8) ? w->key[j] : mix_keys[rndn(&w->rng, NMIX_KEYS)];
	uint64_t sark = 0;
	uint8_t type = mix_types[rndn(&w->rng, sizeof(mix_types))];
	uint8_t sa;
	int rc;

	switch (op) {
	case OP_REG_IGNORE:
		sa = SA_REGISTER_IGNORE;
		/* mostly register / change key, sometimes unregister */
		sark = rndn(&w->rng, 6) ? mix_keys[rndn(&w->rng, NMIX_KEYS)] : 0;
		type = 0;
		break;
	case OP_RESERVE:
		sa = SA_RESERVE;
		break;
	case OP_RELEASE:
		sa = SA_RELEASE;
		break;
	case OP_PREEMPT:
	case OP_PREEMPT_ABORT:
		sa = op == OP_PREEMPT ? SA_PREEMPT : SA_PREEMPT_ABORT;
		sark = rndn(&w->rng, 5) ? mix_keys[rndn(&w->rng, NMIX_KEYS)] : 0;
		break;
	default:
		sa = SA_CLEAR;
		type = 0;
		break;
	}
	cdb_prout(cdb, sa, type, 24);
	param_basic(p, rk, sark, 0);
	cmd_init(&c, cdb, sizeof(cdb), p, sizeof(p), NULL, 0);
	rc = wexec(w, nx, &c);
	tally(w, op, rc, &c);
	if (rc)
		return;
	if (c.status == ST_CHECK && sk(&c) == SK_ILLEGAL)
		/* the only parameter errors this mix can provoke */
		TCHECK(asc(&c) == 0x26 && (ascq(&c) == 0x00 || ascq(&c) == 0x04), w->ctx, &c);
	if (c.status == ST_CHECK && sk(&c) == SK_ILLEGAL && ascq(&c) == 0x04)
		TCHECK(sa == SA_RELEASE, w->ctx, &c);
	if (c.status == ST_CHECK && sk(&c) == SK_ILLEGAL && ascq(&c) == 0x00)
		TCHECK((sa == SA_PREEMPT || sa == SA_PREEMPT_ABORT) && sark == 0, w->ctx, &c);
	/* REGISTER AND IGNORE never conflicts */
	if (sa == SA_REGISTER_IGNORE)
		TCHECK(c.status == ST_GOOD || is_ua(&c), w->ctx, &c);
	if (sa == SA_REGISTER_IGNORE && c.status == ST_GOOD)
		w->key[j] = sark;
	if (sa == SA_CLEAR && c.status == ST_GOOD)
		w->key[j] = 0;
}

static void mix_rw(struct worker *w, unsigned j, enum op op)
{
	struct prpath_cmd c;
	uint8_t cdb[10];
	uint16_t n = (uint16_t)(1 + rndn(&w->rng, 4));
	uint32_t lba = rndn(&w->rng, MIX_BLOCKS - n);
	int rc;

	if (op == OP_WRITE) {
		memset(w->out, (int)(0x10 + w->idx), (size_t)n * BS);
		cdb_rw10(cdb, OP_WRITE10, lba, n);
		cmd_init(&c, cdb, sizeof(cdb), w->out, (size_t)n * BS, NULL, 0);
	} else {
		cdb_rw10(cdb, OP_READ10, lba, n);
		cmd_init(&c, cdb, sizeof(cdb), NULL, 0, w->in, (size_t)n * BS);
	}
	rc = wexec(w, w->nx[j], &c);
	tally(w, op, rc, &c);
	if (rc)
		return;
	TCHECK(c.status != ST_CHECK || sk(&c) == SK_UA, w->ctx, &c);
	if (op == OP_READ && c.status == ST_GOOD)
		TCHECK(c.data_in_len == (size_t)n * BS, w->ctx, &c);
}

/* READ KEYS then READ FULL STATUS, back to back on one nexus. */
static void mix_keys_full(struct worker *w, unsigned j)
{
	struct prpath_cmd c, c2;
	uint8_t cdb[10], cdb2[10];
	struct keyset ks;
	struct full_status fs;
	int rc, rc2;

	cdb_prin(cdb, SA_READ_KEYS, 4096);
	cmd_init(&c, cdb, sizeof(cdb), NULL, 0, w->in, 4096);
	rc = wexec(w, w->nx[j], &c);
	tally(w, OP_KEYS_FULL, rc, &c);
	cdb_prin(cdb2, SA_READ_FULL_STATUS, 8192);
	cmd_init(&c2, cdb2, sizeof(cdb2), NULL, 0, w->in2, 8192);
	rc2 = wexec(w, w->nx[j], &c2);
	tally(w, OP_KEYS_FULL, rc2, &c2);

	if (rc == 0)
		TCHECK(c.status == ST_GOOD || is_ua(&c), w->ctx, &c);
	if (rc2 == 0)
		TCHECK(c2.status == ST_GOOD || is_ua(&c2), w->ctx, &c2);
	if (rc || c.status != ST_GOOD || !parse_keys(&c, w->in, &ks, w->ctx))
		ks.n = SIZE_MAX;
	else
		TCHECK(gcache_check(&ks), w->ctx, &c);
	if (rc2 || c2.status != ST_GOOD || !parse_full_status(&c2, w->in2, &fs, w->ctx))
		return;
	TCHECK(gcache_check(&fs.ks), w->ctx, &c2);
	if (ks.n != SIZE_MAX && ks.gen == fs.ks.gen) {
		w->st.same_gen_pairs++;
		TCHECK(ks.n == fs.ks.n, w->ctx, &c2);
		TCHECK(keyset_equal(&ks, &fs.ks), w->ctx, &c2);
	}
}

/* READ RESERVATION then READ KEYS: the holder's key is registered. */
static void mix_resv_keys(struct worker *w, unsigned j)
{
	struct prpath_cmd c, c2;
	uint8_t cdb[10], cdb2[10];
	struct keyset ks, cached;
	struct resv r;
	int rc, rc2;
	bool have_r;

	cdb_prin(cdb, SA_READ_RESERVATION, 64);
	cmd_init(&c, cdb, sizeof(cdb), NULL, 0, w->in, 64);
	rc = wexec(w, w->nx[j], &c);
	tally(w, OP_RESV_KEYS, rc, &c);
	if (rc == 0)
		TCHECK(c.status == ST_GOOD || is_ua(&c), w->ctx, &c);
	have_r = rc == 0 && c.status == ST_GOOD && parse_resv(&c, w->in, &r, w->ctx);
	if (have_r && r.reserved && !type_ar(r.type)) {
		TCHECK(mix_key(r.key), w->ctx, &c);
		if (gcache_get(r.gen, &cached))
			TCHECK(keyset_has(&cached, r.key), w->ctx, &c);
	}
	if (have_r && r.reserved && type_ar(r.type) && gcache_get(r.gen, &cached))
		TCHECK(cached.n > 0, w->ctx, &c);

	cdb_prin(cdb2, SA_READ_KEYS, 4096);
	cmd_init(&c2, cdb2, sizeof(cdb2), NULL, 0, w->in2, 4096);
	rc2 = wexec(w, w->nx[j], &c2);
	tally(w, OP_RESV_KEYS, rc2, &c2);
	if (rc2 == 0)
		TCHECK(c2.status == ST_GOOD || is_ua(&c2), w->ctx, &c2);
	if (rc2 || c2.status != ST_GOOD || !parse_keys(&c2, w->in2, &ks, w->ctx))
		return;
	TCHECK(gcache_check(&ks), w->ctx, &c2);
	if (have_r && r.reserved && r.gen == ks.gen) {
		w->st.same_gen_pairs++;
		if (type_ar(r.type))
			TCHECK(ks.n > 0, w->ctx, &c2);
		else
			TCHECK(keyset_has(&ks, r.key), w->ctx, &c2);
	}
}

static void mix_simple(struct worker *w, unsigned j, enum op op)
{
	struct prpath_cmd c;
	uint8_t cdb[6] = { 0 };
	int rc;

	if (op == OP_SENSE) {
		cdb[0] = OP_REQUEST_SENSE;
		cdb[4] = 18;
		cmd_init(&c, cdb, sizeof(cdb), NULL, 0, w->in, 18);
	} else {
		cdb[0] = OP_TUR;
		cmd_init(&c, cdb, sizeof(cdb), NULL, 0, NULL, 0);
	}
	rc = wexec(w, w->nx[j], &c);
	tally(w, op, rc, &c);
	if (rc)
		return;
	if (op == OP_TUR_) {
		TCHECK(c.status == ST_GOOD || is_ua(&c), w->ctx, &c);
		return;
	}
	/* REQUEST SENSE reports the UA in its data, GOOD status */
	TCHECK(c.status == ST_GOOD, w->ctx, &c);
	TCHECK(c.data_in_len == 18, w->ctx, &c);
	if (c.data_in_len == 18) {
		TCHECK((w->in[0] & 0x7f) == 0x70, w->ctx, &c);
		TCHECK((w->in[2] & 0x0f) == SK_NO_SENSE || (w->in[2] & 0x0f) == SK_UA, w->ctx, &c);
	}
}

static enum op pick_op(struct worker *w)
{
	unsigned r = rndn(&w->rng, 1000);

	for (unsigned i = 0; i < NOPS; i++) {
		if (r < op_weight[i])
			return (enum op)i;
		r -= op_weight[i];
	}
	return OP_TUR_;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (unsigned i = 0; i < w->iters; i++) {
		unsigned j = rndn(&w->rng, NX_PER_WORKER);
		enum op op = pick_op(w);

		snprintf(w->ctx, sizeof(w->ctx), "worker %u nexus %u iter %u %s",
			 w->idx, j, i, op_names[op]);
		switch (op) {
		case OP_REG_IGNORE:
		case OP_RESERVE:
		case OP_RELEASE:
		case OP_PREEMPT:
		case OP_PREEMPT_ABORT:
		case OP_CLEAR:
			mix_prout(w, j, op);
			break;
		case OP_READ:
		case OP_WRITE:
			mix_rw(w, j, op);
			break;
		case OP_KEYS_FULL:
			mix_keys_full(w, j);
			break;
		case OP_RESV_KEYS:
			mix_resv_keys(w, j);
			break;
		default:
			mix_simple(w, j, op);
			break;
		}
	}
	atomic_fetch_sub(&w->m->running, 1);
	return NULL;
}

/* Opens and closes nexuses (new identities and second handles of the
 * workers' identities) and aborts task sets under the workers' feet. */
static void *opener_main(void *arg)
{
	struct mix *m = arg;
	uint64_t rng = m->seed ^ 0x0FE7E4ull;
	unsigned long loops = 0;

	while (atomic_load(&m->running) > 0 && loops < 200000) {
		char name[PRPATH_PORT_NAME_MAX];
		struct prpath_nexus *nx = NULL;
		uint16_t rtp;
		unsigned what = rndn(&rng, 4);

		loops++;
		if (what < 3) {
			unsigned wi = rndn(&rng, NWORKERS), j = rndn(&rng, NX_PER_WORKER);

			worker_name(name, sizeof(name), wi, j);
			rtp = worker_rtp(j);
		} else {
			snprintf(name, sizeof(name), "iqn.2026-11.test:stress-opener,i,0x%012x",
				 1 + rndn(&rng, OPENER_ISIDS));
			rtp = (uint16_t)(1 + rndn(&rng, 2));
		}
		if (prpath_lu_nexus_open(m->lu, name, rtp, &nx) != 0 || !nx) {
			tfail(__LINE__, "nexus open failed", name, NULL);
			break;
		}
		if (what == 3 && rndn(&rng, 4) == 0) {
			/* a transient initiator that registers and leaves */
			struct prpath_cmd c;
			uint8_t cdb[10], p[24];
			int rc;

			cdb_prout(cdb, SA_REGISTER_IGNORE, 0, 24);
			param_basic(p, 0, mix_keys[rndn(&rng, NMIX_KEYS)], 0);
			cmd_init(&c, cdb, sizeof(cdb), p, sizeof(p), NULL, 0);
			rc = prpath_lu_execute(nx, &c);
			TCHECK(rc == 0 || rc == PRPATH_LU_ABORTED, "opener register", &c);
			if (rc == 0)
				TCHECK(c.status == ST_GOOD || is_ua(&c), "opener register", &c);
		}
		if (rndn(&rng, 2))
			prpath_lu_abort_task_set(nx);
		sched_yield();
		prpath_lu_nexus_close(nx);
	}
	return NULL;
}

/* Direct check of the internal state; all threads joined. */
static void check_internal_state(struct prpath_lu *lu, bool all_closed)
{
	size_t nitn = 0, nreg_seen = 0, nlist = 0;
	struct itn *prev = NULL;

	pthread_mutex_lock(&lu->lock);
	for (size_t i = 0; i < lu->hsize; i++) {
		for (struct itn *t = lu->htab[i]; t; t = t->hnext) {
			nitn++;
			if (t->registered)
				nreg_seen++;
			if (t->inflight || t->ntasks)
				print_error("itn %s/%u: inflight %u ntasks %u after join\n",
					    t->name, t->rtp, t->inflight, t->ntasks);
			assert_int_equal(t->inflight, 0);
			assert_int_equal(t->ntasks, 0);
			assert_true(t->nua <= DS_UA_MAX);
			assert_true(t->registered ? t->key != 0 : t->key == 0);
			if (all_closed) {
				assert_int_equal(t->nopen, 0);
				/* nothing keeps an unregistered identity alive
				 * but a pending unit attention */
				if (!t->registered && !t->nua)
					print_error("itn %s/%u leaked\n", t->name, t->rtp);
				assert_true(t->registered || t->nua);
			}
		}
	}
	assert_int_equal(nitn, lu->nitn);
	assert_int_equal(nreg_seen, lu->nreg);
	for (struct itn *t = lu->reg_head; t; t = t->rnext) {
		assert_true(t->registered);
		assert_ptr_equal(t->rprev, prev);
		prev = t;
		nlist++;
	}
	assert_ptr_equal(lu->reg_tail, prev);
	assert_int_equal(nlist, lu->nreg);
	if (lu->res_type == PRPATH_PR_TYPE_NONE) {
		assert_null(lu->holder);
	} else if (type_ar(lu->res_type)) {
		assert_null(lu->holder);
		assert_true(lu->nreg > 0);
	} else {
		assert_non_null(lu->holder);
		assert_true(lu->holder->registered);
	}
	pthread_mutex_unlock(&lu->lock);
}

static uint8_t run(struct prpath_nexus *nx, struct prpath_cmd *c, const uint8_t *cdb,
		   size_t cdb_len, const void *out, size_t out_len, void *in, size_t in_cap)
{
	cmd_init(c, cdb, cdb_len, out, out_len, in, in_cap);
	assert_int_equal(prpath_lu_execute(nx, c), 0);
	return c->status;
}

/* Sends TEST UNIT READY until GOOD (pending UAs drained). */
static void drain_ua(struct prpath_nexus *nx)
{
	uint8_t cdb[6] = { OP_TUR, 0, 0, 0, 0, 0 };
	struct prpath_cmd c;

	for (int i = 0; i <= DS_UA_MAX; i++) {
		if (run(nx, &c, cdb, sizeof(cdb), NULL, 0, NULL, 0) == ST_GOOD)
			return;
		assert_int_equal(c.status, ST_CHECK);
		assert_int_equal(sk(&c), SK_UA);
	}
	fail_msg("unit attentions never drained");
}

/* Quiescent state seen through PR IN agrees with itself. */
static void check_quiescent(struct prpath_lu *lu, struct prpath_nexus *obs)
{
	static uint8_t in[8192];
	struct prpath_cmd c;
	uint8_t cdb[10];
	struct keyset ks;
	struct full_status fs;
	struct resv r;

	cdb_prin(cdb, SA_READ_KEYS, 4096);
	assert_int_equal(run(obs, &c, cdb, sizeof(cdb), NULL, 0, in, 4096), ST_GOOD);
	assert_true(parse_keys(&c, in, &ks, "final"));
	assert_int_equal(ks.gen, prpath_lu_pr_generation(lu));
	assert_int_equal(ks.n, prpath_lu_registrations(lu));

	cdb_prin(cdb, SA_READ_FULL_STATUS, 8192);
	assert_int_equal(run(obs, &c, cdb, sizeof(cdb), NULL, 0, in, 8192), ST_GOOD);
	assert_true(parse_full_status(&c, in, &fs, "final"));
	assert_int_equal(fs.ks.gen, ks.gen);
	assert_true(keyset_equal(&fs.ks, &ks));

	cdb_prin(cdb, SA_READ_RESERVATION, 64);
	assert_int_equal(run(obs, &c, cdb, sizeof(cdb), NULL, 0, in, 64), ST_GOOD);
	assert_true(parse_resv(&c, in, &r, "final"));
	assert_int_equal(r.gen, ks.gen);
	if (!r.reserved) {
		assert_int_equal(fs.nholders, 0);
		return;
	}
	assert_int_equal(fs.holder_type, r.type);
	if (type_ar(r.type)) {
		assert_true(ks.n > 0);
		assert_int_equal(fs.nholders, ks.n);
	} else {
		assert_int_equal(fs.nholders, 1);
		assert_true(fs.holder_key == r.key);
		assert_true(keyset_has(&ks, r.key));
	}
}

static void test_concurrent_mix(void **state)
{
	struct prpath_lu_config cfg;
	struct mix m;
	struct worker *w;
	pthread_t th[NWORKERS], opener;
	struct stats tot;
	struct prpath_nexus *obs = NULL;
	struct prpath_cmd c;
	uint8_t cdb[10], p[24];
	const uint64_t obs_key = 0x0B5E0B5E0B5E0B5Eull;

	(void)state;
	reset_failures();
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = MIX_BLOCKS * BS;
	cfg.target_ports = tgt_ports;
	cfg.ntarget_ports = 2;
	memset(&m, 0, sizeof(m));
	m.seed = stress_seed();
	print_message("seed 0x%llx (PRPATH_STRESS_SEED replays)\n", (unsigned long long)m.seed);
	assert_int_equal(prpath_lu_new(&cfg, &m.lu), 0);
	gcache = calloc(GCACHE, sizeof(*gcache));
	assert_non_null(gcache);
	atomic_store(&gcache_hits, 0);

	w = calloc(NWORKERS, sizeof(*w));
	assert_non_null(w);
	atomic_store(&m.running, NWORKERS);
	for (unsigned i = 0; i < NWORKERS; i++) {
		w[i].m = &m;
		w[i].idx = i;
		w[i].rng = m.seed * 1000003u + i;
		w[i].iters = TOTAL_CMDS / NWORKERS / 2; /* PR IN ops send two commands */
		for (unsigned j = 0; j < NX_PER_WORKER; j++) {
			char name[PRPATH_PORT_NAME_MAX];

			worker_name(name, sizeof(name), i, j);
			assert_int_equal(prpath_lu_nexus_open(m.lu, name, worker_rtp(j),
							      &w[i].nx[j]), 0);
		}
	}
	for (unsigned i = 0; i < NWORKERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	assert_int_equal(pthread_create(&opener, NULL, opener_main, &m), 0);
	for (unsigned i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);
	pthread_join(opener, NULL);
	assert_no_failures();

	memset(&tot, 0, sizeof(tot));
	for (unsigned i = 0; i < NWORKERS; i++) {
		for (unsigned o = 0; o < NOPS; o++) {
			tot.good[o] += w[i].st.good[o];
			tot.check[o] += w[i].st.check[o];
			tot.conflict[o] += w[i].st.conflict[o];
			tot.aborted[o] += w[i].st.aborted[o];
		}
		tot.same_gen_pairs += w[i].st.same_gen_pairs;
	}
	for (unsigned o = 0; o < NOPS; o++)
		print_message("%-22s good %5lu check %5lu conflict %5lu aborted %4lu\n",
			      op_names[o], tot.good[o], tot.check[o], tot.conflict[o],
			      tot.aborted[o]);
	print_message("same-generation pairs %lu, generation cache hits %lu, "
		      "final generation %u\n", tot.same_gen_pairs,
		      (unsigned long)atomic_load(&gcache_hits),
		      prpath_lu_pr_generation(m.lu));
	/* the mix really exercised the paths it claims to */
	assert_true(tot.good[OP_REG_IGNORE] > 100);
	assert_true(tot.good[OP_RESERVE] > 0);
	assert_true(tot.conflict[OP_RESERVE] > 0);
	assert_true(tot.good[OP_PREEMPT] + tot.good[OP_PREEMPT_ABORT] > 0);
	assert_true(tot.good[OP_WRITE] > 0 && tot.conflict[OP_WRITE] > 0);
	assert_true(tot.good[OP_READ] > 0);
	assert_true(tot.same_gen_pairs > 0);

	/* with every thread joined: the state is consistent */
	check_internal_state(m.lu, false);
	assert_int_equal(prpath_lu_nexus_open(m.lu, "iqn.2026-11.test:stress-obs,i,0x000000000001",
					      1, &obs), 0);
	check_quiescent(m.lu, obs);
	/* every worker nexus still works (no stuck task set) */
	for (unsigned i = 0; i < NWORKERS; i++)
		for (unsigned j = 0; j < NX_PER_WORKER; j++)
			drain_ua(w[i].nx[j]);
	check_internal_state(m.lu, false);

	/* the observer registers and CLEARs: nothing is left */
	cdb_prout(cdb, SA_REGISTER, 0, 24);
	param_basic(p, 0, obs_key, 0);
	assert_int_equal(run(obs, &c, cdb, sizeof(cdb), p, sizeof(p), NULL, 0), ST_GOOD);
	cdb_prout(cdb, SA_CLEAR, 0, 24);
	param_basic(p, obs_key, 0, 0);
	assert_int_equal(run(obs, &c, cdb, sizeof(cdb), p, sizeof(p), NULL, 0), ST_GOOD);
	assert_int_equal(prpath_lu_registrations(m.lu), 0);
	check_quiescent(m.lu, obs);

	for (unsigned i = 0; i < NWORKERS; i++)
		for (unsigned j = 0; j < NX_PER_WORKER; j++)
			prpath_lu_nexus_close(w[i].nx[j]);
	prpath_lu_nexus_close(obs);
	check_internal_state(m.lu, true);
	prpath_lu_free(m.lu);
	free(w);
	free(gcache);
	gcache = NULL;
}

/* ---- 2. PREEMPT AND ABORT fences every later write ------------------------ */

#define PA_ROUNDS 50
#define PA_BLOCKS 64u
#define PA_A_NEXUSES 4
#define PA_AFTER 3          /* commands each A thread sends after the preempt */
#define PAT_B 0xB5

static const uint64_t KEY_HA = 0xAAAA0000000000A1ull;
static const uint64_t KEY_HB = 0xBBBB0000000000B2ull;

struct pa {
	struct prpath_lu *lu;
	struct prpath_nexus *a[PA_A_NEXUSES], *b;
	atomic_int preempted;     /* B's PREEMPT AND ABORT returned GOOD */
	atomic_uint a_writes;
	uint64_t seed;
};

struct pa_thread {
	struct pa *pa;
	unsigned idx;
	/* commands queued after the preempt returned */
	unsigned after, after_conflict, after_aborted, after_ua;
	unsigned before_good, before_aborted;
	uint8_t buf[BS];
};

static void *pa_writer(void *arg)
{
	struct pa_thread *t = arg;
	struct pa *pa = t->pa;
	uint64_t rng = pa->seed + t->idx;
	unsigned lba = t->idx * (PA_BLOCKS / PA_A_NEXUSES);
	char ctx[64];

	memset(t->buf, 0xA0 + (int)t->idx, sizeof(t->buf));
	snprintf(ctx, sizeof(ctx), "host A writer %u", t->idx);
	for (unsigned long i = 0; i < 1000000 && t->after < PA_AFTER; i++) {
		struct prpath_cmd c;
		uint8_t cdb[10];
		bool after = atomic_load(&pa->preempted) != 0;
		int rc;

		cdb_rw10(cdb, OP_WRITE10, lba, 1);
		lba = (lba + 1) % PA_BLOCKS;
		cmd_init(&c, cdb, sizeof(cdb), t->buf, BS, NULL, 0);
		prpath_cmd_queue(pa->a[t->idx], &c);
		if (rndn(&rng, 2))
			sched_yield();
		rc = prpath_lu_execute(pa->a[t->idx], &c);
		TCHECK(rc == 0 || rc == PRPATH_LU_ABORTED, ctx, &c);
		if (!after) {
			if (rc == PRPATH_LU_ABORTED)
				t->before_aborted++;
			else if (c.status == ST_GOOD)
				t->before_good++;
			else
				/* fenced while queued: UA or conflict */
				TCHECK(c.status == ST_CONFLICT ||
				       (c.status == ST_CHECK && sk(&c) == SK_UA), ctx, &c);
			atomic_fetch_add(&pa->a_writes, 1);
			continue;
		}
		t->after++;
		if (rc == PRPATH_LU_ABORTED) {
			t->after_aborted++;
		} else if (c.status == ST_CONFLICT) {
			t->after_conflict++;
		} else if (c.status == ST_CHECK && sk(&c) == SK_UA) {
			TCHECK((asc(&c) == 0x2A && ascq(&c) == 0x05) ||
			       (asc(&c) == 0x2F && ascq(&c) == 0x00), ctx, &c);
			t->after_ua++;
		} else {
			tfail(__LINE__, "a write of the preempted host was accepted", ctx, &c);
		}
	}
	TCHECK(t->after == PA_AFTER, ctx, NULL);
	return NULL;
}

static uint8_t prout_basic(struct prpath_nexus *nx, struct prpath_cmd *c, uint8_t sa,
			   uint8_t type, uint64_t rk, uint64_t sark, uint8_t flags)
{
	uint8_t cdb[10], p[24];

	cdb_prout(cdb, sa, type, 24);
	param_basic(p, rk, sark, flags);
	return run(nx, c, cdb, sizeof(cdb), p, sizeof(p), NULL, 0);
}

static void test_preempt_abort_fences_writes(void **state)
{
	struct prpath_lu_config cfg;
	unsigned tot_before_aborted = 0, tot_after_aborted = 0, tot_after_ua = 0,
		 tot_after_conflict = 0, tot_before_good = 0;
	uint64_t seed = stress_seed();

	(void)state;
	reset_failures();
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = 2 * PA_BLOCKS * BS;
	cfg.target_ports = tgt_ports;
	cfg.ntarget_ports = 2;

	for (unsigned round = 0; round < PA_ROUNDS; round++) {
		struct pa pa;
		struct pa_thread th[PA_A_NEXUSES];
		pthread_t tid[PA_A_NEXUSES];
		struct prpath_cmd c;
		static uint8_t bufb[PA_BLOCKS * BS];
		static uint8_t rd[PA_BLOCKS * BS];
		uint8_t cdb[10];
		unsigned wait_for;
		uint64_t rng = seed + 77u * round;

		memset(&pa, 0, sizeof(pa));
		pa.seed = seed + round;
		assert_int_equal(prpath_lu_new(&cfg, &pa.lu), 0);
		for (unsigned i = 0; i < PA_A_NEXUSES; i++) {
			char name[PRPATH_PORT_NAME_MAX];

			snprintf(name, sizeof(name), "iqn.2026-11.test:host-a,i,0x%012x", i + 1);
			assert_int_equal(prpath_lu_nexus_open(pa.lu, name, (uint16_t)(1 + (i & 1)),
							      &pa.a[i]), 0);
			assert_int_equal(prout_basic(pa.a[i], &c, SA_REGISTER_IGNORE, 0, 0,
						     KEY_HA, 0), ST_GOOD);
		}
		assert_int_equal(prpath_lu_nexus_open(pa.lu,
						      "iqn.2026-11.test:host-b,i,0x000000000001",
						      2, &pa.b), 0);
		assert_int_equal(prout_basic(pa.a[0], &c, SA_RESERVE, WERO, KEY_HA, 0, 0), ST_GOOD);
		assert_int_equal(prout_basic(pa.b, &c, SA_REGISTER, 0, 0, KEY_HB, 0), ST_GOOD);

		memset(th, 0, sizeof(th));
		for (unsigned i = 0; i < PA_A_NEXUSES; i++) {
			th[i].pa = &pa;
			th[i].idx = i;
			assert_int_equal(pthread_create(&tid[i], NULL, pa_writer, &th[i]), 0);
		}
		/* let host A get going, a different amount each round */
		wait_for = 4 + rndn(&rng, 60);
		for (unsigned long spin = 0; atomic_load(&pa.a_writes) < wait_for &&
		     spin < 100000000ul; spin++)
			sched_yield();

		assert_int_equal(prout_basic(pa.b, &c, SA_PREEMPT_ABORT, WERO, KEY_HB, KEY_HA, 0),
				 ST_GOOD);
		atomic_store(&pa.preempted, 1);

		/* the new owner overwrites everything */
		memset(bufb, PAT_B, sizeof(bufb));
		for (unsigned lba = 0; lba < PA_BLOCKS; lba += 8) {
			cdb_rw10(cdb, OP_WRITE10, lba, 8);
			assert_int_equal(run(pa.b, &c, cdb, sizeof(cdb), bufb + lba * BS,
					     8 * BS, NULL, 0), ST_GOOD);
		}
		for (unsigned i = 0; i < PA_A_NEXUSES; i++)
			pthread_join(tid[i], NULL);
		assert_no_failures();

		cdb_rw10(cdb, OP_READ10, 0, PA_BLOCKS);
		memset(rd, 0, sizeof(rd));
		assert_int_equal(run(pa.b, &c, cdb, sizeof(cdb), NULL, 0, rd, sizeof(rd)), ST_GOOD);
		assert_int_equal(c.data_in_len, sizeof(rd));
		for (size_t off = 0; off < sizeof(rd); off++) {
			if (rd[off] != PAT_B)
				fail_msg("round %u: block %zu byte %zu is %02x: a write of the "
					 "preempted host landed after the takeover", round,
					 off / BS, off % BS, rd[off]);
		}
		/* host A is gone, host B holds WERO */
		assert_int_equal(prpath_lu_registrations(pa.lu), 1);
		pthread_mutex_lock(&pa.lu->lock);
		assert_ptr_equal(pa.lu->holder, pa.b->itn);
		assert_int_equal(pa.lu->res_type, WERO);
		pthread_mutex_unlock(&pa.lu->lock);
		check_internal_state(pa.lu, false);

		for (unsigned i = 0; i < PA_A_NEXUSES; i++) {
			tot_before_good += th[i].before_good;
			tot_before_aborted += th[i].before_aborted;
			tot_after_aborted += th[i].after_aborted;
			tot_after_ua += th[i].after_ua;
			tot_after_conflict += th[i].after_conflict;
			prpath_lu_nexus_close(pa.a[i]);
		}
		prpath_lu_nexus_close(pa.b);
		prpath_lu_free(pa.lu);
	}
	print_message("%u rounds: A writes good before %u, aborted before %u; after the "
		      "preempt: UA %u, conflict %u, aborted %u\n", PA_ROUNDS, tot_before_good,
		      tot_before_aborted, tot_after_ua, tot_after_conflict, tot_after_aborted);
	/* every A thread learnt of the preemption by a UA and then conflicts */
	assert_true(tot_after_ua > 0);
	assert_true(tot_after_conflict > 0);
}

/* ---- single-threaded cases ------------------------------------------------ */

struct lu1 {
	struct prpath_lu *lu;
	struct prpath_nexus *nx[8];
	struct prpath_nexus *obs;
};

static void lu1_open(struct lu1 *l, uint32_t max_reg)
{
	struct prpath_lu_config cfg;

	memset(l, 0, sizeof(*l));
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = 64 * BS;
	cfg.target_ports = tgt_ports;
	cfg.ntarget_ports = 2;
	cfg.max_registrations = max_reg;
	assert_int_equal(prpath_lu_new(&cfg, &l->lu), 0);
	for (unsigned i = 0; i < 8; i++) {
		char name[PRPATH_PORT_NAME_MAX];

		snprintf(name, sizeof(name), "iqn.2026-11.test:h%u,i,0x000000000001", i);
		assert_int_equal(prpath_lu_nexus_open(l->lu, name, 1, &l->nx[i]), 0);
	}
	assert_int_equal(prpath_lu_nexus_open(l->lu, "iqn.2026-11.test:obs,i,0x000000000001",
					      2, &l->obs), 0);
}

static void lu1_close(struct lu1 *l)
{
	for (unsigned i = 0; i < 8; i++)
		prpath_lu_nexus_close(l->nx[i]);
	prpath_lu_nexus_close(l->obs);
	prpath_lu_free(l->lu);
}

static void want_check(const struct prpath_cmd *c, unsigned key, unsigned a, unsigned q)
{
	if (c->status != ST_CHECK || sk(c) != key || asc(c) != a || ascq(c) != q)
		print_error("status %02x sense %x/%02x/%02x, want CHECK %x/%02x/%02x\n",
			    c->status, sk(c), asc(c), ascq(c), key, a, q);
	assert_int_equal(c->status, ST_CHECK);
	assert_true(c->sense_len >= 14);
	assert_int_equal(c->sense[0] & 0x7f, 0x70);
	assert_int_equal(sk(c), key);
	assert_int_equal(asc(c), a);
	assert_int_equal(ascq(c), q);
}

/* READ KEYS + READ FULL STATUS + READ RESERVATION of the observer,
 * bytes compared by the callers. */
struct snap {
	uint8_t keys[4096];
	size_t keys_len;
	uint8_t full[8192];
	size_t full_len;
	uint8_t resv[64];
	size_t resv_len;
};

static void take_snap(struct lu1 *l, struct snap *s)
{
	struct prpath_cmd c;
	uint8_t cdb[10];

	memset(s, 0, sizeof(*s));
	cdb_prin(cdb, SA_READ_KEYS, sizeof(s->keys));
	assert_int_equal(run(l->obs, &c, cdb, sizeof(cdb), NULL, 0, s->keys, sizeof(s->keys)),
			 ST_GOOD);
	s->keys_len = c.data_in_len;
	cdb_prin(cdb, SA_READ_FULL_STATUS, sizeof(s->full));
	assert_int_equal(run(l->obs, &c, cdb, sizeof(cdb), NULL, 0, s->full, sizeof(s->full)),
			 ST_GOOD);
	s->full_len = c.data_in_len;
	cdb_prin(cdb, SA_READ_RESERVATION, sizeof(s->resv));
	assert_int_equal(run(l->obs, &c, cdb, sizeof(cdb), NULL, 0, s->resv, sizeof(s->resv)),
			 ST_GOOD);
	s->resv_len = c.data_in_len;
}

static void assert_snap_equal(const struct snap *a, const struct snap *b)
{
	assert_int_equal(a->keys_len, b->keys_len);
	assert_memory_equal(a->keys, b->keys, a->keys_len);
	assert_int_equal(a->full_len, b->full_len);
	assert_memory_equal(a->full, b->full, a->full_len);
	assert_int_equal(a->resv_len, b->resv_len);
	assert_memory_equal(a->resv, b->resv, a->resv_len);
}

/* The same property made deterministic (white box): a write of host A is
 * admitted and then held inside the block layer (the test holds the data
 * lock). B's PREEMPT AND ABORT must not complete while that write is in
 * flight; once released, the write lands before the preempt returns, and
 * B's writes after it are what stays. The 50 random rounds above rarely
 * catch an admitted write that is still copying, this catches it always. */
struct held {
	struct prpath_nexus *nx;
	struct prpath_cmd c;
	uint8_t cdb[10];
	uint8_t p[24];
	uint8_t buf[8 * BS];
	int rc;
	atomic_int done;
};

static void *held_exec(void *arg)
{
	struct held *h = arg;

	h->rc = prpath_lu_execute(h->nx, &h->c);
	atomic_store(&h->done, 1);
	return NULL;
}

static void test_preempt_abort_waits_for_admitted_write(void **state)
{
	struct prpath_lu_config cfg;
	struct prpath_lu *lu = NULL;
	struct prpath_nexus *a = NULL, *b = NULL;
	struct held wa, pb;
	pthread_t ta, tb;
	struct prpath_cmd c;
	uint8_t cdb[10];
	static uint8_t rd[8 * BS], wb[8 * BS];
	unsigned inflight = 0;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = 64 * BS;
	cfg.target_ports = tgt_ports;
	cfg.ntarget_ports = 2;
	assert_int_equal(prpath_lu_new(&cfg, &lu), 0);
	assert_int_equal(prpath_lu_nexus_open(lu, "iqn.2026-11.test:host-a,i,0x000000000001",
					      1, &a), 0);
	assert_int_equal(prpath_lu_nexus_open(lu, "iqn.2026-11.test:host-b,i,0x000000000001",
					      2, &b), 0);
	assert_int_equal(prout_basic(a, &c, SA_REGISTER, 0, 0, KEY_HA, 0), ST_GOOD);
	assert_int_equal(prout_basic(a, &c, SA_RESERVE, WERO, KEY_HA, 0, 0), ST_GOOD);
	assert_int_equal(prout_basic(b, &c, SA_REGISTER, 0, 0, KEY_HB, 0), ST_GOOD);

	/* A's 8-block write: admitted, then stuck on the data lock */
	memset(&wa, 0, sizeof(wa));
	wa.nx = a;
	memset(wa.buf, 0xA1, sizeof(wa.buf));
	cdb_rw10(wa.cdb, OP_WRITE10, 0, 8);
	cmd_init(&wa.c, wa.cdb, sizeof(wa.cdb), wa.buf, sizeof(wa.buf), NULL, 0);
	assert_int_equal(pthread_rwlock_wrlock(&lu->data_lock), 0);
	assert_int_equal(pthread_create(&ta, NULL, held_exec, &wa), 0);
	for (unsigned long spin = 0; spin < 20000000ul && !inflight; spin++) {
		pthread_mutex_lock(&lu->lock);
		inflight = a->itn->inflight;
		pthread_mutex_unlock(&lu->lock);
		if (!inflight)
			sched_yield();
	}
	if (!inflight) {
		pthread_rwlock_unlock(&lu->data_lock);
		pthread_join(ta, NULL);
		fail_msg("host A's write was never admitted");
	}

	/* B preempts A while that write is in flight */
	memset(&pb, 0, sizeof(pb));
	pb.nx = b;
	cdb_prout(pb.cdb, SA_PREEMPT_ABORT, WERO, 24);
	param_basic(pb.p, KEY_HB, KEY_HA, 0);
	cmd_init(&pb.c, pb.cdb, sizeof(pb.cdb), pb.p, sizeof(pb.p), NULL, 0);
	assert_int_equal(pthread_create(&tb, NULL, held_exec, &pb), 0);
	/* give the preempt ample time to (wrongly) complete: it must wait */
	for (int i = 0; i < 100 && !atomic_load(&pb.done); i++) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
	{
		bool early = atomic_load(&pb.done) != 0;

		pthread_rwlock_unlock(&lu->data_lock);
		pthread_join(tb, NULL);
		pthread_join(ta, NULL);
		if (early)
			fail_msg("PREEMPT AND ABORT completed while a write of the preempted "
				 "nexus was still in flight");
	}
	assert_int_equal(pb.rc, 0);
	assert_int_equal(pb.c.status, ST_GOOD);
	/* the held write: it was admitted, so it completed or was reported
	 * aborted (TAS=0), but it landed before the takeover completed */
	assert_true(wa.rc == 0 || wa.rc == PRPATH_LU_ABORTED);
	if (wa.rc == 0)
		assert_int_equal(wa.c.status, ST_GOOD);
	cdb_rw10(cdb, OP_READ10, 0, 8);
	assert_int_equal(run(b, &c, cdb, sizeof(cdb), NULL, 0, rd, sizeof(rd)), ST_GOOD);
	assert_memory_equal(rd, wa.buf, sizeof(rd));
	/* B's write after the takeover is the one that stays */
	memset(wb, PAT_B, sizeof(wb));
	cdb_rw10(cdb, OP_WRITE10, 0, 8);
	assert_int_equal(run(b, &c, cdb, sizeof(cdb), wb, sizeof(wb), NULL, 0), ST_GOOD);
	cdb_rw10(cdb, OP_READ10, 0, 8);
	assert_int_equal(run(b, &c, cdb, sizeof(cdb), NULL, 0, rd, sizeof(rd)), ST_GOOD);
	assert_memory_equal(rd, wb, sizeof(rd));
	/* A: 2A/05 (and 2F/00 only if a task was still queued), then conflict */
	cdb_rw10(cdb, OP_WRITE10, 0, 8);
	run(a, &c, cdb, sizeof(cdb), wa.buf, sizeof(wa.buf), NULL, 0);
	want_check(&c, SK_UA, 0x2A, 0x05);
	for (int i = 0; i < 2 && c.status == ST_CHECK; i++)
		run(a, &c, cdb, sizeof(cdb), wa.buf, sizeof(wa.buf), NULL, 0);
	assert_int_equal(c.status, ST_CONFLICT);
	check_internal_state(lu, false);
	prpath_lu_nexus_close(a);
	prpath_lu_nexus_close(b);
	prpath_lu_free(lu);
}

/* ---- 3. registration resources ------------------------------------------- */

#define KEY(i) (0x1000000000000000ull + (uint64_t)(i))

static void test_registration_resources(void **state)
{
	struct lu1 l;
	struct snap before, after;
	struct prpath_cmd c;
	struct keyset ks;
	struct full_status fs;
	uint8_t cdb[10];
	static uint8_t in[8192];

	(void)state;
	lu1_open(&l, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(prout_basic(l.nx[i], &c, SA_REGISTER, 0, 0, KEY(i), 0), ST_GOOD);
	assert_int_equal(prout_basic(l.nx[0], &c, SA_RESERVE, WERO, KEY(0), 0, 0), ST_GOOD);
	take_snap(&l, &before);
	assert_int_equal(get32(before.keys), 4);
	assert_int_equal(get32(before.keys + 4), 32);

	/* the fifth registration, by REGISTER and by REGISTER AND IGNORE */
	prout_basic(l.nx[4], &c, SA_REGISTER, 0, 0, KEY(4), 0);
	want_check(&c, SK_ILLEGAL, 0x55, 0x04);
	prout_basic(l.nx[4], &c, SA_REGISTER_IGNORE, 0, 0, KEY(4), 0);
	want_check(&c, SK_ILLEGAL, 0x55, 0x04);
	prout_basic(l.nx[5], &c, SA_REGISTER, 0, 0, KEY(5), F_ALL_TG_PT);
	want_check(&c, SK_ILLEGAL, 0x55, 0x04);
	take_snap(&l, &after);
	assert_snap_equal(&before, &after);
	assert_int_equal(prpath_lu_registrations(l.lu), 4);
	/* still unregistered: its RESERVE conflicts, its write too (WERO) */
	assert_int_equal(prout_basic(l.nx[4], &c, SA_RESERVE, WERO, KEY(4), 0, 0), ST_CONFLICT);

	/* a registered nexus may still change its key at the limit */
	assert_int_equal(prout_basic(l.nx[3], &c, SA_REGISTER, 0, KEY(3), KEY(13), 0), ST_GOOD);
	assert_int_equal(prpath_lu_pr_generation(l.lu), get32(before.keys) + 1);

	/* unregister two: 2 left. ALL_TG_PT on a 2-port LU needs 2 more:
	 * fits exactly. Before that, with 3 left, it must fail whole. */
	assert_int_equal(prout_basic(l.nx[3], &c, SA_REGISTER, 0, KEY(13), 0, 0), ST_GOOD);
	take_snap(&l, &before);
	prout_basic(l.nx[6], &c, SA_REGISTER_IGNORE, 0, 0, KEY(6), F_ALL_TG_PT);
	want_check(&c, SK_ILLEGAL, 0x55, 0x04);
	take_snap(&l, &after);
	assert_snap_equal(&before, &after);
	assert_int_equal(prpath_lu_registrations(l.lu), 3);
	/* neither port of h6 got registered: RESERVE through port 1 conflicts */
	assert_int_equal(prout_basic(l.nx[6], &c, SA_RESERVE, WERO, KEY(6), 0, 0), ST_CONFLICT);

	assert_int_equal(prout_basic(l.nx[2], &c, SA_REGISTER, 0, KEY(2), 0, 0), ST_GOOD);
	assert_int_equal(prout_basic(l.nx[6], &c, SA_REGISTER_IGNORE, 0, 0, KEY(6), F_ALL_TG_PT),
			 ST_GOOD);
	assert_int_equal(prpath_lu_registrations(l.lu), 4);
	cdb_prin(cdb, SA_READ_FULL_STATUS, sizeof(in));
	assert_int_equal(run(l.obs, &c, cdb, sizeof(cdb), NULL, 0, in, sizeof(in)), ST_GOOD);
	reset_failures();
	assert_true(parse_full_status(&c, in, &fs, "resources"));
	assert_no_failures();
	assert_int_equal(fs.ks.n, 4);
	{
		/* h6 on ports 1 and 2, both with ALL_TG_PT */
		size_t off = 8, end = 8 + get32(in + 4);
		unsigned ports = 0;

		while (off < end) {
			if (get64(in + off) == KEY(6)) {
				assert_int_equal(in[off + 12] & 0x02, 0x02);
				ports |= 1u << get16(in + off + 18);
			}
			off += 24 + get32(in + off + 20);
		}
		assert_int_equal(ports, 0x6);
	}
	/* and now the set is full again */
	prout_basic(l.nx[7], &c, SA_REGISTER, 0, 0, KEY(7), 0);
	want_check(&c, SK_ILLEGAL, 0x55, 0x04);
	cdb_prin(cdb, SA_READ_KEYS, 4096);
	assert_int_equal(run(l.obs, &c, cdb, sizeof(cdb), NULL, 0, in, 4096), ST_GOOD);
	reset_failures();
	assert_true(parse_keys(&c, in, &ks, "resources"));
	assert_int_equal(ks.n, 4);
	assert_false(keyset_has(&ks, KEY(7)));
	check_internal_state(l.lu, false);
	lu1_close(&l);
}

/* ---- 4. PRgeneration wraps ------------------------------------------------ */

static void set_generation(struct prpath_lu *lu, uint32_t gen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	uint32_t crc;

	pthread_mutex_lock(&lu->lock);
	assert_int_equal(ds_state_serialize(lu, &buf, &len), 0);
	assert_true(len >= 36);
	put32(buf + 20, gen);
	crc = crc32c(0, buf, 16);
	crc = crc32c(crc, buf + 20, len - 20);
	put32(buf + 16, crc);
	assert_int_equal(ds_state_restore(lu, buf, len), 0);
	pthread_mutex_unlock(&lu->lock);
	free(buf);
}

static uint32_t obs_gen(struct lu1 *l)
{
	struct prpath_cmd c;
	uint8_t cdb[10], in[64];

	cdb_prin(cdb, SA_READ_KEYS, sizeof(in));
	assert_int_equal(run(l->obs, &c, cdb, sizeof(cdb), NULL, 0, in, sizeof(in)), ST_GOOD);
	assert_true(c.data_in_len >= 8);
	return get32(in);
}

static void test_generation_wraps(void **state)
{
	struct lu1 l;
	struct prpath_cmd c;
	uint8_t cdb[10], in[64];

	(void)state;
	lu1_open(&l, 0);
	assert_int_equal(prout_basic(l.nx[0], &c, SA_REGISTER, 0, 0, KEY(0), 0), ST_GOOD);
	assert_int_equal(prout_basic(l.nx[0], &c, SA_RESERVE, WE, KEY(0), 0, 0), ST_GOOD);
	set_generation(l.lu, 0xFFFFFFFFu);
	assert_int_equal(obs_gen(&l), 0xFFFFFFFFu);
	assert_int_equal(prpath_lu_pr_generation(l.lu), 0xFFFFFFFFu);
	/* the restore kept registration and reservation */
	cdb_prin(cdb, SA_READ_RESERVATION, sizeof(in));
	assert_int_equal(run(l.obs, &c, cdb, sizeof(cdb), NULL, 0, in, sizeof(in)), ST_GOOD);
	assert_int_equal(c.data_in_len, 24);
	assert_int_equal(get32(in), 0xFFFFFFFFu);
	assert_true(get64(in + 8) == KEY(0));
	assert_int_equal(in[21], WE);

	/* a failed command and RESERVE/RELEASE leave it */
	assert_int_equal(prout_basic(l.nx[1], &c, SA_RESERVE, WE, KEY(1), 0, 0), ST_CONFLICT);
	assert_int_equal(prout_basic(l.nx[0], &c, SA_RELEASE, WE, KEY(0), 0, 0), ST_GOOD);
	assert_int_equal(obs_gen(&l), 0xFFFFFFFFu);

	/* one REGISTER: 0xFFFFFFFF + 1 = 0 */
	assert_int_equal(prout_basic(l.nx[1], &c, SA_REGISTER, 0, 0, KEY(1), 0), ST_GOOD);
	assert_int_equal(obs_gen(&l), 0);
	assert_int_equal(prpath_lu_pr_generation(l.lu), 0);
	assert_int_equal(prout_basic(l.nx[1], &c, SA_REGISTER, 0, KEY(1), KEY(11), 0), ST_GOOD);
	assert_int_equal(obs_gen(&l), 1);

	/* the same through REGISTER AND IGNORE and PREEMPT */
	set_generation(l.lu, 0xFFFFFFFFu);
	assert_int_equal(prout_basic(l.nx[2], &c, SA_REGISTER_IGNORE, 0, 0, KEY(2), 0), ST_GOOD);
	assert_int_equal(obs_gen(&l), 0);
	set_generation(l.lu, 0xFFFFFFFEu);
	assert_int_equal(prout_basic(l.nx[2], &c, SA_PREEMPT, WE, KEY(2), KEY(11), 0), ST_GOOD);
	assert_int_equal(obs_gen(&l), 0xFFFFFFFFu);
	assert_int_equal(prout_basic(l.nx[2], &c, SA_CLEAR, 0, KEY(2), 0, 0), ST_GOOD);
	assert_int_equal(obs_gen(&l), 0);
	lu1_close(&l);
}

/* ---- 5. malformed CDBs and short data-out ------------------------------- */

static void test_short_cdb_and_data(void **state)
{
	struct lu1 l;
	struct snap before, after;
	struct prpath_cmd c;
	uint8_t cdb[16], p[24], in[4 * BS], wr[4 * BS];
	uint32_t gen;

	(void)state;
	lu1_open(&l, 0);
	assert_int_equal(prout_basic(l.nx[0], &c, SA_REGISTER, 0, 0, KEY(0), 0), ST_GOOD);
	assert_int_equal(prout_basic(l.nx[1], &c, SA_REGISTER, 0, 0, KEY(1), 0), ST_GOOD);
	assert_int_equal(prout_basic(l.nx[0], &c, SA_RESERVE, WERO, KEY(0), 0, 0), ST_GOOD);
	memset(wr, 0x5A, sizeof(wr));
	cdb_rw10(cdb, OP_WRITE10, 0, 4);
	assert_int_equal(run(l.nx[0], &c, cdb, 10, wr, sizeof(wr), NULL, 0), ST_GOOD);
	take_snap(&l, &before);
	gen = prpath_lu_pr_generation(l.lu);

	/* PR OUT CLEAR and REGISTER with a 9-byte CDB (group 2: 10 bytes) */
	cdb_prout(cdb, SA_CLEAR, 0, 24);
	param_basic(p, KEY(0), 0, 0);
	run(l.nx[0], &c, cdb, 9, p, sizeof(p), NULL, 0);
	want_check(&c, SK_ILLEGAL, 0x24, 0x00);
	cdb_prout(cdb, SA_REGISTER, 0, 24);
	param_basic(p, 0, KEY(5), 0);
	run(l.nx[5], &c, cdb, 9, p, sizeof(p), NULL, 0);
	want_check(&c, SK_ILLEGAL, 0x24, 0x00);
	/* PR IN with 6 bytes */
	cdb_prin(cdb, SA_READ_KEYS, 64);
	run(l.nx[0], &c, cdb, 6, NULL, 0, in, 64);
	want_check(&c, SK_ILLEGAL, 0x24, 0x00);
	assert_int_equal(c.data_in_len, 0);
	/* WRITE(10) with 6 bytes, WRITE(16) with 10, READ(10) with 9 */
	memset(wr, 0xEE, sizeof(wr));
	cdb_rw10(cdb, OP_WRITE10, 0, 4);
	run(l.nx[0], &c, cdb, 6, wr, sizeof(wr), NULL, 0);
	want_check(&c, SK_ILLEGAL, 0x24, 0x00);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = OP_WRITE16;
	put32(cdb + 10, 4); /* lba 0, 4 blocks */
	run(l.nx[0], &c, cdb, 10, wr, sizeof(wr), NULL, 0);
	want_check(&c, SK_ILLEGAL, 0x24, 0x00);
	cdb_rw10(cdb, OP_READ10, 0, 4);
	run(l.nx[0], &c, cdb, 9, NULL, 0, in, sizeof(in));
	want_check(&c, SK_ILLEGAL, 0x24, 0x00);
	assert_int_equal(c.data_in_len, 0);

	/* length 0, with and without a CDB pointer */
	cdb_prout(cdb, SA_CLEAR, 0, 24);
	run(l.nx[0], &c, cdb, 0, p, sizeof(p), NULL, 0);
	want_check(&c, SK_ILLEGAL, 0x20, 0x00);
	run(l.nx[0], &c, NULL, 0, NULL, 0, NULL, 0);
	want_check(&c, SK_ILLEGAL, 0x20, 0x00);

	/* data-out shorter than the PARAMETER LIST LENGTH */
	cdb_prout(cdb, SA_REGISTER, 0, 24);
	param_basic(p, 0, KEY(5), 0);
	run(l.nx[5], &c, cdb, 10, p, 20, NULL, 0);
	want_check(&c, SK_ILLEGAL, 0x1A, 0x00);
	cdb_prout(cdb, SA_PREEMPT_ABORT, WERO, 24);
	param_basic(p, KEY(1), KEY(0), 0);
	run(l.nx[1], &c, cdb, 10, p, 23, NULL, 0);
	want_check(&c, SK_ILLEGAL, 0x1A, 0x00);
	run(l.nx[1], &c, cdb, 10, NULL, 0, NULL, 0);
	want_check(&c, SK_ILLEGAL, 0x1A, 0x00);
	cdb_prout(cdb, SA_CLEAR, 0, 24);
	param_basic(p, KEY(0), 0, 0);
	run(l.nx[0], &c, cdb, 10, p, 8, NULL, 0);
	want_check(&c, SK_ILLEGAL, 0x1A, 0x00);

	/* nothing changed: PR state, generation, data, and the nexuses
	 * still work (no task left behind) */
	take_snap(&l, &after);
	assert_snap_equal(&before, &after);
	assert_int_equal(prpath_lu_pr_generation(l.lu), gen);
	cdb_rw10(cdb, OP_READ10, 0, 4);
	assert_int_equal(run(l.nx[1], &c, cdb, 10, NULL, 0, in, sizeof(in)), ST_GOOD);
	memset(wr, 0x5A, sizeof(wr));
	assert_memory_equal(in, wr, sizeof(wr));
	check_internal_state(l.lu, false);
	/* the same PR OUT, well formed, works */
	cdb_prout(cdb, SA_PREEMPT_ABORT, WERO, 24);
	param_basic(p, KEY(1), KEY(0), 0);
	assert_int_equal(run(l.nx[1], &c, cdb, 10, p, sizeof(p), NULL, 0), ST_GOOD);
	assert_int_equal(prpath_lu_pr_generation(l.lu), gen + 1);
	lu1_close(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registration_resources),
		cmocka_unit_test(test_generation_wraps),
		cmocka_unit_test(test_short_cdb_and_data),
		cmocka_unit_test(test_preempt_abort_fences_writes),
		cmocka_unit_test(test_preempt_abort_waits_for_admitted_write),
		cmocka_unit_test(test_concurrent_mix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
