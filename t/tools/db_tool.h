#ifndef DB_TOOL_H
#define DB_TOOL_H
/*
 * SUMMARY
 *      db_tool - what db_try and db_seq share: load a backend, connect,
 *      wait with poll(), print rows
 * DESCRIPTION
 *      Header-only (the t/tools rule builds one .c per program).
 *      db_tool_connect() loads LIBDIR/db_SCHEME.so for the URL's scheme
 *      and connects through the backend's non-blocking calls only;
 *      db_tool_run() runs one query to its end. Rows print one per line,
 *      values separated by a tab, NULL as \N, and a tab, newline or
 *      backslash in a value as \t \n \\.
 * DIAGNOSTICS
 *      The exit codes of both tools: 2 connection error, 3 usage or
 *      module error, 4 no answer in 10 s; texts on stderr, prefixed with
 *      the tool's name; the URL only ever masked.
 */
#include <dlfcn.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

static const struct db_backend *be;

/* db_tool_wait - wait for mask on c's socket; the events seen, or -1 */
static int db_tool_wait(struct db_conn *c, int mask)
{
    struct pollfd pfd;
    int ev = 0;

    pfd.fd = be->fd(c);
    pfd.events = (short)((mask & DB_WAIT_READ ? POLLIN : 0)
                         | (mask & DB_WAIT_WRITE ? POLLOUT : 0));
    if (poll(&pfd, 1, 10000) <= 0)
        return -1;
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        ev |= DB_WAIT_READ;
    if (pfd.revents & (POLLOUT | POLLERR))
        ev |= DB_WAIT_WRITE;
    return ev;
}

static void db_tool_print(const struct db_val *v)
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

static void db_tool_rows(struct db_conn *c)
{
    int row, col;

    for (row = 0; row < be->nrows(c); row++) {
        for (col = 0; col < be->ncols(c); col++) {
            struct db_val v;

            be->get(c, row, col, &v);
            if (col > 0)
                putchar('\t');
            db_tool_print(&v);
        }
        putchar('\n');
    }
}

/* db_tool_val - a command line word as a value: \N is NULL */
static struct db_val db_tool_val(const char *w)
{
    if (strcmp(w, "\\N") == 0)
        return (struct db_val){DB_NULL, 0, NULL, 0};
    return db_str(w, strlen(w));
}

/* db_tool_connect - load the backend and connect; 0 or an exit code */
static int db_tool_connect(const char *name, const char *libdir,
                           const char *url, struct db_conn **cp)
{
    char path[4096], err[DB_ERR_TEXT], masked[512];
    struct db_url u;
    void *h;
    int r, ev;

    if (db_url_parse(url, strlen(url), &u, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: url: %s\n", name, err);
        return 3;
    }
    db_url_mask(&u, masked, sizeof(masked));
    snprintf(path, sizeof(path), "%s/db_%s.so", libdir,
             db_scheme_name(u.scheme));
    if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL
        || (be = dlsym(h, DB_BACKEND_SYM)) == NULL
        || be->version != DB_BACKEND_V1) {
        fprintf(stderr, "%s: %s: %s\n", name, path,
                h ? "no db_backend v1" : dlerror());
        return 3;
    }
    if ((*cp = be->open(&u, &r, err, sizeof(err))) == NULL) {
        fprintf(stderr, "%s: %s: %s\n", name, masked, err);
        return 2;
    }
    while (r > 0) {
        if ((ev = db_tool_wait(*cp, r)) < 0) {
            be->close(*cp);             /* LeakSanitizer counts it */
            return 4;
        }
        r = be->connect_cont(*cp, ev, err, sizeof(err));
    }
    if (r < 0) {
        fprintf(stderr, "%s: %s: %s\n", name, masked, err);
        be->close(*cp);
        return 2;
    }
    return 0;
}

/*
 * db_tool_run - run one query to its end: DB_DONE, DB_ERR_QUERY or
 *      DB_ERR_CONN with the reason in err, or 4 (no answer in 10 s)
 */
static int db_tool_run(struct db_conn *c, int stmt, const char *sql, int np,
                       const struct db_val *params, char *err, size_t cap)
{
    int r, ev;

    r = be->query_start(c, stmt, sql, np, params, err, cap);
    while (r > 0) {
        if ((ev = db_tool_wait(c, r)) < 0)
            return 4;
        r = be->query_cont(c, ev, err, cap);
    }
    return r;
}

#endif
