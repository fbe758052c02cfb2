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
PGresult *mc_db_exec(mc_db_conn *conn, const mc_db_statement *stmt, const char *const *params);
/* The same, for a query whose best plan depends on which of its optional
   filters ("$n IS NULL OR ...") are given: mc_db_exec prepares a statement
   once per connection and PostgreSQL may then settle on one generic plan for
   every call. This sends it as the unnamed statement, planned with this
   call's values; still out-of-line parameters and one round trip. */
PGresult *mc_db_exec_planned(mc_db_conn *conn, const mc_db_statement *stmt, const char *const *params);
mc_error mc_db_last_error(const mc_db_conn *conn);
const char *mc_db_sqlstate(const mc_db_conn *conn); /* "" when none */
/* The constraint name of the last unique/foreign-key violation, or "". */
const char *mc_db_constraint(const mc_db_conn *conn);

/* Run `fn` inside BEGIN ... COMMIT. fn returns MC_OK to commit; any other
   value rolls back and is returned, except MC_ERR_DB_RETRY (or a commit that
   fails with a serialisation failure/deadlock), which is retried with
   jittered back-off up to `max_attempts` times. `read_only` opens a READ ONLY
   transaction. `serializable` uses SERIALIZABLE isolation (else READ COMMITTED). */
typedef mc_error (*mc_db_tx_fn)(mc_db_conn *conn, void *ctx);
mc_error mc_db_transaction(mc_db_pool *pool, bool serializable, bool read_only, unsigned max_attempts,
                           mc_db_tx_fn fn, void *ctx);
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
