/*
 * JWT verification with the algorithm pinned to RS256.
 *
 * Why not jwt_decode() from libjwt 1.10: it verifies with whatever `alg` the
 * token's own header names, so an attacker can send an HS256 token whose HMAC
 * key is our RSA public key (which is public), or alg=none; and it parses the
 * PEM key again on every call. Here the header is checked first, the key is
 * chosen by `kid` among pre-parsed OpenSSL keys, the RSA PKCS#1 v1.5 SHA-256
 * signature is checked with OpenSSL directly, and only then are the claims
 * read. libjwt is still used to mint tokens (mc_auth_mint), where it is safe.
 */
#include "motcua/auth.h"

#include <jansson.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_KEYS 16
#define MAX_REVOCATIONS 200000 /* a bound on a document from the network */

struct verifier_key {
    char kid[128];
    bool has_kid;
    bool from_jwks;
    EVP_PKEY *pkey;
};

const char MC_AUTH_UNKNOWN_KEY[] = "token signed with an unknown key";
const char MC_AUTH_REVOKED[] = "token revoked";

/* One subject of the revocation list: its tokens issued before not_before
   are refused. */
struct revocation {
    char sub[129];
    int64_t not_before;
};

struct mc_auth_verifier {
    char issuer[256];
    char audience[256];
    unsigned leeway_s;
    pthread_rwlock_t lock; /* readers verify; a JWKS refresh writes */
    size_t n_keys;
    struct verifier_key keys[MAX_KEYS];
    /* The revocation list, sorted by sub (bsearch), replaced as a whole
       under the write lock; and the poller that refreshes it (may be NULL). */
    struct revocation *revocations;
    size_t n_revocations;
    struct mc_revocation_poller *poller;
};

mc_auth_verifier *mc_auth_verifier_new(const char *issuer, const char *audience, unsigned leeway_s)
{
    mc_auth_verifier *v = calloc(1, sizeof *v);
    if (v == NULL)
        return NULL;
    snprintf(v->issuer, sizeof v->issuer, "%s", issuer);
    snprintf(v->audience, sizeof v->audience, "%s", audience);
    v->leeway_s = leeway_s;
    pthread_rwlock_init(&v->lock, NULL);
    return v;
}

void mc_auth_verifier_free(mc_auth_verifier *v)
{
    if (v == NULL)
        return;
    mc_revocation_poller_stop(v->poller);
    free(v->revocations);
    for (size_t i = 0; i < v->n_keys; i++)
        EVP_PKEY_free(v->keys[i].pkey);
    pthread_rwlock_destroy(&v->lock);
    free(v);
}

size_t mc_auth_verifier_key_count(const mc_auth_verifier *v)
{
    pthread_rwlock_rdlock((pthread_rwlock_t *)&v->lock);
    size_t n = v->n_keys;
    pthread_rwlock_unlock((pthread_rwlock_t *)&v->lock);
    return n;
}

/* Caller holds the write lock (or is still setting the verifier up). */
static mc_error add_key(mc_auth_verifier *v, const char *kid, EVP_PKEY *pkey, bool from_jwks)
{
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pkey) < 2048 ||
        v->n_keys >= MAX_KEYS) {
        EVP_PKEY_free(pkey);
        return MC_ERR_INTERNAL;
    }
    struct verifier_key *k = &v->keys[v->n_keys++];
    k->has_kid = kid != NULL && *kid != '\0';
    snprintf(k->kid, sizeof k->kid, "%s", k->has_kid ? kid : "");
    k->pkey = pkey;
    k->from_jwks = from_jwks;
    return MC_OK;
}

mc_error mc_auth_verifier_add_pem(mc_auth_verifier *v, const char *kid, const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL)
        return MC_ERR_INTERNAL;
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (pkey == NULL)
        return MC_ERR_INTERNAL;
    pthread_rwlock_wrlock(&v->lock);
    mc_error rc = add_key(v, kid, pkey, false);
    pthread_rwlock_unlock(&v->lock);
    return rc;
}

