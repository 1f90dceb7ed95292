/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sense data (SPC-4 4.5): decoding of fixed (70h/71h) and descriptor
 * (72h/73h) format, classification of a completed command into one
 * category, and names for statuses, sense keys and ASC/ASCQ pairs.
 *
 * The decoder never reads past @len, whatever ADDITIONAL SENSE LENGTH says:
 * a field that lies beyond min(len, 8 + additional length) reads as zero.
 */
#include <errno.h>
#include <string.h>

#include <prpath/scsi.h>

#define SENSE_FIXED_CUR 0x70
#define SENSE_FIXED_DEF 0x71
#define SENSE_DESC_CUR 0x72
#define SENSE_DESC_DEF 0x73

#define SENSE_DESC_INFORMATION 0x00

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static int decode_fixed(const uint8_t *buf, size_t len, struct prpath_sense *s)
{
	size_t end;

	/* response code, obsolete, flags|key */
	if (len < 3)
		return -ENODATA;
	s->key = buf[2] & 0x0f;
	/* bytes 0..7 are always meaningful; the rest obeys ADDITIONAL LENGTH */
	end = len;
	if (len >= 8)
		end = min_sz(len, 8 + (size_t)buf[7]);
	if ((buf[0] & 0x80) && len >= 7) {
		s->info_valid = true;
		s->info = prpath_get_be32(buf + 3);
	}
	if (end >= 13)
		s->asc = buf[12];
	if (end >= 14)
		s->ascq = buf[13];
	return 0;
}

static int decode_desc(const uint8_t *buf, size_t len, struct prpath_sense *s)
{
	size_t end, off;

	/* response code, key, asc, ascq */
	if (len < 4)
		return -ENODATA;
	s->key = buf[1] & 0x0f;
	s->asc = buf[2];
	s->ascq = buf[3];
	if (len < 8)
		return 0;
	end = min_sz(len, 8 + (size_t)buf[7]);
	off = 8;
	/* each descriptor: type, additional length, then that many bytes */
	while (off + 2 <= end) {
		size_t dlen = 2 + (size_t)buf[off + 1];

		if (dlen > end - off)
			break; /* cut short: ignore the partial descriptor */
		if (buf[off] == SENSE_DESC_INFORMATION && dlen >= 12 &&
		    !s->info_valid) {
			/* VALID bit, reserved, then an 8-byte INFORMATION */
			if (buf[off + 2] & 0x80) {
				s->info_valid = true;
				s->info = prpath_get_be64(buf + off + 4);
			}
		}
		off += dlen;
	}
	return 0;
}

int prpath_sense_decode(const uint8_t *buf, size_t len, struct prpath_sense *out)
{
	struct prpath_sense s;
	uint8_t rc;
	int ret;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!buf || len == 0)
		return -ENODATA;
	memset(&s, 0, sizeof(s));
	rc = buf[0] & 0x7f;
	switch (rc) {
	case SENSE_FIXED_CUR:
	case SENSE_FIXED_DEF:
		ret = decode_fixed(buf, len, &s);
		break;
	case SENSE_DESC_CUR:
	case SENSE_DESC_DEF:
		s.descriptor = true;
		ret = decode_desc(buf, len, &s);
		break;
	default:
		return -EBADMSG;
	}
	if (ret < 0)
		return ret;
	s.deferred = rc == SENSE_FIXED_DEF || rc == SENSE_DESC_DEF;
	s.valid = true;
	*out = s;
	return 0;
}

static enum prpath_sense_cat cat_from_key(uint8_t key)
{
	switch (key) {
	case PRPATH_SCSI_SK_RECOVERED_ERROR:
		return PRPATH_SENSE_RECOVERED;
	case PRPATH_SCSI_SK_NOT_READY:
		return PRPATH_SENSE_NOT_READY;
	case PRPATH_SCSI_SK_MEDIUM_ERROR:
	case PRPATH_SCSI_SK_HARDWARE_ERROR:
		return PRPATH_SENSE_MEDIUM;
	case PRPATH_SCSI_SK_ILLEGAL_REQUEST:
		return PRPATH_SENSE_ILLEGAL_REQUEST;
	case PRPATH_SCSI_SK_UNIT_ATTENTION:
		return PRPATH_SENSE_UNIT_ATTENTION;
	case PRPATH_SCSI_SK_ABORTED_COMMAND:
		return PRPATH_SENSE_ABORTED;
	case PRPATH_SCSI_SK_MISCOMPARE:
		return PRPATH_SENSE_MISCOMPARE;
	default:
		/* NO SENSE with CHECK CONDITION, DATA PROTECT, vendor ... */
		return PRPATH_SENSE_OTHER;
	}
}

