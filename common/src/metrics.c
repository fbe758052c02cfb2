/*
 * Prometheus metrics: request counts per route, method and status, latency
 * histograms per route, in-flight requests and the database pool.
 *
 * Labels use the route *pattern* ("/api/v1/procedures/{code}"), never the
 * concrete path, so cardinality stays bounded whatever clients send. Counters
 * are lock-free atomics indexed by route and status.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])
#define N_STATUS 500 /* 100..599 */

static const char *const builtin_paths[] = {"/healthz", "/readyz", "/metrics", "/openapi.json"};
#define N_BUILTIN 4

struct route_metrics {
    const char *method;
    const char *pattern;
    atomic_ulong status[N_STATUS];
    atomic_ulong bucket[N_BUCKETS + 1];
    atomic_ulong sum_us;
    atomic_ulong count;
};

struct mc_metrics {
    char service[64];
    size_t n; /* routes + builtins + unmatched */
    size_t n_routes;
    struct route_metrics *r;
};

struct mc_metrics *mc_metrics_new(const char *service, const struct mc_route *routes, size_t n)
{
    struct mc_metrics *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    snprintf(m->service, sizeof m->service, "%s", service);
    m->n_routes = n;
    m->n = n + N_BUILTIN + 1;
    m->r = calloc(m->n, sizeof *m->r);
    if (m->r == NULL) {
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        m->r[i].method = routes[i].method;
        m->r[i].pattern = routes[i].pattern;
    }
    for (size_t i = 0; i < N_BUILTIN; i++) {
        m->r[n + i].method = "GET";
        m->r[n + i].pattern = builtin_paths[i];
    }
    m->r[n + N_BUILTIN].method = "other";
    m->r[n + N_BUILTIN].pattern = "unmatched";
    return m;
}

void mc_metrics_free(struct mc_metrics *m)
{
    if (m == NULL)
        return;
    free(m->r);
    free(m);
}

/* route_index: >= 0 a service route; -1 unmatched; -2 - k the k-th builtin. */
static size_t slot(const struct mc_metrics *m, int route_index)
{
    if (route_index >= 0 && (size_t)route_index < m->n_routes)
        return (size_t)route_index;
    if (route_index <= -2 && route_index > -2 - N_BUILTIN)
        return m->n_routes + (size_t)(-2 - route_index);
    return m->n_routes + N_BUILTIN;
}

void mc_metrics_observe(struct mc_metrics *m, int route_index, const char *method, unsigned status,
                        double seconds)
{
    (void)method;
    if (m == NULL)
        return;
    struct route_metrics *r = &m->r[slot(m, route_index)];
    if (status >= 100 && status < 600)
        atomic_fetch_add_explicit(&r->status[status - 100], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < N_BUCKETS && seconds > buckets[b])
        b++;
    atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_us, (unsigned long)(seconds * 1e6), memory_order_relaxed);
    atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
}

struct buf {
    char *data;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void put(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (w < 0)
            return;
        if ((size_t)w < b->cap - b->len) {
            b->len += (size_t)w;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)w;
        char *grown = realloc(b->data, cap);
        if (grown == NULL)
            return;
        b->data = grown;
        b->cap = cap;
    }
}

