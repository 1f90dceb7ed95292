/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Global options, checked number parsing, one-line errors, exit codes and
 * the library log callback of the prpath command.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <prpath/mpath.h>
#include <prpath/path.h>
#include <prpath/prpath.h>

#include "cli.h"

/* The first error of this run, for the JSON error document. */
static char first_err[1024];

const char *cli_first_error(void)
{
	return first_err;
}

void cli_err(const struct cli *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", c && c->prog ? c->prog : "prpath", msg);
	if (!first_err[0])
		snprintf(first_err, sizeof(first_err), "%s", msg);
}

const char *cli_why_no_url(const char *url, const char *why)
{
	size_t n = strlen(url);
	const char *sep;

	if (!why)
		return NULL;
	if (strncmp(why, url, n) == 0 && strncmp(why + n, ": ", 2) == 0)
		return why + n + 2;
	/* the transport names the path in its normal form (default port
	 * added) */
	if (strncmp(why, "iscsi://", 8) == 0 && strncmp(url, "iscsi://", 8) == 0 &&
	    (sep = strstr(why, ": ")) && !memchr(why, ' ', (size_t)(sep - why)))
		return sep + 2;
	return why;
}

void cli_err_url(const struct cli *c, const char *url, const char *why)
{
	const char *rest = cli_why_no_url(url, why);

	if (rest && rest != why) {
		cli_err(c, "%s: %s", url, rest);
	} else if (why && strstr(why, url)) {
		cli_err(c, "%s", why);
	} else
		cli_err(c, "%s: %s", url, why ? why : "error");
}

int cli_bad_value(const struct cli *c, const char *opt, const char *val,
		  const char *why)
{
	cli_err(c, "%s: '%s' %s", opt, val, why);
	return EXIT_USAGE;
}

int cli_exit_code(int err)
{
	if (err == 0)
		return EXIT_OK;
	switch (err) {
	case PRPATH_ERR_CONFLICT:
	case PRPATH_ERR_RESERVED:
	case PRPATH_ERR_FENCED:
	case PRPATH_ERR_NOT_HOLDER:
	case PRPATH_ERR_HELD_OTHERWISE:
	case PRPATH_ERR_OTHER_KEYS:
	case PRPATH_ERR_KEY_SHARED:
		return EXIT_CONFLICT;
	case PRPATH_ERR_PARTIAL:
		return EXIT_PARTIAL;
	case PRPATH_ERR_BAD_RESPONSE:
	case -EBADMSG:
	case -ENODATA:
		return EXIT_BAD_RESPONSE;
	case -EXDEV:
		return EXIT_WRONG_LU;
	default:
		return EXIT_DEVICE;
	}
}

int cli_parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (!s || !*s)
		return -EINVAL;
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;    /* no sign, no space */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		if (!isxdigit((unsigned char)s[2]))
			return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	int rc = cli_parse_uint(s, UINT64_MAX, &v);

	if (rc == 0)
		*out = v;
	return rc;
}

static void default_initiator(struct cli *c)
{
	char host[128];
	size_t i, n;

	if (gethostname(host, sizeof(host)) != 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* an iqn is lower case letters, digits, '-', '.' and ':' */
	n = strlen(host);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)tolower((unsigned char)host[i]);

		if (!isalnum(ch) && ch != '-' && ch != '.')
			ch = '-';
		host[i] = (char)ch;
	}
	snprintf(c->initiator, sizeof(c->initiator), "%s%s",
		 CLI_INITIATOR_PREFIX, host);
}

int cli_global_opt(struct cli *c, int opt, const char *arg)
{
	unsigned long long v;
	int rc;

	switch (opt) {
	case 'i':
		if (prpath_iscsi_name_check(arg) < 0) {
			cli_bad_value(c, "--initiator", arg,
				      "is not a valid initiator name (1-223 printable characters, no ',' or space)");
			return -EXIT_USAGE;
		}
		snprintf(c->initiator, sizeof(c->initiator), "%s", arg);
		c->initiator_set = true;
		return 1;
	case 'k':
		rc = prpath_key_parse(arg, &c->key);
		if (rc < 0) {
			unsigned long long z;

			if (cli_parse_uint(arg, UINT64_MAX, &z) == 0 && z == 0)
				cli_bad_value(c, "--key", arg,
					      "is not a valid key (must be non-zero)");
			else if (rc == -ERANGE)
				cli_bad_value(c, "--key", arg,
					      "is not a valid key (more than 64 bits)");
			else
				cli_bad_value(c, "--key", arg,
					      "is not a valid key (hex 0x... or decimal)");
			return -EXIT_USAGE;
		}
		c->key_set = true;
		return 1;
	case 'o':
		if (strcmp(arg, "text") == 0) {
			c->output = OUT_TEXT;
		} else if (strcmp(arg, "json") == 0) {
			c->output = OUT_JSON;
		} else {
			cli_bad_value(c, "--output", arg, "is not an output format (text or json)");
			return -EXIT_USAGE;
		}
		return 1;
	case 'v':
		c->verbose++;
		return 1;
	case OPT_TIMEOUT:
		if (cli_parse_uint(arg, 86400, &v) < 0 || v == 0) {
			cli_bad_value(c, "--timeout", arg,
				      "is not a timeout (1-86400 seconds)");
			return -EXIT_USAGE;
		}
		c->timeout_ms = (unsigned)v * 1000u;
		return 1;
	default:
		return 0;
	}
}

