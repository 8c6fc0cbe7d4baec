/*
 * SUMMARY
 *      dbd_pool - the connections of every [db] url, and which one serves
 * DESCRIPTION
 *      Each [db] url gets [db] pool connections (dbd_conn.c), opened at
 *      start and kept open: a replica's pool is connected before it is
 *      needed, so a failover costs no connect. A URL is
 *
 *        unknown  until its first connection attempt ends,
 *        up       while one of its connections is open,
 *        down     once an attempt fails with none open (and none
 *                 connecting after a loss); its connections retry with
 *                 back-off, and the first that gets through brings it
 *                 up again.
 *
 *      Queries go to the serving URL: the first URL, in config order,
 *      that is up. While an earlier URL is still unknown nothing serves
 *      yet (queries wait for it, at most DBD_CONNECT_MS), so a start
 *      does not fail over to a replica that merely answered first. When
 *      the serving URL goes down the next one up serves (db:failovers);
 *      when an earlier one comes back it serves again (db:failovers
 *      too): the primary is always preferred. When every URL is down,
 *      waiting queries are answered MSG_DB_DOWN at once and so are new
 *      ones, until one comes back: sipd answers 503 now rather than
 *      after [db] timeout_ms.
 *
 *      A query arrives (dbd_pool_query): an unknown number or a wrong
 *      count of values is MSG_DB_ERROR; one already past its deadline
 *      MSG_DB_TIMEOUT; with every URL down MSG_DB_DOWN; with [db]
 *      queue_max queries waiting MSG_DB_BUSY (db:queue_full); else it
 *      is queued and dispatched to an idle connection of the serving
 *      URL at once or when one frees up. A query whose connection was
 *      lost under it runs again (DBD_RETRIES), first in line: a SELECT
 *      may be repeated, and a failover under traffic loses nothing.
 *      A timer set for the oldest query's deadline answers queries that
 *      waited too long (MSG_DB_TIMEOUT, db:timeouts), so db:queue_len
 *      (a gauge) only counts what can still be run.
 * PROTOCOL
 *      None; answers go out through dbd_link.c.
 * DIAGNOSTICS
 *      A URL that goes down or comes back, and every change of the
 *      serving URL, is logged (warning, notice) with the URL masked and
 *      the reason. A URL that cannot be parsed, URLs of two schemes, or
 *      a backend that does not load fail init (fatal).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbd.h"
#include "log.h"

static const char *const dbd_pool_states[] = {"connecting", "up", "down"};

const char *dbd_pool_state_name(int state)
{
    return state >= 0 && state <= DBD_U_DOWN ? dbd_pool_states[state] : "?";
}

/* dbd_pool_send - status to (link, qid), counted */
static void dbd_pool_send(struct dbd *d, int link, uint64_t qid, int status)
{
    if (status == MSG_DB_TIMEOUT)
        stats_inc(d->st, STAT_DB_TIMEOUTS);
    else if (status == MSG_DB_BUSY)
        stats_inc(d->st, STAT_DB_QUEUE_FULL);
    else if (status != MSG_DB_OK)
        stats_inc(d->st, STAT_DB_ERRORS);
    if (link >= 0 && link < d->nlinks)
        dbd_link_status(&d->links[link], qid, status);
}

void dbd_pool_answer(struct dbd *d, struct dbd_query *q, int status)
{
    dbd_pool_send(d, q->link, q->qid, status);
    dbd_query_free(q);
}

void dbd_pool_answer_rows(struct dbd *d, struct dbd_query *q, int nrows,
                          int ncols, dbd_get_fn get, void *arg)
{
    if (q->link >= 0 && q->link < d->nlinks
        && dbd_link_answer(&d->links[q->link], q->qid, MSG_DB_OK, nrows,
                           ncols, get, arg) < 0) {
        log_warn_rl("query %s %llu: a value or a row of its %d rows is "
                    "too long for a record: answered as an error",
                    q->sql->name, (unsigned long long)q->qid, nrows);
        dbd_pool_answer(d, q, MSG_DB_ERROR);
        return;
    }
    dbd_query_free(q);
}

