#ifndef SIPD_H
#define SIPD_H
/*
 * SUMMARY
 *    sipd - private interfaces of the SIP stage
 * DESCRIPTION
 *    Threads of one sipd process:
 *
 *      worker x children  worker w pops its own rings from netd
 *                         (netd>sipd.i.w.r, responses, first;
 *                         netd>sipd.i.w, requests: netd hashed the
 *                         Call-ID to this worker) and its aux queue;
 *                         parses, routes, rewrites; pushes to its own
 *                         ring to netd (sipd.i.w>netd, no lock), and to
 *                         sipd->dnsd and sipd->dbd under a process-local
 *                         mutex each; sleeps on its bell (ring.h)
 *      main               pops dnsd->sipd and dbd->sipd and copies each
 *                         answer into the aux queue of the worker that
 *                         asked; ticks the workers; hands the records
 *                         left in the rings of worker slots this process
 *                         does not run ([core] children shrank) to the
 *                         worker of slot % children; loads the address
 *                         table ([route] db_allow) and answers the MI
 *                         (sipd_mi.c)
 *      timer              ticks every SIPD_TICK_MS through the main thread
 *                         (once a second when idle)
 *
 *    Shared between the threads without a lock, through liburcu (the
 *    urcu-memb flavour; every thread registers): the alias cache
 *    (sipd_cache.c, an rculfhash) and the address table (sipd_allow.c,
 *    an RCU-published pointer the main thread swaps).
 *
 *    Priorities (the seed's): a worker takes its aux queue (DNS and DB
 *    answers, ticks; an in-process SPSC ring on private memory) first,
 *    then responses, then requests, so completions are never stuck
 *    behind a burst of new work. All three wake it on one bell.
 */
#include <pthread.h>
#include <stdint.h>

#include "db.h"
#include "msg.h"
#include "ring.h"
#include "sip_msg.h"
#include "sipd_route.h"
#include "srv.h"
#include "stats.h"

#define SIPD_T_TICK 100                 /* in-process record: timer tick */
#define SIPD_AUX_BYTES (1u << 20)
#define SIPD_TICK_MS 100
#define SIPD_PEND_SLOTS 4096            /* parked lookups per worker */
#define SIPD_OUT_MAX (MSG_SIP_MAX + 1024)
#define SIPD_QID_DISP 0xffffu           /* qid >> 48 of the main thread's
                                         * own queries (address table) */
#define SIPD_DB_SLACK_MS 1000           /* dbd silent past [db] timeout_ms
                                         * plus this: gone, answer 503 */

struct sipd;
struct sipd_cache;
struct sipd_allow;

#define SIPD_PEND_DNS 1                 /* dnsd resolves out.name */
#define SIPD_PEND_DB 2                  /* dbd looks an alias up */

/*
 * A message parked while dnsd or dbd answers (sipd_park.c). Owned by one
 * worker. The query id carries the worker index in its top 16 bits and
 * the slot in the low ones.
 */
struct sipd_pend {
    uint64_t qid;
    int kind;                           /* SIPD_PEND_* */
    uint32_t seq;                       /* DB: next answer record */
    int64_t deadline_ms;
    struct sipd_route_out out;          /* DNS: out.buf points at bytes[] */
    struct sipd_alias alias;            /* DNS: the alias applied, for a
                                         * request routed again */
    uint32_t in_len;                    /* copy of the received record */
    char *in;                           /* struct msg_sip + data */
    size_t nbytes;
    char bytes[];                       /* DNS: the message to send;
                                         * DB: the key, user NUL host */
};

