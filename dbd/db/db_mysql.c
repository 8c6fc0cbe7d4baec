/*
 * SUMMARY
 *      db_mysql - the MySQL/MariaDB backend (build/lib/db_mysql.so)
 * DESCRIPTION
 *      struct db_backend (db.h) on MariaDB Connector/C's non-blocking
 *      API, and only on it: every call that may touch the socket is a
 *      _start/_cont pair, run on the connection's own coroutine stack
 *      (MYSQL_OPT_NONBLOCK), so nothing here waits for the server.
 *
 *      Connect: mysql_real_connect_start/_cont with the URL's parts as
 *      parameters (copied into the connection: the library reads them
 *      until the connect is done). TCP always (MYSQL_OPT_PROTOCOL), even
 *      for "localhost", so the URL's port is what is used; character
 *      set utf8mb4; no option files (mysql_init reads none), no
 *      automatic reconnect (dbd reconnects), LOAD DATA LOCAL off, no
 *      library timeouts (dbd keeps its own). A host name is resolved by
 *      the library with getaddrinfo(), which blocks: URLs for dbd should
 *      name an address.
 *
 *      Queries: prepared statements only. The first query_start of a
 *      statement id on a connection runs mysql_stmt_init and
 *      mysql_stmt_prepare_start/_cont on its SQL (kept, copied, per id),
 *      later ones reuse it; an id that comes with another SQL text has
 *      its old statement closed (mysql_stmt_close_start) and the new one
 *      prepared. Parameters are copied at query_start (the execute may
 *      start from a later query_cont) and bound as MYSQL_TYPE_STRING
 *      (DB_STR), MYSQL_TYPE_LONGLONG (DB_INT: compared exactly, not
 *      through a double) or is_null (DB_NULL); they never become SQL
 *      text. Then mysql_stmt_execute_start/_cont; a statement with a
 *      result set goes on with mysql_stmt_store_result_start/_cont
 *      (STMT_ATTR_UPDATE_MAX_LENGTH, so the longest value of each column
 *      is known), binds one MYSQL_TYPE_STRING buffer per column of that
 *      size (the library writes numbers and dates as text), and fetches
 *      every row (mysql_stmt_fetch_start/_cont; the rows are already in
 *      client memory) into this module's own storage: one byte arena and
 *      a cell (offset, length or NULL) per value, so get() is random
 *      access and the library's copy is freed at once
 *      (mysql_stmt_free_result: no I/O for a stored result). A value
 *      longer than its buffer after all is read again whole with
 *      mysql_stmt_fetch_column.
 *
 *      Waits: MYSQL_WAIT_READ and MYSQL_WAIT_EXCEPT become DB_WAIT_READ,
 *      MYSQL_WAIT_WRITE DB_WAIT_WRITE; a MYSQL_WAIT_TIMEOUT alone (only
 *      asked for when a library timeout is set, which this module never
 *      does) is reported as DB_WAIT_READ, and dbd's timer ends it.
 *
 *      Close: a connection that is idle sends COM_QUIT (a few bytes into
 *      an empty socket buffer) so the server does not log an aborted
 *      connection; one that is in the middle of an operation, or broken,
 *      is first cut with mariadb_cancel() (shutdown of the socket), so
 *      every write the library still tries fails at once. Statements are
 *      freed after mysql_close has detached them, without sending
 *      COM_STMT_CLOSE (the server drops them with the connection).
 * PROTOCOL
 *      The MySQL client/server protocol (COM_STMT_PREPARE, _EXECUTE,
 *      binary result rows) over TCP, all of it inside libmariadb.
 * SECURITY
 *      The password goes to mysql_real_connect_start as a parameter and
 *      is kept in the connection only for that call and for scrubbing:
 *      every error text is one line, and any occurrence of the password
 *      in it becomes "***"; it is zeroed at close.
 * DIAGNOSTICS
 *      Nothing is logged: errors go back through err (one line,
 *      "mysql: WHAT: MESSAGE (ERRNO)"). Connection-level errors
 *      (CR_SERVER_GONE_ERROR, CR_SERVER_LOST, CR_CONNECTION_ERROR, net
 *      errors, server shutdown, a killed connection, a socket the
 *      library has closed) and every connect failure are DB_ERR_CONN;
 *      other statement errors (syntax, a missing table, a duplicate key,
 *      a wrong number of parameters) are DB_ERR_QUERY on a connection
 *      that stays usable.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "db.h"

#define DB_MYSQL_NULL ((size_t)-1)      /* cell length of a NULL */
#define DB_MYSQL_MINBUF 64              /* result buffer, at least */

