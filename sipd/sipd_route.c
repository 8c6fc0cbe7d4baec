/*
 * SUMMARY
 *    sipd_route - stateless routing of one SIP message (RFC 3261 16.11)
 * DESCRIPTION
 *    sipd_route() parses one received message into the worker's
 *    struct sip_msg and decides what leaves the proxy. Requests go
 *    through the steps of RFC 3261 section 16 that a stateless proxy
 *    performs, in this order:
 *
 *     1. validation (16.3): syntax 400 (the parser's reason as the
 *        phrase), version 505, CSeq method equal to the method 400,
 *        URI scheme 416 (only sip: and sips: can be routed without a
 *        tel: gateway), headers in the Request-URI 400 (19.1.1),
 *        Max-Forwards 0 483 (OPTIONS included: RFC 4475 section
 *        3.3.11 asks a proxy for 483, and answering as a UAS is only
 *        a MAY in 16.3 step 3), loop 482 (sipd_branch.c), any
 *        Proxy-Require 420 with Unsupported (we support no extension);
 *     2. route information preprocessing (16.4): a Request-URI that is
 *        a Record-Route value of ours (our host:port, no user, ;lr)
 *        was put there by a strict router: the last Route value
 *        becomes the Request-URI. A maddr naming us (with the URI's
 *        port) is removed with the port and ;transport=. Then every
 *        top Route that names us (a listen address, or a [net] alias)
 *        is removed;
 *     3. a Request-URI that names us with no Route left is for this
 *        element as a UAS: OPTIONS without a user part 200, CANCEL
 *        481, anything else 404 (no registrar, no location service);
 *     4. next hop (16.5, 16.6 steps 6-7): the first Route if any -
 *        without ;lr it is a strict router: the Request-URI goes to the
 *        end of the Route set and that Route URI becomes the
 *        Request-URI - else the Request-URI; maddr, port and
 *        ;transport= honoured (19.1.1); a listen socket of that
 *        transport and family, the incoming one first, or 503;
 *     5. rewriting: received/rport on the sender's Via (18.2.1, RFC
 *        3581 section 4), Max-Forwards decremented in place or
 *        "Max-Forwards: 70" inserted right after the last Via header
 *        (16.6 step 3; 7.3.1 wants proxy headers near the top),
 *        "Record-Route: <sip:HOST:PORT;lr>" as the first Record-Route
 *        or at the top of the headers when [route] record_route is on
 *        (16.6 step 4; not on REGISTER, where it means nothing), and
 *        our Via on top with the deterministic branch (16.6 step 8,
 *        16.11), and Content-Length when a request that came over UDP
 *        without one leaves over TCP (18.3);
 *     6. serialization into out->buf: 513 when it does not fit.
 *
 *    An error found after the message was edited (3, 4, 6) is
 *    answered from the request as received: the bytes are parsed a
 *    second time, on this error path only, so the reply carries the
 *    sender's Via and not ours. Responses are relayed by sipd_reply.c.
 *
 *    This file also holds the address helpers the other two files
 *    share: does a host:port name us, which listen socket sends, IP
 *    text to struct msg_addr. They are why it runs past 800 lines;
 *    they belong in a sipd_addr.c of their own (a split left to the
 *    owner of sipd/, since this module owns only its three files).
 * PROTOCOL
 *    No ring is touched here. The worker pushes out->buf as a
 *    MSG_T_SIP_OUT record to netd (SIPD_V_SEND), or parks it and
 *    sends a MSG_T_DNS_QUERY for out->name to dnsd (SIPD_V_RESOLVE),
 *    then calls sipd_route_resolved() with the first target.
 * DIAGNOSTICS
 *    Nothing logs, nothing is fatal: every input ends as SEND,
 *    RESOLVE or a counted DROP (core:* counters of stats.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "sipd_route_priv.h"

/* RFC 3261 18.1.1: larger than this over UDP goes over TCP. */
#define SIPD_ROUTE_UDP_MAX 1300
/* What forwarding adds at most, near enough: our Via, received/rport. */
#define SIPD_ROUTE_GROWTH 160

/* Top Routes naming us that one request may carry (RFC 3261 16.4). */
#define SIPD_ROUTE_MAX_POP 8

/* Where a request goes next (RFC 3261 16.5, 16.6 steps 6-7). */
struct sipd_route_hop {
    struct str host;                    /* maddr or host, no brackets */
    enum sip_host_type ht;
    int port;                           /* as given; 0 = none */
    int proto;                          /* MSG_PROTO_* of the next leg */
    int given;                          /* ;transport= was present */
    int secure;                         /* sips: */
    int sock;                           /* cfg listen index to send from */
    struct msg_addr dst;                /* IP literal targets */
};

/* 503 reasons by RFC transport (RFC 3261 16.5: no way to reach it). */
static const char *const sipd_route_no_tp[] = {
    [SIP_TP_NONE] = "Unsupported transport",
    [SIP_TP_UDP] = "No UDP listen socket",
    [SIP_TP_TCP] = "No TCP listen socket",
    [SIP_TP_TLS] = "No TLS listen socket",
    [SIP_TP_SCTP] = "No SCTP listen socket",
    [SIP_TP_WS] = "No WS listen socket",
    [SIP_TP_WSS] = "No WSS listen socket",
    [SIP_TP_OTHER] = "Unsupported transport",
};