enum prpath_sense_cat prpath_sense_classify(uint8_t status, const uint8_t *sense,
					    size_t len, struct prpath_sense *out)
{
	struct prpath_sense s;
	int ret;

	/* decode whatever sense came along, so the caller can report it */
	ret = prpath_sense_decode(sense, len, &s);
	if (out)
		*out = s;

	switch (status) {
	case PRPATH_SCSI_STATUS_GOOD:
	case PRPATH_SCSI_STATUS_CONDITION_MET:
		return PRPATH_SENSE_OK;
	case PRPATH_SCSI_STATUS_RESERVATION_CONFLICT:
		return PRPATH_SENSE_RESERVATION_CONFLICT;
	case PRPATH_SCSI_STATUS_BUSY:
	case PRPATH_SCSI_STATUS_TASK_SET_FULL:
		return PRPATH_SENSE_BUSY;
	case PRPATH_SCSI_STATUS_TASK_ABORTED:
		return PRPATH_SENSE_ABORTED;
	case PRPATH_SCSI_STATUS_CHECK_CONDITION:
		if (ret < 0)
			return PRPATH_SENSE_OTHER;
		return cat_from_key(s.key);
	default:
		return PRPATH_SENSE_OTHER;
	}
}

const char *prpath_sense_cat_name(enum prpath_sense_cat cat)
{
	switch (cat) {
	case PRPATH_SENSE_OK: return "ok";
	case PRPATH_SENSE_UNIT_ATTENTION: return "unit attention";
	case PRPATH_SENSE_RESERVATION_CONFLICT: return "reservation conflict";
	case PRPATH_SENSE_NOT_READY: return "not ready";
	case PRPATH_SENSE_ILLEGAL_REQUEST: return "illegal request";
	case PRPATH_SENSE_ABORTED: return "aborted";
	case PRPATH_SENSE_BUSY: return "busy";
	case PRPATH_SENSE_MEDIUM: return "medium error";
	case PRPATH_SENSE_MISCOMPARE: return "miscompare";
	case PRPATH_SENSE_RECOVERED: return "recovered error";
	case PRPATH_SENSE_OTHER: return "other";
	}
	return "unknown category";
}

const char *prpath_sense_key_name(uint8_t key)
{
	static const char *const names[16] = {
		"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR",
		"HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION",
		"DATA PROTECT", "BLANK CHECK", "VENDOR SPECIFIC",
		"COPY ABORTED", "ABORTED COMMAND", "RESERVED (0xC)",
		"VOLUME OVERFLOW", "MISCOMPARE", "COMPLETED",
	};

	if (key > 0x0f)
		return "INVALID SENSE KEY";
	return names[key];
}

struct asc_entry {
	uint16_t code; /* ASC << 8 | ASCQ */
	const char *text;
};

