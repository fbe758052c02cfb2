/*
 * Unit tests for common's catalogue client: its shared read-only documents and their
 * compiled form schemas, the cache (hits, staleness, revalidation, eviction, threads),
 * and the client's revalidation with If-None-Match against a scripted local HTTP server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "motcua/catalogue_client.h"

static json_t *J(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    if (v == NULL)
        fail_msg("bad test JSON: %s: %s", err.text, text);
    return v;
}

static const char k_procedure[] =
    "{\"code\": \"1.000001\", \"version\": 3, \"agency_codes\": [\"HN.01\", \"HN.02\"],"
    " \"cases\": ["
    "  {\"code\": \"default\", \"form_schema\": {\"type\": \"object\","
    "     \"required\": [\"id\"], \"properties\": {"
    "       \"id\": {\"type\": \"string\", \"pattern\": \"^[0-9]{12}$\"},"
    "       \"name\": {\"type\": \"string\", \"pattern\": \"^.{1,5}$\"}}}},"
    "  {\"code\": \"no_schema\"},"
    "  {\"code\": \"broken\", \"form_schema\": {\"type\": \"string\", \"pattern\": \"(\"}}"
    " ]}";

/* ---- Documents ---- */

static void test_doc_compiles_each_case_schema(void **state)
{
    (void)state;
    mc_catalogue_doc *doc = mc_catalogue_doc_new(J(k_procedure));
    assert_non_null(doc);
    const json_t *json = mc_catalogue_doc_json(doc);
    const json_t *cases = json_object_get(json, "cases");
    const json_t *with_schema = json_array_get(cases, 0);
    const json_t *without = json_array_get(cases, 1);
    const json_t *broken = json_array_get(cases, 2);

    const mc_form_schema *fs = mc_catalogue_doc_form_schema(doc, with_schema);
    assert_non_null(fs);
    assert_ptr_equal(mc_form_schema_json(fs), json_object_get(with_schema, "form_schema"));
    assert_null(mc_catalogue_doc_form_schema(doc, without));
    assert_null(mc_catalogue_doc_form_schema(doc, broken));
    /* a case of another document (an equal copy) is not this document's */
    json_t *copy = J(k_procedure);
    assert_null(mc_catalogue_doc_form_schema(doc, json_array_get(json_object_get(copy, "cases"), 0)));
    json_decref(copy);

    /* validation through the document: compiled, or the JSON (which reports what is
       malformed) when the schema did not compile */
    json_t *good = J("{\"id\": \"001190012345\", \"name\": \"Bình\"}");
    json_t *bad = J("{\"id\": \"0011\", \"name\": \"Nguyễn\"}");
    json_t *errors = json_array();
    assert_int_equal(mc_catalogue_validate_form(doc, with_schema, good, "/form_data", errors), 0);
    assert_int_equal(mc_catalogue_validate_form(doc, with_schema, bad, "/form_data", errors), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "pointer")),
                        "/form_data/id");
    json_t *x = json_string("x");
    assert_int_equal(mc_catalogue_validate_form(doc, broken, x, "", NULL), 1);
    json_decref(x);
    json_decref(errors);
    json_decref(good);
    json_decref(bad);

    /* a second holder keeps the document alive after the first lets go */
    const mc_catalogue_doc *second = mc_catalogue_doc_retain(doc);
    mc_catalogue_doc_release(doc);
    assert_int_equal(json_integer_value(json_object_get(mc_catalogue_doc_json(second), "version")),
                     3);
    mc_catalogue_doc_release(second);
    mc_catalogue_doc_release(NULL);
    assert_null(mc_catalogue_doc_new(NULL));
}

/* ---- The cache ---- */

static mc_catalogue_doc *doc_named(const char *name)
{
    mc_catalogue_doc *doc = mc_catalogue_doc_new(json_pack("{ss}", "name", name));
    assert_non_null(doc);
    return doc;
}

static const char *name_of(const mc_catalogue_doc *doc)
{
    return json_string_value(json_object_get(mc_catalogue_doc_json(doc), "name"));
}

