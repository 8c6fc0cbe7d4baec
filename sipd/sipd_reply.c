/*
 * SUMMARY
 *    sipd_reply - replies: the ones a stateless proxy generates, and
 *    the ones it relays (RFC 3261 sections 8.2.6, 16.11, 18.2.2)
 * DESCRIPTION
 *    Generated replies (sipd_reply(), and sipd_reply_bad() for a
 *    request the parser refused) are written straight into the
 *    caller's buffer, nothing is edited in the request:
 *
 *        SIP/2.0 CODE REASON
 *        Via: ...            every Via line of the request, in order,
 *                            the top via-parm with received= and a
 *                            filled-in rport (18.2.1, RFC 3581 4)
 *        From: ...           as received (8.2.6.2)
 *        To: ...;tag=T       a tag added when the request had none:
 *                            16 hex digits hashed from the request's
 *                            top Via, From, Call-ID and CSeq lines, so
 *                            a retransmission gets the same reply
 *        Call-ID: ...
 *        CSeq: ...
 *        Unsupported: ...    420 only: each Proxy-Require value
 *        Retry-After: N      sipd_reply_unavailable() only (a 503
 *                            for a database problem)
 *        Content-Length: 0
 *
 *    Header lines are copied byte for byte (compact names and folds
 *    included). An ACK is never answered (17.1.1.3). The reply goes
 *    back the way the request came (18.2.2, RFC 3581 4): over TCP on
 *    the same connection; over UDP to the source IP (which received=
 *    names, or the sent-by equals) and to the source port when the
 *    request asked with ;rport, else the sent-by port or 5060, from
 *    the socket the request arrived on.
 *
 *    For a request the parser refused, the lines above are found by
 *    a forgiving scan of the raw bytes (the parser's state after a
 *    failure is not meant to be used): a 400 is possible when the top
 *    via-parm parses and every Via line is clean text; otherwise the
 *    request is dropped, since there is nowhere to send the answer.
 *
 *    Relayed responses (sipd_reply_relay(), RFC 3261 16.11): the top
 *    Via must be ours (our branch shape and a sent-by naming a listen
 *    address or alias), else the response is silently discarded; our
 *    via-parm is removed and the response goes to the next Via:
 *    maddr (UDP), else received=, else the sent-by host; port rport=
 *    value, else sent-by port, else 5060 (5061 for TLS); a sent-by
 *    name without received= is resolved (RFC 3263 section 6). Over
 *    TCP the response goes on the connection the request came in on:
 *    its id is the ;cid= parameter of our Via (sipd_route.c).
 * PROTOCOL
 *    None: the worker pushes out->buf like any routed message.
 * DIAGNOSTICS
 *    Nothing logs. Counters: core:sent_replies and core:err_requests
 *    (every generated reply with a code >= 300), core:drop_requests
 *    (a reply that could not be sent), core:fwd_replies (netd counts
 *    it when written: the record is marked MSG_F_FWD_REPLY),
 *    core:drop_replies, core:err_replies (see stats.h).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "addr.h"
#include "sipd_route_priv.h"

/* The request lines a generated reply copies (RFC 3261 8.2.6.2). */
struct sipd_reply_src {
    struct str via[SIP_MAX_HDRS];       /* Via lines, without line end */
    int nvia;
    struct str from;                    /* lines; s NULL when absent */
    struct str to;
    struct str call_id;
    struct str cseq;
    struct sip_via top;                 /* top via-parm, inside via[0] */
    int to_tag;                         /* To has a tag already */
    const struct sip_msg *m;            /* for 420; NULL after a scan */
};

/* One change to the top via-parm: cut bytes at "at", insert a + b. */
struct sipd_reply_edit {
    const char *at;
    size_t cut;
    struct str a;
    struct str b;
};

#define SIPD_REPLY_LIT(w, lit) str_out_put((w), (lit), sizeof(lit) - 1)

/* sipd_reply_puts - append a str */
static void sipd_reply_puts(struct str_out *w, struct str s)
{
    str_out_put(w, s.s, s.len);
}

/* sipd_reply_put_line - a header line and CRLF, if present */
static void sipd_reply_put_line(struct str_out *w, struct str l)
{
    if (l.s == NULL)
        return;
    sipd_reply_puts(w, l);
    SIPD_REPLY_LIT(w, "\r\n");
}

