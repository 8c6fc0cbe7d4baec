/*
 * SUMMARY
 *      db_try - run one query through a DB backend module (tests)
 * SYNOPSIS
 *      db_try LIBDIR URL SQL [VALUE...]
 * DESCRIPTION
 *      Loads LIBDIR/db_SCHEME.so for URL's scheme, connects, runs SQL
 *      ("?" placeholders) with the VALUEs (the word \N is NULL) through
 *      the backend's non-blocking calls only, waiting with poll(), and
 *      prints each row on a line: values separated by a tab, NULL as \N,
 *      a tab, newline or backslash in a value escaped as \t \n \\.
 *      The tests use it to check a backend on its own against a real
 *      server, before dbd and sipd are in the way.
 * DIAGNOSTICS
 *      Exit 0: done. 1: query error (DB_ERR_QUERY), text on stderr.
 *      2: connection error. 3: usage or module error. 4: no answer in
 *      10 s. The URL is only ever printed masked.
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

int main(int argc, char **argv)
{
    struct db_val params[DB_PARAMS_MAX];
    char path[4096], err[DB_ERR_TEXT], masked[512];
    struct db_url u;
    struct db_conn *c;
    void *h;
    int i, r, ev, np = argc - 4, row, col;

    if (argc < 4 || np > DB_PARAMS_MAX) {
        fprintf(stderr, "usage: db_try LIBDIR URL SQL [VALUE...]\n");
        return 3;
    }
    if (db_url_parse(argv[2], strlen(argv[2]), &u, err, sizeof(err)) < 0) {
        fprintf(stderr, "db_try: url: %s\n", err);
        return 3;
    }
    db_url_mask(&u, masked, sizeof(masked));
    snprintf(path, sizeof(path), "%s/db_%s.so", argv[1],
             db_scheme_name(u.scheme));
    if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL
        || (be = dlsym(h, DB_BACKEND_SYM)) == NULL
        || be->version != DB_BACKEND_V1) {
        fprintf(stderr, "db_try: %s: %s\n", path, h ? "no db_backend v1"
                                                     : dlerror());
        return 3;
    }
    for (i = 0; i < np; i++)
        params[i] = strcmp(argv[4 + i], "\\N") == 0
                        ? (struct db_val){DB_NULL, 0, NULL, 0}
                        : db_str(argv[4 + i], strlen(argv[4 + i]));
    if ((c = be->open(&u, &r, err, sizeof(err))) == NULL) {
        fprintf(stderr, "db_try: %s: %s\n", masked, err);
        return 2;
    }
    while (r > 0) {
        if ((ev = t_wait(c, r)) < 0)
            return 4;
        r = be->connect_cont(c, ev, err, sizeof(err));
    }
    if (r < 0) {
        fprintf(stderr, "db_try: %s: %s\n", masked, err);
        be->close(c);
        return 2;
    }
    r = be->query_start(c, 0, argv[3], np, params, err, sizeof(err));
    while (r > 0) {
        if ((ev = t_wait(c, r)) < 0)
            return 4;
        r = be->query_cont(c, ev, err, sizeof(err));
    }
    if (r < 0) {
        fprintf(stderr, "db_try: %s\n", err);
        be->close(c);
        return r == DB_ERR_QUERY ? 1 : 2;
    }
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
    be->close(c);
    return 0;
}
