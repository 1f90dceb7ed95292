/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Output: every command that reports something builds one json-c document;
 * -o json prints it as is, text mode prints the same data for people.
 * Keys are snake_case, reservation keys are "0x%016x" strings (a 64-bit
 * key does not fit a JSON number), every document starts with
 * "schema_version": 1.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

struct json_object *out_doc(const char *cmd)
{
	struct json_object *o = json_object_new_object();

	if (!o) {
		fprintf(stderr, "prpath: out of memory\n");
		exit(EXIT_DEVICE);
	}
	out_add_int(o, "schema_version", CLI_SCHEMA_VERSION);
	out_add_str(o, "command", cmd);
	return o;
}

void out_add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

void out_add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

void out_add_bool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

void out_key_str(uint64_t key, char buf[19])
{
	snprintf(buf, 19, "0x%016" PRIx64, key);
}

void out_add_key(struct json_object *o, const char *k, uint64_t key)
{
	char buf[19];

	out_key_str(key, buf);
	out_add_str(o, k, buf);
}

static bool doc_printed;

void out_json_error(const struct cli *c, int status)
{
	struct json_object *doc, *e;

	if (!c || c->output != OUT_JSON || status == EXIT_OK || doc_printed)
		return;
	doc = out_doc(c->cmd ? c->cmd : "");
	e = json_object_new_object();
	out_add_str(e, "message", cli_first_error()[0] ? cli_first_error()
						       : "failed");
	out_add_int(e, "exit_status", status);
	json_object_object_add(doc, "error", e);
	out_json(doc);
}

void out_json(struct json_object *doc)
{
	doc_printed = true;
	fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE),
	      stdout);
	fputc('\n', stdout);
	json_object_put(doc);
}
