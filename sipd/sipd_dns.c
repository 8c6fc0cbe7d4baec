/*
 * SUMMARY
 *    sipd_dns - messages parked while dnsd resolves their next hop
 * DESCRIPTION
 *    When routing names a host, the worker parks the message it built
 *    (sipd_park.c, with a copy of what it received, to answer with an
 *    error if the name does not resolve, and the alias answer it
 *    applied, to route it again the same way), sends a
 *    MSG_T_DNS_QUERY to dnsd and goes on with other work. An entry not
 *    answered within dns_clnt_wait_ms() (the longest dnsd takes to
 *    give up, plus a second: dnsd gone) is answered 503 at the next
 *    tick.
 *
 *    Failure replies (requests only; a response that cannot be routed is
 *    dropped): NXDOMAIN 478 "Unresolvable destination", any other
 *    status (timeout, error, one this build does not know) 503.
 * PROTOCOL
 *    sipd -> dnsd: MSG_T_DNS_QUERY; dnsd -> sipd: MSG_T_DNS_ANSWER.
 * DIAGNOSTICS
 *    A full table or ring answers 503 at once (counted, rate-limited
 *    warning). A late or unknown answer is ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns_clnt.h"
#include "log.h"
#include "sipd.h"

/*
 * sipd_dns_fail - answer the parked request with an error, if it is one;
 *    a request netd handed back (MSG_F_SEND_FAILED) gets 503 towards the
 *    hop before us (sipd_retry_503()), whatever the DNS status.
 */
static void sipd_dns_fail(struct sipd_worker *w, const struct msg_sip *in,
                          int code, const char *reason)
{
    struct sipd_route_out out;
    int v;

    if (sipd_park_is_reply(in)) {
        stats_inc(w->st, STAT_CORE_DROP_REPLIES);
        return;
    }
    if (sip_msg_parse(w->msg, in->data, in->len,
                      msg_proto_stream(in->proto) ? SIP_PARSE_STREAM : 0)
        < 0)
        return;
    memset(&out, 0, sizeof(out));
    out.buf = w->out_buf;
    out.cap = SIPD_OUT_MAX;
    if (in->flags & MSG_F_SEND_FAILED)
        v = sipd_retry_503(&w->env, w->msg, in, w->fail_buf, SIPD_OUT_MAX,
                           &out);
    else
        v = sipd_reply(&w->env, w->msg, in, code, reason, &out);
    if (v == SIPD_V_SEND)
        sipd_send_netd(w, &out);
}

/*
 * sipd_dns_failed - netd could not send to in->peer (MSG_F_SEND_FAILED):
 *    dnsd learns the target failed (it leaves it out of later answers);
 *    a request handed back with it is sent to the next target, again
 *    over UDP, or answered 503 (sipd_route_failed()). A UDP failure
 *    carries no message: the UAC's retransmission finds the next target.
 */
void sipd_dns_failed(struct sipd_worker *w, const struct msg_sip *in)
{
    struct sipd_route_out out;

    sipd_send_dns_failed(w, in);
    if (in->len == 0)
        return;
    memset(&out, 0, sizeof(out));
    out.buf = w->out_buf;
    out.cap = SIPD_OUT_MAX;
    sipd_dns_act(w, in, sipd_route_failed(&w->env, w->msg, in, w->fail_buf,
                                          SIPD_OUT_MAX, &out), &out);
}

/* sipd_dns_park - hold in (routed into out) until dnsd answers */
static void sipd_dns_park(struct sipd_worker *w, const struct msg_sip *in,
                          const struct sipd_route_out *out)
{
    const struct cfg *c = w->env.cfg;
    struct sipd_pend *p;

    p = sipd_park_new(w, SIPD_PEND_DNS, in, out->len,
                      dns_clnt_wait_ms(c->dns_timeout_ms, c->dns_tries));
    if (p == NULL) {
        log_warn_rl("worker %d: %d lookups pending: answering 503", w->idx,
                    w->npend);
        sipd_dns_fail(w, in, 503, "DNS backlog full");
        return;
    }
    p->out = *out;
    memcpy(p->bytes, out->buf, out->len);
    p->out.buf = p->bytes;
    p->out.cap = out->len;
    if (out->alias != NULL) {           /* routed again: the same alias */
        p->alias.state = out->alias->state;
        p->alias.len = out->alias->len;
        memcpy(p->alias.uri, out->alias->uri, out->alias->len);
    }
    p->out.alias = NULL;
    if (sipd_send_dnsd(w, p->qid, in->hash, out) < 0) {
        log_warn_rl("sipd->dnsd ring full: %s not resolved", out->name);
        sipd_dns_fail(w, in, 503, "DNS backlog full");
        sipd_park_free(w, p);
        return;
    }
    stats_inc(w->st, STAT_SIPD_DNS_PARKED);
}

/*
 * sipd_dns_act - carry out routing verdict v (SIPD_V_*) for in: send out
 *    now, or park in until dnsd resolves out's target. Any other verdict
 *    was answered or dropped by the router already.
 */
void sipd_dns_act(struct sipd_worker *w, const struct msg_sip *in, int v,
                  const struct sipd_route_out *out)
{
    if (v == SIPD_V_SEND)
        sipd_send_netd(w, out);
    else if (v == SIPD_V_RESOLVE)
        sipd_dns_park(w, in, out);
}

static void sipd_dns_status_fail(struct sipd_worker *w, struct sipd_pend *p,
                                 int status)
{
    const struct msg_sip *in = (const struct msg_sip *)p->in;

    switch (status) {
    case MSG_DNS_NXDOMAIN:
        sipd_dns_fail(w, in, 478, "Unresolvable destination");
        break;
    default:
        sipd_dns_fail(w, in, 503, "DNS failure");
        break;
    }
}