int cli_no_host_globals(const struct cli *c, const char *why)
{
	const char *opt = c->initiator_set ? "-i/--initiator" :
			  c->key_set ? "-k/--key" :
			  c->timeout_ms ? "--timeout" : NULL;

	if (!opt)
		return 0;
	cli_err(c, "%s: %s does not apply (%s)", c->cmd, opt, why);
	return EXIT_USAGE;
}

int cli_finish_globals(struct cli *c)
{
	if (!c->initiator_set)
		default_initiator(c);
	if (!c->key_set)
		c->key = prpath_key_derive(c->initiator);
	cli_log_setup(c);
	return 0;
}

void cli_global_usage(FILE *f)
{
	fprintf(f,
		"Global options:\n"
		"  -i, --initiator IQN    this host's identity (default iqn.2026-11.io.prpath:<hostname>)\n"
		"  -k, --key KEY          this host's key, hex 0x... or decimal, not 0\n"
		"                         (default derived from the initiator name)\n"
		"  -o, --output FORMAT    text (default) or json\n"
		"  -v, --verbose          more messages on stderr; -vv traces every CDB per path\n"
		"      --timeout SECONDS  per-command timeout (default: the transport's)\n"
		"  -h, --help             this help\n"
		"      --version          print the version\n");
}

#define MAX_OPTS 64

int cli_parse(struct cli *c, int argc, char **argv,
	      const struct cli_cmd_opts *co, int *first_arg)
{
	static const struct option global[] = {
		{ "initiator", required_argument, NULL, 'i' },
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
	};
	struct option all[MAX_OPTS + 1];
	char shortopts[128];
	size_t n = 0, i;
	int opt, rc;

	for (i = 0; i < sizeof(global) / sizeof(global[0]); i++)
		all[n++] = global[i];
	for (i = 0; co && co->longopts && co->longopts[i].name && n < MAX_OPTS; i++)
		all[n++] = co->longopts[i];
	memset(&all[n], 0, sizeof(all[n]));
	snprintf(shortopts, sizeof(shortopts), ":i:k:o:vh%s",
		 co && co->shortopts ? co->shortopts : "");

	opterr = 0;
	optind = 0; /* full re-initialisation of GNU getopt */
	while ((opt = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
		switch (opt) {
		case 'h':
			if (co && co->usage)
				co->usage(stdout);
			printf("\n");
			cli_global_usage(stdout);
			return EXIT_OK;
		case OPT_VERSION:
			printf("prpath %s\n", prpath_version());
			return EXIT_OK;
		case '?':
			if (optopt && optopt < 0x100)
				cli_err(c, "%s: unknown option '-%c'", c->cmd, optopt);
			else
				cli_err(c, "%s: unknown option '%s'", c->cmd,
					argv[optind - 1]);
			fprintf(stderr, "Try 'prpath %s --help'.\n", c->cmd);
			return EXIT_USAGE;
		case ':':
			cli_err(c, "%s: option '%s' needs a value", c->cmd,
				argv[optind - 1]);
			return EXIT_USAGE;
		default:
			rc = cli_global_opt(c, opt, optarg);
			if (rc < 0)
				return -rc;
			if (rc > 0)
				break;
			if (!co || !co->handle)
				return EXIT_USAGE;
			rc = co->handle(c, co->arg, opt, optarg);
			if (rc)
				return rc;
			break;
		}
	}
	*first_arg = optind;
	cli_finish_globals(c);
	return -1;
}

/* ---- library log on stderr ---- */

static void log_stderr(void *arg, int level, const char *msg)
{
	static const char *const lvl[] = { "error", "info", "debug" };

	(void)arg;
	fprintf(stderr, "prpath: %s: %s\n", lvl[level < 0 ? 0 : level > 2 ? 2 : level],
		msg);
}

void cli_log_setup(struct cli *c)
{
	if (c->ctx && c->verbose > 0)
		prpath_ctx_set_log(c->ctx, log_stderr, NULL,
				   c->verbose > 2 ? 2 : c->verbose);
}

/* ---- interrupts --------------------------------------------------------- */

static const char *volatile interrupt_note;
static volatile size_t interrupt_len;

void cli_at_interrupt(const char *what)
{
	interrupt_len = 0;
	interrupt_note = what;
	interrupt_len = what ? strlen(what) : 0;
}

static void on_interrupt(int sig)
{
	const char *w = interrupt_note;
	size_t n = interrupt_len;

	/* only async-signal-safe calls here */
	if (w && n) {
		if (write(STDERR_FILENO, "prpath: ", 8) < 0 ||
		    write(STDERR_FILENO, w, n) < 0 ||
		    write(STDERR_FILENO, "\n", 1) < 0)
			_exit(128 + sig);
	}
	_exit(128 + sig);
}

void cli_interrupt_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
