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
 *      cfg_defaults() walks the table; cfg_keys_find() serves the reader.
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

#define CFG_INT(s, k, f, lo, hi, d) {s, k, CFG_T_INT, CFG_FLD(f), lo, hi, d, 0}
#define CFG_BOOL(s, k, f, d) {s, k, CFG_T_BOOL, CFG_FLD(f), 0, 1, d, 0}
#define CFG_STR(s, k, t, f, minlen, d) {s, k, t, CFG_FLD(f), minlen, 0, 0, d}
#define CFG_REP(s, k, t, f, n, port) {s, k, t, CFG_ARR(f, n), 1, 0, port, 0}

const struct cfg_key cfg_keys[] = {
    CFG_INT("core", "children", children, 1, CFG_MAX_CHILDREN, 4),
    /* the seed's page says "chidlren": the same key under that name */
    CFG_INT("core", "chidlren", children, 1, CFG_MAX_CHILDREN, 4),
    CFG_BOOL("core", "daemon", daemon, 0),
    CFG_STR("core", "working_dir", CFG_T_STR, working_dir, 0, ""),
    CFG_STR("core", "chroot_dir", CFG_T_STR, chroot_dir, 0, ""),
    CFG_STR("core", "user", CFG_T_STR, user, 0, ""),
    CFG_STR("core", "group", CFG_T_STR, group, 0, ""),
    CFG_BOOL("core", "do_coredump", do_coredump, 0),
    CFG_BOOL("core", "rt_coredump", rt_coredump, 0),
    CFG_INT("core", "open_files", open_files, 0, 1048576, 0),
    CFG_STR("core", "pid_file", CFG_T_STR, pid_file, 0, ""),
    CFG_STR("core", "pgid_file", CFG_T_STR, pgid_file, 0, ""),
    CFG_STR("core", "run_dir", CFG_T_STR, run_dir, 1, "/tmp/sipstage"),
    CFG_INT("log", "debug", debug, -3, 4, 2),
    CFG_INT("log", "memlog", memlog, -3, 4, 4),
    CFG_INT("log", "memdump", memdump, -3, 4, 4),
    CFG_BOOL("log", "log_syslog", log_syslog, 0),
    CFG_STR("log", "log_name", CFG_T_STR, log_name, 1, "sipstage"),
    CFG_STR("log", "log_facility", CFG_T_FACILITY, log_facility, 1,
            "LOG_DAEMON"),
    CFG_REP("net", "listen", CFG_T_LISTEN, listen, nlisten, 5060),
    CFG_REP("net", "alias", CFG_T_HOSTPORT, alias, nalias, 0),
    CFG_INT("net", "net_tos", net_tos, 0, 255, 0),
    CFG_INT("net", "udp_maxbuffer", udp_maxbuffer, 4096, 67108864, 262144),
    CFG_INT("net", "udp_min_size", udp_min_size, 0, 65535, 0),
    CFG_INT("net", "tcp_max_size", tcp_max_size, 256, 65535, 65535),
    CFG_BOOL("net", "tcp_via_alias", tcp_via_alias, 0),
    CFG_INT("net", "tcp_lifetime", tcp_lifetime, 1, 86400, 120),
    CFG_INT("net", "tcp_max_connections", tcp_max_connections, 1, 1048576,
            2048),
    CFG_STR("modules", "path", CFG_T_STR, mod_path, 1, "build/lib"),
    CFG_REP("modules", "load", CFG_T_STRS, load, nload, 0),
    CFG_INT("stages", "sipd", stages_sipd, 1, CFG_MAX_SIPD, 1),
    CFG_REP("dns", "servers", CFG_T_IPPORT, dns_servers, ndns_servers, 53),
    CFG_BOOL("dns", "cache", dns_cache, 1),
    CFG_BOOL("dns", "naptr", dns_naptr, 1),
    CFG_BOOL("dns", "srv", dns_srv, 1),
    CFG_BOOL("dns", "try_ipv6", dns_try_ipv6, 0),
    CFG_INT("dns", "timeout_ms", dns_timeout_ms, 1, 60000, 2000),
    CFG_INT("dns", "tries", dns_tries, 1, 10, 2),
    CFG_STR("db", "url", CFG_T_URL, db_url, 0, ""),
    CFG_INT("db", "pool", db_pool, 1, 64, 4),
    CFG_BOOL("route", "record_route", record_route, 0),
    CFG_BOOL("route", "db_aliases", db_aliases, 0),
    CFG_STR("mi", "fifo_name", CFG_T_STR, fifo_name, 1,
            "/tmp/sipstage_fifo"),
    {"mi", "fifo_mode", CFG_T_MODE, CFG_FLD(fifo_mode), 0, 0777, 0600, 0},
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
        if (k->dstr != NULL)
            cfg_value_copy(cfg_field(c, k), k->size, k->dstr, strlen(k->dstr));
        else
            *(int *)cfg_field(c, k) = (int)k->dflt;
    }
}
