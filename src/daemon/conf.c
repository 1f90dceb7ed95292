/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpathd.conf: read with inih (Debian's libinih), checked here. inih hands
 * over one (section, name, value) at a time; a handler that returns 0 makes
 * ini_parse_string() return the number of the line, and the reason is kept
 * in the parse state.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include <prpath/mpath.h>
#include <prpath/path.h>

#include "conf.h"

#define PD_LINE_MAX 200   /* inih's INI_MAX_LINE in Debian's build */

struct pstate {
	struct pd_conf *c;
	char why[256];
	bool failed;
	int fail_line;          /* physical line of the first error */
	/* the text, handed to inih one line at a time (reader()) */
	const char *p, *end;
	int cur_line, next_line;
	bool host_seen;
	char section[PD_NAME_MAX + 16];
	struct pd_group *g;     /* the group being read, NULL in [host] */
	struct pd_lu *lu;       /* the last lu = of that group */
};

static int bad(struct pstate *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct pstate *st, const char *fmt, ...)
{
	va_list ap;

	/* inih goes on after an error and returns the first error's line:
	 * keep the first reason */
	if (st->failed)
		return 0;
	st->failed = true;
	st->fail_line = st->cur_line;
	va_start(ap, fmt);
	vsnprintf(st->why, sizeof(st->why), fmt, ap);
	va_end(ap);
	return 0;
}

/* letters, digits, '-', '_', '.'; 1 to PD_NAME_MAX characters */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > PD_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int add_url(struct pstate *st, struct pd_lu *lu, const char *url)
{
	char why[200], **n;
	size_t i;

	if (lu->nurls >= PD_MAX_PATHS)
		return bad(st, "lu %s: more than %d PATHs", lu->name, PD_MAX_PATHS);
	if (prpath_url_check(url, why, sizeof(why)) < 0) {
		char shown[160];

		snprintf(shown, sizeof(shown), "%s", url);
		prpath_url_redact(shown);
		return bad(st, "lu %s: PATH '%s': %s", lu->name, shown, why);
	}
	for (i = 0; i < lu->nurls; i++)
		if (prpath_url_same_path(lu->urls[i], url))
			return bad(st, "lu %s: PATH %zu is the same path as PATH %zu",
				   lu->name, lu->nurls + 1, i + 1);
	n = realloc(lu->urls, (lu->nurls + 1) * sizeof(*n));
	if (!n)
		return bad(st, "out of memory");
	lu->urls = n;
	lu->urls[lu->nurls] = strdup(url);
	if (!lu->urls[lu->nurls])
		return bad(st, "out of memory");
	lu->nurls++;
	return 1;
}

static int host_key(struct pstate *st, const char *name, const char *v)
{
	struct pd_conf *c = st->c;

	if (!strcmp(name, "initiator")) {
		if (prpath_iscsi_name_check(v) < 0 ||
		    (strncasecmp(v, "iqn.", 4) && strncasecmp(v, "eui.", 4) &&
		     strncasecmp(v, "naa.", 4)))
			return bad(st, "initiator '%s' is not an iSCSI name (iqn.YYYY-MM.reversed.domain[:id])", v);
		free(c->initiator);
		c->initiator = strdup(v);
		return c->initiator ? 1 : bad(st, "out of memory");
	}
	if (!strcmp(name, "key")) {
		if (prpath_key_parse(v, &c->key) < 0)
			return bad(st, "key '%s' is not a reservation key (non-zero, hex 0x... or decimal, 64 bits)", v);
		return 1;
	}
	if (!strcmp(name, "check_interval")) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end == v || *end || n < 1 || n > 3600 || !isdigit((unsigned char)*v))
			return bad(st, "check_interval '%s' is not a number of seconds from 1 to 3600", v);
		c->check_interval = (unsigned)n;
		return 1;
	}
	return bad(st, "[host] has no key '%s' (initiator, key, check_interval)", name);
}