/* sipd_reply_put_reason - a reason phrase without control bytes */
static void sipd_reply_put_reason(struct str_out *w, const char *r)
{
    const char *s = r;

    for (; *r != '\0'; r++) {
        if ((unsigned char)*r >= 0x20 && *r != 0x7f)
            continue;
        str_out_put(w, s, (size_t)(r - s));
        s = r + 1;
    }
    str_out_put(w, s, (size_t)(r - s));
}

/* sipd_reply_put_status - "SIP/2.0 CODE REASON" CRLF (RFC 3261 7.2) */
static void sipd_reply_put_status(struct str_out *w, int status,
                                  const char *reason)
{
    char code[4];

    code[0] = (char)('0' + status / 100 % 10);
    code[1] = (char)('0' + status / 10 % 10);
    code[2] = (char)('0' + status % 10);
    code[3] = ' ';
    SIPD_REPLY_LIT(w, "SIP/2.0 ");
    str_out_put(w, code, sizeof(code));
    sipd_reply_put_reason(w, reason != NULL && *reason ? reason : "Error");
    SIPD_REPLY_LIT(w, "\r\n");
}

/* sipd_reply_within - p lies in line (its end included) */
static int sipd_reply_within(struct str line, const char *p)
{
    return p != NULL && (uintptr_t)p >= (uintptr_t)line.s
           && (uintptr_t)p <= (uintptr_t)(line.s + line.len);
}

/*
 * sipd_reply_put_via1 - the top Via line with received= set or added
 *    and ";rport" given its value, the rest byte for byte: the same
 *    text sip_msg_via_set_param() makes on a forwarded request.
 */
static void sipd_reply_put_via1(struct str_out *w, struct str line,
                                const struct sip_via *v,
                                const struct sipd_addr_src *f)
{
    struct sipd_reply_edit e[2];
    const char *p = line.s;
    int n = 0;
    int i;

    if (f->rport)
        e[n++] = (struct sipd_reply_edit){v->rport_str.s, 0, STR_LIT("="),
                                          f->port};
    if (f->received && v->received.s != NULL)
        e[n++] = (struct sipd_reply_edit){v->received.s, v->received.len,
                                          f->ip, STR_NULL};
    else if (f->received)
        e[n++] = (struct sipd_reply_edit){v->raw.s + v->raw.len, 0,
                                          STR_LIT(";received="), f->ip};
    if (n == 2 && e[1].at < e[0].at) {
        struct sipd_reply_edit t = e[0];

        e[0] = e[1];
        e[1] = t;
    }
    for (i = 0; i < n; i++)
        if (!sipd_reply_within(line, e[i].at)
            || !sipd_reply_within(line, e[i].at + e[i].cut))
            n = 0;                      /* cannot happen: copy as is */
    for (i = 0; i < n; i++) {
        str_out_put(w, p, (size_t)(e[i].at - p));
        sipd_reply_puts(w, e[i].a);
        sipd_reply_puts(w, e[i].b);
        p = e[i].at + e[i].cut;
    }
    str_out_put(w, p, (size_t)(line.s + line.len - p));
    SIPD_REPLY_LIT(w, "\r\n");
}

/* sipd_reply_put_to - To, with our tag when it had none (8.2.6.2) */
static void sipd_reply_put_to(struct str_out *w,
                              const struct sipd_reply_src *s)
{
    struct str parts[4] = {s->via[0], s->from, s->call_id, s->cseq};
    char tag[SIPD_TAG_LEN];

    if (s->to.s == NULL)
        return;
    sipd_reply_puts(w, s->to);
    if (!s->to_tag) {
        sipd_branch_tag(parts, 4, tag);
        SIPD_REPLY_LIT(w, ";tag=");
        str_out_put(w, tag, sizeof(tag));
    }
    SIPD_REPLY_LIT(w, "\r\n");
}

/* sipd_reply_put_unsupported - 420: what we did not support (8.2.2.3) */
static void sipd_reply_put_unsupported(struct str_out *w,
                                       const struct sip_msg *m)
{
    int i;

    for (i = m->first[SIP_HDR_PROXY_REQUIRE]; i >= 0;
         i = sip_msg_hdr_find(m, SIP_HDR_PROXY_REQUIRE, i)) {
        if (m->hdrs[i].value.len == 0)
            continue;
        SIPD_REPLY_LIT(w, "Unsupported: ");
        sipd_reply_puts(w, m->hdrs[i].value);
        SIPD_REPLY_LIT(w, "\r\n");
    }
}

