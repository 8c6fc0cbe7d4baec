/*
 * SUMMARY
 *      dbd_conn - one database connection, a state machine in the ev loop
 * DESCRIPTION
 *      Each connection of a pool (dbd_pool.c) is in one state:
 *
 *        CLOSED ---open---> CONNECTING ---done---> IDLE <--done-- BUSY
 *                             |    ^                 |  ---start-->  |
 *                       failed|    |back-off over    |lost           |lost,
 *                             v    |                 v               |timeout
 *                            BACKOFF <-----------(reopen)<-----------+
 *
 *      Every backend call is non-blocking (common/db.h): it returns
 *      DB_DONE or the readiness it waits for, and the connection's
 *      socket (backend->fd(), which may change while connecting: asked
 *      again after every call) is watched in epoll for exactly that. One
 *      timer per connection holds its deadline: the connect timeout
 *      (DBD_CONNECT_MS), the running query's deadline, or the end of its
 *      back-off.
 *
 *      Loss. An idle connection is watched for input: a server says
 *      nothing unasked on an idle connection except that it is going
 *      away (PostgreSQL's "terminating connection" before it closes, a
 *      MariaDB shutdown error), so input, end of file, a hang-up or an
 *      error there means the connection is lost; a read that would block
 *      (a stale readiness) is ignored. A backend call that answers
 *      DB_ERR_CONN loses it too. A lost connection is reopened at once
 *      (the server may only have restarted), unless it had been up for
 *      less than DBD_STABLE_MS (a server that accepts and drops: back
 *      off instead). A connect that fails or times out backs off,
 *      DBD_BACKOFF_MIN_MS doubling to DBD_BACKOFF_MAX_MS, reset by the
 *      next success; a reconnect that succeeds counts db:reconnects.
 *
 *      A query past its deadline is answered MSG_DB_TIMEOUT and its
 *      connection is closed and reopened: neither libpq nor MariaDB's
 *      client can abandon a query and keep the connection (the rest of
 *      its answer would arrive as the answer to the next query), and a
 *      cancel request is a blocking round trip on a new connection.
 * PROTOCOL
 *      The backend's, over its socket.
 * DIAGNOSTICS
 *      Connection failures and losses are logged at info with the URL
 *      (masked) and the reason (rate-limited); dbd_pool.c says at warning
 *      level when a whole URL goes down. A failed query is a warning,
 *      rate-limited, with the URL, the query's name and the server's
 *      words. Nothing here is fatal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dbd.h"
#include "log.h"

#define DBD_LOST_NOW 0                  /* reopen at once */
#define DBD_LOST_CHECK 1                /* at once unless it just came up */

static void dbd_conn_on_io(struct ev *ev, struct ev_io *io, uint32_t e);
static void dbd_conn_on_timer(struct ev *ev, struct ev_timer *t);

static struct dbd *dbd_conn_d(const struct dbd_conn *c)
{
    return c->pool->d;
}

static int dbd_conn_is_up(int state)
{
    return state == DBD_C_IDLE || state == DBD_C_BUSY;
}

/* dbd_conn_set - move c to state, keeping the pool's counts */
static void dbd_conn_set(struct dbd_conn *c, int state)
{
    struct dbd_pool *p = c->pool;

    p->nup += dbd_conn_is_up(state) - dbd_conn_is_up(c->state);
    p->nbusy += (state == DBD_C_BUSY) - (c->state == DBD_C_BUSY);
    c->state = state;
}

void dbd_conn_init(struct dbd_conn *c, struct dbd_pool *p, int idx)
{
    memset(c, 0, sizeof(*c));
    c->pool = p;
    c->idx = idx;
    c->state = DBD_C_CLOSED;
    c->io.fd = -1;
    c->io.fn = dbd_conn_on_io;
    c->io.arg = c;
    c->timer.fn = dbd_conn_on_timer;
    c->timer.arg = c;
    c->backoff_ms = DBD_BACKOFF_MIN_MS;
}