char *mc_metrics_render(struct mc_metrics *m, mc_db_pool *db, struct mc_response_cache *cache,
                        unsigned in_flight)
{
    struct buf b = {malloc(16384), 0, 16384};
    if (b.data == NULL)
        return NULL;
    b.data[0] = '\0';
    put(&b, "# HELP motcua_http_requests_total HTTP requests answered, by route pattern and status.\n"
            "# TYPE motcua_http_requests_total counter\n");
    for (size_t i = 0; i < m->n; i++)
        for (unsigned s = 0; s < N_STATUS; s++) {
            unsigned long v = atomic_load_explicit(&m->r[i].status[s], memory_order_relaxed);
            if (v > 0)
                put(&b,
                    "motcua_http_requests_total{service=\"%s\",route=\"%s\",method=\"%s\",status=\"%u\"} %lu\n",
                    m->service, m->r[i].pattern, m->r[i].method, s + 100, v);
        }
    put(&b, "# HELP motcua_http_request_duration_seconds Time from request start to answer.\n"
            "# TYPE motcua_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->n; i++) {
        unsigned long count = atomic_load_explicit(&m->r[i].count, memory_order_relaxed);
        if (count == 0)
            continue;
        unsigned long cumulative = 0;
        for (size_t k = 0; k <= N_BUCKETS; k++) {
            cumulative += atomic_load_explicit(&m->r[i].bucket[k], memory_order_relaxed);
            if (k < N_BUCKETS)
                put(&b,
                    "motcua_http_request_duration_seconds_bucket{service=\"%s\",route=\"%s\",method=\"%s\",le=\"%g\"} %lu\n",
                    m->service, m->r[i].pattern, m->r[i].method, buckets[k], cumulative);
            else
                put(&b,
                    "motcua_http_request_duration_seconds_bucket{service=\"%s\",route=\"%s\",method=\"%s\",le=\"+Inf\"} %lu\n",
                    m->service, m->r[i].pattern, m->r[i].method, cumulative);
        }
        put(&b,
            "motcua_http_request_duration_seconds_sum{service=\"%s\",route=\"%s\",method=\"%s\"} %.6f\n"
            "motcua_http_request_duration_seconds_count{service=\"%s\",route=\"%s\",method=\"%s\"} %lu\n",
            m->service, m->r[i].pattern, m->r[i].method,
            (double)atomic_load_explicit(&m->r[i].sum_us, memory_order_relaxed) / 1e6, m->service,
            m->r[i].pattern, m->r[i].method, count);
    }
    put(&b, "# HELP motcua_http_requests_in_flight Requests being handled now.\n"
            "# TYPE motcua_http_requests_in_flight gauge\n"
            "motcua_http_requests_in_flight{service=\"%s\"} %u\n",
        m->service, in_flight);
    if (cache != NULL) {
        unsigned long hits, misses;
        mc_response_cache_stats(cache, &hits, &misses);
        put(&b,
            "# HELP motcua_response_cache_lookups_total Response cache lookups by result.\n"
            "# TYPE motcua_response_cache_lookups_total counter\n"
            "motcua_response_cache_lookups_total{service=\"%s\",result=\"hit\"} %lu\n"
            "motcua_response_cache_lookups_total{service=\"%s\",result=\"miss\"} %lu\n",
            m->service, hits, m->service, misses);
    }
    if (db != NULL) {
        unsigned size, in_use;
        unsigned long waits, timeouts;
        mc_db_pool_stats(db, &size, &in_use, &waits, &timeouts);
        put(&b,
            "# HELP motcua_db_pool_connections Database pool connections by state.\n"
            "# TYPE motcua_db_pool_connections gauge\n"
            "motcua_db_pool_connections{service=\"%s\",state=\"in_use\"} %u\n"
            "motcua_db_pool_connections{service=\"%s\",state=\"idle\"} %u\n"
            "# HELP motcua_db_pool_size Configured database pool size.\n"
            "# TYPE motcua_db_pool_size gauge\n"
            "motcua_db_pool_size{service=\"%s\"} %u\n"
            "# HELP motcua_db_pool_waits_total Checkouts that had to wait for a free connection.\n"
            "# TYPE motcua_db_pool_waits_total counter\n"
            "motcua_db_pool_waits_total{service=\"%s\"} %lu\n"
            "# HELP motcua_db_pool_timeouts_total Checkouts that gave up (answered 503).\n"
            "# TYPE motcua_db_pool_timeouts_total counter\n"
            "motcua_db_pool_timeouts_total{service=\"%s\"} %lu\n",
            m->service, in_use, m->service, size - in_use, m->service, size, m->service, waits,
            m->service, timeouts);
    }
    return b.data;
}
