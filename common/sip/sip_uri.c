/*
 * SUMMARY
 *      sip_uri - SIP, SIPS, tel and other URIs; name-addr elements
 * DESCRIPTION
 *      sip_uri_parse() splits a URI (RFC 3261 section 19.1, RFC 3966
 *      for tel:) into views of its parts and picks out the parameters
 *      a proxy routes on (transport, maddr, ttl, user, method, lr).
 *      Unknown schemes parse as "scheme:opaque" so the router can
 *      answer 416 instead of 400. sip_uri_addr_parse() takes one
 *      name-addr or addr-spec element of From, To, Route, Contact...
 *      and separates display name, URI and header parameters.
 * PROTOCOL
 *      None: a library.
 * DIAGNOSTICS
 *      Bad input returns -EBADMSG; nothing logs.
 */
#include <errno.h>
#include <arpa/inet.h>

#include "sip_msg_priv.h"

struct sip_uri_tp {
    const char *name;                   /* lower case */
    size_t len;
    enum sip_transport tp;
};

static const struct sip_uri_tp sip_uri_tps[] = {
    {"udp", 3, SIP_TP_UDP},
    {"tcp", 3, SIP_TP_TCP},
    {"tls", 3, SIP_TP_TLS},
    {"sctp", 4, SIP_TP_SCTP},
    {"ws", 2, SIP_TP_WS},
    {"wss", 3, SIP_TP_WSS},
};

/* sip_uri_transport - map a transport token, case-insensitive */
enum sip_transport sip_uri_transport(struct str token)
{
    size_t i;

    if (token.len == 0)
        return SIP_TP_NONE;
    for (i = 0; i < sizeof(sip_uri_tps) / sizeof(sip_uri_tps[0]); i++)
        if (sip_hdr_ieq(token, sip_uri_tps[i].name, sip_uri_tps[i].len))
            return sip_uri_tps[i].tp;
    return SIP_TP_OTHER;
}

/* sip_uri_ipv4_ok - four dotted decimal octets, 0..255 each */
static int sip_uri_ipv4_ok(struct str h)
{
    const char *p = h.s;
    const char *end = h.s + h.len;
    int octet;

    for (octet = 0; octet < 4; octet++) {
        const char *ds = p;
        unsigned v = 0;

        while (p < end && sip_hdr_is_digit((unsigned char)*p) && p - ds < 3)
            v = v * 10 + (unsigned)(*p++ - '0');
        if (p == ds || v > 255)
            return 0;
        if (octet < 3) {
            if (p == end || *p != '.')
                return 0;
            p++;
        }
    }
    return p == end;
}

/* sip_uri_ipv6_ok - an IPv6 address literal (no brackets) */
static int sip_uri_ipv6_ok(struct str h)
{
    char buf[INET6_ADDRSTRLEN];
    unsigned char addr[16];

    if (h.len == 0 || h.len >= sizeof(buf))
        return 0;
    memcpy(buf, h.s, h.len);
    buf[h.len] = 0;
    return inet_pton(AF_INET6, buf, addr) == 1;
}

/* sip_uri_name_ok - hostname: labels of alnum, '-', '_', split by '.' */
static int sip_uri_name_ok(struct str h)
{
    size_t i;
    size_t label = 0;

    for (i = 0; i < h.len; i++) {
        unsigned char c = (unsigned char)h.s[i];

        if (c == '.') {
            if (label == 0)
                return 0;               /* ".x" or "x..y" */
            label = 0;
        } else if (sip_hdr_is_alnum(c) || c == '-' || c == '_') {
            label++;
        } else {
            return 0;
        }
    }
    return h.len > 0;
}

/* sip_uri_host_type - classify a host (no brackets); NONE if invalid */
enum sip_host_type sip_uri_host_type(struct str host)
{
    size_t i;

