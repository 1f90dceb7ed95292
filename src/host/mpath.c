/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The multipath device: paths of one LU, path states, round-robin path
 * selection with failover, the path checker, and the open modes mapped
 * onto persistent reservation sequences with the safety rules of docs/design/MODES-AND-SAFETY.md.
 *
 * Concurrency model. A transport connection runs one command at a time, so
 * every path has an exec_lock held around pp_execute(). Commands that go to
 * several paths (registration, release) are fanned out: one thread per path
 * runs that path's short list of commands, and the caller waits for the
 * first or for all of them. dev->lock protects the path states, the
 * registered flags and the device flags; it is never held across I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <prpath/mpath.h>
#include <prpath/scsi.h>

#include "host/iscsi.h"
#include "host/mpath_int.h"
#include "util/pool.h"
#include "host/path_int.h"
#include "host/transport.h"
#include "host/url.h"

#define MP_UA_RETRIES 8         /* unit attentions / aborts retried per command */
#define MP_RACE_RETRIES 5       /* force: holder changed under us */
#define MP_PARAM_LEN 24
#define MP_RR_BUF 64            /* READ RESERVATION data */
#define MP_RK_ALLOC 65535       /* READ KEYS allocation length */
#define MP_MAX_KEYS (MP_RK_ALLOC / 8)
#define MP_VPD_ALLOC 1024

#define UA_REG_PREEMPTED 0x2a05
#define UA_RES_PREEMPTED 0x2a03
#define UA_RES_RELEASED 0x2a04

struct prpath_ctx {
	pthread_mutex_t lock;
	prpath_log_fn fn;
	void *arg;
	int level;
};

struct mp_path {
	struct prpath_dev *dev;
	unsigned index;
	struct pp_conn *conn;
	pthread_mutex_t exec_lock;
	/* dev->lock */
	enum prpath_path_state state;
	bool registered;        /* K registered through this path */
	bool maybe_registered;  /* a REGISTER may have reached the device */
	bool wrong_lu;
	int last_error;
	/* Unit attentions our own PREEMPTs of K (fence_lost_attempt()) may
	 * have queued on this path's nexus: that many 2A/05 (or 2A/03) here
	 * are ours, not a fence. Each one seen counts down; one never seen
	 * (the device coalesced them, or the nexus had no registration)
	 * only costs the shortcut: a real fence is still found by READ KEYS
	 * after the next RESERVATION CONFLICT. */
	unsigned own_preempt;
	/* identity, learnt by probe (VPD 0x83) */
	bool rtp_known;
	bool identified;        /* VPD 0x83 read and matched (probe, or the
				   checker for a path that failed probe) */
	struct prpath_path *handle; /* prpath_dev_add_path(): freed with us */
	bool undo_pending;      /* a failed open could not unregister K here
				   (the path was down): done when it returns */
	uint16_t rtp;
	/* what the device said at the last survey (READ FULL STATUS) */
	int dev_reg;            /* -1 unknown, 0, 1 */
	bool dev_holder;
};

struct prpath_dev {
	struct prpath_ctx *ctx;
	char *initiator;
	uint64_t key;
	unsigned timeout_ms;
	prpath_event_fn ev_fn;
	void *ev_arg;
	prpath_trace_fn trace_fn;
	void *trace_arg;

	pthread_mutex_t lock;
	/* Serialises re-registrations (reregister_path): the READ KEYS
	 * before/after check sees a raced preemption only when our own
	 * REGISTER is the one fresh registration of K in between. */
	pthread_mutex_t rereg_lock;
	struct mp_path *paths[PRPATH_DEV_MAX_PATHS];
	size_t npaths;
	unsigned rr;

	bool open;
	enum prpath_open_mode mode;
	unsigned flags;
	unsigned type;
	int single_path;
	bool fenced;
	bool res_lost;
	bool closing;           /* close has begun: no new I/O starts, no
				   path is registered again */
	unsigned inflight;      /* prpath_dev_read/write calls running */
	pthread_cond_t idle;    /* inflight dropped to 0 while closing */
	bool stale_keys;        /* K is registered through a nexus that is
				   none of our paths (a target that ties
				   registrations to the session: tgt) */
	bool already_held;      /* the last open found the LU held as asked */
	/* Other hosts' keys the last open saw (distinct; refused by an
	 * exclusive open, preempted by a takeover or by an exclusive open
	 * they raced with) and how many registrations they had. */
	uint64_t *others;
	size_t nothers;
	size_t nother_regs;
	bool others_preempted;
	/* READ FULL STATUS, last read (full_status()) */
	size_t key_foreign;     /* K through another initiator name */
	char foreign_name[PRPATH_DESC_MAX];
	size_t key_elsewhere;   /* K through our name, none of our paths */
	bool holder_foreign;
	bool holder_ours;       /* the holder nexus has our initiator name */
	/* APTPL bit of every REGISTER we send (aptpl_bit()) */
	bool aptpl;
	bool aptpl_known;
	bool observer;          /* paths log in as observers: never register */

	char lu_id[80];
	uint32_t block_size;
	uint64_t blocks;
	uint32_t max_xfer_blocks;   /* VPD B0 MAXIMUM TRANSFER LENGTH, 0 = none */
};

/* ---- context and logging ----------------------------------------------- */

int prpath_ctx_new(struct prpath_ctx **out)
{
	struct prpath_ctx *ctx;

	if (!out)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	pthread_mutex_init(&ctx->lock, NULL);
	*out = ctx;
	return 0;
}

