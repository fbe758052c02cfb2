/*
 * Fuzz target router: mc_router_match (common/src/router.c, declared in
 * common/src/internal.h).
 *
 * Input: METHOD SP PATH (like an HTTP request line without the version); without a space
 * the method is "GET" and the whole input is the path. Both stop at the first NUL, as the
 * C strings from libmicrohttpd would. The route table mixes literal and {variable}
 * segments, several methods per path, a literal beating a variable (due-date vs {year}),
 * the root, an empty variable name and a route with more variables than
 * MC_MAX_PATH_PARAMS.
 *
 * Invariants besides memory safety, against an independent oracle written here from the
 * contract (router.c and internal.h): the index is the first route with this method
 * whose pattern fits the path with the most literal segments, or -1; a variable takes
 * any non-empty segment; parameters are at most MC_MAX_PATH_PARAMS, one per variable
 * segment in order, percent-decoded, and a malformed escape or %00 in one of them turns
 * the match into a plain miss (-1, path not "known", no parameters); a path-known miss
 * lists at least one method in Allow; Allow is terminated within its buffer, and a
 * small buffer changes nothing but the Allow text (which it may cut).
 */
#include "fuzz_util.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h(mc_request *req)
{
    (void)req;
}

static const struct mc_route k_routes[] = {
    {"GET", "/api/v1/procedures", h, MC_AUTH_NONE, 0, 0},
    {"POST", "/api/v1/procedures", h, MC_AUTH_REQUIRED, 0, MC_ROUTE_JSON_BODY},
    {"GET", "/api/v1/procedures/{code}", h, MC_AUTH_NONE, 0, 0},
    {"PUT", "/api/v1/procedures/{code}", h, MC_AUTH_REQUIRED, 0, MC_ROUTE_JSON_BODY},
    {"GET", "/api/v1/procedures/{code}/versions/{version}", h, MC_AUTH_NONE, 0, 0},
    {"GET", "/api/v1/calendar/{year}", h, MC_AUTH_NONE, 0, 0},
    {"GET", "/api/v1/calendar/due-date", h, MC_AUTH_NONE, 0, 0},
    {"PUT", "/api/v1/calendar/days/{date}", h, MC_AUTH_REQUIRED, 0, 0},
    {"DELETE", "/api/v1/calendar/days/{date}", h, MC_AUTH_REQUIRED, 0, 0},
    {"POST", "/api/v1/dossiers", h, MC_AUTH_REQUIRED, 0, MC_ROUTE_JSON_BODY | MC_ROUTE_IDEMPOTENT},
    {"GET", "/api/v1/dossiers/{id}", h, MC_AUTH_REQUIRED, 0, 0},
    {"PATCH", "/api/v1/dossiers/{id}", h, MC_AUTH_REQUIRED, 0, MC_ROUTE_JSON_BODY},
    {"POST", "/api/v1/dossiers/{id}/attachments", h, MC_AUTH_REQUIRED, 0, 0},
    {"GET", "/api/v1/dossiers/{id}/attachments/{attachment_id}", h, MC_AUTH_REQUIRED, 0, 0},
    {"POST", "/api/v1/dossiers/{id}/{action}", h, MC_AUTH_REQUIRED, 0, 0},
    {"GET", "/healthz", h, MC_AUTH_NONE, 0, 0},
    {"GET", "/", h, MC_AUTH_NONE, 0, 0},
    {"GET", "/odd/{}/{", h, MC_AUTH_NONE, 0, 0},
    {"GET", "/many/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}", h, MC_AUTH_NONE, 0, 0},
};
#define N_ROUTES (sizeof k_routes / sizeof k_routes[0])

/* Segment i (0-based) of a path or pattern, or NULL; *len gets its length. */
static const char *segment(const char *s, size_t i, size_t *len)
{
    if (*s != '/')
        return NULL;
    const char *p = s + 1;
    for (size_t k = 0; k < i; k++) {
        p = strchr(p, '/');
        if (p == NULL)
            return NULL;
        p++;
    }
    const char *end = strchr(p, '/');
    *len = end != NULL ? (size_t)(end - p) : strlen(p);
    return p;
}

static size_t count_segments(const char *s)
{
    size_t n = 0, len;
    while (segment(s, n, &len) != NULL)
        n++;
    return n;
}

static bool is_variable(const char *seg, size_t len)
{
    return len >= 2 && seg[0] == '{';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes seg[0..len) into out (len + 1 bytes); false for a malformed escape or
   an encoded NUL. */
static bool decode(const char *seg, size_t len, char *out, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (seg[i] != '%') {
            out[o++] = seg[i];
            continue;
        }
        if (i + 2 >= len)
            return false;
        int h = hex_digit(seg[i + 1]), l = hex_digit(seg[i + 2]);
        if (h < 0 || l < 0 || (h == 0 && l == 0))
            return false;
        out[o++] = (char)(h * 16 + l);
        i += 2;
    }
    out[o] = '\0';
    *out_len = o;
    return true;
}

