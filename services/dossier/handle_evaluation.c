/*
 * /dossiers/{id}/evaluation: after the result was returned, the applicant
 * rates the handling once on the nine criteria of DOMAIN.md §7 (0-2 points
 * each, 18 at most) with an overall satisfaction level.
 *
 *   PUT /dossiers/{id}/evaluation   the applicant (owner), once: 201, then 409
 *   GET /dossiers/{id}/evaluation   whoever may see the dossier
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dossier.h"
#include "motcua/json_spec.h"
#include "store.h"
#include "transition.h"

static const char *const satisfaction_levels[] = {"very_satisfied", "satisfied", "not_satisfied",
                                                  NULL};

/* The nine criteria, in DOMAIN.md's order; the body names each. */
static const char *const criteria[9] = {
    "total_time",         /* total time vs. the legal limit */
    "time_at_each_unit",  /* time at each unit */
    "contacts_needed",    /* number of contacts needed */
    "agencies_contacted", /* number of agencies contacted */
    "one_stop_handling",  /* one-stop handling */
    "procedure_publication",
    "staff_attitude",
    "complaint_handling",
    "online_service_quality",
};

static const struct mc_field score_fields[] = {
    {.name = "total_time", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0, .max = 2},
    {.name = "time_at_each_unit", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0, .max = 2},
    {.name = "contacts_needed", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0, .max = 2},
    {.name = "agencies_contacted", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0, .max = 2},
    {.name = "one_stop_handling", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0, .max = 2},
    {.name = "procedure_publication", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0, .max = 2},
    {.name = "staff_attitude", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0, .max = 2},
    {.name = "complaint_handling", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0, .max = 2},
    {.name = "online_service_quality", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0, .max = 2},
    {0}};

static const struct mc_field evaluation_fields[] = {
    {.name = "scores", .type = MC_F_OBJECT, .required = true, .fields = score_fields},
    {.name = "satisfaction", .type = MC_F_STRING, .required = true, .enum_values = satisfaction_levels},
    {.name = "comment", .type = MC_F_STRING, .nullable = true, .max_len = 2000},
    {0}};

struct evaluation_tx {
    mc_request *req;
    struct dossier d;
    int scores[9];
    json_t *answer;
};

static mc_error evaluation_tx_fn(mc_db_conn *conn, void *arg)
{
    struct evaluation_tx *t = arg;
    const json_t *body = t->req->body;
    struct store_evaluation e = {
        .dossier_id = t->d.id,
        .satisfaction = mc_json_str(body, "satisfaction", ""),
        .comment = mc_json_str(body, "comment", NULL),
        .agency_code = t->d.handling_agency,
        .procedure_code = t->d.procedure_code,
        .evaluated_by = t->req->principal.sub,
    };
    memcpy(e.scores, t->scores, sizeof e.scores);
    json_decref(t->answer);
    t->answer = NULL;
    mc_error rc = store_evaluation_insert(conn, &e, &t->answer);
    if (rc != MC_OK)
        return rc;
    json_t *details = json_pack("{sO si ss}", "scores", json_object_get(body, "scores"), "total",
                                e.total, "satisfaction", e.satisfaction);
    rc = transition_event(conn, &t->d, "dossier.dossier.evaluated", "evaluate", "citizen", details,
                          (int64_t)time(NULL));
    json_decref(details);
    return rc;
}

void handle_evaluation_put(mc_request *req)
{
    json_t *errors = mc_errors_new();
    mc_json_check(req->body, evaluation_fields, "", errors);
    if (json_array_size(errors) > 0) {
        mc_reply_errors(req, MC_ERR_VALIDATION, errors);
        return;
    }
    json_decref(errors);
    struct evaluation_tx t = {.req = req};
    unsigned actors;
    bool read_only;
    if (!dossier_load_for_request(req, &t.d, &actors, &read_only))
        return;
    if ((actors & ACTOR_OWNER) == 0) {
        dossier_clear(&t.d);
        mc_reply_error(req, MC_ERR_FORBIDDEN, "only the applicant evaluates the handling");
        return;
    }
    if (t.d.status != DS_RESULT_RETURNED) {
        json_t *members = json_pack("{ss}", "status_name", workflow_status_name(t.d.status));
        mc_reply_problem(req, MC_ERR_DOSSIER_TRANSITION_NOT_ALLOWED,
                         "a dossier is evaluated after its result was returned", members);
        dossier_clear(&t.d);
        return;
    }
    const json_t *scores = json_object_get(req->body, "scores");
    for (size_t i = 0; i < 9; i++)
        t.scores[i] = (int)json_integer_value(json_object_get(scores, criteria[i]));
    mc_error rc = mc_db_transaction(mc_request_db(req), false, false, 3, evaluation_tx_fn, &t);
    dossier_clear(&t.d);
    if (rc != MC_OK) {
        json_decref(t.answer);
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_json(req, 201, t.answer);
}

void handle_evaluation_get(mc_request *req)
{
    struct dossier d;
    unsigned actors;
    bool read_only;
    if (!dossier_load_for_request(req, &d, &actors, &read_only))
        return;
    if (dossier_refuse_payment_view(req, actors, read_only)) {
        dossier_clear(&d);
        return;
    }
    json_t *answer = NULL;
    mc_error rc = store_evaluation_get(mc_request_db(req), d.id, &answer);
    dossier_clear(&d);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "private, no-cache");
    mc_reply_json(req, 200, answer);
}
