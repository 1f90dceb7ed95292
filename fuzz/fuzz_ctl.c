/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: prpathd's control requests (src/daemon/ctl.c over json-c).
 * The input is one request line for a daemon with a fixed configuration
 * (two groups, devices not opened). Every answer must be one JSON object
 * with a boolean "ok"; a refusal carries "error" and an "exit_status" of
 * 1 or 2. abort() otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon/conf.h"
#include "daemon/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_text[] =
	"[host]\ninitiator = iqn.2026-12.fuzz:h\n"
	"[group db]\nlu = data iscsi://127.0.0.1:3260/iqn.2026-12.x:t/0 iscsi://127.0.0.1:3261/iqn.2026-12.x:t/0\n"
	"lu = log iscsi://u%secret@127.0.0.1/iqn.2026-12.x:t2/1\n"
	"[group web]\nmode = shared\nlu = w sg:/dev/sg9\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pd_conf conf;
	static struct pd_lu_run runs[3], *rp[3];
	static struct pd_state st;
	struct json_object *a, *ok, *v;
	char why[128], *ans;

	if (!st.conf) {
		size_t i, j, k = 0;

		if (pd_conf_parse(conf_text, sizeof(conf_text) - 1, &conf, why, sizeof(why)))
			abort();
		for (i = 0; i < conf.ngroups; i++)
			for (j = 0; j < conf.groups[i].nlus; j++, k++) {
				runs[k].g = &conf.groups[i];
				runs[k].lu = &conf.groups[i].lus[j];
				memset(runs[k].dev_index, 0xff, sizeof(runs[k].dev_index));
				rp[k] = &runs[k];
			}
		st.conf = &conf;
		st.runs = rp;
		st.nruns = k;
	}
	ans = pd_ctl_answer(&st, (const char *)data, size);
	if (!ans)
		return 0; /* out of memory */
	/* one line; the configuration's CHAP secret never shows (an answer
	 * may quote the request, so only when the request did not hold it) */
	if (strchr(ans, '\n') ||
	    (strstr(ans, "secret") && !memmem(data, size, "secret", 6)))
		abort();
	a = json_tokener_parse(ans);
	if (!a || !json_object_is_type(a, json_type_object) ||
	    !json_object_object_get_ex(a, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean))
		abort();
	if (!json_object_get_boolean(ok) &&
	    (!json_object_object_get_ex(a, "error", &v) ||
	     !json_object_object_get_ex(a, "exit_status", &v) ||
	     json_object_get_int(v) < 1 || json_object_get_int(v) > 2))
		abort();
	json_object_put(a);
	free(ans);
	return 0;
}
