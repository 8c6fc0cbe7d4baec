/*
 * SUMMARY
 *    sipd_allow_load - the dispatcher loads the address table
 *    ([route] db_allow) and swaps it in under RCU
 * DESCRIPTION
 *    The dispatcher asks dbd for every row of table "address"
 *    (MSG_DB_Q_ADDRESS) at start and on MI address_reload, under a
 *    query id of its own (SIPD_QID_DISP in the top 16 bits). dbd answers
 *    in one or more MSG_T_DB_ROWS records (MSG_DB_F_MORE on all but the
 *    last, seq counting from 0); the rows are collected (a row that
 *    does not parse is skipped with a rate-limited warning naming it),
 *    and when the last record is in a new table is built
 *    (sipd_allow_build()) and published with rcu_assign_pointer(): a
 *    worker that read the old pointer finishes with the old table,
 *    which is freed after a grace period (call_rcu). Workers never take
 *    a lock for it (sipd_db.c).
 *
 *    Until the first load succeeds requests are answered 503 (fail
 *    closed), and the load is tried again every second: dbd may still
 *    be connecting, or the database down. After that a failed reload
 *    keeps the table in use. A query not answered within [db]
 *    timeout_ms + SIPD_DB_SLACK_MS (dbd dead or restarting) counts as
 *    failed. A reload asked for while a load runs starts a new one
 *    (the rows must be read after the caller's change); the old answer
 *    is ignored. Every MI request waiting gets the result.
 *
 *    Bound: SIPD_ALLOW_MAX rows; a larger table is refused whole (a
 *    partial allow-list would deny sources the operator allowed).
 * PROTOCOL
 *    sipd.i -> dbd: MSG_T_DB_QUERY (MSG_DB_Q_ADDRESS, no values);
 *    dbd -> sipd.i: MSG_T_DB_ROWS (grp, ip_addr, mask, port) per row.
 *    To mid (sipd_mi.c): "Rows:: N" with 200, or the failure.
 * DIAGNOSTICS
 *    A failed first load warns once, then a notice says when it loads;
 *    a failed reload warns. Bad rows: rate-limited warnings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db_clnt.h"
#include "log.h"
#include "sipd.h"
#include "sipd_rcu.h"

#define SIPD_ALLOW_LOAD_RETRY_MS 1000

static const char *const sipd_allow_load_names[] = {"ok", "error",
                                                    "timeout", "busy",
                                                    "down"};

/* sipd_allow_load_status - MSG_DB_* as text */
static const char *sipd_allow_load_status(unsigned status)
{
    return status < 5 ? sipd_allow_load_names[status] : "unknown status";
}

/* sipd_allow_load_current - rows of the table in use (0: none) */
static int sipd_allow_load_current(struct sipd *d)
{
    /* The dispatcher is the only writer: its own read needs no lock. */
    return d->allow != NULL ? sipd_allow_rows(d->allow) : 0;
}

/* sipd_allow_load_publish - build the table of the rows; 0 or -ENOMEM */
static int sipd_allow_load_publish(struct sipd *d)
{
    struct sipd_allow_load *l = &d->load;
    struct sipd_allow *t = sipd_allow_build(l->rows, l->nrows);
    struct sipd_allow *old = d->allow;

    if (t == NULL)
        return -ENOMEM;
    SIPD_RCU_PUBLISH(t);
    SIPD_RCU_SET(d->allow, t);          /* rcu_assign_pointer() */
    sipd_allow_retire(old);             /* freed after a grace period */
    stats_set(d->st, STAT_DB_ALLOW_ROWS, (uint64_t)l->nrows);
    if (!l->loaded || l->skipped > 0)
        log_notice("address table: %d rows loaded, %d skipped", l->nrows,
                   l->skipped);
    l->loaded = 1;
    return 0;
}

/*
 * sipd_allow_load_done - the load ends with code (200: publish the
 *    rows) and reason; waiting MI requests are answered.
 */
static void sipd_allow_load_done(struct sipd *d, int code, const char *why)
{
    struct sipd_allow_load *l = &d->load;
    char reason[128];
    int i;

    l->qid = 0;
    if (code == 200 && sipd_allow_load_publish(d) < 0) {
        code = 500;
        why = "out of memory";
    }
    if (code == 200) {
        snprintf(reason, sizeof(reason), "OK");
    } else {
        snprintf(reason, sizeof(reason), "address table not loaded: %s",
                 why);
        if (!l->loaded) {
            if (l->retry_ms == 0)
                log_warn("address table not loaded: %s; trying again "
                         "every second", why);
            l->retry_ms = ev_now_ms() + SIPD_ALLOW_LOAD_RETRY_MS;
        } else {
            log_warn("address table not reloaded: %s; the %d rows "
                     "loaded before stay", why, sipd_allow_load_current(d));
        }
    }
    for (i = 0; i < l->nmi; i++)
        sipd_mi_answer(d, l->mi[i], code, reason, "Rows",
                       sipd_allow_load_current(d));
    l->nmi = 0;
    l->nrows = 0;
}

/* sipd_allow_load_start - ask dbd for the whole table (a new query) */
void sipd_allow_load_start(struct sipd *d)
{
    struct sipd_allow_load *l = &d->load;

    /* its deadline needs every tick: the next one says how long */
    __atomic_store_n(&d->tick_want, 1, __ATOMIC_RELAXED);
    l->qid = ((uint64_t)SIPD_QID_DISP << 48)
             | (++l->qseq & 0xffffffffffffull);
    l->seq = 0;
    l->nrows = 0;
    l->skipped = 0;
    l->deadline_ms = ev_now_ms() + d->srv->cfg.db_timeout_ms
                     + SIPD_DB_SLACK_MS;
    if (sipd_send_dbd(d, l->qid, MSG_DB_Q_ADDRESS, 0, NULL) < 0) {
        sipd_allow_load_done(d, 503, "sipd->dbd ring full");
        return;
    }
    sipd_send_dbd_commit(d);
}

