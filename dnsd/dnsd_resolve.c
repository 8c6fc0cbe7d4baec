/*
 * SUMMARY
 *      dnsd_resolve - one lookup per query key in flight, RFC 3263 steps
 * DESCRIPTION
 *      dnsd_resolve_query() answers at once when it can: an IP literal,
 *      then a cache hit. Otherwise the query joins the lookup already in
 *      flight for the same key (name, port, transport, sips), or starts
 *      one; every query waiting on a lookup gets its answer when the
 *      lookup ends, so a burst of requests to one domain costs one
 *      resolution.
 *
 *      A lookup runs at most three steps, each a batch of c-ares queries
 *      sent together; a step ends when all of its queries came back
 *      (l->pending, plus one guard while the batch is being sent, since
 *      c-ares may answer a query before ares_query() returns):
 *
 *        NAPTR   the name's NAPTR records -> the SRV names to try
 *                (dnsd_3263_naptr_select). None usable, or any failure
 *                (NXDOMAIN, no data, SERVFAIL, REFUSED, timeout): the
 *                default SRV names of the transport (dnsd_3263_srv_names).
 *        SRV     each SRV name; each answer in canonical order
 *                (dnsd_3263_srv_order); the hosts of all of them in NAPTR
 *                order. No SRV records, or any failure: the URI's host on
 *                5060/5061.
 *        ADDR    A (and AAAA with [dns] try_ipv6) of each host -> the
 *                candidates (dnsd_3263_targets).
 *
 *      Failures fall through, so a server that refuses NAPTR queries
 *      (or that a middlebox stops) still routes by SRV. Only two steps in
 *      a row in which no query got any answer (every one timed out) end
 *      the lookup with TIMEOUT: the servers are down, and a third step
 *      would only make sipd wait longer. A lookup without targets ends
 *      with the status the last step saw (dnsd_3263_status).
 *
 *      The lookup's result (struct dnsd_rec) is what the cache keeps.
 *      Each waiting query gets its own answer from it (dnsd_resolve_
 *      deliver): the targets in the RFC 2782 order drawn from the
 *      query's seed, less the blacklisted ones (dnsd_bl.c); with every
 *      target blacklisted the answer is ERROR (sipd replies 503). The
 *      answer's TTL is the smallest TTL of every record set seen,
 *      negative ones included.
 * PROTOCOL
 *      None here: answers leave through the dnsd_answer_fn callback.
 * DIAGNOSTICS
 *      Each failed DNS query is logged with its name, type and rcode
 *      (SERVFAIL, REFUSED, timeout: rate-limited warnings; NXDOMAIN and
 *      no data at debug) and the step it falls through to. A lookup that
 *      fails logs the query and the last failure (rate-limited: warnings,
 *      NXDOMAIN at info). Too
 *      many lookups in flight, or too many queries on one, answer ERROR
 *      at once, with a rate-limited warning. Out of memory answers ERROR.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "dns_clnt.h"
#include "dnsd.h"
#include "log.h"

struct dnsd_waiter {
    int link;
    uint16_t seed;
    uint64_t qid;
};

struct dnsd_lookup {
    struct dnsd_lookup *next;           /* bucket chain */
    struct dnsd_resolve *res;
    struct dnsd_key key;
    uint32_t hash;
    int step;                           /* DNSD_STEP_* */
    int pending;                        /* queries out, + 1 while sending */
    unsigned seen;                      /* DNSD_SEEN_* of this step */
    int answered;                       /* answers (any rcode) this step */
    int silent;                         /* steps in a row without any */
    uint32_t ttl;                       /* smallest so far */
    const char *why;                    /* last failure, for the log */
    const char *why_name;               /* its name, type and rcode */
    int why_type;
    int why_rcode;
    int64_t started;                    /* ms, for the log */
    size_t nw;
    size_t capw;
    struct dnsd_waiter *w;              /* w0 until a second one comes */
    struct dnsd_waiter w0;
    size_t nsets;
    size_t srv_records;                 /* SRV records found, "." too */
    struct dnsd_srvname sets[DNSD_MAX_SETS];
    struct dnsd_srv *srv[DNSD_MAX_SETS];
    size_t nsrv[DNSD_MAX_SETS];
    size_t nhosts;
    struct dnsd_host *hosts;
};

static void dnsd_resolve_step(struct dnsd_lookup *l, int step);

