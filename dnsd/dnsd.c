/*
 * SUMMARY
 *      dnsd - the DNS stage: RFC 3263 resolution for every sipd
 * DESCRIPTION
 *      main() is srv_main() (common/srv.h). init attaches dnsd's ends of
 *      the rings of every running sipd instance (more are attached when
 *      mid scales sipd up), sets up the cache ([dns] cache), the c-ares
 *      channel (dnsd_ares.c) and the resolver (dnsd_resolve.c). run is
 *      the loop:
 *
 *        1. pop up to DNSD_BATCH queries from each sipd -> dnsd ring and
 *           hand each to the resolver (literal, cache, coalesced or new
 *           lookup); release the ring space;
 *        2. flush every link: held answers first, then commit;
 *        3. if a ring gave work, poll the ev loop without waiting (c-ares
 *           sockets, timers) and go again; else announce sleep on every
 *           input ring (ring_sleep_prepare) and block in the ev loop
 *           only if all of them are still empty. An input ring's eventfd
 *           is in the ev loop; its handler clears the wake-up. With
 *           answers held for a full ring, the wait is capped at
 *           DNSD_RETRY_MS, as nothing signals that sipd made room;
 *        4. flush again: c-ares callbacks made answers.
 *
 *      sipd's MSG_T_DNS_FAILED reports, on the same rings, go to the
 *      blacklist (dnsd_bl.c, [dns] blacklist_s); a timer sweeps its
 *      expired entries every DNSD_SWEEP_MS and keeps dns:blacklist_size.
 *
 *      The MI's dns_* commands reach dnsd as ctl broadcasts; those with a
 *      request id are answered to mid on the PUSH socket (dnsd_mi.c).
 * PROTOCOL
 *      sipd[i] -> dnsd  MSG_T_DNS_QUERY, MSG_T_DNS_FAILED; dnsd ->
 *      sipd[i] MSG_T_DNS_ANSWER (dns_clnt.h, dnsd_link.c).
 *      ctl from mid: "dns_cache_flush [ID]", "dns_cache_dump ID",
 *      "dns_blacklist_dump ID", "dns_blacklist_flush ID"; the replies
 *      to mid: "mi dnsd ..." (dnsd_mi.c).
 *      DNS to [dns] servers (dnsd_ares.c).
 * DIAGNOSTICS
 *      Fatal at init (mid restarts dnsd): a ring that does not attach,
 *      c-ares that does not start or refuses [dns] servers, no memory for
 *      the cache. An epoll failure in the loop is fatal. Everything the
 *      network or sipd can cause is counted and warned about, rate-
 *      limited, and the loop goes on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd.h"
#include "log.h"
#include "shm.h"
#include "srv.h"

#define DNSD_BATCH 64                   /* queries per ring per pass */
#define DNSD_RETRY_MS 5                 /* re-try held answers after */
#define DNSD_SWEEP_MS 1000              /* blacklist expiry sweep */

struct dnsd {
    struct srv *srv;
    struct stats_slot *st;
    int nlinks;                         /* links[0..nlinks) attached */
    struct dnsd_link links[CFG_MAX_SIPD];
    struct dnsd_cache cache;
    struct dnsd_ares *ares;
    struct dnsd_resolve res;
    struct dnsd_bl bl;
    struct ev_timer sweep;
};

static struct dnsd dnsd_state;

/* dnsd_on_wake - an input ring's eventfd fired: clear it, loop pops */
static void dnsd_on_wake(struct ev *ev, struct ev_io *io, uint32_t events)
{
    struct dnsd_link *l = io->arg;

    (void)ev;
    (void)events;
    ring_wake_clear(&l->in);
}

/* dnsd_attach - dnsd's ends of sipd[i]'s DNS rings; 0 or -errno */
static int dnsd_attach(struct dnsd *d, int i)
{
    struct srv *s = d->srv;
    struct dnsd_link *l = &d->links[i];
    int err;

    memset(l, 0, sizeof(*l));
    l->idx = i;
    l->st = d->st;
    if ((err = shm_ring_attach(&s->shm, SHM_RING(i, SHM_R_SIPD_DNSD),
                               RING_CONSUMER, &l->in)) < 0
        || (err = shm_ring_attach(&s->shm, SHM_RING(i, SHM_R_DNSD_SIPD),
                                  RING_PRODUCER, &l->out)) < 0) {
        log_error("sipd.%d dns rings: attach: %s", i, strerror(-err));
        return err;
    }
    l->io.fd = l->in.efd;
    l->io.fn = dnsd_on_wake;
    l->io.arg = l;
    if (l->io.fd >= 0 && (err = ev_add(&s->ev, &l->io, EPOLLIN)) < 0) {
        log_error("sipd.%d>dnsd eventfd: epoll: %s", i, strerror(-err));
        return err;
    }
    l->up = 1;
    return 0;
}

