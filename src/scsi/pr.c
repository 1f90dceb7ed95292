/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persistent reservations codec (SPC-4 6.15, 6.16, 7.6.4):
 *  - reservation type and service action helpers,
 *  - PR IN / PR OUT CDB builders,
 *  - PR OUT parameter lists (basic, REGISTER AND MOVE),
 *  - iSCSI TransportIDs (protocol identifier 5h, formats 00b and 01b),
 *  - decoders for the four PR IN service actions.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <prpath/scsi.h>

/* ---- types and names ---------------------------------------------------- */

static const char *const pr_type_names[] = {
	[PRPATH_PR_TYPE_WE] = "we",
	[PRPATH_PR_TYPE_EA] = "ea",
	[PRPATH_PR_TYPE_WERO] = "wero",
	[PRPATH_PR_TYPE_EARO] = "earo",
	[PRPATH_PR_TYPE_WEAR] = "wear",
	[PRPATH_PR_TYPE_EAAR] = "eaar",
};

bool prpath_pr_type_valid(unsigned type)
{
	return type < sizeof(pr_type_names) / sizeof(pr_type_names[0]) &&
	       pr_type_names[type] != NULL;
}

const char *prpath_pr_type_name(unsigned type)
{
	return prpath_pr_type_valid(type) ? pr_type_names[type] : NULL;
}

int prpath_pr_type_parse(const char *s)
{
	unsigned long v;
	char *end;
	unsigned t;

	if (!s || !*s)
		return -EINVAL;
	for (t = 0; t < sizeof(pr_type_names) / sizeof(pr_type_names[0]); t++)
		if (pr_type_names[t] && strcasecmp(s, pr_type_names[t]) == 0)
			return (int)t;
	/* a number: decimal or 0x-prefixed hex, nothing else */
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end != '\0' || v > 0xf || !prpath_pr_type_valid((unsigned)v))
		return -EINVAL;
	return (int)v;
}

bool prpath_pr_type_all_registrants(unsigned type)
{
	return type == PRPATH_PR_TYPE_WEAR || type == PRPATH_PR_TYPE_EAAR;
}

bool prpath_pr_type_registrants_only(unsigned type)
{
	return type == PRPATH_PR_TYPE_WERO || type == PRPATH_PR_TYPE_EARO;
}

const char *prpath_prout_sa_name(unsigned sa)
{
	switch (sa) {
	case PRPATH_PR_OUT_REGISTER: return "REGISTER";
	case PRPATH_PR_OUT_RESERVE: return "RESERVE";
	case PRPATH_PR_OUT_RELEASE: return "RELEASE";
	case PRPATH_PR_OUT_CLEAR: return "CLEAR";
	case PRPATH_PR_OUT_PREEMPT: return "PREEMPT";
	case PRPATH_PR_OUT_PREEMPT_AND_ABORT: return "PREEMPT AND ABORT";
	case PRPATH_PR_OUT_REGISTER_AND_IGNORE: return "REGISTER AND IGNORE EXISTING KEY";
	case PRPATH_PR_OUT_REGISTER_AND_MOVE: return "REGISTER AND MOVE";
	case PRPATH_PR_OUT_REPLACE_LOST_RESERVATION: return "REPLACE LOST RESERVATION";
	default: return "UNKNOWN PR OUT SERVICE ACTION";
	}
}

const char *prpath_prin_sa_name(unsigned sa)
{
	switch (sa) {
	case PRPATH_PR_IN_READ_KEYS: return "READ KEYS";
	case PRPATH_PR_IN_READ_RESERVATION: return "READ RESERVATION";
	case PRPATH_PR_IN_REPORT_CAPABILITIES: return "REPORT CAPABILITIES";
	case PRPATH_PR_IN_READ_FULL_STATUS: return "READ FULL STATUS";
	default: return "UNKNOWN PR IN SERVICE ACTION";
	}
}

/* ---- CDBs --------------------------------------------------------------- */

int prpath_cdb_pr_in(uint8_t *cdb, size_t cap, unsigned sa, uint16_t alloc_len)
{
	if (!cdb || sa > 0x1f)
		return -EINVAL;
	if (cap < 10)
		return -ENOSPC;
	memset(cdb, 0, 10);
	cdb[0] = PRPATH_SCSI_OP_PR_IN;
	cdb[1] = (uint8_t)sa;
	prpath_put_be16(cdb + 7, alloc_len);
	return 10;
}

