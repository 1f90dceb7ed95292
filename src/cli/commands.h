/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CLI subcommands: each takes argv[0] = the command name. */
#ifndef PRPATH_CLI_COMMANDS_H
#define PRPATH_CLI_COMMANDS_H

int cmd_target(int argc, char **argv);
/* As cmd_target(), with -v given before the command already counted. */
int cmd_target_v(int argc, char **argv, int verbose);

#endif
