/*
 * Fuzz target auth: mc_auth_verify (common/src/auth.c).
 *
 * The verifier trusts one RSA-2048 public key (kid "fuzz-key") generated at start-up in
 * LLVMFuzzerInitialize with EVP_RSA_gen; issuer "https://id.motcua.test", audience
 * "motcua", leeway 60 s, verified at now = 1750000000 (2025-06-15).
 *
 * Two kinds of input:
 *  - anything not starting with '{': the token bytes themselves (up to the first NUL, as a
 *    C string would be). Committed seeds carry signatures of another key, so this path
 *    exercises size limits, splitting, base64url, the header and key selection;
 *  - "{...": HEADER NUL CLAIMS (or CLAIMS alone, with the header
 *    {"alg":"RS256","typ":"JWT","kid":"fuzz-key"}), base64url-encoded and signed here
 *    with the private key, so that fuzzed headers and claims get past the signature and
 *    into the claim checks. The same token with one byte of its payload changed must be
 *    rejected.
 *
 * Invariants besides memory safety: a rejection is MC_ERR_UNAUTHENTICATED with a
 * non-empty reason; an acceptance yields a non-empty, terminated sub, terminated agency,
 * scope and jti, only known role bits, and an exp not before now - leeway.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fuzz_util.h"
#include "motcua/auth.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ISSUER "https://id.motcua.test"
#define AUDIENCE "motcua"
#define LEEWAY 60
#define NOW INT64_C(1750000000)
#define ALL_ROLES 0x7fu

static EVP_PKEY *g_key;
static mc_auth_verifier *g_verifier;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    g_key = EVP_RSA_gen(2048);
    FUZZ_CHECK(g_key != NULL, "EVP_RSA_gen failed");
    BIO *bio = BIO_new(BIO_s_mem());
    FUZZ_CHECK(bio != NULL && PEM_write_bio_PUBKEY(bio, g_key) == 1, "PEM export failed");
    char *pem_data;
    long pem_len = BIO_get_mem_data(bio, &pem_data);
    char *pem = fuzz_strndup((const uint8_t *)pem_data, (size_t)pem_len);
    BIO_free(bio);
    g_verifier = mc_auth_verifier_new(ISSUER, AUDIENCE, LEEWAY);
    FUZZ_CHECK(g_verifier != NULL, "mc_auth_verifier_new failed");
    FUZZ_CHECK(mc_auth_verifier_add_pem(g_verifier, "fuzz-key", pem) == MC_OK,
               "mc_auth_verifier_add_pem failed");
    FUZZ_CHECK(mc_auth_verifier_key_count(g_verifier) == 1, "key count");
    free(pem);
    return 0;
}

static size_t b64url(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = a[v >> 6 & 63];
        out[o++] = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = a[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

static void verify(const char *token, bool *accepted)
{
    mc_principal p;
    const char *reason = NULL;
    memset(&p, 0x5a, sizeof p);
    mc_error rc = mc_auth_verify(g_verifier, token, NOW, &p, &reason);
    *accepted = rc == MC_OK;
    if (rc != MC_OK) {
        FUZZ_CHECK(rc == MC_ERR_UNAUTHENTICATED, "rejection with error %d", (int)rc);
        FUZZ_CHECK(reason != NULL && *reason != '\0', "rejection without a reason");
        return;
    }
    FUZZ_CHECK(memchr(p.sub, '\0', sizeof p.sub) != NULL && p.sub[0] != '\0', "bad sub");
    FUZZ_CHECK(memchr(p.agency, '\0', sizeof p.agency) != NULL, "agency not terminated");
    FUZZ_CHECK(memchr(p.scope, '\0', sizeof p.scope) != NULL, "scope not terminated");
    FUZZ_CHECK(memchr(p.jti, '\0', sizeof p.jti) != NULL, "jti not terminated");
    FUZZ_CHECK((p.roles & ~ALL_ROLES) == 0, "unknown role bits %#x", p.roles);
    FUZZ_CHECK(p.exp >= NOW - LEEWAY - 1, "accepted a token that expired at %lld",
               (long long)p.exp);
}

static void fuzz_signed(const uint8_t *data, size_t size)
{
    static const char default_header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"fuzz-key\"}";
    const uint8_t *sep = memchr(data, 0, size);
    const uint8_t *header = (const uint8_t *)default_header, *claims = data;
    size_t header_len = sizeof default_header - 1, claims_len = size;
    if (sep != NULL) {
        header = data;
        header_len = (size_t)(sep - data);
        claims = sep + 1;
        claims_len = size - header_len - 1;
    }
    size_t cap = (header_len + claims_len) / 3 * 4 + 8 + 2 + 1024;
    char *token = malloc(cap);
    FUZZ_CHECK(token != NULL, "malloc");
    size_t n = b64url(header, header_len, token);
    token[n++] = '.';
    size_t payload_at = n;
    n += b64url(claims, claims_len, token + n);
    size_t payload_len = n - payload_at;

    unsigned char sig[512];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    FUZZ_CHECK(md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, g_key) == 1 &&
                   EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)token, n) == 1,
               "signing failed");
    EVP_MD_CTX_free(md);
    token[n++] = '.';
    b64url(sig, sig_len, token + n);

    bool accepted;
    verify(token, &accepted);
    if (payload_len > 0) {
        /* Any change to the signed part must break the signature. */
        char *c = &token[payload_at + payload_len / 2];
        *c = *c == 'A' ? 'B' : 'A';
        verify(token, &accepted);
        FUZZ_CHECK(!accepted, "a token with a modified payload was accepted");
    }
    free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == '{') {
        fuzz_signed(data, size);
        return 0;
    }
    char *token = fuzz_strndup(data, size);
    bool accepted;
    verify(token, &accepted);
    /* Nothing unsigned by our key can pass. Seeds and mutations cannot forge RS256. */
    FUZZ_CHECK(!accepted, "a token not signed by the verifier's key was accepted");
    free(token);
    return 0;
}
