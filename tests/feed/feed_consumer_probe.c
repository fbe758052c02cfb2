/*
 * A consumer of a service's event feed built on motcua/feed_consumer.h, for
 * tests/api/test_feed_consumer.py: it records each event it is handed as a
 * row of `applied` (and each resync as a row of `resyncs`) in its schema, so
 * the test can check every event was applied exactly once across kills,
 * restarts and concurrent instances. Runs until SIGTERM/SIGINT.
 *
 * Environment: PROBE_CONNINFO, PROBE_SCHEMA (created by the deployment),
 * PROBE_FEED_URL, PROBE_TOKEN_FILE (a bearer token, re-read for each page),
 * PROBE_INSTANCE (a name recorded with each row), and optionally
 * PROBE_FEED_NAME (default "dossier"), PROBE_PAGE_LIMIT (10),
 * PROBE_POLL_MS (200), PROBE_APPLY_DELAY_MS (0: a pause inside each page's
 * transaction, so a test can kill it mid-stream). On a clean stop it prints
 * its metrics (motcua/metrics.h: the consumer's position, when it last
 * caught up, its failures) as /metrics would, for the test to compare.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../common/src/internal.h"
#include "motcua/db.h"
#include "motcua/feed_consumer.h"
#include "motcua/log.h"

extern const mc_migration probe_migrations[];
extern const size_t probe_migrations_count;

static const mc_db_statement insert_applied = {
    "probe_insert_applied",
    "INSERT INTO applied (event_id, sequence, instance) VALUES ($1::uuid, $2::bigint, $3)", 3};
static const mc_db_statement insert_resync = {
    "probe_insert_resync", "INSERT INTO resyncs (oldest_after, instance) VALUES ($1::bigint, $2)", 2};

struct probe {
    const char *instance;
    const char *token_file;
    unsigned apply_delay_ms;
};

static unsigned env_uint(const char *name, unsigned fallback)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? (unsigned)strtoul(v, NULL, 10) : fallback;
}

static mc_error read_token(void *ctx, bool renew, char *out, size_t out_len)
{
    (void)renew; /* the file is re-read every time anyway */
    const struct probe *p = ctx;
    FILE *f = fopen(p->token_file, "r");
    if (f == NULL)
        return MC_ERR_NOT_READY;
    bool ok = fgets(out, (int)out_len, f) != NULL;
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return ok && out[0] != '\0' ? MC_OK : MC_ERR_NOT_READY;
}

static mc_error apply(mc_db_conn *conn, const json_t *events, void *ctx)
{
    const struct probe *p = ctx;
    size_t i;
    json_t *event;
    json_array_foreach(events, i, event) {
        const char *params[3] = {json_string_value(json_object_get(event, "id")),
                                 json_string_value(json_object_get(event, "sequence")), p->instance};
        PGresult *res = mc_db_exec(conn, &insert_applied, params);
        if (res == NULL)
            return mc_db_failure(conn);
        PQclear(res);
    }
    if (p->apply_delay_ms > 0) {
        struct timespec d = {p->apply_delay_ms / 1000, (long)(p->apply_delay_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
    }
    return MC_OK;
}

static mc_error resync(mc_db_conn *conn, long long oldest_after, void *ctx)
{
    const struct probe *p = ctx;
    char text[24];
    snprintf(text, sizeof text, "%lld", oldest_after);
    const char *params[2] = {text, p->instance};
    PGresult *res = mc_db_exec(conn, &insert_resync, params);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

int main(void)
{
    const char *conninfo = getenv("PROBE_CONNINFO");
    const char *schema = getenv("PROBE_SCHEMA");
    const char *url = getenv("PROBE_FEED_URL");
    const char *feed = getenv("PROBE_FEED_NAME");
    struct probe probe = {getenv("PROBE_INSTANCE"), getenv("PROBE_TOKEN_FILE"),
                          env_uint("PROBE_APPLY_DELAY_MS", 0)};
    if (conninfo == NULL || schema == NULL || url == NULL || probe.instance == NULL ||
        probe.token_file == NULL) {
        fprintf(stderr, "feed_consumer_probe: set PROBE_CONNINFO, PROBE_SCHEMA, PROBE_FEED_URL,"
                        " PROBE_TOKEN_FILE and PROBE_INSTANCE\n");
        return 2;
    }
    mc_log_init("feed-probe", getenv("PROBE_LOG_LEVEL") != NULL ? getenv("PROBE_LOG_LEVEL") : "info");
    if (mc_db_migrate(conninfo, schema, probe_migrations, probe_migrations_count) != MC_OK)
        return 1;
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    mc_db_pool_config pool_cfg = {conninfo, schema, 2, 5000, 10000};
    mc_db_pool *db = mc_db_pool_new(&pool_cfg);
    mc_feed_consumer_config cfg = {
        .feed = feed != NULL ? feed : "dossier",
        .url = url,
        .db = db,
        .conninfo = conninfo,
        .schema = schema,
        .page_limit = env_uint("PROBE_PAGE_LIMIT", 10),
        .poll_ms = env_uint("PROBE_POLL_MS", 200),
        .max_backoff_ms = 2000,
        .http_timeout_s = 10,
        .token = read_token,
        .apply = apply,
        .resync = resync,
        .ctx = &probe,
    };
    mc_feed_consumer *consumer = db != NULL ? mc_feed_consumer_start(&cfg) : NULL;
    if (consumer == NULL) {
        fprintf(stderr, "feed_consumer_probe: could not start the consumer\n");
        mc_db_pool_free(db);
        return 1;
    }
    int sig = 0;
    sigwait(&stop_signals, &sig);
    mc_feed_consumer_stop(consumer);
    char *metrics = mc_metrics_registered_append(strdup(""), "feed-probe");
    if (metrics != NULL)
        printf("%s", metrics);
    free(metrics);
    mc_db_pool_free(db);
    mc_log_close();
    return 0;
}
