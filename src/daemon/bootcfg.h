/* SPDX-License-Identifier: ISC */
/*
 * The configuration a daemon start boots with (degraded boot): unlike
 * --check and reload, an error that belongs to one domain or to one
 * [global] key never stops the daemon; every diagnostic is logged with
 * FILE:LINE and the loader marks the broken domains (config_error) for the
 * engine to show failed.  The daemon exits only when the main file is
 * present and unreadable, or when an explicitly given file is missing.
 * With the default path absent it runs on defaults (the domains of
 * auto_dir) and says so once.
 */
#ifndef XD_DAEMON_BOOTCFG_H
#define XD_DAEMON_BOOTCFG_H

#include <stdbool.h>

#include "config/diag.h"
#include "core/config.h"

/* The loader's shape (config/load.h: xd_config_load_flags). */
typedef int xd_boot_load_fn(const char *path, unsigned flags, struct xd_config **out,
			    struct xd_diags *diags);

/* 0 with *out, or -1 (logged) when the daemon cannot run on path.
 * explicit_path: given with -c (a missing file is then an error); else
 * a missing file is loaded as an empty one (XD_LOAD_MISSING_OK: the
 * loader's one notice says so). */
int xd_boot_config_load(const char *path, bool explicit_path, xd_boot_load_fn *load,
			struct xd_config **out);

/* The default configuration path: XENDOMD_DEFAULT_CONFIG from the
 * environment when set and not empty (for tests), else built_in. */
const char *xd_boot_default_path(const char *built_in);

/* The save images in dir to offer the engine at boot (xd_engine_add_images):
 * regular files, in name order, except names starting with '.' and the
 * ones xendomd itself leaves there (*.tmp being written, *.unrestorable
 * set aside).  A missing dir is none.  Free with xd_boot_images_free. */
void xd_boot_list_images(const char *dir, char ***files, size_t *n);
void xd_boot_images_free(char **files, size_t n);

#endif
