/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Path URLs: parsing, checking and opening (dispatch to the transports),
 * and the transports' thread-local "why did the last open fail" text.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <prpath/scsi.h>
#include "host/iscsi.h"
#include "host/sg.h"
#include "host/url.h"

#define ISCSI_SCHEME "iscsi://"
#define SG_SCHEME "sg:"

_Static_assert(PP_ISCSI_NAME_MAX == PRPATH_ISCSI_NAME_MAX, "name size");
_Static_assert(PP_ISCSI_PORT_NAME_MAX == PRPATH_PORT_NAME_MAX, "port size");

static _Thread_local char last_error[512];

const char *pp_transport_last_error(void)
{
	return last_error;
}

void pp_transport_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	/* one line: libiscsi's messages may end in a newline */
	for (char *p = last_error; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = (p[1] ? ' ' : '\0');
}

void pp_transport_clear_error(void)
{
	last_error[0] = '\0';
}

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (why && cap) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool host_char_ok(char ch)
{
	return isalnum((unsigned char)ch) || ch == '.' || ch == '-' || ch == '_';
}

static bool v6_char_ok(char ch)
{
	return isxdigit((unsigned char)ch) || ch == ':' || ch == '.';
}

/* Parses decimal digits in [s, e) into *v, at most @max. */
static bool parse_dec(const char *s, const char *e, unsigned long max,
		      unsigned long *v)
{
	unsigned long x = 0;

	if (s == e)
		return false;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return false;
		x = x * 10 + (unsigned long)(*s - '0');
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

static bool target_prefix_ok(const char *t)
{
	return !strncasecmp(t, "iqn.", 4) || !strncasecmp(t, "eui.", 4) ||
	       !strncasecmp(t, "naa.", 4);
}

int pp_iscsi_url_parse(const char *url, struct pp_iscsi_url *u, char *why,
		       size_t cap)
{
	const char *p, *hs, *he, *slash;
	unsigned long v;
	size_t n;

	if (why && cap)
		why[0] = '\0';
	if (!url || !u)
		return fail(why, cap, "no URL");
	memset(u, 0, sizeof(*u));
	if (strncasecmp(url, ISCSI_SCHEME, strlen(ISCSI_SCHEME)))
		return fail(why, cap, "'%s' is not an iscsi:// URL", url);
	p = url + strlen(ISCSI_SCHEME);

	/* [USER[%SECRET]@]: the last '@' before the first '/' */
	{
		const char *slash1 = strchr(p, '/');
		const char *end = slash1 ? slash1 : p + strlen(p);
		const char *at = NULL, *pct;

		for (const char *q = p; q < end; q++)
			if (*q == '@')
				at = q;
		if (!at && memchr(p, '%', (size_t)(end - p)) && strchr(end, '@'))
			return fail(why, cap, "a CHAP secret in the URL must not contain '/' (give it in PRPATH_CHAP_SECRET)");
		if (at) {
			pct = memchr(p, '%', (size_t)(at - p));
			n = (size_t)((pct ? pct : at) - p);
			if (n == 0)
				return fail(why, cap, "empty CHAP user name in the URL");
			if (n > PP_CHAP_FIELD_MAX)
				return fail(why, cap, "CHAP user name in the URL longer than %d characters",
					    PP_CHAP_FIELD_MAX);
			for (size_t i = 0; i < n; i++)
				if (!isgraph((unsigned char)p[i]))
					return fail(why, cap, "bad character in the CHAP user name");
			memcpy(u->chap_user, p, n);
			u->chap_user[n] = '\0';
			if (pct) {
				n = (size_t)(at - pct - 1);
				if (n == 0)
					return fail(why, cap, "empty CHAP secret in the URL");
				if (n > PP_CHAP_FIELD_MAX)
					return fail(why, cap, "CHAP secret in the URL longer than %d bytes",
						    PP_CHAP_FIELD_MAX);
				memcpy(u->chap_secret, pct + 1, n);
				u->chap_secret[n] = '\0';
			}
			p = at + 1;
		}
	}

	/* HOST */
	if (*p == '[') {
		hs = p + 1;
		he = strchr(hs, ']');
		if (!he)
			return fail(why, cap, "IPv6 address without closing ']'");
		if (he == hs)
			return fail(why, cap, "empty IPv6 address");
		for (const char *q = hs; q < he; q++)
			if (!v6_char_ok(*q))
				return fail(why, cap, "bad character '%c' in IPv6 address", *q);
		if (!memchr(hs, ':', (size_t)(he - hs)))
			return fail(why, cap, "bad IPv6 address '%.*s'",
				    (int)(he - hs), hs);
		u->ipv6 = true;
		p = he + 1;
		if (*p != ':' && *p != '/' && *p != '\0')
			return fail(why, cap, "unexpected '%c' after IPv6 address", *p);
	} else {
		hs = p;
		while (*p && *p != ':' && *p != '/') {
			if (!host_char_ok(*p))
				return fail(why, cap, "bad character '%c' in host name", *p);
			p++;
		}
		he = p;
		if (he == hs)
			return fail(why, cap, "missing host");
	}
	n = (size_t)(he - hs);
	if (n > PP_URL_HOST_MAX)
		return fail(why, cap, "host name too long");
	memcpy(u->host, hs, n);
	u->host[n] = '\0';

	/* [:PORT] */
	u->port = PP_ISCSI_DEFAULT_PORT;
	if (*p == ':') {
		const char *ps = ++p;

		while (*p && *p != '/')
			p++;
		if (!parse_dec(ps, p, 65535, &v) || v == 0)
			return fail(why, cap, "bad port '%.*s' (1-65535)",
				    (int)(p - ps), ps);
		u->port = (uint16_t)v;
	}

	/* /TARGET */
	if (*p != '/' || p[1] == '\0' || p[1] == '/')
		return fail(why, cap, "missing target name (iscsi://HOST[:PORT]/TARGET-IQN/LUN)");
	p++;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n > PP_ISCSI_NAME_MAX)
		return fail(why, cap, "target name longer than %d characters",
			    PP_ISCSI_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)p[i]) || p[i] == ',')
			return fail(why, cap, "bad character in target name");
	memcpy(u->target, p, n);
	u->target[n] = '\0';
	if (!target_prefix_ok(u->target))
		return fail(why, cap, "target name '%s' does not start with iqn., eui. or naa.",
			    u->target);

	/* /LUN */
	if (!slash || slash[1] == '\0')
		return fail(why, cap, "missing LUN after the target name");
	p = slash + 1;
	if (!parse_dec(p, p + strlen(p), PP_ISCSI_LUN_MAX, &v))
		return fail(why, cap, "bad LUN '%s' (0-%d)", p, PP_ISCSI_LUN_MAX);
	u->lun = (unsigned)v;

	if (u->ipv6)
		snprintf(u->portal, sizeof(u->portal), "[%s]:%u", u->host,
			 (unsigned)u->port);
	else
		snprintf(u->portal, sizeof(u->portal), "%s:%u", u->host,
			 (unsigned)u->port);
	return 0;
}

