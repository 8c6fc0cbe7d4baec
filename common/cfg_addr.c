/*
 * SUMMARY
 *      cfg_addr - the config value types that are addresses
 * DESCRIPTION
 *      The setters of three types of cfg_keys[] row, called by the reader
 *      (cfg.c) with the unquoted value:
 *          listen    [proto:]IP[:port] [as HOST[:PORT]], numeric IP
 *                    only, IPv6 in brackets; proto udp (the default),
 *                    tcp or tls (default port 5061); a second line
 *                    with the same proto, IP and port is an error;
 *                    "as" is the advertised address (Via,
 *                    Record-Route), required for 0.0.0.0 and [::]
 *          hostport  host[:port], a name or IP, lower-cased; port 0 = any
 *          ipport    IP[:port], numeric
 *          sockaddr  IP:PORT, numeric, the port required (http_listen)
 *          net       IP[/LEN], IPv6 with or without brackets; host bits
 *                    past LEN are cleared (http_allow)
 *      One function per grammar rule: cfg_addr_split() splits host and
 *      port, cfg_addr_ip() makes the address.
 * PROTOCOL
 *      None: nothing here crosses a ring or a ctl socket.
 * DIAGNOSTICS
 *      Nothing is logged and nothing is fatal. A setter returns 0, or -1
 *      with one message in the parse's err buffer (cfg_value_err()).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "cfg_priv.h"

/* A split "host[:port]" or "[v6]:port". */
struct cfg_addr_hp {
    char host[CFG_HOST];
    int bracket;                        /* written as [IPv6] */
    long port;                          /* -1 = not given */
};

static int cfg_addr_port(struct cfg_parse *p, const char *v, long *port)
{
    if (strlen(v) > 5 || strspn(v, "0123456789") != strlen(v)
        || cfg_value_strtol(v, 10, port) < 0 || *port < 1 || *port > 65535)
        return cfg_value_err(p, "bad port \"" CFG_ECHO "\" (1..65535)", v);
    return 0;
}

/* cfg_split_v6 - "[addr]" or "[addr]:port"; v points at "[" */
static int cfg_addr_split_v6(struct cfg_parse *p, const char *v,
                             struct cfg_addr_hp *hp, const char **port)
{
    const char *end = strchr(v, ']');

    if (end == NULL)
        return cfg_value_err(p, "missing \"]\" after IPv6 address");
    if (end[1] == ':')
        *port = end + 2;
    else if (end[1] != '\0')
        return cfg_value_err(p, "junk after \"]\" (expected \":PORT\")");
    hp->bracket = 1;
    return (int)(end - v - 1);
}

/* cfg_split - "host", "host:port", "[v6]" or "[v6]:port" into hp */
static int cfg_addr_split(struct cfg_parse *p, const char *v,
                          struct cfg_addr_hp *hp)
{
    const char *colon = strchr(v, ':'), *port = NULL, *host = v;
    int n;

    memset(hp, 0, sizeof(*hp));
    hp->port = -1;
    if (*v == '[') {
        if ((n = cfg_addr_split_v6(p, v, hp, &port)) < 0)
            return -1;
        host = v + 1;
    } else if (colon != NULL && strchr(colon + 1, ':') != NULL) {
        return cfg_value_err(p, "IPv6 address needs brackets: [ADDR]:PORT");
    } else {
        n = colon != NULL ? (int)(colon - v) : (int)strlen(v);
        port = colon != NULL ? colon + 1 : NULL;
    }
    if (n == 0)
        return cfg_value_err(p, "missing host");
    if ((size_t)n >= sizeof(hp->host))
        return cfg_value_err(p, "host too long (max %zu bytes)",
                             sizeof(hp->host) - 1);
    cfg_value_copy(hp->host, sizeof(hp->host), host, (size_t)n);
    return port != NULL ? cfg_addr_port(p, port, &hp->port) : 0;
}

/* cfg_ip - hp->host as a numeric address with port into ss */
static int cfg_addr_ip(struct cfg_parse *p, const struct cfg_addr_hp *hp,
                       int port, struct sockaddr_storage *ss, socklen_t *sslen)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (hp->bracket) {
        if (inet_pton(AF_INET6, hp->host, &s6->sin6_addr) != 1)
            return cfg_value_err(p, "bad IPv6 address \"" CFG_ECHO "\"",
                                 hp->host);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(*s6);
        return 0;
    }
    if (inet_pton(AF_INET, hp->host, &s4->sin_addr) != 1)
        return cfg_value_err(p,
                             "\"" CFG_ECHO "\" is not a numeric IP address "
                             "(%s takes no host names)",
                             hp->host, p->key);
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    *sslen = sizeof(*s4);
    return 0;
}

