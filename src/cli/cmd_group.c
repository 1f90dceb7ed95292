/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath group: the client of prpathd's control socket (prpathd(8)). One
 * request line, one answer line; the answer is printed as a table, or as
 * it came with -o json. Looking never disturbs I/O: prpathd answers from
 * its own sessions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"

#define DEFAULT_SOCKET "/run/prpathd.sock"
#define ANSWER_MAX (1u << 20)

static void group_usage(FILE *f)
{
	fprintf(f,
		"Usage: prpath [-S SOCKET] group list\n"
		"       prpath [-S SOCKET] group status|acquire|takeover|release NAME\n"
		"\n"
		"Asks prpathd (default socket " DEFAULT_SOCKET ") about its groups of LUs:\n"
		"  list          the groups, their mode and state\n"
		"  status NAME   per LU and path: state, registered, target port\n"
		"  acquire NAME  take every LU of the group (exit 24 if another host holds one)\n"
		"  takeover NAME preempt the holder of every LU of the group\n"
		"  release NAME  give every LU of the group up\n");
}

/* Sends @req and reads the answer line into *@out (malloc'd). Returns 0 or
 * an exit status after printing the reason. */
static int ask(struct cli *c, const char *req, char **out)
{
	const char *path = c->socket ? c->socket : DEFAULT_SOCKET;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 30, 0 };
	size_t len = 0, cap = 4096;
	char *buf;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		cli_err(c, "group: -S %s: longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		return EXIT_USAGE;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		cli_err(c, "group: cannot reach prpathd at %s: %s (is it running? -S names another socket)",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_DEVICE;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) || write(fd, "\n", 1) != 1) {
		cli_err(c, "group: sending to prpathd: %s", strerror(errno));
		close(fd);
		return EXIT_DEVICE;
	}
	buf = malloc(cap);
	while (buf) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *t = cap >= ANSWER_MAX ? NULL : realloc(buf, cap * 2);

			if (!t) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = t;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	if (!buf || !len) {
		free(buf);
		cli_err(c, "group: prpathd gave no answer");
		return EXIT_DEVICE;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static void print_status(struct json_object *a)
{
	struct json_object *lus, *v;
	size_t i, k;

	printf("group %s: %s, %s\n", json_object_get_string(json_object_object_get(a, "group")),
	       json_object_get_string(json_object_object_get(a, "mode")),
	       json_object_get_string(json_object_object_get(a, "state")));
	if (!json_object_object_get_ex(a, "lus", &lus))
		return;
	for (i = 0; i < json_object_array_length(lus); i++) {
		struct json_object *lu = json_object_array_get_idx(lus, i), *paths;

		printf("lu %s %s\n", json_object_get_string(json_object_object_get(lu, "name")),
		       json_object_get_string(json_object_object_get(lu, "lu_id")));
		printf("  %-5s %-12s %-11s %-6s %s\n", "PATH", "STATE", "REGISTERED", "TPORT", "URL");
		if (!json_object_object_get_ex(lu, "paths", &paths))
			continue;
		for (k = 0; k < json_object_array_length(paths); k++) {
			struct json_object *p = json_object_array_get_idx(paths, k);
			char tp[16] = "-";

			if (json_object_object_get_ex(p, "relative_target_port", &v))
				snprintf(tp, sizeof(tp), "%d", json_object_get_int(v));
			printf("  %-5d %-12s %-11s %-6s %s\n",
			       json_object_get_int(json_object_object_get(p, "index")),
			       json_object_get_string(json_object_object_get(p, "state")),
			       json_object_get_boolean(json_object_object_get(p, "registered")) ? "yes" : "no",
			       tp, json_object_get_string(json_object_object_get(p, "url")));
		}
	}
}

int cmd_group(struct cli *c, int argc, char **argv)
{
	struct json_object *req, *a, *v;
	char *answer = NULL;
	const char *sub;
	int rc;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		group_usage(stdout);
		return EXIT_OK;
	}
	if (argc < 2) {
		cli_err(c, "group: give list or status NAME");
		group_usage(stderr);
		return EXIT_USAGE;
	}
	sub = argv[1];
	req = json_object_new_object();
	if (!strcmp(sub, "list") && argc == 2) {
		json_object_object_add(req, "cmd", json_object_new_string("list"));
	} else if ((!strcmp(sub, "status") || !strcmp(sub, "acquire") ||
		    !strcmp(sub, "takeover") || !strcmp(sub, "release")) && argc == 3) {
		json_object_object_add(req, "cmd", json_object_new_string(sub));
		json_object_object_add(req, "group", json_object_new_string(argv[2]));
	} else {
		json_object_put(req);
		cli_err(c, "group: '%s' with %d argument(s) is not list, or status, acquire, takeover or release NAME",
			sub, argc - 2);
		group_usage(stderr);
		return EXIT_USAGE;
	}
	rc = ask(c, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), &answer);
	json_object_put(req);
	if (rc)
		return rc;
	a = json_tokener_parse(answer);
	if (!a || !json_object_is_type(a, json_type_object) ||
	    !json_object_object_get_ex(a, "ok", &v)) {
		cli_err(c, "group: prpathd's answer is not a JSON object");
		json_object_put(a);
		free(answer);
		return EXIT_BAD_RESPONSE;
	}
	if (!json_object_get_boolean(v)) {
		struct json_object *e, *x;
		int st = json_object_object_get_ex(a, "exit_status", &x) ? json_object_get_int(x) : EXIT_DEVICE;

		cli_err(c, "group %s: %s", sub,
			json_object_object_get_ex(a, "error", &e) ? json_object_get_string(e) : "failed");
		json_object_put(a);
		free(answer);
		return st > 0 && st < 256 ? st : EXIT_DEVICE;
	}
	if (c->output == OUT_JSON) {
		fputs(answer, stdout);
		if (answer[strlen(answer) - 1] != '\n')
			fputc('\n', stdout);
	} else if (!strcmp(sub, "list")) {
		struct json_object *gs;
		size_t i;

		if (json_object_object_get_ex(a, "groups", &gs))
			for (i = 0; i < json_object_array_length(gs); i++) {
				struct json_object *g = json_object_array_get_idx(gs, i);

				printf("%s: %s, %s, %d LU(s)\n",
				       json_object_get_string(json_object_object_get(g, "name")),
				       json_object_get_string(json_object_object_get(g, "mode")),
				       json_object_get_string(json_object_object_get(g, "state")),
				       json_object_get_int(json_object_object_get(g, "lus")));
			}
	} else if (!strcmp(sub, "status")) {
		print_status(a);
	} else {
		struct json_object *d = NULL;
		bool detail = json_object_object_get_ex(a, "detail", &d);

		printf("group %s: %s%s%s%s\n", argv[2],
		       json_object_get_string(json_object_object_get(a, "state")),
		       detail ? " (" : "", detail ? json_object_get_string(d) : "",
		       detail ? ")" : "");
	}
	json_object_put(a);
	free(answer);
	return EXIT_OK;
}
