/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath target [--portal ADDR:PORT]... [--iqn IQN] --lun FILE[:SIZE]...
 *               [--state-dir DIR] [--allow IQN]...
 *               [--chap-user NAME --chap-secret-file FILE
 *                [--chap-mutual-user NAME --chap-mutual-secret-file FILE]]
 *               [--nop-interval SECONDS] [-v]
 *
 * Serves LUN 0, 1, ... in --lun order over iSCSI in the foreground until
 * SIGINT or SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <prpath/path.h>
#include <prpath/target.h>

#include "commands.h"

#define MAX_ITEMS 64

static struct prpath_target *volatile g_target;

static void on_signal(int sig)
{
	(void)sig;
	if (g_target)
		prpath_target_stop(g_target);
}

static void log_stderr(void *arg, enum prpath_target_log_level level,
		       const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	(void)arg;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(stderr, "%s prpath target: %s: %s\n", ts,
		names[level <= PRPATH_TARGET_LOG_DEBUG ? level : 3], msg);
}

/* "123", "64K", "10M", "1G", "2T"; returns 0 or -EINVAL */
static int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (!*p)
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == s)
		return -EINVAL;
	switch (*p) {
	case '\0':
		break;
	case 'k': case 'K':
		mul = 1ull << 10;
		p++;
		break;
	case 'm': case 'M':
		mul = 1ull << 20;
		p++;
		break;
	case 'g': case 'G':
		mul = 1ull << 30;
		p++;
		break;
	case 't': case 'T':
		mul = 1ull << 40;
		p++;
		break;
	default:
		return -EINVAL;
	}
	if (*p || v == 0 || v > UINT64_MAX / mul)
		return -EINVAL;
	if ((v * mul) % 512)
		return -EINVAL;    /* whole 512-byte blocks */
	*out = v * mul;
	return 0;
}

/* Reads a CHAP secret from @path: the file's bytes without one trailing
 * newline, PRPATH_TARGET_CHAP_SECRET_MIN..MAX of them. Returns the length
 * or -1 after printing why (never the secret). */
static int read_secret(const char *opt, const char *path,
		       uint8_t buf[PRPATH_TARGET_CHAP_SECRET_MAX + 2])
{
	size_t len = 0;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		fprintf(stderr, "prpath target: %s: cannot open '%s': %s\n", opt,
			path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0077))
		fprintf(stderr,
			"prpath target: warning: %s: '%s' is readable by other users (chmod 600 it)\n",
			opt, path);
	while (len < PRPATH_TARGET_CHAP_SECRET_MAX + 2) {
		ssize_t n = read(fd, buf + len, PRPATH_TARGET_CHAP_SECRET_MAX + 2 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "prpath target: %s: cannot read '%s': %s\n",
				opt, path, strerror(errno));
			close(fd);
			explicit_bzero(buf, PRPATH_TARGET_CHAP_SECRET_MAX + 2);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len < PRPATH_TARGET_CHAP_SECRET_MIN || len > PRPATH_TARGET_CHAP_SECRET_MAX) {
		fprintf(stderr,
			"prpath target: %s: the secret in '%s' must have %d to %d bytes (%s)\n",
			opt, path, PRPATH_TARGET_CHAP_SECRET_MIN,
			PRPATH_TARGET_CHAP_SECRET_MAX,
			len < PRPATH_TARGET_CHAP_SECRET_MIN ? "too short" : "too long");
		explicit_bzero(buf, PRPATH_TARGET_CHAP_SECRET_MAX + 2);
		return -1;
	}
	return (int)len;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: prpath target [--portal ADDR:PORT]... [--iqn IQN] --lun FILE[:SIZE][,serial=HEX]...\n"
		"                     [--state-dir DIR] [--allow IQN]...\n"
		"                     [--chap-user NAME --chap-secret-file FILE\n"
		"                      [--chap-mutual-user NAME --chap-mutual-secret-file FILE]]\n"
		"                     [--nop-interval SECONDS] [-v]\n"
		"  --portal ADDR:PORT   listen here (repeatable; default 127.0.0.1:3260,\n"
		"                       IPv6 as [::1]:3260); portal N is target port N\n"
		"  --iqn IQN            target name (default iqn.2026-11.io.prpath:target)\n"
		"  --lun FILE[:SIZE][,serial=HEX]\n"
		"                       LUN 0, 1, ... backed by FILE (created with SIZE,\n"
		"                       suffix K/M/G/T, when missing); the LU's identity\n"
		"                       (serial, NAA) is kept with FILE (xattr), or given\n"
		"                       as 16 hex digits\n"
		"  --state-dir DIR      keep APTPL state in DIR/lu-<serial>.pr, per LU\n"
		"  --allow IQN          only these initiators may log in (repeatable)\n"
		"  --chap-user NAME     require CHAP (MD5): initiators log in as NAME\n"
		"  --chap-secret-file FILE\n"
		"                       with the secret in FILE (12-255 bytes, one\n"
		"                       trailing newline ignored)\n"
		"  --chap-mutual-user NAME\n"
		"                       mutual CHAP: the target answers as NAME\n"
		"  --chap-mutual-secret-file FILE\n"
		"                       with this secret (must differ from the other)\n"
		"  --nop-interval SECONDS\n"
		"                       ping a logged-in connection idle this long with a\n"
		"                       NOP-In and drop it when nothing arrives within as\n"
		"                       long again (default 15, 0 = never)\n"
		"  -v, --verbose        more log output on stderr\n");
}

