/*
 * Unit tests: token verification rejects every forgery ARCHITECTURE.md §3
 * names (algorithm confusion, alg=none, expiry, nbf, iss, aud, tampering,
 * unknown keys, oversized tokens) and accepts a good RS256 token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <jwt.h>

#include "motcua/auth.h"

struct keys {
    char *private_pem;
    char *public_pem;
    char *other_private_pem;
};

static char *pem_of(EVP_PKEY *k, bool private_key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (private_key)
        PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
    else
        PEM_write_bio_PUBKEY(bio, k);
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    char *out = strndup(data, (size_t)len);
    BIO_free(bio);
    return out;
}

static int setup(void **state)
{
    struct keys *k = calloc(1, sizeof *k);
    EVP_PKEY *a = EVP_RSA_gen(2048), *b = EVP_RSA_gen(2048);
    k->private_pem = pem_of(a, true);
    k->public_pem = pem_of(a, false);
    k->other_private_pem = pem_of(b, true);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    *state = k;
    return 0;
}

static int teardown(void **state)
{
    struct keys *k = *state;
    free(k->private_pem);
    free(k->public_pem);
    free(k->other_private_pem);
    free(k);
    return 0;
}

static const int64_t NOW = 1760000000;

static mc_auth_verifier *verifier(const struct keys *k)
{
    mc_auth_verifier *v = mc_auth_verifier_new("motcua-identity", "motcua", 30);
    assert_int_equal(mc_auth_verifier_add_pem(v, NULL, k->public_pem), MC_OK);
    return v;
}

static char *mint(const char *pem, const char *iss, const char *aud, int64_t exp, const char *claims)
{
    return mc_auth_mint(pem, NULL, iss, aud, "user-1", NOW - 10, exp,
                        claims != NULL ? claims : "{\"roles\":[\"agency_admin\",\"nonsense\"],\"agency\":\"000.00.06.H56\"}");
}

static void b64url(const unsigned char *in, size_t len, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    char *w = out;
    for (char *r = out; *r != '\0'; r++) {
        if (*r == '=')
            continue;
        *w++ = *r == '+' ? '-' : (*r == '/' ? '_' : *r);
    }
    *w = '\0';
}

static void test_good_token(void **state)
{
    struct keys *k = *state;
    mc_auth_verifier *v = verifier(k);
    char *tok = mint(k->private_pem, "motcua-identity", "motcua", NOW + 900, NULL);
    mc_principal p;
    const char *why = NULL;
    assert_int_equal(mc_auth_verify(v, tok, NOW, &p, &why), MC_OK);
    assert_string_equal(p.sub, "user-1");
    assert_string_equal(p.agency, "000.00.06.H56");
    assert_int_equal(p.roles, MC_ROLE_AGENCY_ADMIN);
    free(tok);
    mc_auth_verifier_free(v);
}

static void expect_rejected(mc_auth_verifier *v, const char *tok, const char *reason_part)
{
    mc_principal p;
    const char *why = NULL;
    assert_int_equal(mc_auth_verify(v, tok, NOW, &p, &why), MC_ERR_UNAUTHENTICATED);
    assert_non_null(why);
    if (reason_part != NULL && strstr(why, reason_part) == NULL)
        fail_msg("reason '%s' lacks '%s'", why, reason_part);
}

static void test_expired_and_not_yet_valid(void **state)
{
    struct keys *k = *state;
    mc_auth_verifier *v = verifier(k);
    char *tok = mint(k->private_pem, "motcua-identity", "motcua", NOW - 31, NULL);
    expect_rejected(v, tok, "expired");
    free(tok);
    /* within leeway: accepted */
    tok = mint(k->private_pem, "motcua-identity", "motcua", NOW - 5, NULL);
    mc_principal p;
    assert_int_equal(mc_auth_verify(v, tok, NOW, &p, NULL), MC_OK);
    free(tok);
    char claims[128];
    snprintf(claims, sizeof claims, "{\"nbf\":%lld}", (long long)(NOW + 120));
    tok = mint(k->private_pem, "motcua-identity", "motcua", NOW + 900, claims);
    expect_rejected(v, tok, "not yet valid");
    free(tok);
    mc_auth_verifier_free(v);
}

