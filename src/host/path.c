/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The public single-path handle (include/prpath/path.h): a thin door onto
 * the transports, so that tools outside the library send commands by hand
 * without the library's internal headers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <prpath/path.h>
#include <prpath/prpath.h>
#include <prpath/scsi.h>

#include "host/iscsi.h"
#include "host/path_int.h"
#include "host/sim.h"
#include "host/transport.h"
#include "host/url.h"

struct prpath_path {
	struct pp_conn *conn;
};

struct pp_conn *pp_path_conn(struct prpath_path *p)
{
	return p ? p->conn : NULL;
}

void pp_path_forget(struct prpath_path *p)
{
	free(p);
}

int prpath_path_open_lu(struct prpath_lu *lu, const char *port_name,
			uint16_t rel_tgt_port, struct prpath_path **out)
{
	struct pp_sim_path *sp;
	struct prpath_path *p;
	int rc;

	if (!lu || !port_name || !out)
		return -EINVAL;
	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = pp_sim_open(lu, port_name, rel_tgt_port, &sp);
	if (rc) {
		free(p);
		return rc < 0 ? rc : -EIO;
	}
	p->conn = pp_sim_conn(sp);
	*out = p;
	return 0;
}

static struct pp_sim_path *sim_of(struct prpath_path *p)
{
	return p ? pp_sim_from_conn(p->conn) : NULL;
}

int prpath_path_set_down(struct prpath_path *p, bool down)
{
	struct pp_sim_path *s = sim_of(p);

	if (!s)
		return p ? -ENOTSUP : -EINVAL;
	pp_sim_set_down(s, down);
	return 0;
}

int prpath_path_set_latency(struct prpath_path *p, unsigned usec)
{
	struct pp_sim_path *s = sim_of(p);

	if (!s)
		return p ? -ENOTSUP : -EINVAL;
	pp_sim_set_latency(s, usec);
	return 0;
}

int prpath_path_pause(struct prpath_path *p)
{
	struct pp_sim_path *s = sim_of(p);

	if (!s)
		return p ? -ENOTSUP : -EINVAL;
	pp_sim_pause(s);
	return 0;
}

int prpath_path_resume(struct prpath_path *p)
{
	struct pp_sim_path *s = sim_of(p);

	if (!s)
		return p ? -ENOTSUP : -EINVAL;
	pp_sim_resume(s);
	return 0;
}

int prpath_path_wait_held(struct prpath_path *p, unsigned n, unsigned timeout_ms)
{
	struct pp_sim_path *s = sim_of(p);

	if (!s)
		return p ? -ENOTSUP : -EINVAL;
	return pp_sim_wait_held(s, n, timeout_ms);
}

int prpath_iscsi_port_name(const char *initiator, const char *portal,
			   const char *target, unsigned flags, char *out, size_t cap)
{
	char isid[13];
	int rc;

	if (!initiator || !portal || !target || !out || !cap ||
	    (flags & ~PRPATH_PATH_OBSERVER))
		return -EINVAL;
	rc = pp_iscsi_isid_for(initiator, portal, target,
			       (flags & PRPATH_PATH_OBSERVER) ? PP_ISCSI_ROLE_OBSERVER
							      : PP_ISCSI_ROLE_IO, isid);
	if (rc)
		return rc;
	if ((size_t)snprintf(out, cap, "%s,i,0x%s", initiator, isid) >= cap)
		return -EINVAL;
	return 0;
}