/*
 * sipd_reply_dest - where a generated reply goes (RFC 3261 18.2.2,
 *    RFC 3581 section 4). Returns 0, or -1 for a bad socket index.
 */
static int sipd_reply_dest(const struct cfg *c, const struct msg_sip *in,
                           const struct sip_via *top,
                           struct sipd_route_out *out)
{
    if (in->sock >= c->nlisten || !sipd_addr_usable(&in->peer))
        return -1;
    out->proto = in->proto;
    out->sock = in->sock;
    out->dst = in->peer;
    if (msg_proto_stream(in->proto)) {  /* the request's connection */
        out->conn_id = in->conn_id;
        return 0;
    }
    if (top->rport != 0)                /* no ;rport: the sent-by port */
        out->dst.port = htons((uint16_t)(top->port ? top->port
                                                   : SIPD_PORT_SIP));
    return 0;
}

/* sipd_reply_build - write the reply for s and address it */
static int sipd_reply_build(const struct sipd_route_env *env,
                            const struct msg_sip *in,
                            const struct sipd_reply_src *s, int status,
                            const char *reason, int retry_after,
                            struct sipd_route_out *out)
{
    char num[12];
    struct str_out w = {out->buf, out->cap, 0};
    struct sipd_addr_src fix;
    int i;

    sipd_addr_src_fix(&s->top, &in->peer, &fix);
    sipd_reply_put_status(&w, status, reason);
    sipd_reply_put_via1(&w, s->via[0], &s->top, &fix);
    for (i = 1; i < s->nvia; i++)
        sipd_reply_put_line(&w, s->via[i]);
    sipd_reply_put_line(&w, s->from);
    sipd_reply_put_to(&w, s);
    sipd_reply_put_line(&w, s->call_id);
    sipd_reply_put_line(&w, s->cseq);
    if (status == 420 && s->m != NULL)
        sipd_reply_put_unsupported(&w, s->m);
    if (status == 480 && reason == sipd_hop_no_sips) {  /* RFC 5630 5.3 */
        SIPD_REPLY_LIT(&w, "Warning: 380 sipstage \"SIPS Not Allowed\"\r\n");
        stats_inc(env->st, STAT_SIPD_SIPS_REFUSED);
    }
    if (retry_after > 0) {
        SIPD_REPLY_LIT(&w, "Retry-After: ");
        sipd_reply_puts(&w, str_utoa(num, sizeof(num), (unsigned)retry_after));
        SIPD_REPLY_LIT(&w, "\r\n");
    }
    SIPD_REPLY_LIT(&w, "Content-Length: 0\r\n\r\n");
    if (w.full || sipd_reply_dest(env->cfg, in, &s->top, out) < 0) {
        stats_inc(env->st, STAT_CORE_DROP_REQUESTS);
        sipd_route_out_reset(out);
        return SIPD_V_DROP;
    }
    out->len = (size_t)(w.p - out->buf);
    out->local_reply = 1;
    out->status = status;
    out->verdict = SIPD_V_SEND;
    stats_inc(env->st, STAT_CORE_SENT_REPLIES);
    return SIPD_V_SEND;
}

/* sipd_reply_line - a parsed header's line without its line end */
static struct str sipd_reply_line(const struct sip_hdr *h)
{
    struct str l = h->raw;

    while (l.len > 0 && (l.s[l.len - 1] == '\n' || l.s[l.len - 1] == '\r'))
        l.len--;
    return l;
}

/* sipd_reply_slot - where the first line of a copied type goes */
static struct str *sipd_reply_slot(struct sipd_reply_src *s, int type)
{
    switch (type) {
    case SIP_HDR_FROM:
        return &s->from;
    case SIP_HDR_TO:
        return &s->to;
    case SIP_HDR_CALL_ID:
        return &s->call_id;
    case SIP_HDR_CSEQ:
        return &s->cseq;
    default:
        return NULL;
    }
}

/* sipd_reply_src_msg - the reply's lines from a parsed request */
static int sipd_reply_src_msg(const struct sip_msg *m,
                              struct sipd_reply_src *s)
{
    struct str *one;
    int i;

