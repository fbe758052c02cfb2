/*
 * /api/v1/procedures/{code}/versions and .../versions/{version}: the history
 * of a procedure. Published versions are public and immutable; the draft is
 * shown only to those who may write the procedure (to anyone else it does not
 * exist: 404, so drafts do not leak).
 */
#include "catalogue.h"
#include "store.h"

/* The versions list answers every version in one page (api-spec: next_cursor
   is null); a procedure with more versions than this would page, through the
   same cursor mechanism as every other list. */
#define VERSIONS_PAGE 1000

/* May the caller see this procedure's draft? A system_admin always; an
   agency_admin when the procedure's agencies lie in their subtree. */
static mc_error sees_drafts(mc_request *req, mc_db_conn *conn, const char *code, bool *sees)
{
    const char *root = NULL;
    *sees = false;
    switch (catalogue_writer_of(req, &root)) {
    case CATALOGUE_WRITER_SYSTEM:
        *sees = true;
        return MC_OK;
    case CATALOGUE_WRITER_AGENCY:
        return store_procedure_writable(conn, code, root, sees);
    case CATALOGUE_WRITER_NONE:
    default:
        return MC_OK;
    }
}

void handle_procedure_versions_list(mc_request *req)
{
    const char *code = catalogue_path_procedure(req);
    if (code == NULL)
        return;
    json_t *errors = mc_errors_new();
    unsigned limit = 0;
    json_t *cursor = NULL;
    int after = 0;
    if (mc_page_parse(req, VERSIONS_PAGE, VERSIONS_PAGE, 1, &limit, &cursor, errors) &&
        cursor != NULL) {
        const json_t *key = json_array_get(cursor, 0);
        if (!json_is_integer(key) || json_integer_value(key) < 1 ||
            json_integer_value(key) > 1000000)
            mc_errors_add_param(errors, "cursor", "invalid_cursor",
                                "is not a cursor this endpoint produced; start again without it");
        else
            after = (int)json_integer_value(key);
    }
    json_decref(cursor);
    if (!mc_query_ok(req, errors))
        return;

    bool with_draft = false, exists = false;
    json_t *items = NULL, *next = NULL;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = sees_drafts(req, conn, code, &with_draft);
        if (rc == MC_OK)
            rc = store_procedure_versions(conn, code, with_draft, after, limit, &items, &next,
                                          &exists);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc == MC_OK && !exists)
        rc = MC_ERR_PROCEDURE_NOT_FOUND; /* mc_reply_page frees the lists */
    mc_reply_page(req, rc, items, next);
}

void handle_procedure_version_get(mc_request *req)
{
    const char *code = catalogue_path_procedure(req);
    int version = 0;
    if (code == NULL || !catalogue_path_version(req, &version))
        return;
    struct store_version v = {0};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_procedure_version(conn, code, version, &v);
        if (rc == MC_OK && !v.published) {
            bool sees = false;
            rc = sees_drafts(req, conn, code, &sees);
            if (rc == MC_OK && !sees)
                rc = MC_ERR_PROCEDURE_VERSION_NOT_FOUND;
        }
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        store_version_clear(&v);
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[48];
    catalogue_version_etag(etag, sizeof etag, &v);
    mc_reply_json_etag(req, 200, v.body, etag);
}
