/* Guarding callback URLs (motcua/callback_url.h). The URL is parsed with
   libcurl's own parser, so the host checked is the host libcurl connects to. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "internal.h"
#include "motcua/callback_url.h"
#include "motcua/http_client_request.h"

/* Where a callback must never go: "this network", RFC 1918, shared address
   space (CGNAT, and Alibaba's metadata 100.100.100.200), loopback,
   link-local (AWS/GCP/Azure metadata at 169.254.169.254), IETF protocol
   assignments, documentation and benchmark nets, multicast, reserved and
   broadcast, Azure's wire server; IPv6 unspecified, loopback, IPv4-compatible,
   NAT64 and 6to4 (they embed an IPv4 address), discard, documentation,
   link-local, unique local (AWS metadata fd00:ec2::254) and multicast. */
static const char internal_ranges[] =
    "0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 "
    "192.0.0.0/24 192.0.2.0/24 192.168.0.0/16 198.18.0.0/15 198.51.100.0/24 "
    "203.0.113.0/24 224.0.0.0/4 240.0.0.0/4 168.63.129.16/32 "
    "::/96 ::1/128 64:ff9b::/96 100::/64 2001:db8::/32 2002::/16 fe80::/10 fc00::/7 ff00::/8";

bool mc_address_is_internal(const struct sockaddr *sa)
{
    struct mc_cidr_list ranges;
    char bad[64];
    if (!mc_cidr_list_parse(internal_ranges, &ranges, bad, sizeof bad))
        return true; /* cannot happen (unit-tested); refusing is the safe side */
    if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return true;
    return mc_cidr_list_contains(&ranges, sa);
}

/* Does host match one pattern of the allow-list? */
static bool host_allowed(const char *host, const char *list)
{
    if (list == NULL || list[0] == '\0')
        return true;
    size_t hlen = strlen(host);
    const char *p = list;
    while (*p != '\0') {
        p += strspn(p, " ,\t");
        size_t n = strcspn(p, " ,\t");
        if (n == 0)
            break;
        if (n > 2 && p[0] == '*' && p[1] == '.') {
            size_t suffix = n - 1; /* ".gov.vn" */
            if (hlen > suffix && strncasecmp(host + hlen - suffix, p + 1, suffix) == 0)
                return true;
        } else if (n == hlen && strncasecmp(host, p, n) == 0) {
            return true;
        }
        p += n;
    }
    return false;
}

enum mc_callback_verdict mc_callback_url_check(const char *url, const struct mc_callback_policy *policy,
                                               struct mc_callback_target *out)
{
    memset(out, 0, sizeof *out);
    if (url == NULL || url[0] == '\0' || strlen(url) > MC_CALLBACK_URL_MAX)
        return MC_CALLBACK_MALFORMED;
    for (const char *c = url; *c != '\0'; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '\\')
            return MC_CALLBACK_MALFORMED;
    mc_curl_global_init_once();
    CURLU *u = curl_url();
    if (u == NULL)
        return MC_CALLBACK_MALFORMED;
    enum mc_callback_verdict v = MC_CALLBACK_OK;
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *password = NULL, *fragment = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        v = MC_CALLBACK_MALFORMED;
        goto done;
    }
    bool https = strcasecmp(scheme, "https") == 0;
    if (!https && !(policy->allow_plain_http && strcasecmp(scheme, "http") == 0)) {
        v = MC_CALLBACK_SCHEME_REFUSED;
        goto done;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        v = MC_CALLBACK_MALFORMED;
        goto done;
    }
    if (curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_OK) {
        v = MC_CALLBACK_MALFORMED;
        goto done;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
        v = MC_CALLBACK_CREDENTIALS_REFUSED;
        goto done;
    }
    const char *h = host;
    size_t hlen = strlen(h);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof out->host || memchr(h, '%', hlen) != NULL) {
        v = MC_CALLBACK_MALFORMED; /* empty, too long, or an IPv6 zone */
        goto done;
    }
    for (size_t i = 0; i < hlen; i++)
        out->host[i] = (char)tolower((unsigned char)h[i]);
    out->host[hlen] = '\0';
    if (hlen > 0 && out->host[hlen - 1] == '.')
        out->host[--hlen] = '\0'; /* "example.com." is example.com for the allow-list */
    if (!host_allowed(out->host, policy->allowed_hosts)) {
        v = MC_CALLBACK_HOST_NOT_ALLOWED;
        goto done;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        v = MC_CALLBACK_MALFORMED;
        goto done;
    }
    long p = strtol(port, NULL, 10);
    if (p <= 0 || p > 65535) {
        v = MC_CALLBACK_MALFORMED;
        goto done;
    }
    out->port = (unsigned)p;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(password);
    curl_free(fragment);
    curl_url_cleanup(u);
    if (v != MC_CALLBACK_OK)
        memset(out, 0, sizeof *out);
    return v;
}

