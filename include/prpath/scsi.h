/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath SCSI codec: CDB builders and response / sense decoders.
 *
 * Pure functions: no I/O, no allocation, no global state. Shared by the host
 * side (multipath device, CLI) and the storage side (device server).
 *
 * Conventions
 *  - Builders write into a caller buffer and return the number of bytes
 *    written, or a negative errno: -EINVAL for an argument out of range,
 *    -ENOSPC when the buffer is too small.
 *  - Decoders never read past @len. They return 0 on success, or
 *    -EBADMSG when the data is malformed (a length field that is not a
 *    multiple of the element size, a field with an impossible value) and
 *    -ENODATA when even the fixed header is missing. When a length field
 *    claims more data than @len holds, the decoder returns 0, decodes the
 *    complete elements that are present and sets the result's `truncated`
 *    flag: PR IN data is legitimately cut at the allocation length.
 */
#ifndef PRPATH_SCSI_H
#define PRPATH_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- opcodes ---------------------------------------------------------- */
enum {
	PRPATH_SCSI_OP_TEST_UNIT_READY = 0x00,
	PRPATH_SCSI_OP_REQUEST_SENSE = 0x03,
	PRPATH_SCSI_OP_FORMAT_UNIT = 0x04,
	PRPATH_SCSI_OP_READ6 = 0x08,
	PRPATH_SCSI_OP_WRITE6 = 0x0a,
	PRPATH_SCSI_OP_INQUIRY = 0x12,
	PRPATH_SCSI_OP_MODE_SELECT6 = 0x15,
	PRPATH_SCSI_OP_RESERVE6 = 0x16,
	PRPATH_SCSI_OP_RELEASE6 = 0x17,
	PRPATH_SCSI_OP_MODE_SENSE6 = 0x1a,
	PRPATH_SCSI_OP_START_STOP_UNIT = 0x1b,
	PRPATH_SCSI_OP_READ_CAPACITY10 = 0x25,
	PRPATH_SCSI_OP_READ10 = 0x28,
	PRPATH_SCSI_OP_WRITE10 = 0x2a,
	PRPATH_SCSI_OP_WRITE_VERIFY10 = 0x2e,
	PRPATH_SCSI_OP_VERIFY10 = 0x2f,
	PRPATH_SCSI_OP_PRE_FETCH10 = 0x34,
	PRPATH_SCSI_OP_SYNCHRONIZE_CACHE10 = 0x35,
	PRPATH_SCSI_OP_WRITE_SAME10 = 0x41,
	PRPATH_SCSI_OP_UNMAP = 0x42,
	PRPATH_SCSI_OP_LOG_SENSE = 0x4d,
	PRPATH_SCSI_OP_MODE_SELECT10 = 0x55,
	PRPATH_SCSI_OP_RESERVE10 = 0x56,
	PRPATH_SCSI_OP_RELEASE10 = 0x57,
	PRPATH_SCSI_OP_MODE_SENSE10 = 0x5a,
	PRPATH_SCSI_OP_PR_IN = 0x5e,
	PRPATH_SCSI_OP_PR_OUT = 0x5f,
	PRPATH_SCSI_OP_READ16 = 0x88,
	PRPATH_SCSI_OP_COMPARE_AND_WRITE = 0x89,
	PRPATH_SCSI_OP_WRITE16 = 0x8a,
	PRPATH_SCSI_OP_WRITE_VERIFY16 = 0x8e,
	PRPATH_SCSI_OP_VERIFY16 = 0x8f,
	PRPATH_SCSI_OP_PRE_FETCH16 = 0x90,
	PRPATH_SCSI_OP_SYNCHRONIZE_CACHE16 = 0x91,
	PRPATH_SCSI_OP_WRITE_SAME16 = 0x93,
	PRPATH_SCSI_OP_SERVICE_ACTION_IN16 = 0x9e, /* READ CAPACITY(16) = SA 0x10, GET LBA STATUS = 0x12 */
	PRPATH_SCSI_OP_REPORT_LUNS = 0xa0,
	PRPATH_SCSI_OP_MAINTENANCE_IN = 0xa3, /* REPORT TARGET PORT GROUPS = SA 0x0a, REPORT SUPPORTED OPCODES = 0x0c */
	PRPATH_SCSI_OP_READ12 = 0xa8,
	PRPATH_SCSI_OP_WRITE12 = 0xaa,
	PRPATH_SCSI_OP_WRITE_VERIFY12 = 0xae,
	PRPATH_SCSI_OP_VERIFY12 = 0xaf,
};

