/*
 * PostgreSQL connection pool, lazily prepared statements and the transaction
 * runner (ARCHITECTURE.md §4; the shape follows GNU Taler's pg_* layer).
 *
 * Threads: the pool is shared by every HTTP worker thread; a connection is
 * used by one thread at a time between mc_db_acquire and mc_db_release.
 */
#include "motcua/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"
#include "motcua/log.h"

struct mc_db_conn {
    PGconn *pg;
    const mc_db_statement **prepared; /* statements prepared on this session */
    size_t n_prepared, cap_prepared;
    mc_error last_error;
    char sqlstate[6];
    bool in_use;
    struct mc_db_pool *pool;
};

struct mc_db_pool {
    char *conninfo;
    char *schema;
    unsigned size;
    unsigned checkout_timeout_ms;
    char statement_timeout[24];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mc_db_conn *conns;
    unsigned in_use;
    unsigned long waits, timeouts;
};

mc_db_pool *mc_db_pool_new(const mc_db_pool_config *cfg)
{
    mc_db_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return NULL;
    pool->conninfo = strdup(cfg->conninfo);
    pool->schema = strdup(cfg->schema);
    pool->size = cfg->size > 0 ? cfg->size : 1;
    pool->checkout_timeout_ms = cfg->checkout_timeout_ms;
    snprintf(pool->statement_timeout, sizeof pool->statement_timeout, "%u", cfg->statement_timeout_ms);
    pool->conns = calloc(pool->size, sizeof *pool->conns);
    for (unsigned i = 0; pool->conns != NULL && i < pool->size; i++)
        pool->conns[i].pool = pool;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (pool->conninfo == NULL || pool->schema == NULL || pool->conns == NULL) {
        mc_db_pool_free(pool);
        return NULL;
    }
    return pool;
}

void mc_db_pool_free(mc_db_pool *pool)
{
    if (pool == NULL)
        return;
    for (unsigned i = 0; pool->conns != NULL && i < pool->size; i++) {
        if (pool->conns[i].pg != NULL)
            PQfinish(pool->conns[i].pg);
        free(pool->conns[i].prepared);
    }
    free(pool->conns);
    free(pool->conninfo);
    free(pool->schema);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    free(pool);
}

void mc_db_pool_stats(mc_db_pool *pool, unsigned *size, unsigned *in_use, unsigned long *waits,
                      unsigned long *timeouts)
{
    pthread_mutex_lock(&pool->mu);
    *size = pool->size;
    *in_use = pool->in_use;
    *waits = pool->waits;
    *timeouts = pool->timeouts;
    pthread_mutex_unlock(&pool->mu);
}

/* Open (or re-open) a session and give it the service's search_path and
   statement_timeout. set_config() takes them as parameters, so no SQL text
   is ever assembled from configuration. */
/* Server notices (e.g. "relation already exists, skipping") become debug
   log lines instead of raw text on stderr, which would break JSON lines. */
static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    mc_log(MC_LOG_DEBUG, NULL, "db.notice", "%s", message);
}

static bool conn_open(mc_db_pool *pool, mc_db_conn *c)
{
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->n_prepared = 0;
    const char *keys[] = {"connect_timeout", "dbname", NULL};
    const char *vals[] = {"3", pool->conninfo, NULL};
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
        mc_log(MC_LOG_WARNING, NULL, "db.connect_failed", "%s",
               c->pg != NULL ? PQerrorMessage(c->pg) : "out of memory");
        return false;
    }
    PQsetNoticeProcessor(c->pg, notice_to_log, NULL);
    char search_path[160];
    snprintf(search_path, sizeof search_path, "%s, public", pool->schema);
    const char *params[2] = {search_path, pool->statement_timeout};
    PGresult *res = PQexecParams(c->pg,
                                 "SELECT pg_catalog.set_config('search_path', $1, false), "
                                 "pg_catalog.set_config('statement_timeout', $2, false)",
                                 2, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok;
}