/* dbd_conn_events - a DB_WAIT_ mask as epoll events */
static uint32_t dbd_conn_events(int mask)
{
    return (mask & DB_WAIT_READ ? EPOLLIN : 0)
           | (mask & DB_WAIT_WRITE ? EPOLLOUT : 0);
}

/* dbd_conn_mask - epoll events as the DB_WAIT_ mask a backend takes */
static int dbd_conn_mask(uint32_t e)
{
    int m = 0;

    if (e & (EPOLLERR | EPOLLHUP))
        return DB_WAIT_READ | DB_WAIT_WRITE;
    if (e & (EPOLLIN | EPOLLRDHUP))
        m |= DB_WAIT_READ;
    if (e & EPOLLOUT)
        m |= DB_WAIT_WRITE;
    return m;
}

/*
 * dbd_conn_watch - watch the backend's socket (now) for events. A new
 *      socket number is added; one that the backend closed and reopened
 *      under the same number was dropped from epoll by the close, so a
 *      modify that finds nothing adds. 0 or -errno.
 */
static int dbd_conn_watch(struct dbd_conn *c, uint32_t events)
{
    struct ev *ev = dbd_conn_d(c)->ev;
    int fd = dbd_conn_d(c)->be->fd(c->db), err;

    if (fd < 0)
        return -EBADF;
    if (fd != c->io.fd) {
        if (c->io.fd >= 0)
            ev_del(ev, &c->io);         /* may be closed already */
        c->io.fd = fd;
        c->watch = events;
        return ev_add(ev, &c->io, events);
    }
    if (events == c->watch)
        return 0;
    c->watch = events;
    if ((err = ev_mod(ev, &c->io, events)) == -ENOENT)
        err = ev_add(ev, &c->io, events);
    return err;
}

/* dbd_conn_drop - stop watching, stop the timer, close the backend's */
static void dbd_conn_drop(struct dbd_conn *c)
{
    struct dbd *d = dbd_conn_d(c);

    if (c->io.fd >= 0)
        ev_del(d->ev, &c->io);          /* before close frees the fd */
    c->io.fd = -1;
    c->watch = 0;
    ev_timer_stop(d->ev, &c->timer);
    if (c->db != NULL)
        d->be->close(c->db);
    c->db = NULL;
}

/* dbd_conn_fail - a connect attempt failed: back off */
static void dbd_conn_fail(struct dbd_conn *c, const char *why)
{
    struct dbd_pool *p = c->pool;

    dbd_conn_drop(c);
    dbd_conn_set(c, DBD_C_BACKOFF);
    log_info_rl("%s: connection %d: connect failed: %s (next try in %d "
                "ms)", p->shown, c->idx, why, c->backoff_ms);
    ev_timer_start(dbd_conn_d(c)->ev, &c->timer, c->backoff_ms);
    c->backoff_ms = c->backoff_ms * 2 > DBD_BACKOFF_MAX_MS
                        ? DBD_BACKOFF_MAX_MS
                        : c->backoff_ms * 2;
    dbd_pool_conn_down(p, c, 0, why);
}

/*
 * dbd_conn_lost - an open connection is gone (its query, if any, was
 *      taken off it by the caller): close it and reopen it, at once or
 *      after a back-off (how: DBD_LOST_*).
 */
static void dbd_conn_lost(struct dbd_conn *c, const char *why, int how)
{
    struct dbd_pool *p = c->pool;
    int64_t up_for = ev_now_ms() - c->up_ms;

    dbd_conn_drop(c);
    log_info_rl("%s: connection %d lost: %s", p->shown, c->idx, why);
    if (how == DBD_LOST_CHECK && up_for < DBD_STABLE_MS) {
        dbd_conn_set(c, DBD_C_BACKOFF);
        ev_timer_start(dbd_conn_d(c)->ev, &c->timer, c->backoff_ms);
        dbd_pool_conn_down(p, c, 1, why);
        return;
    }
    /* Reopen first: the pool counts a URL down only when none of its
     * connections is open or connecting. */
    dbd_conn_set(c, DBD_C_CLOSED);
    dbd_conn_open(c);
    dbd_pool_conn_down(p, c, 1, why);
}

