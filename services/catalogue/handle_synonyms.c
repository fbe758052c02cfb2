/*
 * /api/v1/synonyms and /api/v1/synonyms/{phrase}: the search synonyms that
 * system administrators maintain (issue 14): what citizens type ("bang lai",
 * "gplx") and the catalogue's words for it ("giay phep lai xe"). The
 * procedure search adds a reading of the query per synonym it contains; it
 * never replaces the words typed. All routes are for system_admin (the route
 * table says so). In the URL, a phrase is written in its search normal form
 * with hyphens between words: /synonyms/bang-lai.
 */
#include <stdio.h>
#include <string.h>

#include "catalogue.h"
#include "procedure_rules.h"
#include "store.h"

/* A phrase in a URL: 1..8 words of a-z and 0-9, joined by hyphens. */
#define PHRASE_SLUG_MAX 100
#define PHRASE_WORDS_MAX 8

/* PUT /synonyms/{phrase} body. */
struct synonym_body {
    const json_t *expansions;
};
static const struct mc_field expansion_item = {.type = MC_F_STRING,
                                               .min_len = 1,
                                               .max_len = 200,
                                               .check = catalogue_check_not_blank};
static const struct mc_field synonym_fields[] = {
    {.name = "expansions",
     .type = MC_F_ARRAY,
     .required = true,
     .min_len = 1,
     .max_len = 20,
     .item = &expansion_item,
     MC_BIND(struct synonym_body, expansions)},
    {0}};

/* The path's phrase as stored ("bang-lai" -> "bang lai") into out, or false
   after answering 404 (nothing can be stored under a malformed phrase). */
static bool path_phrase(mc_request *req, char *out, size_t len)
{
    const char *slug = mc_path_param(req, "phrase");
    size_t n = slug != NULL ? strlen(slug) : 0;
    bool ok = n > 0 && n <= PHRASE_SLUG_MAX && n < len;
    unsigned words = 1;
    for (size_t i = 0; ok && i < n; i++) {
        char c = slug[i];
        if (c == '-') {
            ok = i > 0 && i + 1 < n && slug[i - 1] != '-' && ++words <= PHRASE_WORDS_MAX;
            out[i] = ' ';
        } else {
            ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            out[i] = c;
        }
    }
    if (!ok) {
        mc_reply_error(req, MC_ERR_NOT_FOUND,
                       "a phrase is 1 to 8 words of a-z and 0-9 joined by hyphens");
        return false;
    }
    out[n] = '\0';
    return true;
}

static mc_error synonym_page(mc_db_conn *conn, const void *after, unsigned limit, json_t **items,
                             json_t **next_keys)
{
    return store_synonym_list(conn, after, limit, items, next_keys);
}

static bool is_phrase(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PHRASE_SLUG_MAX || s[0] == ' ' || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              (s[i] == ' ' && s[i + 1] != ' ')))
            return false;
    return true;
}

void handle_synonyms_list(mc_request *req)
{
    mc_reply_keyed_list(req, CATALOGUE_PAGE_DEFAULT, CATALOGUE_PAGE_MAX, is_phrase, synonym_page);
}

void handle_synonym_get(mc_request *req)
{
    char phrase[PHRASE_SLUG_MAX + 1];
    if (!path_phrase(req, phrase, sizeof phrase))
        return;
    json_t *entry = NULL;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_synonym_get(conn, phrase, &entry);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, "no synonyms for this phrase");
        return;
    }
    mc_reply_json(req, 200, entry);
}

/* Every expansion must keep a letter or digit once normalised ("!!!" does
   not): adds a problem to `errors` for each that does not. */
static mc_error check_expansions(mc_db_conn *conn, const json_t *expansions, json_t *errors)
{
    json_t *normal = NULL;
    mc_error rc = store_synonym_normalise(conn, expansions, &normal);
    size_t i;
    json_t *v;
    json_array_foreach(normal, i, v) {
        if (strcmp(json_string_value(v) != NULL ? json_string_value(v) : "", "") == 0) {
            char pointer[48];
            snprintf(pointer, sizeof pointer, "/expansions/%zu", i);
            mc_errors_add(errors, pointer, "no_words", "must hold at least one letter or digit");
        }
    }
    json_decref(normal);
    return rc;
}

void handle_synonym_put(mc_request *req)
{
    char phrase[PHRASE_SLUG_MAX + 1];
    if (!path_phrase(req, phrase, sizeof phrase))
        return;
    json_t *errors = mc_errors_new();
    struct synonym_body body = {0};
    mc_json_parse_fields(req->body, synonym_fields, "", errors, &body);
    if (json_array_size(errors) > 0) {
        catalogue_no_errors(req, errors);
        return;
    }
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = check_expansions(conn, body.expansions, errors);
        if (rc != MC_OK || json_array_size(errors) > 0)
            mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        json_decref(errors);
        mc_reply_error(req, rc, NULL);
        return;
    }
    if (!catalogue_no_errors(req, errors))
        return;
    json_t *entry = NULL;
    bool created = false;
    rc = store_synonym_replace(conn, phrase, body.expansions, &entry, &created);
    mc_db_release(mc_request_db(req), conn);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    catalogue_reply_put(req, entry, created, "/synonyms", mc_path_param(req, "phrase"));
}

void handle_synonym_delete(mc_request *req)
{
    char phrase[PHRASE_SLUG_MAX + 1];
    if (!path_phrase(req, phrase, sizeof phrase))
        return;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_synonym_delete(conn, phrase);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, "no synonyms for this phrase");
        return;
    }
    mc_reply_no_content(req);
}