mc_error mc_db_acquire(mc_db_pool *pool, mc_db_conn **out)
{
    *out = NULL;
    pthread_mutex_lock(&pool->mu);
    if (pool->in_use == pool->size) {
        pool->waits++;
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t)(pool->checkout_timeout_ms / 1000);
        deadline.tv_nsec += (long)(pool->checkout_timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        while (pool->in_use == pool->size) {
            if (pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline) == ETIMEDOUT &&
                pool->in_use == pool->size) {
                pool->timeouts++;
                pthread_mutex_unlock(&pool->mu);
                return MC_ERR_DB_UNAVAILABLE;
            }
        }
    }
    mc_db_conn *c = NULL;
    /* Prefer a connection that is already open. */
    for (unsigned i = 0; i < pool->size && c == NULL; i++)
        if (!pool->conns[i].in_use && pool->conns[i].pg != NULL)
            c = &pool->conns[i];
    for (unsigned i = 0; i < pool->size && c == NULL; i++)
        if (!pool->conns[i].in_use)
            c = &pool->conns[i];
    c->in_use = true;
    pool->in_use++;
    pthread_mutex_unlock(&pool->mu);

    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
        if (!conn_open(pool, c)) {
            mc_db_release(pool, c);
            return MC_ERR_DB_UNAVAILABLE;
        }
    }
    c->last_error = MC_OK;
    c->sqlstate[0] = '\0';
    *out = c;
    return MC_OK;
}

void mc_db_release(mc_db_pool *pool, mc_db_conn *conn)
{
    if (conn == NULL)
        return;
    /* A connection left inside a transaction (a bug or a failed ROLLBACK) is
       closed rather than handed to the next request in an unknown state. */
    if (conn->pg != NULL && PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
        PQfinish(conn->pg);
        conn->pg = NULL;
    }
    pthread_mutex_lock(&pool->mu);
    conn->in_use = false;
    pool->in_use--;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

static mc_error map_sqlstate(const char *state)
{
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return MC_ERR_DB_RETRY;
    if (strcmp(state, "57014") == 0)
        return MC_ERR_DB_TIMEOUT;
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
        return MC_ERR_DB_UNAVAILABLE;
    if (strncmp(state, "23", 2) == 0)
        return MC_ERR_CONFLICT;
    /* Data exceptions (22xxx: invalid text representation, out of range...)
       come from input the handler let through; they are the client's error,
       never a 500. */
    if (strncmp(state, "22", 2) == 0)
        return MC_ERR_BAD_QUERY;
    return MC_ERR_INTERNAL;
}

static void record_error(mc_db_conn *c, const PGresult *res, const mc_db_statement *stmt)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state != NULL ? state : "");
    if (PQstatus(c->pg) != CONNECTION_OK)
        c->last_error = MC_ERR_DB_UNAVAILABLE;
    else
        c->last_error = state != NULL ? map_sqlstate(state) : MC_ERR_INTERNAL;
    mc_log_level level = c->last_error == MC_ERR_INTERNAL ? MC_LOG_ERROR : MC_LOG_INFO;
    const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    mc_log(level, NULL, "db.statement_failed", "%s: [%s] %s", stmt != NULL ? stmt->name : "-",
           c->sqlstate, msg != NULL ? msg : PQerrorMessage(c->pg));
}

static bool is_prepared(const mc_db_conn *c, const mc_db_statement *stmt)
{
    for (size_t i = 0; i < c->n_prepared; i++)
        if (c->prepared[i] == stmt)
            return true;
    return false;
}

static bool prepare(mc_db_conn *c, const mc_db_statement *stmt)
{
    PGresult *res = PQprepare(c->pg, stmt->name, stmt->sql, stmt->nparams, NULL);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
              (state != NULL && strcmp(state, "42P05") == 0); /* already prepared */
    if (!ok) {
        record_error(c, res, stmt);
        PQclear(res);
        return false;
    }
    PQclear(res);
    if (c->n_prepared == c->cap_prepared) {
        size_t cap = c->cap_prepared ? c->cap_prepared * 2 : 32;
        const mc_db_statement **grown = realloc(c->prepared, cap * sizeof *grown);
        if (grown == NULL)
            return true; /* still prepared; we just cannot remember it */
        c->prepared = grown;
        c->cap_prepared = cap;
    }
    c->prepared[c->n_prepared++] = stmt;
    return true;
}

