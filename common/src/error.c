/*
 * The error registry: each mc_error with its HTTP status and stable code.
 * The codes are part of the public API (api-spec/common.yaml lists them);
 * rename one only under a new API version.
 */
#include "motcua/error.h"

#include <stddef.h>

/* Each row sits at its enum value's index whatever the order of the lines
   (designated initialisers); tests/unit/test_error.c checks that no value
   lacks its row. */
#define ROW(err, status, code, title) [err] = {err, status, code, title}

static const struct mc_error_info error_table[MC_ERR__COUNT] = {
    ROW(MC_OK, 200, "ok", "OK"),
    ROW(MC_ERR_INTERNAL, 500, "server.internal_error", "Internal server error"),
    ROW(MC_ERR_MALFORMED_JSON, 400, "request.malformed_json", "Malformed JSON body"),
    ROW(MC_ERR_VALIDATION, 422, "request.validation_failed", "The request has invalid fields"),
    ROW(MC_ERR_BAD_QUERY, 400, "request.bad_query", "Invalid query or path parameters"),
    ROW(MC_ERR_UNAUTHENTICATED, 401, "auth.unauthenticated", "Authentication required"),
    ROW(MC_ERR_FORBIDDEN, 403, "auth.forbidden", "Not allowed"),
    ROW(MC_ERR_NOT_FOUND, 404, "resource.not_found", "Not found"),
    ROW(MC_ERR_ROUTE_NOT_FOUND, 404, "http.not_found", "Not found"),
    ROW(MC_ERR_METHOD_NOT_ALLOWED, 405, "http.method_not_allowed", "Method not allowed"),
    ROW(MC_ERR_CONFLICT, 409, "resource.conflict", "Conflict with the current state"),
    ROW(MC_ERR_PRECONDITION_FAILED, 412, "http.precondition_failed",
     "The resource changed since you read it"),
    ROW(MC_ERR_PRECONDITION_REQUIRED, 428, "http.precondition_required",
     "If-Match is required for this write"),
    ROW(MC_ERR_PAYLOAD_TOO_LARGE, 413, "http.payload_too_large", "Request body too large"),
    ROW(MC_ERR_UNSUPPORTED_MEDIA_TYPE, 415, "http.unsupported_media_type",
     "Unsupported content type"),
    ROW(MC_ERR_NOT_ACCEPTABLE, 406, "http.not_acceptable", "Not acceptable"),
    ROW(MC_ERR_RATE_LIMITED, 429, "http.rate_limited", "Too many requests"),
    ROW(MC_ERR_IDEMPOTENCY_KEY_REUSED, 409, "idempotency.key_reused",
     "Idempotency-Key already used with a different request"),
    ROW(MC_ERR_IDEMPOTENCY_IN_PROGRESS, 409, "idempotency.in_progress",
     "A request with this Idempotency-Key is still being processed"),
    ROW(MC_ERR_INVALID_IDEMPOTENCY_KEY, 400, "idempotency.invalid_key",
     "Idempotency-Key must be 1-255 printable ASCII characters"),
    ROW(MC_ERR_DB_UNAVAILABLE, 503, "server.unavailable", "Service temporarily unavailable"),
    ROW(MC_ERR_DB_RETRY, 503, "server.busy", "Service busy, retry"),
    ROW(MC_ERR_DB_TIMEOUT, 503, "server.timeout", "The operation took too long"),
    ROW(MC_ERR_NOT_READY, 503, "server.not_ready", "Service not ready"),
    ROW(MC_ERR_EVENTS_POSITION_EXPIRED, 410, "events.position_expired",
     "The events after this position are past their retention"),
    ROW(MC_ERR_PROCEDURE_NOT_FOUND, 404, "catalogue.procedure_not_found", "Procedure not found"),
    ROW(MC_ERR_PROCEDURE_EXISTS, 409, "catalogue.procedure_exists",
     "A procedure with this code already exists"),
    ROW(MC_ERR_PROCEDURE_VERSION_NOT_FOUND, 404, "catalogue.version_not_found",
     "Procedure version not found"),
    ROW(MC_ERR_PROCEDURE_NO_DRAFT, 404, "catalogue.no_draft", "The procedure has no draft"),
    ROW(MC_ERR_AGENCY_NOT_FOUND, 404, "catalogue.agency_not_found", "Agency not found"),
    ROW(MC_ERR_AGENCY_EXISTS, 409, "catalogue.agency_exists",
     "An agency with this code already exists"),
    ROW(MC_ERR_AGENCY_PARENT_CYCLE, 422, "catalogue.agency_parent_cycle",
     "The parent would make the agency tree cyclic"),
    ROW(MC_ERR_SECTOR_NOT_FOUND, 404, "catalogue.sector_not_found", "Sector not found"),
    ROW(MC_ERR_SECTOR_EXISTS, 409, "catalogue.sector_exists",
     "A sector with this code already exists"),
    ROW(MC_ERR_CASE_NOT_FOUND, 404, "catalogue.case_not_found", "Procedure case not found"),
    ROW(MC_ERR_CHANNEL_NOT_OFFERED, 422, "catalogue.channel_not_offered",
     "The procedure case is not offered through this channel"),
    ROW(MC_ERR_IDENTITY_ACCOUNT_EXISTS, 409, "identity.account_exists",
     "An account with this personal identification number or phone number already exists"),
    ROW(MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND, 404, "identity.account_not_found", "Account not found"),
    ROW(MC_ERR_IDENTITY_INVALID_REQUEST, 400, "identity.invalid_request",
     "The token request is malformed or misses a parameter"),
    ROW(MC_ERR_IDENTITY_INVALID_GRANT, 400, "identity.invalid_grant",
     "The credentials or the refresh token are not valid"),
    ROW(MC_ERR_IDENTITY_INVALID_CLIENT, 401, "identity.invalid_client",
     "Client authentication failed"),
    ROW(MC_ERR_IDENTITY_UNSUPPORTED_GRANT_TYPE, 400, "identity.unsupported_grant_type",
     "Unsupported grant_type"),
    ROW(MC_ERR_IDENTITY_INVALID_SCOPE, 400, "identity.invalid_scope",
     "The requested scope exceeds what the client was granted"),
    ROW(MC_ERR_IDENTITY_TOO_MANY_ATTEMPTS, 429, "identity.too_many_attempts",
     "Too many failed sign-in attempts; retry after Retry-After seconds"),
    ROW(MC_ERR_IDENTITY_STAFF_NOT_FOUND, 404, "identity.staff_not_found", "Staff account not found"),
    ROW(MC_ERR_IDENTITY_USERNAME_TAKEN, 409, "identity.username_taken",
     "This username is already taken"),
    ROW(MC_ERR_IDENTITY_CLIENT_NOT_FOUND, 404, "identity.client_not_found", "Machine client not found"),
    ROW(MC_ERR_CATALOGUE_UNAVAILABLE, 503, "dossier.catalogue_unavailable",
     "The procedure catalogue cannot be reached; retry later"),
    ROW(MC_ERR_DOSSIER_NOT_FOUND, 404, "dossier.not_found", "Dossier not found"),
    ROW(MC_ERR_DOSSIER_TRANSITION_NOT_ALLOWED, 409, "dossier.transition_not_allowed",
     "This action is not allowed in the dossier's current status"),
    ROW(MC_ERR_DOSSIER_INCOMPLETE, 422, "dossier.incomplete",
     "The dossier is incomplete: see errors for every missing document or invalid field"),
    ROW(MC_ERR_DOSSIER_AGENCY_NOT_OFFERING, 422, "dossier.agency_not_offering",
     "This agency does not handle this procedure"),
    ROW(MC_ERR_DOSSIER_ALREADY_EVALUATED, 409, "dossier.already_evaluated",
     "This dossier has already been evaluated"),
    ROW(MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND, 404, "dossier.document_not_found", "Document not found"),
    ROW(MC_ERR_DOSSIER_UNSUPPORTED_FILE, 415, "dossier.unsupported_file",
     "Files must be PDF, JPEG or PNG, and their content must match"),
    ROW(MC_ERR_DOSSIER_UNKNOWN_ACTION, 404, "dossier.unknown_action", "No such dossier action"),
    ROW(MC_ERR_DOSSIER_IDENTITY_UNAVAILABLE, 503, "dossier.identity_unavailable",
     "The identity service cannot be reached to check a staff member; retry later"),
    ROW(MC_ERR_DOSSIER_TOO_MANY_DRAFTS, 429, "dossier.too_many_drafts",
     "Too many drafts: submit or finish some before starting another"),
    ROW(MC_ERR_DOSSIER_STORAGE_LIMIT, 422, "dossier.storage_limit",
     "The dossier's files would exceed a storage limit"),
    ROW(MC_ERR_PAYMENT_NOT_FOUND, 404, "payment.not_found", "Payment not found"),
    ROW(MC_ERR_PAYMENT_NO_OPEN_DEMAND, 409, "payment.no_open_demand",
     "This dossier has no fee waiting to be paid"),
    ROW(MC_ERR_PAYMENT_ATTEMPT_PENDING, 409, "payment.attempt_pending",
     "A payment of this fee is already in progress; finish it or wait until it expires"),
    ROW(MC_ERR_PAYMENT_MERCHANT_NOT_CONFIGURED, 409, "payment.merchant_not_configured",
     "The agency has no merchant account with this provider"),
    ROW(MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE, 503, "payment.gateway_unavailable",
     "The payment gateway cannot be reached; retry later"),
    ROW(MC_ERR_PAYMENT_NOT_REFUNDABLE, 409, "payment.not_refundable",
     "Only a paid payment can be refunded"),
    ROW(MC_ERR_PAYMENT_REFUND_EXCEEDS_AVAILABLE, 409, "payment.refund_exceeds_available",
     "The refund exceeds the amount still available"),
};

#undef ROW

const struct mc_error_info *mc_error_info(mc_error err)
{
    if ((unsigned)err >= (unsigned)MC_ERR__COUNT || error_table[err].code == NULL)
        return &error_table[MC_ERR_INTERNAL];
    return &error_table[err];
}
