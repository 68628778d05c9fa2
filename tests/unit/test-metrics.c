/* test-metrics.c — Prometheus text output. */
#include "check.h"
#include "metrics.h"

TEST(counts_and_histogram)
{
	struct metrics *m = metrics_new(2);
	const char *methods[] = { "GET", "POST" }, *patterns[] = { "/healthz", "/api/v1/login" };
	metrics_observe(m, 0, 200, 300000);        /* 0.3 ms */
	metrics_observe(m, 0, 200, 2000000);       /* 2 ms */
	metrics_observe(m, 1, 401, 50000000);      /* 50 ms */
	metrics_observe(m, -1, 404, 1000);
	metrics_observe(m, 1, 418, 1000);
	struct buf b = BUF_INIT;
	CHECK(metrics_render(m, methods, patterns, &b) == 0);
	CHECK(strstr(b.data, "civicard_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2\n"));
	CHECK(strstr(b.data, "civicard_http_requests_total{method=\"POST\",route=\"/api/v1/login\",status=\"401\"} 1\n"));
	CHECK(strstr(b.data, "route=\"/api/v1/login\",status=\"other\"} 1\n"));
	CHECK(strstr(b.data, "route=\"unmatched\",status=\"404\"} 1\n"));
	CHECK(strstr(b.data, "civicard_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.0005\"} 1\n"));
	CHECK(strstr(b.data, "civicard_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.0025\"} 2\n"));
	CHECK(strstr(b.data, "civicard_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 2\n"));
	CHECK(strstr(b.data, "civicard_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/login\"} 2\n"));
	CHECK(strstr(b.data, "# TYPE civicard_http_request_duration_seconds histogram\n"));
	buf_free(&b);
	metrics_free(m);
}

int main(void)
{
	RUN(counts_and_histogram);
	return CHECK_DONE();
}