int cmd_target(int argc, char **argv)
{
	return cmd_target_v(argc, argv, 0);
}

int cmd_target_v(int argc, char **argv, int verbose0)
{
	static const struct option opts[] = {
		{ "portal", required_argument, NULL, 'p' },
		{ "iqn", required_argument, NULL, 'q' },
		{ "lun", required_argument, NULL, 'l' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "allow", required_argument, NULL, 'a' },
		{ "chap-user", required_argument, NULL, 'U' },
		{ "chap-secret-file", required_argument, NULL, 'S' },
		{ "chap-mutual-user", required_argument, NULL, 'M' },
		{ "chap-mutual-secret-file", required_argument, NULL, 'X' },
		{ "nop-interval", required_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *portals[MAX_ITEMS], *allow[MAX_ITEMS];
	struct prpath_target_lun luns[MAX_ITEMS];
	char *lun_paths[MAX_ITEMS];
	size_t np = 0, na = 0, nl = 0, i;
	struct prpath_target_config cfg = { 0 };
	struct prpath_target *t = NULL;
	struct sigaction sa;
	char err[512];
	uint8_t secret[PRPATH_TARGET_CHAP_SECRET_MAX + 2];
	uint8_t msecret[PRPATH_TARGET_CHAP_SECRET_MAX + 2];
	const char *secret_file = NULL, *msecret_file = NULL;
	int c, r, ret = 1, verbose = verbose0;

	memset(lun_paths, 0, sizeof(lun_paths));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (np >= MAX_ITEMS) {
				fprintf(stderr, "prpath target: too many --portal options\n");
				goto out;
			}
			portals[np++] = optarg;
			break;
		case 'q':
			if (prpath_iscsi_name_check(optarg) < 0) {
				fprintf(stderr, "prpath target: --iqn: '%s' is not a valid iSCSI name (1-223 printable characters, no ',' or space)\n",
					optarg);
				goto out;
			}
			cfg.iqn = optarg;
			break;
		case 'l': {
			char *path, *colon, *sfx;
			uint64_t size = 0, id = 0;
			struct stat st;

			if (nl >= MAX_ITEMS) {
				fprintf(stderr, "prpath target: too many --lun options\n");
				goto out;
			}
			path = strdup(optarg);
			if (!path) {
				fprintf(stderr, "prpath target: out of memory\n");
				goto out;
			}
			lun_paths[nl] = path;
			/* FILE[:SIZE][,serial=HEX]: the LU's identity */
			sfx = strstr(path, ",serial=");
			if (sfx) {
				char *end;

				errno = 0;
				id = strtoull(sfx + 8, &end, 16);
				if (errno || *end || end - (sfx + 8) != 16 || !id) {
					fprintf(stderr, "prpath target: bad serial in --lun '%s' (16 hex digits, not all 0)\n",
						optarg);
					goto out;
				}
				*sfx = '\0';
			}
			colon = strrchr(path, ':');
			if (colon && colon != path && parse_size(colon + 1, &size) == 0) {
				*colon = '\0';
			} else if (colon && stat(path, &st) != 0) {
				fprintf(stderr, "prpath target: bad size in --lun '%s' (a multiple of 512 bytes, suffix K, M, G or T)\n",
					optarg);
				goto out;
			}
			if (!path[0]) {
				fprintf(stderr, "prpath target: empty file name in --lun\n");
				goto out;
			}
			if (size == 0 && stat(path, &st) != 0) {
				fprintf(stderr,
					"prpath target: LUN file '%s' does not exist (give FILE:SIZE to create it)\n",
					path);
				goto out;
			}
			luns[nl].path = path;
			luns[nl].size = size;
			luns[nl].lu_id = id;
			nl++;
			break;
		}
		case 's':
			cfg.state_dir = optarg;
			break;
		case 'a':
			if (na >= MAX_ITEMS) {
				fprintf(stderr, "prpath target: too many --allow options\n");
				goto out;
			}
			if (prpath_iscsi_name_check(optarg) < 0) {
				fprintf(stderr, "prpath target: --allow: '%s' is not a valid iSCSI name\n",
					optarg);
				goto out;
			}
			allow[na++] = optarg;
			break;
		case 'U':
			cfg.chap_user = optarg;
			break;
		case 'S':
			secret_file = optarg;
			break;
		case 'M':
			cfg.chap_mutual_user = optarg;
			break;
		case 'X':
			msecret_file = optarg;
			break;
		case 'N': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || optarg[0] < '0' || optarg[0] > '9' ||
			    v > PRPATH_TARGET_NOP_INTERVAL_MAX) {
				fprintf(stderr, "prpath target: --nop-interval: '%s' is not a number of seconds from 0 to %d\n",
					optarg, PRPATH_TARGET_NOP_INTERVAL_MAX);
				goto out;
			}
			cfg.nop_interval = v ? (int)v : -1;
			break;
		}
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		default:
			if (optopt)
				fprintf(stderr, "prpath target: bad or incomplete option '-%c'\n",
					optopt);
			else
				fprintf(stderr, "prpath target: unknown option '%s'\n",
					argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "prpath target: unexpected argument '%s'\n", argv[optind]);
		goto out;
	}
	if (nl == 0) {
		fprintf(stderr, "prpath target: at least one --lun FILE[:SIZE] is required\n");
		goto out;
	}
	if (!cfg.chap_user != !secret_file) {
		fprintf(stderr, "prpath target: --chap-user and --chap-secret-file go together\n");
		goto out;
	}
	if (!cfg.chap_mutual_user != !msecret_file) {
		fprintf(stderr, "prpath target: --chap-mutual-user and --chap-mutual-secret-file go together\n");
		goto out;
	}
	if (cfg.chap_mutual_user && !cfg.chap_user) {
		fprintf(stderr, "prpath target: mutual CHAP needs --chap-user and --chap-secret-file too\n");
		goto out;
	}
	if (secret_file) {
		r = read_secret("--chap-secret-file", secret_file, secret);
		if (r < 0)
			goto out;
		cfg.chap_secret = secret;
		cfg.chap_secret_len = (size_t)r;
	}
	if (msecret_file) {
		r = read_secret("--chap-mutual-secret-file", msecret_file, msecret);
		if (r < 0)
			goto out;
		cfg.chap_mutual_secret = msecret;
		cfg.chap_mutual_secret_len = (size_t)r;
	}
	if (cfg.state_dir && mkdir(cfg.state_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "prpath target: cannot create state dir '%s': %s\n",
			cfg.state_dir, strerror(errno));
		goto out;
	}
	cfg.portals = portals;
	cfg.nportals = np;
	cfg.luns = luns;
	cfg.nluns = nl;
	cfg.allow = allow;
	cfg.nallow = na;
	cfg.log = log_stderr;
	cfg.log_level = verbose ? PRPATH_TARGET_LOG_DEBUG : PRPATH_TARGET_LOG_INFO;

	r = prpath_target_new(&cfg, &t, err, sizeof(err));
	if (r) {
		fprintf(stderr, "prpath target: %s\n", err[0] ? err : strerror(-r));
		/* a --lun that cannot be a LUN is a usage error */
		ret = (r == -EINVAL || r == -ENODEV || r == -ERANGE ||
		       r == -EISDIR || r == -EFBIG) ? 1 : 2;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	g_target = t;
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	r = prpath_target_run(t);
	g_target = NULL;
	if (r) {
		fprintf(stderr, "prpath target: %s\n", strerror(-r));
		ret = 2;
	} else {
		ret = 0;
	}
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(msecret, sizeof(msecret));
	prpath_target_free(t);
	for (i = 0; i < MAX_ITEMS; i++)
		free(lun_paths[i]);
	return ret;
}
