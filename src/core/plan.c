/* SPDX-License-Identifier: ISC */
/*
 * The dependency planner: cycles, boot order and waves, and the renderings
 * of `--plan`.  See plan.h.
 */
#include "core/plan.h"

#include "util/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The dependency graph with duplicate arrows merged: an arrow is
 * "requires" if any requires entry names it, else "after". */
struct graph {
	size_t n;
	size_t *first;           /* arrows of i: first[i] .. first[i+1]-1 */
	size_t *to;
	bool *req;
};

static void graph_free(struct graph *g)
{
	free(g->first);
	free(g->to);
	free(g->req);
}

static bool arrow_known(const struct graph *g, size_t from_first, size_t end, size_t to)
{
	for (size_t e = from_first; e < end; e++)
		if (g->to[e] == to)
			return true;
	return false;
}

static int graph_build(const struct xd_config *cfg, struct graph *g)
{
	size_t total = 0;

	for (size_t i = 0; i < cfg->n_domains; i++)
		total += cfg->domains[i].n_requires + cfg->domains[i].n_after;
	g->n = cfg->n_domains;
	g->first = calloc(g->n + 1, sizeof(*g->first));
	g->to = calloc(total + 1, sizeof(*g->to));
	g->req = calloc(total + 1, sizeof(*g->req));
	if (!g->first || !g->to || !g->req) {
		graph_free(g);
		errno = ENOMEM;
		return -1;
	}
	size_t e = 0;
	for (size_t i = 0; i < g->n; i++) {
		const struct xd_domain_cfg *d = &cfg->domains[i];
		g->first[i] = e;
		for (size_t k = 0; k < d->n_requires; k++)
			if (!arrow_known(g, g->first[i], e, d->requires[k])) {
				g->to[e] = d->requires[k];
				g->req[e++] = true;
			}
		for (size_t k = 0; k < d->n_after; k++)
			if (!arrow_known(g, g->first[i], e, d->after[k])) {
				g->to[e] = d->after[k];
				g->req[e++] = false;
			}
	}
	g->first[g->n] = e;
	return 0;
}

enum { WHITE, GREY, BLACK };

/*
 * Iterative depth-first walk in config order skipping the arrows marked in
 * dead[].  Returns 1 with the cycle and the index of its closing arrow, 0
 * if there is none, -1 on ENOMEM.
 */
static int walk_for_cycle(const struct graph *g, const bool *dead,
			  size_t **cycle, size_t *len, size_t *closing)
{
	unsigned char *color = calloc(g->n + 1, 1);
	size_t *stack = calloc(g->n + 1, sizeof(*stack));
	size_t *next = calloc(g->n + 1, sizeof(*next));
	int rc = 0;

	if (!color || !stack || !next) {
		rc = -1;
		goto out;
	}
	for (size_t root = 0; root < g->n && rc == 0; root++) {
		if (color[root] != WHITE)
			continue;
		size_t top = 0;
		stack[0] = root;
		next[0] = g->first[root];
		color[root] = GREY;
		while (rc == 0) {
			size_t u = stack[top];
			if (next[top] == g->first[u + 1]) {
				color[u] = BLACK;
				if (top == 0)
					break;
				top--;
				continue;
			}
			size_t e = next[top]++;
			size_t v = g->to[e];
			if (dead[e] || color[v] == BLACK)
				continue;
			if (color[v] == WHITE) {
				color[v] = GREY;
				stack[++top] = v;
				next[top] = g->first[v];
				continue;
			}
			/* v is on the stack: stack[p..top] -> v closes a cycle */
			size_t p = top;
			while (stack[p] != v)
				p--;
			*len = top - p + 2;
			*cycle = malloc(*len * sizeof(**cycle));
			if (!*cycle) {
				rc = -1;
				break;
			}
			memcpy(*cycle, stack + p, (top - p + 1) * sizeof(**cycle));
			(*cycle)[*len - 1] = v;
			*closing = e;
			rc = 1;
		}
	}
out:
	free(color);
	free(stack);
	free(next);
	if (rc < 0)
		errno = ENOMEM;
	return rc;
}