static int lu_line(struct pstate *st, const char *v)
{
	struct pd_group *g = st->g;
	struct pd_lu *lus, *lu;
	char *copy, *tok, *save = NULL;
	size_t i;
	int rc = 1;

	if (g->nlus >= PD_MAX_LUS)
		return bad(st, "group %s: more than %d LUs", g->name, PD_MAX_LUS);
	copy = strdup(v);
	if (!copy)
		return bad(st, "out of memory");
	tok = strtok_r(copy, " \t", &save);
	if (!tok) {
		free(copy);
		return bad(st, "lu: give a name and the LU's PATHs (lu = NAME PATH...)");
	}
	if (strstr(tok, "://") || tok[0] == '/' || !strncmp(tok, "sg:", 3)) {
		free(copy);
		return bad(st, "lu: the first word is the LU's name, then its PATHs (a continued line? write 'path = PATH' lines after 'lu = NAME')");
	}
	if (!name_ok(tok)) {
		bad(st, "lu name '%s': letters, digits, '-', '_' and '.', at most %d",
		    tok, PD_NAME_MAX);
		free(copy);
		return 0;
	}
	for (i = 0; i < g->nlus; i++) {
		if (!strcmp(g->lus[i].name, tok)) {
			bad(st, "group %s has an LU named %s already", g->name, tok);
			free(copy);
			return 0;
		}
	}
	lus = realloc(g->lus, (g->nlus + 1) * sizeof(*lus));
	if (!lus) {
		free(copy);
		return bad(st, "out of memory");
	}
	g->lus = lus;
	lu = &g->lus[g->nlus++];
	memset(lu, 0, sizeof(*lu));
	snprintf(lu->name, sizeof(lu->name), "%s", tok);
	st->lu = lu;
	while (rc && (tok = strtok_r(NULL, " \t", &save)) != NULL)
		rc = add_url(st, lu, tok);
	/* the copy held a secret the URL may carry */
	memset(copy, 0, strlen(v));
	free(copy);
	return rc;
}

static int group_key(struct pstate *st, const char *name, const char *v)
{
	struct pd_group *g = st->g;

	if (!strcmp(name, "mode")) {
		if (!strcmp(v, "exclusive"))
			g->shared = false;
		else if (!strcmp(v, "shared"))
			g->shared = true;
		else
			return bad(st, "mode '%s' is not exclusive or shared", v);
		return 1;
	}
	if (!strcmp(name, "aptpl"))
		return parse_bool(v, &g->aptpl) == 0 ? 1
			: bad(st, "aptpl '%s' is not yes or no", v);
	if (!strcmp(name, "on_fenced")) {
		if (v[0] != '/')
			return bad(st, "on_fenced '%s' must be an absolute path", v);
		free(g->on_fenced);
		g->on_fenced = strdup(v);
		return g->on_fenced ? 1 : bad(st, "out of memory");
	}
	if (!strcmp(name, "lu"))
		return lu_line(st, v);
	if (!strcmp(name, "path")) {
		if (!st->lu)
			return bad(st, "path = comes after an lu = NAME line");
		return add_url(st, st->lu, v);
	}
	return bad(st, "[group %s] has no key '%s' (mode, aptpl, on_fenced, lu, path)",
		   g->name, name);
}

