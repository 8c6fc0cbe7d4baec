/*
 * SUMMARY
 *      db_postgres - the PostgreSQL backend module (build/lib/db_postgres.so)
 * DESCRIPTION
 *      struct db_backend (common/db.h) on libpq's asynchronous API: no
 *      call here waits for the server. open() starts the connection with
 *      PQconnectStartParams (keyword arrays: the password is a parameter,
 *      never part of a conninfo string), and connect_cont() maps
 *      PQconnectPoll's answer to DB_WAIT_READ / DB_WAIT_WRITE / DB_DONE /
 *      DB_ERR_CONN. libpq connects on a non-blocking socket; once
 *      connected the connection is put in non-blocking mode too
 *      (PQsetnonblocking), so sending a query never waits either.
 *
 *      Queries: each stmt id's SQL has its "?" placeholders turned into
 *      $1..$n (outside quotes and comments; dollar quotes are not
 *      understood, dbd's SQL has none) and is prepared once per
 *      connection (PQsendPrepare), then run with PQsendQueryPrepared;
 *      parameters go as text (DB_INT printed in decimal, DB_NULL as a
 *      NULL pointer), so no value is ever part of the SQL text. A
 *      prepared statement the server lost (26000, e.g. after DISCARD
 *      ALL) or whose plan went stale (0A000, "cached plan must not
 *      change result type") did not run: it is prepared again under a
 *      new name and run once more, invisibly to the caller. A stmt id
 *      given another SQL text than the first one it came with is a
 *      DB_ERR_QUERY (a caller's bug). The text work (placeholders,
 *      values as text, error lines) is in db_postgres_text.c.
 *
 *      Driving a query: PQconsumeInput when the socket was readable,
 *      PQflush (1: wait for write as well as read), then PQgetResult
 *      while !PQisBusy until it returns NULL. The last good result is
 *      kept for nrows/ncols/get until the next query_start or close, so
 *      get()'s bytes (PQgetvalue) stay valid that long.
 *
 *      Blocking: a host that is an IP literal is also passed as
 *      hostaddr, so libpq does no name lookup. A host name is resolved
 *      by libpq with getaddrinfo() (blocking; /etc/hosts is quick, DNS
 *      may not be): configure an address. close() is PQfinish, which
 *      queues a Terminate message on the non-blocking socket and closes
 *      it; a query still running on the server is not cancelled
 *      (PQcancel would block), the server stops it when it finds the
 *      socket closed.
 * SECURITY
 *      Every error text goes through db_postgres_err(), which makes it
 *      one line and replaces any occurrence of the password with "***"
 *      before it is cut to errlen. libpq's notices (its default is to
 *      print them on stderr) are dropped. The password copy kept for
 *      that scrub is wiped on close.
 * PROTOCOL
 *      None of sipstage's rings: libpq's frontend/backend protocol to the
 *      server, one operation at a time per connection.
 * DIAGNOSTICS
 *      Never logs (a module has no logger): every failure is a return
 *      value and a text in err. DB_ERR_CONN: the connection failed or is
 *      unusable (PQstatus CONNECTION_BAD, PQconsumeInput or PQflush
 *      failed, an unexpected result kind such as COPY, a call while
 *      another operation runs). DB_ERR_QUERY: the statement failed on a
 *      connection that is still good, or its arguments were wrong (bad
 *      stmt id, placeholder count, a NUL byte in a string value); the
 *      server's reason is "primary message (SQLSTATE xxxxx)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "db_postgres.h"

/* db_postgres_broken - the connection is unusable: libpq's reason */
static int db_postgres_broken(struct db_conn *c, char *err, size_t errlen,
                              const char *why)
{
    c->state = DB_POSTGRES_BROKEN;
    db_postgres_err(c->password, err, errlen,
                    why ? why : PQerrorMessage(c->pg));
    return DB_ERR_CONN;
}

/* db_postgres_fail - a failed statement: DB_ERR_QUERY, or _CONN if bad */
static int db_postgres_fail(struct db_conn *c, PGresult *r, char *err,
                            size_t errlen)
{
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    size_t n;

    if (PQstatus(c->pg) == CONNECTION_BAD) {
        c->state = DB_POSTGRES_BROKEN;
        db_postgres_err(c->password, err, errlen,
                        msg ? msg : PQerrorMessage(c->pg));
        return DB_ERR_CONN;
    }
    c->state = DB_POSTGRES_IDLE;
    db_postgres_err(c->password, err, errlen,
                    msg ? msg : PQresultErrorMessage(r));
    if (code != NULL && err != NULL && (n = strlen(err)) < errlen)
        snprintf(err + n, errlen - n, " (SQLSTATE %.5s)", code);
    return DB_ERR_QUERY;
}

