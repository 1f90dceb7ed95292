/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpathd (issue 10): the long-running owner of a host's paths and
 * registrations. It reads and checks prpathd.conf(5) (--check says what it
 * found), keeps one device per LU (sessions logged in at start and kept),
 * runs the path checker every check_interval seconds (TEST UNIT READY on
 * live paths, failed ones logged in again), and answers the control socket
 * (ctl.c): list, status, and acquire / takeover / release of groups.
 * Groups start standby. SIGTERM and SIGINT stop it (exit 0) leaving
 * reservations in place; SIGHUP is said and ignored (no reload yet).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <prpath/group.h>
#include <prpath/mpath.h>
#include <prpath/path.h>
#include <prpath/prpath.h>
#include <systemd/sd-daemon.h>

#include "conf.h"
#include "ctl.h"
#include "events.h"

static int verbose;
/* The names a device's callback reads (r->g, r->lu point into the
 * configuration) change on a reload: callbacks read under this lock, a
 * reload swaps them under it. */
static pthread_rwlock_t names_lock = PTHREAD_RWLOCK_INITIALIZER;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logf_(const char *fmt, ...)
{
	va_list ap;

	/* stderr: journald (or the caller) keeps it; one line per message */
	fputs("prpathd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_lib_log(void *arg, int level, const char *msg)
{
	const struct pd_lu_run *r = arg;

	(void)level;
	if (r)
		logf_("%s/%s: %s", r->g->name, r->lu->name, msg);
	else
		logf_("%s", msg);
}

/* The configuration's number (1-based) of device path @dev_path of @r, or
 * -1. */
static int conf_path(const struct pd_lu_run *r, int dev_path)
{
	size_t k;

	if (dev_path < 0)
		return -1;
	for (k = 0; k < r->lu->nurls && k < PD_MAX_PATHS; k++)
		if (r->dev_index[k] == dev_path)
			return (int)k + 1;
	return -1;
}

static const char *event_name(enum prpath_event_type t)
{
	switch (t) {
	case PRPATH_EVENT_PATH_DOWN: return "path-down";
	case PRPATH_EVENT_PATH_UP: return "path-up";
	case PRPATH_EVENT_FENCED: return "fenced";
	case PRPATH_EVENT_RESERVATION_LOST: return "reservation-lost";
	default: return "event";
	}
}

static void on_event(void *arg, struct prpath_dev *dev, const struct prpath_event *ev)
{
	struct pd_lu_run *r = arg;
	const char *what;

	/* the reaction (the whole group stops, on_fenced) happens in the
	 * main loop, not in whichever thread saw it */
	if (ev->type == PRPATH_EVENT_FENCED || ev->type == PRPATH_EVENT_RESERVATION_LOST)
		__atomic_store_n(&r->lost, ev->type, __ATOMIC_SEQ_CST);

	(void)dev;
	pthread_rwlock_rdlock(&names_lock);
	switch (ev->type) {
	case PRPATH_EVENT_PATH_DOWN: what = "down"; break;
	case PRPATH_EVENT_PATH_UP: what = "up"; break;
	case PRPATH_EVENT_FENCED: what = "fenced: this host's key is gone"; break;
	case PRPATH_EVENT_RESERVATION_LOST: what = "reservation lost"; break;
	default: what = "event"; break;
	}
	if (ev->path >= 0)
		logf_("%s/%s path %d %s%s%s", r->g->name, r->lu->name, ev->path + 1, what,
		      ev->err ? ": " : "", ev->err ? prpath_strerror(ev->err) : "");
	else
		logf_("%s/%s %s", r->g->name, r->lu->name, what);
	pd_events_post(r->g->name, r->lu->name, conf_path(r, ev->path),
		       event_name(ev->type), ev->err ? prpath_strerror(ev->err) : NULL);
	pthread_rwlock_unlock(&names_lock);
}

/* Logs in every path of @r (concurrently) and probes. A path that cannot
 * be opened now is said; the LU keeps the paths that could. */
static int lu_start(const struct pd_conf *c, struct prpath_ctx *ctx, struct pd_lu_run *r)
{
	struct prpath_host h = { .initiator = c->initiator, .key = c->key };
	struct prpath_url_result *res;
	size_t i;
	int rc, added;

	rc = prpath_dev_new(ctx, &h, &r->dev);
	if (rc)
		return rc;
	prpath_dev_set_timeout(r->dev, 5000);
	prpath_dev_set_event_cb(r->dev, on_event, r);
	res = calloc(r->lu->nurls, sizeof(*res));
	if (!res)
		return -ENOMEM;
	added = prpath_dev_add_urls(r->dev, (const char *const *)r->lu->urls,
				    r->lu->nurls, res);
	for (i = 0; i < r->lu->nurls; i++) {
		r->dev_index[i] = res[i].index >= 0 ? res[i].index : -1;
		if (res[i].index < 0) {
			char shown[512];

			snprintf(shown, sizeof(shown), "%s", r->lu->urls[i]);
			prpath_url_redact(shown);
			logf_("%s/%s path %zu (%s): %s", r->g->name, r->lu->name, i + 1,
			      shown, res[i].why);
		}
	}
	free(res);
	if (added <= 0)
		return added < 0 ? added : PRPATH_ERR_NO_PATH;
	rc = prpath_dev_probe(r->dev);
	if (rc == -EXDEV)
		logf_("%s/%s: its paths lead to different LUs: those that differ are not used",
		      r->g->name, r->lu->name);
	else if (rc)
		logf_("%s/%s: probe: %s", r->g->name, r->lu->name, prpath_strerror(rc));
	return 0;
}

static size_t paths_up(struct pd_lu_run *r, size_t *total)
{
	struct prpath_path_status ps[PD_MAX_PATHS];
	size_t i, n, up = 0;

	n = r->dev ? prpath_dev_paths(r->dev, ps, PD_MAX_PATHS) : 0;
	for (i = 0; i < n && i < PD_MAX_PATHS; i++)
		if (ps[i].state == PRPATH_PATH_UP)
			up++;
	*total = r->lu->nurls;
	return up;
}

/* The control socket: a unix stream socket, mode 0600; a stale socket
 * of a daemon that is gone is replaced, a live one is not. */
static int ctl_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		logf_("--socket %s: longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		logf_("--socket %s: another prpathd answers there: not starting a second owner of these paths",
		      path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		logf_("--socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Control clients whose request line has not all come yet: the main loop
 * polls them with everything else, so a client that connects and says
 * nothing (or dribbles) never holds up the checker or the fencing
 * reaction. One that has not sent a whole line within PD_CTL_READ_MS is
 * dropped. */
#define PD_MAX_CLIENTS 16
#define PD_CTL_READ_MS 2000

struct ctl_client {
	int fd;
	size_t len;
	struct timespec since;
	char buf[PD_CTL_LINE_MAX + 2];
};

static struct ctl_client *clients[PD_MAX_CLIENTS];
static size_t nclients;

static void client_drop(size_t i)
{
	close(clients[i]->fd);
	free(clients[i]);
	clients[i] = clients[--nclients];
}

/* Accepts one client: only root and the daemon's own user may ask
 * (SO_PEERCRED). */
static void ctl_accept(int lfd)
{
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	struct ctl_client *cl;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0 ||
	    (cr.uid != 0 && cr.uid != getuid())) {
		static const char no[] = "{\"ok\":false,\"error\":\"only root and the daemon's user may use this socket\",\"exit_status\":1}\n";

		if (send(fd, no, sizeof(no) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			logf_("control: %s", strerror(errno));
		close(fd);
		return;
	}
	cl = nclients < PD_MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
	if (!cl) {
		static const char busy[] = "{\"ok\":false,\"error\":\"too many control clients at once\",\"exit_status\":2}\n";

		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			logf_("control: %s", strerror(errno));
		close(fd);
		return;
	}
	cl->fd = fd;
	clock_gettime(CLOCK_MONOTONIC, &cl->since);
	clients[nclients++] = cl;
}

/* Answers client @i's request (@len bytes) and ends it, or keeps it as a
 * watcher. */
static void ctl_answer(size_t i, size_t len, struct pd_state *st)
{
	struct ctl_client *cl = clients[i];
	struct timeval tv = { 2, 0 };
	char *ans;
	int watch, fl;

	ans = pd_ctl_answer(st, cl->buf, len);
	watch = st->watch;
	/* the answer is written blocking, bounded by SO_SNDTIMEO */
	fl = fcntl(cl->fd, F_GETFL);
	if (fl >= 0)
		fcntl(cl->fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (ans) {
		size_t al = strlen(ans), off = 0;

		while (off < al) {
			ssize_t w = send(cl->fd, ans + off, al - off, MSG_NOSIGNAL);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (send(cl->fd, "\n", 1, MSG_NOSIGNAL) < 0)
			logf_("control: %s", strerror(errno));
		free(ans);
	}
	if (ans && watch >= 0 && (size_t)watch < st->conf->ngroups) {
		pd_events_watch(cl->fd, st->conf->groups[watch].name);
		cl->fd = -1;
	}
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl);
	clients[i] = clients[--nclients];
}

/* The clients' descriptors to poll. */
static size_t ctl_pollfds(struct pollfd *pfd, size_t cap)
{
	size_t i;

	for (i = 0; i < nclients && i < cap; i++) {
		pfd[i].fd = clients[i]->fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	return i;
}

/* Reads what the polled clients sent; a whole line (or a full buffer, or
 * the end of input) is answered; a client too slow is dropped. */
static void ctl_polled(const struct pollfd *pfd, size_t n, struct pd_state *st)
{
	struct timespec now;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (i = n; i-- > 0;) {
		struct ctl_client *cl;
		char *nl;
		bool eof = false;

		if (i >= nclients || clients[i]->fd != pfd[i].fd)
			continue;
		cl = clients[i];
		if (pfd[i].revents) {
			ssize_t r = recv(cl->fd, cl->buf + cl->len,
					 sizeof(cl->buf) - 1 - cl->len, MSG_DONTWAIT);

			if (r > 0)
				cl->len += (size_t)r;
			else if (r == 0 || (errno != EAGAIN && errno != EINTR))
				eof = true;
		}
		nl = memchr(cl->buf, '\n', cl->len);
		if (nl || cl->len >= sizeof(cl->buf) - 1 || (eof && cl->len)) {
			ctl_answer(i, nl ? (size_t)(nl - cl->buf) : cl->len, st);
			continue;
		}
		if (eof || (now.tv_sec - cl->since.tv_sec) * 1000 +
			   (now.tv_nsec - cl->since.tv_nsec) / 1000000 > PD_CTL_READ_MS)
			client_drop(i);
	}
}

static void ctl_fini(void)
{
	while (nclients)
		client_drop(0);
}

/* Runs the group's on_fenced command (not waited for; reaped in the main
 * loop) with the group and LU in its environment. */
static void run_on_fenced(const struct pd_group *g, const struct pd_lu *lu, int why)
{
	pid_t pid;

	if (!g->on_fenced)
		return;
	pid = fork();
	if (pid < 0) {
		logf_("group %s: on_fenced %s: fork: %s", g->name, g->on_fenced, strerror(errno));
		return;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		pthread_sigmask(SIG_SETMASK, &none, NULL);
		setenv("PRPATHD_GROUP", g->name, 1);
		setenv("PRPATHD_LU", lu->name, 1);
		setenv("PRPATHD_EVENT", why == PRPATH_EVENT_FENCED ? "fenced" : "reservation-lost", 1);
		execl(g->on_fenced, g->on_fenced, g->name, lu->name, (char *)NULL);
		_exit(127);
	}
	logf_("group %s: on_fenced %s started (pid %ld)", g->name, g->on_fenced, (long)pid);
	{
		char d[300];

		snprintf(d, sizeof(d), "%s (pid %ld)", g->on_fenced, (long)pid);
		pd_events_post(g->name, lu->name, -1, "on-fenced-started", d);
	}
}

/* An LU of an active group found this host fenced (or its reservation
 * lost): the whole group stops at once. Every device of the group is
 * closed without a command (RETAIN: nothing re-registers from now on),
 * the group is marked fenced, on_fenced runs. Nothing comes back until
 * the group is acquired (or taken over) again. */
static void group_fenced(struct pd_state *st, struct pd_lu_run *hit, int why)
{
	size_t gi = (size_t)(hit->g - st->conf->groups), i;

	if (st->gstate[gi] != PD_ACTIVE)
		return;
	st->gstate[gi] = PD_FENCED;
	logf_("group %s: %s on LU %s: every LU of the group stops; nothing is registered again until the group is acquired again",
	      hit->g->name, why == PRPATH_EVENT_FENCED ? "fenced" : "reservation lost",
	      hit->lu->name);
	for (i = 0; i < st->nruns; i++)
		if (st->runs[i]->g == hit->g && st->runs[i]->dev)
			prpath_dev_close(st->runs[i]->dev);
	pd_events_post(hit->g->name, hit->lu->name, -1, "group-fenced",
		       why == PRPATH_EVENT_FENCED ?
		       "this host's key is gone: every LU of the group stopped" :
		       "the reservation is lost: every LU of the group stopped");
	run_on_fenced(hit->g, hit->lu, why);
}

static int exit_of(int rc)
{
	switch (rc) {
	case PRPATH_ERR_RESERVED:
	case PRPATH_ERR_CONFLICT:
	case PRPATH_ERR_FENCED:
	case PRPATH_ERR_NOT_HOLDER:
	case PRPATH_ERR_HELD_OTHERWISE:
	case PRPATH_ERR_OTHER_KEYS:
	case PRPATH_ERR_KEY_SHARED:
		return 24;
	case PRPATH_ERR_PARTIAL:
		return 4;
	case PRPATH_ERR_BAD_RESPONSE:
		return 5;
	default:
		return 2;
	}
}

/* acquire / takeover / release of a group. The group's first LU decides a
 * race between two hosts (an arbiter): only its winner goes on to the
 * others, and a host that cannot have all of them keeps none, so two hosts
 * never end with the LUs divided between them. */
static int group_op(struct pd_state *st, size_t gi, enum pd_op op, char *why,
		    size_t cap)
{
	const struct pd_group *g = &st->conf->groups[gi];
	struct pd_lu_run *lus[PD_MAX_LUS];
	struct prpath_dev *devs[PD_MAX_LUS];
	enum prpath_open_mode mode;
	unsigned flags;
	size_t i, n = 0, bad = 0;
	int rc = 0;

	for (i = 0; i < st->nruns && n < PD_MAX_LUS; i++)
		if (st->runs[i]->g == g)
			lus[n++] = st->runs[i];
	if (op == PD_OP_RELEASE) {
		size_t k = 0;

		for (i = 0; i < n; i++)
			if (lus[i]->dev)
				devs[k++] = lus[i]->dev;
		rc = k ? prpath_group_release(devs, k, &bad) : 0;
		if (rc) {
			for (i = 0; i < n; i++)
				if (lus[i]->dev == devs[bad])
					break;
			snprintf(why, cap, "LU %s: %s", lus[i]->lu->name,
				 prpath_strerror(rc));
		}
		st->gstate[gi] = PD_STANDBY;
		logf_("group %s released%s%s", g->name, rc ? ", but " : "", rc ? why : "");
		pd_events_post(g->name, NULL, -1, rc ? "release-incomplete" : "released",
			       rc ? why : NULL);
		return rc ? exit_of(rc) : 0;
	}
	for (i = 0; i < n; i++) {
		if (!lus[i]->dev) {
			snprintf(why, cap, "LU %s: none of its paths could be opened", lus[i]->lu->name);
			return 2;
		}
		devs[i] = lus[i]->dev;
	}
	if (g->shared && op == PD_OP_TAKEOVER) {
		snprintf(why, cap, "group %s is shared: acquire joins it; a takeover is exclusive", g->name);
		return 1;
	}
	if (st->gstate[gi] == PD_ACTIVE && op == PD_OP_ACQUIRE) {
		snprintf(why, cap, "already active");
		return 0;
	}
	mode = g->shared ? PRPATH_MODE_SHARED
			 : op == PD_OP_TAKEOVER ? PRPATH_MODE_FORCE : PRPATH_MODE_EXCLUSIVE;
	/* the daemon is the owner: the reservation outlives it (a stop
	 * leaves it in place), and it is given up by release only */
	flags = PRPATH_OPEN_RETAIN | (g->aptpl ? PRPATH_OPEN_APTPL : PRPATH_OPEN_NO_APTPL);
	for (i = 0; i < n; i++) {
		prpath_dev_close(lus[i]->dev); /* retain: sends nothing */
		__atomic_store_n(&lus[i]->lost, 0, __ATOMIC_SEQ_CST);
	}
	/* the group's first LU decides a race (the arbiter); the others are
	 * taken all at once; a host that cannot have them all keeps none */
	rc = prpath_group_open(devs, n, mode, flags, PRPATH_GROUP_SETTLE_AUTO, &bad);
	if (rc) {
		snprintf(why, cap, "LU %s%s: %s%s", lus[bad]->lu->name,
			 bad == 0 ? " (the group's first, which decides)" : "",
			 prpath_strerror(rc),
			 bad == 0 ? "; nothing was changed" : "; the LUs taken before it were released again");
		st->gstate[gi] = PD_STANDBY;
		logf_("group %s: %s failed: %s", g->name,
		      op == PD_OP_TAKEOVER ? "takeover" : "acquire", why);
		pd_events_post(g->name, lus[bad]->lu->name, -1,
			       op == PD_OP_TAKEOVER ? "takeover-failed" : "acquire-failed", why);
		return exit_of(rc);
	}
	st->gstate[gi] = PD_ACTIVE;
	logf_("group %s %s: %zu LU(s) held by this host", g->name,
	      op == PD_OP_TAKEOVER ? "taken over" : "acquired", n);
	pd_events_post(g->name, NULL, -1, op == PD_OP_TAKEOVER ? "taken-over" : "acquired",
		       NULL);
	return 0;
}

static bool same_lu(const struct pd_lu *a, const struct pd_lu *b)
{
	size_t i;

	if (strcmp(a->name, b->name) || a->nurls != b->nurls)
		return false;
	for (i = 0; i < a->nurls; i++)
		if (strcmp(a->urls[i], b->urls[i]))
			return false;
	return true;
}

/* An active (or fenced) group may not change under its owner: the same
 * mode, aptpl and LUs with the same paths, in the same order. */
static bool same_group(const struct pd_group *a, const struct pd_group *b)
{
	size_t i;

	if (a->shared != b->shared || a->aptpl != b->aptpl || a->nlus != b->nlus)
		return false;
	for (i = 0; i < a->nlus; i++)
		if (!same_lu(&a->lus[i], &b->lus[i]))
			return false;
	return true;
}

/* SIGHUP: reads @path again. LUs whose name, group and paths did not
 * change keep their device and sessions; LUs that are new (or changed)
 * start standby; LUs that are gone are closed (they hold nothing: only
 * standby groups may lose or change LUs). Refused, with nothing changed,
 * when the file is bad, the host's identity changed, or a group that is
 * not standby would change. */
static void reload(struct pd_state *st, struct pd_conf **cur, const char *path,
		   struct prpath_ctx *ctx, enum pd_group_state *gstates)
{
	struct pd_conf *old = *cur, *nc = calloc(1, sizeof(*nc));
	struct pd_lu_run **nruns = NULL, **fresh = NULL;
	enum pd_group_state ngs[PD_MAX_GROUPS] = { PD_STANDBY };
	size_t i, j, k, n = 0, kept = 0, nfresh = 0, gone = 0;
	char why[600];

	if (!nc) {
		logf_("SIGHUP: out of memory; the running configuration stays");
		return;
	}
	if (pd_conf_load(path, nc, why, sizeof(why)) != 0) {
		logf_("SIGHUP: %s; the running configuration stays", why);
		free(nc);
		return;
	}
	why[0] = '\0';
	if (strcmp(nc->initiator, old->initiator) ||
	    (nc->key ? nc->key : prpath_key_derive(nc->initiator)) !=
	    (old->key ? old->key : prpath_key_derive(old->initiator)))
		snprintf(why, sizeof(why), "the initiator name or key changed: restart prpathd for that");
	for (i = 0; i < old->ngroups && !why[0]; i++) {
		const struct pd_group *og = &old->groups[i], *ng = pd_conf_group(nc, og->name);

		if (gstates[i] == PD_STANDBY)
			continue;
		if (!ng)
			snprintf(why, sizeof(why), "group %s is %s: release it before removing it",
				 og->name, pd_group_state_name(gstates[i]));
		else if (!same_group(og, ng))
			snprintf(why, sizeof(why), "group %s is %s: its mode, aptpl, LUs and paths cannot change until it is released",
				 og->name, pd_group_state_name(gstates[i]));
	}
	for (i = 0; i < nc->ngroups; i++)
		n += nc->groups[i].nlus;
	if (!why[0]) {
		nruns = calloc(n ? n : 1, sizeof(*nruns));
		fresh = calloc(n ? n : 1, sizeof(*fresh));
		if (!nruns || !fresh)
			snprintf(why, sizeof(why), "out of memory");
	}
	if (why[0]) {
		logf_("SIGHUP: %s; the running configuration stays", why);
		free(nruns);
		free(fresh);
		pd_conf_free(nc);
		free(nc);
		return;
	}
	/* match: a run is kept when its group and LU (name and paths) are
	 * still there */
	for (i = 0, k = 0; i < nc->ngroups; i++) {
		const struct pd_group *ng = &nc->groups[i];
		const struct pd_group *og = pd_conf_group(old, ng->name);

		if (og)
			ngs[i] = gstates[og - old->groups];
		for (j = 0; j < ng->nlus; j++, k++) {
			size_t r;

			for (r = 0; r < st->nruns; r++)
				if (st->runs[r] && !strcmp(st->runs[r]->g->name, ng->name) &&
				    same_lu(st->runs[r]->lu, &ng->lus[j]))
					break;
			if (r < st->nruns) {
				nruns[k] = st->runs[r];
				st->runs[r] = NULL; /* taken */
				kept++;
			} else {
				nruns[k] = calloc(1, sizeof(**nruns));
				if (!nruns[k])
					goto oom;
				fresh[nfresh++] = nruns[k];
			}
		}
	}
	/* the swap: callbacks read the names under the lock */
	pthread_rwlock_wrlock(&names_lock);
	for (i = 0, k = 0; i < nc->ngroups; i++)
		for (j = 0; j < nc->groups[i].nlus; j++, k++) {
			nruns[k]->g = &nc->groups[i];
			nruns[k]->lu = &nc->groups[i].lus[j];
		}
	pthread_rwlock_unlock(&names_lock);
	/* what is left of the old runs is gone from the file: standby
	 * groups only, nothing registered */
	for (i = 0; i < st->nruns; i++) {
		if (!st->runs[i])
			continue;
		logf_("SIGHUP: %s/%s is gone from the file: its sessions end",
		      st->runs[i]->g->name, st->runs[i]->lu->name);
		prpath_dev_free(st->runs[i]->dev);
		free(st->runs[i]);
		gone++;
	}
	free(st->runs);
	memcpy(gstates, ngs, sizeof(ngs));
	st->runs = nruns;
	st->nruns = n;
	st->conf = nc;
	*cur = nc;
	pd_conf_free(old);
	free(old);
	for (i = 0; i < nfresh; i++) {
		struct pd_lu_run *r = fresh[i];

		for (k = 0; k < PD_MAX_PATHS; k++)
			r->dev_index[k] = -1;
		if (lu_start(nc, ctx, r))
			logf_("%s/%s: no path could be opened; the checker keeps trying",
			      r->g->name, r->lu->name);
	}
	free(fresh);
	logf_("SIGHUP: reloaded %s: %zu group(s); %zu LU(s) kept with their sessions, %zu started standby, %zu stopped",
	      path, nc->ngroups, kept, nfresh, gone);
	for (i = 0; i < nc->ngroups; i++)
		pd_events_post(nc->groups[i].name, NULL, -1, "reloaded", NULL);
	return;
oom:
	/* put back what was taken; nothing was swapped yet */
	for (i = 0; i < n; i++) {
		size_t r;

		if (!nruns[i])
			continue;
		for (r = 0; r < nfresh && fresh[r] != nruns[i]; r++)
			;
		if (r < nfresh) {
			free(nruns[i]);
			continue;
		}
		for (r = 0; r < st->nruns; r++)
			if (!st->runs[r]) {
				st->runs[r] = nruns[i];
				break;
			}
	}
	free(nruns);
	free(fresh);
	pd_conf_free(nc);
	free(nc);
	logf_("SIGHUP: out of memory; the running configuration stays");
}

/* The main loop's reaction to what the devices' callbacks flagged: an LU
 * found this host fenced (or its reservation lost) stops its group. */
static void react_lost(struct pd_state *st)
{
	size_t k;

	for (k = 0; k < st->nruns; k++) {
		int why = __atomic_exchange_n(&st->runs[k]->lost, 0, __ATOMIC_SEQ_CST);

		if (why)
			group_fenced(st, st->runs[k], why);
	}
}

/* Frees what run() set up before any path was opened. */
static void give_up(struct pd_lu_run **runs, size_t n, struct prpath_ctx *ctx,
		   struct pd_conf *c)
{
	size_t i;

	for (i = 0; runs && i < n; i++)
		free(runs[i]);
	free(runs);
	prpath_ctx_free(ctx);
	pd_conf_free(c);
	free(c);
}

/* Takes @c (malloc'd, freed here). */
static int run(struct pd_conf *c, const char *config_path, const char *sock_path)
{
	struct pd_lu_run **runs;
	struct prpath_ctx *ctx = NULL;
	struct pd_state st;
	struct timespec next;
	enum pd_group_state gstates[PD_MAX_GROUPS] = { PD_STANDBY };
	sigset_t set;
	size_t i, j, nruns = 0, k = 0;
	int rc = 0, lfd = -1, sfd = -1;

	for (i = 0; i < c->ngroups; i++)
		nruns += c->groups[i].nlus;
	runs = calloc(nruns ? nruns : 1, sizeof(*runs));
	for (i = 0; runs && i < nruns; i++) {
		runs[i] = calloc(1, sizeof(**runs));
		if (!runs[i])
			break;
	}
	if (!runs || i < nruns || prpath_ctx_new(&ctx)) {
		logf_("out of memory");
		give_up(runs, nruns, ctx, c);
		return 1;
	}
	if (verbose)
		prpath_ctx_set_log(ctx, on_lib_log, NULL, verbose > 1 ? 2 : 1);
	/* the signals that stop or poke the daemon are taken synchronously
	 * (sigtimedwait) between checker rounds: no handler races the
	 * devices */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* the socket first: a second prpathd must stop before it logs in
	 * with this host's initiator ports (that would end our sessions) */
	if (pd_events_init() < 0) {
		logf_("cannot create the event pipe: %s", strerror(errno));
		give_up(runs, nruns, ctx, c);
		return 1;
	}
	lfd = ctl_listen(sock_path);
	if (lfd < 0) {
		pd_events_fini();
		give_up(runs, nruns, ctx, c);
		return 1;
	}
	logf_("initiator %s, key 0x%016" PRIx64 ", %zu group(s), %zu LU(s), check every %u s",
	      c->initiator, c->key ? c->key : prpath_key_derive(c->initiator),
	      c->ngroups, nruns, c->check_interval);
	for (i = 0; i < c->ngroups; i++) {
		size_t up = 0, total = 0;

		for (j = 0; j < c->groups[i].nlus; j++, k++) {
			size_t t;

			runs[k]->g = &c->groups[i];
			runs[k]->lu = &c->groups[i].lus[j];
			if (lu_start(c, ctx, runs[k]))
				logf_("%s/%s: no path could be opened; the checker keeps trying",
				      runs[k]->g->name, runs[k]->lu->name);
			up += paths_up(runs[k], &t);
			total += t;
		}
		logf_("group %s: %s, %zu LU(s) standby (nothing registered), %zu of %zu paths up",
		      c->groups[i].name, c->groups[i].shared ? "shared" : "exclusive",
		      c->groups[i].nlus, up, total);
	}
	st.conf = c;
	st.runs = runs;
	st.nruns = nruns;
	st.gstate = gstates;
	st.group_op = group_op;
	st.watch = -1;
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		logf_("signalfd: %s", strerror(errno));
		rc = 1;
		goto stop;
	}
	logf_("ready (control socket %s)", sock_path);
	/* Type=notify: systemd starts what depends on us only now (a no-op
	 * without NOTIFY_SOCKET) */
	sd_notifyf(0, "READY=1\nSTATUS=%zu LU(s) standby, control socket %s",
		   nruns, sock_path);
	clock_gettime(CLOCK_MONOTONIC, &next);
	next.tv_sec += c->check_interval;
	for (;;) {
		struct pollfd pfd[3 + PD_MAX_WATCHERS + PD_MAX_CLIENTS] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = lfd, .events = POLLIN },
			{ .fd = pd_events_fd(), .events = POLLIN } };
		struct timespec now;
		size_t nw, nc;
		long ms;
		int pr;

		nw = pd_events_pollfds(pfd + 3, PD_MAX_WATCHERS);
		nc = ctl_pollfds(pfd + 3 + nw, PD_MAX_CLIENTS);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (next.tv_sec - now.tv_sec) * 1000 + (next.tv_nsec - now.tv_nsec) / 1000000;
		/* a client still sending its request is looked at again soon */
		if (nc && ms > 250)
			ms = 250;
		pr = poll(pfd, 3 + nw + nc, ms < 0 ? 0 : (int)ms);
		if (pr < 0 && errno != EINTR) {
			logf_("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (pr > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					logf_("%s: stopping (nothing registered is touched)",
					      si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
					sd_notify(0, "STOPPING=1");
					for (i = 0; i < c->ngroups; i++)
						pd_events_post(c->groups[i].name, NULL, -1,
							       "daemon-stopping",
							       "prpathd stops; the reservations stay");
					pd_events_flush();
					break;
				}
				reload(&st, &c, config_path, ctx, gstates);
			}
		}
		if (pr > 0 && nw)
			pd_events_polled(pfd + 3, nw);
		if (nc)
			ctl_polled(pfd + 3 + nw, nc, &st);
		if (pr > 0 && (pfd[1].revents & POLLIN))
			ctl_accept(lfd);
		if (pr > 0 && (pfd[2].revents & POLLIN)) {
			/* a device said something: a fenced LU stops its
			 * group now, not at the next checker round */
			react_lost(&st);
		}
		pd_events_flush();
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec && now.tv_nsec >= next.tv_nsec)) {
			/* the path checker: live paths are tested (which also
			 * keeps idle sessions serviced), failed ones log in
			 * again */
			for (k = 0; k < st.nruns; k++) {
				unsigned back = 0, dead = 0;

				if (!st.runs[k]->dev)
					continue;
				prpath_dev_test_paths(st.runs[k]->dev, &dead);
				prpath_dev_check_paths(st.runs[k]->dev, &back);
			}
			react_lost(&st);
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			clock_gettime(CLOCK_MONOTONIC, &next);
			next.tv_sec += c->check_interval;
		}
	}
stop:
	ctl_fini();
	pd_events_fini();
	if (sfd >= 0)
		close(sfd);
	if (lfd >= 0) {
		close(lfd);
		unlink(sock_path);
	}
	for (k = 0; k < st.nruns; k++) {
		prpath_dev_free(st.runs[k]->dev);
		free(st.runs[k]);
	}
	free(st.runs);
	prpath_ctx_free(ctx);
	pd_conf_free(c);
	free(c);
	logf_("stopped");
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: prpathd --config FILE [--check] [-v]\n"
		"\n"
		"  -c, --config FILE   the configuration (prpathd.conf(5))\n"
		"  -S, --socket PATH   the control socket (default /run/prpathd.sock)\n"
		"      --check         read and check it, print what it holds, exit\n"
		"  -f, --foreground    stay in the foreground (the default: prpathd never\n"
		"                      forks; systemd and tests run it as is)\n"
		"  -v, --verbose       log PR actions and path changes of the library\n"
		"  -h, --help          this help\n"
		"      --version       the version\n"
		"Exit status: 0 valid (--check) or stopped by SIGTERM/SIGINT, 1 usage or\n"
		"configuration error.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 'S' },
		{ "check", no_argument, NULL, 'C' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *sock_path = "/run/prpathd.sock";
	struct pd_conf c, *heap;
	char why[512];
	bool check = false;
	size_t i, nlus = 0, npaths = 0;
	int o;

	while ((o = getopt_long(argc, argv, "c:S:fvh", lo, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 'S': sock_path = optarg; break;
		case 'C': check = true; break;
		case 'f': break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("prpathd %s\n", prpath_version()); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "prpathd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (!config) {
		fprintf(stderr, "prpathd: --config FILE is required\n");
		usage(stderr);
		return 1;
	}
	if (pd_conf_load(config, &c, why, sizeof(why)) != 0) {
		fprintf(stderr, "prpathd: %s\n", why);
		return 1;
	}
	for (i = 0; i < c.ngroups; i++) {
		nlus += c.groups[i].nlus;
		for (size_t j = 0; j < c.groups[i].nlus; j++)
			npaths += c.groups[i].lus[j].nurls;
	}
	if (!check) {
		heap = malloc(sizeof(*heap));
		if (!heap) {
			fprintf(stderr, "prpathd: out of memory\n");
			pd_conf_free(&c);
			return 1;
		}
		*heap = c;
		return run(heap, config, sock_path);
	}
	printf("%s: initiator %s, key 0x%016" PRIx64 "%s, check every %u s\n", config,
	       c.initiator, c.key ? c.key : prpath_key_derive(c.initiator),
	       c.key ? "" : " (derived)", c.check_interval);
	for (i = 0; i < c.ngroups; i++) {
		const struct pd_group *g = &c.groups[i];

		printf("group %s: %s, aptpl %s, %zu LU(s)%s%s\n", g->name,
		       g->shared ? "shared" : "exclusive", g->aptpl ? "yes" : "no",
		       g->nlus, g->on_fenced ? ", on_fenced " : "",
		       g->on_fenced ? g->on_fenced : "");
		for (size_t j = 0; j < g->nlus; j++)
			printf("  lu %s: %zu path(s)\n", g->lus[j].name, g->lus[j].nurls);
	}
	printf("%zu group(s), %zu LU(s), %zu path(s): valid\n", c.ngroups, nlus, npaths);
	pd_conf_free(&c);
	return 0;
}
