/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device server: PERSISTENT RESERVE IN / OUT (SPC-4 5.13, 6.15, 6.16).
 *
 * Every PR OUT is atomic: it is validated completely before anything
 * changes; when APTPL is involved the new state is written to disk before
 * the command completes, and a failed write restores the previous state
 * (including PRgeneration) and fails the command. Unit attentions the
 * command establishes are collected and only queued once it has committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds/ds_int.h"

/* ---- registration list --------------------------------------------------- */

void ds_reg_add(struct prpath_lu *lu, struct itn *t, uint64_t key, bool all_tg_pt)
{
	t->key = key;
	t->all_tg_pt = all_tg_pt;
	if (t->registered)
		return;
	t->registered = true;
	t->rnext = NULL;
	t->rprev = lu->reg_tail;
	if (lu->reg_tail)
		lu->reg_tail->rnext = t;
	else
		lu->reg_head = t;
	lu->reg_tail = t;
	lu->nreg++;
}

void ds_reg_del(struct prpath_lu *lu, struct itn *t)
{
	if (!t->registered)
		return;
	if (t->rprev)
		t->rprev->rnext = t->rnext;
	else
		lu->reg_head = t->rnext;
	if (t->rnext)
		t->rnext->rprev = t->rprev;
	else
		lu->reg_tail = t->rprev;
	t->rprev = t->rnext = NULL;
	t->registered = false;
	t->key = 0;
	t->all_tg_pt = false;
	lu->nreg--;
}

/* ---- pending unit attentions --------------------------------------------- */

struct pending {
	struct {
		struct itn *t;
		uint16_t ascq;
	} *v;
	size_t n, cap;
	bool oom;
};

static void pend(struct pending *p, struct itn *t, uint16_t ascq)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		void *nv = realloc(p->v, ncap * sizeof(*p->v));

		if (!nv) {
			p->oom = true;
			return;
		}
		p->v = nv;
		p->cap = ncap;
	}
	p->v[p->n].t = t;
	p->v[p->n].ascq = ascq;
	p->n++;
}

static void pend_commit(struct prpath_lu *lu, struct pending *p)
{
	for (size_t i = 0; i < p->n; i++) {
		ds_ua_queue(p->v[i].t, p->v[i].ascq);
		ds_itn_put(lu, p->v[i].t);
	}
}

/* UA to every registrant except @skip. */
static void pend_registrants(struct prpath_lu *lu, struct pending *p,
			     const struct itn *skip, uint16_t ascq)
{
	for (struct itn *r = lu->reg_head; r; r = r->rnext)
		if (r != skip)
			pend(p, r, ascq);
}

/* ---- helpers ------------------------------------------------------------------ */

static void release_reservation(struct prpath_lu *lu)
{
	lu->res_type = PRPATH_PR_TYPE_NONE;
	lu->res_scope = 0;
	lu->holder = NULL;
}

/* Unregisters @t with the side effects SPC-4 5.13.10.3 gives it: a non-AR
 * holder loses the reservation (2A/04 to the other registrants when it
 * was registrants-only); the last registrant of an AR reservation
 * releases it. */
static void unregister(struct prpath_lu *lu, struct itn *t, struct pending *p)
{
	if (lu->res_type != PRPATH_PR_TYPE_NONE) {
		if (prpath_pr_type_all_registrants(lu->res_type)) {
			if (lu->nreg == 1 && t->registered)
				release_reservation(lu);
		} else if (lu->holder == t) {
			if (prpath_pr_type_registrants_only(lu->res_type))
				pend_registrants(lu, p, t, PRPATH_SCSI_ASCQ_RESERVATIONS_RELEASED);
			release_reservation(lu);
		}
	}
	ds_reg_del(lu, t);
}

/* ---- PR IN ----------------------------------------------------------------------- */

static int read_keys(struct prpath_lu *lu, struct prpath_cmd *cmd, size_t alloc)
{
	size_t len = 8 + 8 * (size_t)lu->nreg;
	size_t n = len < alloc ? len : alloc;
	uint8_t *buf = calloc(1, n ? n : 1);
	size_t off = 8;

	if (!buf)
		return ds_check(cmd, PRPATH_SCSI_SK_HARDWARE_ERROR, PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);
	if (n >= 8) {
		prpath_put_be32(buf, lu->generation);
		prpath_put_be32(buf + 4, (uint32_t)(len - 8));
	} else {
		uint8_t hdr[8];

		prpath_put_be32(hdr, lu->generation);
		prpath_put_be32(hdr + 4, (uint32_t)(len - 8));
		memcpy(buf, hdr, n);
	}
	for (struct itn *r = lu->reg_head; r && off + 8 <= n; r = r->rnext, off += 8)
		prpath_put_be64(buf + off, r->key);
	ds_good(cmd);
	ds_data_in(cmd, buf, n);
	free(buf);
	return 0;
}