enum db_mysql_op {
    DB_MYSQL_IDLE,                      /* connected, nothing running */
    DB_MYSQL_CONNECT,
    DB_MYSQL_UNPREPARE,                 /* closing a stmt for new SQL */
    DB_MYSQL_PREPARE,
    DB_MYSQL_EXECUTE,
    DB_MYSQL_STORE,
    DB_MYSQL_FETCH,
    DB_MYSQL_BROKEN                     /* DB_ERR_CONN seen: close it */
};

struct db_mysql_stmt {
    MYSQL_STMT *st;                     /* NULL: not prepared here */
    char *sql;                          /* what st was prepared from */
};

struct db_mysql_cell {
    size_t off;                         /* into data */
    size_t len;                         /* DB_MYSQL_NULL for NULL */
};

struct db_conn {
    MYSQL *my;
    enum db_mysql_op op;
    int ret;                            /* of the int _start/_cont calls */
    my_bool bret;                       /* of mysql_stmt_close_start */
    MYSQL *cret;                        /* of mysql_real_connect_start */
    MYSQL_STMT *old;                    /* being closed (UNPREPARE) */
    int stmt;                           /* the running statement's id */
    char host[128], user[64], password[128], dbname[64];
    /* parameters, copied at query_start */
    int nparams;
    MYSQL_BIND pbind[DB_PARAMS_MAX];
    unsigned long plen[DB_PARAMS_MAX];
    long long pint[DB_PARAMS_MAX];
    char *pbuf;
    /* result buffers, one per column */
    unsigned rcols;
    MYSQL_BIND *rbind;
    unsigned long *rlen;
    my_bool *rnull, *rerr;
    char *rbuf;
    /* the finished query's rows */
    int nrows, ncols;
    char *data;
    size_t dlen, dcap;
    struct db_mysql_cell *cells;
    size_t ncells, ccap;
    struct db_mysql_stmt stmts[DB_STMT_MAX];
};

static const my_bool db_mysql_true = 1;

