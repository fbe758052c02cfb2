/*
 * POSIX extended regular expressions under one fixed locale (libmotcua's own
 * files only: form_schema_pattern.c and json_spec.c).
 *
 * Why: glibc's regcomp and regexec read the calling thread's locale (LC_CTYPE
 * decides whether "." is a byte or a code point, LC_COLLATE what a range
 * means). A service never chooses its process locale on purpose, so every
 * pattern is compiled and matched under "C.UTF-8" (code points, ASCII
 * classes and ranges by code point), installed for the calling thread only
 * (uselocale) and restored afterwards, whatever the process locale is. The
 * locale object is created once for the process; should C.UTF-8 be missing,
 * the plain "C" locale (bytes) is used instead, still independent of the
 * process locale.
 *
 * A compiled regex_t may be shared by threads: glibc's regexec takes the
 * pattern's own lock, so concurrent matches against one pattern are safe.
 */
#ifndef MOTCUA_REGEX_FIXED_LOCALE_H
#define MOTCUA_REGEX_FIXED_LOCALE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* regcomp(re, pattern, REG_EXTENDED | REG_NOSUB) under the fixed locale.
   Returns regcomp's code (0 on success; then the caller regfree()s `re`).
   On failure, writes regerror's text into why[why_len] when why is not NULL. */
int mc_regex_compile(regex_t *re, const char *pattern, char *why, size_t why_len);

/* Does `s` match the compiled `re`? Matched under the fixed locale. */
bool mc_regex_matches(const regex_t *re, const char *s);

#endif