enum {
	PRPATH_SCSI_SAI_READ_CAPACITY16 = 0x10,
	PRPATH_SCSI_SAI_GET_LBA_STATUS = 0x12,
	PRPATH_SCSI_MI_REPORT_TARGET_PORT_GROUPS = 0x0a,
	PRPATH_SCSI_MI_REPORT_SUPPORTED_OPCODES = 0x0c,
};

/* ---- status ------------------------------------------------------------ */
enum {
	PRPATH_SCSI_STATUS_GOOD = 0x00,
	PRPATH_SCSI_STATUS_CHECK_CONDITION = 0x02,
	PRPATH_SCSI_STATUS_CONDITION_MET = 0x04,
	PRPATH_SCSI_STATUS_BUSY = 0x08,
	PRPATH_SCSI_STATUS_RESERVATION_CONFLICT = 0x18,
	PRPATH_SCSI_STATUS_TASK_SET_FULL = 0x28,
	PRPATH_SCSI_STATUS_ACA_ACTIVE = 0x30,
	PRPATH_SCSI_STATUS_TASK_ABORTED = 0x40,
};

/* ---- sense keys -------------------------------------------------------- */
enum {
	PRPATH_SCSI_SK_NO_SENSE = 0x0,
	PRPATH_SCSI_SK_RECOVERED_ERROR = 0x1,
	PRPATH_SCSI_SK_NOT_READY = 0x2,
	PRPATH_SCSI_SK_MEDIUM_ERROR = 0x3,
	PRPATH_SCSI_SK_HARDWARE_ERROR = 0x4,
	PRPATH_SCSI_SK_ILLEGAL_REQUEST = 0x5,
	PRPATH_SCSI_SK_UNIT_ATTENTION = 0x6,
	PRPATH_SCSI_SK_DATA_PROTECT = 0x7,
	PRPATH_SCSI_SK_ABORTED_COMMAND = 0xb,
	PRPATH_SCSI_SK_MISCOMPARE = 0xe,
};

/* ASC/ASCQ pairs used by prpath, as (ASC << 8 | ASCQ). */
enum {
	PRPATH_SCSI_ASCQ_NONE = 0x0000,
	PRPATH_SCSI_ASCQ_LUN_NOT_READY_MANUAL = 0x0403,
	PRPATH_SCSI_ASCQ_WRITE_ERROR = 0x0c00,
	PRPATH_SCSI_ASCQ_MISCOMPARE_DURING_VERIFY = 0x1d00,
	PRPATH_SCSI_ASCQ_PARAM_LIST_LENGTH_ERROR = 0x1a00,
	PRPATH_SCSI_ASCQ_INVALID_OPCODE = 0x2000,
	PRPATH_SCSI_ASCQ_LBA_OUT_OF_RANGE = 0x2100,
	PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB = 0x2400,
	PRPATH_SCSI_ASCQ_LU_NOT_SUPPORTED = 0x2500,
	PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST = 0x2600,
	PRPATH_SCSI_ASCQ_INVALID_RELEASE_OF_PR = 0x2604,
	PRPATH_SCSI_ASCQ_POWER_ON_RESET = 0x2900,
	PRPATH_SCSI_ASCQ_BUS_DEVICE_RESET = 0x2903,
	PRPATH_SCSI_ASCQ_I_T_NEXUS_LOSS = 0x2907,
	PRPATH_SCSI_ASCQ_PARAMETERS_CHANGED = 0x2a00,
	PRPATH_SCSI_ASCQ_RESERVATIONS_PREEMPTED = 0x2a03,
	PRPATH_SCSI_ASCQ_RESERVATIONS_RELEASED = 0x2a04,
	PRPATH_SCSI_ASCQ_REGISTRATIONS_PREEMPTED = 0x2a05,
	PRPATH_SCSI_ASCQ_COMMANDS_CLEARED_BY_ANOTHER = 0x2f00,
	PRPATH_SCSI_ASCQ_SAVING_PARAMS_UNSUPPORTED = 0x3900,
	PRPATH_SCSI_ASCQ_REPORTED_LUNS_CHANGED = 0x3f0e,
	PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE = 0x4400,
	PRPATH_SCSI_ASCQ_INSUFFICIENT_REG_RESOURCES = 0x5504,
};

