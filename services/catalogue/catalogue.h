/*
 * The catalogue service's handlers (one file per resource, named after its
 * URL) and the small request helpers they share (request.c).
 *
 *   /sectors...                      handle_sectors.c
 *   /agencies...                     handle_agencies.c
 *   /procedures, /procedures/{code}  handle_procedures.c (search, current, create)
 *   /procedures/{code}/versions...   handle_procedure_versions.c
 *   /procedures/{code}/draft,
 *   /procedures/{code}/publish       handle_procedure_draft.c
 *   /calendar...                     handle_calendar.c
 *   /synonyms...                     handle_synonyms.c
 *
 * The route table is routes.c; the service definition main.c.
 */
#ifndef CATALOGUE_H
#define CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

#include "motcua/http.h"
#include "motcua/json_spec.h"
#include "motcua/server.h"

extern const struct mc_route catalogue_routes[];
extern const size_t catalogue_routes_count;

/* handle_sectors.c */
void handle_sectors_list(mc_request *req);
void handle_sector_get(mc_request *req);
void handle_sector_create(mc_request *req);
void handle_sector_update(mc_request *req);

/* handle_agencies.c */
void handle_agencies_list(mc_request *req);
void handle_agency_get(mc_request *req);
void handle_agency_create(mc_request *req);
void handle_agency_update(mc_request *req);

/* procedure_search_index.c: the service's start and stop hooks (its context:
   the in-process search index), and the search through that index. */
struct store_procedure_filter;
mc_error catalogue_start(mc_app *app);
void catalogue_stop(mc_app *app);
/* Ranks f->q with the in-process index when it is on (*answered true: the
   page's body as mc_page_body_text gives it, *body malloc'd, with its length
   and how many items it holds); *answered false when the SQL must answer
   (the index is off). */
mc_error catalogue_search_with_index(mc_request *req, const struct store_procedure_filter *f,
                                     unsigned limit, char **body, size_t *body_len,
                                     size_t *n_items, bool *answered);
/* "Did you mean" for an empty first page, from the index (NULL when there is
   none, or when the index cannot be had). */
mc_error catalogue_suggest_with_index(mc_request *req, const struct store_procedure_filter *f,
                                      char **suggestion);

/* handle_procedures.c */
void handle_procedures_search(mc_request *req);
void handle_procedure_get(mc_request *req);
void handle_procedure_create(mc_request *req);
/* What the procedure handlers read of a body themselves (the rest is checked
   by catalogue_procedure_check and stored whole), bound by the specs. */
struct catalogue_procedure_body {
    const char *code;
};
/* The body spec of PUT /procedures/{code}/draft (code optional), kept with
   the POST spec in handle_procedures.c because they share every nested table;
   binds into struct catalogue_procedure_body. */
extern const struct mc_field catalogue_procedure_draft_fields[];

/* handle_procedure_versions.c */
void handle_procedure_versions_list(mc_request *req);
void handle_procedure_version_get(mc_request *req);

/* handle_procedure_draft.c */
void handle_procedure_draft_get(mc_request *req);
void handle_procedure_draft_put(mc_request *req);
void handle_procedure_draft_delete(mc_request *req);
void handle_procedure_publish(mc_request *req);

/* handle_calendar.c */
void handle_calendar_year_get(mc_request *req);
void handle_calendar_day_put(mc_request *req);
void handle_calendar_day_delete(mc_request *req);
void handle_calendar_due_date(mc_request *req);

/* handle_synonyms.c */
void handle_synonyms_list(mc_request *req);
void handle_synonym_get(mc_request *req);
void handle_synonym_put(mc_request *req);
void handle_synonym_delete(mc_request *req);

/* ---- request.c: helpers shared by the handlers ---- */

/* Page sizes of every list (docs/services/catalogue.md). */
#define CATALOGUE_PAGE_DEFAULT 20
#define CATALOGUE_PAGE_MAX 100

/* Who is writing: a system_admin (anything), an agency_admin (their
   agency's subtree: *root is set to their agency code), or nobody. */
enum catalogue_writer {
    CATALOGUE_WRITER_NONE,
    CATALOGUE_WRITER_SYSTEM,
    CATALOGUE_WRITER_AGENCY,
};
enum catalogue_writer catalogue_writer_of(const mc_request *req, const char **root);

/* Path parameters. Each returns the validated value, or answers (404 with
   the resource's code for a malformed identifier, 400 for a malformed year or
   date) and returns NULL / false. */
const char *catalogue_path_sector(mc_request *req);
const char *catalogue_path_agency(mc_request *req);
const char *catalogue_path_procedure(mc_request *req);
bool catalogue_path_version(mc_request *req, int *version);
bool catalogue_path_year(mc_request *req, int *year);
const char *catalogue_path_date(mc_request *req);

/* After the body checks appended their problems to `errors`: true when
   there are none; else answers 422 with every problem and returns false.
   Steals `errors`. */
bool catalogue_no_errors(mc_request *req, json_t *errors);

/* Run get(conn, code, &out, &revision) on a connection of its own
   (store_sector_get, store_agency_get). */
typedef mc_error (*catalogue_get_fn)(struct mc_db_conn *conn, const char *code, json_t **out,
                                     long long *revision);
mc_error catalogue_read(mc_request *req, catalogue_get_fn get, const char *code, json_t **out,
                        long long *revision);

/* After a body's own checks appended their problems to `errors`: add what
   only the database knows (an unknown parent agency, an unknown sector or
   agency of a procedure), then answer like catalogue_no_errors. False after
   answering (422, or the store's failure). Steals errors. */
bool catalogue_agency_refs_ok(mc_request *req, const char *parent_code, json_t *errors);
bool catalogue_procedure_refs_ok(mc_request *req, json_t *errors);

/* Answer a write's result with its new ETag (no If-None-Match handling,
   unlike mc_reply_json_etag, which is for reads). Steals body. */
void catalogue_reply_etag(mc_request *req, unsigned status, json_t *body, const char *etag);

/* A body's "code" (bound by its field spec; NULL when absent) must be absent
   or equal to the path's code (PUT bodies). */
void catalogue_code_matches_path(const char *body_code, const char *code, json_t *errors);

/* Answer a store failure: 422/other with the store's `errors` when it added
   any, else the plain problem for `err`. Borrows `errors`. */
void catalogue_reply_failure(mc_request *req, mc_error err, json_t *errors);

/* ETag of a procedure version: "v<version>-<revision>" when published,
   "d<version>-<revision>" for a draft (revisions come from one sequence, so a
   discarded draft's ETag never matches a later draft). out: >= 48 bytes. */
struct store_version;
void catalogue_version_etag(char *out, size_t len, const struct store_version *v);

/* Answer a create-or-replace PUT: 201 with Location "/api/v1" collection
   "/" key when created ("/calendar/days", "2025-01-27"), else 200. Steals
   body. */
void catalogue_reply_put(mc_request *req, json_t *body, bool created, const char *collection,
                         const char *key);

/* Location header value of a resource: "/api/v1" + path. */
#define CATALOGUE_API_PREFIX "/api/v1"

#endif