/*
 * sipd_dns_reroute - the target contradicts the Via we built: DNS chose
 *    another transport (NAPTR or SRV said TCP for a URI without
 *    ;transport), or gave an address of another family than the socket
 *    the Via names (AAAA with [dns] try_ipv6 for a request that came in
 *    over IPv4). Route the received message again with them forced, so
 *    the new Via (and Record-Route) names the transport and socket
 *    really used (RFC 3261 18.1.1). Nothing is counted twice: the
 *    first pass counted already.
 */
static void sipd_dns_reroute(struct sipd_worker *w, struct sipd_pend *p,
                             const struct msg_dns_target *t)
{
    const struct msg_sip *in = (const struct msg_sip *)p->in;
    struct sipd_route_env env = w->env;
    struct sipd_route_out out;

    env.st = NULL;
    env.alias = p->alias.state != 0 ? &p->alias : NULL;
    env.force_proto = t->proto;
    env.force_family = t->addr.family;
    memset(&out, 0, sizeof(out));
    out.buf = w->out_buf;
    out.cap = SIPD_OUT_MAX;
    if (sipd_route(&env, w->msg, in, in->data, in->len, &out)
            == SIPD_V_RESOLVE
        && sipd_route_resolved(&env, t, &out) == SIPD_V_SEND) {
        sipd_send_netd(w, &out);
        return;
    }
    if (out.verdict == SIPD_V_SEND && out.local_reply) {
        sipd_send_netd(w, &out);  /* e.g. 503: no TCP socket */
        stats_inc(w->st, STAT_CORE_SENT_REPLIES);
        return;
    }
    stats_inc(w->st, STAT_CORE_DROP_REQUESTS);
}

/*
 * sipd_dns_next - a handed-back request: the first target of our
 *    transport and of the family of the socket our Via names (the bytes
 *    carry that Via) that is not the one that failed (dnsd should have
 *    left it out already; this holds when it did not). NULL: none left.
 */
static const struct msg_dns_target *
sipd_dns_next(const struct cfg *c, const struct msg_dns_answer *a,
              const struct sipd_pend *p)
{
    const struct msg_sip *in = (const struct msg_sip *)p->in;
    const struct msg_dns_target *t;
    int i;

    if (p->out.sock >= c->nlisten)
        return NULL;
    for (i = 0; i < a->ntargets; i++) {
        t = &a->targets[i];
        if ((t->proto == 0 || t->proto == p->out.proto)
            && t->addr.family == c->listen[p->out.sock].addr.ss_family
            && !(t->addr.family == in->peer.family
                 && t->addr.port == in->peer.port
                 && memcmp(t->addr.ip, in->peer.ip, 16) == 0))
            return t;
    }
    return NULL;
}

/* sipd_dns_retry - the answer for a handed-back request */
static void sipd_dns_retry(struct sipd_worker *w, struct sipd_pend *p,
                           const struct msg_dns_answer *a)
{
    const struct msg_dns_target *t;

    if (a->status != MSG_DNS_OK || (t = sipd_dns_next(w->env.cfg, a, p)) == NULL
        || sipd_route_resolved(&w->env, t, &p->out) != SIPD_V_SEND) {
        sipd_dns_fail(w, (const struct msg_sip *)p->in, 503,
                      "Service Unavailable");
        return;
    }
    sipd_send_netd(w, &p->out);
}

/*
 * sipd_dns_other - target t is of another transport, or another family
 *    than the socket p's Via names: p is routed again for it.
 */
static int sipd_dns_other(const struct cfg *c, const struct sipd_pend *p,
                          const struct msg_dns_target *t)
{
    return (t->proto != 0 && t->proto != p->out.proto)
           || (p->out.sock < c->nlisten
               && c->listen[p->out.sock].addr.ss_family != t->addr.family);
}

void sipd_dns_answer(struct sipd_worker *w, const struct ring_rec *rec)
{
    const struct msg_dns_answer *a = dns_clnt_answer(rec);
    struct sipd_pend *p;

    if (a == NULL
        || (p = sipd_park_find(w, a->qid, SIPD_PEND_DNS)) == NULL)
        return;                         /* expired meanwhile */
    if (((const struct msg_sip *)p->in)->flags & MSG_F_SEND_FAILED)
        sipd_dns_retry(w, p, a);
    else if (a->status == MSG_DNS_OK && a->ntargets > 0
        && sipd_route_resolved(&w->env, &a->targets[0], &p->out)
               == SIPD_V_SEND)
        sipd_send_netd(w, &p->out);
    else if (a->status == MSG_DNS_OK && a->ntargets > 0
             && sipd_dns_other(w->env.cfg, p, &a->targets[0]))
        sipd_dns_reroute(w, p, &a->targets[0]);
    else if (a->status == MSG_DNS_OK)   /* resolved, but unreachable */
        stats_inc(w->st, sipd_park_is_reply((const struct msg_sip *)p->in)
                             ? STAT_CORE_DROP_REPLIES
                             : STAT_CORE_DROP_REQUESTS);
    else
        sipd_dns_status_fail(w, p, a->status);
    sipd_park_free(w, p);
}

/* sipd_dns_expired - p's deadline passed (sipd_park_expire() frees it) */
void sipd_dns_expired(struct sipd_worker *w, struct sipd_pend *p)
{
    stats_inc(w->st, STAT_SIPD_DNS_EXPIRED);
    sipd_dns_status_fail(w, p, MSG_DNS_TIMEOUT);
}
