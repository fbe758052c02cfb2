/*
 * The S3-compatible object-store document storage (storage.h), chosen with
 * MOTCUA_DOSSIER_STORAGE=s3: every instance of the service reads and writes
 * the same bucket, so a document uploaded through one replica downloads
 * through any other.
 *
 * Plain HTTP through libcurl, path-style addressing (<endpoint>/<bucket>/<key>:
 * works with AWS S3, MinIO, Ceph RGW, SeaweedFS, Garage and the like), every
 * request signed with AWS Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4)
 * with the keys read from two secret files. The payload of a PUT is signed by
 * its SHA-256 (x-amz-content-sha256), so the store refuses bytes damaged on
 * the way; reads send the hash of the empty body.
 *
 *   put     PUT of the whole upload under a new key (the same key scheme as
 *           the filesystem: "hh/hh/<uuid>"). S3 makes an object visible only
 *           once it is whole, so a key handed out always names whole bytes.
 *   open    HEAD for the size, then ranged GETs of READ_CHUNK bytes as the
 *           response is sent: a large file never sits in memory whole.
 *   remove  DELETE (a missing object is fine).
 *   each_old  ListObjectsV2 pages, for the sweeper's unnamed files.
 */
#include <curl/curl.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motcua/config.h"
#include "motcua/log.h"
#include "motcua/secret_file.h"
#include "storage.h"

#define READ_CHUNK (1u << 20)     /* bytes fetched per ranged GET while sending */
#define LIST_BYTES_MAX (4u << 20) /* a ListObjectsV2 page (1000 keys) is ~300 KB */
#define CONNECT_TIMEOUT_S 5L
#define PUT_TIMEOUT_S 300L /* a PUT of the largest upload on a slow link */
/* HEAD, a ranged GET, DELETE, a listing page: a stuck store frees the
   request's worker thread within this */
#define READ_TIMEOUT_S 30L
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct dossier_s3 {
    char endpoint[512]; /* scheme://host[:port][/prefix], no trailing slash */
    char bucket[64];
    char sigv4[96];    /* "aws:amz:<region>:s3" */
    char userpwd[512]; /* "<access key>:<secret key>" */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Bucket names (S3's rules, lowercase): nothing in them needs escaping. */
static bool valid_bucket(const char *b)
{
    size_t n = strlen(b);
    return n >= 3 && n <= 63 && strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

struct dossier_s3 *dossier_s3_from_config(const char *svc)
{
    const char *endpoint = mc_config_str(svc, "S3_ENDPOINT", NULL);
    const char *bucket = mc_config_str(svc, "S3_BUCKET", NULL);
    const char *region = mc_config_str(svc, "S3_REGION", "us-east-1");
    const char *access_file = mc_config_str(svc, "S3_ACCESS_KEY_FILE", NULL);
    const char *secret_file = mc_config_str(svc, "S3_SECRET_KEY_FILE", NULL);
    if (endpoint == NULL || bucket == NULL || access_file == NULL || secret_file == NULL) {
        mc_log(
            MC_LOG_ERROR, NULL, "config.invalid",
            "STORAGE=s3 needs S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_FILE and S3_SECRET_KEY_FILE");
        return NULL;
    }
    size_t elen = strlen(endpoint);
    while (elen > 0 && endpoint[elen - 1] == '/')
        elen--;
    if ((strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0) ||
        elen >= sizeof((struct dossier_s3 *)NULL)->endpoint || !valid_bucket(bucket) ||
        strlen(region) == 0 || strlen(region) > 32 ||
        strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region)) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "S3_ENDPOINT must be an http(s) URL, S3_BUCKET a bucket name, S3_REGION a region");
        return NULL;
    }
    struct dossier_s3 *s3 = calloc(1, sizeof *s3);
    if (s3 == NULL)
        return NULL;
    char access[200], secret[200];
    if (!mc_read_secret_file(access_file, access, sizeof access) ||
        !mc_read_secret_file(secret_file, secret, sizeof secret) || strchr(access, ':') != NULL) {
        mc_log(
            MC_LOG_ERROR, NULL, "config.invalid",
            "S3_ACCESS_KEY_FILE and S3_SECRET_KEY_FILE must each hold a key on their first line");
        explicit_bzero(secret, sizeof secret);
        free(s3);
        return NULL;
    }
    snprintf(s3->endpoint, sizeof s3->endpoint, "%.*s", (int)elen, endpoint);
    snprintf(s3->bucket, sizeof s3->bucket, "%s", bucket);
    snprintf(s3->sigv4, sizeof s3->sigv4, "aws:amz:%s:s3", region);
    snprintf(s3->userpwd, sizeof s3->userpwd, "%s:%s", access, secret);
    explicit_bzero(secret, sizeof secret);
    pthread_once(&curl_once, curl_init_once);
    return s3;
}

