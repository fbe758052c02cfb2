/*
 * The dossier event feed into facts and rollups: the callbacks of common's
 * feed consumer (docs/architecture.md, "Consuming an event feed"). A page is
 * applied in one transaction with the feed position, so each event changes
 * the counters exactly once whatever the feed's at-least-once delivery, a
 * replay or a kill -9 does.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "fact_rules.h"
#include "motcua/log.h"
#include "motcua/service_token.h"
#include "period_memo.h"
#include "statistics.h"
#include "store.h"

#define DOSSIER_EVENT_PREFIX "dossier.dossier."

/* Apply one event; *earliest_stock: the earliest day of a stock delta so far. */
static mc_error apply_one(mc_db_conn *conn, const struct stat_event *e, int64_t *earliest_stock)
{
    struct stat_fact fact;
    struct stat_deltas deltas = {0};
    mc_error rc = store_fact_get_for_update(conn, e->dossier_id, &fact);
    if (rc != MC_OK)
        return rc;
    if (!stat_fact_apply(&fact, e, &deltas))
        return MC_OK; /* counted before: the feed was replayed */
    rc = store_fact_put(conn, &fact);
    for (size_t i = 0; rc == MC_OK && i < deltas.n; i++) {
        rc = store_rollup_add(conn, &deltas.items[i]);
        if (stat_measure_is_stock(deltas.items[i].measure) && deltas.items[i].day < *earliest_stock)
            *earliest_stock = deltas.items[i].day;
    }
    return rc;
}

mc_error statistics_apply_events(mc_db_conn *conn, const json_t *events, void *ctx)
{
    /* The current periods' rows held are stale from now on (read during
       this page's transaction, they may still be a moment old). */
    period_memo_changed(((struct statistics_ctx *)ctx)->memo);
    size_t i;
    const json_t *event;
    int64_t latest = 0; /* the latest occurred_at counted in this page */
    int64_t earliest_stock = INT64_MAX;
    json_array_foreach(events, i, event) {
        const char *type = json_string_value(json_object_get(event, "type"));
        if (type == NULL || strncmp(type, DOSSIER_EVENT_PREFIX, strlen(DOSSIER_EVENT_PREFIX)) != 0)
            continue;
        struct stat_event e;
        const char *reason = NULL;
        if (!stat_event_parse(event, &e, &reason)) {
            /* Never block the feed on an event that cannot be counted: say
               which (by position; events carry no personal data) and go on. */
            mc_log(MC_LOG_WARNING, NULL, "statistics.event_skipped", "event at %s skipped: %s",
                   json_string_value(json_object_get(event, "sequence")), reason);
            continue;
        }
        mc_error rc = apply_one(conn, &e, &earliest_stock);
        if (rc != MC_OK)
            return rc;
        if (e.at > latest)
            latest = e.at;
    }
    /* A stock delta is never dated before a settled month, unless its event
       came later than the slack allows (a replay of old events): the month
       snapshots after it no longer hold, and are written again. */
    mc_error rc = earliest_stock != INT64_MAX ? store_stock_snapshots_forget_after(conn, earliest_stock)
                                              : MC_OK;
    /* In the page's transaction: the answer cache trusts it only once the
       counters it covers are committed. */
    return rc == MC_OK && latest > 0 ? store_applied_until_advance(conn, latest) : rc;
}

mc_error statistics_resync(mc_db_conn *conn, long long oldest_after, void *ctx)
{
    (void)conn;
    (void)ctx;
    /* The events before oldest_after are gone: the statistics cannot learn
       them from anywhere else without reading the dossier service's data, so
       the gap is reported and counting goes on. */
    mc_log(MC_LOG_ERROR, NULL, "statistics.feed_gap",
           "dossier events up to %lld expired before they were counted: the reports miss them",
           oldest_after);
    return MC_OK;
}

mc_error statistics_feed_token(void *ctx, bool renew, char *out, size_t out_len)
{
    struct statistics_ctx *s = ctx;
    if (renew)
        mc_service_token_invalidate(s->service_token);
    return mc_service_token_get(s->service_token, (int64_t)time(NULL), out, out_len);
}
