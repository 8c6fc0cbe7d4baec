/*
 * SUMMARY
 *    sipd_route - stateless routing of one SIP message (RFC 3261 16.11)
 * DESCRIPTION
 *    sipd_route() parses one received message into the worker's
 *    struct sip_msg and decides what leaves the proxy. Requests go
 *    through the steps of RFC 3261 section 16 that a stateless proxy
 *    performs, in this order:
 *
 *     0. [route] db_allow: a source (the packet's address and port)
 *        in no row of the address table 403 Forbidden; no table loaded
 *        yet 503 with Retry-After (env->allow says which);
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
 *    2a. [route] db_aliases (sipd_db.c has the lookup): an initial
 *        request (no To tag, not ACK) whose Request-URI has a user part
 *        is looked up as user (as written) @ host (lower-cased). A row
 *        replaces the whole Request-URI by "sip:USERNAME@DOMAIN", as
 *        Kamailio's alias_db does (the scheme becomes sip:, the port and
 *        the URI parameters of the alias go); no row leaves it as it
 *        is. The answer comes from env->alias (routed again after the
 *        lookup) or env->alias_get (the cache); without one the router
 *        stops with SIPD_V_LOOKUP. The branch was computed before, from
 *        the request as received, so a CANCEL (looked up too) matches
 *        its INVITE wherever the alias sends them;
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
 *        (16.6 step 4; not on REGISTER, where it means nothing) - two
 *        of them, outgoing side first, each ";r2=on", when the request
 *        leaves from another socket than it came in on (RFC 5658) -, and
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
 *    Step 4 and the transport rules (RFC 3263 4.1 forced by DNS, RFC
 *    3261 18.1.1 over 1300 bytes) live in sipd_hop.c; "does this
 *    host:port name us" and "which socket sends" in sipd_addr.c.
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

#include "sipd_route_priv.h"

/* Top Routes naming us that one request may carry (RFC 3261 16.4). */
#define SIPD_ROUTE_MAX_POP 8

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
            && l == loop && sipd_addr_via_is_us(c, &v))
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
 * Requests: Route processing (RFC 3261 16.4)
 */

/*
 * sipd_route_is_our_rr - the Request-URI is a value we put in a
 *    Record-Route ("sip:HOST:PORT;lr", no user) and a Route follows:
 *    the previous hop was a strict router (RFC 3261 16.4).
 */
static int sipd_route_is_our_rr(const struct cfg *c, const struct sip_msg *m)
{
    return m->route_hdr >= 0 && m->ruri.user.s == NULL
           && m->ruri.lr.s != NULL && sipd_addr_uri_is_us(c, &m->ruri);
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
            || !sipd_addr_uri_is_us(c, &u))
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
    struct str ma = sipd_addr_unbracket(u->maddr);
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
    if (!sipd_addr_is_us(c, ma, sip_uri_host_type(ma), port)
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
        || !sipd_addr_uri_is_us(c, &m->ruri))
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

/* -------------------------------------------------------------------
 * Requests: the database's say ([route] db_allow, db_aliases)
 */

/*
 * sipd_route_allowed - step 0: SIPD_ALLOW_* for the request's source
 *    (always YES with db_allow off; no callback: no table yet).
 */
static int sipd_route_allowed(const struct sipd_route_env *env,
                              const struct msg_sip *in)
{
    if (!env->cfg->db_allow)
        return SIPD_ALLOW_YES;
    if (env->allow == NULL)
        return SIPD_ALLOW_UNKNOWN;
    return env->allow(env->arg, &in->peer);
}

/* sipd_route_alias_wanted - an initial request with a user to look up */
static int sipd_route_alias_wanted(const struct cfg *c,
                                   const struct sip_msg *m)
{
    return c->db_aliases && m->method_id != SIP_METHOD_ACK
           && m->to.tag.s == NULL && m->ruri.user.len > 0
           && (m->ruri.scheme_id == SIP_URI_SIP
               || m->ruri.scheme_id == SIP_URI_SIPS);
}

/*
 * sipd_route_alias - step 2a. Returns 0 to go on (the Request-URI
 *    replaced or not), a status code with *why, or -1 when the answer
 *    is not known: out says SIPD_V_LOOKUP with the key.
 */
static int sipd_route_alias(const struct sipd_route_env *env,
                            struct sip_msg *m, struct sipd_route_out *out,
                            const char **why)
{
    const struct sipd_alias *a = env->alias;
    int r;

    if (!sipd_route_alias_wanted(env->cfg, m))
        return 0;
    if (a == NULL) {
        if (sipd_addr_lower(out->name, sizeof(out->name), m->ruri.host) == 0)
            return 0;                   /* no host name to look up */
        if (env->alias_get == NULL
            || (a = env->alias_get(env->arg, m->ruri.user, out->name))
                   == NULL) {
            out->user = m->ruri.user;
            out->verdict = SIPD_V_LOOKUP;
            return -1;
        }
        out->name[0] = '\0';
    }
    out->alias = a;
    if (a->state != SIPD_ALIAS_SET)
        return 0;
    if ((r = sip_msg_set_ruri(m, (struct str){a->uri, a->len})) < 0)
        return sipd_route_edit_err(m, r, why);
    stats_inc(env->st, STAT_DB_ALIASED);
    return 0;
}

