/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: prpathd.conf (src/daemon/conf.c over inih). Arbitrary bytes
 * are parsed; an accepted configuration must hold what the parser
 * promises (an initiator, every group with LUs, every LU with 1-64 PATHs,
 * limits kept); a refused one must come with "LINE: reason". abort() on
 * any violation. Freed either way (ASan sees leaks).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pd_conf c;
	char why[256];
	size_t i, j;
	int rc;

	rc = pd_conf_parse((const char *)data, size, &c, why, sizeof(why));
	if (rc) {
		if (rc != -EINVAL && rc != -ENOMEM)
			abort();
		if (!why[0] || !strstr(why, ": "))
			abort();
		if (c.groups || c.initiator)
			abort(); /* nothing half-read is returned */
		return 0;
	}
	if (!c.initiator || !c.initiator[0] || c.check_interval < 1 ||
	    c.check_interval > 3600 || c.ngroups > PD_MAX_GROUPS)
		abort();
	for (i = 0; i < c.ngroups; i++) {
		const struct pd_group *g = &c.groups[i];

		if (!g->name[0] || !g->nlus || g->nlus > PD_MAX_LUS ||
		    pd_conf_group(&c, g->name) != g)
			abort();
		if (g->on_fenced && g->on_fenced[0] != '/')
			abort();
		for (j = 0; j < g->nlus; j++)
			if (!g->lus[j].name[0] || !g->lus[j].nurls ||
			    g->lus[j].nurls > PD_MAX_PATHS)
				abort();
	}
	pd_conf_free(&c);
	return 0;
}
