/*
 * The identity service's route table. Common's dispatcher authenticates
 * (401, 403 by role) and parses JSON bodies strictly from these flags; the
 * token and logout routes read their bodies themselves (form or JSON), and
 * finer checks (an agency_admin's own agency) happen in the handlers.
 */
#include "identity.h"

#define API "/api/v1"
#define PUBLIC MC_AUTH_NONE, 0
#define ANY_ACCOUNT MC_AUTH_REQUIRED, 0
#define SYSTEM_ADMIN MC_AUTH_REQUIRED, MC_ROLE_SYSTEM_ADMIN
#define ADMINS MC_AUTH_REQUIRED, MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AGENCY_ADMIN
/* and machine clients with the scope identity:staff.read (handle_staff.c) */
#define STAFF_READERS MC_AUTH_REQUIRED, MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AGENCY_ADMIN | MC_ROLE_SERVICE
/* Staff of an agency (the handlers require the agency claim). */
#define STAFF MC_AUTH_REQUIRED, MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN
/* Who reclaims a personal id for its owner, after checking the ID card. */
#define COUNTER_STAFF MC_AUTH_REQUIRED, MC_ROLE_OFFICER | MC_ROLE_AGENCY_ADMIN | MC_ROLE_SYSTEM_ADMIN
#define BODY MC_ROUTE_JSON_BODY

const struct mc_route identity_routes[] = {
    {"GET", "/.well-known/jwks.json", handle_jwks, PUBLIC, MC_ROUTE_CACHEABLE},
    {"GET", "/.well-known/revocations", handle_revocations, PUBLIC, 0},

    {"POST", API "/accounts", handle_account_register, PUBLIC, BODY | MC_ROUTE_IDEMPOTENT},
    {"GET", API "/accounts/me", handle_account_me, ANY_ACCOUNT, 0},
    {"POST", API "/accounts/me/password", handle_account_change_password, ANY_ACCOUNT, BODY},

    {"POST", API "/auth/token", handle_auth_token, PUBLIC, MC_ROUTE_OWN_AUTH},
    {"POST", API "/auth/logout", handle_auth_logout, PUBLIC, 0},

    {"GET", API "/staff", handle_staff_list, ADMINS, 0},
    {"POST", API "/staff", handle_staff_create, ADMINS, BODY},
    {"GET", API "/staff/{id}", handle_staff_get, STAFF_READERS, 0},
    {"PATCH", API "/staff/{id}", handle_staff_update, ADMINS, BODY},

    {"GET", API "/colleagues", handle_colleague_list, STAFF, 0},
    {"POST", API "/personal-id-reclaims", handle_personal_id_reclaim, COUNTER_STAFF,
     BODY | MC_ROUTE_IDEMPOTENT},

    {"GET", API "/clients", handle_client_list, SYSTEM_ADMIN, 0},
    {"POST", API "/clients", handle_client_create, SYSTEM_ADMIN, BODY},
    {"GET", API "/clients/{client_id}", handle_client_get, SYSTEM_ADMIN, 0},
    {"PATCH", API "/clients/{client_id}", handle_client_update, SYSTEM_ADMIN, BODY},
    {"POST", API "/clients/{client_id}/secret", handle_client_rotate_secret, SYSTEM_ADMIN, 0},
};

const size_t identity_routes_count = sizeof identity_routes / sizeof identity_routes[0];
