/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host commands: acquire, takeover, release, status, read, write. Each one
 * builds a multipath device from the PATHs (path N of the command line is
 * always path N of this host: same initiator port, so registrations made by
 * an earlier run are found again), probes it, opens it and acts.
 *
 * acquire and takeover open with PRPATH_OPEN_RETAIN: the reservation stays
 * when the process exits. read and write open noreserve|retain: they do I/O
 * as a host registered by an earlier acquire and change no PR state.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <prpath/mpath.h>
#include <prpath/path.h>
#include <prpath/scsi.h>

#include "cli.h"

#define HOST_MAX_PATHS PRPATH_DEV_MAX_PATHS
#define IO_MAX_BYTES (64u << 20)
/* read_file_all(): not a regular file (a FIFO, a device) */
#define EFTYPE_NOT_REGULAR ENOTSUP

struct hdev {
	struct prpath_dev *dev;
	int n;                        /* PATHs on the command line */
	char **urls;
	int dev_index[HOST_MAX_PATHS]; /* command-line path -> device path, -1 */
	char open_err[HOST_MAX_PATHS][320];
};

static void hdev_free(struct hdev *h)
{
	prpath_dev_free(h->dev);
	h->dev = NULL;
}

/* Adds every PATH (path i = ISID i) and probes. Returns 0 or an exit code
 * after printing the reason. */
static int hdev_setup(struct cli *c, struct hdev *h, int n, char **urls,
		      bool observer)
{
	struct prpath_host host = { .initiator = c->initiator, .key = c->key };
	char *secret_urls[HOST_MAX_PATHS] = { NULL };
	struct prpath_url_result res[HOST_MAX_PATHS];
	char why[256];
	bool dup = false;
	int i, rc, added = 0;

	memset(h, 0, sizeof(*h));
	h->n = n;
	h->urls = urls;
	if (n < 1) {
		cli_err(c, "%s: give at least one PATH", c->cmd);
		return EXIT_USAGE;
	}
	if (n > HOST_MAX_PATHS) {
		cli_err(c, "%s: at most %d PATHs", c->cmd, HOST_MAX_PATHS);
		return EXIT_USAGE;
	}
	/* A CHAP secret in a URL (iscsi://USER%SECRET@...) is opened from a
	 * copy and redacted in argv, so that no message, output or ps
	 * listing shows it. */
	for (i = 0; i < n; i++) {
		secret_urls[i] = strdup(urls[i]);
		if (!secret_urls[i]) {
			rc = EXIT_DEVICE;
			cli_err(c, "out of memory");
			goto wipe;
		}
		prpath_url_redact(urls[i]);
	}
	for (i = 0; i < n; i++) {
		if (prpath_url_check(secret_urls[i], why, sizeof(why)) < 0) {
			cli_err_url(c, urls[i], why);
			rc = EXIT_USAGE;
			goto wipe;
		}
		for (int j = 0; j < i; j++) {
			if (prpath_url_same_path(secret_urls[j], secret_urls[i])) {
				/* two logins with one ISID would end each other */
				cli_err(c, "%s: PATH %d (%s) is the same path as PATH %d",
					c->cmd, i + 1, urls[i], j + 1);
				rc = EXIT_USAGE;
				goto wipe;
			}
		}
	}
	rc = prpath_dev_new(c->ctx, &host, &h->dev);
	if (rc) {
		cli_err(c, "%s", prpath_strerror(rc));
		rc = EXIT_DEVICE;
		goto wipe;
	}
	prpath_dev_set_timeout(h->dev, c->timeout_ms);
	if (observer)
		prpath_dev_set_observer(h->dev);
	/* every PATH at once: unreachable portals cost one timeout */
	prpath_dev_add_urls(h->dev, (const char *const *)secret_urls, (size_t)n, res);
	for (i = 0; i < n; i++) {
		h->dev_index[i] = -1;
		if (res[i].index == -EEXIST) {
			cli_err(c, "%s: PATH %d (%s) is the same path as an earlier PATH",
				c->cmd, i + 1, urls[i]);
			dup = true;
			continue;
		}
		if (res[i].index < 0) {
			snprintf(h->open_err[i], sizeof(h->open_err[i]), "%s", res[i].why);
			cli_err_url(c, urls[i], h->open_err[i]);
			continue;
		}
		h->dev_index[i] = res[i].index;
		added++;
	}
	rc = 0;
wipe:
	for (i = 0; i < n && i < HOST_MAX_PATHS; i++) {
		if (secret_urls[i]) {
			explicit_bzero(secret_urls[i], strlen(secret_urls[i]));
			free(secret_urls[i]);
		}
	}
	if (rc)
		return rc;
	if (dup) {
		hdev_free(h);
		return EXIT_USAGE;
	}
	if (!added) {
		hdev_free(h);
		return EXIT_DEVICE;
	}
	rc = prpath_dev_probe(h->dev);
	if (rc == -EXDEV) {
		cli_err(c, "%s: the paths lead to different LUs (run with -v for the identifiers)",
			c->cmd);
		hdev_free(h);
		return EXIT_WRONG_LU;
	}
	if (rc) {
		cli_err(c, "%s: probing the paths failed: %s", c->cmd, prpath_strerror(rc));
		hdev_free(h);
		return cli_exit_code(rc);
	}
	return 0;
}

/* ---- status document --------------------------------------------------------- */