/* libpq prints notices on stderr unless told otherwise: drop them */
static void db_postgres_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*
 * db_postgres_send - prepare c->stmt if this conn has not, else run it:
 *      0, DB_ERR_QUERY (state IDLE) or DB_ERR_CONN (state BROKEN)
 */
static int db_postgres_send(struct db_conn *c, char *err, size_t errlen)
{
    char name[32], *text;
    int s = c->stmt, ok, n;

    snprintf(name, sizeof(name), "sipstage_%d_%u", s, c->gen[s]);
    if (c->prepared & (1u << s)) {
        ok = PQsendQueryPrepared(c->pg, name, c->nparams, c->pval, NULL,
                                 NULL, 0);
        c->state = DB_POSTGRES_EXEC;
    } else {
        if ((n = db_postgres_sql(c->sql[s], NULL)) != c->nparams) {
            snprintf(err, errlen, "stmt %d: %d placeholders, %d values", s,
                     n, c->nparams);
            c->state = DB_POSTGRES_IDLE;
            return DB_ERR_QUERY;
        }
        if ((text = malloc(strlen(c->sql[s]) + (size_t)n + 1)) == NULL) {
            snprintf(err, errlen, "stmt %d: out of memory", s);
            c->state = DB_POSTGRES_IDLE;
            return DB_ERR_QUERY;
        }
        db_postgres_sql(c->sql[s], text);
        ok = PQsendPrepare(c->pg, name, text, n, NULL);
        free(text);
        c->state = DB_POSTGRES_PREPARE;
    }
    return ok ? 0 : db_postgres_broken(c, err, errlen, NULL);
}

/*
 * db_postgres_pump - read, write and collect results of the command
 *      sent: a DB_WAIT_ mask, DB_DONE once PQgetResult gave NULL (the
 *      results are in c->res / c->fail), or DB_ERR_CONN.
 */
static int db_postgres_pump(struct db_conn *c, int events, char *err,
                            size_t errlen)
{
    PGresult *r;
    int f;

    if ((events & DB_WAIT_READ) && !PQconsumeInput(c->pg))
        return db_postgres_broken(c, err, errlen, NULL);
    if ((f = PQflush(c->pg)) < 0)
        return db_postgres_broken(c, err, errlen, NULL);
    if (f == 1)                         /* read too: the server may wait */
        return DB_WAIT_READ | DB_WAIT_WRITE;
    while (!PQisBusy(c->pg)) {
        if ((r = PQgetResult(c->pg)) == NULL)
            return DB_DONE;
        switch (PQresultStatus(r)) {
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY:
            PQclear(c->res);
            c->res = r;
            break;
        case PGRES_FATAL_ERROR:
        case PGRES_NONFATAL_ERROR:
        case PGRES_BAD_RESPONSE:
            if (c->fail == NULL)
                c->fail = r;
            else
                PQclear(r);
            break;
        default:                        /* COPY: PQgetResult never ends */
            PQclear(r);
            return db_postgres_broken(c, err, errlen,
                                      "unexpected result kind");
        }
    }
    return DB_WAIT_READ;
}

/* db_postgres_prepared - the prepare finished: send the query itself */
static int db_postgres_prepared(struct db_conn *c, char *err, size_t errlen)
{
    PQclear(c->res);
    c->res = NULL;
    if (c->fail != NULL) {
        int r = db_postgres_fail(c, c->fail, err, errlen);

        PQclear(c->fail);
        c->fail = NULL;
        return r;
    }
    c->prepared |= 1u << c->stmt;
    return db_postgres_send(c, err, errlen);
}

/*
 * db_postgres_stale - the server lost our prepared statement (26000) or
 *      its plan no longer fits (0A000, "cached plan must not change
 *      result type"): the statement did not run, so prepare it again
 *      under a new name and run it, once per query.
 */
static int db_postgres_stale(struct db_conn *c, char *err, size_t errlen)
{
    const char *code = PQresultErrorField(c->fail, PG_DIAG_SQLSTATE);
    int r;

    if (c->retried || code == NULL || PQstatus(c->pg) != CONNECTION_OK
        || (strcmp(code, "26000") != 0 && strcmp(code, "0A000") != 0))
        return 0;
    c->retried = 1;
    c->prepared &= ~(1u << c->stmt);
    c->gen[c->stmt]++;
    PQclear(c->fail);
    c->fail = NULL;
    PQclear(c->res);
    c->res = NULL;
    return (r = db_postgres_send(c, err, errlen)) < 0 ? r : 1;
}