enum mc_callback_verdict mc_callback_resolve(const struct mc_callback_target *target,
                                             const struct mc_callback_policy *policy, char *pin,
                                             size_t pin_len)
{
    if (pin_len > 0)
        pin[0] = '\0';
    /* An address literal: libcurl connects to it without DNS, nothing to pin. */
    unsigned char literal[sizeof(struct in6_addr)];
    bool is_literal = inet_pton(AF_INET, target->host, literal) == 1 ||
                      inet_pton(AF_INET6, target->host, literal) == 1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(target->host, NULL, &hints, &res) != 0 || res == NULL)
        return MC_CALLBACK_UNRESOLVABLE;
    struct mc_cidr_list allowed;
    char bad[64];
    if (!mc_cidr_list_parse(policy->allowed_internal, &allowed, bad, sizeof bad)) {
        freeaddrinfo(res);
        return MC_CALLBACK_ADDRESS_REFUSED; /* a bad setting allows nothing */
    }
    enum mc_callback_verdict v = MC_CALLBACK_OK;
    char first[INET6_ADDRSTRLEN] = "";
    bool first_v6 = false;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (mc_address_is_internal(ai->ai_addr) && !mc_cidr_list_contains(&allowed, ai->ai_addr)) {
            v = MC_CALLBACK_ADDRESS_REFUSED;
            break;
        }
        if (first[0] == '\0' && mc_sockaddr_text(ai->ai_addr, first, sizeof first))
            first_v6 = ai->ai_family == AF_INET6;
    }
    freeaddrinfo(res);
    if (v != MC_CALLBACK_OK)
        return v;
    if (first[0] == '\0')
        return MC_CALLBACK_UNRESOLVABLE;
    if (is_literal)
        return MC_CALLBACK_OK;
    int n = first_v6 ? snprintf(pin, pin_len, "%s:%u:[%s]", target->host, target->port, first)
                     : snprintf(pin, pin_len, "%s:%u:%s", target->host, target->port, first);
    if (n < 0 || (size_t)n >= pin_len)
        return MC_CALLBACK_MALFORMED;
    return MC_CALLBACK_OK;
}

static const struct {
    const char *code, *message;
} verdicts[] = {
    [MC_CALLBACK_OK] = {"callback_url.ok", "The callback URL is acceptable."},
    [MC_CALLBACK_MALFORMED] = {"callback_url.malformed",
                               "The callback URL is not an absolute http(s) URL without a fragment."},
    [MC_CALLBACK_SCHEME_REFUSED] = {"callback_url.scheme_refused", "The callback URL must use https."},
    [MC_CALLBACK_CREDENTIALS_REFUSED] = {"callback_url.credentials_refused",
                                         "The callback URL must not carry a user name or password."},
    [MC_CALLBACK_HOST_NOT_ALLOWED] = {"callback_url.host_not_allowed",
                                      "The callback URL's host is not on the operator's allow-list."},
    [MC_CALLBACK_UNRESOLVABLE] = {"callback_url.unresolvable", "The callback URL's host has no address."},
    [MC_CALLBACK_ADDRESS_REFUSED] = {"callback_url.address_refused",
                                     "The callback URL's host resolves to an internal address."},
};

const char *mc_callback_verdict_code(enum mc_callback_verdict v)
{
    return (unsigned)v < sizeof verdicts / sizeof verdicts[0] ? verdicts[v].code : "callback_url.malformed";
}

const char *mc_callback_verdict_message(enum mc_callback_verdict v)
{
    return (unsigned)v < sizeof verdicts / sizeof verdicts[0] ? verdicts[v].message
                                                               : verdicts[MC_CALLBACK_MALFORMED].message;
}
