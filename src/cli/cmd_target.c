/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath target [--portal ADDR:PORT]... [--iqn IQN] --lun FILE[:SIZE]...
 *               [--state-dir DIR] [--allow IQN]... [-v]
 *
 * Serves LUN 0, 1, ... in --lun order over iSCSI in the foreground until
 * SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <prpath/target.h>

#include "cli/commands.h"

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
	*out = v * mul;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: prpath target [--portal ADDR:PORT]... [--iqn IQN] --lun FILE[:SIZE]...\n"
		"                     [--state-dir DIR] [--allow IQN]... [-v]\n"
		"  --portal ADDR:PORT   listen here (repeatable; default 127.0.0.1:3260,\n"
		"                       IPv6 as [::1]:3260); portal N is target port N\n"
		"  --iqn IQN            target name (default iqn.2026-11.io.prpath:target)\n"
		"  --lun FILE[:SIZE]    LUN 0, 1, ... backed by FILE (created with SIZE,\n"
		"                       suffix K/M/G/T, when missing)\n"
		"  --state-dir DIR      keep APTPL state in DIR/lun<N>.pr\n"
		"  --allow IQN          only these initiators may log in (repeatable)\n"
		"  -v, --verbose        more log output on stderr\n");
}

int cmd_target(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "portal", required_argument, NULL, 'p' },
		{ "iqn", required_argument, NULL, 'q' },
		{ "lun", required_argument, NULL, 'l' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "allow", required_argument, NULL, 'a' },
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
	int c, r, ret = 1, verbose = 0;

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
			cfg.iqn = optarg;
			break;
		case 'l': {
			char *path, *colon;
			uint64_t size = 0;
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
			colon = strrchr(path, ':');
			if (colon && colon != path && parse_size(colon + 1, &size) == 0) {
				*colon = '\0';
			} else if (colon && stat(path, &st) != 0) {
				fprintf(stderr, "prpath target: bad size in --lun '%s'\n",
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
			allow[na++] = optarg;
			break;
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
		ret = r == -EINVAL ? 1 : 2;
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
	prpath_target_free(t);
	for (i = 0; i < MAX_ITEMS; i++)
		free(lun_paths[i]);
	return ret;
}