/*
 * db_postgres_finish - the query finished: DB_DONE with its rows, an
 *      error, or DB_DONE with c->state PREPARE when it was sent again.
 */
static int db_postgres_finish(struct db_conn *c, char *err, size_t errlen)
{
    int r;

    if (c->fail != NULL) {
        if ((r = db_postgres_stale(c, err, errlen)) != 0)
            return r > 0 ? DB_DONE : r;
        r = db_postgres_fail(c, c->fail, err, errlen);
        PQclear(c->fail);
        c->fail = NULL;
        PQclear(c->res);
        c->res = NULL;
        return r;
    }
    if (c->res == NULL)
        return db_postgres_broken(c, err, errlen, "no result");
    c->state = DB_POSTGRES_IDLE;
    return DB_DONE;
}

/* db_postgres_step - drive the running query as far as it goes now */
static int db_postgres_step(struct db_conn *c, int events, char *err,
                            size_t errlen)
{
    int r;

    for (;;) {
        if ((r = db_postgres_pump(c, events, err, errlen)) != DB_DONE)
            return r;
        events = 0;
        if (c->state == DB_POSTGRES_PREPARE)
            r = db_postgres_prepared(c, err, errlen);
        else
            r = db_postgres_finish(c, err, errlen);
        if (r != DB_DONE || c->state == DB_POSTGRES_IDLE)
            return r;
    }
}

