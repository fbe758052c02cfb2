/*
 * FNV-1a, the string hash of libmotcua's hash tables (response_cache.c,
 * catalogue_cache.c, json_spec.c's pattern table). Not for anything hostile
 * input could aim at: the tables it serves are bounded.
 */
#ifndef MOTCUA_HASH_H
#define MOTCUA_HASH_H

#include <stdint.h>

static inline uint64_t mc_fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

#endif
