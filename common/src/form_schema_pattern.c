/*
 * motcua - form-schema "pattern": which patterns are safe to accept, compiling them
 * and matching them.
 *
 * Patterns are POSIX extended regular expressions (docs/form-schema.md), compiled and
 * matched under one fixed locale, C.UTF-8 (regex_fixed_locale.h): matching does not
 * depend on the process locale, and it is character based: "." and [[:alpha:]] match
 * whole code points such as "ễ", as an ECMA-262 regex with the "u" flag would.
 *
 * A schema's patterns are compiled once, when mc_form_schema_compile() checks it, and
 * kept with the compiled schema (form_schema.c); only mc_form_schema_validate() on a
 * bare JSON schema compiles them per use.
 */
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "form_schema_internal.h"
#include "regex_fixed_locale.h"

/* Upper bound on the number of elements a pattern may expand to once bounded
   repetitions such as {1,50} are unrolled (which is what glibc's regcomp does).
   Stops patterns like "((a{0,255}){0,255}){0,255}" from costing seconds and gigabytes
   of memory on every validation. */
#define PATTERN_MAX_COST 5000UL

/* Rough size of the pattern once bounded repetitions are unrolled; saturates at
   PATTERN_MAX_COST + 1. Only needs to be an upper-bound-ish estimate. */
static bool pattern_too_complex(const char *p, size_t n)
{
    unsigned long sum[MC_FORM_SCHEMA_MAX_PATTERN_LEN + 2];
    unsigned long last[MC_FORM_SCHEMA_MAX_PATTERN_LEN + 2];
    const unsigned long cap = PATTERN_MAX_COST + 1;
    size_t lvl = 0;
    bool prev_quant = false;
    sum[0] = last[0] = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long atom = 1;
        char ch = p[i];
        /* A quantifier on a quantifier ("a++", "(x){0,9}*") is undefined in
           POSIX ERE; glibc accepts it and its compile time explodes. */
        bool was_quant = prev_quant;
        prev_quant = false;
        if (ch == '\\') {
            i++;
        } else if (ch == '[') {
            size_t j = i + 1;
            if (j < n && p[j] == '^')
                j++;
            if (j < n && p[j] == ']')
                j++;
            while (j < n && p[j] != ']') {
                if (p[j] == '[' && j + 1 < n &&
                    (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
                    char close = p[j + 1];
                    j += 2;
                    while (j + 1 < n && !(p[j] == close && p[j + 1] == ']'))
                        j++;
                    j += 2;
                    continue;
                }
                j++;
            }
            i = j;
        } else if (ch == '(') {
            if (lvl + 1 < sizeof sum / sizeof sum[0]) {
                lvl++;
                sum[lvl] = last[lvl] = 0;
            }
            continue;
        } else if (ch == ')' && lvl > 0) {
            atom = sum[lvl] ? sum[lvl] : 1;
            lvl--;
        } else if (ch == '*' || ch == '+' || ch == '?') {
            if (was_quant)
                return true;
            prev_quant = true;
            if (ch == '+') {
                /* glibc compiles x+ as xx*: the atom is doubled */
                unsigned long prev = last[lvl];
                sum[lvl] = sum[lvl] + prev;
                last[lvl] = prev * 2;
                if (sum[lvl] > cap)
                    return true;
            }
            continue;
        } else if (ch == '|') {
            last[lvl] = 0;
            continue;
        } else if (ch == '{') {
            size_t j = i + 1;
            unsigned long lo = 0, hi = 0;
            bool has_lo = false, comma = false, has_hi = false;
            while (j < n && fs_is_digit(p[j])) {
                lo = lo < 100000 ? lo * 10 + (unsigned long)(p[j] - '0') : lo;
                has_lo = true;
                j++;
            }
            if (j < n && p[j] == ',') {
                comma = true;
                j++;
                while (j < n && fs_is_digit(p[j])) {
                    hi = hi < 100000 ? hi * 10 + (unsigned long)(p[j] - '0') : hi;
                    has_hi = true;
                    j++;
                }
            }
            /* glibc also reads "{,n}" as "{0,n}" */
            if ((has_lo || (comma && has_hi)) && j < n && p[j] == '}') {
                if (was_quant)
                    return true;
                prev_quant = true;
                unsigned long factor = (comma ? (has_hi ? hi : lo + 1) : lo);
                factor = (factor < lo ? lo : factor) + 1;
                unsigned long prev = last[lvl];
                unsigned long grown = prev * factor;
                sum[lvl] = sum[lvl] - prev + grown;
                last[lvl] = grown;
                if (sum[lvl] > cap)
                    return true;
                i = j;
                continue;
            }
            /* not a bound: a literal '{' */
        }
        sum[lvl] += atom;
        last[lvl] = atom;
        if (sum[lvl] > cap)
            return true;
    }
    return sum[0] > PATTERN_MAX_COST;
}

/* Validates a pattern string and compiles it into `re` (which the caller must regfree()
   on success). On failure writes a human-readable reason into `why` and returns false. */
bool fs_pattern_compile(const json_t *pat, regex_t *re, char *why, size_t whylen)
{
    if (!json_is_string(pat)) {
        snprintf(why, whylen, "pattern must be a string");
        return false;
    }
    const char *p = json_string_value(pat);
    size_t n = json_string_length(pat);
    if (n > MC_FORM_SCHEMA_MAX_PATTERN_LEN) {
        snprintf(why, whylen, "pattern must be at most %d bytes long",
                 MC_FORM_SCHEMA_MAX_PATTERN_LEN);
        return false;
    }
    if (strlen(p) != n) {
        snprintf(why, whylen, "pattern must not contain NUL characters");
        return false;
    }
    /* A backslash may only escape punctuation. "\\1".."\\9" are back-references (not
       ERE, and exponential to match); "\\d", "\\w", "\\s", "\\b" are ECMA-262 habits that
       glibc would silently read as a literal letter or as a GNU extension. */
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\') {
            if (i + 1 < n && p[i + 1] >= '1' && p[i + 1] <= '9') {
                snprintf(why, whylen, "pattern must not use back-references (\\1 to \\9)");
                return false;
            }
            if (i + 1 < n && fs_is_alnum(p[i + 1])) {
                snprintf(why, whylen,
                         "pattern escape \\%c is not supported: POSIX ERE has no \\d, \\w, "
                         "\\s or \\b; use [0-9], [[:alnum:]_] or [[:space:]]",
                         p[i + 1]);
                return false;
            }
            i++;
        }
    }
    if (pattern_too_complex(p, n)) {
        snprintf(why, whylen, "pattern is too complex (bounded repetitions too large)");
        return false;
    }
    char buf[200];
    if (mc_regex_compile(re, p, buf, sizeof buf) != 0) {
        snprintf(why, whylen, "pattern is not a valid POSIX extended regular expression: %s", buf);
        return false;
    }
    return true;
}

bool fs_pattern_matches(const regex_t *re, const char *s, size_t n)
{
    /* too long to match, or an embedded NUL regexec can't see: no match */
    if (n > MC_FORM_SCHEMA_MAX_PATTERN_INPUT || strlen(s) != n)
        return false;
    return mc_regex_matches(re, s);
}
