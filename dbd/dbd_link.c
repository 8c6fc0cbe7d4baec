/*
 * SUMMARY
 *      dbd_link - the two rings between dbd and one sipd instance
 * DESCRIPTION
 *      A link is dbd's end of sipd[i] -> dbd (consumer) and dbd ->
 *      sipd[i] (producer). This file decodes query records, encodes
 *      answers, and keeps answer records that found the ring full: dbd
 *      never blocks on a slow sipd.
 *
 *      An answer is cut into records of at most MSG_DB_ROWS_MAX bytes,
 *      whole rows each (a row never spans two records), every record but
 *      the last flagged MSG_DB_F_MORE, seq counting from 0, so sipd can
 *      put an allow-list of thousands of rows together and notice a lost
 *      record. Each record goes into the ring when there is room and
 *      nothing is held before it; else it is copied to the link's
 *      backlog (db:backlogged counts the answers that had to wait), and
 *      the held records go out, oldest first, at the next
 *      dbd_link_flush() that finds room: the loop looks again every
 *      DBD_RETRY_MS while anything is held, since nothing signals that
 *      sipd made room. The backlog is bounded: a new answer that finds
 *      DBD_BACKLOG_BYTES held already is dropped whole (sipd times the
 *      query out), never cut, so no answer reaches sipd with a gap.
 *
 *      Records are reserved as answers are made and committed together
 *      by dbd_link_flush(), once per loop pass: a burst of answers costs
 *      one commit and at most one wake-up.
 * PROTOCOL
 *      sipd[i] -> dbd    MSG_T_DB_QUERY (msg.h, db_clnt.h)
 *      dbd -> sipd[i]    MSG_T_DB_ROWS, the query's qid echoed
 *      Records of other types on the query ring are skipped.
 * DIAGNOSTICS
 *      A malformed query is counted (db:errors), warned about (rate-
 *      limited) and answered MSG_DB_ERROR when its qid can be read. A
 *      dropped answer is warned about, rate-limited.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db_clnt.h"
#include "dbd.h"
#include "log.h"

struct dbd_link_held {
    struct dbd_link_held *next;
    uint32_t len;
    char data[];
};

int dbd_link_decode(const struct ring_rec *rec, struct dbd_in *in)
{
    const struct msg_db_query *q;
    const char *p, *end;
    int i;

    if (rec->type != MSG_T_DB_QUERY || rec->version < MSG_V1
        || rec->len < sizeof(*q))
        return DBD_IN_SKIP;
    q = (const struct msg_db_query *)rec->data;
    memset(in, 0, sizeof(*in));
    in->qid = q->qid;
    in->query = q->query;
    in->stamp = q->stamp_ms;
    if (q->nparams > MSG_DB_PARAMS_MAX)
        return DBD_IN_BAD;
    in->nparams = q->nparams;
    p = q->data;
    end = (const char *)rec->data + rec->len;
    for (i = 0; i < in->nparams; i++)
        if (db_val_next(&p, end, &in->params[i]) < 0)
            return DBD_IN_BAD;
    return DBD_IN_OK;
}

/* dbd_link_hold - copy one record into the backlog; 0 or -ENOMEM */
static int dbd_link_hold(struct dbd_link *l, const void *rec, size_t len)
{
    struct dbd_link_held *h = malloc(sizeof(*h) + len);

    if (h == NULL)
        return -ENOMEM;
    h->next = NULL;
    h->len = (uint32_t)len;
    memcpy(h->data, rec, len);
    if (l->bl_tail != NULL)
        l->bl_tail->next = h;
    else
        l->bl_head = h;
    l->bl_tail = h;
    l->bl_bytes += len;
    l->bl_n++;
    return 0;
}

/* dbd_link_put - one record into the ring, or held; 1 if held, 0, -1 */
static int dbd_link_put(struct dbd_link *l, const void *rec, size_t len)
{
    void *p;

    if (l->bl_n == 0
        && (p = ring_reserve(&l->out, MSG_T_DB_ROWS, (uint32_t)len))
               != NULL) {
        memcpy(p, rec, len);
        l->dirty = 1;
        return 0;
    }
    return dbd_link_hold(l, rec, len) < 0 ? -1 : 1;
}