    if (host.len == 0)
        return SIP_HOST_NONE;
    if (memchr(host.s, ':', host.len) != NULL)
        return sip_uri_ipv6_ok(host) ? SIP_HOST_IPV6 : SIP_HOST_NONE;
    for (i = 0; i < host.len; i++)
        if (!sip_hdr_is_digit((unsigned char)host.s[i]) && host.s[i] != '.')
            break;
    if (i == host.len)                  /* all digits and dots */
        return sip_uri_ipv4_ok(host) ? SIP_HOST_IPV4 : SIP_HOST_NONE;
    return sip_uri_name_ok(host) ? SIP_HOST_NAME : SIP_HOST_NONE;
}

/* sip_uri_scan_host - scan "[IPv6]" or a name/IPv4 host at p */
const char *sip_uri_scan_host(const char *p, const char *end,
                              struct str *host, enum sip_host_type *type)
{
    const char *hs = p;

    if (p < end && *p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));

        if (rb == NULL)
            return NULL;
        *host = (struct str){p + 1, (size_t)(rb - p - 1)};
        *type = sip_uri_ipv6_ok(*host) ? SIP_HOST_IPV6 : SIP_HOST_NONE;
        return *type == SIP_HOST_NONE ? NULL : rb + 1;
    }
    while (p < end && sip_hdr_is_host((unsigned char)*p))
        p++;
    *host = (struct str){hs, (size_t)(p - hs)};
    *type = sip_uri_host_type(*host);
    return *type == SIP_HOST_NONE ? NULL : p;
}

/* sip_uri_chars_ok - no controls, LWS, or <>" anywhere in a URI */
static int sip_uri_chars_ok(struct str in)
{
    size_t i;

    for (i = 0; i < in.len; i++) {
        unsigned char c = (unsigned char)in.s[i];

        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"')
            return 0;
    }
    return 1;
}

/* sip_uri_scheme_ok - ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static int sip_uri_scheme_ok(struct str s)
{
    size_t i;

    if (s.len == 0 || sip_hdr_is_digit((unsigned char)s.s[0])
        || !sip_hdr_is_alnum((unsigned char)s.s[0]))
        return 0;
    for (i = 1; i < s.len; i++) {
        unsigned char c = (unsigned char)s.s[i];

        if (!sip_hdr_is_alnum(c) && c != '+' && c != '-' && c != '.')
            return 0;
    }
    return 1;
}

/* sip_uri_param - remember one URI parameter a proxy routes on */
static void sip_uri_param(struct sip_uri *u, struct str name, struct str val)
{
    struct str *slot = NULL;

    if (SIP_HDR_IEQ(name, "transport"))
        slot = &u->transport;
    else if (SIP_HDR_IEQ(name, "maddr"))
        slot = &u->maddr;
    else if (SIP_HDR_IEQ(name, "ttl"))
        slot = &u->ttl;
    else if (SIP_HDR_IEQ(name, "user"))
        slot = &u->user_param;
    else if (SIP_HDR_IEQ(name, "method"))
        slot = &u->method;
    else if (SIP_HDR_IEQ(name, "lr"))
        slot = &u->lr;
    if (slot == NULL || slot->s != NULL)
        return;                         /* unknown, or not the first */
    /* A flag (";lr") is present with an empty value. */
    *slot = val.s != NULL ? val : (struct str){name.s + name.len, 0};
}

/* sip_uri_params - walk u->params; every param must parse */
static int sip_uri_params(struct sip_uri *u)
{
    struct str rest = u->params;
    struct str name;
    struct str val;
    int r;

    while ((r = sip_hdr_param_next(&rest, &name, &val)) > 0)
        sip_uri_param(u, name, val);
    if (r < 0)
        return r;
    u->tp = sip_uri_transport(u->transport);
    if (u->transport.s != NULL && u->tp == SIP_TP_NONE)
        return -EBADMSG;                /* ";transport=" */
    return 0;
}

