/*
 * /dossiers/{id}/documents: the files of a dossier.
 *
 *   PUT /dossiers/{id}/documents/{slot}?file_name=NAME   upload (201) or replace (200)
 *   GET /dossiers/{id}/documents[?all=true]              current files (all: + replaced)
 *   GET /dossiers/{id}/documents/{slot}/content          the bytes of a current file
 *
 * A slot is a required-document code of the dossier's case ("TK"), an extra
 * slot "extra-1" .. "extra-20", or "result" for the result document. Who may
 * upload, when, and what kind of document it becomes is the table in
 * document_rules.c.
 *
 * An upload is the raw file as the request body (no multipart), at most the
 * service's HTTP_MAX_UPLOAD_BYTES (common answers 413 above it). Its type is
 * checked twice: the Content-Type must be PDF, JPEG or PNG and the bytes must
 * start as that type does, so a renamed executable or HTML page is refused.
 * application/octet-stream (a browser that does not know the type) is typed
 * by the bytes alone. Limits hold per dossier (MAX_FILES_PER_DOSSIER,
 * MAX_BYTES_PER_DOSSIER, replaced files included: 422 dossier.storage_limit);
 * who may read the files (not a payment client) is dossier_view.c's.
 * The bytes go to the document storage (storage.h) first; then, in one
 * transaction under the dossier's row lock, the slot's previous file is marked
 * replaced (it stays, for the record), the new row and a history row are
 * written. If the transaction fails the stored file is removed again. The
 * same file sent again to the same slot (a PUT retried after a lost answer)
 * changes nothing and answers 200 with the document as it is.
 *
 * Uploads do not change the dossier's revision: its JSON and ETag do not
 * include the documents, and the row lock already orders an upload against a
 * concurrent submit or supplement (the status is checked again under it, so a
 * file can never be added as 'application' to a dossier that was submitted
 * meanwhile). Documents have their own validator: the ETag of the content is
 * its SHA-256.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document_rules.h"
#include "dossier.h"
#include "motcua/json_spec.h"
#include "motcua/log.h"
#include "request.h"
#include "storage.h"
#include "store.h"
#include "transition.h"

/* ------------------------------------------------------------------ */
/* checking what was sent (the pure rules are document_rules.c's)      */

/* The file_name query parameter, checked: required, valid UTF-8, 1..255
   code points once surrounding spaces are trimmed, no control characters,
   no path separators, not "." or "..". Writes the trimmed name into out;
   false after adding a parameter error. */
static bool read_file_name(const mc_request *req, char *out, size_t out_len, json_t *errors)
{
    const char *raw = mc_query_str(req, "file_name", 4 * DOCUMENT_FILE_NAME_MAX, errors);
    if (raw == NULL) {
        if (json_array_size(errors) == 0)
            mc_errors_add_param(errors, "file_name", "required",
                                "give the file's name: ?file_name=giay-khai-sinh.pdf");
        return false;
    }
    const char *detail = NULL;
    const char *problem = document_file_name_problem(raw, out, out_len, &detail);
    if (problem != NULL) {
        mc_errors_add_param(errors, "file_name", problem, detail);
        return false;
    }
    return true;
}

/* The case's document codes, "TK, UQ" (at most len - 1 bytes). */
static void case_codes(const json_t *the_case, char *out, size_t len)
{
    size_t o = 0, i;
    const json_t *doc;
    out[0] = '\0';
    json_array_foreach(json_object_get(the_case, "documents"), i, doc)
    {
        int n = snprintf(out + o, len - o, "%s%s", o > 0 ? ", " : "", mc_json_str(doc, "code", ""));
        if (n < 0 || (size_t)n >= len - o) {
            out[o] = '\0';
            return;
        }
        o += (size_t)n;
    }
}

