/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpathd's control requests, parsed with json-c. Pure: the state is
 * handed in, nothing is sent to any LU (fuzz/fuzz_ctl.c drives it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <prpath/mpath.h>
#include <prpath/path.h>

#include "ctl.h"

static char *finish(struct json_object *o)
{
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return s;
}

static char *error(const char *msg, int exit_status)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "exit_status", json_object_new_int(exit_status));
	return finish(o);
}

const char *pd_group_state_name(enum pd_group_state s)
{
	switch (s) {
	case PD_ACTIVE: return "active";
	case PD_FENCED: return "fenced";
	default: return "standby";
	}
}

static const char *gstate(const struct pd_state *st, const struct pd_group *g)
{
	size_t i = (size_t)(g - st->conf->groups);

	return st->gstate ? pd_group_state_name(st->gstate[i]) : "standby";
}

static char *list(const struct pd_state *st)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	size_t i;

	for (i = 0; st->conf && i < st->conf->ngroups; i++) {
		const struct pd_group *g = &st->conf->groups[i];
		struct json_object *go = json_object_new_object();

		json_object_object_add(go, "name", json_object_new_string(g->name));
		json_object_object_add(go, "mode", json_object_new_string(g->shared ? "shared" : "exclusive"));
		json_object_object_add(go, "state", json_object_new_string(gstate(st, g)));
		json_object_object_add(go, "lus", json_object_new_int((int)g->nlus));
		json_object_array_add(arr, go);
	}
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "groups", arr);
	return finish(o);
}

static char *status(const struct pd_state *st, const char *name)
{
	const struct pd_group *g = pd_conf_group(st->conf, name);
	struct json_object *o, *lus;
	size_t i, k;

	if (!g) {
		char msg[160];

		snprintf(msg, sizeof(msg), "no group named '%.64s'", name);
		return error(msg, 1);
	}
	o = json_object_new_object();
	lus = json_object_new_array();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "group", json_object_new_string(g->name));
	json_object_object_add(o, "mode", json_object_new_string(g->shared ? "shared" : "exclusive"));
	json_object_object_add(o, "state", json_object_new_string(gstate(st, g)));
	for (i = 0; i < st->nruns; i++) {
		const struct pd_lu_run *r = st->runs[i];
		struct prpath_path_status ps[PD_MAX_PATHS];
		struct json_object *lo, *paths;
		size_t n = 0;

		if (r->g != g)
			continue;
		lo = json_object_new_object();
		paths = json_object_new_array();
		json_object_object_add(lo, "name", json_object_new_string(r->lu->name));
		json_object_object_add(lo, "lu_id", json_object_new_string(
			r->dev ? prpath_dev_lu_id(r->dev) : ""));
		/* local state only: looking never sends a command */
		if (r->dev)
			n = prpath_dev_paths(r->dev, ps, PD_MAX_PATHS);
		for (k = 0; k < r->lu->nurls; k++) {
			struct json_object *po = json_object_new_object();
			char shown[512];

			snprintf(shown, sizeof(shown), "%s", r->lu->urls[k]);
			prpath_url_redact(shown);
			json_object_object_add(po, "index", json_object_new_int((int)k + 1));
			json_object_object_add(po, "url", json_object_new_string(shown));
			/* the device holds the paths that opened, in order */
			int di = k < PD_MAX_PATHS ? r->dev_index[k] : -1;

			if (di >= 0 && (size_t)di < n) {
				json_object_object_add(po, "state", json_object_new_string(
					prpath_path_state_name(ps[di].state)));
				json_object_object_add(po, "registered",
						       json_object_new_boolean(ps[di].registered));
				if (ps[di].rel_tgt_port >= 0)
					json_object_object_add(po, "relative_target_port",
							       json_object_new_int(ps[di].rel_tgt_port));
			} else {
				json_object_object_add(po, "state", json_object_new_string("not opened"));
				json_object_object_add(po, "registered", json_object_new_boolean(0));
			}
			json_object_array_add(paths, po);
		}
		json_object_object_add(lo, "paths", paths);
		json_object_array_add(lus, lo);
	}
	json_object_object_add(o, "lus", lus);
	return finish(o);
}