/* ---- persistent reservations ------------------------------------------ */
enum prpath_prin_sa {
	PRPATH_PR_IN_READ_KEYS = 0x00,
	PRPATH_PR_IN_READ_RESERVATION = 0x01,
	PRPATH_PR_IN_REPORT_CAPABILITIES = 0x02,
	PRPATH_PR_IN_READ_FULL_STATUS = 0x03,
};

enum prpath_prout_sa {
	PRPATH_PR_OUT_REGISTER = 0x00,
	PRPATH_PR_OUT_RESERVE = 0x01,
	PRPATH_PR_OUT_RELEASE = 0x02,
	PRPATH_PR_OUT_CLEAR = 0x03,
	PRPATH_PR_OUT_PREEMPT = 0x04,
	PRPATH_PR_OUT_PREEMPT_AND_ABORT = 0x05,
	PRPATH_PR_OUT_REGISTER_AND_IGNORE = 0x06,
	PRPATH_PR_OUT_REGISTER_AND_MOVE = 0x07,
	PRPATH_PR_OUT_REPLACE_LOST_RESERVATION = 0x08,
};

enum prpath_pr_type {
	PRPATH_PR_TYPE_NONE = 0x0, /* no reservation (never valid in a CDB) */
	PRPATH_PR_TYPE_WE = 0x1,   /* write exclusive */
	PRPATH_PR_TYPE_EA = 0x3,   /* exclusive access */
	PRPATH_PR_TYPE_WERO = 0x5, /* write exclusive, registrants only */
	PRPATH_PR_TYPE_EARO = 0x6, /* exclusive access, registrants only */
	PRPATH_PR_TYPE_WEAR = 0x7, /* write exclusive, all registrants */
	PRPATH_PR_TYPE_EAAR = 0x8, /* exclusive access, all registrants */
};

/* true for the six types SPC-4 defines */
bool prpath_pr_type_valid(unsigned type);
/* short lower-case name ("wero"), or NULL for an invalid type */
const char *prpath_pr_type_name(unsigned type);
/* parse "wero", "WERO", "5", "0x5" ...; returns the type or -EINVAL */
int prpath_pr_type_parse(const char *s);
bool prpath_pr_type_all_registrants(unsigned type); /* WEAR, EAAR */
bool prpath_pr_type_registrants_only(unsigned type); /* WERO, EARO */

const char *prpath_prout_sa_name(unsigned sa);
const char *prpath_prin_sa_name(unsigned sa);

/* ---- CDB builders -------------------------------------------------------
 * Each writes a complete CDB into @cdb (at least @cap bytes) and returns its
 * length, or a negative errno. */
int prpath_cdb_pr_in(uint8_t *cdb, size_t cap, unsigned sa, uint16_t alloc_len);
int prpath_cdb_pr_out(uint8_t *cdb, size_t cap, unsigned sa, unsigned scope,
		      unsigned type, uint32_t param_len);
int prpath_cdb_test_unit_ready(uint8_t *cdb, size_t cap);
int prpath_cdb_inquiry(uint8_t *cdb, size_t cap, bool evpd, uint8_t page,
		       uint16_t alloc_len);