static struct json_object *status_doc(struct cli *c, struct hdev *h,
				      const char *cmd, int *err_out)
{
	struct prpath_path_status ps[HOST_MAX_PATHS];
	struct prpath_dev_status st;
	struct json_object *doc, *dev, *arr, *res;
	int i, rc;

	doc = out_doc(cmd);
	out_add_str(doc, "initiator", c->initiator);
	out_add_key(doc, "key", prpath_dev_key(h->dev));
	out_add_str(doc, "lu_id", prpath_dev_lu_id(h->dev));
	out_add_int(doc, "block_size", prpath_dev_block_size(h->dev));
	out_add_int(doc, "blocks", (int64_t)prpath_dev_blocks(h->dev));

	rc = prpath_dev_status(h->dev, &st, ps, HOST_MAX_PATHS);
	if (rc == 0 && !st.device_valid)
		rc = st.device_error ? st.device_error : PRPATH_ERR_NO_PATH;
	*err_out = rc;
	dev = json_object_new_object();
	if (rc == 0) {
		out_add_int(dev, "generation", st.generation);
		out_add_int(dev, "registrations", (int64_t)st.nregistrations);
		out_add_int(dev, "key_registrations", (int64_t)st.nkey_registrations);
		if (st.reserved) {
			res = json_object_new_object();
			if (prpath_pr_type_all_registrants(st.holder_type))
				json_object_object_add(res, "holder_key", NULL);
			else
				out_add_key(res, "holder_key", st.holder_key);
			out_add_str(res, "type", prpath_pr_type_name(st.holder_type));
			out_add_bool(res, "ours", st.we_hold);
			/* the holder nexus is this host's initiator's, with
			 * another key (an administrator changed it): not ours,
			 * but not another host's either */
			if (st.full_status)
				out_add_bool(res, "this_initiator", st.holder_this_initiator);
			json_object_object_add(dev, "reservation", res);
		} else {
			json_object_object_add(dev, "reservation", NULL);
		}
		out_add_bool(dev, "full_status", st.full_status);
		if (st.full_status) {
			/* registrations of our key that are not this host's
			 * paths: another initiator's (one key, two hosts) or
			 * nexuses of ours that are none of these PATHs */
			out_add_int(dev, "key_registrations_other_initiators",
				    (int64_t)st.nkey_foreign);
			if (st.nkey_foreign)
				out_add_str(dev, "other_initiator", st.key_foreign_initiator);
			out_add_int(dev, "key_registrations_elsewhere",
				    (int64_t)st.nkey_elsewhere);
		}
	} else {
		out_add_str(dev, "error", prpath_strerror(rc));
	}
	json_object_object_add(doc, "device", dev);

	arr = json_object_new_array();
	for (i = 0; i < h->n; i++) {
		struct json_object *p = json_object_new_object();
		int di = h->dev_index[i];

		out_add_int(p, "index", i + 1);
		out_add_str(p, "url", h->urls[i]);
		if (di < 0) {
			out_add_str(p, "state", "failed");
			json_object_object_add(p, "registered", NULL);
			out_add_str(p, "error", cli_why_no_url(h->urls[i], h->open_err[i]));
			json_object_array_add(arr, p);
			continue;
		}
		out_add_str(p, "state", prpath_path_state_name(ps[di].state));
		if (ps[di].initiator_port[0] && ps[di].rel_tgt_port >= 0) {
			out_add_str(p, "initiator_port", ps[di].initiator_port);
			out_add_int(p, "relative_target_port", ps[di].rel_tgt_port);
		}
		if (ps[di].state != PRPATH_PATH_UP) {
			json_object_object_add(p, "registered", NULL);
		} else if (ps[di].device_registered >= 0) {
			/* what the device said (READ FULL STATUS, read whole) */
			out_add_bool(p, "registered", ps[di].device_registered == 1);
			out_add_bool(p, "reservation_holder", ps[di].device_holder);
		} else if (st.open) {
			/* what this host knows (sg paths: no port name) */
			out_add_bool(p, "registered", ps[di].registered);
		} else {
			/* not seen: unknown, never "no" */
			json_object_object_add(p, "registered", NULL);
		}
		if (ps[di].last_error)
			out_add_str(p, "error", prpath_strerror(ps[di].last_error));
		json_object_array_add(arr, p);
	}
	json_object_object_add(doc, "paths", arr);
	return doc;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return 0;
	return json_object_get_int64(v);
}

/* -1 null / absent, 0 false, 1 true */
static int jbool(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return -1;
	return json_object_get_boolean(v);
}

static void print_status_text(struct json_object *doc)
{
	struct json_object *dev, *res, *paths;
	size_t i;

	printf("LU %s: %" PRId64 " blocks of %" PRId64 " bytes\n",
	       jstr(doc, "lu_id"), jint(doc, "blocks"), jint(doc, "block_size"));
	printf("host %s, key %s\n", jstr(doc, "initiator"), jstr(doc, "key"));
	json_object_object_get_ex(doc, "device", &dev);
	if (jstr(dev, "error")) {
		printf("device state unknown: %s\n", jstr(dev, "error"));
	} else {
		printf("registrations: %" PRId64 " (%" PRId64 " with this host's key), generation %" PRId64 "\n",
		       jint(dev, "registrations"), jint(dev, "key_registrations"),
		       jint(dev, "generation"));
		if (json_object_object_get_ex(dev, "reservation", &res) && res)
			printf("reservation: %s, held by %s%s\n", jstr(res, "type"),
			       jstr(res, "holder_key") ? jstr(res, "holder_key")
						       : "all registrants",
			       jbool(res, "ours") == 1 ? " (this host)"
			       : jbool(res, "this_initiator") == 1
			       ? " (this host's initiator, but not this host's key)"
			       : " (another host)");
		else
			printf("reservation: none\n");
	}
	printf("%-5s %-12s %-11s %-7s %s\n", "PATH", "STATE", "REGISTERED", "TPORT", "URL");
	json_object_object_get_ex(doc, "paths", &paths);
	for (i = 0; i < json_object_array_length(paths); i++) {
		struct json_object *p = json_object_array_get_idx(paths, i);
		int reg = jbool(p, "registered");
		char tp[16] = "-";

		if (jstr(p, "relative_target_port"))
			snprintf(tp, sizeof(tp), "%" PRId64, jint(p, "relative_target_port"));
		printf("%-5" PRId64 " %-12s %-11s %-7s %s%s%s%s\n", jint(p, "index"),
		       jstr(p, "state"),
		       reg < 0 ? "?" : reg ? (jbool(p, "reservation_holder") == 1 ? "yes,holder" : "yes") : "no",
		       tp, jstr(p, "url"), jstr(p, "error") ? " (" : "",
		       jstr(p, "error") ? jstr(p, "error") : "", jstr(p, "error") ? ")" : "");
	}
}

static void emit_doc(struct cli *c, struct json_object *doc, const char *headline)
{
	if (c->output == OUT_JSON) {
		out_json(doc);
		return;
	}
	if (headline)
		printf("%s\n", headline);
	print_status_text(doc);
	json_object_put(doc);
}

/* After a refused open: who holds the LU. */
static void explain_reserved(struct cli *c, struct hdev *h, const char *what)
{
	struct prpath_dev_status st;
	char ks[19];

	if (prpath_dev_status(h->dev, &st, NULL, 0) == 0 && st.device_valid &&
	    st.reserved) {
		out_key_str(st.holder_key, ks);
		cli_err(c, "%s: the LU is reserved by another host (key %s, %s)", what,
			prpath_pr_type_all_registrants(st.holder_type) ? "all registrants" : ks,
			prpath_pr_type_name(st.holder_type));
	} else {
		cli_err(c, "%s: the LU is reserved by another host", what);
	}
}

