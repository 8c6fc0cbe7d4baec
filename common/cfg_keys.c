/*
 * SUMMARY
 *      cfg_keys - the config key table, and the defaults it gives
 * DESCRIPTION
 *      cfg_keys[] has a row per key: {section, key, type, offset and size
 *      of the field in struct cfg, for repeatable keys the offset of the
 *      count and the array length, min, max, default}. Adding a key is
 *      adding a field to struct cfg (cfg.h) and a row here; the reader
 *      (cfg.c) and the value types (cfg_value.c, cfg_addr.c) need no
 *      change. The seed's page spells "children" as "chidlren"; that
 *      spelling is a second row on the same field.
 *
 *      The last two columns say what applies a changed value: CFG_RELOAD
 *      (a reload takes it: mid at once, and the stages that read it
 *      restart one at a time, each reading the new text) or CFG_RESTART
 *      (mid uses it at its own start: listen sockets, FIFO, run_dir, pid
 *      files, its own logging and limits; a reload refuses a change), and
 *      which stages read the key (CFG_S_*, cfg.h): the set a reload
 *      restarts for it. A key only mid reads ([mi] http_allow, [stages]
 *      hang_ms, [log] debug, which mid makes live) restarts nothing.
 *
 *      cfg_defaults() and cfg_diff() walk the table; cfg_keys_find()
 *      serves the reader.
 * PROTOCOL
 *      None: nothing here crosses a ring or a ctl socket.
 * DIAGNOSTICS
 *      None: nothing is logged, nothing fails.
 */
#include <stddef.h>
#include <string.h>

#include "cfg_priv.h"

#define CFG_M(f) (((struct cfg *)0)->f)
#define CFG_FLD(f) offsetof(struct cfg, f), sizeof(CFG_M(f)), 0, 0
#define CFG_ARR(f, n)                                                    \
    offsetof(struct cfg, f), sizeof(CFG_M(f)[0]), offsetof(struct cfg, n), \
        (int)(sizeof(CFG_M(f)) / sizeof(CFG_M(f)[0]))

/* The last two arguments of every row: what applies a change, and the
 * stages that read the key (cfg.h). A stage missing from a row keeps
 * the old value after a reload until it restarts for another reason, so
 * a row names every stage whose code reads the field (grep "cfg.FIELD",
 * "cfg->FIELD" in netd/, sipd/, dnsd/, dbd/ and common/srv.c). */
#define CFG_INT(s, k, f, lo, hi, d, a, st)                                \
    {s, k, CFG_T_INT, CFG_FLD(f), lo, hi, d, 0, a, st}
#define CFG_BOOL(s, k, f, d, a, st)                                       \
    {s, k, CFG_T_BOOL, CFG_FLD(f), 0, 1, d, 0, a, st}
#define CFG_STR(s, k, t, f, minlen, d, a, st)                             \
    {s, k, t, CFG_FLD(f), minlen, 0, 0, d, a, st}
#define CFG_REP(s, k, t, f, n, port, a, st)                               \
    {s, k, t, CFG_ARR(f, n), 1, 0, port, 0, a, st}
#define CFG_MODE(s, k, f, d, a, st)                                       \
    {s, k, CFG_T_MODE, CFG_FLD(f), 0, 0777, d, 0, a, st}

/* Stage sets of the table */
#define CFG_S_MID 0u                    /* only mid reads it, or no one */
#define CFG_S_DNS (CFG_S_DNSD | CFG_S_SIPD) /* sipd's wait for dnsd too */
#define CFG_S_DB (CFG_S_DBD | CFG_S_SIPD)   /* sipd's wait, whether a DB */