/* sipd_route_hop - sipd_hop_next(), a failed edit made a status */
static int sipd_route_hop(const struct cfg *c, struct sip_msg *m,
                          const struct msg_sip *in, struct sipd_hop *h,
                          const char **why)
{
    int r = sipd_hop_next(c, m, in, h, why);

    return r < 0 ? sipd_route_edit_err(m, r, why) : r;
}

/* -------------------------------------------------------------------
 * Requests: rewriting (RFC 3261 16.6, 18.2.1, RFC 3581)
 */

/* sipd_route_fix_sender - received/rport on the sender's Via */
static int sipd_route_fix_sender(struct sip_msg *m, const struct msg_sip *in)
{
    struct sipd_addr_src s;
    int r;

    sipd_addr_src_fix(&m->via1, &in->peer, &s);
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
            str_utoa(num, sizeof(num), (unsigned)m->max_forwards - 1));
    for (last = i = m->first[SIP_HDR_VIA]; i >= 0;
         i = sip_msg_hdr_find(m, SIP_HDR_VIA, i))
        last = i;
    i = sip_msg_hdr_insert(m, m->hdrs[last].next, STR_LIT("Max-Forwards: 70"));
    return i < 0 ? i : 0;
}

/*
 * sipd_route_rr_double - RFC 5658: the request leaves from another
 *    listen socket than it came in on (another transport, address or
 *    family), so one Record-Route value cannot serve both sides.
 */
static int sipd_route_rr_double(const struct cfg *c,
                                const struct msg_sip *in,
                                const struct sipd_hop *h)
{
    return in->sock < c->nlisten && in->sock != h->sock;
}

/*
 * sipd_route_rr_insert - "Record-Route: <sip:HOST:PORT[;transport=tcp]
 *    [;r2=on];lr>" for listen l, in front of header "before". UDP gets
 *    no transport parameter (its default, RFC 3263 4.1), as in
 *    Kamailio and OpenSIPS; TLS gets ";transport=tls", or, for a sips:
 *    Request-URI, a sips: URI (RFC 3261 16.6 step 4 says MUST; sips:
 *    means TLS, RFC 5630 deprecates transport=tls with it). Returns the
 *    new header's index.
 */
static int sipd_route_rr_insert(struct sip_msg *m, int before,
                                const struct cfg_listen *l, int r2)
{
    char buf[CFG_HOST + 16];
    struct str hp = sipd_addr_hostport(l, buf, sizeof(buf));
    int sips = l->proto == CFG_PROTO_TLS && m->ruri.scheme_id == SIP_URI_SIPS;
    const char *tp = sips                          ? ""
                     : l->proto == CFG_PROTO_TCP ? ";transport=tcp"
                     : l->proto == CFG_PROTO_TLS ? ";transport=tls"
                                                 : "";

    if (!r2)                            /* one value: as it always was */
        return sip_msg_hdr_insertf(m, before, "Record-Route: <%s:%.*s;lr%s>",
                                   sips ? "sips" : "sip", (int)hp.len, hp.s,
                                   tp);
    return sip_msg_hdr_insertf(m, before,
                               "Record-Route: <%s:%.*s%s;r2=on;lr>",
                               sips ? "sips" : "sip", (int)hp.len, hp.s, tp);
}

/*
 * sipd_route_record - RFC 3261 16.6 step 4: our Record-Route, first
 *    (before any other, or at the top). When the request changes
 *    socket, RFC 5658 double Record-Route: the topmost value names the
 *    outgoing side (the callee's route set starts with it), the second
 *    the incoming side (the caller's reversed route set starts with
 *    it); each carries its own transport and its advertised address.
 *    Both name us, so loose routing pops both on in-dialog requests.
 */
static int sipd_route_record(const struct cfg *c, struct sip_msg *m,
                             const struct msg_sip *in,
                             const struct sipd_hop *h)
{
    int before = m->first[SIP_HDR_RECORD_ROUTE];
    int dbl = sipd_route_rr_double(c, in, h);
    int r;

    r = sipd_route_rr_insert(m, before >= 0 ? before : m->head,
                             &c->listen[h->sock], dbl);
    if (r >= 0 && dbl)
        r = sipd_route_rr_insert(m, m->hdrs[r].next, &c->listen[in->sock], 1);
    return r < 0 ? r : 0;
}