/* db_mysql_err - one line into err, the password (if any) as "***" */
static void db_mysql_err(struct db_conn *c, char *err, size_t errlen,
                         const char *fmt, ...)
{
    char buf[2048], *p;
    size_t pl = c != NULL ? strlen(c->password) : 0;
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (p = buf; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            *p = ' ';
    while (pl > 0 && (p = strstr(buf, c->password)) != NULL) {
        memmove(p + 3, p + pl, strlen(p + pl) + 1);
        memcpy(p, "***", 3);
    }
    snprintf(err, errlen, "%s", buf);
}

/* db_mysql_wait - a MYSQL_WAIT_ mask as DB_WAIT_ */
static int db_mysql_wait(int status)
{
    int w = 0;

    if (status & (MYSQL_WAIT_READ | MYSQL_WAIT_EXCEPT))
        w |= DB_WAIT_READ;
    if (status & MYSQL_WAIT_WRITE)
        w |= DB_WAIT_WRITE;
    return w ? w : DB_WAIT_READ;        /* TIMEOUT alone: dbd's timer */
}

/* db_mysql_events - the events dbd saw, as the library's mask */
static int db_mysql_events(int events)
{
    return (events & DB_WAIT_READ ? MYSQL_WAIT_READ : 0)
           | (events & DB_WAIT_WRITE ? MYSQL_WAIT_WRITE : 0);
}

/* db_mysql_conn_lost - errno means the connection cannot go on */
static int db_mysql_conn_lost(unsigned e)
{
    switch (e) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_IPSOCK_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_SERVER_GONE_ERROR:
    case CR_OUT_OF_MEMORY:
    case CR_SERVER_HANDSHAKE_ERR:
    case CR_SERVER_LOST:
    case CR_COMMANDS_OUT_OF_SYNC:
    case CR_SERVER_LOST_EXTENDED:
    case CR_ERR_NET_READ:
    case CR_ERR_NET_WRITE:
    case CR_ERR_NET_UNCOMPRESS:
    case ER_CON_COUNT_ERROR:
    case ER_SERVER_SHUTDOWN:
    case ER_ABORTING_CONNECTION:
    case ER_NET_PACKETS_OUT_OF_ORDER:
    case ER_NET_READ_ERROR:
    case ER_NET_READ_INTERRUPTED:
    case ER_NET_ERROR_ON_WRITE:
    case ER_NET_WRITE_INTERRUPTED:
    case ER_NEW_ABORTING_CONNECTION:
    case ER_CONNECTION_KILLED:
    case ER_UNKNOWN_STMT_HANDLER:       /* the server lost our stmts */
        return 1;
    }
    return 0;
}

/*
 * db_mysql_fail - the library's error (of st, else of the connection)
 *      into err; DB_ERR_CONN (the connection is marked broken) or
 *      DB_ERR_QUERY (it is idle again).
 */
static int db_mysql_fail(struct db_conn *c, MYSQL_STMT *st, const char *what,
                         char *err, size_t errlen)
{
    unsigned e = st != NULL ? mysql_stmt_errno(st) : 0;
    const char *msg = st != NULL ? mysql_stmt_error(st) : "";

    if (e == 0) {
        e = mysql_errno(c->my);
        msg = mysql_error(c->my);
    }
    db_mysql_err(c, err, errlen, "mysql: %s: %s (%u)", what,
                 msg[0] ? msg : "unknown error", e);
    c->nrows = c->ncols = 0;
    if (c->op == DB_MYSQL_CONNECT || db_mysql_conn_lost(e)
        || mysql_get_socket(c->my) == MARIADB_INVALID_SOCKET) {
        c->op = DB_MYSQL_BROKEN;
        return DB_ERR_CONN;
    }
    c->op = DB_MYSQL_IDLE;
    return DB_ERR_QUERY;
}

/* db_mysql_fail_local - an error of ours (not the library's) */
static int db_mysql_fail_local(struct db_conn *c, int r, char *err,
                               size_t errlen, const char *why)
{
    db_mysql_err(c, err, errlen, "mysql: %s", why);
    c->nrows = c->ncols = 0;
    c->op = r == DB_ERR_CONN ? DB_MYSQL_BROKEN : DB_MYSQL_IDLE;
    return r;
}

/* db_mysql_fail_count - placeholders and values do not agree */
static int db_mysql_fail_count(struct db_conn *c, MYSQL_STMT *st, char *err,
                               size_t errlen)
{
    char why[80];

    snprintf(why, sizeof(why), "%lu placeholders, %d values given",
             mysql_stmt_param_count(st), c->nparams);
    return db_mysql_fail_local(c, DB_ERR_QUERY, err, errlen, why);
}

static void db_mysql_free_result_bufs(struct db_conn *c)
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

static void db_mysql_close(struct db_conn *c)
{
    int i;

    if (c == NULL)
        return;
    if (c->my != NULL) {
        if (c->op != DB_MYSQL_IDLE)
            mariadb_cancel(c->my);      /* no write may wait from here */
        mysql_close(c->my);             /* detaches the statements */
    }
    for (i = 0; i < DB_STMT_MAX; i++) {
        if (c->stmts[i].st != NULL)
            mysql_stmt_close(c->stmts[i].st);
        free(c->stmts[i].sql);
    }
    if (c->old != NULL)
        mysql_stmt_close(c->old);
    db_mysql_free_result_bufs(c);
    free(c->pbuf);
    free(c->data);
    free(c->cells);
    explicit_bzero(c->password, sizeof(c->password));
    free(c);
}

