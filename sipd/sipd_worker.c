/*
 * SUMMARY
 *    sipd_worker - the worker threads: route each message of its queue
 * DESCRIPTION
 *    A worker owns everything it touches while it routes: its struct
 *    sip_msg (parsed in place, changed header by header), its output
 *    buffer, its stats slot and its parked DNS lookups. The only shared
 *    things are the two producer sides of sipd->netd and sipd->dnsd,
 *    taken under a process-local mutex for the copy of one record;
 *    commits are batched (one per batch of work), so netd is woken at
 *    most once per batch, and not at all while it is busy.
 *
 *    Records are processed in place in the worker's queue and released
 *    after the batch. A worker blocks in poll() on its two queue
 *    eventfds only after both queues said they are empty.
 *
 *    A MSG_T_SIP_IN with MSG_F_SEND_FAILED is netd saying a send failed
 *    (msg.h): sipd_dns_failed() tells dnsd and tries the next target.
 *    A request the router wants an alias for ([route] db_aliases) goes
 *    to sipd_db_lookup(); DB answers to sipd_db_answer().
 *
 *    Each worker is a registered thread of liburcu's urcu-memb flavour
 *    (the alias cache and the address table are read under RCU).
 * PROTOCOL
 *    In (in-process queue): MSG_T_SIP_IN (also MSG_F_SEND_FAILED),
 *    MSG_T_DNS_ANSWER, MSG_T_DB_ROWS, SIPD_T_TICK.
 *    Out: MSG_T_SIP_OUT to netd, MSG_T_DNS_QUERY and MSG_T_DNS_FAILED to
 *    dnsd (sipd_dns.c), MSG_T_DB_QUERY to dbd (sipd_db.c), written and
 *    committed through sipd_send.c.
 * DIAGNOSTICS
 *    Fatal at start: allocation, eventfd, thread creation. A full
 *    sipd->netd ring drops the message (ring:out_full_drops,
 *    sipd_send.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

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

static int sipd_worker_batch(struct sipd_worker *w)
{
    const struct ring_rec *rec;
    int n = 0, nsip = 0;

    while (n < SIPD_WORKER_BATCH) {
        if ((rec = ring_pop(&w->q_hi)) == NULL
            && (rec = ring_pop(&w->q_lo)) == NULL)
            break;
        nsip += rec->type == MSG_T_SIP_IN;
        sipd_worker_task(w, rec);
        n++;
    }
    if (n > 0) {
        ring_release(&w->q_hi);
        ring_release(&w->q_lo);
        sipd_send_commit(w);
        /* Done once its output is published: what a SIGKILL catches
         * before this line is sipd:taken - sipd:done (mid_spawn.c), an
         * upper bound: a kill between the commit and this line counts
         * a published batch (SIPD_WORKER_BATCH at most) as lost too. */
        stats_add(w->st, STAT_SIPD_DONE, (uint64_t)nsip);
    }
    return n;
}

static void sipd_worker_sleep(struct sipd_worker *w)
{
    /* Both queues share one eventfd: one poll fd, one read per wake. */
    struct pollfd pfd = {w->q_hi.efd, POLLIN, 0};

    if (ring_sleep_prepare(&w->q_hi) || ring_sleep_prepare(&w->q_lo)) {
        ring_awake(&w->q_hi);
        ring_awake(&w->q_lo);
        return;
    }
    /* The timeout only bounds how long a stop request can go unseen. */
    poll(&pfd, 1, 1000);
    ring_wake_clear(&w->q_hi);          /* drains the shared eventfd */
    ring_awake(&w->q_lo);
}

/*
 * sipd_worker_main - work until stopped, then finish the queue: the
 * dispatcher stops first, and what it already copied here (and released
 * from the shared ring) is still routed, so a stop or a rolling restart
 * loses nothing that was handed to this process.
 */
static void *sipd_worker_main(void *arg)
{
    struct sipd_worker *w = arg;

    urcu_memb_register_thread();
    for (;;) {
        if (sipd_worker_batch(w) > 0)
            continue;
        if (__atomic_load_n(&w->sipd->stop, __ATOMIC_ACQUIRE))
            break;
        sipd_worker_sleep(w);
    }
    urcu_memb_unregister_thread();
    return NULL;
}

void sipd_worker_wake(struct sipd_worker *w)
{
    uint64_t one = 1;

    (void)!write(w->q_hi.efd, &one, sizeof(one));
}

/* sipd_worker_queue - a private ring on eventfd efd, both sides */
static int sipd_worker_queue(struct sipd_worker *w, int k, size_t bytes,
                             int efd, struct ring *prod, struct ring *cons)
{
    int err;

    w->q_mem[k] = aligned_alloc(64, ring_shm_bytes(bytes));
    if (w->q_mem[k] == NULL)
        return -ENOMEM;
    if ((err = ring_format(w->q_mem[k], bytes, k ? "lo" : "hi")) < 0)
        return err;
    if ((err = ring_attach(prod, w->q_mem[k], efd, RING_PRODUCER)) < 0)
        return err;
    return ring_attach(cons, w->q_mem[k], efd, RING_CONSUMER);
}

int sipd_worker_start(struct sipd *d, int idx)
{
    struct sipd_worker *w = &d->workers[idx];
    struct srv *s = d->srv;
    int err, efd;

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
    if ((efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        return -errno;
    if ((err = sipd_worker_queue(w, 0, SIPD_Q_HI_BYTES, efd, &w->q_hi_prod,
                                 &w->q_hi)) < 0
        || (err = sipd_worker_queue(w, 1, SIPD_Q_LO_BYTES, efd,
                                    &w->q_lo_prod, &w->q_lo)) < 0)
        return err;
    if ((err = pthread_create(&w->tid, NULL, sipd_worker_main, w)) != 0)
        return -err;
    return 0;
}
