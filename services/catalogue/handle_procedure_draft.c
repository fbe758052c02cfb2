/*
 * /api/v1/procedures/{code}/draft and /api/v1/procedures/{code}/publish:
 * editing the next version of a procedure and publishing it.
 *
 * Writers only (route table): a system_admin, or an agency_admin when every
 * agency of the procedure (as it stands, and as it would become) lies in
 * their subtree. Every write to an existing draft carries If-Match with the
 * draft's ETag ("d<version>-<revision>"); the store re-checks the revision
 * under a row lock, so a concurrent edit between our read and our write is
 * still answered 412.
 */
#include <stdio.h>
#include <string.h>

#include "catalogue.h"
#include "procedure_rules.h"
#include "store.h"

/* The writer's subtree root (NULL for a system_admin) after checking that
   they may write this procedure; answers and returns false otherwise. */
static bool writer_for(mc_request *req, const char *code, const char **root)
{
    enum catalogue_writer w = catalogue_writer_of(req, root);
    if (w == CATALOGUE_WRITER_SYSTEM)
        return true;
    bool writable = false;
    mc_db_conn *conn;
    mc_error rc = w == CATALOGUE_WRITER_AGENCY ? mc_db_acquire(mc_request_db(req), &conn) : MC_OK;
    if (rc == MC_OK && w == CATALOGUE_WRITER_AGENCY) {
        rc = store_procedure_writable(conn, code, *root, &writable);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return false;
    }
    if (!writable) {
        mc_reply_error(req, MC_ERR_FORBIDDEN,
                       "this procedure has agencies outside your agency's subtree");
        return false;
    }
    return true;
}

/* The draft of `code`, on a connection of its own. */
static mc_error read_draft(mc_request *req, const char *code, struct store_version *v)
{
    memset(v, 0, sizeof *v);
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc != MC_OK)
        return rc;
    rc = store_procedure_draft(conn, code, v);
    mc_db_release(mc_request_db(req), conn);
    return rc;
}

/* A write to the draft, in one transaction of the handler's. */
struct draft_write {
    const char *code;
    json_t *doc; /* put: the normalised body, owned by the handler */
    long long expected_revision;
    const char *admin_root, *created_by;
    json_t *errors; /* put: the store's problems */
    struct store_version out;
    bool created;
};

static mc_error draft_put_tx(mc_db_conn *conn, void *p)
{
    struct draft_write *t = p;
    store_version_clear(&t->out); /* a retried transaction starts afresh */
    json_array_clear(t->errors);
    return store_procedure_put_draft(conn, t->doc, t->expected_revision, t->admin_root,
                                     t->created_by, t->errors, &t->out, &t->created);
}

static mc_error draft_delete_tx(mc_db_conn *conn, void *p)
{
    struct draft_write *t = p;
    return store_procedure_delete_draft(conn, t->code, t->expected_revision, t->admin_root);
}

static mc_error publish_tx(mc_db_conn *conn, void *p)
{
    struct draft_write *t = p;
    store_version_clear(&t->out);
    return store_procedure_publish(conn, t->code, t->expected_revision, t->admin_root, &t->out);
}

/* Run one of the draft writes; on failure answer it, free its result and
   return false. */
static bool run_draft_write(mc_request *req, mc_db_tx_fn fn, struct draft_write *t)
{
    mc_error rc = mc_db_transaction(mc_request_db(req), NULL, fn, t);
    if (rc == MC_OK)
        return true;
    store_version_clear(&t->out);
    catalogue_reply_failure(req, rc, t->errors);
    return false;
}

/* Read the draft and check If-Match against its ETag; *revision is the
   draft's revision. Answers and returns false on any failure. */
static bool draft_precondition(mc_request *req, const char *code, long long *revision)
{
    struct store_version v;
    mc_error rc = read_draft(req, code, &v);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return false;
    }
    char etag[48];
    catalogue_version_etag(etag, sizeof etag, &v);
    *revision = v.revision;
    store_version_clear(&v);
    return mc_require_if_match(req, etag);
}