static PGresult *exec_statement(mc_db_conn *c, const mc_db_statement *stmt, const char *const *params,
                                bool plan_each_call)
{
    c->last_error = MC_OK;
    c->sqlstate[0] = '\0';
    /* Outside a transaction a dropped session (server restart) is reopened
       and the statement retried once: nothing can have half-happened. */
    for (int attempt = 0; attempt < 2; attempt++) {
        bool idle = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
        if (!plan_each_call && !is_prepared(c, stmt) && !prepare(c, stmt)) {
            if (attempt == 0 && idle && PQstatus(c->pg) != CONNECTION_OK && conn_open(c->pool, c))
                continue;
            return NULL;
        }
        PGresult *res = plan_each_call
                            ? PQexecParams(c->pg, stmt->sql, stmt->nparams, NULL, params, NULL, NULL, 0)
                            : PQexecPrepared(c->pg, stmt->name, stmt->nparams, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
            return res;
        record_error(c, res, stmt);
        PQclear(res);
        if (attempt == 0 && idle && PQstatus(c->pg) != CONNECTION_OK && conn_open(c->pool, c))
            continue;
        return NULL;
    }
    return NULL;
}

PGresult *mc_db_exec(mc_db_conn *c, const mc_db_statement *stmt, const char *const *params)
{
    return exec_statement(c, stmt, params, false);
}

PGresult *mc_db_exec_planned(mc_db_conn *c, const mc_db_statement *stmt, const char *const *params)
{
    return exec_statement(c, stmt, params, true);
}

/* ---- typed parameters ---- */

static const char *params_slot(mc_db_params *p)
{
    if (p->n >= MC_DB_MAX_PARAMS) {
        p->failed = true;
        return NULL;
    }
    return p->numbers[p->n];
}

void mc_db_add_text(mc_db_params *p, const char *value)
{
    if (params_slot(p) != NULL)
        p->values[p->n++] = value;
}

void mc_db_add_null(mc_db_params *p)
{
    mc_db_add_text(p, NULL);
}

void mc_db_add_int64(mc_db_params *p, long long value)
{
    if (params_slot(p) == NULL)
        return;
    snprintf(p->numbers[p->n], sizeof p->numbers[p->n], "%lld", value);
    p->values[p->n] = p->numbers[p->n];
    p->n++;
}

void mc_db_add_bool(mc_db_params *p, bool value)
{
    mc_db_add_text(p, value ? "true" : "false");
}

void mc_db_add_bool_or_null(mc_db_params *p, int value)
{
    if (value < 0)
        mc_db_add_null(p);
    else
        mc_db_add_bool(p, value != 0);
}

void mc_db_add_json(mc_db_params *p, const json_t *value)
{
    if (value == NULL || json_is_null(value)) {
        mc_db_add_null(p);
        return;
    }
    if (params_slot(p) == NULL)
        return;
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        p->failed = true;
        return;
    }
    p->owned[p->n] = text;
    p->values[p->n++] = text;
}

void mc_db_params_clear(mc_db_params *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->owned[i]);
        p->owned[i] = NULL;
    }
    p->n = 0;
    p->failed = false;
}

static PGresult *exec_typed(mc_db_conn *c, const mc_db_statement *stmt, const mc_db_params *p,
                            bool plan_each_call)
{
    int n = p != NULL ? p->n : 0;
    if ((p != NULL && p->failed) || n != stmt->nparams) {
        /* A programming error, caught before anything reaches the server. */
        c->last_error = MC_ERR_INTERNAL;
        mc_log(MC_LOG_ERROR, NULL, "db.bad_parameters", "%s: %d parameters for %d%s", stmt->name, n,
               stmt->nparams, p != NULL && p->failed ? " (too many or out of memory)" : "");
        return NULL;
    }
    return exec_statement(c, stmt, p != NULL ? p->values : NULL, plan_each_call);
}