/* db_mysql_connected - the result of a connect step */
static int db_mysql_connected(struct db_conn *c, int status, char *err,
                              size_t errlen)
{
    if (status != 0)
        return db_mysql_wait(status);
    if (c->cret == NULL)
        return db_mysql_fail(c, NULL, "connect", err, errlen);
    c->op = DB_MYSQL_IDLE;
    return DB_DONE;
}

static struct db_conn *db_mysql_open(const struct db_url *u, int *wait,
                                     char *err, size_t errlen)
{
    struct db_conn *c;
    unsigned proto = MYSQL_PROTOCOL_TCP, infile = 0;
    my_bool off = 0;
    int r;

    if ((c = calloc(1, sizeof(*c))) == NULL
        || (c->my = mysql_init(NULL)) == NULL) {
        db_mysql_err(NULL, err, errlen, "mysql: out of memory");
        free(c);
        return NULL;
    }
    snprintf(c->host, sizeof(c->host), "%s", u->host);
    snprintf(c->user, sizeof(c->user), "%s", u->user);
    snprintf(c->password, sizeof(c->password), "%s", u->password);
    snprintf(c->dbname, sizeof(c->dbname), "%s", u->dbname);
    if (mysql_options(c->my, MYSQL_OPT_NONBLOCK, 0) != 0
        || mysql_options(c->my, MYSQL_OPT_PROTOCOL, &proto) != 0
        || mysql_options(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0
        || mysql_options(c->my, MYSQL_OPT_RECONNECT, &off) != 0
        || mysql_options(c->my, MYSQL_OPT_LOCAL_INFILE, &infile) != 0) {
        db_mysql_err(c, err, errlen, "mysql: setting connection options "
                                     "failed");
        db_mysql_close(c);
        return NULL;
    }
    c->op = DB_MYSQL_CONNECT;
    /* the password is a parameter: "" (not NULL: that reads MYSQL_PWD) */
    r = mysql_real_connect_start(&c->cret, c->my, c->host, c->user,
                                 c->password,
                                 c->dbname[0] ? c->dbname : NULL, u->port,
                                 NULL, 0);
    r = db_mysql_connected(c, r, err, errlen);
    if (r < 0) {
        db_mysql_close(c);
        return NULL;
    }
    *wait = r;
    return c;
}

static int db_mysql_connect_cont(struct db_conn *c, int events, char *err,
                                 size_t errlen)
{
    if (c->op != DB_MYSQL_CONNECT)
        return db_mysql_fail_local(c, DB_ERR_CONN, err, errlen,
                                   "connect_cont: not connecting");
    return db_mysql_connected(
        c, mysql_real_connect_cont(&c->cret, c->my, db_mysql_events(events)),
        err, errlen);
}

static int db_mysql_fd(struct db_conn *c)
{
    my_socket s = mysql_get_socket(c->my);

    return s == MARIADB_INVALID_SOCKET ? -1 : (int)s;
}

/* db_mysql_params - copy and bind params (the caller's may not live on) */
static int db_mysql_params(struct db_conn *c, int n, const struct db_val *v)
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
                b->is_null = (my_bool *)&db_mysql_true;
            }
            b->buffer_length = c->plen[i];
            b->length = &c->plen[i];
        }
    }
    c->nparams = n;
    return 0;
}

/* db_mysql_bind_result - one string buffer per column, its longest */
static int db_mysql_bind_result(struct db_conn *c, MYSQL_STMT *st)
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
static int db_mysql_row(struct db_conn *c, MYSQL_STMT *st)
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