/* -------------------------------------------------------------------
 * Addresses and sockets (shared with sipd_reply.c)
 */

/* sipd_route_out_reset - clear *out, keeping the caller's buffer */
void sipd_route_out_reset(struct sipd_route_out *out)
{
    char *buf = out->buf;
    size_t cap = out->cap;

    memset(out, 0, offsetof(struct sipd_route_out, name));
    out->buf = buf;
    out->cap = cap;
    out->name[0] = '\0';
    out->port = 0;
    out->rproto = 0;
    out->secure = 0;
}

/* sipd_route_proto - MSG_PROTO_* for a transport we carry, else 0 */
int sipd_route_proto(enum sip_transport tp)
{
    switch (tp) {
    case SIP_TP_UDP:
        return MSG_PROTO_UDP;
    case SIP_TP_TCP:
        return MSG_PROTO_TCP;
    default:
        return 0;
    }
}

/*
 * sipd_route_addr - an IP literal host (no brackets) and a port (host
 *    order) to *a. Returns 0, or -EINVAL for a name or bad text.
 */
int sipd_route_addr(struct msg_addr *a, struct str host,
                    enum sip_host_type ht, int port)
{
    if (ht != SIP_HOST_IPV4 && ht != SIP_HOST_IPV6)
        return -EINVAL;
    return addr_parse(a, host.s, host.len, port);
}

/*
 * sipd_route_addr_usable - a unicast destination: not 0.0.0.0, ::
 *    or 255.255.255.255 (RFC 4475 section 3.3.10: never send to a
 *    broadcast address a message gave us).
 */
int sipd_route_addr_usable(const struct msg_addr *a)
{
    static const unsigned char zero[16];
    static const unsigned char bcast[4] = {255, 255, 255, 255};

    if (a->family == AF_INET)
        return memcmp(a->ip, zero, 4) != 0 && memcmp(a->ip, bcast, 4) != 0;
    return memcmp(a->ip, zero, 16) != 0;
}

/* sipd_route_same_ip - v's sent-by host is the IP of peer */
static int sipd_route_same_ip(const struct sip_via *v,
                              const struct msg_addr *peer)
{
    struct msg_addr a;

    return sipd_route_addr(&a, v->host, v->host_type, 0) == 0
           && a.family == peer->family
           && memcmp(a.ip, peer->ip, a.family == AF_INET ? 4 : 16) == 0;
}

/* sipd_route_utoa - decimal text of n into buf (>= 11 bytes) */
static struct str sipd_route_utoa(char *buf, size_t cap, unsigned n)
{
    size_t i = cap;