int prpath_cdb_pr_out(uint8_t *cdb, size_t cap, unsigned sa, unsigned scope,
		      unsigned type, uint32_t param_len)
{
	if (!cdb || sa > 0x1f || scope > 0xf || type > 0xf)
		return -EINVAL;
	if (cap < 10)
		return -ENOSPC;
	memset(cdb, 0, 10);
	cdb[0] = PRPATH_SCSI_OP_PR_OUT;
	cdb[1] = (uint8_t)sa;
	cdb[2] = (uint8_t)(scope << 4 | type);
	prpath_put_be32(cdb + 5, param_len);
	return 10;
}

/* ---- PR OUT parameter lists --------------------------------------------- */

#define PROUT_BASIC_LEN 24
#define PROUT_SPEC_I_PT_HDR 28
#define PROUT_MOVE_HDR 24

int prpath_prout_params_encode(const struct prpath_prout_params *p,
			       uint8_t *buf, size_t cap)
{
	size_t total = PROUT_BASIC_LEN;

	if (!p || !buf)
		return -EINVAL;
	if (p->spec_i_pt) {
		if (p->tids_len && !p->tids)
			return -EINVAL;
		if (p->tids_len > (size_t)INT_MAX - PROUT_SPEC_I_PT_HDR)
			return -EINVAL;
		total = PROUT_SPEC_I_PT_HDR + p->tids_len;
	} else if (p->tids_len) {
		return -EINVAL;
	}
	if (cap < total)
		return -ENOSPC;
	memset(buf, 0, PROUT_BASIC_LEN);
	prpath_put_be64(buf, p->rk);
	prpath_put_be64(buf + 8, p->sark);
	buf[20] = (uint8_t)((p->spec_i_pt ? 0x08 : 0) | (p->all_tg_pt ? 0x04 : 0) |
			    (p->aptpl ? 0x01 : 0));
	if (p->spec_i_pt) {
		prpath_put_be32(buf + 24, (uint32_t)p->tids_len);
		if (p->tids_len)
			memmove(buf + PROUT_SPEC_I_PT_HDR, p->tids, p->tids_len);
	}
	return (int)total;
}

int prpath_prout_params_decode(const uint8_t *buf, size_t len,
			       struct prpath_prout_params *p)
{
	size_t tl;

	if (!p)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	if (!buf || len < PROUT_BASIC_LEN)
		return -ENODATA;
	p->rk = prpath_get_be64(buf);
	p->sark = prpath_get_be64(buf + 8);
	p->spec_i_pt = buf[20] & 0x08;
	p->all_tg_pt = buf[20] & 0x04;
	p->aptpl = buf[20] & 0x01;
	if (!p->spec_i_pt)
		return len == PROUT_BASIC_LEN ? 0 : -EBADMSG;
	if (len < PROUT_SPEC_I_PT_HDR)
		return -EBADMSG;
	tl = prpath_get_be32(buf + 24);
	if (tl != len - PROUT_SPEC_I_PT_HDR)
		return -EBADMSG;
	p->tids = tl ? buf + PROUT_SPEC_I_PT_HDR : NULL;
	p->tids_len = tl;
	return 0;
}

int prpath_prout_move_params_encode(const struct prpath_prout_move_params *p,
				    uint8_t *buf, size_t cap)
{
	size_t total;

	if (!p || !buf || !p->tid)
		return -EINVAL;
	if (p->tid_len < 24 || p->tid_len % 4 || p->tid_len > PRPATH_TRANSPORTID_MAX)
		return -EINVAL;
	total = PROUT_MOVE_HDR + p->tid_len;
	if (cap < total)
		return -ENOSPC;
	memset(buf, 0, PROUT_MOVE_HDR);
	prpath_put_be64(buf, p->rk);
	prpath_put_be64(buf + 8, p->sark);
	buf[17] = (uint8_t)((p->unreg ? 0x02 : 0) | (p->aptpl ? 0x01 : 0));
	prpath_put_be16(buf + 18, p->rel_tgt_port);
	prpath_put_be32(buf + 20, (uint32_t)p->tid_len);
	memmove(buf + PROUT_MOVE_HDR, p->tid, p->tid_len);
	return (int)total;
}

int prpath_prout_move_params_decode(const uint8_t *buf, size_t len,
				    struct prpath_prout_move_params *p)
{
	size_t tl;

