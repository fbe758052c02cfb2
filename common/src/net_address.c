/*
 * Client addresses: CIDR lists (HTTP_TRUSTED_PROXIES), the address a request
 * came from, and how many connections each address may hold. Pure logic and
 * in-memory counters, no I/O: tests/unit/test_net_address.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* An address as 16 bytes: IPv4 as ::ffff:a.b.c.d, so one comparison fits both. */
static bool address_bytes(const struct sockaddr *sa, unsigned char out[16])
{
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        memset(out, 0, 10);
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(out, &in6->sin6_addr, 16);
        return true;
    }
    return false;
}

static bool parse_one(const char *text, struct mc_cidr *out)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t hlen = slash != NULL ? (size_t)(slash - text) : strlen(text);
    if (hlen == 0 || hlen >= sizeof host)
        return false;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    unsigned max_bits;
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1) {
        memset(out->bytes, 0, 10);
        out->bytes[10] = 0xff;
        out->bytes[11] = 0xff;
        memcpy(out->bytes + 12, &v4, 4);
        max_bits = 32;
    } else if (inet_pton(AF_INET6, host, out->bytes) == 1) {
        max_bits = 128;
    } else {
        return false;
    }
    unsigned bits = max_bits;
    if (slash != NULL) {
        const char *d = slash + 1;
        if (*d == '\0' || strlen(d) > 3 || strspn(d, "0123456789") != strlen(d))
            return false;
        bits = (unsigned)atoi(d);
        if (bits > max_bits)
            return false;
    }
    out->prefix_bits = bits + (128 - max_bits);
    return true;
}

bool mc_cidr_list_parse(const char *text, struct mc_cidr_list *out, char *bad, size_t bad_len)
{
    memset(out, 0, sizeof *out);
    if (bad_len > 0)
        bad[0] = '\0';
    const char *p = text != NULL ? text : "";
    while (*p != '\0') {
        p += strspn(p, " ,\t");
        size_t n = strcspn(p, " ,\t");
        if (n == 0)
            break;
        char item[80];
        bool ok = n < sizeof item && out->n < MC_MAX_CIDRS;
        if (ok) {
            memcpy(item, p, n);
            item[n] = '\0';
            ok = parse_one(item, &out->items[out->n]);
        }
        if (!ok) {
            snprintf(bad, bad_len, "%.*s", (int)(n < 64 ? n : 64), p);
            return false;
        }
        out->n++;
        p += n;
    }
    return true;
}

bool mc_cidr_list_contains(const struct mc_cidr_list *list, const struct sockaddr *sa)
{
    unsigned char a[16];
    if (list == NULL || !address_bytes(sa, a))
        return false;
    for (size_t i = 0; i < list->n; i++) {
        const struct mc_cidr *c = &list->items[i];
        unsigned full = c->prefix_bits / 8, rest = c->prefix_bits % 8;
        if (memcmp(a, c->bytes, full) != 0)
            continue;
        if (rest == 0)
            return true;
        unsigned char mask = (unsigned char)(0xffu << (8 - rest));
        if ((a[full] & mask) == (c->bytes[full] & mask))
            return true;
    }
    return false;
}

bool mc_sockaddr_text(const struct sockaddr *sa, char *out, size_t out_len)
{
    const void *src = NULL;
    if (sa != NULL && sa->sa_family == AF_INET)
        src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa != NULL && sa->sa_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    return src != NULL && out_len <= (size_t)INT32_MAX &&
           inet_ntop(sa->sa_family, src, out, (socklen_t)out_len) != NULL;
}

/* ---------------------------------------------------------------- */
/* connections per client address                                    */

#define ADMISSION_SLOTS 4096 /* open addressing; more distinct addresses than this are refused */

struct admission_slot {
    unsigned char addr[16];
    unsigned count; /* 0 = free */
};

struct mc_conn_admission {
    pthread_mutex_t mu;
    const struct mc_cidr_list *trusted;
    unsigned per_client;
    unsigned untrusted_max;
    unsigned untrusted_now;
    struct admission_slot slots[ADMISSION_SLOTS];
};

struct mc_conn_admission *mc_conn_admission_new(const struct mc_cidr_list *trusted, unsigned per_client,
                                                unsigned untrusted_max)
{
    struct mc_conn_admission *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    pthread_mutex_init(&a->mu, NULL);
    a->trusted = trusted;
    a->per_client = per_client;
    a->untrusted_max = untrusted_max;
    return a;
}

void mc_conn_admission_free(struct mc_conn_admission *a)
{
    if (a == NULL)
        return;
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static size_t slot_hash(const unsigned char addr[16])
{
    size_t h = 1469598103u;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h % ADMISSION_SLOTS;
}

/* The slot of addr, or the first free one on its probe path (NULL when full).
   Deletion is by count only, so a probe stops at the first never-used slot. */
static struct admission_slot *find_slot(struct mc_conn_admission *a, const unsigned char addr[16],
                                        bool for_insert)
{
    struct admission_slot *free_slot = NULL;
    size_t h = slot_hash(addr);
    for (size_t i = 0; i < ADMISSION_SLOTS; i++) {
        struct admission_slot *s = &a->slots[(h + i) % ADMISSION_SLOTS];
        if (s->count > 0 && memcmp(s->addr, addr, 16) == 0)
            return s;
        if (s->count == 0) {
            if (free_slot == NULL)
                free_slot = s;
            /* a slot that never held an address ends the probe */
            static const unsigned char zero[16];
            if (memcmp(s->addr, zero, 16) == 0)
                break;
        }
    }
    return for_insert ? free_slot : NULL;
}

enum mc_admission mc_conn_admit(struct mc_conn_admission *a, const struct sockaddr *sa)
{
    if (mc_cidr_list_contains(a->trusted, sa))
        return MC_ADMIT_TRUSTED;
    unsigned char addr[16];
    if (!address_bytes(sa, addr))
        return MC_ADMIT_REFUSED;
    enum mc_admission verdict = MC_ADMIT_REFUSED;
    pthread_mutex_lock(&a->mu);
    if (a->untrusted_now < a->untrusted_max) {
        struct admission_slot *s = find_slot(a, addr, true);
        if (s != NULL && s->count < a->per_client) {
            if (s->count == 0)
                memcpy(s->addr, addr, 16);
            s->count++;
            a->untrusted_now++;
            verdict = MC_ADMIT_COUNTED;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return verdict;
}

void mc_conn_release(struct mc_conn_admission *a, const struct sockaddr *sa)
{
    unsigned char addr[16];
    if (!address_bytes(sa, addr))
        return;
    pthread_mutex_lock(&a->mu);
    struct admission_slot *s = find_slot(a, addr, false);
    if (s != NULL) {
        s->count--;
        a->untrusted_now--;
        /* Free for good (ends probes again) when the next slot never held an address. */
        static const unsigned char zero[16];
        size_t i = (size_t)(s - a->slots);
        if (s->count == 0 && memcmp(a->slots[(i + 1) % ADMISSION_SLOTS].addr, zero, 16) == 0)
            memset(s->addr, 0, 16);
    }
    pthread_mutex_unlock(&a->mu);
}