/* Sorted by code. */
static const struct asc_entry asc_table[] = {
	{ 0x0000, "NO ADDITIONAL SENSE INFORMATION" },
	{ 0x0400, "LOGICAL UNIT NOT READY, CAUSE NOT REPORTABLE" },
	{ 0x0401, "LOGICAL UNIT IS IN PROCESS OF BECOMING READY" },
	{ 0x0402, "LOGICAL UNIT NOT READY, INITIALIZING COMMAND REQUIRED" },
	{ 0x0403, "LOGICAL UNIT NOT READY, MANUAL INTERVENTION REQUIRED" },
	{ 0x0404, "LOGICAL UNIT NOT READY, FORMAT IN PROGRESS" },
	{ 0x0407, "LOGICAL UNIT NOT READY, OPERATION IN PROGRESS" },
	{ 0x0409, "LOGICAL UNIT NOT READY, SELF-TEST IN PROGRESS" },
	{ 0x040a, "LOGICAL UNIT NOT ACCESSIBLE, ASYMMETRIC ACCESS STATE TRANSITION" },
	{ 0x040b, "LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE" },
	{ 0x040c, "LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN UNAVAILABLE STATE" },
	{ 0x0500, "LOGICAL UNIT DOES NOT RESPOND TO SELECTION" },
	{ 0x0800, "LOGICAL UNIT COMMUNICATION FAILURE" },
	{ 0x0801, "LOGICAL UNIT COMMUNICATION TIME-OUT" },
	{ 0x0c00, "WRITE ERROR" },
	{ 0x1100, "UNRECOVERED READ ERROR" },
	{ 0x1a00, "PARAMETER LIST LENGTH ERROR" },
	{ 0x1d00, "MISCOMPARE DURING VERIFY OPERATION" },
	{ 0x2000, "INVALID COMMAND OPERATION CODE" },
	{ 0x2100, "LOGICAL BLOCK ADDRESS OUT OF RANGE" },
	{ 0x2400, "INVALID FIELD IN CDB" },
	{ 0x2500, "LOGICAL UNIT NOT SUPPORTED" },
	{ 0x2600, "INVALID FIELD IN PARAMETER LIST" },
	{ 0x2601, "PARAMETER NOT SUPPORTED" },
	{ 0x2602, "PARAMETER VALUE INVALID" },
	{ 0x2604, "INVALID RELEASE OF PERSISTENT RESERVATION" },
	{ 0x2700, "WRITE PROTECTED" },
	{ 0x2800, "NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED" },
	{ 0x2900, "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED" },
	{ 0x2901, "POWER ON OCCURRED" },
	{ 0x2902, "SCSI BUS RESET OCCURRED" },
	{ 0x2903, "BUS DEVICE RESET FUNCTION OCCURRED" },
	{ 0x2904, "DEVICE INTERNAL RESET" },
	{ 0x2907, "I_T NEXUS LOSS OCCURRED" },
	{ 0x2a00, "PARAMETERS CHANGED" },
	{ 0x2a01, "MODE PARAMETERS CHANGED" },
	{ 0x2a02, "LOG PARAMETERS CHANGED" },
	{ 0x2a03, "RESERVATIONS PREEMPTED" },
	{ 0x2a04, "RESERVATIONS RELEASED" },
	{ 0x2a05, "REGISTRATIONS PREEMPTED" },
	{ 0x2a06, "ASYMMETRIC ACCESS STATE CHANGED" },
	{ 0x2a07, "IMPLICIT ASYMMETRIC ACCESS STATE TRANSITION FAILED" },
	{ 0x2a09, "CAPACITY DATA HAS CHANGED" },
	{ 0x2c00, "COMMAND SEQUENCE ERROR" },
	{ 0x2f00, "COMMANDS CLEARED BY ANOTHER INITIATOR" },
	{ 0x3100, "MEDIUM FORMAT CORRUPTED" },
	{ 0x3900, "SAVING PARAMETERS NOT SUPPORTED" },
	{ 0x3a00, "MEDIUM NOT PRESENT" },
	{ 0x3f00, "TARGET OPERATING CONDITIONS HAVE CHANGED" },
	{ 0x3f01, "MICROCODE HAS BEEN CHANGED" },
	{ 0x3f03, "INQUIRY DATA HAS CHANGED" },
	{ 0x3f0e, "REPORTED LUNS DATA HAS CHANGED" },
	{ 0x4400, "INTERNAL TARGET FAILURE" },
	{ 0x4700, "SCSI PARITY ERROR" },
	{ 0x4b00, "DATA PHASE ERROR" },
	{ 0x4e00, "OVERLAPPED COMMANDS ATTEMPTED" },
	{ 0x5504, "INSUFFICIENT REGISTRATION RESOURCES" },
	{ 0x5d00, "FAILURE PREDICTION THRESHOLD EXCEEDED" },
};

const char *prpath_asc_name(uint8_t asc, uint8_t ascq)
{
	uint16_t code = (uint16_t)(asc << 8 | ascq);
	size_t lo = 0, hi = sizeof(asc_table) / sizeof(asc_table[0]);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (asc_table[mid].code == code)
			return asc_table[mid].text;
		if (asc_table[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (asc >= 0x80 || ascq >= 0x80)
		return "VENDOR SPECIFIC ADDITIONAL SENSE CODE";
	return "UNKNOWN ADDITIONAL SENSE CODE";
}

const char *prpath_status_name(uint8_t status)
{
	switch (status) {
	case PRPATH_SCSI_STATUS_GOOD: return "GOOD";
	case PRPATH_SCSI_STATUS_CHECK_CONDITION: return "CHECK CONDITION";
	case PRPATH_SCSI_STATUS_CONDITION_MET: return "CONDITION MET";
	case PRPATH_SCSI_STATUS_BUSY: return "BUSY";
	case PRPATH_SCSI_STATUS_RESERVATION_CONFLICT: return "RESERVATION CONFLICT";
	case PRPATH_SCSI_STATUS_TASK_SET_FULL: return "TASK SET FULL";
	case PRPATH_SCSI_STATUS_ACA_ACTIVE: return "ACA ACTIVE";
	case PRPATH_SCSI_STATUS_TASK_ABORTED: return "TASK ABORTED";
	default: return "UNKNOWN STATUS";
	}
}

int prpath_sense_build_fixed(uint8_t *buf, size_t cap, uint8_t key, uint8_t asc,
			     uint8_t ascq)
{
	if (!buf || key > 0x0f)
		return -EINVAL;
	if (cap < 18)
		return -ENOSPC;
	memset(buf, 0, 18);
	buf[0] = SENSE_FIXED_CUR;
	buf[2] = key;
	buf[7] = 10; /* additional sense length: bytes 8..17 */
	buf[12] = asc;
	buf[13] = ascq;
	return 18;
}
