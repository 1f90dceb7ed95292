/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath iSCSI target (RFC 7143, ErrorRecoveryLevel 0, one connection per
 * session).
 *
 * Threads: run() polls the listening sockets and a stop pipe and starts one
 * thread per connection (at most TGT_MAX_CONNS; at the limit the oldest
 * connection that has not logged in makes room). A connection thread reads
 * PDUs, executes SCSI commands synchronously on the device server and
 * writes the responses itself; write commands wait in a small per
 * connection task table while their data arrives (immediate, unsolicited
 * and R2T-solicited). Memory per connection is bounded: the receive buffer,
 * at most TGT_QUEUE_DEPTH pending tasks and TGT_CONN_BUDGET bytes of write
 * data; command buffers of all connections share TGT_TARGET_BUDGET. A
 * login must complete within TGT_LOGIN_TIMEOUT_S, and every PDU must be
 * sent within TGT_SEND_TIMEOUT_S: a peer that stops reading is dropped. A
 * logged-in connection that has been quiet for the NOP interval gets a
 * NOP-In ping; one that then sends nothing for the NOP timeout, or stalls
 * in the middle of a PDU for that long, is dropped.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <prpath/lu.h>
#include <prpath/scsi.h>
#include <prpath/target.h>

#include "target/chap.h"
#include "target/pdu.h"
#include "util/crc32c.h"

#define TGT_MAX_CONNS 256
#define TGT_QUEUE_DEPTH 64
#define TGT_MAX_RECV_DSL 262144u
#define TGT_LOGIN_DSL 8192u
#define TGT_MAX_CMD_BYTES (32u << 20)
#define TGT_CONN_BUDGET (64u << 20)
/* command data buffers of all connections together */
#define TGT_TARGET_BUDGET ((size_t)512 << 20)
#define TGT_LOGIN_TIMEOUT_S 20
#define TGT_SEND_TIMEOUT_S 30
#define TGT_DEFAULT_IQN "iqn.2026-11.io.prpath:target"
#define TGT_TEXT_MAX 8192
#define TGT_CDB_MAX 260       /* SPC-4: the longest CDB */

struct portal {
	int fd;
	int family;
	char host[64];       /* numeric address, no brackets */
	uint16_t port;
	uint16_t tpgt;       /* = relative target port id */
	bool wildcard;
};

struct task {
	bool used;
	uint32_t itt;
	uint32_t ttt;
	int lun;
	uint8_t cdb[TGT_CDB_MAX];
	size_t cdb_len;
	uint32_t edtl;
	uint8_t *buf;
	uint32_t received;
	uint32_t next_r2t;
	uint32_t r2t_out;
	uint32_t r2tsn;
	uint32_t nr2t;
	uint32_t unsol_datasn;
	uint32_t unsol_end;   /* unsolicited data ends here (FirstBurstLength) */
	struct {
		uint32_t off, len, datasn;
		bool used;
	} r2t[8];
	uint64_t cdb_bytes;
	uint64_t exec_bytes;  /* what the (maybe trimmed) CDB transfers */
	bool cdb_known;
	bool skip;            /* nothing to execute: answer GOOD */
	struct prpath_cmd cmd;
};

struct conn;

struct prpath_target {
	char iqn[PRPATH_ISCSI_NAME_MAX + 1];
	char **allow;
	size_t nallow;
	/* CHAP: chap_cfg points into the copies below */
	bool chap_on;
	struct iscsi_chap_cfg chap_cfg;
	char *chap_user, *chap_mutual_user;
	uint8_t chap_secret[PRPATH_TARGET_CHAP_SECRET_MAX];
	uint8_t chap_mutual_secret[PRPATH_TARGET_CHAP_SECRET_MAX];
	struct portal *portals;
	size_t nportals;
	struct prpath_lu **lus;
	size_t nluns;
	uint16_t *ports;
	int stop_pipe[2];
	void (*log)(void *arg, enum prpath_target_log_level level, const char *msg);
	void *log_arg;
	enum prpath_target_log_level log_level;
	int nop_interval_ms;    /* 0: no NOP-In pings, no idle limit */
	int nop_timeout_ms;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct conn *conns;
	unsigned nconns;
	uint16_t next_tsih;
	uint64_t next_conn_id;
	size_t buffered;        /* bytes of command buffers, all connections */
};

struct conn {
	struct prpath_target *t;
	struct conn *next;
	int fd;
	pthread_t thr;
	bool thr_started;
	bool done;            /* thread finished, can be reaped */
	bool logged_in;       /* login complete (t->lock) */
	bool evicted;         /* shut down to make room (t->lock) */
	struct timespec login_deadline; /* CLOCK_MONOTONIC */
	uint64_t id;
	const struct portal *portal;
	char peer[80];

	/* login / session */
	bool ffp;
	bool digests_on;
	int stage;            /* current login stage (CSG expected) */
	bool login_started;
	bool nego_declared;
	bool tpgt_sent;
	struct iscsi_params p;
	uint8_t isid[6];
	uint16_t tsih;
	char port_name[PRPATH_PORT_NAME_MAX];
	bool session_open;    /* nexuses open (normal session) */
	bool session_closed;  /* the session's nexuses have been closed */
	bool reinstated;      /* a newer login shut this one down */
	struct prpath_nexus **nx;
	uint8_t *login_text;
	size_t login_text_len;
	struct iscsi_chap chap;  /* when t->chap_on */

	uint32_t exp_cmdsn;
	uint32_t stat_sn;

	struct task tasks[TGT_QUEUE_DEPTH];
	size_t buffered;
	uint32_t ttt_gen;
	uint32_t nop_gen;     /* Target Transfer Tags of our NOP-In pings */

	uint8_t *rx;          /* data segment buffer */
	uint8_t hdr[ISCSI_BHS_LEN];
	uint8_t ahs[1024];
	size_t ahs_len;
	bool close_after;
};

/* ---- logging -------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void tlog(struct prpath_target *t, enum prpath_target_log_level lvl,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!t->log || lvl > t->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->log(t->log_arg, lvl, msg);
}

/* ---- socket I/O ------------------------------------------------------------ */

/* Until the login completes, every read waits at most for what is left of
 * the overall login deadline: a peer cannot keep a login (and its
 * connection slot) alive by trickling bytes. */