int prpath_path_open(const char *url, const char *initiator, unsigned flags,
		     unsigned timeout_ms, struct prpath_path **out,
		     char *why, size_t why_cap)
{
	struct prpath_path *p;
	int rc;

	if (why && why_cap)
		why[0] = '\0';
	if (!url || !initiator || !out || (flags & ~PRPATH_PATH_OBSERVER))
		return -EINVAL;
	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = pp_conn_open_url(url, initiator,
			      (flags & PRPATH_PATH_OBSERVER) ? PP_ISCSI_ROLE_OBSERVER
							     : PP_ISCSI_ROLE_IO,
			      timeout_ms, &p->conn);
	if (rc < 0) {
		const char *t = pp_transport_last_error();

		if (why && why_cap)
			snprintf(why, why_cap, "%s", t && *t ? t : prpath_strerror(rc));
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int pp_io_from_public(struct pp_io *in, const struct prpath_io *io,
		      unsigned timeout_ms)
{
	if (!io || io->cdb_len == 0 || io->cdb_len > sizeof(io->cdb) ||
	    (io->dout_len && !io->dout) || (io->din_cap && !io->din))
		return -EINVAL;
	memset(in, 0, sizeof(*in));
	memcpy(in->cdb, io->cdb, io->cdb_len);
	in->cdb_len = io->cdb_len;
	in->dout = io->dout;
	in->dout_len = io->dout_len;
	in->din = io->din;
	in->din_cap = io->din_cap;
	in->timeout_ms = io->timeout_ms ? io->timeout_ms : timeout_ms;
	return 0;
}

void pp_io_to_public(struct prpath_io *io, const struct pp_io *in, int rc)
{
	io->din_len = 0;
	io->status = 0;
	io->sense_len = 0;
	if (rc < 0)
		return;
	io->din_len = in->din_len > io->din_cap ? io->din_cap : in->din_len;
	io->status = in->status;
	io->sense_len = in->sense_len > sizeof(io->sense) ? sizeof(io->sense)
							  : in->sense_len;
	memcpy(io->sense, in->sense, io->sense_len);
}

int prpath_path_execute(struct prpath_path *p, struct prpath_io *io)
{
	struct pp_io in;
	int rc;

	if (!p)
		return -EINVAL;
	rc = pp_io_from_public(&in, io, 0);
	if (rc)
		return rc;
	rc = pp_execute(p->conn, &in);
	pp_io_to_public(io, &in, rc);
	return rc < 0 ? rc : 0;
}

const char *prpath_path_describe(const struct prpath_path *p)
{
	const char *d;

	if (!p)
		return "";
	d = p->conn->ops->describe ? p->conn->ops->describe(p->conn) : NULL;
	return d ? d : p->conn->ops->name;
}

const char *prpath_path_port_name(const struct prpath_path *p)
{
	if (!p || !p->conn->ops->port_name)
		return NULL;
	return p->conn->ops->port_name(p->conn);
}

void prpath_path_close(struct prpath_path *p)
{
	if (!p)
		return;
	if (p->conn && p->conn->ops->close)
		p->conn->ops->close(p->conn);
	free(p);
}

int prpath_io_result(const struct prpath_io *io)
{
	struct prpath_sense s;

	if (!io)
		return -EINVAL;
	return prpath_err_from_sense_cat(prpath_sense_classify(io->status, io->sense,
							       io->sense_len, &s));
}

int prpath_url_check(const char *url, char *why, size_t cap)
{
	int rc;

	if (!url)
		return -EINVAL;
	rc = pp_url_check(url, why, cap);
	return rc < 0 ? rc : 0;
}

bool prpath_url_same_path(const char *a, const char *b)
{
	return a && b && pp_url_same_path(a, b);
}

bool prpath_url_redact(char *url)
{
	return url && pp_url_redact(url);
}

int prpath_iscsi_name_check(const char *name)
{
	return name ? pp_iscsi_name_check(name) : -EINVAL;
}

/* ---- typed commands ------------------------------------------------------ */

static int typed(struct prpath_path *p, struct prpath_io *io)
{
	int rc = prpath_path_execute(p, io);

	return rc < 0 ? rc : prpath_io_result(io);
}

int prpath_path_pr_in(struct prpath_path *p, unsigned sa, void *buf, size_t cap,
		      size_t *len)
{
	struct prpath_io io;
	int rc;

	if (!p || !buf || !len)
		return -EINVAL;
	*len = 0;
	memset(&io, 0, sizeof(io));
	rc = prpath_cdb_pr_in(io.cdb, sizeof(io.cdb), sa,
			      (uint16_t)(cap > 65535 ? 65535 : cap));
	if (rc < 0)
		return rc;
	io.cdb_len = (size_t)rc;
	io.din = buf;
	io.din_cap = cap > 65535 ? 65535 : cap;
	rc = typed(p, &io);
	if (rc == 0)
		*len = io.din_len;
	return rc;
}

int prpath_path_pr_out(struct prpath_path *p, unsigned sa, unsigned type,
		       uint64_t rk, uint64_t sark, bool aptpl)
{
	struct prpath_prout_params prm = { .rk = rk, .sark = sark, .aptpl = aptpl };
	uint8_t param[24];
	struct prpath_io io;
	int n;

	if (!p || sa == PRPATH_PR_OUT_REGISTER_AND_MOVE)
		return -EINVAL;
	memset(&io, 0, sizeof(io));
	n = pp_prout_build(sa, type, &prm, io.cdb, &io.cdb_len, param, sizeof(param));
	if (n < 0)
		return n;
	io.dout = param;
	io.dout_len = (size_t)n;
	return typed(p, &io);
}

int pp_prout_build(unsigned sa, unsigned type, const struct prpath_prout_params *prm,
		   uint8_t *cdb, size_t *cdb_len, uint8_t *param, size_t cap)
{
	int n, rc;

	n = prpath_prout_params_encode(prm, param, cap);
	if (n < 0)
		return n;
	rc = prpath_cdb_pr_out(cdb, 16, sa, 0, type, (uint32_t)n);
	if (rc < 0)
		return rc;
	*cdb_len = (size_t)rc;
	return n;
}

int prpath_path_identity(struct prpath_path *p, char *lu_id, size_t cap,
			 int *rel_tgt_port)
{
	uint8_t buf[1024];
	struct prpath_io io;
	uint16_t rtp;
	int rc;

	if (!p || !lu_id || !cap)
		return -EINVAL;
	lu_id[0] = '\0';
	if (rel_tgt_port)
		*rel_tgt_port = -1;
	memset(&io, 0, sizeof(io));
	rc = prpath_cdb_inquiry(io.cdb, sizeof(io.cdb), true, 0x83, sizeof(buf));
	if (rc < 0)
		return rc;
	io.cdb_len = (size_t)rc;
	io.din = buf;
	io.din_cap = sizeof(buf);
	rc = typed(p, &io);
	if (rc)
		return rc;
	if (prpath_vpd83_lu_id(buf, io.din_len, lu_id, cap) < 0)
		return PRPATH_ERR_BAD_RESPONSE;
	if (rel_tgt_port && prpath_vpd83_rel_tgt_port(buf, io.din_len, &rtp) == 0)
		*rel_tgt_port = rtp;
	return 0;
}