/* dbd_pool_flush_down - every URL down: answer what waits, DOWN */
static void dbd_pool_flush_down(struct dbd *d)
{
    struct dbd_query *q;

    while ((q = dbd_queue_pop(&d->queue)) != NULL)
        dbd_pool_answer(d, q, MSG_DB_DOWN);
    stats_set(d->st, STAT_DB_QUEUE_LEN, 0);
}

/* dbd_pool_choose - the serving URL from the URLs' states */
static void dbd_pool_choose(struct dbd *d)
{
    int i, serve = -1, waiting = 0;

    for (i = 0; i < d->npools && serve < 0 && !waiting; i++) {
        if (d->pools[i].state == DBD_U_UP)
            serve = i;
        else if (d->pools[i].state == DBD_U_UNKNOWN)
            waiting = 1;
    }
    d->all_down = serve < 0 && !waiting;
    if (serve != d->serving) {
        if (serve >= 0 && d->last_serving >= 0 && serve != d->last_serving) {
            stats_inc(d->st, STAT_DB_FAILOVERS);
            log_warn("%s serves now (was %s)", d->pools[serve].shown,
                     d->pools[d->last_serving].shown);
        } else if (serve >= 0) {
            log_notice("%s serves", d->pools[serve].shown);
        } else if (d->all_down) {
            log_warn("no database URL is reachable: queries are answered "
                     "DOWN until one is");
        }
        if (serve >= 0)
            d->last_serving = serve;
        d->serving = serve;
    }
    if (d->all_down)
        dbd_pool_flush_down(d);
}

void dbd_pool_conn_up(struct dbd_pool *p, struct dbd_conn *c)
{
    struct dbd *d = p->d;

    (void)c;
    if (p->state != DBD_U_UP) {
        if (p->state == DBD_U_DOWN)
            log_notice("%s: up again", p->shown);
        p->state = DBD_U_UP;
        p->why[0] = 0;
        dbd_pool_choose(d);
    }
    dbd_pool_dispatch(d);
}

/* dbd_pool_connecting - connections of p that are connecting */
static int dbd_pool_connecting(const struct dbd_pool *p)
{
    int i, n = 0;

    for (i = 0; i < p->nconns; i++)
        n += p->conns[i].state == DBD_C_CONNECTING;
    return n;
}

/*
 * dbd_pool_conn_down - c of p failed to connect (was_up 0) or was lost
 *      (was_up 1), for why. p is down when none of its connections is
 *      open; after a loss only once none is connecting either (a lost
 *      connection reconnects at once, and its outcome decides).
 */
void dbd_pool_conn_down(struct dbd_pool *p, struct dbd_conn *c, int was_up,
                        const char *why)
{
    (void)c;
    snprintf(p->why, sizeof(p->why), "%s", why);
    if (p->state == DBD_U_DOWN || p->nup > 0
        || (was_up && dbd_pool_connecting(p) > 0))
        return;
    log_warn("%s: down: %s", p->shown, why);
    p->state = DBD_U_DOWN;
    dbd_pool_choose(p->d);
    dbd_pool_dispatch(p->d);            /* to the next URL, if one is up */
}

void dbd_pool_conn_idle(struct dbd_pool *p, struct dbd_conn *c)
{
    (void)c;
    dbd_pool_dispatch(p->d);
}

/* dbd_pool_sweep_arm - the timer for the head's deadline, if it moved */
static void dbd_pool_sweep_arm(struct dbd *d)
{
    const struct dbd_query *h = d->queue.head;
    int64_t left;

    if (h == d->sweep_head && (h == NULL || d->sweep.armed))
        return;
    d->sweep_head = h;
    if (h == NULL) {
        ev_timer_stop(d->ev, &d->sweep);
        return;
    }
    left = dbd_queue_left(&d->queue, h, ev_stamp_ms());
    ev_timer_start(d->ev, &d->sweep, left > 0 ? left + 1 : 0);
}

