#ifndef DB_POSTGRES_H
#define DB_POSTGRES_H
/*
 * SUMMARY
 *      db_postgres - private to the PostgreSQL backend module
 * DESCRIPTION
 *      struct db_conn as the PostgreSQL module keeps it, and the text
 *      helpers of db_postgres_text.c that db_postgres.c uses.
 */
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "db.h"

/* "$n" is two bytes, one more than "?": see db_postgres_sql() */
_Static_assert(DB_PARAMS_MAX <= 9, "placeholders are $1..$9");
_Static_assert(DB_STMT_MAX <= 32, "prepared is a 32-bit mask");

#define DB_POSTGRES_CONNECTING 0
#define DB_POSTGRES_IDLE 1
#define DB_POSTGRES_PREPARE 2          /* PQsendPrepare sent */
#define DB_POSTGRES_EXEC 3             /* PQsendQueryPrepared sent */
#define DB_POSTGRES_BROKEN 4           /* DB_ERR_CONN given: close it */

#define DB_POSTGRES_INT_TEXT 24        /* "-9223372036854775808" + NUL */

struct db_conn {
    PGconn *pg;
    int state;                          /* DB_POSTGRES_* */
    char password[sizeof(((struct db_url *)0)->password)]; /* scrub */
    PGresult *res;                      /* the finished query's rows */
    PGresult *fail;                     /* first error result seen */
    int stmt;                           /* the running query's id */
    int retried;                        /* sent again once: stale */
    uint32_t prepared;                  /* bit per stmt id, this conn */
    unsigned gen[DB_STMT_MAX];          /* statement name suffix */
    char *sql[DB_STMT_MAX];             /* the text each id came with */
    int nparams;                        /* the running query's values, */
    const char *pval[DB_PARAMS_MAX];    /* as text, in pbuf; NULL=NULL */
    char *pbuf;
    size_t pcap;
};

/*
 * db_postgres_err - text into err (errlen bytes): on one line, trimmed,
 *      every occurrence of pw (when not empty) as "***".
 */
extern void db_postgres_err(const char *pw, char *err, size_t errlen,
                            const char *text);

/*
 * db_postgres_sql - the number of "?" placeholders in s; with out, also
 *      s with the n-th one as $n (out: strlen(s) + count + 1 bytes).
 */
extern int db_postgres_sql(const char *s, char *out);

/*
 * db_postgres_params - copy n values as text into c (pval, pbuf,
 *      nparams): 0, or DB_ERR_QUERY with err (a NUL byte in a string,
 *      an unknown type, no memory).
 */
extern int db_postgres_params(struct db_conn *c, int n,
                              const struct db_val *p, char *err,
                              size_t errlen);

#endif
