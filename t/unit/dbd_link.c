/*
 * SUMMARY
 *      dbd_link - unit tests of dbd's query table, queue and answer codec
 * DESCRIPTION
 *      No database: dbd_sql_find(), the FIFO and its deadline arithmetic
 *      (including a stamp that wrapped past 2^32 and one from the
 *      future), dbd_query_new() copies, dbd_link_decode() on good and
 *      malformed records, and dbd_link_answer() over real rings in
 *      process memory: answers cut into records of at most
 *      MSG_DB_ROWS_MAX bytes with whole rows, MSG_DB_F_MORE and seq;
 *      values and rows too long for a record refused before anything
 *      is sent; a full ring's backlog delivered in order; the backlog's
 *      bound.
 * PROTOCOL
 *      TAP on stdout.
 * DIAGNOSTICS
 *      Exit status: number of failed tests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db_clnt.h"
#include "dbd.h"
#include "tap.h"

static struct stats_slot t_st;
static struct dbd t_d;

/* t_ring - a formatted ring of size data bytes: both sides; its memory */
static void *t_ring(size_t size, struct ring *prod, struct ring *cons)
{
    void *mem = aligned_alloc(4096,
                              (ring_shm_bytes(size) + 4095) / 4096 * 4096);

    ring_format(mem, size, "t");
    ring_attach(prod, mem, -1, RING_PRODUCER);
    ring_attach(cons, mem, -1, RING_CONSUMER);
    return mem;
}

static void t_sql(void)
{
    const struct dbd_sql *a = dbd_sql_find(MSG_DB_Q_ALIAS);
    const struct dbd_sql *b = dbd_sql_find(MSG_DB_Q_ADDRESS);

    ok(a && a->nparams == 2 && a->ncols == 2, "alias: 2 values, 2 columns");
    ok(a && strstr(a->sql, "alias_username = ? AND alias_domain = ?"),
       "alias: placeholders, no value in the text");
    ok(b && b->nparams == 0 && b->ncols == 4, "address: 0 values, 4 cols");
    ok(a && b && a->stmt != b->stmt, "distinct statement ids");
    ok(dbd_sql_find(0) == NULL && dbd_sql_find(99) == NULL,
       "unknown numbers: none");
}

static void t_queue(void)
{
    struct dbd_queue q;
    struct dbd_query *e[3], probe;
    struct db_val v[2];
    char buf[8] = "alice";
    int i;

    dbd_queue_init(&q, 2, 500);
    for (i = 0; i < 3; i++)
        e[i] = dbd_query_new((uint64_t)i, 0, 0, dbd_sql_find(1), 0, NULL);
    dbd_queue_push(&q, e[0]);
    dbd_queue_push(&q, e[1]);
    dbd_queue_push_front(&q, e[2]);
    is_int((int)q.n, 3, "queue: three in");
    ok(dbd_queue_pop(&q) == e[2], "queue: pushed to the front comes first");
    ok(dbd_queue_pop(&q) == e[0] && dbd_queue_pop(&q) == e[1],
       "queue: then in order");
    ok(dbd_queue_pop(&q) == NULL && q.head == NULL && q.tail == NULL,
       "queue: empty");
    for (i = 0; i < 3; i++)
        dbd_query_free(e[i]);

    probe.stamp = 1000;
    is_int((int)dbd_queue_left(&q, &probe, 1000), 500, "left: new");
    is_int((int)dbd_queue_left(&q, &probe, 1600), -100, "left: expired");
    is_int((int)dbd_queue_left(&q, &probe, 997), 500,
           "left: a stamp from the future counts as age 0");
    probe.stamp = 0xfffffff0u;
    is_int((int)dbd_queue_left(&q, &probe, 5), 500 - 21,
           "left: across the 2^32 wrap");

    v[0] = db_str(buf, 5);
    v[1].type = DB_NULL;
    e[0] = dbd_query_new(7, 1, 2, dbd_sql_find(1), 2, v);
    memcpy(buf, "XXXXX", 5);
    ok(e[0] && e[0]->params[0].len == 5
       && memcmp(e[0]->params[0].s, "alice", 5) == 0,
       "query_new: values copied");
    ok(e[0] && e[0]->params[1].type == DB_NULL, "query_new: NULL kept");
    dbd_query_free(e[0]);
}

