/*
 * SUMMARY
 *    sipd_db - a worker's use of the database: the alias of a
 *    Request-URI ([route] db_aliases) and the source check ([route]
 *    db_allow)
 * DESCRIPTION
 *    The router (sipd_route.c) asks two callbacks that this file puts
 *    into the worker's route env (sipd_db_env()):
 *
 *     - sipd_db_allow(): is the source in the address table? The table
 *       is the one the dispatcher published last (sipd_allow_load.c),
 *       read with rcu_dereference() inside an RCU read-side section:
 *       no lock on the request path. No table yet: the router answers
 *       503 with Retry-After (fail closed), and one warning says so.
 *     - sipd_db_cached(): the alias answer kept for user@host by the
 *       process's cache ([db] cache_ttl; sipd_cache.c), counted as
 *       db:cache_hits or db:cache_misses. No cache: always unknown.
 *
 *    When the router does not know the answer it returns SIPD_V_LOOKUP
 *    and the worker parks the request (sipd_park.c: the same table,
 *    query ids and deadlines as a DNS lookup) and sends dbd a
 *    MSG_DB_Q_ALIAS query (the user as written, the host lower-cased),
 *    counted as sipd:db_parked. Other requests go on meanwhile.
 *
 *    The answer (MSG_T_DB_ROWS, to this worker by its query id):
 *
 *     - a row (username, domain): the alias URI "sip:USERNAME@DOMAIN"
 *       ("sip:DOMAIN" when username is empty), as Kamailio's alias_db
 *       builds it: nothing of the old Request-URI is kept (not its
 *       scheme, port or parameters); the request is routed again from
 *       its received copy with that URI (the router counts
 *       db:aliased), then forwarded, or parked again for dnsd when the
 *       new host is a name. A row whose URI does not parse as a SIP URI
 *       (a bad domain) is the database's fault: 500, warned;
 *     - no row: the request is routed again unchanged;
 *     - MSG_DB_ERROR, TIMEOUT, BUSY, DOWN, or a record lost in transit:
 *       "503 Service Unavailable" with Retry-After to the sender, as for
 *       a full parking table, a full ring, and a query dbd does not
 *       answer within [db] timeout_ms + SIPD_DB_SLACK_MS (dbd dead:
 *       sipd:db_expired). Counted as db:unavailable_replies.
 *
 *    Answers with and without a row are kept in the cache for
 *    cache_ttl seconds; errors are not.
 * PROTOCOL
 *    sipd.i -> dbd: MSG_T_DB_QUERY (MSG_DB_Q_ALIAS, 2 values);
 *    dbd -> sipd.i: MSG_T_DB_ROWS, status and at most one row of 2
 *    columns (a row-less record with MSG_DB_F_MORE waits for the next).
 * DIAGNOSTICS
 *    Rate-limited warnings: table or ring full, a database error, a bad
 *    alias row. One warning when requests are refused before the first
 *    address table is loaded.
 */
#include <stdio.h>
#include <string.h>
#include "db_clnt.h"
#include "log.h"
#include "sip_msg.h"
#include "sipd.h"
#include "sipd_rcu.h"

static const char *const sipd_db_status_names[] = {"ok", "error", "timeout",
                                                   "busy", "down"};

/* sipd_db_status - MSG_DB_* as text */
static const char *sipd_db_status(unsigned status)
{
    return status < 5 ? sipd_db_status_names[status] : "unknown status";
}

/* sipd_db_allow - sipd_allow_fn: the current address table's say */
static int sipd_db_allow(void *arg, const struct msg_addr *src)
{
    struct sipd_worker *w = arg;
    struct sipd *d = w->sipd;
    const struct sipd_allow *t;
    int r;

    urcu_memb_read_lock();
    t = SIPD_RCU_GET(d->allow);         /* rcu_dereference() */
    if (t == NULL) {
        r = SIPD_ALLOW_UNKNOWN;
    } else {
        r = sipd_allow_match(t, src) ? SIPD_ALLOW_YES : SIPD_ALLOW_NO;
        SIPD_RCU_LEFT(t);
    }
    urcu_memb_read_unlock();
    if (r == SIPD_ALLOW_UNKNOWN
        && !__atomic_exchange_n(&d->allow_warned, 1, __ATOMIC_RELAXED))
        log_warn("address table not loaded yet ([route] db_allow): "
                 "requests get 503 until it is");
    return r;
}

