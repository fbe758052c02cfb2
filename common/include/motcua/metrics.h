/*
 * A service's own metrics on /metrics, beside common's (requests, latency,
 * the database pool): counters and gauges a background job keeps (the
 * deadline watcher's work, a feed consumer's position, the outbox backlog).
 *
 * Register each once, at start, and keep the handle: registration takes a
 * lock, updates are lock-free atomics. Every line gets the label
 * service="<name>" first; `labels` adds fixed ones, written as Prometheus
 * does (`kind="overdue"`, several separated by commas) or NULL. Registering
 * the same name and labels again returns the same handle, and one name keeps
 * the type and help of its first registration. At most MC_METRICS_MAX of
 * them (NULL past that; updating NULL does nothing).
 */
#ifndef MOTCUA_METRICS_H
#define MOTCUA_METRICS_H

#define MC_METRICS_MAX 64

typedef struct mc_metric mc_metric;

mc_metric *mc_metric_counter(const char *name, const char *help, const char *labels);
mc_metric *mc_metric_gauge(const char *name, const char *help, const char *labels);
/* A counter goes up by n. */
void mc_metric_add(mc_metric *m, unsigned long long n);
/* A gauge takes the value v. */
void mc_metric_set(mc_metric *m, long long v);

#endif
