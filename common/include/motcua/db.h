/*
 * PostgreSQL access: a connection pool, prepared statements, a transaction
 * runner and migrations. libpq only, always with parameters: there is no
 * function here that accepts SQL built at run time.
 *
 * Store layers declare each SQL operation once as a static mc_db_statement; a
 * connection prepares it lazily on first use and again after a reconnect.
 */
#ifndef MOTCUA_DB_H
#define MOTCUA_DB_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "motcua/error.h"

typedef struct mc_db_pool mc_db_pool;
typedef struct mc_db_conn mc_db_conn;

/* One SQL operation. `name` must be unique in the process (use "<service>_<op>"). */
typedef struct mc_db_statement {
    const char *name;
    const char *sql;
    int nparams;
} mc_db_statement;

typedef struct mc_db_pool_config {
    const char *conninfo;             /* libpq connection string */
    const char *schema;               /* search_path set on every connection */
    unsigned size;                    /* connections */
    unsigned checkout_timeout_ms;     /* wait for a free connection, then MC_ERR_DB_UNAVAILABLE (503) */
    unsigned statement_timeout_ms;    /* SET statement_timeout on every connection */
} mc_db_pool_config;

/* Create a pool; connections are opened lazily so a service can start (and
   answer /healthz) while the database is still coming up. */
mc_db_pool *mc_db_pool_new(const mc_db_pool_config *cfg);
void mc_db_pool_free(mc_db_pool *pool);

/* Borrow a connection, reconnecting it if the server restarted. Waits up to
   the checkout timeout. Returns MC_ERR_DB_UNAVAILABLE on timeout or when the
   server cannot be reached. */
mc_error mc_db_acquire(mc_db_pool *pool, mc_db_conn **out);
void mc_db_release(mc_db_pool *pool, mc_db_conn *conn);

/* Pool statistics for /metrics. */
void mc_db_pool_stats(mc_db_pool *pool, unsigned *size, unsigned *in_use, unsigned long *waits,
                      unsigned long *timeouts);

/* Execute a prepared statement with text parameters (NULL = SQL NULL).
   Returns a result the caller clears with PQclear, or NULL on error; then
   mc_db_last_error() says which mc_error it maps to (MC_ERR_DB_RETRY for
   serialisation failures/deadlocks, MC_ERR_DB_TIMEOUT for statement timeouts,
   MC_ERR_DB_UNAVAILABLE for a broken connection, MC_ERR_CONFLICT for unique
   violations, MC_ERR_INTERNAL otherwise) and mc_db_sqlstate() gives the code. */
/* Typed query parameters, so a store does not format numbers into text one
   by one: declare `mc_db_params p = MC_DB_PARAMS_INIT;`, add one value per
   $n in order, run with mc_db_exec_params and free with mc_db_params_clear.
   Text is borrowed (it must outlive the call); numbers and JSON are kept in
   p. Adding past MC_DB_MAX_PARAMS or running out of memory marks p failed,
   and mc_db_exec_params then refuses it (MC_ERR_INTERNAL), as it refuses a
   count that differs from the statement's nparams. */
#define MC_DB_MAX_PARAMS 16

typedef struct mc_db_params {
    const char *values[MC_DB_MAX_PARAMS];
    char numbers[MC_DB_MAX_PARAMS][24]; /* text of integer and boolean values */
    char *owned[MC_DB_MAX_PARAMS];      /* text of JSON values, freed by clear */
    int n;
    bool failed;
} mc_db_params;

#define MC_DB_PARAMS_INIT {.n = 0}

void mc_db_add_text(mc_db_params *p, const char *value); /* NULL: SQL NULL */
void mc_db_add_int64(mc_db_params *p, long long value);
void mc_db_add_bool(mc_db_params *p, bool value);
void mc_db_add_null(mc_db_params *p);
/* A tri-state boolean: < 0 is SQL NULL ("leave unchanged"), 0 false, else true. */
void mc_db_add_bool_or_null(mc_db_params *p, int value);
/* A JSON value as compact text (NULL or JSON null: SQL NULL). */
void mc_db_add_json(mc_db_params *p, const json_t *value);
void mc_db_params_clear(mc_db_params *p);

PGresult *mc_db_exec(mc_db_conn *conn, const mc_db_statement *stmt, const char *const *params);
/* The same, for a query whose best plan depends on which of its optional
   filters ("$n IS NULL OR ...") are given: mc_db_exec prepares a statement
   once per connection and PostgreSQL may then settle on one generic plan for
   every call. This sends it as the unnamed statement, planned with this
   call's values; still out-of-line parameters and one round trip. */
PGresult *mc_db_exec_planned(mc_db_conn *conn, const mc_db_statement *stmt, const char *const *params);
/* mc_db_exec and mc_db_exec_planned with typed parameters (NULL: none). */
PGresult *mc_db_exec_params(mc_db_conn *conn, const mc_db_statement *stmt, const mc_db_params *params);
PGresult *mc_db_exec_planned_params(mc_db_conn *conn, const mc_db_statement *stmt,
                                    const mc_db_params *params);
