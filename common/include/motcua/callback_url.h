/*
 * Guarding callback URLs a client registers (webhooks) against server-side
 * request forgery: https only (unless the operator allows plain http), no
 * credentials in the URL, the host on the operator's allow-list, and every
 * address the host resolves to outside loopback, private, link-local,
 * shared, multicast, documentation and cloud metadata ranges (unless the
 * operator allows some of them, as the local stack does for its test
 * receiver on 127.0.0.1). The address checked is the one connected to: the caller pins
 * it (mc_http_request.pinned_address), so a DNS answer that changes between
 * the check and the connection (DNS rebinding) cannot redirect the request.
 */
#ifndef MOTCUA_CALLBACK_URL_H
#define MOTCUA_CALLBACK_URL_H

#include <stdbool.h>
#include <stddef.h>

struct sockaddr;

#define MC_CALLBACK_URL_MAX 2048

struct mc_callback_policy {
    bool allow_plain_http;         /* http:// accepted as well as https:// */
    /* Internal addresses accepted all the same, as CIDRs ("127.0.0.1/32 ::1",
       the local stack's test receiver); NULL or "" accepts none. */
    const char *allowed_internal;
    /* "hooks.example.gov.vn, *.gov.vn" (commas or spaces; "*.x" matches
       the subdomains of x, not x); NULL or "" accepts any host. */
    const char *allowed_hosts;
};

enum mc_callback_verdict {
    MC_CALLBACK_OK = 0,
    MC_CALLBACK_MALFORMED,         /* not an absolute URL, too long, or with a fragment */
    MC_CALLBACK_SCHEME_REFUSED,    /* not https (or http when allowed) */
    MC_CALLBACK_CREDENTIALS_REFUSED, /* user:password@ in the URL */
    MC_CALLBACK_HOST_NOT_ALLOWED,  /* not on the allow-list */
    MC_CALLBACK_UNRESOLVABLE,      /* the host has no address */
    MC_CALLBACK_ADDRESS_REFUSED,   /* an address in a refused range */
};

struct mc_callback_target {
    char host[256]; /* as in the URL, without IPv6 brackets, lower case */
    unsigned port;  /* explicit or the scheme's default */
};

/* The checks that need no DNS (pure): syntax, scheme, credentials, the
   allow-list. Fills *out on MC_CALLBACK_OK. */
enum mc_callback_verdict mc_callback_url_check(const char *url, const struct mc_callback_policy *policy,
                                               struct mc_callback_target *out);

/* Is the address in a range a callback must never reach (pure)? IPv4
   mapped into IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address. */
bool mc_address_is_internal(const struct sockaddr *sa);

/* Resolve target's host (blocking getaddrinfo) and check every address it
   has: one refused address (internal and not in policy->allowed_internal)
   refuses the URL. On MC_CALLBACK_OK, pin (of
   pin_len bytes, 300 is enough) holds "host:port:address" for
   mc_http_request.pinned_address, or "" when the host is an address
   literal (nothing to resolve, so nothing to pin). */
enum mc_callback_verdict mc_callback_resolve(const struct mc_callback_target *target,
                                             const struct mc_callback_policy *policy, char *pin,
                                             size_t pin_len);

/* Stable code ("callback_url.address_refused") and an English sentence for
   the verdict, for problem details and delivery logs. */
const char *mc_callback_verdict_code(enum mc_callback_verdict v);
const char *mc_callback_verdict_message(enum mc_callback_verdict v);

#endif
