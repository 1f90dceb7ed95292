/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iSCSI PDU header and text key parsing, login key negotiation.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <prpath/scsi.h>

#include "target/chap.h"
#include "target/pdu.h"
#include "util/crc32c.h"

int iscsi_bhs_parse(const uint8_t *buf, size_t len, struct iscsi_bhs *out)
{
	if (len < ISCSI_BHS_LEN)
		return -ENODATA;
	memset(out, 0, sizeof(*out));
	out->opcode = buf[0] & 0x3f;
	out->immediate = (buf[0] & 0x40) != 0;
	out->flags = buf[1];
	out->final = (buf[1] & 0x80) != 0;
	out->ahs_words = buf[4];
	out->dlen = ((uint32_t)buf[5] << 16) | ((uint32_t)buf[6] << 8) | buf[7];
	memcpy(out->lun, buf + 8, 8);
	out->itt = prpath_get_be32(buf + 16);
	out->f20 = prpath_get_be32(buf + 20);
	out->f24 = prpath_get_be32(buf + 24);
	out->f28 = prpath_get_be32(buf + 28);
	out->f32 = prpath_get_be32(buf + 32);
	out->f36 = prpath_get_be32(buf + 36);
	out->f40 = prpath_get_be32(buf + 40);
	out->f44 = prpath_get_be32(buf + 44);
	if (buf[0] & 0x80)
		return -EBADMSG; /* reserved bit */
	switch (out->opcode) {
	case ISCSI_OP_NOP_OUT:
	case ISCSI_OP_SCSI_CMD:
	case ISCSI_OP_TMF_REQ:
	case ISCSI_OP_LOGIN_REQ:
	case ISCSI_OP_TEXT_REQ:
	case ISCSI_OP_DATA_OUT:
	case ISCSI_OP_LOGOUT_REQ:
	case ISCSI_OP_SNACK:
		return 0;
	default:
		return -EBADMSG;
	}
}

int iscsi_ahs_ext_cdb(const uint8_t *ahs, size_t len, uint8_t *ext, size_t cap)
{
	size_t off = 0;
	int got = 0;

	while (off < len) {
		size_t alen, total;

		if (len - off < 4)
			return -EBADMSG;
		alen = prpath_get_be16(ahs + off);
		total = iscsi_pad4(3 + alen);
		if (alen == 0 || total > len - off)
			return -EBADMSG;
		if (ahs[off + 2] == 1) { /* extended CDB: reserved byte + CDB */
			size_t n = alen - 1;

			if (got || n > cap)
				return -EBADMSG;
			memcpy(ext, ahs + off + 4, n);
			got = (int)n;
		}
		off += total;
	}
	return got;
}

int iscsi_lun_decode(const uint8_t lun[8])
{
	unsigned method = lun[0] >> 6;
	size_t i;

	for (i = 2; i < 8; i++)
		if (lun[i])
			return -EINVAL;
	if (method == 0) {
		if (lun[0] & 0x3f)
			return -EINVAL;
		return lun[1];
	}
	if (method == 1)
		return ((lun[0] & 0x3f) << 8) | lun[1];
	return -EINVAL;
}

void iscsi_lun_encode(unsigned lun, uint8_t out[8])
{
	memset(out, 0, 8);
	if (lun < 256) {
		out[1] = (uint8_t)lun;
	} else {
		out[0] = (uint8_t)(0x40 | ((lun >> 8) & 0x3f));
		out[1] = (uint8_t)lun;
	}
}

/* ---- text ---------------------------------------------------------------- */

static bool key_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
	       c == '@' || c == '_';
}

int iscsi_text_next(const uint8_t *buf, size_t len, size_t *off,
		    struct iscsi_kv *kv)
{
	size_t o = *off, start, end, eq;

	/* skip NUL padding */
	while (o < len && buf[o] == 0)
		o++;
	if (o >= len) {
		*off = len;
		return 0;
	}
	start = o;
	end = o;
	while (end < len && buf[end] != 0)
		end++;
	if (end >= len)
		return -EBADMSG; /* not NUL-terminated */
	eq = start;
	while (eq < end && buf[eq] != '=')
		eq++;
	if (eq == end || eq == start || eq - start > ISCSI_KEY_MAX)
		return -EBADMSG;
	if (end - eq - 1 > ISCSI_VALUE_MAX)
		return -EBADMSG;
	for (o = start; o < eq; o++)
		if (!key_char_ok((char)buf[o]))
			return -EBADMSG;
	kv->key = (const char *)buf + start;
	kv->key_len = eq - start;
	kv->value = (const char *)buf + eq + 1;
	kv->value_len = end - eq - 1;
	*off = end + 1;
	return 1;
}

