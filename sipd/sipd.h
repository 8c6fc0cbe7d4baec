#ifndef SIPD_H
#define SIPD_H
/*
 * SUMMARY
 *    sipd - private interfaces of the SIP stage
 * DESCRIPTION
 *    Threads of one sipd process:
 *
 *      dispatcher (main)  pops netd->sipd and dnsd->sipd, copies each
 *                         record into the queue of the worker that owns
 *                         it: hash(Call-ID) % children, or the worker
 *                         that asked the DNS question
 *      worker x children  parse, route, rewrite; push to sipd->netd and
 *                         sipd->dnsd under a process-local mutex
 *      timer              ticks every SIPD_TICK_MS through the dispatcher
 *
 *    A worker's queue is two in-process SPSC rings (the ring module on
 *    private memory, with its own eventfds): "hi" for replies, DNS
 *    answers and ticks, "lo" for new requests, so completions are never
 *    stuck behind a burst of new work (the seed's priorities).
 */
#include <pthread.h>
#include <stdint.h>

#include "msg.h"
#include "ring.h"
#include "sip_msg.h"
#include "sipd_route.h"
#include "srv.h"
#include "stats.h"

#define SIPD_T_TICK 100                 /* in-process record: timer tick */
#define SIPD_Q_HI_BYTES (1u << 20)
#define SIPD_Q_LO_BYTES (4u << 20)
#define SIPD_TICK_MS 100
#define SIPD_PEND_SLOTS 4096            /* parked DNS lookups per worker */
#define SIPD_OUT_MAX (MSG_SIP_MAX + 1024)

struct sipd;

/* A message waiting for dnsd. Owned by one worker. */
struct sipd_pend {
    uint64_t qid;
    int64_t deadline_ms;
    struct sipd_route_out out;          /* out.buf points at bytes[] */
    uint32_t in_len;                    /* copy of the received record */
    char *in;                           /* struct msg_sip + data */
    char bytes[];                       /* the message to send */
};

struct sipd_worker {
    struct sipd *sipd;
    int idx;
    pthread_t tid;
    struct ring q_hi_prod, q_hi;        /* dispatcher side, worker side */
    struct ring q_lo_prod, q_lo;
    void *q_mem[2];
    struct stats_slot *st;
    struct sipd_route_env env;
    struct sip_msg *msg;
    char *out_buf;
    char *fail_buf;                     /* a 503 before it is relayed */
    uint64_t qseq;
    struct sipd_pend *pend[SIPD_PEND_SLOTS];
    int npend;
    int dirty_net;                      /* pushed, not committed */
    int dirty_dns;
};

struct sipd {
    struct srv *srv;
    int children;
    struct sipd_worker *workers;
    struct ring from_netd;              /* dispatcher: consumer */
    struct ring from_dnsd;
    struct ring to_netd;                /* workers: producer, under lock */
    struct ring to_dnsd;
    pthread_mutex_t net_lock;
    pthread_mutex_t dns_lock;
    struct ev_io netd_io, dnsd_io, tick_io;
    int tick_fd;
    pthread_t timer_tid;
    volatile int stop;
    struct stats_slot *st;              /* dispatcher's */
    uint64_t dirty[2];                  /* worker queues to commit: lo, hi */
};

/* sipd_disp.c */
extern int sipd_disp_pump(struct sipd *d);
extern int sipd_disp_may_sleep(struct sipd *d);
extern void sipd_disp_tick(struct sipd *d);

/* sipd_worker.c */
extern int sipd_worker_start(struct sipd *d, int idx);
extern void sipd_worker_wake(struct sipd_worker *w);

/* sipd_send.c */
extern void sipd_send_netd(struct sipd_worker *w,
                           const struct sipd_route_out *out);
extern int sipd_send_dnsd(struct sipd_worker *w, uint64_t qid,
                          uint32_t hash, const struct sipd_route_out *out);
extern void sipd_send_commit(struct sipd_worker *w);
extern void sipd_send_dns_failed(struct sipd_worker *w,
                                 const struct msg_sip *in);

/* sipd_timer.c */
extern int sipd_timer_start(struct sipd *d);
extern void sipd_timer_stop(struct sipd *d);

/* sipd_dns.c */
extern void sipd_dns_act(struct sipd_worker *w, const struct msg_sip *in,
                         int v, const struct sipd_route_out *out);
extern void sipd_dns_answer(struct sipd_worker *w,
                            const struct ring_rec *rec);
extern void sipd_dns_expire(struct sipd_worker *w);
extern void sipd_dns_fini(struct sipd_worker *w);
extern void sipd_dns_failed(struct sipd_worker *w, const struct msg_sip *in);

#endif
