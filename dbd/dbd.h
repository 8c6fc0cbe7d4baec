#ifndef DBD_H
#define DBD_H
/*
 * SUMMARY
 *      dbd - private interfaces of the database stage
 * DESCRIPTION
 *      dbd answers MSG_T_DB_QUERY records from every sipd with
 *      MSG_T_DB_ROWS records, running the queries on a pool of
 *      non-blocking connections per [db] url through a backend module
 *      (common/db.h). The modules, leaves first:
 *
 *        dbd_sql.c     the query table: number -> SQL text, parameters,
 *                      columns. The only SQL dbd runs.
 *        dbd_be.c      finds and dlopens build/lib/db_SCHEME.so.
 *        dbd_queue.c   the FIFO of queries waiting for a connection,
 *                      bounded by [db] queue_max, with their deadlines.
 *        dbd_link.c    the two rings of one sipd: decode queries, encode
 *                      answers in records of at most MSG_DB_ROWS_MAX
 *                      bytes, the full-ring backlog.
 *        dbd_conn.c    one connection: a state machine in the ev loop
 *                      (connecting, idle, busy, back-off).
 *        dbd_pool.c    the connections of each URL, which URL serves
 *                      (the first one up), failover and failback.
 *        dbd_mi.c      MI db_status.
 *        dbd.c         main() and the loop.
 *
 *      Everything runs in the one thread of the stage's ev loop; nothing
 *      blocks. struct dbd does not know struct srv, so a test program
 *      (t/tools/dbd_loop.c) runs the same code on rings of its own.
 */
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "db.h"
#include "ev.h"
#include "msg.h"
#include "ring.h"
#include "stats.h"

#define DBD_BATCH 64                    /* queries per ring per pass */
#define DBD_RETRY_MS 5                  /* held answers: look again after */
#define DBD_CONNECT_MS 3000             /* a connect may take this long */
#define DBD_BACKOFF_MIN_MS 100          /* reconnect back-off, doubling */
#define DBD_BACKOFF_MAX_MS 2000
#define DBD_STABLE_MS 1000              /* lost sooner: back off first */
#define DBD_RETRIES 1                   /* a query whose connection was
                                         * lost runs again this often */
#define DBD_BACKLOG_BYTES (4u << 20)    /* answers held per full ring */
#define DBD_URL_SHOWN 320               /* a masked URL */

/* ---- dbd_sql.c ------------------------------------------------------ */

struct dbd_sql {
    int query;                          /* MSG_DB_Q_* */
    int stmt;                           /* backend statement id */
    int nparams;
    int ncols;
    const char *name;                   /* for logs */
    const char *sql;                    /* "?" placeholders */
};

/* dbd_sql_find - the entry of query number q, or NULL */
extern const struct dbd_sql *dbd_sql_find(int q);

/* ---- dbd_be.c ------------------------------------------------------- */

/*
 * dbd_be_load - dlopen DIR/db_NAME.so for scheme (DB_SCHEME_*) and
 *      check its struct db_backend. 0 with *be and *dl set, or -errno
 *      (logged with the path and the reason).
 */
extern int dbd_be_load(const char *dir, int scheme,
                       const struct db_backend **be, void **dl);

/* ---- dbd_queue.c ---------------------------------------------------- */

struct dbd_query {
    struct dbd_query *next;
    uint64_t qid;
    int link;                           /* sipd instance it came from */
    uint32_t stamp;                     /* sipd's ev_stamp_ms() */
    int tries;                          /* runs begun */
    const struct dbd_sql *sql;
    int nparams;
    struct db_val params[MSG_DB_PARAMS_MAX]; /* .s points into data */
    char data[];
};

struct dbd_queue {
    struct dbd_query *head;
    struct dbd_query *tail;
    size_t n;
    size_t max;                         /* [db] queue_max */
    int timeout_ms;                     /* [db] timeout_ms */
};

extern void dbd_queue_init(struct dbd_queue *q, size_t max, int timeout_ms);
extern void dbd_queue_push(struct dbd_queue *q, struct dbd_query *e);
extern void dbd_queue_push_front(struct dbd_queue *q, struct dbd_query *e);
extern struct dbd_query *dbd_queue_pop(struct dbd_queue *q);

/*
 * dbd_queue_left - ms left before e's deadline (stamp + timeout_ms) at
 *      stamp now (ev_stamp_ms()); <= 0: expired. A stamp from the
 *      future (another process's coarse clock a tick ahead) counts as
 *      age 0.
 */
