/*
 * The migration runner: numbered SQL files, embedded in each service binary,
 * applied in order and recorded in <schema>.schema_migrations.
 *
 * Common's own migrations (tables every service has, such as the
 * Idempotency-Key store) are applied first under the name prefix "common/".
 * Each file runs in its own transaction together with its record, so a
 * failed migration leaves nothing half-applied; an advisory lock keyed on
 * the schema serialises several instances starting at once. A recorded file
 * whose text has changed since is refused: published migrations are history.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "motcua/db.h"
#include "motcua/log.h"

extern const mc_migration mc_common_migrations[];
extern const size_t mc_common_migrations_count;

size_t mc_db_migration_count(size_t service_migrations)
{
    return mc_common_migrations_count + service_migrations;
}

static void sha256_hex(const char *text, char out[65])
{
    unsigned char digest[32];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), digest, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    mc_log(MC_LOG_DEBUG, NULL, "db.notice", "%s", message);
}

static bool exec_literal(PGconn *pg, const char *sql)
{
    PGresult *res = PQexecParams(pg, sql, 0, NULL, NULL, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        mc_log(MC_LOG_ERROR, NULL, "migrate.failed", "%s", PQerrorMessage(pg));
    PQclear(res);
    return ok;
}

static bool exec_params(PGconn *pg, const char *sql, int n, const char *const *params,
                        PGresult **out)
{
    PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        mc_log(MC_LOG_ERROR, NULL, "migrate.failed", "%s", PQerrorMessage(pg));
    if (out != NULL && ok)
        *out = res;
    else
        PQclear(res);
    return ok;
}

/* Run a migration file. Its text holds several statements, which the simple
   query protocol accepts; PQsendQuery is used rather than PQexec to read
   every statement's result. The text is a file compiled into the binary,
   never anything assembled at run time. */
static bool run_script(PGconn *pg, const char *sql)
{
    if (!PQsendQuery(pg, sql)) {
        mc_log(MC_LOG_ERROR, NULL, "migrate.failed", "%s", PQerrorMessage(pg));
        return false;
    }
    bool ok = true;
    PGresult *res;
    while ((res = PQgetResult(pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            mc_log(MC_LOG_ERROR, NULL, "migrate.failed", "%s", PQresultErrorMessage(res));
            ok = false;
        }
        PQclear(res);
    }
    return ok;
}

/* Returns 1 applied, 0 already applied, -1 error. */
static int apply_one(PGconn *pg, const char *name, const char *sql)
{
    char checksum[65];
    sha256_hex(sql, checksum);
    const char *params[2] = {name, checksum};
    PGresult *res = NULL;
    if (!exec_params(pg, "SELECT checksum FROM schema_migrations WHERE name = $1", 1, params, &res))
        return -1;
    if (PQntuples(res) == 1) {
        bool same = strcmp(PQgetvalue(res, 0, 0), checksum) == 0;
        PQclear(res);
        if (!same) {
            mc_log(MC_LOG_ERROR, NULL, "migrate.changed",
                   "migration %s was applied with other content; add a new migration instead",
                   name);
            return -1;
        }
        return 0;
    }
    PQclear(res);
    if (!exec_literal(pg, "BEGIN"))
        return -1;
    if (!run_script(pg, sql) ||
        !exec_params(pg, "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", 2, params,
                     NULL)) {
        exec_literal(pg, "ROLLBACK");
        return -1;
    }
    if (!exec_literal(pg, "COMMIT"))
        return -1;
    mc_log(MC_LOG_INFO, NULL, "migrate.applied", "%s", name);
    return 1;
}

mc_error mc_db_migrate(const char *conninfo, const char *schema, const mc_migration *list, size_t n)
{
    const char *keys[] = {"connect_timeout", "dbname", NULL};
    const char *vals[] = {"5", conninfo, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        mc_log(MC_LOG_ERROR, NULL, "migrate.connect_failed", "%s", PQerrorMessage(pg));
        PQfinish(pg);
        return MC_ERR_DB_UNAVAILABLE;
    }
    PQsetNoticeProcessor(pg, notice_to_log, NULL);
    mc_error rc = MC_ERR_INTERNAL;
    char search_path[160];
    snprintf(search_path, sizeof search_path, "%s, public", schema);
    const char *sp[1] = {search_path};
    const char *lock[1] = {schema};
    PGresult *res = NULL;
    /* The schema must exist and belong to us (created by the deployment). */
    if (!exec_params(pg, "SELECT 1 FROM pg_namespace WHERE nspname = $1", 1, lock, &res))
        goto out;
    bool exists = PQntuples(res) == 1;
    PQclear(res);
    if (!exists) {
        mc_log(MC_LOG_ERROR, NULL, "migrate.no_schema",
               "schema %s does not exist; the deployment creates it (deploy/local/bootstrap.sql)",
               schema);
        goto out;
    }
    if (!exec_params(pg, "SELECT pg_catalog.set_config('search_path', $1, false)", 1, sp, NULL) ||
        !exec_params(pg, "SELECT pg_advisory_lock(hashtext('motcua-migrate:' || $1))", 1, lock,
                     NULL))
        goto out;
    if (!exec_literal(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " name text PRIMARY KEY,"
                          " checksum text NOT NULL,"
                          " applied_at timestamptz NOT NULL DEFAULT now())"))
        goto unlock;
    rc = MC_OK;
    for (size_t i = 0; i < mc_common_migrations_count && rc == MC_OK; i++) {
        char name[160];
        snprintf(name, sizeof name, "common/%s", mc_common_migrations[i].name);
        if (apply_one(pg, name, mc_common_migrations[i].sql) < 0)
            rc = MC_ERR_INTERNAL;
    }
    for (size_t i = 0; i < n && rc == MC_OK; i++)
        if (apply_one(pg, list[i].name, list[i].sql) < 0)
            rc = MC_ERR_INTERNAL;
unlock:
    exec_params(pg, "SELECT pg_advisory_unlock(hashtext('motcua-migrate:' || $1))", 1, lock, NULL);
out:
    PQfinish(pg);
    return rc;
}