static int arm_login_timeout(struct conn *c)
{
	struct timespec now;
	struct timeval tv;
	int64_t left_us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left_us = (int64_t)(c->login_deadline.tv_sec - now.tv_sec) * 1000000 +
		  (c->login_deadline.tv_nsec - now.tv_nsec) / 1000;
	if (left_us <= 0)
		return -ETIMEDOUT;
	tv.tv_sec = (time_t)(left_us / 1000000);
	tv.tv_usec = (suseconds_t)(left_us % 1000000);
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

static int recv_full(struct conn *c, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n;

		if (!c->ffp) {
			int r = arm_login_timeout(c);

			if (r)
				return r;
		}
		n = recv(c->fd, p, len, 0);

		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				tlog(c->t, PRPATH_TARGET_LOG_INFO,
				     "%s: peer stalled in the middle of a PDU, dropping",
				     c->peer);
				return -ETIMEDOUT;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sets SO_SNDTIMEO to what is left of TGT_SEND_TIMEOUT_S since @start;
 * -ETIMEDOUT when nothing is left. */
static int arm_send_timeout(struct conn *c, const struct timespec *start)
{
	struct timespec now;
	struct timeval tv;
	int64_t left_us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left_us = (int64_t)TGT_SEND_TIMEOUT_S * 1000000 -
		  ((int64_t)(now.tv_sec - start->tv_sec) * 1000000 +
		   (now.tv_nsec - start->tv_nsec) / 1000);
	if (left_us <= 0)
		return -ETIMEDOUT;
	tv.tv_sec = (time_t)(left_us / 1000000);
	tv.tv_usec = (suseconds_t)(left_us % 1000000);
	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/* Sends a whole PDU within TGT_SEND_TIMEOUT_S: SO_SNDTIMEO alone restarts
 * with every partial write, so a peer that reads a little now and then
 * (or whose window opens by a few bytes) could hold the connection's
 * thread forever. */
static int send_iov(struct conn *c, struct iovec *iov, int n)
{
	struct timespec start;
	bool armed = false;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (n > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0 && w > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
		if (n > 0) {
			armed = true;
			r = arm_send_timeout(c, &start);
			if (r)
				break;
		}
	}
	if (armed) {
		struct timeval tv = { TGT_SEND_TIMEOUT_S, 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return r;
}

/* The longest data segment a login response may carry: the initiator's
 * MaxRecvDataSegmentLength takes effect with the full feature phase, during
 * the login the default of 8192 bytes applies (RFC 7143 13.12); a smaller
 * value the initiator has declared already is honoured as well. */
static uint32_t login_dsl(const struct conn *c)
{
	return c->p.max_send_dsl < TGT_LOGIN_DSL ? c->p.max_send_dsl :
						   TGT_LOGIN_DSL;
}

/* Sends one PDU: fills DataSegmentLength and the digests. No data segment
 * may exceed what the initiator can receive (its MaxRecvDataSegmentLength,
 * 8192 during the login): the callers split or bound theirs, this is the
 * last line of defence. */
static int send_pdu(struct conn *c, uint8_t *hdr, const void *data, size_t dlen)
{
	static const uint8_t zero[4];
	uint8_t hd[4], dd[4];
	struct iovec iov[5];
	int n = 0;
	size_t pad = iscsi_pad4(dlen) - dlen;
	uint32_t limit = (hdr[0] & 0x3f) == ISCSI_OP_LOGIN_RSP || !c->ffp ?
			 login_dsl(c) : c->p.max_send_dsl;

	if (dlen > limit) {
		tlog(c->t, PRPATH_TARGET_LOG_ERR,
		     "%s: opcode 0x%02x: data segment of %zu bytes exceeds the initiator's %u",
		     c->peer, hdr[0] & 0x3f, dlen, limit);
		return -EMSGSIZE;
	}
	hdr[4] = 0;
	hdr[5] = (uint8_t)(dlen >> 16);
	hdr[6] = (uint8_t)(dlen >> 8);
	hdr[7] = (uint8_t)dlen;
	iov[n++] = (struct iovec){ hdr, ISCSI_BHS_LEN };
	if (c->digests_on && c->p.header_digest) {
		iscsi_digest(hdr, ISCSI_BHS_LEN, hd);
		iov[n++] = (struct iovec){ hd, 4 };
	}
	if (dlen) {
		iov[n++] = (struct iovec){ (void *)data, dlen };
		if (pad)
			iov[n++] = (struct iovec){ (void *)zero, pad };
		if (c->digests_on && c->p.data_digest) {
			uint32_t crc = iscsi_crc2(data, dlen, zero, pad);

			dd[0] = (uint8_t)crc;
			dd[1] = (uint8_t)(crc >> 8);
			dd[2] = (uint8_t)(crc >> 16);
			dd[3] = (uint8_t)(crc >> 24);
			iov[n++] = (struct iovec){ dd, 4 };
		}
	}
	return send_iov(c, iov, n);
}

static uint32_t max_cmdsn(const struct conn *c)
{
	return c->exp_cmdsn + TGT_QUEUE_DEPTH - 1;
}

/* StatSN / ExpCmdSN / MaxCmdSN at 24/28/32; @adv: StatSN advances */
static void fill_sn(struct conn *c, uint8_t *h, bool adv)
{
	prpath_put_be32(h + 24, c->stat_sn);
	if (adv)
		c->stat_sn++;
	prpath_put_be32(h + 28, c->exp_cmdsn);
	prpath_put_be32(h + 32, c->ffp ? max_cmdsn(c) : c->exp_cmdsn);
}

static int send_reject(struct conn *c, uint8_t reason, const uint8_t *bad)
{
	uint8_t h[ISCSI_BHS_LEN] = { 0 };

	h[0] = ISCSI_OP_REJECT;
	h[1] = 0x80;
	h[2] = reason;
	prpath_put_be32(h + 16, ISCSI_RSVD_TAG);
	fill_sn(c, h, true);
	tlog(c->t, PRPATH_TARGET_LOG_DEBUG, "%s: reject opcode 0x%02x reason 0x%02x",
	     c->peer, bad[0] & 0x3f, reason);
	return send_pdu(c, h, bad, ISCSI_BHS_LEN);
}

/* ---- sessions ----------------------------------------------------------- */

static void task_free(struct conn *c, struct task *tk);

static void close_session(struct conn *c)
{
	size_t i;

	/* tasks still waiting for data leave the LU's task set */
	for (i = 0; i < TGT_QUEUE_DEPTH; i++)
		if (c->tasks[i].used)
			task_free(c, &c->tasks[i]);
	c->buffered = 0;
	if (c->session_open) {
		for (i = 0; i < c->t->nluns; i++) {
			if (c->nx[i]) {
				prpath_lu_abort_task_set(c->nx[i]);
				prpath_lu_nexus_close(c->nx[i]);
				c->nx[i] = NULL;
			}
		}
		tlog(c->t, PRPATH_TARGET_LOG_INFO, "%s: session %s closed",
		     c->peer, c->port_name);
	}
	pthread_mutex_lock(&c->t->lock);
	c->session_open = false;
	c->session_closed = true;
	pthread_cond_broadcast(&c->t->cond);
	pthread_mutex_unlock(&c->t->lock);
}

/* Closes an older session with the same I_T identity (reinstatement) and
 * claims the identity for @c (c->session_open) in the same critical
 * section, so two concurrent logins cannot both keep a session. The list
 * is searched again after every wait: the old connection may have been
 * reaped (freed) in the meantime. Called with t->lock not held. */
static void reinstate(struct conn *c)
{
	struct prpath_target *t = c->t;
	struct conn *o;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&t->lock);
	for (;;) {
		for (o = t->conns; o; o = o->next) {
			if (o != c && o->session_open && !o->session_closed &&
			    o->portal == c->portal &&
			    memcmp(o->isid, c->isid, 6) == 0 &&
			    strcmp(o->p.initiator_name, c->p.initiator_name) == 0)
				break;
		}
		if (!o)
			break;
		if (!o->reinstated) {
			tlog(t, PRPATH_TARGET_LOG_INFO,
			     "%s: reinstating session %s", c->peer,
			     o->port_name);
			o->reinstated = true;
			shutdown(o->fd, SHUT_RDWR);
		}
		if (pthread_cond_timedwait(&t->cond, &t->lock, &ts) == ETIMEDOUT)
			break;
	}
	c->session_open = true;
	pthread_mutex_unlock(&t->lock);
}

static int open_session(struct conn *c)
{
	struct prpath_target *t = c->t;
	size_t i;
	int r;

	snprintf(c->port_name, sizeof(c->port_name),
		 "%s,i,0x%02x%02x%02x%02x%02x%02x", c->p.initiator_name,
		 c->isid[0], c->isid[1], c->isid[2], c->isid[3], c->isid[4],
		 c->isid[5]);
	reinstate(c);
	for (i = 0; i < t->nluns; i++) {
		r = prpath_lu_nexus_open(t->lus[i], c->port_name, c->portal->tpgt,
					 &c->nx[i]);
		if (r < 0) {
			while (i-- > 0) {
				prpath_lu_nexus_close(c->nx[i]);
				c->nx[i] = NULL;
			}
			return r;
		}
	}
	tlog(t, PRPATH_TARGET_LOG_INFO,
	     "%s: session %s on portal %u logged in (digests %s/%s)",
	     c->peer, c->port_name, c->portal->tpgt,
	     c->p.header_digest ? "crc32c" : "none",
	     c->p.data_digest ? "crc32c" : "none");
	return 0;
}

/* ---- login ------------------------------------------------------------- */

static bool allowed(const struct prpath_target *t, const char *name)
{
	size_t i;

	if (!t->nallow)
		return true;
	for (i = 0; i < t->nallow; i++)
		if (strcmp(t->allow[i], name) == 0)
			return true;
	return false;
}

static int send_login_rsp(struct conn *c, const struct iscsi_bhs *b,
			  uint8_t flags, uint16_t status, const char *text,
			  size_t tlen)
{
	uint8_t h[ISCSI_BHS_LEN] = { 0 };

	h[0] = ISCSI_OP_LOGIN_RSP;
	h[1] = flags;
	h[2] = 0;
	h[3] = 0;
	memcpy(h + 8, c->isid, 6);
	prpath_put_be16(h + 14, status == 0 && (flags & 0x83) == 0x83 ? c->tsih : 0);
	prpath_put_be32(h + 16, b->itt);
	fill_sn(c, h, true);
	h[36] = (uint8_t)(status >> 8);
	h[37] = (uint8_t)status;
	return send_pdu(c, h, text, tlen);
}

static int login_fail(struct conn *c, const struct iscsi_bhs *b, uint16_t status)
{
	tlog(c->t, PRPATH_TARGET_LOG_INFO, "%s: login rejected, status %02x/%02x",
	     c->peer, status >> 8, status & 0xff);
	send_login_rsp(c, b, 0, status, NULL, 0);
	return -EPROTO;
}

static int handle_login(struct conn *c, const struct iscsi_bhs *b,
			const uint8_t *data)
{
	struct prpath_target *t = c->t;
	uint8_t flags = b->flags;
	bool transit = flags & 0x80, cont = flags & 0x40;
	int csg = (flags >> 2) & 3, nsg = flags & 3;
	char out[TGT_TEXT_MAX];
	size_t olen = 0;
	int r;

	if (!c->login_started) {
		c->login_started = true;
		memcpy(c->isid, c->hdr + 8, 6);
		c->exp_cmdsn = b->f24;
		c->stat_sn = b->f28;
		if (c->hdr[3] > 0) /* VersionMin */
			return login_fail(c, b, ISCSI_LOGIN_UNSUPPORTED_VERSION);
		if (prpath_get_be16(c->hdr + 14) != 0)
			return login_fail(c, b, ISCSI_LOGIN_NO_SESSION);
		c->stage = csg;
		if (t->chap_on) {
			uint8_t rnd[ISCSI_CHAP_RANDOM_LEN];

			if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
				tlog(t, PRPATH_TARGET_LOG_ERR,
				     "%s: getrandom: %s", c->peer, strerror(errno));
				return login_fail(c, b, ISCSI_LOGIN_TARGET_ERROR);
			}
			iscsi_chap_init(&c->chap, &t->chap_cfg, rnd);
			explicit_bzero(rnd, sizeof(rnd));
			c->p.chap = &c->chap;
		}
	}
	if (memcmp(c->isid, c->hdr + 8, 6) != 0 || (transit && cont) ||
	    csg == 2 || csg == 3 || csg < c->stage)
		return login_fail(c, b, ISCSI_LOGIN_INVALID_REQUEST);
	c->stage = csg;
	if (t->chap_on && csg != 0 && !iscsi_chap_done(&c->chap)) {
		tlog(t, PRPATH_TARGET_LOG_INFO,
		     "%s: CHAP is required but the login skipped the security stage",
		     c->peer);
		return login_fail(c, b, ISCSI_LOGIN_AUTH_FAILED);
	}

	/* accumulate continued text */
	if (b->dlen) {
		uint8_t *nt;

		if (c->login_text_len + b->dlen > 4 * TGT_TEXT_MAX)
			return login_fail(c, b, ISCSI_LOGIN_OUT_OF_RESOURCES);
		nt = realloc(c->login_text, c->login_text_len + b->dlen);
		if (!nt)
			return login_fail(c, b, ISCSI_LOGIN_OUT_OF_RESOURCES);
		c->login_text = nt;
		memcpy(nt + c->login_text_len, data, b->dlen);
		c->login_text_len += b->dlen;
	}
	if (cont)
		return send_login_rsp(c, b, (uint8_t)(csg << 2), 0, NULL, 0);

	r = iscsi_negotiate(&c->p, csg == 0 ? ISCSI_NEGO_SECURITY :
			    ISCSI_NEGO_OPERATIONAL, c->login_text,
			    c->login_text_len, out, sizeof(out), &olen, NULL);
	free(c->login_text);
	c->login_text = NULL;
	c->login_text_len = 0;
	if (r < 0)
		return login_fail(c, b, r == -ENOSPC ? ISCSI_LOGIN_OUT_OF_RESOURCES :
				  ISCSI_LOGIN_INITIATOR_ERROR);
	if (r > 0) {
		if (t->chap_on && c->chap.state == ISCSI_CHAP_FAILED)
			tlog(t, PRPATH_TARGET_LOG_INFO,
			     "%s: CHAP authentication of %s failed: %s", c->peer,
			     c->p.initiator_name[0] ? c->p.initiator_name : "?",
			     c->chap.reason ? c->chap.reason : "?");
		return login_fail(c, b, (uint16_t)r);
	}

	/* identity checks (the first PDU must carry them) */
	if (!c->p.initiator_name[0])
		return login_fail(c, b, ISCSI_LOGIN_MISSING_PARAM);
	if (c->p.session_type == ISCSI_SESSION_UNSET)
		c->p.session_type = ISCSI_SESSION_NORMAL;
	if (c->p.session_type == ISCSI_SESSION_NORMAL) {
		if (!c->p.target_name[0])
			return login_fail(c, b, ISCSI_LOGIN_MISSING_PARAM);
		if (strcmp(c->p.target_name, t->iqn) != 0)
			return login_fail(c, b, ISCSI_LOGIN_NOT_FOUND);
	}
	if (!allowed(t, c->p.initiator_name)) {
		/* RFC 7143 11.13.5: 02/02 authorization failure, not 02/01:
		 * no credential would help */
		tlog(t, PRPATH_TARGET_LOG_INFO, "%s: initiator %s is not on the --allow list",
		     c->peer, c->p.initiator_name);
		return login_fail(c, b, ISCSI_LOGIN_AUTHZ_FAILED);
	}

	if (c->p.session_type == ISCSI_SESSION_NORMAL && !c->tpgt_sent) {
		r = 0;
		{
			char num[8];

			snprintf(num, sizeof(num), "%u", c->portal->tpgt);
			r = iscsi_text_add(out, sizeof(out), &olen,
					   "TargetPortalGroupTag", num);
		}
		if (r)
			return login_fail(c, b, ISCSI_LOGIN_OUT_OF_RESOURCES);
		c->tpgt_sent = true;
	}
	if (csg == 1 && !c->nego_declared) {
		char num[16];

		snprintf(num, sizeof(num), "%u", TGT_MAX_RECV_DSL);
		if (iscsi_text_add(out, sizeof(out), &olen,
				   "MaxRecvDataSegmentLength", num))
			return login_fail(c, b, ISCSI_LOGIN_OUT_OF_RESOURCES);
		if (c->p.session_type == ISCSI_SESSION_NORMAL &&
		    iscsi_text_add(out, sizeof(out), &olen, "TargetAlias",
				   "prpath"))
			return login_fail(c, b, ISCSI_LOGIN_OUT_OF_RESOURCES);
		c->nego_declared = true;
	}
	if (olen > login_dsl(c)) {
		tlog(t, PRPATH_TARGET_LOG_INFO,
		     "%s: login response of %zu bytes exceeds the initiator's MaxRecvDataSegmentLength %u",
		     c->peer, olen, login_dsl(c));
		return login_fail(c, b, ISCSI_LOGIN_OUT_OF_RESOURCES);
	}

	if (t->chap_on && csg == 0) {
		if (!iscsi_chap_done(&c->chap))
			transit = false; /* CHAP goes on: stay in this stage */
		else if (transit)
			tlog(t, PRPATH_TARGET_LOG_INFO,
			     "%s: CHAP authenticated %s as '%s'%s", c->peer,
			     c->p.initiator_name, t->chap_user,
			     t->chap_mutual_user ? " (mutual)" : "");
	}
	if (!transit)
		return send_login_rsp(c, b, (uint8_t)(csg << 2), 0, out, olen);
	if (nsg == 2 || nsg <= csg)
		return login_fail(c, b, ISCSI_LOGIN_INVALID_REQUEST);
	if (nsg == 3) {
		if (c->p.session_type == ISCSI_SESSION_NORMAL) {
			pthread_mutex_lock(&t->lock);
			if (++t->next_tsih == 0)
				t->next_tsih = 1;
			c->tsih = t->next_tsih;
			pthread_mutex_unlock(&t->lock);
			r = open_session(c);
			if (r < 0)
				return login_fail(c, b, ISCSI_LOGIN_OUT_OF_RESOURCES);
		} else {
			c->tsih = 0xffff;
		}
		c->ffp = true;
		pthread_mutex_lock(&t->lock);
		c->logged_in = true;
		pthread_mutex_unlock(&t->lock);
		r = send_login_rsp(c, b, (uint8_t)(0x80 | (csg << 2) | nsg), 0,
				   out, olen);
		c->digests_on = true;
		/* no login deadline in the full feature phase; a PDU that
		 * stops arriving in the middle is dropped after the NOP
		 * timeout (none with pings off) */
		{
			int ms = t->nop_interval_ms ? t->nop_timeout_ms : 0;
			struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

			setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		return r;
	}
	c->stage = nsg;
	return send_login_rsp(c, b, (uint8_t)(0x80 | (csg << 2) | nsg), 0, out,
			      olen);
}

/* ---- SCSI ---------------------------------------------------------------- */

static int send_scsi_rsp(struct conn *c, uint32_t itt, const struct prpath_cmd *cmd,
			 uint8_t resflags, uint32_t resid, uint32_t expdatasn)
{
	uint8_t h[ISCSI_BHS_LEN] = { 0 };
	uint8_t sense[2 + PRPATH_SENSE_MAX];
	size_t slen = 0;

	h[0] = ISCSI_OP_SCSI_RSP;
	h[1] = (uint8_t)(0x80 | resflags);
	h[2] = 0;
	h[3] = cmd->status;
	prpath_put_be32(h + 16, itt);
	fill_sn(c, h, true);
	prpath_put_be32(h + 36, expdatasn);
	prpath_put_be32(h + 44, resid);
	if (cmd->sense_len) {
		size_t n = cmd->sense_len > PRPATH_SENSE_MAX ? PRPATH_SENSE_MAX :
			   cmd->sense_len;

		prpath_put_be16(sense, (uint16_t)n);
		memcpy(sense + 2, cmd->sense, n);
		slen = n + 2;
	}
	return send_pdu(c, h, sense, slen);
}

/* Sends data-in (split by MaxRecvDataSegmentLength / MaxBurstLength), then
 * the status (in the last Data-In when possible). */
static int complete_cmd(struct conn *c, uint32_t itt, const uint8_t *lun,
			struct prpath_cmd *cmd, uint32_t edtl, bool cdb_known,
			uint64_t cdb_bytes, bool is_read, uint32_t nr2t)
{
	uint8_t resflags = 0;
	uint32_t resid = 0, datasn = 0;
	size_t off = 0, len = is_read ? cmd->data_in_len : 0;
	uint32_t seg = c->p.max_send_dsl, burst = c->p.max_burst;
	bool status_in_data = len > 0 && cmd->sense_len == 0;
	int r;

	if (cdb_known && cdb_bytes > edtl) {
		resflags = 0x04;
		resid = (uint32_t)((cdb_bytes - edtl) > 0xffffffffu ?
				   0xffffffffu : cdb_bytes - edtl);
	} else if (is_read && len < edtl) {
		resflags = 0x02;
		resid = edtl - (uint32_t)len;
	} else if (!is_read && cdb_known && cdb_bytes < edtl) {
		resflags = 0x02;
		resid = edtl - (uint32_t)cdb_bytes;
	}
	if (seg == 0)
		seg = 8192;
	while (off < len) {
		uint8_t h[ISCSI_BHS_LEN] = { 0 };
		size_t burst_end = (off / burst + 1) * (size_t)burst;
		size_t n = len - off;
		bool last;

		if (n > seg)
			n = seg;
		if (off + n > burst_end)
			n = burst_end - off;
		last = off + n == len;
		h[0] = ISCSI_OP_DATA_IN;
		h[1] = (last || off + n == burst_end) ? 0x80 : 0;
		if (last && status_in_data) {
			h[1] |= 0x01 | resflags;
			h[3] = cmd->status;
			memcpy(h + 8, lun, 8);
		}
		prpath_put_be32(h + 16, itt);
		prpath_put_be32(h + 20, ISCSI_RSVD_TAG);
		fill_sn(c, h, last && status_in_data);
		if (!(last && status_in_data))
			prpath_put_be32(h + 24, 0);
		prpath_put_be32(h + 36, datasn++);
		prpath_put_be32(h + 40, (uint32_t)off);
		if (last && status_in_data)
			prpath_put_be32(h + 44, resid);
		r = send_pdu(c, h, cmd->data_in + off, n);
		if (r)
			return r;
		off += n;
	}
	if (status_in_data)
		return 0;
	return send_scsi_rsp(c, itt, cmd, resflags, resid, datasn + nr2t);
}

static void set_check(struct prpath_cmd *cmd, uint8_t key, uint16_t ascq)
{
	cmd->status = PRPATH_SCSI_STATUS_CHECK_CONDITION;
	cmd->sense_len = (size_t)prpath_sense_build_fixed(cmd->sense,
				sizeof(cmd->sense), key, (uint8_t)(ascq >> 8),
				(uint8_t)ascq);
}

/* Commands the target answers itself: REPORT LUNS, and INQUIRY / other
 * commands to a LUN that does not exist. */
static void target_cmd(struct conn *c, int lun, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	size_t i;

	cmd->status = PRPATH_SCSI_STATUS_GOOD;
	cmd->sense_len = 0;
	cmd->data_in_len = 0;
	if (cdb[0] == PRPATH_SCSI_OP_REPORT_LUNS) {
		uint32_t alloc = prpath_get_be32(cdb + 6);
		uint8_t buf[8 + 8 * 64] = { 0 };
		size_t n = 0, total;

		if (alloc < 16) {
			set_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
				  PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
			return;
		}
		if (cdb[2] == 0x00 || cdb[2] == 0x02) {
			for (i = 0; i < c->t->nluns && i < 64; i++)
				iscsi_lun_encode((unsigned)i, buf + 8 + 8 * n++);
		} else if (cdb[2] != 0x01) {
			set_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
				  PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
			return;
		}
		prpath_put_be32(buf, (uint32_t)(8 * n));
		total = 8 + 8 * n;
		if (total > alloc)
			total = alloc;
		if (total > cmd->data_in_cap)
			total = cmd->data_in_cap;
		if (total) /* data_in is NULL when EDTL is 0 */
			memcpy(cmd->data_in, buf, total);
		cmd->data_in_len = total;
		return;
	}
	(void)lun;
	if (cdb[0] == PRPATH_SCSI_OP_INQUIRY) {
		uint8_t inq[36] = { 0 };
		size_t alloc = prpath_get_be16(cdb + 3), n;

		inq[0] = 0x7f; /* peripheral qualifier 3: no LU here */
		inq[2] = 0x06;
		inq[3] = 0x02;
		inq[4] = 31;
		memcpy(inq + 8, "PRPATH  ", 8);
		memcpy(inq + 16, "no such LUN     ", 16);
		memcpy(inq + 32, "0001", 4);
		n = cdb[1] & 1 ? 4 : 36;
		if (cdb[1] & 1) {
			inq[1] = cdb[2];
			inq[2] = 0;
			inq[3] = 0;
		}
		if (n > alloc)
			n = alloc;
		if (n > cmd->data_in_cap)
			n = cmd->data_in_cap;
		if (n)
			memcpy(cmd->data_in, inq, n);
		cmd->data_in_len = n;
		return;
	}
	if (cdb[0] == PRPATH_SCSI_OP_REQUEST_SENSE) {
		uint8_t s[18];
		size_t n = (size_t)prpath_sense_build_fixed(s, sizeof(s),
				PRPATH_SCSI_SK_ILLEGAL_REQUEST, 0x25, 0x00);

		if (n > cdb[4])
			n = cdb[4];
		if (n > cmd->data_in_cap)
			n = cmd->data_in_cap;
		if (n)
			memcpy(cmd->data_in, s, n);
		cmd->data_in_len = n;
		return;
	}
	set_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_LU_NOT_SUPPORTED);
}

static bool lun_ok(const struct conn *c, int lun)
{
	return lun >= 0 && (size_t)lun < c->t->nluns && c->nx && c->nx[lun];
}

/* Runs a command whose data (if any) is complete; frees nothing. */
static int run_cmd(struct conn *c, uint32_t itt, const uint8_t *lunf, int lun,
		   struct prpath_cmd *cmd, uint32_t edtl, bool cdb_known,
		   uint64_t cdb_bytes, bool is_read, uint32_t nr2t)
{
	int r;

	if (cmd->cdb[0] == PRPATH_SCSI_OP_REPORT_LUNS || !lun_ok(c, lun)) {
		target_cmd(c, lun, cmd);
	} else {
		r = prpath_lu_execute(c->nx[lun], cmd);
		if (r == PRPATH_LU_ABORTED) {
			tlog(c->t, PRPATH_TARGET_LOG_DEBUG,
			     "%s: task 0x%08x aborted", c->peer, itt);
			return 0;
		}
		if (r < 0)
			set_check(cmd, PRPATH_SCSI_SK_HARDWARE_ERROR,
				  PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);
	}
	return complete_cmd(c, itt, lunf, cmd, edtl, cdb_known, cdb_bytes,
			    is_read, nr2t);
}

static int send_r2ts(struct conn *c, struct task *tk)
{
	while (tk->r2t_out < c->p.max_outstanding_r2t && tk->next_r2t < tk->edtl) {
		uint8_t h[ISCSI_BHS_LEN] = { 0 };
		uint32_t n = tk->edtl - tk->next_r2t;
		size_t slot;
		int r;

		if (n > c->p.max_burst)
			n = c->p.max_burst;
		h[0] = ISCSI_OP_R2T;
		h[1] = 0x80;
		iscsi_lun_encode((unsigned)(tk->lun < 0 ? 0 : tk->lun), h + 8);
		prpath_put_be32(h + 16, tk->itt);
		prpath_put_be32(h + 20, tk->ttt);
		fill_sn(c, h, false);
		prpath_put_be32(h + 36, tk->r2tsn++);
		prpath_put_be32(h + 40, tk->next_r2t);
		prpath_put_be32(h + 44, n);
		for (slot = 0; slot < 8 && tk->r2t[slot].used; slot++)
			;
		if (slot == 8)
			break;
		r = send_pdu(c, h, NULL, 0);
		if (r)
			return r;
		tk->r2t[slot].used = true;
		tk->r2t[slot].off = tk->next_r2t;
		tk->r2t[slot].len = n;
		tk->r2t[slot].datasn = 0;
		tk->next_r2t += n;
		tk->r2t_out++;
		tk->nr2t++;
	}
	return 0;
}

/* Reserves @n bytes of the target-wide command buffer budget. */
static bool budget_get(struct prpath_target *t, size_t n)
{
	bool ok;

	pthread_mutex_lock(&t->lock);
	ok = n <= TGT_TARGET_BUDGET - t->buffered;
	if (ok)
		t->buffered += n;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

static void budget_put(struct prpath_target *t, size_t n)
{
	pthread_mutex_lock(&t->lock);
	t->buffered -= n;
	pthread_mutex_unlock(&t->lock);
}

/* Ends a task; one that was never executed leaves the LU's task set
 * (prpath_cmd_dequeue() is a no-op for an executed one). */
static void task_free(struct conn *c, struct task *tk)
{
	if (lun_ok(c, tk->lun))
		prpath_cmd_dequeue(c->nx[tk->lun], &tk->cmd);
	c->buffered -= tk->edtl;
	budget_put(c->t, tk->edtl);
	free(tk->buf);
	tk->buf = NULL;
	tk->used = false;
}

static int task_run(struct conn *c, struct task *tk)
{
	uint8_t lunf[8];
	int r;

	iscsi_lun_encode((unsigned)(tk->lun < 0 ? 0 : tk->lun), lunf);
	tk->cmd.cdb = tk->cdb;
	tk->cmd.cdb_len = tk->cdb_len;
	tk->cmd.data_out = tk->buf;
	tk->cmd.data_out_len = tk->cdb_known && tk->exec_bytes < tk->edtl ?
			       (size_t)tk->exec_bytes : tk->edtl;
	if (tk->skip) {
		tk->cmd.status = PRPATH_SCSI_STATUS_GOOD;
		tk->cmd.sense_len = 0;
		r = complete_cmd(c, tk->itt, lunf, &tk->cmd, tk->edtl,
				 tk->cdb_known, tk->cdb_bytes, false, tk->nr2t);
	} else {
		r = run_cmd(c, tk->itt, lunf, tk->lun, &tk->cmd, tk->edtl,
			    tk->cdb_known, tk->cdb_bytes, false, tk->nr2t);
	}
	task_free(c, tk);
	return r;
}

/* The initiator will send fewer bytes (EDTL) than the write CDB asks for:
 * shrink the CDB's transfer length to the whole blocks that arrive, so only
 * EDTL worth of data is written (the overflow is reported as residual).
 * Returns true when the command has nothing left to do (WRITE(6) cannot
 * say 0 blocks). */
static bool trim_write(uint8_t *cdb, uint32_t bs, uint32_t edtl)
{
	uint32_t blocks = bs ? edtl / bs : 0;

	switch (cdb[0]) {
	case PRPATH_SCSI_OP_WRITE6:
		if (blocks == 0)
			return true;
		cdb[4] = (uint8_t)blocks;
		break;
	case PRPATH_SCSI_OP_WRITE10:
	case PRPATH_SCSI_OP_WRITE_VERIFY10:
		prpath_put_be16(cdb + 7, (uint16_t)blocks);
		break;
	case PRPATH_SCSI_OP_WRITE12:
	case PRPATH_SCSI_OP_WRITE_VERIFY12:
		prpath_put_be32(cdb + 6, blocks);
		break;
	case PRPATH_SCSI_OP_WRITE16:
	case PRPATH_SCSI_OP_WRITE_VERIFY16:
		prpath_put_be32(cdb + 10, blocks);
		break;
	default:
		break;
	}
	return false;
}

static bool cmdsn_accept(struct conn *c, const struct iscsi_bhs *b)
{
	if (b->immediate)
		return true;
	if (iscsi_sn_lt(b->f24, c->exp_cmdsn) || iscsi_sn_lt(max_cmdsn(c), b->f24))
		return false;
	c->exp_cmdsn = b->f24 + 1;
	return true;
}

static int handle_scsi_cmd(struct conn *c, const struct iscsi_bhs *b,
			   const uint8_t *data)
{
	struct prpath_target *t = c->t;
	uint8_t cdb[TGT_CDB_MAX];
	size_t cdb_len = 16;
	bool is_w = b->flags & 0x20, is_r = b->flags & 0x40;
	uint32_t edtl = b->f20;
	int lun = iscsi_lun_decode(b->lun);
	uint64_t cdb_bytes = 0;
	bool cdb_w = false, cdb_known = false, skip = false;
	uint64_t exec_bytes;
	struct prpath_cmd cmd;
	int ext, r;

	if (c->p.session_type != ISCSI_SESSION_NORMAL)
		return send_reject(c, ISCSI_REJECT_CMD_NOT_SUPPORTED, c->hdr);
	if (!cmdsn_accept(c, b))
		return 0; /* outside the window: silently dropped */
	memcpy(cdb, c->hdr + 32, 16);
	if (c->ahs_len) {
		ext = iscsi_ahs_ext_cdb(c->ahs, c->ahs_len, cdb + 16,
					sizeof(cdb) - 16);
		if (ext < 0)
			return send_reject(c, ISCSI_REJECT_INVALID_FIELD, c->hdr);
		cdb_len += (size_t)ext;
	}
	if (is_w && is_r) /* bidirectional: not supported */
		return send_reject(c, ISCSI_REJECT_CMD_NOT_SUPPORTED, c->hdr);
	if (lun_ok(c, lun) &&
	    prpath_lu_cdb_xfer(t->lus[lun], cdb, cdb_len, &cdb_bytes, &cdb_w) == 0)
		cdb_known = true;
	exec_bytes = cdb_bytes;
	if (cdb_known && cdb_w && !is_r && cdb_bytes > edtl) {
		skip = trim_write(cdb, prpath_lu_block_size(t->lus[lun]), edtl);
		if (prpath_lu_cdb_xfer(t->lus[lun], cdb, cdb_len, &exec_bytes,
				       &cdb_w) != 0)
			exec_bytes = edtl;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb = cdb;
	cmd.cdb_len = cdb_len;

	/* COMPARE AND WRITE is all or nothing: the initiator must send
	 * exactly the compare + write data the CDB describes. */
	if (cdb[0] == PRPATH_SCSI_OP_COMPARE_AND_WRITE && cdb_known && cdb_bytes != edtl) {
		set_check(&cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
			  PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
		return send_scsi_rsp(c, b->itt, &cmd, 0, 0, 0);
	}
	/* RFC 7143 13.10, 13.14: immediate data only when negotiated, and
	 * never more than FirstBurstLength; a violation is a protocol
	 * error, which ErrorRecoveryLevel 0 answers with a Reject and the
	 * end of the connection */
	if (is_w && b->dlen &&
	    (!c->p.immediate_data || b->dlen > c->p.first_burst)) {
		tlog(t, PRPATH_TARGET_LOG_WARN,
		     "%s: %u bytes of immediate data (ImmediateData=%s, FirstBurstLength %u)",
		     c->peer, b->dlen, c->p.immediate_data ? "Yes" : "No",
		     c->p.first_burst);
		send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
		return -EPROTO;
	}
	if (edtl > TGT_MAX_CMD_BYTES || (is_w && c->buffered + edtl > TGT_CONN_BUDGET) ||
	    ((is_w || is_r) && edtl && !budget_get(t, edtl))) {
		if (edtl > TGT_MAX_CMD_BYTES)
			set_check(&cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
				  PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
		else
			cmd.status = PRPATH_SCSI_STATUS_TASK_SET_FULL;
		return send_scsi_rsp(c, b->itt, &cmd, 0, 0, 0);
	}

	if (is_w && edtl > 0) {
		struct task *tk = NULL;
		uint32_t imm = b->dlen, unsol_end;
		size_t i;

		for (i = 0; i < TGT_QUEUE_DEPTH; i++) {
			if (!c->tasks[i].used) {
				if (!tk)
					tk = &c->tasks[i];
			} else if (c->tasks[i].itt == b->itt) {
				budget_put(t, edtl);
				return send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
			}
		}
		if (!tk) {
			budget_put(t, edtl);
			cmd.status = PRPATH_SCSI_STATUS_TASK_SET_FULL;
			return send_scsi_rsp(c, b->itt, &cmd, 0, 0, 0);
		}
		if (imm > edtl)
			imm = edtl;
		memset(tk, 0, sizeof(*tk));
		tk->buf = calloc(1, edtl);
		if (!tk->buf) {
			budget_put(t, edtl);
			cmd.status = PRPATH_SCSI_STATUS_TASK_SET_FULL;
			return send_scsi_rsp(c, b->itt, &cmd, 0, 0, 0);
		}
		tk->used = true;
		c->buffered += edtl;
		tk->itt = b->itt;
		tk->ttt = (++c->ttt_gen << 8 | (uint32_t)(tk - c->tasks)) & 0x7fffffff;
		tk->lun = lun;
		memcpy(tk->cdb, cdb, cdb_len);
		tk->cdb_len = cdb_len;
		tk->edtl = edtl;
		tk->cdb_bytes = cdb_bytes;
		tk->exec_bytes = exec_bytes;
		tk->cdb_known = cdb_known;
		tk->skip = skip;
		memcpy(tk->buf, data, imm);
		tk->received = imm;
		unsol_end = imm;
		if (!b->final && !c->p.initial_r2t)
			unsol_end = edtl < c->p.first_burst ? edtl : c->p.first_burst;
		if (unsol_end < imm)
			unsol_end = imm;
		tk->next_r2t = unsol_end;
		tk->unsol_end = unsol_end;
		if (lun_ok(c, lun)) {
			tk->cmd.cdb = tk->cdb;
			tk->cmd.cdb_len = cdb_len;
			prpath_cmd_queue(c->nx[lun], &tk->cmd);
		}
		if (tk->received >= edtl)
			return task_run(c, tk);
		return send_r2ts(c, tk);
	}

	/* read or no data */
	{
		uint8_t *buf = NULL;

		if (is_r && edtl) {
			buf = malloc(edtl);
			if (!buf) {
				budget_put(t, edtl);
				cmd.status = PRPATH_SCSI_STATUS_TASK_SET_FULL;
				return send_scsi_rsp(c, b->itt, &cmd, 0, 0, 0);
			}
		}
		cmd.data_in = buf;
		cmd.data_in_cap = is_r ? edtl : 0;
		if (skip) {
			r = complete_cmd(c, b->itt, b->lun, &cmd, edtl,
					 cdb_known, cdb_bytes, false, 0);
		} else {
			r = run_cmd(c, b->itt, b->lun, lun, &cmd,
				    is_r || is_w ? edtl : 0, cdb_known,
				    cdb_bytes, is_r, 0);
		}
		free(buf);
		if (is_r && edtl)
			budget_put(t, edtl);
		return r;
	}
}

static int handle_data_out(struct conn *c, const struct iscsi_bhs *b,
			   const uint8_t *data)
{
	struct task *tk = NULL;
	uint32_t off = b->f40;
	size_t i;

	for (i = 0; i < TGT_QUEUE_DEPTH; i++) {
		if (c->tasks[i].used && c->tasks[i].itt == b->itt) {
			tk = &c->tasks[i];
			break;
		}
	}
	if (!tk)
		return 0; /* task gone (aborted / answered): discard */
	if (b->f20 != ISCSI_RSVD_TAG && b->f20 != tk->ttt)
		return send_reject(c, ISCSI_REJECT_INVALID_FIELD, c->hdr);
	if (off > tk->edtl || b->dlen > tk->edtl - off)
		return send_reject(c, ISCSI_REJECT_INVALID_FIELD, c->hdr);
	/* DataPDUInOrder=Yes and DataSequenceInOrder=Yes (the only values
	 * we negotiate): every Data-Out continues exactly where the data
	 * received so far ends, no overlap (which would count bytes twice)
	 * and no gap. */
	if (off != tk->received) {
		tlog(c->t, PRPATH_TARGET_LOG_WARN,
		     "%s: Data-Out at offset %u for task 0x%08x, expected %u",
		     c->peer, off, tk->itt, tk->received);
		goto proto_err;
	}
	if (b->f20 == ISCSI_RSVD_TAG) {
		/* unsolicited data: within FirstBurstLength (or none at
		 * all with InitialR2T=Yes / after the command's F bit) */
		if (b->dlen > tk->unsol_end - off || off > tk->unsol_end) {
			tlog(c->t, PRPATH_TARGET_LOG_WARN,
			     "%s: unsolicited data to %u for task 0x%08x exceeds %u (FirstBurstLength %u)",
			     c->peer, off + b->dlen, tk->itt, tk->unsol_end,
			     c->p.first_burst);
			goto proto_err;
		}
		if (b->f36 != tk->unsol_datasn++)
			goto bad_datasn;
	} else {
		for (i = 0; i < 8; i++)
			if (tk->r2t[i].used && off >= tk->r2t[i].off &&
			    off - tk->r2t[i].off < tk->r2t[i].len)
				break;
		if (i == 8) {
			tlog(c->t, PRPATH_TARGET_LOG_WARN,
			     "%s: Data-Out outside any R2T (offset %u)",
			     c->peer, off);
			return -EPROTO;
		}
		if (b->dlen > tk->r2t[i].off + tk->r2t[i].len - off) {
			tlog(c->t, PRPATH_TARGET_LOG_WARN,
			     "%s: Data-Out to %u for task 0x%08x exceeds its R2T (%u+%u)",
			     c->peer, off + b->dlen, tk->itt, tk->r2t[i].off,
			     tk->r2t[i].len);
			goto proto_err;
		}
		if (b->f36 != tk->r2t[i].datasn++)
			goto bad_datasn;
		if (b->final) {
			tk->r2t[i].used = false;
			if (tk->r2t_out)
				tk->r2t_out--;
		}
	}
	memcpy(tk->buf + off, data, b->dlen);
	tk->received += b->dlen;
	if (tk->received >= tk->edtl)
		return task_run(c, tk);
	return send_r2ts(c, tk);
bad_datasn:
	/* ErrorRecoveryLevel 0 cannot recover the sequence: the task ends
	 * (its remaining Data-Out PDUs are discarded) and the initiator gets
	 * a Reject for the PDU; the connection stays up. */
	tlog(c->t, PRPATH_TARGET_LOG_WARN, "%s: bad DataSN %u for task 0x%08x",
	     c->peer, b->f36, tk->itt);
	task_free(c, tk);
	return send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
proto_err:
	/* a protocol error (RFC 7143 7.8): Reject, then the connection
	 * ends (ErrorRecoveryLevel 0 has no way back into the sequence) */
	send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
	return -EPROTO;
}

/* ---- task management ----------------------------------------------------- */

static void drop_tasks(struct conn *c, int lun)
{
	size_t i;

	for (i = 0; i < TGT_QUEUE_DEPTH; i++)
		if (c->tasks[i].used && (lun < 0 || c->tasks[i].lun == lun))
			task_free(c, &c->tasks[i]);
}

static void shutdown_others(struct conn *c)
{
	struct conn *o;

	pthread_mutex_lock(&c->t->lock);
	for (o = c->t->conns; o; o = o->next)
		if (o != c && !o->done)
			shutdown(o->fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->t->lock);
}

static int handle_tmf(struct conn *c, const struct iscsi_bhs *b)
{
	struct prpath_target *t = c->t;
	uint8_t fn = b->flags & 0x7f;
	uint8_t h[ISCSI_BHS_LEN] = { 0 };
	uint8_t resp = 0;
	int lun = iscsi_lun_decode(b->lun);
	size_t i;

	if (c->p.session_type != ISCSI_SESSION_NORMAL)
		return send_reject(c, ISCSI_REJECT_CMD_NOT_SUPPORTED, c->hdr);
	if (!cmdsn_accept(c, b))
		return 0;
	switch (fn) {
	case 1: { /* ABORT TASK */
		bool found = false;

		for (i = 0; i < TGT_QUEUE_DEPTH; i++) {
			if (c->tasks[i].used && c->tasks[i].itt == b->f20) {
				task_free(c, &c->tasks[i]);
				found = true;
			}
		}
		if (!found)
			resp = 1; /* task does not exist (or already done) */
		break;
	}
	case 2: /* ABORT TASK SET */
	case 4: /* CLEAR TASK SET */
		if (!lun_ok(c, lun)) {
			resp = 2;
			break;
		}
		drop_tasks(c, lun);
		prpath_lu_abort_task_set(c->nx[lun]);
		break;
	case 5: /* LOGICAL UNIT RESET */
		if (!lun_ok(c, lun)) {
			resp = 2;
			break;
		}
		drop_tasks(c, lun);
		prpath_lu_reset(t->lus[lun], false);
		tlog(t, PRPATH_TARGET_LOG_INFO, "%s: LUN %d reset", c->peer, lun);
		break;
	case 6: /* TARGET WARM RESET */
	case 7: /* TARGET COLD RESET */
		drop_tasks(c, -1);
		for (i = 0; i < t->nluns; i++)
			prpath_lu_reset(t->lus[i], fn == 7);
		tlog(t, PRPATH_TARGET_LOG_INFO, "%s: target %s reset", c->peer,
		     fn == 7 ? "cold" : "warm");
		if (fn == 7) {
			shutdown_others(c);
			c->close_after = true;
		}
		break;
	case 3: /* CLEAR ACA */
	case 8: /* TASK REASSIGN */
	default:
		resp = 5; /* not supported */
		break;
	}
	h[0] = ISCSI_OP_TMF_RSP;
	h[1] = 0x80;
	h[2] = resp;
	prpath_put_be32(h + 16, b->itt);
	fill_sn(c, h, true);
	return send_pdu(c, h, NULL, 0);
}

/* ---- text / nop / logout --------------------------------------------------- */

static int add_target_addresses(struct conn *c, char *out, size_t cap, size_t *len)
{
	struct prpath_target *t = c->t;
	size_t i;
	int r;

	r = iscsi_text_add(out, cap, len, "TargetName", t->iqn);
	for (i = 0; !r && i < t->nportals; i++) {
		const struct portal *po = &t->portals[i];
		char host[64], addr[96];

		snprintf(host, sizeof(host), "%s", po->host);
		if (po->wildcard) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);

			if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0)
				getnameinfo((struct sockaddr *)&ss, sl, host,
					    sizeof(host), NULL, 0, NI_NUMERICHOST);
		}
		if (strchr(host, ':'))
			snprintf(addr, sizeof(addr), "[%s]:%u,%u", host, po->port,
				 po->tpgt);
		else
			snprintf(addr, sizeof(addr), "%s:%u,%u", host, po->port,
				 po->tpgt);
		r = iscsi_text_add(out, cap, len, "TargetAddress", addr);
	}
	return r;
}

static int handle_text(struct conn *c, const struct iscsi_bhs *b,
		       const uint8_t *data)
{
	uint8_t h[ISCSI_BHS_LEN] = { 0 };
	char out[TGT_TEXT_MAX];
	size_t olen = 0, cap = sizeof(out);
	const char *st = NULL;
	int r;

	if (!cmdsn_accept(c, b))
		return 0;
	if (cap > c->p.max_send_dsl)
		cap = c->p.max_send_dsl;
	r = iscsi_negotiate(&c->p, ISCSI_NEGO_FFP, data, b->dlen, out, cap,
			    &olen, &st);
	if (r < 0 && r != -ENOSPC)
		return send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
	if (st) {
		size_t stlen = strnlen(st, b->dlen);
		bool all = stlen == 3 && memcmp(st, "All", 3) == 0;
		bool ours = (stlen == 0 && c->p.session_type == ISCSI_SESSION_NORMAL) ||
			    (stlen == strlen(c->t->iqn) &&
			     memcmp(st, c->t->iqn, stlen) == 0);

		if ((all && c->p.session_type == ISCSI_SESSION_DISCOVERY) ||
		    (all && c->p.session_type == ISCSI_SESSION_NORMAL) || ours)
			add_target_addresses(c, out, cap, &olen);
	}
	h[0] = ISCSI_OP_TEXT_RSP;
	h[1] = 0x80;
	memcpy(h + 8, b->lun, 8);
	prpath_put_be32(h + 16, b->itt);
	prpath_put_be32(h + 20, ISCSI_RSVD_TAG);
	fill_sn(c, h, true);
	return send_pdu(c, h, out, olen);
}

static int handle_nop(struct conn *c, const struct iscsi_bhs *b,
		      const uint8_t *data)
{
	uint8_t h[ISCSI_BHS_LEN] = { 0 };
	size_t n = b->dlen;

	/* the answer to a ping of ours (valid TTT) does not take a CmdSN */
	if (b->itt == ISCSI_RSVD_TAG && b->f20 != ISCSI_RSVD_TAG)
		return 0;
	if (!cmdsn_accept(c, b))
		return 0;
	if (b->itt == ISCSI_RSVD_TAG)
		return 0; /* a ping that wants no reply */
	/* RFC 7143 11.18.4: the reflected ping data are limited to the
	 * initiator's MaxRecvDataSegmentLength */
	if (n > c->p.max_send_dsl)
		n = c->p.max_send_dsl;
	h[0] = ISCSI_OP_NOP_IN;
	h[1] = 0x80;
	memcpy(h + 8, b->lun, 8);
	prpath_put_be32(h + 16, b->itt);
	prpath_put_be32(h + 20, ISCSI_RSVD_TAG);
	fill_sn(c, h, true);
	return send_pdu(c, h, data, n);
}

/* A NOP-In ping (RFC 7143 11.19): ITT reserved, a valid Target Transfer
 * Tag, so the initiator must answer with a NOP-Out; StatSN does not
 * advance. */
static int send_nop_ping(struct conn *c)
{
	uint8_t h[ISCSI_BHS_LEN] = { 0 };
	uint32_t ttt;

	/* top bit set: never a task's TTT, never the reserved value */
	ttt = 0x80000000u | (c->nop_gen++ % 0x7fffffffu);
	h[0] = ISCSI_OP_NOP_IN;
	h[1] = 0x80;
	iscsi_lun_encode(0, h + 8);
	prpath_put_be32(h + 16, ISCSI_RSVD_TAG);
	prpath_put_be32(h + 20, ttt);
	fill_sn(c, h, false);
	tlog(c->t, PRPATH_TARGET_LOG_DEBUG, "%s: idle, NOP-In ping 0x%08x",
	     c->peer, ttt);
	return send_pdu(c, h, NULL, 0);
}

static int wait_readable(struct conn *c, int ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int r;

	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/* In the full feature phase, before the next PDU: pings a connection that
 * has been quiet for the NOP interval and drops it when nothing at all
 * arrives within the NOP timeout after that. */
static int idle_wait(struct conn *c)
{
	struct prpath_target *t = c->t;
	int r;

	if (!c->ffp || !t->nop_interval_ms)
		return 0;
	r = wait_readable(c, t->nop_interval_ms);
	if (r)
		return r < 0 ? r : 0;
	r = send_nop_ping(c);
	if (r)
		return r;
	r = wait_readable(c, t->nop_timeout_ms);
	if (r)
		return r < 0 ? r : 0;
	tlog(t, PRPATH_TARGET_LOG_INFO,
	     "%s: no answer to a NOP-In ping within %d ms, dropping the connection",
	     c->peer, t->nop_timeout_ms);
	return -ETIMEDOUT;
}

static int handle_logout(struct conn *c, const struct iscsi_bhs *b)
{
	uint8_t h[ISCSI_BHS_LEN] = { 0 };
	uint8_t reason = b->flags & 0x7f;

	if (!b->immediate)
		cmdsn_accept(c, b);
	h[0] = ISCSI_OP_LOGOUT_RSP;
	h[1] = 0x80;
	h[2] = reason == 2 ? 2 : 0;
	prpath_put_be32(h + 16, b->itt);
	fill_sn(c, h, true);
	c->close_after = true;
	return send_pdu(c, h, NULL, 0);
}

/* ---- connection loop ----------------------------------------------------- */

static int conn_read_pdu(struct conn *c, struct iscsi_bhs *b, int *bad)
{
	uint32_t limit = c->ffp ? TGT_MAX_RECV_DSL : TGT_LOGIN_DSL;
	size_t plen;
	uint8_t dig[4];
	int r;

	*bad = 0;
	r = idle_wait(c);
	if (r)
		return r;
	r = recv_full(c, c->hdr, ISCSI_BHS_LEN);
	if (r)
		return r;
	*bad = iscsi_bhs_parse(c->hdr, ISCSI_BHS_LEN, b);
	if (!c->ffp && (*bad || b->opcode != ISCSI_OP_LOGIN_REQ)) {
		tlog(c->t, PRPATH_TARGET_LOG_WARN,
		     "%s: opcode 0x%02x before login completed", c->peer,
		     c->hdr[0] & 0x3f);
		return -EPROTO;
	}
	if (b->dlen > limit) {
		tlog(c->t, PRPATH_TARGET_LOG_WARN,
		     "%s: data segment of %u bytes exceeds %u", c->peer,
		     b->dlen, limit);
		if (c->ffp)
			send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
		return -EMSGSIZE;
	}
	c->ahs_len = (size_t)b->ahs_words * 4;
	if (c->ahs_len) {
		r = recv_full(c, c->ahs, c->ahs_len);
		if (r)
			return r;
	}
	if (c->digests_on && c->p.header_digest) {
		uint32_t crc;

		r = recv_full(c, dig, 4);
		if (r)
			return r;
		crc = iscsi_crc2(c->hdr, ISCSI_BHS_LEN, c->ahs, c->ahs_len);
		if (crc != ((uint32_t)dig[0] | (uint32_t)dig[1] << 8 |
			    (uint32_t)dig[2] << 16 | (uint32_t)dig[3] << 24)) {
			tlog(c->t, PRPATH_TARGET_LOG_WARN,
			     "%s: header digest error", c->peer);
			return -EBADMSG;
		}
	}
	plen = iscsi_pad4(b->dlen);
	if (plen) {
		r = recv_full(c, c->rx, plen);
		if (r)
			return r;
		if (c->digests_on && c->p.data_digest) {
			uint32_t crc;

			r = recv_full(c, dig, 4);
			if (r)
				return r;
			crc = crc32c(0, c->rx, plen);
			if (crc != ((uint32_t)dig[0] | (uint32_t)dig[1] << 8 |
				    (uint32_t)dig[2] << 16 |
				    (uint32_t)dig[3] << 24)) {
				tlog(c->t, PRPATH_TARGET_LOG_WARN,
				     "%s: data digest error", c->peer);
				return -EBADMSG;
			}
		}
	}
	return 0;
}

static int conn_dispatch(struct conn *c, const struct iscsi_bhs *b, int bad)
{
	if (!c->ffp) {
		if (bad || b->opcode != ISCSI_OP_LOGIN_REQ) {
			tlog(c->t, PRPATH_TARGET_LOG_WARN,
			     "%s: opcode 0x%02x before login completed", c->peer,
			     c->hdr[0] & 0x3f);
			return -EPROTO;
		}
		return handle_login(c, b, c->rx);
	}
	if (bad)
		return send_reject(c, ISCSI_REJECT_CMD_NOT_SUPPORTED, c->hdr);
	switch (b->opcode) {
	case ISCSI_OP_NOP_OUT:
		return handle_nop(c, b, c->rx);
	case ISCSI_OP_SCSI_CMD:
		return handle_scsi_cmd(c, b, c->rx);
	case ISCSI_OP_TMF_REQ:
		return handle_tmf(c, b);
	case ISCSI_OP_TEXT_REQ:
		return handle_text(c, b, c->rx);
	case ISCSI_OP_DATA_OUT:
		if (c->p.session_type != ISCSI_SESSION_NORMAL)
			return send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
		return handle_data_out(c, b, c->rx);
	case ISCSI_OP_LOGOUT_REQ:
		return handle_logout(c, b);
	case ISCSI_OP_LOGIN_REQ:
		return send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
	case ISCSI_OP_SNACK:
		return send_reject(c, ISCSI_REJECT_SNACK, c->hdr);
	default:
		return send_reject(c, ISCSI_REJECT_CMD_NOT_SUPPORTED, c->hdr);
	}
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct prpath_target *t = c->t;
	struct iscsi_bhs b;
	int r, bad;

	tlog(t, PRPATH_TARGET_LOG_DEBUG, "%s: connected to portal %u", c->peer,
	     c->portal->tpgt);
	for (;;) {
		r = conn_read_pdu(c, &b, &bad);
		if (r)
			break;
		r = conn_dispatch(c, &b, bad);
		if (r || c->close_after)
			break;
	}
	if (r && r != -ECONNRESET && r != -EPROTO)
		tlog(t, PRPATH_TARGET_LOG_DEBUG, "%s: connection closed: %s",
		     c->peer, strerror(-r));
	close_session(c);
	shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_lock(&t->lock);
	c->done = true;
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void conn_free(struct conn *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < TGT_QUEUE_DEPTH; i++)
		free(c->tasks[i].buf);
	if (c->fd >= 0)
		close(c->fd);
	free(c->nx);
	free(c->rx);
	free(c->login_text);
	free(c);
}

/* Joins and frees finished connections; with @all, every connection
 * (after shutting their sockets down). */
static void reap(struct prpath_target *t, bool all)
{
	struct conn **pp, *c;

	for (;;) {
		struct conn *victim = NULL;

		pthread_mutex_lock(&t->lock);
		for (pp = &t->conns; (c = *pp); pp = &c->next) {
			if (all && !c->done)
				shutdown(c->fd, SHUT_RDWR);
			if (c->done || all) {
				*pp = c->next;
				t->nconns--;
				victim = c;
				break;
			}
		}
		pthread_mutex_unlock(&t->lock);
		if (!victim)
			return;
		if (victim->thr_started)
			pthread_join(victim->thr, NULL);
		conn_free(victim);
	}
}

/* At the connection limit: makes room by shutting down the oldest
 * connection that has not completed its login, so peers that connect and
 * send nothing (or trickle a login) cannot lock real initiators out.
 * Connections already shut down are still counted up to twice the limit.
 * Returns false when the new connection must be refused. Called with
 * t->lock held. */
static bool make_room(struct prpath_target *t)
{
	struct conn *o, *old = NULL;
	unsigned live = 0;

	if (t->nconns >= 2 * TGT_MAX_CONNS)
		return false;
	for (o = t->conns; o; o = o->next) {
		if (o->done || o->evicted)
			continue;
		live++;
		if (!o->logged_in)
			old = o; /* the list is newest first */
	}
	if (live < TGT_MAX_CONNS)
		return true;
	if (!old)
		return false;
	tlog(t, PRPATH_TARGET_LOG_WARN,
	     "too many connections, dropping %s (not logged in)", old->peer);
	old->evicted = true;
	shutdown(old->fd, SHUT_RDWR);
	return true;
}

static void accept_one(struct prpath_target *t, struct portal *po)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct conn *c;
	char host[64] = "?", serv[16] = "?";
	struct timeval tv;
	int fd, one = 1;

	fd = accept4(po->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv,
		    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
	pthread_mutex_lock(&t->lock);
	if (t->nconns >= TGT_MAX_CONNS && !make_room(t)) {
		pthread_mutex_unlock(&t->lock);
		tlog(t, PRPATH_TARGET_LOG_WARN, "too many connections, refusing %s",
		     host);
		close(fd);
		return;
	}
	pthread_mutex_unlock(&t->lock);
	c = calloc(1, sizeof(*c));
	if (c) {
		c->rx = malloc(TGT_MAX_RECV_DSL + 8);
		c->nx = calloc(t->nluns, sizeof(*c->nx));
	}
	if (!c || !c->rx || !c->nx) {
		if (c) {
			c->fd = -1;
			conn_free(c);
		}
		close(fd);
		return;
	}
	c->t = t;
	c->fd = fd;
	c->portal = po;
	snprintf(c->peer, sizeof(c->peer), "%s:%s", host, serv);
	iscsi_params_init(&c->p, TGT_MAX_RECV_DSL);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	clock_gettime(CLOCK_MONOTONIC, &c->login_deadline);
	c->login_deadline.tv_sec += TGT_LOGIN_TIMEOUT_S;
	tv = (struct timeval){ TGT_SEND_TIMEOUT_S, 0 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	pthread_mutex_lock(&t->lock);
	c->id = t->next_conn_id++;
	c->next = t->conns;
	t->conns = c;
	t->nconns++;
	if (pthread_create(&c->thr, NULL, conn_thread, c) == 0)
		c->thr_started = true;
	else
		c->done = true;
	pthread_mutex_unlock(&t->lock);
}

int prpath_target_run(struct prpath_target *t)
{
	struct pollfd pfd[65];
	size_t i, n;

	n = t->nportals;
	for (;;) {
		int r;

		for (i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = t->portals[i].fd, .events = POLLIN };
		pfd[n] = (struct pollfd){ .fd = t->stop_pipe[0], .events = POLLIN };
		r = poll(pfd, n + 1, 500);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && pfd[n].revents)
			break;
		for (i = 0; r > 0 && i < n; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(t, &t->portals[i]);
		reap(t, false);
	}
	tlog(t, PRPATH_TARGET_LOG_INFO, "shutting down");
	reap(t, true);
	return 0;
}

void prpath_target_stop(struct prpath_target *t)
{
	char x = 1;
	ssize_t w;

	if (!t)
		return;
	w = write(t->stop_pipe[1], &x, 1);
	(void)w;
}

uint16_t prpath_target_portal_port(const struct prpath_target *t, size_t idx)
{
	if (!t || idx >= t->nportals)
		return 0;
	return t->portals[idx].port;
}

/* ---- setup --------------------------------------------------------------- */

static int parse_portal(const char *s, char *host, size_t hcap, uint16_t *port)
{
	const char *colon;
	size_t hl;
	uint32_t p;

	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e || e[1] != ':')
			return -EINVAL;
		hl = (size_t)(e - s - 1);
		colon = e + 1;
		if (hl == 0 || hl >= hcap)
			return -EINVAL;
		memcpy(host, s + 1, hl);
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s)
			return -EINVAL;
		hl = (size_t)(colon - s);
		if (hl >= hcap || memchr(s, ':', hl))
			return -EINVAL;
		memcpy(host, s, hl);
	}
	host[hl] = '\0';
	if (iscsi_parse_u32(colon + 1, strlen(colon + 1), &p) || p > 65535 ||
	    (colon[1] == '0' && colon[2] == 'x'))
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int open_portal(struct portal *po, const char *spec, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char serv[8];
	int fd, one = 1, r;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (parse_portal(spec, po->host, sizeof(po->host), &po->port)) {
		snprintf(err, errlen, "bad portal '%s' (want ADDR:PORT or [V6ADDR]:PORT)",
			 spec);
		return -EINVAL;
	}
	snprintf(serv, sizeof(serv), "%u", po->port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	r = getaddrinfo(po->host, serv, &hints, &ai);
	if (r || !ai) {
		snprintf(err, errlen, "bad portal address '%s'", po->host);
		return -EINVAL;
	}
	po->family = ai->ai_family;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		freeaddrinfo(ai);
		snprintf(err, errlen, "socket: %s", strerror(-r));
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		freeaddrinfo(ai);
		close(fd);
		if (r == -EADDRINUSE)
			snprintf(err, errlen,
				 "cannot listen on %s: address already in use (another iSCSI target, such as the system's tgtd (tgt.service) or another prpath target, may be listening there; stop it or choose another --portal port)",
				 spec);
		else
			snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(-r));
		return r;
	}
	if (ai->ai_family == AF_INET)
		po->wildcard = ((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr ==
			       htonl(INADDR_ANY);
	else
		po->wildcard = IN6_IS_ADDR_UNSPECIFIED(
			&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
	freeaddrinfo(ai);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			po->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			po->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	po->fd = fd;
	return 0;
}

/* State files in @dir that belong to no LU served now: said, not loaded,
 * not removed (another target may serve that LU, or it comes back). */
static void report_foreign_state(struct prpath_target *t, const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;

	if (!dh)
		return;
	while ((de = readdir(dh))) {
		const char *n = de->d_name;
		size_t len = strlen(n), i;
		bool ours = false;

		if (len < 4 || strcmp(n + len - 3, ".pr") != 0)
			continue;
		if (strncmp(n, "lun", 3) == 0) {
			tlog(t, PRPATH_TARGET_LOG_WARN,
			     "%s/%s: state from prpath 0.1, keyed by LUN number: not loaded (state now follows the LU: lu-<serial>.pr)",
			     dir, n);
			continue;
		}
		if (strncmp(n, "lu-", 3) != 0 || len != 3 + 16 + 3)
			continue;
		for (i = 0; i < t->nluns && !ours; i++)
			ours = t->lus[i] && strncmp(n + 3, prpath_lu_serial(t->lus[i]), 16) == 0;
		if (!ours)
			tlog(t, PRPATH_TARGET_LOG_WARN,
			     "%s/%s: reservation state of an LU (serial %.16s) this target does not serve: left as is",
			     dir, n, n + 3);
	}
	closedir(dh);
}

static bool chap_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > PRPATH_TARGET_CHAP_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

/* Checks and copies the CHAP settings. 0 or -EINVAL / -ENOMEM. */
static int chap_config(struct prpath_target *t,
		       const struct prpath_target_config *cfg, char *err,
		       size_t errlen)
{
	if (!cfg->chap_user) {
		if (cfg->chap_mutual_user) {
			snprintf(err, errlen, "mutual CHAP needs one-way CHAP too");
			return -EINVAL;
		}
		return 0;
	}
	if (!chap_name_ok(cfg->chap_user) ||
	    (cfg->chap_mutual_user && !chap_name_ok(cfg->chap_mutual_user))) {
		snprintf(err, errlen, "CHAP user names must have 1 to %d printable characters",
			 PRPATH_TARGET_CHAP_NAME_MAX);
		return -EINVAL;
	}
	if (!cfg->chap_secret || cfg->chap_secret_len < PRPATH_TARGET_CHAP_SECRET_MIN ||
	    cfg->chap_secret_len > PRPATH_TARGET_CHAP_SECRET_MAX ||
	    (cfg->chap_mutual_user &&
	     (!cfg->chap_mutual_secret ||
	      cfg->chap_mutual_secret_len < PRPATH_TARGET_CHAP_SECRET_MIN ||
	      cfg->chap_mutual_secret_len > PRPATH_TARGET_CHAP_SECRET_MAX))) {
		snprintf(err, errlen, "a CHAP secret must have %d to %d bytes",
			 PRPATH_TARGET_CHAP_SECRET_MIN, PRPATH_TARGET_CHAP_SECRET_MAX);
		return -EINVAL;
	}
	/* RFC 7143 12.1.3: a secret authenticates one direction only */
	if (cfg->chap_mutual_user &&
	    cfg->chap_mutual_secret_len == cfg->chap_secret_len &&
	    memcmp(cfg->chap_mutual_secret, cfg->chap_secret,
		   cfg->chap_secret_len) == 0) {
		snprintf(err, errlen, "the mutual CHAP secret must differ from the initiator's");
		return -EINVAL;
	}
	t->chap_user = strdup(cfg->chap_user);
	if (!t->chap_user)
		return -ENOMEM;
	memcpy(t->chap_secret, cfg->chap_secret, cfg->chap_secret_len);
	t->chap_cfg.user = t->chap_user;
	t->chap_cfg.secret = t->chap_secret;
	t->chap_cfg.secret_len = cfg->chap_secret_len;
	if (cfg->chap_mutual_user) {
		t->chap_mutual_user = strdup(cfg->chap_mutual_user);
		if (!t->chap_mutual_user)
			return -ENOMEM;
		memcpy(t->chap_mutual_secret, cfg->chap_mutual_secret,
		       cfg->chap_mutual_secret_len);
		t->chap_cfg.mutual_user = t->chap_mutual_user;
		t->chap_cfg.mutual_secret = t->chap_mutual_secret;
		t->chap_cfg.mutual_secret_len = cfg->chap_mutual_secret_len;
	}
	t->chap_on = true;
	return 0;
}

int prpath_target_new(const struct prpath_target_config *cfg,
		      struct prpath_target **out, char *err, size_t errlen)
{
	static const char *const def_portal = "127.0.0.1:3260";
	char dummy[8];
	struct prpath_target *t;
	size_t i, np;
	int r;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	*out = NULL;
	if (!cfg || cfg->nluns == 0) {
		snprintf(err, errlen, "at least one LUN is needed");
		return -EINVAL;
	}
	np = cfg->nportals ? cfg->nportals : 1;
	if (np > 64) {
		snprintf(err, errlen, "at most 64 portals");
		return -EINVAL;
	}
	if (cfg->nluns > 64) {
		snprintf(err, errlen, "at most 64 LUNs");
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->stop_pipe[0] = t->stop_pipe[1] = -1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->log = cfg->log;
	t->log_arg = cfg->log_arg;
	t->log_level = cfg->log_level;
	if (cfg->nop_interval > PRPATH_TARGET_NOP_INTERVAL_MAX ||
	    cfg->nop_timeout < 0 ||
	    cfg->nop_timeout > PRPATH_TARGET_NOP_INTERVAL_MAX) {
		snprintf(err, errlen, "the NOP-In interval and timeout are at most %d s",
			 PRPATH_TARGET_NOP_INTERVAL_MAX);
		r = -EINVAL;
		goto fail;
	}
	if (cfg->nop_interval >= 0) {
		int iv = cfg->nop_interval ? cfg->nop_interval :
			 PRPATH_TARGET_NOP_INTERVAL_DEFAULT;

		t->nop_interval_ms = iv * 1000;
		t->nop_timeout_ms = (cfg->nop_timeout ? cfg->nop_timeout : iv) * 1000;
	}
	r = -ENOMEM;
	if (cfg->iqn && (strlen(cfg->iqn) == 0 ||
			 strlen(cfg->iqn) > PRPATH_ISCSI_NAME_MAX)) {
		snprintf(err, errlen, "bad target name '%s'", cfg->iqn);
		r = -EINVAL;
		goto fail;
	}
	snprintf(t->iqn, sizeof(t->iqn), "%s", cfg->iqn ? cfg->iqn : TGT_DEFAULT_IQN);
	if (cfg->nallow) {
		t->allow = calloc(cfg->nallow, sizeof(*t->allow));
		if (!t->allow)
			goto fail;
		t->nallow = cfg->nallow;
		for (i = 0; i < cfg->nallow; i++) {
			t->allow[i] = strdup(cfg->allow[i]);
			if (!t->allow[i])
				goto fail;
		}
	}
	r = chap_config(t, cfg, err, errlen);
	if (r)
		goto fail;
	r = -ENOMEM;
	if (pipe2(t->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}
	t->portals = calloc(np, sizeof(*t->portals));
	t->ports = calloc(np, sizeof(*t->ports));
	t->lus = calloc(cfg->nluns, sizeof(*t->lus));
	if (!t->portals || !t->ports || !t->lus)
		goto fail;
	for (i = 0; i < np; i++)
		t->portals[i].fd = -1;
	t->nportals = np;
	for (i = 0; i < np; i++) {
		t->portals[i].tpgt = (uint16_t)(i + 1);
		t->ports[i] = (uint16_t)(i + 1);
		r = open_portal(&t->portals[i],
				cfg->nportals ? cfg->portals[i] : def_portal,
				err, errlen);
		if (r)
			goto fail;
	}
	t->nluns = cfg->nluns;
	for (i = 0; i < cfg->nluns; i++) {
		struct prpath_lu_config lc = { 0 };

		lc.path = cfg->luns[i].path;
		lc.size = cfg->luns[i].size;
		lc.lu_id = cfg->luns[i].lu_id;
		lc.block_size = 512;
		lc.target_ports = t->ports;
		lc.ntarget_ports = np;
		lc.state_dir = cfg->state_dir;
		r = prpath_lu_new(&lc, &t->lus[i]);
		if (r) {
			const char *why = prpath_lu_last_error();

			snprintf(err, errlen, "LUN %zu (%s): %s", i,
				 lc.path ? lc.path : "memory",
				 why && why[0] ? why : strerror(-r));
			t->lus[i] = NULL;
			goto fail;
		}
		tlog(t, PRPATH_TARGET_LOG_INFO, "LUN %zu: %s, serial %s%s", i,
		     lc.path ? lc.path : "memory", prpath_lu_serial(t->lus[i]),
		     lc.path && !lc.lu_id && !prpath_lu_id_stored(t->lus[i])
		     ? " (not kept with the file: no user xattrs here; renaming the file changes the LU's identity, give ,serial=)" : "");
	}
	if (cfg->state_dir)
		report_foreign_state(t, cfg->state_dir);
	for (i = 0; i < np; i++)
		tlog(t, PRPATH_TARGET_LOG_INFO, "%s: portal %s%s%s:%u tpgt %u",
		     t->iqn, t->portals[i].family == AF_INET6 ? "[" : "",
		     t->portals[i].host,
		     t->portals[i].family == AF_INET6 ? "]" : "",
		     t->portals[i].port, t->portals[i].tpgt);
	*out = t;
	return 0;
fail:
	prpath_target_free(t);
	return r;
}

void prpath_target_free(struct prpath_target *t)
{
	size_t i;

	if (!t)
		return;
	reap(t, true);
	for (i = 0; t->portals && i < t->nportals; i++)
		if (t->portals[i].fd >= 0)
			close(t->portals[i].fd);
	for (i = 0; t->lus && i < t->nluns; i++)
		if (t->lus[i])
			prpath_lu_free(t->lus[i]);
	for (i = 0; t->allow && i < t->nallow; i++)
		free(t->allow[i]);
	free(t->allow);
	free(t->chap_user);
	free(t->chap_mutual_user);
	explicit_bzero(t->chap_secret, sizeof(t->chap_secret));
	explicit_bzero(t->chap_mutual_secret, sizeof(t->chap_mutual_secret));
	free(t->portals);
	free(t->ports);
	free(t->lus);
	if (t->stop_pipe[0] >= 0)
		close(t->stop_pipe[0]);
	if (t->stop_pipe[1] >= 0)
		close(t->stop_pipe[1]);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	free(t);
}