bool pp_url_redact(char *url)
{
	char *p, *slash, *at = NULL, *pct;
	size_t n;

	if (!url || strncasecmp(url, ISCSI_SCHEME, strlen(ISCSI_SCHEME)))
		return false;
	p = url + strlen(ISCSI_SCHEME);
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	/* USER%SECRET starts in the authority; a (malformed) secret may
	 * itself hold '/' or '@', so it runs to the last '@' of the URL
	 * (target names and LUNs have none) */
	pct = memchr(p, '%', n);
	if (!pct)
		return false;
	at = strrchr(pct, '@');
	if (!at)
		return false;
	n = (size_t)(at - pct - 1);
	/* wipe, then close the gap */
	explicit_bzero(pct + 1, n);
	if (n >= 3) {
		memcpy(pct + 1, "***", 3);
		memmove(pct + 4, at, strlen(at) + 1);
	} else {
		memmove(pct, at, strlen(at) + 1);
	}
	return true;
}

static const char *sg_device_path(const char *url)
{
	if (!strncmp(url, SG_SCHEME, strlen(SG_SCHEME)))
		return url + strlen(SG_SCHEME);
	return url;
}

int pp_url_check(const char *url, char *why, size_t cap)
{
	struct pp_iscsi_url u;
	const char *dev;
	int rc;

	if (why && cap)
		why[0] = '\0';
	if (!url || !*url)
		return fail(why, cap, "empty path");
	if (!strncasecmp(url, ISCSI_SCHEME, strlen(ISCSI_SCHEME))) {
		rc = pp_iscsi_url_parse(url, &u, why, cap);
		return rc < 0 ? rc : PP_URL_ISCSI;
	}
	if (!strncmp(url, SG_SCHEME, strlen(SG_SCHEME))) {
		dev = sg_device_path(url);
		if (dev[0] != '/' || dev[1] == '\0')
			return fail(why, cap, "'%s': sg: needs an absolute device path (sg:/dev/sgN)",
				    url);
		return PP_URL_SG;
	}
	if (!strncmp(url, "/dev/", 5) && url[5] != '\0')
		return PP_URL_SG;
	return fail(why, cap,
		    "'%s': unknown path syntax (expected iscsi://HOST[:PORT]/TARGET-IQN/LUN, sg:/dev/sgN or /dev/sdX)",
		    url);
}

bool pp_url_same_path(const char *a, const char *b)
{
	struct pp_iscsi_url *ua, *ub;
	int ka = pp_url_check(a, NULL, 0), kb = pp_url_check(b, NULL, 0);
	bool same;

	if (ka < 0 || kb < 0 || ka != kb)
		return false;
	if (ka == PP_URL_SG)
		return strcmp(sg_device_path(a), sg_device_path(b)) == 0;
	ua = calloc(2, sizeof(*ua));
	if (!ua)
		return false;
	ub = ua + 1;
	same = pp_iscsi_url_parse(a, ua, NULL, 0) == 0 &&
	       pp_iscsi_url_parse(b, ub, NULL, 0) == 0 &&
	       strcasecmp(ua->host, ub->host) == 0 && ua->port == ub->port &&
	       strcasecmp(ua->target, ub->target) == 0 && ua->lun == ub->lun;
	explicit_bzero(ua, 2 * sizeof(*ua)); /* CHAP secrets */
	free(ua);
	return same;
}

int pp_conn_open_url(const char *url, const char *initiator_iqn,
		     unsigned role, unsigned timeout_ms,
		     struct pp_conn **out)
{
	char why[256];
	int kind;

	if (!out)
		return -EINVAL;
	*out = NULL;
	pp_transport_clear_error();
	kind = pp_url_check(url, why, sizeof(why));
	if (kind < 0) {
		pp_transport_set_error("%s", why);
		return kind;
	}
	if (kind == PP_URL_ISCSI)
		return pp_iscsi_open(url, initiator_iqn, role, timeout_ms,
				     out);
	return pp_sg_open(sg_device_path(url), timeout_ms, out);
}