/* Two hosts configured with one key. */
static void explain_key_shared(struct cli *c, struct hdev *h, const char *nothing)
{
	struct prpath_dev_status st;
	char ks[19];

	out_key_str(prpath_dev_key(h->dev), ks);
	if (prpath_dev_status(h->dev, &st, NULL, 0) == 0 && st.nkey_foreign)
		cli_err(c, "%s: this host's key %s is registered by initiator %s too: two hosts with one key are one host to the LU (both may write, a takeover fences neither); give each host its own key (-k); %s",
			c->cmd, ks, st.key_foreign_initiator, nothing);
	else
		cli_err(c, "%s: this host's key %s is registered by another initiator too; give each host its own key (-k); %s",
			c->cmd, ks, nothing);
}

/* "N registration(s) of other keys (K1, K2 and N more)" */
static void other_keys_str(struct prpath_dev *dev, char *out, size_t cap)
{
	uint64_t keys[8];
	size_t n, i, nregs = 0, off;

	n = prpath_dev_other_keys(dev, keys, 8, &nregs, NULL);
	off = (size_t)snprintf(out, cap, "%zu registration(s) of other key%s (", nregs,
			       n == 1 ? "" : "s");
	for (i = 0; i < n && i < 8 && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s0x%016" PRIx64,
					i ? ", " : "", keys[i]);
	if (off < cap && n > 8)
		off += (size_t)snprintf(out + off, cap - off, " and %zu more", n - 8);
	if (off < cap)
		snprintf(out + off, cap - off, ")");
}

/* An exclusive acquire found other hosts' keys registered: under a
 * registrants-only reservation they could write. */
static void explain_other_keys(struct cli *c, struct hdev *h)
{
	struct prpath_dev_status st;
	char list[320];
	bool ours;

	other_keys_str(h->dev, list, sizeof(list));
	ours = prpath_dev_status(h->dev, &st, NULL, 0) == 0 && st.device_valid &&
	       st.we_hold;
	cli_err(c, "%s: other hosts' keys are registered on the LU, %s: under an exclusive reservation they could write; %s; 'prpath takeover' fences them",
		c->cmd, list,
		ours ? "this host keeps the reservation it held, nothing was changed"
		     : "nothing was changed");
}

/* ---- acquire / takeover ----------------------------------------------------- */

enum {
	OPT_MODE = OPT_CMD_BASE,
	OPT_TYPE,
	OPT_LBA,
	OPT_COUNT,
	OPT_VIA,
	OPT_OUT,
	OPT_IN,
	OPT_PATTERN,
	OPT_APTPL,
	OPT_NO_APTPL,
	OPT_UNPROTECTED,
};

struct acq_args {
	enum prpath_open_mode mode;
	int type;      /* 0 = the mode's default */
	bool takeover;
	bool no_aptpl;
};

static int acq_opt(struct cli *c, void *arg, int opt, const char *val)
{
	struct acq_args *a = arg;

	switch (opt) {
	case OPT_MODE:
		if (a->takeover)
			return EXIT_USAGE;
		if (strcmp(val, "exclusive") == 0)
			a->mode = PRPATH_MODE_EXCLUSIVE;
		else if (strcmp(val, "shared") == 0)
			a->mode = PRPATH_MODE_SHARED;
		else if (strcmp(val, "single") == 0)
			a->mode = PRPATH_MODE_SINGLE;
		else
			return cli_bad_value(c, "--mode", val,
					     "is not an acquire mode (exclusive, shared or single)");
		return 0;
	case OPT_TYPE:
		a->type = prpath_pr_type_parse(val);
		if (a->type < 0 || !prpath_pr_type_valid((unsigned)a->type))
			return cli_bad_value(c, "--type", val,
					     "is not a reservation type (wero, earo, wear, eaar, we or ea)");
		return 0;
	case OPT_APTPL:
		a->no_aptpl = false;
		return 0;
	case OPT_NO_APTPL:
		a->no_aptpl = true;
		return 0;
	default:
		return EXIT_USAGE;
	}
}

static void acquire_usage(FILE *f)
{
	fprintf(f,
		"Usage: prpath acquire [--mode exclusive|shared|single] [--type TYPE] [--no-aptpl] PATH...\n"
		"\n"
		"Registers this host's key on every PATH and takes the reservation (exclusive:\n"
		"refused with exit status 24 when another host holds the LU). The reservation\n"
		"stays when prpath exits and, by default, through a power loss or target\n"
		"restart (APTPL); 'prpath release' gives it up. Already held as asked: nothing\n"
		"is changed. Held by this host with another mode or type: refused (24).\n"
		"  --mode MODE   exclusive (default), shared or single (one path only)\n"
		"  --type TYPE   exclusive, single: wero (exclusive default), earo, we (single\n"
		"                default), ea; we and ea need --mode single or one PATH.\n"
		"                shared: wear (default), eaar\n"
		"  --no-aptpl    do not ask the device to persist the registrations (APTPL=0)\n");
}

static void takeover_usage(FILE *f)
{
	fprintf(f,
		"Usage: prpath takeover [--type TYPE] [--no-aptpl] PATH...\n"
		"\n"
		"Forced open: registers this host's key on every PATH, then preempts (and\n"
		"aborts the commands of) the current holder, fencing it on every path, and\n"
		"takes the reservation. The reservation stays when prpath exits and, by\n"
		"default, through a power loss or target restart (APTPL).\n"
		"  --type TYPE   wero (default), earo, we, ea (we, ea: one PATH)\n"
		"  --no-aptpl    do not ask the device to persist the registrations (APTPL=0)\n");
}