/* dbd_link_size - bytes of every record of the answer; -E2BIG */
static int64_t dbd_link_size(int nrows, int ncols, dbd_get_fn get,
                             void *arg)
{
    const size_t room = MSG_DB_ROWS_MAX - sizeof(struct msg_db_rows);
    int64_t total = sizeof(struct msg_db_rows);
    size_t used = 0, row;
    struct db_val v;
    int r, c;

    for (r = 0; r < nrows; r++) {
        for (row = 0, c = 0; c < ncols; c++) {
            get(arg, r, c, &v);
            if (v.type == DB_STR && v.len > MSG_DB_VAL_MAX)
                return -E2BIG;
            row += db_val_size(&v);
        }
        if (row > room)
            return -E2BIG;
        if (used + row > room) {        /* a new record */
            total += sizeof(struct msg_db_rows);
            used = 0;
        }
        used += row;
        total += (int64_t)row;
    }
    return total;
}

struct dbd_link_out {
    struct dbd_link *l;
    char *buf;                          /* MSG_DB_ROWS_MAX bytes */
    size_t len;
    int held;                           /* a record had to wait */
};

/* dbd_link_emit - send the record in o->buf, flags, and start the next */
static void dbd_link_emit(struct dbd_link_out *o, int more)
{
    struct msg_db_rows *h = (struct msg_db_rows *)o->buf;
    int r;

    h->flags = more ? MSG_DB_F_MORE : 0;
    r = dbd_link_put(o->l, o->buf, o->len);
    if (r > 0)
        o->held = 1;
    else if (r < 0)
        log_warn_rl("dbd>sipd.%d: no memory to hold answer %llu: a "
                    "record is lost", o->l->idx,
                    (unsigned long long)h->qid);
    h->seq++;
    h->nrows = 0;
    o->len = sizeof(*h);
}

int dbd_link_answer(struct dbd_link *l, uint64_t qid, int status, int nrows,
                    int ncols, dbd_get_fn get, void *arg)
{
    static char buf[MSG_DB_ROWS_MAX];
    struct dbd_link_out o = {l, buf, sizeof(struct msg_db_rows), 0};
    struct msg_db_rows *h = (struct msg_db_rows *)buf;
    struct db_val v;
    int64_t total;
    size_t row;
    int r, c;

    if (status != MSG_DB_OK)
        nrows = ncols = 0;
    if ((total = dbd_link_size(nrows, ncols, get, arg)) < 0)
        return (int)total;
    if (!l->up)
        return 0;
    if (l->bl_n > 0 && l->bl_bytes + (size_t)total > DBD_BACKLOG_BYTES) {
        log_warn_rl("dbd>sipd.%d: ring full and %zu bytes held: answer "
                    "%llu (%d rows) dropped", l->idx, l->bl_bytes,
                    (unsigned long long)qid, nrows);
        return 0;
    }
    memset(h, 0, sizeof(*h));
    h->qid = qid;
    h->status = (uint16_t)status;
    h->ncols = (uint16_t)ncols;
    for (r = 0; r < nrows; r++) {
        for (row = 0, c = 0; c < ncols; c++) {
            get(arg, r, c, &v);
            row += db_val_size(&v);
        }
        if (o.len + row > MSG_DB_ROWS_MAX)
            dbd_link_emit(&o, 1);
        for (c = 0; c < ncols; c++) {
            get(arg, r, c, &v);
            o.len += (size_t)db_val_put(buf + o.len, MSG_DB_ROWS_MAX - o.len,
                                        &v);
        }
        h->nrows++;
    }
    dbd_link_emit(&o, 0);
    if (o.held)
        stats_inc(l->d->st, STAT_DB_BACKLOGGED);
    return 0;
}

void dbd_link_status(struct dbd_link *l, uint64_t qid, int status)
{
    dbd_link_answer(l, qid, status, 0, 0, NULL, NULL);
}

