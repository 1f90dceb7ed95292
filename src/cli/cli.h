/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The prpath command: shared declarations of the subcommands, the global
 * options, exit codes and the output helpers (text and JSON from one
 * json-c document).
 */
#ifndef PRPATH_CLI_H
#define PRPATH_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include <prpath/mpath.h>

/* Exit status (documented in prpath(8), EXIT STATUS). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_USAGE = 1,          /* bad command line */
	EXIT_DEVICE = 2,         /* device, transport or local I/O error */
	EXIT_WRONG_LU = 3,       /* the paths lead to different LUs */
	EXIT_PARTIAL = 4,        /* done on some paths only */
	EXIT_BAD_RESPONSE = 5,   /* malformed data from the device */
	EXIT_CHECK = 6,          /* demo: a verification check failed */
	EXIT_CONFLICT = 24,      /* reservation conflict / reserved / fenced */
};

enum cli_output { OUT_TEXT = 0, OUT_JSON };

#define CLI_SCHEMA_VERSION 1
#define CLI_INITIATOR_PREFIX "iqn.2026-11.io.prpath:"
#define CLI_MAX_PATHS 16

/* The global options, shared by every command. */
struct cli {
	const char *prog;         /* "prpath" */
	const char *cmd;          /* the command name, for messages */
	char initiator[256];
	bool initiator_set;
	uint64_t key;
	bool key_set;
	enum cli_output output;
	int verbose;
	unsigned timeout_ms;      /* 0 = transport default */
	const char *socket;       /* -S: prpathd's control socket, NULL = default */
	struct prpath_ctx *ctx;
};

/* What an interrupt (SIGINT, SIGTERM, SIGHUP) leaves behind: while a
 * command changes PR state, it names here (a static string, NULL when
 * nothing is at stake) the line printed on stderr before prpath exits
 * with 128 + the signal number. */
void cli_at_interrupt(const char *what);
void cli_interrupt_init(void);

/* getopt_long values of the global options (above any short option). */
enum {
	OPT_TIMEOUT = 0x1000,
	OPT_VERSION,
	OPT_CMD_BASE = 0x1100,    /* commands number their long-only options from here */
};

/* One command's option table and handler for cli_parse(). */
struct cli_cmd_opts {
	const char *shortopts;            /* command-specific short options */
	const struct option *longopts;    /* command-specific, {0} terminated */
	/* Called for every command-specific option; returns 0 or EXIT_USAGE
	 * (after printing the error). */
	int (*handle)(struct cli *c, void *arg, int opt, const char *optarg_);
	void *arg;
	void (*usage)(FILE *f);
};

/* Parses argv (argv[0] = the command name) with the global options merged
 * into the command's. Returns -1 to go on with argv[*first_arg..], else
 * an exit status (0 after --help). */
int cli_parse(struct cli *c, int argc, char **argv,
	      const struct cli_cmd_opts *co, int *first_arg);
/* Handles one global option; 1 if @opt was global, 0 if not, or
 * -EXIT_USAGE. */
int cli_global_opt(struct cli *c, int opt, const char *arg);
/* Fills the defaults (initiator from the hostname, key derived). */
int cli_finish_globals(struct cli *c);
void cli_global_usage(FILE *f);

/* One-line error on stderr: "prpath: <msg>". */
void cli_err(const struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "prpath: URL: why", without repeating URL when @why names it. */
void cli_err_url(const struct cli *c, const char *url, const char *why);
/* @why without a leading "URL: " that names the path again. */
const char *cli_why_no_url(const char *url, const char *why);
/* Maps the library error convention onto an exit status. */
int cli_exit_code(int err);

/* Checked number parsing: 0 or -EINVAL/-ERANGE. */
int cli_parse_u64(const char *s, uint64_t *out);
int cli_parse_uint(const char *s, unsigned long long max, unsigned long long *out);
/* "--opt: 'val' is not ..." errors, returns EXIT_USAGE. */
int cli_bad_value(const struct cli *c, const char *opt, const char *val,
		  const char *why);

/* ---- output ---- */
/* A new document {"schema_version": 1, "command": @cmd}. */
struct json_object *out_doc(const char *cmd);
void out_add_str(struct json_object *o, const char *k, const char *v);
void out_add_int(struct json_object *o, const char *k, int64_t v);
void out_add_bool(struct json_object *o, const char *k, bool v);
void out_add_key(struct json_object *o, const char *k, uint64_t key);
/* Writes @doc as pretty JSON + newline on stdout and frees it. */
void out_json(struct json_object *doc);
/* With -o json, when a command ends with @status != 0 and printed no
 * document: {"schema_version", "command", "error": {"message" (the first
 * error of the run, as on stderr), "exit_status"}} on stdout. */
void out_json_error(const struct cli *c, int status);
/* For commands that act as no host: a usage error (after printing it,
 * naming @why) when -i, -k or --timeout was given, 0 otherwise. Options
 * a command ignores are refused, never accepted silently. */
int cli_no_host_globals(const struct cli *c, const char *why);
/* The first message cli_err() printed in this run, "" when none. */
const char *cli_first_error(void);
/* "0x%016llx" */
void out_key_str(uint64_t key, char buf[19]);

/* ---- the library's log callback on stderr (for -v / -vv) ---- */
void cli_log_setup(struct cli *c);

/* ---- commands ---- */
int cmd_acquire(struct cli *c, int argc, char **argv);
int cmd_takeover(struct cli *c, int argc, char **argv);
int cmd_release(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_read(struct cli *c, int argc, char **argv);
int cmd_write(struct cli *c, int argc, char **argv);
int cmd_pr(struct cli *c, int argc, char **argv);
int cmd_demo(struct cli *c, int argc, char **argv);
int cmd_group(struct cli *c, int argc, char **argv);

/* ---- raw commands on one path (cmd_pr.c) ---- */
struct prpath_path;
struct prpath_io;
/* Runs @io, retrying unit attentions (up to 8); traces with -vv (@path is
 * 0-based, as in the library's trace). Returns
 * 0 (status in io) or a negative errno. */
int cli_raw_exec(struct cli *c, struct prpath_path *path, unsigned idx,
		 struct prpath_io *io);
/* Checks @url and opens it as a path of this host: with @observer on the
 * observer initiator port (PR IN: looking never disturbs the session that
 * carries I/O), else on the path's I/O port (the ISID comes from the URL).
 * Returns 0, or an exit status after printing the reason. */
int cli_open_conn(struct cli *c, const char *url, bool observer,
		  struct prpath_path **out);

#endif /* PRPATH_CLI_H */