static void test_wrong_issuer_audience(void **state)
{
    struct keys *k = *state;
    mc_auth_verifier *v = verifier(k);
    char *tok = mint(k->private_pem, "evil", "motcua", NOW + 900, NULL);
    expect_rejected(v, tok, "issuer");
    free(tok);
    tok = mint(k->private_pem, "motcua-identity", "other", NOW + 900, NULL);
    expect_rejected(v, tok, "audience");
    free(tok);
    mc_auth_verifier_free(v);
}

static void test_other_key_and_tampering(void **state)
{
    struct keys *k = *state;
    mc_auth_verifier *v = verifier(k);
    char *tok = mint(k->other_private_pem, "motcua-identity", "motcua", NOW + 900, NULL);
    expect_rejected(v, tok, "signature");
    free(tok);
    /* swap the payload for one claiming system_admin, keep the signature */
    tok = mint(k->private_pem, "motcua-identity", "motcua", NOW + 900, NULL);
    char *dot1 = strchr(tok, '.'), *dot2 = strchr(dot1 + 1, '.');
    char payload[512], forged[4096];
    const char *claims = "{\"iss\":\"motcua-identity\",\"aud\":\"motcua\",\"sub\":\"user-1\","
                         "\"exp\":1760000900,\"roles\":[\"system_admin\"]}";
    b64url((const unsigned char *)claims, strlen(claims), payload);
    snprintf(forged, sizeof forged, "%.*s.%s%s", (int)(dot1 - tok), tok, payload, dot2);
    expect_rejected(v, forged, "signature");
    free(tok);
    mc_auth_verifier_free(v);
}

static void test_algorithm_confusion(void **state)
{
    struct keys *k = *state;
    mc_auth_verifier *v = verifier(k);
    char header[128], payload[512], sig[128], tok[2048];
    const char *claims = "{\"iss\":\"motcua-identity\",\"aud\":\"motcua\",\"sub\":\"x\","
                         "\"exp\":1760000900,\"roles\":[\"system_admin\"]}";
    b64url((const unsigned char *)claims, strlen(claims), payload);
    /* HS256 "signed" with the RSA public key PEM as the HMAC secret */
    const char *hs = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    b64url((const unsigned char *)hs, strlen(hs), header);
    char signing_input[1024];
    snprintf(signing_input, sizeof signing_input, "%s.%s", header, payload);
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), k->public_pem, (int)strlen(k->public_pem),
         (const unsigned char *)signing_input, strlen(signing_input), mac, &mac_len);
    b64url(mac, mac_len, sig);
    snprintf(tok, sizeof tok, "%s.%s", signing_input, sig);
    expect_rejected(v, tok, "algorithm");
    /* alg none, with and without a signature part */
    const char *none = "{\"alg\":\"none\"}";
    b64url((const unsigned char *)none, strlen(none), header);
    snprintf(tok, sizeof tok, "%s.%s.", header, payload);
    expect_rejected(v, tok, NULL);
    snprintf(tok, sizeof tok, "%s.%s.%s", header, payload, sig);
    expect_rejected(v, tok, "algorithm");
    mc_auth_verifier_free(v);
}

static void test_garbage_and_size(void **state)
{
    struct keys *k = *state;
    mc_auth_verifier *v = verifier(k);
    expect_rejected(v, "", NULL);
    expect_rejected(v, "abc", NULL);
    expect_rejected(v, "a.b.c.d", NULL);
    expect_rejected(v, "!!!.???.***", NULL);
    char *big = malloc(MC_AUTH_MAX_TOKEN_BYTES + 100);
    memset(big, 'A', MC_AUTH_MAX_TOKEN_BYTES + 99);
    big[MC_AUTH_MAX_TOKEN_BYTES + 99] = '\0';
    expect_rejected(v, big, "too large");
    free(big);
    mc_auth_verifier_free(v);
}

static void test_missing_exp_and_sub(void **state)
{
    struct keys *k = *state;
    mc_auth_verifier *v = verifier(k);
    /* libjwt mint always sets exp; build a token with a bad exp type instead */
    char *tok = mint(k->private_pem, "motcua-identity", "motcua", NOW + 900, "{\"roles\":\"admin\"}");
    expect_rejected(v, tok, "claims");
    free(tok);
    mc_auth_verifier_free(v);
}

