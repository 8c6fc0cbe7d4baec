/*
 * SUMMARY
 *    sipd_hop - the next leg of a message: where a request goes, over
 *    which transport, and what that transport needs
 * DESCRIPTION
 *    Next hop of a request (RFC 3261 16.5, 16.6 steps 6-7, 19.1.1):
 *    sipd_hop_next() takes the first Route if any - without ;lr it is
 *    a strict router: the Request-URI goes to the end of the Route set
 *    and that Route URI becomes the Request-URI - else the
 *    Request-URI; maddr, port and ;transport= are honoured, and a
 *    listen socket of that transport and family is chosen, the
 *    incoming one first, or 503.
 *
 *    The transport can change after that, in two places only:
 *    sipd_hop_forced() when DNS (NAPTR/SRV) chose it for a name target
 *    (RFC 3263 4.1; sipd_dns.c routes the message again with it, and
 *    likewise with the family of the address DNS gave), and
 *    sipd_hop_big() for a request over 1300 bytes to an IP literal
 *    with no ;transport= (RFC 3261 18.1.1), which leaves over TCP when
 *    a TCP listen socket of its family exists.
 *
 *    sipd_hop_frame() adds the Content-Length a message needs when it
 *    leaves over TCP or TLS (RFC 3261 18.3), for forwarded requests and
 *    relayed responses alike.
 *
 *    SIPS (RFC 3261 26.2.2, RFC 5630 section 3): a request whose
 *    Request-URI is sips: leaves over TLS only, whatever the Route it
 *    follows says (sip: URI, ;transport=udp) and whatever DNS offers; a
 *    sips: next hop is TLS too. When no TLS path exists - no tls
 *    listen socket (of the target's family), or DNS chose another
 *    transport - the request gets 480 Temporarily Unavailable with
 *    Warning: 380 "SIPS Not Allowed" (RFC 5630 5.3), never a downgrade.
 *    Why 480 and not 416: 416 (Unsupported URI Scheme, RFC 3261 16.3)
 *    says the proxy does not understand sips: at all, and invites the
 *    UAC to try again with sip:, the very downgrade sips: forbids; this
 *    proxy understands sips: but has no secure path for this request
 *    now, which is what RFC 5630 5.3 answers with 480 and warning 380.
 * PROTOCOL
 *    None: pure functions of the message and the config.
 * DIAGNOSTICS
 *    Nothing logs. A hop that cannot be reached is a status code for
 *    the caller to answer (400, 416, 480, 503).
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "sipd_route_priv.h"

const char sipd_hop_no_sips[] = "Temporarily Unavailable";

/* RFC 3261 18.1.1: larger than this over UDP goes over TCP. */
#define SIPD_HOP_UDP_MAX 1300
/* What forwarding adds at most, near enough: our Via, received/rport. */
#define SIPD_HOP_GROWTH 160

/* 503 reasons by RFC transport (RFC 3261 16.5: no way to reach it). */
static const char *const sipd_hop_no_tp[] = {
    [SIP_TP_NONE] = "Unsupported transport",
    [SIP_TP_UDP] = "No UDP listen socket",
    [SIP_TP_TCP] = "No TCP listen socket",
    [SIP_TP_TLS] = "No TLS listen socket",
    [SIP_TP_SCTP] = "No SCTP listen socket",
    [SIP_TP_WS] = "No WS listen socket",
    [SIP_TP_WSS] = "No WSS listen socket",
    [SIP_TP_OTHER] = "Unsupported transport",
};


/*
 * sipd_hop_strict - RFC 3261 16.6 step 6, the next hop is a strict
 *    router: the Request-URI goes to the end of the Route set, the
 *    first Route URI (uri) becomes the Request-URI and leaves the set.
 */
static int sipd_hop_strict(struct sip_msg *m, struct str uri)
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