/* Literal segments + 1 when the pattern fits the path (at most 16 segments), else 0. */
static int fit(const char *pattern, const char *path)
{
    size_t n = count_segments(pattern);
    if (n != count_segments(path) || n == 0 || n > 16)
        return 0;
    int score = 1;
    for (size_t i = 0; i < n; i++) {
        size_t plen, slen;
        const char *pseg = segment(pattern, i, &plen);
        const char *sseg = segment(path, i, &slen);
        if (is_variable(pseg, plen)) {
            if (slen == 0)
                return 0;
        } else if (plen != slen || memcmp(pseg, sseg, plen) != 0) {
            return 0;
        } else {
            score++;
        }
    }
    return score;
}

static void check_match(int r, bool known, const char *method, const char *path,
                        const mc_request *req)
{
    FUZZ_CHECK(r >= -1 && r < (int)N_ROUTES, "index %d out of range", r);
    int best = -1, best_score = 0;
    bool other = false;
    for (size_t i = 0; i < N_ROUTES; i++) {
        int score = fit(k_routes[i].pattern, path);
        if (score == 0)
            continue;
        if (strcmp(k_routes[i].method, method) != 0) {
            other = true;
        } else if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    if (best < 0) {
        FUZZ_CHECK(r == -1 && known == other,
                   "%s %s: expected a miss (path known: %d), got %d (known: %d)", method, path,
                   other, r, known);
        FUZZ_CHECK(req->n_path_params == 0, "parameters left on a miss");
        return;
    }
    /* The best route: its first MC_MAX_PATH_PARAMS variables must decode. */
    const char *pattern = k_routes[best].pattern;
    size_t n = count_segments(pattern), param = 0;
    bool decodable = true;
    char value[600];
    for (size_t i = 0; i < n && param < MC_MAX_PATH_PARAMS; i++) {
        size_t plen, slen, vlen;
        const char *pseg = segment(pattern, i, &plen);
        const char *sseg = segment(path, i, &slen);
        if (!is_variable(pseg, plen))
            continue;
        param++;
        if (slen >= sizeof value || !decode(sseg, slen, value, &vlen))
            decodable = false;
    }
    if (!decodable) {
        FUZZ_CHECK(r == -1 && !known && req->n_path_params == 0,
                   "%s %s: a malformed escape should be a plain miss, got %d (known %d, %zu "
                   "parameters)",
                   method, path, r, known, req->n_path_params);
        return;
    }
    FUZZ_CHECK(r == best, "%s %s: matched route %d (%s) instead of %d (%s)", method, path, r,
               r >= 0 ? k_routes[r].pattern : "-", best, pattern);
    param = 0;
    for (size_t i = 0; i < n && param < MC_MAX_PATH_PARAMS; i++) {
        size_t plen, slen, vlen = 0;
        const char *pseg = segment(pattern, i, &plen);
        const char *sseg = segment(path, i, &slen);
        if (!is_variable(pseg, plen))
            continue;
        FUZZ_CHECK(param < req->n_path_params, "missing parameter %zu", param);
        const char *name = req->path_names[param];
        const char *got = req->path_values[param];
        FUZZ_CHECK(name != NULL && got != NULL, "NULL parameter %zu", param);
        FUZZ_CHECK(strlen(name) == plen - 2 && memcmp(name, pseg + 1, plen - 2) == 0,
                   "parameter %zu is named %s in %s", param, name, pattern);
        decode(sseg, slen, value, &vlen);
        FUZZ_CHECK(strlen(got) == vlen && memcmp(got, value, vlen) == 0,
                   "parameter %s = \"%s\" for path %s", name, got, path);
        param++;
    }
    FUZZ_CHECK(req->n_path_params == param, "%zu parameters instead of %zu",
               req->n_path_params, param);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_strndup(data, size);
    const char *method = "GET", *path = line;
    char *sp = strchr(line, ' ');
    if (sp != NULL) {
        *sp = '\0';
        method = line;
        path = sp + 1;
    }

    mc_request req;
    char allow[128];
    bool known = false;
    memset(&req, 0, sizeof req);
    memset(allow, 'x', sizeof allow);
    int r = mc_router_match(k_routes, N_ROUTES, method, path, &req, allow, sizeof allow, &known);
    FUZZ_CHECK(memchr(allow, '\0', sizeof allow) != NULL, "Allow is not terminated");
    check_match(r, known, method, path, &req);
    if (r < 0 && known)
        FUZZ_CHECK(allow[0] != '\0', "path %s is known but Allow is empty", path);
    mc_router_free_params(&req);
    FUZZ_CHECK(req.n_path_params == 0, "mc_router_free_params left parameters");

    /* A tiny Allow buffer: same outcome, Allow cut but terminated. */
    char small[6];
    bool known2 = false;
    memset(&req, 0, sizeof req);
    memset(small, 'x', sizeof small);
    int r2 = mc_router_match(k_routes, N_ROUTES, method, path, &req, small, sizeof small, &known2);
    FUZZ_CHECK(r2 == r && known2 == known, "the Allow buffer size changed the match");
    FUZZ_CHECK(memchr(small, '\0', sizeof small) != NULL, "small Allow is not terminated");
    mc_router_free_params(&req);

    free(line);
    return 0;
}