    do {
        buf[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0 && i > 0);
    memmove(buf, buf + i, cap - i);
    return (struct str){buf, cap - i};
}

/*
 * sipd_route_src_fix - what the sender's Via v needs, given the
 *    packet's source peer: received= when the sent-by host is a name
 *    or another IP (RFC 3261 18.2.1); when ;rport has no value, its
 *    value and received= in any case (RFC 3581 section 4).
 */
void sipd_route_src_fix(const struct sip_via *v, const struct msg_addr *peer,
                        struct sipd_route_src *s)
{
    s->rport = v->rport == 0;
    s->received = s->rport || !sipd_route_same_ip(v, peer);
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
        s->port = sipd_route_utoa(s->portbuf, sizeof(s->portbuf),
                                  ntohs(peer->port));
}

/* sipd_route_listen_ip - listen socket l has the IP of a */
static int sipd_route_listen_ip(const struct cfg_listen *l,
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
 * sipd_route_is_us - host:port names this proxy: the IP and port of a
 *    listen socket (any transport), or a [net] alias (host compared
 *    case-insensitively; alias port 0 matches any port). port is the
 *    effective port: the caller applies the 5060/5061 default.
 */
int sipd_route_is_us(const struct cfg *c, struct str host,
                     enum sip_host_type ht, int port)
{
    struct msg_addr a;
    int i;

    if (sipd_route_addr(&a, host, ht, port) == 0)
        for (i = 0; i < c->nlisten; i++)
            if (c->listen[i].port == port
                && sipd_route_listen_ip(&c->listen[i], &a))
                return 1;
    for (i = 0; i < c->nalias; i++)
        if ((c->alias[i].port == 0 || c->alias[i].port == port)
            && str_ieq_cstr(host, c->alias[i].host))
            return 1;
    return 0;
}

/* sipd_route_uri_is_us - a sip:/sips: URI's host:port names us */
static int sipd_route_uri_is_us(const struct cfg *c, const struct sip_uri *u)
{
    int port = u->port;

    if (u->scheme_id != SIP_URI_SIP && u->scheme_id != SIP_URI_SIPS)
        return 0;
    if (port == 0)                      /* RFC 3263 section 4.2 */
        port = u->scheme_id == SIP_URI_SIPS || u->tp == SIP_TP_TLS
                   ? SIPD_PORT_SIPS : SIPD_PORT_SIP;
    return sipd_route_is_us(c, u->host, u->host_type, port);
}

/* sipd_route_via_is_us - a via-parm's sent-by names us */
int sipd_route_via_is_us(const struct cfg *c, const struct sip_via *v)
{
    int port = v->port;

    if (port == 0)                      /* RFC 3261 18.2.2 */
        port = v->tp == SIP_TP_TLS ? SIPD_PORT_SIPS : SIPD_PORT_SIP;
    return sipd_route_is_us(c, v->host, v->host_type, port);
}

/* sipd_route_sock_fits - listen l is of proto and (unless 0) family */
static int sipd_route_sock_fits(const struct cfg_listen *l, int proto,
                                int family)
{
    return l->proto == proto
           && (family == AF_UNSPEC || l->addr.ss_family == family);
}

/*
 * sipd_route_sock - a listen socket of proto (MSG_PROTO_*) and family
 *    (AF_UNSPEC: any): "prefer" (the one the message came in on)
 *    when it fits, else the first that does. Returns -1 when none.
 */
int sipd_route_sock(const struct cfg *c, int proto, int family, int prefer)
{
    int i;

    if (prefer >= 0 && prefer < c->nlisten
        && sipd_route_sock_fits(&c->listen[prefer], proto, family))
        return prefer;
    for (i = 0; i < c->nlisten; i++)
        if (sipd_route_sock_fits(&c->listen[i], proto, family))
            return i;
    return -1;
}

/*
 * sipd_route_lower - s lower-cased and NUL-terminated into dst.
 *    Returns its length, or 0 when s is empty or does not fit.
 */
size_t sipd_route_lower(char *dst, size_t cap, struct str s)
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

/* sipd_route_unbracket - "[v6]" to "v6" (maddr=, received=) */
struct str sipd_route_unbracket(struct str h)
{
    if (h.len >= 2 && h.s[0] == '[' && h.s[h.len - 1] == ']')
        return (struct str){h.s + 1, h.len - 2};
    return h;
}

/* -------------------------------------------------------------------
 * Requests: validation (RFC 3261 16.3)
 */

/*
 * sipd_route_check - RFC 3261 16.3 steps 1, 2, 3 and 5 (4 needs the
 *    branch). Returns 0, or a status code with *why set.
 */
static int sipd_route_check(const struct sipd_route_env *env,
                            const struct sip_msg *m, const char **why)
{
    const struct sip_uri *u = &m->ruri;

    if (!sip_msg_version_ok(m)) {       /* 21.5.7 */
        *why = "Version Not Supported";
        return 505;
    }
    if (!str_eq(m->method, m->cseq_method)) {   /* 8.1.1.5 */
        stats_inc(env->st, STAT_CORE_BAD_MSG_HDR);
        *why = "CSeq Method Mismatch";
        return 400;
    }
    if (u->scheme_id != SIP_URI_SIP && u->scheme_id != SIP_URI_SIPS) {
        stats_inc(env->st, STAT_CORE_BAD_URIS_RCVD);
        *why = "Unsupported URI Scheme";
        return 416;
    }
    if (u->headers.s != NULL) {         /* 19.1.1: not in a RURI */
        stats_inc(env->st, STAT_CORE_BAD_URIS_RCVD);
        *why = "Bad Request-URI";
        return 400;
    }
    if (m->max_forwards == 0) {
        *why = "Too Many Hops";
        return 483;
    }
    if (m->count[SIP_HDR_PROXY_REQUIRE] > 0) {
        *why = "Bad Extension";
        return 420;
    }
    return 0;
}

/*
 * sipd_route_looped - RFC 3261 16.3 step 4: a Via of ours (sent-by us,
 *    our branch shape) whose loop part equals the one computed for
 *    this request: it was routed on the same Request-URI and Route
 *    set before, so it has looped. A different loop part is a spiral.
 */
static int sipd_route_looped(const struct cfg *c, const struct sip_msg *m,
                             uint32_t loop)
{
    struct sip_hdr_iter it;
    struct sip_via v;
    struct str elem;
    uint32_t l;

    sip_hdr_iter_init(&it, m, SIP_HDR_VIA);
    while (sip_hdr_iter_next(&it, m, &elem) > 0) {
        if (memmem(elem.s, elem.len, SIPD_BRANCH_PREFIX,
                   SIPD_BRANCH_PREFIX_LEN) == NULL)
            continue;                   /* cheap test first */
        if (sip_via_parse(elem, &v) == 0 && sipd_branch_ours(v.branch, &l)
            && l == loop && sipd_route_via_is_us(c, &v))
            return 1;
    }
    return 0;
}

/* sipd_route_edit_err - status for a failed edit */
static int sipd_route_edit_err(const struct sip_msg *m, int err,
                               const char **why)
{
    if (err == -ENOSPC || err == -E2BIG) {
        *why = "Message Too Large";
        return 513;
    }
    *why = m->reason != NULL ? m->reason : "Bad Request";
    return 400;
}

/* -------------------------------------------------------------------
 * Requests: Route processing (RFC 3261 16.4, 16.6 step 6)
 */

/*
 * sipd_route_is_our_rr - the Request-URI is a value we put in a
 *    Record-Route ("sip:HOST:PORT;lr", no user) and a Route follows:
 *    the previous hop was a strict router (RFC 3261 16.4).
 */
static int sipd_route_is_our_rr(const struct cfg *c, const struct sip_msg *m)
{
    return m->route_hdr >= 0 && m->ruri.user.s == NULL
           && m->ruri.lr.s != NULL && sipd_route_uri_is_us(c, &m->ruri);
}

/* sipd_route_unstrict - RFC 3261 16.4: last Route value -> RURI */
static int sipd_route_unstrict(struct sip_msg *m)
{
    struct sip_hdr_iter it;
    struct sip_uri_addr a;
    struct str elem;
    struct str last = STR_NULL;
    int hdr = SIP_HDR_NONE;
    int r;

    sip_hdr_iter_init(&it, m, SIP_HDR_ROUTE);
    while ((r = sip_hdr_iter_next(&it, m, &elem)) > 0) {
        last = elem;
        hdr = it.cur;
    }
    if (r < 0 || hdr < 0 || sip_uri_addr_parse(last, &a) < 0) {
        m->reason = "Bad Route";
        return -EINVAL;
    }
    if ((r = sip_msg_set_ruri(m, a.uri)) < 0)
        return r;
    return sip_msg_elem_remove(m, hdr, last);
}

/* sipd_route_pop_self - remove the top Route values that name us */
static int sipd_route_pop_self(const struct cfg *c, struct sip_msg *m)
{
    struct sip_uri u;
    int n;
    int r;

    for (n = 0; n < SIPD_ROUTE_MAX_POP && m->route_hdr >= 0; n++) {
        if (sip_uri_parse(m->route.uri, &u) < 0
            || !sipd_route_uri_is_us(c, &u))
            break;
        if ((r = sip_msg_elem_remove(m, m->route_hdr, m->route.raw)) < 0)
            return r;
    }
    return 0;
}

/*
 * sipd_route_maddr - RFC 3261 16.4: a Request-URI whose maddr names
 *    us (with its port, or the default) loses maddr, its port and
 *    ;transport=, and routing goes on as if they had not been there.
 *    Otherwise the request would be sent to ourselves. Returns 0 or
 *    an edit error.
 */
static int sipd_route_maddr(const struct cfg *c, struct sip_msg *m)
{
    const struct sip_uri *u = &m->ruri;
    struct str ma = sipd_route_unbracket(u->maddr);
    struct str rest = u->params;
    struct str name, val;
    char buf[1024];
    size_t n;
    int port = u->port;

    if (ma.s == NULL)
        return 0;
    if (port == 0)
        port = u->scheme_id == SIP_URI_SIPS || u->tp == SIP_TP_TLS
                   ? SIPD_PORT_SIPS : SIPD_PORT_SIP;
    if (!sipd_route_is_us(c, ma, sip_uri_host_type(ma), port)
        || m->ruri_str.len >= sizeof(buf))
        return 0;
    /* scheme ":" [userinfo "@"] host, then the other params */
    n = (size_t)(u->host.s - m->ruri_str.s) + u->host.len
        + (u->host_type == SIP_HOST_IPV6 ? 1 : 0);
    memcpy(buf, m->ruri_str.s, n);
    while (sip_hdr_param_next(&rest, &name, &val) > 0) {
        if (str_ieq_cstr(name, "maddr") || str_ieq_cstr(name, "transport"))
            continue;
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ";%.*s%s%.*s",
                              (int)name.len, name.s, val.s ? "=" : "",
                              (int)val.len, val.s ? val.s : "");
        if (n >= sizeof(buf))
            return 0;
    }
    return sip_msg_set_ruri(m, (struct str){buf, n});
}

/* sipd_route_routes - RFC 3261 16.4; 0 or a status with *why */
static int sipd_route_routes(const struct cfg *c, struct sip_msg *m,
                             const char **why)
{
    int r;

    if (sipd_route_is_our_rr(c, m) && (r = sipd_route_unstrict(m)) < 0)
        return sipd_route_edit_err(m, r, why);
    if ((r = sipd_route_maddr(c, m)) < 0)
        return sipd_route_edit_err(m, r, why);
    if ((r = sipd_route_pop_self(c, m)) < 0)
        return sipd_route_edit_err(m, r, why);
    /* A later Route value the parser did not need to check. */
    if (m->route_hdr < 0 && m->count[SIP_HDR_ROUTE] > 0) {
        *why = "Bad Route";
        return 400;
    }
    return 0;
}

/*
 * sipd_route_for_us - no Route left and the Request-URI (without
 *    maddr) names us: we are the UAS. ACK is dropped by sipd_reply().
 */
static int sipd_route_for_us(const struct cfg *c, const struct sip_msg *m,
                             const char **why)
{
    if (m->route_hdr >= 0 || m->ruri.maddr.s != NULL
        || !sipd_route_uri_is_us(c, &m->ruri))
        return 0;
    if (m->method_id == SIP_METHOD_OPTIONS && m->ruri.user.s == NULL) {
        *why = "OK";                    /* RFC 3261 11.2 */
        return 200;
    }
    if (m->method_id == SIP_METHOD_CANCEL) {
        *why = "Call/Transaction Does Not Exist";   /* 9.2 */
        return 481;
    }
    *why = "Not Found";
    return 404;
}

/*
 * sipd_route_strict - RFC 3261 16.6 step 6, the next hop is a strict
 *    router: the Request-URI goes to the end of the Route set, the
 *    first Route URI (uri) becomes the Request-URI and leaves the set.
 */
static int sipd_route_strict(struct sip_msg *m, struct str uri)
{
    int last = m->route_hdr;
    int i;
    int r;

    while ((i = sip_msg_hdr_find(m, SIP_HDR_ROUTE, last)) >= 0)
        last = i;
    r = sip_msg_hdr_insertf(m, m->hdrs[last].next, "Route: <%.*s>",
                            (int)m->ruri_str.len, m->ruri_str.s);
    if (r < 0
        || (r = sip_msg_elem_remove(m, m->route_hdr, m->route.raw)) < 0)
        return r;
    return sip_msg_set_ruri(m, uri);
}

/* -------------------------------------------------------------------
 * Requests: next hop (RFC 3261 16.5, 16.6 step 7, 19.1.1)
 */

/* sipd_route_hop_uri - host, port, transport of target URI u */
static int sipd_route_hop_uri(const struct sip_uri *u,
                              struct sipd_route_hop *h, const char **why)
{
    enum sip_transport tp = u->tp;