/*
 * db_mysql_step - go on with the running query after status (0: the
 *      last _start/_cont call finished), until it waits or ends.
 */
static int db_mysql_step(struct db_conn *c, int status, char *err,
                         size_t errlen)
{
    struct db_mysql_stmt *s = &c->stmts[c->stmt];

    for (;;) {
        if (status != 0)
            return db_mysql_wait(status);
        switch (c->op) {
        case DB_MYSQL_UNPREPARE:
            c->old = NULL;              /* freed, whatever bret says */
            if ((s->st = mysql_stmt_init(c->my)) == NULL)
                return db_mysql_fail(c, NULL, "stmt_init", err, errlen);
            c->op = DB_MYSQL_PREPARE;
            status = mysql_stmt_prepare_start(&c->ret, s->st, s->sql,
                                              strlen(s->sql));
            break;
        case DB_MYSQL_PREPARE:
            if (c->ret != 0) {
                int r = db_mysql_fail(c, s->st, "prepare", err, errlen);

                mysql_stmt_close(s->st);  /* not prepared: sends nothing */
                s->st = NULL;
                return r;
            }
            mysql_stmt_attr_set(s->st, STMT_ATTR_UPDATE_MAX_LENGTH,
                                &db_mysql_true);
            /* fall through */
        case DB_MYSQL_IDLE:             /* prepared before */
            if (mysql_stmt_param_count(s->st) != (unsigned long)c->nparams)
                return db_mysql_fail_count(c, s->st, err, errlen);
            if (mysql_stmt_bind_param(s->st, c->pbind))
                return db_mysql_fail(c, s->st, "bind", err, errlen);
            c->op = DB_MYSQL_EXECUTE;
            status = mysql_stmt_execute_start(&c->ret, s->st);
            break;
        case DB_MYSQL_EXECUTE:
            if (c->ret != 0)
                return db_mysql_fail(c, s->st, "execute", err, errlen);
            if (mysql_stmt_field_count(s->st) == 0) {
                c->op = DB_MYSQL_IDLE;  /* no result set: no rows */
                return DB_DONE;
            }
            c->op = DB_MYSQL_STORE;
            status = mysql_stmt_store_result_start(&c->ret, s->st);
            break;
        case DB_MYSQL_STORE:
            if (c->ret != 0)
                return db_mysql_fail(c, s->st, "store_result", err, errlen);
            if (db_mysql_bind_result(c, s->st) < 0)
                return db_mysql_fail_local(c, DB_ERR_CONN, err, errlen,
                                           "binding the result failed");
            c->op = DB_MYSQL_FETCH;
            status = mysql_stmt_fetch_start(&c->ret, s->st);
            break;
        case DB_MYSQL_FETCH:
            if (c->ret == MYSQL_NO_DATA) {
                mysql_stmt_free_result(s->st);
                c->op = DB_MYSQL_IDLE;
                return DB_DONE;
            }
            if (c->ret != 0 && c->ret != MYSQL_DATA_TRUNCATED)
                return db_mysql_fail(c, s->st, "fetch", err, errlen);
            if (db_mysql_row(c, s->st) < 0)
                return db_mysql_fail_local(c, DB_ERR_CONN, err, errlen,
                                           "out of memory for rows");
            status = mysql_stmt_fetch_start(&c->ret, s->st);
            break;
        default:
            return db_mysql_fail_local(c, DB_ERR_CONN, err, errlen,
                                       "query in a bad state");
        }
    }
}

