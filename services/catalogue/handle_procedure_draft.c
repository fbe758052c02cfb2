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
    mc_error rc = w == CATALOGUE_WRITER_AGENCY
                      ? store_procedure_writable(mc_request_db(req), code, *root, &writable)
                      : MC_OK;
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

/* Read the draft and check If-Match against its ETag; *revision is the
   draft's revision. Answers and returns false on any failure. */
static bool draft_precondition(mc_request *req, const char *code, long long *revision)
{
    struct store_version v;
    mc_error rc = store_procedure_draft(mc_request_db(req), code, &v);
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
    mc_error rc = store_procedure_draft(mc_request_db(req), code, &v);
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
    mc_error rc = store_procedure_check_refs(mc_request_db(req), req->body, errors);
    if (rc != MC_OK) {
        json_decref(errors);
        mc_reply_error(req, rc, NULL);
        return;
    }
    if (!catalogue_no_errors(req, errors))
        return;
    const char *root = NULL;
    if (!writer_for(req, code, &root))
        return;

    /* Replace: If-Match with the draft's ETag. Create: no draft yet, so an
       If-Match (an ETag of a draft that is gone) cannot match. */
    long long expected = 0;
    struct store_version current;
    rc = store_procedure_draft(mc_request_db(req), code, &current);
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

    json_t *doc = catalogue_procedure_normalize(req->body, code);
    struct store_version v = {0};
    bool created = false;
    errors = mc_errors_new();
    rc = doc != NULL ? store_procedure_put_draft(mc_request_db(req), doc, expected, root,
                                                 req->principal.sub, errors, &v, &created)
                     : MC_ERR_INTERNAL;
    json_decref(doc);
    if (rc != MC_OK) {
        catalogue_reply_failure(req, rc, errors);
        json_decref(errors);
        return;
    }
    json_decref(errors);
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
    mc_error rc = store_procedure_delete_draft(mc_request_db(req), code, revision, root);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_no_content(req);
}

void handle_procedure_publish(mc_request *req)
{
    const char *code = catalogue_path_procedure(req);
    const char *root = NULL;
    long long revision = 0;
    if (code == NULL || !writer_for(req, code, &root) || !draft_precondition(req, code, &revision))
        return;
    struct store_version v;
    mc_error rc = store_procedure_publish(mc_request_db(req), code, revision, root, &v);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[48];
    catalogue_version_etag(etag, sizeof etag, &v);
    catalogue_reply_etag(req, 200, v.body, etag);
}