/* sipd_hop_uri - host, port, transport of target URI u */
static int sipd_hop_uri(const struct sip_uri *u, struct sipd_hop *h,
                        const char **why)
{
    enum sip_transport tp = u->tp;

    memset(h, 0, sizeof(*h));
    h->secure = u->scheme_id == SIP_URI_SIPS;
    h->host = u->host;
    h->ht = u->host_type;
    if (u->maddr.s != NULL) {           /* 19.1.1: maddr overrides host */
        h->host = sipd_addr_unbracket(u->maddr);
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
    if ((h->proto = sipd_addr_proto(tp)) == 0) {
        *why = sipd_hop_no_tp[tp];
        return 503;
    }
    return 0;
}

/* sipd_hop_no_sock - 503 reason: transport and, if known, family */
static const char *sipd_hop_no_sock(int proto, int family)
{
    static const char *const why[][3] = {
        {"No UDP listen socket", "No UDP IPv4 listen socket",
         "No UDP IPv6 listen socket"},
        {"No TCP listen socket", "No TCP IPv4 listen socket",
         "No TCP IPv6 listen socket"},
        {"No TLS listen socket", "No TLS IPv4 listen socket",
         "No TLS IPv6 listen socket"},
    };
    int p = proto == MSG_PROTO_TLS ? 2 : proto == MSG_PROTO_TCP;

    return why[p][family == AF_INET ? 1 : family == AF_INET6 ? 2 : 0];
}

/*
 * sipd_hop_unreachable - no socket for hop h: 480 for a secure hop
 *    (RFC 5630 5.3: no TLS path, never a downgrade), else 503.
 */
static int sipd_hop_unreachable(const struct sipd_hop *h, int family,
                                const char **why)
{
    if (h->secure) {
        *why = sipd_hop_no_sips;
        return 480;
    }
    *why = sipd_hop_no_sock(h->proto, family);
    return 503;
}

/* sipd_hop_sock - the address of a literal and our socket */
static int sipd_hop_sock(const struct cfg *c, const struct msg_sip *in,
                         struct sipd_hop *h, const char **why)
{
    int family = AF_UNSPEC;
    int port = h->port;

    if (h->ht == SIP_HOST_IPV4 || h->ht == SIP_HOST_IPV6) {
        if (port == 0)
            port = h->secure ? SIPD_PORT_SIPS : SIPD_PORT_SIP;
        if (addr_parse(&h->dst, h->host.s, h->host.len, port) < 0
            || !sipd_addr_usable(&h->dst)) {
            *why = "Bad host";
            return 400;
        }
        family = h->dst.family;
    } else if (h->host.len >= CFG_HOST) {
        *why = "Host name too long";
        return 400;
    }
    /* For a name the family is not known yet: any, for the Via. */
    if ((h->sock = sipd_addr_sock(c, h->proto, family, in->sock)) < 0)
        return sipd_hop_unreachable(h, family, why);
    return 0;
}

/*
 * sipd_hop_next - where request m goes next (RFC 3261 16.5, 16.6 steps
 *    6-7, 19.1.1): the first Route if any (strict: its URI becomes the
 *    Request-URI, which joins the end of the Route set), else the
 *    Request-URI; maddr, port and ;transport= honoured; a listen socket
 *    of that transport and family, the one "in" came in on first.
 *    Fills *h. Returns 0, a status code (400, 416, 480, 503) with *why set,
 *    or the negative errno of a failed edit of m (the caller turns it
 *    into a status).
 */
int sipd_hop_next(const struct cfg *c, struct sip_msg *m,
                  const struct msg_sip *in, struct sipd_hop *h,
                  const char **why)
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
        if (u.lr.s == NULL && (r = sipd_hop_strict(m, m->route.uri)) < 0)
            return r;
        if (u.lr.s != NULL)
            t = &u;                     /* loose: RURI stays */
    }
    if ((code = sipd_hop_uri(t, h, why)) != 0)
        return code;
    if (m->ruri.scheme_id == SIP_URI_SIPS) {    /* RFC 5630 section 3 */
        h->secure = 1;                  /* TLS, whatever the Route says */
        h->proto = MSG_PROTO_TLS;
    }
    return sipd_hop_sock(c, in, h, why);
}

/*
 * sipd_hop_forced - RFC 3263 4.1: DNS chose the transport (NAPTR/SRV)
 *    or the address family (A or AAAA) of a name target: the hop takes
 *    them, and a socket of them for the Via, so that the Via names the
 *    socket that sends. IP literals are not resolved, so they are left
 *    alone. Returns 0, or 503 with *why set when we have no socket of
 *    that transport and family.
 */
int sipd_hop_forced(const struct sipd_route_env *env, const struct msg_sip *in,
                    struct sipd_hop *h, const char **why)
{
    int family = env->force_family;

    if ((env->force_proto == 0 && family == AF_UNSPEC)
        || h->ht == SIP_HOST_IPV4 || h->ht == SIP_HOST_IPV6)
        return 0;
    if (env->force_proto != 0 && h->proto != env->force_proto) {
        if (h->secure) {                /* DNS offers no TLS: no downgrade */
            *why = sipd_hop_no_sips;
            return 480;
        }
        h->proto = env->force_proto;
        h->given = 1;
    }
    h->sock = sipd_addr_sock(env->cfg, h->proto, family, in->sock);
    if (h->sock < 0)
        return sipd_hop_unreachable(h, family, why);
    return 0;
}

/*
 * sipd_hop_big - RFC 3261 18.1.1: a request that would leave over UDP
 *    larger than 1300 bytes (the path MTU is unknown) goes over TCP
 *    when the next hop is an IP literal whose URI named no transport
 *    and a TCP listen socket of its family exists. A name target is
 *    left alone: RFC 3263 decides its transport. This is the only
 *    place that applies the rule; without a TCP socket h stays UDP.
 */
void sipd_hop_big(const struct cfg *c, const struct sip_msg *m,
                  struct sipd_hop *h)
{
    int sock;

    if (h->proto != MSG_PROTO_UDP || h->given
        || m->len + SIPD_HOP_GROWTH <= SIPD_HOP_UDP_MAX
        || (h->ht != SIP_HOST_IPV4 && h->ht != SIP_HOST_IPV6))
        return;
    if ((sock = sipd_addr_sock(c, MSG_PROTO_TCP, h->dst.family, -1)) < 0)
        return;
    h->proto = MSG_PROTO_TCP;
    h->sock = sock;
}

/*
 * sipd_hop_frame - a message that leaves over TCP must carry
 *    Content-Length (RFC 3261 18.3, 20.14); one that came over UDP
 *    may lack it (its body ran to the end of the datagram). Appends
 *    "Content-Length: N" after the last header when needed.
 */
int sipd_hop_frame(struct sip_msg *m, int proto)
{
    int r;

    if (!msg_proto_stream(proto) || m->content_length >= 0)
        return 0;
    r = sip_msg_hdr_insertf(m, SIP_HDR_NONE, "Content-Length: %zu",
                            m->body.len);
    return r < 0 ? r : 0;
}