/* sip_uri_userinfo - user[:password] before the '@' */
static int sip_uri_userinfo(struct sip_uri *u, const char *p, const char *at)
{
    const char *colon = memchr(p, ':', (size_t)(at - p));

    if (colon == NULL) {
        u->user = (struct str){p, (size_t)(at - p)};
    } else {
        u->user = (struct str){p, (size_t)(colon - p)};
        u->password = (struct str){colon + 1, (size_t)(at - colon - 1)};
    }
    return u->user.len > 0 ? 0 : -EBADMSG;
}

/* sip_uri_port - ":port" at p, 1..65535; returns the byte after */
static const char *sip_uri_port(const char *p, const char *end, int *port)
{
    const char *ds = ++p;
    unsigned long v;

    while (p < end && sip_hdr_is_digit((unsigned char)*p))
        p++;
    if (sip_hdr_parse_uint((struct str){ds, (size_t)(p - ds)}, 65535,
                           &v) < 0 || v == 0)
        return NULL;
    *port = (int)v;
    return p;
}

/* sip_uri_parse_sip - [userinfo@]hostport[;params][?headers] */
static int sip_uri_parse_sip(struct sip_uri *u)
{
    const char *p = u->opaque.s;
    const char *end = p + u->opaque.len;
    const char *at = memchr(p, '@', u->opaque.len);
    const char *hs;
    const char *qm;

    if (at != NULL) {
        if (sip_uri_userinfo(u, p, at) < 0)
            return -EBADMSG;
        p = at + 1;
    }
    hs = p;
    if ((p = sip_uri_scan_host(p, end, &u->host, &u->host_type)) == NULL)
        return -EBADMSG;
    if (p < end && *p == ':' && (p = sip_uri_port(p, end, &u->port)) == NULL)
        return -EBADMSG;
    u->hostport = (struct str){hs, (size_t)(p - hs)};
    if (p == end)
        return 0;
    if (*p != ';' && *p != '?')
        return -EBADMSG;
    if ((qm = memchr(p, '?', (size_t)(end - p))) == NULL)
        qm = end;
    else
        u->headers = (struct str){qm + 1, (size_t)(end - qm - 1)};
    if (qm > p)
        u->params = (struct str){p, (size_t)(qm - p)};
    return sip_uri_params(u);
}

/* sip_uri_parse_tel - number[;params] (RFC 3966, not validated) */
static int sip_uri_parse_tel(struct sip_uri *u)
{
    const char *p = u->opaque.s;
    const char *end = p + u->opaque.len;
    const char *semi = memchr(p, ';', u->opaque.len);

    u->user = (struct str){p, (size_t)((semi ? semi : end) - p)};
    if (u->user.len == 0)
        return -EBADMSG;
    if (semi != NULL)
        u->params = (struct str){semi, (size_t)(end - semi)};
    return sip_uri_params(u);
}

/* sip_uri_parse - parse a URI (no <>, no display name) */
int sip_uri_parse(struct str in, struct sip_uri *u)
{
    const char *colon;

    memset(u, 0, sizeof(*u));
    if (in.len == 0 || !sip_uri_chars_ok(in))
        return -EBADMSG;
    if ((colon = memchr(in.s, ':', in.len)) == NULL)
        return -EBADMSG;
    u->scheme = (struct str){in.s, (size_t)(colon - in.s)};
    u->opaque = (struct str){colon + 1, in.len - u->scheme.len - 1};
    if (!sip_uri_scheme_ok(u->scheme) || u->opaque.len == 0)
        return -EBADMSG;
    if (SIP_HDR_IEQ(u->scheme, "sip"))
        u->scheme_id = SIP_URI_SIP;
    else if (SIP_HDR_IEQ(u->scheme, "sips"))
        u->scheme_id = SIP_URI_SIPS;
    else if (SIP_HDR_IEQ(u->scheme, "tel"))
        u->scheme_id = SIP_URI_TEL;
    switch (u->scheme_id) {
    case SIP_URI_SIP:
    case SIP_URI_SIPS:
        return sip_uri_parse_sip(u);
    case SIP_URI_TEL:
        return sip_uri_parse_tel(u);
    default:
        return 0;
    }
}

