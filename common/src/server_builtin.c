/*
 * The endpoints every service answers besides its own routes: /healthz
 * (process alive), /readyz (database reachable, migrations applied, a key to
 * verify tokens, not stopping),
 * /metrics (Prometheus text) and /openapi.json (the bundled document).
 */
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

#include "server_internal.h"

static const char *const builtin_paths[] = {"/healthz", "/readyz", "/metrics", "/openapi.json"};

static void handle_builtin(mc_request *req, int which)
{
    mc_app *app = req->app;
    switch (which) {
    case 0:
        mc_reply_json(req, 200, json_pack("{ss ss}", "status", "ok", "service", app->svc->name));
        return;
    case 1: {
        if (mc_server_draining()) {
            mc_reply_error(req, MC_ERR_NOT_READY, "%s", "stopping: draining connections");
            return;
        }
        /* Not ready to verify a token: a replica restarted while identity was unreachable
           would refuse every caller with 401 until its next JWKS fetch. */
        if (app->jwks_url != NULL && mc_auth_verifier_key_count(app->auth) == 0 &&
            !mc_server_refresh_jwks(app)) {
            mc_reply_error(req, MC_ERR_NOT_READY, "%s", "no key to verify tokens yet (JWKS_URL)");
            return;
        }
        mc_error rc = mc_db_ready(app->db, app->expected_migrations);
        if (rc == MC_OK)
            mc_reply_json(req, 200, json_pack("{ss ss}", "status", "ready", "service", app->svc->name));
        else
            mc_reply_error(req, MC_ERR_NOT_READY, "%s",
                           rc == MC_ERR_NOT_READY ? "database migrations not applied"
                                                  : "database not reachable");
        return;
    }
    case 2: {
        char *text = mc_metrics_registered_append(
            mc_metrics_render(app->metrics, app->db, app->cache, mc_server_in_flight()),
            app->svc->name);
        if (text == NULL) {
            mc_reply_error(req, MC_ERR_INTERNAL, NULL);
            return;
        }
        mc_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
        free(text);
        return;
    }
    default:
        if (app->svc->openapi_json != NULL)
            mc_reply_raw(req, 200, "application/json", app->svc->openapi_json,
                         strlen(app->svc->openapi_json));
        else
            mc_reply_error(req, MC_ERR_ROUTE_NOT_FOUND, "no OpenAPI document built in");
        return;
    }
}

bool mc_server_builtin(mc_request *req, const char *path, int *route_index, const char **label)
{
    for (int b = 0; b < 4; b++) {
        if (strcmp(path, builtin_paths[b]) == 0) {
            *route_index = -2 - b;
            *label = builtin_paths[b];
            if (strcmp(req->u->http_verb, "GET") != 0) {
                mc_set_header(req, "Allow", "GET");
                mc_reply_error(req, MC_ERR_METHOD_NOT_ALLOWED, NULL);
            } else {
                handle_builtin(req, b);
            }
            return true;
        }
    }
    return false;
}