void dossier_s3_free(struct dossier_s3 *s3)
{
    if (s3 == NULL)
        return;
    explicit_bzero(s3->userpwd, sizeof s3->userpwd);
    free(s3);
}

/* ------------------------------------------------------------------ */
/* one request                                                          */

struct body_out {
    char *data; /* grows up to cap; NULL: discard what comes */
    size_t len, cap;
    bool overflow;
};

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
    struct body_out *b = arg;
    size_t bytes = size * n;
    if (b->data == NULL)
        return bytes;
    if (bytes > b->cap - b->len) {
        b->overflow = true;
        return 0; /* aborts the transfer */
    }
    memcpy(b->data + b->len, ptr, bytes);
    b->len += bytes;
    return bytes;
}

struct body_in {
    const unsigned char *data;
    size_t len, at;
};

static size_t on_upload(char *ptr, size_t size, size_t n, void *arg)
{
    struct body_in *b = arg;
    size_t room = size * n, left = b->len - b->at;
    size_t take = left < room ? left : room;
    memcpy(ptr, b->data + b->at, take);
    b->at += take;
    return take;
}

/* A handle for METHOD on <endpoint>/<bucket>/<key>[?query], signed, with
   x-amz-content-sha256 = payload_sha256 (hex). The caller adds the body. */
static CURL *s3_handle(const struct dossier_s3 *s3, const char *method, const char *key,
                       const char *query, const char *payload_sha256, struct curl_slist **headers)
{
    char url[1024], sha_header[100];
    int n = snprintf(url, sizeof url, "%s/%s/%s%s%s", s3->endpoint, s3->bucket, key,
                     query != NULL ? "?" : "", query != NULL ? query : "");
    if (n < 0 || (size_t)n >= sizeof url)
        return NULL;
    snprintf(sha_header, sizeof sha_header, "x-amz-content-sha256: %s", payload_sha256);
    CURL *h = curl_easy_init();
    if (h == NULL)
        return NULL;
    *headers = curl_slist_append(NULL, sha_header);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s3->sigv4);
    curl_easy_setopt(h, CURLOPT_USERPWD, s3->userpwd);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT,
                     strcmp(method, "PUT") == 0 ? PUT_TIMEOUT_S : READ_TIMEOUT_S);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    return h;
}

/* Perform; the HTTP status, or 0 when no answer came (logged). */
static long s3_perform(CURL *h, struct curl_slist *headers, const char *what)
{
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        mc_log(MC_LOG_ERROR, NULL, "storage.s3", "%s: %s", what, curl_easy_strerror(rc));
    curl_slist_free_all(headers);
    return status;
}

