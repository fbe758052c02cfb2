/*
 * The catalogue's store layer: one function per SQL operation, the only
 * place with SQL (each statement a static mc_db_statement named
 * "catalogue_<op>", executed with parameters through mc_db_exec).
 *
 * Conventions (docs/architecture.md, "Stores and transactions"):
 *  - Every function takes a connection and runs one statement or one
 *    logical read or write on it. The handler borrows the connection, or
 *    opens the transaction (mc_db_transaction with a callback) when a write
 *    touches several rows; functions documented as writes must run inside
 *    one, and may then be called again on a retry.
 *  - Returns MC_OK or an mc_error the handler answers as is. MC_ERR_VALIDATION
 *    means problems were appended to the caller's `errors` array (pointers
 *    into the request body, e.g. "/sector_code", "/agency_codes/3").
 *  - json_t results are new references owned by the caller (NULL on error).
 *  - `admin_root` is the agency code of an agency_admin writer, whose writes
 *    are limited to that agency's subtree; NULL for a system_admin.
 *  - List functions fetch one row more than `limit` to know whether a next
 *    page exists; *next_keys is then the JSON array of the last item's sort
 *    keys (for mc_page_body), else NULL.
 */
#ifndef CATALOGUE_STORE_H
#define CATALOGUE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "motcua/calendar.h"
#include "motcua/db.h"
#include "motcua/error.h"

/* ---- sectors (store_sectors.c) ---- */

/* Sectors ordered by code, after `after_code` (NULL: from the start). */
mc_error store_sector_list(mc_db_conn *conn, const char *after_code, unsigned limit, json_t **items,
                           json_t **next_keys);
/* One sector {code, name, description, revision}; MC_ERR_SECTOR_NOT_FOUND. */
mc_error store_sector_get(mc_db_conn *conn, const char *code, json_t **sector, long long *revision);
/* Insert a normalised sector; MC_ERR_SECTOR_EXISTS when the code is taken. */
mc_error store_sector_create(mc_db_conn *conn, const json_t *sector, json_t **out,
                             long long *revision);
/* Replace name and description if the revision is still expected_revision
   (else MC_ERR_PRECONDITION_FAILED; MC_ERR_SECTOR_NOT_FOUND), and refresh the
   search vectors of published procedures of that sector in the same
   transaction (the sector name is part of them). */
mc_error store_sector_update(mc_db_conn *conn, const json_t *sector, long long expected_revision,
                             json_t **out, long long *revision);

/* ---- agencies (store_agencies.c) ---- */

/* Agencies ordered by code, after `after_code` (NULL: from the start). */
struct store_agency_filter {
    const char *parent;      /* children of this agency, or NULL */
    const char *admin_level; /* or NULL */
    const char *q;           /* name contains, accent/case-insensitive, or NULL */
    const char *after_code;  /* the cursor, or NULL */
};
mc_error store_agency_list(mc_db_conn *conn, const struct store_agency_filter *filter,
                           unsigned limit, json_t **items, json_t **next_keys);
/* One agency (the read shape); MC_ERR_AGENCY_NOT_FOUND. */
mc_error store_agency_get(mc_db_conn *conn, const char *code, json_t **agency, long long *revision);
/* Insert a normalised agency. Unknown parent: MC_ERR_VALIDATION at
   "/parent_code". An agency_admin may only create below their subtree
   (MC_ERR_FORBIDDEN). MC_ERR_AGENCY_EXISTS when the code is taken. */
mc_error store_agency_create(mc_db_conn *conn, const json_t *agency, const char *admin_root,
                             json_t *errors, json_t **out, long long *revision);
/* Replace an agency if its revision is expected_revision. Checks, in one
   transaction serialised against other tree changes: the agency exists, the
   parent exists (422 "/parent_code") and would not make a cycle
   (MC_ERR_AGENCY_PARENT_CYCLE), and an agency_admin's agency and any new
   parent lie in their subtree (MC_ERR_FORBIDDEN). */
mc_error store_agency_update(mc_db_conn *conn, const json_t *agency, long long expected_revision,
                             const char *admin_root, json_t *errors, json_t **out,
                             long long *revision);
/* When `code` is a well-formed agency code naming no agency, append a 422
   problem at `pointer` to `errors`. Reads only. */
mc_error store_agency_check_exists(mc_db_conn *conn, const char *code, const char *pointer,
                                   json_t *errors);
/* Does every code of the JSON array `codes` lie in root's subtree (root
   included)? Also used by the procedure writes. */
mc_error store_agencies_in_subtree(mc_db_conn *conn, const char *root, const json_t *codes,
                                   bool *inside);

/* ---- procedures: store_procedure_search.c (search), store_procedure_versions.c
   (reading versions), store_procedure_writes.c (create, drafts, publish) ---- */

/* One version in the read shape: the stored document plus version, status,
   published_at, created_at, updated_at, revision and sector {code, name}. */
struct store_version {
    json_t *body; /* owned by the caller */
    int version;
    long long revision;
    bool published;
};

struct store_procedure_filter {
    const char *q; /* search text, already known to be non-blank; NULL: browse */
    const char *sector;
    const char *agency;
    const char *admin_level;
    const char *online_level; /* "1".."4" or NULL */
    const char *channel;
    const json_t *cursor; /* the decoded cursor keys (checked by the caller), or NULL */
};
/* Search (ranked, cursor [rank, code]) or browse (by code, cursor [code])
   the current published versions; items are summaries. */
mc_error store_procedure_search(mc_db_conn *conn, const struct store_procedure_filter *filter,
                                unsigned limit, json_t **items, json_t **next_keys);
/* Fills an empty in-process search index (search_index.h) from one read of
   the published procedures, the filler words and the synonyms, and finishes it. */
