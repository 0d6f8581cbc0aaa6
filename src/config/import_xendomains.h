/* SPDX-License-Identifier: ISC */
/*
 * `xendomd --import-xendomains [FILE]`: the xendomd.conf that does what a
 * xendomains settings file did.  Three kinds are understood:
 *
 *   Debian's /etc/default/xendomains   (for Debian's init.d/xendomains)
 *   upstream's /etc/sysconfig/xendomains (Xen's tools/hotplug/Linux
 *                                        xendomains script)
 *   NetBSD's rc.conf                   (xendomains="a b", rc.d/xendomains)
 *
 * The file is read (shvars.h), never run.  Every variable it sets, and
 * every one of the script's that it leaves unset, ends up as keys or as a
 * comment saying why xendomd has no equivalent.
 */
#ifndef XD_CONFIG_IMPORT_XENDOMAINS_H
#define XD_CONFIG_IMPORT_XENDOMAINS_H

#include <stddef.h>
#include <stdio.h>

enum xd_import_kind {
	XD_IMPORT_DEBIAN,
	XD_IMPORT_UPSTREAM,
	XD_IMPORT_NETBSD,
};

/* The configuration for text (the contents of origin), malloc'd; *kind is
 * how it was read, *unread the number of lines that were not assignments
 * that could be read (they are listed in the output).  NULL on ENOMEM. */
char *xd_import_xendomains(const char *text, const char *origin, enum xd_import_kind *kind,
			   size_t *unread);

/* The option: path NULL = the first of /etc/default/xendomains,
 * /etc/sysconfig/xendomains, /etc/rc.conf that exists; "-" = stdin.
 * Writes the configuration to out, notes to err.  Returns the exit code:
 * 0, 1 when some lines could not be read (the output says which), 2 when
 * there is no file to read. */
int xd_import_xendomains_main(const char *path, FILE *out, FILE *err);

#endif
