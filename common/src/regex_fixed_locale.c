/* Regular expressions under one fixed locale (regex_fixed_locale.h). */
#include "regex_fixed_locale.h"

#include <locale.h>
#include <pthread.h>

static pthread_once_t g_locale_once = PTHREAD_ONCE_INIT;
static locale_t g_locale = (locale_t)0;

static void create_locale(void)
{
    /* Categories outside the mask come from the POSIX locale (base 0). */
    g_locale = newlocale(LC_CTYPE_MASK | LC_COLLATE_MASK, "C.UTF-8", (locale_t)0);
    if (g_locale == (locale_t)0)
        g_locale = newlocale(LC_CTYPE_MASK | LC_COLLATE_MASK, "C", (locale_t)0);
}

/* Installs the fixed locale for this thread; returns what to restore. */
static locale_t enter(void)
{
    pthread_once(&g_locale_once, create_locale);
    return g_locale != (locale_t)0 ? uselocale(g_locale) : (locale_t)0;
}

static void leave(locale_t previous)
{
    if (previous != (locale_t)0)
        uselocale(previous);
}

int mc_regex_compile(regex_t *re, const char *pattern, char *why, size_t why_len)
{
    locale_t previous = enter();
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0 && why != NULL && why_len > 0)
        regerror(rc, re, why, why_len);
    leave(previous);
    return rc;
}

bool mc_regex_matches(const regex_t *re, const char *s)
{
    locale_t previous = enter();
    bool matched = regexec(re, s, 0, NULL, 0) == 0;
    leave(previous);
    return matched;
}