extern int64_t dbd_queue_left(const struct dbd_queue *q,
                              const struct dbd_query *e, uint32_t now);

/*
 * dbd_query_new - a query copied out of a popped record (the ring space
 *      is released right after), with its parameters. NULL for no
 *      memory.
 */
extern struct dbd_query *dbd_query_new(uint64_t qid, int link,
                                       uint32_t stamp,
                                       const struct dbd_sql *sql,
                                       int nparams,
                                       const struct db_val *params);
extern void dbd_query_free(struct dbd_query *e);

/* ---- dbd_link.c ----------------------------------------------------- */

struct dbd_link_held;                   /* a record kept for a full ring */

struct dbd_link {
    int idx;                            /* sipd instance */
    int up;                             /* rings attached */
    int dirty;                          /* reserved, not yet committed */
    struct ring in;                     /* sipd[idx] -> dbd, consumer */
    struct ring out;                    /* dbd -> sipd[idx], producer */
    struct ev_io io;                    /* in.efd */
    struct dbd *d;
    struct dbd_link_held *bl_head;      /* records held, oldest first */
    struct dbd_link_held *bl_tail;
    size_t bl_bytes;
    size_t bl_n;
};

/* A query as popped: fields of the record, parameters pointing into it. */
struct dbd_in {
    uint64_t qid;
    int query;
    uint32_t stamp;
    int nparams;
    struct db_val params[MSG_DB_PARAMS_MAX];
};

#define DBD_IN_OK 0
#define DBD_IN_BAD (-1)                 /* malformed; qid readable */
#define DBD_IN_SKIP (-2)                /* not a query, or too short */

extern int dbd_link_decode(const struct ring_rec *rec, struct dbd_in *in);

/* the value at (row, col) of a finished query */
typedef void (*dbd_get_fn)(void *arg, int row, int col, struct db_val *v);

/*
 * dbd_link_answer - send the answer to qid: status, and for MSG_DB_OK
 *      nrows rows of ncols values read with get(arg, ...), in records
 *      of at most MSG_DB_ROWS_MAX bytes (MSG_DB_F_MORE on all but the
 *      last, seq from 0). Into the ring while it has room and nothing
 *      is held, else held. Returns 0; -E2BIG when a value or a row does
 *      not fit a record (nothing was sent: the caller answers ERROR).
 */
extern int dbd_link_answer(struct dbd_link *l, uint64_t qid, int status,
                           int nrows, int ncols, dbd_get_fn get, void *arg);

/* dbd_link_status - an answer with a status and no rows */
extern void dbd_link_status(struct dbd_link *l, uint64_t qid, int status);

/* dbd_link_flush - held records into the ring, then commit; 1 if held */
extern int dbd_link_flush(struct dbd_link *l);

/* dbd_link_setup - l takes rings in/out of sipd idx; watches in.efd */
extern int dbd_link_setup(struct dbd *d, int idx, const struct ring *in,
                          const struct ring *out);
extern void dbd_link_fini(struct dbd_link *l);

/*
 * dbd_link_pop - one pass over every link: up to DBD_BATCH records of
 *      each, handed to dbd_pool_query(). Returns the records handled.
 */
extern int dbd_link_pop(struct dbd *d);
extern int dbd_link_flush_all(struct dbd *d);
extern int dbd_link_may_sleep(struct dbd *d);

/* ---- dbd_conn.c ----------------------------------------------------- */

#define DBD_C_CLOSED 0                  /* not started */
#define DBD_C_CONNECTING 1
#define DBD_C_IDLE 2
#define DBD_C_BUSY 3
#define DBD_C_BACKOFF 4                 /* waiting to reconnect */

struct dbd_pool;

struct dbd_conn {
    struct dbd_pool *pool;              /* its URL */
    int idx;                            /* in the pool */
    int state;                          /* DBD_C_* */
    struct db_conn *db;                 /* the backend's; NULL closed */
    struct ev_io io;                    /* io.fd -1: not watched */
    uint32_t watch;                     /* epoll events asked for */
    struct ev_timer timer;              /* deadline or back-off */
    int backoff_ms;
    int ever_up;                        /* a later connect reconnects */
    int64_t up_ms;                      /* connected at */
    int64_t start_ms;                   /* query began */
    struct dbd_query *q;                /* the query it runs */
};