mc_error mc_db_last_error(const mc_db_conn *conn);
const char *mc_db_sqlstate(const mc_db_conn *conn); /* "" when none */

/* How mc_db_transaction runs its callback. Pass NULL for the defaults
   (READ COMMITTED, read-write, MC_DB_TX_ATTEMPTS attempts), or name only what
   differs: &(mc_db_tx_options){.max_attempts = 5}. */
typedef enum mc_db_isolation {
    MC_DB_READ_COMMITTED = 0,
    MC_DB_SERIALIZABLE,
} mc_db_isolation;

typedef struct mc_db_tx_options {
    mc_db_isolation isolation;
    bool read_only;        /* BEGIN ... READ ONLY */
    unsigned max_attempts; /* 0: MC_DB_TX_ATTEMPTS */
} mc_db_tx_options;

#define MC_DB_TX_ATTEMPTS 3

/* Run `fn` inside BEGIN ... COMMIT. fn returns MC_OK to commit; any other
   value rolls back and is returned, except MC_ERR_DB_RETRY (or a commit that
   fails with a serialisation failure/deadlock), which is retried with
   jittered back-off up to opts->max_attempts times, so fn must start afresh
   each time it is called (free what an earlier attempt left in ctx). */
typedef mc_error (*mc_db_tx_fn)(mc_db_conn *conn, void *ctx);
mc_error mc_db_transaction(mc_db_pool *pool, const mc_db_tx_options *opts, mc_db_tx_fn fn,
                           void *ctx);
/* Run fn on a borrowed connection outside an explicit transaction (single statements). */
mc_error mc_db_with_conn(mc_db_pool *pool, mc_db_tx_fn fn, void *ctx);

/* Result helpers: values of row r, column c; "" / 0 for NULL. */
const char *mc_db_text(const PGresult *res, int r, int c);
bool mc_db_is_null(const PGresult *res, int r, int c);
long long mc_db_int(const PGresult *res, int r, int c);
bool mc_db_bool(const PGresult *res, int r, int c);
/* A JSON text column parsed (a new reference), or NULL for SQL NULL. */
json_t *mc_db_json(const PGresult *res, int r, int c);
/* Copy a text value into out, truncated to len - 1 bytes ("" for NULL). */
void mc_db_copy(char *out, size_t len, const PGresult *res, int r, int c);

/* For a store function after mc_db_exec returned NULL: the mc_error to return
   (mc_db_last_error, never MC_OK). */
mc_error mc_db_failure(const mc_db_conn *conn);
/* Was the last failure on conn a unique violation (SQLSTATE 23505)? */
bool mc_db_unique_violation(const mc_db_conn *conn);

/* Results as JSON. The statements return, per row, a JSON text in column 0
   (json_build_object(...)::text) and then what the caller asks for.

   mc_db_fetch_json: the first row's JSON into *out (a new reference the
   caller owns) and, when revision is not NULL, column 1 into *revision.
   No row: `not_found` (and *out NULL). */
mc_error mc_db_fetch_json(mc_db_conn *conn, const mc_db_statement *stmt, const mc_db_params *params,
                          mc_error not_found, json_t **out, long long *revision);

/* Column `col` of at most `limit` rows as a JSON array (new reference), or
   NULL when out of memory or a value is not JSON. */
json_t *mc_db_json_rows(const PGresult *res, int col, unsigned limit);

/* One keyset page. The statement fetches up to limit + 1 rows (pass
   limit + 1 as its LIMIT parameter), each the item's JSON in column 0 and
   its sort keys in columns 1, 2, ...: `key_types` has one letter per key,
   's' for text and 'i' for an integer. *items (new) holds the first `limit`
   items; *next_keys (new, for mc_page_body) the last item's keys when a
   further row exists, else NULL. */
mc_error mc_db_fetch_page(mc_db_conn *conn, const mc_db_statement *stmt, const mc_db_params *params,
                          unsigned limit, const char *key_types, json_t **items,
                          json_t **next_keys);
/* The same from a result the caller already has (e.g. of mc_db_exec_planned). */
mc_error mc_db_page_from(const PGresult *res, unsigned limit, const char *key_types,
                         json_t **items, json_t **next_keys);

/* Is the database reachable and are all migrations applied? For /readyz. */
mc_error mc_db_ready(mc_db_pool *pool, size_t expected_migrations);

/* Migrations: numbered SQL files embedded at build time. */
typedef struct mc_migration {
    const char *name; /* "0001_init.sql" */
    const char *sql;
} mc_migration;

/* Apply, in name order and each in its own transaction, the migrations not yet
   recorded in <schema>.schema_migrations (common's own migrations first).
   Serialised across processes with an advisory lock; re-running is a no-op.
   A recorded migration whose text changed is an error (checksum). */
mc_error mc_db_migrate(const char *conninfo, const char *schema, const mc_migration *list, size_t n);

/* Total number of migrations the service expects (common + its own). */
size_t mc_db_migration_count(size_t service_migrations);

#endif