struct search_index;
mc_error store_search_index_load(mc_db_conn *conn, struct search_index *idx);
/* "Did you mean" for a search that found nothing: *suggestion (malloc'd,
   the caller frees it) is q with each unknown word replaced by the most
   similar known one, or NULL when there is none. */
mc_error store_procedure_suggest(mc_db_conn *conn, const char *q, char **suggestion);
/* The current published version; MC_ERR_PROCEDURE_NOT_FOUND when the
   procedure does not exist or was never published. */
mc_error store_procedure_current(mc_db_conn *conn, const char *code, struct store_version *out);
/* One version (draft or published); MC_ERR_PROCEDURE_VERSION_NOT_FOUND. */
mc_error store_procedure_version(mc_db_conn *conn, const char *code, int version,
                                 struct store_version *out);
/* The draft; MC_ERR_PROCEDURE_NOT_FOUND or MC_ERR_PROCEDURE_NO_DRAFT. */
mc_error store_procedure_draft(mc_db_conn *conn, const char *code, struct store_version *out);
/* Versions {version, status, published_at} ascending after after_version;
   drafts only when with_draft. *exists is false when the procedure is
   unknown, or has no published version and with_draft is false. */
mc_error store_procedure_versions(mc_db_conn *conn, const char *code, bool with_draft,
                                  int after_version, unsigned limit, json_t **items,
                                  json_t **next_keys, bool *exists);
/* May an agency_admin rooted at admin_root write this procedure (all agency
   codes of its latest version, draft or published, in the subtree)?
   MC_ERR_PROCEDURE_NOT_FOUND when unknown. */
mc_error store_procedure_writable(mc_db_conn *conn, const char *code, const char *admin_root,
                                  bool *writable);
/* Unknown sector and agency codes of a procedure document, appended to
   `errors` as 422 problems at "/sector_code" and "/agency_codes/<i>" (values
   that are not well-formed codes are skipped: the field table reports them).
   Reads only; lets a handler answer them together with the body's other
   problems. MC_OK even when it added problems. */
mc_error store_procedure_check_refs(mc_db_conn *conn, const json_t *doc, json_t *errors);
/* Create procedure `doc.code` with draft version 1 from a normalised
   document. Unknown sector/agencies: MC_ERR_VALIDATION; agencies outside an
   agency_admin's subtree: MC_ERR_FORBIDDEN; MC_ERR_PROCEDURE_EXISTS. */
mc_error store_procedure_create(mc_db_conn *conn, const json_t *doc, const char *admin_root,
                                const char *created_by, json_t *errors, struct store_version *out);
/* Create (expected_revision 0: there must be no draft) or replace (the
   draft's revision must be expected_revision) the draft of the next version.
   Else MC_ERR_PRECONDITION_FAILED. *created tells which happened. */
mc_error store_procedure_put_draft(mc_db_conn *conn, const json_t *doc, long long expected_revision,
                                   const char *admin_root, const char *created_by, json_t *errors,
                                   struct store_version *out, bool *created);
/* Discard the draft (revision expected_revision). A procedure that was never
   published disappears with its only draft. */
mc_error store_procedure_delete_draft(mc_db_conn *conn, const char *code,
                                      long long expected_revision, const char *admin_root);
/* Publish the draft (revision expected_revision): it becomes the current
   version, immutable from now on; the agency filter rows and the search row
   are rebuilt in the same transaction. *out is the published version. */
mc_error store_procedure_publish(mc_db_conn *conn, const char *code, long long expected_revision,
                                 const char *admin_root, struct store_version *out);

void store_version_clear(struct store_version *v);

/* ---- calendar (store_calendar.c) ---- */

/* {year, days:[{date, kind, name}]} ordered by date. */
mc_error store_calendar_year(mc_db_conn *conn, int year, json_t **out);
/* Create or replace one day; *created tells which. *out is {date, kind, name}. */
mc_error store_calendar_put(mc_db_conn *conn, const char *date, const char *kind, const char *name,
                            json_t **out, bool *created);
/* MC_ERR_NOT_FOUND when the day is not listed. */
mc_error store_calendar_delete(mc_db_conn *conn, const char *date);
/* Days off and extra working days in [from, to], each sorted ascending, for
   mc_calendar. The arrays are malloc'd and owned by the caller (free them,
   also on error they are NULL). */
mc_error store_calendar_range(mc_db_conn *conn, const char *from, const char *to,
                              mc_date **days_off, size_t *n_days_off, mc_date **working_days,
                              size_t *n_working_days);

/* ---- search synonyms (store_search_synonyms.c) ---- */

/* A page of {phrase, expansions, updated_at} ordered by phrase, after `after`
   (NULL: from the start); keys [phrase]. */
mc_error store_synonym_list(mc_db_conn *conn, const char *after, unsigned limit, json_t **items,
                            json_t **next_keys);
/* One phrase's entry; MC_ERR_NOT_FOUND when it has none. */
mc_error store_synonym_get(mc_db_conn *conn, const char *phrase, json_t **out);
/* *out (new): the search normal form of each string of `texts`, in order
   ("" for a text with no letter or digit). */
mc_error store_synonym_normalise(mc_db_conn *conn, const json_t *texts, json_t **out);
/* Replace the phrase's expansions (a JSON array of strings) with their
   normal forms; *out (new) is the phrase's new entry, *created true when it
   had none. */
mc_error store_synonym_replace(mc_db_conn *conn, const char *phrase, const json_t *expansions,
                               json_t **out, bool *created);
/* MC_ERR_NOT_FOUND when the phrase has no expansions. */
mc_error store_synonym_delete(mc_db_conn *conn, const char *phrase);

#endif