int prpath_cdb_read_capacity16(uint8_t *cdb, size_t cap, uint32_t alloc_len);
/* READ/WRITE(10) when lba and count fit, else (16) with @force16 false;
 * (16) always when @force16. */
int prpath_cdb_read(uint8_t *cdb, size_t cap, uint64_t lba, uint32_t blocks,
		    bool force16);
int prpath_cdb_write(uint8_t *cdb, size_t cap, uint64_t lba, uint32_t blocks,
		     bool force16);

/* ---- PR OUT parameter lists -------------------------------------------- */
#define PRPATH_TRANSPORTID_MAX 264 /* iSCSI: 4 header + 260 bytes of name */
#define PRPATH_ISCSI_NAME_MAX 223  /* RFC 7143 */
#define PRPATH_PORT_NAME_MAX 244   /* "<iqn>,i,0x<12 hex>" + NUL */

/* Basic PR OUT parameter list (SPC-4 6.16.3). */
struct prpath_prout_params {
	uint64_t rk;   /* RESERVATION KEY */
	uint64_t sark; /* SERVICE ACTION RESERVATION KEY */
	bool spec_i_pt;
	bool all_tg_pt;
	bool aptpl;
	/* with spec_i_pt: encoded TransportIDs, back to back */
	const uint8_t *tids;
	size_t tids_len;
};

/* Encodes; returns the list length or a negative errno. */
int prpath_prout_params_encode(const struct prpath_prout_params *p,
			       uint8_t *buf, size_t cap);
/* Decodes a list of @len bytes (the CDB's PARAMETER LIST LENGTH). Returns 0,
 * -ENODATA if len < 24, -EBADMSG if the TransportID list length lies or
 * the list length does not match (24 exactly without SPEC_I_PT).
 * p->tids points into @buf. */
int prpath_prout_params_decode(const uint8_t *buf, size_t len,
			       struct prpath_prout_params *p);

/* REGISTER AND MOVE parameter list (SPC-4 6.16.4). */
struct prpath_prout_move_params {
	uint64_t rk;
	uint64_t sark;
	bool unreg;
	bool aptpl;
	uint16_t rel_tgt_port;
	const uint8_t *tid; /* one TransportID */
	size_t tid_len;
};
int prpath_prout_move_params_encode(const struct prpath_prout_move_params *p,
				    uint8_t *buf, size_t cap);
int prpath_prout_move_params_decode(const uint8_t *buf, size_t len,
				    struct prpath_prout_move_params *p);

/* ---- TransportIDs (iSCSI, protocol identifier 5h) ----------------------- */
#define PRPATH_SCSI_PROTOCOL_ISCSI 0x5

struct prpath_tid {
	unsigned format;            /* 0: device name only; 1: initiator port */
	char name[PRPATH_ISCSI_NAME_MAX + 1];
	char isid[13];              /* format 1: 12 hex digits, lower case */
};

/* Encodes an iSCSI TransportID; format 1 when isid is non-empty.
 * Returns the length (multiple of 4, >= 24) or a negative errno. */
int prpath_tid_encode(const struct prpath_tid *t, uint8_t *buf, size_t cap);
/* Decodes one TransportID at the start of @buf. Returns the number of bytes
 * it occupies (>0), -ENODATA if truncated, -EBADMSG if malformed,
 * -EPROTONOSUPPORT for a protocol other than iSCSI. */
int prpath_tid_decode(const uint8_t *buf, size_t len, struct prpath_tid *t);
/* "<name>,i,0x<isid>" for format 1, "<name>" for format 0. Returns the
 * string length or a negative errno. */
int prpath_tid_port_name(const struct prpath_tid *t, char *out, size_t cap);
/* Splits an initiator port name "<name>,i,0x<isid>" into a format-1 tid. */
int prpath_tid_from_port_name(const char *port_name, struct prpath_tid *t);

