/*
 * SUMMARY
 *      db_mysql_rows - parameters in, rows out, for the MySQL backend
 * DESCRIPTION
 *      Parameters are copied into the connection (one buffer for all
 *      their bytes) and bound as MYSQL_TYPE_STRING, MYSQL_TYPE_LONGLONG
 *      for DB_INT, or is_null for DB_NULL. A stored result gets one
 *      MYSQL_TYPE_STRING buffer per column, max_length + 1 bytes (64 at
 *      least; STMT_ATTR_UPDATE_MAX_LENGTH is set at prepare), so the
 *      library converts numbers and dates to text. Each fetched row is
 *      copied into a byte arena and a cell (offset, length, or NULL) per
 *      value: get() is random access, and the arena and cell array are
 *      reused (not freed) from one query to the next. A value that did
 *      not fit after all (MYSQL_DATA_TRUNCATED) is read again whole
 *      with mysql_stmt_fetch_column, straight into the arena.
 * PROTOCOL
 *      None: client memory only, no I/O (the rows are stored).
 * DIAGNOSTICS
 *      -1 when out of memory; nothing is logged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db_mysql.h"

static const my_bool db_mysql_rows_true = 1;


void db_mysql_free_result_bufs(struct db_conn *c)
{
    free(c->rbind);
    free(c->rlen);
    free(c->rnull);
    free(c->rerr);
    free(c->rbuf);
    c->rbind = NULL;
    c->rlen = NULL;
    c->rnull = c->rerr = NULL;
    c->rbuf = NULL;
    c->rcols = 0;
}

/* db_mysql_params - copy and bind params (the caller's may not live on) */
int db_mysql_params(struct db_conn *c, int n, const struct db_val *v)
{
    size_t total = 0, off = 0;
    int i;

    for (i = 0; i < n; i++)
        if (v[i].type == DB_STR)
            total += v[i].len;
    free(c->pbuf);
    if ((c->pbuf = malloc(total + 1)) == NULL)
        return -1;
    memset(c->pbind, 0, sizeof(c->pbind));
    for (i = 0; i < n; i++) {
        MYSQL_BIND *b = &c->pbind[i];

        if (v[i].type == DB_INT) {
            c->pint[i] = (long long)v[i].i;
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = &c->pint[i];
        } else {
            b->buffer_type = MYSQL_TYPE_STRING;
            b->buffer = c->pbuf + off;
            if (v[i].type == DB_STR) {
                if (v[i].len > 0)
                    memcpy(c->pbuf + off, v[i].s, v[i].len);
                c->plen[i] = (unsigned long)v[i].len;
                off += v[i].len;
            } else {
                c->plen[i] = 0;
                b->is_null = (my_bool *)&db_mysql_rows_true;
            }
            b->buffer_length = c->plen[i];
            b->length = &c->plen[i];
        }
    }
    c->nparams = n;
    return 0;
}

/* db_mysql_bind_result - one string buffer per column, its longest */
int db_mysql_bind_result(struct db_conn *c, MYSQL_STMT *st)
{
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    MYSQL_FIELD *f;
    size_t total = 0, off = 0, *cap;
    unsigned i, n = mysql_stmt_field_count(st);

    if (meta == NULL)
        return -1;
    f = mysql_fetch_fields(meta);
    db_mysql_free_result_bufs(c);
    c->rbind = calloc(n, sizeof(*c->rbind));
    c->rlen = calloc(n, sizeof(*c->rlen));
    c->rnull = calloc(n, sizeof(*c->rnull));
    c->rerr = calloc(n, sizeof(*c->rerr));
    cap = calloc(n, sizeof(*cap));
    for (i = 0; cap != NULL && i < n; i++) {
        cap[i] = f[i].max_length + 1;
        if (cap[i] < DB_MYSQL_MINBUF)
            cap[i] = DB_MYSQL_MINBUF;
        total += cap[i];
    }
    c->rbuf = malloc(total + 1);
    mysql_free_result(meta);
    if (c->rbind == NULL || c->rlen == NULL || c->rnull == NULL
        || c->rerr == NULL || cap == NULL || c->rbuf == NULL) {
        free(cap);
        return -1;
    }
    for (i = 0; i < n; i++) {
        c->rbind[i].buffer_type = MYSQL_TYPE_STRING;
        c->rbind[i].buffer = c->rbuf + off;
        c->rbind[i].buffer_length = cap[i];
        c->rbind[i].length = &c->rlen[i];
        c->rbind[i].is_null = &c->rnull[i];
        c->rbind[i].error = &c->rerr[i];
        off += cap[i];
    }
    free(cap);
    c->rcols = n;
    c->ncols = (int)n;
    return mysql_stmt_bind_result(st, c->rbind) ? -1 : 0;
}

