/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath demo: the whole story on the embedded default, in one process.
 *
 * One memory-backed LU (prpath's device server) reachable through N target
 * ports; host A and host B each reach it over N paths (in-process sim
 * transport, one I_T nexus per path). Every command a host sends goes
 * through a recording wrapper around its sim connection, so the timeline
 * can say which PR command went on which path and what came back.
 *
 *   1. A opens exclusive   2. A writes through every path
 *   3. B's exclusive open is refused and leaves nothing behind
 *   4. one of A's paths fails and comes back (re-registered first)
 *   5. A stalls with writes in flight; B takes over (PREEMPT AND ABORT)
 *   6. A wakes up: its late writes never execute, it finds itself fenced
 *   7. verification of every block of the LU, and the verdict
 *
 * The output is deterministic for a given --seed and --paths (apart from
 * the elapsed time on the verdict line).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <prpath/lu.h>
#include <prpath/mpath.h>
#include <prpath/path.h>
#include <prpath/scsi.h>

#include "cli.h"

#define DEMO_LU_BYTES (64ull << 20)
#define DEMO_BS 512u
#define DEMO_MAX_PATHS CLI_MAX_PATHS
#define DEMO_CHUNK 2048u          /* blocks per verification read */
#define DEMO_WRITES_PER_PATH 4
#define DEMO_HOLD_MS 5000

/* ---- recording ------------------------------------------------------------- */

struct rec {
	unsigned long seq;
	int step;
	char host;              /* 'A' or 'B' */
	unsigned path;          /* 1-based */
	char name[48];
	char result[96];
	bool good;
};

struct demo;

struct host {
	char name;              /* 'A' or 'B' */
	char iqn[96];
	uint64_t key;
	struct prpath_ctx *ctx;
	struct prpath_dev *dev;
	struct prpath_path *sim[DEMO_MAX_PATHS]; /* owned by dev */
	struct demo *d;
};

struct check {
	const char *what;
	bool ok;
	char detail[160];
};

struct demo {
	struct cli *c;
	unsigned npaths;
	uint64_t seed, rng;
	struct prpath_lu *lu;
	uint64_t blocks;
	struct host A, B;

	pthread_mutex_t lock;
	int step;
	struct rec *recs;
	size_t nrecs, caprecs;
	unsigned long seq;
	char events[64][128];
	size_t nevents;
	size_t events_dropped;  /* beyond events[] in this step: said, not hidden */

	/* expected content: writer id of the last successful write, 0 = zeroes */
	uint32_t *expect;
	uint32_t next_id;
	uint32_t a_late_ids_min;

	struct json_object *doc, *steps, *cur;
	struct check *checks;   /* grows: every check counts */
	size_t nchecks, capchecks;
	bool checks_lost;       /* a check could not be recorded: verdict FAIL */
	/* tests only (PRPATH_DEMO_TEST_BREAK, see verdict()): 0 = none, N >= 1
	 * = check N is recorded failed, -1 = one block is overwritten behind
	 * the bookkeeping's back before the read-back */
	int test_break;
	unsigned long a_write_after_takeover_ok;
};

static uint64_t rnd(struct demo *d)
{
	/* splitmix64 */
	uint64_t z = (d->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const char *cmd_name(const uint8_t *cdb)
{
	const char *n;

	switch (cdb[0]) {
	case PRPATH_SCSI_OP_PR_OUT:
		n = prpath_prout_sa_name(cdb[1] & 0x1f);
		return n ? n : "PERSISTENT RESERVE OUT";
	case PRPATH_SCSI_OP_PR_IN:
		n = prpath_prin_sa_name(cdb[1] & 0x1f);
		return n ? n : "PERSISTENT RESERVE IN";
	case PRPATH_SCSI_OP_TEST_UNIT_READY: return "TEST UNIT READY";
	case PRPATH_SCSI_OP_INQUIRY: return "INQUIRY";
	case PRPATH_SCSI_OP_READ10: case PRPATH_SCSI_OP_READ16: return "READ";
	case PRPATH_SCSI_OP_WRITE10: case PRPATH_SCSI_OP_WRITE16: return "WRITE";
	case PRPATH_SCSI_OP_SERVICE_ACTION_IN16: return "READ CAPACITY(16)";
	default: return "command";
	}
}

static void result_text(const struct prpath_trace *io, char *out, size_t cap,
			bool *good)
{
	struct prpath_sense s;

	int rc = io->rc;

	*good = false;
	if (rc == -ETIMEDOUT) {
		snprintf(out, cap, "no response (aborted by the target)");
		return;
	}
	if (rc == -ENOTCONN) {
		snprintf(out, cap, "path down");
		return;
	}
	if (rc < 0) {
		snprintf(out, cap, "transport error (%s)", prpath_strerror(rc));
		return;
	}
	prpath_sense_classify(io->status, io->sense, io->sense_len, &s);
	if (io->status == PRPATH_SCSI_STATUS_CHECK_CONDITION && s.valid) {
		snprintf(out, cap, "%s %02X/%02X (%s)",
			 s.key == PRPATH_SCSI_SK_UNIT_ATTENTION ? "UNIT ATTENTION" :
			 prpath_sense_key_name(s.key), s.asc, s.ascq,
			 prpath_asc_name(s.asc, s.ascq));
		return;
	}
	*good = io->status == PRPATH_SCSI_STATUS_GOOD;
	snprintf(out, cap, "%s", prpath_status_name(io->status));
}

/* The device's trace: one record per command, in completion order. */
static void on_trace(void *arg, struct prpath_dev *dev, const struct prpath_trace *t)
{
	struct host *h = arg;
	struct demo *d = h->d;
	struct rec *r;

	(void)dev;
	pthread_mutex_lock(&d->lock);
	if (d->nrecs == d->caprecs) {
		size_t n = d->caprecs ? d->caprecs * 2 : 1024;
		struct rec *nr = realloc(d->recs, n * sizeof(*nr));

		if (!nr) {
			pthread_mutex_unlock(&d->lock);
			return;
		}
		d->recs = nr;
		d->caprecs = n;
	}
	r = &d->recs[d->nrecs++];
	memset(r, 0, sizeof(*r));
	r->seq = ++d->seq;
	r->step = d->step;
	r->host = h->name;
	r->path = t->path + 1;
	snprintf(r->name, sizeof(r->name), "%s", cmd_name(t->cdb));
	result_text(t, r->result, sizeof(r->result), &r->good);
	pthread_mutex_unlock(&d->lock);
}

/* ---- events and logging ---------------------------------------------------- */

static void on_event(void *arg, struct prpath_dev *dev,
		     const struct prpath_event *ev)
{
	struct host *h = arg;
	struct demo *d = h->d;
	const char *what;

	(void)dev;
	switch (ev->type) {
	case PRPATH_EVENT_FENCED: what = "fenced: its key is gone from the LU"; break;
	case PRPATH_EVENT_PATH_DOWN: what = "down"; break;
	case PRPATH_EVENT_PATH_UP: what = "up"; break;
	case PRPATH_EVENT_RESERVATION_LOST: what = "reservation lost"; break;
	default: what = "event"; break;
	}
	pthread_mutex_lock(&d->lock);
	if (d->nevents == sizeof(d->events) / sizeof(d->events[0]))
		d->events_dropped++;
	if (d->nevents < sizeof(d->events) / sizeof(d->events[0])) {
		if (ev->type == PRPATH_EVENT_FENCED && ev->path >= 0)
			snprintf(d->events[d->nevents++], sizeof(d->events[0]),
				 "%c event: fenced (seen on path %d)", h->name, ev->path + 1);
		else if (ev->path >= 0)
			snprintf(d->events[d->nevents++], sizeof(d->events[0]),
				 "%c event: path %d %s", h->name, ev->path + 1, what);
		else
			snprintf(d->events[d->nevents++], sizeof(d->events[0]),
				 "%c event: %s", h->name, what);
	}
	pthread_mutex_unlock(&d->lock);
}

static void on_log(void *arg, int level, const char *msg)
{
	struct host *h = arg;

	fprintf(stderr, "prpath: demo: host %c: %s\n", h->name, msg);
	(void)level;
}

/* ---- the timeline ----------------------------------------------------------- */

static void step_begin(struct demo *d, int n, const char *title)
{
	pthread_mutex_lock(&d->lock);
	d->step++; /* records are grouped per step_begin, not per number */
	d->nevents = 0;
	d->events_dropped = 0;
	pthread_mutex_unlock(&d->lock);
	d->cur = json_object_new_object();
	out_add_int(d->cur, "step", n);
	out_add_str(d->cur, "title", title);
	json_object_object_add(d->cur, "notes", json_object_new_array());
	if (d->c->output == OUT_TEXT)
		printf("\n[%d] %s\n", n, title);
}

__attribute__((format(printf, 2, 3)))
static void note(struct demo *d, const char *fmt, ...)
{
	struct json_object *notes;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_get_ex(d->cur, "notes", &notes);
	json_object_array_add(notes, json_object_new_string(msg));
	if (d->c->output == OUT_TEXT)
		printf("    => %s\n", msg);
}

struct group {
	char host;
	char name[48];
	unsigned long first;
	/* results: up to 6 distinct, each a path bitmap */
	char result[6][96];
	uint32_t paths[6];
	unsigned count[6];
	size_t nres;
};

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static int result_rank(const char *r)
{
	/* what a path answered first comes first: unit attentions (retried) */
	return strncmp(r, "UNIT ATTENTION", 14) == 0 ? 0 : 1;
}

/* Orders a group's results: unit attentions first, then by text, so the
 * output does not depend on which thread finished first. */
static void sort_results(struct group *g)
{
	size_t a, b;

	for (a = 0; a < g->nres; a++)
		for (b = a + 1; b < g->nres; b++) {
			int ra = result_rank(g->result[a]), rb = result_rank(g->result[b]);

			if (ra > rb || (ra == rb && strcmp(g->result[a], g->result[b]) > 0)) {
				char t[96];
				uint32_t tp = g->paths[a];
				unsigned tc = g->count[a];

				memcpy(t, g->result[a], sizeof(t));
				memcpy(g->result[a], g->result[b], sizeof(t));
				memcpy(g->result[b], t, sizeof(t));
				g->paths[a] = g->paths[b];
				g->paths[b] = tp;
				g->count[a] = g->count[b];
				g->count[b] = tc;
			}
		}
}

static void paths_str(uint32_t m, char *out, size_t cap)
{
	size_t o = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < 32 && o + 4 < cap; i++)
		if (m & (1u << i))
			o += (size_t)snprintf(out + o, cap - o, "%s%u", o ? "," : "", i + 1);
}

static int ev_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Prints the commands of the current step: per host and command, which
 * paths and with what result; and the events seen. */
static void step_end(struct demo *d)
{
	struct group *g;
	struct json_object *cmds = json_object_new_array(), *evs;
	size_t ng = 0, i, j, k;

	pthread_mutex_lock(&d->lock);
	g = calloc(d->nrecs + 1, sizeof(*g));
	for (i = 0; g && i < d->nrecs; i++) {
		struct rec *r = &d->recs[i];

		if (r->step != d->step)
			continue;
		for (j = 0; j < ng; j++)
			if (g[j].host == r->host && strcmp(g[j].name, r->name) == 0)
				break;
		if (j == ng) {
			memset(&g[ng], 0, sizeof(g[ng]));
			g[ng].host = r->host;
			snprintf(g[ng].name, sizeof(g[ng].name), "%s", r->name);
			g[ng].first = r->seq;
			ng++;
		}
		for (k = 0; k < g[j].nres; k++)
			if (strcmp(g[j].result[k], r->result) == 0)
				break;
		if (k == g[j].nres && k < 6) {
			snprintf(g[j].result[k], sizeof(g[j].result[k]), "%s", r->result);
			g[j].nres++;
		}
		if (k < 6) {
			g[j].paths[k] |= 1u << (r->path - 1);
			g[j].count[k]++;
		}
	}
	qsort(d->events, d->nevents, sizeof(d->events[0]), ev_cmp);
	pthread_mutex_unlock(&d->lock);
	if (g)
		qsort(g, ng, sizeof(*g), group_cmp);
	for (i = 0; g && i < ng; i++)
		sort_results(&g[i]);
	for (i = 0; g && i < ng; i++) {
		struct json_object *o = json_object_new_object(), *res;
		char host[2] = { g[i].host, 0 };

		out_add_str(o, "host", host);
		out_add_str(o, "command", g[i].name);
		res = json_object_new_array();
		for (k = 0; k < g[i].nres; k++) {
			struct json_object *ro = json_object_new_object(), *pa;
			char ps[96];
			unsigned p;

			pa = json_object_new_array();
			for (p = 0; p < 32; p++)
				if (g[i].paths[k] & (1u << p))
					json_object_array_add(pa, json_object_new_int((int)p + 1));
			out_add_str(ro, "result", g[i].result[k]);
			json_object_object_add(ro, "paths", pa);
			out_add_int(ro, "count", g[i].count[k]);
			json_object_array_add(res, ro);
			if (d->c->output == OUT_TEXT) {
				paths_str(g[i].paths[k], ps, sizeof(ps));
				if (k == 0)
					printf("      %c  %-33s", g[i].host, g[i].name);
				else
					printf("         %-33s", "");
				printf(" path%s %-10s", strchr(ps, ',') ? "s" : " ", ps);
				if (g[i].count[k] > (unsigned)__builtin_popcount(g[i].paths[k]))
					printf(" %s (x%u)\n", g[i].result[k], g[i].count[k]);
				else
					printf(" %s\n", g[i].result[k]);
			}
		}
		json_object_object_add(o, "results", res);
		json_object_array_add(cmds, o);
	}
	free(g);
	json_object_object_add(d->cur, "commands", cmds);
	evs = json_object_new_array();
	for (i = 0; i < d->nevents; i++) {
		json_object_array_add(evs, json_object_new_string(d->events[i]));
		if (d->c->output == OUT_TEXT)
			printf("      %s\n", d->events[i]);
	}
	if (d->events_dropped) {
		char more[64];

		snprintf(more, sizeof(more), "(%zu more events not shown)", d->events_dropped);
		json_object_array_add(evs, json_object_new_string(more));
		if (d->c->output == OUT_TEXT)
			printf("      %s\n", more);
	}
	json_object_object_add(d->cur, "events", evs);
	/* d->cur stays current: notes after the commands go to it too */
	json_object_array_add(d->steps, d->cur);
}

static void check(struct demo *d, const char *what, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void check(struct demo *d, const char *what, bool ok, const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (d->nchecks == d->capchecks) {
		size_t cap = d->capchecks ? 2 * d->capchecks : 16;
		struct check *n = realloc(d->checks, cap * sizeof(*n));

		if (!n) {
			d->checks_lost = true;
			return;
		}
		d->checks = n;
		d->capchecks = cap;
	}
	c = &d->checks[d->nchecks++];
	c->what = what;
	c->ok = ok && (size_t)d->test_break != d->nchecks;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* ---- data ------------------------------------------------------------------ */

/* The content of block @lba as written by write @id: a readable line
 * repeated, so a hex dump of the LU tells who wrote what. */
static void fill_block(uint8_t *b, uint64_t lba, uint32_t id, char host)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "prpath demo: host %c write #%" PRIu32
			 " lba %" PRIu64 "\n", host, id, lba);
	size_t o;

	for (o = 0; o < DEMO_BS; o += (size_t)n) {
		size_t m = DEMO_BS - o < (size_t)n ? DEMO_BS - o : (size_t)n;

		memcpy(b + o, line, m);
	}
}

/* writer ids: A's in the low half, B's in the high half */
#define ID_B 0x80000000u

static int host_write(struct demo *d, struct host *h, uint64_t lba, int via,
		      uint32_t *id_out)
{
	uint8_t buf[DEMO_BS];
	uint32_t id;
	int rc;

	pthread_mutex_lock(&d->lock);
	id = ++d->next_id | (h->name == 'B' ? ID_B : 0);
	pthread_mutex_unlock(&d->lock);
	fill_block(buf, lba, id & ~ID_B, h->name);
	rc = prpath_dev_write(h->dev, lba, 1, buf, via);
	if (rc == 0) {
		pthread_mutex_lock(&d->lock);
		d->expect[lba] = id;
		pthread_mutex_unlock(&d->lock);
	}
	if (id_out)
		*id_out = id;
	return rc;
}

/* ---- setup ------------------------------------------------------------------ */

static int host_setup(struct demo *d, struct host *h, char name)
{
	struct prpath_host hh;
	unsigned i;
	int rc;

	h->name = name;
	h->d = d;
	snprintf(h->iqn, sizeof(h->iqn), "%shost-%c", CLI_INITIATOR_PREFIX,
		 name == 'A' ? 'a' : 'b');
	h->key = prpath_key_derive(h->iqn);
	rc = prpath_ctx_new(&h->ctx);
	if (rc)
		return rc;
	if (d->c->verbose)
		prpath_ctx_set_log(h->ctx, on_log, h, d->c->verbose > 2 ? 2 : d->c->verbose);
	hh.initiator = h->iqn;
	hh.key = h->key;
	rc = prpath_dev_new(h->ctx, &hh, &h->dev);
	if (rc)
		return rc;
	prpath_dev_set_event_cb(h->dev, on_event, h);
	prpath_dev_set_trace(h->dev, on_trace, h);
	for (i = 0; i < d->npaths; i++) {
		char port[PRPATH_PORT_NAME_MAX], portal[32];
		struct prpath_path *p;

		/* the port names an iSCSI path to portal i would present */
		snprintf(portal, sizeof(portal), "127.0.0.1:%u", 3260 + i);
		rc = prpath_iscsi_port_name(h->iqn, portal, "iqn.2024-01.org.prpath:demo",
					    0, port, sizeof(port));
		if (rc)
			return rc;
		rc = prpath_path_open_lu(d->lu, port, (uint16_t)(i + 1), &p);
		if (rc)
			return rc;
		rc = prpath_dev_add_path(h->dev, p); /* the device owns p now */
		if (rc < 0)
			return rc;
		h->sim[i] = p;
	}
	return prpath_dev_probe(h->dev);
}

static void host_free(struct host *h)
{
	prpath_dev_free(h->dev);
	h->dev = NULL;
	prpath_ctx_free(h->ctx);
	h->ctx = NULL;
}

static bool status_of(struct host *h, struct prpath_dev_status *st,
		      struct prpath_path_status *ps)
{
	return prpath_dev_status(h->dev, st, ps, DEMO_MAX_PATHS) == 0 &&
	       st->device_valid;
}

static const char *key_s(uint64_t k, char buf[19])
{
	out_key_str(k, buf);
	return buf;
}

/* ---- the story -------------------------------------------------------------- */

struct late_write {
	struct demo *d;
	unsigned path;      /* 0-based */
	uint64_t lba;
	int rc;
	uint32_t id;
	pthread_t th;
};

static void *late_writer(void *arg)
{
	struct late_write *lw = arg;

	lw->rc = host_write(lw->d, &lw->d->A, lw->lba, (int)lw->path, &lw->id);
	return NULL;
}

static uint64_t pick_lba(struct demo *d)
{
	/* a block in the first 16 MiB, not block 0 */
	return 1 + rnd(d) % ((d->blocks < 32768 ? d->blocks : 32768) - 1);
}

static int run_story(struct demo *d)
{
	struct prpath_path_status ps[DEMO_MAX_PATHS];
	struct prpath_dev_status st;
	struct late_write late[DEMO_MAX_PATHS];
	uint64_t a_lbas[DEMO_MAX_PATHS * DEMO_WRITES_PER_PATH];
	size_t na = 0;
	char k1[19], k2[19];
	unsigned i, j, ok_writes, failed_path, back = 0;
	unsigned long recs_before;
	int rc;

	/* 1 */
	step_begin(d, 1, "A opens the LU exclusive: REGISTER on every path at once, RESERVE on one");
	rc = prpath_dev_open(d->A.dev, PRPATH_MODE_EXCLUSIVE, 0);
	step_end(d);
	if (rc) {
		note(d, "A's open failed: %s", prpath_strerror(rc));
		return EXIT_CHECK;
	}
	status_of(&d->A, &st, ps);
	note(d, "A holds a %s reservation with key %s; %zu registrations of its key (one per path)",
	     prpath_pr_type_name(st.holder_type), key_s(st.holder_key, k1),
	     st.nkey_registrations);
	check(d, "A registered on every path and holds the reservation",
	      st.we_hold && st.nkey_registrations == d->npaths,
	      "%zu of %u paths registered, holder %s", st.nkey_registrations, d->npaths,
	      key_s(st.holder_key, k1));

	/* 2 */
	step_begin(d, 2, "A writes through every path (I/O on the paths that did not reserve too)");
	ok_writes = 0;
	for (i = 0; i < d->npaths; i++) {
		for (j = 0; j < DEMO_WRITES_PER_PATH; j++) {
			uint64_t lba = pick_lba(d);

			if (host_write(d, &d->A, lba, (int)i, NULL) == 0) {
				ok_writes++;
				a_lbas[na++] = lba;
			}
		}
	}
	step_end(d);
	note(d, "%u of %u writes succeeded, %d on each path", ok_writes,
	     d->npaths * DEMO_WRITES_PER_PATH, DEMO_WRITES_PER_PATH);
	check(d, "A's writes on every registered path succeeded",
	      ok_writes == d->npaths * DEMO_WRITES_PER_PATH, "%u of %u", ok_writes,
	      d->npaths * DEMO_WRITES_PER_PATH);

	/* 3 */
	step_begin(d, 3, "B tries to open exclusive: refused, and B leaves no registration behind");
	rc = prpath_dev_open(d->B.dev, PRPATH_MODE_EXCLUSIVE, 0);
	status_of(&d->B, &st, ps);
	step_end(d);
	note(d, "B's open: %s", rc ? prpath_strerror(rc) : "succeeded (wrong!)");
	note(d, "READ KEYS: %zu registration(s), all with A's key %s; B's key %s: %zu",
	     st.nregistrations, key_s(d->A.key, k1), key_s(d->B.key, k2),
	     st.nkey_registrations);
	check(d, "B's refused open left no registration of B",
	      rc == PRPATH_ERR_RESERVED && st.nkey_registrations == 0 &&
	      st.nregistrations == d->npaths,
	      "open returned %s, %zu keys registered, %zu of B", prpath_strerror(rc),
	      st.nregistrations, st.nkey_registrations);
	if (rc == 0)
		prpath_dev_close(d->B.dev);

	/* 4 */
	failed_path = (unsigned)(rnd(d) % d->npaths);
	if (d->npaths < 2) {
		step_begin(d, 4, "a path of A fails (skipped: A has only one path)");
		step_end(d);
	} else {
		char title[128];
		bool reg_first = false;
		unsigned long reg_seq = 0, io_seq = 0;
		size_t r;

		snprintf(title, sizeof(title),
			 "A's path %u fails; I/O goes on over the other paths", failed_path + 1);
		step_begin(d, 4, title);
		prpath_path_set_down(d->A.sim[failed_path], true);
		ok_writes = 0;
		for (j = 0; j < d->npaths + 1; j++)
			if (host_write(d, &d->A, pick_lba(d), -1, NULL) == 0)
				ok_writes++;
		step_end(d);
		note(d, "%u of %u writes succeeded (the one sent on the dead path failed over, after a PREEMPT of A's own key took the dead nexus's registration, so that write can never land late)",
		     ok_writes, d->npaths + 1);
		check(d, "I/O continued while a path was down", ok_writes == d->npaths + 1,
		      "%u of %u writes", ok_writes, d->npaths + 1);

		snprintf(title, sizeof(title),
			 "A's path %u returns: the checker re-registers it before it carries I/O",
			 failed_path + 1);
		step_begin(d, 4, title);
		recs_before = d->seq;
		prpath_path_set_down(d->A.sim[failed_path], false);
		rc = prpath_dev_check_paths(d->A.dev, &back);
		{
			int wr = host_write(d, &d->A, pick_lba(d), (int)failed_path, NULL);

			step_end(d);
			note(d, "path checker: %u path(s) reinstated; a write pinned to path %u: %s",
			     back, failed_path + 1, wr ? prpath_strerror(wr) : "GOOD");
		}
		pthread_mutex_lock(&d->lock);
		for (r = 0; r < d->nrecs; r++) {
			struct rec *x = &d->recs[r];

			if (x->seq <= recs_before || x->host != 'A' ||
			    x->path != failed_path + 1)
				continue;
			if (!reg_seq && x->good &&
			    strcmp(x->name, prpath_prout_sa_name(PRPATH_PR_OUT_REGISTER_AND_IGNORE)) == 0)
				reg_seq = x->seq;
			if (!io_seq && strcmp(x->name, "WRITE") == 0)
				io_seq = x->seq;
		}
		pthread_mutex_unlock(&d->lock);
		reg_first = reg_seq && io_seq && reg_seq < io_seq;
		check(d, "the returning path was re-registered before it carried I/O",
		      rc == 0 && back == 1 && reg_first, "reinstated %u, REGISTER #%lu, first WRITE #%lu",
		      back, reg_seq, io_seq);
	}

	/* 5 */
	step_begin(d, 5, "A stalls with writes in flight; B takes over: REGISTER, PREEMPT AND ABORT A's key");
	for (i = 0; i < d->npaths; i++)
		prpath_path_pause(d->A.sim[i]);
	for (i = 0; i < d->npaths; i++) {
		late[i].d = d;
		late[i].path = i;
		late[i].lba = na ? a_lbas[rnd(d) % na] : pick_lba(d);
		late[i].rc = 0;
		if (pthread_create(&late[i].th, NULL, late_writer, &late[i]) != 0) {
			note(d, "cannot start a writer thread");
			return EXIT_DEVICE;
		}
	}
	for (i = 0; i < d->npaths; i++)
		prpath_path_wait_held(d->A.sim[i], 1, DEMO_HOLD_MS);
	note(d, "A is paused with %u writes queued in the LU's task set, one per path", d->npaths);
	/* B's path 1 answers first (the others are 5 ms slower during the
	 * takeover), so the PREEMPT goes on path 1 in every run */
	for (i = 1; i < d->npaths; i++)
		prpath_path_set_latency(d->B.sim[i], 5000);
	rc = prpath_dev_open(d->B.dev, PRPATH_MODE_FORCE, 0);
	for (i = 1; i < d->npaths; i++)
		prpath_path_set_latency(d->B.sim[i], 0);
	{
		unsigned bw = 0;

		if (rc == 0) {
			/* B overwrites half of A's late targets and some other blocks */
			for (i = 0; i < d->npaths; i++) {
				uint64_t lba = (i % 2) ? late[i].lba : pick_lba(d);

				if (host_write(d, &d->B, lba, -1, NULL) == 0)
					bw++;
			}
		}
		step_end(d);
		note(d, "B's takeover: %s; B wrote %u of %u blocks", rc ? prpath_strerror(rc) : "done",
		     bw, d->npaths);
		check(d, "B took over and wrote", rc == 0 && bw == d->npaths,
		      "takeover %s, %u of %u writes", prpath_strerror(rc), bw, d->npaths);
	}

	/* 6 */
	step_begin(d, 6, "A wakes up: its late writes never execute, it finds it is fenced and stops");
	for (i = 0; i < d->npaths; i++)
		prpath_path_resume(d->A.sim[i]);
	{
		unsigned landed = 0;

		for (i = 0; i < d->npaths; i++) {
			pthread_join(late[i].th, NULL);
			if (late[i].rc == 0)
				landed++;
		}
		rc = prpath_dev_check_paths(d->A.dev, NULL);
		recs_before = d->nrecs;
		{
			int again = host_write(d, &d->A, pick_lba(d), -1, NULL);
			bool silent = d->nrecs == recs_before;

			step_end(d);
			note(d, "A's %u late writes: %u completed, %u never executed (aborted by B's PREEMPT AND ABORT: no response, A sees: %s)",
			     d->npaths, landed, d->npaths - landed,
			     landed == d->npaths ? "-" :
			     prpath_strerror(late[landed == 0 ? 0 : d->npaths - 1].rc));
			note(d, "A's path checker: %s", rc < 0 ? prpath_strerror(rc) :
			     rc == PRPATH_ERR_FENCED ? "REGISTRATIONS PREEMPTED: A is fenced, its paths stay unregistered" :
			     "no fence seen (wrong!)");
			note(d, "A's next write: %s%s", again ? prpath_strerror(again) : "GOOD (wrong!)",
			     silent ? " - failed at once, nothing sent" : "");
			check(d, "no write of A completed after B's takeover", landed == 0 && again != 0,
			      "%u late writes completed, next write: %s", landed, prpath_strerror(again));
			check(d, "A knows it is fenced and stops", rc == PRPATH_ERR_FENCED &&
			      again == PRPATH_ERR_FENCED && silent,
			      "checker %s, next write %s", prpath_strerror(rc), prpath_strerror(again));
		}
	}
	host_free(&d->A); /* A's process exits */
	return 0;
}

static int verify(struct demo *d)
{
	struct prpath_path_status ps[DEMO_MAX_PATHS];
	struct prpath_dev_status st;
	uint8_t *buf, want[DEMO_BS], zero[DEMO_BS];
	uint64_t lba, bad = 0, first_bad = 0, written = 0;
	char k1[19], first[48];
	int rc = 0;

	if (d->test_break == -1) {
		/* a write nobody recorded: the read-back must notice */
		uint8_t rogue[DEMO_BS];
		uint64_t l;

		memset(rogue, 0x5a, sizeof(rogue));
		for (l = 1; l < d->blocks && !d->expect[l]; l++)
			;
		if (l < d->blocks)
			prpath_dev_write(d->B.dev, l, 1, rogue, -1);
	}
	step_begin(d, 7, "Verification: every block read back through B");
	buf = malloc((size_t)DEMO_CHUNK * DEMO_BS);
	if (!buf)
		return -ENOMEM;
	memset(zero, 0, sizeof(zero));
	for (lba = 0; lba < d->blocks && rc == 0; lba += DEMO_CHUNK) {
		uint32_t n = (uint32_t)(d->blocks - lba < DEMO_CHUNK ? d->blocks - lba : DEMO_CHUNK);
		uint32_t k;

		rc = prpath_dev_read(d->B.dev, lba, n, buf, -1);
		for (k = 0; rc == 0 && k < n; k++) {
			uint32_t id = d->expect[lba + k];
			const uint8_t *w = zero;

			if (id) {
				fill_block(want, lba + k, id & ~ID_B, id & ID_B ? 'B' : 'A');
				w = want;
				written++;
			}
			if (memcmp(buf + (size_t)k * DEMO_BS, w, DEMO_BS) != 0) {
				if (!bad)
					first_bad = lba + k;
				bad++;
			}
		}
	}
	free(buf);
	status_of(&d->B, &st, ps);
	rc = rc ? rc : 0;
	step_end(d);
	note(d, "%" PRIu64 " blocks read, %" PRIu64 " of them written during the demo, %" PRIu64 " differ from their last successful writer%s",
	     d->blocks, written, bad, rc ? " (read failed)" : "");
	note(d, "READ KEYS: %zu registration(s), all B's key %s; reservation %s held by %s; B stays the active host",
	     st.nregistrations, key_s(d->B.key, k1),
	     prpath_pr_type_name(st.holder_type) ? prpath_pr_type_name(st.holder_type) : "-",
	     st.we_hold ? "B" : "someone else");
	first[0] = 0;
	if (bad)
		snprintf(first, sizeof(first), ", first at lba %" PRIu64, first_bad);
	check(d, "every block holds exactly what its last successful writer wrote",
	      rc == 0 && bad == 0, "%" PRIu64 " blocks compared, %" PRIu64 " mismatches%s%s%s",
	      d->blocks, bad, first, rc ? ", read error: " : "", rc ? prpath_strerror(rc) : "");
	check(d, "only B is registered and B holds the reservation",
	      st.we_hold && st.nregistrations == d->npaths && st.nkey_registrations == d->npaths,
	      "%zu registrations, %zu of B", st.nregistrations, st.nkey_registrations);
	return 0;
}

/* ---- command ------------------------------------------------------------------ */

enum { OPT_PATHS = OPT_CMD_BASE, OPT_SEED };

static int demo_opt(struct cli *c, void *arg, int opt, const char *val)
{
	struct demo *d = arg;
	unsigned long long v;

	switch (opt) {
	case OPT_PATHS:
		if (cli_parse_uint(val, DEMO_MAX_PATHS, &v) < 0 || v == 0)
			return cli_bad_value(c, "--paths", val, "is not a path count (1-16)");
		d->npaths = (unsigned)v;
		return 0;
	case OPT_SEED:
		if (cli_parse_uint(val, UINT64_MAX, &v) < 0)
			return cli_bad_value(c, "--seed", val, "is not a seed (a number)");
		d->seed = v;
		return 0;
	default:
		return EXIT_USAGE;
	}
}

static void demo_usage(FILE *f)
{
	fprintf(f,
		"Usage: prpath demo [--paths N] [--seed N]\n"
		"\n"
		"Runs the whole story in one process on the embedded storage (a 64 MiB LU of\n"
		"prpath's device server, no setup, no network): host A opens exclusive over N\n"
		"paths, writes, loses and regains a path; host B is refused, then takes over\n"
		"while A is stalled with writes in flight; A finds itself fenced; every block\n"
		"is verified. Exit status 0 when every check passes, 6 when one fails.\n"
		"  --paths N   paths per host, 1-16 (default 4)\n"
		"  --seed N    which path fails and which blocks are written (default 1)\n");
}

/* PRPATH_DEMO_TEST_BREAK, for the test suite only: "N" records check N
 * (1-based) as failed, "data" overwrites one written block behind the
 * bookkeeping's back before the read-back. Proves that every check counts
 * in the verdict and that the read-back sees a wrong block. */
static int test_break_from_env(void)
{
	const char *s = getenv("PRPATH_DEMO_TEST_BREAK");
	char *end;
	long v;

	if (!s || !*s)
		return 0;
	if (strcmp(s, "data") == 0)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 1000)
		return 0;
	return (int)v;
}

int cmd_demo(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "paths", required_argument, NULL, OPT_PATHS },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ NULL, 0, NULL, 0 },
	};
	struct demo *d;
	struct cli_cmd_opts co = { "", lo, demo_opt, NULL, demo_usage };
	uint16_t ports[DEMO_MAX_PATHS];
	struct prpath_lu_config cfg;
	struct timespec t0, t1;
	struct json_object *checks;
	char k1[19], k2[19];
	bool pass = true;
	size_t i, npass = 0;
	int first, rc, ret;

	d = calloc(1, sizeof(*d));
	if (!d) {
		cli_err(c, "out of memory");
		return EXIT_DEVICE;
	}
	d->c = c;
	d->npaths = 4;
	d->seed = 1;
	co.arg = d;
	rc = cli_parse(c, argc, argv, &co, &first);
	if (rc >= 0) {
		free(d);
		return rc;
	}
	if (first < argc) {
		cli_err(c, "demo: unexpected argument '%s' (the demo needs no PATH)", argv[first]);
		free(d);
		return EXIT_USAGE;
	}
	rc = cli_no_host_globals(c, "the demo's hosts A and B have their own names and keys");
	if (rc) {
		free(d);
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	d->rng = d->seed;
	pthread_mutex_init(&d->lock, NULL);

	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < d->npaths; i++)
		ports[i] = (uint16_t)(i + 1);
	cfg.size = DEMO_LU_BYTES;
	cfg.block_size = DEMO_BS;
	cfg.lu_id = 0x5e11ab1e0000de01ull;
	cfg.target_ports = ports;
	cfg.ntarget_ports = d->npaths;
	cfg.power_on_ua = true;
	rc = prpath_lu_new(&cfg, &d->lu);
	if (rc) {
		cli_err(c, "demo: cannot create the LU: %s", prpath_lu_last_error());
		ret = EXIT_DEVICE;
		goto out;
	}
	d->blocks = prpath_lu_blocks(d->lu);
	d->test_break = test_break_from_env();
	d->expect = calloc(d->blocks, sizeof(*d->expect));
	d->doc = out_doc("demo");
	d->steps = json_object_new_array();
	if (!d->expect || !d->steps) {
		cli_err(c, "out of memory");
		ret = EXIT_DEVICE;
		goto out;
	}
	out_add_int(d->doc, "paths", d->npaths);
	out_add_int(d->doc, "seed", (int64_t)d->seed);
	out_add_int(d->doc, "lu_blocks", (int64_t)d->blocks);
	out_add_int(d->doc, "block_size", DEMO_BS);
	out_add_str(d->doc, "lu_id", prpath_lu_naa_hex(d->lu));

	if (c->output == OUT_TEXT) {
		printf("prpath demo: one LU (%" PRIu64 " MiB, %" PRIu64 " blocks of %u bytes, NAA %s),\n"
		       "two hosts with %u path%s each, path N on target port N, seed %" PRIu64 "\n",
		       (uint64_t)(DEMO_LU_BYTES >> 20), d->blocks, DEMO_BS, prpath_lu_naa_hex(d->lu),
		       d->npaths, d->npaths == 1 ? "" : "s", d->seed);
	}
	step_begin(d, 0, "A and B find their paths (INQUIRY VPD 0x83: one LU; READ CAPACITY; VPD 0xB0: the transfer limit)");
	rc = host_setup(d, &d->A, 'A');
	if (rc == 0)
		rc = host_setup(d, &d->B, 'B');
	step_end(d);
	if (rc) {
		cli_err(c, "demo: setting up the hosts failed: %s", prpath_strerror(rc));
		ret = EXIT_DEVICE;
		goto out;
	}
	note(d, "host A: %s, key %s", d->A.iqn, key_s(d->A.key, k1));
	note(d, "host B: %s, key %s", d->B.iqn, key_s(d->B.key, k2));
	{
		struct json_object *hosts = json_object_new_object(), *ho;

		ho = json_object_new_object();
		out_add_str(ho, "initiator", d->A.iqn);
		out_add_key(ho, "key", d->A.key);
		json_object_object_add(hosts, "a", ho);
		ho = json_object_new_object();
		out_add_str(ho, "initiator", d->B.iqn);
		out_add_key(ho, "key", d->B.key);
		json_object_object_add(hosts, "b", ho);
		json_object_object_add(d->doc, "hosts", hosts);
	}

	ret = run_story(d);
	if (ret == 0 && verify(d) != 0)
		ret = EXIT_DEVICE;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	json_object_object_add(d->doc, "steps", d->steps);
	d->steps = NULL;
	checks = json_object_new_array();
	if (c->output == OUT_TEXT)
		printf("\nChecks:\n");
	for (i = 0; i < d->nchecks; i++) {
		struct json_object *o = json_object_new_object();

		out_add_str(o, "check", d->checks[i].what);
		out_add_bool(o, "ok", d->checks[i].ok);
		out_add_str(o, "detail", d->checks[i].detail);
		json_object_array_add(checks, o);
		if (!d->checks[i].ok)
			pass = false;
		else
			npass++;
		if (c->output == OUT_TEXT)
			printf("  [%s] %s (%s)\n", d->checks[i].ok ? " ok " : "FAIL",
			       d->checks[i].what, d->checks[i].detail);
	}
	if (d->checks_lost && c->output == OUT_TEXT)
		printf("  [FAIL] out of memory: a check could not be recorded\n");
	if (ret || d->nchecks == 0 || d->checks_lost)
		pass = false;
	json_object_object_add(d->doc, "checks", checks);
	out_add_str(d->doc, "verdict", pass ? "pass" : "fail");
	out_add_int(d->doc, "elapsed_ms",
		    (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	if (c->output == OUT_JSON) {
		out_json(d->doc);
	} else {
		printf("\nVerdict: %s - %zu of %zu checks passed (%.2f s)\n",
		       pass ? "PASS" : "FAIL", npass, d->nchecks,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		json_object_put(d->doc);
	}
	d->doc = NULL;
	if (!ret && !pass)
		ret = EXIT_CHECK;
out:
	host_free(&d->A);
	host_free(&d->B);
	prpath_lu_free(d->lu);
	if (d->doc)
		json_object_put(d->doc);
	if (d->steps)
		json_object_put(d->steps);
	free(d->expect);
	free(d->checks);
	free(d->recs);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return ret;
}