static struct db_conn *db_postgres_open(const struct db_url *u, int *wait,
                                        char *err, size_t errlen)
{
    const char *kw[10], *val[10];
    unsigned char addr[16];
    char port[8];
    struct db_conn *c;
    int n = 0;

    *wait = DB_ERR_CONN;
    if (u->host[0] != '\0') {
        kw[n] = "host", val[n++] = u->host;
        if (inet_pton(AF_INET, u->host, addr) == 1
            || inet_pton(AF_INET6, u->host, addr) == 1)
            kw[n] = "hostaddr", val[n++] = u->host;  /* no name lookup */
    }
    if (u->port != 0) {
        snprintf(port, sizeof(port), "%u", (unsigned)u->port);
        kw[n] = "port", val[n++] = port;
    }
    if (u->dbname[0] != '\0')
        kw[n] = "dbname", val[n++] = u->dbname;
    if (u->user[0] != '\0')
        kw[n] = "user", val[n++] = u->user;
    if (u->password[0] != '\0')
        kw[n] = "password", val[n++] = u->password;
    kw[n] = "application_name", val[n++] = "sipstage-dbd";
    kw[n] = "client_encoding", val[n++] = "UTF8";
    kw[n] = NULL, val[n] = NULL;

    if ((c = calloc(1, sizeof(*c))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(c->password, u->password, sizeof(c->password));
    c->password[sizeof(c->password) - 1] = '\0';
    c->state = DB_POSTGRES_CONNECTING;
    if ((c->pg = PQconnectStartParams(kw, val, 0)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    PQsetNoticeProcessor(c->pg, db_postgres_notice, NULL);
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        db_postgres_err(c->password, err, errlen, PQerrorMessage(c->pg));
        goto out;
    }
    *wait = DB_WAIT_WRITE;              /* libpq: poll as if WRITING */
    return c;
out:
    PQfinish(c->pg);                    /* accepts NULL */
    explicit_bzero(c->password, sizeof(c->password));
    free(c);
    return NULL;
}

static int db_postgres_connect_cont(struct db_conn *c, int events,
                                    char *err, size_t errlen)
{
    (void)events;                       /* PQconnectPoll reads the socket */
    if (c->state == DB_POSTGRES_IDLE)
        return DB_DONE;
    if (c->state != DB_POSTGRES_CONNECTING)
        return db_postgres_broken(c, err, errlen, "not connecting");
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_READING:
        return DB_WAIT_READ;
    case PGRES_POLLING_WRITING:
        return DB_WAIT_WRITE;
    case PGRES_POLLING_OK:
        /* the connecting socket is non-blocking anyway; queries need the
         * flag. Set now: set earlier, it wipes libpq's error text. */
        if (PQsetnonblocking(c->pg, 1) != 0)
            return db_postgres_broken(c, err, errlen, NULL);
        c->state = DB_POSTGRES_IDLE;
        return DB_DONE;
    case PGRES_POLLING_ACTIVE:          /* unused by libpq: ask again */
        return DB_WAIT_READ | DB_WAIT_WRITE;
    default:
        return db_postgres_broken(c, err, errlen, NULL);
    }
}

static int db_postgres_fd(struct db_conn *c)
{
    return c->pg ? PQsocket(c->pg) : -1;
}

/* db_postgres_check - a query's arguments, before anything is sent */
static int db_postgres_check(struct db_conn *c, int stmt, const char *sql,
                             int nparams, const struct db_val *params,
                             char *err, size_t errlen)
{
    if (stmt < 0 || stmt >= DB_STMT_MAX || sql == NULL || nparams < 0
        || nparams > DB_PARAMS_MAX || (nparams > 0 && params == NULL)) {
        snprintf(err, errlen, "stmt %d: bad arguments", stmt);
        return DB_ERR_QUERY;
    }
    if (c->sql[stmt] == NULL && (c->sql[stmt] = strdup(sql)) == NULL) {
        snprintf(err, errlen, "stmt %d: out of memory", stmt);
        return DB_ERR_QUERY;
    }
    if (strcmp(c->sql[stmt], sql) != 0) {
        snprintf(err, errlen, "stmt %d: other SQL than before", stmt);
        return DB_ERR_QUERY;
    }
    return db_postgres_params(c, nparams, params, err, errlen);
}

static int db_postgres_query_start(struct db_conn *c, int stmt,
                                   const char *sql, int nparams,
                                   const struct db_val *params, char *err,
                                   size_t errlen)
{
    int r;

    if (c->state != DB_POSTGRES_IDLE)
        return db_postgres_broken(c, err, errlen,
                                  c->state == DB_POSTGRES_PREPARE
                                  || c->state == DB_POSTGRES_EXEC
                                      ? "busy: one operation at a time"
                                      : "not connected");
    PQclear(c->res);                    /* get()'s bytes end here */
    c->res = NULL;
    if ((r = db_postgres_check(c, stmt, sql, nparams, params, err,
                               errlen)) < 0)
        return r;
    c->stmt = stmt;
    c->retried = 0;
    if ((r = db_postgres_send(c, err, errlen)) < 0)
        return r;
    return db_postgres_step(c, 0, err, errlen);
}

static int db_postgres_query_cont(struct db_conn *c, int events, char *err,
                                  size_t errlen)
{
    if (c->state == DB_POSTGRES_IDLE)
        return DB_DONE;
    if (c->state != DB_POSTGRES_PREPARE && c->state != DB_POSTGRES_EXEC)
        return db_postgres_broken(c, err, errlen, "no query running");
    return db_postgres_step(c, events, err, errlen);
}

static int db_postgres_nrows(struct db_conn *c)
{
    return c->res ? PQntuples(c->res) : 0;
}

static int db_postgres_ncols(struct db_conn *c)
{
    return c->res ? PQnfields(c->res) : 0;
}

static void db_postgres_get(struct db_conn *c, int row, int col,
                            struct db_val *v)
{
    memset(v, 0, sizeof(*v));
    v->type = DB_NULL;
    if (c->res == NULL || row < 0 || row >= PQntuples(c->res) || col < 0
        || col >= PQnfields(c->res) || PQgetisnull(c->res, row, col))
        return;
    v->type = DB_STR;
    v->s = PQgetvalue(c->res, row, col);
    v->len = (size_t)PQgetlength(c->res, row, col);
}

static void db_postgres_close(struct db_conn *c)
{
    int i;

    if (c == NULL)
        return;
    PQclear(c->res);
    PQclear(c->fail);
    PQfinish(c->pg);
    for (i = 0; i < DB_STMT_MAX; i++)
        free(c->sql[i]);
    free(c->pbuf);
    explicit_bzero(c->password, sizeof(c->password));
    free(c);
}

const struct db_backend db_backend = {
    .version = DB_BACKEND_V1,
    .name = "postgres",
    .open = db_postgres_open,
    .connect_cont = db_postgres_connect_cont,
    .fd = db_postgres_fd,
    .query_start = db_postgres_query_start,
    .query_cont = db_postgres_query_cont,
    .nrows = db_postgres_nrows,
    .ncols = db_postgres_ncols,
    .get = db_postgres_get,
    .close = db_postgres_close,
};