static int read_reservation(struct prpath_lu *lu, struct prpath_cmd *cmd, size_t alloc)
{
	uint8_t buf[24] = { 0 };
	size_t len = 8;

	prpath_put_be32(buf, lu->generation);
	if (lu->res_type != PRPATH_PR_TYPE_NONE) {
		uint64_t key = 0;

		if (!prpath_pr_type_all_registrants(lu->res_type) && lu->holder)
			key = lu->holder->key;
		prpath_put_be32(buf + 4, 16);
		prpath_put_be64(buf + 8, key);
		buf[21] = (uint8_t)((lu->res_scope << 4) | lu->res_type);
		len = 24;
	}
	ds_good(cmd);
	ds_data_in(cmd, buf, len < alloc ? len : alloc);
	return 0;
}

static int report_capabilities(struct prpath_lu *lu, struct prpath_cmd *cmd, size_t alloc)
{
	uint8_t buf[8] = { 0 };

	prpath_put_be16(buf, 8);
	buf[2] = (uint8_t)((lu->rlr ? 0x80 : 0) | 0x10 /* CRH */ | 0x08 /* SIP_C */ |
			   0x04 /* ATP_C */ | (lu->state_path ? 0x01 : 0));
	/* TMV, ALLOW COMMANDS 001b (TEST UNIT READY passes WE/EA), PTPL_A */
	buf[3] = (uint8_t)(0x80 | (0x1 << 4) | (lu->aptpl ? 0x01 : 0));
	buf[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
	buf[5] = 0x01;
	ds_good(cmd);
	ds_data_in(cmd, buf, sizeof(buf) < alloc ? sizeof(buf) : alloc);
	return 0;
}

/* The TransportID of an itn: format 01 when the name is an iSCSI
 * initiator port name, format 00 otherwise. */
static int itn_tid(const struct itn *t, uint8_t *buf, size_t cap)
{
	struct prpath_tid tid;

	if (prpath_tid_from_port_name(t->name, &tid) < 0) {
		size_t n = strnlen(t->name, sizeof(tid.name) - 1);

		memset(&tid, 0, sizeof(tid));
		memcpy(tid.name, t->name, n); /* longer names are cut */
		tid.name[n] = '\0';
	}
	return prpath_tid_encode(&tid, buf, cap);
}

static int read_full_status(struct prpath_lu *lu, struct prpath_cmd *cmd, size_t alloc)
{
	size_t cap = 8, len = 8;
	uint8_t *buf;
	uint8_t tid[PRPATH_TRANSPORTID_MAX];

	for (struct itn *r = lu->reg_head; r; r = r->rnext)
		cap += 24 + PRPATH_TRANSPORTID_MAX;
	buf = calloc(1, cap);
	if (!buf)
		return ds_check(cmd, PRPATH_SCSI_SK_HARDWARE_ERROR, PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);
	for (struct itn *r = lu->reg_head; r; r = r->rnext) {
		uint8_t *d = buf + len;
		int tl = itn_tid(r, tid, sizeof(tid));

		if (tl < 0)
			tl = 0;
		prpath_put_be64(d, r->key);
		d[12] = (uint8_t)((r->all_tg_pt ? 0x02 : 0) | (ds_is_holder(lu, r) ? 0x01 : 0));
		if (ds_is_holder(lu, r))
			d[13] = (uint8_t)((lu->res_scope << 4) | lu->res_type);
		prpath_put_be16(d + 18, r->rtp);
		prpath_put_be32(d + 20, (uint32_t)tl);
		memcpy(d + 24, tid, (size_t)tl);
		len += 24 + (size_t)tl;
	}
	prpath_put_be32(buf, lu->generation);
	prpath_put_be32(buf + 4, (uint32_t)(len - 8));
	ds_good(cmd);
	ds_data_in(cmd, buf, len < alloc ? len : alloc);
	free(buf);
	return 0;
}

int ds_pr_in(struct prpath_nexus *nx, struct prpath_cmd *cmd)
{
	struct prpath_lu *lu = nx->lu;
	const uint8_t *cdb = cmd->cdb;
	size_t alloc;

	if (cmd->cdb_len < 10)
		return ds_invalid_cdb(cmd);
	alloc = prpath_get_be16(cdb + 7);
	switch (cdb[1] & 0x1f) {
	case PRPATH_PR_IN_READ_KEYS:
		return read_keys(lu, cmd, alloc);
	case PRPATH_PR_IN_READ_RESERVATION:
		return read_reservation(lu, cmd, alloc);
	case PRPATH_PR_IN_REPORT_CAPABILITIES:
		return report_capabilities(lu, cmd, alloc);
	case PRPATH_PR_IN_READ_FULL_STATUS:
		return read_full_status(lu, cmd, alloc);
	default:
		return ds_invalid_cdb(cmd);
	}
}

/* ---- PR OUT ---------------------------------------------------------------------- */

struct prout {
	struct prpath_nexus *nx;
	struct prpath_lu *lu;
	struct itn *t;
	struct prpath_cmd *cmd;
	unsigned sa, scope, type;
	struct prpath_prout_params p;
	struct prpath_prout_move_params mp;
	struct pending ua;
	/* victims of PREEMPT AND ABORT whose tasks are aborted after commit */
	struct itn **abort;
	size_t nabort;
	bool changed_aptpl;
	bool new_aptpl;
};

/* Parses the parameter list into pr->p / pr->mp. 0 or a completed error. */
static int parse_params(struct prout *pr, bool *done)
{
	struct prpath_cmd *cmd = pr->cmd;
	uint32_t plen = prpath_get_be32(cmd->cdb + 5);
	const uint8_t *b = cmd->data_out;

	*done = true;
	if (plen > cmd->data_out_len || (plen && !b))
		return ds_param_length_error(cmd);
	if (pr->sa == PRPATH_PR_OUT_REGISTER_AND_MOVE) {
		uint32_t tl;

		if (plen < 24)
			return ds_param_length_error(cmd);
		tl = prpath_get_be32(b + 20);
		if ((uint64_t)tl + 24 > plen)
			return ds_param_length_error(cmd);
		if (tl < 24 || (tl & 3))
			return ds_invalid_param(cmd);
		pr->mp.rk = prpath_get_be64(b);
		pr->mp.sark = prpath_get_be64(b + 8);
		pr->mp.unreg = b[17] & 0x02;
		pr->mp.aptpl = b[17] & 0x01;
		pr->mp.rel_tgt_port = prpath_get_be16(b + 18);
		pr->mp.tid = b + 24;
		pr->mp.tid_len = tl;
		*done = false;
		return 0;
	}
	if (plen < 24)
		return ds_param_length_error(cmd);
	pr->p.rk = prpath_get_be64(b);
	pr->p.sark = prpath_get_be64(b + 8);
	pr->p.spec_i_pt = b[20] & 0x08;
	pr->p.all_tg_pt = b[20] & 0x04;
	pr->p.aptpl = b[20] & 0x01;
	if (pr->p.spec_i_pt) {
		uint32_t tl;

		if (pr->sa != PRPATH_PR_OUT_REGISTER)
			return ds_invalid_param(cmd);
		if (plen < 28)
			return ds_param_length_error(cmd);
		tl = prpath_get_be32(b + 24);
		if ((uint64_t)tl + 28 != plen)
			return ds_param_length_error(cmd);
		pr->p.tids = b + 28;
		pr->p.tids_len = tl;
	} else if (plen != 24) {
		return ds_param_length_error(cmd);
	}
	/* ALL_TG_PT and APTPL are only meaningful for the registering
	 * actions; elsewhere they are ignored (SPC-4 6.16.3). */
	if (pr->sa != PRPATH_PR_OUT_REGISTER && pr->sa != PRPATH_PR_OUT_REGISTER_AND_IGNORE) {
		pr->p.all_tg_pt = false;
		pr->p.aptpl = false;
	}
	*done = false;
	return 0;
}

static bool regs_available(struct prout *pr, size_t more)
{
	return (uint64_t)pr->lu->nreg + more <= pr->lu->max_reg;
}

static int no_resources(struct prpath_cmd *cmd)
{
	return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_INSUFFICIENT_REG_RESOURCES);
}