    memset(h, 0, sizeof(*h));
    h->secure = u->scheme_id == SIP_URI_SIPS;
    h->host = u->host;
    h->ht = u->host_type;
    if (u->maddr.s != NULL) {           /* 19.1.1: maddr overrides host */
        h->host = sipd_route_unbracket(u->maddr);
        if ((h->ht = sip_uri_host_type(h->host)) == SIP_HOST_NONE) {
            *why = "Bad maddr";
            return 400;
        }
    }
    h->port = u->port;
    h->given = tp != SIP_TP_NONE;
    if (h->secure)                      /* 26.2.2: sips means TLS */
        tp = SIP_TP_TLS;
    else if (tp == SIP_TP_NONE)         /* RFC 3263 4.1, IP literal */
        tp = SIP_TP_UDP;
    if ((h->proto = sipd_route_proto(tp)) == 0) {
        *why = sipd_route_no_tp[tp];
        return 503;
    }
    return 0;
}

/* sipd_route_no_sock - 503 reason: transport and, if known, family */
static const char *sipd_route_no_sock(int proto, int family)
{
    int tcp = proto == MSG_PROTO_TCP;

    if (family == AF_INET)
        return tcp ? "No TCP IPv4 listen socket" : "No UDP IPv4 listen socket";
    if (family == AF_INET6)
        return tcp ? "No TCP IPv6 listen socket" : "No UDP IPv6 listen socket";
    return tcp ? "No TCP listen socket" : "No UDP listen socket";
}

/* sipd_route_hop_sock - the address of a literal and our socket */
static int sipd_route_hop_sock(const struct cfg *c, const struct msg_sip *in,
                               struct sipd_route_hop *h, const char **why)
{
    int family = AF_UNSPEC;
    int port = h->port;