/*
 * db_mysql_store - append len bytes at p (NULL: room only) to the arena,
 *      their offset in *off; 0, or -1 when out of memory
 */
static int db_mysql_store(struct db_conn *c, const void *p, size_t len,
                          size_t *off)
{
    if (c->dlen + len > c->dcap) {
        size_t cap = c->dcap ? c->dcap : 4096;
        char *d;

        while (cap < c->dlen + len)
            cap *= 2;
        if ((d = realloc(c->data, cap)) == NULL)
            return -1;
        c->data = d;
        c->dcap = cap;
    }
    if (len > 0 && p != NULL)
        memcpy(c->data + c->dlen, p, len);
    *off = c->dlen;
    c->dlen += len;
    return 0;
}

/* db_mysql_cell - column i of the fetched row into the next cell */
static int db_mysql_cell(struct db_conn *c, MYSQL_STMT *st, unsigned i)
{
    struct db_mysql_cell *cell;

    if (c->ncells == c->ccap) {
        size_t cap = c->ccap ? c->ccap * 2 : 64;

        if ((cell = realloc(c->cells, cap * sizeof(*cell))) == NULL)
            return -1;
        c->cells = cell;
        c->ccap = cap;
    }
    cell = &c->cells[c->ncells];
    if (c->rnull[i]) {
        cell->off = 0;
        cell->len = DB_MYSQL_NULL;
    } else if (c->rlen[i] <= c->rbind[i].buffer_length) {
        cell->len = c->rlen[i];
        if (db_mysql_store(c, c->rbind[i].buffer, cell->len, &cell->off))
            return -1;
    } else {                            /* longer after all: read it again */
        MYSQL_BIND b = c->rbind[i];
        unsigned long got = 0;
        size_t len = c->rlen[i];

        if (db_mysql_store(c, NULL, len, &cell->off) < 0)
            return -1;
        b.buffer = c->data + cell->off;
        b.buffer_length = len;
        b.length = &got;
        if (mysql_stmt_fetch_column(st, &b, i, 0) != 0)
            return -1;
        cell->len = len;
    }
    c->ncells++;
    return 0;
}

/* db_mysql_row - copy the fetched row; -1 when out of memory */
int db_mysql_row(struct db_conn *c, MYSQL_STMT *st)
{
    unsigned i;

    if (c->nrows == INT32_MAX)
        return -1;
    for (i = 0; i < c->rcols; i++)
        if (db_mysql_cell(c, st, i) < 0)
            return -1;
    c->nrows++;
    return 0;
}

int db_mysql_nrows(struct db_conn *c)
{
    return c->op == DB_MYSQL_IDLE ? c->nrows : 0;
}

int db_mysql_ncols(struct db_conn *c)
{
    return c->op == DB_MYSQL_IDLE ? c->ncols : 0;
}

void db_mysql_get(struct db_conn *c, int row, int col,
                         struct db_val *v)
{
    const struct db_mysql_cell *cell;

    memset(v, 0, sizeof(*v));
    v->type = DB_NULL;
    if (row < 0 || row >= db_mysql_nrows(c) || col < 0 || col >= c->ncols)
        return;
    cell = &c->cells[(size_t)row * (size_t)c->ncols + (size_t)col];
    if (cell->len == DB_MYSQL_NULL)
        return;
    v->type = DB_STR;
    v->s = c->data != NULL ? c->data + cell->off : "";
    v->len = cell->len;
}