static int do_open(struct cli *c, int argc, char **argv, bool takeover)
{
	static const struct option lo_acq[] = {
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "aptpl", no_argument, NULL, OPT_APTPL },
		{ "no-aptpl", no_argument, NULL, OPT_NO_APTPL },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option lo_take[] = {
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "aptpl", no_argument, NULL, OPT_APTPL },
		{ "no-aptpl", no_argument, NULL, OPT_NO_APTPL },
		{ NULL, 0, NULL, 0 },
	};
	struct acq_args a = { .mode = takeover ? PRPATH_MODE_FORCE : PRPATH_MODE_EXCLUSIVE,
			      .takeover = takeover };
	struct cli_cmd_opts co = { "", takeover ? lo_take : lo_acq, acq_opt, &a,
				   takeover ? takeover_usage : acquire_usage };
	struct json_object *doc;
	struct hdev h;
	unsigned flags = PRPATH_OPEN_RETAIN;
	struct prpath_path_status ps[HOST_MAX_PATHS];
	struct prpath_dev_status st;
	char head[768], ks[19];
	char badlist[HOST_MAX_PATHS * 4];
	size_t off = 0;
	int first, rc, derr, i, bad = 0, srs;
	struct timespec t0;

	rc = cli_parse(c, argc, argv, &co, &first);
	if (rc >= 0)
		return rc;
	if (a.type > 0)
		flags |= PRPATH_OPEN_TYPE((unsigned)a.type);
	/* persist through power loss unless told not to (the Linux sd
	 * driver's default too); never cleared behind the user's back */
	flags |= a.no_aptpl ? PRPATH_OPEN_NO_APTPL : PRPATH_OPEN_APTPL;
	if (a.type > 0 &&
	    prpath_pr_type_all_registrants((unsigned)a.type) != (a.mode == PRPATH_MODE_SHARED)) {
		if (a.mode == PRPATH_MODE_SHARED)
			cli_err(c, "%s: --mode shared takes an all-registrants type (wear or eaar), not %s: other hosts could not join a %s reservation",
				c->cmd, prpath_pr_type_name((unsigned)a.type),
				prpath_pr_type_name((unsigned)a.type));
		else
			cli_err(c, "%s: %s takes a registrants-only or one-nexus type (wero, earo, we or ea), not %s: under %s every registered host may write",
				c->cmd, takeover ? "takeover" : "--mode exclusive/single",
				prpath_pr_type_name((unsigned)a.type),
				prpath_pr_type_name((unsigned)a.type));
		return EXIT_USAGE;
	}
	if ((a.type == PRPATH_PR_TYPE_WE || a.type == PRPATH_PR_TYPE_EA) &&
	    a.mode != PRPATH_MODE_SINGLE && argc - first > 1) {
		cli_err(c, "%s: a %s reservation belongs to one I_T nexus: writes through the other paths would conflict; give one PATH or --mode single",
			c->cmd, prpath_pr_type_name((unsigned)a.type));
		return EXIT_USAGE;
	}
	rc = hdev_setup(c, &h, argc - first, argv + first, false);
	if (rc)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cli_at_interrupt(takeover
		? "takeover interrupted: the old holder may already be preempted (fenced) while this host does not hold the LU yet; run the same 'prpath takeover' again to finish"
		: "acquire interrupted: paths of this host may be registered while the LU is not reserved yet; run the same 'prpath acquire' again to finish, or 'prpath release' to undo");
	rc = prpath_dev_open(h.dev, a.mode, flags);
	if (rc == 0 && takeover) {
		/* Two takeovers started at once: the one whose PREEMPT lands
		 * last holds the LU, and the other finished first believing
		 * it won. Wait twice as long as our own takeover took (0.1 s
		 * to 2 s) before looking again (below): a rival that started
		 * with us has preempted us by then. */
		struct timespec t1, ts;
		int64_t us;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		us = 2 * ((int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
			  (t1.tv_nsec - t0.tv_nsec) / 1000);
		if (us < 100000)
			us = 100000;
		if (us > 2000000)
			us = 2000000;
		ts.tv_sec = (time_t)(us / 1000000);
		ts.tv_nsec = (long)(us % 1000000) * 1000;
		nanosleep(&ts, NULL);
	}
	if (rc)
		cli_at_interrupt(NULL); /* the open undid what it did */
	if (rc == PRPATH_ERR_RESERVED) {
		explain_reserved(c, &h, c->cmd);
		hdev_free(&h);
		return EXIT_CONFLICT;
	}
	if (rc == PRPATH_ERR_OTHER_KEYS) {
		explain_other_keys(c, &h);
		hdev_free(&h);
		return EXIT_CONFLICT;
	}
	if (rc == PRPATH_ERR_KEY_SHARED) {
		explain_key_shared(c, &h, "nothing of this host is left registered");
		hdev_free(&h);
		return EXIT_CONFLICT;
	}
	if (rc == PRPATH_ERR_HELD_OTHERWISE) {
		struct prpath_dev_status hs;

		if (prpath_dev_status(h.dev, &hs, NULL, 0) == 0 && hs.device_valid &&
		    hs.reserved)
			cli_err(c, "%s: this host already holds the LU with a %s reservation; nothing was changed (release it first to take it as %s%s)",
				c->cmd, prpath_pr_type_name(hs.holder_type),
				prpath_open_mode_name(a.mode),
				a.mode != PRPATH_MODE_SHARED
				? ", or 'prpath takeover' converts it" : "");
		else
			cli_err(c, "%s: %s; nothing was changed", c->cmd, prpath_strerror(rc));
		hdev_free(&h);
		return EXIT_CONFLICT;
	}
	if (rc) {
		cli_err(c, "%s: %s", c->cmd, prpath_strerror(rc));
		hdev_free(&h);
		return cli_exit_code(rc);
	}
	/* a PATH that could not be opened or went down is not registered:
	 * done on some paths only */
	memset(&st, 0, sizeof(st));
	srs = prpath_dev_status(h.dev, &st, ps, HOST_MAX_PATHS);
	if (srs == 0 && st.device_valid && !st.we_hold) {
		/* Another host took the LU between our open and this look (two
		 * takeovers at once): only one may say it holds the LU. What
		 * of ours survived its PREEMPT is removed. */
		char hk[19];

		out_key_str(st.holder_key, hk);
		prpath_dev_close(h.dev); /* retain: sends nothing */
		if (st.nkey_registrations)
			prpath_dev_unregister(h.dev);
		cli_err(c, "%s: lost the LU to another host right after taking it (now %s%s); nothing of this host is left registered",
			c->cmd, st.reserved ? "reserved by " : "not reserved",
			st.reserved ? (prpath_pr_type_all_registrants(st.holder_type)
				       ? "all registrants" : hk) : "");
		hdev_free(&h);
		return EXIT_CONFLICT;
	}
	if (srs == 0) {
		for (i = 0; i < h.n; i++) {
			int di = h.dev_index[i];

			if (di >= 0 && ps[di].state == PRPATH_PATH_UP)
				continue;
			off += (size_t)snprintf(badlist + off, sizeof(badlist) - off,
						"%s%d", bad ? ", " : "", i + 1);
			if (off >= sizeof(badlist))
				off = sizeof(badlist) - 1;
			bad++;
		}
	}
	doc = status_doc(c, &h, c->cmd, &derr);
	out_add_str(doc, "mode", prpath_open_mode_name(a.mode));
	out_add_bool(doc, "already_held", st.already_held);
	out_add_bool(doc, "aptpl", st.aptpl);
	out_key_str(prpath_dev_key(h.dev), ks);
	snprintf(head, sizeof(head), "%s: LU %s by this host (mode %s, key %s); the reservation stays after exit%s",
		 c->cmd, st.already_held ? "already held" : "reserved",
		 prpath_open_mode_name(a.mode), ks,
		 st.aptpl ? " and through a target restart" : "");
	{
		bool pre = false;
		size_t nk = prpath_dev_other_keys(h.dev, NULL, 0, NULL, &pre);

		if (nk && pre) {
			char list[320];
			struct json_object *arr = json_object_new_array();
			uint64_t *keys = calloc(nk, sizeof(*keys));
			size_t k;

			nk = keys ? prpath_dev_other_keys(h.dev, keys, nk, NULL, NULL) : 0;
			for (k = 0; k < nk; k++) {
				out_key_str(keys[k], ks);
				json_object_array_add(arr, json_object_new_string(ks));
			}
			free(keys);
			json_object_object_add(doc, "preempted_keys", arr);
			out_key_str(prpath_dev_key(h.dev), ks);
			other_keys_str(h.dev, list, sizeof(list));
			snprintf(head + strlen(head), sizeof(head) - strlen(head),
				 "\n%s: preempted %s: they can no longer write", c->cmd, list);
		}
	}
	prpath_dev_close(h.dev); /* retain: sends nothing */
	cli_at_interrupt(NULL);
	emit_doc(c, doc, head);
	hdev_free(&h);
	if (bad) {
		cli_err(c, "%s: done on %d of %d paths only: path%s %s not usable, not registered",
			c->cmd, h.n - bad, h.n, bad > 1 ? "s" : "", badlist);
		return EXIT_PARTIAL;
	}
	return 0;
}

