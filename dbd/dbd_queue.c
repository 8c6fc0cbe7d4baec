/*
 * SUMMARY
 *      dbd_queue - the queries waiting for a free connection
 * DESCRIPTION
 *      A plain FIFO of struct dbd_query, bounded by [db] queue_max (the
 *      caller answers MSG_DB_BUSY past it and counts db:queue_full).
 *      Each query is a copy of its ring record: dbd releases ring space
 *      as soon as a record is popped (at-most-once, ring.h), so a query
 *      lives here, not in the ring, while it waits and runs.
 *
 *      Deadlines. sipd stamps each query with ev_stamp_ms()
 *      (CLOCK_MONOTONIC_COARSE ms mod 2^32, one clock for every process
 *      of the machine); a query is due stamp + [db] timeout_ms. The age
 *      is the unsigned difference of two stamps, so the wrap every 49
 *      days costs nothing. A query that is due before a connection frees
 *      up for it is answered MSG_DB_TIMEOUT without running (sipd has
 *      given up on it by then); one that is due while it runs is
 *      dbd_conn.c's business.
 *
 *      Queries that are re-queued after their connection was lost go to
 *      the front: they are the oldest.
 * PROTOCOL
 *      None.
 * DIAGNOSTICS
 *      None; dbd_query_new() returns NULL when out of memory.
 */
#include <stdlib.h>
#include <string.h>

#include "dbd.h"

void dbd_queue_init(struct dbd_queue *q, size_t max, int timeout_ms)
{
    memset(q, 0, sizeof(*q));
    q->max = max;
    q->timeout_ms = timeout_ms;
}

void dbd_queue_push(struct dbd_queue *q, struct dbd_query *e)
{
    e->next = NULL;
    if (q->tail != NULL)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    q->n++;
}

void dbd_queue_push_front(struct dbd_queue *q, struct dbd_query *e)
{
    e->next = q->head;
    q->head = e;
    if (q->tail == NULL)
        q->tail = e;
    q->n++;
}

struct dbd_query *dbd_queue_pop(struct dbd_queue *q)
{
    struct dbd_query *e = q->head;

    if (e == NULL)
        return NULL;
    q->head = e->next;
    if (q->head == NULL)
        q->tail = NULL;
    e->next = NULL;
    q->n--;
    return e;
}

int64_t dbd_queue_left(const struct dbd_queue *q, const struct dbd_query *e,
                       uint32_t now)
{
    uint32_t age = now - e->stamp;

    if (age > UINT32_MAX / 2)           /* stamped a tick "after" now */
        age = 0;
    return (int64_t)q->timeout_ms - (int64_t)age;
}

struct dbd_query *dbd_query_new(uint64_t qid, int link, uint32_t stamp,
                                const struct dbd_sql *sql, int nparams,
                                const struct db_val *params)
{
    struct dbd_query *e;
    size_t bytes = 0, off = 0;
    int i;

    for (i = 0; i < nparams; i++)
        if (params[i].type == DB_STR)
            bytes += params[i].len;
    if ((e = malloc(sizeof(*e) + bytes + 1)) == NULL)
        return NULL;
    memset(e, 0, sizeof(*e));
    e->qid = qid;
    e->link = link;
    e->stamp = stamp;
    e->sql = sql;
    e->nparams = nparams;
    for (i = 0; i < nparams; i++) {
        e->params[i] = params[i];
        if (params[i].type != DB_STR)
            continue;
        if (params[i].len > 0)
            memcpy(e->data + off, params[i].s, params[i].len);
        e->params[i].s = e->data + off;
        off += params[i].len;
    }
    return e;
}

void dbd_query_free(struct dbd_query *e)
{
    free(e);
}
