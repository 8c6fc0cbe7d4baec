/*
 * SUMMARY
 *    sipd_worker - the worker threads: route each message of its rings
 * DESCRIPTION
 *    A worker owns everything it touches while it routes: its rings to
 *    and from netd (netd hashed every Call-ID it gets to this worker, so
 *    a call's messages are routed in the order they arrived), its
 *    struct sip_msg (parsed in place, changed header by header), its
 *    output buffer, its stats slot and its parked DNS and DB lookups.
 *    The only shared things are the producer sides of sipd->dnsd and
 *    sipd->dbd, taken under a process-local mutex for the copy of one
 *    record; commits are batched (one per batch of work), so netd is
 *    woken at most once per batch, and not at all while it is busy.
 *
 *    Each turn takes up to SIPD_WORKER_BATCH records, each from the
 *    first of these that has one: the aux queue (DNS and DB answers,
 *    ticks, leftovers; filled by the main thread), the reply ring
 *    (responses, failed sends), the request ring. Records are processed
 *    in place in ring memory and released after the batch. A message
 *    that waited in the rings longer than [stages] max_queue_ms (netd
 *    stamps its receipt; this instance was hung or restarting) is
 *    dropped and counted, not forwarded late: the sender has
 *    retransmitted by then, and a request forwarded seconds late only
 *    confuses the next hop.
 *
 *    A worker that found all three empty sleeps on its bell (a futex
 *    word in the shared segment, ring.h; sipd_worker_sleep()).
 *
 *    A MSG_T_SIP_IN with MSG_F_SEND_FAILED is netd saying a send failed
 *    (msg.h): sipd_dns_failed() tells dnsd and tries the next target.
 *    A request the router wants an alias for ([route] db_aliases) goes
 *    to sipd_db_lookup(); DB answers to sipd_db_answer().
 *
 *    Each worker is a registered thread of liburcu's urcu-memb flavour
 *    (the alias cache and the address table are read under RCU).
 *
 *    Stop: once the main thread set "stop", a worker goes on with its
 *    rings until they are empty, for at most SRV_DRAIN_MS (netd may go
 *    on writing to an instance that is the only one), so a stop or a
 *    rolling restart loses nothing that netd handed to this worker.
 * PROTOCOL
 *    In: MSG_T_SIP_IN (also MSG_F_SEND_FAILED) from netd; in-process:
 *    MSG_T_DNS_ANSWER, MSG_T_DB_ROWS, SIPD_T_TICK, MSG_T_SIP_IN.
 *    Out: MSG_T_SIP_OUT to netd, MSG_T_DNS_QUERY and MSG_T_DNS_FAILED to
 *    dnsd (sipd_dns.c), MSG_T_DB_QUERY to dbd (sipd_db.c), written and
 *    committed through sipd_send.c.
 * DIAGNOSTICS
 *    Fatal at start: allocation, rings, thread creation. A full ring to
 *    netd drops the message (ring:out_full_drops, sipd_send.c). A stale
 *    message is dropped (sipd:stale_drops, warning rate-limited, naming
 *    its age).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-memb.h>

#include "log.h"
#include "sipd.h"

#define SIPD_WORKER_BATCH 32

static void sipd_worker_sip(struct sipd_worker *w, const struct ring_rec *rec)
{
    const struct msg_sip *in = (const struct msg_sip *)rec->data;
    struct sipd_route_out out;
    int v;

    if (rec->len < sizeof(*in) || in->len > rec->len - sizeof(*in))
        return;
    if (in->flags & MSG_F_SEND_FAILED) {    /* rare: netd could not send */
        sipd_dns_failed(w, in);
        return;
    }
    memset(&out, 0, offsetof(struct sipd_route_out, name));
    out.name[0] = 0;
    out.buf = w->out_buf;
    out.cap = SIPD_OUT_MAX;
    v = sipd_route(&w->env, w->msg, in, in->data, in->len, &out);
    if (v == SIPD_V_LOOKUP)
        sipd_db_lookup(w, in, &out);
    else
        sipd_dns_act(w, in, v, &out);
}

static void sipd_worker_task(struct sipd_worker *w, const struct ring_rec *r)
{
    switch (r->type) {
    case MSG_T_SIP_IN:
        sipd_worker_sip(w, r);
        break;
    case MSG_T_DNS_ANSWER:
        sipd_dns_answer(w, r);
        break;
    case MSG_T_DB_ROWS:
        sipd_db_answer(w, r);
        break;
    case SIPD_T_TICK:
        sipd_park_expire(w);
        break;
    default:
        break;
    }
}

/* sipd_worker_stale - 1 when in waited longer than [stages]
 * max_queue_ms in the rings (counted, warned): drop it */
static int sipd_worker_stale(struct sipd_worker *w,
                             const struct msg_sip *in, uint32_t now)
{
    uint32_t age = now - in->stamp_ms;  /* 0: not stamped */
    int max = w->sipd->srv->cfg.stages_max_queue_ms;

    if (in->stamp_ms == 0 || age <= (uint32_t)max || age >= UINT32_MAX / 2)
        return 0;
    stats_inc(w->st, STAT_SIPD_STALE_DROPS);
    log_warn_rl("message from the ring dropped: it waited %u ms "
                "([stages] max_queue_ms %d)", age, max);
    return 1;
}

/* sipd_worker_pop - the next record, by priority (DESCRIPTION) */
static const struct ring_rec *sipd_worker_pop(struct sipd_worker *w)
{
    const struct ring_rec *rec;

    if ((rec = ring_pop(&w->aux)) != NULL
        || (rec = ring_pop(&w->reply)) != NULL)
        return rec;
    return ring_pop(&w->req);
}

