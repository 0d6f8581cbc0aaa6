/* SPDX-License-Identifier: ISC */
/*
 * start_order = critical-path: weights, priorities and the expected
 * makespan of the boot (plan.h).  Pure computation; the measured times
 * come from the caller.
 */
#include "core/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void xd_plan_weights(const uint64_t *measured, size_t n, uint64_t *out)
{
	uint64_t *known = xd_calloc(n + 1, sizeof(*known));
	size_t k = 0;
	for (size_t i = 0; measured && i < n; i++)
		if (measured[i])
			known[k++] = measured[i];
	qsort(known, k, sizeof(*known), cmp_u64);
	/* the lower middle of an even count: a known value, not a mean */
	uint64_t median = k ? known[(k - 1) / 2] : 1;
	for (size_t i = 0; i < n; i++)
		out[i] = measured && measured[i] ? measured[i] : median;
	free(known);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/*
 * Dependents before their dependencies (Kahn's algorithm on the reversed
 * arrows): a domain is done once every domain that lists it in requires or
 * after is, so its priority is final when it is taken.
 */
int xd_plan_critical(const struct xd_config *cfg, const uint64_t *measured, uint64_t *out)
{
	size_t n = cfg->n_domains, head = 0, tail = 0;
	uint64_t *w = xd_calloc(n + 1, sizeof(*w));
	size_t *waiting = xd_calloc(n + 1, sizeof(*waiting));   /* dependents not done */
	size_t *queue = xd_calloc(n + 1, sizeof(*queue));

	xd_plan_weights(measured, n, w);
	for (size_t i = 0; i < n; i++) {
		const struct xd_domain_cfg *d = &cfg->domains[i];
		for (size_t k = 0; k < d->n_requires; k++)
			waiting[d->requires[k]]++;
		for (size_t k = 0; k < d->n_after; k++)
			waiting[d->after[k]]++;
	}
	for (size_t i = 0; i < n; i++) {
		out[i] = w[i];
		if (!waiting[i])
			queue[tail++] = i;
	}
	while (head < tail) {
		size_t j = queue[head++];
		const struct xd_domain_cfg *d = &cfg->domains[j];
		for (size_t k = 0; k < d->n_requires + d->n_after; k++) {
			size_t dep = k < d->n_requires ? d->requires[k] : d->after[k - d->n_requires];
			if (sat_add(w[dep], out[j]) > out[dep])
				out[dep] = sat_add(w[dep], out[j]);
			if (--waiting[dep] == 0)
				queue[tail++] = dep;
		}
	}
	free(w);
	free(waiting);
	free(queue);
	if (tail < n) {
		errno = ELOOP;
		return -1;
	}
	return 0;
}

/* A binary min-heap of domain indices under an order of the simulation. */
struct sim;
typedef bool sim_before_fn(const struct sim *, size_t, size_t);

struct heap {
	size_t *v, n;
	sim_before_fn *before;
};

struct sim {
	const uint64_t *prio;    /* NULL: config order */
	uint64_t *finish;
	struct heap ready, running;
};

static bool ready_before(const struct sim *s, size_t a, size_t b)
{
	if (s->prio && s->prio[a] != s->prio[b])
		return s->prio[a] > s->prio[b];
	return a < b;
}

static bool finish_before(const struct sim *s, size_t a, size_t b)
{
	return s->finish[a] != s->finish[b] ? s->finish[a] < s->finish[b] : a < b;
}

static void heap_push(const struct sim *s, struct heap *h, size_t x)
{
	size_t i = h->n++;
	for (; i > 0 && h->before(s, x, h->v[(i - 1) / 2]); i = (i - 1) / 2)
		h->v[i] = h->v[(i - 1) / 2];
	h->v[i] = x;
}

static size_t heap_pop(const struct sim *s, struct heap *h)
{
	size_t top = h->v[0], last = h->v[--h->n], i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->before(s, h->v[c + 1], h->v[c]))
			c++;
		if (!h->before(s, h->v[c], last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* How many dependencies inside the boot plan each boot domain waits for. */
static void count_waits(const struct xd_config *cfg, const struct xd_plan *p, size_t *waits)
{
	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct xd_domain_cfg *d = &cfg->domains[i];
		for (size_t k = 0; p->in_boot[i] && k < d->n_requires + d->n_after; k++) {
			size_t dep = k < d->n_requires ? d->requires[k] : d->after[k - d->n_requires];
			waits[i] += p->in_boot[dep];
		}
	}
}

/* Dependents in the plan as lists: rfirst[j] .. rfirst[j+1]-1 in rto. */
static void build_dependents(const struct xd_config *cfg, const struct xd_plan *p,
			     size_t **rfirst, size_t **rto)
{
	size_t n = cfg->n_domains, total = 0;
	*rfirst = xd_calloc(n + 2, sizeof(**rfirst));
	for (size_t i = 0; i < n; i++)
		total += cfg->domains[i].n_requires + cfg->domains[i].n_after;
	*rto = xd_calloc(total + 1, sizeof(**rto));
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			const struct xd_domain_cfg *d = &cfg->domains[i];
			for (size_t k = 0; p->in_boot[i] && k < d->n_requires + d->n_after; k++) {
				size_t dep = k < d->n_requires ? d->requires[k] : d->after[k - d->n_requires];
				if (!p->in_boot[dep])
					continue;
				if (pass == 0)
					(*rfirst)[dep + 2]++;
				else
					(*rto)[(*rfirst)[dep + 1]++] = i;
			}
			if (pass == 0 && i + 1 == n)
				for (size_t j = 2; j < n + 2; j++)
					(*rfirst)[j] += (*rfirst)[j - 1];
		}
}

/*
 * The model (a list schedule, as the engine's run queue does it): at time
 * 0 every boot domain without a dependency in the plan is ready; while a
 * start slot is free (max_parallel_starts, 0 = unlimited) the first ready
 * domain in the queue's order takes it and holds it for its weight; when
 * it ends the domain counts as ready and its dependents in the plan whose
 * other dependencies are ready join the queue.  Memory admission, hooks,
 * start_delay and retries are not modelled.
 */
uint64_t xd_plan_makespan(const struct xd_config *cfg, const struct xd_plan *p,
			  const uint64_t *weights, const uint64_t *prio)
{
	size_t n = cfg->n_domains, *waits = xd_calloc(n + 1, sizeof(*waits));
	unsigned max = cfg->global.max_parallel_starts;
	struct sim s = { .prio = prio, .finish = xd_calloc(n + 1, sizeof(uint64_t)) };
	s.ready = (struct heap){ xd_calloc(n + 1, sizeof(size_t)), 0, ready_before };
	s.running = (struct heap){ xd_calloc(n + 1, sizeof(size_t)), 0, finish_before };
	uint64_t t = 0;

	size_t *rfirst, *rto;
	count_waits(cfg, p, waits);
	build_dependents(cfg, p, &rfirst, &rto);
	for (size_t i = 0; i < n; i++)
		if (p->in_boot[i] && !waits[i])
			heap_push(&s, &s.ready, i);
	for (;;) {
		while (s.ready.n && (max == 0 || s.running.n < max)) {
			size_t i = heap_pop(&s, &s.ready);
			s.finish[i] = sat_add(t, weights[i]);
			heap_push(&s, &s.running, i);
		}
		if (!s.running.n)
			break;
		size_t j = heap_pop(&s, &s.running);
		t = s.finish[j];
		for (size_t k = rfirst[j]; k < rfirst[j + 1]; k++)
			if (--waits[rto[k]] == 0)
				heap_push(&s, &s.ready, rto[k]);
	}
	free(waits);
	free(rfirst);
	free(rto);
	free(s.finish);
	free(s.ready.v);
	free(s.running.v);
	return t;
}