/* base64url without padding -> bytes. Returns decoded length or -1. */
static long b64url_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap)
{
    static const signed char map[256] = {
        ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,
        ['H'] = 8,  ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
        ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
        ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
        ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
        ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
        ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
        ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
        ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63,
        ['_'] = 64,
    };
    if (in_len % 4 == 1)
        return -1;
    size_t need = in_len * 3 / 4;
    if (need > out_cap)
        return -1;
    unsigned acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < in_len; i++) {
        int val = map[(unsigned char)in[i]];
        if (val == 0)
            return -1;
        acc = (acc << 6) | (unsigned)(val - 1);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)((acc >> bits) & 0xFF);
        }
    }
    /* leftover bits must be zero (canonical encoding) */
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)n;
}

static json_t *decode_json_part(const char *part, size_t len)
{
    unsigned char buf[MC_AUTH_MAX_TOKEN_BYTES];
    long n = b64url_decode(part, len, buf, sizeof buf);
    if (n <= 0)
        return NULL;
    return json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
}

static BIGNUM *b64url_bn(const char *s)
{
    unsigned char buf[1024];
    if (s == NULL)
        return NULL;
    long n = b64url_decode(s, strlen(s), buf, sizeof buf);
    return n > 0 ? BN_bin2bn(buf, (int)n, NULL) : NULL;
}

/* The RS256 signing keys of a JWKS document, parsed into `out` (up to
   `cap`); kids copied into `kids`. Returns how many. */
