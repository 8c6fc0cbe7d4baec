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
#include <stdio.h>
#include <string.h>

#include "db_tool.h"

int main(int argc, char **argv)
{
    struct db_val params[DB_PARAMS_MAX];
    char err[DB_ERR_TEXT];
    struct db_conn *c;
    int i, r, np = argc - 4;

    if (argc < 4 || np > DB_PARAMS_MAX) {
        fprintf(stderr, "usage: db_try LIBDIR URL SQL [VALUE...]\n");
        return 3;
    }
    for (i = 0; i < np; i++)
        params[i] = db_tool_val(argv[4 + i]);
    if ((r = db_tool_connect("db_try", argv[1], argv[2], &c)) != 0)
        return r;
    r = db_tool_run(c, 0, argv[3], np, params, err, sizeof(err));
    if (r == 4) {
        be->close(c);
        return 4;
    }
    if (r < 0) {
        fprintf(stderr, "db_try: %s\n", err);
        be->close(c);
        return r == DB_ERR_QUERY ? 1 : 2;
    }
    db_tool_rows(c);
    be->close(c);
    return 0;
}
