#ifndef CFG_H
#define CFG_H
/*
 * SUMMARY
 *    cfg - the seed's section config file, parsed into one typed struct
 * DESCRIPTION
 *    Format: "[section]" lines, "key = value" lines, "#" comments to the
 *    end of the line (outside double quotes), double-quoted strings with
 *    \" and \\ escapes, repeatable keys (listen, alias, load, servers,
 *    http_allow).
 *    Every key of the seed and of DESIGN.md is a row of one table
 *    {section, key, type, offset, min, max, default} (cfg_keys.c; the
 *    reader is cfg.c, the value types cfg_value.c and cfg_addr.c);
 *    cfg_defaults() fills the defaults, cfg_load_*() applies the file
 *    over them and then checks the whole (e.g. at least one listen line).
 *
 *    struct cfg is flat (fixed arrays, no pointers), so mid can copy it,
 *    and a reload can parse into a new one and swap only on success.
 * DIAGNOSTICS
 *    Errors are written to err as "FILE:LINE: [section] key: reason"
 *    (LINE 0 for whole-file problems such as no listen line, or a file
 *    that cannot be read: "FILE: cannot open: No such file or
 *    directory"). The first error stops parsing. Nothing is logged.
 */
#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>

#define CFG_MAX_LISTEN 16
#define CFG_MAX_ALIAS 16
#define CFG_MAX_LOAD 32
#define CFG_MAX_DNS 8
#define CFG_MAX_SIPD 16
#define CFG_MAX_CHILDREN 64
#define CFG_MAX_HTTP_ALLOW 16
#define CFG_MAX_DB_URL 4
#define CFG_PATH 256
#define CFG_NAME 64
#define CFG_HOST 256

#define CFG_PROTO_UDP 1                 /* == MSG_PROTO_UDP */
#define CFG_PROTO_TCP 2                 /* == MSG_PROTO_TCP */
#define CFG_PROTO_TLS 3                 /* == MSG_PROTO_TLS */

/* [tls] min_version values: the TLS wire versions */
#define CFG_TLS_V12 0x0303
#define CFG_TLS_V13 0x0304

struct cfg_listen {
    int proto;                          /* CFG_PROTO_* */
    char host[CFG_NAME];                /* as written, without brackets */
    uint16_t port;
    struct sockaddr_storage addr;       /* numeric: listen takes IPs only */
    socklen_t addrlen;
    /* "as HOST[:PORT]": what Via and Record-Route name instead of
     * host:port (required for a wildcard IP); "" = none */
    char adv_host[CFG_HOST];            /* lower-cased, without brackets */
    uint16_t adv_port;                  /* the listen port when not given */
};

struct cfg_hostport {
    char host[CFG_HOST];                /* lower-cased */
    uint16_t port;                      /* 0 = any port */
};

