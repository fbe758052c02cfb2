/*
 * Store: dossier_documents (the metadata of uploaded files; the bytes are in
 * the document storage, storage.c). A slot has at most one current row
 * (replaced_at IS NULL, a unique index); replacing a file stamps the old row
 * and keeps it for the record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define DOCUMENT_COLUMNS                                                                           \
    "id::text, slot, kind, file_name, media_type, size_bytes, sha256, storage_key, uploaded_by,"   \
    " floor(extract(epoch FROM uploaded_at))::bigint,"                                             \
    " floor(extract(epoch FROM replaced_at))::bigint"

/* clang-format off */
static const mc_db_statement document_slots = {
    "dossier_document_slots",
    "SELECT slot FROM dossier_documents WHERE dossier_id = $1::uuid AND replaced_at IS NULL"
    " AND kind <> 'result' ORDER BY slot",
    1};

static const mc_db_statement document_replace_current = {
    "dossier_document_replace_current",
    "UPDATE dossier_documents SET replaced_at = now()"
    " WHERE dossier_id = $1::uuid AND slot = $2 AND replaced_at IS NULL RETURNING id::text",
    2};

static const mc_db_statement document_insert = {
    "dossier_document_insert",
    "INSERT INTO dossier_documents (dossier_id, slot, kind, file_name, media_type, size_bytes,"
    " sha256, storage_key, uploaded_by)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6::bigint, $7, $8, $9) RETURNING " DOCUMENT_COLUMNS,
    9};

static const mc_db_statement document_list = {
    "dossier_document_list",
    "SELECT " DOCUMENT_COLUMNS " FROM dossier_documents"
    " WHERE dossier_id = $1::uuid AND ($2::boolean OR replaced_at IS NULL)"
    " ORDER BY slot, uploaded_at DESC, id",
    2};

static const mc_db_statement document_of_dossier = {
    "dossier_document_of_dossier",
    "SELECT " DOCUMENT_COLUMNS " FROM dossier_documents WHERE id = $1::uuid AND dossier_id = $2::uuid",
    2};

static const mc_db_statement document_totals = {
    "dossier_document_totals",
    "SELECT count(*), coalesce(sum(size_bytes), 0)::bigint FROM dossier_documents"
    " WHERE dossier_id = $1::uuid",
    1};

static const mc_db_statement document_current = {
    "dossier_document_current",
    "SELECT " DOCUMENT_COLUMNS " FROM dossier_documents"
    " WHERE dossier_id = $1::uuid AND slot = $2 AND replaced_at IS NULL",
    2};
/* The current files of a dossier by kind: what its events tell consumers of
   digitised documents and electronic results (no names, no contents). */
static const mc_db_statement document_counts = {
    "dossier_document_counts",
    "SELECT count(*) FILTER (WHERE kind = 'application'), count(*) FILTER (WHERE kind = 'supplement'),"
    " count(*) FILTER (WHERE kind = 'result')"
    " FROM dossier_documents WHERE dossier_id = $1::uuid AND replaced_at IS NULL",
    1};
/* clang-format on */

mc_error store_document_counts(mc_db_conn *conn, const char *dossier_id,
                               struct store_document_counts *counts)
{
    const char *params[1] = {dossier_id};
    PGresult *res = mc_db_exec(conn, &document_counts, params);
    if (res == NULL)
        return mc_db_failure(conn);
    counts->application = mc_db_int(res, 0, 0);
    counts->supplement = mc_db_int(res, 0, 1);
    counts->result = mc_db_int(res, 0, 2);
    PQclear(res);
    return MC_OK;
}

mc_error store_document_slots(mc_db_conn *conn, const char *dossier_id, json_t **slots)
{
    const char *params[1] = {dossier_id};
    PGresult *res = mc_db_exec(conn, &document_slots, params);
    if (res == NULL)
        return mc_db_failure(conn);
    *slots = json_array();
    for (int r = 0; r < PQntuples(res); r++)
        json_array_append_new(*slots, json_string(mc_db_text(res, r, 0)));
    PQclear(res);
    return MC_OK;
}

/* One row of DOCUMENT_COLUMNS into *doc. */
static void document_from_row(const PGresult *res, int r, struct store_document *doc)
{
    memset(doc, 0, sizeof *doc);
    mc_db_copy(doc->id, sizeof doc->id, res, r, 0);
    mc_db_copy(doc->slot, sizeof doc->slot, res, r, 1);
    mc_db_copy(doc->kind, sizeof doc->kind, res, r, 2);
    mc_db_copy(doc->file_name, sizeof doc->file_name, res, r, 3);
    mc_db_copy(doc->media_type, sizeof doc->media_type, res, r, 4);
    doc->size_bytes = mc_db_int(res, r, 5);
    mc_db_copy(doc->sha256, sizeof doc->sha256, res, r, 6);
    mc_db_copy(doc->storage_key, sizeof doc->storage_key, res, r, 7);
    mc_db_copy(doc->uploaded_by, sizeof doc->uploaded_by, res, r, 8);
    doc->uploaded_at = mc_db_int(res, r, 9);
    doc->replaced_at = mc_db_int(res, r, 10);
}