int cmd_acquire(struct cli *c, int argc, char **argv)
{
	return do_open(c, argc, argv, false);
}

int cmd_takeover(struct cli *c, int argc, char **argv)
{
	return do_open(c, argc, argv, true);
}

/* ---- release ------------------------------------------------------------------ */

static void release_usage(FILE *f)
{
	fprintf(f,
		"Usage: prpath release PATH...\n"
		"\n"
		"Releases this host's reservation and unregisters its key on every path; a\n"
		"reservation held through a path that is down or not given is moved to a live\n"
		"PATH first. Exit status 0 only when the LU shows nothing of this host left.\n");
}

static void plain_usage_status(FILE *f)
{
	fprintf(f,
		"Usage: prpath status PATH...\n"
		"\n"
		"Shows the LU's registrations and reservation and, per path, its state,\n"
		"whether this host's key is registered through it, and its target port.\n");
}

int cmd_release(struct cli *c, int argc, char **argv)
{
	struct cli_cmd_opts co = { "", NULL, NULL, NULL, release_usage };
	char left[200];
	struct prpath_dev_status st;
	struct json_object *doc;
	struct hdev h;
	const char *did;
	int first, rc, derr;

	rc = cli_parse(c, argc, argv, &co, &first);
	if (rc >= 0)
		return rc;
	rc = hdev_setup(c, &h, argc - first, argv + first, false);
	if (rc)
		return rc;
	rc = prpath_dev_status(h.dev, &st, NULL, 0);
	if (rc == 0 && !st.device_valid)
		rc = st.device_error ? st.device_error : PRPATH_ERR_NO_PATH;
	if (rc) {
		cli_err(c, "release: cannot read the LU's PR state: %s", prpath_strerror(rc));
		hdev_free(&h);
		return cli_exit_code(rc);
	}
	cli_at_interrupt("release interrupted: the reservation may be released while registrations of this host remain; run the same 'prpath release' again to finish");
	if (st.reserved && !prpath_pr_type_all_registrants(st.holder_type) &&
	    st.holder_key == st.key) {
		/* ours: join it (registers every path) and close as its
		 * holder: RELEASE + unregister on every path */
		did = "released the reservation and unregistered";
		rc = prpath_dev_release(h.dev);
	} else if (st.reserved && prpath_pr_type_all_registrants(st.holder_type) &&
		   st.nkey_registrations) {
		did = "unregistered (all-registrants reservation)";
		rc = prpath_dev_release(h.dev);
	} else if (st.nkey_registrations) {
		did = "unregistered";
		rc = prpath_dev_unregister(h.dev);
	} else {
		did = "nothing to release: this host's key is not registered";
		rc = 0;
	}
	if (rc) {
		cli_at_interrupt(NULL);
		cli_err(c, "release: %s", prpath_strerror(rc));
		hdev_free(&h);
		return cli_exit_code(rc);
	}
	cli_at_interrupt(NULL);
	/* exit 0 only when the device shows nothing of this host left:
	 * what is printed is what the device says afterwards */
	doc = status_doc(c, &h, "release", &derr);
	rc = 0;
	if (derr) {
		cli_err(c, "release: could not read the LU's state back (%s): whether anything of this host remains is unknown",
			prpath_strerror(derr));
		did = "done, but not verified";
		rc = cli_exit_code(derr);
	} else if (prpath_dev_status(h.dev, &st, NULL, 0) == 0 && st.device_valid) {
		size_t mine = st.nkey_registrations - (st.full_status ? st.nkey_foreign : 0);
		bool held = st.reserved && st.we_hold &&
			    !prpath_pr_type_all_registrants(st.holder_type);

		if (mine || held) {
			snprintf(left, sizeof(left), "not released: %zu registration(s) of this host's key remain%s",
				 mine, held ? " and the LU is still reserved by it" : "");
			cli_err(c, "release: %s (through paths not given or not reachable?)", left);
			did = left;
			rc = EXIT_PARTIAL;
		}
	}
	if (rc == 0 && st.device_valid && st.reserved && !st.we_hold &&
	    st.holder_this_initiator && !prpath_pr_type_all_registrants(st.holder_type)) {
		char hk[19];

		out_key_str(st.holder_key, hk);
		cli_err(c, "release: the LU stays reserved by key %s through this host's initiator: not this host's key, left alone (-k %s releases it)",
			hk, hk);
	}
	out_add_str(doc, "result", did);
	{
		char head[300];

		snprintf(head, sizeof(head), "release: %s", did);
		emit_doc(c, doc, head);
	}
	hdev_free(&h);
	return rc;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	struct cli_cmd_opts co = { "", NULL, NULL, NULL, plain_usage_status };
	char shared[PRPATH_DESC_MAX] = "";
	char down[HOST_MAX_PATHS * 4] = "";
	int ndown = 0;
	struct json_object *doc;
	struct hdev h;
	int first, rc, derr;

	rc = cli_parse(c, argc, argv, &co, &first);
	if (rc >= 0)
		return rc;
	rc = hdev_setup(c, &h, argc - first, argv + first, true); /* status only looks: observer sessions */
	if (rc)
		return rc;
	doc = status_doc(c, &h, "status", &derr);
	{
		struct json_object *dev = NULL, *v = NULL;

		if (json_object_object_get_ex(doc, "device", &dev) &&
		    json_object_object_get_ex(dev, "key_registrations_other_initiators", &v) &&
		    json_object_get_int64(v) > 0)
			snprintf(shared, sizeof(shared), "%s",
				 jstr(dev, "other_initiator") ? jstr(dev, "other_initiator") : "?");
	}
	{
		struct json_object *paths = NULL;
		size_t i, off = 0;

		json_object_object_get_ex(doc, "paths", &paths);
		for (i = 0; paths && i < json_object_array_length(paths); i++) {
			const char *state = jstr(json_object_array_get_idx(paths, i), "state");

			if (state && strcmp(state, "up") == 0)
				continue;
			off += (size_t)snprintf(down + off, sizeof(down) - off, "%s%zu",
						ndown ? ", " : "", i + 1);
			if (off >= sizeof(down))
				off = sizeof(down) - 1;
			ndown++;
		}
	}
	emit_doc(c, doc, NULL);
	if (derr) {
		hdev_free(&h);
		cli_err(c, "status: cannot read the LU's PR state: %s", prpath_strerror(derr));
		return cli_exit_code(derr);
	}
	if (shared[0]) {
		char ks[19];

		out_key_str(prpath_dev_key(h.dev), ks);
		cli_err(c, "status: this host's key %s is registered by initiator %s too: two hosts with one key are one host to the LU; give each host its own key (-k)",
			ks, shared);
		hdev_free(&h);
		return EXIT_CONFLICT;
	}
	hdev_free(&h);
	if (ndown) {
		/* a monitoring script must see a dead path (acquire and
		 * takeover say 4 in the same case) */
		cli_err(c, "status: path%s %s not usable", ndown > 1 ? "s" : "", down);
		return EXIT_PARTIAL;
	}
	return 0;
}