/* dbd_conn_connected - the connect finished: idle, watched for loss */
static void dbd_conn_connected(struct dbd_conn *c)
{
    struct dbd *d = dbd_conn_d(c);
    int err;

    ev_timer_stop(d->ev, &c->timer);
    if ((err = dbd_conn_watch(c, EPOLLIN)) < 0) {
        dbd_conn_fail(c, strerror(-err));
        return;
    }
    dbd_conn_set(c, DBD_C_IDLE);
    c->backoff_ms = DBD_BACKOFF_MIN_MS;
    c->up_ms = ev_now_ms();
    if (c->ever_up)
        stats_inc(d->st, STAT_DB_RECONNECTS);
    log_debug("%s: connection %d %s", c->pool->shown, c->idx,
              c->ever_up ? "reconnected" : "connected");
    c->ever_up = 1;
    dbd_pool_conn_up(c->pool, c);
}

/*
 * dbd_conn_open - start connecting c (CLOSED or BACKOFF). The outcome
 *      arrives in the loop; a failure to even start backs off now.
 */
void dbd_conn_open(struct dbd_conn *c)
{
    struct dbd *d = dbd_conn_d(c);
    char err[DB_ERR_TEXT] = "";
    int wait = DB_DONE, e;

    dbd_conn_set(c, DBD_C_CONNECTING);
    c->start_ms = ev_now_ms();
    c->db = d->be->open(&c->pool->url, &wait, err, sizeof(err));
    if (c->db == NULL || wait < 0) {
        dbd_conn_fail(c, err[0] ? err : "cannot start");
        return;
    }
    if (wait == DB_DONE) {
        dbd_conn_connected(c);
        return;
    }
    if ((e = dbd_conn_watch(c, dbd_conn_events(wait))) < 0) {
        dbd_conn_fail(c, strerror(-e));
        return;
    }
    ev_timer_start(d->ev, &c->timer, DBD_CONNECT_MS);
}

/* dbd_conn_get - dbd_get_fn over the backend's finished query */
static void dbd_conn_get(void *arg, int row, int col, struct db_val *v)
{
    struct dbd_conn *c = arg;

    dbd_conn_d(c)->be->get(c->db, row, col, v);
}

/* dbd_conn_done - the query ended with r: answer it, go idle or reopen */
static void dbd_conn_done(struct dbd_conn *c, int r, const char *err)
{
    struct dbd *d = dbd_conn_d(c);
    struct dbd_pool *p = c->pool;
    struct dbd_query *q = c->q;
    double ms = (double)(ev_now_ms() - c->start_ms);

    ev_timer_stop(d->ev, &c->timer);
    c->q = NULL;
    if (r == DB_ERR_CONN) {
        p->errors++;
        dbd_conn_lost(c, err, DBD_LOST_CHECK);
        dbd_pool_requeue(d, q);
        return;
    }
    p->queries++;
    p->latency_ms = p->latency_ms == 0 ? ms : p->latency_ms * 0.9 + ms * 0.1;
    if (r == DB_DONE) {
        dbd_pool_answer_rows(d, q, d->be->nrows(c->db), d->be->ncols(c->db),
                             dbd_conn_get, c);
    } else {
        p->errors++;
        log_warn_rl("%s: query %s: %s", p->shown, q->sql->name, err);
        dbd_pool_answer(d, q, MSG_DB_ERROR);
    }
    if (dbd_conn_watch(c, EPOLLIN) < 0) {
        dbd_conn_lost(c, "epoll failed", DBD_LOST_NOW);
        return;
    }
    dbd_conn_set(c, DBD_C_IDLE);
    dbd_pool_conn_idle(p, c);
}

/* dbd_conn_step - a query call returned r: wait, or it is done */
static void dbd_conn_step(struct dbd_conn *c, int r, const char *err)
{
    int e;

    if (r <= 0) {
        dbd_conn_done(c, r, err);
        return;
    }
    if ((e = dbd_conn_watch(c, dbd_conn_events(r))) < 0)
        dbd_conn_done(c, DB_ERR_CONN, strerror(-e));
}

