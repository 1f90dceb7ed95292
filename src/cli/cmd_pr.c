/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath pr in / pr out: single PERSISTENT RESERVE IN / OUT commands on one
 * path, sg_persist style, sent raw through the transport with the codec's
 * builders and decoders. Nothing here is clever on purpose: it is the tool
 * to look at and poke a LU's PR state by hand.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <prpath/mpath.h>
#include <prpath/path.h>
#include <prpath/scsi.h>

#include "cli.h"

#define RAW_UA_RETRIES 8
/* PR IN data: the largest allocation length the CDB can carry (16 bits),
 * so that every list the device can return is read whole in one go */
#define PRIN_ALLOC 65536
#define PRIN_LEN 65535
#define MAX_TIDS 8

/* ---- raw execution -------------------------------------------------------- */

static void hex_line(char *out, size_t cap, const uint8_t *b, size_t n)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o + 4 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%02x", i ? " " : "", b[i]);
}

static const char *op_name(const uint8_t *cdb)
{
	const char *n;

	switch (cdb[0]) {
	case PRPATH_SCSI_OP_PR_OUT:
		n = prpath_prout_sa_name(cdb[1] & 0x1f);
		return n ? n : "PERSISTENT RESERVE OUT";
	case PRPATH_SCSI_OP_PR_IN:
		n = prpath_prin_sa_name(cdb[1] & 0x1f);
		return n ? n : "PERSISTENT RESERVE IN";
	case PRPATH_SCSI_OP_INQUIRY:
		return "INQUIRY";
	case PRPATH_SCSI_OP_TEST_UNIT_READY:
		return "TEST UNIT READY";
	default:
		return "command";
	}
}

int cli_raw_exec(struct cli *c, struct prpath_path *conn, unsigned path,
		 struct prpath_io *io)
{
	struct prpath_sense s;
	char hex[160];
	unsigned tries;
	int rc;

	for (tries = 0;; tries++) {
		if (c->verbose >= 2) {
			hex_line(hex, sizeof(hex), io->cdb, io->cdb_len);
			fprintf(stderr, "prpath: debug: path %u -> %s [%s] out %zu in %zu\n",
				path + 1, op_name(io->cdb), hex, io->dout_len, io->din_cap);
		}
		io->din_len = 0;
		io->status = 0;
		io->sense_len = 0;
		if (!io->timeout_ms)
			io->timeout_ms = c->timeout_ms;
		rc = prpath_path_execute(conn, io);
		if (rc < 0) {
			if (c->verbose >= 2)
				fprintf(stderr, "prpath: debug: path %u <- transport error: %s\n",
					path + 1, prpath_strerror(rc));
			return rc;
		}
		if (io->din_len > io->din_cap)
			io->din_len = io->din_cap;
		if (io->sense_len > sizeof(io->sense))
			io->sense_len = sizeof(io->sense);
		enum prpath_sense_cat cat = prpath_sense_classify(io->status, io->sense,
								  io->sense_len, &s);
		if (c->verbose >= 2) {
			if (io->status == PRPATH_SCSI_STATUS_CHECK_CONDITION && s.valid)
				fprintf(stderr, "prpath: debug: path %u <- %s, sense %x/%02x/%02x (%s)\n",
					path + 1, prpath_status_name(io->status), s.key,
					s.asc, s.ascq, prpath_asc_name(s.asc, s.ascq));
			else
				fprintf(stderr, "prpath: debug: path %u <- %s, in %zu\n",
					path + 1, prpath_status_name(io->status), io->din_len);
		}
		if (cat != PRPATH_SENSE_UNIT_ATTENTION || tries + 1 >= RAW_UA_RETRIES)
			return 0;
	}
}

int cli_open_conn(struct cli *c, const char *url, bool observer,
		  struct prpath_path **out)
{
	char why[256], *secret_url;
	int rc;

