/*
 * SUMMARY
 *    sipd_addr - addresses and listen sockets for routing: does a
 *    host:port name us, which socket sends, what the sender's Via lacks
 * DESCRIPTION
 *    The address helpers that request routing (sipd_route.c), next
 *    hop selection (sipd_hop.c) and replies (sipd_reply.c) share:
 *
 *     - "is it us": a host:port that is the IP and port of a listen
 *       socket (any transport), its advertised address ("listen = ...
 *       as HOST[:PORT]"), or a [net] alias (RFC 3261 16.4 Route
 *       popping, 16.11 our Via on a response);
 *     - "which socket": a listen socket of a transport and family,
 *       the one the message came in on first;
 *     - "what the sender's Via lacks": received= and the rport value
 *       (RFC 3261 18.2.1, RFC 3581 section 4);
 *     - small text helpers for hosts: our socket as host:port, "[v6]"
 *       brackets off, a name lower-cased for dnsd.
 *
 *    IP text becomes a struct msg_addr through addr_parse() (common/
 *    addr.c), the one parser every daemon uses.
 * PROTOCOL
 *    None: pure functions of their arguments and the config.
 * DIAGNOSTICS
 *    Nothing logs, nothing fails loudly: "no" answers and -1 / 0
 *    returns.
 */
#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "sipd_route_priv.h"

/*
 * sipd_addr_proto - MSG_PROTO_* for a transport we carry (UDP, TCP,
 *    TLS), else 0.
 */
int sipd_addr_proto(enum sip_transport tp)
{
    switch (tp) {
    case SIP_TP_UDP:
        return MSG_PROTO_UDP;
    case SIP_TP_TCP:
        return MSG_PROTO_TCP;
    case SIP_TP_TLS:
        return MSG_PROTO_TLS;
    default:
        return 0;
    }
}

/*
 * sipd_addr_usable - a unicast destination: not 0.0.0.0, ::
 *    or 255.255.255.255 (RFC 4475 section 3.3.10: never send to a
 *    broadcast address a message gave us).
 */
int sipd_addr_usable(const struct msg_addr *a)
{
    static const unsigned char zero[16];
    static const unsigned char bcast[4] = {255, 255, 255, 255};

    if (a->family == AF_INET)
        return memcmp(a->ip, zero, 4) != 0 && memcmp(a->ip, bcast, 4) != 0;
    return memcmp(a->ip, zero, 16) != 0;
}

/* sipd_addr_same_ip - v's sent-by host is the IP of peer */
static int sipd_addr_same_ip(const struct sip_via *v,
                             const struct msg_addr *peer)
{
    struct msg_addr a;

    return addr_parse(&a, v->host.s, v->host.len, 0) == 0
           && a.family == peer->family
           && memcmp(a.ip, peer->ip, a.family == AF_INET ? 4 : 16) == 0;
}

/*
 * sipd_addr_src_fix - what the sender's Via v needs, given the
 *    packet's source peer: received= when the sent-by host is a name
 *    or another IP (RFC 3261 18.2.1); when ;rport has no value, its
 *    value and received= in any case (RFC 3581 section 4).
 */
void sipd_addr_src_fix(const struct sip_via *v, const struct msg_addr *peer,
                       struct sipd_addr_src *s)
{
    s->rport = v->rport == 0;
    s->received = s->rport || !sipd_addr_same_ip(v, peer);
    s->ip = STR_NULL;
    s->port = STR_NULL;
    if (s->received) {
        if ((peer->family != AF_INET && peer->family != AF_INET6)
            || inet_ntop(peer->family, peer->ip, s->ipbuf,
                         sizeof(s->ipbuf)) == NULL)
            s->received = s->rport = 0; /* no source address known */
        else
            s->ip = (struct str){s->ipbuf, strlen(s->ipbuf)};
    }
    if (s->rport)
        s->port = str_utoa(s->portbuf, sizeof(s->portbuf), ntohs(peer->port));
}

/* sipd_addr_listen_ip - listen socket l has the IP of a */
static int sipd_addr_listen_ip(const struct cfg_listen *l,
                               const struct msg_addr *a)
{
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&l->addr;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&l->addr;

    if (l->addr.ss_family != a->family)
        return 0;
    if (a->family == AF_INET)
        return memcmp(&s4->sin_addr, a->ip, 4) == 0;
    return memcmp(&s6->sin6_addr, a->ip, 16) == 0;
}

/*
 * sipd_addr_adv_is - host:port is the advertised address ("as") of
 *    listen l: the same name (case-insensitively), or the same IP
 *    (a, when host is an IP literal; NULL otherwise).
 */
static int sipd_addr_adv_is(const struct cfg_listen *l, struct str host,
                            const struct msg_addr *a, int port)
{
    struct msg_addr b;

    if (l->adv_host[0] == '\0' || l->adv_port != port)
        return 0;
    if (str_ieq_cstr(host, l->adv_host))
        return 1;
    return a != NULL
           && addr_parse(&b, l->adv_host, strlen(l->adv_host), port) == 0
           && b.family == a->family
           && memcmp(b.ip, a->ip, a->family == AF_INET ? 4 : 16) == 0;
}

