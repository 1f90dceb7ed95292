/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * e2e_host: ONE host of the end-to-end multipath tests (tests/e2e_driver.py
 * runs two of them, host A and host B, against a real iSCSI target).
 *
 *   e2e_host --initiator IQN [--key K] [--timeout MS] URL...
 *
 * Every URL is one path (iscsi://HOST:PORT/TARGET/LUN). Each path goes
 * through a small TCP proxy inside this process, so the test can break a
 * path for real (the TCP connection and with it the iSCSI session goes
 * away, and reconnects are refused until "up") or hold the commands a path
 * sends (a paused host: the bytes stay in the proxy until "resume").
 *
 * Line protocol on stdin/stdout: one command per line, one answer line:
 * "ok ..." or "err <code> <symbol>" (code: the library's error convention).
 *
 *   open MODE [ea] [retain]     exclusive|force|shared|single|noreserve
 *   close
 *   write LBA COUNT BYTE VIA    VIA -1: the device chooses, else 0-based
 *   read LBA COUNT VIA          ok <per block: 2 hex digits if uniform, else mx>
 *   awrite LBA COUNT BYTE VIA   asynchronous write -> ok ID
 *   await ID MS                 ok <rc> <symbol>, or err 0 TIMEOUT
 *   loop start LBA N BYTE       N threads rewrite blocks LBA..LBA+N-1 until
 *                               an error or "loop stop"
 *   loop stop                   ok writes=<successes> rc=<rc,...>
 *   status                      ok key=value ... (prpath_dev_status)
 *   check                       prpath_dev_check_paths -> ok N | err
 *   fail I                      prpath_dev_fail_path
 *   cut I | up I                proxy: break path I / let it connect again
 *   pause I | resume I          proxy: hold / release what path I sends
 *   held I MS                   wait until path I's proxy holds data
 *   keys I                      raw READ KEYS on path I: ok gen=N keys=K,...
 *   prout I SA TYPE RK SARK     raw PR OUT on path I: ok status=S sense=K/A/Q
 *   prin I SA                   raw PR IN on path I: ok status=S sense=K/A/Q len=N
 *   quit
 */
#include <errno.h>
#include <signal.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <prpath/mpath.h>
#include <prpath/path.h>
#include <prpath/scsi.h>

#define MAX_PATHS 8
#define MAX_ASYNC 64
#define MAX_LOOP 16
#define PX_BUF 65536

/* ---- the per-path TCP proxy ------------------------------------------- */

struct px_pair {
	int cfd, sfd;   /* host side, target side */
	int refs;
	bool dead;
	struct px_pair *next;
	struct proxy *px;
};

struct proxy {
	int lfd;
	uint16_t lport;
	char thost[256];
	uint16_t tport;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool down, paused;
	unsigned held;
	struct px_pair *pairs;
};

struct pump {
	struct px_pair *pr;
	bool up; /* host -> target */
};

static void px_kill_locked(struct px_pair *pr)
{
	pr->dead = true;
	shutdown(pr->cfd, SHUT_RDWR);
	shutdown(pr->sfd, SHUT_RDWR);
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *pump_thread(void *arg)
{
	struct pump *pu = arg;
	struct px_pair *pr = pu->pr;
	struct proxy *px = pr->px;
	int src = pu->up ? pr->cfd : pr->sfd, dst = pu->up ? pr->sfd : pr->cfd;
	uint8_t *buf = malloc(PX_BUF);

	while (buf) {
		ssize_t n = recv(src, buf, PX_BUF, 0);
		bool dead;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		pthread_mutex_lock(&px->lock);
		if (pu->up && px->paused && !pr->dead) {
			px->held++;
			pthread_cond_broadcast(&px->cond);
			while (px->paused && !pr->dead)
				pthread_cond_wait(&px->cond, &px->lock);
			px->held--;
		}
		dead = pr->dead;
		pthread_mutex_unlock(&px->lock);
		if (dead || write_all(dst, buf, (size_t)n) < 0)
			break;
	}
	free(buf);
	pthread_mutex_lock(&px->lock);
	px_kill_locked(pr);
	if (--pr->refs == 0) {
		struct px_pair **pp;

		for (pp = &px->pairs; *pp; pp = &(*pp)->next)
			if (*pp == pr) {
				*pp = pr->next;
				break;
			}
		close(pr->cfd);
		close(pr->sfd);
		free(pr);
	}
	pthread_cond_broadcast(&px->cond);
	pthread_mutex_unlock(&px->lock);
	free(pu);
	return NULL;
}

static int px_connect(struct proxy *px)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	char port[8];
	int fd = -1;

	snprintf(port, sizeof(port), "%u", px->tport);
	if (getaddrinfo(px->thost, port, &hints, &ai) != 0)
		return -1;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void *accept_thread(void *arg)
{
	struct proxy *px = arg;

	for (;;) {
		int cfd = accept4(px->lfd, NULL, NULL, SOCK_CLOEXEC), sfd;
		struct px_pair *pr;
		pthread_t th;
		int k;
		bool down;

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		pthread_mutex_lock(&px->lock);
		down = px->down;
		pthread_mutex_unlock(&px->lock);
		sfd = down ? -1 : px_connect(px);
		pr = sfd >= 0 ? calloc(1, sizeof(*pr)) : NULL;
		if (!pr) {
			if (sfd >= 0)
				close(sfd);
			close(cfd);
			continue;
		}
		pr->cfd = cfd;
		pr->sfd = sfd;
		pr->px = px;
		pr->refs = 2;
		pthread_mutex_lock(&px->lock);
		pr->next = px->pairs;
		px->pairs = pr;
		pthread_mutex_unlock(&px->lock);
		for (k = 0; k < 2; k++) {
			struct pump *pu = malloc(sizeof(*pu));

			if (pu) {
				pu->pr = pr;
				pu->up = k == 0;
			}
			if (!pu || pthread_create(&th, NULL, pump_thread, pu) != 0) {
				fprintf(stderr, "e2e_host: cannot start a proxy thread\n");
				exit(2);
			}
			pthread_detach(th);
		}
	}
}

static int px_start(struct proxy *px, const char *host, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	pthread_t th;

	snprintf(px->thost, sizeof(px->thost), "%s", host);
	px->tport = port;
	pthread_mutex_init(&px->lock, NULL);
	pthread_cond_init(&px->cond, NULL);
	px->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (px->lfd < 0)
		return -errno;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(px->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(px->lfd, 8) < 0 ||
	    getsockname(px->lfd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	px->lport = ntohs(sa.sin_port);
	if (pthread_create(&th, NULL, accept_thread, px) != 0)
		return -EAGAIN;
	pthread_detach(th);
	return 0;
}

static void px_cut(struct proxy *px, bool down)
{
	struct px_pair *pr;

	pthread_mutex_lock(&px->lock);
	px->down = down;
	if (down)
		for (pr = px->pairs; pr; pr = pr->next)
			px_kill_locked(pr);
	pthread_cond_broadcast(&px->cond);
	pthread_mutex_unlock(&px->lock);
}

static void px_pause(struct proxy *px, bool paused)
{
	pthread_mutex_lock(&px->lock);
	px->paused = paused;
	pthread_cond_broadcast(&px->cond);
	pthread_mutex_unlock(&px->lock);
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool px_wait_held(struct proxy *px, unsigned ms)
{
	struct timespec dl;
	bool ok;

	deadline_in(&dl, ms);
	pthread_mutex_lock(&px->lock);
	while (!px->held)
		if (pthread_cond_timedwait(&px->cond, &px->lock, &dl) == ETIMEDOUT)
			break;
	ok = px->held > 0;
	pthread_mutex_unlock(&px->lock);
	return ok;
}

/* ---- the host ------------------------------------------------------------ */

static struct prpath_dev *dev;
static struct proxy proxies[MAX_PATHS];
static unsigned npaths;
static uint32_t bsize;

struct awr {
	uint64_t lba;
	uint32_t count;
	uint8_t v;
	int via;
	bool done;
	int rc;
};

static struct awr awrs[MAX_ASYNC];
static unsigned nawr;
static pthread_mutex_t alock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t acond = PTHREAD_COND_INITIALIZER;

struct looper {
	uint64_t lba;
	uint8_t v;
	unsigned long writes;
	int rc;
	pthread_t th;
};

static struct looper loops[MAX_LOOP];
static unsigned nloops;
static volatile int loop_stop;
static pthread_mutex_t llock = PTHREAD_MUTEX_INITIALIZER;

static const char *err_sym(int rc)
{
	static const char *const scsi[] = {
		"OK", "CONFLICT", "UNIT_ATTENTION", "NOT_READY",
		"ILLEGAL_REQUEST", "ABORTED", "BUSY", "MEDIUM", "MISCOMPARE",
		"CHECK_OTHER", "RESERVED", "FENCED", "NO_PATH", "PARTIAL",
		"BAD_RESPONSE", "NOT_HOLDER", "HELD_OTHERWISE", "OTHER_KEYS",
		"KEY_SHARED",
	};

	if (rc >= 0 && rc < (int)(sizeof(scsi) / sizeof(scsi[0])))
		return scsi[rc];
	switch (-rc) {
	case ENOTCONN: return "ENOTCONN";
	case ECONNRESET: return "ECONNRESET";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EIO: return "EIO";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case EACCES: return "EACCES";
	case EXDEV: return "EXDEV";
	case ESHUTDOWN: return "ESHUTDOWN";
	default: return "OTHER";
	}
}

static void reply(int rc)
{
	if (rc)
		printf("err %d %s\n", rc, err_sym(rc));
	else
		printf("ok\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

static int parse_int(const char *s, int *v)
{
	char *end;
	long l;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	l = strtol(s, &end, 0);
	if (errno || *end || l < -1000000000L || l > 1000000000L)
		return -EINVAL;
	*v = (int)l;
	return 0;
}

static void *awrite_thread(void *arg)
{
	struct awr *a = arg;
	size_t n = (size_t)a->count * bsize;
	uint8_t *buf = malloc(n);
	int rc = -ENOMEM;

	if (buf) {
		memset(buf, a->v, n);
		rc = prpath_dev_write(dev, a->lba, a->count, buf, a->via);
		free(buf);
	}
	pthread_mutex_lock(&alock);
	a->rc = rc;
	a->done = true;
	pthread_cond_broadcast(&acond);
	pthread_mutex_unlock(&alock);
	return NULL;
}

static void *loop_thread(void *arg)
{
	struct looper *l = arg;
	uint8_t *buf = malloc(bsize);
	int rc = 0;

	if (!buf) {
		l->rc = -ENOMEM;
		return NULL;
	}
	memset(buf, l->v, bsize);
	while (!loop_stop) {
		rc = prpath_dev_write(dev, l->lba, 1, buf, -1);
		if (rc)
			break;
		pthread_mutex_lock(&llock);
		l->writes++;
		pthread_mutex_unlock(&llock);
	}
	l->rc = rc;
	free(buf);
	return NULL;
}

static void do_status(void)
{
	struct prpath_path_status ps[MAX_PATHS];
	struct prpath_dev_status st;
	unsigned i;
	int rc;

	rc = prpath_dev_status(dev, &st, ps, MAX_PATHS);
	if (rc) {
		reply(rc);
		return;
	}
	printf("ok open=%d fenced=%d lost=%d valid=%d deverr=%d gen=%u nreg=%zu nkey=%zu reserved=%d holder=0x%016llx type=%u we_hold=%d paths=",
	       st.open, st.fenced, st.reservation_lost, st.device_valid,
	       st.device_error, st.generation, st.nregistrations,
	       st.nkey_registrations, st.reserved,
	       (unsigned long long)st.holder_key, st.holder_type, st.we_hold);
	for (i = 0; i < npaths; i++)
		printf("%s%c%d", i ? "," : "",
		       ps[i].state == PRPATH_PATH_UP ? 'U' :
		       ps[i].state == PRPATH_PATH_FAILED ? 'F' : 'R',
		       ps[i].registered);
	printf("\n");
}

/* A raw command on path @i's own nexus (bypassing the device's logic). */
static int raw(unsigned i, struct prpath_io *io)
{
	return prpath_dev_path_execute(dev, i, io);
}

static void print_raw(const struct prpath_io *io, const char *extra)
{
	struct prpath_sense s = { 0 };

	if (io->status == PRPATH_SCSI_STATUS_CHECK_CONDITION)
		prpath_sense_decode(io->sense, io->sense_len, &s);
	printf("ok status=%02x sense=%x/%02x/%02x%s\n", io->status, s.key, s.asc,
	       s.ascq, extra);
}

/* Sends PR IN @sa on path @i into @buf. 0 when the command completed
 * (any status); -1 when it could not be sent, the reply already given. */
static int send_prin(unsigned i, unsigned sa, uint8_t *buf, size_t cap,
		     struct prpath_io *io)
{
	int rc;

	memset(io, 0, sizeof(*io));
	rc = prpath_cdb_pr_in(io->cdb, sizeof(io->cdb), sa, (uint16_t)cap);
	if (rc < 0) {
		reply(rc);
		return -1;
	}
	io->cdb_len = (size_t)rc;
	io->din = buf;
	io->din_cap = cap;
	rc = raw(i, io);
	if (rc) {
		reply(rc);
		return -1;
	}
	return 0;
}

static void do_keys(unsigned i)
{
	static uint8_t buf[8192];
	uint64_t keys[1024];
	struct prpath_read_keys rk = { .keys = keys, .keys_cap = 1024 };
	struct prpath_io io;
	size_t k;

	if (send_prin(i, PRPATH_PR_IN_READ_KEYS, buf, sizeof(buf), &io) < 0)
		return;
	if (io.status != PRPATH_SCSI_STATUS_GOOD) {
		print_raw(&io, "");
		return;
	}
	if (prpath_decode_read_keys(buf, io.din_len, &rk) < 0) {
		reply(PRPATH_ERR_BAD_RESPONSE);
		return;
	}
	printf("ok gen=%u keys=", rk.generation);
	for (k = 0; k < rk.nkeys; k++)
		printf("%s0x%016llx", k ? "," : "", (unsigned long long)keys[k]);
	printf("\n");
}

static void do_prout(unsigned i, unsigned sa, unsigned type, uint64_t rk,
		     uint64_t sark)
{
	struct prpath_prout_params prm = { .rk = rk, .sark = sark };
	uint8_t param[24];
	struct prpath_io io;
	int n, rc;

	memset(&io, 0, sizeof(io));
	n = prpath_prout_params_encode(&prm, param, sizeof(param));
	rc = n < 0 ? n : prpath_cdb_pr_out(io.cdb, sizeof(io.cdb), sa, 0, type,
					   (uint32_t)n);
	if (rc < 0) {
		reply(rc);
		return;
	}
	io.cdb_len = (size_t)rc;
	io.dout = param;
	io.dout_len = (size_t)n;
	rc = raw(i, &io);
	if (rc) {
		reply(rc);
		return;
	}
	print_raw(&io, "");
}

static void do_prin(unsigned i, unsigned sa)
{
	static uint8_t buf[8192];
	char extra[32];
	struct prpath_io io;

	if (send_prin(i, sa, buf, sizeof(buf), &io) < 0)
		return;
	snprintf(extra, sizeof(extra), " len=%zu", io.din_len);
	print_raw(&io, extra);
}

static int mode_of(const char *s, enum prpath_open_mode *m)
{
	static const char *const names[] = {
		"exclusive", "force", "shared", "single", "noreserve",
	};
	unsigned i;

	for (i = 0; i < 5; i++)
		if (s && strcmp(s, names[i]) == 0) {
			*m = (enum prpath_open_mode)i;
			return 0;
		}
	return -EINVAL;
}

static int path_arg(const char *s, unsigned *i)
{
	int v;

	if (parse_int(s, &v) || v < 0 || (unsigned)v >= npaths)
		return -EINVAL;
	*i = (unsigned)v;
	return 0;
}

static void do_read(char **a, int n)
{
	uint64_t lba;
	int count, via;
	uint8_t *buf;
	int rc, b;

	if (n != 4 || parse_u64(a[1], &lba) || parse_int(a[2], &count) ||
	    count < 1 || count > 64 || parse_int(a[3], &via)) {
		reply(-EINVAL);
		return;
	}
	buf = calloc((size_t)count, bsize);
	if (!buf) {
		reply(-ENOMEM);
		return;
	}
	rc = prpath_dev_read(dev, lba, (uint32_t)count, buf, via);
	if (rc) {
		free(buf);
		reply(rc);
		return;
	}
	printf("ok");
	for (b = 0; b < count; b++) {
		const uint8_t *p = buf + (size_t)b * bsize;
		uint32_t k;

		for (k = 1; k < bsize && p[k] == p[0]; k++)
			;
		if (k == bsize)
			printf(" %02x", p[0]);
		else
			printf(" mx");
	}
	printf("\n");
	free(buf);
}

static void do_write(char **a, int n, bool async)
{
	uint64_t lba, v;
	int count, via;

	if (n != 5 || parse_u64(a[1], &lba) || parse_int(a[2], &count) ||
	    count < 1 || count > 64 || parse_u64(a[3], &v) || v > 255 ||
	    parse_int(a[4], &via)) {
		reply(-EINVAL);
		return;
	}
	if (async) {
		struct awr *w;
		pthread_t th;

		if (nawr >= MAX_ASYNC) {
			reply(-ENOSPC);
			return;
		}
		w = &awrs[nawr];
		*w = (struct awr){ .lba = lba, .count = (uint32_t)count,
				   .v = (uint8_t)v, .via = via };
		if (pthread_create(&th, NULL, awrite_thread, w) != 0) {
			reply(-EAGAIN);
			return;
		}
		pthread_detach(th);
		printf("ok %u\n", nawr++);
	} else {
		size_t len = (size_t)count * bsize;
		uint8_t *buf = malloc(len);

		if (!buf) {
			reply(-ENOMEM);
			return;
		}
		memset(buf, (int)v, len);
		reply(prpath_dev_write(dev, lba, (uint32_t)count, buf, via));
		free(buf);
	}
}

static void do_await(char **a, int n)
{
	struct timespec dl;
	int id, ms;
	struct awr *w;

	if (n != 3 || parse_int(a[1], &id) || id < 0 || (unsigned)id >= nawr ||
	    parse_int(a[2], &ms) || ms < 0) {
		reply(-EINVAL);
		return;
	}
	w = &awrs[id];
	deadline_in(&dl, (unsigned)ms);
	pthread_mutex_lock(&alock);
	while (!w->done)
		if (pthread_cond_timedwait(&acond, &alock, &dl) == ETIMEDOUT)
			break;
	if (w->done)
		printf("ok %d %s\n", w->rc, err_sym(w->rc));
	else
		printf("err 0 TIMEOUT\n");
	pthread_mutex_unlock(&alock);
}

static void do_loop(char **a, int n)
{
	unsigned i;

	if (n == 5 && strcmp(a[1], "start") == 0) {
		uint64_t lba, v;
		int cnt;

		if (nloops || parse_u64(a[2], &lba) || parse_int(a[3], &cnt) ||
		    cnt < 1 || cnt > MAX_LOOP || parse_u64(a[4], &v) || v > 255) {
			reply(-EINVAL);
			return;
		}
		loop_stop = 0;
		for (i = 0; i < (unsigned)cnt; i++) {
			loops[i] = (struct looper){ .lba = lba + i, .v = (uint8_t)v };
			if (pthread_create(&loops[i].th, NULL, loop_thread, &loops[i])) {
				reply(-EAGAIN);
				return;
			}
			nloops++;
		}
		reply(0);
	} else if (n == 2 && strcmp(a[1], "stop") == 0) {
		unsigned long total = 0;

		loop_stop = 1;
		for (i = 0; i < nloops; i++) {
			pthread_join(loops[i].th, NULL);
			total += loops[i].writes;
		}
		printf("ok writes=%lu rc=", total);
		for (i = 0; i < nloops; i++)
			printf("%s%s", i ? "," : "", err_sym(loops[i].rc));
		printf("\n");
		nloops = 0;
	} else {
		reply(-EINVAL);
	}
}

/* Returns false on quit. */
static bool command(char *line)
{
	char *a[8], *save = NULL, *t;
	unsigned i;
	int n = 0, v;

	for (t = strtok_r(line, " \t\r\n", &save); t && n < 8;
	     t = strtok_r(NULL, " \t\r\n", &save))
		a[n++] = t;
	if (!n) {
		reply(-EINVAL);
		return true;
	}
	if (strcmp(a[0], "quit") == 0) {
		return false;
	} else if (strcmp(a[0], "open") == 0) {
		enum prpath_open_mode m;
		unsigned fl = 0;
		int k;

		if (n < 2 || mode_of(a[1], &m)) {
			reply(-EINVAL);
			return true;
		}
		/* open MODE [ea] [retain] */
		for (k = 2; k < n; k++) {
			if (strcmp(a[k], "ea") == 0) {
				fl |= PRPATH_OPEN_EA;
			} else if (strcmp(a[k], "retain") == 0) {
				fl |= PRPATH_OPEN_RETAIN;
			} else {
				reply(-EINVAL);
				return true;
			}
		}
		reply(prpath_dev_open(dev, m, fl));
	} else if (strcmp(a[0], "close") == 0) {
		reply(prpath_dev_close(dev));
	} else if (strcmp(a[0], "write") == 0) {
		do_write(a, n, false);
	} else if (strcmp(a[0], "awrite") == 0) {
		do_write(a, n, true);
	} else if (strcmp(a[0], "await") == 0) {
		do_await(a, n);
	} else if (strcmp(a[0], "read") == 0) {
		do_read(a, n);
	} else if (strcmp(a[0], "loop") == 0) {
		do_loop(a, n);
	} else if (strcmp(a[0], "status") == 0) {
		do_status();
	} else if (strcmp(a[0], "check") == 0) {
		unsigned back;

		v = prpath_dev_check_paths(dev, &back);
		if (v == 0)
			printf("ok %u\n", back);
		else
			reply(v);
	} else if (n == 2 && path_arg(a[1], &i) == 0 && strcmp(a[0], "fail") == 0) {
		reply(prpath_dev_fail_path(dev, i));
	} else if (n == 2 && path_arg(a[1], &i) == 0 && strcmp(a[0], "cut") == 0) {
		px_cut(&proxies[i], true);
		reply(0);
	} else if (n == 2 && path_arg(a[1], &i) == 0 && strcmp(a[0], "up") == 0) {
		px_cut(&proxies[i], false);
		reply(0);
	} else if (n == 2 && path_arg(a[1], &i) == 0 && strcmp(a[0], "pause") == 0) {
		px_pause(&proxies[i], true);
		reply(0);
	} else if (n == 2 && path_arg(a[1], &i) == 0 && strcmp(a[0], "resume") == 0) {
		px_pause(&proxies[i], false);
		reply(0);
	} else if (n == 3 && path_arg(a[1], &i) == 0 && strcmp(a[0], "held") == 0 &&
		   parse_int(a[2], &v) == 0 && v >= 0) {
		printf(px_wait_held(&proxies[i], (unsigned)v) ? "ok\n" : "err 0 TIMEOUT\n");
	} else if (n == 2 && path_arg(a[1], &i) == 0 && strcmp(a[0], "keys") == 0) {
		do_keys(i);
	} else if (n == 3 && path_arg(a[1], &i) == 0 && strcmp(a[0], "prin") == 0 &&
		   parse_int(a[2], &v) == 0 && v >= 0 && v < 32) {
		do_prin(i, (unsigned)v);
	} else if (n == 6 && path_arg(a[1], &i) == 0 && strcmp(a[0], "prout") == 0) {
		uint64_t sa, type, rk, sark;

		if (parse_u64(a[2], &sa) || sa > 31 || parse_u64(a[3], &type) ||
		    type > 15 || parse_u64(a[4], &rk) || parse_u64(a[5], &sark))
			reply(-EINVAL);
		else
			do_prout(i, (unsigned)sa, (unsigned)type, rk, sark);
	} else {
		reply(-EINVAL);
	}
	return true;
}

static void on_log(void *arg, int level, const char *msg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "%ld.%03ld [%d] %s\n", (long)ts.tv_sec,
		ts.tv_nsec / 1000000L, level, msg);
}

static void usage(void)
{
	fprintf(stderr, "usage: e2e_host --initiator IQN [--key K] [--timeout MS] URL...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct prpath_host host = { 0 };
	struct prpath_ctx *ctx;
	const char *trace = getenv("E2E_TRACE");
	char line[512];
	int i, rc, timeout = 5000;

	/* a write to a session the target reset must be an error, not the
	 * end of the process (the soak found this) */
	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--initiator") == 0)
			host.initiator = argv[i + 1];
		else if (strcmp(argv[i], "--key") == 0) {
			if (prpath_key_parse(argv[i + 1], &host.key))
				usage();
		} else if (strcmp(argv[i], "--timeout") == 0) {
			if (parse_int(argv[i + 1], &timeout) || timeout < 100)
				usage();
		} else {
			usage();
		}
	}
	if (!host.initiator || i >= argc || argc - i > MAX_PATHS)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (prpath_ctx_new(&ctx) || prpath_dev_new(ctx, &host, &dev)) {
		fprintf(stderr, "e2e_host: cannot create the device\n");
		return 2;
	}
	prpath_ctx_set_log(ctx, on_log, NULL, trace ? 2 : 1);
	prpath_dev_set_timeout(dev, (unsigned)timeout);
	for (; i < argc; i++) {
		char thost[256], target[256], url[600];
		unsigned port, lun;

		/* iscsi://HOST:PORT/TARGET/LUN, all the driver passes */
		if (sscanf(argv[i], "iscsi://%255[^:/]:%u/%255[^/]/%u", thost, &port,
			   target, &lun) != 4 || port > 65535) {
			fprintf(stderr, "e2e_host: %s: not iscsi://HOST:PORT/TARGET/LUN\n",
				argv[i]);
			return 2;
		}
		rc = px_start(&proxies[npaths], thost, (uint16_t)port);
		if (rc) {
			fprintf(stderr, "e2e_host: proxy: %s\n", strerror(-rc));
			return 2;
		}
		snprintf(url, sizeof(url), "iscsi://127.0.0.1:%u/%s/%u",
			 proxies[npaths].lport, target, lun);
		rc = prpath_dev_add_url(dev, url);
		if (rc < 0) {
			printf("err %d %s\n", rc, err_sym(rc));
			return 1;
		}
		npaths++;
	}
	rc = prpath_dev_probe(dev);
	if (rc) {
		printf("err %d %s\n", rc, err_sym(rc));
		return 1;
	}
	bsize = prpath_dev_block_size(dev);
	printf("ready %u %u 0x%016llx\n", npaths, bsize,
	       (unsigned long long)prpath_dev_key(dev));
	while (fgets(line, sizeof(line), stdin)) {
		if (!command(line))
			break;
	}
	{
		struct timespec dl;

		/* asynchronous writes still under way: bounded wait */
		deadline_in(&dl, 10000);
		pthread_mutex_lock(&alock);
		for (i = 0; i < (int)nawr; i++)
			while (!awrs[i].done &&
			       pthread_cond_timedwait(&acond, &alock, &dl) != ETIMEDOUT)
				;
		pthread_mutex_unlock(&alock);
	}
	if (nloops) {
		loop_stop = 1;
		for (i = 0; i < (int)nloops; i++)
			pthread_join(loops[i].th, NULL);
	}
	prpath_dev_free(dev);
	prpath_ctx_free(ctx);
	printf("bye\n");
	return 0;
}