	/* A CHAP secret in the URL (iscsi://USER%SECRET@...) is opened from a
	 * copy and redacted in the caller's string (argv: writable), so no
	 * message, output or ps listing shows it. */
	secret_url = strdup(url);
	if (!secret_url) {
		cli_err(c, "out of memory");
		return EXIT_DEVICE;
	}
	prpath_url_redact((char *)(uintptr_t)url);
	if (prpath_url_check(secret_url, why, sizeof(why)) < 0) {
		cli_err_url(c, url, why);
		rc = EXIT_USAGE;
		goto out;
	}
	/* the ISID comes from the URL, not from --path-index (kept for
	 * scripts); PR IN only looks, so it uses the observer port and never
	 * reinstates a session that carries I/O */
	rc = prpath_path_open(secret_url, c->initiator,
			      observer ? PRPATH_PATH_OBSERVER : 0,
			      c->timeout_ms, out, why, sizeof(why));
	if (rc < 0) {
		cli_err_url(c, url, why[0] ? why : prpath_strerror(rc));
		rc = rc == -EINVAL ? EXIT_USAGE : EXIT_DEVICE;
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(secret_url, strlen(secret_url));
	free(secret_url);
	return rc;
}

/* Sense of a failed command, for text and JSON. */
static void add_outcome(struct json_object *doc, const struct prpath_io *io)
{
	struct prpath_sense s;
	struct json_object *so;

	out_add_str(doc, "status", prpath_status_name(io->status));
	prpath_sense_classify(io->status, io->sense, io->sense_len, &s);
	if (io->status == PRPATH_SCSI_STATUS_CHECK_CONDITION && s.valid) {
		char buf[8];

		so = json_object_new_object();
		out_add_int(so, "key", s.key);
		out_add_str(so, "key_name", prpath_sense_key_name(s.key));
		snprintf(buf, sizeof(buf), "%02x/%02x", s.asc, s.ascq);
		out_add_str(so, "asc_ascq", buf);
		out_add_str(so, "text", prpath_asc_name(s.asc, s.ascq));
		json_object_object_add(doc, "sense", so);
	}
}

/* "pr out: RESERVE on PATH: RESERVATION CONFLICT" */
static void err_outcome(struct cli *c, const char *what, const char *path,
			const struct prpath_io *io)
{
	struct prpath_sense s;

	prpath_sense_classify(io->status, io->sense, io->sense_len, &s);
	if (io->status == PRPATH_SCSI_STATUS_CHECK_CONDITION && s.valid)
		cli_err(c, "%s: %s on %s: %s, sense %s: %s (%02x/%02x)", c->cmd, what,
			path, prpath_status_name(io->status),
			prpath_sense_key_name(s.key),
			prpath_asc_name(s.asc, s.ascq), s.asc, s.ascq);
	else
		cli_err(c, "%s: %s on %s: %s", c->cmd, what, path,
			prpath_status_name(io->status));
}

/* ---- pr in ----------------------------------------------------------------- */

enum {
	OPT_READ_KEYS = OPT_CMD_BASE,
	OPT_READ_RESERVATION,
	OPT_REPORT_CAPABILITIES,
	OPT_READ_FULL_STATUS,
	OPT_REGISTER,
	OPT_REGISTER_IGNORE,
	OPT_RESERVE,
	OPT_RELEASE,
	OPT_CLEAR,
	OPT_PREEMPT,
	OPT_PREEMPT_ABORT,
	OPT_REGISTER_MOVE,
	OPT_PARAM_RK,
	OPT_PARAM_SARK,
	OPT_PROUT_TYPE,
	OPT_PARAM_APTPL,
	OPT_PARAM_ALLTGPT,
	OPT_PARAM_UNREG,
	OPT_TRANSPORT_ID,
	OPT_REL_TGT_PORT,
	OPT_PATH_INDEX,
};

struct pr_args {
	int sa;                 /* -1: none given */
	int nsa;
	uint64_t rk, sark;
	bool rk_set, sark_set;
	unsigned type;
	bool type_set;
	bool aptpl, alltgpt, unreg;
	struct prpath_tid tids[MAX_TIDS];
	size_t ntids;
	unsigned rtp;
	bool rtp_set;
	unsigned path_index;    /* 1-based */
};

static const char *const prin_json_name[] = {
	"read_keys", "read_reservation", "report_capabilities", "read_full_status",
};
static const char *const prout_json_name[] = {
	"register", "reserve", "release", "clear", "preempt",
	"preempt_and_abort", "register_and_ignore", "register_and_move",
};

static int parse_path_index(struct cli *c, const char *arg, unsigned *out)
{
	unsigned long long v;

	if (cli_parse_uint(arg, 0xffff, &v) < 0 || v == 0)
		return cli_bad_value(c, "--path-index", arg,
				     "is not a path index (1-65535)");
	*out = (unsigned)v;
	return 0;
}

static int prin_opt(struct cli *c, void *arg, int opt, const char *val)
{
	struct pr_args *a = arg;

	switch (opt) {
	case OPT_READ_KEYS:
	case OPT_READ_RESERVATION:
	case OPT_REPORT_CAPABILITIES:
	case OPT_READ_FULL_STATUS:
		a->sa = opt - OPT_READ_KEYS;
		a->nsa++;
		return 0;
	case OPT_PATH_INDEX:
		return parse_path_index(c, val, &a->path_index);
	default:
		return EXIT_USAGE;
	}
}

static void prin_usage(FILE *f)
{
	fprintf(f,
		"Usage: prpath pr in (--read-keys | --read-reservation | --report-capabilities |\n"
		"                     --read-full-status) [--path-index N] PATH\n"
		"\n"
		"Sends one PERSISTENT RESERVE IN command on PATH and prints the decoded answer.\n"
		"  --read-keys             READ KEYS: the registered reservation keys\n"
		"  --read-reservation      READ RESERVATION: the reservation holder and type\n"
		"  --report-capabilities   REPORT CAPABILITIES\n"
		"  --read-full-status      READ FULL STATUS: every registration and its I_T nexus\n"
		"  --path-index N          the path number shown in traces (-vv), default 1;\n"
		"                          the initiator port comes from PATH itself\n");
}

static const char *scope_name(unsigned scope)
{
	return scope == 0 ? "LU_SCOPE" : "unknown scope";
}

static const char *type_long_name(unsigned type)
{
	switch (type) {
	case PRPATH_PR_TYPE_WE: return "Write Exclusive";
	case PRPATH_PR_TYPE_EA: return "Exclusive Access";
	case PRPATH_PR_TYPE_WERO: return "Write Exclusive, registrants only";
	case PRPATH_PR_TYPE_EARO: return "Exclusive Access, registrants only";
	case PRPATH_PR_TYPE_WEAR: return "Write Exclusive, all registrants";
	case PRPATH_PR_TYPE_EAAR: return "Exclusive Access, all registrants";
	default: return "obsolete or reserved type";
	}
}

static void add_type(struct json_object *o, unsigned type)
{
	const char *n = prpath_pr_type_name(type);

	out_add_int(o, "type_code", type);
	out_add_str(o, "type", n ? n : "invalid");
}

static int show_read_keys(struct cli *c, struct json_object *doc,
			  const uint8_t *buf, size_t len)
{
	static uint64_t keys[PRIN_ALLOC / 8];
	struct prpath_read_keys rk = { .keys = keys, .keys_cap = PRIN_ALLOC / 8 };
	struct json_object *arr;
	char ks[19];
	size_t i;

	if (prpath_decode_read_keys(buf, len, &rk) < 0) {
		cli_err(c, "pr in: malformed READ KEYS data");
		return EXIT_BAD_RESPONSE;
	}
	out_add_int(doc, "generation", rk.generation);
	arr = json_object_new_array();
	for (i = 0; i < rk.nkeys; i++) {
		out_key_str(keys[i], ks);
		json_object_array_add(arr, json_object_new_string(ks));
	}
	json_object_object_add(doc, "keys", arr);
	out_add_bool(doc, "truncated", rk.truncated);
	if (rk.truncated)
		cli_err(c, "pr in: the device lists %zu keys, more than one PR IN can return (%d bytes): %zu shown, the list is incomplete",
			rk.nkeys_total, PRIN_LEN, rk.nkeys);
	if (c->output == OUT_JSON)
		return rk.truncated ? EXIT_PARTIAL : 0;
	printf("  PR generation=0x%" PRIx32 ", ", rk.generation);
	if (!rk.nkeys_total) {
		printf("there are NO registered reservation keys\n");
		return 0;
	}
	printf("%zu registered reservation key%s follow%s:\n", rk.nkeys_total,
	       rk.nkeys_total == 1 ? "" : "s", rk.nkeys_total == 1 ? "s" : "");
	for (i = 0; i < rk.nkeys; i++)
		printf("    0x%" PRIx64 "\n", keys[i]);
	if (rk.truncated)
		printf("    (list truncated)\n");
	return rk.truncated ? EXIT_PARTIAL : 0;
}

static int show_read_reservation(struct cli *c, struct json_object *doc,
				 const uint8_t *buf, size_t len)
{
	struct prpath_read_reservation rr;
	struct json_object *ro;

	if (prpath_decode_read_reservation(buf, len, &rr) < 0) {
		cli_err(c, "pr in: malformed READ RESERVATION data");
		return EXIT_BAD_RESPONSE;
	}
	out_add_int(doc, "generation", rr.generation);
	if (rr.reserved) {
		ro = json_object_new_object();
		out_add_key(ro, "key", rr.key);
		out_add_int(ro, "scope", rr.scope);
		add_type(ro, rr.type);
		json_object_object_add(doc, "reservation", ro);
	} else {
		json_object_object_add(doc, "reservation", NULL);
	}
	if (c->output == OUT_JSON)
		return 0;
	printf("  PR generation=0x%" PRIx32 ", ", rr.generation);
	if (!rr.reserved) {
		printf("there is NO reservation held\n");
		return 0;
	}
	printf("Reservation follows:\n");
	printf("    Key=0x%" PRIx64 "\n", rr.key);
	printf("    scope: %s,  type: %s\n", scope_name(rr.scope),
	       type_long_name(rr.type));
	return 0;
}

static int show_capabilities(struct cli *c, struct json_object *doc,
			     const uint8_t *buf, size_t len)
{
	static const unsigned types[] = { PRPATH_PR_TYPE_WEAR, PRPATH_PR_TYPE_EARO, PRPATH_PR_TYPE_WERO,
					  PRPATH_PR_TYPE_EA, PRPATH_PR_TYPE_WE, PRPATH_PR_TYPE_EAAR };
	struct prpath_capabilities cp;
	struct json_object *arr;
	size_t i;

	if (prpath_decode_report_capabilities(buf, len, &cp) < 0) {
		cli_err(c, "pr in: malformed REPORT CAPABILITIES data");
		return EXIT_BAD_RESPONSE;
	}
	out_add_bool(doc, "rlr_c", cp.rlr_c);
	out_add_bool(doc, "crh", cp.crh);
	out_add_bool(doc, "sip_c", cp.sip_c);
	out_add_bool(doc, "atp_c", cp.atp_c);
	out_add_bool(doc, "ptpl_c", cp.ptpl_c);
	out_add_bool(doc, "tmv", cp.tmv);
	out_add_int(doc, "allow_commands", cp.allow_commands);
	out_add_bool(doc, "ptpl_a", cp.ptpl_a);
	arr = json_object_new_array();
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (cp.tmv && (cp.type_mask & (1u << types[i])))
			json_object_array_add(arr, json_object_new_string(
						      prpath_pr_type_name(types[i])));
	json_object_object_add(doc, "types", arr);
	if (c->output == OUT_JSON)
		return 0;
	printf("Report capabilities response:\n");
	printf("  Replace Lost Reservation Capable(RLR_C): %d\n", cp.rlr_c);
	printf("  Compatible Reservation Handling(CRH): %d\n", cp.crh);
	printf("  Specify Initiator Ports Capable(SIP_C): %d\n", cp.sip_c);
	printf("  All Target Ports Capable(ATP_C): %d\n", cp.atp_c);
	printf("  Persist Through Power Loss Capable(PTPL_C): %d\n", cp.ptpl_c);
	printf("  Type Mask Valid(TMV): %d\n", cp.tmv);
	printf("  Allow Commands: %u\n", cp.allow_commands);
	printf("  Persist Through Power Loss Active(PTPL_A): %d\n", cp.ptpl_a);
	if (cp.tmv) {
		printf("    Support indicated in Type mask:\n");
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			printf("      %s: %d\n", type_long_name(types[i]),
			       !!(cp.type_mask & (1u << types[i])));
	}
	return 0;
}

static int show_full_status(struct cli *c, struct json_object *doc,
			    const uint8_t *buf, size_t len)
{
	/* a descriptor takes at least 24 + 24 bytes: room for all of them */
	static struct prpath_full_status_desc desc[PRIN_ALLOC / 48 + 1];
	struct prpath_full_status fs = { .desc = desc,
					 .desc_cap = sizeof(desc) / sizeof(desc[0]) };
	struct json_object *arr;
	char port[PRPATH_PORT_NAME_MAX];
	size_t i;

	if (prpath_decode_read_full_status(buf, len, &fs) < 0) {
		cli_err(c, "pr in: malformed READ FULL STATUS data");
		return EXIT_BAD_RESPONSE;
	}
	out_add_int(doc, "generation", fs.generation);
	arr = json_object_new_array();
	if (c->output == OUT_TEXT) {
		printf("  PR generation=0x%" PRIx32 "\n", fs.generation);
		if (!fs.ndesc)
			printf("    No full status descriptors\n");
	}
	for (i = 0; i < fs.ndesc; i++) {
		const struct prpath_full_status_desc *d = &desc[i];
		struct json_object *o = json_object_new_object();

		port[0] = '\0';
		if (d->tid_valid && prpath_tid_port_name(&d->tid, port, sizeof(port)) < 0)
			port[0] = '\0';
		out_add_key(o, "key", d->key);
		out_add_bool(o, "all_tg_pt", d->all_tg_pt);
		out_add_int(o, "relative_target_port", d->rel_tgt_port);
		out_add_bool(o, "reservation_holder", d->r_holder);
		if (d->r_holder) {
			out_add_int(o, "scope", d->scope);
			add_type(o, d->type);
		}
		out_add_str(o, "initiator_port", d->tid_valid ? port : NULL);
		json_object_array_add(arr, o);
		if (c->output == OUT_JSON)
			continue;
		printf("    Key=0x%" PRIx64 "\n", d->key);
		printf("      All target ports bit %s\n", d->all_tg_pt ? "set" : "clear");
		printf("      Relative port address: 0x%x\n", d->rel_tgt_port);
		if (d->r_holder) {
			printf("      << Reservation holder >>\n");
			printf("      scope: %s,  type: %s\n", scope_name(d->scope),
			       type_long_name(d->type));
		} else {
			printf("      not reservation holder\n");
		}
		printf("      Transport Id of initiator:\n");
		if (d->tid_valid)
			printf("        iSCSI %s: %s\n",
			       d->tid.format ? "name and session id" : "name", port);
		else
			printf("        (not an iSCSI TransportID)\n");
	}
	json_object_object_add(doc, "registrations", arr);
	out_add_bool(doc, "truncated", fs.truncated);
	if (fs.truncated) {
		cli_err(c, "pr in: the device has %" PRIu32 " bytes of full status, more than one PR IN can return (%d): %zu registrations shown, the list is incomplete",
			fs.additional_length + 8, PRIN_LEN, fs.ndesc);
		return EXIT_PARTIAL;
	}
	return 0;
}

static int pr_in(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "read-keys", no_argument, NULL, OPT_READ_KEYS },
		{ "read-reservation", no_argument, NULL, OPT_READ_RESERVATION },
		{ "report-capabilities", no_argument, NULL, OPT_REPORT_CAPABILITIES },
		{ "read-full-status", no_argument, NULL, OPT_READ_FULL_STATUS },
		{ "path-index", required_argument, NULL, OPT_PATH_INDEX },
		{ NULL, 0, NULL, 0 },
	};
	struct pr_args a = { .sa = -1, .path_index = 1 };
	struct cli_cmd_opts co = { "", lo, prin_opt, &a, prin_usage };
	struct json_object *doc;
	struct prpath_path *conn = NULL;
	struct prpath_io io;
	uint8_t *buf;
	int first, rc;

	c->cmd = "pr in";
	rc = cli_parse(c, argc, argv, &co, &first);
	if (rc >= 0)
		return rc;
	if (a.nsa != 1) {
		cli_err(c, "pr in: give exactly one of --read-keys, --read-reservation, --report-capabilities, --read-full-status");
		return EXIT_USAGE;
	}
	if (argc - first != 1) {
		cli_err(c, "pr in: give exactly one PATH");
		return EXIT_USAGE;
	}
	rc = cli_open_conn(c, argv[first], true, &conn);
	if (rc)
		return rc;
	buf = calloc(1, PRIN_ALLOC);
	if (!buf) {
		prpath_path_close(conn);
		cli_err(c, "out of memory");
		return EXIT_DEVICE;
	}
	memset(&io, 0, sizeof(io));
	rc = prpath_cdb_pr_in(io.cdb, sizeof(io.cdb), (unsigned)a.sa, PRIN_LEN);
	io.cdb_len = (size_t)rc;
	io.din = buf;
	io.din_cap = PRIN_LEN;
	rc = cli_raw_exec(c, conn, a.path_index - 1, &io);
	prpath_path_close(conn);
	if (rc < 0) {
		cli_err(c, "pr in: %s: %s", argv[first], prpath_strerror(rc));
		free(buf);
		return EXIT_DEVICE;
	}
	rc = prpath_io_result(&io);
	if (rc) {
		err_outcome(c, prpath_prin_sa_name((unsigned)a.sa), argv[first], &io);
		free(buf);
		return cli_exit_code(rc);
	}
	doc = out_doc("pr in");
	out_add_str(doc, "service_action", prin_json_name[a.sa]);
	out_add_str(doc, "path", argv[first]);
	switch (a.sa) {
	case PRPATH_PR_IN_READ_KEYS:
		rc = show_read_keys(c, doc, buf, io.din_len);
		break;
	case PRPATH_PR_IN_READ_RESERVATION:
		rc = show_read_reservation(c, doc, buf, io.din_len);
		break;
	case PRPATH_PR_IN_REPORT_CAPABILITIES:
		rc = show_capabilities(c, doc, buf, io.din_len);
		break;
	default:
		rc = show_full_status(c, doc, buf, io.din_len);
		break;
	}
	free(buf);
	if ((rc == 0 || rc == EXIT_PARTIAL) && c->output == OUT_JSON)
		out_json(doc);
	else
		json_object_put(doc);
	return rc;
}

