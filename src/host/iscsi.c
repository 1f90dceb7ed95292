/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iSCSI transport on libiscsi: one iscsi_context (one session, one
 * connection) per I_T nexus, shared by the paths of every LUN this process
 * reaches through that nexus.
 *
 * Sharing: a real initiator logs in once per (initiator port, target port)
 * and addresses LUNs inside the session; two logins with one ISID would
 * reinstate (end) each other's session. So the paths of one process that
 * name the same initiator name, portal, target, role and credentials use
 * one session, counted by reference. Commands of its LUNs are in flight on
 * it together (struct isc_sess).
 * Each path remembers the login it has seen (a generation): when another
 * LUN's path logged in again, this path's next command fails with
 * -ECONNRESET once, so its owner treats it as a path that failed and came
 * back (reconnect() adopts the new login, then the owner checks the
 * registration before any I/O: registrations may be gone with the old
 * session, as on tgt).
 *
 * libiscsi's own synchronous helpers wait without a deadline and its
 * full_connect consumes unit attentions with TEST UNIT READY, which would
 * hide 2A/05 REGISTRATIONS PREEMPTED from the multipath device. So this file
 * drives the asynchronous API with its own poll loop and deadline: TCP
 * connect, login, and every command are bounded. Automatic reconnection is
 * off: a broken session makes commands fail (-ECONNRESET, then -ENOTCONN)
 * until the multipath device calls reconnect, which logs in again with the
 * same ISID.
 *
 * A command that times out is cancelled locally and the session is dropped
 * (a real initiator would escalate to task management and session
 * recovery): the outcome of that command on the target is unknown.
 *
 * CHAP: credentials come from the URL (iscsi://USER%SECRET@HOST/...) or,
 * when the URL has none, from the environment: PRPATH_CHAP_USER and
 * PRPATH_CHAP_SECRET (one-way), plus PRPATH_CHAP_MUTUAL_USER and
 * PRPATH_CHAP_MUTUAL_SECRET (the target's name and secret, mutual CHAP).
 * The secrets are never part of a description, trace or error text.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

/* libiscsi's SCSI_STATUS_* here; prpath's carry the PRPATH_ prefix */
#include "host/iscsi.h"
#include "host/url.h"

/* One login: one I_T nexus, shared by the paths of several LUNs. */
struct isc_sess {
	struct isc_sess *next;     /* in sessions (reg_lock) */
	unsigned refs;             /* reg_lock */
	/* identity (fixed) */
	struct pp_iscsi_url url;   /* host, port, target (lun and secret unused) */
	char iqn[PP_ISCSI_NAME_MAX + 1];
	unsigned role;
	uint32_t isid_rnd, isid_qual;
	unsigned timeout_ms;       /* login (the first path's timeout) */
	/* CHAP ("" = not used) */
	char chap_user[PP_CHAP_FIELD_MAX + 1];
	char chap_secret[PP_CHAP_FIELD_MAX + 1];
	char chap_mutual_user[PP_CHAP_FIELD_MAX + 1];
	char chap_mutual_secret[PP_CHAP_FIELD_MAX + 1];

	/* Commands of every LUN of the session are in flight together: each
	 * submits its task under the lock, then one of them at a time (the
	 * servicer) polls the socket without the lock and runs libiscsi's
	 * callbacks with it; the others wait on cv for their task or for
	 * their turn to service. A submitter kicks the servicer's poll so it
	 * sends the new PDU at once. A login holds the lock throughout. */
	pthread_mutex_t lock;      /* the context, the fields below */
	pthread_cond_t cv;         /* a task completed, or servicing is free */
	bool servicing;
	int kick[2];               /* pipe: wakes the servicer's poll */
	struct iscsi_context *ctx; /* NULL while disconnected */
	unsigned gen;              /* successful logins so far */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct isc_sess *sessions;

struct pp_iscsi_conn {
	struct pp_conn conn; /* first */
	struct isc_sess *s;
	unsigned lun;
	unsigned gen;        /* the login this path has seen (s->lock) */
	char isid[13];
	char port_name[PP_ISCSI_PORT_NAME_MAX];    /* logged in as */
	char io_port_name[PP_ISCSI_PORT_NAME_MAX]; /* carries registrations */
	char desc[PP_URL_HOST_MAX + PP_ISCSI_NAME_MAX + 48];
	unsigned timeout_ms; /* commands */
};

static const struct pp_transport_ops iscsi_ops;

/* ---- the event loop ----------------------------------------------------- */

struct isc_wait {
	bool done;
	int status;
};

static void isc_cb(struct iscsi_context *ctx, int status, void *command_data,
		   void *private_data)
{
	struct isc_wait *w = private_data;

	(void)ctx;
	(void)command_data;
	if (w) {
		w->status = status;
		w->done = true;
	}
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000L +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000L;
}

/* Services @ctx until @w completes. 0, -ETIMEDOUT, or -ECONNRESET when the
 * connection failed (then @w may not have completed). */
static int isc_loop(struct iscsi_context *ctx, struct isc_wait *w,
		    const struct timespec *deadline)
{
	while (!w->done) {
		struct pollfd pfd;
		long left = ms_left(deadline);
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (left > 1000)
			left = 1000;
		pfd.fd = iscsi_get_fd(ctx);
		pfd.events = (short)iscsi_which_events(ctx);
		pfd.revents = 0;
		if (pfd.fd < 0 || pfd.events == 0) {
			/* nothing to wait for: let libiscsi run its timers */
			poll(NULL, 0, left < 100 ? (int)left : 100);
			if (iscsi_service(ctx, 0) < 0)
				return -ECONNRESET;
			continue;
		}
		n = poll(&pfd, 1, (int)left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (iscsi_service(ctx, n > 0 ? pfd.revents : 0) < 0)
			return -ECONNRESET;
	}
	return 0;
}

/* ---- login -------------------------------------------------------------- */

/* Ends the session's connection: every command in flight on it completes
 * at once as cancelled (its owner sees -ECONNRESET). (s->lock held) */
static void isc_drop(struct isc_sess *s)
{
	if (s->ctx) {
		iscsi_scsi_cancel_all_tasks(s->ctx);
		iscsi_destroy_context(s->ctx);
		s->ctx = NULL;
		pthread_cond_broadcast(&s->cv);
	}
}

/* The same, unless the session logged in again since @ctx was current. */
static void isc_drop_ctx(struct isc_sess *s, struct iscsi_context *ctx)
{
	if (s->ctx == ctx)
		isc_drop(s);
}

static void kick(struct isc_sess *s)
{
	if (write(s->kick[1], "", 1) < 0 && errno != EAGAIN)
		return; /* the servicer's poll ends within a second anyway */
}

/* Waits until @w is done, servicing the session's connection in turns
 * with the other commands waiting. Returns 0 (done), -ETIMEDOUT, or
 * -ECONNRESET when the connection went away without completing @w.
 * (s->lock held; released while polling or waiting) */
static int sess_wait(struct isc_sess *s, struct iscsi_context *ctx,
		     struct isc_wait *w, const struct timespec *deadline)
{
	while (!w->done) {
		struct pollfd pfd[2];
		long left = ms_left(deadline);
		char drain[64];
		int n, ev;

		if (left <= 0)
			return -ETIMEDOUT;
		if (s->ctx != ctx)
			return -ECONNRESET;
		if (s->servicing) {
			pthread_cond_timedwait(&s->cv, &s->lock, deadline);
			continue;
		}
		s->servicing = true;
		pfd[0].fd = iscsi_get_fd(ctx);
		ev = iscsi_which_events(ctx);
		pfd[0].events = (short)ev;
		pfd[0].revents = 0;
		pfd[1].fd = s->kick[0];
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		if (left > 1000)
			left = 1000;
		if (pfd[0].fd < 0 || ev == 0) {
			/* nothing to wait for: let libiscsi run its timers */
			pfd[0].fd = -1;
			if (left > 100)
				left = 100;
		}
		pthread_mutex_unlock(&s->lock);
		n = poll(pfd, 2, (int)left);
		pthread_mutex_lock(&s->lock);
		while (read(s->kick[0], drain, sizeof(drain)) > 0)
			;
		if (s->ctx == ctx && (n >= 0 || errno == EINTR) &&
		    iscsi_service(ctx, n > 0 && pfd[0].fd >= 0 ? pfd[0].revents : 0) < 0)
			isc_drop(s);
		s->servicing = false;
		pthread_cond_broadcast(&s->cv);
	}
	return 0;
}

/* Creates a context with the session's identity, connects and logs in;
 * errors name the path @desc that asked. Sets the thread's transport error
 * on failure. (s->lock held) */
static int isc_login(struct isc_sess *s, const char *desc)
{
	struct iscsi_context *ctx;
	struct isc_wait w = { 0 };
	struct timespec deadline;
	unsigned secs;
	int rc;

	isc_drop(s);
	ctx = iscsi_create_context(s->iqn);
	if (!ctx) {
		pp_transport_set_error("%s: cannot create an iSCSI context", desc);
		return -ENOMEM;
	}
	secs = (s->timeout_ms + 999) / 1000;
	if (iscsi_set_isid_random(ctx, s->isid_rnd, s->isid_qual) ||
	    iscsi_set_targetname(ctx, s->url.target) ||
	    iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL) ||
	    iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE_CRC32C) ||
	    iscsi_set_timeout(ctx, (int)secs)) {
		pp_transport_set_error("%s: %s", desc, iscsi_get_error(ctx));
		iscsi_destroy_context(ctx);
		return -EINVAL;
	}
	if (s->chap_user[0] &&
	    iscsi_set_initiator_username_pwd(ctx, s->chap_user, s->chap_secret)) {
		pp_transport_set_error("%s: cannot set the CHAP credentials", desc);
		iscsi_destroy_context(ctx);
		return -EINVAL;
	}
	if (s->chap_mutual_user[0] &&
	    iscsi_set_target_username_pwd(ctx, s->chap_mutual_user,
					  s->chap_mutual_secret)) {
		pp_transport_set_error("%s: cannot set the mutual CHAP credentials",
				       desc);
		iscsi_destroy_context(ctx);
		return -EINVAL;
	}
	iscsi_set_noautoreconnect(ctx, 1);
	deadline_in(&deadline, s->timeout_ms);

	if (iscsi_connect_async(ctx, s->url.portal, isc_cb, &w) != 0) {
		pp_transport_set_error("%s: connect: %s", desc,
				       iscsi_get_error(ctx));
		iscsi_destroy_context(ctx);
		return -ECONNREFUSED;
	}
	rc = isc_loop(ctx, &w, &deadline);
	if (rc == -ETIMEDOUT) {
		pp_transport_set_error("%s: connect to %s timed out", desc,
				       s->url.portal);
		iscsi_destroy_context(ctx);
		return rc;
	}
	if (rc < 0 || w.status != SCSI_STATUS_GOOD) {
		/* libiscsi's text here is about its reconnect logic, not
		 * the cause */
		pp_transport_set_error("%s: cannot connect to %s (connection refused or unreachable)",
				       desc, s->url.portal);
		iscsi_destroy_context(ctx);
		return -ECONNREFUSED;
	}

	memset(&w, 0, sizeof(w));
	if (iscsi_login_async(ctx, isc_cb, &w) != 0) {
		pp_transport_set_error("%s: login: %s", desc,
				       iscsi_get_error(ctx));
		iscsi_destroy_context(ctx);
		return -EACCES;
	}
	rc = isc_loop(ctx, &w, &deadline);
	if (rc == -ETIMEDOUT) {
		pp_transport_set_error("%s: login timed out (no answer from %s within %u s)",
				       desc, s->url.portal, secs);
		iscsi_destroy_context(ctx);
		return rc;
	}
	if (rc < 0 || w.status != SCSI_STATUS_GOOD) {
		const char *e = iscsi_get_error(ctx);

		if (e && strstr(e, "timed out")) {
			/* libiscsi's own timeout fired first: nothing
			 * answered, nothing was refused */
			pp_transport_set_error("%s: login timed out (no answer from %s within %u s)",
					       desc, s->url.portal, secs);
			iscsi_destroy_context(ctx);
			return -ETIMEDOUT;
		}
		if (e && strstr(e, "Invalid CHAP_R response from the target"))
			pp_transport_set_error("%s: login refused by this host: the target failed mutual CHAP (its answer does not match PRPATH_CHAP_MUTUAL_USER/PRPATH_CHAP_MUTUAL_SECRET)",
					       desc);
		else if (e && strstr(e, "Authorization failure"))
			/* 02/02: no credential would help */
			pp_transport_set_error("%s: login refused: the target does not allow initiator %s (not on its access list)",
					       desc, s->iqn);
		else if (e && strstr(e, "Authentication failure"))
			/* 02/01 after CHAP cannot tell a wrong secret from a
			 * missing mutual CHAP: say what applies */
			pp_transport_set_error("%s: login refused: %s", desc,
					       !s->chap_user[0] ?
					       "the target requires CHAP (set PRPATH_CHAP_USER and PRPATH_CHAP_SECRET)" :
					       s->chap_mutual_user[0] ?
					       "CHAP authentication failed (wrong user or secret, or the target's mutual CHAP credentials differ)" :
					       "CHAP authentication failed: wrong user or secret, or the target requires mutual CHAP (set PRPATH_CHAP_MUTUAL_USER and PRPATH_CHAP_MUTUAL_SECRET)");
		else
			pp_transport_set_error("%s: login refused: %s", desc,
					       e ? e : "?");
		iscsi_destroy_context(ctx);
		return -EACCES;
	}
	s->ctx = ctx;
	s->gen++;
	return 0;
}

/* ---- commands ----------------------------------------------------------- */

static void copy_sense(struct pp_io *io, struct scsi_task *task)
{
	size_t slen = 0;

	/* libiscsi keeps the raw data segment: 2-byte SenseLength, then the
	 * sense bytes (RFC 7143 11.4.7.2). */
	if (task->datain.data && task->datain.size >= 2) {
		slen = (size_t)task->datain.data[0] << 8 | task->datain.data[1];
		if (slen + 2 > (size_t)task->datain.size)
			slen = 0;
	}
	if (slen) {
		if (slen > sizeof(io->sense))
			slen = sizeof(io->sense);
		memcpy(io->sense, task->datain.data + 2, slen);
		io->sense_len = slen;
		return;
	}
	/* rebuild fixed-format sense from libiscsi's parsed copy */
	memset(io->sense, 0, 18);
	io->sense[0] = 0x70;
	io->sense[2] = (uint8_t)(task->sense.key & 0x0f);
	io->sense[7] = 10;
	io->sense[12] = (uint8_t)(task->sense.ascq >> 8);
	io->sense[13] = (uint8_t)task->sense.ascq;
	io->sense_len = 18;
}

/* Runs @io on LUN @c->lun of @c's session. (s->lock held) */
static int isc_execute_locked(struct pp_iscsi_conn *c, struct pp_io *io)
{
	struct scsi_task *task;
	struct iscsi_data dout, *pdout = NULL;
	struct isc_wait w = { 0 };
	struct timespec deadline;
	unsigned char cdb[16];
	int dir = SCSI_XFER_NONE;
	size_t xfer = 0;
	struct isc_sess *s = c->s;
	struct iscsi_context *ctx;
	int rc;

	if (!s->ctx)
		return -ENOTCONN;
	if (c->gen != s->gen)
		/* another LUN's path logged this nexus in again: to this
		 * path it failed and came back (see the top of the file) */
		return -ECONNRESET;
	if (io->dout && io->dout_len) {
		if (io->din && io->din_cap)
			return -EINVAL; /* bidirectional: not supported */
		dir = SCSI_XFER_WRITE;
		xfer = io->dout_len;
		dout.size = io->dout_len;
		dout.data = (unsigned char *)(uintptr_t)io->dout;
		pdout = &dout;
	} else if (io->din && io->din_cap) {
		dir = SCSI_XFER_READ;
		xfer = io->din_cap;
	}
	if (xfer > 0x7fffffff)
		return -EINVAL;

	memcpy(cdb, io->cdb, io->cdb_len);
	task = scsi_create_task((int)io->cdb_len, cdb, dir, (int)xfer);
	if (!task)
		return -ENOMEM;
	ctx = s->ctx;
	if (iscsi_scsi_command_async(ctx, (int)c->lun, task, isc_cb,
				     pdout, &w) != 0) {
		scsi_free_scsi_task(task);
		isc_drop(s);
		return -ECONNRESET;
	}
	kick(s);
	deadline_in(&deadline, io->timeout_ms ? io->timeout_ms : c->timeout_ms);
	rc = sess_wait(s, ctx, &w, &deadline);
	if (rc < 0 || !w.done) {
		/* Cancelling calls isc_cb on our frame; then the session
		 * goes: the command's outcome is unknown. */
		if (!w.done && s->ctx == ctx)
			iscsi_scsi_cancel_task(ctx, task);
		isc_drop_ctx(s, ctx);
		scsi_free_scsi_task(task);
		return rc < 0 ? rc : -ECONNRESET;
	}

	switch (w.status) {
	case SCSI_STATUS_CANCELLED:
	case SCSI_STATUS_ERROR:
		rc = -ECONNRESET;
		isc_drop_ctx(s, ctx);
		break;
	case SCSI_STATUS_TIMEOUT:
		rc = -ETIMEDOUT;
		isc_drop_ctx(s, ctx);
		break;
	case SCSI_STATUS_REDIRECT:
		rc = -EREMOTEIO;
		break;
	default:
		if (w.status < 0 || w.status > 0xff) {
			rc = -EIO;
			break;
		}
		rc = 0;
		io->status = (uint8_t)w.status;
		if (w.status == SCSI_STATUS_CHECK_CONDITION) {
			copy_sense(io, task);
		} else if (dir == SCSI_XFER_READ && task->datain.data &&
			   task->datain.size > 0) {
			size_t n = (size_t)task->datain.size;

			if (n > io->din_cap)
				n = io->din_cap;
			memcpy(io->din, task->datain.data, n);
			io->din_len = n;
		}
		break;
	}
	scsi_free_scsi_task(task);
	return rc;
}

static int isc_execute(struct pp_conn *conn, struct pp_io *io)
{
	struct pp_iscsi_conn *c = (struct pp_iscsi_conn *)conn;
	int rc;

	if (!io || io->cdb_len == 0 || io->cdb_len > sizeof(io->cdb))
		return -EINVAL;
	io->din_len = 0;
	io->status = 0;
	io->sense_len = 0;
	pthread_mutex_lock(&c->s->lock);
	rc = isc_execute_locked(c, io);
	pthread_mutex_unlock(&c->s->lock);
	return rc;
}

/* A path of a session that another LUN's path has logged in again since
 * this one last used it adopts that login; otherwise the path logs the
 * session in again (the other LUNs' paths then see a new login). */
static int isc_reconnect(struct pp_conn *conn)
{
	struct pp_iscsi_conn *c = (struct pp_iscsi_conn *)conn;
	struct isc_sess *s = c->s;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (!s->ctx || c->gen == s->gen)
		rc = isc_login(s, c->desc);
	if (rc == 0)
		c->gen = s->gen;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void isc_logout(struct isc_sess *s)
{
	struct isc_wait w = { 0 };
	struct timespec deadline;

	if (!s->ctx || !iscsi_is_logged_in(s->ctx))
		return;
	if (iscsi_logout_async(s->ctx, isc_cb, &w) != 0)
		return;
	deadline_in(&deadline, 2000);
	isc_loop(s->ctx, &w, &deadline);
}

static void sess_free(struct isc_sess *s)
{
	close(s->kick[0]);
	close(s->kick[1]);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->lock);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

/* Drops @c's reference to its session; the last one logs out. */
static void sess_put(struct isc_sess *s)
{
	struct isc_sess **pp;
	bool last;

	pthread_mutex_lock(&reg_lock);
	last = --s->refs == 0;
	if (last) {
		for (pp = &sessions; *pp; pp = &(*pp)->next)
			if (*pp == s) {
				*pp = s->next;
				break;
			}
	}
	pthread_mutex_unlock(&reg_lock);
	if (!last)
		return;
	pthread_mutex_lock(&s->lock);
	isc_logout(s);
	isc_drop(s);
	pthread_mutex_unlock(&s->lock);
	sess_free(s);
}

static void isc_close(struct pp_conn *conn)
{
	struct pp_iscsi_conn *c = (struct pp_iscsi_conn *)conn;

	if (!c)
		return;
	if (c->s)
		sess_put(c->s);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* Copies @v (NUL-terminated) into @dst of PP_CHAP_FIELD_MAX + 1 bytes. */
static int chap_copy(const char *desc, char *dst, const char *v,
		     const char *what)
{
	size_t n = strlen(v);

	if (n == 0 || n > PP_CHAP_FIELD_MAX) {
		pp_transport_set_error("%s: %s must have 1 to %d bytes", desc,
				       what, PP_CHAP_FIELD_MAX);
		return -EINVAL;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

/* CHAP credentials into @s: @u's, else the environment's. (Names in the
 * messages, never values of secrets; @desc names the path.) */
static int chap_setup(struct isc_sess *s, const struct pp_iscsi_url *u,
		      const char *desc)
{
	const char *user, *secret, *muser, *msecret;
	int rc;

	if (u->chap_user[0]) {
		user = u->chap_user;
		secret = u->chap_secret[0] ? u->chap_secret :
			 getenv("PRPATH_CHAP_SECRET");
		if (!secret || !*secret) {
			pp_transport_set_error("%s: the URL has a CHAP user but no secret (iscsi://USER%%SECRET@HOST/... or PRPATH_CHAP_SECRET)",
					       desc);
			return -EINVAL;
		}
	} else {
		user = getenv("PRPATH_CHAP_USER");
		secret = getenv("PRPATH_CHAP_SECRET");
		if (user && !*user)
			user = NULL;
		if (secret && !*secret)
			secret = NULL;
		if (!user != !secret) {
			pp_transport_set_error("%s: set both PRPATH_CHAP_USER and PRPATH_CHAP_SECRET, or neither",
					       desc);
			return -EINVAL;
		}
	}
	muser = getenv("PRPATH_CHAP_MUTUAL_USER");
	msecret = getenv("PRPATH_CHAP_MUTUAL_SECRET");
	if (muser && !*muser)
		muser = NULL;
	if (msecret && !*msecret)
		msecret = NULL;
	if (!muser != !msecret) {
		pp_transport_set_error("%s: set both PRPATH_CHAP_MUTUAL_USER and PRPATH_CHAP_MUTUAL_SECRET, or neither",
				       desc);
		return -EINVAL;
	}
	if (muser && !user) {
		pp_transport_set_error("%s: mutual CHAP needs PRPATH_CHAP_USER and PRPATH_CHAP_SECRET too",
				       desc);
		return -EINVAL;
	}
	if (!user)
		return 0;
	rc = chap_copy(desc, s->chap_user, user, "the CHAP user name");
	if (rc == 0)
		rc = chap_copy(desc, s->chap_secret, secret, "the CHAP secret");
	if (rc == 0 && muser)
		rc = chap_copy(desc, s->chap_mutual_user, muser,
			       "the mutual CHAP user name");
	if (rc == 0 && muser)
		rc = chap_copy(desc, s->chap_mutual_secret, msecret,
			       "the mutual CHAP secret");
	return rc;
}

static const char *isc_describe(const struct pp_conn *conn)
{
	const struct pp_iscsi_conn *c = (const struct pp_iscsi_conn *)conn;

	return c->desc;
}

static const char *isc_port_name(const struct pp_conn *conn)
{
	return ((const struct pp_iscsi_conn *)conn)->io_port_name;
}

static const struct pp_transport_ops iscsi_ops = {
	.name = "iscsi",
	.execute = isc_execute,
	.reconnect = isc_reconnect,
	.close = isc_close,
	.describe = isc_describe,
	.port_name = isc_port_name,
};

/* INQUIRY: checks the LUN is there (never consumes a unit attention). */
static int isc_check_lun(struct pp_iscsi_conn *c)
{
	uint8_t buf[96];
	struct pp_io io;
	int rc;

	memset(&io, 0, sizeof(io));
	io.cdb[0] = 0x12; /* INQUIRY, standard data */
	io.cdb[4] = sizeof(buf);
	io.cdb_len = 6;
	io.din = buf;
	io.din_cap = sizeof(buf);
	rc = isc_execute_locked(c, &io);
	if (rc < 0) {
		pp_transport_set_error("%s: INQUIRY failed: %s", c->desc,
				       strerror(-rc));
		return rc;
	}
	if (io.status != SCSI_STATUS_GOOD || io.din_len < 1 ||
	    (buf[0] >> 5) == 3 || (buf[0] & 0x1f) == 0x1f) {
		pp_transport_set_error("%s: LUN %u is not available on %s",
				       c->desc, c->lun, c->s->url.target);
		return -ENODEV;
	}
	return 0;
}

/* Whether @a and @b are one login: the same initiator name, portal, target,
 * role and credentials (names compared without case, as the ISID hashes
 * them). Paths with other credentials get a login of their own. */
static bool sess_same(const struct isc_sess *a, const struct isc_sess *b)
{
	return !strcasecmp(a->iqn, b->iqn) && a->role == b->role &&
	       !strcasecmp(a->url.host, b->url.host) &&
	       a->url.port == b->url.port &&
	       !strcasecmp(a->url.target, b->url.target) &&
	       !strcmp(a->chap_user, b->chap_user) &&
	       !strcmp(a->chap_secret, b->chap_secret) &&
	       !strcmp(a->chap_mutual_user, b->chap_mutual_user) &&
	       !strcmp(a->chap_mutual_secret, b->chap_mutual_secret);
}

/* The lock, the condition (on CLOCK_MONOTONIC, as the deadlines) and the
 * kick pipe of a new session. 0 or -errno. */
static int sess_sync_init(struct isc_sess *s)
{
	pthread_condattr_t ca;
	int rc;

	if (pipe2(s->kick, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	rc = pthread_condattr_init(&ca);
	if (rc == 0) {
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		rc = pthread_cond_init(&s->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (rc == 0) {
		rc = pthread_mutex_init(&s->lock, NULL);
		if (rc)
			pthread_cond_destroy(&s->cv);
	}
	if (rc) {
		close(s->kick[0]);
		close(s->kick[1]);
	}
	return -rc;
}

/* The session for @t's identity: a reference to the open one, or a new
 * one (not logged in yet) copied from @t. 0 or -ENOMEM/-errno. */
static int sess_get(const struct isc_sess *t, struct isc_sess **out)
{
	struct isc_sess *s;
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	for (s = sessions; s; s = s->next)
		if (sess_same(s, t))
			break;
	if (s) {
		s->refs++;
	} else {
		s = malloc(sizeof(*s));
		if (!s) {
			rc = -ENOMEM;
		} else {
			memcpy(s, t, sizeof(*s));
			s->ctx = NULL;
			s->gen = 0;
			s->servicing = false;
			rc = sess_sync_init(s);
			if (rc) {
				explicit_bzero(s, sizeof(*s));
				free(s);
				s = NULL;
			} else {
				s->refs = 1;
				s->next = sessions;
				sessions = s;
			}
		}
	}
	pthread_mutex_unlock(&reg_lock);
	*out = s;
	return rc;
}

int pp_iscsi_open(const char *url, const char *initiator_iqn,
		  unsigned role, unsigned timeout_ms,
		  struct pp_conn **out)
{
	struct pp_iscsi_conn *c;
	struct isc_sess *t;
	char portal[sizeof(t->url.portal)], io_isid[13];
	bool adopted;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	pp_transport_clear_error();
	c = calloc(1, sizeof(*c));
	t = calloc(1, sizeof(*t)); /* the session's identity */
	if (!c || !t) {
		free(c);
		free(t);
		return -ENOMEM;
	}
	c->conn.ops = &iscsi_ops;
	rc = pp_iscsi_check_args(url, initiator_iqn, role, &t->url);
	if (rc == 0) {
		/* the portal as the ISID sees it: host (lower-cased by the
		 * hash) and the port, also when the URL left it out */
		snprintf(portal, sizeof(portal), "%s%s%s:%u", t->url.ipv6 ? "[" : "",
			 t->url.host, t->url.ipv6 ? "]" : "", t->url.port);
		rc = pp_iscsi_isid_parts(initiator_iqn, portal, t->url.target, role,
					 &t->isid_rnd, &t->isid_qual);
	}
	if (rc == 0) {
		pp_iscsi_isid_for(initiator_iqn, portal, t->url.target, role,
				  c->isid);
		pp_iscsi_isid_for(initiator_iqn, portal, t->url.target,
				  PP_ISCSI_ROLE_IO, io_isid);
		snprintf(t->iqn, sizeof(t->iqn), "%s", initiator_iqn);
		t->role = role;
		t->timeout_ms = timeout_ms ? timeout_ms : PP_ISCSI_DEFAULT_TIMEOUT_MS;
		c->timeout_ms = t->timeout_ms;
		c->lun = t->url.lun;
		snprintf(c->port_name, sizeof(c->port_name), "%s,i,0x%s",
			 t->iqn, c->isid);
		snprintf(c->io_port_name, sizeof(c->io_port_name), "%s,i,0x%s",
			 t->iqn, io_isid);
		/* the portal as the ISID sees it: "h" and "h:3260" are one
		 * path */
		snprintf(c->desc, sizeof(c->desc), "iscsi://%s/%s/%u", portal,
			 t->url.target, c->lun);
		rc = chap_setup(t, &t->url, c->desc);
	}
	/* the URL's copy of the secret is not needed any more */
	explicit_bzero(t->url.chap_secret, sizeof(t->url.chap_secret));
	if (rc == 0)
		rc = sess_get(t, &c->s);
	explicit_bzero(t, sizeof(*t));
	free(t);
	if (rc < 0) {
		isc_close(&c->conn);
		return rc;
	}

	pthread_mutex_lock(&c->s->lock);
	adopted = c->s->ctx != NULL;
	if (!adopted)
		rc = isc_login(c->s, c->desc);
	if (rc == 0) {
		c->gen = c->s->gen;
		rc = isc_check_lun(c);
		if (adopted && (rc == -ECONNRESET || rc == -ENOTCONN)) {
			/* the other paths' login had died unnoticed (the
			 * target restarted, say): log in again, as a path
			 * of its own would have */
			rc = isc_login(c->s, c->desc);
			if (rc == 0) {
				c->gen = c->s->gen;
				rc = isc_check_lun(c);
			}
		}
	}
	pthread_mutex_unlock(&c->s->lock);
	if (rc < 0) {
		isc_close(&c->conn);
		return rc;
	}
	*out = &c->conn;
	return 0;
}

const char *pp_iscsi_port_name(struct pp_conn *conn)
{
	if (!conn || conn->ops != &iscsi_ops)
		return NULL;
	return ((struct pp_iscsi_conn *)conn)->port_name;
}