static void t_decode(void)
{
    struct ring p, c;
    const struct ring_rec *rec;
    struct msg_db_query *q;
    struct dbd_in in;
    struct db_val v[2] = {db_str("o'brien", 7), db_str("", 0)};
    void *mem = t_ring(65536, &p, &c);

    db_clnt_query(&p, 42, MSG_DB_Q_ALIAS, 1234, 2, v);
    q = ring_reserve(&p, MSG_T_DB_QUERY, sizeof(*q) + 3);
    memset(q, 0, sizeof(*q) + 3);
    q->qid = 43;
    q->nparams = 2;                     /* but 3 bytes: cut short */
    q = ring_reserve(&p, MSG_T_DB_QUERY, sizeof(*q));
    memset(q, 0, sizeof(*q));
    q->qid = 44;
    q->nparams = MSG_DB_PARAMS_MAX + 1;
    ring_reserve(&p, MSG_T_DB_QUERY, 4);
    ring_reserve(&p, MSG_T_DNS_QUERY, 64);
    ring_commit(&p);

    rec = ring_pop(&c);
    ok(rec && dbd_link_decode(rec, &in) == DBD_IN_OK, "decode: a query");
    ok(in.qid == 42 && in.query == MSG_DB_Q_ALIAS && in.stamp == 1234
       && in.nparams == 2, "decode: qid, number, stamp, count");
    is_mem(in.params[0].s, in.params[0].len, "o'brien", 7, "decode: value");
    ok(in.params[1].type == DB_STR && in.params[1].len == 0,
       "decode: empty value is not NULL");
    rec = ring_pop(&c);
    ok(rec && dbd_link_decode(rec, &in) == DBD_IN_BAD && in.qid == 43,
       "decode: values cut short: BAD, qid read");
    rec = ring_pop(&c);
    ok(rec && dbd_link_decode(rec, &in) == DBD_IN_BAD && in.qid == 44,
       "decode: too many values: BAD, qid read");
    rec = ring_pop(&c);
    ok(rec && dbd_link_decode(rec, &in) == DBD_IN_SKIP, "decode: short");
    rec = ring_pop(&c);
    ok(rec && dbd_link_decode(rec, &in) == DBD_IN_SKIP,
       "decode: another type");
    free(mem);
}

/* A grid of values: row r, col c is a run of (r * 7 + c) % 251 bytes of
 * 'a' + c, NULL where (r + c) % 13 == 0; t_big forces one length. */
static int t_big = -1;

static void t_get(void *arg, int row, int col, struct db_val *v)
{
    static char fill[4][MSG_DB_VAL_MAX + 2];
    int len = t_big >= 0 ? t_big : (row * 7 + col) % 251;

    (void)arg;
    if (fill[0][0] == 0)
        for (int i = 0; i < 4; i++)
            memset(fill[i], 'a' + i, sizeof(fill[i]));
    if (t_big < 0 && (row + col) % 13 == 0) {
        memset(v, 0, sizeof(*v));
        v->type = DB_NULL;
        return;
    }
    *v = db_str(fill[col % 4], (size_t)len);
}

/*
 * t_read - pop every record for qid (as sipd would: what l held comes
 *      in as room is made): count records and rows, check seq, flags,
 *      sizes and every value against t_get. 0 on success.
 */
static int t_read(struct dbd_link *l, struct ring *c, uint64_t qid,
                  int nrows, int ncols, int *records)
{
    const struct ring_rec *rec;
    int row = 0, seq = 0, last = 0, bad = 0;

    *records = 0;
    while (!last) {
        if ((rec = ring_pop(c)) == NULL) {  /* room made: held ones in */
            ring_release(c);
            dbd_link_flush(l);
            if ((rec = ring_pop(c)) == NULL)
                break;
        }
        const struct msg_db_rows *h = db_clnt_rows(rec);
        const char *p, *end = (const char *)rec->data + rec->len;
        struct db_val v, w;

        if (h == NULL || h->qid != qid || (int)h->seq != seq++
            || h->ncols != ncols || rec->len > MSG_DB_ROWS_MAX) {
            diag("record %d: %s qid %llu seq %u ncols %u len %u", seq - 1,
                 h ? "" : "not rows", h ? (unsigned long long)h->qid : 0,
                 h ? h->seq : 0, h ? h->ncols : 0, rec->len);
            ring_release(c);
            return -1;
        }
        last = !(h->flags & MSG_DB_F_MORE);
        (*records)++;
        p = h->data;
        for (uint32_t r = 0; r < h->nrows; r++, row++)
            for (int k = 0; k < ncols; k++) {
                t_get(NULL, row, k, &w);
                if (db_val_next(&p, end, &v) < 0 || v.type != w.type
                    || v.len != w.len || (v.len && memcmp(v.s, w.s, v.len)))
                    bad++;
            }
        if (p != end)
            bad++;
    }
    ring_release(c);
    if (!last || row != nrows || bad != 0)
        diag("qid %llu: last %d rows %d of %d, %d bad", (unsigned long long)qid,
             last, row, nrows, bad);
    return last && row == nrows && bad == 0 ? 0 : -1;
}