/* ---- pr out ---------------------------------------------------------------- */

static int parse_param_key(struct cli *c, const char *opt, const char *val,
			   uint64_t *out)
{
	int rc = cli_parse_u64(val, out);

	if (rc == -ERANGE)
		return cli_bad_value(c, opt, val, "is not a key (more than 64 bits)");
	if (rc < 0)
		return cli_bad_value(c, opt, val, "is not a key (hex 0x... or decimal)");
	return 0;
}

static int prout_opt(struct cli *c, void *arg, int opt, const char *val)
{
	struct pr_args *a = arg;
	unsigned long long v;
	int t;

	switch (opt) {
	case OPT_REGISTER: a->sa = PRPATH_PR_OUT_REGISTER; a->nsa++; return 0;
	case OPT_REGISTER_IGNORE: a->sa = PRPATH_PR_OUT_REGISTER_AND_IGNORE; a->nsa++; return 0;
	case OPT_RESERVE: a->sa = PRPATH_PR_OUT_RESERVE; a->nsa++; return 0;
	case OPT_RELEASE: a->sa = PRPATH_PR_OUT_RELEASE; a->nsa++; return 0;
	case OPT_CLEAR: a->sa = PRPATH_PR_OUT_CLEAR; a->nsa++; return 0;
	case OPT_PREEMPT: a->sa = PRPATH_PR_OUT_PREEMPT; a->nsa++; return 0;
	case OPT_PREEMPT_ABORT: a->sa = PRPATH_PR_OUT_PREEMPT_AND_ABORT; a->nsa++; return 0;
	case OPT_REGISTER_MOVE: a->sa = PRPATH_PR_OUT_REGISTER_AND_MOVE; a->nsa++; return 0;
	case OPT_PARAM_RK:
		a->rk_set = true;
		return parse_param_key(c, "--param-rk", val, &a->rk);
	case OPT_PARAM_SARK:
		a->sark_set = true;
		return parse_param_key(c, "--param-sark", val, &a->sark);
	case OPT_PROUT_TYPE:
		a->type_set = true;
		if (cli_parse_uint(val, 15, &v) == 0) {
			a->type = (unsigned)v;
			return 0;
		}
		t = prpath_pr_type_parse(val);
		if (t < 0)
			return cli_bad_value(c, "--prout-type", val,
					     "is not a reservation type (0-15, or wero, earo, wear, eaar, we, ea)");
		a->type = (unsigned)t;
		return 0;
	case OPT_PARAM_APTPL: a->aptpl = true; return 0;
	case OPT_PARAM_ALLTGPT: a->alltgpt = true; return 0;
	case OPT_PARAM_UNREG: a->unreg = true; return 0;
	case OPT_TRANSPORT_ID:
		if (a->ntids >= MAX_TIDS)
			return cli_bad_value(c, "--transport-id", val, "is one too many (at most 8)");
		memset(&a->tids[a->ntids], 0, sizeof(a->tids[0]));
		if (strstr(val, ",i,") ? prpath_tid_from_port_name(val, &a->tids[a->ntids]) < 0
				       : (strlen(val) == 0 || strlen(val) > PRPATH_ISCSI_NAME_MAX))
			return cli_bad_value(c, "--transport-id", val,
					     "is not an iSCSI name or initiator port (IQN[,i,0xISID])");
		if (!strstr(val, ",i,"))
			snprintf(a->tids[a->ntids].name, sizeof(a->tids[0].name), "%s", val);
		a->ntids++;
		return 0;
	case OPT_REL_TGT_PORT:
		if (cli_parse_uint(val, 0xffff, &v) < 0)
			return cli_bad_value(c, "--relative-target-port", val,
					     "is not a relative target port (0-65535)");
		a->rtp = (unsigned)v;
		a->rtp_set = true;
		return 0;
	case OPT_PATH_INDEX:
		return parse_path_index(c, val, &a->path_index);
	default:
		return EXIT_USAGE;
	}
}

