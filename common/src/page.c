/*
 * Keyset pagination: `limit` and an opaque `cursor`.
 *
 * The cursor is the base64url encoding of a JSON array holding the sort keys
 * of the last item of the previous page; the store continues strictly after
 * it, so pages never skip or repeat rows when others are inserted meanwhile,
 * and deep pages cost the same as the first. The cursor is not secret (it
 * only holds sort keys the caller has already seen); a forged one is
 * validated like any other input and can at worst start a page elsewhere.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "motcua/db.h"
#include "motcua/json_spec.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64url_encode(const unsigned char *in, size_t len)
{
    char *out = malloc(len * 4 / 3 + 4);
    if (out == NULL)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = b64url_alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return out;
}

static long b64url_decode(const char *in, unsigned char *out, size_t cap)
{
    size_t len = strlen(in), o = 0;
    unsigned acc = 0;
    int bits = 0;
    if (len % 4 == 1)
        return -1;
    for (size_t i = 0; i < len; i++) {
        const char *p = strchr(b64url_alphabet, in[i]);
        if (p == NULL || in[i] == '\0')
            return -1;
        acc = (acc << 6) | (unsigned)(p - b64url_alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)((acc >> bits) & 0xFF);
        }
    }
    return (long)o;
}

static void add_invalid_cursor(json_t *errors)
{
    mc_errors_add_param(errors, "cursor", "invalid_cursor",
                        "is not a cursor this endpoint produced; start again without it");
}

bool mc_page_parse(const mc_request *req, unsigned default_limit, unsigned max_limit,
                   size_t cursor_arity, unsigned *limit, json_t **cursor_keys, json_t *errors)
{
    bool ok = true;
    size_t problems_before = json_array_size(errors);
    *limit = default_limit;
    *cursor_keys = NULL;
    if (!mc_query_uint(req, "limit", 1, max_limit, limit, NULL, errors))
        ok = false;
    const char *cursor = mc_query_str(req, "cursor", 1300, errors);
    if (cursor == NULL)
        return ok && json_array_size(errors) == problems_before;
    unsigned char buf[1024];
    long n = strlen(cursor) <= 1300 ? b64url_decode(cursor, buf, sizeof buf) : -1;
    json_t *keys = n > 0 ? json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    bool shape_ok = json_is_array(keys) && json_array_size(keys) == cursor_arity;
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        if (!json_is_string(k) && !json_is_integer(k) && !json_is_real(k))
            shape_ok = false;
    }
    if (!shape_ok) {
        json_decref(keys);
        add_invalid_cursor(errors);
        return false;
    }
    *cursor_keys = keys;
    return ok;
}

/* The next_cursor token of a page: base64url of the keys' compact JSON, as
   a new JSON string (json null for none, or when out of memory). Steals keys. */
static json_t *cursor_token(json_t *keys)
{
    json_t *cursor = json_null();
    if (keys != NULL) {
        char *text = json_dumps(keys, JSON_COMPACT);
        char *encoded = text != NULL ? b64url_encode((const unsigned char *)text, strlen(text)) : NULL;
        if (encoded != NULL)
            cursor = json_string(encoded);
        free(text);
        free(encoded);
        json_decref(keys);
    }
    return cursor;
}

json_t *mc_page_body(json_t *items, json_t *next_cursor_keys)
{
    return json_pack("{so so}", "items", items, "next_cursor", cursor_token(next_cursor_keys));
}

char *mc_page_body_text(const char *const *items, size_t n, json_t *next_cursor_keys, size_t *len)
{
    json_t *cursor = cursor_token(next_cursor_keys);
    char *cursor_text = json_dumps(cursor, JSON_ENCODE_ANY);
    json_decref(cursor);
    if (cursor_text == NULL)
        return NULL;
    static const char head[] = "{\"items\":[", tail[] = "],\"next_cursor\":";
    size_t total = sizeof head - 1 + sizeof tail - 1 + strlen(cursor_text) + 2;
    for (size_t i = 0; i < n; i++)
        total += strlen(items[i]) + 1;
    char *out = malloc(total);
    if (out != NULL) {
        size_t o = 0;
        memcpy(out, head, sizeof head - 1);
        o += sizeof head - 1;
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                out[o++] = ',';
            size_t l = strlen(items[i]);
            memcpy(out + o, items[i], l);
            o += l;
        }
        memcpy(out + o, tail, sizeof tail - 1);
        o += sizeof tail - 1;
        size_t l = strlen(cursor_text);
        memcpy(out + o, cursor_text, l);
        o += l;
        out[o++] = '}';
        out[o] = '\0';
        *len = o;
    }
    free(cursor_text);
    return out;
}

const char *mc_page_cursor_string(const json_t *keys, size_t i, bool (*valid)(const char *),
                                  json_t *errors)
{
    const char *s = json_string_value(json_array_get(keys, i));
    if (s == NULL || (valid != NULL && !valid(s))) {
        add_invalid_cursor(errors);
        return NULL;
    }
    return s;
}

void mc_reply_page(mc_request *req, mc_error rc, json_t *items, json_t *next_keys)
{
    if (rc != MC_OK) {
        json_decref(items);
        json_decref(next_keys);
        mc_reply_error(req, rc, NULL);
        return;
    }
    /* A page is cacheable too: its ETag is a hash of the body. */
    mc_reply_json_etag(req, 200, mc_page_body(items, next_keys), NULL);
}

bool mc_no_errors(mc_request *req, mc_error err, json_t *errors)
{
    if (json_array_size(errors) == 0) {
        json_decref(errors);
        return true;
    }
    mc_reply_errors(req, err, errors);
    return false;
}

bool mc_query_ok(mc_request *req, json_t *errors)
{
    return mc_no_errors(req, MC_ERR_BAD_QUERY, errors);
}

void mc_reply_list(mc_request *req, json_t *errors, json_t *cursor, mc_list_fn list,
                   const void *query, unsigned limit)
{
    if (errors != NULL && !mc_query_ok(req, errors)) {
        json_decref(cursor);
        return;
    }
    json_t *items = NULL, *next_keys = NULL;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = list(conn, query, limit, &items, &next_keys);
        mc_db_release(mc_request_db(req), conn);
    }
    json_decref(cursor);
    mc_reply_page(req, rc, items, next_keys);
}

void mc_reply_keyed_list(mc_request *req, unsigned default_limit, unsigned max_limit,
                         bool (*valid_key)(const char *), mc_list_fn list)
{
    json_t *errors = mc_errors_new();
    unsigned limit = 0;
    json_t *cursor = NULL;
    const char *after = NULL;
    if (mc_page_parse(req, default_limit, max_limit, 1, &limit, &cursor, errors) && cursor != NULL)
        after = mc_page_cursor_string(cursor, 0, valid_key, errors);
    mc_reply_list(req, errors, cursor, list, after, limit);
}