mc_error store_document_put(mc_db_conn *conn, struct store_document *doc, char *replaced_id,
                            size_t replaced_id_len, bool *unchanged,
                            struct store_document_limits *limits)
{
    replaced_id[0] = '\0';
    *unchanged = false;
    const char *key[2] = {doc->dossier_id, doc->slot};
    /* The same file again (a retried PUT): nothing to record. */
    PGresult *res = mc_db_exec(conn, &document_current, key);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 1) {
        struct store_document current;
        document_from_row(res, 0, &current);
        if (strcmp(current.sha256, doc->sha256) == 0 && strcmp(current.kind, doc->kind) == 0 &&
            strcmp(current.file_name, doc->file_name) == 0 &&
            strcmp(current.media_type, doc->media_type) == 0) {
            memcpy(current.dossier_id, doc->dossier_id, sizeof current.dossier_id);
            *doc = current;
            *unchanged = true;
        }
    }
    PQclear(res);
    if (*unchanged)
        return MC_OK;
    /* The limits count every stored file: a replaced one keeps its bytes. */
    res = mc_db_exec(conn, &document_totals, key);
    if (res == NULL)
        return mc_db_failure(conn);
    long long files = mc_db_int(res, 0, 0), bytes = mc_db_int(res, 0, 1);
    PQclear(res);
    limits->exceeded = files + 1 > limits->max_files                   ? STORE_LIMIT_FILES
                       : bytes + doc->size_bytes > limits->max_bytes ? STORE_LIMIT_BYTES
                                                                     : STORE_LIMIT_NONE;
    if (limits->exceeded != STORE_LIMIT_NONE)
        return MC_ERR_DOSSIER_STORAGE_LIMIT;
    res = mc_db_exec(conn, &document_replace_current, key);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) > 0)
        mc_db_copy(replaced_id, replaced_id_len, res, 0, 0);
    PQclear(res);

    char size[24];
    snprintf(size, sizeof size, "%lld", doc->size_bytes);
    const char *params[9] = {doc->dossier_id, doc->slot,        doc->kind,
                             doc->file_name,  doc->media_type,  size,
                             doc->sha256,     doc->storage_key, doc->uploaded_by};
    res = mc_db_exec(conn, &document_insert, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return MC_ERR_INTERNAL;
    }
    char dossier_id[37];
    memcpy(dossier_id, doc->dossier_id, sizeof dossier_id);
    document_from_row(res, 0, doc);
    memcpy(doc->dossier_id, dossier_id, sizeof dossier_id);
    PQclear(res);
    return MC_OK;
}

struct list_ctx {
    const char *dossier_id;
    const char *slot; /* NULL: the list */
    bool include_replaced;
    struct store_document *items;
    size_t n;
};

static mc_error list_fn(mc_db_conn *conn, void *arg)
{
    struct list_ctx *l = arg;
    PGresult *res;
    if (l->slot != NULL) {
        const char *params[2] = {l->dossier_id, l->slot};
        res = mc_db_exec(conn, &document_current, params);
    } else {
        const char *params[2] = {l->dossier_id, l->include_replaced ? "true" : "false"};
        res = mc_db_exec(conn, &document_list, params);
    }
    if (res == NULL)
        return mc_db_failure(conn);
    int rows = PQntuples(res);
    free(l->items);
    l->items = calloc(rows > 0 ? (size_t)rows : 1, sizeof *l->items);
    l->n = 0;
    if (l->items == NULL) {
        PQclear(res);
        return MC_ERR_INTERNAL;
    }
    for (int r = 0; r < rows; r++) {
        document_from_row(res, r, &l->items[l->n]);
        snprintf(l->items[l->n].dossier_id, sizeof l->items[l->n].dossier_id, "%s", l->dossier_id);
        l->n++;
    }
    PQclear(res);
    return MC_OK;
}

mc_error store_document_list(mc_db_conn *conn, const char *dossier_id, bool include_replaced,
                             struct store_document **out, size_t *n)
{
    struct list_ctx l = {dossier_id, NULL, include_replaced, NULL, 0};
    mc_error rc = list_fn(conn, &l);
    if (rc != MC_OK) {
        free(l.items);
        *out = NULL;
        *n = 0;
        return rc;
    }
    *out = l.items;
    *n = l.n;
    return MC_OK;
}

mc_error store_document_current(mc_db_conn *conn, const char *dossier_id, const char *slot,
                                struct store_document *doc)
{
    struct list_ctx l = {dossier_id, slot, false, NULL, 0};
    mc_error rc = list_fn(conn, &l);
    if (rc == MC_OK && l.n == 0)
        rc = MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND;
    if (rc == MC_OK)
        *doc = l.items[0];
    free(l.items);
    return rc;
}

mc_error store_document_of_dossier(mc_db_conn *conn, const char *dossier_id,
                                   const char *document_id, struct store_document *doc)
{
    const char *params[2] = {document_id, dossier_id};
    PGresult *res = mc_db_exec(conn, &document_of_dossier, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND;
    if (PQntuples(res) == 1) {
        document_from_row(res, 0, doc);
        snprintf(doc->dossier_id, sizeof doc->dossier_id, "%s", dossier_id);
        rc = MC_OK;
    }
    PQclear(res);
    return rc;
}