/* JWKS text for a PEM public key under `kid`. */
static void jwks_for(const char *public_pem, const char *kid, char *out, size_t out_len)
{
    BIO *bio = BIO_new_mem_buf(public_pem, -1);
    EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY_get_bn_param(pub, "n", &n);
    EVP_PKEY_get_bn_param(pub, "e", &e);
    unsigned char nb[512], eb[8];
    int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
    char n64[800], e64[16];
    b64url(nb, (size_t)nl, n64);
    b64url(eb, (size_t)el, e64);
    snprintf(out, out_len, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}]}",
             kid, n64, e64);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(pub);
}

static void test_jwks_rotation_and_unknown_key_signal(void **state)
{
    struct keys *k = *state;
    char jwks_a[1400], jwks_b[1400];
    jwks_for(k->public_pem, "a", jwks_a, sizeof jwks_a);
    /* the other key's public half */
    BIO *bio = BIO_new_mem_buf(k->other_private_pem, -1);
    EVP_PKEY *other = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    char *other_public = pem_of(other, false);
    EVP_PKEY_free(other);
    jwks_for(other_public, "b", jwks_b, sizeof jwks_b);

    mc_auth_verifier *v = mc_auth_verifier_new("motcua-identity", "motcua", 30);
    assert_int_equal(mc_auth_verifier_add_jwks(v, jwks_a), MC_OK);
    char *tok_a = mc_auth_mint(k->private_pem, "a", "motcua-identity", "motcua", "u", NOW, NOW + 60, "{}");
    char *tok_b = mc_auth_mint(k->other_private_pem, "b", "motcua-identity", "motcua", "u", NOW, NOW + 60, "{}");
    char *tok_nokid = mc_auth_mint(k->private_pem, NULL, "motcua-identity", "motcua", "u", NOW, NOW + 60, "{}");
    mc_principal p;
    const char *why = NULL;
    assert_int_equal(mc_auth_verify(v, tok_a, NOW, &p, &why), MC_OK);
    /* a token without kid is accepted by the only key there is */
    assert_int_equal(mc_auth_verify(v, tok_nokid, NOW, &p, &why), MC_OK);
    /* the issuer rotated to key b: the verifier says "unknown key", the
       caller refreshes, and b verifies while a is gone */
    assert_int_equal(mc_auth_verify(v, tok_b, NOW, &p, &why), MC_ERR_UNAUTHENTICATED);
    assert_ptr_equal(why, MC_AUTH_UNKNOWN_KEY);
    assert_int_equal(mc_auth_verifier_replace_jwks(v, jwks_b), MC_OK);
    assert_int_equal(mc_auth_verifier_key_count(v), 1);
    assert_int_equal(mc_auth_verify(v, tok_b, NOW, &p, &why), MC_OK);
    assert_int_equal(mc_auth_verify(v, tok_a, NOW, &p, &why), MC_ERR_UNAUTHENTICATED);
    assert_ptr_equal(why, MC_AUTH_UNKNOWN_KEY);
    /* a PEM key added by configuration survives JWKS replacement */
    assert_int_equal(mc_auth_verifier_add_pem(v, "a", k->public_pem), MC_OK);
    assert_int_equal(mc_auth_verifier_replace_jwks(v, jwks_b), MC_OK);
    assert_int_equal(mc_auth_verifier_key_count(v), 2);
    assert_int_equal(mc_auth_verify(v, tok_a, NOW, &p, &why), MC_OK);
    assert_int_not_equal(mc_auth_verifier_replace_jwks(v, "{\"keys\":[]}"), MC_OK);
    free(tok_a);
    free(tok_b);
    free(tok_nokid);
    free(other_public);
    mc_auth_verifier_free(v);
}

