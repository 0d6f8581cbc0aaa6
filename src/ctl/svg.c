/* SPDX-License-Identifier: ISC */
/* Gantt chart of the last boot (svg.h). */
#include "ctl/svg.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define LABEL_W   180     /* names column */
#define PLOT_W    760
#define RIGHT_W   120     /* "took" labels */
#define ROW_H     22
#define BAR_H     14
#define TOP       56      /* title and legend */
#define AXIS_H    30

struct segment {
	const char *key_from, *key_to;
	const char *what;
	const char *colour;
};

static const struct segment segments[] = {
	{ "queued", "started", "waiting", "#b0b7c3" },
	{ "started", "created", "creating", "#f0a040" },
	{ "created", "ready", "booting", "#3a7bd5" },
};

static bool time_of(json_t *dom, const char *key, double *t)
{
	json_t *v = json_object_get(dom, key);
	if (!json_is_number(v))
		return false;
	*t = json_number_value(v);
	return true;
}

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			fputc((unsigned char)*s < 0x20 ? '?' : *s, out);
		}
	}
}

/* The last moment any drawn segment reaches. */
static double time_span(json_t *domains)
{
	double end = 0, t;
	size_t i;
	json_t *d;
	json_array_foreach(domains, i, d)
		for (size_t s = 0; s < sizeof(segments) / sizeof(segments[0]); s++)
			if (time_of(d, segments[s].key_to, &t) && t > end)
				end = t;
	return end > 0 ? end : 1;
}

/* 1, 2 or 5 times a power of ten, for about eight ticks. */
static double tick_step(double span)
{
	double raw = span / 8, mag = pow(10, floor(log10(raw)));
	double f = raw / mag;
	return mag * (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10);
}

static double x_of(double t, double span)
{
	return LABEL_W + t / span * PLOT_W;
}

static void draw_axis(FILE *out, double span, int y_top, int y_bottom)
{
	double step = tick_step(span);
	for (double t = 0; t <= span + step / 1000; t += step) {
		double x = x_of(t, span);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e3e6ea\"/>\n",
			x, y_top, x, y_bottom);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">%g s</text>\n",
			x, y_bottom + 16, t);
	}
}

static void draw_legend(FILE *out)
{
	int x = LABEL_W;
	for (size_t s = 0; s < sizeof(segments) / sizeof(segments[0]); s++) {
		fprintf(out, "<rect x=\"%d\" y=\"30\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"40\">%s</text>\n",
			x, segments[s].colour, x + 16, segments[s].what);
		x += 110;
	}
}

static void draw_row(FILE *out, json_t *d, int y, double span)
{
	const char *name = json_string_value(json_object_get(d, "name"));
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL_W - 8, y + BAR_H - 2);
	xml_text(out, name ? name : "?");
	fputs("</text>\n", out);
	double from, to, last = 0;
	for (size_t s = 0; s < sizeof(segments) / sizeof(segments[0]); s++) {
		const struct segment *sg = &segments[s];
		if (!time_of(d, sg->key_from, &from) || !time_of(d, sg->key_to, &to))
			continue;
		double w = x_of(to, span) - x_of(from, span);
		fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
			"<title>", x_of(from, span), y, w < 1 ? 1 : w, BAR_H, sg->colour);
		xml_text(out, name ? name : "?");
		fprintf(out, ": %s %.3f s (%.3f to %.3f)</title></rect>\n", sg->what, to - from,
			from, to);
		last = to;
	}
	double queued, ready;
	bool is_ready = time_of(d, "ready", &ready);
	if (!time_of(d, "queued", &queued))
		return;
	double x = x_of(is_ready ? ready : last > queued ? last : queued, span) + 6;
	if (is_ready)
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"took\">%.2f s</text>\n", x,
			y + BAR_H - 2, ready - queued);
	else
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"notready\">not ready</text>\n", x,
			y + BAR_H - 2);
}

int svg_timeline(json_t *domains, FILE *out)
{
	double span = time_span(domains), t;
	size_t rows = 0, i;
	json_t *d;
	json_array_foreach(domains, i, d)
		rows += time_of(d, "queued", &t);
	int plot_bottom = TOP + (int)rows * ROW_H;
	int height = plot_bottom + AXIS_H;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<style>.tick{fill:#666;font-size:10px}.took{fill:#333}"
		".notready{fill:#c0392b}</style>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"8\" y=\"20\" font-size=\"15\" font-weight=\"bold\">"
		"xendomd: last boot, per domain</text>\n",
		LABEL_W + PLOT_W + RIGHT_W, height, LABEL_W + PLOT_W + RIGHT_W, height);
	draw_legend(out);
	draw_axis(out, span, TOP - 4, plot_bottom);
	int y = TOP;
	json_array_foreach(domains, i, d) {
		if (!time_of(d, "queued", &t))
			continue;
		draw_row(out, d, y + (ROW_H - BAR_H) / 2, span);
		y += ROW_H;
	}
	fputs("</svg>\n", out);
	return ferror(out) ? -1 : 0;
}
