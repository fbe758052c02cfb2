/*
 * Helpers shared by the libFuzzer harnesses in tests/fuzz (see tests/fuzz/README.md).
 */
#ifndef MOTCUA_FUZZ_UTIL_H
#define MOTCUA_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An invariant of the function under test does not hold: print why and abort, which
   libFuzzer reports as a crash (with a reproducer file). */
#define FUZZ_CHECK(cond, ...)                                                                  \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "\nFUZZ INVARIANT VIOLATED at %s:%d: %s\n  ", __FILE__, __LINE__, \
                    #cond);                                                                    \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* A NUL-terminated, malloc'd copy of data[0..size) (embedded NULs stay; C string
   functions see the text up to the first one). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Reads fixed-size little-endian integers from the fuzzer's bytes; zeros once exhausted. */
typedef struct {
    const uint8_t *p;
    size_t n;
} fuzz_reader;

static inline uint64_t fuzz_u64n(fuzz_reader *r, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++) {
        uint64_t b = 0;
        if (r->n > 0) {
            b = *r->p++;
            r->n--;
        }
        v |= b << (8 * i);
    }
    return v;
}

static inline uint8_t fuzz_u8(fuzz_reader *r)
{
    return (uint8_t)fuzz_u64n(r, 1);
}

static inline uint16_t fuzz_u16(fuzz_reader *r)
{
    return (uint16_t)fuzz_u64n(r, 2);
}

static inline uint32_t fuzz_u32(fuzz_reader *r)
{
    return (uint32_t)fuzz_u64n(r, 4);
}

static inline int64_t fuzz_i64(fuzz_reader *r)
{
    uint64_t u = fuzz_u64n(r, 8);
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static inline double fuzz_double(fuzz_reader *r)
{
    uint64_t u = fuzz_u64n(r, 8);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* True if s is a syntactically valid RFC 6901 JSON Pointer ("" or "/..." where every
   '~' is followed by '0' or '1'). */
static inline bool fuzz_json_pointer_ok(const char *s)
{
    if (*s != '\0' && *s != '/')
        return false;
    for (const char *c = s; *c != '\0'; c++)
        if (*c == '~' && c[1] != '0' && c[1] != '1')
            return false;
    return true;
}

#endif