int iscsi_text_add(char *buf, size_t cap, size_t *len, const char *key,
		   const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);

	if (*len > cap || cap - *len < kl + vl + 2)
		return -ENOSPC;
	memcpy(buf + *len, key, kl);
	buf[*len + kl] = '=';
	memcpy(buf + *len + kl + 1, value, vl);
	buf[*len + kl + 1 + vl] = '\0';
	*len += kl + vl + 2;
	return 0;
}

int iscsi_parse_u32(const char *s, size_t len, uint32_t *v)
{
	uint64_t x = 0;
	size_t i = 0;
	unsigned base = 10;

	if (len == 0)
		return -EINVAL;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (len - i > 10)
		return -EINVAL;
	for (; i < len; i++) {
		unsigned d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		x = x * base + d;
		if (x > 0xffffffffull)
			return -EINVAL;
	}
	*v = (uint32_t)x;
	return 0;
}

void iscsi_params_init(struct iscsi_params *p, uint32_t our_max_recv_dsl)
{
	memset(p, 0, sizeof(*p));
	p->max_send_dsl = 8192;
	p->max_recv_dsl = our_max_recv_dsl;
	p->max_burst = 262144;
	p->first_burst = 65536;
	p->immediate_data = true;
	p->initial_r2t = true;
	p->max_outstanding_r2t = 1;
	p->time2wait = 2;
	p->time2retain = 20;
	p->data_pdu_in_order = true;
	p->data_seq_in_order = true;
}

/* Our offers */
#define OUR_MAX_BURST (1u << 20)
#define OUR_FIRST_BURST 262144u
#define OUR_MAX_OUT_R2T 8u
#define OUR_T2W 2u
#define OUR_T2R 20u

static bool val_is(const struct iscsi_kv *kv, const char *s)
{
	size_t n = strlen(s);

	return kv->value_len == n && memcmp(kv->value, s, n) == 0;
}

static bool key_is(const struct iscsi_kv *kv, const char *s)
{
	size_t n = strlen(s);

	return kv->key_len == n && memcmp(kv->key, s, n) == 0;
}

/* Boolean: returns 1 yes, 0 no, -1 invalid */
static int val_bool(const struct iscsi_kv *kv)
{
	if (val_is(kv, "Yes"))
		return 1;
	if (val_is(kv, "No"))
		return 0;
	return -1;
}

/* Picks the first supported digest in a comma list; -1 if none. */
static int pick_digest(const struct iscsi_kv *kv)
{
	size_t i = 0;

	while (i <= kv->value_len) {
		size_t j = i;

		while (j < kv->value_len && kv->value[j] != ',')
			j++;
		if (j - i == 4 && memcmp(kv->value + i, "None", 4) == 0)
			return 0;
		if (j - i == 6 && memcmp(kv->value + i, "CRC32C", 6) == 0)
			return 1;
		i = j + 1;
	}
	return -1;
}