/* db_mysql_begin - prepare (again) when stmt id s has no stmt for sql */
static int db_mysql_begin(struct db_conn *c, const char *sql, char *err,
                          size_t errlen)
{
    struct db_mysql_stmt *s = &c->stmts[c->stmt];
    int status;

    if (s->st != NULL && strcmp(s->sql, sql) == 0)
        return db_mysql_step(c, 0, err, errlen);    /* op is IDLE */
    free(s->sql);
    if ((s->sql = strdup(sql)) == NULL)
        return db_mysql_fail_local(c, DB_ERR_CONN, err, errlen,
                                   "out of memory");
    if (s->st != NULL) {                /* the id now names other SQL */
        c->old = s->st;
        s->st = NULL;
        c->op = DB_MYSQL_UNPREPARE;
        status = mysql_stmt_close_start(&c->bret, c->old);
    } else {
        if ((s->st = mysql_stmt_init(c->my)) == NULL)
            return db_mysql_fail(c, NULL, "stmt_init", err, errlen);
        c->op = DB_MYSQL_PREPARE;
        status = mysql_stmt_prepare_start(&c->ret, s->st, s->sql,
                                          strlen(s->sql));
    }
    return db_mysql_step(c, status, err, errlen);
}

static int db_mysql_query_start(struct db_conn *c, int stmt, const char *sql,
                                int nparams, const struct db_val *params,
                                char *err, size_t errlen)
{
    c->nrows = c->ncols = 0;
    c->dlen = c->ncells = 0;
    if (c->op == DB_MYSQL_BROKEN)
        return db_mysql_fail_local(c, DB_ERR_CONN, err, errlen,
                                   "connection is broken");
    if (c->op != DB_MYSQL_IDLE) {
        db_mysql_err(c, err, errlen, "mysql: connection is busy");
        return DB_ERR_QUERY;            /* the running one goes on */
    }
    if (stmt < 0 || stmt >= DB_STMT_MAX || nparams < 0
        || nparams > DB_PARAMS_MAX || sql == NULL
        || (nparams > 0 && params == NULL))
        return db_mysql_fail_local(c, DB_ERR_QUERY, err, errlen,
                                   "bad statement id or parameters");
    if (db_mysql_params(c, nparams, params) < 0)
        return db_mysql_fail_local(c, DB_ERR_CONN, err, errlen,
                                   "out of memory");
    c->stmt = stmt;
    return db_mysql_begin(c, sql, err, errlen);
}

static int db_mysql_query_cont(struct db_conn *c, int events, char *err,
                               size_t errlen)
{
    struct db_mysql_stmt *s = &c->stmts[c->stmt];
    int ev = db_mysql_events(events), status;

    switch (c->op) {
    case DB_MYSQL_UNPREPARE:
        status = mysql_stmt_close_cont(&c->bret, c->old, ev);
        break;
    case DB_MYSQL_PREPARE:
        status = mysql_stmt_prepare_cont(&c->ret, s->st, ev);
        break;
    case DB_MYSQL_EXECUTE:
        status = mysql_stmt_execute_cont(&c->ret, s->st, ev);
        break;
    case DB_MYSQL_STORE:
        status = mysql_stmt_store_result_cont(&c->ret, s->st, ev);
        break;
    case DB_MYSQL_FETCH:
        status = mysql_stmt_fetch_cont(&c->ret, s->st, ev);
        break;
    default:
        return db_mysql_fail_local(c, DB_ERR_CONN, err, errlen,
                                   "query_cont: no query running");
    }
    return db_mysql_step(c, status, err, errlen);
}

static int db_mysql_nrows(struct db_conn *c)
{
    return c->op == DB_MYSQL_IDLE ? c->nrows : 0;
}

static int db_mysql_ncols(struct db_conn *c)
{
    return c->op == DB_MYSQL_IDLE ? c->ncols : 0;
}

static void db_mysql_get(struct db_conn *c, int row, int col,
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

const struct db_backend db_backend = {
    .version = DB_BACKEND_V1,
    .name = "mysql",
    .open = db_mysql_open,
    .connect_cont = db_mysql_connect_cont,
    .fd = db_mysql_fd,
    .query_start = db_mysql_query_start,
    .query_cont = db_mysql_query_cont,
    .nrows = db_mysql_nrows,
    .ncols = db_mysql_ncols,
    .get = db_mysql_get,
    .close = db_mysql_close,
};
