/*
 * Unit tests: a service's own token (motcua/service_token.h) is fetched once
 * and reused, renewed before it expires, kept while identity is away and
 * still valid, refused once expired, shared by concurrent callers (one fetch),
 * and the token endpoint's answer is read strictly. Also the scope check of
 * principals (mc_principal_has_scope).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "motcua/service_token.h"

struct fake_identity {
    pthread_mutex_t lock;
    int fetches;
    bool down;
    int64_t expires_in;
};

static mc_error fake_fetch(void *arg, char *token, size_t token_len, int64_t *expires_in)
{
    struct fake_identity *f = arg;
    pthread_mutex_lock(&f->lock);
    int n = ++f->fetches;
    bool down = f->down;
    pthread_mutex_unlock(&f->lock);
    if (down)
        return MC_ERR_NOT_READY;
    snprintf(token, token_len, "token-%d", n);
    *expires_in = f->expires_in;
    return MC_OK;
}

static void test_cached_then_renewed_before_expiry(void **state)
{
    (void)state;
    struct fake_identity f = {PTHREAD_MUTEX_INITIALIZER, 0, false, 900};
    mc_service_token *t = mc_service_token_new(fake_fetch, &f);
    char out[64];
    assert_int_equal(mc_service_token_get(t, 1000, out, sizeof out), MC_OK);
    assert_string_equal(out, "token-1");
    /* reused while far from expiry */
    assert_int_equal(mc_service_token_get(t, 1000 + 700, out, sizeof out), MC_OK);
    assert_string_equal(out, "token-1");
    assert_int_equal(f.fetches, 1);
    /* within the last fifth of its 900 s: renewed before it expires */
    assert_int_equal(mc_service_token_get(t, 1000 + 721, out, sizeof out), MC_OK);
    assert_string_equal(out, "token-2");
    assert_int_equal(f.fetches, 2);
    /* invalidated (the callee said 401): fetched again */
    mc_service_token_invalidate(t);
    assert_int_equal(mc_service_token_get(t, 1000 + 722, out, sizeof out), MC_OK);
    assert_string_equal(out, "token-3");
    mc_service_token_free(t);
}

static void test_identity_away(void **state)
{
    (void)state;
    struct fake_identity f = {PTHREAD_MUTEX_INITIALIZER, 0, true, 900};
    mc_service_token *t = mc_service_token_new(fake_fetch, &f);
    char out[64];
    assert_int_equal(mc_service_token_get(t, 1000, out, sizeof out), MC_ERR_NOT_READY);
    f.down = false;
    assert_int_equal(mc_service_token_get(t, 1000, out, sizeof out), MC_OK);
    f.down = true;
    /* due for renewal, identity away, token still valid: used */
    assert_int_equal(mc_service_token_get(t, 1000 + 850, out, sizeof out), MC_OK);
    assert_string_equal(out, "token-2");
    /* expired: no token rather than a dead one */
    assert_int_equal(mc_service_token_get(t, 1000 + 900, out, sizeof out), MC_ERR_NOT_READY);
    /* too small a buffer is an error, never a truncated token */
    f.down = false;
    char tiny[4];
    assert_int_equal(mc_service_token_get(t, 1000 + 901, tiny, sizeof tiny), MC_ERR_INTERNAL);
    mc_service_token_free(t);
}

struct race {
    mc_service_token *t;
    char out[64];
    mc_error rc;
};

static void *get_one(void *arg)
{
    struct race *r = arg;
    r->rc = mc_service_token_get(r->t, 5000, r->out, sizeof r->out);
    return NULL;
}

static void test_concurrent_callers_share_one_fetch(void **state)
{
    (void)state;
    struct fake_identity f = {PTHREAD_MUTEX_INITIALIZER, 0, false, 900};
    mc_service_token *t = mc_service_token_new(fake_fetch, &f);
    struct race r[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        r[i].t = t;
        pthread_create(&th[i], NULL, get_one, &r[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].rc, MC_OK);
        assert_string_equal(r[i].out, "token-1");
    }
    assert_int_equal(f.fetches, 1);
    mc_service_token_free(t);
}

static void test_refresh_margin(void **state)
{
    (void)state;
    /* a fifth of the lifetime, at least 30 s */
    assert_false(mc_service_token_needs_refresh(0, 900, 900));
    assert_false(mc_service_token_needs_refresh(719, 900, 900));
    assert_true(mc_service_token_needs_refresh(720, 900, 900));
    assert_false(mc_service_token_needs_refresh(29, 60, 60));
    assert_true(mc_service_token_needs_refresh(30, 60, 60));
    assert_true(mc_service_token_needs_refresh(100, 60, 60));
}

static void test_parse_the_token_answer(void **state)
{
    (void)state;
    char tok[32];
    int64_t exp = 0;
    assert_true(mc_service_token_parse(
        "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":900,\"scope\":\"x\"}", tok,
        sizeof tok, &exp));
    assert_string_equal(tok, "abc");
    assert_int_equal(exp, 900);
    const char *bad[] = {
        "", "null", "[]", "{\"access_token\":\"abc\"}", "{\"expires_in\":900}",
        "{\"access_token\":\"\",\"expires_in\":900}", "{\"access_token\":1,\"expires_in\":900}",
        "{\"access_token\":\"abc\",\"expires_in\":0}", "{\"access_token\":\"abc\",\"expires_in\":\"900\"}",
        "{\"access_token\":\"abc\",\"expires_in\":900,\"expires_in\":1}",
        "{\"access_token\":\"0123456789012345678901234567890123\",\"expires_in\":900}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(mc_service_token_parse(bad[i], tok, sizeof tok, &exp));
}

static void test_principal_scopes(void **state)
{
    (void)state;
    mc_principal p;
    memset(&p, 0, sizeof p);
    snprintf(p.scope, sizeof p.scope, "dossier:events  dossier:payments identity:staff.read");
    assert_true(mc_principal_has_scope(&p, "dossier:payments"));
    assert_true(mc_principal_has_scope(&p, "dossier:events"));
    assert_true(mc_principal_has_scope(&p, "identity:staff.read"));
    assert_false(mc_principal_has_scope(&p, "dossier:payment"));
    assert_false(mc_principal_has_scope(&p, "dossier"));
    assert_false(mc_principal_has_scope(&p, "identity:staff"));
    assert_false(mc_principal_has_scope(&p, ""));
    p.scope[0] = '\0';
    assert_false(mc_principal_has_scope(&p, "dossier:payments"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cached_then_renewed_before_expiry),
        cmocka_unit_test(test_identity_away),
        cmocka_unit_test(test_concurrent_callers_share_one_fetch),
        cmocka_unit_test(test_refresh_margin),
        cmocka_unit_test(test_parse_the_token_answer),
        cmocka_unit_test(test_principal_scopes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
