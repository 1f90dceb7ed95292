/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iSCSI CHAP, target side (RFC 7143 12.1.3, RFC 1994):
 *
 *   I: AuthMethod=CHAP[,...]         T: AuthMethod=CHAP
 *   I: CHAP_A=5[,...]                T: CHAP_A=5 CHAP_I=<id> CHAP_C=0x<16 bytes>
 *   I: CHAP_N=<name> CHAP_R=0x<r>    T: (checks r = MD5(id || secret || c))
 *      [CHAP_I=<id'> CHAP_C=<c'>]    T: [CHAP_N=<ours> CHAP_R=MD5(id' || s' || c')]
 *
 * AuthMethod and CHAP_A may come in one request. Any deviation fails the
 * login with 02/01 (authentication failure).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "target/chap.h"
#include "util/md5.h"

void iscsi_chap_init(struct iscsi_chap *c, const struct iscsi_chap_cfg *cfg,
		     const uint8_t rnd[ISCSI_CHAP_RANDOM_LEN])
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->state = ISCSI_CHAP_START;
	c->id = rnd[0];
	memcpy(c->challenge, rnd + 1, sizeof(c->challenge));
}

static bool kv_key_is(const struct iscsi_kv *kv, const char *s)
{
	size_t n = strlen(s);

	return kv->key_len == n && memcmp(kv->key, s, n) == 0;
}

static void record(struct iscsi_chap_keys *k, struct iscsi_kv *slot,
		   bool *has, const struct iscsi_kv *kv)
{
	if (*has)
		k->duplicate = true;
	*slot = *kv;
	*has = true;
}

int iscsi_chap_key(struct iscsi_chap *c, const struct iscsi_kv *kv)
{
	struct iscsi_chap_keys *k = &c->k;

	if (kv_key_is(kv, "AuthMethod"))
		record(k, &k->method, &k->has_method, kv);
	else if (kv_key_is(kv, "CHAP_A"))
		record(k, &k->alg, &k->has_alg, kv);
	else if (kv_key_is(kv, "CHAP_N"))
		record(k, &k->name, &k->has_name, kv);
	else if (kv_key_is(kv, "CHAP_R"))
		record(k, &k->resp, &k->has_resp, kv);
	else if (kv_key_is(kv, "CHAP_I"))
		record(k, &k->peer_id, &k->has_peer_id, kv);
	else if (kv_key_is(kv, "CHAP_C"))
		record(k, &k->peer_chal, &k->has_peer_chal, kv);
	else
		return 0;
	return 1;
}

/* ---- binary values -------------------------------------------------------- */

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int b64_digit(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

static int decode_hex(const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t n = (len + 1) / 2, i = 0, o = 0;

	if (len == 0 || n > cap)
		return -EINVAL;
	if (len % 2) { /* odd count: the first digit is a low nibble */
		int d = hex_digit(s[0]);

		if (d < 0)
			return -EINVAL;
		out[o++] = (uint8_t)d;
		i = 1;
	}
	for (; i < len; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[o++] = (uint8_t)(hi << 4 | lo);
	}
	return (int)o;
}

static int decode_b64(const char *s, size_t len, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	size_t i, o = 0, pad = 0, bits = 0;

	if (len == 0 || len % 4)
		return -EINVAL;
	if (s[len - 1] == '=')
		pad++;
	if (len >= 2 && s[len - 2] == '=')
		pad++;
	if ((len / 4) * 3 - pad > cap)
		return -EINVAL;
	for (i = 0; i < len - pad; i++) {
		int d = b64_digit(s[i]);

		if (d < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* non-canonical: leftover bits must be zero */
		return -EINVAL;
	if (o == 0)
		return -EINVAL;
	return (int)o;
}

int iscsi_chap_decode(const char *v, size_t len, uint8_t *out, size_t cap)
{
	if (len < 3 || v[0] != '0')
		return -EINVAL;
	if (v[1] == 'x' || v[1] == 'X')
		return decode_hex(v + 2, len - 2, out, cap);
	if (v[1] == 'b' || v[1] == 'B')
		return decode_b64(v + 2, len - 2, out, cap);
	return -EINVAL;
}

int iscsi_chap_hex(const uint8_t *b, size_t n, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (cap < 2 * n + 3)
		return -ENOSPC;
	out[0] = '0';
	out[1] = 'x';
	for (i = 0; i < n; i++) {
		out[2 + 2 * i] = digits[b[i] >> 4];
		out[3 + 2 * i] = digits[b[i] & 15];
	}
	out[2 + 2 * n] = '\0';
	return 0;
}

void iscsi_chap_response(uint8_t id, const uint8_t *secret, size_t secret_len,
			 const uint8_t *challenge, size_t challenge_len,
			 uint8_t out[ISCSI_CHAP_RESPONSE_LEN])
{
	struct pp_md5 m;

	pp_md5_init(&m);
	pp_md5_update(&m, &id, 1);
	pp_md5_update(&m, secret, secret_len);
	pp_md5_update(&m, challenge, challenge_len);
	pp_md5_final(&m, out);
}

/* ---- the state machine ---------------------------------------------------- */

static bool const_time_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

static int fail(struct iscsi_chap *c, const char *why)
{
	c->state = ISCSI_CHAP_FAILED;
	c->reason = why;
	return ISCSI_LOGIN_AUTH_FAILED;
}

/* Checks CHAP_N / CHAP_R against our challenge. */
static int check_response(struct iscsi_chap *c)
{
	const struct iscsi_chap_cfg *cfg = c->cfg;
	uint8_t got[ISCSI_CHAP_RESPONSE_LEN], want[ISCSI_CHAP_RESPONSE_LEN];
	size_t ulen = strlen(cfg->user);
	bool ok;
	int n;

	if (!c->k.has_name || !c->k.has_resp)
		return fail(c, "CHAP_N or CHAP_R missing");
	n = iscsi_chap_decode(c->k.resp.value, c->k.resp.value_len, got,
			      sizeof(got));
	if (n != ISCSI_CHAP_RESPONSE_LEN)
		return fail(c, "malformed CHAP_R");
	iscsi_chap_response(c->id, cfg->secret, cfg->secret_len, c->challenge,
			    sizeof(c->challenge), want);
	/* compare both, always: no early exit on the name */
	ok = const_time_eq(got, want, sizeof(want));
	explicit_bzero(want, sizeof(want));
	if (c->k.name.value_len != ulen ||
	    memcmp(c->k.name.value, cfg->user, ulen) != 0)
		return fail(c, "unknown CHAP_N");
	if (!ok)
		return fail(c, "wrong CHAP_R");
	return 0;
}

/* Mutual CHAP: answers the initiator's CHAP_I / CHAP_C. */
static int answer_mutual(struct iscsi_chap *c, char *out, size_t cap,
			 size_t *out_len)
{
	const struct iscsi_chap_cfg *cfg = c->cfg;
	uint8_t chal[ISCSI_CHAP_PEER_CHALLENGE_MAX];
	uint8_t r[ISCSI_CHAP_RESPONSE_LEN];
	char hex[2 * ISCSI_CHAP_RESPONSE_LEN + 3];
	uint32_t id;
	int n, rc;

	if (!c->k.has_peer_id && !c->k.has_peer_chal) {
		if (cfg->mutual_user)
			return fail(c, "mutual CHAP required but the initiator sent no CHAP_I/CHAP_C");
		return 0;
	}
	if (!cfg->mutual_user)
		return fail(c, "initiator asked for mutual CHAP, which is not configured");
	if (!c->k.has_peer_id || !c->k.has_peer_chal)
		return fail(c, "CHAP_I without CHAP_C or the reverse");
	if (iscsi_parse_u32(c->k.peer_id.value, c->k.peer_id.value_len, &id) ||
	    id > 255)
		return fail(c, "malformed CHAP_I");
	n = iscsi_chap_decode(c->k.peer_chal.value, c->k.peer_chal.value_len,
			      chal, sizeof(chal));
	if (n < ISCSI_CHAP_PEER_CHALLENGE_MIN)
		return fail(c, "malformed or too short CHAP_C");
	if ((size_t)n == sizeof(c->challenge) &&
	    memcmp(chal, c->challenge, sizeof(c->challenge)) == 0)
		return fail(c, "initiator reflected our challenge");
	iscsi_chap_response((uint8_t)id, cfg->mutual_secret,
			    cfg->mutual_secret_len, chal, (size_t)n, r);
	rc = iscsi_chap_hex(r, sizeof(r), hex, sizeof(hex));
	explicit_bzero(r, sizeof(r));
	if (rc == 0)
		rc = iscsi_text_add(out, cap, out_len, "CHAP_N", cfg->mutual_user);
	if (rc == 0)
		rc = iscsi_text_add(out, cap, out_len, "CHAP_R", hex);
	return rc;
}

static int send_challenge(struct iscsi_chap *c, char *out, size_t cap,
			  size_t *out_len)
{
	char hex[2 * ISCSI_CHAP_CHALLENGE_LEN + 3], num[8];
	int rc;

	snprintf(num, sizeof(num), "%u", (unsigned)c->id);
	rc = iscsi_chap_hex(c->challenge, sizeof(c->challenge), hex, sizeof(hex));
	if (rc == 0)
		rc = iscsi_text_add(out, cap, out_len, "CHAP_A", "5");
	if (rc == 0)
		rc = iscsi_text_add(out, cap, out_len, "CHAP_I", num);
	if (rc == 0)
		rc = iscsi_text_add(out, cap, out_len, "CHAP_C", hex);
	return rc;
}

/* WAIT_A: the request must offer CHAP_A=5 and nothing else of CHAP. */
static int step_alg(struct iscsi_chap *c, const struct iscsi_chap_keys *k,
		    char *out, size_t cap, size_t *out_len)
{
	int rc;

	if (!k->has_alg || k->has_name || k->has_resp || k->has_peer_id ||
	    k->has_peer_chal)
		return fail(c, "expected CHAP_A");
	if (!iscsi_kv_list_has(&k->alg, "5"))
		return fail(c, "initiator does not offer CHAP_A=5 (MD5)");
	rc = send_challenge(c, out, cap, out_len);
	if (rc == 0)
		c->state = ISCSI_CHAP_WAIT_R;
	return rc;
}

int iscsi_chap_respond(struct iscsi_chap *c, char *out, size_t cap,
		       size_t *out_len)
{
	struct iscsi_chap_keys k = c->k;
	int rc = 0;

	if (c->state == ISCSI_CHAP_FAILED) {
		rc = ISCSI_LOGIN_AUTH_FAILED;
		goto out;
	}
	if (k.duplicate) {
		rc = fail(c, "a CHAP key repeated in one request");
		goto out;
	}
	switch (c->state) {
	case ISCSI_CHAP_START:
		if (!k.has_method) {
			rc = fail(c, "no AuthMethod offered");
			break;
		}
		if (!iscsi_kv_list_has(&k.method, "CHAP")) {
			rc = fail(c, "initiator did not offer AuthMethod=CHAP");
			break;
		}
		if (k.has_name || k.has_resp || k.has_peer_id || k.has_peer_chal) {
			rc = fail(c, "CHAP keys out of order");
			break;
		}
		rc = iscsi_text_add(out, cap, out_len, "AuthMethod", "CHAP");
		if (rc)
			break;
		c->state = ISCSI_CHAP_WAIT_A;
		if (k.has_alg) /* CHAP_A in the same request */
			rc = step_alg(c, &k, out, cap, out_len);
		break;
	case ISCSI_CHAP_WAIT_A:
		if (k.has_method) {
			rc = fail(c, "AuthMethod repeated");
			break;
		}
		rc = step_alg(c, &k, out, cap, out_len);
		break;
	case ISCSI_CHAP_WAIT_R:
		if (k.has_method || k.has_alg) {
			rc = fail(c, "expected CHAP_N and CHAP_R");
			break;
		}
		rc = check_response(c);
		if (rc == 0)
			rc = answer_mutual(c, out, cap, out_len);
		if (rc == 0)
			c->state = ISCSI_CHAP_DONE;
		break;
	case ISCSI_CHAP_DONE:
		if (k.has_method || k.has_alg || k.has_name || k.has_resp ||
		    k.has_peer_id || k.has_peer_chal)
			rc = fail(c, "CHAP keys after authentication");
		break;
	default:
		rc = fail(c, "bad CHAP state");
		break;
	}
out:
	memset(&c->k, 0, sizeof(c->k));
	return rc;
}
