/*
 * Pure rules of the identity service: personal identification numbers,
 * phone numbers, the password policy, login-name kinds, the sign-in back-off
 * and the strict application/x-www-form-urlencoded parser of the token
 * endpoint.
 *
 * No I/O, no global state: cmocka tests call these directly
 * (tests/unit/test_identity_rules.c).
 */
#ifndef IDENTITY_RULES_H
#define IDENTITY_RULES_H

#include <stdbool.h>
#include <stddef.h>

/* Field error codes added by these rules. */
#define IDENTITY_E_FORMAT "format"                     /* not the expected shape */
#define IDENTITY_E_PROVINCE "province"                 /* unknown province code */
#define IDENTITY_E_CENTURY "century_mismatch"          /* century digit vs date_of_birth */
#define IDENTITY_E_BIRTH_YEAR "birth_year_mismatch"    /* YY vs date_of_birth */
#define IDENTITY_E_TOO_SHORT "too_short"
#define IDENTITY_E_TOO_LONG "too_long"
#define IDENTITY_E_ALL_DIGITS "all_digits"
#define IDENTITY_E_CONTAINS_ID "contains_personal_id"
#define IDENTITY_E_CONTAINS_PHONE "contains_phone"
#define IDENTITY_E_CONTAINS_USERNAME "contains_username"

#define IDENTITY_PASSWORD_MIN 10   /* code points */
#define IDENTITY_PASSWORD_MAX 128  /* code points */

/* A 12-digit personal identification number PPP G YY NNNNNN checked against
   the date of birth (YYYY-MM-DD, already valid): PPP a province code (the
   list of common's form-schema format "vn-personal-id"), G the century and
   sex digit (0/1: 1900s, 2/3: 2000s, 4/5: 2100s ...), YY the last two digits
   of the birth year. `dob` may be NULL (only the structure is checked).
   Returns NULL when valid, else a message and *code. */
const char *identity_check_personal_id(const char *pid, const char *dob, const char **code);

/* Normalise a Vietnamese phone number (the formats of common's "vn-phone":
   0xxxxxxxxx, 84xxxxxxxxx, +84xxxxxxxxx, with single spaces, dots or dashes
   between digits) to "+84" + the national significant number. out needs 16
   bytes. Returns false when the number is not valid. */
bool identity_normalize_phone(const char *in, char *out, size_t out_len);

/* The password policy: IDENTITY_PASSWORD_MIN..MAX code points of valid
   UTF-8, not only digits, not containing the personal id, the phone's
   national significant number or the username (each may be NULL). Returns
   NULL when acceptable, else a message and *code. */
const char *identity_check_password(const char *password, const char *personal_id,
                                    const char *phone_e164, const char *username,
                                    const char **code);

/* Staff login names: 3-64 characters, a lowercase letter first, then
   lowercase letters, digits, '.', '_' or '-'. Never looks like a personal id
   or a phone number, so the three login kinds cannot collide. */
bool identity_is_username(const char *s);
#define IDENTITY_USERNAME_RE "^[a-z][a-z0-9._-]{2,63}$"

enum identity_login_kind {
    IDENTITY_LOGIN_INVALID = 0,
    IDENTITY_LOGIN_PERSONAL_ID,
    IDENTITY_LOGIN_PHONE,
    IDENTITY_LOGIN_USERNAME,
};
/* What a `username` of the password grant is (a structurally valid personal
   id, a staff username, else a phone number), and its normal form
   (12 digits; +84...; the login name) in out (>= 72 bytes). */
enum identity_login_kind identity_login_kind(const char *username, char *out, size_t out_len);

/* Seconds an identity must wait after `failures` consecutive failures:
   0 below `threshold`, then 1, 2, 4 ... doubling, at most `max_seconds`. */
unsigned identity_backoff_seconds(unsigned failures, unsigned threshold, unsigned max_seconds);

/* "*********123": every character but the last three replaced by '*'. */
void identity_mask_personal_id(const char *pid, char *out, size_t out_len);

/* Is every space-separated scope of `requested` in `granted`? Scopes are
   1-64 characters of [A-Za-z0-9._:-]; a malformed request is not a subset. */
bool identity_scope_subset(const char *requested, const char *granted);
bool identity_is_scope(const char *s, size_t len);

/* A client id as a path segment or list cursor: 1-64 characters of
   [A-Za-z0-9._-] (issued ids are "cl_" + 16 base64url characters). Anything
   else names no client. */
bool identity_is_client_id(const char *s);

/* An email address (common's form-schema format "email"). */
bool identity_is_email(const char *s);

/* A canonical lowercase UUID (8-4-4-4-12 hex). */
bool identity_is_uuid(const char *s);

/* A refresh token as issued: 43 characters of base64url (32 bytes). */
bool identity_is_refresh_token(const char *s);

/* A parsed application/x-www-form-urlencoded body. */
#define IDENTITY_FORM_MAX_PAIRS 16
struct identity_form {
    size_t n;
    char *keys[IDENTITY_FORM_MAX_PAIRS];
    char *values[IDENTITY_FORM_MAX_PAIRS];
    char *buf; /* owns every key and value */
};
/* Parse strictly: pairs separated by '&', key '=' value, '+' is a space,
   %XX escapes with two hex digits; rejected: empty keys, a pair without '=',
   empty pairs ("a=1&&b=2"), bad escapes, control characters (also escaped,
   %00 included), invalid UTF-8, duplicate keys, more than
   IDENTITY_FORM_MAX_PAIRS pairs. On failure returns false with a static
   message in *error and nothing to free. On success free with
   identity_form_free. */
bool identity_form_parse(const char *body, size_t len, struct identity_form *form,
                         const char **error);
/* The value of `key`, or NULL. */
const char *identity_form_get(const struct identity_form *form, const char *key);
void identity_form_free(struct identity_form *form);

/* HTTP Basic client authentication (RFC 6749 §2.3.1): header is
   "Basic " (scheme case-insensitive, one space) + strict base64 (RFC 4648
   alphabet, padding, nothing else) of urlencode(client_id) ":"
   urlencode(client_secret). Both parts are form-decoded as the token
   endpoint's body ('+' is a space, %XX escapes; control characters and
   invalid UTF-8 refused) and must be non-empty and fit id_len / secret_len
   (with the NUL). The base64 text may be at most IDENTITY_BASIC_MAX
   characters. False when malformed (outputs then zeroed). */
#define IDENTITY_BASIC_MAX 8192
bool identity_basic_credentials(const char *header, char *id, size_t id_len, char *secret,
                                size_t secret_len);

#endif