void prpath_ctx_free(struct prpath_ctx *ctx)
{
	if (!ctx)
		return;
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

void prpath_ctx_set_log(struct prpath_ctx *ctx, prpath_log_fn fn, void *arg,
			int level)
{
	if (!ctx)
		return;
	pthread_mutex_lock(&ctx->lock);
	ctx->fn = fn;
	ctx->arg = arg;
	ctx->level = level;
	pthread_mutex_unlock(&ctx->lock);
}

static bool mp_log_on(struct prpath_dev *d, int level)
{
	bool on;

	if (!d->ctx)
		return false;
	pthread_mutex_lock(&d->ctx->lock);
	on = d->ctx->fn && level <= d->ctx->level;
	pthread_mutex_unlock(&d->ctx->lock);
	return on;
}

__attribute__((format(printf, 3, 4)))
static void mp_log(struct prpath_dev *d, int level, const char *fmt, ...)
{
	char msg[512];
	prpath_log_fn fn;
	void *arg;
	va_list ap;

	if (!d->ctx)
		return;
	pthread_mutex_lock(&d->ctx->lock);
	fn = d->ctx->fn;
	arg = d->ctx->arg;
	if (level > d->ctx->level)
		fn = NULL;
	pthread_mutex_unlock(&d->ctx->lock);
	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(arg, level, msg);
}

static void hex_str(char *out, size_t cap, const uint8_t *b, size_t n)
{
	size_t i, o = 0;

	if (!cap)
		return;
	out[0] = '\0';
	for (i = 0; i < n && o + 3 < cap; i++) {
		int w = snprintf(out + o, cap - o, i ? " %02x" : "%02x", b[i]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
}

/* ---- keys --------------------------------------------------------------- */

int prpath_key_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	bool hex = false;
	size_t i = 0, ndig = 0;

	if (!s || !out)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		hex = true;
		i = 2;
	}
	for (; s[i]; i++, ndig++) {
		char c = s[i];
		unsigned dv;

		if (c >= '0' && c <= '9')
			dv = (unsigned)(c - '0');
		else if (hex && c >= 'a' && c <= 'f')
			dv = (unsigned)(c - 'a' + 10);
		else if (hex && c >= 'A' && c <= 'F')
			dv = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		if (hex) {
			if (v >> 60)
				return -ERANGE;
			v = (v << 4) | dv;
		} else {
			if (v > (UINT64_MAX - dv) / 10)
				return -ERANGE;
			v = v * 10 + dv;
		}
	}
	if (!ndig)
		return -EINVAL;
	if (v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

/* splitmix64's finaliser: a bijection that spreads every input bit */
static uint64_t key_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t prpath_key_derive(const char *initiator)
{
	uint64_t h = FNV_OFFSET;
	const unsigned char *p = (const unsigned char *)initiator;

	if (p)
		for (; *p; p++) {
			h ^= *p;
			h *= FNV_PRIME;
		}
	h = key_mix(h);
	return h ? h : key_mix(FNV_OFFSET);
}

/* ---- names --------------------------------------------------------------- */

const char *prpath_open_mode_name(enum prpath_open_mode mode)
{
	switch (mode) {
	case PRPATH_MODE_EXCLUSIVE: return "exclusive";
	case PRPATH_MODE_FORCE: return "force";
	case PRPATH_MODE_SHARED: return "shared";
	case PRPATH_MODE_SINGLE: return "single";
	case PRPATH_MODE_NORESERVE: return "noreserve";
	case PRPATH_MODE_ATTACH: return "attach";
	}
	return "unknown";
}

const char *prpath_path_state_name(enum prpath_path_state state)
{
	switch (state) {
	case PRPATH_PATH_UP: return "up";
	case PRPATH_PATH_FAILED: return "failed";
	case PRPATH_PATH_REINSTATING: return "reinstating";
	}
	return "unknown";
}

/* ---- device flags and events ---------------------------------------------- */

static void emit(struct prpath_dev *d, enum prpath_event_type type, int path,
		 int err)
{
	struct prpath_event ev = { .type = type, .path = path, .err = err };
	prpath_event_fn fn;
	void *arg;

	pthread_mutex_lock(&d->lock);
	fn = d->ev_fn;
	arg = d->ev_arg;
	pthread_mutex_unlock(&d->lock);
	if (fn)
		fn(arg, d, &ev);
}

/* The device registers K on its paths (open, in a reserving mode). */
static bool reg_mode_locked(const struct prpath_dev *d)
{
	return d->open && d->mode != PRPATH_MODE_NORESERVE;
}

static bool reg_mode(struct prpath_dev *d)
{
	bool r;

	pthread_mutex_lock(&d->lock);
	r = reg_mode_locked(d);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* The device holds a registrants-only reservation (2A/04 means it is
 * lost), as opposed to sharing an all-registrants one. */
static bool holder_mode_locked(const struct prpath_dev *d)
{
	switch (d->mode) {
	case PRPATH_MODE_EXCLUSIVE:
	case PRPATH_MODE_FORCE:
	case PRPATH_MODE_SINGLE:
		return true;
	case PRPATH_MODE_ATTACH:
		return !prpath_pr_type_all_registrants(d->type);
	default:
		return false;
	}
}

static void set_fenced(struct prpath_dev *d, int path, int why)
{
	bool first;

	pthread_mutex_lock(&d->lock);
	first = !d->fenced;
	d->fenced = true;
	pthread_mutex_unlock(&d->lock);
	if (first) {
		if (path >= 0)
			mp_log(d, 0, "fenced: key 0x%016llx is no longer registered (seen on path %d)",
			       (unsigned long long)d->key, path + 1);
		else
			mp_log(d, 0, "fenced: key 0x%016llx is no longer registered",
			       (unsigned long long)d->key);
		emit(d, PRPATH_EVENT_FENCED, path, why);
	}
}

static bool is_fenced(struct prpath_dev *d)
{
	bool f;

	pthread_mutex_lock(&d->lock);
	f = d->fenced;
	pthread_mutex_unlock(&d->lock);
	return f;
}

static void path_set_failed(struct mp_path *p, int err)
{
	struct prpath_dev *d = p->dev;
	bool was_up;

	pthread_mutex_lock(&d->lock);
	was_up = p->state == PRPATH_PATH_UP;
	p->state = PRPATH_PATH_FAILED;
	p->last_error = err;
	if (p->registered)
		p->maybe_registered = true;
	p->registered = false;
	pthread_mutex_unlock(&d->lock);
	if (was_up) {
		mp_log(d, 1, "path %u down: %s", p->index + 1, prpath_strerror(err));
		emit(d, PRPATH_EVENT_PATH_DOWN, (int)p->index, err);
	}
}

static void path_set_registered(struct mp_path *p, bool reg)
{
	pthread_mutex_lock(&p->dev->lock);
	p->registered = reg;
	p->maybe_registered = reg;
	pthread_mutex_unlock(&p->dev->lock);
}

static bool path_usable_locked(const struct mp_path *p)
{
	return p->state == PRPATH_PATH_UP && !p->wrong_lu;
}

/* Whether @ua, just seen on @p, comes from our own PREEMPT
 * (fence_lost_attempt()): 2A/05, or 2A/03 from targets that send that
 * instead (tgt). Counts it off: call once per unit attention. */
static bool take_own_ua(struct mp_path *p, uint16_t ua)
{
	bool r;

	if (ua != UA_REG_PREEMPTED && ua != UA_RES_PREEMPTED)
		return false;
	pthread_mutex_lock(&p->dev->lock);
	r = p->own_preempt > 0;
	if (r)
		p->own_preempt--;
	pthread_mutex_unlock(&p->dev->lock);
	return r;
}

/* ---- one command on one path ---------------------------------------------- */

static void io_init(struct prpath_dev *d, struct pp_io *io)
{
	memset(io, 0, sizeof(*io));
	io->timeout_ms = d->timeout_ms;
}

static const char *cdb_name(const uint8_t *cdb)
{
	switch (cdb[0]) {
	case PRPATH_SCSI_OP_PR_OUT: {
		const char *n = prpath_prout_sa_name(cdb[1] & 0x1f);
		return n ? n : "PR OUT";
	}
	case PRPATH_SCSI_OP_PR_IN: {
		const char *n = prpath_prin_sa_name(cdb[1] & 0x1f);
		return n ? n : "PR IN";
	}
	case PRPATH_SCSI_OP_TEST_UNIT_READY: return "TEST UNIT READY";
	case PRPATH_SCSI_OP_INQUIRY: return "INQUIRY";
	case PRPATH_SCSI_OP_READ10: case PRPATH_SCSI_OP_READ16: return "READ";
	case PRPATH_SCSI_OP_WRITE10: case PRPATH_SCSI_OP_WRITE16: return "WRITE";
	case PRPATH_SCSI_OP_SERVICE_ACTION_IN16: return "READ CAPACITY(16)";
	default: return "command";
	}
}

static bool io_usable_locked(const struct prpath_dev *d, const struct mp_path *p);

/* Block I/O is admitted on @p only once the path is ours (exec_lock held):
 * a thread that chose the path before it failed, while it was being
 * reinstated (not registered yet) or before the device was fenced or lost
 * its reservation, sends nothing. Returns 0, PRPATH_ERR_FENCED,
 * PRPATH_ERR_RESERVED, or PRPATH_ERR_NO_PATH (choose another path). */
static int io_admit(struct prpath_dev *d, struct mp_path *p)
{
	int rc = 0;

	pthread_mutex_lock(&d->lock);
	if (d->fenced && reg_mode_locked(d))
		rc = PRPATH_ERR_FENCED;
	else if (d->res_lost && reg_mode_locked(d) && holder_mode_locked(d))
		rc = PRPATH_ERR_RESERVED;
	else if (!io_usable_locked(d, p))
		rc = PRPATH_ERR_NO_PATH;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* Runs @io on @p; marks the path failed on a transport error. With @blk
 * (block I/O) see io_admit(). */
static int path_exec(struct prpath_dev *d, struct mp_path *p, struct pp_io *io,
		     bool blk)
{
	bool trace = mp_log_on(d, 2);
	char hex[160];
	int rc;

	if (trace) {
		hex_str(hex, sizeof(hex), io->cdb, io->cdb_len);
		mp_log(d, 2, "path %u -> %s [%s] out %zu in %zu", p->index + 1,
		       cdb_name(io->cdb), hex, io->dout_len, io->din_cap);
		if (io->dout_len && io->dout_len <= 32 && io->cdb[0] == PRPATH_SCSI_OP_PR_OUT) {
			hex_str(hex, sizeof(hex), io->dout, io->dout_len);
			mp_log(d, 2, "path %u    parameter list [%s]", p->index + 1, hex);
		}
	}
	pthread_mutex_lock(&p->exec_lock);
	if (blk) {
		rc = io_admit(d, p);
		if (rc) {
			pthread_mutex_unlock(&p->exec_lock);
			if (trace)
				mp_log(d, 2, "path %u    not sent: %s", p->index + 1,
				       prpath_strerror(rc));
			return rc;
		}
	}
	io->din_len = 0;
	io->status = 0;
	io->sense_len = 0;
	rc = pp_execute(p->conn, io);
	if (d->trace_fn) {
		/* still under the path's exec lock: one record per command, in
		 * the order each path completed them */
		struct prpath_trace t = {
			.path = p->index, .cdb = io->cdb, .cdb_len = io->cdb_len,
			.rc = rc < 0 ? rc : 0, .status = io->status,
			.sense = io->sense,
			.sense_len = io->sense_len > sizeof(io->sense) ? sizeof(io->sense)
								       : io->sense_len,
			.dout_len = io->dout_len,
			.din_len = io->din_len > io->din_cap ? io->din_cap : io->din_len,
		};

		d->trace_fn(d->trace_arg, d, &t);
	}
	pthread_mutex_unlock(&p->exec_lock);
	if (rc < 0) {
		if (trace)
			mp_log(d, 2, "path %u <- transport error: %s", p->index + 1,
			       prpath_strerror(rc));
		path_set_failed(p, rc);
		return rc;
	}
	if (io->din_len > io->din_cap)
		io->din_len = io->din_cap;
	if (io->sense_len > sizeof(io->sense))
		io->sense_len = sizeof(io->sense);
	if (trace) {
		struct prpath_sense s;

		if (io->status == PRPATH_SCSI_STATUS_CHECK_CONDITION &&
		    prpath_sense_decode(io->sense, io->sense_len, &s) == 0)
			mp_log(d, 2, "path %u <- %s, sense %x/%02x/%02x (%s: %s)",
			       p->index + 1, prpath_status_name(io->status), s.key,
			       s.asc, s.ascq, prpath_sense_key_name(s.key),
			       prpath_asc_name(s.asc, s.ascq));
		else
			mp_log(d, 2, "path %u <- %s, in %zu", p->index + 1,
			       prpath_status_name(io->status), io->din_len);
	}
	return 0;
}

enum ua_policy {
	UA_RETRY,       /* management commands: retry every UA (bounded) */
	UA_FENCE,       /* open device: 2A/05, 2A/03 fence; 2A/04 loses */
};

struct mp_res {
	enum prpath_sense_cat cat;
	struct prpath_sense sense;
};

static uint16_t sense_ascq(const struct prpath_sense *s)
{
	return (uint16_t)((s->asc << 8) | s->ascq);
}

/* Handles a 2A/04 reservations released UA. Returns PRPATH_ERR_RESERVED
 * when the device held an exclusive reservation (now lost), else 0. */
static int reservation_released(struct prpath_dev *d, struct mp_path *p)
{
	bool first, lost;

	pthread_mutex_lock(&d->lock);
	lost = reg_mode_locked(d) && holder_mode_locked(d);
	first = !d->res_lost;
	if (lost)
		d->res_lost = true;
	pthread_mutex_unlock(&d->lock);
	if (first) {
		mp_log(d, lost ? 0 : 1, "path %u: reservation released by the device server%s",
		       p->index + 1, lost ? ": our reservation is lost" : "");
		emit(d, PRPATH_EVENT_RESERVATION_LOST, (int)p->index, 0);
	}
	return lost ? PRPATH_ERR_RESERVED : 0;
}

/* A unit attention about our registrations or reservation that a
 * management command (PR IN/OUT, retried) sees while the device is open:
 * its news is not swallowed. Not on a path that carried no registration of
 * this open (its UAs may predate it), nor while closing (our own RELEASE
 * and PREEMPT queue them on our other paths). */
static void note_pr_ua(struct prpath_dev *d, struct mp_path *p, uint16_t ua)
{
	bool ours;

	if (ua != UA_REG_PREEMPTED && ua != UA_RES_PREEMPTED && ua != UA_RES_RELEASED)
		return;
	pthread_mutex_lock(&d->lock);
	ours = reg_mode_locked(d) && !d->closing &&
	       (p->registered || p->maybe_registered);
	pthread_mutex_unlock(&d->lock);
	if (!ours)
		return;
	if (ua == UA_RES_RELEASED)
		reservation_released(d, p);
	else
		set_fenced(d, (int)p->index, PRPATH_ERR_UNIT_ATTENTION);
}

/* Runs @io with unit attention handling. Returns a negative errno for a
 * transport error, PRPATH_ERR_FENCED / PRPATH_ERR_RESERVED from a UA under
 * UA_FENCE, else 0 with the outcome in @r. */
static int path_cmd(struct prpath_dev *d, struct mp_path *p, struct pp_io *io,
		    enum ua_policy pol, struct mp_res *r)
{
	unsigned tries;
	int rc;

	for (tries = 0;; tries++) {
		uint16_t ua;
		bool own;

		rc = path_exec(d, p, io, false);
		if (rc < 0)
			return rc;
		r->cat = prpath_sense_classify(io->status, io->sense,
					       io->sense_len, &r->sense);
		if (r->cat != PRPATH_SENSE_UNIT_ATTENTION)
			return 0;
		ua = sense_ascq(&r->sense);
		own = take_own_ua(p, ua);
		if (pol == UA_FENCE && reg_mode(d) && !own) {
			if (ua == UA_REG_PREEMPTED || ua == UA_RES_PREEMPTED) {
				set_fenced(d, (int)p->index, PRPATH_ERR_UNIT_ATTENTION);
				return PRPATH_ERR_FENCED;
			}
			if (ua == UA_RES_RELEASED) {
				rc = reservation_released(d, p);
				if (rc)
					return rc;
			}
		} else {
			if (pol == UA_RETRY && !own)
				note_pr_ua(d, p, ua);
			mp_log(d, 1, "path %u: unit attention %02x/%02x (%s), retrying",
			       p->index + 1, r->sense.asc, r->sense.ascq,
			       prpath_asc_name(r->sense.asc, r->sense.ascq));
		}
		if (tries + 1 >= MP_UA_RETRIES)
			return 0;
	}
}

static int res_err(int rc, const struct mp_res *r)
{
	if (rc)
		return rc;
	return prpath_err_from_sense_cat(r->cat);
}

static bool illegal_unsupported(const struct mp_res *r)
{
	uint16_t a = sense_ascq(&r->sense);

	return r->cat == PRPATH_SENSE_ILLEGAL_REQUEST &&
	       (a == PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB || a == PRPATH_SCSI_ASCQ_INVALID_OPCODE);
}

/* ---- PR commands ------------------------------------------------------------ */

/* One PR OUT with the basic parameter list (no ALL_TG_PT). REGISTER and
 * REGISTER AND IGNORE carry this open's APTPL choice (aptpl_bit()),
 * unregistrations too: an APTPL=0 there would end persistence for every
 * other registrant. */
static int pr_in(struct prpath_dev *d, struct mp_path *p, unsigned sa,
		 uint8_t *buf, size_t cap, size_t *len, struct mp_res *r);

/* The APTPL bit of the REGISTERs of this open. PRPATH_OPEN_APTPL: 1
 * (pr_out() falls back to 0 where the device cannot persist);
 * PRPATH_OPEN_NO_APTPL: 0. PRPATH_MODE_ATTACH without either keeps what
 * the device does now (REPORT CAPABILITIES PTPL_A, asked once, before its
 * first REGISTER): joining must not end persistence someone asked for.
 * Other modes without either: 0, as before these flags existed. */
static bool aptpl_bit(struct prpath_dev *d, struct mp_path *p)
{
	struct prpath_capabilities caps;
	uint8_t buf[16];
	struct mp_res r;
	size_t len;
	bool probe, want;

	pthread_mutex_lock(&d->lock);
	probe = !d->aptpl_known;
	want = d->aptpl;
	pthread_mutex_unlock(&d->lock);
	if (!probe)
		return want;
	want = pr_in(d, p, PRPATH_PR_IN_REPORT_CAPABILITIES, buf, sizeof(buf), &len, &r) == 0 &&
	       prpath_decode_report_capabilities(buf, len, &caps) == 0 && caps.ptpl_a;
	pthread_mutex_lock(&d->lock);
	d->aptpl = want;
	d->aptpl_known = true;
	pthread_mutex_unlock(&d->lock);
	return want;
}

static int pr_out(struct prpath_dev *d, struct mp_path *p, unsigned sa,
		  unsigned type, uint64_t rk, uint64_t sark, struct mp_res *r)
{
	struct prpath_prout_params prm = { .rk = rk, .sark = sark };
	uint8_t param[MP_PARAM_LEN];
	struct pp_io io;
	int n, rc;

	if (sa == PRPATH_PR_OUT_REGISTER || sa == PRPATH_PR_OUT_REGISTER_AND_IGNORE)
		prm.aptpl = aptpl_bit(d, p);
again:
	io_init(d, &io);
	n = pp_prout_build(sa, type, &prm, io.cdb, &io.cdb_len, param, sizeof(param));
	if (n < 0)
		return n;
	io.dout = param;
	io.dout_len = (size_t)n;
	rc = path_cmd(d, p, &io, UA_RETRY, r);
	rc = res_err(rc, r);
	if (rc && prm.aptpl && r->cat == PRPATH_SENSE_ILLEGAL_REQUEST &&
	    (sense_ascq(&r->sense) == PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST ||
	     sense_ascq(&r->sense) == PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB)) {
		/* SPC-4: a device that cannot persist refuses APTPL=1 with
		 * 26/00; tgt answers 24/00 (docs/tgt-deviations.md). Once
		 * more without: a second refusal is the answer. */
		pthread_mutex_lock(&d->lock);
		d->aptpl = false; /* prpath_dev_status() says so */
		pthread_mutex_unlock(&d->lock);
		mp_log(d, 0, "path %u: the device cannot persist registrations through power loss (APTPL refused): registering without",
		       p->index + 1);
		prm.aptpl = false;
		goto again;
	}
	return rc;
}

static int pr_in(struct prpath_dev *d, struct mp_path *p, unsigned sa,
		 uint8_t *buf, size_t cap, size_t *len, struct mp_res *r)
{
	struct pp_io io;
	int rc;

	io_init(d, &io);
	rc = prpath_cdb_pr_in(io.cdb, sizeof(io.cdb), sa,
			      (uint16_t)(cap > 65535 ? 65535 : cap));
	if (rc < 0)
		return rc;
	io.cdb_len = (size_t)rc;
	io.din = buf;
	io.din_cap = cap > 65535 ? 65535 : cap;
	rc = path_cmd(d, p, &io, UA_RETRY, r);
	rc = res_err(rc, r);
	*len = rc ? 0 : io.din_len;
	return rc;
}

struct mp_resv {
	bool reserved;
	uint64_t key;
	unsigned type;
	uint32_t generation;
};

static int decode_resv(struct prpath_dev *d, const uint8_t *buf, size_t len,
		       struct mp_resv *out)
{
	struct prpath_read_reservation rr;

	if (prpath_decode_read_reservation(buf, len, &rr) < 0 ||
	    (rr.reserved && (rr.truncated || !prpath_pr_type_valid(rr.type)))) {
		mp_log(d, 0, "malformed READ RESERVATION data (%zu bytes)", len);
		return PRPATH_ERR_BAD_RESPONSE;
	}
	out->reserved = rr.reserved;
	out->key = rr.key;
	out->type = rr.type;
	out->generation = rr.generation;
	return 0;
}

static int read_resv(struct prpath_dev *d, struct mp_path *p, struct mp_resv *out)
{
	uint8_t buf[MP_RR_BUF];
	struct mp_res r;
	size_t len;
	int rc;

	rc = pr_in(d, p, PRPATH_PR_IN_READ_RESERVATION, buf, sizeof(buf), &len, &r);
	if (rc)
		return rc;
	return decode_resv(d, buf, len, out);
}

struct mp_keys {
	uint32_t generation;
	size_t n;       /* registrations listed */
	size_t nk;      /* of which are K */
	/* read_keys_on(..., true): the distinct other keys listed (malloc'd,
	 * the caller frees) */
	uint64_t *cur;
	size_t ncur;
};

/* Adds the distinct keys other than K of a READ KEYS list to the keys the
 * current open has seen ("others"), and gives them to @k->cur. 0 or
 * -ENOMEM. */
static int note_others(struct prpath_dev *d, const uint64_t *keys, size_t n,
		       struct mp_keys *k)
{
	uint64_t *o;
	size_t i, j, regs = 0;
	int rc = 0;

	k->ncur = 0;
	k->cur = malloc((n + 1) * sizeof(*k->cur));
	if (!k->cur)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (keys[i] == d->key)
			continue;
		for (j = 0; j < k->ncur && k->cur[j] != keys[i]; j++)
			;
		if (j == k->ncur)
			k->cur[k->ncur++] = keys[i];
	}

	pthread_mutex_lock(&d->lock);
	o = realloc(d->others, (d->nothers + n + 1) * sizeof(*o));
	if (!o) {
		rc = -ENOMEM;
		goto out;
	}
	d->others = o;
	for (i = 0; i < n; i++) {
		if (keys[i] == d->key)
			continue;
		regs++;
		for (j = 0; j < d->nothers && o[j] != keys[i]; j++)
			;
		if (j == d->nothers)
			o[d->nothers++] = keys[i];
	}
	if (regs > d->nother_regs)
		d->nother_regs = regs;
out:
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static int read_keys_on(struct prpath_dev *d, struct mp_path *p,
			struct mp_keys *out, bool others);

static int read_keys(struct prpath_dev *d, struct mp_path *p, struct mp_keys *out)
{
	return read_keys_on(d, p, out, false);
}

/* READ KEYS on @p; with @others the keys other than K are remembered
 * (note_others()). */
static int read_keys_on(struct prpath_dev *d, struct mp_path *p,
			struct mp_keys *out, bool others)
{
	struct prpath_read_keys rk;
	uint8_t *buf;
	uint64_t *keys;
	struct mp_res r;
	size_t len, i;
	int rc;

	buf = malloc(MP_RK_ALLOC);
	keys = malloc(MP_MAX_KEYS * sizeof(*keys)); /* decode fills what it reports */
	if (!buf || !keys) {
		free(buf);
		free(keys);
		return -ENOMEM;
	}
	rc = pr_in(d, p, PRPATH_PR_IN_READ_KEYS, buf, MP_RK_ALLOC, &len, &r);
	if (rc)
		goto out;
	memset(&rk, 0, sizeof(rk));
	rk.keys = keys;
	rk.keys_cap = MP_MAX_KEYS;
	if (prpath_decode_read_keys(buf, len, &rk) < 0 || rk.truncated) {
		mp_log(d, 0, "path %u: malformed READ KEYS data (%zu bytes)",
		       p->index + 1, len);
		rc = PRPATH_ERR_BAD_RESPONSE;
		goto out;
	}
	out->generation = rk.generation;
	out->n = rk.nkeys;
	out->nk = 0;
	for (i = 0; i < rk.nkeys; i++)
		if (keys[i] == d->key)
			out->nk++;
	if (others)
		rc = note_others(d, keys, rk.nkeys, out);
out:
	free(buf);
	free(keys);
	return rc;
}

/* ---- fan-out: one short command list per path, concurrently ------------- */

enum { OP_PR_OUT, OP_PR_IN_RESV };

struct mp_op {
	unsigned kind;
	unsigned sa;
	unsigned type;
	uint64_t rk, sark;
	bool ignore_conflict;   /* a conflict does not stop the list */
	/* result */
	int res;
	bool done;
	struct mp_res r;
	uint8_t din[MP_RR_BUF];
	size_t din_len;
};

struct fan;

struct fan_job {
	struct fan *fan;
	struct mp_path *p;
	struct mp_op ops[2];
	unsigned nops;
	bool done;
	bool all_ok;            /* every op returned 0 */
	bool pooled;            /* runs on a pool worker */
};

struct fan {
	struct prpath_dev *d;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct fan_job jobs[PRPATH_DEV_MAX_PATHS];
	unsigned njobs;
	unsigned ndone;
	int first_ok;           /* first job whose ops all succeeded, -1 */
	unsigned nops_done;     /* op completions, to wake waiters */
	bool started;
};

static void fan_run_job(struct fan_job *j)
{
	struct fan *f = j->fan;
	unsigned i;
	bool ok = true;

	for (i = 0; i < j->nops; i++) {
		struct mp_op *op = &j->ops[i];

		if (op->kind == OP_PR_IN_RESV)
			op->res = pr_in(f->d, j->p, PRPATH_PR_IN_READ_RESERVATION,
					op->din, sizeof(op->din), &op->din_len,
					&op->r);
		else
			op->res = pr_out(f->d, j->p, op->sa, op->type, op->rk,
					 op->sark, &op->r);
		pthread_mutex_lock(&f->lock);
		op->done = true;
		f->nops_done++;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
		if (op->res) {
			ok = false;
			if (op->res < 0 || !(op->ignore_conflict &&
					     op->res == PRPATH_ERR_CONFLICT))
				break;
		}
	}
	pthread_mutex_lock(&f->lock);
	j->done = true;
	j->all_ok = ok;
	f->ndone++;
	if (ok && f->first_ok < 0)
		f->first_ok = (int)(j - f->jobs);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void fan_pool_job(void *arg)
{
	fan_run_job(arg);
}

static struct fan *fan_new(struct prpath_dev *d)
{
	struct fan *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->d = d;
	f->first_ok = -1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	return f;
}

static struct fan_job *fan_add(struct fan *f, struct mp_path *p)
{
	struct fan_job *j = &f->jobs[f->njobs++];

	j->fan = f;
	j->p = p;
	return j;
}

static void job_op(struct fan_job *j, unsigned kind, unsigned sa, unsigned type,
		   uint64_t rk, uint64_t sark)
{
	struct mp_op *op = &j->ops[j->nops++];

	op->kind = kind;
	op->sa = sa;
	op->type = type;
	op->rk = rk;
	op->sark = sark;
}

/* A short-lived worker (one path's commands of one step): a small stack,
 * so that the thousands a group of LUs starts at once are cheap to create
 * (glibc reuses small stacks; an 8 MiB default one is mapped and unmapped
 * each time). */
#define MP_THREAD_STACK (256u * 1024u)

static int mp_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int rc;

	if (pthread_attr_init(&attr) != 0)
		return pthread_create(t, NULL, fn, arg);
	pthread_attr_setstacksize(&attr, MP_THREAD_STACK);
	rc = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}

static void fan_start(struct fan *f)
{
	unsigned i;

	f->started = true;
	for (i = 0; i < f->njobs; i++) {
		struct fan_job *j = &f->jobs[i];

		/* a job runs on the caller's thread when alone, or when no
		 * worker can be had */
		if (f->njobs > 1 && pp_pool_run(fan_pool_job, j) == 0)
			j->pooled = true;
		else if (f->njobs > 1)
			fan_run_job(j);
	}
	if (f->njobs == 1)
		fan_run_job(&f->jobs[0]);
}

static void fan_wait_all(struct fan *f)
{
	if (!f->started)
		return;
	pthread_mutex_lock(&f->lock);
	while (f->ndone < f->njobs)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

static void fan_free(struct fan *f)
{
	if (!f)
		return;
	fan_wait_all(f);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
}

/* ---- paths --------------------------------------------------------------------- */

int prpath_dev_new(struct prpath_ctx *ctx, const struct prpath_host *host,
		   struct prpath_dev **out)
{
	struct prpath_dev *d;

	if (!out || !host || !host->initiator || !host->initiator[0])
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->initiator = strdup(host->initiator);
	if (!d->initiator) {
		free(d);
		return -ENOMEM;
	}
	d->ctx = ctx;
	d->key = host->key ? host->key : prpath_key_derive(host->initiator);
	d->single_path = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->rereg_lock, NULL);
	pthread_cond_init(&d->idle, NULL);
	*out = d;
	return 0;
}

void prpath_dev_free(struct prpath_dev *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->npaths; i++) {
		struct mp_path *p = d->paths[i];

		if (p->conn && p->conn->ops && p->conn->ops->close)
			p->conn->ops->close(p->conn);
		pthread_mutex_destroy(&p->exec_lock);
		pp_path_forget(p->handle);
		free(p);
	}
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->rereg_lock);
	pthread_cond_destroy(&d->idle);
	free(d->others);
	free(d->initiator);
	free(d);
}

void prpath_dev_set_trace(struct prpath_dev *d, prpath_trace_fn fn, void *arg)
{
	if (!d)
		return;
	d->trace_fn = fn;
	d->trace_arg = arg;
}

int prpath_dev_add_path(struct prpath_dev *d, struct prpath_path *path)
{
	struct pp_conn *conn = pp_path_conn(path);
	int rc;

	if (!d || !conn) {
		pp_path_forget(path);
		return -EINVAL;
	}
	rc = pp_dev_add_conn(d, conn); /* closes conn on failure */
	if (rc < 0) {
		pp_path_forget(path);
		return rc;
	}
	pthread_mutex_lock(&d->lock);
	d->paths[rc]->handle = path;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void prpath_dev_set_event_cb(struct prpath_dev *d, prpath_event_fn fn, void *arg)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->ev_fn = fn;
	d->ev_arg = arg;
	pthread_mutex_unlock(&d->lock);
}

void prpath_dev_set_timeout(struct prpath_dev *d, unsigned timeout_ms)
{
	if (d)
		d->timeout_ms = timeout_ms;
}

uint64_t prpath_dev_key(const struct prpath_dev *d)
{
	return d ? d->key : 0;
}

size_t prpath_dev_npaths(const struct prpath_dev *d)
{
	return d ? d->npaths : 0;
}

const char *prpath_dev_lu_id(const struct prpath_dev *d)
{
	return d ? d->lu_id : "";
}

uint32_t prpath_dev_block_size(const struct prpath_dev *d)
{
	return d ? d->block_size : 0;
}

uint64_t prpath_dev_blocks(const struct prpath_dev *d)
{
	return d ? d->blocks : 0;
}

/* The same transport description (iscsi://portal/target/lun, sg device)
 * twice would be two registrations of one nexus, counted as two paths. */
static bool path_is_duplicate_locked(struct prpath_dev *d, struct pp_conn *conn)
{
	const char *a = conn->ops->describe ? conn->ops->describe(conn) : NULL;
	size_t i;

	if (!a || !*a)
		return false;
	for (i = 0; i < d->npaths; i++) {
		struct pp_conn *o = d->paths[i]->conn;
		const char *b = o->ops->describe ? o->ops->describe(o) : NULL;

		if (b && o->ops == conn->ops && strcasecmp(a, b) == 0)
			return true;
	}
	return false;
}

int prpath_dev_set_observer(struct prpath_dev *d)
{
	if (!d)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	if (d->npaths || d->open) {
		pthread_mutex_unlock(&d->lock);
		return -EBUSY;
	}
	d->observer = true;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int pp_dev_add_conn(struct prpath_dev *d, struct pp_conn *conn)
{
	struct mp_path *p;
	int idx;

	if (!d || !conn || !conn->ops || !conn->ops->execute) {
		if (conn && conn->ops && conn->ops->close)
			conn->ops->close(conn);
		return -EINVAL;
	}
	pthread_mutex_lock(&d->lock);
	if (d->open || d->npaths >= PRPATH_DEV_MAX_PATHS ||
	    path_is_duplicate_locked(d, conn)) {
		int rc = d->open ? -EBUSY :
			 d->npaths >= PRPATH_DEV_MAX_PATHS ? -ENOSPC : -EEXIST;

		pthread_mutex_unlock(&d->lock);
		if (rc == -EEXIST)
			mp_log(d, 0, "%s: the device has this path already",
			       conn->ops->describe ? conn->ops->describe(conn) : "path");
		if (conn->ops->close)
			conn->ops->close(conn);
		return rc;
	}
	pthread_mutex_unlock(&d->lock);
	p = calloc(1, sizeof(*p));
	if (!p) {
		if (conn->ops->close)
			conn->ops->close(conn);
		return -ENOMEM;
	}
	p->dev = d;
	p->conn = conn;
	p->state = PRPATH_PATH_UP;
	p->dev_reg = -1;
	pthread_mutex_init(&p->exec_lock, NULL);
	pthread_mutex_lock(&d->lock);
	p->index = (unsigned)d->npaths;
	d->paths[d->npaths++] = p;
	idx = (int)p->index;
	pthread_mutex_unlock(&d->lock);
	return idx;
}

int prpath_dev_add_url(struct prpath_dev *d, const char *url)
{
	struct pp_conn *conn;
	int rc;

	if (!d || !url)
		return -EINVAL;
	rc = pp_conn_open_url(url, d->initiator,
			      d->observer ? PP_ISCSI_ROLE_OBSERVER : PP_ISCSI_ROLE_IO,
			      d->timeout_ms, &conn);
	if (rc < 0) {
		char shown[1024];

		/* never log a CHAP secret given in the URL */
		snprintf(shown, sizeof(shown), "%s", url);
		pp_url_redact(shown);
		mp_log(d, 0, "%s: %s", shown, pp_transport_last_error());
		return rc;
	}
	return pp_dev_add_conn(d, conn);
}

struct add_job {
	struct prpath_dev *d;
	const char *url;
	struct pp_conn *conn;
	int rc;
	char *why;
	size_t why_cap;
	pthread_t th;
	bool threaded;
};

static void *add_open(void *arg)
{
	struct add_job *j = arg;

	j->rc = pp_conn_open_url(j->url, j->d->initiator,
				 j->d->observer ? PP_ISCSI_ROLE_OBSERVER : PP_ISCSI_ROLE_IO,
				 j->d->timeout_ms, &j->conn);
	if (j->rc < 0) {
		const char *t = pp_transport_last_error(); /* per thread */

		j->conn = NULL;
		snprintf(j->why, j->why_cap, "%s", t && *t ? t : prpath_strerror(j->rc));
	}
	return NULL;
}

int prpath_dev_add_urls(struct prpath_dev *d, const char *const *urls, size_t n,
			struct prpath_url_result *res)
{
	struct add_job *jobs;
	size_t i;
	int added = 0;

	if (!d || (n && (!urls || !res)))
		return -EINVAL;
	jobs = calloc(n ? n : 1, sizeof(*jobs));
	if (!jobs)
		return -ENOMEM;
	/* concurrently: unreachable portals cost one timeout, not one each */
	for (i = 0; i < n; i++) {
		res[i].index = -EINVAL;
		res[i].why[0] = '\0';
		jobs[i] = (struct add_job){ .d = d, .url = urls[i], .why = res[i].why,
					    .why_cap = sizeof(res[i].why) };
		if (!urls[i]) {
			jobs[i].rc = -EINVAL;
			snprintf(res[i].why, sizeof(res[i].why), "no URL");
			continue;
		}
		if (n > 1 && pthread_create(&jobs[i].th, NULL, add_open, &jobs[i]) == 0)
			jobs[i].threaded = true;
		else
			add_open(&jobs[i]);
	}
	for (i = 0; i < n; i++) {
		if (jobs[i].threaded)
			pthread_join(jobs[i].th, NULL);
		if (!jobs[i].conn) {
			res[i].index = jobs[i].rc < 0 ? jobs[i].rc : -EIO;
			continue;
		}
		/* in the order given: path i of the list gets the next index */
		res[i].index = pp_dev_add_conn(d, jobs[i].conn);
		if (res[i].index == -EEXIST)
			snprintf(res[i].why, sizeof(res[i].why),
				 "the same path as an earlier one (one I_T nexus)");
		else if (res[i].index < 0)
			snprintf(res[i].why, sizeof(res[i].why), "%s",
				 prpath_strerror(res[i].index));
		else
			added++;
	}
	free(jobs);
	return added;
}

static size_t usable_paths(struct prpath_dev *d, struct mp_path **out,
			   bool registered);

int prpath_dev_unregister(struct prpath_dev *d)
{
	struct mp_path *v[PRPATH_DEV_MAX_PATHS];
	size_t i, n;
	int ret = 0;

	if (!d)
		return -EINVAL;
	if (d->observer)
		return -EPERM;
	pthread_mutex_lock(&d->lock);
	if (d->open) {
		pthread_mutex_unlock(&d->lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&d->lock);
	n = usable_paths(d, v, false);
	if (!n)
		return PRPATH_ERR_NO_PATH;
	for (i = 0; i < n; i++) {
		struct mp_res r;
		/* REGISTER with K: a nexus registered with another key (an
		 * administrator changed it) or not at all answers RESERVATION
		 * CONFLICT and keeps what it has */
		int rc = pr_out(d, v[i], PRPATH_PR_OUT_REGISTER, 0, d->key, 0, &r);

		if (rc == PRPATH_ERR_CONFLICT)
			rc = 0;
		if (rc) {
			mp_log(d, 0, "path %u: could not unregister key: %s",
			       v[i]->index + 1, prpath_strerror(rc));
			if (!ret)
				ret = rc;
		}
	}
	return ret;
}

int prpath_dev_path_execute(struct prpath_dev *d, unsigned index,
			    struct prpath_io *io)
{
	struct mp_path *p;
	struct pp_io in;
	int rc;

	if (!d)
		return -EINVAL;
	rc = pp_io_from_public(&in, io, d->timeout_ms);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->lock);
	p = index < d->npaths ? d->paths[index] : NULL;
	pthread_mutex_unlock(&d->lock);
	if (!p)
		return -EINVAL;
	/* as the device's own commands: one at a time on this path; a
	 * transport error does not mark the path failed (nothing here
	 * decides about paths) */
	pthread_mutex_lock(&p->exec_lock);
	rc = pp_execute(p->conn, &in);
	pthread_mutex_unlock(&p->exec_lock);
	pp_io_to_public(io, &in, rc);
	return rc < 0 ? rc : 0;
}

struct pp_conn *pp_dev_conn(struct prpath_dev *d, unsigned index)
{
	if (!d || index >= d->npaths)
		return NULL;
	return d->paths[index]->conn;
}

int prpath_dev_fail_path(struct prpath_dev *d, unsigned index)
{
	if (!d || index >= d->npaths)
		return -EINVAL;
	path_set_failed(d->paths[index], -ENOTCONN);
	return 0;
}

/* Usable paths in index order (registered ones only with @registered). */
static size_t usable_paths(struct prpath_dev *d, struct mp_path **out,
			   bool registered)
{
	size_t i, n = 0;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->npaths; i++) {
		struct mp_path *p = d->paths[i];

		if (path_usable_locked(p) && (!registered || p->registered))
			out[n++] = p;
	}
	pthread_mutex_unlock(&d->lock);
	return n;
}

static struct mp_path *first_usable(struct prpath_dev *d, bool registered)
{
	struct mp_path *v[PRPATH_DEV_MAX_PATHS];

	return usable_paths(d, v, registered) ? v[0] : NULL;
}

/* ---- probe ----------------------------------------------------------------------- */

#define MP_VPD_B0_ALLOC 64

/* INQUIRY VPD 0xB0: the largest transfer the device takes in one command
 * (reads and writes above it are split). A device without the page, or
 * an answer that does not decode, sets no limit. */
static void block_limits(struct prpath_dev *d, struct mp_path *p, uint8_t *buf)
{
	struct prpath_block_limits bl;
	struct pp_io io;
	struct mp_res r;
	int rc;

	io_init(d, &io);
	rc = prpath_cdb_inquiry(io.cdb, sizeof(io.cdb), true, 0xb0, MP_VPD_B0_ALLOC);
	if (rc < 0)
		return;
	io.cdb_len = (size_t)rc;
	io.din = buf;
	io.din_cap = MP_VPD_B0_ALLOC;
	if (res_err(path_cmd(d, p, &io, UA_RETRY, &r), &r) ||
	    prpath_decode_vpd_b0(buf, io.din_len, &bl) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	d->max_xfer_blocks = bl.max_xfer_len;
	pthread_mutex_unlock(&d->lock);
	if (bl.max_xfer_len)
		mp_log(d, 1, "maximum transfer length %" PRIu32 " blocks (VPD B0)",
		       bl.max_xfer_len);
}

static int geometry(struct prpath_dev *d, struct mp_path *p)
{
	struct prpath_capacity cap;
	uint8_t buf[32];
	struct pp_io io;
	struct mp_res r;
	int rc;

	io_init(d, &io);
	rc = prpath_cdb_read_capacity16(io.cdb, sizeof(io.cdb), sizeof(buf));
	if (rc < 0)
		return rc;
	io.cdb_len = (size_t)rc;
	io.din = buf;
	io.din_cap = sizeof(buf);
	rc = res_err(path_cmd(d, p, &io, UA_RETRY, &r), &r);
	if (rc)
		return rc;
	if (prpath_decode_read_capacity16(buf, io.din_len, &cap) < 0 ||
	    cap.block_size == 0 || cap.block_size > (1u << 24))
		return PRPATH_ERR_BAD_RESPONSE;
	pthread_mutex_lock(&d->lock); /* I/O threads may learn it at once */
	d->block_size = cap.block_size;
	d->blocks = cap.last_lba + 1;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* INQUIRY VPD 0x83 on @p: its LU identifier into @id (the device's, when
 * it has none yet; a different one marks the path wrong_lu, -EXDEV) and its
 * relative target port. @buf holds MP_VPD_ALLOC bytes (VPD B0 after it,
 * in probe). Returns 0, a transport error (the path failed), -EXDEV, or a
 * SCSI / BAD_RESPONSE error (the path is marked failed). */
static int path_identify(struct prpath_dev *d, struct mp_path *p, uint8_t *buf,
			 char *id, size_t idcap)
{
	struct pp_io io;
	struct mp_res r;
	uint16_t rtp;
	bool known;
	int rc;

	io_init(d, &io);
	rc = prpath_cdb_inquiry(io.cdb, sizeof(io.cdb), true, 0x83, MP_VPD_ALLOC);
	if (rc < 0)
		return rc;
	io.cdb_len = (size_t)rc;
	io.din = buf;
	io.din_cap = MP_VPD_ALLOC;
	rc = res_err(path_cmd(d, p, &io, UA_RETRY, &r), &r);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		rc = prpath_vpd83_lu_id(buf, io.din_len, id, idcap);
		rc = rc < 0 ? PRPATH_ERR_BAD_RESPONSE : 0;
	}
	if (rc) {
		mp_log(d, 0, "path %u: no usable LU identifier (%s)",
		       p->index + 1, prpath_strerror(rc));
		path_set_failed(p, rc);
		return rc;
	}
	known = prpath_vpd83_rel_tgt_port(buf, io.din_len, &rtp) == 0;
	pthread_mutex_lock(&d->lock);
	p->rtp_known = known;
	p->rtp = known ? rtp : 0;
	pthread_mutex_unlock(&d->lock);
	if (!d->lu_id[0]) {
		snprintf(d->lu_id, sizeof(d->lu_id), "%s", id);
	} else if (strcmp(d->lu_id, id) != 0) {
		mp_log(d, 0, "path %u leads to LU %s, not %s: path refused",
		       p->index + 1, id, d->lu_id);
		path_set_failed(p, -EXDEV);
		pthread_mutex_lock(&d->lock);
		p->wrong_lu = true;
		pthread_mutex_unlock(&d->lock);
		return -EXDEV;
	}
	pthread_mutex_lock(&d->lock);
	p->identified = true;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int prpath_dev_probe(struct prpath_dev *d)
{
	uint8_t *buf;
	size_t i;
	int ret = 0, rc;
	bool any = false;

	if (!d)
		return -EINVAL;
	buf = malloc(MP_VPD_ALLOC);
	if (!buf)
		return -ENOMEM;
	d->lu_id[0] = '\0';
	for (i = 0; i < d->npaths; i++) {
		struct mp_path *p = d->paths[i];
		char id[sizeof(d->lu_id)];

		pthread_mutex_lock(&d->lock);
		rc = path_usable_locked(p);
		pthread_mutex_unlock(&d->lock);
		if (!rc)
			continue;
		rc = path_identify(d, p, buf, id, sizeof(id));
		if (rc == -ENOMEM)
			goto out;
		if (rc < 0 && rc != -EXDEV)
			continue; /* path failed: the checker will retry */
		if (rc) {
			if (rc == -EXDEV || !ret)
				ret = rc;
			continue;
		}
		if (!any) {
			rc = geometry(d, p);
			if (rc) {
				if (!ret)
					ret = rc;
				continue;
			}
			block_limits(d, p, buf);
		}
		any = true;
	}
	if (!any && !ret)
		ret = PRPATH_ERR_NO_PATH;
	else if (ret != -EXDEV && any)
		ret = 0;
out:
	free(buf);
	return ret;
}

/* ---- registration helpers ------------------------------------------------------ */

/* Unregisters K (and RELEASEs @rel_type first when non-zero) on every
 * usable path that is or may be registered, concurrently. Returns 0 or
 * PRPATH_ERR_PARTIAL. */
static int unregister_all(struct prpath_dev *d, unsigned rel_type)
{
	struct fan *f;
	size_t i;
	int ret = 0;

	f = fan_new(d);
	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->npaths; i++) {
		struct mp_path *p = d->paths[i];

		if (!(p->registered || p->maybe_registered))
			continue;
		if (!path_usable_locked(p)) {
			ret = PRPATH_ERR_PARTIAL;
			continue;
		}
		struct fan_job *j = fan_add(f, p);

		if (rel_type) {
			job_op(j, OP_PR_OUT, PRPATH_PR_OUT_RELEASE, rel_type, d->key, 0);
			j->ops[0].ignore_conflict = true;
		}
		job_op(j, OP_PR_OUT, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0);
	}
	pthread_mutex_unlock(&d->lock);
	fan_start(f);
	fan_wait_all(f);
	for (i = 0; i < f->njobs; i++) {
		struct fan_job *j = &f->jobs[i];
		int urc = j->ops[j->nops - 1].res;

		if (j->ops[j->nops - 1].done && urc == 0) {
			path_set_registered(j->p, false);
		} else {
			mp_log(d, 0, "path %u: could not unregister key: %s",
			       j->p->index + 1, prpath_strerror(urc));
			pthread_mutex_lock(&d->lock);
			j->p->last_error = urc ? urc : -EIO;
			pthread_mutex_unlock(&d->lock);
			ret = PRPATH_ERR_PARTIAL;
		}
	}
	fan_free(f);
	return ret;
}

/* Evaluates a registration fan-out: marks registered paths, retries SCSI
 * failures once, rolls back on a lasting partial failure. @op is the index
 * of the REGISTER op in each job. Returns 0, PRPATH_ERR_NO_PATH or
 * PRPATH_ERR_PARTIAL (rolled back). */
static int registration_result(struct prpath_dev *d, struct fan *f)
{
	size_t i;
	unsigned nreg = 0, nbad = 0;

	for (i = 0; i < f->njobs; i++) {
		struct fan_job *j = &f->jobs[i];
		struct mp_op *op = &j->ops[j->nops - 1];
		int rc = op->done ? op->res : -EIO;

		if (op->sa != PRPATH_PR_OUT_REGISTER_AND_IGNORE)
			continue;
		if (rc == 0) {
			path_set_registered(j->p, true);
			nreg++;
			continue;
		}
		if (rc < 0) {
			/* transport failure: the path is failed; it may have
			 * registered: the checker or close takes care */
			pthread_mutex_lock(&d->lock);
			j->p->maybe_registered = true;
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		/* SCSI failure: complete it once more */
		{
			struct mp_res r;

			rc = pr_out(d, j->p, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0,
				    d->key, &r);
		}
		if (rc == 0) {
			path_set_registered(j->p, true);
			nreg++;
			continue;
		}
		pthread_mutex_lock(&d->lock);
		j->p->last_error = rc;
		if (rc < 0)
			j->p->maybe_registered = true;
		pthread_mutex_unlock(&d->lock);
		if (rc > 0) {
			mp_log(d, 0, "path %u: registration failed: %s",
			       j->p->index + 1, prpath_strerror(rc));
			nbad++;
		}
	}
	if (nbad) {
		mp_log(d, 0, "registration failed on %u path(s): rolling back", nbad);
		unregister_all(d, 0);
		return PRPATH_ERR_PARTIAL;
	}
	return nreg ? 0 : PRPATH_ERR_NO_PATH;
}

/* REGISTER AND IGNORE EXISTING KEY K on every usable path, concurrently. */
static int register_all(struct prpath_dev *d)
{
	struct mp_path *v[PRPATH_DEV_MAX_PATHS];
	struct fan *f;
	size_t i, n;
	int rc;

	n = usable_paths(d, v, false);
	if (!n)
		return PRPATH_ERR_NO_PATH;
	f = fan_new(d);
	if (!f)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		job_op(fan_add(f, v[i]), OP_PR_OUT, PRPATH_PR_OUT_REGISTER_AND_IGNORE,
		       0, 0, d->key);
	fan_start(f);
	fan_wait_all(f);
	rc = registration_result(d, f);
	fan_free(f);
	return rc;
}

/* Registers path @p if and only if K is still registered on the LU (and,
 * with @check_holder, this host still holds the reservation: READ
 * RESERVATION after the first READ KEYS): READ KEYS before, REGISTER AND
 * IGNORE, READ KEYS after. A preemption that
 * raced with our REGISTER leaves at most our one fresh registration: then
 * that registration is removed again and the device is fenced. */
static int holder_still_ours(struct prpath_dev *d, struct mp_path *p);

static int reregister_path_locked(struct prpath_dev *d, struct mp_path *p,
				  bool check_holder)
{
	struct mp_keys before, after;
	struct mp_res r;
	bool ok;
	int rc;

	rc = read_keys(d, p, &before);
	if (rc)
		return rc;
	if (!before.nk) {
		set_fenced(d, (int)p->index, 0);
		return PRPATH_ERR_FENCED;
	}
	if (check_holder && (rc = holder_still_ours(d, p)) != 0)
		return rc;
	rc = pr_out(d, p, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, d->key, &r);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->lock);
	p->maybe_registered = true;
	pthread_mutex_unlock(&d->lock);
	rc = read_keys(d, p, &after);
	if (rc)
		return rc;
	ok = after.nk > 0 &&
	     (after.generation == before.generation + 1 ||
	      (after.nk >= 2 && after.nk >= before.nk));
	if (!ok) {
		mp_log(d, 0, "path %u: key preempted while re-registering: undoing",
		       p->index + 1);
		rc = pr_out(d, p, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0, &r);
		if (rc == 0)
			path_set_registered(p, false);
		set_fenced(d, (int)p->index, 0);
		return PRPATH_ERR_FENCED;
	}
	path_set_registered(p, true);
	mp_log(d, 1, "path %u registered", p->index + 1);
	{
		size_t i, nreg = 0;

		pthread_mutex_lock(&d->lock);
		for (i = 0; i < d->npaths; i++)
			if (d->paths[i]->registered)
				nreg++;
		if (after.nk > nreg)
			d->stale_keys = true;
		pthread_mutex_unlock(&d->lock);
		if (after.nk > nreg)
			mp_log(d, 1, "key registered %zu times for %zu registered path(s): the device kept the registration of a lost session",
			       after.nk, nreg);
	}
	return 0;
}

/* The K-present rule applies only while this host holds the reservation
 * (or, for an all-registrants type, while one exists): K can stay
 * registered under another host's registrants-only reservation (taken by
 * a tool that does not remove other keys), and a path registered there
 * again would let this host write over that host. READ RESERVATION on @p
 * before. Returns 0, PRPATH_ERR_RESERVED (our reservation is lost: said
 * once, as a 2A/04 would) or the error. */
static int holder_still_ours(struct prpath_dev *d, struct mp_path *p)
{
	struct mp_resv rv;
	bool first;
	int rc = read_resv(d, p, &rv);

	if (rc)
		return rc;
	if (rv.reserved && (prpath_pr_type_all_registrants(rv.type) || rv.key == d->key))
		return 0;
	pthread_mutex_lock(&d->lock);
	first = !d->res_lost;
	d->res_lost = true;
	pthread_mutex_unlock(&d->lock);
	if (rv.reserved)
		mp_log(d, 0, "path %u: the LU is reserved by key 0x%016llx (%s): not registered again, our key notwithstanding",
		       p->index + 1, (unsigned long long)rv.key, prpath_pr_type_name(rv.type));
	else
		mp_log(d, 0, "path %u: the LU is no longer reserved: not registered again",
		       p->index + 1);
	if (first)
		emit(d, PRPATH_EVENT_RESERVATION_LOST, (int)p->index, 0);
	return PRPATH_ERR_RESERVED;
}

/* Two paths re-registered at once (two I/O threads, or I/O and the path
 * checker) would each see the other's fresh registration of K after a
 * preemption and take it for a surviving one: one at a time. */
static int reregister_path(struct prpath_dev *d, struct mp_path *p)
{
	bool shut;
	int rc;

	pthread_mutex_lock(&d->rereg_lock);
	/* Never once close has begun: close unregisters K after the last
	 * re-registration that began before it (it takes rereg_lock once),
	 * and a REGISTER after that would leave K behind. */
	pthread_mutex_lock(&d->lock);
	shut = d->closing || !d->open;
	pthread_mutex_unlock(&d->lock);
	if (shut)
		rc = -ESHUTDOWN;
	else if (is_fenced(d))
		rc = PRPATH_ERR_FENCED;
	else
		rc = reregister_path_locked(d, p, true);
	pthread_mutex_unlock(&d->rereg_lock);
	return rc;
}

/* ---- what the device says about this host ---------------------------------- */

#define MP_FS_ALLOC 65535       /* READ FULL STATUS allocation length */

/* Whether READ FULL STATUS descriptor @fd names @q's I_T nexus
 * (initiator port name and relative target port). False for a path
 * without an identity. Under d->lock. */
static bool nexus_is(const struct mp_path *q,
		     const struct prpath_full_status_desc *fd)
{
	const char *pn = q->conn->ops->port_name ?
			 q->conn->ops->port_name(q->conn) : NULL;
	char name[PRPATH_PORT_NAME_MAX];

	return pn && *pn && q->rtp_known && fd->tid_valid &&
	       prpath_tid_port_name(&fd->tid, name, sizeof(name)) >= 0 &&
	       strcasecmp(name, pn) == 0 &&
	       (fd->all_tg_pt || fd->rel_tgt_port == q->rtp);
}

/* READ FULL STATUS on @p: marks every path whose nexus (initiator port
 * name + relative target port) is registered with K (dev_reg) and which
 * one holds the reservation (dev_holder). Paths without an identity stay
 * unknown (-1). Returns 0, or the error (ILLEGAL REQUEST: the device has
 * no READ FULL STATUS; every path stays unknown). */
static int full_status(struct prpath_dev *d, struct mp_path *p)
{
	struct prpath_full_status fs;
	struct prpath_full_status_desc *desc;
	struct mp_res r;
	uint8_t *buf;
	size_t len, i, k;
	int rc;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->npaths; i++) {
		d->paths[i]->dev_reg = -1;
		d->paths[i]->dev_holder = false;
	}
	d->key_foreign = 0;
	d->key_elsewhere = 0;
	d->holder_foreign = false;
	d->holder_ours = false;
	d->foreign_name[0] = 0;
	pthread_mutex_unlock(&d->lock);
	buf = malloc(MP_FS_ALLOC);
	desc = calloc(MP_FS_ALLOC / 24 + 1, sizeof(*desc));
	if (!buf || !desc) {
		free(buf);
		free(desc);
		return -ENOMEM;
	}
	rc = pr_in(d, p, PRPATH_PR_IN_READ_FULL_STATUS, buf, MP_FS_ALLOC, &len, &r);
	if (rc)
		goto out;
	memset(&fs, 0, sizeof(fs));
	fs.desc = desc;
	fs.desc_cap = MP_FS_ALLOC / 24 + 1;
	if (prpath_decode_read_full_status(buf, len, &fs) < 0 || fs.truncated) {
		mp_log(d, 0, "path %u: malformed READ FULL STATUS data (%zu bytes)",
		       p->index + 1, len);
		rc = PRPATH_ERR_BAD_RESPONSE;
		goto out;
	}
	pthread_mutex_lock(&d->lock);
	for (k = 0; k < fs.ndesc; k++) {
		bool mine = false;

		if (desc[k].tid_valid && desc[k].r_holder &&
		    strcasecmp(desc[k].tid.name, d->initiator) == 0)
			d->holder_ours = true;
		if (!desc[k].tid_valid || desc[k].key != d->key)
			continue;
		if (strcasecmp(desc[k].tid.name, d->initiator) != 0) {
			if (!d->key_foreign++)
				snprintf(d->foreign_name, sizeof(d->foreign_name), "%s",
					 desc[k].tid.name);
			if (desc[k].r_holder)
				d->holder_foreign = true;
			continue;
		}
		for (i = 0; i < d->npaths && !mine; i++)
			mine = nexus_is(d->paths[i], &desc[k]);
		if (!mine)
			d->key_elsewhere++;
	}
	for (i = 0; i < d->npaths; i++) {
		struct mp_path *q = d->paths[i];
		const char *pn = q->conn->ops->port_name ?
				 q->conn->ops->port_name(q->conn) : NULL;

		if (!pn || !*pn || !q->rtp_known)
			continue;
		q->dev_reg = 0;
		for (k = 0; k < fs.ndesc; k++) {
			if (desc[k].key != d->key || !nexus_is(q, &desc[k]))
				continue;
			q->dev_reg = 1;
			if (desc[k].r_holder)
				q->dev_holder = true;
		}
	}
	pthread_mutex_unlock(&d->lock);
out:
	free(buf);
	free(desc);
	return rc;
}

/* READ KEYS on the first usable path, moving on after transport errors. */
static int read_keys_any(struct prpath_dev *d, struct mp_keys *k)
{
	for (;;) {
		struct mp_path *p = first_usable(d, false);
		int rc;

		if (!p)
			return PRPATH_ERR_NO_PATH;
		rc = read_keys(d, p, k);
		if (rc >= 0)
			return rc;
	}
}

/* READ FULL STATUS on the first usable path; 0 when the device answered
 * (dev_reg / dev_holder are then known for every path with an identity). */
static int full_status_any(struct prpath_dev *d)
{
	for (;;) {
		struct mp_path *p = first_usable(d, false);
		int rc;

		if (!p)
			return PRPATH_ERR_NO_PATH;
		rc = full_status(d, p);
		if (rc >= 0)
			return rc;
	}
}

/* ---- other hosts' keys ------------------------------------------------------ */

static int preempt(struct prpath_dev *d, struct mp_path *p, uint64_t victim,
		   unsigned type, bool abort);
static int key_accounted(struct prpath_dev *d, size_t nk, size_t nreg);

/* READ KEYS on the first usable path (registered ones only with
 * @registered), remembering the keys other than K. Returns the path it
 * answered on through @on (may be NULL). */
static int read_others_any(struct prpath_dev *d, bool registered,
			   struct mp_keys *k, struct mp_path **on)
{
	for (;;) {
		struct mp_path *p = first_usable(d, registered);
		int rc;

		if (!p)
			return PRPATH_ERR_NO_PATH;
		rc = read_keys_on(d, p, k, true);
		if (rc >= 0) {
			if (on)
				*on = p;
			return rc;
		}
	}
}

static void log_others(struct prpath_dev *d, const char *what)
{
	char list[160];
	size_t i, off = 0;

	list[0] = 0;
	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->nothers && off + 24 < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s0x%016llx",
					i ? ", " : "", (unsigned long long)d->others[i]);
	if (i < d->nothers)
		snprintf(list + off, sizeof(list) - off, " and %zu more", d->nothers - i);
	mp_log(d, 0, "%zu registration(s) of other keys (%s): %s",
	       d->nother_regs, list, what);
	pthread_mutex_unlock(&d->lock);
}

/* An exclusive open looks before it sends anything: another host's key
 * registered on the LU could write under the registrants-only reservation
 * the open would take (a host that released through fewer paths than it
 * registered, a host that only registered). Refused; a takeover is what
 * removes them. Returns 0, PRPATH_ERR_OTHER_KEYS or an error. */
static int refuse_others(struct prpath_dev *d, bool fresh)
{
	struct mp_keys k = { 0 };
	int rc = read_others_any(d, false, &k, NULL);

	free(k.cur);
	if (rc)
		return rc;
	/* K registered before this open registered anything: ours (a lost
	 * session, a path not given: removed once we hold) or another
	 * initiator's (refused now) */
	if (fresh && k.nk) {
		rc = key_accounted(d, k.nk, 0);
		if (rc < 0 || rc > 1)
			return rc;
	}
	if (k.n == k.nk)
		return 0;
	log_others(d, "not opening (a takeover preempts them)");
	return PRPATH_ERR_OTHER_KEYS;
}

/* This host has just taken the reservation: every other key still
 * registered is preempted (PREEMPT AND ABORT: their queued commands go
 * too), so that only this host can write. A takeover meets them (the old
 * owner's other registrations, hosts that only registered); an exclusive
 * open meets those that registered while it ran. Returns 0 or an error. */
/* READ KEYS sent ahead, on a path of its own, while another command runs
 * (keys_ahead_start()); used by preempt_others() as its first look. */
struct keys_ahead {
	struct prpath_dev *d;
	struct mp_path *p;
	struct mp_keys k;
	pthread_t th;
	bool started;
	int rc;
};

static void *keys_ahead_run(void *arg)
{
	struct keys_ahead *ka = arg;

	ka->rc = read_keys_on(ka->d, ka->p, &ka->k, true);
	return NULL;
}

/* Starts READ KEYS on registered path @p in a thread of its own; when no
 * thread can be had, nothing is read ahead (rc < 0). */
static void keys_ahead_start(struct keys_ahead *ka, struct prpath_dev *d,
			     struct mp_path *p)
{
	memset(ka, 0, sizeof(*ka));
	ka->d = d;
	ka->p = p;
	ka->rc = -EAGAIN;
	if (p && mp_thread(&ka->th, keys_ahead_run, ka) == 0)
		ka->started = true;
}

static void keys_ahead_wait(struct keys_ahead *ka)
{
	if (ka->started) {
		pthread_join(ka->th, NULL);
		ka->started = false;
	}
}

/* @ahead (may be NULL): READ KEYS already done, its answer the first look
 * when it succeeded. */
static int preempt_others(struct prpath_dev *d, unsigned type, size_t *nk,
			  struct keys_ahead *ahead)
{
	unsigned tries;
	bool sent = false;
	int rc = 0;

	/* a path that fails on the way (a transport error: its command
	 * may have been aborted) is marked failed: look again on the next */
	for (tries = 0; tries < MP_RACE_RETRIES; tries++) {
		struct mp_path *p = NULL;
		struct mp_keys k = { 0 };
		size_t i;

		if (tries == 0 && ahead && ahead->rc >= 0) {
			k = ahead->k;
			ahead->k.cur = NULL; /* ours now */
			p = ahead->p;
			rc = ahead->rc;
		} else {
			rc = read_others_any(d, true, &k, &p);
		}
		if (rc || k.n == k.nk) {
			free(k.cur);
			if (rc)
				return rc;
			*nk = k.nk;
			break;
		}
		log_others(d, "preempting them");
		for (i = 0; i < k.ncur && rc == 0; i++)
			rc = preempt(d, p, k.cur[i], type, true);
		free(k.cur);
		sent = true;
		if (rc == 0)
			break;
		/* RESERVATION CONFLICT: the key went away by itself since
		 * READ KEYS (its host unregistered; SPC-4 answers a PREEMPT of
		 * a key nobody holds with a conflict), or we were preempted:
		 * look again */
		if (rc > 0 && rc != PRPATH_ERR_CONFLICT)
			return rc;
	}
	if (rc == 0 && sent) {
		pthread_mutex_lock(&d->lock);
		d->others_preempted = true;
		pthread_mutex_unlock(&d->lock);
	}
	return rc;
}

static size_t count_registered(struct prpath_dev *d)
{
	size_t i, n = 0;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->npaths; i++)
		if (d->paths[i]->registered)
			n++;
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* Logs, and returns PRPATH_ERR_KEY_SHARED, when the last READ FULL STATUS
 * showed K registered through another initiator; else 0. */
static int key_shared(struct prpath_dev *d)
{
	size_t n;
	char name[PRPATH_DESC_MAX];

	pthread_mutex_lock(&d->lock);
	n = d->key_foreign;
	snprintf(name, sizeof(name), "%s", d->foreign_name);
	pthread_mutex_unlock(&d->lock);
	if (!n)
		return 0;
	mp_log(d, 0, "key 0x%016llx is registered by initiator %s too (%zu registration(s)): two hosts with one key are one host to the LU; give each host its own key",
	       (unsigned long long)d->key, name, n);
	return PRPATH_ERR_KEY_SHARED;
}

/* K is registered @nk times (READ KEYS) and through @nreg of our paths:
 * more means registrations of K we do not account for. READ FULL STATUS
 * tells whose: another initiator's: PRPATH_ERR_KEY_SHARED; ours, through
 * nexuses that are none of our paths: 1. 0 when every one is ours, or
 * when the device cannot say (no READ FULL STATUS: logged). */
static int key_accounted(struct prpath_dev *d, size_t nk, size_t nreg)
{
	size_t elsewhere;
	int rc;

	if (nk <= nreg)
		return 0;
	rc = full_status_any(d);
	if (rc) {
		mp_log(d, 1, "key registered %zu times for %zu path(s) of ours; the device cannot say through which nexuses (%s)",
		       nk, nreg, prpath_strerror(rc));
		return 0;
	}
	rc = key_shared(d);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->lock);
	elsewhere = d->key_elsewhere;
	pthread_mutex_unlock(&d->lock);
	return elsewhere ? 1 : 0;
}

/* Removes K's registrations through nexuses that are none of our paths
 * (a lost session's, a path not given this time): a PREEMPT of K from our
 * first registered path keeps that nexus and the reservation (of @type)
 * and drops every other registration of K, ours included; our other
 * usable paths then register again at once (not in single mode: one
 * path). The unit attentions it queues for our own nexuses are ours. */
static int own_key_only_on(struct prpath_dev *d, unsigned type)
{
	struct mp_path *q = first_usable(d, true);
	struct mp_res r;
	bool single;
	size_t i;
	int rc;

	if (!q)
		return PRPATH_ERR_NO_PATH;
	pthread_mutex_lock(&d->lock);
	single = d->mode == PRPATH_MODE_SINGLE;
	for (i = 0; i < d->npaths; i++) {
		struct mp_path *p = d->paths[i];

		if (p == q || !(p->registered || p->maybe_registered))
			continue;
		p->own_preempt++;
		p->registered = false;
	}
	pthread_mutex_unlock(&d->lock);
	mp_log(d, 1, "key 0x%016llx is registered through nexuses that are none of these paths: PREEMPT of our own key on path %u",
	       (unsigned long long)d->key, q->index + 1);
	rc = pr_out(d, q, PRPATH_PR_OUT_PREEMPT, type, d->key, d->key, &r);
	if (rc)
		return rc;
	return single ? 0 : register_all(d);
}

/* The last step of an exclusive open (exclusive, single, force) once it
 * holds the LU: every other key preempted, and K registered through our
 * paths only. */
static int make_exclusive_ahead(struct prpath_dev *d, unsigned type,
				struct keys_ahead *ahead)
{
	size_t nk = 0;
	int rc = preempt_others(d, type, &nk, ahead);

	if (rc == 0)
		rc = key_accounted(d, nk, count_registered(d));
	if (rc == 1)
		rc = own_key_only_on(d, type);
	return rc;
}

static int make_exclusive(struct prpath_dev *d, unsigned type)
{
	return make_exclusive_ahead(d, type, NULL);
}

size_t prpath_dev_other_keys(struct prpath_dev *d, uint64_t *keys, size_t cap,
			     size_t *nregs, bool *preempted)
{
	size_t n;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	n = d->nothers;
	if (keys)
		memcpy(keys, d->others, (cap < n ? cap : n) * sizeof(*keys));
	if (nregs)
		*nregs = d->nother_regs;
	if (preempted)
		*preempted = d->others_preempted;
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* ---- open ------------------------------------------------------------------------ */

static unsigned open_type(enum prpath_open_mode mode, unsigned flags)
{
	unsigned t = PRPATH_OPEN_TYPE_OF(flags);
	bool ea = flags & PRPATH_OPEN_EA;

	if (t)
		return t;
	switch (mode) {
	case PRPATH_MODE_EXCLUSIVE:
	case PRPATH_MODE_FORCE:
		return ea ? PRPATH_PR_TYPE_EARO : PRPATH_PR_TYPE_WERO;
	case PRPATH_MODE_SHARED:
		return ea ? PRPATH_PR_TYPE_EAAR : PRPATH_PR_TYPE_WEAR;
	case PRPATH_MODE_SINGLE:
		return ea ? PRPATH_PR_TYPE_EA : PRPATH_PR_TYPE_WE;
	default:
		return 0;
	}
}

/* RESERVE @type on the first registered path; a conflict is checked with
 * READ RESERVATION (our own holder path may have failed after reserving).
 * Returns 0, PRPATH_ERR_RESERVED or an error. */
static int reserve_one(struct prpath_dev *d, unsigned type)
{
	struct mp_path *v[PRPATH_DEV_MAX_PATHS];
	size_t i, n;
	int rc = PRPATH_ERR_NO_PATH;

	n = usable_paths(d, v, true);
	for (i = 0; i < n; i++) {
		struct mp_resv rv;
		struct mp_res r;

		rc = pr_out(d, v[i], PRPATH_PR_OUT_RESERVE, type, d->key, 0, &r);
		if (rc < 0)
			continue;
		if (rc != PRPATH_ERR_CONFLICT)
			return rc;
		rc = read_resv(d, v[i], &rv);
		if (rc < 0)
			continue;
		if (rc)
			return rc;
		if (rv.reserved && rv.key == d->key && rv.type == type)
			return 0;
		return PRPATH_ERR_RESERVED;
	}
	return rc;
}

static int preempt(struct prpath_dev *d, struct mp_path *p, uint64_t victim,
		   unsigned type, bool abort)
{
	struct mp_res r;
	int rc;

	if (abort) {
		rc = pr_out(d, p, PRPATH_PR_OUT_PREEMPT_AND_ABORT, type, d->key,
			    victim, &r);
		if (rc != PRPATH_ERR_ILLEGAL_REQUEST || !illegal_unsupported(&r))
			return rc;
		mp_log(d, 1, "path %u: PREEMPT AND ABORT not supported, using PREEMPT",
		       p->index + 1);
	}
	return pr_out(d, p, PRPATH_PR_OUT_PREEMPT, type, d->key, victim, &r);
}

/* Undoes the registrations of a failed open that failed with @rc. When
 * the undo fails on a path that still answers, K is left registered there:
 * that is PRPATH_ERR_PARTIAL, never "reserved by another host" (which
 * promises that nothing of ours is left). A path that failed during the
 * open (its REGISTER got no answer, typically aborted by the other host's
 * PREEMPT AND ABORT) is shown failed in the status; it is logged here. */
static int open_undo(struct prpath_dev *d, int rc)
{
	bool left = false;
	size_t i;

	if (unregister_all(d, 0)) {
		pthread_mutex_lock(&d->lock);
		for (i = 0; i < d->npaths; i++) {
			struct mp_path *p = d->paths[i];

			if (!(p->registered || p->maybe_registered))
				continue;
			if (path_usable_locked(p))
				left = true;
			else
				p->undo_pending = true; /* reinstate() finishes it */
		}
		pthread_mutex_unlock(&d->lock);
		mp_log(d, 0, "key may still be registered on some %spath (see status)",
		       left ? "" : "failed ");
		if (left)
			return PRPATH_ERR_PARTIAL;
	}
	return rc == PRPATH_ERR_CONFLICT ? PRPATH_ERR_RESERVED : rc;
}

/* READ RESERVATION on the first usable path (registered ones only with
 * @registered), moving on to the next path on transport errors. */
static int read_resv_any(struct prpath_dev *d, bool registered, struct mp_resv *rv)
{
	for (;;) {
		struct mp_path *p = first_usable(d, registered);
		int rc;

		if (!p)
			return PRPATH_ERR_NO_PATH;
		rc = read_resv(d, p, rv);
		if (rc >= 0)
			return rc;
	}
}

/* After every registration of an open has completed: READ RESERVATION on
 * a registered path, 0 when K holds the LU with @type (any key for an
 * all-registrants type), PRPATH_ERR_RESERVED when another host does or it
 * is free, else the error. */
static int check_holder(struct prpath_dev *d, unsigned type)
{
	struct mp_resv rv;
	int rc = read_resv_any(d, true, &rv);

	if (rc)
		return rc;
	if (rv.reserved && rv.type == type &&
	    (rv.key == d->key || prpath_pr_type_all_registrants(type)))
		return 0;
	mp_log(d, 0, "LU %s during open: undoing registrations",
	       rv.reserved ? "taken by another host" : "released");
	return PRPATH_ERR_RESERVED;
}

/* The LU was found unreserved: register every path, RESERVE on one. */
static int open_exclusive(struct prpath_dev *d, unsigned type)
{
	int rc = register_all(d);

	if (rc)
		return rc;
	rc = reserve_one(d, type);
	if (rc) {
		mp_log(d, 0, "RESERVE failed (%s): undoing registrations",
		       prpath_strerror(rc));
		return open_undo(d, rc);
	}
	rc = make_exclusive(d, type);
	if (rc) {
		mp_log(d, 0, "could not make the LU this host's alone (%s): undoing",
		       prpath_strerror(rc));
		rc = open_undo(d, rc);
	}
	return rc;
}

/* Takes the reservation given the holder @rv, on registered path @p. */
static int force_acquire(struct prpath_dev *d, struct mp_path *p,
			 struct mp_resv *rv, unsigned type, bool *own_ua)
{
	/* A takeover takes the LU from whoever held it when it began. A
	 * holder that appears while it runs is another takeover (or open)
	 * that won the race: preempting it in turn would let both report
	 * success, one of them no longer holding the LU. Lose instead. */
	const bool was_reserved = rv->reserved;
	const uint64_t victim = rv->key;
	unsigned tries;
	int rc = 0;

	for (tries = 0; tries < MP_RACE_RETRIES; tries++) {
		if (tries && rv->reserved && rv->key != d->key &&
		    (!was_reserved || rv->key != victim)) {
			mp_log(d, 0, "takeover lost: key 0x%016llx took the LU meanwhile (%s)",
			       (unsigned long long)rv->key, prpath_pr_type_name(rv->type));
			return PRPATH_ERR_RESERVED;
		}
		if (!rv->reserved) {
			rc = reserve_one(d, type);
			if (rc == 0)
				return 0;
		} else if (rv->key == d->key && rv->type == type &&
			   !prpath_pr_type_all_registrants(rv->type)) {
			return 0;
		} else if (prpath_pr_type_all_registrants(rv->type)) {
			/* SARK 0 removes every other registration, our other
			 * paths included: they are registered again after */
			rc = preempt(d, p, 0, type, true);
			if (rc == 0) {
				size_t i;

				pthread_mutex_lock(&d->lock);
				for (i = 0; i < d->npaths; i++)
					if (d->paths[i] != p)
						d->paths[i]->registered = false;
				pthread_mutex_unlock(&d->lock);
				return register_all(d);
			}
		} else {
			rc = preempt(d, p, rv->key, type, rv->key != d->key);
			if (rc == 0) {
				*own_ua = rv->key == d->key || rv->type != type;
				return 0;
			}
		}
		if (rc < 0 || (rc != PRPATH_ERR_CONFLICT && rc != PRPATH_ERR_RESERVED))
			return rc;
		/* the holder changed under us: look again */
		rc = read_resv(d, p, rv);
		if (rc)
			return rc;
	}
	return rc ? rc : PRPATH_ERR_RESERVED;
}

static int open_force(struct prpath_dev *d, unsigned type)
{
	struct mp_path *v[PRPATH_DEV_MAX_PATHS];
	struct mp_op *rr_op;
	struct mp_resv rv;
	struct mp_path *p;
	struct fan *f;
	size_t i, n, rr_job;
	bool verify, own_ua = false;
	int rc, acq;

	n = usable_paths(d, v, false);
	if (!n)
		return PRPATH_ERR_NO_PATH;
	f = fan_new(d);
	if (!f)
		return -ENOMEM;
	/* READ RESERVATION goes out with the registrations (on the second
	 * path, so the first registration is not delayed), and PREEMPT
	 * follows the first registration that completes: ~2 round trips. */
	rr_job = n > 1 ? 1 : 0;
	for (i = 0; i < n; i++) {
		struct fan_job *j = fan_add(f, v[i]);

		if (i == rr_job)
			job_op(j, OP_PR_IN_RESV, 0, 0, 0, 0);
		job_op(j, OP_PR_OUT, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, d->key);
	}
	rr_op = &f->jobs[rr_job].ops[0];
	fan_start(f);

	pthread_mutex_lock(&f->lock);
	while ((f->first_ok < 0 || !rr_op->done) && f->ndone < f->njobs)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);

	if (f->first_ok < 0) {
		fan_wait_all(f);
		rc = registration_result(d, f);
		fan_free(f);
		return rc ? rc : PRPATH_ERR_NO_PATH;
	}
	p = f->jobs[f->first_ok].p;
	path_set_registered(p, true);
	rc = rr_op->res;
	if (rc == 0)
		rc = decode_resv(d, rr_op->din, rr_op->din_len, &rv);
	else if (rc < 0)
		rc = read_resv(d, p, &rv);
	acq = rc ? rc : force_acquire(d, p, &rv, type, &own_ua);

	fan_wait_all(f);
	rc = registration_result(d, f);
	verify = f->njobs > 1;
	fan_free(f);
	if (acq < 0) {
		/* our command was aborted (or the path failed): another
		 * takeover's PREEMPT AND ABORT ends the commands of the host it
		 * preempts. Who holds the LU now says whether we lost. */
		struct mp_resv now;

		if (read_resv_any(d, false, &now) == 0 && now.reserved &&
		    now.key != d->key) {
			mp_log(d, 0, "takeover lost: key 0x%016llx took the LU meanwhile (%s)",
			       (unsigned long long)now.key, prpath_pr_type_name(now.type));
			acq = PRPATH_ERR_RESERVED;
		}
	}
	if (acq) {
		mp_log(d, 0, "takeover failed (%s): undoing registrations",
		       prpath_strerror(acq));
		return open_undo(d, acq);
	}
	if (rc == PRPATH_ERR_PARTIAL)
		return rc; /* rolled back */
	if (rc && rc != PRPATH_ERR_NO_PATH)
		return rc;
	if (!verify) {
		rc = make_exclusive(d, type);
		return rc ? open_undo(d, rc) : 0;
	}
	if (own_ua) {
		/* our PREEMPT changed the type (2A/04 to our paths registered
		 * before it) or preempted our own key (2A/05 and K removed
		 * there): register every path again, which consumes those
		 * unit attentions before any I/O reads them as ours */
		rc = register_all(d);
		if (rc == PRPATH_ERR_PARTIAL)
			return rc; /* rolled back */
		if (rc)
			return open_undo(d, rc);
	}
	/* Registrations that completed after the PREEMPT went out may have
	 * landed after another host preempted us in turn: they would leave
	 * K registered behind that host's reservation. Check who holds the
	 * LU now that every registration is done. Then other hosts' keys
	 * still registered go: once we hold, a PREEMPT of a key that is not
	 * the holder's removes its registrations only, and should a rival
	 * take the LU in between, our key is gone and our PREEMPT conflicts.
	 * Both looks (READ RESERVATION, READ KEYS) go out at once, on two
	 * registered paths: one round trip. */
	{
		struct mp_path *v2[PRPATH_DEV_MAX_PATHS];
		struct keys_ahead ka;
		size_t n2 = usable_paths(d, v2, true);

		keys_ahead_start(&ka, d, n2 > 1 ? v2[n2 - 1] : NULL);
		rc = check_holder(d, type);
		keys_ahead_wait(&ka);
		if (rc == 0)
			rc = make_exclusive_ahead(d, type, &ka);
		free(ka.k.cur);
	}
	return rc ? open_undo(d, rc) : 0;
}

static int open_shared(struct prpath_dev *d, unsigned type)
{
	struct mp_resv rv;
	struct mp_path *p;
	unsigned tries;
	int rc;

	rc = register_all(d);
	if (rc)
		return rc;
	for (tries = 0; tries < MP_RACE_RETRIES; tries++) {
		p = first_usable(d, true);
		if (!p) {
			rc = PRPATH_ERR_NO_PATH;
			break;
		}
		rc = read_resv(d, p, &rv);
		if (rc < 0)
			continue;
		if (rc)
			break;
		if (rv.reserved && prpath_pr_type_all_registrants(rv.type))
			return 0;
		if (rv.reserved && rv.key != d->key) {
			rc = PRPATH_ERR_RESERVED;
			break;
		}
		if (rv.reserved) {
			/* our own registrants-only reservation, taken by
			 * another open of this host since we looked: never
			 * converted (a PREEMPT of our own key would strip our
			 * other paths) */
			mp_log(d, 0, "LU reserved by this host (%s) during the open",
			       prpath_pr_type_name(rv.type));
			rc = PRPATH_ERR_HELD_OTHERWISE;
			break;
		} else {
			rc = reserve_one(d, type);
			if (rc == 0)
				return 0;
		}
		if (rc != PRPATH_ERR_RESERVED && rc != PRPATH_ERR_CONFLICT &&
		    rc > 0)
			break;
		/* lost a race with another shared host: look again */
	}
	mp_log(d, 0, "shared open failed (%s): undoing registrations",
	       prpath_strerror(rc));
	return open_undo(d, rc);
}

static int open_single(struct prpath_dev *d, unsigned type)
{
	struct mp_path *p;
	struct mp_res r;
	int rc;

	for (;;) {
		p = first_usable(d, false);
		if (!p)
			return PRPATH_ERR_NO_PATH;
		rc = pr_out(d, p, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, d->key, &r);
		if (rc >= 0)
			break;
		/* the REGISTER may have reached the device */
		pthread_mutex_lock(&d->lock);
		p->maybe_registered = true;
		pthread_mutex_unlock(&d->lock);
	}
	if (rc)
		return open_undo(d, rc);
	path_set_registered(p, true);
	rc = pr_out(d, p, PRPATH_PR_OUT_RESERVE, type, d->key, 0, &r);
	if (rc) {
		mp_log(d, 0, "RESERVE failed (%s): undoing registration",
		       prpath_strerror(rc));
		return open_undo(d, rc);
	}
	rc = make_exclusive(d, type);
	if (rc) {
		mp_log(d, 0, "could not make the LU this host's alone (%s): undoing",
		       prpath_strerror(rc));
		return open_undo(d, rc);
	}
	d->single_path = (int)p->index;
	return 0;
}

static bool single_nexus_type(unsigned type)
{
	return type == PRPATH_PR_TYPE_WE || type == PRPATH_PR_TYPE_EA;
}

/* This host already holds (or shares) the reservation, of @type: makes
 * every usable path of ours registered, sending REGISTER only where READ
 * FULL STATUS does not show the path's nexus registered with K (on every
 * path when the device cannot tell: tgt ties registrations to sessions),
 * each under the "K present" rule. With a single-nexus type (WE, EA) only
 * the holder path is used. Nothing is removed. Returns 0,
 * PRPATH_ERR_NOT_HOLDER, PRPATH_ERR_FENCED or PRPATH_ERR_NO_PATH. */
static int join_held(struct prpath_dev *d, unsigned type)
{
	struct mp_path *v[PRPATH_DEV_MAX_PATHS];
	size_t i, n, nreg = 0;
	bool fs, elsewhere = false;
	int rc, last = PRPATH_ERR_NO_PATH;

	fs = full_status_any(d) == 0;
	if (fs && (rc = key_shared(d)) != 0)
		return rc;
	if (fs) {
		pthread_mutex_lock(&d->lock);
		elsewhere = d->key_elsewhere > 0;
		pthread_mutex_unlock(&d->lock);
	}
	n = usable_paths(d, v, false);
	if (!n)
		return PRPATH_ERR_NO_PATH;
	if (single_nexus_type(type)) {
		struct mp_path *h = NULL;

		for (i = 0; i < n; i++)
			if (v[i]->dev_holder)
				h = v[i];
		if (!h && !fs && n == 1)
			h = v[0];  /* the one path must be it: I/O will tell */
		if (!h) {
			mp_log(d, 0, "the %s reservation of key 0x%016llx is held through a nexus %s",
			       prpath_pr_type_name(type), (unsigned long long)d->key,
			       fs ? "that is none of these paths"
				  : "this device cannot name (no READ FULL STATUS): give only the holder path");
			return PRPATH_ERR_NOT_HOLDER;
		}
		path_set_registered(h, true);
		pthread_mutex_lock(&d->lock);
		d->single_path = (int)h->index;
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (v[i]->dev_reg == 1) {
			path_set_registered(v[i], true);
			nreg++;
			continue;
		}
		/* reregister_path() refuses while the device is not open:
		 * the open itself is what registers here (one at a time) */
		pthread_mutex_lock(&d->rereg_lock);
		/* K counted more often than our registered paths means a lost
		 * session's registration only once every path of ours is
		 * counted: the last re-registration decides */
		pthread_mutex_lock(&d->lock);
		d->stale_keys = false;
		pthread_mutex_unlock(&d->lock);
		rc = is_fenced(d) ? PRPATH_ERR_FENCED
				  : reregister_path_locked(d, v[i], false);
		pthread_mutex_unlock(&d->rereg_lock);
		if (rc == 0) {
			nreg++;
			continue;
		}
		if (rc == PRPATH_ERR_FENCED)
			return rc;
		pthread_mutex_lock(&d->lock);
		v[i]->last_error = rc;
		pthread_mutex_unlock(&d->lock);
		mp_log(d, 0, "path %u: could not be registered: %s", v[i]->index + 1,
		       prpath_strerror(rc));
		last = rc;
	}
	if (elsewhere) {
		/* K through nexuses of ours that are none of these paths (a
		 * holder path that is down, a path not given): a close must
		 * move the reservation off them before it can release */
		pthread_mutex_lock(&d->lock);
		d->stale_keys = true;
		pthread_mutex_unlock(&d->lock);
	}
	return nreg ? 0 : last;
}

/* Whether K is registered at all (READ KEYS). Returns 1, 0 or an error. */
static int key_registered(struct prpath_dev *d)
{
	struct mp_keys k;
	int rc = read_keys_any(d, &k);

	return rc ? rc : k.nk > 0;
}

/* The LU is reserved (@rv) and the caller asked for @type in @mode_name:
 * decides between "already held" (join, returns 1), refused because
 * another host holds it (PRPATH_ERR_RESERVED), refused because this host
 * holds it otherwise (PRPATH_ERR_HELD_OTHERWISE), or an error. For
 * all-registrants reservations of the same type that this host is not
 * part of, returns 2 when @may_join (shared open), else RESERVED. An open
 * never converts or drops a reservation this host holds. */
static int held_check(struct prpath_dev *d, const struct mp_resv *rv,
		      unsigned type, bool may_join)
{
	bool ar = prpath_pr_type_all_registrants(rv->type);
	int reg;

	if (!ar && rv->key != d->key) {
		mp_log(d, 0, "LU reserved by key 0x%016llx (%s): not opening",
		       (unsigned long long)rv->key, prpath_pr_type_name(rv->type));
		return PRPATH_ERR_RESERVED;
	}
	if (ar) {
		reg = key_registered(d);
		if (reg < 0 || reg > 1)
			return reg;
		if (!reg) {
			if (may_join && rv->type == type)
				return 2;
			mp_log(d, 0, "LU reserved by all registrants (%s), this host is not one: not opening",
			       prpath_pr_type_name(rv->type));
			return PRPATH_ERR_RESERVED;
		}
	}
	if (rv->type != type || (ar && !may_join)) {
		mp_log(d, 0, "this host already holds the LU with a %s reservation; asked for %s %s: release it first",
		       prpath_pr_type_name(rv->type), may_join ? "shared" : "exclusive",
		       prpath_pr_type_name(type));
		return PRPATH_ERR_HELD_OTHERWISE;
	}
	return 1;
}

/* The "already held" outcome of an open: join, nothing removed. */
static int open_join(struct prpath_dev *d, unsigned type)
{
	int rc;

	mp_log(d, 1, "LU already held by this host (%s): registering missing paths only",
	       prpath_pr_type_name(type));
	rc = join_held(d, type);
	if (rc == 0) {
		pthread_mutex_lock(&d->lock);
		d->already_held = true;
		pthread_mutex_unlock(&d->lock);
	}
	return rc;
}

static int open_attach(struct prpath_dev *d)
{
	struct mp_resv rv;
	int rc = read_resv_any(d, false, &rv);

	if (rc)
		return rc;
	if (!rv.reserved) {
		mp_log(d, 0, "the LU is not reserved: this host holds nothing to attach to");
		return PRPATH_ERR_NOT_HOLDER;
	}
	if (prpath_pr_type_all_registrants(rv.type)) {
		rc = key_registered(d);
		if (rc < 0 || rc > 1)
			return rc;
		if (!rc) {
			mp_log(d, 0, "the LU is reserved by all registrants (%s) and this host's key is not registered",
			       prpath_pr_type_name(rv.type));
			return PRPATH_ERR_RESERVED;
		}
	} else if (rv.key != d->key) {
		mp_log(d, 0, "LU reserved by key 0x%016llx (%s), not by this host",
		       (unsigned long long)rv.key, prpath_pr_type_name(rv.type));
		return PRPATH_ERR_RESERVED;
	}
	pthread_mutex_lock(&d->lock);
	d->type = rv.type;
	pthread_mutex_unlock(&d->lock);
	return open_join(d, rv.type);
}

/* The reserving modes. PRPATH_MODE_FORCE takes the LU whoever holds it
 * (open_force(): registrations and READ RESERVATION at once, for speed).
 * The others first look (READ RESERVATION, and READ KEYS for an
 * all-registrants type): an open never removes or converts a registration
 * or reservation this host held before it began. Held by this host as
 * asked: joined, nothing sent but REGISTERs of our unregistered paths
 * ("already held"). Held by this host otherwise:
 * PRPATH_ERR_HELD_OTHERWISE, nothing sent. Held by another host:
 * PRPATH_ERR_RESERVED, nothing sent. */
static int open_reserving(struct prpath_dev *d, enum prpath_open_mode mode,
			  unsigned type)
{
	struct mp_path *v[PRPATH_DEV_MAX_PATHS];
	struct mp_resv rv;
	size_t n;
	int rc;

	n = usable_paths(d, v, false);
	if (!n)
		return PRPATH_ERR_NO_PATH;
	if (single_nexus_type(type) && mode != PRPATH_MODE_SINGLE && n > 1) {
		mp_log(d, 0, "a %s reservation belongs to one I_T nexus: I/O through the other %zu path(s) would conflict; use the single mode or one path",
		       prpath_pr_type_name(type), n - 1);
		return -EINVAL;
	}
	if (mode == PRPATH_MODE_FORCE)
		return open_force(d, type);
	rc = read_resv_any(d, false, &rv);
	if (rc)
		return rc;
	if (rv.reserved) {
		rc = held_check(d, &rv, type, mode == PRPATH_MODE_SHARED);
		if (rc == 1 && mode != PRPATH_MODE_SHARED)
			rc = refuse_others(d, false);
		else if (rc == 1)
			rc = 0;
		if (rc == 0)
			return open_join(d, type);
		if (rc == 2)
			return open_shared(d, type);
		return rc;
	}
	switch (mode) {
	case PRPATH_MODE_EXCLUSIVE:
		rc = refuse_others(d, true);
		return rc ? rc : open_exclusive(d, type);
	case PRPATH_MODE_SHARED:
		return open_shared(d, type);
	case PRPATH_MODE_SINGLE:
		rc = refuse_others(d, true);
		return rc ? rc : open_single(d, type);
	default:
		return -EINVAL;
	}
}

/* Exclusive modes take a type under which only this host may write
 * (registrants only, or one nexus); shared takes an all-registrants type
 * that other hosts can join. Anything else says one thing and does
 * another: "exclusive" that lets every registrant write, or "shared"
 * that the next shared host cannot join. */
static bool mode_type_agree(enum prpath_open_mode mode, unsigned type)
{
	switch (mode) {
	case PRPATH_MODE_EXCLUSIVE:
	case PRPATH_MODE_FORCE:
	case PRPATH_MODE_SINGLE:
		return !prpath_pr_type_all_registrants(type);
	case PRPATH_MODE_SHARED:
		return prpath_pr_type_all_registrants(type);
	default:
		return true;
	}
}

int prpath_dev_open(struct prpath_dev *d, enum prpath_open_mode mode,
		    unsigned flags)
{
	unsigned type;
	size_t i;
	int rc;

	if (!d || (unsigned)mode > PRPATH_MODE_ATTACH)
		return -EINVAL;
	if (d->observer)
		return -EPERM;
	type = open_type(mode, flags);
	/* noreserve reserves nothing; attach takes the type it finds */
	if (mode != PRPATH_MODE_NORESERVE && mode != PRPATH_MODE_ATTACH &&
	    !prpath_pr_type_valid(type))
		return -EINVAL;
	if (!mode_type_agree(mode, type)) {
		mp_log(d, 0, "mode %s does not go with a %s reservation: %s",
		       prpath_open_mode_name(mode), prpath_pr_type_name(type),
		       mode == PRPATH_MODE_SHARED
		       ? "shared takes an all-registrants type (wear, eaar)"
		       : "an exclusive mode takes a registrants-only or one-nexus type (wero, earo, we, ea)");
		return -EINVAL;
	}
	pthread_mutex_lock(&d->lock);
	if (d->open) {
		pthread_mutex_unlock(&d->lock);
		return -EBUSY;
	}
	d->fenced = false;
	d->res_lost = false;
	d->closing = false;
	d->stale_keys = false;
	d->already_held = false;
	free(d->others);
	d->others = NULL;
	d->nothers = 0;
	d->nother_regs = 0;
	d->others_preempted = false;
	d->aptpl = (flags & PRPATH_OPEN_APTPL) != 0;
	d->aptpl_known = mode != PRPATH_MODE_ATTACH ||
			 (flags & (PRPATH_OPEN_APTPL | PRPATH_OPEN_NO_APTPL));
	d->single_path = -1;
	d->mode = mode;
	d->flags = flags;
	d->type = type;
	for (i = 0; i < d->npaths; i++) {
		d->paths[i]->registered = false;
		d->paths[i]->maybe_registered = false;
		d->paths[i]->undo_pending = false; /* this open registers it */
	}
	pthread_mutex_unlock(&d->lock);

	mp_log(d, 1, "open %s, type %s, key 0x%016llx, %zu path(s)",
	       prpath_open_mode_name(mode),
	       type ? prpath_pr_type_name(type) : "none",
	       (unsigned long long)d->key, d->npaths);
	for (unsigned attempt = 0;; attempt++) {
		unsigned back = 0;

		switch (mode) {
		case PRPATH_MODE_NORESERVE:
			rc = 0;
			break;
		case PRPATH_MODE_ATTACH:
			rc = open_attach(d);
			break;
		default:
			rc = open_reserving(d, mode, type);
			break;
		}
		/* Every path failed before anything was done on it: sessions
		 * a target dropped while this host stood by idle (a standby
		 * about to take over). Log in again, once, and open again. */
		if (rc != PRPATH_ERR_NO_PATH || attempt ||
		    prpath_dev_check_paths(d, &back) != 0 || !back)
			break;
		mp_log(d, 1, "no path answered: %u path(s) logged in again, opening again", back);
	}
	if (rc == 0) {
		pthread_mutex_lock(&d->lock);
		d->open = true;
		pthread_mutex_unlock(&d->lock);
	} else {
		mp_log(d, 0, "open %s failed: %s", prpath_open_mode_name(mode),
		       prpath_strerror(rc));
	}
	return rc;
}

/* ---- close ----------------------------------------------------------------------- */

int prpath_dev_close(struct prpath_dev *d)
{
	struct mp_path *live = NULL;
	bool dead_reg = false, stale;
	enum prpath_open_mode mode;
	unsigned flags, rel = 0;
	size_t i;
	int rc = 0;

	if (!d)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	if (!d->open) {
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	if (d->closing) {
		pthread_mutex_unlock(&d->lock);
		return -EBUSY;
	}
	/* No new read/write starts from now on (io_enter); wait for those in
	 * flight: one of them could otherwise meet a RESERVATION CONFLICT
	 * after our unregistration and register K again. Bounded by the
	 * transports' command timeouts. */
	d->closing = true;
	while (d->inflight)
		pthread_cond_wait(&d->idle, &d->lock);
	pthread_mutex_unlock(&d->lock);
	/* and for a re-registration by the path checker that began before
	 * (reregister_path refuses to start one from now on) */
	pthread_mutex_lock(&d->rereg_lock);
	pthread_mutex_unlock(&d->rereg_lock);

	pthread_mutex_lock(&d->lock);
	mode = d->mode;
	flags = d->flags;
	for (i = 0; i < d->npaths; i++) {
		struct mp_path *p = d->paths[i];

		if (!(p->registered || p->maybe_registered))
			continue;
		if (!path_usable_locked(p))
			dead_reg = true;
		else if (!live && p->registered)
			live = p;
	}
	pthread_mutex_unlock(&d->lock);

	if (mode == PRPATH_MODE_NORESERVE || mode == PRPATH_MODE_ATTACH ||
	    (flags & PRPATH_OPEN_RETAIN))
		goto done;
	if (mode != PRPATH_MODE_SHARED)
		rel = d->type;
	pthread_mutex_lock(&d->lock);
	stale = d->stale_keys;
	pthread_mutex_unlock(&d->lock);
	if ((dead_reg || stale) && live && rel && !is_fenced(d)) {
		/* The holder may be a dead path, or a lost session that the
		 * device still counts as registered: move the reservation
		 * (and every other registration of K) to a live path by
		 * preempting our own key, so it can really be released. */
		struct mp_resv rv;

		if (read_resv(d, live, &rv) == 0 && rv.reserved &&
		    rv.key == d->key && preempt(d, live, d->key, d->type, false) == 0) {
			pthread_mutex_lock(&d->lock);
			for (i = 0; i < d->npaths; i++)
				if (d->paths[i] != live) {
					d->paths[i]->registered = false;
					d->paths[i]->maybe_registered = false;
				}
			pthread_mutex_unlock(&d->lock);
		}
	}
	rc = unregister_all(d, rel);
done:
	pthread_mutex_lock(&d->lock);
	d->open = false;
	d->closing = false;
	d->single_path = -1;
	pthread_mutex_unlock(&d->lock);
	mp_log(d, 1, "closed%s", rc ? " (some paths could not be cleaned up)" : "");
	return rc;
}

int prpath_dev_release(struct prpath_dev *d)
{
	enum prpath_open_mode as;
	int rc;

	if (!d)
		return -EINVAL;
	if (d->observer)
		return -EPERM;
	rc = prpath_dev_open(d, PRPATH_MODE_ATTACH, 0);
	if (rc)
		return rc;
	/* close as the mode that takes this type would: RELEASE unless
	 * all-registrants, then unregister on every path */
	pthread_mutex_lock(&d->lock);
	as = prpath_pr_type_all_registrants(d->type) ? PRPATH_MODE_SHARED
						     : PRPATH_MODE_EXCLUSIVE;
	d->mode = as;
	d->flags = 0;
	pthread_mutex_unlock(&d->lock);
	return prpath_dev_close(d);
}

/* ---- I/O --------------------------------------------------------------------------- */

static bool io_usable_locked(const struct prpath_dev *d, const struct mp_path *p)
{
	if (!path_usable_locked(p))
		return false;
	if (reg_mode_locked(d)) {
		if (d->single_path >= 0 && (int)p->index != d->single_path)
			return false;
		return p->registered;
	}
	return true;
}

static struct mp_path *select_path(struct prpath_dev *d, const bool *tried)
{
	struct mp_path *p = NULL;
	size_t k;

	pthread_mutex_lock(&d->lock);
	for (k = 0; k < d->npaths; k++) {
		size_t i = (d->rr + k) % d->npaths;

		if (tried[i] || !io_usable_locked(d, d->paths[i]))
			continue;
		p = d->paths[i];
		d->rr = (unsigned)((i + 1) % d->npaths);
		break;
	}
	pthread_mutex_unlock(&d->lock);
	return p;
}

/* RESERVATION CONFLICT on I/O through @p. Returns 0 when the I/O should be
 * retried on @p (K present, path registered again), else the error. */
static int io_conflict(struct prpath_dev *d, struct mp_path *p)
{
	mp_log(d, 1, "path %u: reservation conflict: checking our key", p->index + 1);
	/* READ KEYS: K gone -> fenced; K there -> register this path (with
	 * the raced-preemption check) */
	return reregister_path(d, p);
}

/* The block size, learnt by the first I/O when the device was not probed
 * (several I/O threads may do that at once). */
static int ensure_geometry(struct prpath_dev *d, uint32_t *bs)
{
	struct mp_path *p;
	int rc;

	pthread_mutex_lock(&d->lock);
	*bs = d->block_size;
	pthread_mutex_unlock(&d->lock);
	if (*bs)
		return 0;
	p = first_usable(d, false);
	if (!p)
		return PRPATH_ERR_NO_PATH;
	rc = geometry(d, p);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->lock);
	*bs = d->block_size;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* Admits one read/write: the device must be open and not closing.
 * Returns 0 (call io_exit() when done) or -ESHUTDOWN. */
static int io_enter(struct prpath_dev *d)
{
	int rc = 0;

	pthread_mutex_lock(&d->lock);
	if (!d->open || d->closing)
		rc = -ESHUTDOWN;
	else
		d->inflight++;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static void io_exit(struct prpath_dev *d)
{
	pthread_mutex_lock(&d->lock);
	if (--d->inflight == 0 && d->closing)
		pthread_cond_broadcast(&d->idle);
	pthread_mutex_unlock(&d->lock);
}

/* A write whose path failed without an answer (timeout, connection
 * lost) may still be on its way: bytes held in the network reach the
 * target later and execute there, after a retry on another path and even
 * after a newer write to the same blocks. Before such a write is retried,
 * the failed path's nexus loses the right to write: PREEMPT of this host's
 * own key from another registered path q removes every registration of K
 * but q's, the failed nexus's included, so whatever of the first attempt
 * arrives later meets RESERVATION CONFLICT (registrants-only and
 * all-registrants types let no unregistered nexus write). The reservation
 * stays with this host (it moves to q). Our other paths are registered
 * again at once (the "K present" rule holds: q is registered); the failed
 * path when the checker brings it back. Their 2A/05 is ours, not a fence.
 *
 * Plain PREEMPT, not PREEMPT AND ABORT: the abort would also end the
 * commands our healthy paths have in flight, which (TAS=0) get no answer
 * and would time out in turn. What remains: a command the target had
 * already admitted before the PREEMPT and not yet executed (inside the
 * target, not in the network) can still execute. Returns 0 (retry), or an
 * error (no other registered path: do not retry). */
static int fence_lost_attempt(struct prpath_dev *d, struct mp_path *p)
{
	struct mp_path *v[PRPATH_DEV_MAX_PATHS], *q = NULL;
	struct mp_res r;
	unsigned type;
	size_t i, n;
	int rc;

	if (!reg_mode(d))
		return 0; /* nothing registered to take away (noreserve) */
	pthread_mutex_lock(&d->rereg_lock);
	pthread_mutex_lock(&d->lock);
	type = d->type;
	/* the path checker may have brought @p back (a new session, the old
	 * one ended) since the write failed: then it is registered again
	 * below like the others */
	if (p->state != PRPATH_PATH_UP) {
		p->registered = false;
		p->maybe_registered = false;
	}
	pthread_mutex_unlock(&d->lock);
	/* from the first registered path that answers */
	for (;;) {
		n = usable_paths(d, v, true);
		for (q = NULL, i = 0; i < n && !q; i++)
			if (v[i] != p)
				q = v[i];
		if (!q) {
			pthread_mutex_unlock(&d->rereg_lock);
			mp_log(d, 0, "path %u: a write got no answer and no other registered path can fence it: not retried",
			       p->index + 1);
			return PRPATH_ERR_NO_PATH;
		}
		pthread_mutex_lock(&d->lock);
		for (i = 0; i < d->npaths; i++)
			if (d->paths[i] != q)
				d->paths[i]->own_preempt++;
		pthread_mutex_unlock(&d->lock);
		mp_log(d, 1, "path %u: a write got no answer: PREEMPT of our own key on path %u before it is retried",
		       p->index + 1, q->index + 1);
		rc = pr_out(d, q, PRPATH_PR_OUT_PREEMPT, type, d->key, d->key, &r);
		if (rc >= 0)
			break;
		/* no answer there either: q is failed now, try the next */
	}
	if (rc) {
		pthread_mutex_unlock(&d->rereg_lock);
		mp_log(d, 0, "path %u: PREEMPT of our own key failed (%s): the write is not retried",
		       q->index + 1, prpath_strerror(rc));
		return rc;
	}
	for (i = 0; i < n; i++) {
		if (v[i] == q)
			continue;
		pthread_mutex_lock(&d->lock);
		v[i]->registered = false;
		pthread_mutex_unlock(&d->lock);
		rc = reregister_path_locked(d, v[i], false);
		if (rc == PRPATH_ERR_FENCED) {
			pthread_mutex_unlock(&d->rereg_lock);
			return rc;
		}
		/* not registered again now: the checker does it, as for a
		 * path that comes back (I/O never uses it unregistered) */
		if (rc > 0)
			path_set_failed(v[i], rc);
	}
	pthread_mutex_unlock(&d->rereg_lock);
	return 0;
}

static int dev_io_run(struct prpath_dev *d, bool write, uint64_t lba,
		      uint32_t count, void *buf, int via)
{
	bool tried[PRPATH_DEV_MAX_PATHS] = { false };
	struct mp_path *retry_on = NULL;
	bool conflicted[PRPATH_DEV_MAX_PATHS] = { false };
	unsigned ua_tries = 0;
	struct pp_io io;
	uint64_t len;
	uint32_t bs;
	int rc;

	if (is_fenced(d) && reg_mode(d))
		return PRPATH_ERR_FENCED;
	rc = ensure_geometry(d, &bs);
	if (rc)
		return rc;
	len = (uint64_t)count * bs;
	if (len > (1u << 30))
		return -EINVAL;
	io_init(d, &io);
	rc = write ? prpath_cdb_write(io.cdb, sizeof(io.cdb), lba, count, false)
		   : prpath_cdb_read(io.cdb, sizeof(io.cdb), lba, count, false);
	if (rc < 0)
		return rc;
	io.cdb_len = (size_t)rc;
	if (write) {
		io.dout = buf;
		io.dout_len = (size_t)len;
	} else {
		io.din = buf;
		io.din_cap = (size_t)len;
	}

	for (;;) {
		struct mp_path *p;
		struct mp_res r;
		uint16_t ua;

		rc = 0;
		pthread_mutex_lock(&d->lock);
		if (d->fenced && reg_mode_locked(d))
			rc = PRPATH_ERR_FENCED;
		else if (d->res_lost && reg_mode_locked(d) && holder_mode_locked(d))
			rc = PRPATH_ERR_RESERVED;
		pthread_mutex_unlock(&d->lock);
		if (rc > 0)
			return rc;

		if (retry_on) {
			p = retry_on;
			retry_on = NULL;
		} else if (via >= 0) {
			p = d->paths[via];
			pthread_mutex_lock(&d->lock);
			if (!io_usable_locked(d, p))
				p = NULL;
			pthread_mutex_unlock(&d->lock);
		} else {
			p = select_path(d, tried);
		}
		if (!p)
			return PRPATH_ERR_NO_PATH;

		rc = path_exec(d, p, &io, true);
		if (rc == PRPATH_ERR_NO_PATH && via < 0) {
			/* the path went away while we waited for it */
			tried[p->index] = true;
			continue;
		}
		if (rc > 0)
			return rc;
		if (rc < 0) {
			if (via >= 0)
				return rc; /* pinned: not retried, not fenced */
			tried[p->index] = true;
			if (write) {
				int frc = fence_lost_attempt(d, p);

				if (frc)
					return frc;
			}
			rc = 0;
			continue;
		}
		r.cat = prpath_sense_classify(io.status, io.sense, io.sense_len,
					      &r.sense);
		switch (r.cat) {
		case PRPATH_SENSE_OK:
		case PRPATH_SENSE_RECOVERED:
			if (!write && io.din_len < io.din_cap)
				return -EIO; /* short read */
			return 0;
		case PRPATH_SENSE_RESERVATION_CONFLICT:
			if (!reg_mode(d))
				return PRPATH_ERR_CONFLICT;
			if (is_fenced(d))
				return PRPATH_ERR_FENCED;
			/* once per path: our own PREEMPT (fence_lost_attempt())
			 * may have taken several of our paths' registrations;
			 * a second conflict on a path registered again is real */
			if (conflicted[p->index])
				return PRPATH_ERR_CONFLICT;
			conflicted[p->index] = true;
			rc = io_conflict(d, p);
			if (rc < 0 && via < 0) {
				/* the path failed while being registered again:
				 * the conflicted command did not execute, so it
				 * goes to another path like any failed one */
				tried[p->index] = true;
				continue;
			}
			if (rc)
				return rc;
			retry_on = p;
			continue;
		case PRPATH_SENSE_UNIT_ATTENTION:
			ua = sense_ascq(&r.sense);
			if (reg_mode(d) &&
			    !take_own_ua(p, ua)) {
				if (ua == UA_REG_PREEMPTED || ua == UA_RES_PREEMPTED) {
					set_fenced(d, (int)p->index,
						   PRPATH_ERR_UNIT_ATTENTION);
					return PRPATH_ERR_FENCED;
				}
				if (ua == UA_RES_RELEASED) {
					rc = reservation_released(d, p);
					if (rc)
						return rc;
				}
			}
			if (++ua_tries >= MP_UA_RETRIES)
				return PRPATH_ERR_UNIT_ATTENTION;
			retry_on = p;
			continue;
		case PRPATH_SENSE_ABORTED:
			/* e.g. aborted by another host's PREEMPT AND ABORT:
			 * the retry finds out why */
			if (++ua_tries >= MP_UA_RETRIES)
				return PRPATH_ERR_ABORTED;
			retry_on = p;
			continue;
		default:
			return prpath_err_from_sense_cat(r.cat);
		}
	}
}

static int dev_io(struct prpath_dev *d, bool write, uint64_t lba,
		  uint32_t count, void *buf, int via)
{
	uint32_t max, bs;
	int rc;

	if (!d || !buf || !count)
		return -EINVAL;
	if (via >= 0 && (size_t)via >= d->npaths)
		return -EINVAL;
	rc = io_enter(d);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->lock);
	max = d->max_xfer_blocks;
	bs = d->block_size;
	pthread_mutex_unlock(&d->lock);
	/* one command at most MAXIMUM TRANSFER LENGTH blocks (VPD B0): the
	 * device refuses more; a failed piece ends the I/O (the pieces before
	 * it are done, as with any failed multi-block write) */
	do {
		uint32_t n = max && count > max ? max : count;

		rc = dev_io_run(d, write, lba, n, buf, via);
		lba += n;
		count -= n;
		buf = (uint8_t *)buf + (size_t)n * bs;
	} while (rc == 0 && count);
	io_exit(d);
	return rc;
}

int prpath_dev_read(struct prpath_dev *d, uint64_t lba, uint32_t count,
		    void *buf, int via)
{
	return dev_io(d, false, lba, count, buf, via);
}

int prpath_dev_write(struct prpath_dev *d, uint64_t lba, uint32_t count,
		     const void *buf, int via)
{
	return dev_io(d, true, lba, count, (void *)(uintptr_t)buf, via);
}

/* ---- path checker ------------------------------------------------------------------ */

static int reinstate(struct prpath_dev *d, struct mp_path *p)
{
	struct pp_io io;
	struct mp_res r;
	bool ours, ident, undo;
	int rc;

	if (p->conn->ops->reconnect) {
		pthread_mutex_lock(&p->exec_lock);
		rc = p->conn->ops->reconnect(p->conn);
		pthread_mutex_unlock(&p->exec_lock);
		if (rc < 0)
			return rc;
	}
	/* A path that carried no registration of this open (it was down when
	 * the device was opened) may hold unit attentions from before, e.g.
	 * the 2A/05 of our own PREEMPT at an earlier close: they say nothing
	 * about K now. READ KEYS in reregister_path() decides for it. */
	pthread_mutex_lock(&d->lock);
	ours = p->registered || p->maybe_registered;
	undo = p->undo_pending && !d->open;
	pthread_mutex_unlock(&d->lock);
	io_init(d, &io);
	rc = prpath_cdb_test_unit_ready(io.cdb, sizeof(io.cdb));
	if (rc < 0)
		return rc;
	io.cdb_len = (size_t)rc;
	rc = res_err(path_cmd(d, p, &io, ours ? UA_FENCE : UA_RETRY, &r), &r);
	if (rc)
		return rc;
	/* a path that failed before probe identified it: which LU it leads
	 * to, and through which target port, is learnt now (a probed device
	 * never does I/O to a path of unknown identity) */
	pthread_mutex_lock(&d->lock);
	ident = p->identified || !d->lu_id[0]; /* not probed: not checked */
	pthread_mutex_unlock(&d->lock);
	if (!ident) {
		char id[sizeof(d->lu_id)];
		uint8_t *buf = malloc(MP_VPD_ALLOC);

		if (!buf)
			return -ENOMEM;
		rc = path_identify(d, p, buf, id, sizeof(id));
		free(buf);
		if (rc)
			return rc;
	}
	if (undo) {
		/* the rest of a failed open's undo: K off this nexus, if it
		 * is still there (REGISTER with K: another key, or none,
		 * answers RESERVATION CONFLICT and keeps what it has) */
		rc = pr_out(d, p, PRPATH_PR_OUT_REGISTER, 0, d->key, 0, &r);
		if (rc == 0 || rc == PRPATH_ERR_CONFLICT) {
			pthread_mutex_lock(&d->lock);
			p->undo_pending = false;
			p->registered = false;
			p->maybe_registered = false;
			pthread_mutex_unlock(&d->lock);
			mp_log(d, 1, "path %u: the failed open's registration removed now that the path is back",
			       p->index + 1);
		}
		return rc < 0 ? rc : 0;
	}
	if (reg_mode(d) && !is_fenced(d))
		return reregister_path(d, p);
	return 0;
}

int prpath_dev_test_paths(struct prpath_dev *d, unsigned *failed)
{
	size_t i, n = 0;

	if (failed)
		*failed = 0;
	if (!d)
		return -EINVAL;
	for (i = 0; i < d->npaths; i++) {
		struct mp_path *p = d->paths[i];
		struct pp_io io;
		struct mp_res r;
		bool ours;
		int rc;

		pthread_mutex_lock(&d->lock);
		rc = path_usable_locked(p);
		ours = p->registered || p->maybe_registered;
		pthread_mutex_unlock(&d->lock);
		if (!rc)
			continue;
		io_init(d, &io);
		rc = prpath_cdb_test_unit_ready(io.cdb, sizeof(io.cdb));
		if (rc < 0)
			return rc;
		io.cdb_len = (size_t)rc;
		/* a transport error marks the path failed (PATH_DOWN) for the
		 * checker to bring back; unit attentions are read as any
		 * command reads them (a 2A/05 on a registered path fences) */
		rc = path_cmd(d, p, &io, ours ? UA_FENCE : UA_RETRY, &r);
		if (rc < 0)
			n++;
	}
	if (failed)
		*failed = (unsigned)n;
	return is_fenced(d) && reg_mode(d) ? PRPATH_ERR_FENCED : 0;
}

int prpath_dev_check_paths(struct prpath_dev *d, unsigned *reinstated)
{
	size_t i;
	unsigned n = 0;
	bool fenced = false;

	if (reinstated)
		*reinstated = 0;
	if (!d)
		return -EINVAL;
	for (i = 0; i < d->npaths; i++) {
		struct mp_path *p = d->paths[i];
		bool up;
		int rc;

		pthread_mutex_lock(&d->lock);
		if (p->state != PRPATH_PATH_FAILED || p->wrong_lu) {
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		p->state = PRPATH_PATH_REINSTATING;
		pthread_mutex_unlock(&d->lock);

		rc = reinstate(d, p);
		up = rc == 0 || rc == PRPATH_ERR_FENCED || rc == PRPATH_ERR_RESERVED;
		pthread_mutex_lock(&d->lock);
		if (up) {
			/* a fenced device's path is up but never registered,
			 * nor one whose reservation another host holds now */
			p->state = PRPATH_PATH_UP;
			p->last_error = rc;
		} else {
			p->state = PRPATH_PATH_FAILED;
			p->last_error = rc;
		}
		pthread_mutex_unlock(&d->lock);
		if (rc == PRPATH_ERR_FENCED)
			fenced = true;
		if (up) {
			mp_log(d, 1, "path %u up%s%s", p->index + 1,
			       rc ? " (not registered: " : "",
			       rc ? (rc == PRPATH_ERR_FENCED ? "fenced)" : "reservation lost)") : "");
			emit(d, PRPATH_EVENT_PATH_UP, (int)p->index, rc);
			if (rc == 0)
				n++;
		}
	}
	if (reinstated)
		*reinstated = n;
	if (fenced || (is_fenced(d) && reg_mode(d)))
		return PRPATH_ERR_FENCED;
	return 0;
}

/* ---- status ----------------------------------------------------------------------- */

/* What this host knows of its paths, nothing sent. Under d->lock. */
static void paths_locked(struct prpath_dev *d, struct prpath_path_status *paths,
			 size_t cap)
{
	size_t i;

	for (i = 0; paths && i < cap && i < d->npaths; i++) {
		struct mp_path *q = d->paths[i];
		const char *desc = q->conn->ops->describe ?
				   q->conn->ops->describe(q->conn) : NULL;
		const char *pn = q->conn->ops->port_name ?
				 q->conn->ops->port_name(q->conn) : NULL;

		memset(&paths[i], 0, sizeof(paths[i]));
		paths[i].index = q->index;
		paths[i].state = q->state;
		paths[i].registered = q->registered;
		paths[i].device_registered = -1;
		paths[i].rel_tgt_port = q->rtp_known ? q->rtp : -1;
		snprintf(paths[i].initiator_port, sizeof(paths[i].initiator_port),
			 "%s", pn ? pn : "");
		paths[i].last_error = q->last_error;
		snprintf(paths[i].desc, sizeof(paths[i].desc), "%s",
			 desc ? desc : q->conn->ops->name ? q->conn->ops->name : "");
	}
}

size_t prpath_dev_paths(struct prpath_dev *d, struct prpath_path_status *paths,
			size_t cap)
{
	size_t n;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	paths_locked(d, paths, cap);
	n = d->npaths;
	pthread_mutex_unlock(&d->lock);
	return n;
}

int prpath_dev_status(struct prpath_dev *d, struct prpath_dev_status *st,
		      struct prpath_path_status *paths, size_t cap)
{
	struct mp_path *p;
	struct mp_keys k;
	struct mp_resv rv;
	size_t i;
	int rc;

	if (!d || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&d->lock);
	st->open = d->open;
	st->mode = d->mode;
	st->type = d->type;
	st->fenced = d->fenced;
	st->reservation_lost = d->res_lost;
	st->key = d->key;
	st->npaths = d->npaths;
	st->already_held = d->already_held;
	st->aptpl = d->aptpl;
	paths_locked(d, paths, cap);
	pthread_mutex_unlock(&d->lock);

	p = first_usable(d, false);
	if (!p) {
		st->device_error = PRPATH_ERR_NO_PATH;
		return 0;
	}
	rc = read_keys(d, p, &k);
	if (!rc)
		rc = read_resv(d, p, &rv);
	if (rc) {
		st->device_error = rc;
		return 0;
	}
	st->device_valid = true;
	pthread_mutex_lock(&d->lock);
	st->fenced = d->fenced;          /* the queries may have learnt it */
	st->reservation_lost = d->res_lost;
	pthread_mutex_unlock(&d->lock);
	st->generation = k.generation;
	st->nregistrations = k.n;
	st->nkey_registrations = k.nk;
	st->reserved = rv.reserved;
	st->holder_key = rv.key;
	st->holder_type = rv.type;
	st->we_hold = rv.reserved &&
		      (prpath_pr_type_all_registrants(rv.type) ? k.nk > 0
							       : rv.key == d->key);
	/* which of our nexuses the device counts (READ FULL STATUS) */
	st->full_status = full_status(d, p) == 0;
	pthread_mutex_lock(&d->lock);
	if (st->full_status) {
		st->nkey_foreign = d->key_foreign;
		snprintf(st->key_foreign_initiator, sizeof(st->key_foreign_initiator),
			 "%s", d->foreign_name);
		st->nkey_elsewhere = d->key_elsewhere;
		/* K holds through another initiator's nexus: not this host */
		st->holder_foreign = d->holder_foreign;
		st->holder_this_initiator = d->holder_ours;
		if (d->holder_foreign && !prpath_pr_type_all_registrants(rv.type))
			st->we_hold = false;
	}
	for (i = 0; paths && i < cap && i < d->npaths; i++) {
		struct mp_path *q = d->paths[i];
		const char *pn = q->conn->ops->port_name ?
				 q->conn->ops->port_name(q->conn) : NULL;

		paths[i].device_registered = st->full_status ? q->dev_reg : -1;
		paths[i].device_holder = st->full_status && q->dev_holder;
		snprintf(paths[i].initiator_port, sizeof(paths[i].initiator_port),
			 "%s", pn ? pn : "");
		paths[i].rel_tgt_port = q->rtp_known ? q->rtp : -1;
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}