static const char *const dnsd_resolve_status_names[] = {
    "ok", "nxdomain", "timeout", "error", "not implemented"};

static const char *dnsd_resolve_status_name(unsigned status)
{
    return status < 5 ? dnsd_resolve_status_names[status] : "?";
}

/* dnsd_resolve_type_name - DNSD_T_* for logs */
static const char *dnsd_resolve_type_name(int type)
{
    switch (type) {
    case DNSD_T_NAPTR:
        return "NAPTR";
    case DNSD_T_SRV:
        return "SRV";
    case DNSD_T_AAAA:
        return "AAAA";
    default:
        return "A";
    }
}

/*
 * dnsd_resolve_rcode_name - what the server said, for logs: the rcode
 *      of its answer (NOERROR without records is "NODATA"), "timeout",
 *      or, when c-ares gave up on every server without handing an
 *      answer over, "no answer" (c-ares 1.18 hides SERVFAIL and REFUSED
 *      when it fails over between several servers).
 */
static const char *dnsd_resolve_rcode_name(int rcode, int status)
{
    static const char *const names[] = {"NODATA", "FORMERR", "SERVFAIL",
                                        "NXDOMAIN", "NOTIMP", "REFUSED"};

    if (rcode >= 0 && rcode < 6)
        return names[rcode];
    if (rcode > 0)
        return "rcode>5";
    return status == MSG_DNS_TIMEOUT ? "timeout" : "no answer";
}

/*
 * dnsd_resolve_init - the resolver over channel a; cache may be NULL
 *      ([dns] cache = 0). Answers go to fn(arg, link, qid, result).
 */
void dnsd_resolve_init(struct dnsd_resolve *r, struct dnsd_ares *a,
                       struct dnsd_cache *cache, const struct cfg *cfg,
                       dnsd_answer_fn fn, void *arg)
{
    memset(r, 0, sizeof(*r));
    r->ares = a;
    r->cache = cache;
    r->answer = fn;
    r->answer_arg = arg;
    r->naptr = cfg->dns_naptr;
    r->srv = cfg->dns_srv;
    r->ipv6 = cfg->dns_try_ipv6;
}

/* dnsd_resolve_fail_now - answer one query with status at once */
static void dnsd_resolve_fail_now(struct dnsd_resolve *r, int link,
                                  uint64_t qid, uint16_t status)
{
    struct dnsd_result res;

    memset(&res, 0, sizeof(res));
    res.status = status;
    r->answer(r->answer_arg, link, qid, &res);
}

/* dnsd_resolve_find - the lookup in flight for k, or NULL */
static struct dnsd_lookup *dnsd_resolve_find(struct dnsd_resolve *r,
                                             const struct dnsd_key *k,
                                             uint32_t h)
{
    struct dnsd_lookup *l = r->tab[h % DNSD_RESOLVE_BUCKETS];

    for (; l != NULL; l = l->next)
        if (l->hash == h && dnsd_3263_key_eq(&l->key, k))
            return l;
    return NULL;
}

/*
 * dnsd_resolve_deliver - the answer of one query from what its lookup
 *      found (or the cache kept): ordered by the query's seed, the
 *      blacklisted targets left out, at most MSG_DNS_MAX_ADDRS.
 */
static void dnsd_resolve_deliver(struct dnsd_resolve *r, int link,
                                 uint64_t qid, uint16_t seed,
                                 const struct dnsd_rec *rec)
{
    struct msg_dns_target v[DNSD_MAX_CAND];
    struct dnsd_result res;
    size_t n = 0, kept = 0;

    res.status = rec->status;
    res.ttl = rec->ttl;
    if (rec->status == MSG_DNS_OK) {
        n = dnsd_3263_order(rec, seed, v, DNSD_MAX_CAND);
        kept = r->bl != NULL ? dnsd_bl_filter(r->bl, v, n, ev_now_ms()) : n;
        if (kept < n)
            stats_add(r->st, STAT_DNS_BL_SKIPPED, n - kept);
        if (kept > MSG_DNS_MAX_ADDRS)
            kept = MSG_DNS_MAX_ADDRS;
        memcpy(res.targets, v, kept * sizeof(v[0]));
        if (kept == 0 && n > 0) {
            log_info_rl("query %llu: all %zu targets blacklisted: "
                        "answering error", (unsigned long long)qid, n);
            res.status = MSG_DNS_ERROR;
            res.ttl = 0;
        }
    }
    res.ntargets = (uint16_t)kept;
    r->answer(r->answer_arg, link, qid, &res);
}

