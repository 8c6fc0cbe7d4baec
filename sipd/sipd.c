/*
 * SUMMARY
 *    sipd - the SIP stage: parse, route, rewrite
 * DESCRIPTION
 *    sipd/N runs [core] children workers (sipd_worker.c); worker W
 *    consumes netd>sipd.N.W.r and netd>sipd.N.W and produces
 *    sipd.N.W>netd. The main thread (sipd_disp.c) consumes dnsd>sipd.N
 *    and, with a [db] url, dbd>sipd.N; workers and the main thread
 *    produce sipd.N>dnsd and sipd.N>dbd. A timer thread ticks
 *    (sipd_timer.c). See sipd.h for the threads and their queues.
 *
 *    A sipd that dies is restarted by mid; the records netd pushed
 *    meanwhile wait in its workers' rings. The records being processed
 *    when it died were already claimed (ring.h, at-most-once), so they
 *    are not seen again. Parked DNS and DB lookups die with the process: their
 *    requests are retransmitted by the UAC and take the path again; the
 *    alias cache and the address table are rebuilt by the new process.
 * PROTOCOL
 *    netd -> sipd.N.W: MSG_T_SIP_IN; sipd.N.W -> netd: MSG_T_SIP_OUT;
 *    sipd -> dnsd: MSG_T_DNS_QUERY; dnsd -> sipd: MSG_T_DNS_ANSWER;
 *    sipd -> dbd: MSG_T_DB_QUERY; dbd -> sipd: MSG_T_DB_ROWS;
 *    ctl: "db_cache_flush ID", "address_reload ID" (sipd_mi.c).
 * DIAGNOSTICS
 *    Fatal at start: rings, threads. Everything the network sends is
 *    counted and answered or dropped, never fatal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu/urcu-memb.h>

#include "log.h"
#include "sipd.h"

static struct sipd sipd_state;

static void sipd_on_wake(struct ev *ev, struct ev_io *io, uint32_t e)
{
    (void)ev;
    (void)e;
    ring_wake_clear(io->arg);
}

static void sipd_on_tick(struct ev *ev, struct ev_io *io, uint32_t e)
{
    uint64_t v;

    (void)ev;
    (void)e;
    if (read(io->fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
        sipd_disp_tick(io->arg, v);
}

/* sipd_rings_db - sipd.i>dbd and dbd>sipd.i, only with a [db] url */
static int sipd_rings_db(struct sipd *d)
{
    struct srv *s = d->srv;
    int i = s->instance, err;

    if (s->cfg.ndb_url == 0)
        return 0;
    if ((err = shm_ring_attach(&s->shm, SHM_RING(i, SHM_R_DBD_SIPD),
                               RING_CONSUMER, &d->from_dbd)) < 0
        || (err = shm_ring_attach(&s->shm, SHM_RING(i, SHM_R_SIPD_DBD),
                                  RING_PRODUCER, &d->to_dbd)) < 0)
        return err;
    d->dbd_io = (struct ev_io){d->from_dbd.efd, sipd_on_wake, &d->from_dbd};
    if ((err = ev_add(&s->ev, &d->dbd_io, EPOLLIN)) < 0)
        return err;
    d->has_db = 1;
    return 0;
}

static int sipd_rings(struct sipd *d)
{
    struct srv *s = d->srv;
    int i = s->instance, err;

    if (i >= s->shm.hdr->nsipd)
        return -EINVAL;
    /* mid published the worker count netd hashes over: ours */
    if (__atomic_load_n(&s->shm.hdr->children[i], __ATOMIC_ACQUIRE)
        != d->children)
        return -EPROTO;
    if ((err = shm_ring_attach(&s->shm, SHM_RING(i, SHM_R_DNSD_SIPD),
                               RING_CONSUMER, &d->from_dnsd)) < 0
        || (err = shm_ring_attach(&s->shm, SHM_RING(i, SHM_R_SIPD_DNSD),
                                  RING_PRODUCER, &d->to_dnsd)) < 0)
        return err;
    d->dnsd_io = (struct ev_io){d->from_dnsd.efd, sipd_on_wake,
                                &d->from_dnsd};
    if ((err = ev_add(&s->ev, &d->dnsd_io, EPOLLIN)) < 0)
        return err;
    return sipd_rings_db(d);
}