	if (!p)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	if (!buf || len < PROUT_MOVE_HDR)
		return -ENODATA;
	p->rk = prpath_get_be64(buf);
	p->sark = prpath_get_be64(buf + 8);
	p->unreg = buf[17] & 0x02;
	p->aptpl = buf[17] & 0x01;
	p->rel_tgt_port = prpath_get_be16(buf + 18);
	tl = prpath_get_be32(buf + 20);
	if (tl < 24 || tl % 4 || tl > PRPATH_TRANSPORTID_MAX ||
	    tl != len - PROUT_MOVE_HDR)
		return -EBADMSG;
	p->tid = buf + PROUT_MOVE_HDR;
	p->tid_len = tl;
	return 0;
}

/* ---- iSCSI TransportIDs ------------------------------------------------- */

#define TID_FMT_NAME 0x0
#define TID_FMT_PORT 0x1
#define TID_HDR 4
#define TID_MIN_ADDL 20
#define ISID_HEX 12
static const char tid_sep[] = ",i,0x";
#define TID_SEP_LEN (sizeof(tid_sep) - 1)

/* iSCSI names (RFC 7143 4.2.7.2) are printable; prpath also refuses the
 * comma so that "<name>,i,0x<isid>" splits unambiguously. */
static bool name_char_ok(char c)
{
	return c > 0x20 && c < 0x7f && c != ',';
}

static int check_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > PRPATH_ISCSI_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!name_char_ok(s[i]))
			return -EINVAL;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copies exactly ISID_HEX hex digits from @s to @isid in lower case. */
static int parse_isid(const char *s, size_t n, char *isid)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (n != ISID_HEX)
		return -EINVAL;
	for (i = 0; i < ISID_HEX; i++) {
		int v = hexval(s[i]);

		if (v < 0)
			return -EINVAL;
		isid[i] = hex[v];
	}
	isid[ISID_HEX] = '\0';
	return 0;
}

static size_t bounded_strlen(const char *s, size_t max)
{
	const char *nul = memchr(s, '\0', max);

	return nul ? (size_t)(nul - s) : max;
}

int prpath_tid_encode(const struct prpath_tid *t, uint8_t *buf, size_t cap)
{
	size_t nlen, ilen, slen, addl;
	char isid[ISID_HEX + 1];
	bool port;

	if (!t || !buf)
		return -EINVAL;
	nlen = bounded_strlen(t->name, sizeof(t->name));
	if (nlen == sizeof(t->name) || check_name(t->name, nlen) < 0)
		return -EINVAL;
	ilen = bounded_strlen(t->isid, sizeof(t->isid));
	port = ilen > 0;
	if (port) {
		if (parse_isid(t->isid, ilen, isid) < 0)
			return -EINVAL;
	} else if (t->format != TID_FMT_NAME) {
		return -EINVAL;
	}
	/* name [",i,0x" isid] NUL, padded to a multiple of 4, at least 20 */
	slen = nlen + (port ? TID_SEP_LEN + ISID_HEX : 0);
	addl = (slen + 1 + 3) & ~(size_t)3;
	if (addl < TID_MIN_ADDL)
		addl = TID_MIN_ADDL;
	if (cap < TID_HDR + addl)
		return -ENOSPC;
	memset(buf, 0, TID_HDR + addl);
	buf[0] = (uint8_t)((port ? TID_FMT_PORT : TID_FMT_NAME) << 6 |
			   PRPATH_SCSI_PROTOCOL_ISCSI);
	prpath_put_be16(buf + 2, (uint16_t)addl);
	memcpy(buf + TID_HDR, t->name, nlen);
	if (port) {
		memcpy(buf + TID_HDR + nlen, tid_sep, TID_SEP_LEN);
		memcpy(buf + TID_HDR + nlen + TID_SEP_LEN, isid, ISID_HEX);
	}
	return (int)(TID_HDR + addl);
}