static int sipd_worker_batch(struct sipd_worker *w)
{
    const struct ring_rec *rec;
    const struct msg_sip *in;
    uint32_t now = ev_stamp_ms();
    int n = 0, nsip = 0;

    while (n < SIPD_WORKER_BATCH && (rec = sipd_worker_pop(w)) != NULL) {
        n++;
        if (rec->type == MSG_T_SIP_IN) {
            in = (const struct msg_sip *)rec->data;
            nsip++;
            /* mid: taken - done = in flight when a kill catches us */
            stats_inc(w->st, STAT_SIPD_TAKEN);
            if (rec->len >= sizeof(*in) && sipd_worker_stale(w, in, now))
                continue;
        }
        sipd_worker_task(w, rec);
    }
    if (n > 0) {
        ring_release(&w->aux);
        ring_release(&w->reply);
        ring_release(&w->req);
        sipd_send_commit(w);
        /* Done once its output is published: what a SIGKILL catches
         * before this line is sipd:taken - sipd:done (mid_spawn.c), an
         * upper bound: a kill between the commit and this line counts
         * a published batch (SIPD_WORKER_BATCH at most) as lost too. */
        stats_add(w->st, STAT_SIPD_DONE, (uint64_t)nsip);
    }
    return n;
}

/* sipd_worker_awake - "sleeping" off on the three rings */
static void sipd_worker_awake(struct sipd_worker *w)
{
    ring_awake(&w->aux);
    ring_awake(&w->reply);
    ring_awake(&w->req);
}

static void sipd_worker_sleep(struct sipd_worker *w)
{
    uint32_t seen = ring_bell_get(w->bell);

    if (ring_sleep_prepare(&w->aux) || ring_sleep_prepare(&w->reply)
        || ring_sleep_prepare(&w->req)) {
        sipd_worker_awake(w);
        return;
    }
    /* The timeout only bounds how long a stop request can go unseen. */
    ring_bell_wait(w->bell, seen, 1000);
    sipd_worker_awake(w);
}

/*
 * sipd_worker_main - work until stopped, then finish the rings for at
 * most SRV_DRAIN_MS (DESCRIPTION).
 */
static void *sipd_worker_main(void *arg)
{
    struct sipd_worker *w = arg;
    int64_t deadline = 0;

    urcu_memb_register_thread();
    for (;;) {
        if (__atomic_load_n(&w->sipd->stop, __ATOMIC_ACQUIRE)) {
            if (deadline == 0)
                deadline = ev_now_ms() + SRV_DRAIN_MS;
            if (sipd_worker_batch(w) == 0 || ev_now_ms() >= deadline)
                break;
            continue;
        }
        if (sipd_worker_batch(w) > 0)
            continue;
        sipd_worker_sleep(w);
    }
    urcu_memb_unregister_thread();
    return NULL;
}

void sipd_worker_wake(struct sipd_worker *w)
{
    ring_bell_ring(w->bell);
}

/* sipd_worker_rings - the three rings of slot idx, and the aux queue */
static int sipd_worker_rings(struct sipd_worker *w)
{
    struct srv *s = w->sipd->srv;
    int i = s->instance, err;

    w->bell = shm_bell(&s->shm, i, w->idx);
    if ((err = shm_ring_attach(&s->shm, SHM_WRING(i, w->idx, SHM_W_REPLY),
                               RING_CONSUMER, &w->reply)) < 0
        || (err = shm_ring_attach(&s->shm, SHM_WRING(i, w->idx, SHM_W_REQ),
                                  RING_CONSUMER, &w->req)) < 0
        || (err = shm_ring_attach(&s->shm, SHM_WRING(i, w->idx, SHM_W_OUT),
                                  RING_PRODUCER, &w->out)) < 0)
        return err;
    w->aux_mem = aligned_alloc(64, ring_shm_bytes(SIPD_AUX_BYTES));
    if (w->aux_mem == NULL)
        return -ENOMEM;
    if ((err = ring_format(w->aux_mem, SIPD_AUX_BYTES, "aux")) < 0
        || (err = ring_attach(&w->aux_prod, w->aux_mem, -1,
                              RING_PRODUCER)) < 0
        || (err = ring_attach(&w->aux, w->aux_mem, -1, RING_CONSUMER)) < 0)
        return err;
    ring_bell(&w->aux_prod, w->bell);
    ring_bell(&w->aux, w->bell);
    return 0;
}

int sipd_worker_start(struct sipd *d, int idx)
{
    struct sipd_worker *w = &d->workers[idx];
    struct srv *s = d->srv;
    int err;

    w->sipd = d;
    w->idx = idx;
    w->st = shm_stats(&s->shm, s->proc, SHM_TH_WORKER(idx));
    w->env.cfg = &s->cfg;
    w->env.st = w->st;
    sipd_db_env(w);
    w->msg = malloc(sizeof(*w->msg));
    w->out_buf = malloc(SIPD_OUT_MAX);
    w->fail_buf = malloc(SIPD_OUT_MAX);
    if (w->msg == NULL || w->out_buf == NULL || w->fail_buf == NULL)
        return -ENOMEM;
    sip_msg_init(w->msg);
    if ((err = sipd_worker_rings(w)) < 0)
        return err;
    if ((err = pthread_create(&w->tid, NULL, sipd_worker_main, w)) != 0)
        return -err;
    return 0;
}