static void dbd_pool_on_sweep(struct ev *ev, struct ev_timer *t)
{
    struct dbd *d = t->arg;
    uint32_t now = ev_stamp_ms();

    (void)ev;
    while (d->queue.head != NULL
           && dbd_queue_left(&d->queue, d->queue.head, now) <= 0)
        dbd_pool_answer(d, dbd_queue_pop(&d->queue), MSG_DB_TIMEOUT);
    stats_set(d->st, STAT_DB_QUEUE_LEN, d->queue.n);
    d->sweep_head = NULL;
    dbd_pool_sweep_arm(d);
}

/* dbd_pool_idle - an idle connection of the serving URL, or NULL */
static struct dbd_conn *dbd_pool_idle(struct dbd *d)
{
    struct dbd_pool *p;
    int i;

    if (d->serving < 0)
        return NULL;
    p = &d->pools[d->serving];
    if (p->nbusy >= p->nup)
        return NULL;
    for (i = 0; i < p->nconns; i++)
        if (p->conns[i].state == DBD_C_IDLE)
            return &p->conns[i];
    return NULL;
}

void dbd_pool_dispatch(struct dbd *d)
{
    struct dbd_conn *c;
    struct dbd_query *q;

    if (d->dispatching) {               /* a connection event inside */
        d->again = 1;
        return;
    }
    d->dispatching = 1;
    do {
        d->again = 0;
        while (d->queue.n > 0 && (c = dbd_pool_idle(d)) != NULL) {
            q = dbd_queue_pop(&d->queue);
            if (dbd_queue_left(&d->queue, q, ev_stamp_ms()) <= 0)
                dbd_pool_answer(d, q, MSG_DB_TIMEOUT);
            else
                dbd_conn_start(c, q);
        }
    } while (d->again);
    d->dispatching = 0;
    stats_set(d->st, STAT_DB_QUEUE_LEN, d->queue.n);
    dbd_pool_sweep_arm(d);
}

void dbd_pool_requeue(struct dbd *d, struct dbd_query *q)
{
    if (d->all_down)
        dbd_pool_answer(d, q, MSG_DB_DOWN);
    else if (dbd_queue_left(&d->queue, q, ev_stamp_ms()) <= 0)
        dbd_pool_answer(d, q, MSG_DB_TIMEOUT);
    else if (q->tries > DBD_RETRIES)
        dbd_pool_answer(d, q, MSG_DB_ERROR);
    else {
        dbd_queue_push_front(&d->queue, q);
        dbd_pool_dispatch(d);
    }
}

void dbd_pool_query(struct dbd *d, int link, const struct dbd_in *in)
{
    const struct dbd_sql *sql = dbd_sql_find(in->query);
    struct dbd_query *q;
    struct dbd_query probe;

    stats_inc(d->st, STAT_DB_QUERIES);
    if (sql == NULL || in->nparams != sql->nparams) {
        log_warn_rl("sipd.%d: query %llu: %s %d with %d values", link,
                    (unsigned long long)in->qid,
                    sql == NULL ? "unknown query number" : "query",
                    in->query, in->nparams);
        dbd_pool_send(d, link, in->qid, MSG_DB_ERROR);
        return;
    }
    probe.stamp = in->stamp;
    if (dbd_queue_left(&d->queue, &probe, ev_stamp_ms()) <= 0) {
        dbd_pool_send(d, link, in->qid, MSG_DB_TIMEOUT);
        return;
    }
    if (d->all_down) {
        dbd_pool_send(d, link, in->qid, MSG_DB_DOWN);
        return;
    }
    if (d->queue.n >= d->queue.max) {
        log_info_rl("queue full (%zu queries wait): query %llu of sipd.%d "
                    "answered BUSY", d->queue.n,
                    (unsigned long long)in->qid, link);
        dbd_pool_send(d, link, in->qid, MSG_DB_BUSY);
        return;
    }
    q = dbd_query_new(in->qid, link, in->stamp, sql, in->nparams,
                      in->params);
    if (q == NULL) {
        log_warn_rl("query %llu: out of memory", (unsigned long long)in->qid);
        dbd_pool_send(d, link, in->qid, MSG_DB_ERROR);
        return;
    }
    dbd_queue_push(&d->queue, q);
    dbd_pool_dispatch(d);
}

