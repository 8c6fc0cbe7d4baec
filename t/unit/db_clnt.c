/*
 * SUMMARY
 *      db_clnt - unit tests of DB URLs and of the dbd record codec
 * DESCRIPTION
 *      db_url_parse() on good and bad URLs (percent-decoding, IPv6
 *      hosts, ports, and error texts that never carry the password),
 *      db_url_mask(), and db_clnt_query()/db_val_next() over a real ring
 *      formatted in process memory: values with every byte value, NULL,
 *      integers, SQL metacharacters, and the refusals.
 * PROTOCOL
 *      TAP on stdout.
 * DIAGNOSTICS
 *      Exit status: number of failed tests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db_clnt.h"
#include "tap.h"

#define T_RING 8192

static void t_url_ok(const char *text, int scheme, const char *user,
                     const char *pw, const char *host, int port,
                     const char *db, const char *masked)
{
    struct db_url u;
    char err[DB_ERR_TEXT], buf[512];

    if (!ok(db_url_parse(text, strlen(text), &u, err, sizeof(err)) == 0,
            "parse %s", masked)) {
        diag("err: %s", err);
        return;
    }
    is_int(u.scheme, scheme, "%s: scheme", masked);
    is_str(u.user, user, "%s: user", masked);
    is_str(u.password, pw, "%s: password", masked);
    is_str(u.host, host, "%s: host", masked);
    is_int(u.port, port, "%s: port", masked);
    is_str(u.dbname, db, "%s: dbname", masked);
    is_str(db_url_mask(&u, buf, sizeof(buf)), masked, "%s: masked", masked);
}

static void t_url_bad(const char *text, const char *why)
{
    struct db_url u;
    char err[DB_ERR_TEXT];

    ok(db_url_parse(text, strlen(text), &u, err, sizeof(err)) < 0,
       "refused: %s", why);
    is_str(err, why, "reason: %s", why);
    ok(strstr(err, "s3cr3t") == NULL, "no password in: %s", why);
}

static void t_urls(void)
{
    t_url_ok("postgres://sip:pw@127.0.0.1:5432/sipstage", DB_SCHEME_POSTGRES,
             "sip", "pw", "127.0.0.1", 5432, "sipstage",
             "postgres://sip:***@127.0.0.1:5432/sipstage");
    t_url_ok("postgresql://h/s", DB_SCHEME_POSTGRES, "", "", "h", 0, "s",
             "postgres://h/s");
    t_url_ok("MYSQL://u@[::1]:3306/db", DB_SCHEME_MYSQL, "u", "", "::1", 3306,
             "db", "mysql://u@[::1]:3306/db");
    t_url_ok("mysql://u:p%40ss%3Aw@h:1/d", DB_SCHEME_MYSQL, "u", "p@ss:w", "h",
             1, "d", "mysql://u:***@h:1/d");
    /* an unencoded "@" in the password: the last one ends it */
    t_url_ok("mysql://u:a@b@h/d", DB_SCHEME_MYSQL, "u", "a@b", "h", 0, "d",
             "mysql://u:***@h/d");
    t_url_bad("http://u:s3cr3t@h/s",
              "bad url scheme (postgres://, postgresql:// or mysql://)");
    t_url_bad("postgres://u:s3cr3t%zz@h/s", "bad or too long password in url");
    t_url_bad("postgres://u:s3cr3t@/s", "url has no host");
    t_url_bad("postgres://u:s3cr3t@h:0/s", "bad url port");
    t_url_bad("postgres://u:s3cr3t@h:65536/s", "bad url port");
    t_url_bad("postgres://u:s3cr3t@h:5x/s", "bad url port");
    t_url_bad("postgres://u:s3cr3t@[::1/s", "unterminated [ in url host");
    t_url_bad("postgres://u:s3cr3t@h/s?sslmode=off",
              "url options are not supported");
}

static void t_codec(void)
{
    static const char meta[] = "'; DROP TABLE dbaliases; --\\%_\xc3\xa9";
    char bin[256];
    void *mem = aligned_alloc(64, ring_shm_bytes(T_RING));
    struct ring prod, cons;
    const struct ring_rec *rec;
    const struct msg_db_query *q;
    struct db_val in[4], v;
    const char *p, *end;
    char big[MSG_DB_VAL_MAX + 1];
    int i;

    for (i = 0; i < 256; i++)
        bin[i] = (char)i;
    if (mem == NULL || ring_format(mem, T_RING, "test") < 0
        || ring_attach(&prod, mem, -1, RING_PRODUCER) < 0
        || ring_attach(&cons, mem, -1, RING_CONSUMER) < 0)
        abort();
    in[0] = db_str(meta, strlen(meta));
    in[1] = db_str(bin, sizeof(bin));
    in[2].type = DB_NULL;
    in[3] = db_int(-42);
    is_int(db_clnt_query(&prod, 0x1234567890ull, MSG_DB_Q_ALIAS, 77, 4, in),
           0, "query reserved");
    ring_commit(&prod);
    rec = ring_pop(&cons);
    ok(rec != NULL && rec->type == MSG_T_DB_QUERY, "query popped");
    if (rec == NULL)
        return;
    q = (const struct msg_db_query *)rec->data;
    is_int((long long)q->qid, 0x1234567890ll, "qid");
    is_int(q->query, MSG_DB_Q_ALIAS, "query number");
    is_int(q->nparams, 4, "nparams");
    is_int(q->stamp_ms, 77, "stamp");
    p = q->data;
    end = (const char *)rec->data + rec->len;
    ok(db_val_next(&p, end, &v) == 0 && v.type == DB_STR
           && v.len == strlen(meta) && memcmp(v.s, meta, v.len) == 0,
       "metacharacters travel as data");
    ok(db_val_next(&p, end, &v) == 0 && v.type == DB_STR && v.len == 256
           && memcmp(v.s, bin, 256) == 0,
       "every byte value, NUL included");
    ok(db_val_next(&p, end, &v) == 0 && v.type == DB_NULL, "NULL");
    ok(db_val_next(&p, end, &v) == 0 && v.type == DB_STR && v.len == 3
           && memcmp(v.s, "-42", 3) == 0,
       "an integer as its text");
    ok(p == end, "nothing after the last value");
    ok(db_val_next(&p, end, &v) < 0, "reading past the end refused");
    p = q->data;
    ok(db_val_next(&p, q->data + 5, &v) < 0, "a cut value refused");
    ring_release(&cons);

    memset(big, 'x', sizeof(big));
    in[0] = db_str(big, sizeof(big));
    is_int(db_clnt_query(&prod, 1, MSG_DB_Q_ALIAS, 0, 1, in), -EINVAL,
           "a value over MSG_DB_VAL_MAX refused");
    is_int(db_clnt_query(&prod, 1, MSG_DB_Q_ALIAS, 0, MSG_DB_PARAMS_MAX + 1,
                         in),
           -EINVAL, "too many parameters refused");
    in[0] = db_str(big, MSG_DB_VAL_MAX);
    for (i = 0; i < 4 && db_clnt_query(&prod, 1, MSG_DB_Q_ALIAS, 0, 1, in)
                             == 0;
         i++)
        ;
    is_int(db_clnt_query(&prod, 1, MSG_DB_Q_ALIAS, 0, 1, in), -ENOSPC,
           "a full ring says ENOSPC");
    ok(db_clnt_rows(NULL) == NULL, "no record, no rows");
    free(mem);
}

int main(void)
{
    t_urls();
    t_codec();
    return done_testing();
}