/* cfg_listen_proto - strip "udp:" / "tcp:" from *v; udp if absent */
static int cfg_addr_proto(struct cfg_parse *p, const char **v, int *proto)
{
    struct in6_addr a6;
    size_t n = 0;

    *proto = CFG_PROTO_UDP;
    if (inet_pton(AF_INET6, *v, &a6) == 1)
        return cfg_value_err(p, "IPv6 address needs brackets: [ADDR]:PORT");
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
    else if (n == 3 && strncasecmp(*v, "tls", 3) == 0)
        *proto = CFG_PROTO_TLS;
    else
        return cfg_value_err(p, "unknown transport \"%.*s\" (udp, tcp or "
                             "tls)", (int)n, *v);
    *v += n + 1;
    return 0;
}

/* cfg_listen_dup - an earlier line naming the same proto, IP and port */
static int cfg_addr_dup(struct cfg_parse *p, const struct cfg_listen *l)
{
    const struct cfg_listen *o = p->c->listen;
    int i, v6 = l->addr.ss_family == AF_INET6;

    for (i = 0; i < p->c->nlisten; i++, o++) {
        if (o->proto == l->proto && o->addrlen == l->addrlen
            && memcmp(&o->addr, &l->addr, l->addrlen) == 0)
            return cfg_value_err(p,
                                 "duplicate \"%s:%s%s%s:%u\" (first at line "
                                 "%u)",
                                 cfg_proto_name(l->proto), v6 ? "[" : "",
                                 l->host, v6 ? "]" : "", l->port,
                                 p->listen_line[i]);
    }
    return 0;
}

/* cfg_hostname - letters, digits, ".", "-", "_" */
static int cfg_addr_hostname(const char *h)
{
    return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.-_") == strlen(h);
}

/* cfg_addr_wildcard - 0.0.0.0 or [::]: bound on every address */
static int cfg_addr_wildcard(const struct cfg_listen *l)
{
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&l->addr;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&l->addr;

    if (l->addr.ss_family == AF_INET)
        return s4->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
}

/*
 * cfg_addr_as - the rest of a listen line after the address: empty, or
 *    "as HOST[:PORT]" (OpenSIPS' advertised address: a name, an IPv4
 *    or a bracketed IPv6), into l->adv_host and l->adv_port (the listen
 *    port when PORT is absent).
 */
static int cfg_addr_as(struct cfg_parse *p, const char *v,
                       struct cfg_listen *l)
{
    struct sockaddr_storage ss;
    struct cfg_addr_hp hp;
    socklen_t sslen;
    size_t j;

    v += strspn(v, " \t");
    if (*v == '\0')
        return 0;
    if (strncasecmp(v, "as", 2) != 0 || (v[2] != ' ' && v[2] != '\t'))
        return cfg_value_err(p,
                             "junk \"" CFG_ECHO "\" after the address "
                             "(expected \"as HOST[:PORT]\")",
                             v);
    v += 2 + strspn(v + 2, " \t");
    if (*v == '\0' || v[strcspn(v, " \t")] != '\0')
        return cfg_value_err(p, "\"as\" takes one HOST[:PORT]");
    if (cfg_addr_split(p, v, &hp) < 0)
        return -1;
    if (hp.bracket && cfg_addr_ip(p, &hp, 0, &ss, &sslen) < 0)
        return -1;
    if (!hp.bracket && !cfg_addr_hostname(hp.host))
        return cfg_value_err(p, "bad host name \"" CFG_ECHO "\" after as",
                             hp.host);
    for (j = 0; hp.host[j] != '\0'; j++)
        l->adv_host[j] = (char)tolower((unsigned char)hp.host[j]);
    l->adv_host[j] = '\0';
    l->adv_port = (uint16_t)(hp.port < 0 ? l->port : hp.port);
    return 0;
}

/*
 * cfg_addr_listen - [proto:]IP[:port] [as HOST[:PORT]]; a wildcard IP
 *    without "as" is refused: Via and Record-Route would name 0.0.0.0.
 */