/*
 * sipd_addr_is_us - host:port names this proxy: the IP and port of a
 *    listen socket (any transport), the advertised address ("as") of
 *    one, or a [net] alias (names compared case-insensitively; alias
 *    port 0 matches any port). port is the effective port: the caller
 *    applies the 5060/5061 default.
 */
int sipd_addr_is_us(const struct cfg *c, struct str host,
                    enum sip_host_type ht, int port)
{
    const struct msg_addr *ip = NULL;
    struct msg_addr a;
    int i;

    /* 0.0.0.0 / :: never name us, not even with a wildcard listen */
    if ((ht == SIP_HOST_IPV4 || ht == SIP_HOST_IPV6)
        && addr_parse(&a, host.s, host.len, port) == 0 && sipd_addr_usable(&a))
        ip = &a;
    for (i = 0; i < c->nlisten; i++)
        if ((ip != NULL && c->listen[i].port == port
             && sipd_addr_listen_ip(&c->listen[i], ip))
            || sipd_addr_adv_is(&c->listen[i], host, ip, port))
            return 1;
    for (i = 0; i < c->nalias; i++)
        if ((c->alias[i].port == 0 || c->alias[i].port == port)
            && str_ieq_cstr(host, c->alias[i].host))
            return 1;
    return 0;
}

/*
 * sipd_addr_uri_is_us - a sip:/sips: URI's host:port names us (the
 *    default port 5060, or 5061 for sips: and ;transport=tls). Any
 *    other scheme does not.
 */
int sipd_addr_uri_is_us(const struct cfg *c, const struct sip_uri *u)
{
    int port = u->port;

    if (u->scheme_id != SIP_URI_SIP && u->scheme_id != SIP_URI_SIPS)
        return 0;
    if (port == 0)                      /* RFC 3263 section 4.2 */
        port = u->scheme_id == SIP_URI_SIPS || u->tp == SIP_TP_TLS
                   ? SIPD_PORT_SIPS : SIPD_PORT_SIP;
    return sipd_addr_is_us(c, u->host, u->host_type, port);
}

/*
 * sipd_addr_via_is_us - a via-parm's sent-by names us (the default
 *    port 5060, or 5061 for TLS).
 */
int sipd_addr_via_is_us(const struct cfg *c, const struct sip_via *v)
{
    int port = v->port;

    if (port == 0)                      /* RFC 3261 18.2.2 */
        port = v->tp == SIP_TP_TLS ? SIPD_PORT_SIPS : SIPD_PORT_SIP;
    return sipd_addr_is_us(c, v->host, v->host_type, port);
}

/* sipd_addr_sock_fits - listen l is of proto and (unless 0) family */
static int sipd_addr_sock_fits(const struct cfg_listen *l, int proto,
                               int family)
{
    return l->proto == proto
           && (family == AF_UNSPEC || l->addr.ss_family == family);
}

/*
 * sipd_addr_sock - a listen socket of proto (MSG_PROTO_*) and family
 *    (AF_UNSPEC: any): "prefer" (the one the message came in on)
 *    when it fits, else the first that does. Returns -1 when none.
 */
int sipd_addr_sock(const struct cfg *c, int proto, int family, int prefer)
{
    int i;

    if (prefer >= 0 && prefer < c->nlisten
        && sipd_addr_sock_fits(&c->listen[prefer], proto, family))
        return prefer;
    for (i = 0; i < c->nlisten; i++)
        if (sipd_addr_sock_fits(&c->listen[i], proto, family))
            return i;
    return -1;
}

/*
 * sipd_addr_hostport - listen l as host:port text, IPv6 bracketed,
 *    into buf (what our Via and Record-Route name): its advertised
 *    address ("as") when it has one, else its IP and port. Returns the
 *    text, or STR_NULL when it does not fit cap.
 */
struct str sipd_addr_hostport(const struct cfg_listen *l, char *buf,
                              size_t cap)
{
    const char *host = l->adv_host[0] != '\0' ? l->adv_host : l->host;
    int v6 = strchr(host, ':') != NULL;
    size_t n = strlen(host);
    struct str port;
    char num[12];

    port = str_utoa(num, sizeof(num),
                    l->adv_host[0] != '\0' ? l->adv_port : l->port);
    if (n + port.len + 4 > cap)
        return STR_NULL;
    buf[0] = '[';
    memcpy(buf + v6, host, n);
    n += (size_t)v6;
    if (v6)
        buf[n++] = ']';
    buf[n++] = ':';
    memcpy(buf + n, port.s, port.len);
    return (struct str){buf, n + port.len};
}

/*
 * sipd_addr_lower - host name s lower-cased and NUL-terminated into
 *    dst (the name dnsd resolves and caches).
 *    Returns its length, or 0 when s is empty or does not fit.
 */
size_t sipd_addr_lower(char *dst, size_t cap, struct str s)
{
    size_t i;

    if (s.len == 0 || s.len >= cap)
        return 0;
    for (i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.s[i];

        dst[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch);
    }
    dst[s.len] = '\0';
    return s.len;
}

/*
 * sipd_addr_unbracket - "[v6]" to "v6" (maddr=, received=); any other
 *    text unchanged. The result points into h.
 */
struct str sipd_addr_unbracket(struct str h)
{
    if (h.len >= 2 && h.s[0] == '[' && h.s[h.len - 1] == ']')
        return (struct str){h.s + 1, h.len - 2};
    return h;
}