    if (h->ht == SIP_HOST_IPV4 || h->ht == SIP_HOST_IPV6) {
        if (port == 0)
            port = h->secure ? SIPD_PORT_SIPS : SIPD_PORT_SIP;
        if (sipd_route_addr(&h->dst, h->host, h->ht, port) < 0
            || !sipd_route_addr_usable(&h->dst)) {
            *why = "Bad host";
            return 400;
        }
        family = h->dst.family;
    } else if (h->host.len >= CFG_HOST) {
        *why = "Host name too long";
        return 400;
    }
    /* For a name the family is not known yet: any, for the Via. */
    if ((h->sock = sipd_route_sock(c, h->proto, family, in->sock)) < 0) {
        *why = sipd_route_no_sock(h->proto, family);
        return 503;
    }
    return 0;
}

/* sipd_route_next_hop - where the request goes; 0 or a status */
static int sipd_route_next_hop(const struct cfg *c, struct sip_msg *m,
                               const struct msg_sip *in,
                               struct sipd_route_hop *h, const char **why)
{
    const struct sip_uri *t = &m->ruri;
    struct sip_uri u;
    int code;
    int r;

    if (m->route_hdr >= 0) {
        if (sip_uri_parse(m->route.uri, &u) < 0) {
            *why = "Bad Route";
            return 400;
        }
        if (u.scheme_id != SIP_URI_SIP && u.scheme_id != SIP_URI_SIPS) {
            *why = "Unsupported URI Scheme";
            return 416;
        }
        if (u.lr.s == NULL && (r = sipd_route_strict(m, m->route.uri)) < 0)
            return sipd_route_edit_err(m, r, why);
        if (u.lr.s != NULL)
            t = &u;                     /* loose: RURI stays */
    }
    if ((code = sipd_route_hop_uri(t, h, why)) != 0)
        return code;
    return sipd_route_hop_sock(c, in, h, why);
}

/* -------------------------------------------------------------------
 * Requests: rewriting (RFC 3261 16.6, 18.2.1, RFC 3581)
 */

/* sipd_route_fix_sender - received/rport on the sender's Via */
static int sipd_route_fix_sender(struct sip_msg *m, const struct msg_sip *in)
{
    struct sipd_route_src s;
    int r;

    sipd_route_src_fix(&m->via1, &in->peer, &s);
    if (s.received
        && (r = sip_msg_via_set_param(m, &m->via1, STR_LIT("received"),
                                      s.ip)) < 0)
        return r;
    if (s.rport
        && (r = sip_msg_via_set_param(m, &m->via1, STR_LIT("rport"),
                                      s.port)) < 0)
        return r;
    return 0;
}

/*
 * sipd_route_max_forwards - RFC 3261 16.6 step 3: decrement the value
 *    in place (the rest of the line keeps its bytes); when absent,
 *    insert "Max-Forwards: 70" right after the last Via header.
 */
static int sipd_route_max_forwards(struct sip_msg *m)
{
    int idx = m->first[SIP_HDR_MAX_FORWARDS];
    int last;
    int i;
    char num[12];

    if (idx >= 0)
        return sip_msg_elem_replace(
            m, idx, m->hdrs[idx].value,
            sipd_route_utoa(num, sizeof(num), (unsigned)m->max_forwards - 1));
    for (last = i = m->first[SIP_HDR_VIA]; i >= 0;
         i = sip_msg_hdr_find(m, SIP_HDR_VIA, i))
        last = i;
    i = sip_msg_hdr_insert(m, m->hdrs[last].next, STR_LIT("Max-Forwards: 70"));
    return i < 0 ? i : 0;
}

/*
 * sipd_route_frame - a message that leaves over TCP must carry
 *    Content-Length (RFC 3261 18.3, 20.14); one that came over UDP
 *    may lack it (its body ran to the end of the datagram). Appends
 *    "Content-Length: N" after the last header when needed.
 */
int sipd_route_frame(struct sip_msg *m, int proto)
{
    int r;

    if (proto != MSG_PROTO_TCP || m->content_length >= 0)
        return 0;
    r = sip_msg_hdr_insertf(m, SIP_HDR_NONE, "Content-Length: %zu",
                            m->body.len);
    return r < 0 ? r : 0;
}

/* sipd_route_hostport - listen l as host:port text, IPv6 bracketed */
static struct str sipd_route_hostport(const struct cfg_listen *l, char *buf,
                                      size_t cap)
{
    int v6 = strchr(l->host, ':') != NULL;
    size_t n = strlen(l->host);
    struct str port;
    char num[12];

    port = sipd_route_utoa(num, sizeof(num), l->port);
    if (n + port.len + 4 > cap)
        return STR_NULL;
    buf[0] = '[';
    memcpy(buf + v6, l->host, n);
    n += (size_t)v6;
    if (v6)
        buf[n++] = ']';
    buf[n++] = ':';
    memcpy(buf + n, port.s, port.len);
    return (struct str){buf, n + port.len};
}

/* sipd_route_record - RFC 3261 16.6 step 4: our Record-Route, first */
static int sipd_route_record(struct sip_msg *m, struct str hp, int tcp)
{
    int before = m->first[SIP_HDR_RECORD_ROUTE];
    int r;

    r = sip_msg_hdr_insertf(m, before >= 0 ? before : m->head,
                            "Record-Route: <sip:%.*s;lr%s>", (int)hp.len,
                            hp.s, tcp ? ";transport=tcp" : "");
    return r < 0 ? r : 0;
}

/* sipd_route_via - RFC 3261 16.6 step 8: our Via on top */
static int sipd_route_via(struct sip_msg *m, struct str hp, int tcp,
                          const struct sipd_branch *b,
                          const struct msg_sip *in)
{
    char br[SIPD_BRANCH_LEN];
    char cid[32] = "";
    int r;

    sipd_branch_format(b, br);
    /* Came over TCP: the connection id rides in our Via, so the
     * response finds the request's connection (RFC 3261 18.2.2)
     * without state here; see sipd_reply_relay(). */
    if (in->proto == MSG_PROTO_TCP && in->conn_id != 0)
        snprintf(cid, sizeof(cid), ";" SIPD_VIA_CID "=%llx",
                 (unsigned long long)in->conn_id);
    r = sip_msg_hdr_insertf(m, m->first[SIP_HDR_VIA],
                            "Via: SIP/2.0/%s %.*s;branch=%.*s%s",
                            tcp ? "TCP" : "UDP", (int)hp.len, hp.s,
                            SIPD_BRANCH_LEN, br, cid);
    return r < 0 ? r : 0;
}

/* sipd_route_rewrite - every change to a request that is forwarded */
static int sipd_route_rewrite(const struct cfg *c, struct sip_msg *m,
                              const struct msg_sip *in,
                              const struct sipd_route_hop *h,
                              const struct sipd_branch *b, const char **why)
{
    int tcp = h->proto == MSG_PROTO_TCP;
    char buf[CFG_NAME + 16];
    struct str hp = sipd_route_hostport(&c->listen[h->sock], buf,
                                        sizeof(buf));
    int r;

    if ((r = sipd_route_fix_sender(m, in)) < 0
        || (r = sipd_route_max_forwards(m)) < 0
        || (c->record_route && m->method_id != SIP_METHOD_REGISTER
            && (r = sipd_route_record(m, hp, tcp)) < 0)
        || (r = sipd_route_via(m, hp, tcp, b, in)) < 0
        || (r = sipd_route_frame(m, h->proto)) < 0)
        return sipd_route_edit_err(m, r, why);
    return 0;
}

/* -------------------------------------------------------------------
 * Requests: the whole path
 */

/*
 * sipd_route_late - answer a request that may have been edited: the
 *    reply is built from the request as received (parsed again).
 */
static int sipd_route_late(const struct sipd_route_env *env,
                           struct sip_msg *m, const struct msg_sip *in,
                           int code, const char *why,
                           struct sipd_route_out *out)
{
    if (sip_msg_parse(m, m->buf, m->len, m->flags) < 0) {
        stats_inc(env->st, STAT_CORE_ERR_REQUESTS);
        stats_inc(env->st, STAT_CORE_DROP_REQUESTS);
        sipd_route_out_reset(out);
        return SIPD_V_DROP;
    }
    return sipd_reply(env, m, in, code, why, out);
}

/* sipd_route_emit - print the request and say where it goes */
static int sipd_route_emit(const struct sipd_route_env *env,
                           struct sip_msg *m, const struct msg_sip *in,
                           const struct sipd_route_hop *h,
                           struct sipd_route_out *out)
{
    ssize_t n = sip_msg_print(m, out->buf, out->cap);