/* sipd_db_cached - sipd_alias_fn: the cache's answer, or NULL */
static const struct sipd_alias *sipd_db_cached(void *arg, struct str user,
                                               const char *host)
{
    struct sipd_worker *w = arg;
    struct sipd_cache *c = w->sipd->cache;

    if (c == NULL)
        return NULL;
    if (sipd_cache_get(c, user, (struct str){host, strlen(host)},
                       ev_now_ms(), &w->alias)) {
        stats_inc(w->st, STAT_DB_CACHE_HITS);
        return &w->alias;
    }
    stats_inc(w->st, STAT_DB_CACHE_MISSES);
    return NULL;
}

/* sipd_db_env - the worker's route env asks the database through here */
void sipd_db_env(struct sipd_worker *w)
{
    w->env.alias_get = sipd_db_cached;
    w->env.allow = sipd_db_allow;
    w->env.arg = w;
}

/* sipd_db_reply - answer in (a request) with 503 + Retry-After, or 500 */
static void sipd_db_reply(struct sipd_worker *w, const struct msg_sip *in,
                          int code)
{
    struct sipd_route_out out;
    int v;

    if (sip_msg_parse(w->msg, in->data, in->len,
                      in->proto == MSG_PROTO_TCP ? SIP_PARSE_STREAM : 0) < 0)
        return;
    memset(&out, 0, sizeof(out));
    out.buf = w->out_buf;
    out.cap = SIPD_OUT_MAX;
    if (code == 503)
        v = sipd_reply_unavailable(&w->env, w->msg, in, &out);
    else
        v = sipd_reply(&w->env, w->msg, in, code, "Server Internal Error",
                       &out);
    if (v != SIPD_V_SEND)
        return;
    sipd_send_netd(w, &out);
    if (code == 503)
        stats_inc(w->st, STAT_DB_UNAVAILABLE);
}

/*
 * sipd_db_route - route in again with alias a (the lookup's answer),
 *    then send it or park it for dnsd. Nothing is counted twice: the
 *    router counts core:rcv_requests on the first pass only.
 */
static void sipd_db_route(struct sipd_worker *w, const struct msg_sip *in,
                          const struct sipd_alias *a)
{
    struct sipd_route_env env = w->env;
    struct sipd_route_out out;
    int v;

    env.alias = a;
    memset(&out, 0, offsetof(struct sipd_route_out, name));
    out.name[0] = '\0';
    out.buf = w->out_buf;
    out.cap = SIPD_OUT_MAX;
    v = sipd_route(&env, w->msg, in, in->data, in->len, &out);
    if (v == SIPD_V_LOOKUP)             /* cannot be: the answer is set */
        v = SIPD_V_DROP;
    sipd_dns_act(w, in, v, &out);
}

/*
 * sipd_db_lookup - the router said SIPD_V_LOOKUP for in: park it and
 *    ask dbd for out->user @ out->name.
 */
void sipd_db_lookup(struct sipd_worker *w, const struct msg_sip *in,
                    const struct sipd_route_out *out)
{
    const struct cfg *c = w->env.cfg;
    size_t ulen = out->user.len, hlen = strlen(out->name);
    struct sipd_alias keep = {SIPD_ALIAS_KEEP, 0, ""};
    struct sipd_pend *p;
    struct db_val k[2];

    if (ulen > MSG_DB_VAL_MAX || hlen > MSG_DB_VAL_MAX) {
        sipd_db_route(w, in, &keep);    /* no row holds a key that long */
        return;
    }
    p = sipd_park_new(w, SIPD_PEND_DB, in, ulen + 1 + hlen,
                      c->db_timeout_ms + SIPD_DB_SLACK_MS);
    if (p == NULL) {
        log_warn_rl("worker %d: %d lookups pending: answering 503", w->idx,
                    w->npend);
        sipd_db_reply(w, in, 503);
        return;
    }
    memcpy(p->bytes, out->user.s, ulen);
    p->bytes[ulen] = '\0';
    memcpy(p->bytes + ulen + 1, out->name, hlen);
    k[0] = db_str(p->bytes, ulen);
    k[1] = db_str(p->bytes + ulen + 1, hlen);
    if (!w->sipd->has_db
        || sipd_send_dbd(w->sipd, p->qid, MSG_DB_Q_ALIAS, 2, k) < 0) {
        log_warn_rl("sipd->dbd ring full: alias not looked up, "
                    "answering 503");
        sipd_db_reply(w, in, 503);
        sipd_park_free(w, p);
        return;
    }
    w->dirty_db = 1;
    stats_inc(w->st, STAT_SIPD_DB_PARKED);
}