/* A numeric IP:PORT, e.g. [mi] http_listen; port 0 / family 0 = unset */
struct cfg_sockaddr {
    char host[CFG_NAME];                /* as written, without brackets */
    uint16_t port;
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

/* A network NET/LEN, e.g. [mi] http_allow; host bits are cleared */
struct cfg_net {
    int family;                         /* AF_INET or AF_INET6 */
    int prefix;                         /* 0..32 or 0..128 */
    unsigned char addr[16];             /* network order, 4 or 16 used */
};

struct cfg {
    char file[CFG_PATH];
    /* [core] */
    int children;                       /* worker threads per sipd: 4 */
    int daemon;                         /* 0 */
    char working_dir[CFG_PATH];         /* "" = stay */
    char chroot_dir[CFG_PATH];
    char user[CFG_NAME];
    char group[CFG_NAME];
    int do_coredump;                    /* 0 */
    int rt_coredump;                    /* 0 */
    int open_files;                     /* 0 = leave the limit alone */
    char pid_file[CFG_PATH];
    char pgid_file[CFG_PATH];
    char run_dir[CFG_PATH];             /* "/tmp/sipstage" */
    /* [log] */
    int debug;                          /* 2 (notice), -3..4 */
    int memlog;                         /* 4 */
    int memdump;                        /* 4 */
    int log_syslog;                     /* 0 */
    char log_name[CFG_NAME];            /* "sipstage" */
    char log_facility[CFG_NAME];        /* "LOG_DAEMON", checked */
    /* [net] */
    struct cfg_listen listen[CFG_MAX_LISTEN];
    int nlisten;
    struct cfg_hostport alias[CFG_MAX_ALIAS];
    int nalias;
    int net_tos;                        /* 0 = leave alone; 0..255 */
    int udp_maxbuffer;                  /* 4194304 bytes, SO_RCVBUF */
    int udp_min_size;                   /* 0 */
    int tcp_max_size;                   /* 65535 */
    int tcp_via_alias;                  /* 0 */
    int tcp_lifetime;                   /* 120 s */
    int tcp_max_connections;            /* 2048 */
    int tcp_max_connections_per_ip;     /* 64: from one source IP */
    /* [modules] */
    char mod_path[CFG_PATH];            /* key "path"; "build/lib" */
    char load[CFG_MAX_LOAD][CFG_NAME];
    int nload;
    /* [stages] */
    int stages_sipd;                    /* key "sipd": 1, 1..CFG_MAX_SIPD */
    int stages_hang_ms;                 /* no pong this long: killed, 5000 */
    int stages_max_queue_ms;            /* older records dropped, 4000 */
    /* [dns] */
    struct cfg_hostport dns_servers[CFG_MAX_DNS]; /* key "servers" */
    int ndns_servers;                   /* 0 = /etc/resolv.conf */
    int dns_cache;                      /* 1 */
    int dns_naptr;                      /* 1 */
    int dns_srv;                        /* 1 */
    int dns_try_ipv6;                   /* 0 */
    int dns_timeout_ms;                 /* 2000 */
    int dns_tries;                      /* 2 */
    int dns_blacklist_s;                /* 60: failed targets skipped; 0 off */
    /* [db] */
    char db_url[CFG_MAX_DB_URL][CFG_PATH]; /* none = no database, no dbd; */
    int ndb_url;                        /* [0] first, the rest replicas */
    int db_pool;                        /* 4 connections per URL */
    int db_queue_max;                   /* 1024 queries waiting in dbd */
    int db_timeout_ms;                  /* 500: per query */
    int db_cache_ttl;                   /* 0 s: sipd's alias cache off */
    /* [route] */
    int record_route;                   /* 0 */
    int db_aliases;                     /* 0 */
    int db_allow;                       /* 0 */
    /* [tls]: used by netd's proto_tls.so when a listen line is tls */
    char tls_certificate[CFG_PATH];     /* PEM chain, leaf first */
    char tls_private_key[CFG_PATH];     /* PEM; never logged */
    char tls_ca_list[CFG_PATH];         /* PEM CAs; "" = system store */
    int tls_verify_client;              /* 0 off, 1 if offered, 2 required */
    int tls_verify_server;              /* 1: outgoing chain and name */
    int tls_min_version;                /* CFG_TLS_V12 */
    char tls_ciphers[CFG_PATH];         /* TLS <= 1.2 list; "" = default */
    int tls_handshake_timeout_ms;       /* 5000 */
    /* [mi] */
    char fifo_name[CFG_PATH];           /* "/tmp/sipstage_fifo" */
    int fifo_mode;                      /* 0600, written in octal */
    struct cfg_sockaddr http_listen;    /* HTTP management; port 0 = off */
    struct cfg_net http_allow[CFG_MAX_HTTP_ALLOW]; /* who may use it; */
    int nhttp_allow;                    /* none written: 127/8 and ::1 */
};

/* cfg_defaults - every field to its default; no listen lines. */
extern void cfg_defaults(struct cfg *c);

/*
 * cfg_load_file - cfg_defaults() then parse path. Returns 0, or -1 with
 * the reason in err (never NULL, errlen > 0).
 */
extern int cfg_load_file(struct cfg *c, const char *path, char *err,
                         size_t errlen);

/*
 * cfg_load_buf - the same over text already in memory; "name" is the
 * file name used in messages. buf need not be NUL-terminated.
 */
extern int cfg_load_buf(struct cfg *c, const char *name, const char *buf,
                        size_t len, char *err, size_t errlen);

/* What applies a changed value: the "apply" column of the key table. */
enum cfg_apply {
    CFG_RELOAD,                         /* a reload: the stages that read
                                         * it restart, mid takes it now */
    CFG_RESTART,                        /* mid uses it at its own start */
};

/*
 * The stages that read a key (the "stages" column of the key table), as
 * a mask: a reload that changes the key restarts those stages. 0: only
 * mid reads it (it takes effect in mid when the reload swaps the struct)
 * or nothing does.
 */
#define CFG_S_NETD 0x1u
#define CFG_S_SIPD 0x2u
#define CFG_S_DNSD 0x4u
#define CFG_S_DBD 0x8u
#define CFG_S_ALL (CFG_S_NETD | CFG_S_SIPD | CFG_S_DNSD | CFG_S_DBD)

/* One key whose value differs (cfg_diff); the strings are static. */
struct cfg_change {
    const char *sect;                   /* "net" */
    const char *key;                    /* "listen" */
    enum cfg_apply apply;
    unsigned stages;                    /* CFG_S_*: who reads it */
};

/*
 * cfg_diff - the keys whose values differ between a and b, in the order
 * of the key table (a key spelt two ways counts once), into
 * out[0..max-1]; out may be NULL when max is 0. Returns how many differ,
 * which may exceed max (only max are stored). A repeatable key differs
 * when its count or any of its values (in order) differ. Each entry says
 * what applies the key and which stages read it.
 */
extern int cfg_diff(const struct cfg *a, const struct cfg *b,
                    struct cfg_change *out, int max);

/*
 * cfg_net_match - address a (struct sockaddr_in or _in6, an IPv4-mapped
 * IPv6 address counting as IPv4) lies in one of the n networks;
 * 1 or 0.
 */
extern int cfg_net_match(const struct cfg_net *nets, int n,
                         const struct sockaddr *a);

/* cfg_proto_name - "udp", "tcp" or "tls" */
extern const char *cfg_proto_name(int proto);

#endif
