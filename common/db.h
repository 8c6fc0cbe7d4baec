#ifndef DB_H
#define DB_H
/*
 * SUMMARY
 *      db - the DB core interface: URLs, typed values, backend modules
 * DESCRIPTION
 *      dbd talks to a database only through a struct db_backend, which a
 *      backend module (build/lib/db_postgres.so, build/lib/db_mysql.so)
 *      exports under the symbol name DB_BACKEND_SYM. dbd dlopens only the
 *      module its URL's scheme names, so a proxy that uses PostgreSQL
 *      never maps libmariadb and the other way round.
 *
 *      Every call is non-blocking. A call that has to wait for the
 *      server returns a mask of DB_WAIT_READ / DB_WAIT_WRITE: the caller
 *      waits for that readiness of backend->fd() (which may change while
 *      connecting: ask again after every call) and then calls the
 *      matching _cont function with the events it saw. DB_DONE means the
 *      operation finished; DB_ERR_CONN means the connection is unusable
 *      (close it and reconnect); DB_ERR_QUERY means this query failed on
 *      a connection that is still good (a missing table, a type error).
 *
 *      Queries are parameterised only. The SQL text is a constant of
 *      dbd's, written with "?" placeholders (the PostgreSQL backend turns
 *      the n-th one into $n); values travel apart from the text
 *      (PQsendQueryParams, mysql_stmt_*), so no byte of SIP input is
 *      ever pasted into SQL. "stmt" is a small id (0..DB_STMT_MAX-1) the
 *      caller gives each distinct SQL text so a backend may prepare it
 *      once per connection and reuse it.
 *
 *      After a query is DB_DONE its rows are read with nrows/ncols/get
 *      (random access, every value as text or NULL) until the next
 *      query_start or close. A value's bytes stay valid until then.
 *
 *      A connection runs one operation at a time.
 *
 *      db_url_parse() reads "postgres://user:pw@host:port/dbname" (also
 *      postgresql:// and mysql://); user and password may be
 *      percent-encoded (%40 for "@"). db_url_mask() is the only form of a
 *      URL that may be logged or shown: the password becomes "***".
 * SECURITY
 *      A backend never puts the password in an error text, a log line,
 *      the environment or a command line; connection parameters are
 *      passed to the client library as parameters (PQconnectStartParams,
 *      mysql_real_connect_start), never as a conninfo string built with
 *      the password in it for logging.
 */
#include <stddef.h>
#include <stdint.h>

#define DB_SCHEME_POSTGRES 1
#define DB_SCHEME_MYSQL 2

#define DB_URL_TEXT 256                 /* longest URL accepted */

struct db_url {
    int scheme;                         /* DB_SCHEME_* */
    char user[64];
    char password[128];
    char host[128];                     /* name, IPv4, or IPv6 without [] */
    uint16_t port;                      /* host order; 0 = default */
    char dbname[64];
};

/*
 * db_url_parse - fill u from text (len bytes, not NUL-terminated).
 *      Returns 0, or -1 with a reason in err that never contains the
 *      password.
 */
extern int db_url_parse(const char *text, size_t len, struct db_url *u,
                        char *err, size_t errlen);

/*
 * db_url_mask - "scheme://user:***@host:port/dbname" into buf (the
 *      password, when there is one, as "***"). Returns buf.
 */
extern char *db_url_mask(const struct db_url *u, char *buf, size_t cap);

/* db_scheme_name - "postgres", "mysql" (module name is db_NAME.so) */
extern const char *db_scheme_name(int scheme);

/* Values: parameters in, column values out. */
#define DB_NULL 0
#define DB_INT 1
#define DB_STR 2

struct db_val {
    int type;                           /* DB_NULL, DB_INT, DB_STR */
    int64_t i;                          /* DB_INT */
    const char *s;                      /* DB_STR: not NUL-terminated */
    size_t len;
};

static inline struct db_val db_str(const char *s, size_t len)
{
    struct db_val v = {DB_STR, 0, s, len};

    return v;
}

static inline struct db_val db_int(int64_t i)
{
    struct db_val v = {DB_INT, i, NULL, 0};

    return v;
}

/* Return values of the backend calls. */
#define DB_DONE 0
#define DB_WAIT_READ 1                  /* >0: a mask of these */
#define DB_WAIT_WRITE 2
#define DB_ERR_CONN (-1)                /* connection unusable */
#define DB_ERR_QUERY (-2)               /* this query failed, conn good */

#define DB_STMT_MAX 16
#define DB_PARAMS_MAX 8
#define DB_ERR_TEXT 256

struct db_conn;                         /* a backend's own */

#define DB_BACKEND_SYM "db_backend"
#define DB_BACKEND_V1 1

struct db_backend {
    int version;                        /* DB_BACKEND_V1 */
    const char *name;                   /* "postgres", "mysql" */
    /*
     * open - start connecting to u. NULL (and err) when it cannot even
     *      start; else *wait is DB_DONE or a DB_WAIT_ mask for connect_cont.
     *      connect_timeout is dbd's business, not the backend's.
     */
    struct db_conn *(*open)(const struct db_url *u, int *wait, char *err,
                            size_t errlen);
    int (*connect_cont)(struct db_conn *c, int events, char *err,
                        size_t errlen);
    /* fd - the socket to watch now; -1 when there is none */
    int (*fd)(struct db_conn *c);
    /*
     * query_start - run sql (constant text, "?" placeholders, nparams
     *      of them, values in params) under id stmt. DB_DONE, a DB_WAIT_
     *      mask for query_cont, DB_ERR_CONN or DB_ERR_QUERY (with err).
     */
    int (*query_start)(struct db_conn *c, int stmt, const char *sql,
                       int nparams, const struct db_val *params, char *err,
                       size_t errlen);
    int (*query_cont)(struct db_conn *c, int events, char *err,
                      size_t errlen);
    /* the finished query's rows; get() returns DB_STR or DB_NULL in *v */
    int (*nrows)(struct db_conn *c);
    int (*ncols)(struct db_conn *c);
    void (*get)(struct db_conn *c, int row, int col, struct db_val *v);
    /* close - abort whatever runs, free everything; never blocks long */
    void (*close)(struct db_conn *c);
};

#endif