static void prout_usage(FILE *f)
{
	fprintf(f,
		"Usage: prpath pr out (--register | --register-ignore | --reserve | --release |\n"
		"                      --clear | --preempt | --preempt-abort | --register-move)\n"
		"                     [--param-rk KEY] [--param-sark KEY] [--prout-type N]\n"
		"                     [--param-aptpl] [--param-alltgpt] [--param-unreg]\n"
		"                     [--transport-id ID]... [--relative-target-port N]\n"
		"                     [--path-index N] PATH\n"
		"\n"
		"Sends one PERSISTENT RESERVE OUT command on PATH.\n"
		"  --register, --register-ignore   REGISTER / REGISTER AND IGNORE EXISTING KEY\n"
		"  --reserve, --release, --clear   RESERVE (needs --prout-type) / RELEASE / CLEAR\n"
		"  --preempt, --preempt-abort      PREEMPT / PREEMPT AND ABORT (--param-sark = victim)\n"
		"  --register-move                 REGISTER AND MOVE (needs --transport-id,\n"
		"                                  --relative-target-port and --param-sark)\n"
		"  --param-rk KEY                  RESERVATION KEY (default: 0 for the register\n"
		"                                  actions, this host's key otherwise)\n"
		"  --param-sark KEY                SERVICE ACTION RESERVATION KEY (default: this\n"
		"                                  host's key for the register actions, else 0)\n"
		"  --prout-type N                  reservation type: number or wero|earo|wear|eaar|we|ea\n"
		"  --param-aptpl                   APTPL: persist through power loss\n"
		"  --param-alltgpt                 ALL_TG_PT: register on all target ports\n"
		"  --param-unreg, --unreg          REGISTER AND MOVE: UNREG\n"
		"  --transport-id ID               IQN or IQN,i,0xISID; with --register: SPEC_I_PT\n"
		"  --relative-target-port N        REGISTER AND MOVE: target port of the new holder\n"
		"  --path-index N                  the path number shown in traces (-vv), default 1;\n"
		"                                  the initiator port comes from PATH itself\n"
		"KEY and N are hex with 0x, decimal without (unlike sg_persist, which reads\n"
		"--param-rk, --param-sark and --relative-target-port as hex).\n");
}