PGresult *mc_db_exec_params(mc_db_conn *c, const mc_db_statement *stmt, const mc_db_params *params)
{
    return exec_typed(c, stmt, params, false);
}

PGresult *mc_db_exec_planned_params(mc_db_conn *c, const mc_db_statement *stmt,
                                    const mc_db_params *params)
{
    return exec_typed(c, stmt, params, true);
}

mc_error mc_db_last_error(const mc_db_conn *conn)
{
    return conn->last_error;
}

const char *mc_db_sqlstate(const mc_db_conn *conn)
{
    return conn->sqlstate;
}

/* Transaction control statements are constant literals. */
static bool run_literal(mc_db_conn *c, const char *sql)
{
    PGresult *res = PQexecParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        record_error(c, res, NULL);
    PQclear(res);
    return ok;
}

static void backoff(unsigned attempt)
{
    unsigned r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (unsigned)attempt * 7919u;
    long ms = (long)(1u << (attempt < 6 ? attempt : 6)) + (long)(r % 10u);
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

mc_error mc_db_transaction(mc_db_pool *pool, const mc_db_tx_options *opts, mc_db_tx_fn fn,
                           void *ctx)
{
    static const mc_db_tx_options defaults = {MC_DB_READ_COMMITTED, false, MC_DB_TX_ATTEMPTS};
    if (opts == NULL)
        opts = &defaults;
    bool serializable = opts->isolation == MC_DB_SERIALIZABLE;
    const char *begin = serializable ? (opts->read_only ? "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"
                                                        : "BEGIN ISOLATION LEVEL SERIALIZABLE")
                                     : (opts->read_only ? "BEGIN READ ONLY" : "BEGIN");
    unsigned max_attempts = opts->max_attempts > 0 ? opts->max_attempts : MC_DB_TX_ATTEMPTS;
    mc_error rc = MC_ERR_INTERNAL;
    for (unsigned attempt = 1; attempt <= max_attempts; attempt++) {
        mc_db_conn *c;
        rc = mc_db_acquire(pool, &c);
        if (rc != MC_OK)
            return rc;
        if (!run_literal(c, begin)) {
            rc = PQstatus(c->pg) != CONNECTION_OK ? MC_ERR_DB_UNAVAILABLE : MC_ERR_INTERNAL;
        } else {
            rc = fn(c, ctx);
            if (rc == MC_OK) {
                if (!run_literal(c, "COMMIT"))
                    rc = c->last_error != MC_OK ? c->last_error : MC_ERR_INTERNAL;
                else
                    mc_events_after_commit();
            } else if (PQstatus(c->pg) == CONNECTION_OK) {
                run_literal(c, "ROLLBACK");
            }
        }
        bool broken = PQstatus(c->pg) != CONNECTION_OK;
        mc_db_release(pool, c);
        /* Serialisation failures and deadlocks are retried; so is a session
           that died mid-transaction (nothing was committed). */
        if ((rc == MC_ERR_DB_RETRY || (rc == MC_ERR_DB_UNAVAILABLE && broken)) &&
            attempt < max_attempts) {
            backoff(attempt);
            continue;
        }
        return rc;
    }
    return rc;
}

mc_error mc_db_with_conn(mc_db_pool *pool, mc_db_tx_fn fn, void *ctx)
{
    mc_db_conn *c;
    mc_error rc = mc_db_acquire(pool, &c);
    if (rc != MC_OK)
        return rc;
    rc = fn(c, ctx);
    mc_db_release(pool, c);
    return rc;
}

const char *mc_db_text(const PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) ? "" : PQgetvalue(res, r, c);
}

bool mc_db_is_null(const PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) != 0;
}

long long mc_db_int(const PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) ? 0 : strtoll(PQgetvalue(res, r, c), NULL, 10);
}