static char *group_op(struct pd_state *st, const char *name, enum pd_op op)
{
	const struct pd_group *g = pd_conf_group(st->conf, name);
	struct json_object *o;
	char why[512];
	int rc;

	if (!g) {
		snprintf(why, sizeof(why), "no group named '%.64s'", name);
		return error(why, 1);
	}
	if (!st->group_op)
		return error("not available in this prpathd", 2);
	why[0] = '\0';
	rc = st->group_op(st, (size_t)(g - st->conf->groups), op, why, sizeof(why));
	if (rc)
		return error(why[0] ? why : "failed", rc);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "group", json_object_new_string(g->name));
	json_object_object_add(o, "state", json_object_new_string(gstate(st, g)));
	if (why[0])
		json_object_object_add(o, "detail", json_object_new_string(why));
	return finish(o);
}

/* The answer to a watch request; the events follow on the connection
 * (prpathd.c keeps it when st->watch is set). */
static char *watch(struct pd_state *st, const char *name)
{
	const struct pd_group *g = pd_conf_group(st->conf, name);
	struct json_object *o;

	if (!g) {
		char msg[160];

		snprintf(msg, sizeof(msg), "no group named '%.64s'", name);
		return error(msg, 1);
	}
	st->watch = (int)(g - st->conf->groups);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "group", json_object_new_string(g->name));
	json_object_object_add(o, "state", json_object_new_string(gstate(st, g)));
	json_object_object_add(o, "watching", json_object_new_boolean(1));
	return finish(o);
}

char *pd_ctl_answer(struct pd_state *st, const char *line, size_t len)
{
	struct json_tokener *tok;
	struct json_object *req, *v;
	const char *cmd;
	char *ans;

	if (!st || !line)
		return error("no request", 1);
	st->watch = -1;
	if (len > PD_CTL_LINE_MAX)
		return error("request longer than 4096 bytes", 1);
	if (memchr(line, '\0', len))
		return error("request holds a NUL byte", 1);
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	req = json_tokener_parse_ex(tok, line, (int)len);
	if (!req || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset < (int)len) {
		json_tokener_free(tok);
		json_object_put(req);
		return error("not one JSON object", 1);
	}
	json_tokener_free(tok);
	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		json_object_put(req);
		return error("a request is an object with a \"cmd\" string", 1);
	}
	cmd = json_object_get_string(v);
	if (!strcmp(cmd, "list")) {
		ans = list(st);
	} else if (!strcmp(cmd, "status")) {
		if (!json_object_object_get_ex(req, "group", &v) ||
		    !json_object_is_type(v, json_type_string))
			ans = error("status needs \"group\": NAME", 1);
		else
			ans = status(st, json_object_get_string(v));
	} else if (!strcmp(cmd, "acquire") || !strcmp(cmd, "takeover") ||
		   !strcmp(cmd, "release")) {
		enum pd_op op = !strcmp(cmd, "acquire") ? PD_OP_ACQUIRE :
				!strcmp(cmd, "takeover") ? PD_OP_TAKEOVER : PD_OP_RELEASE;

		if (!json_object_object_get_ex(req, "group", &v) ||
		    !json_object_is_type(v, json_type_string))
			ans = error("a group command needs \"group\": NAME", 1);
		else
			ans = group_op(st, json_object_get_string(v), op);
	} else if (!strcmp(cmd, "watch")) {
		if (!json_object_object_get_ex(req, "group", &v) ||
		    !json_object_is_type(v, json_type_string))
			ans = error("watch needs \"group\": NAME", 1);
		else
			ans = watch(st, json_object_get_string(v));
	} else {
		char msg[120];

		snprintf(msg, sizeof(msg), "unknown command '%.40s' (list, status, acquire, takeover, release, watch)", cmd);
		ans = error(msg, 1);
	}
	json_object_put(req);
	return ans;
}
