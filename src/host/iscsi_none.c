/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iSCSI transport stub: prpath was built without libiscsi. */
#include <errno.h>
#include <stddef.h>

#include "host/iscsi.h"
#include "host/url.h"

int pp_iscsi_open(const char *url, const char *initiator_iqn,
		  unsigned role, unsigned timeout_ms,
		  struct pp_conn **out)
{
	struct pp_iscsi_url u;
	int rc;

	(void)timeout_ms;
	if (!out)
		return -EINVAL;
	*out = NULL;
	pp_transport_clear_error();
	rc = pp_iscsi_check_args(url, initiator_iqn, role, &u);
	if (rc < 0)
		return rc;
	pp_transport_set_error("iSCSI support not built (libiscsi missing)");
	return -ENOTSUP;
}

const char *pp_iscsi_port_name(struct pp_conn *c)
{
	(void)c;
	return NULL;
}