bool iscsi_kv_list_has(const struct iscsi_kv *kv, const char *item)
{
	size_t n = strlen(item), i = 0;

	while (i <= kv->value_len) {
		size_t j = i;

		while (j < kv->value_len && kv->value[j] != ',')
			j++;
		if (j - i == n && memcmp(kv->value + i, item, n) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

static int add_u32(char *out, size_t cap, size_t *len, const char *key,
		   uint32_t v)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", v);
	return iscsi_text_add(out, cap, len, key, num);
}

static void copy_kv_value(char *dst, size_t cap, const struct iscsi_kv *kv)
{
	size_t n = kv->value_len < cap - 1 ? kv->value_len : cap - 1;

	memcpy(dst, kv->value, n);
	dst[n] = '\0';
}

/* Numeric key with a range; returns the value or -1 when invalid. */
static int64_t val_num(const struct iscsi_kv *kv, uint32_t lo, uint32_t hi)
{
	uint32_t v;

	if (iscsi_parse_u32(kv->value, kv->value_len, &v) || v < lo || v > hi)
		return -1;
	return v;
}

int iscsi_negotiate(struct iscsi_params *p, enum iscsi_nego_stage stage,
		    const uint8_t *in, size_t in_len, char *out, size_t cap,
		    size_t *out_len, const char **send_targets)
{
	size_t off = 0;
	struct iscsi_kv kv;
	int r, rc;
	bool operational = stage == ISCSI_NEGO_OPERATIONAL;
	bool login = stage != ISCSI_NEGO_FFP;

	if (send_targets)
		*send_targets = NULL;
	while ((r = iscsi_text_next(in, in_len, &off, &kv)) == 1) {
		char key[ISCSI_KEY_MAX + 1];
		int64_t n;
		int b;

		memcpy(key, kv.key, kv.key_len);
		key[kv.key_len] = '\0';
		rc = 0;
		if (val_is(&kv, "NotUnderstood") || val_is(&kv, "Irrelevant") ||
		    val_is(&kv, "Reject"))
			continue;
		if (p->chap && stage == ISCSI_NEGO_SECURITY &&
		    iscsi_chap_key(p->chap, &kv))
			continue;
		if (key_is(&kv, "SendTargets")) {
			if (login) {
				rc = iscsi_text_add(out, cap, out_len, key, "Irrelevant");
			} else if (send_targets) {
				*send_targets = kv.value;
			}
		} else if (key_is(&kv, "InitiatorName")) {
			if (!login || kv.value_len == 0 ||
			    kv.value_len > sizeof(p->initiator_name) - 1)
				return login ? ISCSI_LOGIN_INITIATOR_ERROR : -EBADMSG;
			copy_kv_value(p->initiator_name, sizeof(p->initiator_name), &kv);
		} else if (key_is(&kv, "TargetName")) {
			if (!login || kv.value_len > sizeof(p->target_name) - 1)
				return login ? ISCSI_LOGIN_NOT_FOUND : -EBADMSG;
			copy_kv_value(p->target_name, sizeof(p->target_name), &kv);
		} else if (key_is(&kv, "SessionType")) {
			if (!login)
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			else if (val_is(&kv, "Normal"))
				p->session_type = ISCSI_SESSION_NORMAL;
			else if (val_is(&kv, "Discovery"))
				p->session_type = ISCSI_SESSION_DISCOVERY;
			else
				return ISCSI_LOGIN_INITIATOR_ERROR;
		} else if (key_is(&kv, "InitiatorAlias")) {
			/* declarative, nothing to answer */
		} else if (key_is(&kv, "AuthMethod")) {
			if (stage != ISCSI_NEGO_SECURITY) {
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			} else if (iscsi_kv_list_has(&kv, "None")) {
				p->auth_none_agreed = true;
				rc = iscsi_text_add(out, cap, out_len, key, "None");
			} else {
				return ISCSI_LOGIN_AUTH_FAILED;
			}
		} else if (key_is(&kv, "HeaderDigest") || key_is(&kv, "DataDigest")) {
			int d = pick_digest(&kv);

			if (!operational) {
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			} else if (d < 0) {
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			} else {
				if (key[0] == 'H')
					p->header_digest = d == 1;
				else
					p->data_digest = d == 1;
				rc = iscsi_text_add(out, cap, out_len, key,
						    d ? "CRC32C" : "None");
			}
		} else if (key_is(&kv, "MaxRecvDataSegmentLength")) {
			n = val_num(&kv, 512, 16777215);
			if (n < 0) {
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			} else {
				p->max_send_dsl = (uint32_t)n;
				/* declarative: we send ours once (the caller
				 * adds it at login), nothing else here */
			}
		} else if (key_is(&kv, "MaxBurstLength")) {
			n = val_num(&kv, 512, 16777215);
			if (!operational || n < 0) {
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			} else {
				p->max_burst = (uint32_t)n < OUR_MAX_BURST ?
					       (uint32_t)n : OUR_MAX_BURST;
				if (p->first_burst > p->max_burst)
					p->first_burst = p->max_burst;
				rc = add_u32(out, cap, out_len, key, p->max_burst);
			}
		} else if (key_is(&kv, "FirstBurstLength")) {
			n = val_num(&kv, 512, 16777215);
			if (!operational || n < 0) {
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			} else {
				uint32_t v = (uint32_t)n < OUR_FIRST_BURST ?
					     (uint32_t)n : OUR_FIRST_BURST;
				if (v > p->max_burst)
					v = p->max_burst;
				p->first_burst = v;
				rc = add_u32(out, cap, out_len, key, v);
			}
		} else if (key_is(&kv, "ImmediateData") ||
			   key_is(&kv, "InitialR2T") ||
			   key_is(&kv, "DataPDUInOrder") ||
			   key_is(&kv, "DataSequenceInOrder") ||
			   key_is(&kv, "IFMarker") || key_is(&kv, "OFMarker")) {
			b = val_bool(&kv);
			if (!operational || b < 0) {
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			} else if (key_is(&kv, "ImmediateData")) {
				p->immediate_data = b; /* AND with our Yes */
				rc = iscsi_text_add(out, cap, out_len, key, b ? "Yes" : "No");
			} else if (key_is(&kv, "InitialR2T")) {
				p->initial_r2t = b; /* OR with our No */
				rc = iscsi_text_add(out, cap, out_len, key, b ? "Yes" : "No");
			} else if (key[0] == 'I' || key[0] == 'O') {
				rc = iscsi_text_add(out, cap, out_len, key, "No");
			} else {
				/* OR with our Yes: always Yes */
				if (key_is(&kv, "DataPDUInOrder"))
					p->data_pdu_in_order = true;
				else
					p->data_seq_in_order = true;
				rc = iscsi_text_add(out, cap, out_len, key, "Yes");
			}
		} else if (key_is(&kv, "OFMarkInt") || key_is(&kv, "IFMarkInt")) {
			rc = iscsi_text_add(out, cap, out_len, key, "Irrelevant");
		} else if (key_is(&kv, "MaxOutstandingR2T")) {
			n = val_num(&kv, 1, 65535);
			if (!operational || n < 0) {
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			} else {
				p->max_outstanding_r2t = (uint32_t)n < OUR_MAX_OUT_R2T ?
							 (uint32_t)n : OUR_MAX_OUT_R2T;
				rc = add_u32(out, cap, out_len, key, p->max_outstanding_r2t);
			}
		} else if (key_is(&kv, "DefaultTime2Wait")) {
			n = val_num(&kv, 0, 3600);
			if (!operational || n < 0) {
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			} else {
				p->time2wait = (uint32_t)n > OUR_T2W ? (uint32_t)n : OUR_T2W;
				rc = add_u32(out, cap, out_len, key, p->time2wait);
			}
		} else if (key_is(&kv, "DefaultTime2Retain")) {
			n = val_num(&kv, 0, 3600);
			if (!operational || n < 0) {
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			} else {
				p->time2retain = (uint32_t)n < OUR_T2R ? (uint32_t)n : OUR_T2R;
				rc = add_u32(out, cap, out_len, key, p->time2retain);
			}
		} else if (key_is(&kv, "ErrorRecoveryLevel")) {
			n = val_num(&kv, 0, 2);
			if (!operational || n < 0)
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			else
				rc = iscsi_text_add(out, cap, out_len, key, "0");
		} else if (key_is(&kv, "MaxConnections")) {
			n = val_num(&kv, 1, 65535);
			if (!operational || n < 0)
				rc = iscsi_text_add(out, cap, out_len, key, "Reject");
			else
				rc = iscsi_text_add(out, cap, out_len, key, "1");
		} else if (key_is(&kv, "TargetPortalGroupTag") ||
			   key_is(&kv, "TargetAlias") ||
			   key_is(&kv, "TargetAddress") ||
			   key_is(&kv, "TaskReporting")) {
			/* target-declared keys sent by an initiator */
			rc = iscsi_text_add(out, cap, out_len, key,
					    key_is(&kv, "TaskReporting") ?
					    "RFC3720" : "Irrelevant");
		} else {
			rc = iscsi_text_add(out, cap, out_len, key, "NotUnderstood");
		}
		if (rc)
			return rc;
	}
	if (r < 0)
		return login ? ISCSI_LOGIN_INITIATOR_ERROR : -EBADMSG;
	if (p->chap && stage == ISCSI_NEGO_SECURITY)
		return iscsi_chap_respond(p->chap, out, cap, out_len);
	return 0;
}

uint32_t iscsi_digest_value(const void *buf, size_t len)
{
	return crc32c(0, buf, len);
}

void iscsi_digest(const void *buf, size_t len, uint8_t out[4])
{
	uint32_t c = crc32c(0, buf, len);

	out[0] = (uint8_t)c;
	out[1] = (uint8_t)(c >> 8);
	out[2] = (uint8_t)(c >> 16);
	out[3] = (uint8_t)(c >> 24);
}

uint32_t iscsi_crc2(const void *a, size_t alen, const void *b, size_t blen)
{
	return crc32c(crc32c(0, a, alen), b, blen);
}
