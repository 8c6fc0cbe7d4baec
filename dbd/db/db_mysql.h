#ifndef DB_MYSQL_H
#define DB_MYSQL_H
/*
 * SUMMARY
 *      db_mysql - private to the MySQL backend (db_mysql.c, db_mysql_rows.c)
 * DESCRIPTION
 *      struct db_conn: one MariaDB connection, the statements prepared
 *      on it (by stmt id), the running operation, the parameters of the
 *      running query and the rows of the last one. db_mysql.c connects
 *      and runs the operations; db_mysql_rows.c binds parameters and
 *      result buffers and keeps the rows.
 */
#include <stddef.h>

#include <mysql.h>

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

/*
 * db_mysql_params - copy the n values v into c and bind them to
 *      c->pbind (the caller's values may be gone when the execute
 *      starts). 0, or -1 when out of memory.
 */
extern int db_mysql_params(struct db_conn *c, int n, const struct db_val *v);

/*
 * db_mysql_bind_result - after a stored result: a string buffer per
 *      column as long as its longest value, bound to st; sets c->ncols.
 *      0, or -1 (out of memory, or the library refused).
 */
extern int db_mysql_bind_result(struct db_conn *c, MYSQL_STMT *st);

/* db_mysql_row - copy the row st just fetched; 0, or -1 (no memory) */
extern int db_mysql_row(struct db_conn *c, MYSQL_STMT *st);

/* db_mysql_free_result_bufs - the result buffers; the rows stay */
extern void db_mysql_free_result_bufs(struct db_conn *c);

/* the backend's nrows, ncols and get (db.h) */
extern int db_mysql_nrows(struct db_conn *c);
extern int db_mysql_ncols(struct db_conn *c);
extern void db_mysql_get(struct db_conn *c, int row, int col,
                         struct db_val *v);

#endif
