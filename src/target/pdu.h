/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iSCSI (RFC 7143) PDU header parsing, text key=value parsing and login /
 * text key negotiation for the prpath target. Pure functions: no I/O, no
 * global state, never read past the given length.
 */
#ifndef PRPATH_TARGET_PDU_H
#define PRPATH_TARGET_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISCSI_BHS_LEN 48
#define ISCSI_RSVD_TAG 0xffffffffu

/* initiator opcodes */
enum {
	ISCSI_OP_NOP_OUT = 0x00,
	ISCSI_OP_SCSI_CMD = 0x01,
	ISCSI_OP_TMF_REQ = 0x02,
	ISCSI_OP_LOGIN_REQ = 0x03,
	ISCSI_OP_TEXT_REQ = 0x04,
	ISCSI_OP_DATA_OUT = 0x05,
	ISCSI_OP_LOGOUT_REQ = 0x06,
	ISCSI_OP_SNACK = 0x10,
};
/* target opcodes */
enum {
	ISCSI_OP_NOP_IN = 0x20,
	ISCSI_OP_SCSI_RSP = 0x21,
	ISCSI_OP_TMF_RSP = 0x22,
	ISCSI_OP_LOGIN_RSP = 0x23,
	ISCSI_OP_TEXT_RSP = 0x24,
	ISCSI_OP_DATA_IN = 0x25,
	ISCSI_OP_LOGOUT_RSP = 0x26,
	ISCSI_OP_R2T = 0x31,
	ISCSI_OP_REJECT = 0x3f,
};

/* Reject reasons */
enum {
	ISCSI_REJECT_DIGEST = 0x02,
	ISCSI_REJECT_SNACK = 0x03,
	ISCSI_REJECT_PROTOCOL = 0x04,
	ISCSI_REJECT_CMD_NOT_SUPPORTED = 0x05,
	ISCSI_REJECT_IMM_CMD = 0x06,
	ISCSI_REJECT_INVALID_FIELD = 0x09,
};

/* Login status (class << 8 | detail) */
enum {
	ISCSI_LOGIN_OK = 0x0000,
	ISCSI_LOGIN_INITIATOR_ERROR = 0x0200,
	ISCSI_LOGIN_AUTH_FAILED = 0x0201,
	ISCSI_LOGIN_AUTHZ_FAILED = 0x0202,  /* not allowed to this target */
	ISCSI_LOGIN_NOT_FOUND = 0x0203,
	ISCSI_LOGIN_TOO_MANY_CONN = 0x0206,
	ISCSI_LOGIN_MISSING_PARAM = 0x0207,
	ISCSI_LOGIN_UNSUPPORTED_VERSION = 0x0205,
	ISCSI_LOGIN_NO_SESSION = 0x020a,
	ISCSI_LOGIN_INVALID_REQUEST = 0x020b,
	ISCSI_LOGIN_TARGET_ERROR = 0x0300,
	ISCSI_LOGIN_OUT_OF_RESOURCES = 0x0302,
};

/* Parsed Basic Header Segment (common fields). */
struct iscsi_bhs {
	uint8_t opcode;     /* 6 bits */
	bool immediate;
	bool final;         /* byte 1 bit 7 */
	uint8_t flags;      /* byte 1 */
	uint8_t ahs_words;  /* TotalAHSLength, 4-byte words */
	uint32_t dlen;      /* DataSegmentLength */
	uint8_t lun[8];
	uint32_t itt;
	uint32_t f20;       /* bytes 20..23: TTT / EDTL / CID... */
	uint32_t f24;       /* CmdSN (most requests) */
	uint32_t f28;       /* ExpStatSN */
	uint32_t f32, f36, f40, f44;
};

/* Parses the 48-byte BHS. Returns 0, -EBADMSG for an opcode an initiator
 * may not send (target opcodes, reserved values). */
int iscsi_bhs_parse(const uint8_t *buf, size_t len, struct iscsi_bhs *out);
/* Padded length of a data segment of @dlen bytes. */
static inline size_t iscsi_pad4(size_t dlen)
{
	return (dlen + 3u) & ~(size_t)3u;
}

/* Walks the AHS for an extended CDB (type 1). Returns the number of extra
 * CDB bytes copied into @ext (0 if none), -EBADMSG when malformed. */
int iscsi_ahs_ext_cdb(const uint8_t *ahs, size_t len, uint8_t *ext, size_t cap);

