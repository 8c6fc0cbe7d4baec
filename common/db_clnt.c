/*
 * SUMMARY
 *      db_clnt - the records of the dbd service (query out, rows in)
 * DESCRIPTION
 *      See db_clnt.h. Checks and copies on the caller's thread: no
 *      allocation, no syscall, no lock.
 * DIAGNOSTICS
 *      Return values only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db_clnt.h"

/* db_val_text - v as text: DB_INT is printed into tmp */
static void db_val_text(const struct db_val *v, char *tmp, size_t cap,
                        const char **s, size_t *len)
{
    if (v->type == DB_INT) {
        *len = (size_t)snprintf(tmp, cap, "%" PRId64, v->i);
        *s = tmp;
    } else {
        *s = v->s;
        *len = v->type == DB_STR ? v->len : 0;
    }
}

size_t db_val_size(const struct db_val *v)
{
    char tmp[24];
    const char *s;
    size_t len;

    db_val_text(v, tmp, sizeof(tmp), &s, &len);
    return 2 + (v->type == DB_NULL ? 0 : len);
}

int db_val_put(char *dst, size_t cap, const struct db_val *v)
{
    char tmp[24];
    const char *s;
    size_t len;
    uint16_t l;

    db_val_text(v, tmp, sizeof(tmp), &s, &len);
    if (v->type == DB_NULL) {
        if (cap < 2)
            return -1;
        l = MSG_DB_NULL;
        memcpy(dst, &l, 2);
        return 2;
    }
    if (len > MSG_DB_VAL_MAX || cap < 2 + len)
        return -1;
    l = (uint16_t)len;
    memcpy(dst, &l, 2);
    if (len > 0)
        memcpy(dst + 2, s, len);
    return (int)(2 + len);
}

int db_val_next(const char **p, const char *end, struct db_val *v)
{
    uint16_t l;

    if (end - *p < 2)
        return -1;
    memcpy(&l, *p, 2);
    *p += 2;
    memset(v, 0, sizeof(*v));
    if (l == MSG_DB_NULL) {
        v->type = DB_NULL;
        return 0;
    }
    if (l > MSG_DB_VAL_MAX || end - *p < (ptrdiff_t)l)
        return -1;
    v->type = DB_STR;
    v->s = *p;
    v->len = l;
    *p += l;
    return 0;
}

int db_clnt_query(struct ring *r, uint64_t qid, int query, uint32_t stamp_ms,
                  int nparams, const struct db_val *params)
{
    struct msg_db_query *q;
    size_t len = sizeof(*q);
    char *o;
    int i, n;

    if (r == NULL || nparams < 0 || nparams > MSG_DB_PARAMS_MAX
        || (nparams > 0 && params == NULL))
        return -EINVAL;
    for (i = 0; i < nparams; i++) {
        if (params[i].type == DB_STR && params[i].len > MSG_DB_VAL_MAX)
            return -EINVAL;
        len += db_val_size(&params[i]);
    }
    q = ring_reserve(r, MSG_T_DB_QUERY, (uint32_t)len);
    if (q == NULL)
        return -ENOSPC;
    q->qid = qid;
    q->query = (uint16_t)query;
    q->nparams = (uint16_t)nparams;
    q->stamp_ms = stamp_ms;
    o = q->data;
    for (i = 0; i < nparams; i++) {
        n = db_val_put(o, len - (size_t)(o - (char *)q), &params[i]);
        o += n;                         /* sized above: cannot fail */
    }
    return 0;
}

const struct msg_db_rows *db_clnt_rows(const struct ring_rec *rec)
{
    if (rec == NULL || rec->type != MSG_T_DB_ROWS || rec->version < MSG_V1
        || rec->len < sizeof(struct msg_db_rows))
        return NULL;
    return (const struct msg_db_rows *)rec->data;
}