struct sipd_worker {
    struct sipd *sipd;
    int idx;
    pthread_t tid;
    struct ring reply;                  /* netd>sipd.i.w.r: consumer */
    struct ring req;                    /* netd>sipd.i.w: consumer */
    struct ring out;                    /* sipd.i.w>netd: producer */
    struct ring aux_prod, aux;          /* main thread's side, ours */
    void *aux_mem;
    uint32_t *bell;                     /* shm: all three wake us here */
    struct stats_slot *st;
    struct sipd_route_env env;
    struct sip_msg *msg;
    char *out_buf;
    char *fail_buf;                     /* a 503 before it is relayed */
    uint64_t qseq;
    struct sipd_pend *pend[SIPD_PEND_SLOTS];
    int npend;                          /* written by the worker only,
                                         * atomically: the main thread
                                         * reads it (sipd_disp_tick) */
    int dirty_net;                      /* pushed to out, not committed */
    int dirty_dns;
    int dirty_db;
    struct sipd_alias alias;            /* the cache's answer, for one
                                         * sipd_route() */
};

/* The main thread's load of the address table (sipd_allow_load.c). */
#define SIPD_MI_WAIT 8                  /* MI address_reload waiting */

struct sipd_allow_load {
    uint64_t qid;                       /* query in flight; 0: none */
    uint32_t seq;                       /* next record expected */
    int64_t deadline_ms;                /* of the query in flight */
    int64_t retry_ms;                   /* never loaded: next try */
    struct sipd_allow_row *rows;        /* collected so far */
    int nrows;
    int cap;
    int skipped;                        /* rows that did not parse */
    int loaded;                         /* a table was published */
    uint64_t qseq;
    uint32_t mi[SIPD_MI_WAIT];          /* MI requests to answer */
    int nmi;
};

struct sipd {
    struct srv *srv;
    int children;
    struct sipd_worker *workers;
    struct ring from_dnsd;              /* main thread: consumer */
    struct ring from_dbd;               /* [db] url set: has_db */
    struct ring to_dnsd;                /* workers: producer, under lock */
    struct ring to_dbd;                 /* workers and main thread */
    int has_db;
    pthread_mutex_t dns_lock;
    pthread_mutex_t db_lock;
    struct ev_io dnsd_io, dbd_io, tick_io;
    struct ring left[CFG_MAX_CHILDREN][2];  /* main thread: rings of the
                                         * slots >= children (req, reply) */
    uint64_t left_on;                   /* bit w: left[w] attached */
    int tick_fd;
    pthread_t timer_tid;
    volatile int stop;
    struct stats_slot *st;              /* main thread's */
    uint64_t dirty;                     /* aux queues to commit */
    uint64_t ticks;                     /* SIPD_TICK_MS since start */
    int tick_want;                      /* main thread: every tick, not
                                         * once a second; timer reads */
    struct sipd_cache *cache;           /* [db] cache_ttl > 0, else NULL */
    struct sipd_allow *allow;           /* RCU: rcu_dereference() it */
    int allow_warned;                   /* "not loaded yet" said once */
    struct sipd_allow_load load;        /* main thread only */
};

/* sipd_disp.c (main thread) */
extern int sipd_disp_pump(struct sipd *d);
extern int sipd_disp_may_sleep(struct sipd *d);
extern void sipd_disp_tick(struct sipd *d, uint64_t n);
extern void sipd_disp_want_ticks(struct sipd *d);
extern void sipd_disp_left(struct sipd *d);

/* sipd_worker.c */
extern int sipd_worker_start(struct sipd *d, int idx);
extern void sipd_worker_wake(struct sipd_worker *w);

/* sipd_send.c */
extern void sipd_send_netd(struct sipd_worker *w,
                           const struct sipd_route_out *out);
extern int sipd_send_dnsd(struct sipd_worker *w, uint64_t qid,
                          uint32_t hash, const struct sipd_route_out *out);
extern int sipd_send_dbd(struct sipd *d, uint64_t qid, int query,
                         int nparams, const struct db_val *params);
extern void sipd_send_dbd_commit(struct sipd *d);
extern void sipd_send_commit(struct sipd_worker *w);
extern void sipd_send_dns_failed(struct sipd_worker *w,
                                 const struct msg_sip *in);

/* sipd_timer.c */
extern int sipd_timer_start(struct sipd *d);
extern void sipd_timer_stop(struct sipd *d);

