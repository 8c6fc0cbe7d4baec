/*
 * SUMMARY
 *      cfg - the seed's section config file, parsed into one typed struct
 * DESCRIPTION
 *      One table, cfg_keys[], has a row per key: {section, key, type,
 *      offset and size of the field in struct cfg, for repeatable keys the
 *      offset of the count and the array length, min, max, default}. The
 *      parser reads a line at a time and dispatches on the row's type
 *      through cfg_setters[]; there is no per-key code.
 *
 *      Grammar (one rule, one function):
 *          file    = *( line ( LF / CRLF ) )     a line is <= 4096 bytes
 *          line    = WS [ section / setting ] WS [ "#" comment ]
 *          section = "[" WS name WS "]"
 *          setting = key WS "=" WS value
 *          value   = token / DQUOTE *( char / "\" DQUOTE / "\\" ) DQUOTE
 *      A token ends at white space or "#": quote values holding either.
 *      Sections and keys are case-sensitive lower case. A key that is not
 *      repeatable may be set once. The seed's page spells "children" as
 *      "chidlren"; that spelling is accepted as an alias of children.
 *
 *      Types: int (decimal, [min, max]); bool (0/1, yes/no, on/off,
 *      true/false, any case); mode (octal, "0600"); string (bounded by the
 *      field, too long is an error; min is the least length); url (a
 *      string that must start with postgres://, postgresql:// or mysql://,
 *      never echoed since it holds a password); facility (a syslog
 *      facility, with or without LOG_, any case, stored as "LOG_LOCAL0");
 *      listen ([proto:]IP[:port], numeric only, IPv6 in brackets);
 *      hostport (host[:port], a name or IP, lower-cased; port 0 = any);
 *      ipport (IP[:port], numeric); strings (repeatable string).
 *
 *      After the last line the whole is checked: at least one listen line,
 *      and [route] db_aliases needs a [db] url.
 *
 *      Why over 800 lines: the key table, the line grammar and the value
 *      types are one unit that nothing else calls into. If it grows, the
 *      address rules (cfg_split .. cfg_set_hostport) move to cfg_addr.c.
 * PROTOCOL
 *      None: cfg reads a file or a buffer into the caller's struct cfg.
 *      Nothing here crosses a ring or a ctl socket.
 * DIAGNOSTICS
 *      Nothing is logged and nothing is fatal. Each function returns 0 or
 *      -1 with one message in the caller's err buffer:
 *      "FILE:LINE: [section] key: reason" (the parts not known are left
 *      out, LINE is 0 for whole-file problems), or "FILE: cannot open:
 *      strerror" for a file that cannot be read. The first error stops.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg.h"

#define CFG_LINE_MAX 4096               /* bytes, without the line end */
#define CFG_FILE_MAX (1 << 20)          /* bytes */
#define CFG_ECHO "%.64s"                /* how much of a value we echo */

enum cfg_type {
    CFG_T_INT,
    CFG_T_BOOL,
    CFG_T_MODE,
    CFG_T_STR,
    CFG_T_URL,
    CFG_T_FACILITY,
    CFG_T_LISTEN,
    CFG_T_HOSTPORT,
    CFG_T_IPPORT,
    CFG_T_STRS,
};

struct cfg_key {
    const char *sect;
    const char *key;
    enum cfg_type type;
    size_t off;                         /* field, or array of repeatables */
    size_t size;                        /* field, or one array element */
    size_t noff;                        /* count field of repeatables */
    int nmax;                           /* array length of repeatables */
    long min;                           /* int: value; string: length */
    long max;
    long dflt;                          /* int; repeatable: default port */
    const char *dstr;                   /* string default */
};

#define CFG_M(f) (((struct cfg *)0)->f)
#define CFG_FLD(f) offsetof(struct cfg, f), sizeof(CFG_M(f)), 0, 0
#define CFG_ARR(f, n)                                                    \
    offsetof(struct cfg, f), sizeof(CFG_M(f)[0]), offsetof(struct cfg, n), \
        (int)(sizeof(CFG_M(f)) / sizeof(CFG_M(f)[0]))