extern void dbd_conn_init(struct dbd_conn *c, struct dbd_pool *p, int idx);
extern void dbd_conn_open(struct dbd_conn *c);
extern void dbd_conn_start(struct dbd_conn *c, struct dbd_query *q);
extern void dbd_conn_close(struct dbd_conn *c);

/* ---- dbd_pool.c ----------------------------------------------------- */

#define DBD_U_UNKNOWN 0                 /* first connect not done yet */
#define DBD_U_UP 1                      /* a connection is open */
#define DBD_U_DOWN 2                    /* none open, connects fail */

struct dbd_pool {
    struct dbd *d;
    int idx;                            /* [db] url number, from 0 */
    struct db_url url;
    char shown[DBD_URL_SHOWN];          /* db_url_mask(): log this */
    int state;                          /* DBD_U_* */
    int nconns;                         /* [db] pool */
    int nup;                            /* idle or busy */
    int nbusy;
    struct dbd_conn *conns;
    uint64_t queries;                   /* run here */
    uint64_t errors;                    /* failed here (query, conn) */
    double latency_ms;                  /* moving average */
    char why[DB_ERR_TEXT];              /* last failure */
};

struct dbd {
    struct ev *ev;
    const struct cfg *cfg;
    struct stats_slot *st;
    const struct db_backend *be;
    void *dl;
    int npools;
    struct dbd_pool pools[CFG_MAX_DB_URL];
    int serving;                        /* pools[] index, -1 none */
    int last_serving;                   /* the last one that served */
    int all_down;                       /* every URL down: answer DOWN */
    int dispatching;                    /* in dbd_pool_dispatch() */
    int again;                          /* dispatch again when done */
    struct dbd_queue queue;
    struct ev_timer sweep;              /* expiry of the queue's head */
    const struct dbd_query *sweep_head; /* the head it was armed for */
    int nlinks;
    struct dbd_link links[CFG_MAX_SIPD];
};

/*
 * dbd_pool_init - parse the URLs of cfg, load the backend of their
 *      scheme from libdir, open [db] pool connections per URL (non-
 *      blocking: they connect in the loop). 0 or -errno (logged).
 */
extern int dbd_pool_init(struct dbd *d, struct ev *ev, const struct cfg *cfg,
                         struct stats_slot *st, const char *libdir);
extern void dbd_pool_fini(struct dbd *d);

/* dbd_pool_query - a decoded query from link: run, queue or answer */
extern void dbd_pool_query(struct dbd *d, int link, const struct dbd_in *in);

/* dbd_pool_dispatch - give queued queries to idle serving connections */
extern void dbd_pool_dispatch(struct dbd *d);

/*
 * dbd_pool_answer_rows - q finished: its nrows x ncols values, read
 *      with get(arg, ...), to its sipd; q is freed
 */
extern void dbd_pool_answer_rows(struct dbd *d, struct dbd_query *q,
                                 int nrows, int ncols, dbd_get_fn get,
                                 void *arg);

/* dbd_pool_answer - q gets status (no rows), counted, and is freed */
extern void dbd_pool_answer(struct dbd *d, struct dbd_query *q, int status);

/* conn -> pool events */
extern void dbd_pool_conn_up(struct dbd_pool *p, struct dbd_conn *c);
extern void dbd_pool_conn_down(struct dbd_pool *p, struct dbd_conn *c,
                               int was_up, const char *why);
extern void dbd_pool_conn_idle(struct dbd_pool *p, struct dbd_conn *c);
extern void dbd_pool_requeue(struct dbd *d, struct dbd_query *q);

/* dbd_pool_drain - stopping: run what is queued for at most ms, then
 *      answer what is left ERROR */
extern void dbd_pool_drain(struct dbd *d, int ms);

extern const char *dbd_pool_state_name(int state);

/* ---- dbd_mi.c ------------------------------------------------------- */

/* dbd_mi_url - the db_status line of URL i (after "URL:: ") */
extern void dbd_mi_url(const struct dbd *d, int i, char *buf, size_t cap);

/* dbd_mi_reason - "N TEXT", URL i's last failure, when it is not up;
 *      1 if there is one */
extern int dbd_mi_reason(const struct dbd *d, int i, char *buf, size_t cap);

/* dbd_mi_status - answer MI request id over push */
extern void dbd_mi_status(struct dbd *d, int push, uint32_t id);

#endif