/*
 * sipd_db_alias - the first row of r (username, domain) as alias *a.
 *    Returns 0, or -1 when the row does not make a SIP URI.
 */
static int sipd_db_alias(const struct ring_rec *rec,
                         const struct msg_db_rows *r, struct sipd_alias *a)
{
    const char *p = r->data, *end = (const char *)rec->data + rec->len;
    struct db_val user, dom;
    struct sip_uri u;
    int n;

    if (r->ncols < 2 || db_val_next(&p, end, &user) < 0
        || db_val_next(&p, end, &dom) < 0 || dom.type != DB_STR
        || dom.len == 0)
        return -1;
    if (user.type != DB_STR)
        user.len = 0;
    n = snprintf(a->uri, sizeof(a->uri), "sip:%.*s%s%.*s", (int)user.len,
                 user.len > 0 ? user.s : "", user.len > 0 ? "@" : "",
                 (int)dom.len, dom.s);
    if (n < 0 || (size_t)n >= sizeof(a->uri))
        return -1;
    a->len = (size_t)n;
    a->state = SIPD_ALIAS_SET;
    if (sip_uri_parse((struct str){a->uri, a->len}, &u) < 0
        || u.headers.s != NULL)
        return -1;
    return 0;
}

/* sipd_db_keep - cache answer a of entry p's key, when there is a cache */
static void sipd_db_keep(struct sipd_worker *w, const struct sipd_pend *p,
                         const struct sipd_alias *a)
{
    struct sipd_cache *c = w->sipd->cache;
    size_t ulen = strlen(p->bytes);

    if (c != NULL)
        (void)sipd_cache_put(c, (struct str){p->bytes, ulen},
                             (struct str){p->bytes + ulen + 1,
                                          p->nbytes - ulen - 1},
                             a, ev_now_ms());
}

/*
 * sipd_db_result - one record of p's answer. Returns 1 when p is done
 *    (answered, routed or failed), 0 when it waits for the next record.
 */
static int sipd_db_result(struct sipd_worker *w, struct sipd_pend *p,
                          const struct ring_rec *rec,
                          const struct msg_db_rows *r)
{
    const struct msg_sip *in = (const struct msg_sip *)p->in;

    if (r->seq != p->seq++ || r->status != MSG_DB_OK) {
        log_warn_rl("alias lookup: %s: answering 503",
                    r->seq + 1 != p->seq ? "an answer record was lost"
                                         : sipd_db_status(r->status));
        sipd_db_reply(w, in, 503);
        return 1;
    }
    if (r->nrows == 0 && (r->flags & MSG_DB_F_MORE))
        return 0;
    if (r->nrows == 0) {
        p->alias.state = SIPD_ALIAS_KEEP;
        p->alias.len = 0;
    } else if (sipd_db_alias(rec, r, &p->alias) < 0) {
        log_warn_rl("dbaliases row for %s@%s does not make a SIP URI: "
                    "answering 500", p->bytes,
                    p->bytes + strlen(p->bytes) + 1);
        sipd_db_reply(w, in, 500);
        return 1;
    }
    sipd_db_keep(w, p, &p->alias);
    sipd_db_route(w, in, &p->alias);
    return 1;
}

/* sipd_db_answer - a MSG_T_DB_ROWS record for one of this worker's */
void sipd_db_answer(struct sipd_worker *w, const struct ring_rec *rec)
{
    const struct msg_db_rows *r = db_clnt_rows(rec);
    struct sipd_pend *p;

    if (r == NULL || (p = sipd_park_find(w, r->qid, SIPD_PEND_DB)) == NULL)
        return;                         /* expired meanwhile */
    if (sipd_db_result(w, p, rec, r))
        sipd_park_free(w, p);
}

/* sipd_db_expired - dbd did not answer p in time (freed by the caller) */
void sipd_db_expired(struct sipd_worker *w, struct sipd_pend *p)
{
    stats_inc(w->st, STAT_SIPD_DB_EXPIRED);
    log_warn_rl("alias lookup: dbd did not answer in %d ms: answering 503",
                w->env.cfg->db_timeout_ms + SIPD_DB_SLACK_MS);
    sipd_db_reply(w, (const struct msg_sip *)p->in, 503);
}
