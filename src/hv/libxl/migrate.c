/* SPDX-License-Identifier: ISC */
/* Live migration (libxl_int.h): not yet on the libxl backend. */
#include "hv/libxl/libxl_int.h"

int xlb_migrate(struct hv *hv, uint32_t domid, const char *host, const char *command, uint64_t id)
{
	(void)hv;
	(void)host;
	(void)command;
	(void)id;
	xd_log(XD_LOG_ERR, NULL, domid, "live migration is not implemented on the libxl backend yet");
	return HV_EFAIL;
}