/* ---- read / write ---------------------------------------------------------------- */

struct io_args {
	uint64_t lba;
	bool lba_set;
	uint32_t count;
	bool count_set;
	int via;            /* 1-based, 0 = let the device choose */
	const char *out;
	const char *in;
	int pattern;        /* -1: none */
	bool unprotected;   /* I/O without checking that this host holds the LU */
};

static int io_opt(struct cli *c, void *arg, int opt, const char *val)
{
	struct io_args *a = arg;
	unsigned long long v;

	switch (opt) {
	case OPT_LBA:
		if (cli_parse_uint(val, UINT64_MAX, &v) < 0)
			return cli_bad_value(c, "--lba", val, "is not a block address");
		a->lba = v;
		a->lba_set = true;
		return 0;
	case OPT_COUNT:
		if (cli_parse_uint(val, 1u << 20, &v) < 0 || v == 0)
			return cli_bad_value(c, "--count", val,
					     "is not a block count (1-1048576)");
		a->count = (uint32_t)v;
		a->count_set = true;
		return 0;
	case OPT_VIA:
		if (cli_parse_uint(val, HOST_MAX_PATHS, &v) < 0 || v == 0)
			return cli_bad_value(c, "--via", val,
					     "is not a path index (1-based, at most 64)");
		a->via = (int)v;
		return 0;
	case OPT_OUT:
		a->out = val;
		return 0;
	case OPT_IN:
		a->in = val;
		return 0;
	case OPT_PATTERN:
		if (cli_parse_uint(val, 255, &v) < 0)
			return cli_bad_value(c, "--pattern", val,
					     "is not a byte (0-255 or 0x00-0xff)");
		a->pattern = (int)v;
		return 0;
	case OPT_UNPROTECTED:
		a->unprotected = true;
		return 0;
	default:
		return EXIT_USAGE;
	}
}

static void read_usage(FILE *f)
{
	fprintf(f,
		"Usage: prpath read --lba N [--count N] [--via INDEX] [--out FILE] [--unprotected] PATH...\n"
		"\n"
		"Reads blocks as the holder of the LU (an earlier acquire or takeover). Exit\n"
		"status 24 when this host does not hold it. A PATH whose session lost its\n"
		"registration is registered again while this host's key holds the LU.\n"
		"  --lba N        first block\n"
		"  --count N      number of blocks (default 1)\n"
		"  --via INDEX    use path INDEX (1-based) only; default: the device chooses\n"
		"  --out FILE     write the data to FILE; default: a hex dump on stdout\n"
		"  --unprotected  read without checking the reservation\n");
}

static void write_usage(FILE *f)
{
	fprintf(f,
		"Usage: prpath write --lba N [--count N] [--via INDEX] (--pattern BYTE | --in FILE) [--unprotected] PATH...\n"
		"\n"
		"Writes blocks as the holder of the LU (an earlier acquire or takeover). Exit\n"
		"status 24 when this host does not hold the LU, another host does, or this\n"
		"host has been fenced. A PATH whose session lost its registration is\n"
		"registered again while this host's key holds the LU.\n"
		"  --lba N          first block\n"
		"  --count N        number of blocks (default 1, or the size of --in)\n"
		"  --via INDEX      use path INDEX (1-based) only; default: the device chooses\n"
		"  --pattern BYTE   fill every byte with BYTE\n"
		"  --in FILE        the data, count x block size bytes\n"
		"  --unprotected    write without checking the reservation (no PR commands)\n");
}