void handle_procedure_draft_get(mc_request *req)
{
    const char *code = catalogue_path_procedure(req);
    const char *root = NULL;
    if (code == NULL || !writer_for(req, code, &root))
        return;
    struct store_version v;
    mc_error rc = read_draft(req, code, &v);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[48];
    catalogue_version_etag(etag, sizeof etag, &v);
    mc_reply_json_etag(req, 200, v.body, etag);
}

void handle_procedure_draft_put(mc_request *req)
{
    const char *code = catalogue_path_procedure(req);
    if (code == NULL)
        return;
    json_t *errors = mc_errors_new();
    struct catalogue_procedure_body body = {0};
    mc_json_parse_fields(req->body, catalogue_procedure_draft_fields, "", errors, &body);
    catalogue_code_matches_path(body.code, code, errors);
    catalogue_procedure_check(req->body, errors);
    if (!catalogue_procedure_refs_ok(req, errors))
        return;
    const char *root = NULL;
    if (!writer_for(req, code, &root))
        return;

    /* Replace: If-Match with the draft's ETag. Create: no draft yet, so an
       If-Match (an ETag of a draft that is gone) cannot match. */
    long long expected = 0;
    struct store_version current;
    mc_error rc = read_draft(req, code, &current);
    if (rc == MC_OK) {
        char etag[48];
        catalogue_version_etag(etag, sizeof etag, &current);
        expected = current.revision;
        store_version_clear(&current);
        if (!mc_require_if_match(req, etag))
            return;
    } else if (rc == MC_ERR_PROCEDURE_NO_DRAFT) {
        if (mc_header(req, "If-Match") != NULL) {
            mc_reply_error(req, MC_ERR_PRECONDITION_FAILED, "the procedure has no draft now");
            return;
        }
    } else {
        mc_reply_error(req, rc, NULL);
        return;
    }

    struct draft_write t = {.code = code,
                            .doc = catalogue_procedure_normalize(req->body, code),
                            .expected_revision = expected,
                            .admin_root = root,
                            .created_by = req->principal.sub,
                            .errors = mc_errors_new()};
    bool ok = t.doc != NULL && t.errors != NULL;
    if (!ok)
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
    else
        ok = run_draft_write(req, draft_put_tx, &t);
    json_decref(t.doc);
    json_decref(t.errors);
    if (!ok)
        return;
    struct store_version v = t.out;
    bool created = t.created;
    char etag[48];
    catalogue_version_etag(etag, sizeof etag, &v);
    if (created) {
        char location[160];
        snprintf(location, sizeof location, CATALOGUE_API_PREFIX "/procedures/%s/draft", code);
        mc_reply_created(req, v.body, location, etag);
    } else {
        catalogue_reply_etag(req, 200, v.body, etag);
    }
}

void handle_procedure_draft_delete(mc_request *req)
{
    const char *code = catalogue_path_procedure(req);
    const char *root = NULL;
    long long revision = 0;
    if (code == NULL || !writer_for(req, code, &root) || !draft_precondition(req, code, &revision))
        return;
    struct draft_write t = {.code = code, .expected_revision = revision, .admin_root = root};
    if (run_draft_write(req, draft_delete_tx, &t))
        mc_reply_no_content(req);
}

void handle_procedure_publish(mc_request *req)
{
    const char *code = catalogue_path_procedure(req);
    const char *root = NULL;
    long long revision = 0;
    if (code == NULL || !writer_for(req, code, &root) || !draft_precondition(req, code, &revision))
        return;
    struct draft_write t = {.code = code, .expected_revision = revision, .admin_root = root};
    if (!run_draft_write(req, publish_tx, &t))
        return;
    char etag[48];
    catalogue_version_etag(etag, sizeof etag, &t.out);
    catalogue_reply_etag(req, 200, t.out.body, etag);
}