static size_t parse_jwks(const char *jwks_json, EVP_PKEY **out, char kids[][128], size_t cap)
{
    json_t *doc = json_loads(jwks_json, JSON_REJECT_DUPLICATES, NULL);
    json_t *keys = json_object_get(doc, "keys");
    size_t found = 0, i;
    json_t *jwk;
    json_array_foreach(keys, i, jwk) {
        if (found == cap)
            break;
        const char *kty = json_string_value(json_object_get(jwk, "kty"));
        const char *use = json_string_value(json_object_get(jwk, "use"));
        const char *alg = json_string_value(json_object_get(jwk, "alg"));
        const char *kid = json_string_value(json_object_get(jwk, "kid"));
        if (kty == NULL || strcmp(kty, "RSA") != 0 || (use != NULL && strcmp(use, "sig") != 0) ||
            (alg != NULL && strcmp(alg, "RS256") != 0))
            continue;
        BIGNUM *n = b64url_bn(json_string_value(json_object_get(jwk, "n")));
        BIGNUM *e = b64url_bn(json_string_value(json_object_get(jwk, "e")));
        EVP_PKEY *pkey = NULL;
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        if (n != NULL && e != NULL && bld != NULL && ctx != NULL &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1 &&
            (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1) {
            if (EVP_PKEY_get_bits(pkey) >= 2048) {
                out[found] = pkey;
                snprintf(kids[found], 128, "%s", kid != NULL ? kid : "");
                found++;
            } else {
                EVP_PKEY_free(pkey);
            }
        }
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        EVP_PKEY_CTX_free(ctx);
        BN_free(n);
        BN_free(e);
    }
    json_decref(doc);
    return found;
}

static mc_error load_jwks(mc_auth_verifier *v, const char *jwks_json, bool replace)
{
    EVP_PKEY *keys[MAX_KEYS];
    char kids[MAX_KEYS][128];
    size_t found = parse_jwks(jwks_json, keys, kids, MAX_KEYS);
    if (found == 0)
        return MC_ERR_INTERNAL;
    pthread_rwlock_wrlock(&v->lock);
    if (replace) {
        size_t kept = 0;
        for (size_t i = 0; i < v->n_keys; i++) {
            if (v->keys[i].from_jwks)
                EVP_PKEY_free(v->keys[i].pkey);
            else
                v->keys[kept++] = v->keys[i];
        }
        v->n_keys = kept;
    }
    size_t added = 0;
    for (size_t i = 0; i < found; i++)
        if (add_key(v, kids[i][0] != '\0' ? kids[i] : NULL, keys[i], true) == MC_OK)
            added++;
    pthread_rwlock_unlock(&v->lock);
    return added > 0 ? MC_OK : MC_ERR_INTERNAL;
}

mc_error mc_auth_verifier_add_jwks(mc_auth_verifier *v, const char *jwks_json)
{
    return load_jwks(v, jwks_json, false);
}

mc_error mc_auth_verifier_replace_jwks(mc_auth_verifier *v, const char *jwks_json)
{
    return load_jwks(v, jwks_json, true);
}

static int revocation_cmp(const void *a, const void *b)
{
    return strcmp(((const struct revocation *)a)->sub, ((const struct revocation *)b)->sub);
}

mc_error mc_auth_verifier_replace_revocations(mc_auth_verifier *v, const char *doc_json,
                                              size_t len)
{
    json_t *doc = json_loadb(doc_json, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *map = json_object_get(doc, "revocations");
    size_t n = json_object_size(map);
    if (!json_is_object(map) || n > MAX_REVOCATIONS) {
        json_decref(doc);
        return MC_ERR_INTERNAL;
    }
    struct revocation *list = n > 0 ? calloc(n, sizeof *list) : NULL;
    if (n > 0 && list == NULL) {
        json_decref(doc);
        return MC_ERR_INTERNAL;
    }
    size_t i = 0;
    bool ok = true;
    const char *sub;
    json_t *nb;
    json_object_foreach(map, sub, nb) {
        /* The whole document or nothing: a malformed entry may be a
           truncated or foreign answer, so the previous list stays. */
        if (!json_is_integer(nb) || strlen(sub) >= sizeof list[i].sub || sub[0] == '\0') {
            ok = false;
            break;
        }
        snprintf(list[i].sub, sizeof list[i].sub, "%s", sub);
        list[i].not_before = (int64_t)json_integer_value(nb);
        i++;
    }
    json_decref(doc);
    if (!ok) {
        free(list);
        return MC_ERR_INTERNAL;
    }
    if (n > 1)
        qsort(list, n, sizeof *list, revocation_cmp);
    pthread_rwlock_wrlock(&v->lock);
    struct revocation *old = v->revocations;
    v->revocations = list;
    v->n_revocations = n;
    pthread_rwlock_unlock(&v->lock);
    free(old);
    return MC_OK;
}

size_t mc_auth_verifier_revocation_count(const mc_auth_verifier *v)
{
    pthread_rwlock_rdlock((pthread_rwlock_t *)&v->lock);
    size_t n = v->n_revocations;
    pthread_rwlock_unlock((pthread_rwlock_t *)&v->lock);
    return n;
}

void mc_auth_verifier_attach_poller(mc_auth_verifier *v, struct mc_revocation_poller *poller)
{
    v->poller = poller;
}

/* Was the token of `p` issued before its subject's "not before"? A token
   without iat cannot show it is newer, so it counts as revoked. */
static bool is_revoked(const mc_auth_verifier *v, const mc_principal *p)
{
    struct revocation key;
    snprintf(key.sub, sizeof key.sub, "%s", p->sub);
    pthread_rwlock_rdlock((pthread_rwlock_t *)&v->lock);
    const struct revocation *r =
        v->n_revocations > 0
            ? bsearch(&key, v->revocations, v->n_revocations, sizeof key, revocation_cmp)
            : NULL;
    bool revoked = r != NULL && (p->iat == 0 || p->iat < r->not_before);
    pthread_rwlock_unlock((pthread_rwlock_t *)&v->lock);
    return revoked;
}

static const struct verifier_key *pick_key(const mc_auth_verifier *v, const char *kid)
{
    if (kid != NULL) {
        for (size_t i = 0; i < v->n_keys; i++)
            if (v->keys[i].has_kid && strcmp(v->keys[i].kid, kid) == 0)
                return &v->keys[i];
    }
    /* A key loaded without a kid (a plain PEM file) serves tokens without
       one, and any token when it is the only key; a token without a kid is
       also accepted by the only key there is (no ambiguity to resolve). */
    for (size_t i = 0; i < v->n_keys; i++)
        if (!v->keys[i].has_kid && (kid == NULL || v->n_keys == 1))
            return &v->keys[i];
    if (kid == NULL && v->n_keys == 1)
        return &v->keys[0];
    return NULL;
}

static bool rs256_ok(EVP_PKEY *pkey, const char *signed_part, size_t signed_len, const char *sig_b64,
                     size_t sig_b64_len)
{
    unsigned char sig[1024];
    long sig_len = b64url_decode(sig_b64, sig_b64_len, sig, sizeof sig);
    if (sig_len <= 0)
        return false;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
              EVP_DigestVerify(md, sig, (size_t)sig_len, (const unsigned char *)signed_part,
                               signed_len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

unsigned mc_role_from_name(const char *name)
{
    static const struct {
        const char *name;
        unsigned bit;
    } roles[] = {
        {"citizen", MC_ROLE_CITIZEN},         {"officer", MC_ROLE_OFFICER},
        {"approver", MC_ROLE_APPROVER},       {"agency_admin", MC_ROLE_AGENCY_ADMIN},
        {"system_admin", MC_ROLE_SYSTEM_ADMIN}, {"auditor", MC_ROLE_AUDITOR},
        {"service", MC_ROLE_SERVICE},
    };
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].name, name) == 0)
            return roles[i].bit;
    return 0;
}

const char *mc_role_name(unsigned bit)
{
    switch (bit) {
    case MC_ROLE_CITIZEN:
        return "citizen";
    case MC_ROLE_OFFICER:
        return "officer";
    case MC_ROLE_APPROVER:
        return "approver";
    case MC_ROLE_AGENCY_ADMIN:
        return "agency_admin";
    case MC_ROLE_SYSTEM_ADMIN:
        return "system_admin";
    case MC_ROLE_AUDITOR:
        return "auditor";
    case MC_ROLE_SERVICE:
        return "service";
    default:
        return "unknown";
    }
}

bool mc_principal_has_scope(const mc_principal *p, const char *scope)
{
    size_t n = strlen(scope);
    if (p == NULL || n == 0)
        return false;
    for (const char *s = p->scope; *s != '\0';) {
        size_t len = strcspn(s, " ");
        if (len == n && strncmp(s, scope, n) == 0)
            return true;
        s += len;
        s += strspn(s, " ");
    }
    return false;
}

static bool copy_claim(const json_t *claims, const char *key, char *out, size_t out_len,
                       bool required)
{
    const json_t *v = json_object_get(claims, key);
    if (v == NULL)
        return !required;
    const char *s = json_string_value(v);
    if (s == NULL || strlen(s) >= out_len || (required && *s == '\0'))
        return false;
    memcpy(out, s, strlen(s) + 1);
    return true;
}

static bool audience_ok(const json_t *aud, const char *expected)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), expected) == 0;
    size_t i;
    const json_t *a;
    json_array_foreach(aud, i, a) {
        if (json_is_string(a) && strcmp(json_string_value(a), expected) == 0)
            return true;
    }
    return false;
}

