/*
 * Loading and validating xendomd.conf (SPEC §2) and every xl cfg it names.
 *
 * File syntax (inih): `[global]` and `[domain NAME]` sections of
 * `key = value` lines; comments start a line with ';' or '#', or follow
 * whitespace inside a line; a value may be wrapped in double quotes
 * (`auto_dir = ""`); lines are at most 4095 characters; indented lines are
 * ordinary lines (no multi-line values).
 *
 * What is read, in this order:
 *   1. the main file;
 *   2. every `*.conf` regular file in include_dir, in strcmp order (only the
 *      main file may set include_dir; a missing directory is only an error
 *      when include_dir was set explicitly);
 *   3. every domain's xl cfg: `config =` (relative to xen_config_dir), else
 *      <xen_config_dir>/<name>.cfg, then <xen_config_dir>/<name>;
 *   4. auto_dir (xendomains compatibility; "" disables, a missing directory
 *      is fine unless auto_dir was set explicitly): each regular file (or
 *      symlink to one) is an autostart domain with default policy, named by
 *      its xl cfg's name=, placed after the [domain] sections in strcmp
 *      order of file names.  Skipped: names starting with '.', ending in
 *      '~', '#', '.bak', '.old', '.orig', '.rej', '.swp', '.tmp',
 *      '.rpmnew', '.rpmsave', '.rpmorig', '.dpkg-old', '.dpkg-new',
 *      '.dpkg-dist', '.dpkg-bak', '.dpkg-tmp', '.ucf-old', '.ucf-new',
 *      '.ucf-dist', and files whose domain also has a [domain] section
 *      (the section wins).
 * Values: durations are whole seconds (stored as ms); booleans are
 * yes/no, true/false, on/off, 1/0 (any case); directories and hooks are
 * absolute paths (hooks: existing executable regular files, checked now);
 * after/requires name domains separated by spaces and/or commas (any
 * domain, including auto_dir ones); ready is running | pv-drivers |
 * delay:SECONDS | xenstore:PATH[=VALUE], PATH relative to the guest's
 * /local/domain/<domid>, at most 255 characters from XenStore's own set
 * [A-Za-z0-9_/-] (xenstored refuses '.'), no empty or ".." component,
 * VALUE non-empty printable ASCII of at most 255 characters.  Domain names:
 * 1-63 characters from [A-Za-z0-9_.-], not all digits, not Domain-0.
 *
 * Files: the main file and every xl cfg must be regular files (opened
 * without blocking, so a FIFO or device is refused, never waited on; in
 * include_dir and auto_dir other entries are passed over); a NUL byte is an
 * error at its line.
 *
 * Paths are resolved once everything is read, so xen_config_dir may be set
 * anywhere.  A key may be set once (across all files); a domain may be
 * defined once.  Per-domain on_host_shutdown and shutdown_timeout default
 * to the [global] values.
 *
 * Not thread-safe: inih's settings are process globals, set for the
 * duration of a load and restored after.
 */
#ifndef XD_CONFIG_LOAD_H
#define XD_CONFIG_LOAD_H

#include <stdio.h>

#include "config/diag.h"
#include "core/config.h"

/* Longest configuration line accepted (characters, without the newline). */
#define XD_CONF_MAX_LINE 4095

/*
 * Load path and everything it includes.  Returns 0 and *out (free with
 * xd_config_free()) on success; on any error returns -1, *out = NULL, and
 * every error found (not just the first) is in diags ("FILE:LINE:
 * message").  diags must start empty ({0}); free it with xd_diags_free().
 */
int xd_config_load(const char *path, struct xd_config **out, struct xd_diags *diags);

/*
 * `xendomd --check`: load path, print every error to out and then a
 * one-line summary ("N domains, M errors").  Returns 0 if the
 * configuration is valid, 2 if not (the exit code SPEC §1 asks for).
 *
 * `xendomd --plan [--dot]` loads with xd_config_load(), then calls
 * xd_plan_build() and xd_plan_format() from core/plan.h.
 */
int xd_config_check(const char *path, FILE *out);

#endif
