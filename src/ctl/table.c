/* SPDX-License-Identifier: ISC */
/* Aligned text tables (table.h). */
#include "ctl/table.h"

#include <stdlib.h>
#include <string.h>

#include "ctl/safe.h"
#include "util/escape.h"

int table_init(struct table *t, size_t ncols, const char *const *header)
{
	*t = (struct table){ .ncols = ncols };
	return table_add(t, header);
}

int table_add(struct table *t, const char *const *row)
{
	char **cells = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*cells));
	if (!cells)
		return -1;
	t->cells = cells;
	char **dst = cells + t->nrows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		dst[c] = xd_escape(row[c] ? row[c] : "-");
		if (!dst[c]) {
			while (c--)
				free(dst[c]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

void table_print(const struct table *t, FILE *out)
{
	size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));
	if (!width)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = safe_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			fputs(cell, out);
			if (c + 1 < t->ncols)
				fprintf(out, "%*s", (int)(width[c] - safe_width(cell) + 2), "");
		}
		fputc('\n', out);
	}
	free(width);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	*t = (struct table){ 0 };
}