static mc_error fail(const char **reason, const char *why)
{
    if (reason != NULL)
        *reason = why;
    return MC_ERR_UNAUTHENTICATED;
}

static mc_error check_claims(const mc_auth_verifier *v, const json_t *claims, int64_t now,
                             mc_principal *out, const char **reason)
{
    const json_t *exp = json_object_get(claims, "exp");
    if (!json_is_number(exp))
        return fail(reason, "token has no expiry");
    /* A NumericDate beyond 2^53 s (or negative) is not a real expiry; it
       would also overflow the int64 it is stored in. */
    if (json_number_value(exp) < 0 || json_number_value(exp) > 9007199254740992.0)
        return fail(reason, "token has malformed claims");
    if ((double)now > json_number_value(exp) + (double)v->leeway_s)
        return fail(reason, "token expired");
    const json_t *nbf = json_object_get(claims, "nbf");
    if (nbf != NULL && (!json_is_number(nbf) || (double)now + (double)v->leeway_s < json_number_value(nbf)))
        return fail(reason, "token not yet valid");
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (iss == NULL || strcmp(iss, v->issuer) != 0)
        return fail(reason, "token from an unknown issuer");
    if (!audience_ok(json_object_get(claims, "aud"), v->audience))
        return fail(reason, "token not meant for this audience");
    memset(out, 0, sizeof *out);
    if (!copy_claim(claims, "sub", out->sub, sizeof out->sub, true) ||
        !copy_claim(claims, "agency", out->agency, sizeof out->agency, false) ||
        !copy_claim(claims, "scope", out->scope, sizeof out->scope, false) ||
        !copy_claim(claims, "name", out->name, sizeof out->name, false) ||
        !copy_claim(claims, "jti", out->jti, sizeof out->jti, false))
        return fail(reason, "token has malformed claims");
    const json_t *roles = json_object_get(claims, "roles");
    if (roles != NULL && !json_is_array(roles))
        return fail(reason, "token has malformed claims");
    size_t i;
    const json_t *r;
    json_array_foreach(roles, i, r) {
        if (json_is_string(r))
            out->roles |= mc_role_from_name(json_string_value(r));
    }
    out->exp = (int64_t)json_number_value(exp);
    const json_t *iat = json_object_get(claims, "iat");
    if (iat != NULL && (!json_is_number(iat) || json_number_value(iat) < 0 ||
                        json_number_value(iat) > 9007199254740992.0))
        return fail(reason, "token has malformed claims");
    out->iat = iat != NULL ? (int64_t)json_number_value(iat) : 0;
    return MC_OK;
}