int cfg_addr_listen(struct cfg_parse *p, const struct cfg_key *k, const char *v,
                    size_t len)
{
    struct cfg_listen l;
    struct cfg_addr_hp hp;
    char addr[CFG_HOST];
    const char *a = addr;
    size_t n = strcspn(v, " \t");
    int i;

    (void)len;
    memset(&l, 0, sizeof(l));
    if (n >= sizeof(addr))
        return cfg_value_err(p, "address too long (max %zu bytes)",
                             sizeof(addr) - 1);
    cfg_value_copy(addr, sizeof(addr), v, n);
    v += n;
    if (cfg_addr_proto(p, &a, &l.proto) < 0 || cfg_addr_split(p, a, &hp) < 0)
        return -1;
    /* RFC 3261 19.1.2: 5061 is the default port of TLS */
    l.port = (uint16_t)(hp.port >= 0 ? hp.port
                        : l.proto == CFG_PROTO_TLS ? 5061 : k->dflt);
    if (cfg_addr_ip(p, &hp, l.port, &l.addr, &l.addrlen) < 0)
        return -1;
    cfg_value_copy(l.host, sizeof(l.host), hp.host, strlen(hp.host));
    if (cfg_addr_as(p, v, &l) < 0)
        return -1;
    if (l.adv_host[0] == '\0' && cfg_addr_wildcard(&l))
        return cfg_value_err(p,
                             "wildcard address %s needs \"as HOST[:PORT]\" "
                             "(the address Via and Record-Route name)",
                             l.addr.ss_family == AF_INET6 ? "[::]"
                                                          : "0.0.0.0");
    if (cfg_addr_dup(p, &l) < 0 || (i = cfg_value_room(p, k)) < 0)
        return -1;
    p->c->listen[i] = l;
    p->listen_line[i] = p->line;
    p->c->nlisten++;
    return 0;
}

/* cfg_addr_hostport - alias (a name or IP) and servers (numeric) */
int cfg_addr_hostport(struct cfg_parse *p, const struct cfg_key *k,
                      const char *v, size_t len)
{
    struct sockaddr_storage ss;
    struct cfg_hostport *hpo;
    struct cfg_addr_hp hp;
    socklen_t sslen;
    size_t j;
    int i;

    (void)len;
    if (cfg_addr_split(p, v, &hp) < 0)
        return -1;
    if ((k->type == CFG_T_IPPORT || hp.bracket)
        && cfg_addr_ip(p, &hp, 0, &ss, &sslen) < 0)
        return -1;
    if (!hp.bracket && !cfg_addr_hostname(hp.host))
        return cfg_value_err(p, "bad host name \"" CFG_ECHO "\"", hp.host);
    if ((i = cfg_value_room(p, k)) < 0)
        return -1;
    hpo = cfg_value_elem(p, k, i);
    for (j = 0; hp.host[j] != '\0'; j++)
        hpo->host[j] = (char)tolower((unsigned char)hp.host[j]);
    hpo->host[j] = '\0';
    hpo->port = (uint16_t)(hp.port < 0 ? k->dflt : hp.port);
    (*cfg_count(p->c, k))++;
    return 0;
}

/* cfg_addr_sockaddr - IP:PORT, one value (not repeatable) */
int cfg_addr_sockaddr(struct cfg_parse *p, const struct cfg_key *k,
                      const char *v, size_t len)
{
    struct cfg_sockaddr *sa = cfg_field(p->c, k);
    struct cfg_addr_hp hp;

    (void)len;
    if (cfg_addr_split(p, v, &hp) < 0)
        return -1;
    if (hp.port < 0)
        return cfg_value_err(p, "missing port (IP:PORT)");
    if (strlen(hp.host) >= sizeof(sa->host))
        return cfg_value_err(p, "address too long");
    memset(sa, 0, sizeof(*sa));
    if (cfg_addr_ip(p, &hp, (int)hp.port, &sa->addr, &sa->addrlen) < 0)
        return -1;
    cfg_value_copy(sa->host, sizeof(sa->host), hp.host, strlen(hp.host));
    sa->port = (uint16_t)hp.port;
    return 0;
}

/* cfg_addr_net_mask - clear the bits of a past prefix */
static void cfg_addr_net_mask(struct cfg_net *n)
{
    int i, bytes = n->family == AF_INET ? 4 : 16;

    for (i = 0; i < bytes; i++) {
        int keep = n->prefix - i * 8;

        if (keep <= 0)
            n->addr[i] = 0;
        else if (keep < 8)
            n->addr[i] &= (unsigned char)(0xff << (8 - keep));
    }
}

