/*
 * bench_token_verify: the cost of verifying one access token, the hot path
 * of every authenticated request in every service.
 *
 * Measures mc_auth_verify (pinned RS256, key pre-parsed once, claims
 * checked) on a realistic token, single-threaded and on every core, and,
 * for comparison, libjwt's jwt_decode with the PEM key (which re-parses the
 * key on every call and trusts the token's own alg). Prints microseconds
 * per verification and verifications per second.
 *
 *   build/tests/bench_token_verify [iterations]   (default 20000)
 */
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "motcua/auth.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *pem_of(EVP_PKEY *k, int private_key)
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

struct job {
    const mc_auth_verifier *v;
    const char *token;
    long iterations;
    long failures;
};

static void *verify_loop(void *arg)
{
    struct job *j = arg;
    int64_t now = (int64_t)time(NULL);
    for (long i = 0; i < j->iterations; i++) {
        mc_principal p;
        if (mc_auth_verify(j->v, j->token, now, &p, NULL) != MC_OK)
            j->failures++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    if (iterations <= 0)
        iterations = 20000;
    EVP_PKEY *key = EVP_RSA_gen(2048);
    char *private_pem = pem_of(key, 1), *public_pem = pem_of(key, 0);
    int64_t now = (int64_t)time(NULL);
    char *token = mc_auth_mint(private_pem, "dev-1", "motcua-identity", "motcua",
                               "3f2c1a9e-7b1d-4c55-9a0e-2d6f1b8c4e21", now, now + 900,
                               "{\"roles\":[\"officer\",\"approver\"],\"agency\":\"000.00.06.H56\","
                               "\"jti\":\"0f1e2d3c4b5a69788796a5b4\",\"scope\":\"\"}");
    mc_auth_verifier *v = mc_auth_verifier_new("motcua-identity", "motcua", 30);
    if (token == NULL || v == NULL || mc_auth_verifier_add_pem(v, "dev-1", public_pem) != MC_OK) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }

    struct job one = {v, token, iterations, 0};
    double t0 = now_s();
    verify_loop(&one);
    double single = now_s() - t0;

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    pthread_t threads[64];
    struct job jobs[64];
    long n_threads = cores < 64 ? cores : 64;
    t0 = now_s();
    for (long i = 0; i < n_threads; i++) {
        jobs[i] = (struct job){v, token, iterations, 0};
        pthread_create(&threads[i], NULL, verify_loop, &jobs[i]);
    }
    long failures = one.failures;
    for (long i = 0; i < n_threads; i++) {
        pthread_join(threads[i], NULL);
        failures += jobs[i].failures;
    }
    double parallel = now_s() - t0;

    long naive_iterations = iterations / 4 > 0 ? iterations / 4 : 1;
    t0 = now_s();
    for (long i = 0; i < naive_iterations; i++) {
        jwt_t *jwt = NULL;
        if (jwt_decode(&jwt, token, (const unsigned char *)public_pem, (int)strlen(public_pem)) != 0)
            failures++;
        jwt_free(jwt);
    }
    double naive = now_s() - t0;

    printf("token verification (RS256-2048, %zu-byte token)\n", strlen(token));
    printf("  mc_auth_verify, 1 thread:     %7.1f us/verify  %9.0f verify/s\n",
           single / (double)iterations * 1e6, (double)iterations / single);
    printf("  mc_auth_verify, %ld threads:   %7.1f us/verify  %9.0f verify/s (all cores)\n", n_threads,
           parallel / (double)(iterations * n_threads) * 1e6,
           (double)(iterations * n_threads) / parallel);
    printf("  libjwt jwt_decode (PEM per call), 1 thread: %7.1f us/verify  %9.0f verify/s\n",
           naive / (double)naive_iterations * 1e6, (double)naive_iterations / naive);
    printf("failures: %ld\n", failures);
    mc_auth_verifier_free(v);
    free(token);
    free(private_pem);
    free(public_pem);
    EVP_PKEY_free(key);
    return failures == 0 ? 0 : 1;
}
