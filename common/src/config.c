/*
 * Environment configuration: MOTCUA_<SERVICE>_<KEY> overrides MOTCUA_<KEY>.
 */
#include "motcua/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/log.h"

static void env_name(char *out, size_t len, const char *service, const char *key)
{
    size_t n = 0;
    const char *parts[3] = {"MOTCUA_", service, key};
    for (size_t p = 0; p < 3; p++) {
        if (parts[p] == NULL)
            continue;
        for (const char *c = parts[p]; *c != '\0' && n + 2 < len; c++)
            out[n++] = (char)toupper((unsigned char)(*c == '-' ? '_' : *c));
        if (p == 1 && n + 2 < len)
            out[n++] = '_';
    }
    out[n] = '\0';
}

const char *mc_config_str(const char *service, const char *key, const char *fallback)
{
    char name[160];
    const char *value;
    if (service != NULL) {
        env_name(name, sizeof name, service, key);
        value = getenv(name);
        if (value != NULL && *value != '\0')
            return value;
    }
    env_name(name, sizeof name, NULL, key);
    value = getenv(name);
    return (value != NULL && *value != '\0') ? value : fallback;
}

bool mc_config_uint(const char *service, const char *key, unsigned fallback, unsigned min,
                    unsigned max, unsigned *out)
{
    const char *text = mc_config_str(service, key, NULL);
    *out = fallback;
    if (text == NULL)
        return true;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || !isdigit((unsigned char)text[0]) ||
        v < min || v > max) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "MOTCUA_[%s_]%s must be an integer in %u..%u",
               service != NULL ? service : "", key, min, max);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

/* One table for every default port (deploy/local/lib.sh: MOTCUA_PORT_OFFSET). */
static const char *const service_order[] = {"catalogue", "identity", "dossier",
                                            "tracking",  "payment",  "statistics"};

unsigned mc_service_default_port(const char *service)
{
    for (size_t i = 0; service != NULL && i < sizeof service_order / sizeof *service_order; i++)
        if (strcmp(service, service_order[i]) == 0)
            return MC_SERVICE_PORT_BASE + (unsigned)i + 1;
    return 0;
}

bool mc_service_default_url(const char *service, char *out, size_t len)
{
    unsigned port = mc_service_default_port(service);
    int n = port != 0 ? snprintf(out, len, "http://127.0.0.1:%u", port) : -1;
    if (n < 0 || (size_t)n >= len) {
        if (len > 0)
            out[0] = '\0';
        return false;
    }
    return true;
}
