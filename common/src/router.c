/*
 * The route table matcher. ulfius' own router cannot tell "unknown path"
 * (404) from "known path, wrong method" (405 with Allow), and would need one
 * registration per route per service; so every request reaches one ulfius
 * default endpoint and is matched here against the service's table.
 *
 * Patterns are literal segments and {name} variables ("/api/v1/procedures/
 * {code}/versions/{version}"). When several routes match, the one with more
 * literal segments wins (so /calendar/due-date beats /calendar/{year}).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "motcua/url.h"

#define MAX_SEGMENTS 16

struct segment {
    const char *start;
    size_t len;
};

static size_t split(const char *path, struct segment *out, size_t max, bool *too_many)
{
    size_t n = 0;
    *too_many = false;
    const char *p = path;
    if (*p != '/')
        return 0;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n == max) {
            *too_many = true;
            return n;
        }
        out[n].start = p;
        out[n].len = len;
        n++;
        p += len;
    }
    return n;
}

/* Score of a match (literal segments + 1), or 0 when the path does not fit. */
static int match_score(const struct segment *pat, size_t npat, const struct segment *path,
                       size_t npath)
{
    if (npat != npath)
        return 0;
    int score = 1;
    for (size_t i = 0; i < npat; i++) {
        bool variable = pat[i].len >= 2 && pat[i].start[0] == '{';
        if (variable) {
            if (path[i].len == 0)
                return 0;
        } else {
            if (pat[i].len != path[i].len || memcmp(pat[i].start, path[i].start, pat[i].len) != 0)
                return 0;
            score++;
        }
    }
    return score;
}

/* Percent-decode one path segment (ulfius hands the path over still
   encoded); malloc'd, the caller frees. NULL for a malformed escape or an
   encoded NUL (mc_url_decode refuses both): such a path names no resource.
   '+' stays a '+' in a path, and UTF-8 validity is left to the handlers'
   checks. */
static char *decode_segment(const char *in, size_t len)
{
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    if (mc_url_decode(in, len, out, 0, NULL) != MC_URL_OK) {
        free(out);
        return NULL;
    }
    return out;
}

int mc_router_match(const struct mc_route *routes, size_t n_routes, const char *method,
                    const char *path, mc_request *req, char *allow, size_t allow_len,
                    bool *path_known)
{
    struct segment path_seg[MAX_SEGMENTS], pat_seg[MAX_SEGMENTS];
    bool too_many;
    size_t npath = split(path, path_seg, MAX_SEGMENTS, &too_many);
    *path_known = false;
    if (allow_len > 0)
        allow[0] = '\0';
    if (npath == 0 || too_many)
        return -1;
    int best = -1, best_score = 0;
    size_t allow_used = 0;
    for (size_t r = 0; r < n_routes; r++) {
        bool dummy;
        size_t npat = split(routes[r].pattern, pat_seg, MAX_SEGMENTS, &dummy);
        int score = match_score(pat_seg, npat, path_seg, npath);
        if (score == 0)
            continue;
        if (strcmp(routes[r].method, method) == 0) {
            if (score > best_score) {
                best = (int)r;
                best_score = score;
            }
        } else {
            *path_known = true;
        }
    }
    /* Allow lists the methods of the most specific matching pattern(s). */
    if (best < 0 && *path_known) {
        int top = 0;
        for (size_t r = 0; r < n_routes; r++) {
            bool dummy;
            size_t npat = split(routes[r].pattern, pat_seg, MAX_SEGMENTS, &dummy);
            int s = match_score(pat_seg, npat, path_seg, npath);
            if (s > top)
                top = s;
        }
        for (size_t r = 0; r < n_routes; r++) {
            bool dummy;
            size_t npat = split(routes[r].pattern, pat_seg, MAX_SEGMENTS, &dummy);
            if (match_score(pat_seg, npat, path_seg, npath) != top)
                continue;
            if (strstr(allow, routes[r].method) != NULL)
                continue;
            int w = snprintf(allow + allow_used, allow_len - allow_used, "%s%s",
                             allow_used > 0 ? ", " : "", routes[r].method);
            if (w > 0 && (size_t)w < allow_len - allow_used)
                allow_used += (size_t)w;
        }
        return -1;
    }
    if (best < 0)
        return -1;
    bool dummy;
    size_t npat = split(routes[best].pattern, pat_seg, MAX_SEGMENTS, &dummy);
    req->n_path_params = 0;
    for (size_t i = 0; i < npat && req->n_path_params < MC_MAX_PATH_PARAMS; i++) {
        if (pat_seg[i].len >= 2 && pat_seg[i].start[0] == '{') {
            char *value = decode_segment(path_seg[i].start, path_seg[i].len);
            if (value == NULL) {
                mc_router_free_params(req);
                *path_known = false; /* names no resource: 404, not 405 */
                return -1;
            }
            req->path_names[req->n_path_params] = strndup(pat_seg[i].start + 1, pat_seg[i].len - 2);
            req->path_values[req->n_path_params] = value;
            req->n_path_params++;
        }
    }
    return best;
}

void mc_router_free_params(mc_request *req)
{
    for (size_t i = 0; i < req->n_path_params; i++) {
        free((char *)req->path_names[i]);
        free(req->path_values[i]);
    }
    req->n_path_params = 0;
}