static int pr_out(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "register", no_argument, NULL, OPT_REGISTER },
		{ "register-ignore", no_argument, NULL, OPT_REGISTER_IGNORE },
		{ "reserve", no_argument, NULL, OPT_RESERVE },
		{ "release", no_argument, NULL, OPT_RELEASE },
		{ "clear", no_argument, NULL, OPT_CLEAR },
		{ "preempt", no_argument, NULL, OPT_PREEMPT },
		{ "preempt-abort", no_argument, NULL, OPT_PREEMPT_ABORT },
		{ "register-move", no_argument, NULL, OPT_REGISTER_MOVE },
		{ "param-rk", required_argument, NULL, OPT_PARAM_RK },
		{ "param-sark", required_argument, NULL, OPT_PARAM_SARK },
		{ "prout-type", required_argument, NULL, OPT_PROUT_TYPE },
		{ "param-aptpl", no_argument, NULL, OPT_PARAM_APTPL },
		{ "param-alltgpt", no_argument, NULL, OPT_PARAM_ALLTGPT },
		{ "param-unreg", no_argument, NULL, OPT_PARAM_UNREG },
		{ "unreg", no_argument, NULL, OPT_PARAM_UNREG },
		{ "transport-id", required_argument, NULL, OPT_TRANSPORT_ID },
		{ "relative-target-port", required_argument, NULL, OPT_REL_TGT_PORT },
		{ "path-index", required_argument, NULL, OPT_PATH_INDEX },
		{ NULL, 0, NULL, 0 },
	};
	struct pr_args a = { .sa = -1, .path_index = 1 };
	struct cli_cmd_opts co = { "", lo, prout_opt, &a, prout_usage };
	uint8_t tidbuf[MAX_TIDS * PRPATH_TRANSPORTID_MAX];
	uint8_t param[24 + sizeof(tidbuf)];
	struct prpath_path *conn = NULL;
	struct json_object *doc;
	struct prpath_io io;
	size_t tlen = 0, i;
	bool reg;
	int first, rc, plen;

	c->cmd = "pr out";
	rc = cli_parse(c, argc, argv, &co, &first);
	if (rc >= 0)
		return rc;
	if (a.nsa != 1) {
		cli_err(c, "pr out: give exactly one service action (--register, --register-ignore, --reserve, --release, --clear, --preempt, --preempt-abort, --register-move)");
		return EXIT_USAGE;
	}
	if (argc - first != 1) {
		cli_err(c, "pr out: give exactly one PATH");
		return EXIT_USAGE;
	}
	reg = a.sa == PRPATH_PR_OUT_REGISTER || a.sa == PRPATH_PR_OUT_REGISTER_AND_IGNORE;
	if (a.sa != PRPATH_PR_OUT_REGISTER_AND_MOVE && (a.unreg || a.rtp_set)) {
		cli_err(c, "pr out: %s goes with --register-move only",
			a.unreg ? "--param-unreg" : "--relative-target-port");
		return EXIT_USAGE;
	}
	if (a.sa == PRPATH_PR_OUT_REGISTER_AND_MOVE && a.alltgpt) {
		cli_err(c, "pr out: --param-alltgpt does not go with --register-move (its parameter list has no ALL_TG_PT)");
		return EXIT_USAGE;
	}
	if (a.sa == PRPATH_PR_OUT_REGISTER_AND_MOVE && (!a.sark_set || a.sark == 0)) {
		/* SARK is the key the new holder gets: 0 is never valid */
		cli_err(c, "pr out: --register-move needs --param-sark KEY (the key registered for the new holder, not 0)");
		return EXIT_USAGE;
	}
	if (a.sa == PRPATH_PR_OUT_RESERVE && !a.type_set) {
		cli_err(c, "pr out: --reserve needs --prout-type");
		return EXIT_USAGE;
	}
	if (!a.rk_set)
		a.rk = reg ? 0 : c->key;
	if (!a.sark_set)
		a.sark = reg ? c->key : 0;
	for (i = 0; i < a.ntids; i++) {
		rc = prpath_tid_encode(&a.tids[i], tidbuf + tlen, sizeof(tidbuf) - tlen);
		if (rc < 0)
			return cli_bad_value(c, "--transport-id", a.tids[i].name,
					     "cannot be encoded");
		tlen += (size_t)rc;
	}
	if (a.sa == PRPATH_PR_OUT_REGISTER_AND_MOVE) {
		struct prpath_prout_move_params mp = {
			.rk = a.rk, .sark = a.sark, .unreg = a.unreg, .aptpl = a.aptpl,
			.rel_tgt_port = (uint16_t)a.rtp, .tid = tidbuf, .tid_len = tlen,
		};

		if (a.ntids != 1 || !a.rtp_set) {
			cli_err(c, "pr out: --register-move needs one --transport-id and --relative-target-port");
			return EXIT_USAGE;
		}
		plen = prpath_prout_move_params_encode(&mp, param, sizeof(param));
	} else {
		struct prpath_prout_params pp = {
			.rk = a.rk, .sark = a.sark, .spec_i_pt = a.ntids > 0,
			.all_tg_pt = a.alltgpt, .aptpl = a.aptpl,
			.tids = tlen ? tidbuf : NULL, .tids_len = tlen,
		};

		if (a.ntids && !reg) {
			cli_err(c, "pr out: --transport-id goes with --register or --register-move");
			return EXIT_USAGE;
		}
		plen = prpath_prout_params_encode(&pp, param, sizeof(param));
	}
	if (plen < 0) {
		cli_err(c, "pr out: cannot encode the parameter list: %s", prpath_strerror(plen));
		return EXIT_USAGE;
	}
	memset(&io, 0, sizeof(io));
	rc = prpath_cdb_pr_out(io.cdb, sizeof(io.cdb), (unsigned)a.sa, 0, a.type,
			       (uint32_t)plen);
	if (rc < 0) {
		cli_err(c, "pr out: cannot build the CDB: %s", prpath_strerror(rc));
		return EXIT_USAGE;
	}
	io.cdb_len = (size_t)rc;
	io.dout = param;
	io.dout_len = (size_t)plen;

	rc = cli_open_conn(c, argv[first], false, &conn);
	if (rc)
		return rc;
	rc = cli_raw_exec(c, conn, a.path_index - 1, &io);
	prpath_path_close(conn);
	if (rc < 0) {
		cli_err(c, "pr out: %s: %s", argv[first], prpath_strerror(rc));
		return EXIT_DEVICE;
	}
	doc = out_doc("pr out");
	out_add_str(doc, "service_action", prout_json_name[a.sa]);
	out_add_str(doc, "path", argv[first]);
	out_add_key(doc, "param_rk", a.rk);
	out_add_key(doc, "param_sark", a.sark);
	out_add_int(doc, "prout_type", a.type);
	add_outcome(doc, &io);
	rc = prpath_io_result(&io);
	out_add_bool(doc, "ok", rc == 0);
	if (rc) {
		/* an error is one line on stderr, nothing on stdout */
		json_object_put(doc);
		err_outcome(c, prpath_prout_sa_name((unsigned)a.sa), argv[first], &io);
		return cli_exit_code(rc);
	}
	if (c->output == OUT_JSON)
		out_json(doc);
	else
		json_object_put(doc);
	if (c->output == OUT_TEXT)
		printf("PR out: command (%s) successful\n",
		       prpath_prout_sa_name((unsigned)a.sa));
	return 0;
}