/* Decodes the 8-byte LUN field (peripheral or flat addressing, single
 * level). Returns the LUN, or -EINVAL. */
int iscsi_lun_decode(const uint8_t lun[8]);
void iscsi_lun_encode(unsigned lun, uint8_t out[8]);

/* ---- text keys ---------------------------------------------------------- */
#define ISCSI_KEY_MAX 63
#define ISCSI_VALUE_MAX 8192

struct iscsi_kv {
	const char *key;    /* points into the buffer (NUL-terminated there) */
	size_t key_len;
	const char *value;
	size_t value_len;
};

/* Iterates key=value pairs separated by NUL bytes. *off starts at 0.
 * Returns 1 with @kv filled, 0 at the end, -EBADMSG for a pair that has no
 * '=', an empty or too-long key, a key with bad characters or a missing
 * terminating NUL. Trailing NUL padding is accepted. */
int iscsi_text_next(const uint8_t *buf, size_t len, size_t *off,
		    struct iscsi_kv *kv);
/* true when the comma-separated list value of @kv contains @item. */
bool iscsi_kv_list_has(const struct iscsi_kv *kv, const char *item);

/* Appends "key=value\0" to @buf; returns 0 or -ENOSPC. */
int iscsi_text_add(char *buf, size_t cap, size_t *len, const char *key,
		   const char *value);

/* ---- negotiation -------------------------------------------------------- */
enum iscsi_session_type {
	ISCSI_SESSION_UNSET = 0,
	ISCSI_SESSION_NORMAL,
	ISCSI_SESSION_DISCOVERY,
};

struct iscsi_params {
	/* operational, negotiated */
	bool header_digest;
	bool data_digest;
	uint32_t max_send_dsl;      /* initiator's MaxRecvDataSegmentLength */
	uint32_t max_recv_dsl;      /* ours (declared) */
	uint32_t max_burst;
	uint32_t first_burst;
	bool immediate_data;
	bool initial_r2t;
	uint32_t max_outstanding_r2t;
	uint32_t time2wait;
	uint32_t time2retain;
	bool data_pdu_in_order;
	bool data_seq_in_order;
	/* declarative */
	enum iscsi_session_type session_type;
	char initiator_name[224];
	char target_name[224];
	bool auth_none_agreed;
	bool max_recv_dsl_declared; /* ours sent already */
	/* CHAP required (target/chap.h): the security stage's AuthMethod and
	 * CHAP_* keys go to this state machine; NULL = AuthMethod=None */
	struct iscsi_chap *chap;
};

/* Our limits / defaults (RFC 7143 defaults for the initiator side). */
void iscsi_params_init(struct iscsi_params *p, uint32_t our_max_recv_dsl);

enum iscsi_nego_stage {
	ISCSI_NEGO_SECURITY = 0,
	ISCSI_NEGO_OPERATIONAL = 1,
	ISCSI_NEGO_FFP = 3,          /* Text request in full feature phase */
};

/* Negotiates the keys in @in (a login or text request data segment) at
 * @stage, appending the answers to @out. Keys the target does not know
 * get NotUnderstood; bad values get Reject. Returns 0, -ENOSPC when @out
 * is too small, -EBADMSG for malformed text, or a positive login status
 * (ISCSI_LOGIN_*) for a fatal negotiation error (e.g. no acceptable
 * AuthMethod). SendTargets is not handled here (the caller does it):
 * *send_targets is set to its value (or NULL). */
int iscsi_negotiate(struct iscsi_params *p, enum iscsi_nego_stage stage,
		    const uint8_t *in, size_t in_len, char *out, size_t cap,
		    size_t *out_len, const char **send_targets);

/* Parses a decimal or 0x hex number of at most 32 bits into *v; 0 or
 * -EINVAL. */
int iscsi_parse_u32(const char *s, size_t len, uint32_t *v);

/* Serial number arithmetic (RFC 1982, 32 bit): a < b */
static inline bool iscsi_sn_lt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) < 0;
}

/* Writes the 4-byte digest of @buf (CRC32C, little-endian on the wire as
 * every implementation does) into out. */
void iscsi_digest(const void *buf, size_t len, uint8_t out[4]);
uint32_t iscsi_digest_value(const void *buf, size_t len);
/* CRC32C of @a followed by @b. */
uint32_t iscsi_crc2(const void *a, size_t alen, const void *b, size_t blen);

#endif /* PRPATH_TARGET_PDU_H */
