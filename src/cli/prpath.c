/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath: the command. A table of subcommands and one block of global
 * options (prpath(8) is the contract).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <prpath/mpath.h>
#include <prpath/prpath.h>

#include "cli.h"
#include "commands.h"

struct command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *summary;
};

/* `target` parses its own options (src/cli/cmd_target.c). */
static int run_target(struct cli *c, int argc, char **argv)
{
	int rc = cli_no_host_globals(c, "the target is the storage side; its name is --iqn");

	return rc ? rc : cmd_target_v(argc, argv, c->verbose);
}

static const struct command commands[] = {
	{ "acquire", cmd_acquire, "register every path and take the reservation" },
	{ "takeover", cmd_takeover, "register, preempt the current holder (fence it) and reserve" },
	{ "release", cmd_release, "release the reservation and unregister this host's key" },
	{ "status", cmd_status, "per path: state, registered?, and the LU's reservation" },
	{ "read", cmd_read, "read blocks as a registered host" },
	{ "write", cmd_write, "write blocks as a registered host" },
	{ "pr", cmd_pr, "single PR IN / PR OUT commands on one path (sg_persist style)" },
	{ "target", run_target, "serve LUNs over iSCSI (the storage side)" },
	{ "demo", cmd_demo, "the whole story on the embedded default storage" },
	{ "group", cmd_group, "groups of LUs through prpathd (list, status, acquire, takeover, release)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: prpath [global options] COMMAND [options] PATH...\n"
		"\n"
		"PATH: iscsi://HOST[:PORT]/TARGET-IQN/LUN | sg:/dev/sgN | /dev/sdX\n"
		"      several PATHs = several paths of this host to the same LU\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n");
	cli_global_usage(f);
	fprintf(f,
		"\n"
		"  prpath acquire  [--mode exclusive|shared|single] [--type TYPE] PATH...\n"
		"  prpath takeover [--type TYPE] PATH...\n"
		"  prpath release  PATH...\n"
		"  prpath status   PATH...\n"
		"  prpath read     --lba N [--count N] [--via INDEX] [--out FILE] PATH...\n"
		"  prpath write    --lba N [--count N] [--via INDEX] (--pattern BYTE | --in FILE) PATH...\n"
		"  prpath pr in    --read-keys | --read-reservation | --report-capabilities |\n"
		"                  --read-full-status [--path-index N] PATH\n"
		"  prpath pr out   --register | --register-ignore | --reserve | --release | --clear |\n"
		"                  --preempt | --preempt-abort | --register-move\n"
		"                  [--param-rk KEY] [--param-sark KEY] [--prout-type N] [--param-aptpl]\n"
		"                  [--param-alltgpt] [--transport-id ID] [--relative-target-port N]\n"
		"                  [--path-index N] PATH\n"
		"  prpath target   [--portal ADDR:PORT]... [--iqn IQN] --lun FILE[:SIZE]... [--state-dir DIR]\n"
		"  prpath demo     [--paths N] [--seed N]\n"
		"  prpath [-S SOCKET] group list | status|acquire|takeover|release NAME\n"
		"\n"
		"Run 'prpath COMMAND --help' for a command's options; see prpath(8).\n"
		"Exit status: 0 success, 1 usage error, 2 device or transport error, 3 paths\n"
		"lead to different LUs, 4 partial failure, 5 bad response, 6 check failed,\n"
		"24 reservation conflict (reserved by another host, or fenced).\n");
}

static const struct option global_long[] = {
	{ "initiator", required_argument, NULL, 'i' },
	{ "key", required_argument, NULL, 'k' },
	{ "output", required_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "socket", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int run(struct cli *c, int argc, char **argv)
{
	const struct command *cmd = NULL;
	size_t i;
	int opt, rc;

	c->prog = "prpath";
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:i:k:o:vhS:", global_long,
				  NULL)) != -1) {
		switch (opt) {
		case 'S':
			c->socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case OPT_VERSION:
			printf("prpath %s\n", prpath_version());
			return EXIT_OK;
		case '?':
			if (optopt)
				cli_err(c, "unknown option '-%c'", optopt);
			else
				cli_err(c, "unknown option '%s'", argv[optind - 1]);
			fprintf(stderr, "Try 'prpath --help'.\n");
			return EXIT_USAGE;
		case ':':
			cli_err(c, "option '%s' needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			rc = cli_global_opt(c, opt, optarg);
			if (rc < 0)
				return -rc;
			break;
		}
	}
	if (optind >= argc) {
		cli_err(c, "no command given");
		fprintf(stderr, "Try 'prpath --help'.\n");
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		cli_err(c, "unknown command '%s'", argv[optind]);
		fprintf(stderr, "Try 'prpath --help'.\n");
		return EXIT_USAGE;
	}
	c->cmd = cmd->name;
	rc = prpath_ctx_new(&c->ctx);
	if (rc < 0) {
		cli_err(c, "%s", prpath_strerror(rc));
		return EXIT_DEVICE;
	}
	/* the command's argv starts with its name */
	rc = cmd->fn(c, argc - optind, argv + optind);
	prpath_ctx_free(c->ctx);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli c;
	int rc;

	memset(&c, 0, sizeof(c));
	/* a path whose connection the target reset is a path failure, not the
	 * end of the command (a socket write would raise SIGPIPE) */
	signal(SIGPIPE, SIG_IGN);
	cli_interrupt_init();
	rc = run(&c, argc, argv);
	/* -o json: a failure is a JSON document too */
	out_json_error(&c, rc);
	fflush(stdout);
	return rc;
}