static void test_absurd_expiry_rejected(void **state)
{
    /* found by fuzzing: a trusted token with exp >= 2^63 overflowed the
       int64 cast (undefined behaviour) */
    struct keys *k = *state;
    mc_auth_verifier *v = verifier(k);
    char *tok = mc_auth_mint(k->private_pem, NULL, "motcua-identity", "motcua", "u", NOW, NOW + 60,
                             "{\"exp\":1e300}");
    if (tok != NULL) {
        expect_rejected(v, tok, "claims");
        free(tok);
    }
    tok = mc_auth_mint(k->private_pem, NULL, "motcua-identity", "motcua", "u", NOW, NOW + 60,
                       "{\"exp\":9223372036854775807}");
    if (tok != NULL) {
        expect_rejected(v, tok, "claims");
        free(tok);
    }
    mc_auth_verifier_free(v);
}

static void test_jwks_keys_and_kid(void **state)
{
    struct keys *k = *state;
    /* A JWKS with the public key's n and e; tokens must name its kid. */
    BIO *bio = BIO_new_mem_buf(k->public_pem, -1);
    EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY_get_bn_param(pub, "n", &n);
    EVP_PKEY_get_bn_param(pub, "e", &e);
    unsigned char nb[512], eb[8];
    int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
    char n64[800], e64[16], jwks[1200];
    b64url(nb, (size_t)nl, n64);
    b64url(eb, (size_t)el, e64);
    snprintf(jwks, sizeof jwks,
             "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"ec\"},{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\","
             "\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"%s\"}]}",
             n64, e64);
    mc_auth_verifier *v = mc_auth_verifier_new("motcua-identity", "motcua", 30);
    assert_int_equal(mc_auth_verifier_add_jwks(v, jwks), MC_OK);
    assert_int_equal(mc_auth_verifier_key_count(v), 1);
    char *tok = mc_auth_mint(k->private_pem, "k1", "motcua-identity", "motcua", "u", NOW, NOW + 60, "{}");
    mc_principal p;
    assert_int_equal(mc_auth_verify(v, tok, NOW, &p, NULL), MC_OK);
    free(tok);
    tok = mc_auth_mint(k->private_pem, "k2", "motcua-identity", "motcua", "u", NOW, NOW + 60, "{}");
    expect_rejected(v, tok, "unknown key");
    free(tok);
    assert_int_not_equal(mc_auth_verifier_add_jwks(v, "{\"keys\":[]}"), MC_OK);
    assert_int_not_equal(mc_auth_verifier_add_jwks(v, "not json"), MC_OK);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(pub);
    mc_auth_verifier_free(v);
}

/* A subject's tokens issued before its "not before" are refused; newer
   ones, and other subjects, are not; a bad document leaves the list as it was. */