static bool case_has_document(const json_t *the_case, const char *slot)
{
    size_t i;
    const json_t *doc;
    json_array_foreach(json_object_get(the_case, "documents"), i, doc)
    {
        if (strcmp(mc_json_str(doc, "code", ""), slot) == 0)
            return true;
    }
    return false;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* The public JSON of a document (new reference): every member present, replaced_at
   null for a slot's current file. */
static json_t *document_json(const struct store_document *doc)
{
    return json_pack("{ss ss ss ss ss sI ss so so}", "id", doc->id, "slot", doc->slot, "kind",
                     doc->kind, "file_name", doc->file_name, "media_type", doc->media_type,
                     "size_bytes", (json_int_t)doc->size_bytes, "sha256", doc->sha256,
                     "uploaded_at", dossier_time_json(doc->uploaded_at), "replaced_at",
                     dossier_time_json(doc->replaced_at));
}

/* May these actors see a document of this kind now? A result document is
   prepared by the agency while processing; the applicant sees it once the
   result is ready (status 9 or 10), not a draft of it. */
static bool may_see(const struct store_document *doc, const struct dossier *d, unsigned actors)
{
    if (strcmp(doc->kind, "result") != 0)
        return true;
    if ((actors & ~(unsigned)ACTOR_OWNER) != 0)
        return true; /* staff of the handling agency */
    if ((actors & ACTOR_OWNER) == 0)
        return true; /* read-only staff: earlier agencies, auditors */
    return d->status == DS_RESULT_READY || d->status == DS_RESULT_RETURNED;
}

/* ------------------------------------------------------------------ */
/* PUT /dossiers/{id}/documents/{slot}                                 */

struct upload_tx {
    mc_request *req;
    struct store_document doc;
    char replaced_id[37];
    int status;         /* the status the checks were made for */
    bool state_changed; /* the dossier moved on meanwhile: 409 */
    bool unchanged;     /* the slot already had this very file: 200, nothing written */
    struct store_document_limits limits; /* the dossier's files and bytes (MAX_*_PER_DOSSIER) */
    char new_key[DOSSIER_STORAGE_KEY_MAX]; /* where this request's bytes were stored */
};

static mc_error upload_tx_fn(mc_db_conn *conn, void *arg)
{
    struct upload_tx *t = arg;
    t->state_changed = false;
    struct dossier locked;
    mc_error rc = store_dossier_load(conn, t->doc.dossier_id, true, &locked);
    if (rc != MC_OK)
        return rc;
    /* Again, under the row lock: the dossier may have been submitted,
       supplemented or transferred since it was read. */
    bool read_only, ever;
    unsigned actors = dossier_actors(t->req, &locked, &read_only);
    const struct document_upload_rule *rule =
        document_upload_rule_for(locked.status, actors, &ever);
    if (locked.status != t->status || rule == NULL || strcmp(rule->kind, t->doc.kind) != 0) {
        dossier_clear(&locked);
        t->state_changed = true;
        return MC_ERR_DOSSIER_TRANSITION_NOT_ALLOWED;
    }
    rc = store_document_put(conn, &t->doc, t->replaced_id, sizeof t->replaced_id, &t->unchanged,
                            &t->limits);
    if (rc == MC_OK && !t->unchanged) {
        bool replaced = t->replaced_id[0] != '\0';
        json_t *details =
            json_pack("{ss ss sI ss}", "slot", t->doc.slot, "sha256", t->doc.sha256, "size_bytes",
                      (json_int_t)t->doc.size_bytes, "document_id", t->doc.id);
        if (replaced)
            json_object_set_new(details, "replaced_document_id", json_string(t->replaced_id));
        json_object_set_new(details, "kind", json_string(t->doc.kind));
        json_t *documents = json_pack("[s]", t->doc.id);
        const mc_principal *p = &t->req->principal;
        struct history_entry e = {
            .dossier_id = locked.id,
            .actor_sub = p->sub,
            .actor_role = transition_acting_role(rule->actors & actors),
            .actor_agency = p->agency[0] != '\0' ? p->agency : NULL,
            .actor_name = dossier_actor_name(p),
            .action = replaced ? "document_replaced" : "document_uploaded",
            .from_status = locked.status,
            .to_status = locked.status,
            .documents = documents,
            .details = details,
        };
        rc = store_history_add(conn, &e);
        json_decref(details);
        json_decref(documents);
    }
    dossier_clear(&locked);
    return rc;
}

/* Refuse an upload that the rules do not allow (403 / 409); true when
   allowed, with *rule set. */
static bool check_rule(mc_request *req, const struct dossier *d, unsigned actors,
                       const struct document_upload_rule **rule)
{
    bool ever;
    *rule = document_upload_rule_for(d->status, actors, &ever);
    if (*rule != NULL)
        return true;
    if (!ever) {
        mc_reply_error(req, MC_ERR_FORBIDDEN,
                       "files are uploaded by the applicant (or the counter that filed the "
                       "dossier) and, for the result, by the handling agency's officers");
        return false;
    }
    json_t *members = json_pack("{ss}", "status_name", workflow_status_name(d->status));
    mc_reply_problem(req, MC_ERR_DOSSIER_TRANSITION_NOT_ALLOWED,
                     "files can be added or replaced while the dossier is a draft or a "
                     "supplement is requested, and the result while it is processed",
                     members);
    return false;
}

/* Is `slot` one the rule accepts for the dossier's case? Answers 404 (with
   the slots that exist) or 503 (catalogue) and returns false otherwise. */
static bool check_slot(mc_request *req, const struct dossier *d,
                       const struct document_upload_rule *rule, const char *slot)
{
    bool ok;
    const mc_catalogue_doc *procedure = NULL;
    const json_t *the_case = NULL;
    if (rule->result_slot) {
        ok = strcmp(slot, "result") == 0;
    } else {
        mc_error rc = mc_catalogue_procedure_version(dossier_ctx(req)->catalogue, d->procedure_code,
                                                     d->procedure_version, &procedure);
        if (rc != MC_OK) {
            mc_reply_error(
                req, rc == MC_ERR_PROCEDURE_VERSION_NOT_FOUND ? MC_ERR_CATALOGUE_UNAVAILABLE : rc,
                NULL);
            return false;
        }
        the_case = dossier_find_case(mc_catalogue_doc_json(procedure), d->case_code);
        ok = case_has_document(the_case, slot) || document_is_extra_slot(slot);
    }
    if (!ok && rule->result_slot) {
        mc_reply_error(req, MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND,
                       "while the dossier is processed only the \"result\" slot takes files");
    } else if (!ok) {
        char codes[400];
        case_codes(the_case, codes, sizeof codes);
        mc_reply_error(req, MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND,
                       "no such document slot: use a document code of the dossier's case (%s) or "
                       "extra-1 to extra-20 for other papers",
                       codes[0] != '\0' ? codes : "it has none");
    }
    mc_catalogue_doc_release(procedure);
    return ok;
}

/* 422 dossier.storage_limit: which limit, its value, the whole body at fault. */
static void reply_storage_limit(mc_request *req, const struct store_document_limits *limits)
{
    bool files = limits->exceeded == STORE_LIMIT_FILES;
    json_t *errors = mc_errors_new();
    mc_errors_add(errors, "", files ? "max_files" : "max_bytes",
                  files ? "the dossier has as many stored files as allowed (replaced ones count)"
                        : "the dossier's stored files would weigh more than allowed (replaced "
                          "ones count)");
    json_t *members = json_pack("{sI ss so}", "limit",
                                (json_int_t)(files ? limits->max_files : limits->max_bytes),
                                "limit_name", files ? "MAX_FILES_PER_DOSSIER" : "MAX_BYTES_PER_DOSSIER",
                                "errors", errors);
    mc_reply_problem(req, MC_ERR_DOSSIER_STORAGE_LIMIT,
                     files ? "no more files can be stored for this dossier"
                           : "this file would take the dossier over its storage limit",
                     members);
}

void handle_document_upload(mc_request *req)
{
    const char *slot = mc_path_param(req, "slot");
    if (slot == NULL || !document_slot_syntax_ok(slot)) {
        mc_reply_error(req, MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND,
                       "a slot is a document code of the dossier's case, extra-1 to extra-20, or "
                       "result");
        return;
    }
    struct upload_tx t = {.req = req};
    json_t *errors = mc_errors_new();
    if (!read_file_name(req, t.doc.file_name, sizeof t.doc.file_name, errors)) {
        mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
        return;
    }
    json_decref(errors);
    const char *content_type = mc_header(req, "Content-Type");
    const char *media_type = document_accepted_media_type(content_type);
    bool sniff = media_type == NULL && document_is_octet_stream(content_type);
    if (media_type == NULL && !sniff) {
        mc_reply_error(req, MC_ERR_DOSSIER_UNSUPPORTED_FILE,
                       "send the file as the body with Content-Type application/pdf, image/jpeg "
                       "or image/png");
        return;
    }
    size_t len = 0;
    const unsigned char *body = mc_request_body(req, &len);
    if (body == NULL || len == 0) {
        errors = mc_errors_new();
        mc_errors_add(errors, "", "required", "the file is empty: send its bytes as the body");
        mc_reply_errors(req, MC_ERR_VALIDATION, errors);
        return;
    }
    const char *sniffed = document_sniffed_media_type(body, len);
    if (sniff) {
        /* A browser's "unknown type": the bytes decide, and the type they
           show is the one stored (and sent back on download). */
        if (sniffed == NULL) {
            mc_reply_error(req, MC_ERR_DOSSIER_UNSUPPORTED_FILE,
                           "the file is not a PDF, JPEG or PNG file (checked by its first bytes); "
                           "accepted types: application/pdf, image/jpeg, image/png");
            return;
        }
        media_type = sniffed;
    }
    if (sniffed == NULL || strcmp(sniffed, media_type) != 0) {
        mc_reply_error(req, MC_ERR_DOSSIER_UNSUPPORTED_FILE,
                       "the content is not a %s file (checked by its first bytes)",
                       strcmp(media_type, "application/pdf") == 0 ? "PDF"
                       : strcmp(media_type, "image/png") == 0     ? "PNG"
                                                                  : "JPEG");
        return;
    }

    struct dossier d;
    unsigned actors;
    bool read_only;
    if (!dossier_load_for_request(req, &d, &actors, &read_only))
        return;
    const struct document_upload_rule *rule;
    if (!check_rule(req, &d, actors, &rule) || !check_slot(req, &d, rule, slot)) {
        dossier_clear(&d);
        return;
    }

    snprintf(t.doc.dossier_id, sizeof t.doc.dossier_id, "%s", d.id);
    snprintf(t.doc.slot, sizeof t.doc.slot, "%s", slot);
    snprintf(t.doc.kind, sizeof t.doc.kind, "%s", rule->kind);
    snprintf(t.doc.media_type, sizeof t.doc.media_type, "%s", media_type);
    snprintf(t.doc.uploaded_by, sizeof t.doc.uploaded_by, "%s", req->principal.sub);
    t.doc.size_bytes = (long long)len;
    t.status = d.status;
    dossier_clear(&d);
    sha256_hex(body, len, t.doc.sha256);

    /* The bytes first: a row must never name a file that is not there. */
    struct dossier_storage storage = dossier_storage_of(dossier_ctx(req));
    mc_error rc = storage.put(storage.impl, body, len, t.new_key);
    if (rc != MC_OK) {
        mc_reply_error(req, MC_ERR_INTERNAL, "the file could not be stored; try again");
        return;
    }
    snprintf(t.doc.storage_key, sizeof t.doc.storage_key, "%s", t.new_key);
    struct dossier_ctx *ctx = dossier_ctx(req);
    t.limits.max_files = ctx->max_files_per_dossier;
    t.limits.max_bytes = ctx->max_bytes_per_dossier;
    rc = mc_db_transaction(mc_request_db(req), NULL, upload_tx_fn, &t);
    if (rc != MC_OK || t.unchanged)
        storage.remove(storage.impl, t.new_key); /* no row names these bytes */
    if (rc != MC_OK) {
        if (t.state_changed) {
            mc_reply_error(req, MC_ERR_DOSSIER_TRANSITION_NOT_ALLOWED,
                           "the dossier changed while the file was uploaded; read it again");
            return;
        }
        if (rc == MC_ERR_DOSSIER_STORAGE_LIMIT) {
            reply_storage_limit(req, &t.limits);
            return;
        }
        mc_reply_error(req, rc, NULL);
        return;
    }
    char location[256];
    snprintf(location, sizeof location, "/api/v1/dossiers/%s/documents/%s/content",
             t.doc.dossier_id, t.doc.slot);
    json_t *answer = document_json(&t.doc);
    if (t.replaced_id[0] == '\0' && !t.unchanged) {
        mc_reply_created(req, answer, location, NULL);
    } else {
        mc_set_header(req, "Location", location);
        mc_reply_json(req, 200, answer);
    }
}

/* ------------------------------------------------------------------ */
/* GET /dossiers/{id}/documents                                        */

void handle_documents_list(mc_request *req)
{
    json_t *errors = mc_errors_new();
    const char *all_text = mc_query_str(req, "all", 5, errors);
    bool all = false;
    if (all_text != NULL) {
        if (strcmp(all_text, "true") == 0)
            all = true;
        else if (strcmp(all_text, "false") != 0)
            mc_errors_add_param(errors, "all", "enum", "must be true or false");
    }
    if (json_array_size(errors) > 0) {
        mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
        return;
    }
    json_decref(errors);
    struct dossier d;
    unsigned actors;
    bool read_only;
    if (!dossier_load_for_request(req, &d, &actors, &read_only))
        return;
    if (dossier_refuse_payment_view(req, actors, read_only)) {
        dossier_clear(&d);
        return;
    }
    struct store_document *docs = NULL;
    size_t n = 0;
    mc_db_conn *conn = NULL;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_document_list(conn, d.id, all, &docs, &n);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        dossier_clear(&d);
        mc_reply_error(req, rc, NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        if (may_see(&docs[i], &d, actors))
            json_array_append_new(items, document_json(&docs[i]));
    free(docs);
    dossier_clear(&d);
    mc_set_header(req, "Cache-Control", "private, no-store");
    /* Bounded by the case (its document codes, 20 extras and the result) and
       the replacements kept: one list, no pages. */
    mc_reply_json_etag(req, 200, json_pack("{so}", "items", items), NULL);
}

/* ------------------------------------------------------------------ */
/* GET /dossiers/{id}/documents/{slot}/content                         */

void handle_document_content(mc_request *req)
{
    const char *slot = mc_path_param(req, "slot");
    struct dossier d;
    unsigned actors;
    bool read_only;
    if (slot == NULL || !document_slot_syntax_ok(slot)) {
        mc_reply_error(req, MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND, NULL);
        return;
    }
    if (!dossier_load_for_request(req, &d, &actors, &read_only))
        return;
    if (dossier_refuse_payment_view(req, actors, read_only)) {
        dossier_clear(&d);
        return;
    }
    struct store_document doc;
    mc_db_conn *conn = NULL;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_document_current(conn, d.id, slot, &doc);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc == MC_OK && !may_see(&doc, &d, actors))
        rc = MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND;
    dossier_clear(&d);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[72];
    snprintf(etag, sizeof etag, "\"%s\"", doc.sha256);
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_set_header(req, "X-Content-Type-Options", "nosniff");
    if (mc_reply_not_modified(req, etag))
        return;
    struct dossier_storage storage = dossier_storage_of(dossier_ctx(req));
    struct dossier_file *file = NULL;
    size_t len = 0;
    rc = storage.open(storage.impl, doc.storage_key, &file, &len);
    if (rc == MC_OK && (long long)len != doc.size_bytes) {
        dossier_file_close(file);
        rc = MC_ERR_INTERNAL;
    }
    if (rc != MC_OK) {
        mc_log(MC_LOG_ERROR, req->request_id, "document.unreadable",
               "the stored file of document %s cannot be read", doc.id);
        mc_reply_error(req, MC_ERR_INTERNAL, "the file cannot be read now");
        return;
    }
    char disposition[4096];
    document_content_disposition(doc.file_name, disposition, sizeof disposition);
    mc_set_header(req, "Content-Disposition", disposition);
    /* Opened in a browser tab anyway: no scripts, no plugins, no requests. */
    mc_set_header(req, "Content-Security-Policy", "default-src 'none'; sandbox");
    /* Sent in blocks as the client takes them: memory stays at one block. */
    mc_reply_stream(req, 200, doc.media_type, len, dossier_file_read, dossier_file_close, file);
}
