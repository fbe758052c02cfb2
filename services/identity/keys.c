/*
 * Loading the signing keys and building the JWKS document (keys.h).
 */
#include "keys.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/log.h"

#define MAX_KEY_FILE_BYTES 65536

void identity_b64url(const unsigned char *data, size_t len, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
        out[o++] = abc[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)data[i] << 16;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
    }
    out[o] = '\0';
}

/* The whole file as a NUL-terminated string (malloc'd), or NULL. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(MAX_KEY_FILE_BYTES + 1);
    size_t n = buf != NULL ? fread(buf, 1, MAX_KEY_FILE_BYTES + 1, f) : 0;
    fclose(f);
    if (buf == NULL || n == 0 || n > MAX_KEY_FILE_BYTES) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* One RSA BIGNUM parameter of pkey, base64url (malloc'd), or NULL. */
static char *bn_param_b64(const EVP_PKEY *pkey, const char *name)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return NULL;
    int n = BN_num_bytes(bn);
    unsigned char *bytes = malloc((size_t)n + 1);
    char *out = malloc((size_t)n * 4 / 3 + 8);
    if (bytes != NULL && out != NULL && BN_bn2bin(bn, bytes) == n) {
        identity_b64url(bytes, (size_t)n, out);
    } else {
        free(out);
        out = NULL;
    }
    free(bytes);
    BN_free(bn);
    return out;
}

/* The JWK of an RSA key (public part), or NULL. */
static json_t *jwk_of(const EVP_PKEY *pkey, const char *kid)
{
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pkey) < 2048)
        return NULL;
    char *n = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_N);
    char *e = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_E);
    json_t *jwk = NULL;
    if (n != NULL && e != NULL)
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "use", "sig", "alg",
                        "RS256", "kid", kid, "n", n, "e", e);
    free(n);
    free(e);
    return jwk;
}

static EVP_PKEY *parse_pem(const char *pem, bool private_key)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL)
        return NULL;
    EVP_PKEY *pkey = private_key ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                                 : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return pkey;
}

static bool kid_ok(const char *kid)
{
    size_t n = kid != NULL ? strlen(kid) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = kid[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

mc_error identity_keys_load(struct identity_keys *keys, const char *private_file,
                            const char *kid, const char *previous_public_file,
                            const char *previous_kid)
{
    memset(keys, 0, sizeof *keys);
    if (private_file == NULL || !kid_ok(kid)) {
        mc_log(MC_LOG_ERROR, NULL, "config_invalid",
               "MOTCUA_IDENTITY_JWT_PRIVATE_KEY_FILE and MOTCUA_IDENTITY_JWT_KEY_ID "
               "(1-64 of [A-Za-z0-9._-]) are required");
        return MC_ERR_INTERNAL;
    }
    json_t *list = json_array();
    keys->private_pem = read_file(private_file);
    EVP_PKEY *pkey = keys->private_pem != NULL ? parse_pem(keys->private_pem, true) : NULL;
    json_t *jwk = pkey != NULL ? jwk_of(pkey, kid) : NULL;
    EVP_PKEY_free(pkey);
    if (jwk == NULL) {
        mc_log(MC_LOG_ERROR, NULL, "config_invalid",
               "MOTCUA_IDENTITY_JWT_PRIVATE_KEY_FILE: not a readable RSA private key of at "
               "least 2048 bits");
        goto fail;
    }
    json_array_append_new(list, jwk);
    snprintf(keys->kid, sizeof keys->kid, "%s", kid);
    if (previous_public_file != NULL && previous_public_file[0] != '\0') {
        if (!kid_ok(previous_kid) || strcmp(previous_kid, kid) == 0) {
            mc_log(MC_LOG_ERROR, NULL, "config_invalid",
                   "MOTCUA_IDENTITY_JWT_PREVIOUS_KEY_ID is required with the previous key and "
                   "must differ from MOTCUA_IDENTITY_JWT_KEY_ID");
            goto fail;
        }
        char *pem = read_file(previous_public_file);
        EVP_PKEY *prev = pem != NULL ? parse_pem(pem, false) : NULL;
        json_t *prev_jwk = prev != NULL ? jwk_of(prev, previous_kid) : NULL;
        EVP_PKEY_free(prev);
        free(pem);
        if (prev_jwk == NULL) {
            mc_log(MC_LOG_ERROR, NULL, "config_invalid",
                   "MOTCUA_IDENTITY_JWT_PREVIOUS_PUBLIC_KEY_FILE: not a readable RSA public key "
                   "of at least 2048 bits");
            goto fail;
        }
        json_array_append_new(list, prev_jwk);
    }
    json_t *doc = json_pack("{s:o}", "keys", list);
    list = NULL;
    keys->jwks_json = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (keys->jwks_json == NULL)
        goto fail;
    return MC_OK;
fail:
    json_decref(list);
    identity_keys_free(keys);
    return MC_ERR_INTERNAL;
}

void identity_keys_free(struct identity_keys *keys)
{
    if (keys->private_pem != NULL) {
        memset(keys->private_pem, 0, strlen(keys->private_pem));
        free(keys->private_pem);
    }
    free(keys->jwks_json);
    memset(keys, 0, sizeof *keys);
}
