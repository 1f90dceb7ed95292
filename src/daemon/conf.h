/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpathd's configuration (prpathd.conf(5)): an INI file read with inih.
 *
 *   [host]
 *   initiator = iqn.2026-12.com.example:node1
 *   key = 0x1234                ; optional: derived from the initiator
 *   check_interval = 2          ; seconds, 1-3600
 *   [group NAME]
 *   mode = exclusive            ; exclusive | shared
 *   aptpl = yes                 ; yes | no
 *   on_fenced = /path/to/cmd    ; optional, absolute
 *   lu = NAME PATH...           ; one line per LU, 1-64 PATHs
 *
 * Everything is checked while reading: a bad value is an error naming the
 * line, nothing half-read is returned.
 */
#ifndef PRPATHD_CONF_H
#define PRPATHD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PD_NAME_MAX 64          /* group and LU names */
#define PD_MAX_GROUPS 64
#define PD_MAX_LUS 256          /* per group */
#define PD_MAX_PATHS 64         /* per LU (= PRPATH_DEV_MAX_PATHS) */

struct pd_lu {
	char name[PD_NAME_MAX + 1];
	char **urls;
	size_t nurls;
};

struct pd_group {
	char name[PD_NAME_MAX + 1];
	bool shared;            /* mode = shared (default exclusive) */
	bool aptpl;             /* default yes */
	char *on_fenced;        /* NULL: none */
	struct pd_lu *lus;
	size_t nlus;
};

struct pd_conf {
	char *initiator;
	uint64_t key;           /* 0: derived from the initiator */
	unsigned check_interval; /* seconds */
	struct pd_group *groups;
	size_t ngroups;
};

/* Parses @text (@len bytes, need not be NUL-terminated) into @out. On
 * error returns -EINVAL (or -ENOMEM) with "LINE: reason" (LINE 0 for the
 * file as a whole) in @why, and @out holds nothing to free. */
int pd_conf_parse(const char *text, size_t len, struct pd_conf *out,
		  char *why, size_t why_cap);
/* Reads and parses @path; reasons are "PATH:LINE: reason". */
int pd_conf_load(const char *path, struct pd_conf *out, char *why,
		 size_t why_cap);
void pd_conf_free(struct pd_conf *c);
/* The group named @name, or NULL. */
const struct pd_group *pd_conf_group(const struct pd_conf *c, const char *name);

#endif /* PRPATHD_CONF_H */