static void test_cache_fresh_stale_and_revalidated(void **state)
{
    (void)state;
    mc_catalogue_cache *c = mc_catalogue_cache_new(64);
    const mc_catalogue_doc *got = NULL;
    char etag[160];
    assert_int_equal(mc_catalogue_cache_get(c, "/a", 0, 1000, &got, etag, sizeof etag),
                     MC_CATALOGUE_MISS);
    assert_null(got);

    mc_catalogue_doc *a = doc_named("a");
    mc_catalogue_cache_put(c, "/a", a, "\"v1\"", false, 1000);
    mc_catalogue_doc *v = doc_named("v");
    mc_catalogue_cache_put(c, "/v", v, "\"v9\"", true, 1000);
    assert_int_equal(mc_catalogue_cache_count(c), 2);

    /* fresh within max_age, with its ETag; the very document put */
    assert_int_equal(mc_catalogue_cache_get(c, "/a", 1999, 1000, &got, etag, sizeof etag),
                     MC_CATALOGUE_FRESH);
    assert_ptr_equal(got, a);
    assert_string_equal(etag, "\"v1\"");
    mc_catalogue_doc_release(got);

    /* stale once max_age has passed: still handed out, with the ETag to revalidate */
    assert_int_equal(mc_catalogue_cache_get(c, "/a", 2000, 1000, &got, etag, sizeof etag),
                     MC_CATALOGUE_STALE);
    assert_ptr_equal(got, a);
    assert_string_equal(etag, "\"v1\"");
    /* a 304: the same document put again is fresh again, not replaced */
    mc_catalogue_cache_put(c, "/a", got, etag, false, 2000);
    mc_catalogue_doc_release(got);
    assert_int_equal(mc_catalogue_cache_get(c, "/a", 2500, 1000, &got, etag, sizeof etag),
                     MC_CATALOGUE_FRESH);
    assert_ptr_equal(got, a);
    mc_catalogue_doc_release(got);

    /* an immutable entry (a published version) is never stale */
    assert_int_equal(mc_catalogue_cache_get(c, "/v", 1000000, 1000, &got, etag, sizeof etag),
                     MC_CATALOGUE_FRESH);
    mc_catalogue_doc_release(got);

    /* a 200 with a new document replaces it; a holder of the old one keeps it intact */
    const mc_catalogue_doc *old = NULL;
    mc_catalogue_cache_get(c, "/a", 5000, 1000, &old, NULL, 0);
    mc_catalogue_doc *a2 = doc_named("a2");
    mc_catalogue_cache_put(c, "/a", a2, "\"v2\"", false, 5000);
    mc_catalogue_doc_release(a2);
    mc_catalogue_doc_release(a);
    assert_string_equal(name_of(old), "a");
    mc_catalogue_doc_release(old);
    assert_int_equal(mc_catalogue_cache_get(c, "/a", 5001, 1000, &got, etag, sizeof etag),
                     MC_CATALOGUE_FRESH);
    assert_string_equal(name_of(got), "a2");
    assert_string_equal(etag, "\"v2\"");
    mc_catalogue_doc_release(got);
    assert_int_equal(mc_catalogue_cache_count(c), 2);

    mc_catalogue_doc_release(v);
    mc_catalogue_cache_free(c);
}

static bool held(mc_catalogue_cache *c, const char *key, long long now)
{
    const mc_catalogue_doc *got = NULL;
    enum mc_catalogue_lookup r = mc_catalogue_cache_get(c, key, now, 1000000, &got, NULL, 0);
    mc_catalogue_doc_release(got);
    return r != MC_CATALOGUE_MISS;
}

static void put_new(mc_catalogue_cache *c, const char *key, long long now)
{
    mc_catalogue_doc *doc = doc_named(key);
    mc_catalogue_cache_put(c, key, doc, "", true, now);
    mc_catalogue_doc_release(doc);
}

static void test_cache_bounded_and_evicts_least_recently_used(void **state)
{
    (void)state;
    /* bounded: 16 entries at most, however many keys */
    mc_catalogue_cache *small = mc_catalogue_cache_new(16);
    char key[32];
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof key, "/k/%d", i);
        put_new(small, key, i);
        assert_true(mc_catalogue_cache_count(small) <= 16);
    }
    assert_true(mc_catalogue_cache_count(small) >= 8);
    mc_catalogue_cache_free(small);

    /* Find two keys that share the stripe of "/a": in a cache of one entry per
       stripe, a key whose insertion evicts "/a" is in its stripe. */
    char same[2][32];
    int found = 0;
    for (int i = 0; i < 10000 && found < 2; i++) {
        mc_catalogue_cache *probe = mc_catalogue_cache_new(16);
        put_new(probe, "/a", 0);
        snprintf(key, sizeof key, "/x/%d", i);
        put_new(probe, key, 1);
        if (!held(probe, "/a", 2))
            snprintf(same[found++], sizeof same[0], "%s", key);
        mc_catalogue_cache_free(probe);
    }
    assert_int_equal(found, 2);

    /* two entries per stripe: the one not used for longest goes */
    mc_catalogue_cache *c = mc_catalogue_cache_new(32);
    put_new(c, "/a", 1);
    put_new(c, same[0], 2);
    const mc_catalogue_doc *kept = NULL; /* a reader still holding same[0] */
    assert_int_equal(mc_catalogue_cache_get(c, same[0], 3, 1000000, &kept, NULL, 0),
                     MC_CATALOGUE_FRESH);
    assert_true(held(c, "/a", 4)); /* "/a" is now the more recently used */
    put_new(c, same[1], 5);
    assert_true(held(c, "/a", 6));
    assert_true(held(c, same[1], 6));
    assert_false(held(c, same[0], 6));
    /* evicted, yet the holder's reference is still a whole document */
    assert_string_equal(name_of(kept), same[0]);
    mc_catalogue_doc_release(kept);
    mc_catalogue_cache_free(c);
}