/* sipd_route_via - RFC 3261 16.6 step 8: our Via on top */
static int sipd_route_via(struct sip_msg *m, struct str hp, int proto,
                          const struct sipd_branch *b,
                          const struct msg_sip *in)
{
    char br[SIPD_BRANCH_LEN];
    char cid[32] = "";
    int r;

    sipd_branch_format(b, br);
    /* Came over TCP or TLS: the connection id rides in our Via, so the
     * response finds the request's connection (RFC 3261 18.2.2)
     * without state here; see sipd_reply_relay(). */
    if (msg_proto_stream(in->proto) && in->conn_id != 0)
        snprintf(cid, sizeof(cid), ";" SIPD_VIA_CID "=%llx",
                 (unsigned long long)in->conn_id);
    r = sip_msg_hdr_insertf(m, m->first[SIP_HDR_VIA],
                            "Via: SIP/2.0/%s %.*s;branch=%.*s%s",
                            proto == MSG_PROTO_TLS   ? "TLS"
                            : proto == MSG_PROTO_TCP ? "TCP"
                                                     : "UDP",
                            (int)hp.len, hp.s,
                            SIPD_BRANCH_LEN, br, cid);
    return r < 0 ? r : 0;
}

/* sipd_route_rewrite - every change to a request that is forwarded */
static int sipd_route_rewrite(const struct cfg *c, struct sip_msg *m,
                              const struct msg_sip *in,
                              const struct sipd_hop *h,
                              const struct sipd_branch *b, const char **why)
{
    char buf[CFG_HOST + 16];
    struct str hp = sipd_addr_hostport(&c->listen[h->sock], buf,
                                        sizeof(buf));
    int r;

    if ((r = sipd_route_fix_sender(m, in)) < 0
        || (r = sipd_route_max_forwards(m)) < 0
        || (c->record_route && m->method_id != SIP_METHOD_REGISTER
            && (r = sipd_route_record(c, m, in, h)) < 0)
        || (r = sipd_route_via(m, hp, h->proto, b, in)) < 0
        || (r = sipd_hop_frame(m, h->proto)) < 0)
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
                           const struct sipd_hop *h,
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
        (void)sipd_addr_lower(out->name, sizeof(out->name), h->host);
        out->port = (uint16_t)h->port;
        out->rproto = (uint8_t)(h->given ? h->proto : 0);
        out->secure = (uint8_t)h->secure;
        out->verdict = SIPD_V_RESOLVE;
    }
    out->fwd = MSG_F_FWD_REQUEST;       /* netd counts it once written */
    return out->verdict;
}

/* sipd_route_request - RFC 3261 16.3-16.6 for one parsed request */
static int sipd_route_request(const struct sipd_route_env *env,
                              struct sip_msg *m, const struct msg_sip *in,
                              struct sipd_route_out *out)
{
    const struct cfg *c = env->cfg;
    const char *why = NULL;
    struct sipd_hop h;
    struct sipd_branch b;
    int code;

    if (env->alias == NULL)             /* not a second pass */
        stats_inc(env->st, STAT_CORE_RCV_REQUESTS);
    switch (sipd_route_allowed(env, in)) {
    case SIPD_ALLOW_YES:
        break;
    case SIPD_ALLOW_NO:
        stats_inc(env->st, STAT_DB_ALLOW_DENIED);
        return sipd_reply(env, m, in, 403, "Forbidden", out);
    default:
        stats_inc(env->st, STAT_DB_UNAVAILABLE);
        return sipd_reply_unavailable(env, m, in, out);
    }
    if ((code = sipd_route_check(env, m, &why)) != 0)
        return sipd_reply(env, m, in, code, why, out);
    /* Before any edit: the branch hashes the request as received. */
    sipd_branch_compute(m, &b);
    if (sipd_route_looped(c, m, b.loop))
        return sipd_reply(env, m, in, 482, "Loop Detected", out);
    if ((code = sipd_route_routes(c, m, &why)) == 0
        && (code = sipd_route_alias(env, m, out, &why)) == 0
        && (code = sipd_route_for_us(c, m, &why)) == 0
        && (code = sipd_route_hop(c, m, in, &h, &why)) == 0
        && (code = sipd_hop_forced(env, in, &h, &why)) == 0) {
        sipd_hop_big(c, m, &h);         /* RFC 3261 18.1.1 */
        code = sipd_route_rewrite(c, m, in, &h, &b, &why);
    }
    if (code < 0)
        return SIPD_V_LOOKUP;
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
    unsigned flags = msg_proto_stream(in->proto) ? SIP_PARSE_STREAM : 0;

    sipd_route_out_reset(out);
    out->hash = in->hash;
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
 *    transport or another address family would contradict that Via
 *    (an IPv6-only next hop cannot answer to an IPv4 sent-by; RFC
 *    3261 18.1.1, 18.2.2): SIPD_V_DROP, and rewriting the Via for it
 *    is the caller's business: route the received message again with
 *    force_proto / force_family (sipd_dns.c). The caller counts a
 *    drop when it does not.
 */
int sipd_route_resolved(const struct sipd_route_env *env,
                        const struct msg_dns_target *t,
                        struct sipd_route_out *out)
{
    const struct cfg *c = env->cfg;

    out->verdict = SIPD_V_DROP;
    if (t->proto != 0 && t->proto != out->proto)
        return SIPD_V_DROP;             /* 0: the transport we asked for */
    if (out->sock >= c->nlisten
        || c->listen[out->sock].addr.ss_family != t->addr.family)
        return SIPD_V_DROP;
    out->dst = t->addr;
    out->conn_id = 0;
    out->verdict = SIPD_V_SEND;
    return SIPD_V_SEND;
}
