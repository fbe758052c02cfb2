/*
 * Who is staff of which agency, asked of identity (GET /api/v1/staff/{id})
 * with the dossier service's own machine-client token (scope
 * identity:staff.read; common's service_token). Positive answers are kept
 * STAFF_CACHE_SECONDS; refusals are never cached (a new colleague counts at
 * once), nor is anything when identity cannot answer (503: an assignee is
 * never stored unchecked).
 */
#ifndef DOSSIER_STAFF_DIRECTORY_H
#define DOSSIER_STAFF_DIRECTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "motcua/error.h"
#include "motcua/service_token.h"

struct staff_directory;

/* A directory asking identity at identity_url with tokens from `token`
   (borrowed; must outlive the directory). Owned by the caller. */
struct staff_directory *staff_directory_new(const char *identity_url, mc_service_token *token,
                                            unsigned cache_seconds);
void staff_directory_free(struct staff_directory *dir);

/* Is staff_id an active (not disabled) officer, approver or agency_admin of
   `agency`? MC_OK with *is_staff; MC_ERR_DOSSIER_IDENTITY_UNAVAILABLE when
   identity cannot be asked (unreachable, or it refuses our token). */
mc_error staff_directory_check(struct staff_directory *dir, const char *staff_id,
                               const char *agency, int64_t now, bool *is_staff);

struct dossier_ctx;
struct dossier;
/* The `assignee` of an action body (assign, forward, return_step; NULL: none),
   must be active handling staff of d's handling agency: else an error at
   /assignee (code not_staff) is added. MC_ERR_DOSSIER_IDENTITY_UNAVAILABLE
   when identity cannot tell (or no client is configured). */
mc_error dossier_check_assignee(struct dossier_ctx *ctx, const struct dossier *d,
                                const char *assignee, json_t *errors);

/* Pure: does identity's staff account `staff` make its holder active
   handling staff of `agency`? */
bool staff_account_handles(const json_t *staff, const char *agency);

#endif
