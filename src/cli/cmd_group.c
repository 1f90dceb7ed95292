/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath group: the client of prpathd's control socket (prpathd(8)). One
 * request line, one answer line (watch: then the group's events); the answer is printed as a table, or as
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
		"       prpath [-S SOCKET] group status|acquire|takeover|release|watch NAME\n"
		"\n"
		"Asks prpathd (default socket " DEFAULT_SOCKET ") about its groups of LUs:\n"
		"  list          the groups, their mode and state\n"
		"  status NAME   per LU and path: state, registered, target port\n"
		"  acquire NAME  take every LU of the group (exit 24 if another host holds one)\n"
		"  takeover NAME preempt the holder of every LU of the group\n"
		"  release NAME  give every LU of the group up\n"
		"  watch NAME    the group's events as they happen (one JSON object per\n"
		"                line with -o json), until prpathd stops\n");
}

/* Connects to prpathd and sends @req (one line). Returns the connected
 * descriptor, or -(exit status) after printing the reason. @rcv_timeout_s:
 * how long a read may wait (0: for ever). */
static int ctl_send(struct cli *c, const char *req, int rcv_timeout_s)
{
	const char *path = c->socket ? c->socket : DEFAULT_SOCKET;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { rcv_timeout_s, 0 }, stv = { 30, 0 };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		cli_err(c, "group: -S %s: longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		return -EXIT_USAGE;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		cli_err(c, "group: cannot reach prpathd at %s: %s (is it running? -S names another socket)",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EXIT_DEVICE;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &stv, sizeof(stv));
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) || write(fd, "\n", 1) != 1) {
		cli_err(c, "group: sending to prpathd: %s", strerror(errno));
		close(fd);
		return -EXIT_DEVICE;
	}
	return fd;
}

/* Sends @req and reads the answer line into *@out (malloc'd). Returns 0 or
 * an exit status after printing the reason. */
static int ask(struct cli *c, const char *req, char **out)
{
	size_t len = 0, cap = 4096;
	char *buf;
	int fd = ctl_send(c, req, 30);

	if (fd < 0)
		return -fd;
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

/* One event line as text: "TIME group/lu path N: event (detail)". */
static void print_event(struct json_object *e)
{
	struct json_object *v;

	printf("%s %s", json_object_get_string(json_object_object_get(e, "time")),
	       json_object_get_string(json_object_object_get(e, "group")));
	if (json_object_object_get_ex(e, "lu", &v))
		printf("/%s", json_object_get_string(v));
	if (json_object_object_get_ex(e, "path", &v))
		printf(" path %d", json_object_get_int(v));
	printf(": %s", json_object_get_string(json_object_object_get(e, "event")));
	if (json_object_object_get_ex(e, "detail", &v))
		printf(" (%s)", json_object_get_string(v));
	printf("\n");
}

/* group watch NAME: the answer, then the group's events as they happen,
 * until prpathd stops (exit 0 after its "daemon-stopping") or the
 * connection ends otherwise (exit 2). */
static int group_watch(struct cli *c, const char *req, const char *name)
{
	struct json_object *a, *v;
	bool stopping = false;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int fd = ctl_send(c, req, 0), rc = EXIT_OK;

	if (fd < 0)
		return -fd;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		cli_err(c, "group watch: %s", strerror(errno));
		return EXIT_DEVICE;
	}
	n = getline(&line, &cap, f);
	a = n > 0 ? json_tokener_parse(line) : NULL;
	if (!a || !json_object_object_get_ex(a, "ok", &v)) {
		cli_err(c, n > 0 ? "group watch: prpathd's answer is not a JSON object" :
			"group: prpathd gave no answer");
		rc = n > 0 ? EXIT_BAD_RESPONSE : EXIT_DEVICE;
	} else if (!json_object_get_boolean(v)) {
		struct json_object *e, *x;
		int st = json_object_object_get_ex(a, "exit_status", &x) ?
			 json_object_get_int(x) : EXIT_DEVICE;

		cli_err(c, "group watch: %s",
			json_object_object_get_ex(a, "error", &e) ? json_object_get_string(e) : "failed");
		rc = st > 0 && st < 256 ? st : EXIT_DEVICE;
	} else if (c->output == OUT_JSON) {
		fputs(line, stdout);
	} else {
		printf("group %s: %s; watching (interrupt to stop)\n", name,
		       json_object_get_string(json_object_object_get(a, "state")));
	}
	json_object_put(a);
	fflush(stdout);
	while (rc == EXIT_OK && (n = getline(&line, &cap, f)) > 0) {
		struct json_object *e = json_tokener_parse(line);

		if (!e || !json_object_is_type(e, json_type_object)) {
			json_object_put(e);
			cli_err(c, "group watch: an event is not a JSON object");
			rc = EXIT_BAD_RESPONSE;
			break;
		}
		if (json_object_object_get_ex(e, "event", &v) &&
		    !strcmp(json_object_get_string(v), "daemon-stopping"))
			stopping = true;
		if (c->output == OUT_JSON)
			fputs(line, stdout);
		else
			print_event(e);
		fflush(stdout);
		json_object_put(e);
	}
	if (rc == EXIT_OK && !stopping) {
		cli_err(c, "group watch: prpathd ended the watch (stopped, or this watcher fell behind)");
		rc = EXIT_DEVICE;
	}
	free(line);
	fclose(f);
	return rc;
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
		    !strcmp(sub, "takeover") || !strcmp(sub, "release") ||
		    !strcmp(sub, "watch")) && argc == 3) {
		json_object_object_add(req, "cmd", json_object_new_string(sub));
		json_object_object_add(req, "group", json_object_new_string(argv[2]));
	} else {
		json_object_put(req);
		cli_err(c, "group: '%s' with %d argument(s) is not list, or status, acquire, takeover, release or watch NAME",
			sub, argc - 2);
		group_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(sub, "watch")) {
		rc = group_watch(c, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
				 argv[2]);
		json_object_put(req);
		return rc;
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
