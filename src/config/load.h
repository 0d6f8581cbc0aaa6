/* SPDX-License-Identifier: ISC */
/*
 * Loading and validating xendomd.conf(5) and every xl cfg it names.
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
 *      is fine unless auto_dir was set explicitly): every entry not
 *      starting with '.', symlinks followed, in strcmp order of names, is
 *      an autostart domain with default policy named by its xl cfg's
 *      name=, placed after the [domain] sections.  Skipped with one warning
 *      each: directories, dangling symlinks, other non-regular files, and
 *      names ending in '~', '#', '.bak', '.old', '.orig', '.rej', '.swp',
 *      '.tmp', '.save', '.disabled', '.rpmnew', '.rpmsave', '.rpmorig' or
 *      containing '.dpkg-' or '.ucf-'.  An entry that is no xl cfg (parse
 *      error, no name=) is an error.  A file whose domain has a [domain]
 *      section is passed over (the section wins); a second file naming
 *      the same domain is a warning (the first wins).
 * Values: durations are whole seconds (stored as ms); booleans are
 * yes/no, true/false, on/off, 1/0 (any case); directories and hooks are
 * absolute paths (hooks: existing executable regular files, checked now);
 * after/requires name domains separated by spaces and/or commas (any
 * domain, including auto_dir ones); ready is running | pv-drivers |
 * delay:SECONDS | xenstore:PATH[=VALUE], PATH relative to the guest's
 * /local/domain/<domid>, at most 255 characters from XenStore's own set
 * [A-Za-z0-9_/-] (xenstored refuses '.'), no empty or ".." component,
 * VALUE non-empty printable ASCII of at most 255 characters.  Domain names:
 * as xl accepts them, refused only when they cannot be a file name in
 * save_dir/state_dir or are unsafe in logs and JSON (xd_domain_name_problem
 * in config/util.h).  An unparsable memory=/maxmem= is xl's warning and is
 * ignored, as xl does.
 *
 * Files: the main file and every xl cfg must be regular files (opened
 * without blocking, so a FIFO or device is refused, never waited on; in
 * include_dir other entries are passed over, in auto_dir with a warning);
 * a NUL byte is an error at its line.
 *
 * Paths are resolved once everything is read, so xen_config_dir may be set
 * anywhere.  A key may be set once (across all files); a domain may be
 * defined once.  Per-domain on_host_shutdown, shutdown_timeout and
 * save_timeout default to the [global] values.
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
 * Strict load (--check, reload): path and everything it includes.  Returns
 * 0 and *out (free with xd_config_free()) when there is no error (warnings
 * are allowed); on any error returns -1, *out = NULL, and every error found
 * (not just the first) is in diags ("FILE:LINE: message").  diags must
 * start empty ({0}); free it with xd_diags_free().
 */
int xd_config_load(const char *path, struct xd_config **out, struct xd_diags *diags);

/*
 * Degraded load (the daemon's start): the same files, the same diags
 * (every error, as xd_config_load reports them, plus warnings), but an
 * error that belongs to one domain keeps that domain in *out with
 * config_error = "FILE:LINE: message" (its first error): a bad or unknown
 * key in its section, a missing or unparsable xl cfg, a name= mismatch, an
 * unknown after/requires name, a dependency cycle (exactly the domains on
 * the cycle, each "dependency cycle: a -> b -> a").  after/requires edges
 * to such domains stay resolved (what they mean is the engine's business).
 * An error in [global], or outside any section, leaves that key at its
 * default.  An auto_dir entry that is not a usable xl cfg, or whose name=
 * cannot be a domain name, is left out (it names no domain to fail).
 * Returns 0 with *out in all those cases; -1 (*out = NULL) only when the
 * main file exists but cannot be read.
 */
int xd_config_load_degraded(const char *path, struct xd_config **out, struct xd_diags *diags);

enum {
	XD_LOAD_DEGRADED   = 1 << 0,   /* xd_config_load_degraded's rules */
	XD_LOAD_MISSING_OK = 1 << 1,   /* a main file that does not exist is read
	                                * as an empty one (defaults + auto_dir),
	                                * with one notice in diags */
};

/*
 * The loader behind both: flags 0 = xd_config_load, XD_LOAD_DEGRADED =
 * xd_config_load_degraded.  The daemon passes XD_LOAD_DEGRADED |
 * XD_LOAD_MISSING_OK when it runs on the default path (no -c): xendomd
 * then replaces xendomains with no configuration at all; an explicit -c
 * FILE that is missing stays an error.
 */
int xd_config_load_flags(const char *path, unsigned flags, struct xd_config **out,
			 struct xd_diags *diags);

/*
 * `xendomd --check`: load path, print every error and warning to out, a
 * one-line summary ("N domains, M errors"), then what the daemon's start
 * would do with the same file ("at boot: N domains would start, M would
 * fail (configuration)", computed with xd_config_load_degraded).  Returns
 * 0 if the configuration has no error (warnings allowed), 2 if it has.
 *
 * `xendomd --plan [--dot]` loads with xd_config_load(), then calls
 * xd_plan_build() and xd_plan_format() from core/plan.h.
 */
int xd_config_check(const char *path, FILE *out);

#endif