static int sipd_init(struct srv *s)
{
    struct sipd *d = &sipd_state;
    int i, err;

    d->srv = s;
    s->ctx = d;
    d->children = s->cfg.children;
    d->st = shm_stats(&s->shm, s->proc, SHM_TH_MAIN);
    pthread_mutex_init(&d->dns_lock, NULL);
    pthread_mutex_init(&d->db_lock, NULL);
    urcu_memb_register_thread();        /* the main thread uses RCU too */
    if ((err = sipd_rings(d)) < 0) {
        log_error("sipd/%d: rings: %s", s->instance,
                  err == -EPROTO ? "mid published another worker count "
                                   "for this instance" : strerror(-err));
        return err;
    }
    if (d->has_db && s->cfg.db_aliases && s->cfg.db_cache_ttl > 0
        && (d->cache = sipd_cache_new(s->cfg.db_cache_ttl,
                                      SIPD_CACHE_MAX)) == NULL)
        return -ENOMEM;
    stats_set(d->st, STAT_DB_CACHE_ENTRIES, 0);
    stats_set(d->st, STAT_DB_ALLOW_ROWS, 0);
    d->workers = calloc((size_t)d->children, sizeof(*d->workers));
    if (d->workers == NULL)
        return -ENOMEM;
    for (i = 0; i < d->children; i++)
        if ((err = sipd_worker_start(d, i)) < 0)
            return err;
    d->tick_want = 1;                   /* until the first tick looks */
    if ((err = sipd_timer_start(d)) < 0)
        return err;
    d->tick_io = (struct ev_io){d->tick_fd, sipd_on_tick, d};
    if ((err = ev_add(&s->ev, &d->tick_io, EPOLLIN)) < 0)
        return err;
    sipd_disp_left(d);                  /* a bigger predecessor's rings */
    if (d->has_db && s->cfg.db_allow)
        sipd_allow_load_start(d);       /* the first table, at once */
    return 0;
}

static int sipd_work(struct srv *s)
{
    return sipd_disp_pump(s->ctx);
}

static int sipd_may_sleep(struct srv *s)
{
    return sipd_disp_may_sleep(s->ctx);
}

static void sipd_run(struct srv *s)
{
    srv_loop(s, sipd_work, sipd_may_sleep);
}

static void sipd_fini(struct srv *s)
{
    struct sipd *d = s->ctx;
    int i;

    /* The main thread has stopped (we are past its loop): release-store
     * so a worker that sees stop also sees every record queued before. */
    __atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
    sipd_timer_stop(d);
    for (i = 0; i < d->children; i++)
        sipd_worker_wake(&d->workers[i]);
    for (i = 0; i < d->children; i++) {
        pthread_join(d->workers[i].tid, NULL);
        sipd_park_fini(&d->workers[i]);
    }
    /* No reader is left: the table and the cache go, and the gauges
     * of this instance no longer count (a retired one stays at 0). */
    sipd_allow_load_fini(d);
    sipd_cache_free(d->cache);
    d->cache = NULL;
    stats_set(d->st, STAT_DB_CACHE_ENTRIES, 0);
    stats_set(d->st, STAT_DB_ALLOW_ROWS, 0);
    urcu_memb_unregister_thread();
}

static const struct srv_ops sipd_ops = {
    .name = "sipd",
    .stage = STAGE_SIPD,
    .init = sipd_init,
    .run = sipd_run,
    .fini = sipd_fini,
    .ctl = sipd_mi_ctl,
};

int main(int argc, char **argv)
{
    return srv_main(argc, argv, &sipd_ops);
}