/* dnsd_resolve_wait - add (link, qid) to l's waiters; 0 or -ENOMEM */
static int dnsd_resolve_wait(struct dnsd_lookup *l, int link, uint64_t qid,
                             uint16_t seed)
{
    struct dnsd_waiter *w;
    size_t cap;

    if (l->nw == l->capw) {
        if (l->nw >= DNSD_RESOLVE_WAITERS)
            return -ENOMEM;
        cap = l->capw * 4;
        if ((w = malloc(cap * sizeof(*w))) == NULL)
            return -ENOMEM;
        memcpy(w, l->w, l->nw * sizeof(*w));
        if (l->w != &l->w0)
            free(l->w);
        l->w = w;
        l->capw = cap;
    }
    l->w[l->nw].link = link;
    l->w[l->nw].qid = qid;
    l->w[l->nw].seed = seed;
    l->nw++;
    return 0;
}

/* dnsd_resolve_free - unlink l from the table and free it */
static void dnsd_resolve_free(struct dnsd_lookup *l)
{
    struct dnsd_resolve *r = l->res;
    struct dnsd_lookup **pp = &r->tab[l->hash % DNSD_RESOLVE_BUCKETS];
    size_t i;

    for (; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    r->nlookups--;
    for (i = 0; i < DNSD_MAX_SETS; i++)
        free(l->srv[i]);
    free(l->hosts);
    if (l->w != &l->w0)
        free(l->w);
    free(l);
}

/* dnsd_resolve_log - one line per finished lookup */
static void dnsd_resolve_log(const struct dnsd_lookup *l,
                             const struct dnsd_rec *res)
{
    const struct dnsd_key *k = &l->key;
    int64_t ms = ev_now_ms() - l->started;
    const char *name = l->why_name != NULL ? l->why_name : k->name;
    const char *rcode = dnsd_resolve_rcode_name(l->why_rcode, res->status);

    switch (res->status) {
    case MSG_DNS_OK:
        log_debug("%s port %u proto %u%s: %u candidates, ttl %u, %lld ms, "
                  "%zu waiting", k->name, k->port, k->proto,
                  k->secure ? " sips" : "", res->n, res->ttl,
                  (long long)ms, l->nw);
        break;
    case MSG_DNS_NXDOMAIN:
        log_info_rl("%s port %u proto %u%s: no such name or no records "
                    "(last: %s %s %s)", k->name, k->port, k->proto,
                    k->secure ? " sips" : "", name,
                    dnsd_resolve_type_name(l->why_type), rcode);
        break;
    default:
        log_warn_rl("%s port %u proto %u%s: %s after %lld ms (last: %s %s "
                    "%s: %s)", k->name, k->port, k->proto,
                    k->secure ? " sips" : "",
                    dnsd_resolve_status_name(res->status), (long long)ms,
                    name, dnsd_resolve_type_name(l->why_type), rcode,
                    l->why ? l->why : "?");
        break;
    }
}

/* dnsd_resolve_finish - answer every waiter, cache, free l */
static void dnsd_resolve_finish(struct dnsd_lookup *l, uint16_t status)
{
    struct dnsd_resolve *r = l->res;
    struct dnsd_rec res;
    size_t i;

    res.n = 0;
    if (status == MSG_DNS_OK)
        dnsd_3263_targets(l->hosts, l->nhosts, &res);
    if (status == MSG_DNS_OK && res.n == 0)
        status = dnsd_3263_status(l->seen);
    res.status = status;
    if (status != MSG_DNS_OK)
        res.n = 0;
    res.ttl = l->ttl;
    if (res.ttl == DNSD_TTL_NONE || status == MSG_DNS_ERROR)
        res.ttl = status == MSG_DNS_NXDOMAIN ? DNSD_NEG_TTL
                  : status == MSG_DNS_ERROR  ? DNSD_ERR_TTL
                                             : 0;
    dnsd_resolve_log(l, &res);
    if (r->cache != NULL)
        dnsd_cache_put(r->cache, &l->key, &res, ev_now_ms());
    for (i = 0; i < l->nw; i++)
        dnsd_resolve_deliver(r, l->w[i].link, l->w[i].qid, l->w[i].seed,
                             &res);
    dnsd_resolve_free(l);
}

/* dnsd_resolve_seen - fold one answer's status and TTL into l */
static void dnsd_resolve_seen(struct dnsd_lookup *l,
                              const struct dnsd_rrset *rs)
{
    if (rs->status != MSG_DNS_TIMEOUT)
        l->answered++;
    switch (rs->status) {
    case MSG_DNS_OK:
        break;
    case MSG_DNS_NXDOMAIN:
        l->seen |= DNSD_SEEN_NX;
        break;
    case MSG_DNS_TIMEOUT:
        l->seen |= DNSD_SEEN_TIMEOUT;
        break;
    default:
        l->seen |= DNSD_SEEN_ERROR;
        break;
    }
    if (rs->status != MSG_DNS_OK) {
        l->why = rs->why;
        l->why_type = rs->type;
        l->why_rcode = rs->rcode;
    }
    if ((rs->status == MSG_DNS_OK || rs->status == MSG_DNS_NXDOMAIN)
        && rs->ttl < l->ttl)
        l->ttl = rs->ttl;
}

/* dnsd_resolve_keep_srv - an ordered copy of SRV answer rs for set i */
static void dnsd_resolve_keep_srv(struct dnsd_lookup *l, size_t i,
                                  const struct dnsd_rrset *rs)
{
    if (i >= l->nsets || rs->n == 0)
        return;
    free(l->srv[i]);
    if ((l->srv[i] = malloc(rs->n * sizeof(rs->srv[0]))) == NULL) {
        l->seen |= DNSD_SEEN_ERROR;
        l->why = "out of memory";
        return;
    }
    memcpy(l->srv[i], rs->srv, rs->n * sizeof(rs->srv[0]));
    l->nsrv[i] = rs->n;
    l->srv_records += rs->n;
    dnsd_3263_srv_order(l->srv[i], rs->n);
}

/* dnsd_resolve_keep_addr - the addresses of rs for host tag / 2 */
static void dnsd_resolve_keep_addr(struct dnsd_lookup *l, int tag,
                                   const struct dnsd_rrset *rs)
{
    size_t h = (size_t)tag / 2, f = (size_t)tag % 2, i;
    struct dnsd_host *host;

    if (h >= l->nhosts)
        return;
    host = &l->hosts[h];
    for (i = 0; i < rs->n && host->naddr[f] < DNSD_HOST_ADDRS; i++)
        host->addr[f][host->naddr[f]++] = rs->addr[i];
}

/* dnsd_resolve_hosts - the host table of l exists; 0 or -ENOMEM */
static int dnsd_resolve_hosts(struct dnsd_lookup *l)
{
    if (l->hosts != NULL)
        return 0;
    if ((l->hosts = calloc(DNSD_MAX_HOSTS, sizeof(*l->hosts))) != NULL)
        return 0;
    l->seen |= DNSD_SEEN_ERROR;
    l->why = "out of memory";
    return -ENOMEM;
}

/* dnsd_resolve_srv_hosts - the hosts of every SRV answer, NAPTR order */
static void dnsd_resolve_srv_hosts(struct dnsd_lookup *l)
{
    size_t i, k, n;

    for (i = 0; i < l->nsets; i++) {
        if (l->srv[i] == NULL || l->nhosts >= DNSD_MAX_HOSTS)
            continue;
        n = dnsd_3263_srv_hosts(l->srv[i], l->nsrv[i], l->sets[i].proto,
                                l->hosts + l->nhosts,
                                DNSD_MAX_HOSTS - l->nhosts);
        for (k = 0; k < n; k++)
            l->hosts[l->nhosts + k].set = (uint8_t)i;
        l->nhosts += n;
    }
}

/*
 * dnsd_resolve_done - release one pending unit; at zero, the next step.
 *      Every failure falls through (DESCRIPTION); two silent steps in a
 *      row (every query timed out) end the lookup with TIMEOUT.
 */
static void dnsd_resolve_done(struct dnsd_lookup *l)
{
    if (--l->pending > 0)
        return;
    l->silent = l->answered == 0 && (l->seen & DNSD_SEEN_TIMEOUT)
                    ? l->silent + 1 : 0;
    if (l->step != DNSD_STEP_ADDR && l->silent >= DNS_CLNT_SILENT_STEPS) {
        dnsd_resolve_finish(l, MSG_DNS_TIMEOUT);
        return;
    }
    switch (l->step) {
    case DNSD_STEP_NAPTR:
        dnsd_resolve_step(l, DNSD_STEP_SRV);
        break;
    case DNSD_STEP_SRV:
        if (dnsd_resolve_hosts(l) < 0) {
            dnsd_resolve_finish(l, MSG_DNS_ERROR);
            break;
        }
        dnsd_resolve_srv_hosts(l);
        if (l->nhosts == 0 && l->srv_records > 0)
            dnsd_resolve_finish(l, MSG_DNS_NXDOMAIN); /* "." only: 2782 */
        else
            dnsd_resolve_step(l, DNSD_STEP_ADDR);
        break;
    default:
        dnsd_resolve_finish(l, MSG_DNS_OK);
        break;
    }
}

/* dnsd_resolve_qname - the name query tag of l's current step asked */
static const char *dnsd_resolve_qname(const struct dnsd_lookup *l, int tag)
{
    if (l->step == DNSD_STEP_SRV && (size_t)tag < l->nsets)
        return l->sets[tag].name;
    if (l->step == DNSD_STEP_ADDR && (size_t)tag / 2 < l->nhosts)
        return l->hosts[tag / 2].name;
    return l->key.name;
}

/* dnsd_resolve_fail_log - one failed DNS query: name, type, rcode */
static void dnsd_resolve_fail_log(struct dnsd_lookup *l, int tag,
                                  const struct dnsd_rrset *rs)
{
    static const char *const next[] = {"", "SRV", "A/AAAA", "no further step"};
    const char *name = dnsd_resolve_qname(l, tag);
    const char *rcode = dnsd_resolve_rcode_name(rs->rcode, rs->status);
    const char *then = l->step >= 1 && l->step <= 3 ? next[l->step] : "?";

    l->why_name = name;
    if (rs->status == MSG_DNS_NXDOMAIN)
        log_debug("%s %s: %s, falling through to %s", name,
                  dnsd_resolve_type_name(rs->type), rcode, then);
    else
        log_warn_rl("%s %s: %s (%s), falling through to %s", name,
                    dnsd_resolve_type_name(rs->type), rcode,
                    rs->why ? rs->why : "?", then);
}

/* dnsd_resolve_on_rr - c-ares answered one query of lookup arg */
static void dnsd_resolve_on_rr(void *arg, int tag, const struct dnsd_rrset *rs)
{
    struct dnsd_lookup *l = arg;

    dnsd_resolve_seen(l, rs);
    if (rs->status != MSG_DNS_OK)
        dnsd_resolve_fail_log(l, tag, rs);
    if (rs->status == MSG_DNS_OK) {
        switch (l->step) {
        case DNSD_STEP_NAPTR:
            l->nsets = dnsd_3263_naptr_select(rs->naptr, rs->n,
                                              l->key.secure, l->sets,
                                              DNSD_MAX_SETS);
            break;
        case DNSD_STEP_SRV:
            dnsd_resolve_keep_srv(l, (size_t)tag, rs);
            break;
        default:
            dnsd_resolve_keep_addr(l, tag, rs);
            break;
        }
    }
    dnsd_resolve_done(l);
}

/* dnsd_resolve_send_addr - A/AAAA of every host; literals need none */
static void dnsd_resolve_send_addr(struct dnsd_lookup *l)
{
    struct dnsd_resolve *r = l->res;
    struct msg_addr a;
    size_t i;

    for (i = 0; i < l->nhosts; i++) {
        struct dnsd_host *h = &l->hosts[i];

        if (addr_parse(&a, h->name, strlen(h->name), h->port) == 0) {
            h->addr[a.family == AF_INET6][0] = a;
            h->naddr[a.family == AF_INET6] = 1;
            continue;
        }
        l->pending++;
        dnsd_ares_query(r->ares, h->name, DNSD_T_A, dnsd_resolve_on_rr, l,
                        (int)(2 * i));
        if (r->ipv6) {
            l->pending++;
            dnsd_ares_query(r->ares, h->name, DNSD_T_AAAA,
                            dnsd_resolve_on_rr, l, (int)(2 * i + 1));
        }
    }
}

/*
 * dnsd_resolve_step - start step (DNSD_STEP_*) of lookup l. The guard
 *      unit keeps l alive until every query of the step has been sent.
 */
static void dnsd_resolve_step(struct dnsd_lookup *l, int step)
{
    struct dnsd_resolve *r = l->res;
    size_t i;

    l->step = step;
    l->seen = 0;
    l->answered = 0;
    l->pending = 1;
    switch (step) {
    case DNSD_STEP_NAPTR:
        l->pending++;
        dnsd_ares_query(r->ares, l->key.name, DNSD_T_NAPTR,
                        dnsd_resolve_on_rr, l, 0);
        break;
    case DNSD_STEP_SRV:
        if (l->nsets == 0)
            l->nsets = dnsd_3263_srv_names(&l->key, l->sets, DNSD_MAX_SETS);
        for (i = 0; i < l->nsets; i++) {
            l->pending++;
            dnsd_ares_query(r->ares, l->sets[i].name, DNSD_T_SRV,
                            dnsd_resolve_on_rr, l, (int)i);
        }
        break;
    default:
        if (dnsd_resolve_hosts(l) < 0)
            break;
        if (l->nhosts == 0) {
            dnsd_3263_host_default(&l->key, &l->hosts[0]);
            l->nhosts = 1;
        }
        dnsd_resolve_send_addr(l);
        break;
    }
    dnsd_resolve_done(l);
}

/* dnsd_resolve_start - a new lookup for k, with one waiter */
static void dnsd_resolve_start(struct dnsd_resolve *r,
                               const struct dnsd_key *k, uint32_t h,
                               uint16_t seed, int link, uint64_t qid)
{
    struct dnsd_lookup *l;
    int step = dnsd_3263_first_step(k, r->naptr, r->srv);

    if (r->nlookups >= DNSD_RESOLVE_MAX
        || (l = calloc(1, sizeof(*l))) == NULL) {
        log_warn_rl("%s: %zu lookups in flight: answering error", k->name,
                    r->nlookups);
        dnsd_resolve_fail_now(r, link, qid, MSG_DNS_ERROR);
        return;
    }
    l->res = r;
    l->key = *k;
    l->hash = h;
    l->ttl = DNSD_TTL_NONE;
    l->started = ev_now_ms();
    l->w = &l->w0;
    l->capw = 1;
    l->w0.link = link;
    l->w0.qid = qid;
    l->w0.seed = seed;
    l->nw = 1;
    l->next = r->tab[h % DNSD_RESOLVE_BUCKETS];
    r->tab[h % DNSD_RESOLVE_BUCKETS] = l;
    r->nlookups++;
    log_debug("%s port %u proto %u%s: lookup starts at step %d", k->name,
              k->port, k->proto, k->secure ? " sips" : "", step);
    dnsd_resolve_step(l, step);
}

/*
 * dnsd_resolve_query - resolve k for (link, qid). The answer goes to
 *      the answer callback, possibly before this returns (literal, cache
 *      hit, immediate failure), at the latest when the lookup ends.
 */
void dnsd_resolve_query(struct dnsd_resolve *r, const struct dnsd_key *k,
                        uint16_t seed, int link, uint64_t qid)
{
    struct dnsd_result res;
    struct dnsd_rec rec;
    struct dnsd_lookup *l;
    uint32_t h;

    if (dnsd_3263_literal(k, &res)) {   /* no alternative: not filtered */
        r->answer(r->answer_arg, link, qid, &res);
        return;
    }
    if (r->cache != NULL && dnsd_cache_get(r->cache, k, ev_now_ms(), &rec)) {
        stats_inc(r->st, STAT_DNS_CACHE_HITS);
        dnsd_resolve_deliver(r, link, qid, seed, &rec);
        return;
    }
    h = dnsd_3263_key_hash(k);
    if ((l = dnsd_resolve_find(r, k, h)) == NULL) {
        dnsd_resolve_start(r, k, h, seed, link, qid);
        return;
    }
    if (dnsd_resolve_wait(l, link, qid, seed) < 0) {
        log_warn_rl("%s: %zu queries wait on one lookup: answering error",
                    k->name, l->nw);
        dnsd_resolve_fail_now(r, link, qid, MSG_DNS_ERROR);
        return;
    }
    stats_inc(r->st, STAT_DNS_COALESCED);
}

/*
 * dnsd_resolve_fini - free lookups still in the table without
 *      answering them (call after dnsd_ares_free(), which has normally
 *      ended them all).
 */
void dnsd_resolve_fini(struct dnsd_resolve *r)
{
    size_t i;

    for (i = 0; i < DNSD_RESOLVE_BUCKETS; i++)
        while (r->tab[i] != NULL)
            dnsd_resolve_free(r->tab[i]);
}