/* Collects (and creates) the itns a registration covers: the caller (on
 * every target port with ALL_TG_PT) plus SPEC_I_PT's TransportIDs. All are
 * validated before any is registered. */
static int register_new(struct prout *pr)
{
	struct prpath_lu *lu = pr->lu;
	struct prpath_cmd *cmd = pr->cmd;
	struct itn **set = NULL;
	size_t n = 0, cap = 0;
	int err = 0; /* 0, or which error completes the command */
	size_t off = 0;

#define ADD(x)                                                                   \
	do {                                                                     \
		struct itn *x_ = (x);                                            \
		bool dup_ = false;                                               \
		for (size_t i_ = 0; i_ < n; i_++)                                \
			dup_ |= set[i_] == x_;                                   \
		if (!dup_) {                                                     \
			if (n == cap) {                                          \
				size_t nc_ = cap ? cap * 2 : 8;                  \
				void *ns_ = realloc(set, nc_ * sizeof(*set));    \
				if (!ns_) {                                      \
					err = -ENOMEM;                           \
					goto out;                                \
				}                                                \
				set = ns_;                                       \
				cap = nc_;                                       \
			}                                                        \
			set[n++] = x_;                                           \
		}                                                                \
	} while (0)

	if (pr->p.all_tg_pt) {
		for (size_t i = 0; i < lu->nports; i++) {
			struct itn *x = ds_itn_get(lu, pr->t->name, lu->ports[i]);

			if (!x) {
				err = -ENOMEM;
				goto out;
			}
			ADD(x);
		}
	} else {
		ADD(pr->t);
	}
	while (pr->p.spec_i_pt && off < pr->p.tids_len) {
		struct prpath_tid tid;
		char name[PRPATH_PORT_NAME_MAX];
		int l = prpath_tid_decode(pr->p.tids + off, pr->p.tids_len - off, &tid);

		/* format 00 (initiator device name without ISID) would
		 * name every port of that device; prpath registers I_T
		 * nexuses only, so it is refused. */
		if (l <= 0 || tid.format != 1 ||
		    prpath_tid_port_name(&tid, name, sizeof(name)) < 0) {
			err = 1;
			goto out;
		}
		off += (size_t)l;
		for (size_t i = 0; i < lu->nports; i++) {
			uint16_t rtp = lu->ports[i];
			struct itn *x;

			if (!pr->p.all_tg_pt && rtp != pr->t->rtp)
				continue;
			x = ds_itn_get(lu, name, rtp);
			if (!x) {
				err = -ENOMEM;
				goto out;
			}
			if (x->registered) {
				err = 1;
				goto out;
			}
			ADD(x);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (set[i]->registered) {
			/* ALL_TG_PT: this initiator port is already registered
			 * through another target port. */
			err = 1;
			goto out;
		}
	}
	if (!regs_available(pr, n)) {
		err = 2;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ds_reg_add(lu, set[i], pr->p.sark, pr->p.all_tg_pt);
out:
	for (size_t i = 0; i < n; i++)
		ds_itn_put(lu, set[i]);
	free(set);
#undef ADD
	if (err == -ENOMEM)
		return ds_check(cmd, PRPATH_SCSI_SK_HARDWARE_ERROR, PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);
	if (err == 1)
		return ds_invalid_param(cmd);
	if (err == 2)
		return no_resources(cmd);
	return 1; /* registered */
}

static int do_register(struct prout *pr)
{
	struct prpath_lu *lu = pr->lu;
	struct itn *t = pr->t;
	int rc;

	if (pr->sa == PRPATH_PR_OUT_REGISTER_AND_IGNORE && pr->p.spec_i_pt)
		return ds_invalid_param(pr->cmd);
	if (pr->sa == PRPATH_PR_OUT_REGISTER) {
		if (!t->registered && pr->p.rk != 0)
			return ds_conflict(pr->cmd);
		if (t->registered && pr->p.rk != t->key)
			return ds_conflict(pr->cmd);
	}
	if (pr->p.aptpl && !lu->state_path)
		return ds_invalid_param(pr->cmd);
	if (!t->registered) {
		if (pr->p.sark == 0) {
			/* nothing to do; still a successful REGISTER */
			lu->generation++;
			return ds_good(pr->cmd);
		}
		rc = register_new(pr);
		if (rc != 1)
			return rc;
	} else {
		if (pr->p.spec_i_pt)
			return ds_invalid_param(pr->cmd);
		if (pr->p.sark == 0)
			unregister(lu, t, &pr->ua);
		else
			t->key = pr->p.sark;
	}
	lu->generation++;
	pr->new_aptpl = pr->p.aptpl;
	pr->changed_aptpl = true;
	return ds_good(pr->cmd);
}

/* Nonzero (and the command completed with 05/24/00) when TYPE or SCOPE is
 * invalid: ds_invalid_cdb() itself returns 0, so it cannot be the result. */
static int check_type_scope(struct prout *pr)
{
	if (pr->scope != 0 || !prpath_pr_type_valid(pr->type)) {
		ds_invalid_cdb(pr->cmd);
		return -EINVAL;
	}
	return 0;
}

static int do_reserve(struct prout *pr)
{
	struct prpath_lu *lu = pr->lu;

	if (check_type_scope(pr))
		return 0;
	if (lu->res_type != PRPATH_PR_TYPE_NONE) {
		if (ds_is_holder(lu, pr->t) && lu->res_type == pr->type && lu->res_scope == pr->scope)
			return ds_good(pr->cmd);
		return ds_conflict(pr->cmd);
	}
	lu->res_type = (uint8_t)pr->type;
	lu->res_scope = (uint8_t)pr->scope;
	lu->holder = prpath_pr_type_all_registrants(pr->type) ? NULL : pr->t;
	return ds_good(pr->cmd);
}

static int do_release(struct prout *pr)
{
	struct prpath_lu *lu = pr->lu;
	unsigned old = lu->res_type;

	if (check_type_scope(pr))
		return 0;
	if (old == PRPATH_PR_TYPE_NONE || !ds_is_holder(lu, pr->t))
		return ds_good(pr->cmd);
	if (pr->type != old || pr->scope != lu->res_scope)
		return ds_check(pr->cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_INVALID_RELEASE_OF_PR);
	release_reservation(lu);
	if (prpath_pr_type_registrants_only(old) || prpath_pr_type_all_registrants(old))
		pend_registrants(lu, &pr->ua, pr->t, PRPATH_SCSI_ASCQ_RESERVATIONS_RELEASED);
	return ds_good(pr->cmd);
}

static int do_clear(struct prout *pr)
{
	struct prpath_lu *lu = pr->lu;

	pend_registrants(lu, &pr->ua, pr->t, PRPATH_SCSI_ASCQ_RESERVATIONS_PREEMPTED);
	release_reservation(lu);
	while (lu->reg_head)
		ds_reg_del(lu, lu->reg_head);
	/* registrations that are gone may free their itns once the UAs are
	 * queued (pend_commit puts them) */
	ds_itn_put(lu, pr->t);
	lu->generation++;
	return ds_good(pr->cmd);
}

static int do_preempt(struct prout *pr)
{
	struct prpath_lu *lu = pr->lu;
	struct itn *t = pr->t;
	uint64_t sark = pr->p.sark;
	bool ar = lu->res_type != PRPATH_PR_TYPE_NONE && prpath_pr_type_all_registrants(lu->res_type);
	bool takes = false;          /* the caller gets a new reservation */
	bool all_others = false;     /* victims: every other registrant */
	size_t nvict = 0;
	struct itn *r, *next;

	if (ar) {
		if (sark == 0) {
			all_others = true;
			takes = true;
		}
	} else if (lu->res_type != PRPATH_PR_TYPE_NONE) {
		if (sark == 0)
			return ds_invalid_param(pr->cmd);
		if (lu->holder && sark == lu->holder->key)
			takes = true;
	} else if (sark == 0) {
		return ds_invalid_param(pr->cmd);
	}

	/* count victims first: none with SARK != 0 is a conflict */
	for (r = lu->reg_head; r; r = r->rnext)
		if (r != t && (all_others || r->key == sark))
			nvict++;
	if (!all_others && !takes && nvict == 0)
		return ds_conflict(pr->cmd);
	/* TYPE and SCOPE matter only when the caller gets the reservation */
	if (takes && check_type_scope(pr))
		return 0;
	if (pr->sa == PRPATH_PR_OUT_PREEMPT_AND_ABORT && nvict) {
		pr->abort = calloc(nvict, sizeof(*pr->abort));
		if (!pr->abort)
			return ds_check(pr->cmd, PRPATH_SCSI_SK_HARDWARE_ERROR,
					PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);
	}

	for (r = lu->reg_head; r; r = next) {
		next = r->rnext;
		if (r == t || !(all_others || r->key == sark))
			continue;
		pend(&pr->ua, r, PRPATH_SCSI_ASCQ_REGISTRATIONS_PREEMPTED);
		if (pr->abort)
			pr->abort[pr->nabort++] = r;
		if (lu->holder == r)
			lu->holder = NULL;
		ds_reg_del(lu, r);
	}
	if (ar && lu->nreg == 0)
		release_reservation(lu);
	if (takes) {
		bool changed = lu->res_type != pr->type || lu->res_scope != pr->scope;

		lu->res_type = (uint8_t)pr->type;
		lu->res_scope = (uint8_t)pr->scope;
		lu->holder = prpath_pr_type_all_registrants(pr->type) ? NULL : t;
		if (changed)
			pend_registrants(lu, &pr->ua, t, PRPATH_SCSI_ASCQ_RESERVATIONS_RELEASED);
	} else if (!ar && lu->res_type != PRPATH_PR_TYPE_NONE && !lu->holder) {
		/* cannot happen: the holder's key equals SARK then */
		release_reservation(lu);
	}
	lu->generation++;
	return ds_good(pr->cmd);
}

static int do_register_and_move(struct prout *pr)
{
	struct prpath_lu *lu = pr->lu;
	struct itn *t = pr->t, *dst;
	struct prpath_tid tid;
	char name[PRPATH_PORT_NAME_MAX];
	int l;

	if (lu->res_type == PRPATH_PR_TYPE_NONE)
		return ds_invalid_cdb(pr->cmd);
	if (prpath_pr_type_all_registrants(lu->res_type) || lu->holder != t)
		return ds_conflict(pr->cmd);
	if (pr->mp.sark == 0)
		return ds_invalid_param(pr->cmd);
	if (pr->mp.aptpl && !lu->state_path)
		return ds_invalid_param(pr->cmd);
	l = prpath_tid_decode(pr->mp.tid, pr->mp.tid_len, &tid);
	if (l <= 0 || tid.format != 1 || prpath_tid_port_name(&tid, name, sizeof(name)) < 0)
		return ds_invalid_param(pr->cmd);
	if (!ds_lu_has_port(lu, pr->mp.rel_tgt_port))
		return ds_invalid_param(pr->cmd);
	/* SPC-4 6.16.4: a TransportID naming the caller's own initiator
	 * port is invalid, whatever the relative target port. */
	if (strcmp(name, t->name) == 0)
		return ds_invalid_param(pr->cmd);
	dst = ds_itn_get(lu, name, pr->mp.rel_tgt_port);
	if (!dst)
		return ds_check(pr->cmd, PRPATH_SCSI_SK_HARDWARE_ERROR, PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);
	if (!dst->registered && !regs_available(pr, 1)) {
		ds_itn_put(lu, dst);
		return no_resources(pr->cmd);
	}
	ds_reg_add(lu, dst, pr->mp.sark, false);
	lu->holder = dst;
	if (pr->mp.unreg)
		ds_reg_del(lu, t);
	lu->generation++;
	pr->new_aptpl = pr->mp.aptpl;
	pr->changed_aptpl = true;
	return ds_good(pr->cmd);
}

/* Makes the change durable when APTPL is (or was) in force. */
static int persist(struct prout *pr, bool old_aptpl)
{
	struct prpath_lu *lu = pr->lu;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (!lu->aptpl) {
		if (!old_aptpl)
			return 0;
		return ds_state_write(lu, NULL, 0);
	}
	rc = ds_state_serialize(lu, &buf, &len);
	if (rc < 0)
		return rc;
	rc = ds_state_write(lu, buf, len);
	free(buf);
	return rc;
}

int ds_pr_out(struct prpath_nexus *nx, struct prpath_cmd *cmd)
{
	struct prpath_lu *lu = nx->lu;
	struct prout pr = { .nx = nx, .lu = lu, .t = nx->itn, .cmd = cmd };
	bool done, old_aptpl = lu->aptpl, snapshot;
	uint8_t *snap = NULL;
	size_t snap_len = 0;
	uint64_t rk;
	int rc;

	if (cmd->cdb_len < 10)
		return ds_invalid_cdb(cmd);
	pr.sa = cmd->cdb[1] & 0x1f;
	pr.scope = cmd->cdb[2] >> 4;
	pr.type = cmd->cdb[2] & 0x0f;
	if (pr.sa > PRPATH_PR_OUT_REPLACE_LOST_RESERVATION ||
	    (pr.sa == PRPATH_PR_OUT_REPLACE_LOST_RESERVATION && !lu->rlr))
		return ds_invalid_cdb(cmd);
	parse_params(&pr, &done);
	if (done)
		return 0;

	/* Reservation key checks (SPC-4 5.13.x): every action but the two
	 * registering ones needs a registered caller with RK = its key. */
	rk = pr.sa == PRPATH_PR_OUT_REGISTER_AND_MOVE ? pr.mp.rk : pr.p.rk;
	if (pr.sa != PRPATH_PR_OUT_REGISTER && pr.sa != PRPATH_PR_OUT_REGISTER_AND_IGNORE &&
	    (!pr.t->registered || rk != pr.t->key))
		return ds_conflict(cmd);

	/* Snapshot for rollback when the state file is involved. */
	snapshot = lu->state_path &&
		   (old_aptpl || (pr.sa == PRPATH_PR_OUT_REGISTER_AND_MOVE ? pr.mp.aptpl : pr.p.aptpl));
	if (snapshot && ds_state_serialize(lu, &snap, &snap_len) < 0)
		return ds_check(cmd, PRPATH_SCSI_SK_HARDWARE_ERROR, PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);

	switch (pr.sa) {
	case PRPATH_PR_OUT_REGISTER:
	case PRPATH_PR_OUT_REGISTER_AND_IGNORE:
		do_register(&pr);
		break;
	case PRPATH_PR_OUT_RESERVE:
		do_reserve(&pr);
		break;
	case PRPATH_PR_OUT_RELEASE:
		do_release(&pr);
		break;
	case PRPATH_PR_OUT_CLEAR:
		do_clear(&pr);
		break;
	case PRPATH_PR_OUT_PREEMPT:
	case PRPATH_PR_OUT_PREEMPT_AND_ABORT:
		do_preempt(&pr);
		break;
	case PRPATH_PR_OUT_REGISTER_AND_MOVE:
		do_register_and_move(&pr);
		break;
	default:
		ds_invalid_cdb(cmd);
		break;
	}

	if (cmd->status == PRPATH_SCSI_STATUS_GOOD && pr.ua.oom) {
		/* cannot deliver the unit attentions this change owes */
		if (snap)
			ds_state_restore(lu, snap, snap_len);
		ds_check(cmd, PRPATH_SCSI_SK_HARDWARE_ERROR, PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);
	}
	if (cmd->status == PRPATH_SCSI_STATUS_GOOD) {
		if (pr.changed_aptpl)
			lu->aptpl = pr.new_aptpl;
		if (lu->state_path) {
			rc = persist(&pr, old_aptpl);
			if (rc < 0) {
				lu->aptpl = old_aptpl;
				if (snap)
					ds_state_restore(lu, snap, snap_len);
				ds_check(cmd, PRPATH_SCSI_SK_HARDWARE_ERROR,
					 PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);
			}
		}
	}
	free(snap);

	if (cmd->status == PRPATH_SCSI_STATUS_GOOD) {
		pend_commit(lu, &pr.ua);
		for (size_t i = 0; i < pr.nabort; i++) {
			struct itn *v = pr.abort[i];

			/* TAS=0: the victim learns of its aborted tasks by
			 * 2F/00 (only when it had any). */
			if (v->ntasks)
				ds_ua_queue(v, PRPATH_SCSI_ASCQ_COMMANDS_CLEARED_BY_ANOTHER);
			v->abort_gen++;
			v->ntasks++; /* pin: the itn must outlive the wait below */
		}
		/* PREEMPT AND ABORT completes only after the victims'
		 * admitted commands have drained: none of them can land
		 * after the new owner has been told it owns the LU. */
		for (size_t i = 0; i < pr.nabort; i++)
			while (pr.abort[i]->inflight)
				pthread_cond_wait(&lu->drained, &lu->lock);
		for (size_t i = 0; i < pr.nabort; i++) {
			pr.abort[i]->ntasks--;
			ds_itn_put(lu, pr.abort[i]);
		}
	}
	free(pr.abort);
	free(pr.ua.v);
	return 0;
}
