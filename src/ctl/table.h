/* SPDX-License-Identifier: ISC */
/*
 * Aligned text tables for xendomctl's human output: cells are collected,
 * then printed with each column as wide as its widest cell.
 */
#ifndef XD_CTL_TABLE_H
#define XD_CTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table {
	size_t ncols;
	size_t nrows;
	char **cells;                    /* nrows * ncols, malloc'ed strings */
};

/* Columns are named by the header row. */
int table_init(struct table *t, size_t ncols, const char *const *header);
/* One row of ncols strings (NULL prints as "-"), kept escaped
 * (util/escape.h: no control character reaches the terminal). Returns -1
 * on ENOMEM. */
int table_add(struct table *t, const char *const *row);
/* Two spaces between columns, no trailing blanks; widths count
 * characters, not bytes. */
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

#endif