    s->nvia = 0;
    s->from = s->to = s->call_id = s->cseq = STR_NULL;
    for (i = m->head; i >= 0; i = m->hdrs[i].next) {
        const struct sip_hdr *h = &m->hdrs[i];

        if (h->type == SIP_HDR_VIA) {
            if (s->nvia == SIP_MAX_HDRS)
                return -E2BIG;
            s->via[s->nvia++] = sipd_reply_line(h);
        } else if ((one = sipd_reply_slot(s, h->type)) != NULL
                   && one->s == NULL) {
            *one = sipd_reply_line(h);
        }
    }
    if (m->via1.hdr < 0 || m->via1.hdr != m->first[SIP_HDR_VIA])
        return -EINVAL;
    s->top = m->via1;
    s->to_tag = m->to.tag.s != NULL;
    s->m = m;
    return 0;
}

/* -------------------------------------------------------------------
 * A request the parser refused: find the reply's lines in raw bytes
 */

/* sipd_reply_is_token - RFC 3261 token character (25.1) */
static int sipd_reply_is_token(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || (c != 0 && strchr("-.!%*_+`'~", c));
}

/*
 * sipd_reply_next_line - the header line at p, continuation lines
 *    (LF then SP/HT) included, without its line end. Returns the
 *    byte after it.
 */
static const char *sipd_reply_next_line(const char *p, const char *end,
                                        struct str *line)
{
    const char *s = p;
    const char *e = end;
    const char *lf;

    while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        p = lf + 1;
        e = lf;
        if (p == end || (*p != ' ' && *p != '\t'))
            break;
        e = end;
    }
    if (lf == NULL)
        p = end;
    while (e > s && e[-1] == '\r')
        e--;
    *line = (struct str){s, (size_t)(e - s)};
    return p;
}

