/*
 * SUMMARY
 *    sipd_disp - the dispatcher: shared-memory rings to worker queues
 * DESCRIPTION
 *    Runs in sipd's main thread. Each record popped from netd, dnsd or
 *    dbd is copied once into the queue of the worker that owns it and
 *    the shared ring space is released at once, so netd can go on while
 *    the workers parse. Ownership keeps order: every message of a
 *    Call-ID goes to worker hash % children, which handles its queue in
 *    order; a DNS or DB answer goes to the worker that asked (its index
 *    is in the query id). DB answers to the dispatcher's own query (the
 *    address table, qid >> 48 == SIPD_QID_DISP) are read here
 *    (sipd_allow_load.c).
 *
 *    Ticks: every SIPD_TICK_MS the workers get a tick task (expiry of
 *    parked lookups) and the address table load looks at its deadline;
 *    every second the cache loses its expired entries and the
 *    db:cache_entries gauge is set.
 *
 *    Priority: responses, DNS answers and timer ticks go to the "hi"
 *    queue, new requests to "lo"; a worker empties "hi" first. A reply
 *    and a request of the same call can only both be queued when they
 *    crossed on the wire, where no order between them exists, so this
 *    never reorders what one sender sent.
 *
 *    Age: a message that waited in the ring longer than [stages]
 *    max_queue_ms (netd stamps its receipt; this instance was hung or
 *    restarting) is dropped and counted, not forwarded late: the sender
 *    has retransmitted by then, and a request forwarded seconds late
 *    only confuses the next hop.
 * PROTOCOL
 *    In: MSG_T_SIP_IN, MSG_T_DNS_ANSWER, MSG_T_DB_ROWS. Out (in-process):
 *    the same records, plus SIPD_T_TICK.
 * DIAGNOSTICS
 *    A full worker queue drops the record (sipd:queue_drops, warning
 *    rate-limited): the worker is that far behind, shedding is better
 *    than stalling every other worker. A stale message is dropped
 *    (sipd:stale_drops, warning rate-limited, naming its age).
 */
#include <string.h>

#include "log.h"
#include "sipd.h"

#define SIPD_DISP_BATCH 64

/* sipd_disp_copy - one record into worker w's queue (hi or lo) */
static void sipd_disp_copy(struct sipd *d, struct sipd_worker *w, int hi,
                           const struct ring_rec *rec)
{
    struct ring *q = hi ? &w->q_hi_prod : &w->q_lo_prod;
    void *p = ring_reserve(q, rec->type, rec->len);

    if (p == NULL) {
        stats_inc(d->st, STAT_SIPD_QUEUE_DROPS);
        log_warn_rl("worker %d: queue full: record of %u bytes dropped",
                    w->idx, rec->len);
        return;
    }
    memcpy(p, rec->data, rec->len);
    d->dirty[hi] |= 1ull << w->idx;     /* committed once per batch */
    if (rec->type == MSG_T_SIP_IN)      /* mid: taken - done = in flight */
        stats_inc(d->st, STAT_SIPD_TAKEN);
}

/* sipd_disp_commit - publish every worker queue written in this batch */
static void sipd_disp_commit(struct sipd *d)
{
    int i, hi;

    for (hi = 0; hi < 2; hi++) {
        for (i = 0; d->dirty[hi] != 0 && i < d->children; i++) {
            if (!(d->dirty[hi] & (1ull << i)))
                continue;
            ring_commit(hi ? &d->workers[i].q_hi_prod
                           : &d->workers[i].q_lo_prod);
            d->dirty[hi] &= ~(1ull << i);
        }
    }
}

static void sipd_disp_sip(struct sipd *d, const struct ring_rec *rec,
                          uint32_t now)
{
    const struct msg_sip *m = (const struct msg_sip *)rec->data;
    uint32_t age;
    int hi;

    if (rec->len < sizeof(*m) || m->len > rec->len - sizeof(*m))
        return;                         /* netd never writes these */
    age = now - m->stamp_ms;            /* 0: not stamped */
    if (m->stamp_ms != 0 && age > (uint32_t)d->srv->cfg.stages_max_queue_ms
        && age < UINT32_MAX / 2) {
        stats_inc(d->st, STAT_SIPD_STALE_DROPS);
        log_warn_rl("message from the ring dropped: it waited %u ms "
                    "([stages] max_queue_ms %d)", age,
                    d->srv->cfg.stages_max_queue_ms);
        return;
    }
    /* A response starts with "SIP/", a request with its method. */
    hi = m->len >= 4 && memcmp(m->data, "SIP/", 4) == 0;
    sipd_disp_copy(d, &d->workers[m->hash % (uint32_t)d->children], hi,
                   rec);
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
        sipd_disp_copy(d, &d->workers[w], 1, rec);
    else if (w == SIPD_QID_DISP && rec->type == MSG_T_DB_ROWS)
        sipd_allow_load_rows(d, rec);
}

static int sipd_disp_drain(struct sipd *d, struct ring *r)
{
    const struct ring_rec *rec;
    uint32_t now = ev_stamp_ms();
    int n = 0;

    while (n < SIPD_DISP_BATCH && (rec = ring_pop(r)) != NULL) {
        n++;
        if (rec->type == MSG_T_SIP_IN)
            sipd_disp_sip(d, rec, now);
        else if (rec->type == MSG_T_DNS_ANSWER
                 || rec->type == MSG_T_DB_ROWS)
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
           + (d->has_db ? sipd_disp_drain(d, &d->from_dbd) : 0)
           + sipd_disp_drain(d, &d->from_netd);
}

int sipd_disp_may_sleep(struct sipd *d)
{
    return !ring_sleep_prepare(&d->from_netd)
           && !ring_sleep_prepare(&d->from_dnsd)
           && !(d->has_db && ring_sleep_prepare(&d->from_dbd));
}

void sipd_disp_tick(struct sipd *d)
{
    struct ring_rec tick = {SIPD_T_TICK, MSG_V1, 0};
    int i;

    for (i = 0; i < d->children; i++)
        sipd_disp_copy(d, &d->workers[i], 1, &tick);
    sipd_disp_commit(d);
    sipd_allow_load_tick(d);
    if (++d->ticks % (1000 / SIPD_TICK_MS) != 0 || d->cache == NULL)
        return;
    sipd_cache_sweep(d->cache, ev_now_ms());
    stats_set(d->st, STAT_DB_CACHE_ENTRIES,
              (uint64_t)sipd_cache_count(d->cache));
}
