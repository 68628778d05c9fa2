/* metrics.c — counters and histograms for /metrics. */
#include "metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

/* Status codes the service answers with; anything else counts as "other". */
static const int statuses[] = {
	200, 201, 202, 204, 301, 303, 304, 400, 401, 403, 404, 405, 409, 413, 415,
	422, 429, 500, 501, 503,
};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1)

/* Upper bounds in seconds. */
static const double bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};
#define NBUCKET (sizeof bounds / sizeof bounds[0])

struct route_metrics {
	atomic_uint_fast64_t by_status[NSTATUS];
	atomic_uint_fast64_t buckets[NBUCKET];   /* non-cumulative */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_ns;
};

struct metrics {
	size_t nroutes;
	struct route_metrics r[];                /* nroutes + 1 (unmatched) */
};

struct metrics *metrics_new(size_t nroutes)
{
	struct metrics *m = calloc(1, sizeof *m + (nroutes + 1) * sizeof m->r[0]);
	if (m)
		m->nroutes = nroutes;
	return m;
}

void metrics_free(struct metrics *m)
{
	free(m);
}

void metrics_observe(struct metrics *m, int route, int status, uint64_t ns)
{
	struct route_metrics *r = &m->r[route < 0 ? m->nroutes : (size_t)route];
	size_t s = NSTATUS - 1;
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (statuses[i] == status)
			s = i;
	atomic_fetch_add_explicit(&r->by_status[s], 1, memory_order_relaxed);
	double secs = (double)ns / 1e9;
	for (size_t i = 0; i < NBUCKET; i++) {
		if (secs <= bounds[i]) {
			atomic_fetch_add_explicit(&r->buckets[i], 1, memory_order_relaxed);
			break;
		}
	}
	atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_ns, ns, memory_order_relaxed);
}

int metrics_render(const struct metrics *m, const char *const *methods,
		   const char *const *patterns, struct buf *out)
{
	buf_puts(out, "# HELP civicard_http_requests_total HTTP requests answered, by route and status.\n"
		      "# TYPE civicard_http_requests_total counter\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *method = i < m->nroutes ? methods[i] : "";
		const char *pattern = i < m->nroutes ? patterns[i] : "unmatched";
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t n = atomic_load_explicit(&m->r[i].by_status[s], memory_order_relaxed);
			if (!n)
				continue;
			if (s < NSTATUS - 1)
				buf_printf(out, "civicard_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
					   method, pattern, statuses[s], (unsigned long long)n);
			else
				buf_printf(out, "civicard_http_requests_total{method=\"%s\",route=\"%s\",status=\"other\"} %llu\n",
					   method, pattern, (unsigned long long)n);
		}
	}
	buf_puts(out, "# HELP civicard_http_request_duration_seconds Time from request to response, by route.\n"
		      "# TYPE civicard_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		const struct route_metrics *r = &m->r[i];
		uint64_t count = atomic_load_explicit(&r->count, memory_order_relaxed);
		if (!count)
			continue;
		const char *method = i < m->nroutes ? methods[i] : "";
		const char *pattern = i < m->nroutes ? patterns[i] : "unmatched";
		uint64_t cum = 0;
		for (size_t b = 0; b < NBUCKET; b++) {
			cum += atomic_load_explicit(&r->buckets[b], memory_order_relaxed);
			buf_printf(out, "civicard_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
				   method, pattern, bounds[b], (unsigned long long)cum);
		}
		buf_printf(out, "civicard_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n",
			   method, pattern, (unsigned long long)count);
		buf_printf(out, "civicard_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n",
			   method, pattern, (double)atomic_load_explicit(&r->sum_ns, memory_order_relaxed) / 1e9);
		buf_printf(out, "civicard_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
			   method, pattern, (unsigned long long)count);
	}
	return out->failed ? -1 : 0;
}
