/*
 * Unit tests: who may see a dossier, at the data (dossier_view.c), for
 * machine clients (bound by scope and agency, the payment view), the name a
 * history entry keeps and who sees it, and which identity accounts may be
 * assigned (staff_directory.c's pure rule).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dossier.h"
#include "staff_directory.h"

static void principal(mc_request *req, const char *roles_csv, const char *agency, const char *scope)
{
    memset(req, 0, sizeof *req);
    req->authenticated = true;
    snprintf(req->principal.sub, sizeof req->principal.sub, "cl_test");
    snprintf(req->principal.agency, sizeof req->principal.agency, "%s", agency);
    snprintf(req->principal.scope, sizeof req->principal.scope, "%s", scope);
    char roles[128];
    snprintf(roles, sizeof roles, "%s", roles_csv);
    for (char *r = strtok(roles, ","); r != NULL; r = strtok(NULL, ","))
        req->principal.roles |= mc_role_from_name(r);
}

/* A dossier of agency H handling, awaiting payment of 25000 VND. */
static void awaiting_payment(struct dossier *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->id, sizeof d->id, "0f6a2f5e-1c3b-4d8e-a9b7-5c4d3e2f1a0b");
    snprintf(d->code, sizeof d->code, "H-250303-0001");
    snprintf(d->agency_code, sizeof d->agency_code, "H");
    snprintf(d->handling_agency, sizeof d->handling_agency, "H");
    snprintf(d->filed_by_role, sizeof d->filed_by_role, "citizen");
    snprintf(d->owner_sub, sizeof d->owner_sub, "citizen-1");
    snprintf(d->procedure_code, sizeof d->procedure_code, "2.000488");
    snprintf(d->procedure_name, sizeof d->procedure_name, "Cấp phiếu lý lịch tư pháp");
    d->procedure_version = 1;
    d->status = DS_AWAITING_PAYMENT;
    d->revision = 4;
    d->fee_amount = 25000;
    d->step_index = -1;
    d->transfer_chain = json_array();
    d->applicant = json_pack("{ss ss ss ss}", "full_name", "Nguyễn Văn An", "personal_id",
                             "038090012345", "phone", "0912345678", "address", "25 Trần Phú");
}

static void release(struct dossier *d)
{
    json_decref(d->transfer_chain);
    json_decref(d->applicant);
}

static void test_a_payment_client_is_bound_to_its_agency_and_payment_demands(void **state)
{
    (void)state;
    struct dossier d;
    awaiting_payment(&d);
    mc_request req;
    bool read_only = true;
    principal(&req, "service", "H", "dossier:events dossier:payments");
    assert_int_equal(dossier_actors(&req, &d, &read_only), ACTOR_SERVICE);
    assert_false(read_only);
    assert_true(dossier_payment_view_only(ACTOR_SERVICE, false));
    /* paid: it had a demand, still its receipt to read */
    d.status = DS_PROCESSING;
    assert_int_equal(dossier_actors(&req, &d, &read_only), ACTOR_SERVICE);
    /* never a demand, a draft, another agency's, no agency, no scope: nothing */
    d.fee_amount = -1;
    assert_int_equal(dossier_actors(&req, &d, &read_only), 0);
    d.fee_amount = 25000;
    d.status = DS_DRAFT;
    char code[sizeof d.code];
    memcpy(code, d.code, sizeof code);
    d.code[0] = '\0'; /* a draft never submitted has no code */
    assert_int_equal(dossier_actors(&req, &d, &read_only), 0);
    /* paying first, and a draft back from paying first (a late payment still
       submits it): the payment client confirms them */
    memcpy(d.code, code, sizeof code);
    assert_int_equal(dossier_actors(&req, &d, &read_only), ACTOR_SERVICE);
    d.status = DS_AWAITING_SUBMISSION_PAYMENT;
    assert_int_equal(dossier_actors(&req, &d, &read_only), ACTOR_SERVICE);
    /* not yet the agency's: its staff do not see a citizen's dossier paying first */
    principal(&req, "officer", "H", "");
    assert_int_equal(dossier_actors(&req, &d, &read_only), 0);
    principal(&req, "service", "H", "dossier:events dossier:payments");
    d.status = DS_AWAITING_PAYMENT;
    principal(&req, "service", "OTHER", "dossier:payments");
    assert_int_equal(dossier_actors(&req, &d, &read_only), 0);
    assert_false(read_only);
    principal(&req, "service", "", "dossier:payments");
    assert_int_equal(dossier_actors(&req, &d, &read_only), 0);
    principal(&req, "service", "H", "dossier:payment dossier:events");
    assert_int_equal(dossier_actors(&req, &d, &read_only), 0);
    /* staff see the whole dossier */
    principal(&req, "officer", "H", "");
    assert_false(dossier_payment_view_only(dossier_actors(&req, &d, &read_only), read_only));
    release(&d);
}

