/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One path: one I_T nexus to a logical unit, for tools that send single
 * commands by hand (prpath pr in / pr out, sg_persist style) and for code
 * that must look at a LU without a multipath device. Commands go out
 * synchronously, one at a time; nothing is retried and no unit attention
 * is consumed here.
 *
 * Error convention as in prpath.h: 0, a negative errno (the path failed;
 * the command may or may not have reached the device), never a positive
 * SCSI outcome: a completed command returns 0 with its status and sense in
 * the prpath_io (prpath_io_result() maps them).
 */
#ifndef PRPATH_PATH_H
#define PRPATH_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <prpath/lu.h>

#ifdef __cplusplus
extern "C" {
#endif

struct prpath_path;

/* One command and, after prpath_path_execute() returned 0, its outcome. */
struct prpath_io {
	uint8_t cdb[16];
	size_t cdb_len;
	const void *dout;          /* data to the device */
	size_t dout_len;
	void *din;                 /* data from the device */
	size_t din_cap;
	unsigned timeout_ms;       /* 0: the path's timeout */
	/* results */
	size_t din_len;            /* never above din_cap */
	uint8_t status;
	uint8_t sense[PRPATH_SENSE_MAX];
	size_t sense_len;          /* never above PRPATH_SENSE_MAX */
};

/* prpath_path_open() flags */
/* Log in on this host's observer port (iSCSI: an ISID of its own) rather
 * than the port that carries its registrations: looking never ends
 * (reinstates) a session of this host that carries I/O. */
#define PRPATH_PATH_OBSERVER 0x1u

/* Opens @url (iscsi://[USER%SECRET@]HOST[:PORT]/TARGET-IQN/LUN, sg:/dev/sgN
 * or /dev/sdX) as @initiator. The iSCSI initiator port comes from what the
 * path is (initiator, portal, target, observer or not): the same path
 * always presents the same port, as in a multipath device. @timeout_ms
 * bounds the login and, by default, every command (0: 30 s). Returns 0, or
 * a negative errno with the reason in @why (a user-facing sentence; NULL
 * ok): -EINVAL for a URL or name that is wrong, others for a path that
 * cannot be reached or logged in. */
int prpath_path_open(const char *url, const char *initiator, unsigned flags,
		     unsigned timeout_ms, struct prpath_path **out,
		     char *why, size_t why_cap);
/* Sends one command: 0 (completed: see io->status / sense) or a negative
 * errno (the path failed). */
int prpath_path_execute(struct prpath_path *path, struct prpath_io *io);
/* "iscsi://127.0.0.1:3260/iqn.../0" (secrets never shown). */
const char *prpath_path_describe(const struct prpath_path *path);
/* The initiator port name that carries this host's registrations on this
 * path ("<iqn>,i,0x<ISID>"), also for an observer path; NULL when the
 * transport has none (sg). */
const char *prpath_path_port_name(const struct prpath_path *path);
void prpath_path_close(struct prpath_path *path); /* NULL ok */

/* The outcome of a completed command in the error convention: 0 for GOOD,
 * else the prpath_err category of its status and sense. */
int prpath_io_result(const struct prpath_io *io);

/* Typed commands, built and checked with the codec (scsi.h). These return
 * the whole error convention: 0, a negative errno (transport), or a
 * positive prpath_err for the SCSI outcome (PRPATH_ERR_CONFLICT ...). */
/* PERSISTENT RESERVE IN @sa (PRPATH_PR_IN_*) into @buf, the whole reply
 * (up to 65535 bytes, the most one command returns); *@len = its length. */
int prpath_path_pr_in(struct prpath_path *path, unsigned sa, void *buf,
		      size_t cap, size_t *len);
/* PERSISTENT RESERVE OUT @sa (PRPATH_PR_OUT_*, not REGISTER AND MOVE) with
 * a basic parameter list: RESERVATION KEY @rk, SERVICE ACTION RESERVATION
 * KEY @sark, APTPL @aptpl. */
int prpath_path_pr_out(struct prpath_path *path, unsigned sa, unsigned type,
		       uint64_t rk, uint64_t sark, bool aptpl);
/* INQUIRY VPD 0x83 of the LU behind the path: its identifier (hex, as
 * prpath_dev_lu_id() gives it) and the relative target port the path
 * arrives on (-1 when the device does not say). */
int prpath_path_identity(struct prpath_path *path, char *lu_id, size_t cap,
			 int *rel_tgt_port);

/* ---- paths to an in-process device server (demos, tests) ----------------- */

/* A path to @lu (lu.h) in this process: the nexus (@port_name, the
 * initiator port "<iqn>,i,0x<ISID>", and @rel_tgt_port). Commands reach the
 * device server through its task set as over a network, with the faults
 * below. Returns 0 or a negative errno. */
int prpath_path_open_lu(struct prpath_lu *lu, const char *port_name,
			uint16_t rel_tgt_port, struct prpath_path **out);
/* Faults, on in-process paths only (-ENOTSUP for others):
 * down: commands fail with -ENOTCONN at once and reconnects fail (the
 *       nexus is lost) until set up again;
 * latency: added to every command, in microseconds (queued in the task set
 *       first, so a PREEMPT AND ABORT meanwhile aborts it);
 * pause / resume: commands are queued and held before execution (a host
 *       that stalls with I/O in flight); wait_held blocks until @n are held
 *       (0, or -ETIMEDOUT after @timeout_ms). */
int prpath_path_set_down(struct prpath_path *path, bool down);
int prpath_path_set_latency(struct prpath_path *path, unsigned usec);
int prpath_path_pause(struct prpath_path *path);
int prpath_path_resume(struct prpath_path *path);
int prpath_path_wait_held(struct prpath_path *path, unsigned n,
			  unsigned timeout_ms);

/* The initiator port name ("<iqn>,i,0x<ISID>") an iSCSI path of
 * @initiator to @portal ("host:port") and @target presents (flags:
 * PRPATH_PATH_OBSERVER), so that in-process paths can stand in for iSCSI
 * ones. 0 or -EINVAL. */
int prpath_iscsi_port_name(const char *initiator, const char *portal,
			   const char *target, unsigned flags, char *out,
			   size_t cap);

/* ---- URLs and names ------------------------------------------------------ */

/* Checks a PATH's syntax without opening it: 0, or -EINVAL with the
 * reason in @why. */
int prpath_url_check(const char *url, char *why, size_t cap);
/* Whether two URLs name the same path (one nexus): the same transport and
 * target, iSCSI portals compared as addresses. */
bool prpath_url_same_path(const char *a, const char *b);
/* Replaces a CHAP secret in @url (iscsi://USER%SECRET@...) by "***", in
 * place. Returns whether there was one. */
bool prpath_url_redact(char *url);
/* Whether @name can be sent as an iSCSI name: 1 to 223 printable
 * characters without spaces or commas. 0 or -EINVAL. (The iqn./eui./naa.
 * forms of RFC 3720 are not checked: targets differ in what they accept.) */
int prpath_iscsi_name_check(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* PRPATH_PATH_H */