/* ---- PR IN decoders ----------------------------------------------------- */
struct prpath_read_keys {
	uint32_t generation;
	uint32_t additional_length; /* as reported (full size) */
	size_t nkeys;               /* keys stored in keys[] */
	size_t nkeys_total;         /* additional_length / 8 */
	bool truncated;             /* data or keys[] could not hold them all */
	uint64_t *keys;             /* caller-provided array of keys_cap */
	size_t keys_cap;
};
int prpath_decode_read_keys(const uint8_t *buf, size_t len,
			    struct prpath_read_keys *out);

struct prpath_read_reservation {
	uint32_t generation;
	bool reserved;
	uint64_t key;
	unsigned scope;
	unsigned type;
	bool truncated;
};
int prpath_decode_read_reservation(const uint8_t *buf, size_t len,
				   struct prpath_read_reservation *out);

struct prpath_capabilities {
	bool rlr_c, crh, sip_c, atp_c, ptpl_c;
	bool tmv;
	unsigned allow_commands;
	bool ptpl_a;
	uint16_t type_mask; /* bit N set: type N supported (valid when tmv) */
};
int prpath_decode_report_capabilities(const uint8_t *buf, size_t len,
				      struct prpath_capabilities *out);

struct prpath_full_status_desc {
	uint64_t key;
	bool all_tg_pt;
	bool r_holder;
	unsigned scope;
	unsigned type;
	uint16_t rel_tgt_port;
	struct prpath_tid tid;
	bool tid_valid; /* false when the TransportID was not iSCSI or bad */
};
struct prpath_full_status {
	uint32_t generation;
	uint32_t additional_length;
	size_t ndesc;          /* descriptors stored */
	bool truncated;
	struct prpath_full_status_desc *desc; /* caller-provided */
	size_t desc_cap;
};
int prpath_decode_read_full_status(const uint8_t *buf, size_t len,
				   struct prpath_full_status *out);

/* ---- sense ------------------------------------------------------------- */
enum prpath_sense_cat {
	PRPATH_SENSE_OK = 0,           /* GOOD / CONDITION MET */
	PRPATH_SENSE_UNIT_ATTENTION,
	PRPATH_SENSE_RESERVATION_CONFLICT,
	PRPATH_SENSE_NOT_READY,
	PRPATH_SENSE_ILLEGAL_REQUEST,
	PRPATH_SENSE_ABORTED,          /* ABORTED COMMAND or TASK ABORTED */
	PRPATH_SENSE_BUSY,             /* BUSY, TASK SET FULL */
	PRPATH_SENSE_MEDIUM,           /* medium / hardware error */
	PRPATH_SENSE_MISCOMPARE,
	PRPATH_SENSE_RECOVERED,        /* recovered error: data is good */
	PRPATH_SENSE_OTHER,
};

struct prpath_sense {
	bool valid;           /* sense data parsed */
	bool descriptor;      /* descriptor format (72h/73h) */
	bool deferred;
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
	bool info_valid;
	uint64_t info;
};

/* Decodes fixed (70h/71h) and descriptor (72h/73h) sense. Returns 0,
 * -ENODATA for an empty or too-short buffer, -EBADMSG for an unknown
 * response code. Never reads past @len even if ADDITIONAL SENSE LENGTH
 * claims more. */
int prpath_sense_decode(const uint8_t *buf, size_t len, struct prpath_sense *out);
/* Classifies a completed command from its status and sense. Sense that
 * cannot be decoded on CHECK CONDITION classifies as OTHER. */
enum prpath_sense_cat prpath_sense_classify(uint8_t status, const uint8_t *sense,
					    size_t len, struct prpath_sense *out);
const char *prpath_sense_cat_name(enum prpath_sense_cat cat);
/* Human text for a sense key / ASC+ASCQ; never NULL. */
const char *prpath_sense_key_name(uint8_t key);
const char *prpath_asc_name(uint8_t asc, uint8_t ascq);
const char *prpath_status_name(uint8_t status);
/* Builds fixed-format sense (18 bytes); returns the length. */
int prpath_sense_build_fixed(uint8_t *buf, size_t cap, uint8_t key, uint8_t asc,
			     uint8_t ascq);