    if (n < 0)                          /* RFC 3261 21.5.11 */
        return sipd_route_late(env, m, in, 513, "Message Too Large", out);
    out->len = (size_t)n;
    out->proto = (uint8_t)h->proto;
    out->sock = (uint16_t)h->sock;
    if (h->ht == SIP_HOST_IPV4 || h->ht == SIP_HOST_IPV6) {
        out->dst = h->dst;
        out->verdict = SIPD_V_SEND;
    } else {
        (void)sipd_route_lower(out->name, sizeof(out->name), h->host);
        out->port = (uint16_t)h->port;
        out->rproto = (uint8_t)(h->given ? h->proto : 0);
        out->secure = (uint8_t)h->secure;
        out->verdict = SIPD_V_RESOLVE;
    }
    stats_inc(env->st, STAT_CORE_FWD_REQUESTS);
    return out->verdict;
}

/*
 * sipd_route_forced - RFC 3263 4.1: DNS (NAPTR/SRV) chose the transport
 *    of a name target: the hop takes it, and a socket of it for the Via.
 *    IP literals are not resolved, so they are left alone. 0 or 503.
 */
static int sipd_route_forced(const struct sipd_route_env *env,
                             const struct msg_sip *in,
                             struct sipd_route_hop *h, const char **why)
{
    if (env->force_proto == 0 || h->ht == SIP_HOST_IPV4
        || h->ht == SIP_HOST_IPV6 || h->proto == env->force_proto)
        return 0;
    h->proto = env->force_proto;
    h->given = 1;
    h->sock = sipd_route_sock(env->cfg, h->proto, AF_UNSPEC, in->sock);
    if (h->sock < 0) {
        *why = sipd_route_no_sock(h->proto, AF_UNSPEC);
        return 503;
    }
    return 0;
}

/*
 * sipd_route_big - RFC 3261 18.1.1: a request that would leave over UDP
 *    larger than 1300 bytes (the path MTU is unknown) goes over TCP
 *    when the next hop is an IP literal whose URI named no transport
 *    and a TCP listen socket of its family exists. A name target is
 *    left alone: RFC 3263 decides its transport. Always returns 0.
 */
static int sipd_route_big(const struct cfg *c, const struct sip_msg *m,
                          struct sipd_route_hop *h)
{
    int sock;

