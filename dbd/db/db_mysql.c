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
 *      result set goes on with mysql_stmt_store_result_start/_cont, and
 *      fetches every row (mysql_stmt_fetch_start/_cont; the rows are in
 *      client memory by then) into this module's own storage
 *      (db_mysql_rows.c), so get() is random access; the library's copy
 *      is freed at once (mysql_stmt_free_result: no I/O for a stored
 *      result).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "db_mysql.h"

/* db_mysql_err - one line into err, the password (if any) as "***" */
__attribute__((format(printf, 4, 5)))
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

/*
 * db_mysql_step - go on with the running query after status (0: the
 *      last _start/_cont call finished), until it waits or ends.
 */
static int db_mysql_step(struct db_conn *c, int status, char *err,
                         size_t errlen)
{
    struct db_mysql_stmt *s = &c->stmts[c->stmt];
    my_bool one = 1;

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
            mysql_stmt_attr_set(s->st, STMT_ATTR_UPDATE_MAX_LENGTH, &one);
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
    if (c->op == DB_MYSQL_BROKEN)
        return db_mysql_fail_local(c, DB_ERR_CONN, err, errlen,
                                   "connection is broken");
    if (c->op != DB_MYSQL_IDLE) {
        db_mysql_err(c, err, errlen, "mysql: connection is busy");
        return DB_ERR_QUERY;            /* the running one goes on */
    }
    c->nrows = c->ncols = 0;            /* the last rows are gone now */
    c->dlen = c->ncells = 0;
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