const struct cfg_key cfg_keys[] = {
    /* worker threads of each sipd */
    CFG_INT("core", "children", children, 1, CFG_MAX_CHILDREN, 4, CFG_RELOAD,
            CFG_S_SIPD),
    /* the seed's page says "chidlren": the same key under that name */
    CFG_INT("core", "chidlren", children, 1, CFG_MAX_CHILDREN, 4, CFG_RELOAD,
            CFG_S_SIPD),
    CFG_BOOL("core", "daemon", daemon, 0, CFG_RESTART, CFG_S_MID),
    CFG_STR("core", "working_dir", CFG_T_STR, working_dir, 0, "", CFG_RESTART,
            CFG_S_MID),
    /* every stage chroots and drops to the user after its init (srv.c) */
    CFG_STR("core", "chroot_dir", CFG_T_STR, chroot_dir, 0, "", CFG_RELOAD,
            CFG_S_ALL),
    CFG_STR("core", "user", CFG_T_STR, user, 0, "", CFG_RELOAD, CFG_S_ALL),
    CFG_STR("core", "group", CFG_T_STR, group, 0, "", CFG_RELOAD, CFG_S_ALL),
    CFG_BOOL("core", "do_coredump", do_coredump, 0, CFG_RESTART, CFG_S_ALL),
    /* accepted for compatibility, no effect: rt_coredump, memlog, memdump,
     * log_name (the ident is the stage's name) */
    CFG_BOOL("core", "rt_coredump", rt_coredump, 0, CFG_RELOAD, CFG_S_MID),
    CFG_INT("core", "open_files", open_files, 0, 1048576, 0, CFG_RESTART,
            CFG_S_MID),
    CFG_STR("core", "pid_file", CFG_T_STR, pid_file, 0, "", CFG_RESTART,
            CFG_S_MID),
    CFG_STR("core", "pgid_file", CFG_T_STR, pgid_file, 0, "", CFG_RESTART,
            CFG_S_MID),
    CFG_STR("core", "run_dir", CFG_T_STR, run_dir, 1, "/tmp/sipstage",
            CFG_RESTART, CFG_S_ALL),
    /* live: mid writes the level into the segment; stages read it there */
    CFG_INT("log", "debug", debug, -3, 4, 2, CFG_RELOAD, CFG_S_MID),
    CFG_INT("log", "memlog", memlog, -3, 4, 4, CFG_RELOAD, CFG_S_MID),
    CFG_INT("log", "memdump", memdump, -3, 4, 4, CFG_RELOAD, CFG_S_MID),
    CFG_BOOL("log", "log_syslog", log_syslog, 0, CFG_RESTART, CFG_S_ALL),
    CFG_STR("log", "log_name", CFG_T_STR, log_name, 1, "sipstage", CFG_RESTART,
            CFG_S_MID),
    CFG_STR("log", "log_facility", CFG_T_FACILITY, log_facility, 1,
            "LOG_DAEMON", CFG_RESTART, CFG_S_ALL),
    CFG_REP("net", "listen", CFG_T_LISTEN, listen, nlisten, 5060, CFG_RESTART,
            CFG_S_NETD | CFG_S_SIPD),
    /* the names that are us: sipd's routing (netd's RFC 5923 alias is
     * another thing, [net] tcp_via_alias) */
    CFG_REP("net", "alias", CFG_T_HOSTPORT, alias, nalias, 0, CFG_RELOAD,
            CFG_S_SIPD),
    CFG_INT("net", "net_tos", net_tos, 0, 255, 0, CFG_RESTART, CFG_S_MID),
    CFG_INT("net", "udp_maxbuffer", udp_maxbuffer, 4096, 67108864, 4194304,
            CFG_RESTART, CFG_S_NETD),
    CFG_INT("net", "udp_min_size", udp_min_size, 0, 65535, 0, CFG_RELOAD,
            CFG_S_NETD),
    CFG_INT("net", "tcp_max_size", tcp_max_size, 256, 65535, 65535, CFG_RELOAD,
            CFG_S_NETD),
    CFG_BOOL("net", "tcp_via_alias", tcp_via_alias, 0, CFG_RELOAD, CFG_S_NETD),
    CFG_INT("net", "tcp_lifetime", tcp_lifetime, 1, 86400, 120, CFG_RELOAD,
            CFG_S_NETD),
    CFG_INT("net", "tcp_max_connections", tcp_max_connections, 1, 1048576, 2048,
            CFG_RELOAD, CFG_S_NETD),
    CFG_INT("net", "tcp_max_connections_per_ip", tcp_max_connections_per_ip,
            1, 1048576, 64, CFG_RELOAD, CFG_S_NETD),
    /* netd's transports, dbd's backends */
    CFG_STR("modules", "path", CFG_T_STR, mod_path, 1, "build/lib", CFG_RELOAD,
            CFG_S_NETD | CFG_S_DBD),
    /* only checked by mid (mid_conf.c): what loads is decided elsewhere */
    CFG_REP("modules", "load", CFG_T_STRS, load, nload, 0, CFG_RELOAD,
            CFG_S_MID),
    /* the count scales like stage_scale (mid_reload.c), no restart */
    CFG_INT("stages", "sipd", stages_sipd, 1, CFG_MAX_SIPD, 1, CFG_RELOAD,
            CFG_S_MID),
    CFG_INT("stages", "hang_ms", stages_hang_ms, 1000, 600000, 5000,
            CFG_RELOAD, CFG_S_MID),
    CFG_INT("stages", "max_queue_ms", stages_max_queue_ms, 100, 600000, 4000,
            CFG_RELOAD, CFG_S_SIPD),
    CFG_REP("dns", "servers", CFG_T_IPPORT, dns_servers, ndns_servers, 53,
            CFG_RELOAD, CFG_S_DNSD),
    CFG_BOOL("dns", "cache", dns_cache, 1, CFG_RELOAD, CFG_S_DNSD),
    CFG_BOOL("dns", "naptr", dns_naptr, 1, CFG_RELOAD, CFG_S_DNSD),
    CFG_BOOL("dns", "srv", dns_srv, 1, CFG_RELOAD, CFG_S_DNSD),
    CFG_BOOL("dns", "try_ipv6", dns_try_ipv6, 0, CFG_RELOAD, CFG_S_DNSD),
    CFG_INT("dns", "timeout_ms", dns_timeout_ms, 1, 60000, 2000, CFG_RELOAD,
            CFG_S_DNS),
    CFG_INT("dns", "tries", dns_tries, 1, 10, 2, CFG_RELOAD, CFG_S_DNS),
    CFG_INT("dns", "blacklist_s", dns_blacklist_s, 0, 86400, 60, CFG_RELOAD,
            CFG_S_DNSD),
    /* a URL that appears or goes also starts or retires dbd */
    CFG_REP("db", "url", CFG_T_URL, db_url, ndb_url, 0, CFG_RELOAD, CFG_S_DB),
    CFG_INT("db", "pool", db_pool, 1, 64, 4, CFG_RELOAD, CFG_S_DBD),
    CFG_INT("db", "queue_max", db_queue_max, 1, 1048576, 1024, CFG_RELOAD,
            CFG_S_DBD),
    CFG_INT("db", "timeout_ms", db_timeout_ms, 10, 60000, 500, CFG_RELOAD,
            CFG_S_DB),
    CFG_INT("db", "cache_ttl", db_cache_ttl, 0, 86400, 0, CFG_RELOAD,
            CFG_S_SIPD),
    CFG_BOOL("route", "record_route", record_route, 0, CFG_RELOAD, CFG_S_SIPD),
    CFG_BOOL("route", "db_aliases", db_aliases, 0, CFG_RELOAD, CFG_S_SIPD),
    CFG_BOOL("route", "db_allow", db_allow, 0, CFG_RELOAD, CFG_S_SIPD),
    /* [tls]: netd (proto_tls.so) reads the files at its start, so a
     * reload that changes one restarts netd, which puts new certificates
     * in place (and closes every TLS and TCP connection) */
    CFG_STR("tls", "certificate", CFG_T_STR, tls_certificate, 0, "",
            CFG_RELOAD, CFG_S_NETD),
    CFG_STR("tls", "private_key", CFG_T_STR, tls_private_key, 0, "",
            CFG_RELOAD, CFG_S_NETD),
    CFG_STR("tls", "ca_list", CFG_T_STR, tls_ca_list, 0, "", CFG_RELOAD,
            CFG_S_NETD),
    CFG_INT("tls", "verify_client", tls_verify_client, 0, 2, 0, CFG_RELOAD,
            CFG_S_NETD),
    CFG_BOOL("tls", "verify_server", tls_verify_server, 1, CFG_RELOAD,
             CFG_S_NETD),
    {"tls", "min_version", CFG_T_TLSVER, CFG_FLD(tls_min_version), 0, 0,
     CFG_TLS_V12, NULL, CFG_RELOAD, CFG_S_NETD},
    CFG_STR("tls", "ciphers", CFG_T_STR, tls_ciphers, 0, "", CFG_RELOAD,
            CFG_S_NETD),
    CFG_INT("tls", "handshake_timeout_ms", tls_handshake_timeout_ms, 100,
            600000, 5000, CFG_RELOAD, CFG_S_NETD),
    CFG_STR("mi", "fifo_name", CFG_T_STR, fifo_name, 1, "/tmp/sipstage_fifo",
            CFG_RESTART, CFG_S_MID),
    CFG_MODE("mi", "fifo_mode", fifo_mode, 0600, CFG_RESTART, CFG_S_MID),
    /* mid binds it at start; the allow list is read per request */
    {"mi", "http_listen", CFG_T_SOCKADDR, CFG_FLD(http_listen), 0, 0, 0,
     NULL, CFG_RESTART, CFG_S_MID},
    CFG_REP("mi", "http_allow", CFG_T_NET, http_allow, nhttp_allow, 0,
            CFG_RELOAD, CFG_S_MID),
};