int prpath_tid_decode(const uint8_t *buf, size_t len, struct prpath_tid *t)
{
	const char *s;
	size_t addl, slen, i, nlen;
	unsigned fmt;

	if (!t)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	if (!buf || len < TID_HDR)
		return -ENODATA;
	if ((buf[0] & 0x0f) != PRPATH_SCSI_PROTOCOL_ISCSI)
		return -EPROTONOSUPPORT;
	fmt = buf[0] >> 6;
	if (fmt != TID_FMT_NAME && fmt != TID_FMT_PORT)
		return -EBADMSG;
	addl = prpath_get_be16(buf + 2);
	if (addl < TID_MIN_ADDL || addl % 4 ||
	    addl > PRPATH_TRANSPORTID_MAX - TID_HDR)
		return -EBADMSG;
	if (len - TID_HDR < addl)
		return -ENODATA;
	s = (const char *)buf + TID_HDR;
	slen = bounded_strlen(s, addl);
	if (slen == addl)
		return -EBADMSG; /* not NUL-terminated */
	for (i = slen; i < addl; i++)
		if (s[i] != '\0')
			return -EBADMSG; /* padding must be NULs */
	if (fmt == TID_FMT_NAME) {
		nlen = slen;
	} else {
		const char *comma = memchr(s, ',', slen);

		if (!comma)
			return -EBADMSG;
		nlen = (size_t)(comma - s);
		if (slen - nlen < TID_SEP_LEN ||
		    memcmp(comma, tid_sep, TID_SEP_LEN) != 0)
			return -EBADMSG;
		if (parse_isid(comma + TID_SEP_LEN, slen - nlen - TID_SEP_LEN,
			       t->isid) < 0)
			return -EBADMSG;
	}
	if (check_name(s, nlen) < 0) {
		memset(t, 0, sizeof(*t));
		return -EBADMSG;
	}
	memcpy(t->name, s, nlen);
	t->name[nlen] = '\0';
	t->format = fmt;
	return (int)(TID_HDR + addl);
}

int prpath_tid_port_name(const struct prpath_tid *t, char *out, size_t cap)
{
	size_t nlen, ilen, total;

	if (!t || !out)
		return -EINVAL;
	nlen = bounded_strlen(t->name, sizeof(t->name));
	ilen = bounded_strlen(t->isid, sizeof(t->isid));
	if (nlen == 0 || nlen == sizeof(t->name) || ilen == sizeof(t->isid))
		return -EINVAL;
	total = nlen + (ilen ? TID_SEP_LEN + ilen : 0);
	if (cap <= total)
		return -ENOSPC;
	memcpy(out, t->name, nlen);
	if (ilen) {
		memcpy(out + nlen, tid_sep, TID_SEP_LEN);
		memcpy(out + nlen + TID_SEP_LEN, t->isid, ilen);
	}
	out[total] = '\0';
	return (int)total;
}

/* Also accepts a plain "<name>" (no separator) and returns a format-0 tid
 * for it, so any nexus name that is an iSCSI-style name can be reported. */
int prpath_tid_from_port_name(const char *port_name, struct prpath_tid *t)
{
	const char *comma;
	size_t len, nlen;

	if (!t)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	if (!port_name)
		return -EINVAL;
	len = strnlen(port_name, PRPATH_PORT_NAME_MAX);
	if (len == PRPATH_PORT_NAME_MAX)
		return -EINVAL;
	comma = memchr(port_name, ',', len);
	nlen = comma ? (size_t)(comma - port_name) : len;
	if (check_name(port_name, nlen) < 0)
		return -EINVAL;
	if (comma) {
		if (len - nlen < TID_SEP_LEN ||
		    strncasecmp(comma, tid_sep, TID_SEP_LEN) != 0 ||
		    parse_isid(comma + TID_SEP_LEN, len - nlen - TID_SEP_LEN,
			       t->isid) < 0) {
			memset(t, 0, sizeof(*t));
			return -EINVAL;
		}
		t->format = TID_FMT_PORT;
	}
	memcpy(t->name, port_name, nlen);
	t->name[nlen] = '\0';
	return 0;
}

/* ---- PR IN decoders ----------------------------------------------------- */

#define PRIN_HDR 8

int prpath_decode_read_keys(const uint8_t *buf, size_t len,
			    struct prpath_read_keys *out)
{
	size_t present, i, n;

	if (!out)
		return -EINVAL;
	out->generation = 0;
	out->additional_length = 0;
	out->nkeys = 0;
	out->nkeys_total = 0;
	out->truncated = false;
	if (!buf || len < PRIN_HDR)
		return -ENODATA;
	out->generation = prpath_get_be32(buf);
	out->additional_length = prpath_get_be32(buf + 4);
	if (out->additional_length % 8)
		return -EBADMSG;
	out->nkeys_total = out->additional_length / 8;
	present = (len - PRIN_HDR) / 8;
	if (present > out->nkeys_total)
		present = out->nkeys_total;
	n = present;
	if (!out->keys || n > out->keys_cap)
		n = out->keys ? out->keys_cap : 0;
	for (i = 0; i < n; i++)
		out->keys[i] = prpath_get_be64(buf + PRIN_HDR + 8 * i);
	out->nkeys = n;
	out->truncated = n < out->nkeys_total;
	return 0;
}