/* sipd_reply_clean - text fit to copy: no controls, folds only */
static int sipd_reply_clean(struct str l)
{
    size_t i;

    for (i = 0; i < l.len; i++) {
        unsigned char c = (unsigned char)l.s[i];
        unsigned char n = i + 1 < l.len ? (unsigned char)l.s[i + 1] : 0;

        if (c == '\r' && n == '\n')
            continue;
        if (c == '\n' && (n == ' ' || n == '\t'))
            continue;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

/* sipd_reply_line_type - "name: value": its type and value, or -1 */
static int sipd_reply_line_type(struct str l, struct str *value)
{
    size_t i = 0;
    size_t n;

    while (i < l.len && sipd_reply_is_token((unsigned char)l.s[i]))
        i++;
    n = i;
    while (i < l.len && (l.s[i] == ' ' || l.s[i] == '\t'))
        i++;
    if (n == 0 || i == l.len || l.s[i] != ':')
        return -1;
    *value = sip_hdr_trim((struct str){l.s + i + 1, l.len - i - 1});
    return (int)sip_hdr_type_of((struct str){l.s, n});
}

/* sipd_reply_keep - remember one scanned line; -1 if unusable */
static int sipd_reply_keep(struct sipd_reply_src *s, int type,
                           struct str line, struct str value,
                           struct str *via1, struct str *to)
{
    struct str *one;

    if (!sipd_reply_clean(line))
        return type == SIP_HDR_VIA ? -1 : 0;
    if (type == SIP_HDR_VIA) {
        if (s->nvia == SIP_MAX_HDRS)
            return -1;
        if (s->nvia == 0)
            *via1 = value;
        s->via[s->nvia++] = line;
    } else if ((one = sipd_reply_slot(s, type)) != NULL && one->s == NULL) {
        *one = line;
        if (type == SIP_HDR_TO)
            *to = value;
    }
    return 0;
}

/*
 * sipd_reply_src_raw - the reply's lines from raw request bytes.
 *    Returns 0, or -1 when no reply can be addressed (no clean top
 *    Via) or the request is an ACK (never answered).
 */
static int sipd_reply_src_raw(const char *data, size_t len,
                              struct sipd_reply_src *s)
{
    const char *p = data;
    const char *end = data + len;
    struct str line, value, elem, rest;
    struct str via1 = STR_NULL, to = STR_NULL;
    struct sip_uri_addr a;
    int t;

    s->nvia = 0;
    s->from = s->to = s->call_id = s->cseq = STR_NULL;
    s->to_tag = 0;
    s->m = NULL;
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    if (end - p >= 4 && memcmp(p, "ACK ", 4) == 0)
        return -1;                      /* RFC 3261 17.1.1.3 */
    if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
        return -1;
    for (p++; p < end && *p != '\r' && *p != '\n';) {
        p = sipd_reply_next_line(p, end, &line);
        if ((t = sipd_reply_line_type(line, &value)) >= 0
            && sipd_reply_keep(s, t, line, value, &via1, &to) < 0)
            return -1;
    }
    rest = via1;
    if (s->nvia == 0 || sip_hdr_list_next(&rest, &elem) <= 0)
        return -1;
    /* Bad params (RFC 4475 3.1.2.1 ";;,;,,"): a 400 still needs only
     * the sent-protocol and sent-by; the address is the source's. */
    if (sip_via_parse(elem, &s->top) < 0) {
        const char *semi = memchr(elem.s, ';', elem.len);

        if (semi == NULL)
            return -1;
        elem.len = (size_t)(semi - elem.s);
        if (sip_via_parse(elem, &s->top) < 0)
            return -1;
    }
    s->to_tag = to.s != NULL
                && (sip_uri_addr_parse(to, &a) < 0 || a.tag.s != NULL);
    return 0;
}

/* -------------------------------------------------------------------
 * Entry points
 */

/* sipd_reply_after - sipd_reply(), with Retry-After when retry_after > 0 */
static int sipd_reply_after(const struct sipd_route_env *env,
                            struct sip_msg *m, const struct msg_sip *in,
                            int status, const char *reason, int retry_after,
                            struct sipd_route_out *out)
{
    struct sipd_reply_src s;

    sipd_route_out_reset(out);
    if (status >= 300)
        stats_inc(env->st, STAT_CORE_ERR_REQUESTS);
    if (!m->is_request || m->method_id == SIP_METHOD_ACK
        || sipd_reply_src_msg(m, &s) < 0) {
        stats_inc(env->st, STAT_CORE_DROP_REQUESTS);
        return SIPD_V_DROP;
    }
    return sipd_reply_build(env, in, &s, status, reason, retry_after, out);
}

/*
 * sipd_reply - a stateless reply to request m, which must be the
 *    request as received (not edited: its top Via is the sender's).
 *    Counts core:err_requests when status >= 300, core:sent_replies
 *    on SIPD_V_SEND, core:drop_requests on SIPD_V_DROP (an ACK, a
 *    reply that does not fit out->cap, a bad socket index).
 */
int sipd_reply(const struct sipd_route_env *env, struct sip_msg *m,
               const struct msg_sip *in, int status, const char *reason,
               struct sipd_route_out *out)
{
    return sipd_reply_after(env, m, in, status, reason, 0, out);
}

/* sipd_reply_unavailable - 503 with Retry-After (sipd_route.h) */
int sipd_reply_unavailable(const struct sipd_route_env *env,
                           struct sip_msg *m, const struct msg_sip *in,
                           struct sipd_route_out *out)
{
    return sipd_reply_after(env, m, in, 503, "Service Unavailable",
                            SIPD_RETRY_AFTER_S, out);
}

/*
 * sipd_reply_raw - a reply with status to a request that was not
 *    parsed (data/len as received: a request the parser refused, or
 *    the header block netd sent for an oversized TCP message). Counted
 *    as sipd_reply().
 */
int sipd_reply_raw(const struct sipd_route_env *env,
                   const struct msg_sip *in, const char *data, size_t len,
                   int status, const char *reason,
                   struct sipd_route_out *out)
{
    struct sipd_reply_src s;

    stats_inc(env->st, STAT_CORE_ERR_REQUESTS);
    if (sipd_reply_src_raw(data, len, &s) < 0) {
        stats_inc(env->st, STAT_CORE_DROP_REQUESTS);
        return SIPD_V_DROP;
    }
    return sipd_reply_build(env, in, &s, status, reason, 0, out);
}

/*
 * sipd_reply_bad - 400 to a request the parser refused (data/len as
 *    received); reason is the parser's. Counted as sipd_reply().
 */
int sipd_reply_bad(const struct sipd_route_env *env,
                   const struct msg_sip *in, const char *data, size_t len,
                   const char *reason, struct sipd_route_out *out)
{
    return sipd_reply_raw(env, in, data, len, 400,
                          reason != NULL ? reason : "Bad Request", out);
}

/*
 * sipd_reply_next - where a relayed response goes: the Via that is
 *    now on top (RFC 3261 18.2.2, RFC 3581 section 4). Returns 0 or
 *    -1 when it cannot be sent.
 */
static int sipd_reply_next(const struct cfg *c, const struct sip_via *v,
                           const struct msg_sip *in,
                           struct sipd_route_out *out)
{
    struct str host = v->host;
    enum sip_host_type ht = v->host_type;
    int port = v->port ? v->port
                       : v->tp == SIP_TP_TLS ? SIPD_PORT_SIPS : SIPD_PORT_SIP;
    int proto = sipd_addr_proto(v->tp);
    int sock;

    if (proto == MSG_PROTO_UDP && v->maddr.s != NULL) {
        host = sipd_addr_unbracket(v->maddr);
        ht = sip_uri_host_type(host);
    } else {
        struct str rcvd = sipd_addr_unbracket(v->received);
        enum sip_host_type rt = sip_uri_host_type(rcvd);

        if (rt == SIP_HOST_IPV4 || rt == SIP_HOST_IPV6) {
            host = rcvd;                /* a name there is not RFC 3261 */
            ht = rt;
        }
        if (v->rport > 0)
            port = v->rport;
    }
    out->proto = (uint8_t)proto;
    if (proto == 0 || ht == SIP_HOST_NONE)
        return -1;
    if (ht == SIP_HOST_NAME) {          /* RFC 3263 section 6 */
        out->port = (uint16_t)(v->rport > 0 ? v->rport : v->port);
        out->rproto = (uint8_t)proto;
        out->verdict = SIPD_V_RESOLVE;
        if (sipd_addr_lower(out->name, sizeof(out->name), host) == 0)
            return -1;
        sock = sipd_addr_sock(c, proto, AF_UNSPEC, in->sock);
    } else {
        out->verdict = SIPD_V_SEND;
        if (addr_parse(&out->dst, host.s, host.len, port) < 0
            || !sipd_addr_usable(&out->dst))
            return -1;
        sock = sipd_addr_sock(c, proto, out->dst.family, in->sock);
    }
    if (sock < 0)
        return -1;
    out->sock = (uint16_t)sock;
    return 0;
}

/* sipd_reply_cid - the TCP connection id our Via carries, or 0 */
static uint64_t sipd_reply_cid(const struct sip_via *v)
{
    struct str val;
    uint64_t id = 0;
    size_t i;

    if (sip_hdr_param_find(v->params, SIPD_VIA_CID, &val) <= 0
        || val.s == NULL || val.len == 0 || val.len > 16)
        return 0;
    for (i = 0; i < val.len; i++) {
        char ch = val.s[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;

        if (d < 0)
            return 0;
        id = id << 4 | (uint64_t)d;
    }
    return id;
}

/*
 * sipd_reply_relay - forward a parsed response (RFC 3261 16.11): drop
 *    it unless its top Via is ours, remove that via-parm, send the
 *    rest to the next Via.
 */
int sipd_reply_relay(const struct sipd_route_env *env, struct sip_msg *m,
                     const struct msg_sip *in, struct sipd_route_out *out)
{
    uint64_t cid = sipd_reply_cid(&m->via1);
    ssize_t n;

    stats_inc(env->st, STAT_CORE_RCV_REPLIES);
    if (!sip_msg_version_ok(m)) {
        stats_inc(env->st, STAT_CORE_ERR_REPLIES);
        return SIPD_V_DROP;
    }
    if (!sipd_branch_ours(m->via1.branch, NULL)
        || !sipd_addr_via_is_us(env->cfg, &m->via1)
        || m->via2.hdr < 0              /* for us: we send no requests */
        || sip_msg_via_remove(m, &m->via1) < 0 || m->via1.hdr < 0
        || sipd_reply_next(env->cfg, &m->via1, in, out) < 0
        || sipd_hop_frame(m, out->proto) < 0
        || (n = sip_msg_print(m, out->buf, out->cap)) < 0) {
        stats_inc(env->st, STAT_CORE_DROP_REPLIES);
        sipd_route_out_reset(out);
        return SIPD_V_DROP;
    }
    out->len = (size_t)n;
    /* RFC 3261 18.2.2: back over the request's connection, when it
     * came over TCP or TLS (netd falls back to the address if it is
     * gone; a TLS response never takes a TCP connection). */
    if (msg_proto_stream(out->proto))
        out->conn_id = cid;
    out->fwd = MSG_F_FWD_REPLY;         /* netd counts it once written */
    return out->verdict;
}