#define CFG_KEYS_N (sizeof(cfg_keys) / sizeof(cfg_keys[0]))
_Static_assert(CFG_KEYS_N <= CFG_KEYS_MAX, "raise CFG_KEYS_MAX (cfg_priv.h)");

const size_t cfg_keys_n = CFG_KEYS_N;

/* cfg_keys_find - the row of sect and key; key NULL: any row of sect */
const struct cfg_key *cfg_keys_find(const char *sect, const char *key)
{
    size_t i;

    for (i = 0; i < CFG_KEYS_N; i++) {
        if (strcmp(cfg_keys[i].sect, sect) == 0
            && (key == NULL || strcmp(cfg_keys[i].key, key) == 0))
            return &cfg_keys[i];
    }
    return NULL;
}

/* cfg_defaults - every field of *c to its row's default, no listen lines */
void cfg_defaults(struct cfg *c)
{
    const struct cfg_key *k;
    size_t i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < CFG_KEYS_N; i++) {
        k = &cfg_keys[i];
        if (cfg_repeatable(k))
            continue;                   /* memset left the counts at 0 */
        if (k->type == CFG_T_SOCKADDR)
            continue;                   /* memset: unset */
        if (k->dstr != NULL)
            cfg_value_copy(cfg_field(c, k), k->size, k->dstr, strlen(k->dstr));
        else
            *(int *)cfg_field(c, k) = (int)k->dflt;
    }
}

