/*
 * SUMMARY
 *    sipd_retry - a request netd could not send: the next target, a
 *    retry over UDP, or 503 to the hop before us
 * DESCRIPTION
 *    netd hands back a request it could not send over TCP (connect
 *    refused or timed out, reset before the write) as a MSG_T_SIP_IN
 *    record with MSG_F_SEND_FAILED: the bytes as we forwarded them (our
 *    Via on top, Max-Forwards decremented, our Record-Route), in->peer
 *    the target that failed. Nothing was kept here; everything needed is
 *    in the message:
 *
 *     - the next hop is found again from the message: the top Route
 *       when it has ;lr, else the Request-URI (after our own Route
 *       values were popped and a strict route applied, that is where it
 *       was going);
 *     - a host name is resolved again through dnsd, which now skips the
 *       failed target (the worker told it first: MSG_T_DNS_FAILED); the
 *       same bytes go to the next target, so the branch stays the same;
 *     - an IP literal whose URI named no transport went over TCP only
 *       because the request is over 1300 bytes (RFC 3261 18.1.1, which
 *       says to retry over UDP when the connection is refused or reset):
 *       our Via's transport and sent-by become the UDP socket's, and the
 *       request goes to the same address over UDP;
 *     - otherwise (another literal, or SIPD_RETRY_MAX targets failed -
 *       msg_sip.fail carries the count through netd) the request is
 *       answered "503 Service Unavailable" towards the Via below ours: a
 *       503 is built from the handed-back request (every Via, ours on
 *       top) and relayed as if a downstream element had sent it, so it
 *       takes exactly the way a real response would (received/rport,
 *       ;cid= connection). An ACK is never answered: it is dropped.
 * PROTOCOL
 *    None: pure functions; the worker (sipd_worker.c, sipd_dns.c) does
 *    the rings.
 * DIAGNOSTICS
 *    Nothing logs. Counters: sipd:failovers (another target or
 *    transport tried), and those of sipd_reply() for the 503.
 */
#include <stdio.h>
#include <string.h>

#include "sipd_route_priv.h"

/* Targets tried after the first one before we answer 503. */
#define SIPD_RETRY_MAX 4

/* sipd_retry_target - where the request was going (see DESCRIPTION) */
static void sipd_retry_target(const struct sip_msg *m, struct sip_uri *u)
{
    if (m->route_hdr >= 0 && sip_uri_parse(m->route.uri, u) == 0
        && u->lr.s != NULL)
        return;
    *u = m->ruri;
}

/*
 * sipd_retry_503 - m is the parsed handed-back request: answer it 503
 *    to the previous hop (see DESCRIPTION). scratch/scap hold the 503
 *    before it is relayed into out->buf. SIPD_V_SEND, or SIPD_V_DROP
 *    (an ACK; a reply that cannot be addressed), counted as
 *    sipd_reply() counts.
 */
int sipd_retry_503(const struct sipd_route_env *env, struct sip_msg *m,
                   const struct msg_sip *in, char *scratch, size_t scap,
                   struct sipd_route_out *out)
{
    struct sipd_route_env quiet = *env;
    struct sipd_route_out rep;

    memset(&rep, 0, sizeof(rep));
    rep.buf = scratch;
    rep.cap = scap;
    sipd_route_out_reset(out);
    if (sipd_reply(env, m, in, 503, "Service Unavailable", &rep)
        != SIPD_V_SEND)
        return SIPD_V_DROP;
    quiet.st = NULL;                    /* counted as sent already */
    if (sip_msg_parse(m, rep.buf, rep.len, 0) < 0
        || sipd_reply_relay(&quiet, m, in, out) != SIPD_V_SEND) {
        stats_inc(env->st, STAT_CORE_DROP_REQUESTS);
        sipd_route_out_reset(out);
        return SIPD_V_DROP;
    }
    out->fwd = 0;                       /* ours, not a forwarded one */
    out->local_reply = 1;
    out->status = 503;
    return SIPD_V_SEND;
}

/*
 * sipd_retry_udp - RFC 3261 18.1.1: TCP was chosen for the size only:
 *    our Via names UDP and a UDP socket, the request goes to in->peer
 *    over UDP. 0, or -1 when it cannot (no UDP socket, too long).
 */