static void test_the_payment_view_has_no_personal_data(void **state)
{
    (void)state;
    struct dossier d;
    awaiting_payment(&d);
    json_t *view = dossier_view_json(&d, ACTOR_SERVICE, false);
    const char *members[] = {"id", "code", "status", "status_name", "revision", "procedure",
                             "agency_code", "handling_agency", "fee_amount", "applicant_name",
                             "dates"};
    assert_int_equal(json_object_size(view), sizeof members / sizeof members[0]);
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        assert_non_null(json_object_get(view, members[i]));
    assert_string_equal(json_string_value(json_object_get(view, "applicant_name")), "Nguyễn Văn An");
    assert_int_equal(json_integer_value(json_object_get(view, "fee_amount")), 25000);
    char *text = json_dumps(view, 0);
    assert_null(strstr(text, "038090012345"));
    assert_null(strstr(text, "0912345678"));
    assert_null(strstr(text, "Trần Phú"));
    free(text);
    json_decref(view);
    /* anyone else: the whole dossier */
    view = dossier_view_json(&d, ACTOR_OFFICER, false);
    assert_non_null(json_object_get(view, "applicant"));
    json_decref(view);
    release(&d);
}

static void test_the_name_a_history_entry_keeps(void **state)
{
    (void)state;
    mc_request req;
    principal(&req, "officer,approver", "H", "");
    assert_null(dossier_actor_name(&req.principal)); /* no name claim */
    snprintf(req.principal.name, sizeof req.principal.name, "Trần Thị Bình");
    assert_string_equal(dossier_actor_name(&req.principal), "Trần Thị Bình");
    principal(&req, "citizen", "", "");
    snprintf(req.principal.name, sizeof req.principal.name, "Nguyễn Văn An");
    assert_null(dossier_actor_name(&req.principal));
    principal(&req, "service", "H", "dossier:payments");
    snprintf(req.principal.name, sizeof req.principal.name, "Hệ thống");
    assert_null(dossier_actor_name(&req.principal));

    json_t *items = json_pack("[{s{ss ss ss ss}}]", "actor", "sub", "u1", "role", "officer", "agency",
                              "H", "name", "Trần Thị Bình");
    json_t *actor = json_object_get(json_array_get(items, 0), "actor");
    dossier_history_for_viewer(items, ACTOR_OFFICER | ACTOR_COUNTER, false);
    assert_non_null(json_object_get(actor, "name"));
    dossier_history_for_viewer(items, 0, true); /* another agency's staff, auditors */
    assert_non_null(json_object_get(actor, "name"));
    dossier_history_for_viewer(items, ACTOR_OWNER, false);
    assert_true(json_is_null(json_object_get(actor, "name"))); /* present, null: the null rule */
    assert_string_equal(json_string_value(json_object_get(actor, "agency")), "H");
    json_decref(items);
}

static void test_who_may_be_assigned(void **state)
{
    (void)state;
    struct {
        const char *account;
        bool handles;
    } cases[] = {
        {"{\"agency\":\"H\",\"roles\":[\"officer\"],\"disabled\":false}", true},
        {"{\"agency\":\"H\",\"roles\":[\"approver\"]}", true},
        {"{\"agency\":\"H\",\"roles\":[\"agency_admin\"],\"disabled\":false}", true},
        {"{\"agency\":\"H\",\"roles\":[\"officer\"],\"disabled\":true}", false},
        {"{\"agency\":\"OTHER\",\"roles\":[\"officer\"],\"disabled\":false}", false},
        {"{\"roles\":[\"system_admin\"],\"disabled\":false}", false},
        {"{\"agency\":\"H\",\"roles\":[\"auditor\"],\"disabled\":false}", false},
        {"{\"agency\":\"H\",\"roles\":[],\"disabled\":false}", false},
        {"{\"agency\":\"H\",\"disabled\":false}", false},
        {"[]", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *account = json_loads(cases[i].account, 0, NULL);
        assert_non_null(account);
        assert_int_equal(staff_account_handles(account, "H"), cases[i].handles);
        json_decref(account);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_payment_client_is_bound_to_its_agency_and_payment_demands),
        cmocka_unit_test(test_the_payment_view_has_no_personal_data),
        cmocka_unit_test(test_the_name_a_history_entry_keeps),
        cmocka_unit_test(test_who_may_be_assigned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