int xd_plan_find_cycle(const struct xd_config *cfg, size_t **cycle, size_t *len)
{
	struct graph g;
	size_t closing;

	if (graph_build(cfg, &g) < 0)
		return -1;
	bool *dead = calloc(g.first[g.n] + 1, sizeof(*dead));
	int rc = dead ? walk_for_cycle(&g, dead, cycle, len, &closing) : -1;
	free(dead);
	graph_free(&g);
	return rc;
}

void xd_cycles_free(struct xd_cycle *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].v);
	free(c);
}

int xd_plan_find_cycles(const struct xd_config *cfg, struct xd_cycle **out, size_t *n)
{
	struct graph g;
	*out = NULL;
	*n = 0;

	if (graph_build(cfg, &g) < 0)
		return -1;
	bool *dead = calloc(g.first[g.n] + 1, sizeof(*dead));
	int rc = dead ? 1 : -1;
	while (rc == 1) {
		struct xd_cycle c;
		size_t closing;
		rc = walk_for_cycle(&g, dead, &c.v, &c.len, &closing);
		if (rc != 1)
			break;
		struct xd_cycle *grown = reallocarray(*out, *n + 1, sizeof(**out));
		if (!grown) {
			free(c.v);
			rc = -1;
			break;
		}
		*out = grown;
		(*out)[(*n)++] = c;
		dead[closing] = true;
	}
	free(dead);
	graph_free(&g);
	if (rc < 0) {
		xd_cycles_free(*out, *n);
		*out = NULL;
		*n = 0;
		errno = ENOMEM;
	}
	return rc < 0 ? -1 : 0;
}

void xd_plan_free(struct xd_plan *p)
{
	free(p->order);
	free(p->wave);
	free(p->in_boot);
	memset(p, 0, sizeof(*p));
}

/* Autostart domains and, transitively, what they require. */
static void mark_boot_domains(const struct xd_config *cfg, bool *in_boot, size_t *queue)
{
	size_t head = 0, tail = 0;

	for (size_t i = 0; i < cfg->n_domains; i++)
		if (cfg->domains[i].autostart) {
			in_boot[i] = true;
			queue[tail++] = i;
		}
	while (head < tail) {
		const struct xd_domain_cfg *d = &cfg->domains[queue[head++]];
		for (size_t k = 0; k < d->n_requires; k++)
			if (!in_boot[d->requires[k]]) {
				in_boot[d->requires[k]] = true;
				queue[tail++] = d->requires[k];
			}
	}
}

/* Kahn's algorithm where the next domain is always the earliest in config
 * order whose dependencies inside the plan are placed; waves follow. */
static void order_boot_domains(const struct graph *g, struct xd_plan *p, bool *placed)
{
	p->n = 0;
	for (;;) {
		size_t pick = g->n;
		for (size_t i = 0; i < g->n && pick == g->n; i++) {
			if (!p->in_boot[i] || placed[i])
				continue;
			bool ready = true;
			for (size_t e = g->first[i]; e < g->first[i + 1] && ready; e++)
				ready = !p->in_boot[g->to[e]] || placed[g->to[e]];
			if (ready)
				pick = i;
		}
		if (pick == g->n)
			return;         /* all placed: there is no cycle */
		unsigned wave = 0;
		for (size_t e = g->first[pick]; e < g->first[pick + 1]; e++)
			if (p->in_boot[g->to[e]] && p->wave[g->to[e]] + 1 > wave)
				wave = p->wave[g->to[e]] + 1;
		p->wave[pick] = wave;
		if (wave + 1 > p->n_waves)
			p->n_waves = wave + 1;
		placed[pick] = true;
		p->order[p->n++] = pick;
	}
}

