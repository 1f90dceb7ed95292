/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpathd: the long-running owner of a host's paths and registrations
 * (issue 10). This first part reads and checks the configuration
 * (prpathd.conf(5)); --check says what it found. The daemon proper (one
 * session per path, the path checker, the control socket, groups) comes
 * in the next slices: without --check, prpathd says so and exits 2.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <prpath/mpath.h>
#include <prpath/prpath.h>

#include "conf.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: prpathd --config FILE --check\n"
		"\n"
		"  -c, --config FILE   the configuration (prpathd.conf(5))\n"
		"      --check         read and check it, print what it holds, exit\n"
		"  -h, --help          this help\n"
		"      --version       the version\n"
		"Exit status: 0 valid, 1 usage or configuration error, 2 not available.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	struct pd_conf c;
	char why[512];
	bool check = false;
	size_t i, nlus = 0, npaths = 0;
	int o;

	while ((o = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 'C': check = true; break;
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
		pd_conf_free(&c);
		fprintf(stderr, "prpathd: %s is valid, but running as a daemon is not available in this version yet (issue 10); use --check\n",
			config);
		return 2;
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