static int sipd_retry_udp(const struct sipd_route_env *env,
                          struct sip_msg *m, const struct msg_sip *in,
                          struct sipd_route_out *out)
{
    const struct sip_via *v = &m->via1;
    char buf[CFG_HOST + 16], via[1024];
    int sock = sipd_addr_sock(env->cfg, MSG_PROTO_UDP, in->peer.family, -1);
    struct str hp;
    ssize_t n;
    int len;

    if (sock < 0)
        return -1;
    hp = sipd_addr_hostport(&env->cfg->listen[sock], buf, sizeof(buf));
    if (hp.s == NULL)
        return -1;
    len = snprintf(via, sizeof(via), "SIP/2.0/UDP %.*s%.*s", (int)hp.len,
                   hp.s, (int)v->params.len,
                   v->params.s != NULL ? v->params.s : "");
    if (len < 0 || (size_t)len >= sizeof(via)
        || sip_msg_via_replace(m, v, (struct str){via, (size_t)len}) < 0
        || (n = sip_msg_print(m, out->buf, out->cap)) < 0)
        return -1;
    out->len = (size_t)n;
    out->proto = MSG_PROTO_UDP;
    out->sock = (uint16_t)sock;
    out->dst = in->peer;
    out->conn_id = 0;
    out->verdict = SIPD_V_SEND;
    return 0;
}

/* sipd_retry_literal - a literal target failed: UDP again, or 503 */
static int sipd_retry_literal(const struct sipd_route_env *env,
                              struct sip_msg *m, const struct msg_sip *in,
                              const struct sip_uri *u, char *scratch,
                              size_t scap, struct sipd_route_out *out)
{
    if (in->proto == MSG_PROTO_TCP && m->via1.tp == SIP_TP_TCP
        && u->tp == SIP_TP_NONE && u->scheme_id == SIP_URI_SIP
        && sipd_retry_udp(env, m, in, out) == 0) {
        stats_inc(env->st, STAT_SIPD_FAILOVERS);
        return SIPD_V_SEND;
    }
    /* The edit may have failed half way: parse the bytes again. */
    if (sip_msg_parse(m, in->data, in->len, SIP_PARSE_STREAM) < 0) {
        stats_inc(env->st, STAT_CORE_DROP_REQUESTS);
        sipd_route_out_reset(out);
        return SIPD_V_DROP;
    }
    return sipd_retry_503(env, m, in, scratch, scap, out);
}

/* sipd_route_failed - see sipd_route.h */
int sipd_route_failed(const struct sipd_route_env *env, struct sip_msg *m,
                      const struct msg_sip *in, char *scratch, size_t scap,
                      struct sipd_route_out *out)
{
    uint32_t tries = MSG_FAIL_TRIES(in->fail);
    struct sip_uri u;
    struct str host;
    enum sip_host_type ht;

    sipd_route_out_reset(out);
    out->hash = in->hash;
    if (in->len == 0 || in->len > out->cap
        || sip_msg_parse(m, in->data, in->len, SIP_PARSE_STREAM) < 0
        || !m->is_request || !sipd_branch_ours(m->via1.branch, NULL)
        || !sipd_addr_via_is_us(env->cfg, &m->via1))
        return SIPD_V_DROP;             /* not what we sent */
    if (tries >= SIPD_RETRY_MAX)
        return sipd_retry_503(env, m, in, scratch, scap, out);
    sipd_retry_target(m, &u);
    host = u.maddr.s != NULL ? sipd_addr_unbracket(u.maddr) : u.host;
    ht = u.maddr.s != NULL ? sip_uri_host_type(host) : u.host_type;
    out->fail = (tries + 1) << 8;
    out->fwd = MSG_F_FWD_REQUEST;
    if (ht != SIP_HOST_NAME)
        return sipd_retry_literal(env, m, in, &u, scratch, scap, out);
    if (sipd_addr_lower(out->name, sizeof(out->name), host) == 0)
        return sipd_retry_503(env, m, in, scratch, scap, out);
    memcpy(out->buf, in->data, in->len);
    out->len = in->len;
    out->proto = in->proto;
    out->sock = in->sock;
    out->port = (uint16_t)u.port;
    out->rproto = in->proto;            /* our Via names it */
    out->secure = u.scheme_id == SIP_URI_SIPS;
    out->verdict = SIPD_V_RESOLVE;
    stats_inc(env->st, STAT_SIPD_FAILOVERS);
    return SIPD_V_RESOLVE;
}