#define CFG_INT(s, k, f, lo, hi, d) {s, k, CFG_T_INT, CFG_FLD(f), lo, hi, d, 0}
#define CFG_BOOL(s, k, f, d) {s, k, CFG_T_BOOL, CFG_FLD(f), 0, 1, d, 0}
#define CFG_STR(s, k, t, f, minlen, d) {s, k, t, CFG_FLD(f), minlen, 0, 0, d}
#define CFG_REP(s, k, t, f, n, port) {s, k, t, CFG_ARR(f, n), 1, 0, port, 0}

static const struct cfg_key cfg_keys[] = {
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

#define CFG_NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

/* The state of one parse; lives on the caller's stack. */
struct cfg_parse {
    struct cfg *c;
    const char *name;                   /* file name for messages */
    unsigned line;
    char sect[CFG_NAME];                /* current section, "" = none */
    char key[CFG_NAME];                 /* key of this line, "" = none */
    unsigned seen[CFG_NKEYS];           /* line a key was set on */
    unsigned listen_line[CFG_MAX_LISTEN];
    char *err;
    size_t errlen;
};

/* A split "host[:port]" or "[v6]:port". */
struct cfg_hp {
    char host[CFG_HOST];
    int bracket;                        /* written as [IPv6] */
    long port;                          /* -1 = not given */
};

typedef int cfg_set_fn(struct cfg_parse *p, const struct cfg_key *k,
                       const char *v, size_t len);

static int cfg_err(struct cfg_parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cfg_err - "FILE:LINE: [sect] key: reason" into p->err; returns -1 */
static int cfg_err(struct cfg_parse *p, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    int s = p->sect[0] != '\0', k = p->key[0] != '\0';

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%u: %s%s%s%s%s%s%s", p->name, p->line,
             s ? "[" : "", p->sect, s ? "]" : "", s && k ? " " : "", p->key,
             s || k ? ": " : "", why);
    return -1;
}

/* cfg_copy - bounded copy of n bytes plus NUL into dst[size] */
static void cfg_copy(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void *cfg_field(struct cfg *c, const struct cfg_key *k)
{
    return (char *)c + k->off;
}

static int *cfg_count(struct cfg *c, const struct cfg_key *k)
{
    return (int *)((char *)c + k->noff);
}

static const char *cfg_skipws(const char *s)
{
    return s + strspn(s, " \t");
}

/* cfg_keylen - length of the [A-Za-z0-9_] run at s */
static size_t cfg_keylen(const char *s)
{
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_");
}

/* cfg_strtol - whole string as a number in base; 0 or -1 */
static int cfg_strtol(const char *v, int base, long *n)
{
    const char *d = v[0] == '-' || v[0] == '+' ? v + 1 : v;
    char *end;

    if (*d < '0' || *d > '9')
        return -1;
    errno = 0;
    *n = strtol(v, &end, base);
    return *end != '\0' || errno != 0 ? -1 : 0;
}

/* --- scalar types --------------------------------------------------- */

static int cfg_set_int(struct cfg_parse *p, const struct cfg_key *k,
                       const char *v, size_t len)
{
    long n;

    (void)len;
    if (cfg_strtol(v, 10, &n) < 0)
        return cfg_err(p, "bad number \"" CFG_ECHO "\"", v);
    if (n < k->min || n > k->max)
        return cfg_err(p, "\"" CFG_ECHO "\" out of range (%ld..%ld)", v,
                       k->min, k->max);
    *(int *)cfg_field(p->c, k) = (int)n;
    return 0;
}

static int cfg_set_bool(struct cfg_parse *p, const struct cfg_key *k,
                        const char *v, size_t len)
{
    static const char *const cfg_bools[] = {
        "0", "1", "no", "yes", "off", "on", "false", "true",
    };
    size_t i;

    (void)len;
    for (i = 0; i < sizeof(cfg_bools) / sizeof(cfg_bools[0]); i++) {
        if (strcasecmp(v, cfg_bools[i]) == 0) {
            *(int *)cfg_field(p->c, k) = (int)(i % 2);
            return 0;
        }
    }
    return cfg_err(p, "bad boolean \"" CFG_ECHO "\" (0/1, yes/no, on/off, "
                      "true/false)", v);
}

static int cfg_set_mode(struct cfg_parse *p, const struct cfg_key *k,
                        const char *v, size_t len)
{
    long n;

    if (len == 0 || strspn(v, "01234567") != len
        || cfg_strtol(v, 8, &n) < 0 || n < k->min || n > k->max)
        return cfg_err(p, "bad mode \"" CFG_ECHO "\" (octal, %04lo..%04lo)",
                       v, k->min, k->max);
    *(int *)cfg_field(p->c, k) = (int)n;
    return 0;
}

/* cfg_str_fits - the length checks every string type shares */
static int cfg_str_fits(struct cfg_parse *p, const struct cfg_key *k,
                        size_t len)
{
    if (len >= k->size)
        return cfg_err(p, "too long (max %zu bytes)", k->size - 1);
    if (len < (size_t)k->min)
        return cfg_err(p, "empty value");
    return 0;
}

static int cfg_set_str(struct cfg_parse *p, const struct cfg_key *k,
                       const char *v, size_t len)
{
    if (cfg_str_fits(p, k, len) < 0)
        return -1;
    cfg_copy(cfg_field(p->c, k), k->size, v, len);
    return 0;
}

/* cfg_set_url - a db url; never echoed, it holds a password */
static int cfg_set_url(struct cfg_parse *p, const struct cfg_key *k,
                       const char *v, size_t len)
{
    static const char *const cfg_schemes[] = {
        "postgres://", "postgresql://", "mysql://",
    };
    size_t i;

    if (cfg_str_fits(p, k, len) < 0)
        return -1;
    if (len == 0)                       /* url = "": no database */
        return cfg_set_str(p, k, v, len);
    for (i = 0; i < sizeof(cfg_schemes) / sizeof(*cfg_schemes); i++) {
        if (strncasecmp(v, cfg_schemes[i], strlen(cfg_schemes[i])) == 0)
            return cfg_set_str(p, k, v, len);
    }
    return cfg_err(p, "bad url scheme (postgres://, postgresql:// or "
                      "mysql://)");
}

static int cfg_set_facility(struct cfg_parse *p, const struct cfg_key *k,
                            const char *v, size_t len)
{
    static const char *const cfg_facilities[] = {
        "AUTH", "AUTHPRIV", "CRON", "DAEMON", "FTP", "KERN", "LOCAL0",
        "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7",
        "LPR", "MAIL", "NEWS", "SYSLOG", "USER", "UUCP",
    };
    const char *name = strncasecmp(v, "LOG_", 4) == 0 ? v + 4 : v;
    size_t i;

    (void)len;
    for (i = 0; i < sizeof(cfg_facilities) / sizeof(*cfg_facilities); i++) {
        if (strcasecmp(name, cfg_facilities[i]) == 0) {
            snprintf(cfg_field(p->c, k), k->size, "LOG_%s",
                     cfg_facilities[i]);
            return 0;
        }
    }
    return cfg_err(p, "unknown facility \"" CFG_ECHO "\"", v);
}

/* --- repeatable types ----------------------------------------------- */

/* cfg_room - index of the next free element, or -1 when full */
static int cfg_room(struct cfg_parse *p, const struct cfg_key *k)
{
    int n = *cfg_count(p->c, k);

    if (n >= k->nmax)
        return cfg_err(p, "too many (max %d)", k->nmax);
    return n;
}

static void *cfg_elem(struct cfg_parse *p, const struct cfg_key *k, int i)
{
    return (char *)cfg_field(p->c, k) + (size_t)i * k->size;
}

static int cfg_set_strs(struct cfg_parse *p, const struct cfg_key *k,
                        const char *v, size_t len)
{
    int i;

    if (cfg_str_fits(p, k, len) < 0 || (i = cfg_room(p, k)) < 0)
        return -1;
    cfg_copy(cfg_elem(p, k, i), k->size, v, len);
    (*cfg_count(p->c, k))++;
    return 0;
}

static int cfg_port(struct cfg_parse *p, const char *v, long *port)
{
    if (strlen(v) > 5 || strspn(v, "0123456789") != strlen(v)
        || cfg_strtol(v, 10, port) < 0 || *port < 1 || *port > 65535)
        return cfg_err(p, "bad port \"" CFG_ECHO "\" (1..65535)", v);
    return 0;
}

/* cfg_split_v6 - "[addr]" or "[addr]:port"; v points at "[" */
static int cfg_split_v6(struct cfg_parse *p, const char *v,
                        struct cfg_hp *hp, const char **port)
{
    const char *end = strchr(v, ']');

    if (end == NULL)
        return cfg_err(p, "missing \"]\" after IPv6 address");
    if (end[1] == ':')
        *port = end + 2;
    else if (end[1] != '\0')
        return cfg_err(p, "junk after \"]\" (expected \":PORT\")");
    hp->bracket = 1;
    return (int)(end - v - 1);
}

/* cfg_split - "host", "host:port", "[v6]" or "[v6]:port" into hp */
static int cfg_split(struct cfg_parse *p, const char *v, struct cfg_hp *hp)
{
    const char *colon = strchr(v, ':'), *port = NULL, *host = v;
    int n;

    memset(hp, 0, sizeof(*hp));
    hp->port = -1;
    if (*v == '[') {
        if ((n = cfg_split_v6(p, v, hp, &port)) < 0)
            return -1;
        host = v + 1;
    } else if (colon != NULL && strchr(colon + 1, ':') != NULL) {
        return cfg_err(p, "IPv6 address needs brackets: [ADDR]:PORT");
    } else {
        n = colon != NULL ? (int)(colon - v) : (int)strlen(v);
        port = colon != NULL ? colon + 1 : NULL;
    }
    if (n == 0)
        return cfg_err(p, "missing host");
    if ((size_t)n >= sizeof(hp->host))
        return cfg_err(p, "host too long (max %zu bytes)",
                       sizeof(hp->host) - 1);
    cfg_copy(hp->host, sizeof(hp->host), host, (size_t)n);
    return port != NULL ? cfg_port(p, port, &hp->port) : 0;
}

/* cfg_ip - hp->host as a numeric address with port into ss */
static int cfg_ip(struct cfg_parse *p, const struct cfg_hp *hp, int port,
                  struct sockaddr_storage *ss, socklen_t *sslen)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (hp->bracket) {
        if (inet_pton(AF_INET6, hp->host, &s6->sin6_addr) != 1)
            return cfg_err(p, "bad IPv6 address \"" CFG_ECHO "\"", hp->host);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(*s6);
        return 0;
    }
    if (inet_pton(AF_INET, hp->host, &s4->sin_addr) != 1)
        return cfg_err(p, "\"" CFG_ECHO "\" is not a numeric IP address "
                          "(%s takes no host names)", hp->host, p->key);
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    *sslen = sizeof(*s4);
    return 0;
}

/* cfg_listen_proto - strip "udp:" / "tcp:" from *v; udp if absent */
static int cfg_listen_proto(struct cfg_parse *p, const char **v, int *proto)
{
    struct in6_addr a6;
    size_t n = 0;

    *proto = CFG_PROTO_UDP;
    if (inet_pton(AF_INET6, *v, &a6) == 1)
        return cfg_err(p, "IPv6 address needs brackets: [ADDR]:PORT");
    while (isalpha((unsigned char)(*v)[n]))
        n++;
    /* "name:5060" is a host and a port (a name, rejected later) */
    if (n == 0 || (*v)[n] != ':'
        || strspn(*v + n + 1, "0123456789") == strlen(*v + n + 1))
        return 0;
    if (n == 3 && strncasecmp(*v, "udp", 3) == 0)
        *proto = CFG_PROTO_UDP;
    else if (n == 3 && strncasecmp(*v, "tcp", 3) == 0)
        *proto = CFG_PROTO_TCP;
    else
        return cfg_err(p, "unknown transport \"%.*s\" (udp or tcp)", (int)n,
                       *v);
    *v += n + 1;
    return 0;
}

/* cfg_listen_dup - an earlier line naming the same proto, IP and port */
static int cfg_listen_dup(struct cfg_parse *p, const struct cfg_listen *l)
{
    const struct cfg_listen *o = p->c->listen;
    int i, v6 = l->addr.ss_family == AF_INET6;

    for (i = 0; i < p->c->nlisten; i++, o++) {
        if (o->proto == l->proto && o->addrlen == l->addrlen
            && memcmp(&o->addr, &l->addr, l->addrlen) == 0)
            return cfg_err(p, "duplicate \"%s:%s%s%s:%u\" (first at line "
                              "%u)", cfg_proto_name(l->proto), v6 ? "[" : "",
                           l->host, v6 ? "]" : "", l->port,
                           p->listen_line[i]);
    }
    return 0;
}

static int cfg_set_listen(struct cfg_parse *p, const struct cfg_key *k,
                          const char *v, size_t len)
{
    struct cfg_listen l;
    struct cfg_hp hp;
    int i;

    (void)len;
    memset(&l, 0, sizeof(l));
    if (cfg_listen_proto(p, &v, &l.proto) < 0 || cfg_split(p, v, &hp) < 0)
        return -1;
    l.port = (uint16_t)(hp.port < 0 ? k->dflt : hp.port);
    if (cfg_ip(p, &hp, l.port, &l.addr, &l.addrlen) < 0)
        return -1;
    cfg_copy(l.host, sizeof(l.host), hp.host, strlen(hp.host));
    if (cfg_listen_dup(p, &l) < 0 || (i = cfg_room(p, k)) < 0)
        return -1;
    p->c->listen[i] = l;
    p->listen_line[i] = p->line;
    p->c->nlisten++;
    return 0;
}

/* cfg_hostname - letters, digits, ".", "-", "_" */
static int cfg_hostname(const char *h)
{
    return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.-_") == strlen(h);
}

/* cfg_set_hostport - alias (a name or IP) and servers (numeric) */
static int cfg_set_hostport(struct cfg_parse *p, const struct cfg_key *k,
                            const char *v, size_t len)
{
    struct sockaddr_storage ss;
    struct cfg_hostport *hpo;
    struct cfg_hp hp;
    socklen_t sslen;
    size_t j;
    int i;

    (void)len;
    if (cfg_split(p, v, &hp) < 0)
        return -1;
    if ((k->type == CFG_T_IPPORT || hp.bracket)
        && cfg_ip(p, &hp, 0, &ss, &sslen) < 0)
        return -1;
    if (!hp.bracket && !cfg_hostname(hp.host))
        return cfg_err(p, "bad host name \"" CFG_ECHO "\"", hp.host);
    if ((i = cfg_room(p, k)) < 0)
        return -1;
    hpo = cfg_elem(p, k, i);
    for (j = 0; hp.host[j] != '\0'; j++)
        hpo->host[j] = (char)tolower((unsigned char)hp.host[j]);
    hpo->host[j] = '\0';
    hpo->port = (uint16_t)(hp.port < 0 ? k->dflt : hp.port);
    (*cfg_count(p->c, k))++;
    return 0;
}

static cfg_set_fn *const cfg_setters[] = {
    [CFG_T_INT] = cfg_set_int,
    [CFG_T_BOOL] = cfg_set_bool,
    [CFG_T_MODE] = cfg_set_mode,
    [CFG_T_STR] = cfg_set_str,
    [CFG_T_URL] = cfg_set_url,
    [CFG_T_FACILITY] = cfg_set_facility,
    [CFG_T_LISTEN] = cfg_set_listen,
    [CFG_T_HOSTPORT] = cfg_set_hostport,
    [CFG_T_IPPORT] = cfg_set_hostport,
    [CFG_T_STRS] = cfg_set_strs,
};

/* --- lines ---------------------------------------------------------- */

static int cfg_repeatable(const struct cfg_key *k)
{
    return k->nmax > 0;
}

/* cfg_find - the row of sect and key; key NULL: any row of sect */
static const struct cfg_key *cfg_find(const char *sect, const char *key)
{
    size_t i;

    for (i = 0; i < CFG_NKEYS; i++) {
        if (strcmp(cfg_keys[i].sect, sect) == 0
            && (key == NULL || strcmp(cfg_keys[i].key, key) == 0))
            return &cfg_keys[i];
    }
    return NULL;
}

/* cfg_seen - set p->seen for k; error if it (or its alias) was set */
static int cfg_seen(struct cfg_parse *p, const struct cfg_key *k)
{
    size_t i;

    if (cfg_repeatable(k))
        return 0;
    for (i = 0; i < CFG_NKEYS; i++) {
        if (cfg_keys[i].off == k->off && p->seen[i] != 0)
            return cfg_err(p, "already set at line %u", p->seen[i]);
    }
    p->seen[k - cfg_keys] = p->line;
    return 0;
}

/* cfg_rest - after a value: white space and a comment only */
static int cfg_rest(struct cfg_parse *p, const char *s, int secret)
{
    s = cfg_skipws(s);
    if (*s == '\0' || *s == '#')
        return 0;
    if (secret)
        return cfg_err(p, "trailing junk after value");
    return cfg_err(p, "trailing junk \"%.32s\" (quote values with spaces "
                      "or \"#\")", s);
}

/* cfg_quoted - s after the opening quote; unescape into out */
static int cfg_quoted(struct cfg_parse *p, const char *s, char *out,
                      size_t *len, int secret)
{
    size_t n = 0;

    for (; *s != '"'; s++) {
        if (*s == '\0')
            return cfg_err(p, "unterminated quote");
        if (*s == '\\') {
            s++;
            if (*s != '"' && *s != '\\')
                return cfg_err(p, "bad escape in quotes (only \\\" and "
                                  "\\\\)");
        }
        out[n++] = *s;
    }
    out[n] = '\0';
    *len = n;
    return cfg_rest(p, s + 1, secret);
}

/* cfg_value - a quoted string or a token into out (>= CFG_LINE_MAX+1) */
static int cfg_value(struct cfg_parse *p, const char *s, char *out,
                     size_t *len, int secret)
{
    size_t n;

    if (*s == '"')
        return cfg_quoted(p, s + 1, out, len, secret);
    n = strcspn(s, " \t#");
    if (n == 0)
        return cfg_err(p, "missing value");
    memcpy(out, s, n);
    out[n] = '\0';
    *len = n;
    return cfg_rest(p, s + n, secret);
}

static int cfg_section(struct cfg_parse *p, const char *s)
{
    const char *name = cfg_skipws(s + 1), *end = name + cfg_keylen(name);

    p->sect[0] = '\0';
    s = cfg_skipws(end);
    if (*s != ']')
        return cfg_err(p, "bad section line (expected \"[name]\")");
    cfg_copy(p->sect, sizeof(p->sect), name, (size_t)(end - name));
    s = cfg_skipws(s + 1);
    if (*s != '\0' && *s != '#')
        return cfg_err(p, "trailing junk after section");
    if (cfg_find(p->sect, NULL) == NULL)
        return cfg_err(p, "unknown section");
    return 0;
}

static int cfg_setting(struct cfg_parse *p, const char *s)
{
    char val[CFG_LINE_MAX + 1];
    const struct cfg_key *k;
    const char *end = s + cfg_keylen(s);
    size_t len = 0;

    if (end == s)
        return cfg_err(p, "expected \"key = value\" or \"[section]\"");
    cfg_copy(p->key, sizeof(p->key), s, (size_t)(end - s));
    s = cfg_skipws(end);
    if (*s != '=')
        return cfg_err(p, "missing \"=\"");
    if (p->sect[0] == '\0')
        return cfg_err(p, "key outside any section");
    if ((k = cfg_find(p->sect, p->key)) == NULL)
        return cfg_err(p, "unknown key");
    if (cfg_value(p, cfg_skipws(s + 1), val, &len, k->type == CFG_T_URL) < 0
        || cfg_seen(p, k) < 0)
        return -1;
    return cfg_setters[k->type](p, k, val, len);
}

/* cfg_line - one line, without its LF, of len bytes */
static int cfg_line(struct cfg_parse *p, const char *buf, size_t len)
{
    char line[CFG_LINE_MAX + 1];
    const char *s;

    p->key[0] = '\0';
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (len > CFG_LINE_MAX)
        return cfg_err(p, "line too long (max %d bytes)", CFG_LINE_MAX);
    if (memchr(buf, '\0', len) != NULL)
        return cfg_err(p, "NUL byte in line");
    memcpy(line, buf, len);
    line[len] = '\0';
    s = cfg_skipws(line);
    if (*s == '\0' || *s == '#')
        return 0;
    if (*s == '[')
        return cfg_section(p, s);
    return cfg_setting(p, s);
}

/* cfg_check - the whole file, after the last line */
static int cfg_check(struct cfg_parse *p)
{
    p->line = 0;
    if (p->c->nlisten == 0) {
        snprintf(p->sect, sizeof(p->sect), "net");
        snprintf(p->key, sizeof(p->key), "listen");
        return cfg_err(p, "missing (at least one listen line is required)");
    }
    if (p->c->db_aliases && p->c->db_url[0] == '\0') {
        snprintf(p->sect, sizeof(p->sect), "route");
        snprintf(p->key, sizeof(p->key), "db_aliases");
        return cfg_err(p, "needs a [db] url");
    }
    return 0;
}

/* --- interface ------------------------------------------------------ */

/* cfg_defaults - every field of *c to its row's default, no listen lines */
void cfg_defaults(struct cfg *c)
{
    const struct cfg_key *k;
    size_t i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < CFG_NKEYS; i++) {
        k = &cfg_keys[i];
        if (cfg_repeatable(k))
            continue;                   /* memset left the counts at 0 */
        if (k->dstr != NULL)
            cfg_copy(cfg_field(c, k), k->size, k->dstr, strlen(k->dstr));
        else
            *(int *)cfg_field(c, k) = (int)k->dflt;
    }
}