static void test_revoked_subjects(void **state)
{
    struct keys *k = *state;
    mc_auth_verifier *v = verifier(k);
    char *tok = mint(k->private_pem, "motcua-identity", "motcua", NOW + 600, NULL); /* iat NOW-10 */
    mc_principal p;
    const char *reason = NULL;
    assert_int_equal(mc_auth_verify(v, tok, NOW, &p, &reason), MC_OK);
    assert_int_equal(p.iat, NOW - 10);

    char doc[160];
    snprintf(doc, sizeof doc, "{\"revocations\":{\"someone-else\":%lld,\"user-1\":%lld}}",
             (long long)NOW, (long long)NOW - 9);
    assert_int_equal(mc_auth_verifier_replace_revocations(v, doc, strlen(doc)), MC_OK);
    assert_int_equal(mc_auth_verifier_revocation_count(v), 2);
    assert_int_equal(mc_auth_verify(v, tok, NOW, &p, &reason), MC_ERR_UNAUTHENTICATED);
    assert_ptr_equal(reason, MC_AUTH_REVOKED);

    /* Malformed documents are refused whole; the list in force stays. */
    const char *bad[] = {"{\"revocations\":{\"user-1\":\"soon\"}}", "{\"revocations\":[]}",
                         "not json", "{\"revocations\":{\"a\":1,\"a\":2}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(mc_auth_verifier_replace_revocations(v, bad[i], strlen(bad[i])), MC_OK);
    assert_int_equal(mc_auth_verify(v, tok, NOW, &p, &reason), MC_ERR_UNAUTHENTICATED);

    /* Issued at the "not before" itself: a sign-in after the revocation. */
    snprintf(doc, sizeof doc, "{\"revocations\":{\"user-1\":%lld}}", (long long)NOW - 10);
    assert_int_equal(mc_auth_verifier_replace_revocations(v, doc, strlen(doc)), MC_OK);
    assert_int_equal(mc_auth_verify(v, tok, NOW, &p, &reason), MC_OK);

    /* A listed subject's token without iat cannot show it is newer. */
    char *no_iat = NULL;
    {
        /* mc_auth_mint always sets iat; forge one without by re-signing. */
        jwt_t *jwt = NULL;
        assert_int_equal(jwt_new(&jwt), 0);
        assert_int_equal(jwt_set_alg(jwt, JWT_ALG_RS256, (const unsigned char *)k->private_pem,
                                     (int)strlen(k->private_pem)), 0);
        jwt_add_grant(jwt, "iss", "motcua-identity");
        jwt_add_grant(jwt, "aud", "motcua");
        jwt_add_grant(jwt, "sub", "user-1");
        jwt_add_grant_int(jwt, "exp", (long)(NOW + 600));
        no_iat = jwt_encode_str(jwt);
        jwt_free(jwt);
    }
    assert_int_equal(mc_auth_verify(v, no_iat, NOW, &p, &reason), MC_ERR_UNAUTHENTICATED);
    assert_ptr_equal(reason, MC_AUTH_REVOKED);
    /* An empty list lets it through again. */
    const char *empty = "{\"revocations\":{}}";
    assert_int_equal(mc_auth_verifier_replace_revocations(v, empty, strlen(empty)), MC_OK);
    assert_int_equal(mc_auth_verify(v, no_iat, NOW, &p, &reason), MC_OK);
    free(no_iat);
    free(tok);
    mc_auth_verifier_free(v);
}

/* The poller of an unreachable identity service leaves the list in force,
   verification goes on, and freeing the verifier stops the poller. A bad
   interval is refused. */
static void test_unreachable_revocation_list_keeps_the_last_one(void **state)
{
    struct keys *k = *state;
    mc_auth_verifier *v = verifier(k);
    char *tok = mint(k->private_pem, "motcua-identity", "motcua", NOW + 600, NULL);
    char doc[96];
    snprintf(doc, sizeof doc, "{\"revocations\":{\"user-1\":%lld}}", (long long)NOW);
    assert_int_equal(mc_auth_verifier_replace_revocations(v, doc, strlen(doc)), MC_OK);

    setenv("MOTCUA_UNITTEST_REVOCATIONS_POLL_SECONDS", "0", 1);
    assert_false(mc_auth_revocations_start(v, "unittest"));
    setenv("MOTCUA_UNITTEST_REVOCATIONS_POLL_SECONDS", "1", 1);
    /* Port 1 on the loopback: connection refused at once. */
    setenv("MOTCUA_UNITTEST_REVOCATIONS_URL", "http://127.0.0.1:1/.well-known/revocations", 1);
    assert_true(mc_auth_revocations_start(v, "unittest"));
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL); /* the first poll has failed by now */
    assert_int_equal(mc_auth_verifier_revocation_count(v), 1);
    mc_principal p;
    const char *reason = NULL;
    assert_int_equal(mc_auth_verify(v, tok, NOW, &p, &reason), MC_ERR_UNAUTHENTICATED);
    assert_ptr_equal(reason, MC_AUTH_REVOKED);
    unsetenv("MOTCUA_UNITTEST_REVOCATIONS_URL");
    unsetenv("MOTCUA_UNITTEST_REVOCATIONS_POLL_SECONDS");
    free(tok);
    mc_auth_verifier_free(v); /* joins the poller */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_token),
        cmocka_unit_test(test_expired_and_not_yet_valid),
        cmocka_unit_test(test_wrong_issuer_audience),
        cmocka_unit_test(test_other_key_and_tampering),
        cmocka_unit_test(test_algorithm_confusion),
        cmocka_unit_test(test_garbage_and_size),
        cmocka_unit_test(test_missing_exp_and_sub),
        cmocka_unit_test(test_jwks_keys_and_kid),
        cmocka_unit_test(test_absurd_expiry_rejected),
        cmocka_unit_test(test_jwks_rotation_and_unknown_key_signal),
        cmocka_unit_test(test_revoked_subjects),
        cmocka_unit_test(test_unreachable_revocation_list_keeps_the_last_one),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