/* cfg_addr_net_parse - "IP[/LEN]" into *n; 0, or -1 with p's error */
static int cfg_addr_net_parse(struct cfg_parse *p, const char *v,
                              struct cfg_net *n)
{
    char ip[INET6_ADDRSTRLEN + 2];
    const char *slash = strchr(v, '/'), *a = ip;
    size_t iplen = slash ? (size_t)(slash - v) : strlen(v);
    long len = -1;

    memset(n, 0, sizeof(*n));
    if (iplen == 0 || iplen >= sizeof(ip))
        return cfg_value_err(p, "bad network \"" CFG_ECHO "\" (IP/LEN)", v);
    cfg_value_copy(ip, sizeof(ip), v, iplen);
    if (ip[0] == '[' && ip[iplen - 1] == ']') {
        ip[iplen - 1] = '\0';
        a = ip + 1;
    }
    if (inet_pton(AF_INET, a, n->addr) == 1)
        n->family = AF_INET;
    else if (inet_pton(AF_INET6, a, n->addr) == 1)
        n->family = AF_INET6;
    else
        return cfg_value_err(p, "bad network \"" CFG_ECHO "\" (IP/LEN)", v);
    n->prefix = n->family == AF_INET ? 32 : 128;
    if (slash != NULL
        && (slash[1] == '\0' || strlen(slash + 1) > 3
            || strspn(slash + 1, "0123456789") != strlen(slash + 1)
            || cfg_value_strtol(slash + 1, 10, &len) < 0
            || len > n->prefix))
        return cfg_value_err(p, "bad prefix length in \"" CFG_ECHO "\" "
                             "(0..%d)", v, n->prefix);
    if (len >= 0)
        n->prefix = (int)len;
    cfg_addr_net_mask(n);
    return 0;
}

/* cfg_addr_net - NET/LEN, repeatable */
int cfg_addr_net(struct cfg_parse *p, const struct cfg_key *k, const char *v,
                 size_t len)
{
    struct cfg_net n;
    int i;

    (void)len;
    if (cfg_addr_net_parse(p, v, &n) < 0 || (i = cfg_value_room(p, k)) < 0)
        return -1;
    *(struct cfg_net *)cfg_value_elem(p, k, i) = n;
    (*cfg_count(p->c, k))++;
    return 0;
}

/* cfg_addr_net_defaults - no http_allow line: loopback only */
void cfg_addr_net_defaults(struct cfg *c)
{
    struct cfg_net *n = c->http_allow;

    if (c->nhttp_allow > 0)
        return;
    memset(n, 0, 2 * sizeof(*n));
    n[0].family = AF_INET;
    n[0].prefix = 8;
    n[0].addr[0] = 127;
    n[1].family = AF_INET6;
    n[1].prefix = 128;
    n[1].addr[15] = 1;
    c->nhttp_allow = 2;
}

/* cfg_net_match - a in one of nets[0..n-1] (cfg.h) */
int cfg_net_match(const struct cfg_net *nets, int n, const struct sockaddr *a)
{
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;
    struct cfg_net x = {0};
    int i;

    x.family = a->sa_family;
    if (a->sa_family == AF_INET)
        memcpy(x.addr, &((const struct sockaddr_in *)a)->sin_addr, 4);
    else if (a->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        x.family = AF_INET;
        memcpy(x.addr, s6->sin6_addr.s6_addr + 12, 4);
    } else if (a->sa_family == AF_INET6)
        memcpy(x.addr, &s6->sin6_addr, 16);
    else
        return 0;
    for (i = 0; i < n; i++) {
        if (nets[i].family != x.family)
            continue;
        x.prefix = nets[i].prefix;
        cfg_addr_net_mask(&x);
        if (memcmp(x.addr, nets[i].addr, 16) == 0)
            return 1;
    }
    return 0;
}

/* cfg_proto_name - "udp", "tcp", "tls", or "?" for anything else */
const char *cfg_proto_name(int proto)
{
    if (proto == CFG_PROTO_UDP)
        return "udp";
    if (proto == CFG_PROTO_TLS)
        return "tls";
    return proto == CFG_PROTO_TCP ? "tcp" : "?";
}