    if (h->proto != MSG_PROTO_UDP || h->given
        || m->len + SIPD_ROUTE_GROWTH <= SIPD_ROUTE_UDP_MAX
        || (h->ht != SIP_HOST_IPV4 && h->ht != SIP_HOST_IPV6))
        return 0;
    if ((sock = sipd_route_sock(c, MSG_PROTO_TCP, h->dst.family, -1)) < 0)
        return 0;
    h->proto = MSG_PROTO_TCP;
    h->sock = sock;
    return 0;
}

/* sipd_route_request - RFC 3261 16.3-16.6 for one parsed request */
static int sipd_route_request(const struct sipd_route_env *env,
                              struct sip_msg *m, const struct msg_sip *in,
                              struct sipd_route_out *out)
{
    const struct cfg *c = env->cfg;
    const char *why = NULL;
    struct sipd_route_hop h;
    struct sipd_branch b;
    int code;

    stats_inc(env->st, STAT_CORE_RCV_REQUESTS);
    if ((code = sipd_route_check(env, m, &why)) != 0)
        return sipd_reply(env, m, in, code, why, out);
    /* Before any edit: the branch hashes the request as received. */
    sipd_branch_compute(m, &b);
    if (sipd_route_looped(c, m, b.loop))
        return sipd_reply(env, m, in, 482, "Loop Detected", out);
    if ((code = sipd_route_routes(c, m, &why)) == 0
        && (code = sipd_route_for_us(c, m, &why)) == 0
        && (code = sipd_route_next_hop(c, m, in, &h, &why)) == 0
        && (code = sipd_route_forced(env, in, &h, &why)) == 0
        && (code = sipd_route_big(c, m, &h)) == 0)
        code = sipd_route_rewrite(c, m, in, &h, &b, &why);
    if (code != 0)
        return sipd_route_late(env, m, in, code, why, out);
    return sipd_route_emit(env, m, in, &h, out);
}

/* sipd_route_blank - nothing but CR/LF: a keep-alive (RFC 5626 3.5.1) */
static int sipd_route_blank(const char *data, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (data[i] != '\r' && data[i] != '\n')
            return 0;
    return 1;
}

/*
 * sipd_route_malformed - a message the parser refused. A response is
 *    dropped (never answer a response); a request gets 400 with the
 *    parser's reason when its top Via can be found, else is dropped.
 */
static int sipd_route_malformed(const struct sipd_route_env *env,
                                const struct sip_msg *m,
                                const struct msg_sip *in, const char *data,
                                size_t len, struct sipd_route_out *out)
{
    const char *p = data;
    const char *end = data + len;

    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    if (end - p >= 4 && strncasecmp(p, "SIP/", 4) == 0) {
        stats_inc(env->st, STAT_CORE_RCV_REPLIES);
        stats_inc(env->st, STAT_CORE_ERR_REPLIES);
        return SIPD_V_DROP;
    }
    stats_inc(env->st, STAT_CORE_RCV_REQUESTS);
    stats_inc(env->st, STAT_CORE_BAD_MSG_HDR);
    return sipd_reply_bad(env, in, data, len, m->reason, out);
}

/*
 * sipd_route_oversize - netd sent only the header block of a TCP
 *    message whose Content-Length passes [net] tcp_max_size (MSG_F_OVERSIZE):
 *    a request gets 513 on its connection (RFC 3261 21.5.11), which
 *    netd then closes; a response is dropped.
 */
static int sipd_route_oversize(const struct sipd_route_env *env,
                               const struct msg_sip *in, const char *data,
                               size_t len, struct sipd_route_out *out)
{
    if (len >= 4 && strncasecmp(data, "SIP/", 4) == 0) {
        stats_inc(env->st, STAT_CORE_RCV_REPLIES);
        stats_inc(env->st, STAT_CORE_DROP_REPLIES);
        return SIPD_V_DROP;
    }
    stats_inc(env->st, STAT_CORE_RCV_REQUESTS);
    return sipd_reply_raw(env, in, data, len, 513, "Message Too Large", out);
}

/* sipd_route - parse and route one received message */
int sipd_route(const struct sipd_route_env *env, struct sip_msg *m,
               const struct msg_sip *in, const char *data, size_t len,
               struct sipd_route_out *out)
{
    unsigned flags = in->proto == MSG_PROTO_TCP ? SIP_PARSE_STREAM : 0;

