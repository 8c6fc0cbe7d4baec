/*
 * SUMMARY
 *    sipd_disp - the main thread: answers and ticks to the workers
 * DESCRIPTION
 *    Runs in sipd's main thread. netd writes SIP messages straight into
 *    each worker's rings (sipd_worker.c); what reaches this process
 *    through one ring for all workers comes here and is copied once
 *    into the aux queue of the worker that owns it, and the shared ring
 *    space is released at once: a DNS or DB answer goes to the worker
 *    that asked (its index is in the query id). DB answers to the main
 *    thread's own query (the address table, qid >> 48 == SIPD_QID_DISP)
 *    are read here (sipd_allow_load.c).
 *
 *    Ticks: every SIPD_TICK_MS the workers that have parked lookups get
 *    a tick task (their expiry), the address table load looks at its deadline,
 *    and the rings of worker slots this process does not run are looked
 *    at (sipd_disp_left()); every second the cache loses its expired
 *    entries and the db:cache_entries gauge is set. With none of the
 *    first three to do (sipd_disp_want_ticks()), the timer ticks this
 *    thread once a second (sipd_timer.c).
 *
 *    Leftovers: netd hashes over the worker count mid published for
 *    this instance (shm.h children[i]). A sipd restarted with fewer
 *    [core] children finds messages that netd wrote for the slots it
 *    no longer runs, before netd's next look at the count (a netd tick)
 *    or while this process was down. Each is copied into the aux
 *    queue of worker slot % children, so none is lost and a call whose
 *    slot went away keeps to one worker.
 * PROTOCOL
 *    In: MSG_T_DNS_ANSWER, MSG_T_DB_ROWS; MSG_T_SIP_IN from the rings of
 *    slots past children. Out (in-process): the same records, plus
 *    SIPD_T_TICK.
 * DIAGNOSTICS
 *    A full aux queue drops the record (sipd:queue_drops, warning
 *    rate-limited): the worker is that far behind, shedding is better
 *    than stalling every other worker.
 */
#include <string.h>

#include "log.h"
#include "sipd.h"

#define SIPD_DISP_BATCH 64

/* sipd_disp_copy - one record into worker w's aux queue */
static void sipd_disp_copy(struct sipd *d, struct sipd_worker *w,
                           const struct ring_rec *rec)
{
    void *p = ring_reserve(&w->aux_prod, rec->type, rec->len);

    if (p == NULL) {
        stats_inc(d->st, STAT_SIPD_QUEUE_DROPS);
        log_warn_rl("worker %d: queue full: record of %u bytes dropped",
                    w->idx, rec->len);
        return;
    }
    memcpy(p, rec->data, rec->len);
    d->dirty |= 1ull << w->idx;         /* committed once per batch */
}

/* sipd_disp_commit - publish every aux queue written in this batch */
static void sipd_disp_commit(struct sipd *d)
{
    int i;

    for (i = 0; d->dirty != 0 && i < d->children; i++) {
        if (!(d->dirty & (1ull << i)))
            continue;
        ring_commit(&d->workers[i].aux_prod);
        d->dirty &= ~(1ull << i);
    }
}

/* sipd_disp_answer - a DNS or DB answer: to the worker that asked */
static void sipd_disp_answer(struct sipd *d, const struct ring_rec *rec)
{
    uint64_t qid;
    uint32_t w;

    if (rec->len < sizeof(qid))
        return;
    memcpy(&qid, rec->data, sizeof(qid));   /* both records start so */
    w = (uint32_t)(qid >> 48);
    if (w < (uint32_t)d->children)
        sipd_disp_copy(d, &d->workers[w], rec);
    else if (w == SIPD_QID_DISP && rec->type == MSG_T_DB_ROWS)
        sipd_allow_load_rows(d, rec);
}

static int sipd_disp_drain(struct sipd *d, struct ring *r)
{
    const struct ring_rec *rec;
    int n = 0;

    while (n < SIPD_DISP_BATCH && (rec = ring_pop(r)) != NULL) {
        n++;
        if (rec->type == MSG_T_DNS_ANSWER || rec->type == MSG_T_DB_ROWS)
            sipd_disp_answer(d, rec);
    }
    if (n > 0) {
        sipd_disp_commit(d);
        ring_release(r);
    }
    return n;
}