/* sip_uri_addr_params - validate header params, find ;tag */
static int sip_uri_addr_params(struct sip_uri_addr *a)
{
    struct str rest = a->params;
    struct str name;
    struct str val;
    int r;

    while ((r = sip_hdr_param_next(&rest, &name, &val)) > 0) {
        if (a->tag.s == NULL && SIP_HDR_IEQ(name, "tag")) {
            if (val.s == NULL || val.len == 0)
                return -EBADMSG;
            a->tag = val;
        }
    }
    return r;
}

/*
 * sip_uri_addr_angle - "<uri>" at p, then the header params. No LWS
 *      inside the brackets: LAQUOT addr-spec RAQUOT (RFC 3261 section
 *      25.1; RFC 4475 section 3.1.2.14 "< sip:x@y >" is malformed).
 */
static int sip_uri_addr_angle(struct sip_uri_addr *a, const char *p,
                              const char *end)
{
    const char *gt = memchr(p, '>', (size_t)(end - p));
    size_t i;

    if (gt == NULL)
        return -EBADMSG;
    a->bracketed = 1;
    a->uri = (struct str){p + 1, (size_t)(gt - p - 1)};
    for (i = 0; i < a->uri.len; i++)
        if (sip_hdr_is_lws((unsigned char)a->uri.s[i]))
            return -EBADMSG;
    a->params = sip_hdr_trim((struct str){gt + 1, (size_t)(end - gt - 1)});
    return a->uri.len > 0 ? sip_uri_addr_params(a) : -EBADMSG;
}

/* sip_uri_addr_bare - addr-spec: the uri runs to the first ';' */
static int sip_uri_addr_bare(struct sip_uri_addr *a, const char *p,
                             const char *end)
{
    const char *semi = memchr(p, ';', (size_t)(end - p));
    size_t i;

    a->uri = sip_hdr_trim((struct str){p, (size_t)((semi ? semi : end) - p)});
    for (i = 0; i < a->uri.len; i++)
        if (sip_hdr_is_lws((unsigned char)a->uri.s[i])
            || a->uri.s[i] == '"' || a->uri.s[i] == '>')
            return -EBADMSG;
    if (semi != NULL)
        a->params = (struct str){semi, (size_t)(end - semi)};
    return a->uri.len > 0 ? sip_uri_addr_params(a) : -EBADMSG;
}

/* sip_uri_addr_parse - parse one name-addr / addr-spec element */
int sip_uri_addr_parse(struct str in, struct sip_uri_addr *a)
{
    const char *p;
    const char *end;
    const char *lt;

    memset(a, 0, sizeof(*a));
    in = sip_hdr_trim(in);
    a->raw = in;
    if (in.len == 0)
        return -EBADMSG;
    p = in.s;
    end = in.s + in.len;
    if (*p == '"') {
        const char *q = sip_hdr_quoted_end(p, end);

        if (q == NULL)
            return -EBADMSG;
        a->display = (struct str){p + 1, (size_t)(q - p - 2)};
        p = sip_hdr_skip_lws(q, end);
        if (p == end || *p != '<')
            return -EBADMSG;
        return sip_uri_addr_angle(a, p, end);
    }
    if ((lt = memchr(p, '<', in.len)) == NULL)
        return sip_uri_addr_bare(a, p, end);
    for (; p < lt; p++)
        if (!sip_hdr_is_token((unsigned char)*p)
            && !sip_hdr_is_lws((unsigned char)*p)
            && (unsigned char)*p < 0x80)
            return -EBADMSG;
    a->display = sip_hdr_trim((struct str){in.s, (size_t)(lt - in.s)});
    if (a->display.len == 0)
        a->display = STR_NULL;          /* "<uri>": no display name */
    return sip_uri_addr_angle(a, lt, end);
}