/* ---- INQUIRY ------------------------------------------------------------ */
struct prpath_inquiry {
	uint8_t peripheral_qualifier;
	uint8_t device_type;
	uint8_t version;
	bool hisup;
	uint8_t response_format;
	uint8_t tpgs;
	char vendor[9];
	char product[17];
	char revision[5];
};
int prpath_decode_inquiry(const uint8_t *buf, size_t len, struct prpath_inquiry *out);

enum {
	PRPATH_SCSI_DESIG_T10 = 0x1,
	PRPATH_SCSI_DESIG_EUI64 = 0x2,
	PRPATH_SCSI_DESIG_NAA = 0x3,
	PRPATH_SCSI_DESIG_REL_TGT_PORT = 0x4,
	PRPATH_SCSI_DESIG_TPG = 0x5,
	PRPATH_SCSI_DESIG_SCSI_NAME = 0x8,
};
enum {
	PRPATH_SCSI_ASSOC_LU = 0x0,
	PRPATH_SCSI_ASSOC_TARGET_PORT = 0x1,
	PRPATH_SCSI_ASSOC_TARGET_DEVICE = 0x2,
};

struct prpath_designator {
	uint8_t protocol;
	uint8_t code_set;
	bool piv;
	uint8_t association;
	uint8_t type;
	uint8_t len;
	const uint8_t *id; /* points into the decoded buffer */
};

/* VPD 0x83: iterate designators. *off starts at 0; returns 1 and fills @d
 * for each designator, 0 at the end, -EBADMSG on a malformed page. A page
 * whose PAGE LENGTH claims more than @len is walked up to @len. */
int prpath_vpd83_next(const uint8_t *buf, size_t len, size_t *off,
		      struct prpath_designator *d);
/* The logical unit's identity: the first NAA designator with LU
 * association (else EUI-64, else T10 vendor id, else SCSI name), as
 * lower-case hex (binary code set) or text. Returns the string length,
 * -ENOENT when the page has no LU designator, -EBADMSG when malformed. */
int prpath_vpd83_lu_id(const uint8_t *buf, size_t len, char *out, size_t cap);
/* The relative target port identifier, -ENOENT if absent. */
int prpath_vpd83_rel_tgt_port(const uint8_t *buf, size_t len, uint16_t *rtp);

/* READ CAPACITY(16) */
struct prpath_capacity {
	uint64_t last_lba;
	uint32_t block_size;
	bool lbpme;
	bool lbprz;
};
int prpath_decode_read_capacity16(const uint8_t *buf, size_t len,
				  struct prpath_capacity *out);

/* VPD 0xB0 Block Limits (SBC-3). Lengths in logical blocks; 0 = the
 * device reports no limit (or the page is too short to hold the field). */
struct prpath_block_limits {
	uint32_t max_xfer_len;       /* MAXIMUM TRANSFER LENGTH */
	uint32_t opt_xfer_len;       /* OPTIMAL TRANSFER LENGTH */
	uint16_t opt_xfer_granularity;
};
/* 0, -ENODATA (no buffer or shorter than the 4-byte header), -EBADMSG
 * (not page 0xB0). Fields past the end of @len or of PAGE LENGTH are 0. */
int prpath_decode_vpd_b0(const uint8_t *buf, size_t len,
			 struct prpath_block_limits *out);

/* ---- byte order helpers ------------------------------------------------- */
static inline uint16_t prpath_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t prpath_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t prpath_get_be64(const uint8_t *p)
{
	return ((uint64_t)prpath_get_be32(p) << 32) | prpath_get_be32(p + 4);
}
static inline void prpath_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void prpath_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void prpath_put_be64(uint8_t *p, uint64_t v)
{
	prpath_put_be32(p, (uint32_t)(v >> 32));
	prpath_put_be32(p + 4, (uint32_t)v);
}

#ifdef __cplusplus
}
#endif
#endif /* PRPATH_SCSI_H */