static int new_section(struct pstate *st, const char *section)
{
	struct pd_conf *c = st->c;
	struct pd_group *gs, *g;
	const char *gname;
	size_t i;

	snprintf(st->section, sizeof(st->section), "%s", section);
	st->g = NULL;
	st->lu = NULL;
	if (!strcmp(section, "host")) {
		if (st->host_seen)
			return bad(st, "a second [host] section");
		st->host_seen = true;
		return 1;
	}
	if (strncmp(section, "group ", 6) != 0)
		return bad(st, "unknown section [%s] ([host] or [group NAME])", section);
	gname = section + 6;
	while (*gname == ' ')
		gname++;
	if (!name_ok(gname))
		return bad(st, "group name '%s': letters, digits, '-', '_' and '.', at most %d",
			   gname, PD_NAME_MAX);
	for (i = 0; i < c->ngroups; i++)
		if (!strcmp(c->groups[i].name, gname))
			return bad(st, "a second [group %s]", gname);
	if (c->ngroups >= PD_MAX_GROUPS)
		return bad(st, "more than %d groups", PD_MAX_GROUPS);
	gs = realloc(c->groups, (c->ngroups + 1) * sizeof(*gs));
	if (!gs)
		return bad(st, "out of memory");
	c->groups = gs;
	g = &c->groups[c->ngroups++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", gname);
	g->aptpl = true;
	st->g = g;
	return 1;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct pstate *st = user;

	if (st->failed)
		return 0;      /* nothing after the first error is read */
	if (!section || !name || !value)
		return bad(st, "malformed line");
	if (!section[0])
		return bad(st, "'%s' outside a section ([host] or [group NAME] first)", name);
	if (strcmp(section, st->section) != 0 && !new_section(st, section))
		return 0;
	/* inih (as Debian builds it) cuts lines at 199 characters and reads
	 * the rest as another line: refuse what may have been cut */
	if (strlen(name) + strlen(value) >= PD_LINE_MAX - 12)
		return bad(st, "line too long (keep lines under %d characters: continue an LU's PATHs on 'path = PATH' lines)",
			   PD_LINE_MAX - 12);
	if (!value[0])
		return bad(st, "%s: no value", name);
	return st->g ? group_key(st, name, value) : host_key(st, name, value);
}

/* inih's line reader: hands over the text a line (or @num - 1 bytes) at a
 * time and keeps the physical line number of what it handed over. */
static char *reader(char *str, int num, void *stream)
{
	struct pstate *st = stream;
	size_t n = 0;

	if (st->p >= st->end || num < 2)
		return NULL;
	st->cur_line = st->next_line;
	while (st->p < st->end && n < (size_t)num - 1) {
		char ch = *st->p++;

		str[n++] = ch;
		if (ch == '\n') {
			st->next_line++;
			break;
		}
	}
	str[n] = '\0';
	return str;
}

void pd_conf_free(struct pd_conf *c)
{
	size_t i, j, k;

	if (!c)
		return;
	for (i = 0; i < c->ngroups; i++) {
		struct pd_group *g = &c->groups[i];

		for (j = 0; j < g->nlus; j++) {
			for (k = 0; k < g->lus[j].nurls; k++) {
				memset(g->lus[j].urls[k], 0, strlen(g->lus[j].urls[k]));
				free(g->lus[j].urls[k]);
			}
			free(g->lus[j].urls);
		}
		free(g->lus);
		free(g->on_fenced);
	}
	free(c->groups);
	free(c->initiator);
	memset(c, 0, sizeof(*c));
}

static int path_clash(const struct pd_conf *c, char *why, size_t cap);

int pd_conf_parse(const char *text, size_t len, struct pd_conf *out,
		  char *why, size_t why_cap)
{
	struct pstate st;
	size_t i;
	int line;

	if (!text || !out || !why || !why_cap)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.c = out;
	out->check_interval = 2;
	if (memchr(text, '\0', len)) {
		snprintf(why, why_cap, "0: the file holds a NUL byte: not a text file");
		return -EINVAL;
	}
	st.p = text;
	st.end = text + len;
	st.next_line = 1;
	line = ini_parse_stream(reader, &st, handler, &st);
	if (line < 0) {
		snprintf(why, why_cap, "0: out of memory");
		pd_conf_free(out);
		return -ENOMEM;
	}
	if (line != 0 || st.failed) {
		if (st.failed)
			snprintf(why, why_cap, "%d: %s", st.fail_line, st.why);
		else
			snprintf(why, why_cap, "%d: not INI: a line is neither [section] nor key = value",
				 line);
		pd_conf_free(out);
		return -EINVAL;
	}
	if (!st.host_seen || !out->initiator) {
		snprintf(why, why_cap, "0: [host] with initiator = ... is required");
		pd_conf_free(out);
		return -EINVAL;
	}
	for (i = 0; i < out->ngroups; i++) {
		struct pd_group *g = &out->groups[i];
		size_t j;

		if (!g->nlus) {
			snprintf(why, why_cap, "0: group %s has no lu = lines", g->name);
			pd_conf_free(out);
			return -EINVAL;
		}
		for (j = 0; j < g->nlus; j++) {
			if (!g->lus[j].nurls) {
				snprintf(why, why_cap, "0: lu %s of group %s has no PATH",
					 g->lus[j].name, g->name);
				pd_conf_free(out);
				return -EINVAL;
			}
		}
	}
	if (path_clash(out, why, why_cap)) {
		pd_conf_free(out);
		return -EINVAL;
	}
	return 0;
}

/* A path named by two LUs would be one LU configured twice: two devices,
 * two owners of one nexus's registration. (LUs reached through one target
 * and portal share that session; that is one nexus, not one path.) */
static int path_clash(const struct pd_conf *c, char *why, size_t cap)
{
	size_t g1, l1, u1, g2, l2, u2;

	for (g1 = 0; g1 < c->ngroups; g1++)
	for (l1 = 0; l1 < c->groups[g1].nlus; l1++)
	for (u1 = 0; u1 < c->groups[g1].lus[l1].nurls; u1++) {
		const char *a = c->groups[g1].lus[l1].urls[u1];

		for (g2 = g1; g2 < c->ngroups; g2++)
		for (l2 = g2 == g1 ? l1 + 1 : 0; l2 < c->groups[g2].nlus; l2++)
		for (u2 = 0; u2 < c->groups[g2].lus[l2].nurls; u2++) {
			if (!prpath_url_same_path(a, c->groups[g2].lus[l2].urls[u2]))
				continue;
			snprintf(why, cap, "0: lu %s (group %s) PATH %zu and lu %s (group %s) PATH %zu are the same path: one LU configured twice would have two owners",
				 c->groups[g1].lus[l1].name, c->groups[g1].name, u1 + 1,
				 c->groups[g2].lus[l2].name, c->groups[g2].name, u2 + 1);
			return -EINVAL;
		}
	}
	return 0;
}

int pd_conf_load(const char *path, struct pd_conf *out, char *why, size_t why_cap)
{
	char inner[256], *text = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	if (!path || !out || !why || !why_cap)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		snprintf(why, why_cap, "%s: %s", path, strerror(-rc));
		return rc;
	}
	for (;;) {
		size_t n;

		if (len + 4096 > cap) {
			char *t = realloc(text, cap + 65536);

			if (!t || cap > (16u << 20)) {
				free(t ? t : text);
				fclose(f);
				snprintf(why, why_cap, "%s: %s", path,
					 t ? "larger than 16 MiB: not a configuration file"
					   : "out of memory");
				return t ? -EFBIG : -ENOMEM;
			}
			text = t;
			cap += 65536;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(why, why_cap, "%s: read error", path);
		fclose(f);
		free(text);
		return rc;
	}
	fclose(f);
	rc = pd_conf_parse(text ? text : "", len, out, inner, sizeof(inner));
	if (text)
		memset(text, 0, len);
	free(text);
	if (rc)
		snprintf(why, why_cap, "%s:%s", path, inner);
	return rc;
}

const struct pd_group *pd_conf_group(const struct pd_conf *c, const char *name)
{
	size_t i;

	for (i = 0; c && name && i < c->ngroups; i++)
		if (!strcmp(c->groups[i].name, name))
			return &c->groups[i];
	return NULL;
}