    sipd_route_out_reset(out);
    if (data == NULL || sipd_route_blank(data, len))
        return SIPD_V_DROP;
    if (in->flags & MSG_F_OVERSIZE)     /* netd: over tcp_max_size */
        return sipd_route_oversize(env, in, data, len, out);
    if (sip_msg_parse(m, data, len, flags) < 0)
        return sipd_route_malformed(env, m, in, data, len, out);
    if (!m->is_request)
        return sipd_reply_relay(env, m, in, out);
    return sipd_route_request(env, m, in, out);
}

/*
 * sipd_route_resolved - finish a SIPD_V_RESOLVE with DNS target t
 *    out is what sipd_route() returned: out->proto is the transport
 *    its top Via names (UDP unless the URI said ;transport=tcp) and
 *    out->sock the socket the Via names. A target of another
 *    transport would contradict that Via: SIPD_V_DROP (rewriting the
 *    Via for it is the caller's business: route the received message
 *    again). A target of another family is sent from a socket of
 *    that family; the Via still names the first one, which is ours
 *    and gets the responses. The caller counts a drop.
 */
int sipd_route_resolved(const struct sipd_route_env *env,
                        const struct msg_dns_target *t,
                        struct sipd_route_out *out)
{
    int sock;

    out->verdict = SIPD_V_DROP;
    if (t->proto != 0 && t->proto != out->proto)
        return SIPD_V_DROP;             /* 0: the transport we asked for */
    sock = sipd_route_sock(env->cfg, out->proto, t->addr.family, out->sock);
    if (sock < 0)
        return SIPD_V_DROP;
    out->sock = (uint16_t)sock;
    out->dst = t->addr;
    out->conn_id = 0;
    out->verdict = SIPD_V_SEND;
    return SIPD_V_SEND;
}
