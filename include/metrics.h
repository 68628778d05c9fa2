/* metrics.h — request counts by route and status, and latency histograms,
 * in Prometheus text format. Lock-free counters; no personal data. */
#ifndef CIVICARD_METRICS_H
#define CIVICARD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct metrics;

/* One slot per route plus one for requests that matched none. */
struct metrics *metrics_new(size_t nroutes);
void metrics_free(struct metrics *m);
/* route is 0..nroutes-1, or -1 for unmatched. */
void metrics_observe(struct metrics *m, int route, int status, uint64_t nanoseconds);
/* labels[i] names route i as "METHOD PATTERN" pieces. */
int metrics_render(const struct metrics *m, const char *const *methods,
		   const char *const *patterns, struct buf *out);

#endif