int sipd_disp_pump(struct sipd *d)
{
    return sipd_disp_drain(d, &d->from_dnsd)
           + (d->has_db ? sipd_disp_drain(d, &d->from_dbd) : 0);
}

int sipd_disp_may_sleep(struct sipd *d)
{
    return !ring_sleep_prepare(&d->from_dnsd)
           && !(d->has_db && ring_sleep_prepare(&d->from_dbd));
}

/* sipd_disp_left_ring - move what ring r holds to worker slot % children */
static void sipd_disp_left_ring(struct sipd *d, struct ring *r, int slot)
{
    struct sipd_worker *w = &d->workers[slot % d->children];
    const struct ring_rec *rec;
    int n = 0;

    while ((rec = ring_pop(r)) != NULL) {
        if (rec->type == MSG_T_SIP_IN)
            sipd_disp_copy(d, w, rec);
        if (++n % SIPD_DISP_BATCH == 0) {
            sipd_disp_commit(d);
            ring_release(r);
        }
    }
    if (n > 0) {
        sipd_disp_commit(d);
        ring_release(r);
        log_notice_rl("%s: %d records of a worker this sipd does not run "
                      "handed to worker %d", r->shm->name, n, w->idx);
    }
}

void sipd_disp_left(struct sipd *d)
{
    struct srv *s = d->srv;
    int i = s->instance, slot, k;

    for (slot = d->children; slot < CFG_MAX_CHILDREN; slot++) {
        if (!(d->left_on & (1ull << slot))) {
            /* formatted when an earlier sipd/i had that many workers */
            if (shm_ring_attach(&s->shm, SHM_WRING(i, slot, SHM_W_REQ),
                                RING_CONSUMER, &d->left[slot][0]) < 0
                || shm_ring_attach(&s->shm,
                                   SHM_WRING(i, slot, SHM_W_REPLY),
                                   RING_CONSUMER, &d->left[slot][1]) < 0)
                break;                  /* and none after it */
            d->left_on |= 1ull << slot;
        }
        for (k = 1; k >= 0; k--)        /* replies first */
            sipd_disp_left_ring(d, &d->left[slot][k], slot);
    }
}

/*
 * sipd_disp_want_ticks - tell the timer whether this thread needs every
 *    tick: while the address table loads (its deadline, its retry) and
 *    while rings of slots past children are attached (leftovers).
 */
void sipd_disp_want_ticks(struct sipd *d)
{
    const struct sipd_allow_load *l = &d->load;
    int want = d->left_on != 0
               || (d->has_db && d->srv->cfg.db_allow
                   && (l->qid != 0 || !l->loaded));

    __atomic_store_n(&d->tick_want, want, __ATOMIC_RELAXED);
}

void sipd_disp_tick(struct sipd *d, uint64_t n)
{
    struct ring_rec tick = {SIPD_T_TICK, MSG_V1, 0};
    uint64_t sec = d->ticks / (1000 / SIPD_TICK_MS);
    int i;

    /* A worker with nothing parked has nothing to expire: no wake-up
     * for it (an idle proxy's workers sleep). One that parks right
     * after this look gets the next tick, SIPD_TICK_MS later. */
    for (i = 0; i < d->children; i++)
        if (__atomic_load_n(&d->workers[i].npend, __ATOMIC_RELAXED) > 0)
            sipd_disp_copy(d, &d->workers[i], &tick);
    sipd_disp_commit(d);
    sipd_disp_left(d);
    sipd_allow_load_tick(d);
    sipd_disp_want_ticks(d);
    d->ticks += n;
    if (d->ticks / (1000 / SIPD_TICK_MS) == sec || d->cache == NULL)
        return;
    sipd_cache_sweep(d->cache, ev_now_ms());
    stats_set(d->st, STAT_DB_CACHE_ENTRIES,
              (uint64_t)sipd_cache_count(d->cache));
}