static int read_file_all(const char *path, uint8_t **buf, size_t *len)
{
	struct stat sb;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return S_ISDIR(sb.st_mode) ? -EISDIR : -EFTYPE_NOT_REGULAR;
	}
	if (sb.st_size > (off_t)IO_MAX_BYTES) {
		close(fd);
		return -EFBIG;
	}
	*len = (size_t)sb.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < *len) {
		ssize_t r = read(fd, *buf + off, *len - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? -errno : -EIO;

			free(*buf);
			close(fd);
			return e;
		}
		off += (size_t)r;
	}
	close(fd);
	return 0;
}

/* Opens --out before the device is touched, so that a path we cannot
 * write to is a usage error that sends nothing. *created tells whether the
 * file is new (removed again when the read fails). */
static int out_open(const char *path, bool *created)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Writes the data into the --out file opened by out_open() (replacing a
 * regular file's contents) and closes it. */
static int write_file_all(int fd, const uint8_t *buf, size_t len)
{
	struct stat sb;
	size_t off = 0;

	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && ftruncate(fd, 0) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = -errno;

			close(fd);
			return e;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		return -errno;
	return 0;
}

/* A failed read leaves no new --out file behind. */
static void out_discard(const char *path, int *fd, bool created)
{
	if (*fd < 0)
		return;
	close(*fd);
	*fd = -1;
	if (created)
		unlink(path);
}

static void hexdump(const uint8_t *b, size_t len, uint64_t base)
{
	size_t i, j;

	for (i = 0; i < len; i += 16) {
		bool same = i >= 16 && i + 16 <= len && memcmp(b + i, b + i - 16, 16) == 0;

		if (same) {
			/* collapse repeated lines like od */
			size_t k = i;

			while (k + 16 <= len && memcmp(b + k, b + i - 16, 16) == 0)
				k += 16;
			printf("*\n");
			i = k - 16;
			continue;
		}
		printf("%08" PRIx64 " ", base + i);
		for (j = 0; j < 16 && i + j < len; j++)
			printf(" %02x", b[i + j]);
		printf("  |");
		for (j = 0; j < 16 && i + j < len; j++)
			putchar(b[i + j] >= 0x20 && b[i + j] < 0x7f ? b[i + j] : '.');
		printf("|\n");
	}
	printf("%08" PRIx64 "\n", base + len);
}

/* "this host's key is not registered (fenced?) and the LU is reserved by
 * KEY (TYPE)" into @buf when that is the state of the LU (@st), else "". */
static const char *fenced_phrase(const struct prpath_dev_status *st, char *buf,
				 size_t cap)
{
	char ks[19];

	buf[0] = '\0';
	if (!st->device_valid || st->nkey_registrations || !st->reserved)
		return buf;
	out_key_str(st->holder_key, ks);
	snprintf(buf, cap, "this host's key is not registered (fenced?) and the LU is reserved by %s (%s)",
		 prpath_pr_type_all_registrants(st->holder_type) ? "all registrants" : ks,
		 prpath_pr_type_name(st->holder_type));
	return buf;
}

/* Why a write/read got a reservation conflict. */
static void explain_io_conflict(struct cli *c, struct hdev *h, const char *what, int err)
{
	struct prpath_dev_status st;
	char why[160];

	if (prpath_dev_status(h->dev, &st, NULL, 0) == 0 && st.device_valid) {
		if (fenced_phrase(&st, why, sizeof(why))[0])
			cli_err(c, "%s: reservation conflict: %s", what, why);
		else if (!st.nkey_registrations)
			cli_err(c, "%s: reservation conflict: this host's key is not registered", what);
		else
			cli_err(c, "%s: reservation conflict (%s)", what, prpath_strerror(err));
		return;
	}
	cli_err(c, "%s: %s", what, prpath_strerror(err));
}

static int do_io(struct cli *c, int argc, char **argv, bool write)
{
	static const struct option lo_read[] = {
		{ "lba", required_argument, NULL, OPT_LBA },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "via", required_argument, NULL, OPT_VIA },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "unprotected", no_argument, NULL, OPT_UNPROTECTED },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option lo_write[] = {
		{ "lba", required_argument, NULL, OPT_LBA },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "via", required_argument, NULL, OPT_VIA },
		{ "pattern", required_argument, NULL, OPT_PATTERN },
		{ "in", required_argument, NULL, OPT_IN },
		{ "unprotected", no_argument, NULL, OPT_UNPROTECTED },
		{ NULL, 0, NULL, 0 },
	};
	struct io_args a = { .count = 1, .pattern = -1 };
	struct cli_cmd_opts co = { "", write ? lo_write : lo_read, io_opt, &a,
				   write ? write_usage : read_usage };
	struct json_object *doc;
	uint8_t *buf = NULL, *file = NULL;
	size_t flen = 0, len;
	uint32_t bs;
	struct hdev h;
	bool out_created = false;
	int first, rc, via = -1, outfd = -1;

	rc = cli_parse(c, argc, argv, &co, &first);
	if (rc >= 0)
		return rc;
	if (!a.lba_set) {
		cli_err(c, "%s: --lba is required", c->cmd);
		return EXIT_USAGE;
	}
	if (write && (a.pattern >= 0) == (a.in != NULL)) {
		cli_err(c, "write: give exactly one of --pattern and --in");
		return EXIT_USAGE;
	}
	if (a.via > argc - first) {
		char v[16];

		snprintf(v, sizeof(v), "%d", a.via);
		return cli_bad_value(c, "--via", v, "is more than the number of PATHs");
	}
	if (write && a.in) {
		rc = read_file_all(a.in, &file, &flen);
		if (rc < 0) {
			cli_err(c, "write: --in %s: %s", a.in,
				rc == -EFTYPE_NOT_REGULAR ? "not a regular file" :
				prpath_strerror(rc));
			return EXIT_DEVICE;
		}
		if (flen == 0 || flen % 512) {
			cli_err(c, "write: --in %s: %zu bytes is not a whole number of blocks",
				a.in, flen);
			free(file);
			return EXIT_USAGE;
		}
	}
	if (!write && a.out) {
		outfd = out_open(a.out, &out_created);
		if (outfd < 0) {
			cli_err(c, "read: --out %s: %s", a.out, prpath_strerror(outfd));
			return EXIT_DEVICE;
		}
	}
	rc = hdev_setup(c, &h, argc - first, argv + first, false);
	if (rc) {
		free(file);
		out_discard(a.out, &outfd, out_created);
		return rc;
	}
	bs = prpath_dev_block_size(h.dev);
	if (file) {
		if (!a.count_set) {
			if (flen == 0 || flen % bs) {
				cli_err(c, "write: --in %s: %zu bytes is not a whole number of %u-byte blocks",
					a.in, flen, bs);
				rc = EXIT_USAGE;
				goto out;
			}
			a.count = (uint32_t)(flen / bs);
		} else if (flen != (size_t)a.count * bs) {
			cli_err(c, "write: --in %s: %zu bytes, but --count %u needs %zu",
				a.in, flen, a.count, (size_t)a.count * bs);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (a.lba >= prpath_dev_blocks(h.dev) ||
	    a.count > prpath_dev_blocks(h.dev) - a.lba) {
		cli_err(c, "%s: --lba %" PRIu64 " --count %u is beyond the end of the LU (%" PRIu64 " blocks)",
			c->cmd, a.lba, a.count, prpath_dev_blocks(h.dev));
		rc = EXIT_USAGE;
		goto out;
	}
	len = (size_t)a.count * bs;
	if (len > IO_MAX_BYTES) {
		cli_err(c, "%s: at most %u bytes per command", c->cmd, IO_MAX_BYTES);
		rc = EXIT_USAGE;
		goto out;
	}
	if (a.via) {
		via = h.dev_index[a.via - 1];
		if (via < 0) {
			cli_err(c, "%s: path %d (%s) could not be opened", c->cmd, a.via,
				argv[first + a.via - 1]);
			rc = EXIT_DEVICE;
			goto out;
		}
	}
	buf = malloc(len);
	if (!buf) {
		cli_err(c, "out of memory");
		rc = EXIT_DEVICE;
		goto out;
	}
	if (write) {
		if (file)
			memcpy(buf, file, len);
		else
			memset(buf, a.pattern, len);
	}
	/* only as the holder: the key registered and holding (or sharing)
	 * the reservation, unregistered paths registered under the "K
	 * present" rule; --unprotected skips every check */
	rc = prpath_dev_open(h.dev, a.unprotected ? PRPATH_MODE_NORESERVE
						  : PRPATH_MODE_ATTACH,
			     PRPATH_OPEN_RETAIN);
	if (rc == PRPATH_ERR_NOT_HOLDER || rc == PRPATH_ERR_RESERVED) {
		struct prpath_dev_status st;
		char why[160];

		if (rc != PRPATH_ERR_RESERVED ||
		    prpath_dev_status(h.dev, &st, NULL, 0) != 0 ||
		    !fenced_phrase(&st, why, sizeof(why))[0])
			snprintf(why, sizeof(why), "%s", rc == PRPATH_ERR_NOT_HOLDER
				 ? "this host does not hold the LU's reservation"
				 : "the LU is reserved by another host");
		cli_err(c, "%s: %s: nothing was %s (acquire the LU first, or --unprotected for I/O without a reservation)",
			c->cmd, why, write ? "written" : "read");
		rc = EXIT_CONFLICT;
		goto out;
	}
	if (rc == PRPATH_ERR_KEY_SHARED) {
		explain_key_shared(c, &h, write ? "nothing was written" : "nothing was read");
		rc = EXIT_CONFLICT;
		goto out;
	}
	if (rc) {
		cli_err(c, "%s: %s", c->cmd, prpath_strerror(rc));
		rc = cli_exit_code(rc);
		goto out;
	}
	rc = write ? prpath_dev_write(h.dev, a.lba, a.count, buf, via)
		   : prpath_dev_read(h.dev, a.lba, a.count, buf, via);
	prpath_dev_close(h.dev);
	if (rc) {
		if (rc == PRPATH_ERR_CONFLICT || rc == PRPATH_ERR_FENCED ||
		    rc == PRPATH_ERR_RESERVED)
			explain_io_conflict(c, &h, c->cmd, rc);
		else
			cli_err(c, "%s: %s", c->cmd, prpath_strerror(rc));
		rc = cli_exit_code(rc);
		goto out;
	}
	if (!write && a.out) {
		rc = write_file_all(outfd, buf, len);
		outfd = -1;
		if (rc < 0) {
			/* a file this read created goes again; one that existed
			 * was truncated and holds part of the data: said so */
			if (out_created)
				unlink(a.out);
			cli_err(c, "read: --out %s: %s (%s)", a.out, prpath_strerror(rc),
				out_created ? "the file was removed"
					    : "the file was there before and now holds part of the data at most");
			rc = EXIT_DEVICE;
			goto out;
		}
	}
	doc = out_doc(c->cmd);
	out_add_int(doc, "lba", (int64_t)a.lba);
	out_add_int(doc, "count", a.count);
	out_add_int(doc, "block_size", bs);
	if (a.via)
		out_add_int(doc, "via", a.via);
	else
		json_object_object_add(doc, "via", NULL);
	if (!write) {
		out_add_str(doc, "out", a.out);
		if (!a.out && c->output == OUT_JSON) {
			char *hex = malloc(len * 2 + 1);
			size_t i;

			if (hex) {
				for (i = 0; i < len; i++)
					snprintf(hex + 2 * i, 3, "%02x", buf[i]);
				out_add_str(doc, "data_hex", hex);
				free(hex);
			}
		}
	}
	if (c->output == OUT_JSON) {
		out_json(doc);
	} else {
		json_object_put(doc);
		if (write)
			printf("wrote %u block%s at lba %" PRIu64 "%s\n", a.count,
			       a.count == 1 ? "" : "s", a.lba, a.via ? " (pinned path)" : "");
		else if (a.out)
			printf("read %u block%s at lba %" PRIu64 " into %s\n", a.count,
			       a.count == 1 ? "" : "s", a.lba, a.out);
		else
			hexdump(buf, len, a.lba * bs);
	}
	rc = 0;
out:
	if (rc)
		out_discard(a.out, &outfd, out_created);
	else if (outfd >= 0)
		close(outfd);
	free(buf);
	free(file);
	hdev_free(&h);
	return rc;
}

int cmd_read(struct cli *c, int argc, char **argv)
{
	return do_io(c, argc, argv, false);
}

int cmd_write(struct cli *c, int argc, char **argv)
{
	return do_io(c, argc, argv, true);
}