/* Threads share a cache smaller than their key set: lookups, puts, replacements and
   evictions race; every document handed out must be the one for its key. */
struct worker {
    mc_catalogue_cache *cache;
    unsigned seed;
    size_t wrong, hits;
};

static void *cache_worker(void *p)
{
    struct worker *w = p;
    char key[32];
    for (int i = 0; i < 4000; i++) {
        unsigned r = (unsigned)rand_r(&w->seed);
        snprintf(key, sizeof key, "/procedures/%u", r % 96);
        const mc_catalogue_doc *got = NULL;
        enum mc_catalogue_lookup found =
            mc_catalogue_cache_get(w->cache, key, i, 50, &got, NULL, 0);
        if (found != MC_CATALOGUE_MISS) {
            w->hits++;
            if (strcmp(name_of(got), key) != 0)
                w->wrong++;
        }
        if (found != MC_CATALOGUE_FRESH) {
            mc_catalogue_doc *doc = doc_named(key);
            mc_catalogue_cache_put(w->cache, key, doc, "\"e\"", false, i);
            mc_catalogue_doc_release(doc);
        }
        mc_catalogue_doc_release(got);
    }
    return NULL;
}

static void test_cache_threads(void **state)
{
    (void)state;
    mc_catalogue_cache *c = mc_catalogue_cache_new(64);
    pthread_t threads[4];
    struct worker workers[4];
    for (unsigned i = 0; i < 4; i++) {
        workers[i] = (struct worker){.cache = c, .seed = 7 + i};
        assert_int_equal(pthread_create(&threads[i], NULL, cache_worker, &workers[i]), 0);
    }
    size_t hits = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(workers[i].wrong, 0);
        hits += workers[i].hits;
    }
    assert_true(hits > 0);
    assert_true(mc_catalogue_cache_count(c) <= 64);
    mc_catalogue_cache_free(c);
}

/* ---- The client against a scripted HTTP server ---- */

struct fake_catalogue {
    int listener;
    int port;
    atomic_int requests;        /* requests answered */
    atomic_int not_modified;    /* of which 304 */
    atomic_int down;            /* answer 503 to everything */
    char last_if_none_match[160];
    pthread_mutex_t mu;
    pthread_t thread;
};

static const char k_agency[] =
    "{\"code\": \"HN.01\", \"name\": \"UBND\", \"same_day_cutoff\": \"15:00\","
    " \"office_hours\": [{\"start\": \"08:00\", \"end\": \"12:00\"}]}";

static void answer(int fd, struct fake_catalogue *f)
{
    char req[4096];
    size_t len = 0;
    while (len < sizeof req - 1) {
        ssize_t n = recv(fd, req + len, sizeof req - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            break;
    }
    req[len] = '\0';
    char path[256] = "";
    sscanf(req, "GET %255s", path);
    char inm[160] = "";
    const char *h = strcasestr(req, "\r\nIf-None-Match:");
    if (h != NULL)
        sscanf(h + 16, " %159[^\r]", inm);
    pthread_mutex_lock(&f->mu);
    snprintf(f->last_if_none_match, sizeof f->last_if_none_match, "%s", inm);
    pthread_mutex_unlock(&f->mu);

    char head[512];
    const char *body = "";
    if (atomic_load(&f->down)) {
        snprintf(head, sizeof head, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                    "Connection: close\r\n\r\n");
    } else if (strcmp(path, "/api/v1/agencies/HN.01") != 0) {
        snprintf(head, sizeof head, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                    "Connection: close\r\n\r\n");
    } else if (strcmp(inm, "\"agency-1\"") == 0) {
        atomic_fetch_add(&f->not_modified, 1);
        snprintf(head, sizeof head, "HTTP/1.1 304 Not Modified\r\nETag: \"agency-1\"\r\n"
                                    "Connection: close\r\n\r\n");
    } else {
        body = k_agency;
        snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: \"agency-1\"\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                 strlen(body));
    }
    atomic_fetch_add(&f->requests, 1);
    if (send(fd, head, strlen(head), MSG_NOSIGNAL) > 0 && body[0] != '\0')
        send(fd, body, strlen(body), MSG_NOSIGNAL);
}

static void *fake_catalogue_run(void *p)
{
    struct fake_catalogue *f = p;
    for (;;) {
        int fd = accept(f->listener, NULL, NULL);
        if (fd < 0)
            return NULL; /* listener shut down */
        answer(fd, f);
        close(fd);
    }
}

static void fake_catalogue_start(struct fake_catalogue *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->listener = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->listener >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->listener, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(f->listener, 16), 0);
    socklen_t alen = sizeof addr;
    assert_int_equal(getsockname(f->listener, (struct sockaddr *)&addr, &alen), 0);
    f->port = ntohs(addr.sin_port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_catalogue_run, f), 0);
}