int dbd_link_flush(struct dbd_link *l)
{
    struct dbd_link_held *h;
    void *p;

    if (!l->up)
        return 0;
    while ((h = l->bl_head) != NULL) {
        if ((p = ring_reserve(&l->out, MSG_T_DB_ROWS, h->len)) == NULL)
            break;
        memcpy(p, h->data, h->len);
        l->dirty = 1;
        l->bl_head = h->next;
        if (l->bl_head == NULL)
            l->bl_tail = NULL;
        l->bl_bytes -= h->len;
        l->bl_n--;
        free(h);
    }
    if (l->dirty) {
        ring_commit(&l->out);
        l->dirty = 0;
    }
    return l->bl_n > 0;
}

/* dbd_link_on_wake - an input ring's eventfd fired: clear it; loop pops */
static void dbd_link_on_wake(struct ev *ev, struct ev_io *io,
                             uint32_t events)
{
    struct dbd_link *l = io->arg;

    (void)ev;
    (void)events;
    ring_wake_clear(&l->in);
}

int dbd_link_setup(struct dbd *d, int idx, const struct ring *in,
                   const struct ring *out)
{
    struct dbd_link *l = &d->links[idx];
    int err;

    memset(l, 0, sizeof(*l));
    l->idx = idx;
    l->d = d;
    l->in = *in;
    l->out = *out;
    l->io.fd = l->in.efd;
    l->io.fn = dbd_link_on_wake;
    l->io.arg = l;
    if (l->io.fd >= 0 && (err = ev_add(d->ev, &l->io, EPOLLIN)) < 0) {
        log_error("sipd.%d>dbd eventfd: epoll: %s", idx, strerror(-err));
        return err;
    }
    l->up = 1;
    return 0;
}

void dbd_link_fini(struct dbd_link *l)
{
    struct dbd_link_held *h;

    while ((h = l->bl_head) != NULL) {
        l->bl_head = h->next;
        free(h);
    }
    l->bl_tail = NULL;
    l->bl_bytes = l->bl_n = 0;
}

/* dbd_link_one - one popped record of link i */
static void dbd_link_one(struct dbd *d, int i, const struct ring_rec *rec)
{
    struct dbd_in in;

    switch (dbd_link_decode(rec, &in)) {
    case DBD_IN_OK:
        dbd_pool_query(d, i, &in);
        return;
    case DBD_IN_BAD:
        stats_inc(d->st, STAT_DB_QUERIES);
        stats_inc(d->st, STAT_DB_ERRORS);
        log_warn_rl("sipd.%d: query %llu: malformed values", i,
                    (unsigned long long)in.qid);
        dbd_link_status(&d->links[i], in.qid, MSG_DB_ERROR);
        return;
    default:
        stats_inc(d->st, STAT_DB_ERRORS);
        log_warn_rl("sipd.%d: record type %u (%u bytes) skipped", i,
                    rec->type, rec->len);
        return;
    }
}

int dbd_link_pop(struct dbd *d)
{
    const struct ring_rec *rec;
    int i, k, n = 0;

    for (i = 0; i < d->nlinks; i++) {
        if (!d->links[i].up)
            continue;
        for (k = 0; k < DBD_BATCH; k++) {
            if ((rec = ring_pop(&d->links[i].in)) == NULL)
                break;
            dbd_link_one(d, i, rec);
        }
        if (k > 0)
            ring_release(&d->links[i].in);
        n += k;
    }
    return n;
}

int dbd_link_flush_all(struct dbd *d)
{
    int i, held = 0;

    for (i = 0; i < d->nlinks; i++)
        held |= dbd_link_flush(&d->links[i]);
    return held;
}

int dbd_link_may_sleep(struct dbd *d)
{
    int i, empty = 1;

    for (i = 0; i < d->nlinks; i++)
        if (d->links[i].up && ring_sleep_prepare(&d->links[i].in) != 0)
            empty = 0;
    return empty;
}