bool mc_db_bool(const PGresult *res, int r, int c)
{
    return !PQgetisnull(res, r, c) && PQgetvalue(res, r, c)[0] == 't';
}

json_t *mc_db_json(const PGresult *res, int r, int c)
{
    if (PQgetisnull(res, r, c))
        return NULL;
    return json_loads(PQgetvalue(res, r, c), JSON_DECODE_ANY, NULL);
}

void mc_db_copy(char *out, size_t len, const PGresult *res, int r, int c)
{
    const char *v = mc_db_text(res, r, c);
    size_t n = strlen(v);
    if (n >= len)
        n = len - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

mc_error mc_db_failure(const mc_db_conn *conn)
{
    return conn->last_error != MC_OK ? conn->last_error : MC_ERR_INTERNAL;
}

bool mc_db_unique_violation(const mc_db_conn *conn)
{
    return strcmp(conn->sqlstate, "23505") == 0;
}

/* ---- results as JSON ---- */

mc_error mc_db_fetch_json(mc_db_conn *conn, const mc_db_statement *stmt, const mc_db_params *params,
                          mc_error not_found, json_t **out, long long *revision)
{
    *out = NULL;
    PGresult *res = mc_db_exec_params(conn, stmt, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = not_found;
    if (PQntuples(res) > 0) {
        *out = mc_db_json(res, 0, 0);
        if (revision != NULL)
            *revision = mc_db_int(res, 0, 1);
        rc = *out != NULL ? MC_OK : MC_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}

json_t *mc_db_json_rows(const PGresult *res, int col, unsigned limit)
{
    json_t *items = json_array();
    int n = PQntuples(res);
    for (int r = 0; items != NULL && r < n && (unsigned)r < limit; r++) {
        json_t *item = mc_db_json(res, r, col);
        if (item == NULL || json_array_append_new(items, item) != 0) {
            json_decref(items);
            return NULL;
        }
    }
    return items;
}

mc_error mc_db_page_from(const PGresult *res, unsigned limit, const char *key_types,
                         json_t **items, json_t **next_keys)
{
    *next_keys = NULL;
    *items = mc_db_json_rows(res, 0, limit);
    if (*items == NULL)
        return MC_ERR_INTERNAL;
    if (limit == 0 || (unsigned)PQntuples(res) <= limit)
        return MC_OK;
    int last = (int)limit - 1;
    json_t *keys = json_array();
    for (int k = 0; keys != NULL && key_types[k] != '\0'; k++) {
        json_t *key = key_types[k] == 'i' ? json_integer(mc_db_int(res, last, k + 1))
                                          : json_string(mc_db_text(res, last, k + 1));
        if (json_array_append_new(keys, key) != 0) {
            json_decref(keys);
            keys = NULL;
        }
    }
    if (keys == NULL) {
        json_decref(*items);
        *items = NULL;
        return MC_ERR_INTERNAL;
    }
    *next_keys = keys;
    return MC_OK;
}

mc_error mc_db_fetch_page(mc_db_conn *conn, const mc_db_statement *stmt, const mc_db_params *params,
                          unsigned limit, const char *key_types, json_t **items,
                          json_t **next_keys)
{
    *items = NULL;
    *next_keys = NULL;
    PGresult *res = mc_db_exec_params(conn, stmt, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = mc_db_page_from(res, limit, key_types, items, next_keys);
    PQclear(res);
    return rc;
}

static const mc_db_statement count_migrations = {
    "common_count_migrations", "SELECT count(*) FROM schema_migrations", 0};

mc_error mc_db_ready(mc_db_pool *pool, size_t expected_migrations)
{
    mc_db_conn *c;
    mc_error rc = mc_db_acquire(pool, &c);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(c, &count_migrations, NULL);
    if (res == NULL)
        rc = MC_ERR_NOT_READY;
    else if ((size_t)mc_db_int(res, 0, 0) < expected_migrations)
        rc = MC_ERR_NOT_READY;
    PQclear(res);
    mc_db_release(pool, c);
    return rc;
}