/* dnsd_attach_new - attach the links of sipd instances mid added */
static void dnsd_attach_new(struct dnsd *d)
{
    int n = __atomic_load_n(&d->srv->shm.hdr->nsipd, __ATOMIC_ACQUIRE);
    int err;

    if (n > CFG_MAX_SIPD)
        n = CFG_MAX_SIPD;
    while (d->nlinks < n) {
        if ((err = dnsd_attach(d, d->nlinks)) < 0)
            log_fatal("sipd.%d: cannot attach: %s", d->nlinks,
                      strerror(-err));
        log_info("sipd.%d: dns rings attached", d->nlinks);
        d->nlinks++;
    }
}

/* dnsd_answer - resolver callback: count and queue the answer */
static void dnsd_answer(void *arg, int link, uint64_t qid,
                        const struct dnsd_result *r)
{
    struct dnsd *d = arg;

    if (link < 0 || link >= d->nlinks)
        return;
    stats_inc(d->st, STAT_DNS_ANSWERS);
    if (r->status != MSG_DNS_OK)
        stats_inc(d->st, STAT_DNS_FAILURES);
    dnsd_link_answer(&d->links[link], qid, r);
}

/* dnsd_bl_size - dns:blacklist_size from the table */
static void dnsd_bl_size(struct dnsd *d)
{
    stats_set(d->st, STAT_DNS_BL_SIZE, d->bl.n);
}

/* dnsd_failed - sipd could not reach a target: blacklist it */
static void dnsd_failed(struct dnsd *d, int i, const struct ring_rec *rec)
{
    const struct msg_dns_failed *f = dnsd_link_failed(rec);
    char ip[INET6_ADDRSTRLEN];

    if (f == NULL) {
        stats_inc(d->st, STAT_DNS_BAD_QUERIES);
        log_warn_rl("sipd.%d: malformed failed-target report (%u bytes)",
                    i, rec->len);
        return;
    }
    if (dnsd_bl_add(&d->bl, &f->addr, f->proto, f->reason, ev_now_ms())
        != 1)
        return;                         /* off, or already listed */
    stats_inc(d->st, STAT_DNS_BL_ADDED);
    dnsd_bl_size(d);
    inet_ntop(f->addr.family, f->addr.ip, ip, sizeof(ip));
    log_info_rl("blacklisted %s port %u proto %u for %d s (reason %u)", ip,
                ntohs(f->addr.port), f->proto, d->srv->cfg.dns_blacklist_s,
                f->reason);
}

/* dnsd_on_sweep - drop expired blacklist entries, keep the gauge */
static void dnsd_on_sweep(struct ev *ev, struct ev_timer *t)
{
    struct dnsd *d = t->arg;
    size_t n = d->bl.n;

    if (n > 0) {
        dnsd_bl_walk(&d->bl, ev_now_ms(), NULL, NULL);
        if (d->bl.n != n)
            dnsd_bl_size(d);
    }
    ev_timer_start(ev, t, DNSD_SWEEP_MS);
}

/* dnsd_query - one popped record from link i */
static void dnsd_query(struct dnsd *d, int i, const struct ring_rec *rec)
{
    struct dnsd_result bad;
    struct dnsd_key k;
    uint64_t qid = 0;
    uint16_t seed = 0;

    if (rec->type == MSG_T_DNS_FAILED) {
        dnsd_failed(d, i, rec);
        return;
    }
    switch (dnsd_link_decode(rec, &k, &qid, &seed)) {
    case DNSD_Q_OK:
        stats_inc(d->st, STAT_DNS_QUERIES);
        log_debug("sipd.%d: query %llu: %s port %u proto %u%s seed %u", i,
                  (unsigned long long)qid, k.name, k.port, k.proto,
                  k.secure ? " sips" : "", seed);
        dnsd_resolve_query(&d->res, &k, seed, i, qid);
        return;
    case DNSD_Q_BAD:
        stats_inc(d->st, STAT_DNS_QUERIES);
        stats_inc(d->st, STAT_DNS_BAD_QUERIES);
        log_warn_rl("sipd.%d: query %llu: bad name, transport or length",
                    i, (unsigned long long)qid);
        memset(&bad, 0, sizeof(bad));
        bad.status = MSG_DNS_ERROR;
        dnsd_answer(d, i, qid, &bad);
        return;
    default:
        stats_inc(d->st, STAT_DNS_BAD_QUERIES);
        log_warn_rl("sipd.%d: record type %u (%u bytes) skipped", i,
                    rec->type, rec->len);
        return;
    }
}

/* dnsd_pop - one pass over every input ring; the records handled */
static int dnsd_pop(struct dnsd *d)
{
    const struct ring_rec *rec;
    int i, k, n = 0;

    for (i = 0; i < d->nlinks; i++) {
        for (k = 0; k < DNSD_BATCH; k++) {
            if ((rec = ring_pop(&d->links[i].in)) == NULL)
                break;
            dnsd_query(d, i, rec);
        }
        if (k > 0)
            ring_release(&d->links[i].in);
        n += k;
    }
    return n;
}

/* dnsd_flush - every link's held answers and commit; 1 if any held */
static int dnsd_flush(struct dnsd *d)
{
    int i, held = 0;

    for (i = 0; i < d->nlinks; i++) {
        dnsd_link_flush(&d->links[i]);
        held |= d->links[i].bl_n > 0;
    }
    return held;
}