static void fake_catalogue_stop(struct fake_catalogue *f)
{
    shutdown(f->listener, SHUT_RDWR);
    close(f->listener);
    pthread_join(f->thread, NULL);
    pthread_mutex_destroy(&f->mu);
}

/* The If-None-Match of the last request (read under the server's lock). */
static const char *last_if_none_match(struct fake_catalogue *f)
{
    static char copy[160];
    pthread_mutex_lock(&f->mu);
    snprintf(copy, sizeof copy, "%s", f->last_if_none_match);
    pthread_mutex_unlock(&f->mu);
    return copy;
}

static void test_client_revalidates_with_etag(void **state)
{
    (void)state;
    struct fake_catalogue f;
    fake_catalogue_start(&f);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", f.port);

    /* cache_seconds 0: every read is revalidated */
    mc_catalogue_client *c = mc_catalogue_client_new(base, 0);
    assert_non_null(c);
    const mc_catalogue_doc *first = NULL, *second = NULL;
    assert_int_equal(mc_catalogue_agency(c, "HN.01", &first), MC_OK);
    assert_int_equal(atomic_load(&f.requests), 1);
    assert_string_equal(last_if_none_match(&f), "");
    assert_int_equal(mc_catalogue_agency(c, "HN.01", &second), MC_OK);
    assert_int_equal(atomic_load(&f.requests), 2);
    assert_int_equal(atomic_load(&f.not_modified), 1);
    assert_string_equal(last_if_none_match(&f), "\"agency-1\"");
    assert_ptr_equal(first, second); /* the 304 kept the held document */
    assert_string_equal(json_string_value(json_object_get(mc_catalogue_doc_json(second), "name")),
                        "UBND");
    mc_catalogue_doc_release(first);
    mc_catalogue_doc_release(second);

    /* unknown agency: the client's 404 meaning */
    const mc_catalogue_doc *none = NULL;
    assert_int_equal(mc_catalogue_agency(c, "HN.99", &none), MC_ERR_AGENCY_NOT_FOUND);
    assert_null(none);

    /* catalogue down: the copy held is used; nothing held: unavailable */
    atomic_store(&f.down, 1);
    assert_int_equal(mc_catalogue_agency(c, "HN.01", &first), MC_OK);
    assert_non_null(first);
    mc_catalogue_doc_release(first);
    assert_int_equal(mc_catalogue_procedure_current(c, "1.000001", &none),
                     MC_ERR_CATALOGUE_UNAVAILABLE);
    assert_null(none);
    mc_catalogue_client_free(c);

    /* with a cache time, a second read within it does not reach the catalogue */
    atomic_store(&f.down, 0);
    c = mc_catalogue_client_new(base, 60);
    int before = atomic_load(&f.requests);
    assert_int_equal(mc_catalogue_agency(c, "HN.01", &first), MC_OK);
    assert_int_equal(mc_catalogue_agency(c, "HN.01", &second), MC_OK);
    assert_int_equal(atomic_load(&f.requests), before + 1);
    mc_catalogue_doc_release(first);
    mc_catalogue_doc_release(second);
    mc_catalogue_client_free(c);
    fake_catalogue_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_compiles_each_case_schema),
        cmocka_unit_test(test_cache_fresh_stale_and_revalidated),
        cmocka_unit_test(test_cache_bounded_and_evicts_least_recently_used),
        cmocka_unit_test(test_cache_threads),
        cmocka_unit_test(test_client_revalidates_with_etag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