static void t_answer(void)
{
    struct ring dp, dc, sp, sc;     /* the answer ring: dbd's, sipd's */
    struct dbd_link *l;
    int recs, err;

    t_d.st = &t_st;
    t_ring(1u << 18, &dp, &dc);         /* unused query ring */
    t_ring(1u << 18, &sp, &sc);
    dbd_link_setup(&t_d, 0, &dc, &sp);
    t_d.nlinks = 1;
    l = &t_d.links[0];
    (void)dp;

    is_int(dbd_link_answer(l, 1, MSG_DB_OK, 1000, 4, t_get, NULL), 0,
           "1,000 rows of 4: sent");
    dbd_link_flush(l);
    ok(t_read(l, &sc, 1, 1000, 4, &recs) == 0,
       "records <= MSG_DB_ROWS_MAX, seq in order, MORE but on the last, "
       "every value back");
    ok(recs > 1, "... in %d records", recs);

    dbd_link_answer(l, 2, MSG_DB_OK, 0, 2, t_get, NULL);
    dbd_link_flush(l);
    ok(t_read(l, &sc, 2, 0, 2, &recs) == 0 && recs == 1,
       "no row: one record");
    dbd_link_status(l, 3, MSG_DB_TIMEOUT);
    dbd_link_flush(l);
    {
        const struct ring_rec *rec = ring_pop(&sc);
        const struct msg_db_rows *h = db_clnt_rows(rec);

        ok(h && h->qid == 3 && h->status == MSG_DB_TIMEOUT && h->nrows == 0
           && h->ncols == 0 && h->flags == 0 && h->seq == 0,
           "a status: one record, no rows");
        ring_release(&sc);
    }

    t_big = MSG_DB_VAL_MAX + 1;
    err = dbd_link_answer(l, 4, MSG_DB_OK, 1, 1, t_get, NULL);
    is_int(err, -E2BIG, "a value over MSG_DB_VAL_MAX: -E2BIG");
    t_big = MSG_DB_VAL_MAX;
    err = dbd_link_answer(l, 5, MSG_DB_OK, 2, 4, t_get, NULL);
    is_int(err, -E2BIG, "a row of 4 x 4096 bytes (over a record): -E2BIG");
    dbd_link_flush(l);
    ok(ring_pop(&sc) == NULL, "... and nothing was sent");
    err = dbd_link_answer(l, 6, MSG_DB_OK, 3, 3, t_get, NULL);
    dbd_link_flush(l);
    ok(err == 0 && t_read(l, &sc, 6, 3, 3, &recs) == 0 && recs == 3,
       "rows of 3 x 4096 bytes: one per record");
    t_big = -1;

    /* sipd does not read: 20 answers of 100 rows overflow 256 KiB */
    for (int i = 0; i < 20; i++)
        dbd_link_answer(l, 100 + (uint64_t)i, MSG_DB_OK, 100, 4, t_get,
                        NULL);
    ok(dbd_link_flush(l) == 1 && l->bl_n > 0, "ring full: records held");
    ok(t_st.v[STAT_DB_BACKLOGGED] > 0, "db:backlogged counted (%llu)",
       (unsigned long long)t_st.v[STAT_DB_BACKLOGGED]);
    err = 0;
    for (int i = 0; i < 20; i++) {
        if (t_read(l, &sc, 100 + (uint64_t)i, 100, 4, &recs) < 0)
            err++;
    }
    is_int(err, 0, "all 20 answers arrive whole and in order");
    ok(l->bl_n == 0 && l->bl_bytes == 0, "backlog empty");

    /* the bound: past DBD_BACKLOG_BYTES a new answer is dropped whole */
    {
        size_t n = 0, b = 0, i;

        for (i = 0; i < 1000; i++) {
            n = l->bl_n;
            b = l->bl_bytes;
            dbd_link_answer(l, 1000 + i, MSG_DB_OK, 1000, 4, t_get, NULL);
            if (l->bl_n == n)
                break;
        }
        ok(i < 1000 && l->bl_bytes == b && b <= DBD_BACKLOG_BYTES
           && b > DBD_BACKLOG_BYTES / 2,
           "backlog near %u bytes (%zu): a new answer is dropped whole, "
           "not cut", DBD_BACKLOG_BYTES, b);
    }
    dbd_link_fini(l);
    ok(l->bl_n == 0 && l->bl_head == NULL, "fini frees the backlog");
}

int main(void)
{
    t_sql();
    t_queue();
    t_decode();
    t_answer();
    done_testing();
    return 0;
}