/* cfg_keys_same - the row's value is the same in a and b */
static int cfg_keys_same(const struct cfg_key *k, const struct cfg *a,
                         const struct cfg *b)
{
    const char *fa = (const char *)a + k->off, *fb = (const char *)b + k->off;
    int n;

    switch (k->type) {
    case CFG_T_STR:
    case CFG_T_FACILITY:
        return strncmp(fa, fb, k->size) == 0;
    case CFG_T_STRS:
    case CFG_T_URL:
    case CFG_T_LISTEN:
    case CFG_T_HOSTPORT:
    case CFG_T_IPPORT:
    case CFG_T_NET:
        /* elements are zeroed before they are filled: memcmp is exact */
        n = *(const int *)((const char *)a + k->noff);
        if (n != *(const int *)((const char *)b + k->noff))
            return 0;
        return memcmp(fa, fb, (size_t)n * k->size) == 0;
    default:
        return memcmp(fa, fb, k->size) == 0;
    }
}

/* cfg_keys_alias - a later row on the field of an earlier one (chidlren) */
static int cfg_keys_alias(size_t i)
{
    size_t j;

    for (j = 0; j < i; j++)
        if (cfg_keys[j].off == cfg_keys[i].off)
            return 1;
    return 0;
}

/*
 * cfg_diff - the keys whose values differ between a and b, in table
 * order, into out[0..max-1] (out may be NULL when max is 0). Returns how
 * many differ, which may be more than max (only max are stored). Each
 * entry names the key and what applies it; the strings are static.
 */
int cfg_diff(const struct cfg *a, const struct cfg *b,
             struct cfg_change *out, int max)
{
    size_t i;
    int n = 0;

    for (i = 0; i < CFG_KEYS_N; i++) {
        if (cfg_keys_alias(i) || cfg_keys_same(&cfg_keys[i], a, b))
            continue;
        if (n < max) {
            out[n].sect = cfg_keys[i].sect;
            out[n].key = cfg_keys[i].key;
            out[n].apply = cfg_keys[i].apply;
            out[n].stages = cfg_keys[i].stages;
        }
        n++;
    }
    return n;
}
