/*
 * A dossier as tracking shows it:
 *   GET /api/v1/tracking/dossiers/{code}           public card (no token); with a
 *                                                  second factor, the applicant's part
 *   GET /api/v1/tracking/short/{short}             the same card by the receipt
 *                                                  slip's short code (gateway: /t/{short})
 *   GET /api/v1/tracking/dossiers/{code}/timeline  signed in: the full timeline
 *
 * The public lookup validates the code (and the factor) before any database
 * work, counts the request against the per-address and per-code limits, and
 * answers one generic 404 for an unknown code and a wrong factor: both cost
 * one query and, when a factor was given, one HMAC, computed before the
 * query whatever its outcome.
 *
 * The second factor comes in a header, never the query string: URLs end up in
 * access logs and browser histories, and an ID number must not.
 *
 * The public card asked without a factor is answered from the card cache
 * when it holds it (card_cache.h; by code only), else as the bytes the
 * projection stored in the dossier's row (card_view.h): one indexed read,
 * nothing parsed or built. A row whose stored card is missing or was built
 * with another lookup key (public_cards.h) gets the same answer built on
 * the spot. With a factor the row and its steps are read and the answer is
 * built, as before: an unknown code and a wrong factor still cost one query
 * and one hash each.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "card_view.h"
#include "lookup_rules.h"
#include "motcua/log.h"
#include "rate_limit.h"
#include "store.h"
#include "timeline.h"
#include "tracking.h"

#define ID_NUMBER_HEADER "Tracking-Id-Number"
#define PHONE_HEADER "Tracking-Phone-Last4"
#define NOT_FOUND_DETAIL "no dossier matches this code and second factor"

/* The second factor of the request into hash (MC_LOOKUP_HASH_LEN + 1):
   *given false without one. False (after a 400) when one is malformed or
   both are given. */
static bool read_factor(mc_request *req, const struct tracking_ctx *ctx, bool *given,
                        mc_lookup_factor *kind, char *hash)
{
    const char *id = mc_header(req, ID_NUMBER_HEADER), *phone = mc_header(req, PHONE_HEADER);
    *given = id != NULL || phone != NULL;
    if (!*given)
        return true;
    json_t *errors = json_array();
    char canonical[16];
    if (id != NULL && phone != NULL)
        mc_errors_add_param(errors, ID_NUMBER_HEADER, "conflict", "give one second factor, not two");
    else if (id != NULL && !mc_lookup_factor_canonical(MC_LOOKUP_ID_NUMBER, id, canonical,
                                                       sizeof canonical))
        mc_errors_add_param(errors, ID_NUMBER_HEADER, "invalid", "an ID number has 12 digits");
    else if (phone != NULL &&
             (strlen(phone) != 4 || !mc_lookup_factor_canonical(MC_LOOKUP_PHONE_LAST4, phone,
                                                                 canonical, sizeof canonical)))
        mc_errors_add_param(errors, PHONE_HEADER, "invalid", "the phone number's last 4 digits");
    if (!mc_query_ok(req, errors))
        return false;
    *kind = id != NULL ? MC_LOOKUP_ID_NUMBER : MC_LOOKUP_PHONE_LAST4;
    if (ctx->lookup_key_len == 0 ||
        !mc_lookup_factor_hash(ctx->lookup_key, ctx->lookup_key_len, *kind, id != NULL ? id : phone,
                               hash))
        hash[0] = '\0'; /* no key configured: no factor can match */
    return true;
}

/* Count the lookup; false (after a 429 with Retry-After) over a limit. */
static bool within_limits(mc_request *req, const struct tracking_ctx *ctx, const char *code)
{
    char address[64];
    mc_client_address(req, address, sizeof address);
    unsigned wait = tracking_rate_check(ctx->limits, address, code, (int64_t)time(NULL));
    if (wait == 0)
        return true;
    char retry_after[16];
    snprintf(retry_after, sizeof retry_after, "%u", wait);
    mc_set_header(req, "Retry-After", retry_after);
    mc_reply_error(req, MC_ERR_RATE_LIMITED, "too many lookups; retry after %u seconds", wait);
    return false;
}

/* Find the dossier by code or short code on a borrowed connection. */
static mc_error find(mc_request *req, const char *code, bool by_short, struct tracked_dossier *d,
                     json_t **steps)
{
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_dossier_find(conn, code, by_short, d, steps);
        mc_db_release(mc_request_db(req), conn);
    }
    return rc;
}

/* The answer's headers: it depends on the factor headers, so no shared
   cache may mix them. */
static void card_headers(mc_request *req)
{
    mc_set_header(req, "Cache-Control", "no-store");
    mc_set_header(req, "Vary", ID_NUMBER_HEADER ", " PHONE_HEADER);
}

/* Answer the public card from the card cache; false on a miss. */
static bool cached_card(mc_request *req, struct tracking_ctx *ctx, const char *code)
{
    char *text = NULL, etag[CARD_CACHE_ETAG_MAX];
    size_t len = 0;
    if (!card_cache_get(ctx->cards, code, &text, &len, etag))
        return false;
    card_headers(req);
    mc_reply_stored_json(req, text, len, etag);
    free(text);
    return true;
}

/* Answer the public card from the bytes stored in the dossier's row (kept
   in the card cache too when cacheable, with the version read before);
   false when they are missing or stale: the caller then builds it. */