mc_error mc_auth_verify(const mc_auth_verifier *v, const char *token, int64_t now,
                        mc_principal *out, const char **reason)
{
    if (v == NULL || token == NULL)
        return fail(reason, "no token");
    size_t len = strnlen(token, MC_AUTH_MAX_TOKEN_BYTES + 1);
    if (len == 0 || len > MC_AUTH_MAX_TOKEN_BYTES)
        return fail(reason, "token too large or empty");
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot1 == NULL || dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return fail(reason, "token is not a compact JWS");
    size_t sig_len = len - (size_t)(dot2 + 1 - token);
    if (sig_len == 0)
        return fail(reason, "token is not signed");

    json_t *header = decode_json_part(token, (size_t)(dot1 - token));
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const json_t *kid_v = json_object_get(header, "kid");
    const json_t *crit = json_object_get(header, "crit");
    if (header == NULL || alg == NULL || strcmp(alg, "RS256") != 0 || crit != NULL ||
        (kid_v != NULL && !json_is_string(kid_v))) {
        json_decref(header);
        return fail(reason, "token algorithm not accepted");
    }
    pthread_rwlock_rdlock((pthread_rwlock_t *)&v->lock);
    const struct verifier_key *key = pick_key(v, json_string_value(kid_v));
    bool signature_ok = key != NULL && rs256_ok(key->pkey, token, (size_t)(dot2 - token), dot2 + 1, sig_len);
    pthread_rwlock_unlock((pthread_rwlock_t *)&v->lock);
    json_decref(header);
    if (key == NULL)
        return fail(reason, MC_AUTH_UNKNOWN_KEY);
    if (!signature_ok)
        return fail(reason, "token signature invalid");

    json_t *claims = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!json_is_object(claims)) {
        json_decref(claims);
        return fail(reason, "token has malformed claims");
    }
    mc_error rc = check_claims(v, claims, now, out, reason);
    json_decref(claims);
    if (rc == MC_OK && is_revoked(v, out))
        rc = fail(reason, MC_AUTH_REVOKED);
    return rc;
}

char *mc_auth_mint(const char *private_pem, const char *kid, const char *issuer,
                   const char *audience, const char *sub, int64_t iat, int64_t exp,
                   const char *claims_json)
{
    jwt_t *jwt = NULL;
    char *out = NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_set_alg(jwt, JWT_ALG_RS256, (const unsigned char *)private_pem,
                    (int)strlen(private_pem)) == 0 &&
        jwt_add_grant(jwt, "iss", issuer) == 0 && jwt_add_grant(jwt, "aud", audience) == 0 &&
        jwt_add_grant(jwt, "sub", sub) == 0 && jwt_add_grant_int(jwt, "iat", (long)iat) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)exp) == 0 &&
        (claims_json == NULL || jwt_add_grants_json(jwt, claims_json) == 0) &&
        (kid == NULL || jwt_add_header(jwt, "kid", kid) == 0))
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    return out;
}