static void hex_sha256(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    for (size_t i = 0; i < sizeof md; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ------------------------------------------------------------------ */
/* the storage functions                                                */

static mc_error s3_put(void *impl, const void *data, size_t len, char *key)
{
    const struct dossier_s3 *s3 = impl;
    char new_key[DOSSIER_STORAGE_KEY_MAX], sha[65];
    if (!dossier_storage_new_key(new_key)) {
        mc_log(MC_LOG_ERROR, NULL, "storage.put", "no random bytes for a key");
        return MC_ERR_INTERNAL;
    }
    hex_sha256(data, len, sha);
    struct curl_slist *headers = NULL;
    CURL *h = s3_handle(s3, "PUT", new_key, NULL, sha, &headers);
    if (h == NULL)
        return MC_ERR_INTERNAL;
    struct body_in in = {data, len, 0};
    struct body_out out = {NULL, 0, 0, false};
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &in);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    long status = s3_perform(h, headers, "PUT");
    curl_easy_cleanup(h);
    if (status != 200) {
        if (status != 0)
            mc_log(MC_LOG_ERROR, NULL, "storage.put", "the object store answered %ld to a PUT",
                   status);
        return MC_ERR_INTERNAL;
    }
    memcpy(key, new_key, strlen(new_key) + 1);
    return MC_OK;
}

struct s3_file {
    struct dossier_file base; /* first: a struct dossier_file * is a struct s3_file * */
    const struct dossier_s3 *s3;
    char key[DOSSIER_STORAGE_KEY_MAX];
    size_t size;
    char *chunk; /* READ_CHUNK bytes: [chunk_at, chunk_at + chunk_len) */
    unsigned long long chunk_at;
    size_t chunk_len;
};

/* Fetch [at, at + READ_CHUNK) into the file's chunk. */
static bool fetch_chunk(struct s3_file *f, unsigned long long at)
{
    struct curl_slist *headers = NULL;
    CURL *h = s3_handle(f->s3, "GET", f->key, NULL, EMPTY_SHA256, &headers);
    if (h == NULL)
        return false;
    char range[64];
    unsigned long long last = at + READ_CHUNK - 1;
    if (last >= f->size)
        last = f->size - 1;
    snprintf(range, sizeof range, "%llu-%llu", at, last);
    struct body_out out = {f->chunk, 0, READ_CHUNK, false};
    curl_easy_setopt(h, CURLOPT_RANGE, range);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    long status = s3_perform(h, headers, "GET");
    curl_easy_cleanup(h);
    if (status != 206 && !(status == 200 && at == 0 && out.len == f->size)) {
        mc_log(MC_LOG_ERROR, NULL, "storage.read", "the object store answered %ld to a ranged GET",
               status);
        return false;
    }
    if (out.len != last - at + 1) {
        mc_log(MC_LOG_ERROR, NULL, "storage.read", "a ranged GET brought %zu bytes, not %llu",
               out.len, last - at + 1);
        return false;
    }
    f->chunk_at = at;
    f->chunk_len = out.len;
    return true;
}

static long s3_file_read(struct dossier_file *file, unsigned long long offset, char *buf,
                         size_t max)
{
    struct s3_file *f = (struct s3_file *)file;
    if (offset >= f->size)
        return 0;
    if (offset < f->chunk_at || offset >= f->chunk_at + f->chunk_len) {
        if (!fetch_chunk(f, offset))
            return -1;
    }
    size_t from = (size_t)(offset - f->chunk_at);
    size_t n = f->chunk_len - from < max ? f->chunk_len - from : max;
    memcpy(buf, f->chunk + from, n);
    return (long)n;
}

static void s3_file_close(struct dossier_file *file)
{
    struct s3_file *f = (struct s3_file *)file;
    free(f->chunk);
    free(f);
}

static mc_error s3_open(void *impl, const char *key, struct dossier_file **out, size_t *len)
{
    const struct dossier_s3 *s3 = impl;
    *out = NULL;
    *len = 0;
    if (!dossier_storage_key_valid(key))
        return MC_ERR_NOT_FOUND;
    struct curl_slist *headers = NULL;
    CURL *h = s3_handle(s3, "HEAD", key, NULL, EMPTY_SHA256, &headers);
    if (h == NULL)
        return MC_ERR_INTERNAL;
    long status = s3_perform(h, headers, "HEAD");
    curl_off_t size = -1;
    if (status == 200)
        curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &size);
    curl_easy_cleanup(h);
    if (status == 404)
        return MC_ERR_NOT_FOUND;
    if (status != 200 || size < 0 || (unsigned long long)size > SIZE_MAX) {
        if (status != 0)
            mc_log(MC_LOG_ERROR, NULL, "storage.read", "the object store answered %ld to a HEAD",
                   status);
        return MC_ERR_INTERNAL;
    }
    struct s3_file *f = calloc(1, sizeof *f);
    if (f == NULL || (f->chunk = malloc(READ_CHUNK)) == NULL) {
        free(f);
        return MC_ERR_INTERNAL;
    }
    f->base = (struct dossier_file){s3_file_read, s3_file_close};
    f->s3 = s3;
    snprintf(f->key, sizeof f->key, "%s", key);
    f->size = (size_t)size;
    *out = &f->base;
    *len = (size_t)size;
    return MC_OK;
}