int prpath_decode_read_reservation(const uint8_t *buf, size_t len,
				   struct prpath_read_reservation *out)
{
	uint32_t addl;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!buf || len < PRIN_HDR)
		return -ENODATA;
	out->generation = prpath_get_be32(buf);
	addl = prpath_get_be32(buf + 4);
	if (addl == 0)
		return 0;
	if (addl < 16)
		return -EBADMSG;
	out->reserved = true;
	/* key 8..15, obsolete 16..19, reserved 20, scope|type 21 */
	if (len >= PRIN_HDR + 8)
		out->key = prpath_get_be64(buf + 8);
	if (len >= 22) {
		out->scope = buf[21] >> 4;
		out->type = buf[21] & 0x0f;
	}
	out->truncated = len < PRIN_HDR + (size_t)addl;
	return 0;
}

int prpath_decode_report_capabilities(const uint8_t *buf, size_t len,
				      struct prpath_capabilities *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!buf || len < 8)
		return -ENODATA;
	if (prpath_get_be16(buf) < 8)
		return -EBADMSG;
	out->rlr_c = buf[2] & 0x80;
	out->crh = buf[2] & 0x10;
	out->sip_c = buf[2] & 0x08;
	out->atp_c = buf[2] & 0x04;
	out->ptpl_c = buf[2] & 0x01;
	out->tmv = buf[3] & 0x80;
	out->allow_commands = (buf[3] >> 4) & 0x7;
	out->ptpl_a = buf[3] & 0x01;
	/* the bit positions of byte 4 match the type codes 1, 3, 5, 6, 7 */
	out->type_mask = (uint16_t)((buf[4] & 0xea) | ((buf[5] & 0x01) << 8));
	return 0;
}

#define FS_DESC_HDR 24

int prpath_decode_read_full_status(const uint8_t *buf, size_t len,
				   struct prpath_full_status *out)
{
	size_t end, off;
	bool cut;

	if (!out)
		return -EINVAL;
	out->generation = 0;
	out->additional_length = 0;
	out->ndesc = 0;
	out->truncated = false;
	if (!buf || len < PRIN_HDR)
		return -ENODATA;
	out->generation = prpath_get_be32(buf);
	out->additional_length = prpath_get_be32(buf + 4);
	/* end of the list as reported, and whether @len cuts it */
	cut = (size_t)out->additional_length > len - PRIN_HDR;
	end = cut ? len : PRIN_HDR + (size_t)out->additional_length;
	off = PRIN_HDR;
	while (off < end) {
		const uint8_t *d = buf + off;
		size_t adl;

		if (end - off < FS_DESC_HDR) {
			if (cut)
				break;
			return -EBADMSG;
		}
		adl = prpath_get_be32(d + 20);
		if (adl > end - off - FS_DESC_HDR) {
			/* beyond the list's own length is a lie; beyond
			 * @len within the list is a cut at allocation length */
			if (!cut || adl > PRIN_HDR + (size_t)out->additional_length -
						  off - FS_DESC_HDR)
				return -EBADMSG;
			break;
		}
		if (out->desc && out->ndesc < out->desc_cap) {
			struct prpath_full_status_desc *fd = &out->desc[out->ndesc];

			memset(fd, 0, sizeof(*fd));
			fd->key = prpath_get_be64(d);
			fd->all_tg_pt = d[12] & 0x02;
			fd->r_holder = d[12] & 0x01;
			fd->scope = d[13] >> 4;
			fd->type = d[13] & 0x0f;
			fd->rel_tgt_port = prpath_get_be16(d + 18);
			fd->tid_valid = prpath_tid_decode(d + FS_DESC_HDR, adl,
							  &fd->tid) > 0;
			out->ndesc++;
		} else {
			out->truncated = true;
		}
		off += FS_DESC_HDR + adl;
	}
	if (off < PRIN_HDR + (size_t)out->additional_length)
		out->truncated = true;
	return 0;
}