/* sipd_park.c */
extern struct sipd_pend *sipd_park_new(struct sipd_worker *w, int kind,
                                       const struct msg_sip *in,
                                       size_t nbytes, int wait_ms);
extern struct sipd_pend *sipd_park_find(struct sipd_worker *w, uint64_t qid,
                                        int kind);
extern void sipd_park_free(struct sipd_worker *w, struct sipd_pend *p);
extern void sipd_park_expire(struct sipd_worker *w);
extern void sipd_park_fini(struct sipd_worker *w);
extern int sipd_park_is_reply(const struct msg_sip *in);

/* sipd_dns.c */
extern void sipd_dns_act(struct sipd_worker *w, const struct msg_sip *in,
                         int v, const struct sipd_route_out *out);
extern void sipd_dns_answer(struct sipd_worker *w,
                            const struct ring_rec *rec);
extern void sipd_dns_expired(struct sipd_worker *w, struct sipd_pend *p);
extern void sipd_dns_failed(struct sipd_worker *w, const struct msg_sip *in);

/* sipd_db.c */
extern void sipd_db_env(struct sipd_worker *w);
extern void sipd_db_lookup(struct sipd_worker *w, const struct msg_sip *in,
                           const struct sipd_route_out *out);
extern void sipd_db_answer(struct sipd_worker *w, const struct ring_rec *rec);
extern void sipd_db_expired(struct sipd_worker *w, struct sipd_pend *p);

/* sipd_cache.c: the alias answers kept ([db] cache_ttl) */
#define SIPD_CACHE_MAX 65536            /* entries per sipd process */

extern struct sipd_cache *sipd_cache_new(int ttl_s, long max);
extern int sipd_cache_get(struct sipd_cache *c, struct str user,
                          struct str host, int64_t now_ms,
                          struct sipd_alias *a);
extern int sipd_cache_put(struct sipd_cache *c, struct str user,
                          struct str host, const struct sipd_alias *a,
                          int64_t now_ms);
extern long sipd_cache_flush(struct sipd_cache *c);
extern long sipd_cache_sweep(struct sipd_cache *c, int64_t now_ms);
extern long sipd_cache_count(const struct sipd_cache *c);
extern void sipd_cache_free(struct sipd_cache *c);

/* sipd_allow.c: the address table ([route] db_allow) */
#define SIPD_ALLOW_MAX (1 << 20)        /* rows one table holds */

struct sipd_allow_row {
    uint8_t family;                     /* AF_INET or AF_INET6 */
    uint8_t prefix;                     /* mask: 0..32 or 0..128 */
    uint16_t port;                      /* host order; 0: any */
    unsigned char addr[16];             /* network order, host bits 0 */
};

extern int sipd_allow_parse(const struct db_val *ip, const struct db_val *mask,
                            const struct db_val *port,
                            struct sipd_allow_row *row, const char **why);
extern struct sipd_allow *sipd_allow_build(const struct sipd_allow_row *rows,
                                           int n);
extern int sipd_allow_rows(const struct sipd_allow *t);
extern int sipd_allow_match(const struct sipd_allow *t,
                            const struct msg_addr *src);
extern void sipd_allow_retire(struct sipd_allow *t);
extern void sipd_allow_free(struct sipd_allow *t);

/* sipd_allow_load.c (main thread) */
extern void sipd_allow_load_start(struct sipd *d);
extern void sipd_allow_load_rows(struct sipd *d, const struct ring_rec *rec);
extern void sipd_allow_load_tick(struct sipd *d);
extern void sipd_allow_load_mi(struct sipd *d, uint32_t id);
extern void sipd_allow_load_fini(struct sipd *d);

/* sipd_mi.c (main thread) */
extern void sipd_mi_ctl(struct srv *s, const char *msg);
extern void sipd_mi_answer(struct sipd *d, uint32_t id, int code,
                           const char *reason, const char *name, long value);

#endif