static void pr_usage(FILE *f)
{
	fprintf(f, "Usage: prpath pr in|out [options] PATH (see 'prpath pr in --help', 'prpath pr out --help')\n");
}

/* Global options may stand between "pr" and "in"/"out" too ("prpath pr
 * -vv out ..."): moves the "in"/"out" word to argv[1], so that cli_parse()
 * sees the options after it. */
static void pr_hoist_subcommand(int argc, char **argv)
{
	static const char *const with_value[] = {
		"-i", "--initiator", "-k", "--key", "-o", "--output", "--timeout",
	};
	int i = 1, j;
	size_t k;

	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0) {
		bool takes = false;

		for (k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
			if (strcmp(argv[i], with_value[k]) == 0)
				takes = true;
		i += takes ? 2 : 1;
	}
	if (i <= 1 || i >= argc ||
	    (strcmp(argv[i], "in") != 0 && strcmp(argv[i], "out") != 0))
		return;
	{
		char *sub = argv[i];

		for (j = i; j > 1; j--)
			argv[j] = argv[j - 1];
		argv[1] = sub;
	}
}

int cmd_pr(struct cli *c, int argc, char **argv)
{
	pr_hoist_subcommand(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "in") == 0)
		return pr_in(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "out") == 0)
		return pr_out(c, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		pr_usage(stdout);
		printf("\n");
		prin_usage(stdout);
		printf("\n");
		prout_usage(stdout);
		return EXIT_OK;
	}
	if (argc < 2)
		cli_err(c, "pr: say 'in' or 'out'");
	else
		cli_err(c, "pr: unknown subcommand '%s' (in or out)", argv[1]);
	return EXIT_USAGE;
}