/* dnsd_may_sleep - announce sleep everywhere; 1 if all still empty */
static int dnsd_may_sleep(struct dnsd *d)
{
    int i, empty = 1;

    for (i = 0; i < d->nlinks; i++)
        if (ring_sleep_prepare(&d->links[i].in) != 0)
            empty = 0;
    return empty;
}

static void dnsd_run(struct srv *s)
{
    struct dnsd *d = s->ctx;
    int busy, held, wait, err;

    while (!s->stop) {
        dnsd_attach_new(d);
        busy = dnsd_pop(d);
        held = dnsd_flush(d);
        if (busy || !dnsd_may_sleep(d))
            wait = 0;
        else
            wait = held ? DNSD_RETRY_MS : -1;
        if ((err = ev_run_once(&s->ev, wait)) < 0)
            log_fatal("event loop: %s", strerror(-err));
        dnsd_flush(d);
    }
}

static int dnsd_init(struct srv *s)
{
    struct dnsd *d = &dnsd_state;
    int err;

    d->srv = s;
    s->ctx = d;
    d->st = shm_stats(&s->shm, s->proc, SHM_TH_MAIN);
    dnsd_attach_new(d);
    if (s->cfg.dns_cache
        && (err = dnsd_cache_init(&d->cache, DNSD_CACHE_MAX)) < 0)
        return err;
    if ((err = dnsd_ares_init(&d->ares, &s->ev, &s->cfg)) < 0)
        return err;
    dnsd_resolve_init(&d->res, d->ares, s->cfg.dns_cache ? &d->cache : NULL,
                      &s->cfg, dnsd_answer, d);
    d->res.st = d->st;
    dnsd_bl_init(&d->bl, s->cfg.dns_blacklist_s);
    d->res.bl = s->cfg.dns_blacklist_s > 0 ? &d->bl : NULL;
    dnsd_bl_size(d);
    d->sweep.fn = dnsd_on_sweep;
    d->sweep.arg = d;
    ev_timer_start(&s->ev, &d->sweep, DNSD_SWEEP_MS);
    log_info("servers %s, cache %s, naptr %d, srv %d, ipv6 %d, timeout "
             "%d ms x %d tries, blacklist %d s, %d sipd",
             dnsd_ares_servers(d->ares), s->cfg.dns_cache ? "on" : "off",
             s->cfg.dns_naptr, s->cfg.dns_srv, s->cfg.dns_try_ipv6,
             s->cfg.dns_timeout_ms, s->cfg.dns_tries,
             s->cfg.dns_blacklist_s, d->nlinks);
    return 0;
}

static void dnsd_fini(struct srv *s)
{
    struct dnsd *d = s->ctx;

    /* Lookups still out end now (ERROR), so their waiters get told. */
    ev_timer_stop(&s->ev, &d->sweep);
    dnsd_ares_free(d->ares);
    d->ares = NULL;
    dnsd_flush(d);
    dnsd_resolve_fini(&d->res);
    if (s->cfg.dns_cache)
        dnsd_cache_fini(&d->cache);
}

/*
 * dnsd_ctl - a broadcast from mid: "COMMAND [ID]". Commands with an ID
 *      are answered to mid (dnsd_mi.c); others are not for dnsd.
 */
static void dnsd_ctl(struct srv *s, const char *msg)
{
    struct dnsd *d = s->ctx;
    char cmd[32];
    unsigned id = 0;
    int n = sscanf(msg, "%31s %u", cmd, &id);

    if (n < 1)
        return;
    if (strcmp(cmd, "dns_cache_flush") == 0) {
        if (s->cfg.dns_cache) {
            log_info("cache flushed: %zu entries dropped", d->cache.n);
            dnsd_cache_flush(&d->cache);
        }
        if (n == 2)
            dnsd_mi_done(s->ctl_push, id, 200, "OK");
    } else if (n == 2 && strcmp(cmd, "dns_cache_dump") == 0) {
        dnsd_mi_cache_dump(s->ctl_push, id, s->cfg.dns_cache ? &d->cache
                                                             : NULL,
                           ev_now_ms());
    } else if (n == 2 && strcmp(cmd, "dns_blacklist_dump") == 0) {
        dnsd_mi_bl_dump(s->ctl_push, id, &d->bl, ev_now_ms());
        dnsd_bl_size(d);
    } else if (n == 2 && strcmp(cmd, "dns_blacklist_flush") == 0) {
        log_info("blacklist flushed: %zu entries dropped", d->bl.n);
        dnsd_bl_flush(&d->bl);
        dnsd_bl_size(d);
        dnsd_mi_done(s->ctl_push, id, 200, "OK");
    }
}

static const struct srv_ops dnsd_ops = {
    .name = "dnsd",
    .stage = STAGE_DNSD,
    .init = dnsd_init,
    .run = dnsd_run,
    .fini = dnsd_fini,
    .ctl = dnsd_ctl,
};

int main(int argc, char **argv)
{
    return srv_main(argc, argv, &dnsd_ops);
}
