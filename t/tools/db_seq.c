/*
 * SUMMARY
 *      db_seq - run several queries on one backend connection (tests)
 * SYNOPSIS
 *      db_seq LIBDIR URL SQL [VALUE...] [-- SQL [VALUE...]]...
 * DESCRIPTION
 *      Like db_try, but the queries separated by "--" all run, in order,
 *      on one connection, the way dbd uses it: a SQL text gets the stmt
 *      id of its first appearance (0, 1, ...), so a text given twice
 *      runs the statement the backend prepared the first time. The word
 *      \N is a NULL value. Each query prints its rows (tab-separated,
 *      NULL as \N, tab, newline and backslash as \t \n \\) and then one
 *      line: "= ok" or "= error: TEXT" for DB_ERR_QUERY, after which the
 *      next query still runs (the connection is still good).
 * DIAGNOSTICS
 *      Exit 0: all done. 1: at least one query error. 2: connection
 *      error (text on stderr; nothing runs after it). 3: usage or module
 *      error. 4: no answer in 10 s. The URL is only ever printed masked.
 */
#include <dlfcn.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static const struct db_backend *be;

/* t_wait - wait for mask on c's socket; the events seen, or -1 */
static int t_wait(struct db_conn *c, int mask)
{
    struct pollfd pfd;
    int n, ev = 0;

    pfd.fd = be->fd(c);
    pfd.events = (short)((mask & DB_WAIT_READ ? POLLIN : 0)
                         | (mask & DB_WAIT_WRITE ? POLLOUT : 0));
    n = poll(&pfd, 1, 10000);
    if (n <= 0)
        return -1;
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        ev |= DB_WAIT_READ;
    if (pfd.revents & (POLLOUT | POLLERR))
        ev |= DB_WAIT_WRITE;
    return ev;
}

static void t_print(const struct db_val *v)
{
    size_t i;

    if (v->type == DB_NULL) {
        fputs("\\N", stdout);
        return;
    }
    for (i = 0; i < v->len; i++) {
        char ch = v->s[i];

        if (ch == '\t')
            fputs("\\t", stdout);
        else if (ch == '\n')
            fputs("\\n", stdout);
        else if (ch == '\\')
            fputs("\\\\", stdout);
        else
            putchar(ch);
    }
}

static void t_rows(struct db_conn *c)
{
    int row, col;

    for (row = 0; row < be->nrows(c); row++) {
        for (col = 0; col < be->ncols(c); col++) {
            struct db_val v;

            be->get(c, row, col, &v);
            if (col > 0)
                putchar('\t');
            t_print(&v);
        }
        putchar('\n');
    }
}

/* t_stmt - the stmt id of argv[at]: where that text first appeared */
static int t_stmt(char **argv, int first, int at)
{
    int i, id = 0, q = 1;

    for (i = first; i < at; i++) {
        if (q) {
            if (strcmp(argv[i], argv[at]) == 0)
                return id;
            id++;
        }
        q = strcmp(argv[i], "--") == 0;
    }
    return id;
}

/* t_query - run the query at argv[at]: 0, 1 (query error) or exit code */
static int t_query(struct db_conn *c, int argc, char **argv, int at)
{
    struct db_val params[DB_PARAMS_MAX];
    char err[DB_ERR_TEXT];
    int i, np = 0, r, ev, stmt = t_stmt(argv, 3, at);

    if (stmt >= DB_STMT_MAX)
        return 3;
    for (i = at + 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (np == DB_PARAMS_MAX)
            return 3;
        params[np++] = strcmp(argv[i], "\\N") == 0
                           ? (struct db_val){DB_NULL, 0, NULL, 0}
                           : db_str(argv[i], strlen(argv[i]));
    }
    r = be->query_start(c, stmt, argv[at], np, params, err, sizeof(err));
    while (r > 0) {
        if ((ev = t_wait(c, r)) < 0)
            return 4;
        r = be->query_cont(c, ev, err, sizeof(err));
    }
    if (r == DB_ERR_QUERY) {
        printf("= error: %s\n", err);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "db_seq: %s\n", err);
        return 2;
    }
    t_rows(c);
    printf("= ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    char path[4096], err[DB_ERR_TEXT], masked[512];
    struct db_url u;
    struct db_conn *c;
    void *h;
    int i, r, ev, status = 0, q = 1;

    if (argc < 4) {
        fprintf(stderr, "usage: db_seq LIBDIR URL SQL [VALUE...] "
                        "[-- SQL [VALUE...]]...\n");
        return 3;
    }
    if (db_url_parse(argv[2], strlen(argv[2]), &u, err, sizeof(err)) < 0) {
        fprintf(stderr, "db_seq: url: %s\n", err);
        return 3;
    }
    db_url_mask(&u, masked, sizeof(masked));
    snprintf(path, sizeof(path), "%s/db_%s.so", argv[1],
             db_scheme_name(u.scheme));
    if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL
        || (be = dlsym(h, DB_BACKEND_SYM)) == NULL
        || be->version != DB_BACKEND_V1) {
        fprintf(stderr, "db_seq: %s: %s\n", path, h ? "no db_backend v1"
                                                     : dlerror());
        return 3;
    }
    if ((c = be->open(&u, &r, err, sizeof(err))) == NULL) {
        fprintf(stderr, "db_seq: %s: %s\n", masked, err);
        return 2;
    }
    while (r > 0) {
        if ((ev = t_wait(c, r)) < 0)
            return 4;
        r = be->connect_cont(c, ev, err, sizeof(err));
    }
    if (r < 0) {
        fprintf(stderr, "db_seq: %s: %s\n", masked, err);
        be->close(c);
        return 2;
    }
    for (i = 3; i < argc; i++) {
        if (q && (r = t_query(c, argc, argv, i)) != 0) {
            fflush(stdout);
            if (r != 1) {
                be->close(c);
                return r;
            }
            status = 1;
        }
        q = strcmp(argv[i], "--") == 0;
    }
    be->close(c);
    return status;
}