static mc_error s3_remove(void *impl, const char *key)
{
    const struct dossier_s3 *s3 = impl;
    if (!dossier_storage_key_valid(key))
        return MC_ERR_NOT_FOUND;
    struct curl_slist *headers = NULL;
    CURL *h = s3_handle(s3, "DELETE", key, NULL, EMPTY_SHA256, &headers);
    if (h == NULL)
        return MC_ERR_INTERNAL;
    struct body_out out = {NULL, 0, 0, false};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    long status = s3_perform(h, headers, "DELETE");
    curl_easy_cleanup(h);
    if (status == 204 || status == 200 || status == 404)
        return MC_OK;
    if (status != 0)
        mc_log(MC_LOG_ERROR, NULL, "storage.remove", "the object store answered %ld to a DELETE",
               status);
    return MC_ERR_INTERNAL;
}

/* The text of the first <tag>...</tag> in [p, end), into out; the position
   after it, or NULL. */
static const char *xml_text(const char *p, const char *end, const char *tag, char *out, size_t len)
{
    char open_tag[48], close_tag[48];
    snprintf(open_tag, sizeof open_tag, "<%s>", tag);
    snprintf(close_tag, sizeof close_tag, "</%s>", tag);
    const char *a = strstr(p, open_tag);
    if (a == NULL || a >= end)
        return NULL;
    a += strlen(open_tag);
    const char *b = strstr(a, close_tag);
    if (b == NULL || b > end)
        return NULL;
    size_t n = (size_t)(b - a);
    if (n >= len)
        n = len - 1;
    memcpy(out, a, n);
    out[n] = '\0';
    return b + strlen(close_tag);
}

/* "2026-12-03T14:01:12.000Z" as epoch seconds, or -1. */
static int64_t iso_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static mc_error s3_each_old(void *impl, int64_t before, bool (*fn)(const char *key, void *arg),
                            void *arg)
{
    const struct dossier_s3 *s3 = impl;
    char token[1024] = "";
    char *page = malloc(LIST_BYTES_MAX + 1);
    if (page == NULL)
        return MC_ERR_INTERNAL;
    mc_error result = MC_OK;
    bool go_on = true;
    while (go_on) {
        /* the query's parameters in the signer's order (sorted by name) */
        char query[1400];
        CURL *esc = curl_easy_init();
        char *escaped = esc != NULL && token[0] != '\0' ? curl_easy_escape(esc, token, 0) : NULL;
        snprintf(query, sizeof query, "%s%s%slist-type=2",
                 escaped != NULL ? "continuation-token=" : "", escaped != NULL ? escaped : "",
                 escaped != NULL ? "&" : "");
        curl_free(escaped);
        curl_easy_cleanup(esc);
        struct curl_slist *headers = NULL;
        CURL *h = s3_handle(s3, "GET", "", query, EMPTY_SHA256, &headers);
        if (h == NULL) {
            result = MC_ERR_INTERNAL;
            break;
        }
        struct body_out out = {page, 0, LIST_BYTES_MAX, false};
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        long status = s3_perform(h, headers, "LIST");
        curl_easy_cleanup(h);
        if (status != 200) {
            if (status != 0)
                mc_log(MC_LOG_ERROR, NULL, "storage.list",
                       "the object store answered %ld to a listing", status);
            result = MC_ERR_INTERNAL;
            break;
        }
        page[out.len] = '\0';
        const char *end = page + out.len;
        const char *p = page;
        char item[2048];
        while (go_on && (p = xml_text(p, end, "Contents", item, sizeof item)) != NULL) {
            char key[DOSSIER_STORAGE_KEY_MAX + 8], modified[64];
            const char *item_end = item + strlen(item);
            if (xml_text(item, item_end, "Key", key, sizeof key) == NULL ||
                xml_text(item, item_end, "LastModified", modified, sizeof modified) == NULL)
                continue;
            int64_t at = iso_time(modified);
            if (at >= 0 && at < before && dossier_storage_key_valid(key))
                go_on = fn(key, arg);
        }
        char truncated[8] = "";
        xml_text(page, end, "IsTruncated", truncated, sizeof truncated);
        if (strcmp(truncated, "true") != 0 ||
            xml_text(page, end, "NextContinuationToken", token, sizeof token) == NULL)
            break;
    }
    free(page);
    return result;
}

struct dossier_storage dossier_storage_s3(struct dossier_s3 *s3)
{
    struct dossier_storage s = {s3, s3_put, s3_open, s3_remove, s3_each_old};
    return s;
}
