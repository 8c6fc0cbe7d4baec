/*
 * SUMMARY
 *      db_postgres_text - SQL placeholders, parameter text, error text
 * DESCRIPTION
 *      The PostgreSQL module's text work, apart from libpq's calls:
 *      turning dbd's "?" placeholders into $n, the parameter values into
 *      the NUL-terminated text libpq sends, and any message into the one
 *      line of err with the password scrubbed.
 * DIAGNOSTICS
 *      db_postgres_params(): DB_ERR_QUERY and a reason in err.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_postgres.h"

/*
 * db_postgres_err - text into err (errlen bytes): on one line (each run
 *      of whitespace and control bytes a single space), trimmed, and
 *      every occurrence of pw replaced by "***" before the text is cut.
 */
void db_postgres_err(const char *pw, char *err, size_t errlen,
                     const char *text)
{
    size_t n = 0, pwlen = pw ? strlen(pw) : 0;
    int space = 0;

    if (err == NULL || errlen == 0)
        return;
    if (text == NULL || *text == '\0')
        text = "unknown error";
    while (*text != '\0' && n + 1 < errlen) {
        const char *put = text;
        size_t putlen = 1;
        unsigned char ch = (unsigned char)*text;

        if (pwlen > 0 && strncmp(text, pw, pwlen) == 0) {
            put = "***";
            putlen = 3;
            text += pwlen;
        } else if (ch <= ' ' || ch == 0x7f) {
            space = 1;
            text++;
            continue;
        } else {
            text++;
        }
        if (space && n > 0 && n + 1 < errlen)
            err[n++] = ' ';
        space = 0;
        while (putlen-- > 0 && n + 1 < errlen)
            err[n++] = *put++;
    }
    err[n] = '\0';
}

static int db_postgres_is_ident(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

/*
 * db_postgres_sql - count the "?" placeholders of s that are outside
 *      '...', E'...', "..." and -- or C comments; when out is not NULL
 *      also write s there with the n-th one as $n. out needs strlen(s)
 *      + count + 1 bytes and count must be at most 9 (one digit).
 */
int db_postgres_sql(const char *s, char *out)
{
    const char *start = s;
    char q = 0;                         /* ' " or - (--) or * (C) */
    int n = 0, esc = 0;

    for (; *s != '\0'; s++) {
        char ch = *s;

        if (q == 0 && ch == '?') {
            n++;
            if (out) {
                *out++ = '$';
                *out++ = (char)('0' + n);
            }
            continue;
        }
        if (out)
            *out++ = ch;
        if (q == 0) {
            if (ch == '\'' || ch == '"') {
                q = ch;
                esc = ch == '\'' && s > start
                      && (s[-1] == 'E' || s[-1] == 'e')
                      && (s - 1 == start || !db_postgres_is_ident(s[-2]));
            } else if ((ch == '-' && s[1] == '-')
                       || (ch == '/' && s[1] == '*')) {
                q = s[1];
                if (out)
                    *out++ = s[1];
                s++;                    /* the opening star cannot close */
            }
        } else if (q == '-') {
            if (ch == '\n')
                q = 0;
        } else if (q == '*') {
            if (ch == '*' && s[1] == '/') {
                q = 0;
                if (out)
                    *out++ = '/';
                s++;
            }
        } else if (esc && ch == '\\' && s[1] != '\0') {
            if (out)
                *out++ = s[1];
            s++;
        } else if (ch == q) {
            q = 0;
        }
    }
    if (out)
        *out = '\0';
    return n;
}

/* db_postgres_params - the values as NUL-terminated text in c->pbuf */
int db_postgres_params(struct db_conn *c, int n,
                       const struct db_val *p, char *err,
                       size_t errlen)
{
    size_t need = 0, at = 0, off[DB_PARAMS_MAX];
    int i;

    for (i = 0; i < n; i++) {
        if (p[i].type == DB_INT) {
            need += DB_POSTGRES_INT_TEXT;
        } else if (p[i].type == DB_STR) {
            /* text parameters end at a NUL: refuse one, not cut it */
            if (p[i].len > 0 && (p[i].s == NULL
                                 || memchr(p[i].s, '\0', p[i].len))) {
                snprintf(err, errlen, "parameter %d: NUL byte", i + 1);
                return DB_ERR_QUERY;
            }
            need += p[i].len + 1;
        } else if (p[i].type != DB_NULL) {
            snprintf(err, errlen, "parameter %d: unknown type", i + 1);
            return DB_ERR_QUERY;
        }
    }
    if (need > c->pcap) {
        char *b = realloc(c->pbuf, need);

        if (b == NULL) {
            snprintf(err, errlen, "parameters: out of memory");
            return DB_ERR_QUERY;
        }
        c->pbuf = b;
        c->pcap = need;
    }
    for (i = 0; i < n; i++) {
        off[i] = at;
        if (p[i].type == DB_INT) {
            at += (size_t)snprintf(c->pbuf + at, DB_POSTGRES_INT_TEXT,
                                   "%" PRId64, p[i].i) + 1;
        } else if (p[i].type == DB_STR) {
            if (p[i].len > 0)
                memcpy(c->pbuf + at, p[i].s, p[i].len);
            c->pbuf[at + p[i].len] = '\0';
            at += p[i].len + 1;
        }
    }
    for (i = 0; i < n; i++)
        c->pval[i] = p[i].type == DB_NULL ? NULL : c->pbuf + off[i];
    c->nparams = n;
    return 0;
}
