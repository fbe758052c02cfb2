/*
 * The service's settings: environment variables MOTCUA_<SVC>_<KEY> (or the
 * shared MOTCUA_<KEY>), read once at start; see the README's configuration
 * table.
 */
#include <string.h>
#include <unistd.h>

#include "motcua/config.h"
#include "motcua/log.h"
#include "server_internal.h"

bool mc_server_config_read(const struct mc_service *svc, struct mc_server_config *c)
{
    const char *name = svc->name;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* Two workers per core: enough that a handler waiting on PostgreSQL
       rarely stalls the others, few enough that, with the database on the
       same cores, requests are not queued behind context switches (at 4 per
       core the dossier inbox's p99 was 26 ms; at 2, 19 ms: tests/bench). */
    unsigned default_threads = (unsigned)(cores > 0 ? cores : 2) * 2;
    bool ok = true;
    c->listen_address = mc_config_str(name, "LISTEN_ADDRESS", "127.0.0.1");
    unsigned default_port =
        svc->default_port != 0 ? svc->default_port : mc_service_default_port(name);
    ok &= mc_config_uint(name, "PORT", default_port, 1, 65535, &c->port);
    ok &= mc_config_uint(name, "HTTP_THREADS", default_threads, 1, 1024, &c->threads);
    ok &= mc_config_uint(name, "HTTP_MAX_CONNECTIONS", 1000, 1, 100000, &c->max_connections);
    /* Connection limits (README "Connections and timeouts"): 15 s idle, 32
       connections per client address, 250 of the 1000 kept for the trusted
       proxies (the gateway). */
    ok &= mc_config_uint(name, "HTTP_IDLE_TIMEOUT_SECONDS", 15, 1, 3600, &c->idle_timeout_s);
    ok &= mc_config_uint(name, "HTTP_MAX_CONNECTIONS_PER_CLIENT", 32, 1, 100000,
                         &c->max_connections_per_client);
    ok &= mc_config_uint(name, "HTTP_RESERVED_PROXY_CONNECTIONS", 250, 0, 100000,
                         &c->reserved_proxy_connections);
    ok &= mc_config_uint(name, "HTTP_MAX_BODY_BYTES", 1024 * 1024, 1024, 512 * 1024 * 1024,
                         &c->max_body_bytes);
    ok &= mc_config_uint(name, "DB_POOL_SIZE", default_threads, 1, 1000, &c->db_pool_size);
    ok &= mc_config_uint(name, "DB_CHECKOUT_TIMEOUT_MS", 2000, 1, 60000, &c->db_checkout_timeout_ms);
    ok &= mc_config_uint(name, "DB_STATEMENT_TIMEOUT_MS", 5000, 1, 600000,
                         &c->db_statement_timeout_ms);
    ok &= mc_config_uint(name, "RESPONSE_CACHE_TTL_MS", 2000, 0, 3600000, &c->cache_ttl_ms);
    ok &= mc_config_uint(name, "HTTP_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, 1024, 1024u * 1024 * 1024,
                         &c->max_upload_bytes);
    ok &= mc_config_uint(name, "EVENTS_POLL_MS", 500, 10, 60000, &c->events_poll_ms);
    ok &= mc_config_uint(name, "EVENTS_RETENTION_DAYS", 90, 0, 36500, &c->events_retention_days);
    ok &= mc_config_uint(name, "EVENTS_PRUNE_INTERVAL_SECONDS", 3600, 1, 86400,
                         &c->events_prune_interval_s);
    ok &= mc_config_uint(name, "RESPONSE_CACHE_ENTRIES", 4096, 1, 1000000, &c->cache_entries);
    if (ok && c->reserved_proxy_connections >= c->max_connections) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "HTTP_RESERVED_PROXY_CONNECTIONS must be below HTTP_MAX_CONNECTIONS");
        ok = false;
    }
    /* Only these peers' X-Real-IP is believed; by default the gateway on the
       same host (services listen on 127.0.0.1 unless told otherwise). */
    char bad[80];
    if (!mc_cidr_list_parse(mc_config_str(name, "HTTP_TRUSTED_PROXIES", "127.0.0.1/32"),
                            &c->trusted_proxies, bad, sizeof bad)) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "HTTP_TRUSTED_PROXIES: '%s' is not an IPv4/IPv6 address or CIDR (at most %d)", bad,
               MC_MAX_CIDRS);
        ok = false;
    }
    const char *model = mc_config_str(name, "HTTP_THREAD_MODEL", "pool");
    if (strcmp(model, "pool") != 0 && strcmp(model, "per_connection") != 0) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "HTTP_THREAD_MODEL must be pool or per_connection");
        ok = false;
    }
    c->thread_per_connection = strcmp(model, "per_connection") == 0;
    c->database_url = mc_config_str(name, "DATABASE_URL", NULL);
    if (c->database_url == NULL) {
        mc_log(MC_LOG_ERROR, NULL, "config.missing", "MOTCUA_%s_DATABASE_URL is required (a libpq connection string)",
               name);
        ok = false;
    }
    return ok;
}
