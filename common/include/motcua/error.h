/*
 * One registry of error codes for every motcua service.
 *
 * A handler or store function returns an mc_error; the HTTP layer turns it into
 * an RFC 9457 problem+json body using the table in error.c, which gives each
 * error its HTTP status, its stable machine `code` (documented in api-spec and
 * never renamed once published) and a human title. Adding an error means adding
 * one enum value and one table row, nothing else.
 */
#ifndef MOTCUA_ERROR_H
#define MOTCUA_ERROR_H

typedef enum mc_error {
    MC_OK = 0,
    /* generic HTTP-level errors */
    MC_ERR_INTERNAL,
    MC_ERR_MALFORMED_JSON,
    MC_ERR_VALIDATION,
    MC_ERR_BAD_QUERY,
    MC_ERR_UNAUTHENTICATED,
    MC_ERR_FORBIDDEN,
    MC_ERR_NOT_FOUND,
    MC_ERR_ROUTE_NOT_FOUND,
    MC_ERR_METHOD_NOT_ALLOWED,
    MC_ERR_CONFLICT,
    MC_ERR_PRECONDITION_FAILED,
    MC_ERR_PRECONDITION_REQUIRED,
    MC_ERR_PAYLOAD_TOO_LARGE,
    MC_ERR_UNSUPPORTED_MEDIA_TYPE,
    MC_ERR_NOT_ACCEPTABLE,
    MC_ERR_RATE_LIMITED,
    MC_ERR_IDEMPOTENCY_KEY_REUSED,
    MC_ERR_IDEMPOTENCY_IN_PROGRESS,
    MC_ERR_INVALID_IDEMPOTENCY_KEY,
    /* infrastructure */
    MC_ERR_DB_UNAVAILABLE,
    MC_ERR_DB_RETRY, /* serialisation failure / deadlock: the transaction runner retries */
    MC_ERR_DB_TIMEOUT,
    MC_ERR_NOT_READY,
    MC_ERR_EVENTS_POSITION_EXPIRED,
    /* catalogue */
    MC_ERR_PROCEDURE_NOT_FOUND,
    MC_ERR_PROCEDURE_EXISTS,
    MC_ERR_PROCEDURE_VERSION_NOT_FOUND,
    MC_ERR_PROCEDURE_NO_DRAFT,
    MC_ERR_AGENCY_NOT_FOUND,
    MC_ERR_AGENCY_EXISTS,
    MC_ERR_AGENCY_PARENT_CYCLE,
    MC_ERR_SECTOR_NOT_FOUND,
    MC_ERR_SECTOR_EXISTS,
    MC_ERR_CASE_NOT_FOUND,
    MC_ERR_CHANNEL_NOT_OFFERED,
    /* identity */
    MC_ERR_IDENTITY_ACCOUNT_EXISTS,
    MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND,
    MC_ERR_IDENTITY_INVALID_REQUEST,
    MC_ERR_IDENTITY_INVALID_GRANT,
    MC_ERR_IDENTITY_INVALID_CLIENT,
    MC_ERR_IDENTITY_UNSUPPORTED_GRANT_TYPE,
    MC_ERR_IDENTITY_INVALID_SCOPE,
    MC_ERR_IDENTITY_TOO_MANY_ATTEMPTS,
    MC_ERR_IDENTITY_STAFF_NOT_FOUND,
    MC_ERR_IDENTITY_USERNAME_TAKEN,
    MC_ERR_IDENTITY_CLIENT_NOT_FOUND,
    /* dossier */
    MC_ERR_CATALOGUE_UNAVAILABLE,
    MC_ERR_DOSSIER_NOT_FOUND,
    MC_ERR_DOSSIER_TRANSITION_NOT_ALLOWED,
    MC_ERR_DOSSIER_INCOMPLETE,
    MC_ERR_DOSSIER_AGENCY_NOT_OFFERING,
    MC_ERR_DOSSIER_ALREADY_EVALUATED,
    MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND,
    MC_ERR_DOSSIER_UNSUPPORTED_FILE,
    MC_ERR_DOSSIER_UNKNOWN_ACTION,
    MC_ERR_DOSSIER_IDENTITY_UNAVAILABLE,
    MC_ERR_DOSSIER_TOO_MANY_DRAFTS,
    MC_ERR_DOSSIER_STORAGE_LIMIT,
    /* payment */
    MC_ERR_PAYMENT_NOT_FOUND,
    MC_ERR_PAYMENT_NO_OPEN_DEMAND,
    MC_ERR_PAYMENT_ATTEMPT_PENDING,
    MC_ERR_PAYMENT_MERCHANT_NOT_CONFIGURED,
    MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE,
    MC_ERR_PAYMENT_NOT_REFUNDABLE,
    MC_ERR_PAYMENT_REFUND_EXCEEDS_AVAILABLE,
    MC_ERR__COUNT
} mc_error;

struct mc_error_info {
    mc_error error;
    unsigned status;   /* HTTP status */
    const char *code;  /* stable machine code, e.g. "catalogue.procedure_not_found" */
    const char *title; /* short human summary, constant per code */
};

/* The table row of an error; never NULL (unknown values map to MC_ERR_INTERNAL). */
const struct mc_error_info *mc_error_info(mc_error err);

#endif