/*
 * dbd_conn_start - run q on idle connection c. Its deadline (stamp +
 *      [db] timeout_ms) is armed; the answer goes out from the loop.
 */
void dbd_conn_start(struct dbd_conn *c, struct dbd_query *q)
{
    struct dbd *d = dbd_conn_d(c);
    char err[DB_ERR_TEXT] = "";
    int64_t left = dbd_queue_left(&d->queue, q, ev_stamp_ms());
    int r;

    c->q = q;
    q->tries++;
    dbd_conn_set(c, DBD_C_BUSY);
    c->start_ms = ev_now_ms();
    ev_timer_start(d->ev, &c->timer, left > 0 ? left : 0);
    r = d->be->query_start(c->db, q->sql->stmt, q->sql->sql, q->nparams,
                           q->params, err, sizeof(err));
    dbd_conn_step(c, r, err[0] ? err : "query failed");
}

/* dbd_conn_idle_input - input on an idle connection: 1 if it is lost */
static int dbd_conn_idle_input(struct dbd_conn *c, uint32_t e)
{
    char b;
    ssize_t n;

    if (e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
        return 1;
    n = recv(c->io.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK
                       || errno == EINTR));
}

static void dbd_conn_on_io(struct ev *ev, struct ev_io *io, uint32_t e)
{
    struct dbd_conn *c = io->arg;
    struct dbd *d = dbd_conn_d(c);
    char err[DB_ERR_TEXT] = "";
    int r;

    (void)ev;
    switch (c->state) {
    case DBD_C_CONNECTING:
        r = d->be->connect_cont(c->db, dbd_conn_mask(e), err, sizeof(err));
        if (r == DB_DONE)
            dbd_conn_connected(c);
        else if (r < 0)
            dbd_conn_fail(c, err[0] ? err : "connect failed");
        else if ((r = dbd_conn_watch(c, dbd_conn_events(r))) < 0)
            dbd_conn_fail(c, strerror(-r));
        return;
    case DBD_C_BUSY:
        r = d->be->query_cont(c->db, dbd_conn_mask(e), err, sizeof(err));
        dbd_conn_step(c, r, err[0] ? err : "query failed");
        return;
    case DBD_C_IDLE:
        if (dbd_conn_idle_input(c, e))
            dbd_conn_lost(c, "closed by the server while idle",
                          DBD_LOST_CHECK);
        return;
    default:                            /* stale: nothing is open */
        return;
    }
}

static void dbd_conn_on_timer(struct ev *ev, struct ev_timer *t)
{
    struct dbd_conn *c = t->arg;
    struct dbd *d = dbd_conn_d(c);
    struct dbd_query *q = c->q;
    char why[64];

    (void)ev;
    switch (c->state) {
    case DBD_C_CONNECTING:
        snprintf(why, sizeof(why), "no connection within %d ms",
                 DBD_CONNECT_MS);
        dbd_conn_fail(c, why);
        return;
    case DBD_C_BUSY:
        c->q = NULL;
        log_info_rl("%s: query %s %llu: no answer within %d ms: "
                    "connection %d closed and reopened", c->pool->shown,
                    q->sql->name, (unsigned long long)q->qid,
                    d->cfg->db_timeout_ms, c->idx);
        dbd_pool_answer(d, q, MSG_DB_TIMEOUT);
        dbd_conn_lost(c, "query timed out", DBD_LOST_NOW);
        return;
    case DBD_C_BACKOFF:
        dbd_conn_open(c);
        return;
    default:
        return;
    }
}

/*
 * dbd_conn_close - close c for good (dbd stops); a query it runs is
 *      answered MSG_DB_ERROR.
 */
void dbd_conn_close(struct dbd_conn *c)
{
    struct dbd_query *q = c->q;

    c->q = NULL;
    dbd_conn_drop(c);
    dbd_conn_set(c, DBD_C_CLOSED);
    if (q != NULL)
        dbd_pool_answer(dbd_conn_d(c), q, MSG_DB_ERROR);
}