/* sipd_allow_load_add - one row (grp, ip_addr, mask, port) */
static int sipd_allow_load_add(struct sipd *d, const struct db_val *v)
{
    struct sipd_allow_load *l = &d->load;
    struct sipd_allow_row *nr;
    const char *why;
    int cap;

    if (l->nrows == l->cap) {
        if (l->cap >= SIPD_ALLOW_MAX)
            return -1;
        cap = l->cap ? l->cap * 2 : 256;
        if ((nr = realloc(l->rows, (size_t)cap * sizeof(*nr))) == NULL)
            return -1;
        l->rows = nr;
        l->cap = cap;
    }
    if (sipd_allow_parse(&v[1], &v[2], &v[3], &l->rows[l->nrows], &why)
        == 0) {
        l->nrows++;
        return 0;
    }
    l->skipped++;
    log_warn_rl("address row ip_addr=%.*s mask=%.*s port=%.*s skipped: %s",
                (int)(v[1].type == DB_STR ? v[1].len : 4),
                v[1].type == DB_STR ? v[1].s : "NULL",
                (int)(v[2].type == DB_STR ? v[2].len : 4),
                v[2].type == DB_STR ? v[2].s : "NULL",
                (int)(v[3].type == DB_STR ? v[3].len : 4),
                v[3].type == DB_STR ? v[3].s : "NULL", why);
    return 0;
}

/* sipd_allow_load_record - the rows of one record; 0, or -1 cut short */
static int sipd_allow_load_record(struct sipd *d, const struct ring_rec *rec,
                                  const struct msg_db_rows *r)
{
    const char *p = r->data, *end = (const char *)rec->data + rec->len;
    struct db_val v[4], extra;
    uint32_t i;
    int c;

    if (r->nrows > 0 && r->ncols < 4)
        return -1;
    for (i = 0; i < r->nrows; i++) {
        for (c = 0; c < r->ncols; c++)  /* columns past port: read over */
            if (db_val_next(&p, end, c < 4 ? &v[c] : &extra) < 0)
                return -1;
        if (sipd_allow_load_add(d, v) < 0)
            return -2;
    }
    return 0;
}

/*
 * sipd_allow_load_rows - a MSG_T_DB_ROWS record with the dispatcher's
 *    query id: the current load's next record, else ignored.
 */
void sipd_allow_load_rows(struct sipd *d, const struct ring_rec *rec)
{
    struct sipd_allow_load *l = &d->load;
    const struct msg_db_rows *r = db_clnt_rows(rec);
    char why[64];
    int err;

    if (r == NULL || l->qid == 0 || r->qid != l->qid)
        return;                         /* an abandoned load's answer */
    if (r->seq != l->seq++) {
        sipd_allow_load_done(d, 503, "an answer record was lost");
        return;
    }
    if (r->status != MSG_DB_OK) {
        snprintf(why, sizeof(why), "database %s",
                 sipd_allow_load_status(r->status));
        sipd_allow_load_done(d, 503, why);
        return;
    }
    if ((err = sipd_allow_load_record(d, rec, r)) < 0) {
        sipd_allow_load_done(d, err == -1 ? 500 : 503,
                             err == -1 ? "malformed answer from dbd"
                                       : "more rows than sipd holds");
        return;
    }
    if (!(r->flags & MSG_DB_F_MORE))
        sipd_allow_load_done(d, 200, "OK");
}

/* sipd_allow_load_tick - a query past its deadline fails; retries */
void sipd_allow_load_tick(struct sipd *d)
{
    struct sipd_allow_load *l = &d->load;
    int64_t now;

    if (!d->has_db || !d->srv->cfg.db_allow)
        return;
    now = ev_now_ms();
    if (l->qid != 0 && now >= l->deadline_ms)
        sipd_allow_load_done(d, 503, "dbd did not answer");
    if (l->qid == 0 && !l->loaded && now >= l->retry_ms)
        sipd_allow_load_start(d);
}

/*
 * sipd_allow_load_mi - MI address_reload, request id: load again and
 *    answer when it ends.
 */
void sipd_allow_load_mi(struct sipd *d, uint32_t id)
{
    struct sipd_allow_load *l = &d->load;

    if (!d->has_db || !d->srv->cfg.db_allow) {
        sipd_mi_answer(d, id, 404, "[route] db_allow is off: no address "
                       "table", NULL, 0);
        return;
    }
    if (l->nmi == SIPD_MI_WAIT) {
        sipd_mi_answer(d, id, 503, "too many address_reload requests wait",
                       NULL, 0);
        return;
    }
    l->mi[l->nmi++] = id;
    sipd_allow_load_start(d);           /* a new read, after the change */
}

/*
 * sipd_allow_load_fini - at exit, after the workers: the table and the
 *    rows go (no reader is left; call_rcu callbacks are flushed first).
 */
void sipd_allow_load_fini(struct sipd *d)
{
    struct sipd_allow *t = d->allow;

    SIPD_RCU_SET(d->allow, NULL);
    urcu_memb_barrier();
    sipd_allow_free(t);
    free(d->load.rows);
    d->load.rows = NULL;
    d->load.cap = 0;
}
