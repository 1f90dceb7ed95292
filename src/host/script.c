/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scripted test transport (see script.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <prpath/scsi.h>

#include "host/script.h"

#define SCRIPT_ERR_MAX 1024

struct pp_script_step {
	struct pp_script_step *next;
	unsigned group;
	int path;
	uint8_t cdb[16];
	uint8_t mask[16];
	size_t cdb_len;
	uint8_t *dout;
	size_t dout_len;
	bool check_dout;
	/* reply */
	int err;
	uint8_t status;
	uint8_t sense[32];
	size_t sense_len;
	uint8_t *din;
	size_t din_len;
	/* result */
	bool consumed;
	int seq;
	int got_path;
};

struct script_conn {
	struct pp_conn conn;
	struct pp_script *s;
	unsigned path;
	bool closed;
	char desc[32];
};

struct pp_script {
	pthread_mutex_t lock;
	struct pp_script_step *head, *tail;
	unsigned group;           /* group of the next step */
	bool in_group;
	unsigned ncmds;
	char err[SCRIPT_ERR_MAX];
	bool failed;
	unsigned npaths;
	struct script_conn *conns;
};

static void hexdump(char *out, size_t cap, const uint8_t *b, size_t n)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o + 4 < cap; i++) {
		int w = snprintf(out + o, cap - o, i ? " %02x" : "%02x", b[i]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static void step_describe(const struct pp_script_step *st, char *out, size_t cap)
{
	char hex[64];

	hexdump(hex, sizeof(hex), st->cdb, st->cdb_len);
	if (st->path == PP_SCRIPT_ANY_PATH)
		snprintf(out, cap, "any path: [%s]", hex);
	else
		snprintf(out, cap, "path %d: [%s]", st->path, hex);
}

static bool step_matches(const struct pp_script_step *st, unsigned path,
			 const struct pp_io *io)
{
	size_t i;

	if (st->path != PP_SCRIPT_ANY_PATH && (unsigned)st->path != path)
		return false;
	if (io->cdb_len < st->cdb_len)
		return false;
	for (i = 0; i < st->cdb_len; i++)
		if ((io->cdb[i] & st->mask[i]) != (st->cdb[i] & st->mask[i]))
			return false;
	if (st->check_dout &&
	    (io->dout_len != st->dout_len ||
	     (st->dout_len && memcmp(io->dout, st->dout, st->dout_len))))
		return false;
	return true;
}

static int script_execute(struct pp_conn *c, struct pp_io *io)
{
	struct script_conn *sc = (struct script_conn *)c;
	struct pp_script *s = sc->s;
	struct pp_script_step *st, *cur = NULL;
	unsigned group = 0;
	bool have_group = false;
	int seq, rc;

	pthread_mutex_lock(&s->lock);
	seq = (int)s->ncmds++;
	for (st = s->head; st; st = st->next) {
		if (st->consumed)
			continue;
		if (!have_group) {
			group = st->group;
			have_group = true;
		}
		if (st->group != group)
			break;
		if (step_matches(st, sc->path, io)) {
			cur = st;
			break;
		}
	}
	if (!cur) {
		if (!s->failed) {
			char hex[64], dhex[80], exp[96] = "nothing (script finished)";

			hexdump(hex, sizeof(hex), io->cdb, io->cdb_len);
			hexdump(dhex, sizeof(dhex), io->dout,
				io->dout_len > 24 ? 24 : io->dout_len);
			for (st = s->head; st; st = st->next)
				if (!st->consumed) {
					step_describe(st, exp, sizeof(exp));
					break;
				}
			snprintf(s->err, sizeof(s->err),
				 "command #%d on path %u unexpected: [%s] data-out %zu [%s]; next expected %s",
				 seq, sc->path, hex, io->dout_len, dhex, exp);
			s->failed = true;
		}
		pthread_mutex_unlock(&s->lock);
		return -EPROTO;
	}
	cur->consumed = true;
	cur->seq = seq;
	cur->got_path = (int)sc->path;
	rc = cur->err;
	if (!rc) {
		io->status = cur->status;
		io->sense_len = cur->sense_len;
		if (cur->sense_len)
			memcpy(io->sense, cur->sense, cur->sense_len);
		io->din_len = cur->din_len < io->din_cap ? cur->din_len : io->din_cap;
		if (io->din_len)
			memcpy(io->din, cur->din, io->din_len);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int script_reconnect(struct pp_conn *c)
{
	(void)c;
	return 0;
}

static void script_close(struct pp_conn *c)
{
	struct script_conn *sc = (struct script_conn *)c;

	pthread_mutex_lock(&sc->s->lock);
	sc->closed = true;
	pthread_mutex_unlock(&sc->s->lock);
}

static const char *script_describe(const struct pp_conn *c)
{
	return ((const struct script_conn *)c)->desc;
}

static const struct pp_transport_ops script_ops = {
	.name = "script",
	.execute = script_execute,
	.reconnect = script_reconnect,
	.close = script_close,
	.describe = script_describe,
};

int pp_script_new(unsigned npaths, struct pp_script **out)
{
	struct pp_script *s;
	unsigned i;

	if (!out || !npaths)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->conns = calloc(npaths, sizeof(*s->conns));
	if (!s->conns) {
		free(s);
		return -ENOMEM;
	}
	s->npaths = npaths;
	for (i = 0; i < npaths; i++) {
		s->conns[i].conn.ops = &script_ops;
		s->conns[i].s = s;
		s->conns[i].path = i;
		snprintf(s->conns[i].desc, sizeof(s->conns[i].desc),
			 "script:%u", i);
	}
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

void pp_script_free(struct pp_script *s)
{
	struct pp_script_step *st, *n;

	if (!s)
		return;
	for (st = s->head; st; st = n) {
		n = st->next;
		free(st->dout);
		free(st->din);
		free(st);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->conns);
	free(s);
}

struct pp_conn *pp_script_conn(struct pp_script *s, unsigned path)
{
	if (!s || path >= s->npaths)
		return NULL;
	return &s->conns[path].conn;
}

void pp_script_group_begin(struct pp_script *s)
{
	pthread_mutex_lock(&s->lock);
	s->group++;
	s->in_group = true;
	pthread_mutex_unlock(&s->lock);
}

void pp_script_group_end(struct pp_script *s)
{
	pthread_mutex_lock(&s->lock);
	s->in_group = false;
	pthread_mutex_unlock(&s->lock);
}

struct pp_script_step *pp_script_expect(struct pp_script *s, int path,
					const uint8_t *cdb, size_t len)
{
	struct pp_script_step *st = calloc(1, sizeof(*st));

	if (!st || len > sizeof(st->cdb))
		abort();
	st->path = path;
	memcpy(st->cdb, cdb, len);
	memset(st->mask, 0xff, sizeof(st->mask));
	st->cdb_len = len;
	st->seq = -1;
	st->got_path = -1;
	pthread_mutex_lock(&s->lock);
	if (!s->in_group)
		s->group++;
	st->group = s->group;
	if (s->tail)
		s->tail->next = st;
	else
		s->head = st;
	s->tail = st;
	pthread_mutex_unlock(&s->lock);
	return st;
}

void pp_script_step_mask(struct pp_script_step *st, const uint8_t *mask)
{
	memcpy(st->mask, mask, st->cdb_len);
}

static uint8_t *dup_bytes(const void *data, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	if (!b)
		abort();
	if (len)
		memcpy(b, data, len);
	return b;
}

void pp_script_step_dout(struct pp_script_step *st, const void *data, size_t len)
{
	free(st->dout);
	st->dout = dup_bytes(data, len);
	st->dout_len = len;
	st->check_dout = true;
}

void pp_script_reply_din(struct pp_script_step *st, const void *data, size_t len)
{
	free(st->din);
	st->din = dup_bytes(data, len);
	st->din_len = len;
}

void pp_script_reply_status(struct pp_script_step *st, uint8_t status)
{
	st->status = status;
}

void pp_script_reply_sense(struct pp_script_step *st, uint8_t key, uint8_t asc,
			   uint8_t ascq)
{
	int n;

	st->status = PRPATH_SCSI_STATUS_CHECK_CONDITION;
	n = prpath_sense_build_fixed(st->sense, sizeof(st->sense), key, asc, ascq);
	st->sense_len = n > 0 ? (size_t)n : 0;
}

void pp_script_reply_err(struct pp_script_step *st, int err)
{
	st->err = err;
}

const char *pp_script_error(struct pp_script *s)
{
	const char *e;

	pthread_mutex_lock(&s->lock);
	e = s->failed ? s->err : NULL;
	pthread_mutex_unlock(&s->lock);
	return e;
}

bool pp_script_complete(struct pp_script *s)
{
	struct pp_script_step *st;
	bool done = true;

	pthread_mutex_lock(&s->lock);
	for (st = s->head; st; st = st->next)
		if (!st->consumed)
			done = false;
	pthread_mutex_unlock(&s->lock);
	return done;
}

int pp_script_verify(struct pp_script *s, char *buf, size_t cap)
{
	struct pp_script_step *st;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (cap)
		buf[0] = '\0';
	if (s->failed) {
		snprintf(buf, cap, "%s", s->err);
		rc = -1;
	} else {
		for (st = s->head; st; st = st->next)
			if (!st->consumed) {
				char d[96];

				step_describe(st, d, sizeof(d));
				snprintf(buf, cap, "expected command never came: %s", d);
				rc = -1;
				break;
			}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int pp_script_step_seq(const struct pp_script_step *st)
{
	return st->seq;
}

int pp_script_step_path(const struct pp_script_step *st)
{
	return st->got_path;
}

size_t pp_script_ncommands(struct pp_script *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->ncmds;
	pthread_mutex_unlock(&s->lock);
	return n;
}
