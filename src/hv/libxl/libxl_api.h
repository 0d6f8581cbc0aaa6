/* SPDX-License-Identifier: ISC */
/*
 * The one place libxl's headers come in, with the API version pinned
 * (doc/xen-facts.md §0: 0x041400 gives the ao_how signatures and stays
 * source-compatible up to Xen master).
 */
#ifndef XD_LIBXL_API_H
#define XD_LIBXL_API_H

#define LIBXL_API_VERSION 0x041400
#include <libxl.h>
#include <libxl_utils.h>
#include <libxlutil.h>
#include <xentoollog.h>
#include <xenstore.h>

#endif
