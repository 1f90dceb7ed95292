/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CHAP for the iSCSI target's security negotiation (RFC 7143 section
 * 12.1.3, RFC 1994), MD5 only (CHAP_A=5), one-way or mutual.
 *
 * Pure: no I/O, no clock, no randomness of its own (the caller supplies the
 * identifier and challenge bytes), so it can be unit-tested and fuzzed.
 * Secrets are never copied into any output or reason text.
 *
 * Use: iscsi_chap_init() when the login starts, point iscsi_params.chap at
 * the state; iscsi_negotiate() hands the security keys of each login request
 * to iscsi_chap_key() and then calls iscsi_chap_respond(), which checks them
 * and appends the target's answers. The login may leave the security stage
 * only once iscsi_chap_done() is true.
 */
#ifndef PRPATH_TARGET_CHAP_H
#define PRPATH_TARGET_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/pdu.h"

#define ISCSI_CHAP_SECRET_MIN 12      /* RFC 7143: at least 96 bits */
#define ISCSI_CHAP_SECRET_MAX 255
#define ISCSI_CHAP_NAME_MAX 255
#define ISCSI_CHAP_CHALLENGE_LEN 16   /* the challenge we send */
#define ISCSI_CHAP_PEER_CHALLENGE_MIN 16
#define ISCSI_CHAP_PEER_CHALLENGE_MAX 1024
#define ISCSI_CHAP_RESPONSE_LEN 16    /* MD5 */
/* random bytes iscsi_chap_init() takes: identifier, then challenge */
#define ISCSI_CHAP_RANDOM_LEN (1 + ISCSI_CHAP_CHALLENGE_LEN)

struct iscsi_chap_cfg {
	const char *user;             /* the CHAP_N the initiator must send */
	const uint8_t *secret;
	size_t secret_len;
	/* mutual: the CHAP_N we answer with and its secret; NULL user =
	 * one-way only (an initiator that asks for mutual CHAP fails) */
	const char *mutual_user;
	const uint8_t *mutual_secret;
	size_t mutual_secret_len;
};

enum iscsi_chap_state {
	ISCSI_CHAP_START = 0,    /* expects AuthMethod */
	ISCSI_CHAP_WAIT_A,       /* AuthMethod=CHAP agreed, expects CHAP_A */
	ISCSI_CHAP_WAIT_R,       /* challenge sent, expects CHAP_N, CHAP_R */
	ISCSI_CHAP_DONE,         /* authenticated */
	ISCSI_CHAP_FAILED,
};

struct iscsi_chap_keys {
	struct iscsi_kv method, alg, name, resp, peer_id, peer_chal;
	bool has_method, has_alg, has_name, has_resp, has_peer_id, has_peer_chal;
	bool duplicate;
};

struct iscsi_chap {
	const struct iscsi_chap_cfg *cfg;
	enum iscsi_chap_state state;
	uint8_t id;
	uint8_t challenge[ISCSI_CHAP_CHALLENGE_LEN];
	struct iscsi_chap_keys k;   /* keys of the request being handled */
	const char *reason;         /* why it failed (static text) */
};

/* Starts a login's CHAP state; @rnd: ISCSI_CHAP_RANDOM_LEN random bytes. */
void iscsi_chap_init(struct iscsi_chap *c, const struct iscsi_chap_cfg *cfg,
		     const uint8_t rnd[ISCSI_CHAP_RANDOM_LEN]);
/* Records a security key of the current request: returns 1 when @kv is one
 * of AuthMethod, CHAP_A, CHAP_N, CHAP_R, CHAP_I, CHAP_C (the value must
 * stay valid until iscsi_chap_respond()), 0 for any other key. */
int iscsi_chap_key(struct iscsi_chap *c, const struct iscsi_kv *kv);
/* Advances the state machine with the keys recorded since the last call
 * and appends the answers to @out. Returns 0, -ENOSPC, or
 * ISCSI_LOGIN_AUTH_FAILED (c->reason says why; the state is then FAILED
 * and stays so). */
int iscsi_chap_respond(struct iscsi_chap *c, char *out, size_t cap,
		       size_t *out_len);
static inline bool iscsi_chap_done(const struct iscsi_chap *c)
{
	return c->state == ISCSI_CHAP_DONE;
}

/* RFC 7143 binary value: "0x" hex (even or odd digit count) or "0b"
 * base64. Returns the number of bytes written to @out (at most @cap), or
 * -EINVAL (bad encoding, empty, too long). */
int iscsi_chap_decode(const char *v, size_t len, uint8_t *out, size_t cap);
/* "0x" + lower-case hex of @n bytes; -ENOSPC when @cap is too small. */
int iscsi_chap_hex(const uint8_t *b, size_t n, char *out, size_t cap);
/* CHAP response (RFC 1994): MD5(id || secret || challenge). */
void iscsi_chap_response(uint8_t id, const uint8_t *secret, size_t secret_len,
			 const uint8_t *challenge, size_t challenge_len,
			 uint8_t out[ISCSI_CHAP_RESPONSE_LEN]);

#endif /* PRPATH_TARGET_CHAP_H */