int xd_plan_build(const struct xd_config *cfg, struct xd_plan *out)
{
	size_t *cycle, len;
	int found = xd_plan_find_cycle(cfg, &cycle, &len);

	memset(out, 0, sizeof(*out));
	if (found < 0)
		return -1;
	if (found) {
		free(cycle);
		errno = ELOOP;
		return -1;
	}
	struct graph g;
	if (graph_build(cfg, &g) < 0)
		return -1;
	size_t n = cfg->n_domains;
	out->n_domains = n;
	out->order = calloc(n + 1, sizeof(*out->order));
	out->wave = calloc(n + 1, sizeof(*out->wave));
	out->in_boot = calloc(n + 1, sizeof(*out->in_boot));
	bool *placed = calloc(n + 1, sizeof(*placed));
	size_t *queue = calloc(n + 1, sizeof(*queue));
	int rc = 0;
	if (!out->order || !out->wave || !out->in_boot || !placed || !queue) {
		xd_plan_free(out);
		errno = ENOMEM;
		rc = -1;
	} else {
		mark_boot_domains(cfg, out->in_boot, queue);
		order_boot_domains(&g, out, placed);
	}
	free(placed);
	free(queue);
	graph_free(&g);
	return rc;
}

/* A growing string; on ENOMEM it remembers the failure and stops. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		int need = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (need < 0) {
			b->failed = true;
			return;
		}
		if (b->s && b->len + (size_t)need < b->cap) {
			b->len += (size_t)need;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 256) + (size_t)need;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->failed = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

static char *sb_finish(struct sbuf *b)
{
	if (!b->failed && !b->s)
		sb_printf(b, "%s", "");
	if (b->failed) {
		free(b->s);
		errno = ENOMEM;
		return NULL;
	}
	return b->s;
}

char *xd_plan_cycle_text(const struct xd_config *cfg, const size_t *cycle, size_t len)
{
	struct sbuf b = { 0 };

	for (size_t i = 0; i < len; i++)
		sb_printf(&b, "%s%s", i ? " -> " : "", cfg->domains[cycle[i]].name);
	return sb_finish(&b);
}

static void sb_ready(struct sbuf *b, const struct xd_ready *r)
{
	switch (r->kind) {
	case XD_READY_RUNNING:
		sb_printf(b, "running");
		break;
	case XD_READY_PV_DRIVERS:
		sb_printf(b, "pv-drivers");
		break;
	case XD_READY_XENSTORE:
		sb_printf(b, "xenstore:%s%s%s", r->path, r->has_value ? "=" : "",
			  r->has_value ? r->value : "");
		break;
	case XD_READY_DELAY:
		if (r->delay_ms % 1000)
			sb_printf(b, "delay:%" PRIu64 ".%03" PRIu64, r->delay_ms / 1000, r->delay_ms % 1000);
		else
			sb_printf(b, "delay:%" PRIu64, r->delay_ms / 1000);
		break;
	}
}

static void sb_names(struct sbuf *b, const struct xd_config *cfg, const char *label,
		     const size_t *v, size_t n)
{
	if (n == 0)
		return;
	sb_printf(b, "; %s ", label);
	for (size_t k = 0; k < n; k++)
		sb_printf(b, "%s%s", k ? ", " : "", cfg->domains[v[k]].name);
}

static void sb_domain_line(struct sbuf *b, const struct xd_config *cfg, size_t i, int width)
{
	const struct xd_domain_cfg *d = &cfg->domains[i];

	sb_printf(b, "  %-*s  ready ", width, d->name);
	sb_ready(b, &d->ready);
	sb_names(b, cfg, "requires", d->requires, d->n_requires);
	sb_names(b, cfg, "after", d->after, d->n_after);
	sb_printf(b, "\n");
}

static char *format_text(const struct xd_config *cfg, const struct xd_plan *p)
{
	struct sbuf b = { 0 };
	int width = 0;

	for (size_t i = 0; i < cfg->n_domains; i++)
		if ((int)strlen(cfg->domains[i].name) > width)
			width = (int)strlen(cfg->domains[i].name);
	sb_printf(&b, "Boot plan: %zu domain%s in %u wave%s\n", p->n, p->n == 1 ? "" : "s",
		  p->n_waves, p->n_waves == 1 ? "" : "s");
	for (unsigned w = 0; w < p->n_waves; w++) {
		sb_printf(&b, "\nWave %u:\n", w);
		for (size_t k = 0; k < p->n; k++)
			if (p->wave[p->order[k]] == w)
				sb_domain_line(&b, cfg, p->order[k], width);
	}
	bool pulled_in_header = false;
	for (size_t k = 0; k < p->n; k++) {
		size_t i = p->order[k];
		if (cfg->domains[i].autostart)
			continue;
		if (!pulled_in_header)
			sb_printf(&b, "\nStarted at boot only because required (autostart = no):\n");
		pulled_in_header = true;
		sb_printf(&b, "  %s\n", cfg->domains[i].name);
	}
	bool demand_header = false;
	for (size_t i = 0; i < cfg->n_domains; i++) {
		if (p->in_boot[i])
			continue;
		if (!demand_header)
			sb_printf(&b, "\nOn demand (not started at boot):\n");
		demand_header = true;
		sb_domain_line(&b, cfg, i, width);
	}
	return sb_finish(&b);
}

static char *format_dot(const struct xd_config *cfg, const struct xd_plan *p)
{
	struct sbuf b = { 0 };
	struct graph g;

	if (graph_build(cfg, &g) < 0)
		return NULL;
	sb_printf(&b, "digraph xendomd {\n\trankdir=LR;\n\tnode [shape=box];\n");
	for (unsigned w = 0; w < p->n_waves; w++) {
		sb_printf(&b, "\t{ rank=same;");
		for (size_t k = 0; k < p->n; k++)
			if (p->wave[p->order[k]] == w)
				sb_printf(&b, " \"%s\";", cfg->domains[p->order[k]].name);
		sb_printf(&b, " }\n");
	}
	for (size_t i = 0; i < cfg->n_domains; i++) {
		if (p->in_boot[i])
			sb_printf(&b, "\t\"%s\" [label=\"%s\\nwave %u\"];\n", cfg->domains[i].name,
				  cfg->domains[i].name, p->wave[i]);
		else
			sb_printf(&b, "\t\"%s\" [label=\"%s\\non demand\", style=dashed, color=grey];\n",
				  cfg->domains[i].name, cfg->domains[i].name);
	}
	for (size_t i = 0; i < g.n; i++)
		for (size_t e = g.first[i]; e < g.first[i + 1]; e++)
			sb_printf(&b, "\t\"%s\" -> \"%s\"%s;\n", cfg->domains[g.to[e]].name,
				  cfg->domains[i].name, g.req[e] ? "" : " [style=dashed]");
	sb_printf(&b, "}\n");
	graph_free(&g);
	return sb_finish(&b);
}

char *xd_plan_format(const struct xd_config *cfg, const struct xd_plan *p, bool dot)
{
	return dot ? format_dot(cfg, p) : format_text(cfg, p);
}

static void sb_makespan(struct sbuf *b, const struct xd_config *cfg, const struct xd_plan *p,
			const uint64_t *measured, const uint64_t *w, const uint64_t *prio)
{
	sb_printf(b, "\nExpected makespan: %" PRIu64 " ms with start_order = critical-path, "
		  "%" PRIu64 " ms in config order (max_parallel_starts = %u)\n",
		  xd_plan_makespan(cfg, p, w, prio), xd_plan_makespan(cfg, p, w, NULL),
		  cfg->global.max_parallel_starts);
	sb_printf(b, "Model: each domain holds a start slot for its weight, then its dependents "
		  "may start; memory, hooks and delays are not counted.\n");
	sb_printf(b, "Weights (create-to-ready ms from earlier boots; median = not measured), "
		  "critical path:\n");
	for (size_t k = 0; k < p->n; k++) {
		size_t i = p->order[k];
		bool median = !measured || !measured[i];
		sb_printf(b, "  %s  %" PRIu64 "%s  path %" PRIu64 "\n", cfg->domains[i].name, w[i],
			  median ? " median" : "", prio[i]);
	}
}

char *xd_plan_format_makespan(const struct xd_config *cfg, const struct xd_plan *p,
			      const uint64_t *measured)
{
	size_t n = cfg->n_domains;
	uint64_t *w = xd_calloc(n + 1, sizeof(*w)), *prio = xd_calloc(n + 1, sizeof(*prio));
	struct sbuf b = { 0 };
	char *text = NULL;

	xd_plan_weights(measured, n, w);
	if (xd_plan_critical(cfg, measured, prio) == 0) {
		sb_makespan(&b, cfg, p, measured, w, prio);
		text = sb_finish(&b);
	}
	free(w);
	free(prio);
	return text;
}