/*
 * cfg_load_buf - defaults, then len bytes of buf (no NUL needed) over them,
 * then the whole-file checks. name is only for messages and c->file.
 * Returns 0, or -1 with the first error in err; *c is then half-filled
 * and must be discarded (a reload keeps its old struct).
 */
int cfg_load_buf(struct cfg *c, const char *name, const char *buf,
                 size_t len, char *err, size_t errlen)
{
    struct cfg_parse p;
    const char *end = buf + len, *nl;

    cfg_defaults(c);
    if (name == NULL)
        name = "-";
    memset(&p, 0, sizeof(p));
    p.c = c;
    p.name = name;
    p.err = err;
    p.errlen = errlen;
    cfg_copy(c->file, sizeof(c->file), name, strlen(name));
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        buf += 3;                       /* a UTF-8 BOM from an editor */
    while (buf < end) {
        nl = memchr(buf, '\n', (size_t)(end - buf));
        p.line++;
        if (cfg_line(&p, buf, (size_t)((nl ? nl : end) - buf)) < 0)
            return -1;
        buf = nl ? nl + 1 : end;
    }
    return cfg_check(&p);
}

/* cfg_read - the whole file into a malloc'd *buf; 0, or -1 with err */
static int cfg_read(const char *path, char **buf, size_t *len, char *err,
                    size_t errlen)
{
    size_t cap = 0;
    ssize_t n;
    char *nb;
    int fd, rc = -1;

    *buf = NULL;
    *len = 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (*len == cap) {
            errno = EFBIG;              /* a config is never this large */
            if (cap >= CFG_FILE_MAX
                || (nb = realloc(*buf, cap ? cap * 2 : 8192)) == NULL)
                goto out;
            *buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        if ((n = read(fd, *buf + *len, cap - *len)) == 0)
            break;
        if (n < 0 && errno != EINTR)
            goto out;
        *len += n > 0 ? (size_t)n : 0;
    }
    rc = 0;
out:
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        free(*buf);
        *buf = NULL;
    }
    close(fd);
    return rc;
}

/* cfg_load_file - cfg_load_buf() over the contents of path */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    int rc;

    cfg_defaults(c);
    if (cfg_read(path, &buf, &len, err, errlen) < 0)
        return -1;
    rc = cfg_load_buf(c, path, buf, len, err, errlen);
    free(buf);
    return rc;
}

/* cfg_proto_name - "udp", "tcp", or "?" for anything else */
const char *cfg_proto_name(int proto)
{
    if (proto == CFG_PROTO_UDP)
        return "udp";
    return proto == CFG_PROTO_TCP ? "tcp" : "?";
}