static bool stored_card(mc_request *req, struct tracking_ctx *ctx, const char *code, bool by_short,
                        bool cacheable, uint64_t version)
{
    mc_db_conn *conn;
    struct stored_card card;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_public_card_find(conn, code, by_short, &card);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc == MC_ERR_NOT_FOUND) {
        mc_reply_error(req, MC_ERR_NOT_FOUND, NOT_FOUND_DETAIL);
        return true;
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return true;
    }
    if (card.body == NULL || strcmp(card.key_id, ctx->key_id) != 0) {
        free(card.body);
        return false;
    }
    if (cacheable)
        card_cache_put(ctx->cards, code, card.body, card.len, card.etag, version);
    card_headers(req);
    mc_reply_stored_json(req, card.body, card.len, card.etag);
    free(card.body);
    return true;
}

/* The public card of the dossier with this code (or short code). */
static void public_card(mc_request *req, const char *code, bool by_short)
{
    struct tracking_ctx *ctx = tracking_ctx(req);
    bool given = false;
    mc_lookup_factor kind = MC_LOOKUP_ID_NUMBER;
    char hash[MC_LOOKUP_HASH_LEN + 1] = "";
    if (!read_factor(req, ctx, &given, &kind, hash) || !within_limits(req, ctx, code))
        return;
    bool cacheable = !given && !by_short && ctx->cards != NULL && atomic_load(&ctx->cards_trusted);
    if (cacheable && cached_card(req, ctx, code))
        return;
    uint64_t version = cacheable ? card_cache_version(ctx->cards, code) : 0;
    if (!given && stored_card(req, ctx, code, by_short, cacheable, version))
        return;
    struct tracked_dossier d;
    json_t *steps = NULL;
    mc_error rc = find(req, code, by_short, &d, &steps);
    if (rc == MC_ERR_NOT_FOUND) {
        mc_reply_error(req, MC_ERR_NOT_FOUND, NOT_FOUND_DETAIL);
        return;
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    bool match = given && mc_lookup_hash_equal(hash, kind == MC_LOOKUP_ID_NUMBER ? d.id_hash
                                                                                  : d.phone_hash);
    if (given && !match) {
        tracked_dossier_clear(&d);
        json_decref(steps);
        mc_reply_error(req, MC_ERR_NOT_FOUND, NOT_FOUND_DETAIL);
        return;
    }
    char short_code[TRACKING_SHORT_LEN + 1];
    bool has_short = lookup_short_code(ctx->lookup_key, ctx->lookup_key_len, d.dossier_id, short_code);
    json_t *body = card_view_json(&d, steps, match, match, has_short ? short_code : NULL);
    tracked_dossier_clear(&d);
    json_decref(steps);
    card_headers(req);
    if (!cacheable) {
        mc_reply_json_etag(req, 200, body, NULL);
        return;
    }
    size_t len = 0;
    char etag[MC_BODY_ETAG_MAX];
    char *text = mc_json_text_etag(body, &len, etag);
    if (text == NULL) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    card_cache_put(ctx->cards, code, text, len, etag, version);
    mc_reply_stored_json(req, text, len, etag);
    free(text);
}

/* A code in the path: false (after a 400) when it is not one. */
static bool code_ok(mc_request *req, const char *code)
{
    if (lookup_code_valid(code))
        return true;
    json_t *errors = json_array();
    mc_errors_add_param(errors, "code", "invalid",
                        "a dossier code: agency code, YYMMDD and sequence, e.g. 000.00.06.H56-231027-0361");
    return mc_query_ok(req, errors);
}

void handle_tracking_dossier_card(mc_request *req)
{
    const char *code = mc_path_param(req, "code");
    if (code_ok(req, code))
        public_card(req, code, false);
}

void handle_tracking_short_link(mc_request *req)
{
    const char *given = mc_path_param(req, "short");
    char code[TRACKING_SHORT_LEN + 1];
    if (!lookup_short_valid(given)) {
        json_t *errors = json_array();
        mc_errors_add_param(errors, "short", "invalid",
                            "a short code: 10 characters of 0-9 and A-Z without I, L, O, U");
        mc_query_ok(req, errors);
        return;
    }
    memcpy(code, given, TRACKING_SHORT_LEN + 1);
    lookup_short_normalise(code);
    public_card(req, code, true);
}

void handle_tracking_dossier_timeline(mc_request *req)
{
    const char *code = mc_path_param(req, "code");
    if (!code_ok(req, code))
        return;
    struct tracked_dossier d;
    json_t *steps = NULL;
    mc_error rc = find(req, code, false, &d, &steps);
    if (rc == MC_OK && !lookup_may_read_timeline(&req->principal, d.owner_sub, d.handling_agency,
                                                 d.transfer_chain)) {
        tracked_dossier_clear(&d);
        json_decref(steps);
        rc = MC_ERR_NOT_FOUND; /* as for an unknown code: codes cannot be probed */
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, rc == MC_ERR_NOT_FOUND ? "no dossier with this code that you may see"
                                                       : NULL);
        return;
    }
    char short_code[TRACKING_SHORT_LEN + 1];
    struct tracking_ctx *ctx = tracking_ctx(req);
    bool has_short = lookup_short_code(ctx->lookup_key, ctx->lookup_key_len, d.dossier_id, short_code);
    json_t *body = card_view_json(&d, steps, true, true, has_short ? short_code : NULL);
    tracked_dossier_clear(&d);
    json_decref(steps);
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json_etag(req, 200, body, NULL);
}