/* dbd_pool_urls - parse every URL; one scheme for all. 0 or -EINVAL */
static int dbd_pool_urls(struct dbd *d, const struct cfg *cfg)
{
    char err[DB_ERR_TEXT];
    int i;

    for (i = 0; i < cfg->ndb_url && i < CFG_MAX_DB_URL; i++) {
        struct dbd_pool *p = &d->pools[i];

        p->d = d;
        p->idx = i;
        p->state = DBD_U_UNKNOWN;
        if (db_url_parse(cfg->db_url[i], strlen(cfg->db_url[i]), &p->url,
                         err, sizeof(err)) < 0) {
            log_error("[db] url %d: %s", i + 1, err);
            return -EINVAL;
        }
        db_url_mask(&p->url, p->shown, sizeof(p->shown));
        if (p->url.scheme != d->pools[0].url.scheme) {
            log_error("[db] url %d (%s) is not %s like the first one: one "
                      "scheme for every URL", i + 1, p->shown,
                      db_scheme_name(d->pools[0].url.scheme));
            return -EINVAL;
        }
        d->npools++;
    }
    return 0;
}

int dbd_pool_init(struct dbd *d, struct ev *ev, const struct cfg *cfg,
                  struct stats_slot *st, const char *libdir)
{
    int i, k, err;

    d->ev = ev;
    d->cfg = cfg;
    d->st = st;
    d->serving = d->last_serving = -1;
    dbd_queue_init(&d->queue, (size_t)cfg->db_queue_max, cfg->db_timeout_ms);
    d->sweep.fn = dbd_pool_on_sweep;
    d->sweep.arg = d;
    stats_set(st, STAT_DB_QUEUE_LEN, 0);
    if (cfg->ndb_url <= 0) {
        log_error("no [db] url: dbd has nothing to do");
        return -EINVAL;
    }
    if ((err = dbd_pool_urls(d, cfg)) < 0
        || (err = dbd_be_load(libdir, d->pools[0].url.scheme, &d->be,
                              &d->dl)) < 0)
        return err;
    for (i = 0; i < d->npools; i++) {
        struct dbd_pool *p = &d->pools[i];

        p->nconns = cfg->db_pool;
        if ((p->conns = calloc((size_t)p->nconns, sizeof(*p->conns)))
            == NULL)
            return -ENOMEM;
        for (k = 0; k < p->nconns; k++)
            dbd_conn_init(&p->conns[k], p, k);
        log_info("%s: %d connections%s", p->shown, p->nconns,
                 i == 0 ? "" : " (replica)");
    }
    for (i = 0; i < d->npools; i++)
        for (k = 0; k < d->pools[i].nconns; k++)
            dbd_conn_open(&d->pools[i].conns[k]);
    return 0;
}

void dbd_pool_drain(struct dbd *d, int ms)
{
    int64_t deadline = ev_now_ms() + ms;
    struct dbd_query *q;
    int i, busy;

    for (;;) {
        for (busy = 0, i = 0; i < d->npools; i++)
            busy += d->pools[i].nbusy;
        if ((busy == 0 && d->queue.n == 0) || d->all_down
            || ev_now_ms() >= deadline)
            break;
        if (ev_run_once(d->ev, 10) < 0)
            break;
        dbd_link_flush_all(d);
    }
    while ((q = dbd_queue_pop(&d->queue)) != NULL)
        dbd_pool_answer(d, q, MSG_DB_ERROR);
    stats_set(d->st, STAT_DB_QUEUE_LEN, 0);
}

void dbd_pool_fini(struct dbd *d)
{
    int i, k;

    ev_timer_stop(d->ev, &d->sweep);
    d->all_down = 1;                    /* nothing is queued any more */
    for (i = 0; i < d->npools; i++) {
        for (k = 0; k < d->pools[i].nconns && d->pools[i].conns; k++)
            dbd_conn_close(&d->pools[i].conns[k]);
        free(d->pools[i].conns);
        d->pools[i].conns = NULL;
    }
    d->npools = 0;
    dbd_link_flush_all(d);
}
