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

/* The body, bound by evaluation_fields (strings borrowed from the request). */
struct evaluation_body {
    const json_t *scores;
    long long score[9]; /* the nine criteria, in DOMAIN.md's order */
    const char *satisfaction;
    const char *comment;
};

#define CRITERION(criterion, i)                                                                    \
    {.name = criterion, .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0,       \
     .max = 2, MC_BIND(struct evaluation_body, score[i])}
static const struct mc_field score_fields[] = {
    CRITERION("total_time", 0),         /* total time vs. the legal limit */
    CRITERION("time_at_each_unit", 1),  /* time at each unit */
    CRITERION("contacts_needed", 2),    /* number of contacts needed */
    CRITERION("agencies_contacted", 3), /* number of agencies contacted */
    CRITERION("one_stop_handling", 4),  /* one-stop handling */
    CRITERION("procedure_publication", 5),
    CRITERION("staff_attitude", 6),
    CRITERION("complaint_handling", 7),
    CRITERION("online_service_quality", 8),
    {0}};

static const struct mc_field evaluation_fields[] = {
    {.name = "scores", .type = MC_F_OBJECT, .required = true, .fields = score_fields,
     MC_BIND(struct evaluation_body, scores)},
    {.name = "satisfaction", .type = MC_F_STRING, .required = true,
     .enum_values = satisfaction_levels, MC_BIND(struct evaluation_body, satisfaction)},
    {.name = "comment", .type = MC_F_STRING, .nullable = true, .max_len = 2000,
     MC_BIND(struct evaluation_body, comment)},
    {0}};

struct evaluation_tx {
    mc_request *req;
    struct dossier d;
    struct evaluation_body body;
    json_t *answer;
};

static mc_error evaluation_tx_fn(mc_db_conn *conn, void *arg)
{
    struct evaluation_tx *t = arg;
    struct store_evaluation e = {
        .dossier_id = t->d.id,
        .satisfaction = t->body.satisfaction,
        .comment = t->body.comment,
        .agency_code = t->d.handling_agency,
        .procedure_code = t->d.procedure_code,
        .evaluated_by = t->req->principal.sub,
    };
    for (size_t i = 0; i < 9; i++)
        e.scores[i] = (int)t->body.score[i];
    json_decref(t->answer);
    t->answer = NULL;
    mc_error rc = store_evaluation_insert(conn, &e, &t->answer);
    if (rc != MC_OK)
        return rc;
    json_t *details = json_pack("{sO si ss}", "scores", t->body.scores, "total",
                                e.total, "satisfaction", e.satisfaction);
    rc = transition_event(conn, &t->d, "dossier.dossier.evaluated", "evaluate", "citizen", details,
                          (int64_t)time(NULL));
    json_decref(details);
    return rc;
}

void handle_evaluation_put(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct evaluation_tx t = {.req = req};
    if (mc_json_parse_fields(req->body, evaluation_fields, "", errors, &t.body) > 0) {
        mc_reply_errors(req, MC_ERR_VALIDATION, errors);
        return;
    }
    json_decref(errors);
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
    mc_error rc = mc_db_transaction(mc_request_db(req), NULL, evaluation_tx_fn, &t);
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
    mc_db_conn *conn = NULL;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_evaluation_get(conn, d.id, &answer);
        mc_db_release(mc_request_db(req), conn);
    }
    dossier_clear(&d);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json(req, 200, answer);
}
