/*
 * Helpers the dossier handlers share (request.c): reading the procedure
 * chosen in a filing, who the caller is, the allowed actions of an answer,
 * and the service context. No SQL.
 */
#ifndef DOSSIER_REQUEST_H
#define DOSSIER_REQUEST_H

#include <jansson.h>

#include "dossier.h"
#include "motcua/auth.h"

/* json_spec check: a string that is not only white space. */
const char *dossier_check_not_blank(const json_t *value, const char **code);

/* The case of a procedure document with this code (NULL: the first case), or
   NULL (borrowed reference). */
const json_t *dossier_find_case(const json_t *procedure, const char *case_code);

/* Check a filing's choice against the procedure document: the agency handles
   it (/agency_code), the case exists (/case_code), the case offers the
   channel (/channel) with a usable time limit. Returns the case (borrowed)
   and its limit, or NULL after adding errors. */
const json_t *dossier_check_procedure_choice(const json_t *procedure, const char *agency,
                                             const char *case_code, const char *channel,
                                             double *limit_value, const char **limit_unit,
                                             json_t *errors);

/* The role name recorded for the caller: citizen, officer, approver,
   agency_admin, system_admin, auditor or service (the first that applies). */
const char *dossier_primary_role(const mc_principal *p);

/* Add "allowed_actions": the actions `actors` may take now. */
void dossier_add_allowed_actions(json_t *body, const struct dossier *d, unsigned actors);

#endif
