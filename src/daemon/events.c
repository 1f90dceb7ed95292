/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* prpathd's watch events (events.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "events.h"

struct ev_item {
	struct ev_item *next;
	char *group;
	char *line; /* with its newline */
};

struct watcher {
	int fd;
	char *group;
};

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ev_item *ev_head, **ev_tail = &ev_head;
static size_t ev_len, ev_dropped;
static int ev_pipe[2] = { -1, -1 };
/* main loop only */
static struct watcher watchers[PD_MAX_WATCHERS];
static size_t nwatchers;

int pd_events_init(void)
{
	if (pipe2(ev_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void watcher_drop(size_t i)
{
	close(watchers[i].fd);
	free(watchers[i].group);
	watchers[i] = watchers[--nwatchers];
}

void pd_events_fini(void)
{
	struct ev_item *it;

	while (nwatchers)
		watcher_drop(0);
	pthread_mutex_lock(&ev_lock);
	while ((it = ev_head)) {
		ev_head = it->next;
		free(it->group);
		free(it->line);
		free(it);
	}
	ev_tail = &ev_head;
	ev_len = 0;
	pthread_mutex_unlock(&ev_lock);
	if (ev_pipe[0] >= 0)
		close(ev_pipe[0]);
	if (ev_pipe[1] >= 0)
		close(ev_pipe[1]);
	ev_pipe[0] = ev_pipe[1] = -1;
}

int pd_events_fd(void)
{
	return ev_pipe[0];
}

void pd_events_post(const char *group, const char *lu, int path,
		    const char *event, const char *detail)
{
	struct json_object *o = json_object_new_object();
	struct ev_item *it;
	struct timespec ts;
	struct tm tm;
	char when[96];
	const char *s;

	if (!o)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "group", json_object_new_string(group));
	if (lu)
		json_object_object_add(o, "lu", json_object_new_string(lu));
	if (path >= 0)
		json_object_object_add(o, "path", json_object_new_int(path));
	json_object_object_add(o, "event", json_object_new_string(event));
	if (detail)
		json_object_object_add(o, "detail", json_object_new_string(detail));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	it = calloc(1, sizeof(*it));
	if (it) {
		it->group = strdup(group);
		if (it->group && asprintf(&it->line, "%s\n", s) < 0)
			it->line = NULL;
	}
	json_object_put(o);
	if (!it || !it->group || !it->line) {
		if (it) {
			free(it->group);
			free(it);
		}
		return;
	}
	pthread_mutex_lock(&ev_lock);
	if (ev_len >= PD_EVENTS_QUEUE_MAX) {
		/* nobody drains (the main loop is busy in a long group
		 * operation): the oldest goes */
		struct ev_item *old = ev_head;

		ev_head = old->next;
		if (!ev_head)
			ev_tail = &ev_head;
		ev_len--;
		ev_dropped++;
		free(old->group);
		free(old->line);
		free(old);
	}
	*ev_tail = it;
	ev_tail = &it->next;
	ev_len++;
	pthread_mutex_unlock(&ev_lock);
	if (ev_pipe[1] >= 0 && write(ev_pipe[1], "", 1) < 0 && errno != EAGAIN)
		return; /* the main loop still drains at its next wake-up */
}

void pd_events_watch(int fd, const char *group)
{
	int fl;

	if (nwatchers >= PD_MAX_WATCHERS) {
		static const char full[] = "{\"ok\":false,\"error\":\"too many watchers\",\"exit_status\":2}\n";

		if (write(fd, full, sizeof(full) - 1) < 0)
			errno = 0;
		close(fd);
		return;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	watchers[nwatchers].fd = fd;
	watchers[nwatchers].group = strdup(group);
	if (!watchers[nwatchers].group) {
		close(fd);
		return;
	}
	nwatchers++;
}

/* Sends all of @line or drops the watcher (a partial line would corrupt
 * the stream; a full socket buffer is a watcher that does not read). */
static bool watcher_send(size_t i, const char *line)
{
	size_t len = strlen(line);
	ssize_t n = send(watchers[i].fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n == (ssize_t)len)
		return true;
	watcher_drop(i);
	return false;
}

size_t pd_events_flush(void)
{
	struct ev_item *list, *it;
	size_t sent = 0, dropped;
	char drain[64];

	while (ev_pipe[0] >= 0 && read(ev_pipe[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&ev_lock);
	list = ev_head;
	ev_head = NULL;
	ev_tail = &ev_head;
	ev_len = 0;
	dropped = ev_dropped;
	ev_dropped = 0;
	pthread_mutex_unlock(&ev_lock);
	if (dropped)
		fprintf(stderr, "prpathd: %zu event(s) dropped for watchers (queue full)\n",
			dropped);
	while ((it = list)) {
		size_t i = 0;

		list = it->next;
		while (i < nwatchers) {
			if (strcmp(watchers[i].group, it->group) != 0) {
				i++;
				continue;
			}
			if (watcher_send(i, it->line)) {
				i++;
				sent++;
			}
			/* else watchers[i] is now another watcher */
		}
		free(it->group);
		free(it->line);
		free(it);
	}
	return sent;
}

size_t pd_events_pollfds(struct pollfd *pfd, size_t cap)
{
	size_t i;

	for (i = 0; i < nwatchers && i < cap; i++) {
		pfd[i].fd = watchers[i].fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	return i;
}

void pd_events_polled(const struct pollfd *pfd, size_t n)
{
	size_t i;

	/* from the end: dropping moves the last watcher into the hole */
	for (i = n; i-- > 0;) {
		char b[256];
		ssize_t r;

		if (!pfd[i].revents || i >= nwatchers || watchers[i].fd != pfd[i].fd)
			continue;
		/* a watcher says nothing more: input is ignored, EOF or an
		 * error ends it */
		r = recv(pfd[i].fd, b, sizeof(b), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			watcher_drop(i);
	}
}

size_t pd_events_nwatchers(void)
{
	return nwatchers;
}
